"""The tutorials' runtime JSON applied over P4Runtime (topologies.tutorial_p4rt).

* Without root: the loader's checks (did-you-mean, entry and field named) on the
  tutorials' real files and on broken copies, and the command line's exit codes.
* Root (network namespaces): the basic exercise (compiled by p4pc), triangle
  topology, three p4sw processes each serving P4Runtime with its own device id;
  the tables are filled only over P4Runtime (the switches get no CLI commands);
  first with the pipeline alone (every ping must fail), then with the
  sN-runtime.json files (every host pings every other).  The multicast exercise
  likewise: without its multicast group ARP cannot flood and pings fail; with
  it (written over P4Runtime) every host pings every other.

Where the loader runs: each p4sw runs inside its switch's namespace, whose
loopback the root namespace cannot reach, so the switches serve P4Runtime on a
unix socket (``--grpc-server-addr unix:<workdir>/<switch>.p4rt.sock``): the
socket is a file, reachable from the root namespace where the loader runs.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from topologies.tutorial_p4rt import (RuntimeJsonError, TutorialLoadError, apply_runtime_p4rt,
                                      load_index, plan_updates)

REPO = Path(__file__).resolve().parents[1]
netns_test = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def tutorials(conformance_dir) -> Path:
    path = conformance_dir / "tutorials"
    if not (path / "basic" / "solution" / "basic.p4").exists():
        pytest.skip(f"{path}: no tutorials basic exercise")
    return path


@pytest.fixture(scope="module")
def built(tutorials, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(BMv2 JSON, P4Info) of basic and multicast, compiled by p4pc: a compile
    failure fails the tests (it is not a skip)."""
    from topologies.build import compile_p4
    out = tmp_path_factory.mktemp("build")
    return {name: compile_p4(tutorials / name / "solution" / f"{name}.p4", out, name)
            for name in ("basic", "multicast")}


def _runtime(tutorials: Path, rel: str) -> dict:
    return json.loads((tutorials / rel).read_text())


# ---------------------------------------------------------------------------
# checks without a switch


def test_plan_tutorial_files(tutorials, built):
    idx = load_index(built["basic"][1])
    for s in (1, 2, 3):
        plan = plan_updates(_runtime(tutorials, f"basic/triangle-topo/s{s}-runtime.json"), idx)
        assert len(plan) == 4
        default, *entries = plan
        assert default.update.type == default.update.MODIFY
        assert default.update.entity.table_entry.is_default_action
        for p in entries:
            te = p.update.entity.table_entry
            assert p.update.type == p.update.INSERT
            assert te.match[0].lpm.prefix_len == 32
            assert len(te.action.action.params) == 2
    plan = plan_updates(_runtime(tutorials, "multicast/solution/s1-runtime.json"),
                        load_index(built["multicast"][1]))
    mg = plan[-1].update.entity.packet_replication_engine_entry.multicast_group_entry
    assert mg.multicast_group_id == 1
    assert sorted(r.egress_port for r in mg.replicas) == [1, 2, 3, 4]


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["table_entries"][1].update(table="MyIngress.ipv4_lmp"),
     r"table_entries\[1\]\.table: .*did you mean 'MyIngress.ipv4_lpm'"),
    (lambda r: r["table_entries"][2]["match"].update({"hdr.ipv4.dstAdr": ["10.0.0.0", 8]}),
     r"table_entries\[2\]\.match: .*'hdr.ipv4.dstAdr'.*did you mean 'hdr.ipv4.dstAddr'"),
    (lambda r: r["table_entries"][1].update(action_name="MyIngress.ipv4_forwrd"),
     r"table_entries\[1\]\.action_name: .*did you mean 'MyIngress.ipv4_forward'"),
    (lambda r: r["table_entries"][1]["action_params"].update(prot=1),
     r"table_entries\[1\]\.action_params: .*'prot'.*did you mean 'port'"),
    (lambda r: r["table_entries"][3]["action_params"].pop("port"),
     r"table_entries\[3\]: action MyIngress.ipv4_forward needs parameter\(s\) \['port'\]"),
    (lambda r: r["table_entries"][1]["action_params"].update(port=512),
     r"table_entries\[1\]\.action_params\.port: .*does not fit in 9 bits"),
    (lambda r: r["table_entries"][1]["match"].update({"hdr.ipv4.dstAddr": ["10.0.1.1", 33]}),
     r"table_entries\[1\]\.match\['hdr.ipv4.dstAddr'\] prefix length: 33 not in 0..32"),
    (lambda r: r["table_entries"][1]["match"].update({"hdr.ipv4.dstAddr": "10.0.1.1"}),
     r"expected \[value, prefix_len\]"),
    (lambda r: r["table_entries"][1].update(priority=5),
     r"table_entries\[1\]: .*takes no priority"),
    (lambda r: r["table_entries"][0].update(match={"hdr.ipv4.dstAddr": ["10.0.0.0", 8]}),
     r"table_entries\[0\]: a default_action entry takes no match"),
    (lambda r: r.update(multicast_group_entries=[{"multicast_group_id": 1,
                                                  "replicas": [{"egress_port": "two"}]}]),
     r"multicast_group_entries\[0\]\.replicas\[0\]\.egress_port: 'two' is not a number"),
    (lambda r: r.update(target="tofino"), r"target 'tofino' is not supported"),
])
def test_bad_runtime_json_names_entry_and_field(tutorials, built, mutate, message):
    rt = _runtime(tutorials, "basic/triangle-topo/s1-runtime.json")
    bad = copy.deepcopy(rt)
    mutate(bad)
    idx = load_index(built["basic"][1])
    plan_updates(rt, idx)      # the original is fine
    with pytest.raises(RuntimeJsonError, match=message):
        plan_updates(bad, idx)


