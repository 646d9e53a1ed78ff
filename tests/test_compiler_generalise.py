"""Front-end, mid-end and back-end fixes found by running p4pc on P4 programs outside the
dev corpus (held-out style programs).  Each test is a small program of our own that failed
before the fix it names."""
from __future__ import annotations

import pytest

from p4compiler import parse_source
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import check

from compiler_helpers import check_error as _err
from compiler_helpers import check_source as _check


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


def test_conflicting_names_reported_in_source_order(tmp_path):
    """The conflict is reported at the later declaration in the *source*, whatever order the
    controls have in V1Switch(...) (egress declared before ingress here)."""
    from p4compiler import parse_file
    src = _DUP_NAMES.replace('@name(".x") action top2', 'action top2')
    src = src.replace("control Eg(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }\n", "")
    eg = """control Eg(inout H h, inout M m, inout standard_metadata_t sm) {
    @name(".drop") action d1() { }
    table te { key = { m.k : exact; } actions = { d1; } }
    apply { te.apply(); }
}
"""
    src = src.replace("control Ig(", eg + "control Ig(")
    src = src.replace("@name(\".unused_twin\") action local_twin() { }",
                      "@name(\".drop\") action d2() { }")
    src = src.replace("actions = { top1; top2; NoAction; }", "actions = { top1; top2; d2; NoAction; }")
    f = tmp_path / "order.p4"
    f.write_text(src)
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        check(parse_file(str(f), diags=diags), diags)
    line = src.splitlines()[ei.value.location.line - 1]
    assert "d2" in line and "conflicting control plane name: drop" in ei.value.message


_V1_HDR = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst_addr; bit<48> src_addr; bit<16> eth_type; }
control vrfy(inout Headers h, inout Meta m) { apply {} }
control update(inout Headers h, inout Meta m) { apply {} }
control egress(inout Headers h, inout Meta m, inout standard_metadata_t sm) { apply {} }
control deparser(packet_out pkt, in Headers h) { apply { pkt.emit(h); } }
"""


def _run_stf(tmp_path, body: str, stf: str):
    """Compile `body` (a v1model program using Headers/Meta/p/ingress) with p4pc's
    front end + back end and run `stf` on p4switch; returns the STF result."""
    from p4compiler.driver import compile_to_json
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf_file
    src = _V1_HDR.replace("control vrfy", body + "\ncontrol vrfy") + \
        "V1Switch(p(), vrfy(), ingress(), egress(), update(), deparser()) main;\n"
    f = tmp_path / "prog.p4"
    f.write_text(src)
    doc = compile_to_json(str(f), frontend=True)
    sf = tmp_path / "prog.stf"
    sf.write_text(stf)
    return run_stf_file(parse_stf_file(str(sf)), doc, json_path="prog")


def test_plus_slice_read_write_and_inout_argument(tmp_path):
    """`x[lo +: w]`: typed by the front end (bit<w>), an l-value with a constant `lo`
    (assignment, inout argument), and readable with a run-time `lo`."""
    body = """struct Headers { ethernet_t eth_hdr; }
struct Meta { bit<8> i; }
void incr(inout bit<8> v) { v = v + 1; }
parser p(packet_in pkt, out Headers hdr, inout Meta m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth_hdr); hdr.eth_hdr.dst_addr[0 +: 4] = 4w0xF; transition accept; }
}
control ingress(inout Headers h, inout Meta m, inout standard_metadata_t sm) {
    action a(bit<8> s) { h.eth_hdr.src_addr[40 +: 8] = h.eth_hdr.dst_addr[s +: 8]; }
    apply {
        m.i = 4;
        h.eth_hdr.eth_type[15:8] = h.eth_hdr.dst_addr[m.i +: 8];
        incr(h.eth_hdr.eth_type[0 +: 8]);
        a(8);
    }
}"""
    stf = ("packet 0 00 00 00 00 12 30  00 00 00 00 00 00  FF FF\n"
           "expect 0 00 00 00 00 12 3F  12 00 00 00 00 00  23 00\n")
    res = _run_stf(tmp_path, body, stf)
    assert res.passed, res.reason


@pytest.mark.parametrize("expr,needle", [
    ("b[-1 +: 16]", "negative bit index -1"),
    ("b[20 +: 16]", "greater than width 32"),
])
def test_plus_slice_bounds_checked(expr, needle):
    e = _err(f"""control C(out bit<16> a, in bit<32> b) {{
    apply {{
        a = {expr};
    }}
}}
""")
    assert e.location.line == 3 and needle in e.message


def test_plus_slice_is_typed():
    tp = _check("control C(out bit<16> a, in bit<32> b, in bit<8> i) { apply { a = b[i +: 16]; } }\n")
    s = tp.program.declarations[0].body.components[0]
    assert str(tp.type_of(s.right)) == "bit<16>"


def test_duplicate_exact_const_entry_keys_rejected():
    e = _err("""match_kind { exact }
