"""One's complement checksum deltas (RFC 1624) for the session entries.

Why here: a session entry matches the exact old addresses and ports and
writes fixed new ones, so the checksum change is a per-entry constant. The
controller computes it once; the data plane adds it (checksum.p4,
csum16_add_delta) without reading the payload.
"""
from __future__ import annotations


def _words32(value: int) -> tuple[int, int]:
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def ones_sum(words) -> int:
    """16-bit one's complement sum of `words`, end-around carries folded."""
    s = 0
    for w in words:
        s += w & 0xFFFF
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def delta(old_words, new_words) -> int:
    """Sum of ~old + new over the changed 16-bit words."""
    return ones_sum([~w & 0xFFFF for w in old_words] + list(new_words))


def apply_delta(csum: int, d: int) -> int:
    """HC' = ~(~HC + d), as the data plane does it."""
    return ~ones_sum([~csum & 0xFFFF, d]) & 0xFFFF


def nat_deltas(old_src: int, old_dst: int, old_sport: int, old_dport: int,
               new_src: int, new_dst: int, new_sport: int, new_dport: int) -> tuple[int, int]:
    """(IPv4 header delta, TCP/UDP delta) for rewriting addresses and ports.

    The L4 checksum covers the pseudo header (both addresses) and the ports."""
    old_ip = [*_words32(old_src), *_words32(old_dst)]
    new_ip = [*_words32(new_src), *_words32(new_dst)]
    ip_d = delta(old_ip, new_ip)
    l4_d = delta(old_ip + [old_sport, old_dport], new_ip + [new_sport, new_dport])
    return ip_d, l4_d
