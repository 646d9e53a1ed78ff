"""Calls: overload choice, binding of positional/named/default arguments, direction and
l-value checks, type-variable inference (`extract<T>`, `hash<O,T,D,M>`), call-context rules.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import _UNK, _VOID, LATE, TYPE, _args_named
from .exprs import has_default_values
from .scope import Scope
from .typed import BuiltinDecl


class CallMixin:
    # -------------------------------------------------- calls
    def ex_MethodCallExpression(self, e: A.MethodCallExpression, scope: Scope, expected: Any,
                                statement: bool = False) -> T.P4Type:
        self._method_cands = None
        self._overloads = None
        mt = self.expr(e.method, scope)
        cands = self._method_cands
        overloads = self._overloads
        self._method_cands = None
        self._overloads = None
        targs = [self.rtype(t, scope) for t in e.type_args]
        for ta, tn in zip(targs, e.type_args):
            if isinstance(ta, T.Void):
                self.fail(tn, f"void: illegal type argument for '{getattr(e.method, 'member', self.show(e.method))}'", TYPE)
        name = self.show(e.method)
        md = self.tp.decl_of(e.method)
        if isinstance(mt, T.TypeOfType) and isinstance(mt.type, (T.Parser, T.Control)):
            self.fail(e, f"{self.show(e)}: cannot call a {type(mt.type).__name__.lower()} type; instantiate it first", TYPE)
        if isinstance(md, A.ActionDeclaration):
            at = self.tp.decl_type(md)
            if isinstance(at, T.Action):
                if scope.enclosing("parser", "parser_body", "states") is not None:
                    self.fail(e, f"{self.show(e)}: Action calls are not allowed within parsers", TYPE)
                if scope.enclosing("function") is not None:
                    self.fail(e, f"{self.show(e)}: Functions cannot call actions", TYPE)
                if e.type_args:
                    self.fail(e, f"{self.show(e)}: Cannot supply type parameters for an action invocation", TYPE)
                ft = T.Function(md.name, [], at.params, _VOID, md, "action")
                self.bind_call(ft, e.args, scope, e, md.name)
                for a in e.args:
                    for n in a.expr.walk():
                        if isinstance(n, A.MethodCallExpression) and isinstance(n.method, A.Member) and \
                                n.method.member == "apply" and isinstance(self.tp.type_of(n.method.expr), T.Table):
                            self.err(n, f"{self.show(n)}: table invocation in action argument", LATE, "unsupported")
                return _VOID
        fcands: list[T.Function] = []
        if cands:
            fcands = [c[1] for c in cands]
        elif overloads:
            fcands = [self.tp.decl_type(d) for d in overloads if isinstance(self.tp.decl_type(d), T.Function)]
        elif isinstance(mt, T.Function):
            fcands = [mt]
        elif mt.is_unknown:
            for a in e.args:
                self.expr(a.expr, scope)
            return _UNK
        else:
            self.fail_here(e, f"{self.show(e.method)} is not a method", TYPE)
        if not fcands:
            for a in e.args:
                self.expr(a.expr, scope)
            return _UNK
        ft = self.pick_overload(fcands, e.args, e, name)
        if cands:
            for m, c in cands:
                if c is ft:
                    self.tp.set_decl(e.method, m)
        elif overloads:
            for d in overloads:
                if self.tp.decl_type(d) is ft:
                    self.tp.set_decl(e.method, d)
                    self.tp.set_decl(getattr(e.method, "path", e.method), d)
        self.call_context_checks(e, ft, scope)
        md = self.tp.decl_of(e.method)
        if isinstance(md, A.ExternFunctionDeclaration) and md.name == "static_assert" and e.args:
            self.expr(e.args[0].expr, scope)
            if self.tp.const_value(e.args[0].expr) is False:
                self.fail(e, f"{self.show(e)}: static assertion failed", TYPE, "expected")
            if self.tp.const_value(e.args[0].expr) is True:
                self.tp.set_const(e, True)
        if isinstance(md, A.ExternFunctionDeclaration) and md.name == "verify" and \
                scope.enclosing("parser", "parser_body", "states") is None:
            self.fail(e, f"{self.show(e)}: may only be invoked in parsers", TYPE)
        if targs:
            if len(targs) != len(ft.type_params):
                self.fail(e, f"{self.show(e)}: {name} has {len(ft.type_params)} type parameter(s), but "
                             f"{len(targs)} type argument(s) were supplied", TYPE)
            generic = {p.name for p in ft.params if isinstance(p.type, T.TypeVar)}
            for i, a in enumerate(e.args):
                pname = a.name or (ft.params[i].name if i < len(ft.params) else None)
                if pname in generic and has_default_values(a.expr):
                    self.fail(e, f"Default values {{...}} cannot be used in method call expression {name}", TYPE)
            sub = {id(tv): a for tv, a in zip(ft.type_params, targs)}
            ft = T.Function(ft.name, [], [self.subst_param(p, sub) for p in ft.params],
                            self.subst(ft.ret, sub), ft.decl, ft.kind)
        bindings = self.bind_call(ft, e.args, scope, e, name)
        ret = self.subst(ft.ret, bindings)
        self.tp.set_call_type(e, T.Function(ft.name, [], [self.subst_param(p, bindings) for p in ft.params], ret,
                                            ft.decl, ft.kind),
                              {tv.name: bindings.get(id(tv), _UNK) for tv in ft.type_params})
        if isinstance(ret, (T.Control, T.Parser, T.Package)) and isinstance(md, A.MethodDeclaration):
            self.fail(e, f"{self.show(e)}: illegal return type {type(ret).__name__.lower()} {ret}", TYPE)
        if isinstance(md, A.MethodDeclaration) and md.name == "extract" and e.args:
            at = self.tp.type_of(e.args[0].expr)
            if not isinstance(at, (T.Header, T.Unknown, T.TypeVar, T.DontCare)):
                self.fail(e.args[0].expr, f"{self.show(e.args[0].expr)}: argument must be a header", TYPE)
            if len(e.args) == 2 and isinstance(at, T.Header) and \
                    not any(isinstance(T.strip_newtype(ft_), T.Varbit) for _, ft_ in at.fields):
                # the two-argument form sets the size of the header's varbit field
                self.fail(e.args[0].expr, f"{self.show(e.args[0].expr)}: argument should contain a varbit field", TYPE)
        if isinstance(md, A.MethodDeclaration) and md.name == "lookahead" and targs and e.type_args and \
                _has_varbit(targs[0]):
            # lookahead copies a fixed number of bits: its type cannot contain a varbit
            self.fail(e.type_args[0], f"{self.show(e.type_args[0])}: type argument must be a fixed-width type", TYPE)
        if isinstance(md, BuiltinDecl) and md.name == "apply" and isinstance(ret, T.TableResult):
            return ret
        if ft.kind == "builtin":
            self._builtin_const(e, md, ret)
        return ret

    def _builtin_const(self, e: A.MethodCallExpression, md: Any, ret: T.P4Type) -> None:
        if not isinstance(md, BuiltinDecl) or md.name not in ("minSizeInBits", "minSizeInBytes",
                                                              "maxSizeInBits", "maxSizeInBytes"):
            return
        owner = md.owner
        if isinstance(owner, T.TypeOfType):
            owner = owner.type
        w = self._size_of(owner, md.name.startswith("max"))
        if w is not None:
            self.tp.set_const(e, w if md.name.endswith("Bits") else (w + 7) // 8)

    def _size_of(self, t: T.P4Type, mx: bool) -> int | None:
        t = T.strip_newtype(t)
        if isinstance(t, T.Varbit):
            return t.max_width if mx else 0
        if isinstance(t, T.StructLike):
            if isinstance(t, T.HeaderUnion):
                ws = [self._size_of(ft, mx) for _, ft in t.fields]
                if any(w is None for w in ws):
                    return None
                return (max(ws) if mx else min(ws)) if ws else 0
            tot = 0
            for _, ft in t.fields:
                w = self._size_of(ft, mx)
                if w is None:
                    return None
                tot += w
            return tot
        if isinstance(t, T.Stack):
            w = self._size_of(t.element, mx)
            return None if w is None else w * t.size
        return T.width_of(t)

    def call_context_checks(self, e: A.MethodCallExpression, ft: T.Function, scope: Scope) -> None:
        md = self.tp.decl_of(e.method)
        if isinstance(md, BuiltinDecl) and md.name == "apply":
            if scope.enclosing("action") is not None and scope.enclosing("function") is None:
                self.fail(e, f"{self.show(e)}: apply cannot be called from actions", TYPE)

    def pick_overload(self, cands: list[T.Function], args: list[A.Argument], where: Any, name: str) -> T.Function:
        if len(cands) == 1:
            return cands[0]
        n = len(args)
        names = [a.name for a in args if a.name]
        ok = []
        for c in cands:
            required = [p for p in c.params if p.default is None and not p.optional]
            if names:
                pn = {p.name for p in c.params}
                if not all(x in pn for x in names):
                    continue
                if all(p.name in names for p in required) and n <= len(c.params):
                    ok.append(c)
            elif len(required) <= n <= len(c.params):
                ok.append(c)
        if not ok:
            self.fail(where, f"{self.show(where)}: Could not find a matching overload of {name} for {n} arguments", TYPE)
        if len(ok) > 1:
            exact = [c for c in ok if len(c.params) == n]
            if len(exact) == 1:
                return exact[0]
            if len(exact) > 1 and not names:
                self.fail(where, f"{self.show(where)}: Ambiguous method {name}", TYPE, "duplicate")
            return ok[0]
        return ok[0]

    def bind_call(self, ft: T.Function, args: list[A.Argument], scope: Scope, where: Any, name: str,
                  extra_tvs: list | None = None, action_partial: bool = False) -> dict[int, T.P4Type]:
        """Match arguments to parameters (positional or named), check directions and types,
        infer type variables.  Returns the bindings of `ft.type_params`."""
        params = ft.params
        tvs = list(ft.type_params) + list(extra_tvs or [])
        tvids = {id(tv) for tv in tvs}
        named = _args_named(args)
        if named and not all(a.name for a in args):
            self.fail(where, f"{self.show(where)}: either all or none of the arguments of a call must be named", TYPE)
        pairs: list[tuple[T.Param, A.Argument]] = []
        if named:
            pmap = {p.name: p for p in params}
            seen = set()
            for a in args:
                p = pmap.get(a.name)
                if p is None:
                    self.fail(a, f"{self.show(where)}: No parameter named {a.name}", TYPE)
                if a.name in seen:
                    self.fail(a, f"{a.name}: argument specified twice", TYPE)
                seen.add(a.name)
                pairs.append((p, a))
            for p in params:
                if p.name not in seen and p.default is None and not p.optional:
                    if action_partial:
                        continue
                    self.fail(where, f"{self.show(where)}: Parameter {p.name} must be bound", TYPE)
        else:
            if len(args) > len(params):
                self.fail(where, f"{self.show(where)}: Too many arguments", TYPE)
            for p, a in zip(params, args):
                pairs.append((p, a))
            for p in params[len(args):]:
                if p.default is None and not p.optional:
                    if action_partial:
                        break
                    self.fail(where, f"{self.show(where)}: Parameter {p.name} must be bound", TYPE)
        bindings: dict[int, T.P4Type] = {}
        for p, a in pairs:
            pt = p.type
            if isinstance(a.expr, A.DefaultExpression) and a.expr.dontcare:
                self.tp.set_type(a.expr, T.DontCare())
                if p.direction in ("in", ""):
                    self.fail(a.expr, "_: Don't care argument only allowed for out parameters", TYPE)
                continue
            if isinstance(pt, T.TypeVar) and has_default_values(a.expr):
                self.fail(where, f"Default values {{...}} cannot be used in method call expression {name}", TYPE)
            exp = self.subst(pt, bindings) if tvids else pt
            exp_ctx = exp if not self._has_tv(exp, tvids) else None
            at = self.expr(a.expr, scope, exp_ctx)
            if isinstance(exp, T.DontCare) and isinstance(at, (T.InfInt, T.Table)):
                self.fail(a.expr, f"{self.show(a.expr)}: Could not infer a type for parameter {p.name} "
                                  f"(inferred type is don't care '_')", TYPE)
            if isinstance(at, T.Table):
                self.fail(a.expr, f"{self.show(a.expr)}: argument cannot have type Type_Table", TYPE)
            if tvids and isinstance(pt, T.TypeVar) and p.direction and isinstance(at, T.String) and p.decl is not None:
                self.fail(p.decl, f"{p.name}: a parameter with type string cannot have a direction", TYPE)
            if tvids:
                if isinstance(pt, T.TypeVar) and id(pt) in tvids and id(pt) not in bindings and isinstance(at, T.InfInt):
                    self.fail(a.expr, f"{self.show(a.expr)}: could not infer a width", TYPE)
                self.unify(pt, at, bindings, tvids, a.expr)
                exp = self.subst(pt, bindings)
            if p.direction in ("out", "inout"):
                if not self.is_lvalue(a.expr):
                    self.fail(a.expr, f"{self.show(where)}: Read-only value used for out/inout parameter '{p.name}'", TYPE)
                if not self._has_tv(exp, tvids):
                    src = self.tp.type_of(a.expr)
                    if not src.is_unknown and not exp.is_unknown and not self.compatible(exp, src) and \
                            not isinstance(src, T.InfInt):
                        self.fail(a.expr, f"{self.show(where)}: Cannot unify type '{src}' with type '{exp}'", TYPE)
                    if isinstance(src, T.InfInt) and isinstance(T.strip_newtype(exp), T.Bits):
                        self.fail(a.expr, f"{self.show(where)}: Read-only value used for out/inout parameter '{p.name}'", TYPE)
                continue
            if not self._has_tv(exp, tvids):
                self.coerce(a.expr, exp, scope)
        given = {id(p): a.expr for p, a in pairs}
        sub_params = [self.subst_param(p, bindings) for p in params]
        self.tp.set_call_args(where, [(sp, given.get(id(p), p.default)) for p, sp in zip(params, sub_params)])
        for p, a in pairs:
            if isinstance(a.expr, A.DefaultExpression) and a.expr.dontcare and self._has_tv(p.type, tvids):
                if isinstance(p.type, T.TypeVar) and id(p.type) not in bindings:
                    self.fail(where, f"{self.show(where)}: could not infer a type for variable {p.type.name}", TYPE)
        return bindings

    def _has_tv(self, t: T.P4Type, tvids: set) -> bool:
        if not tvids:
            return False
        if isinstance(t, T.TypeVar):
            return id(t) in tvids
        if isinstance(t, T.Stack):
            return self._has_tv(t.element, tvids)
        if isinstance(t, (T.Tuple, T.ListT)):
            return any(self._has_tv(x, tvids) for x in getattr(t, "elements", ())) or \
                (isinstance(t, T.ListT) and t.element is not None and self._has_tv(t.element, tvids))
        if isinstance(t, (T.Extern, T.StructLike, T.Callable_)):
            return any(self._has_tv(x, tvids) for x in getattr(t, "type_args", ())) or (
                isinstance(t, T.Callable_) and any(self._has_tv(p.type, tvids) for p in t.params))
        return False

    def unify(self, pt: T.P4Type, at: T.P4Type, b: dict[int, T.P4Type], tvids: set, node: Any) -> None:
        if isinstance(pt, T.TypeVar) and id(pt) in tvids:
            if id(pt) not in b and not at.is_unknown and not isinstance(at, T.DontCare):
                b[id(pt)] = at
            return
        if isinstance(pt, T.Stack) and isinstance(at, T.Stack):
            self.unify(pt.element, at.element, b, tvids, node)
        elif isinstance(pt, T.Tuple) and isinstance(at, (T.Tuple, T.ListT)):
            for x, y in zip(pt.elements, at.elements):
                self.unify(x, y, b, tvids, node)
        elif isinstance(pt, T.Callable_) and isinstance(at, T.Callable_):
            for x, y in zip(pt.params, at.params):
                self.unify(x.type, y.type, b, tvids, node)
        elif isinstance(pt, (T.Extern, T.StructLike)) and isinstance(at, (T.Extern, T.StructLike)):
            for x, y in zip(getattr(pt, "type_args", ()), getattr(at, "type_args", ())):
                self.unify(x, y, b, tvids, node)


def _has_varbit(t: T.P4Type, _seen: frozenset = frozenset()) -> bool:
    """True when a value of type `t` has no fixed width because of a varbit inside it."""
    t = T.strip_newtype(t)
    if isinstance(t, T.Varbit):
        return True
    if isinstance(t, T.Stack):
        return _has_varbit(t.element, _seen)
    if isinstance(t, T.StructLike) and id(t) not in _seen:
        return any(_has_varbit(ft, _seen | {id(t)}) for _, ft in t.fields)
    return False
