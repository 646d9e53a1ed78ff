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
MAX_COMPILE_ERRORS = 1


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


# --------------------------------------------------------------------------- features
# Small v1model programs run on p4switch: each checks one lowering rule.

_SKELETON = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; }
struct H { h_t h; }
struct M { bit<8> x; bit<8> y; }
%(parser)s
control vc(inout H h, inout M m) { apply {} }
%(globals)s
control ig(inout H h, inout M m, inout standard_metadata_t sm) {
    %(ingress)s
}
control eg(inout H h, inout M m, inout standard_metadata_t sm) { apply {} }
control uc(inout H h, inout M m) { apply {} }
control dp(packet_out pk, in H h) { apply { pk.emit(h.h); } }
V1Switch(p(), vc(), ig(), eg(), uc(), dp()) main;
"""

_PARSER = """
parser p(packet_in pk, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start { pk.extract(hdr.h); transition accept; }
}"""


def _run(tmp_path: Path, ingress: str, stf: str, parser: str = _PARSER, globals_: str = ""):
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf
    src = tmp_path / "prog.p4"
    src.write_text(_SKELETON % {"parser": parser, "ingress": ingress, "globals": globals_})
    doc = compile_to_json(str(src))
    res = run_stf_file(parse_stf(stf, "t.stf"), doc, json_path="prog.json")
    assert res.passed, res.report()
    return doc


def test_parser_if_splits_states(tmp_path):
    parser = """
