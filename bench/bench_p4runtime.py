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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--packets", type=int, default=2000)
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
        # PacketOut into the CPU port; digest.p4 reflects it to the CPU port -> PacketIn
        c.drain()
        po = pb.StreamMessageRequest()
        po.packet.payload = b"\x00\x01\x02\x03\x04\x05" + b"\x00\x00\x00\x00\x00\x01\x08\x00" + b"x" * 50
        t0 = time.perf_counter()
        for _ in range(a.packets):
            c.send(po)
        sent = time.perf_counter() - t0
        got = 0
        deadline = time.monotonic() + 30
        while got < a.packets and time.monotonic() < deadline:
            try:
                c.expect("packet", 1.0)
                got += 1
            except Exception:  # noqa: BLE001
                break
        total = time.perf_counter() - t0
        print(f"packet-out enqueue rate:             {a.packets / sent:9.0f} packets/s")
        print(f"packet-out -> packet-in round trip:  {got / total:9.0f} packets/s ({got}/{a.packets} received)")
        c.close()
    finally:
        t.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
