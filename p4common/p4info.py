"""One shared home for looking things up in a P4Info.

Why: the STF runner, the P4Runtime server, the controller and the compiler's own
tests all need "find table X by id / full name / alias" and "find match field Y of
table X", and all need the same helpful error when a name is mistyped.  Having one
index (built once, at load time) keeps the rules and the messages identical.

The index works on a ``p4.config.v1.P4Info`` message (from
:mod:`p4common.proto`); it only reads it, never changes it.  Messages are
returned as they are, so callers get the generated, typed protobuf classes.

    idx = P4InfoIndex(load_p4info("prog.p4info.txtpb"))
    t = idx.tables["ipv4_lpm"]                  # alias, full name or id
    f = idx.match_field(t, "hdr.ipv4.dstAddr")  # name or id
    idx.tables["ipv4_lmp"]                      # P4InfoLookupError ... did you mean 'ipv4_lpm'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Generic, TypeVar

from p4common.p4ids import P4IdPrefix, prefix_of

M = TypeVar("M")  # a P4Info entity message (Table, Action, ...)
S = TypeVar("S")  # a sub-item message (MatchField, Action.Param, ...)


class EntityKind(Enum):
    """P4Info top-level entity lists that carry a Preamble, with their id prefix."""

    TABLE = ("tables", P4IdPrefix.TABLE, "table")
    ACTION = ("actions", P4IdPrefix.ACTION, "action")
    ACTION_PROFILE = ("action_profiles", P4IdPrefix.ACTION_PROFILE, "action profile")
    COUNTER = ("counters", P4IdPrefix.COUNTER, "counter")
    DIRECT_COUNTER = ("direct_counters", P4IdPrefix.DIRECT_COUNTER, "direct counter")
    METER = ("meters", P4IdPrefix.METER, "meter")
    DIRECT_METER = ("direct_meters", P4IdPrefix.DIRECT_METER, "direct meter")
    CONTROLLER_PACKET_METADATA = ("controller_packet_metadata", P4IdPrefix.CONTROLLER_HEADER,
                                  "controller packet metadata")
    VALUE_SET = ("value_sets", P4IdPrefix.VALUE_SET, "value set")
    REGISTER = ("registers", P4IdPrefix.REGISTER, "register")
    DIGEST = ("digests", P4IdPrefix.DIGEST, "digest")

    def __init__(self, field_name: str, prefix: P4IdPrefix, label: str):
        self.field_name = field_name
        self.prefix = prefix
        self.label = label


class P4InfoError(ValueError):
    """A P4Info that cannot be indexed or loaded (duplicate id, unreadable file...)."""


class P4InfoLookupError(KeyError):
    """A name or id that the P4Info does not have; carries close matches.

    ``str()`` gives a one-line message ending in "did you mean ...?" when there are
    candidates, so callers can show it to a user as it is.
    """

    def __init__(self, what: str, key: int | str, suggestions: list[str], scope: str = "",
                 known: list[str] | None = None):
        self.what = what
        self.key = key
        self.suggestions = suggestions
        self.scope = scope
        shown = f"0x{key:08x}" if isinstance(key, int) else repr(key)
        msg = f"no {what} {shown}" + (f" in {scope}" if scope else "")
        if suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
        elif known is not None:
            # nothing close: when the choice is small, say what there is
            msg += " (there are none)" if not known else (
                f" (known: {', '.join(known)})" if len(known) <= 8 else "")
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def _suggest(key: int | str, candidates: list[str], n: int = 3) -> list[str]:
    if not isinstance(key, str):
        return []
    close = difflib.get_close_matches(key, candidates, n=n, cutoff=0.6)
    if not close:  # a suffix the user half-remembers: "lpm" -> "MyIngress.ipv4_lpm"
        close = [c for c in candidates if c.endswith(key) or key in c][:n]
    return close


@dataclass
class _Named(Generic[S]):
    """Id/name index over a list of sub-items (match fields, params, metadata fields)."""

    what: str
    scope: str
    by_id: dict[int, S] = field(default_factory=dict)
    by_name: dict[str, S] = field(default_factory=dict)

    @classmethod
    def build(cls, what: str, scope: str, items: Any) -> "_Named[S]":
        idx: _Named[S] = cls(what, scope)
        for item in items:
            if item.id in idx.by_id:
                raise P4InfoError(f"{scope}: two {what}s with id {item.id}")
            if item.name in idx.by_name:
                raise P4InfoError(f"{scope}: two {what}s named {item.name!r}")
            idx.by_id[item.id] = item
            idx.by_name[item.name] = item
        return idx

    def get(self, key: int | str) -> S:
        found = self.by_id.get(key) if isinstance(key, int) else self.by_name.get(key)
        if found is None:
            raise P4InfoLookupError(self.what, key, _suggest(key, list(self.by_name)), self.scope,
                                    known=list(self.by_name))
        return found


class EntityIndex(Generic[M]):
    """All entities of one kind, by id, full name and alias.

    ``index[key]`` accepts an int id, a full name or an alias (full names are tried
    first); a miss raises :class:`P4InfoLookupError` with suggestions.
    """

    def __init__(self, kind: EntityKind, entities: Any):
        self.kind = kind
        self.by_id: dict[int, M] = {}
        self.by_name: dict[str, M] = {}
        self.by_alias: dict[str, M] = {}
        for ent in entities:
            pre = ent.preamble
            if pre.id in self.by_id:
                raise P4InfoError(f"two {kind.label}s with id 0x{pre.id:08x}: "
                                  f"{self.by_id[pre.id].preamble.name!r} and {pre.name!r}")
            if prefix_of(pre.id) != kind.prefix:
                raise P4InfoError(f"{kind.label} {pre.name!r}: id 0x{pre.id:08x} lacks prefix "
                                  f"0x{int(kind.prefix):02x}")
            if pre.name in self.by_name:
                raise P4InfoError(f"two {kind.label}s named {pre.name!r}")
            self.by_id[pre.id] = ent
            self.by_name[pre.name] = ent
            if pre.alias:
                self.by_alias.setdefault(pre.alias, ent)

    def __len__(self) -> int:
        return len(self.by_id)

    def __iter__(self) -> Iterator[M]:
        return iter(self.by_id.values())

    def __contains__(self, key: object) -> bool:
        return self.find(key) is not None  # type: ignore[arg-type]

    def find(self, key: int | str) -> M | None:
        """Like ``[]`` but returns None on a miss."""
        if isinstance(key, int):
            return self.by_id.get(key)
        return self.by_name.get(key) or self.by_alias.get(key)

    def __getitem__(self, key: int | str) -> M:
        found = self.find(key)
        if found is None:
            names = list(self.by_name) + [a for a in self.by_alias if a not in self.by_name]
            raise P4InfoLookupError(self.kind.label, key, _suggest(key, names), known=list(self.by_name))
        return found


class P4InfoIndex:
    """Read-only lookup over one P4Info message; build it once at load time."""

    def __init__(self, p4info: Any):
        self.p4info = p4info
        self.tables: EntityIndex[Any] = EntityIndex(EntityKind.TABLE, p4info.tables)
        self.actions: EntityIndex[Any] = EntityIndex(EntityKind.ACTION, p4info.actions)
        self.action_profiles: EntityIndex[Any] = EntityIndex(EntityKind.ACTION_PROFILE, p4info.action_profiles)
        self.counters: EntityIndex[Any] = EntityIndex(EntityKind.COUNTER, p4info.counters)
        self.direct_counters: EntityIndex[Any] = EntityIndex(EntityKind.DIRECT_COUNTER, p4info.direct_counters)
        self.meters: EntityIndex[Any] = EntityIndex(EntityKind.METER, p4info.meters)
        self.direct_meters: EntityIndex[Any] = EntityIndex(EntityKind.DIRECT_METER, p4info.direct_meters)
        self.controller_packet_metadata: EntityIndex[Any] = EntityIndex(
            EntityKind.CONTROLLER_PACKET_METADATA, p4info.controller_packet_metadata)
        self.value_sets: EntityIndex[Any] = EntityIndex(EntityKind.VALUE_SET, p4info.value_sets)
        self.registers: EntityIndex[Any] = EntityIndex(EntityKind.REGISTER, p4info.registers)
        self.digests: EntityIndex[Any] = EntityIndex(EntityKind.DIGEST, p4info.digests)
        self._by_kind: dict[EntityKind, EntityIndex[Any]] = {
            EntityKind.TABLE: self.tables, EntityKind.ACTION: self.actions,
            EntityKind.ACTION_PROFILE: self.action_profiles, EntityKind.COUNTER: self.counters,
            EntityKind.DIRECT_COUNTER: self.direct_counters, EntityKind.METER: self.meters,
            EntityKind.DIRECT_METER: self.direct_meters,
            EntityKind.CONTROLLER_PACKET_METADATA: self.controller_packet_metadata,
            EntityKind.VALUE_SET: self.value_sets, EntityKind.REGISTER: self.registers,
            EntityKind.DIGEST: self.digests,
        }
        self._match_fields = {t.preamble.id: _Named.build("match field", f"table {t.preamble.name!r}",
                                                          t.match_fields) for t in self.tables}
        self._params = {a.preamble.id: _Named.build("parameter", f"action {a.preamble.name!r}", a.params)
                        for a in self.actions}
        self._metadata = {c.preamble.id: _Named.build("metadata field",
                                                      f"controller packet metadata {c.preamble.name!r}",
                                                      c.metadata) for c in self.controller_packet_metadata}

    # -- any kind ------------------------------------------------------------------

    def entities(self, kind: EntityKind) -> EntityIndex[Any]:
        return self._by_kind[kind]

    def kind_of(self, obj_id: int) -> EntityKind | None:
        """The entity kind an id's prefix denotes, or None for an unknown prefix."""
        pfx = prefix_of(obj_id)
        return next((k for k in EntityKind if k.prefix == pfx), None)

    def by_id(self, obj_id: int) -> Any:
        """The entity with this id, whatever its kind."""
        kind = self.kind_of(obj_id)
        found = self._by_kind[kind].by_id.get(obj_id) if kind else None
        if found is None:
            raise P4InfoLookupError("P4Info object", obj_id, [])
        return found

    # -- entities with their sub-items --------------------------------------------

    def table(self, key: int | str) -> Any:
        return self.tables[key]

    def action(self, key: int | str) -> Any:
        return self.actions[key]

    def match_field(self, table: int | str | Any, key: int | str) -> Any:
        """A match field of a table (table given as key or message), by field id or name."""
        return self._match_fields[self._resolve(self.tables, table).preamble.id].get(key)

    def param(self, action: int | str | Any, key: int | str) -> Any:
        """An action parameter, by param id or name."""
        return self._params[self._resolve(self.actions, action).preamble.id].get(key)

    def packet_metadata_field(self, cpm: int | str | Any, key: int | str) -> Any:
        """A field of controller_packet_metadata ("packet_in" / "packet_out"), by id or name."""
        return self._metadata[self._resolve(self.controller_packet_metadata, cpm).preamble.id].get(key)

    def table_actions(self, table: int | str | Any) -> list[Any]:
        """The Action messages a table may use, in P4Info order."""
        t = self._resolve(self.tables, table)
        return [self.actions[ref.id] for ref in t.action_refs]

    def table_action(self, table: int | str | Any, action: int | str) -> Any:
        """An action of this table (id, name or alias); a miss lists the table's actions."""
        t = self._resolve(self.tables, table)
        allowed = self.table_actions(t)
        wanted = self.actions.find(action)
        if wanted is None or all(a.preamble.id != wanted.preamble.id for a in allowed):
            names = [a.preamble.name for a in allowed] + [a.preamble.alias for a in allowed]
            raise P4InfoLookupError("action", action, _suggest(action, names) if wanted is None
                                    else [a.preamble.name for a in allowed][:5],
                                    f"table {t.preamble.name!r}")
        return wanted

    @staticmethod
    def _resolve(index: EntityIndex[Any], obj: int | str | Any) -> Any:
        if isinstance(obj, (int, str)):
            return index[obj]
        return index[obj.preamble.id]


def load_p4info(path: str | Path) -> Any:
    """Read a P4Info file: text format (.txt, .txtpb, .pb.txt) or binary.

    Needs the generated modules (``python3 -m p4common.proto.build``).
    """
    from google.protobuf import text_format
    from google.protobuf.message import DecodeError

    from p4common.proto import p4info_pb2

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise P4InfoError(f"{p}: cannot read: {exc.strerror}") from None
    info = p4info_pb2.P4Info()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not p.suffix == ".bin":
        try:
            return text_format.Parse(text, info)
        except text_format.ParseError as exc:
            if p.suffix in (".txt", ".txtpb", ".pbtxt", ".textproto"):
                raise P4InfoError(f"{p}: not a text-format P4Info: {exc}") from None
    info = p4info_pb2.P4Info()
    try:
        info.ParseFromString(raw)
    except DecodeError as exc:
        raise P4InfoError(f"{p}: neither text nor binary P4Info: {exc}") from None
    return info
