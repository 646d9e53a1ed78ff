"""p4lvs throughput on the netns demo topology, beside stock Linux.

Same topology both times (client, balancer, three real servers, each in its
own network namespace, veth links); the balancer is first p4sw running lvs.p4
with the p4lvs daemon (FULLNAT: sessions created by the controller on
packet-in), then the Linux kernel itself with an nftables DNAT+SNAT balancer
(round robin over the same servers, SNAT to the same local address).

Figures:
* new connections/s: K client threads, each connect + HTTP GET + read + close
  in a loop for T seconds through the VIP (every connection is a new session);
* packets/s: one established UDP flow, the client sends datagrams as fast as
  it can for T seconds, the real servers echo them; packets through the
  balancer = 2 x echoes received.

The real servers and clients are Python, the same in both runs: the Linux
figures are bounded by them, so the ratio understates how much faster the
kernel is. Needs root, iproute2, curl and nft (`apt-get install nftables`).

    python bench/bench_lvs.py [--seconds 5] [--threads 4] [--out build]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.baseline_net import (CONNECT_CLIENT, baseline_topology,  # noqa: E402
                                lb_route_commands, real_servers)

#: per-connection timeout of the new-connections/s client, seconds
CONNECT_TIMEOUT = 3

PPS_CLIENT = r'''
import socket, sys, threading, time
vip, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((vip, 53)); s.settimeout(0.5)
s.send(b"warm-up")
try:
    s.recv(2048)
except socket.timeout:
    pass
got = [0]; stop = [False]
def rx():
    while not stop[0]:
        try:
            s.recv(2048); got[0] += 1
        except socket.timeout:
            pass
t = threading.Thread(target=rx); t.start()
sent = 0; t0 = time.monotonic(); end = t0 + seconds
payload = b"x" * 64
while time.monotonic() < end:
    try:
        s.send(payload); sent += 1
    except OSError:
        pass
    if sent % 64 == 0:
        time.sleep(0.0005)           # let the receiver and the balancer breathe
time.sleep(1.0); stop[0] = True; t.join()
print(got[0], sent, seconds)
'''


@dataclass
class Figures:
    cps: float
    cps_failed: int
    pps: float
    udp_sent: int
    udp_echoed: int


def run_client(netns: str, script: str, *args) -> list[float]:
    cp = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", script, *map(str, args)],
                        capture_output=True, text=True, timeout=300)
    if cp.returncode != 0:
        raise RuntimeError(f"client failed: {cp.stderr.strip()[-500:]}")
    return [float(x) for x in cp.stdout.split()]


def measure(client_ns: str, vip: str, seconds: float, threads: int) -> Figures:
    ok, bad, dt = run_client(client_ns, CONNECT_CLIENT, vip, seconds, threads, CONNECT_TIMEOUT)
    echoed, sent, pdt = run_client(client_ns, PPS_CLIENT, vip, seconds)
    return Figures(ok / dt, int(bad), 2 * echoed / pdt, int(sent), int(echoed))


def bench_p4lvs(out: str, seconds: float, threads: int) -> tuple[Figures, dict]:
    from topologies.lvs_demo import VIP, LvsDemo
    with LvsDemo(out, weights={"rs1": 1, "rs2": 1, "rs3": 1}, tcp_timeout=30) as demo:
        fig = measure(demo.net.netns("client"), VIP, seconds, threads)
        return fig, demo.control(cmd="list")


def bench_p4lvs_cps(out: str, seconds: float, threads: int,
                    tcp_states: bool) -> tuple[float, int, dict]:
    """New connections/s only, with TCP state tracking (digests) on or off:
    the controller's per-connection cost with and without TCP events."""
    from topologies.lvs_demo import VIP, LvsDemo
    extra = () if tcp_states else ("tcp_states = false",)
    with LvsDemo(out, weights={"rs1": 1, "rs2": 1, "rs3": 1}, tcp_timeout=30,
                 extra_global=extra) as demo:
        ok, bad, dt = run_client(demo.net.netns("client"), CONNECT_CLIENT, VIP, seconds, threads,
                                 CONNECT_TIMEOUT)
        return ok / dt, int(bad), demo.control(cmd="list")


