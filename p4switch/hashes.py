"""Every hash algorithm BMv2 registers, bit-exact, over ``bytes``.

BMv2 (``src/bm_sim/calculations.cpp``) names its algorithms and the JSON
``calculations[].algo`` / primitive arguments refer to them by that name.
The engine serializes the hash inputs into bytes exactly as BMv2 does and
calls the algorithm object returned by :func:`algorithm`.

Semantics reproduced here (all verified against published check values in
tests/test_hashes.py):

* ``crc16``: CRC-16/ARC (poly 0x8005, init 0, reflected in/out, xorout 0).
* ``crc32``: CRC-32/ISO-HDLC (the zlib one).
* ``crcCCITT``: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected).
* ``crc8_custom`` / ``crc16_custom`` / ``crc32_custom`` / ``crc64_custom``:
  parameterised CRCs whose defaults are BMv2's (see ``_CUSTOM_DEFAULTS``);
  the control plane changes them with ``set_crc16_parameters`` etc.
* ``csum16`` / ``cksum16``: the Internet checksum (one's complement of the
  one's complement sum of big-endian 16-bit words, odd tail padded with 0).
* ``xor16`` / ``xor32``: XOR of big-endian words, the tail left-aligned.
* ``identity``: the first (up to) 8 bytes read as a big-endian integer.
* ``xxh64``: XXH64 with seed 0.
* ``toeplitz``: Toeplitz hash with a key (default: 4 zero bytes, so 0).
* ``round_robin`` / ``round_robin_consistent``: counters, per instance.
* ``random``: what p4c emits for ``HashAlgorithm.random``; BMv2 has no such
  algorithm, so this is a per-instance pseudo random generator (seeded, so
  runs are reproducible).

CRC tables are computed once at import (immutable tuples); every stateful
algorithm keeps its state on its own instance, so each calculation of each
switch has its own.
"""
from __future__ import annotations

import random as _random
from dataclasses import dataclass

from .errors import RuntimeApiError

__all__ = ["HashAlgo", "CrcConfig", "CustomCrc", "algorithm", "ALGORITHM_NAMES"]


def _reflect(value: int, nbits: int) -> int:
    """Bit-reverse the low `nbits` of `value`."""
    out = 0
    for _ in range(nbits):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


_REFLECT8 = tuple(_reflect(i, 8) for i in range(256))


def _msb_table(poly: int, width: int) -> tuple[int, ...]:
    """The MSB-first CRC table for `poly` (what BMv2's generator computes)."""
    top = 1 << (width - 1)
    mask = (1 << width) - 1
    table = []
    for dividend in range(256):
        rem = (dividend << (width - 8)) & mask
        for _ in range(8):
            rem = ((rem << 1) ^ poly) & mask if rem & top else (rem << 1) & mask
        table.append(rem)
    return tuple(table)


class HashAlgo:
    """A hash algorithm: ``algo(data) -> int``; `width` is its output size in bits."""

    name: str = ""
    width: int = 0

    def __call__(self, data: bytes) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<HashAlgo {self.name} ({self.width} bits)>"


@dataclass(frozen=True)
class CrcConfig:
    """Parameters of a CRC in BMv2's terms (``crc_config_t``)."""

    polynomial: int
    initial_remainder: int
    final_xor_value: int
    data_reflected: bool
    remainder_reflected: bool


class CustomCrc(HashAlgo):
    """A table-driven CRC of 8/16/32/64 bits with a configurable `CrcConfig`.

    This is the general engine; the fixed BMv2 CRCs (crc16, crc32, crcCCITT)
    are instances with a fixed configuration.  The computation mirrors BMv2:
    MSB-first table, input bytes optionally reflected, remainder optionally
    reflected at the end, then XORed with the final value.
    """

    def __init__(self, name: str, width: int, config: CrcConfig, configurable: bool):
        self.name = name
        self.width = width
        self.configurable = configurable
        self._mask = (1 << width) - 1
        self.set_config(config, _force=True)

    @property
    def config(self) -> CrcConfig:
        return self._config

    def set_config(self, config: CrcConfig, _force: bool = False) -> None:
        """Change the parameters (``set_crcXX_parameters``); recomputes the table."""
        if not (_force or self.configurable):
            raise RuntimeApiError(f"hash algorithm {self.name} is not a custom CRC")
        m = self._mask
        for label, v in (("polynomial", config.polynomial),
                         ("initial remainder", config.initial_remainder),
                         ("final xor value", config.final_xor_value)):
            if not 0 <= v <= m:
                raise RuntimeApiError(
                    f"{self.name}: {label} {v:#x} does not fit in {self.width} bits")
        self._config = config
        self._table = _msb_table(config.polynomial, self.width)
        self._shift = self.width - 8

    def __call__(self, data: bytes) -> int:
        c = self._config
        table = self._table
        shift = self._shift
        mask = self._mask
        rem = c.initial_remainder
        if c.data_reflected:
            refl = _REFLECT8
            for b in data:
                rem = table[refl[b] ^ (rem >> shift)] ^ ((rem << 8) & mask)
        else:
            for b in data:
                rem = table[b ^ (rem >> shift)] ^ ((rem << 8) & mask)
        if c.remainder_reflected:
            rem = _reflect(rem, self.width)
        return rem ^ c.final_xor_value