parser p(packet_in pk, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start {
        pk.extract(hdr.h);
        if (hdr.h.a == 1) { hdr.h.b = 0x11; } else { hdr.h.b = 0x22; }
        m.x = hdr.h.b;
        transition accept;
    }
}"""
    _run(tmp_path, "apply { sm.egress_spec = 2; h.h.a = m.x; }",
         "packet 0 01 00\nexpect 2 11 11\npacket 0 05 00\nexpect 2 22 22\n", parser)


def test_exit_in_action_still_copies_out(tmp_path):
    ing = """
    action a(inout bit<8> v) { v = 3; exit; }
    apply { sm.egress_spec = 1; a(h.h.b); h.h.a = 9; }"""
    _run(tmp_path, ing, "packet 0 00 00\nexpect 1 00 03$\n")


def test_for_loop_unrolled_in_apply_and_jumps_in_action(tmp_path):
    ing = """
    action acc() { for (bit<8> i = 0; i < 4; i = i + 1) { h.h.b = h.h.b + h.h.a; } }
    apply {
        sm.egress_spec = 1;
        for (bit<8> j = 0; j < 3; j = j + 1) { m.y = m.y + 1; }
        acc();
        h.h.a = m.y;
    }"""
    _run(tmp_path, ing, "packet 0 02 01\nexpect 1 03 09$\n")


def test_switch_action_run_and_hit_miss(tmp_path):
    ing = """
    action set(bit<8> v) { h.h.b = v; }
    action other() { h.h.b = 0x77; }
    table t { key = { h.h.a : exact; } actions = { set; other; } default_action = other(); }
    table u { key = { h.h.a : exact; } actions = { NoAction; } }
    apply {
        sm.egress_spec = 1;
        switch (t.apply().action_run) {
            set: { h.h.a = 0xAA; }
            default: { h.h.a = 0xBB; }
        }
        if (!u.apply().hit) { h.h.b = h.h.b + 1; }
    }"""
    stf = ("add t h.h.a:5 set(v:0x10)\n"
           "packet 0 05 00\nexpect 1 AA 11$\n"
           "packet 0 06 00\nexpect 1 BB 78$\n")
    doc = _run(tmp_path, ing, stf)
    t = next(x for p in doc["pipelines"] for x in p["tables"] if x["name"] == "ig.t")
    assert t["key"][0]["name"] == "h.h.a" and sorted(t["next_tables"]) == ["ig.other", "ig.set"]


def test_side_effect_order_and_slices(tmp_path):
    fn = "bit<8> f(inout bit<8> x) { x = 1; return 1; }"
    ing = """
    apply {
        sm.egress_spec = 1;
        m.x = 3;
        h.h.a = m.x + f(m.x);          // left operand read before the call: 3 + 1
        h.h.b[3:0] = 4w0xF;
    }"""
    _run(tmp_path, ing, "packet 0 00 50\nexpect 1 04 5F$\n", globals_=fn)


@pytest.mark.parametrize("name, message", [
    ("issue1949-bmv2", ".foo: conflicting control plane name: .foo"),
    ("multicast-bmv2", "._drop: conflicting control plane name: ._drop"),
    ("issue1803_same_table_name", "Found 1 duplicate name(s) in the P4Info"),
    ("init-entries-error3-bmv2", "t1 Overflow in priority computation"),
    ("issue2835-bmv2", "t_two.apply(): table invocation in action argument"),
])
def test_backend_errors_like_p4c(conformance_dir: Path, name: str, message: str):
    """Errors p4c reports in its back end / P4Info stage (p4c-errors corpus)."""
    src = conformance_dir / "p4c-errors" / f"{name}.p4"
    if not src.is_file():
        pytest.skip("p4c-errors corpus missing")
    with pytest.raises(CompilerError) as ei:
        compile_to_json(str(src))
    assert message in str(ei.value) or message in ei.value.message


def test_entries_priority_syntax(tmp_path):
    """`priority = N:` entries (largest_priority_wins by default): the larger wins."""
    ing = """
    action set(bit<8> v) { h.h.b = v; }
    table t {
        key = { h.h.a : ternary; }
        actions = { set; NoAction; }
        entries = {
            priority = 10: 0x01 &&& 0x0F : set(0x10);
            priority = 20: 0x01 &&& 0xFF : set(0x20);
        }
    }
    apply { sm.egress_spec = 1; t.apply(); }"""
    doc = _run(tmp_path, ing, "packet 0 01 00\nexpect 1 01 20$\npacket 0 11 00\nexpect 1 11 10$\n")
    t = next(x for p in doc["pipelines"] for x in p["tables"] if x["name"] == "ig.t")
    assert [e["priority"] for e in t["entries"]] == [11, 1]


# --------------------------------------------------------------------------- p4c back-end rules
# Each mirrors what p4c-bm2-ss does (sources: backends/bmv2/common/{parser,deparser,
# controlFlowGraph,control}.cpp, frontends/p4/entryPriorities.cpp, midend MoveActionsToTables).

def _program(tmp_path: Path, ingress: str, parser: str = _PARSER, deparser: str = "pk.emit(h.h);",
             globals_: str = "") -> Path:
    src = tmp_path / "prog.p4"
    text = _SKELETON % {"parser": parser, "ingress": ingress, "globals": globals_}
    text = text.replace("apply { pk.emit(h.h); }", f"apply {{ {deparser} }}")
    src.write_text(text)
    return src


def _compile_with_diags(src: Path):
    from p4compiler import parse_file
    from p4compiler.bmv2.program import compile_program
    from p4compiler.diagnostics import Diagnostics
    diags = Diagnostics()
    prog = parse_file(str(src), diags=diags)
    return compile_program(prog, str(src), diags), diags


def _tables(doc) -> dict:
    return {t["name"]: t for p in doc["pipelines"] for t in p["tables"]}


def test_direct_action_call_is_its_own_table(tmp_path):
    """p4c's MoveActionsToTables: `a(x);` in apply is table tbl_a whose action keeps
    the name ingress.a (P4Info lists it); copy-in/out inside the action, and done
    before `exit` (issue2225)."""
    ing = """
    action a(inout bit<8> v) { v = v + 1; }
    action e(inout bit<8> v) { v = 3; exit; }
    apply { sm.egress_spec = 1; a(h.h.a); a(h.h.b); e(h.h.b); h.h.a = 0x77; }"""
    doc = _run(tmp_path, ing, "packet 0 10 20\nexpect 1 11 03$\n")
    t = _tables(doc)
    assert t["tbl_a"]["actions"] == ["ig.a"] and t["tbl_a_0"]["actions"] == ["ig.a"]
    assert t["tbl_e"]["actions"] == ["ig.e"]
    e = next(a for a in doc["actions"] if a["name"] == "ig.e")
    prims = e["primitives"]
    x = [p["op"] for p in prims].index("exit")
    assert prims[x - 1]["op"] == "assign" and prims[x - 1]["parameters"][0]["value"] == ["h", "b"]


def test_transition_reject_like_p4c(tmp_path):
    """p4c-bm2-ss: warning "Explicit transition to reject not supported on this
    target" at the state name; next_state null (parsing ends as accepted)."""
    parser = """
parser p(packet_in pk, out H hdr, inout M m, inout standard_metadata_t sm) {
    state start { pk.extract(hdr.h); transition select(hdr.h.a) { 1: accept; default: reject; } }
}"""
    src = _program(tmp_path, "apply { sm.egress_spec = 1; }", parser)
    doc, diags = _compile_with_diags(src)
    st = doc["parsers"][0]["parse_states"][0]
    assert [t["next_state"] for t in st["transitions"]] == [None, None]
    assert all(o["op"] != "verify" for o in st["parser_ops"])
    w = [d for d in diags.warnings if "Explicit transition to reject" in d.message]
    line = next(i for i, t in enumerate(src.read_text().splitlines(), 1) if "default: reject" in t)
    assert len(w) == 1 and w[0].kind == "unsupported" and w[0].location.line == line
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf
    res = run_stf_file(parse_stf("packet 0 05 06\nexpect 1 05 06$\n", "t.stf"), doc, json_path="p.json")
    assert res.passed, res.report()