def controller_note(listing: dict) -> str:
    ctl = listing.get("controller", {})
    return (f"{ctl.get('new_sessions', 0)} sessions from {ctl.get('punts', 0)} packet-ins in "
            f"{ctl.get('punt_batches', 0)} batches, {ctl.get('mean_batch_ms', 0)} ms per batch, "
            f"{ctl.get('digests', 0)} TCP events, {ctl.get('writes', 0)} Writes")


def nft_ruleset(vip: str, lip: str, servers: list[str], http: int, udp: int) -> str:
    m = ", ".join(f"{i} : {ip}" for i, ip in enumerate(servers))
    n = len(servers)
    return f"""
table ip p4lvs_baseline {{
    chain pre {{
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr {vip} tcp dport 80 dnat to numgen inc mod {n} map {{ {m} }} : {http}
        ip daddr {vip} udp dport 53 dnat to numgen inc mod {n} map {{ {m} }} : {udp}
    }}
    chain post {{
        type nat hook postrouting priority srcnat; policy accept;
        ip daddr {{ {", ".join(servers)} }} snat to {lip}
    }}
}}
"""


def bench_nftables(seconds: float, threads: int) -> Figures:
    """The same topology, the balancer namespace routing and NATing itself."""
    from topologies.lvs_demo import HTTP_PORT, LIP, RS_IPS, UDP_PORT, VIP
    from topologies.runner import NetnsTopology
    with NetnsTopology(baseline_topology()) as net:
        lb = net.netns("lb")
        cmds = [["ip", "addr", "add", "10.0.1.1/24", "dev", "eth0"],
                ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]] + lb_route_commands()
        for c in cmds:
            subprocess.run(["ip", "netns", "exec", lb, *c], check=True)
        rules = nft_ruleset(VIP, LIP, list(RS_IPS.values()), HTTP_PORT, UDP_PORT)
        subprocess.run(["ip", "netns", "exec", lb, "nft", "-f", "-"], input=rules, text=True,
                       check=True)
        with real_servers(net, "nftables baseline"):
            return measure(net.netns("client"), VIP, seconds, threads)

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--out", default=str(REPO / "build"))
    ap.add_argument("--no-extra-rows", action="store_true",
                    help="skip the new-connections/s rows with tcp_states off and with 4x threads")
    args = ap.parse_args(argv)
    from topologies.netns import netns_supported
    ok, why = netns_supported()
    if not ok:
        print(f"bench_lvs: cannot run: {why}", file=sys.stderr)
        return 1
    print(f"bench_lvs: {args.seconds:g} s per figure, {args.threads} client threads")
    p4, listing = bench_p4lvs(args.out, args.seconds, args.threads)
    ctl = listing.get("controller", {})
    print(f"p4lvs (p4sw + lvs.p4 + daemon): {p4.cps:8.1f} new connections/s "
          f"({p4.cps_failed} failed), {p4.pps:8.1f} packets/s "
          f"(UDP: {p4.udp_echoed}/{p4.udp_sent} echoed); controller: "
          f"{ctl.get('new_sessions', 0)} sessions from {ctl.get('punts', 0)} packet-ins in "
          f"{ctl.get('punt_batches', 0)} batches, {ctl.get('mean_batch_ms', 0)} ms per batch")
    if not args.no_extra_rows:
        for label, threads, states in (("tcp_states off", args.threads, False),
                                       (f"{4 * args.threads} client threads", 4 * args.threads,
                                        True)):
            cps, failed, lst = bench_p4lvs_cps(args.out, args.seconds, threads, states)
            print(f"p4lvs, {label + ':':<24} {cps:8.1f} new connections/s ({failed} failed); "
                  f"controller: {controller_note(lst)}")
    if shutil.which("nft") is None:
        print("nftables baseline: skipped (nft not installed: apt-get install nftables)")
        return 0
    lx = bench_nftables(args.seconds, args.threads)
    print(f"nftables DNAT+SNAT (Linux):     {lx.cps:8.1f} new connections/s "
          f"({lx.cps_failed} failed), {lx.pps:8.1f} packets/s "
          f"(UDP: {lx.udp_echoed}/{lx.udp_sent} echoed)")
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.3f}" if b else "n/a (baseline measured 0)"
    print(f"ratio p4lvs / nftables: new connections/s {ratio(p4.cps, lx.cps)}, "
          f"packets/s {ratio(p4.pps, lx.pps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
