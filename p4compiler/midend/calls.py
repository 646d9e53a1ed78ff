"""Method calls, inlining (actions, functions, sub-controls), table applies,
switch statements and loops.

Why inlining with explicit temporaries: BMv2 has no calls; P4's copy-in /
copy-out semantics (arguments evaluated left to right, `out`/`inout` written
back after the body) are reproduced by copying through fresh storage.
"""
from __future__ import annotations

import dataclasses

from .. import ast as A
from ..diagnostics import CompilerError
from .lower import Scope, _p, iter_headers, source_info, src_text
from .ptypes import (
    TBits,
    TBool,
    TEnum,
    TInt,
    TStack,
    TStructLike,
    TVarbit,
    TVoid,
    bit_width,
)
from .values import (
    ConstV,
    DynHeaderV,
    ExprV,
    FieldV,
    HeaderV,
    ListV,
    ObjV,
    StackV,
    StructV,
    UnionV,
    hexstr,
    is_location,
    op,
)

HASH_ALGOS = {"crc32": "crc32", "crc32_custom": "crc32_custom", "crc16": "crc16",
              "crc16_custom": "crc16_custom", "random": "random", "identity": "identity",
              "csum16": "csum16", "xor16": "xor16"}


def match_args(params: list, args: list, loc) -> dict:
    """Map parameter name -> argument expression (positional or named; defaults)."""
    out: dict = {}
    pos = 0
    for a in args:
        if a.name is not None:
            out[a.name] = a.expr
        else:
            if pos >= len(params):
                raise CompilerError(loc, "too many arguments")
            out[params[pos].name] = a.expr
            pos += 1
    for p in params:
        if p.name not in out and p.default is not None:
            out[p.name] = p.default
    return out


def bind_params(lw, params, args, call_scope: Scope, inner: Scope, loc, *, alias: bool,
                skip_directionless: bool = False) -> list:
    """Bind `params` in `inner`; returns the copy-out list [(dst, tmp)].
    `alias`: bind location arguments directly (sub-controls/table actions)
    unless two arguments overlap and one is written (then copy, as P4 says)."""
    amap = match_args(params, args, loc)
    if alias and _args_overlap(params, amap):
        alias = False
    copy_out = []
    for p in params:
        a = amap.get(p.name)
        if a is None:
            if p.direction == "" and skip_directionless:
                continue
            if p.direction == "out":
                try:
                    t = lw.rtype(p.type, inner)
                except CompilerError:
                    continue
                inner.names[p.name] = lw.st.alloc(p.name, t)
                continue
            raise CompilerError(loc, f"missing argument for {p.name}")
        try:
            t = lw.rtype(p.type, inner)
        except CompilerError:
            t = None
        if isinstance(a, A.DefaultExpression) and a.dontcare and p.direction == "out":
            inner.names[p.name] = lw.st.alloc(p.name, t)
            continue
        if p.direction in ("", "in"):
            v = lw.value(a, call_scope, t)
            if t is None:
                t = v.t
                _bind_tvar(inner, p.type, t)
            v = lw.convert(v, t, loc)
            if isinstance(v, (ConstV, ObjV)) or (alias and is_location(v)):
                inner.names[p.name] = v
            else:
                tmp = lw.st.alloc(p.name, t)
                lw.assign(tmp, v, loc)
                inner.names[p.name] = tmp
        else:
            dyn = None
            if isinstance(a, A.PlusSlice):
                lo_v = lw.value(a.lo, call_scope)
                if isinstance(lo_v, ConstV):
                    a = lw.plus_to_slice(a, call_scope)
                else:
                    from .lower import SliceLV
                    w = lw.const_of(a.width, call_scope)
                    dyn = SliceLV(lw.value(a.expr, call_scope), w - 1, 0, lw.dyn_slice_lo(lo_v, loc))
            if dyn is not None:
                dst = dyn
            elif isinstance(a, A.Slice):
                from .lower import SliceLV
                dst = SliceLV(lw.value(a.expr, call_scope), lw.const_of(a.hi, call_scope),
                              lw.const_of(a.lo, call_scope))
            else:
                dst = lw.value(a, call_scope)
            if t is None:
                t = dst.t
                _bind_tvar(inner, p.type, t)
            if isinstance(dst, SliceLV_) and p.direction == "inout":
                tmp = lw.st.alloc(p.name, dst.t)
                v = lw.value(a, call_scope)
                lw.assign(tmp, v, loc)
                inner.names[p.name] = tmp
                copy_out.append((dst, tmp))
                continue
            if alias and is_location(dst):
                inner.names[p.name] = dst
                continue
            tmp = lw.st.alloc(p.name, t if t is not None else dst.t)
            if p.direction == "inout":
                lw.assign(tmp, dst, loc)
            else:
                for h in iter_headers(tmp):
                    lw.em.prim({"op": "remove_header", "parameters": [h.json()]})
            inner.names[p.name] = tmp
            copy_out.append((dst, tmp))
    return copy_out