def test_lpm_and_ternary_values_are_masked_and_dont_cares_omitted(built):
    idx = load_index(built["basic"][1])
    rt = {"table_entries": [
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.1.77", 24]},
         "action_name": "MyIngress.drop", "action_params": {}},
        {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.1.77", 0]},
         "action_name": "MyIngress.drop", "action_params": {}}]}
    a, b = plan_updates(rt, idx)
    assert a.update.entity.table_entry.match[0].lpm.value == bytes([10, 0, 1, 0])
    assert len(b.update.entity.table_entry.match) == 0


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "topologies.tutorial_p4rt", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_cli_check_and_errors(tutorials, built, tmp_path):
    basic_json, basic_info = built["basic"]
    s1 = tutorials / "basic" / "triangle-topo" / "s1-runtime.json"
    cp = _cli("--grpc", "unix:/nonexistent", "--runtime", str(s1), "--p4info", str(basic_info),
              "--check")
    assert cp.returncode == 0, cp.stderr
    assert "4 updates OK" in cp.stdout
    bad = json.loads(s1.read_text())
    bad["table_entries"][1]["action_name"] = "MyIngress.ipv4_fwd"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    cp = _cli("--grpc", "unix:/nonexistent", "--runtime", str(tmp_path / "bad.json"),
              "--p4info", str(basic_info), "--json", str(basic_json))
    assert cp.returncode == 1
    assert "error: table_entries[1].action_name" in cp.stderr and "did you mean" in cp.stderr
    assert "Traceback" not in cp.stderr
    # good input, no server there: a clear error, no traceback
    cp = _cli("--grpc", f"unix:{tmp_path}/none.sock", "--runtime", str(s1), "--p4info",
              str(basic_info), "--json", str(basic_json), "--timeout", "1")
    assert cp.returncode == 1
    assert "UNAVAILABLE" in cp.stderr and "Traceback" not in cp.stderr
    # the runtime file's own paths are relative to --workdir
    cp = _cli("--grpc", "x", "--runtime", str(s1), "--workdir", str(tmp_path), "--check")
    assert cp.returncode == 1 and "build/basic.p4.p4info.txtpb" in cp.stderr


