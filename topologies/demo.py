"""Demo: the P4 tutorials' basic exercise on p4sw in network namespaces.

    python -m topologies.demo [--topo pod-topo|triangle-topo] [--out build]

Compiles basic.p4 with p4pc, brings the tutorial topology up (one namespace
per host and switch, veth links, one p4sw process per switch with the
exercise's sN-runtime.json entries), has every host ping every other host,
prints the matrix, and removes everything again.  Exit status 0 only if
every ping got through.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from topologies.build import CompileError, CompilerUnavailable, basic_p4, compile_p4, tutorials_dir
from topologies.graph import TopologyError
from topologies.netns import NetnsError, netns_supported
from topologies.tutorials import load_topology_json


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds through the topology's clean-up


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="basic tutorial on p4sw in network namespaces")
    ap.add_argument("--topo", default="pod-topo", choices=["pod-topo", "triangle-topo"])
    ap.add_argument("--out", default="build", help="where basic.json goes")
    ap.add_argument("--shared", default=None, help="reference tree (default ../shared)")
    ap.add_argument("--program", default=None,
                    help="use this BMv2 JSON of basic.p4 instead of compiling it with p4pc")
    args = ap.parse_args(argv)
    shared = Path(args.shared) if args.shared else None

    ok, why = netns_supported()
    if not ok:
        print(f"demo: cannot run: {why}", file=sys.stderr)
        return 1
    if args.program:
        program = Path(args.program)
    else:
        print(f"demo: compiling {basic_p4(shared)} with p4pc")
        try:
            program, _ = compile_p4(basic_p4(shared), args.out, "basic")
        except CompilerUnavailable as e:
            print(f"demo: {e}; the demo needs it to build basic.json", file=sys.stderr)
            return 1
        except CompileError as e:
            print(f"demo: {e}", file=sys.stderr)
            return 1

    from topologies.runner import NetnsTopology
    topo_file = tutorials_dir(shared) / "basic" / args.topo / "topology.json"
    signal.signal(signal.SIGTERM, _terminate)
    try:
        topo = load_topology_json(str(topo_file), program=str(program))
        print(f"demo: starting {args.topo}: hosts {topo.hosts()}, switches {topo.switches()}")
        with NetnsTopology(topo) as net:
            print(f"demo: namespaces {net.prefix}-*; switch pids "
                  + ", ".join(f"{s}={sp.pid}" for s, sp in net.switches.items()))
            result = net.ping_all()
    except (TopologyError, NetnsError) as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    hosts = topo.hosts()
    print("\nping matrix (row pings column):")
    print("      " + "".join(f"{h:>6}" for h in hosts))
    for a in hosts:
        cells = "".join(f"{'-' if a == b else ('ok' if result[(a, b)] else 'FAIL'):>6}" for b in hosts)
        print(f"{a:>6}{cells}")
    good = sum(result.values())
    print(f"\ndemo: {good}/{len(result)} host pairs reachable; all cleaned up")
    return 0 if good == len(result) else 1


if __name__ == "__main__":
    sys.exit(main())
