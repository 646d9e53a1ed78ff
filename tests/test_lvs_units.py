"""runtime/ units: config validation, schedulers, pool, checksums, sessions."""
from __future__ import annotations

import random
import re
import textwrap
from pathlib import Path

import pytest

from runtime import constants as K
from runtime.checksum import apply_delta, nat_deltas, ones_sum
from runtime.config import ConfigError, RealServer, parse_config
from runtime.entries import FlowKey
from runtime.pool import PartitionPool, make_pools, partition_of
from runtime.scheduler import Maglev, NoServerError, SmoothWrr, build_maglev_table
from runtime.sessions import SessionManager

from lvs_config import web_config

DEFINES = Path(__file__).resolve().parent.parent / "p4src" / "include" / "defines.p4"

#: the line numbers asserted below follow tests/lvs_config.py's layout
GOOD = web_config(addresses=("10.0.2.100", "10.0.2.101"), port_range=(5000, 5007),
                  servers=(("10.0.2.11", 8080, 3), ("10.0.2.12", 8080, 1)))


def test_defines_match_constants():
    text = DEFINES.read_text()
    d = {m[1]: int(m[2], 0) for m in re.finditer(r"#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)", text)}
    assert d["CPU_PORT"] == K.CPU_PORT
    assert (d["OUT_OP_DIRECT"], d["OUT_OP_PIPELINE"]) == (K.OUT_OP_DIRECT, K.OUT_OP_PIPELINE)
    assert d["PUNT_NEW_FLOW"] == K.PUNT_NEW_FLOW
    drops = {v: k[5:] for k, v in d.items() if k.startswith("DROP_") and k not in
             ("DROP_NONE", "DROP_REASON_COUNT")}
    assert drops == K.DROP_REASONS
    assert d["DROP_REASON_COUNT"] == K.DROP_REASON_COUNT


def test_config_good():
    cfg = parse_config(GOOD)
    assert cfg.global_.workers == 2 and cfg.port_range == (5000, 5007)
    web = cfg.service("web")
    assert web.servers == (RealServer("10.0.2.11", 8080, 3), RealServer("10.0.2.12", 8080, 1))


@pytest.mark.parametrize("old,new,line,needle", [
    ("weight = 3", "weight = -1", 22, "weight -1 is outside"),
    ('protocol = "tcp"', 'protocol = "sctp"', 18, "protocol must be one of"),
    ("workers = 2", "wrokers = 2", 2, "did you mean 'workers'"),
    ("workers = 2", "workers = 3", 2, "power of two"),
    ("workers = 2", "workers = 2\npunt_rate = -1", 3, "punt_rate -1 is outside"),
    ('ip = "10.0.2.12"', 'ip = "10.0.2.300"', 24, "not an IPv4 address"),
    ('ip = "10.0.2.12"', 'ip = "10.0.2.11"', 23, "listed twice"),
    ("port = 80", 'port = "80"', 17, "must be an integer"),
    ('prefix = "10.0.1.0/24"', 'prefix = "10.0.1.1/24"', 8, "bad prefix"),
    ('vip = "10.0.0.100"', 'vip = "10.0.2.100"', 16, "also a local address"),
    ("port = 1\nmac", "port = 255\nmac", 4, "not a data port"),
    ("port_range = [5000, 5007]", "port_range = [5000]", 13, "port_range"),
])
def test_config_errors_are_line_located(old, new, line, needle):
    with pytest.raises(ConfigError) as ei:
        parse_config(GOOD.replace(old, new, 1), "lb.toml")
    msg = str(ei.value)
    assert needle in msg, msg
    assert f"lb.toml:{line}:" in msg, msg


def test_config_reports_every_problem_and_syntax_errors():
    bad = GOOD.replace("weight = 3", "weight = -1").replace('protocol = "tcp"', 'protocol = "x"')
    with pytest.raises(ConfigError) as ei:
        parse_config(bad)
    assert len(ei.value.issues) == 2
    with pytest.raises(ConfigError) as ei:
        parse_config("[global\nx=1")
    assert "TOML syntax" in str(ei.value) and ei.value.issues[0].line == 1
    with pytest.raises(ConfigError, match="duplicate|already defined"):
        parse_config(GOOD + GOOD[GOOD.index("[[service]]"):].replace('"web"', '"web2"'))


