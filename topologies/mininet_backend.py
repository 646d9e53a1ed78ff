"""Bring a topology graph up under Mininet, with a p4sw process per switch.

    python -m topologies.mininet_backend --topology topo.json --program basic.json --pingall
    python -m topologies.mininet_backend --topology topo.json --p4 basic.p4 --cli

Two interpreters are involved, which is why this module has two halves:

* the *controller* half runs in the project's venv (it needs networkx and
  p4common): it loads the topology, turns each switch's runtime JSON into a
  simple_switch_CLI command file and each tutorial host command into an argv,
  writes the graph (networkx ``node_link_data``) plus run options as a JSON
  *spec*, and starts the other half;
* the *Mininet* half (`serve`) runs on ``/usr/bin/python3`` -- the Debian
  ``mininet`` package lives only there -- and imports nothing but the
  standard library and mininet.  That is why this module imports only the
  standard library at top level; venv-only modules are imported inside the
  controller's functions, mininet inside `serve`.

The Mininet half builds hosts (`mininet.node.Host`) and `P4Switch` nodes
(a `mininet.node.Switch` that runs ``<venv python> -m p4switch.cli``, as the
P4 tutorials' P4Switch runs simple_switch), no controller and no Open
vSwitch.  Every node -- switches too -- is in its own network namespace, and
each veth pair is created directly inside the two namespaces (Mininet's
"fast" links), so nothing of a run ever appears in the root namespace and
two runs cannot clash over interface names.  Interfaces are named like the
netns backend's (`topologies.runner`): ``eth<k>`` in a host,
``<switch>-eth<port>`` in a switch.  Each switch's runtime CLI socket is
``--thrift-port 9090`` on its namespace's own loopback.

Safety, checked against Mininet 2.3.0's source: `Mininet.init()` (root
check + `fixLimits`, which raises machine-wide sysctls) is skipped by
marking the class initialised; `Mininet.stop()` only deletes each link's
interfaces inside the owning node's namespace (``ip link del`` via the
node's shell), calls each switch's `stop()` and SIGHUPs each node's own
shell process group -- it never calls Mininet's global clean-up module (which kills by name).
The p4sw processes are stopped by pid (SIGTERM, SIGKILL after 5 s) before
that.  Every process we start gets PR_SET_PDEATHSIG, so a killed controller
takes the Mininet half with it, and a killed Mininet half its switches; the
namespaces vanish with their last process.

Spec (controller -> Mininet half), JSON, ``"version": 1``::

    {"version": 1, "graph": <node_link_data; hosts carry "setup" (argv
     lists), switches "commands_file" and "device_id">, "workdir": dir,
     "state_file": path, "p4sw_python": path, "p4sw_args": [...],
     "pythonpath": repo, "thrift_port": 9090, "ready_timeout": s,
     "cli": bool, "log_level": "warning"}

State (Mininet half -> controller), written once everything is up::

    {"serve_pid": n, "nodes": {name: {"kind": ..., "pid": shell pid}},
     "switches": {name: {"pid": p4sw pid, "log": path, "thrift_port": n}}}

The controller runs commands in a node with ``mnexec -a <shell pid>``, and
stops the run by closing the Mininet half's stdin (or, with ``--cli``, when
the user leaves Mininet's CLI).  For code written against the netns backend
(the LVS demo uses ``ip netns exec``, ``prefix``, ``switches``),
`MininetTopology.netns` gives a node's namespace a name on request (``ip
netns attach <prefix>-<node> <pid>``); `stop` deletes those names first.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_VERSION = 1
SYSTEM_PYTHON = "/usr/bin/python3"
THRIFT_PORT = 9090
REPO = Path(__file__).resolve().parents[1]
PROG = "mininet_backend"


class MininetBackendError(Exception):
    """A run that could not be built or started; the message says which node
    and why (with the tail of the relevant log)."""


# ---------------------------------------------------------------------------
# the spec: parsed on the Mininet side, so standard library only

@dataclass(frozen=True)
class HostSpec:
    name: str
    ip: str | None
    mac: str | None
    setup: tuple[tuple[str, ...], ...]   # argv lists run inside the host


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    program: str
    commands_file: str | None
    device_id: int


@dataclass(frozen=True)
class LinkSpec:
    a: str
    port_a: int
    b: str
    port_b: int


@dataclass
class NetSpec:
    hosts: list[HostSpec]
    switches: list[SwitchSpec]
    links: list[LinkSpec]
    workdir: str
    state_file: str
    p4sw_python: str
    p4sw_args: list[str] = field(default_factory=list)
    pythonpath: str = str(REPO)
    thrift_port: int = THRIFT_PORT
    ready_timeout: float = 60.0
    cli: bool = False
    log_level: str = "warning"

    def kind(self, node: str) -> str:
        return "host" if any(h.name == node for h in self.hosts) else "switch"

    def iface(self, node: str, port: int) -> str:
        return host_iface(port) if self.kind(node) == "host" else switch_iface(node, port)


def host_iface(index: int) -> str:
    return f"eth{index}"


def switch_iface(switch: str, port: int) -> str:
    return f"{switch}-eth{port}"


def parse_spec(data: Any) -> NetSpec:
    """Check and read a spec; every problem is a `MininetBackendError`
    naming the offending field."""
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise MininetBackendError(f"spec: {what}")

    need(isinstance(data, dict), "expected a JSON object")
    need(data.get("version") == SPEC_VERSION, f"version {data.get('version')!r}, expected {SPEC_VERSION}")
    graph = data.get("graph")
    need(isinstance(graph, dict), "graph missing")
    nodes = graph.get("nodes")
    edges = graph.get("links", graph.get("edges"))
    need(isinstance(nodes, list) and isinstance(edges, list), "graph needs nodes and links")
    hosts: list[HostSpec] = []
    switches: list[SwitchSpec] = []
    names: set[str] = set()
    for i, n in enumerate(nodes):
        need(isinstance(n, dict) and isinstance(n.get("id"), str), f"graph.nodes[{i}]: no id")
        name = n["id"]
        names.add(name)
        if n.get("kind") == "host":
            setup = n.get("setup") or []
            need(isinstance(setup, list) and all(isinstance(c, list) and c and
                                                 all(isinstance(w, str) for w in c) for c in setup),
                 f"host {name}: setup must be a list of argv lists")
            hosts.append(HostSpec(name, n.get("ip"), n.get("mac"), tuple(tuple(c) for c in setup)))
        elif n.get("kind") == "switch":
            need(isinstance(n.get("program"), str), f"switch {name}: no program")
            need(isinstance(n.get("device_id"), int), f"switch {name}: no device_id")
            switches.append(SwitchSpec(name, n["program"], n.get("commands_file"), n["device_id"]))
        else:
            need(False, f"node {name}: kind {n.get('kind')!r} is neither host nor switch")
    links: list[LinkSpec] = []
    for i, e in enumerate(edges):
        need(isinstance(e, dict), f"graph.links[{i}]: not an object")
        a, b, ports = e.get("source"), e.get("target"), e.get("ports")
        need(a in names and b in names, f"graph.links[{i}]: unknown end {a!r} or {b!r}")
        need(isinstance(ports, dict) and isinstance(ports.get(a), int) and isinstance(ports.get(b), int),
             f"graph.links[{i}]: ports must map both ends to numbers")
        links.append(LinkSpec(a, ports[a], b, ports[b]))
    for key in ("workdir", "state_file", "p4sw_python"):
        need(isinstance(data.get(key), str), f"{key} missing")
    return NetSpec(
        hosts=sorted(hosts, key=lambda h: h.name), switches=sorted(switches, key=lambda s: s.name),
        links=links, workdir=data["workdir"], state_file=data["state_file"],
        p4sw_python=data["p4sw_python"], p4sw_args=[str(a) for a in data.get("p4sw_args") or []],
        pythonpath=str(data.get("pythonpath") or REPO), thrift_port=int(data.get("thrift_port", THRIFT_PORT)),
        ready_timeout=float(data.get("ready_timeout", 60.0)), cli=bool(data.get("cli")),
        log_level=str(data.get("log_level") or "warning"))


# ---------------------------------------------------------------------------
# helpers shared by both halves

def _die_with_parent() -> None:
    """In a child before exec: SIGTERM it when its parent dies, so nothing
    we start outlives the process that started it."""
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def _tail(path: str | Path, n: int = 20) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _stop_pid(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM one process we started, by pid; SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(grace)


# ---------------------------------------------------------------------------
# the Mininet half (runs on /usr/bin/python3)

class _Stop(Exception):
    """Raised from SIGTERM/SIGHUP so the teardown in `serve` runs."""


def _p4switch_class():
    """`P4Switch`, built on first use: mininet is only importable on the
    system interpreter."""
    from mininet.node import Switch

    class P4Switch(Switch):
        """A Mininet switch node running p4sw in its own namespace.

        Like the P4 tutorials' P4Switch starts simple_switch with one
        ``-i port@intf`` per interface, but started by pid (mnexec -a, which
        execs, so the pid is p4sw's), stopped by pid, and ready when p4sw
        writes its ``--ready-file`` (after ``--cli-commands`` are applied)."""

        def __init__(self, name, *, spec: SwitchSpec, net: NetSpec, **params):
            self.controlIntf = None  # Switch.defaultIntf reads it; only set for root-namespace switches
            params.setdefault("dpid", f"{spec.device_id + 1:x}")
            params["inNamespace"] = True  # never in the root namespace (see the module docstring)
            Switch.__init__(self, name, **params)
            self.spec = spec
            self.net_spec = net
            self.proc: subprocess.Popen | None = None
            workdir = Path(net.workdir)
            self.log_path = workdir / f"{name}.log"
            self.out_path = workdir / f"{name}.out"
            self.ready_path = workdir / f"{name}.ready"

        def argv(self) -> list[str]:
            ns = self.net_spec
            argv = [ns.p4sw_python, "-m", "p4switch.cli", self.spec.program]
            for intf in self.intfList():
                if intf.name != "lo":
                    argv += ["-i", f"{self.ports[intf]}@{intf.name}"]
            argv += ["--device-id", str(self.spec.device_id), "--thrift-port", str(ns.thrift_port),
                     "--ready-file", str(self.ready_path), "--log-file", str(self.log_path)]
            if self.spec.commands_file:
                argv += ["--cli-commands", self.spec.commands_file]
            return argv + list(ns.p4sw_args)

        def start(self, controllers):  # no controller: p4sw programs itself (--cli-commands)
            self.cmd("ip link set dev lo up")
            self.cmd("sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
            for intf in self.intfList():
                if intf.name != "lo":
                    self.cmd(f"sysctl -q -w net.ipv6.conf.{intf.name}.disable_ipv6=1")
            self.ready_path.unlink(missing_ok=True)
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.net_spec.pythonpath,
                                                              env.get("PYTHONPATH")]))
            with open(self.out_path, "wb") as out:
                self.proc = self.popen(self.argv(), mncmd=["mnexec", "-a", str(self.pid)],
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       env=env, cwd=self.net_spec.workdir, preexec_fn=_die_with_parent)

        def is_ready(self) -> bool:
            """True once serving; raises if p4sw exited."""
            if self.proc is None:
                return False
            if self.ready_path.exists():
                return True
            if self.proc.poll() is not None:
                raise MininetBackendError(
                    f"switch {self.name}: p4sw exited with status {self.proc.returncode}:\n"
                    f"{_tail(self.out_path)}\n{_tail(self.log_path)}".rstrip())
            return False

        def stop_p4sw(self) -> None:
            if self.proc is not None:
                _stop_pid(self.proc)

        def stop(self, deleteIntfs=True):  # Mininet's signature
            self.stop_p4sw()
            Switch.stop(self, deleteIntfs)

    return P4Switch


def _build(spec: NetSpec):
    """Create the Mininet network (nodes and links, hosts configured); the
    caller stops it whatever happens."""
    from mininet.link import Link
    from mininet.net import Mininet
    from mininet.node import Host
    # skip ensureRoot()+fixLimits(): we check root ourselves and leave the
    # machine's sysctls alone
    Mininet.inited = True
    P4Switch = _p4switch_class()
    net = Mininet(topo=None, build=False, controller=None, host=Host, switch=P4Switch, link=Link,
                  autoSetMacs=False, autoStaticArp=False, inNamespace=False)
    return net, P4Switch


def _populate(net, spec: NetSpec, P4Switch) -> None:
    for h in spec.hosts:
        # ip=None keeps Mininet from inventing a 10.0.0.x address
        net.addHost(h.name, ip=h.ip, mac=h.mac)
    for s in spec.switches:
        net.addSwitch(s.name, cls=P4Switch, spec=s, net=spec)
    for ln in spec.links:
        net.addLink(ln.a, ln.b, port1=ln.port_a, port2=ln.port_b,
                    intfName1=spec.iface(ln.a, ln.port_a), intfName2=spec.iface(ln.b, ln.port_b))
    net.build()
    for h in spec.hosts:
        node = net[h.name]
        node.cmd("sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        for intf in node.intfList():
            if intf.name == "lo":
                continue
            node.cmd(f"sysctl -q -w net.ipv6.conf.{intf.name}.disable_ipv6=1")
            # a veth leaves TCP/UDP checksums to an offload that never happens
            node.cmd(f"ethtool -K {intf.name} tx off")


def _host_setup(net, spec: NetSpec) -> None:
    for h in spec.hosts:
        for argv in h.setup:
            out, err, code = net[h.name].pexec(list(argv))
            if code != 0:
                raise MininetBackendError(f"host {h.name}: {' '.join(argv)}: exit {code}: "
                                          f"{(err or out).strip()}")


def _wait_ready(switches, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(switches)
    while pending:
        pending = [s for s in pending if not s.is_ready()]
        if pending and time.monotonic() > deadline:
            raise MininetBackendError(f"switches {[s.name for s in pending]} not ready after {timeout} s")
        time.sleep(0.05)


def _write_state(net, spec: NetSpec, switches) -> None:
    state = {
        "serve_pid": os.getpid(),
        "nodes": {n.name: {"kind": "switch" if n in switches else "host", "pid": n.pid}
                  for n in [*net.hosts, *net.switches]},
        "switches": {s.name: {"pid": s.proc.pid, "log": str(s.log_path), "thrift_port": spec.thrift_port}
                     for s in switches},
    }
    tmp = spec.state_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f)
    os.replace(tmp, spec.state_file)


def _wait_for_stop(switches) -> None:
    """Serve until stdin reaches EOF (the controller closed it); say once
    if a switch dies meanwhile."""
    reported: set[str] = set()
    fd = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready and not os.read(fd, 4096):
            return
        for s in switches:
            if s.proc.poll() is not None and s.name not in reported:
                reported.add(s.name)
                print(f"{PROG}: switch {s.name}: p4sw exited with status {s.proc.returncode}:\n"
                      f"{_tail(s.log_path, 5)}", file=sys.stderr, flush=True)


def serve(spec_path: str) -> int:
    """The Mininet half: build, start, publish the state file, serve, and
    always tear down what was built."""
    if os.geteuid() != 0:
        print(f"{PROG}: error: Mininet needs root", file=sys.stderr)
        return 1
    try:
        with open(spec_path, encoding="utf-8") as f:
            spec = parse_spec(json.load(f))
    except (OSError, json.JSONDecodeError, MininetBackendError) as e:
        print(f"{PROG}: error: {spec_path}: {e}", file=sys.stderr)
        return 1
    try:
        from mininet.log import setLogLevel
    except ImportError as e:
        print(f"{PROG}: error: mininet is not importable on {sys.executable}: {e}", file=sys.stderr)
        return 1
    setLogLevel(spec.log_level)

    def on_signal(signum, _frame):
        raise _Stop(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    net = None
    switches = []
    status = 0
    try:
        net, P4Switch = _build(spec)
        _populate(net, spec, P4Switch)
        switches = [n for n in net.switches if isinstance(n, P4Switch)]
        net.start()
        _wait_ready(switches, spec.ready_timeout)
        _host_setup(net, spec)
        _write_state(net, spec, switches)
        if spec.cli:
            from mininet.cli import CLI
            CLI(net)
        else:
            _wait_for_stop(switches)
    except (_Stop, KeyboardInterrupt):
        pass
    except MininetBackendError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        status = 1
    except Exception as e:  # noqa: BLE001 -- Mininet raises bare Exceptions (e.g. link creation)
        print(f"{PROG}: error: {type(e).__name__}: {e}", file=sys.stderr)
        status = 1
    finally:
        # no interruptions while tearing down
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        _teardown(net, switches)
    return status


def _teardown(net, switches) -> None:
    """p4sw processes first (by pid), then Mininet's own stop (links, node
    shells); if that trips over a broken node, SIGHUP each remaining node's
    own shell so its namespace still goes away."""
    for s in switches:
        try:
            s.stop_p4sw()
        except Exception as e:  # noqa: BLE001 -- keep tearing down the rest
            print(f"{PROG}: warning: stopping {s.name}: {e}", file=sys.stderr)
    if net is None:
        return
    try:
        net.stop()
        return
    except Exception as e:  # noqa: BLE001
        print(f"{PROG}: warning: Mininet stop failed ({type(e).__name__}: {e}); "
              f"terminating node shells one by one", file=sys.stderr)
    for node in [*net.switches, *net.hosts]:
        try:
            node.terminate()
        except Exception:  # noqa: BLE001, S110 -- best effort, the shell may be gone already
            pass


# ---------------------------------------------------------------------------
# the controller half (runs in the project's venv)

def make_spec(topo, workdir: Path, *, state_file: Path, p4sw_python: str, p4sw_args: list[str],
              thrift_port: int = THRIFT_PORT, ready_timeout: float = 60.0, cli: bool = False,
              log_level: str = "warning") -> dict:
    """The spec for `topo` (a `topologies.graph.Topology`): writes each
    switch's command file into `workdir` and translates host commands."""
    import networkx as nx

    from topologies.graph import TopologyError
    from topologies.runner import translate_host_command
    from topologies.tutorials import runtime_to_commands

    g = topo.graph.copy()
    for dev, sw in enumerate(topo.switches()):
        attrs = g.nodes[sw]
        prog = attrs.get("program")
        if not prog or not Path(prog).is_file():
            raise TopologyError(f"switch {sw}: program {prog!r} not found")
        prog = str(Path(prog).resolve())
        cmds: list[str] = []
        if attrs.get("runtime"):
            cmds += runtime_to_commands(attrs["runtime"], prog)
        cmds += list(attrs.get("cli_commands") or [])
        cmd_file = workdir / f"{sw}-commands.txt"
        cmd_file.write_text("".join(c + "\n" for c in cmds))
        attrs.update(program=prog, commands_file=str(cmd_file), device_id=dev)
        attrs.pop("runtime", None)  # now in the command file
    for h in topo.hosts():
        attrs = g.nodes[h]
        attrs["setup"] = [translate_host_command(c) for c in attrs.get("commands") or []]
    try:
        graph = nx.node_link_data(g, edges="links")
    except TypeError:  # networkx < 3.4
        graph = nx.node_link_data(g)
    return {"version": SPEC_VERSION, "graph": graph, "workdir": str(workdir),
            "state_file": str(state_file), "p4sw_python": p4sw_python, "p4sw_args": list(p4sw_args),
            "pythonpath": str(REPO), "thrift_port": thrift_port, "ready_timeout": ready_timeout,
            "cli": cli, "log_level": log_level}


