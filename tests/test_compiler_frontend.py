"""Tests of the compiler's front half: preprocessor, lexer, parser, AST printer,
diagnostics and the `p4pc` command line (parse stage).

Corpus tests (folder from env P4LVS_CONFORMANCE, default /work/shared/conformance):
* every program of p4c-stf, p4c-accept, p4c-p414-stf and tutorials parses, and
  survives a print -> parse round trip with an equal AST;
* for p4c-errors: no program crashes the parser; the programs whose p4c output
  has a syntax error are rejected on the line of p4c's first error.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

import p4compiler
from p4compiler import ast as A
from p4compiler import parse_file, parse_source
from p4compiler.__main__ import main as p4pc_main
from p4compiler.diagnostics import CompilerError, Diagnostic, Diagnostics, SourceLocation
from p4compiler.lexer import IntValue, tokenize
from p4compiler.parser import ParseError, Parser
from p4compiler.preprocess import PreprocessOptions, preprocess_file, preprocess_text
from p4compiler.printer import to_source

CONF = Path(os.environ.get("P4LVS_CONFORMANCE")
            or Path(__file__).resolve().parent.parent.parent / "shared" / "conformance")
PROJECT_INCLUDE = Path(p4compiler.__file__).parent / "p4include"
LOCAL_INCLUDES = {"arith-skeleton.p4", "arith-inline-skeleton.p4", "ml-headers.p4"}

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


def include_dirs() -> list[str]:
    """The project's p4include is always searched (after -I dirs); the corpus'
    copy is used only as a test input path while the project's is incomplete."""
    if (PROJECT_INCLUDE / "core.p4").is_file() and (PROJECT_INCLUDE / "v1model.p4").is_file():
        return []
    return [str(CONF / "p4include")]


def accept_programs(conf: Path = CONF) -> list[str]:
    files: list[str] = []
    for d in ("p4c-stf", "p4c-accept", "p4c-p414-stf"):
        files += sorted(glob.glob(str(conf / d / "*.p4")))
    files += sorted(glob.glob(str(conf / "tutorials" / "**" / "*.p4"), recursive=True))
    return [f for f in files if os.path.basename(f) not in LOCAL_INCLUDES]


def error_programs(conf: Path = CONF) -> list[str]:
    return sorted(glob.glob(str(conf / "p4c-errors" / "*.p4")))


def _id(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-3:] if "tutorials" in parts else parts[-2:])


def pytest_generate_tests(metafunc):
    """Corpus parametrization, honouring conftest's --conformance-dir option."""
    wanted = {"accept_program": accept_programs, "error_program": error_programs}
    for name, lister in wanted.items():
        if name in metafunc.fixturenames:
            opt = metafunc.config.getoption("--conformance-dir", default=None)
            conf = Path(opt).expanduser().resolve() if opt else CONF
            files = lister(conf) if conf.is_dir() else []
            if not files:
                files = [pytest.param("", marks=pytest.mark.skip(reason=f"no corpus at {conf}"))]
            metafunc.parametrize(name, files, ids=_id)


def p4c_first_error_line(program: str) -> tuple[int | None, bool]:
    """(line of p4c's first located message, whether p4c reported a syntax error)."""
    try:
        text = Path(program + "-stderr").read_text()
    except OSError:
        return None, False
    m = re.search(r"^\S+?\((\d+)\)", text, re.M)
    return (int(m.group(1)) if m else None), "syntax error" in text


def parse(src: str, **kw) -> A.Program:
    return parse_source(src, "t.p4", include_dirs=include_dirs(), **kw)


def parse_np(src: str) -> A.Program:
    """Parse without the preprocessor (no includes needed)."""
    return parse_source(src, "t.p4", preprocess=False)


def first_expr(src_expr: str, decls: str = "") -> A.Expression:
    prog = parse_np(decls + f"\nconst bit<8> probe = {src_expr};")
    return prog.declarations[-1].init


def syntax_error(src: str) -> CompilerError:
    with pytest.raises(CompilerError) as ei:
        parse_np(src)
    return ei.value


# ===================================================================== corpus

def test_accept_corpus_parses_and_round_trips(accept_program):
    prog = parse_file(accept_program, include_dirs())
    assert prog.declarations, "empty program"
    text = to_source(prog)
    again = parse_source(text, "roundtrip.p4", preprocess=False)
    assert again == prog, "print -> parse changed the AST"
    assert to_source(again) == text, "printing is not stable"


def test_corpus_is_complete(conformance_dir):
    # the dev corpus: 140 + 86 + 27 programs + tutorial solutions; 407 error programs
    assert len(accept_programs(conformance_dir)) >= 250
    assert len(error_programs(conformance_dir)) >= 400