def test_swrr_exact_and_smooth():
    s = SmoothWrr({"a": 5, "b": 1, "c": 1})
    picks = [s.pick() for _ in range(700)]
    assert picks.count("a") == 500 and picks.count("b") == 100
    assert "aaaa" not in "".join(picks[:7])            # interleaved, not bursty
    s.update({"a": 5, "b": 0, "c": 1})                  # b drains
    assert "b" not in {s.pick() for _ in range(60)}
    with pytest.raises(NoServerError):
        SmoothWrr({"a": 0}).pick()


def test_maglev_balance_and_minimal_disruption():
    m = 1009
    t1 = build_maglev_table({"a": 1, "b": 1, "c": 1}, m)
    assert all(abs(t1.count(x) - m / 3) <= 2 for x in "abc")
    t2 = build_maglev_table({"a": 1, "b": 1, "c": 1, "d": 1}, m)
    moved = sum(1 for x, y in zip(t1, t2) if x != y and y != "d")
    assert t2.count("d") > m // 5 and moved < m * 0.05
    w = build_maglev_table({"a": 3, "b": 1}, m)
    assert abs(w.count("a") / m - 0.75) < 0.02
    mg = Maglev({"a": 1, "b": 1}, 251)
    assert mg.pick(b"flow") == mg.pick(b"flow")
    with pytest.raises(NoServerError):
        Maglev({}, 251).pick(b"x")


def test_pool_partitions_disjoint_and_exhaustion_counted():
    pools = make_pools(4, ("10.0.0.1",), (5000, 5015))
    ports = [[p.allocate().port for _ in range(4)] for p in pools]
    assert sorted(sum(ports, [])) == list(range(5000, 5016))
    for i, ps in enumerate(ports):
        assert all(partition_of(x, 4) == i for x in ps)
    assert pools[0].allocate() is None and pools[0].exhausted == 1
    pool = PartitionPool(0, 1, ("a",), (5000, 5000))
    ep = pool.allocate()
    assert pool.free(ep) and not pool.free(ep)           # idempotent
    assert pool.allocate() == ep


def test_incremental_checksum_equals_full_recompute():
    rnd = random.Random(1)
    for _ in range(2000):
        words = [rnd.randrange(65536) for _ in range(10)]
        old = ~ones_sum(words) & 0xFFFF
        src, dst, sp, dp = (rnd.randrange(2**32), rnd.randrange(2**32),
                            rnd.randrange(65536), rnd.randrange(65536))
        nsrc, ndst, nsp, ndp = (rnd.randrange(2**32), rnd.randrange(2**32),
                                rnd.randrange(65536), rnd.randrange(65536))
        before = words + [src >> 16, src & 0xFFFF, dst >> 16, dst & 0xFFFF, sp, dp]
        after = words + [nsrc >> 16, nsrc & 0xFFFF, ndst >> 16, ndst & 0xFFFF, nsp, ndp]
        csum = ~ones_sum(before) & 0xFFFF
        _, l4 = nat_deltas(src, dst, sp, dp, nsrc, ndst, nsp, ndp)
        want = ~ones_sum(after) & 0xFFFF
        got = apply_delta(csum, l4)
        # 0x0000 and 0xFFFF are the same one's complement value
        assert got == want or {got, want} == {0, 0xFFFF}, (old, got, want)


def _mgr():
    return SessionManager(parse_config(GOOD))


