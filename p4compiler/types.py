"""Semantic types of P4_16 programs (what the front end computes; the AST only has syntax).

Why a separate module: every pass after the front end (evaluate, names, p4info, midend, bmv2)
asks "what type is this expression / declaration"; they must not depend on the checker's
internals.  Conventions:

* Value-like types (`Bits`, `Varbit`, `InfInt`, `Bool`, ...) are frozen dataclasses compared
  structurally.
* Nominal types (`Enum`, `SerEnum`, `Header`, `Struct`, `Extern`, `NewType`, ...) compare by
  their declaration (`decl`, an `ast` node) and type arguments: two structs with the same
  fields but different names are different types, as in P4.
* `typedef` is transparent: it never appears here (the aliased type is used).  `type X` is a
  `NewType` (distinct from its base type).
* `Unknown` is what the checker gives an expression it could not type (after it reported an
  error, or for constructs it does not model): it is compatible with everything, so one
  problem is reported once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class P4Type:
    """Base of all semantic types."""

    def __str__(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    @property
    def is_unknown(self) -> bool:
        return isinstance(self, Unknown)


# ------------------------------------------------------------------ base types

@dataclass(frozen=True)
class Bits(P4Type):
    """`bit<W>` (unsigned) or `int<W>` (signed, two's complement)."""

    width: int
    signed: bool = False

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'bit'}<{self.width}>"

    def wrap(self, value: int) -> int:
        """`value` reduced to this type's range (two's complement for int<W>)."""
        if self.width <= 0:
            return 0
        v = value & ((1 << self.width) - 1)
        if self.signed and v >> (self.width - 1):
            v -= 1 << self.width
        return v

    def fits(self, value: int) -> bool:
        if self.signed:
            return -(1 << (self.width - 1)) <= value < (1 << (self.width - 1)) if self.width else value == 0
        return 0 <= value < (1 << self.width)


@dataclass(frozen=True)
class Varbit(P4Type):
    max_width: int

    def __str__(self) -> str:
        return f"varbit<{self.max_width}>"


@dataclass(frozen=True)
class InfInt(P4Type):
    """Arbitrary-precision `int` (unsized literals and compile-time `int` values)."""

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class Bool(P4Type):
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class String(P4Type):
    def __str__(self) -> str:
        return "string"


@dataclass(frozen=True)
class Error(P4Type):
    def __str__(self) -> str:
        return "error"


@dataclass(frozen=True)
class MatchKind(P4Type):
    def __str__(self) -> str:
        return "match_kind"


@dataclass(frozen=True)
class Void(P4Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True)
class DontCare(P4Type):
    """The type of `_` / `default` (matches anything)."""

    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True)
class Unknown(P4Type):
    def __str__(self) -> str:
        return "<unknown>"


@dataclass(frozen=True)
class StateT(P4Type):
    """The type of a parser state name (a transition target)."""

    def __str__(self) -> str:
        return "state"


# ------------------------------------------------------------------ type variables

@dataclass(eq=False)
class TypeVar(P4Type):
    """A type parameter of a generic declaration (`T` in `extract<T>`).  Identity = declaration."""

    name: str
    decl: Any = None

    def __str__(self) -> str:
        return self.name


# ------------------------------------------------------------------ nominal types

class Nominal(P4Type):
    """Types compared by declaration (plus type arguments for generic ones)."""

    decl: Any
    name: str

    def _key(self) -> tuple:
        return (type(self), id(self.decl), tuple(getattr(self, "type_args", ()) or ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Nominal) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self), id(self.decl)))

    def __str__(self) -> str:
        args = getattr(self, "type_args", ())
        return f"{self.name}<{', '.join(map(str, args))}>" if args else self.name


@dataclass(eq=False)
class Enum(Nominal):
    name: str
    members: tuple[str, ...]
    decl: Any = None

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class SerEnum(Nominal):
    """`enum bit<8> E { A = 1, ... }`: members with values of `base`."""

    name: str
    base: P4Type
    members: dict[str, int] = field(default_factory=dict)
    decl: Any = None

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class NewType(Nominal):
    """`type bit<32> X;` -- a distinct type with `base` as representation."""

    name: str
    base: P4Type
    decl: Any = None

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class StructLike(Nominal):
    name: str
    fields: list[tuple[str, P4Type]] = field(default_factory=list)
    decl: Any = None
    type_args: tuple = ()

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__

    def field_type(self, name: str) -> P4Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    @property
    def field_names(self) -> list[str]:
        return [n for n, _ in self.fields]


@dataclass(eq=False)
class Struct(StructLike):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Header(StructLike):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class HeaderUnion(StructLike):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(frozen=True)
class Stack(P4Type):
    """Header stack `H[size]` (also arrays of other element types)."""

    element: P4Type
    size: int

    def __str__(self) -> str:
        return f"{self.element}[{self.size}]"


