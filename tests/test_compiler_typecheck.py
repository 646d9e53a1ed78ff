"""The front end (p4compiler.frontend): every program p4c accepts must pass
with no error, plus unit tests of inference, folding and the TypedProgram API."""
from __future__ import annotations

from pathlib import Path

import pytest

from p4compiler import ast as A
from p4compiler import parse_file, parse_source
from p4compiler import types as T
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import BuiltinDecl, check


def _accept_files(conf: Path) -> list[Path]:
    files = sorted((conf / "p4c-stf").glob("*.p4")) + sorted((conf / "p4c-accept").glob("*.p4")) + \
        sorted((conf / "p4c-p414-stf").glob("*.p4")) + sorted((conf / "tutorials").glob("*/solution/*.p4"))
    for extra in ("p4runtime/advanced_tunnel.p4", "firewall/basic.p4"):
        if (conf / "tutorials" / extra).exists():
            files.append(conf / "tutorials" / extra)
    skip = {"arith-skeleton.p4", "arith-inline-skeleton.p4", "ml-headers.p4"}
    return [f for f in files if f.name not in skip]


def test_accept_corpus_has_no_false_errors(conformance_dir):
    files = _accept_files(conformance_dir)
    assert len(files) > 200
    failures = []
    for f in files:
        diags = Diagnostics()
        try:
            check(parse_file(str(f), diags=diags), diags)
        except CompilerError as exc:
            failures.append(f"{f.name}: {exc}")
    assert not failures, "\n".join(failures)


def _tp(src: str):
    diags = Diagnostics()
    prog = parse_source(src, "t.p4", diags=diags, preprocess=False)
    return prog, check(prog, diags)


def _err(src: str) -> CompilerError:
    diags = Diagnostics()
    prog = parse_source(src, "t.p4", diags=diags, preprocess=False)
    with pytest.raises(CompilerError) as ei:
        check(prog, diags)
    return ei.value


def test_literal_width_inferred_from_context_and_folded():
    prog, tp = _tp("""
        const bit<8> A = 250 + 10;
        const int<4> B = -9;
        const bit<16> C = (bit<16>)(8w1 ++ 8w2);
        const bit<4> D = 0xAB[3:0];
        const bool E = 3 > 2 && !false;
        const int F = 7 / 2 + 7 % 2;
    """)
    vals = {d.name: tp.const_value(d) for d in prog.declarations}
    assert vals == {"A": 4, "B": 7, "C": 0x0102, "D": 0xB, "E": True, "F": 4}
    a = prog.declarations[0]
    assert tp.type_of(a.init) == T.Bits(8)
    assert tp.implicit_cast(a.init) == T.Bits(8)


def test_binary_op_literal_takes_other_operand_width():
    prog, tp = _tp("""
        control c(inout bit<12> x) { apply { x = x + 3; } }
    """)
    asg = prog.declarations[0].body.components[0]
    lit = asg.right.right
    assert tp.type_of(lit) == T.Bits(12)
    assert tp.type_of(asg.right) == T.Bits(12)


def test_generic_extern_inference_and_decl_of():
    prog, tp = _tp("""
        extern E<T> { E(); T get(); void put<U>(in U v, in T w); }
        header h_t { bit<8> f; }
        control c(inout h_t h) {
            E<bit<16>>() e;
            apply {
                bit<16> y = e.get();
                e.put(h, y);
                if (h.isValid()) { h.setInvalid(); }
            }
        }
    """)
    ctrl = prog.declarations[-1]
    inst = ctrl.locals[0]
    assert tp.decl_type(inst) == T.Extern("E", [], prog.declarations[0], (T.Bits(16),))
    y = ctrl.body.components[0]
    assert tp.type_of(y.init) == T.Bits(16)
    cond = ctrl.body.components[2].cond
    assert isinstance(tp.decl_of(cond.method), BuiltinDecl)
    assert tp.type_of(cond) == T.Bool()


def test_enum_error_and_serenum_members():
    prog, tp = _tp("""
        error { Oops }
        enum E { A, B }
        enum bit<4> S { X = 1, Y = 2 }
        const bit<4> v = (bit<4>)S.Y;
        control c(out error e, out E x) { apply { e = error.Oops; x = E.B; } }
    """)
    assert tp.const_value(prog.declarations[3]) == 2
    assigns = prog.declarations[-1].body.components
    assert isinstance(tp.decl_of(assigns[0].right), A.DeclarationId)
    assert tp.type_of(assigns[1].right).name == "E"


@pytest.mark.parametrize("src,line,needle", [
    ("control c() { apply { x = 1; } }", 1, "declaration not found"),
    ("control c(inout bit<8> a, in bit<4> b) {\n apply { a = a + b; } }", 2, "different widths 8 and 4"),
    ("const bit<8> x = 1;\ncontrol c() { apply {\n x = 2; } }", 3, "assignment"),
    ("action a(bit<8> b) {}\ncontrol c() { apply {\n a(); } }", 3, "must be bound"),
    ("header h { bool b; }\ncontrol c(inout h x) { apply {\n bit<8> v = x.nope; } }", 3, "not a member"),
    ("const int a = 1 / 0;", 1, "Division by zero"),
    ("control c(inout bit<8> a) { apply {\n a = a[9:0]; } }", 2, "Bit index 9 greater than width 8"),
])
def test_errors_located(src, line, needle):
    e = _err(src)
    assert e.location.line == line
    assert needle in e.message


