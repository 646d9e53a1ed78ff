"""The Mininet backend (topologies.mininet_backend).

Without root: the spec the venv side writes and the Mininet side (system
python, stdlib + mininet only) reads, its error messages, and that the module
really imports on /usr/bin/python3 without the venv's packages.

With root and the Debian `mininet` package: the tutorials' basic exercise,
compiled by p4pc, on the triangle topology under Mininet -- every host pings
every other, an entry added over the runtime CLI socket takes effect, and
teardown leaves none of the run's processes behind.
P4LVS_BASIC_JSON=path uses an already-built basic.json instead of compiling.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from topologies import mininet_backend as mb
from topologies.graph import Topology, TopologyError

REPO = Path(__file__).resolve().parents[1]


def _tiny_topology(program: Path) -> Topology:
    t = Topology()
    t.add_host("h1", ip="10.0.1.1/24", mac="08:00:00:00:01:11",
               commands=["route add default gw 10.0.1.10 dev eth0",
                         "arp -i eth0 -s 10.0.1.10 08:00:00:00:01:00"])
    t.add_host("h2", ip="10.0.2.2/24")
    t.add_switch("s1", program=str(program), cli_commands=["table_set_default t a"])
    t.add_switch("s2", program=str(program))
    t.add_link("h1", "s1")
    t.add_link("s1", "s2", port_a=3, port_b=7)
    t.add_link("h2", "s2")
    return t


def _spec(tmp_path: Path) -> dict:
    program = tmp_path / "p.json"
    program.write_text("{}")
    return mb.make_spec(_tiny_topology(program), tmp_path, state_file=tmp_path / "state.json",
                        p4sw_python="/venv/python", p4sw_args=["--log-level", "debug"])


def test_spec_round_trip(tmp_path):
    data = json.loads(json.dumps(_spec(tmp_path)))  # what the other interpreter sees
    spec = mb.parse_spec(data)
    assert [h.name for h in spec.hosts] == ["h1", "h2"]
    assert [(s.name, s.device_id) for s in spec.switches] == [("s1", 0), ("s2", 1)]
    h1 = spec.hosts[0]
    assert h1.ip == "10.0.1.1/24" and h1.mac == "08:00:00:00:01:11"
    # tutorial net-tools commands arrive as iproute2 argv lists
    assert h1.setup == (("ip", "route", "replace", "default", "via", "10.0.1.10", "dev", "eth0"),
                        ("ip", "neigh", "replace", "10.0.1.10", "lladdr", "08:00:00:00:01:00",
                         "nud", "permanent", "dev", "eth0"))
    links = {(ln.a, ln.port_a, ln.b, ln.port_b) for ln in spec.links}
    assert links == {("h1", 0, "s1", 1), ("s1", 3, "s2", 7), ("h2", 0, "s2", 1)}
    assert spec.iface("h1", 0) == "eth0" and spec.iface("s2", 7) == "s2-eth7"
    s1 = spec.switches[0]
    assert Path(s1.program) == (tmp_path / "p.json").resolve()
    assert Path(s1.commands_file).read_text() == "table_set_default t a\n"
    assert Path(spec.switches[1].commands_file).read_text() == ""
    assert spec.p4sw_python == "/venv/python" and spec.p4sw_args == ["--log-level", "debug"]
    assert spec.thrift_port == 9090 and not spec.cli


def test_spec_accepts_networkx_edges_key(tmp_path):
    data = _spec(tmp_path)
    graph = data["graph"]
    graph["edges"] = graph.pop("links")
    assert len(mb.parse_spec(data).links) == 3


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=99), "version 99"),
    (lambda d: d["graph"]["links"][0].update(target="nope"), "unknown end"),
    (lambda d: d["graph"]["links"][0].update(ports={}), "ports must map"),
    (lambda d: d["graph"]["nodes"][0].update(kind="router"), "neither host nor switch"),
    (lambda d: [n.pop("program") for n in d["graph"]["nodes"] if n["kind"] == "switch"], "no program"),
    (lambda d: [n.update(setup="ls") for n in d["graph"]["nodes"] if n["kind"] == "host"], "argv lists"),
    (lambda d: d.pop("workdir"), "workdir missing"),
])
def test_spec_errors(tmp_path, mutate, message):
    data = _spec(tmp_path)
    mutate(data)
    with pytest.raises(mb.MininetBackendError, match=message):
        mb.parse_spec(data)


def test_missing_program_is_a_topology_error(tmp_path):
    with pytest.raises(TopologyError, match="s1: program .* not found"):
        mb.make_spec(_tiny_topology(tmp_path / "absent.json"), tmp_path,
                     state_file=tmp_path / "s.json", p4sw_python="x", p4sw_args=[])


def test_imports_on_system_python_without_venv_packages():
    """The Mininet half runs on /usr/bin/python3, which has neither networkx
    nor the project's packages: the module must import there with nothing
    but the standard library."""
    if not Path(mb.SYSTEM_PYTHON).exists():
        pytest.skip(f"{mb.SYSTEM_PYTHON} not found")
    code = ("import sys; import topologies.mininet_backend as m; "
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in "
            "('networkx', 'p4common', 'p4switch', 'p4compiler', 'mininet')); print(bad)")
    cp = subprocess.run([mb.SYSTEM_PYTHON, "-s", "-c", code], check=False, capture_output=True, text=True,
                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)},
                        cwd="/")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "[]"


def test_serve_rejects_a_bad_spec(tmp_path, capsys):
    bad = tmp_path / "spec.json"
    bad.write_text('{"version": 1}')
    assert mb.serve(str(bad)) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert mb.main(["serve"]) == 2


def test_cli_reports_bad_topology_without_traceback(tmp_path, capsys):
    rc = mb.main(["--topology", str(tmp_path / "none.json"), "--program", str(tmp_path / "x.json"),
                  "--workdir", str(tmp_path / "w")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    ok, _ = mb.mininet_supported()
    if ok:  # got as far as loading the topology
        assert "none.json" in err


# ---------------------------------------------------------------------------
# the tutorials' basic exercise under Mininet (root)

@pytest.fixture(scope="module")
def basic_json(tmp_path_factory):
    ok, why = mb.mininet_supported()
    if not ok:
        pytest.skip(why)
    pytest.importorskip("p4switch.switch", reason="switch engine not written yet")
    from topologies.build import CompileError, CompilerUnavailable, basic_p4, compile_p4
    if os.environ.get("P4LVS_BASIC_JSON"):
        return Path(os.environ["P4LVS_BASIC_JSON"])
    src = basic_p4()
    if not src.exists():
        pytest.skip(f"{src} not found (set P4LVS_SHARED)")
    try:
        program, _ = compile_p4(src, tmp_path_factory.mktemp("build"), "basic")
    except CompilerUnavailable as e:
        pytest.skip(str(e))
    except CompileError as e:
        pytest.skip(f"the compiler cannot produce basic.json yet: {e}")
    return program


def _handle_of(table_dump: str, key_re: str) -> int:
    """The handle of the entry whose match key matches `key_re`, from
    simple_switch_CLI's table_dump output ("Dumping entry 0x2" blocks)."""
    for block in table_dump.split("Dumping entry ")[1:]:
        if re.search(key_re, block):
            return int(block.split()[0], 16)
    raise AssertionError(f"no entry {key_re} in:\n{table_dump}")


