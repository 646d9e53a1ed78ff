"""The `p4sw` command (simple_switch_grpc's flags where they mean the same)
and `p4sw-cli`, a line client for a running switch's runtime CLI socket.

    p4sw build/basic.json -i 1@veth1 -i 2@veth2 --thrift-port 9090 \\
         --cli-commands s1-commands.txt
    echo "table_add MyIngress.ipv4_lpm MyIngress.drop 10.0.9.9/32 =>" | p4sw-cli --thrift-port 9090

Runtime CLI socket protocol (loopback TCP, port = ``--thrift-port``): the
client sends one simple_switch_CLI command per line; for each line the server
answers with the command's output lines followed by one status line, ``%ok``
or ``%error <message>``.  Output lines that begin with ``%`` are sent with an
extra ``%`` in front.  Blank and ``#`` lines get a bare ``%ok``.  Commands run
in the packet loop's thread, between packet batches, so the switch needs no
locks.

`load_new_config_file PATH` followed by `swap_configs` replaces the program
(all table state is lost), as with simple_switch_CLI.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
from typing import Callable, Sequence

from p4switch.errors import JsonLoadError, SwitchError
from p4switch.ports import (
    CpuPort, InterfaceSpec, PacketLoop, Port, PortError, open_port,
)

log = logging.getLogger("p4sw")

DEFAULT_THRIFT_PORT = 9090
EXIT_USAGE = 2

LOG_LEVELS = {
    "trace": 5, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
    "error": logging.ERROR, "critical": logging.CRITICAL, "off": logging.CRITICAL + 10,
}


class CliError(Exception):
    """A start-up problem reported as ``p4sw: error: ...`` with exit status 2."""


# ---------------------------------------------------------------------------
# arguments

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="p4sw",
        description="Software P4 switch executing BMv2 JSON with simple_switch semantics.",
        epilog="simple_switch_grpc's target options may also follow a `--`.  "
               "Exit status: 0 after a clean stop (SIGTERM/SIGINT), 2 on a bad argument or "
               "a start-up error (printed as one `p4sw: error:` line).")
    p.add_argument("json", nargs="?", help="BMv2 JSON file of the P4 program")
    p.add_argument("-i", "--interface", action="append", default=[], metavar="PORT@IFACE",
                   help="attach interface IFACE (or, with --use-files, pcap file stem) as PORT; repeatable")
    p.add_argument("--device-id", type=int, default=0, help="device id (default 0)")
    p.add_argument("--cpu-port", type=int, default=None,
                   help="port number of the CPU port (PacketIn/PacketOut)")
    p.add_argument("--drop-port", type=int, default=511, help="drop port (default 511)")
    p.add_argument("--use-files", nargs="?", type=int, const=0, default=None, metavar="WAIT",
                   help="read PORT@X from X_in.pcap, write X_out.pcap; start after WAIT s")
    p.add_argument("--pcap", nargs="?", const=".", default=None, metavar="DIR",
                   help="also record every interface in DIR/<iface>_{in,out}.pcap (default .)")
    p.add_argument("--log-console", action="store_true", help="log to stderr")
    p.add_argument("--log-file", metavar="FILE", help="log to FILE")
    p.add_argument("--log-level", choices=list(LOG_LEVELS), default=None,
                   help="log level (default info with --log-console/--log-file, else warn)")
    p.add_argument("--no-p4", action="store_true",
                   help="start without a program (load one with load_new_config_file/swap_configs)")
    p.add_argument("--thrift-port", type=int, default=None,
                   help=f"loopback TCP port of the runtime CLI socket "
                        f"(default {DEFAULT_THRIFT_PORT}; 0: any free port)")
    p.add_argument("--grpc-server-addr", default=None, metavar="ADDR",
                   help="serve P4Runtime on ADDR, e.g. 127.0.0.1:9559 (loopback; port 0: any free port)")
    p.add_argument("--dump-packet-data", type=int, default=0, metavar="N",
                   help="log the first N bytes of each packet received and sent")
    p.add_argument("--cli-commands", metavar="FILE",
                   help="simple_switch_CLI commands to apply before serving packets")
    p.add_argument("--ready-file", metavar="FILE",
                   help="write 'PID THRIFT_PORT' to FILE once serving (for scripts)")
    p.add_argument("--exit-when-done", action="store_true",
                   help="with --use-files: exit once every input file has been processed")
    p.add_argument("--max-frame", type=int, default=16384, help="largest frame accepted (bytes)")
    p.add_argument("--no-packet-ring", action="store_true",
                   help="receive with one recvmsg per frame instead of a TPACKET_V3 ring")
    p.add_argument("--batch", type=int, default=64, help="frames read per port per round")
    p.add_argument("--max-port-count", type=int, default=512, help="accepted for compatibility")
    p.add_argument("-v", "--version", action="version", version=f"p4sw {_version()}")
    return p


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("p4lvs")
    except Exception:  # not installed: running from a checkout
        return "0+checkout"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    argv = list(argv)
    if "--" in argv:  # simple_switch_grpc: target options after `--`
        argv.remove("--")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.json is None and not args.no_p4:
        parser.error("a JSON file is required (or --no-p4)")
    if args.json is not None and args.no_p4:
        print("Warning: ignoring input config as '--no-p4' was used", file=sys.stderr)
        args.json = None
    if args.log_console and args.log_file:
        parser.error("--log-console and --log-file are exclusive")
    if args.pcap is not None and not os.path.isdir(args.pcap):
        parser.error(f"directory {args.pcap!r} given with --pcap does not exist")
    if args.use_files is not None and args.use_files < 0:
        args.use_files = 0
    if args.exit_when_done and args.use_files is None:
        parser.error("--exit-when-done needs --use-files")
    problem = _check_numbers(args)
    if problem:
        parser.error(problem)
    try:
        args.interfaces = [InterfaceSpec.parse(t) for t in args.interface]
    except PortError as e:
        parser.error(str(e))
    seen: set[int] = set()
    for spec in args.interfaces:
        if spec.port in seen or spec.port == args.cpu_port:
            parser.error(f"port {spec.port} given twice")
        seen.add(spec.port)
    return args


#: largest --max-frame: an IPv4/IPv6 datagram plus an Ethernet header and two VLAN tags
MAX_FRAME_LIMIT = 65535 + 22


def _check_numbers(args: argparse.Namespace) -> str | None:
    """The first out-of-range numeric option, as a message (None: all fine).

    Checked before anything is opened: argparse only knows they are ints, and
    an out-of-range value otherwise fails deep inside socket or gRPC code (or
    silently: gRPC wraps port 99999 to 34463)."""
    if args.thrift_port is not None and not 0 <= args.thrift_port <= 65535:
        return f"--thrift-port {args.thrift_port}: not a TCP port (0..65535)"
    if args.device_id < 0 or args.device_id >= 1 << 64:
        return f"--device-id {args.device_id}: must be in 0..2^64-1"
    if args.drop_port < 0 or args.drop_port >= 1 << 32:
        return f"--drop-port {args.drop_port}: must be in 0..2^32-1"
    if args.cpu_port is not None:
        if args.cpu_port < 0 or args.cpu_port >= 1 << 32:
            return f"--cpu-port {args.cpu_port}: must be in 0..2^32-1"
        if args.cpu_port == args.drop_port:
            return f"--cpu-port {args.cpu_port} is also the drop port"
    if args.batch < 1:
        return f"--batch {args.batch}: must be at least 1"
    if not 1 <= args.max_frame <= MAX_FRAME_LIMIT:
        return f"--max-frame {args.max_frame}: must be in 1..{MAX_FRAME_LIMIT}"
    if args.dump_packet_data < 0:
        return f"--dump-packet-data {args.dump_packet_data}: must be 0 or more"
    if args.grpc_server_addr is not None:
        return _check_grpc_addr(args.grpc_server_addr)
    return None


def _check_grpc_addr(addr: str) -> str | None:
    """``PORT``, ``HOST:PORT``, ``[V6]:PORT`` with PORT in 0..65535, or ``unix:PATH``."""
    a = addr.strip()
    if a.startswith("unix:"):
        return None if len(a) > len("unix:") else f"--grpc-server-addr {addr!r}: no socket path"
    host, sep, port = a.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", a
    if not host:
        return f"--grpc-server-addr {addr!r}: no host (e.g. 127.0.0.1:9559)"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        return (f"--grpc-server-addr {addr!r}: {port!r} is not a TCP port (0..65535); "
                f"expected HOST:PORT, PORT or unix:PATH")
    return None


def setup_logging(args: argparse.Namespace) -> None:
    root = logging.getLogger("p4sw")
    root.handlers.clear()
    root.propagate = False
    logging.addLevelName(5, "TRACE")
    fmt = logging.Formatter("[%(asctime)s] [%(name)s] [%(levelname)s] %(message)s")
    handlers: list[logging.Handler] = []
    if args.log_console:
        handlers.append(logging.StreamHandler(sys.stderr))
    if args.log_file:
        try:
            handlers.append(logging.FileHandler(args.log_file))
        except OSError as e:
            raise CliError(f"cannot open log file {args.log_file}: {e.strerror}") from None
    if handlers:
        level = LOG_LEVELS[args.log_level or "info"]
    else:  # warnings still reach the user
        handlers.append(logging.StreamHandler(sys.stderr))
        level = LOG_LEVELS[args.log_level] if args.log_level else logging.WARNING
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(level)


# ---------------------------------------------------------------------------
# the switch behind the loop (replaceable by swap_configs)

def load_switch(json_bytes: bytes, source: str, args: argparse.Namespace):
    """Switch.from_json with the loader's error turned into a CliError."""
    try:
        from p4switch.switch import Switch
    except ImportError as e:
        raise CliError(f"the switch engine is not available: {e}") from None
    try:
        # log_msg() output and per-packet faults, shown with --log-console/--log-file
        return Switch.from_json(json_bytes, drop_port=args.drop_port, cpu_port=args.cpu_port,
                                log=logging.getLogger("p4sw.switch").info)
    except JsonLoadError as e:
        raise CliError(f"{source}: {e}{not_bmv2_hint(json_bytes)}") from None
    except (SwitchError, ValueError) as e:
        raise CliError(f"{source}: {e}{not_bmv2_hint(json_bytes)}") from None
    except RecursionError:
        raise CliError(f"{source}: nested too deeply") from None
    except Exception as e:  # a loader bug on odd input: still a message, not a traceback
        raise CliError(f"{source}: cannot load: {type(e).__name__}: {e}") from None


