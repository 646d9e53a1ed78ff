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
