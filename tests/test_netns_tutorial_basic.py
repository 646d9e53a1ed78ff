"""The tutorials' basic exercise on p4sw in network namespaces: compiled by
p4pc, triangle topology, every host pings every other (root only).

P4LVS_BASIC_JSON=path uses an already-built basic.json (e.g. p4c's) instead."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from topologies.build import basic_p4, compile_p4, tutorials_dir
from topologies.netns import netns_supported, run

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.fixture(scope="module")
def basic_json(tmp_path_factory):
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    if os.environ.get("P4LVS_BASIC_JSON"):
        return Path(os.environ["P4LVS_BASIC_JSON"])
    src = basic_p4()
    if not src.exists():
        pytest.skip(f"{src} not found (set P4LVS_SHARED)")
    # p4pc compiles basic.p4: a compile failure is a failure of this test, not a skip
    program, _ = compile_p4(src, tmp_path_factory.mktemp("build"), "basic")
    return program


def test_basic_triangle_all_pairs_ping(basic_json):
    from topologies.runner import NetnsTopology
    from topologies.tutorials import load_topology_json
    topo = load_topology_json(str(tutorials_dir() / "basic" / "triangle-topo" / "topology.json"),
                              program=str(basic_json))
    with NetnsTopology(topo) as net:
        prefix = net.prefix
        result = net.ping_all()
        # TTL went down by one per switch: h1 -> h2 crosses s1 and s2
        cp = net.exec("h1", ["ping", "-n", "-c", "1", "-W", "2", topo.host_ip("h2")])
        assert "ttl=62" in cp.stdout, cp.stdout
    failed = [pair for pair, ok in result.items() if not ok]
    assert not failed, f"no answer for {failed}"
    assert len(result) == 6
    leftovers = [n for n in run(["ip", "netns", "list"]).stdout.split() if n.startswith(prefix)]
    assert leftovers == []
