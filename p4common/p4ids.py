"""P4Runtime object ids and aliases, computed the way p4c computes them.

Why this module exists: the compiler must write a P4Info whose ids and aliases are
identical to the ones real p4c would produce (controllers and saved table entries
refer to objects by id), and the P4Runtime server and controller need the same rules
to validate what they receive.  The rules (p4c ``control-plane/p4RuntimeSymbolTable``):

* Every P4Runtime-visible object has a *kind* whose 8-bit prefix comes from the
  ``P4Ids.Prefix`` enum of p4info.proto; its id is ``prefix << 24 | low24``.
* An ``@id(N)`` annotation wins.  If N's top byte is zero the kind's prefix is OR-ed
  in; a non-zero top byte must equal the prefix.  Two objects claiming the same id
  is an error.
* All other objects of a kind get ``low24 = jenkins_one_at_a_time(name) & 0xFFFFFF``.
  Names (the fully qualified control-plane name, without a leading ``.``) are
  processed in sorted (byte-wise) order, after every ``@id`` has been reserved; a
  collision is resolved by linear probing on the 32-bit hash value, so after a
  low24 of ``0xFFFFFF`` the next candidate is ``0x000000`` *of the same prefix*.
* Adding the same (kind, name) twice is not an error: the first one counts.
* The alias of an object is the shortest suffix of dot-separated components of its
  name that no other symbol (of *any* kind) shares; if even the full name is a
  suffix of another symbol, the full name is used.

Match-field and action-parameter ids are not hashed: they are 1, 2, 3... in
declaration order unless ``@id`` says otherwise (see :func:`sequential_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

LOW_BITS = 24
LOW_MASK = (1 << LOW_BITS) - 1
PREFIX_MASK = 0xFF << LOW_BITS
U32 = 0xFFFFFFFF


class P4IdPrefix(IntEnum):
    """The 8-bit id prefixes of p4.config.v1.P4Ids.Prefix (compatibility facts)."""

    UNSPECIFIED = 0x00
    ACTION = 0x01
    TABLE = 0x02
    VALUE_SET = 0x03
    CONTROLLER_HEADER = 0x04
    PSA_EXTERNS_START = 0x10
    ACTION_PROFILE = 0x11
    COUNTER = 0x12
    DIRECT_COUNTER = 0x13
    METER = 0x14
    DIRECT_METER = 0x15
    REGISTER = 0x16
    DIGEST = 0x17
    OTHER_EXTERNS_START = 0x80
    MAX = 0xFF


class P4IdError(ValueError):
    """An id cannot be assigned: bad ``@id`` prefix, duplicate ``@id``, or id space full."""

    def __init__(self, kind: P4IdPrefix | int, name: str, msg: str):
        self.kind = kind
        self.name = name
        kind_name = kind.name if isinstance(kind, P4IdPrefix) else f"0x{int(kind):02x}"
        super().__init__(f"{kind_name} {name!r}: {msg}")


def jenkins_one_at_a_time(data: str | bytes) -> int:
    """Bob Jenkins' one-at-a-time hash (32-bit) over the name's UTF-8 bytes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    h = 0
    for byte in raw:
        h = (h + byte) & U32
        h = (h + (h << 10)) & U32
        h ^= h >> 6
    h = (h + (h << 3)) & U32
    h ^= h >> 11
    h = (h + (h << 15)) & U32
    return h


def control_plane_name(external_name: str) -> str:
    """The name p4c hashes and writes into P4Info: the ``@name`` (or declared,
    fully qualified) name with one leading ``.`` removed (``@name(".t")`` -> ``t``)."""
    return external_name[1:] if external_name.startswith(".") else external_name


def make_id(prefix: int, value: int) -> int:
    """``prefix << 24 | (value & 0xFFFFFF)``."""
    return ((int(prefix) & 0xFF) << LOW_BITS) | (value & LOW_MASK)


def prefix_of(obj_id: int) -> int:
    """The 8-bit kind prefix of an id (may not be a known P4IdPrefix)."""
    return (obj_id >> LOW_BITS) & 0xFF


def explicit_id(kind: P4IdPrefix | int, name: str, annotated: int) -> int:
    """The id an ``@id(annotated)`` gives an object of ``kind`` (prefix added if absent)."""
    if not 0 <= annotated <= U32:
        raise P4IdError(kind, name, f"@id {annotated} is not a 32-bit unsigned integer")
    want = (int(kind) & 0xFF) << LOW_BITS
    have = annotated & PREFIX_MASK
    if have and have != want:
        raise P4IdError(kind, name, f"@id 0x{annotated:08x} has prefix 0x{have >> LOW_BITS:02x}, "
                                    f"expected 0x{int(kind):02x}")
    return annotated | want


