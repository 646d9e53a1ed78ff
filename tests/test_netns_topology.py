"""The namespace runner without the compiler: two hosts and one p4sw running
p4c's JSON of BMv2's `ternary` test program, whose table sends a frame by the
first 16 bits of its destination MAC; entries come from a runtime JSON with
ternary matches and priorities (root only)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from topologies.graph import Topology, TopologyError
from topologies.netns import netns_supported, run
from topologies.runner import translate_host_command
from topologies.tutorials import RuntimeJsonError, runtime_to_commands

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("P4LVS_SHARED", REPO.parent / "shared"))
TERNARY = SHARED / "conformance" / "bmv2-testdata" / "simple_switch_grpc" / "ternary.json"

RUNTIME = {
    "table_entries": [
        {"table": "ingress.ter", "match": {"h.hdr.f1": ["0x0202", "0xffff"]},
         "action_name": "ingress.send_2", "action_params": {}, "priority": 10},
        {"table": "ingress.ter", "match": {"h.hdr.f1": [0x0201, 0xffff]},
         "action_name": "ingress.send_1", "action_params": {}, "priority": 10},
        # lower priority, never wins against the entries above
        {"table": "ingress.ter", "match": {"h.hdr.f1": [0, 0]},
         "action_name": "NoAction", "action_params": {}, "priority": 1},
    ],
}


def test_runtime_json_to_commands():
    if not TERNARY.exists():
        pytest.skip(f"{TERNARY} not found")
    cmds = runtime_to_commands(RUNTIME, str(TERNARY))
    assert cmds[0] == "table_add ingress.ter ingress.send_2 0x202&&&0xffff => 16777205"
    assert cmds[2].endswith(" 16777214")  # priority 1 -> larger BMv2 number (loses)
    with pytest.raises(RuntimeJsonError, match="priority"):
        runtime_to_commands({"table_entries": [{"table": "ingress.ter", "match": {},
                                                "action_name": "NoAction"}]}, str(TERNARY))
    with pytest.raises(RuntimeJsonError, match="no table"):
        runtime_to_commands({"table_entries": [{"table": "nope", "action_name": "NoAction"}]},
                            str(TERNARY))
    with pytest.raises(RuntimeJsonError, match="does not fit"):
        runtime_to_commands({"table_entries": [{"table": "ingress.ter", "priority": 1,
                                                "match": {"h.hdr.f1": [0x10000, 0xffff]},
                                                "action_name": "NoAction"}]}, str(TERNARY))


def test_multicast_and_clone_commands():
    bm = {"actions": [], "pipelines": []}
    rt = {"multicast_group_entries": [{"multicast_group_id": 1, "replicas": [
              {"egress_port": 1, "instance": 1}, {"egress_port": 2, "instance": 1},
              {"egress_port": 3, "instance": 2}]}],
          "clone_session_entries": [{"clone_session_id": 5, "replicas": [{"egress_port": 4, "instance": 0}]}]}
    assert runtime_to_commands(rt, bm) == [
        "mc_mgrp_create 1", "mc_node_create 1 1 2", "mc_node_associate 1 0",
        "mc_node_create 2 3", "mc_node_associate 1 1", "mirroring_add 5 4"]


def test_host_commands_use_iproute2():
    assert translate_host_command("route add default gw 10.0.1.10 dev eth0") == \
        ["ip", "route", "replace", "default", "via", "10.0.1.10", "dev", "eth0"]
    assert translate_host_command("arp -i eth0 -s 10.0.1.10 08:00:00:00:01:00") == \
        ["ip", "neigh", "replace", "10.0.1.10", "lladdr", "08:00:00:00:01:00", "nud", "permanent",
         "dev", "eth0"]


def test_topology_checks():
    t = Topology()
    t.add_host("h1")
    t.add_switch("s1")
    t.add_link("h1", "s1", port_b=3)
    with pytest.raises(TopologyError):
        t.add_host("h1")
    with pytest.raises(TopologyError):
        t.add_link("h1", "s9")
    t.add_host("h2")
    with pytest.raises(TopologyError, match="used twice"):
        t.add_link("h2", "s1", port_b=3)
    t.add_link("h2", "s1")
    assert t.ports("s1") == {3: "h1", 1: "h2"}


@pytest.mark.root
@pytest.mark.slow
def test_two_hosts_ping_through_p4sw(tmp_path):
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    pytest.importorskip("p4switch.switch", reason="switch engine not written yet")
    pytest.importorskip("p4switch.runtime_api", reason="runtime API not written yet")
    if not TERNARY.exists():
        pytest.skip(f"{TERNARY} not found")
    from topologies.runner import NetnsTopology
    t = Topology()
    t.add_host("h1", ip="10.9.0.1/24", mac="02:01:00:00:00:01",
               commands=["arp -i eth0 -s 10.9.0.2 02:02:00:00:00:02"])
    t.add_host("h2", ip="10.9.0.2/24", mac="02:02:00:00:00:02",
               commands=["arp -i eth0 -s 10.9.0.1 02:01:00:00:00:01"])
    t.add_switch("s1", program=str(TERNARY), runtime=RUNTIME)
    t.add_link("h1", "s1", port_b=1)
    t.add_link("h2", "s1", port_b=2)
    with NetnsTopology(t, workdir=tmp_path) as net:
        prefix = net.prefix
        pid = net.switches["s1"].pid
        assert net.ping("h1", "10.9.0.2", count=3, wait=2)
        assert net.ping("h2", "10.9.0.1")
        # entries can be changed while it runs: drop h2's frames, ping fails
        cp = net.runtime_cli("s1", ["table_delete ingress.ter 1"])
        assert cp.returncode == 0, cp.stderr
        assert not net.ping("h2", "10.9.0.1", wait=1)
    # stopped by pid, everything removed
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not [n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(prefix)]
    assert not [l for l in run(["ip", "-o", "link"]).stdout.splitlines() if prefix in l]
    assert "signal" not in (tmp_path / "s1.out").read_text().lower()


def test_cleanup_after_failed_start(tmp_path):
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    from topologies.runner import NetnsTopology
    t = Topology()
    t.add_host("h1", ip="10.9.0.1/24", commands=["false"])  # fails while configuring
    t.add_switch("s1", program=str(TERNARY) if TERNARY.exists() else __file__)
    t.add_link("h1", "s1")
    net = NetnsTopology(t, workdir=tmp_path)
    with pytest.raises(Exception):
        net.start()
    assert not [n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(net.prefix)]
