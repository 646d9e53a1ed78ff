"""P4Runtime server tests over raw gRPC (the project's stubs): pipeline config,
entities and status codes, arbitration, stream (packet I/O, digests, idle
timeouts), malformed requests.  Client-library tests: test_p4runtime_clients.py."""
from __future__ import annotations

import random
import time

import pytest

pytest.importorskip("grpc")
proto = pytest.importorskip("p4common.proto")
try:
    from p4common.proto import p4runtime_pb2 as pb
except ImportError:
    pytest.skip("P4Runtime modules not built", allow_module_level=True)

from p4rt_harness import EXTERNAL, RawClient, make_target, program, update, wait_sent  # noqa: E402

INS, MOD, DEL = pb.Update.INSERT, pb.Update.MODIFY, pb.Update.DELETE
C = {"OK": 0, "INVALID_ARGUMENT": 3, "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7,
     "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11}
needs_wire = pytest.mark.skipif(bool(EXTERNAL), reason="needs in-memory wire ports (p4sw in-process target)")


@pytest.fixture(scope="module")
def target():
    t = make_target()
    yield t
    t.stop()


@pytest.fixture
def client(target):
    c = RawClient(target.addr, target.device_id, election=(0, 10))
    yield c
    c.close()


def code_of(fn):
    import grpc
    try:
        r = fn()
        if hasattr(r, "__iter__") and not hasattr(r, "DESCRIPTOR"):
            list(r)
        return 0
    except grpc.RpcError as e:
        return e.code().value[0]


def tern(tid, fid, value, mask, prio, aid, params=()):
    te = pb.TableEntry(table_id=tid, priority=prio)
    fm = te.match.add(field_id=fid)
    fm.ternary.value, fm.ternary.mask = value, mask
    te.action.action.action_id = aid
    for pid, v in params:
        te.action.action.params.add(param_id=pid, value=v)
    return te


def ids(name):
    from p4common.p4info import P4InfoIndex, load_p4info
    return P4InfoIndex(load_p4info(program(name)[1]))


def test_capabilities_and_no_pipeline(target):
    c = RawClient(target.addr, 1 if target.is_p4sw else target.device_id, election=(0, 1))
    assert c.stub.Capabilities(pb.CapabilitiesRequest()).p4runtime_api_version
    if target.is_p4sw:   # device 1 has no pipeline yet
        assert code_of(lambda: c.stub.Write(c.write_req([]))) == C["FAILED_PRECONDITION"]
        assert code_of(lambda: c.read(pb.Entity(table_entry=pb.TableEntry()))) == C["FAILED_PRECONDITION"]
        assert code_of(lambda: c.stub.GetForwardingPipelineConfig(
            pb.GetForwardingPipelineConfigRequest(device_id=1))) == C["FAILED_PRECONDITION"]
    c2 = RawClient(target.addr, 77, election=(0, 1), arbitrate=False)
    assert code_of(lambda: c2.stub.Write(c2.write_req([]))) == C["NOT_FOUND"]
    c.close(), c2.close()


def test_pipeline_config_actions(client):
    R = pb.SetForwardingPipelineConfigRequest
    assert code_of(lambda: client.stub.SetForwardingPipelineConfig(R(device_id=client.device_id, action=R.COMMIT,
                   election_id=pb.Uint128(low=10)))) == C["FAILED_PRECONDITION"]
    client.set_pipeline("ternary", R.VERIFY)
    client.set_pipeline("ternary", R.VERIFY_AND_SAVE, cookie=7)
    r = R(device_id=client.device_id, action=R.COMMIT, election_id=pb.Uint128(low=10))
    client.stub.SetForwardingPipelineConfig(r)
    G = pb.GetForwardingPipelineConfigRequest
    j, _ = program("ternary")
    for rt, has_info, has_json in ((G.ALL, True, True), (G.COOKIE_ONLY, False, False),
                                   (G.P4INFO_AND_COOKIE, True, False), (G.DEVICE_CONFIG_AND_COOKIE, False, True)):
        cfg = client.stub.GetForwardingPipelineConfig(G(device_id=client.device_id, response_type=rt)).config
        assert cfg.cookie.cookie == 7
        assert bool(len(cfg.p4info.tables)) == has_info
        assert (cfg.p4_device_config == j.read_bytes()) == has_json
    bad = R(device_id=client.device_id, action=R.VERIFY_AND_COMMIT, election_id=pb.Uint128(low=10))
    bad.config.p4info.CopyFrom(ids("ternary").p4info)
    bad.config.p4_device_config = b"{not json"
    assert code_of(lambda: client.stub.SetForwardingPipelineConfig(bad)) == C["INVALID_ARGUMENT"]


def test_ternary_priority_and_packets(target, client):
    client.set_pipeline("ternary")
    ix = ids("ternary")
    t = ix.tables["ingress.ter"].preamble.id
    s1, s2 = ix.actions["ingress.send_1"].preamble.id, ix.actions["ingress.send_2"].preamble.id
    lo = tern(t, 1, b"\x00\x01", b"\x00\xff", 10, s1)
    hi = tern(t, 1, b"\x00\x01", b"\x00\x0f", 20, s2)
    assert client.write([update(INS, table_entry=lo), update(INS, table_entry=hi)]) == [0, 0]
    assert client.write([update(INS, table_entry=lo)]) == [C["ALREADY_EXISTS"]]
    got = client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t)))
    assert sorted(e.table_entry.priority for e in got) == [10, 20]
    assert {e.table_entry.match[0].ternary.mask for e in got} == {b"\xff", b"\x0f"}   # canonical
    if target.is_p4sw:
        wire = target.wire()
        wire[3].inject(b"\x00\x01" + b"x" * 20)
        assert wait_sent(wire[2]) and not wire[1].sent    # priority 20 (larger) wins
        client.write([update(DEL, table_entry=hi)])
        wire[3].inject(b"\x00\x01" + b"x" * 20)
        assert wait_sent(wire[1])
    # modify, default entry, delete
    lo.action.action.action_id = s2
    assert client.write([update(MOD, table_entry=lo)]) == [0]
    d = pb.TableEntry(table_id=t, is_default_action=True)
    d.action.action.action_id = s1
    assert client.write([update(MOD, table_entry=d)]) == [0]
    assert client.write([update(INS, table_entry=d)]) == [C["INVALID_ARGUMENT"]]
    rd = client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t, is_default_action=True)))
    assert rd[0].table_entry.action.action.action_id == s1
    assert client.write([update(DEL, table_entry=lo)]) == [0]
    assert client.write([update(DEL, table_entry=lo)]) == [C["NOT_FOUND"]]
    # priority 0 on a ternary table, value outside mask, zero mask
    assert client.write([update(INS, table_entry=tern(t, 1, b"\x01", b"\x01", 0, s1))]) == [C["INVALID_ARGUMENT"]]
    assert client.write([update(INS, table_entry=tern(t, 1, b"\x03", b"\x01", 5, s1))]) == [C["INVALID_ARGUMENT"]]
    assert client.write([update(INS, table_entry=tern(t, 1, b"\x00", b"\x00", 5, s1))]) == [C["INVALID_ARGUMENT"]]
    assert client.write([update(INS, table_entry=tern(t, 1, b"\x00\x00\x01", b"\x01", 5, s1))]) == [C["INVALID_ARGUMENT"]]


