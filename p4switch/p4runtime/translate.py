"""P4Runtime entities <-> the Switch API, for one forwarding pipeline config.

A :class:`Pipeline` is built once per SetForwardingPipelineConfig: it pairs every
P4Info object with the Switch object it drives (tables by name, match fields by
name then position, actions by name, parameters by name then position) so that a
request only does dictionary look-ups.  Every check the spec asks of a server is
done here and reported as :class:`P4RTError` with the spec's status code.

Conventions (see docs/p4sw-internals.md, "P4Runtime server"):

* Byte strings: accepted canonical or padded up to the field's byte count; more
  bytes than that, an empty string, or a value wider than the field is
  INVALID_ARGUMENT.  Reads return canonical byte strings.
* Priority: P4Runtime's larger-wins ``p`` (1 .. 2**31-1) is stored in the switch as
  ``PRIO_BASE - p`` (BMv2's smaller-wins), and read back the same way.
* Don't-care matches (ternary mask 0, LPM prefix 0, full range, optional) must be
  omitted, as the spec says; they are omitted on reads.
* All methods run on the data-path thread (see host.SwitchHost), never concurrently.
* ``write`` returns an undo callable so a batch can be rolled back.
"""
from __future__ import annotations

import copy
import heapq
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from p4common.codec import nbytes, to_canonical
from p4common.matchstr import Exact, Lpm, Optional_, Range, Ternary, Valid
from p4common.p4info import P4InfoIndex, P4InfoError
from p4common.proto import p4data_pb2, p4info_pb2, p4runtime_pb2

from .errors import Code, P4RTError, from_switch_error

PRIO_BASE = 1 << 31
MAX_PRIO = (1 << 31) - 1
HIDDEN_MGRP_BASE = 1 << 20     # multicast groups backing multi-replica clone sessions
Undo = Callable[[], None] | None

_MF = p4info_pb2.MatchField
_SCOPE = p4info_pb2.ActionRef
_UPD = p4runtime_pb2.Update


def bad(msg: str) -> P4RTError:
    return P4RTError(Code.INVALID_ARGUMENT, msg)


def decode(data: bytes, width: int, what: str) -> int:
    """A P4Runtime byte string for a `width`-bit value (canonical or padded)."""
    if not data:
        raise bad(f"{what}: empty byte string")
    if len(data) > max(1, nbytes(width)):
        raise bad(f"{what}: {len(data)} bytes for a {width}-bit value (at most {nbytes(width)})")
    v = int.from_bytes(data, "big")
    if v >> width:
        raise bad(f"{what}: value 0x{v:x} does not fit in {width} bits")
    return v


enc = to_canonical


# ---------------------------------------------------------------------------
# resolved P4Info objects

@dataclass
class ActionInfo:
    msg: Any                     # p4info Action
    sw: Any                      # switch action object
    params: list[tuple[int, str, int]]   # (p4info id, name, bitwidth) in switch order

    @property
    def id(self) -> int:
        return self.msg.preamble.id


@dataclass
class FieldInfo:
    id: int
    name: str
    kind: int          # p4info MatchField.MatchType
    width: int
    key_index: int     # position in the switch table's key
    sw_kind: str       # switch KeyField.match_type


@dataclass
class ProfileInfo:
    msg: Any
    sw: Any            # tables.ActionProfile
    actions: dict[int, ActionInfo]
    members: dict[int, int] = field(default_factory=dict)   # member_id -> handle
    member_ids: dict[int, int] = field(default_factory=dict)  # handle -> member_id
    groups: dict[int, int] = field(default_factory=dict)     # group_id -> handle
    group_ids: dict[int, int] = field(default_factory=dict)  # handle -> group_id
    group_max: dict[int, int] = field(default_factory=dict)  # group_id -> max_size


@dataclass
class TableInfo:
    msg: Any
    sw: Any                       # tables.Table
    fields: list[FieldInfo]
    by_id: dict[int, FieldInfo]
    actions: dict[int, ActionInfo]
    scopes: dict[int, int]
    needs_priority: bool
    profile: ProfileInfo | None
    idle: bool
    const: bool
    has_counter: bool
    has_meter: bool

    @property
    def id(self) -> int:
        return self.msg.preamble.id

    @property
    def name(self) -> str:
        return self.msg.preamble.name


@dataclass
class OneShot:
    """Members/group the server made for an action_profile_action_set."""
    action_set: Any
    members: list[int]
    group: int | None


@dataclass
class EntryMeta:
    metadata: bytes = b""
    idle_ns: int = 0
    oneshot: OneShot | None = None
    notified: float = 0.0        # monotonic time of the last idle notification
    watch: int = 0               # sequence number of its live `Pipeline.idle_heap` item


def _find_sw(objs: dict, name: str, what: str) -> Any:
    if name in objs:
        return objs[name]
    cands = [k for k in objs if k.endswith("." + name) or name.endswith("." + k)]
    if len(cands) == 1:
        return objs[cands[0]]
    raise P4RTError(Code.INVALID_ARGUMENT, f"P4Info {what} {name!r} is not in the device config")


