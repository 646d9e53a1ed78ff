"""The P4Runtime server's fast paths keep their semantics: packet I/O layouts
resolved once per pipeline, the bounded SimpleQueue outbox, the lock-based
SwitchHost.call hand-off and the cached {role: primary} map that PacketIn and
PacketOut consult per packet."""
from __future__ import annotations

import threading
import time

import pytest
from p4rt_harness import RawClient, make_target, program

from p4common.proto import p4runtime_pb2 as pb

# -- Pipeline packet layouts ------------------------------------------------------

@pytest.fixture(scope="module")
def pipeline():
    from p4common.p4info import load_p4info
    from p4switch.p4runtime.translate import Pipeline
    from p4switch.switch import Switch
    j, info = program("p4rt_full")
    js = j.read_bytes()
    return Pipeline(load_p4info(info), Switch.from_json(js, cpu_port=64), js)


def _po(payload: bytes, md: list[tuple[int, bytes]]):
    po = pb.PacketOut(payload=payload)
    for fid, v in md:
        po.metadata.add(metadata_id=fid, value=v)
    return po


def _layout(pipeline):
    return [(f.id, f.bitwidth) for f in pipeline.packet_out.metadata]


def test_packet_out_frame_layout(pipeline):
    fields = _layout(pipeline)
    assert fields, "p4rt_full has a packet_out header"
    values = {fid: (1 << w) - 1 for fid, w in fields}          # all ones
    md = [(fid, v.to_bytes((w + 7) // 8, "big")) for (fid, w), v in zip(fields, values.values())]
    frame = pipeline.packet_out_frame(_po(b"PAYLOAD", md))
    total = sum(w for _, w in fields)
    nb = (total + 7) // 8
    assert frame[nb:] == b"PAYLOAD"
    hdr = int.from_bytes(frame[:nb], "big") >> (nb * 8 - total)
    assert hdr == (1 << total) - 1
    assert int.from_bytes(frame[:nb], "big") & ((1 << (nb * 8 - total)) - 1) == 0   # pad bits zero
    # metadata order in the message does not matter; zero-padded values are accepted
    md2 = [(fid, b"\x00" * ((w + 7) // 8 - 1) + b"\x01") for fid, w in reversed(fields)]
    f2 = pipeline.packet_out_frame(_po(b"", md2))
    exp = 0
    for _fid, w in fields:
        exp = (exp << w) | 1
    assert int.from_bytes(f2, "big") >> (nb * 8 - total) == exp


@pytest.mark.parametrize("case", ["missing", "unknown", "twice", "empty", "too_wide", "too_long"])
def test_packet_out_frame_errors(pipeline, case):
    from p4switch.p4runtime.errors import Code, P4RTError
    fields = _layout(pipeline)
    md = [(fid, b"\x00") for fid, _ in fields]
    fid0, w0 = fields[0]
    if case == "missing":
        md = md[1:]
    elif case == "unknown":
        md.append((999, b"\x00"))
    elif case == "twice":
        md.append(md[0])
    elif case == "empty":
        md[0] = (fid0, b"")
    elif case == "too_wide":
        md[0] = (fid0, (1 << w0).to_bytes((w0 + 8) // 8, "big")[-((w0 + 7) // 8):]
                 if (1 << w0) < (1 << (8 * ((w0 + 7) // 8))) else b"\xff" * ((w0 + 7) // 8 + 1))
    elif case == "too_long":
        md[0] = (fid0, b"\x00" * ((w0 + 7) // 8 + 1))
    with pytest.raises(P4RTError) as ei:
        pipeline.packet_out_frame(_po(b"x", md))
    assert ei.value.code == Code.INVALID_ARGUMENT


def test_packet_in_fill_matches_packet_in_msg(pipeline):
    fields = [(f.id, f.bitwidth) for f in pipeline.packet_in.metadata]
    total = sum(w for _, w in fields)
    nb = (total + 7) // 8
    for hdr in (0, 1, (1 << total) - 1, 0x5A5A5A5A & ((1 << total) - 1)):
        frame = (hdr << (nb * 8 - total)).to_bytes(nb, "big") + b"rest"
        m = pb.StreamMessageResponse()
        pipeline.fill_packet_in(m.packet, frame)
        assert m.packet == pipeline.packet_in_msg(frame)
        assert m.packet.payload == b"rest"
        rest = total
        for (fid, w), got in zip(fields, m.packet.metadata):
            rest -= w
            v = (hdr >> rest) & ((1 << w) - 1)
            assert got.metadata_id == fid
            assert got.value == v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")   # canonical
    short = b"\x01"[:max(0, nb - 1)]
    m = pb.StreamMessageResponse()
    pipeline.fill_packet_in(m.packet, short)           # shorter than the header: payload only
    assert m.packet.payload == short and not m.packet.metadata


# -- Outbox -------------------------------------------------------------------------

def test_outbox_bound_and_close():
    from p4switch.p4runtime.stream import Outbox
    box = Outbox(maxsize=3)
    for i in range(5):
        box.put(i)
    assert box.dropped == 2
    box.close()
    box.put("late")                                    # ignored after close
    assert list(box) == [0, 1, 2]
    box.close()                                        # idempotent


def test_outbox_wakes_a_blocked_reader():
    from p4switch.p4runtime.stream import Outbox
    box = Outbox()
    got: list = []
    th = threading.Thread(target=lambda: got.extend(box))
    th.start()
    box.put("a")
    box.put("b")
    box.close()
    th.join(5)
    assert not th.is_alive() and got == ["a", "b"]


# -- SwitchHost.call -----------------------------------------------------------------

def test_host_call_result_exception_inline_and_timeout():
    from p4switch.p4runtime.host import memory_host
    host, _ = memory_host([1], cpu_port=None)
    try:
        host.start()
        assert host.call(lambda: threading.get_ident()) == host._thread.ident
        with pytest.raises(ZeroDivisionError):
            host.call(lambda: 1 // 0)
        # a job calling call() again runs inline instead of deadlocking
        assert host.call(lambda: host.call(lambda: 7) + 1) == 8
        # many callers at once each get their own result
        out: dict = {}
        ths = [threading.Thread(target=lambda i=i: out.__setitem__(i, host.call(lambda: i * i)))
               for i in range(8)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(5)
        assert out == {i: i * i for i in range(8)}
        host.stop()
        with pytest.raises(TimeoutError):
            host.call(lambda: None, timeout=0.05)
    finally:
        host.stop()
        host.close()
        host.loop.close()


# -- cached primaries ------------------------------------------------------------------

def test_packet_in_follows_primary_changes():
    t = make_target()
    if not t.is_p4sw:
        pytest.skip("needs the in-process target")
    a = b = None
    try:
        a = RawClient(t.addr, t.device_id, election=(0, 1))
        a.set_pipeline("p4rt_full")
        b = RawClient(t.addr, t.device_id, election=(0, 2))     # b takes over
        time.sleep(0.1)
        a.drain()
        eth = bytes.fromhex("00000000007700000000000188b5") + b"x" * 20
        t.wire()[1].inject(eth)
        assert b.expect("packet").payload == eth
        with pytest.raises(TimeoutError):
            a.expect("packet", 0.3)
        # a PacketOut from the former primary is refused
        po = pb.StreamMessageRequest()
        po.packet.payload = eth
        po.packet.metadata.add(metadata_id=1, value=b"\x02")
        po.packet.metadata.add(metadata_id=2, value=b"\x00")
        a.send(po)
        assert a.expect("error").canonical_code == 7              # PERMISSION_DENIED
        b.close()                                                  # a is primary again
        b = None
        a.expect("arbitration")
        t.wire()[1].inject(eth)
        assert a.expect("packet").payload == eth
    finally:
        for c in (a, b):
            if c is not None:
                c.close()
        t.stop()


# -- DELETE without an undo (CONTINUE_ON_ERROR batches) -----------------------------------

def test_delete_without_undo(pipeline):
    from p4common.p4info import P4InfoIndex
    ix = P4InfoIndex(pipeline.p4info)
    tid = ix.tables["I.l2"].preamble.id
    fwd = ix.actions["I.fwd"].preamble.id

    def te(key, with_action=True):
        e = pb.TableEntry(table_id=tid)
        e.match.add(field_id=1).exact.value = key.to_bytes(6, "big")
        if with_action:
            e.action.action.action_id = fwd
            e.action.action.params.add(param_id=1, value=b"\x03")
        return e
    U = pb.Update
    sw_table = pipeline.table(tid).sw
    n0 = sw_table.num_entries()
    pipeline.write_table_entry(U.INSERT, te(0x0A0000000001))
    assert pipeline.write_table_entry(U.DELETE, te(0x0A0000000001, False), undo=False) is None
    assert sw_table.num_entries() == n0
    pipeline.write_table_entry(U.INSERT, te(0x0A0000000001))
    undo = pipeline.write_table_entry(U.DELETE, te(0x0A0000000001, False))
    assert sw_table.num_entries() == n0
    undo()                                                       # rollback restores it
    got = pipeline.read_table_entries(pb.TableEntry(table_id=tid))
    assert [bytes(g.match[0].exact.value) for g in got] == [b"\x0a\x00\x00\x00\x00\x01"]
    assert got[0].action.action.params[0].value == b"\x03"


# -- idle-timeout sweep over the deadline heap ----------------------------------------------

def test_idle_sweep_deadlines(pipeline):
    from p4common.p4info import P4InfoIndex
    from p4switch.p4runtime.stream import idle_sweep
    ix = P4InfoIndex(pipeline.p4info)
    ti = pipeline.table(ix.tables["I.smac"].preamble.id)
    U = pb.Update

    def te(key, idle_ns=1_000_000_000):
        e = pb.TableEntry(table_id=ti.id, idle_timeout_ns=idle_ns)
        e.match.add(field_id=1).exact.value = key.to_bytes(6, "big")
        e.action.action.action_id = ix.actions["NoAction"].preamble.id
        return e
    pipeline.write_table_entry(U.INSERT, te(0x0B0000000001))
    e = ti.sw.find_entry(pipeline.match_params(ti, te(0x0B0000000001)))
    t0 = e.last_hit

    def keys(now):
        got, period = idle_sweep(pipeline, now)
        assert period is not None and 0.002 <= period <= 0.25
        return [bytes(g.match[0].exact.value) for g in got]
    k = b"\x0b\x00\x00\x00\x00\x01"
    assert keys(t0 + 0.5) == []
    assert keys(t0 + 1.01) == [k]            # idle for T
    assert keys(t0 + 1.5) == []              # once per T
    assert keys(t0 + 2.02) == [k]            # still idle: again after T
    e.last_hit = t0 + 2.5                    # a hit (the data path writes last_hit)
    assert keys(t0 + 3.1) == []
    assert keys(t0 + 3.51) == [k]
    # MODIFY re-arms (restarts the idle period from now); DELETE drops it
    pipeline.write_table_entry(U.MODIFY, te(0x0B0000000001, 2_000_000_000))
    t1 = e.last_hit
    assert keys(t1 + 1.5) == []
    assert keys(t1 + 2.01) == [k]
    pipeline.write_table_entry(U.DELETE, te(0x0B0000000001), undo=False)
    assert idle_sweep(pipeline, t1 + 100)[0] == []
    assert not [it for it in pipeline.idle_heap if it[3].watch == it[1] and it[2][0] == ti.sw.name]


def test_idle_sweep_visits_only_due_entries(pipeline):
    from p4common.p4info import P4InfoIndex
    from p4switch.p4runtime.stream import idle_sweep
    ix = P4InfoIndex(pipeline.p4info)
    ti = pipeline.table(ix.tables["I.smac"].preamble.id)
    U = pb.Update
    n = min(40, ti.msg.size)
    for i in range(n):
        e = pb.TableEntry(table_id=ti.id, idle_timeout_ns=(i + 1) * 1_000_000_000)
        e.match.add(field_id=1).exact.value = (0x0C0000000000 + i).to_bytes(6, "big")
        e.action.action.action_id = ix.actions["NoAction"].preamble.id
        pipeline.write_table_entry(U.INSERT, e)
    first = pb.TableEntry(table_id=ti.id)
    first.match.add(field_id=1).exact.value = (0x0C0000000000).to_bytes(6, "big")
    now = ti.sw.find_entry(pipeline.match_params(ti, first)).last_hit
    calls = []
    real = ti.sw.get_entry
    ti.sw.get_entry = lambda h: (calls.append(h), real(h))[1]
    try:
        got, period = idle_sweep(pipeline, now + 2.5)      # entries with T = 1 s, 2 s are due
        assert len(got) == 2
        assert len(calls) == 2                             # the other 38 are not visited
        assert period is not None and period <= 0.25
    finally:
        del ti.sw.get_entry
        for i in range(n):
            e = pb.TableEntry(table_id=ti.id)
            e.match.add(field_id=1).exact.value = (0x0C0000000000 + i).to_bytes(6, "big")
            pipeline.write_table_entry(U.DELETE, e)
