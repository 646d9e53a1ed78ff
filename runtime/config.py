"""The p4lvs configuration file: TOML, validated whole before anything is written.

Why whole: a half-applied configuration is worse than none, so every problem
in the file is collected and reported together, each with the line it is on.
tomllib reports syntax errors with a line but knows no lines for values that
parse yet make no sense, so `KeyLocator` finds the line of a key path itself.

Example (see docs/user-guide.md for every key):

    [global]
    fullnat = true
    icmp_echo = true
    tcp_timeout = 90
    udp_timeout = 30
    workers = 2

    [[interface]]
    port = 1
    mac = "02:00:00:00:00:01"
    ip = "10.0.1.1"

    [[route]]
    prefix = "10.0.1.0/24"
    port = 1
    next_hop_mac = "02:00:00:00:01:02"

    [local]
    addresses = ["10.0.2.100"]
    port_range = [5000, 65535]

    [[service]]
    name = "web"
    vip = "10.0.0.100"
    port = 80
    protocol = "tcp"
    scheduler = "wrr"
    [[service.server]]
    ip = "10.0.2.11"
    port = 8000
    weight = 3
"""
from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from p4common.codec import CodecError, parse_mac
from runtime.constants import CPU_PORT, PROTOCOLS

SCHEDULERS = ("wrr", "maglev")
MAX_WEIGHT = 10000
MAX_WORKERS = 64


@dataclass(frozen=True)
class ConfigIssue:
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = str(self.line) if self.line else "?"
        return f"{loc}: {self.where}: {self.message}" if self.where else f"{loc}: {self.message}"


class ConfigError(ValueError):
    """Every problem found in a configuration, each located by line."""

    def __init__(self, source: str, issues: list[ConfigIssue]):
        self.source = source
        self.issues = issues
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}:{i}" for i in self.issues)


@dataclass(frozen=True)
class RealServer:
    ip: str
    port: int
    weight: int = 1


@dataclass(frozen=True)
class Service:
    name: str
    vip: str
    port: int
    protocol: str               # "tcp" | "udp"
    scheduler: str = "wrr"      # "wrr" | "maglev"
    fullnat: bool = True
    icmp_echo: bool = True
    timeout: int | None = None  # established/UDP idle timeout (s); None = the global one
    synproxy: bool = False      # answer SYNs with cookies (TCP only)
    servers: tuple[RealServer, ...] = ()

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.vip, self.port, self.protocol)


@dataclass(frozen=True)
class Interface:
    port: int
    mac: str
    ip: str


@dataclass(frozen=True)
class Route:
    prefix: str
    port: int
    next_hop_mac: str


@dataclass(frozen=True)
class GlobalConfig:
    fullnat: bool = True
    icmp_echo: bool = True
    tcp_timeout: int = 90
    udp_timeout: int = 30
    workers: int = 1
    maglev_table_size: int = 65537
    punt_rate: int = 0          # new-flow packet-ins per second the data plane lets through; 0 = no limit
    punt_burst: int = 100
    synproxy: bool = True       # the global switch of the SYNPROXY module
    syn_mss: int = 1460         # MSS the cookie SYN-ACK advertises
    cookie_rotate: int = 60     # seconds between cookie secret rotations
    syn_retries: int = 3        # SYNs to a real server before the half-open session is reset
    syn_retry_interval: float = 1.0
    tcp_states: bool = True     # track TCP states by digest (off: one timeout, no SYN_RECV)
    timeouts: "TcpTimeouts" = None     # type: ignore[assignment]

    def __post_init__(self):
        if self.timeouts is None:
            object.__setattr__(self, "timeouts", TcpTimeouts(established=self.tcp_timeout))


#: per-TCP-state idle timeouts (s), LVS defaults; [global.timeouts]
TCP_STATES = ("syn_recv", "established", "fin_wait", "close_wait", "last_ack", "time_wait",
              "close")


