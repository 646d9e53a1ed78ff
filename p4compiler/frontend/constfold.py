"""Compile-time arithmetic: arbitrary precision, then wrapped to the result width.

Values are Python ints (for bit<W>/int<W>/int) and bools.  `fold_binary`
returns None when the operation is not a compile-time one (the caller keeps
the expression as a run-time one) and raises `FoldError` for what p4c rejects
at compile time (division by zero, negative shift, ...).
"""
from __future__ import annotations

from typing import Union

from .. import types as T

Value = Union[int, bool, str]


# Guard against pathological compile-time values (p4c caps type widths at 2048 bits; an
# unsized intermediate value may be larger, but not without bound).
_MAX_BITS = 1 << 16


class FoldError(Exception):
    """A constant expression p4c rejects (message in p4c's words)."""


def _wrap(t: T.P4Type, v: int) -> int:
    t = T.strip_newtype(t)
    if isinstance(t, T.Bits):
        return t.wrap(v)
    return v


def fold_unary(op: str, v: Value, t: T.P4Type) -> Value | None:
    if op == "!" and isinstance(v, bool):
        return not v
    if isinstance(v, bool) or not isinstance(v, int):
        return None
    if op == "-":
        return _wrap(t, -v)
    if op == "+":
        return v
    if op == "~":
        tt = T.strip_newtype(t)
        if isinstance(tt, T.Bits):
            return tt.wrap(~v)
        return None
    return None


def fold_binary(op: str, a: Value, b: Value, t: T.P4Type) -> Value | None:
    """`a op b` with result type `t` (operands already of the operand type)."""
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return None
        return {"&&": a and b, "||": a or b, "==": a == b, "!=": a != b}.get(op)
    if not isinstance(a, int) or not isinstance(b, int):
        if op in ("==", "!=") and isinstance(a, str) and isinstance(b, str):
            return (a == b) if op == "==" else (a != b)
        return None
    tt = T.strip_newtype(t)
    if op == "+":
        return _wrap(t, a + b)
    if op == "-":
        return _wrap(t, a - b)
    if op == "*":
        if a.bit_length() + b.bit_length() > _MAX_BITS:
            raise FoldError(f"Compiler only supports widths up to {_MAX_BITS}")
        return _wrap(t, a * b)
    if op in ("/", "%"):
        if b == 0:
            raise FoldError("Division by zero")
        if a < 0 or b < 0:
            if isinstance(tt, T.InfInt):
                raise FoldError(f"{'Division' if op == '/' else 'Modulo'} is not defined for negative numbers")
        q = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            q = -q
        return _wrap(t, q if op == "/" else a - q * b)
    if op in ("<<", ">>"):
        if b < 0:
            raise FoldError("Shifts with negative amounts are not permitted")
        if op == "<<":
            if b > 2048 and isinstance(tt, T.InfInt) and a != 0:
                raise FoldError("Compiler only supports widths up to 2048")
            if isinstance(tt, T.Bits) and b >= tt.width:
                return 0
            return _wrap(t, a << b)
        return _wrap(t, a >> b)
    if op == "&":
        return _wrap(t, a & b)
    if op == "|":
        return _wrap(t, a | b)
    if op == "^":
        return _wrap(t, a ^ b)
    if op in ("|+|", "|-|") and isinstance(tt, T.Bits):
        r = a + b if op == "|+|" else a - b
        if tt.signed:
            lo, hi = -(1 << (tt.width - 1)), (1 << (tt.width - 1)) - 1
        else:
            lo, hi = 0, (1 << tt.width) - 1
        return max(lo, min(hi, r))
    cmp = {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}
    if op in cmp:
        return cmp[op]
    return None


def concat(a: int, wa: int, b: int, wb: int) -> int:
    return ((a & ((1 << wa) - 1)) << wb) | (b & ((1 << wb) - 1))


def slice_value(v: int, hi: int, lo: int) -> int:
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def cast_value(v: Value, to: T.P4Type) -> Value | None:
    to = T.strip_newtype(to)
    if isinstance(to, T.Bits):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return to.wrap(v)
    if isinstance(to, T.Bool) and isinstance(v, int):
        return bool(v)
    if isinstance(to, T.InfInt) and isinstance(v, int):
        return v
    return None
