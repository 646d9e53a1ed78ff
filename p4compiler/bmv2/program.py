"""BMv2 JSON back end: instantiates the v1model package and assembles every
JSON section (parsers, deparsers, pipelines, actions, externs, checksums).

Why it drives the mid end: BMv2 objects (tables, actions, conditionals,
calculations) are created while bodies are lowered, so one builder owns both
the lowering state and the JSON sections; sections are assembled at the end.
"""
from __future__ import annotations

import os

from .. import ast as A
from ..diagnostics import CompilerError
from ..midend.calls import bind_params, flatten_scalars
from ..midend.emitters import ActionEmitter, GraphEmitter, ParserEmitter, table_next_setter
from ..midend.lower import Lowerer, Scope, iter_headers, source_info, src_text
from ..midend.ptypes import (
    TBits,
    TBool,
    TInt,
    TStructLike,
    bit_width,
)
from ..midend.storage import Storage
from ..midend.typeenv import GlobalEnv
from ..midend.values import (
    ConstV,
    ExprV,
    FieldV,
    HeaderV,
    ObjV,
    RuntimeV,
    StructV,
    UnionV,
    hexstr,
    mask,
    op,
)
from .naming import annotation_string, qualified_name

FIELD_ALIASES = [
    ["queueing_metadata.enq_timestamp", ["standard_metadata", "enq_timestamp"]],
    ["queueing_metadata.enq_qdepth", ["standard_metadata", "enq_qdepth"]],
    ["queueing_metadata.deq_timedelta", ["standard_metadata", "deq_timedelta"]],
    ["queueing_metadata.deq_qdepth", ["standard_metadata", "deq_qdepth"]],
    ["intrinsic_metadata.ingress_global_timestamp", ["standard_metadata", "ingress_global_timestamp"]],
    ["intrinsic_metadata.egress_global_timestamp", ["standard_metadata", "egress_global_timestamp"]],
    ["intrinsic_metadata.mcast_grp", ["standard_metadata", "mcast_grp"]],
    ["intrinsic_metadata.egress_rid", ["standard_metadata", "egress_rid"]],
    ["intrinsic_metadata.priority", ["standard_metadata", "priority"]],
]


class PipelineBuilder:
    def __init__(self, prog: ProgramBuilder, name: str, loc):
        self.prog = prog
        self.name = name
        self.json = {"name": name, "id": 0, "source_info": source_info(loc, name),
                     "init_table": None, "tables": [], "action_profiles": [], "conditionals": []}

    def entry_setter(self):
        return lambda n: self.json.__setitem__("init_table", n)

    def new_action_table(self, si):
        prog = self.prog
        base = "act"
        if si:
            base = "".join(ch for ch in os.path.splitext(si["filename"])[0] if ch.isalnum()) + f"l{si['line']}"
        aname = prog.unique_action_name(base)
        act = prog.add_action(aname, [], [])
        tname = prog.unique_table_name("tbl_" + aname)
        tbl = {"name": tname, "id": 0, "source_info": si, "key": [], "match_type": "exact",
               "type": "simple", "max_size": 1024, "with_counters": False, "support_timeout": False,
               "direct_meters": None, "action_ids": [act["id"]], "actions": [aname],
               "base_default_next": None, "next_tables": {aname: None},
               "default_entry": {"action_id": act["id"], "action_const": True, "action_data": [],
                                 "action_entry_const": True}}
        self.json["tables"].append(tbl)
        return act, tbl

    def new_conditional(self, cond_json, loc):
        name = f"node_{self.prog.next_node_id()}"
        node = {"name": name, "id": 0, "source_info": source_info(loc, ""),
                "expression": cond_json, "true_next": None, "false_next": None}
        self.json["conditionals"].append(node)
        return node


class TableState:
    def __init__(self, decl, prefix, scope):
        self.decl = decl
        self.prefix = prefix
        self.scope = scope
        self.json = None
        self.action_names: dict[str, str] = {}
        self.action_objs: dict[str, dict] = {}
        self.selector_inputs: list[dict] = []
        self.copies: list[dict] = []            # stand-ins for 2nd, 3rd... applications


