"""P4Runtime server throughput: table writes (one per RPC and batched) and
PacketOut -> PacketIn rate, against an in-process p4sw server (or
P4LVS_P4RT_TARGET=host:port for another server).

    .venv/bin/python bench/bench_p4runtime.py [--entries 2000] [--batch 500] [--packets 2000]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from p4rt_harness import RawClient, make_target, program, update  # noqa: E402

# Writes go to digest.p4 (a 4096-entry exact table); packets to tests/p4rt_programs/p4rt_full.


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--packets", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=1000)
    a = ap.parse_args(argv)
    from p4common.p4info import P4InfoIndex, load_p4info
    from p4common.proto import p4runtime_pb2 as pb
    t = make_target()
    try:
        c = RawClient(t.addr, t.device_id, election=(0, 99))
        c.set_pipeline("digest")
        ix = P4InfoIndex(load_p4info(program("digest")[1]))
        tid = ix.tables["ingress.smac"].preamble.id
        na = ix.actions["NoAction"].preamble.id
        n = min(a.entries, ix.tables["ingress.smac"].size // 2)

        def entry(i):
            te = pb.TableEntry(table_id=tid)
            te.match.add(field_id=1).exact.value = i.to_bytes(6, "big")
            te.action.action.action_id = na
            return update(pb.Update.INSERT, table_entry=te)
        t0 = time.perf_counter()
        for i in range(n):
            c.stub.Write(c.write_req([entry(i)]))
        one = n / (time.perf_counter() - t0)
        ups = [entry(n + i) for i in range(n)]
        t0 = time.perf_counter()
        for i in range(0, n, a.batch):
            c.stub.Write(c.write_req(ups[i:i + a.batch]))
        batched = n / (time.perf_counter() - t0)
        print(f"p4runtime write, one entry per RPC: {one:9.0f} entries/s ({n} entries)")
        print(f"p4runtime write, batches of {a.batch:<5}: {batched:9.0f} entries/s ({n} entries)")
        # packet I/O on p4rt_full: PacketOut -> wire port 2; wire port 1 -> PacketIn (l2 miss: to_cpu)
        c.set_pipeline("p4rt_full")
        c.drain()
        eth = bytes.fromhex("00000000007700000000000188b5") + b"x" * 50
        po = pb.StreamMessageRequest()
        po.packet.payload = eth
        po.packet.metadata.add(metadata_id=1, value=b"\x02")
        po.packet.metadata.add(metadata_id=2, value=b"\x00")
        if t.is_p4sw:
            out = t.wire()[2]
            out.take_sent()
            t0 = time.perf_counter()
            for _ in range(a.packets):
                c.send(po)
            deadline = time.monotonic() + 60
            n_out = 0
            while n_out < a.packets and time.monotonic() < deadline:
                n_out += len(out.take_sent())
                time.sleep(0.001)
            dt = time.perf_counter() - t0
            print(f"packet-out -> wire:                  {n_out / dt:9.0f} packets/s ({n_out}/{a.packets})")
            inp = t.wire()[1]
            t0 = time.perf_counter()
            for _ in range(a.packets):
                inp.inject(eth)
            got = 0
            while got < a.packets:
                try:
                    c.expect("packet", 2.0)
                    got += 1
                except TimeoutError:
                    break
            dt = time.perf_counter() - t0
            print(f"wire -> packet-in:                   {got / dt:9.0f} packets/s ({got}/{a.packets})")
            done, dt = sessions(c, t, a.sessions)
            print(f"session set-up (in, write 2, out):    {done / dt:9.0f} sessions/s ({done}/{a.sessions})")
            n_idle, us = idle_sweep_cost(c, t, ix, tid, na, n)
            print(f"idle sweep, {n_idle} entries (T=60 s):  {us:9.1f} us per sweep (loop thread)")
        else:
            print("packet rates: need the in-process target (wire ports)")
        c.close()
    finally:
        t.stop()
    return 0


def idle_sweep_cost(c, t, ix, tid: int, na: int, n: int) -> tuple[int, float]:
    """Loop-thread time of one idle-timeout sweep (the server runs one every
    <= 250 ms) with `n` entries that have a 60 s idle timeout, none due."""
    from p4common.proto import p4runtime_pb2 as pb
    from p4switch.p4runtime.stream import idle_sweep
    c.set_pipeline("digest")
    ups = []
    for i in range(n):
        te = pb.TableEntry(table_id=tid, idle_timeout_ns=60_000_000_000)
        te.match.add(field_id=1).exact.value = i.to_bytes(6, "big")
        te.action.action.action_id = na
        ups.append(update(pb.Update.INSERT, table_entry=te))
    for i in range(0, n, 500):
        c.stub.Write(c.write_req(ups[i:i + 500]))
    host = t.hosts[t.device_id]
    pl = t.server.devices[t.device_id].pipeline

    def sweeps(k: int = 20) -> float:
        t0 = time.perf_counter()
        for _ in range(k):
            idle_sweep(pl)
        return (time.perf_counter() - t0) / k
    return n, host.call(sweeps) * 1e6


def sessions(c, t, n: int) -> tuple[int, float]:
    """The load balancer's pattern, one session at a time: a frame from the wire is
    punted (PacketIn), the client writes two table updates in one Write (insert this
    session's l2 entry, delete the previous one) and re-injects the packet (PacketOut),
    which must leave on port 2.  Returns (sessions completed, seconds)."""
    import threading

    from p4common.p4info import P4InfoIndex, load_p4info
    from p4common.proto import p4runtime_pb2 as pb
    ix = P4InfoIndex(load_p4info(program("p4rt_full")[1]))
    tid = ix.tables["I.l2"].preamble.id
    fwd = ix.actions["I.fwd"].preamble.id
    wire = t.wire()
    left = threading.Event()
    wire[2].on_transmit = lambda _p, _f: left.set()

    def l2(op, key):
        te = pb.TableEntry(table_id=tid)
        te.match.add(field_id=1).exact.value = (0x020000000000 | key).to_bytes(6, "big")
        if op != pb.Update.DELETE:
            te.action.action.action_id = fwd
            te.action.action.params.add(param_id=1, value=b"\x02")
        return update(op, table_entry=te)
    done = 0
    t0 = time.perf_counter()
    try:
        for i in range(n):
            left.clear()
            wire[1].inject(bytes.fromhex("000000000077") + (0x040000000000 | i).to_bytes(6, "big")
                           + b"\x88\xb5" + b"s" * 50)
            pin = c.expect("packet", 2.0)
            ups = [l2(pb.Update.INSERT, i)]
            if i:
                ups.append(l2(pb.Update.DELETE, i - 1))
            c.stub.Write(c.write_req(ups))
            po = pb.StreamMessageRequest()
            po.packet.payload = pin.payload
            po.packet.metadata.add(metadata_id=1, value=b"\x02")
            po.packet.metadata.add(metadata_id=2, value=b"\x00")
            c.send(po)
            if not left.wait(2.0):
                break
            done += 1
    except TimeoutError:
        pass
    finally:
        wire[2].on_transmit = None
    return done, time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
