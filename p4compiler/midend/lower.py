"""Expression and statement lowering to BMv2 JSON primitives.

Why one lowerer for everything: after instantiation, every action, function,
control body and parser state is lowered in a scope where names denote
BMv2 locations (`values.py`); inlining of actions/functions/sub-controls is
done here by binding their parameters (with copy-in/copy-out through
temporaries where P4's semantics require it) and lowering their bodies into
the caller's emitter.
"""
from __future__ import annotations

import dataclasses

from .. import ast as A
from ..diagnostics import CompilerError
from ..printer import Printer
from .emitters import Emitter
from .ptypes import (
    PType,
    TBits,
    TBool,
    TEnum,
    TError,
    TInt,
    TSerEnum,
    TStack,
    TString,
    TStructLike,
    TTuple,
    TVarbit,
    bit_width,
)
from .typeenv import GlobalEnv, fold_binary
from .values import (
    ConstV,
    DynFieldV,
    DynHeaderV,
    ExprV,
    FieldV,
    HeaderV,
    ListV,
    ObjV,
    RuntimeV,
    StackV,
    StructV,
    UnionV,
    Val,
    bool_json,
    hexstr,
    mask,
    op,
)

_PRINTER = Printer()


def src_text(e) -> str:
    try:
        return _PRINTER.expr(e)
    except Exception:  # noqa: BLE001 - only used for names/source fragments
        return "?"


class Scope:
    def __init__(self, parent: Scope | None = None, env: GlobalEnv | None = None):
        self.parent = parent
        self.env = env if env is not None else (parent.env if parent else None)
        self.names: dict[str, object] = {}
        self.tvars: dict[str, PType] = {}

    def lookup(self, name: str):
        s = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def type_var(self, name: str):
        s = self
        while s is not None:
            if name in s.tvars:
                return s.tvars[name]
            s = s.parent
        return None

    def all_tvars(self) -> dict:
        out: dict = {}
        chain = []
        s = self
        while s is not None:
            chain.append(s)
            s = s.parent
        for s in reversed(chain):
            out.update(s.tvars)
        return out

    def child(self) -> Scope:
        return Scope(self)


def source_info(loc, text: str | None = None) -> dict | None:
    if loc is None:
        return None
    import os
    return {"filename": os.path.basename(loc.file), "line": loc.line, "column": loc.column,
            "source_fragment": text or ""}


