"""simple_switch_CLI operations over a `Switch`, with BMv2 CLI semantics.

Used by the STF runner (``add`` / ``setdefault`` and pass-through commands),
the ``p4sw`` command-file loader, tests and the tutorial loader.  Names are
JSON names; like simple_switch_CLI, a unique dotted suffix also works
(``ipv4_lpm`` finds ``MyIngress.ipv4_lpm``).

Every method raises :class:`RuntimeApiError` or :class:`TableError` with a
message a user can act on; :meth:`RuntimeApi.run_command` parses one CLI
line and returns the text simple_switch_CLI would print.
"""
from __future__ import annotations

import shlex
from typing import Any, Callable

from p4common.codec import CodecError, parse_int, parse_value
from p4common.matchstr import Exact, MatchStringError, Ternary, format_match, parse_matches

from .errors import RuntimeApiError, SwitchError
from .hashes import CrcConfig

__all__ = ["RuntimeApi"]


def _resolve(kind: str, name: str, objs: dict) -> str:
    """Exact name, else the unique object whose name ends with ``.<name>``."""
    if not isinstance(name, str) or not name:
        raise RuntimeApiError(f"invalid {kind} name {name!r}")
    if name in objs:
        return name
    cands = [n for n in objs if n.endswith("." + name)]
    if len(cands) == 1:
        return cands[0]
    if cands:
        raise RuntimeApiError(f"ambiguous {kind} name {name!r}: {', '.join(sorted(cands))}")
    known = ", ".join(sorted(objs)) or "none"
    raise RuntimeApiError(f"unknown {kind} {name!r} (known: {known})")


