"""`TypedProgram`: the front end's result, side tables keyed by AST node identity."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ast
from .. import types as T


@dataclass(eq=False)
class BuiltinDecl:
    """A declaration the language provides without a source declaration:
    `isValid`, `setValid`, `setInvalid`, `apply`, `hit`, `miss`, `action_run`,
    `next`, `last`, `size`, `lastIndex`, `push_front`, `pop_front`,
    `minSizeInBits`, ..., `accept`/`reject` states, error and enum members are
    NOT here (they have source declarations: `DeclarationId`)."""

    name: str
    kind: str                      # "method", "field", "state", ...
    owner: T.P4Type | None = None
    type: T.P4Type | None = None


class TypedProgram:
    """Everything later passes ask of the front end.  Side tables are keyed by
    `id(node)`; the AST (kept alive by `program`) stays syntax-only."""

    def __init__(self, program: ast.Program):
        self.program = program
        self._decl: dict[int, Any] = {}
        self._type: dict[int, T.P4Type] = {}
        self._const: dict[int, Any] = {}
        self._cast: dict[int, T.P4Type] = {}
        self._rtype: dict[int, T.P4Type] = {}
        self._decl_type: dict[int, T.P4Type] = {}
        self._keep: list[Any] = []        # nodes created by the front end, kept alive
        self._call_args: dict[int, list] = {}
        self._call_type: dict[int, tuple] = {}

    # -- queries (the contract) --------------------------------------------
    def decl_of(self, node: Any) -> ast.Declaration | BuiltinDecl | None:
        """Declaration a PathExpression / TypeName / Path / Member / ActionRef refers to."""
        return self._decl.get(id(node))

    def type_of(self, node: Any) -> T.P4Type:
        """Type of an expression after inference (int literals get the width
        implied by their context); for declarations: the declared type."""
        t = self._type.get(id(node))
        if t is None:
            t = self._decl_type.get(id(node))
        return t if t is not None else T.Unknown()

    def implicit_cast(self, node: Any) -> T.P4Type | None:
        """The type an expression is implicitly converted to (int literal -> bit<W>, ...)."""
        return self._cast.get(id(node))

    def const_value(self, node: Any) -> Any:
        """Folded compile-time value (int / bool / str, an `ast.DeclarationId` for
        enum/error members), or None when not a compile-time constant."""
        return self._const.get(id(node))

    def resolve_type(self, t: Any) -> T.P4Type:
        """The semantic type of an `ast.Type` node the front end saw."""
        r = self._rtype.get(id(t))
        return r if r is not None else T.Unknown()

    def call_args(self, call: Any) -> list[tuple[T.Param, Any]] | None:
        """For a call (MethodCallExpression, ConstructorCallExpression, Instantiation, or a table
        action reference `a(x)`): every parameter in declaration order, with its type after type
        inference, paired with the argument expression bound to it -- positional or named -- or its
        default value expression, or None (a missing @optional / action-data parameter)."""
        return self._call_args.get(id(call))

    def call_type(self, call: ast.MethodCallExpression) -> T.Function | None:
        """The invoked function/method type with type variables substituted (the chosen overload)."""
        r = self._call_type.get(id(call))
        return r[0] if r else None

    def type_args(self, call: ast.MethodCallExpression) -> dict[str, T.P4Type]:
        """Type-variable name -> inferred (or explicit) type of a generic call (`extract<T>`, `hash<O,T,D,M>`)."""
        r = self._call_type.get(id(call))
        return dict(r[1]) if r else {}

    def set_call_args(self, call: Any, pairs: list) -> None:
        self._call_args[id(call)] = pairs

    def set_call_type(self, call: Any, ft: T.Function, targs: dict) -> None:
        self._call_type[id(call)] = (ft, targs)

    def decl_type(self, decl: Any) -> T.P4Type:
        """The type of a declaration (variable, parameter, struct, extern, control, ...)."""
        r = self._decl_type.get(id(decl))
        return r if r is not None else T.Unknown()

    # -- recording (front end only) ----------------------------------------
    def set_decl(self, node: Any, decl: Any) -> None:
        self._decl[id(node)] = decl

    def set_type(self, node: Any, t: T.P4Type) -> None:
        self._type[id(node)] = t

    def set_const(self, node: Any, v: Any) -> None:
        if v is None:
            self._const.pop(id(node), None)
        else:
            self._const[id(node)] = v

    def set_cast(self, node: Any, t: T.P4Type) -> None:
        self._cast[id(node)] = t

    def set_rtype(self, node: Any, t: T.P4Type) -> None:
        self._rtype[id(node)] = t

    def set_decl_type(self, decl: Any, t: T.P4Type) -> None:
        self._decl_type[id(decl)] = t
