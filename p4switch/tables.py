"""Match tables, action profiles and action selectors with BMv2 semantics.

One lookup structure per table kind, chosen once at construction:

* **exact** (only exact / valid keys): one dict, key tuple -> entry.
* **lpm** (exact / valid keys plus one lpm key): one dict per prefix length,
  searched longest first; only non-empty lengths are visited.  Exact fields
  must match, so this is BMv2's trie semantics (prefix = exact bits + lpm bits).
* **ternary** (any ternary / range / optional key, or a JSON ``match_type`` of
  ternary/range): the key is packed into one integer and entries are grouped
  by mask ("tuple space search"): each distinct mask has a dict of masked
  value -> best entry, groups are visited in order of their best rank and the
  search stops as soon as no group can beat the current winner.  Entries with
  range fields live in a rank-ordered list with an explicit bounds check.

Priority (BMv2): in ternary tables the **smallest** priority number wins;
ties go to the smallest internal handle (BMv2 keeps its entry list in handle
order and takes the first minimum).  LPM fields inside a ternary table are
plain masks: the prefix length plays no role there, only the priority.

Handles (BMv2 ``MatchUnit``): the lowest free internal index is reused, and
the top 8 bits carry a per-slot version that is bumped on delete, so a stale
handle is rejected (``INVALID_HANDLE``).  The first entries get 0, 1, 2, ...

Values that are wider than their field but fit its byte count are masked to
the field width, as BMv2 does; values that need more bytes are BAD_MATCH_KEY.
Ternary values are ANDed with their mask, and LPM values with their prefix
(BMv2 stores them that way, so two spellings of the same entry are
duplicates).

The hot path is :meth:`Table.lookup`, a closure specialised per kind that
returns preallocated ``(hit, entry)`` tuples.
"""
from __future__ import annotations

import bisect
import heapq
import time
from dataclasses import dataclass
from typing import Any, Callable

from p4common.matchstr import Exact, Lpm, Optional_, Range, Ternary, Valid

from .errors import TableError, TableErrorCode

__all__ = [
    "KeyField", "Exact", "Lpm", "Ternary", "Range", "Optional_", "Valid",
    "Entry", "Table", "ActionProfile", "Member",
]

E = TableErrorCode
_MAX_INTERNAL = 0x00FFFFFF


@dataclass
class KeyField:
    name: str          # JSON key[].name, e.g. "hdr.ipv4.dstAddr"
    match_type: str    # "exact" | "lpm" | "ternary" | "range" | "optional" | "valid"
    bitwidth: int      # width of the key value (1 for "valid")
    mask: int | None = None   # JSON key[].mask: BMv2 also ANDs entry values with it


class Entry:
    """One table entry (or a table's default entry, whose handle is -1)."""

    __slots__ = ("handle", "action", "data", "member", "group", "priority", "match",
                 "packets", "bytes", "meter", "last_hit", "timeout_ms", "hit_result",
                 "_ikey", "_rank")

    def __init__(self, handle: int, action: Any, data: tuple, member: int | None = None,
                 group: int | None = None, priority: int = 0, match: list | None = None,
                 meter: Any = None, timeout_ms: int | None = None):
        self.handle = handle
        self.action = action
        self.data = data
        self.member = member
        self.group = group
        self.priority = priority
        self.match = match if match is not None else []
        self.packets = 0
        self.bytes = 0
        self.meter = meter
        self.last_hit = time.monotonic()
        self.timeout_ms = timeout_ms
        self.hit_result = (True, self)
        self._ikey: Any = None
        self._rank = 0

    @property
    def internal(self) -> int:
        """The BMv2 internal index (low 24 bits of the handle)."""
        return self.handle & _MAX_INTERNAL

    def __repr__(self) -> str:
        act = getattr(self.action, "name", None)
        return (f"Entry(handle={self.handle}, action={act}, data={self.data}, "
                f"member={self.member}, group={self.group}, priority={self.priority}, "
                f"match={self.match})")


def _action_name(action: Any) -> str:
    return getattr(action, "name", repr(action))


