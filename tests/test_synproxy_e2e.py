"""SYNPROXY, per-state timeouts and RST on timeout end to end: real Linux
TCP stacks in network namespaces, p4sw running lvs.p4, the p4lvs daemon
(topologies.lvs_demo with the web service in synproxy mode).

Every packet here is addressed within the topology's own subnets: the SYN
flood's spoofed sources are all drawn from the client subnet 10.0.1.0/24
(10.0.1.100-10.0.1.199), sent from the client namespace, for a bounded time."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from topologies.netns import netns_supported

pytestmark = [pytest.mark.root, pytest.mark.slow]

_ok, _why = netns_supported()
if not _ok:
    pytest.skip(f"e2e: {_why}", allow_module_level=True)

from topologies.lvs_demo import (DEAD_PORT, DEAD_RS_PORT, LIP, SYN_FLOOD_SCRIPT, VIP,  # noqa: E402
                                 LvsDemo)

ESTABLISHED_TIMEOUT = 3
#: The flood's rate: p4sw (a software switch) answers about 40-50 k SYN/s on
#: this machine; far above that its input queue drops packets of every
#: sender alike, which no data-plane program can prevent (a hardware target
#: answers at line rate). bench/bench_synproxy.py also floods unbounded.
FLOOD_PPS = 20000

# One request on a keep-alive connection, then idle, then read again.
IDLE_CLIENT = r'''
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
if sys.argv[3] != "-":
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\n" not in buf.split(b"\r\n\r\n", 1)[-1] or b"\r\n\r\n" not in buf:
        buf += s.recv(1000)
    print("ANSWER", buf.split(b"\r\n\r\n", 1)[1].decode().strip(), flush=True)
print("LOCAL", s.getsockname()[1], flush=True)
time.sleep(float(sys.argv[4]))
try:
    data = s.recv(1000)
    print("READ", data)
except ConnectionResetError:
    print("ECONNRESET")
except socket.timeout:
    print("TIMEOUT")
'''

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = LvsDemo(tmp_path_factory.mktemp("build"), weights={"rs1": 1, "rs2": 1, "rs3": 1},
                synproxy=True,
                extra_global=("syn_retries = 1", "syn_retry_interval = 0.5",
                              f"timeouts = {{ established = {ESTABLISHED_TIMEOUT} }}"))
    d.start()
    yield d
    d.close()


def _py(demo, node, script, *args) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", demo.net.netns(node), sys.executable, "-c",
                             script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class Capture:
    """tcpdump in a namespace, -tt timestamps (one host clock for all)."""

    def __init__(self, demo, node, filt):
        self.p = subprocess.Popen(["ip", "netns", "exec", demo.net.netns(node), "tcpdump", "-i",
                                   "eth0", "-n", "-tt", "-l", "-U", filt],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)

    def stop(self) -> list[tuple[float, str]]:
        time.sleep(0.5)
        self.p.terminate()
        out, _ = self.p.communicate(timeout=10)
        return [(float(line.split()[0]), line) for line in out.splitlines() if line[:1].isdigit()]


def _flags(line: str) -> str:
    m = re.search(r"Flags \[([^\]]*)\]", line)
    return m.group(1) if m else ""


def test_curl_through_synproxy_no_rs_syn_before_client_ack(demo):
    cli = Capture(demo, "client", "tcp port 80")
    rss = {rs: Capture(demo, rs, "tcp port 8080") for rs in ("rs1", "rs2", "rs3")}
    ok, body = demo.curl()
    client_pkts = cli.stop()
    rs_pkts = [p for c in rss.values() for p in c.stop()]
    assert ok and body.split()[1].startswith(LIP + ":"), body
    acks = [t for t, line in client_pkts if "> " + VIP + ".80" in line and _flags(line) == "."]
    syns = [t for t, line in rs_pkts if _flags(line) == "S"]
    assert acks and len(syns) == 1, (client_pkts, rs_pkts)
    first_ack = min(acks)
    assert syns[0] > first_ack, f"RS saw the SYN at {syns[0]}, the client's ACK left at {first_ack}"
    st = demo.control(cmd="list")["synproxy"]
    assert st["syn_answered"] >= 1 and st["cookie_valid"] >= 1


def test_many_curls_through_synproxy(demo):
    res = [demo.curl() for _ in range(30)]
    assert all(ok for ok, _ in res), res


def test_syn_flood_from_client_subnet(demo):
    """10 s of SYNs from 100 client-subnet addresses: no SYN reaches a real
    server, no session is created, legitimate curls still succeed."""
    from topologies.lvs_demo import LB_MAC, mac
    before = demo.control(cmd="list")
    rss = {rs: Capture(demo, rs, "tcp[tcpflags] & tcp-syn != 0 and src net 10.0.3.0/24")
           for rs in ("rs1", "rs2", "rs3")}
    flood = _py(demo, "client", SYN_FLOOD_SCRIPT, 10, LB_MAC.format(1), mac("client"), VIP, FLOOD_PPS)
    results: list[bool] = []
    t_end = time.monotonic() + 10

    def legit():
        while time.monotonic() < t_end:
            results.append(demo.curl(timeout=15)[0])
    threads = [threading.Thread(target=legit) for _ in range(4)]
    for t in threads:
        t.start()
    out, err = flood.communicate(timeout=60)
    for t in threads:
        t.join(60)
    sent = int(out.strip() or 0)
    after = demo.control(cmd="list")
    rs_syns = [p for c in rss.values() for p in c.stop()]
    legit_ok = sum(results)
    print(f"flood: {sent} SYNs sent in 10 s; SYN-ACKs answered "
          f"{after['synproxy']['syn_answered'] - before['synproxy']['syn_answered']}; "
          f"legit curls {legit_ok}/{len(results)}; RS saw {len(rs_syns)} SYNs")
    assert sent > 1000, err
    # the real servers saw none of the flood's SYNs (their ISNs are 12345..12364;
    # a real server's SYN carries the client's ISN), only the legitimate ones
    flood_isns = {str(12345 + j) for j in range(20)}
    assert not [line for _, line in rs_syns if re.search(r"seq (\d+)", line).group(1) in flood_isns]
    assert len({line.split()[2] for _, line in rs_syns}) == legit_ok, rs_syns
    new = after["controller"]["synproxy_sessions"] - before["controller"]["synproxy_sessions"]
    assert new == legit_ok        # no state for the flood: sessions only for real clients
    assert after["sessions"] <= before["sessions"] + len(results)
    # what the switch holds: two entries per session, none for the flood
    assert after["session_entries"] == 2 * after["sessions"]
    assert results and legit_ok >= 0.99 * len(results), results
    sessions = demo.control(cmd="sessions")["sessions"]
    assert all(s["client"].startswith("10.0.1.2:") for s in sessions), sessions


def test_idle_established_connection_is_reset_on_both_sides(demo):
    p = _py(demo, "client", IDLE_CLIENT, VIP, 80, "get", ESTABLISHED_TIMEOUT + 4)
    answer = p.stdout.readline().split()
    assert answer[0] == "ANSWER", p.stderr.read()
    server = answer[1]
    lport = answer[2].split(":")[1]
    time.sleep(1)
    rs_ss = demo.net.exec(server, ["ss", "-tn", "state", "established"]).stdout
    assert f"{LIP}:{lport}" in rs_ss
    out, err = p.communicate(timeout=60)
    assert "ECONNRESET" in out, (out, err)
    rs_ss = demo.net.exec(server, ["ss", "-tna"]).stdout
    assert f"{LIP}:{lport}" not in rs_ss, rs_ss
    ctl = demo.control(cmd="list")["controller"]
    assert ctl["rst_established"] >= 1


def test_half_open_session_resets_the_client(demo):
    """The real server never answers (its SYNs dropped by nftables in rs1):
    the client, which the SYN-ACK cookie made think it is connected, gets a RST."""
    rules = ("add table inet sp_test\n"
             "add chain inet sp_test input { type filter hook input priority 0; }\n"
             f"add rule inet sp_test input tcp dport {DEAD_RS_PORT} drop\n")
    cp = subprocess.run(["ip", "netns", "exec", demo.net.netns("rs1"), "nft", "-f", "-"],
                        input=rules, text=True, capture_output=True)
    assert cp.returncode == 0, cp.stderr
    before = demo.control(cmd="list")["controller"]
    p = _py(demo, "client", IDLE_CLIENT.replace('s.sendall(b"GET', 's.sendall(b"HEAD'), VIP,
            DEAD_PORT, "-", 8)
    out, err = p.communicate(timeout=60)
    assert "ECONNRESET" in out, (out, err)
    after = demo.control(cmd="list")["controller"]
    assert after["synproxy_half_open_reset"] == before["synproxy_half_open_reset"] + 1
    assert after["synproxy_syn_retries"] >= before["synproxy_syn_retries"] + 1


def test_closed_connection_goes_to_time_wait_and_expires(demo):
    """FIN digests drive the state machine: a finished curl's session is in
    TIME_WAIT (7 s), then freed without any RST."""
    before = demo.control(cmd="list")["controller"]
    ok, body = demo.curl()
    assert ok
    lport = int(body.split()[1].split(":")[1])
    local = f"{LIP}:{lport}"

    def state():
        return next((s["state"] for s in demo.control(cmd="sessions")["sessions"]
                     if s["local"] == local), None)
    end = time.monotonic() + 5
    while state() != "TIME_WAIT" and time.monotonic() < end:
        time.sleep(0.2)
    assert state() == "TIME_WAIT"
    end = time.monotonic() + 15
    while state() is not None and time.monotonic() < end:
        time.sleep(0.5)
    assert state() is None
    after = demo.control(cmd="list")["controller"]
    assert after["rst_established"] == before["rst_established"]
