"""P4Info (and the const-entries WriteRequest) from the front-end program, as p4c writes them.

Why from the front-end program: p4c serializes P4Runtime information before the
mid end, so names and the object set are those of the source program (actions
not yet duplicated per table, controls not yet inlined).

How p4c orders things (and protobuf equality is order-sensitive):

* The evaluated program is walked breadth-first from the top level: global
  instantiations (in program order, ``main`` among them), then ``main``'s
  arguments (parser, verify, ingress, egress, compute, deparser), then each
  block's local instantiations and tables in declaration order (instances made
  for direct ``C.apply()`` calls first; unused tables and control instances
  are gone, as p4c's front end removes them).
* A control block adds its actions (localized top-level actions it uses first,
  then its own actions, in declaration order; deduplicated by name) and the
  digests of the extern functions its actions and body call.  A table block
  adds the table (+ direct counters/meters); an extern block adds counters,
  meters, registers, action profiles; a parser adds its value sets.
* Ids: :mod:`p4common.p4ids` over all collected symbols; aliases are the
  shortest unique suffixes over all of them.

The instance walk is computed from the AST by :func:`instance_blocks` (the one
place to swap for ``evaluate.py``'s InstanceTree once it carries what P4Info needs).  Types come from
the :class:`~p4compiler.frontend.TypedProgram` when it knows them, else from a
small AST-level resolver (:class:`AstTypes`), so P4Info works even for programs
the type checker does not handle yet.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from p4common import p4ids
from p4common.p4ids import P4IdPrefix

from . import ast as A
from . import names as N
from . import types as T
from .diagnostics import CompilerError

DEFAULT_TABLE_SIZE = 1024
STANDARD_MATCH = {"exact": 2, "lpm": 3, "ternary": 4, "range": 5, "optional": 6}  # p4.config.v1.MatchField.MatchType
PRIORITY_MATCH = {"ternary", "range", "optional"}


class P4InfoGenError(CompilerError):
    """The program cannot be described in P4Info (bad @id, unknown action, unwritable
    output...): a located user-facing error, printed by the driver like any other."""

    def __init__(self, message: str, node: Any = None, kind: str | None = None):
        super().__init__(getattr(node, "loc", None), message, kind=kind)


# ============================================================ AST-level types

class AstTypes:
    """Semantic types and constant values, from the TypedProgram when it knows
    them, else worked out from the AST (enough for P4Info: field/param widths)."""

    def __init__(self, program: A.Program, typed: Any = None):
        self.program = program
        self.typed = typed
        self.decls: dict[str, Any] = {}
        for d in program.declarations:
            name = getattr(d, "name", None)
            if not isinstance(name, str):
                continue
            # first declaration wins, except that a parser/control/action body
            # replaces its forward type declaration of the same name
            if name not in self.decls or isinstance(d, (A.ActionDeclaration, A.ControlDeclaration,
                                                        A.ParserDeclaration)):
                self.decls[name] = d
        self._cache: dict[int, T.P4Type] = {}

    # -- constants ---------------------------------------------------------
    def const(self, e: Any, env: dict[str, Any] | None = None) -> int | None:
        if e is None:
            return None
        if self.typed is not None:
            v = self.typed.const_value(e)
            if isinstance(v, bool):
                return int(v)
            if isinstance(v, int):
                return v
            if isinstance(v, A.SerEnumMember) and v is not e:
                return self.const(v.value)
        if isinstance(e, A.IntLiteral):
            return e.value
        if isinstance(e, A.BoolLiteral):
            return int(e.value)
        if isinstance(e, A.Cast):
            v = self.const(e.expr, env)
            t = self.resolve(e.type)
            if v is not None and isinstance(t, T.Bits):
                return v & ((1 << t.width) - 1) if not t.signed else v
            return v
        if isinstance(e, A.PathExpression):
            d = (env or {}).get(e.path.name) if not e.path.absolute else None
            if d is None:
                d = self.decls.get(e.path.name)
            if isinstance(d, A.ConstantDeclaration):
                return self.const(d.init, None)
            return None
        if isinstance(e, A.UnaryOp):
            v = self.const(e.expr, env)
            if v is None:
                return None
            return {"-": -v, "+": v, "~": ~v, "!": int(not v)}.get(e.op)
        if isinstance(e, A.BinaryOp):
            a, b = self.const(e.left, env), self.const(e.right, env)
            if a is None or b is None:
                return None
            ops: dict[str, Callable[[int, int], int]] = {
                "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
                "<<": lambda x, y: x << y, ">>": lambda x, y: x >> y, "&": lambda x, y: x & y,
                "|": lambda x, y: x | y, "^": lambda x, y: x ^ y,
                "/": lambda x, y: x // y if y else 0, "%": lambda x, y: x % y if y else 0}
            f = ops.get(e.op)
            return f(a, b) if f else None
        if isinstance(e, A.Member) and isinstance(e.expr, (A.TypeNameExpression, A.PathExpression)):
            d = self._type_decl_of(e.expr)
            if isinstance(d, A.SerEnumDeclaration):
                for m in d.members:
                    if m.name == e.member:
                        return self.const(m.value)
        return None

    def _type_decl_of(self, e: Any) -> Any:
        if isinstance(e, A.TypeNameExpression) and isinstance(e.type, A.TypeName):
            return self.decls.get(e.type.path.name)
        if isinstance(e, A.PathExpression):
            return self.decls.get(e.path.name)
        return None

    # -- types -------------------------------------------------------------
    def resolve(self, t: Any) -> T.P4Type:
        if t is None:
            return T.Unknown()
        if self.typed is not None and isinstance(t, A.Type):
            r = self.typed.resolve_type(t)
            if not r.is_unknown:
                return r
        if isinstance(t, A.BitsType):
            w = 1 if t.width is None else self.const(t.width)
            return T.Bits(w if w is not None else 0, t.signed)
        if isinstance(t, A.VarbitType):
            return T.Varbit(self.const(t.width) or 0)
        if isinstance(t, A.BoolType):
            return T.Bool()
        if isinstance(t, A.ErrorType):
            return T.Error()
        if isinstance(t, A.StringType):
            return T.String()
        if isinstance(t, A.StackType):
            return T.Stack(self.resolve(t.element), self.const(t.size) or 0)
        if isinstance(t, A.TypeName):
            d = self.decls.get(t.path.name)
            return self.decl_type(d) if d is not None else T.Unknown()
        if isinstance(t, A.SpecializedType):
            return self.resolve(t.base)
        if isinstance(t, A.Declaration):
            return self.decl_type(t)
        return T.Unknown()

    def decl_type(self, d: Any) -> T.P4Type:
        if d is None:
            return T.Unknown()
        got = self._cache.get(id(d))
        if got is not None:
            return got
        r: T.P4Type = T.Unknown()
        if isinstance(d, A.StructLikeDeclaration):
            cls = {A.HeaderDeclaration: T.Header, A.HeaderUnionDeclaration: T.HeaderUnion}.get(type(d), T.Struct)
            st = cls(name=d.name, fields=[], decl=d)
            self._cache[id(d)] = st
            st.fields.extend((f.name, self.resolve(f.type)) for f in d.fields)
            return st
        if isinstance(d, A.TypedefDeclaration):
            base = self.resolve(d.type)
            r = T.NewType(name=d.name, base=base, decl=d) if d.newtype else base
        elif isinstance(d, A.SerEnumDeclaration):
            r = T.SerEnum(name=d.name, base=self.resolve(d.type),
                          members={m.name: self.const(m.value) or 0 for m in d.members}, decl=d)
        elif isinstance(d, A.EnumDeclaration):
            r = T.Enum(name=d.name, members=tuple(m.name for m in d.members), decl=d)
        elif isinstance(d, (A.Parameter, A.VariableDeclaration, A.ConstantDeclaration, A.StructField)):
            r = self.resolve(d.type)
        self._cache[id(d)] = r
        return r

    def expr_type(self, e: Any, scope: dict[str, Any]) -> T.P4Type:
        """Type of a key expression; ``scope`` maps visible local names to declarations."""
        if self.typed is not None:
            r = self.typed.type_of(e)
            if not r.is_unknown:
                return r
        if isinstance(e, A.PathExpression):
            d = None if e.path.absolute else scope.get(e.path.name)
            if d is None:
                d = self.decls.get(e.path.name)
            return self.decl_type(d)
        if isinstance(e, A.Member):
            base = self.expr_type(e.expr, scope)
            if isinstance(base, T.NewType):
                base = base.base
            if isinstance(base, T.StructLike):
                ft = base.field_type(e.member)
                return ft if ft is not None else T.Unknown()
            if isinstance(base, T.Stack):
                if e.member in ("next", "last"):
                    return base.element
                if e.member in ("lastIndex", "size"):
                    return T.Bits(32)
            if isinstance(e.expr, A.TypeNameExpression):
                return self.decl_type(self._type_decl_of(e.expr))
            if e.member in ("hit", "miss") and isinstance(e.expr, A.MethodCallExpression):
                return T.Bool()
            return T.Unknown()
        if isinstance(e, A.ArrayIndex):
            base = self.expr_type(e.expr, scope)
            if isinstance(base, T.Stack):
                return base.element
            if isinstance(base, T.Bits):
                return T.Bits(1)
            return T.Unknown()
        if isinstance(e, A.Slice):
            hi, lo = self.const(e.hi), self.const(e.lo)
            return T.Bits(hi - lo + 1) if hi is not None and lo is not None else T.Unknown()
        if isinstance(e, A.PlusSlice):
            w = self.const(e.width)
            return T.Bits(w) if w is not None else T.Unknown()
        if isinstance(e, A.Cast):
            return self.resolve(e.type)
        if isinstance(e, A.MethodCallExpression):
            if isinstance(e.method, A.Member) and e.method.member == "isValid":
                return T.Bool()
            if isinstance(e.method, A.PathExpression):
                f = self.decls.get(e.method.path.name)
                if isinstance(f, A.FunctionDeclaration):
                    return self.resolve(f.return_type)
                if isinstance(f, A.ExternFunctionDeclaration):
                    return self.resolve(f.prototype.return_type)
            return T.Unknown()
        if isinstance(e, A.BoolLiteral):
            return T.Bool()
        if isinstance(e, A.IntLiteral):
            return T.Bits(e.width, e.signed) if e.width else T.InfInt()
        if isinstance(e, A.BinaryOp):
            if e.op in ("==", "!=", "<", ">", "<=", ">=", "&&", "||"):
                return T.Bool()
            lt = self.expr_type(e.left, scope)
            rt = self.expr_type(e.right, scope)
            if e.op == "++" and isinstance(lt, T.Bits) and isinstance(rt, T.Bits):
                return T.Bits(lt.width + rt.width, lt.signed)
            if e.op in ("<<", ">>"):
                return lt
            return lt if not isinstance(lt, (T.InfInt, T.Unknown)) else rt
        if isinstance(e, A.UnaryOp):
            return T.Bool() if e.op == "!" else self.expr_type(e.expr, scope)
        if isinstance(e, A.Mux):
            t = self.expr_type(e.then, scope)
            return t if not isinstance(t, (T.InfInt, T.Unknown)) else self.expr_type(e.other, scope)
        return T.Unknown()


def translation(t: T.P4Type) -> tuple[str, int | None] | None:
    """(uri, controller bit width or None for string) of a ``type`` declared with
    ``@p4runtime_translation("uri", W | string)``, else None."""
    decl = getattr(t, "decl", None)
    ann = N.find_annotation(getattr(decl, "annotations", ()), "p4runtime_translation") \
        if isinstance(t, T.NewType) else None
    if ann is None:
        return None
    uri = N.annotation_string(ann) or ""
    width = N.annotation_int(ann)
    return uri, width


def type_width(t: T.P4Type) -> int:
    """Bit width as P4Info reports it (bool 1, enums/serenums their base, error 0,
    a translated ``type`` its controller width)."""
    tr = translation(t)
    if tr is not None:
        return tr[1] or 0
    if isinstance(t, T.Bits):
        return t.width
    if isinstance(t, T.Bool):
        return 1
    if isinstance(t, (T.SerEnum, T.NewType)):
        return type_width(t.base)
    if isinstance(t, T.Varbit):
        return t.max_width
    if isinstance(t, T.StructLike):
        return sum(type_width(ft) for _, ft in t.fields)
    if isinstance(t, T.Stack):
        return type_width(t.element) * t.size
    return 0


# ============================================================ instance blocks

@dataclass(eq=False)
class Block:
    """One evaluated block: ``kind`` is "toplevel", "package", "control", "parser",
    "extern" or "table"; ``prefix`` the instance path (control-plane name of the block)."""

    kind: str
    decl: Any
    prefix: str = ""
    node: Any = None                 # the Instantiation / ConstructorCall / TableDeclaration
    parent: Block | None = None
    children: list[Block] = field(default_factory=list)


def _ctor_type_name(t: Any) -> str | None:
    if isinstance(t, A.SpecializedType):
        t = t.base
    if isinstance(t, A.TypeName):
        return t.path.name
    return None


def instance_blocks(program: A.Program, types: AstTypes) -> Block:
    """The evaluated-block tree of the program (p4c's ToplevelBlock), from the AST.

    Swap point for ``evaluate.py``'s InstanceTree; that tree does not (yet) carry
    tables, direct ``C.apply()`` instances, global extern instances or p4c's
    removal of unused tables/instances, which P4Info needs, so this stays.
    """
    top = Block("toplevel", program)
    made: dict[int, Block] = {}

    def make(kind: str, decl: Any, prefix: str, node: Any, parent: Block) -> Block:
        b = Block(kind, decl, prefix, node, parent)
        if kind in ("control", "parser"):
            expand(b)
        return b

    def instantiate(type_name: str | None, inst_name: str, node: Any, parent: Block,
                    top_level: bool = False) -> Block | None:
        d = types.decls.get(type_name or "")
        if isinstance(d, A.ControlDeclaration):
            prefix = N.control_prefix(d) if top_level else N.qualify(parent.prefix, inst_name)
            return make("control", d, prefix, node, parent)
        if isinstance(d, A.ParserDeclaration):
            prefix = N.control_prefix(d) if top_level else N.qualify(parent.prefix, inst_name)
            return make("parser", d, prefix, node, parent)
        if isinstance(d, A.ExternDeclaration):
            return make("extern", d, N.qualify(parent.prefix, inst_name), node, parent)
        if isinstance(d, A.PackageTypeDeclaration):
            b = Block("package", d, inst_name, node, parent)
            for arg in node.args if hasattr(node, "args") else ():
                c = arg_block(arg.expr, b)
                if c is not None:
                    b.children.append(c)
            return b
        return None

    def arg_block(e: Any, parent: Block) -> Block | None:
        if isinstance(e, A.ConstructorCallExpression):
            return instantiate(_ctor_type_name(e.type), _ctor_type_name(e.type) or "", e, parent,
                               top_level=parent.kind == "package")
        if isinstance(e, A.PathExpression):
            return made.get(id(types.decls.get(e.path.name)))
        return None

    def expand(b: Block) -> None:
        d = b.decl
        local_names = {getattr(x, "name", None): x for x in d.locals}
        direct: list[Block] = []
        if isinstance(d, (A.ControlDeclaration, A.ParserDeclaration)):
            # `E.apply()` of a control/parser type instantiates it under the name `E`,
            # placed before the other locals (p4c's InstantiateDirectCalls)
            seen: set[str] = set()
            roots = [d.body] if isinstance(d, A.ControlDeclaration) else list(d.states)
            for n in (x for r in roots for x in r.walk()):
                if isinstance(n, A.MethodCallExpression) and isinstance(n.method, A.Member) \
                        and n.method.member == "apply" and isinstance(n.method.expr, (A.PathExpression,
                                                                                      A.TypeNameExpression)):
                    tn = n.method.expr.path.name if isinstance(n.method.expr, A.PathExpression) \
                        else _ctor_type_name(n.method.expr.type)
                    if tn and tn not in local_names and tn not in seen and \
                            isinstance(types.decls.get(tn), (A.ControlDeclaration, A.ParserDeclaration)):
                        seen.add(tn)
                        c = instantiate(tn, tn, n, b)
                        if c is not None:
                            direct.append(c)
        b.children.extend(direct)
        # p4c's front end removes tables and control/parser instances nothing refers
        # to (extern instances stay: they are control-plane objects even if unused)
        used: set[str] = set()
        for root in [getattr(d, "body", None), *d.locals, *getattr(d, "states", [])]:
            for n in root.walk() if root is not None else ():
                if isinstance(n, A.PathExpression) and not n.path.absolute:
                    used.add(n.path.name)
        for x in d.locals:
            if isinstance(x, A.TableDeclaration) and x.name not in used:
                continue
            if isinstance(x, A.Instantiation):
                if x.name not in used and not isinstance(types.decls.get(_ctor_type_name(x.type) or ""),
                                                         A.ExternDeclaration):
                    continue
                c = instantiate(_ctor_type_name(x.type), N.local_name(x), x, b)
                if c is not None:
                    made[id(x)] = c
                    b.children.append(c)
            elif isinstance(x, A.TableDeclaration):
                b.children.append(Block("table", x, N.object_name(x, b.prefix), x, b))

    for d in program.declarations:
        if isinstance(d, A.Instantiation):
            c = instantiate(_ctor_type_name(d.type), N.local_name(d), d, top, top_level=True)
            if c is not None:
                if c.kind == "extern":
                    c.prefix = N.qualify("", N.local_name(d))
                made[id(d)] = c
                top.children.append(c)
    return top


def bfs(top: Block) -> list[Block]:
    """Blocks in p4c's forAllEvaluatedBlocks order (breadth-first, each once)."""
    out: list[Block] = []
    seen: set[int] = set()
    queue: deque[Block] = deque([top])
    queued = {id(top)}
    while queue:
        b = queue.popleft()
        seen.add(id(b))
        out.append(b)
        for c in b.children:
            if id(c) not in seen and id(c) not in queued:
                queued.add(id(c))
                queue.append(c)
    return out


def live_nodes(root: A.Node, types: AstTypes):
    """Pre-order nodes under ``root``, skipping the dead branch of an ``if`` with a
    constant condition (p4c's front end folds those away before P4Info)."""
    stack = [root]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, A.IfStatement):
            c = types.const(n.cond)
            if c is not None:
                stack.append(n.cond)
                live = n.then if c else n.other
                if live is not None:
                    stack.append(live)
                continue
        stack.extend(reversed(list(n.children())))


