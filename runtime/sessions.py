"""The session manager: creates FULLNAT sessions on packet-in and frees them.

Why the controller creates sessions: see docs/design-sessions.md. This module
holds the decisions only; it returns a `Plan` (entries to write and delete,
whether to re-inject the packet) that the daemon carries out, so it is tested
without a switch. Every handler is idempotent: BMv2 punts every packet of a
flow until its entries exist and re-notifies an idle entry every 2 s.
"""
from __future__ import annotations

import ipaddress
import random
import socket
import struct
import time
import zlib
from collections import deque
from dataclasses import dataclass, field, replace

from runtime import constants as K
from runtime import tcpframes as TF
from runtime.config import Config, RealServer, Service
from runtime.entries import (Entry, FlowKey, IndexAllocator, SessionRef, cookie_secret_entry,
                             hold_entries, service_entry, session_entries)
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
    return FlowKey(proto, socket.inet_ntoa(frame[26:30]), sport, socket.inet_ntoa(frame[30:34]),
                   dport)


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
    ref: SessionRef = SessionRef()
    svc_idx: int = 0
    rs_idx: int = 0
    state: str = "ESTABLISHED"        # TCP state (LVS names); UDP sessions stay ESTABLISHED
    # SYNPROXY: the cookie we gave the client as our ISN, the client's ISN,
    # what the cookie says the client negotiated, the real server's ISN once
    # known, client packets held until the server answers, SYN retries.
    synproxy: bool = False
    cookie: int = 0
    client_isn: int = 0
    mss: int = 536
    sack_ok: bool = False
    client_window: int = 0
    rs_isn: int | None = None
    held: list[tuple[bytes, int]] = field(default_factory=list)
    syn_tries: int = 0
    syn_at: float = 0.0
    ingress_port: int = 0
    rearmed: bool = False             # entries re-armed once for the rest of the state's timeout


@dataclass(frozen=True)
class PacketOut:
    """A frame for the switch: re-injected into the pipeline (PIPELINE), or a
    RST trigger whose sequence number the data plane fills in (RST)."""
    frame: bytes
    op: int = K.OUT_OP_PIPELINE
    ingress_port: int = 0
    rst_slot: int = 0
    rst_gen: int = 0


@dataclass
class Plan:
    """What the daemon must do for one event."""
    writes: list[Entry] = field(default_factory=list)
    deletes: list[Entry] = field(default_factory=list)
    reinject: bool = False
    packets: list[PacketOut] = field(default_factory=list)   # after the writes
    modifies: list[Entry] = field(default_factory=list)      # entries that exist: new action/timeout
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
    synproxy_sessions: int = 0      # valid cookie ACKs that opened a real-server side
    synproxy_established: int = 0
    synproxy_bad_cookie: int = 0    # punted ACK the controller's own check rejected
    synproxy_syn_retries: int = 0
    synproxy_half_open_reset: int = 0
    held_packets: int = 0
    rst_established: int = 0        # sessions reset on idle timeout (both sides)
    state_changes: int = 0
    no_session_index: int = 0