def test_error_corpus(error_program):
    p4c_line, p4c_syntax = p4c_first_error_line(error_program)
    diags = Diagnostics()
    try:
        prog = parse_file(error_program, include_dirs(), diags=diags)
    except CompilerError as exc:
        loc = exc.location
        assert loc is not None and loc.line > 0, f"unlocated error: {exc}"
        if p4c_syntax:
            assert loc.line == p4c_line, f"p4c: line {p4c_line}; ours: {exc.diagnostic.header()}"
        return
    except Exception as exc:  # noqa: BLE001 - that is the failure being tested
        pytest.fail(f"parser crashed: {type(exc).__name__}: {exc}")
    assert not p4c_syntax, f"p4c reports a syntax error on line {p4c_line}; we accepted the program"
    # the semantic errors are for later passes; the program must still round-trip
    assert parse_source(to_source(prog), "rt.p4", preprocess=False) == prog


def test_largest_program_parse_time(conformance_dir):
    largest = max(accept_programs(conformance_dir), key=os.path.getsize)
    start = time.perf_counter()
    prog = parse_file(largest, include_dirs())
    elapsed = time.perf_counter() - start
    print(f"\nparse time of the largest program {_id(largest)} "
          f"({os.path.getsize(largest)} bytes, {len(prog.declarations)} declarations): {elapsed:.3f} s")
    assert elapsed < 5.0


# ================================================================= lexer

@pytest.mark.parametrize("text,value", [
    ("5", IntValue(5)),
    ("8w5", IntValue(5, 8, False, 10)),
    ("4s3", IntValue(3, 4, True, 10)),
    ("0x1F", IntValue(31, None, False, 16)),
    ("0X1f", IntValue(31, None, False, 16)),
    ("0o17", IntValue(15, None, False, 8)),
    ("0b1010", IntValue(10, None, False, 2)),
    ("0d99", IntValue(99, None, False, 10)),
    ("1_000_000", IntValue(1000000)),
    ("32w0xFF_FF", IntValue(0xFFFF, 32, False, 16)),
    ("16s0b1111_0000", IntValue(0xF0, 16, True, 2)),
])
def test_integer_literals(text, value):
    toks = tokenize(text)
    assert [t.kind for t in toks] == ["INTEGER", "EOF"]
    assert toks[0].value == value


def test_operators_are_longest_match():
    src = "a &&& b .. c ++ d |+| e |-| f {#} ... g[1 +: 2] h && i & j << k <= l"
    kinds = [t.kind for t in tokenize(src)]
    for op in ("&&&", "..", "++", "|+|", "|-|", "{#}", "...", "+:", "&&", "&", "<<", "<="):
        assert op in kinds, op


def test_right_shift_is_two_tokens():
    kinds = [t.kind for t in tokenize("a >> b")]
    assert kinds == ["IDENTIFIER", ">", ">", "IDENTIFIER", "EOF"]


def test_keywords_identifiers_and_dontcare():
    toks = tokenize("control apply_x _ _x bit varbit value_set header_union")
    assert [t.kind for t in toks] == ["CONTROL", "IDENTIFIER", "_", "IDENTIFIER", "BIT", "VARBIT",
                                      "VALUE_SET", "HEADER_UNION", "EOF"]


def test_strings_comments_and_locations():
    src = 'x /* one\ntwo */ y // tail\n  "a \\" b" @pragma z'
    toks = tokenize(src, "f.p4")
    assert [t.kind for t in toks] == ["IDENTIFIER", "IDENTIFIER", "STRING_LITERAL", "PRAGMA",
                                      "IDENTIFIER", "EOF"]
    assert toks[1].location == SourceLocation("f.p4", 2, 8, 1)
    assert toks[2].value == 'a \\" b'
    assert toks[2].location.line == 3 and toks[2].location.column == 3


def test_line_markers_are_followed():
    src = '# 1 "main.p4"\na\n# 40 "inc/lib.p4" 1\nb\nc\n# 3 "main.p4" 2\nd\n'
    locs = [(t.text, t.location.file, t.location.line) for t in tokenize(src, "ignored")[:-1]]
    assert locs == [("a", "main.p4", 1), ("b", "inc/lib.p4", 40), ("c", "inc/lib.p4", 41),
                    ("d", "main.p4", 3)]


def test_stray_character_is_unexpected_token():
    assert tokenize("a $ b")[1].kind == "UNEXPECTED_TOKEN"


# ============================================================ preprocessor

def test_preprocessor_macros_and_conditionals():
    src = """
#define W 16
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define GONE 1
#undef GONE
#ifdef GONE
this is not P4
#elif W == 16
const bit<W> x = MAX(1, 2);
#else
also not P4
#endif
#ifndef FROM_CMDLINE
const bit<8> y = 1;
#endif
#if LEVEL > 2
const bit<8> z = LEVEL;
#endif
"""
    prog = parse_source(src, "m.p4")
    names = [d.name for d in prog.declarations]
    assert names == ["x", "y"]
    assert prog.declarations[0].type == A.BitsType(A.IntLiteral(16))
    assert isinstance(prog.declarations[0].init, A.Mux)
    pp = preprocess_text(src, "m.p4", PreprocessOptions(defines={"FROM_CMDLINE": "1", "LEVEL": "3"}))
    prog = parse_source(pp.text, "m.p4", preprocess=False)
    assert [d.name for d in prog.declarations] == ["x", "z"]
    assert prog.declarations[1].init == A.IntLiteral(3)


