"""What the controller writes: table-entry intents, by P4 name only.

Why intents: the same list is written to a switch over P4Runtime
(runtime.p4rt, ids from the P4Info) or to an in-process p4sw in tests
(runtime.writers), and can be diffed when the configuration changes.
"""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from p4common.codec import parse_mac
from p4common.matchstr import Exact, Lpm, Ternary
from runtime import constants as K
from runtime.checksum import nat_deltas
from runtime.config import Config, GlobalConfig, Service

MatchParam = Exact | Lpm | Ternary


@dataclass(frozen=True)
class Entry:
    table: str                                  # alias or full name in the P4Info
    match: tuple[tuple[str, MatchParam], ...]   # (match field name, value), any order
    action: str                                 # "" only in a delete (match is enough)
    params: tuple[tuple[str, int], ...] = ()
    priority: int = 0                           # P4Runtime meaning: larger wins
    idle_timeout_ns: int = 0
    default: bool = False                       # the table's default action, no match

    @property
    def ident(self) -> tuple:
        """What identifies the entry in its table (for deletes and diffs)."""
        return (self.table, self.match, self.priority, self.default)


@dataclass(frozen=True)
class MeterRate:
    """An indexed meter cell's rates (packets or bytes per second, burst)."""
    meter: str
    index: int
    rate: int          # 0 = unconfigured: everything is green
    burst: int


def punt_meter(g: GlobalConfig) -> MeterRate:
    return MeterRate(K.M_PUNT, 0, g.punt_rate, g.punt_burst)


@functools.lru_cache(maxsize=4096)
def ip(text: str) -> int:
    """Dotted quad -> int; memoised (pure): a session's entries convert the
    same few VIPs, LIPs and real servers for every new connection."""
    return int(ipaddress.IPv4Address(text))


class IndexAllocator:
    """Stable small integers for counter indices (services, real servers):
    the same name keeps its index; freed indices are reused, lowest first."""

    def __init__(self, size: int):
        self.size = size
        self._by_name: dict = {}

    def get(self, name) -> int:
        if name in self._by_name:
            return self._by_name[name]
        used = set(self._by_name.values())
        idx = next((i for i in range(self.size) if i not in used), None)
        if idx is None:
            raise OverflowError(f"more than {self.size} indices in use")
        self._by_name[name] = idx
        return idx

    def release(self, name) -> None:
        self._by_name.pop(name, None)

    def items(self):
        return self._by_name.items()


def global_config_entry(g: GlobalConfig) -> Entry:
    return Entry(K.T_GLOBAL_CONFIG, (), "set_global_config",
                 (("fullnat", int(g.fullnat)), ("icmp_echo", int(g.icmp_echo)),
                  ("synproxy", int(g.synproxy)), ("syn_mss", g.syn_mss),
                  ("tcp_states", int(g.tcp_states))), default=True)


def cookie_secret_entry(cur: tuple[int, int], prev: tuple[int, int]) -> Entry:
    """The SYN-cookie secrets: (secret, slot) of the current and previous period."""
    return Entry(K.T_SYNPROXY_SECRET, (), "set_cookie_secrets",
                 (("cur_secret_p", cur[0]), ("cur_slot_p", cur[1]),
                  ("prev_secret_p", prev[0]), ("prev_slot_p", prev[1])), default=True)


def vip_echo(cfg: Config) -> dict[str, bool]:
    """A VIP answers pings when every service on it allows it."""
    out: dict[str, bool] = {}
    for s in cfg.services:
        out[s.vip] = out.get(s.vip, True) and s.icmp_echo
    return out


def service_entry(s: Service, svc_idx: int) -> Entry:
    return Entry(K.T_SERVICE,
                 (("vip", Exact(ip(s.vip))), ("vport", Exact(s.port)),
                  ("protocol", Exact(K.PROTOCOLS[s.protocol]))),
                 "service_hit", (("svc_idx", svc_idx), ("fullnat", int(s.fullnat)),
                                 ("synproxy", int(s.synproxy))))


