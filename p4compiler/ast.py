"""Typed AST of P4_16 programs, as declarative dataclasses.

Design (why it looks like this):
* Every node has a keyword-only `loc` (a `SourceLocation`) that is excluded
  from equality: two trees are `==` when they mean the same program, which is
  what the printer round-trip test checks.  For declarations `loc` is the
  location of the declared *name* (as in p4c, whose messages point at names).
* Names are plain `str`; a `Path` (name + leading-dot flag) is used where a
  name is looked up.
* Nodes carry only syntax.  Later passes (name resolution, type checking)
  keep their results in side tables keyed by `id(node)` or in fields they add
  in subclasses, so this module has no dependency on them.
* `Node.children()` yields child nodes in source order, so generic passes
  (visitors, location finders) need no per-class code.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Callable, Iterator, Optional, Union

from .diagnostics import SourceLocation
from .lexer import Token


@dataclass
class Node:
    loc: Optional[SourceLocation] = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator["Node"]:
        for f in fields(self):
            if f.name == "loc":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, Node):
                        yield x

    def walk(self) -> Iterator["Node"]:
        """This node and all its descendants, pre-order."""
        stack = [self]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(reversed(list(n.children())))

    def transform(self, fn: Callable[["Node"], Optional["Node"]]) -> "Node":
        """A rewritten copy, bottom-up: children first, then `fn(node)` on the node
        rebuilt from them; `fn` returns a replacement or None to keep it.  Nodes
        (and lists) with nothing changed are shared, not copied; locations stay.
        For lowering passes that must not mutate the tree others still hold."""
        changes = {}
        for f in fields(self):
            if f.name == "loc":
                continue
            v = getattr(self, f.name)
            if isinstance(v, Node):
                nv = v.transform(fn)
                if nv is not v:
                    changes[f.name] = nv
            elif isinstance(v, list) and any(isinstance(x, Node) for x in v):
                nl = [x.transform(fn) if isinstance(x, Node) else x for x in v]
                if any(a is not b for a, b in zip(nl, v)):
                    changes[f.name] = nl
        node = replace(self, **changes) if changes else self
        out = fn(node)
        return node if out is None else out


# ----------------------------------------------------------------- annotations

@dataclass
class Annotation(Node):
    """`@name`, `@name(tokens...)` (body kept unparsed, as in p4c: its meaning
    depends on the annotation), `@name[expr, ...]` / `@name[k=v, ...]`
    (structured) or `@pragma name tokens` (`pragma=True`)."""

    name: str
    body: list[Token] = field(default_factory=list)
    has_parens: bool = False
    structured: bool = False
    exprs: list["Expression"] = field(default_factory=list)
    kv: list["NamedExpression"] = field(default_factory=list)
    pragma: bool = False


# ----------------------------------------------------------------------- types

@dataclass
class Type(Node):
    pass


@dataclass
class Path(Node):
    name: str
    absolute: bool = False   # written with a leading dot: `.x`


@dataclass
class TypeName(Type):
    path: Path


@dataclass
class BoolType(Type):
    pass


@dataclass
class StringType(Type):
    pass


@dataclass
class IntType(Type):
    """The arbitrary-precision `int`."""


@dataclass
class ErrorType(Type):
    pass


@dataclass
class MatchKindType(Type):
    pass


@dataclass
class VoidType(Type):
    pass


@dataclass
class DontCareType(Type):
    """`_` as a type argument."""


@dataclass
class BitsType(Type):
    """`bit<W>` / `int<W>`; `width` None means plain `bit` (bit<1>)."""

    width: Optional["Expression"]
    signed: bool = False


@dataclass
class VarbitType(Type):
    width: "Expression"


@dataclass
class SpecializedType(Type):
    base: TypeName
    args: list[Type]


@dataclass
class StackType(Type):
    element: Type
    size: "Expression"


@dataclass
class TupleType(Type):
    args: list[Type]


@dataclass
class ListType(Type):
    element: Type


# ----------------------------------------------------------------- expressions

@dataclass
class Expression(Node):
    pass


@dataclass
class IntLiteral(Expression):
    value: int
    width: Optional[int] = None
    signed: bool = False
    base: int = field(default=10, compare=False)
    text: str = field(default="", compare=False)


@dataclass
class BoolLiteral(Expression):
    value: bool


@dataclass
class StringLiteral(Expression):
    value: str          # the body as written between the quotes (escapes kept)


@dataclass
class PathExpression(Expression):
    path: Path


@dataclass
class TypeNameExpression(Expression):
    """A type used where an expression is expected: the `T` of `T.member`
    (enum members, `error.X`) or of `T.apply()`."""

    type: Type


@dataclass
class Member(Expression):
    expr: Expression
    member: str


@dataclass
class ArrayIndex(Expression):
    expr: Expression
    index: Expression


@dataclass
class Slice(Expression):
    expr: Expression
    hi: Expression
    lo: Expression


@dataclass
class PlusSlice(Expression):
    """`e[lo +: width]`: `width` bits starting at bit `lo`."""

    expr: Expression
    lo: Expression
    width: Expression


@dataclass
class UnaryOp(Expression):
    op: str             # "!", "~", "-", "+"
    expr: Expression


@dataclass
class BinaryOp(Expression):
    op: str             # "*", "/", "%", "+", "-", "|+|", "|-|", "<<", ">>", "<=", ">=",
    left: Expression    # "<", ">", "!=", "==", "&", "^", "|", "++", "&&", "||"
    right: Expression


@dataclass
class Mux(Expression):
    cond: Expression
    then: Expression
    other: Expression


@dataclass
class Cast(Expression):
    type: Type
    expr: Expression


@dataclass
class Argument(Node):
    expr: Expression
    name: Optional[str] = None   # named argument `name = expr`


@dataclass
class MethodCallExpression(Expression):
    method: Expression
    type_args: list[Type] = field(default_factory=list)
    args: list[Argument] = field(default_factory=list)


@dataclass
class ConstructorCallExpression(Expression):
    type: Type
    args: list[Argument] = field(default_factory=list)


@dataclass
class ListExpression(Expression):
    """`{a, b}` (also the tuple keyset `(a, b)` of select cases and entries)."""

    items: list[Expression]


@dataclass
class NamedExpression(Node):
    name: str
    expr: Expression


@dataclass
class StructExpression(Expression):
    """`{f1 = a, f2 = b}`."""

    fields: list[NamedExpression]


@dataclass
class InvalidExpression(Expression):
    """`{#}`: an invalid header or header union."""


@dataclass
class DefaultExpression(Expression):
    """`default` or `_` (in keysets, switch labels and as a don't-care argument)."""

    dontcare: bool = False      # written `_`


@dataclass
class Dots(Expression):
    """`...`: 'all remaining fields/elements are don't-care / default'."""


@dataclass
class This(Expression):
    pass


@dataclass
class Mask(Expression):
    value: Expression
    mask: Expression


@dataclass
class Range(Expression):
    lo: Expression
    hi: Expression


@dataclass
class SelectCase(Node):
    keyset: Expression
    state: Path


@dataclass
class SelectExpression(Expression):
    select: list[Expression]
    cases: list[SelectCase]


# ------------------------------------------------------------------ statements

@dataclass
class Statement(Node):
    pass


@dataclass
class AssignmentStatement(Statement):
    left: Expression
    right: Expression
    op: str = "="       # or a compound operator "+=", "|+|=", ">>=", ...


@dataclass
class MethodCallStatement(Statement):
    call: MethodCallExpression


@dataclass
class EmptyStatement(Statement):
    pass


@dataclass
class ExitStatement(Statement):
    pass


@dataclass
class ReturnStatement(Statement):
    expr: Optional[Expression] = None


@dataclass
class BreakStatement(Statement):
    pass


@dataclass
class ContinueStatement(Statement):
    pass


@dataclass
class BlockStatement(Statement):
    components: list[Union[Statement, "Declaration"]] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class IfStatement(Statement):
    cond: Expression
    then: Statement
    other: Optional[Statement] = None


@dataclass
class SwitchCase(Node):
    label: Expression                 # DefaultExpression for `default`
    body: Optional[BlockStatement]    # None: falls through to the next case


@dataclass
class SwitchStatement(Statement):
    expr: Expression
    cases: list[SwitchCase]


@dataclass
class ForStatement(Statement):
    """`for (init; cond; update) body`."""

    init: list[Union[Statement, "Declaration"]]
    cond: Optional[Expression]
    update: list[Statement]
    body: Statement
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ForInStatement(Statement):
    """`for (T x in collection) body` (collection: an expression or a Range)."""

    decl: "VariableDeclaration"
    collection: Expression
    body: Statement
    annotations: list[Annotation] = field(default_factory=list)


# ---------------------------------------------------------------- declarations

@dataclass
class Declaration(Node):
    pass


@dataclass
class Parameter(Declaration):
    annotations: list[Annotation]
    direction: str          # "", "in", "out", "inout"
    type: Type
    name: str
    default: Optional[Expression] = None


@dataclass
class TypeParameter(Declaration):
    name: str


@dataclass
class ConstantDeclaration(Declaration):
    annotations: list[Annotation]
    type: Type
    name: str
    init: Expression


@dataclass
class VariableDeclaration(Declaration):
    annotations: list[Annotation]
    type: Type
    name: str
    init: Optional[Expression] = None


@dataclass
class StructField(Declaration):
    annotations: list[Annotation]
    type: Type
    name: str


@dataclass
class StructLikeDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    type_params: list[TypeParameter]
    fields: list[StructField]


@dataclass
class HeaderDeclaration(StructLikeDeclaration):
    pass


@dataclass
class HeaderUnionDeclaration(StructLikeDeclaration):
    pass


@dataclass
class StructDeclaration(StructLikeDeclaration):
    pass


@dataclass
class DeclarationId(Declaration):
    """A member of an enum, error or match_kind declaration."""

    name: str


@dataclass
class EnumDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    members: list[DeclarationId]


@dataclass
class SerEnumMember(Declaration):
    name: str
    value: Expression


@dataclass
class SerEnumDeclaration(Declaration):
    annotations: list[Annotation]
    type: Type
    name: str
    members: list[SerEnumMember]


@dataclass
class ErrorDeclaration(Declaration):
    members: list[DeclarationId]


@dataclass
class MatchKindDeclaration(Declaration):
    members: list[DeclarationId]


@dataclass
class TypedefDeclaration(Declaration):
    """`typedef T name;` (or `type T name;` when `newtype`); `type` may be a
    derived type declaration (`typedef struct S {...} name;`)."""

    annotations: list[Annotation]
    type: Union[Type, Declaration]
    name: str
    newtype: bool = False


@dataclass
class MethodDeclaration(Declaration):
    """A prototype: extern method, extern function or constructor
    (`return_type` None for a constructor)."""

    annotations: list[Annotation]
    return_type: Optional[Type]
    name: str
    type_params: list[TypeParameter]
    params: list[Parameter]
    abstract: bool = False


@dataclass
class ExternDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    type_params: list[TypeParameter]
    methods: list[MethodDeclaration]


@dataclass
class ExternFunctionDeclaration(Declaration):
    annotations: list[Annotation]
    prototype: MethodDeclaration

    @property
    def name(self) -> str:
        return self.prototype.name


@dataclass
class ExternForwardDeclaration(Declaration):
    """`extern X;`"""

    annotations: list[Annotation]
    name: str


@dataclass
class FunctionDeclaration(Declaration):
    annotations: list[Annotation]
    return_type: Type
    name: str
    type_params: list[TypeParameter]
    params: list[Parameter]
    body: BlockStatement


@dataclass
class ActionDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    params: list[Parameter]
    body: BlockStatement


@dataclass
class ParserTypeDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    type_params: list[TypeParameter]
    params: list[Parameter]


@dataclass
class ControlTypeDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    type_params: list[TypeParameter]
    params: list[Parameter]


@dataclass
class PackageTypeDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    type_params: list[TypeParameter]
    params: list[Parameter]


@dataclass
class ValueSetDeclaration(Declaration):
    annotations: list[Annotation]
    type: Type
    size: Expression
    name: str


@dataclass
class Instantiation(Declaration):
    """`T(args) name;` or `T(args) name = { initializer declarations };`."""

    annotations: list[Annotation]
    type: Type
    args: list[Argument]
    name: str
    initializer: Optional[list[Declaration]] = None


@dataclass
class ParserState(Declaration):
    annotations: list[Annotation]
    name: str
    components: list[Union[Statement, Declaration]]
    transition: Optional[Expression]     # PathExpression or SelectExpression; None if absent


@dataclass
class ParserDeclaration(Declaration):
    type: ParserTypeDeclaration
    ctor_params: list[Parameter]
    locals: list[Declaration]
    states: list[ParserState]

    @property
    def name(self) -> str:
        return self.type.name


@dataclass
class ControlDeclaration(Declaration):
    type: ControlTypeDeclaration
    ctor_params: list[Parameter]
    locals: list[Declaration]
    body: BlockStatement

    @property
    def name(self) -> str:
        return self.type.name


# ---------------------------------------------------------------------- tables

@dataclass
class KeyElement(Node):
    expr: Expression
    match_kind: Path
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class ActionRef(Node):
    """An element of `actions = {...}`: `a;` or `a(args);`."""

    annotations: list[Annotation]
    expr: Expression          # PathExpression or MethodCallExpression

    @property
    def name(self) -> str:
        e = self.expr.method if isinstance(self.expr, MethodCallExpression) else self.expr
        return e.path.name if isinstance(e, PathExpression) else ""


@dataclass
class Entry(Node):
    keys: ListExpression
    action: Expression
    annotations: list[Annotation] = field(default_factory=list)
    const: bool = False
    priority: Optional[Expression] = None


@dataclass
class TableProperty(Node):
    name: str
    annotations: list[Annotation] = field(default_factory=list)
    const: bool = False


@dataclass
class KeyProperty(TableProperty):
    elements: list[KeyElement] = field(default_factory=list)


@dataclass
class ActionsProperty(TableProperty):
    actions: list[ActionRef] = field(default_factory=list)


@dataclass
class EntriesProperty(TableProperty):
    entries: list[Entry] = field(default_factory=list)


@dataclass
class ValueProperty(TableProperty):
    """`size = 1024;`, `default_action = a();`, `implementation = ...;`, custom."""

    value: Optional[Expression] = None


@dataclass
class TableDeclaration(Declaration):
    annotations: list[Annotation]
    name: str
    properties: list[TableProperty]

    def property(self, name: str) -> Optional[TableProperty]:
        for p in self.properties:
            if p.name == name:
                return p
        return None


@dataclass
class Program(Node):
    declarations: list[Declaration]
