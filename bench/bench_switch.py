"""How fast is p4sw?  Packets per second for the tutorials' basic program:

1. in-process: `Switch.process_packet` in a loop, no I/O, one core;
2. the same packet through a hand-specialised Python function written for
   basic.p4 only -- the in-run baseline (the ceiling for pure Python);
3. over veth: a p4sw process with AF_PACKET ports in a network-namespace
   topology, fed from a raw socket in one host, counted in the other (root);
4. time per packet by stage (parser, ingress, egress, checksum update,
   deparser, the rest), measured by wrapping the engine's stage functions
   (cProfile of the unfused general path: the fused function inlines them);
5. the general path alone (`Engine.process_packet`, not the fused function);
6. over veth also the switch process's own CPU time per forwarded frame (on
   a shared 2-core machine the rate mostly says how much CPU the switch got)
   and the I/O floor: one AF_PACKET send() + recv() over a veth pair, no
   switch.

Reference figures named by the issue: C++ BMv2 (simple_switch) does about
100,000 packets/s in-process; the hand-specialised function ~565k pkt/s here.

    python bench/bench_switch.py                       # compiles basic.p4 with p4pc
    python bench/bench_switch.py --json prog.json --packet HEX [--port N] [--commands FILE]

Until p4pc can compile basic.p4, use the second form with any BMv2 JSON.
"""
from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BMV2_CPP_PPS = 100_000          # C++ simple_switch, in-process (from the issue)
HAND_SPECIALISED_PPS = 565_000  # the hand-specialised function, as measured for the issue

# h1 -> h2 in the pod topology: Ethernet to s1, IPv4 10.0.1.1 -> 10.0.2.2, ICMP-sized payload
BASIC_PACKET = bytes.fromhex(
    "080000000100" "080000000111" "0800"
    "4500003c1c4640004001" "0000" "0a000101" "0a000202") + bytes(range(40))
BASIC_PORT = 1


# ---------------------------------------------------------------------------
# the hand-specialised baseline

def make_basic_fast(routes: list[tuple[int, int, bytes, int]]):
    """basic.p4 written by hand for this one program: parse Ethernet/IPv4,
    LPM on dstAddr (per-prefix-length dicts, longest first), ipv4_forward,
    recompute the header checksum, emit.  routes: (prefix, len, mac, port).
    Non-IPv4 frames leave on port 0 unchanged (egress_spec stays 0); a miss
    is dropped (default action drop)."""
    by_len: dict[int, dict[int, tuple[bytes, int]]] = defaultdict(dict)
    for prefix, plen, mac, port in routes:
        m = ((1 << plen) - 1) << (32 - plen) if plen else 0
        by_len[plen][prefix & m] = (mac, port)
    lens = [(l, ((1 << l) - 1) << (32 - l) if l else 0, by_len[l]) for l in sorted(by_len, reverse=True)]
    unpack = struct.Struct("!10H").unpack_from
    from_bytes = int.from_bytes

    def process(port: int, data: bytes) -> list[tuple[int, bytes]]:
        if len(data) < 34 or data[12] != 8 or data[13] != 0:
            return [(0, data)]
        dst = from_bytes(data[30:34], "big")
        for _, m, table in lens:
            hit = table.get(dst & m)
            if hit is not None:
                break
        else:
            return []
        mac, eport = hit
        ttl = (data[22] - 1) & 0xFF
        hdr = bytearray(data[14:34])
        hdr[8] = ttl
        hdr[10] = hdr[11] = 0
        w = unpack(hdr)
        s = sum(w)
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        c = ~s & 0xFFFF
        hdr[10] = c >> 8
        hdr[11] = c & 0xFF
        return [(eport, mac + data[0:6] + data[12:14] + bytes(hdr) + data[34:])]

    return process


def routes_from_runtime(runtime: dict) -> list[tuple[int, int, bytes, int]]:
    from p4common import codec
    routes = []
    for e in runtime.get("table_entries", []):
        if e.get("default_action") or e.get("table") != "MyIngress.ipv4_lpm":
            continue
        if e.get("action_name") != "MyIngress.ipv4_forward":
            continue
        val, plen = e["match"]["hdr.ipv4.dstAddr"]
        p = e["action_params"]
        routes.append((codec.parse_value(val, 32), int(plen),
                       codec.parse_value(p["dstAddr"], 48).to_bytes(6, "big"),
                       codec.parse_value(p["port"], 9)))
    return routes


# ---------------------------------------------------------------------------
# measurements

def rate(fn, port: int, packet: bytes, seconds: float) -> tuple[float, int]:
    """Calls of fn(port, packet) per second over about `seconds`."""
    for _ in range(200):  # warm-up
        fn(port, packet)
    n = 0
    chunk = 1000
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(chunk):
            fn(port, packet)
        n += chunk
        t = time.perf_counter()
        if t >= deadline:
            return n / (t - t0), n


