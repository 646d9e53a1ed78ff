"""Match parameters and the match-string grammar shared by CLI, STF and controller.

The dataclasses here are the match parameters the switch tables take
(``p4switch.tables`` re-exports them under the same names), one per key
field, in key order.  Values follow the project convention: unsigned ints
masked to the field width.

Grammar (simple_switch_CLI syntax, plus a few conveniences):

=========  =====================================  ============================
kind       spelling                               result
=========  =====================================  ============================
exact      ``v``                                  ``Exact(v)``
lpm        ``v/len`` (``v`` alone: full length)   ``Lpm(v, len)``
ternary    ``v&&&m`` (``v`` alone: full mask,     ``Ternary(v, m)``
           ``*``/``_``: wildcard)
range      ``lo->hi`` (``v`` alone: ``v->v``)     ``Range(lo, hi)``
optional   ``v``, ``*``/``_`` (wildcard), or      ``Optional_(v | None)``
           ``v&&&m`` with m all-ones or 0
valid      ``1``/``0``/``true``/``false``         ``Valid(bool)``
=========  =====================================  ============================

``v`` is any spelling :func:`p4common.codec.parse_value` accepts (decimal,
0x, 0b, IPv4, MAC, IPv6).  The prefix length is decimal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .codec import CodecError, mask, parse_int, parse_value

__all__ = [
    "Exact", "Lpm", "Ternary", "Range", "Optional_", "Valid", "MatchParam",
    "MatchStringError", "parse_match", "parse_matches", "format_match", "MATCH_KINDS",
]

MATCH_KINDS = ("exact", "lpm", "ternary", "range", "optional", "valid")


@dataclass(frozen=True)
class Exact:
    value: int


@dataclass(frozen=True)
class Lpm:
    value: int
    prefix_len: int


@dataclass(frozen=True)
class Ternary:
    value: int
    mask: int


@dataclass(frozen=True)
class Range:
    low: int
    high: int


@dataclass(frozen=True)
class Optional_:
    value: int | None  # None = wildcard


@dataclass(frozen=True)
class Valid:
    value: bool


MatchParam = Union[Exact, Lpm, Ternary, Range, Optional_, Valid]


class MatchStringError(CodecError):
    """A match string that does not parse for its key field."""


_WILDCARDS = ("*", "_")


def parse_match(text: str, match_type: str, bitwidth: int, field: str = "key") -> MatchParam:
    """Parse one match string for a key field of kind `match_type` and width `bitwidth`."""
    t = str(text).strip()
    what = f"{field} ({match_type}, {bitwidth} bits)"
    try:
        if match_type == "exact":
            return Exact(parse_value(t, bitwidth, what))
        if match_type == "lpm":
            if "/" in t:
                v, _, plen = t.rpartition("/")
                pl = parse_int(plen, None, f"{what} prefix length")
                if not 0 <= pl <= bitwidth:
                    raise MatchStringError(f"{what}: prefix length {pl} is not in 0..{bitwidth}")
                return Lpm(parse_value(v, bitwidth, what), pl)
            return Lpm(parse_value(t, bitwidth, what), bitwidth)
        if match_type == "ternary":
            if t in _WILDCARDS:
                return Ternary(0, 0)
            if "&&&" in t:
                v, _, m = t.partition("&&&")
                return Ternary(parse_value(v, bitwidth, what), parse_value(m, bitwidth, f"{what} mask"))
            return Ternary(parse_value(t, bitwidth, what), mask(bitwidth))
        if match_type == "range":
            if "->" in t:
                lo, _, hi = t.partition("->")
                low = parse_value(lo, bitwidth, f"{what} low")
                high = parse_value(hi, bitwidth, f"{what} high")
                if low > high:
                    raise MatchStringError(f"{what}: range low {low:#x} > high {high:#x}")
                return Range(low, high)
            if t in _WILDCARDS:
                return Range(0, mask(bitwidth))
            v = parse_value(t, bitwidth, what)
            return Range(v, v)
        if match_type == "optional":
            if t in _WILDCARDS:
                return Optional_(None)
            if "&&&" in t:
                v, _, m = t.partition("&&&")
                mv = parse_value(m, bitwidth, f"{what} mask")
                if mv == 0:
                    return Optional_(None)
                if mv != mask(bitwidth):
                    raise MatchStringError(f"{what}: optional mask must be 0 or all ones, got {mv:#x}")
                return Optional_(parse_value(v, bitwidth, what))
            return Optional_(parse_value(t, bitwidth, what))
        if match_type == "valid":
            low = t.lower()
            if low in ("1", "true", "0x1", "valid"):
                return Valid(True)
            if low in ("0", "false", "0x0", "invalid"):
                return Valid(False)
            raise MatchStringError(f"{what}: {text!r} is not 0/1/true/false")
    except MatchStringError:
        raise
    except CodecError as e:
        raise MatchStringError(str(e)) from None
    raise MatchStringError(f"{field}: unknown match kind {match_type!r}")


def parse_matches(texts: list[str], keys) -> list[MatchParam]:
    """Parse one string per key field; `keys` have ``name``, ``match_type``, ``bitwidth``."""
    keys = list(keys)
    if len(texts) != len(keys):
        names = " ".join(f"{k.name}:{k.match_type}" for k in keys)
        raise MatchStringError(
            f"expected {len(keys)} match field(s) ({names}), got {len(texts)}")
    return [parse_match(t, k.match_type, k.bitwidth, k.name) for t, k in zip(texts, keys)]


def format_match(p: MatchParam) -> str:
    """The CLI spelling of a match parameter (inverse of :func:`parse_match`)."""
    if isinstance(p, Exact):
        return f"{p.value:#x}"
    if isinstance(p, Lpm):
        return f"{p.value:#x}/{p.prefix_len}"
    if isinstance(p, Ternary):
        return f"{p.value:#x}&&&{p.mask:#x}"
    if isinstance(p, Range):
        return f"{p.low:#x}->{p.high:#x}"
    if isinstance(p, Optional_):
        return "*" if p.value is None else f"{p.value:#x}"
    if isinstance(p, Valid):
        return "1" if p.value else "0"
    raise TypeError(f"not a match parameter: {p!r}")
