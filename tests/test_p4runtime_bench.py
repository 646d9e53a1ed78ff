"""bench/bench_p4runtime.py runs and prints every figure (tiny sizes)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("grpc")


def test_bench_p4runtime_smoke(capsys):
    import os
    if os.environ.get("P4LVS_P4RT_TARGET"):
        pytest.skip("packet figures need the in-process target")
    try:
        from p4common.proto import p4runtime_pb2  # noqa: F401
    except ImportError:
        pytest.skip("P4Runtime modules not built")
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_p4runtime.py"
    spec = importlib.util.spec_from_file_location("bench_p4runtime", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--entries", "40", "--batch", "10", "--packets", "20"]) == 0
    out = capsys.readouterr().out
    for what in ("one entry per RPC", "batches of 10", "packet-out -> wire", "wire -> packet-in"):
        line = next(l for l in out.splitlines() if what in l)
        assert float(line.split(":")[1].split()[0]) > 0, line
    assert "(20/20)" in out
