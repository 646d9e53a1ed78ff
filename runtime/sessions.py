"""The session manager: creates FULLNAT sessions on packet-in and frees them.

Why the controller creates sessions: see docs/design-sessions.md. This module
holds the decisions only; it returns a `Plan` (entries to write and delete,
whether to re-inject the packet) that the daemon carries out, so it is tested
without a switch. Every handler is idempotent: BMv2 punts every packet of a
flow until its entries exist and re-notifies an idle entry every 2 s.
"""
from __future__ import annotations

import ipaddress
import struct
import time
import zlib
from dataclasses import dataclass, field

from runtime import constants as K
from runtime.config import Config, RealServer, Service
from runtime.entries import Entry, FlowKey, IndexAllocator, service_entry, session_entries
from runtime.pool import LocalEndpoint, PartitionPool, make_pools, partition_of
from runtime.scheduler import NoServerError, make_scheduler


def parse_flow(frame: bytes) -> FlowKey | None:
    """The 5-tuple of an Ethernet/IPv4/TCP|UDP frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    l4 = 14 + ihl
    if proto not in (K.IP_PROTO_TCP, K.IP_PROTO_UDP) or len(frame) < l4 + 4:
        return None
    sport, dport = struct.unpack_from("!HH", frame, l4)
    return FlowKey(proto, str(ipaddress.IPv4Address(frame[26:30])), sport,
                   str(ipaddress.IPv4Address(frame[30:34])), dport)


@dataclass
class SessionRecord:
    inbound: FlowKey             # CIP:cport -> VIP:vport
    outbound: FlowKey            # RIP:rport -> LIP:lport
    service: str
    server: tuple[str, int]
    local: LocalEndpoint
    partition: int
    entries: tuple[Entry, Entry]
    created: float = field(default_factory=time.monotonic)
    # issue 6 adds: tcp_state, state timeout, seq deltas, last seen seq/ack per side


@dataclass
class Plan:
    """What the daemon must do for one event."""
    writes: list[Entry] = field(default_factory=list)
    deletes: list[Entry] = field(default_factory=list)
    reinject: bool = False
    note: str = ""


@dataclass
class Stats:
    new_sessions: int = 0
    duplicate_punts: int = 0
    no_server: int = 0
    pool_exhausted: int = 0
    unknown_service: int = 0
    expired: int = 0
    stale_timeouts: int = 0


class ServiceState:
    def __init__(self, svc: Service, maglev_size: int):
        self.svc = svc
        self.weights = {(rs.ip, rs.port): rs.weight for rs in svc.servers}
        self.maglev_size = maglev_size
        self.scheduler = make_scheduler(svc.scheduler, self._named(), maglev_size)

    def _named(self) -> dict[str, int]:
        return {f"{a}:{p}": w for (a, p), w in self.weights.items()}

    def reschedule(self) -> None:
        self.scheduler.update(self._named())

    def pick(self, flow: FlowKey) -> tuple[str, int]:
        key = f"{flow.src}:{flow.sport}-{flow.dst}:{flow.dport}/{flow.protocol}".encode()
        addr, port = self.scheduler.pick(key).rsplit(":", 1)
        return addr, int(port)


class SessionManager:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.svc_index = IndexAllocator(1024)
        self.rs_index = IndexAllocator(4096)
        self.services: dict[str, ServiceState] = {}
        self.pools: list[PartitionPool] = make_pools(cfg.global_.workers, cfg.local_addresses,
                                                     cfg.port_range)
        self.by_inbound: dict[FlowKey, SessionRecord] = {}
        self.by_outbound: dict[FlowKey, SessionRecord] = {}
        self.stats = Stats()
        for s in cfg.services:
            self._install_service(s)

    # ------------------------------------------------------------ services
    def _install_service(self, s: Service) -> Entry:
        self.services[s.name] = ServiceState(s, self.cfg.global_.maglev_table_size)
        for rs in s.servers:
            self.rs_index.get((s.name, rs.ip, rs.port))
        return service_entry(s, self.svc_index.get(s.name))

    def service_for(self, flow: FlowKey) -> ServiceState | None:
        for st in self.services.values():
            s = st.svc
            if (s.vip, s.port, K.PROTOCOLS[s.protocol]) == (flow.dst, flow.dport, flow.protocol):
                return st
        return None

    def add_service(self, s: Service) -> Plan:
        if s.name in self.services:
            raise ValueError(f"service '{s.name}' exists")
        if self.service_for(FlowKey(K.PROTOCOLS[s.protocol], "0.0.0.0", 0, s.vip, s.port)):
            raise ValueError(f"{s.protocol} {s.vip}:{s.port} is already a service")
        return Plan(writes=[self._install_service(s)], note=f"service {s.name} added")

    def del_service(self, name: str) -> Plan:
        st = self._service(name)
        plan = Plan(deletes=[service_entry(st.svc, self.svc_index.get(name))])
        for rec in [r for r in self.by_inbound.values() if r.service == name]:
            plan.deletes.extend(self._forget(rec))
        del self.services[name]
        self.svc_index.release(name)
        plan.note = f"service {name} deleted"
        return plan

    def set_server(self, name: str, rs: RealServer) -> Plan:
        """Add a real server or change its weight; existing sessions stay."""
        st = self._service(name)
        st.weights[(rs.ip, rs.port)] = rs.weight
        self.rs_index.get((name, rs.ip, rs.port))
        st.reschedule()
        return Plan(note=f"{name}: {rs.ip}:{rs.port} weight {rs.weight}")

    def del_server(self, name: str, addr: str, port: int, flush: bool = False) -> Plan:
        """Remove a real server: no new sessions; its sessions continue until
        idle unless `flush`."""
        st = self._service(name)
        if (addr, port) not in st.weights:
            raise KeyError(f"service '{name}' has no real server {addr}:{port}")
        del st.weights[(addr, port)]
        st.reschedule()
        plan = Plan(note=f"{name}: {addr}:{port} removed")
        if flush:
            for rec in [r for r in self.by_inbound.values()
                        if r.service == name and r.server == (addr, port)]:
                plan.deletes.extend(self._forget(rec))
        return plan

    def _service(self, name: str) -> ServiceState:
        if name not in self.services:
            raise KeyError(f"no service '{name}' (have: {', '.join(sorted(self.services)) or 'none'})")
        return self.services[name]

    # ------------------------------------------------------------ sessions
    def timeout_s(self, st: ServiceState) -> int:
        if st.svc.timeout:
            return st.svc.timeout
        g = self.cfg.global_
        return g.tcp_timeout if st.svc.protocol == "tcp" else g.udp_timeout

    def worker_for(self, flow: FlowKey) -> int:
        """The partition (worker) that owns a new flow: a hash of the client
        side, so every duplicate punt of the flow goes to the same worker."""
        key = f"{flow.protocol}/{flow.src}:{flow.sport}".encode()
        return zlib.crc32(key) % len(self.pools)

    def new_flow(self, flow: FlowKey) -> Plan:
        """A NEW_FLOW packet-in: create the session (or find it) and say to
        re-inject the packet."""
        rec = self.by_inbound.get(flow)
        if rec is not None:
            self.stats.duplicate_punts += 1
            return Plan(writes=list(rec.entries), reinject=True, note="duplicate punt")
        st = self.service_for(flow)
        if st is None:
            self.stats.unknown_service += 1
            return Plan(note="no such service")
        try:
            rip, rport = st.pick(flow)
        except NoServerError:
            self.stats.no_server += 1
            return Plan(note=f"service {st.svc.name}: no real server with weight > 0")
        part = self.worker_for(flow)
        pool = self.pools[part]
        local = pool.allocate()
        if local is None:
            self.stats.pool_exhausted += 1
            return Plan(note=f"partition {part}: local ports exhausted")
        outbound = FlowKey(flow.protocol, rip, rport, local.addr, local.port)
        entries = session_entries(flow, outbound, self.svc_index.get(st.svc.name),
                                  self.rs_index.get((st.svc.name, rip, rport)),
                                  self.timeout_s(st) * 1_000_000_000)
        rec = SessionRecord(flow, outbound, st.svc.name, (rip, rport), local, part, entries)
        self.by_inbound[flow] = rec
        self.by_outbound[outbound] = rec
        self.stats.new_sessions += 1
        return Plan(writes=list(entries), reinject=True,
                    note=f"{flow.src}:{flow.sport} -> {rip}:{rport} via {local.addr}:{local.port}")

    def adopt(self, entries: list[Entry]) -> Plan:
        """Take over the sessions a switch already holds (a daemon restarted
        with --no-push): rebuild their records, reserve their local ports,
        and rewrite them with this daemon's counter indices. Entries that do
        not pair up, or belong to no configured service, are deleted."""
        plan = Plan()
        by_key = {_flow_from_match(e.match): e for e in entries}
        seen: set[FlowKey] = set()
        for key, e in by_key.items():
            st = self.service_for(key)
            if st is None or key in seen:
                continue
            p = dict(e.params)
            outbound = FlowKey(key.protocol, _ip4(p["dst_addr"]), p["dst_port"],
                               _ip4(p["src_addr"]), p["src_port"])
            if outbound not in by_key:
                continue
            local = LocalEndpoint(outbound.dst, outbound.dport)
            part = partition_of(local.port, len(self.pools))
            if not self.pools[part].reserve(local):
                continue
            server = (outbound.src, outbound.sport)
            pair = session_entries(key, outbound, self.svc_index.get(st.svc.name),
                                   self.rs_index.get((st.svc.name, *server)),
                                   e.idle_timeout_ns or self.timeout_s(st) * 1_000_000_000)
            rec = SessionRecord(key, outbound, st.svc.name, server, local, part, pair)
            self.by_inbound[key] = rec
            self.by_outbound[outbound] = rec
            seen |= {key, outbound}
            plan.writes += list(pair)
        plan.deletes = [Entry(K.T_SESSION, e.match, "") for k, e in by_key.items() if k not in seen]
        plan.note = f"adopted {len(seen) // 2} session(s), removed {len(plan.deletes)} stray entries"
        return plan

    def idle(self, entry_match: tuple) -> Plan:
        """An idle-timeout notification for one session entry: free the whole
        session (both entries, its local port). A notification for an entry
        of no known session (a re-notification, or an entry an earlier daemon
        left) deletes just that entry; deleting what is gone is harmless."""
        key = _flow_from_match(entry_match)
        rec = self.by_inbound.get(key) or self.by_outbound.get(key)
        if rec is None:     # already freed, or left by an earlier daemon: remove it
            self.stats.stale_timeouts += 1
            return Plan(deletes=[Entry(K.T_SESSION, tuple(entry_match), "")],
                        note="stale timeout")
        self.stats.expired += 1
        return Plan(deletes=self._forget(rec), note="expired")

    def other_direction(self, entry_match: tuple) -> Entry | None:
        """The session's entry for the direction not named by `entry_match`."""
        key = _flow_from_match(entry_match)
        rec = self.by_inbound.get(key) or self.by_outbound.get(key)
        if rec is None:
            return None
        return rec.entries[1] if rec.inbound == key else rec.entries[0]

    def _forget(self, rec: SessionRecord) -> list[Entry]:
        self.by_inbound.pop(rec.inbound, None)
        self.by_outbound.pop(rec.outbound, None)
        self.pools[rec.partition].free(rec.local)
        return list(rec.entries)

    def sessions(self) -> list[SessionRecord]:
        return list(self.by_inbound.values())


def _ip4(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def _flow_from_match(match: tuple) -> FlowKey:
    d = {name: p.value for name, p in match}
    return FlowKey(d["protocol"], str(ipaddress.IPv4Address(d["src_addr"])), d["src_port"],
                   str(ipaddress.IPv4Address(d["dst_addr"])), d["dst_port"])
