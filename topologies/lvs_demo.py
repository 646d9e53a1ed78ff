"""The p4lvs demo: a FULLNAT load balancer on p4sw in network namespaces.

    python -m topologies.lvs_demo [--requests 12] [--out build] [--synproxy]
                                  [--backend netns|mininet]

Topology (one namespace per node, veth links; topologies.runner does it):

    client 10.0.1.2 --port 1-- [lb: p4sw running lvs.p4 + the p4lvs daemon] --port 2-- rs1 10.0.2.11
                                                                             --port 3-- rs2 10.0.2.12
                                                                             --port 4-- rs3 10.0.2.13
    VIP 10.0.0.100 (TCP 80 -> :8080 on the real servers, UDP 53 -> :5353)
    local address (LIP) 10.0.3.100: what the real servers see as the client

Each real server runs a tiny HTTP (and UDP) server answering with its name
and the peer address it saw. The demo sends curl requests to the VIP, shows
who answered and from which local address, prints the daemon's counters
and removes everything. `LvsDemo` is also the fixture of the e2e tests and
the benchmark.

``--backend mininet`` brings the same graph up under Mininet instead
(topologies.mininet_backend, needs the Debian mininet package): p4sw runs in
the lb node's namespace and serves P4Runtime on a unix socket in the run's
folder, the daemon runs in the root namespace and connects to it there; the
hosts, servers and requests are the same.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from topologies.graph import Topology
from topologies.netns import netns_supported

REPO = Path(__file__).resolve().parents[1]
VIP, LIP = "10.0.0.100", "10.0.3.100"
CLIENT_IP = "10.0.1.2"
LB_MAC = "02:00:00:00:0a:{:02x}"          # port n of the balancer
RS_IPS = {"rs1": "10.0.2.11", "rs2": "10.0.2.12", "rs3": "10.0.2.13"}
RS_PORTS = {"rs1": 2, "rs2": 3, "rs3": 4}
HTTP_PORT, UDP_PORT = 8080, 5353
GRPC_ADDR = "127.0.0.1:9559"
BACKENDS = ("netns", "mininet")
#: under Mininet p4sw's P4Runtime socket, in the run's folder; the daemon runs
#: there (cwd) and names it relatively, because its --switch ADDR[/DEVICE_ID]
#: argument cannot carry a "/" in the address
P4RT_SOCKET = "lb.p4rt.sock"

SERVER_SCRIPT = r'''
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
name, http_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"           # keep-alive: long-lived connections
    def do_GET(self):
        body = f"{name} {self.client_address[0]}:{self.client_address[1]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", udp_port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"{name} {peer[0]}:{peer[1]} ".encode() + data, peer)

threading.Thread(target=udp, daemon=True).start()
ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("0.0.0.0", http_port), H).serve_forever()
'''


UDP_QUERY = r'''
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(3):
    s.sendto(b"query", (sys.argv[1], 53))
    try:
        print(s.recvfrom(2048)[0].decode(), flush=True)
    except socket.timeout:
        print("- (no answer)")
'''


# A SYN flood from the client namespace (tests and bench): raw frames on
# eth0, source addresses cycling through 10.0.1.100-10.0.1.199 (the client
# subnet of this topology, never anything else), 20 source ports each,
# fixed ISNs 12345..12364, for argv[1] seconds at argv[5] packets/s (0: as
# fast as the socket takes them). argv: seconds, dst MAC, src MAC, VIP, pps.
# Prints the number of frames sent.
SYN_FLOOD_SCRIPT = r'''
import socket, struct, sys, time
dur = float(sys.argv[1]); pps = float(sys.argv[5])
dst_mac = bytes.fromhex(sys.argv[2].replace(":", ""))
src_mac = bytes.fromhex(sys.argv[3].replace(":", ""))
vip = socket.inet_aton(sys.argv[4])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
frames = []
for i in range(100):
    src = socket.inet_aton("10.0.1.%d" % (100 + i))
    for j in range(20):
        sport = 20000 + i * 20 + j
        tcp = struct.pack("!HHIIBBHHH", sport, 80, 12345 + j, 0, 0x50, 0x02, 1024, 0, 0)
        tcp = tcp[:16] + struct.pack("!H", csum(src + vip + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, vip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frames.append(dst_mac + src_mac + b"\x08\x00" + ip + tcp)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.setblocking(False)
n = 0
t0 = time.monotonic()
end = t0 + dur
while time.monotonic() < end:
    if pps and n > (time.monotonic() - t0) * pps:
        time.sleep(0.001)
        continue
    k = n % len(frames)
    for f in frames[k:k + 50]:
        try:
            s.send(f); n += 1
        except BlockingIOError:
            time.sleep(0.0005)
print(n)
'''


def mac(node: str) -> str:
    return {"client": "02:00:00:00:01:02", "rs1": "02:00:00:00:02:11", "rs2": "02:00:00:00:02:12",
            "rs3": "02:00:00:00:02:13"}[node]


def build_topology(program: str) -> Topology:
    t = Topology()
    t.add_switch("lb", program=program)
    t.add_host("client", ip=f"{CLIENT_IP}/24", mac=mac("client"),
               commands=["ip route replace default via 10.0.1.1"])
    t.add_link("client", "lb", port_a=0, port_b=1)
    for rs, ip in RS_IPS.items():
        t.add_host(rs, ip=f"{ip}/24", mac=mac(rs), commands=["ip route replace default via 10.0.2.1"])
        t.add_link(rs, "lb", port_a=0, port_b=RS_PORTS[rs])
    return t


#: a SYNPROXY service whose real server never answers (its SYNs are dropped
#: in rs1 by an nftables rule the tests add): the half-open case
DEAD_PORT, DEAD_RS_PORT = 81, 9999


def config_text(weights: dict[str, int], tcp_timeout: int = 90, with_rs3: bool = True,
                synproxy: bool = False, extra_global: tuple[str, ...] = ()) -> str:
    lines = ["[global]", "fullnat = true", "icmp_echo = true", f"tcp_timeout = {tcp_timeout}",
             "udp_timeout = 30", "workers = 2", *extra_global, "",
             "[[interface]]", "port = 1", f'mac = "{LB_MAC.format(1)}"', 'ip = "10.0.1.1"', ""]
    for rs, port in RS_PORTS.items():
        lines += ["[[interface]]", f"port = {port}", f'mac = "{LB_MAC.format(port)}"',
                  'ip = "10.0.2.1"', ""]
    lines += ["[[route]]", 'prefix = "10.0.1.0/24"', "port = 1", f'next_hop_mac = "{mac("client")}"', ""]
    for rs, port in RS_PORTS.items():
        lines += ["[[route]]", f'prefix = "{RS_IPS[rs]}/32"', f"port = {port}",
                  f'next_hop_mac = "{mac(rs)}"', ""]
    lines += ["[local]", f'addresses = ["{LIP}"]', "port_range = [5000, 65535]", ""]
    for name, port, proto, rport in (("web", 80, "tcp", HTTP_PORT), ("dns", 53, "udp", UDP_PORT)):
        lines += ["[[service]]", f'name = "{name}"', f'vip = "{VIP}"', f"port = {port}",
                  f'protocol = "{proto}"', 'scheduler = "wrr"',
                  *(["synproxy = true"] if synproxy and proto == "tcp" else []), ""]
        for rs, w in weights.items():
            if rs == "rs3" and not with_rs3:
                continue
            lines += ["[[service.server]]", f'ip = "{RS_IPS[rs]}"', f"port = {rport}", f"weight = {w}", ""]
    if synproxy:
        lines += ["[[service]]", 'name = "dead"', f'vip = "{VIP}"', f"port = {DEAD_PORT}",
                  'protocol = "tcp"', "synproxy = true", "",
                  "[[service.server]]", f'ip = "{RS_IPS["rs1"]}"', f"port = {DEAD_RS_PORT}", ""]
    return "\n".join(lines)


class LvsDemo:
    """Brings the demo up (namespaces, p4sw, daemon, servers); `close()`
    removes everything, also after a failure half-way.  `backend` is
    "netns" (topologies.runner) or "mininet" (topologies.mininet_backend);
    `net` offers the same calls on both."""

    def __init__(self, out: str | Path = "build", weights: dict[str, int] | None = None,
                 tcp_timeout: int = 90, with_rs3: bool = True, daemon_log_level: str = "warning",
                 synproxy: bool = False, extra_global: tuple[str, ...] = (), backend: str = "netns"):
        from runtime.artifacts import compile_lvs
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
        self.backend = backend
        self.art = compile_lvs(out)
        self.weights = weights or {"rs1": 1, "rs2": 2, "rs3": 1}
        self.topo = build_topology(str(self.art.json))
        if backend == "netns":
            from topologies.runner import NetnsTopology
            self.net = NetnsTopology(self.topo, p4sw_args=["--cpu-port", "255",
                                                           "--grpc-server-addr", GRPC_ADDR])
            self.daemon_node: str | None = "lb"      # the daemon shares the switch's namespace
            self.switch_addr = GRPC_ADDR
        else:
            from topologies.mininet_backend import MininetTopology
            self.net = MininetTopology(self.topo)
            # the socket's path is known once the run's folder exists
            self.net.p4sw_args = ["--cpu-port", "255", "--grpc-server-addr",
                                  f"unix:{self.net.workdir / P4RT_SOCKET}"]
            self.daemon_node = None                  # root namespace, cwd = the run's folder
            self.switch_addr = f"unix:{P4RT_SOCKET}"
        self.procs: list[subprocess.Popen] = []
        self.config_text = config_text(self.weights, tcp_timeout, with_rs3, synproxy, extra_global)
        self.log_level = daemon_log_level

    def start(self) -> "LvsDemo":
        try:
            self.net.start()
            wd = self.net.workdir
            (wd / "lb.toml").write_text(self.config_text)
            (wd / "server.py").write_text(SERVER_SCRIPT)
            self.socket = wd / "p4lvs.sock"
            for rs in RS_IPS:
                self.spawn(rs, [sys.executable, str(wd / "server.py"), rs, str(HTTP_PORT),
                                str(UDP_PORT)], f"{rs}.log")
            self.daemon_argv = [sys.executable, "-m", "runtime", "run", "-c", str(wd / "lb.toml"),
                                "--switch", self.switch_addr, "--json", str(self.art.json), "--p4info",
                                str(self.art.p4info), "--socket", str(self.socket),
                                "--log-level", self.log_level]
            self.daemon = self.spawn(self.daemon_node, self.daemon_argv, "p4lvs.log")
            self._wait_daemon()
            self._wait_servers()
        except BaseException:
            self.close()
            raise
        return self

    def spawn(self, node: str | None, argv: list[str], log: str) -> subprocess.Popen:
        """Start argv inside `node`'s namespace (None: in the root namespace,
        in the run's folder), logging to `log` there; stopped by `close`."""
        from topologies.runner import _die_with_parent
        env = dict(os.environ, PYTHONPATH=str(REPO))
        out = open(self.net.workdir / log, "wb")
        if node is None:
            full, cwd = list(argv), self.net.workdir
        else:
            full, cwd = ["ip", "netns", "exec", self.net.netns(node), *argv], REPO
        try:
            p = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=cwd, preexec_fn=_die_with_parent)
        finally:
            out.close()
        self.procs.append(p)
        return p

    def restart_daemon(self) -> None:
        """Stop the daemon (SIGTERM by pid) and start a new one that takes
        over the switch's sessions (--no-push)."""
        self.daemon.terminate()
        self.daemon.wait(10)
        self.daemon = self.spawn(self.daemon_node, [*self.daemon_argv, "--no-push"],
                                 "p4lvs-restarted.log")
        self._wait_daemon()

    def log(self, name: str) -> str:
        try:
            return (self.net.workdir / name).read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _wait_daemon(self, timeout: float = 60.0) -> None:
        from runtime.daemon import CommandError, request
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.daemon.poll() is not None:
                raise RuntimeError(f"p4lvs daemon exited ({self.daemon.returncode}):\n"
                                   f"{self.log('p4lvs.log')}")
            try:
                request(self.socket, {"cmd": "list"})
                return
            except (CommandError, OSError, ValueError):
                time.sleep(0.2)
        raise RuntimeError(f"p4lvs daemon not ready after {timeout} s:\n{self.log('p4lvs.log')}")

    def _wait_servers(self, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        for rs, ip in RS_IPS.items():
            while self.net.exec(rs, ["curl", "-s", "-m", "1", f"http://127.0.0.1:{HTTP_PORT}/"]).returncode:
                if time.monotonic() > end:
                    raise RuntimeError(f"{rs}: HTTP server not up:\n{self.log(rs + '.log')}")
                time.sleep(0.1)

    def control(self, **req) -> dict:
        from runtime.daemon import request
        return request(self.socket, req)

    def curl(self, timeout: float = 5.0) -> tuple[bool, str]:
        cp = self.net.exec("client", ["curl", "-s", "-m", str(timeout), f"http://{VIP}/"],
                           timeout=timeout + 5)
        return cp.returncode == 0, cp.stdout.strip()

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
        self.net.stop()

    def __enter__(self) -> "LvsDemo":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="p4lvs FULLNAT demo in network namespaces")
    ap.add_argument("--backend", choices=BACKENDS, default="netns",
                    help="plain network namespaces (default) or Mininet (Debian mininet package)")
    ap.add_argument("--requests", type=int, default=12)
    ap.add_argument("--out", default="build")
    ap.add_argument("--synproxy", action="store_true",
                    help="web service in SYNPROXY mode (SYN cookies answered by the data plane)")
    args = ap.parse_args(argv)
    if args.requests < 1:
        ap.error(f"--requests {args.requests}: must be at least 1")
    # the build directory first: a bad --out is reported before any namespace exists
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        ap.error(f"--out {args.out}: cannot create the directory: {e.strerror}")
    if args.backend == "mininet":
        from topologies.mininet_backend import mininet_supported
        ok, why = mininet_supported()
    else:
        ok, why = netns_supported()
    if not ok:
        print(f"lvs demo: cannot run: {why}", file=sys.stderr)
        return 1
    from rich.console import Console
    con = Console()
    signal.signal(signal.SIGTERM, _terminate)
    con.print(f"[bold]p4lvs demo[/]: client -> VIP {VIP}:80 -> lb (p4sw + lvs.p4 + p4lvs) -> "
              f"rs1/rs2/rs3 (weights 1/2/1), local address {LIP}")
    from runtime.artifacts import BuildError
    from topologies.graph import TopologyError
    from topologies.mininet_backend import MininetBackendError
    from topologies.netns import NetnsError
    try:
        return _run(con, args)
    except (BuildError, TopologyError, NetnsError, MininetBackendError, RuntimeError, OSError) as e:
        print(f"lvs demo: {e}", file=sys.stderr)
        return 1


