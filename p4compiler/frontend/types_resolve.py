"""Resolution of `ast.Type` nodes to semantic types, specialization of generic types and
substitution of type variables; `const_int` folds the compile-time sizes they need.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import _BOOL, _ERR, _INT, _MK, _STR, _UNK, _VOID, RESOLVE, TYPE
from .scope import Scope


class TypeResolveMixin:
    # ------------------------------------------------------------ types
    def const_int(self, e: A.Expression, scope: Scope, what: str = "") -> int | None:
        self.expr(e, scope)
        v = self.tp.const_value(e)
        if isinstance(v, bool) or not isinstance(v, int):
            self.err(e, f"{self.show(e)}: expression must evaluate to a constant", TYPE)
            return None
        return v

    def show(self, e: Any) -> str:
        try:
            from ..printer import to_source  # type: ignore
            s = to_source(e)
            return s.strip().rstrip(";")
        except Exception:  # noqa: BLE001 - a message must never fail because of printing
            return type(e).__name__

    def rtype(self, t: Any, scope: Scope) -> T.P4Type:
        r = self._rtype(t, scope)
        self.tp.set_rtype(t, r)
        return r

    def _rtype(self, t: Any, scope: Scope) -> T.P4Type:
        if isinstance(t, A.BitsType):
            if t.width is None:
                return T.Bits(1, t.signed)
            w = self.const_int(t.width, scope)
            if w is None:
                return _UNK
            if w < 0:
                self.fail(t, f"{w}: invalid type size", TYPE)
            if w == 0 and t.signed:
                self.fail(t, "Width of signed type cannot be zero", TYPE)
            if w > 2048:
                self.fail(t.width, f"{w}: this implementation does not support bitstrings this large", TYPE, "overlimit")
            return T.Bits(w, t.signed)
        if isinstance(t, A.VarbitType):
            w = self.const_int(t.width, scope)
            if w is None:
                return _UNK
            if w < 0:
                self.fail(t, f"{w}: invalid type size", TYPE)
            return T.Varbit(w)
        if isinstance(t, A.BoolType):
            return _BOOL
        if isinstance(t, A.StringType):
            return _STR
        if isinstance(t, A.IntType):
            return _INT
        if isinstance(t, A.ErrorType):
            if not self.error_members:
                self.fail(t, "error: declaration not found", RESOLVE, "not-found")
            return _ERR
        if isinstance(t, A.MatchKindType):
            return _MK
        if isinstance(t, A.VoidType):
            return _VOID
        if isinstance(t, A.DontCareType):
            return T.DontCare()
        if isinstance(t, A.TypeName):
            decls = self.lookup(scope, t.path)
            d = decls[0]
            self.tp.set_decl(t, d)
            self.tp.set_decl(t.path, d)
            r = self.type_of_type_decl(d, t)
            if not self._in_specialized and isinstance(d, A.StructLikeDeclaration) and d.type_params:
                self.fail(t, f"{t.path.name}: generic type needs type arguments", TYPE)
            return r
        if isinstance(t, A.SpecializedType):
            saved, self._in_specialized = self._in_specialized, True
            try:
                base = self.rtype(t.base, scope)
            finally:
                self._in_specialized = saved
            args = [self.rtype(a, scope) for a in t.args]
            return self.specialize(base, args, t)
        if isinstance(t, A.StackType):
            el = self.rtype(t.element, scope)
            self.expr(t.size, scope)
            n = self.tp.const_value(t.size)
            # p4c folds a stack size before type checking, so `s.size` / `s.lastIndex`
            # (known only from a type) or a constructor parameter is not a constant there
            if isinstance(n, bool) or not isinstance(n, int) or any(
                    isinstance(x, A.Member) and x.member in ("size", "lastIndex") for x in t.size.walk()):
                kind = "header " if isinstance(el, T.Header) else "header_union " if isinstance(el, T.HeaderUnion) else ""
                self.err(t, f"{kind}{el}[?]: Size of header stack type should be a constant", TYPE)
                return _UNK
            if n < 0:
                self.fail(t.size, f"Illegal array size: {n}", TYPE)
            return T.Stack(el, n)
        if isinstance(t, A.TupleType):
            els = []
            for a in t.args:
                at = self.rtype(a, scope)
                if isinstance(at, (T.DontCare, T.Void)):
                    self.fail(a, f"Field 'f{len(els)}' of 'struct tuple_0' cannot have type '{at}'", TYPE)
                if isinstance(at, (T.Extern, T.Parser, T.Control, T.Package)):
                    self.fail(a, f"{self.show(a)}: not supported as a tuple field", TYPE)
                els.append(at)
            return T.Tuple(tuple(els))
        if isinstance(t, A.ListType):
            return T.ListT((), self.rtype(t.element, scope))
        return _UNK

    def type_of_type_decl(self, d: Any, where: Any) -> T.P4Type:
        if isinstance(d, A.TypeParameter):
            t = self.tp.decl_type(d)
            return t if not t.is_unknown else T.TypeVar(d.name, d)
        if isinstance(d, (A.StructLikeDeclaration, A.EnumDeclaration, A.SerEnumDeclaration,
                          A.TypedefDeclaration, A.ExternDeclaration, A.ParserTypeDeclaration,
                          A.ControlTypeDeclaration, A.PackageTypeDeclaration,
                          A.ExternForwardDeclaration)):
            return self.tp.decl_type(d)
        if isinstance(d, (A.ParserDeclaration, A.ControlDeclaration)):
            return self.tp.decl_type(d)
        self.fail(where, f"{getattr(d, 'name', '?')}: is not a type", TYPE)

    def specialize(self, base: T.P4Type, args: list[T.P4Type], where: Any) -> T.P4Type:
        tps = getattr(base, "type_params", None)
        if getattr(base, "type_args", None) and isinstance(base, (T.Extern, T.Callable_)):
            self.fail(where, f"{self.show(where)}: Type {base.name}<...> is not generic and thus it cannot be specialized "
                             f"using type arguments", TYPE)
        if tps is None and isinstance(base, T.StructLike) and base.decl is not None:
            tps = [self.tp.decl_type(p) for p in base.decl.type_params]
        if not tps:
            if base.is_unknown:
                return base
            self.fail(where, f"{base}: Type does not have type parameters", TYPE)
        if len(tps) != len(args):
            self.fail(where, f"{base}: Type has {len(tps)} type parameter(s), but {len(args)} type argument(s) were supplied", TYPE)
        for a, ta in zip(args, getattr(where, "args", [None] * len(args))):
            if isinstance(a, T.Nominal) and getattr(a, "decl", None) is getattr(base, "decl", 0):
                self.fail(where, f"{base.name}: contains self '{base.name}' as type argument", TYPE)
            if self._contains_decl(a, getattr(base, "decl", None)):
                self.fail(where, f"{base.name}: contains self '{base.name}' as type argument", TYPE)
            if isinstance(a, (T.Parser, T.Control)) and (isinstance(base, T.StructLike) or isinstance(
                    getattr(a, "decl", None), (A.ParserDeclaration, A.ControlDeclaration))):
                self.fail(where, f"{self.show(where)}: Cannot use {type(a).__name__.lower()} {a.name} as a type parameter", TYPE)
        sub = {id(tv): a for tv, a in zip(tps, args)}
        if isinstance(base, T.Extern):
            return T.Extern(base.name, base.type_params, base.decl, tuple(args))
        if isinstance(base, T.Callable_):
            cls = type(base)
            return cls(base.name, [], [self.subst_param(p, sub) for p in base.params],
                       [self.subst_param(p, sub) for p in base.ctor_params], base.decl, tuple(args))
        if isinstance(base, T.StructLike):
            cls = type(base)
            r = cls(base.name, [(n, self.subst(ft, sub)) for n, ft in base.fields], base.decl, tuple(args))
            if isinstance(base.decl, A.StructLikeDeclaration):
                for f, (_, ft) in zip(base.decl.fields, r.fields):
                    self.check_field_type(cls, ft, f, base.decl)
            return r
        return base

    def _contains_decl(self, t: T.P4Type, decl: Any) -> bool:
        if decl is None:
            return False
        for x in getattr(t, "type_args", ()) or ():
            if getattr(x, "decl", None) is decl or self._contains_decl(x, decl):
                return True
        return False

    # substitution of type variables
    def subst(self, t: T.P4Type, sub: dict[int, T.P4Type]) -> T.P4Type:
        if not sub:
            return t
        if isinstance(t, T.TypeVar):
            return sub.get(id(t), t)
        if isinstance(t, T.Stack):
            return T.Stack(self.subst(t.element, sub), t.size)
        if isinstance(t, T.Tuple):
            return T.Tuple(tuple(self.subst(x, sub) for x in t.elements))
        if isinstance(t, T.ListT):
            return T.ListT(tuple(self.subst(x, sub) for x in t.elements),
                           self.subst(t.element, sub) if t.element is not None else None)
        if isinstance(t, T.Extern) and t.type_args:
            return T.Extern(t.name, t.type_params, t.decl, tuple(self.subst(x, sub) for x in t.type_args))
        if isinstance(t, T.StructLike) and t.type_args:
            cls = type(t)
            return cls(t.name, [(n, self.subst(ft, sub)) for n, ft in t.fields], t.decl,
                       tuple(self.subst(x, sub) for x in t.type_args))
        if isinstance(t, T.Callable_):
            cls = type(t)
            return cls(t.name, t.type_params, [self.subst_param(p, sub) for p in t.params],
                       [self.subst_param(p, sub) for p in t.ctor_params], t.decl,
                       tuple(self.subst(x, sub) for x in t.type_args))
        if isinstance(t, T.Function):
            return T.Function(t.name, [tv for tv in t.type_params if id(tv) not in sub],
                              [self.subst_param(p, sub) for p in t.params], self.subst(t.ret, sub),
                              t.decl, t.kind)
        return t

    def subst_param(self, p: T.Param, sub: dict[int, T.P4Type]) -> T.Param:
        return T.Param(p.name, p.direction, self.subst(p.type, sub), p.default, p.decl, p.optional)
