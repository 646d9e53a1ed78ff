"""Name resolution + type checking/inference + constant folding, in one ordered walk.

Why one walk: P4 requires declaration before use (except parser states), so
walking the program in order with a scope chain resolves every name exactly as
p4c's ResolveReferences does, and types are known at each use.  p4c runs these
as separate passes and stops after the first failing one; errors are therefore
tagged with a phase (RESOLVE before TYPE ...) and only the earliest phase's
errors are reported (`check`).

Leniency rule: when a construct is not modelled precisely, its type is
`types.Unknown`, which is compatible with everything -- a false error on a
valid program is worse than a missed one.
"""
from __future__ import annotations

from typing import Any, Optional

from .. import ast as A
from .. import types as T
from ..diagnostics import CompilerError, Diagnostics, SourceLocation
from . import constfold as CF
from .scope import Scope
from .typed import BuiltinDecl, TypedProgram

VALIDATE, RESOLVE, TYPE, LATE = 0, 1, 2, 3

_UNK = T.Unknown()
_BOOL = T.Bool()
_INT = T.InfInt()
_VOID = T.Void()
_ERR = T.Error()
_MK = T.MatchKind()
_STR = T.String()
_STATE = T.StateT()


class _Abort(Exception):
    """Internal: stop checking the current statement (an error was recorded)."""


def _args_named(args: list[A.Argument]) -> bool:
    return any(a.name for a in args)