def _run(con, args) -> int:
    from rich.table import Table
    from runtime.cli import print_list
    with LvsDemo(args.out, synproxy=args.synproxy, backend=args.backend) as demo:
        t = Table(title=f"{args.requests} curl requests to http://{VIP}/")
        for col in ("#", "ok", "answered by", "the real server saw the client as"):
            t.add_column(col)
        good = 0
        for i in range(args.requests):
            ok, body = demo.curl()
            name, _, peer = body.partition(" ")
            good += ok
            t.add_row(str(i + 1), "yes" if ok else "NO", name or "-", peer or "-")
        con.print(t)
        udp = demo.net.exec("client", [sys.executable, "-c", UDP_QUERY, VIP], timeout=20)
        for line in udp.stdout.splitlines():
            name, _, rest = line.partition(" ")
            con.print(f"UDP {VIP}:53 answered by {name}, which saw {rest.split()[0]}")
        stray = demo.net.exec("client", ["curl", "-s", "-m", "1", f"http://{VIP}:8080/"], timeout=10)
        con.print(f"TCP to {VIP}:8080 (no such service): "
                  f"{'answered?!' if stray.returncode == 0 else 'dropped, counted as VIP_NO_SERVICE'}")
        cp = demo.net.exec("client", ["ping", "-c", "1", "-W", "2", VIP])
        con.print(f"ping {VIP}: {'answered by the data plane' if cp.returncode == 0 else 'no answer'}")
        print_list(demo.control(cmd="list"))
    con.print(f"{good}/{args.requests} requests succeeded; everything torn down")
    return 0 if good == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