def test_atomicity(client):
    client.set_pipeline("ternary")
    ix = ids("ternary")
    t, s1 = ix.tables["ingress.ter"].preamble.id, ix.actions["ingress.send_1"].preamble.id
    a, b = tern(t, 1, b"\x01", b"\xff", 1, s1), tern(t, 1, b"\x02", b"\xff", 1, s1)
    batch = [update(INS, table_entry=a), update(INS, table_entry=a), update(INS, table_entry=b)]
    assert client.write(batch, pb.WriteRequest.CONTINUE_ON_ERROR) == [0, C["ALREADY_EXISTS"], 0]
    assert len(client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t)))) == 2
    client.set_pipeline("ternary")
    codes = client.write(batch, pb.WriteRequest.ROLLBACK_ON_ERROR)
    assert codes[1] == C["ALREADY_EXISTS"] and codes[0] == codes[2] == C["ABORTED"]
    assert client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t))) == []


def test_table_full(target, client):
    if not target.is_p4sw:
        pytest.skip("table sizes differ between targets")
    client.set_pipeline("digest")
    ix = ids("digest")
    t = ix.tables["ingress.smac"]
    na = ix.actions["NoAction"].preamble.id
    ups = []
    for i in range(t.size + 1):
        te = pb.TableEntry(table_id=t.preamble.id)
        te.match.add(field_id=1).exact.value = i.to_bytes(6, "big")
        te.action.action.action_id = na
        ups.append(update(INS, table_entry=te))
    codes = []
    for i in range(0, len(ups) - 1, 1000):   # error details of huge batches exceed gRPC's 8 KiB trailers
        codes += client.write(ups[i:min(i + 1000, len(ups) - 1)])
    assert codes == [0] * t.size
    assert client.write(ups[-1:]) == [C["RESOURCE_EXHAUSTED"]]