@dataclass
class IdAllocator:
    """Collects (kind, name, optional @id) symbols, then assigns every id at once.

    Usage: ``add()`` every symbol (in program order: it only matters for which of two
    duplicate ``@id``s is reported), then ``assign()``.  ``aliases()`` gives the
    shortest unique suffix of every added name across all kinds.
    """

    #: 24 as in current p4c; old p4c releases (before ~2018) kept only 16 bits of the
    #: hash, which is what P4Info files written by them show (0x02007f02 style ids).
    hash_bits: int = LOW_BITS
    _symbols: dict[tuple[int, str], int | None] = field(default_factory=dict)
    _order: list[tuple[int, str]] = field(default_factory=list)

    def add(self, kind: P4IdPrefix | int, name: str, annotated_id: int | None = None) -> None:
        if not name:
            raise P4IdError(kind, name, "empty name")
        key = (int(kind), name)
        if key in self._symbols:
            return  # p4c: a duplicate (kind, name) is fine; the first one counts
        self._symbols[key] = None if annotated_id is None else explicit_id(kind, name, annotated_id)
        self._order.append(key)

    def assign(self) -> dict[tuple[int, str], int]:
        """(kind, name) -> id for every added symbol."""
        result: dict[tuple[int, str], int] = {}
        taken: set[int] = set()
        for key in self._order:
            fixed = self._symbols[key]
            if fixed is None:
                continue
            if fixed in taken:
                raise P4IdError(key[0], key[1], f"@id 0x{fixed:08x} is assigned to multiple declarations")
            taken.add(fixed)
            result[key] = fixed
        for kind in sorted({k for k, _ in self._order}):
            pending = sorted((n for (k, n) in self._order if k == kind and self._symbols[(k, n)] is None),
                             key=lambda n: n.encode("utf-8"))
            for name in pending:
                obj_id = probe_id(kind, jenkins_one_at_a_time(name), taken, self.hash_bits)
                if obj_id is None:
                    raise P4IdError(kind, name, "no available id left for this kind")
                taken.add(obj_id)
                result[(kind, name)] = obj_id
        return result

    def aliases(self) -> dict[str, str]:
        return shortest_unique_suffixes(n for _, n in self._order)


def probe_id(kind: int, start: int, taken: set[int], hash_bits: int = LOW_BITS) -> int | None:
    """First free ``make_id(kind, v)`` for v = start, start+1, ... (32-bit wrap), or None.

    Probing increments the 32-bit hash value, not the id, so the prefix never
    changes: after low bits 0xFFFFFF comes 0x000000.
    """
    if not 1 <= hash_bits <= LOW_BITS:
        raise ValueError(f"hash_bits must be 1..{LOW_BITS}, not {hash_bits}")
    mask = (1 << hash_bits) - 1
    value = start & U32
    for _ in range(1 << hash_bits):  # ids repeat every 2**hash_bits values of v
        candidate = make_id(kind, value & mask)
        if candidate not in taken:
            return candidate
        value = (value + 1) & U32
    return None


def assign_ids(kind: P4IdPrefix | int, names: Iterable[str],
               annotated: dict[str, int] | None = None) -> dict[str, int]:
    """Ids for the names of one kind (convenience over :class:`IdAllocator`)."""
    alloc = IdAllocator()
    annotated = annotated or {}
    for name in names:
        alloc.add(kind, name, annotated.get(name))
    return {name: obj_id for (_, name), obj_id in alloc.assign().items()}


@dataclass
class _SuffixNode:
    count: int = 0
    edges: dict[str, "_SuffixNode"] = field(default_factory=dict)


def shortest_unique_suffixes(names: Iterable[str]) -> dict[str, str]:
    """name -> alias: the fewest trailing dot-components that only this name ends with."""
    unique = list(dict.fromkeys(names))
    root = _SuffixNode()
    for name in unique:
        node = root
        for part in reversed(name.split(".")):
            node = node.edges.setdefault(part, _SuffixNode())
            node.count += 1
    out: dict[str, str] = {}
    for name in unique:
        parts = name.split(".")
        node = root
        needed = 0
        for part in reversed(parts):
            node = node.edges[part]
            needed += 1
            if node.count < 2:
                break
        out[name] = ".".join(parts[len(parts) - needed:])
    return out


def sequential_ids(names: Iterable[str], annotated: dict[str, int] | None = None) -> dict[str, int]:
    """Ids of match fields / action params / packet-metadata fields: position (from 1) or @id."""
    annotated = annotated or {}
    return {name: annotated.get(name, pos) for pos, name in enumerate(names, start=1)}