action a(bit<8> v) { }
control C(in bit<8> k) {
    table t {
        key = { k : exact; }
        actions = { a; }
        const entries = {
            1 : a(1);
            2 : a(2);
            1 : a(3);
        }
    }
    apply { t.apply(); }
}
control P(in bit<8> k);
package Top(P p);
Top(C()) main;
""")
    assert e.location.line == 10 and e.message == "Duplicate entry keys"


def test_one_table_in_two_instances_under_one_absolute_name(tmp_path):
    """`@name(".t0")` on a table of a control instantiated twice: two P4Info tables "t0"."""
    from p4compiler import parse_file
    src = """
#include <core.p4>
#include <v1model.p4>
struct H { }
struct M { }
parser P(packet_in pk, out H h, inout M m, inout standard_metadata_t sm) { state start { transition accept; } }
control Sub(inout standard_metadata_t sm) {
    @name(".t0") table t0 { key = { sm.ingress_port : exact; } actions = { NoAction; } }
    apply { t0.apply(); }
}
control Ig(inout H h, inout M m, inout standard_metadata_t sm) {
    Sub() s1;
    Sub() s2;
    apply { s1.apply(sm); s2.apply(sm); }
}
control Eg(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }
control D(packet_out pk, in H h) { apply { } }
control V(inout H h, inout M m) { apply { } }
control C(inout H h, inout M m) { apply { } }
V1Switch(P(), V(), Ig(), Eg(), C(), D()) main;
"""
    f = tmp_path / "t0.p4"
    f.write_text(src)
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        check(parse_file(str(f), diags=diags), diags)
    assert "Name 't0' is used for multiple table objects" in ei.value.message


def test_constant_type_with_dont_care_rejected():
    e = _err("struct S<T> { tuple<T, T> t; }\nconst S<_> x = { t = { 0, 0 } };\n")
    assert "cannot contain '_'" in e.message


def test_negative_v1model_version_rejected(tmp_path):
    from p4compiler import parse_file
    f = tmp_path / "v.p4"
    f.write_text("#define V1MODEL_VERSION -5\n#include <v1model.p4>\n")
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        check(parse_file(str(f), diags=diags), diags)
    assert "expected v1model version to be a non-negative number" in ei.value.message


def test_default_value_initializers_lowered(tmp_path):
    """`{f = v, ...}` / `{...}` reach the back end: omitted fields get default values
    (0, false, invalid headers); a header initialized from `{...}` fields is valid."""
    body = """header H2 { bit<8> a; bit<8> b; bit<16> c; }
struct S { bit<8> x; H2 h; bool f; }
struct Headers { ethernet_t eth_hdr; H2 h2; }
struct Meta { }
parser p(packet_in pkt, out Headers hdr, inout Meta m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth_hdr); pkt.extract(hdr.h2); transition accept; }
}
control ingress(inout Headers h, inout Meta m, inout standard_metadata_t sm) {
    apply {
        S s = { x = 3, h = { a = 7, ... }, ... };
        S z = { ... };
        tuple<bit<8>, bool> t = { 9, ... };
        if (s.h.isValid() && !z.h.isValid() && z.x == 0 && !z.f && !t[1]) {
            h.h2.a = s.x;
            h.h2.b = s.h.a + s.h.b + t[0];
        }
    }
}"""
    stf = ("packet 0 00 00 00 00 00 00  00 00 00 00 00 00  00 00  FF FF 00 05\n"
           "expect 0 00 00 00 00 00 00  00 00 00 00 00 00  00 00  03 10 00 05\n")
    res = _run_stf(tmp_path, body, stf)
    assert res.passed, res.reason


def test_break_and_continue_in_unrolled_loops(tmp_path):
    """Loops of apply blocks are unrolled (no loops in BMv2 pipelines); a run-time
    break/continue becomes flags guarding the rest of the iteration and the later ones.
    `for (x in stack)` in an action is unrolled the same way."""
    body = """header B { bit<8> v; }