FULL_RUNTIME = {
    "target": "bmv2",
    "table_entries": [
        {"table": "I.l2", "default_action": True, "action_name": "I.drop",
         "action_params": {}},
        {"table": "l2", "match": {"h.ethernet.dst": "08:00:00:00:01:11"},
         "action_name": "fwd", "action_params": {"port": 1}},
        {"table": "I.l2", "match": {"h.ethernet.dst": "ff:ff:ff:ff:ff:ff"},
         "action_name": "I.set_mcast", "action_params": {"grp": 7}},
        {"table": "I.routes", "match": {"h.ipv4.dstAddr": ["10.1.0.0", 16]},
         "action_name": "I.fwd", "action_params": {"port": "0x2"}},
        {"table": "I.acl", "priority": 20,
         "match": {"h.ipv4.srcAddr": ["10.0.0.0", "255.0.0.0"], "h.ipv4.protocol": 6,
                   "h.ipv4.totalLen": [100, 200]},
         "action_name": "I.acl_fwd", "action_params": {"port": 3}},
        {"table": "I.acl", "priority": 10, "match": {"h.ipv4.totalLen": [0, 65535]},
         "action_name": "I.acl_drop", "action_params": {}},
        {"table": "I.mirror", "match": {"h.ipv4.diffserv": 4},
         "action_name": "I.do_clone", "action_params": {"session": 5}},
    ],
    "multicast_group_entries": [
        {"multicast_group_id": 7, "replicas": [{"egress_port": 1, "instance": 1},
                                               {"egress_port": 2, "instance": 1},
                                               {"egress_port": 2, "instance": 2}]}],
    "clone_session_entries": [
        {"clone_session_id": 5, "replicas": [{"egress_port": 4, "instance": 0}]},
        {"clone_session_id": 6, "replicas": [{"egress_port": 1, "instance": 1},
                                             {"egress_port": 3, "instance": 1}],
         "packet_length_bytes": 64}],
}