def test_deparser_if_is_an_error_like_p4c(tmp_path):
    src = _program(tmp_path, "apply {}", deparser="if (h.h.a == 1) { pk.emit(h.h); }")
    with pytest.raises(CompilerError) as ei:
        compile_to_json(str(src))
    assert ei.value.message == "IfStatement: not supported within a deparser on this target"
    line = next(i for i, t in enumerate(src.read_text().splitlines(), 1) if "if (h.h.a == 1)" in t)
    assert ei.value.diagnostic.kind == "unsupported" and ei.value.location.line == line


def test_deparser_constant_if_and_subcontrol_are_accepted(tmp_path):
    glob = "control sub(packet_out pk, in h_t x) { apply { pk.emit(x); } }"
    src = _program(tmp_path, "apply { sm.egress_spec = 1; }", globals_=glob,
                   deparser="if (false) { pk.emit(h.h); } sub.apply(pk, h.h);")
    src.write_text(src.read_text().replace("control dp(packet_out pk, in H h) {",
                                           "control dp(packet_out pk, in H h) { sub() sub;"))
    doc = compile_to_json(str(src))
    assert doc["deparsers"][0]["order"] == ["h"]


_T = """
    action set(bit<8> v) { h.h.b = v; }
    table t { key = { h.h.a : exact; } actions = { set; NoAction; } }
    apply { %s }"""


def test_table_applied_twice_with_same_successors_is_one_node(tmp_path):
    ing = _T % "if (h.h.a == 1) { t.apply(); } else { h.h.b = 9; t.apply(); } sm.egress_spec = 1;"
    doc = _run(tmp_path, ing, "add t h.h.a:1 set(v:0x44)\npacket 0 01 00\nexpect 1 01 44$\n"
                              "packet 0 02 00\nexpect 1 02 09$\n")
    names = [n for n in _tables(doc)]
    assert names.count("ig.t") == 1 and not any("$" in n for n in names)