def not_bmv2_hint(data: bytes) -> str:
    """When a program fails to load, say which other kind of file it looks like
    (a P4Info, a tutorials runtime file, P4 source): the loader's own message
    ("no standard_metadata.egress_spec field") does not tell the user that they
    passed the wrong file.  Returns "" or a parenthesised hint to append."""
    head = data[:4096].lstrip()
    if head.startswith((b"pkg_info", b"tables {", b"actions {")) or b"preamble {" in head:
        return " (this looks like a text P4Info, not BMv2 JSON: pass the JSON p4pc writes with -o)"
    if head.startswith((b"#include", b"/*", b"//")) or b"control " in head[:2048]:
        return " (this looks like P4 source: compile it with p4pc first)"
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        return ""
    return bmv2_doc_hint(obj)


def bmv2_doc_hint(obj: object) -> str:
    """`not_bmv2_hint` for an already parsed JSON document."""
    if not isinstance(obj, dict):
        return ""
    if "pkgInfo" in obj or "pkg_info" in obj or (
            isinstance(obj.get("tables"), list) and obj["tables"]
            and isinstance(obj["tables"][0], dict) and "preamble" in obj["tables"][0]):
        return " (this looks like a P4Info in JSON, not BMv2 JSON: pass the JSON p4pc writes with -o)"
    if "table_entries" in obj or "bmv2_json" in obj:
        return " (this looks like a tutorials runtime file, not BMv2 JSON)"
    return ""


