"""TCP frames the controller builds or reads (SYNPROXY, resets) and the
SYN-cookie arithmetic mirrored from p4src/include/control/synproxy.p4.

Why the controller builds them: the SYN to the real server carries the
client's ISN and options decoded from the cookie, and a RST needs the
session's addresses; both are rare (one per connection) so building them in
Python costs nothing per packet. The data plane builds the frequent ones
(the cookie SYN-ACK) and fills in what only it knows (a RST's sequence
number, from its registers).
"""
from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass

from runtime import constants as K
from runtime.checksum import ones_sum

ETH_IPV4 = b"\x08\x00"
#: any MAC: frames re-enter the pipeline and the route rewrites both MACs
PLACEHOLDER_MAC = b"\x02\x00\x00\x00\x00\xfe"


@dataclass(frozen=True)
class TcpSegment:
    """The fields of an Ethernet/IPv4/TCP frame the controller looks at."""
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    window: int
    options: bytes
    payload: bytes


def parse_tcp(frame: bytes) -> TcpSegment | None:
    if len(frame) < 54 or frame[12:14] != ETH_IPV4 or frame[23] != K.IP_PROTO_TCP:
        return None
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    t = 14 + ihl
    if len(frame) < t + 20:
        return None
    sport, dport, seq, ack, off, flags, win = struct.unpack_from("!HHIIBBH", frame, t)
    doff = (off >> 4) * 4
    return TcpSegment(str(ipaddress.IPv4Address(frame[26:30])),
                      str(ipaddress.IPv4Address(frame[30:34])), sport, dport, seq, ack, flags,
                      win, frame[t + 20:t + doff], frame[t + doff:14 + total])


def _ip(a: str) -> bytes:
    return ipaddress.IPv4Address(a).packed


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    return ~ones_sum(struct.unpack(f"!{len(data) // 2}H", data)) & 0xFFFF


def tcp_frame(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int,
              window: int = 0, options: bytes = b"", payload: bytes = b"", ttl: int = 65) -> bytes:
    """An Ethernet/IPv4/TCP frame with correct checksums (TTL 65: the
    pipeline's route decrements it)."""
    options += b"\x00" * (-len(options) % 4)
    doff = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, doff << 4,
                      flags, window, 0, 0) + options
    seg = tcp + payload
    pseudo = _ip(src) + _ip(dst) + struct.pack("!BBH", 0, K.IP_PROTO_TCP, len(seg))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + seg)) + tcp[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 0, 0x4000, ttl, K.IP_PROTO_TCP, 0,
                      _ip(src), _ip(dst))
    iph = iph[:10] + struct.pack("!H", _csum(iph)) + iph[12:]
    return PLACEHOLDER_MAC + PLACEHOLDER_MAC + ETH_IPV4 + iph + tcp + payload


def syn_options(mss: int, sack_ok: bool) -> bytes:
    """The options of the SYN to a real server: what the client negotiated
    with the cookie SYN-ACK (MSS, SACK-permitted), never window scale or
    timestamps (the SYN-ACK offered neither, so the client uses neither)."""
    return struct.pack("!BBH", 2, 4, mss) + (b"\x01\x01\x04\x02" if sack_ok else b"")


# ------------------------------------------------------------------ cookies
def cookie_hash(src: str, dst: str, sport: int, dport: int, isn: int, secret: int, slot: int) -> int:
    """crc32 over the fields in the order and widths lvs.p4 hashes them."""
    data = (_ip(src) + _ip(dst) + struct.pack("!HHIIH", sport, dport, isn & 0xFFFFFFFF,
                                              secret, slot))
    return zlib.crc32(data) & 0xFFFFFFFF


def mss_index(mss: int) -> int:
    idx = 0
    for i, v in enumerate(K.SYNPROXY_MSS_TABLE):
        if mss >= v:
            idx = i
    return idx


def make_cookie(src: str, dst: str, sport: int, dport: int, isn: int, secret: int, slot: int,
                mss: int, sack_ok: bool) -> int:
    return cookie_hash(src, dst, sport, dport, isn, secret, slot) ^ (mss_index(mss) | (8 if sack_ok else 0))


@dataclass(frozen=True)
class CookieData:
    mss: int
    sack_ok: bool


def check_cookie(seg: TcpSegment, secrets: list[tuple[int, int]]) -> CookieData | None:
    """The data of the cookie a client ACK carries (ack - 1), or None."""
    cookie = (seg.ack - 1) & 0xFFFFFFFF
    isn = (seg.seq - 1) & 0xFFFFFFFF
    for secret, slot in secrets:
        x = cookie ^ cookie_hash(seg.src, seg.dst, seg.sport, seg.dport, isn, secret, slot)
        if x >> 4 == 0:
            return CookieData(K.SYNPROXY_MSS_TABLE[x & 7], bool(x & 8))
    return None
