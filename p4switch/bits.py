"""Bit-level helpers shared by the loader, the code generator and the engine.

All values in the switch are unsigned Python ints masked to their width; signed
(int<W>) values are kept as their two's-complement bit pattern and converted only
where arithmetic needs the signed meaning.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable


def mask(width: int) -> int:
    """All-ones mask of `width` bits (0 for width 0)."""
    return (1 << width) - 1 if width > 0 else 0


def nbytes(width: int) -> int:
    """Bytes needed to hold `width` bits."""
    return (width + 7) // 8


def to_signed(value: int, width: int) -> int:
    """Interpret the low `width` bits of `value` as a two's-complement number."""
    value &= mask(width)
    if width and value >> (width - 1):
        return value - (1 << width)
    return value


def two_comp_mod(value: int, width: int) -> int:
    """BMv2 `two_comp_mod`: the signed value of `value` in `width` bits."""
    return to_signed(value, width)


def sat_cast(value: int, width: int) -> int:
    """Signed saturating cast to int<width>."""
    lo = -(1 << (width - 1)) if width > 0 else 0
    hi = (1 << (width - 1)) - 1 if width > 0 else 0
    return lo if value < lo else min(value, hi)


def usat_cast(value: int, width: int) -> int:
    """Unsigned saturating cast to bit<width>."""
    hi = mask(width)
    return 0 if value < 0 else min(value, hi)


def parse_hexstr(text: str) -> int:
    """A JSON hexstr ("0x0a", "-0x1", also plain decimal) as an int."""
    t = text.strip()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    if t[:2].lower() == "0x":
        v = int(t, 0) if len(t) > 2 else 0
    elif t[:2].lower() == "0b":
        v = int(t, 0)
    else:
        v = int(t, 10) if t.isdigit() else int(t, 16)
    return -v if neg else v


def int_to_bytes(value: int, width_bits: int) -> bytes:
    """Big-endian bytes of `value` in ceil(width/8) bytes."""
    return (value & mask(width_bits)).to_bytes(nbytes(width_bits), "big")


def pack_fields(items: Iterable[tuple[int, int]], pad_front: bool = False) -> bytes:
    """Concatenate (value, width) pairs MSB-first into a bit string and return it
    as bytes. The bit string is padded with zeros to a whole number of bytes, at
    the end (BMv2's calculation buffers) or, with pad_front, at the front."""
    acc = 0
    total = 0
    for value, width in items:
        acc = (acc << width) | (value & mask(width))
        total += width
    n = nbytes(total)
    if not pad_front:
        acc <<= n * 8 - total
    return acc.to_bytes(n, "big")


def ones_complement_sum16(data: bytes) -> int:
    """16-bit one's complement checksum (the value BMv2's csum16 returns)."""
    if len(data) & 1:
        data = data + b"\x00"
    s = 0
    mv = memoryview(data).cast("H")
    s = sum(mv)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = ~s & 0xFFFF
    # the sum was taken in native order; convert to network order
    if sys.byteorder == "little":
        s = ((s & 0xFF) << 8) | (s >> 8)
    return s
