"""p4c's STF conformance tests, run on p4sw with the JSON of the real p4c.

For every program listed in ``p4c-stf/tier{1,2,3}-dev.txt`` and
``p4c-p414-stf/supp-p414-dev.txt`` that has ``p4c-json/<name>.json``, the STF is run
in-process (``p4switch.stf.run_stf_file``): one test per program, plus a summary
test that prints the pass rate per tier with every failure's reason and checks the
overall rate against ``PASS_RATE_THRESHOLD``.

Set ``P4LVS_STF_TRIAGE=<file>`` to have the summary test write one line per failure
(name, tier, category, first reason, suspected module) into that file.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import conformance_dir_from
from p4switch.stf import StfResult, run_stf_file
from p4switch.stf_parse import StfSyntaxError, parse_stf_file

#: Minimum fraction of corpus programs that must pass (what really passes, rounded down).
PASS_RATE_THRESHOLD = 0.99

TIER_LISTS = (
    ("tier1", "p4c-stf", "tier1-dev.txt"),
    ("tier2", "p4c-stf", "tier2-dev.txt"),
    ("tier3", "p4c-stf", "tier3-dev.txt"),
    ("p414", "p4c-p414-stf", "supp-p414-dev.txt"),
)

#: Known failures approved by the lead: name -> reason (xfail strict).  Empty by default.
KNOWN_FAILURES: dict[str, str] = {}


@dataclass(frozen=True)
class Case:
    name: str
    tier: str
    stf: Path
    json: Path

    @property
    def id(self) -> str:
        return f"{self.tier}/{self.name}"


def discover_cases(root: Path) -> list[Case]:
    cases: list[Case] = []
    for tier, folder, listing in TIER_LISTS:
        lst = root / folder / listing
        if not lst.is_file():
            continue
        for entry in lst.read_text().split():
            if not entry.endswith(".p4"):
                continue
            name = Path(entry).stem
            stf = root / folder / (entry[: -len(".p4")] + ".stf")
            js = root / "p4c-json" / f"{name}.json"
            if stf.is_file() and js.is_file():
                cases.append(Case(name, tier, stf, js))
    return cases


def pytest_generate_tests(metafunc):
    if "stf_case" not in metafunc.fixturenames:
        return
    root = conformance_dir_from(metafunc.config)
    cases = discover_cases(root) if root.is_dir() else []
    if not cases:
        metafunc.parametrize(
            "stf_case",
            [pytest.param(None, marks=pytest.mark.skip(
                reason=f"no STF corpus at {root} (set --conformance-dir or P4LVS_CONFORMANCE)"))],
            ids=["no-corpus"],
        )
        return
    params = []
    for c in cases:
        marks = []
        if c.name in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[c.name]))
        params.append(pytest.param(c, marks=marks, id=c.id))
    metafunc.parametrize("stf_case", params)


class _ResultCache:
    """Runs each case at most once per session (the summary reuses the results)."""

    def __init__(self):
        self.results: dict[str, StfResult] = {}

    def get(self, case: Case) -> StfResult:
        res = self.results.get(case.id)
        if res is None:
            res = _run_case(case)
            self.results[case.id] = res
        return res


def _run_case(case: Case) -> StfResult:
    try:
        stf = parse_stf_file(str(case.stf))
    except StfSyntaxError as e:
        res = StfResult(str(case.json), str(case.stf))
        res.fail("stf", str(e))
        return res
    doc = json.loads(case.json.read_bytes())
    return run_stf_file(stf, doc, json_path=str(case.json))


@pytest.fixture(scope="session")
def stf_results() -> _ResultCache:
    return _ResultCache()


def test_stf(stf_case: Case, stf_results: _ResultCache):
    res = stf_results.get(stf_case)
    if not res.passed:
        pytest.fail(res.report(), pytrace=False)


# --------------------------------------------------------------------------- summary

_MODULE_HINTS = (
    ("loader", "loader"), ("codegen", "codegen"), ("tables", "tables"), ("pre", "pre"),
    ("externs", "externs"), ("hashes", "hashes"), ("runtime_api", "runtime_api"),
    ("switch", "engine"), ("engine", "engine"), ("bits", "bits"), ("stf", "stf"),
)


def suspect_module(res: StfResult) -> str:
    """A first guess of the module at fault, from the failure category and the
    innermost frame named in the reason."""
    m = re.search(r"\(at ([\w_]+)\.py:\d+", res.reason)
    if m:
        for needle, module in _MODULE_HINTS:
            if m.group(1) == needle:
                return module
        return m.group(1)
    return {
        "load": "loader",
        "control": "runtime_api/tables",
        "crash": "engine",
        "mismatch": "engine/codegen",
        "stf": "stf",
        "counter": "externs",
    }.get(res.category or "", "?")


def write_triage(cases: list[Case], results: dict[str, StfResult], path: str) -> None:
    lines = []
    for c in cases:
        r = results[c.id]
        if r.passed:
            continue
        reason = r.reason.replace("\t", " ")
        detail = ""
        if r.category == "mismatch" and len(r.failures[0].splitlines()) > 1:
            detail = " | " + " / ".join(l.strip() for l in r.failures[0].splitlines()[1:4])
        lines.append(f"{c.name}\t{c.tier}\t{r.category}\t{suspect_module(r)}\t{reason}{detail}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(
        "# name\ttier\tcategory\tsuspected module\tfirst failure reason\n" + "\n".join(lines)
        + ("\n" if lines else "")
    )


def test_stf_summary(conformance_dir: Path, stf_results: _ResultCache):
    cases = discover_cases(conformance_dir)
    if not cases:
        pytest.skip(f"no STF programs with p4c JSON under {conformance_dir}")
    for c in cases:
        stf_results.get(c)
    results = stf_results.results
    lines = ["", "STF conformance on p4sw (p4c JSON):"]
    total_pass = 0
    for tier, _, _ in TIER_LISTS:
        tier_cases = [c for c in cases if c.tier == tier]
        if not tier_cases:
            continue
        passed = sum(results[c.id].passed for c in tier_cases)
        total_pass += passed
        lines.append(f"  {tier:6s} {passed:4d}/{len(tier_cases):<4d} "
                     f"{100.0 * passed / len(tier_cases):5.1f} %")
    rate = total_pass / len(cases)
    lines.append(f"  total  {total_pass:4d}/{len(cases):<4d} {100.0 * rate:5.1f} % "
                 f"(threshold {100.0 * PASS_RATE_THRESHOLD:.1f} %)")
    failures = [c for c in cases if not results[c.id].passed]
    if failures:
        lines.append("Failures:")
        for c in failures:
            r = results[c.id]
            lines.append(f"  {c.id} [{r.category}] {r.reason}")
    warned = [c for c in cases if results[c.id].warnings]
    if warned:
        lines.append("Warnings (not failures; upstream ignores check_counter):")
        for c in warned:
            for w in results[c.id].warnings:
                lines.append(f"  {c.id}: {w}")
    print("\n".join(lines))
    triage = os.environ.get("P4LVS_STF_TRIAGE")
    if triage:
        write_triage(cases, results, triage)
    assert rate >= PASS_RATE_THRESHOLD, "\n".join(lines)


@pytest.mark.parametrize("name", ["counter1", "hash_action_gateway"])
def test_check_counter_holds_strictly(conformance_dir: Path, name: str):
    """Upstream ignores check_counter; on these programs the checks are right
    (packet counts), so they must hold when evaluated strictly."""
    case = next((c for c in discover_cases(conformance_dir) if c.name == name), None)
    if case is None:
        pytest.skip(f"{name} not in the corpus")
    stf = parse_stf_file(str(case.stf))
    doc = json.loads(case.json.read_bytes())
    res = run_stf_file(stf, doc, json_path=str(case.json), strict_counters=True)
    assert res.passed, res.report()
    assert not res.warnings