def test_includes_and_locations_point_into_the_included_file(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "sys.p4").write_text("// system header\nconst bit<8> from_sys = 1;\n")
    (tmp_path / "local.p4").write_text("\n\nconst bit<8> from_local = 2;\nconst bit<8> bad = ;\n")
    main = tmp_path / "main.p4"
    main.write_text("#include <sys.p4>\n#include \"local.p4\"\nconst bit<8> m = 3;\n")
    with pytest.raises(CompilerError) as ei:
        parse_file(str(main), [str(inc)])
    loc = ei.value.location
    assert loc.file.endswith("local.p4") and loc.line == 4 and loc.column == 20
    (tmp_path / "local.p4").write_text("\n\nconst bit<8> from_local = 2;\n")
    prog = parse_file(str(main), [str(inc)])
    assert [(d.name, os.path.basename(d.loc.file), d.loc.line) for d in prog.declarations] == [
        ("from_sys", "sys.p4", 2), ("from_local", "local.p4", 3), ("m", "main.p4", 3)]


def test_missing_include_is_a_located_error(tmp_path):
    main = tmp_path / "main.p4"
    main.write_text("\n#include <no_such_file.p4>\n")
    with pytest.raises(CompilerError) as ei:
        preprocess_file(str(main))
    assert ei.value.location.line == 2
    assert "no_such_file.p4" in ei.value.message


def test_project_p4include_is_searched_last(tmp_path):
    (tmp_path / "core.p4").write_text("const bit<8> mine = 1;\n")
    main = tmp_path / "main.p4"
    main.write_text("#include <core.p4>\n")
    prog = parse_file(str(main), [str(tmp_path)])
    assert [d.name for d in prog.declarations] == ["mine"]


# ================================================================== parser

def test_binary_precedence_follows_p4c():
    e = first_expr("a & b == c")           # & binds tighter than == in P4
    assert e.op == "==" and e.left.op == "&"
    e = first_expr("a + b << c")
    assert e.op == "<<" and e.left.op == "+"
    e = first_expr("a | b ^ c & d")
    assert e.op == "|" and e.right.op == "^" and e.right.right.op == "&"
    e = first_expr("a - b - c")             # left associative
    assert e.op == "-" and e.left.op == "-"
    e = first_expr("a ++ b * c")
    assert e.op == "++" and e.right.op == "*"
    e = first_expr("a || b && c")
    assert e.op == "||" and e.right.op == "&&"


def test_prefix_cast_and_postfix():
    e = first_expr("-a.b[2]")
    assert isinstance(e, A.UnaryOp) and isinstance(e.expr, A.ArrayIndex)
    e = first_expr("(bit<8>) a + b")
    assert e.op == "+" and isinstance(e.left, A.Cast)
    e = first_expr("!a == b")
    assert e.op == "==" and isinstance(e.left, A.UnaryOp)
    e = first_expr("a[7:4]")
    assert isinstance(e, A.Slice)
    e = first_expr("a[4 +: 2]")
    assert isinstance(e, A.PlusSlice)


def test_conditional_operator_is_left_associative_like_p4c():
    e = first_expr("a ? b : c ? d : e")
    assert isinstance(e, A.Mux) and isinstance(e.cond, A.Mux)
    e = first_expr("a ? b : c + 1")
    assert isinstance(e.other, A.BinaryOp)


def test_shift_versus_nested_type_arguments():
    e = first_expr("a >> 2")
    assert e == A.BinaryOp(">>", A.PathExpression(A.Path("a")), A.IntLiteral(2))
    e = first_expr("a > b")
    assert e.op == ">"
    err = syntax_error("const bit<8> x = a > > 2;")
    assert err.location.column == 22 and "unexpected >" in err.message
    prog = parse_np("struct S<T> { T f; } typedef S<S<bit<8>>> SS; const bit<8> x = 1 >> 1;")
    assert prog.declarations[1].type == A.SpecializedType(
        A.TypeName(A.Path("S")), [A.SpecializedType(A.TypeName(A.Path("S")), [A.BitsType(A.IntLiteral(8))])])


def test_generic_call_versus_less_than():
    decls = "extern T f<T>(in T x);"
    e = first_expr("f<bit<8>>(1)", decls)
    assert isinstance(e, A.MethodCallExpression) and e.type_args == [A.BitsType(A.IntLiteral(8))]
    e = first_expr("a < b", decls)
    assert e.op == "<"
    e = first_expr("a < b > (c)", decls)
    assert e.op == ">" and e.left.op == "<"