from .lower import SliceLV as SliceLV_


def _arg_root(e):
    """Source text of the l-value root of an argument, per path component."""
    parts = []
    while True:
        if isinstance(e, A.Member):
            parts.append(e.member)
            e = e.expr
        elif isinstance(e, (A.ArrayIndex, A.Slice, A.PlusSlice)):
            parts.append("[]")
            e = e.expr
        elif isinstance(e, A.PathExpression):
            parts.append(e.path.name)
            return tuple(reversed(parts))
        else:
            return None


def _args_overlap(params, amap) -> bool:
    written, others = [], []
    for p in params:
        e = amap.get(p.name)
        if e is None:
            continue
        r = _arg_root(e)
        if r is None:
            continue
        (written if p.direction in ("out", "inout") else others).append(r)
    def overlap(a, b):
        n = min(len(a), len(b))
        return all(x == y or "[]" in (x, y) for x, y in zip(a[:n], b[:n]))
    for i, a in enumerate(written):
        for b in written[i + 1:] + others:
            if overlap(a, b):
                return True
    return False


def _bind_tvar(scope: Scope, ptype, t) -> None:
    if isinstance(ptype, A.TypeName):
        scope.tvars[ptype.path.name] = t


def check_no_table_apply(lw, args, scope) -> None:
    """p4c (BMv2) rejects `t.apply()` inside the arguments of an action call."""
    for a in args or ():
        for n in a.expr.walk():
            if isinstance(n, A.MethodCallExpression) and lw.table_of_apply(n, scope) is not None:
                raise CompilerError(n.loc, f"{src_text(n)}: table invocation in action argument",
                                    kind="unsupported")


def inline_body(lw, decl, params, args, def_scope: Scope, call_scope: Scope, loc, *,
                ret_type=None, alias=False):
    inner = Scope(def_scope)
    if getattr(decl, "type_params", None):
        for tp in decl.type_params:
            inner.tvars.setdefault(tp.name, None)
    copy_out = bind_params(lw, params, args, call_scope, inner, loc, alias=alias)
    ret = None
    if ret_type is not None:
        rt = lw.rtype(ret_type, inner)
        if not isinstance(rt, TVoid):
            ret = lw.st.alloc("retval", rt)
            inner.names["$return"] = ret
    em = lw.em
    tok = em.push_return()

    def copy_out_on_exit():
        for dst, tmp in copy_out:
            lw.assign(dst, tmp, loc)
    em.push_exit(copy_out_on_exit)
    lw.stmt(decl.body, inner)
    em.pop_return(tok)
    exits = em.pop_exit()
    for dst, tmp in copy_out:
        lw.assign(dst, tmp, loc)
    if exits and copy_out:
        saved = em.begin_exit_path(exits)
        for dst, tmp in copy_out:
            lw.assign(dst, tmp, loc)
        em.end_exit_path(saved)
    elif exits:
        saved = em.begin_exit_path(exits)
        em.end_exit_path(saved)
    return ret


