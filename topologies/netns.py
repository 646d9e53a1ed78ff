"""Linux network namespaces and veth links, created and always removed by us.

Everything a run creates carries a per-run unique prefix (`unique_prefix`), so
two runs (or a crashed earlier run) never collide, and cleanup deletes exactly
what this run made: its namespaces (which takes the veths inside with them)
and any link in the root namespace still carrying the prefix.

`in_netns(name)` switches the *calling thread* into a namespace with setns(2)
(through ctypes: `os.setns` only exists from Python 3.12) and back, so one
process can open AF_PACKET sockets in several namespaces: a socket stays in
the namespace it was created in.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import secrets
import shutil
import subprocess
from typing import Iterator, Sequence

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/var/run/netns"
IFNAMSIZ = 15  # usable characters of a Linux interface name


class NetnsError(Exception):
    """A namespace or link operation that failed; carries the command and
    its stderr."""


def have_root() -> bool:
    return os.geteuid() == 0


def netns_supported() -> tuple[bool, str]:
    """Whether this process can create namespaces and veths, with the reason
    if not (for pytest skips)."""
    if not have_root():
        return False, "needs root"
    if shutil.which("ip") is None:
        return False, "needs iproute2 (`ip`)"
    name = unique_prefix("p4chk")
    try:
        run(["ip", "netns", "add", name])
    except NetnsError as e:
        return False, f"cannot create a network namespace: {e}"
    try:
        run(["ip", "-n", name, "link", "add", "name", "a", "type", "veth", "peer", "name", "b"])
    except NetnsError as e:
        return False, f"cannot create a veth pair: {e}"
    finally:
        run(["ip", "netns", "del", name], check=False)
    return True, ""


def unique_prefix(base: str = "p4") -> str:
    """`base` + 4 random hex digits: short enough to leave room in the
    15-character interface names."""
    return f"{base}{secrets.token_hex(2)}"


def ifname(*parts: str) -> str:
    """Join parts into an interface name of at most 15 characters."""
    name = "".join(parts)
    if len(name) > IFNAMSIZ:
        raise NetnsError(f"interface name {name!r} longer than {IFNAMSIZ} characters")
    return name


def run(cmd: Sequence[str], *, check: bool = True, netns: str | None = None,
        timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run a command (inside `netns` if given), capturing its output."""
    argv = list(cmd)
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise NetnsError(f"{argv[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise NetnsError(f"{' '.join(argv)}: timed out after {timeout} s") from None
    if check and cp.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: exit {cp.returncode}: {cp.stderr.strip()}")
    return cp


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    return libc


def _setns(fd: int) -> None:
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the body with the calling thread in network namespace `name`."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            target = os.open(os.path.join(NETNS_RUN_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise NetnsError(f"network namespace {name!r}: {e.strerror}") from None
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


class NetnsSet:
    """The namespaces and links of one run; `close()` removes them all.

    Use as a context manager so removal happens even when the body fails."""

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix or unique_prefix()
        self.namespaces: list[str] = []

    def ns_name(self, node: str) -> str:
        return f"{self.prefix}-{node}"

    def add_ns(self, node: str) -> str:
        """Create namespace for `node`, with loopback up and IPv6 off (no
        router solicitations or DAD noise on the test links)."""
        name = self.ns_name(node)
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "dev", "lo", "up"])
        for key in ("all", "default"):
            run(["sysctl", "-q", "-w", f"net.ipv6.conf.{key}.disable_ipv6=1"], netns=name, check=False)
        return name

    def add_veth(self, ns_a: str, name_a: str, ns_b: str, name_b: str, *, mtu: int | None = None) -> None:
        """A veth pair with one end in each namespace, both up.  The pair is
        created under prefixed temporary names in the root namespace, moved,
        then renamed, so a leftover is recognisable by its prefix."""
        tmp_a = ifname(self.prefix, "a", secrets.token_hex(2))
        tmp_b = ifname(self.prefix, "b", secrets.token_hex(2))
        run(["ip", "link", "add", "name", tmp_a, "type", "veth", "peer", "name", tmp_b])
        try:
            run(["ip", "link", "set", "dev", tmp_a, "netns", ns_a])
            run(["ip", "link", "set", "dev", tmp_b, "netns", ns_b])
        except NetnsError:
            run(["ip", "link", "del", "dev", tmp_a], check=False)
            raise
        for ns, tmp, final in ((ns_a, tmp_a, name_a), (ns_b, tmp_b, name_b)):
            run(["ip", "-n", ns, "link", "set", "dev", tmp, "name", ifname(final)])
            if mtu is not None:
                run(["ip", "-n", ns, "link", "set", "dev", final, "mtu", str(mtu)])
            run(["ip", "-n", ns, "link", "set", "dev", final, "up"])

    def close(self) -> None:
        """Delete every namespace of this run and any prefixed root link."""
        for name in reversed(self.namespaces):
            run(["ip", "netns", "del", name], check=False)
        self.namespaces.clear()
        cp = run(["ip", "-o", "link", "show"], check=False)
        for line in cp.stdout.splitlines():
            parts = line.split(":", 2)
            if len(parts) >= 2:
                link = parts[1].strip().split("@")[0]
                if link.startswith(self.prefix):
                    run(["ip", "link", "del", "dev", link], check=False)

    def __enter__(self) -> "NetnsSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