@dataclass(frozen=True)
class Tuple(P4Type):
    elements: tuple[P4Type, ...]

    def __str__(self) -> str:
        return f"tuple<{', '.join(map(str, self.elements))}>"


@dataclass(frozen=True)
class ListT(P4Type):
    """The type of an untyped `{a, b}` list expression (p4c's Type_List), or `list<T>`."""

    elements: tuple[P4Type, ...] = ()
    element: P4Type | None = None     # set for `list<T>`

    def __str__(self) -> str:
        if self.element is not None:
            return f"list<{self.element}>"
        return f"list<{', '.join(map(str, self.elements))}>"


@dataclass(frozen=True)
class UnknownStruct(P4Type):
    """The type of a `{f = a, ...}` struct expression not yet typed from its context."""

    fields: tuple[tuple[str, P4Type], ...] = ()

    def __str__(self) -> str:
        return "struct {" + "; ".join(f"{t} {n}" for n, t in self.fields) + "}"


# ------------------------------------------------------------------ callables and objects

@dataclass
class Param:
    name: str
    direction: str          # "", "in", "out", "inout"
    type: P4Type
    default: Any = None     # ast.Expression or None
    decl: Any = None        # ast.Parameter
    optional: bool = False  # @optional

    def __str__(self) -> str:
        d = f"{self.direction} " if self.direction else ""
        return f"{d}{self.type} {self.name}"


@dataclass(eq=False)
class Extern(Nominal):
    name: str
    type_params: list[TypeVar] = field(default_factory=list)
    decl: Any = None
    type_args: tuple = ()

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Callable_(Nominal):
    """Parsers, controls and packages (their type declarations), with apply/constructor params."""

    name: str
    type_params: list[TypeVar] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    ctor_params: list[Param] = field(default_factory=list)
    decl: Any = None
    type_args: tuple = ()

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Parser(Callable_):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Control(Callable_):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Package(Callable_):
    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Table(Nominal):
    name: str
    decl: Any = None

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class ValueSet(Nominal):
    name: str
    element: P4Type = field(default_factory=Unknown)
    decl: Any = None

    __eq__ = Nominal.__eq__
    __hash__ = Nominal.__hash__
    __str__ = Nominal.__str__


@dataclass(eq=False)
class Action(P4Type):
    name: str
    params: list[Param] = field(default_factory=list)
    decl: Any = None

    def __str__(self) -> str:
        return f"action {self.name}"


@dataclass(eq=False)
class Function(P4Type):
    """A function, extern function or method (extern method, `apply`, built-ins like `isValid`)."""

    name: str
    type_params: list[TypeVar] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    ret: P4Type = field(default_factory=Void)
    decl: Any = None
    kind: str = "function"   # "function", "extern_function", "method", "builtin", "apply", "ctor"

    def __str__(self) -> str:
        tp = f"<{', '.join(map(str, self.type_params))}>" if self.type_params else ""
        return f"{self.ret} {self.name}{tp}({', '.join(map(str, self.params))})"


Method = Function


@dataclass(frozen=True)
class TypeOfType(P4Type):
    """The 'type' of an expression that names a type (`E` in `E.A`, `H` in `H.minSizeInBits()`)."""

    type: P4Type

    def __str__(self) -> str:
        return f"type {self.type}"


@dataclass(frozen=True)
class ActionEnum(P4Type):
    """The type of `t.apply().action_run`."""

    table: Any = None

    def __str__(self) -> str:
        return "action_enum"


@dataclass(frozen=True)
class TableResult(P4Type):
    """The struct-like result of `t.apply()` (members hit, miss, action_run)."""

    table: Any = None

    def __str__(self) -> str:
        return "apply_result"


# ------------------------------------------------------------------ helpers

def strip_newtype(t: P4Type) -> P4Type:
    while isinstance(t, NewType):
        t = t.base
    return t


def is_integer(t: P4Type) -> bool:
    return isinstance(t, (Bits, InfInt))


def width_of(t: P4Type) -> int | None:
    """Width in bits of a fixed-size type (None when it has none, e.g. varbit-free struct needed)."""
    t = strip_newtype(t)
    if isinstance(t, Bits):
        return t.width
    if isinstance(t, Bool):
        return 1
    if isinstance(t, SerEnum):
        return width_of(t.base)
    if isinstance(t, Varbit):
        return t.max_width
    if isinstance(t, StructLike):
        total = 0
        for _, ft in t.fields:
            w = width_of(ft)
            if w is None:
                return None
            total += w
        return total
    if isinstance(t, Stack):
        w = width_of(t.element)
        return None if w is None else w * t.size
    return None


def is_header_like(t: P4Type) -> bool:
    return isinstance(t, (Header, HeaderUnion))
