"""The running p4lvs controller: events from the switch, commands from operators.

Threads: the P4Runtime stream thread queues events (packet-in, idle
timeouts); one event thread handles them in order; the control-socket server
runs operator commands. Both paths go through `Controller`, serialised by one
lock: the session manager is plain data and never sees two events at once.
"""
from __future__ import annotations

import inspect
import ipaddress
import json
import logging
import os
import queue
import socket
import socketserver
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from runtime import constants as K
from runtime.config import MAX_WEIGHT, Config, ConfigError, RealServer, validate_service
from runtime.entries import punt_meter, static_entries
from runtime.p4rt import DigestSample, IdleTimeout, P4RuntimeClient, PacketIn
from runtime.sessions import PacketOut, Plan, SessionManager, parse_flow

log = logging.getLogger("p4lvs")


class CommandError(Exception):
    """An operator command that cannot be done; the message goes back to the CLI."""


class Controller:
    """Drives one switch, or a group of switches that share the configuration
    and every session (see docs/design-sessions.md, "Several switches"): all
    writes go to all of them, a packet-out goes back to the switch that
    punted, counters are summed. The clients share one event queue."""

    def __init__(self, cfg: Config, clients: P4RuntimeClient | list[P4RuntimeClient]):
        self.cfg = cfg
        self.clients = clients if isinstance(clients, list) else [clients]
        self.events = self.clients[0].events
        if any(c.events is not self.events for c in self.clients):
            raise ValueError("the switches of one controller must share an event queue")
        self.mgr = SessionManager(cfg)
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.stream_lost = False
        self.punts = 0
        self.punt_batches = 0
        self.punt_latency_s = 0.0
        self.last_rotate = time.monotonic()
        self.digests = 0
        # TCP state changes not yet written (ident -> entry, newest wins):
        # they only change idle timeouts, so they ride along with the next
        # round's new-session entries or go out after `mods_delay` s,
        # whichever comes first; any other write flushes them first (so a
        # delete is never followed by a stale modify)
        self.mods_delay = 0.05
        self._pending_mods: dict = {}
        self._pending_since = 0.0
        self.writes = 0

    # ------------------------------------------------------------ start
    def install(self) -> None:
        """Static entries (config, ARP, routes, addresses, services)."""
        with self.lock:
            self._write(static_entries(self.cfg, self.mgr.svc_index) + [self.mgr.cookie_entry()])
            for c in self.clients if self.cfg.global_.tcp_states else ():
                try:
                    c.enable_digest(K.D_TCP_EVENT)
                except Exception as e:  # noqa: BLE001 - states then follow idle timeouts only
                    log.warning("%s: TCP state digests unavailable: %s", c, e)
            if self.cfg.global_.punt_rate:
                for c in self.clients:
                    c.set_meter(punt_meter(self.cfg.global_))

    def adopt(self) -> str:
        """Take over the sessions the (first) switch holds; see SessionManager.adopt."""
        with self.lock:
            plan = self.mgr.adopt(self.clients[0].read_entries(K.T_SESSION))
            self._carry_out(plan)
        return plan.note

    # ------------------------------------------------------------ events
    def _write(self, writes: list, deletes: list = ()) -> None:
        self._flush_mods()
        for c in self.clients:
            c.write(writes, deletes)
        self.writes += 1

    def _flush_mods(self) -> None:
        """Write the deferred TCP state changes now (caller holds the lock)."""
        if self._pending_mods:
            mods = list(self._pending_mods.values())
            self._pending_mods.clear()
            for c in self.clients:
                c.write(modifies=mods)
            self.writes += 1

    def _carry_out(self, plan: Plan, source: Any = None) -> None:
        self._flush_mods()
        if plan.writes or plan.deletes or plan.modifies:
            for c in self.clients:
                c.write(plan.writes, plan.deletes, plan.modifies)
            self.writes += 1
        self._send(plan.packets, source)

    def _send(self, packets: list[PacketOut], source: Any = None) -> None:
        """Packet-outs after the writes they depend on. RST triggers go to
        every switch of the group: only the one that carried the flow has
        the tracked sequence numbers, the others drop it (RST_NO_STATE)."""
        for p in packets:
            targets = self.clients if p.op == K.OUT_OP_RST else [source or self.clients[0]]
            for c in targets:
                c.packet_out(p.frame, op=p.op, ingress_port=p.ingress_port,
                             rst_slot=p.rst_slot, rst_gen=p.rst_gen)

    def _read_counter(self, name: str) -> dict[int, tuple[int, int]]:
        total: dict[int, tuple[int, int]] = {}
        for c in self.clients:
            for i, (p, b) in c.read_counter(name).items():
                tp, tb = total.get(i, (0, 0))
                total[i] = (tp + p, tb + b)
        return total

    def handle(self, ev: Any) -> None:
        if isinstance(ev, PacketIn):
            self._packet_ins([ev])
        elif isinstance(ev, IdleTimeout):
            with self.lock:
                for _table, match in ev.entries:
                    self._idle(match)
        elif isinstance(ev, DigestSample):
            self._digests([ev])
        elif ev is not None:
            log.warning("switch reported: %s", ev)

    def _digests(self, batch: list[DigestSample]) -> None:
        """TCP events: state changes of many sessions written in one batch
        (the newest entry of each session wins)."""
        self._round([], batch, flush=True)

    def _digest_mods(self, batch: list[DigestSample], mods: dict) -> None:
        """State changes of `batch` into `mods` (ident -> entry; the newest
        wins). Caller holds the lock."""
        tcp_event = self.mgr.tcp_event
        for ev in batch:
            v = ev.values
            plan = tcp_event(v.get("sess_idx", 0), v.get("gen", 0), v.get("side", 0),
                             v.get("kind", 0), v.get("flags", 0))
            for e in plan.modifies:
                mods[e.ident] = e
        self.digests += len(batch)

    def _idle(self, match: tuple) -> None:
        """One direction idle on one switch: the session ends only when both
        directions are idle on every switch (a one-way UDP stream keeps its
        session; so does a flow another switch of the group now carries);
        otherwise the switch re-notifies this entry later (every T on p4sw,
        every 2 s on BMv2)."""
        other = self.mgr.other_direction(match)
        if other is not None:
            this = self.mgr.other_direction(other.match)
            for c in self.clients:      # idle only if idle in both directions on every switch
                for e in (other, this):
                    elapsed = c.time_since_last_hit(e)
                    if elapsed is not None and elapsed < e.idle_timeout_ns:
                        return
        self._carry_out(self.mgr.idle(match))

    def _packet_ins(self, batch: list[PacketIn]) -> None:
        """New flows waiting together are created together; see `_round`."""
        self._round(batch, [])

    def _round(self, batch: list[PacketIn], digests: list[DigestSample],
               flush: bool = False) -> None:
        """One round of the event loop: new flows and TCP state changes that
        waited together go out in ONE P4Runtime Write (the new sessions'
        entries, then the state modifies, so a state change of a session
        re-written by a duplicate punt wins), then the packet-outs of the new
        flows. Under load this is what keeps connections/s up: the event
        thread pays one switch round trip per round, not one per flow or per
        TCP event; a lone flow is a round of one. State changes alone wait
        up to `mods_delay` for company (see __init__) unless `flush`.
        SYNPROXY packet-ins keep their own write + packet-out (their order
        matters per packet)."""
        t0 = time.perf_counter()
        writes: dict = {}
        mods = self._pending_mods
        outs = []
        debug = log.isEnabledFor(logging.DEBUG)
        with self.lock:
            for p in batch:
                reason = p.metadata.get("reason")
                if reason in (K.PUNT_SYNPROXY_ACK, K.PUNT_SYNPROXY_SYNACK):
                    plan = (self.mgr.synproxy_ack(p.payload, p.metadata.get("ingress_port", 0))
                            if reason == K.PUNT_SYNPROXY_ACK else self.mgr.synproxy_server(p.payload))
                    if debug:
                        log.debug("synproxy: %s", plan.note)
                    self._carry_out(plan, p.source)
                    continue
                if reason != K.PUNT_NEW_FLOW:
                    continue
                flow = parse_flow(p.payload)
                if flow is None:
                    continue
                plan = self.mgr.new_flow(flow)
                for e in plan.writes:   # a flow punted twice in one round: its entries once
                    writes[e.ident] = e
                if plan.reinject:
                    outs.append(p)
                if debug:
                    log.debug("new flow %s: %s", flow, plan.note)
            for ident in mods.keys() & writes.keys():
                del mods[ident]          # older than this round's entries
            if digests:
                if not mods:
                    self._pending_since = time.monotonic()
                self._digest_mods(digests, mods)
            for ident in mods.keys() & writes.keys():
                del writes[ident]        # this round's modify carries the newer state
            if writes or (mods and (flush or time.monotonic() - self._pending_since
                                    >= self.mods_delay)):
                ms = list(mods.values())
                mods.clear()
                for c in self.clients:
                    c.write(list(writes.values()), (), ms)
                self.writes += 1
        for p in outs:
            (p.source or self.clients[0]).packet_out(
                p.payload, op=K.OUT_OP_PIPELINE, ingress_port=p.metadata.get("ingress_port", 0))
        if batch:
            self.punts += len(batch)
            self.punt_batches += 1
            self.punt_latency_s += time.perf_counter() - t0

    def tick(self) -> None:
        """Timers: SYN retries and half-open resets, cookie secret rotation."""
        with self.lock:
            self._carry_out(self.mgr.tick())
            if time.monotonic() - self.last_rotate >= self.cfg.global_.cookie_rotate:
                self.last_rotate = time.monotonic()
                self._carry_out(self.mgr.rotate_secret())

    def run(self, max_batch: int = 64) -> None:
        """Handle events until stop() (or the switch closes the stream)."""
        next_tick = time.monotonic()
        while not self.stop_event.is_set():
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + 0.1
                try:
                    self.tick()
                except Exception as e:  # noqa: BLE001
                    log.error("timer handling failed: %s", e)
            wait = 0.1
            if self._pending_mods:
                wait = max(0.0, min(wait, self._pending_since + self.mods_delay - time.monotonic()))
            try:
                events = [self.events.get(timeout=wait)] if wait else [self.events.get_nowait()]
            except queue.Empty:
                if self._pending_mods and (time.monotonic() - self._pending_since
                                           >= self.mods_delay):
                    try:
                        with self.lock:
                            self._flush_mods()
                    except Exception as e:  # noqa: BLE001
                        log.error("writing TCP state changes failed: %s", e)
                continue
            while len(events) < max_batch:
                try:
                    events.append(self.events.get_nowait())
                except queue.Empty:
                    break
            packet_ins = [e for e in events if type(e) is PacketIn]
            digests = [e for e in events if type(e) is DigestSample]
            try:
                if packet_ins or digests:
                    self._round(packet_ins, digests)
                for ev in events:
                    if isinstance(ev, DigestSample):
                        continue
                    if ev is None:
                        log.error("P4Runtime stream closed")
                        self.stream_lost = True
                        self.stop_event.set()
                    elif not isinstance(ev, PacketIn):
                        self.handle(ev)
            except Exception as e:  # noqa: BLE001 - one bad event must not stop the daemon
                log.error("event handling failed: %s", e)
        if not self.stream_lost:
            try:
                self.flush()
            except Exception as e:  # noqa: BLE001 - shutting down anyway
                log.warning("writing TCP state changes at stop failed: %s", e)

    def stop(self) -> None:
        self.stop_event.set()

    def flush(self) -> None:
        """Write any deferred TCP state changes now."""
        with self.lock:
            self._flush_mods()

    # ------------------------------------------------------------ commands
    def command(self, req: Any) -> dict:
        """Run one request from the control socket; anything malformed (not an
        object, unknown or missing fields, wrong types) is a CommandError
        naming the problem, checked before the command runs."""
        if not isinstance(req, dict):
            raise CommandError(f"bad request: expected a JSON object, not {_json_type(req)}")
        cmd = req.get("cmd")
        if not isinstance(cmd, str):
            raise CommandError("bad request: 'cmd' must be a string naming the command")
        fn = getattr(self, f"cmd_{cmd.replace('-', '_')}", None)
        if fn is None or not cmd or "_" in cmd:
            raise CommandError(f"unknown command {cmd!r}")
        args = {k: v for k, v in req.items() if k != "cmd"}
        _check_fields(cmd, inspect.signature(fn), args)
        with self.lock:
            return fn(**args)

    def cmd_list(self) -> dict:
        svc_stats = self._read_counter(K.C_SERVICE_STATS)
        rs_stats = self._read_counter(K.C_REAL_SERVER_STATS)
        drops = self._read_counter(K.C_DROP_STATS)
        sp = self._read_counter(K.C_SYNPROXY_STATS)
        active: dict[tuple, int] = {}
        for rec in self.mgr.sessions():
            active[(rec.service, *rec.server)] = active.get((rec.service, *rec.server), 0) + 1
        services = []
        for name, st in self.mgr.services.items():
            s = st.svc
            si = self.mgr.svc_index.get(name)
            servers = []
            for (addr, port), w in st.weights.items():
                ri = self.mgr.rs_index.get((name, addr, port))
                pk, by = rs_stats.get(ri, (0, 0))
                servers.append({"ip": addr, "port": port, "weight": w,
                                "active": active.get((name, addr, port), 0),
                                "packets": pk, "bytes": by})
            pk, by = svc_stats.get(si, (0, 0))
            services.append({"name": name, "vip": s.vip, "port": s.port, "protocol": s.protocol,
                             "scheduler": s.scheduler, "packets": pk, "bytes": by,
                             "servers": servers})
        return {"services": services,
                "drops": {K.DROP_REASONS[i]: {"packets": p, "bytes": b}
                          for i, (p, b) in sorted(drops.items()) if i in K.DROP_REASONS and p},
                "sessions": len(self.mgr.sessions()),
                "session_entries": self._session_entries(),
                "synproxy": {name: sp.get(i, (0, 0))[0] for i, name in K.SP_STATS.items()},
                "tcp_states": _count_states(self.mgr.sessions()),
                "controller": {**asdict(self.mgr.stats), "punts": self.punts,
                               "digests": self.digests, "writes": self.writes,
                               "punt_batches": self.punt_batches,
                               "mean_batch_ms": round(1000 * self.punt_latency_s / self.punt_batches, 3)
                               if self.punt_batches else 0.0},
                "pools": [{"partition": p.partition, "in_use": p.in_use, "capacity": p.capacity,
                           "exhausted": p.exhausted} for p in self.mgr.pools]}

    def _session_entries(self) -> int | None:
        """Entries in the (first) switch's session table, read back: what the
        data plane really holds (two per session)."""
        try:
            return self.clients[0].read_table_count(K.T_SESSION)
        except Exception:  # noqa: BLE001 - a listing without it is still useful
            return None

    def cmd_add_service(self, name: str, vip: str, port: int, protocol: str = "tcp",
                        scheduler: str = "wrr") -> dict:
        try:
            svc = validate_service({"name": name, "vip": vip, "port": port, "protocol": protocol,
                                    "scheduler": scheduler})
        except ConfigError as e:
            raise CommandError("; ".join(f"{i.where}: {i.message}" for i in e.issues)) from None
        if svc.vip not in {s.svc.vip for s in self.mgr.services.values()}:
            raise CommandError(f"VIP {vip} is not configured (add it to the config file: its ARP "
                               "and address entries come from there)")
        try:
            plan = self.mgr.add_service(svc)
        except ValueError as e:
            raise CommandError(str(e)) from None
        self._carry_out(plan)
        return {"ok": plan.note}

    def cmd_del_service(self, name: str) -> dict:
        try:
            plan = self.mgr.del_service(name)
        except KeyError as e:
            raise CommandError(e.args[0]) from None
        self._carry_out(plan)
        return {"ok": plan.note}

    def cmd_add_server(self, service: str, ip: str, port: int, weight: int = 1) -> dict:
        """ipvsadm -a: refuses a real server the service already has."""
        rs = self._real_server(service, ip, port, weight)
        cur = self._weights(service).get((rs.ip, rs.port))
        if cur is not None:
            raise CommandError(f"service '{service}' already has real server {rs.ip}:{rs.port} "
                               f"(weight {cur}); change its weight with set-weight")
        return {"ok": self.mgr.set_server(service, rs).note}

    def cmd_set_weight(self, service: str, ip: str, port: int, weight: int) -> dict:
        """ipvsadm -e: refuses a real server the service does not have."""
        rs = self._real_server(service, ip, port, weight)
        if (rs.ip, rs.port) not in self._weights(service):
            raise CommandError(f"service '{service}' has no real server {rs.ip}:{rs.port} "
                               "(add it with add-server)")
        return {"ok": self.mgr.set_server(service, rs).note}

    def _weights(self, service: str) -> dict[tuple[str, int], int]:
        st = self.mgr.services.get(service)
        if st is None:
            raise CommandError(f"no service '{service}' (have: "
                               f"{', '.join(sorted(self.mgr.services)) or 'none'})")
        return st.weights

    @staticmethod
    def _real_server(service: str, ip: str, port: int, weight: int) -> RealServer:
        """Checked like a [[service.server]] of the config file."""
        try:
            addr = str(ipaddress.IPv4Address(ip))
        except ValueError:
            raise CommandError(f"'{ip}' is not an IPv4 address") from None
        if not 1 <= port <= 65535:
            raise CommandError(f"port {port} is outside 1..65535")
        if not 0 <= weight <= MAX_WEIGHT:
            raise CommandError(f"weight {weight} is outside 0..{MAX_WEIGHT}")
        return RealServer(addr, port, weight)

    def cmd_del_server(self, service: str, ip: str, port: int, flush: bool = False) -> dict:
        try:
            plan = self.mgr.del_server(service, ip, int(port), flush)
        except KeyError as e:
            raise CommandError(e.args[0]) from None
        self._carry_out(plan)
        return {"ok": plan.note}

    def cmd_sessions(self) -> dict:
        return {"sessions": [{"service": r.service, "protocol": r.inbound.protocol,
                              "client": f"{r.inbound.src}:{r.inbound.sport}",
                              "local": f"{r.local.addr}:{r.local.port}",
                              "server": f"{r.server[0]}:{r.server[1]}",
                              "partition": r.partition, "state": r.state,
                              "synproxy": r.synproxy} for r in self.mgr.sessions()]}


