"""Write entry intents to an in-process p4sw (p4switch.runtime_api).

Why: packet-level tests run lvs.p4 in the test process with exactly the
entries the daemon would send over P4Runtime; the P4Info (written by the
compiler) resolves aliases, key order and action names, as over the wire.
"""
from __future__ import annotations

from p4common.matchstr import format_match
from p4common.p4info import P4InfoIndex
from runtime.entries import Entry, MeterRate


class InProcessWriter:
    def __init__(self, api, p4info: P4InfoIndex):
        self.api = api
        self.p4info = p4info
        self.handles: dict[tuple, int] = {}

    def _resolve(self, e: Entry):
        t = self.p4info.table(e.table)
        a = self.p4info.action(e.action)
        given = dict(e.match)
        order = [mf.name for mf in t.match_fields]
        missing = set(order) - set(given)
        extra = set(given) - set(order)
        if missing or extra:
            raise ValueError(f"table {t.preamble.name}: match fields missing {sorted(missing)}, "
                             f"unknown {sorted(extra)}")
        matches = [format_match(given[n]) for n in order]
        pvals = dict(e.params)
        params = [str(pvals[p.name]) for p in a.params]
        return t.preamble.name, a.preamble.name, matches, params

    def write(self, entries: list[Entry]) -> None:
        for e in entries:
            table, action, matches, params = self._resolve(e)
            if e.default:
                self.api.table_set_default(table, action, params)
                continue
            if e.ident in self.handles:
                self.api.table_modify(table, action, self.handles[e.ident], params)
                continue
            prio = e.priority if any(type(m).__name__ == "Ternary" for _, m in e.match) else None
            timeout = e.idle_timeout_ns // 1_000_000 if e.idle_timeout_ns else None
            self.handles[e.ident] = self.api.table_add(table, action, matches, params,
                                                       priority=prio, timeout_ms=timeout)

    def set_meter(self, m: MeterRate) -> None:
        from p4common.p4info import EntityKind
        name = self.p4info.entities(EntityKind.METER)[m.meter].preamble.name
        if m.rate:   # BMv2 CLI units: per microsecond
            rate = m.rate / 1e6
            self.api.meter_set_rates(name, m.index, [(rate, m.burst), (rate, m.burst)])

    def delete(self, entries: list[Entry]) -> None:
        for e in entries:
            h = self.handles.pop(e.ident, None)
            if h is not None:
                self.api.table_delete(self.p4info.table(e.table).preamble.name, h)