STAGES = ("parser", "ingress", "egress", "actions", "table lookups", "checksums",
          "deparser", "traffic manager / engine", "other")


def classify(filename: str, func: str) -> str:
    """Stage of one profiled function.  Generated code (``<p4sw-generated>``)
    is named by what it does: ``parse*``/``ps_*`` parser states, ``nd_<pipeline>_*``
    control-flow nodes (pipeline 0 = ingress, 1 = egress), ``act_*`` actions,
    ``calc_*``/``cks_*`` checksums, ``deparse``/``emit`` the deparser."""
    base = Path(filename).name
    if "p4sw-engine" in filename:      # the engine's fused per-packet function
        return "traffic manager / engine"
    if "generated" in filename:
        if func.startswith(("ps_", "parse")) or func == "cks_verify":
            return "parser"
        if func.startswith("nd_0_"):
            return "ingress"
        if func.startswith("nd_"):
            return "egress"
        if func.startswith("act_"):
            return "actions"
        if func.startswith(("calc_", "cks_")):
            return "checksums"
        if func in ("deparse", "emit"):
            return "deparser"
        return "other"
    if base == "tables.py":
        return "table lookups"
    if base in ("bits.py", "hashes.py"):
        return "checksums"
    if base in ("engine.py", "switch.py", "pre.py"):
        return "traffic manager / engine"
    return "other"


def stage_times(sw, port: int, packet: bytes, n: int, pps: float,
                unfused: bool = True) -> dict[str, float]:
    """µs per packet by stage.  cProfile's own time per function is grouped
    by `classify`; the shares are then applied to the unprofiled time per
    packet (1/pps), since the profiler itself slows every call down.

    `unfused`: profile the engine's general path (`Engine.process_packet`)
    with checksum update and deparser called as separate functions, since
    the fused `sw.process_packet` inlines the parser driver, checksums and
    deparser into one function that cProfile cannot split."""
    import cProfile
    import pstats
    fn = sw.process_packet
    saved = None
    if unfused:
        from p4switch.engine import Engine
        g = sw._gen
        cks, dep = g["cks_update"], g["deparse"]
        saved = sw._emit
        sw._emit = lambda P, K: dep(P, K.buf[K.off:]) if cks(P, K) is None else None

        def fn(p, d, _sw=sw):
            return Engine.process_packet(_sw, p, d)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        fn(port, packet)
    prof.disable()
    if saved is not None:
        sw._emit = saved
    own = dict.fromkeys(STAGES, 0.0)
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in pstats.Stats(prof).stats.items():
        own[classify(filename, func)] += tt
    total = sum(own.values()) or 1.0
    per_packet_us = 1e6 / pps
    return {k: v / total * per_packet_us for k, v in own.items()}


# ---------------------------------------------------------------------------
# over veth

def veth_rate(program: str, runtime: dict | None, commands: list[str], packet: bytes,
              seconds: float, p4sw_args: list[str] | None = None) -> dict:
    """p4sw with ports 1 and 2 in a namespace topology; h1 blasts `packet`
    (dst MAC/IP as given) on its eth0 (switch port 1) for `seconds`; what
    arrives at h1 or h2 with the packet's last 8 bytes is counted.
    Returns sent/received counts and rates."""
    from topologies.graph import Topology
    from topologies.netns import in_netns
    from topologies.runner import NetnsTopology
    t = Topology()
    t.add_host("h1", ip="10.0.1.1/24", mac="08:00:00:00:01:11")
    t.add_host("h2", ip="10.0.2.2/24", mac="08:00:00:00:02:22")
    t.add_switch("s1", program=program, runtime=runtime, cli_commands=commands)
    t.add_link("h1", "s1", port_b=1)
    t.add_link("h2", "s1", port_b=2)
    marker = packet[-8:]
    with NetnsTopology(t, p4sw_args=p4sw_args) as net:
        with in_netns(net.netns("h1")):
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            tx.bind(("eth0", 0))
            tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        # count arrivals at both hosts (a program may send the packet back
        # out of port 1); our own transmissions are not counted
        rxs = []
        for h in ("h1", "h2"):
            with in_netns(net.netns(h)):
                rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
                rx.setsockopt(263, 23, 1)  # SOL_PACKET, PACKET_IGNORE_OUTGOING
                rx.bind(("eth0", 0x0003))
                rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
                rx.setblocking(False)
                rxs.append(rx)
        got = 0
        stop = threading.Event()

        def receive():
            nonlocal got
            import selectors
            sel = selectors.DefaultSelector()
            for r in rxs:
                sel.register(r, selectors.EVENT_READ)
            while not stop.is_set():
                for key, _ in sel.select(0.2):
                    while True:
                        try:
                            d = key.fileobj.recv(4096)
                        except BlockingIOError:
                            break
                        if d.endswith(marker):
                            got += 1
            sel.close()

        th = threading.Thread(target=receive, daemon=True)
        th.start()
        sw_pid = net.switches["s1"].pid if "s1" in getattr(net, "switches", {}) else None
        cpu0 = _proc_cpu(sw_pid)
        sent = 0
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while time.perf_counter() < deadline:
            for _ in range(64):
                try:
                    tx.send(packet)
                    sent += 1
                except OSError:  # ENOBUFS: the veth queue is full
                    time.sleep(0.0005)
                    break
            # leave the switch its share of the 2 cores
            time.sleep(0)
        elapsed = time.perf_counter() - t0
        time.sleep(1.0)  # let the switch drain its socket queue
        cpu1 = _proc_cpu(sw_pid)
        stop.set()
        th.join(2)
        tx.close()
        for r in rxs:
            r.close()
    out = {"sent": sent, "received": got, "seconds": elapsed,
           "offered_pps": sent / elapsed, "forwarded_pps": got / (elapsed + 1.0)}
    if cpu0 is not None and cpu1 is not None:
        # what the switch process itself spent (user + kernel, sends included):
        # on a shared machine this, not the rate, says what a frame costs p4sw
        out["switch_cpu_share"] = (cpu1 - cpu0) / (elapsed + 1.0)
        out["switch_cpu_us_per_frame"] = (cpu1 - cpu0) / max(got, 1) * 1e6
    return out


