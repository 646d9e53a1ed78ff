"""AST -> P4_16 source.

Used for round-trip tests (parse -> print -> parse gives an equal AST) and for
dumping programs after front/mid-end passes.  It puts parentheses only where
precedence requires them (same table as the parser, including p4c's
left-associative `?:`), so the printed text re-parses to the same tree.
"""
from __future__ import annotations

from . import ast as A
from .parser import BINARY_PREC

_PREC_MUX = 0
_PREC_PREFIX = 11
_PREC_POSTFIX = 12


def _prec(e: A.Expression) -> int:
    if isinstance(e, A.Mux):
        return _PREC_MUX
    if isinstance(e, A.BinaryOp):
        return BINARY_PREC[e.op]
    if isinstance(e, (A.UnaryOp, A.Cast)):
        return _PREC_PREFIX
    return _PREC_POSTFIX


class Printer:
    def __init__(self, indent: str = "    "):
        self.indent_unit = indent
        self.lines: list[str] = []
        self.level = 0

    # ------------------------------------------------------------- output
    def emit(self, text: str) -> None:
        self.lines.append(self.indent_unit * self.level + text if text else "")

    def program(self, prog: A.Program) -> str:
        for d in prog.declarations:
            self.declaration(d)
        return "\n".join(self.lines) + "\n"

    # -------------------------------------------------------- annotations
    def annotation(self, a: A.Annotation) -> str:
        if a.pragma:
            return "@pragma " + a.name + (" " if a.body else "") + " ".join(t.text for t in a.body) + "\n"
        if a.structured:
            if a.kv:
                return f"@{a.name}[" + ", ".join(self.named(n) for n in a.kv) + "]"
            return f"@{a.name}[" + ", ".join(self.expr(e) for e in a.exprs) + "]"
        if a.has_parens:
            return f"@{a.name}(" + " ".join(t.text for t in a.body) + ")"
        return f"@{a.name}"

    def annotations_inline(self, anns: list[A.Annotation]) -> str:
        """Annotations followed by a space (a pragma ends its own line)."""
        out = ""
        for a in anns:
            s = self.annotation(a)
            out += s if s.endswith("\n") else s + " "
        return out

    def annotations_block(self, anns: list[A.Annotation]) -> None:
        for a in anns:
            self.emit(self.annotation(a).rstrip("\n"))

    # -------------------------------------------------------------- types
    def type(self, t) -> str:
        if isinstance(t, A.TypeName):
            return ("." if t.path.absolute else "") + t.path.name
        if isinstance(t, A.BitsType):
            kw = "int" if t.signed else "bit"
            if t.width is None:
                return kw
            return f"{kw}<{self.width(t.width)}>"
        if isinstance(t, A.VarbitType):
            return f"varbit<{self.width(t.width)}>"
        if isinstance(t, A.BoolType):
            return "bool"
        if isinstance(t, A.StringType):
            return "string"
        if isinstance(t, A.IntType):
            return "int"
        if isinstance(t, A.ErrorType):
            return "error"
        if isinstance(t, A.MatchKindType):
            return "match_kind"
        if isinstance(t, A.VoidType):
            return "void"
        if isinstance(t, A.DontCareType):
            return "_"
        if isinstance(t, A.SpecializedType):
            return self.type(t.base) + "<" + ", ".join(self.type(x) for x in t.args) + ">"
        if isinstance(t, A.StackType):
            return f"{self.type(t.element)}[{self.expr(t.size)}]"
        if isinstance(t, A.TupleType):
            return "tuple<" + ", ".join(self.type(x) for x in t.args) + ">"
        if isinstance(t, A.ListType):
            return f"list<{self.type(t.element)}>"
        if isinstance(t, A.Declaration):    # typedef of an inline derived type
            saved, self.lines = self.lines, []
            saved_level, self.level = self.level, 0
            self.declaration(t)
            text = " ".join(x.strip() for x in self.lines)
            self.lines, self.level = saved, saved_level
            return text
        raise TypeError(f"cannot print type {type(t).__name__}")

    def width(self, w: A.Expression) -> str:
        if isinstance(w, A.IntLiteral):
            return self.int_literal(w)
        return f"({self.expr(w)})"

    # -------------------------------------------------------- expressions
    @staticmethod
    def int_literal(e: A.IntLiteral) -> str:
        if e.text:
            return e.text
        prefix = f"{e.width}{'s' if e.signed else 'w'}" if e.width is not None else ""
        if e.base == 16:
            return f"{prefix}0x{e.value:x}"
        if e.base == 2:
            return f"{prefix}0b{e.value:b}"
        if e.base == 8:
            return f"{prefix}0o{e.value:o}"
        return f"{prefix}{e.value}"

    def sub(self, e: A.Expression, min_prec: int) -> str:
        s = self.expr(e)
        return f"({s})" if _prec(e) < min_prec else s

    def args(self, args: list[A.Argument]) -> str:
        out = []
        for a in args:
            s = self.expr(a.expr)
            out.append(f"{a.name} = {s}" if a.name is not None else s)
        return ", ".join(out)

    def named(self, n: A.NamedExpression) -> str:
        if isinstance(n.expr, A.Dots) and n.name == "...":
            return "..."
        return f"{n.name} = {self.expr(n.expr)}"

    def expr(self, e) -> str:
        if isinstance(e, A.IntLiteral):
            return self.int_literal(e)
        if isinstance(e, A.BoolLiteral):
            return "true" if e.value else "false"
        if isinstance(e, A.StringLiteral):
            return f'"{e.value}"'
        if isinstance(e, A.PathExpression):
            return ("." if e.path.absolute else "") + e.path.name
        if isinstance(e, A.TypeNameExpression):
            return self.type(e.type)
        if isinstance(e, A.Member):
            return f"{self.sub(e.expr, _PREC_POSTFIX)}.{e.member}"
        if isinstance(e, A.ArrayIndex):
            return f"{self.sub(e.expr, _PREC_POSTFIX)}[{self.expr(e.index)}]"
        if isinstance(e, A.Slice):
            return f"{self.sub(e.expr, _PREC_POSTFIX)}[{self.expr(e.hi)}:{self.expr(e.lo)}]"
        if isinstance(e, A.PlusSlice):
            return f"{self.sub(e.expr, _PREC_POSTFIX)}[{self.expr(e.lo)} +: {self.expr(e.width)}]"
        if isinstance(e, A.UnaryOp):
            inner = self.expr(e.expr)
            if _prec(e.expr) < _PREC_PREFIX or isinstance(e.expr, A.UnaryOp) or inner.startswith(("-", "+")):
                inner = f"({inner})"
            return f"{e.op}{inner}"
        if isinstance(e, A.Cast):
            return f"({self.type(e.type)}){self.sub(e.expr, _PREC_PREFIX)}"
        if isinstance(e, A.BinaryOp):
            p = BINARY_PREC[e.op]
            return f"{self.sub(e.left, p)} {e.op} {self.sub(e.right, p + 1)}"
        if isinstance(e, A.Mux):
            return f"{self.sub(e.cond, 1)} ? {self.expr(e.then)} : {self.sub(e.other, 1)}"
        if isinstance(e, A.MethodCallExpression):
            targs = "<" + ", ".join(self.type(t) for t in e.type_args) + ">" if e.type_args else ""
            return f"{self.sub(e.method, _PREC_POSTFIX)}{targs}({self.args(e.args)})"
        if isinstance(e, A.ConstructorCallExpression):
            return f"{self.type(e.type)}({self.args(e.args)})"
        if isinstance(e, A.ListExpression):
            return "{" + ", ".join(self.expr(x) for x in e.items) + "}"
        if isinstance(e, A.StructExpression):
            return "{" + ", ".join(self.named(n) for n in e.fields) + "}"
        if isinstance(e, A.InvalidExpression):
            return "{#}"
        if isinstance(e, A.DefaultExpression):
            return "_" if e.dontcare else "default"
        if isinstance(e, A.Dots):
            return "..."
        if isinstance(e, A.This):
            return "this"
        if isinstance(e, A.Mask):
            return f"{self.expr(e.value)} &&& {self.expr(e.mask)}"
        if isinstance(e, A.Range):
            return f"{self.expr(e.lo)} .. {self.expr(e.hi)}"
        if isinstance(e, A.SelectExpression):
            raise TypeError("select expressions are printed by the state printer")
        raise TypeError(f"cannot print expression {type(e).__name__}")

    def keyset(self, e: A.Expression) -> str:
        if isinstance(e, A.ListExpression):
            if len(e.items) == 1 and not isinstance(e.items[0], (A.Mask, A.Range, A.DefaultExpression)):
                return self.expr(e)           # a braced list written as a single keyset
            return "(" + ", ".join(self.expr(x) for x in e.items) + ")"
        return self.expr(e)

    # ----------------------------------------------------------- params
    def param(self, p: A.Parameter) -> str:
        s = self.annotations_inline(p.annotations)
        if p.direction:
            s += p.direction + " "
        s += f"{self.type(p.type)} {p.name}"
        if p.default is not None:
            s += f" = {self.expr(p.default)}"
        return s

    def params(self, ps: list[A.Parameter]) -> str:
        return "(" + ", ".join(self.param(p) for p in ps) + ")"

    @staticmethod
    def tparams(tps: list[A.TypeParameter]) -> str:
        return "<" + ", ".join(t.name for t in tps) + ">" if tps else ""

    # ------------------------------------------------------- statements
    def simple_statement(self, s) -> str:
        """Statements that fit on one line, without the final semicolon."""
        if isinstance(s, A.AssignmentStatement):
            return f"{self.expr(s.left)} {s.op} {self.expr(s.right)}"
        if isinstance(s, A.MethodCallStatement):
            return self.expr(s.call)
        if isinstance(s, A.VariableDeclaration):
            init = f" = {self.expr(s.init)}" if s.init is not None else ""
            return f"{self.annotations_inline(s.annotations)}{self.type(s.type)} {s.name}{init}"
        raise TypeError(f"not a simple statement: {type(s).__name__}")

    def block(self, b: A.BlockStatement, prefix: str = "") -> None:
        self.emit(prefix + self.annotations_inline(b.annotations) + "{")
        self.level += 1
        for c in b.components:
            self.statement(c)
        self.level -= 1
        self.emit("}")

    def statement(self, s) -> None:
        if isinstance(s, A.Declaration):
            self.declaration(s)
        elif isinstance(s, (A.AssignmentStatement, A.MethodCallStatement)):
            self.emit(self.simple_statement(s) + ";")
        elif isinstance(s, A.BlockStatement):
            self.block(s)
        elif isinstance(s, A.EmptyStatement):
            self.emit(";")
        elif isinstance(s, A.ExitStatement):
            self.emit("exit;")
        elif isinstance(s, A.BreakStatement):
            self.emit("break;")
        elif isinstance(s, A.ContinueStatement):
            self.emit("continue;")
        elif isinstance(s, A.ReturnStatement):
            self.emit("return;" if s.expr is None else f"return {self.expr(s.expr)};")
        elif isinstance(s, A.IfStatement):
            self.nested(s.then, f"if ({self.expr(s.cond)})")
            if s.other is not None:
                self.nested(s.other, "else")
        elif isinstance(s, A.SwitchStatement):
            self.emit(f"switch ({self.expr(s.expr)}) {{")
            self.level += 1
            for c in s.cases:
                label = self.expr(c.label)
                if c.body is None:
                    self.emit(f"{label}:")
                else:
                    self.block(c.body, f"{label}: ")
            self.level -= 1
            self.emit("}")
        elif isinstance(s, A.ForStatement):
            init = ", ".join(self.simple_statement(x) for x in s.init)
            cond = self.expr(s.cond) if s.cond is not None else ""
            upd = ", ".join(self.simple_statement(x) for x in s.update)
            self.nested(s.body, f"{self.annotations_inline(s.annotations)}for ({init}; {cond}; {upd})")
        elif isinstance(s, A.ForInStatement):
            d = s.decl
            coll = self.expr(s.collection)
            self.nested(s.body, f"{self.annotations_inline(s.annotations)}for ("
                                f"{self.annotations_inline(d.annotations)}{self.type(d.type)} {d.name} in {coll})")
        else:
            raise TypeError(f"cannot print statement {type(s).__name__}")

    def nested(self, s, header: str) -> None:
        """`header` (if (...), else, for (...)) followed by a statement."""
        if isinstance(s, A.BlockStatement) and not any(a.pragma for a in s.annotations):
            self.block(s, header + " ")
        else:
            self.emit(header)
            self.level += 1
            self.statement(s)
            self.level -= 1

    # ----------------------------------------------------- declarations
    def declaration(self, d) -> None:
        m = getattr(self, "decl_" + type(d).__name__, None)
        if m is None:
            raise TypeError(f"cannot print declaration {type(d).__name__}")
        m(d)

    def decl_ConstantDeclaration(self, d: A.ConstantDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"const {self.type(d.type)} {d.name} = {self.expr(d.init)};")

    def decl_VariableDeclaration(self, d: A.VariableDeclaration) -> None:
        self.annotations_block(d.annotations)
        d2 = A.VariableDeclaration([], d.type, d.name, d.init)
        self.emit(self.simple_statement(d2) + ";")

    def _struct_like(self, kw: str, d: A.StructLikeDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"{kw} {d.name}{self.tparams(d.type_params)} {{")
        self.level += 1
        for f in d.fields:
            self.emit(f"{self.annotations_inline(f.annotations)}{self.type(f.type)} {f.name};")
        self.level -= 1
        self.emit("}")

    def decl_HeaderDeclaration(self, d) -> None:
        self._struct_like("header", d)

    def decl_HeaderUnionDeclaration(self, d) -> None:
        self._struct_like("header_union", d)

    def decl_StructDeclaration(self, d) -> None:
        self._struct_like("struct", d)

    def decl_EnumDeclaration(self, d: A.EnumDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"enum {d.name} {{ " + ", ".join(m.name for m in d.members) + " }")

    def decl_SerEnumDeclaration(self, d: A.SerEnumDeclaration) -> None:
        self.annotations_block(d.annotations)
        members = ", ".join(f"{m.name} = {self.expr(m.value)}" for m in d.members)
        self.emit(f"enum {self.type(d.type)} {d.name} {{ {members} }}")

    def decl_ErrorDeclaration(self, d: A.ErrorDeclaration) -> None:
        self.emit("error { " + ", ".join(m.name for m in d.members) + " }")

    def decl_MatchKindDeclaration(self, d: A.MatchKindDeclaration) -> None:
        self.emit("match_kind { " + ", ".join(m.name for m in d.members) + " }")

    def decl_TypedefDeclaration(self, d: A.TypedefDeclaration) -> None:
        self.annotations_block(d.annotations)
        kw = "type" if d.newtype else "typedef"
        self.emit(f"{kw} {self.type(d.type)} {d.name};")

    def method(self, m: A.MethodDeclaration) -> str:
        if m.return_type is None:
            return f"{self.annotations_inline(m.annotations)}{m.name}{self.params(m.params)};"
        ab = "abstract " if m.abstract else ""
        return (f"{self.annotations_inline(m.annotations)}{ab}{self.type(m.return_type)} "
                f"{m.name}{self.tparams(m.type_params)}{self.params(m.params)};")

    def decl_ExternDeclaration(self, d: A.ExternDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"extern {d.name}{self.tparams(d.type_params)} {{")
        self.level += 1
        for m in d.methods:
            self.emit(self.method(m))
        self.level -= 1
        self.emit("}")

    def decl_ExternFunctionDeclaration(self, d: A.ExternFunctionDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit("extern " + self.method(d.prototype))

    def decl_ExternForwardDeclaration(self, d: A.ExternForwardDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"extern {d.name};")

    def decl_FunctionDeclaration(self, d: A.FunctionDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.block(d.body, f"{self.type(d.return_type)} {d.name}{self.tparams(d.type_params)}"
                           f"{self.params(d.params)} ")

    def decl_ActionDeclaration(self, d: A.ActionDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.block(d.body, f"action {d.name}{self.params(d.params)} ")

    def _type_decl(self, kw: str, d) -> str:
        return f"{kw} {d.name}{self.tparams(d.type_params)}{self.params(d.params)}"

    def decl_ParserTypeDeclaration(self, d) -> None:
        self.annotations_block(d.annotations)
        self.emit(self._type_decl("parser", d) + ";")

    def decl_ControlTypeDeclaration(self, d) -> None:
        self.annotations_block(d.annotations)
        self.emit(self._type_decl("control", d) + ";")

    def decl_PackageTypeDeclaration(self, d) -> None:
        self.annotations_block(d.annotations)
        self.emit(self._type_decl("package", d) + ";")

    def decl_ValueSetDeclaration(self, d: A.ValueSetDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"value_set<{self.type(d.type)}>({self.expr(d.size)}) {d.name};")

    def decl_Instantiation(self, d: A.Instantiation) -> None:
        self.annotations_block(d.annotations)
        head = f"{self.type(d.type)}({self.args(d.args)}) {d.name}"
        if d.initializer is None:
            self.emit(head + ";")
            return
        self.emit(head + " = {")
        self.level += 1
        for x in d.initializer:
            self.declaration(x)
        self.level -= 1
        self.emit("};")

    def decl_ParserDeclaration(self, d: A.ParserDeclaration) -> None:
        self.annotations_block(d.type.annotations)
        ctor = self.params(d.ctor_params) if d.ctor_params else ""
        self.emit(self._type_decl("parser", d.type) + ctor + " {")
        self.level += 1
        for x in d.locals:
            self.declaration(x)
        for st in d.states:
            self.state(st)
        self.level -= 1
        self.emit("}")

    def state(self, st: A.ParserState) -> None:
        self.annotations_block(st.annotations)
        self.emit(f"state {st.name} {{")
        self.level += 1
        for c in st.components:
            self.statement(c)
        t = st.transition
        if isinstance(t, A.SelectExpression):
            self.emit("transition select(" + ", ".join(self.expr(e) for e in t.select) + ") {")
            self.level += 1
            for c in t.cases:
                self.emit(f"{self.keyset(c.keyset)}: {c.state.name};")
            self.level -= 1
            self.emit("}")
        elif t is not None:
            self.emit(f"transition {self.expr(t)};")
        self.level -= 1
        self.emit("}")

    def decl_ControlDeclaration(self, d: A.ControlDeclaration) -> None:
        self.annotations_block(d.type.annotations)
        ctor = self.params(d.ctor_params) if d.ctor_params else ""
        self.emit(self._type_decl("control", d.type) + ctor + " {")
        self.level += 1
        for x in d.locals:
            self.declaration(x)
        self.block(d.body, "apply ")
        self.level -= 1
        self.emit("}")

    def decl_TableDeclaration(self, d: A.TableDeclaration) -> None:
        self.annotations_block(d.annotations)
        self.emit(f"table {d.name} {{")
        self.level += 1
        for p in d.properties:
            self.table_property(p)
        self.level -= 1
        self.emit("}")

    def table_property(self, p: A.TableProperty) -> None:
        head = self.annotations_inline(p.annotations) + ("const " if p.const else "") + p.name + " = "
        if isinstance(p, A.KeyProperty):
            self.emit(head + "{")
            self.level += 1
            for k in p.elements:
                anns = (" " + self.annotations_inline(k.annotations).rstrip(" ")) if k.annotations else ""
                self.emit(f"{self.expr(k.expr)} : {k.match_kind.name}{anns};")
            self.level -= 1
            self.emit("}")
        elif isinstance(p, A.ActionsProperty):
            self.emit(head + "{")
            self.level += 1
            for a in p.actions:
                self.emit(f"{self.annotations_inline(a.annotations)}{self.expr(a.expr)};")
            self.level -= 1
            self.emit("}")
        elif isinstance(p, A.EntriesProperty):
            self.emit(head + "{")
            self.level += 1
            for e in p.entries:
                self.emit(self.entry(e))
            self.level -= 1
            self.emit("}")
        elif isinstance(p, A.ValueProperty):
            self.emit(head + self.expr(p.value) + ";")
        else:
            raise TypeError(f"cannot print table property {type(p).__name__}")

    def entry(self, e: A.Entry) -> str:
        s = "const " if e.const else ""
        if e.priority is not None:
            pr = self.expr(e.priority)
            s += f"priority = {pr if isinstance(e.priority, A.IntLiteral) else '(' + pr + ')'}: "
        items = e.keys.items
        if len(items) == 1:
            s += self.expr(items[0])
        else:
            s += "(" + ", ".join(self.expr(x) for x in items) + ")"
        anns = (" " + self.annotations_inline(e.annotations).rstrip(" ")) if e.annotations else ""
        return f"{s} : {self.expr(e.action)}{anns};"


def to_source(node) -> str:
    """P4 source for a Program (or any declaration/statement/expression/type)."""
    p = Printer()
    if isinstance(node, A.Program):
        return p.program(node)
    if isinstance(node, A.Expression):
        return p.expr(node)
    if isinstance(node, A.Type):
        return p.type(node)
    p.statement(node)
    return "\n".join(p.lines) + "\n"
