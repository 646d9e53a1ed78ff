"""SYNPROXY under a SYN flood on the netns demo topology, beside stock Linux.

Same topology both times (client, balancer, three real servers, each in its
own network namespace, veth links). The balancer is first p4sw running
lvs.p4 with the p4lvs daemon (the web service in synproxy mode: SYN cookies
answered by the data plane), then the Linux kernel itself: nftables
synproxy (SYNs untracked in raw prerouting, `synproxy` on untracked/invalid
packets to the VIP in input) in front of DNAT+SNAT to the same servers and
local address.

Figures, per balancer:
* SYN-ACKs/s: an unbounded flood of SYNs from 100 client-subnet addresses
  (10.0.1.100-199, never anything else) for T s; SYN-ACKs/s = frames the
  client namespace received during it / T (nothing else is running);
* legitimate connections under flood: K client threads connect + GET + close
  in a loop (5 s timeout each) while the flood runs at R SYN/s, then while
  it runs unbounded; success ratio and connections/s.

Clients, flooder and real servers are Python, the same in both runs. Needs
root, iproute2 and nft.

    python bench/bench_synproxy.py [--seconds 5] [--rate 20000] [--threads 4]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.baseline_net import (CONNECT_CLIENT, baseline_topology,  # noqa: E402
                                lb_route_commands, real_servers)

#: per-connection timeout of the legitimate clients, seconds
CONNECT_TIMEOUT = 5

@dataclass
class Figures:
    synacks_per_s: float
    flood_sent_per_s: float
    legit: dict            # rate label -> (ok, failed, connections/s)


def _ns(netns: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True,
                          **kw)


def rx_packets(netns: str) -> int:
    return int(_ns(netns, "cat", "/sys/class/net/eth0/statistics/rx_packets").stdout)


def flood(netns: str, seconds: float, pps: float) -> subprocess.Popen:
    from topologies.lvs_demo import LB_MAC, SYN_FLOOD_SCRIPT, VIP, mac
    return subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", SYN_FLOOD_SCRIPT,
                             str(seconds), LB_MAC.format(1), mac("client"), VIP, str(pps)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def measure(client_ns: str, seconds: float, rate: float, threads: int) -> Figures:
    from topologies.lvs_demo import VIP
    rx0 = rx_packets(client_ns)
    f = flood(client_ns, seconds, 0)
    out, err = f.communicate(timeout=seconds + 60)
    time.sleep(0.5)
    synacks = (rx_packets(client_ns) - rx0) / seconds
    sent = int(out.strip() or 0) / seconds
    legit = {}
    for label, pps in ((f"{rate:.0f} SYN/s", rate), ("unbounded", 0)):
        f = flood(client_ns, seconds + 1, pps)
        time.sleep(0.5)
        cp = _ns(client_ns, sys.executable, "-c", CONNECT_CLIENT, VIP, str(seconds), str(threads),
                 str(CONNECT_TIMEOUT), timeout=seconds + 120)
        f.communicate(timeout=seconds + 60)
        ok, bad, dt = (float(x) for x in cp.stdout.split()) if cp.returncode == 0 else (0, 0, 1)
        legit[label] = (int(ok), int(bad), ok / dt)
        time.sleep(1.0)
    return Figures(synacks, sent, legit)


def bench_p4lvs(out: str, seconds: float, rate: float, threads: int) -> tuple[Figures, dict]:
    from topologies.lvs_demo import LvsDemo
    with LvsDemo(out, weights={"rs1": 1, "rs2": 1, "rs3": 1}, synproxy=True) as demo:
        before = demo.control(cmd="list")
        fig = measure(demo.net.netns("client"), seconds, rate, threads)
        after = demo.control(cmd="list")
        stats = {k: after["synproxy"][k] - before["synproxy"][k] for k in after["synproxy"]}
        stats["sessions_left"] = after["sessions"]
        stats["synproxy_sessions"] = after["controller"]["synproxy_sessions"]
        return fig, stats


def nft_synproxy_ruleset(vip: str, lip: str, servers: list[str], http: int) -> str:
    m = ", ".join(f"{i} : {ip}" for i, ip in enumerate(servers))
    dnat = f"ip daddr {vip} tcp dport 80 dnat to numgen inc mod {len(servers)} map {{ {m} }} : {http}"
    return f"""
