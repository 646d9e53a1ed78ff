"""Global declarations, type resolution and constant folding for the back half.

Why here: the mid end needs widths and shapes (and the values of constants
used in widths, sizes and table entries) for every expression it lowers; this
module answers those questions from the AST alone.
"""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import CompilerError
from .ptypes import (
    PType,
    TBits,
    TBool,
    TDontCare,
    TEnum,
    TError,
    TExtern,
    TInt,
    TMatchKind,
    TObject,
    TSerEnum,
    TStack,
    TString,
    TStructLike,
    TTuple,
    TVarbit,
    TVoid,
)


class GlobalEnv:
    """Top-level declarations of a program, by name."""

    def __init__(self, program: A.Program):
        self.program = program
        self.decls: dict[str, A.Declaration] = {}
        self.errors: list[str] = []
        self.match_kinds: list[str] = []
        self._types: dict[int, PType] = {}
        self.main: A.Instantiation | None = None
        for d in program.declarations:
            if isinstance(d, A.ErrorDeclaration):
                for m in d.members:
                    if m.name not in self.errors:
                        self.errors.append(m.name)
                continue
            if isinstance(d, A.MatchKindDeclaration):
                self.match_kinds.extend(m.name for m in d.members)
                continue
            name = getattr(d, "name", None)
            if name is None:
                continue
            if isinstance(d, (A.ExternFunctionDeclaration, A.FunctionDeclaration)) and name in self.decls:
                prev = self.decls[name]
                lst = prev if isinstance(prev, list) else [prev]
                lst.append(d)
                self.decls[name] = lst      # overloads
                continue
            if isinstance(d, A.ExternForwardDeclaration) and name in self.decls:
                continue
            self.decls[name] = d
            if isinstance(d, A.Instantiation) and d.name == "main":
                self.main = d

    def lookup(self, name: str):
        d = self.decls.get(name)
        if isinstance(d, list):
            return d[0]
        return d

    def overloads(self, name: str) -> list:
        d = self.decls.get(name)
        if d is None:
            return []
        return d if isinstance(d, list) else [d]

    # ------------------------------------------------------------------ types
    def resolve(self, t, tvars: dict | None = None, consts=None) -> PType:
        """`ast.Type` -> PType.  `tvars` binds type parameters; `consts`
        evaluates width expressions (a callable expr -> int)."""
        if isinstance(t, PType):
            return t
        if isinstance(t, A.BitsType):
            w = 1 if t.width is None else self.const_int(t.width, consts)
            return TBits(w, t.signed)
        if isinstance(t, A.VarbitType):
            return TVarbit(self.const_int(t.width, consts))
        if isinstance(t, A.BoolType):
            return TBool()
        if isinstance(t, A.IntType):
            return TInt()
        if isinstance(t, A.StringType):
            return TString()
        if isinstance(t, A.ErrorType):
            return TError()
        if isinstance(t, A.MatchKindType):
            return TMatchKind()
        if isinstance(t, A.VoidType):
            return TVoid()
        if isinstance(t, A.DontCareType):
            return TDontCare()
        if isinstance(t, A.StackType):
            return TStack(self.resolve(t.element, tvars, consts), self.const_int(t.size, consts))
        if isinstance(t, (A.TupleType,)):
            return TTuple(tuple(self.resolve(x, tvars, consts) for x in t.args))
        if isinstance(t, A.ListType):
            return TTuple((self.resolve(t.element, tvars, consts),))
        if isinstance(t, A.SpecializedType):
            base = self.lookup(t.base.path.name)
            args = [self.resolve(x, tvars, consts) for x in t.args]
            if isinstance(base, A.StructLikeDeclaration) and base.type_params:
                sub = {tp.name: a for tp, a in zip(base.type_params, args)}
                return self.struct_type(base, sub, consts, key=(id(base), tuple(map(repr, args))))
            if isinstance(base, A.ExternDeclaration):
                return TExtern(base.name, tuple(args))
            return self.resolve(A.TypeName(t.base.path), tvars, consts)
        if isinstance(t, A.TypeName):
            name = t.path.name
            if tvars and name in tvars:
                return tvars[name]
            d = self.lookup(name)
            if d is None:
                raise CompilerError(t.loc, f"{name}: unknown type")
            return self.decl_type(d, consts)
        if isinstance(t, A.Declaration):
            return self.decl_type(t, consts)
        raise CompilerError(getattr(t, "loc", None), f"unsupported type {type(t).__name__}")

    def decl_type(self, d, consts=None) -> PType:
        if isinstance(d, A.StructLikeDeclaration):
            return self.struct_type(d, {}, consts, key=id(d))
        if isinstance(d, A.TypedefDeclaration):
            return self.resolve(d.type, None, consts)
        if isinstance(d, A.EnumDeclaration):
            key = id(d)
            if key not in self._types:
                self._types[key] = TEnum(d.name, [m.name for m in d.members])
            return self._types[key]
        if isinstance(d, A.SerEnumDeclaration):
            key = id(d)
            if key not in self._types:
                base = self.resolve(d.type, None, consts)
                if not isinstance(base, TBits):
                    base = TBits(32)
                members = {}
                self._types[key] = t = TSerEnum(d.name, base, members)
                for m in d.members:
                    members[m.name] = self.const_int(m.value, consts) & ((1 << base.width) - 1)
                return t
            return self._types[key]
        if isinstance(d, (A.ExternDeclaration, A.ExternForwardDeclaration)):
            return TExtern(d.name)
        if isinstance(d, A.ParserDeclaration):
            return TObject("parser", d)
        if isinstance(d, A.ControlDeclaration):
            return TObject("control", d)
        if isinstance(d, (A.ParserTypeDeclaration, A.ControlTypeDeclaration, A.PackageTypeDeclaration)):
            return TObject("type", d)
        raise CompilerError(getattr(d, "loc", None), f"{getattr(d, 'name', '?')}: not a type")

    def struct_type(self, d: A.StructLikeDeclaration, sub: dict, consts, key) -> TStructLike:
        if key in self._types:
            return self._types[key]
        kind = ("header" if isinstance(d, A.HeaderDeclaration)
                else "union" if isinstance(d, A.HeaderUnionDeclaration) else "struct")
        from ..names import type_name
        t = TStructLike(d.name, [], kind, type_name(d))
        self._types[key] = t
        for f in d.fields:
            t.fields.append((f.name, self.resolve(f.type, sub, consts)))
        return t

    # -------------------------------------------------------------- constants
    def const_int(self, e, consts=None) -> int:
        v = consts(e) if consts else self.const_value(e)
        if isinstance(v, bool) or not isinstance(v, int):
            raise CompilerError(getattr(e, "loc", None), "expected a compile-time integer constant")
        return v

    def const_value(self, e):
        """Fold a constant expression using only global constants."""
        if isinstance(e, A.IntLiteral):
            return e.value
        if isinstance(e, A.BoolLiteral):
            return e.value
        if isinstance(e, A.PathExpression):
            d = self.lookup(e.path.name)
            if isinstance(d, A.ConstantDeclaration):
                return self.const_value(d.init)
            return None
        if isinstance(e, A.UnaryOp):
            v = self.const_value(e.expr)
            if v is None:
                return None
            return {"-": lambda x: -x, "+": lambda x: x, "!": lambda x: not x, "~": lambda x: ~x}[e.op](v)
        if isinstance(e, A.BinaryOp):
            a, b = self.const_value(e.left), self.const_value(e.right)
            if a is None or b is None:
                return None
            return fold_binary(e.op, a, b)
        if isinstance(e, A.Cast):
            return self.const_value(e.expr)
        return None


def fold_binary(o: str, a, b):
    try:
        return {
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "/": lambda: a // b, "%": lambda: a % b, "<<": lambda: a << b, ">>": lambda: a >> b,
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
            "==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, ">": lambda: a > b,
            "<=": lambda: a <= b, ">=": lambda: a >= b, "&&": lambda: a and b, "||": lambda: a or b,
        }[o]()
    except (KeyError, ZeroDivisionError):
        return None


__all__ = [
    "GlobalEnv",
    "TDontCare",
    "TEnum",
    "TError",
    "TExtern",
    "TInt",
    "TMatchKind",
    "TObject",
    "TSerEnum",
    "TStack",
    "TString",
    "TTuple",
    "TVarbit",
    "TVoid",
    "fold_binary",
]