def test_arbitration_primary_backup(target):
    a = RawClient(target.addr, target.device_id, election=(0, 100))
    assert a.drain() == [] or True
    b = RawClient(target.addr, target.device_id, election=(0, 50))
    st = b.drain()
    a.set_pipeline("ternary")
    ix = ids("ternary")
    t, s1 = ix.tables["ingress.ter"].preamble.id, ix.actions["ingress.send_1"].preamble.id
    assert b.write([update(INS, table_entry=tern(t, 1, b"\x01", b"\xff", 1, s1))]) == [C["PERMISSION_DENIED"]]
    assert a.write([update(INS, table_entry=tern(t, 1, b"\x01", b"\xff", 1, s1))]) == [0]
    a.close()
    deadline = time.time() + 3
    while time.time() < deadline:   # b is told it is primary now
        try:
            m = b.expect("arbitration", 0.5)
        except Exception:  # noqa: BLE001
            continue
        if m.status.code == 0:
            break
    else:
        pytest.fail("backup never became primary")
    assert b.write([update(INS, table_entry=tern(t, 1, b"\x02", b"\xff", 1, s1))]) == [0]
    del st
    b.close()


def test_malformed_requests_never_crash(target, client):
    """Hundreds of malformed requests: each gets a status, the server lives on."""
    client.set_pipeline("ternary")
    ix = ids("ternary")
    t, s1 = ix.tables["ingress.ter"].preamble.id, ix.actions["ingress.send_1"].preamble.id
    rng = random.Random(7)
    cases = [
        (tern(t + 1, 1, b"\x01", b"\x01", 1, s1), C["NOT_FOUND"]),
        (tern(t, 9, b"\x01", b"\x01", 1, s1), C["INVALID_ARGUMENT"]),
        (tern(t, 1, b"\x01", b"\x01", 1, s1 + 99), C["INVALID_ARGUMENT"]),
        (tern(t, 1, b"", b"\x01", 1, s1), C["INVALID_ARGUMENT"]),
        (tern(t, 1, b"\x00\x00\x01", b"\x01", 1, s1), C["INVALID_ARGUMENT"]),
        (tern(t, 1, b"\x01\x00\x00", b"\xff\xff\xff", 1, s1), C["INVALID_ARGUMENT"]),
        (tern(t, 1, b"\x01", b"\x01", 1, s1, [(1, b"\x01")]), C["INVALID_ARGUMENT"]),
        (pb.TableEntry(table_id=t, priority=1), C["INVALID_ARGUMENT"]),
    ]
    n = 0
    for _ in range(40):
        for te, want in cases:
            assert client.write([update(INS, table_entry=te)]) == [want], te
            n += 1
    for _ in range(200):   # garbage bytes as an entity
        u = pb.Update(type=INS)
        try:
            u.entity.ParseFromString(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
        except Exception:  # noqa: BLE001 - undecodable: send an empty entity instead
            pass
        codes = client.write([u])
        assert codes[0] != 0 or u.entity.WhichOneof("entity") is not None
        n += 1
    assert client.write([pb.Update(type=0, entity=pb.Entity(table_entry=tern(t, 1, b"\x01", b"\x01", 1, s1)))]) == [C["INVALID_ARGUMENT"]]
    # raw garbage on the wire to the Write method
    import grpc
    raw = client.channel.unary_unary("/p4.v1.P4Runtime/Write")
    for _ in range(50):
        with pytest.raises(grpc.RpcError):
            raw(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    # garbage bytes to every RPC: each fails with a status, none kills the server
    for method, stream in (("Read", True), ("SetForwardingPipelineConfig", False),
                           ("GetForwardingPipelineConfig", False), ("Capabilities", False)):
        call = (client.channel.unary_stream if stream else client.channel.unary_unary)(f"/p4.v1.P4Runtime/{method}")
        for _ in range(25):
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            try:
                r = call(data)
                if stream:
                    list(r)
            except grpc.RpcError as e:
                assert e.code() != grpc.StatusCode.UNAVAILABLE
            n += 1
    st = client.channel.stream_stream("/p4.v1.P4Runtime/StreamChannel")
    try:
        list(st(iter([bytes(rng.randrange(256) for _ in range(30)) for _ in range(5)]), timeout=2))
    except grpc.RpcError as e:
        assert e.code() != grpc.StatusCode.UNAVAILABLE
    assert n >= 500
    assert client.stub.Capabilities(pb.CapabilitiesRequest()).p4runtime_api_version


def test_counters_meters_registers(target, client):
    client.set_pipeline("counter")
    ix = ids("counter")
    t = ix.tables["t_redirect"].preamble.id
    te = pb.TableEntry(table_id=t)
    te.match.add(field_id=1).exact.value = b"\x40"
    te.action.action.action_id = ix.actions["port_redirect"].preamble.id
    assert client.write([update(INS, table_entry=te)]) == [0]
    if target.is_p4sw:
        target.wire()[2].inject(b"z" * 64)
        assert wait_sent(target.wire()[2])
        dc = client.read(pb.Entity(direct_counter_entry=pb.DirectCounterEntry(table_entry=pb.TableEntry(table_id=t))))
        assert dc[0].direct_counter_entry.data.packet_count == 1
        assert dc[0].direct_counter_entry.data.byte_count == 64
    w = pb.DirectCounterEntry(table_entry=te)
    w.data.packet_count, w.data.byte_count = 5, 500
    assert client.write([update(MOD, direct_counter_entry=w)]) == [0]
    rd = client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t, counter_data=pb.CounterData())))
    assert rd[0].table_entry.counter_data.packet_count == 5
    client.set_pipeline("meter")
    ix = ids("meter")
    t = ix.tables["ingress.t_redirect"].preamble.id
    te = pb.TableEntry(table_id=t)
    te.match.add(field_id=1).exact.value = b"\x02"
    te.action.action.action_id = ix.actions["ingress.port_redirect"].preamble.id
    te.meter_config.cir, te.meter_config.cburst, te.meter_config.pir, te.meter_config.pburst = 1000, 10, 2000, 20
    assert client.write([update(INS, table_entry=te)]) == [0]
    dm = client.read(pb.Entity(direct_meter_entry=pb.DirectMeterEntry(table_entry=pb.TableEntry(table_id=t))))
    assert dm[0].direct_meter_entry.config == te.meter_config


