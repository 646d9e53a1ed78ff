"""The P4Runtime server driven by the real client libraries, each from its own
venv (p4runtime-shell pins an old protobuf; finsy needs a new one): the client
scripts in tests/p4rt_clients/ run as subprocesses against the target (the
in-process p4sw server, or P4LVS_P4RT_TARGET).  Create the venvs with
`make p4rt-client-venvs` (scripts/setup_p4rt_clients.sh); without them these skip.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("grpc")
from p4rt_harness import SHARED, make_target  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = Path(__file__).resolve().parent / "p4rt_clients"


@pytest.fixture(scope="module")
def target():
    try:
        t = make_target()
    except ImportError as e:
        pytest.skip(f"P4Runtime modules unavailable: {e}")
    yield t
    t.stop()


def run_client(venv: str, script: str, target) -> str:
    py = ROOT / venv / "bin" / "python"
    if not py.exists():
        pytest.skip(f"{venv} missing: run `make p4rt-client-venvs`")
    p = subprocess.run([str(py), "-u", str(CLIENTS / script), target.addr, str(target.device_id), str(SHARED)],
                       capture_output=True, text=True, timeout=120)
    sys.stdout.write(p.stdout[-2000:])
    assert p.returncode == 0 and "ALL OK" in p.stdout, (p.stdout[-3000:], p.stderr[-3000:])
    return p.stdout


def test_p4runtime_shell(target):
    out = run_client(".venv-p4rs", "p4rs_basic.py", target)
    for step in ("insert ternary", "modify", "duplicate -> ALREADY_EXISTS", "multicast group",
                 "clone session", "direct counter", "action profile member/group"):
        assert f"ok {step}" in out


def test_finsy(target):
    out = run_client(".venv-finsy", "finsy_basic.py", target)
    assert "ok multicast group, clone session" in out


def _wire_frames(what: str, tag: bytes) -> list[tuple[int, bytes]]:
    eth = bytes.fromhex("000000000077") + bytes(5)
    if what == "packet_in":
        return [(3, eth + b"\x01\x88\xb5" + tag + b"-in")]
    if what == "learn":
        return [(1, bytes.fromhex("000000000050") + bytes(5) + bytes([s]) + b"\x88\xb5") for s in (0x21, 0x22)]
    return []


def run_interactive(venv: str, script: str, tag: bytes, target) -> None:
    """Run a client script that asks for wire frames ("WIRE <what>"), check what it
    sent to the wire (port 2, ending in TAG-out) and its idle-timeout delay."""
    from p4rt_harness import program, wait_sent
    if not target.is_p4sw:
        pytest.skip("needs the in-process target's wire ports")
    py = ROOT / venv / "bin" / "python"
    if not py.exists():
        pytest.skip(f"{venv} missing: run `make p4rt-client-venvs`")
    js, info = program("p4rt_full")
    wire = target.wire()
    for p in wire.values():
        p.take_sent()
    proc = subprocess.Popen([str(py), "-u", str(CLIENTS / script), target.addr, str(target.device_id),
                             str(info), str(js)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith("WIRE "):
                for port, data in _wire_frames(line.split()[1], tag):
                    wire[port].inject(data)
                proc.stdin.write("\n")
                proc.stdin.flush()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "".join(out)
    assert proc.returncode == 0 and "ALL OK" in text, (text, proc.stderr.read()[-3000:])
    sent = wait_sent(wire[2], 1, 0.1)
    assert any(f.endswith(tag + b"-out") for f in sent), sent
    idle = float(next(l.split()[2] for l in out if l.startswith("idle after")))
    assert 0.3 <= idle < 0.6


def test_p4runtime_shell_full(target):
    """Every match kind, one-shot sets, counters, meters, packet I/O, digests (acked by
    the shell), idle timeouts through p4runtime-shell."""
    run_interactive(".venv-p4rs", "p4rs_full.py", b"p4rs", target)


def test_finsy_full(target):
    """Every match kind, action profiles, counters, meters, registers, multicast,
    packet I/O, digests with acks, idle timeouts through finsy."""
    run_interactive(".venv-finsy", "finsy_full.py", b"finsy", target)
