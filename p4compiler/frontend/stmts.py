"""Statements and l-values.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import _BOOL, _UNK, LATE, TYPE, VALIDATE, _Abort
from .exprs import has_default_values
from .scope import Scope


class StmtMixin:
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
            self.err(s, "exit: exit statements not allowed in functions", VALIDATE, None)
        if scope.enclosing("parser", "parser_body", "states") is not None:
            self.err(s, "exit: exit statements not allowed in parsers", VALIDATE, None)

    def st_BreakStatement(self, s: Any, scope: Scope) -> None:
        if scope.enclosing("loop") is None:
            self.err(s, "break: break statement must be used in a loop", TYPE)

    def st_ContinueStatement(self, s: Any, scope: Scope) -> None:
        if scope.enclosing("loop") is None:
            self.err(s, "continue: continue statement must be used in a loop", TYPE)

    def st_ReturnStatement(self, s: A.ReturnStatement, scope: Scope) -> None:
        fs = scope.enclosing("function", "action", "apply", "states", "parser_body")
        if fs is not None and fs.kind in ("states", "parser_body"):
            self.fail(s, "return: return statements not allowed in parsers", VALIDATE, None)
        if fs is not None and fs.kind == "function":
            ft = self.tp.decl_type(fs.owner)
            ret = ft.ret if isinstance(ft, T.Function) else _UNK
            if s.expr is None:
                if not isinstance(ret, (T.Void, T.Unknown)):
                    self.fail(s, f"{self.show(s)}: return with no expression in a function returning {ret}", TYPE)
                return
            if isinstance(ret, T.Void):
                self.fail(s, f"{self.show(s)}: return expression in function with void return", TYPE)
            if has_default_values(s.expr):
                kind = type(s.expr).__name__
                self.fail(s, f"Default values {{...}} cannot be used in return statement return {kind}", TYPE)
            self.expr(s.expr, scope, ret)
            self.coerce(s.expr, ret, scope)
            return
        if s.expr is not None:
            self.fail(s, f"{self.show(s)}: return with expression can only be used in a function", TYPE)

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
                            self.err(c.label, f"{self.show(c.label)} is not a legal label (action name)", TYPE)
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
                self.err(s.expr, f"{self.show(s.expr)}: 'switch' type can't be {t}", TYPE)

    def _actions_of_table(self, tbl: Any) -> set | None:
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
        if isinstance(s.collection, A.Range):
            # the range's ends are assigned to the loop variable
            vt = self.tp.decl_type(s.decl)
            if vt is not None and not vt.is_unknown:
                for end in (s.collection.lo, s.collection.hi):
                    et = self.tp.type_of(end)
                    if isinstance(et, T.InfInt) or et.is_unknown:
                        self.coerce(end, vt, inner)
                    elif not self.compatible(vt, et):
                        self.fail(s, f"ForInStatement: Cannot cast implicitly type '{et}' to type '{vt}'", TYPE)
        self.statement(s.body, inner.child("block", s))

    # -------------------------------------------------- lvalues
    def lvalue(self, e: Any, scope: Scope, what: str = "") -> None:
        if not self.is_lvalue(e):
            self.fail(e, f"Expression {self.show(e)} cannot be the target of an assignment", TYPE)

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
        if isinstance(e, A.PlusSlice):     # p4c: `x[lo +: w]` is an l-value when `x` is (any `lo`)
            return self.is_lvalue(e.expr)
        if isinstance(e, A.DefaultExpression) and e.dontcare:
            return True
        return False
