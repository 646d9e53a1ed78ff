"""Compiler fixes found by running p4pc on a second slice of P4 programs outside
the dev corpus.  Each test is a small program of our own that failed before the
fix it names."""
from __future__ import annotations

import pytest

from p4compiler import parse_source
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import check

from compiler_helpers import check_error as _err
from compiler_helpers import check_source as _check

_V1_TAIL = """
control vrfy(inout Headers h, inout Meta m) { apply {} }
control update(inout Headers h, inout Meta m) { apply {} }
control egress(inout Headers h, inout Meta m, inout standard_metadata_t sm) { apply {} }
control deparser(packet_out pkt, in Headers h) { apply { pkt.emit(h); } }
V1Switch(p(), vrfy(), ingress(), egress(), update(), deparser()) main;
"""
_V1_HEAD = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> d; bit<48> s; bit<16> t; }
"""


def _run_stf(tmp_path, body: str, stf: str):
    """Compile a v1model program (Headers/Meta/p/ingress given in `body`) with
    p4pc and run `stf` on p4switch."""
    from p4compiler.driver import compile_to_json
    from p4switch.stf import run_stf_file
    from p4switch.stf_parse import parse_stf_file
    f = tmp_path / "prog.p4"
    f.write_text(_V1_HEAD + body + _V1_TAIL)
    doc = compile_to_json(str(f), frontend=True)
    sf = tmp_path / "prog.stf"
    sf.write_text(stf)
    return run_stf_file(parse_stf_file(str(sf)), doc, json_path="prog")


def test_assignment_to_nested_slice(tmp_path):
    """`x[a:b][c:d] = e` (and `+:` inside) writes bits [b+c : b+d] of x."""
    body = """struct Headers { eth_t e; }
struct Meta { }
parser p(packet_in pkt, out Headers hdr, inout Meta m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.e); transition accept; }
}
control ingress(inout Headers h, inout Meta m, inout standard_metadata_t sm) {
    apply {
        h.e.t[11:4][5:2] = 4w0xA;
        h.e.t[8 +: 8][7:4][1:0] = 2w0;
    }
}"""
    stf = ("packet 0 000000000000 000000000000 FFFF\n"
           "expect 0 000000000000 000000000000 CEBF\n")
    res = _run_stf(tmp_path, body, stf)
    assert res.passed, res.reason


def test_action_data_type_checked_after_type_errors():
    """p4c checks that action data parameters are scalars after type inference: a type
    error elsewhere (here a default_action argument) is the one reported."""
    e = _err("""enum bit<4> E { A = 1 }
control c() {
    action a(tuple<bit<8>> v) { }
    table t {
        actions = { a; }
        default_action = a(E.A);
    }
    apply { t.apply(); }
}
""")
    assert e.location.line == 6, e


@pytest.mark.parametrize("ptype", ["Box", "Ctl"])
def test_parameter_of_generic_type_needs_type_arguments(ptype):
    """A parameter typed with a generic extern/control type but no type arguments."""
    e = _err(f"""extern Box<T> {{ T get(); }}
control Ctl<H>(inout H h);
control c(inout bit<8> x)(Box<bit<8>> ok,
                          {ptype} bad) {{
    apply {{ }}
}}
""")
    assert e.location.line == 4 and e.message == "Type parameters needed for bad", e


@pytest.mark.parametrize("expr,line,needle", [
    ("x << n", 4, "n: The right operand of shift must be either an expression of type bit<S>"),
    ("(bit<8>)(t >> 2)", 4, "left operand of shift must be a numeric type, not T8"),
])
def test_shift_operand_of_new_type_rejected(expr, line, needle):
    """`type bit<8> T8`: a value of a new type is not a number, so it cannot be a shift
    operand without a cast (a typedef would be fine)."""
    e = _err(f"""type bit<8> T8;
control c(inout bit<8> x, in T8 n, in T8 t) {{
    apply {{
        x = {expr};
    }}
}}
""")
    assert e.location.line == line and needle in e.message, e


@pytest.mark.parametrize("size,ok", [
    ("N + 1", True),
    ("(bit<32>)2", True),
    ("s1.size", False),
    ("s1.size * 2", False),
    ("n", False),
])
def test_header_stack_size_must_fold_before_type_checking(size, ok):
    """Stack sizes are folded before types are known: constants and arithmetic on them
    are fine, `.size`/`.lastIndex` of another stack or a constructor parameter are not."""
    src = f"""header h {{ }}
const bit<32> N = 3;
control c()(bit<32> n) {{
    apply {{
        h[4] s1;
        h[{size}] s2;
    }}
}}
"""
    if ok:
        _check(src)
    else:
        e = _err(src)
        assert e.location.line == 6 and "header h[?]: Size of header stack type should be a constant" in e.message, e


def test_two_argument_extract_needs_a_varbit_header():
    src = """#include <core.p4>
header V {{ bit<8> a; {extra} }}
parser P(packet_in p, out V v) {{
    state start {{
        p.extract(v, 32);
        transition accept;
    }}
}}
"""
    from p4compiler import parse_source as ps
    def run(extra):
        diags = Diagnostics()
        return check(ps(src.format(extra=extra), "t.p4", diags=diags), diags)
    run("varbit<64> b;")
    with pytest.raises(CompilerError) as ei:
        run("")
    assert ei.value.location.line == 5 and "v: argument should contain a varbit field" in ei.value.message


@pytest.mark.parametrize("targ,ok", [("F", True), ("bit<16>", True), ("V", False), ("S", False)])
def test_lookahead_type_must_have_a_fixed_width(targ, ok):
    """`lookahead<T>` reads a fixed number of bits: a varbit anywhere in T is an error."""
    src = f"""#include <core.p4>
header F {{ bit<8> a; }}
header V {{ bit<8> a; varbit<32> b; }}
struct S {{ F f; V v; }}
parser P(packet_in p, out F f) {{
    state start {{
        {targ} t = p.lookahead<{targ}>();
        transition accept;
    }}
}}
"""
    diags = Diagnostics()
    run = lambda: check(parse_source(src, "t.p4", diags=diags), diags)  # noqa: E731
    if ok:
        run()
    else:
        with pytest.raises(CompilerError) as ei:
            run()
        assert ei.value.location.line == 7 and "type argument must be a fixed-width type" in ei.value.message


def test_package_parameter_with_direction_rejected():
    """A package's parameters are constructor parameters, so they take no direction."""
    e = _err("""control proto(out bit<32> o);
package top(in proto p);
control c(out bit<32> o) { apply { o = 0; } }
top(c()) main;
""")
    assert e.location.line == 2 and "p: constructor parameters cannot have a direction" in e.message, e
