"""BMv2 JSON (format 2.x) -> typed program model.

Every reference in the JSON (header types, instances, stacks, unions, field
lists, parser states, tables, actions, conditionals, calculations, externs,
counters, meters, registers, learn lists, value sets, errors, enums, aliases) is
resolved here, once. Anything malformed or unsupported raises JsonLoadError
with the JSON path of the offending object, never a KeyError/TypeError.

The model also fixes the PHV layout: each header instance owns a run of slots
(one per field, one for the varbit length if any, one for validity) in a flat
per-packet list; every stack / union stack owns one slot for its `next` index.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .bits import parse_hexstr
from .errors import JsonLoadError

# ---------------------------------------------------------------- model types


@dataclass
class HeaderType:
    name: str
    id: int
    fields: list[tuple[str, int | None, bool]]   # (name, width or None=varbit, signed)
    varbit_index: int | None = None
    length_exp: Any = None
    max_length: int | None = None

    @property
    def fixed_bits(self) -> int:
        return sum(w for _, w, _ in self.fields if w is not None)


@dataclass(eq=False)
class FieldRef:
    header: Header
    index: int          # position in the header type
    name: str
    width: int          # for a varbit field: its maximum width
    signed: bool
    slot: int           # PHV slot
    varbit: bool = False


@dataclass(eq=False)
class Header:
    name: str
    id: int
    type: HeaderType
    metadata: bool
    base: int = 0                       # first PHV slot
    valid_slot: int = 0
    vl_slot: int | None = None          # PHV slot holding the varbit field's current width
    fields: list[FieldRef] = field(default_factory=list)
    by_name: dict[str, FieldRef] = field(default_factory=dict)
    union: HeaderUnion | None = None  # union this header belongs to
    union_index: int = 0

    @property
    def nslots(self) -> int:
        return self.valid_slot - self.base + 1

    @property
    def nbytes(self) -> int:            # packet bytes, varbit counted as 0
        return (self.type.fixed_bits + 7) // 8


@dataclass(eq=False)
class HeaderStack:
    name: str
    id: int
    type: HeaderType
    headers: list[Header]
    next_slot: int = 0


@dataclass(eq=False)
class HeaderUnion:
    name: str
    id: int
    type_name: str
    member_names: list[str]
    headers: list[Header]


@dataclass(eq=False)
class HeaderUnionStack:
    name: str
    id: int
    type_name: str
    unions: list[HeaderUnion]
    next_slot: int = 0


@dataclass
class Expr:
    """A resolved JSON type-value object / expression node.

    kind: const, bool, field, valid (header validity), local, runtime_data,
    header, stack, union, union_stack, stack_field, union_stack_field, op,
    lookahead, string, calculation, counter_array, meter_array, register_array,
    register (a register cell read), extern, vector.
    """
    kind: str
    value: Any = None
    op: str | None = None
    left: Expr | None = None
    right: Expr | None = None
    cond: Expr | None = None
    path: str = ""


@dataclass
class Primitive:
    op: str
    params: list[Expr]
    path: str


@dataclass(eq=False)
class Action:
    """A JSON action. `fn(P, D, K)` is attached by the code generator."""
    id: int
    name: str
    params: list[tuple[str, int]]
    primitives: list[Primitive]
    fn: Any = None

    def __repr__(self) -> str:
        return f"Action({self.name!r}, id={self.id})"


@dataclass
class ParserOp:
    op: str
    params: list[Any]
    path: str


@dataclass
class Transition:
    type: str                 # hexstr | default | parse_vset
    value: int | str | None   # int for hexstr, vset name for parse_vset
    mask: int | None
    next_state: str | None
    path: str


@dataclass
class ParseState:
    name: str
    id: int
    ops: list[ParserOp]
    key: list[Expr]           # field / stack_field / union_stack_field / lookahead / expression
    key_widths: list[int]
    transitions: list[Transition]
    path: str


@dataclass
class Parser:
    name: str
    id: int
    init_state: str | None
    states: dict[str, ParseState]


@dataclass
class Deparser:
    """`primitives`: the JSON deparser's "primitives" (extern calls in the P4
    deparser); BMv2 runs each as its own action without runtime data, after
    the checksum update and before the headers are emitted."""
    name: str
    id: int
    order: list[Header]
    primitives: list[Primitive] = field(default_factory=list)


@dataclass
class CalcInput:
    kind: str                 # field | hexstr | header | payload
    field: FieldRef | None = None
    header: Header | None = None
    value: int = 0
    width: int = 0


@dataclass
class Calculation:
    name: str
    id: int
    algo: str
    inputs: list[CalcInput]


@dataclass
class Checksum:
    name: str
    id: int
    target: FieldRef
    calculation: Calculation
    update: bool
    verify: bool
    if_cond: Expr | None


@dataclass
class KeySpec:
    match_type: str
    name: str
    target: FieldRef | Header      # Header for match_type "valid"
    mask: int | None
    width: int


@dataclass
class ConstEntry:
    match: list[dict]
    action: Action
    data: list[int]
    priority: int
    path: str


@dataclass
class DefaultEntry:
    action: Action
    data: list[int]
    action_const: bool
    entry_const: bool


@dataclass(eq=False)
class Table:
    name: str
    id: int
    match_type: str
    type: str
    profile: ActionProfile | None
    max_size: int
    with_counters: bool
    support_timeout: bool
    keys: list[KeySpec]
    actions: list[Action]
    next_tables: dict[str, str | None]      # action name / __HIT__ / __MISS__ -> node name
    base_default_next: str | None
    direct_meter: str | None
    default_entry: DefaultEntry | None
    entries: list[ConstEntry]
    path: str


@dataclass(eq=False)
class ActionProfile:
    name: str
    id: int
    max_size: int
    selector_algo: str | None
    selector_inputs: list[FieldRef]


@dataclass(eq=False)
class Conditional:
    name: str
    id: int
    expr: Expr
    true_next: str | None
    false_next: str | None


@dataclass(eq=False)
class ActionCall:
    name: str
    id: int
    action: Action
    next_node: str | None


@dataclass
class Pipeline:
    name: str
    id: int
    init_table: str | None
    tables: dict[str, Table]
    conditionals: dict[str, Conditional]
    action_calls: dict[str, ActionCall]
    profiles: dict[str, ActionProfile]


@dataclass
class CounterSpec:
    name: str
    id: int
    size: int
    is_direct: bool
    binding: str | None


@dataclass
class MeterSpec:
    name: str
    id: int
    size: int
    type: str
    rate_count: int
    is_direct: bool
    binding: str | None
    result_target: FieldRef | None


@dataclass
class RegisterSpec:
    name: str
    id: int
    size: int
    bitwidth: int


@dataclass
class FieldList:
    name: str
    id: int
    fields: list[FieldRef]


@dataclass
class LearnList:
    name: str
    id: int
    fields: list[FieldRef]


@dataclass
class ParseVsetSpec:
    name: str
    id: int
    compressed_bitwidth: int


@dataclass
class Program:
    """The whole loaded program; also the PHV layout."""
    version: tuple[int, int]
    header_types: dict[str, HeaderType]
    headers: dict[str, Header]
    headers_by_id: dict[int, Header]
    stacks: dict[str, HeaderStack]
    unions: dict[str, HeaderUnion]
    union_stacks: dict[str, HeaderUnionStack]
    errors: dict[str, int]
    enums: dict[str, dict[str, int]]
    field_lists: dict[int, FieldList]
    learn_lists: dict[int, LearnList]
    parsers: dict[str, Parser]
    deparsers: dict[str, Deparser]
    parse_vsets: dict[str, ParseVsetSpec]
    actions: list[Action]
    actions_by_id: dict[int, Action]
    calculations: dict[str, Calculation]
    checksums: list[Checksum]
    pipelines: dict[str, Pipeline]
    counters: dict[str, CounterSpec]
    meters: dict[str, MeterSpec]
    registers: dict[str, RegisterSpec]
    extern_instances: dict[str, dict]
    field_aliases: dict[str, FieldRef]
    nslots: int
    template: list[int]                 # initial PHV: metadata valid, all zero

    def table_keys(self, name: str):
        """KeyField list (p4switch.tables.KeyField) of a table, in key order."""
        from .tables import KeyField  # late import: tables is another module
        for p in self.pipelines.values():
            if name in p.tables:
                return [KeyField(k.name, k.match_type, k.width) for k in p.tables[name].keys]
        raise KeyError(name)

    def find_field(self, dotted: str) -> FieldRef | None:
        """`hdr.field` (or an alias) -> FieldRef, or None."""
        if dotted in self.field_aliases:
            return self.field_aliases[dotted]
        hname, _, fname = dotted.rpartition(".")
        h = self.headers.get(hname)
        if h is None:
            return None
        return h.by_name.get(fname)


# ---------------------------------------------------------------- helpers

SUPPORTED_MAJOR = 2

EXPR_OPS = {
    "+", "-", "*", "/", "%", "<<", ">>", "==", "!=", ">", ">=", "<", "<=",
    "and", "or", "not", "&", "|", "^", "~", "valid", "valid_union", "d2b", "b2d",
    "two_comp_mod", "sat_cast", "usat_cast", "?", "dereference_header_stack",
    "last_stack_index", "size_stack", "access_field", "dereference_union_stack",
    "access_union_header",
}

PRIMITIVES = {
    "add_header_fast", "assign", "assign_VL", "assign_header", "assign_union", "assign_header_stack",
    "assign_union_stack", "push", "pop", "add_header", "remove_header",
    "mark_to_drop", "drop", "clone_ingress_pkt_to_egress", "clone_egress_pkt_to_egress",
    "resubmit", "recirculate", "modify_field_with_hash_based_offset",
    "modify_field_rng_uniform", "generate_digest", "count", "execute_meter",
    "register_read", "register_write", "truncate", "log_msg", "assert", "assume",
    "exit", "_jump", "_jump_if_zero", "no_op", "modify_field", "add_to_field",
    "subtract_from_field", "copy_header", "add", "subtract", "bit_and", "bit_or",
    "bit_xor", "shift_left", "shift_right",
}


class _Ctx:
    """Loader state: the partially built model used to resolve references."""

    def __init__(self):
        self.header_types: dict[str, HeaderType] = {}
        self.headers: dict[str, Header] = {}
        self.headers_by_id: dict[int, Header] = {}
        self.stacks: dict[str, HeaderStack] = {}
        self.unions: dict[str, HeaderUnion] = {}
        self.union_stacks: dict[str, HeaderUnionStack] = {}
        self.calculations: dict[str, Calculation] = {}
        self.counters: dict[str, CounterSpec] = {}
        self.meters: dict[str, MeterSpec] = {}
        self.registers: dict[str, RegisterSpec] = {}
        self.externs: dict[str, dict] = {}
        self.parse_vsets: dict[str, ParseVsetSpec] = {}
        self.field_lists: dict[int, FieldList] = {}
        self.learn_lists: dict[int, LearnList] = {}
        self.aliases: dict[str, FieldRef] = {}


def _key(x: Any) -> Any:
    """A JSON value usable as a lookup key (lists/dicts never match anything)."""
    return x if isinstance(x, (str, int, float, bool)) or x is None else object()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fail(path: str, msg: str):
    raise JsonLoadError(path, msg)


def _get(obj: Any, key: str, path: str, types=None, default: Any = ..., ) -> Any:
    if not isinstance(obj, dict):
        _fail(path, f"expected a JSON object, got {type(obj).__name__}")
    if key not in obj:
        if default is ...:
            _fail(path, f"missing attribute '{key}'")
        return default
    v = obj[key]
    if types is not None and not isinstance(v, types):
        if v is None and default is not ...:
            return default
        tn = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        _fail(_join(path, key), f"expected {tn}, got {type(v).__name__}")
    if types is int and isinstance(v, bool):
        _fail(_join(path, key), "expected int, got bool")
    return v


def _list(obj: Any, key: str, path: str, required: bool = False) -> list:
    if not isinstance(obj, dict):
        _fail(path, "expected a JSON object")
    v = obj.get(key)
    if v is None:
        if required:
            _fail(path, f"missing attribute '{key}'")
        return []
    if not isinstance(v, list):
        _fail(_join(path, key), f"expected a JSON array, got {type(v).__name__}")
    return v


def _hex(v: Any, path: str) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if not isinstance(v, str):
        _fail(path, f"expected a hex string, got {type(v).__name__}")
    try:
        return parse_hexstr(v)
    except ValueError:
        _fail(path, f"bad hex string {v!r}")


# ---------------------------------------------------------------- references

def _header(ctx: _Ctx, name: Any, path: str) -> Header:
    if not isinstance(name, str):
        _fail(path, "expected a header instance name")
    h = ctx.headers.get(name)
    if h is None:
        _fail(path, f"unknown header instance '{name}'")
    return h


def _field(ctx: _Ctx, v: Any, path: str) -> FieldRef | Expr:
    """Resolve a [header, field] pair. `$valid$` yields a 'valid' Expr."""
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)):
        _fail(path, "expected a [header, field] pair")
    hname, fname = v
    if hname not in ctx.headers:
        alias = ctx.aliases.get(f"{hname}.{fname}")
        if alias is not None:
            return alias
        _fail(path, f"unknown header instance '{hname}'")
    h = ctx.headers[hname]
    if fname == "$valid$":
        return Expr("valid", h, path=path)
    f = h.by_name.get(fname)
    if f is None:
        _fail(path, f"header '{hname}' has no field '{fname}'")
    return f


def _field_only(ctx: _Ctx, v: Any, path: str) -> FieldRef:
    f = _field(ctx, v, path)
    if isinstance(f, Expr):
        _fail(path, "the hidden field $valid$ is read-only here")
    return f


def _named(table: dict, kind: str, name: Any, path: str):
    if not isinstance(name, str) or name not in table:
        _fail(path, f"unknown {kind} {name!r}")
    return table[name]


#: type-value objects that only name an object loaded earlier:
#: JSON type -> (Expr kind, _Ctx table, the name an error message uses)
_NAMED_VALUES: dict[str, tuple[str, str, str]] = {
    "header_stack": ("stack", "stacks", "header stack"),
    "header_union": ("union", "unions", "header union"),
    "header_union_stack": ("union_stack", "union_stacks", "header union stack"),
    "calculation": ("calculation", "calculations", "calculation"),
    "counter_array": ("counter_array", "counters", "counter array"),
    "meter_array": ("meter_array", "meters", "meter array"),
    "register_array": ("register_array", "registers", "register array"),
    "extern": ("extern", "externs", "extern instance"),
}


def parse_expr(ctx: _Ctx, tv: Any, path: str) -> Expr:
    """A type-value object (or raw expression node) -> Expr."""
    if not isinstance(tv, dict):
        _fail(path, f"expected a type/value object, got {type(tv).__name__}")
    if "op" in tv and "type" not in tv:
        return _parse_op(ctx, tv, path)
    t = _get(tv, "type", path, str)
    v = tv.get("value")
    vp = f"{path}.value"
    named = _NAMED_VALUES.get(t)
    if named is not None:
        kind, attr, what = named
        return Expr(kind, _named(getattr(ctx, attr), what, v, vp), path=path)
    if t == "hexstr":
        return Expr("const", _hex(v, vp), path=path)
    if t == "bool":
        if not isinstance(v, bool):
            _fail(vp, "expected true/false")
        return Expr("bool", v, path=path)
    if t == "field":
        f = _field(ctx, v, vp)
        return f if isinstance(f, Expr) else Expr("field", f, path=path)
    if t in ("local", "runtime_data"):
        if not isinstance(v, int):
            _fail(vp, "expected an integer index")
        return Expr(t, v, path=path)
    if t == "header":
        return Expr("header", _header(ctx, v, vp), path=path)
    if t == "stack_field":
        if not (isinstance(v, list) and len(v) == 2):
            _fail(vp, "expected [stack, field]")
        st = _named(ctx.stacks, "header stack", v[0], f"{vp}[0]")
        if v[1] not in [f[0] for f in st.type.fields]:
            _fail(f"{vp}[1]", f"stack '{st.name}' has no field {v[1]!r}")
        return Expr("stack_field", (st, [f[0] for f in st.type.fields].index(v[1])), path=path)
    if t == "union_stack_field":
        if not (isinstance(v, list) and len(v) == 3):
            _fail(vp, "expected [union stack, member, field]")
        us = _named(ctx.union_stacks, "header union stack", v[0], f"{vp}[0]")
        u0 = us.unions[0] if us.unions else None
        if u0 is None or v[1] not in u0.member_names:
            _fail(f"{vp}[1]", f"unknown union member {v[1]!r}")
        mi = u0.member_names.index(v[1])
        h0 = u0.headers[mi]
        if v[2] not in h0.by_name:
            _fail(f"{vp}[2]", f"unknown field {v[2]!r}")
        return Expr("union_stack_field", (us, mi, h0.by_name[v[2]].index), path=path)
    if t == "lookahead":
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)):
            _fail(vp, "expected [bit offset, bitwidth]")
        return Expr("lookahead", (v[0], v[1]), path=path)
    if t == "expression":
        if isinstance(v, dict) and "op" in v:
            return _parse_op(ctx, v, vp)
        return parse_expr(ctx, v, vp)
    if t == "string":
        if not isinstance(v, str):
            _fail(vp, "expected a string")
        return Expr("string", v, path=path)
    if t == "register":
        if not (isinstance(v, list) and len(v) == 2):
            _fail(vp, "expected [register array, index expression]")
        r = _named(ctx.registers, "register array", v[0], f"{vp}[0]")
        return Expr("register", r, right=parse_expr(ctx, v[1], f"{vp}[1]"), path=path)
    if t == "parameters_vector":
        if not isinstance(v, list):
            _fail(vp, "expected an array")
        return Expr("vector", [parse_expr(ctx, x, f"{vp}[{i}]") for i, x in enumerate(v)], path=path)
    _fail(f"{path}.type", f"unsupported value type {t!r}")


def _parse_op(ctx: _Ctx, node: dict, path: str) -> Expr:
    op = _get(node, "op", path, str)
    if op not in EXPR_OPS:
        _fail(f"{path}.op", f"unsupported expression operator {op!r}")
    left = node.get("left")
    right = node.get("right")
    e = Expr("op", op=op, path=path)
    if op == "access_field" or op == "access_union_header":
        if not isinstance(right, int):
            _fail(f"{path}.right", "expected an integer offset")
        e.left = parse_expr(ctx, left, f"{path}.left")
        e.value = right
        return e
    e.left = parse_expr(ctx, left, f"{path}.left") if left is not None else None
    if right is None:
        _fail(f"{path}.right", "missing operand")
    e.right = parse_expr(ctx, right, f"{path}.right")
    if op == "?":
        e.cond = parse_expr(ctx, _get(node, "cond", path), f"{path}.cond")
        if e.left is None:
            _fail(f"{path}.left", "missing operand")
    binary = op not in ("not", "~", "valid", "valid_union", "d2b", "b2d",
                        "last_stack_index", "size_stack")
    if binary and e.left is None:
        _fail(f"{path}.left", f"operator {op!r} needs two operands")
    return e


# ---------------------------------------------------------------- sections

def _load_header_types(ctx: _Ctx, j: dict):
    for i, ht in enumerate(_list(j, "header_types", "")):
        p = f"header_types[{i}]"
        name = _get(ht, "name", p, str)
        fields = []
        vb = None
        for k, f in enumerate(_list(ht, "fields", p, True)):
            fp = f"{p}.fields[{k}]"
            if not isinstance(f, list) or len(f) not in (2, 3) or not isinstance(f[0], str):
                _fail(fp, "expected [name, width(, signed)]")
            w = f[1]
            signed = bool(f[2]) if len(f) == 3 else False
            if w == "*":
                if vb is not None:
                    _fail(fp, "more than one variable-length field")
                vb = k
                fields.append((f[0], None, False))
                continue
            if not isinstance(w, int) or isinstance(w, bool) or w < 0:
                _fail(fp, f"bad field width {w!r}")
            fields.append((f[0], w, signed))
        t = HeaderType(name, _get(ht, "id", p, int, 0), fields, vb)
        if vb is not None:
            ml = ht.get("max_length")
            if not isinstance(ml, int):
                _fail(p, "header type with a varbit field needs 'max_length'")
            t.max_length = ml
            t.length_exp = ht.get("length_exp")
        ctx.header_types[name] = t


def _check_byte_aligned(ht: HeaderType, path: str) -> None:
    """BMv2 builds every header instance (metadata ones and the fixed part of
    a varbit header included) with ``assert(nbytes_packet % 8 == 0)`` over the
    widths of its non-hidden fields (a varbit field counts 0), so simple_switch
    aborts on such a JSON; p4c pads every type (``_padding`` fields) to whole
    bytes.  Refuse it here with the type and its width named."""
    bits = sum(w for _, w, _ in ht.fields if w is not None)
    if bits % 8:
        what = "fixed-width fields of" if ht.varbit_index is not None else "fields of"
        _fail(path, f"header type {ht.name!r}: the {what} add up to {bits} bits, not a whole "
                    f"number of bytes (BMv2 requires every header, metadata included, to be "
                    f"a multiple of 8 bits; pad it)")


def _layout_headers(ctx: _Ctx, j: dict) -> int:
    slot = 0
    for i, h in enumerate(_list(j, "headers", "")):
        p = f"headers[{i}]"
        name = _get(h, "name", p, str)
        tname = _get(h, "header_type", p, str)
        if tname not in ctx.header_types:
            _fail(f"{p}.header_type", f"unknown header type {tname!r}")
        ht = ctx.header_types[tname]
        _check_byte_aligned(ht, f"{p}.header_type")
        hdr = Header(name, _get(h, "id", p, int), ht, bool(h.get("metadata", False)))
        hdr.base = slot
        for k, (fname, w, signed) in enumerate(ht.fields):
            vb = w is None
            width = (ht.max_length * 8 - ht.fixed_bits) if vb else w
            fr = FieldRef(hdr, k, fname, width, signed, slot, vb)
            hdr.fields.append(fr)
            hdr.by_name[fname] = fr
            slot += 1
        if ht.varbit_index is not None:
            hdr.vl_slot = slot
            slot += 1
        hdr.valid_slot = slot
        slot += 1
        if name in ctx.headers:
            _fail(f"{p}.name", f"duplicate header instance {name!r}")
        ctx.headers[name] = hdr
        ctx.headers_by_id[hdr.id] = hdr
    for i, s in enumerate(_list(j, "header_stacks", "")):
        p = f"header_stacks[{i}]"
        name = _get(s, "name", p, str)
        tname = _get(s, "header_type", p, str)
        if tname not in ctx.header_types:
            _fail(f"{p}.header_type", f"unknown header type {tname!r}")
        hs = []
        for k, hid in enumerate(_list(s, "header_ids", p, True)):
            if _key(hid) not in ctx.headers_by_id:
                _fail(f"{p}.header_ids[{k}]", f"unknown header id {hid!r}")
            hs.append(ctx.headers_by_id[hid])
        st = HeaderStack(name, _get(s, "id", p, int, 0), ctx.header_types[tname], hs, slot)
        slot += 1
        ctx.stacks[name] = st
    for i, u in enumerate(_list(j, "header_unions", "")):
        p = f"header_unions[{i}]"
        name = _get(u, "name", p, str)
        utn = _get(u, "union_type", p, str)
        ut = next((x for x in _list(j, "header_union_types", "") if isinstance(x, dict) and x.get("name") == utn), None)
        if ut is None:
            _fail(f"{p}.union_type", f"unknown header union type {utn!r}")
        members = [m[0] for m in ut.get("headers", []) if isinstance(m, list) and m]
        hs = []
        for k, hid in enumerate(_list(u, "header_ids", p, True)):
            if _key(hid) not in ctx.headers_by_id:
                _fail(f"{p}.header_ids[{k}]", f"unknown header id {hid!r}")
            hs.append(ctx.headers_by_id[hid])
        if len(members) != len(hs):
            members = [h.name.rsplit(".", 1)[-1] for h in hs]
        un = HeaderUnion(name, _get(u, "id", p, int, 0), utn, members, hs)
        for k, h in enumerate(hs):
            h.union = un
            h.union_index = k
        ctx.unions[name] = un
    unions_by_id = {u.id: u for u in ctx.unions.values()}
    for i, us in enumerate(_list(j, "header_union_stacks", "")):
        p = f"header_union_stacks[{i}]"
        name = _get(us, "name", p, str)
        items = []
        for k, uid in enumerate(_list(us, "header_union_ids", p, True)):
            if _key(uid) not in unions_by_id:
                _fail(f"{p}.header_union_ids[{k}]", f"unknown header union id {uid!r}")
            items.append(unions_by_id[uid])
        ctx.union_stacks[name] = HeaderUnionStack(name, _get(us, "id", p, int, 0),
                                                  _get(us, "union_type", p, str, ""), items, slot)
        slot += 1
    return slot


def _load_calculations(ctx: _Ctx, j: dict):
    for i, c in enumerate(_list(j, "calculations", "")):
        p = f"calculations[{i}]"
        name = _get(c, "name", p, str)
        algo = _get(c, "algo", p, str)
        inputs = []
        for k, inp in enumerate(_list(c, "input", p, True)):
            ip = f"{p}.input[{k}]"
            t = _get(inp, "type", ip, str)
            v = inp.get("value")
            if t == "field":
                f = _field(ctx, v, f"{ip}.value")
                if isinstance(f, Expr):
                    _fail(f"{ip}.value", "$valid$ cannot be a calculation input")
                inputs.append(CalcInput("field", field=f))
            elif t == "hexstr":
                bw = _get(inp, "bitwidth", ip, int)
                inputs.append(CalcInput("hexstr", value=_hex(v, f"{ip}.value"), width=bw))
            elif t == "header":
                inputs.append(CalcInput("header", header=_header(ctx, v, f"{ip}.value")))
            elif t == "payload":
                inputs.append(CalcInput("payload"))
            else:
                _fail(f"{ip}.type", f"unsupported calculation input type {t!r}")
        ctx.calculations[name] = Calculation(name, _get(c, "id", p, int, 0), algo, inputs)


def _load_field_lists(ctx: _Ctx, j: dict, key: str, cls):
    out = {}
    for i, fl in enumerate(_list(j, key, "")):
        p = f"{key}[{i}]"
        fields = []
        for k, e in enumerate(_list(fl, "elements", p)):
            ep = f"{p}.elements[{k}]"
            t = _get(e, "type", ep, str)
            if t != "field":
                _fail(f"{ep}.type", f"unsupported field list element type {t!r}")
            fields.append(_field_only(ctx, e.get("value"), f"{ep}.value"))
        fid = _get(fl, "id", p, int)
        out[fid] = cls(_get(fl, "name", p, str), fid, fields)
    return out


def _extern_call_message(op: str, inst: Any) -> str:
    """p4c-bm2-ss writes a method call on an extern object as primitive
    "_<ExternType>_<method>" whose first parameter is the instance. Stock
    simple_switch registers no extern types (it refuses such a JSON), so
    neither does p4sw; the message names the instance, type and method."""
    iname = inst.get("name") if isinstance(inst, dict) else None
    itype = inst.get("type") if isinstance(inst, dict) else None
    method = op
    if isinstance(itype, str) and op.startswith(f"_{itype}_"):
        method = op[len(itype) + 2:]
    return (f"unsupported extern method call {op!r}: method {method!r} of extern {iname!r} "
            f"(type {itype!r}); simple_switch supports no extern types")


def _load_primitive(ctx: _Ctx, prim: Any, path: str) -> Primitive:
    op = _get(prim, "op", path, str)
    params = [parse_expr(ctx, x, f"{path}.parameters[{i}]")
              for i, x in enumerate(_list(prim, "parameters", path))]
    if op not in PRIMITIVES:
        if params and params[0].kind == "extern":
            _fail(f"{path}.op", _extern_call_message(op, params[0].value))
        _fail(f"{path}.op", f"unsupported primitive {op!r}")
    return Primitive(op, params, path)


def _load_parser(ctx: _Ctx, prs: dict, p: str) -> Parser:
    name = _get(prs, "name", p, str)
    states: dict[str, ParseState] = {}
    raw_states = _list(prs, "parse_states", p, True)
    names = set()
    for i, s in enumerate(raw_states):
        names.add(_get(s, "name", f"{p}.parse_states[{i}]", str))
    for i, s in enumerate(raw_states):
        sp = f"{p}.parse_states[{i}]"
        ops = []
        for k, o in enumerate(_list(s, "parser_ops", sp)):
            op_p = f"{sp}.parser_ops[{k}]"
            opn = _get(o, "op", op_p, str)
            params = _list(o, "parameters", op_p)
            pp = f"{op_p}.parameters"
            if opn in ("extract", "extract_VL"):
                if not params:
                    _fail(pp, "missing parameter")
                t = _get(params[0], "type", f"{pp}[0]", str)
                v = params[0].get("value")
                if t == "regular":
                    tgt = ("regular", _header(ctx, v, f"{pp}[0].value"))
                elif t == "stack":
                    tgt = ("stack", _named(ctx.stacks, "header stack", v, f"{pp}[0].value"))
                elif t == "union_stack":
                    if not (isinstance(v, list) and len(v) == 2):
                        _fail(f"{pp}[0].value", "expected [union stack, member]")
                    us = _named(ctx.union_stacks, "header union stack", v[0], f"{pp}[0].value[0]")
                    if not us.unions or v[1] not in us.unions[0].member_names:
                        _fail(f"{pp}[0].value[1]", f"unknown union member {v[1]!r}")
                    tgt = ("union_stack", (us, us.unions[0].member_names.index(v[1])))
                else:
                    _fail(f"{pp}[0].type", f"unsupported extract target type {t!r}")
                args = [tgt]
                if opn == "extract_VL":
                    if len(params) < 2:
                        _fail(pp, "extract_VL needs a length expression")
                    args.append(parse_expr(ctx, params[1], f"{pp}[1]"))
                ops.append(ParserOp(opn, args, op_p))
            elif opn == "set":
                if len(params) != 2:
                    _fail(pp, "set needs 2 parameters")
                dst = parse_expr(ctx, params[0], f"{pp}[0]")
                if dst.kind != "field" and not (dst.kind == "op" and dst.op == "access_field"):
                    _fail(f"{pp}[0]", "set destination must be a field")
                ops.append(ParserOp("set", [dst, parse_expr(ctx, params[1], f"{pp}[1]")], op_p))
            elif opn == "verify":
                if len(params) != 2:
                    _fail(pp, "verify needs 2 parameters")
                ops.append(ParserOp("verify", [parse_expr(ctx, params[0], f"{pp}[0]"),
                                               parse_expr(ctx, params[1], f"{pp}[1]")], op_p))
            elif opn in ("shift", "advance"):
                if len(params) != 1:
                    _fail(pp, f"{opn} needs 1 parameter")
                ops.append(ParserOp(opn, [parse_expr(ctx, params[0], f"{pp}[0]")], op_p))
            elif opn == "primitive":
                if len(params) != 1:
                    _fail(pp, "primitive needs 1 parameter")
                ops.append(ParserOp("primitive", [_load_primitive(ctx, params[0], f"{pp}[0]")], op_p))
            else:
                _fail(f"{op_p}.op", f"unsupported parser operation {opn!r}")
        key = []
        widths = []
        for k, tk in enumerate(_list(s, "transition_key", sp)):
            kp = f"{sp}.transition_key[{k}]"
            e = parse_expr(ctx, tk, kp)
            if e.kind == "field":
                w = e.value.width
            elif e.kind == "valid":
                w = 1
            elif e.kind == "stack_field":
                st, fi = e.value
                w = st.headers[0].fields[fi].width if st.headers else 0
            elif e.kind == "union_stack_field":
                us, mi, fi = e.value
                w = us.unions[0].headers[mi].fields[fi].width
            elif e.kind == "lookahead":
                w = e.value[1]
            else:
                _fail(kp, f"unsupported transition key type {tk.get('type')!r}")
            key.append(e)
            widths.append(w)
        trans = []
        for k, t in enumerate(_list(s, "transitions", sp)):
            tp = f"{sp}.transitions[{k}]"
            tt = _get(t, "type", tp, str, "hexstr")
            if "type" not in t and t.get("value") == "default":
                tt = "default"      # pre-2.x style default transition
            ns = t.get("next_state")
            if ns is not None and _key(ns) not in names:
                _fail(f"{tp}.next_state", f"unknown parse state {ns!r}")
            m = t.get("mask")
            mask = _hex(m, f"{tp}.mask") if m is not None else None
            if tt == "default":
                trans.append(Transition("default", None, None, ns, tp))
            elif tt == "hexstr":
                trans.append(Transition("hexstr", _hex(t.get("value"), f"{tp}.value"), mask, ns, tp))
            elif tt == "parse_vset":
                vs = t.get("value")
                if vs not in ctx.parse_vsets:
                    _fail(f"{tp}.value", f"unknown parse value set {vs!r}")
                trans.append(Transition("parse_vset", vs, mask, ns, tp))
            else:
                _fail(f"{tp}.type", f"unsupported transition type {tt!r}")
        st = ParseState(_get(s, "name", sp, str), _get(s, "id", sp, int, i), ops, key, widths, trans, sp)
        states[st.name] = st
    init = prs.get("init_state")
    if init is not None and _key(init) not in states:
        _fail(f"{p}.init_state", f"unknown parse state {init!r}")
    return Parser(name, _get(prs, "id", p, int, 0), init, states)


def _load_pipeline(ctx: _Ctx, pl: dict, p: str, actions_by_id: dict[int, Action]) -> Pipeline:
    name = _get(pl, "name", p, str)
    profiles: dict[str, ActionProfile] = {}
    for i, ap in enumerate(_list(pl, "action_profiles", p)):
        app = f"{p}.action_profiles[{i}]"
        sel = ap.get("selector")
        algo = None
        ins: list[FieldRef] = []
        if sel is not None:
            algo = _get(sel, "algo", f"{app}.selector", str)
            for k, x in enumerate(_list(sel, "input", f"{app}.selector")):
                ins.append(_field_only(ctx, _get(x, "value", f"{app}.selector.input[{k}]"),
                                       f"{app}.selector.input[{k}].value"))
        prof = ActionProfile(_get(ap, "name", app, str), _get(ap, "id", app, int, i),
                             _get(ap, "max_size", app, int, 1024), algo, ins)
        profiles[prof.name] = prof
    node_names = set()
    for sec in ("tables", "conditionals", "action_calls"):
        for i, n in enumerate(_list(pl, sec, p)):
            node_names.add(_get(n, "name", f"{p}.{sec}[{i}]", str))

    def node_ref(v, path):
        if v is None:
            return None
        if not isinstance(v, str) or v not in node_names:
            _fail(path, f"unknown control-flow node {v!r}")
        return v

    tables: dict[str, Table] = {}
    for i, t in enumerate(_list(pl, "tables", p)):
        tp = f"{p}.tables[{i}]"
        tname = _get(t, "name", tp, str)
        keys = []
        for k, key in enumerate(_list(t, "key", tp)):
            kp = f"{tp}.key[{k}]"
            mt = _get(key, "match_type", kp, str)
            if mt not in ("exact", "lpm", "ternary", "range", "valid", "optional"):
                _fail(f"{kp}.match_type", f"unsupported match type {mt!r}")
            tgt = key.get("target")
            if mt == "valid":
                if isinstance(tgt, list) and len(tgt) == 2 and tgt[1] == "$valid$":
                    tgt = tgt[0]
                target = _header(ctx, tgt, f"{kp}.target")
                width = 1
                dname = f"{target.name}.$valid$"
            else:
                f = _field(ctx, tgt, f"{kp}.target")
                if isinstance(f, Expr):        # h.$valid$ used with a normal match kind
                    target = f.value
                    width = 1
                    dname = f"{target.name}.$valid$"
                    m = key.get("mask")
                    keys.append(KeySpec(mt, key.get("name") or dname, target,
                                        _hex(m, f"{kp}.mask") if m is not None else None, width))
                    continue
                target = f
                width = f.width
                dname = f"{tgt[0]}.{tgt[1]}"
            m = key.get("mask")
            mask = _hex(m, f"{kp}.mask") if m is not None else None
            keys.append(KeySpec(mt, key.get("name") or dname, target, mask, width))
        acts = []
        ids = t.get("action_ids")
        if isinstance(ids, list):
            for k, aid in enumerate(ids):
                if _key(aid) not in actions_by_id:
                    _fail(f"{tp}.action_ids[{k}]", f"unknown action id {aid!r}")
                acts.append(actions_by_id[aid])
        else:
            for k, an in enumerate(_list(t, "actions", tp)):
                a = next((x for x in actions_by_id.values() if x.name == an), None)
                if a is None:
                    _fail(f"{tp}.actions[{k}]", f"unknown action {an!r}")
                acts.append(a)
        nt_raw = t.get("next_tables") or {}
        if not isinstance(nt_raw, dict):
            _fail(f"{tp}.next_tables", "expected an object")
        nt = {k: node_ref(v, f"{tp}.next_tables.{k}") for k, v in nt_raw.items()}
        ttype = _get(t, "type", tp, str, "simple")
        if ttype not in ("simple", "indirect", "indirect_ws"):
            _fail(f"{tp}.type", f"unsupported table type {ttype!r}")
        prof = None
        if ttype != "simple":
            pn = t.get("action_profile")
            if pn not in profiles:
                _fail(f"{tp}.action_profile", f"unknown action profile {pn!r}")
            prof = profiles[pn]
            if ttype == "indirect_ws" and prof.selector_algo is None:
                _fail(f"{tp}.action_profile", f"action profile {pn!r} has no selector")
        de = None
        dj = t.get("default_entry")
        if dj is not None:
            dp = f"{tp}.default_entry"
            aid = _get(dj, "action_id", dp, int)
            if _key(aid) not in actions_by_id:
                _fail(f"{dp}.action_id", f"unknown action id {aid}")
            a = actions_by_id[aid]
            data = [_hex(x, f"{dp}.action_data[{k}]") for k, x in enumerate(_list(dj, "action_data", dp))]
            if len(data) != len(a.params) and data:
                _fail(f"{dp}.action_data", f"action {a.name} expects {len(a.params)} arguments")
            de = DefaultEntry(a, data, bool(dj.get("action_const", False)),
                              bool(dj.get("action_entry_const", False)))
        entries = []
        for k, e in enumerate(_list(t, "entries", tp)):
            ep = f"{tp}.entries[{k}]"
            mk = _list(e, "match_key", ep, True)
            if len(mk) != len(keys):
                _fail(f"{ep}.match_key", f"expected {len(keys)} match fields, got {len(mk)}")
            ae = _get(e, "action_entry", ep, dict)
            aid = _get(ae, "action_id", f"{ep}.action_entry", int)
            if _key(aid) not in actions_by_id:
                _fail(f"{ep}.action_entry.action_id", f"unknown action id {aid}")
            data = [_hex(x, f"{ep}.action_entry.action_data[{q}]")
                    for q, x in enumerate(_list(ae, "action_data", f"{ep}.action_entry"))]
            for q, m in enumerate(mk):
                if not isinstance(m, dict):
                    _fail(f"{ep}.match_key[{q}]", "expected an object")
            entries.append(ConstEntry(mk, actions_by_id[aid], data, _get(e, "priority", ep, int, 0), ep))
        dm = t.get("direct_meters")
        if dm is not None and _key(dm) not in ctx.meters:
            _fail(f"{tp}.direct_meters", f"unknown meter array {dm!r}")
        mtype = _get(t, "match_type", tp, str, "exact")
        tables[tname] = Table(
            tname, _get(t, "id", tp, int, i), mtype, ttype, prof,
            _get(t, "max_size", tp, int, 1024), bool(t.get("with_counters", False)),
            bool(t.get("support_timeout", False)), keys, acts, nt,
            node_ref(t.get("base_default_next"), f"{tp}.base_default_next"), dm, de, entries, tp)
    conds = {}
    for i, c in enumerate(_list(pl, "conditionals", p)):
        cp = f"{p}.conditionals[{i}]"
        cn = _get(c, "name", cp, str)
        conds[cn] = Conditional(cn, _get(c, "id", cp, int, i), parse_expr(ctx, _get(c, "expression", cp), f"{cp}.expression"),
                                node_ref(c.get("true_next"), f"{cp}.true_next"),
                                node_ref(c.get("false_next"), f"{cp}.false_next"))
    calls = {}
    for i, c in enumerate(_list(pl, "action_calls", p)):
        cp = f"{p}.action_calls[{i}]"
        cn = _get(c, "name", cp, str)
        aid = _get(c, "action_id", cp, int)
        if _key(aid) not in actions_by_id:
            _fail(f"{cp}.action_id", f"unknown action id {aid}")
        calls[cn] = ActionCall(cn, _get(c, "id", cp, int, i), actions_by_id[aid],
                               node_ref(c.get("next_node"), f"{cp}.next_node"))
    init = node_ref(pl.get("init_table"), f"{p}.init_table")
    return Pipeline(name, _get(pl, "id", p, int, 0), init, tables, conds, calls, profiles)


def load_program(src: bytes | str | dict) -> Program:
    """Parse and validate a BMv2 JSON document into a Program."""
    if isinstance(src, (bytes, bytearray, str)):
        try:
            j = json.loads(src)
        except (ValueError, UnicodeDecodeError) as e:
            raise JsonLoadError("", f"not valid JSON: {e}") from None
    else:
        j = src
    if not isinstance(j, dict):
        _fail("", "the top level must be a JSON object")
    try:
        return _load(j)
    except JsonLoadError:
        raise
    except RecursionError:
        raise JsonLoadError("", "expression nesting too deep") from None


def _load(j: dict) -> Program:
    meta = j.get("__meta__")
    version = (2, 0)
    if meta is not None:
        v = _get(meta, "version", "__meta__", list)
        if len(v) != 2 or not all(isinstance(x, int) for x in v):
            _fail("__meta__.version", "expected [major, minor]")
        if v[0] != SUPPORTED_MAJOR:
            _fail("__meta__.version", f"unsupported JSON format version {v[0]}.{v[1]} (need 2.x)")
        version = (v[0], v[1])
    ctx = _Ctx()
    _load_header_types(ctx, j)
    nslots = _layout_headers(ctx, j)
    for i, a in enumerate(_list(j, "field_aliases", "")):
        ap = f"field_aliases[{i}]"
        if not (isinstance(a, list) and len(a) == 2 and isinstance(a[0], str)):
            _fail(ap, "expected [name, [header, field]]")
        ctx.aliases[a[0]] = _field_only(ctx, a[1], f"{ap}[1]")
    errors: dict[str, int] = {}
    for i, e in enumerate(_list(j, "errors", "")):
        if not (isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], int)):
            _fail(f"errors[{i}]", "expected [name, value]")
        errors[e[0]] = e[1]
    enums: dict[str, dict[str, int]] = {}
    for i, e in enumerate(_list(j, "enums", "")):
        ep = f"enums[{i}]"
        enums[_get(e, "name", ep, str)] = {x[0]: x[1] for x in _list(e, "entries", ep)
                                            if isinstance(x, list) and len(x) == 2}
    for i, c in enumerate(_list(j, "counter_arrays", "")):
        p = f"counter_arrays[{i}]"
        cname = _get(c, "name", p, str)
        ctx.counters[cname] = CounterSpec(
            cname, _get(c, "id", p, int, i), _get(c, "size", p, int, 0),
            bool(c.get("is_direct", False)), c.get("binding"))
    for i, m in enumerate(_list(j, "meter_arrays", "")):
        p = f"meter_arrays[{i}]"
        mname = _get(m, "name", p, str)
        rt = m.get("result_target")
        ctx.meters[mname] = MeterSpec(
            mname, _get(m, "id", p, int, i), _get(m, "size", p, int, 0),
            _get(m, "type", p, str, "bytes"), _get(m, "rate_count", p, int, 2),
            bool(m.get("is_direct", False)), m.get("binding"),
            _field_only(ctx, rt, f"{p}.result_target") if rt is not None else None)
    for i, r in enumerate(_list(j, "register_arrays", "")):
        p = f"register_arrays[{i}]"
        rname = _get(r, "name", p, str)
        ctx.registers[rname] = RegisterSpec(
            rname, _get(r, "id", p, int, i), _get(r, "size", p, int), _get(r, "bitwidth", p, int))
    for i, e in enumerate(_list(j, "extern_instances", "")):
        p = f"extern_instances[{i}]"
        ctx.externs[_get(e, "name", p, str)] = e
    for i, v in enumerate(_list(j, "parse_vsets", "")):
        p = f"parse_vsets[{i}]"
        vname = _get(v, "name", p, str)
        ctx.parse_vsets[vname] = ParseVsetSpec(
            vname, _get(v, "id", p, int, i), _get(v, "compressed_bitwidth", p, int, 0))
    _load_calculations(ctx, j)
    ctx.field_lists = _load_field_lists(ctx, j, "field_lists", FieldList)
    ctx.learn_lists = _load_field_lists(ctx, j, "learn_lists", LearnList)
    # header-type length expressions (varbit) are expressions over the header's
    # own fields; resolve them lazily at extract time (p4c uses extract_VL).
    actions: list[Action] = []
    actions_by_id: dict[int, Action] = {}
    for i, a in enumerate(_list(j, "actions", "")):
        p = f"actions[{i}]"
        rd = []
        for k, r in enumerate(_list(a, "runtime_data", p)):
            rp = f"{p}.runtime_data[{k}]"
            rd.append((_get(r, "name", rp, str), _get(r, "bitwidth", rp, int)))
        prims = [_load_primitive(ctx, x, f"{p}.primitives[{k}]")
                 for k, x in enumerate(_list(a, "primitives", p))]
        act = Action(_get(a, "id", p, int), _get(a, "name", p, str), rd, prims)
        if act.id in actions_by_id:
            _fail(f"{p}.id", f"duplicate action id {act.id}")
        actions.append(act)
        actions_by_id[act.id] = act
    parsers = {}
    for i, prs in enumerate(_list(j, "parsers", "")):
        pr = _load_parser(ctx, prs, f"parsers[{i}]")
        parsers[pr.name] = pr
    deparsers = {}
    for i, d in enumerate(_list(j, "deparsers", "")):
        p = f"deparsers[{i}]"
        order = [_header(ctx, h, f"{p}.order[{k}]") for k, h in enumerate(_list(d, "order", p))]
        dname = _get(d, "name", p, str)
        dprims = [_load_primitive(ctx, x, f"{p}.primitives[{k}]")
                  for k, x in enumerate(_list(d, "primitives", p))]
        deparsers[dname] = Deparser(dname, _get(d, "id", p, int, i), order, dprims)
    checksums = []
    for i, c in enumerate(_list(j, "checksums", "")):
        p = f"checksums[{i}]"
        cn = _get(c, "calculation", p, str)
        if cn not in ctx.calculations:
            _fail(f"{p}.calculation", f"unknown calculation {cn!r}")
        ic = c.get("if_cond")
        checksums.append(Checksum(
            _get(c, "name", p, str), _get(c, "id", p, int, i),
            _field_only(ctx, _get(c, "target", p), f"{p}.target"), ctx.calculations[cn],
            bool(c.get("update", True)), bool(c.get("verify", True)),
            parse_expr(ctx, ic, f"{p}.if_cond") if ic is not None else None))
    pipelines = {}
    for i, pl in enumerate(_list(j, "pipelines", "")):
        pp = _load_pipeline(ctx, pl, f"pipelines[{i}]", actions_by_id)
        pipelines[pp.name] = pp
    for mname, m in ctx.meters.items():
        if (m.is_direct and m.binding is not None
                and not any(_key(m.binding) in pl.tables for pl in pipelines.values())):
            _fail("meter_arrays", f"direct meter {mname!r} bound to unknown table {m.binding!r}")
    template = [0] * nslots
    for h in ctx.headers.values():
        if h.metadata:
            template[h.valid_slot] = 1
    return Program(version, ctx.header_types, ctx.headers, ctx.headers_by_id, ctx.stacks,
                   ctx.unions, ctx.union_stacks, errors, enums, ctx.field_lists, ctx.learn_lists,
                   parsers, deparsers, ctx.parse_vsets, actions, actions_by_id,
                   ctx.calculations, checksums, pipelines, ctx.counters, ctx.meters,
                   ctx.registers, ctx.externs, ctx.aliases, nslots, template)
