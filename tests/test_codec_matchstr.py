"""p4common.codec (value spellings, byte codecs) and p4common.matchstr (match grammar)."""
import pytest

from p4common.codec import (CodecError, check_width, format_ipv4, format_ipv6, format_mac,
                            from_fixed, nbytes, parse_int, parse_value, to_canonical, to_fixed)
from p4common.matchstr import (Exact, Lpm, MatchStringError, Optional_, Range, Ternary, Valid,
                               format_match, parse_match, parse_matches)


def test_canonical_and_fixed_bytes():
    assert to_canonical(0) == b"\x00"
    assert to_canonical(1) == b"\x01"
    assert to_canonical(0x100) == b"\x01\x00"
    assert to_fixed(1, 9) == b"\x00\x01"
    assert to_fixed(0x0A000101, 32) == bytes([10, 0, 1, 1])
    assert from_fixed(b"\x00\x00\x01", 9) == 1           # padded encodings accepted
    assert nbytes(1) == 1 and nbytes(8) == 1 and nbytes(9) == 2
    with pytest.raises(CodecError):
        to_fixed(512, 9)
    with pytest.raises(CodecError):
        from_fixed(b"\x02\x00", 9)
    with pytest.raises(CodecError):
        to_canonical(-1)
    with pytest.raises(CodecError):
        check_width(True, 1)


@pytest.mark.parametrize("text,width,value", [
    ("10", 8, 10), ("0x0a", 8, 10), ("0b1010", 8, 10), ("010", 8, 10), ("1_000", 16, 1000),
    ("10.0.1.1", 32, 0x0A000101), ("08:00:00:00:01:11", 48, 0x080000000111),
    ("08-00-00-00-01-11", 48, 0x080000000111), ("2001:db8::1", 128, 0x20010DB8 << 96 | 1),
    ("::", 128, 0), ("-1", 8, 0xFF), ("-128", 8, 0x80), (" 7 ", 3, 7),
])
def test_parse_value_spellings(text, width, value):
    assert parse_value(text, width) == value


@pytest.mark.parametrize("text,width", [
    ("256", 8), ("-129", 8), ("10.0.1.1", 16), ("10.0.1.256", 32), ("zz", 8), ("", 8),
    ("0x", 8), ("1.2.3", 32), ("08:00:00:00:01", 48), ("2001:::1", 128), ("0b102", 8),
])
def test_parse_value_rejects(text, width):
    with pytest.raises(CodecError):
        parse_value(text, width)


def test_parse_int_without_width_and_formats():
    assert parse_int("0x10") == 16
    assert format_ipv4(0x0A000101) == "10.0.1.1"
    assert format_mac(0x080000000111) == "08:00:00:00:01:11"
    assert format_ipv6(1) == "::1"


@pytest.mark.parametrize("text,kind,width,expected", [
    ("10.0.1.1", "exact", 32, Exact(0x0A000101)),
    ("10.0.1.0/24", "lpm", 32, Lpm(0x0A000100, 24)),
    ("0x0a000100", "lpm", 32, Lpm(0x0A000100, 32)),
    ("0/0", "lpm", 32, Lpm(0, 0)),
    ("0x0800&&&0xffff", "ternary", 16, Ternary(0x800, 0xFFFF)),
    ("*", "ternary", 16, Ternary(0, 0)),
    ("5", "ternary", 8, Ternary(5, 0xFF)),
    ("10->20", "range", 16, Range(10, 20)),
    ("7", "range", 16, Range(7, 7)),
    ("3", "optional", 8, Optional_(3)),
    ("*", "optional", 8, Optional_(None)),
    ("3&&&0", "optional", 8, Optional_(None)),
    ("3&&&0xff", "optional", 8, Optional_(3)),
    ("1", "valid", 1, Valid(True)),
    ("false", "valid", 1, Valid(False)),
])
def test_parse_match(text, kind, width, expected):
    assert parse_match(text, kind, width) == expected


@pytest.mark.parametrize("text,kind,width", [
    ("10.0.1.0/33", "lpm", 32), ("1/x", "lpm", 32), ("20->10", "range", 16),
    ("3&&&0x0f", "optional", 8), ("2", "valid", 1), ("0x100&&&0xff", "ternary", 8),
    ("1", "fuzzy", 8),
])
def test_parse_match_rejects(text, kind, width):
    with pytest.raises(MatchStringError):
        parse_match(text, kind, width)


def test_parse_matches_count_and_roundtrip():
    class K:
        def __init__(self, name, match_type, bitwidth):
            self.name, self.match_type, self.bitwidth = name, match_type, bitwidth
    keys = [K("a", "exact", 9), K("b", "lpm", 32), K("c", "ternary", 8), K("d", "range", 8)]
    params = parse_matches(["3", "10.0.0.0/8", "1&&&3", "1->9"], keys)
    assert params == [Exact(3), Lpm(0x0A000000, 8), Ternary(1, 3), Range(1, 9)]
    again = parse_matches([format_match(p) for p in params], keys)
    assert again == params
    with pytest.raises(MatchStringError, match="expected 4 match field"):
        parse_matches(["3"], keys)