def test_session_created_once_duplicates_idempotent():
    mgr = _mgr()
    flow = FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 40000, "10.0.0.100", 80)
    p1 = mgr.new_flow(flow)
    assert p1.reinject and len(p1.writes) == 2
    p2 = mgr.new_flow(flow)
    assert p2.reinject and p2.writes == p1.writes and mgr.stats.duplicate_punts == 1
    rec = mgr.sessions()[0]
    assert rec.outbound.dst in ("10.0.2.100", "10.0.2.101")
    assert partition_of(rec.local.port, 2) == rec.partition
    # a new TCP session is in SYN_RECV until the client's first ACK is reported
    assert p1.writes[0].idle_timeout_ns == 30 * 10**9 and rec.state == "SYN_RECV"
    p3 = mgr.tcp_event(rec.ref.idx, rec.ref.gen, 0, K.TCP_EV_FIRST_ACK, K.TCP_FLAG_ACK)
    assert rec.state == "ESTABLISHED" and p3.modifies == []      # re-armed lazily, on idle
    p4 = mgr.idle(p1.writes[0].match)
    assert [e.idle_timeout_ns for e in p4.modifies] == [60 * 10**9] * 2 and mgr.sessions() == [rec]


def test_sessions_follow_weights_and_drain():
    mgr = _mgr()
    flows = [FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 30000 + i, "10.0.0.100", 80) for i in range(8)]
    for f in flows:
        assert mgr.new_flow(f).reinject
    servers = [r.server[0] for r in mgr.sessions()]
    assert servers.count("10.0.2.11") == 6 and servers.count("10.0.2.12") == 2
    mgr.set_server("web", RealServer("10.0.2.11", 8080, 0))      # drain
    before = len(mgr.sessions())
    assert mgr.new_flow(FlowKey(K.IP_PROTO_TCP, "10.0.1.3", 1, "10.0.0.100", 80)).reinject
    assert mgr.sessions()[-1].server == ("10.0.2.12", 8080)
    assert len(mgr.sessions()) == before + 1                     # old sessions kept


def test_pool_exhaustion_refuses_without_crash():
    mgr = _mgr()              # 8 ports x 2 addresses over 2 partitions: 8 per partition
    made = 0
    for i in range(40):
        if mgr.new_flow(FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 20000 + i, "10.0.0.100", 80)).reinject:
            made += 1
    assert made == 16 and mgr.stats.pool_exhausted == 24


def test_idle_timeout_frees_both_entries_and_port():
    mgr = _mgr()
    flow = FlowKey(K.IP_PROTO_TCP, "10.0.1.2", 40000, "10.0.0.100", 80)
    writes = mgr.new_flow(flow).writes
    plan = mgr.idle(writes[0].match)
    assert set(plan.deletes) == set(writes) and mgr.sessions() == []
    stale = mgr.idle(writes[1].match)           # re-notified after the session went
    assert [(e.table, e.match) for e in stale.deletes] == [(writes[1].table, writes[1].match)]
    assert mgr.stats.stale_timeouts == 1
    assert sum(p.in_use for p in mgr.pools) == 0