class SessionIndex:
    """Session indices (register slots index*2 + side in lvs.p4) with a
    generation per index, 1..255 cycling: a reused index never matches the
    values an earlier session left in the registers."""

    def __init__(self, size: int):
        self._free: deque[int] = deque(range(size))
        self._gen: dict[int, int] = {}

    def allocate(self) -> SessionRef | None:
        if not self._free:
            return None
        i = self._free.popleft()
        g = self._gen.get(i, 0) % 255 + 1
        self._gen[i] = g
        return SessionRef(i, g)

    def reserve(self, ref: SessionRef) -> bool:
        try:
            self._free.remove(ref.idx)
        except ValueError:
            return False
        self._gen[ref.idx] = ref.gen
        return True

    def free(self, ref: SessionRef) -> None:
        if ref.gen and self._gen.get(ref.idx) == ref.gen and ref.idx not in self._free:
            self._free.append(ref.idx)

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
        self.index = SessionIndex(K.MAX_SESSIONS)
        self.by_ref: dict[int, SessionRecord] = {}
        self.pending: dict[FlowKey, SessionRecord] = {}   # SYNPROXY: server handshake pending
        rnd = random.SystemRandom()
        self._rnd = rnd
        self.secrets: list[tuple[int, int]] = [(rnd.getrandbits(32), 1), (rnd.getrandbits(32), 0)]
        for s in cfg.services:
            self._install_service(s)

    # ------------------------------------------------------------ cookies
    def cookie_entry(self) -> Entry:
        return cookie_secret_entry(self.secrets[0], self.secrets[1])

    def rotate_secret(self) -> Plan:
        """A new (secret, slot) becomes current; the current one stays valid
        as the previous one, so no cookie handed out is refused early."""
        cur = self.secrets[0]
        self.secrets = [(self._rnd.getrandbits(32), (cur[1] + 1) & 0xFFFF), cur]
        return Plan(writes=[self.cookie_entry()], note="cookie secret rotated")

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
    def timeout_s(self, st: ServiceState, state: str = "ESTABLISHED") -> int:
        """Idle timeout of a session of this service in a TCP state: the
        service's own established timeout, else the global one per state."""
        g = self.cfg.global_
        if st.svc.protocol != "tcp":
            return st.svc.timeout or g.udp_timeout
        if state == "ESTABLISHED" and st.svc.timeout:
            return st.svc.timeout
        return g.timeouts.of(state)

    def _state_timeout_s(self, rec: SessionRecord) -> int:
        st = self.services.get(rec.service)
        return self.timeout_s(st, rec.state) if st else self.cfg.global_.timeouts.of(rec.state)

    def _retimed_entries(self, rec: SessionRecord) -> tuple[Entry, Entry]:
        """`_rec_entries` after a TCP state change: only the idle timeout
        moves, so the pair is the current one with a new timeout (no
        checksum deltas or match keys recomputed per TCP event)."""
        cur = rec.entries
        if (not (rec.synproxy and rec.rs_isn is None)
                and all(e.action in ("session_rewrite", "session_synproxy") for e in cur)):
            t_ns = self._state_timeout_s(rec) * 1_000_000_000
            return tuple(e if e.idle_timeout_ns == t_ns else replace(e, idle_timeout_ns=t_ns)
                         for e in cur)
        return self._rec_entries(rec)

    def _rec_entries(self, rec: SessionRecord) -> tuple[Entry, Entry]:
        t = self._state_timeout_s(rec)
        if rec.synproxy and rec.rs_isn is None:
            return hold_entries(rec.inbound, rec.outbound, rec.svc_idx)
        delta = ((rec.cookie - rec.rs_isn) & 0xFFFFFFFF) if rec.synproxy else None
        return session_entries(rec.inbound, rec.outbound, rec.svc_idx, rec.rs_idx,
                               t * 1_000_000_000, rec.ref, delta)

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
        ref = self.index.allocate()
        if ref is None:
            pool.free(local)
            self.stats.no_session_index += 1
            return Plan(note="no free session index")
        outbound = FlowKey(flow.protocol, rip, rport, local.addr, local.port)
        state = ("SYN_RECV" if flow.protocol == K.IP_PROTO_TCP and self.cfg.global_.tcp_states
                 else "ESTABLISHED")
        rec = SessionRecord(flow, outbound, st.svc.name, (rip, rport), local, part, (),
                            ref=ref, svc_idx=self.svc_index.get(st.svc.name),
                            rs_idx=self.rs_index.get((st.svc.name, rip, rport)), state=state)
        rec.entries = entries = self._rec_entries(rec)
        self._remember(rec)
        self.stats.new_sessions += 1
        return Plan(writes=list(entries), reinject=True,
                    note=f"{flow.src}:{flow.sport} -> {rip}:{rport} via {local.addr}:{local.port}")

    def _remember(self, rec: SessionRecord) -> None:
        self.by_inbound[rec.inbound] = rec
        self.by_outbound[rec.outbound] = rec
        self.by_ref[rec.ref.idx] = rec

    def _open(self, flow: FlowKey, st: ServiceState) -> tuple[SessionRecord | None, str]:
        """Pick a real server, a local port and a session index."""
        try:
            rip, rport = st.pick(flow)
        except NoServerError:
            self.stats.no_server += 1
            return None, f"service {st.svc.name}: no real server with weight > 0"
        part = self.worker_for(flow)
        local = self.pools[part].allocate()
        if local is None:
            self.stats.pool_exhausted += 1
            return None, f"partition {part}: local ports exhausted"
        ref = self.index.allocate()
        if ref is None:
            self.pools[part].free(local)
            self.stats.no_session_index += 1
            return None, "no free session index"
        outbound = FlowKey(flow.protocol, rip, rport, local.addr, local.port)
        return SessionRecord(flow, outbound, st.svc.name, (rip, rport), local, part, (), ref=ref,
                             svc_idx=self.svc_index.get(st.svc.name),
                             rs_idx=self.rs_index.get((st.svc.name, rip, rport))), ""

    # ------------------------------------------------------------ SYNPROXY
    MAX_HELD = 3        # as LVS: the client's ACK and up to two more segments

    def synproxy_ack(self, frame: bytes, ingress_port: int) -> Plan:
        """A client ACK whose cookie the data plane accepted: open the real
        server's side (hold entries, SYN with the client's ISN) and keep
        the ACK (with any data) to replay once the server answers."""
        seg = TF.parse_tcp(frame)
        if seg is None:
            return Plan(note="not TCP")
        flow = FlowKey(K.IP_PROTO_TCP, seg.src, seg.sport, seg.dst, seg.dport)
        rec = self.by_inbound.get(flow)
        if rec is not None:
            self.stats.duplicate_punts += 1
            if rec.synproxy and rec.rs_isn is None and len(rec.held) < self.MAX_HELD:
                rec.held.append((frame, ingress_port))
                self.stats.held_packets += 1
                return Plan(writes=list(rec.entries), note="held while the server handshake is pending")
            if rec.rs_isn is not None:    # established meanwhile: just pass it on
                return Plan(packets=[PacketOut(frame, ingress_port=ingress_port)], note="late punt")
            return Plan(note="dropped: hold queue full")
        st = self.service_for(flow)
        if st is None:
            self.stats.unknown_service += 1
            return Plan(note="no such service")
        data = TF.check_cookie(seg, self.secrets)
        if data is None:      # e.g. a rotation between the data plane's check and ours
            self.stats.synproxy_bad_cookie += 1
            return Plan(note="cookie not valid")
        rec, why = self._open(flow, st)
        if rec is None:
            return Plan(note=why)
        rec.synproxy = True
        rec.state = "SYN_RECV"
        rec.cookie = (seg.ack - 1) & 0xFFFFFFFF
        rec.client_isn = (seg.seq - 1) & 0xFFFFFFFF
        rec.mss, rec.sack_ok = data.mss, data.sack_ok
        rec.client_window = seg.window
        rec.held = [(frame, ingress_port)]
        rec.ingress_port = ingress_port
        rec.entries = self._rec_entries(rec)
        self._remember(rec)
        self.pending[flow] = rec
        self.stats.new_sessions += 1
        self.stats.synproxy_sessions += 1
        self.stats.held_packets += 1
        plan = Plan(writes=list(rec.entries), note=f"synproxy {flow.src}:{flow.sport} -> "
                    f"{rec.server[0]}:{rec.server[1]} via {rec.local.addr}:{rec.local.port}")
        plan.packets.append(self._server_syn(rec, time.monotonic()))
        return plan

    def _server_syn(self, rec: SessionRecord, now: float) -> PacketOut:
        rec.syn_tries += 1
        rec.syn_at = now
        o = rec.outbound
        frame = TF.tcp_frame(o.dst, o.src, o.dport, o.sport, rec.client_isn, 0, K.TCP_FLAG_SYN,
                             min(rec.client_window, 65535) or 14600,
                             TF.syn_options(rec.mss, rec.sack_ok))
        return PacketOut(frame, ingress_port=rec.ingress_port)

    def synproxy_server(self, frame: bytes) -> Plan:
        """A packet from the real server of a session still holding: its
        SYN-ACK sets the sequence delta and completes both handshakes (the
        held client ACK, translated, is the server's third packet); a RST
        refuses the connection, so the client gets one too."""
        seg = TF.parse_tcp(frame)
        if seg is None:
            return Plan(note="not TCP")
        rec = self.by_outbound.get(FlowKey(K.IP_PROTO_TCP, seg.src, seg.sport, seg.dst, seg.dport))
        if rec is None or not rec.synproxy:
            return Plan(note="no such pending session")
        if seg.flags & K.TCP_FLAG_RST:
            plan = Plan(deletes=self._forget(rec), note="real server refused")
            plan.packets.append(self._client_rst(rec))
            return plan
        syn_ack = K.TCP_FLAG_SYN | K.TCP_FLAG_ACK
        if seg.flags & syn_ack != syn_ack or seg.ack != (rec.client_isn + 1) & 0xFFFFFFFF:
            return Plan(note="not the SYN-ACK we wait for")
        if rec.rs_isn is None:
            self.stats.synproxy_established += 1
        self.pending.pop(rec.inbound, None)
        rec.rs_isn = seg.seq
        rec.state = "ESTABLISHED"
        rec.entries = self._rec_entries(rec)
        held, rec.held = rec.held, []
        if not held:          # a retransmitted SYN-ACK: the server lost our ACK; resend one
            i = rec.inbound
            held = [(TF.tcp_frame(i.src, i.dst, i.sport, i.dport, rec.client_isn + 1,
                                  rec.cookie + 1, K.TCP_FLAG_ACK, rec.client_window), rec.ingress_port)]
        return Plan(modifies=list(rec.entries),
                    packets=[PacketOut(f, ingress_port=p) for f, p in held],
                    note=f"established, delta {(rec.cookie - seg.seq) & 0xFFFFFFFF:#x}")

    def _client_rst(self, rec: SessionRecord) -> PacketOut:
        """RST to the client of a half-open SYNPROXY session: its expected
        sequence number is the cookie + 1 (what its ACK acknowledged)."""
        i = rec.inbound
        return PacketOut(TF.tcp_frame(i.dst, i.src, i.dport, i.sport, rec.cookie + 1, 0,
                                      K.TCP_FLAG_RST), ingress_port=rec.ingress_port)

    def tick(self, now: float | None = None) -> Plan:
        """Timers: SYN retries to real servers that have not answered, and
        the reset of half-open sessions after the last retry."""
        now = time.monotonic() if now is None else now
        g = self.cfg.global_
        plan = Plan()
        for rec in list(self.pending.values()):
            if now - rec.syn_at < g.syn_retry_interval:
                continue
            if rec.syn_tries <= g.syn_retries:
                self.stats.synproxy_syn_retries += 1
                plan.packets.append(self._server_syn(rec, now))
            else:
                self.stats.synproxy_half_open_reset += 1
                plan.packets.append(self._client_rst(rec))
                plan.deletes += self._forget(rec)
        return plan

    # ------------------------------------------------------------ TCP states
    def tcp_event(self, idx: int, gen: int, side: int, kind: int, flags: int) -> Plan:
        """A digest from the data plane: move the session's TCP state and
        give its entries that state's idle timeout."""
        rec = self.by_ref.get(idx)
        if rec is None or rec.ref.gen != gen or rec.inbound.protocol != K.IP_PROTO_TCP:
            return Plan(note="no such session")
        old = rec.state
        if kind == K.TCP_EV_FIRST_ACK:
            if rec.state == "SYN_RECV":
                # Lazily: the entries keep the SYN_RECV timeout; if they go
                # idle that long, idle() re-arms them for the rest of the
                # ESTABLISHED timeout. Most connections end (FIN) first, so
                # this saves a write per connection.
                rec.state = "ESTABLISHED"
                self.stats.state_changes += 1
                return Plan(note="SYN_RECV -> ESTABLISHED (entries re-armed lazily)")
        elif flags & K.TCP_FLAG_RST:
            rec.state = "CLOSE"
        elif flags & K.TCP_FLAG_FIN:
            client = side == 0
            rec.state = {("SYN_RECV", True): "FIN_WAIT", ("ESTABLISHED", True): "FIN_WAIT",
                         ("SYN_RECV", False): "CLOSE_WAIT", ("ESTABLISHED", False): "CLOSE_WAIT",
                         ("CLOSE_WAIT", True): "LAST_ACK", ("FIN_WAIT", False): "TIME_WAIT",
                         }.get((rec.state, client), rec.state)
        if rec.state == old or (rec.synproxy and rec.rs_isn is None):
            return Plan(note=f"state {old}")
        self.stats.state_changes += 1
        before = rec.entries
        rec.entries = self._retimed_entries(rec)
        rec.rearmed = False
        if before == rec.entries:     # same timeout (FIN_WAIT -> TIME_WAIT ...): nothing to write
            return Plan(note=f"{old} -> {rec.state}")
        return Plan(modifies=list(rec.entries), note=f"{old} -> {rec.state}")

    def _rsts(self, rec: SessionRecord) -> list[PacketOut]:
        """RST triggers for both sides; the data plane fills each one's
        sequence number with the last ACK that side sent (lvs.p4 SeqTrack)."""
        i, o = rec.inbound, rec.outbound
        to_client = TF.tcp_frame(i.dst, i.src, i.dport, i.sport, 0, 0, K.TCP_FLAG_RST)
        to_server = TF.tcp_frame(o.dst, o.src, o.dport, o.sport, 0, 0, K.TCP_FLAG_RST)
        return [PacketOut(to_client, K.OUT_OP_RST, rst_slot=rec.ref.idx * 2, rst_gen=rec.ref.gen),
                PacketOut(to_server, K.OUT_OP_RST, rst_slot=rec.ref.idx * 2 + 1, rst_gen=rec.ref.gen)]

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
            ref = SessionRef(p.get("sess_idx", 0), p.get("sess_gen", 0))
            if not ref.gen or not self.index.reserve(ref):
                ref = self.index.allocate() or SessionRef()
            delta = p.get("seq_delta") if e.action == "session_synproxy" else None
            pair = session_entries(key, outbound, self.svc_index.get(st.svc.name),
                                   self.rs_index.get((st.svc.name, *server)),
                                   e.idle_timeout_ns or self.timeout_s(st) * 1_000_000_000,
                                   ref, delta)
            rec = SessionRecord(key, outbound, st.svc.name, server, local, part, pair, ref=ref,
                                svc_idx=self.svc_index.get(st.svc.name),
                                rs_idx=self.rs_index.get((st.svc.name, *server)))
            if delta is not None:     # keep translating: cookie - rs_isn = delta
                rec.synproxy, rec.cookie, rec.rs_isn = True, delta, 0
            self._remember(rec)
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
        if rec is not None and rec.entries and rec.entries[0].action != "session_hold":
            want = self._rec_entries(rec)[0].idle_timeout_ns
            armed = rec.entries[0].idle_timeout_ns
            if want > armed and not rec.rearmed:
                # the state's timeout is longer than the entries carry
                # (SYN_RECV -> ESTABLISHED, lazily): re-arm for the rest
                rec.rearmed = True
                rest = self._rec_entries(rec)
                rec.entries = tuple(replace(e, idle_timeout_ns=max(want - armed, 1_000_000_000))
                                    for e in rest)
                return Plan(modifies=list(rec.entries), note="re-armed for the state's timeout")
        if rec is None:     # already freed, or left by an earlier daemon: remove it
            self.stats.stale_timeouts += 1
            return Plan(deletes=[Entry(K.T_SESSION, tuple(entry_match), "")],
                        note="stale timeout")
        self.stats.expired += 1
        plan = Plan(note=f"expired in {rec.state}")
        if rec.inbound.protocol == K.IP_PROTO_TCP and rec.state in (
                "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK"):
            if rec.synproxy and rec.rs_isn is None:
                plan.packets.append(self._client_rst(rec))
            else:
                plan.packets += self._rsts(rec)
                self.stats.rst_established += 1
        plan.deletes = self._forget(rec)
        return plan

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
        self.pending.pop(rec.inbound, None)
        if self.by_ref.get(rec.ref.idx) is rec:
            del self.by_ref[rec.ref.idx]
            self.index.free(rec.ref)
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