# ============================================================ the generator

class P4InfoBuilder:
    """Collects symbols, then fills a P4Info message (two passes, as p4c does)."""

    def __init__(self, program: A.Program, typed: Any = None, arch: str = "v1model",
                 hash_bits: int = p4ids.LOW_BITS):
        from p4common.proto import p4info_pb2, p4runtime_pb2
        self.pb = p4info_pb2
        self.rt = p4runtime_pb2
        self.program = program
        self.types = AstTypes(program, typed)
        self.arch = arch
        self.top = instance_blocks(program, self.types)
        self.blocks = bfs(self.top)
        self.alloc = p4ids.IdAllocator(hash_bits=hash_bits)
        self.ids: dict[tuple[int, str], int] = {}
        self.aliases: dict[str, str] = {}
        self.p4info = p4info_pb2.P4Info()
        self.entries = p4runtime_pb2.WriteRequest()
        self.need_type_info = False
        self._directs: set[tuple[int, str]] = set()

    # -- helpers -----------------------------------------------------------
    def add_symbol(self, kind: int, name: str, node: Any = None) -> None:
        aid = N.annotation_int(N.find_annotation(getattr(node, "annotations", ()), "id")) if node is not None else None
        try:
            self.alloc.add(kind, name, aid)
        except p4ids.P4IdError as exc:
            raise P4InfoGenError(str(exc), node, kind="invalid") from exc

    def id_of(self, kind: int, name: str, node: Any = None) -> int:
        got = self.ids.get((int(kind), name))
        if got is None:
            what = P4IdPrefix(int(kind)).name.lower().replace("_", " ")
            raise P4InfoGenError(f"{name}: no {what} with this name is visible to the control plane",
                                 node, kind="invalid")
        return got

    def preamble(self, msg: Any, kind: int, name: str, node: Any = None, alias: str | None = None,
                 annotations: list[str] | None = None) -> None:
        p = msg.preamble
        p.id = self.id_of(kind, name)
        p.name = name
        p.alias = alias if alias is not None else self.aliases.get(name, name)
        if annotations is not None:
            p.annotations.extend(annotations)
        else:
            self.annotate(p, getattr(node, "annotations", ()))

    def annotate(self, msg: Any, annotations: Iterable[A.Annotation], skip: tuple[str, ...] = ()) -> None:
        """annotations / structured_annotations / doc of a P4Info message, as p4c fills them."""
        anns = [a for a in annotations or () if a.name not in skip]
        msg.annotations.extend(N.p4info_annotations(anns))
        for a in anns:
            if a.structured and a.name not in N.NOT_LISTED:
                sa = msg.structured_annotations.add()
                sa.name = a.name
                if a.kv:
                    for kv in a.kv:
                        pair = sa.kv_pair_list.kv_pairs.add()
                        pair.key = kv.name
                        self.structured_expr(kv.expr, pair.value)
                elif a.exprs:
                    for e in a.exprs:
                        self.structured_expr(e, sa.expression_list.expressions.add())
            elif a.name in ("brief", "description") and hasattr(msg, "doc"):
                text = N.annotation_string(a)
                if text is not None:
                    setattr(msg.doc, a.name, text)

    def structured_expr(self, e: Any, out: Any) -> None:
        if isinstance(e, A.StringLiteral):
            out.string_value = e.value
        elif isinstance(e, A.BoolLiteral):
            out.bool_value = e.value
        else:
            v = self.types.const(e)
            if v is not None:
                out.int64_value = v

    def control_actions(self, b: Block) -> list[tuple[A.ActionDeclaration, str]]:
        """(action, control-plane name) of a control block's actions as p4c's front
        end leaves them: used top-level actions (localized) first, then the local
        ones that a table or the apply body refers to (actions called only from
        other actions are inlined, unreferenced ones removed)."""
        ctrl: A.ControlDeclaration = b.decl
        local = {d.name: d for d in ctrl.locals if isinstance(d, A.ActionDeclaration)}
        used_global: list[A.ActionDeclaration] = []
        used_local: set[str] = set()

        def note(name: str) -> None:
            if name in local:
                used_local.add(name)
                return
            d = self.types.decls.get(name)
            if isinstance(d, A.ActionDeclaration) and d not in used_global:
                used_global.append(d)

        live_tables = {id(c.decl) for c in b.children if c.kind == "table"}   # unused ones are removed
        roots: list[A.Node] = [x for x in ctrl.locals if isinstance(x, A.TableDeclaration)
                               and id(x) in live_tables] + [ctrl.body]
        for root in roots:
            if isinstance(root, A.TableDeclaration) and root.property("default_action") is None:
                acts = root.property("actions")
                for r in (acts.actions if isinstance(acts, A.ActionsProperty) else []):
                    note(r.name)
                note("NoAction")
            for n in live_nodes(root, self.types):
                if isinstance(n, A.ActionRef):
                    note(n.name)
                elif isinstance(n, A.MethodCallExpression) and isinstance(n.method, A.PathExpression):
                    note(n.method.path.name)
                elif isinstance(n, A.PathExpression) and n.path.name in local:
                    used_local.add(n.path.name)
        out = [(d, N.action_name(d, None)) for d in used_global if not N.is_hidden(d)]
        out += [(d, N.action_name(d, b.prefix)) for d in ctrl.locals
                if isinstance(d, A.ActionDeclaration) and not N.is_hidden(d) and d.name in used_local]
        return out

    def scope_of(self, b: Block) -> dict[str, Any]:
        d = b.decl
        scope: dict[str, Any] = {}
        for p in getattr(d.type, "params", []) + list(getattr(d, "ctor_params", [])):
            scope[p.name] = p
        for x in getattr(d, "locals", []):
            if getattr(x, "name", None):
                scope[x.name] = x
        return scope

    def extern_functions_called(self, ctrl: A.ControlDeclaration,
                                actions: list[A.ActionDeclaration]) -> list[A.MethodCallExpression]:
        """Extern-function calls in a control's actions and apply body (p4c looks at
        nothing else), following calls of actions and functions, which p4c's front
        end inlines first."""
        local = {d.name: d for d in ctrl.locals if isinstance(d, A.ActionDeclaration)}
        calls: list[A.MethodCallExpression] = []
        seen: set[int] = set()

        def scan(body: A.Node) -> None:
            for n in live_nodes(body, self.types):
                if not (isinstance(n, A.MethodCallExpression) and isinstance(n.method, A.PathExpression)):
                    continue
                target = local.get(n.method.path.name) or self.types.decls.get(n.method.path.name)
                if isinstance(target, A.ExternFunctionDeclaration):
                    calls.append(n)
                elif isinstance(target, (A.ActionDeclaration, A.FunctionDeclaration)) \
                        and id(target) not in seen:
                    seen.add(id(target))
                    scan(target.body)

        for a in actions:
            if id(a) not in seen:
                seen.add(id(a))
                scan(a.body)
        scan(ctrl.body)
        return calls

    # -- pass 1: symbols ---------------------------------------------------
    def collect(self) -> None:
        P = P4IdPrefix
        for b in self.blocks:
            if b.kind == "control":
                for a, name in self.control_actions(b):
                    self.add_symbol(P.ACTION, name, a)
                acts = [a for a, _ in self.control_actions(b)]
                for call in self.extern_functions_called(b.decl, acts):
                    dn = self.digest_of(call, self.scope_of(b))
                    if dn is not None:
                        self.add_symbol(P.DIGEST, dn[0], dn[1])
            elif b.kind == "table":
                if N.is_hidden(b.decl):
                    continue
                self.add_symbol(P.TABLE, b.prefix, b.decl)
                for prop in ("implementation", "counters", "meters"):
                    inst = self.table_extern(b, prop)
                    if inst is not None and inst[2]:
                        self.add_symbol(self.extern_kind(inst[0].decl.name), inst[1], inst[3])
            elif b.kind == "extern":
                kind = self.extern_kind(b.decl.name)
                if kind is not None:
                    self.add_symbol(kind, b.prefix, b.node)
            elif b.kind == "parser":
                for x in b.decl.locals:
                    if isinstance(x, A.ValueSetDeclaration):
                        self.add_symbol(P.VALUE_SET, N.object_name(x, b.prefix), x)
        for d in self.program.declarations:
            if isinstance(d, A.HeaderDeclaration) and N.controller_header_name(d) is not None:
                self.add_symbol(P.CONTROLLER_HEADER, N.type_name(d), d)
        try:
            self.ids = self.alloc.assign()
        except p4ids.P4IdError as exc:
            raise P4InfoGenError(str(exc), kind="duplicate") from exc
        self.aliases = self.alloc.aliases()

    def extern_kind(self, type_name: str) -> int | None:
        return {"counter": P4IdPrefix.COUNTER, "direct_counter": P4IdPrefix.DIRECT_COUNTER,
                "meter": P4IdPrefix.METER, "direct_meter": P4IdPrefix.DIRECT_METER,
                "register": P4IdPrefix.REGISTER, "action_profile": P4IdPrefix.ACTION_PROFILE,
                "action_selector": P4IdPrefix.ACTION_PROFILE}.get(type_name)

    def table_extern(self, b: Block, prop: str) -> tuple[Block, str, bool, Any] | None:
        """(extern block, name, constructed in place, node) for a table property naming an extern."""
        p = b.decl.property(prop)
        if not isinstance(p, A.ValueProperty) or p.value is None:
            return None
        e = p.value
        if isinstance(e, A.ConstructorCallExpression):
            d = self.types.decls.get(_ctor_type_name(e.type) or "")
            if not isinstance(d, A.ExternDeclaration):
                return None
            # p4c names an extern constructed in a table property by the property's own
            # control-plane name (`@name`, else the property name), never qualified with
            # the enclosing control: `@name("ap") implementation = action_profile(..)` is "ap"
            name = N.qualify("", N.local_name(p)) if N.annotated_name(p) else prop
            blk = Block("extern", d, name, e, b)
            return blk, name, True, p
        if isinstance(e, A.PathExpression):
            for c in (b.parent.children if b.parent else []):
                if c.kind == "extern" and isinstance(c.node, A.Instantiation) and c.node.name == e.path.name:
                    return c, c.prefix, False, c.node
            for c in self.top.children:
                if c.kind == "extern" and isinstance(c.node, A.Instantiation) and c.node.name == e.path.name:
                    return c, c.prefix, False, c.node
        return None

    def digest_of(self, call: A.MethodCallExpression,
                  scope: dict[str, Any] | None = None) -> tuple[str, Any, T.P4Type] | None:
        if not (isinstance(call.method, A.PathExpression) and call.method.path.name == "digest"):
            return None
        t: T.P4Type = T.Unknown()
        if call.type_args:
            t = self.types.resolve(call.type_args[0])
        elif len(call.args) >= 2:
            t = self.types.expr_type(call.args[1].expr, scope or {})
        if isinstance(t, T.StructLike) and t.decl is not None:
            return N.digest_name(t.decl), t.decl, t
        return None

    # -- pass 2: messages --------------------------------------------------
    def build(self) -> Any:
        self.collect()
        info = self.p4info
        info.pkg_info.arch = self.arch
        self.pkg_info()
        done_actions: set[str] = set()
        done_digests: set[str] = set()
        for b in self.blocks:
            if b.kind == "control":
                acts = self.control_actions(b)
                for a, name in acts:
                    if name not in done_actions:
                        done_actions.add(name)
                        self.add_action(a, name)
                calls = self.extern_functions_called(b.decl, [a for a, _ in acts])
                if calls:
                    self.need_type_info = True
                for call in calls:
                    dg = self.digest_of(call, self.scope_of(b))
                    if dg is not None and dg[0] not in done_digests:
                        done_digests.add(dg[0])
                        d = info.digests.add()
                        self.preamble(d, P4IdPrefix.DIGEST, dg[0], dg[1], annotations=[])
                        d.type_spec.CopyFrom(self.type_spec(dg[2]))
            elif b.kind == "table" and not N.is_hidden(b.decl):
                self.add_table(b)
            elif b.kind == "extern":
                self.add_extern(b)
            elif b.kind == "parser":
                for x in b.decl.locals:
                    if isinstance(x, A.ValueSetDeclaration):
                        self.add_value_set(x, N.object_name(x, b.prefix))
        for d in self.program.declarations:
            if isinstance(d, A.HeaderDeclaration) and N.controller_header_name(d) is not None \
                    and not N.is_hidden(d):
                self.add_controller_header(d)
        if self.need_type_info:
            info.type_info.SetInParent()
        self.check_duplicates()
        return info

    def check_duplicates(self) -> None:
        """p4c rejects a P4Info where two objects of one kind share a name (e.g. a
        control type applied directly twice: both instances are named after it)."""
        dups: list[str] = []
        for what in ("tables", "actions", "action_profiles", "counters", "direct_counters", "meters",
                     "direct_meters", "controller_packet_metadata", "value_sets", "registers", "digests"):
            seen: set[str] = set()
            for obj in getattr(self.p4info, what):
                if obj.preamble.name in seen:
                    dups.append(f"Name '{obj.preamble.name}' is used for multiple "
                                f"{what.rstrip('s').replace('_', ' ')} objects in the P4Info message")
                seen.add(obj.preamble.name)
        if dups:
            raise P4InfoGenError("; ".join(dups) + f" (found {len(dups)} duplicate name(s) in the P4Info)",
                                 kind="duplicate")

    def pkg_info(self) -> None:
        main = next((d for d in self.program.declarations
                     if isinstance(d, A.Instantiation) and d.name == "main"), None)
        if main is None:
            return
        pi = self.p4info.pkg_info
        for a in main.annotations:
            if a.name == "pkginfo":
                for kv in a.kv:
                    if kv.name in ("name", "version", "organization", "contact", "url", "arch") \
                            and isinstance(kv.expr, A.StringLiteral):
                        setattr(pi, kv.name, kv.expr.value)
        self.annotate(pi, main.annotations, skip=("pkginfo",))

    def add_action(self, a: A.ActionDeclaration, name: str) -> None:
        msg = self.p4info.actions.add()
        self.preamble(msg, P4IdPrefix.ACTION, name, a)
        params = [p for p in a.params if not p.direction]   # in/out/inout ones are bound by the caller
        ids = self.field_ids(params)
        for p, pid in zip(params, ids):
            self.need_type_info = True
            pm = msg.params.add()
            pm.id = pid
            pm.name = N.param_name(p)
            self.annotate(pm, p.annotations)
            t = self.types.decl_type(p)
            if not isinstance(t, T.Enum):
                pm.bitwidth = type_width(t)
            tn = self.type_name_of(t)
            if tn:
                pm.type_name.name = tn
            self.register_type(t)

    def type_name_of(self, t: T.P4Type) -> str | None:
        if isinstance(t, (T.NewType, T.Enum)):
            return t.name
        return None

    @staticmethod
    def field_ids(items: list[Any]) -> list[int]:
        """p4c's FieldIdAllocator: @id first, then 1, 2, ... skipping taken ids
        (the counter still advances past @id-annotated items)."""
        fixed = [N.annotation_int(N.find_annotation(getattr(x, "annotations", ()), "id")) for x in items]
        taken = {f for f in fixed if f is not None}
        out = []
        index = 1
        for f in fixed:
            if f is not None:
                out.append(f)
                index += 1
                continue
            while index in taken:
                index += 1
            out.append(index)
            taken.add(index)
        return out

    def add_table(self, b: Block) -> None:
        t: A.TableDeclaration = b.decl
        self.need_type_info = True
        msg = self.p4info.tables.add()
        self.preamble(msg, P4IdPrefix.TABLE, b.prefix, t)
        scope = self.scope_of(b.parent) if b.parent else {}
        ctrl = b.parent.decl if b.parent else None
        # match fields
        keyp = t.property("key")
        keys = keyp.elements if isinstance(keyp, A.KeyProperty) else []
        for k, kid in zip(keys, self.field_ids(keys)):
            mk = k.match_kind.name
            if mk == "selector":
                continue
            mf = msg.match_fields.add()
            mf.id = kid
            if N.annotated_name(k) is None and \
                    N.simple_key_name(k.expr, lambda m: self.member_cp_name(m, scope)) is None:
                raise P4InfoGenError(f"{N.key_expression_name(k.expr)}: Complex key expression requires "
                                     f"a @name annotation", k.expr)
            mf.name = N.key_field_name(k, lambda m: self.member_cp_name(m, scope))
            self.annotate(mf, k.annotations)
            kt = self.types.expr_type(k.expr, scope)
            mf.bitwidth = type_width(kt) if not isinstance(kt, T.Error) else 0
            if mk in STANDARD_MATCH:
                mf.match_type = STANDARD_MATCH[mk]
            else:
                mf.other_match_type = mk
            tn = self.type_name_of(kt) if isinstance(kt, T.NewType) else None
            if tn:
                mf.type_name.name = tn
            self.register_type(kt)
        # actions
        acts = t.property("actions")
        refs = acts.actions if isinstance(acts, A.ActionsProperty) else []
        local_actions = {d.name: d for d in (ctrl.locals if ctrl else []) if isinstance(d, A.ActionDeclaration)}

        def action_cp(name: str) -> tuple[str, Any]:
            d = local_actions.get(name)
            if d is not None:
                return N.action_name(d, b.parent.prefix if b.parent else None), d
            g = self.types.decls.get(name)
            return (N.action_name(g, None) if isinstance(g, A.ActionDeclaration) else name), g

        ref_names = []
        for r in refs:
            cp, _ = action_cp(r.name)
            ref_names.append(cp)
            ar = msg.action_refs.add()
            ar.id = self.id_of(P4IdPrefix.ACTION, cp)
            self.annotate(ar, r.annotations)
            names_ = {a.name for a in r.annotations}
            if "tableonly" in names_:
                ar.scope = self.pb.ActionRef.TABLE_ONLY
            elif "defaultonly" in names_:
                ar.scope = self.pb.ActionRef.DEFAULT_ONLY
        dap = t.property("default_action")
        if dap is None:
            cp, _ = action_cp("NoAction")
            if cp not in ref_names:
                ar = msg.action_refs.add()
                ar.id = self.id_of(P4IdPrefix.ACTION, cp)
                ar.annotations.append("@defaultonly")
                ar.scope = self.pb.ActionRef.DEFAULT_ONLY
            msg.initial_default_action.action_id = self.id_of(P4IdPrefix.ACTION, cp)
        elif isinstance(dap, A.ValueProperty) and dap.value is not None:
            e = dap.value
            call = e if isinstance(e, A.MethodCallExpression) else None
            path = call.method if call is not None else e
            if isinstance(path, A.PathExpression):
                cp, decl = action_cp(path.path.name)
                aid = self.id_of(P4IdPrefix.ACTION, cp)
                if dap.const:
                    msg.const_default_action_id = aid
                msg.initial_default_action.action_id = aid
                if call is not None and isinstance(decl, A.ActionDeclaration):
                    # arguments bound at default time (not the directionless-free ones)
                    bound = [(arg, p) for arg, p in zip(call.args, decl.params) if not p.direction]
                    pids = self.field_ids([p for _, p in bound])
                    for (arg, p), pid in zip(bound, pids):
                        v = self.const_arg(arg.expr)
                        w = type_width(self.types.decl_type(p))
                        if v is None:
                            continue
                        a = msg.initial_default_action.arguments.add()
                        a.param_id = pid
                        a.value = to_bytes(v, w)
        # implementation / direct resources
        impl = self.table_extern(b, "implementation")
        if impl is not None and (int(P4IdPrefix.ACTION_PROFILE), impl[1]) in self.ids:
            msg.implementation_id = self.id_of(P4IdPrefix.ACTION_PROFILE, impl[1])
            if impl[2]:
                self.add_action_profile(impl[0], impl[1], impl[3], [b])
        for prop in ("counters", "meters"):
            r = self.table_extern(b, prop)
            if r is None:
                continue
            kind = self.extern_kind(r[0].decl.name)
            if kind not in (P4IdPrefix.DIRECT_COUNTER, P4IdPrefix.DIRECT_METER):
                continue
            rid = self.id_of(kind, r[1])
            msg.direct_resource_ids.append(rid)
            self.add_direct(r[0], r[1], r[3], kind, self.id_of(P4IdPrefix.TABLE, b.prefix))
        # size, idle timeout, entries
        sp = t.property("size")
        size = self.types.const(sp.value) if isinstance(sp, A.ValueProperty) else None
        msg.size = size if size else DEFAULT_TABLE_SIZE
        st = t.property("support_timeout")
        if isinstance(st, A.ValueProperty) and isinstance(st.value, A.BoolLiteral) and st.value.value:
            msg.idle_timeout_behavior = self.pb.Table.NOTIFY_CONTROL
        ent = t.property("entries")
        if isinstance(ent, A.EntriesProperty):
            if ent.const:
                msg.is_const_table = True
            if ent.entries:
                msg.has_initial_entries = True
            self.add_entries(b, msg.preamble.id, keys, ent, action_cp)

    def member_cp_name(self, m: A.Member, scope: dict[str, Any]) -> str | None:
        """``@name`` of the struct/header field a member expression selects."""
        base = self.types.expr_type(m.expr, scope)
        if isinstance(base, T.StructLike) and base.decl is not None:
            for f in base.decl.fields:
                if f.name == m.member:
                    return N.field_name(f)
        return None

    def const_arg(self, e: Any) -> int | None:
        return self.types.const(e)

    def add_extern(self, b: Block) -> None:
        name = b.decl.name
        self.need_type_info = True
        args = [a.expr for a in getattr(b.node, "args", [])]
        if name in ("counter", "meter"):
            kind = P4IdPrefix.COUNTER if name == "counter" else P4IdPrefix.METER
            msg = (self.p4info.counters if name == "counter" else self.p4info.meters).add()
            self.preamble(msg, kind, b.prefix, b.node)
            unit = self.enum_member(args[1]) if len(args) > 1 else None
            msg.spec.unit = self.unit(name, unit)
            msg.size = self.types.const(args[0]) or 0 if args else 0
        elif name == "register":
            msg = self.p4info.registers.add()
            self.preamble(msg, P4IdPrefix.REGISTER, b.prefix, b.node)
            t = b.node.type
            if isinstance(t, A.SpecializedType) and t.args:
                rt = self.types.resolve(t.args[0])
                msg.type_spec.CopyFrom(self.type_spec(rt))
            msg.size = self.types.const(args[0]) or 0 if args else 0
        elif name in ("action_profile", "action_selector"):
            tables = [x for x in self.blocks if x.kind == "table" and
                      (r := self.table_extern(x, "implementation")) is not None and r[0] is b]
            self.add_action_profile(b, b.prefix, b.node, tables)

    def add_action_profile(self, b: Block, name: str, node: Any, tables: list[Block]) -> None:
        msg = self.p4info.action_profiles.add()
        self.preamble(msg, P4IdPrefix.ACTION_PROFILE, name, node, annotations=[])
        # the selector annotations become fields of the message, not listed annotations
        self.annotate(msg.preamble, getattr(node, "annotations", ()),
                      skip=("max_group_size", "selector_size_semantics", "max_member_weight"))
        for t in tables:
            msg.table_ids.append(self.id_of(P4IdPrefix.TABLE, t.prefix))
        args = [a.expr for a in getattr(b.node, "args", [])]
        if b.decl.name == "action_selector":
            msg.with_selector = True
            size = self.types.const(args[1]) if len(args) > 1 else None
            anns = getattr(node, "annotations", ())
            mgs = N.annotation_int(N.find_annotation(anns, "max_group_size"))
            if mgs is not None:
                msg.max_group_size = mgs
            sem = N.annotation_string(N.find_annotation(anns, "selector_size_semantics"))
            if sem == "sum_of_weights" or (sem is None and mgs is not None):
                # p4c: a max group size is counted in weights unless told otherwise
                msg.sum_of_weights.SetInParent()
            elif sem == "sum_of_members":
                msg.sum_of_members.SetInParent()
                mmw = N.annotation_int(N.find_annotation(anns, "max_member_weight"))
                if mmw is not None:
                    msg.sum_of_members.max_member_weight = mmw
        else:
            size = self.types.const(args[0]) if args else None
        msg.size = size or 0

    def add_direct(self, b: Block, name: str, node: Any, kind: int, table_id: int) -> None:
        key = (int(kind), name)
        if key in self._directs:
            return
        self._directs.add(key)
        args = [a.expr for a in getattr(b.node, "args", [])]
        unit = self.enum_member(args[0]) if args else None
        if kind == P4IdPrefix.DIRECT_COUNTER:
            msg = self.p4info.direct_counters.add()
            msg.spec.unit = self.unit("counter", unit)
        else:
            msg = self.p4info.direct_meters.add()
            msg.spec.unit = self.unit("meter", unit)
        self.preamble(msg, kind, name, node)
        msg.direct_table_id = table_id

    @staticmethod
    def enum_member(e: Any) -> str | None:
        return e.member if isinstance(e, A.Member) else None

    def unit(self, what: str, member: str | None) -> int:
        if what == "counter":
            return {"packets": self.pb.CounterSpec.PACKETS, "bytes": self.pb.CounterSpec.BYTES,
                    "packets_and_bytes": self.pb.CounterSpec.BOTH}.get(member or "", 0)
        return {"packets": self.pb.MeterSpec.PACKETS, "bytes": self.pb.MeterSpec.BYTES}.get(member or "", 0)

    def add_value_set(self, x: A.ValueSetDeclaration, name: str) -> None:
        msg = self.p4info.value_sets.add()
        self.preamble(msg, P4IdPrefix.VALUE_SET, name, x)
        et = self.types.resolve(x.type)
        if isinstance(et, T.Bits):
            m = msg.match.add()
            m.id = 1
            m.bitwidth = et.width
            m.match_type = STANDARD_MATCH["exact"]
        elif isinstance(et, T.Struct) and et.decl is not None:
            fields = et.decl.fields
            for f, fid in zip(fields, self.field_ids(fields)):
                ft = self.types.decl_type(f)
                m = msg.match.add()
                m.id = fid
                m.name = N.field_name(f)
                m.bitwidth = type_width(ft)
                ma = N.find_annotation(f.annotations, "match")
                mk = None
                if ma is not None:
                    mk = next((tk.text for tk in ma.body if tk.kind == "IDENTIFIER"), None)
                if mk is None or mk in STANDARD_MATCH:
                    m.match_type = STANDARD_MATCH[mk or "exact"]
                else:
                    m.other_match_type = mk
                m.annotations.extend(a for a in N.p4info_annotations(f.annotations) if not a.startswith("@match"))
        elif isinstance(et, T.SerEnum):
            for i, (mname, _) in enumerate(et.members.items(), start=1):
                m = msg.match.add()
                m.id = i
                m.name = mname
                m.bitwidth = type_width(et.base)
                m.match_type = STANDARD_MATCH["exact"]
        msg.size = self.types.const(x.size) or 0

    def add_controller_header(self, d: A.HeaderDeclaration) -> None:
        self.need_type_info = True
        msg = self.p4info.controller_packet_metadata.add()
        cname = N.controller_header_name(d) or d.name
        p = msg.preamble
        p.id = self.id_of(P4IdPrefix.CONTROLLER_HEADER, N.type_name(d))
        p.name = cname
        p.alias = cname
        p.annotations.extend(N.p4info_annotations(d.annotations))
        for f, fid in zip(d.fields, self.field_ids(d.fields)):
            if N.is_hidden(f):
                continue
            ft = self.types.decl_type(f)
            m = msg.metadata.add()
            m.id = fid
            m.name = N.field_name(f)
            m.annotations.extend(N.p4info_annotations(f.annotations))
            m.bitwidth = type_width(ft)
            if isinstance(ft, T.NewType):
                m.type_name.name = ft.name
            self.register_type(ft)

    # -- type specs --------------------------------------------------------
    def type_spec(self, t: T.P4Type) -> Any:
        from p4common.proto import p4types_pb2 as P
        s = P.P4DataTypeSpec()
        if isinstance(t, T.Bits):
            (s.bitstring.int if t.signed else s.bitstring.bit).bitwidth = t.width
        elif isinstance(t, T.Varbit):
            s.bitstring.varbit.max_bitwidth = t.max_width
        elif isinstance(t, T.Bool):
            s.bool.SetInParent()
        elif isinstance(t, T.Error):
            s.error.SetInParent()
        elif isinstance(t, T.Header):
            s.header.name = t.name
        elif isinstance(t, T.HeaderUnion):
            s.header_union.name = t.name
        elif isinstance(t, T.Struct):
            s.struct.name = t.name
        elif isinstance(t, T.SerEnum):
            s.serializable_enum.name = t.name
        elif isinstance(t, T.Enum):
            s.enum.name = t.name
        elif isinstance(t, T.NewType):
            s.new_type.name = t.name
        elif isinstance(t, T.Stack):
            if isinstance(t.element, T.HeaderUnion):
                s.header_union_stack.header_union.name = t.element.name
                s.header_union_stack.size = t.size
            else:
                s.header_stack.header.name = getattr(t.element, "name", "")
                s.header_stack.size = t.size
        elif isinstance(t, T.Tuple):
            for e in t.elements:
                s.tuple.members.add().CopyFrom(self.type_spec(e))
        self.register_type(t)
        return s

    def register_type(self, t: T.P4Type) -> None:
        """Add a named type (and what it refers to) to type_info."""
        ti = self.p4info.type_info
        if isinstance(t, T.StructLike):
            table = ti.headers if isinstance(t, T.Header) else \
                ti.header_unions if isinstance(t, T.HeaderUnion) else ti.structs
            if t.name in table:
                return
            entry = table[t.name]
            for fname, ft in t.fields:
                m = entry.members.add()
                m.name = fname
                if isinstance(t, T.HeaderUnion):
                    m.header.name = getattr(ft, "name", "")
                    self.register_type(ft)
                elif isinstance(t, T.Header):
                    spec = self.type_spec(ft)
                    m.type_spec.CopyFrom(spec.bitstring)
                else:
                    m.type_spec.CopyFrom(self.type_spec(ft))
        elif isinstance(t, T.SerEnum):
            if t.name in ti.serializable_enums:
                return
            e = ti.serializable_enums[t.name]
            w = type_width(t.base)
            e.underlying_type.bitwidth = w
            for mname, v in t.members.items():
                m = e.members.add()
                m.name = mname
                m.value = to_bytes(v, w)
        elif isinstance(t, T.Enum):
            if t.name in ti.enums:
                return
            e = ti.enums[t.name]
            for mname in t.members:
                e.members.add().name = mname
        elif isinstance(t, T.NewType):
            if t.name in ti.new_types:
                return
            nt = ti.new_types[t.name]
            tr = translation(t)
            if tr is None:
                # p4c walks a chain of `type`s down to the first non-`type` type
                base = t.base
                while isinstance(base, T.NewType):
                    base = base.base
                nt.original_type.CopyFrom(self.type_spec(base))
            else:
                nt.translated_type.uri = tr[0]
                if tr[1] is None:
                    nt.translated_type.sdn_string.SetInParent()
                else:
                    nt.translated_type.sdn_bitwidth = tr[1]
        elif isinstance(t, T.Stack):
            self.register_type(t.element)

    # -- entries -----------------------------------------------------------
    def add_entries(self, b: Block, table_id: int, keys: list[A.KeyElement], ent: A.EntriesProperty,
                    action_cp: Callable[[str], tuple[str, Any]]) -> None:
        scope = self.scope_of(b.parent) if b.parent else {}
        kinds = [k.match_kind.name for k in keys]
        needs_priority = any(k in PRIORITY_MATCH for k in kinds)
        prio = len(ent.entries)
        for e in ent.entries:
            upd = self.entries.updates.add()
            upd.type = self.rt.Update.INSERT
            te = upd.entity.table_entry
            te.table_id = table_id
            comps = e.keys.items if isinstance(e.keys, A.ListExpression) else [e.keys]
            if len(comps) == 1 and isinstance(comps[0], A.ListExpression) and len(keys) != 1:
                comps = comps[0].items
            fid = 1
            for k, kexpr in zip(keys, comps):
                mk = k.match_kind.name
                width = type_width(self.types.expr_type(k.expr, scope))
                if mk not in STANDARD_MATCH:
                    continue
                self.entry_match(te, fid, mk, kexpr, width)
                fid += 1
            call = e.action
            path = call.method if isinstance(call, A.MethodCallExpression) else call
            if isinstance(path, A.PathExpression):
                cp, decl = action_cp(path.path.name)
                act = te.action.action
                act.action_id = self.id_of(P4IdPrefix.ACTION, cp)
                if isinstance(call, A.MethodCallExpression) and isinstance(decl, A.ActionDeclaration):
                    for i, (arg, p) in enumerate(zip(call.args, decl.params), start=1):
                        v = self.types.const(arg.expr)
                        pp = act.params.add()
                        pp.param_id = i
                        if v is not None:
                            pp.value = to_bytes(v, type_width(self.types.decl_type(p)))
            if needs_priority:
                if e.priority is not None and self.types.const(e.priority) is not None:
                    te.priority = self.types.const(e.priority)
                else:
                    te.priority = prio
                prio -= 1
            if ent.const:
                te.is_const = True

    def entry_match(self, te: Any, fid: int, mk: str, k: Any, width: int) -> None:
        c = self.types.const
        if isinstance(k, A.DefaultExpression) and mk != "exact":
            return
        if mk == "exact":
            m = te.match.add()
            m.field_id = fid
            v = c(k)
            if v is not None:
                m.exact.value = to_bytes(v, width)
        elif mk == "lpm":
            if isinstance(k, A.Mask):
                v, mask = c(k.value), c(k.mask)
                if v is None or mask is None or mask == 0:
                    return
                tz = (mask & -mask).bit_length() - 1
                plen = width - tz
                v &= mask
            else:
                v, plen = c(k), width
                if v is None:
                    return
            m = te.match.add()
            m.field_id = fid
            m.lpm.value = to_bytes(v, width)
            m.lpm.prefix_len = plen
        elif mk == "ternary":
            if isinstance(k, A.Mask):
                v, mask = c(k.value), c(k.mask)
                if v is None or mask is None:
                    return
                v &= mask
                if mask == 0:
                    return
            else:
                v, mask = c(k), (1 << width) - 1
                if v is None:
                    return
            m = te.match.add()
            m.field_id = fid
            m.ternary.value = to_bytes(v, width)
            m.ternary.mask = to_bytes(mask, width)
        elif mk == "range":
            if isinstance(k, A.Range):
                lo, hi = c(k.lo), c(k.hi)
                if lo is None or hi is None or (lo == 0 and hi == (1 << width) - 1):
                    return
            else:
                lo = hi = c(k)
                if lo is None:
                    return
            m = te.match.add()
            m.field_id = fid
            m.range.low = to_bytes(lo, width)
            m.range.high = to_bytes(hi, width)
        elif mk == "optional":
            v = c(k)
            m = te.match.add()
            m.field_id = fid
            if v is not None:
                m.optional.value = to_bytes(v, width)


