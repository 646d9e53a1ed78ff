"""The P4 tutorials' programs compiled by p4pc: their control-plane files work
against OUR outputs.

Which programs: the tutorials have 13 exercises (basic, basic_tunnel, calc,
ecn, firewall, flowcache, link_monitor, load_balance, mri, multicast,
p4runtime, qos, source_routing), one solution program each -- the 12
``<ex>/solution/*.p4`` plus ``p4runtime/advanced_tunnel.p4`` (that exercise
has no solution folder; the program is complete at the top level).  Those are
the corpus README's 13 solutions.  ``firewall/basic.p4`` is a 14th, auxiliary
program: the firewall topology runs it on s2..s4 (``firewall/pod-topo/s{2,3,4}
-runtime.json`` name ``build/basic.p4.p4info.txtpb``), so it is checked too.

For each program:

* p4pc (front end, P4Info, BMv2 JSON: ``driver.compile_file``) compiles it;
* the JSON loads in p4switch (``Switch.from_json``);
* every ``sN-runtime.json`` naming it (its ``p4info`` field, ``build/<prog>.p4.
  p4info.txtpb``) resolves name by name against OUR P4Info through
  ``p4common.p4info.P4InfoIndex``: table, action (one of the table's), match
  field names, action parameter names (all of them, as simple_controller
  requires), and the match value has the shape of the field's match kind;
* the same entries install in p4switch through the runtime CLI API under the
  same names (P4Info names = BMv2 JSON names, as p4c makes them).
"""
from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import pytest

#: the exercises and their programs, relative to tutorials/
SOLUTIONS = (
    "basic/solution/basic.p4",
    "basic_tunnel/solution/basic_tunnel.p4",
    "calc/solution/calc.p4",
    "ecn/solution/ecn.p4",
    "firewall/solution/firewall.p4",
    "flowcache/solution/flowcache.p4",
    "link_monitor/solution/link_monitor.p4",
    "load_balance/solution/load_balance.p4",
    "mri/solution/mri.p4",
    "multicast/solution/multicast.p4",
    "p4runtime/advanced_tunnel.p4",
    "qos/solution/qos.p4",
    "source_routing/solution/source_routing.p4",
)
AUXILIARY = ("firewall/basic.p4",)
PROGRAMS = SOLUTIONS + AUXILIARY


def _tutorials(conformance_dir: Path) -> Path:
    tut = conformance_dir / "tutorials"
    if not tut.is_dir():
        pytest.skip("tutorials not present in the corpus")
    return tut


@cache
def _compile(path: str):
    from p4compiler.driver import compile_file
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    return compile_file(path)


def program_for_runtime(runtime: Path, tut: Path) -> Path:
    """The program a runtime file configures: its ``p4info`` field names
    ``build/<prog>.p4.p4info.txtpb``; <prog>.p4 is in the exercise folder or
    its solution/ folder."""
    info = json.loads(runtime.read_text())["p4info"]
    prog = Path(info).name.split(".p4")[0] + ".p4"
    exercise = tut / runtime.relative_to(tut).parts[0]
    for cand in (exercise / "solution" / prog, exercise / prog):
        if cand.is_file():
            return cand
    raise AssertionError(f"{runtime}: no program {prog} in {exercise}")


def runtime_files(tut: Path) -> list[Path]:
    return sorted(tut.glob("*/s*-runtime.json")) + sorted(tut.glob("*/*/s*-runtime.json"))


# ------------------------------------------------------------------ P4Info checks
#: p4.config.v1.MatchField.MatchType values
_KIND_NAMES = {2: "exact", 3: "lpm", 4: "ternary", 5: "range", 6: "optional"}


