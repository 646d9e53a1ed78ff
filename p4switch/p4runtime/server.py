"""The p4.v1.P4Runtime gRPC service over one or more hosted switches.

    server = P4RuntimeServer("127.0.0.1:9559")
    server.add_device(0, host)          # host: host.SwitchHost
    server.start(); ...; server.stop()

Every RPC resolves its device, checks arbitration and the pipeline, then runs
the translation on the device's data-path thread (``host.call``).  Write errors
are reported as the spec describes: status UNKNOWN whose details hold one
``p4.v1.Error`` per update, in order (OK for those that succeeded).
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2

from p4common.proto import p4runtime_pb2, p4runtime_pb2_grpc

from . import stream as stream_mod
from .arbitration import Arbiter, Client
from .errors import Code, P4RTError, from_switch_error
from .translate import Pipeline

log = logging.getLogger("p4sw.p4runtime")
API_VERSION = "1.6.0"
READ_CHUNK = 512
_UPD = p4runtime_pb2.Update
_CFG = p4runtime_pb2.SetForwardingPipelineConfigRequest
_GET = p4runtime_pb2.GetForwardingPipelineConfigRequest
_WR = p4runtime_pb2.WriteRequest
_SMR = p4runtime_pb2.StreamMessageResponse


def _eid(msg: Any) -> tuple[int, int] | None:
    return (msg.election_id.high, msg.election_id.low) if msg.HasField("election_id") else None


class Device:
    """One switch as a P4Runtime device: pipeline, arbitration, streams."""

    def __init__(self, device_id: int, host: Any):
        self.device_id = device_id
        self.host = host
        self.pipeline: Pipeline | None = None
        self.saved: Pipeline | None = None
        self.arbiter = Arbiter()
        self.lock = threading.RLock()
        # {role: primary Client}, rebuilt lazily after any arbitration change
        # (arbitration_changed): PacketIn/PacketOut consult it per packet.
        self._primaries: dict[str, Client] | None = None
        self.digests = stream_mod.DigestManager(self._to_primaries, self._wake)
        self._ticker_wake = threading.Event()
        self._stopping = False
        self._ticker = threading.Thread(target=self._tick_loop, name=f"p4rt-tick-{device_id}", daemon=True)
        self._ticker.start()
        host.after_batch.append(self._drain_digests)
        if host.cpu_port is not None:
            host.cpu_port.on_transmit = self._packet_in

    # -- data-path hooks (loop thread) ---------------------------------------
    def _drain_digests(self) -> None:
        sw = self.host.switch
        if sw is None or not sw.digests:
            return
        ds = list(sw.digests)
        sw.digests.clear()
        self.digests.add(ds)

    def _packet_in(self, _port: int, frame: bytes) -> None:
        pl = self.pipeline
        if pl is None:
            return
        prim = self.primaries()
        if not prim:
            return                      # nobody to tell: skip building the message
        msg = _SMR()
        pl.fill_packet_in(msg.packet, frame)
        for c in prim.values():
            c.stream.put(msg)

    def primaries(self) -> dict[str, Client]:
        """{role: primary client} (cached until the next arbitration change)."""
        prim = self._primaries
        if prim is not None:
            return prim
        with self.lock:
            prim = self._primaries
            if prim is None:
                prim = {}
                for r in {c.role for c in self.arbiter.clients}:
                    p = self.arbiter.primary(r)
                    if p is not None:
                        prim[r] = p
                self._primaries = prim
            return prim

    def arbitration_changed(self) -> None:
        """Call (under `lock`) after any change to `arbiter`."""
        self._primaries = None

    def _to_primaries(self, msg: Any) -> None:
        if not isinstance(msg, _SMR):
            wrapped = _SMR()
            if isinstance(msg, p4runtime_pb2.DigestList):
                wrapped.digest.CopyFrom(msg)
            else:
                wrapped.idle_timeout_notification.CopyFrom(msg)
            msg = wrapped
        for c in self.primaries().values():
            c.stream.put(msg)

    # -- timers: digest deadlines and idle-timeout sweeps ------------------------
    def _wake(self) -> None:
        self._ticker_wake.set()

    def _tick_loop(self) -> None:
        wait = 0.25
        while not self._stopping:
            self._ticker_wake.wait(wait)
            self._ticker_wake.clear()
            if self._stopping:
                return
            wait = 0.25
            try:
                nxt = self.digests.tick()
                if nxt is not None:
                    wait = min(wait, max(nxt, 0.001))
                pl = self.pipeline
                # idle_heap is only read here (a hint); the sweep runs on the loop thread
                if pl is not None and pl.idle_heap:
                    due, period = self.host.call(lambda: stream_mod.idle_sweep(pl), timeout=10)
                    if due:
                        note = p4runtime_pb2.IdleTimeoutNotification(timestamp=time.time_ns())
                        note.table_entry.extend(due)
                        self._to_primaries(note)
                    if period is not None:
                        wait = min(wait, period)
            except Exception:  # noqa: BLE001 - the ticker must survive anything
                log.exception("device %d: timer", self.device_id)

    def close(self) -> None:
        self._stopping = True
        self._ticker_wake.set()
        with self.lock:
            for c in list(self.arbiter.clients):
                c.stream.close()

    # -- checks -------------------------------------------------------------------
    def need_pipeline(self) -> Pipeline:
        pl = self.pipeline
        if pl is None:
            raise P4RTError(Code.FAILED_PRECONDITION, "no forwarding pipeline config set")
        return pl

    def live_pipeline(self) -> Pipeline:
        """The pipeline, as seen from the data-path thread (call it there): also
        FAILED_PRECONDITION when the runtime CLI swapped in another switch."""
        pl = self.need_pipeline()
        if self.host.switch is not pl.sw:
            raise P4RTError(Code.FAILED_PRECONDITION, "the switch was replaced through the runtime CLI "
                            "(swap_configs); set the forwarding pipeline again")
        return pl

    def check_primary(self, role: str, eid: tuple[int, int] | None, what: str) -> None:
        with self.lock:
            self.arbiter.check_primary(role, eid, what)

    # -- pipeline ---------------------------------------------------------------------
    def build(self, cfg: Any) -> Pipeline:
        if not cfg.HasField("p4info"):
            raise P4RTError(Code.INVALID_ARGUMENT, "the config has no p4info")
        if not cfg.p4_device_config:
            raise P4RTError(Code.INVALID_ARGUMENT, "the config has no p4_device_config (BMv2 JSON)")
        try:
            sw = self.host.make_switch(bytes(cfg.p4_device_config))
        except Exception as e:  # noqa: BLE001 - JsonLoadError and friends
            raise P4RTError(Code.INVALID_ARGUMENT, f"p4_device_config: {e}") from None
        return Pipeline(cfg.p4info, sw, bytes(cfg.p4_device_config),
                        cfg.cookie.cookie if cfg.HasField("cookie") else 0)

    def commit(self, pl: Pipeline, reconcile: bool = False) -> None:
        old = self.pipeline

        def swap() -> None:
            if reconcile and old is not None:
                replay(old, pl)
            self.host.install(pl.sw)
            self.pipeline = pl
            self.digests.reset(pl)
        self.host.call(swap)


def replay(old: Pipeline, new: Pipeline) -> None:
    """RECONCILE_AND_COMMIT: copy the forwarding state of `old` into `new`."""
    reqs = [
        ("action_profile_member", old.read_members(p4runtime_pb2.ActionProfileMember()), new.write_member),
        ("action_profile_group", old.read_groups(p4runtime_pb2.ActionProfileGroup()), new.write_group),
        ("table_entry", old.read_table_entries(p4runtime_pb2.TableEntry(counter_data={}, meter_config={})),
         new.write_table_entry),
        ("packet_replication_engine_entry", old.read_pre(p4runtime_pb2.PacketReplicationEngineEntry()),
         new.write_pre),
        ("register_entry", old.read_registers(p4runtime_pb2.RegisterEntry()), new.write_register),
        ("counter_entry", old.read_counters(p4runtime_pb2.CounterEntry()), new.write_counter),
    ]
    for kind, items, write in reqs:
        for it in items:
            op = _UPD.MODIFY if kind in ("register_entry", "counter_entry") else _UPD.INSERT
            try:
                write(op, it)
            except P4RTError as e:
                raise P4RTError(Code.FAILED_PRECONDITION,
                                f"cannot reconcile {kind} into the new pipeline: {e.message}") from None


_WRITERS = {
    "table_entry": Pipeline.write_table_entry,
    "action_profile_member": Pipeline.write_member,
    "action_profile_group": Pipeline.write_group,
    "counter_entry": Pipeline.write_counter,
    "direct_counter_entry": Pipeline.write_direct_counter,
    "meter_entry": Pipeline.write_meter,
    "direct_meter_entry": Pipeline.write_direct_meter,
    "register_entry": Pipeline.write_register,
    "packet_replication_engine_entry": Pipeline.write_pre,
    "value_set_entry": Pipeline.write_value_set,
}
_READERS = {
    "table_entry": Pipeline.read_table_entries,
    "action_profile_member": Pipeline.read_members,
    "action_profile_group": Pipeline.read_groups,
    "counter_entry": Pipeline.read_counters,
    "direct_counter_entry": Pipeline.read_direct_counters,
    "meter_entry": Pipeline.read_meters,
    "direct_meter_entry": Pipeline.read_direct_meters,
    "register_entry": Pipeline.read_registers,
    "packet_replication_engine_entry": Pipeline.read_pre,
    "value_set_entry": Pipeline.read_value_sets,
}


def apply_updates(dev: Device, pl: Pipeline, updates: Any, atomicity: int) -> list[P4RTError | None]:
    """Run on the data-path thread: apply a batch, return one result per update."""
    results: list[P4RTError | None] = []
    undos: list = []
    rollback = atomicity in (_WR.ROLLBACK_ON_ERROR, _WR.DATAPLANE_ATOMIC)
    for u in updates:
        try:
            undo = apply_one(dev, pl, u, rollback)
            results.append(None)
            if rollback and undo is not None:
                undos.append(undo)
        except Exception as e:  # noqa: BLE001 - every failure becomes a status
            err = from_switch_error(e)
            if err.code == Code.INTERNAL:
                log.exception("write: internal error")
            results.append(err)
            if rollback:
                for undo in reversed(undos):
                    try:
                        undo()
                    except Exception:  # noqa: BLE001
                        log.exception("rollback step failed")
                n = len(results)
                results = [r if r is not None else P4RTError(Code.ABORTED, "rolled back")
                           for r in results]
                results += [P4RTError(Code.ABORTED, "not applied: an earlier update failed")] * (len(updates) - n)
                return results
    return results


def apply_one(dev: Device, pl: Pipeline, u: Any, rollback: bool = True) -> Any:
    if u.type not in (_UPD.INSERT, _UPD.MODIFY, _UPD.DELETE):
        raise P4RTError(Code.INVALID_ARGUMENT, "update type must be INSERT, MODIFY or DELETE")
    which = u.entity.WhichOneof("entity")
    if which is None:
        raise P4RTError(Code.INVALID_ARGUMENT, "update without an entity")
    if which == "digest_entry":
        return write_digest(dev, pl, u.type, u.entity.digest_entry)
    if which == "table_entry":
        return pl.write_table_entry(u.type, u.entity.table_entry, rollback)
    w = _WRITERS.get(which)
    if w is None:
        raise P4RTError(Code.UNIMPLEMENTED, f"{which} is not supported")
    return w(pl, u.type, getattr(u.entity, which))


def write_digest(dev: Device, pl: Pipeline, op: int, d: Any) -> Any:
    if d.digest_id not in pl.digests:
        raise P4RTError(Code.NOT_FOUND, f"no digest with id {d.digest_id}")
    mgr = dev.digests
    old = mgr.config(d.digest_id)
    if op == _UPD.INSERT and old is not None:
        raise P4RTError(Code.ALREADY_EXISTS, f"digest {d.digest_id} is already configured")
    if op in (_UPD.MODIFY, _UPD.DELETE) and old is None:
        raise P4RTError(Code.NOT_FOUND, f"digest {d.digest_id} is not configured")
    if op != _UPD.DELETE:
        if not d.HasField("config"):
            raise P4RTError(Code.INVALID_ARGUMENT, "digest entry without a config")
        c = d.config
        if c.max_timeout_ns < 0 or c.ack_timeout_ns < 0 or c.max_list_size < 0:
            raise P4RTError(Code.INVALID_ARGUMENT, "digest config values must not be negative")
        new = p4runtime_pb2.DigestEntry.Config()
        new.CopyFrom(c)
        mgr.configure(d.digest_id, new)
    else:
        mgr.configure(d.digest_id, None)
    return lambda: mgr.configure(d.digest_id, old)


def read_digests(dev: Device, pl: Pipeline, d: Any) -> list:
    ids = [d.digest_id] if d.digest_id else list(pl.digests)
    out = []
    for did in ids:
        if did not in pl.digests:
            raise P4RTError(Code.NOT_FOUND, f"no digest with id {did}")
        cfg = dev.digests.config(did)
        if cfg is not None:
            de = p4runtime_pb2.DigestEntry(digest_id=did)
            de.config.CopyFrom(cfg)
            out.append(de)
    return out


class P4RuntimeServicer(p4runtime_pb2_grpc.P4RuntimeServicer):
    def __init__(self, server: "P4RuntimeServer"):
        self.srv = server

    # helpers
    def _device(self, device_id: int) -> Device:
        dev = self.srv.devices.get(device_id)
        if dev is None:
            raise P4RTError(Code.NOT_FOUND, f"no device with id {device_id}")
        return dev

    @staticmethod
    def _abort(context: Any, err: P4RTError, details: list | None = None) -> None:
        st = status_pb2.Status(code=int(err.code), message=err.message)
        for d in details or []:
            a = any_pb2.Any()
            a.Pack(d)
            st.details.append(a)
        context.set_trailing_metadata((("grpc-status-details-bin", st.SerializeToString()),))
        context.abort(grpc.StatusCode[err.code.name], err.message)

    def _guard(self, context: Any, fn: Any) -> Any:
        try:
            return fn()
        except P4RTError as e:
            self._abort(context, e, getattr(e, "details", None))
        except Exception as e:  # noqa: BLE001 - never a traceback to the client
            err = from_switch_error(e)
            log.exception("internal error")
            self._abort(context, err)

    # RPCs
    def Capabilities(self, request, context):
        return p4runtime_pb2.CapabilitiesResponse(p4runtime_api_version=API_VERSION)

    def SetForwardingPipelineConfig(self, request, context):
        def run():
            dev = self._device(request.device_id)
            role = request.role
            dev.check_primary(role, _eid(request), "SetForwardingPipelineConfig")
            act = request.action
            if act in (_CFG.VERIFY, _CFG.VERIFY_AND_SAVE, _CFG.VERIFY_AND_COMMIT, _CFG.RECONCILE_AND_COMMIT):
                pl = dev.build(request.config)
                if act == _CFG.VERIFY_AND_SAVE:
                    dev.saved = pl
                elif act in (_CFG.VERIFY_AND_COMMIT, _CFG.RECONCILE_AND_COMMIT):
                    dev.commit(pl, reconcile=act == _CFG.RECONCILE_AND_COMMIT)
                    dev.saved = None
            elif act == _CFG.COMMIT:
                if dev.saved is None:
                    raise P4RTError(Code.FAILED_PRECONDITION, "COMMIT without a saved config "
                                    "(use VERIFY_AND_SAVE first)")
                pl, dev.saved = dev.saved, None
                dev.commit(pl)
            else:
                raise P4RTError(Code.INVALID_ARGUMENT, f"unknown action {act}")
            return p4runtime_pb2.SetForwardingPipelineConfigResponse()
        return self._guard(context, run)

    def GetForwardingPipelineConfig(self, request, context):
        def run():
            dev = self._device(request.device_id)
            pl = dev.need_pipeline()
            resp = p4runtime_pb2.GetForwardingPipelineConfigResponse()
            cfg = resp.config
            rt = request.response_type
            if rt not in (_GET.ALL, _GET.COOKIE_ONLY, _GET.P4INFO_AND_COOKIE, _GET.DEVICE_CONFIG_AND_COOKIE):
                raise P4RTError(Code.INVALID_ARGUMENT, f"unknown response type {rt}")
            if rt in (_GET.ALL, _GET.P4INFO_AND_COOKIE):
                cfg.p4info.CopyFrom(pl.p4info)
            if rt in (_GET.ALL, _GET.DEVICE_CONFIG_AND_COOKIE):
                cfg.p4_device_config = pl.device_config
            cfg.cookie.cookie = pl.cookie
            return resp
        return self._guard(context, run)

    def Write(self, request, context):
        def run():
            dev = self._device(request.device_id)
            dev.need_pipeline()   # FAILED_PRECONDITION before any other check
            dev.check_primary(request.role, _eid(request), "Write")
            if request.atomicity not in (_WR.CONTINUE_ON_ERROR, _WR.ROLLBACK_ON_ERROR, _WR.DATAPLANE_ATOMIC):
                raise P4RTError(Code.INVALID_ARGUMENT, f"unknown atomicity {request.atomicity}")
            results = dev.host.call(lambda: apply_updates(dev, dev.live_pipeline(), request.updates,
                                                          request.atomicity))
            if all(r is None for r in results):
                return p4runtime_pb2.WriteResponse()
            details = [p4runtime_pb2.Error(canonical_code=int(Code.OK)) if r is None else
                       p4runtime_pb2.Error(canonical_code=int(r.code), message=r.message)
                       for r in results]
            bad = [r for r in results if r is not None]
            msg = "; ".join(f"#{i}: {r.code.name}: {r.message}" for i, r in enumerate(results) if r)[:2000]
            err = P4RTError(Code.UNKNOWN, f"{len(bad)} of {len(results)} update(s) failed: {msg}")
            err.details = details  # type: ignore[attr-defined]
            raise err
        return self._guard(context, run)

    def Read(self, request, context):
        def run():
            dev = self._device(request.device_id)
            dev.need_pipeline()   # FAILED_PRECONDITION before any other check
            if not len(request.entities):
                return []

            def read_all():
                pl = dev.live_pipeline()
                out = []
                for ent in request.entities:
                    which = ent.WhichOneof("entity")
                    if which is None:
                        raise P4RTError(Code.INVALID_ARGUMENT, "read of an empty entity")
                    if which == "digest_entry":
                        items = read_digests(dev, pl, ent.digest_entry)
                    else:
                        r = _READERS.get(which)
                        if r is None:
                            raise P4RTError(Code.UNIMPLEMENTED, f"reading {which} is not supported")
                        items = r(pl, getattr(ent, which))
                    out.extend((which, it) for it in items)
                return out
            return dev.host.call(read_all)
        items = self._guard(context, run)
        for i in range(0, len(items), READ_CHUNK):
            resp = p4runtime_pb2.ReadResponse()
            for which, it in items[i:i + READ_CHUNK]:
                getattr(resp.entities.add(), which).CopyFrom(it)
            yield resp
        if not items:
            yield p4runtime_pb2.ReadResponse()

    def StreamChannel(self, request_iterator, context):
        box = stream_mod.Outbox()
        client = Client(box)
        state: dict[str, Any] = {"dev": None}

        def reader() -> None:
            try:
                for req in request_iterator:
                    self._stream_request(req, client, state, box)
            except Exception:  # noqa: BLE001 - the client went away
                pass
            finally:
                self._leave(client, state)
                box.close()
        context.add_callback(lambda: (self._leave(client, state), box.close()))
        threading.Thread(target=reader, daemon=True, name="p4rt-stream").start()
        for msg in box:
            yield msg

    def _leave(self, client: Client, state: dict) -> None:
        dev = state.get("dev")
        if dev is None:
            return
        state["dev"] = None
        with dev.lock:
            role = dev.arbiter.remove(client)
            dev.arbitration_changed()
        if role is not None:
            self.srv.notify(dev, role)

    def _stream_request(self, req: Any, client: Client, state: dict, box: stream_mod.Outbox) -> None:
        which = req.WhichOneof("update")
        dev: Device | None = state["dev"]
        if which == "arbitration":
            a = req.arbitration
            try:
                d = self._device(a.device_id)
                if dev is not None and d is not dev:
                    raise P4RTError(Code.FAILED_PRECONDITION, "a stream cannot change its device")
                role = a.role.name if a.HasField("role") else ""
                if a.HasField("role") and a.role.HasField("config"):
                    raise P4RTError(Code.UNIMPLEMENTED, "role configs")
                with d.lock:
                    try:
                        roles = d.arbiter.update(client, role, _eid(a))
                    finally:
                        d.arbitration_changed()
                state["dev"] = d
                for r in roles:
                    self.srv.notify(d, r)
            except P4RTError as e:
                self._stream_error(box, e)
            return
        if dev is None:
            self._stream_error(box, P4RTError(Code.FAILED_PRECONDITION,
                                              "send a MasterArbitrationUpdate first"))
            return
        if which == "packet":
            try:
                if dev.primaries().get(client.role) is not client:
                    raise P4RTError(Code.PERMISSION_DENIED, "PacketOut from a non-primary client")
                pl = dev.need_pipeline()
                if dev.host.cpu_port is None:
                    raise P4RTError(Code.FAILED_PRECONDITION, "the switch has no CPU port (--cpu-port)")
                dev.host.inject(pl.packet_out_frame(req.packet))
            except P4RTError as e:
                self._stream_error(box, e, packet=req.packet)
        elif which == "digest_ack":
            dev.digests.ack(req.digest_ack.digest_id, req.digest_ack.list_id)
        else:
            self._stream_error(box, P4RTError(Code.UNIMPLEMENTED, f"stream message {which}"))

    @staticmethod
    def _stream_error(box: stream_mod.Outbox, e: P4RTError, packet: Any = None) -> None:
        m = p4runtime_pb2.StreamMessageResponse()
        m.error.canonical_code = int(e.code)
        m.error.message = e.message
        if packet is not None:
            m.error.packet_out.packet_out.CopyFrom(packet)
        box.put(m)


class P4RuntimeServer:
    """A gRPC server for one or more devices (one per device id)."""

    def __init__(self, addr: str = "127.0.0.1:9559", max_workers: int = 32):
        self.addr = addr
        self.devices: dict[int, Device] = {}
        self.grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers,
                                                           thread_name_prefix="p4rt"),
                                options=[("grpc.max_receive_message_length", 256 << 20),
                                         ("grpc.max_send_message_length", 256 << 20)])
        p4runtime_pb2_grpc.add_P4RuntimeServicer_to_server(P4RuntimeServicer(self), self.grpc)
        self.port = self.grpc.add_insecure_port(addr)
        if not self.port:
            raise OSError(f"cannot listen on {addr}")

    def add_device(self, device_id: int, host: Any) -> Device:
        if device_id in self.devices:
            raise ValueError(f"device id {device_id} given twice")
        dev = Device(device_id, host)
        self.devices[device_id] = dev
        return dev

    def notify(self, dev: Device, role: str) -> None:
        """Tell every client of `role` who the primary is now."""
        with dev.lock:
            primary = dev.arbiter.primary(role)
            clients = dev.arbiter.role_clients(role)
        for c in clients:
            m = p4runtime_pb2.StreamMessageResponse()
            a = m.arbitration
            a.device_id = dev.device_id
            if role:
                a.role.name = role
            eid = primary.election_id if primary else c.election_id
            if eid is not None:
                a.election_id.high, a.election_id.low = eid
            if primary is None:
                a.status.code = int(Code.NOT_FOUND)
                a.status.message = "no primary"
            elif primary is c:
                a.status.code = int(Code.OK)
                a.status.message = "is primary"
            else:
                a.status.code = int(Code.ALREADY_EXISTS)
                a.status.message = "is backup"
            c.stream.put(m)

    def start(self) -> "P4RuntimeServer":
        self.grpc.start()
        return self

    def stop(self, grace: float = 0.5) -> None:
        for d in self.devices.values():
            d.close()
        self.grpc.stop(grace).wait(5)