_JSON_TYPES = {"str": str, "int": int, "bool": bool}


def _json_type(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _check_fields(cmd: str, sig: inspect.Signature, args: dict) -> None:
    """The request's fields against the command method's parameters and their
    annotations (str, int, bool; a bool is not an int)."""
    params = sig.parameters
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise CommandError(f"bad request: '{cmd}' has no field {', '.join(map(repr, unknown))} "
                           f"(fields: {', '.join(params) or 'none'})")
    missing = [n for n, p in params.items() if p.default is inspect.Parameter.empty and n not in args]
    if missing:
        raise CommandError(f"bad request: '{cmd}' needs field {', '.join(map(repr, missing))}")
    for name, value in args.items():
        want = _JSON_TYPES.get(str(params[name].annotation))
        if want is None:
            continue
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise CommandError(f"bad request: '{cmd}' field '{name}' must be "
                               f"{_json_type(want())}, not {_json_type(value)}")


def _count_states(recs) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in recs:
        out[r.state] = out.get(r.state, 0) + 1
    return out


# ---------------------------------------------------------------- control socket
class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        ctl: Controller = self.server.controller   # type: ignore[attr-defined]
        for line in self.rfile:
            try:
                resp = ctl.command(json.loads(line))
            except CommandError as e:
                resp = {"error": str(e)}
            except (ValueError, TypeError) as e:
                resp = {"error": f"bad request: {e}"}
            except Exception as e:  # noqa: BLE001 - e.g. the switch went away
                resp = {"error": f"{type(e).__name__}: {e}"}
            self.wfile.write((json.dumps(resp) + "\n").encode())
            self.wfile.flush()


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """One JSON object per line in, one per line out, on a unix socket (mode 0600)."""
    daemon_threads = True

    def __init__(self, path: str | Path, controller: Controller):
        problem = socket_path_problem(path)
        if problem:
            raise CommandError(problem)
        p = Path(path)
        if p.exists():
            try:     # a live daemon answers; a stale socket file does not
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(p))
                s.close()
                raise CommandError(f"another p4lvs daemon is listening on {p}")
            except ConnectionRefusedError:
                p.unlink()
        p.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(str(p), _Handler)
        os.chmod(p, 0o600)
        self.controller = controller
        self.path = p

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)