def test_register_read_write(target, client):
    if not target.is_p4sw:
        pytest.skip("BMv2's P4Runtime server does not support register reads")
    client.set_pipeline("issue1097-2-bmv2")
    ix = ids("issue1097-2-bmv2")
    r = next(iter(ix.registers))
    e = pb.RegisterEntry(register_id=r.preamble.id)
    e.index.index = 1
    e.data.bitstring = b"\x2a"
    assert client.write([update(MOD, register_entry=e)]) == [0]
    got = client.read(pb.Entity(register_entry=pb.RegisterEntry(register_id=r.preamble.id, index=pb.Index(index=1))))
    assert got[0].register_entry.data.bitstring == b"\x2a"
    e.index.index = r.size
    assert client.write([update(MOD, register_entry=e)]) == [C["OUT_OF_RANGE"]]
    assert len(client.read(pb.Entity(register_entry=pb.RegisterEntry()))) >= r.size


def test_pre_multicast_and_clone(client):
    client.set_pipeline("ternary")
    g = pb.PacketReplicationEngineEntry()
    g.multicast_group_entry.multicast_group_id = 5
    g.multicast_group_entry.replicas.add(egress_port=1, instance=1)
    g.multicast_group_entry.replicas.add(egress_port=2, instance=1)
    assert client.write([update(INS, packet_replication_engine_entry=g)]) == [0]
    assert client.write([update(INS, packet_replication_engine_entry=g)]) == [C["ALREADY_EXISTS"]]
    cs = pb.PacketReplicationEngineEntry()
    cs.clone_session_entry.session_id = 3
    cs.clone_session_entry.replicas.add(egress_port=4, instance=0)
    assert client.write([update(INS, packet_replication_engine_entry=cs)]) == [0]
    got = client.read(pb.Entity(packet_replication_engine_entry=pb.PacketReplicationEngineEntry()))
    assert len(got) == 2
    assert client.write([update(DEL, packet_replication_engine_entry=g)]) == [0]
    assert client.write([update(DEL, packet_replication_engine_entry=g)]) == [C["NOT_FOUND"]]