def _check_action_data(table: str, action: Any, data, code_name: str = "") -> tuple:
    """BAD_ACTION_DATA unless `data` has one int per param, each within its width."""
    params = list(getattr(action, "params", ()) or ())
    try:
        data = tuple(data)
    except TypeError:
        raise TableError(E.BAD_ACTION_DATA, table, f"action data must be a sequence, got {data!r}")
    if len(data) != len(params):
        raise TableError(E.BAD_ACTION_DATA, table,
                         f"action {_action_name(action)} takes {len(params)} parameter(s) "
                         f"({', '.join(p[0] for p in params)}), got {len(data)}")
    for v, (pname, width) in zip(data, params):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >> width:
            raise TableError(E.BAD_ACTION_DATA, table,
                             f"action {_action_name(action)}: value {v!r} for {pname} "
                             f"does not fit in {width} bits")
    return data


class Table:
    """A BMv2 match table; see the module docstring for the semantics."""

    def __init__(self, name: str, keys: list[KeyField], actions: list, max_size: int,
                 type: str = "simple", profile: "ActionProfile | None" = None,
                 with_counters: bool = False, direct_meter: Any = None,
                 support_timeout: bool = False, match_type: str = "exact"):
        if type not in ("simple", "indirect", "indirect_ws"):
            raise ValueError(f"table {name}: unknown table type {type!r}")
        if type != "simple" and profile is None:
            raise ValueError(f"table {name}: {type} table needs an action profile")
        self.name = name
        self.keys = list(keys)
        self.actions = list(actions)
        self.max_size = max(0, min(int(max_size), _MAX_INTERNAL))
        self.type = type
        self.profile = profile
        self.with_counters = with_counters
        self.direct_meter = direct_meter
        self.support_timeout = support_timeout
        self.match_type = match_type
        self.const_entries = False
        self.const_default_action = False   # action fixed, data may change
        self.const_default_entry = False    # action and data fixed

        self._actions_by_name = {a.name: a for a in self.actions}
        for k in self.keys:
            if k.match_type not in ("exact", "lpm", "ternary", "range", "optional", "valid"):
                raise ValueError(f"table {name}: key {k.name} has unknown match kind {k.match_type!r}")
        kinds = {k.match_type for k in self.keys}
        n_lpm = sum(1 for k in self.keys if k.match_type == "lpm")
        if (match_type in ("ternary", "range") or kinds & {"ternary", "range", "optional"}
                or n_lpm > 1):
            self.kind = "ternary"
        elif n_lpm == 1:
            self.kind = "lpm"
        else:
            self.kind = "exact"
        self._widths = [1 if k.match_type == "valid" else k.bitwidth for k in self.keys]

        # default entry: a no-op until the loader / control plane sets one
        self.default = Entry(-1, None, ())
        self._miss = (False, self.default)
        self._initial_default: tuple | None = None

        self._slots: list[Entry | None] = []
        self._versions: list[int] = []
        self._free: list[int] = []
        self._count = 0
        self._index: dict = {}          # (ikey, priority-or-None) -> Entry
        self._build_structures()

    # ------------------------------------------------------------------ build
    def _build_structures(self) -> None:
        """Create the empty lookup structure and the specialised lookup closure."""
        miss = self._miss
        timeout = self.support_timeout
        mono = time.monotonic
        if self.kind == "exact":
            d: dict = {}
            self._exact = d
            get = d.get

            def lookup(key, nbytes):
                e = get(key)
                if e is None:
                    return miss
                e.packets += 1
                e.bytes += nbytes
                if timeout:
                    e.last_hit = mono()
                return e.hit_result
            self.lookup = lookup
            return

        if self.kind == "lpm":
            self._lpm_field = next(i for i, k in enumerate(self.keys) if k.match_type == "lpm")
            self._lpm_levels: dict[int, dict] = {}
            # (mask, dict), longest prefix first; replaced (never mutated) on change so a
            # lookup running concurrently with the control plane sees a consistent list
            self._lpm_order: list[tuple[int, dict]] = []
            tbl = self
            n = len(self.keys)
            li = self._lpm_field
            if n == 1:
                def lookup(key, nbytes):
                    k = key[0]
                    for m, d in tbl._lpm_order:
                        e = d.get(k & m)
                        if e is not None:
                            e.packets += 1
                            e.bytes += nbytes
                            if timeout:
                                e.last_hit = mono()
                            return e.hit_result
                    return miss
            else:
                def lookup(key, nbytes):
                    head = key[:li]
                    tail = key[li + 1:]
                    k = key[li]
                    for m, d in tbl._lpm_order:
                        e = d.get(head + (k & m,) + tail)
                        if e is not None:
                            e.packets += 1
                            e.bytes += nbytes
                            if timeout:
                                e.last_hit = mono()
                            return e.hit_result
                    return miss
            self.lookup = lookup
            return

        # ternary / range / optional
        self._pack = self._make_packer()
        self._groups: dict[int, dict[int, list]] = {}   # mask -> value -> sorted [(rank, entry)]
        self._group_best: dict[int, dict[int, tuple]] = {}  # mask -> value -> (rank, hit_result)
        self._group_min: dict[int, int] = {}                # mask -> best rank in the mask
        # Both lists are replaced, never mutated, so a concurrent lookup sees a snapshot.
        # probes sorted by best rank: (rank, mask, best-dict, -1, None) for a mask with
        # several values, (rank, mask, None, value, hit) for a mask with a single value
        self._group_order: list[tuple] = []
        self._linear: list[tuple] = []                        # (rank, value, mask, ranges, entry)
        pack = self._pack
        tbl = self
        inf = float("inf")

        def lookup(key, nbytes):
            k = pack(key)
            best_rank = inf
            best = None
            for gmin, m, d, v, hit in tbl._group_order:
                if gmin > best_rank:
                    break
                if d is None:
                    if k & m == v:
                        best_rank = gmin
                        best = hit
                    continue
                c = d.get(k & m)
                if c is not None and c[0] < best_rank:
                    best_rank, best = c
            for rank, v, m, ranges, e in tbl._linear:
                if rank >= best_rank:
                    break
                if k & m == v:
                    for i, lo, hi in ranges:
                        if not lo <= key[i] <= hi:
                            break
                    else:
                        best = e.hit_result
                        break
            if best is None:
                return miss
            e = best[1]
            e.packets += 1
            e.bytes += nbytes
            if timeout:
                e.last_hit = mono()
            return best
        self.lookup = lookup

    def _make_packer(self) -> Callable[[tuple], int]:
        """A function packing a key tuple into one int (first field most significant)."""
        widths = self._widths
        n = len(widths)
        if n == 0:
            return lambda key: 0
        if n == 1:
            return lambda key: key[0]
        shifts = []
        acc = 0
        for w in reversed(widths):
            shifts.append(acc)
            acc += w
        shifts.reverse()
        terms = " | ".join(f"(key[{i}] << {s})" if s else f"key[{i}]" for i, s in enumerate(shifts))
        # Generated from integers only: a specialised packer is ~3x faster than a loop.
        return eval(f"lambda key: {terms}")  # noqa: S307

    # ------------------------------------------------------------ key compile
    def _err(self, code: TableErrorCode, msg: str) -> TableError:
        return TableError(code, self.name, msg)

    def _field_value(self, k: KeyField, v: Any, what: str = "value") -> int:
        """Check a value against the field's byte width and mask it to the bit width."""
        width = 1 if k.match_type == "valid" else k.bitwidth
        if isinstance(v, bool):
            v = int(v)
        if not isinstance(v, int) or v < 0:
            raise self._err(E.BAD_MATCH_KEY, f"key {k.name}: {what} {v!r} is not an unsigned integer")
        if v >> (8 * ((width + 7) // 8)):
            raise self._err(E.BAD_MATCH_KEY, f"key {k.name}: {what} {v:#x} does not fit in {width} bits")
        v &= (1 << width) - 1
        if k.mask is not None and what == "value":
            v &= k.mask
        return v

    def _compile(self, match: list) -> tuple:
        """Match params -> (ikey for the structure, normalised params for the entry)."""
        if match is None:
            match = []
        match = list(match)
        if len(match) != len(self.keys):
            raise self._err(E.BAD_MATCH_KEY,
                            f"expected {len(self.keys)} match field(s) "
                            f"({', '.join(f'{k.name}:{k.match_type}' for k in self.keys)}), "
                            f"got {len(match)}")
        vals: list[int] = []      # per field value (masked)
        masks: list[int] = []     # per field mask (ternary kinds)
        ranges: list[tuple] = []
        norm: list = []           # the params as stored (BMv2 keeps masked values)
        lpm_plen = None
        for i, (k, p) in enumerate(zip(self.keys, match)):
            width = 1 if k.match_type == "valid" else k.bitwidth
            full = (1 << width) - 1
            mt = k.match_type
            if isinstance(p, int) and not isinstance(p, bool) and mt in ("exact", "valid"):
                p = Exact(p)
            if mt == "exact":
                if not isinstance(p, Exact):
                    raise self._bad_kind(k, p)
                v, m = self._field_value(k, p.value), full
                norm.append(Exact(v))
            elif mt == "valid":
                if isinstance(p, Valid):
                    v = int(bool(p.value))
                elif isinstance(p, Exact) and p.value in (0, 1):
                    v = p.value
                else:
                    raise self._bad_kind(k, p)
                m = 1
                norm.append(Valid(bool(v)))
            elif mt == "lpm":
                if isinstance(p, Exact):
                    p = Lpm(p.value, width)
                if not isinstance(p, Lpm):
                    raise self._bad_kind(k, p)
                pl = p.prefix_len
                if not isinstance(pl, int) or not 0 <= pl <= width:
                    raise self._err(E.BAD_MATCH_KEY, f"key {k.name}: prefix length {pl!r} not in 0..{width}")
                m = full ^ ((1 << (width - pl)) - 1)
                v = self._field_value(k, p.value) & m
                lpm_plen = pl
                norm.append(Lpm(v, pl))
            elif mt in ("ternary", "optional"):
                if isinstance(p, Optional_):
                    if p.value is None:
                        v, m = 0, 0
                    else:
                        v, m = self._field_value(k, p.value), full
                elif isinstance(p, Ternary):
                    m = self._field_value(k, p.mask, "mask")
                    v = self._field_value(k, p.value) & m
                elif isinstance(p, Exact):
                    v, m = self._field_value(k, p.value), full
                else:
                    raise self._bad_kind(k, p)
                if mt == "optional" and m not in (0, full):
                    raise self._err(E.BAD_MATCH_KEY, f"key {k.name}: optional mask must be 0 or all ones")
                if isinstance(p, Optional_):
                    norm.append(Optional_(None if m == 0 else v))
                elif isinstance(p, Ternary):
                    norm.append(Ternary(v, m))
                else:
                    norm.append(Exact(v))
            elif mt == "range":
                if isinstance(p, Exact):
                    p = Range(p.value, p.value)
                if not isinstance(p, Range):
                    raise self._bad_kind(k, p)
                lo = self._field_value(k, p.low, "low")
                hi = self._field_value(k, p.high, "high")
                if lo > hi:
                    raise self._err(E.BAD_MATCH_KEY, f"key {k.name}: range low {lo:#x} > high {hi:#x}")
                ranges.append((i, lo, hi))
                norm.append(Range(lo, hi))
                v, m = 0, 0
            else:  # pragma: no cover - rejected in __init__
                raise self._bad_kind(k, p)
            vals.append(v)
            masks.append(m)
        if self.kind == "exact":
            return tuple(vals), norm
        if self.kind == "lpm":
            return ((vals[0] if len(vals) == 1 else tuple(vals)), lpm_plen), norm
        packed_v = self._pack(tuple(vals))
        packed_m = self._pack(tuple(masks))
        return (packed_v, packed_m, tuple(ranges)), norm

    def _bad_kind(self, k: KeyField, p: Any) -> TableError:
        return self._err(E.BAD_MATCH_KEY,
                         f"key {k.name} is {k.match_type}; got {type(p).__name__} {p!r}")

    def _index_key(self, ikey: tuple, priority: int) -> tuple:
        return (ikey, priority if self.kind == "ternary" else None)

    # --------------------------------------------------------- action checks
    def _resolve_action(self, action: Any) -> Any:
        if isinstance(action, str):
            a = self._actions_by_name.get(action)
        else:
            a = self._actions_by_name.get(getattr(action, "name", None))
            if a is not None and a is not action and getattr(a, "id", None) != getattr(action, "id", None):
                a = None
        if a is None:
            raise self._err(E.INVALID_ACTION_NAME,
                            f"action {_action_name(action)} is not an action of this table "
                            f"(actions: {', '.join(self._actions_by_name) or 'none'})")
        return a

    def _check_target(self, action, data, member, group) -> tuple:
        """Validate what an entry points at; returns (action, data, member, group)."""
        if self.type == "simple":
            if member is not None or group is not None:
                raise self._err(E.WRONG_TABLE_TYPE, "direct table: entries take an action, not a member/group")
            if action is None:
                raise self._err(E.INVALID_ACTION_NAME, "an action is required")
            a = self._resolve_action(action)
            return a, _check_action_data(self.name, a, data if data is not None else ()), None, None
        prof = self.profile
        if action is not None:
            raise self._err(E.WRONG_TABLE_TYPE,
                            f"{self.type} table: entries point at a member or group of {prof.name}")
        if (member is None) == (group is None):
            raise self._err(E.WRONG_TABLE_TYPE,
                            f"{self.type} table: give exactly one of member or group")
        if group is not None:
            if self.type != "indirect_ws":
                raise self._err(E.WRONG_TABLE_TYPE, "indirect table without selector: groups not allowed")
            if group not in prof.groups:
                raise self._err(E.INVALID_GROUP, f"group {group} does not exist in {prof.name}")
            if not prof.groups[group]:
                raise self._err(E.EMPTY_GROUP, f"group {group} of {prof.name} is empty")
        elif member not in prof.members:
            raise self._err(E.INVALID_MEMBER, f"member {member} does not exist in {prof.name}")
        return None, (), member, group

    def _ref(self, member, group, delta: int) -> None:
        if self.profile is None:
            return
        if member is not None:
            self.profile._member_refs[member] = self.profile._member_refs.get(member, 0) + delta
        if group is not None:
            self.profile._group_refs[group] = self.profile._group_refs.get(group, 0) + delta

    def _check_mutable(self) -> None:
        if self.const_entries:
            raise self._err(E.CONST_TABLE, "table entries are const (declared in the P4 program)")

    # ----------------------------------------------------------- structures
    def _insert(self, e: Entry, ikey) -> None:
        if self.kind == "exact":
            self._exact[ikey] = e
        elif self.kind == "lpm":
            k, plen = ikey
            lvl = self._lpm_levels.get(plen)
            if lvl is None:
                lvl = self._lpm_levels[plen] = {}
                self._rebuild_lpm_order()
            lvl[k] = e
        else:
            v, m, ranges = ikey
            e._rank = e.priority * (1 << 24) + e.internal
            if ranges:
                lin = list(self._linear)
                bisect.insort(lin, (e._rank, v, m, ranges, e), key=lambda t: t[0])
                self._linear = lin
            else:
                lst = self._groups.setdefault(m, {}).setdefault(v, [])
                bisect.insort(lst, (e._rank, e), key=lambda t: t[0])
                self._update_group(m, v)

    def _remove(self, e: Entry) -> None:
        ikey = e._ikey
        if self.kind == "exact":
            del self._exact[ikey]
        elif self.kind == "lpm":
            k, plen = ikey
            lvl = self._lpm_levels[plen]
            del lvl[k]
            if not lvl:
                del self._lpm_levels[plen]
                self._rebuild_lpm_order()
        else:
            v, m, ranges = ikey
            if ranges:
                self._linear = [t for t in self._linear if t[4] is not e]
            else:
                lst = self._groups[m][v]
                lst[:] = [t for t in lst if t[1] is not e]
                if not lst:
                    del self._groups[m][v]
                    if not self._groups[m]:
                        del self._groups[m]
                self._update_group(m, v)

    def _rebuild_lpm_order(self) -> None:
        li = self._lpm_field
        width = self._widths[li]
        full = (1 << width) - 1
        order = []
        for plen in sorted(self._lpm_levels, reverse=True):
            m = full ^ ((1 << (width - plen)) - 1)
            order.append((m, self._lpm_levels[plen]))
        self._lpm_order = order

    def _update_group(self, m: int, v: int) -> None:
        """Refresh the best entry for (mask, value), the mask's best rank and the
        group visiting order.  Cost: O(values of this mask) only when the mask's
        best entry goes away, else O(number of masks)."""
        best = self._group_best.setdefault(m, {})
        old = best.get(v)
        lst = self._groups.get(m, {}).get(v)
        if lst:
            rank, e = lst[0]
            best[v] = (rank, e.hit_result)
        else:
            best.pop(v, None)
        if not best:
            del self._group_best[m]
            self._group_min.pop(m, None)
        else:
            cur = self._group_min.get(m)
            new = best.get(v)
            if cur is None or (new is not None and new[0] < cur):
                self._group_min[m] = new[0] if new is not None else min(r for r, _ in best.values())
            elif old is not None and old[0] == cur and (new is None or new[0] != cur):
                self._group_min[m] = min(r for r, _ in best.values())
        order = []
        for mask, d in self._group_best.items():
            if len(d) == 1:
                (val, (rank, hit)), = d.items()
                order.append((rank, mask, None, val, hit))
            else:
                order.append((self._group_min[mask], mask, d, -1, None))
        order.sort(key=lambda t: t[0])
        self._group_order = order

    # --------------------------------------------------------- control plane
    def _alloc(self) -> int:
        if self._free:
            return heapq.heappop(self._free)
        i = len(self._slots)
        self._slots.append(None)
        self._versions.append(0)
        return i

    def _slot(self, handle: Any) -> Entry:
        if not isinstance(handle, int) or handle < 0:
            raise self._err(E.INVALID_HANDLE, f"invalid entry handle {handle!r}")
        i = handle & _MAX_INTERNAL
        if i >= len(self._slots) or self._slots[i] is None or self._slots[i].handle != handle:
            raise self._err(E.INVALID_HANDLE, f"no entry with handle {handle}")
        return self._slots[i]

    def add_entry(self, match: list, action: Any, data=(), priority: int = 0,
                  member: int | None = None, group: int | None = None,
                  timeout_ms: int | None = None) -> int:
        """Add an entry; returns its handle (BMv2 order of checks and errors)."""
        self._check_mutable()
        ikey, norm = self._compile(match)
        if priority is None:
            priority = 0
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise self._err(E.BAD_MATCH_KEY, f"priority must be an integer, got {priority!r}")
        action, data, member, group = self._check_target(action, data, member, group)
        ix = self._index_key(ikey, priority)
        if ix in self._index:
            raise self._err(E.DUPLICATE_ENTRY,
                            f"an entry with this match key already exists "
                            f"(handle {self._index[ix].handle})")
        if self._count >= self.max_size:
            raise self._err(E.TABLE_FULL, f"table is full ({self.max_size} entries)")
        i = self._alloc()
        handle = ((self._versions[i] & 0xFF) << 24) | i
        meter = None
        dm = self.direct_meter
        if dm is not None and i < getattr(dm, "size", 0):
            meter = dm.cell(i)
        e = Entry(handle, action, data, member, group, priority, norm, meter, timeout_ms)
        e._ikey = ikey
        self._slots[i] = e
        self._index[ix] = e
        self._count += 1
        self._insert(e, ikey)
        self._ref(member, group, +1)
        return handle

    def modify_entry(self, handle: int, action: Any, data=(), member: int | None = None,
                     group: int | None = None) -> None:
        self._check_mutable()
        e = self._slot(handle)
        action, data, member, group = self._check_target(action, data, member, group)
        self._ref(e.member, e.group, -1)
        self._ref(member, group, +1)
        e.action, e.data, e.member, e.group = action, data, member, group

    def delete_entry(self, handle: int) -> None:
        self._check_mutable()
        e = self._slot(handle)
        i = e.internal
        self._remove(e)
        del self._index[self._index_key(e._ikey, e.priority)]
        self._slots[i] = None
        self._versions[i] = (self._versions[i] + 1) & 0xFF
        heapq.heappush(self._free, i)
        self._count -= 1
        self._ref(e.member, e.group, -1)

    def clear(self) -> None:
        """Delete every entry; handles start again from 0 (BMv2 ``table_clear``)."""
        self._check_mutable()
        for e in self._slots:
            if e is not None:
                self._ref(e.member, e.group, -1)
        self._slots = []
        self._versions = []
        self._free = []
        self._count = 0
        self._index = {}
        if self.kind == "exact":
            self._exact.clear()
        elif self.kind == "lpm":
            self._lpm_levels.clear()
            self._lpm_order = []
        else:
            self._groups.clear()
            self._group_best.clear()
            self._group_min.clear()
            self._group_order = []
            self._linear = []

    def set_initial_default(self, action: Any, data=(), const_action: bool = False,
                            const_entry: bool = False, member: int | None = None,
                            group: int | None = None) -> None:
        """Loader hook: the JSON ``default_entry``; :meth:`reset_default` restores it."""
        self.const_default_action = False
        self.const_default_entry = False
        self._apply_default(action, data, member, group)
        self._initial_default = (self.default.action, self.default.data,
                                 self.default.member, self.default.group)
        self.const_default_action = bool(const_action)
        self.const_default_entry = bool(const_entry)

    def _apply_default(self, action, data, member, group) -> None:
        if self.type != "simple" and action is None:
            action, data, member, group = self._check_target(None, (), member, group)
        else:
            if member is not None or group is not None:
                raise self._err(E.WRONG_TABLE_TYPE, "default entry: give an action")
            action = self._resolve_action(action)
            data = _check_action_data(self.name, action, data if data is not None else ())
        d = self.default
        self._ref(d.member, d.group, -1)
        self._ref(member, group, +1)
        d.action, d.data, d.member, d.group = action, data, member, group

    def set_default(self, action: Any, data=(), member: int | None = None,
                    group: int | None = None) -> None:
        """Change the miss action (``table_set_default``); BMv2 const checks."""
        if self.const_default_entry:
            raise self._err(E.CONST_TABLE, "the default entry is const")
        if self.const_default_action and action is not None:
            cur = self.default.action
            if _action_name(action) != _action_name(cur) and action is not cur:
                raise self._err(E.CONST_TABLE,
                                f"the default action is const ({_action_name(cur)})")
        if self._initial_default is None:
            # no JSON default was recorded: the first one set becomes the reset target
            self._apply_default(action, data, member, group)
            self._initial_default = (self.default.action, self.default.data,
                                     self.default.member, self.default.group)
            return
        self._apply_default(action, data, member, group)

    def reset_default(self) -> None:
        """Back to the P4 program's default action (or no-op if it had none)."""
        d = self.default
        self._ref(d.member, d.group, -1)
        if self._initial_default is None:
            d.action, d.data, d.member, d.group = None, (), None, None
            return
        d.action, d.data, d.member, d.group = self._initial_default
        self._ref(d.member, d.group, +1)

    def entries(self) -> list[Entry]:
        """All entries, in handle (internal index) order, as BMv2 dumps them."""
        return [e for e in self._slots if e is not None]

    def get_entry(self, handle: int) -> Entry:
        return self._slot(handle)

    def find_entry(self, match: list, priority: int = 0) -> Entry | None:
        """The entry with exactly this match (and priority, for ternary tables)."""
        ikey, _ = self._compile(match)
        return self._index.get(self._index_key(ikey, priority))

    def num_entries(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    # ----------------------------------------------------- counters / ageing
    def read_counters(self, handle: int) -> tuple[int, int]:
        e = self._slot(handle)
        return e.packets, e.bytes

    def write_counters(self, handle: int, packets: int, nbytes: int) -> None:
        e = self._slot(handle)
        e.packets, e.bytes = int(packets), int(nbytes)

    def reset_counters(self) -> None:
        for e in self._slots:
            if e is not None:
                e.packets = e.bytes = 0

    def set_entry_ttl(self, handle: int, timeout_ms: int) -> None:
        """``table_set_timeout``: the timeout restarts now."""
        e = self._slot(handle)
        e.timeout_ms = int(timeout_ms)
        e.last_hit = time.monotonic()

    def idle_entries(self, now: float | None = None) -> list[Entry]:
        """Entries whose idle timeout expired (not hit for ``timeout_ms``)."""
        if now is None:
            now = time.monotonic()
        out = []
        for e in self._slots:
            if e is not None and e.timeout_ms and (now - e.last_hit) * 1000.0 >= e.timeout_ms:
                out.append(e)
        return out

    def __repr__(self) -> str:
        return f"<Table {self.name} {self.kind} {self._count}/{self.max_size}>"


# ======================================================================
# Action profiles and selectors
# ======================================================================

class Member:
    """An action-profile member: an action with its data."""

    __slots__ = ("handle", "action", "data")

    def __init__(self, handle: int, action: Any, data: tuple):
        self.handle = handle
        self.action = action
        self.data = data

    def __repr__(self) -> str:
        return f"Member({self.handle}, {_action_name(self.action)}, {self.data})"


class ActionProfile:
    """BMv2 action profile (``selector=True``: action selector with groups).

    Handles are the lowest free numbers (0, 1, 2, ... in creation order).
    A group keeps its members sorted by handle, as BMv2's set does, and
    ``select`` returns ``members[hash % n]`` over that order.
    A member that is in a group or used by a table entry cannot be deleted;
    a group used by an entry cannot be deleted (a non-empty one can).
    """

    def __init__(self, name: str, actions: list, max_size: int = 0, selector: bool = False,
                 hash_algo: Any = None):
        self.name = name
        self.actions = list(actions)
        self.max_size = max_size
        self.selector = selector
        self.hash_algo = hash_algo
        self._actions_by_name = {a.name: a for a in self.actions}
        self.members: dict[int, Member] = {}
        self.groups: dict[int, list[int]] = {}
        self._free_mbr: list[int] = []
        self._next_mbr = 0
        self._free_grp: list[int] = []
        self._next_grp = 0
        self._member_refs: dict[int, int] = {}
        self._group_refs: dict[int, int] = {}

    def _err(self, code, msg) -> TableError:
        return TableError(code, self.name, msg)

    def _action(self, action) -> Any:
        key = action if isinstance(action, str) else getattr(action, "name", None)
        a = self._actions_by_name.get(key)
        if a is None:
            raise self._err(E.INVALID_ACTION_NAME,
                            f"action {_action_name(action)} is not an action of this profile")
        return a

    def add_member(self, action, data=()) -> int:
        a = self._action(action)
        data = _check_action_data(self.name, a, data)
        if self._free_mbr:
            h = heapq.heappop(self._free_mbr)
        else:
            h = self._next_mbr
            self._next_mbr += 1
        self.members[h] = Member(h, a, data)
        self._member_refs[h] = 0
        return h

    def _member(self, mbr) -> Member:
        m = self.members.get(mbr)
        if m is None:
            raise self._err(E.INVALID_MEMBER, f"member {mbr} does not exist")
        return m

    def _group(self, grp) -> list[int]:
        if not self.selector:
            raise self._err(E.WRONG_TABLE_TYPE, "action profile without selector has no groups")
        g = self.groups.get(grp)
        if g is None:
            raise self._err(E.INVALID_GROUP, f"group {grp} does not exist")
        return g

    def modify_member(self, mbr, action, data=()) -> None:
        m = self._member(mbr)
        a = self._action(action)
        m.data = _check_action_data(self.name, a, data)
        m.action = a

    def delete_member(self, mbr) -> None:
        self._member(mbr)
        if self._member_refs.get(mbr, 0) > 0:
            raise self._err(E.MEMBER_IN_USE, f"member {mbr} is used by a group or a table entry")
        del self.members[mbr]
        self._member_refs.pop(mbr, None)
        heapq.heappush(self._free_mbr, mbr)

    def create_group(self) -> int:
        if not self.selector:
            raise self._err(E.WRONG_TABLE_TYPE, "action profile without selector has no groups")
        if self._free_grp:
            g = heapq.heappop(self._free_grp)
        else:
            g = self._next_grp
            self._next_grp += 1
        self.groups[g] = []
        self._group_refs[g] = 0
        return g

    def delete_group(self, grp) -> None:
        members = self._group(grp)
        if self._group_refs.get(grp, 0) > 0:
            raise self._err(E.GROUP_IN_USE, f"group {grp} is used by a table entry")
        for m in members:
            self._member_refs[m] -= 1
        del self.groups[grp]
        self._group_refs.pop(grp, None)
        heapq.heappush(self._free_grp, grp)

    def add_member_to_group(self, mbr, grp) -> None:
        self._member(mbr)
        g = self._group(grp)
        i = bisect.bisect_left(g, mbr)
        if i < len(g) and g[i] == mbr:
            raise self._err(E.DUPLICATE_ENTRY, f"member {mbr} is already in group {grp}")
        g.insert(i, mbr)
        self._member_refs[mbr] += 1

    def remove_member_from_group(self, mbr, grp) -> None:
        self._member(mbr)
        g = self._group(grp)
        i = bisect.bisect_left(g, mbr)
        if i >= len(g) or g[i] != mbr:
            raise self._err(E.INVALID_MEMBER, f"member {mbr} is not in group {grp}")
        del g[i]
        self._member_refs[mbr] -= 1

    def get_member(self, mbr) -> Member:
        return self._member(mbr)

    def group_members(self, grp) -> list[int]:
        return list(self._group(grp))

    def select(self, grp: int, hash_value: int) -> Member:
        """BMv2 ``get_from_hash``: the (hash % n)-th member of the group, by handle."""
        g = self.groups.get(grp)
        if g is None:
            raise self._err(E.INVALID_GROUP, f"group {grp} does not exist")
        if not g:
            raise self._err(E.EMPTY_GROUP, f"group {grp} is empty")
        return self.members[g[hash_value % len(g)]]

    def __repr__(self) -> str:
        return (f"<ActionProfile {self.name} members={len(self.members)} "
                f"groups={len(self.groups)} selector={self.selector}>")
