"""Hash algorithms against published CRC check values and BMv2 behaviour."""
import zlib

import pytest

from p4switch.errors import RuntimeApiError
from p4switch.hashes import ALGORITHM_NAMES, CrcConfig, algorithm, xxh64

CHECK = b"123456789"


@pytest.mark.parametrize("name,expected", [
    ("crc32", 0xCBF43926),          # CRC-32/ISO-HDLC
    ("crc32_custom", 0xCBF43926),   # BMv2 default config == crc32
    ("crc16", 0xBB3D),              # CRC-16/ARC
    ("crc16_custom", 0xBB3D),       # BMv2 default config == crc16
    ("crcCCITT", 0x29B1),           # CRC-16/CCITT-FALSE
    ("crc8_custom", 0xF4),          # CRC-8/SMBUS (poly 7, init 0)
])
def test_crc_check_values(name, expected):
    assert algorithm(name)(CHECK) == expected


def _bitwise_crc(data, width, poly, init, xorout, refin, refout):
    """Textbook bit-at-a-time Rocksoft-model CRC, independent of the tables."""
    def refl(v, n):
        return int(f"{v:0{n}b}"[::-1], 2)
    top, mask = 1 << (width - 1), (1 << width) - 1
    crc = init
    for b in data:
        if refin:
            b = refl(b, 8)
        crc ^= b << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
    if refout:
        crc = refl(crc, width)
    return crc ^ xorout


def test_crc64_custom_default_matches_bitwise_model():
    # BMv2 default: poly 0x1B, init 0, xorout 0, reflected in and out
    for data in (CHECK, b"", b"\x00\xff" * 9):
        assert algorithm("crc64_custom")(data) == _bitwise_crc(data, 64, 0x1B, 0, 0, True, True)
    assert algorithm("crc16")(CHECK) == _bitwise_crc(CHECK, 16, 0x8005, 0, 0, True, True)


def test_crc32_matches_zlib_on_random_data():
    import random
    rng = random.Random(1)
    algo = algorithm("crc32")
    slow = algorithm("crc32_custom")
    for n in (0, 1, 7, 64, 301):
        data = bytes(rng.getrandbits(8) for _ in range(n))
        assert algo(data) == zlib.crc32(data) == slow(data)


def test_crc16_of_constant_in_calculation_corpus():
    # p4c constant-in-calculation-bmv2: hash(crc16, base 0, {16w1}, max 4) -> 1
    assert algorithm("crc16")(b"\x00\x01") % 4 == 1


def test_custom_crc_reconfigure_is_per_instance():
    a = algorithm("crc16_custom")
    b = algorithm("crc16_custom")
    a.set_config(CrcConfig(0x1021, 0xFFFF, 0x0000, False, False))
    assert a(CHECK) == 0x29B1           # now CCITT-FALSE
    assert b(CHECK) == 0xBB3D           # untouched
    a.set_config(CrcConfig(0x1021, 0x0000, 0x0000, True, True))
    assert a(CHECK) == 0x2189           # CRC-16/KERMIT
    c = algorithm("crc32_custom")
    c.set_config(CrcConfig(0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, True, True))
    assert c(CHECK) == 0xE3069283       # CRC-32C


def test_fixed_crc_not_configurable_and_bad_config():
    with pytest.raises(RuntimeApiError):
        algorithm("crc16").set_config(CrcConfig(0x1021, 0, 0, False, False))
    with pytest.raises(RuntimeApiError):
        algorithm("crc16_custom").set_config(CrcConfig(0x11021, 0, 0, False, False))


def test_csum16_internet_checksum():
    # RFC 1071 example words 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert algorithm("csum16")(data) == 0x220D
    # IPv4 header example (checksum field zeroed) -> b861
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert algorithm("csum16")(hdr) == 0xB861
    assert algorithm("cksum16")(hdr) == 0xB861
    assert algorithm("csum16")(b"") == 0xFFFF
    assert algorithm("csum16")(b"\xff\xff") == 0x0000
    # odd length: the last byte is the high byte of a zero-padded word
    assert algorithm("csum16")(b"\x01") == (~0x0100) & 0xFFFF


def test_xor16_and_identity():
    x = algorithm("xor16")
    assert x(bytes.fromhex("12345678")) == 0x1234 ^ 0x5678
    assert x(bytes.fromhex("123456")) == 0x1234 ^ 0x5600   # tail left-aligned
    assert x(b"") == 0
    assert algorithm("xor32")(bytes.fromhex("0102030405")) == 0x01020304 ^ 0x05000000
    ident = algorithm("identity")
    assert ident(bytes.fromhex("0a0b")) == 0x0A0B
    assert ident(bytes(range(1, 11))) == 0x0102030405060708   # first 8 bytes


def test_xxh64_reference_values():
    assert xxh64(b"") == 0xEF46DB3751D8E999
    assert xxh64(b"a") == 0xD24EC4F1A98C6E5B
    assert xxh64(b"abc") == 0x44BC2CF5AD770999
    assert algorithm("xxh64")(b"Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1


def test_stateful_algorithms_are_per_instance():
    rr = algorithm("round_robin")
    assert [rr(b"x") for _ in range(3)] == [0, 1, 2]
    assert algorithm("round_robin")(b"x") == 0
    rc = algorithm("round_robin_consistent")
    assert (rc(b"a"), rc(b"b"), rc(b"a")) == (0, 1, 0)
    r1, r2 = algorithm("random"), algorithm("random")
    assert [r1(b"") for _ in range(3)] == [r2(b"") for _ in range(3)]


def test_toeplitz_default_key_and_set_key():
    t = algorithm("toeplitz")
    assert t(b"\x12\x34\x56\x78") == 0
    t.set_key(b"\xff\xff\xff\xff")
    # bit 31 of the input (MSB) selects the key word unshifted
    assert t(b"\x80\x00\x00\x00") == 0xFFFFFFFF
    with pytest.raises(RuntimeApiError):
        t.set_key(b"\x01\x02")


def test_unknown_algorithm_and_all_names_build():
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        algorithm("md5")
    for name in ALGORITHM_NAMES:
        algo = algorithm(name)
        assert algo.name == name and algo.width > 0
        assert isinstance(algo(b"abc"), int)