@needs_wire
def test_packet_io_and_digest_and_idle(target, client):
    from p4common.p4info import load_p4info
    info = load_p4info(program("digest")[1])
    for name, fid in (("packet_out", 0x04000001), ("packet_in", 0x04000002)):
        cpm = info.controller_packet_metadata.add()
        cpm.preamble.id, cpm.preamble.name = fid, name
        cpm.metadata.add(id=1, name="port", bitwidth=9)
        cpm.metadata.add(id=2, name="pad", bitwidth=7)
    req = pb.SetForwardingPipelineConfigRequest(device_id=client.device_id, action=1 + 1,
                                                election_id=pb.Uint128(low=10))
    req.action = req.VERIFY_AND_COMMIT
    req.config.p4info.CopyFrom(info)
    req.config.p4_device_config = program("digest")[0].read_bytes()
    client.stub.SetForwardingPipelineConfig(req)
    client.drain()
    # PacketOut -> header prepended, reflected to the CPU port -> PacketIn, header stripped
    po = pb.StreamMessageRequest()
    po.packet.payload = b"\xaa" * 14 + b"payload"
    po.packet.metadata.add(metadata_id=1, value=b"\x01\x05")
    po.packet.metadata.add(metadata_id=2, value=b"\x00")
    client.send(po)
    pi = client.expect("packet")
    assert pi.payload == po.packet.payload
    assert {m.metadata_id: m.value for m in pi.metadata} == {1: b"\x01\x05", 2: b"\x00"}
    # digests: configured, max_list_size 2, acked
    dg = info.digests[0].preamble.id
    de = pb.DigestEntry(digest_id=dg)
    de.config.max_list_size, de.config.max_timeout_ns, de.config.ack_timeout_ns = 2, 50_000_000, 10**9
    assert client.write([update(INS, digest_entry=de)]) == [0]
    wire = target.wire()
    for smac in (1, 2, 2):
        wire[1].inject(b"\x00" * 6 + smac.to_bytes(6, "big") + b"\x08\x00")
    lst = client.expect("digest")
    assert len(lst.data) == 2 and lst.digest_id == dg
    wire[1].inject(b"\x00" * 6 + (1).to_bytes(6, "big") + b"\x08\x00")   # duplicate of an un-acked sample
    wire[1].inject(b"\x00" * 6 + (3).to_bytes(6, "big") + b"\x08\x00")
    lst2 = client.expect("digest")     # max_timeout flushes the single new sample
    assert len(lst2.data) == 1
    ack = pb.StreamMessageRequest()
    ack.digest_ack.digest_id, ack.digest_ack.list_id = dg, lst.list_id
    client.send(ack)
    # idle timeout: notified between 1x and 2x
    t = info.tables[0].preamble.id
    te = pb.TableEntry(table_id=t, idle_timeout_ns=300_000_000)
    te.match.add(field_id=1).exact.value = b"\x09"
    te.action.action.action_id = info.actions[0].preamble.id
    t0 = time.monotonic()
    assert client.write([update(INS, table_entry=te)]) == [0]
    note = client.expect("idle_timeout_notification", 3)
    dt = time.monotonic() - t0
    assert 0.3 <= dt < 0.6, dt
    assert note.table_entry[0].match[0].exact.value == b"\x09"
    rd = client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t, time_since_last_hit=pb.TableEntry.IdleTimeout())))
    assert rd[0].table_entry.time_since_last_hit.elapsed_ns >= 300_000_000