def test_bad_program_error_not_traceback(tmp_path):
    f = tmp_path / "x.p4"
    f.write_text("#include <core.p4>\ncontrol c(inout bit<8> a) { apply { a = true; } }\n")
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        check(parse_file(str(f), diags=diags), diags)
    assert ei.value.diagnostic.severity == "error"
    assert ei.value.location.line == 2


def test_call_args_named_defaults_and_type_args():
    prog, tp = _tp("""
        header h_t { bit<8> f; }
        extern packet_in { void extract<T>(out T hdr); }
        extern void f(in bit<8> a, in bit<8> b = 7);
        parser p(packet_in pk, out h_t h) {
            state start { pk.extract(h); f(b = 2, a = 1); f(3); transition accept; }
        }
    """)
    st = prog.declarations[-1].states[0]
    ext, named, dflt = (c.call for c in st.components)
    assert tp.type_args(ext) == {"T": tp.decl_type(prog.declarations[0])}
    assert tp.call_type(ext).params[0].type.name == "h_t"
    pairs = tp.call_args(named)
    assert [(p.name, tp.const_value(e)) for p, e in pairs] == [("a", 1), ("b", 2)]
    pairs = tp.call_args(dflt)
    assert [(p.name, tp.const_value(e)) for p, e in pairs] == [("a", 3), ("b", 7)]
    assert tp.type_of(pairs[0][1]) == T.Bits(8)


def test_phase_order_resolution_error_reported_before_type_error():
    # p4c resolves all names before type checking: the undeclared name (line 3) wins over
    # the type error on line 2.
    e = _err("control c(inout bit<8> a) { apply {\n a = true;\n a = nope; } }")
    assert e.location.line == 3 and "declaration not found" in e.message


# Valid programs exercising many features at once (written for these tests): no false errors.
_FEATURES_V1MODEL = r"""
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
header_union u_t { h_t x; h_t y; }
struct hs { h_t h; u_t u; h_t[3] st; }
struct m_t { bit<8> v; bool flag; }
enum bit<8> Kind { A = 1, B = 2 }
typedef bit<16> port_t;
type bit<16> nport_t;
const port_t P0 = 5;
parser p(packet_in b, out hs hdr, inout m_t meta, inout standard_metadata_t sm) {
    value_set<bit<8>>(4) pvs;
    state start {
        b.extract(hdr.h);
        bit<8> la = b.lookahead<bit<8>>();
        transition select(hdr.h.a, hdr.h.b) {
            (0x01 &&& 0x0f, _): s1;
            (pvs, 16w0 .. 16w10): s2;
            (Kind.A, default): s2;
            default: accept;
        }
    }
    state s1 { b.extract(hdr.u.x); verify(hdr.h.a != 0, error.NoMatch); transition s2; }
    state s2 { b.extract(hdr.st.next); transition select(hdr.st.last.a) { 0: s2; default: accept; } }
}
control ig(inout hs hdr, inout m_t meta, inout standard_metadata_t sm) {
    register<bit<32>>(16) r;
    counter(8, CounterType.packets) c;
    direct_counter(CounterType.bytes) dc;
    action set(bit<9> port, Kind k) { sm.egress_spec = port; meta.v = (bit<8>)k; dc.count(); }
    action nop() {}
    table t {
        key = { hdr.h.a: exact; hdr.h.b: ternary @name("bee"); meta.flag: exact; hdr.h.isValid(): exact; }
        actions = { set; nop; @defaultonly NoAction; }
        const entries = {
            (1, 2 &&& 3, true, true): set(1, Kind.B);
            (_, _, false, _): nop();
        }
        default_action = NoAction();
        counters = dc;
        size = 64;
    }
    apply {
        bit<32> x;
        r.read(x, 0);
        r.write((bit<32>)hdr.h.a, x + 1);
        c.count((bit<32>)hdr.h.b);
        nport_t np = (nport_t)hdr.h.b;
        port_t pp = (port_t)np;
        hash(x, HashAlgorithm.crc16, 32w0, { hdr.h.a, hdr.h.b }, 32w1024);
        switch (t.apply().action_run) {
            set: { meta.v = meta.v |+| 1; }
            nop: {}
        }
        if (t.apply().hit) { exit; }
        bit<16> s = hdr.h.b[15:8] ++ hdr.h.a;
        int<8> si = -1;
        si = si >> 1;
        hdr.st.push_front(1);
        hdr.st.pop_front(1);
        hdr.u.x.setInvalid();
        bool v = hdr.u.isValid();
        meta.flag = hdr.h.a == 8w0 ? true : false;
        log_msg("x={}", {x});
        mark_to_drop(sm);
        sm.egress_spec = (bit<9>)P0;
        hdr.st[0] = { 1, 2 };
        hdr.h = { a = 1, b = 2 };
        m_t mm = { v = 1, flag = true };
        mm = { 2, false };
        for (bit<8> i = 0; i < 4; i = i + 1) { meta.v = meta.v + i; }
        random(x, 0, 10);
        digest(1, { hdr.h.a });
        clone3(CloneType.I2E, 5, { meta.v });
        truncate(64);
    }
}
control eg(inout hs hdr, inout m_t meta, inout standard_metadata_t sm) { apply {} }
control vc(inout hs hdr, inout m_t meta) {
    apply { verify_checksum(hdr.h.isValid(), { hdr.h.a, hdr.h.b }, hdr.h.b, HashAlgorithm.csum16); }
}
control uc(inout hs hdr, inout m_t meta) {
    apply { update_checksum(true, { hdr.h.a }, hdr.h.b, HashAlgorithm.csum16); }
}
control dp(packet_out pk, in hs hdr) { apply { pk.emit(hdr.h); pk.emit(hdr.u); pk.emit(hdr.st); } }
V1Switch(p(), vc(), ig(), eg(), uc(), dp()) main;
"""

