"""Compiler fixes found by running p4pc on a second slice of P4 programs outside
the dev corpus.  Each test is a small program of our own that failed before the
fix it names."""
from __future__ import annotations

import pytest

from p4compiler import parse_source
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import check

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


def _check(src: str):
    diags = Diagnostics()
    prog = parse_source(src, "t.p4", diags=diags, preprocess=False)
    return check(prog, diags)


def _err(src: str) -> CompilerError:
    with pytest.raises(CompilerError) as ei:
        _check(src)
    return ei.value


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