def test_type_names_versus_identifiers():
    prog = parse_np("""
        header H { bit<8> a; }
        enum E { A, B }
        control C<T>(inout H h, in T t) {
            apply {
                H H2;                       // declaration: H is a type
                h.a = (bit<8>)t;            // cast to... bit<8>
                T copy = (T)t;              // cast to the type parameter
                E e = E.A;                  // enum member through the type
                H2 = (H)h;
            }
        }
        control D(inout H H) {              // a parameter hides the type name
            apply { H.a = 1; }
        }
    """)
    body = prog.declarations[2].body.components
    assert isinstance(body[0], A.VariableDeclaration) and body[0].type == A.TypeName(A.Path("H"))
    assert isinstance(body[2], A.VariableDeclaration) and body[2].init == A.Cast(
        A.TypeName(A.Path("T")), A.PathExpression(A.Path("t")))
    assert body[3].init == A.Member(A.TypeNameExpression(A.TypeName(A.Path("E"))), "A")
    stmt = prog.declarations[3].body.components[0]
    assert isinstance(stmt, A.AssignmentStatement) and stmt.left == A.Member(A.PathExpression(A.Path("H")), "a")


def test_declarations_of_every_kind():
    prog = parse_np("""
        error { NoError, PacketTooShort }
        match_kind { exact, ternary, lpm, }
        typedef bit<48> mac_t;
        type bit<9> port_t;
        typedef struct Pair { bit<8> a; bit<8> b; } Pair_t;
        @p4runtime_translation("p4.org/x", 32) type bit<16> T16;
        header Hdr<T> { T f; varbit<32> v; }
        header_union U { Hdr<bit<8>> a; }
        struct S { Hdr<bit<8>>[4] stack; bit<8>[2] arr; tuple<bit<8>, bool> t; }
        enum bit<8> Ser { X = 1, Y = 2, }
        enum Plain { P, Q }
        const int big = 1 << 70;
        extern Counter<I> {
            Counter(bit<32> size);
            void count(in I index);
            abstract bit<16> hash<D>(in D data);
            @pure T get<T>();
        }
        extern void log_msg<T>(string msg, in T data);
        extern T pick<T>(in T a, in T b);
        extern Fwd;
        parser Prs<H>(out H h);
        control Ctl<H>(inout H h);
        package Pkg<H>(Prs<H> p, Ctl<H> c);
        action global_act(bit<8> x) { }
        bit<8> max(in bit<8> a, in bit<8> b) { return a > b ? a : b; }
    """)
    kinds = [type(d).__name__ for d in prog.declarations]
    assert kinds == [
        "ErrorDeclaration", "MatchKindDeclaration", "TypedefDeclaration", "TypedefDeclaration",
        "TypedefDeclaration", "TypedefDeclaration", "HeaderDeclaration", "HeaderUnionDeclaration",
        "StructDeclaration", "SerEnumDeclaration", "EnumDeclaration", "ConstantDeclaration",
        "ExternDeclaration", "ExternFunctionDeclaration", "ExternFunctionDeclaration",
        "ExternForwardDeclaration", "ParserTypeDeclaration", "ControlTypeDeclaration",
        "PackageTypeDeclaration", "ActionDeclaration", "FunctionDeclaration"]
    assert prog.declarations[3].newtype and not prog.declarations[2].newtype
    assert isinstance(prog.declarations[4].type, A.StructDeclaration)
    ext = prog.declarations[12]
    assert [m.return_type is None for m in ext.methods] == [True, False, False, False]
    assert ext.methods[2].abstract and ext.methods[2].type_params == [A.TypeParameter("D")]
    assert prog.declarations[14].prototype.return_type == A.TypeName(A.Path("T"))
    s = prog.declarations[8]
    assert s.fields[0].type == A.StackType(A.SpecializedType(A.TypeName(A.Path("Hdr")),
                                                             [A.BitsType(A.IntLiteral(8))]), A.IntLiteral(4))
    assert s.fields[1].type == A.StackType(A.BitsType(A.IntLiteral(8)), A.IntLiteral(2))
    assert prog.declarations[11].init.left.value == 1


PARSER_PROGRAM = """
header H { bit<8> a; bit<16> b; }
struct Hs { H h; H[2] s; }
extern packet_in { void extract<T>(out T hdr); T lookahead<T>(); }
parser P(packet_in pk, out Hs hs)(bit<8> k) {
    value_set<bit<8>>(4) vs;
    value_set<tuple<bit<8>, bit<16>>>(4) vs2;
    bit<8> tmp;
    @name("start_state") state start {
        pk.extract(hs.h);
        tmp = pk.lookahead<bit<8>>();
        { bit<8> inner = 1; }
        if (tmp == 0) { tmp = 1; } else tmp = 2;
        transition select(hs.h.a, hs.h.b) {
            (1, 2): next;
            (0x3 &&& 0xf, _): next;
            (1 .. 5, default): next;
            (vs, 7): next;
            (_): next;
            default: accept;
        }
    }
    state next { transition select(hs.h.a) { 8w1 &&& 8w1: accept; vs: reject; _: accept; } }
    state last { }
}
"""


