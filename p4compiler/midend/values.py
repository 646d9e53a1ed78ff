"""Compile-time values of the mid end: where each P4 object lives in BMv2.

Why: after inlining every parser/control/action, a P4 name denotes either a
BMv2 storage location (a field, a header instance, a stack...), a constant,
an action parameter (runtime data) or a non-value object (table, extern
instance, sub-control).  Lowering maps names to these, and expressions to
BMv2 JSON expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ptypes import PType, TBits, TBool, TStack, TStructLike


class Val:
    t: PType


@dataclass
class FieldV(Val):
    hdr: str
    field: str
    t: PType

    def json(self) -> dict:
        return {"type": "field", "value": [self.hdr, self.field]}


@dataclass
class HeaderV(Val):
    name: str
    t: TStructLike
    fields: dict = field(default_factory=dict)    # field name -> FieldV

    def json(self) -> dict:
        return {"type": "header", "value": self.name}

    def member(self, name: str) -> FieldV:
        return self.fields[name]


@dataclass
class DynHeaderV(Val):
    """`stack[i]` with a run-time index."""
    stack: StackV
    index: dict                      # BMv2 expression of the index
    t: TStructLike

    def expr(self) -> dict:
        return {"type": "expression", "value": {
            "op": "dereference_header_stack",
            "left": {"type": "header_stack", "value": self.stack.name}, "right": self.index}}


@dataclass
class DynFieldV(Val):
    hdr: DynHeaderV
    field: str
    t: PType

    def expr(self) -> dict:
        return {"type": "expression", "value": {
            "op": "access_field", "left": self.hdr.expr(),
            "right": [n for n, _ in self.hdr.t.fields].index(self.field)}}


@dataclass
class StackV(Val):
    name: str
    t: TStack
    elems: list = field(default_factory=list)      # HeaderV or UnionV
    union: bool = False

    def json(self) -> dict:
        return {"type": "header_union_stack" if self.union else "header_stack", "value": self.name}


@dataclass
class UnionV(Val):
    name: str
    t: TStructLike
    members: dict = field(default_factory=dict)    # name -> HeaderV

    def json(self) -> dict:
        return {"type": "header_union", "value": self.name}


@dataclass
class StructV(Val):
    t: PType
    fields: dict = field(default_factory=dict)     # name -> Val


@dataclass
class ExprV(Val):
    """A computed r-value; `j` is a BMv2 expression (bool-typed when t is TBool)."""
    j: dict
    t: PType


@dataclass
class ConstV(Val):
    value: Any            # int, bool, str, or an enum member name for TEnum
    t: PType


@dataclass
class RuntimeV(Val):
    index: int
    t: PType

    def json(self) -> dict:
        return {"type": "runtime_data", "value": self.index}


@dataclass
class ListV(Val):
    """A tuple / list expression value `{a, b}` (items are Vals)."""
    items: list
    t: PType


@dataclass
class ObjV(Val):
    """Not a value: table, extern instance, sub-parser/control instance,
    action, function, packet_in/out, ..."""
    kind: str
    decl: Any = None
    data: Any = None
    t: PType = None  # type: ignore[assignment]


def is_location(v: Val) -> bool:
    return isinstance(v, (FieldV, HeaderV, StackV, UnionV, StructV, DynHeaderV, DynFieldV))


def hexstr(value: int, width: int | None = None) -> dict:
    """BMv2 hexstr constant (p4c pads to the width's byte count)."""
    if value < 0:
        return {"type": "hexstr", "value": "-0x" + format(-value, "x")}
    digits = format(value, "x")
    if width:
        digits = digits.rjust((width + 7) // 8 * 2, "0")
    return {"type": "hexstr", "value": "0x" + digits}


def bool_json(b: bool) -> dict:
    return {"type": "bool", "value": bool(b)}


def op(o: str, left, right) -> dict:
    return {"type": "expression", "value": {"op": o, "left": left, "right": right}}


def mask(width: int) -> int:
    return (1 << width) - 1


def bits_of(t: PType) -> TBits:
    return t if isinstance(t, TBits) else TBits(1)


__all__ = [
    "ConstV",
    "DynFieldV",
    "DynHeaderV",
    "ExprV",
    "FieldV",
    "HeaderV",
    "ListV",
    "ObjV",
    "RuntimeV",
    "StackV",
    "StructV",
    "TBool",
    "UnionV",
    "Val",
    "bits_of",
    "bool_json",
    "hexstr",
    "is_location",
    "mask",
    "op",
]
