"""Bring a `Topology` up as Linux network namespaces with p4sw switches.

Layout of one run (prefix ``p4ab12``, unique per run):

* every node gets its own namespace ``p4ab12-<node>``;
* every link is a veth pair; a host's end is ``eth<k>`` inside the host, a
  switch's end is ``<switch>-eth<port>`` inside the switch's namespace (the
  pair is created under prefixed temporary names, then moved and renamed);
* host veths get ``ethtool -K <veth> tx off``: a veth would otherwise hand
  the switch TCP/UDP packets with checksums left for an offload that never
  happens, and the receiving host would drop them;
* each switch is one ``p4sw`` process started inside its namespace (by pid:
  ``ip netns exec`` execs, so the pid we get is the switch's) with its ports,
  the runtime JSON turned into ``--cli-commands``, ``--thrift-port 9090`` on
  the namespace's own loopback, and a ready file we wait for; a switch node's
  ``p4sw_args`` attribute (list) is appended to its own command line (e.g.
  ``--grpc-server-addr unix:/path --device-id N``: a unix socket lives in the
  file system, so a P4Runtime client in the root namespace reaches it);
* `stop()` (also on any start-up failure, and from the context manager)
  signals each switch by pid, then deletes every namespace of the run.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from topologies.graph import Topology, TopologyError
from topologies.netns import NetnsError, NetnsSet, run
from topologies.tutorials import runtime_to_commands

REPO = Path(__file__).resolve().parents[1]
THRIFT_PORT = 9090


@dataclass
class SwitchProcess:
    name: str
    netns: str
    proc: subprocess.Popen
    log_path: Path
    ports: dict[int, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class NetnsTopology:
    """Runs a `Topology`; use as a context manager so everything is removed."""

    def __init__(self, topo: Topology, *, workdir: str | Path | None = None,
                 prefix: str | None = None, p4sw_args: list[str] | None = None,
                 ready_timeout: float = 60.0):
        self.topo = topo
        self.ns = NetnsSet(prefix)
        self.prefix = self.ns.prefix
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"{self.prefix}-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.p4sw_args = list(p4sw_args or [])
        self.ready_timeout = ready_timeout
        self.switches: dict[str, SwitchProcess] = {}

    # -- naming
    def netns(self, node: str) -> str:
        return self.ns.ns_name(node)

    @staticmethod
    def host_iface(index: int) -> str:
        return f"eth{index}"

    @staticmethod
    def switch_iface(switch: str, port: int) -> str:
        return f"{switch}-eth{port}"

    def _iface(self, node: str, port: int) -> str:
        if self.topo.kind(node) == "host":
            return self.host_iface(port)
        return self.switch_iface(node, port)

    # -- life cycle
    def start(self) -> "NetnsTopology":
        try:
            self._check()
            for node in sorted(self.topo.graph.nodes):
                self.ns.add_ns(node)
            for a, pa, b, pb in self.topo.links():
                self.ns.add_veth(self.netns(a), self._iface(a, pa), self.netns(b), self._iface(b, pb))
            for h in self.topo.hosts():
                self._configure_host(h)
            for s in self.topo.switches():
                self._start_switch(s)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _check(self) -> None:
        for s in self.topo.switches():
            prog = self.topo.node(s).get("program")
            if not prog or not Path(prog).exists():
                raise TopologyError(f"switch {s}: program {prog!r} not found")

    def _configure_host(self, host: str) -> None:
        ns = self.netns(host)
        attrs = self.topo.node(host)
        ifaces = [self.host_iface(i) for i in sorted(self.topo.ports(host))]
        for i, iface in enumerate(ifaces):
            if i == 0 and attrs.get("mac"):
                run(["ip", "link", "set", "dev", iface, "address", attrs["mac"]], netns=ns)
            if i == 0 and attrs.get("ip"):
                run(["ip", "addr", "add", attrs["ip"], "dev", iface], netns=ns)
            cp = run(["ethtool", "-K", iface, "tx", "off"], netns=ns, check=False)
            if cp.returncode != 0:
                print(f"warning: {host}: ethtool -K {iface} tx off failed: {cp.stderr.strip()}",
                      file=sys.stderr)
        for cmd in attrs.get("commands", []):
            run(translate_host_command(cmd), netns=ns)

    def _start_switch(self, sw: str) -> None:
        attrs = self.topo.node(sw)
        ns = self.netns(sw)
        program = str(attrs["program"])
        cmds: list[str] = []
        if attrs.get("runtime"):
            cmds += runtime_to_commands(attrs["runtime"], program)
        cmds += attrs.get("cli_commands", [])
        cmd_file = self.workdir / f"{sw}-commands.txt"
        cmd_file.write_text("".join(c + "\n" for c in cmds))
        log_path = self.workdir / f"{sw}.log"
        ready = self.workdir / f"{sw}.ready"
        ready.unlink(missing_ok=True)
        ports = {p: self.switch_iface(sw, p) for p in sorted(self.topo.ports(sw))}
        argv = ["ip", "netns", "exec", ns, sys.executable, "-m", "p4switch.cli", program]
        for p, iface in ports.items():
            argv += ["-i", f"{p}@{iface}"]
        argv += ["--thrift-port", str(THRIFT_PORT), "--cli-commands", str(cmd_file),
                 "--ready-file", str(ready), "--log-file", str(log_path), *self.p4sw_args,
                 *attrs.get("p4sw_args", [])]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        out = open(self.workdir / f"{sw}.out", "wb")
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=env, cwd=self.workdir,
                                    preexec_fn=_die_with_parent)
        finally:
            out.close()
        self.switches[sw] = SwitchProcess(sw, ns, proc, log_path, ports)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        pending = dict(self.switches)
        while pending:
            for name, sp in list(pending.items()):
                if (self.workdir / f"{name}.ready").exists():
                    del pending[name]
                elif sp.proc.poll() is not None:
                    out = (self.workdir / f"{name}.out").read_text(errors="replace")[-2000:]
                    raise TopologyError(f"switch {name} exited with status {sp.proc.returncode}:\n"
                                        f"{out}{sp.log_tail()}")
            if pending and time.monotonic() > deadline:
                raise TopologyError(f"switches {sorted(pending)} not ready after "
                                    f"{self.ready_timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop every switch (SIGTERM by pid, SIGKILL after 5 s), then delete
        every namespace and leftover link of this run."""
        for sp in self.switches.values():
            if sp.proc.poll() is None:
                try:
                    os.kill(sp.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for sp in self.switches.values():
            try:
                sp.proc.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(sp.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                sp.proc.wait(5)
        self.ns.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "NetnsTopology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- using it
    def exec(self, node: str, argv: list[str], *, timeout: float = 30.0,
             check: bool = False) -> subprocess.CompletedProcess:
        return run(argv, netns=self.netns(node), timeout=timeout, check=check)

    def ping(self, src: str, dst_ip: str, *, count: int = 1, wait: float = 2.0) -> bool:
        cp = self.exec(src, ["ping", "-n", "-q", "-c", str(count), "-W", str(wait), dst_ip],
                       timeout=count * wait + 10)
        return cp.returncode == 0

    def ping_all(self, *, count: int = 1, wait: float = 2.0, tries: int = 3) -> dict[tuple[str, str], bool]:
        """Every host pings every other host's address; a pair succeeds if
        one of `tries` attempts gets an answer."""
        result = {}
        for a in self.topo.hosts():
            for b in self.topo.hosts():
                if a == b:
                    continue
                ip = self.topo.host_ip(b)
                result[(a, b)] = any(self.ping(a, ip, count=count, wait=wait) for _ in range(tries))
        return result

    def runtime_cli(self, switch: str, commands: list[str]) -> subprocess.CompletedProcess:
        """Send commands to a running switch through p4sw-cli in its namespace."""
        argv = [sys.executable, "-c", "import sys; from p4switch.cli import client_main; "
                "sys.exit(client_main())", "--thrift-port", str(THRIFT_PORT)]
        for c in commands:
            argv += ["-c", c]
        return self.exec(switch, argv)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it if the process that started it
    dies without stopping it (a killed test run leaves no switch behind)."""
    import ctypes
    import ctypes.util
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def translate_host_command(cmd: str) -> list[str]:
    """Tutorial host commands use net-tools; run their iproute2 equivalents
    (net-tools is not installed on a fresh Debian).  Other commands run as
    written."""
    w = shlex.split(cmd)
    # route add default gw GW dev DEV
    if w[:3] == ["route", "add", "default"] and "gw" in w:
        argv = ["ip", "route", "replace", "default", "via", w[w.index("gw") + 1]]
        if "dev" in w:
            argv += ["dev", w[w.index("dev") + 1]]
        return argv
    # arp -i DEV -s IP MAC
    if w and w[0] == "arp" and "-s" in w:
        i = w.index("-s")
        argv = ["ip", "neigh", "replace", w[i + 1], "lladdr", w[i + 2], "nud", "permanent"]
        if "-i" in w:
            argv += ["dev", w[w.index("-i") + 1]]
        return argv
    return w


__all__ = ["NetnsTopology", "SwitchProcess", "translate_host_command", "NetnsError"]
