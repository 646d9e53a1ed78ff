"""The one shared home for byte codecs and value-string parsing.

Everything in the project that turns a user-written value (CLI argument, STF
token, runtime JSON, P4Runtime bytes) into the switch's value convention
(unsigned ``int`` masked to the field width) goes through here, so that all
front ends accept the same spellings and report the same errors.

Accepted value spellings (:func:`parse_value`):

* decimal ``42``, hex ``0x2a``, binary ``0b101010`` (``_`` separators allowed),
  optionally negative (stored as the two's complement in the given width);
* IPv4 ``10.0.1.1`` (32 bits);
* MAC ``08:00:00:00:01:11`` or ``08-00-00-00-01-11`` (48 bits);
* IPv6 ``2001:db8::1`` (128 bits).
"""
from __future__ import annotations

import ipaddress
import re

__all__ = [
    "CodecError", "nbytes", "mask", "fits", "check_width",
    "to_canonical", "from_bytes", "to_fixed", "from_fixed",
    "parse_int", "parse_value", "parse_ipv4", "parse_mac", "parse_ipv6",
    "format_ipv4", "format_mac", "format_ipv6",
]


class CodecError(ValueError):
    """A value that cannot be parsed, or does not fit its width."""


def nbytes(bitwidth: int) -> int:
    """Number of bytes that hold `bitwidth` bits (BMv2 and P4Runtime byte count)."""
    return (bitwidth + 7) // 8


def mask(bitwidth: int) -> int:
    return (1 << bitwidth) - 1


def fits(value: int, bitwidth: int) -> bool:
    return 0 <= value < (1 << bitwidth)


def check_width(value: int, bitwidth: int, what: str = "value") -> int:
    """Return `value` if it is an unsigned integer of at most `bitwidth` bits."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"{what}: expected an integer, got {value!r}")
    if not fits(value, bitwidth):
        raise CodecError(f"{what}: {value:#x} does not fit in {bitwidth} bits")
    return value


def to_canonical(value: int) -> bytes:
    """P4Runtime canonical bytes: big-endian, no leading zero bytes, at least one byte."""
    if value < 0:
        raise CodecError(f"cannot encode negative value {value}")
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def from_bytes(data: bytes) -> int:
    """Big-endian bytes (any length, leading zeros allowed) -> int."""
    return int.from_bytes(data, "big")


def to_fixed(value: int, bitwidth: int, what: str = "value") -> bytes:
    """Big-endian bytes of exactly ``nbytes(bitwidth)``; the value must fit `bitwidth`."""
    check_width(value, bitwidth, what)
    return value.to_bytes(nbytes(bitwidth), "big")


def from_fixed(data: bytes, bitwidth: int, what: str = "value") -> int:
    """Decode bytes for a `bitwidth`-bit field, checking the value fits.

    Accepts canonical (shorter) or padded encodings, as P4Runtime servers must.
    """
    v = int.from_bytes(data, "big")
    return check_width(v, bitwidth, what)


_INT_RE = re.compile(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)$")


def parse_int(text: str, bitwidth: int | None = None, what: str = "value") -> int:
    """Parse a decimal / 0x / 0b / 0o integer.

    With a `bitwidth`, a negative number becomes its two's complement and the
    result must fit the width.
    """
    t = text.strip()
    if not _INT_RE.match(t):
        raise CodecError(f"{what}: {text!r} is not a number")
    try:
        v = int(t, 0) if not re.match(r"^[+-]?0[0-9_]+$", t) else int(t, 10)
    except ValueError:
        raise CodecError(f"{what}: {text!r} is not a number") from None
    if bitwidth is None:
        return v
    if v < 0:
        if bitwidth == 0 or -v > (1 << (bitwidth - 1)):
            raise CodecError(f"{what}: {text} does not fit in {bitwidth} bits")
        v &= mask(bitwidth)
    return check_width(v, bitwidth, what)


def parse_ipv4(text: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise CodecError(f"{text!r} is not an IPv4 address") from None


_MAC_RE = re.compile(r"^[0-9a-fA-F]{1,2}([:-])[0-9a-fA-F]{1,2}(\1[0-9a-fA-F]{1,2}){4}$")


def parse_mac(text: str) -> int:
    t = text.strip()
    if not _MAC_RE.match(t):
        raise CodecError(f"{text!r} is not a MAC address")
    return int("".join(p.zfill(2) for p in re.split(r"[:-]", t)), 16)


def parse_ipv6(text: str) -> int:
    try:
        return int(ipaddress.IPv6Address(text.strip()))
    except ValueError:
        raise CodecError(f"{text!r} is not an IPv6 address") from None


def parse_value(text: str | int, bitwidth: int, what: str = "value") -> int:
    """Parse any accepted value spelling for a `bitwidth`-bit field.

    The spelling decides the format (dotted quad, MAC, IPv6, number); the
    result must fit `bitwidth`.
    """
    if isinstance(text, bool):
        return check_width(int(text), bitwidth, what)
    if isinstance(text, int):
        if text < 0:
            return parse_int(str(text), bitwidth, what)
        return check_width(text, bitwidth, what)
    t = str(text).strip()
    if not t:
        raise CodecError(f"{what}: empty value")
    try:
        if t.count(".") == 3 and ":" not in t:
            v = parse_ipv4(t)
        elif _MAC_RE.match(t):
            v = parse_mac(t)
        elif ":" in t:
            try:
                v = parse_ipv6(t)
            except CodecError:
                raise CodecError(f"{t!r} is neither a MAC address (six hex pairs) "
                                 "nor an IPv6 address") from None
        else:
            return parse_int(t, bitwidth, what)
    except CodecError as e:
        raise CodecError(f"{what}: {e}") from None
    return check_width(v, bitwidth, what)


def format_ipv4(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def format_ipv6(value: int) -> str:
    return str(ipaddress.IPv6Address(value))


def format_mac(value: int) -> str:
    return ":".join(f"{b:02x}" for b in value.to_bytes(6, "big"))
