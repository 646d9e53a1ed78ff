"""Program model -> specialised Python functions.

Everything a packet touches is turned into straight-line Python source at load
time and compiled once with exec(): parser states, actions, conditionals,
table appliers (key building + lookup + next node), checksums, calculations and
the deparser. Field accesses become indexes into the flat PHV list `P`
(slot numbers fixed by the loader), so no name is looked up per packet.
Parse states with a single incoming transition are generated inline in their
predecessor, so a chain such as ethernet -> ipv4 -> tcp runs as one function.

Conventions inside generated code:
  P  the PHV (list of int; header validity and stack `next` are slots too)
  D  the action data tuple of the running action
  K  the per-packet context (engine.PacketCtx): flags set by primitives
  b, o  packet bytes and current parse offset (parser only)
"""
from __future__ import annotations

import random as _random
import struct as _struct
from typing import Any

from . import bits
from .errors import JsonLoadError, PipelineError
from .loader import (
    Action,
    CalcInput,
    Calculation,
    Deparser,
    Expr,
    FieldRef,
    Header,
    HeaderStack,
    HeaderUnion,
    Parser,
    ParseState,
    Pipeline,
    Primitive,
    Program,
    Table,
)

CORE_ERRORS = {"NoError": 0, "PacketTooShort": 1, "NoMatch": 2, "StackOutOfBounds": 3,
               "HeaderTooShort": 4, "ParserTimeout": 5, "ParserInvalidArgument": 6}

# BMv2 packs a calculation's inputs MSB-first into a byte buffer starting at bit 0
# (BufBuilder::Deparse in bm_sim/calculations.cpp, extract::generic_deparse), so a
# bit string that is not a whole number of bytes is padded with zeros at the END.
HASH_PAD_FRONT = False


class ParserError(Exception):
    """Raised by generated parser code; carries the P4 error value."""

    def __init__(self, code: int):
        self.code = code


class _Writer:
    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, indent: int, text: str):
        self.lines.append("    " * indent + text)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# ---------------------------------------------------------------- runtime helpers

def _tcm(v: int, w: int) -> int:
    return bits.to_signed(v, w)


def _shl(v: int, n: int) -> int:
    if n < 0:
        raise PipelineError("negative shift amount")
    if n > 65536:
        return 0
    return v << n


def _shr(v: int, n: int) -> int:
    if n < 0:
        raise PipelineError("negative shift amount")
    if n > 65536:
        return 0 if v >= 0 else -1
    return v >> n


