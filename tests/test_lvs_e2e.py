"""p4lvs end to end: real Linux TCP/UDP stacks in network namespaces, p4sw
running lvs.p4 (compiled by p4pc) on the balancer's veths, the p4lvs daemon
driving it over P4Runtime, real servers answering with their name and the
peer address they saw (topologies.lvs_demo)."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from topologies.netns import netns_supported

pytestmark = [pytest.mark.root, pytest.mark.slow]

_ok, _why = netns_supported()
if not _ok:
    pytest.skip(f"e2e: {_why}", allow_module_level=True)

from topologies.lvs_demo import LIP, RS_IPS, VIP, LvsDemo  # noqa: E402

# A keep-alive HTTP client: one TCP connection, N requests, one line per answer.
LONG_CLIENT = r'''
import socket, sys, time
n, gap = int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((sys.argv[1], 80), timeout=5)
f = s.makefile("rb")
for i in range(n):
    s.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
    assert f.readline().startswith(b"HTTP/1.1 200"), "bad status"
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    print(f.read(length).decode().strip(), flush=True)
    time.sleep(gap)
'''

UDP_CLIENT = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for i in range(int(sys.argv[2])):
    for attempt in range(3):
        s.sendto(b"hello", (sys.argv[1], 53))
        try:
            print(s.recvfrom(2048)[0].decode(), flush=True)
            break
        except socket.timeout:
            pass
'''


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = LvsDemo(tmp_path_factory.mktemp("build"), weights={"rs1": 1, "rs2": 2, "rs3": 1})
    d.start()
    yield d
    d.close()


def _py(demo, script, *args) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", demo.net.netns("client"), sys.executable, "-c",
                             script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _servers(demo, n):
    answers = [demo.curl() for _ in range(n)]
    failed = [a for a in answers if not a[0]]
    return Counter(body.split()[0] for ok, body in answers if ok), failed, answers


def test_200_curls_all_succeed_spread_by_weight(demo):
    by, failed, answers = _servers(demo, 200)
    assert failed == []
    assert sum(by.values()) == 200
    # weights 1:2:1, smooth weighted round robin per new connection
    assert by == {"rs1": 50, "rs2": 100, "rs3": 50}, by
    # every real server saw the local address, never the client
    assert all(body.split()[1].startswith(LIP + ":") for _, body in answers)


def test_udp_service(demo):
    p = _py(demo, UDP_CLIENT, VIP, 8)
    out, err = p.communicate(timeout=60)
    lines = out.split("\n")[:-1]
    assert p.returncode == 0 and len(lines) == 8, err
    assert all(line.split()[1].startswith(LIP + ":") and line.endswith("hello") for line in lines)
    assert {line.split()[0] for line in lines} <= set(RS_IPS)


def test_icmp_echo_to_vip(demo):
    assert demo.net.ping("client", VIP, count=2)


def test_long_lived_connection_survives_adding_a_server(demo):
    assert "ok" in demo.control(cmd="del-server", service="web", ip=RS_IPS["rs3"], port=8080)
    p = _py(demo, LONG_CLIENT, VIP, 16, 0.25)
    first = p.stdout.readline().split()[0]
    assert "ok" in demo.control(cmd="add-server", service="web", ip=RS_IPS["rs3"], port=8080, weight=1)
    out, err = p.communicate(timeout=60)
    answers = [first] + [line.split()[0] for line in out.splitlines()]
    assert p.returncode == 0, err
    assert answers == [first] * 16                      # same connection, same server, all answered
    by, failed, _ = _servers(demo, 8)
    assert failed == [] and by["rs3"] >= 1              # the new server takes new connections


def test_weight_zero_drains(demo):
    p = _py(demo, LONG_CLIENT, VIP, 12, 0.25)
    victim = p.stdout.readline().split()[0]
    assert "ok" in demo.control(cmd="set-weight", service="web", ip=RS_IPS[victim], port=8080, weight=0)
    by, failed, _ = _servers(demo, 20)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [victim] * 11   # the open one finishes
    assert failed == [] and by[victim] == 0, by                               # no new ones
    listing = demo.control(cmd="list")
    web = next(s for s in listing["services"] if s["name"] == "web")
    assert next(rs for rs in web["servers"] if rs["ip"] == RS_IPS[victim])["weight"] == 0
    assert "ok" in demo.control(cmd="set-weight", service="web", ip=RS_IPS[victim], port=8080, weight=1)


def test_daemon_restart_keeps_open_connections(demo):
    p = _py(demo, LONG_CLIENT, VIP, 12, 0.25)
    first = p.stdout.readline().split()[0]
    before = demo.control(cmd="list")["sessions"]
    demo.restart_daemon()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [first] * 11
    after = demo.control(cmd="list")
    assert after["sessions"] >= 1 and after["sessions"] <= before
    by, failed, _ = _servers(demo, 8)
    assert failed == [] and sum(by.values()) == 8
