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
