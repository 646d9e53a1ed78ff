"""Declarations: parameters, struct-likes, enums, typedefs, externs, functions, actions,
parser/control/package types, constants, variables, value sets and instantiations (with
constructor binding and abstract-method initializers).  Each declaration is checked and then
entered into its scope, which gives P4's declare-before-use rule.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import _ERR, _MK, _UNK, LATE, RESOLVE, TYPE, VALIDATE, _Abort
from .scope import Scope


class DeclMixin:
    # ------------------------------------------------------------ declarations
    def check_param(self, p: A.Parameter, t: T.P4Type, pkind: str) -> None:
        if isinstance(t, (T.Extern, T.Callable_)) and t.type_params and not t.type_args:
            # p4c: a parameter's type may not leave a generic type's variables unbound
            self.err(p, f"Type parameters needed for {p.name}", TYPE)
        if p.direction and isinstance(t, (T.String, T.Extern)) and pkind in ("method", "", "function", "apply"):
            self.err(p, f"{p.name}: a parameter with type {t} cannot have a direction", TYPE)
        if p.direction and (p.direction != "in" or pkind == "function") and isinstance(t, T.InfInt):
            self.err(p, f"{p.name}: parameters with type int must be directionless", TYPE)
        if pkind == "action":
            if isinstance(t, T.Extern):
                self.err(p, f"{p.name}: Action parameters cannot have extern types", TYPE)
            elif isinstance(t, T.InfInt):
                self.err(p, f"{p.name}: actions cannot have parameters with type int", TYPE)
        if pkind in ("", "method") and isinstance(t, T.Tuple) and any(isinstance(x, T.String) for x in t.elements):
            self.err(p.type, "Field 'f0' of 'struct tuple_0' cannot have type 'string'", TYPE)
        if pkind == "ctor" and p.direction:
            self.err(p, f"{p.name}: constructor parameters cannot have a direction", VALIDATE, None)
        if pkind == "ctor" and isinstance(t, T.Package):
            self.err(p, f"{p.name}: parameter cannot be a package", TYPE)
        if pkind in ("action", "function", "apply"):
            if isinstance(t, (T.Parser, T.Control)):
                self.err(p, f"{p.name}: parameter cannot have type {type(t).__name__.lower()} {t}", TYPE)
            elif isinstance(t, T.Package):
                self.err(p, f"{p.name}: parameter cannot be a package", TYPE)
        if any(a.name == "optional" for a in p.annotations) and pkind in ("action", "function", "apply", "ctor"):
            self.err(p, f"{p.name}: optional parameter not allowed here", VALIDATE, "invalid")

    def params(self, params: list[A.Parameter], scope: Scope, add_to: Scope | None, pkind: str = "") -> list[T.Param]:
        out = []
        for p in params:
            self.diags.current = p.loc
            try:
                t = self.rtype(p.type, scope)
            except _Abort:
                t = _UNK
            self.tp.set_decl_type(p, t)
            opt = any(a.name == "optional" for a in p.annotations)
            self.check_param(p, t, pkind)
            if p.default is not None:
                if p.direction in ("out", "inout"):
                    self.err(p, f"{p.name}: {p.direction} parameters cannot have default values", TYPE)
                try:
                    self.expr(p.default, scope, t)
                    if not self._mentions_tv(t):     # generic: checked when the call binds the variables
                        self.coerce(p.default, t, scope)
                    if not self._is_ctor_const(p.default):
                        self.err(p.default, f"{self.show(p.default)}: expression must be a compile-time constant", TYPE)
                except _Abort:
                    pass
            out.append(T.Param(p.name, p.direction, t, p.default, p, opt))
            if add_to is not None:
                self.add(add_to, p.name, p)
        return out

    def type_params(self, tps: list[A.TypeParameter], scope: Scope) -> list[T.TypeVar]:
        out = []
        for tp in tps:
            tv = T.TypeVar(tp.name, tp)
            self.tp.set_decl_type(tp, tv)
            scope.add(tp.name, tp)
            out.append(tv)
        return out

    def declaration(self, d: Any, scope: Scope) -> None:
        m = getattr(self, "decl_" + type(d).__name__, None)
        if m is None:
            if isinstance(d, A.Statement):
                self.statement(d, scope)
                return
            return
        m(d, scope)

    def decl_ErrorDeclaration(self, d: A.ErrorDeclaration, scope: Scope) -> None:
        for m in d.members:
            if m.name in self.error_members:
                self.err(m, f"{m.name}: Duplicates declaration {m.name}", VALIDATE, "duplicate")
            self.error_members[m.name] = m
            self.tp.set_decl_type(m, _ERR)

    def decl_MatchKindDeclaration(self, d: A.MatchKindDeclaration, scope: Scope) -> None:
        for m in d.members:
            if scope.lookup_local(m.name) or m.name in self.match_kinds:
                self.err(m, f"{m.name}: Duplicates declaration {m.name}", VALIDATE, "duplicate")
            self.match_kinds[m.name] = m
            self.tp.set_decl_type(m, _MK)
            scope.add(m.name, m)

    def _check_dup(self, d: Any, scope: Scope) -> None:
        pass

    _OVERLOADABLE = (A.FunctionDeclaration, A.ExternFunctionDeclaration, A.MethodDeclaration)

    def add(self, scope: Scope, name: str, d: Any) -> None:
        prev = scope.lookup_local(name)
        if prev and not (isinstance(d, self._OVERLOADABLE) and all(isinstance(x, self._OVERLOADABLE) for x in prev)) \
                and not (isinstance(d, A.ExternDeclaration) and all(isinstance(x, A.ExternForwardDeclaration) for x in prev)):
            self.err(d, f"{name} duplicates {name}.", RESOLVE, "duplicate")
        scope.add(name, d)

    def decl_StructLikeDeclaration(self, d: A.StructLikeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        cls = {A.HeaderDeclaration: T.Header, A.HeaderUnionDeclaration: T.HeaderUnion}.get(type(d), T.Struct)
        t = cls(d.name, [], d)
        self.tp.set_decl_type(d, t)
        inner = scope.child("type", d)
        self.type_params(d.type_params, inner)
        earlier: set[str] = set()
        for f in d.fields:
            self.diags.current = f.loc
            for ann in f.annotations:
                # `@length(e)` of a varbit field may only name fields declared before it
                if ann.name == "length":
                    for x in ann.exprs:
                        for n in x.walk():
                            if isinstance(n, A.PathExpression) and n.path.name not in earlier and \
                                    not inner.lookup(n.path.name):
                                self.err(n, f"{n.path.name}: declaration not found", RESOLVE, "not-found")
            earlier.add(f.name)
            try:
                if isinstance(f.type, A.TypeName) and f.type.path.name == d.name and not inner.lookup_local(d.name):
                    self.fail(f.type, f"{d.name}: declaration not found", RESOLVE, "not-found")
                ft = self.rtype(f.type, inner)
            except _Abort:
                ft = _UNK
            self.check_field_type(cls, ft, f, d)
            self.tp.set_decl_type(f, ft)
            t.fields.append((f.name, ft))
        self.add(scope, d.name, d)

    decl_HeaderDeclaration = decl_StructLikeDeclaration
    decl_HeaderUnionDeclaration = decl_StructLikeDeclaration
    decl_StructDeclaration = decl_StructLikeDeclaration

    def check_field_type(self, cls: type, ft: T.P4Type, f: A.StructField, d: Any) -> None:
        b = T.strip_newtype(ft)
        if cls is T.Header:
            ok = isinstance(b, (T.Bits, T.Varbit, T.SerEnum, T.Bool, T.Unknown, T.TypeVar, T.Stack)) or (
                isinstance(b, T.Struct) and self._flat_struct(b))
            if not ok:
                self.err(f, f"Field '{f.name}' of 'header {d.name}' cannot have type '{ft}'", TYPE)
            if isinstance(b, T.Varbit):
                prev = [x for x in d.fields if x is not f and isinstance(self.tp.decl_type(x), T.Varbit)]
                if prev:
                    self.err(prev[0], f"{prev[0].name} and {f.name}: multiple varbit fields in a header", LATE)
        elif cls is T.HeaderUnion:
            if not isinstance(b, (T.Header, T.Unknown, T.TypeVar)):
                self.err(f, f"Field '{f.name}' of 'header_union {d.name}' cannot have type '{ft}'", TYPE)
        else:
            if isinstance(b, (T.Extern, T.Callable_, T.Void, T.Table, T.StateT, T.String, T.InfInt)):
                self.err(f, f"Field '{f.name}' of 'struct {d.name}' cannot have type '{ft}'", TYPE)

    def _flat_struct(self, s: T.Struct) -> bool:
        for _, ft in s.fields:
            b = T.strip_newtype(ft)
            if isinstance(b, T.Struct):
                if not self._flat_struct(b):
                    return False
            elif not isinstance(b, (T.Bits, T.SerEnum, T.Bool, T.Unknown)):
                return False
        return True

    def decl_EnumDeclaration(self, d: A.EnumDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        t = T.Enum(d.name, tuple(m.name for m in d.members), d)
        self.tp.set_decl_type(d, t)
        for m in d.members:
            self.tp.set_decl_type(m, t)
        self.add(scope, d.name, d)

    def decl_SerEnumDeclaration(self, d: A.SerEnumDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        try:
            base = self.rtype(d.type, scope)
        except _Abort:
            base = _UNK
        bb = base
        if not isinstance(bb, (T.Bits, T.Unknown)):
            self.err(d.type, f"{base}: Illegal type for enum; only bit<> and int<> are allowed", TYPE)
        t = T.SerEnum(d.name, base, {}, d)
        self.tp.set_decl_type(d, t)
        for m in d.members:
            try:
                self.expr(m.value, scope, base)
                self.coerce(m.value, base, scope)
                v = self.tp.const_value(m.value)
                if isinstance(v, int) and not isinstance(v, bool):
                    t.members[m.name] = v
                else:
                    self.err(m.value, f"{self.show(m.value)}: expected a constant", TYPE)
            except _Abort:
                pass
            self.tp.set_decl_type(m, t)
        self.add(scope, d.name, d)

    def decl_TypedefDeclaration(self, d: A.TypedefDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        if isinstance(d.type, A.Declaration):
            self.declaration(d.type, scope)
            base = self.tp.decl_type(d.type)
        else:
            try:
                base = self.rtype(d.type, scope)
            except _Abort:
                base = _UNK
        if d.newtype:
            bb = base
            if not isinstance(bb, (T.Bits, T.Bool, T.NewType, T.Unknown, T.TypeVar)) and \
                    not isinstance(bb, T.Varbit):
                self.err(d, f"{d.name}: `type' can only be applied to base types", TYPE)
            t: T.P4Type = T.NewType(d.name, base, d)
        else:
            t = base
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_ExternForwardDeclaration(self, d: A.ExternForwardDeclaration, scope: Scope) -> None:
        t = T.Extern(d.name, [], d)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def method_type(self, m: A.MethodDeclaration, scope: Scope, kind: str, ext: Any = None) -> T.Function:
        inner = scope.child("method", m)
        tvs = self.type_params(m.type_params, inner)
        ret: T.P4Type = ext if m.return_type is None else self._safe_rtype(m.return_type, inner)
        ps = self.params(m.params, inner, None, "method" if kind == "method" else "")
        return T.Function(m.name, tvs, ps, ret, m, kind)

    def check_specialized_methods(self, t: T.Extern) -> None:
        if not t.type_args or not isinstance(t.decl, A.ExternDeclaration):
            return
        sub = {id(tv): a for tv, a in zip(t.type_params, t.type_args)}
        for m in t.decl.methods:
            for p in m.params:
                pt = self.subst(self.tp.decl_type(p), sub)
                if p.direction and isinstance(pt, T.String):
                    self.err(p, f"{p.name}: a parameter with type string cannot have a direction", TYPE)

    def _safe_rtype(self, t: Any, scope: Scope) -> T.P4Type:
        try:
            return self.rtype(t, scope)
        except _Abort:
            return _UNK

    def decl_ExternDeclaration(self, d: A.ExternDeclaration, scope: Scope) -> None:
        prev = [x for x in scope.lookup_local(d.name) if not isinstance(x, A.ExternForwardDeclaration)]
        if prev:
            self.err(d, f"{d.name}: Duplicates declaration {d.name}", VALIDATE, "duplicate")
        inner = scope.child("extern", d)
        tvs = self.type_params(d.type_params, inner)
        t = T.Extern(d.name, tvs, d)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)
        inner.add(d.name, d)
        sigs: dict = {}
        for m in d.methods:
            key = (m.name, tuple(p.name for p in m.params))
            if key in sigs:
                self.err(m, f"Duplicate declaration of {m.name}: previous declaration at {sigs[key].loc}",
                         VALIDATE, "duplicate")
            sigs[key] = m
            for p in m.params:
                if isinstance(p.type, A.TypeName) and p.type.path.name == d.name and not d.type_params:
                    self.err(m, f"Self-referencing types not supported: '{d.name}' within '{d.name}'", TYPE, "unsupported")
        for m in d.methods:
            self.diags.current = m.loc
            try:
                if m.return_type is not None and m.name == d.name:
                    self.err(m, f"{m.name}: Invalid {m.name}: Constructor cannot have a return type", VALIDATE, "invalid")
                if m.return_type is None and m.name != d.name:
                    self.err(m, f"{m.name}: method has no return type", TYPE)
                ft = self.method_type(m, inner, "ctor" if m.return_type is None else "method", t)
                if isinstance(ft.ret, T.InfInt):
                    self.err(m.return_type, "int: illegal return type for method", TYPE)
                if m.return_type is None:
                    for p in m.params:
                        if p.direction:
                            self.err(p, f"{p.name}: constructor parameters cannot have a direction", VALIDATE, None)
                        pt = self.tp.decl_type(p)
                        if isinstance(pt, T.Control):
                            self.err(p, f"{p.name}: parameter cannot have type control {pt}", TYPE)
                self.tp.set_decl_type(m, ft)
            except _Abort:
                pass

    def decl_ExternFunctionDeclaration(self, d: A.ExternFunctionDeclaration, scope: Scope) -> None:
        ft = self.method_type(d.prototype, scope, "extern_function")
        self.tp.set_decl_type(d, ft)
        self.tp.set_decl_type(d.prototype, ft)
        self.add(scope, d.name, d)

    def decl_FunctionDeclaration(self, d: A.FunctionDeclaration, scope: Scope) -> None:
        if scope.kind not in ("program",) and scope.kind not in ("control", "parser"):
            pass
        inner = scope.child("function", d)
        tvs = self.type_params(d.type_params, inner)
        ret = self._safe_rtype(d.return_type, inner)
        ps = self.params(d.params, inner, inner, "function")
        ft = T.Function(d.name, tvs, ps, ret, d, "function")
        self.tp.set_decl_type(d, ft)
        body = inner.child("block", d.body)
        self.block_contents(d.body, body)
        self.add(scope, d.name, d)
        if not isinstance(ret, (T.Void, T.Unknown)) and not self._always_returns(d.body):
            self.err(d, f"Function '{d.name}' does not return a value on all paths", LATE, "insufficient")

    def check_parser_reach(self, d: A.ParserDeclaration) -> None:
        states = {s.name: s for s in d.states}
        seen, todo = set(), ["start"]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in ("accept", "reject"):
                return
            st = states.get(n)
            if st is None or st.transition is None:
                return
            tr = st.transition
            if isinstance(tr, A.PathExpression):
                todo.append(tr.path.name)
            elif isinstance(tr, A.SelectExpression):
                todo.extend(c.state.name for c in tr.cases)
                if not any(isinstance(c.keyset, A.DefaultExpression) for c in tr.cases):
                    return          # no match -> reject
            else:
                return
        if "start" in states:
            self.err(d, f"parser {d.name}: Parser never reaches accept or reject state", LATE, "unreachable")

    def _always_returns(self, s: Any) -> bool:
        if isinstance(s, (A.ReturnStatement, A.ExitStatement)):
            return True
        if isinstance(s, A.BlockStatement):
            return any(self._always_returns(c) for c in s.components)
        if isinstance(s, A.IfStatement):
            return s.other is not None and self._always_returns(s.then) and self._always_returns(s.other)
        if isinstance(s, A.SwitchStatement):
            has_default = any(isinstance(c.label, A.DefaultExpression) for c in s.cases)
            return has_default and all(c.body is None or self._always_returns(c.body) for c in s.cases)
        return False

    def decl_ActionDeclaration(self, d: A.ActionDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("action", d)
        ps = self.params(d.params, inner, inner, "action")
        seen_dirless = False
        for p, pt in zip(d.params, ps):
            if p.direction == "":
                seen_dirless = True
                b = T.strip_newtype(pt.type)
                if not (isinstance(pt.type, T.NewType) or pt.type.is_unknown or
                        isinstance(b, (T.Bits, T.Bool, T.SerEnum, T.TypeVar, T.Unknown))):
                    # action data comes from the control plane: scalars only
                    self.err(p, f"Action parameter {p.name} has a type which is not bit<>, int<>, bool, "
                                f"type or serializable enum", LATE)
            elif seen_dirless:
                self.err(p, f"{p.name}: direction-less action parameters have to be at the end", TYPE)
                break
        at = T.Action(d.name, ps, d)
        self.tp.set_decl_type(d, at)
        self.add(scope, d.name, d)
        self.block_contents(d.body, inner.child("block", d.body))

    def _callable_type(self, d: Any, cls: type, scope: Scope, inner: Scope) -> T.Callable_:
        tvs = self.type_params(d.type_params, inner)
        ps = self.params(d.params, inner, None, "apply")
        return cls(d.name, tvs, ps, [], d)

    def _no_default_params(self, d: Any, what: str) -> None:
        """p4c: a parser/control *type* cannot give its apply parameters default values (an
        instance's arguments are bound by the package, which could not see them)."""
        for p in d.params:
            if p.default is not None:
                self.fail(p, f"{p.name}: {what} type declarations cannot have parameters with default values", TYPE)

    def decl_ParserTypeDeclaration(self, d: A.ParserTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        t = self._callable_type(d, T.Parser, scope, inner)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)
        self._no_default_params(d, "parser")

    def decl_ControlTypeDeclaration(self, d: A.ControlTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        t = self._callable_type(d, T.Control, scope, inner)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)
        self._no_default_params(d, "control")

    def decl_PackageTypeDeclaration(self, d: A.PackageTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        tvs = self.type_params(d.type_params, inner)
        ps = self.params(d.params, inner, None)
        for p in d.params:
            if p.direction:
                # a package's parameters are constructor parameters (p4c's validation pass)
                self.err(p, f"{p.name}: constructor parameters cannot have a direction", VALIDATE, "invalid")
        t = T.Package(d.name, tvs, [], ps, d)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_ConstantDeclaration(self, d: A.ConstantDeclaration, scope: Scope) -> None:
        try:
            t = self.rtype(d.type, scope)
        except _Abort:
            t = _UNK
        if any(isinstance(n, A.DontCareType) for n in d.type.walk()):
            # `const S<_> x = ...`: p4c cannot give the type argument a type (it reports the
            # field of the synthesized type, without a location)
            self.err(None, f"Type of constant {d.name} cannot contain '_'", TYPE)
        if d.name == "__v1model_version" and isinstance(d.init, A.UnaryOp) and d.init.op == "-":
            self.err(d.init, f"{self.show(d.init)}: expected v1model version to be a non-negative number",
                     LATE, "expected")
        self.tp.set_decl_type(d, t)
        try:
            self.expr(d.init, scope, t)
            self.coerce_init(d, t, scope)
            v = self.tp.const_value(d.init)
            if v is None and not self._is_const_like(d.init):
                self.err(d.init, f"{self.show(d.init)}: Cannot evaluate initializer for constant", TYPE)
            self.tp.set_const(d, v)
        except _Abort:
            pass
        self.add(scope, d.name, d)

    def coerce_init(self, d: Any, t: T.P4Type, scope: Scope) -> None:
        """Initializer of a constant/variable: p4c reports mismatches inside a `{...}`
        initializer at the declared name."""
        saved = self.loc_override
        if isinstance(d.init, (A.ListExpression, A.StructExpression)):
            self.loc_override = d.loc
        try:
            self.coerce(d.init, t, scope, d)
        finally:
            self.loc_override = saved

    def _mentions_tv(self, t: T.P4Type, depth: int = 0) -> bool:
        if depth > 20:
            return False
        if isinstance(t, T.TypeVar):
            return True
        if isinstance(t, T.Stack):
            return self._mentions_tv(t.element, depth + 1)
        if isinstance(t, (T.Tuple, T.ListT)):
            return any(self._mentions_tv(x, depth + 1) for x in t.elements) or (
                isinstance(t, T.ListT) and t.element is not None and self._mentions_tv(t.element, depth + 1))
        if isinstance(t, (T.Extern, T.StructLike, T.Callable_)):
            return any(self._mentions_tv(x, depth + 1) for x in (t.type_args or ()))
        return False

    def _is_ctor_const(self, e: Any) -> bool:
        """Constructor arguments: compile-time constants, constructor parameters, instances."""
        if isinstance(e, A.PathExpression):
            d = self.tp.decl_of(e)
            if isinstance(d, A.Parameter) and d.direction == "" or isinstance(d, A.Instantiation):
                return True
        if isinstance(e, (A.ConstructorCallExpression, A.TypeNameExpression, A.DefaultExpression)):
            return True
        if isinstance(e, A.MethodCallExpression):
            return self.tp.const_value(e) is not None
        if isinstance(e, (A.ListExpression, A.StructExpression)):
            items = e.items if isinstance(e, A.ListExpression) else [f.expr for f in e.fields]
            return all(self._is_ctor_const(x) for x in items)
        if isinstance(e, (A.BinaryOp, A.UnaryOp, A.Cast, A.Mux, A.Slice, A.PlusSlice)):
            return all(self._is_ctor_const(x) for x in e.children() if isinstance(x, A.Expression))
        return self._is_const_like(e)

    def _is_const_like(self, e: Any) -> bool:
        # struct/list/tuple constants and enum members: compile-time but not a scalar
        if isinstance(e, (A.ListExpression, A.StructExpression, A.InvalidExpression)):
            return all(self._is_const_like(x) or self.tp.const_value(x) is not None
                       for x in (e.items if isinstance(e, A.ListExpression) else
                                 [f.expr for f in e.fields] if isinstance(e, A.StructExpression) else []))
        if self.tp.const_value(e) is not None:
            return True
        if isinstance(e, A.Member) and isinstance(self.tp.decl_of(e), (A.DeclarationId, A.SerEnumMember)):
            return True
        if isinstance(e, A.PathExpression):
            d = self.tp.decl_of(e)
            return isinstance(d, A.ConstantDeclaration)
        if isinstance(e, A.Cast):
            return self._is_const_like(e.expr)
        if isinstance(e, A.MethodCallExpression):
            return True  # e.g. static_assert / minSizeInBits
        return isinstance(self.tp.type_of(e), T.Unknown)

    def decl_VariableDeclaration(self, d: A.VariableDeclaration, scope: Scope) -> None:
        try:
            t = self.rtype(d.type, scope)
        except _Abort:
            t = _UNK
        self.tp.set_decl_type(d, t)
        if isinstance(t, T.InfInt):
            self.err(d, f"{d.name}: Cannot declare variables with type int", TYPE)
        if isinstance(t, (T.Extern, T.Parser, T.Control, T.Package)) and not t.is_unknown:
            self.err(d.type, f"{d.name}: cannot declare variables of type '{t}' (consider using an instantiation)", TYPE)
        if d.init is not None:
            try:
                self.expr(d.init, scope, t)
                self.coerce_init(d, t, scope)
            except _Abort:
                pass
        self.add(scope, d.name, d)

    def decl_ValueSetDeclaration(self, d: A.ValueSetDeclaration, scope: Scope) -> None:
        el = self._safe_rtype(d.type, scope)
        if not isinstance(T.strip_newtype(el), (T.Bits, T.Struct, T.Unknown, T.SerEnum, T.Tuple)):
            self.err(d.type, f"{el}: Illegal type for value_set element type", TYPE)
        try:
            self.const_int(d.size, scope)
        except _Abort:
            pass
        t = T.ValueSet(d.name, el, d)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_Instantiation(self, d: A.Instantiation, scope: Scope) -> None:
        if scope.enclosing("function", "action") is not None:
            self.err(d, f"{d.name}: invalid declaration. Instantiations cannot be in a function or action", VALIDATE, "invalid")
        elif scope.enclosing("apply") is not None and scope.enclosing("instance") is None:
            self.err(d, f"{d.name}: instances cannot be in a control 'apply' block", VALIDATE, None)
        elif scope.enclosing("state") is not None:
            self.err(d, f"{d.name}: instances cannot be in a parser state", VALIDATE, None)
        try:
            t = self.rtype(d.type, scope)
            t = self.construct(d, t, d.args, scope)
        except _Abort:
            t = _UNK
        self.tp.set_decl_type(d, t)
        if scope.kind == "program" and isinstance(t, (T.Parser, T.Control)):
            self.err(d, f"{d.name}: cannot instantiate at top-level", LATE, "invalid")
        if d.initializer is not None and not isinstance(t, (T.Extern, T.Unknown)):
            self.err(d, "BlockStatement: initializers only allowed for extern instances", TYPE)
        if d.initializer is None and isinstance(t, T.Extern) and isinstance(t.decl, A.ExternDeclaration) and \
                any(m.abstract for m in t.decl.methods):
            self.err(d, f"{d.name}: extern type {t.name} with abstract methods must be instantiated with an initializer", TYPE)
        if d.initializer is not None:
            inner = scope.child("instance", d)
            inner.add("this", d)
            for x in d.initializer:
                try:
                    self.declaration(x, inner)
                except _Abort:
                    pass
            if isinstance(t, T.Extern):
                self.check_initializer(d, t)
        self.add(scope, d.name, d)

    def check_initializer(self, d: A.Instantiation, t: T.Extern) -> None:
        """Functions in `E() x = {...}` must implement E's abstract methods, exactly."""
        decl = t.decl
        if not isinstance(decl, A.ExternDeclaration):
            return
        abstract = [m for m in decl.methods if m.abstract]
        if not abstract:
            self.err(d, "BlockStatement: instance initializers for extern without abstract methods", TYPE)
            return
        sub = {id(tv): a for tv, a in zip(t.type_params, t.type_args)}
        done = set()
        for f in d.initializer:
            if not isinstance(f, A.FunctionDeclaration):
                continue
            cands = [m for m in abstract if m.name == f.name and len(m.params) == len(f.params)]
            if not cands:
                self.err(f, f"{f.name}: no matching abstract method in {decl.name}", TYPE)
                continue
            m = cands[0]
            done.add(id(m))
            mt = self.tp.decl_type(m)
            ft = self.tp.decl_type(f)
            if isinstance(mt, T.Function) and isinstance(ft, T.Function):
                mt = self.subst(mt, sub)
                ok = self.compatible(mt.ret, ft.ret) and all(
                    a.direction == b.direction and self.compatible(a.type, b.type)
                    for a, b in zip(mt.params, ft.params))
                if not ok:
                    self.err(d, f"'{d.name}'", TYPE)
        for m in abstract:
            if id(m) not in done:
                self.err(d, f"{d.name}: {m.name} abstract method not implemented", TYPE)

    def construct(self, where: Any, t: T.P4Type, args: list[A.Argument], scope: Scope) -> T.P4Type:
        """Type of `T(args)`: externs bind a constructor; parsers/controls/packages their ctor params."""
        if isinstance(t, T.Extern):
            decl = t.decl
            if not isinstance(decl, A.ExternDeclaration):
                return t
            ctors = [m for m in decl.methods if m.return_type is None and m.name == decl.name]
            sub = {id(tv): a for tv, a in zip(t.type_params, t.type_args)}
            if not ctors:
                self.fail(where, f"{getattr(where, 'name', decl.name)}: type {decl.name} has no matching constructor", TYPE)
            cands = []
            for c in ctors:
                ft = self.tp.decl_type(c)
                if isinstance(ft, T.Function):
                    cands.append(self.subst(ft, sub))
            ft = self.pick_overload(cands, args, where, decl.name)
            bindings = self.bind_call(ft, args, scope, where, decl.name, extra_tvs=[tv for tv in t.type_params if id(tv) not in sub])
            for a in args:
                if not self._is_ctor_const(a.expr):
                    self.err(a.expr, f"{self.show(a.expr)}: cannot evaluate to a compile-time constant", TYPE)
            if t.type_params and not t.type_args:
                for tv in t.type_params:
                    if id(tv) not in bindings:
                        self.fail(where, f"{getattr(where, 'name', decl.name)}: could not infer a type for variable {tv.name}", TYPE)
                targs = tuple(bindings.get(id(tv), _UNK) for tv in t.type_params)
                t = T.Extern(t.name, t.type_params, t.decl, targs)
            self.check_specialized_methods(t)
            return t
        if isinstance(t, (T.Parser, T.Control, T.Package)):
            ps = t.ctor_params
            ft = T.Function(t.name, list(t.type_params), ps, t, t.decl, "ctor")
            saved = self.loc_override
            if isinstance(t, T.Package) and t.decl is not None:
                self.loc_override = t.decl.loc
            try:
                bindings = self.bind_call(ft, args, scope, where, t.name)
            finally:
                self.loc_override = saved
            for a in args:
                if not self._is_ctor_const(a.expr):
                    self.err(a.expr, f"'{self.show(a.expr)}': cannot evaluate to a compile-time constant", TYPE)
            if t.type_params and not t.type_args:
                for tv in t.type_params:
                    if id(tv) not in bindings:
                        self.fail(where, f"{getattr(where, 'name', t.name)}: could not infer a type for variable {tv.name}", TYPE)
                r = self.subst(t, bindings)
                r.type_args = tuple(bindings.get(id(tv), _UNK) for tv in t.type_params)
                return r
            return t
        if t.is_unknown:
            for a in args:
                self.expr(a.expr, scope)
            return t
        self.fail(where, f"{getattr(where, 'name', t)}: cannot allocate objects of type {t}", TYPE)