@pytest.mark.parametrize("body, message", [
    ("t.apply(); t.apply();", "contains a path from table t back to itself"),
    ("if (h.h.a == 1) { t.apply(); h.h.b = 1; } else { t.apply(); }", "table t has multiple successors"),
    ("if (h.h.a == 1) { if (t.apply().hit) { h.h.b = 1; } } else { t.apply(); }",
     "table t has multiple successors"),
])
def test_table_applied_twice_errors_like_p4c(tmp_path, body, message):
    src = _program(tmp_path, _T % body)
    with pytest.raises(CompilerError) as ei:
        compile_to_json(str(src))
    assert message in ei.value.message and ei.value.diagnostic.kind == "invalid"


def test_const_entry_priorities_equal_p4c_json(conformance_dir: Path):
    """BMv2 `priority` of every const entry equals real p4c's output (p4c-json/)."""
    import json
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    checked = 0
    for ref in sorted((conformance_dir / "p4c-json").glob("*.json")):
        want = {t["name"]: [e["priority"] for e in t["entries"]] for p in json.loads(ref.read_text())["pipelines"]
                for t in p["tables"] if t.get("entries")}
        src = next((conformance_dir / d / (ref.stem + ".p4") for d in ("p4c-stf", "p4c-p414-stf")
                    if (conformance_dir / d / (ref.stem + ".p4")).is_file()), None)
        if not want or src is None:
            continue
        got = {n: [e["priority"] for e in t["entries"]] for n, t in _tables(compile_to_json(str(src))).items()
               if t.get("entries")}
        assert got == want, ref.stem
        checked += 1
    assert checked >= 8


def test_entries_priority_smallest_wins_and_delta(tmp_path):
    """largest_priority_wins = false and priority_delta: the smaller P4 priority wins."""
    ing = """
    action set(bit<8> v) { h.h.b = v; }
    table t {
        key = { h.h.a : ternary; }
        actions = { set; NoAction; }
        largest_priority_wins = false;
        priority_delta = 5;
        entries = {
            priority = 20: 0x01 &&& 0xFF : set(0x20);
                           0x01 &&& 0x0F : set(0x25);
            priority = 10: 0x01 &&& 0x0F : set(0x10);
        }
    }
    apply { sm.egress_spec = 1; t.apply(); }"""
    _run(tmp_path, ing, "packet 0 01 00\nexpect 1 01 10$\npacket 0 11 00\nexpect 1 11 10$\n")


def test_priority_on_exact_table_is_an_error(tmp_path):
    ing = """
    action set(bit<8> v) { h.h.b = v; }
    table t { key = { h.h.a : exact; } actions = { set; } entries = { priority = 1: 0x01 : set(1); } }
    apply { t.apply(); }"""
    with pytest.raises(CompilerError) as ei:
        compile_to_json(str(_program(tmp_path, ing)))
    assert "does not require priorities" in ei.value.message


def test_p4runtime_entries_files_flag(tmp_path, conformance_dir: Path):
    """--p4runtime-entries-files writes p4c's .entries.txtpb (const entries as a WriteRequest)."""
    import subprocess

    from google.protobuf import text_format

    from p4common.proto import p4runtime_pb2
    src = conformance_dir / "p4c-stf" / "table-entries-priority-bmv2.p4"
    ref = conformance_dir / "p4c-p4info" / "table-entries-priority-bmv2.p4.entries.txtpb"
    out = tmp_path / "e.txtpb"
    r = subprocess.run([sys.executable, "-m", "p4compiler", "-o", str(tmp_path / "x.json"),
                        "--p4runtime-entries-files", f"{out},{tmp_path / 'e.bin'}", str(src)],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False)
    assert r.returncode == 0, r.stderr
    got = text_format.Parse(out.read_text(), p4runtime_pb2.WriteRequest())
    want = text_format.Parse(ref.read_text(), p4runtime_pb2.WriteRequest())
    assert got == want and len(got.updates) == 3
    assert p4runtime_pb2.WriteRequest.FromString((tmp_path / "e.bin").read_bytes()) == want