class Lowerer:
    """Shared state of one compilation's lowering (owned by `bmv2.program`)."""

    def __init__(self, env: GlobalEnv, storage, program):
        self.env = env
        self.st = storage
        self.prog = program        # bmv2.program.ProgramBuilder (actions, calculations, ...)
        self.em: Emitter | None = None

    # ================================================================ types
    def rtype(self, t, scope: Scope) -> PType:
        return self.env.resolve(t, scope.all_tvars(), lambda e: self.const_of(e, scope))

    def const_of(self, e, scope: Scope):
        v = self.value(e, scope)
        if isinstance(v, ConstV):
            return v.value
        raise CompilerError(e.loc, f"{src_text(e)}: not a compile-time constant")

    # ================================================================ names
    def lookup(self, name: str, scope: Scope, loc=None):
        v = scope.lookup(name)
        if v is not None:
            return v
        d = self.env.lookup(name)
        if d is None:
            raise CompilerError(loc, f"{name}: not declared")
        return self.global_value(d, scope)

    def global_value(self, d, scope: Scope):
        if isinstance(d, A.ConstantDeclaration):
            t = self.rtype(d.type, scope)
            v = self.value(d.init, Scope(env=self.env), want=t)
            return self.convert(v, t, d.loc)
        if isinstance(d, A.ActionDeclaration):
            return ObjV("action", d, data=("", self.prog._global_scope()))
        if isinstance(d, A.FunctionDeclaration):
            return ObjV("function", d)
        if isinstance(d, A.ExternFunctionDeclaration):
            return ObjV("extern_function", d)
        if isinstance(d, A.Instantiation):
            return self.prog.global_instance(self, ObjV("global_instance", d))
        return ObjV("type", d)

    # ================================================================ values
    def value(self, e, scope: Scope, want: PType | None = None) -> Val:
        m = getattr(self, "v_" + type(e).__name__, None)
        if m is None:
            raise CompilerError(e.loc, f"unsupported expression {type(e).__name__}")
        return m(e, scope, want)

    def v_IntLiteral(self, e: A.IntLiteral, scope, want):
        if e.width is not None:
            t = TBits(e.width, e.signed)
            return ConstV(wrap(e.value, t), t)
        if want is not None and isinstance(want, (TBits, TSerEnum)):
            bt = want if isinstance(want, TBits) else want.base
            return ConstV(wrap(e.value, bt), bt)
        return ConstV(e.value, TInt())

    def v_BoolLiteral(self, e, scope, want):
        return ConstV(e.value, TBool())

    def v_StringLiteral(self, e, scope, want):
        return ConstV(e.value, TString())

    def v_PathExpression(self, e: A.PathExpression, scope, want):
        return self.lookup(e.path.name, scope, e.loc)

    def v_TypeNameExpression(self, e, scope, want):
        if isinstance(e.type, A.TypeName):
            return self.lookup(e.type.path.name, scope, e.loc)
        if isinstance(e.type, A.ErrorType):
            return ObjV("type", "error")
        return ObjV("type", e.type)

    def v_Member(self, e: A.Member, scope, want):
        if isinstance(e.expr, A.TypeNameExpression) and isinstance(e.expr.type, A.ErrorType):
            return self.error_const(e.member, e.loc)
        if isinstance(e.expr, A.PathExpression) and e.expr.path.name == "error" and scope.lookup("error") is None:
            return self.error_const(e.member, e.loc)
        # t.apply().hit / .miss / .action_run are handled by the statement lowerer
        if isinstance(e.expr, A.MethodCallExpression) and e.member in ("hit", "miss"):
            tbl = self.table_of_apply(e.expr, scope)
            if tbl is not None:
                return self.prog.table_hit_value(self, tbl, e.member, scope, e.loc)
        base = self.value(e.expr, scope)
        return self.member(base, e.member, e.loc, scope)

    def error_const(self, name: str, loc) -> ConstV:
        if name not in self.env.errors:
            raise CompilerError(loc, f"error.{name}: no such error")
        return ConstV(self.env.errors.index(name), TError())

    def member(self, base: Val, name: str, loc, scope=None) -> Val:
        if isinstance(base, StructV) or isinstance(base, HeaderV):
            if name in base.fields:
                return base.fields[name]
        elif isinstance(base, DynHeaderV):
            ft = base.t.field_type(name)
            if ft is not None:
                return DynFieldV(base, name, ft)
        elif isinstance(base, UnionV):
            if name in base.members:
                return base.members[name]
        elif isinstance(base, StackV):
            if name == "size":
                return ConstV(base.t.size, TBits(32))
            if name == "lastIndex":
                return ExprV(op("-", {"type": "expression", "value": {
                    "op": "last_stack_index", "left": None, "right": base.json()}}, hexstr(0)), TBits(32))
            if name in ("next", "last"):
                return ObjV("stack_" + name, base, t=base.t.element)
        elif isinstance(base, ObjV) and base.kind == "type":
            d = base.decl
            t = self.env.decl_type(d) if isinstance(d, A.Declaration) else None
            if isinstance(t, TEnum) and name in t.members:
                return ConstV(t.members.index(name), t)
            if isinstance(t, TSerEnum) and name in t.members:
                return ConstV(t.members[name], t)
            if d == "error":
                return self.error_const(name, loc)
        elif isinstance(base, ObjV) and base.kind in ("stack_last", "stack_next"):
            st = base.decl
            el = st.t.element
            ft = el.field_type(name) if isinstance(el, TStructLike) else None
            if st.union and ft is not None:
                return ObjV(base.kind + "_member", st, data=name, t=ft)
            if ft is not None and base.kind == "stack_last":
                return ExprV({"type": "stack_field", "value": [st.name, name]}, ft)
            if ft is not None:
                idx = {"type": "expression", "value": {"op": "last_stack_index", "left": None,
                                                       "right": st.json()}}
                return DynFieldV(DynHeaderV(st, op("+", idx, hexstr(1)), el), name, ft)
        elif isinstance(base, ConstV) and isinstance(base.value, dict):
            if name in base.value:
                return base.value[name]
        elif isinstance(base, ListV) and isinstance(base.t, TStructLike):
            for (fname, _), it in zip(base.t.fields, base.items):
                if fname == name:
                    return it
        raise CompilerError(loc, f"{name}: no such member")

    def v_ArrayIndex(self, e: A.ArrayIndex, scope, want):
        base = self.value(e.expr, scope)
        idx = self.value(e.index, scope)
        if isinstance(base, StackV):
            if isinstance(idx, ConstV):
                i = idx.value
                if not 0 <= i < len(base.elems):
                    raise CompilerError(e.loc, f"index {i} out of bounds")
                return base.elems[i]
            # evaluate the index once (P4 l-value semantics), and guard
            # accesses: out-of-bounds reads give 0, writes are ignored
            if not isinstance(idx, FieldV):
                tmp = self.st.new_scalar("tmp_idx", TBits(32))
                self.assign(tmp, self.convert(idx, TBits(32), e.loc), e.loc)
                idx = tmp
            else:
                tmp = self.st.new_scalar("tmp_idx", idx.t)
                self.assign(tmp, idx, e.loc)
                idx = tmp
            return DynHeaderV(base, self.data(idx), base.t.element)
        if isinstance(base, (ListV,)) and isinstance(idx, ConstV):
            return base.items[idx.value]
        if isinstance(base, StructV) and isinstance(base.t, TTuple) and isinstance(idx, ConstV):
            return base.fields[f"f{idx.value}"]
        raise CompilerError(e.loc, "unsupported array index")

    def v_Slice(self, e: A.Slice, scope, want):
        base = self.value(e.expr, scope)
        hi = self.const_of(e.hi, scope)
        lo = self.const_of(e.lo, scope)
        w = hi - lo + 1
        t = TBits(w)
        if isinstance(base, ConstV):
            return ConstV((base.value >> lo) & mask(w), t)
        j = self.data(base)
        if lo:
            j = op(">>", j, hexstr(lo))
        return ExprV(op("&", j, hexstr(mask(w), w)), t)

    def plus_to_slice(self, e: A.PlusSlice, scope) -> A.Slice:
        """`x[lo +: w]` with a constant `lo` is `x[lo + w - 1 : lo]`."""
        lo = self.const_of(e.lo, scope)
        w = self.const_of(e.width, scope)
        return A.Slice(e.expr, A.IntLiteral(lo + w - 1), A.IntLiteral(lo), loc=e.loc)

    def v_PlusSlice(self, e: A.PlusSlice, scope, want):
        lo = self.value(e.lo, scope)
        if isinstance(lo, ConstV):
            return self.v_Slice(self.plus_to_slice(e, scope), scope, want)
        # run-time start bit: (x >> lo) masked to w bits
        w = self.const_of(e.width, scope)
        base = self.value(e.expr, scope)
        return ExprV(op("&", op(">>", self.data(base), self.data(lo)), hexstr(mask(w), w)), TBits(w))

    def v_UnaryOp(self, e: A.UnaryOp, scope, want):
        v = self.value(e.expr, scope, want)
        if e.op == "!":
            if isinstance(v, ConstV):
                return ConstV(not v.value, TBool())
            return ExprV(op("not", None, self.boolj(v)), TBool())
        if e.op == "+":
            return v
        t = v.t
        if isinstance(v, ConstV):
            if e.op == "-":
                return ConstV(wrap(-v.value, t), t)
            if e.op == "~":
                return ConstV(wrap(~v.value, t), t)
        if isinstance(t, TSerEnum):
            t = t.base
        if e.op == "-":
            return ExprV(self.fit(op("-", hexstr(0), self.data(v)), t), t)
        if e.op == "~":
            return ExprV(self.fit(op("~", None, self.data(v)), t), t)
        raise CompilerError(e.loc, f"unsupported unary {e.op}")

    def fit(self, j: dict, t: PType) -> dict:
        """Reduce an arithmetic result to the value range of `t`."""
        if isinstance(t, TBits):
            if t.signed:
                return op("two_comp_mod", j, hexstr(t.width))
            return op("&", j, hexstr(mask(t.width), t.width))
        return j

    def v_BinaryOp(self, e: A.BinaryOp, scope, want):
        o = e.op
        if o in ("&&", "||"):
            l = self.value(e.left, scope)
            if isinstance(l, ConstV):
                if o == "&&" and not l.value:
                    return ConstV(False, TBool())
                if o == "||" and l.value:
                    return ConstV(True, TBool())
                return self.value(e.right, scope)
            r = self.value(e.right, scope)
            return ExprV(op("and" if o == "&&" else "or", self.boolj(l), self.boolj(r)), TBool())
        cmp = o in ("==", "!=", "<", ">", "<=", ">=")
        shift = o in ("<<", ">>")
        l = self.value(e.left, scope)
        if has_calls(e.right) and isinstance(l, (FieldV, ExprV, DynFieldV, RuntimeV)):
            tmp = self.st.new_scalar("tmp", l.t if not isinstance(l.t, TInt) else TBits(32))
            self.assign(tmp, l, e.loc)
            l = tmp
        r = self.value(e.right, scope)
        if not shift and o != "++":
            if isinstance(l.t, TInt) and not isinstance(r.t, TInt):
                l = self.value(e.left, scope, r.t)
            elif isinstance(r.t, TInt) and not isinstance(l.t, TInt):
                r = self.value(e.right, scope, l.t)
        elif shift and isinstance(l.t, TInt) and not isinstance(r, ConstV) and want is not None:
            l = self.value(e.left, scope, want)
        if o == "++":
            return self.concat(l, r, e.loc)
        lt, rt = l.t, r.t
        t = lt if not isinstance(lt, TInt) else rt
        if isinstance(t, TSerEnum):
            t = t.base
        if isinstance(l, ConstV) and isinstance(r, ConstV) and not isinstance(l.value, dict):
            if o in ("|+|", "|-|") and isinstance(t, TBits):
                v = l.value + r.value if o == "|+|" else l.value - r.value
                lo_, hi_ = ((-(1 << (t.width - 1)), (1 << (t.width - 1)) - 1) if t.signed
                            else (0, mask(t.width)))
                return ConstV(min(max(v, lo_), hi_), t)
            v = fold_binary(o, l.value, r.value)
            if v is None:
                raise CompilerError(e.loc, "cannot fold constant expression")
            if cmp:
                return ConstV(v, TBool())
            if o in ("|+|", "|-|"):
                pass
            else:
                return ConstV(wrap(v, t), t)
        if cmp:
            if isinstance(lt, (TStructLike, TStack, TTuple)) or isinstance(l, (HeaderV, StructV, ListV, UnionV, StackV)):
                return self.struct_equal(l, r, o, e.loc)
            if isinstance(lt, TBool) or isinstance(rt, TBool):
                return ExprV(op(o, self.boolj(l), self.boolj(r)), TBool())
            return ExprV(op(o, self.data(l), self.data(r)), TBool())
        if shift:
            t = lt
            if isinstance(t, TInt):
                raise CompilerError(e.loc, "shift of an arbitrary-precision integer by a run-time value")
            rj = self.data(r)
            if isinstance(r, ConstV) and isinstance(t, TBits) and r.value >= t.width:
                if o == "<<" or not t.signed:
                    return ConstV(0, t)
            j = op(o, self.data(l), rj)
            return ExprV(self.fit(j, t) if o == "<<" else j, t)
        if o in ("+", "-", "*"):
            return ExprV(self.fit(op(o, self.data(l), self.data(r)), t), t)
        if o in ("/", "%"):
            return ExprV(op(o, self.data(l), self.data(r)), t)
        if o in ("&", "|", "^"):
            return ExprV(op(o, self.data(l), self.data(r)), t)
        if o in ("|+|", "|-|"):
            inner = op("+" if o == "|+|" else "-", self.data(l), self.data(r))
            return ExprV(op("sat_cast" if t.signed else "usat_cast", inner, hexstr(t.width)), t)
        raise CompilerError(e.loc, f"unsupported operator {o}")

    def concat(self, l: Val, r: Val, loc) -> Val:
        lw, rw = bit_width(l.t), bit_width(r.t)
        t = TBits(lw + rw, isinstance(l.t, TBits) and l.t.signed)
        if isinstance(l, ConstV) and isinstance(r, ConstV):
            return ConstV(((l.value & mask(lw)) << rw) | (r.value & mask(rw)), t)
        lj = self.data(l)
        if isinstance(l.t, TBits) and l.t.signed:
            lj = op("&", lj, hexstr(mask(lw), lw))
        rj = self.data(r)
        if isinstance(r.t, TBits) and r.t.signed:
            rj = op("&", rj, hexstr(mask(rw), rw))
        j = op("|", op("&", op("<<", lj, hexstr(rw)), hexstr(mask(lw + rw), lw + rw)), rj)
        if t.signed:
            j = op("two_comp_mod", j, hexstr(t.width))
        return ExprV(j, t)

    def struct_equal(self, l: Val, r: Val, o: str, loc) -> Val:
        parts = []
        if isinstance(l, HeaderV) and isinstance(r, HeaderV):
            vl = op("d2b", None, {"type": "field", "value": [l.name, "$valid$"]})
            vr = op("d2b", None, {"type": "field", "value": [r.name, "$valid$"]})
            fields_eq = [op("==", self.data(l.fields[f]), self.data(r.fields[f])) for f, _ in l.t.fields]
            both_valid = op("and", vl, vr)
            eq = both_valid
            for f in fields_eq:
                eq = op("and", eq, f)
            none_valid = op("and", op("not", None, vl), op("not", None, vr))
            res = op("or", eq, none_valid)
        else:
            litems = self.components(l)
            ritems = self.components(r)
            if len(litems) != len(ritems):
                raise CompilerError(loc, "cannot compare values of different shapes")
            for a, b in zip(litems, ritems):
                sub = self.struct_equal(a, b, "==", loc) if not _scalar_val(a) else \
                    ExprV(op("==", self.data(a) if not isinstance(a.t, TBool) else self.boolj(a),
                             self.data(b) if not isinstance(a.t, TBool) else self.boolj(b)), TBool())
                parts.append(self.boolj(sub))
            res = bool_json(True)
            for p in parts:
                res = p if res == bool_json(True) else op("and", res, p)
        if o == "!=":
            res = op("not", None, res)
        return ExprV(res, TBool())

    def components(self, v: Val) -> list:
        if isinstance(v, StructV):
            return list(v.fields.values())
        if isinstance(v, ListV):
            return list(v.items)
        if isinstance(v, StackV):
            return list(v.elems)
        if isinstance(v, UnionV):
            return list(v.members.values())
        return [v]

    def v_Mux(self, e: A.Mux, scope, want):
        c = self.value(e.cond, scope)
        if (has_calls(e.then) or has_calls(e.other)) and not isinstance(c, ConstV):
            return self.mux_with_effects(e, c, scope, want)
        a = self.value(e.then, scope)
        b = self.value(e.other, scope)
        if isinstance(a.t, TInt) and not isinstance(b.t, TInt):
            a = self.value(e.then, scope, b.t)
        elif isinstance(b.t, TInt) and not isinstance(a.t, TInt):
            b = self.value(e.other, scope, a.t)
        elif isinstance(a.t, TInt) and isinstance(b.t, TInt) and want is not None:
            a = self.value(e.then, scope, want)
            b = self.value(e.other, scope, want)
        if isinstance(c, ConstV):
            return a if c.value else b
        t = a.t if not isinstance(a.t, TInt) else b.t
        if isinstance(t, TBool):
            return ExprV({"type": "expression", "value": {"op": "?", "left": self.boolj(a),
                                                          "right": self.boolj(b), "cond": self.boolj(c)}}, t)
        if not _scalar_val(a):
            raise CompilerError(e.loc, "conditional operator on non-scalar values is not supported")
        return ExprV({"type": "expression", "value": {"op": "?", "left": self.data(a),
                                                      "right": self.data(b), "cond": self.boolj(c)}}, t)

    def mux_with_effects(self, e, c, scope, want):
        """`c ? a : b` where a branch calls something: only the chosen branch runs."""
        tok = self.em.begin_if(self.cond_json(c), e.loc)
        a = self.value(e.then, scope, want)
        t = a.t if not isinstance(a.t, TInt) else (want or TBits(32))
        tmp = self.st.alloc("tmp", t)
        self.assign(tmp, a, e.loc)
        self.em.begin_else(tok)
        self.assign(tmp, self.value(e.other, scope, t), e.loc)
        self.em.end_if(tok)
        return tmp

    def v_Cast(self, e: A.Cast, scope, want):
        t = self.rtype(e.type, scope)
        v = self.value(e.expr, scope, t if isinstance(t, (TBits, TSerEnum)) else None)
        return self.convert(v, t, e.loc, explicit=True)

    def convert(self, v: Val, t: PType, loc, explicit: bool = False) -> Val:
        """Value `v` as type `t` (implicit widening of int literals, casts)."""
        src = v.t
        if isinstance(t, (TStructLike, TStack, TTuple)) or t is None:
            if isinstance(v, ListV) and isinstance(t, TStructLike):
                return ListV(v.items, t)
            return v
        if isinstance(v, ConstV):
            if isinstance(t, TBool):
                return ConstV(bool(v.value), t)
            if isinstance(t, TBits):
                return ConstV(wrap(int(v.value), t), t)
            if isinstance(t, TSerEnum):
                return ConstV(wrap(int(v.value), t.base), t)
            if isinstance(t, TInt) and isinstance(v.value, int):
                return v
            return ConstV(v.value, t) if isinstance(v.value, (int, bool)) else v
        if isinstance(t, TBool):
            if isinstance(src, TBool):
                return v
            return ExprV(op("d2b", None, self.data(v)), t)
        if isinstance(t, (TBits, TSerEnum)):
            bt = t if isinstance(t, TBits) else t.base
            if isinstance(src, TBool):
                return ExprV(op("b2d", None, self.boolj(v)), t)
            sb = src.base if isinstance(src, TSerEnum) else src
            if not isinstance(sb, TBits):
                return _retype(v, t)
            if sb == bt:
                return _retype(v, t)
            j = self.data(v)
            if bt.signed:
                if not sb.signed and sb.width < bt.width:
                    return ExprV(j, t)
                return ExprV(op("two_comp_mod", j, hexstr(bt.width)), t)
            if not sb.signed and sb.width <= bt.width:
                return ExprV(j, t)
            return ExprV(op("&", j, hexstr(mask(bt.width), bt.width)), t)
        return _retype(v, t)

    def default_value(self, t: PType, loc) -> Val:
        """The P4 default value of a type (what `...` fills in): 0, false, the first enum
        member, error.NoError, invalid headers/unions, and field by field for structs/tuples."""
        if isinstance(t, (TBits, TSerEnum, TEnum)):
            return ConstV(0, t)
        if isinstance(t, TBool):
            return ConstV(False, t)
        if isinstance(t, TError):
            return ConstV(0, t)
        if isinstance(t, TStructLike):
            if t.kind in ("header", "union"):
                return ObjV("invalid", t=t)
            return ListV([self.default_value(ft, loc) for _, ft in t.fields], t)
        if isinstance(t, TTuple):
            return ListV([self.default_value(it, loc) for it in t.items], t)
        if isinstance(t, TStack):
            return ListV([ObjV("invalid", t=t.element) for _ in range(t.size)], t)
        raise CompilerError(loc, f"no default value for a value of type {t}")

    def v_ListExpression(self, e: A.ListExpression, scope, want):
        items = []
        wants = []
        if isinstance(want, TStructLike):
            wants = [ft for _, ft in want.fields]
        elif isinstance(want, TTuple):
            wants = list(want.items)
        elif isinstance(want, TStack):
            wants = [want.element] * want.size
        given = list(e.items)
        dots = bool(given) and isinstance(given[-1], A.Dots)
        if dots:
            given.pop()
        for i, it in enumerate(given):
            items.append(self.value(it, scope, wants[i] if i < len(wants) else None))
        if dots:     # `{a, b, ...}`: the remaining elements get default values
            items.extend(self.default_value(wt, e.loc) for wt in wants[len(given):])
        t = want if isinstance(want, (TStructLike, TTuple, TStack)) else TTuple(tuple(x.t for x in items))
        return ListV(items, t)

    def v_StructExpression(self, e: A.StructExpression, scope, want):
        if isinstance(want, TStructLike):
            byname = {n.name: n for n in e.fields}
            dots = "..." in byname and isinstance(byname["..."].expr, A.Dots)
            items = []
            for fname, ft in want.fields:
                n = byname.get(fname)
                if n is None and dots:    # `{f = v, ...}`: the other fields get default values
                    items.append(self.default_value(ft, e.loc))
                    continue
                if n is None:
                    raise CompilerError(e.loc, f"missing field {fname}")
                items.append(self.value(n.expr, scope, ft))
            return ListV(items, want)
        items = [self.value(n.expr, scope) for n in e.fields]
        t = TStructLike("anon", [(n.name, v.t) for n, v in zip(e.fields, items)])
        return ListV(items, t)

    def v_InvalidExpression(self, e, scope, want):
        return ObjV("invalid", t=want)

    def v_DefaultExpression(self, e, scope, want):
        return ObjV("default", t=want)

    def v_MethodCallExpression(self, e: A.MethodCallExpression, scope, want):
        from .calls import lower_call
        r = lower_call(self, e, scope, want, as_expr=True)
        if r is None:
            raise CompilerError(e.loc, f"{src_text(e)}: does not return a value")
        return r

    def table_of_apply(self, call: A.MethodCallExpression, scope):
        m = call.method
        if isinstance(m, A.Member) and m.member == "apply":
            try:
                base = self.value(m.expr, scope)
            except CompilerError:
                return None
            if isinstance(base, ObjV) and base.kind == "table":
                return base
        return None

    # ================================================================ JSON forms
    def data(self, v: Val) -> dict:
        """`v` as a BMv2 data expression (bools converted with b2d)."""
        if isinstance(v, ConstV):
            if isinstance(v.value, bool):
                return op("b2d", None, bool_json(v.value))
            if not isinstance(v.value, int):
                raise CompilerError(None, f"constant {v.value!r} is not an integer")
            w = bit_width(v.t) if not isinstance(v.t, TInt) else None
            return hexstr(v.value, w)
        if isinstance(v, FieldV):
            return v.json()
        if isinstance(v, RuntimeV):
            return v.json()
        if isinstance(v, DynFieldV):
            return {"type": "expression", "value": {"op": "?", "left": v.expr(), "right": hexstr(0),
                                                    "cond": dyn_guard(v.hdr)}}
        if isinstance(v, ExprV):
            if isinstance(v.t, TBool):
                return op("b2d", None, v.j)
            return v.j
        if isinstance(v, ObjV) and v.kind == "lookahead":
            return v.data
        raise CompilerError(None, f"value {type(v).__name__} is not a scalar")

    def data_lv(self, v: Val) -> dict:
        """JSON of a scalar l-value (destination of an extern's out argument)."""
        if isinstance(v, FieldV):
            return v.json()
        if isinstance(v, DynFieldV):
            return v.expr()
        raise CompilerError(None, f"{type(v).__name__} is not a scalar l-value")

    def boolj(self, v: Val) -> dict:
        """`v` as a BMv2 boolean expression."""
        if isinstance(v, ConstV):
            return bool_json(bool(v.value))
        if isinstance(v, (FieldV, RuntimeV, DynFieldV)):
            return op("d2b", None, self.data(v))
        if isinstance(v, ExprV):
            if isinstance(v.t, TBool):
                return v.j
            return op("d2b", None, v.j)
        raise CompilerError(None, f"value {type(v).__name__} is not a boolean")

    def cond_json(self, v: Val) -> dict:
        j = self.boolj(v)
        if j.get("type") == "expression":
            return j
        return op("d2b", None, op("b2d", None, j)) if j.get("type") == "bool" else j

    # ================================================================ assignment
    def assign(self, dst: Val, src: Val, loc, text: str = "") -> None:
        em = self.em
        if isinstance(src, ObjV) and src.kind == "stack_last" and not src.decl.union:
            st = src.decl
            idx = {"type": "expression", "value": {"op": "last_stack_index", "left": None, "right": st.json()}}
            src = DynHeaderV(st, idx, st.t.element)
        if isinstance(dst, (DynFieldV, DynHeaderV)) and not getattr(dst, "_guarded", False):
            h = dst.hdr if isinstance(dst, DynFieldV) else dst
            tok = em.begin_if(dyn_guard(h), loc)
            g = DynFieldV(dst.hdr, dst.field, dst.t) if isinstance(dst, DynFieldV) else \
                DynHeaderV(dst.stack, dst.index, dst.t)
            g._guarded = True
            self.assign(g, src, loc, text)
            em.end_if(tok)
            return
        if isinstance(dst, SliceLV) and dst.dyn_lo is not None:
            self.store_dyn_slice(dst.base, dst.dyn_lo, dst.t.width, src, loc, text)
            return
        if isinstance(dst, SliceLV):
            sc = Scope(env=self.env)
            sc.names["$src"] = src
            sc.names["$base"] = dst.base
            self.slice_assign(A.AssignmentStatement(
                A.Slice(A.PathExpression(A.Path("$base")), A.IntLiteral(dst.hi), A.IntLiteral(dst.lo)),
                A.PathExpression(A.Path("$src")), loc=loc), sc)
            return
        si = source_info(loc, text)
        if isinstance(dst, ObjV) and dst.kind == "default":
            return
        if isinstance(dst, (FieldV, DynFieldV)):
            if isinstance(src, ObjV) and src.kind == "default":
                return
            dj = dst.json() if isinstance(dst, FieldV) else dst.expr()
            src = self.convert(src, dst.t, loc)
            if isinstance(dst.t, TVarbit):
                p = {"op": "assign_VL", "parameters": [dj, self.data(src)]}
            else:
                sj = self.data(src)
                p = {"op": "assign", "parameters": [dj, sj]}
            if si:
                p["source_info"] = si
            em.prim(p)
            return
        if isinstance(dst, (HeaderV, DynHeaderV)):
            dj = dst.json() if isinstance(dst, HeaderV) else dst.expr()
            if isinstance(src, ObjV) and src.kind == "invalid":
                em.prim(_p("remove_header", [dj], si))
                return
            if isinstance(src, (HeaderV, DynHeaderV)):
                sj = src.json() if isinstance(src, HeaderV) else src.expr()
                em.prim(_p("assign_header", [dj, sj], si))
                return
            if isinstance(src, ListV):
                em.prim(_p("add_header", [dj], si))
                for (fname, ft), it in zip(dst.t.fields, src.items):
                    self.assign(self.member(dst, fname, loc), it, loc, text)
                return
        if isinstance(dst, UnionV):
            if isinstance(src, UnionV):
                em.prim(_p("assign_union", [dst.json(), src.json()], si))
                return
            if isinstance(src, ObjV) and src.kind == "invalid":
                for h in dst.members.values():
                    em.prim(_p("remove_header", [h.json()], si))
                return
        if isinstance(dst, StackV) and isinstance(src, StackV):
            em.prim(_p("assign_union_stack" if dst.union else "assign_header_stack",
                       [dst.json(), src.json()], si))
            return
        if isinstance(dst, StructV):
            if isinstance(src, StructV):
                for k, dv in dst.fields.items():
                    self.assign(dv, src.fields[k], loc, text)
                return
            if isinstance(src, ListV):
                for dv, sv in zip(dst.fields.values(), src.items):
                    self.assign(dv, sv, loc, text)
                return
            if isinstance(src, ObjV) and src.kind in ("default", "invalid"):
                return
        if isinstance(dst, StackV) and isinstance(src, ListV):
            for dv, sv in zip(dst.elems, src.items):
                self.assign(dv, sv, loc, text)
            return
        raise CompilerError(loc, f"cannot assign {type(src).__name__} to {type(dst).__name__}")

    # ================================================================ statements
    def stmt(self, s, scope: Scope) -> None:
        em = self.em
        if not em.reachable:
            return
        diags = getattr(self.prog, "diags", None)
        if diags is not None and s.loc is not None:
            diags.current = s.loc        # where an internal failure is reported
        m = getattr(self, "s_" + type(s).__name__, None)
        if m is None:
            raise CompilerError(s.loc, f"unsupported statement {type(s).__name__}")
        m(s, scope)

    def s_BlockStatement(self, s: A.BlockStatement, scope):
        inner = scope.child()
        for c in s.components:
            self.stmt(c, inner)

    def s_EmptyStatement(self, s, scope):
        pass

    def s_AssignmentStatement(self, s: A.AssignmentStatement, scope):
        if isinstance(s.left, A.PlusSlice):
            lo = self.value(s.left.lo, scope)
            if not isinstance(lo, ConstV):
                return self.dyn_slice_assign(s, lo, scope)
            s = dataclasses.replace(s, left=self.plus_to_slice(s.left, scope))
        if isinstance(s.left, A.Slice):
            return self.slice_assign(s, scope)
        dst = self.value(s.left, scope)
        if s.op != "=":
            bop = s.op[:-1]
            sc = scope.child()
            sc.names["$lhs"] = dst
            rhs = self.value(A.BinaryOp(bop, A.PathExpression(A.Path("$lhs"), loc=s.loc), s.right,
                                        loc=s.loc), sc, dst.t)
        else:
            rhs = self.value(s.right, scope, dst.t)
        self.assign(dst, rhs, s.loc, src_text(s.left) + " " + s.op + " " + src_text(s.right))

    def slice_assign(self, s: A.AssignmentStatement, scope):
        hi = self.const_of(s.left.hi, scope)
        lo = self.const_of(s.left.lo, scope)
        inner = s.left.expr
        # `x[a:b][c:d] = e` writes bits [b+c : b+d] of x: fold nested
        # constant slices down to one slice of the innermost l-value.
        while True:
            if isinstance(inner, A.PlusSlice) and isinstance(self.value(inner.lo, scope), ConstV):
                inner = self.plus_to_slice(inner, scope)
            if not isinstance(inner, A.Slice):
                break
            base_lo = self.const_of(inner.lo, scope)
            hi, lo = hi + base_lo, lo + base_lo
            inner = inner.expr
        base = self.value(inner, scope)
        w = hi - lo + 1
        if s.op != "=":
            rhs = self.value(A.BinaryOp(s.op[:-1], s.left, s.right, loc=s.loc), scope, TBits(w))
        else:
            rhs = self.value(s.right, scope, TBits(w))
        rhs = self.convert(rhs, TBits(w), s.loc)
        bw = bit_width(base.t)
        keep = mask(bw) & ~(mask(w) << lo)
        new = op("|", op("&", self.data(base), hexstr(keep, bw)),
                 op("&", op("<<", self.data(rhs), hexstr(lo)), hexstr((mask(w) << lo) & mask(bw), bw)))
        self.assign(base, ExprV(new, base.t if not isinstance(base.t, TBool) else TBits(1)), s.loc,
                    src_text(s.left) + " = " + src_text(s.right))

    def dyn_slice_lo(self, lo: Val, loc) -> Val:
        """The run-time start bit of `x[lo +: w]` as an l-value, copied to a
        temporary: P4 evaluates the l-value (and so `lo`) before the right-hand
        side, which may change what `lo` reads (a call with side effects)."""
        t = lo.t if isinstance(lo.t, TBits) else TBits(32)
        tmp = self.st.new_scalar("tmp", t)
        self.assign(tmp, self.convert(lo, t, loc), loc)
        return tmp

    def dyn_slice_assign(self, s: A.AssignmentStatement, lo: Val, scope):
        """`x[lo +: w] = e` (or `op=`) with a run-time `lo` (p4c's type checker
        makes any `+:` slice of an l-value an l-value)."""
        w = self.const_of(s.left.width, scope)
        lo = self.dyn_slice_lo(lo, s.loc)
        base = self.value(s.left.expr, scope)
        if s.op != "=":
            sc = scope.child()
            sc.names["$lo"] = lo
            cur = A.PlusSlice(s.left.expr, A.PathExpression(A.Path("$lo"), loc=s.loc), s.left.width, loc=s.loc)
            rhs = self.value(A.BinaryOp(s.op[:-1], cur, s.right, loc=s.loc), sc, TBits(w))
        else:
            rhs = self.value(s.right, scope, TBits(w))
        self.store_dyn_slice(base, lo, w, rhs, s.loc, src_text(s.left) + " " + s.op + " " + src_text(s.right))

    def store_dyn_slice(self, base: Val, lo: Val, w: int, rhs: Val, loc, text: str) -> None:
        """base = (base & ~m) | ((rhs << lo) & m), m = (ones(w) << lo) truncated
        to base's width: bits shifted past the top are dropped, as the read
        `(base >> lo) & ones(w)` reads them as zero.  ``^ ones(bw)`` stands in
        for ``~`` to stay within non-negative values."""
        rhs = self.convert(rhs, TBits(w), loc)
        bw = bit_width(base.t)
        lo_j = self.data(lo)
        m = op("&", op("<<", hexstr(mask(w), bw), lo_j), hexstr(mask(bw), bw))
        keep = op("^", m, hexstr(mask(bw), bw))
        new = op("|", op("&", self.data(base), keep), op("&", op("<<", self.data(rhs), lo_j), m))
        self.assign(base, ExprV(new, base.t if not isinstance(base.t, TBool) else TBits(1)), loc, text)

    def s_VariableDeclaration(self, d: A.VariableDeclaration, scope):
        t = self.rtype(d.type, scope)
        loc_v = self.st.alloc(d.name, t)
        scope.names[d.name] = loc_v
        if isinstance(loc_v, (HeaderV,)) and d.init is None:
            self.em.prim({"op": "remove_header", "parameters": [loc_v.json()]})
        elif isinstance(loc_v, StructV) and d.init is None:
            for h in iter_headers(loc_v):
                self.em.prim({"op": "remove_header", "parameters": [h.json()]})
        if d.init is not None:
            v = self.value(d.init, scope, t)
            self.assign(loc_v, v, d.loc, f"{d.name} = {src_text(d.init)}")

    def s_ConstantDeclaration(self, d: A.ConstantDeclaration, scope):
        t = self.rtype(d.type, scope)
        v = self.convert(self.value(d.init, scope, t), t, d.loc)
        if not isinstance(v, ConstV):
            tmp = self.st.alloc(d.name, t)
            self.assign(tmp, v, d.loc)
            v = tmp
        scope.names[d.name] = v

    def s_IfStatement(self, s: A.IfStatement, scope):
        from .calls import table_apply_if
        if self.em.kind == "graph" and table_apply_if(self, s, scope):
            return
        c = self.value(s.cond, scope)
        if isinstance(c, ConstV):
            if c.value:
                self.stmt(s.then, scope.child())
            elif s.other is not None:
                self.stmt(s.other, scope.child())
            return
        tok = self.em.begin_if(self.cond_json(c), s.loc)
        self.stmt(s.then, scope.child())
        if s.other is not None:
            self.em.begin_else(tok)
            self.stmt(s.other, scope.child())
        self.em.end_if(tok)

    def s_MethodCallStatement(self, s: A.MethodCallStatement, scope):
        from .calls import lower_call
        lower_call(self, s.call, scope, None, as_expr=False)

    def s_ExitStatement(self, s, scope):
        self.em.do_exit(s.loc)

    def s_ReturnStatement(self, s: A.ReturnStatement, scope):
        if s.expr is not None:
            ret = scope.lookup("$return")
            v = self.value(s.expr, scope, ret.t if ret is not None else None)
            if ret is not None:
                self.assign(ret, v, s.loc)
        self.em.do_return(s.loc)

    def s_SwitchStatement(self, s: A.SwitchStatement, scope):
        from .calls import lower_switch
        lower_switch(self, s, scope)

    def s_ForStatement(self, s: A.ForStatement, scope):
        from .calls import lower_for
        lower_for(self, s, scope)

    def s_ForInStatement(self, s, scope):
        from .calls import lower_for_in
        lower_for_in(self, s, scope)

    def s_BreakStatement(self, s, scope):
        from .calls import loop_jump
        loop_jump(self, s, "break")

    def s_ContinueStatement(self, s, scope):
        from .calls import loop_jump
        loop_jump(self, s, "continue")

    # declarations allowed in blocks
    def s_Instantiation(self, d, scope):
        raise CompilerError(d.loc, "instantiation inside a block is not supported")


