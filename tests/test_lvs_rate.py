"""The daemon's new-connection fast path (brief: connections/s): one Write
per event-loop round, deferred TCP state changes that never outlive a delete,
P4Info lookups resolved once per pipeline, state changes that only re-time
the session's entries."""
from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from runtime import constants as K
from runtime import tcpframes as TF
from runtime.config import parse_config
from runtime.daemon import Controller
from runtime.entries import FlowKey
from runtime.p4rt import DigestSample, PacketIn
from runtime.sessions import SessionManager
from topologies.lvs_demo import CLIENT_IP, VIP, config_text

REPO = Path(__file__).resolve().parents[1]
CFG = config_text({"rs1": 1, "rs2": 1, "rs3": 1}, tcp_timeout=30)


class FakeSwitch:
    """Records what the controller sends, in order."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.calls: list[tuple] = []

    def write(self, inserts=(), deletes=(), modifies=()):
        self.calls.append(("write", list(inserts), list(deletes), list(modifies)))

    def time_since_last_hit(self, _entry):
        return None                 # "never hit": idle on this switch

    def packet_out(self, payload, **md):
        self.calls.append(("out", payload, md))

    def writes(self) -> list[tuple]:
        return [c for c in self.calls if c[0] == "write"]


def syn(cport: int) -> PacketIn:
    frame = TF.tcp_frame(CLIENT_IP, VIP, cport, 80, 1000, 0, K.TCP_FLAG_SYN)
    return PacketIn(frame, {"reason": K.PUNT_NEW_FLOW, "ingress_port": 1})


def fin(rec, side: int = 0) -> DigestSample:
    return DigestSample(K.D_TCP_EVENT, {"sess_idx": rec.ref.idx, "gen": rec.ref.gen, "side": side,
                                        "kind": K.TCP_EV_FLAGS,
                                        "flags": K.TCP_FLAG_FIN | K.TCP_FLAG_ACK})


@pytest.fixture
def ctl():
    sw = FakeSwitch()
    c = Controller(parse_config(CFG), sw)
    return c, sw


def test_flows_and_state_changes_of_one_round_share_one_write(ctl):
    c, sw = ctl
    c._round([syn(40000), syn(40001)], [])
    assert len(sw.writes()) == 1 and len(sw.writes()[0][1]) == 4
    assert [k for k, *_ in sw.calls] == ["write", "out", "out"]     # entries before re-injection
    recs = c.mgr.sessions()
    sw.calls.clear()
    c._round([syn(40002)], [fin(recs[0]), fin(recs[1])])
    (w,) = sw.writes()
    assert len(w[1]) == 2 and len(w[3]) == 4                         # 1 new session, 2 re-timed
    assert all(e.idle_timeout_ns == 7 * 10**9 for e in w[3])
    assert sw.calls[-1][0] == "out"


def test_lone_state_changes_wait_then_flush(ctl):
    c, sw = ctl
    c.mods_delay = 0.2
    c._round([syn(40000)], [])
    rec = c.mgr.sessions()[0]
    sw.calls.clear()
    c._round([], [fin(rec)])
    assert sw.writes() == [] and c._pending_mods                      # deferred
    time.sleep(0.25)
    c._round([], [])                                                  # due now
    (w,) = sw.writes()
    assert [e.idle_timeout_ns for e in w[3]] == [7 * 10**9] * 2 and not c._pending_mods
    # _digests() (handle(): one event at a time) writes at once, as before
    c._round([syn(40001)], [])
    rec2 = next(r for r in c.mgr.sessions() if r.inbound.sport == 40001)
    sw.calls.clear()
    c._digests([fin(rec2)])
    assert len(sw.writes()) == 1 and len(sw.writes()[0][3]) == 2


def test_pending_state_change_is_written_before_a_delete(ctl):
    c, sw = ctl
    c.mods_delay = 60
    c._round([syn(40000)], [])
    rec = c.mgr.sessions()[0]
    c._round([], [fin(rec)])
    sw.calls.clear()
    with c.lock:
        c._idle(rec.entries[0].match)                                 # session ends: deletes
    kinds = [("mod" if w[3] else "del" if w[2] else "ins") for w in sw.writes()]
    assert kinds[0] == "mod" and "del" in kinds and kinds.index("del") > 0
    assert not c._pending_mods


def test_run_loop_flushes_deferred_changes_on_its_own(ctl):
    import threading
    c, sw = ctl
    c.mods_delay = 0.05
    c._round([syn(40000)], [])
    rec = c.mgr.sessions()[0]
    sw.calls.clear()
    sw.events.put(fin(rec))
    t = threading.Thread(target=c.run, daemon=True)
    t.start()
    try:
        end = time.monotonic() + 3
        while not any(w[3] for w in sw.writes()) and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        c.stop()
        t.join(5)
    assert any(w[3] for w in sw.writes())


def test_state_change_retimes_the_same_entries():
    mgr = SessionManager(parse_config(CFG))
    flow = FlowKey(K.IP_PROTO_TCP, CLIENT_IP, 40000, VIP, 80)
    mgr.new_flow(flow)
    rec = mgr.sessions()[0]
    plan = mgr.tcp_event(rec.ref.idx, rec.ref.gen, 1, K.TCP_EV_FLAGS,
                         K.TCP_FLAG_FIN | K.TCP_FLAG_ACK)
    assert tuple(plan.modifies) == rec.entries == mgr._rec_entries(rec)
    assert rec.entries[0].idle_timeout_ns == 7 * 10**9


def test_encoder_cache_follows_the_pipeline():
    """Entries encode as before, and a new P4Info re-resolves the ids."""
    from runtime.artifacts import compile_lvs
    from runtime.p4rt import P4RuntimeClient
    art = compile_lvs(REPO / "build")          # cached by the other lvs tests
    cl = P4RuntimeClient("127.0.0.1:1")        # never connected: encoding only
    cl.use_p4info(art.p4info)
    mgr = SessionManager(parse_config(CFG))
    mgr.new_flow(FlowKey(K.IP_PROTO_TCP, CLIENT_IP, 40000, VIP, 80))
    e = mgr.sessions()[0].entries[0]
    first = cl.encode(e).SerializeToString()
    assert cl.encode(e).SerializeToString() == first and cl._codecs
    info = cl.p4info
    tid = info.table(e.table).preamble.id
    assert cl.encode(e).table_id == tid
    cl.use_p4info(art.p4info)                 # a new P4Info object: caches rebuilt
    assert cl.encode(e).SerializeToString() == first and cl._codecs_info is cl.p4info
    cl.channel.close()
