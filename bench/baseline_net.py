"""Pieces both netns benchmarks (bench_lvs, bench_synproxy) share.

The two benchmarks measure p4lvs beside a stock-Linux balancer on the same
topology with the same Python clients and real servers; keeping the client
script, the topology and the real-server start-up here means the two
baselines cannot drift apart.
"""
from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator

#: K threads each connect + HTTP GET + read + close in a loop for T seconds;
#: prints "ok failed elapsed". argv: vip seconds threads connect-timeout.
CONNECT_CLIENT = r'''
import socket, sys, threading, time
vip, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
timeout = float(sys.argv[4])
ok = [0] * threads; bad = [0] * threads
end = time.monotonic() + seconds
def worker(i):
    while time.monotonic() < end:
        try:
            s = socket.create_connection((vip, 80), timeout=timeout)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while (chunk := s.recv(4096)):
                data += chunk
            s.close()
            if data[:16].split(b" ")[1:2] == [b"200"]:
                ok[i] += 1
            else:
                bad[i] += 1
        except OSError:
            bad[i] += 1
ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
t0 = time.monotonic()
[t.start() for t in ts]; [t.join() for t in ts]
print(sum(ok), sum(bad), time.monotonic() - t0)
'''


def baseline_topology():
    """The demo topology with a plain "lb" namespace in the balancer's place
    (client on lb port 0, real server i on lb port i)."""
    from topologies.graph import Topology
    from topologies.lvs_demo import CLIENT_IP, RS_IPS, mac
    t = Topology()
    t.add_host("lb")
    t.add_host("client", ip=f"{CLIENT_IP}/24", mac=mac("client"),
               commands=["ip route replace default via 10.0.1.1"])
    t.add_link("client", "lb", port_a=0, port_b=0)
    for i, (rs, ip) in enumerate(RS_IPS.items(), start=1):
        t.add_host(rs, ip=f"{ip}/24", mac=mac(rs), commands=["ip route replace default via 10.0.2.1"])
        t.add_link(rs, "lb", port_a=0, port_b=i)
    return t


def lb_route_commands() -> list[list[str]]:
    """The Linux balancer's routes towards each real server (one /32 a port)."""
    from topologies.lvs_demo import RS_IPS
    cmds: list[list[str]] = []
    for i, ip in enumerate(RS_IPS.values(), start=1):
        cmds += [["ip", "addr", "add", "10.0.2.1/32", "dev", f"eth{i}"],
                 ["ip", "route", "add", f"{ip}/32", "dev", f"eth{i}"]]
    return cmds


@contextmanager
def real_servers(net, what: str) -> Iterator[None]:
    """Start the demo's real servers and wait until the VIP answers through
    the Linux balancer (RuntimeError naming `what` after 20 s); stop them on exit."""
    from topologies.lvs_demo import HTTP_PORT, RS_IPS, SERVER_SCRIPT, UDP_PORT, VIP
    from topologies.runner import _die_with_parent
    script = net.workdir / "server.py"
    script.write_text(SERVER_SCRIPT)
    procs = []
    try:
        for rs in RS_IPS:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.netns(rs), sys.executable, str(script), rs,
                 str(HTTP_PORT), str(UDP_PORT)], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent))
        end = time.monotonic() + 20
        while net.exec("client", ["curl", "-s", "-m", "1", f"http://{VIP}/"]).returncode:
            if time.monotonic() > end:
                raise RuntimeError(f"{what}: no answer through the VIP")
            time.sleep(0.2)
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(5)