class SliceLV(Val):
    """`x[hi:lo]` used as an out/inout argument."""

    def __init__(self, base, hi, lo, dyn_lo: Val | None = None):
        # dyn_lo: the run-time start bit of `x[lo +: w]` (then lo = 0, hi = w - 1)
        self.base, self.hi, self.lo, self.dyn_lo = base, hi, lo, dyn_lo
        self.t = TBits(hi - lo + 1)


def _p(o: str, params: list, si) -> dict:
    p = {"op": o, "parameters": params}
    if si:
        p["source_info"] = si
    return p


def _retype(v: Val, t: PType) -> Val:
    if isinstance(v, FieldV):
        return ExprV(v.json(), t) if not isinstance(v.t, TBool) else ExprV(op("b2d", None, op("d2b", None, v.json())), t)
    if isinstance(v, ExprV):
        return ExprV(v.j, t)
    if isinstance(v, RuntimeV):
        return RuntimeV(v.index, t)
    if isinstance(v, ConstV):
        return ConstV(v.value, t)
    if isinstance(v, DynFieldV):
        return ExprV({"type": "expression", "value": {"op": "?", "left": v.expr(), "right": hexstr(0),
                                                      "cond": dyn_guard(v.hdr)}}, t)
    return v


def _scalar_val(v: Val) -> bool:
    return isinstance(v, (FieldV, ConstV, ExprV, RuntimeV, DynFieldV)) and not isinstance(v.t, (TStructLike, TStack, TTuple))


def wrap(value, t: PType):
    """`value` reduced to type `t` (two's complement for signed)."""
    if isinstance(value, bool) or not isinstance(t, TBits):
        return value
    v = value & mask(t.width)
    if t.signed and v >> (t.width - 1):
        v -= 1 << t.width
    return v


_PURE_METHODS = {"isValid", "lookahead_no"}


def dyn_guard(h: DynHeaderV) -> dict:
    return op("<", h.index, hexstr(h.stack.t.size))


def has_calls(e) -> bool:
    """Does evaluating `e` call a function/extern (possible side effects)?"""
    for n in e.walk():
        if isinstance(n, A.MethodCallExpression):
            m = n.method
            if isinstance(m, A.Member) and m.member in _PURE_METHODS:
                continue
            return True
    return False


def iter_headers(v: Val):
    if isinstance(v, HeaderV):
        yield v
    elif isinstance(v, StructV):
        for x in v.fields.values():
            yield from iter_headers(x)
    elif isinstance(v, StackV):
        for x in v.elems:
            yield from iter_headers(x)
    elif isinstance(v, UnionV):
        for x in v.members.values():
            yield x
