"""p4runtime-shell against p4rt_full (tests/p4rt_programs): every match kind,
one-shot action sets, counters, meters, packet I/O, digests, idle timeouts.
Run with the .venv-p4rs python:  p4rs_full.py ADDR DEVICE_ID P4INFO JSON
Talks to the test over stdio: "WIRE <what>" asks the test to put frames on the
wire, and the test answers with a line once it has; "ok <step>" reports progress."""
import sys
import time

import p4runtime_sh.shell as sh

addr, dev, p4info, js = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def ok(step):
    print("ok", step, flush=True)


def wire(what):
    print("WIRE", what, flush=True)
    sys.stdin.readline()


sh.setup(device_id=dev, grpc_addr=addr, election_id=(0, 1), config=sh.FwdPipeConfig(p4info, js))
try:
    # sniffers first: they start the stream readers
    pkt_in = sh.PacketIn()
    digests = sh.DigestList()
    idle = sh.IdleTimeoutNotification()

    te = sh.TableEntry("I.l2")(action="I.fwd")
    te.match["h.ethernet.dst"] = "00:00:00:00:00:09"
    te.action["port"] = "2"
    te.insert()
    r = sh.TableEntry("I.routes")(action="I.fwd")
    r.match["h.ipv4.dstAddr"] = "10.1.0.0/16"
    r.action["port"] = "3"
    r.insert()
    a = sh.TableEntry("I.acl")(action="I.acl_fwd")
    a.match["h.ipv4.srcAddr"] = "10.0.0.0&&&255.0.0.0"
    a.match["h.ipv4.protocol"] = "6"
    a.match["h.ipv4.totalLen"] = "32..64"
    a.action["port"] = "4"
    a.priority = 7
    a.insert()
    got = {e.name: e for t in ("I.l2", "I.routes", "I.acl") for e in sh.TableEntry(t).read()}
    assert set(got) == {"I.l2", "I.routes", "I.acl"}, got
    assert got["I.acl"].priority == 7, got["I.acl"]
    assert "range" in str(got["I.acl"]) and "ternary" in str(got["I.acl"]) and "optional" in str(got["I.acl"])
    ok("exact lpm ternary optional range")
    a.action["port"] = "1"
    a.modify()
    assert [e.action["port"] for e in sh.TableEntry("I.acl").read()][0].value == b"\x01"
    a.delete()
    ok("modify delete")
    e = sh.TableEntry("I.ecmp")
    e.match["h.ipv4.ttl"] = "64"
    a3, a4 = sh.Action("I.fwd"), sh.Action("I.fwd")
    a3["port"], a4["port"] = "3", "4"
    e.oneshot = sh.Oneshot("I.ecmp").add(a3).add(a4)
    e.insert()
    assert len(list(sh.TableEntry("I.ecmp").read())) == 1
    e.delete()
    ok("oneshot")
    c = sh.CounterEntry("I.port_pkts")
    c.index = 1
    c.packet_count = 7
    c.modify()
    assert [x.packet_count for x in sh.CounterEntry("I.port_pkts").read() if x.index == 1] == [7]
    ok("counter")
    m = sh.MeterEntry("I.port_meter")
    m.index = 2
    m.cir, m.cburst, m.pir, m.pburst = 100, 10, 200, 20
    m.modify()
    got = [x for x in sh.MeterEntry("I.port_meter").read() if x.index == 2]
    assert got[0].cir == 100 and got[0].pburst == 20, got
    ok("meter")
    # packet-out to port 2, then a frame from the wire to the controller
    sh.PacketOut(payload=bytes.fromhex("00000000007700000000000188b5") + b"p4rs-out", egress_port="2", _pad="0").send()
    wire("packet_in")
    msgs = list(pkt_in.sniff(timeout=1))
    assert msgs, "no packet-in"
    p = msgs[0].packet
    assert p.payload.endswith(b"p4rs-in"), p
    assert {md.metadata_id: md.value for md in p.metadata}[1] == b"\x03", p
    ok("packet io")
    d = sh.DigestEntry("learn_t")
    d.max_list_size, d.max_timeout_ns, d.ack_timeout_ns = 2, 10**8, 10**9
    d.insert()
    wire("learn")
    lists = list(digests.sniff(timeout=1))
    assert lists and len(lists[0].digest.data) == 2, lists
    ok("digest")
    s = sh.TableEntry("I.smac")(action="NoAction")
    s.match["h.ethernet.src"] = "00:00:00:00:00:0a"
    s.idle_timeout_ns = 300_000_000
    t0 = time.monotonic()
    s.insert()
    notes = []
    while not notes and time.monotonic() - t0 < 1.5:
        notes = list(idle.sniff(timeout=0.02))
    dt = time.monotonic() - t0
    assert notes, "no idle timeout notification"
    print("idle after", round(dt, 3), flush=True)
    ok("idle timeout")
    print("ALL OK", flush=True)
finally:
    sh.teardown()
