"""The bench's own pieces: the hand-specialised basic.p4 baseline must be
right (else the comparison is meaningless) and stage attribution sane."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_switch", REPO / "bench" / "bench_switch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_switch"] = mod
    spec.loader.exec_module(mod)
    return mod


ROUTES = [(0x0A000101, 32, bytes.fromhex("080000000111"), 1),
          (0x0A000200, 24, bytes.fromhex("080000000222"), 2),
          (0x0A000000, 8, bytes.fromhex("0800000000ff"), 9)]


def test_hand_specialised_basic_forwards_like_basic_p4(bench):
    scapy = pytest.importorskip("scapy.all")
    fast = bench.make_basic_fast(ROUTES)
    pkt = bytes(scapy.Ether(dst="08:00:00:00:01:00", src="08:00:00:00:01:11") /
                scapy.IP(src="10.0.1.1", dst="10.0.2.7", ttl=64) / scapy.ICMP() / b"payload")
    [(port, out)] = fast(1, pkt)
    assert port == 2                                    # /24 beats /8
    e = scapy.Ether(out)
    assert e.dst == "08:00:00:00:02:22" and e.src == "08:00:00:00:01:00"
    assert e[scapy.IP].ttl == 63
    fixed = scapy.Ether(out)
    del fixed[scapy.IP].chksum
    assert e[scapy.IP].chksum == scapy.Ether(bytes(fixed))[scapy.IP].chksum
    assert out.endswith(b"payload")
    assert fast(1, pkt.replace(bytes([10, 0, 2, 7]), bytes([11, 0, 0, 1]))) == []   # miss: drop
    arp = bytes(scapy.Ether() / scapy.ARP())
    assert fast(3, arp) == [(0, arp)]                   # not IPv4: egress_spec stays 0


def test_routes_from_tutorial_runtime(bench):
    from topologies.build import tutorials_dir
    from topologies.tutorials import load_runtime_json
    path = tutorials_dir() / "basic" / "pod-topo" / "s1-runtime.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    routes = bench.routes_from_runtime(load_runtime_json(str(path)))
    assert (0x0A000202, 32, bytes.fromhex("080000000222"), 2) in routes
    out = bench.make_basic_fast(routes)(bench.BASIC_PORT, bench.BASIC_PACKET)
    assert out[0][0] == 2


def test_stage_classification(bench):
    c = bench.classify
    assert c("<p4sw-generated>", "parse_0") == "parser"
    assert c("<p4sw-generated>", "nd_0_4") == "ingress"
    assert c("<p4sw-generated>", "nd_1_2") == "egress"
    assert c("<p4sw-generated>", "deparse") == "deparser"
    assert c("/x/p4switch/tables.py", "lookup") == "table lookups"
    assert c("/x/p4switch/engine.py", "process_packet") == "traffic manager / engine"
