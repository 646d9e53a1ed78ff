"""p4pc's BMv2 JSON back end: structure and p4c naming of the emitted JSON,
and no compiler crash (traceback) on the tutorial solutions or p4c-accept.

A CompilerError (a located, reported unsupported feature) is counted but not a
crash; `MAX_COMPILE_ERRORS` is what is really left (lower it when fixing).
"""
from __future__ import annotations

import sys
import traceback
from pathlib import Path

import pytest

from p4compiler.diagnostics import CompilerError
from p4compiler.driver import compile_to_json

#: p4c-accept programs (+ tutorials) that still end in a located CompilerError
MAX_COMPILE_ERRORS = 8


def _programs(root: Path) -> list[Path]:
    tut = root / "tutorials"
    files = sorted(tut.glob("*/solution/*.p4"))
    files += [p for p in (tut / "p4runtime" / "advanced_tunnel.p4", tut / "firewall" / "basic.p4") if p.is_file()]
    files += sorted((root / "p4c-accept").glob("**/*.p4"))
    return files


def test_basic_json_naming(conformance_dir: Path):
    src = conformance_dir / "tutorials" / "basic" / "solution" / "basic.p4"
    if not src.is_file():
        pytest.skip("tutorial missing")
    doc = compile_to_json(str(src))
    assert doc["__meta__"]["version"][0] == 2
    hdrs = {h["name"] for h in doc["headers"]}
    assert {"scalars", "standard_metadata", "ethernet", "ipv4"} <= hdrs
    tables = {t["name"]: t for p in doc["pipelines"] for t in p["tables"]}
    t = tables["MyIngress.ipv4_lpm"]
    assert [k["name"] for k in t["key"]] == ["hdr.ipv4.dstAddr"]
    assert t["key"][0]["target"] == ["ipv4", "dstAddr"] and t["match_type"] == "lpm"
    acts = {a["name"]: a for a in doc["actions"]}
    assert [r["name"] for r in acts["MyIngress.ipv4_forward"]["runtime_data"]] == ["dstAddr", "port"]
    assert doc["parsers"][0]["name"] == "parser" and doc["deparsers"][0]["order"][:2] == ["ethernet", "ipv4"]
    assert any(c["update"] and c["target"] == ["ipv4", "hdrChecksum"] for c in doc["checksums"])


def test_no_crashes_on_accept_corpus(conformance_dir: Path):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    crashes, errors = [], []
    for p in _programs(conformance_dir):
        try:
            compile_to_json(str(p))
        except CompilerError as e:
            errors.append(f"{p.name}: {str(e).splitlines()[0][-150:]}")
        except Exception as e:  # noqa: BLE001 - what we are checking for
            tb = traceback.extract_tb(e.__traceback__)[-1]
            crashes.append(f"{p.name}: {type(e).__name__}: {e} at {Path(tb.filename).name}:{tb.lineno}")
    print("\ncompile errors:\n  " + "\n  ".join(errors))
    assert not crashes, "\n".join(crashes)
    assert len(errors) <= MAX_COMPILE_ERRORS, "\n".join(errors)