def test_parser_declaration():
    prog = parse_np(PARSER_PROGRAM)
    p = prog.declarations[-1]
    assert isinstance(p, A.ParserDeclaration)
    assert [type(d).__name__ for d in p.locals] == ["ValueSetDeclaration", "ValueSetDeclaration",
                                                    "VariableDeclaration"]
    assert [s.name for s in p.states] == ["start", "next", "last"]
    assert p.ctor_params[0].name == "k"
    start = p.states[0]
    assert start.annotations[0].name == "name"
    assert start.annotations[0].exprs == [A.StringLiteral("start_state")]
    sel = start.transition
    assert isinstance(sel, A.SelectExpression) and len(sel.cases) == 6
    assert sel.cases[0].keyset == A.ListExpression([A.IntLiteral(1), A.IntLiteral(2)])
    assert isinstance(sel.cases[1].keyset.items[0], A.Mask)
    assert sel.cases[1].keyset.items[1] == A.DefaultExpression(True)
    assert isinstance(sel.cases[2].keyset.items[0], A.Range)
    assert sel.cases[4].keyset == A.ListExpression([A.DefaultExpression(True)])
    assert sel.cases[5].keyset == A.DefaultExpression(False)
    assert p.states[2].transition is None
    call = start.components[1].right
    assert isinstance(call, A.MethodCallExpression) and call.type_args == [A.BitsType(A.IntLiteral(8))]


CONTROL_PROGRAM = """
header H { bit<8> a; bit<16> b; }
extern Register<T> { Register(bit<32> n); T read(in bit<32> i); }
extern ActionSelector { ActionSelector(bit<32> s); }
extern Virtual { Virtual(); abstract bit<16> f(in bit<16> ix); }
control C(inout H h) {
    const bit<8> K = 2;
    Register<bit<8>>(16) reg;
    Virtual() cntr = {
        bit<16> f(in bit<16> ix) { return ix + 1; }
    };
    action a(bit<8> x) { h.a = x; }
    @name(".b_global") action b() { exit; }
    table t {
        key = { h.a : exact @name("key_a"); h.b : ternary; }
        actions = { a; @defaultonly b; NoAction; }
        default_action = a(1);
        const entries = {
            (1, 0 &&& 0) : a(2);
            priority = 10 : (2, _) : a(3) @priority(3);
            const priority = (K + 1) : (3, 1) : b();
        }
        size = 1024;
        implementation = ActionSelector(32);
        @my_anno const my_property = {1, 2};
    }
    table u { actions = { a(5); } const entries = { _ : a(5); } }
    apply {
        switch (t.apply().action_run) {
            a:
            b: { h.b = 1; }
            default: { }
        }
        if (t.apply().hit) { return; }
        for (bit<8> i = 0, bit<8> j = 1; i < 4; i = i + 1, j = j |+| 1) { if (i == 2) continue; break; }
        for (bit<8> k in 1 .. 4) { h.a = h.a + k; }
        for (@anno bit<8> k in h.a) { }
        h.a += 1; h.b |-|= 2; h.b >>= 1; h.b <<= 1;
        h.b[3:0] = h.b[7:4]; h.b[0 +: 4] = 0;
        C.apply(h);
        @atomic { h.a = reg.read(0); }
        ;
    }
}
"""


def test_control_declaration():
    prog = parse_np(CONTROL_PROGRAM)
    c = prog.declarations[-1]
    assert isinstance(c, A.ControlDeclaration)
    assert [type(d).__name__ for d in c.locals] == ["ConstantDeclaration", "Instantiation", "Instantiation",
                                                    "ActionDeclaration", "ActionDeclaration",
                                                    "TableDeclaration", "TableDeclaration"]
    inst = c.locals[2]
    assert isinstance(inst.initializer[0], A.FunctionDeclaration)
    t = c.locals[5]
    assert [p.name for p in t.properties] == ["key", "actions", "default_action", "entries", "size",
                                              "implementation", "my_property"]
    key = t.property("key")
    assert key.elements[0].match_kind.name == "exact" and key.elements[0].annotations[0].name == "name"
    acts = t.property("actions")
    assert [a.name for a in acts.actions] == ["a", "b", "NoAction"]
    assert acts.actions[1].annotations[0].name == "defaultonly"
    ents = t.property("entries")
    assert ents.const and len(ents.entries) == 3
    assert ents.entries[1].priority == A.IntLiteral(10)
    assert ents.entries[1].annotations[0].exprs == [A.IntLiteral(3)]
    assert ents.entries[2].const and isinstance(ents.entries[2].priority, A.BinaryOp)
    custom = t.property("my_property")
    assert custom.const and custom.annotations[0].name == "my_anno"
    assert c.locals[6].property("entries").entries[0].keys == A.ListExpression([A.DefaultExpression(True)])
    body = c.body.components
    sw = body[0]
    assert isinstance(sw, A.SwitchStatement) and sw.cases[0].body is None and sw.cases[1].body is not None
    assert sw.cases[2].label == A.DefaultExpression(False)
    f1, f2, f3 = body[2], body[3], body[4]
    assert isinstance(f1, A.ForStatement) and len(f1.init) == 2 and len(f1.update) == 2
    assert isinstance(f2, A.ForInStatement) and isinstance(f2.collection, A.Range)
    assert f3.decl.annotations[0].name == "anno"
    assert [s.op for s in body[5:9]] == ["+=", "|-|=", ">>=", "<<="]
    assert isinstance(body[10].left, A.PlusSlice)
    direct = body[11]
    assert isinstance(direct, A.MethodCallStatement)
    assert direct.call.method == A.Member(A.TypeNameExpression(A.TypeName(A.Path("C"))), "apply")
    assert body[12].annotations[0].name == "atomic"
    assert isinstance(body[13], A.EmptyStatement)


