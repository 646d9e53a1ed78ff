"""p4c's STF corpus compiled with OUR compiler (p4pc) and run on p4switch.

For every program of ``p4c-stf/tier{1,2,3}-dev.txt`` and
``p4c-p414-stf/supp-p414-dev.txt`` the program is compiled with
``p4compiler.driver.compile_to_json`` and its ``.stf`` is run in-process.  The
summary test prints the pass rate per tier with each failure and its reason and
asserts per-tier thresholds set to what really passes (rounded down).

Set ``P4PC_STF_TIERS=tier1,tier2`` to run a subset (the machine is shared), and
``P4PC_STF_FRONTEND=1`` to also run the front end's checks first (as `p4pc` does).
"""
from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

#: minimum pass rate per tier (what really passes, rounded down)
THRESHOLDS = {"tier1": 1.00, "tier2": 1.00, "tier3": 1.00, "p414": 1.00}

TIER_LISTS = (
    ("tier1", "p4c-stf", "tier1-dev.txt"),
    ("tier2", "p4c-stf", "tier2-dev.txt"),
    ("tier3", "p4c-stf", "tier3-dev.txt"),
    ("p414", "p4c-p414-stf", "supp-p414-dev.txt"),
)


@dataclass(frozen=True)
class Case:
    name: str
    tier: str
    p4: Path
    stf: Path


def selected_tiers() -> set[str]:
    env = os.environ.get("P4PC_STF_TIERS")
    return set(env.split(",")) if env else {t for t, _, _ in TIER_LISTS}


def discover(root: Path) -> list[Case]:
    out = []
    for tier, folder, listing in TIER_LISTS:
        if tier not in selected_tiers():
            continue
        lst = root / folder / listing
        if not lst.is_file():
            continue
        for entry in lst.read_text().split():
            if entry.endswith(".p4"):
                p4 = root / folder / entry
                stf = p4.with_suffix(".stf")
                if p4.is_file() and stf.is_file():
                    out.append(Case(p4.stem, tier, p4, stf))
    return out


def run_case(case: Case) -> tuple[bool, str]:
    """(passed, reason).  Compiler errors and crashes are failures with a reason."""
    from p4compiler.diagnostics import CompilerError
    from p4compiler.driver import compile_to_json
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf_file
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    try:
        doc = compile_to_json(str(case.p4), frontend=os.environ.get("P4PC_STF_FRONTEND") == "1")
    except CompilerError as e:
        return False, f"compile error: {str(e).splitlines()[0][:200]}"
    except Exception as e:  # noqa: BLE001 - a compiler crash is a reported failure
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return False, f"compiler crash: {type(e).__name__}: {str(e)[:150]} at {Path(tb.filename).name}:{tb.lineno}"
    res = run_stf_file(parse_stf_file(str(case.stf)), doc, json_path=case.name)
    if res.passed:
        return True, ""
    return False, f"[{res.category}] {res.reason[:300]}"


def test_basic_tutorial_compiles_and_forwards(conformance_dir: Path):
    """The demo program: tutorials/basic/solution/basic.p4 compiles and its
    LPM table forwards an IPv4 packet: new MACs, decremented TTL."""
    from p4compiler.driver import compile_to_json
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf
    src = conformance_dir / "tutorials" / "basic" / "solution" / "basic.p4"
    if not src.is_file():
        pytest.skip("tutorial not present")
    doc = compile_to_json(str(src))
    names = [t["name"] for p in doc["pipelines"] for t in p["tables"]]
    assert "MyIngress.ipv4_lpm" in names
    ipv4 = ("4500001400000000" "4006" "0000" "0a000001" "0a000202")
    fwd = ("4500001400000000" "3f06" "****" "0a000001" "0a000202")   # checksum recomputed
    stf = ("add MyIngress.ipv4_lpm hdr.ipv4.dstAddr:0x0a000200/24 "
           "MyIngress.ipv4_forward(dstAddr:0x000000000202, port:2)\n"
           f"expect 2 000000000202 ffffffffffff 0800 {fwd}\n"
           f"packet 1 ffffffffffff 000000000001 0800 {ipv4}\n")
    res = run_stf_file(parse_stf(stf, "basic.stf"), doc, json_path="basic.json")
    assert res.passed, res.report()


def test_compiler_stf_summary(conformance_dir: Path):
    cases = discover(conformance_dir)
    if not cases:
        pytest.skip("no STF corpus")
    results = {c: run_case(c) for c in cases}
    lines = ["", "STF conformance with p4pc-compiled JSON on p4switch:"]
    bad = []
    for tier, _, _ in TIER_LISTS:
        tc = [c for c in cases if c.tier == tier]
        if not tc:
            continue
        passed = sum(results[c][0] for c in tc)
        rate = passed / len(tc)
        lines.append(f"  {tier:6s} {passed:4d}/{len(tc):<4d} {100 * rate:5.1f} % "
                     f"(threshold {100 * THRESHOLDS[tier]:.0f} %)")
        if rate < THRESHOLDS[tier]:
            bad.append(tier)
    lines.append("Failures:")
    for c in cases:
        ok, why = results[c]
        if not ok:
            lines.append(f"  {c.tier}/{c.name}: {why}")
    print("\n".join(lines))
    assert not bad, "\n".join(lines)