@dataclass(frozen=True)
class TcpTimeouts:
    established: int = 90
    syn_recv: int = 30
    fin_wait: int = 7
    close_wait: int = 7
    last_ack: int = 7
    time_wait: int = 7
    close: int = 3

    def of(self, state: str) -> int:
        return getattr(self, state.lower())


@dataclass(frozen=True)
class Config:
    global_: GlobalConfig = field(default_factory=GlobalConfig)
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    local_addresses: tuple[str, ...] = ()
    port_range: tuple[int, int] = (5000, 65535)
    services: tuple[Service, ...] = ()

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)


# --------------------------------------------------------------- key lines
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")


class KeyLocator:
    """Maps key paths such as ("service", 0, "server", 1, "weight") to lines.

    Understands [table], [[array.of.tables]] and `key = value` lines, which is
    all this file format uses; anything else falls back to the nearest
    enclosing table's line."""

    def __init__(self, text: str):
        self.lines: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        current: tuple = ()
        for no, raw in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(raw)
            if m and not _KEY.match(raw):
                names = [p.strip().strip('"') for p in m.group(2).split(".")]
                path: tuple = ()
                for i, name in enumerate(names):
                    path += (name,)
                    last = i == len(names) - 1
                    if last and m.group(1) == "[[":
                        idx = counts.get(path, 0)
                        counts[path] = idx + 1
                        path += (idx,)
                    elif path in counts:          # inside the latest array element
                        path += (counts[path] - 1,)
                current = path
                self.lines.setdefault(current, no)
                continue
            k = _KEY.match(raw)
            if k:
                self.lines.setdefault(current + (k.group(1).strip('"'),), no)

    def line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


# --------------------------------------------------------------- validation
class _Checker:
    """Collects issues while converting the parsed TOML into typed objects."""

    def __init__(self, loc: KeyLocator):
        self.loc = loc
        self.issues: list[ConfigIssue] = []

    def err(self, path: tuple, message: str, where: str = "") -> None:
        self.issues.append(ConfigIssue(self.loc.line(path), where or _fmt_path(path), message))

    def table(self, data: Any, path: tuple, allowed: dict[str, type | tuple]) -> dict:
        """Check a table's keys and value types; returns only the good keys."""
        if not isinstance(data, dict):
            self.err(path, "must be a table")
            return {}
        good = {}
        for key, value in data.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else \
                    f" (known: {', '.join(sorted(allowed))})"
                self.err(path + (key,), f"unknown key '{key}'{hint}")
                continue
            want = allowed[key]
            if isinstance(value, bool) and want is int:
                self.err(path + (key,), f"'{key}' must be an integer, not a boolean")
            elif not isinstance(value, want):
                self.err(path + (key,), f"'{key}' must be {_type_name(want)}, not {type(value).__name__}")
            else:
                good[key] = value
        return good

    def required(self, data: dict, raw: Any, path: tuple, keys: tuple[str, ...]) -> bool:
        ok = True
        for k in keys:
            if k not in data:
                if not (isinstance(raw, dict) and k in raw):   # present but bad: reported already
                    self.err(path, f"missing key '{k}'")
                ok = False
        return ok

    def ipv4(self, value: str, path: tuple) -> str | None:
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            self.err(path, f"'{value}' is not an IPv4 address")
            return None

    def l4port(self, value: int, path: tuple, low: int = 1) -> bool:
        if not low <= value <= 65535:
            self.err(path, f"port {value} is outside {low}..65535")
            return False
        return True


def _type_name(t) -> str:
    names = {int: "an integer", str: "a string", bool: "true or false", list: "an array",
             dict: "a table"}
    if isinstance(t, tuple):
        return " or ".join(names.get(x, x.__name__) for x in t)
    return names.get(t, t.__name__)