def test_expressions_of_every_kind():
    prog = parse_np("""
        header H { bit<8> a; }
        struct S { bit<8> x; H h; }
        const S s1 = { x = 1, h = {#} };
        const S s2 = (S) { x = 2, ... };
        const tuple<bit<8>, bool> t = { 1, true, };
        const bit<8> n = s1.x ++ 8w0 == 0 ? 1 : 2;
        const error e = error.NoError;
        const bool b = !(s1.x != 3) && s1.h.isValid();
        const string str = "hello";
        const bit<8> neg = -8w1 + ~8w2 + +1;
        const int w = .n;
        action a(in bit<8> x = ..., bit<8> y = 3) { }
        extern E { E(); void m(bit<8> p, bit<8> q); }
        control C() { E() e; apply { e.m(q = 1, p = 2); e.m(_, 3); this.x = 1; } }
    """)
    d = {x.name: x for x in prog.declarations if hasattr(x, "name") and isinstance(x, A.ConstantDeclaration)}
    assert isinstance(d["s1"].init, A.StructExpression) and isinstance(d["s1"].init.fields[1].expr, A.InvalidExpression)
    assert isinstance(d["s2"].init, A.Cast) and d["s2"].init.expr.fields[-1].name == "..."
    assert d["t"].init == A.ListExpression([A.IntLiteral(1), A.BoolLiteral(True)])
    assert d["e"].init == A.Member(A.TypeNameExpression(A.ErrorType()), "NoError")
    assert d["w"].init == A.PathExpression(A.Path("n", absolute=True))
    act = prog.declarations[11]
    assert act.params[0].default == A.Dots() and act.params[0].direction == "in"
    call = prog.declarations[-1].body.components[0].call
    assert [(arg.name, arg.expr) for arg in call.args] == [("q", A.IntLiteral(1)), ("p", A.IntLiteral(2))]
    call = prog.declarations[-1].body.components[1].call
    assert call.args[0] == A.Argument(A.DefaultExpression(True))
    assert prog.declarations[-1].body.components[2].left == A.Member(A.This(), "x")


def test_annotations():
    prog = parse_np("""
        @name("n") @hidden @my_anno(1, (2, 3), foo + "s") @structured[1, 2] @kv[a = 1, b = "x"]
        @pragma my_pragma a b c
        const bit<8> x = 1;
        @pkginfo(arch = "v1model", version = "1")
        const bit<8> y = 2;
    """)
    anns = prog.declarations[0].annotations
    assert [a.name for a in anns] == ["name", "hidden", "my_anno", "structured", "kv", "my_pragma"]
    assert anns[0].exprs == [A.StringLiteral("n")]
    assert anns[1].body == [] and not anns[1].has_parens
    assert [t.text for t in anns[2].body] == ["1", ",", "(", "2", ",", "3", ")", ",", "foo", "+", '"s"']
    assert anns[3].structured and anns[3].exprs == [A.IntLiteral(1), A.IntLiteral(2)]
    assert [kv.name for kv in anns[4].kv] == ["a", "b"]
    assert anns[5].pragma and [t.text for t in anns[5].body] == ["a", "b", "c"]
    assert [kv.name for kv in prog.declarations[1].annotations[0].kv] == ["arch", "version"]


@pytest.mark.parametrize("src,line,message", [
    ("@pkginfo\nconst bit<8> x = 0;", 1, "unexpected END_ANNOTATION"),
    ('@name(1 2) const bit<8> x = 0;', 1, "unexpected INTEGER"),
    ('@p4runtime_translation("x", bool)\ntype bit<8> T;', 1, "unexpected BOOL"),
    ("@hidden(1) const bit<8> x = 0;", 1, "should not have any arguments"),
])
def test_known_annotation_bodies_are_checked(src, line, message):
    err = syntax_error(src)
    assert err.location.line == line and message in err.message


@pytest.mark.parametrize("src,line,col,unexpected", [
    ("const bit<8> x = 1\nconst bit<8> y = 2;", 2, 1, "CONST"),
    ("struct s {\n    bit _;\n}", 2, 9, "_"),
    ("extern void _();", 1, 13, "_"),
    ("control c() {\n  const entries = {}\n  apply {} }", 2, 9, "ENTRIES"),
    ("header H {} const H h = { # };", 1, 27, "UNEXPECTED_TOKEN"),
    ("error {\n  A,\n  B,\n}", 4, 1, "}"),
    ("parser p() { state start { return; } }", 1, 28, "RETURN"),
    ("control c() { apply { x = 1 } }", 1, 29, "}"),
    ("control c() { table t { } apply { } }", 1, 25, "}"),
    ("control c() { table t { @a key = { } } apply { } }", 1, 28, "KEY"),
    ("control c() { apply { switch (x) { { } } } }", 1, 36, "{"),
    ("const bit<8> x = (1 + 2;", 1, 24, ";"),
    ("const bit<8> x = 1;\n@anno", 2, 6, "END"),
    ("parser p() { value_set<bit<8>>(4) vs; bit<8> x; state start {} value_set<bit<8>>(4) w; }",
     1, 64, "VALUESET"),
])
def test_syntax_errors_are_located(src, line, col, unexpected):
    err = syntax_error(src)
    assert isinstance(err, ParseError)
    assert (err.location.line, err.location.column) == (line, col)
    assert f"unexpected {unexpected}" in err.message


