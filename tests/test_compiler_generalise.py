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


def test_same_arity_extern_overloads_are_ambiguous():
    e = _err("""extern E {
    void put<D>(in D d);
    void put(in bit<8> b);
}
""")
    assert "Ambiguous method put with 1 parameters" in e.message