def _scalar(value):
    """simple_controller's encode() takes a one-element list as its element."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


def check_entry(idx, entry: dict) -> list[str]:
    """Problems resolving one runtime-JSON table entry against a P4InfoIndex
    (empty when every name resolves), the way simple_controller uses them."""
    from p4common.p4info import P4InfoLookupError
    errs: list[str] = []
    try:
        table = idx.table(entry["table"])
    except P4InfoLookupError as e:
        return [str(e)]
    for fname, value in (entry.get("match") or {}).items():
        try:
            mf = idx.match_field(table, fname)
        except P4InfoLookupError as e:
            errs.append(str(e))
            continue
        kind = _KIND_NAMES.get(mf.match_type, "other")
        pair = isinstance(_scalar(value), list) and len(value) == 2
        if (kind in ("lpm", "ternary", "range")) != pair:
            errs.append(f"{entry['table']}: {fname} is {kind} but the value is {value!r}")
    try:
        action = idx.table_action(table, entry["action_name"])
    except P4InfoLookupError as e:
        return errs + [str(e)]
    given = entry.get("action_params") or {}
    for pname in given:
        try:
            idx.param(action, pname)
        except P4InfoLookupError as e:
            errs.append(str(e))
    missing = [p.name for p in action.params if p.name not in given]
    if missing:
        errs.append(f"{entry['action_name']}: parameters {missing} not given")
    return errs


# ------------------------------------------------------------------ switch install
def install(sw, idx, entry: dict, priority: int) -> None:
    """Install one runtime-JSON entry in p4switch through the runtime CLI API,
    with the P4Info names used as BMv2 JSON names."""
    from p4switch.runtime_api import RuntimeApi
    api = RuntimeApi(sw)
    table = idx.table(entry["table"])
    action = idx.table_action(table, entry["action_name"])
    params = [str(entry["action_params"][p.name]) for p in action.params]
    if entry.get("default_action"):
        api.table_set_default(table.preamble.name, action.preamble.name, params)
        return
    match = entry.get("match") or {}
    strings = []
    for mf in table.match_fields:
        kind = _KIND_NAMES[mf.match_type]
        v = match.get(mf.name)
        if v is None:
            strings.append({"exact": "0", "lpm": "0/0", "ternary": "0&&&0",
                            "range": f"0->{(1 << mf.bitwidth) - 1}", "optional": "0&&&0"}[kind])
        elif kind == "lpm":
            strings.append(f"{v[0]}/{v[1]}")
        elif kind == "ternary":
            strings.append(f"{v[0]}&&&{v[1]}")
        elif kind == "range":
            strings.append(f"{v[0]}->{v[1]}")
        else:
            strings.append(str(_scalar(v)))
    needs_prio = any(_KIND_NAMES[mf.match_type] in ("ternary", "range", "optional")
                     for mf in table.match_fields)
    api.table_add(table.preamble.name, action.preamble.name, strings, params,
                  priority if needs_prio else None)


# ------------------------------------------------------------------ tests
def test_the_13_solutions_are_the_corpus_programs(conformance_dir: Path):
    """The list above is exactly the corpus: every tutorial .p4 is either one of
    the 13 exercise solutions or the auxiliary firewall/basic.p4."""
    tut = _tutorials(conformance_dir)
    found = sorted(str(p.relative_to(tut)) for p in tut.rglob("*.p4"))
    assert found == sorted(PROGRAMS)
    exercises = sorted(p.parent.name for p in tut.glob("*/Makefile"))
    assert len(SOLUTIONS) == len(exercises) == 13
    assert sorted(s.split("/")[0] for s in SOLUTIONS) == exercises


@pytest.mark.parametrize("rel", PROGRAMS)
def test_tutorial_compiles_and_loads(conformance_dir: Path, rel: str):
    from p4common.p4info import P4InfoIndex
    from p4switch.switch import Switch
    tut = _tutorials(conformance_dir)
    res = _compile(str(tut / rel))
    sw = Switch.from_json(res.json)
    idx = P4InfoIndex(res.p4info)
    # every P4Info table and action is a BMv2 JSON object of the same name
    assert len(idx.tables) > 0 or rel.startswith("source_routing/")   # the one without tables
    for t in idx.tables:
        assert t.preamble.name in sw.tables, t.preamble.name
        keys = [k.name for k in sw.tables[t.preamble.name].keys]
        assert keys == [mf.name for mf in t.match_fields]
    for a in idx.actions:
        assert a.preamble.name in sw.actions, a.preamble.name


def test_runtime_files_resolve_against_our_p4info(conformance_dir: Path):
    from p4common.p4info import P4InfoIndex
    from p4switch.switch import Switch
    tut = _tutorials(conformance_dir)
    files = runtime_files(tut)
    assert len(files) >= 30, "runtime files missing from the corpus"
    problems: list[str] = []
    used: set[str] = set()
    n_entries = 0
    for rt in files:
        prog = program_for_runtime(rt, tut)
        used.add(str(prog.relative_to(tut)))
        res = _compile(str(prog))
        idx = P4InfoIndex(res.p4info)
        sw = Switch.from_json(res.json)
        for i, entry in enumerate(json.loads(rt.read_text()).get("table_entries", [])):
            n_entries += 1
            where = f"{rt.relative_to(tut)} entry {i}"
            errs = check_entry(idx, entry)
            problems += [f"{where}: {e}" for e in errs]
            if not errs:
                try:
                    install(sw, idx, entry, priority=i + 1)
                except Exception as e:  # noqa: BLE001 - reported with the entry
                    problems.append(f"{where}: p4switch rejected it: {type(e).__name__}: {e}")
    assert n_entries > 100
    assert "firewall/basic.p4" in used and "firewall/solution/firewall.p4" in used
    assert not problems, "\n".join(problems)


def test_check_entry_reports_wrong_names(conformance_dir: Path):
    """The checker itself fails on misspelt names (a test that cannot fail is a defect)."""
    from p4common.p4info import P4InfoIndex
    tut = _tutorials(conformance_dir)
    idx = P4InfoIndex(_compile(str(tut / "basic/solution/basic.p4")).p4info)
    good = {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.1.1", 32]},
            "action_name": "MyIngress.ipv4_forward",
            "action_params": {"dstAddr": "08:00:00:00:01:11", "port": 1}}
    assert check_entry(idx, good) == []
    for bad in ({**good, "table": "MyIngress.ipv4_lmp"},
                {**good, "match": {"hdr.ipv4.dst": ["10.0.1.1", 32]}},
                {**good, "match": {"hdr.ipv4.dstAddr": "10.0.1.1"}},
                {**good, "action_name": "MyIngress.drop_it"},
                {**good, "action_params": {"dstAddr": "08:00:00:00:01:11", "prt": 1}},
                {**good, "action_params": {"dstAddr": "08:00:00:00:01:11"}}):
        assert check_entry(idx, bad), bad