_FEATURES_GENERIC = r"""
#include <core.p4>
T id<T>(in T x) { return x; }
void swap<T>(inout T a, inout T b) { T t = a; a = b; b = t; }
bit<8> twice(in bit<8> x) { return x + x; }
struct S<T> { T f; bit<8> g; }
header H<T> { T f; }
extern Gen<T> { Gen(T init); T get(); void set(in T v); }
control c(inout bit<8> x, inout bit<16> y) {
    Gen<bit<8>>(8w3) g;
    Gen(16w3) g2;
    S<bit<16>> s;
    apply {
        x = id(x);
        y = id<bit<16>>(y);
        swap(x, x);
        x = twice(x) + id(8w1);
        s.f = y; s.g = x;
        x = g.get();
        g.set(x + 1);
        y = g2.get();
        S<bit<8>> s2 = { f = 1, g = 2 };
        x = s2.f;
        bool b = id(true);
    }
}
control ct(inout bit<8> x, inout bit<16> y);
package top(ct c);
top(c()) main;
"""

_FEATURES_SERENUM = r"""
enum bit<16> E { a = 5, b = 6 }
control c(inout bit<16> x, inout E e) {
    apply {
        x = 16w11 * E.a;
        if (x == E.b) { x = E.a + 1; }
        if (e == E.a) { e = E.b; }
        bool q = E.a > x;
        x = e;
    }
}
control ct(inout bit<16> x, inout E e);
package top(ct c);
top(c()) main;
"""


@pytest.mark.parametrize("src", [_FEATURES_V1MODEL, _FEATURES_GENERIC, _FEATURES_SERENUM],
                         ids=["v1model", "generic", "serenum"])
def test_feature_programs_accepted(tmp_path, src):
    f = tmp_path / "prog.p4"
    f.write_text(src)
    diags = Diagnostics()
    tp = check(parse_file(str(f), diags=diags), diags)
    assert not diags.errors
    # every expression got a type (later passes rely on type_of)
    untyped = [(type(n).__name__, n.loc) for n in tp.program.walk()
               if isinstance(n, A.Expression) and tp.type_of(n).is_unknown]
    assert not untyped


def test_table_references_resolved():
    prog, tp = _tp("""
        match_kind { exact, lpm }
        action NoAction() {}
        control c(inout bit<8> x, inout bit<16> y) {
            action set(bit<8> v) { x = v; }
            table t {
                key = { y: lpm; }
                actions = { set; NoAction; }
                const entries = { 16w1 &&& 16w0xff00: set(3); }
                default_action = NoAction();
            }
            apply {
                switch (t.apply().action_run) {
                    set: { x = 1; }
                    default: {}
                }
            }
        }
    """)
    ctrl = prog.declarations[-1]
    act, tbl = ctrl.locals
    key = tbl.property("key").elements[0]
    assert isinstance(tp.decl_of(key.match_kind), A.DeclarationId)
    refs = tbl.property("actions").actions
    assert tp.decl_of(refs[0]) is act
    entry = tbl.property("entries").entries[0]
    mask = entry.keys.items[0]
    assert isinstance(mask, A.Mask) and tp.type_of(mask) == T.Bits(16)
    assert tp.const_value(mask.mask) == 0xff00 and tp.implicit_cast(mask.mask) is None
    call = entry.action
    assert [(p.name, tp.const_value(e)) for p, e in tp.call_args(call)] == [("v", 3)]
    sw = ctrl.body.components[0]
    assert isinstance(tp.type_of(sw.expr), T.ActionEnum)
    assert tp.decl_of(sw.cases[0].label) is act
    assert tp.type_of(sw.expr.expr) == T.TableResult(tbl)