def _proc_cpu(pid: int | None) -> float | None:
    """utime + stime of a process, in seconds (None if unknown)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def veth_send_floor(packet: bytes, seconds: float) -> dict:
    """What one AF_PACKET send() of `packet` into a veth pair costs the
    sender (CPU time, kernel included), with an AF_PACKET socket on the peer
    receiving it -- the I/O floor under the veth figure: p4sw pays about this
    per forwarded frame on top of its processing.  Runs in a namespace of
    its own, removed afterwards (root)."""
    from topologies.netns import in_netns, run, unique_prefix
    ns = unique_prefix("p4bs")
    run(["ip", "netns", "add", ns])
    try:
        run(["ip", "-n", ns, "link", "add", "name", "a", "type", "veth", "peer", "name", "b"])
        for dev in ("a", "b"):
            run(["ip", "-n", ns, "link", "set", "dev", dev, "up"])
        with in_netns(ns):
            rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            rx.bind(("b", 0x0003))
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            tx.bind(("a", 0))
        rx.setblocking(False)
        n = 0
        c0 = time.process_time()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            for _ in range(64):
                try:
                    tx.send(packet)
                    n += 1
                except OSError:
                    break
            while True:     # keep the receiver's queue short (its cost is counted too)
                try:
                    rx.recv(4096)
                except BlockingIOError:
                    break
        cpu = time.process_time() - c0
        tx.close()
        rx.close()
    finally:
        run(["ip", "netns", "del", ns], check=False)
    return {"frames": n, "us_per_frame": cpu / max(n, 1) * 1e6}


# ---------------------------------------------------------------------------

def load_program(args) -> tuple[str | None, dict | None, list[str], bytes, int, str]:
    """(json path, runtime dict, extra commands, packet, port, label)."""
    if args.json:
        commands = Path(args.commands).read_text().splitlines() if args.commands else []
        packet = bytes.fromhex(args.packet) if args.packet else BASIC_PACKET
        runtime = None
        if args.runtime:
            from topologies.tutorials import load_runtime_json
            runtime = load_runtime_json(args.runtime)
        return args.json, runtime, commands, packet, args.port, Path(args.json).name
    from topologies.build import CompileError, CompilerUnavailable, basic_p4, compile_p4, tutorials_dir
    from topologies.tutorials import load_runtime_json
    shared = Path(args.shared) if args.shared else None
    runtime = load_runtime_json(str(tutorials_dir(shared) / "basic" / "pod-topo" / "s1-runtime.json"))
    try:
        program, _ = compile_p4(basic_p4(shared), args.out, "basic")
    except (CompilerUnavailable, CompileError) as e:
        print(f"bench: cannot build basic.json: {str(e).splitlines()[0]}")
        print("bench: give --json PROG.json --packet HEX to measure another program")
        return None, runtime, [], BASIC_PACKET, BASIC_PORT, "basic.p4"
    return str(program), runtime, [], BASIC_PACKET, BASIC_PORT, "basic.p4"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="p4sw packets/s (in-process, hand baseline, veth)")
    ap.add_argument("--json", help="BMv2 JSON to measure instead of basic.p4")
    ap.add_argument("--packet", help="packet as hex (default: IPv4 h1 -> h2)")
    ap.add_argument("--port", type=int, default=BASIC_PORT, help="ingress port")
    ap.add_argument("--commands", help="simple_switch_CLI command file to apply first")
    ap.add_argument("--runtime", help="tutorial-style sN-runtime.json to apply first (with --json)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    ap.add_argument("--no-veth", action="store_true", help="skip the veth measurement")
    ap.add_argument("--no-packet-ring", action="store_true",
                    help="veth: p4sw receives with recvmsg instead of a TPACKET_V3 ring")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "build"))
    ap.add_argument("--shared", default=None)
    args = ap.parse_args(argv)

    program, runtime, commands, packet, port, label = load_program(args)
    rows: list[tuple[str, float | None, str]] = []

    routes = routes_from_runtime(runtime) if runtime is not None else []
    if routes:
        hand = make_basic_fast(routes)
        pps, _ = rate(hand, BASIC_PORT, BASIC_PACKET, args.seconds)
        rows.append(("hand-specialised basic (this run)", pps, "in-run baseline"))

    if program is not None:
        from p4switch.runtime_api import RuntimeApi
        from p4switch.switch import Switch
        from topologies.tutorials import runtime_to_commands
        with open(program, "rb") as f:
            sw = Switch.from_json(f.read())
        api = RuntimeApi(sw)
        cmds = (runtime_to_commands(runtime, program) if runtime else []) + commands
        for c in cmds:
            if c.strip() and not c.lstrip().startswith("#"):
                api.run_command(c)
        out = sw.process_packet(port, packet)
        if routes:
            expect = make_basic_fast(routes)(port, packet)
            same = "same output as the hand function" if out == expect else \
                f"OUTPUT DIFFERS from the hand function: {out!r} vs {expect!r}"
            print(f"bench: {label}: packet -> {[(p, len(d)) for p, d in out]} ({same})")
        else:
            print(f"bench: {label}: packet -> {[(p, len(d)) for p, d in out]}")
        pps, _ = rate(sw.process_packet, port, packet, args.seconds)
        rows.insert(0, (f"p4sw in-process ({label})", pps, "one core, no I/O"))
        from p4switch.engine import Engine
        gpps, _ = rate(lambda p, d: Engine.process_packet(sw, p, d), port, packet, args.seconds)
        rows.insert(1, (f"p4sw in-process, general path ({label})", gpps,
                        "Engine.process_packet, not the fused function"))

        print(f"\ntime per packet by stage (µs, of {1e6 / pps:.2f} µs; cProfile shares "
              f"of the unfused path):")
        n = max(2000, int(pps * min(args.seconds, 1.0) / 4))
        for k, v in stage_times(sw, port, packet, n, pps).items():
            print(f"  {k:<26}{v:8.2f}")

        if not args.no_veth:
            from topologies.netns import netns_supported
            ok, why = netns_supported()
            if ok:
                try:
                    r = veth_rate(program, runtime, commands, packet, args.seconds,
                                  ["--no-packet-ring"] if args.no_packet_ring else [])
                    how = "recvmsg" if args.no_packet_ring else "TPACKET_V3"
                    rows.append((f"p4sw over veth ({how}, {label})", r["forwarded_pps"],
                                 f"offered {r['offered_pps']:,.0f}/s, {r['received']}/{r['sent']} arrived"))
                    if "switch_cpu_us_per_frame" in r:
                        us = r["switch_cpu_us_per_frame"]
                        rows.append(("p4sw over veth, per switch CPU", 1e6 / us if us else None,
                                     f"{us:.2f} µs switch CPU per forwarded frame; the switch got "
                                     f"{r['switch_cpu_share'] * 100:.0f}% of a core"))
                except Exception as e:  # report, keep the in-process figures
                    rows.append(("p4sw over veth", None, f"failed: {e}"))
                try:
                    f = veth_send_floor(packet, min(args.seconds, 2.0))
                    rows.append(("veth send()+recv() alone (I/O floor)", 1e6 / f["us_per_frame"],
                                 f"{f['us_per_frame']:.2f} µs CPU per frame, no switch"))
                except Exception as e:  # noqa: BLE001
                    rows.append(("veth send()+recv() alone", None, f"failed: {e}"))
            else:
                rows.append(("p4sw over veth", None, f"skipped: {why}"))

    rows.append(("C++ BMv2 simple_switch, in-process", BMV2_CPP_PPS, "reference from the issue"))
    rows.append(("hand-specialised Python (issue's figure)", HAND_SPECIALISED_PPS,
                 "reference from the issue"))
    print("\npackets/s:")
    for name, pps, note in rows:
        val = f"{pps:>12,.0f}" if pps is not None else f"{'-':>12}"
        print(f"  {name:<44}{val}   {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