struct Headers { ethernet_t eth_hdr; B[4] bs; }
struct Meta { bit<8> cnt; }
parser p(packet_in pkt, out Headers hdr, inout Meta m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth_hdr); transition more; }
    state more {
        pkt.extract(hdr.bs.next);
        transition select(hdr.bs.last.v) { 0: accept; default: more; }
    }
}
control ingress(inout Headers h, inout Meta m, inout standard_metadata_t sm) {
    action count_until_invalid() {
        m.cnt = 0;
        for (B b in h.bs) {
            if (!b.isValid()) { break; }
            if (b.v == 0xEE) { continue; }
            m.cnt = m.cnt + 1;
        }
    }
    apply {
        bit<8> sum = 0;
        for (bit<8> i = 0; i < 4; i = i + 1) {
            if (!h.bs[i].isValid()) { break; }
            if (h.bs[i].v == 0xEE) { continue; }
            sum = sum + h.bs[i].v;
        }
        h.eth_hdr.dst_addr[7:0] = sum;
        count_until_invalid();
        h.eth_hdr.src_addr[7:0] = m.cnt;
    }
}"""
    stf = ("packet 0 00 00 00 00 00 00  00 00 00 00 00 00  00 00  01 EE 02 00 AA\n"
           "expect 0 00 00 00 00 00 03  00 00 00 00 00 03  00 00  01 EE 02 00 AA\n"
           "packet 0 00 00 00 00 00 00  00 00 00 00 00 00  00 00  05 00 02 03 AA\n"
           "expect 0 00 00 00 00 00 05  00 00 00 00 00 02  00 00  05 00 02 03 AA\n")
    res = _run_stf(tmp_path, body, stf)
    assert res.passed, res.reason


def test_for_in_range_ends_must_fit_the_loop_variable():
    e = _err("""extern void fn(in bit<8> c);
control c() {
    apply {
        for (bit<8> a in 16w0 .. 16w15) { fn(a); }
    }
}
""")
    assert e.location.line == 4 and "Cannot cast implicitly type 'bit<16>' to type 'bit<8>'" in e.message
    _check("extern void fn(in bit<8> c);\ncontrol c() { apply { for (bit<8> a in 0 .. 15) { fn(a); } } }\n")


def test_noaction_that_is_not_an_action():
    e = _err("const bit NoAction = 1;\ncontrol c() {\n    table t { actions = {} }\n    apply { t.apply(); }\n}\n")
    assert e.location.line == 1 and "NoAction: expected to be an action" in e.message


@pytest.mark.parametrize("ptype,bad", [
    ("pair_t", True), ("bit<8>", False), ("int<4>", False), ("bool", False), ("E8", False), ("T8", False),
])
def test_action_data_parameters_are_scalars(ptype, bad):
    src = f"""struct pair_t {{ bit<8> a; bit<8> b; }}
enum bit<8> E8 {{ X = 1 }}
type bit<8> T8;
control c(inout bit<8> x) {{
    action a({ptype} v) {{ }}
    table t {{ actions = {{ a; }} }}
    apply {{ t.apply(); }}
}}
action NoAction() {{ }}
"""
    if bad:
        e = _err(src)
        assert e.location.line == 5 and "Action parameter v has a type which is not bit<>" in e.message
    else:
        _check(src)


def test_header_not_a_whole_number_of_bytes_is_padded(tmp_path):
    """A 41-bit header: p4c pads BMv2 header types to whole bytes (BMv2 requires it), so the
    header takes 6 bytes of the packet and is emitted back unchanged."""
    body = """header h_t { bit<8> e; bit<16> t; bit<8> l; bit<8> r; bit<1> v; }
struct Headers { h_t h; }
struct Meta { }
parser p(packet_in pkt, out Headers hdr, inout Meta m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control ingress(inout Headers h, inout Meta m, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; h.h.e = h.h.e + 1; }
}"""
    stf = "packet 0 01 1111 22 33 B0 CC\nexpect 1 02 1111 22 33 B0 CC $\n"
    res = _run_stf(tmp_path, body, stf)
    assert res.passed, res.reason


def test_type_of_a_type_original_type_is_the_underlying_bits():
    """P4Info type_info: for `type T1 T2` (T1 itself a `type`), original_type is the first
    non-`type` type down the chain (bit<32>), as p4c's TypeSpecConverter walks it."""
    from p4compiler.p4info_gen import generate
    src = """
#include <core.p4>
#include <v1model.p4>
typedef bit<32> U32;
type U32 A_t;
type A_t B_t;
header h_t { B_t b; }
struct H { h_t h; }
struct M { }
parser P(packet_in pk, out H h, inout M m, inout standard_metadata_t sm) { state start { pk.extract(h.h); transition accept; } }
control Ig(inout H h, inout M m, inout standard_metadata_t sm) {
    table t { key = { h.h.b : exact; } actions = { NoAction; } }
    apply { t.apply(); }
}
control Eg(inout H h, inout M m, inout standard_metadata_t sm) { apply { } }
control D(packet_out pk, in H h) { apply { pk.emit(h); } }
control V(inout H h, inout M m) { apply { } }
control C(inout H h, inout M m) { apply { } }
V1Switch(P(), V(), Ig(), Eg(), C(), D()) main;
"""
    info = generate(parse_source(src, "nt.p4", diags=Diagnostics())).p4info
    nt = info.type_info.new_types["B_t"]
    assert nt.original_type.bitstring.bit.bitwidth == 32
    assert info.tables[0].match_fields[0].type_name.name == "B_t"
