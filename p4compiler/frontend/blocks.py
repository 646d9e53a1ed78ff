"""Parsers (states, transitions, select keysets), controls and tables (keys, actions lists,
default actions, const entries).

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import _STATE, _UNK, _VOID, LATE, TYPE, VALIDATE, _Abort
from .scope import Scope
from .typed import BuiltinDecl


class BlockMixin:
    # -------------------------------------------------- parsers and controls
    def _block_head(self, d: Any, scope: Scope, kind: str, cls: type) -> Scope:
        """What a parser and a control declaration check and record alike
        before their own rules: the name is new, the type with its
        constructor parameters, the apply parameters in the new scope
        (returned)."""
        self._check_dup(d, scope)
        inner = scope.child(kind, d)
        t = self._callable_type(d.type, cls, scope, inner)
        t.ctor_params = self.params(d.ctor_params, inner, inner, "ctor")
        self.tp.set_decl_type(d, t)
        self.tp.set_decl_type(d.type, t)
        for p in d.type.params:
            self.add(inner, p.name, p)
        return inner

    def _block_locals(self, d: Any, body: Scope) -> None:
        """A parser's or control's local declarations, each on its own: one
        that fails is reported and the others are still checked."""
        for loc in d.locals:
            self.diags.current = loc.loc
            try:
                self.declaration(loc, body)
            except _Abort:
                pass

    def decl_ParserDeclaration(self, d: A.ParserDeclaration, scope: Scope) -> None:
        inner = self._block_head(d, scope, "parser", T.Parser)
        for p in d.ctor_params:
            if isinstance(self.tp.decl_type(p), T.Control) and isinstance(self.tp.decl_of(p.type), A.ControlDeclaration):
                self.err(p, f"{p.name}: parameter cannot have type control {self.tp.decl_type(p)}", TYPE)
        body = inner.child("parser_body", d)
        self._block_locals(d, body)
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
            self.fail(path, f"{path.name}: SelectCase must be state", TYPE)
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
            a, b = (e.value, e.mask) if isinstance(e, A.Mask) else (e.lo, e.hi)
            ta, tb = self.expr(a, scope, kt), self.expr(b, scope, kt)
            saved = self.loc_override
            if not ta.is_unknown and not tb.is_unknown and not isinstance(ta, T.InfInt) and \
                    not isinstance(tb, T.InfInt) and ta != tb:
                self.fail_here(e, f"{self.show(e)}: Cannot operate on values with different types {ta} and {tb}", TYPE)
            if isinstance(ta, T.InfInt) and isinstance(tb, T.InfInt) and not isinstance(T.strip_newtype(kt), (T.Bits, T.InfInt, T.Unknown, T.TypeVar, T.SerEnum)):
                self.fail_here(e, f"{self.show(e)}: not defined on {kt}", TYPE)
            if isinstance(kt, (T.Bool, T.Enum, T.Error, T.StructLike)):
                self.fail_here(e, f"{self.show(e)}: {'mask' if isinstance(e, A.Mask) else 'range'} not defined on {kt}", TYPE)
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
        """Both sides of a keyset `v &&& m` or `lo .. hi` (the caller has
        checked `e` is one of the two) take the key's type `kt`."""
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

    def _keyset_const(self, e: Any) -> None:
        if self._in_entries:
            return
        if self.tp.const_value(e) is None and not self._is_const_like(e):
            saved, self.loc_override = self.loc_override, None
            self.err(e, f"{self.show(e)}: expression must evaluate to a constant", TYPE, "invalid")
            self.loc_override = saved

    def decl_ControlDeclaration(self, d: A.ControlDeclaration, scope: Scope) -> None:
        inner = self._block_head(d, scope, "control", T.Control)
        for p in d.ctor_params:
            pt = self.tp.decl_type(p)
            if isinstance(pt, T.Parser):
                self.err(p, f"{p.name}: instantiation of parser in control", VALIDATE, "invalid")
            elif isinstance(pt, T.Control) and isinstance(self.tp.decl_of(p.type), A.ControlDeclaration):
                self.err(p, f"{p.name}: parameter cannot have type control {pt}", TYPE)
        body = inner.child("control_body", d)
        self._block_locals(d, body)
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
                            if self.tp.const_value(k.expr) is not None:
                                self.warn(k, "KeyElement: constant key element", "ignore-prop")
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
                    if d.property("key") is None and p.entries:
                        self.fail(d, f"Entries cannot be specified for a table with no key {d.name}", TYPE)
                    self._in_entries = True
                    try:
                        self.table_entry_list(d, p, inner, key_types, actions)
                        self.table_entries(d, p, inner, key_types, actions)
                    finally:
                        self._in_entries = False
            except _Abort:
                pass
        self.tables.append(d)
        if d.property("actions") is None:
            self.err(d, f"{d.name}: expected 'actions' property", TYPE)
        self.add(scope, d.name, d)

    def table_entry_list(self, d: A.TableDeclaration, p: A.EntriesProperty, inner: Scope,
                         key_types: list, actions: dict) -> None:
        """Type the keysets and actions of `entries = {...}`."""
        for e in p.entries:
            try:
                self.keyset(e.keys, key_types, [], inner, is_entry=True)
                ad = self.action_ref(e.action, inner, in_list=False)
                ap = d.property("actions")
                if isinstance(ap, A.ActionsProperty):
                    self.check_action_args_match(None, e.action, {a.name: a for a in ap.actions})
                if ad is not None and actions and ad.name not in actions:
                    self.err(e.action, f"{ad.name}: not a valid action for table {d.name}", TYPE)
                if e.priority is not None:
                    self.expr(e.priority, inner)
            except _Abort:
                pass

    def table_entries(self, d: A.TableDeclaration, p: A.EntriesProperty, scope: Scope,
                      key_types: list, actions: dict) -> None:
        """Checks of const entries the BMv2 back end makes (reported in the LATE phase)."""
        kp = d.property("key")
        kinds = [k.match_kind.name for k in kp.elements] if isinstance(kp, A.KeyProperty) else []
        ap = d.property("actions")
        refs = {a.name: a for a in ap.actions} if isinstance(ap, A.ActionsProperty) else {}
        for e in p.entries:
            items = e.keys.items if isinstance(e.keys, A.ListExpression) else [e.keys]
            for ks in items:
                parts = [ks.value, ks.mask] if isinstance(ks, A.Mask) else [ks.lo, ks.hi] \
                    if isinstance(ks, A.Range) else [ks]
                for x in parts:
                    if not isinstance(x, A.DefaultExpression) and not self._is_ctor_const(x):
                        self.err(x, f"Key entry must be a compile time constant: {self.show(x)}", TYPE)
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
        if kinds and all(k == "exact" for k in kinds):
            # two entries with the same exact key: p4c's "Duplicate entry keys"
            seen: dict[tuple, Any] = {}
            for e in p.entries:
                items = e.keys.items if isinstance(e.keys, A.ListExpression) else [e.keys]
                vals = [self.tp.const_value(x) for x in items]
                if any(v is None for v in vals) or len(vals) != len(kinds):
                    continue
                key = tuple(id(v) if isinstance(v, A.Node) else (type(v) is bool, v) for v in vals)
                if key in seen:
                    where = items[0] if len(items) == 1 else e.keys
                    self.err(where, "Duplicate entry keys", LATE, "keys")
                    break
                seen[key] = e

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
        if isinstance(b, (T.Bits, T.Bool, T.Enum, T.SerEnum, T.Error, T.Unknown, T.TypeVar)):
            return
        self.err(k.expr, f"Key {self.show(k.expr)} field type must be a scalar type; it cannot be {kt}", TYPE)

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
                self.err(p.value, f"{self.show(p.value)} not present in action list", TYPE)
            elif ad is not None and isinstance(actions.get(ad.name), A.ActionDeclaration) and actions[ad.name] is not ad:
                # `.b()` (top-level b) while the list names a local action b
                self.err(p.value, f"{self.show(p.value)} and {ad.name} refer to different actions", TYPE)
            elif ad is not None and isinstance(ap, A.ActionsProperty):
                ref = next((a for a in ap.actions if a.name == ad.name), None)
                if ref is not None and any(a.name == "tableonly" for a in ref.annotations):
                    self.err(p, "default_action: Action marked with @tableonly used as default action", TYPE)
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
            if not in_list:
                # action data given in the table itself must be compile-time constants
                for p, a in self.tp.call_args(call) or []:
                    if p.direction == "" and a is not None and a is not p.default and not self._is_ctor_const(a):
                        self.err(a, f"{self.show(a)}: action argument must be a compile-time constant", TYPE)
        elif in_list:
            missing = [p for p in ps if p.default is None and not p.optional]
            if missing:
                self.err(e, f"{self.show(e)}(): Parameter {missing[0].name} must be bound", TYPE)
        else:
            missing = [p for p in ps if p.default is None and not p.optional]
            if missing:
                self.err(e, f"{self.show(e)}: Parameter {missing[0].name} must be bound", TYPE)
        return ad