def to_bytes(value: int, width: int) -> bytes:
    """p4c's stringRepr: big-endian, ceil(width/8) bytes (two's complement for negatives)."""
    n = max(1, (width + 7) // 8)
    value &= (1 << (8 * n)) - 1
    return value.to_bytes(n, "big")


# ============================================================ entry points

@dataclass
class P4RuntimeOutput:
    p4info: Any
    entries: Any


def generate(program_or_typed: Any, arch: str = "v1model") -> P4RuntimeOutput:
    """P4Info + const-entries WriteRequest of a program (ast.Program or TypedProgram)."""
    typed = program_or_typed if hasattr(program_or_typed, "type_of") else None
    program = typed.program if typed is not None else program_or_typed
    b = P4InfoBuilder(program, typed, arch)
    info = b.build()
    return P4RuntimeOutput(info, b.entries)


def generate_p4info(program_or_typed: Any, arch: str = "v1model") -> Any:
    """The ``p4.config.v1.P4Info`` message for a program (the driver's entry point)."""
    return generate(program_or_typed, arch).p4info


def serialize(message: Any, path: str) -> bytes:
    """Encode a message by file extension, like p4c's --p4runtime-files:
    ``.json`` JSON, ``.bin``/``.pb`` binary, ``.txt``/``.txtpb`` text."""
    from google.protobuf import json_format, text_format
    suffix = Path(path).suffix
    if suffix == ".json":
        return json_format.MessageToJson(message, indent=2).encode()
    if suffix in (".bin", ".pb"):
        return message.SerializeToString()
    if suffix in (".txt", ".txtpb"):
        return text_format.MessageToString(message).encode()
    raise P4InfoGenError(f"{path}: could not detect the P4Runtime file format from its suffix "
                         f"(known: .txt, .txtpb, .json, .bin, .pb)")


def write_p4runtime_files(program_or_typed: Any, p4info_files: Iterable[str] = (),
                          entries_files: Iterable[str] = (), arch: str = "v1model") -> P4RuntimeOutput:
    """Write P4Info (and const entries) files; formats by suffix."""
    out = generate(program_or_typed, arch)
    encoded: list[tuple[str, bytes]] = []
    for f in p4info_files:
        encoded.append((f, serialize(out.p4info, f)))
    for f in entries_files:
        encoded.append((f, serialize(out.entries, f)))
    for f, data in encoded:
        try:
            Path(f).write_bytes(data)
        except OSError as exc:
            raise P4InfoGenError(f"Couldn't open P4Runtime API file: {f}: {exc.strerror}") from exc
    return out


__all__ = [
    "AstTypes",
    "Block",
    "P4InfoBuilder",
    "P4InfoGenError",
    "P4RuntimeOutput",
    "bfs",
    "generate",
    "generate_p4info",
    "instance_blocks",
    "serialize",
    "to_bytes",
    "write_p4runtime_files",
]