def test_cli_check_reports_located_errors(tmp_path, capsys):
    from runtime.cli import main
    good = tmp_path / "lb.toml"
    good.write_text(GOOD)
    assert main(["check", "-c", str(good)]) == 0
    assert "1 service(s), 2 real server(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("weight = 3", "weight = 3.5"))
    assert main(["check", "-c", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:22: service[0].server[0].weight: 'weight' must be an integer" in err
    assert main(["check", "-c", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["list", "--socket", str(tmp_path / "none.sock")]) == 1
    assert "no p4lvs daemon" in capsys.readouterr().err


# ------------------------------------------------------------ audit fixes (runtime/)
def test_config_binary_file_is_a_located_config_error(tmp_path):
    from runtime.config import load_config
    bad = tmp_path / "x.toml"
    bad.write_bytes(b"[global]\nworkers = 2\n\xff\xfe\x00garbage\n")
    with pytest.raises(ConfigError) as ei:
        load_config(bad)
    [issue] = ei.value.issues
    assert issue.line == 3 and "not UTF-8" in issue.message and "0xff" in issue.message


def _messages(text: str) -> list[str]:
    with pytest.raises(ConfigError) as ei:
        parse_config(text, "lb.toml")
    return str(ei.value).splitlines()


def test_config_duplicate_server_reported_after_an_invalid_one():
    # server[0] has a bad weight, server[1] repeats its address: both are problems
    text = GOOD.replace("weight = 3", "weight = -1").replace('ip = "10.0.2.12"', 'ip = "10.0.2.11"')
    msgs = _messages(text)
    assert "lb.toml:22: service[0].server[0].weight: weight -1 is outside 0..10000" in msgs, msgs
    assert any(m.startswith("lb.toml:23: service[0].server[1]: real server 10.0.2.11:8080 listed "
                            "twice") for m in msgs), msgs


def test_config_duplicate_vip_reported_when_the_other_service_is_bad():
    svc = GOOD[GOOD.index("[[service]]"):]
    text = GOOD.replace('name = "web"', "name = 5") + svc.replace('"web"', '"web2"')
    msgs = _messages(text)
    assert "lb.toml:15: service[0].name: 'name' must be a string, not int" in msgs, msgs
    assert "lb.toml:27: service[1]: tcp 10.0.0.100:80 already defined by service[0]" in msgs, msgs
    # a service missing a key still has its servers and its address checked
    text = GOOD.replace('protocol = "tcp"\n', "").replace('ip = "10.0.2.12"', 'ip = "10.0.2.300"')
    msgs = _messages(text)
    assert any("missing key 'protocol'" in m for m in msgs), msgs
    assert any("'10.0.2.300' is not an IPv4 address" in m for m in msgs), msgs


def test_config_interface_problems_reported_independently():
    text = GOOD.replace('mac = "02:00:00:00:00:01"\n', "") + textwrap.dedent("""\
        [[interface]]
        port = 1
        mac = "02:00:00:00:00:02"
        ip = "10.0.1.2"
        """)
    msgs = _messages(text)
    assert any("interface[0]: missing key 'mac'" in m for m in msgs), msgs
    assert any("interface[1].port: port 1 already used by interface[0]" in m for m in msgs), msgs


def test_p4info_requirements_name_every_missing_object(tmp_path):
    from p4common.p4info import P4InfoIndex, load_p4info
    from runtime.artifacts import compile_lvs
    from runtime.requirements import P4InfoMismatchError, check_p4info, missing_objects
    info = load_p4info(compile_lvs(tmp_path / "build").p4info)
    assert missing_objects(P4InfoIndex(info)) == []         # lvs.p4 of this version: all there
    # an older lvs.p4: no SYN-cookie secret table, no RST metadata
    for i, t in enumerate(info.tables):
        if t.preamble.alias == "synproxy_secret":
            del info.tables[i]
            break
    for c in info.controller_packet_metadata:
        if c.preamble.name == "packet_out":
            keep = [m for m in c.metadata if m.name != "rst_gen"]
            del c.metadata[:]
            c.metadata.extend(keep)
    with pytest.raises(P4InfoMismatchError) as ei:
        check_p4info(info, "old.p4info")
    assert ei.value.missing == ["table synproxy_secret", "packet_out metadata field rst_gen"]
    assert str(ei.value).startswith("old.p4info does not match what the p4lvs daemon needs")


def test_one_worker_partition_entry_omits_the_port_field(tmp_path):
    """workers = 1: the lport_partition entry matches every port; P4Runtime
    wants a don't-care omitted, not sent as a zero mask."""
    from runtime.artifacts import compile_lvs
    from runtime.entries import IndexAllocator, static_entries
    from runtime.p4rt import P4RuntimeClient
    cfg = parse_config(GOOD.replace("workers = 2\n", ""))
    assert cfg.global_.workers == 1
    [part] = [e for e in static_entries(cfg, IndexAllocator(16))
              if e.table == K.T_LPORT_PARTITION and e.match[0][1].value == 0x0A000264]
    client = P4RuntimeClient("127.0.0.1:1")
    try:
        client.use_p4info(compile_lvs(tmp_path / "build").p4info)
        te = client.encode(part)
        t = client.p4info.table(K.T_LPORT_PARTITION)
        names = {mf.id: mf.name for mf in t.match_fields}
        assert [names[m.field_id] for m in te.match] == ["local_addr"]
        assert te.priority == 1                       # still a ternary table's entry
        two = next(e for e in static_entries(parse_config(GOOD), IndexAllocator(16))
                   if e.table == K.T_LPORT_PARTITION)
        assert len(client.encode(two).match) == 2     # with partitions the port is matched
    finally:
        client.close()