table ip p4lvs_synproxy_baseline {{
    chain raw {{
        type filter hook prerouting priority raw; policy accept;
        iifname "eth0" ip daddr {vip} tcp dport 80 tcp flags & (syn|ack) == syn counter notrack
    }}
    chain inp {{
        type filter hook input priority filter; policy accept;
        ip daddr {vip} tcp dport 80 ct state invalid,untracked counter synproxy mss 1460 sack-perm
        ip daddr {vip} tcp dport 80 ct state invalid,untracked counter drop
    }}
    chain pre {{
        type nat hook prerouting priority dstnat; policy accept;
        {dnat}
    }}
    chain out {{
        type nat hook output priority -100; policy accept;
        {dnat}
    }}
    chain post {{
        type nat hook postrouting priority srcnat; policy accept;
        ip daddr {{ {", ".join(servers)} }} snat to {lip}
    }}
}}
"""


def bench_nftables(seconds: float, rate: float, threads: int) -> tuple[Figures, str]:
    from topologies.lvs_demo import HTTP_PORT, LIP, RS_IPS, VIP, mac
    from topologies.runner import NetnsTopology
    with NetnsTopology(baseline_topology()) as net:
        lb = net.netns("lb")
        # the flood is addressed to the p4 balancer's MAC: the Linux balancer takes it too
        from topologies.lvs_demo import LB_MAC
        cmds = [["ip", "link", "set", "eth0", "address", LB_MAC.format(1)],
                ["ip", "addr", "add", "10.0.1.1/24", "dev", "eth0"],
                ["ip", "addr", "add", f"{VIP}/32", "dev", "lo"],
                ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
                ["sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_loose=0"]]
        cmds += lb_route_commands()
        for c in cmds:
            subprocess.run(["ip", "netns", "exec", lb, *c], check=True)
        # the flood's source addresses are not configured on the client (its
        # kernel drops their SYN-ACKs silently); the p4 balancer's route
        # carries the client's MAC, so give Linux the same static neighbours
        batch = "".join(f"neigh replace 10.0.1.{i} lladdr {mac('client')} dev eth0 nud permanent\n"
                        for i in range(100, 200))
        subprocess.run(["ip", "netns", "exec", lb, "ip", "-batch", "-"], input=batch, text=True,
                       check=True)
        rules = nft_synproxy_ruleset(VIP, LIP, list(RS_IPS.values()), HTTP_PORT)
        subprocess.run(["ip", "netns", "exec", lb, "nft", "-f", "-"], input=rules, text=True,
                       check=True)
        # the client learns the balancer's (new) MAC afresh
        net.exec("client", ["ip", "neigh", "flush", "all"])
        with real_servers(net, "nftables synproxy baseline"):
            fig = measure(net.netns("client"), seconds, rate, threads)
            counters = _ns(lb, "nft", "list", "chain", "ip", "p4lvs_synproxy_baseline", "inp").stdout
            return fig, " / ".join(line.strip() for line in counters.splitlines() if "counter" in line)

def show(name: str, f: Figures) -> None:
    print(f"{name}: {f.synacks_per_s:9.0f} SYN-ACKs/s (flood offered {f.flood_sent_per_s:.0f} SYN/s)")
    for label, (ok, bad, cps) in f.legit.items():
        total = ok + bad
        pct = 100.0 * ok / total if total else 0.0
        print(f"    legitimate connections under a {label} flood: {ok}/{total} "
              f"({pct:.1f} %), {cps:.1f}/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=20000, help="bounded flood rate, SYN/s")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--out", default=str(REPO / "build"))
    args = ap.parse_args(argv)
    from topologies.netns import netns_supported
    ok, why = netns_supported()
    if not ok:
        print(f"bench_synproxy: cannot run: {why}", file=sys.stderr)
        return 1
    print(f"bench_synproxy: {args.seconds:g} s per figure, {args.threads} legitimate client "
          f"threads, bounded flood {args.rate:.0f} SYN/s; flood sources 10.0.1.100-199")
    p4, stats = bench_p4lvs(args.out, args.seconds, args.rate, args.threads)
    show("p4lvs synproxy (p4sw + lvs.p4)", p4)
    print(f"    data plane: {stats}")
    if shutil.which("nft") is None:
        print("nftables baseline: skipped (nft not installed)")
        return 0
    lx, counters = bench_nftables(args.seconds, args.rate, args.threads)
    show("nftables synproxy + DNAT/SNAT (Linux)", lx)
    print(f"    nft counters: {counters}")
    if lx.synacks_per_s:
        print(f"ratio p4lvs / Linux: SYN-ACKs/s {p4.synacks_per_s / lx.synacks_per_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
