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

try:
    from conftest import conformance_dir_from
except ImportError:  # e.g. --import-mode=importlib: tests/ is not on sys.path
    def conformance_dir_from(config) -> Path:
        opt = config.getoption("--conformance-dir", default=None)
        env = os.environ.get("P4LVS_CONFORMANCE")
        default = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
        return Path(opt or env or default).expanduser().resolve()
from p4switch.stf import StfResult, run_stf_file
from p4switch.stf_parse import StfSyntaxError, parse_stf_file

#: Minimum fraction of corpus programs that must pass (what really passes, rounded down).
PASS_RATE_THRESHOLD = 1.0

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


def _source_fragments(doc) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def walk(o):
        if isinstance(o, dict):
            si = o.get("source_info")
            if isinstance(si, dict) and si.get("source_fragment"):
                out.append((str(si.get("filename") or ""), str(si["source_fragment"])))
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)

    walk(doc)
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace('\\"', '"'))


#: Below this share of the JSON's source fragments found in the .p4 source, the
#: JSON was not compiled from this program (legit programs score >= 0.93: only
#: macro-expanded fragments miss).
SOURCE_MATCH_MIN = 0.8


def json_source_mismatch(case: Case, doc: dict) -> str | None:
    """Why ``case.json`` is not the compilation of ``case``'s .p4, or None.

    p4c-json/ holds one JSON per *name*, and a few names exist both in p4c-stf/
    and p4c-p414-stf/ (e.g. header-stack-ops-bmv2): the JSON then belongs to only
    one of the two programs.  The JSON's source_info fragments tell which.
    """
    src_path = case.stf.with_suffix(".p4")
    if not src_path.is_file():
        return None
    src = _squash(src_path.read_text(errors="replace"))
    own = [_squash(f) for fn, f in _source_fragments(doc) if Path(fn).name == src_path.name]
    if not own:
        return None
    hits = sum(1 for f in own if all(part in src for part in f.split("...")))
    if hits / len(own) >= SOURCE_MATCH_MIN:
        return None
    return (f"p4c-json/{case.json.name} was not compiled from {src_path.parent.name}/"
            f"{src_path.name} (only {hits}/{len(own)} source fragments found in it): "
            "name collision in the corpus, no reference JSON for this program")


class _ResultCache:
    """Runs each case at most once per session (the summary reuses the results)."""

    def __init__(self):
        self.results: dict[str, StfResult] = {}
        self.skipped: dict[str, str] = {}

    def get(self, case: Case) -> StfResult | None:
        """The result, or None when the case has no usable reference JSON
        (the reason is in ``skipped``)."""
        if case.id in self.skipped:
            return None
        res = self.results.get(case.id)
        if res is None:
            doc = json.loads(case.json.read_bytes())
            why = json_source_mismatch(case, doc)
            if why is not None:
                self.skipped[case.id] = why
                return None
            res = _run_case(case, doc)
            self.results[case.id] = res
        return res


def _run_case(case: Case, doc: dict) -> StfResult:
    try:
        stf = parse_stf_file(str(case.stf))
    except StfSyntaxError as e:
        res = StfResult(str(case.json), str(case.stf))
        res.fail("stf", str(e))
        return res
    return run_stf_file(stf, doc, json_path=str(case.json))


@pytest.fixture(scope="session")
def stf_results() -> _ResultCache:
    return _ResultCache()


def test_stf(stf_case: Case, stf_results: _ResultCache):
    res = stf_results.get(stf_case)
    if res is None:
        pytest.skip(stf_results.skipped[stf_case.id])
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
    all_cases = discover_cases(conformance_dir)
    if not all_cases:
        pytest.skip(f"no STF programs with p4c JSON under {conformance_dir}")
    for c in all_cases:
        stf_results.get(c)
    results = stf_results.results
    cases = [c for c in all_cases if c.id in results]
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
    rate = total_pass / len(cases) if cases else 0.0
    lines.append(f"  total  {total_pass:4d}/{len(cases):<4d} {100.0 * rate:5.1f} % "
                 f"(threshold {100.0 * PASS_RATE_THRESHOLD:.1f} %)")
    failures = [c for c in cases if not results[c.id].passed]
    if failures:
        lines.append("Failures:")
        for c in failures:
            r = results[c.id]
            lines.append(f"  {c.id} [{r.category}] {r.reason}")
    skipped = [c for c in all_cases if c.id in stf_results.skipped]
    if skipped:
        lines.append("Not run (no reference JSON for the program):")
        for c in skipped:
            lines.append(f"  {c.id}: {stf_results.skipped[c.id]}")
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
    assert cases, "every corpus program was skipped"
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
    assert json_source_mismatch(case, doc) is None
    res = run_stf_file(stf, doc, json_path=str(case.json), strict_counters=True)
    assert res.passed, res.report()
    assert not res.warnings