def test_every_entry_kind_in_process():
    """exact/lpm/ternary/optional/range, priorities, a default action, a
    multicast group and clone sessions, written to the in-process P4Runtime
    server (tests/p4rt_harness.py, program p4rt_full) and read back."""
    pytest.importorskip("grpc")
    from p4common.proto import p4runtime_pb2 as pb
    from p4rt_harness import program, start_inprocess
    try:
        bmv2, info = program("p4rt_full")
    except FileNotFoundError:
        pytest.skip("tests/p4rt_programs/p4rt_full not built (make p4rt-test-programs)")
    target = start_inprocess((5,))
    try:
        res = apply_runtime_p4rt(target.addr, 5, FULL_RUNTIME, p4info=info, bmv2_json=bmv2)
        assert (res.table_entries, res.default_actions, res.multicast_groups,
                res.clone_sessions) == (6, 1, 1, 2), res.describe()
        from runtime.p4rt import P4RuntimeClient
        c = P4RuntimeClient(target.addr, 5)
        c.use_p4info(info)
        idx = c.p4info
        try:
            req = pb.ReadRequest(device_id=5)
            req.entities.add().table_entry.SetInParent()
            req.entities.add().packet_replication_engine_entry.multicast_group_entry.SetInParent()
            req.entities.add().packet_replication_engine_entry.clone_session_entry.SetInParent()
            ents = [e for r in c.stub.Read(req, timeout=10) for e in r.entities]
            dreq = pb.ReadRequest(device_id=5)
            dreq.entities.add().table_entry.table_id = idx.table("I.l2").preamble.id
            dreq.entities[0].table_entry.is_default_action = True
            default = [e for r in c.stub.Read(dreq, timeout=10) for e in r.entities]
        finally:
            c.close()
        tes = [e.table_entry for e in ents if e.HasField("table_entry")]
        by_table: dict[str, list] = {}
        for te in tes:
            by_table.setdefault(idx.table(te.table_id).preamble.name, []).append(te)
        assert len(by_table["I.l2"]) == 2
        assert len(by_table["I.routes"]) == 1
        r = by_table["I.routes"][0].match[0].lpm
        assert (r.value, r.prefix_len) == (bytes([10, 1, 0, 0]), 16)
        acl = sorted(by_table["I.acl"], key=lambda te: -te.priority)
        assert [te.priority for te in acl] == [20, 10]
        kinds = sorted(fm.WhichOneof("field_match_type") for fm in acl[0].match)
        assert kinds == ["optional", "range", "ternary"]
        assert len(acl[1].match) == 0          # the full range is a don't-care: omitted
        assert idx.action(default[0].table_entry.action.action.action_id).preamble.name \
            == "I.drop"
        pre = [e.packet_replication_engine_entry for e in ents
               if e.HasField("packet_replication_engine_entry")]
        groups = [p.multicast_group_entry for p in pre if p.HasField("multicast_group_entry")]
        sessions = {p.clone_session_entry.session_id: p.clone_session_entry
                    for p in pre if p.HasField("clone_session_entry")}
        assert [(g.multicast_group_id, len(g.replicas)) for g in groups] == [(7, 3)]
        assert sorted(sessions) == [5, 6]
        assert sessions[6].packet_length_bytes == 64 and len(sessions[6].replicas) == 2
        # a second load without a pipeline push: every insert is refused, by name
        with pytest.raises(TutorialLoadError) as ei:
            apply_runtime_p4rt(target.addr, 5, FULL_RUNTIME, p4info=info, bmv2_json=None)
        msg = str(ei.value)
        assert "table_entries[4] (I.acl 10.0.0.0&&&0xff000000 " in msg
        assert "multicast_group_entries[0] (multicast group 7" in msg and "ALREADY_EXISTS" in msg
        assert "table_entries[0]" not in msg   # the default action is a MODIFY: fine again
    finally:
        target.stop()


# ---------------------------------------------------------------------------
# network namespaces


def _p4rt_net(topo, program: Path):
    """A NetnsTopology whose switches serve P4Runtime on unix sockets, device
    ids 0, 1, 2... in switch name order; no runtime CLI entries."""
    from topologies.runner import NetnsTopology
    net = NetnsTopology(topo)
    addrs = {}
    for dev, sw in enumerate(sorted(topo.switches())):
        attrs = topo.node(sw)
        assert not attrs.get("runtime") and not attrs.get("cli_commands")
        attrs["program"] = str(program)
        sock = net.workdir / f"{sw}.p4rt.sock"
        attrs["p4sw_args"] = ["--grpc-server-addr", f"unix:{sock}", "--device-id", str(dev)]
        addrs[sw] = (f"unix:{sock}", dev)
    return net, addrs


def _assert_cleaned(prefix: str, pids: list[int]) -> None:
    from topologies.netns import run
    leftovers = [n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(prefix)]
    assert leftovers == []
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"switch pid {pid} still runs"