def _div(a: int, b: int) -> int:
    if b == 0:
        raise PipelineError("division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _mod(a: int, b: int) -> int:
    if b == 0:
        raise PipelineError("modulo by zero")
    return a - _div(a, b) * b


def _assert(cond: bool, where: str):
    if not cond:
        raise PipelineError(f"assertion failed: {where}")


def _idx(seq, i: int, what: str):
    if i < 0 or i >= len(seq):
        raise PipelineError(f"{what}: index {i} out of bounds")
    return seq[i]


def _fmt_log(fmt: str, vals: tuple) -> str:
    """log_msg: each '{}' takes the next value."""
    out = []
    it = iter(vals)
    i = 0
    while i < len(fmt):
        if fmt.startswith("{}", i):
            out.append(str(next(it, "{}")))
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _perr(K, o: int, code: int) -> ParserError:
    K.off = o
    return ParserError(code)


def _push(P, bases, nslots, next_slot, n):
    """push_front(n) on a stack (bases: the members' base slots)."""
    size = len(bases)
    for i in range(size - 1, -1, -1):
        dst = bases[i]
        if i - n >= 0:
            src = bases[i - n]
            P[dst:dst + nslots] = P[src:src + nslots]
        else:
            P[dst + nslots - 1] = 0
    if next_slot is not None:
        P[next_slot] = min(P[next_slot] + n, size)


def _pop(P, bases, nslots, next_slot, n):
    size = len(bases)
    for i in range(size):
        dst = bases[i]
        if i + n < size:
            src = bases[i + n]
            P[dst:dst + nslots] = P[src:src + nslots]
        else:
            P[dst + nslots - 1] = 0
    if next_slot is not None:
        P[next_slot] = max(P[next_slot] - n, 0)


def _extract_vl(P, K, b, o, layout, nbits, maxbytes, codes):
    """Extract a header with a varbit field. layout: (base, widths, vl_slot, valid_slot)
    with None as the width of the varbit field."""
    base, widths, vl_slot, valid_slot = layout
    if nbits % 8:
        raise _perr(K, o, codes["ParserInvalidArgument"])
    fixed = sum(w for w in widths if w is not None)
    nb = (fixed + nbits) // 8
    if len(b) - o < nb:
        raise _perr(K, o, codes["PacketTooShort"])
    if maxbytes and maxbytes < nb:
        raise _perr(K, o, codes["HeaderTooShort"])
    v = int.from_bytes(b[o:o + nb], "big")
    total = fixed + nbits
    pos = total
    for k, w in enumerate(widths):
        w = nbits if w is None else w
        pos -= w
        P[base + k] = (v >> pos) & ((1 << w) - 1)
    P[vl_slot] = nbits
    P[valid_slot] = 1
    return o + nb


def _ser_vl(P, layout) -> tuple[int, int]:
    """(value, width) of a varbit header's bits."""
    base, widths, vl_slot, _ = layout
    acc = 0
    total = 0
    for k, w in enumerate(widths):
        w = P[vl_slot] if w is None else w
        acc = (acc << w) | (P[base + k] & ((1 << w) - 1))
        total += w
    return acc, total


def _lookahead(K, b, o, off, w, codes):
    need = (off + w + 7) // 8
    if len(b) - o < need:
        raise _perr(K, o, codes["PacketTooShort"])
    nb = need
    v = int.from_bytes(b[o:o + nb], "big")
    return (v >> (nb * 8 - off - w)) & ((1 << w) - 1)


# ---------------------------------------------------------------- struct layouts

_PIECES = ((64, "Q"), (32, "I"), (16, "H"), (8, "B"))


def struct_layout(widths: list[int]) -> tuple[str, list[tuple[int, int]]] | None:
    """How to move a fixed-width header between bytes and field values with one
    struct call. The header's bit string is cut into minimal byte-aligned
    chunks (a byte-aligned field alone, or a run of fields that only together
    end on a byte boundary); a chunk of 8/16/32/64 bits is one big-endian
    piece, any other is cut MSB first into pieces of at most 32 bits (64 for
    chunks wider than 64), largest first. Returns (format, [(start bit, end
    bit) per piece]), or None when the header is not a whole number of bytes
    (then the generic int.from_bytes / to_bytes code is used). Pieces,
    unlike one wide int, are small ints: shifting and masking them is cheap,
    and struct parses / packs them in C."""
    total = sum(widths)
    if total <= 0 or total % 8:
        return None
    chunks = []
    start = pos = 0
    for wd in widths:
        pos += wd
        if pos % 8 == 0 and pos > start:
            chunks.append((start, pos))
            start = pos
    fmt = "!"
    pieces = []
    for cs, ce in chunks:
        cw = ce - cs
        sizes = _PIECES if cw >= 64 else _PIECES[1:]
        p = cs
        while p < ce:
            rest = ce - p
            for size, ch in sizes:
                if size <= rest:
                    break
            fmt += ch
            pieces.append((p, p + size))
            p += size
    return fmt, pieces


def _field_spans(widths: list[int]) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for wd in widths:
        spans.append((pos, pos + wd))
        pos += wd
    return spans


def unpack_exprs(widths: list[int], pieces: list[tuple[int, int]], names: list[str]) -> list[str | None]:
    """Per field, the expression rebuilding its value from the unpacked pieces
    (named `names`); None for a zero-width field."""
    out: list[str | None] = []
    for fs, fe in _field_spans(widths):
        if fe == fs:
            out.append(None)
            continue
        terms = []
        for (ps, pe), nm in zip(pieces, names):
            lo, hi = max(fs, ps), min(fe, pe)
            if lo >= hi:
                continue
            t = nm
            if pe - hi:
                t = f"({t} >> {pe - hi})"
            if lo != ps:            # bits above the field's part in this piece
                t = f"({t} & {bits.mask(hi - lo)})"
            if fe - hi:
                t = f"({t} << {fe - hi})"
            terms.append(t)
        out.append(" | ".join(terms) if len(terms) > 1 else terms[0])
    return out


def pack_exprs(widths: list[int], pieces: list[tuple[int, int]], values: list[str]) -> list[str]:
    """Per piece, the expression of its value from the fields' values (code
    strings; fields are masked to their width, as the PHV contract says)."""
    out = []
    spans = _field_spans(widths)
    for ps, pe in pieces:
        terms = []
        for (fs, fe), v in zip(spans, values):
            lo, hi = max(fs, ps), min(fe, pe)
            if lo >= hi:
                continue
            t = v
            if fe - hi:
                t = f"({t} >> {fe - hi})"
            if lo != fs:            # the field's bits above this piece belong to an earlier one
                t = f"({t} & {bits.mask(hi - lo)})"
            if pe - hi:
                t = f"({t} << {pe - hi})"
            terms.append(t)
        out.append(" | ".join(terms) if len(terms) > 1 else terms[0])
    return out


# ---------------------------------------------------------------- generator

class CodeGen:
    """Builds the generated module for one Program.

    `env` supplies the runtime objects the code calls: "tables" (name -> Table
    instance), "profiles", "counters", "meters", "registers", "hash" (algorithm
    factory), "vsets" (name -> ParseValueSet), "drop_port", "log".
    """

    def __init__(self, prog: Program, env: dict[str, Any]):
        self.prog = prog
        self.env = env
        self.g: dict[str, Any] = {
            "_tcm": _tcm, "_sat": bits.sat_cast, "_usat": bits.usat_cast, "_shl": _shl,
            "_shr": _shr, "_div": _div, "_mod": _mod, "_assert": _assert, "_idx": _idx,
            "_perr": _perr, "ParserError": ParserError, "PipelineError": PipelineError,
            "_push": _push, "_pop": _pop, "_extract_vl": _extract_vl, "_ser_vl": _ser_vl,
            "_lookahead": _lookahead, "_csum16": bits.ones_complement_sum16,
            "_randint": _random.Random().randint, "_LOG": env.get("log"), "_fmt_log": _fmt_log,
            "_STATS": env["stats"],
        }
        self.w = _Writer()
        self.consts: dict[Any, str] = {}
        self.codes = dict(CORE_ERRORS)
        self.codes.update({k: v for k, v in prog.errors.items()})
        self.g["_CODES"] = self.codes
        self.uid = 0
        self.calc_algos: dict[str, Any] = {}
        self.cur_params: int | None = 0     # parameters of the action being generated
        self.extra_lines: list[str] = []
        self.direct_parsers: dict[str, str] = {}   # parser fn -> its only state fn
        self.direct_ctx: dict[str, tuple] = {}      # parser fn -> (parser, state names, inline ctx)
        self.node_ret_fmt: str | None = None        # see node_ret
        self.pipeline_ctx: dict[str, dict] = {}     # pipeline name -> node inline ctx

    # ------------------------------------------------------------ utilities
    def const(self, obj: Any, prefix: str = "c") -> str:
        """Bind a Python object into the generated module's globals."""
        key = (prefix, id(obj))
        if key not in self.consts:
            self.uid += 1
            name = f"_{prefix}{self.uid}"
            self.g[name] = obj
            self.consts[key] = name
        return self.consts[key]

    def fresh(self, prefix: str = "t") -> str:
        self.uid += 1
        return f"{prefix}{self.uid}"

    def stack_bases(self, st: HeaderStack) -> str:
        return self.const(tuple(h.base for h in st.headers), "sb")

    # ------------------------------------------------------------ headers
    def header_ref(self, e: Expr) -> tuple[str, Header | None, Header]:
        """Code for a header's base slot. Returns (base_code, static header or
        None, a representative header for the layout)."""
        if e.kind == "header":
            h = e.value
            return str(h.base), h, h
        if e.kind == "op" and e.op == "dereference_header_stack":
            st = e.left.value if e.left.kind == "stack" else None
            if st is None:
                raise JsonLoadError(e.path, "dereference_header_stack needs a header stack")
            if not st.headers:
                raise JsonLoadError(e.path, f"empty header stack {st.name}")
            idx = self.expr(e.right)
            return f"_idx({self.stack_bases(st)}, {idx}, {st.name!r})", None, st.headers[0]
        if e.kind == "op" and e.op == "access_union_header":
            u = e.left
            if u.kind == "union":
                h = u.value.headers[e.value]
                return str(h.base), h, h
            if u.kind == "op" and u.op == "dereference_union_stack":
                us = u.left.value
                bases = tuple(un.headers[e.value].base for un in us.unions)
                idx = self.expr(u.right)
                return f"_idx({self.const(bases, 'ub')}, {idx}, {us.name!r})", None, us.unions[0].headers[e.value]
        if e.kind == "op" and e.op == "?":
            raise JsonLoadError(e.path, "conditional header expressions are not supported")
        raise JsonLoadError(e.path, f"expected a header reference, got {e.kind} {e.op or ''}")

    def union_ref(self, e: Expr) -> tuple[str | None, HeaderUnion]:
        if e.kind == "union":
            return None, e.value
        if e.kind == "op" and e.op == "dereference_union_stack":
            us = e.left.value
            return self.expr(e.right), us
        raise JsonLoadError(e.path, "expected a header union reference")

    def read_slot(self, slot_code: str, f: FieldRef) -> str:
        v = f"P[{slot_code}]"
        if f.signed and f.width > 0:
            s = 1 << (f.width - 1)
            return f"((P[{slot_code}] ^ {s}) - {s})"
        return v

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr) -> str:
        k = e.kind
        if k == "const":
            return repr(e.value) if e.value >= 0 else f"({e.value})"
        if k == "bool":
            return "True" if e.value else "False"
        if k == "field":
            f = e.value
            return self.read_slot(str(f.slot), f)
        if k == "valid":
            return f"P[{e.value.valid_slot}]"
        if k in ("local", "runtime_data"):
            if self.cur_params is not None and not 0 <= e.value < self.cur_params:
                raise JsonLoadError(e.path, f"runtime data index {e.value} out of range "
                                            f"(the action has {self.cur_params} parameters)")
            return f"D[{e.value}]"
        if k == "stack_field":
            st, fi = e.value
            f = st.headers[0].fields[fi]
            return self.read_slot(f"_idx({self.stack_bases(st)}, P[{st.next_slot}] - 1, {st.name!r}) + {fi}", f)
        if k == "union_stack_field":
            us, mi, fi = e.value
            bases = self.const(tuple(u.headers[mi].base for u in us.unions), "ub")
            f = us.unions[0].headers[mi].fields[fi]
            return self.read_slot(f"_idx({bases}, P[{us.next_slot}] - 1, {us.name!r}) + {fi}", f)
        if k == "register":
            r = self.env["registers"][e.value.name]
            return f"{self.const(r, 'reg')}.dp_read({self.expr(e.right)})"
        if k == "lookahead":
            off, w = e.value
            return f"_lookahead(K, b, o, {off}, {w}, _CODES)"
        if k == "op":
            try:
                return self.op_expr(e)
            except (AttributeError, IndexError, KeyError, TypeError) as ex:
                raise JsonLoadError(e.path, f"malformed operands for {e.op!r}: {ex}") from None
        if k == "header":
            raise JsonLoadError(e.path, "a header is not a value here")
        raise JsonLoadError(e.path, f"value of type {k!r} cannot be used in an expression")

    def op_expr(self, e: Expr) -> str:
        op = e.op
        L = e.left
        R = e.right
        if op in ("+", "-", "*", "&", "|", "^"):
            return f"({self.expr(L)} {op} {self.expr(R)})"
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return f"({self.expr(L)} {op} {self.expr(R)})"
        if op == "/":
            return f"_div({self.expr(L)}, {self.expr(R)})"
        if op == "%":
            return f"_mod({self.expr(L)}, {self.expr(R)})"
        if op == "<<":
            if R.kind == "const" and 0 <= R.value <= 4096:
                return f"({self.expr(L)} << {R.value})"
            return f"_shl({self.expr(L)}, {self.expr(R)})"
        if op == ">>":
            if R.kind == "const" and 0 <= R.value <= 4096:
                return f"({self.expr(L)} >> {R.value})"
            return f"_shr({self.expr(L)}, {self.expr(R)})"
        if op == "and":
            return f"({self.expr(L)} and {self.expr(R)})"
        if op == "or":
            return f"({self.expr(L)} or {self.expr(R)})"
        if op == "not":
            return f"(not {self.expr(R)})"
        if op == "~":
            return f"(~{self.expr(R)})"
        if op == "d2b":
            return f"({self.expr(R)} != 0)"
        if op == "b2d":
            return f"(1 if {self.expr(R)} else 0)"
        if op == "two_comp_mod":
            return f"_tcm({self.expr(L)}, {self.expr(R)})"
        if op == "sat_cast":
            return f"_sat({self.expr(L)}, {self.expr(R)})"
        if op == "usat_cast":
            return f"_usat({self.expr(L)}, {self.expr(R)})"
        if op == "?":
            return f"({self.expr(L)} if {self.expr(e.cond)} else {self.expr(R)})"
        if op == "valid":
            if R.kind == "header":
                return f"(P[{R.value.valid_slot}] == 1)"
            base, _, rep = self.header_ref(R)
            return f"(P[{base} + {rep.valid_slot - rep.base}] == 1)"
        if op == "valid_union":
            idx, un = self.union_ref(R)
            if idx is None:
                return "(" + " or ".join(f"P[{h.valid_slot}] == 1" for h in un.headers) + ")" if un.headers else "False"
            us = un       # a union stack element: any member of union[idx] valid
            vs = self.const(tuple(tuple(h.valid_slot for h in u.headers) for u in us.unions), "uvs")
            return f"any(P[_v] for _v in _idx({vs}, {idx}, {us.name!r}))"
        if op == "last_stack_index":
            if R.kind == "stack" or R.kind == "union_stack":
                return f"(P[{R.value.next_slot}] - 1)"
            raise JsonLoadError(e.path, "last_stack_index needs a stack")
        if op == "size_stack":
            if R.kind == "stack" or R.kind == "union_stack":
                return f"P[{R.value.next_slot}]"
            raise JsonLoadError(e.path, "size_stack needs a stack")
        if op == "access_field":
            base, h, rep = self.header_ref(L)
            if e.value < 0 or e.value >= len(rep.fields):
                raise JsonLoadError(e.path, f"field offset {e.value} out of range for {rep.type.name}")
            f = rep.fields[e.value]
            if h is not None:
                return self.read_slot(str(h.base + e.value), f)
            return self.read_slot(f"{base} + {e.value}", f)
        if op in ("dereference_header_stack", "access_union_header", "dereference_union_stack"):
            raise JsonLoadError(e.path, f"{op} yields a header, not a value")
        raise JsonLoadError(e.path, f"unsupported operator {op!r}")

    # ------------------------------------------------------------ lvalues
    def lvalue(self, e: Expr) -> tuple[str, FieldRef]:
        """(slot code, field) of an assignable field expression."""
        if e.kind == "field":
            return str(e.value.slot), e.value
        if e.kind == "op" and e.op == "access_field":
            base, h, rep = self.header_ref(e.left)
            if not 0 <= e.value < len(rep.fields):
                raise JsonLoadError(e.path, f"field offset {e.value} out of range for {rep.type.name}")
            f = rep.fields[e.value]
            if h is not None:
                return str(h.base + e.value), f
            return f"{base} + {e.value}", f
        if e.kind == "stack_field":
            st, fi = e.value
            return f"_idx({self.stack_bases(st)}, P[{st.next_slot}] - 1, {st.name!r}) + {fi}", st.headers[0].fields[fi]
        raise JsonLoadError(e.path, "expected an assignable field")

    # ------------------------------------------------------------ primitives
    def set_valid_code(self, w: _Writer, ind: int, base: str, h: Header | None, rep: Header):
        """Mark a header valid; a union member invalidates its siblings."""
        voff = rep.valid_slot - rep.base
        if h is not None:
            w(ind, f"P[{h.valid_slot}] = 1")
            if h.union is not None:
                for other in h.union.headers:
                    if other is not h:
                        w(ind, f"P[{other.valid_slot}] = 0")
        else:
            w(ind, f"P[{base} + {voff}] = 1")

    def copy_header_code(self, w: _Writer, ind: int, dst: Expr, src: Expr):
        db, dh, drep = self.header_ref(dst)
        sb, sh, srep = self.header_ref(src)
        n = drep.nslots
        if srep.nslots != n:
            raise JsonLoadError(dst.path, "assign_header between different header types")
        dv = drep.valid_slot - drep.base
        sv = srep.valid_slot - srep.base
        if dh is not None and sh is not None:      # static headers: literal slots
            w(ind, f"if P[{sh.valid_slot}]:")
            w(ind + 1, f"P[{dh.base}:{dh.base + n}] = P[{sh.base}:{sh.base + n}]")
            for other in (dh.union.headers if dh.union is not None else ()):
                if other is not dh:
                    w(ind + 1, f"P[{other.valid_slot}] = 0")
            w(ind, "else:")
            w(ind + 1, f"P[{dh.valid_slot}] = 0")
            return
        t = self.fresh("s")
        u = self.fresh("d")
        w(ind, f"{t} = {sb}")
        w(ind, f"{u} = {db}")
        w(ind, f"if P[{t} + {sv}]:")
        w(ind + 1, f"P[{u}:{u} + {n}] = P[{t}:{t} + {n}]")
        if dh is not None and dh.union is not None:
            for other in dh.union.headers:
                if other is not dh:
                    w(ind + 1, f"P[{other.valid_slot}] = 0")
        w(ind, "else:")
        w(ind + 1, f"P[{u} + {dv}] = 0")

    def primitive(self, w: _Writer, ind: int, p: Primitive, in_parser: bool = False):
        try:
            self._primitive(w, ind, p, in_parser)
        except (IndexError, AttributeError, KeyError, TypeError) as e:
            raise JsonLoadError(p.path, f"malformed parameters for primitive {p.op!r}: {e}") from None

    def _primitive(self, w: _Writer, ind: int, p: Primitive, in_parser: bool = False):
        op = p.op
        a = p.params

        def need(n: int):
            if len(a) < n:
                raise JsonLoadError(p.path, f"primitive {op!r} needs {n} parameters, got {len(a)}")

        if op in ("assign", "modify_field"):
            need(2)
            dst, src = a[0], a[1]
            if dst.kind in ("header",) or (dst.kind == "op" and dst.op in ("dereference_header_stack", "access_union_header")):
                self.copy_header_code(w, ind, dst, src)
                return
            slot, f = self.lvalue(dst)
            if f.varbit:
                self.assign_vl(w, ind, slot, f, src)
                return
            w(ind, f"P[{slot}] = {self.expr(src)} & {bits.mask(f.width)}")
        elif op == "assign_VL":
            need(2)
            slot, f = self.lvalue(a[0])
            self.assign_vl(w, ind, slot, f, a[1])
        elif op in ("assign_header", "copy_header"):
            need(2)
            self.copy_header_code(w, ind, a[0], a[1])
        elif op == "assign_union":
            need(2)
            di, du = self.union_ref(a[0])
            si, su = self.union_ref(a[1])
            if di is not None or si is not None:
                raise JsonLoadError(p.path, "assign_union on union stack elements is not supported")
            for dh, sh in zip(du.headers, su.headers):
                self.copy_header_code(w, ind, Expr("header", dh, path=p.path), Expr("header", sh, path=p.path))
        elif op in ("assign_header_stack", "assign_union_stack"):
            need(2)
            d, s = a[0].value, a[1].value
            if op == "assign_header_stack":
                pairs = list(zip(d.headers, s.headers))
            else:
                pairs = [(dh, sh) for du, su in zip(d.unions, s.unions) for dh, sh in zip(du.headers, su.headers)]
            # element by element with assign_header's rule (BMv2 core): an
            # invalid source only invalidates the destination, whose fields stay
            for dh, sh in pairs:
                self.copy_header_code(w, ind, Expr("header", dh, path=p.path), Expr("header", sh, path=p.path))
            w(ind, f"P[{d.next_slot}] = P[{s.next_slot}]")
        elif op in ("push", "pop"):
            need(2)
            st = a[0]
            fn = "_push" if op == "push" else "_pop"
            if st.kind == "stack":
                s = st.value
                if s.headers:
                    w(ind, f"{fn}(P, {self.stack_bases(s)}, {s.headers[0].nslots}, {s.next_slot}, {self.expr(a[1])})")
            elif st.kind == "union_stack":
                us = st.value
                if us.unions:
                    t = self.fresh("n")
                    w(ind, f"{t} = {self.expr(a[1])}")
                    nm = len(us.unions[0].headers)
                    for mi in range(nm):
                        bases = self.const(tuple(u.headers[mi].base for u in us.unions), "ub")
                        nxt = us.next_slot if mi == nm - 1 else None
                        w(ind, f"{fn}(P, {bases}, {us.unions[0].headers[mi].nslots}, {nxt}, {t})")
            else:
                raise JsonLoadError(p.path, f"{op} needs a header stack")
        elif op == "add_header":
            need(1)
            base, h, rep = self.header_ref(a[0])
            voff = rep.valid_slot - rep.base
            if h is not None:       # static header: literal slots
                t = str(h.base)
                w(ind, f"if not P[{h.valid_slot}]:")
            else:
                t = self.fresh("h")
                w(ind, f"{t} = {base}")
                w(ind, f"if not P[{t} + {voff}]:")
            nf = rep.valid_slot - rep.base
            if h is not None:
                w(ind + 1, f"P[{h.base}:{h.base + nf}] = {self.const([0] * nf, 'z')}")
            else:
                w(ind + 1, f"P[{t}:{t} + {nf}] = {self.const([0] * nf, 'z')}")
            self.set_valid_code(w, ind + 1, t, h, rep)
            w(ind + 1, f"K.length += {rep.nbytes}")
        elif op == "remove_header":
            need(1)
            base, h, rep = self.header_ref(a[0])
            voff = rep.valid_slot - rep.base
            if h is not None:       # static header: literal slot
                w(ind, f"if P[{h.valid_slot}]:")
                w(ind + 1, f"P[{h.valid_slot}] = 0")
            else:
                t = self.fresh("h")
                w(ind, f"{t} = {base}")
                w(ind, f"if P[{t} + {voff}]:")
                w(ind + 1, f"P[{t} + {voff}] = 0")
            w(ind + 1, f"K.length -= {rep.nbytes}")
        elif op == "mark_to_drop" and a:
            self.mark_to_drop_header(w, ind, p)
        elif op in ("mark_to_drop", "drop"):
            # legacy zero-argument forms: standard metadata itself
            sm = self.env["std"]
            w(ind, f"P[{sm['egress_spec'].slot}] = {self.env['drop_port'] & bits.mask(sm['egress_spec'].width)}")
            if sm.get("mcast_grp") is not None:
                w(ind, f"P[{sm['mcast_grp'].slot}] = 0")
        elif op == "add_header_fast":
            need(1)
            base, h, rep = self.header_ref(a[0])
            self.set_valid_code(w, ind, base, h, rep)
        elif op == "exit":
            w(ind, "K.exit = True")
            w(ind, self.node_ret("None") if self.node_ret_fmt else "return")
        elif op == "no_op":
            w(ind, "pass")
        elif op in ("clone_ingress_pkt_to_egress", "clone_egress_pkt_to_egress"):
            need(1)
            fl = self.expr(a[1]) if len(a) > 1 else "0"
            w(ind, f"K.clone = ({self.expr(a[0])}, {fl})")
            w(ind, "K.tm = True")
        elif op == "resubmit":
            w(ind, f"K.resubmit = {self.expr(a[0]) if a else 0}")
            w(ind, "K.tm = True")
        elif op == "recirculate":
            w(ind, f"K.recirc = {self.expr(a[0]) if a else 0}")
            w(ind, "K.tm = True")
        elif op == "generate_digest":
            need(2)
            w(ind, f"K.learn = ({self.expr(a[0])}, {self.expr(a[1])})")
            w(ind, "K.tm = True")
        elif op == "truncate":
            need(1)
            w(ind, f"K.truncate = {self.expr(a[0])}")
            w(ind, "K.tm = True")
        elif op == "count":
            need(2)
            c = self.env["counters"][a[0].value.name]
            w(ind, f"if not {self.const(c, 'ctr')}.count({self.expr(a[1])}, K.ingress_len): _STATS['counter_index_oob'] += 1")
        elif op == "execute_meter":
            need(3)
            m = self.env["meters"][a[0].value.name]
            slot, f = self.lvalue(a[2])
            t = self.fresh("i")
            w(ind, f"{t} = {self.expr(a[1])}")
            # BMv2: an out-of-range index updates neither the meter nor the field
            w(ind, f"if 0 <= {t} < {m.size}: P[{slot}] = {self.const(m, 'mtr')}.execute({t}, K.ingress_len) & {bits.mask(f.width)}")
            w(ind, "else: _STATS['meter_index_oob'] += 1")
        elif op == "register_read":
            need(3)
            slot, f = self.lvalue(a[0])
            r = self.env["registers"][a[1].value.name]
            t = self.fresh("i")
            w(ind, f"{t} = {self.expr(a[2])}")
            # BMv2: an out-of-range read leaves the destination unchanged
            w(ind, f"if 0 <= {t} < {r.size}: P[{slot}] = {self.const(r, 'reg')}.cells[{t}] & {bits.mask(f.width)}")
            w(ind, "else: _STATS['register_index_oob'] += 1")
        elif op == "register_write":
            need(3)
            r = self.env["registers"][a[0].value.name]
            w(ind, f"if not {self.const(r, 'reg')}.dp_write({self.expr(a[1])}, {self.expr(a[2])}): _STATS['register_index_oob'] += 1")
        elif op == "modify_field_with_hash_based_offset":
            need(4)
            slot, f = self.lvalue(a[0])
            calc = self.calc_fn(a[2].value)
            base = self.expr(a[1])
            size = self.expr(a[3])
            t = self.fresh("sz")
            w(ind, f"{t} = {size}")
            w(ind, f"P[{slot}] = (({base}) + ({calc}(P, K) % {t}) if {t} else ({base})) & {bits.mask(f.width)}")
        elif op == "modify_field_rng_uniform":
            need(3)
            slot, f = self.lvalue(a[0])
            lo, hi = self.expr(a[1]), self.expr(a[2])
            t1, t2 = self.fresh("lo"), self.fresh("hi")
            w(ind, f"{t1} = {lo}")
            w(ind, f"{t2} = {hi}")
            w(ind, f"P[{slot}] = (_randint({t1}, {t2}) if {t1} <= {t2} else {t1}) & {bits.mask(f.width)}")
        elif op == "log_msg":
            need(1)
            fmt = a[0].value if a[0].kind == "string" else ""
            vals = ", ".join(self.expr(x) for x in a[1].value) if len(a) > 1 and a[1].kind == "vector" else ""
            w(ind, f"if _LOG is not None: _LOG(_fmt_log({fmt!r}, ({vals}{',' if vals else ''})))")
        elif op in ("assert", "assume"):
            need(1)
            w(ind, f"_assert({self.expr(a[0])}, {p.path!r})")
        elif op in ("add_to_field", "subtract_from_field", "add", "subtract", "bit_and",
                    "bit_or", "bit_xor", "shift_left", "shift_right"):
            # P4_14-era primitives (kept for completeness)
            slot, f = self.lvalue(a[0])
            if op in ("add_to_field", "subtract_from_field"):
                sym = "+" if op == "add_to_field" else "-"
                rhs = f"P[{slot}] {sym} {self.expr(a[1])}"
            else:
                need(3)
                sym = {"add": "+", "subtract": "-", "bit_and": "&", "bit_or": "|", "bit_xor": "^",
                       "shift_left": "<<", "shift_right": ">>"}[op]
                rhs = f"{self.expr(a[1])} {sym} {self.expr(a[2])}"
            w(ind, f"P[{slot}] = ({rhs}) & {bits.mask(f.width)}")
        else:
            raise JsonLoadError(p.path, f"unsupported primitive {op!r}")

    def mark_to_drop_header(self, w: _Writer, ind: int, p: Primitive):
        """simple_switch's mark_to_drop(Header &): egress_spec := drop port and
        mcast_grp := 0 in THE HEADER GIVEN (by field name in its type), not in
        standard_metadata -- p4c passes a copy (an action's `inout
        standard_metadata_t` parameter) and copies it back afterwards."""
        e = p.params[0]
        if e.kind not in ("header",) and not (e.kind == "op" and e.op in (
                "dereference_header_stack", "access_union_header")):
            raise JsonLoadError(f"{p.path}.parameters[0]", "mark_to_drop needs a header argument")
        base, h, rep = self.header_ref(e)
        es = rep.by_name.get("egress_spec")
        if es is None:
            raise JsonLoadError(f"{p.path}.parameters[0]",
                                f"mark_to_drop: header {rep.name!r} has no 'egress_spec' field "
                                "(it must be of type standard_metadata)")
        mg = rep.by_name.get("mcast_grp")
        if h is None:
            t = self.fresh("h")
            w(ind, f"{t} = {base}")
        for f, v in ((es, self.env["drop_port"] & bits.mask(es.width)), (mg, 0)):
            if f is None:
                continue
            off = f.slot - rep.base
            w(ind, f"P[{h.base + off if h is not None else f'{t} + {off}'}] = {v}")

    def assign_vl(self, w: _Writer, ind: int, slot: str, f: FieldRef, src: Expr):
        if src.kind != "field" or not src.value.varbit:
            raise JsonLoadError(src.path, "assign_VL needs a varbit source field")
        sf = src.value
        w(ind, f"P[{slot}] = P[{sf.slot}]")
        if f.header.vl_slot is not None and sf.header.vl_slot is not None:
            w(ind, f"P[{f.header.vl_slot}] = P[{sf.header.vl_slot}]")

    # ------------------------------------------------------------ actions
    def gen_action(self, act: Action) -> str:
        self.cur_params = len(act.params)
        try:
            return self._gen_action(act)
        finally:
            self.cur_params = 0

    @staticmethod
    def inlinable_action(act: Action) -> bool:
        """Short straight-line actions are inlined into the tables that call
        them (dispatched on the entry's action object, so a control-plane
        change of the entry is still seen; other actions are called)."""
        prims = act.primitives
        return len(prims) <= 12 and not any(p.op in ("_jump", "_jump_if_zero") for p in prims)

    def inline_action(self, w: _Writer, ind: int, act: Action):
        """The body of `act` at `ind`, its data in `D` (an `exit` returns None
        from the node function, which ends the pipeline just as the node's
        K.exit test would)."""
        self.cur_params = len(act.params)
        try:
            if not act.primitives:
                w(ind, "pass")
                return
            if act.params:
                w(ind, "D = e.data")
            for p in act.primitives:
                self.primitive(w, ind, p)
        finally:
            self.cur_params = 0

    def _gen_action(self, act: Action) -> str:
        name = f"act_{act.id}"
        w = self.w
        w(0, f"def {name}(P, D, K):")
        prims = act.primitives
        has_jump = any(p.op in ("_jump", "_jump_if_zero") for p in prims)
        if not prims:
            w(1, "return")
        elif not has_jump:
            for p in prims:
                self.primitive(w, 1, p)
        else:
            w(1, "pc = 0")
            w(1, "steps = 0")
            w(1, "while True:")
            w(2, "steps += 1")
            w(2, "if steps > 1000000: raise PipelineError('action loop does not terminate')")
            for i, p in enumerate(prims):
                w(2, f"{'if' if i == 0 else 'elif'} pc == {i}:")
                if p.op in ("_jump", "_jump_if_zero") and len(p.params) != (1 if p.op == "_jump" else 2):
                    raise JsonLoadError(p.path, f"{p.op} needs {1 if p.op == '_jump' else 2} parameters")
                if p.op == "_jump":
                    w(3, f"pc = {self.expr(p.params[0])}")
                elif p.op == "_jump_if_zero":
                    w(3, f"pc = {self.expr(p.params[1])} if ({self.expr(p.params[0])}) == 0 else {i + 1}")
                else:
                    self.primitive(w, 3, p)
                    w(3, f"pc = {i + 1}")
            w(2, "else:")
            w(3, "return")
        w(0, "")
        return name

    # ------------------------------------------------------------ calculations
    def serialize_items(self, w: _Writer, ind: int, items: list, acc: str, n: str,
                        mod16: bool = False):
        """Append calculation inputs (field / hexstr / header CalcInputs) to the bit
        accumulator `acc` (width in `n`). Consecutive fixed-width fields of one
        header share one validity test and one shift (an invalid header's fields
        are skipped, as BMv2 does).

        With `mod16`, `acc` only has to be congruent to the bit string modulo
        0xFFFF (all csum16 needs): since 2**16 == 1 (mod 0xFFFF), a shift by k
        may be replaced by a shift by k % 16, and as the pieces never overlap,
        OR equals +. This keeps every intermediate a small int instead of
        building one wide integer. `acc` is 0 exactly when the bit string is."""
        def sh(total) -> str:       # shift amount for acc before appending
            return f"({total} & 15)" if mod16 and not isinstance(total, int) else \
                str(total & 15 if mod16 else total)
        join = " + " if mod16 else " | "
        groups: list = []          # (header or None, [items])
        for it in items:
            h = it.field.header if it.kind == "field" and not it.field.varbit else None
            if h is not None and groups and groups[-1][0] is h:
                groups[-1][1].append(it)
            else:
                groups.append((h, [it]))
        for h, its in groups:
            if h is not None:
                total = sum(i.field.width for i in its)
                parts = []
                pos = total
                for i in its:
                    pos -= i.field.width
                    p = pos & 15 if mod16 else pos
                    parts.append(f"(P[{i.field.slot}] << {p})" if p else f"P[{i.field.slot}]")
                ind2 = ind
                if not h.metadata:
                    w(ind, f"if P[{h.valid_slot}]:")
                    ind2 = ind + 1
                w(ind2, f"{acc} = ({acc} << {sh(total)}){join}{join.join(parts)}")
                w(ind2, f"{n} += {total}")
                continue
            it = its[0]
            if it.kind == "field":
                f = it.field
                ind2 = ind
                if not f.header.metadata:
                    w(ind, f"if P[{f.header.valid_slot}]:")
                    ind2 = ind + 1
                w(ind2, f"{acc} = ({acc} << {sh(f'P[{f.header.vl_slot}]')}){join}P[{f.slot}]")
                w(ind2, f"{n} += P[{f.header.vl_slot}]")
            elif it.kind == "hexstr":
                w(ind, f"{acc} = ({acc} << {sh(it.width)}){join}{it.value & bits.mask(it.width)}")
                w(ind, f"{n} += {it.width}")
            elif it.kind == "header":
                h = it.header
                w(ind, f"if P[{h.valid_slot}]:")
                v, width = self.header_value(h)
                if width is None:
                    w(ind + 1, f"_v, _w = {v}")
                    w(ind + 1, f"{acc} = ({acc} << {sh('_w')}){join}_v")
                    w(ind + 1, f"{n} += _w")
                else:
                    w(ind + 1, f"{acc} = ({acc} << {sh(width)}){join}{v}")
                    w(ind + 1, f"{n} += {width}")

    def header_value(self, h: Header) -> tuple[str, int | None]:
        """Code for a header's bits as one int (width None: varbit, code yields
        (value, width))."""
        if h.type.varbit_index is not None:
            return f"_ser_vl(P, {self.vl_layout(h)})", None
        total = h.type.fixed_bits
        parts = []
        pos = total
        for f in h.fields:
            pos -= f.width
            if f.width == 0:
                continue
            parts.append(f"(P[{f.slot}] << {pos})" if pos else f"P[{f.slot}]")
        return ("(" + " | ".join(parts) + ")") if parts else "0", total

    def vl_layout(self, h: Header) -> str:
        layout = (h.base, tuple(None if f.varbit else f.width for f in h.fields), h.vl_slot, h.valid_slot)
        return self.const(layout, "vl")

    def calc_fn(self, calc: Calculation) -> str:
        """A generated function computing `calc` over the packet: name(P, K) -> int."""
        key = ("calc", id(calc))
        if key in self.consts:
            return self.consts[key]
        name = f"calc_{calc.id}_{self.fresh('')}"
        self.consts[key] = name
        w = _Writer()
        w(0, f"def {name}(P, K):")
        self.calc_body(w, 1, calc, "res")
        w(1, "return res")
        w(0, "")
        self.extra_lines.extend(w.lines)
        return name

    def calc_algo(self, calc: Calculation):
        """The algorithm instance of a calculation (one per calculation, as BMv2)."""
        if calc.name not in self.calc_algos:
            try:
                self.calc_algos[calc.name] = self.env["hash"](calc.algo)
            except ValueError as e:  # unknown algorithm name
                raise JsonLoadError(f"calculations[{calc.name}]",
                                    f"unsupported hash algorithm {calc.algo!r}: {e}") from None
        return self.calc_algos[calc.name]

    @staticmethod
    def implied_valid(cond: Expr | None) -> set:
        """Headers that are certainly valid when `cond` (an if_cond) is true."""
        if cond is None:
            return set()
        if cond.kind == "valid":
            return {cond.value}
        if cond.kind == "op":
            if cond.op == "d2b":
                return CodeGen.implied_valid(cond.right)
            if cond.op == "valid" and cond.right is not None and cond.right.kind == "header":
                return {cond.right.value}
            if cond.op == "and":
                return CodeGen.implied_valid(cond.left) | CodeGen.implied_valid(cond.right)
        return set()

    def static_csum16(self, w: _Writer, ind: int, items: list, out: str, known: set) -> bool:
        """csum16 over inputs whose layout is fixed (no varbit, every header
        certainly valid or metadata): one sum of small ints, each field shifted
        by its bit position modulo 16 (see serialize_items). False if the
        inputs' layout depends on the packet."""
        terms = []      # (code, width), MSB first
        for it in items:
            if it.kind == "field":
                f = it.field
                if f.varbit or not (f.header.metadata or f.header in known):
                    return False
                terms.append((f"P[{f.slot}]", f.width))
            elif it.kind == "hexstr":
                terms.append((str(it.value & bits.mask(it.width)), it.width))
            elif it.kind == "header":
                h = it.header
                if h.type.varbit_index is not None or h not in known:
                    return False
                v, width = self.header_value(h)
                terms.append((v, width))
            else:
                return False
        n = sum(wd for _, wd in terms)
        shift = 0 if HASH_PAD_FRONT else (-n) & 7
        nb = (n + shift + 7) >> 3 if not HASH_PAD_FRONT else (n + 7) >> 3
        if nb & 1:
            shift += 8
        parts = []
        pos = shift
        for code, wd in reversed(terms):
            if wd:
                p = pos & 15
                parts.append(f"({code} << {p})" if p else code)
            pos += wd
        w(ind, f"acc = {' + '.join(reversed(parts)) if parts else '0'}")
        w(ind, "r = acc % 65535")
        w(ind, "if not r and acc: r = 65535")
        w(ind, f"{out} = r ^ 65535")
        return True

    def calc_body(self, w: _Writer, ind: int, calc: Calculation, out: str, known: set = frozenset()):
        """Lines computing `calc` into variable `out`.

        The inputs are packed MSB-first into one int (`acc`, `n` bits); the bit
        string is padded to whole bytes (HASH_PAD_FRONT) and, for a `payload`
        input, followed by the later headers and the packet payload. csum16 is
        computed on the int directly: the one's complement sum of the 16-bit
        words is the value modulo 0xFFFF (0xFFFF for a non-zero multiple)."""
        items = [x for x in calc.inputs if x.kind != "payload"]
        has_payload = any(x.kind == "payload" for x in calc.inputs)
        csum = calc.algo == "csum16"
        if csum and not has_payload and self.static_csum16(w, ind, items, out, known):
            return
        w(ind, "acc = 0")
        w(ind, "n = 0")
        self.serialize_items(w, ind, items, "acc", "n", mod16=csum and not has_payload)
        if not HASH_PAD_FRONT:
            w(ind, "_pad = (-n) & 7")
            w(ind, "acc <<= _pad")
            w(ind, "n += _pad")
        if has_payload:
            order = self.deparse_order()
            last = -1
            for it in calc.inputs:
                h = it.field.header if it.kind == "field" else it.header if it.kind == "header" else None
                if h is not None and h in order:
                    last = max(last, order.index(h))
            w(ind, "parts = [acc.to_bytes((n + 7) >> 3, 'big')]")
            for h in order[last + 1:]:
                self.emit_header(w, ind, h, "parts")
            w(ind, "parts.append(K.payload())")
            w(ind, "buf = b''.join(parts)")
            if csum:
                w(ind, "acc = int.from_bytes(buf, 'big')")
                w(ind, "nb = len(buf)")
        elif csum:
            w(ind, "nb = (n + 7) >> 3")
        else:
            w(ind, "buf = acc.to_bytes((n + 7) >> 3, 'big')")
        if csum:
            w(ind, "if nb & 1: acc <<= 8")
            w(ind, "r = acc % 65535")
            w(ind, "if not r and acc: r = 65535")
            w(ind, f"{out} = r ^ 65535")
        else:
            w(ind, f"{out} = {self.const(self.calc_algo(calc), 'algo')}(buf)")

    def deparse_order(self) -> list[Header]:
        d = self.main_deparser()
        return d.order if d is not None else []

    def emit_header(self, w: _Writer, ind: int, h: Header, out: str):
        w(ind, f"if P[{h.valid_slot}]:")
        if h.type.varbit_index is not None:
            w(ind + 1, f"_v, _w = _ser_vl(P, {self.vl_layout(h)})")
            w(ind + 1, f"{out}.append(_v.to_bytes(_w >> 3, 'big'))")
        else:
            widths = [f.width for f in h.fields]
            lay = struct_layout(widths)
            if lay is None:
                v, width = self.header_value(h)
                w(ind + 1, f"{out}.append({v}.to_bytes({(width + 7) // 8}, 'big'))")
            else:
                fmt, pieces = lay
                args = pack_exprs(widths, pieces, [f"P[{f.slot}]" for f in h.fields])
                w(ind + 1, f"{out}.append({self.struct_fn(fmt, 'pack')}({', '.join(args)}))")

    @staticmethod
    def text_of(gen_lines, *args) -> str:
        """Source lines of one of the *_lines generators at indentation 0 (the
        engine re-indents them into its fused function)."""
        w = _Writer()
        gen_lines(w, 0, *args)
        return w.text()

    def struct_fn(self, fmt: str, what: str) -> str:
        """Name of a bound struct.Struct(fmt).pack / .unpack_from."""
        key = ("struct", fmt, what)
        if key not in self.consts:
            self.uid += 1
            name = f"_{what}{self.uid}"
            self.g[name] = getattr(_struct.Struct(fmt), what)
            self.consts[key] = name
        return self.consts[key]

    # ------------------------------------------------------------ parser
    def gen_parser(self, prs: Parser) -> str:
        names = {}
        for st in prs.states.values():
            names[st.name] = f"ps_{prs.id}_{st.id}_{self.fresh('')}"
        preds: dict[str, int] = {}
        for st in prs.states.values():
            for t in st.transitions:
                if t.next_state is not None:
                    preds[t.next_state] = preds.get(t.next_state, 0) + 1
        inline = {n for n, c in preds.items() if c == 1 and n != prs.init_state}
        dag = self.small_parse_dag(prs)
        if dag is not None:
            # acyclic and small: every reachable state is generated inline at
            # each place that reaches it (a state with several predecessors is
            # duplicated), so the whole parser is one function
            inline = dag - {prs.init_state}
        ctx = {"inline": inline, "active": set(), "states": prs.states}
        for st in prs.states.values():
            if st.name not in inline:
                self.gen_state(st, names, ctx)
        w = self.w
        fname = f"parse_{prs.id}"
        init = names[prs.init_state] if prs.init_state else "None"
        w(0, f"def {fname}(P, K, b):")
        w(1, f"K.err = {self.codes['NoError']}")
        outside = [n for n in prs.states if n not in inline]
        if dag is not None or (prs.init_state and outside == [prs.init_state]
                               and preds.get(prs.init_state, 0) == 0):
            # Every other state is inlined into the start state and nothing
            # loops back to it, so the start state's function is the whole
            # parser: it always returns (None, offset). No state-machine loop.
            w(1, "try:")
            w(2, f"K.off = {init}(P, K, b, 0)[1]")
            w(1, "except ParserError as e:")
            w(2, "K.err = e.code")
            w(0, "")
            self.direct_parsers[fname] = init
            self.direct_ctx[fname] = (prs, names, ctx)
            return fname
        w(1, f"s = {init}")
        w(1, "o = 0")
        w(1, "n = 0")
        w(1, "try:")
        w(2, "while s is not None:")
        w(3, "s, o = s(P, K, b, o)")
        w(3, "n += 1")
        w(3, "if n > 100000: raise _perr(K, o, _CODES['ParserTimeout'])")
        w(2, "K.off = o")
        w(1, "except ParserError as e:")
        w(2, "K.err = e.code")
        w(0, "")
        return fname

    MAX_PARSE_COPIES = 64     # generated state bodies when duplicating a DAG parser
    MAX_PARSE_DEPTH = 30      # longest state path (each may nest one level deeper)

    def small_parse_dag(self, prs: Parser) -> set | None:
        """The states reachable from the start state if they form an acyclic
        graph (no transition back to any state on the path, the start state
        included) whose full expansion -- one copy of a state per path that
        reaches it -- stays within MAX_PARSE_COPIES bodies and
        MAX_PARSE_DEPTH states deep; else None."""
        init = prs.init_state
        if not init or init not in prs.states:
            return None
        order: list[str] = []
        state: dict[str, int] = {}          # 1 on the DFS stack, 2 done
        stack = [(init, iter(prs.states[init].transitions))]
        state[init] = 1
        while stack:
            name, it = stack[-1]
            for t in it:
                nxt = t.next_state
                if nxt is None:
                    continue
                if nxt not in prs.states or state.get(nxt) == 1:
                    return None             # unknown state or a loop
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(prs.states[nxt].transitions)))
                    break
            else:
                stack.pop()
                state[name] = 2
                order.append(name)
        order.reverse()                     # topological order
        copies = dict.fromkeys(order, 0)
        depth = dict.fromkeys(order, 0)
        copies[init] = 1
        for name in order:
            for t in prs.states[name].transitions:
                if t.next_state is not None:
                    copies[t.next_state] += copies[name]
                    depth[t.next_state] = max(depth[t.next_state], depth[name] + 1)
        if sum(copies.values()) > self.MAX_PARSE_COPIES or max(depth.values()) > self.MAX_PARSE_DEPTH:
            return None
        return set(order)

    def extract_code(self, w: _Writer, ind: int, tgt, vl_expr: Expr | None):
        kind, obj = tgt
        codes = self.codes
        if kind == "regular":
            h = obj
            if vl_expr is not None or h.type.varbit_index is not None:
                nbits = self.expr(vl_expr) if vl_expr is not None else "0"
                w(ind, f"o = _extract_vl(P, K, b, o, {self.vl_layout(h)}, {nbits}, {h.type.max_length or 0}, _CODES)")
                if h.union is not None:
                    for other in h.union.headers:
                        if other is not h:
                            w(ind, f"P[{other.valid_slot}] = 0")
                return
            self.extract_fixed(w, ind, str(h.base), h, h)
            return
        if kind == "stack":
            st = obj
            if not st.headers:
                raise JsonLoadError("", f"extract into empty stack {st.name}")
            rep = st.headers[0]
            t = self.fresh("i")
            w(ind, f"{t} = P[{st.next_slot}]")
            w(ind, f"if {t} >= {len(st.headers)}: raise _perr(K, o, {codes['StackOutOfBounds']})")
            if vl_expr is not None or rep.type.varbit_index is not None:
                nbits = self.expr(vl_expr) if vl_expr is not None else "0"
                layouts = self.const(tuple((h.base, tuple(None if f.varbit else f.width for f in h.fields), h.vl_slot, h.valid_slot) for h in st.headers), "vls")
                w(ind, f"o = _extract_vl(P, K, b, o, {layouts}[{t}], {nbits}, {rep.type.max_length or 0}, _CODES)")
            else:
                bvar = self.fresh("B")
                w(ind, f"{bvar} = {self.stack_bases(st)}[{t}]")
                self.extract_fixed(w, ind, bvar, None, rep)
            w(ind, f"P[{st.next_slot}] = {t} + 1")
            return
        if kind == "union_stack":
            us, mi = obj
            if not us.unions:
                raise JsonLoadError("", f"extract into empty union stack {us.name}")
            rep = us.unions[0].headers[mi]
            t = self.fresh("i")
            w(ind, f"{t} = P[{us.next_slot}]")
            w(ind, f"if {t} >= {len(us.unions)}: raise _perr(K, o, {codes['StackOutOfBounds']})")
            bvar = self.fresh("B")
            w(ind, f"{bvar} = {self.const(tuple(u.headers[mi].base for u in us.unions), 'ub')}[{t}]")
            self.extract_fixed(w, ind, bvar, None, rep)
            # a union member becoming valid invalidates its siblings
            for oi in range(len(us.unions[0].headers)):
                if oi != mi:
                    ob = self.const(tuple(u.headers[oi].valid_slot for u in us.unions), "uv")
                    w(ind, f"P[{ob}[{t}]] = 0")
            w(ind, f"P[{us.next_slot}] = {t} + 1")
            return
        raise JsonLoadError("", f"bad extract target {kind}")

    def extract_fixed(self, w: _Writer, ind: int, base: str, h: Header | None, rep: Header):
        nb = rep.nbytes
        total = rep.type.fixed_bits
        w(ind, f"if len(b) - o < {nb}: raise _perr(K, o, {self.codes['PacketTooShort']})")
        fields = [f for f in rep.fields]
        static = h is not None
        lay = struct_layout([f.width for f in fields]) if nb > 0 else None
        if lay is not None:
            fmt, pieces = lay
            names = [f"u{i}" for i in range(len(pieces))]
            w(ind, f"{', '.join(names)}, = {self.struct_fn(fmt, 'unpack_from')}(b, o)")
            for k, (f, ex) in enumerate(zip(fields, unpack_exprs([f.width for f in fields], pieces, names))):
                slot = str(h.base + k) if static else f"{base} + {k}"
                w(ind, f"P[{slot}] = {ex if ex is not None else 0}")
        elif nb > 0:
            w(ind, f"v = int.from_bytes(b[o:o + {nb}], 'big')")
            pad = nb * 8 - total
            pos = total + pad
            for k, f in enumerate(fields):
                pos -= f.width
                slot = str(h.base + k) if static else f"{base} + {k}"
                if f.width == 0:
                    w(ind, f"P[{slot}] = 0")
                    continue
                if k == 0 and pos == 0:
                    w(ind, f"P[{slot}] = v")
                elif k == 0 and pad == 0:
                    w(ind, f"P[{slot}] = v >> {pos}")
                elif pos == 0:
                    w(ind, f"P[{slot}] = v & {bits.mask(f.width)}")
                else:
                    w(ind, f"P[{slot}] = (v >> {pos}) & {bits.mask(f.width)}")
        if static:
            self.set_valid_code(w, ind, base, h, rep)
        else:
            w(ind, f"P[{base} + {rep.valid_slot - rep.base}] = 1")
        if nb:
            w(ind, f"o += {nb}")

    def gen_state(self, st: ParseState, names: dict[str, str], ctx: dict | None = None):
        w = self.w
        w(0, f"def {names[st.name]}(P, K, b, o):")
        self.state_body(w, st, names, 1, ctx)
        w(0, "")

    def state_body(self, w: _Writer, st: ParseState, names: dict[str, str], ind: int,
                   ctx: dict | None):
        """A parse state's operations and transition, at indentation `ind`."""
        if ctx is not None:
            ctx["active"].add(st.name)
        for op in st.ops:
            try:
                self.parser_op(w, op, ind)
            except (AttributeError, IndexError, KeyError, TypeError) as ex:
                raise JsonLoadError(op.path, f"malformed parser operation {op.op!r}: {ex}") from None
        self.transition(w, st, names, ind, ctx)
        if ctx is not None:
            ctx["active"].discard(st.name)

    def parser_op(self, w: _Writer, op, ind: int = 1):
        """Code for one parser operation (extract, set, verify, shift, advance, primitive)."""
        if op.op in ("extract", "extract_VL"):
            self.extract_code(w, ind, op.params[0], op.params[1] if op.op == "extract_VL" else None)
        elif op.op == "set":
            dst, src = op.params
            slot, f = self.lvalue(dst)
            if f.varbit:
                self.assign_vl(w, ind, slot, f, src)
            else:
                w(ind, f"P[{slot}] = {self.expr(src)} & {bits.mask(f.width)}")
        elif op.op == "verify":
            cond, err = op.params
            w(ind, f"if not ({self.expr(cond)}): raise _perr(K, o, {self.expr(err)})")
        elif op.op == "shift":
            w(ind, f"_n = {self.expr(op.params[0])}")
            w(ind, f"if len(b) - o < _n: raise _perr(K, o, {self.codes['PacketTooShort']})")
            w(ind, "o += _n")
        elif op.op == "advance":
            w(ind, f"_n = {self.expr(op.params[0])}")
            w(ind, f"if _n % 8: raise _perr(K, o, {self.codes['ParserInvalidArgument']})")
            w(ind, f"if len(b) - o < (_n >> 3): raise _perr(K, o, {self.codes['PacketTooShort']})")
            w(ind, "o += _n >> 3")
        elif op.op == "primitive":
            prim = op.params[0]
            if prim.op == "exit":
                raise JsonLoadError(prim.path, "exit is not allowed in a parser")
            self.primitive(w, ind, prim, in_parser=True)

    def transition(self, w: _Writer, st: ParseState, names: dict[str, str], ind: int = 1,
                   ctx: dict | None = None):
        trans = st.transitions
        default = next((t for t in trans if t.type == "default"), None)
        nonde = [t for t in trans if t.type != "default"]

        if nonde and st.key:
            la_need = 0
            for e in st.key:
                if e.kind == "lookahead":
                    off, wd = e.value
                    la_need = max(la_need, off // 8 + (wd + 7) // 8)
            if la_need:
                w(ind, f"if len(b) - o < {la_need}: raise _perr(K, o, {self.codes['PacketTooShort']})")
            # padded key: each component byte-padded, concatenated
            parts = []
            total_bytes = 0
            for e, wd in reversed(list(zip(st.key, st.key_widths))):
                if e.kind == "lookahead":
                    off, lw = e.value
                    code = f"((int.from_bytes(b[o:o + {(off + lw + 7) // 8}], 'big') >> {((off + lw + 7) // 8) * 8 - off - lw}) & {bits.mask(lw)})"
                elif e.kind == "field":
                    code = f"P[{e.value.slot}]"
                elif e.kind == "valid":
                    code = f"P[{e.value.valid_slot}]"
                else:
                    code = self.expr(e)
                    if e.kind in ("stack_field", "union_stack_field"):
                        fw = wd
                        code = f"({code} & {bits.mask(fw)})"
                parts.append(f"({code} << {total_bytes * 8})" if total_bytes else code)
                total_bytes += (wd + 7) // 8
            w(ind, f"k = {' | '.join(reversed(parts))}")
            for t in nonde:
                if t.type == "hexstr":
                    if t.mask is None:
                        self.goto(w, ind, f"k == {t.value}", t.next_state, names, ctx)
                    else:
                        self.goto(w, ind, f"(k & {t.mask}) == {t.value & t.mask}", t.next_state, names, ctx)
                else:  # parse_vset
                    vs = self.env["vsets"][t.value]
                    widths = self.const(tuple(st.key_widths), "kw")
                    self.goto(w, ind, f"{self.const(vs, 'vs')}.match_padded(k, {widths}, {t.mask if t.mask is not None else 'None'})",
                              t.next_state, names, ctx)
        self.goto(w, ind, None, default.next_state if default else None, names, ctx)

    def goto(self, w: _Writer, ind: int, cond: str | None, nxt: str | None, names: dict, ctx: dict | None):
        """Continue with parse state `nxt` (None: accept) when `cond` holds (None:
        always). A state with a single incoming transition is generated inline
        right here, so a straight chain of states runs as one function."""
        if nxt is not None and ctx is not None and nxt in ctx["inline"] and nxt not in ctx["active"]:
            body = ind
            if cond is not None:
                w(ind, f"if {cond}:")
                body = ind + 1
            self.state_body(w, ctx["states"][nxt], names, body, ctx)
            return
        accept = ctx.get("accept") if ctx is not None else None
        if accept is not None:      # generating the parser inline (parse_full_lines)
            if nxt is not None:     # cannot happen for a direct parser; be safe
                ctx["failed"] = True
            line = accept
        else:
            line = f"return ({names[nxt]}, o)" if nxt is not None else "return (None, o)"
        w(ind, f"if {cond}: {line}" if cond is not None else line)

    # ------------------------------------------------------------ fused entry points
    def gen_entry_points(self, parse_fn: str | None, std: dict):
        """parse_full(P, K, b) -> bool (True if a parser or checksum error), and
        emit(P, K) -> bytes (checksum update + deparse). The same code is also
        available as text (parse_full_lines / emit_lines) for the engine's
        fused per-packet function."""
        w = self.w
        self.main_parse_fn = parse_fn
        self.std_all = std
        w(0, "def parse_full(P, K, b):")
        self.parse_full_lines(w, 1, "bad")
        w(1, "return bad")
        w(0, "")
        # emit = cks_update + deparse, their bodies inlined (two calls fewer per packet)
        w(0, "def emit(P, K):")
        self.emit_lines(w, 1, "{}")
        w(0, "")

    def inline_parser_text(self, parse_fn: str) -> str | None:
        """A direct parser's states as loop-body text (indentation 0) whose
        accept is `K.off = o; break`, for the engine's fused function; None if
        the parser cannot be generated that way."""
        if parse_fn not in self.direct_ctx:
            return None
        prs, names, ctx = self.direct_ctx[parse_fn]
        c2 = {"inline": ctx["inline"], "active": set(), "states": ctx["states"],
              "accept": "K.off = o; break", "failed": False}
        w = _Writer()
        self.state_body(w, prs.states[prs.init_state], names, 0, c2)
        return None if c2["failed"] else w.text()

    def parse_full_lines(self, w: _Writer, ind: int, result: str, fresh: bool = False,
                         inline: bool = False):
        """Parser + checksum verification on (P, K, b); sets parser_error and
        checksum_error and leaves in `result` whether either went wrong.

        `fresh`: P is an unmodified copy of the template (parser_error and
        checksum_error 0) and K a new context (err 0), as in the engine's
        fused function: the error fields are then written only on an error."""
        parse_fn = self.main_parse_fn
        pe = self.std_all.get("parser_error")
        ce = self.std_all.get("checksum_error")
        no_err = self.codes['NoError']
        tpl = self.prog.template
        if (fresh and parse_fn in self.direct_parsers and no_err == 0
                and not any(c.verify for c in self.prog.checksums)
                and (pe is None or tpl[pe.slot] == 0) and (ce is None or tpl[ce.slot] == 0)):
            w(ind, f"{result} = False")
            w(ind, "try:")
            body = self.inline_parser_text(parse_fn) if inline else None
            if body is not None:    # the parser's states right here: no call at all
                w(ind + 1, "o = 0")
                w(ind + 1, "while True:     # left by `break` on accept")
                for ln in body.splitlines():
                    if ln.strip():
                        w(ind + 2, ln)
            else:
                w(ind + 1, f"K.off = {self.direct_parsers[parse_fn]}(P, K, b, 0)[1]")
            w(ind, "except ParserError as e:")
            w(ind + 1, "K.err = e.code")
            if pe is not None:
                w(ind + 1, f"P[{pe.slot}] = e.code & {bits.mask(pe.width)}")
            w(ind + 1, f"{result} = e.code != {no_err}")
            return
        w(ind, f"K.err = {no_err}")
        if parse_fn in self.direct_parsers:     # the parser is one function: call it here
            w(ind, "try:")
            w(ind + 1, f"K.off = {self.direct_parsers[parse_fn]}(P, K, b, 0)[1]")
            w(ind, "except ParserError as e:")
            w(ind + 1, "K.err = e.code")
        elif parse_fn:
            w(ind, f"{parse_fn}(P, K, b)")
        if pe is not None:
            w(ind, f"P[{pe.slot}] = K.err & {bits.mask(pe.width)}")
        if any(c.verify for c in self.prog.checksums):
            w(ind, "bad = cks_verify(P, K)")
            if ce is not None:
                w(ind, f"P[{ce.slot}] = 1 if bad else 0")
            w(ind, f"{result} = bad or K.err != {no_err}")
        else:
            if ce is not None:
                w(ind, f"P[{ce.slot}] = 0")
            w(ind, f"{result} = K.err != {no_err}")

    def emit_lines(self, w: _Writer, ind: int, ret: str, payload: str = "K.buf[K.off:]"):
        """Checksum update, deparser primitives, deparse of (P, K) -- the
        order of simple_switch's Deparser::deparse; ends with `return` of
        `ret` formatted with the packet bytes expression."""
        self.cks_update_lines(w, ind)
        self.deparser_primitive_lines(w, ind)
        self.deparse_lines(w, ind, payload, ret)

    # primitives that hand the packet to the traffic manager: BMv2 looks at
    # their flags before (clone, drop) or after (recirculate) the deparser, so
    # inside one they would behave unlike anywhere else; p4sw refuses them there
    DEPARSER_REFUSED = ("clone_ingress_pkt_to_egress", "clone_egress_pkt_to_egress", "resubmit",
                        "recirculate", "generate_digest", "truncate", "_jump", "_jump_if_zero")

    def main_deparser(self) -> Deparser | None:
        return self.prog.deparsers.get("deparser") or next(iter(self.prog.deparsers.values()), None)

    def deparser_primitive_lines(self, w: _Writer, ind: int):
        """The JSON deparser's "primitives": BMv2 (P4Objects::init_deparsers)
        makes each one an action of its own without runtime data and runs them
        in order after the checksum update, before emitting. `exit` only
        marks the packet there (nothing after the deparser reads the mark)."""
        d = self.main_deparser()
        if d is None:
            return
        self.cur_params = 0          # no runtime data there
        for p in d.primitives:
            if p.op in self.DEPARSER_REFUSED:
                raise JsonLoadError(p.path, f"primitive {p.op!r} is not supported in a deparser")
            if p.op == "exit":
                continue
            self.primitive(w, ind, p)

    # ------------------------------------------------------------ deparser
    def gen_deparser(self) -> str:
        """`deparse(P, payload)`: header emission only (no checksum update, no
        deparser primitives -- those need K; `emit(P, K)` does all three)."""
        w = self.w
        w(0, "def deparse(P, payload):")
        self.deparse_lines(w, 1, "payload")
        w(0, "")
        return "deparse"

    def deparse_lines(self, w: _Writer, ind: int, payload: str, ret: str = "{}"):
        w(ind, "out = []")
        for h in self.deparse_order():
            self.emit_header(w, ind, h, "out")
        w(ind, f"out.append({payload})")
        joined = "b''.join(out)"
        w(ind, f"return {ret.format(joined)}")

    # ------------------------------------------------------------ checksums
    def gen_checksums(self) -> tuple[str, str]:
        w = self.w
        w(0, "def cks_verify(P, K):")
        w(1, "bad = False")
        for c in self.prog.checksums:
            if not c.verify:
                continue
            ind = 1
            if c.if_cond is not None:
                w(1, f"if {self.expr(c.if_cond)}:")
                ind = 2
            self.calc_body(w, ind, c.calculation, "cv", self.implied_valid(c.if_cond))
            w(ind, f"if (cv & {bits.mask(c.target.width)}) != P[{c.target.slot}]: bad = True")
        w(1, "return bad")
        w(0, "")
        w(0, "def cks_update(P, K):")
        w(1, "pass")
        self.cks_update_lines(w, 1)
        w(0, "")
        return "cks_verify", "cks_update"

    def cks_update_lines(self, w: _Writer, base: int):
        for c in self.prog.checksums:
            if not c.update:
                continue
            ind = base
            if c.if_cond is not None:
                w(base, f"if {self.expr(c.if_cond)}:")
                ind = base + 1
            self.calc_body(w, ind, c.calculation, "cv", self.implied_valid(c.if_cond))
            w(ind, f"P[{c.target.slot}] = cv & {bits.mask(c.target.width)}")

    # ------------------------------------------------------------ pipelines
    def gen_pipeline(self, pl: Pipeline) -> str:
        """One function per control-flow node, `nd(P, K) -> next node or None`,
        except that a node reached from exactly one place in the generated
        code is generated inline right there (as parse states are), so a
        straight run such as conditional -> table -> table is one function."""
        w = self.w
        fnames: dict[str, str] = {}
        for n in list(pl.tables) + list(pl.conditionals) + list(pl.action_calls):
            fnames[n] = f"nd_{pl.id}_{self.fresh('')}"
        sites: dict[str, int] = {}
        for n in fnames:
            for nxt in self.node_sites(pl, n):
                if nxt is not None:
                    sites[nxt] = sites.get(nxt, 0) + 1
        inline = {n for n, c in sites.items() if c == 1 and n != pl.init_table and n in fnames}
        ctx = {"pl": pl, "fnames": fnames, "inline": inline, "active": set()}
        self.pipeline_ctx[pl.name] = ctx
        for n in fnames:
            if n in inline:
                continue
            w(0, f"def {fnames[n]}(P, K):")
            self.node_body(w, 1, n, ctx)
            w(0, "")
        return fnames[pl.init_table] if pl.init_table is not None else "None"

    def pipeline_start_text(self, name: str) -> str | None:
        """The start node of pipeline `name` as loop-body text (indentation
        0) that leaves the next node to run in `node` and breaks, for the
        engine's fused function (saves the start node's call)."""
        ctx = self.pipeline_ctx.get(name)
        if ctx is None or ctx["pl"].init_table is None:
            return None
        w = _Writer()
        self.node_ret_fmt = "node = {}; break"
        try:
            self.node_body(w, 0, ctx["pl"].init_table, {**ctx, "active": set()})
        finally:
            self.node_ret_fmt = None
        return w.text()

    def node_sites(self, pl: Pipeline, n: str) -> list:
        """The successors of node `n`, once per place the generated code names
        them (see node_body), so a node named at exactly one place can be
        inlined there."""
        if n in pl.conditionals:
            c = pl.conditionals[n]
            return [c.true_next, c.false_next]
        if n in pl.action_calls:
            return [pl.action_calls[n].next_node]
        t = pl.tables[n]
        nt = t.next_tables
        if "__HIT__" in nt or "__MISS__" in nt:
            return [nt.get("__HIT__", t.base_default_next), nt.get("__MISS__", t.base_default_next)]
        targets = {a.id: nt.get(a.name, t.base_default_next) for a in t.actions}
        distinct = set(targets.values())
        if len(distinct) <= 1:
            only = next(iter(distinct)) if distinct else t.base_default_next
            return [only] if t.type == "simple" else [only, t.base_default_next]
        return [t.base_default_next, *targets.values(), t.base_default_next]

    def node_goto(self, w: _Writer, ind: int, nxt: str | None, ctx: dict):
        """Continue with node `nxt`: its body inline if it is reached from
        here only (and nesting stays shallow), else return its function."""
        if nxt is None:
            w(ind, self.node_ret("None"))
        elif nxt in ctx["inline"] and nxt not in ctx["active"] and ind < 40:
            self.node_body(w, ind, nxt, ctx)
        else:
            w(ind, self.node_ret(ctx['fnames'][nxt]))

    def node_ret(self, nxt: str) -> str:
        """How node code hands over to the next node: `return nd` in a node
        function; `node = nd; break` when inlined into the engine's fused
        function (inside a one-pass loop, see pipeline_start_text)."""
        if self.node_ret_fmt is None:
            return f"return {nxt}"
        return self.node_ret_fmt.format(nxt)

    def node_body(self, w: _Writer, ind: int, n: str, ctx: dict):
        pl = ctx["pl"]
        ctx["active"].add(n)
        if n in pl.conditionals:
            c = pl.conditionals[n]
            w(ind, f"if {self.expr(c.expr)}:")
            self.node_goto(w, ind + 1, c.true_next, ctx)
            self.node_goto(w, ind, c.false_next, ctx)
        elif n in pl.action_calls:
            c = pl.action_calls[n]
            w(ind, f"{self.const(c.action, 'a')}.fn(P, (), K)")
            w(ind, f"if K.exit: {self.node_ret('None')}")
            self.node_goto(w, ind, c.next_node, ctx)
        else:
            self.gen_table(w, ind, pl.tables[n], ctx)
        ctx["active"].discard(n)

    def key_code(self, t: Table) -> str:
        parts = []
        for k in t.keys:
            if isinstance(k.target, Header):
                c = f"P[{k.target.valid_slot}]"
            else:
                c = f"P[{k.target.slot}]"
                if k.mask is not None:
                    c = f"({c} & {k.mask})"
            parts.append(c)
        if not parts:
            return "()"
        return "(" + ", ".join(parts) + ",)"

    def gen_table(self, w: _Writer, ind: int, t: Table, ctx: dict):
        """A table node's body at indentation `ind`: key, lookup, direct meter,
        action, next node (node_sites lists the successors in the same order)."""
        tab = self.env["tables"][t.name]
        tl = self.const(tab.lookup, "lk")
        can_exit = any(any(p.op == "exit" for p in a.primitives) for a in t.actions)
        i = ind
        w(i, f"hit, e = {tl}({self.key_code(t)}, K.ingress_len)")
        if t.direct_meter is not None:
            spec = self.prog.meters[t.direct_meter]
            if spec.result_target is not None:
                w(i, "if hit and e.meter is not None:")
                w(i + 1, f"P[{spec.result_target.slot}] = e.meter.execute(K.ingress_len) & {bits.mask(spec.result_target.width)}")
        if t.type == "simple":
            w(i, "a = e.action")
            inl = [a for a in t.actions if self.inlinable_action(a)] if len(t.actions) <= 8 else []
            first = True
            for act in inl:
                w(i, f"{'if' if first else 'elif'} a is {self.const(act, 'a')}:")
                first = False
                self.inline_action(w, i + 1, act)
            w(i, f"{'if' if first else 'elif'} a is not None: a.fn(P, e.data, K)")
        else:
            prof = self.env["profiles"][t.profile.name]
            pc = self.const(prof, "prof")
            w(i, "a = e.action")
            w(i, "d = e.data")
            w(i, "if e.group is not None:")
            if t.profile.selector_algo is not None:
                sel = self.selector_fn(t.profile)
                w(i + 1, f"m = {pc}.select(e.group, {sel}(P, K))")
            else:
                w(i + 1, f"m = {pc}.select(e.group, 0)")
            w(i + 1, "a = m.action; d = m.data")
            w(i, "elif e.member is not None:")
            w(i + 1, f"m = _member({pc}, e.member)")
            w(i + 1, "a = m.action; d = m.data")
            w(i, "if a is not None: a.fn(P, d, K)")
            self.g["_member"] = _member_of
        if can_exit:
            w(i, f"if K.exit: {self.node_ret('None')}")
        nt = t.next_tables
        goto = self.node_goto
        if "__HIT__" in nt or "__MISS__" in nt:
            hn = nt.get("__HIT__", t.base_default_next)
            mn = nt.get("__MISS__", t.base_default_next)
            w(i, "if hit:")
            goto(w, i + 1, hn, ctx)
            goto(w, i, mn, ctx)
        else:
            targets = {a.id: nt.get(a.name, t.base_default_next) for a in t.actions}
            distinct = set(targets.values())
            if len(distinct) <= 1:
                only = next(iter(distinct)) if distinct else t.base_default_next
                if t.type == "simple":
                    goto(w, i, only, ctx)
                else:
                    w(i, "if a is not None:")
                    goto(w, i + 1, only, ctx)
                    goto(w, i, t.base_default_next, ctx)
            else:
                w(i, "if a is None:")
                goto(w, i + 1, t.base_default_next, ctx)
                w(i, "aid = a.id")
                for aid, n in targets.items():
                    w(i, f"if aid == {aid}:")
                    goto(w, i + 1, n, ctx)
                goto(w, i, t.base_default_next, ctx)

    def selector_fn(self, prof) -> str:
        key = ("selector", id(prof))
        if key in self.consts:      # one function per selector, however often it is generated
            return self.consts[key]
        self.consts[key] = self._selector_fn(prof)
        return self.consts[key]

    def _selector_fn(self, prof) -> str:
        calc = Calculation(f"{prof.name}.selector", prof.id, prof.selector_algo,
                           [CalcInput("field", field=f) for f in prof.selector_inputs])
        return self.calc_fn(calc)

    # ------------------------------------------------------------ build
    def build(self) -> dict[str, Any]:
        prog = self.prog
        for calc in prog.calculations.values():
            self.calc_algo(calc)        # every calculation gets its algorithm (runtime API)
        for a in prog.actions:
            self.gen_action(a)
        parsers = {name: self.gen_parser(p) for name, p in prog.parsers.items()}
        self.gen_deparser()
        self.gen_checksums()
        main = parsers.get("parser") or next(iter(parsers.values()), None)
        self.gen_entry_points(main, self.env.get("std_all", {}))
        starts = {name: self.gen_pipeline(pl) for name, pl in prog.pipelines.items()}
        # code the engine's fused function inlines; generated before the module
        # is compiled, since it may add helper functions (extra_lines)
        texts = {
            "parse_full_text": self.text_of(self.parse_full_lines, "bad", True, True),
            # the fused function keeps the packet in `b` (K.buf is b there)
            "emit_text": self.text_of(self.emit_lines, "[(es, {})]", "b[K.off:]"),
            "pipeline_start_text": {n: self.pipeline_start_text(n) for n in prog.pipelines},
        }
        src = self.w.text() + "\n".join(self.extra_lines) + "\n"
        try:
            code = compile(src, "<p4sw-generated>", "exec")
        except SyntaxError as e:  # a generator bug, reported with context
            line = src.splitlines()[e.lineno - 1] if e.lineno else ""
            raise JsonLoadError("", f"internal code generation error: {e.msg} in {line!r}") from None
        exec(code, self.g)  # noqa: S102  (this module's purpose: run the generated code)
        for a in prog.actions:
            a.fn = self.g[f"act_{a.id}"]
        out = {
            "parsers": {n: self.g[f] for n, f in parsers.items()},
            "pipelines": {n: (self.g[s] if s != "None" else None) for n, s in starts.items()},
            "deparse": self.g["deparse"],
            "cks_verify": self.g["cks_verify"],
            "cks_update": self.g["cks_update"],
            "parse_full": self.g["parse_full"],
            "emit": self.g["emit"],
            "globals": self.g,
            **texts,
            "source": src,
            "calculations": self.calc_algos,
        }
        return out


def _member_of(prof, handle):
    """Member lookup on an ActionProfile (tables.py owns the class)."""
    getm = getattr(prof, "get_member", None)
    if getm is not None:
        return getm(handle)
    return prof.members[handle]


def generate(prog: Program, env: dict[str, Any]) -> dict[str, Any]:
    """Generate and compile all per-packet functions for `prog`. Anything the
    loader let through but the generator cannot use is a JsonLoadError."""
    try:
        return CodeGen(prog, env).build()
    except RecursionError:
        raise JsonLoadError("", "expression nesting too deep") from None
    except (AttributeError, IndexError, KeyError, TypeError) as e:
        raise JsonLoadError("", f"unsupported program structure: {type(e).__name__}: {e}") from None
