"""`p4sw --grpc-server-addr` end to end: the real command serves P4Runtime, a
pipeline set over P4Runtime is what the runtime CLI socket sees, PacketOut
reaches a port (pcap file backend) and PacketIn comes back from the CPU port."""
from __future__ import annotations

import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("grpc")
try:
    from p4common.proto import p4runtime_pb2 as pb
except ImportError:
    pytest.skip("P4Runtime modules not built", allow_module_level=True)

from p4rt_harness import RawClient, program, update  # noqa: E402

P4SW = [sys.executable, "-c", "import sys; from p4switch.cli import main; sys.exit(main())"]


def read_pcap(path: Path) -> list[bytes]:
    data = path.read_bytes()
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack("<IIII", data[off:off + 16])[2]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def start_p4sw(tmp_path: Path, device_id: int = 3):
    """p4sw with P4Runtime on a free loopback port; returns (proc, grpc addr, thrift port)."""
    stem = tmp_path / "p1"
    (tmp_path / "p1_in.pcap").write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    proc = subprocess.Popen(P4SW + ["--no-p4", "--grpc-server-addr", "127.0.0.1:0", "--device-id", str(device_id),
                                    "--cpu-port", "64", "--thrift-port", "0", "--use-files", "0",
                                    "-i", f"1@{stem}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    addr = thrift = None
    lines = []
    end = time.monotonic() + 30
    while time.monotonic() < end and (addr is None or thrift is None):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"P4Runtime server listening on (\S+)", line)
        addr = m.group(1) if m else addr
        m = re.search(r"Runtime CLI server listening on 127.0.0.1:(\d+)", line)
        thrift = int(m.group(1)) if m else thrift
    assert addr and thrift, "".join(lines)
    return proc, addr, thrift


def stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


@pytest.fixture
def p4sw(tmp_path):
    proc, addr, thrift = start_p4sw(tmp_path)
    yield proc, addr, thrift, tmp_path
    stop(proc)


def test_two_switches_in_separate_processes(tmp_path):
    from p4common.p4info import P4InfoIndex, load_p4info
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    pa, addr_a, _ = start_p4sw(tmp_path / "a", 3)
    pb_, addr_b, _ = start_p4sw(tmp_path / "b", 4)
    try:
        ix = P4InfoIndex(load_p4info(program("p4rt_full")[1]))
        a, b = RawClient(addr_a, 3, election=(0, 1)), RawClient(addr_b, 4, election=(0, 1))
        a.set_pipeline("p4rt_full")
        b.set_pipeline("p4rt_full")
        te = pb.TableEntry(table_id=ix.tables["I.l2"].preamble.id)
        te.match.add(field_id=1).exact.value = b"\x09"
        te.action.action.action_id = ix.actions["I.drop"].preamble.id
        assert a.write([update(pb.Update.INSERT, table_entry=te)]) == [0]
        assert len(a.read(pb.Entity(table_entry=pb.TableEntry()))) == 1
        assert b.read(pb.Entity(table_entry=pb.TableEntry())) == []       # separate state
        wrong = RawClient(addr_b, 3, election=(0, 1), arbitrate=False)   # device 3 is not served there
        assert wrong.write([update(pb.Update.INSERT, table_entry=te)]) == [5]
        for cl in (a, b, wrong):
            cl.close()
    finally:
        stop(pa), stop(pb_)


def test_p4sw_serves_p4runtime(p4sw):
    from p4common.p4info import P4InfoIndex, load_p4info
    from p4switch.cli import CliClient
    proc, addr, thrift, tmp = p4sw
    c = RawClient(addr, 3, election=(0, 1))
    c.set_pipeline("p4rt_full")
    ix = P4InfoIndex(load_p4info(program("p4rt_full")[1]))
    te = pb.TableEntry(table_id=ix.tables["I.l2"].preamble.id)
    te.match.add(field_id=1).exact.value = b"\x09"
    te.action.action.action_id = ix.actions["I.fwd"].preamble.id
    te.action.action.params.add(param_id=1, value=b"\x01")
    assert c.write([update(pb.Update.INSERT, table_entry=te)]) == [0]
    with CliClient(thrift) as cli:                      # the same switch behind the runtime CLI
        ok, out = cli.command("table_num_entries I.l2")
        assert ok and "1" in out, out
    # PacketOut to port 1 (a pcap file here), and a frame back to the controller
    po = pb.StreamMessageRequest()
    po.packet.payload = bytes.fromhex("000000000077000000000001") + b"\x88\xb5" + b"p4sw-out"
    po.packet.metadata.add(metadata_id=1, value=b"\x01")
    po.packet.metadata.add(metadata_id=2, value=b"\x00")
    c.send(po)
    po2 = pb.StreamMessageRequest()
    po2.packet.payload = bytes.fromhex("000000000077000000000001") + b"\x88\xb5" + b"loop"
    po2.packet.metadata.add(metadata_id=1, value=b"\x40")        # egress = CPU port: PacketIn
    po2.packet.metadata.add(metadata_id=2, value=b"\x00")
    c.send(po2)
    pi = c.expect("packet", 5)
    assert pi.payload.endswith(b"loop")
    assert c.write([update(pb.Update.INSERT, table_entry=te)]) == [6]
    c.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    frames = read_pcap(tmp / "p1_out.pcap")
    assert po.packet.payload in frames, frames


def test_p4sw_rejects_bad_address(tmp_path):
    p = subprocess.run(P4SW + ["--no-p4", "--grpc-server-addr", "256.1.1.1:99999", "--thrift-port", "0"],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
