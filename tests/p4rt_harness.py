"""Shared set-up for the P4Runtime tests: a server to talk to, and a small
raw-gRPC client (p4common.proto stubs) for the checks the client libraries hide.

Target: by default a p4sw P4Runtime server started in this process over in-memory
ports (so tests can put frames on the "wire" and see what leaves).  With
``P4LVS_P4RT_TARGET=host:port`` (and optionally ``P4LVS_P4RT_DEVICE_ID``) the tests
talk to that server instead, e.g. a real simple_switch_grpc started with
``--cpu-port 64``; tests that need the wire or what BMv2 lacks skip there.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("P4LVS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
GRPC_DATA = SHARED / "conformance" / "bmv2-testdata" / "simple_switch_grpc"
P4C_JSON = SHARED / "conformance" / "p4c-json"
PROGRAMS = Path(__file__).resolve().parent / "p4rt_programs"
EXTERNAL = os.environ.get("P4LVS_P4RT_TARGET")
CPU_PORT = 64
WIRE_PORTS = [1, 2, 3, 4]


def program(name: str) -> tuple[Path, Path]:
    """(BMv2 JSON, P4Info text) of a test program."""
    for d, ext in ((GRPC_DATA, ".proto.txt"), (PROGRAMS, ".p4info.txtpb"), (P4C_JSON, ".p4info.txtpb")):
        j = d / f"{name}.json"
        if j.exists() and (d / f"{name}{ext}").exists():
            return j, d / f"{name}{ext}"
    raise FileNotFoundError(name)


@dataclass
class Target:
    addr: str
    device_id: int
    is_p4sw: bool
    server: Any = None
    hosts: dict = field(default_factory=dict)     # device id -> SwitchHost
    wires: dict = field(default_factory=dict)     # device id -> {port: MemoryPort}

    def wire(self, device_id: int | None = None) -> dict:
        return self.wires[self.device_id if device_id is None else device_id]

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        for h in self.hosts.values():
            h.stop()
            h.close()
            h.loop.close()


def start_inprocess(device_ids=(0,)) -> Target:
    from p4switch.p4runtime.host import memory_host
    from p4switch.p4runtime.server import P4RuntimeServer
    server = P4RuntimeServer("127.0.0.1:0")
    t = Target(f"127.0.0.1:{server.port}", device_ids[0], True, server)
    for d in device_ids:
        host, mem = memory_host(WIRE_PORTS, CPU_PORT)
        server.add_device(d, host)
        host.start()
        t.hosts[d] = host
        t.wires[d] = mem
    server.start()
    return t


def make_target() -> Target:
    if EXTERNAL:
        return Target(EXTERNAL, int(os.environ.get("P4LVS_P4RT_DEVICE_ID", "0")), False)
    return start_inprocess((0, 1))


def wait_sent(port: Any, n: int = 1, timeout: float = 3.0) -> list[bytes]:
    """Frames a MemoryPort transmitted (waits for at least `n`)."""
    end = time.monotonic() + timeout
    while len(port.sent) < n and time.monotonic() < end:
        time.sleep(0.005)
    return port.take_sent()


class RawClient:
    """A minimal P4Runtime client over the project's generated stubs."""

    def __init__(self, addr: str, device_id: int = 0, election: tuple[int, int] | None = (0, 1),
                 role: str | None = None, arbitrate: bool = True):
        import grpc

        from p4common.proto import p4runtime_pb2, p4runtime_pb2_grpc
        self.pb = p4runtime_pb2
        self.grpc = grpc
        self.channel = grpc.insecure_channel(addr)
        self.stub = p4runtime_pb2_grpc.P4RuntimeStub(self.channel)
        self.device_id = device_id
        self.election = election
        self.role = role
        self.out: queue.Queue = queue.Queue()
        self.inbox: queue.Queue = queue.Queue()
        self.stream = None
        if arbitrate:
            self.open_stream()
            self.arbitrate()

    def open_stream(self) -> None:
        def gen():
            while True:
                m = self.out.get()
                if m is None:
                    return
                yield m
        self.stream = self.stub.StreamChannel(gen())

        def pump():
            try:
                for m in self.stream:
                    self.inbox.put(m)
            except Exception:  # noqa: BLE001 - stream closed
                pass
        threading.Thread(target=pump, daemon=True).start()

    def arbitrate(self, election: tuple[int, int] | None = None, wait: bool = True) -> Any:
        if election is not None:
            self.election = election
        m = self.pb.StreamMessageRequest()
        m.arbitration.device_id = self.device_id
        if self.role is not None:
            m.arbitration.role.name = self.role
        if self.election is not None:
            m.arbitration.election_id.high, m.arbitration.election_id.low = self.election
        self.out.put(m)
        return self.expect("arbitration") if wait else None

    def expect(self, kind: str, timeout: float = 3.0) -> Any:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind} message")
            try:
                m = self.inbox.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"no {kind} message") from None
            if m.WhichOneof("update") == kind:
                return getattr(m, kind)

    def drain(self) -> list:
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get())
        return out

    def send(self, msg: Any) -> None:
        self.out.put(msg)

    def set_pipeline(self, name: str, action: int | None = None, cookie: int = 0) -> None:
        from p4common.p4info import load_p4info
        j, info = program(name)
        req = self.pb.SetForwardingPipelineConfigRequest(device_id=self.device_id)
        if self.election is not None:
            req.election_id.high, req.election_id.low = self.election
        if self.role:
            req.role = self.role
        req.action = action if action is not None else req.VERIFY_AND_COMMIT
        req.config.p4info.CopyFrom(load_p4info(info))
        req.config.p4_device_config = j.read_bytes()
        req.config.cookie.cookie = cookie
        self.stub.SetForwardingPipelineConfig(req)

    def write_req(self, updates: list, atomicity: int = 0) -> Any:
        req = self.pb.WriteRequest(device_id=self.device_id, atomicity=atomicity)
        if self.election is not None:
            req.election_id.high, req.election_id.low = self.election
        if self.role:
            req.role = self.role
        req.updates.extend(updates)
        return req

    def write(self, updates: list, atomicity: int = 0) -> list[int]:
        """Per-update status codes (all 0 on success)."""
        return write_codes(self, self.write_req(updates, atomicity), len(updates))

    def read(self, *entities: Any) -> list:
        req = self.pb.ReadRequest(device_id=self.device_id)
        req.entities.extend(entities)
        out = []
        for resp in self.stub.Read(req):
            out.extend(resp.entities)
        return out

    def close(self) -> None:
        self.out.put(None)
        self.channel.close()


def write_codes(client: RawClient, req: Any, n: int) -> list[int]:
    """Send a WriteRequest; per-update codes from the google.rpc.Status details."""
    from google.rpc import status_pb2
    try:
        client.stub.Write(req)
        return [0] * n
    except client.grpc.RpcError as e:
        if e.code() != client.grpc.StatusCode.UNKNOWN:
            return [e.code().value[0]] * n
        for k, v in e.trailing_metadata() or ():
            if k == "grpc-status-details-bin":
                st = status_pb2.Status.FromString(v)
                codes = []
                for d in st.details:
                    err = client.pb.Error()
                    d.Unpack(err)
                    codes.append(err.canonical_code)
                return codes
        raise


def update(kind: int, **entity: Any) -> Any:
    from p4common.proto import p4runtime_pb2 as pb
    u = pb.Update(type=kind)
    for k, v in entity.items():
        getattr(u.entity, k).CopyFrom(v)
    return u