def _fmt_path(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and validate a whole configuration; raises ConfigError listing
    every problem with its line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ConfigError(source, [ConfigIssue(int(m.group(1)) if m else None, "",
                                               f"TOML syntax: {e}")]) from None
    return validate(raw, KeyLocator(text), source)


def validate(raw: dict, loc: KeyLocator, source: str = "<config>") -> Config:
    """Validate parsed TOML (or the same shape from a command); ConfigError
    lists every problem."""
    c = _Checker(loc)
    top = c.table(raw, (), {"global": dict, "interface": list, "route": list, "local": dict,
                            "service": list})

    g_raw = top.get("global", {})
    g = c.table(g_raw, ("global",), {"fullnat": bool, "icmp_echo": bool, "tcp_timeout": int,
                                     "udp_timeout": int, "workers": int,
                                     "maglev_table_size": int, "punt_rate": int,
                                     "punt_burst": int, "synproxy": bool, "syn_mss": int,
                                     "cookie_rotate": int, "syn_retries": int,
                                     "syn_retry_interval": (int, float), "timeouts": dict,
                                     "tcp_states": bool})
    t_raw = g.pop("timeouts", {})
    t = c.table(t_raw, ("global", "timeouts"), {k: int for k in TCP_STATES})
    for k, v in t.items():
        if not 1 <= v <= 86400:
            c.err(("global", "timeouts", k), f"timeout {k} {v} s is outside 1..86400")
    if "established" not in t and "tcp_timeout" in g:
        t["established"] = g["tcp_timeout"]
    if "syn_mss" in g and not 536 <= g["syn_mss"] <= 9000:
        c.err(("global", "syn_mss"), f"syn_mss {g['syn_mss']} is outside 536..9000")
    if "cookie_rotate" in g and not 1 <= g["cookie_rotate"] <= 3600:
        c.err(("global", "cookie_rotate"), f"cookie_rotate {g['cookie_rotate']} s is outside 1..3600")
    if "syn_retries" in g and not 0 <= g["syn_retries"] <= 10:
        c.err(("global", "syn_retries"), f"syn_retries {g['syn_retries']} is outside 0..10")
    if "syn_retry_interval" in g and not 0.05 <= g["syn_retry_interval"] <= 30:
        c.err(("global", "syn_retry_interval"), "syn_retry_interval is outside 0.05..30 s")
    if "punt_rate" in g and not 0 <= g["punt_rate"] <= 10_000_000:
        c.err(("global", "punt_rate"), f"punt_rate {g['punt_rate']} is outside 0..10000000 packets/s")
    if "punt_burst" in g and not 1 <= g["punt_burst"] <= 1_000_000:
        c.err(("global", "punt_burst"), f"punt_burst {g['punt_burst']} is outside 1..1000000 packets")
    for k in ("tcp_timeout", "udp_timeout"):
        if k in g and not 1 <= g[k] <= 86400:
            c.err(("global", k), f"{k} {g[k]} s is outside 1..86400")
    workers = g.get("workers", 1)
    if not 1 <= workers <= MAX_WORKERS or workers & (workers - 1):
        c.err(("global", "workers"), f"workers must be a power of two in 1..{MAX_WORKERS}, not {workers}")
        workers = 1
    msize = g.get("maglev_table_size", 65537)
    if msize < 7 or not _is_prime(msize):
        c.err(("global", "maglev_table_size"), f"maglev_table_size must be a prime >= 7, not {msize}")
    glob = GlobalConfig(**{**g, "workers": workers}, timeouts=TcpTimeouts(**t))

    # Each field is checked on its own (a missing or bad key never hides the
    # checks of the others, nor the cross-checks between entries); an entry is
    # kept only when all of it is good.
    interfaces = []
    ports_seen: dict[int, int] = {}
    for i, it_raw in enumerate(_array(c, top, "interface")):
        p = ("interface", i)
        it = c.table(it_raw, p, {"port": int, "mac": str, "ip": str})
        ok = c.required(it, it_raw, p, ("port", "mac", "ip"))
        if "port" in it:
            if not 0 <= it["port"] < 511 or it["port"] == CPU_PORT:
                c.err(p + ("port",), f"port {it['port']} is not a data port "
                                     f"(0..510, not the CPU port {CPU_PORT})")
                ok = False
            elif it["port"] in ports_seen:
                c.err(p + ("port",), f"port {it['port']} already used by "
                                     f"interface[{ports_seen[it['port']]}]")
                ok = False
            ports_seen.setdefault(it["port"], i)
        if "mac" in it:
            ok &= _mac_ok(c, it["mac"], p + ("mac",))
        ip = c.ipv4(it["ip"], p + ("ip",)) if "ip" in it else None
        if ok and ip:
            interfaces.append(Interface(it["port"], it["mac"].lower(), ip))

    routes = []
    for i, r_raw in enumerate(_array(c, top, "route")):
        p = ("route", i)
        r = c.table(r_raw, p, {"prefix": str, "port": int, "next_hop_mac": str})
        ok = c.required(r, r_raw, p, ("prefix", "port", "next_hop_mac"))
        prefix = None
        if "prefix" in r:
            try:
                prefix = str(ipaddress.IPv4Network(r["prefix"], strict=True))
            except ValueError as e:
                c.err(p + ("prefix",), f"bad prefix '{r['prefix']}': {e}")
                ok = False
        if "port" in r and r["port"] not in ports_seen:
            c.err(p + ("port",), f"port {r['port']} is not a configured interface")
            ok = False
        if "next_hop_mac" in r:
            ok &= _mac_ok(c, r["next_hop_mac"], p + ("next_hop_mac",))
        if ok and prefix:
            routes.append(Route(prefix, r["port"], r["next_hop_mac"].lower()))

    loc_raw = top.get("local", {})
    loc = c.table(loc_raw, ("local",), {"addresses": list, "port_range": list})
    lips = []
    for j, a in enumerate(loc.get("addresses", [])):
        if not isinstance(a, str):
            c.err(("local", "addresses"), f"addresses[{j}] must be a string")
        elif (ip := c.ipv4(a, ("local", "addresses"))) is not None:
            if ip in lips:
                c.err(("local", "addresses"), f"local address {ip} listed twice")
            lips.append(ip)
    port_range = (5000, 65535)
    if "port_range" in loc:
        pr = loc["port_range"]
        if (len(pr) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in pr)
                or not 1024 <= pr[0] <= pr[1] <= 65535):
            c.err(("local", "port_range"), f"port_range must be [low, high] within 1024..65535, not {pr}")
        elif pr[1] - pr[0] + 1 < workers:
            c.err(("local", "port_range"), f"port_range {pr} has fewer ports than workers ({workers})")
        else:
            port_range = (pr[0], pr[1])

    services = []
    names: dict[str, int] = {}
    keys: dict[tuple, int] = {}
    for i, s_raw in enumerate(_array(c, top, "service")):
        p = ("service", i)
        s = c.table(s_raw, p, {"name": str, "vip": str, "port": int, "protocol": str,
                               "scheduler": str, "fullnat": bool, "icmp_echo": bool,
                               "timeout": int, "synproxy": bool, "server": list})
        ok = c.required(s, s_raw, p, ("name", "vip", "port", "protocol"))
        if "name" in s:
            if s["name"] in names:
                c.err(p + ("name",), f"service name '{s['name']}' already used by "
                                     f"service[{names[s['name']]}]")
                ok = False
            names.setdefault(s["name"], i)
        vip = c.ipv4(s["vip"], p + ("vip",)) if "vip" in s else None
        port_ok = "port" in s and c.l4port(s["port"], p + ("port",))
        ok &= vip is not None and port_ok
        proto = s["protocol"].lower() if "protocol" in s else None
        if proto is not None and proto not in PROTOCOLS:
            c.err(p + ("protocol",), f"protocol must be one of {', '.join(PROTOCOLS)}, not '{s['protocol']}'")
            ok = False
            proto = None
        elif proto is not None and proto != "tcp" and s.get("synproxy"):
            c.err(p + ("synproxy",), "synproxy applies to TCP services only")
            ok = False
        sched = s.get("scheduler", "wrr")
        if sched not in SCHEDULERS:
            c.err(p + ("scheduler",), f"scheduler must be one of {', '.join(SCHEDULERS)}, not '{sched}'")
            ok = False
        if "timeout" in s and not 1 <= s["timeout"] <= 86400:
            c.err(p + ("timeout",), f"timeout {s['timeout']} s is outside 1..86400")
            ok = False
        if vip and vip in lips:
            c.err(p + ("vip",), f"VIP {vip} is also a local address")
            ok = False
        if vip and any(it.ip == vip for it in interfaces):
            c.err(p + ("vip",), f"VIP {vip} is also an interface address")
            ok = False
        if vip and port_ok and proto:       # needs only the key, whatever else is wrong
            k = (vip, s["port"], proto)
            if k in keys:
                c.err(p, f"{proto} {vip}:{s['port']} already defined by service[{keys[k]}]")
                ok = False
            keys.setdefault(k, i)
        servers = []
        seen_rs: dict[tuple[str, int], int] = {}
        for j, rs_raw in enumerate(s.get("server", [])):
            rp = p + ("server", j)
            rs = c.table(rs_raw, rp, {"ip": str, "port": int, "weight": int})
            good = c.required(rs, rs_raw, rp, ("ip", "port"))
            ip = c.ipv4(rs["ip"], rp + ("ip",)) if "ip" in rs else None
            rport_ok = "port" in rs and c.l4port(rs["port"], rp + ("port",))
            good &= ip is not None and rport_ok
            w = rs.get("weight", 1)
            if not 0 <= w <= MAX_WEIGHT:
                c.err(rp + ("weight",), f"weight {w} is outside 0..{MAX_WEIGHT}")
                good = False
            if ip is not None and rport_ok:     # duplicates whatever else is wrong
                if (ip, rs["port"]) in seen_rs:
                    c.err(rp, f"real server {ip}:{rs['port']} listed twice "
                              f"(first as server[{seen_rs[(ip, rs['port'])]}])")
                    good = False
                seen_rs.setdefault((ip, rs["port"]), j)
            if good:
                servers.append(RealServer(ip, rs["port"], w))
            ok &= good
        if ok:
            services.append(Service(s["name"], vip, s["port"], proto, sched,
                                    s.get("fullnat", True), s.get("icmp_echo", True),
                                    s.get("timeout"), s.get("synproxy", False), tuple(servers)))
    if _array_len(top, "service") and not lips and not loc.get("addresses"):
        c.err(("local",), "services need at least one local address ([local] addresses)")

    if c.issues:
        c.issues.sort(key=lambda x: (x.line or 0))
        raise ConfigError(source, c.issues)
    return Config(glob, tuple(interfaces), tuple(routes), tuple(lips), port_range, tuple(services))