def test_two_devices_one_process(target):
    if not target.is_p4sw:
        pytest.skip("one device on an external target")
    a = RawClient(target.addr, 0, election=(0, 200))
    b = RawClient(target.addr, 1, election=(0, 200))
    a.set_pipeline("ternary")
    b.set_pipeline("counter")
    assert a.read(pb.Entity(table_entry=pb.TableEntry())) != None  # noqa: E711
    ib = ids("counter")
    assert b.read(pb.Entity(table_entry=pb.TableEntry(table_id=ib.tables["t_redirect"].preamble.id))) == []
    assert code_of(lambda: a.read(pb.Entity(table_entry=pb.TableEntry(
        table_id=ib.tables["t_redirect"].preamble.id))))  == C["NOT_FOUND"]
    a.close(), b.close()


def test_const_table_and_const_default_action(client):
    client.set_pipeline("table-entries-priority-bmv2")
    ix = ids("table-entries-priority-bmv2")
    t = ix.tables["ingress.t_ternary"]
    got = [e.table_entry for e in client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t.preamble.id)))]
    assert got and all(e.is_const for e in got)
    assert len({e.priority for e in got}) == len(got) and all(e.priority > 0 for e in got)
    te = pb.TableEntry(table_id=t.preamble.id, priority=1)
    fm = te.match.add(field_id=1)
    fm.ternary.value, fm.ternary.mask = b"\x01", b"\x01"
    te.action.action.action_id = t.action_refs[0].id
    assert client.write([update(INS, table_entry=te)]) == [C["PERMISSION_DENIED"]]
    assert client.write([update(DEL, table_entry=got[0])]) == [C["PERMISSION_DENIED"]]
    client.set_pipeline("arith-bmv2")
    ix = ids("arith-bmv2")
    t = next(t for t in ix.tables if t.const_default_action_id)
    other = next((r.id for r in t.action_refs if r.id != t.const_default_action_id), None)
    d = pb.TableEntry(table_id=t.preamble.id, is_default_action=True)
    if other is not None:
        d.action.action.action_id = other
        assert client.write([update(MOD, table_entry=d)]) == [C["PERMISSION_DENIED"]]
    rd = client.read(pb.Entity(table_entry=pb.TableEntry(table_id=t.preamble.id, is_default_action=True)))
    assert rd[0].table_entry.action.action.action_id == t.const_default_action_id
