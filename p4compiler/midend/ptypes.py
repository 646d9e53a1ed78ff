"""Minimal semantic types used by the mid end and BMv2 back end.

Why a separate, small type model: the back half must know widths, signedness
and the shape of structs/headers/stacks to flatten storage and to mask
arithmetic the way BMv2 needs.  It resolves `ast.Type`s itself (typedefs,
`type`, serializable enums, constants in widths) so that it does not depend
on the details of the front end's richer type objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class PType:
    """Base of all mid-end types."""


@dataclass(frozen=True)
class TBits(PType):
    width: int
    signed: bool = False


@dataclass(frozen=True)
class TVarbit(PType):
    max_width: int


@dataclass(frozen=True)
class TInt(PType):
    """Arbitrary-precision compile-time integer."""


@dataclass(frozen=True)
class TBool(PType):
    pass


@dataclass(frozen=True)
class TString(PType):
    pass


@dataclass(frozen=True)
class TError(PType):
    pass


@dataclass(frozen=True)
class TMatchKind(PType):
    pass


@dataclass(frozen=True)
class TVoid(PType):
    pass


@dataclass(frozen=True)
class TDontCare(PType):
    pass


@dataclass(eq=False)
class TStructLike(PType):
    name: str
    fields: list[tuple[str, PType]] = field(default_factory=list)
    kind: str = "struct"          # "struct" | "header" | "union"
    #: control-plane name (``@name`` or the declared name); names learn lists
    cp_name: str = ""

    def field_type(self, name: str) -> PType | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class TStack(PType):
    element: PType
    size: int


@dataclass(eq=False)
class TEnum(PType):
    name: str
    members: list[str]

    def __hash__(self) -> int:
        return id(self)


@dataclass(eq=False)
class TSerEnum(PType):
    name: str
    base: TBits
    members: dict[str, int]

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class TTuple(PType):
    items: tuple[PType, ...]


@dataclass(eq=False)
class TExtern(PType):
    name: str
    args: tuple = ()


@dataclass(eq=False)
class TObject(PType):
    """A parser, control, table, package or action: not a value."""
    kind: str
    decl: object = None


def bit_width(t: PType) -> int:
    """Width in bits of a scalar type when stored in a BMv2 field."""
    if isinstance(t, TBits):
        return t.width
    if isinstance(t, TBool):
        return 1
    if isinstance(t, TSerEnum):
        return t.base.width
    if isinstance(t, (TEnum, TError)):
        return 32
    if isinstance(t, TVarbit):
        return t.max_width
    from ..diagnostics import CompilerError
    raise CompilerError(None, f"type {getattr(t, 'name', type(t).__name__)} has no bit width "
                              "(not supported in this position yet)")


def is_scalar(t: PType) -> bool:
    return isinstance(t, (TBits, TBool, TSerEnum, TEnum, TError, TVarbit, TInt))


def is_signed(t: PType) -> bool:
    return isinstance(t, TBits) and t.signed or isinstance(t, TSerEnum) and t.base.signed