def read_json_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None


@dataclasses.dataclass
class Dataplane:
    """What the loop calls: the current switch and its runtime API.  A
    config swap replaces both at once between two packets."""

    args: argparse.Namespace
    switch: object | None = None
    api: object | None = None
    staged: object | None = None   # loaded by load_new_config_file, not yet swapped in
    dropped_no_program: int = 0
    loop: PacketLoop | None = None  # set by serve(): show_ports reads its ports' counters

    def install(self, switch) -> None:
        self.switch = switch
        self.api = make_runtime_api(switch)

    def show_ports(self) -> str:
        """simple_switch_CLI's ``show_ports``; the "extra info" column carries
        the port's counters, so frames the port dropped before the program saw
        them (empty, oversized, malformed) are visible in a running switch, and
        a last line gives the loop's own counters."""
        if self.loop is None:
            return "port # | iface name | status | extra info"
        rows = ["port # | iface name | status | extra info"]
        for num in sorted(self.loop.ports):
            port = self.loop.ports[num]
            rows.append(f"{num:<6} | {port.name:<10} | UP     | {format_port_stats(port.stats)}")
        st = self.loop.stats
        rows.append(f"# loop: processed {st.processed}, emitted {st.emitted}, "
                    f"to no port {st.no_port}, errors {st.errors}, "
                    f"no program {self.dropped_no_program}")
        return "\n".join(rows)

    def process(self, port: int, data: bytes) -> list[tuple[int, bytes]]:
        sw = self.switch
        if sw is None:
            self.dropped_no_program += 1
            return []
        return sw.process_packet(port, data)

    def run_command(self, line: str) -> str:
        """One simple_switch_CLI command; raises SwitchError/CliError on failure."""
        words = line.split()
        if words[0] == "load_new_config_file":
            if len(words) != 2:
                raise CliError("usage: load_new_config_file <path>")
            self.staged = load_switch(read_json_file(words[1]), words[1], self.args)
            return ""
        if words[0] == "show_ports":
            return self.show_ports()
        if words[0] == "swap_configs":
            if self.staged is None:
                raise CliError("no new config loaded (use load_new_config_file first)")
            self.install(self.staged)
            self.staged = None
            return ""
        if self.api is None:
            raise CliError("no P4 program loaded")
        out = self.api.run_command(line)
        return "" if out is None else str(out)


