"""Drive a P4Runtime server with finsy, as its README shows a user.
Run with the .venv-finsy python:  finsy_basic.py ADDR DEVICE_ID SHARED_DIR
Prints one "ok <step>" line per step; any failure exits non-zero."""
import asyncio
import sys
from pathlib import Path

import finsy as fy

addr, dev, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = Path(shared) / "conformance/bmv2-testdata/simple_switch_grpc"


def ok(step):
    print("ok", step, flush=True)


async def ternary(sw):
    e1 = fy.P4TableEntry("ingress.ter", match=fy.P4TableMatch({"h.hdr.f1": (1, 0xff)}),
                         action=fy.P4TableAction("ingress.send_1"), priority=10)
    e2 = fy.P4TableEntry("ingress.ter", match=fy.P4TableMatch({"h.hdr.f1": (2, 0xff)}),
                         action=fy.P4TableAction("ingress.send_2"), priority=20)
    await sw.insert([e1, e2])
    got = [e async for e in sw.read(fy.P4TableEntry("ingress.ter"))]
    assert sorted(e.priority for e in got) == [10, 20], got
    ok("insert+read ternary")
    e1m = fy.P4TableEntry("ingress.ter", match=e1.match, action=fy.P4TableAction("ingress.send_2"), priority=10)
    await sw.modify([e1m])
    try:
        await sw.insert([e2])
        raise SystemExit("duplicate insert accepted")
    except fy.P4ClientError as e:
        assert "ALREADY_EXISTS" in str(e), str(e)
    ok("modify, duplicate -> ALREADY_EXISTS")
    await sw.delete([e1, e2])
    assert [e async for e in sw.read(fy.P4TableEntry("ingress.ter"))] == []
    mg = fy.P4MulticastGroupEntry(5, replicas=[(1, 1), (2, 1)])
    await sw.insert([mg])
    got = [e async for e in sw.read(fy.P4MulticastGroupEntry())]
    assert len(got) == 1 and len(got[0].replicas) == 2, got
    await sw.delete([mg])
    cs = fy.P4CloneSessionEntry(7, replicas=[(3, 0)])
    await sw.insert([cs])
    assert len([e async for e in sw.read(fy.P4CloneSessionEntry())]) == 1
    ok("multicast group, clone session")


async def main():
    opts = fy.SwitchOptions(p4info=d / "ternary.proto.txt", p4blob=d / "ternary.json", device_id=dev)
    async with fy.Switch("sw", addr, opts) as sw:
        ok("setup")
        await ternary(sw)
    print("ALL OK", flush=True)


asyncio.run(main())