@pytest.mark.root
@pytest.mark.slow
def test_basic_triangle_over_p4runtime(tutorials, built):
    from topologies.netns import netns_supported
    from topologies.tutorials import load_topology_json
    from runtime.p4rt import P4RuntimeClient
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    program, p4info = built["basic"]
    exercise = tutorials / "basic" / "triangle-topo"
    topo = load_topology_json(str(exercise / "topology.json"), with_runtime=False)
    net, addrs = _p4rt_net(topo, program)
    with net:
        pids = [sp.pid for sp in net.switches.values()]
        for sw in addrs:      # nothing reached the switches through the runtime CLI
            assert (net.workdir / f"{sw}-commands.txt").read_text() == ""
        # 1. pipeline only (empty runtime): nothing is forwarded
        for sw, (addr, dev) in addrs.items():
            res = apply_runtime_p4rt(addr, dev, {"table_entries": []}, p4info=p4info,
                                     bmv2_json=program)
            assert res.pipeline_set and res.table_entries == 0
        before = net.ping_all(wait=1.0, tries=1)
        assert not any(before.values()), f"pings answered without entries: {before}"
        # a wrong device id is refused (each switch serves only its own)
        with pytest.raises(TutorialLoadError, match="device 7"):
            apply_runtime_p4rt(addrs["s1"][0], 7, {"table_entries": []}, p4info=p4info,
                               bmv2_json=program, timeout=3)
        # 2. the tutorial's runtime files: s1, s2 in-process, s3 through the command line
        for sw in ("s1", "s2"):
            addr, dev = addrs[sw]
            res = apply_runtime_p4rt(addr, dev, exercise / f"{sw}-runtime.json",
                                     p4info=p4info, bmv2_json=program)
            assert (res.table_entries, res.default_actions) == (3, 1), res.describe()
        addr, dev = addrs["s3"]
        cp = _cli("--grpc", addr, "--device-id", str(dev), "--p4info", str(p4info),
                  "--json", str(program), "--runtime", str(exercise / "s3-runtime.json"))
        assert cp.returncode == 0, cp.stderr
        assert "3 table entries, 1 default actions" in cp.stdout
        # the entries are there, read back over P4Runtime
        for sw, (addr, dev) in addrs.items():
            c = P4RuntimeClient(addr, dev)
            try:
                c.use_p4info(p4info)
                got = sorted(e.match[0][1].value for e in c.read_entries("MyIngress.ipv4_lpm"))
            finally:
                c.close()
            assert got == [0x0A000101, 0x0A000202, 0x0A000303], sw
        # applying s1's file again: the duplicates are named
        with pytest.raises(TutorialLoadError, match=r"table_entries\[1\] .*ALREADY_EXISTS"):
            apply_runtime_p4rt(addrs["s1"][0], addrs["s1"][1], exercise / "s1-runtime.json",
                               p4info=p4info, bmv2_json=None)
        result = net.ping_all()
        cp = net.exec("h1", ["ping", "-n", "-c", "1", "-W", "2", topo.host_ip("h2")])
        assert "ttl=62" in cp.stdout, cp.stdout
    failed = [pair for pair, ok in result.items() if not ok]
    assert not failed, f"no answer for {failed}"
    assert len(result) == 6
    _assert_cleaned(net.prefix, pids)


@pytest.mark.root
@pytest.mark.slow
def test_multicast_star_over_p4runtime(tutorials, built):
    from topologies.netns import netns_supported
    from topologies.tutorials import load_topology_json
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    program, p4info = built["multicast"]
    topo = load_topology_json(str(tutorials / "multicast" / "sig-topo" / "topology.json"),
                              with_runtime=False)
    for h in topo.hosts():
        # "ip route add 10.0.0.0/24 dev eth0": `ip addr add 10.0.0.N/24` made that route
        topo.node(h)["commands"] = []
    # the solution's file: the sig-topo copy leaves port 4 out of the group
    runtime = _runtime(tutorials, "multicast/solution/s1-runtime.json")
    net, addrs = _p4rt_net(topo, program)
    addr, dev = addrs["s1"]
    with net:
        pids = [sp.pid for sp in net.switches.values()]
        no_group = dict(runtime, multicast_group_entries=[])
        res = apply_runtime_p4rt(addr, dev, no_group, p4info=p4info, bmv2_json=program)
        assert (res.table_entries, res.multicast_groups) == (4, 0)
        assert not net.ping("h1", topo.host_ip("h2"), wait=1.0), "ARP resolved without a group"
        res = apply_runtime_p4rt(addr, dev, runtime, p4info=p4info, bmv2_json=program)
        assert (res.table_entries, res.multicast_groups) == (4, 1)
        result = net.ping_all()
    failed = [pair for pair, ok in result.items() if not ok]
    assert not failed, f"no answer for {failed}"
    assert len(result) == 12
    _assert_cleaned(net.prefix, pids)