def format_port_stats(st) -> str:
    """One port's counters as ``name=value`` words (drop counters only when non-zero)."""
    words = [f"rx={st.rx_packets}", f"tx={st.tx_packets}"]
    for name in ("rx_empty", "rx_oversized", "rx_malformed", "tx_errors", "tx_dropped"):
        v = getattr(st, name, 0)
        if v:
            words.append(f"{name}={v}")
    return " ".join(words)


def make_runtime_api(switch):
    try:
        from p4switch.runtime_api import RuntimeApi
    except ImportError:
        log.warning("runtime API not available: runtime commands will be refused")
        return None
    return RuntimeApi(switch)


def apply_command_file(dp: Dataplane, path: str) -> int:
    """Apply a simple_switch_CLI command file; the first failing line is fatal."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not a text file") from None
    n = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            out = dp.run_command(line)
        except (SwitchError, CliError) as e:
            raise CliError(f"{path}:{lineno}: {line}: {e}") from None
        except Exception as e:  # a bug in the API must not leave a half-configured switch serving
            raise CliError(f"{path}:{lineno}: {line}: {type(e).__name__}: {e}") from None
        if out:
            log.info("%s:%d: %s", path, lineno, out.rstrip())
        n += 1
    return n


# ---------------------------------------------------------------------------
# runtime CLI socket

class ControlServer:
    """Line-based runtime CLI on loopback, served from the packet loop."""

    def __init__(self, loop: PacketLoop, run: Callable[[str], str], port: int,
                 host: str = "127.0.0.1"):
        self.loop = loop
        self.run = run
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.clients: dict[socket.socket, bytearray] = {}
        loop.add_reader(self.sock, self._accept)

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.settimeout(5.0)  # bounded sends; reads happen only when readable
        self.clients[conn] = bytearray()
        self.loop.add_reader(conn, lambda c=conn: self._read(c))

    def _drop(self, conn: socket.socket) -> None:
        self.loop.remove_reader(conn)
        self.clients.pop(conn, None)
        conn.close()

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError, socket.timeout):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:
            self._drop(conn)
            return
        buf = self.clients[conn]
        buf += data
        if len(buf) > 1 << 20 and b"\n" not in buf:
            self._drop(conn)  # a line longer than 1 MiB is not a command
            return
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            reply = self.handle(line.decode("utf-8", "replace").strip())
            try:
                conn.sendall(reply.encode())
            except OSError:
                self._drop(conn)
                return

    def handle(self, line: str) -> str:
        if not line or line.startswith("#"):
            return "%ok\n"
        try:
            out = self.run(line)
            status = "%ok"
        except (SwitchError, CliError) as e:
            out, status = "", f"%error {e}"
        except Exception as e:  # report, keep serving; the traceback only at debug level
            log.error("runtime command failed: %s: %s: %s", line, type(e).__name__, e,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            out, status = "", f"%error {type(e).__name__}: {e}"
        body = "".join(("%" + l if l.startswith("%") else l) + "\n"
                       for l in out.splitlines())
        return body + status.replace("\n", " ") + "\n"

    def close(self) -> None:
        for conn in list(self.clients):
            self._drop(conn)
        self.loop.remove_reader(self.sock)
        self.sock.close()


# ---------------------------------------------------------------------------
# main

def open_ports(args: argparse.Namespace) -> list[Port]:
    ports: list[Port] = []
    try:
        for spec in args.interfaces:
            ports.append(open_port(spec, use_files=args.use_files is not None,
                                   pcap_dir=args.pcap, max_frame=args.max_frame,
                                   ring=not args.no_packet_ring))
            print(f"Adding interface {spec.iface} as port {spec.port}"
                  f"{' (files)' if args.use_files is not None else ''}", flush=True)
    except PortError as e:
        for p in ports:
            p.close()
        raise CliError(str(e)) from None
    if args.cpu_port is not None:
        ports.append(CpuPort(args.cpu_port))
    return ports


def serve(args: argparse.Namespace) -> int:
    dp = Dataplane(args)
    if not args.no_p4:
        dp.install(load_switch(read_json_file(args.json), args.json, args))
    if args.cli_commands:
        n = apply_command_file(dp, args.cli_commands)
        log.info("applied %d commands from %s", n, args.cli_commands)

    process = dp.process
    if args.dump_packet_data > 0:
        process = _dumping(process, args.dump_packet_data)
    ports = open_ports(args)
    loop = PacketLoop(process, ports, batch=args.batch,
                      file_wait=float(args.use_files or 0))
    dp.loop = loop
    server = None
    p4rt = None
    try:
        if args.grpc_server_addr is not None:  # P4Runtime (p4switch/p4runtime)
            from p4switch.p4runtime.glue import start_grpc
            p4rt = start_grpc(args, dp, loop, load_switch)
        port = DEFAULT_THRIFT_PORT if args.thrift_port is None else args.thrift_port
        try:
            server = ControlServer(loop, dp.run_command, port)
            print(f"Runtime CLI server listening on 127.0.0.1:{server.port}", flush=True)
        except OverflowError:  # parse_args checks the range; a caller of serve() may not
            raise CliError(f"--thrift-port {port}: not a TCP port (0..65535)") from None
        except OSError as e:
            if args.thrift_port is not None:
                raise CliError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
            log.warning("runtime CLI socket disabled: 127.0.0.1:%d: %s", port, e.strerror)

        def on_signal(signum, _frame):
            loop.stop()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if args.ready_file:
            _write_ready(args.ready_file, server.port if server else 0)
        until = (lambda: loop.files_done) if args.exit_when_done else None
        loop.run(until=until)
    finally:
        if p4rt is not None:
            p4rt.stop()
        if server is not None:
            server.close()
        st = loop.stats
        log.info("processed %d frames, emitted %d, to no port %d, errors %d",
                 st.processed, st.emitted, st.no_port, st.errors)
        for num in sorted(loop.ports):
            log.info("port %d (%s): %s", num, loop.ports[num].name,
                     format_port_stats(loop.ports[num].stats))
        loop.close()
    return 0


def _dumping(process, n: int):
    def wrapped(port: int, data: bytes):
        log.info("Received packet of length %d on port %d: %s", len(data), port, data[:n].hex())
        out = process(port, data)
        for egress, pkt in out:
            log.info("Sending packet of length %d on port %d: %s", len(pkt), egress, pkt[:n].hex())
        return out
    return wrapped


def _write_ready(path: str, port: int) -> None:
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()} {port}\n")
        os.replace(tmp, path)
    except OSError as e:
        raise CliError(f"cannot write --ready-file {path}: {e.strerror}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        setup_logging(args)
        return serve(args)
    except CliError as e:
        print(f"p4sw: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0


# ---------------------------------------------------------------------------
# p4sw-cli

class CliClient:
    """Client side of the runtime CLI socket."""

    def __init__(self, port: int = DEFAULT_THRIFT_PORT, host: str = "127.0.0.1",
                 timeout: float = 30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._rfile = self.sock.makefile("r", encoding="utf-8", newline="\n")

    def command(self, line: str) -> tuple[bool, str]:
        """Send one command; return (ok, output or error message)."""
        self.sock.sendall((line.replace("\n", " ") + "\n").encode())
        out: list[str] = []
        while True:
            reply = self._rfile.readline()
            if not reply:
                raise ConnectionError("switch closed the connection")
            reply = reply.rstrip("\n")
            if reply == "%ok":
                return True, "\n".join(out)
            if reply.startswith("%error"):
                return False, reply[len("%error"):].strip()
            out.append(reply[1:] if reply.startswith("%%") else reply)

    def close(self) -> None:
        self._rfile.close()
        self.sock.close()

    def __enter__(self) -> "CliClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def client_main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="p4sw-cli",
        description="Send simple_switch_CLI commands to a running p4sw "
                    "(from -c, a file, or standard input).",
        epilog="Exit status: 0 if every command succeeded; 1 if one failed (each failure "
               "printed as `Error: <command>: <reason>`), the file could not be read or the "
               "switch could not be reached; 2 on a bad argument.")
    p.add_argument("--thrift-port", type=int, default=DEFAULT_THRIFT_PORT)
    p.add_argument("--thrift-ip", default="127.0.0.1")
    p.add_argument("-c", "--command", action="append", default=[], help="command to run (repeatable)")
    p.add_argument("file", nargs="?", help="command file (default: standard input)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 < args.thrift_port <= 65535:
        p.error(f"--thrift-port {args.thrift_port}: not a TCP port (1..65535)")
    # read the commands first: a bad file is reported without touching the switch
    try:
        if args.command:
            lines = args.command
        elif args.file:
            with open(args.file, encoding="utf-8") as f:
                lines = f.read().splitlines()
        else:
            # bytes, decoded strictly: under a C locale stdin would smuggle undecodable
            # bytes through as surrogates, which then fail to encode on the socket
            lines = (sys.stdin.buffer.read().decode("utf-8").splitlines()
                     if not sys.stdin.isatty() else None)
    except OSError as e:
        print(f"p4sw-cli: cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"p4sw-cli: {args.file or 'standard input'}: not a text file", file=sys.stderr)
        return 1
    try:
        client = CliClient(args.thrift_port, args.thrift_ip)
    except OSError as e:
        print(f"p4sw-cli: cannot connect to {args.thrift_ip}:{args.thrift_port}: "
              f"{e.strerror or e}", file=sys.stderr)
        return 1
    failed = 0
    with client:
        try:
            if lines is None:  # interactive
                while True:
                    try:
                        line = input("RuntimeCmd: ")
                    except EOFError:
                        break
                    failed += _client_run(client, line)
            else:
                for line in lines:
                    failed += _client_run(client, line)
        except (OSError, ConnectionError) as e:
            print(f"p4sw-cli: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
    return 1 if failed else 0


def _client_run(client: CliClient, line: str) -> int:
    line = line.strip()
    if not line or line.startswith("#"):
        return 0
    ok, text = client.command(line)
    if ok:
        if text:
            print(text)
        return 0
    print(f"Error: {line}: {text}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