def lower_call(lw, call: A.MethodCallExpression, scope: Scope, want, as_expr: bool):
    m = call.method
    si = source_info(call.loc, src_text(call))
    em = lw.em
    if isinstance(m, A.Member):
        name = m.member
        base = lw.value(m.expr, scope)
        if isinstance(base, (HeaderV, DynHeaderV)):
            hj = base.json() if isinstance(base, HeaderV) else base.expr()
            if name == "isValid":
                if isinstance(base, HeaderV):
                    return ExprV(op("d2b", None, {"type": "field", "value": [base.name, "$valid$"]}), TBool())
                return ExprV(op("valid", None, hj), TBool())
            if name == "setValid":
                em.prim(_p("add_header", [hj], si))
                return None
            if name == "setInvalid":
                em.prim(_p("remove_header", [hj], si))
                return None
        if isinstance(base, UnionV) and name == "isValid":
            return ExprV(op("valid_union", None, base.json()), TBool())
        if isinstance(base, StackV) and name in ("push_front", "pop_front"):
            n = lw.const_of(call.args[0].expr, scope)
            em.prim(_p("push" if name == "push_front" else "pop", [base.json(), hexstr(n)], si))
            return None
        if name in ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes"):
            t = base.t if not (isinstance(base, ObjV) and base.kind == "type") else \
                lw.env.decl_type(base.decl) if isinstance(base.decl, A.Declaration) else None
            bits = _size_bits(t, name.startswith("max"))
            return ConstV(bits if name.endswith("Bits") else (bits + 7) // 8, TInt())
        if isinstance(base, ObjV) and base.kind == "global_instance":
            base = lw.prog.global_instance(lw, base)
        if isinstance(base, ObjV) and base.kind == "type" and isinstance(base.decl, A.ControlDeclaration) \
                and name == "apply":
            pre = getattr(lw, "cur_prefix", "")
            base = ObjV("instance", base.decl, data=(f"{pre}.{base.decl.name}" if pre else base.decl.name,
                                                     [], Scope(env=lw.env)))
        if isinstance(base, ObjV) and base.kind == "stack_last" and name == "isValid":
            st = base.decl
            idx = {"type": "expression", "value": {"op": "last_stack_index", "left": None, "right": st.json()}}
            return ExprV(op("valid", None, DynHeaderV(st, idx, st.t.element).expr()), TBool())
        if isinstance(base, ObjV):
            if base.kind == "table" and name == "apply":
                lw.prog.apply_table(lw, base, scope, call)
                return None
            if base.kind == "packet_in":
                return packet_in_call(lw, name, call, scope, si)
            if base.kind == "extern":
                return lw.prog.extern_method(lw, base, name, call, scope, si)
            if base.kind == "instance" and name == "apply":
                lw.prog.apply_instance(lw, base, call, scope)
                return None
        raise CompilerError(call.loc, f"unsupported method call {src_text(call)}")
    if isinstance(m, A.PathExpression):
        target = lw.lookup(m.path.name, scope, m.loc)
        if isinstance(target, ObjV):
            if target.kind == "action":
                d = target.decl
                if em.kind == "graph":          # a statement of an apply block: its own table
                    lw.prog.direct_action_call(lw, target, call, scope)
                    return None
                check_no_table_apply(lw, call.args, scope)
                prefix, dscope = target.data
                inline_body(lw, d, d.params, call.args, dscope, scope, call.loc)
                return None
            if target.kind == "function":
                d = target.decl
                for cand in lw.env.overloads(m.path.name):
                    if isinstance(cand, A.FunctionDeclaration) and len(cand.params) == len(call.args):
                        d = cand
                return inline_body(lw, d, d.params, call.args, Scope(env=lw.env), scope, call.loc,
                                   ret_type=d.return_type)
            if target.kind == "extern_function":
                return extern_function(lw, m.path.name, call, scope, si)
    raise CompilerError(call.loc, f"unsupported call {src_text(call)}")


def _leaf_fields(v):
    """Scalar fields of a (flattened) value in declaration order."""
    if isinstance(v, FieldV):
        yield v
    elif isinstance(v, HeaderV) or isinstance(v, StructV):
        for x in v.fields.values():
            yield from _leaf_fields(x)
    elif isinstance(v, StackV):
        for x in v.elems:
            yield from _leaf_fields(x)
    elif isinstance(v, UnionV):
        for x in v.members.values():
            yield from _leaf_fields(x)


def _size_bits(t, maximum: bool) -> int:
    if isinstance(t, TStructLike):
        return sum(_size_bits(ft, maximum) for _, ft in t.fields)
    if isinstance(t, TStack):
        return t.size * _size_bits(t.element, maximum)
    if isinstance(t, TVarbit):
        return t.max_width if maximum else 0
    return bit_width(t)


def packet_in_call(lw, name, call, scope, si):
    em = lw.em
    if name == "extract":
        a0 = call.args[0].expr
        if isinstance(a0, A.DefaultExpression):
            hv = lw.st.alloc("tmp_hdr", lw.rtype(call.type_args[0], scope))
        else:
            hv = lw.value(a0, scope)
        if isinstance(hv, ObjV) and hv.kind == "stack_next_member":
            target = {"type": "union_stack", "value": [hv.decl.name, hv.data]}
        elif isinstance(hv, ObjV) and hv.kind == "stack_next":
            st = hv.decl
            target = {"type": "union_stack" if st.union else "stack", "value": st.name}
        elif isinstance(hv, HeaderV):
            target = {"type": "regular", "value": hv.name}
        else:
            raise CompilerError(call.loc, "unsupported extract target")
        if len(call.args) == 2:
            ln = lw.value(call.args[1].expr, scope)
            em.prim({"op": "extract_VL", "parameters": [target, {"type": "expression", "value": lw.data(ln)}]})
        else:
            em.prim({"op": "extract", "parameters": [target]})
        return None
    if name == "lookahead":
        t = lw.rtype(call.type_args[0], scope)
        if isinstance(t, (TStructLike, TStack)):
            h = lw.st.alloc("tmp_lookahead", t)
            off = 0
            for hv in iter_headers(h):
                em.prim({"op": "add_header", "parameters": [hv.json()]})
            for fv in _leaf_fields(h):
                w = bit_width(fv.t)
                em.prim({"op": "set", "parameters": [fv.json(), {"type": "lookahead", "value": [off, w]}]})
                off += w
            return h
        w = bit_width(t)
        tmp = lw.st.new_scalar("tmp", t if not isinstance(t, TBool) else TBits(1))
        em.prim({"op": "set", "parameters": [tmp.json(), {"type": "lookahead", "value": [0, w]}]})
        if isinstance(t, TBool):
            return ExprV(op("d2b", None, tmp.json()), TBool())
        return tmp
    if name == "advance":
        v = lw.value(call.args[0].expr, scope, TBits(32))
        em.prim({"op": "advance", "parameters": [lw.data(v) if isinstance(v, ConstV) else
                                                  {"type": "expression", "value": lw.data(v)}]})
        return None
    if name == "length":
        return FieldV("standard_metadata", "packet_length", TBits(32))
    raise CompilerError(call.loc, f"packet_in.{name} is not supported")


def ordered_args(lw, name, call) -> list:
    """Argument expressions in the declared parameter order (named arguments)."""
    if not any(a.name for a in call.args):
        return [a.expr for a in call.args]
    for d in lw.env.overloads(name):
        proto = getattr(d, "prototype", None)
        if proto is None:
            continue
        names = {p.name for p in proto.params}
        if all(a.name in names for a in call.args if a.name):
            amap = match_args(proto.params, call.args, call.loc)
            return [amap[p.name] for p in proto.params if p.name in amap]
    return [a.expr for a in call.args]


def extern_function(lw, name, call, scope, si):
    em = lw.em
    args = ordered_args(lw, name, call)
    if name == "mark_to_drop":
        em.prim(_p("mark_to_drop", [{"type": "header", "value": "standard_metadata"}], si))
        return
    if name == "verify":
        c = lw.value(args[0], scope)
        e = lw.value(args[1], scope)
        em.prim({"op": "verify", "parameters": [lw.cond_json(c), lw.data(e)]})
        return
    if name in ("assert", "assume"):
        c = lw.value(args[0], scope)
        em.prim(_p(name, [lw.cond_json(c)], si))
        return
    if name == "random":
        dst = lw.value(args[0], scope)
        lo = lw.value(args[1], scope, dst.t)
        hi = lw.value(args[2], scope, dst.t)
        em.prim(_p("modify_field_rng_uniform", [lw.data_lv(dst), lw.data(lo), lw.data(hi)], si))
        return
    if name == "hash":
        dst = lw.value(args[0], scope)
        algo = lw.value(args[1], scope)
        base = lw.value(args[2], scope)
        data = lw.value(args[3], scope)
        mx = lw.value(args[4], scope)
        calc = lw.prog.new_calculation(lw, algo_name(algo), data, call.loc, si)
        bt = base.t if not isinstance(base.t, TInt) else TBits(32)
        mt = mx.t if not isinstance(mx.t, TInt) else TBits(32)
        em.prim(_p("modify_field_with_hash_based_offset",
                   [lw.data_lv(dst), lw.data(lw.convert(base, bt, call.loc)),
                    {"type": "calculation", "value": calc}, lw.data(lw.convert(mx, mt, call.loc))], si))
        return
    if name == "digest":
        recv = lw.value(args[0], scope, TBits(32))
        dt = lw.rtype(call.type_args[0], scope) if call.type_args else None
        data = lw.convert(lw.value(args[1], scope, dt), dt, call.loc) if dt is not None else lw.value(args[1], scope)
        ll = lw.prog.new_learn_list(lw, data, call)
        em.prim(_p("generate_digest", [lw.data(lw.convert(recv, TBits(32), call.loc)), hexstr(ll)], si))
        return
    if name in ("clone", "clone3", "clone_preserving_field_list"):
        kind = lw.value(args[0], scope)
        sess = lw.value(args[1], scope, TBits(32))
        fl = lw.prog.new_field_list_from_data(lw, ListV([], None)) if name == "clone" else 0
        if name == "clone3":
            fl = lw.prog.new_field_list_from_data(lw, lw.value(args[2], scope))
        elif name == "clone_preserving_field_list":
            fl = lw.prog.field_list_for_index(lw.const_of(args[2], scope))
        opn = "clone_ingress_pkt_to_egress" if kind.value == 0 else "clone_egress_pkt_to_egress"
        em.prim(_p(opn, [lw.data(lw.convert(sess, TBits(32), call.loc)), hexstr(fl)], si))
        return
    if name in ("resubmit", "recirculate", "resubmit_preserving_field_list",
                "recirculate_preserving_field_list"):
        base = name.split("_")[0]
        if name.endswith("field_list"):
            fl = lw.prog.field_list_for_index(lw.const_of(args[0], scope))
        else:
            fl = lw.prog.new_field_list_from_data(lw, lw.value(args[0], scope) if args else ListV([], None))
        em.prim(_p(base, [hexstr(fl)], si))
        return
    if name == "truncate":
        v = lw.value(args[0], scope, TBits(32))
        em.prim(_p("truncate", [lw.data(lw.convert(v, TBits(32), call.loc))], si))
        return
    if name == "log_msg":
        fmt = lw.value(args[0], scope)
        params = []
        if len(args) > 1:
            dv = lw.value(args[1], scope)
            for it in flatten_scalars(dv):
                params.append(lw.data(it))
        em.prim(_p("log_msg", [{"type": "string", "value": fmt.value},
                               {"type": "parameters_vector", "value": params}], si))
        return
    if name in ("verify_checksum", "update_checksum", "verify_checksum_with_payload",
                "update_checksum_with_payload"):
        lw.prog.checksum_call(lw, name, call, scope)
        return
    raise CompilerError(call.loc, f"extern function {name} is not supported")


def algo_name(v) -> str:
    if isinstance(v, ConstV) and isinstance(v.t, TEnum):
        return HASH_ALGOS.get(v.t.members[v.value], v.t.members[v.value])
    raise CompilerError(None, "hash algorithm must be a constant")


def flatten_scalars(v):
    if isinstance(v, ListV):
        for it in v.items:
            yield from flatten_scalars(it)
    elif isinstance(v, StructV):
        for it in v.fields.values():
            yield from flatten_scalars(it)
    elif isinstance(v, HeaderV):
        for it in v.fields.values():
            yield it
    else:
        yield v


# ---------------------------------------------------------------- tables in graphs

def table_apply_if(lw, s: A.IfStatement, scope) -> bool:
    """`if (t.apply().hit)` / `.miss` / negations: branch on the table's hit."""
    cond = s.cond
    neg = False
    while isinstance(cond, A.UnaryOp) and cond.op == "!":
        neg = not neg
        cond = cond.expr
    if not (isinstance(cond, A.Member) and cond.member in ("hit", "miss")
            and isinstance(cond.expr, A.MethodCallExpression)):
        return False
    tbl = lw.table_of_apply(cond.expr, scope)
    if tbl is None:
        return False
    if cond.member == "miss":
        neg = not neg
    tj = lw.prog.apply_table(lw, tbl, scope, cond.expr, hitmiss=True)
    em = lw.em
    first, second = ("__MISS__", "__HIT__") if neg else ("__HIT__", "__MISS__")
    em.dangling = [lambda n, t=tj, k=first: t["next_tables"].__setitem__(k, n)]
    em.open = None
    lw.stmt(s.then, scope.child())
    d1 = em.dangling
    em.dangling = [lambda n, t=tj, k=second: t["next_tables"].__setitem__(k, n)]
    em.open = None
    if s.other is not None:
        lw.stmt(s.other, scope.child())
    em.dangling = d1 + em.dangling
    em.open = None
    return True


def lower_switch(lw, s: A.SwitchStatement, scope) -> None:
    e = s.expr
    em = lw.em
    if (isinstance(e, A.Member) and e.member == "action_run"
            and isinstance(e.expr, A.MethodCallExpression) and em.kind == "graph"):
        tbl = lw.table_of_apply(e.expr, scope)
        if tbl is not None:
            tj = lw.prog.apply_table(lw, tbl, scope, e.expr)
            names = lw.prog.table_action_names(tbl)    # source action name -> JSON name
            ends = []
            covered = set()
            pending = []
            for case in s.cases:
                if isinstance(case.label, A.DefaultExpression):
                    labels = [n for n in tj["next_tables"] if n not in covered]
                else:
                    ln = case.label.path.name if isinstance(case.label, A.PathExpression) else src_text(case.label)
                    labels = [names.get(ln, ln)]
                pending.extend(labels)
                covered.update(labels)
                if case.body is None:
                    continue
                em.dangling = [(lambda n, t=tj, k=k: t["next_tables"].__setitem__(k, n)) for k in pending]
                em.open = None
                pending = []
                lw.stmt(case.body, scope.child())
                ends.extend(em.dangling)
            rest = [k for k in tj["next_tables"] if k not in covered]
            ends.extend((lambda n, t=tj, k=k: t["next_tables"].__setitem__(k, n)) for k in rest)
            em.dangling = ends
            em.open = None
            return
    # switch on a value: an if-chain
    v = lw.value(e, scope)
    if not isinstance(v, (ConstV,)) and not isinstance(v, FieldV):
        tmp = lw.st.alloc("switch_tmp", v.t if not isinstance(v.t, TInt) else TBits(32))
        lw.assign(tmp, v, s.loc)
        v = tmp
    groups = []
    pending = []
    for case in s.cases:
        pending.append(case.label)
        if case.body is not None:
            groups.append((pending, case.body))
            pending = []
    _switch_chain(lw, v, groups, scope, s.loc)


def _switch_chain(lw, v, groups, scope, loc):
    if not groups:
        return
    labels, body = groups[0]
    if any(isinstance(lb, A.DefaultExpression) for lb in labels):
        lw.stmt(body, scope.child())
        return
    cond = None
    for lb in labels:
        c = lw.value(lb, scope, v.t)
        j = op("==", lw.data(v), lw.data(lw.convert(c, v.t, loc)))
        cond = j if cond is None else op("or", cond, j)
    if isinstance(v, ConstV):
        if any(lw.value(lb, scope, v.t).value == v.value for lb in labels):
            lw.stmt(body, scope.child())
        else:
            _switch_chain(lw, v, groups[1:], scope, loc)
        return
    tok = lw.em.begin_if(cond, loc)
    lw.stmt(body, scope.child())
    if len(groups) > 1:
        lw.em.begin_else(tok)
        _switch_chain(lw, v, groups[1:], scope, loc)
    lw.em.end_if(tok)


# ---------------------------------------------------------------- loops

def lower_for(lw, s: A.ForStatement, scope) -> None:
    inner = scope.child()
    em = lw.em
    if em.kind == "action":
        for c in s.init:
            lw.stmt(c, inner)
        top = len(em.prims)
        loop = {"break": [], "continue": []}
        lw.loops = getattr(lw, "loops", [])
        lw.loops.append(loop)
        jz = None
        if s.cond is not None:
            c = lw.value(s.cond, inner)
            jz = em._jump(op("b2d", None, lw.boolj(c)))
        lw.stmt(s.body, inner.child())
        cont_target = len(em.prims)
        for u in s.update:
            lw.stmt(u, inner)
        j = em._jump()
        em._patch(j, top)
        end = len(em.prims)
        if jz is not None:
            em._patch(jz, end)
        for i in loop["break"]:
            em._patch(i, end)
        for i in loop["continue"]:
            em._patch(i, cont_target)
        lw.loops.pop()
        return
    # graph / parser: unroll with the loop variable as a compile-time constant
    _unroll(lw, s, inner)


def _jumps_in(st) -> bool:
    """Whether `st` holds a break/continue of the loop being lowered (not of a nested loop)."""
    if isinstance(st, (A.BreakStatement, A.ContinueStatement)):
        return True
    if isinstance(st, (A.ForStatement, A.ForInStatement)):
        return False
    return any(_jumps_in(c) for c in st.children() if isinstance(c, (A.Statement, A.SwitchCase)))


def _flag(name: str, loc) -> A.Expression:
    return A.PathExpression(A.Path(name), loc=loc)


def _guard_jumps(st):
    """Rewrite break/continue of an unrolled loop body into assignments of the flags
    `$brk` / `$cont`; every statement after one that may jump runs only while neither is set."""
    loc = st.loc
    if isinstance(st, A.BreakStatement):
        return A.AssignmentStatement(_flag("$brk", loc), A.BoolLiteral(True, loc=loc), loc=loc)
    if isinstance(st, A.ContinueStatement):
        return A.AssignmentStatement(_flag("$cont", loc), A.BoolLiteral(True, loc=loc), loc=loc)
    if isinstance(st, A.BlockStatement):
        out = []
        comps = list(st.components)
        for i, c in enumerate(comps):
            out.append(_guard_jumps(c) if isinstance(c, A.Statement) else c)
            if isinstance(c, A.Statement) and _jumps_in(c) and i + 1 < len(comps):
                rest = A.BlockStatement(comps[i + 1:], loc=loc)
                go = A.UnaryOp("!", A.BinaryOp("||", _flag("$brk", loc), _flag("$cont", loc), loc=loc), loc=loc)
                out.append(A.IfStatement(go, _guard_jumps(rest), loc=loc))
                break
        return dataclasses.replace(st, components=out)
    if isinstance(st, A.IfStatement):
        return dataclasses.replace(st, then=_guard_jumps(st.then),
                                   other=_guard_jumps(st.other) if st.other is not None else None)
    if isinstance(st, A.SwitchStatement):
        return dataclasses.replace(st, cases=[dataclasses.replace(c, body=_guard_jumps(c.body) if c.body else None)
                                              for c in st.cases])
    return st


class _UnrolledBody:
    """The body of one unrolled iteration: as written, or (when it breaks/continues)
    rewritten with run-time flags, since p4c's targets have no loops in pipelines and parsers."""

    def __init__(self, lw, body, scope: Scope, loc) -> None:
        self.lw, self.scope, self.loc = lw, scope, loc
        self.jumps = _jumps_in(body)
        self.body = _guard_jumps(body) if self.jumps else body
        if self.jumps:
            f = ConstV(False, TBool())
            scope.names["$brk"] = lw.st.alloc("brk", TBool())
            scope.names["$cont"] = lw.st.alloc("cont", TBool())
            lw.assign(scope.names["$brk"], f, loc)

    def run(self, body_scope: Scope) -> None:
        lw = self.lw
        if not self.jumps:
            lw.stmt(self.body, body_scope)
            return
        lw.assign(self.scope.names["$cont"], ConstV(False, TBool()), self.loc)
        guarded = A.IfStatement(A.UnaryOp("!", _flag("$brk", self.loc), loc=self.loc),
                                A.BlockStatement([self.body], loc=self.loc), loc=self.loc)
        lw.stmt(guarded, body_scope)


def _unroll(lw, s: A.ForStatement, inner: Scope) -> None:
    var_names = []
    for c in s.init:
        if isinstance(c, A.VariableDeclaration) and c.init is not None:
            t = lw.rtype(c.type, inner)
            inner.names[c.name] = lw.convert(lw.value(c.init, inner, t), t, c.loc)
            var_names.append(c.name)
        else:
            raise CompilerError(s.loc, "for loop cannot be unrolled (non-constant initialisation)")
    body = _UnrolledBody(lw, s.body, inner, s.loc)
    for _ in range(4096):
        if s.cond is not None:
            c = lw.value(s.cond, inner)
            if not isinstance(c, ConstV):
                raise CompilerError(s.loc, "for loop cannot be unrolled (condition not constant)")
            if not c.value:
                return
        body.run(inner.child())
        for u in s.update:
            if isinstance(u, A.AssignmentStatement) and isinstance(u.left, A.PathExpression) \
                    and u.left.path.name in var_names:
                cur = inner.names[u.left.path.name]
                if u.op != "=":
                    rhs = A.BinaryOp(u.op[:-1], u.left, u.right, loc=u.loc)
                else:
                    rhs = u.right
                nv = lw.convert(lw.value(rhs, inner, cur.t), cur.t, u.loc)
                if not isinstance(nv, ConstV):
                    raise CompilerError(s.loc, "for loop cannot be unrolled")
                inner.names[u.left.path.name] = nv
            else:
                raise CompilerError(s.loc, "for loop cannot be unrolled (update)")
    raise CompilerError(s.loc, "for loop does not terminate")


def lower_for_in(lw, s: A.ForInStatement, scope) -> None:
    inner = scope.child()
    coll = s.collection
    if isinstance(coll, A.Range):
        lo = lw.const_of(coll.lo, scope)
        hi = lw.const_of(coll.hi, scope)
        t = lw.rtype(s.decl.type, scope)
        values = [lw.convert(ConstV(i, TInt()), t, s.loc) for i in range(lo, hi + 1)]
    else:
        v = lw.value(coll, scope)
        values = lw.components(v)
    body = _UnrolledBody(lw, s.body, inner, s.loc)
    for val in values:
        body_scope = inner.child()
        body_scope.names[s.decl.name] = val
        body.run(body_scope)


def loop_jump(lw, s, kind: str) -> None:
    loops = getattr(lw, "loops", [])
    if not loops or lw.em.kind != "action":
        raise CompilerError(s.loc, f"{kind} outside of a loop (or in an unrolled loop)")
    loops[-1][kind].append(lw.em._jump())