class Pipeline:
    """One P4Info + the Switch built from the matching BMv2 JSON."""

    def __init__(self, p4info: Any, switch: Any, device_config: bytes, cookie: int = 0):
        try:
            self.idx = P4InfoIndex(p4info)
        except P4InfoError as e:
            raise bad(f"P4Info: {e}") from None
        self.p4info = p4info
        self.sw = switch
        self.device_config = device_config
        self.cookie = cookie
        self.meta: dict[tuple[str, int], EntryMeta] = {}
        # Idle-timeout deadlines: a heap of (due, seq, key, meta, table info), one live
        # item per entry with an idle timeout (`meta.watch == seq`; others are stale
        # and skipped), so a sweep visits only entries that may be due instead of
        # every entry of every idle table (stream.idle_sweep).  Loop thread only.
        self.idle_heap: list = []
        self._idle_seq = 0
        self.mcast: dict[int, tuple[list, int, list[int]]] = {}  # gid -> (replicas, form, nodes)
        self.clones: dict[int, Any] = {}                           # session -> CloneSessionEntry
        self.vsets: dict[int, list] = {}
        self._resolve()

    # -- resolution (once per config) --------------------------------------
    def _resolve(self) -> None:
        idx, sw = self.idx, self.sw
        self.profiles: dict[int, ProfileInfo] = {}
        for ap in idx.action_profiles:
            prof = _find_sw(sw.action_profiles, ap.preamble.name, "action profile")
            self.profiles[ap.preamble.id] = ProfileInfo(ap, prof, {})
        self.tables: dict[int, TableInfo] = {}
        for t in idx.tables:
            tab = _find_sw(sw.tables, t.preamble.name, "table")
            keys = list(getattr(tab, "keys", None) or sw.table_keys(tab.name))
            fields: list[FieldInfo] = []
            names = [k.name for k in keys]
            for pos, mf in enumerate(t.match_fields):
                if mf.name in names:
                    ki = names.index(mf.name)
                elif pos < len(keys):
                    ki = pos
                else:
                    raise bad(f"table {t.preamble.name}: match field {mf.name} not in the device config")
                fields.append(FieldInfo(mf.id, mf.name, mf.match_type, mf.bitwidth or keys[ki].bitwidth,
                                        ki, keys[ki].match_type))
            if len(fields) != len(keys):
                raise bad(f"table {t.preamble.name}: P4Info has {len(fields)} match fields, "
                          f"the device config {len(keys)}")
            actions: dict[int, ActionInfo] = {}
            scopes: dict[int, int] = {}
            sw_acts = {a.name: a for a in tab.actions}
            for ref in t.action_refs:
                am = idx.actions.find(ref.id)
                if am is None:
                    raise bad(f"table {t.preamble.name}: unknown action id {ref.id}")
                actions[ref.id] = self._action_info(am, sw_acts)
                scopes[ref.id] = ref.scope
            prof = None
            if t.implementation_id:
                prof = self.profiles.get(t.implementation_id)
                if prof is None:
                    raise bad(f"table {t.preamble.name}: unknown implementation id {t.implementation_id}")
                prof.actions.update(actions)
            dres = set(t.direct_resource_ids)
            self.tables[t.preamble.id] = TableInfo(
                t, tab, fields, {f.id: f for f in fields}, actions, scopes,
                any(f.kind in (_MF.TERNARY, _MF.RANGE, _MF.OPTIONAL) for f in fields)
                or getattr(tab, "kind", "") == "ternary",
                prof, t.idle_timeout_behavior == p4info_pb2.Table.NOTIFY_CONTROL,
                t.is_const_table,
                any(idx.direct_counters.find(i) is not None for i in dres),
                any(idx.direct_meters.find(i) is not None for i in dres))
        self.counters = {c.preamble.id: (c, _find_sw(sw.counters, c.preamble.name, "counter"))
                         for c in idx.counters}
        self.meters = {m.preamble.id: (m, _find_sw(sw.meters, m.preamble.name, "meter"))
                       for m in idx.meters}
        self.registers = {r.preamble.id: (r, _find_sw(sw.registers, r.preamble.name, "register"))
                          for r in idx.registers}
        self.direct_counters = {c.preamble.id: c for c in idx.direct_counters}
        self.direct_meters = {m.preamble.id: m for m in idx.direct_meters}
        self.value_sets = {v.preamble.id: (v, _find_sw(sw.parse_vsets, v.preamble.name, "value set"))
                           for v in idx.value_sets}
        self.digests = {d.preamble.id: d for d in idx.digests}
        self.digest_by_name = {d.preamble.name: d for d in idx.digests}
        self.packet_in = idx.controller_packet_metadata.find("packet_in")
        self.packet_out = idx.controller_packet_metadata.find("packet_out")
        # Packet I/O runs once per packet: read the header layouts out of the
        # P4Info messages here, not per packet.
        self._pin_layout = _packet_in_layout(self.packet_in)
        self._pout_fields = _packet_out_layout(self.packet_out)
        total = sum(f[2] for f in self._pout_fields or ())
        self._pout_pad = ((-total) % 8, (total + (-total) % 8) // 8)

    def _action_info(self, am: Any, sw_acts: dict) -> ActionInfo:
        a = _find_sw(sw_acts, am.preamble.name, "action") if sw_acts else \
            _find_sw(self.sw.actions, am.preamble.name, "action")
        sw_params = list(a.params)
        params = []
        for pos, (pname, width) in enumerate(sw_params):
            pm = next((p for p in am.params if p.name == pname), None)
            if pm is None and pos < len(am.params):
                pm = am.params[pos]
            if pm is None:
                raise bad(f"action {am.preamble.name}: parameter {pname} not in the P4Info")
            params.append((pm.id, pm.name, width))
        if len(params) != len(am.params):
            raise bad(f"action {am.preamble.name}: P4Info and device config disagree on parameters")
        return ActionInfo(am, a, params)

    # -- look-ups -----------------------------------------------------------
    def table(self, tid: int) -> TableInfo:
        t = self.tables.get(tid)
        if t is None:
            raise P4RTError(Code.NOT_FOUND, f"no table with id {tid}")
        return t

    def profile(self, pid: int) -> ProfileInfo:
        p = self.profiles.get(pid)
        if p is None:
            raise P4RTError(Code.NOT_FOUND, f"no action profile with id {pid}")
        return p

    # -- actions --------------------------------------------------------------
    def action_data(self, ai: ActionInfo, msg: Any) -> tuple[int, ...]:
        by_id = {pid: (i, w, n) for i, (pid, n, w) in enumerate(ai.params)}
        data = [None] * len(ai.params)
        for p in msg.params:
            hit = by_id.get(p.param_id)
            if hit is None:
                raise bad(f"action {ai.msg.preamble.name}: no parameter with id {p.param_id}")
            i, w, n = hit
            if data[i] is not None:
                raise bad(f"action {ai.msg.preamble.name}: parameter {n} given twice")
            data[i] = decode(p.value, w, f"action {ai.msg.preamble.name} parameter {n}")
        missing = [ai.params[i][1] for i, v in enumerate(data) if v is None]
        if missing:
            raise bad(f"action {ai.msg.preamble.name}: missing parameter(s) {', '.join(missing)}")
        return tuple(data)  # type: ignore[arg-type]

    def _action_msg(self, ai: ActionInfo, data: tuple) -> Any:
        a = p4runtime_pb2.Action(action_id=ai.id)
        for (pid, _, _), v in zip(ai.params, data):
            a.params.add(param_id=pid, value=enc(v))
        return a

    def _table_action(self, ti: TableInfo, msg: Any, default: bool) -> ActionInfo:
        ai = ti.actions.get(msg.action_id)
        if ai is None:
            raise bad(f"table {ti.name}: action id {msg.action_id} is not one of its actions")
        scope = ti.scopes.get(msg.action_id, 0)
        if default and scope == _SCOPE.TABLE_ONLY:
            raise bad(f"table {ti.name}: action {ai.msg.preamble.name} cannot be the default action")
        if not default and scope == _SCOPE.DEFAULT_ONLY:
            raise bad(f"table {ti.name}: action {ai.msg.preamble.name} is for the default entry only")
        return ai

    # -- table entries ---------------------------------------------------------
    def match_params(self, ti: TableInfo, entry: Any) -> list:
        params: list = [None] * len(ti.fields)
        seen: set[int] = set()
        for fm in entry.match:
            f = ti.by_id.get(fm.field_id)
            if f is None:
                raise bad(f"table {ti.name}: no match field with id {fm.field_id}")
            if fm.field_id in seen:
                raise bad(f"table {ti.name}: match field {f.name} given twice")
            seen.add(fm.field_id)
            params[f.key_index] = self._field_param(ti, f, fm)
        for f in ti.fields:
            if params[f.key_index] is None:
                params[f.key_index] = self._dont_care(ti, f)
        return params

    def _field_param(self, ti: TableInfo, f: FieldInfo, fm: Any) -> Any:
        which = fm.WhichOneof("field_match_type")
        what = f"table {ti.name} field {f.name}"
        want = {_MF.EXACT: "exact", _MF.LPM: "lpm", _MF.TERNARY: "ternary", _MF.RANGE: "range",
                _MF.OPTIONAL: "optional"}.get(f.kind)
        if which != want:
            raise bad(f"{what}: {which or 'no'} match given, the field is {want}")
        w = f.width
        if which == "exact":
            v = decode(fm.exact.value, w, what)
            return Valid(bool(v)) if f.sw_kind == "valid" else Exact(v)
        if which == "lpm":
            plen = fm.lpm.prefix_len
            if plen <= 0 or plen > w:
                raise bad(f"{what}: prefix length {plen} must be in 1..{w} (omit the field for 0)")
            v = decode(fm.lpm.value, w, what)
            if v & ((1 << (w - plen)) - 1):
                raise bad(f"{what}: value has bits set beyond the /{plen} prefix")
            return Lpm(v, plen)
        if which == "ternary":
            v = decode(fm.ternary.value, w, what)
            m = decode(fm.ternary.mask, w, what + " mask")
            if m == 0:
                raise bad(f"{what}: a zero mask is a don't-care; omit the field")
            if v & ~m:
                raise bad(f"{what}: value has bits set outside the mask")
            return Ternary(v, m)
        if which == "range":
            lo = decode(fm.range.low, w, what + " low")
            hi = decode(fm.range.high, w, what + " high")
            if lo > hi:
                raise bad(f"{what}: range low 0x{lo:x} > high 0x{hi:x}")
            if lo == 0 and hi == (1 << w) - 1:
                raise bad(f"{what}: the full range is a don't-care; omit the field")
            return Range(lo, hi)
        return Optional_(decode(fm.optional.value, w, what))

    def _dont_care(self, ti: TableInfo, f: FieldInfo) -> Any:
        if f.kind == _MF.LPM:
            return Lpm(0, 0)
        if f.kind == _MF.TERNARY:
            return Ternary(0, 0)
        if f.kind == _MF.RANGE:
            return Range(0, (1 << f.width) - 1)
        if f.kind == _MF.OPTIONAL:
            return Optional_(None)
        raise bad(f"table {ti.name}: exact match field {f.name} is missing")

    def _priority(self, ti: TableInfo, entry: Any) -> int:
        p = entry.priority
        if ti.needs_priority:
            if p <= 0 or p > MAX_PRIO:
                raise bad(f"table {ti.name}: priority must be in 1..{MAX_PRIO}, got {p}")
            return PRIO_BASE - p
        if p != 0:
            raise bad(f"table {ti.name}: the table has no ternary/range/optional field, so priority must be 0")
        return 0

    def find(self, ti: TableInfo, entry: Any) -> Any:
        try:
            return ti.sw.find_entry(self.match_params(ti, entry), self._priority(ti, entry))
        except P4RTError:
            raise
        except Exception as e:  # noqa: BLE001 - switch errors carry their code
            raise from_switch_error(e) from None

    def _target(self, ti: TableInfo, ta: Any, default: bool) -> tuple[Any, tuple, int | None, int | None, OneShot | None]:
        """TableAction -> (action, data, member, group, oneshot-to-create)."""
        which = ta.WhichOneof("type")
        if which is None:
            raise bad(f"table {ti.name}: the entry has no action")
        if which == "action":
            if ti.profile is not None:
                raise bad(f"table {ti.name} is indirect: give a member, group or action set")
            ai = self._table_action(ti, ta.action, default)
            return ai.sw, self.action_data(ai, ta.action), None, None, None
        prof = ti.profile
        if prof is None:
            raise bad(f"table {ti.name} has no action profile: give an action")
        if which == "action_profile_member_id":
            h = prof.members.get(ta.action_profile_member_id)
            if h is None:
                raise P4RTError(Code.NOT_FOUND, f"action profile {prof.msg.preamble.name}: "
                                f"no member {ta.action_profile_member_id}")
            return None, (), h, None, None
        if which == "action_profile_group_id":
            if not prof.msg.with_selector:
                raise bad(f"action profile {prof.msg.preamble.name} has no selector: groups are not allowed")
            h = prof.groups.get(ta.action_profile_group_id)
            if h is None:
                raise P4RTError(Code.NOT_FOUND, f"action profile {prof.msg.preamble.name}: "
                                f"no group {ta.action_profile_group_id}")
            return None, (), None, h, None
        aset = ta.action_profile_action_set
        acts = list(aset.action_profile_actions)
        if not acts:
            raise bad(f"table {ti.name}: empty action profile action set")
        if not prof.msg.with_selector and len(acts) != 1:
            raise bad(f"action profile {prof.msg.preamble.name} has no selector: one action only")
        resolved = []
        for apa in acts:
            if apa.weight != 1 and apa.weight != 0:
                raise P4RTError(Code.UNIMPLEMENTED, "action set weights other than 1")
            ai = self._table_action(ti, apa.action, default)
            resolved.append((ai, self.action_data(ai, apa.action)))
        sp = prof.sw
        made: list[int] = []
        grp = None
        try:
            for ai, data in resolved:
                made.append(sp.add_member(ai.sw, data))
            if prof.msg.with_selector:
                grp = sp.create_group()
                for m in made:
                    sp.add_member_to_group(m, grp)
        except Exception as e:  # noqa: BLE001
            self._drop_oneshot(prof, OneShot(aset, made, grp))
            raise from_switch_error(e) from None
        os_ = OneShot(copy.deepcopy(aset), made, grp)
        if grp is not None:
            return None, (), None, grp, os_
        return None, (), made[0], None, os_

    def _drop_oneshot(self, prof: ProfileInfo, os_: OneShot | None) -> None:
        if os_ is None:
            return
        sp = prof.sw
        if os_.group is not None:
            for m in list(sp.group_members(os_.group)) if os_.group in sp.groups else []:
                sp.remove_member_from_group(m, os_.group)
            if os_.group in sp.groups:
                sp.delete_group(os_.group)
        for m in os_.members:
            if m in sp.members:
                sp.delete_member(m)

    def write_table_entry(self, op: int, entry: Any, undo: bool = True) -> Undo:
        """INSERT/MODIFY/DELETE one table entry; returns an undo callable.  With
        ``undo=False`` (a CONTINUE_ON_ERROR batch never rolls back) a DELETE skips
        reading the entry back for its undo and returns None."""
        ti = self.table(entry.table_id)
        if entry.is_default_action:
            return self._write_default(ti, op, entry)
        if ti.const:
            raise P4RTError(Code.PERMISSION_DENIED, f"table {ti.name} is const")
        if entry.idle_timeout_ns and not ti.idle:
            raise bad(f"table {ti.name} does not support idle timeout")
        if entry.idle_timeout_ns < 0:
            raise bad("idle_timeout_ns must not be negative")
        tab = ti.sw
        if op == _UPD.INSERT:
            match = self.match_params(ti, entry)
            prio = self._priority(ti, entry)
            if not entry.HasField("action"):
                raise bad(f"table {ti.name}: INSERT without an action")
            self._check_direct(ti, entry)
            if tab.find_entry(match, prio) is not None:
                raise P4RTError(Code.ALREADY_EXISTS, f"table {ti.name}: the entry already exists")
            act, data, mbr, grp, os_ = self._target(ti, entry.action, False)
            try:
                h = tab.add_entry(match, act, data, prio, member=mbr, group=grp,
                                  timeout_ms=(entry.idle_timeout_ns // 1_000_000 or 1)
                                  if entry.idle_timeout_ns else None)
            except Exception as e:  # noqa: BLE001
                if ti.profile is not None:
                    self._drop_oneshot(ti.profile, os_)
                raise from_switch_error(e) from None
            meta = self.meta[(tab.name, h)] = EntryMeta(entry.metadata, entry.idle_timeout_ns, os_)
            e = tab.get_entry(h)
            self.watch_idle(ti, (tab.name, h), meta, e)
            self._apply_direct(ti, e, entry)

            def undo() -> None:
                self._delete(ti, tab.get_entry(h))
            return undo
        e = self.find(ti, entry)
        if e is None:
            raise P4RTError(Code.NOT_FOUND, f"table {ti.name}: no such entry")
        if op == _UPD.MODIFY:
            if not entry.HasField("action"):
                raise bad(f"table {ti.name}: MODIFY without an action")
            self._check_direct(ti, entry)
            saved = (e.action, e.data, e.member, e.group)
            key = (tab.name, e.handle)
            old_meta = self.meta.get(key) or EntryMeta()
            act, data, mbr, grp, os_ = self._target(ti, entry.action, False)
            try:
                tab.modify_entry(e.handle, act, data, member=mbr, group=grp)
            except Exception as ex:  # noqa: BLE001
                if ti.profile is not None:
                    self._drop_oneshot(ti.profile, os_)
                raise from_switch_error(ex) from None
            old_counts = (e.packets, e.bytes)
            old_rates = e.meter.get_rates() if e.meter is not None else None
            old_timeout = e.timeout_ms
            self.meta[key] = EntryMeta(entry.metadata, entry.idle_timeout_ns, os_)
            if ti.profile is not None and old_meta.oneshot is not None:
                self._drop_oneshot(ti.profile, old_meta.oneshot)
                old_meta = EntryMeta(old_meta.metadata, old_meta.idle_ns, None)
            e.timeout_ms = (entry.idle_timeout_ns // 1_000_000 or 1) if entry.idle_timeout_ns else None
            if entry.idle_timeout_ns:
                e.last_hit = time.monotonic()   # a modified entry starts a new idle period
            self.watch_idle(ti, key, self.meta[key], e)
            self._apply_direct(ti, e, entry)

            def undo_mod() -> None:
                cur = self.meta.get(key)
                tab.modify_entry(e.handle, saved[0], saved[1], member=saved[2], group=saved[3])
                if ti.profile is not None and cur is not None:
                    self._drop_oneshot(ti.profile, cur.oneshot)
                self.meta[key] = old_meta
                self.watch_idle(ti, key, old_meta, e)
                e.packets, e.bytes = old_counts
                e.timeout_ms = old_timeout
                if old_rates is not None:
                    if old_rates:
                        e.meter.set_rates(old_rates)
                    else:
                        e.meter.reset_rates()
            return undo_mod
        if op == _UPD.DELETE:
            if not undo:
                self._delete(ti, e)
                return None
            saved_entry = self.read_entry(ti, e, counters=True, meters=True)
            meta = self.meta.get((tab.name, e.handle))
            self._delete(ti, e)

            def undo_del() -> None:
                if meta is not None and meta.oneshot is not None:
                    saved_entry.action.action_profile_action_set.CopyFrom(meta.oneshot.action_set)
                self.write_table_entry(_UPD.INSERT, saved_entry)
            return undo_del
        raise bad(f"unknown update type {op}")

    def watch_idle(self, ti: TableInfo, key: tuple[str, int], meta: EntryMeta, e: Any) -> None:
        """(Re)arm the idle deadline of an entry whose EntryMeta was just stored."""
        if not meta.idle_ns:
            return
        self._idle_seq += 1
        meta.watch = self._idle_seq
        due = max(e.last_hit, meta.notified) + meta.idle_ns / 1e9
        heapq.heappush(self.idle_heap, (due, self._idle_seq, key, meta, ti))

    def _delete(self, ti: TableInfo, e: Any) -> None:
        tab = ti.sw
        try:
            tab.delete_entry(e.handle)
        except Exception as ex:  # noqa: BLE001
            raise from_switch_error(ex) from None
        meta = self.meta.pop((tab.name, e.handle), None)
        if meta is not None and meta.oneshot is not None and ti.profile is not None:
            self._drop_oneshot(ti.profile, meta.oneshot)
        if e.meter is not None:
            e.meter.reset_rates()   # the cell is indexed by handle: a new entry starts clean

    def _check_direct(self, ti: TableInfo, entry: Any) -> None:
        if entry.HasField("counter_data") and not ti.has_counter:
            raise bad(f"table {ti.name} has no direct counter")
        if entry.HasField("meter_config") and not ti.has_meter:
            raise bad(f"table {ti.name} has no direct meter")
        if entry.HasField("meter_config"):
            _meter_rates(entry.meter_config)

    def _apply_direct(self, ti: TableInfo, e: Any, entry: Any) -> None:
        if entry.HasField("counter_data"):
            e.packets, e.bytes = entry.counter_data.packet_count, entry.counter_data.byte_count
        if entry.HasField("meter_config") and e.meter is not None:
            e.meter.set_rates(_meter_rates(entry.meter_config))

    def _write_default(self, ti: TableInfo, op: int, entry: Any) -> Undo:
        if op != _UPD.MODIFY:
            raise bad(f"table {ti.name}: the default entry can only be modified")
        if len(entry.match) or entry.priority:
            raise bad(f"table {ti.name}: a default entry has no match and no priority")
        if entry.idle_timeout_ns:
            raise bad("the default entry has no idle timeout")
        tab = ti.sw
        d = tab.default
        saved = (d.action, d.data, d.member, d.group)
        if ti.msg.const_default_action_id and entry.HasField("action"):
            ta = entry.action
            if ta.WhichOneof("type") != "action" or ta.action.action_id != ti.msg.const_default_action_id:
                raise P4RTError(Code.PERMISSION_DENIED, f"table {ti.name}: the default action is const")
        try:
            if not entry.HasField("action"):
                if getattr(tab, "const_default_entry", False):
                    raise P4RTError(Code.PERMISSION_DENIED, f"table {ti.name}: the default entry is const")
                tab.reset_default()
            else:
                act, data, mbr, grp, os_ = self._target(ti, entry.action, True)
                if os_ is not None:
                    self._drop_oneshot(ti.profile, os_)   # type: ignore[arg-type]
                    raise P4RTError(Code.UNIMPLEMENTED, "one-shot action sets as default action")
                tab.set_default(act, data, member=mbr, group=grp)
        except P4RTError:
            raise
        except Exception as e:  # noqa: BLE001
            raise from_switch_error(e) from None
        if entry.HasField("counter_data") or entry.HasField("meter_config"):
            raise P4RTError(Code.UNIMPLEMENTED, "direct resources of the default entry")

        def undo() -> None:
            if saved[0] is None and saved[2] is None and saved[3] is None:
                tab.reset_default()
            else:
                tab.set_default(saved[0], saved[1], member=saved[2], group=saved[3])
        return undo

    # table entry reads
    def read_entry(self, ti: TableInfo, e: Any, *, counters: bool = False, meters: bool = False,
                   last_hit: bool = False, default: bool = False) -> Any:
        out = p4runtime_pb2.TableEntry(table_id=ti.id)
        if default:
            out.is_default_action = True
        else:
            for f in ti.fields:
                fm = _field_msg(f, e.match[f.key_index])
                if fm is not None:
                    out.match.append(fm)
            if ti.needs_priority:
                out.priority = PRIO_BASE - e.priority
            meta = self.meta.get((ti.sw.name, e.handle))
            if meta is not None:
                if meta.metadata:
                    out.metadata = meta.metadata
                if meta.idle_ns:
                    out.idle_timeout_ns = meta.idle_ns
                if meta.oneshot is not None:
                    out.action.action_profile_action_set.CopyFrom(meta.oneshot.action_set)
            if ti.const:
                out.is_const = True
            if last_hit and ti.idle:
                out.time_since_last_hit.elapsed_ns = int((time.monotonic() - e.last_hit) * 1e9)
            if counters and ti.has_counter:
                out.counter_data.packet_count = e.packets
                out.counter_data.byte_count = e.bytes
            if meters and ti.has_meter and e.meter is not None:
                rates = e.meter.get_rates()
                if rates:
                    out.meter_config.CopyFrom(_meter_config(rates))
        if not out.action.HasField("action_profile_action_set"):
            if e.action is not None:
                ai = next((a for a in ti.actions.values() if a.sw is e.action
                           or a.sw.name == e.action.name), None)
                if ai is not None:
                    out.action.action.CopyFrom(self._action_msg(ai, e.data))
            elif e.group is not None and ti.profile is not None:
                gid = ti.profile.group_ids.get(e.group)
                if gid is not None:
                    out.action.action_profile_group_id = gid
            elif e.member is not None and ti.profile is not None:
                mid = ti.profile.member_ids.get(e.member)
                if mid is not None:
                    out.action.action_profile_member_id = mid
        return out

    def read_table_entries(self, req: Any) -> list:
        tis = [self.table(req.table_id)] if req.table_id else list(self.tables.values())
        opts = dict(counters=req.HasField("counter_data"), meters=req.HasField("meter_config"),
                    last_hit=req.HasField("time_since_last_hit"))
        out = []
        for ti in tis:
            if req.is_default_action:
                d = ti.sw.default
                if d.action is None and d.member is None and d.group is None:
                    continue
                out.append(self.read_entry(ti, d, default=True))
                continue
            if req.table_id and len(req.match):
                e = self.find(ti, req)
                if e is not None:
                    out.append(self.read_entry(ti, e, **opts))
                continue
            for e in ti.sw.entries():
                out.append(self.read_entry(ti, e, **opts))
        return out

    # -- action profile members and groups -------------------------------------
    def write_member(self, op: int, m: Any) -> Undo:
        prof = self.profile(m.action_profile_id)
        sp = prof.sw
        mid = m.member_id
        if op == _UPD.INSERT:
            if mid in prof.members:
                raise P4RTError(Code.ALREADY_EXISTS, f"member {mid} exists")
            ai, data = self._member_action(prof, m)
            try:
                h = sp.add_member(ai.sw, data)
            except Exception as e:  # noqa: BLE001
                raise from_switch_error(e) from None
            prof.members[mid] = h
            prof.member_ids[h] = mid

            def undo() -> None:
                sp.delete_member(h)
                del prof.members[mid], prof.member_ids[h]
            return undo
        h = prof.members.get(mid)
        if h is None:
            raise P4RTError(Code.NOT_FOUND, f"action profile {prof.msg.preamble.name}: no member {mid}")
        if op == _UPD.MODIFY:
            ai, data = self._member_action(prof, m)
            old = sp.get_member(h)
            saved = (old.action, old.data)
            try:
                sp.modify_member(h, ai.sw, data)
            except Exception as e:  # noqa: BLE001
                raise from_switch_error(e) from None
            return lambda: sp.modify_member(h, *saved)
        if op == _UPD.DELETE:
            saved_msg = self.read_member(prof, h)
            try:
                sp.delete_member(h)
            except Exception as e:  # noqa: BLE001
                raise from_switch_error(e) from None
            del prof.members[mid], prof.member_ids[h]
            return lambda: self.write_member(_UPD.INSERT, saved_msg) and None
        raise bad(f"unknown update type {op}")

    def _member_action(self, prof: ProfileInfo, m: Any) -> tuple[ActionInfo, tuple]:
        if not m.HasField("action"):
            raise bad("action profile member without an action")
        ai = prof.actions.get(m.action.action_id)
        if ai is None:
            raise bad(f"action profile {prof.msg.preamble.name}: action id {m.action.action_id} "
                      "is not an action of its tables")
        return ai, self.action_data(ai, m.action)

    def read_member(self, prof: ProfileInfo, h: int) -> Any:
        mb = prof.sw.get_member(h)
        ai = next(a for a in prof.actions.values() if a.sw is mb.action or a.sw.name == mb.action.name)
        return p4runtime_pb2.ActionProfileMember(action_profile_id=prof.msg.preamble.id,
                                                 member_id=prof.member_ids[h],
                                                 action=self._action_msg(ai, mb.data))

    def read_members(self, req: Any) -> list:
        profs = [self.profile(req.action_profile_id)] if req.action_profile_id else list(self.profiles.values())
        out = []
        for prof in profs:
            ids = [req.member_id] if req.member_id else sorted(prof.members)
            for mid in ids:
                h = prof.members.get(mid)
                if h is not None:
                    out.append(self.read_member(prof, h))
        return out

    def write_group(self, op: int, g: Any) -> Undo:
        prof = self.profile(g.action_profile_id)
        if not prof.msg.with_selector:
            raise bad(f"action profile {prof.msg.preamble.name} has no selector: no groups")
        sp = prof.sw
        gid = g.group_id
        if op == _UPD.DELETE:
            h = prof.groups.get(gid)
            if h is None:
                raise P4RTError(Code.NOT_FOUND, f"no group {gid}")
            saved = self.read_group(prof, h)
            try:
                sp.delete_group(h)
            except Exception as e:  # noqa: BLE001
                raise from_switch_error(e) from None
            del prof.groups[gid], prof.group_ids[h]
            prof.group_max.pop(gid, None)
            return lambda: self.write_group(_UPD.INSERT, saved) and None
        want: list[int] = []
        for gm in g.members:
            if gm.weight not in (0, 1):
                raise P4RTError(Code.UNIMPLEMENTED, "group member weights other than 1")
            mh = prof.members.get(gm.member_id)
            if mh is None:
                raise P4RTError(Code.NOT_FOUND, f"group {gid}: no member {gm.member_id}")
            if mh in want:
                raise bad(f"group {gid}: member {gm.member_id} given twice")
            want.append(mh)
        limit = prof.msg.max_group_size
        if g.max_size < 0:
            raise bad("negative max_size")
        if limit and g.max_size > limit:
            raise P4RTError(Code.RESOURCE_EXHAUSTED, f"group max_size {g.max_size} > the profile's "
                            f"max_group_size {limit}")
        cap = g.max_size or limit
        if cap and len(want) > cap:
            raise P4RTError(Code.RESOURCE_EXHAUSTED, f"group {gid}: {len(want)} members > max size {cap}")
        if op == _UPD.INSERT:
            if gid in prof.groups:
                raise P4RTError(Code.ALREADY_EXISTS, f"group {gid} exists")
            if prof.msg.size and len(prof.groups) >= prof.msg.size:
                raise P4RTError(Code.RESOURCE_EXHAUSTED, f"action profile {prof.msg.preamble.name} is full")
            try:
                h = sp.create_group()
                for mh in want:
                    sp.add_member_to_group(mh, h)
            except Exception as e:  # noqa: BLE001
                raise from_switch_error(e) from None
            prof.groups[gid] = h
            prof.group_ids[h] = gid
            prof.group_max[gid] = g.max_size

            def undo() -> None:
                for mh in list(sp.group_members(h)):
                    sp.remove_member_from_group(mh, h)
                sp.delete_group(h)
                del prof.groups[gid], prof.group_ids[h]
            return undo
        if op == _UPD.MODIFY:
            h = prof.groups.get(gid)
            if h is None:
                raise P4RTError(Code.NOT_FOUND, f"no group {gid}")
            have = list(sp.group_members(h))
            old_max = prof.group_max.get(gid, 0)
            self._set_group(sp, h, have, want)
            prof.group_max[gid] = g.max_size

            def undo_mod() -> None:
                self._set_group(sp, h, list(sp.group_members(h)), have)
                prof.group_max[gid] = old_max
            return undo_mod
        raise bad(f"unknown update type {op}")

    @staticmethod
    def _set_group(sp: Any, h: int, have: list[int], want: list[int]) -> None:
        try:
            for mh in want:
                if mh not in have:
                    sp.add_member_to_group(mh, h)
            for mh in have:
                if mh not in want:
                    sp.remove_member_from_group(mh, h)
        except Exception as e:  # noqa: BLE001
            raise from_switch_error(e) from None

    def read_group(self, prof: ProfileInfo, h: int) -> Any:
        gid = prof.group_ids[h]
        g = p4runtime_pb2.ActionProfileGroup(action_profile_id=prof.msg.preamble.id, group_id=gid,
                                             max_size=prof.group_max.get(gid, 0))
        for mh in prof.sw.group_members(h):
            g.members.add(member_id=prof.member_ids.get(mh, 0), weight=1)
        return g

    def read_groups(self, req: Any) -> list:
        profs = [self.profile(req.action_profile_id)] if req.action_profile_id else \
            [p for p in self.profiles.values() if p.msg.with_selector]
        out = []
        for prof in profs:
            ids = [req.group_id] if req.group_id else sorted(prof.groups)
            for gid in ids:
                h = prof.groups.get(gid)
                if h is not None:
                    out.append(self.read_group(prof, h))
        return out

    # -- counters, meters, registers ---------------------------------------------
    def _indexed(self, table: dict, oid: int, what: str) -> tuple[Any, Any]:
        hit = table.get(oid)
        if hit is None:
            raise P4RTError(Code.NOT_FOUND, f"no {what} with id {oid}")
        return hit

    @staticmethod
    def _index(msg: Any, size: int, what: str) -> int:
        if not msg.HasField("index"):
            raise bad(f"{what}: a write needs an index")
        i = msg.index.index
        if i < 0 or i >= size:
            raise P4RTError(Code.OUT_OF_RANGE, f"{what}: index {i} is out of range (size {size})")
        return i

    def write_counter(self, op: int, c: Any) -> Undo:
        info, arr = self._indexed(self.counters, c.counter_id, "counter")
        if op != _UPD.MODIFY:
            raise bad("counter entries can only be modified")
        i = self._index(c, arr.size, f"counter {info.preamble.name}")
        old = arr.read(i)
        arr.write(i, c.data.packet_count, c.data.byte_count)
        return lambda: arr.write(i, *old)

    def _read_cells(self, table: dict, oid: int, req: Any, what: str,
                    out_of_range: str = "index out of range") -> Iterator[tuple[Any, Any, Any]]:
        """(info, array, indexes) for each array a read names: the one with id
        `oid`, or all of them when it is 0; the request's index, or every
        index when it has none. `out_of_range` ends the OUT_OF_RANGE message
        ({i}: the index asked for)."""
        items = [self._indexed(table, oid, what)] if oid else list(table.values())
        for info, arr in items:
            if req.HasField("index"):
                i = req.index.index
                if not 0 <= i < arr.size:
                    raise P4RTError(Code.OUT_OF_RANGE,
                                    f"{what} {info.preamble.name}: " + out_of_range.format(i=i))
                yield info, arr, [i]
            else:
                yield info, arr, range(arr.size)

    def read_counters(self, req: Any) -> list:
        out = []
        for info, arr, idxs in self._read_cells(self.counters, req.counter_id, req, "counter",
                                                "index {i} out of range"):
            unit = info.spec.unit
            for i in idxs:
                pk, by = arr.read(i)
                ce = p4runtime_pb2.CounterEntry(counter_id=info.preamble.id)
                ce.index.index = i
                _counter_data(ce.data, unit, pk, by)
                out.append(ce)
        return out

    def _direct_entry(self, te: Any, what: str) -> tuple[TableInfo, Any]:
        ti = self.table(te.table_id)
        e = self.find(ti, te)
        if e is None:
            raise P4RTError(Code.NOT_FOUND, f"{what}: no such entry in table {ti.name}")
        return ti, e

    def write_direct_counter(self, op: int, d: Any) -> Undo:
        if op != _UPD.MODIFY:
            raise bad("direct counter entries can only be modified")
        ti, e = self._direct_entry(d.table_entry, "direct counter")
        if not ti.has_counter:
            raise bad(f"table {ti.name} has no direct counter")
        old = (e.packets, e.bytes)
        e.packets, e.bytes = d.data.packet_count, d.data.byte_count

        def undo() -> None:
            e.packets, e.bytes = old
        return undo

    def read_direct_counters(self, req: Any) -> list:
        te = req.table_entry
        tis = [self.table(te.table_id)] if te.table_id else [t for t in self.tables.values() if t.has_counter]
        out = []
        for ti in tis:
            if not ti.has_counter:
                raise bad(f"table {ti.name} has no direct counter")
            unit = next((self.direct_counters[i].spec.unit for i in ti.msg.direct_resource_ids
                         if i in self.direct_counters), 3)
            ents = ([e for e in [self.find(ti, te)] if e is not None] if te.table_id and len(te.match)
                    else ti.sw.entries())
            for e in ents:
                dc = p4runtime_pb2.DirectCounterEntry()
                dc.table_entry.CopyFrom(self.read_entry(ti, e))
                _counter_data(dc.data, unit, e.packets, e.bytes)
                out.append(dc)
        return out

    def write_meter(self, op: int, m: Any) -> Undo:
        info, arr = self._indexed(self.meters, m.meter_id, "meter")
        if op != _UPD.MODIFY:
            raise bad("meter entries can only be modified")
        i = self._index(m, arr.size, f"meter {info.preamble.name}")
        return _configure_meter(arr.cell(i), m)

    def read_meters(self, req: Any) -> list:
        out = []
        for info, arr, idxs in self._read_cells(self.meters, req.meter_id, req, "meter"):
            for i in idxs:
                me = p4runtime_pb2.MeterEntry(meter_id=info.preamble.id)
                me.index.index = i
                rates = arr.cell(i).get_rates()
                if rates:
                    me.config.CopyFrom(_meter_config(rates))
                out.append(me)
        return out

    def write_direct_meter(self, op: int, d: Any) -> Undo:
        if op != _UPD.MODIFY:
            raise bad("direct meter entries can only be modified")
        ti, e = self._direct_entry(d.table_entry, "direct meter")
        if not ti.has_meter or e.meter is None:
            raise bad(f"table {ti.name} has no direct meter")
        return _configure_meter(e.meter, d)

    def read_direct_meters(self, req: Any) -> list:
        te = req.table_entry
        tis = [self.table(te.table_id)] if te.table_id else [t for t in self.tables.values() if t.has_meter]
        out = []
        for ti in tis:
            if not ti.has_meter:
                raise bad(f"table {ti.name} has no direct meter")
            ents = ([e for e in [self.find(ti, te)] if e is not None] if te.table_id and len(te.match)
                    else ti.sw.entries())
            for e in ents:
                dm = p4runtime_pb2.DirectMeterEntry()
                dm.table_entry.CopyFrom(self.read_entry(ti, e))
                rates = e.meter.get_rates() if e.meter is not None else []
                if rates:
                    dm.config.CopyFrom(_meter_config(rates))
                out.append(dm)
        return out

    def write_register(self, op: int, r: Any) -> Undo:
        info, arr = self._indexed(self.registers, r.register_id, "register")
        if op != _UPD.MODIFY:
            raise bad("register entries can only be modified")
        i = self._index(r, arr.size, f"register {info.preamble.name}")
        if r.data.WhichOneof("data") != "bitstring":
            raise bad(f"register {info.preamble.name}: data must be a bitstring")
        v = decode(r.data.bitstring, arr.bitwidth, f"register {info.preamble.name}")
        old = arr.read(i)
        arr.write(i, v)
        return lambda: arr.write(i, old)

    def read_registers(self, req: Any) -> list:
        out = []
        for info, arr, idxs in self._read_cells(self.registers, req.register_id, req, "register"):
            for i in idxs:
                re_ = p4runtime_pb2.RegisterEntry(register_id=info.preamble.id)
                re_.index.index = i
                re_.data.bitstring = enc(arr.read(i))
                out.append(re_)
        return out

    # -- packet replication engine ---------------------------------------------
    @staticmethod
    def _replicas(msg: Any, what: str) -> tuple[list[tuple[int, int]], int]:
        reps: list[tuple[int, int]] = []
        form = 0
        for r in msg.replicas:
            kind = r.WhichOneof("port_kind")
            if kind == "port":
                port = decode(r.port, 32, f"{what} replica port")
                form = 1
            else:
                port = r.egress_port
            if (port, r.instance) in reps:
                raise bad(f"{what}: replica (port {port}, instance {r.instance}) given twice")
            if r.instance >> 16:
                raise bad(f"{what}: instance {r.instance} does not fit in 16 bits")
            reps.append((port, r.instance))
        return reps, form

    def _mc_install(self, gid: int, reps: list[tuple[int, int]]) -> list[int]:
        pre = self.sw.pre
        pre.mc_mgrp_create(gid)
        nodes = []
        by_rid: dict[int, list[int]] = {}
        for port, rid in reps:
            by_rid.setdefault(rid, []).append(port)
        for rid, ports in by_rid.items():
            h = pre.mc_node_create(rid, ports)
            pre.mc_node_associate(gid, h)
            nodes.append(h)
        return nodes

    def _mc_remove(self, gid: int, nodes: list[int]) -> None:
        pre = self.sw.pre
        for h in nodes:
            pre.mc_node_destroy(h)
        pre.mc_mgrp_destroy(gid)

    def write_pre(self, op: int, pe: Any) -> Undo:
        which = pe.WhichOneof("type")
        if which == "multicast_group_entry":
            return self._write_mcast(op, pe.multicast_group_entry)
        if which == "clone_session_entry":
            return self._write_clone(op, pe.clone_session_entry)
        raise bad("packet replication engine entry without a type")

    def _write_mcast(self, op: int, m: Any) -> Undo:
        gid = m.multicast_group_id
        if gid == 0 or gid >= HIDDEN_MGRP_BASE:
            raise bad(f"multicast group id {gid} is out of range (1..{HIDDEN_MGRP_BASE - 1})")
        old = self.mcast.get(gid)
        if op == _UPD.INSERT and old is not None:
            raise P4RTError(Code.ALREADY_EXISTS, f"multicast group {gid} exists")
        if op in (_UPD.MODIFY, _UPD.DELETE) and old is None:
            raise P4RTError(Code.NOT_FOUND, f"no multicast group {gid}")
        if op == _UPD.DELETE:
            self._mc_remove(gid, old[2])
            del self.mcast[gid]

            def undo_del() -> None:
                self.mcast[gid] = (old[0], old[1], self._mc_install(gid, old[0]), old[3])
            return undo_del
        reps, form = self._replicas(m, f"multicast group {gid}")
        try:
            if old is not None:
                self._mc_remove(gid, old[2])
            self.mcast[gid] = (reps, form, self._mc_install(gid, reps), m.metadata)
        except Exception as e:  # noqa: BLE001
            raise from_switch_error(e) from None

        def undo() -> None:
            cur = self.mcast.pop(gid)
            self._mc_remove(gid, cur[2])
            if old is not None:
                self.mcast[gid] = (old[0], old[1], self._mc_install(gid, old[0]), old[3])
        return undo

    def _write_clone(self, op: int, c: Any) -> Undo:
        sid = c.session_id
        if sid >= 32768:
            raise bad(f"clone session id {sid} is out of range (0..32767)")
        old = self.clones.get(sid)
        if op == _UPD.INSERT and old is not None:
            raise P4RTError(Code.ALREADY_EXISTS, f"clone session {sid} exists")
        if op in (_UPD.MODIFY, _UPD.DELETE) and old is None:
            raise P4RTError(Code.NOT_FOUND, f"no clone session {sid}")
        if op == _UPD.DELETE:
            self._clone_remove(sid)
            del self.clones[sid]

            def undo_del() -> None:
                self._clone_install(old)
                self.clones[sid] = old
            return undo_del
        reps, _ = self._replicas(c, f"clone session {sid}")
        if not reps:
            raise bad(f"clone session {sid}: no replicas")
        if c.packet_length_bytes < 0:
            raise bad("negative packet_length_bytes")
        if old is not None:
            self._clone_remove(sid)
        saved = copy.deepcopy(c)
        try:
            self._clone_install(saved)
        except Exception as e:  # noqa: BLE001
            if old is not None:
                self._clone_install(old)
            raise from_switch_error(e) from None
        self.clones[sid] = saved

        def undo() -> None:
            self._clone_remove(sid)
            del self.clones[sid]
            if old is not None:
                self._clone_install(old)
                self.clones[sid] = old
        return undo

    def _clone_install(self, c: Any) -> None:
        reps, _ = self._replicas(c, "clone session")
        cs = self.sw.clone_sessions
        if len(reps) == 1 and reps[0][1] == 0:
            cs.add(c.session_id, port=reps[0][0], truncate=c.packet_length_bytes)
        else:
            gid = HIDDEN_MGRP_BASE + c.session_id
            nodes = self._mc_install(gid, reps)
            self.mcast_hidden = getattr(self, "mcast_hidden", {})
            self.mcast_hidden[c.session_id] = nodes
            cs.add(c.session_id, mgrp=gid, truncate=c.packet_length_bytes)

    def _clone_remove(self, sid: int) -> None:
        self.sw.clone_sessions.delete(sid)
        hidden = getattr(self, "mcast_hidden", {})
        if sid in hidden:
            self._mc_remove(HIDDEN_MGRP_BASE + sid, hidden.pop(sid))

    def read_pre(self, req: Any) -> list:
        which = req.WhichOneof("type")
        out = []
        if which in (None, "multicast_group_entry"):
            want = req.multicast_group_entry.multicast_group_id if which else 0
            for gid in sorted(self.mcast):
                if want and gid != want:
                    continue
                reps, form, _, md = self.mcast[gid]
                pe = p4runtime_pb2.PacketReplicationEngineEntry()
                m = pe.multicast_group_entry
                m.multicast_group_id = gid
                if md:
                    m.metadata = md
                for port, rid in reps:
                    if form:
                        m.replicas.add(port=enc(port), instance=rid)
                    else:
                        m.replicas.add(egress_port=port, instance=rid)
                out.append(pe)
        if which in (None, "clone_session_entry"):
            want = req.clone_session_entry.session_id if which else 0
            for sid in sorted(self.clones):
                if want and sid != want:
                    continue
                pe = p4runtime_pb2.PacketReplicationEngineEntry()
                pe.clone_session_entry.CopyFrom(self.clones[sid])
                out.append(pe)
        return out

    # -- value sets -----------------------------------------------------------------
    def write_value_set(self, op: int, v: Any) -> Undo:
        hit = self.value_sets.get(v.value_set_id)
        if hit is None:
            raise P4RTError(Code.NOT_FOUND, f"no value set with id {v.value_set_id}")
        info, vs = hit
        if op != _UPD.MODIFY:
            raise bad("value set entries can only be modified")
        if info.size and len(v.members) > info.size:
            raise P4RTError(Code.RESOURCE_EXHAUSTED, f"value set {info.preamble.name}: "
                            f"{len(v.members)} members > size {info.size}")
        fields = list(info.match)
        vals = []
        for mem in v.members:
            value = mask = 0
            masked = False
            given = {fm.field_id: fm for fm in mem.match}
            if len(given) != len(mem.match):
                raise bad(f"value set {info.preamble.name}: a field given twice")
            for f in fields:
                fm = given.pop(f.id, None)
                w = f.bitwidth
                fv, fmask = 0, 0
                if fm is not None:
                    which = fm.WhichOneof("field_match_type")
                    if which == "exact":
                        fv, fmask = decode(fm.exact.value, w, f.name), (1 << w) - 1
                    elif which == "ternary":
                        fv = decode(fm.ternary.value, w, f.name)
                        fmask = decode(fm.ternary.mask, w, f.name)
                        masked = True
                    else:
                        raise bad(f"value set {info.preamble.name}: {which} match not supported")
                elif f.match_type == _MF.EXACT:
                    raise bad(f"value set {info.preamble.name}: field {f.name} missing")
                else:
                    masked = True
                value = (value << w) | fv
                mask = (mask << w) | fmask
            if given:
                raise bad(f"value set {info.preamble.name}: unknown field id {next(iter(given))}")
            vals.append((value, mask if masked else None))
        old = list(vs.values)
        old_msgs = self.vsets.get(v.value_set_id, [])
        vs.clear()
        for value, mask in vals:
            vs.add(value, mask)
        self.vsets[v.value_set_id] = [copy.deepcopy(m) for m in v.members]

        def undo() -> None:
            vs.clear()
            for value, mask in old:
                vs.add(value, mask)
            self.vsets[v.value_set_id] = old_msgs
        return undo

    def read_value_sets(self, req: Any) -> list:
        ids = [req.value_set_id] if req.value_set_id else list(self.value_sets)
        out = []
        for vid in ids:
            if vid not in self.value_sets:
                raise P4RTError(Code.NOT_FOUND, f"no value set with id {vid}")
            ve = p4runtime_pb2.ValueSetEntry(value_set_id=vid)
            ve.members.extend(self.vsets.get(vid, []))
            out.append(ve)
        return out

    # -- packet I/O ----------------------------------------------------------------
    def packet_out_frame(self, po: Any) -> bytes:
        """PacketOut -> frame for the CPU port (the packet_out header prepended)."""
        fields = self._pout_fields
        if fields is None:
            if len(po.metadata):
                raise bad("the P4Info has no packet_out header, but metadata was given")
            return po.payload
        md = {m.metadata_id: m.value for m in po.metadata}
        if len(md) != len(po.metadata):
            raise bad("packet_out: a metadata field given twice")
        hdr = 0
        for fid, name, width, limit in fields:
            raw = md.pop(fid, None)
            if raw is None:
                raise bad(f"packet_out: metadata field {name} (id {fid}) missing")
            if 0 < len(raw) <= limit:      # the common case; decode() has the messages
                v = int.from_bytes(raw, "big")
                if v >> width:
                    v = decode(raw, width, f"packet_out {name}")
            else:
                v = decode(raw, width, f"packet_out {name}")
            hdr = (hdr << width) | v
        if md:
            raise bad(f"packet_out: unknown metadata id {next(iter(md))}")
        pad, nb = self._pout_pad
        return (hdr << pad).to_bytes(nb, "big") + po.payload

    def packet_in_msg(self, frame: bytes) -> Any:
        """Frame the switch sent to the CPU port -> PacketIn (header split off)."""
        pi = p4runtime_pb2.PacketIn()
        self.fill_packet_in(pi, frame)
        return pi

    def fill_packet_in(self, pi: Any, frame: bytes) -> None:
        """Fill an empty PacketIn message in place (the server fills the one inside
        its StreamMessageResponse: no intermediate message, no CopyFrom)."""
        layout = self._pin_layout
        if layout is None or len(frame) < layout[0]:
            pi.payload = frame
            return
        n, drop, fields = layout
        hdr = int.from_bytes(frame[:n], "big") >> drop
        add = pi.metadata.add
        for fid, shift, mask in fields:
            v = (hdr >> shift) & mask
            add(metadata_id=fid, value=enc(v))
        pi.payload = frame[n:]

    # -- digests ----------------------------------------------------------------------
    def digest_data(self, info: Any, values: tuple) -> Any:
        d = p4data_pb2.P4Data()
        ts = info.type_spec
        if ts.WhichOneof("type_spec") in ("struct", "tuple") or len(values) > 1:
            tgt = d.struct if ts.WhichOneof("type_spec") != "tuple" else d.tuple
            for v in values:
                tgt.members.add(bitstring=enc(v))
        else:
            d.bitstring = enc(values[0] if values else 0)
        return d


def _packet_in_layout(cpm: Any) -> tuple[int, int, list[tuple[int, int, int]]] | None:
    """(header bytes, pad bits to drop, [(metadata id, shift, mask)]) of packet_in."""
    if cpm is None:
        return None
    total = sum(f.bitwidth for f in cpm.metadata)
    n = (total + 7) // 8
    fields = []
    rest = total
    for f in cpm.metadata:
        rest -= f.bitwidth
        fields.append((f.id, rest, (1 << f.bitwidth) - 1))
    return n, n * 8 - total, fields


def _packet_out_layout(cpm: Any) -> list[tuple[int, str, int, int]] | None:
    """[(metadata id, name, bitwidth, max byte count)] of packet_out, in header order."""
    if cpm is None:
        return None
    return [(f.id, f.name, f.bitwidth, max(1, nbytes(f.bitwidth))) for f in cpm.metadata]


def _field_msg(f: FieldInfo, p: Any) -> Any:
    fm = p4runtime_pb2.FieldMatch(field_id=f.id)
    if isinstance(p, Valid):
        fm.exact.value = enc(int(p.value))
    elif isinstance(p, Exact):
        fm.exact.value = enc(p.value)
    elif isinstance(p, Lpm):
        if p.prefix_len == 0:
            return None
        fm.lpm.value = enc(p.value)
        fm.lpm.prefix_len = p.prefix_len
    elif isinstance(p, Ternary):
        if p.mask == 0:
            return None
        fm.ternary.value = enc(p.value)
        fm.ternary.mask = enc(p.mask)
    elif isinstance(p, Range):
        if p.low == 0 and p.high == (1 << f.width) - 1:
            return None
        fm.range.low = enc(p.low)
        fm.range.high = enc(p.high)
    elif isinstance(p, Optional_):
        if p.value is None:
            return None
        fm.optional.value = enc(p.value)
    else:
        return None
    return fm


def _counter_data(d: Any, unit: int, pk: int, by: int) -> None:
    if unit in (1, 3, 0):
        d.byte_count = by
    if unit in (2, 3, 0):
        d.packet_count = pk


def _meter_rates(cfg: Any) -> list[tuple[float, int]]:
    """P4Runtime MeterConfig (per second) -> BMv2 rates (per microsecond)."""
    for name in ("cir", "cburst", "pir", "pburst"):
        if getattr(cfg, name) < 0:
            raise bad(f"meter config: negative {name}")
    if cfg.pir < cfg.cir:
        raise bad(f"meter config: pir {cfg.pir} < cir {cfg.cir}")
    return [(cfg.cir / 1e6, int(cfg.cburst)), (cfg.pir / 1e6, int(cfg.pburst))]


def _configure_meter(cell: Any, msg: Any) -> Undo:
    """Apply a (Direct)MeterEntry's config to a meter cell (no config: back to
    unconfigured); returns the undo that restores the cell's old rates."""
    old = cell.get_rates()
    if msg.HasField("config"):
        cell.set_rates(_meter_rates(msg.config))
    else:
        cell.reset_rates()
    return lambda: cell.set_rates(old) if old else cell.reset_rates()


def _meter_config(rates: list) -> Any:
    (cr, cb), (pr, pb) = rates[0], rates[-1]
    return p4runtime_pb2.MeterConfig(cir=round(cr * 1e6), cburst=int(cb), pir=round(pr * 1e6),
                                     pburst=int(pb))