def test_duplicates_are_reported_like_p4c():
    diags = Diagnostics()
    with pytest.raises(CompilerError) as ei:
        parse_source("struct S {\n bit<8> a;\n bit<8> a;\n}\n", "d.p4", preprocess=False, diags=diags)
    assert ei.value.location.line == 3
    assert ei.value.message == "a: Duplicates declaration a"
    text = diags.render()
    assert "d.p4(3): [--Werror=duplicate] error: a: Duplicates declaration a" in text
    assert "d.p4(2)\n bit<8> a;\n        ^" in text
    # the duplicate comes first even when a syntax error follows (as p4c)
    with pytest.raises(CompilerError) as ei:
        parse_np("enum E { A, A\n")
    assert "Duplicates declaration" in ei.value.message
    # p4c merges all error declarations while parsing
    with pytest.raises(CompilerError) as ei:
        parse_np("error { A, B }\nerror { C, A }\n")
    assert (ei.value.location.line, ei.value.location.column) == (2, 12)
    # a parser's locals and its states are separate lists; parameters another
    parse_np("parser p(in bit<8> start)(bit<8> x) { bit<8> start; state start { transition accept; } }")


def test_every_node_is_located():
    prog = parse_np(CONTROL_PROGRAM)
    nodes = list(prog.walk())
    assert len(nodes) > 200
    missing = [type(n).__name__ for n in nodes if n.loc is None]
    assert missing == []
    t = prog.declarations[-1].locals[5]
    assert (t.loc.line, t.loc.column) == (14, 11)        # a declaration is located at its name


def test_round_trip_of_the_unit_programs():
    for src in (PARSER_PROGRAM, CONTROL_PROGRAM):
        prog = parse_np(src)
        text = to_source(prog)
        assert parse_np(text) == prog
        assert to_source(parse_np(text)) == text


def test_printer_parenthesises_only_where_needed():
    for src in ["(a + b) * c", "a + b * c", "a - (b - c)", "(a ? b : c) ? d : e", "a ? b : (c ? d : e)",
                "-(-a)", "((bit<8>)a).b", "(a & b) == c", "a >> (b >> c)", "!(a && b)"]:
        e = first_expr(src)
        printed = to_source(e)
        assert first_expr(printed) == e, (src, printed)
    assert to_source(first_expr("(a + b) * c")) == "(a + b) * c"
    assert to_source(first_expr("a + (b * c)")) == "a + b * c"


# ============================================================ diagnostics

def test_diagnostic_formats(tmp_path):
    f = tmp_path / "x.p4"
    f.write_text("line one\n    default_action = a();\n")
    loc = SourceLocation(str(f), 2, 22, 3)
    d = Diagnostic("error", "a(): Parameter b must be bound", loc, kind="type-error")
    assert d.format().splitlines() == [
        f"{f}(2): [--Werror=type-error] error: a(): Parameter b must be bound",
        "    default_action = a();",
        "                     ^^^"]
    assert d.header(with_column=True).startswith(f"{f}(2):22: ")
    w = Diagnostic("warning", "'x' is unused", loc, kind="unused")
    assert w.header() == f"{f}(2): [--Wwarn=unused] warning: 'x' is unused"
    s = Diagnostic("error", "syntax error, unexpected (", loc, syntax=True)
    assert s.header() == f"{f}(2):syntax error, unexpected ("
    diags = Diagnostics()
    diags.add(d)
    diags.warning(loc, "'x' is unused", kind="unused")
    assert diags.render().endswith("[--Werror=overlimit] error: 1 errors encountered, aborting compilation")
    assert len(diags.warnings) == 1 and diags.error_count == 1


# ===================================================================== CLI

@pytest.fixture
def good_program(tmp_path):
    f = tmp_path / "good.p4"
    f.write_text("#include <core.p4>\n#ifdef BROKEN\nconst bit<8> x = ;\n#endif\n"
                 "const bit<8> y = VAL;\n")
    return f


def run_cli(args, capsys):
    rc = p4pc_main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_parse_only_and_defines(good_program, capsys):
    inc = [a for d in include_dirs() for a in ("-I", d)]
    rc, out, err = run_cli(inc + ["--parse-only", "-D", "VAL=3", str(good_program)], capsys)
    assert rc == 0, err
    rc, out, err = run_cli(inc + ["--parse-only", "-DVAL=3", "-D", "BROKEN", str(good_program)], capsys)
    assert rc == 1
    assert f"{good_program}(3):syntax error, unexpected ;" in err
    assert "const bit<8> x = ;\n                 ^" in err
    assert "Traceback" not in err