class ProgramBuilder:
    def __init__(self, program: A.Program, source: str, diags=None):
        self.diags = diags
        self._action_decls: dict = {}
        self.ast = program
        self.source = source
        self.env = GlobalEnv(program)
        self.st = Storage()
        self.lw = Lowerer(self.env, self.st, self)
        self.actions: list[dict] = []
        self._action_names: set[str] = set()
        self._table_names: set[str] = set()
        self._action_cache: dict = {}
        self._node_id = 0
        self.pipeline: PipelineBuilder | None = None
        self.pipelines: list[dict] = []
        self.calculations: list[dict] = []
        self.checksums: list[dict] = []
        self.learn_lists: list[dict] = []
        self.field_lists: list[dict] = []
        self._field_list_index: dict[int, int] = {}
        self.counter_arrays: list[dict] = []
        self.meter_arrays: list[dict] = []
        self.register_arrays: list[dict] = []
        self.parse_vsets: list[dict] = []
        self.parsers: list[dict] = []
        self.deparsers: list[dict] = []
        self.extern_instances: list[dict] = []
        self.meta_val = None
        self.meta_type = None
        self._unique: set[str] = set()
        self._direct_meters: list = []          # (extern ObjV, table name)
        self._table_states: list[TableState] = []
        self._reject_warned: set = set()        # locations already warned about (warn_reject)

    # ------------------------------------------------------------ naming
    def cp_name(self, node, prefix: str, fallback: str) -> str:
        """Control-plane name from `p4compiler.names` (shared with P4Info);
        our own p4c-style rule when that module has no answer."""
        cp = self.__dict__.get("_cp", False)
        if cp is False:
            try:
                from ..names import program_names
                cp = program_names(self.ast)
            except Exception:  # noqa: BLE001 - names.py is optional for the JSON
                cp = None
            self._cp = cp
        if cp is not None:
            got = cp.by_instance.get((prefix, id(node)))
            if got is not None:
                return got
        return fallback

    def unique_action_name(self, base):
        return self.st.unique(base, self._action_names)

    def unique_table_name(self, base):
        return self.st.unique(base, self._table_names)

    def next_node_id(self):
        i = self._node_id
        self._node_id += 1
        return i

    def add_action(self, name, runtime_data, prims, si=None):
        a = {"name": name, "id": len(self.actions), "runtime_data": runtime_data, "primitives": prims}
        if si:
            a["source_info"] = si
        self.actions.append(a)
        return a

    # ------------------------------------------------------------ top level
    def build(self) -> dict:
        env = self.env
        main = env.main
        if main is None:
            raise CompilerError(None, "program has no 'main' package instance")
        blocks = [self.block_of(a.expr) for a in main.args]
        if len(blocks) != 6:
            raise CompilerError(main.loc, "main must be a V1Switch with 6 blocks")
        pdecl = blocks[0][0]
        ptypes = [self.lw.rtype(p.type, Scope(env=env)) for p in pdecl.type.params]
        hdr_t, meta_t, std_t = ptypes[1], ptypes[2], ptypes[3]
        # standard metadata
        self.st._htype_of[id(std_t)] = "standard_metadata"
        fields = [[n, bit_width(t), False] for n, t in std_t.fields]
        total = sum(f[1] for f in fields)
        if total % 8:
            fields.append(["_padding", 8 - total % 8, False])
        self.st.header_types.append({"name": "standard_metadata", "id": 0, "fields": fields})
        self.st._names.add("standard_metadata")
        self.st.headers.append({"name": "standard_metadata", "id": len(self.st.headers),
                                "header_type": "standard_metadata", "metadata": True, "pi_omit": True})
        std_v = HeaderV("standard_metadata", std_t)
        for n, t in std_t.fields:
            std_v.fields[n] = FieldV("standard_metadata", n, t)
        hdr_v = self.st.alloc(pdecl.type.params[1].name if isinstance(hdr_t, TStructLike) and hdr_t.kind != "struct"
                              else "", hdr_t, prefix="")
        meta_v = self.st.alloc("userMetadata" if not (isinstance(meta_t, TStructLike) and meta_t.kind == "struct")
                               else "", meta_t, prefix="userMetadata.")
        self.meta_val, self.meta_type = meta_v, meta_t
        self.meta_decl = env.lookup(meta_t.name) if isinstance(meta_t, TStructLike) else None
        globals_ = {"hdr": hdr_v, "meta": meta_v, "std": std_v}
        # parser
        self.build_parser(blocks[0], globals_)
        # checksum controls
        self.build_checksums(blocks[1], globals_, verify=True)
        self.build_pipeline("ingress", blocks[2], globals_)
        self.build_pipeline("egress", blocks[3], globals_)
        self.build_checksums(blocks[4], globals_, verify=False)
        self.build_deparser(blocks[5], globals_)
        return self.assemble()

    def block_of(self, e):
        """(decl, ctor args, instance name) of a package argument."""
        if isinstance(e, A.ConstructorCallExpression):
            d = self.env.lookup(e.type.path.name if isinstance(e.type, A.TypeName) else e.type.base.path.name)
            return d, e.args, d.name
        if isinstance(e, A.PathExpression):
            inst = self.env.lookup(e.path.name)
            if isinstance(inst, A.Instantiation):
                d = self.env.lookup(inst.type.path.name if isinstance(inst.type, A.TypeName) else inst.type.base.path.name)
                return d, inst.args, d.name
        raise CompilerError(e.loc, "unsupported package argument")

    def block_scope(self, decl, ctor_args, globals_) -> Scope:
        s = Scope(env=self.env)
        params = decl.type.params
        for p in params:
            tn = p.type
            name = tn.path.name if isinstance(tn, A.TypeName) else ""
            if name == "packet_in":
                s.names[p.name] = ObjV("packet_in")
            elif name == "packet_out":
                s.names[p.name] = ObjV("packet_out")
            elif name == "standard_metadata_t" or self._is_std(p.type):
                s.names[p.name] = globals_["std"]
        # positional: hdr, meta
        rest = [p for p in params if p.name not in s.names]
        if rest:
            s.names[rest[0].name] = globals_["hdr"]
        if len(rest) > 1:
            s.names[rest[1].name] = globals_["meta"]
        self.bind_ctor(decl, ctor_args, s, Scope(env=self.env))
        return s

    def _is_std(self, t) -> bool:
        try:
            rt = self.lw.rtype(t, Scope(env=self.env))
        except CompilerError:
            return False
        return isinstance(rt, TStructLike) and rt.name == "standard_metadata_t"

    def bind_ctor(self, decl, ctor_args, s: Scope, call_scope: Scope):
        if decl.ctor_params:
            from ..midend.calls import match_args
            amap = match_args(decl.ctor_params, ctor_args, decl.loc)
            for p in decl.ctor_params:
                a = amap.get(p.name)
                if a is None:
                    continue
                if isinstance(a, A.ConstructorCallExpression):
                    d = self.env.lookup(a.type.path.name if isinstance(a.type, A.TypeName) else a.type.base.path.name)
                    if isinstance(d, (A.ControlDeclaration, A.ParserDeclaration)):
                        s.names[p.name] = ObjV("instance", d, data=(p.name, a.args, call_scope))
                        continue
                t = self.lw.rtype(p.type, s)
                s.names[p.name] = self.lw.convert(self.lw.value(a, call_scope, t), t, a.loc)

    # ------------------------------------------------------------ locals
    def declare_locals(self, decl, prefix: str, scope: Scope, emit_inits: bool):
        lw = self.lw
        for d in decl.locals:
            if isinstance(d, A.ConstantDeclaration):
                lw.s_ConstantDeclaration(d, scope)
            elif isinstance(d, A.VariableDeclaration):
                if emit_inits:
                    lw.s_VariableDeclaration(d, scope)
                else:
                    t = lw.rtype(d.type, scope)
                    scope.names[d.name] = self.st.alloc(d.name, t)
            elif isinstance(d, A.ActionDeclaration):
                scope.names[d.name] = ObjV("action", d, data=(prefix, scope))
            elif isinstance(d, A.TableDeclaration):
                ts = TableState(d, prefix, scope)
                self._table_states.append(ts)
                scope.names[d.name] = ObjV("table", d, data=ts)
            elif isinstance(d, A.Instantiation):
                self.instantiate(d, prefix, scope)
            elif isinstance(d, A.ValueSetDeclaration):
                t = lw.rtype(d.type, scope)
                name = self.cp_name(d, prefix, qualified_name(prefix, d.name, d.annotations))
                size = lw.const_of(d.size, scope)
                width = sum(bit_width(ft) for _, ft in t.fields) if isinstance(t, TStructLike) else bit_width(t)
                self.parse_vsets.append({"name": name, "id": len(self.parse_vsets),
                                         "compressed_bitwidth": width, "max_size": size})
                scope.names[d.name] = ObjV("value_set", d, data=name, t=t)
            elif isinstance(d, A.FunctionDeclaration):
                scope.names[d.name] = ObjV("function", d)

    def instantiate(self, d: A.Instantiation, prefix: str, scope: Scope):
        lw = self.lw
        orig = d
        dtype = d.type
        tname = dtype.path.name if isinstance(dtype, A.TypeName) else dtype.base.path.name
        tdecl = self.env.lookup(tname)
        while isinstance(tdecl, A.TypedefDeclaration) and isinstance(tdecl.type, (A.TypeName, A.SpecializedType)):
            dtype = tdecl.type
            tname = dtype.path.name if isinstance(dtype, A.TypeName) else dtype.base.path.name
            tdecl = self.env.lookup(tname)
        d = A.Instantiation(d.annotations, dtype, d.args, d.name, d.initializer, loc=d.loc)
        name = self.cp_name(orig, prefix, qualified_name(prefix, d.name, d.annotations))
        if isinstance(tdecl, (A.ControlDeclaration, A.ParserDeclaration)):
            scope.names[d.name] = ObjV("instance", tdecl, data=(qualified_name(prefix, d.name, d.annotations),
                                                                 d.args, scope))
            return
        args = [a.expr for a in d.args]
        obj = ObjV("extern", tdecl, data={"name": name, "type": tname, "decl": d})
        si = source_info(d.loc, d.name)
        if tname == "counter":
            size = lw.const_of(args[0], scope)
            self.counter_arrays.append({"name": name, "id": len(self.counter_arrays), "source_info": si,
                                        "size": size, "is_direct": False})
        elif tname == "direct_counter":
            obj.data["direct"] = True
        elif tname == "meter":
            size = lw.const_of(args[0], scope)
            kind = lw.value(args[1], scope)
            self.meter_arrays.append({"name": name, "id": len(self.meter_arrays), "source_info": si,
                                      "is_direct": False, "size": size, "rate_count": 2,
                                      "type": "packets" if kind.value == 0 else "bytes"})
        elif tname == "direct_meter":
            kind = lw.value(args[0], scope)
            obj.data["direct"] = True
            obj.data["mtype"] = "packets" if kind.value == 0 else "bytes"
        elif tname == "register":
            size = lw.const_of(args[0], scope)
            t = lw.rtype(d.type.args[0], scope) if isinstance(d.type, A.SpecializedType) else TBits(32)
            self.register_arrays.append({"name": name, "id": len(self.register_arrays), "source_info": si,
                                         "size": size, "bitwidth": bit_width(t)})
        elif tname in ("action_profile", "action_selector"):
            obj.data["profile"] = True
        scope.names[d.name] = obj

    def _global_scope(self) -> Scope:
        if "_gscope" not in self.__dict__:
            self._gscope = Scope(env=self.env)
        return self._gscope

    def key_name(self, ke) -> str:
        """Match-field name: names.py's (shared with P4Info), else p4c's rule."""
        self.cp_name(ke, "", "")
        cp = self._cp
        if cp is not None and id(ke) in cp.keys:
            return cp.keys[id(ke)]
        try:
            from ..names import key_field_name
            return key_field_name(ke)
        except Exception:  # noqa: BLE001
            return annotation_string(ke.annotations, "name") or src_text(ke.expr)

    def global_instance(self, lw, obj: ObjV) -> ObjV:
        cache = self.__dict__.setdefault("_globals", {})
        d = obj.decl
        if id(d) not in cache:
            sc = Scope(env=self.env)
            self.instantiate(d, "", sc)
            cache[id(d)] = sc.names[d.name]
        return cache[id(d)]

    # ------------------------------------------------------------ externs
    def extern_method(self, lw, obj: ObjV, name: str, call, scope, si):
        info = obj.data
        args = [a.expr for a in call.args]
        t = info["type"]
        em = lw.em
        from ..midend.lower import _p
        if t == "counter" and name == "count":
            idx = lw.convert(lw.value(args[0], scope, TBits(32)), TBits(32), call.loc)
            em.prim(_p("count", [{"type": "counter_array", "value": info["name"]}, lw.data(idx)], si))
            return
        if t == "direct_counter" and name == "count":
            return
        if t == "meter" and name == "execute_meter":
            idx = lw.convert(lw.value(args[0], scope, TBits(32)), TBits(32), call.loc)
            dst = lw.value(args[1], scope)
            em.prim(_p("execute_meter", [{"type": "meter_array", "value": info["name"]}, lw.data(idx),
                                         lw.data_lv(dst)], si))
            return
        if t == "direct_meter" and name == "read":
            dst = lw.value(args[0], scope)
            info["result"] = lw.data_lv(dst)["value"]
            return
        if t == "register" and name == "read":
            dst = lw.value(args[0], scope)
            idx = lw.convert(lw.value(args[1], scope, TBits(32)), TBits(32), call.loc)
            em.prim(_p("register_read", [lw.data_lv(dst), {"type": "register_array", "value": info["name"]},
                                         lw.data(idx)], si))
            return
        if t == "register" and name == "write":
            idx = lw.convert(lw.value(args[0], scope, TBits(32)), TBits(32), call.loc)
            reg = next(r for r in self.register_arrays if r["name"] == info["name"])
            v = lw.value(args[1], scope, TBits(reg["bitwidth"]))
            em.prim(_p("register_write", [{"type": "register_array", "value": info["name"]}, lw.data(idx),
                                          lw.data(lw.convert(v, v.t if not isinstance(v.t, TInt) else TBits(reg["bitwidth"]), call.loc))], si))
            return
        raise CompilerError(call.loc, f"extern method {t}.{name} is not supported")

    def new_calculation(self, lw, algo: str, data, loc, si) -> str:
        inputs = self.calc_inputs(lw, data, loc)
        name = self.st.unique("calc", self._unique)
        self.calculations.append({"name": name, "id": len(self.calculations), "source_info": si,
                                  "algo": algo, "input": inputs})
        return name

    def calc_inputs(self, lw, data, loc):
        inputs = []
        for it in flatten_scalars(data):
            j = _scalar_input(it)
            if j is not None:
                inputs.append(j)
            elif isinstance(it, HeaderV):
                inputs.append({"type": "header", "value": it.name})
            else:
                tmp = self.st.new_scalar("tmp", it.t if not isinstance(it.t, TInt) else TBits(32))
                lw.assign(tmp, it, loc)
                inputs.append(tmp.json())
        return inputs

    def new_learn_list(self, lw, data, call) -> int:
        elems = []
        for it in flatten_scalars(data):
            if isinstance(it, FieldV):
                elems.append(it.json())
            else:
                tmp = self.st.new_scalar("tmp", it.t if not isinstance(it.t, TInt) else TBits(32))
                lw.assign(tmp, it, call.loc)
                elems.append(tmp.json())
        # p4c-bm2-ss (ExternConverter_digest + createFieldList): one learn list
        # per digest() call site, every list of a struct type named after that
        # type's control-plane name, which is also the P4Info digest name; the
        # P4Runtime server (like PI) maps a learn list to its digest by name, so
        # a "_0" suffix would orphan the second call site's samples.
        t = data.t
        if isinstance(t, TStructLike) and t.kind == "struct":
            name = t.cp_name or t.name
        else:
            name = "digest"
        lid = len(self.learn_lists) + 1
        self.learn_lists.append({"id": lid, "name": name, "source_info": source_info(call.loc, src_text(call)),
                                 "elements": elems})
        return lid

    def new_field_list_from_data(self, lw, data) -> int:
        elems = [it.json() for it in flatten_scalars(data) if isinstance(it, FieldV)]
        fid = len(self.field_lists) + 1
        self.field_lists.append({"id": fid, "name": f"fl_{fid}", "elements": elems})
        return fid

    def field_list_for_index(self, index: int) -> int:
        if index in self._field_list_index:
            return self._field_list_index[index]
        elems = []
        d = self.meta_decl
        if isinstance(d, A.StructDeclaration) and isinstance(self.meta_val, StructV):
            for f in d.fields:
                for a in f.annotations:
                    if a.name == "field_list":
                        vals = [self.env.const_value(e) for e in a.exprs] or \
                               [int(tok.text, 0) for tok in a.body if tok.kind == "INTEGER"]
                        if index in vals:
                            v = self.meta_val.fields[f.name]
                            elems.extend(x.json() for x in flatten_scalars(v) if isinstance(x, FieldV))
        fid = len(self.field_lists) + 1
        self.field_lists.append({"id": fid, "name": f"field_list{index}", "elements": elems})
        self._field_list_index[index] = fid
        return fid

    # ------------------------------------------------------------ actions
    def action_cp_name(self, d: A.ActionDeclaration, prefix: str) -> str:
        """The JSON name of (every copy of) an action: its control-plane name
        (p4c keeps it for each copy, e.g. one per binding of its directional
        parameters).  Two different actions with one name are p4c's
        "conflicting control plane name" error."""
        name = self.cp_name(d, prefix, qualified_name(prefix, d.name, d.annotations))
        self._action_names.add(name)
        first = self._action_decls.setdefault(name, d)
        if first is not d:
            a, b = first, d         # report at the later declaration, like p4c
            if a.loc and b.loc and (a.loc.file, a.loc.line, a.loc.column) > (b.loc.file, b.loc.line, b.loc.column):
                a, b = b, a
            shown = annotation_string(b.annotations, "name") or name
            raise CompilerError(b.loc, f"{shown}: conflicting control plane name: {shown}",
                                kind="duplicate", related=[a.loc] if a.loc else None)
        return name

    def direct_action_call(self, lw, obj: ObjV, call, scope) -> None:
        """An action called as a statement of a control's apply block.

        p4c's MoveActionsToTables makes each such call a keyless table
        `tbl_<action>` (`_0`, `_1`... when repeated) whose const default
        action is a copy of the action under its own control-plane name, with
        the arguments copied in and out inside the action (RemoveActionParameters).
        Keeping the name matters: P4Info lists the action, so the JSON must
        have it for a P4Runtime server to map one onto the other."""
        from ..midend.calls import check_no_table_apply, inline_body
        em = lw.em
        if not em.reachable:
            return
        d: A.ActionDeclaration = obj.decl
        prefix, dscope = obj.data
        check_no_table_apply(lw, call.args, scope)
        name = self.action_cp_name(d, prefix)
        aem = ActionEmitter()
        lw.em = aem
        try:
            inline_body(lw, d, d.params, call.args, dscope, scope, call.loc)
            prims = aem.finish()
        finally:
            lw.em = em
        act = self.add_action(name, [], prims, source_info(d.loc, d.name))
        tname = self.unique_table_name("tbl_" + d.name)
        tbl = {"name": tname, "id": 0, "source_info": source_info(call.loc, src_text(call)), "key": [],
               "match_type": "exact", "type": "simple", "max_size": 1024, "with_counters": False,
               "support_timeout": False, "direct_meters": None, "action_ids": [act["id"]],
               "actions": [name], "base_default_next": None, "next_tables": {name: None},
               "default_entry": {"action_id": act["id"], "action_const": True, "action_data": [],
                                 "action_entry_const": True}}
        assert self.pipeline is not None
        self.pipeline.json["tables"].append(tbl)
        em.connect(tname)
        em.dangling = [table_next_setter(tbl)]
        em.open = None

    def action_json(self, obj: ObjV, ref_args=None, scope=None) -> dict:
        d: A.ActionDeclaration = obj.decl
        prefix, dscope = obj.data
        key = (id(d), id(dscope), tuple(src_text(a.expr) for a in (ref_args or [])))
        if key in self._action_cache:
            return self._action_cache[key]
        lw = self.lw
        name = self.action_cp_name(d, prefix)
        inner = Scope(dscope)
        runtime = []
        saved = lw.em
        em = ActionEmitter()
        lw.em = em
        try:
            bound = []
            from ..midend.calls import check_no_table_apply
            check_no_table_apply(lw, ref_args, scope or dscope)
            if ref_args:
                dir_params = [p for p in d.params if p.direction]
                bind_params(lw, dir_params, ref_args, scope or dscope, inner, d.loc, alias=True)
                bound = [p.name for p in dir_params]
            for p in d.params:
                if p.name in bound:
                    continue
                t = lw.rtype(p.type, inner)
                if p.direction == "":
                    inner.names[p.name] = RuntimeV(len(runtime), t)
                    runtime.append({"name": p.name, "bitwidth": bit_width(t)})
            tok = em.push_return()
            lw.stmt(d.body, inner)
            em.pop_return(tok)
            prims = em.finish()
        finally:
            lw.em = saved
        a = self.add_action(name, runtime, prims, source_info(d.loc, d.name))
        self._action_cache[key] = a
        return a

    # ------------------------------------------------------------ tables
    def table_action_names(self, obj: ObjV) -> dict:
        return obj.data.action_names

    def apply_table(self, lw, obj: ObjV, scope, call, hitmiss: bool = False) -> dict:
        ts: TableState = obj.data
        em = lw.em
        loc = call.loc if call is not None else ts.decl.loc
        if em.kind != "graph":
            raise CompilerError(loc, "tables can only be applied in a control's apply block")
        if ts.json is not None:
            # applied again: a stand-in node with its own successors; after the
            # pipeline is built, merge_table_copies folds it into the table
            # when p4c would (same successors) and reports p4c's error otherwise
            orig = ts.json
            tj = dict(orig)
            tj["name"] = f"{orig['name']}$apply{len(ts.copies) + 1}"
            tj["next_tables"] = {k: None for k in orig["next_tables"]}
            tj["base_default_next"] = None
            ts.copies.append(tj)
            assert self.pipeline is not None
            self.pipeline.json["tables"].append(tj)
        else:
            tj = self.table_json(lw, ts)
        em.connect(tj["name"])
        if hitmiss:
            tj["next_tables"] = {"__HIT__": None, "__MISS__": None}
            em.dangling = []
        else:
            em.dangling = [table_next_setter(tj)]
        em.open = None
        return tj

    def table_hit_value(self, lw, obj, member, scope, loc):
        tmp = self.st.new_scalar("hasHit", TBool())
        if lw.em.kind != "graph":
            raise CompilerError(loc, f"{obj.decl.name}.apply(): table invocation in an expression is not "
                                     "supported here", kind="unsupported")
        tj = self.apply_table(lw, obj, scope, None, hitmiss=True)
        em = lw.em
        ends = []
        for key, val in (("__HIT__", member == "hit"), ("__MISS__", member != "hit")):
            em.dangling = [lambda n, t=tj, k=key: t["next_tables"].__setitem__(k, n)]
            em.open = None
            lw.assign(tmp, ConstV(val, TBool()), loc)
            ends.extend(em.dangling)
        em.dangling = ends
        em.open = None
        return tmp

    def table_json(self, lw, ts: TableState) -> dict:
        d = ts.decl
        scope = ts.scope
        name = self.cp_name(d, ts.prefix, qualified_name(ts.prefix, d.name, d.annotations))
        if name in self._table_names:
            # p4c: one control-plane name for two table objects (e.g. a control
            # with an absolute @name table instantiated twice)
            msg = f"Name '{name}' is used for multiple table objects in the P4Info message"
            if self.diags is not None:
                self.diags.error(None, msg, kind="duplicate")
                raise CompilerError(None, "Found 1 duplicate name(s) in the P4Info", kind="duplicate")
            raise CompilerError(None, msg, kind="duplicate")
        self._table_names.add(name)
        keys = []
        kinds = []
        keyprop = d.property("key")
        for ke in (keyprop.elements if keyprop else []):
            kind = ke.match_kind.name
            target, kmask = self.key_target(lw, ke.expr, scope)
            kname = self.key_name(ke)
            if kind == "selector":          # inputs of the action selector, not match keys
                ts.selector_inputs.append({"type": "field", "value": target})
                continue
            mt = "ternary" if kind == "optional" else kind
            kinds.append(mt)
            keys.append({"match_type": mt, "name": kname, "target": target, "mask": kmask})
        order = ["exact", "valid", "lpm", "ternary", "range"]
        mtype = "exact"
        for k in kinds:
            if k in order and order.index(k) > order.index(mtype):
                mtype = k
        action_ids, action_names = [], []
        aprop = d.property("actions")
        for ref in (aprop.actions if aprop else []):
            e = ref.expr
            args = None
            if isinstance(e, A.MethodCallExpression):
                args = e.args
                e = e.method
            aobj = lw.value(e, scope)
            aj = self.action_json(aobj, args, scope)
            ts.action_names[ref.name] = aj["name"]
            ts.action_objs[ref.name] = aj
            action_ids.append(aj["id"])
            action_names.append(aj["name"])
        size = 1024
        sp = d.property("size")
        if sp is not None:
            size = lw.const_of(sp.value, scope)
        tj = {"name": name, "id": 0, "source_info": source_info(d.loc, d.name), "key": keys,
              "match_type": mtype, "type": "simple", "max_size": size, "with_counters": False,
              "support_timeout": False, "direct_meters": None, "action_ids": action_ids,
              "actions": action_names, "base_default_next": None,
              "next_tables": {n: None for n in action_names}}
        dp = d.property("default_action")
        default_args = []
        if dp is not None:
            e = dp.value
            if isinstance(e, A.MethodCallExpression):
                default_args = e.args
                e = e.method
            an = e.path.name if isinstance(e, A.PathExpression) else src_text(e)
            aj = ts.action_objs.get(an)
            if aj is None:
                aobj = lw.value(e, scope)
                aj = self.action_json(aobj, None, scope)
            data = []
            rd = aj["runtime_data"]
            vals = []
            for a in default_args[len(default_args) - len(rd):] if rd else []:
                vals.append(a)
            for i, a in enumerate(vals):
                v = lw.value(a.expr, scope, TBits(rd[i]["bitwidth"]))
                data.append(hexstr(v.value & mask(rd[i]["bitwidth"]))["value"] if isinstance(v, ConstV)
                            else "0x0")
            tj["default_entry"] = {"action_id": aj["id"], "action_const": bool(dp.const),
                                   "action_data": data, "action_entry_const": bool(dp.const)}
        else:
            noact = self.env.lookup("NoAction")
            if noact is not None:
                aj = ts.action_objs.get("NoAction") or self.action_json(
                    ObjV("action", noact, data=("", self._global_scope())))
                if aj["name"] not in tj["actions"]:
                    tj["action_ids"].append(aj["id"])
                    tj["actions"].append(aj["name"])
                    tj["next_tables"][aj["name"]] = None
                tj["default_entry"] = {"action_id": aj["id"], "action_const": False, "action_data": [],
                                       "action_entry_const": False}
        for p in d.properties:
            if p.name in ("counters",) and isinstance(p, A.ValueProperty):
                v = lw.value(p.value, scope)
                if isinstance(v, ObjV) and v.kind == "extern":
                    tj["with_counters"] = True
                    self.counter_arrays.append({"name": v.data["name"], "id": len(self.counter_arrays),
                                                "is_direct": True, "binding": name,
                                                "source_info": source_info(v.data["decl"].loc, v.data["decl"].name)})
            elif p.name == "meters" and isinstance(p, A.ValueProperty):
                v = lw.value(p.value, scope)
                if isinstance(v, ObjV) and v.kind == "extern":
                    tj["direct_meters"] = v.data["name"]
                    self._direct_meters.append((v, name))
            elif p.name == "support_timeout" and isinstance(p, A.ValueProperty):
                v = lw.value(p.value, scope)
                tj["support_timeout"] = bool(getattr(v, "value", False))
            elif p.name == "implementation" and isinstance(p, A.ValueProperty):
                self.table_implementation(lw, tj, p, scope, ts)
        ep = d.property("entries")
        if ep is not None:
            tj["entries"] = self.const_entries(lw, ts, tj, ep, scope)
        ts.json = tj
        self.pipeline.json["tables"].append(tj)
        return tj

    def table_implementation(self, lw, tj, p, scope, ts):
        e = p.value
        v = lw.value(e, scope) if not isinstance(e, A.ConstructorCallExpression) else None
        if isinstance(v, ObjV) and v.kind == "extern":
            d = v.data["decl"]
            pname = v.data["name"]
            args = [a.expr for a in d.args]
        elif isinstance(e, A.ConstructorCallExpression):
            d = e
            # `@name("ap") implementation = action_profile(..)`: the P4Info name ("ap", never
            # qualified with the control); unnamed ones stay unique per table
            from .. import names as N
            pname = N.qualify("", N.local_name(p)) if N.annotated_name(p) else tj["name"] + "_profile"
            args = [a.expr for a in e.args]
            v = ObjV("extern", None, data={"type": e.type.path.name})
        else:
            return
        typ = v.data["type"]
        prof = next((x for x in self.pipeline.json["action_profiles"] if x["name"] == pname), None)
        if prof is None:
            prof = {"name": pname, "id": len(self.pipeline.json["action_profiles"]),
                    "max_size": lw.const_of(args[1] if typ == "action_selector" else args[0], scope)}
            if typ == "action_selector":
                algo = lw.value(args[0], scope)
                from ..midend.calls import algo_name
                prof["selector"] = {"algo": algo_name(algo), "input": list(ts.selector_inputs)}
            self.pipeline.json["action_profiles"].append(prof)
        tj["type"] = "indirect_ws" if typ == "action_selector" else "indirect"
        tj["action_profile"] = pname
        tj.pop("default_entry", None)

    def key_target(self, lw, e, scope):
        if (isinstance(e, A.MethodCallExpression) and isinstance(e.method, A.Member)
                and e.method.member == "isValid"):
            b = lw.value(e.method.expr, scope)
            if isinstance(b, HeaderV):
                return [b.name, "$valid$"], None
            if isinstance(b, UnionV):
                pass
        if isinstance(e, A.BinaryOp) and e.op == "&":
            l = lw.value(e.left, scope)
            r = lw.value(e.right, scope, l.t)
            if isinstance(l, FieldV) and isinstance(r, ConstV):
                w = bit_width(l.t)
                return [l.hdr, l.field], hexstr(r.value & mask(w), w)["value"]
        v = lw.value(e, scope)
        if isinstance(v, FieldV) and not isinstance(v.t, TBool):
            return [v.hdr, v.field], None
        t = v.t if not isinstance(v.t, (TInt, TBool)) else TBits(1 if isinstance(v.t, TBool) else 32)
        tmp = self.st.new_scalar("key", t)
        lw.assign(tmp, v if not isinstance(v.t, TBool) else ExprV(op("b2d", None, lw.boolj(v)), TBits(1)), e.loc,
                  src_text(e))
        return [tmp.hdr, tmp.field], None

    def const_entries(self, lw, ts, tj, ep, scope):
        out = []
        keyprop = ts.decl.property("key")
        kelems = keyprop.elements if keyprop else []
        widths = []
        for ke in kelems:
            widths.append(self._key_width(lw, ke.expr, scope))
        prios = self.entry_priorities(lw, ts, ep, scope)
        for i, ent in enumerate(ep.entries):
            items = ent.keys.items if isinstance(ent.keys, A.ListExpression) else [ent.keys]
            if len(items) == 1 and len(kelems) > 1 and isinstance(items[0], A.ListExpression):
                items = items[0].items
            matches = []
            for k, it, w in zip(tj["key"], items, widths):
                matches.append(self.entry_match(lw, k["match_type"], it, w, scope))
            e = ent.action
            args = []
            if isinstance(e, A.MethodCallExpression):
                args = e.args
                e = e.method
            an = e.path.name
            aj = ts.action_objs[an]
            data = []
            for rd, a in zip(aj["runtime_data"], args[len(args) - len(aj["runtime_data"]):]):
                v = lw.value(a.expr, scope, TBits(rd["bitwidth"]))
                data.append(hexstr(v.value & mask(rd["bitwidth"]))["value"])
            prio = prios[i]
            out.append({"source_info": source_info(ent.loc, ""), "match_key": matches,
                        "action_entry": {"action_id": aj["id"], "action_data": data}, "priority": prio})
        return out

    def entry_priorities(self, lw, ts, ep, scope) -> list[int]:
        """BMv2 priority (smallest wins) of each entry.  Without `priority =`
        (p4c: const entries, `@priority` annotation or position); with it, P4's
        rules (largest_priority_wins, priority_delta), mapped so the winning
        order is kept."""
        entries = ep.entries
        explicit = [e for e in entries if e.priority is not None]
        out = []
        if not explicit:
            for i, e in enumerate(entries):
                pa = next((a for a in e.annotations if a.name == "priority"), None)
                nums = [t for t in pa.body if t.kind == "INTEGER"] if pa is not None else []
                out.append(int(getattr(nums[0].value, "value", nums[0].value)) if nums else i + 1)
            return out
        d = ts.decl
        if ep.const:
            raise CompilerError(explicit[0].loc, "Table with 'const' entries cannot have priorities",
                                kind="invalid")
        keyprop = d.property("key")
        kinds = [ke.match_kind.name if hasattr(ke.match_kind, "name") else str(ke.match_kind)
                 for ke in (keyprop.elements if keyprop else [])]
        if all(k in ("exact", "lpm") for k in kinds):
            # p4c's EntryPriorities: only non-exact/lpm keys take priorities
            raise CompilerError(keyprop.loc if keyprop else d.loc,
                                "key match type does not require priorities, but some are specified",
                                kind="unsupported")
        largest = True
        lp = d.property("largest_priority_wins")
        if isinstance(lp, A.ValueProperty) and lp.value is not None:
            largest = bool(lw.const_of(lp.value, scope))
        delta = 1
        dp = d.property("priority_delta")
        if isinstance(dp, A.ValueProperty) and dp.value is not None:
            delta = lw.const_of(dp.value, scope)
        if entries[0].priority is None:
            raise CompilerError(entries[0].loc, "entry must have a priority", kind="expected")
        cur = 0
        p4prios = []
        for e in entries:
            if e.priority is not None:
                cur = lw.const_of(e.priority, scope)
            p4prios.append(cur)
            nxt = cur - delta if largest else cur + delta
            if nxt < 0 or nxt >= 1 << 64:
                raise CompilerError(d.loc, f"{d.name} Overflow in priority computation", kind="overlimit")
            cur = nxt
        top = max(p4prios)
        return [top - p + 1 for p in p4prios] if largest else list(p4prios)

    def _key_width(self, lw, e, scope):
        try:
            if isinstance(e, A.MethodCallExpression) and isinstance(e.method, A.Member) and e.method.member == "isValid":
                return 1
            v = lw.value(e, scope)
            return bit_width(v.t) if not isinstance(v.t, TInt) else 32
        except CompilerError:
            return 32

    def entry_match(self, lw, mt, it, w, scope):
        t = TBits(w)
        def c(x):
            v = lw.value(x, scope, t)
            val = v.value
            if isinstance(val, bool):
                val = int(val)
            return val & mask(w)
        def hx(v):
            return hexstr(v, w)["value"]
        if mt in ("exact", "valid"):
            if mt == "valid":
                return {"match_type": "valid", "key": bool(c(it))}
            return {"match_type": "exact", "key": hx(c(it))}
        if mt == "lpm":
            if isinstance(it, A.DefaultExpression):
                return {"match_type": "lpm", "key": hx(0), "prefix_length": 0}
            if isinstance(it, A.Mask):
                v, m = c(it.value), c(it.mask)
                return {"match_type": "lpm", "key": hx(v), "prefix_length": bin(m).count("1")}
            return {"match_type": "lpm", "key": hx(c(it)), "prefix_length": w}
        if mt == "ternary":
            if isinstance(it, A.DefaultExpression):
                return {"match_type": "ternary", "key": hx(0), "mask": hx(0)}
            if isinstance(it, A.Mask):
                v, m = c(it.value), c(it.mask)
                return {"match_type": "ternary", "key": hx(v & m), "mask": hx(m)}
            return {"match_type": "ternary", "key": hx(c(it)), "mask": hx(mask(w))}
        if mt == "range":
            if isinstance(it, A.DefaultExpression):
                return {"match_type": "range", "start": hx(0), "end": hx(mask(w))}
            if isinstance(it, A.Range):
                return {"match_type": "range", "start": hx(c(it.lo)), "end": hx(c(it.hi))}
            v = c(it)
            return {"match_type": "range", "start": hx(v), "end": hx(v)}
        raise CompilerError(it.loc, f"unsupported match kind {mt} in entries")

    # ------------------------------------------------------------ sub-controls/parsers
    def apply_instance(self, lw, obj: ObjV, call, scope):
        d = obj.decl
        iname, ctor_args, ctor_scope = obj.data
        if isinstance(d, A.ParserDeclaration):
            self.inline_subparser(lw, obj, call, scope)
            return
        inner = Scope(Scope(env=self.env))
        self.bind_ctor(d, ctor_args, inner, ctor_scope)
        copy_out = bind_params(lw, d.type.params, call.args, scope, inner, call.loc, alias=True)
        self.declare_locals(d, iname, inner, emit_inits=True)
        saved_prefix = getattr(lw, "cur_prefix", "")
        lw.cur_prefix = iname
        tok = lw.em.push_return()
        lw.stmt(d.body, inner)
        lw.em.pop_return(tok)
        lw.cur_prefix = saved_prefix
        for dst, tmp in copy_out:
            lw.assign(dst, tmp, call.loc)

    # ------------------------------------------------------------ pipelines
    def build_pipeline(self, pname, block, globals_):
        decl, ctor_args, iname = block
        pb = PipelineBuilder(self, pname, decl.loc)
        self.pipeline = pb
        scope = self.block_scope(decl, ctor_args, globals_)
        lw = self.lw
        em = GraphEmitter(pb, pb.entry_setter())
        lw.em = em
        inner = scope.child()
        prefix = decl.name      # p4c ignores @name on a control passed to main
        self.declare_locals(decl, prefix, inner, emit_inits=True)
        lw.cur_prefix = prefix
        em.push_return()
        lw.stmt(decl.body, inner)
        em.pop_return(None)
        self.merge_table_copies(pb.json)
        self.pipelines.append(pb.json)

    def merge_table_copies(self, pj: dict) -> None:
        """Tables applied more than once (p4c's CFG::checkImplementable).

        BMv2 has one node per table, so p4c-bm2-ss accepts a table applied
        several times only when no path leads from one application to another
        ("Program can not be implemented on this target since it contains a
        path from table T back to itself") and every application has the same
        successors ("Program is not supported by this target, because table T
        has multiple successors"); both [--Werror=invalid], at the table.  p4c
        compares successor *sets*; we also require the same successor per
        action / hit-miss label, so a merged node never sends a packet where one
        of the applications would not.  Accepted copies are folded into the
        original node."""
        tables = {t["name"]: t for t in pj["tables"]}
        conds = {c["name"]: c for c in pj["conditionals"]}
        states = [ts for ts in self._table_states if ts.copies and ts.json is not None
                  and ts.json["name"] in tables]
        if not states:
            return
        canon = {c["name"]: ts.json["name"] for ts in states for c in ts.copies}

        def successors(name: str) -> list[str]:
            if name in tables:
                t = tables[name]
                out = list(t["next_tables"].values()) + [t.get("base_default_next")]
            elif name in conds:
                out = [conds[name]["true_next"], conds[name]["false_next"]]
            else:
                out = []
            return [n for n in out if n]

        def reaches(start: str, targets: set[str]) -> bool:
            seen, todo = set(), successors(start)
            while todo:
                n = todo.pop()
                if n in targets:
                    return True
                if n not in seen:
                    seen.add(n)
                    todo.extend(successors(n))
            return False

        def edges(t: dict):
            nt = {k: canon.get(v, v) for k, v in t["next_tables"].items()}
            return nt, canon.get(t.get("base_default_next"), t.get("base_default_next"))

        for ts in states:
            group = {ts.json["name"]} | {c["name"] for c in ts.copies}
            shown = annotation_string(ts.decl.annotations, "name") or ts.decl.name
            if any(reaches(n, group) for n in group):
                raise CompilerError(ts.decl.loc, "Program can not be implemented on this target since it "
                                    f"contains a path from table {shown} back to itself", kind="invalid")
            for c in ts.copies:
                if edges(c) != edges(ts.json):
                    raise CompilerError(ts.decl.loc, "Program is not supported by this target, because "
                                        f"table {shown} has multiple successors", kind="invalid")
        pj["tables"] = [t for t in pj["tables"] if t["name"] not in canon]
        for t in pj["tables"]:
            t["next_tables"] = {k: canon.get(v, v) for k, v in t["next_tables"].items()}
            t["base_default_next"] = canon.get(t["base_default_next"], t["base_default_next"])
        for c in pj["conditionals"]:
            c["true_next"] = canon.get(c["true_next"], c["true_next"])
            c["false_next"] = canon.get(c["false_next"], c["false_next"])
        pj["init_table"] = canon.get(pj["init_table"], pj["init_table"])

    # ------------------------------------------------------------ parser
    def build_parser(self, block, globals_):
        decl, ctor_args, iname = block
        scope = self.block_scope(decl, ctor_args, globals_)
        self.pjson = {"name": "parser", "id": 0, "init_state": "start", "parse_states": []}
        self._state_names = set()
        lw = self.lw
        inner = scope.child()
        # locals: initialisers run in a pre-start state
        self.declare_locals(decl, decl.name, inner, emit_inits=False)
        init_ops = [d for d in decl.locals if isinstance(d, A.VariableDeclaration) and d.init is not None]
        start = self.lower_parser_states(decl, inner, accept_to=None, prefix="")
        if init_ops:
            st = self.new_state("start_init")
            lw.em = ParserEmitter(self, st)
            for d in init_ops:
                v = lw.value(d.init, inner, inner.names[d.name].t)
                lw.assign(inner.names[d.name], v, d.loc)
            st["transitions"] = [{"type": "default", "value": None, "mask": None, "next_state": start}]
            start = st["name"]
        self.pjson["init_state"] = start
        self.parsers.append(self.pjson)

    def new_state(self, base):
        name = self.st.unique(base, self._state_names)
        st = {"name": name, "id": len(self.pjson["parse_states"]), "parser_ops": [], "transitions": [],
              "transition_key": []}
        self.pjson["parse_states"].append(st)
        return st

    def lower_parser_states(self, decl, scope, accept_to, prefix) -> str:
        """Lower all states of `decl`; returns the BMv2 name of its start state."""
        names = {}
        for s in decl.states:
            names[s.name] = self.st.unique(prefix + s.name, self._state_names)
        self._state_names_map = names
        for s in decl.states:
            st = {"name": names[s.name], "id": len(self.pjson["parse_states"]), "parser_ops": [],
                  "transitions": [], "transition_key": []}
            self.pjson["parse_states"].append(st)
            self.lower_state(s, st, scope, names, accept_to)
        return names["start"]

    def lower_state(self, s: A.ParserState, st, scope, names, accept_to):
        lw = self.lw
        em = ParserEmitter(self, st)
        lw.em = em
        inner = scope.child()
        comps = list(s.components)
        for i, c in enumerate(comps):
            if (isinstance(c, A.MethodCallStatement) and isinstance(c.call.method, A.Member)
                    and c.call.method.member == "apply"):
                target = lw.value(c.call.method.expr, inner)
                if isinstance(target, ObjV) and target.kind == "type" and isinstance(target.decl, A.ParserDeclaration):
                    target = ObjV("instance", target.decl, data=(target.decl.name, [], Scope(env=self.env)))
                if isinstance(target, ObjV) and target.kind == "instance" and isinstance(target.decl, A.ParserDeclaration):
                    # split: sub-parser, then a continuation state with the rest
                    cont = self.new_state(s.name + "_cont")
                    sub_start, copy_out = self.inline_subparser_states(lw, target, c.call, inner, cont["name"])
                    em = lw.em = ParserEmitter(self, st)
                    st["transitions"] = [{"type": "default", "value": None, "mask": None, "next_state": sub_start}]
                    st = cont
                    em = lw.em = ParserEmitter(self, st)
                    for dst, tmp in copy_out:
                        lw.assign(dst, tmp, c.loc)
                    continue
            lw.stmt(c, inner)
            st = lw.em.state
        self.lower_transition(s.transition, st, inner, names, accept_to)

    def inline_subparser_states(self, lw, obj, call, scope, cont_name):
        d = obj.decl
        iname, ctor_args, ctor_scope = obj.data
        inner = Scope(Scope(env=self.env))
        self.bind_ctor(d, ctor_args, inner, ctor_scope)
        for p in d.type.params:
            tn = p.type
            if isinstance(tn, A.TypeName) and tn.path.name == "packet_in":
                inner.names[p.name] = ObjV("packet_in")
        params = [p for p in d.type.params if p.name not in inner.names]
        args = [a for a in call.args]
        # drop packet argument
        args = [a for a in args if not (isinstance(lw.value(a.expr, scope), ObjV)
                                        and lw.value(a.expr, scope).kind == "packet_in")]
        copy_out = bind_params(lw, params, args, scope, inner, call.loc, alias=False)
        self.declare_locals(d, iname, inner, emit_inits=False)
        saved_map = getattr(self, "_state_names_map", None)
        start = self.lower_parser_states(d, inner, accept_to=cont_name, prefix=iname.replace(".", "_") + "_")
        self._state_names_map = saved_map
        return start, copy_out

    def warn_reject(self, loc) -> None:
        """An explicit transition to `reject`.  BMv2 JSON has no reject state:
        p4c-bm2-ss (ParserConverter::stateName) warns "Explicit transition to
        reject not supported on this target" [unsupported] at the state name and
        emits `next_state: null`, i.e. parsing simply ends as if accepted, with
        `parser_error` unchanged.  We emit exactly that (once per location:
        an inlined sub-parser is lowered once per instance)."""
        if self.diags is None:
            return
        key = (loc.file, loc.line, loc.column) if loc is not None else None
        seen = self._reject_warned
        if key in seen:
            return
        seen.add(key)
        self.diags.warning(loc, "Explicit transition to reject not supported on this target",
                           kind="unsupported")

    def inline_subparser(self, lw, obj, call, scope):
        raise CompilerError(call.loc, "sub-parser apply must be a statement of a parser state")

    def lower_transition(self, tr, st, scope, names, accept_to):
        lw = self.lw
        def target(n, loc=None):
            if n == "accept":
                return accept_to
            if n == "reject":
                self.warn_reject(loc)
                return "$reject"
            return names[n]
        def default(n):
            return {"type": "default", "value": None, "mask": None, "next_state": n}
        if tr is None:
            st["transitions"] = [default(accept_to)]
            return
        if isinstance(tr, A.PathExpression):
            t = target(tr.path.name, tr.path.loc or tr.loc)
            if t == "$reject":
                t = None        # as p4c-bm2-ss: parsing just ends (see warn_reject)
            st["transitions"] = [default(t)]
            return
        if isinstance(tr, A.SelectExpression):
            keys, widths = [], []
            for k in tr.select:
                v = lw.value(k, scope)
                if isinstance(v, FieldV) and not isinstance(v.t, TBool):
                    keys.append(v.json())
                    widths.append(bit_width(v.t))
                else:
                    t = v.t if not isinstance(v.t, (TInt, TBool)) else TBits(1 if isinstance(v.t, TBool) else 32)
                    tmp = self.st.new_scalar("tmp", t)
                    lw.assign(tmp, v if not isinstance(v.t, TBool) else ExprV(op("b2d", None, lw.boolj(v)), TBits(1)), k.loc)
                    keys.append(tmp.json())
                    widths.append(bit_width(t))
            st["transition_key"] = keys
            trans = []
            for case in tr.cases:
                nxt = target(case.state.name, case.state.loc or case.loc)
                if nxt == "$reject":
                    nxt = None   # as p4c-bm2-ss (see warn_reject)
                ks = case.keyset
                if isinstance(ks, A.DefaultExpression):
                    trans.append(default(nxt))
                    continue
                if isinstance(ks, A.PathExpression):
                    vs = lw.lookup(ks.path.name, scope, ks.loc)
                    if isinstance(vs, ObjV) and vs.kind == "value_set":
                        trans.append({"type": "parse_vset", "value": vs.data, "mask": None, "next_state": nxt})
                        continue
                items = ks.items if isinstance(ks, A.ListExpression) and len(keys) > 1 else [ks]
                alts = []          # per key: list of (value, mask, full_mask?)
                all_default = True
                for it, w in zip(items, widths):
                    if isinstance(it, A.DefaultExpression):
                        alts.append([(0, 0)])
                    elif isinstance(it, A.Mask):
                        v = lw.const_of(it.value, scope) & mask(w)
                        m = lw.const_of(it.mask, scope) & mask(w)
                        alts.append([(v & m, m)])
                        all_default = False
                    elif isinstance(it, A.Range):
                        lo = lw.const_of(it.lo, scope) & mask(w)
                        hi = lw.const_of(it.hi, scope) & mask(w)
                        alts.append(range_to_masks(lo, hi, w))
                        all_default = False
                    else:
                        cv = lw.value(it, scope, TBits(w))
                        if isinstance(cv, ObjV) and cv.kind == "value_set":
                            # p4c's front and mid end accept a value set as one
                            # element of a tuple keyset (SimplifySelectCases allows
                            # it), but p4c-bm2-ss's ParserConverter::convertSimpleKey
                            # refuses every non-constant element: BMv2 matches a
                            # parse_vset against the whole transition key only.
                            raise CompilerError(it.loc, "must evaluate to a compile-time constant",
                                                kind="invalid")
                        alts.append([(int(cv.value) & mask(w), mask(w))])
                        all_default = False
                if all_default:
                    trans.append(default(nxt))
                    continue
                import itertools
                for combo in itertools.product(*alts):
                    vhex = mhex = ""
                    any_mask = False
                    for (v, m), w in zip(combo, widths):
                        nb = (w + 7) // 8
                        if m != mask(w):
                            any_mask = True
                        vhex += format(v, "x").rjust(nb * 2, "0")
                        mhex += format(m, "x").rjust(nb * 2, "0")
                    trans.append({"type": "hexstr", "value": "0x" + vhex,
                                  "mask": ("0x" + mhex) if any_mask else None, "next_state": nxt})
            # like p4c: no implicit default (BMv2 itself handles "no case matched")
            st["transitions"] = trans
            return
        raise CompilerError(tr.loc, "unsupported transition")

    # ------------------------------------------------------------ deparser & checksums
    def build_deparser(self, block, globals_):
        """The deparser's `order` (and `primitives`), as p4c's DeparserConverter:
        blocks are walked in order; `emit` of a header appends it (structs,
        stacks and unions expand to their headers, as p4c's expandEmit does);
        extern function calls become `primitives`; `return`/`exit` end the
        current statement list; anything else -- an `if` whose condition is not
        a compile-time constant, an assignment, a table or other method call --
        is p4c's error "<Statement>: not supported within a deparser on this
        target" [unsupported], one per statement.  BMv2 has one static `order`,
        so emitting it regardless of an `if` would change the program."""
        decl, ctor_args, iname = block
        scope = self.block_scope(decl, ctor_args, globals_)
        order: list[str] = []
        prims: list[dict] = []
        errors: list[CompilerError] = []
        lw = self.lw

        def unsupported(s, what: str) -> None:
            errors.append(CompilerError(s.loc, f"{what}: not supported within a deparser on this target",
                                        kind="unsupported"))

        def const_cond(e, sc):
            saved = lw.em
            lw.em = ActionEmitter()
            try:
                v = lw.value(e, sc)
            except CompilerError:
                return None
            finally:
                lw.em = saved
            return v.value if isinstance(v, ConstV) and isinstance(v.value, bool) else None

        def walk_list(stmts, sc) -> None:
            for c in stmts:
                if isinstance(c, (A.ReturnStatement, A.ExitStatement)):
                    break
                walk(c, sc)

        def walk(s, sc) -> None:
            if isinstance(s, A.BlockStatement):
                walk_list(s.components, sc.child())
            elif isinstance(s, A.EmptyStatement):
                pass
            elif isinstance(s, A.IfStatement):
                c = const_cond(s.cond, sc)      # p4c folds constant conditions first
                if c is None:
                    unsupported(s, "IfStatement")
                elif c:
                    walk_list([s.then], sc)
                elif s.other is not None:
                    walk_list([s.other], sc)
            elif isinstance(s, A.MethodCallStatement):
                m = s.call.method
                base = lw.value(m.expr, sc) if isinstance(m, A.Member) else None
                if isinstance(base, ObjV) and base.kind == "packet_out" and m.member == "emit":
                    v = lw.value(s.call.args[0].expr, sc)
                    for h in iter_headers(v):
                        if h.name not in order:
                            order.append(h.name)
                    return
                if isinstance(base, ObjV) and base.kind == "type" and m.member == "apply" and \
                        isinstance(base.decl, A.ControlDeclaration):
                    walk_subcontrol(base.decl, s.call, sc)      # p4c inlines it first
                    return
                if isinstance(base, ObjV) and base.kind == "instance" and m.member == "apply" and \
                        isinstance(base.decl, A.ControlDeclaration):
                    walk_subcontrol(base.decl, s.call, sc, base.data)
                    return
                target = lw.lookup(m.path.name, sc, m.loc) if isinstance(m, A.PathExpression) else None
                if isinstance(target, ObjV) and target.kind == "extern_function":
                    saved = lw.em
                    em = ActionEmitter()
                    lw.em = em
                    try:
                        lw.stmt(s, sc)
                    finally:
                        lw.em = saved
                    prims.extend(em.finish())
                    return
                unsupported(s, src_text(s.call))
            elif isinstance(s, A.ConstantDeclaration):
                lw.s_ConstantDeclaration(s, sc)
            elif isinstance(s, A.VariableDeclaration):
                pass        # p4c moves locals out of the body
            else:
                unsupported(s, type(s).__name__)
        def walk_subcontrol(d: A.ControlDeclaration, call, sc, inst=None) -> None:
            inner = Scope(Scope(env=self.env))
            if inst is not None:
                self.bind_ctor(d, inst[1], inner, inst[2])
            saved = lw.em
            lw.em = ActionEmitter()
            try:
                bind_params(lw, d.type.params, call.args, sc, inner, call.loc, alias=True)
                copies = lw.em.finish()
            finally:
                lw.em = saved
            if copies:
                unsupported(call, src_text(call))
                return
            self.declare_locals(d, inst[0] if inst is not None else d.name, inner, emit_inits=False)
            walk(d.body, inner)

        self.declare_locals(decl, iname, scope, emit_inits=False)
        walk(decl.body, scope)
        if errors:
            if self.diags is not None:      # all of them, in source order, like p4c
                for e in errors:
                    self.diags.record(e)
            raise errors[0]
        self.deparsers.append({"name": "deparser", "id": 0, "source_info": source_info(decl.loc, decl.name),
                               "order": order, "primitives": prims})

    def build_checksums(self, block, globals_, verify: bool):
        decl, ctor_args, iname = block
        scope = self.block_scope(decl, ctor_args, globals_)
        lw = self.lw
        self._cks_cond = [None]

        def walk(s, sc, cond):
            if isinstance(s, A.BlockStatement):
                inner = sc.child()
                for c in s.components:
                    walk(c, inner, cond)
            elif isinstance(s, A.IfStatement):
                c = lw.boolj(lw.value(s.cond, sc))
                walk(s.then, sc, c if cond is None else op("and", cond, c))
                if s.other is not None:
                    nc = op("not", None, c)
                    walk(s.other, sc, nc if cond is None else op("and", cond, nc))
            elif isinstance(s, A.MethodCallStatement):
                m = s.call.method
                if isinstance(m, A.PathExpression):
                    self._cks_cond[0] = cond
                    self.checksum_call(lw, m.path.name, s.call, sc)
            elif isinstance(s, A.ConstantDeclaration):
                lw.s_ConstantDeclaration(s, sc)
        walk(decl.body, scope, None)

    def checksum_call(self, lw, name, call, scope):
        from ..midend.calls import ordered_args
        args = ordered_args(lw, name, call)
        if name not in ("verify_checksum", "update_checksum", "verify_checksum_with_payload",
                        "update_checksum_with_payload"):
            return
        c = lw.value(args[0], scope)
        data = lw.value(args[1], scope)
        dst = lw.value(args[2], scope)
        algo = lw.value(args[3], scope)
        from ..midend.calls import algo_name
        inputs = []
        for it in flatten_scalars(data):
            j = _scalar_input(it)
            if j is None:
                raise CompilerError(call.loc, "checksum inputs must be fields or constants")
            inputs.append(j)
        if name.endswith("with_payload"):
            inputs.append({"type": "payload"})
        si = source_info(call.loc, src_text(call))
        cname = self.st.unique("calc", self._unique)
        self.calculations.append({"name": cname, "id": len(self.calculations), "source_info": si,
                                  "algo": algo_name(algo), "input": inputs})
        cond = lw.boolj(c)
        outer = self._cks_cond[0] if hasattr(self, "_cks_cond") else None
        if outer is not None:
            cond = op("and", outer, cond)
        self.checksums.append({"name": self.st.unique("cksum", self._unique), "id": len(self.checksums),
                               "source_info": si, "target": [dst.hdr, dst.field], "type": "generic",
                               "calculation": cname, "verify": name.startswith("verify"),
                               "update": name.startswith("update"), "if_cond": cond})

    # ------------------------------------------------------------ assemble
    def assemble(self) -> dict:
        doc = {}
        doc.update(self.st.json_sections())
        doc["field_lists"] = self.field_lists
        errors = [[n, i] for i, n in enumerate(self.env.errors)]
        doc["errors"] = errors
        doc["enums"] = []
        doc["parsers"] = self.parsers
        doc["parse_vsets"] = self.parse_vsets
        doc["deparsers"] = self.deparsers
        sizes = {t["name"]: t["max_size"] for p in self.pipelines for t in p["tables"]}
        for v, tname in self._direct_meters:
            self.meter_arrays.append({"name": v.data["name"], "id": len(self.meter_arrays), "is_direct": True,
                                      "rate_count": 2, "type": v.data.get("mtype", "bytes"),
                                      "size": sizes.get(tname, 1024),
                                      "binding": tname, "result_target": v.data.get("result")})
        doc["meter_arrays"] = self.meter_arrays
        doc["counter_arrays"] = self.counter_arrays
        doc["register_arrays"] = self.register_arrays
        doc["calculations"] = self.calculations
        doc["learn_lists"] = self.learn_lists
        doc["actions"] = self.actions
        for i, p in enumerate(self.pipelines):
            p["id"] = i
            for j, t in enumerate(p["tables"]):
                t["id"] = j
            for j, c in enumerate(p["conditionals"]):
                c["id"] = j
        doc["pipelines"] = self.pipelines
        doc["checksums"] = self.checksums
        doc["force_arith"] = []
        doc["extern_instances"] = self.extern_instances
        doc["field_aliases"] = FIELD_ALIASES
        doc["program"] = os.path.basename(self.source)
        doc["__meta__"] = {"version": [2, 23], "compiler": "p4pc (p4lvs)"}
        _drop_null_source_info(doc)
        return doc