class _Crc32Fast(HashAlgo):
    """BMv2 ``crc32``: identical to zlib's CRC-32, so use the C implementation."""

    name = "crc32"
    width = 32

    def __init__(self) -> None:
        import zlib
        self._crc = zlib.crc32

    def __call__(self, data: bytes) -> int:
        return self._crc(data)


class _Csum16(HashAlgo):
    """Internet checksum (RFC 1071), as BMv2's ``csum16``/``cksum16``."""

    width = 16

    def __init__(self, name: str):
        self.name = name

    def __call__(self, data: bytes) -> int:
        if len(data) & 1:
            data = bytes(data) + b"\x00"
        s = int.from_bytes(data, "big") if data else 0
        # Summing 16-bit words with end-around carry == value mod 0xFFFF
        # (with 0 for the empty sum and 0xFFFF for a non-zero multiple).
        if s == 0:
            total = 0
        else:
            total = s % 0xFFFF
            if total == 0:
                total = 0xFFFF
        return (~total) & 0xFFFF


class _Xor(HashAlgo):
    """XOR of big-endian words of `n` bytes; a short tail is left-aligned."""

    def __init__(self, name: str, nbytes: int):
        self.name = name
        self.width = nbytes * 8
        self._n = nbytes

    def __call__(self, data: bytes) -> int:
        n = self._n
        out = 0
        full = len(data) - len(data) % n
        for i in range(0, full, n):
            out ^= int.from_bytes(data[i:i + n], "big")
        tail = data[full:]
        if tail:
            out ^= int.from_bytes(tail, "big") << (8 * (n - len(tail)))
        return out


class _Identity(HashAlgo):
    name = "identity"
    width = 64

    def __call__(self, data: bytes) -> int:
        return int.from_bytes(data[:8], "big")


_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_M64 = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def _xxh_round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _M64
    return (_rotl(acc, 31) * _P1) & _M64