def mininet_supported(system_python: str = SYSTEM_PYTHON) -> tuple[bool, str]:
    """Whether a Mininet run can work here, with the reason if not (for
    pytest skips)."""
    if os.geteuid() != 0:
        return False, "Mininet needs root"
    if not Path(system_python).exists():
        return False, f"{system_python} not found"
    if shutil.which("mnexec") is None:
        return False, "Mininet is not installed (no mnexec; apt-get install mininet)"
    cp = subprocess.run([system_python, "-c", "import mininet.net"], check=False,
                        capture_output=True, text=True)
    if cp.returncode != 0:
        return False, f"mininet is not importable on {system_python}: {cp.stderr.strip()[-200:]}"
    return True, ""


@dataclass(frozen=True)
class MininetSwitch:
    """One running switch as the controller sees it -- the counterpart of
    `topologies.runner.SwitchProcess` (``pid`` is p4sw's own pid, so code
    written for the netns backend reads it the same way)."""
    name: str
    pid: int            # the p4sw process
    node_pid: int       # the Mininet node's shell, holder of its namespace
    log_path: Path

    @property
    def netns_path(self) -> str:
        return f"/proc/{self.node_pid}/ns/net"


class MininetTopology:
    """Runs a `Topology` under Mininet; the API mirrors
    `topologies.runner.NetnsTopology` (start/stop, exec, ping, ping_all,
    runtime_cli, and `prefix`, `netns(node)`, `switches`, `workdir`), so
    code written for the netns backend -- the LVS demo, its tests -- runs on
    either.  Use as a context manager so everything is removed."""

    def __init__(self, topo, *, workdir: str | Path | None = None, p4sw_args: list[str] | None = None,
                 ready_timeout: float = 60.0, system_python: str = SYSTEM_PYTHON,
                 p4sw_python: str | None = None, cli: bool = False, log_level: str = "warning"):
        self.topo = topo
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="p4mn-")
            workdir = self._tmp.name
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.p4sw_args = list(p4sw_args or [])
        self.ready_timeout = ready_timeout
        self.system_python = system_python
        self.p4sw_python = p4sw_python or sys.executable
        self.cli = cli
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.state: dict = {}
        self.state_file = self.workdir / "state.json"
        self.serve_log = self.workdir / "mininet.log"
        # names this run gives its namespaces under /var/run/netns (only on
        # request, see `netns`); unique per run like NetnsSet's prefix
        self.prefix = f"p4mn{secrets.token_hex(2)}"
        self._attached: dict[str, str] = {}

    # -- life cycle
    def start(self) -> MininetTopology:
        try:
            spec = make_spec(self.topo, self.workdir, state_file=self.state_file,
                             p4sw_python=self.p4sw_python, p4sw_args=self.p4sw_args,
                             ready_timeout=self.ready_timeout, cli=self.cli, log_level=self.log_level)
            spec_path = self.workdir / "spec.json"
            spec_path.write_text(json.dumps(spec, indent=1))
            self.state_file.unlink(missing_ok=True)
            env = dict(os.environ)
            env["PYTHONPATH"] = str(REPO)  # only this checkout: the system python has no venv
            argv = [self.system_python, "-m", "topologies.mininet_backend", "serve", str(spec_path)]
            if self.cli:  # Mininet's CLI owns the terminal; its log goes there too
                self.proc = subprocess.Popen(argv, env=env, cwd=self.workdir,
                                             preexec_fn=_die_with_parent)  # noqa: PLW1509
            else:
                with open(self.serve_log, "wb") as log:
                    self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log,
                                                 stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                                                 preexec_fn=_die_with_parent)  # noqa: PLW1509
            self._wait_state()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_state(self) -> None:
        # the Mininet half waits ready_timeout for the switches; allow for
        # building the namespaces on top
        deadline = time.monotonic() + self.ready_timeout + 60
        while not self.state_file.exists():
            if self.proc.poll() is not None:
                raise MininetBackendError(f"Mininet exited with status {self.proc.returncode} "
                                          f"before the network was up:\n{_tail(self.serve_log)}")
            if time.monotonic() > deadline:
                raise MininetBackendError(f"network not up after {self.ready_timeout + 60:.0f} s:\n"
                                          f"{_tail(self.serve_log)}")
            time.sleep(0.05)
        self.state = json.loads(self.state_file.read_text())

    def wait(self) -> int:
        """Wait for the Mininet half to end by itself (``cli=True``: the user
        left the CLI); returns its exit status."""
        return self.proc.wait() if self.proc is not None else 0

    def stop(self) -> None:
        """Remove the namespace names `netns` attached (first, so nothing
        keeps a namespace alive once its processes are gone); ask the
        Mininet half to tear down (EOF on its stdin), SIGTERM it by pid
        after 60 s, SIGKILL after 10 more; then make sure no process it
        reported is left (a SIGKILLed Mininet half cannot stop them)."""
        self._detach_all()
        if self.proc is not None:
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                _stop_pid(self.proc, grace=10)
            self._reap_leftovers()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _detach_all(self) -> None:
        for node, name in list(self._attached.items()):
            cp = subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True,
                                text=True)
            if cp.returncode != 0 and Path("/var/run/netns", name).exists():
                print(f"{PROG}: warning: ip netns delete {name}: {cp.stderr.strip()}", file=sys.stderr)
            del self._attached[node]

    def _reap_leftovers(self) -> None:
        for pid, marker in self._reported_processes():
            if _cmdline_has(pid, marker):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _reported_processes(self) -> list[tuple[int, str]]:
        """(pid, a string its command line must contain) for every process
        the Mininet half reported: node shells and p4sw switches."""
        out = [(info["pid"], f"mininet:{name}") for name, info in self.state.get("nodes", {}).items()]
        out += [(info["pid"], "p4switch.cli") for info in self.state.get("switches", {}).values()]
        return out

    def live_processes(self) -> list[int]:
        """Pids of reported processes still running (empty after `stop`)."""
        return [pid for pid, marker in self._reported_processes() if _cmdline_has(pid, marker)]

    def __enter__(self) -> MininetTopology:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- using it
    def node_pid(self, node: str) -> int:
        try:
            return int(self.state["nodes"][node]["pid"])
        except KeyError:
            raise MininetBackendError(f"no running node {node!r}") from None

    def netns_path(self, node: str) -> str:
        """A path to open for setns(2) into `node`'s network namespace
        (Mininet's namespaces have no name under /var/run/netns)."""
        return f"/proc/{self.node_pid(node)}/ns/net"

    def netns(self, node: str) -> str:
        """A name under /var/run/netns for `node`'s namespace, so that tools
        taking a namespace name (``ip netns exec NAME``, as the LVS demo and
        its tests use) work as with the netns backend: ``<prefix>-<node>``,
        attached on first use with ``ip netns attach`` (Mininet's own
        namespaces are nameless).  `stop` deletes the names; the namespaces
        themselves still go with their node's processes."""
        if node not in self._attached:
            name = f"{self.prefix}-{node}"
            pid = self.node_pid(node)
            cp = subprocess.run(["ip", "netns", "attach", name, str(pid)], check=False,
                                capture_output=True, text=True)
            if cp.returncode != 0:
                raise MininetBackendError(f"{node}: ip netns attach {name} {pid}: "
                                          f"{cp.stderr.strip() or f'exit {cp.returncode}'}")
            self._attached[node] = name
        return self._attached[node]

    def attached_netns(self) -> list[str]:
        """The namespace names `netns` created that still exist."""
        return [n for n in self._attached.values() if Path("/var/run/netns", n).exists()]

    @property
    def switches(self) -> dict[str, MininetSwitch]:
        """The running switches by name (empty before `start`)."""
        nodes = self.state.get("nodes", {})
        return {name: MininetSwitch(name, int(info["pid"]), int(nodes[name]["pid"]), Path(info["log"]))
                for name, info in sorted(self.state.get("switches", {}).items())}

    def exec(self, node: str, argv: list[str], *, timeout: float = 30.0,
             check: bool = False) -> subprocess.CompletedProcess:
        """Run argv inside `node`'s namespaces (``mnexec -a``)."""
        full = ["mnexec", "-a", str(self.node_pid(node)), *argv]
        try:
            cp = subprocess.run(full, check=False, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise MininetBackendError(f"{node}: {' '.join(argv)}: timed out after {timeout} s") from None
        if check and cp.returncode != 0:
            raise MininetBackendError(f"{node}: {' '.join(argv)}: exit {cp.returncode}: {cp.stderr.strip()}")
        return cp

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
                if a != b:
                    ip = self.topo.host_ip(b)
                    result[(a, b)] = any(self.ping(a, ip, count=count, wait=wait) for _ in range(tries))
        return result

    def runtime_cli(self, switch: str, commands: list[str]) -> subprocess.CompletedProcess:
        """Send commands to a running switch's runtime CLI socket (p4sw-cli
        inside the switch's namespace)."""
        code = "import sys; from p4switch.cli import client_main; sys.exit(client_main())"
        argv = [self.p4sw_python, "-c", code, "--thrift-port", str(THRIFT_PORT)]
        for c in commands:
            argv += ["-c", c]
        return self.exec(switch, argv)


def _cmdline_has(pid: int, marker: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return marker.encode() in f.read()
    except OSError:
        return False


# ---------------------------------------------------------------------------
# command line (controller side)

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m topologies.{PROG}",
                                description="Run a P4 tutorials topology.json under Mininet "
                                            "with p4sw switches.")
    p.add_argument("--topology", required=True, help="tutorials-style topology.json")
    prog = p.add_mutually_exclusive_group(required=True)
    prog.add_argument("--program", help="BMv2 JSON for every switch")
    prog.add_argument("--p4", help="P4 source to compile with p4pc for every switch")
    p.add_argument("--no-runtime", action="store_true", help="ignore the switches' runtime_json files")
    p.add_argument("--pingall", action="store_true", help="ping every host pair, print the result, stop")
    p.add_argument("--cli", action="store_true", help="open Mininet's CLI (stops when you leave it)")
    p.add_argument("--workdir", help="keep command files, logs and the spec here (default: a temp dir)")
    p.add_argument("--p4sw-arg", action="append", default=[], metavar="ARG",
                   help="extra p4sw argument (repeatable), e.g. --p4sw-arg=--log-level=debug")
    p.add_argument("--system-python", default=SYSTEM_PYTHON, help="interpreter that has mininet")
    p.add_argument("--ready-timeout", type=float, default=60.0)
    p.add_argument("-v", "--verbose", action="store_true", help="Mininet's info log")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # the Mininet half, started by MininetTopology
        if len(argv) != 2:
            print(f"{PROG}: usage: serve SPEC.json", file=sys.stderr)
            return 2
        return serve(argv[1])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.ready_timeout > 0:
        parser.error(f"--ready-timeout {args.ready_timeout}: must be more than 0 seconds")
    try:
        import networkx  # noqa: F401 -- only to say early which interpreter to use

        import p4common  # noqa: F401
    except ImportError as e:
        print(f"{PROG}: error: {e}: run this with the project's venv python "
              f"({REPO / '.venv' / 'bin' / 'python'}); only the Mininet half uses {SYSTEM_PYTHON}",
              file=sys.stderr)
        return 1
    # SIGTERM (kill, timeout, a supervisor) must unwind like ^C: the finally
    # blocks stop Mininet and remove the temporary work directory
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return _controller_main(args)
    except KeyboardInterrupt:
        return 130


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


def _controller_main(args: argparse.Namespace) -> int:
    from topologies.build import CompileError, CompilerUnavailable, compile_p4
    from topologies.graph import TopologyError
    from topologies.tutorials import load_topology_json

    ok, why = mininet_supported(args.system_python)
    if not ok:
        print(f"{PROG}: error: {why}", file=sys.stderr)
        return 1
    keep = tempfile.TemporaryDirectory(prefix="p4mn-") if not args.workdir else None
    workdir = Path(args.workdir or keep.name)
    try:
        program = args.program
        if args.p4:
            try:
                program, _ = compile_p4(args.p4, workdir / "build")
            except (CompileError, CompilerUnavailable) as e:
                print(f"{PROG}: error: {e}", file=sys.stderr)
                return 1
        try:
            topo = load_topology_json(args.topology, program=str(program),
                                      with_runtime=not args.no_runtime)
            net = MininetTopology(topo, workdir=workdir, p4sw_args=args.p4sw_arg,
                                  ready_timeout=args.ready_timeout, system_python=args.system_python,
                                  cli=args.cli,
                                  # the CLI prints at Mininet's "output" level
                                  log_level="info" if args.verbose else "output" if args.cli else "warning")
            net.start()
        except (TopologyError, MininetBackendError) as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return 1
        try:
            if args.cli:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C belongs to Mininet's CLI
                return net.wait()
            print(f"{PROG}: up: {', '.join(sorted(net.state['nodes']))} (workdir {workdir})")
            if args.pingall:
                result = net.ping_all()
                for (a, b), good in sorted(result.items()):
                    print(f"{a} -> {b}: {'ok' if good else 'NO ANSWER'}")
                failed = sum(not good for good in result.values())
                print(f"{PROG}: {len(result) - failed}/{len(result)} pairs answered")
                return 1 if failed else 0
            print(f"{PROG}: running; ^C stops it")
            while net.proc.poll() is None:
                time.sleep(0.5)
            return net.proc.returncode or 0
        except KeyboardInterrupt:
            return 0
        finally:
            net.stop()
    finally:
        if keep is not None:
            keep.cleanup()


if __name__ == "__main__":
    sys.exit(main())