def static_entries(cfg: Config, svc_index: IndexAllocator) -> list[Entry]:
    """Everything but sessions, in a safe write order (services last, so a
    service never punts before its addresses and routes exist)."""
    out = [global_config_entry(cfg.global_)]
    macs = {it.port: it.mac for it in cfg.interfaces}
    echo = vip_echo(cfg)
    owned = [it.ip for it in cfg.interfaces] + list(echo) + list(cfg.local_addresses)
    for it in cfg.interfaces:
        for addr in dict.fromkeys(owned):
            out.append(Entry(K.T_ARP, (("port", Exact(it.port)), ("target_addr", Exact(ip(addr)))),
                             "arp_reply", (("mac", parse_mac(it.mac)),)))
    for r in cfg.routes:
        net = ipaddress.IPv4Network(r.prefix)
        out.append(Entry(K.T_ROUTE, (("dst_addr", Lpm(int(net.network_address), net.prefixlen)),),
                         "route", (("port", r.port), ("src_mac", parse_mac(macs[r.port])),
                                   ("dst_mac", parse_mac(r.next_hop_mac)))))
    for v, e in echo.items():
        out.append(Entry(K.T_LB_ADDRESS, (("addr", Exact(ip(v))),), "vip", (("icmp_echo", int(e)),)))
    w = cfg.global_.workers
    for lip in cfg.local_addresses:
        out.append(Entry(K.T_LB_ADDRESS, (("addr", Exact(ip(lip))),), "local_addr"))
        for p in range(w):
            out.append(Entry(K.T_LPORT_PARTITION,
                             (("local_addr", Exact(ip(lip))), ("lport", Ternary(p, w - 1))),
                             "set_partition", (("partition", p),), priority=1))
    for s in cfg.services:
        out.append(service_entry(s, svc_index.get(s.name)))
    return out


@dataclass(frozen=True)
class FlowKey:
    """One direction of a session, as the session table matches it."""
    protocol: int
    src: str
    sport: int
    dst: str
    dport: int

    def match(self) -> tuple[tuple[str, MatchParam], ...]:
        return (("protocol", Exact(self.protocol)), ("src_addr", Exact(ip(self.src))),
                ("src_port", Exact(self.sport)), ("dst_addr", Exact(ip(self.dst))),
                ("dst_port", Exact(self.dport)))


@dataclass(frozen=True)
class SessionRef:
    """What the data plane needs to track a session's sequence numbers:
    its index (register slot = index * 2 + side) and generation."""
    idx: int = 0
    gen: int = 0


def rewrite_entry(old: FlowKey, new: FlowKey, svc_idx: int, rs_idx: int,
                  idle_timeout_ns: int, ref: SessionRef = SessionRef(), side: int = 0,
                  seq_delta: int | None = None) -> Entry:
    ip_d, l4_d = nat_deltas(ip(old.src), ip(old.dst), old.sport, old.dport,
                            ip(new.src), ip(new.dst), new.sport, new.dport)
    params = (("src_addr", ip(new.src)), ("dst_addr", ip(new.dst)),
              ("src_port", new.sport), ("dst_port", new.dport),
              ("ip_csum_delta", ip_d), ("l4_csum_delta", l4_d),
              ("svc_idx", svc_idx), ("rs_idx", rs_idx),
              ("sess_idx", ref.idx), ("sess_gen", ref.gen), ("side", side))
    if seq_delta is None:
        return Entry(K.T_SESSION, old.match(), "session_rewrite", params,
                     idle_timeout_ns=idle_timeout_ns)
    return Entry(K.T_SESSION, old.match(), "session_synproxy",
                 params + (("seq_delta", seq_delta & 0xFFFFFFFF),), idle_timeout_ns=idle_timeout_ns)


def session_entries(inbound: FlowKey, outbound: FlowKey, svc_idx: int, rs_idx: int,
                    idle_timeout_ns: int, ref: SessionRef = SessionRef(),
                    seq_delta: int | None = None) -> tuple[Entry, Entry]:
    """The pair for one FULLNAT session. inbound = CIP:cport -> VIP:vport,
    outbound = RIP:rport -> LIP:lport; each rewrites to the other's reverse.
    With `seq_delta` (SYNPROXY), the pair also translates sequence numbers."""
    rev_out = FlowKey(outbound.protocol, outbound.dst, outbound.dport, outbound.src, outbound.sport)
    rev_in = FlowKey(inbound.protocol, inbound.dst, inbound.dport, inbound.src, inbound.sport)
    return (rewrite_entry(inbound, rev_out, svc_idx, rs_idx, idle_timeout_ns, ref, 0, seq_delta),
            rewrite_entry(outbound, rev_in, svc_idx, rs_idx, idle_timeout_ns, ref, 1, seq_delta))


def hold_entries(inbound: FlowKey, outbound: FlowKey, svc_idx: int) -> tuple[Entry, Entry]:
    """A SYNPROXY session whose real-server handshake is pending: the
    server's packets are punted, the client's dropped (no idle timeout: the
    controller's SYN retry timer ends a half-open session)."""
    return (Entry(K.T_SESSION, inbound.match(), "session_hold", (("svc_idx", svc_idx), ("side", 0))),
            Entry(K.T_SESSION, outbound.match(), "session_hold", (("svc_idx", svc_idx), ("side", 1))))