class Checker:
    def __init__(self, program: A.Program, diags: Diagnostics):
        self.program = program
        self.diags = diags
        self.tp = TypedProgram(program)
        self.errors: list[tuple[int, int, SourceLocation | None, str, str | None]] = []
        self.top = Scope(None, "program")
        self.error_decl: Optional[A.ErrorDeclaration] = None
        self.error_members: dict[str, A.DeclarationId] = {}
        self.match_kinds: dict[str, A.DeclarationId] = {}
        self._seq = 0
        self.loc_override: Optional[SourceLocation] = None
        self._in_specialized = False
        self._in_entries = False
        self.tables: list[A.TableDeclaration] = []
        self._accept = BuiltinDecl("accept", "state")
        self._reject = BuiltinDecl("reject", "state")
        self.tp.set_decl_type(self._accept, _STATE)
        self.tp.set_decl_type(self._reject, _STATE)

    # ------------------------------------------------------------ diagnostics
    def err(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error") -> None:
        loc = where if isinstance(where, SourceLocation) or where is None else getattr(where, "loc", None)
        if self.loc_override is not None and phase == TYPE:
            loc = self.loc_override
        self._seq += 1
        self.errors.append((phase, self._seq, loc, msg, kind))

    def fail(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error"):
        self.err(where, msg, phase, kind)
        raise _Abort()

    def fail_here(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error"):
        """`fail` at `where` even inside a region whose type errors are reported elsewhere."""
        self.loc_override = None
        self.fail(where, msg, phase, kind)

    def warn(self, where: Any, msg: str, kind: str | None = None) -> None:
        loc = where if isinstance(where, SourceLocation) or where is None else getattr(where, "loc", None)
        self.diags.warning(loc, msg, kind)

    # ------------------------------------------------------------ entry
    def run(self) -> TypedProgram:
        for d in self.program.declarations:
            self.diags.current = d.loc
            try:
                self.declaration(d, self.top)
            except _Abort:
                pass
        self.late_checks()
        return self.tp

    # ------------------------------------------------------------ lookups
    def lookup(self, scope: Scope, path: A.Path, what: Any = None) -> list[Any]:
        s = scope.root() if path.absolute else scope
        found = s.lookup(path.name)
        if not found:
            self.fail(path, f"{path.name}: declaration not found", RESOLVE, None)
        return found

    # ------------------------------------------------------------ types
    def const_int(self, e: A.Expression, scope: Scope, what: str = "") -> Optional[int]:
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
        except Exception:
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
            n = self.const_int(t.size, scope)
            if n is None:
                return _UNK
            if n < 0:
                self.fail(t.size, f"{n}: illegal array size", TYPE)
            return T.Stack(el, n)
        if isinstance(t, A.TupleType):
            els = []
            for a in t.args:
                at = self.rtype(a, scope)
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
            return cls(base.name, [(n, self.subst(ft, sub)) for n, ft in base.fields], base.decl, tuple(args))
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

    # ------------------------------------------------------------ declarations
    def check_param(self, p: A.Parameter, t: T.P4Type, pkind: str) -> None:
        if p.direction and isinstance(t, (T.String, T.Extern)) and pkind in ("method", ""):
            self.err(p, f"{p.name}: a parameter with type {t} cannot have a direction", TYPE)
        if p.direction and (p.direction != "in" or pkind == "function") and isinstance(t, T.InfInt):
            self.err(p, f"{p.name}: parameters with type int must be directionless", TYPE)
        if pkind == "action":
            if isinstance(t, T.Extern):
                self.err(p, f"{p.name}: Action parameters cannot have extern types", TYPE)
            elif isinstance(t, T.InfInt):
                self.err(p, f"{p.name}: actions cannot have parameters with type int", TYPE)
        if pkind == "ctor" and isinstance(t, T.Package):
            self.err(p, f"{p.name}: parameter cannot be a package", TYPE)
        if pkind in ("action", "function", "apply", "method"):
            if isinstance(t, (T.Parser, T.Control)):
                self.err(p, f"{p.name}: parameter cannot have type {type(t).__name__.lower()} {t}", TYPE)
            elif isinstance(t, T.Package):
                self.err(p, f"{p.name}: parameter cannot be a package", TYPE)
        if pkind == "method" and isinstance(t, T.Control):
            self.err(p, f"{p.name}: parameter cannot have type control {t}", TYPE)
        if any(a.name == "optional" for a in p.annotations) and pkind in ("action", "function", "apply", "ctor"):
            self.err(p, f"{p.name}: optional parameter not allowed here", VALIDATE, "invalid")

    def params(self, params: list[A.Parameter], scope: Scope, add_to: Optional[Scope], pkind: str = "") -> list[T.Param]:
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
                    self.coerce(p.default, t, scope)
                    if self.tp.const_value(p.default) is None and not self._is_const_like(p.default) or \
                            isinstance(p.default, A.MethodCallExpression):
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
        for f in d.fields:
            self.diags.current = f.loc
            try:
                if isinstance(f.type, A.TypeName) and f.type.path.name == d.name and not inner.lookup_local(d.name):
                    self.fail(f.type, f"{d.name}: declaration not found", RESOLVE, None)
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
            ok = isinstance(b, (T.Bits, T.Varbit, T.SerEnum, T.Bool, T.Unknown, T.TypeVar)) or (
                isinstance(b, T.Struct) and self._flat_struct(b))
            if not ok:
                self.err(f, f"Field '{f.name}' of 'header {d.name}' cannot have type '{ft}'", TYPE)
            if isinstance(b, T.Varbit):
                prev = [x for x in d.fields if x is not f and isinstance(self.tp.decl_type(x), T.Varbit)]
                if prev:
                    self.err(prev[0], f"{prev[0].name} and {f.name}: multiple varbit fields in a header", TYPE)
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
                if m.return_type is None and m.name != d.name:
                    self.err(m, f"{m.name}: method has no return type", TYPE)
                ft = self.method_type(m, inner, "ctor" if m.return_type is None else "method", t)
                if isinstance(ft.ret, T.InfInt):
                    self.err(m.return_type, "int: illegal return type for method", TYPE)
                if m.return_type is None:
                    for p in m.params:
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
            self.err(d, f"{d.name}: function does not return a value on all paths", LATE)

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
        for p in d.params:
            if p.direction == "":
                seen_dirless = True
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

    def decl_ParserTypeDeclaration(self, d: A.ParserTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        t = self._callable_type(d, T.Parser, scope, inner)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_ControlTypeDeclaration(self, d: A.ControlTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        t = self._callable_type(d, T.Control, scope, inner)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_PackageTypeDeclaration(self, d: A.PackageTypeDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("type", d)
        tvs = self.type_params(d.type_params, inner)
        ps = self.params(d.params, inner, None)
        t = T.Package(d.name, tvs, [], ps, d)
        self.tp.set_decl_type(d, t)
        self.add(scope, d.name, d)

    def decl_ConstantDeclaration(self, d: A.ConstantDeclaration, scope: Scope) -> None:
        try:
            t = self.rtype(d.type, scope)
        except _Abort:
            t = _UNK
        self.tp.set_decl_type(d, t)
        try:
            self.expr(d.init, scope, t)
            self.coerce(d.init, t, scope, d)
            v = self.tp.const_value(d.init)
            if v is None and not self._is_const_like(d.init):
                self.err(d.init, f"{self.show(d.init)}: Cannot evaluate initializer for constant", TYPE)
            self.tp.set_const(d, v)
        except _Abort:
            pass
        self.add(scope, d.name, d)

    def _is_const_like(self, e: Any) -> bool:
        # struct/list/tuple constants and enum members: compile-time but not a scalar
        if isinstance(e, (A.ListExpression, A.StructExpression, A.InvalidExpression)):
            return all(self._is_const_like(x) or self.tp.const_value(x) is not None
                       for x in (e.items if isinstance(e, A.ListExpression) else
                                 [f.expr for f in e.fields] if isinstance(e, A.StructExpression) else []))
        if self.tp.const_value(e) is not None:
            return True
        if isinstance(e, A.Member) and isinstance(self.tp.type_of(e), (T.Enum, T.SerEnum, T.Error)):
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
                self.coerce(d.init, t, scope, d)
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
            if t.type_params and not t.type_args:
                return self.subst(t, bindings)
            return t
        if t.is_unknown:
            for a in args:
                self.expr(a.expr, scope)
            return t
        self.fail(where, f"{t}: cannot instantiate this type", TYPE)

    # -------------------------------------------------- parsers and controls
    def decl_ParserDeclaration(self, d: A.ParserDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("parser", d)
        t = self._callable_type(d.type, T.Parser, scope, inner)
        t.ctor_params = self.params(d.ctor_params, inner, inner, "ctor")
        self.tp.set_decl_type(d, t)
        self.tp.set_decl_type(d.type, t)
        for p in d.type.params:
            self.add(inner, p.name, p)
        for p in d.ctor_params:
            if isinstance(self.tp.decl_type(p), T.Control) and isinstance(self.tp.decl_of(p.type), A.ControlDeclaration):
                self.err(p, f"{p.name}: parameter cannot have type control {self.tp.decl_type(p)}", TYPE)
        body = inner.child("parser_body", d)
        for loc in d.locals:
            self.diags.current = loc.loc
            try:
                self.declaration(loc, body)
            except _Abort:
                pass
        states = body.child("states", d)
        states.add("accept", self._accept)
        states.add("reject", self._reject)
        for s in d.states:
            if s.name in ("accept", "reject"):
                self.err(s, f"Invalid parser state: {s.name} should not be implemented, it is built-in", VALIDATE, "invalid")
            states.add(s.name, s)
            self.tp.set_decl_type(s, _STATE)
        if not any(s.name == "start" for s in d.states):
            self.err(d, f"{d.name}: parser does not have a `start' state", VALIDATE, None)
        for s in d.states:
            self.diags.current = s.loc
            ss = states.child("state", s)
            for c in s.components:
                try:
                    self.declaration(c, ss)
                except _Abort:
                    pass
            if s.transition is None:
                if s.name not in ("accept", "reject"):
                    self.warn(s, f"{s.name}: implicit transition to `reject'", "parser-transition")
            else:
                try:
                    self.transition(s.transition, ss)
                except _Abort:
                    pass
        self.add(scope, d.name, d)

    def transition(self, e: A.Expression, scope: Scope) -> None:
        if isinstance(e, A.PathExpression):
            self.state_ref(e.path, scope, e)
            return
        if isinstance(e, A.SelectExpression):
            self.select(e, scope)
            return
        self.fail(e, f"{self.show(e)}: unexpected transition expression", TYPE)

    def state_ref(self, path: A.Path, scope: Scope, node: Any) -> None:
        found = self.lookup(scope, path)
        d = found[0]
        if not isinstance(d, (A.ParserState, BuiltinDecl)):
            self.fail(path, f"{path.name}: is not a parser state", TYPE)
        self.tp.set_decl(path, d)
        if node is not None:
            self.tp.set_decl(node, d)
            self.tp.set_type(node, _STATE)

    def select(self, e: A.SelectExpression, scope: Scope) -> None:
        kts = []
        for i, x in enumerate(e.select):
            if isinstance(x, A.Dots) and i != len(e.select) - 1:
                self.fail(x, "... must be the last element", VALIDATE, "invalid")
            kts.append(self.expr(x, scope))
        self.tp.set_type(e, _STATE)
        for c in e.cases:
            saved, self.loc_override = self.loc_override, e.loc
            try:
                self.keyset(c.keyset, kts, e.select, scope)
            except _Abort:
                pass
            finally:
                self.loc_override = saved
            self.state_ref(c.state, scope, None)

    def keyset(self, ks: A.Expression, kts: list[T.P4Type], kexprs: list[Any], scope: Scope,
               is_entry: bool = False) -> None:
        if isinstance(ks, A.DefaultExpression):
            self.tp.set_type(ks, T.DontCare())
            return
        if len(kts) == 1 and not (isinstance(ks, A.ListExpression) and len(ks.items) != 1 and
                                  not isinstance(T.strip_newtype(kts[0]), (T.Tuple, T.StructLike))):
            if isinstance(ks, A.ListExpression) and len(ks.items) == 1:
                self.tp.set_type(ks, T.ListT((kts[0],)))
                self.simple_keyset(ks.items[0], kts[0], scope)
            else:
                self.simple_keyset(ks, kts[0], scope)
            return
        if isinstance(ks, A.ListExpression):
            if len(ks.items) != len(kts):
                self.fail(ks, f"{self.show(ks)}: Expression list size ({len(ks.items)}) does not match "
                              f"select/key size ({len(kts)})" if not is_entry else
                          f"{self.show(ks)}: Size of entry keyset must match the table key set size", TYPE)
            self.tp.set_type(ks, T.ListT(tuple(kts)))
            for item, kt in zip(ks.items, kts):
                self.simple_keyset(item, kt, scope)
            return
        # a value set or a single expression matching several keys
        t = self.expr(ks, scope)
        if isinstance(t, T.ValueSet):
            return
        if not t.is_unknown and len(kts) != 1:
            self.fail(ks, f"{self.show(ks)}: Expression list size does not match select size ({len(kts)})", TYPE)

    def simple_keyset(self, e: A.Expression, kt: T.P4Type, scope: Scope) -> None:
        if isinstance(e, A.MethodCallExpression):
            self.loc_override = None
            self.fail(e, f"{self.show(e)}: no function calls allowed in this context", TYPE)
        if isinstance(e, A.DefaultExpression):
            self.tp.set_type(e, T.DontCare())
            return
        if isinstance(e, (A.Mask, A.Range)):
            saved, self.loc_override = self.loc_override, e.loc
            try:
                self._mask_range(e, kt, scope)
            finally:
                self.loc_override = saved
            return
        t = self.expr(e, scope, kt)
        if isinstance(t, T.ValueSet):
            if not self.compatible(kt, t.element) and not isinstance(T.strip_newtype(t.element), T.Struct):
                self.fail(e, f"{self.show(e)}: Cannot unify {t.element} to {kt}", TYPE)
            return
        self.coerce(e, kt, scope)

    def _mask_range(self, e: Any, kt: T.P4Type, scope: Scope) -> None:
        if isinstance(e, A.Mask):
            self.expr(e.value, scope, kt)
            self.coerce(e.value, kt, scope)
            self.expr(e.mask, scope, kt)
            self.coerce(e.mask, kt, scope)
            self.tp.set_type(e, kt)
            self._keyset_const(e.value)
            self._keyset_const(e.mask)
            return
        if isinstance(e, A.Range):
            self.expr(e.lo, scope, kt)
            self.coerce(e.lo, kt, scope)
            self.expr(e.hi, scope, kt)
            self.coerce(e.hi, kt, scope)
            self.tp.set_type(e, kt)
            for b in (e.lo, e.hi):
                if self.tp.const_value(b) is None and not self._is_const_like(b):
                    self.err(b, f"{self.show(b)}: Range boundaries must be a compile-time constants.", LATE, "target-error")
            return
        t = self.expr(e, scope, kt)
        if isinstance(t, T.ValueSet):
            if not self.compatible(kt, t.element) and not isinstance(T.strip_newtype(t.element), T.Struct):
                self.fail(e, f"{self.show(e)}: Cannot unify {t.element} to {kt}", TYPE)
            return
        self.coerce(e, kt, scope)

    def _keyset_const(self, e: Any) -> None:
        if self._in_entries:
            return
        if self.tp.const_value(e) is None and not self._is_const_like(e):
            saved, self.loc_override = self.loc_override, None
            self.err(e, f"{self.show(e)}: expression must evaluate to a constant", TYPE, "invalid")
            self.loc_override = saved

    def decl_ControlDeclaration(self, d: A.ControlDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        inner = scope.child("control", d)
        t = self._callable_type(d.type, T.Control, scope, inner)
        t.ctor_params = self.params(d.ctor_params, inner, inner, "ctor")
        self.tp.set_decl_type(d, t)
        self.tp.set_decl_type(d.type, t)
        for p in d.type.params:
            self.add(inner, p.name, p)
        for p in d.ctor_params:
            pt = self.tp.decl_type(p)
            if isinstance(pt, T.Parser):
                self.err(p, f"{p.name}: instantiation of parser in control", VALIDATE, "invalid")
            elif isinstance(pt, T.Control) and isinstance(self.tp.decl_of(p.type), A.ControlDeclaration):
                self.err(p, f"{p.name}: parameter cannot have type control {pt}", TYPE)
        body = inner.child("control_body", d)
        for loc in d.locals:
            self.diags.current = loc.loc
            try:
                self.declaration(loc, body)
            except _Abort:
                pass
        self.block_contents(d.body, body.child("apply", d.body))
        self.add(scope, d.name, d)

    # -------------------------------------------------- tables
    def decl_TableDeclaration(self, d: A.TableDeclaration, scope: Scope) -> None:
        self._check_dup(d, scope)
        t = T.Table(d.name, d)
        self.tp.set_decl_type(d, t)
        if scope.enclosing("control", "control_body") is None:
            self.err(d, f"{d.name}: tables can only be declared in controls", TYPE)
        key_types: list[T.P4Type] = []
        actions: dict[str, Any] = {}
        inner = scope.child("table", d)
        for p in d.properties:
            self.diags.current = p.loc
            try:
                if isinstance(p, A.KeyProperty):
                    for k in p.elements:
                        try:
                            kt = self.expr(k.expr, inner)
                            self.check_key_type(k, kt)
                            key_types.append(kt)
                        except _Abort:
                            key_types.append(_UNK)
                        mk = self.lookup(inner, k.match_kind)
                        if not isinstance(mk[0], A.DeclarationId) or mk[0].name not in self.match_kinds:
                            self.err(k.match_kind, f"{k.match_kind.name}: must refer to a match_kind", TYPE)
                        self.tp.set_decl(k.match_kind, mk[0])
                elif isinstance(p, A.ActionsProperty):
                    for ar in p.actions:
                        try:
                            ad = self.action_ref(ar.expr, inner, in_list=True)
                            if ad is not None:
                                if ad.name in actions:
                                    self.err(ar, f"{ad.name}: Duplicates declaration {ad.name}", VALIDATE, "duplicate")
                                actions[ad.name] = ad
                                self.tp.set_decl(ar, ad)
                        except _Abort:
                            pass
            except _Abort:
                pass
        self._table_actions = actions
        for p in d.properties:
            self.diags.current = p.loc
            try:
                if isinstance(p, A.ValueProperty):
                    self.table_value_prop(d, p, inner, actions)
                elif isinstance(p, A.EntriesProperty):
                    self._in_entries = True
                    try:
                        self.table_entries(d, p, inner, key_types, actions)
                    finally:
                        self._in_entries = False
                    if not key_types:
                        self.fail(d, f"Entries cannot be specified for a table with no key {d.name}", TYPE)
                    for e in p.entries:
                        try:
                            self.keyset(e.keys, key_types, [], inner, is_entry=True)
                            ad = self.action_ref(e.action, inner, in_list=False)
                            ap = d.property("actions")
                            if isinstance(ap, A.ActionsProperty):
                                self.check_action_args_match(None, e.action, {a.name: a for a in ap.actions})
                            if ad is not None and actions and ad.name not in actions:
                                self.err(e.action, f"{self.show(e.action)}: Action {ad.name} is not in table {d.name}'s action list"
                                         if False else f"{ad.name}: not a valid action for table {d.name}", TYPE)
                            if e.priority is not None:
                                self.expr(e.priority, inner)
                        except _Abort:
                            pass
            except _Abort:
                pass
        self.tables.append(d)
        if d.property("actions") is None:
            self.err(d, f"{d.name}: expected 'actions' property", TYPE)
        self.add(scope, d.name, d)

    def table_entries(self, d: A.TableDeclaration, p: A.EntriesProperty, scope: Scope,
                      key_types: list, actions: dict) -> None:
        """Checks of const entries the BMv2 back end makes (reported in the LATE phase)."""
        kp = d.property("key")
        kinds = [k.match_kind.name for k in kp.elements] if isinstance(kp, A.KeyProperty) else []
        ap = d.property("actions")
        refs = {a.name: a for a in ap.actions} if isinstance(ap, A.ActionsProperty) else {}
        for e in p.entries:
            items = e.keys.items if isinstance(e.keys, A.ListExpression) else [e.keys]
            for ks, kind in zip(items, kinds):
                if isinstance(ks, A.Mask):
                    if kind == "optional":
                        self.err(ks, f"{self.show(ks)} invalid key expression", LATE, "invalid")
                    elif kind == "lpm":
                        m = ks.mask
                        mv = m.value if isinstance(m, A.IntLiteral) else None
                        if isinstance(mv, int) and mv > 0:
                            inv = ~mv & ((1 << mv.bit_length()) - 1)
                            if inv & (inv + 1):
                                self.err(ks, f"{self.show(ks)} invalid mask for LPM key", LATE, "invalid")
            act = e.action.method if isinstance(e.action, A.MethodCallExpression) else e.action
            name = act.path.name if isinstance(act, A.PathExpression) else None
            ref = refs.get(name)
            if ref is not None and any(a.name == "defaultonly" for a in ref.annotations):
                self.err(e, "Entry: Action marked with defaultonly used in table", TYPE)

    def check_action_args_match(self, ref_expr: Any, use: Any, refs: dict) -> None:
        """Directional action arguments bound in the actions list must be repeated identically."""
        if not isinstance(use, A.MethodCallExpression) or not isinstance(use.method, A.PathExpression):
            return
        ref = refs.get(use.method.path.name)
        if ref is None or not isinstance(ref.expr, A.MethodCallExpression):
            return
        for a, b in zip(ref.expr.args, use.args):
            va, vb = self.tp.const_value(a.expr), self.tp.const_value(b.expr)
            same = (va == vb) if (va is not None and vb is not None) else self.show(a.expr) == self.show(b.expr)
            if not same:
                self.err(b.expr, f"{self.show(b.expr)}: argument does not match declaration in actions list: "
                                 f"{self.show(a.expr)}", TYPE)
                return

    def check_key_type(self, k: A.KeyElement, kt: T.P4Type) -> None:
        b = T.strip_newtype(kt)
        if isinstance(b, (T.Bits, T.Bool, T.Enum, T.SerEnum, T.Error, T.Unknown, T.TypeVar, T.Varbit)):
            return
        self.err(k.expr, f"Key {self.show(k.expr)} field type must be a scalar type; type is {kt}", TYPE)

    def table_value_prop(self, d: A.TableDeclaration, p: A.ValueProperty, scope: Scope,
                         actions: dict[str, Any]) -> None:
        if p.value is None:
            return
        if p.name == "default_action":
            ad = self.action_ref(p.value, scope, in_list=False)
            ap = d.property("actions")
            if isinstance(ap, A.ActionsProperty):
                self.check_action_args_match(None, p.value, {a.name: a for a in ap.actions})
            if ad is not None and ad.name not in actions and actions is not None:
                self.err(p.value, f"{self.show(p.value)}: default action not in action list", TYPE)
            return
        t = self.expr(p.value, scope)
        if p.name in ("size", "max_group_size", "priority", "largest_priority_wins"):
            if p.name == "size" and self.tp.const_value(p.value) is None and not t.is_unknown:
                self.err(p.value, f"{self.show(p.value)}: expected a constant", TYPE)
            if p.name == "size":
                v = self.tp.const_value(p.value)
                if isinstance(v, int) and not isinstance(v, bool) and v < 0:
                    self.err(p.value, f"{v}: table size cannot be negative", TYPE)

    def action_ref(self, e: A.Expression, scope: Scope, in_list: bool) -> Any:
        """An action reference in a table (`a`, `a(args)`); returns the action declaration."""
        call = e if isinstance(e, A.MethodCallExpression) else None
        target = call.method if call is not None else e
        if not isinstance(target, A.PathExpression):
            self.fail(e, f"{self.show(e)}: expected an action", TYPE)
        found = self.lookup(scope, target.path)
        ad = found[0]
        self.tp.set_decl(target, ad)
        self.tp.set_decl(target.path, ad)
        if not isinstance(ad, A.ActionDeclaration):
            self.fail(e, f"{self.show(e)}: is not an action", TYPE)
        at = self.tp.decl_type(ad)
        self.tp.set_type(target, at)
        if not isinstance(at, T.Action):
            return ad
        args = call.args if call is not None else []
        if in_list:
            ps = [p for p in at.params if p.direction != ""]
        else:
            ps = list(at.params)
            if call is None and any(p.direction == "" for p in at.params):
                pass
        ft = T.Function(ad.name, [], ps, _VOID, ad, "action")
        if call is not None:
            self.tp.set_type(call, _VOID)
            self.bind_call(ft, args, scope, call, ad.name, action_partial=in_list)
        elif not in_list:
            missing = [p for p in ps if p.default is None and not p.optional]
            if missing:
                self.err(e, f"{self.show(e)}: Parameter {missing[0].name} must be bound", TYPE)
        return ad

    # -------------------------------------------------- statements
    def block_contents(self, b: A.BlockStatement, scope: Scope) -> None:
        for c in b.components:
            self.diags.current = c.loc
            try:
                if isinstance(c, A.Declaration):
                    self.declaration(c, scope)
                else:
                    self.statement(c, scope)
            except _Abort:
                pass

    def statement(self, s: Any, scope: Scope) -> None:
        self.diags.current = s.loc
        try:
            m = getattr(self, "st_" + type(s).__name__, None)
            if m is not None:
                m(s, scope)
        except _Abort:
            pass

    def st_BlockStatement(self, s: A.BlockStatement, scope: Scope) -> None:
        self.block_contents(s, scope.child("block", s))

    def st_EmptyStatement(self, s: Any, scope: Scope) -> None:
        pass

    def st_ExitStatement(self, s: Any, scope: Scope) -> None:
        if scope.enclosing("function") is not None:
            self.err(s, "exit: exit statements not allowed in functions", TYPE)
        if scope.enclosing("parser", "parser_body", "states") is not None:
            self.err(s, "exit: exit statements not allowed in parsers", TYPE)

    def st_BreakStatement(self, s: Any, scope: Scope) -> None:
        if scope.enclosing("loop") is None:
            self.err(s, "break: break statement must be used in a loop", TYPE)

    def st_ContinueStatement(self, s: Any, scope: Scope) -> None:
        if scope.enclosing("loop") is None:
            self.err(s, "continue: continue statement must be used in a loop", TYPE)

    def st_ReturnStatement(self, s: A.ReturnStatement, scope: Scope) -> None:
        fs = scope.enclosing("function", "action", "apply", "states", "parser_body")
        if fs is not None and fs.kind in ("states", "parser_body"):
            self.fail(s, "return: return statements are not allowed in parsers", TYPE)
        if fs is not None and fs.kind == "function":
            ft = self.tp.decl_type(fs.owner)
            ret = ft.ret if isinstance(ft, T.Function) else _UNK
            if s.expr is None:
                if not isinstance(ret, (T.Void, T.Unknown)):
                    self.fail(s, f"{self.show(s)}: return with no expression in a function returning {ret}", TYPE)
                return
            if isinstance(ret, T.Void):
                self.fail(s, f"{self.show(s)}: return with expression in a function returning void", TYPE)
            self.expr(s.expr, scope, ret)
            self.coerce(s.expr, ret, scope)
            return
        if s.expr is not None:
            self.fail(s, f"{self.show(s)}: return with expression can only be used in functions", TYPE)

    def st_MethodCallStatement(self, s: A.MethodCallStatement, scope: Scope) -> None:
        self.expr(s.call, scope, None, statement=True)

    def st_AssignmentStatement(self, s: A.AssignmentStatement, scope: Scope) -> None:
        lt = self.expr(s.left, scope)
        self.lvalue(s.left, scope)
        if s.op != "=":
            op = s.op[:-1]
            b = A.BinaryOp(op, s.left, s.right, loc=s.loc)
            self.tp._keep.append(b)
            self.expr(b, scope, lt)
            return
        if isinstance(lt, T.DontCare):
            self.expr(s.right, scope)
            return
        self.expr(s.right, scope, lt)
        self.coerce(s.right, lt, scope, s)

    def st_IfStatement(self, s: A.IfStatement, scope: Scope) -> None:
        t = self.expr(s.cond, scope, _BOOL)
        if not isinstance(t, (T.Bool, T.Unknown)):
            self.err(s.cond, f"Condition {self.show(s.cond)} does not evaluate to a bool but {t}", TYPE)
        self.statement(s.then, scope.child("block", s))
        if s.other is not None:
            self.statement(s.other, scope.child("block", s))

    def st_SwitchStatement(self, s: A.SwitchStatement, scope: Scope) -> None:
        if scope.enclosing("action") is not None:
            self.err(s, "SwitchStatement: switch statements not supported in actions on this target", LATE, None)
        self._in_switch = True
        try:
            t = self.expr(s.expr, scope)
        finally:
            self._in_switch = False
        seen_default = False
        labels: set = set()
        for i, c in enumerate(s.cases):
            try:
                if isinstance(c.label, A.DefaultExpression):
                    if seen_default:
                        self.err(c.label, "default: multiple 'default' labels", TYPE)
                    seen_default = True
                    self.tp.set_type(c.label, T.DontCare())
                else:
                    if seen_default:
                        self.err(s, f"switch label {self.show(c.label)} follows 'default' label, which is not allowed.",
                                 VALIDATE, "invalid")
                    if isinstance(t, T.ActionEnum):
                        if not isinstance(c.label, A.PathExpression):
                            self.fail(c.label, f"{self.show(c.label)}: must be an action name", TYPE)
                        found = self.lookup(scope, c.label.path)
                        ad = found[0]
                        self.tp.set_decl(c.label, ad)
                        self.tp.set_type(c.label, t)
                        tbl = t.table
                        acts = self._actions_of_table(tbl)
                        if acts is not None and getattr(ad, "name", None) not in acts:
                            self.err(c.label, f"{self.show(c.label)}: not a legal label (action name) for table {tbl.name}", TYPE)
                        key = getattr(ad, "name", None)
                    else:
                        lt = self.expr(c.label, scope, t)
                        if not isinstance(lt, T.InfInt) and not self.compatible(t, lt) or \
                                isinstance(lt, T.InfInt) and not isinstance(T.strip_newtype(t), (T.Bits, T.InfInt, T.Unknown)):
                            self.fail(s, f"'{self.show(s.expr)}' with type '{t}' cannot be compared to "
                                         f"'{self.show(c.label)}' with type '{lt}'", TYPE)
                        self.coerce(c.label, t, scope)
                        v = self.tp.const_value(c.label)
                        if v is None and not self._is_const_like(c.label):
                            self.err(c.label, f"{self.show(c.label)}: must be a compile-time constant", TYPE)
                        key = v if v is not None else self.show(c.label)
                        if isinstance(key, A.Node):
                            key = id(key)
                    if key is not None and key in labels:
                        self.err(c.label, f"{self.show(c.label)}: duplicate switch label", TYPE)
                    labels.add(key)
            except _Abort:
                pass
            if c.body is not None:
                self.statement(c.body, scope.child("block", s))
            elif i == len(s.cases) - 1:
                pass
        if not isinstance(t, (T.ActionEnum, T.Unknown)):
            b = T.strip_newtype(t)
            if not isinstance(b, (T.Bits, T.Enum, T.SerEnum, T.Error, T.InfInt)):
                self.err(s.expr, f"{self.show(s.expr)}: switch expression must be an action_run, bit<>, int<>, "
                                 f"enum or error; type is {t}", TYPE)

    def _actions_of_table(self, tbl: Any) -> Optional[set]:
        if not isinstance(tbl, A.TableDeclaration):
            return None
        p = tbl.property("actions")
        if not isinstance(p, A.ActionsProperty):
            return None
        return {a.name for a in p.actions}

    def st_ForStatement(self, s: A.ForStatement, scope: Scope) -> None:
        inner = scope.child("loop", s)
        for x in s.init:
            if isinstance(x, A.Declaration):
                self.declaration(x, inner)
            else:
                self.statement(x, inner)
        if s.cond is not None:
            ct = self.expr(s.cond, inner, _BOOL)
            if not isinstance(ct, (T.Bool, T.Unknown)):
                self.err(s.cond, f"Condition of ForStatement does not evaluate to a bool but {ct}", TYPE)
        for x in s.update:
            self.statement(x, inner)
        self.statement(s.body, inner.child("block", s))

    def st_ForInStatement(self, s: A.ForInStatement, scope: Scope) -> None:
        inner = scope.child("loop", s)
        if isinstance(s.collection, A.Range):
            self.expr(s.collection.lo, inner)
            self.expr(s.collection.hi, inner)
        else:
            self.expr(s.collection, inner)
        self.declaration(s.decl, inner)
        self.statement(s.body, inner.child("block", s))

    # -------------------------------------------------- lvalues
    def lvalue(self, e: Any, scope: Scope, what: str = "") -> None:
        if not self.is_lvalue(e):
            self.fail(e, f"{self.show(e)}: cannot be the target of an assignment", TYPE)

    def is_lvalue(self, e: Any) -> bool:
        if isinstance(e, A.PathExpression):
            d = self.tp.decl_of(e)
            if isinstance(d, A.VariableDeclaration):
                return True
            if isinstance(d, A.Parameter):
                return d.direction in ("out", "inout")
            return d is None
        if isinstance(e, A.Member):
            bt = self.tp.type_of(e.expr)
            if isinstance(bt, (T.Stack,)) and e.member in ("next", "last"):
                return self.is_lvalue(e.expr)
            if isinstance(bt, (T.StructLike, T.Unknown, T.TypeVar)):
                return self.is_lvalue(e.expr)
            return False
        if isinstance(e, (A.ArrayIndex, A.Slice)):
            return self.is_lvalue(e.expr)
        if isinstance(e, A.DefaultExpression) and e.dontcare:
            return True
        return False

    # -------------------------------------------------- compatibility / coercion
    def compatible(self, dst: T.P4Type, src: T.P4Type) -> bool:
        if dst.is_unknown or src.is_unknown:
            return True
        if isinstance(dst, T.DontCare) or isinstance(src, T.DontCare):
            return True
        if isinstance(dst, T.TypeVar) or isinstance(src, T.TypeVar):
            # a type variable of the enclosing generic declaration is rigid
            return dst is src or (isinstance(dst, T.TypeVar) and isinstance(src, T.TypeVar) and dst.decl is src.decl)
        if isinstance(src, T.ListT) and src.element is not None:
            if isinstance(dst, T.ListT) and dst.element is not None:
                return self.compatible(dst.element, src.element)
            return False
        if dst == src:
            return True
        if isinstance(src, T.InfInt) and isinstance(T.strip_newtype(dst), (T.Bits, T.InfInt)):
            return isinstance(dst, T.Bits) or isinstance(dst, T.InfInt)
        if isinstance(src, T.ListT) or isinstance(src, T.UnknownStruct):
            return True
        if isinstance(src, T.SerEnum) and not isinstance(dst, T.SerEnum):
            return self.compatible(dst, src.base)
        if isinstance(dst, T.Stack) and isinstance(src, T.Stack):
            return dst.size == src.size and self.compatible(dst.element, src.element)
        if isinstance(dst, T.Tuple) and isinstance(src, T.Tuple):
            return len(dst.elements) == len(src.elements) and all(
                self.compatible(a, b) for a, b in zip(dst.elements, src.elements))
        if isinstance(dst, T.StructLike) and isinstance(src, T.StructLike):
            if dst.decl is src.decl:
                return all(self.compatible(a, b) for (_, a), (_, b) in zip(dst.fields, src.fields))
            return False
        if isinstance(dst, T.Extern) and isinstance(src, T.Extern):
            return dst.decl is src.decl
        if isinstance(dst, T.Callable_) and isinstance(src, T.Callable_):
            return self.callable_compatible(dst, src)
        if isinstance(dst, T.Enum) and isinstance(src, T.Enum):
            return dst.decl is src.decl
        return False

    def callable_compatible(self, dst: T.Callable_, src: T.Callable_) -> bool:
        if type(dst) is not type(src):
            return False
        if dst.decl is src.decl and dst.type_args and src.type_args:
            return all(self.compatible(a, b) and self.compatible(b, a) for a, b in zip(dst.type_args, src.type_args))
        if isinstance(dst, T.Package):
            if dst.decl is not src.decl:
                return False
            return all(self.compatible(a.type, b.type) for a, b in zip(dst.ctor_params, src.ctor_params))
        if len(dst.params) != len(src.params):
            return False
        for a, b in zip(dst.params, src.params):
            if a.direction != b.direction:
                return False
            if not self.compatible(a.type, b.type):
                return False
        return True

    def coerce(self, e: A.Expression, dst: T.P4Type, scope: Scope, stmt: Any = None) -> None:
        """Check `e` can be assigned to `dst`; record implicit int-literal casts."""
        src = self.tp.type_of(e)
        if isinstance(e, A.InvalidExpression) and not dst.is_unknown:
            if not isinstance(dst, (T.Header, T.HeaderUnion, T.TypeVar)):
                self.fail(e, f"{{#}}: cannot convert to {dst}", TYPE)
            self.tp.set_type(e, dst)
            return
        if dst.is_unknown or src.is_unknown:
            return
        if isinstance(src, T.InfInt) and isinstance(T.strip_newtype(dst), T.Bits) and not isinstance(dst, T.NewType):
            self.tp.set_cast(e, dst)
            self.tp.set_type(e, dst)
            v = self.tp.const_value(e)
            if isinstance(v, int) and not isinstance(v, bool):
                b = T.strip_newtype(dst)
                if isinstance(b, T.Bits) and not b.fits(v):
                    if not b.signed and v < 0 or (b.signed and not b.fits(v)) or v >= (1 << b.width):
                        self.warn(e, f"{self.show(e)}: value does not fit in {b.width} bits", "mismatch")
                self.tp.set_const(e, b.wrap(v))
            return
        if isinstance(e, (A.ListExpression, A.StructExpression)):
            self.init_from_context(e, dst, scope)
            return
        if isinstance(e, A.InvalidExpression):
            if not isinstance(dst, (T.Header, T.HeaderUnion, T.TypeVar)):
                self.fail(e, f"{{#}}: cannot convert to {dst}", TYPE)
            self.tp.set_type(e, dst)
            return
        if not self.compatible(dst, src):
            where = stmt if stmt is not None else e
            self.fail(where, f"{self.show(stmt if isinstance(stmt, A.Statement) else e)}: Cannot cast "
                             f"implicitly type '{src}' to type '{dst}'" if self._castable(dst, src) else
                      f"{self.show(stmt if isinstance(stmt, A.Statement) else e)}: Cannot unify type '{src}' "
                      f"with type '{dst}'", TYPE)

    def _castable(self, dst: T.P4Type, src: T.P4Type) -> bool:
        return isinstance(T.strip_newtype(dst), T.Bits) and isinstance(T.strip_newtype(src), (T.Bits, T.Bool))

    def init_from_context(self, e: Any, dst: T.P4Type, scope: Scope) -> None:
        """Type a `{...}` initializer from the type it is assigned to."""
        b = T.strip_newtype(dst)
        if isinstance(b, (T.TypeVar, T.DontCare)):
            return
        if isinstance(e, A.ListExpression):
            items = e.items
            if isinstance(b, T.StructLike):
                has_dots = bool(items) and isinstance(items[-1], A.Dots)
                real = [x for x in items if not isinstance(x, A.Dots)]
                if len(real) != len(b.fields) and not has_dots:
                    self.fail(e, f"{self.show(e)}: number of initializers ({len(real)}) does not match "
                                 f"number of fields in {dst} ({len(b.fields)})", TYPE)
                for x, (fn, ft) in zip(real, b.fields):
                    self.coerce(x, ft, scope)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.Tuple):
                if len(items) != len(b.elements):
                    self.fail(e, f"{self.show(e)}: tuple has {len(b.elements)} elements but {len(items)} initializers", TYPE)
                for x, ft in zip(items, b.elements):
                    self.coerce(x, ft, scope)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.Stack):
                if len(items) != b.size and not (items and isinstance(items[-1], A.Dots)):
                    self.fail(e, f"{self.show(e)}: Number of components {len(items)} in initializer is different "
                                 f"from the stack size {b.size}", TYPE)
                for x in items:
                    if not isinstance(x, A.Dots):
                        self.coerce(x, b.element, scope)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.ListT):
                if b.element is not None:
                    for x in items:
                        self.coerce(x, b.element, scope)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.Unknown):
                return
            self.fail(e, f"{self.show(e)}: Cannot unify type '{self.tp.type_of(e)}' with type '{dst}'", TYPE)
        if isinstance(e, A.StructExpression):
            if isinstance(b, T.StructLike):
                names = {f.name for f in e.fields}
                has_dots = False
                for f in e.fields:
                    ft = b.field_type(f.name)
                    if ft is None:
                        self.fail(f, f"{f.name}: no such field in {dst}", TYPE)
                    self.coerce(f.expr, ft, scope)
                if not isinstance(b, T.HeaderUnion):
                    missing = [n for n in b.field_names if n not in names]
                    if missing and not has_dots:
                        self.fail(e, f"{self.show(e)}: initializer for {dst} has no field {missing[0]}"
                                  if False else f"{self.show(e)}: Cannot unify type '{self.tp.type_of(e)}' with type '{dst}'", TYPE)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.Unknown):
                return
            self.fail(e, f"{self.show(e)}: Cannot unify type '{self.tp.type_of(e)}' with type '{dst}'", TYPE)

    # -------------------------------------------------- expressions
    def expr(self, e: Any, scope: Scope, expected: Optional[T.P4Type] = None, statement: bool = False) -> T.P4Type:
        m = getattr(self, "ex_" + type(e).__name__, None)
        if m is None:
            t: T.P4Type = _UNK
        else:
            if isinstance(e, A.MethodCallExpression):
                t = m(e, scope, expected, statement)
            else:
                t = m(e, scope, expected)
        self.tp.set_type(e, t)
        return t

    def ex_IntLiteral(self, e: A.IntLiteral, scope: Scope, expected: Any) -> T.P4Type:
        if e.width is None:
            self.tp.set_const(e, e.value)
            return _INT
        t = T.Bits(e.width, e.signed)
        if e.width == 0 and e.signed:
            self.fail(e, "Width of signed type cannot be zero", TYPE)
        if not t.fits(e.value):
            self.warn(e, f"{e.text or e.value}: value does not fit in {e.width} bits", "mismatch")
        self.tp.set_const(e, t.wrap(e.value))
        return t

    def ex_BoolLiteral(self, e: A.BoolLiteral, scope: Scope, expected: Any) -> T.P4Type:
        self.tp.set_const(e, e.value)
        return _BOOL

    def ex_StringLiteral(self, e: A.StringLiteral, scope: Scope, expected: Any) -> T.P4Type:
        self.tp.set_const(e, e.value)
        return _STR

    def ex_DefaultExpression(self, e: A.DefaultExpression, scope: Scope, expected: Any) -> T.P4Type:
        return T.DontCare()

    def ex_Dots(self, e: Any, scope: Scope, expected: Any) -> T.P4Type:
        return T.DontCare()

    def ex_InvalidExpression(self, e: Any, scope: Scope, expected: Any) -> T.P4Type:
        if expected is not None and isinstance(expected, (T.Header, T.HeaderUnion)):
            return expected
        return _UNK

    def ex_This(self, e: Any, scope: Scope, expected: Any) -> T.P4Type:
        inst = scope.enclosing("instance")
        if inst is None:
            self.fail(e, "this: can only be used in the initializer of an instance", TYPE)
        self.tp.set_decl(e, inst.owner)
        return _UNK

    def decl_value_type(self, d: Any, node: Any) -> T.P4Type:
        if isinstance(d, BuiltinDecl):
            return self.tp.decl_type(d)
        if isinstance(d, (A.Parameter, A.VariableDeclaration, A.ConstantDeclaration, A.Instantiation,
                          A.ValueSetDeclaration, A.ParserState, A.DeclarationId, A.TableDeclaration)):
            if isinstance(d, A.ConstantDeclaration):
                v = self.tp.const_value(d)
                if v is not None:
                    self.tp.set_const(node, v)
            if isinstance(d, A.TableDeclaration):
                return self.tp.decl_type(d)
            return self.tp.decl_type(d)
        if isinstance(d, (A.ActionDeclaration, A.FunctionDeclaration, A.ExternFunctionDeclaration)):
            return self.tp.decl_type(d)
        if isinstance(d, (A.ParserDeclaration, A.ControlDeclaration)):
            return T.TypeOfType(self.tp.decl_type(d))
        if isinstance(d, (A.StructLikeDeclaration, A.EnumDeclaration, A.SerEnumDeclaration,
                          A.TypedefDeclaration, A.ExternDeclaration, A.TypeParameter,
                          A.ParserTypeDeclaration, A.ControlTypeDeclaration, A.PackageTypeDeclaration,
                          A.ExternForwardDeclaration)):
            return T.TypeOfType(self.type_of_type_decl(d, node))
        return _UNK

    def ex_PathExpression(self, e: A.PathExpression, scope: Scope, expected: Any) -> T.P4Type:
        found = self.lookup(scope, e.path)
        d = found[0]
        if len(found) > 1:
            self.tp.set_decl(e, d)
            self.tp.set_decl(e.path, d)
            self._overloads = found
            return T.Unknown() if not all(isinstance(x, (A.FunctionDeclaration, A.ExternFunctionDeclaration))
                                          for x in found) else self.tp.decl_type(d)
        self.tp.set_decl(e, d)
        self.tp.set_decl(e.path, d)
        if isinstance(d, A.ParserState):
            self.fail(e, f"{e.path.name}: a parser state cannot be used as a value", TYPE)
        t = self.decl_value_type(d, e)
        return t

    def ex_TypeNameExpression(self, e: A.TypeNameExpression, scope: Scope, expected: Any) -> T.P4Type:
        t = self.rtype(e.type, scope)
        d = self.tp.decl_of(e.type)
        if d is not None:
            self.tp.set_decl(e, d)
        return T.TypeOfType(t)

    def ex_Member(self, e: A.Member, scope: Scope, expected: Any) -> T.P4Type:
        if isinstance(e.expr, A.TypeNameExpression) and isinstance(e.expr.type, A.ErrorType):
            m = self.error_members.get(e.member)
            self.tp.set_type(e.expr, T.TypeOfType(_ERR))
            if m is None:
                self.fail(e, f"{e.member}: declaration not found" if False else
                          f"error.{e.member}: declaration not found", RESOLVE, None)
            self.tp.set_decl(e, m)
            self.tp.set_const(e, m)
            return _ERR
        bt = self.expr(e.expr, scope)
        return self.member_of(e, bt, scope)

    def member_of(self, e: A.Member, bt: T.P4Type, scope: Scope) -> T.P4Type:
        name = e.member
        if bt.is_unknown:
            return _UNK
        if isinstance(bt, T.TypeOfType):
            inner = bt.type
            if isinstance(inner, T.Enum):
                if name not in inner.members:
                    self.fail(e, f"{name}: Invalid enum tag" if False else
                              f"{self.show(e)}: declaration not found", RESOLVE, None)
                md = next(m for m in inner.decl.members if m.name == name)
                self.tp.set_decl(e, md)
                self.tp.set_const(e, md)
                return inner
            if isinstance(inner, T.SerEnum):
                if name not in inner.members and inner.decl is not None and \
                        not any(m.name == name for m in inner.decl.members):
                    self.fail(e, f"{self.show(e)}: declaration not found", RESOLVE, None)
                md = next((m for m in inner.decl.members if m.name == name), None)
                self.tp.set_decl(e, md)
                if md is not None:
                    self.tp.set_const(e, md)
                return inner
            if isinstance(inner, T.Error):
                m = self.error_members.get(name)
                if m is None:
                    self.fail(e, f"{self.show(e)}: declaration not found", RESOLVE, None)
                self.tp.set_decl(e, m)
                self.tp.set_const(e, m)
                return _ERR
            if isinstance(inner, (T.Parser, T.Control)) and name == "apply":
                return self.builtin(e, "apply", bt, T.Function("apply", [], inner.params, _VOID, None, "apply"))
            if isinstance(inner, (T.StructLike, T.Bits, T.Varbit, T.Stack)) and name in (
                    "minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
                return self.builtin(e, name, bt, T.Function(name, [], [], _INT, None, "builtin"))
            if isinstance(inner, (T.Unknown, T.TypeVar)):
                return _UNK
            self.fail(e, f"{self.show(e)}: invalid member access", TYPE)
        b = T.strip_newtype(bt) if not isinstance(bt, T.NewType) else bt
        if isinstance(b, T.StructLike):
            ft = b.field_type(name)
            if ft is not None:
                fd = None
                if b.decl is not None:
                    fd = next((f for f in b.decl.fields if f.name == name), None)
                self.tp.set_decl(e, fd)
                return ft
            if isinstance(b, T.Header):
                if name == "isValid":
                    return self.builtin(e, name, b, T.Function(name, [], [], _BOOL, None, "builtin"))
                if name in ("setValid", "setInvalid"):
                    return self.builtin(e, name, b, T.Function(name, [], [], _VOID, None, "builtin"))
            if isinstance(b, T.HeaderUnion) and name == "isValid":
                return self.builtin(e, name, b, T.Function(name, [], [], _BOOL, None, "builtin"))
            if name in ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
                return self.builtin(e, name, b, T.Function(name, [], [], _INT, None, "builtin"))
            self.fail(e, f"Field {name} is not a member of structure {b}" if False else
                      f"{self.show(e)}: Field {name} is not a member of {self._kind(b)} {b.name}", TYPE)
        if isinstance(b, T.Stack):
            el = b.element
            if name in ("next", "last"):
                if scope.enclosing("states", "parser_body") is None:
                    self.err(e, f"{self.show(e)}: 'last' and 'next' for stacks can only be used in a parser", TYPE)
                return self.builtin(e, name, b, el, kind="field")
            if name in ("size", "lastIndex"):
                if name == "lastIndex" and scope.enclosing("states", "parser_body") is None:
                    self.err(e, f"{self.show(e)}: 'lastIndex' for stacks can only be used in a parser", TYPE)
                if name == "size":
                    self.tp.set_const(e, b.size)
                t = T.Bits(32) if name == "lastIndex" else T.Bits(32)
                return self.builtin(e, name, b, t, kind="field")
            if name in ("push_front", "pop_front"):
                return self.builtin(e, name, b, T.Function(name, [], [T.Param("count", "in", _INT)], _VOID, None, "builtin"))
            if name in ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
                return self.builtin(e, name, b, T.Function(name, [], [], _INT, None, "builtin"))
            self.fail(e, f"{self.show(e)}: Field {name} is not a member of {b}", TYPE)
        if isinstance(b, T.Bits) and name in ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
            return self.builtin(e, name, b, T.Function(name, [], [], _INT, None, "builtin"))
        if isinstance(b, T.Extern):
            return self.extern_member(e, b)
        if isinstance(b, T.Table):
            if name == "apply":
                return self.builtin(e, name, b, T.Function(name, [], [], T.TableResult(b.decl), b.decl, "apply"))
            self.fail(e, f"{self.show(e)}: invalid member access to table", TYPE)
        if isinstance(b, T.TableResult):
            if name in ("hit", "miss"):
                return self.builtin(e, name, b, _BOOL, kind="field")
            if name == "action_run":
                if not getattr(self, "_in_switch", False):
                    self.err(e, f"{self.show(e)}: only allowed in switch statements", TYPE)
                return self.builtin(e, name, b, T.ActionEnum(b.table), kind="field")
            self.fail(e, f"{self.show(e)}: invalid member of table apply result", TYPE)
        if isinstance(b, (T.Parser, T.Control)):
            if name == "apply":
                return self.builtin(e, "apply", b, T.Function("apply", [], b.params, _VOID, b.decl, "apply"))
            self.fail(e, f"{self.show(e)}: invalid member", TYPE)
        if isinstance(b, (T.TypeVar, T.DontCare)):
            return _UNK
        self.fail(e, f"{self.show(e)}: Cannot access field '{name}' of type '{bt}'" if not isinstance(b, T.Bits) else
                  f"{self.show(e)}: Cannot access field '{name}' of type '{bt}'", TYPE)

    def _kind(self, b: T.StructLike) -> str:
        return {T.Header: "header", T.HeaderUnion: "header_union"}.get(type(b), "struct")

    def builtin(self, e: Any, name: str, owner: T.P4Type, t: T.P4Type, kind: str = "method") -> T.P4Type:
        bd = BuiltinDecl(name, kind, owner, t)
        self.tp.set_decl(e, bd)
        return t

    def extern_member(self, e: A.Member, ext: T.Extern) -> T.P4Type:
        decl = ext.decl
        if not isinstance(decl, A.ExternDeclaration):
            return _UNK
        ms = [m for m in decl.methods if m.name == e.member and m.return_type is not None]
        if not ms:
            self.fail(e, f"{self.show(e)}: extern {decl.name} does not have method matching this call"
                      if False else f"{e.member}: declaration not found" if False else
                      f"{self.show(e)}: Method {e.member} not found in extern {decl.name}"
                      , TYPE)
        sub = {id(tv): a for tv, a in zip(ext.type_params, ext.type_args)}
        cands = []
        for m in ms:
            ft = self.tp.decl_type(m)
            if isinstance(ft, T.Function):
                cands.append((m, self.subst(ft, sub)))
        self.tp.set_decl(e, ms[0])
        self._method_cands = cands
        if len(cands) == 1:
            return cands[0][1]
        return T.Function(e.member, [], [], _UNK, None, "overloaded")

    def ex_ArrayIndex(self, e: A.ArrayIndex, scope: Scope, expected: Any) -> T.P4Type:
        bt = self.expr(e.expr, scope)
        it = self.expr(e.index, scope)
        b = T.strip_newtype(bt)
        if isinstance(b, T.Stack):
            v = self.tp.const_value(e.index)
            if isinstance(v, int) and not isinstance(v, bool):
                if v < 0 or v >= b.size:
                    self.err(e.index, f"{self.show(e)}: Array index {v} out of bounds (size {b.size})"
                             if False else f"{self.show(e.index)}: index out of bounds", TYPE)
            elif not isinstance(T.strip_newtype(it), (T.Bits, T.InfInt, T.Unknown, T.SerEnum, T.TypeVar)):
                self.fail(e.index, f"Array index {self.show(e.index)} must be an integer, but it has type {it}", TYPE)
            return b.element
        if isinstance(b, T.Tuple):
            v = self.tp.const_value(e.index)
            if not isinstance(v, int) or isinstance(v, bool):
                self.fail(e.index, f"{self.show(e.index)}: Tuple index must be constant", TYPE)
            if v < 0 or v >= len(b.elements):
                self.fail(e.index, f"{self.show(e)}: Index {v} out of bounds", TYPE)
            return b.elements[v]
        if isinstance(b, (T.Unknown, T.TypeVar)):
            return _UNK
        self.fail(e, f"{self.show(e)}: Indexing a value of type {bt}", TYPE)

    def ex_Slice(self, e: A.Slice, scope: Scope, expected: Any) -> T.P4Type:
        bt = self.expr(e.expr, scope)
        self.expr(e.hi, scope)
        self.expr(e.lo, scope)
        hi = self.tp.const_value(e.hi)
        lo = self.tp.const_value(e.lo)
        b = T.strip_newtype(bt)
        if isinstance(b, T.InfInt):
            pass
        elif not isinstance(b, (T.Bits, T.Unknown, T.TypeVar)):
            self.fail(e, f"{self.show(e)}: bit extraction only defined for bit<> types", TYPE)
        if not isinstance(hi, int) or isinstance(hi, bool) or not isinstance(lo, int) or isinstance(lo, bool):
            self.fail(e, f"{self.show(e)}: bit index values must be constants", TYPE)
        if hi < lo:
            self.fail(e, f"{self.show(e)}: bit slicing should be specified as [msb:lsb]", TYPE)
        if lo < 0:
            self.fail(e, f"{self.show(e)}: negative bit index {lo}", TYPE)
        if isinstance(b, T.Bits) and hi >= b.width:
            self.fail(e, f"{self.show(e)}: bit index {hi} greater than width {b.width}", TYPE)
        rt = T.Bits(hi - lo + 1)
        v = self.tp.const_value(e.expr)
        if isinstance(v, int) and not isinstance(v, bool):
            self.tp.set_const(e, CF.slice_value(v, hi, lo))
        return rt

    # operators
    def ex_UnaryOp(self, e: A.UnaryOp, scope: Scope, expected: Any) -> T.P4Type:
        if isinstance(e.expr, (A.InvalidExpression, A.ListExpression, A.StructExpression)):
            self.fail(e, f"Cannot apply {e.op} to value {self.show(e.expr)} of type Unknown type", TYPE)
        t = self.expr(e.expr, scope, expected if e.op != "!" else _BOOL)
        b = T.strip_newtype(t)
        if t.is_unknown:
            return t
        if e.op == "!":
            if not isinstance(b, T.Bool):
                self.fail(e, f"{self.show(e)}: Cannot apply operation '!' to a value of type {t}" if False else
                          f"{self.show(e)}: Cannot apply '!' to value of type {t}", TYPE)
        elif e.op == "~":
            if isinstance(b, T.InfInt):
                self.fail(e, f"{self.show(e)}: Operation ~ cannot be applied to an 'int' value; please specify a width", TYPE)
            if not isinstance(b, (T.Bits, T.TypeVar)):
                self.fail(e, f"{self.show(e)}: Cannot apply '~' to value of type {t}", TYPE)
        else:
            if not isinstance(b, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e)}: Cannot apply '{e.op}' to value of type {t}", TYPE)
        v = self.tp.const_value(e.expr)
        if v is not None and not isinstance(v, A.Node):
            try:
                self.tp.set_const(e, CF.fold_unary(e.op, v, t))
            except CF.FoldError as ex:
                self.fail(e, f"{self.show(e)}: {ex}", TYPE)
        return t

    def ex_BinaryOp(self, e: A.BinaryOp, scope: Scope, expected: Any) -> T.P4Type:
        op = e.op
        if op in ("&&", "||"):
            lt = self.expr(e.left, scope, _BOOL)
            rt = self.expr(e.right, scope, _BOOL)
            for side, t in ((e.left, lt), (e.right, rt)):
                if not isinstance(t, (T.Bool, T.Unknown)):
                    self.fail(e, f"{self.show(e)}: Cannot apply operation '{op}' to a value of type {t}" if False else
                              f"{self.show(e)}: not a boolean expression: {self.show(side)} has type {t}", TYPE)
            self._fold_bin(e, _BOOL)
            return _BOOL
        lt = self.expr(e.left, scope)
        rt = self.expr(e.right, scope)
        raw_r = self.tp.const_value(e.right)
        if op in ("/", "%") and isinstance(raw_r, int) and not isinstance(raw_r, bool) and raw_r < 0:
            self.fail(e, f"{self.show(e)}: not defined on negative numbers", TYPE)
        if lt.is_unknown or rt.is_unknown:
            return _BOOL if op in ("==", "!=", "<", ">", "<=", ">=") else _UNK
        lb, rb = T.strip_newtype(lt), T.strip_newtype(rt)
        if op in ("<<", ">>"):
            if isinstance(lb, T.InfInt) and not isinstance(rb, T.InfInt) and self.tp.const_value(e.left) is not None:
                if self.tp.const_value(e.right) is None:
                    self.fail(e, f"{self.show(e)}: shift of a constant with an unknown width by a non-constant amount" if False else
                              f"{self.show(e.left)}: shift left operand must have a known width; please specify a width" if False else
                              f"{self.show(e)}: width of left operand of shift needs to be specified", TYPE)
            if not isinstance(lb, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e)}: left operand of shift must be a numeric type, not {lt}", TYPE)
            if not isinstance(rb, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e)}: shift amount must be a numeric type, not {rt}", TYPE)
            if isinstance(rb, T.Bits) and rb.signed:
                self.fail(e, f"{self.show(e)}: shift amount must be an unsigned number", TYPE)
            rv = self.tp.const_value(e.right)
            if isinstance(rv, int) and not isinstance(rv, bool) and rv < 0:
                self.fail(e, f"{self.show(e.right)}: shift amount must be non-negative" if False else
                          f"{self.show(e)}: Shift amount must be non-negative", TYPE)
            if isinstance(rb, T.InfInt):
                self.tp.set_type(e.right, rt)
            if isinstance(lb, T.Bits) and isinstance(rv, int) and not isinstance(rv, bool) and rv > lb.width:
                self.warn(e, f"{self.show(e)}: shifting value with {lb.width} bits by {rv}", "overflow")
            self._fold_bin(e, lt)
            return lt
        if op == "++":
            for side, t in ((e.left, lb), (e.right, rb)):
                if isinstance(t, T.InfInt):
                    self.fail(e, f"{self.show(side)}: Please specify a width for the operand {self.show(side)} "
                                 f"of a concatenation", TYPE)
                if not isinstance(t, (T.Bits, T.TypeVar)):
                    self.fail(e, f"{self.show(e)}: Concatenation not defined on {t}", TYPE)
            if isinstance(lb, T.Bits) and isinstance(rb, T.Bits):
                rt2 = T.Bits(lb.width + rb.width, lb.signed)
                a, b = self.tp.const_value(e.left), self.tp.const_value(e.right)
                if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
                    self.tp.set_const(e, rt2.wrap(CF.concat(a, lb.width, b, rb.width)))
                return rt2
            return _UNK
        # arithmetic / comparison: unify operand types
        if isinstance(lb, T.InfInt) and not isinstance(rb, T.InfInt):
            self.coerce_operand(e.left, rt, e)
            lt, lb = rt, rb
        elif isinstance(rb, T.InfInt) and not isinstance(lb, T.InfInt):
            self.coerce_operand(e.right, lt, e)
            rt, rb = lt, lb
        is_cmp = op in ("==", "!=", "<", ">", "<=", ">=")
        if op in ("==", "!="):
            if not self.eq_compatible(lt, rt, e):
                self.fail(e, f"{self.show(e)}: Cannot compare values of types {lt} and {rt}" if False else
                          self._mismatch_msg(e, lt, rt), TYPE)
            self._fold_bin(e, _BOOL)
            return _BOOL
        # numeric ops
        for t in (lb, rb):
            if not isinstance(t, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e)}: Cannot apply operation '{op}' to a value of type {t}" if False else
                          f"{self.show(e)}: not defined on {t}" if False else
                          f"{self.show(e)}: Operation {op} not defined on {t}" if not isinstance(t, T.Bool) else
                          f"{self.show(e)}: Operation {op} not defined on bool", TYPE)
        if isinstance(lb, T.Bits) and isinstance(rb, T.Bits) and (lb != rb):
            self.fail(e, self._mismatch_msg(e, lt, rt), TYPE)
        if isinstance(lt, T.NewType) and isinstance(rt, T.NewType) and lt != rt:
            self.fail(e, self._mismatch_msg(e, lt, rt), TYPE)
        if op in ("/", "%"):
            rv0 = self.tp.const_value(e.right)
            if rv0 == 0 and not isinstance(rv0, bool):
                self.fail(e, f"{self.show(e)}: Division by zero", TYPE, "expr")
            if isinstance(rv0, int) and not isinstance(rv0, bool) and rv0 < 0:
                self.fail(e, f"{self.show(e)}: not defined on negative numbers", TYPE)
            rc = self.tp.const_value(e.right)
            pow2 = isinstance(rc, int) and not isinstance(rc, bool) and rc > 0 and rc & (rc - 1) == 0
            if isinstance(lb, T.Bits) and not pow2 and (self.tp.const_value(e.left) is None or rc is None):
                # BMv2 has no run-time division: p4c only strength-reduces powers of two
                self.err(e, f"{self.show(e)}: could not evaluate expression at compilation time", LATE, "invalid")
            if isinstance(lb, T.Bits) and lb.signed:
                self.fail(e, f"{self.show(e)}: Operation {op} not defined on signed type {lt}" if False else
                          f"{self.show(e)}: Division is not defined for signed values", TYPE)
            if isinstance(lb, T.InfInt):
                lv, rv = self.tp.const_value(e.left), self.tp.const_value(e.right)
                if (isinstance(lv, int) and lv < 0) or (isinstance(rv, int) and rv < 0):
                    self.fail(e, f"{self.show(e)}: {'Division' if op == '/' else 'Modulus'} is not defined for negative numbers"
                              if False else f"{self.show(e)}: Division is not defined for negative numbers", TYPE)
        if op in ("|+|", "|-|") and isinstance(lb, T.InfInt):
            self.fail(e, f"{self.show(e)}: Saturating arithmetic requires a width", TYPE)
        res = _BOOL if is_cmp else lt
        self._fold_bin(e, res if not is_cmp else lt, result=res)
        return res

    def _mismatch_msg(self, e: Any, lt: T.P4Type, rt: T.P4Type) -> str:
        return f"{self.show(e)}: Cannot operate on values with different types {lt} and {rt}" if False else \
            f"{self.show(e)}: Cannot unify type '{rt}' with type '{lt}'" if False else \
            f"{self.show(e)}: Cannot operate on values with different types {lt} and {rt}"

    def eq_compatible(self, a: T.P4Type, b: T.P4Type, e: Any) -> bool:
        if a.is_unknown or b.is_unknown:
            return True
        if isinstance(a, (T.Table, T.Extern, T.Callable_, T.Action, T.Function, T.Void)) or \
                isinstance(b, (T.Table, T.Extern, T.Callable_, T.Action, T.Function, T.Void)):
            return False
        if isinstance(a, T.UnknownStruct) and isinstance(b, T.UnknownStruct):
            return False
        if isinstance(a, T.StructLike) and isinstance(b, T.UnknownStruct) or \
                isinstance(b, T.StructLike) and isinstance(a, T.UnknownStruct):
            s_, u_ = (a, b) if isinstance(a, T.StructLike) else (b, a)
            return sorted(s_.field_names) == sorted(n for n, _ in u_.fields)
        if isinstance(a, (T.TypeVar, T.DontCare, T.ListT, T.UnknownStruct)) or \
                isinstance(b, (T.TypeVar, T.DontCare, T.ListT, T.UnknownStruct)):
            return True
        if a == b:
            return True
        if isinstance(a, T.InfInt) and isinstance(b, T.InfInt):
            return True
        if isinstance(a, T.StructLike) and isinstance(b, T.StructLike):
            return a.decl is b.decl
        if isinstance(a, T.Stack) and isinstance(b, T.Stack):
            return a.size == b.size and self.eq_compatible(a.element, b.element, e)
        if isinstance(a, T.Tuple) and isinstance(b, T.Tuple):
            return len(a.elements) == len(b.elements) and all(
                self.eq_compatible(x, y, e) for x, y in zip(a.elements, b.elements))
        return False

    def coerce_operand(self, side: Any, to: T.P4Type, e: Any) -> None:
        b = T.strip_newtype(to)
        if isinstance(b, T.Bits) and not isinstance(to, T.NewType):
            self.tp.set_cast(side, to)
            self.tp.set_type(side, to)
            v = self.tp.const_value(side)
            if isinstance(v, int) and not isinstance(v, bool):
                self.tp.set_const(side, b.wrap(v))

    def _fold_bin(self, e: A.BinaryOp, t: T.P4Type, result: Optional[T.P4Type] = None) -> None:
        a, b = self.tp.const_value(e.left), self.tp.const_value(e.right)
        if a is None or b is None or isinstance(a, A.Node) or isinstance(b, A.Node):
            if isinstance(a, A.Node) and isinstance(b, A.Node) and e.op in ("==", "!="):
                self.tp.set_const(e, (a is b) == (e.op == "=="))
            return
        try:
            v = CF.fold_binary(e.op, a, b, t)
        except CF.FoldError as ex:
            self.fail(e, f"{self.show(e)}: {ex}", TYPE)
        self.tp.set_const(e, v)

    def ex_Mux(self, e: A.Mux, scope: Scope, expected: Any) -> T.P4Type:
        ct = self.expr(e.cond, scope, _BOOL)
        if not isinstance(ct, (T.Bool, T.Unknown)):
            self.fail(e.cond, f"Selector of ?: must be bool, not {ct}" if False else
                      f"{self.show(e.cond)}: Selector of ?: must be bool, not {ct}", TYPE)
        a = self.expr(e.then, scope, expected)
        b = self.expr(e.other, scope, expected)
        if isinstance(a, T.InfInt) and isinstance(b, T.InfInt):
            if expected is not None and isinstance(T.strip_newtype(expected), T.Bits):
                self.coerce_operand(e.then, expected, e)
                self.coerce_operand(e.other, expected, e)
                a = b = expected
            elif self.tp.const_value(e.cond) is None:
                self.fail(e, f"{self.show(e)}: width must be specified for ?: with int operands" if False else
                          f"{self.show(e)}: The type of this expression is not determined; please specify a width"
                          if False else f"{self.show(e)}: ?: with int operands requires a constant condition", TYPE)
        if isinstance(a, T.InfInt) and not isinstance(b, T.InfInt):
            self.coerce_operand(e.then, b, e)
            a = b
        elif isinstance(b, T.InfInt) and not isinstance(a, T.InfInt):
            self.coerce_operand(e.other, a, e)
            b = a
        listy = (T.ListT, T.UnknownStruct)
        if isinstance(a, listy) != isinstance(b, listy) and not a.is_unknown and not b.is_unknown and \
                not isinstance(a, (T.StructLike, T.Tuple, T.Stack)) and not isinstance(b, (T.StructLike, T.Tuple, T.Stack)):
            self.fail(e, self._mismatch_msg(e, a, b), TYPE)
        if not self.eq_compatible(a, b, e) and not self.compatible(a, b):
            self.fail(e, self._mismatch_msg(e, a, b), TYPE)
        c = self.tp.const_value(e.cond)
        if isinstance(c, bool):
            v = self.tp.const_value(e.then if c else e.other)
            if v is not None:
                self.tp.set_const(e, v)
        return a if not a.is_unknown else b

    def ex_Cast(self, e: A.Cast, scope: Scope, expected: Any) -> T.P4Type:
        to = self.rtype(e.type, scope)
        st = self.expr(e.expr, scope, to)
        if isinstance(e.expr, (A.ListExpression, A.StructExpression)):
            self.coerce(e.expr, to, scope)
            return to
        if to.is_unknown or st.is_unknown:
            return to
        if not self.cast_legal(st, to, e):
            self.fail(e, f"{self.show(e)}: Illegal cast from {st} to {to}", TYPE)
        v = self.tp.const_value(e.expr)
        if isinstance(v, A.SerEnumMember) and isinstance(st, T.SerEnum):
            v = st.members.get(v.name)
        if v is not None and not isinstance(v, A.Node):
            if isinstance(to, T.SerEnum):
                pass
            else:
                self.tp.set_const(e, CF.cast_value(v, to))
        return to

    def cast_legal(self, src: T.P4Type, dst: T.P4Type, e: Any) -> bool:
        if src == dst:
            return True
        s, d = src, dst
        if isinstance(d, (T.TypeVar, T.DontCare)) or isinstance(s, (T.TypeVar, T.DontCare)):
            return True
        sb, db = T.strip_newtype(s), T.strip_newtype(d)
        if isinstance(d, T.NewType):
            return isinstance(s, T.InfInt) or s == d.base or (isinstance(s, T.NewType) and self.cast_legal(s.base, d, e))
        if isinstance(s, T.NewType):
            return d == s.base or self.cast_legal(s.base, d, e)
        if isinstance(d, T.SerEnum):
            return isinstance(s, (T.Bits, T.InfInt)) or (isinstance(s, T.SerEnum) and s == d)
        if isinstance(s, T.SerEnum):
            return self.cast_legal(s.base, d, e)
        if isinstance(d, T.Bits):
            if isinstance(s, T.Bits):
                return s.width == d.width or s.signed == d.signed
            if isinstance(s, T.InfInt):
                return True
            if isinstance(s, T.Bool):
                return d.width == 1 and not d.signed
            return False
        if isinstance(d, T.Bool):
            if isinstance(s, T.Bits):
                return s.width == 1 and not s.signed
            if isinstance(s, T.InfInt):
                v = self.tp.const_value(e.expr)
                if v not in (0, 1) or isinstance(v, bool):
                    self.fail(e, f"{self.show(e)}: Only 0 and 1 can be cast to booleans", VALIDATE, "invalid")
                return True
            return False
        if isinstance(d, T.InfInt):
            return isinstance(s, (T.InfInt,))
        if isinstance(d, (T.StructLike, T.Tuple)) and isinstance(s, (T.ListT, T.UnknownStruct)):
            return True
        return False

    def ex_ListExpression(self, e: A.ListExpression, scope: Scope, expected: Any) -> T.P4Type:
        exp_el: list[Optional[T.P4Type]] = [None] * len(e.items)
        b = T.strip_newtype(expected) if expected is not None else None
        if isinstance(b, T.StructLike) and len(b.fields) >= len(e.items):
            exp_el = [ft for _, ft in b.fields[:len(e.items)]]
        elif isinstance(b, T.Tuple) and len(b.elements) == len(e.items):
            exp_el = list(b.elements)
        elif isinstance(b, T.Stack):
            exp_el = [b.element] * len(e.items)
        ts = []
        for x, xt in zip(e.items, exp_el):
            ts.append(self.expr(x, scope, xt))
        if any(isinstance(x, A.Dots) for x in e.items[:-1]):
            d = next(x for x in e.items[:-1] if isinstance(x, A.Dots))
            self.fail(d, "...: ... must be the last element", TYPE)
        return T.ListT(tuple(ts))

    def ex_StructExpression(self, e: A.StructExpression, scope: Scope, expected: Any) -> T.P4Type:
        b = T.strip_newtype(expected) if expected is not None else None
        fs = []
        for f in e.fields:
            ft = b.field_type(f.name) if isinstance(b, T.StructLike) else None
            fs.append((f.name, self.expr(f.expr, scope, ft)))
        return T.UnknownStruct(tuple(fs))

    def ex_Mask(self, e: A.Mask, scope: Scope, expected: Any) -> T.P4Type:
        a = self.expr(e.value, scope, expected)
        self.expr(e.mask, scope, expected)
        return a

    def ex_Range(self, e: A.Range, scope: Scope, expected: Any) -> T.P4Type:
        a = self.expr(e.lo, scope, expected)
        self.expr(e.hi, scope, expected)
        return a

    def ex_SelectExpression(self, e: A.SelectExpression, scope: Scope, expected: Any) -> T.P4Type:
        self.fail(e, f"{self.show(e)}: select expressions can only be used in transitions" if False else
                  "SelectExpression: select expression can only be used as a transition", TYPE)

    def ex_ConstructorCallExpression(self, e: A.ConstructorCallExpression, scope: Scope, expected: Any) -> T.P4Type:
        t = self.rtype(e.type, scope)
        if isinstance(t, T.Extern) and isinstance(t.decl, A.ExternDeclaration) and any(m.abstract for m in t.decl.methods):
            self.fail_here(e, f"{t.name}: extern type {t.name} with abstract methods cannot be instantiated using a constructor", TYPE)
        return self.construct(e, t, e.args, scope)

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
                    self.fail(e, f"{self.show(e)}: actions cannot be invoked from parsers", TYPE)
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
        if isinstance(md, A.ExternFunctionDeclaration) and md.name == "verify" and \
                scope.enclosing("parser", "parser_body", "states") is None:
            self.fail(e, f"{self.show(e)}: may only be invoked in parsers", TYPE)
        if targs:
            if len(targs) != len(ft.type_params):
                self.fail(e, f"{self.show(e)}: {name} has {len(ft.type_params)} type parameters, "
                             f"but is invoked with {len(targs)} type arguments" if False else
                          f"{self.show(e)}: Type arguments do not match type parameters", TYPE)
            sub = {id(tv): a for tv, a in zip(ft.type_params, targs)}
            ft = T.Function(ft.name, [], [self.subst_param(p, sub) for p in ft.params],
                            self.subst(ft.ret, sub), ft.decl, ft.kind)
        bindings = self.bind_call(ft, e.args, scope, e, name)
        ret = self.subst(ft.ret, bindings)
        if isinstance(md, A.MethodDeclaration) and md.name == "extract" and e.args:
            at = self.tp.type_of(e.args[0].expr)
            if not isinstance(at, (T.Header, T.Unknown, T.TypeVar, T.DontCare)):
                self.fail(e.args[0].expr, f"{self.show(e.args[0].expr)}: argument must be a header", TYPE)
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

    def _size_of(self, t: T.P4Type, mx: bool) -> Optional[int]:
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
                self.fail(e, f"{self.show(e)}: apply cannot be called from actions" if not isinstance(md.owner, T.Table)
                          else f"{self.show(e)}: table invocation in action", TYPE)
            if scope.enclosing("function") is not None:
                self.fail(e, f"{self.show(e)}: apply cannot be called from functions", TYPE)

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
            self.fail(where, f"{self.show(where)}: no matching overload of {name} with {n} arguments" if False else
                      f"{self.show(where)}: no function named {name} with {n} arguments" if False else
                      f"{name}: No matching function for call with {n} arguments" if False else
                      f"{self.show(where)}: Could not find a matching overload of {name} for {n} arguments", TYPE)
        if len(ok) > 1:
            exact = [c for c in ok if len(c.params) == n]
            if len(exact) == 1:
                return exact[0]
            return ok[0]
        return ok[0]

    def bind_call(self, ft: T.Function, args: list[A.Argument], scope: Scope, where: Any, name: str,
                  extra_tvs: Optional[list] = None, action_partial: bool = False) -> dict[int, T.P4Type]:
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
                    self.fail(a, f"{a.name}: No parameter named {a.name}" if False else
                              f"{self.show(where)}: No parameter named {a.name}", TYPE)
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
                self.fail(where, f"{self.show(where)}: Too many arguments for {name}" if False else
                          f"{self.show(where)}: {len(params)} parameters expected, but {len(args)} arguments supplied"
                          if False else f"{self.show(where)}: Too many arguments", TYPE)
            for p, a in zip(params, args):
                pairs.append((p, a))
            for p in params[len(args):]:
                if p.default is None and not p.optional:
                    if action_partial:
                        break
                    self.fail(where, f"{self.show(where)}: Parameter {p.name} must be bound" if False else
                              f"{self.show(where) if not isinstance(where, A.MethodCallExpression) else self.show(where)}: "
                              f"Parameter {p.name} must be bound", TYPE)
        bindings: dict[int, T.P4Type] = {}
        for p, a in pairs:
            pt = p.type
            if isinstance(a.expr, A.DefaultExpression) and a.expr.dontcare:
                self.tp.set_type(a.expr, T.DontCare())
                if p.direction in ("in", ""):
                    self.fail(a.expr, f"{self.show(a.expr)}: don't care argument only allowed for out parameters"
                              if False else f"_: Don't care argument only allowed for out parameters", TYPE)
                continue
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
                    self.fail(a.expr, f"{self.show(a.expr)}: Read-only value used for out/inout parameter '{p.name}'"
                              if False else f"{self.show(where)}: Read-only value used for out/inout parameter '{p.name}'", TYPE)
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
            if p.direction == "" and ft.kind in ("method", "extern_function", "ctor") and False:
                pass
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

    # -------------------------------------------------- late checks
    def late_checks(self) -> None:
        for d in self.program.declarations:
            if isinstance(d, A.ActionDeclaration) and d.name == "NoAction" and d.params:
                self.err(d, "NoAction: Expected an action with no parameters; did you include core.p4?",
                         LATE, "Target model error")
            if isinstance(d, A.ParserDeclaration):
                self.check_parser_reach(d)
        for d in self.program.declarations:
            if getattr(d, "name", None) == "main" and not (
                    isinstance(d, A.Instantiation) and isinstance(self.tp.decl_type(d), (T.Package, T.Unknown))):
                self.err(d, "main: must be a package declaration", LATE, "invalid")
        if not any(isinstance(x, A.ActionDeclaration) and x.name == "NoAction" for x in self.program.declarations):
            for t in self.tables:
                if t.property("default_action") is None:
                    self.err(None, "Declaration of the action NoAction not found; did you include core.p4?",
                             LATE, "Target model error")
                    break


def check(program: A.Program, diags: Diagnostics) -> TypedProgram:
    """Run the front end over a parsed program; raise `CompilerError` on the first error."""
    c = Checker(program, diags)
    try:
        tp = c.run()
    except CompilerError:
        raise
    except RecursionError as exc:
        raise _bug(diags, exc)
    except Exception as exc:  # noqa: BLE001 - internal failure -> located compiler bug
        raise _bug(diags, exc)
    if c.errors:
        first_phase = min(p for p, *_ in c.errors)
        errs = sorted((x for x in c.errors if x[0] == first_phase), key=lambda x: x[1])
        _, _, loc, msg, kind = errs[0]
        first = CompilerError(loc, msg, kind=kind)
        diags.add(first.diagnostic)
        for _, _, loc, msg, kind in errs[1:]:
            diags.error(loc, msg, kind)
        raise first
    return tp


class FrontEndBug(CompilerError):
    """An internal failure of the front end, reported as a located 'compiler bug'."""


def _bug(diags: Diagnostics, exc: BaseException) -> CompilerError:
    loc = diags.current
    err = FrontEndBug(loc, f"{type(exc).__name__}: {exc}")
    err.diagnostic.severity = "bug"
    return err