def _procs_mentioning(text: str) -> list[int]:
    """Pids of processes whose command line contains `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _netns_inode(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


def _root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], check=False, capture_output=True,
                         text=True).stdout
    return {line.split(":", 2)[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


@pytest.mark.root
@pytest.mark.slow
def test_basic_triangle_under_mininet(basic_json, tmp_path):
    from topologies.build import tutorials_dir
    from topologies.tutorials import load_topology_json
    topo = load_topology_json(str(tutorials_dir() / "basic" / "triangle-topo" / "topology.json"),
                              program=str(basic_json))
    net = mb.MininetTopology(topo, workdir=tmp_path / "run")
    with net:
        state = net.state
        serve_pid = state["serve_pid"]
        assert net.proc.pid == serve_pid
        assert sorted(state["nodes"]) == ["h1", "h2", "h3", "s1", "s2", "s3"]
        # every node, switches included, has a namespace of its own
        inodes = {_netns_inode(info["pid"]) for info in state["nodes"].values()}
        assert len(inodes) == 6 and _netns_inode(os.getpid()) not in inodes
        for name, sw in state["switches"].items():
            assert _netns_inode(sw["pid"]) == _netns_inode(state["nodes"][name]["pid"])
        assert sorted(net.live_processes()) == sorted(
            [i["pid"] for i in state["nodes"].values()] + [i["pid"] for i in state["switches"].values()])
        # interfaces named as in the netns backend
        links = net.exec("s1", ["ip", "-o", "link", "show"], check=True).stdout
        assert all(f"s1-eth{p}" in links for p in (1, 2, 3)), links
        assert "eth0" in net.exec("h1", ["ip", "-o", "addr", "show", "dev", "eth0"], check=True).stdout

        # the p4sw command lines name the run's folder (so the check after
        # teardown below can see them)
        assert len(_procs_mentioning(str(tmp_path / "run"))) >= 3
        result = net.ping_all()
        # TTL went down by one per switch: h1 -> h2 crosses s1 and s2
        cp = net.exec("h1", ["ping", "-n", "-c", "1", "-W", "2", topo.host_ip("h2")])
        assert "ttl=62" in cp.stdout, cp.stdout

        # an entry added over s1's runtime CLI socket takes effect at once
        # (the runtime JSON's entry for h3 is replaced by a drop)
        dump = net.runtime_cli("s1", ["table_dump MyIngress.ipv4_lpm"])
        assert dump.returncode == 0, dump.stdout + dump.stderr
        handle = _handle_of(dump.stdout, r"LPM\s+(0x)?0?a000303/32")
        cp = net.runtime_cli("s1", [f"table_modify MyIngress.ipv4_lpm MyIngress.drop {handle}"])
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert not net.ping("h1", topo.host_ip("h3"))
        assert net.ping("h1", topo.host_ip("h2"))
        pids = [pid for pid, _ in net._reported_processes()]
    failed = [pair for pair, ok in result.items() if not ok]
    assert not failed, f"no answer for {failed}"
    assert len(result) == 6
    # torn down: the Mininet half exited cleanly, nothing it started is left
    assert net.proc.returncode == 0, mb._tail(net.serve_log)
    assert net.live_processes() == []
    assert [p for p in pids if os.path.exists(f"/proc/{p}")] == []
    assert _procs_mentioning(str(tmp_path / "run")) == []
    assert not {f"s{i}-eth{p}" for i in (1, 2, 3) for p in (1, 2, 3)} & _root_links()


@pytest.mark.root
def test_switch_that_cannot_start_is_reported_and_cleaned_up(tmp_path):
    ok, why = mb.mininet_supported()
    if not ok:
        pytest.skip(why)
    program = tmp_path / "broken.json"
    program.write_text("this is not BMv2 JSON")
    net = mb.MininetTopology(_tiny_topology(program), workdir=tmp_path / "run", ready_timeout=30)
    with pytest.raises(mb.MininetBackendError, match=r"switch s\d: p4sw exited with status") as e:
        net.start()
    assert "broken.json" in str(e.value)  # the switch's own message comes along
    assert net.proc.returncode == 1
    # no p4sw of this run is left (their command lines name the run's folder)
    assert _procs_mentioning(str(tmp_path / "run")) == []


# ---------------------------------------------------------------------------
# the LVS demo under Mininet (topologies.lvs_demo --backend mininet)

def test_lvs_demo_rejects_an_unknown_backend():
    from topologies.lvs_demo import LvsDemo
    with pytest.raises(ValueError, match="backend 'docker'"):
        LvsDemo("unused", backend="docker")


def test_topology_names_before_start(tmp_path):
    program = tmp_path / "p.json"
    program.write_text("{}")
    a = mb.MininetTopology(_tiny_topology(program), workdir=tmp_path / "a")
    b = mb.MininetTopology(_tiny_topology(program), workdir=tmp_path / "b")
    assert a.prefix != b.prefix and re.fullmatch(r"p4mn[0-9a-f]{4}", a.prefix)
    assert a.switches == {} and a.attached_netns() == []
    with pytest.raises(mb.MininetBackendError, match="no running node 's1'"):
        a.netns("s1")
    a.stop()  # never started: nothing to do, no error


def _processes_in_netns(inodes: set[str]) -> list[int]:
    """Pids of processes in any of the given network namespaces."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/net") in inodes:
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.root
@pytest.mark.slow
def test_lvs_demo_under_mininet(tmp_path):
    """The demo's graph under Mininet: p4sw runs lvs.p4 in the lb node and
    serves P4Runtime on a unix socket, the daemon (root namespace) programs
    it, curl from the client reaches the real servers through the VIP, and
    nothing of the run is left afterwards."""
    ok, why = mb.mininet_supported()
    if not ok:
        pytest.skip(why)
    from collections import Counter

    from topologies.lvs_demo import LIP, RS_IPS, VIP, LvsDemo
    demo = LvsDemo(tmp_path / "build", weights={"rs1": 1, "rs2": 2, "rs3": 1}, backend="mininet")
    net = demo.net
    assert isinstance(net, mb.MininetTopology)
    with demo:
        workdir = net.workdir
        # p4sw is a Mininet switch node's process, in that node's namespace,
        # not the root one; the daemon is in the root namespace
        lb = net.switches["lb"]
        assert _netns_inode(lb.pid) == _netns_inode(lb.node_pid) != _netns_inode(os.getpid())
        assert _netns_inode(demo.daemon.pid) == _netns_inode(os.getpid())
        assert (workdir / "lb.p4rt.sock").exists()
        # the tools of the netns backend work: named namespaces, ip netns exec
        names = {n: net.netns(n) for n in ("client", "lb", *RS_IPS)}
        assert all(name.startswith(net.prefix + "-") for name in names.values())
        cp = subprocess.run(["ip", "netns", "exec", names["client"], "ip", "-o", "-4", "addr", "show",
                             "dev", "eth0"], check=False, capture_output=True, text=True)
        assert "10.0.1.2/24" in cp.stdout, cp.stdout + cp.stderr
        inodes = {_netns_inode(info["pid"]) for info in net.state["nodes"].values()}
        assert len(inodes) == 5

        answers = [demo.curl() for _ in range(8)]
        assert [ok for ok, _ in answers] == [True] * 8, answers
        by = Counter(body.split()[0] for _, body in answers)
        assert by == {"rs1": 2, "rs2": 4, "rs3": 2}, answers   # weights 1:2:1
        # FULLNAT: every real server saw the local address, not the client
        assert {body.split()[1].rpartition(":")[0] for _, body in answers} == {LIP}
        stats = demo.control(cmd="list")
        assert stats, "the daemon answered nothing"
        # the data plane answers ping to the VIP
        assert net.exec("client", ["ping", "-n", "-c", "1", "-W", "2", VIP]).returncode == 0

        mn_pids = [pid for pid, _ in net._reported_processes()]
        assert len(mn_pids) == 6  # five node shells, one p4sw
        ours = [*demo.procs]
    # nothing left: our processes (by pid: reaped children), Mininet's
    # processes, the namespace names, the namespaces, the interfaces, the folder
    assert [p.pid for p in ours if p.poll() is None] == []
    assert net.proc.returncode == 0, mb._tail(net.serve_log)
    assert net.live_processes() == []
    assert net.attached_netns() == []
    listed = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True).stdout
    assert net.prefix not in listed
    assert _processes_in_netns(inodes) == []
    assert not {f"lb-eth{p}" for p in range(1, 5)} & _root_links()
    assert _procs_mentioning(str(workdir)) == []
    assert not workdir.exists()
