"""finsy against p4rt_full (tests/p4rt_programs): every match kind, action profile
members/groups, counters, meters, registers, multicast, packet I/O, digests with
acks, idle timeouts.  Run with the .venv-finsy python:
    finsy_full.py ADDR DEVICE_ID P4INFO JSON
Same stdio protocol as p4rs_full.py ("WIRE <what>" -> the test answers a line)."""
import asyncio
import sys
import time
from pathlib import Path

import finsy as fy

addr, dev, p4info, js = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])


def ok(step):
    print("ok", step, flush=True)


async def wire(what):
    print("WIRE", what, flush=True)
    await asyncio.to_thread(sys.stdin.readline)


async def first(aiter, timeout):
    async def get():
        async for x in aiter:
            return x
    return await asyncio.wait_for(get(), timeout)


async def run(sw):
    A, E, M = fy.P4TableAction, fy.P4TableEntry, fy.P4TableMatch
    await sw.insert([
        E("I.l2", match=M({"h.ethernet.dst": 9}), action=A("I.fwd", port=2)),
        E("I.routes", match=M({"h.ipv4.dstAddr": "10.1.0.0/16"}), action=A("I.fwd", port=3)),
        E("I.acl", match=M({"h.ipv4.srcAddr": (0x0A000000, 0xFF000000), "h.ipv4.protocol": 6,
                            "h.ipv4.totalLen": (32, 64)}),
          action=A("I.acl_fwd", port=4), priority=5),
    ])
    got = [e async for e in sw.read(E())]
    assert {e.table_id for e in got} == {"l2", "routes", "acl"}, got   # finsy reads back aliases
    acl = [e for e in got if e.table_id == "acl"][0]
    assert acl.priority == 5 and len(acl.match) == 3, acl
    await sw.modify([E("I.acl", match=acl.match, action=A("I.acl_drop"), priority=5)])
    await sw.delete([E("I.acl", match=acl.match, priority=5)])
    ok("match kinds")
    await sw.insert([fy.P4ActionProfileMember("I.ecmp_sel", member_id=1, action=A("I.fwd", port=1)),
                     fy.P4ActionProfileMember("I.ecmp_sel", member_id=2, action=A("I.fwd", port=2)),
                     fy.P4ActionProfileGroup("I.ecmp_sel", group_id=1, max_size=4,
                                             members=[fy.P4Member(1, weight=1), fy.P4Member(2, weight=1)]),
                     E("I.ecmp", match=M({"h.ipv4.ttl": 64}), action=fy.P4IndirectAction(group_id=1))])
    groups = [g async for g in sw.read(fy.P4ActionProfileGroup("I.ecmp_sel"))]
    assert len(groups) == 1 and len(groups[0].members) == 2, groups
    ok("action profile")
    await sw.modify([fy.P4CounterEntry("I.port_pkts", index=2, data=fy.P4CounterData(packet_count=5, byte_count=50))])
    got = [c async for c in sw.read(fy.P4CounterEntry("I.port_pkts", index=2))]
    assert got[0].data.packet_count == 5, got
    await sw.modify([fy.P4MeterEntry("I.port_meter", index=1,
                                     config=fy.P4MeterConfig(cir=10, cburst=1, pir=20, pburst=2))])
    got = [m async for m in sw.read(fy.P4MeterEntry("I.port_meter", index=1))]
    assert got[0].config.pir == 20, got
    await sw.modify([fy.P4RegisterEntry("I.last_len", index=3, data=1234)])
    got = [r async for r in sw.read(fy.P4RegisterEntry("I.last_len", index=3))]
    assert got[0].data == 1234, got
    ok("counter meter register")
    await sw.insert([fy.P4MulticastGroupEntry(9, replicas=[(1, 1), (3, 1)])])
    assert len([g async for g in sw.read(fy.P4MulticastGroupEntry(9))]) == 1
    ok("multicast")
    # packet I/O
    packets = sw.read_packets()
    await sw.write([fy.P4PacketOut(bytes.fromhex("00000000007700000000000188b5") + b"finsy-out",
                                   egress_port=2, _pad=0)])
    task = asyncio.ensure_future(first(packets, 3))
    await asyncio.sleep(0.05)
    await wire("packet_in")
    pin = await task
    assert pin.payload.endswith(b"finsy-in") and pin.metadata["ingress_port"] == 3, pin
    ok("packet io")
    # digests with acks
    await sw.insert([fy.P4DigestEntry("learn_t", max_list_size=2, max_timeout_ns=10**8, ack_timeout_ns=10**9)])
    digests = sw.read_digests("learn_t")
    task = asyncio.ensure_future(first(digests, 3))
    await asyncio.sleep(0.05)
    await wire("learn")
    lst = await task
    assert len(lst.data) == 2, lst
    await sw.write([lst.ack()])
    ok("digest ack")
    # idle timeout
    idles = sw.read_idle_timeouts()
    task = asyncio.ensure_future(first(idles, 3))
    await asyncio.sleep(0.05)
    t0 = time.monotonic()
    await sw.insert([E("I.smac", match=M({"h.ethernet.src": 0x0B}), action=A("NoAction"),
                       idle_timeout_ns=300_000_000)])
    note = await task
    print("idle after", round(time.monotonic() - t0, 3), flush=True)
    assert note.table_entry[0].table_id == "smac", note
    ok("idle timeout")


async def main():
    opts = fy.SwitchOptions(p4info=p4info, p4blob=js, device_id=dev)
    async with fy.Switch("sw", addr, opts) as sw:
        await run(sw)
    print("ALL OK", flush=True)


asyncio.run(main())
