"""Front-end, mid-end and back-end fixes found by running p4pc on P4 programs outside the
dev corpus (held-out style programs).  Each test is a small program of our own that failed
before the fix it names."""
from __future__ import annotations

import pytest

from p4compiler import parse_source
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import check


def _check(src: str):
    diags = Diagnostics()
    prog = parse_source(src, "t.p4", diags=diags, preprocess=False)
    return check(prog, diags)


def _err(src: str) -> CompilerError:
    with pytest.raises(CompilerError) as ei:
        _check(src)
    return ei.value


_DV_TYPES = """
header H { bit<1> a; bool b; bit<32> c; }
struct S { bit<1> i; H h; bool b; }
"""
_DV_TAIL = """
control proto(inout S r);
package top(proto p);
top(c()) main;
"""


def test_nested_default_values_initializers_accepted():
    """`{f = v, ...}` nested in another `{..., ...}` initializer, and `{...}` for a tuple."""
    _check(_DV_TYPES + """
control c(inout S r) {
    apply {
        S s = {b = true, h = {c = 1, ...}, ...};
        tuple<bool, H, S> t = { ... };
        r.b = s.b && t[0];
    }
}""" + _DV_TAIL)


@pytest.mark.parametrize("body,line,needle", [
    ("S s = {...};\n if (s == {b = false, ...}) { r.i = 1; }", 2, "operation realation =="),
    ("tuple<bool, H> t = {...};\n if (t != {...}) { r.i = 1; }", 2, "operation realation !="),
    ("S s = r;\n s = (s == {...} ? s : r);", 2, "operation realation =="),
    ("\n g<S>({i = 1, ...});", 2, "method call expression g"),
])
def test_default_values_rejected_without_target_type(body, line, needle):
    e = _err(_DV_TYPES + "void g<D>(in D d) {}\ncontrol c(inout S r) { apply {\n" + body + "\n} }" + _DV_TAIL)
    assert e.location.line == line + 5, e
    assert "Default values {...} cannot be used in" in e.message and needle in e.message


def test_default_values_rejected_in_return():
    e = _err(_DV_TYPES + "S f() {\n    return {1, ...};\n}\n")
    assert e.location.line == 5 and "return statement" in e.message


def test_control_type_parameter_default_rejected():
    e = _err("""struct m_t { bit<8> a; }
control C<H>(inout H h,
    in m_t md = {0});
package P<H>(C<H> c);
""")
    assert e.location.line == 3
    assert "md: control type declarations cannot have parameters with default values" in e.message


_AP_PROG = """
#include <core.p4>
#include <v1model.p4>
struct H { }
struct M { bit<32> k; }
parser P(packet_in pk, out H h, inout M m, inout standard_metadata_t sm) { state start { transition accept; } }
control Ig(inout H h, inout M m, inout standard_metadata_t sm) {
    action drop() { mark_to_drop(sm); }
    table plain {
        key = { m.k : exact; }
        actions = { drop; NoAction; }
        @name("prof") @max_group_size(16) implementation = action_profile(32w64);
    }
    table sel {
        key = { m.k : selector; }
        actions = { drop; NoAction; }
        @name("selp") @max_group_size(8) implementation = action_selector(HashAlgorithm.identity, 32w256, 32w10);
    }
    apply { plain.apply(); sel.apply(); }
}
control Eg(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }
control D(packet_out pk, in H h) { apply { } }
control V(inout H h, inout M m) { apply { } }
control C(inout H h, inout M m) { apply { } }
V1Switch(P(), V(), Ig(), Eg(), C(), D()) main;
"""


def test_inline_action_profile_named_by_property_annotation(tmp_path):
    """`@name("x") implementation = action_profile(..)` is the profile "x" (not "Ig.x") in
    P4Info and in the JSON; the selector annotations become fields, not listed annotations;
    a max group size without `@selector_size_semantics` is counted in weights."""
    from p4compiler.driver import compile_file
    f = tmp_path / "ap.p4"
    f.write_text(_AP_PROG)
    res = compile_file(str(f))
    profs = {p.preamble.name: p for p in res.p4info.action_profiles}
    assert set(profs) == {"prof", "selp"}
    assert not profs["prof"].preamble.annotations and not profs["selp"].preamble.annotations
    assert profs["prof"].max_group_size == 0 and not profs["prof"].HasField("sum_of_weights")
    assert profs["selp"].max_group_size == 8 and profs["selp"].HasField("sum_of_weights")
    tables = {t.preamble.name: t for t in res.p4info.tables}
    assert tables["Ig.plain"].implementation_id == profs["prof"].preamble.id
    json_names = {a["name"] for a in res.json["pipelines"][0]["action_profiles"]}
    assert json_names == {"prof", "selp"}


def test_default_action_must_be_the_listed_action_not_a_namesake():
    e = _err("""action b() {}
control c() {
    action b() {}
    table t {
        actions = { b; }
        default_action = .b();
    }
    apply { t.apply(); }
}
""")
    assert e.location.line == 6 and "refer to different actions" in e.message


def test_type_of_inline_struct_declaration_is_a_syntax_error():
    from p4compiler.parser import ParseError
    with pytest.raises(ParseError) as ei:
        parse_source("type struct S { bit<8> a; } T;\n", "t.p4", diags=Diagnostics(), preprocess=False)
    assert "syntax error, unexpected STRUCT" in str(ei.value)
    _check("typedef struct S { bit<8> a; } T;\n")     # typedef keeps it


_DUP_NAMES = """
#include <core.p4>
#include <v1model.p4>
struct H { }
struct M { bit<8> k; }
parser P(packet_in pk, out H h, inout M m, inout standard_metadata_t sm) { state start { transition accept; } }
@name("x") action top1() { }
@name(".x") action top2() { }
action unused_twin() { }
control Ig(inout H h, inout M m, inout standard_metadata_t sm) {
    @name(".unused_twin") action local_twin() { }
    table t { key = { m.k : exact; } actions = { top1; top2; NoAction; } }
    apply { t.apply(); }
}
control Eg(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }
control D(packet_out pk, in H h) { apply { } }
control V(inout H h, inout M m) { apply { } }
control C(inout H h, inout M m) { apply { } }
V1Switch(P(), V(), Ig(), Eg(), C(), D()) main;
"""


def test_conflicting_control_plane_names_found_by_front_end(tmp_path):
    """p4c's DuplicateHierarchicalNameCheck runs without P4Info output; unreferenced
    actions (p4c removes them first) never conflict."""
    from p4compiler import parse_file
    f = tmp_path / "dup.p4"
    f.write_text(_DUP_NAMES)
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        check(parse_file(str(f), diags=diags), diags)
    assert ei.value.location.line == 8
    assert "conflicting control plane name: x" in ei.value.message
    f.write_text(_DUP_NAMES.replace('@name(".x") action top2', 'action top2'))
    check(parse_file(str(f), diags=Diagnostics()), Diagnostics())