def _scalar_input(it) -> dict | None:
    """The BMv2 calculation input for a field or a constant (an int constant
    counts as bit<32>); None for anything else, which callers treat their own
    way (hash: headers and temporaries; checksum: an error)."""
    if isinstance(it, FieldV):
        return it.json()
    if isinstance(it, ConstV):
        w = bit_width(it.t) if not isinstance(it.t, TInt) else 32
        return {"type": "hexstr", "value": hexstr(it.value & mask(w), w)["value"], "bitwidth": w}
    return None


def _drop_null_source_info(x) -> None:
    """BMv2 parses `source_info` when present: omit it rather than write null."""
    if isinstance(x, dict):
        if x.get("source_info", 1) is None:
            del x["source_info"]
        for v in x.values():
            _drop_null_source_info(v)
    elif isinstance(x, list):
        for v in x:
            _drop_null_source_info(v)


def range_to_masks(lo: int, hi: int, w: int) -> list[tuple[int, int]]:
    """Cover [lo, hi] with value/mask pairs (aligned power-of-two blocks)."""
    out = []
    while lo <= hi:
        size = lo & -lo if lo else 1 << w
        while size > hi - lo + 1:
            size >>= 1
        out.append((lo, mask(w) & ~(size - 1)))
        lo += size
    return out


def compile_program(program: A.Program, source: str, diags=None) -> dict:
    """AST -> BMv2 JSON document.  `diags` (optional) receives errors that p4c
    reports together with the fatal one."""
    pb = ProgramBuilder(program, source, diags)
    return pb.build()