def _int_arg(text: Any, what: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    try:
        return parse_int(str(text), None, what)
    except CodecError as e:
        raise RuntimeApiError(str(e)) from None


class RuntimeApi:
    """The simple_switch_CLI command set over one switch."""

    def __init__(self, switch):
        self.switch = switch

    # ------------------------------------------------------------- lookups
    def _table(self, name: str):
        return self.switch.tables[_resolve("table", name, self.switch.tables)]

    def _table_action(self, table, name: Any):
        if not isinstance(name, str):
            return name
        names = {a.name: a for a in table.actions}
        return names[_resolve(f"action of table {table.name}", name, names)]

    def _profile(self, name: str):
        profs = getattr(self.switch, "action_profiles", {}) or {}
        return profs[_resolve("action profile", name, profs)]

    def _profile_action(self, prof, name: Any):
        if not isinstance(name, str):
            return name
        names = {a.name: a for a in prof.actions}
        return names[_resolve(f"action of profile {prof.name}", name, names)]

    def _indirect(self, table_name: str):
        t = self._table(table_name)
        if t.profile is None:
            raise RuntimeApiError(f"table {t.name} is not an indirect table")
        return t

    @staticmethod
    def _action_data(action, params) -> tuple:
        specs = list(getattr(action, "params", ()) or ())
        params = list(params or ())
        if len(params) != len(specs):
            names = " ".join(f"{n}({w})" for n, w in specs) or "none"
            raise RuntimeApiError(
                f"action {action.name} needs {len(specs)} parameter(s) [{names}], got {len(params)}")
        out = []
        for p, (pname, width) in zip(params, specs):
            try:
                out.append(parse_value(p, width, f"action {action.name} parameter {pname}"))
            except CodecError as e:
                raise RuntimeApiError(str(e)) from None
        return tuple(out)

    @staticmethod
    def _needs_priority(table) -> bool:
        return getattr(table, "kind", "exact") == "ternary"

    def _match(self, table, match_strings) -> list:
        try:
            return parse_matches([str(m) for m in match_strings], table.keys)
        except MatchStringError as e:
            raise RuntimeApiError(f"table {table.name}: {e}") from None

    def _priority(self, table, priority) -> int:
        if self._needs_priority(table):
            if priority is None:
                raise RuntimeApiError(
                    f"table {table.name} has ternary/range/optional keys: a priority is required")
            return _int_arg(priority, "priority")
        if priority is not None:
            raise RuntimeApiError(f"table {table.name} is not a ternary table: no priority allowed")
        return 0

    # -------------------------------------------------------------- tables
    def table_add(self, table: str, action: str, match_strings: list, action_params: list = (),
                  priority: int | str | None = None, timeout_ms: int | None = None) -> int:
        """Add an entry; returns its handle."""
        t = self._table(table)
        if t.profile is not None:
            raise RuntimeApiError(f"table {t.name} is indirect: use table_indirect_add")
        a = self._table_action(t, action)
        match = self._match(t, match_strings)
        prio = self._priority(t, priority)
        data = self._action_data(a, action_params)
        return t.add_entry(match, a, data, priority=prio, timeout_ms=timeout_ms)

    def table_modify(self, table: str, action: str, handle: int, action_params: list = ()) -> None:
        t = self._table(table)
        a = self._table_action(t, action)
        t.modify_entry(_int_arg(handle, "entry handle"), a, self._action_data(a, action_params))

    def table_delete(self, table: str, handle: int) -> None:
        self._table(table).delete_entry(_int_arg(handle, "entry handle"))

    def table_set_default(self, table: str, action: str, action_params: list = ()) -> None:
        t = self._table(table)
        a = self._table_action(t, action)
        t.set_default(a, self._action_data(a, action_params))

    def table_reset_default(self, table: str) -> None:
        self._table(table).reset_default()

    def table_clear(self, table: str) -> None:
        self._table(table).clear()

    def table_num_entries(self, table: str) -> int:
        return self._table(table).num_entries()

    def entries(self, table: str) -> list:
        return self._table(table).entries()

    def table_set_timeout(self, table: str, handle: int, timeout_ms: int) -> None:
        t = self._table(table)
        if not t.support_timeout:
            raise RuntimeApiError(f"table {t.name} does not support idle timeouts")
        t.set_entry_ttl(_int_arg(handle, "entry handle"), _int_arg(timeout_ms, "timeout"))

    def _entry_text(self, t, e) -> str:
        lines = [f"Dumping entry {e.handle:#x}", "Match key:"]
        for k, p in zip(t.keys, e.match):
            lines.append(f"* {k.name:<20}: {k.match_type.upper():<10}{format_match(p)}")
        if self._needs_priority(t):
            lines.append(f"Priority: {e.priority}")
        if e.action is not None:
            args = ", ".join(f"{v:x}" for v in e.data)
            lines.append(f"Action entry: {e.action.name} - {args}")
        elif e.group is not None:
            lines.append(f"Group: {e.group}")
        else:
            lines.append(f"Member: {e.member}")
        return "\n".join(lines)

    def table_dump_entry(self, table: str, handle: int) -> str:
        t = self._table(table)
        return self._entry_text(t, t.get_entry(_int_arg(handle, "entry handle")))

    def table_dump(self, table: str) -> str:
        t = self._table(table)
        out = ["==========", "TABLE ENTRIES"]
        for e in t.entries():
            out.append("**********")
            out.append(self._entry_text(t, e))
        out.append("==========")
        d = t.default
        if d.action is not None:
            args = ", ".join(f"{v:x}" for v in d.data)
            out.append(f"Dumping default entry\nAction entry: {d.action.name} - {args}")
        elif d.group is not None or d.member is not None:
            out.append(f"Dumping default entry\n{'Group' if d.group is not None else 'Member'}: "
                       f"{d.group if d.group is not None else d.member}")
        else:
            out.append("Dumping default entry\nEMPTY")
        out.append("==========")
        return "\n".join(out)

    # -------------------------------------------------- indirect / profiles
    def act_prof_create_member(self, prof: str, action: str, action_params: list = ()) -> int:
        p = self._profile(prof)
        a = self._profile_action(p, action)
        return p.add_member(a, self._action_data(a, action_params))

    def act_prof_modify_member(self, prof: str, action: str, member: int, action_params: list = ()) -> None:
        p = self._profile(prof)
        a = self._profile_action(p, action)
        p.modify_member(_int_arg(member, "member handle"), a, self._action_data(a, action_params))

    def act_prof_delete_member(self, prof: str, member: int) -> None:
        self._profile(prof).delete_member(_int_arg(member, "member handle"))

    def act_prof_create_group(self, prof: str) -> int:
        return self._profile(prof).create_group()

    def act_prof_delete_group(self, prof: str, group: int) -> None:
        self._profile(prof).delete_group(_int_arg(group, "group handle"))

    def act_prof_add_member_to_group(self, prof: str, member: int, group: int) -> None:
        self._profile(prof).add_member_to_group(_int_arg(member, "member handle"),
                                                _int_arg(group, "group handle"))

    def act_prof_remove_member_from_group(self, prof: str, member: int, group: int) -> None:
        self._profile(prof).remove_member_from_group(_int_arg(member, "member handle"),
                                                     _int_arg(group, "group handle"))

    def act_prof_dump(self, prof: str) -> str:
        p = self._profile(prof)
        out = ["==========", "MEMBERS"]
        for h in sorted(p.members):
            m = p.members[h]
            out.append(f"**********\nDumping member {h}\nAction entry: {m.action.name} - "
                       + ", ".join(f"{v:x}" for v in m.data))
        if p.selector:
            out.append("==========")
            out.append("GROUPS")
            for g in sorted(p.groups):
                out.append(f"**********\nDumping group {g}\nMembers: [{', '.join(map(str, p.groups[g]))}]")
        out.append("==========")
        return "\n".join(out)

    def _table_profile(self, table: str) -> str:
        return self._indirect(table).profile.name

    def table_indirect_create_member(self, table: str, action: str, action_params: list = ()) -> int:
        return self.act_prof_create_member(self._table_profile(table), action, action_params)

    def table_indirect_modify_member(self, table: str, action: str, member: int, action_params=()) -> None:
        self.act_prof_modify_member(self._table_profile(table), action, member, action_params)

    def table_indirect_delete_member(self, table: str, member: int) -> None:
        self.act_prof_delete_member(self._table_profile(table), member)

    def table_indirect_create_group(self, table: str) -> int:
        return self.act_prof_create_group(self._table_profile(table))

    def table_indirect_delete_group(self, table: str, group: int) -> None:
        self.act_prof_delete_group(self._table_profile(table), group)

    def table_indirect_add_member_to_group(self, table: str, member: int, group: int) -> None:
        self.act_prof_add_member_to_group(self._table_profile(table), member, group)

    def table_indirect_remove_member_from_group(self, table: str, member: int, group: int) -> None:
        self.act_prof_remove_member_from_group(self._table_profile(table), member, group)

    def table_indirect_add(self, table: str, match_strings: list, member: int,
                           priority: int | str | None = None) -> int:
        t = self._indirect(table)
        match = self._match(t, match_strings)
        return t.add_entry(match, None, (), priority=self._priority(t, priority),
                           member=_int_arg(member, "member handle"))

    def table_indirect_add_with_group(self, table: str, match_strings: list, group: int,
                                      priority: int | str | None = None) -> int:
        t = self._indirect(table)
        match = self._match(t, match_strings)
        return t.add_entry(match, None, (), priority=self._priority(t, priority),
                           group=_int_arg(group, "group handle"))

    def table_indirect_modify(self, table: str, handle: int, member: int) -> None:
        self._indirect(table).modify_entry(_int_arg(handle, "entry handle"), None, (),
                                           member=_int_arg(member, "member handle"))

    def table_indirect_modify_with_group(self, table: str, handle: int, group: int) -> None:
        self._indirect(table).modify_entry(_int_arg(handle, "entry handle"), None, (),
                                           group=_int_arg(group, "group handle"))

    def table_indirect_delete(self, table: str, handle: int) -> None:
        self._indirect(table).delete_entry(_int_arg(handle, "entry handle"))

    def table_indirect_set_default(self, table: str, member: int) -> None:
        self._indirect(table).set_default(None, (), member=_int_arg(member, "member handle"))

    def table_indirect_set_default_with_group(self, table: str, group: int) -> None:
        self._indirect(table).set_default(None, (), group=_int_arg(group, "group handle"))

    def table_indirect_reset_default(self, table: str) -> None:
        self._indirect(table).reset_default()

    # ------------------------------------------------------------ counters
    def _counter(self, name: str):
        counters = getattr(self.switch, "counters", {}) or {}
        return counters[_resolve("counter", name, counters)]

    def _direct_table(self, obj, kind: str):
        binding = getattr(obj, "binding", None)
        if not binding or binding not in self.switch.tables:
            raise RuntimeApiError(f"direct {kind} {obj.name} is not bound to a known table")
        return self.switch.tables[binding]

    def counter_read(self, name: str, index: int) -> tuple[int, int]:
        """(packets, bytes); for a direct counter, `index` is the entry handle."""
        c = self._counter(name)
        i = _int_arg(index, "counter index")
        if c.is_direct:
            return self._direct_table(c, "counter").read_counters(i)
        return c.read(i)

    def counter_write(self, name: str, index: int, packets: int, nbytes: int) -> None:
        c = self._counter(name)
        i = _int_arg(index, "counter index")
        pk, by = _int_arg(packets, "packet count"), _int_arg(nbytes, "byte count")
        if c.is_direct:
            self._direct_table(c, "counter").write_counters(i, pk, by)
        else:
            c.write(i, pk, by)

    def counter_reset(self, name: str) -> None:
        c = self._counter(name)
        if c.is_direct:
            self._direct_table(c, "counter").reset_counters()
        else:
            c.reset()

    # ----------------------------------------------------------- registers
    def _register(self, name: str):
        regs = getattr(self.switch, "registers", {}) or {}
        return regs[_resolve("register", name, regs)]

    def register_read(self, name: str, index: int | None = None):
        """One cell, or the whole array (a list) when `index` is None."""
        r = self._register(name)
        if index is None:
            return list(r.cells)
        return r.read(_int_arg(index, "register index"))

    def register_write(self, name: str, index: int, value) -> None:
        r = self._register(name)
        try:
            v = parse_value(value, r.bitwidth, f"register {r.name} value")
        except CodecError as e:
            raise RuntimeApiError(str(e)) from None
        r.write(_int_arg(index, "register index"), v)

    def register_reset(self, name: str) -> None:
        self._register(name).reset()

    # --------------------------------------------------------------- meters
    def _meter(self, name: str):
        meters = getattr(self.switch, "meters", {}) or {}
        return meters[_resolve("meter", name, meters)]

    @staticmethod
    def _rates(rates) -> list[tuple[float, int]]:
        out = []
        for r in rates:
            if isinstance(r, str):
                if ":" not in r:
                    raise RuntimeApiError(f"bad rate {r!r}: expected <rate>:<burst>")
                a, _, b = r.partition(":")
                try:
                    out.append((float(a), int(b, 0)))
                except ValueError:
                    raise RuntimeApiError(f"bad rate {r!r}: expected <rate>:<burst>") from None
            else:
                try:
                    a, b = r
                    out.append((float(a), int(b)))
                except (TypeError, ValueError):
                    raise RuntimeApiError(f"bad rate {r!r}: expected (rate, burst)") from None
        return out

    def _meter_cell(self, m, index):
        i = _int_arg(index, "meter index")
        if m.is_direct:
            e = self._direct_table(m, "meter").get_entry(i)
            if e.meter is None:
                raise RuntimeApiError(f"entry {i} of {m.binding} has no meter cell")
            return e.meter
        return m.cell(i)

    def meter_set_rates(self, name: str, index: int, rates) -> None:
        """Rates in units per microsecond, bursts in units: ``[(CIR, CBS), (PIR, PBS)]``."""
        m = self._meter(name)
        rates = self._rates(rates)
        cell = self._meter_cell(m, index)
        try:
            cell.set_rates(rates)
        except RuntimeApiError as e:
            raise RuntimeApiError(f"meter {m.name}[{index}]: {e}") from None

    def meter_array_set_rates(self, name: str, rates) -> None:
        m = self._meter(name)
        if m.is_direct:
            raise RuntimeApiError(f"meter {m.name} is direct: set rates per entry")
        m.set_all_rates(self._rates(rates))

    def meter_get_rates(self, name: str, index: int) -> list[tuple[float, int]]:
        m = self._meter(name)
        return self._meter_cell(m, index).get_rates()

    def meter_reset_rates(self, name: str, index: int) -> None:
        self._meter_cell(self._meter(name), index).reset_rates()

    # ------------------------------------------------------------ mirroring
    def mirroring_add(self, session: int, port: int, truncate: int = 0) -> None:
        self.switch.clone_sessions.add(_int_arg(session, "session id"), port=_int_arg(port, "port"),
                                       truncate=_int_arg(truncate, "truncation length"))

    def mirroring_add_mc(self, session: int, mgrp: int, truncate: int = 0) -> None:
        self.switch.clone_sessions.add(_int_arg(session, "session id"), mgrp=_int_arg(mgrp, "mgrp"),
                                       truncate=_int_arg(truncate, "truncation length"))

    def mirroring_delete(self, session: int) -> None:
        self.switch.clone_sessions.delete(_int_arg(session, "session id"))

    def mirroring_get(self, session: int):
        return self.switch.clone_sessions.get(_int_arg(session, "session id"))

    # ------------------------------------------------------------ multicast
    def mc_mgrp_create(self, grp: int) -> int:
        return self.switch.pre.mc_mgrp_create(_int_arg(grp, "multicast group id"))

    def mc_mgrp_destroy(self, grp: int) -> None:
        self.switch.pre.mc_mgrp_destroy(_int_arg(grp, "multicast group id"))

    @staticmethod
    def _port_list(items, what: str) -> list[int]:
        """simple_switch_CLI port-map rules: non-negative numbers, no duplicates."""
        out = [_int_arg(p, f"{what} number") for p in items]
        seen = set()
        for p in out:
            if p < 0:
                raise RuntimeApiError(f"'{p}' is not a valid {what} number")
            if p in seen:
                raise RuntimeApiError(f"found duplicate {what} number '{p}'")
            seen.add(p)
        return out

    def mc_node_create(self, rid: int, ports, lags=()) -> int:
        return self.switch.pre.mc_node_create(_int_arg(rid, "rid"), self._port_list(ports, "port"),
                                              self._port_list(lags, "lag"))

    def mc_node_update(self, handle: int, ports, lags=()) -> None:
        self.switch.pre.mc_node_update(_int_arg(handle, "node handle"),
                                       self._port_list(ports, "port"), self._port_list(lags, "lag"))

    def mc_node_destroy(self, handle: int) -> None:
        self.switch.pre.mc_node_destroy(_int_arg(handle, "node handle"))

    def mc_node_associate(self, grp: int, handle: int) -> None:
        self.switch.pre.mc_node_associate(_int_arg(grp, "multicast group id"),
                                          _int_arg(handle, "node handle"))

    def mc_node_dissociate(self, grp: int, handle: int) -> None:
        self.switch.pre.mc_node_dissociate(_int_arg(grp, "multicast group id"),
                                           _int_arg(handle, "node handle"))

    def mc_set_lag_membership(self, lag: int, ports) -> None:
        self.switch.pre.mc_set_lag_membership(_int_arg(lag, "lag index"),
                                              self._port_list(ports, "port"))

    def mc_dump(self) -> str:
        return self.switch.pre.dump()

    # ---------------------------------------------------------------- CRCs
    def _calculation(self, name: str):
        calcs = getattr(self.switch, "calculations", {}) or {}
        return calcs[_resolve("calculation", name, calcs)]

    def _set_crc(self, name: str, width: int, poly, init, xor, refin, refout) -> None:
        algo = self._calculation(name)
        if not getattr(algo, "configurable", False) or getattr(algo, "width", 0) != width:
            raise RuntimeApiError(f"calculation {name} is not a crc{width}_custom")

        def boolean(v, what):
            if isinstance(v, bool):
                return v
            s = str(v).strip().lower()
            if s in ("true", "1"):
                return True
            if s in ("false", "0"):
                return False
            raise RuntimeApiError(f"{what} must be true or false, got {v!r}")
        cfg = CrcConfig(_int_arg(poly, "polynomial"), _int_arg(init, "initial remainder"),
                        _int_arg(xor, "final xor value"), boolean(refin, "data reflected"),
                        boolean(refout, "remainder reflected"))
        algo.set_config(cfg)

    def set_crc16_parameters(self, name: str, polynomial, initial_remainder, final_xor_value,
                             data_reflected, remainder_reflected) -> None:
        self._set_crc(name, 16, polynomial, initial_remainder, final_xor_value,
                      data_reflected, remainder_reflected)

    def set_crc32_parameters(self, name: str, polynomial, initial_remainder, final_xor_value,
                             data_reflected, remainder_reflected) -> None:
        self._set_crc(name, 32, polynomial, initial_remainder, final_xor_value,
                      data_reflected, remainder_reflected)

    # ------------------------------------------------------ parse value sets
    def _pvs(self, name: str):
        vsets = getattr(self.switch, "parse_vsets", {}) or {}
        return vsets[_resolve("parse value set", name, vsets)]

    def _pvs_value(self, pvs, value) -> int:
        width = getattr(pvs, "bitwidth", None)
        try:
            if width is None:
                return parse_int(str(value), None, f"value of {pvs.name}")
            return parse_value(value, width, f"value of {getattr(pvs, 'name', 'value set')}")
        except CodecError as e:
            raise RuntimeApiError(str(e)) from None

    def pvs_add(self, name: str, value, mask=None) -> None:
        pvs = self._pvs(name)
        v = self._pvs_value(pvs, value)
        if mask is None:
            pvs.add(v)
        else:
            pvs.add(v, self._pvs_value(pvs, mask))

    def pvs_remove(self, name: str, value, mask=None) -> None:
        pvs = self._pvs(name)
        v = self._pvs_value(pvs, value)
        if mask is None:
            pvs.remove(v)
        else:
            pvs.remove(v, self._pvs_value(pvs, mask))

    def pvs_clear(self, name: str) -> None:
        self._pvs(name).clear()

    def pvs_get(self, name: str):
        pvs = self._pvs(name)
        for attr in ("values", "entries"):
            v = getattr(pvs, attr, None)
            if v is not None:
                return list(v() if callable(v) else v)
        raise RuntimeApiError(f"parse value set {name} cannot be listed")

    # -------------------------------------------------------- command lines
    def run_command(self, line: str) -> str:
        """Run one simple_switch_CLI command line; returns what the CLI prints.

        Raises RuntimeApiError / TableError (never another exception type for
        bad input).
        """
        line = (line or "").strip()
        if not line or line.startswith("#"):
            return ""
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            raise RuntimeApiError(f"cannot parse command line: {e}") from None
        if not words:
            return ""
        cmd, args = words[0], words[1:]
        handler = _COMMANDS.get(cmd)
        if handler is None:
            raise RuntimeApiError(f"unknown command {cmd!r}")
        try:
            out = handler(self, args)
        except SwitchError:
            raise
        except KeyError as e:
            raise RuntimeApiError(f"{cmd}: unknown name {e}") from None
        except (CodecError, ValueError, TypeError, IndexError) as e:
            raise RuntimeApiError(f"{cmd}: {e}") from None
        return "" if out is None else str(out)


# ---------------------------------------------------------------- CLI glue

def _need(cmd: str, args: list, n: int, usage: str, at_most: int | None = None) -> None:
    if len(args) < n or (at_most is not None and len(args) > at_most):
        raise RuntimeApiError(f"usage: {cmd} {usage}")


def _split_arrow(cmd: str, args: list) -> tuple[list, list, bool]:
    if "=>" in args:
        i = args.index("=>")
        return args[:i], args[i + 1:], True
    return list(args), [], False


def _cli_table_add(api: RuntimeApi, args: list) -> str:
    _need("table_add", args, 2, "<table name> <action name> <match fields> => <action parameters> [priority]")
    t = api._table(args[0])
    a = api._table_action(t, args[1])
    match, params, arrow = _split_arrow("table_add", args[2:])
    prio = None
    if api._needs_priority(t):
        if arrow and params:
            prio = params.pop()
        elif not arrow and len(match) == len(t.keys) + 1:
            prio = match.pop()
    h = api.table_add(t.name, a, match, params, prio)
    return f"Adding entry to {t.match_type} match table {t.name}\nEntry has been added with handle {h}"


def _cli_table_set_default(api, args):
    _need("table_set_default", args, 2, "<table name> <action name> <action parameters>")
    api.table_set_default(args[0], args[1], args[2:])
    return ""


def _cli_table_modify(api, args):
    _need("table_modify", args, 3, "<table name> <action name> <entry handle> [action parameters]")
    params = [p for p in args[3:] if p != "=>"]
    api.table_modify(args[0], args[1], args[2], params)
    return ""


def _cli_indirect_add(api: RuntimeApi, args: list, group: bool) -> str:
    cmd = "table_indirect_add_with_group" if group else "table_indirect_add"
    what = "group handle" if group else "member handle"
    _need(cmd, args, 1, f"<table name> <match fields> => <{what}> [priority]")
    t = api._indirect(args[0])
    match, rest, arrow = _split_arrow(cmd, args[1:])
    if not arrow or not rest:
        raise RuntimeApiError(f"usage: {cmd} <table name> <match fields> => <{what}> [priority]")
    prio = rest[1] if len(rest) > 1 else None
    if len(rest) > 2:
        raise RuntimeApiError(f"usage: {cmd} <table name> <match fields> => <{what}> [priority]")
    if group:
        h = api.table_indirect_add_with_group(t.name, match, rest[0], prio)
    else:
        h = api.table_indirect_add(t.name, match, rest[0], prio)
    return f"Entry has been added with handle {h}"


def _cli_counter_read(api, args):
    _need("counter_read", args, 2, "<name> <index>", 2)
    p, b = api.counter_read(args[0], args[1])
    name = api._counter(args[0]).name
    return f"{name}[{args[1]}]=  BmCounterValue(packets={p}, bytes={b})"


def _cli_register_read(api, args):
    _need("register_read", args, 1, "<name> [index]", 2)
    name = api._register(args[0]).name
    if len(args) == 1:
        return f"{name}= " + ", ".join(str(v) for v in api.register_read(args[0]))
    return f"{name}[{args[1]}]= {api.register_read(args[0], args[1])}"


def _cli_meter_get_rates(api, args):
    _need("meter_get_rates", args, 2, "<name> <index>", 2)
    rates = api.meter_get_rates(args[0], args[1])
    return "\n".join(f"{i}: info rate = {r}, burst size = {b}" for i, (r, b) in enumerate(rates))


def _cli_mc_node_create(api, args):
    _need("mc_node_create", args, 1, "<rid> <space-separated port list> [ | <space-separated lag list> ]")
    rest = args[1:]
    lags: list = []
    if "|" in rest:
        i = rest.index("|")
        rest, lags = rest[:i], rest[i + 1:]
    h = api.mc_node_create(args[0], rest, lags)
    return f"node was created with handle {h}"


def _cli_mc_node_update(api, args):
    _need("mc_node_update", args, 1, "<node handle> <space-separated port list> [ | <space-separated lag list> ]")
    rest = args[1:]
    lags: list = []
    if "|" in rest:
        i = rest.index("|")
        rest, lags = rest[:i], rest[i + 1:]
    api.mc_node_update(args[0], rest, lags)
    return ""


def _cli_mirroring_get(api, args):
    _need("mirroring_get", args, 1, "<mirror_id>", 1)
    return str(api.mirroring_get(args[0]))


def _cli_set_crc(width):
    def run(api, args):
        cmd = f"set_crc{width}_parameters"
        _need(cmd, args, 6, "<name> <polynomial> <initial remainder> <final xor value> "
                            "<reflected data> <reflected remainder>", 6)
        getattr(api, cmd)(*args)
        return ""
    return run


def _fixed(method: str, n: int, usage: str, fmt: Callable[[Any], str] | None = None):
    def run(api, args):
        _need(method, args, n, usage, n)
        out = getattr(api, method)(*args)
        return fmt(out) if fmt else ""
    return run


def _member_commands(prefix: str, owner: str) -> dict[str, Callable[[RuntimeApi, list], Any]]:
    """The member/group commands, which the CLI offers twice with the same
    arguments: on an action profile (``act_prof_*``) and on the profile behind
    an indirect table (``table_indirect_*``); `owner` is the usage text of
    the first argument."""
    def create_member(api, a):
        _need(f"{prefix}_create_member", a, 2, f"{owner} <action_name> [action parameters]")
        handle = getattr(api, f"{prefix}_create_member")(a[0], a[1], a[2:])
        return f"Member has been created with handle {handle}"

    def modify_member(api, a):
        _need(f"{prefix}_modify_member", a, 3,
              f"{owner} <action_name> <member_handle> [action parameters]")
        return getattr(api, f"{prefix}_modify_member")(a[0], a[1], a[2],
                                                       [p for p in a[3:] if p != "=>"])

    def create_group(api, a):
        _need(f"{prefix}_create_group", a, 1, owner, 1)
        return f"Group has been created with handle {getattr(api, f'{prefix}_create_group')(a[0])}"

    return {
        f"{prefix}_create_member": create_member,
        f"{prefix}_modify_member": modify_member,
        f"{prefix}_delete_member": _fixed(f"{prefix}_delete_member", 2, f"{owner} <member handle>"),
        f"{prefix}_create_group": create_group,
        f"{prefix}_delete_group": _fixed(f"{prefix}_delete_group", 2, f"{owner} <group handle>"),
        f"{prefix}_add_member_to_group": _fixed(f"{prefix}_add_member_to_group", 3,
                                                f"{owner} <member handle> <group handle>"),
        f"{prefix}_remove_member_from_group": _fixed(f"{prefix}_remove_member_from_group", 3,
                                                     f"{owner} <member handle> <group handle>"),
    }


def _cli_table_dump_entry(api, args):
    _need("table_dump_entry", args, 2, "<table name> <entry handle>", 2)
    return api.table_dump_entry(args[0], args[1])


def _fmt_pvs(x) -> str:
    if isinstance(x, tuple):
        v, m = (x + (None,))[:2]
        return format_match(Exact(v) if m is None else Ternary(v, m))
    return f"{x:#x}" if isinstance(x, int) else str(x)


_COMMANDS: dict[str, Callable[[RuntimeApi, list], Any]] = {
    "table_add": _cli_table_add,
    "table_set_default": _cli_table_set_default,
    "table_modify": _cli_table_modify,
    "table_delete": _fixed("table_delete", 2, "<table name> <entry handle>"),
    "table_reset_default": _fixed("table_reset_default", 1, "<table name>"),
    "table_clear": _fixed("table_clear", 1, "<table name>"),
    "table_num_entries": _fixed("table_num_entries", 1, "<table name>", str),
    "table_dump": _fixed("table_dump", 1, "<table name>", str),
    "table_dump_entry": _cli_table_dump_entry,
    "table_set_timeout": _fixed("table_set_timeout", 3, "<table name> <entry handle> <timeout (ms)>"),
    **_member_commands("act_prof", "<action profile name>"),
    "act_prof_dump": _fixed("act_prof_dump", 1, "<action profile name>", str),
    **_member_commands("table_indirect", "<table name>"),
    "table_indirect_add": lambda api, a: _cli_indirect_add(api, a, False),
    "table_indirect_add_with_group": lambda api, a: _cli_indirect_add(api, a, True),
    "table_indirect_delete": _fixed("table_indirect_delete", 2, "<table name> <entry handle>"),
    "table_indirect_set_default": _fixed("table_indirect_set_default", 2, "<table name> <member handle>"),
    "table_indirect_set_default_with_group": _fixed("table_indirect_set_default_with_group", 2,
                                                    "<table name> <group handle>"),
    "table_indirect_reset_default": _fixed("table_indirect_reset_default", 1, "<table name>"),
    "counter_read": _cli_counter_read,
    "counter_write": _fixed("counter_write", 4, "<name> <index> <packets> <bytes>"),
    "counter_reset": _fixed("counter_reset", 1, "<name>"),
    "register_read": _cli_register_read,
    "register_write": _fixed("register_write", 3, "<name> <index> <value>"),
    "register_reset": _fixed("register_reset", 1, "<name>"),
    "meter_get_rates": _cli_meter_get_rates,
    "meter_set_rates": lambda api, a: (
        _need("meter_set_rates", a, 3, "<name> <index> <rate_1>:<burst_1> <rate_2>:<burst_2> ...")
        or api.meter_set_rates(a[0], a[1], a[2:])),
    "meter_array_set_rates": lambda api, a: (
        _need("meter_array_set_rates", a, 2, "<name> <rate_1>:<burst_1> <rate_2>:<burst_2> ...")
        or api.meter_array_set_rates(a[0], a[1:])),
    "mirroring_add": _fixed("mirroring_add", 2, "<mirror_id> <egress_port>"),
    "mirroring_add_mc": _fixed("mirroring_add_mc", 2, "<mirror_id> <mgrp>"),
    "mirroring_delete": _fixed("mirroring_delete", 1, "<mirror_id>"),
    "mirroring_get": _cli_mirroring_get,
    "mc_mgrp_create": _fixed("mc_mgrp_create", 1, "<group id>"),
    "mc_mgrp_destroy": _fixed("mc_mgrp_destroy", 1, "<group id>"),
    "mc_node_create": _cli_mc_node_create,
    "mc_node_update": _cli_mc_node_update,
    "mc_node_destroy": _fixed("mc_node_destroy", 1, "<node handle>"),
    "mc_node_associate": _fixed("mc_node_associate", 2, "<group handle> <node handle>"),
    "mc_node_dissociate": _fixed("mc_node_dissociate", 2, "<group handle> <node handle>"),
    "mc_set_lag_membership": lambda api, a: (
        _need("mc_set_lag_membership", a, 1, "<lag index> <space-separated port list>")
        or api.mc_set_lag_membership(a[0], a[1:])),
    "mc_dump": _fixed("mc_dump", 0, "", str),
    "set_crc16_parameters": _cli_set_crc(16),
    "set_crc32_parameters": _cli_set_crc(32),
    "pvs_add": lambda api, a: (_need("pvs_add", a, 2, "<name> <value>", 2) or api.pvs_add(a[0], a[1])),
    "pvs_remove": lambda api, a: (_need("pvs_remove", a, 2, "<name> <value>", 2) or api.pvs_remove(a[0], a[1])),
    "pvs_clear": _fixed("pvs_clear", 1, "<name>"),
    "pvs_get": _fixed("pvs_get", 1, "<name>", lambda v: "\n".join(_fmt_pvs(x) for x in v)),
}
