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
    ("control c(inout bit<8> a, in bit<4> b) {\n apply { a = a + b; } }", 2, "different types"),
    ("const bit<8> x = 1;\ncontrol c() { apply {\n x = 2; } }", 3, "assignment"),
    ("action a(bit<8> b) {}\ncontrol c() { apply {\n a(); } }", 3, "must be bound"),
    ("header h { bool b; }\ncontrol c(inout h x) { apply {\n bit<8> v = x.nope; } }", 3, "not a member"),
    ("const int a = 1 / 0;", 1, "Division by zero"),
    ("control c(inout bit<8> a) { apply {\n a = a[9:0]; } }", 2, "bit index"),
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