def _xxh_merge(acc: int, val: int) -> int:
    acc ^= _xxh_round(0, val)
    return (acc * _P1 + _P4) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64 (the reference algorithm), used by BMv2's ``xxh64``."""
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M64
        v2 = (seed + _P2) & _M64
        v3 = seed & _M64
        v4 = (seed - _P1) & _M64
        while i + 32 <= n:
            v1 = _xxh_round(v1, int.from_bytes(data[i:i + 8], "little"))
            v2 = _xxh_round(v2, int.from_bytes(data[i + 8:i + 16], "little"))
            v3 = _xxh_round(v3, int.from_bytes(data[i + 16:i + 24], "little"))
            v4 = _xxh_round(v4, int.from_bytes(data[i + 24:i + 32], "little"))
            i += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M64
        for v in (v1, v2, v3, v4):
            h = _xxh_merge(h, v)
    else:
        h = (seed + _P5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        k1 = _xxh_round(0, int.from_bytes(data[i:i + 8], "little"))
        h = ((_rotl(h ^ k1, 27) * _P1) + _P4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i:i + 4], "little") * _P1) & _M64
        h = ((_rotl(h, 23) * _P2) + _P3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M64
        h = (_rotl(h, 11) * _P1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M64
    h ^= h >> 29
    h = (h * _P3) & _M64
    h ^= h >> 32
    return h


class _Xxh64(HashAlgo):
    name = "xxh64"
    width = 64

    def __call__(self, data: bytes) -> int:
        return xxh64(bytes(data))


class Toeplitz(HashAlgo):
    """BMv2 ``toeplitz``: key words are big-endian; the key wraps around."""

    name = "toeplitz"
    width = 32

    def __init__(self) -> None:
        self._key: tuple[int, ...] = (0,)

    def set_key(self, key: bytes) -> None:
        if len(key) < 4 or len(key) % 4:
            raise RuntimeApiError("toeplitz key must be a non-empty multiple of 4 bytes")
        self._key = tuple(int.from_bytes(key[i:i + 4], "big") for i in range(0, len(key), 4))

    def __call__(self, data: bytes) -> int:
        key = self._key
        klen = len(key)
        out = 0
        nwords = (len(data) + 3) // 4
        for w in range(nwords):
            chunk = data[4 * w:4 * w + 4]
            word = int.from_bytes(chunk, "big") << (8 * (4 - len(chunk)))
            kl = key[w % klen]
            kr = key[(w + 1) % klen]
            while word:
                low = word & -word
                i_bit = 31 - (low.bit_length() - 1)
                out ^= ((kl << i_bit) & 0xFFFFFFFF) | (kr >> (32 - i_bit) if i_bit else 0)
                word ^= low
        return out


class _RoundRobin(HashAlgo):
    name = "round_robin"
    width = 64

    def __init__(self) -> None:
        self._idx = 0

    def __call__(self, data: bytes) -> int:
        v = self._idx
        self._idx += 1
        return v


class _RoundRobinConsistent(HashAlgo):
    name = "round_robin_consistent"
    width = 64

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def __call__(self, data: bytes) -> int:
        data = bytes(data)
        v = self._seen.get(data)
        if v is None:
            v = self._seen[data] = len(self._seen)
        return v


class _Random(HashAlgo):
    name = "random"
    width = 64

    def __init__(self, seed: int = 0) -> None:
        self._rng = _random.Random(seed)

    def __call__(self, data: bytes) -> int:
        return self._rng.getrandbits(64)


# BMv2's defaults for the custom CRCs (crc_custom_init<T>::config).
_CUSTOM_DEFAULTS = {
    "crc8_custom": (8, CrcConfig(0x07, 0x00, 0x00, False, False)),
    "crc16_custom": (16, CrcConfig(0x8005, 0x0000, 0x0000, True, True)),
    "crc32_custom": (32, CrcConfig(0x04C11DB7, 0xFFFFFFFF, 0xFFFFFFFF, True, True)),
    "crc64_custom": (64, CrcConfig(0x1B, 0, 0, True, True)),
}

_FIXED_CRCS = {
    "crc16": (16, CrcConfig(0x8005, 0x0000, 0x0000, True, True)),
    "crcCCITT": (16, CrcConfig(0x1021, 0xFFFF, 0x0000, False, False)),
}


def _make(name: str) -> HashAlgo | None:
    if name in _CUSTOM_DEFAULTS:
        width, cfg = _CUSTOM_DEFAULTS[name]
        return CustomCrc(name, width, cfg, configurable=True)
    if name in _FIXED_CRCS:
        width, cfg = _FIXED_CRCS[name]
        return CustomCrc(name, width, cfg, configurable=False)
    if name == "crc32":
        return _Crc32Fast()
    if name in ("csum16", "cksum16"):
        return _Csum16(name)
    if name == "xor16":
        return _Xor(name, 2)
    if name == "xor32":
        return _Xor(name, 4)
    if name == "identity":
        return _Identity()
    if name == "xxh64":
        return _Xxh64()
    if name == "toeplitz":
        return Toeplitz()
    if name == "round_robin":
        return _RoundRobin()
    if name == "round_robin_consistent":
        return _RoundRobinConsistent()
    if name == "random":
        return _Random()
    return None


ALGORITHM_NAMES = (
    "crc8_custom", "crc16", "crc16_custom", "crc32", "crc32_custom", "crc64_custom",
    "crcCCITT", "csum16", "cksum16", "xor16", "xor32", "identity", "xxh64",
    "toeplitz", "round_robin", "round_robin_consistent", "random",
)


def algorithm(name: str) -> HashAlgo:
    """A fresh instance of the algorithm BMv2 calls `name`.

    Each call returns a new object, so custom CRC parameters and counters
    are per calculation, as in BMv2 (which clones its registered functor).
    Raises KeyError-like ``ValueError`` for an unknown name.
    """
    algo = _make(name)
    if algo is None:
        raise ValueError(f"unknown hash algorithm {name!r}; known: {', '.join(ALGORITHM_NAMES)}")
    return algo