def test_json_source_check_detects_the_name_collision(conformance_dir: Path):
    """header-stack-ops-bmv2 exists in p4c-stf/ and in p4c-p414-stf/; the one JSON
    is the P4_14 translation's.  The check must tell them apart."""
    by_id = {c.id: c for c in discover_cases(conformance_dir)}
    p416, p414 = by_id.get("tier2/header-stack-ops-bmv2"), by_id.get("p414/header-stack-ops-bmv2")
    if p416 is None or p414 is None:
        pytest.skip("header-stack-ops-bmv2 is not in both sets of this corpus")
    doc = json.loads(p414.json.read_bytes())
    assert json_source_mismatch(p414, doc) is None
    why = json_source_mismatch(p416, doc)
    assert why is not None and "name collision" in why
    # Every other program's JSON is recognised as its own.
    for c in by_id.values():
        if c.name != "header-stack-ops-bmv2":
            assert json_source_mismatch(c, json.loads(c.json.read_bytes())) is None, c.id


def test_programs_without_reference_json_run_on_p4pc(conformance_dir: Path, tmp_path: Path):
    """A program whose p4c JSON is missing (name collision) is still tested, with
    the JSON of the project's own compiler, through p4stf's PROG.p4 path."""
    from p4switch.stf import StfError, _compiler_command, compile_p4, run_stf

    if _compiler_command() is None:
        pytest.skip("the project's compiler p4pc is not installed")
    orphans = []
    for c in discover_cases(conformance_dir):
        if json_source_mismatch(c, json.loads(c.json.read_bytes())) is not None:
            orphans.append(c)
    if not orphans:
        pytest.skip("every corpus program has its reference JSON")
    for c in orphans:
        out = tmp_path / c.tier
        out.mkdir()
        try:
            js = compile_p4(str(c.stf.with_suffix(".p4")), str(out))
        except StfError as e:
            pytest.fail(f"{c.id}: {e}")
        res = run_stf(js, str(c.stf))
        assert res.passed, res.report()


def test_runner_rejects_corrupted_expectations(conformance_dir: Path):
    """Mutation check of the runner on real data: flipping one compared nibble of
    an expect line, or dropping an expect line whose port stays observed, must
    make every corpus test fail."""
    from p4switch.stf_parse import parse_stf

    checked = 0
    for c in discover_cases(conformance_dir):
        doc = json.loads(c.json.read_bytes())
        if json_source_mismatch(c, doc) is not None:
            continue
        lines = c.stf.read_text().splitlines()
        idx = [i for i, l in enumerate(lines) if l.strip().lower().startswith("expect")]
        if not idx:
            continue
        kw, port, *rest = lines[idx[0]].split(None, 2)
        data = "".join(rest[0].split("#")[0].split()) if rest else ""
        compared = [k for k, ch in enumerate(data) if ch not in "*$"]
        if compared:
            k = compared[len(compared) // 2]
            flipped = list(lines)
            flipped[idx[0]] = f"{kw} {port} {data[:k]}{'0' if data[k] != '0' else '1'}{data[k + 1:]}"
            res = run_stf_file(parse_stf("\n".join(flipped), "flip.stf"), doc)
            assert not res.passed and res.category == "mismatch", c.id
            checked += 1
        dropped = list(lines)
        del dropped[idx[-1]]
        stf = parse_stf("\n".join(dropped), "drop.stf")
        if int(lines[idx[-1]].split()[1]) in stf.ports():
            res = run_stf_file(stf, doc)
            assert not res.passed and res.category == "mismatch", c.id
            checked += 1
    if not checked:
        pytest.skip("no corpus program with expect lines")
