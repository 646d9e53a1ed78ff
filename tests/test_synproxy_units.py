"""SYNPROXY and TCP-state logic of the controller, without a switch:
config keys, the cookie arithmetic mirrored from lvs.p4, the TCP state
machine and its timeouts, session indices and generations, idempotent
timeouts."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from runtime import constants as K
from runtime import tcpframes as TF
from runtime.config import ConfigError, parse_config
from runtime.entries import FlowKey
from runtime.sessions import SessionIndex, SessionManager

DEFINES = Path(__file__).resolve().parent.parent / "p4src" / "include" / "defines.p4"

CFG = textwrap.dedent("""
    [global]
    tcp_timeout = 50
    timeouts = { fin_wait = 5, close = 2 }
    [local]
    addresses = ["10.0.2.100"]
    [[service]]
    name = "web"
    vip = "10.0.0.100"
    port = 80
    protocol = "tcp"
    synproxy = true
    [[service.server]]
    ip = "10.0.2.11"
    port = 8080
    [[service]]
    name = "fast"
    vip = "10.0.0.100"
    port = 81
    protocol = "tcp"
    timeout = 11
    [[service.server]]
    ip = "10.0.2.11"
    port = 8081
""")


def test_defines_match_synproxy_constants():
    d = {m[1]: int(m[2], 0) for m in re.finditer(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)",
                                                  DEFINES.read_text())}
    assert d["OUT_OP_RST"] == K.OUT_OP_RST
    assert (d["PUNT_SYNPROXY_ACK"], d["PUNT_SYNPROXY_SYNACK"]) == (K.PUNT_SYNPROXY_ACK,
                                                                  K.PUNT_SYNPROXY_SYNACK)
    assert tuple(d[f"SP_MSS_{i}"] for i in range(8)) == K.SYNPROXY_MSS_TABLE
    assert {d[f"SP_STAT_{n.upper()}"]: n for n in K.SP_STATS.values()} == K.SP_STATS
    assert (d["TCP_EV_FIRST_ACK"], d["TCP_EV_FLAGS"]) == (K.TCP_EV_FIRST_ACK, K.TCP_EV_FLAGS)
    assert d["MAX_SESSIONS"] == K.MAX_SESSIONS and d["SEQ_TRACK_SIZE"] == 2 * K.MAX_SESSIONS


def test_config_timeouts_and_synproxy():
    cfg = parse_config(CFG)
    t = cfg.global_.timeouts
    assert (t.established, t.syn_recv, t.fin_wait, t.close, t.time_wait) == (50, 30, 5, 2, 7)
    assert cfg.service("web").synproxy and not cfg.service("fast").synproxy
    mgr = SessionManager(cfg)
    assert mgr.timeout_s(mgr.services["fast"]) == 11                     # per-service override
    assert mgr.timeout_s(mgr.services["fast"], "FIN_WAIT") == 5
    assert mgr.timeout_s(mgr.services["web"]) == 50


@pytest.mark.parametrize("old,new,needle", [
    ("close = 2 }", "close = 0 }", "timeout close 0 s is outside"),
    ("close = 2 }", "closed = 2 }", "did you mean 'close'"),
    ("synproxy = true\n", "synproxy = true\nprotocol2 = 1\n", "unknown key"),
])
def test_config_bad_timeouts(old, new, needle):
    with pytest.raises(ConfigError) as e:
        parse_config(CFG.replace(old, new, 1))
    assert needle in str(e.value)


def test_synproxy_on_udp_refused():
    bad = CFG.replace('port = 81\nprotocol = "tcp"', 'port = 81\nprotocol = "udp"\nsynproxy = true')
    with pytest.raises(ConfigError, match="TCP services only"):
        parse_config(bad)


def test_cookie_roundtrip_and_slots():
    secrets = [(0x1234, 7), (0x9999, 6)]
    for mss, sack in ((1460, True), (536, False), (1300, True), (9000, False), (100, False)):
        c = TF.make_cookie("10.0.1.2", "10.0.0.100", 40000, 80, 555, *secrets[1], mss, sack)
        seg = TF.TcpSegment("10.0.1.2", "10.0.0.100", 40000, 80, 556, c + 1, 0x10, 0, b"", b"")
        data = TF.check_cookie(seg, secrets)
        assert data is not None and data.sack_ok == sack
        assert data.mss == max(v for v in K.SYNPROXY_MSS_TABLE if v <= max(mss, 536))
        assert TF.check_cookie(seg, [secrets[0]]) is None             # only the previous slot
        wrong = TF.TcpSegment("10.0.1.3", "10.0.0.100", 40000, 80, 556, c + 1, 0x10, 0, b"", b"")
        assert TF.check_cookie(wrong, secrets) is None


def test_session_index_generations():
    idx = SessionIndex(2)
    a, b = idx.allocate(), idx.allocate()
    assert idx.allocate() is None and a.gen == b.gen == 1
    idx.free(a)
    idx.free(a)                                     # twice: harmless
    a2 = idx.allocate()
    assert a2.idx == a.idx and a2.gen == 2 and idx.allocate() is None
    for _ in range(300):                            # generations cycle 1..255, never 0
        idx.free(a2)
        a2 = idx.allocate()
        assert 1 <= a2.gen <= 255


def test_tcp_state_machine_and_timeouts():
    mgr = SessionManager(parse_config(CFG))
    flow = FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 40000, "10.0.0.100", 81)
    mgr.new_flow(flow)
    rec = mgr.sessions()[0]
    r = rec.ref
    steps = [(0, K.TCP_EV_FIRST_ACK, K.TCP_FLAG_ACK, "ESTABLISHED", 30),   # entries re-armed lazily
             (1, K.TCP_EV_FLAGS, K.TCP_FLAG_FIN | K.TCP_FLAG_ACK, "CLOSE_WAIT", 7),
             (0, K.TCP_EV_FLAGS, K.TCP_FLAG_FIN | K.TCP_FLAG_ACK, "LAST_ACK", 7),
             (0, K.TCP_EV_FLAGS, K.TCP_FLAG_RST, "CLOSE", 2)]
    prev = 30
    for side, kind, flags, state, timeout in steps:
        plan = mgr.tcp_event(r.idx, r.gen, side, kind, flags)
        assert rec.state == state
        assert rec.entries[0].idle_timeout_ns == timeout * 10**9
        # entries are rewritten only when the timeout changes (CLOSE_WAIT -> LAST_ACK: 7 -> 7)
        want = [] if timeout == prev else [timeout * 10**9] * 2
        assert [e.idle_timeout_ns for e in plan.modifies] == want
        prev = timeout
    # an event of an earlier session with the same index: ignored
    assert mgr.tcp_event(r.idx, r.gen + 1, 0, K.TCP_EV_FLAGS, K.TCP_FLAG_RST).note == "no such session"
    # expiry in CLOSE: no RST; the re-notification is a stale one
    plan = mgr.idle(rec.entries[0].match)
    assert plan.packets == [] and len(plan.deletes) == 2
    again = mgr.idle(rec.entries[0].match)
    assert again.note == "stale timeout" and mgr.stats.expired == 1


def test_syn_recv_to_established_rearms_lazily():
    """FIRST_ACK writes nothing; an idle notification with the SYN_RECV
    timeout re-arms the entries for the rest of ESTABLISHED (once)."""
    mgr = SessionManager(parse_config(CFG))
    mgr.new_flow(FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 40002, "10.0.0.100", 80))
    rec = mgr.sessions()[0]
    assert mgr.tcp_event(rec.ref.idx, rec.ref.gen, 0, K.TCP_EV_FIRST_ACK, K.TCP_FLAG_ACK).modifies == []
    plan = mgr.idle(rec.entries[0].match)
    assert [e.idle_timeout_ns for e in plan.modifies] == [20 * 10**9] * 2     # 50 - 30
    assert mgr.sessions() == [rec] and plan.packets == []
    plan = mgr.idle(rec.entries[0].match)                                       # now it expires
    assert mgr.sessions() == [] and len(plan.packets) == 2


def test_established_expiry_sends_two_rst_triggers():
    mgr = SessionManager(parse_config(CFG))
    flow = FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 40001, "10.0.0.100", 81)
    mgr.new_flow(flow)
    rec = mgr.sessions()[0]
    mgr.tcp_event(rec.ref.idx, rec.ref.gen, 0, K.TCP_EV_FIRST_ACK, K.TCP_FLAG_ACK)
    plan = mgr.idle(rec.entries[1].match)
    slots = sorted((p.rst_slot, p.rst_gen, p.op) for p in plan.packets)
    assert slots == [(rec.ref.idx * 2, rec.ref.gen, K.OUT_OP_RST),
                     (rec.ref.idx * 2 + 1, rec.ref.gen, K.OUT_OP_RST)]
    to_client = TF.parse_tcp(plan.packets[0].frame)
    assert (to_client.src, to_client.sport, to_client.dst, to_client.dport) == \
        ("10.0.0.100", 81, "10.0.1.2", 40001)
    assert to_client.flags == K.TCP_FLAG_RST
    assert mgr.sessions() == [] and mgr.pools[rec.partition].in_use == 0


def test_secret_rotation_keeps_previous():
    mgr = SessionManager(parse_config(CFG))
    cur = mgr.secrets[0]
    plan = mgr.rotate_secret()
    assert mgr.secrets[1] == cur and mgr.secrets[0][1] == (cur[1] + 1) & 0xFFFF
    assert plan.writes[0].default and plan.writes[0].table == K.T_SYNPROXY_SECRET