def validate_service(fields: dict) -> Service:
    """One service from an operator command, checked like the file's."""
    raw = {"local": {"addresses": ["0.0.0.1"]}, "service": [fields]}
    cfg = validate(raw, KeyLocator(""), "command")
    return cfg.services[0]


def load_config(path: str | Path) -> Config:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ConfigError(str(p), [ConfigIssue(None, "", f"cannot read: {e.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        # TOML is UTF-8 by definition: a binary or mis-encoded file is a config error
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(str(p), [ConfigIssue(line, "", f"not UTF-8 text (byte 0x{data[e.start]:02x} "
                                                         f"at offset {e.start}); a TOML file is "
                                                         "UTF-8")]) from None
    return parse_config(text, str(p))


def _array(c: _Checker, top: dict, key: str) -> list:
    v = top.get(key, [])
    if not all(isinstance(x, dict) for x in v):
        c.err((key,), f"'{key}' must be an array of tables ([[{key}]])")
        return []
    return v


def _array_len(top: dict, key: str) -> int:
    v = top.get(key, [])
    return len(v) if isinstance(v, list) else 0


def _mac_ok(c: _Checker, value: str, path: tuple) -> bool:
    try:
        parse_mac(value)
        return True
    except (CodecError, ValueError):
        c.err(path, f"'{value}' is not a MAC address")
        return False


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True
