"""Expressions: typing, implicit conversions of int literals, operator width rules, casts,
member access (fields, built-in methods, enum/error members), `{...}` initializers typed from
their context, and constant folding of the results.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from . import constfold as CF
from .base import _BOOL, _ERR, _INT, _STR, _UNK, _VOID, LATE, RESOLVE, TYPE, VALIDATE
from .scope import Scope
from .typed import BuiltinDecl


class ExprMixin:
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
                        self.warn(e, f"{self.show(e)}: value does not fit in {b.width} bits", "overflow")
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
        if isinstance(src, T.SerEnum) and not isinstance(dst, T.SerEnum) and self.compatible(dst, src):
            self.tp.set_cast(e, dst)
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
                has_dots = bool(items) and isinstance(items[-1], A.Dots)
                real = [x for x in items if not isinstance(x, A.Dots)]
                if len(real) != len(b.elements) and not (has_dots and len(real) <= len(b.elements)):
                    self.fail(e, f"{self.show(e)}: tuple has {len(b.elements)} elements but {len(items)} initializers", TYPE)
                for x, ft in zip(real, b.elements):
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
                    if f.name == "..." and isinstance(f.expr, A.Dots):
                        has_dots = True      # `{a = 1, ...}`: the other fields get default values
                        continue
                    ft = b.field_type(f.name)
                    if ft is None:
                        self.fail(f, f"{f.name}: no such field in {dst}", TYPE)
                    self.coerce(f.expr, ft, scope)
                if not isinstance(b, T.HeaderUnion):
                    missing = [n for n in b.field_names if n not in names]
                    if missing and not has_dots:
                        self.fail(e, f"{self.show(e)}: Cannot unify type '{self.tp.type_of(e)}' with type '{dst}'", TYPE)
                self.tp.set_type(e, dst)
                return
            if isinstance(b, T.Unknown):
                return
            self.fail(e, f"{self.show(e)}: Cannot unify type '{self.tp.type_of(e)}' with type '{dst}'", TYPE)

    # -------------------------------------------------- expressions
    def expr(self, e: Any, scope: Scope, expected: T.P4Type | None = None, statement: bool = False) -> T.P4Type:
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
            self.warn(e, f"{e.text or e.value}: value does not fit in {e.width} bits", "overflow")
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
                self.fail(e, f"error.{e.member}: declaration not found", RESOLVE, "not-found")
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
                    self.fail(e, f"{self.show(e)}: Invalid enum tag", RESOLVE, "type-error")
                md = next(m for m in inner.decl.members if m.name == name)
                self.tp.set_decl(e, md)
                self.tp.set_const(e, md)
                return inner
            if isinstance(inner, T.SerEnum):
                if name not in inner.members and inner.decl is not None and \
                        not any(m.name == name for m in inner.decl.members):
                    self.fail(e, f"{self.show(e)}: Invalid enum tag", RESOLVE, "type-error")
                md = next((m for m in inner.decl.members if m.name == name), None)
                self.tp.set_decl(e, md)
                if md is not None:
                    self.tp.set_const(e, md)
                return inner
            if isinstance(inner, T.Error):
                m = self.error_members.get(name)
                if m is None:
                    self.fail(e, f"{self.show(e)}: declaration not found", RESOLVE, "not-found")
                self.tp.set_decl(e, m)
                self.tp.set_const(e, m)
                return _ERR
            if isinstance(inner, (T.Parser, T.Control)) and name == "apply" and \
                    isinstance(self.tp.decl_of(e.expr), (A.ParserDeclaration, A.ControlDeclaration)):
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
                    if not self.is_lvalue(e.expr):
                        self.err(e, f"{self.show(e)}: must be applied to a left-value", TYPE)
                    return self.builtin(e, name, b, T.Function(name, [], [], _VOID, None, "builtin"))
            if isinstance(b, T.HeaderUnion) and name == "isValid":
                return self.builtin(e, name, b, T.Function(name, [], [], _BOOL, None, "builtin"))
            if name in ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
                return self.builtin(e, name, b, T.Function(name, [], [], _INT, None, "builtin"))
            kind = "structure " if isinstance(b, T.Struct) else ""
            self.fail(e, f"Field {name} is not a member of {kind}{b}", TYPE)
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
                return self.builtin(e, name, b, T.Bits(32), kind="field")
            if name in ("push_front", "pop_front"):
                if scope.enclosing("states", "parser_body") is not None:
                    self.err(e, f"{self.show(e)}: 'push_front' and 'pop_front' for stacks cannot be used in a parser", TYPE)
                if not self.is_lvalue(e.expr):
                    self.err(e, f"{self.show(e)}: must be applied to a left-value", TYPE)
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
        self.fail(e, f"Cannot extract field {name} from {self.show(e.expr)} which has type {bt}", TYPE)

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
            self.fail(e, f"{self.show(e)}: extern {decl.name} does not have method matching this call", TYPE)
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
                    self.err(e.index, f"{self.show(e.index)}: index out of bounds", TYPE)
            elif not isinstance(T.strip_newtype(it), (T.Bits, T.InfInt, T.Unknown, T.SerEnum, T.TypeVar)):
                self.fail(e.index, f"Array index {self.show(e.index)} must be an integer, but it has type {it}", TYPE)
            return b.element
        if isinstance(b, T.Tuple):
            v = self.tp.const_value(e.index)
            if not isinstance(v, int) or isinstance(v, bool):
                self.fail(e.index, f"Tuple index {self.show(e.index)} must be constant", TYPE)
            if v < 0 or v >= len(b.elements):
                self.fail(e.index, f"{self.show(e)}: Index {v} out of bounds", TYPE)
            return b.elements[v]
        if isinstance(b, (T.Unknown, T.TypeVar)):
            return _UNK
        self.fail(e, f"Indexing {self.show(e)} applied to non-array and non-tuple type {bt}", TYPE)

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
            self.fail(e, f"LSB index {lo} greater than MSB index {hi}", TYPE)
        if lo < 0:
            self.fail(e, f"{self.show(e)}: negative bit index {lo}", TYPE)
        if isinstance(b, T.Bits) and hi >= b.width:
            self.fail(e, f"Bit index {hi} greater than width {b.width}", TYPE)
        rt = T.Bits(hi - lo + 1)
        v = self.tp.const_value(e.expr)
        if isinstance(v, int) and not isinstance(v, bool):
            self.tp.set_const(e, CF.slice_value(v, hi, lo))
        return rt

    def ex_PlusSlice(self, e: A.PlusSlice, scope: Scope, expected: Any) -> T.P4Type:
        """`e[lo +: w]`: `w` bits from bit `lo`; `w` a compile-time constant, `lo` a constant or
        a run-time unsigned value."""
        bt = self.expr(e.expr, scope)
        lt = self.expr(e.lo, scope)
        self.expr(e.width, scope)
        lo = self.tp.const_value(e.lo)
        w = self.tp.const_value(e.width)
        b = T.strip_newtype(bt)
        if not isinstance(b, (T.Bits, T.InfInt, T.Unknown, T.TypeVar)):
            self.fail(e, f"{self.show(e)}: bit extraction only defined for bit<> types", TYPE)
        if not isinstance(w, int) or isinstance(w, bool):
            self.fail(e.width, f"{self.show(e.width)}: width of a bit slice must be a compile-time constant", TYPE)
        if w <= 0:
            self.fail(e.width, f"{self.show(e.width)}: slice width must be positive", TYPE)
        if isinstance(lo, bool) or (lo is None and not isinstance(T.strip_newtype(lt), (T.Bits, T.Unknown, T.TypeVar))):
            self.fail(e.lo, f"{self.show(e.lo)}: bit index must be an unsigned integer", TYPE)
        if isinstance(lo, int):
            if lo < 0:
                self.fail(e, f"{self.show(e)}: negative bit index {lo}", TYPE)
            if isinstance(b, T.Bits) and lo + w - 1 >= b.width:
                self.fail(e.lo, f"Bit index {lo + w - 1 if lo < b.width else lo} greater than width {b.width}", TYPE)
            v = self.tp.const_value(e.expr)
            if isinstance(v, int) and not isinstance(v, bool):
                self.tp.set_const(e, CF.slice_value(v, lo + w - 1, lo))
        return T.Bits(w)

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
                self.fail(e, f"{self.show(e.expr)}: Expected a boolean value", TYPE)
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
            if not isinstance(lt, (T.Bool, T.Unknown)) or not isinstance(rt, (T.Bool, T.Unknown)):
                self.fail(e, f"{self.show(e)}: not defined on {lt} and {rt}", TYPE)
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
        # a serializable enum operand is implicitly its underlying type (as in p4c)
        if isinstance(lb, T.SerEnum):
            lt = lb = lb.base
            self.tp.set_cast(e.left, lt)
        if isinstance(rb, T.SerEnum):
            rt = rb = rb.base
            self.tp.set_cast(e.right, rt)
        if op in ("<<", ">>"):
            if isinstance(lb, T.InfInt) and not isinstance(rb, T.InfInt) and self.tp.const_value(e.left) is not None:
                if self.tp.const_value(e.right) is None:
                    self.fail(e, f"{self.show(e)}: shift result type is arbitrary-precision int, but right operand is "
                                 f"not constant; width of left operand of shift needs to be specified or both operands "
                                 f"need to be constant", TYPE)
            # a `type` (new type) operand is not its representation: p4c rejects it
            if isinstance(lt, T.NewType) or not isinstance(lb, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e)} left operand of shift must be a numeric type, not {lt}", TYPE)
            if isinstance(rt, T.NewType):
                self.fail(e.right, f"{self.show(e.right)}: The right operand of shift must be either an expression "
                                   f"of type bit<S> or a compile-time known value that is a non-negative integer, "
                                   f"but is {rt}", TYPE)
            if not isinstance(rb, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{self.show(e.right)}: expected an integer value", TYPE, "expected")
            if isinstance(rb, T.Bits) and rb.signed:
                self.fail(e.right, f"{self.show(e.right)}: Shift amount must be an unsigned number", TYPE)
            rv = self.tp.const_value(e.right)
            if isinstance(rv, int) and not isinstance(rv, bool) and rv < 0:
                self.fail(e, f"{self.show(e)}: Shifts with negative amounts are not permitted", TYPE)
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
                    self.fail(e, f"{self.show(e)}: Concatenation not defined on {lb} and {rb}", TYPE)
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
            if has_default_values(e.left) or has_default_values(e.right):
                self.fail(e, f"Default values {{...}} cannot be used in operation realation {op}", TYPE)
            if not self.eq_compatible(lt, rt, e):
                self.fail(e, self._mismatch_msg(e, lt, rt), TYPE)
            self._fold_bin(e, _BOOL)
            return _BOOL
        # numeric ops
        if is_cmp and not (isinstance(lb, (T.Bits, T.InfInt, T.TypeVar)) and isinstance(rb, (T.Bits, T.InfInt, T.TypeVar))):
            self.fail(e, f"{self.show(e)}: not defined on {lt} and {rt}", TYPE)
        for side, t in ((e.left, lb), (e.right, rb)):
            if not isinstance(t, (T.Bits, T.InfInt, T.TypeVar)):
                self.fail(e, f"{op}: cannot be applied to expression '{self.show(side)}' with type '{t}'", TYPE)
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
                self.fail(e, f"{self.show(e)}: Cannot operate on signed values", TYPE)
            if isinstance(lb, T.InfInt):
                lv, rv = self.tp.const_value(e.left), self.tp.const_value(e.right)
                if (isinstance(lv, int) and lv < 0) or (isinstance(rv, int) and rv < 0):
                    self.fail(e, f"{self.show(e)}: Division is not defined for negative numbers", TYPE)
        if op in ("|+|", "|-|") and isinstance(lb, T.InfInt):
            self.fail(e, f"{self.show(e)}: Saturating arithmetic requires a width", TYPE)
        res = _BOOL if is_cmp else lt
        self._fold_bin(e, res if not is_cmp else lt, result=res)
        return res

    def _mismatch_msg(self, e: Any, lt: T.P4Type, rt: T.P4Type) -> str:
        if isinstance(lt, T.Bits) and isinstance(rt, T.Bits):
            if lt.width != rt.width:
                return f"{self.show(e)}: Cannot operate on values with different widths {lt.width} and {rt.width}"
            if lt.signed != rt.signed:
                return f"{self.show(e)}: Cannot operate on values with different signs"
        return f"{self.show(e)}: Cannot operate on values with different types {lt} and {rt}"

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

    def _fold_bin(self, e: A.BinaryOp, t: T.P4Type, result: T.P4Type | None = None) -> None:
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
            self.fail(e.cond, f"{self.show(e.cond)}: Selector of ?: must be bool, not {ct}", TYPE)
        a = self.expr(e.then, scope, expected)
        b = self.expr(e.other, scope, expected)
        if isinstance(a, T.InfInt) and isinstance(b, T.InfInt):
            if self.tp.const_value(e.cond) is None:
                # p4c folds a constant condition first; otherwise the width is unknown
                self.fail(e, f"Width must be specified for at least one of {self.show(e.then)} or {self.show(e.other)}",
                          TYPE)
            if expected is not None and isinstance(T.strip_newtype(expected), T.Bits):
                self.coerce_operand(e.then, expected, e)
                self.coerce_operand(e.other, expected, e)
                a = b = expected
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
        # p4c's canCastBetween: a `type` converts only to/from its representation; a
        # serializable enum only to/from (enums with) its exact underlying type
        if isinstance(d, T.NewType):
            return isinstance(s, T.InfInt) or s == d.base
        if isinstance(s, T.NewType):
            return d == s.base
        if isinstance(d, T.SerEnum):
            return s == d.base or (isinstance(s, T.SerEnum) and s.base == d.base)
        if isinstance(s, T.SerEnum):
            return d == s.base
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
            return isinstance(s, (T.InfInt, T.Bits))
        if isinstance(d, (T.StructLike, T.Tuple)) and isinstance(s, (T.ListT, T.UnknownStruct)):
            return True
        return False

    def ex_ListExpression(self, e: A.ListExpression, scope: Scope, expected: Any) -> T.P4Type:
        exp_el: list[T.P4Type | None] = [None] * len(e.items)
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
        self.fail(e, "SelectExpression: select expression can only be used as a transition", TYPE)

    def ex_ConstructorCallExpression(self, e: A.ConstructorCallExpression, scope: Scope, expected: Any) -> T.P4Type:
        if scope.enclosing("action") is not None:
            self.err(e, f"{self.show(e)}: Constructor calls not allowed in actions", VALIDATE, None)
        t = self.rtype(e.type, scope)
        if isinstance(t, T.Extern) and isinstance(t.decl, A.ExternDeclaration) and any(m.abstract for m in t.decl.methods):
            self.fail_here(e, f"{t.name}: extern type {t.name} with abstract methods cannot be instantiated using a constructor", TYPE)
        return self.construct(e, t, e.args, scope)


def has_default_values(e: Any) -> bool:
    """True for a `{...}` initializer (list or key-value) that asks for default values (`...`),
    at any depth of nested initializers: p4c only fills those in from a known target type, so
    it rejects them where no such type exists (return values, ==/!= operands, generic arguments)."""
    if isinstance(e, A.Dots):
        return True
    if isinstance(e, A.ListExpression):
        return any(has_default_values(x) for x in e.items)
    if isinstance(e, A.StructExpression):
        return any(has_default_values(f.expr) for f in e.fields)
    return False