#: sizeof(sun_path) on Linux, less the terminating NUL
MAX_SOCKET_PATH = 107


def socket_path_problem(path: str | Path) -> str | None:
    """Why `path` cannot be a unix socket address (None if it can): the
    kernel's limit, said plainly instead of socket's bare OSError."""
    n = len(os.fsencode(str(path)))
    if n > MAX_SOCKET_PATH:
        return (f"control socket path is {n} bytes long; a unix socket path holds at most "
                f"{MAX_SOCKET_PATH} (use a shorter --socket): {path}")
    return None


def request(path: str | Path, req: dict, timeout: float = 10.0) -> dict:
    """Send one command to a running daemon."""
    problem = socket_path_problem(path)
    if problem:
        raise CommandError(problem)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(str(path))
    except OSError as e:
        s.close()
        raise CommandError(f"no p4lvs daemon at {path}: {e.strerror or e}") from None
    try:
        with s, s.makefile("rwb") as f:
            f.write((json.dumps(req) + "\n").encode())
            f.flush()
            line = f.readline()
    except OSError as e:      # incl. the timeout
        raise CommandError(f"p4lvs daemon at {path}: {e.strerror or e or 'timed out'}") from None
    if not line:
        raise CommandError("the daemon closed the connection")
    try:
        return json.loads(line)
    except ValueError:
        raise CommandError(f"{path} did not answer like a p4lvs daemon") from None