def test_cli_preprocess_only_and_pp(good_program, tmp_path, capsys):
    inc = [a for d in include_dirs() for a in ("-I", d)]
    rc, out, err = run_cli(inc + ["-E", "-D", "VAL=3", str(good_program)], capsys)
    assert rc == 0 and "const bit<8> y = 3;" in out and f'"{good_program}"' in out
    pp = tmp_path / "out.p4"
    rc, out, err = run_cli(inc + ["--parse-only", "-D", "VAL=3", "--pp", str(pp), str(good_program)], capsys)
    assert rc == 0
    assert parse_source(pp.read_text(), "pp.p4", preprocess=False) == parse_file(
        str(good_program), include_dirs(), {"VAL": "3"})


def test_cli_later_stages_not_implemented(good_program, capsys, monkeypatch):
    import p4compiler.__main__ as cli
    monkeypatch.setattr(cli, "DRIVER_MODULE", "p4compiler.no_such_driver_module")
    inc = [a for d in include_dirs() for a in ("-I", d)]
    rc, out, err = run_cli(inc + ["-D", "VAL=1", "-o", "x.json", "--p4runtime-files", "x.txtpb",
                                  str(good_program)], capsys)
    assert rc == 4 and "not implemented yet" in err


def test_cli_hands_the_parsed_program_to_the_driver(good_program, capsys, monkeypatch):
    import types as pytypes

    import p4compiler.__main__ as cli
    seen = {}
    fake = pytypes.ModuleType("fake_p4pc_driver")

    def backend(comp):
        seen["comp"] = comp
        comp.diags.warning(comp.program.declarations[-1].loc, "from the driver", kind="test")
        return 0
    fake.backend = backend
    monkeypatch.setitem(sys.modules, "fake_p4pc_driver", fake)
    monkeypatch.setattr(cli, "DRIVER_MODULE", "fake_p4pc_driver")
    inc = [a for d in include_dirs() for a in ("-I", d)]
    rc, out, err = run_cli(inc + ["-D", "VAL=1", "-o", "x.json", "--p4runtime-files", "a.txtpb,b.json",
                                  str(good_program)], capsys)
    assert rc == 0
    comp = seen["comp"]
    assert comp.options.output_json == "x.json"
    assert comp.options.p4runtime_files == ["a.txtpb", "b.json"]
    assert comp.program.declarations[-1].name == "y"
    assert "[--Wwarn=test] warning: from the driver" in err

    def failing(comp):
        raise CompilerError(comp.program.declarations[-1].loc, "bad program", kind="type-error")
    fake.backend = failing
    rc, out, err = run_cli(inc + ["-D", "VAL=1", str(good_program)], capsys)
    assert rc == 1 and f"{good_program}(5): [--Werror=type-error] error: bad program" in err


def test_cli_internal_failure_is_a_located_compiler_bug(tmp_path, capsys, monkeypatch):
    prog = tmp_path / "bug.p4"
    prog.write_text("header H { bit<8> a; }\n\n    const bit<8> y = 1;\n")

    def broken(self, anns):
        raise KeyError("boom")
    monkeypatch.setattr(Parser, "parse_constant_declaration", broken)
    monkeypatch.delenv("P4PC_DEBUG", raising=False)
    rc, out, err = run_cli(["--parse-only", str(prog)], capsys)
    assert rc == 3
    assert f"{prog}(3): Compiler Bug: KeyError: 'boom'" in err     # where the parser was
    assert "    const bit<8> y = 1;\n    ^^^^^" in err
    assert "Traceback" not in err


def test_cli_missing_file(capsys, tmp_path):
    rc, out, err = run_cli(["--parse-only", str(tmp_path / "nope.p4")], capsys)
    assert rc == 1 and "No such file" in err


def test_cpp_is_installed():
    assert shutil.which("cpp"), "the C preprocessor (package cpp) is required by p4pc"


def test_cli_language_version(good_program, capsys):
    inc = [a for d in include_dirs() for a in ("-I", d)]
    rc, out, err = run_cli(inc + ["--p4v", "16", "--parse-only", "-D", "VAL=1", str(good_program)], capsys)
    assert rc == 0, err
    rc, out, err = run_cli(["--std", "p4-14", "--parse-only", str(good_program)], capsys)
    assert rc == 2 and "only P4_16 is supported" in err


def test_transform_rewrites_a_copy():
    prog = parse_np("const bit<8> a = 1 + 2 * 3; const bit<8> b = 4;")

    def bump(n):
        if isinstance(n, A.IntLiteral) and n.value < 8:      # not the widths
            return A.IntLiteral(n.value + 10, loc=n.loc)
        return None
    new = prog.transform(bump)
    assert to_source(new) == "const bit<8> a = 11 + 12 * 13;\nconst bit<8> b = 14;\n"
    assert to_source(prog) == "const bit<8> a = 1 + 2 * 3;\nconst bit<8> b = 4;\n"   # untouched
    assert new.declarations[0].init.loc == prog.declarations[0].init.loc
    same = prog.transform(lambda n: None)
    assert same is prog                                    # nothing changed: shared
