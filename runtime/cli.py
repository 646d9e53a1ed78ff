"""The `p4lvs` command: the daemon and the operator commands (ipvsadm-like).

    p4lvs run -c lb.toml --switch 127.0.0.1:9559      # the daemon
    p4lvs check -c lb.toml                            # validate only
    p4lvs list [--json]                               # ipvsadm -Ln --stats
    p4lvs add-server web 10.0.2.13:8080 -w 2          # ipvsadm -a -t VIP:80 -r ... -w 2
    p4lvs set-weight web 10.0.2.13:8080 0             # ipvsadm -e ... -w 0 (drain)
    p4lvs del-server web 10.0.2.13:8080               # ipvsadm -d
    p4lvs add-service web2 --vip 10.0.0.100 --port 8080 [--protocol tcp] [--scheduler maglev]
    p4lvs del-service web2
    p4lvs sessions [--json]                           # ipvsadm -Lnc

Operator commands talk to the running daemon over its unix control socket
(--socket, default $P4LVS_SOCKET or /run/p4lvs/p4lvs.sock).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import sys
import threading

DEFAULT_SOCKET = os.environ.get("P4LVS_SOCKET", "/run/p4lvs/p4lvs.sock")


def _endpoint(text: str) -> tuple[str, int]:
    addr, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not IP:PORT")
    return addr, int(port)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="p4lvs", description="LVS-style FULLNAT load balancer "
                                 "controller for lvs.p4 (P4Runtime)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--socket", default=DEFAULT_SOCKET, help="the daemon's control socket")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def cmd(name: str, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)
    r = cmd("run", help="run the daemon")
    r.add_argument("-c", "--config", required=True)
    r.add_argument("--switch", action="append", metavar="ADDR[/DEVICE_ID]",
                   help="P4Runtime server (default 127.0.0.1:9559, device 0); repeat for a group "
                        "of switches sharing every session")
    r.add_argument("--election-id", type=int, default=1)
    r.add_argument("--build-dir", default="build", help="where lvs.json and its P4Info go")
    r.add_argument("--json", dest="bmv2_json", help="use this BMv2 JSON (with --p4info) "
                   "instead of compiling p4src/lvs.p4")
    r.add_argument("--p4info")
    r.add_argument("--no-push", action="store_true",
                   help="the switch already runs lvs.p4: do not push the pipeline, take over "
                        "its sessions (daemon restart without losing connections)")
    r.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    c = cmd("check", help="validate a configuration file")
    c.add_argument("-c", "--config", required=True)
    for name in ("list", "sessions"):
        p = cmd(name, help=f"show {name} (with counters)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
    p = cmd("add-service")
    p.add_argument("name")
    p.add_argument("--vip", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--protocol", default="tcp", choices=["tcp", "udp"])
    p.add_argument("--scheduler", default="wrr", choices=["wrr", "maglev"])
    p = cmd("del-service")
    p.add_argument("name")
    for name in ("add-server", "set-weight"):
        p = cmd(name)
        p.add_argument("service")
        p.add_argument("server", type=_endpoint, help="IP:PORT")
        if name == "add-server":
            p.add_argument("-w", "--weight", type=int, default=1)
        else:
            p.add_argument("weight", type=int)
    p = cmd("del-server")
    p.add_argument("service")
    p.add_argument("server", type=_endpoint, help="IP:PORT")
    p.add_argument("--flush", action="store_true", help="also drop its open sessions")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from runtime.config import ConfigError, load_config
    from runtime.daemon import CommandError, request
    try:
        if args.cmd == "check":
            cfg = load_config(args.config)
            print(f"{args.config}: ok: {len(cfg.services)} service(s), "
                  f"{sum(len(s.servers) for s in cfg.services)} real server(s)")
            return 0
        if args.cmd == "run":
            return run_daemon(args)
        req = _request_of(args)
        resp = request(args.socket, req)
        if "error" in resp:
            print(f"p4lvs: {resp['error']}", file=sys.stderr)
            return 1
        if getattr(args, "json", False):
            print(json.dumps(resp, indent=2))
        elif args.cmd == "list":
            print_list(resp)
        elif args.cmd == "sessions":
            print_sessions(resp)
        else:
            print(resp.get("ok", "ok"))
        return 0
    except ConfigError as e:
        print(f"p4lvs: invalid configuration:\n{e}", file=sys.stderr)
        return 2
    except CommandError as e:
        print(f"p4lvs: {e}", file=sys.stderr)
        return 1


def _request_of(args) -> dict:
    if args.cmd in ("list", "sessions"):
        return {"cmd": args.cmd}
    if args.cmd == "add-service":
        return {"cmd": "add-service", "name": args.name, "vip": args.vip, "port": args.port,
                "protocol": args.protocol, "scheduler": args.scheduler}
    if args.cmd == "del-service":
        return {"cmd": "del-service", "name": args.name}
    ip, port = args.server
    req = {"cmd": args.cmd, "service": args.service, "ip": ip, "port": port}
    if args.cmd in ("add-server", "set-weight"):
        req["weight"] = args.weight
    if args.cmd == "del-server":
        req["flush"] = args.flush
    return req


def run_daemon(args) -> int:
    from runtime.artifacts import BuildError, compile_lvs
    from runtime.config import load_config
    from runtime.daemon import Controller, ControlServer, socket_path_problem
    from runtime.p4rt import P4RuntimeClient, P4RuntimeClientError
    from runtime.requirements import P4InfoMismatchError, check_p4info_file
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s p4lvs %(levelname)s %(message)s")
    log = logging.getLogger("p4lvs")
    cfg = load_config(args.config)                      # everything validated before any write
    problem = socket_path_problem(args.socket)
    if problem:
        print(f"p4lvs: {problem}", file=sys.stderr)
        return 2
    try:
        if args.bmv2_json:
            if not args.p4info:
                print("p4lvs: --json needs --p4info", file=sys.stderr)
                return 2
            json_path, p4info_path = args.bmv2_json, args.p4info
            if not args.no_push and not os.path.isfile(json_path):
                print(f"p4lvs: --json {json_path}: no such file", file=sys.stderr)
                return 2
        else:
            art = compile_lvs(args.build_dir)
            json_path, p4info_path = art.json, art.p4info
        # before connecting: a P4Info of another program writes nothing anywhere
        check_p4info_file(p4info_path)
        events: queue.Queue = queue.Queue()
        clients = []
        for sw in args.switch or ["127.0.0.1:9559"]:
            # ADDR[/DEVICE_ID]; ADDR may be unix:/abs/path, so only a trailing /N is the device id
            addr, sep, dev = sw.rpartition("/")
            if not (sep and dev.isdigit()):
                if "/" in sw and not sw.startswith("unix:"):
                    print(f"p4lvs: --switch {sw}: the device id must be a number", file=sys.stderr)
                    return 2
                addr, dev = sw, "0"
            client = P4RuntimeClient(addr, int(dev), (0, args.election_id), events=events)
            clients.append(client)
            client.connect()
            if args.no_push:
                client.use_p4info(p4info_path)
            else:
                client.set_pipeline(json_path, p4info_path)
        ctl = Controller(cfg, clients)
        ctl.install()
        if args.no_push:
            log.info("%s", ctl.adopt())
    except (BuildError, P4RuntimeClientError, P4InfoMismatchError) as e:
        print(f"p4lvs: {e}", file=sys.stderr)
        return 1
    server = ControlServer(args.socket, ctl)
    threading.Thread(target=server.serve_forever, name="control", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: ctl.stop())
    signal.signal(signal.SIGINT, lambda *_: ctl.stop())
    log.info("serving %d service(s) on %s; control socket %s", len(cfg.services),
             ", ".join(c.addr for c in clients), args.socket)
    try:
        ctl.run()
    finally:
        server.close()
        for c in clients:
            c.close()
    if ctl.stream_lost:
        print("p4lvs: the switch closed the P4Runtime stream", file=sys.stderr)
        return 1
    return 0


def print_list(resp: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title="virtual services")
    for col in ("service", "real server", "weight", "sched", "active", "packets", "bytes"):
        t.add_column(col, no_wrap=True,
                     justify="right" if col in ("weight", "active", "packets", "bytes") else "left")
    for s in resp["services"]:
        t.add_row(f"{s['protocol'].upper()} {s['vip']}:{s['port']} ({s['name']})", "", "",
                  s["scheduler"], "", str(s["packets"]), str(s["bytes"]))
        for rs in s["servers"]:
            t.add_row("", f"-> {rs['ip']}:{rs['port']}", str(rs["weight"]), "", str(rs["active"]),
                      str(rs["packets"]), str(rs["bytes"]))
    con = Console(width=max(Console().width, 110))
    con.print(t)
    if resp.get("drops"):
        d = Table(title="drops by reason")
        d.add_column("reason")
        d.add_column("packets", justify="right")
        for k, v in resp["drops"].items():
            d.add_row(k, str(v["packets"]))
        con.print(d)
    if resp.get("synproxy"):
        con.print("synproxy (data plane): " +
                  ", ".join(f"{k} {v}" for k, v in resp["synproxy"].items()))
    if resp.get("tcp_states"):
        con.print("TCP states: " + ", ".join(f"{k} {v}" for k, v in resp["tcp_states"].items()))
    c = resp.get("controller", {})
    con.print(f"sessions {resp.get('sessions', 0)}; controller: " +
              ", ".join(f"{k} {v}" for k, v in c.items()))


def print_sessions(resp: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    t = Table(title="sessions")
    for col in ("service", "proto", "client", "local", "server", "partition", "state"):
        t.add_column(col)
    for s in resp["sessions"]:
        t.add_row(s["service"], {6: "tcp", 17: "udp"}.get(s["protocol"], str(s["protocol"])),
                  s["client"], s["local"], s["server"], str(s["partition"]),
                  s.get("state", "") + (" (synproxy)" if s.get("synproxy") else ""))
    Console().print(t)


if __name__ == "__main__":
    sys.exit(main())
