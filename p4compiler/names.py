"""Control-plane names: the fully qualified names p4c gives P4Runtime-visible objects.

Why one module: P4Info and the BMv2 JSON must name every table, action, key,
extern instance... identically (the STF runner and P4Runtime controllers look
objects up by these names), so both generators take them from here.

The rules (p4c front end + ``control-plane/`` serializer, checked against the
reference P4Info files of the conformance corpus):

* An object's *local* name is its ``@name("...")`` annotation if it has one,
  otherwise its declared name.
* A local name starting with ``.`` is *absolute*: the control-plane name is the
  rest of it (``@name(".t")`` -> ``t``), wherever the object is declared.
* Otherwise objects declared inside a control or parser are prefixed with the
  *instance path* of that control/parser: a control passed to ``main`` has the
  path of its declared name (``ingress``; an ``@name`` on the control itself is
  ignored), a control/parser instantiated inside
  another one appends its instance name (``cIngress.E.c1``); a direct
  ``E.apply()`` of a control type instantiates it under the name ``E``.
  So table ``t`` in ``control ingress`` is ``ingress.t``.
* Actions declared at top level keep their (local) name, unprefixed
  (``NoAction``); actions declared in a control are prefixed like tables, with
  the control's instance path (``ingress.c.add`` for action ``add`` of a control
  instantiated as ``c`` inside ``ingress``).  Actions only called from other
  actions are inlined by p4c's front end, and unreferenced ones removed: P4Info
  lists neither.
* Match-field names: ``@name`` on the key element, else the key expression as
  p4c prints it (``hdr.ipv4.dstAddr``, ``meta.a[3].b``, ``h.f[7:0]``);
  ``e.isValid()`` becomes ``e.$valid$``, ``x & const`` is named ``x``; a
  struct field with ``@name("x")`` is printed ``x`` and one with
  ``@name(".x")`` restarts the name (``hdr.data.f1`` -> ``data.f1`` in P4_14
  translations).  Any other key expression needs an ``@name`` (p4c: "Complex
  key expression requires a @name annotation").
* Tables nothing applies and control/parser instances nothing uses are removed
  by p4c's front end (extern instances stay, used or not).
* Action parameters: ``@name`` or declared name, never prefixed.
* Digests are named after the struct type of the digested data; controller
  packet metadata after the ``@controller_header("...")`` string.

Annotations as P4Info lists them: every annotation except ``@name``, ``@id``,
``@brief``, ``@description`` (and structured ones, which go elsewhere), printed
as in the source (``@defaultonly``, ``@noWarn("unused")``, ``@min_width(32)``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import ast as A

NAME = "name"
#: Annotations P4Info does not list in ``annotations`` (represented elsewhere).
NOT_LISTED = frozenset({"name", "id", "brief", "description"})


# ----------------------------------------------------------------- annotations

def find_annotation(annotations: Iterable[A.Annotation], name: str) -> A.Annotation | None:
    for a in annotations or ():
        if a.name == name and not a.pragma:
            return a
    return None


def annotation_string(ann: A.Annotation | None) -> str | None:
    """The string argument of ``@x("...")`` (first string literal token), or None."""
    if ann is None:
        return None
    for t in ann.body:
        if t.kind == "STRING_LITERAL":
            return str(t.value) if t.value is not None else t.text.strip('"')
    for e in ann.exprs:
        if isinstance(e, A.StringLiteral):
            return e.value
    return None


def annotation_int(ann: A.Annotation | None) -> int | None:
    """The integer argument of ``@x(N)`` (``@id``, ``@size``), or None."""
    if ann is None:
        return None
    for t in ann.body:
        if t.kind == "INTEGER":
            v = t.value
            return int(getattr(v, "value", v))
    return None


def annotated_name(node) -> str | None:
    """The raw ``@name`` of a node (may start with ``.``), or None."""
    return annotation_string(find_annotation(getattr(node, "annotations", ()), NAME))


def local_name(node) -> str:
    """``@name`` (as written, maybe with a leading dot) or the declared name."""
    n = annotated_name(node)
    return n if n is not None else node.name


def qualify(prefix: str, local: str) -> str:
    """Control-plane name of a local name under an instance-path prefix."""
    if local.startswith("."):
        return local[1:]
    return f"{prefix}.{local}" if prefix else local


def object_name(node, prefix: str) -> str:
    """Fully qualified name of a table / extern instance / value set declared in
    the control or parser whose instance path is ``prefix``."""
    return qualify(prefix, local_name(node))


def action_name(action: A.ActionDeclaration, where: str | A.ControlDeclaration | None) -> str:
    """Fully qualified name of an action: top-level ones unprefixed, others
    prefixed with the instance path of the control block holding them
    (``where``: that path, or a control passed to ``main``, whose path is its name)."""
    if where is None:
        return qualify("", local_name(action))
    prefix = where if isinstance(where, str) else control_prefix(where)
    return qualify(prefix, local_name(action))


def control_prefix(decl) -> str:
    """Instance-path prefix of a control/parser passed directly to ``main``: its
    declared name (p4c ignores an ``@name`` on the control declaration here)."""
    return decl.name


def param_name(param: A.Parameter) -> str:
    n = annotated_name(param)
    return n if n is not None else param.name


def field_name(f: A.StructField) -> str:
    n = annotated_name(f)
    return n if n is not None else f.name


# ------------------------------------------------------------------ key fields

#: given a Member expression, the control-plane name of the field it selects
#: (the struct field's ``@name``), or None to use the member as written
MemberNamer = Callable[[A.Member], str | None]


def key_field_name(key: A.KeyElement, member_name: MemberNamer | None = None) -> str:
    """Match-field name of a table key element.  ``member_name`` lets the caller
    (who knows types) apply ``@name`` annotations of struct/header fields."""
    n = annotated_name(key)
    if n is not None:
        return n
    return key_expression_name(key.expr, member_name)


def key_expression_name(e: A.Expression, member_name: MemberNamer | None = None) -> str:
    """A key expression's control-plane name, as p4c's front end generates it
    (``KeyNameGenerator``); for expressions p4c rejects without ``@name`` (see
    :func:`simple_key_name`) the printed expression, so callers always get a string."""
    got = simple_key_name(e, member_name)
    if got is not None:
        return got
    from .printer import Printer
    return Printer().expr(e)


def simple_key_name(e: A.Expression, member_name: MemberNamer | None = None) -> str | None:
    """Name of a key expression p4c can name by itself: paths, members (with
    the fields' ``@name``), constant indexes and slices, ``x & const`` (named
    ``x``), ``h.isValid()`` (``h.$valid$``).  None for anything else: p4c
    requires an ``@name`` there ("Complex key expression requires a @name
    annotation")."""
    def sub(x: A.Expression) -> str | None:
        return simple_key_name(x, member_name)

    if isinstance(e, A.PathExpression):
        return ("." if e.path.absolute else "") + e.path.name
    if isinstance(e, A.Member):
        base = sub(e.expr)
        if base is None:
            return None
        m = member_name(e) if member_name is not None else None
        if m is not None and m.startswith("."):
            return m[1:]        # an absolute field @name restarts the name (P4_14 translations)
        return f"{base}.{m if m is not None else e.member}"
    if isinstance(e, A.ArrayIndex):
        base, idx = sub(e.expr), sub(e.index)
        return f"{base}[{idx}]" if base is not None and idx is not None else None
    if isinstance(e, A.Slice):
        base, hi, lo = sub(e.expr), sub(e.hi), sub(e.lo)
        return f"{base}[{hi}:{lo}]" if None not in (base, hi, lo) else None
    if isinstance(e, A.PlusSlice) and isinstance(e.lo, A.IntLiteral) and isinstance(e.width, A.IntLiteral):
        base = sub(e.expr)
        return f"{base}[{e.lo.value + e.width.value - 1}:{e.lo.value}]" if base is not None else None
    if isinstance(e, A.IntLiteral):
        return str(e.value)
    if isinstance(e, A.BinaryOp) and e.op == "&":
        if isinstance(e.right, A.IntLiteral):
            return sub(e.left)
        if isinstance(e.left, A.IntLiteral):
            return sub(e.right)
        return None
    if isinstance(e, A.MethodCallExpression) and isinstance(e.method, A.Member) \
            and e.method.member == "isValid" and not e.args:
        base = sub(e.method.expr)
        return f"{base}.$valid$" if base is not None else None
    return None


# ----------------------------------------------------------- other name rules

def controller_header_name(header: A.HeaderDeclaration) -> str | None:
    """``packet_in`` / ``packet_out`` for a ``@controller_header("...")`` header, else None."""
    return annotation_string(find_annotation(header.annotations, "controller_header"))


def type_name(decl) -> str:
    """Control-plane name of a named type (struct, header, enum, new type): ``@name`` or name, no dot."""
    return qualify("", local_name(decl))


def digest_name(struct_decl) -> str:
    """A digest is named after the struct type of its data."""
    return type_name(struct_decl)


def p4info_annotations(annotations: Iterable[A.Annotation]) -> list[str]:
    """The annotations P4Info lists for an object, as p4c prints them."""
    out: list[str] = []
    for a in annotations or ():
        if a.name in NOT_LISTED or a.structured:
            continue
        out.append(annotation_text(a))
    return out


def annotation_text(a: A.Annotation) -> str:
    """An unstructured annotation as p4c's ToP4 prints it: parsed arguments
    joined with ", ", an unparsed body's tokens joined with " ", no parentheses
    when there is nothing inside."""
    if a.exprs:
        from .printer import Printer
        pr = Printer()
        return "@" + a.name + "(" + ", ".join(pr.expr(e) for e in a.exprs) + ")"
    if a.body:
        return "@" + a.name + "(" + " ".join(t.text for t in a.body) + ")"
    return "@" + a.name


def is_hidden(node) -> bool:
    return find_annotation(getattr(node, "annotations", ()), "hidden") is not None


# ------------------------------------------------------ names of a whole program

@dataclass
class ControlPlaneNames:
    """Every control-plane name of one program, computed once (for the back end).

    Keys are ``id()`` of front-end AST nodes, so look names up *before* passes
    that copy nodes (or carry the names along).  A control instantiated more
    than once has one name per instance: ``by_instance`` maps (instance path,
    id(node)) -> name; the plain dicts hold the first instance's name.
    """

    tables: dict[int, str] = field(default_factory=dict)        # id(TableDeclaration)
    actions: dict[int, str] = field(default_factory=dict)       # id(ActionDeclaration)
    externs: dict[int, str] = field(default_factory=dict)       # id(Instantiation)
    value_sets: dict[int, str] = field(default_factory=dict)    # id(ValueSetDeclaration)
    keys: dict[int, str] = field(default_factory=dict)          # id(KeyElement) -> match-field name
    controls: dict[int, str] = field(default_factory=dict)      # id(Control/ParserDeclaration) -> instance path
    by_instance: dict[tuple[str, int], str] = field(default_factory=dict)

    def table(self, decl: A.TableDeclaration, instance: str | None = None) -> str:
        return self._get(self.tables, decl, instance)

    def action(self, decl: A.ActionDeclaration, instance: str | None = None) -> str:
        return self._get(self.actions, decl, instance)

    def extern(self, decl: A.Instantiation, instance: str | None = None) -> str:
        return self._get(self.externs, decl, instance)

    def key(self, key: A.KeyElement) -> str:
        got = self.keys.get(id(key))
        return got if got is not None else key_field_name(key)

    def _get(self, table: dict[int, str], decl: Any, instance: str | None) -> str:
        if instance is not None:
            got = self.by_instance.get((instance, id(decl)))
            if got is not None:
                return got
        got = table.get(id(decl))
        if got is None:
            raise KeyError(f"no control-plane name for {type(decl).__name__} "
                           f"{getattr(decl, 'name', '?')!r} (not instantiated from main?)")
        return got


def program_names(program_or_typed: Any) -> ControlPlaneNames:
    """All control-plane names of a program (``ast.Program`` or ``TypedProgram``),
    by the same walk P4Info generation uses."""
    from .p4info_gen import P4InfoBuilder  # late: p4info_gen imports this module

    typed = program_or_typed if hasattr(program_or_typed, "type_of") else None
    program = typed.program if typed is not None else program_or_typed
    b = P4InfoBuilder(program, typed)
    out = ControlPlaneNames()

    def put(table: dict[int, str], prefix: str, node: Any, name: str) -> None:
        table.setdefault(id(node), name)
        out.by_instance[(prefix, id(node))] = name

    for blk in b.blocks:
        if blk.kind in ("control", "parser"):
            out.controls.setdefault(id(blk.decl), blk.prefix)
            for x in blk.decl.locals:
                if isinstance(x, A.ActionDeclaration):
                    put(out.actions, blk.prefix, x, action_name(x, blk.prefix))
                elif isinstance(x, A.ValueSetDeclaration):
                    put(out.value_sets, blk.prefix, x, object_name(x, blk.prefix))
        elif blk.kind == "table":
            prefix = blk.parent.prefix if blk.parent else ""
            put(out.tables, prefix, blk.decl, blk.prefix)
            scope = b.scope_of(blk.parent) if blk.parent else {}
            keyp = blk.decl.property("key")
            for k in (keyp.elements if isinstance(keyp, A.KeyProperty) else []):
                out.keys.setdefault(id(k), key_field_name(k, lambda m, s=scope: b.member_cp_name(m, s)))
        elif blk.kind == "extern" and isinstance(blk.node, A.Instantiation):
            prefix = blk.parent.prefix if blk.parent else ""
            put(out.externs, prefix, blk.node, blk.prefix)
    for d in program.declarations:
        if isinstance(d, A.ActionDeclaration):
            put(out.actions, "", d, action_name(d, None))
    return out
