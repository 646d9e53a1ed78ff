"""Recursive-descent parser for P4_16 -> `p4compiler.ast`.

Follows the grammar of the P4_16 spec (appendix "P4 grammar") as p4c's bison
grammar implements it, including p4c's leniencies and restrictions, so that a
program p4c rejects with a *syntax* error is rejected here at the same token.
Each method's `# BNF:` comment gives the rule it implements.

Context sensitivity (the type-name vs identifier ambiguity) is handled the way
p4c (and pycparser for C) does: a stack of scopes records which names are
types; `is_type_name` consults it when the parser looks at an identifier.
Scopes are pushed for containers (parser, control, extern, function, struct
type parameters) and blocks; a variable or parameter declared with a type's
name hides the type inside its scope.

Precedence (lowest first; all binary operators left-associative), as p4c:
  ?:   ||   &&   == !=   < > <= >=   |   ^   &   << >>   ++ + - |+| |-|   * / %
  then prefix ! ~ - + and casts, then postfix . [] () <type args>.
Note p4c's `?:` is *left*-associative: `a ? b : c ? d : e` is
`(a ? b : c) ? d : e`.

Like p4c's IndexedVector, lists of named things (fields, parameters, members,
states, local declarations, ...) report "Duplicates declaration" while being
parsed; these are non-fatal errors collected in `Diagnostics`.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

from . import ast as A
from .diagnostics import CompilerError, Diagnostic, Diagnostics, SourceLocation
from .lexer import Token, tokenize

# Keywords that are also usable as ordinary names (p4c's `nonTypeName`).
NON_TYPE_NAME_KEYWORDS = frozenset(["APPLY", "KEY", "ACTIONS", "STATE", "ENTRIES", "TYPE", "PRIORITY"])
# Names allowed for table properties (p4c's `nonTableKwName`), besides identifiers.
TABLE_PROP_KEYWORDS = frozenset(["APPLY", "STATE", "TYPE", "PRIORITY"])
BASE_TYPE_KEYWORDS = frozenset(["BOOL", "MATCH_KIND", "ERROR", "BIT", "STRING", "INT", "VARBIT"])
DIRECTIONS = {"IN": "in", "OUT": "out", "INOUT": "inout"}
COMPOUND_ASSIGN = frozenset(["+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", "|+|=", "|-|="])

# Binary operator precedence levels (higher binds tighter).
BINARY_PREC = {
    "||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4,
    "|": 5, "^": 6, "&": 7, "<<": 8, ">>": 8,
    "++": 9, "+": 9, "-": 9, "|+|": 9, "|-|": 9, "*": 10, "/": 10, "%": 10,
}


class ParseError(CompilerError):
    """A syntax error, printed in bison's shape (`file(line):syntax error, ...`)."""

    def __init__(self, location: SourceLocation | None, message: str):
        super().__init__(location, message, syntax=True)


class _Backtrack(Exception):
    """Internal: a speculative parse failed; the caller rewinds."""


class _Scope:
    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: dict[str, bool] = {}    # name -> is a type


class _Dups:
    """Reports duplicate names while a list is being built (p4c's IndexedVector)."""

    def __init__(self, diags: Diagnostics, parser: "Parser | None" = None):
        self.diags = diags
        self.parser = parser
        self.seen: dict[str, SourceLocation | None] = {}

    def add(self, name: str, loc: SourceLocation | None) -> None:
        if not name:
            return
        if name in self.seen:
            diag = Diagnostic("error", f"{name}: Duplicates declaration {name}", loc, "duplicate",
                              related=[self.seen[name]] if self.seen[name] else [])
            if self.parser is not None and self.parser.speculating:
                self.parser.pending.append(diag)    # kept only if the speculation succeeds
            else:
                self.diags.add(diag)
        else:
            self.seen[name] = loc


# Token names as bison prints them in p4c's messages, where ours differ.
_BISON_NAMES = {"EOF": "END", "VALUE_SET": "VALUESET"}


def _describe(tok: Token, is_type: bool) -> str:
    k = tok.kind
    if k == "IDENTIFIER":
        return "TYPE_IDENTIFIER" if is_type else "IDENTIFIER"
    return _BISON_NAMES.get(k, k)


class Parser:
    """Parses one token list.  Use `parse_program()`; see module docstring."""

    def __init__(self, tokens: list[Token], diags: Diagnostics | None = None):
        self.toks = tokens
        self.i = 0
        self.diags = diags or Diagnostics()
        self.scopes: list[_Scope] = [_Scope()]
        self.speculating = 0
        self.last_keyset_was_tuple = False
        self.error_members = _Dups(self.diags, self)
        self.pending: list[Diagnostic] = []    # errors found while speculating
        if tokens:
            self.diags.current = tokens[0].location

    # ------------------------------------------------------------ token helpers

    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else self.toks[-1]

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def at(self, *kinds: str) -> bool:
        return self.toks[self.i].kind in kinds

    def advance(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "EOF":
            self.i += 1
        # "the location being processed" for a compiler-bug report: the next token
        self.diags.current = self.toks[self.i].location
        return t

    def accept(self, kind: str) -> Optional[Token]:
        if self.toks[self.i].kind == kind:
            return self.advance()
        return None

    def expect(self, kind: str, expecting: str | None = None) -> Token:
        if self.toks[self.i].kind == kind:
            return self.advance()
        self.error(expecting or kind)

    def error(self, expecting: str | None = None, tok: Token | None = None):
        if self.speculating:
            raise _Backtrack()
        tok = tok or self.tok
        msg = f"syntax error, unexpected {_describe(tok, self.is_type_name(tok))}"
        if expecting:
            msg += f", expecting {expecting}"
        raise ParseError(tok.location, msg)

    def span(self, start: SourceLocation | None) -> SourceLocation | None:
        """Location from `start` to the end of the last consumed token (the
        caret underline of a diagnostic); a construct spanning several lines
        keeps its first token's length."""
        if start is None or self.i == 0:
            return start
        last = self.toks[self.i - 1].location
        if last.file == start.file and last.line == start.line and last.column >= start.column:
            return start.with_length(last.column + last.length - start.column)
        return start

    def speculate(self, fn: Callable[[], object]) -> object | None:
        """Run `fn`; on a syntax error rewind and return None."""
        save = self.i
        nscopes = len(self.scopes)
        npending = len(self.pending)
        self.speculating += 1
        try:
            result = fn()
        except _Backtrack:
            self.i = save
            del self.scopes[nscopes:]
            del self.pending[npending:]
            return None
        finally:
            self.speculating -= 1
        self._flush_pending()
        return result

    def _flush_pending(self) -> None:
        if not self.speculating and self.pending:
            for d in self.pending:
                self.diags.add(d)
            self.pending.clear()

    # ------------------------------------------------------------------ scopes

    def push_scope(self) -> None:
        self.scopes.append(_Scope())

    def pop_scope(self) -> None:
        if len(self.scopes) > 1:
            self.scopes.pop()

    def declare_type(self, name: str) -> None:
        self.scopes[-1].names[name] = True

    def declare_object(self, name: str) -> None:
        self.scopes[-1].names[name] = False

    def lookup_is_type(self, name: str, absolute: bool = False) -> bool:
        scopes = self.scopes[:1] if absolute else reversed(self.scopes)
        for s in scopes:
            v = s.names.get(name)
            if v is not None:
                return v
        return False

    def is_type_name(self, tok: Token) -> bool:
        return tok.kind == "IDENTIFIER" and self.lookup_is_type(tok.text)

    def _at_absolute_type(self) -> bool:
        return (self.at(".") and self.peek(1).kind == "IDENTIFIER"
                and self.lookup_is_type(self.peek(1).text, absolute=True))

    def at_type_start(self) -> bool:
        """Whether the current token begins a `typeRef`."""
        t = self.tok
        k = t.kind
        if k in BASE_TYPE_KEYWORDS or k == "TUPLE":
            return True
        if k == "LIST":
            return self.peek(1).kind == "<"
        if k == "IDENTIFIER":
            return self.lookup_is_type(t.text)
        if k == ".":
            return self._at_absolute_type()
        return False

    def at_non_type_name(self) -> bool:
        t = self.tok
        if t.kind == "IDENTIFIER":
            return not self.lookup_is_type(t.text)
        return t.kind in NON_TYPE_NAME_KEYWORDS

    def at_name(self) -> bool:
        return self.tok.kind == "IDENTIFIER" or self.tok.kind in NON_TYPE_NAME_KEYWORDS

    # ------------------------------------------------------------------- names

    def parse_name(self) -> tuple[str, SourceLocation]:
        # BNF: name : nonTypeName | TYPE_IDENTIFIER | LIST
        t = self.tok
        if t.kind == "IDENTIFIER" or t.kind in NON_TYPE_NAME_KEYWORDS or t.kind == "LIST":
            self.advance()
            return t.text, t.location
        self.error()

    def parse_non_type_name(self) -> tuple[str, SourceLocation]:
        # BNF: nonTypeName : IDENTIFIER | APPLY | KEY | ACTIONS | STATE | ENTRIES | TYPE | PRIORITY
        if self.at_non_type_name():
            t = self.advance()
            return t.text, t.location
        self.error()

    def parse_prefixed_non_type_name(self) -> A.Path:
        # BNF: prefixedNonTypeName : nonTypeName | "." nonTypeName
        if self.at("."):
            dot = self.advance()
            if self.tok.kind == "IDENTIFIER" or self.tok.kind in NON_TYPE_NAME_KEYWORDS:
                t = self.advance()
                return A.Path(t.text, True, loc=dot.location.with_length(len(t.text) + 1))
            self.error()
        name, loc = self.parse_non_type_name()
        return A.Path(name, False, loc=loc)

    # ------------------------------------------------------------- annotations

    def parse_opt_annotations(self) -> list[A.Annotation]:
        # BNF: optAnnotations : %empty | annotations ;  annotations : annotation+
        anns: list[A.Annotation] = []
        while self.at("@", "PRAGMA"):
            anns.append(self.parse_annotation())
        return anns

    def parse_annotation(self) -> A.Annotation:
        # BNF: annotation : "@" name | "@" name "(" annotationBody ")"
        # BNF:            | "@" name "[" expressionList "]" | "@" name "[" kvList "]"
        # BNF:            | PRAGMA name annotationBody END_PRAGMA
        if self.at("PRAGMA"):
            p = self.advance()
            name, loc = self.parse_name()
            body = []
            line = loc.line
            while not self.at("EOF") and self.tok.location.line == line and \
                    self.tok.location.file == loc.file:
                body.append(self.advance())
            return A.Annotation(name, body, pragma=True, loc=p.location)
        at = self.expect("@")
        t = self.tok
        if t.kind == "IDENTIFIER" or t.kind in NON_TYPE_NAME_KEYWORDS:
            self.advance()
        else:
            self.error()
        name = t.text
        loc = SourceLocation(at.location.file, at.location.line, at.location.column, len(name) + 1)
        if self.at("("):
            self.advance()
            body = self.parse_annotation_body()
            self.expect(")")
            return A.Annotation(name, body, has_parens=True, loc=loc)
        if self.at("["):
            self.advance()
            if self.at_name() and self.peek(1).kind == "=":
                kv = self.parse_kv_list("]")
                self.expect("]")
                return A.Annotation(name, structured=True, kv=kv, loc=loc)
            exprs = self.parse_expression_list("]", trailing_comma=True)
            self.expect("]")
            return A.Annotation(name, structured=True, exprs=exprs, loc=loc)
        return A.Annotation(name, loc=loc)

    def parse_annotation_body(self) -> list[Token]:
        # BNF: annotationBody : %empty | annotationBody "(" annotationBody ")" | annotationBody annotationToken
        body: list[Token] = []
        depth = 0
        while True:
            t = self.tok
            if t.kind == "EOF":
                self.error(")")
            if t.kind == ")":
                if depth == 0:
                    return body
                depth -= 1
            elif t.kind == "(":
                depth += 1
            elif t.kind == "PRAGMA":
                self.error()
            body.append(self.advance())

    # ------------------------------------------------------------------ program

    def parse_program(self) -> A.Program:
        # BNF: program : input END ;  input : %empty | input declaration | input ";"
        # Deeply nested expressions recurse deeply (Python frames are cheap in 3.11).
        if sys.getrecursionlimit() < 20000:
            sys.setrecursionlimit(20000)
        try:
            return self._parse_program()
        except RecursionError:
            raise CompilerError(self.tok.location, "program nested too deeply to compile",
                                kind="overlimit") from None

    def _parse_program(self) -> A.Program:
        # BNF: input : %empty | input declaration | input ";"
        decls: list[A.Declaration] = []
        start = self.tok.location
        while not self.at("EOF"):
            if self.accept(";"):
                continue
            d = self.parse_declaration()
            if d is not None:
                decls.append(d)
        return A.Program(decls, loc=start)

    def parse_declaration(self) -> A.Declaration:
        # BNF: declaration : constantDeclaration | externDeclaration | actionDeclaration
        # BNF:             | parserDeclaration | typeDeclaration | controlDeclaration
        # BNF:             | instantiation | errorDeclaration | matchKindDeclaration
        # BNF:             | functionDeclaration
        anns = self.parse_opt_annotations()
        k = self.tok.kind
        if k == "CONST":
            return self.parse_constant_declaration(anns)
        if k == "EXTERN":
            return self.parse_extern_declaration(anns)
        if k == "ACTION":
            return self.parse_action_declaration(anns)
        if k == "PARSER":
            return self.parse_parser(anns)
        if k == "CONTROL":
            return self.parse_control(anns)
        if k == "PACKAGE":
            d = self.parse_package_type_declaration(anns)
            self.expect(";")
            return d
        if k in ("HEADER", "HEADER_UNION", "STRUCT", "ENUM"):
            return self.parse_derived_type_declaration(anns)
        if k in ("TYPEDEF", "TYPE"):
            d = self.parse_typedef_declaration(anns)
            self.expect(";")
            return d
        if k == "ERROR" and self.peek(1).kind == "{" and not anns:
            return self.parse_error_declaration()
        if k == "MATCH_KIND" and self.peek(1).kind == "{" and not anns:
            return self.parse_match_kind_declaration()
        # instantiation or function declaration
        if self.at_type_start() or self.at("VOID") or self.at("IDENTIFIER"):
            bare = self.at("IDENTIFIER") and not self.is_type_name(self.tok)
            rtype = self.parse_type_or_void()
            if self.at("(") and not bare and not isinstance(rtype, A.VoidType):
                return self.parse_instantiation_rest(anns, rtype)
            return self.parse_function_declaration_rest(anns, rtype)
        self.error()

    # ------------------------------------------------------------------- types

    def parse_type_ref(self) -> A.Type:
        # BNF: typeRef : baseType | typeName | specializedType | headerStackType | tupleType | listType
        # BNF: headerStackType : typeRef "[" expression "]"   (p4c accepts arrays of any type)
        t = self._parse_type_ref_no_array()
        while self.at("["):
            self.advance()
            size = self.parse_expression()
            self.expect("]")
            t = A.StackType(t, size, loc=t.loc)
        return t

    def _parse_type_ref_no_array(self) -> A.Type:
        # BNF: typeRef (without the array suffix) : baseType | namedType | tupleType | listType
        # BNF: tupleType : TUPLE "<" typeArgumentList ">" ;  listType : LIST "<" typeArg ">"
        t = self.tok
        k = t.kind
        if k in BASE_TYPE_KEYWORDS:
            return self.parse_base_type()
        if k == "TUPLE":
            self.advance()
            self.expect("<")
            args = self.parse_type_argument_list()
            self.expect(">")
            return A.TupleType(args, loc=t.location)
        if k == "LIST" and self.peek(1).kind == "<":
            self.advance()
            self.expect("<")
            arg = self.parse_type_arg()
            self.expect(">")
            return A.ListType(arg, loc=t.location)
        if (k == "IDENTIFIER" and self.lookup_is_type(t.text)) or (k == "." and self._at_absolute_type()):
            return self.parse_named_type()
        self.error()

    def parse_named_type(self) -> A.Type:
        # BNF: namedType : typeName | specializedType
        # BNF: specializedType : typeName "<" typeArgumentList ">"
        tn = self.parse_type_name()
        if self.at("<"):
            self.advance()
            args = self.parse_type_argument_list()
            self.expect(">")
            return A.SpecializedType(tn, args, loc=tn.loc)
        return tn

    def parse_type_name(self) -> A.TypeName:
        # BNF: typeName : prefixedType ;  prefixedType : TYPE_IDENTIFIER | "." TYPE_IDENTIFIER
        if self.at("."):
            dot = self.advance()
            t = self.expect("IDENTIFIER")
            return A.TypeName(A.Path(t.text, True, loc=t.location), loc=dot.location)
        t = self.tok
        if t.kind == "IDENTIFIER" and self.lookup_is_type(t.text):
            self.advance()
            return A.TypeName(A.Path(t.text, False, loc=t.location), loc=t.location)
        self.error()

    def parse_base_type(self) -> A.Type:
        # BNF: baseType : BOOL | MATCH_KIND | ERROR | BIT | STRING | INT
        # BNF:          | BIT "<" INTEGER ">" | INT "<" INTEGER ">" | VARBIT "<" INTEGER ">"
        # BNF:          | BIT "<" "(" expression ")" ">" | INT "<" "(" expression ")" ">"
        # BNF:          | VARBIT "<" "(" expression ")" ">"
        t = self.advance()
        k = t.kind
        loc = t.location
        if k == "BOOL":
            return A.BoolType(loc=loc)
        if k == "MATCH_KIND":
            return A.MatchKindType(loc=loc)
        if k == "ERROR":
            return A.ErrorType(loc=loc)
        if k == "STRING":
            return A.StringType(loc=loc)
        if k in ("BIT", "INT", "VARBIT"):
            if not self.at("<"):
                if k == "BIT":
                    return A.BitsType(None, False, loc=loc)
                if k == "INT":
                    return A.IntType(loc=loc)
                self.error("<")
            self.advance()
            if self.at("INTEGER"):
                width: A.Expression = self.parse_integer()
            elif self.at("("):
                self.advance()
                width = self.parse_expression()
                self.expect(")")
            else:
                self.error()
            self.expect(">", "> or R_ANGLE_SHIFT")
            if k == "VARBIT":
                return A.VarbitType(width, loc=loc)
            return A.BitsType(width, k == "INT", loc=loc)
        self.error()

    def parse_type_or_void(self) -> A.Type:
        # BNF: typeOrVoid : typeRef | VOID | IDENTIFIER
        t = self.tok
        if t.kind == "VOID":
            self.advance()
            return A.VoidType(loc=t.location)
        if t.kind == "IDENTIFIER" and not self.lookup_is_type(t.text):
            # a type variable introduced later by the function's own type parameters
            self.advance()
            return A.TypeName(A.Path(t.text, loc=t.location), loc=t.location)
        return self.parse_type_ref()

    def parse_type_arg(self) -> A.Type:
        # BNF: typeArg : typeRef | nonTypeName | VOID | "_"
        t = self.tok
        if t.kind == "VOID":
            self.advance()
            return A.VoidType(loc=t.location)
        if t.kind == "_":
            self.advance()
            return A.DontCareType(loc=t.location)
        if self.at_type_start():
            return self.parse_type_ref()
        if self.at_non_type_name():
            self.advance()
            return A.TypeName(A.Path(t.text, loc=t.location), loc=t.location)
        self.error()

    def parse_type_argument_list(self) -> list[A.Type]:
        # BNF: typeArgumentList : %empty | typeArg | typeArgumentList "," typeArg
        args: list[A.Type] = []
        if self.at(">"):
            return args
        args.append(self.parse_type_arg())
        while self.accept(","):
            args.append(self.parse_type_arg())
        return args

    def parse_opt_type_parameters(self) -> list[A.TypeParameter]:
        # BNF: optTypeParameters : %empty | "<" typeParameterList ">"
        # BNF: typeParameterList : name | typeParameterList "," name
        if not self.at("<"):
            return []
        self.advance()
        params: list[A.TypeParameter] = []
        dups = _Dups(self.diags, self)
        while True:
            name, loc = self.parse_name()
            dups.add(name, loc)
            params.append(A.TypeParameter(name, loc=loc))
            if not self.accept(","):
                break
        self.expect(">")
        for p in params:
            self.declare_type(p.name)
        return params

    # -------------------------------------------------------------- parameters

    def parse_parameter_list(self) -> list[A.Parameter]:
        # BNF: parameterList : %empty | nonEmptyParameterList
        # BNF: nonEmptyParameterList : parameter | nonEmptyParameterList "," parameter
        params: list[A.Parameter] = []
        if self.at(")"):
            return params
        dups = _Dups(self.diags, self)
        while True:
            p = self.parse_parameter()
            dups.add(p.name, p.loc)
            params.append(p)
            if not self.accept(","):
                break
        return params

    def parse_parameter(self) -> A.Parameter:
        # BNF: parameter : optAnnotations direction typeRef name
        # BNF:           | optAnnotations direction typeRef name "=" expression
        # BNF: direction : IN | OUT | INOUT | %empty
        anns = self.parse_opt_annotations()
        direction = ""
        if self.tok.kind in DIRECTIONS:
            direction = DIRECTIONS[self.advance().kind]
        typ = self.parse_type_ref()
        name, loc = self.parse_name()
        default = None
        if self.accept("="):
            default = self.parse_expression()
        return A.Parameter(anns, direction, typ, name, default, loc=loc)

    def declare_parameters(self, params: list[A.Parameter]) -> None:
        for p in params:
            self.declare_object(p.name)

    # ---------------------------------------------------- simple declarations

    def parse_constant_declaration(self, anns: list[A.Annotation]) -> A.ConstantDeclaration:
        # BNF: constantDeclaration : optAnnotations CONST typeRef name "=" initializer ";"
        self.expect("CONST")
        typ = self.parse_type_ref()
        name, loc = self.parse_name()
        self.expect("=")
        init = self.parse_expression()
        self.expect(";")
        self.declare_object(name)
        return A.ConstantDeclaration(anns, typ, name, init, loc=loc)

    def parse_variable_declaration_rest(self, anns: list[A.Annotation], typ: A.Type,
                                        semicolon: bool = True) -> A.VariableDeclaration:
        # BNF: variableDeclaration : annotations typeRef name optInitializer ";"
        # BNF:                     | typeRef name optInitializer ";"
        # BNF: optInitializer : %empty | "=" initializer
        name, loc = self.parse_name()
        init = None
        if self.accept("="):
            init = self.parse_expression()
        if semicolon:
            self.expect(";")
        self.declare_object(name)
        return A.VariableDeclaration(anns, typ, name, init, loc=loc)

    def parse_instantiation_rest(self, anns: list[A.Annotation], typ: A.Type) -> A.Instantiation:
        # BNF: instantiation : annotations typeRef "(" argumentList ")" name ";"
        # BNF:               | typeRef "(" argumentList ")" name ";"
        # BNF:               | annotations typeRef "(" argumentList ")" name "=" objInitializer ";"
        # BNF:               | typeRef "(" argumentList ")" name "=" objInitializer ";"
        self.expect("(")
        args = self.parse_argument_list()
        self.expect(")")
        name, loc = self.parse_name()
        init = None
        if self.accept("="):
            init = self.parse_obj_initializer()
        self.expect(";")
        self.declare_object(name)
        return A.Instantiation(anns, typ, args, name, init, loc=loc)

    def parse_obj_initializer(self) -> list[A.Declaration]:
        # BNF: objInitializer : "{" objDeclarations "}"
        # BNF: objDeclarations : %empty | objDeclarations objDeclaration
        # BNF: objDeclaration : functionDeclaration | instantiation
        self.expect("{")
        self.push_scope()
        decls: list[A.Declaration] = []
        dups = _Dups(self.diags, self)
        while not self.at("}"):
            anns = self.parse_opt_annotations()
            if not (self.at_type_start() or self.at("VOID") or self.at("IDENTIFIER")):
                self.error()
            typ = self.parse_type_or_void()
            if self.at("(") and not isinstance(typ, A.VoidType):
                d: A.Declaration = self.parse_instantiation_rest(anns, typ)
            else:
                d = self.parse_function_declaration_rest(anns, typ)
            dups.add(d.name, d.loc)
            decls.append(d)
        self.advance()
        self.pop_scope()
        return decls

    def parse_function_declaration_rest(self, anns: list[A.Annotation], rtype: A.Type) -> A.FunctionDeclaration:
        # BNF: functionDeclaration : annotations functionPrototype blockStatement
        # BNF:                     | functionPrototype blockStatement
        name, loc, tparams, params = self.parse_function_prototype_rest()
        body = self.parse_block_statement([])
        self.pop_scope()
        self.declare_object(name)
        return A.FunctionDeclaration(anns, rtype, name, tparams, params, body, loc=loc)

    def parse_function_prototype_rest(self):
        # BNF: functionPrototype : typeOrVoid name optTypeParameters "(" parameterList ")"
        # (the typeOrVoid has been parsed; leaves the function's scope pushed)
        name, loc = self.parse_name()
        self.push_scope()
        tparams = self.parse_opt_type_parameters()
        self.expect("(")
        params = self.parse_parameter_list()
        self.expect(")")
        self.declare_parameters(params)
        return name, loc, tparams, params

    # ----------------------------------------------------------- type decls

    def parse_derived_type_declaration(self, anns: list[A.Annotation]) -> A.Declaration:
        # BNF: derivedTypeDeclaration : headerTypeDeclaration | headerUnionDeclaration
        # BNF:                        | structTypeDeclaration | enumDeclaration
        k = self.tok.kind
        if k == "ENUM":
            return self.parse_enum_declaration(anns)
        if k in ("HEADER", "HEADER_UNION", "STRUCT"):
            return self.parse_struct_like(anns)
        self.error()

    def parse_struct_like(self, anns: list[A.Annotation]) -> A.StructLikeDeclaration:
        # BNF: headerTypeDeclaration : optAnnotations HEADER name optTypeParameters "{" structFieldList "}"
        # BNF: headerUnionDeclaration : optAnnotations HEADER_UNION name optTypeParameters "{" structFieldList "}"
        # BNF: structTypeDeclaration : optAnnotations STRUCT name optTypeParameters "{" structFieldList "}"
        kw = self.advance().kind
        name, loc = self.parse_name()
        self.declare_type(name)
        self.push_scope()
        tparams = self.parse_opt_type_parameters()
        self.expect("{")
        fields = self.parse_struct_field_list()
        self.expect("}")
        self.pop_scope()
        cls = {"HEADER": A.HeaderDeclaration, "HEADER_UNION": A.HeaderUnionDeclaration,
               "STRUCT": A.StructDeclaration}[kw]
        return cls(anns, name, tparams, fields, loc=loc)

    def parse_struct_field_list(self) -> list[A.StructField]:
        # BNF: structFieldList : %empty | structFieldList structField
        # BNF: structField : optAnnotations typeRef name ";"
        fields: list[A.StructField] = []
        dups = _Dups(self.diags, self)
        while not self.at("}"):
            anns = self.parse_opt_annotations()
            typ = self.parse_type_ref()
            name, loc = self.parse_name()
            self.expect(";")
            dups.add(name, loc)
            fields.append(A.StructField(anns, typ, name, loc=loc))
        return fields

    def parse_enum_declaration(self, anns: list[A.Annotation]) -> A.Declaration:
        # BNF: enumDeclaration : optAnnotations ENUM name "{" identifierList "}"
        # BNF:                 | optAnnotations ENUM typeRef name "{" specifiedIdentifierList "}"
        self.expect("ENUM")
        if self.at_name() and self.peek(1).kind == "{":
            name, loc = self.parse_name()
            self.declare_type(name)
            self.expect("{")
            members = self.parse_identifier_list(trailing_comma=True)
            self.expect("}")
            return A.EnumDeclaration(anns, name, members, loc=loc)
        typ = self.parse_type_ref()
        name, loc = self.parse_name()
        self.declare_type(name)
        self.expect("{")
        members: list[A.SerEnumMember] = []
        dups = _Dups(self.diags, self)
        while True:
            # BNF: specifiedIdentifier : name "=" initializer
            mname, mloc = self.parse_name()
            self.expect("=")
            value = self.parse_expression()
            dups.add(mname, mloc)
            members.append(A.SerEnumMember(mname, value, loc=mloc))
            if not self.accept(","):
                break
            if self.at("}"):      # BNF: optTrailingComma
                break
        self.expect("}")
        return A.SerEnumDeclaration(anns, typ, name, members, loc=loc)

    def parse_identifier_list(self, trailing_comma: bool = False,
                              dups: "_Dups | None" = None) -> list[A.DeclarationId]:
        # BNF: identifierList : name | identifierList "," name
        # (enum and match_kind lists take an optTrailingComma, error lists do not: p4c)
        out: list[A.DeclarationId] = []
        dups = dups if dups is not None else _Dups(self.diags, self)
        while True:
            name, loc = self.parse_name()
            dups.add(name, loc)
            out.append(A.DeclarationId(name, loc=loc))
            if not self.accept(","):
                return out
            if trailing_comma and self.at("}"):
                return out

    def parse_error_declaration(self) -> A.ErrorDeclaration:
        # BNF: errorDeclaration : ERROR "{" identifierList "}"
        # p4c merges all error declarations into one list while parsing, so a member
        # declared twice (even in two declarations) is a duplicate right here.
        t = self.expect("ERROR")
        self.expect("{")
        members = self.parse_identifier_list(dups=self.error_members)
        self.expect("}")
        return A.ErrorDeclaration(members, loc=t.location)

    def parse_match_kind_declaration(self) -> A.MatchKindDeclaration:
        # BNF: matchKindDeclaration : MATCH_KIND "{" identifierList "}"
        t = self.expect("MATCH_KIND")
        self.expect("{")
        members = self.parse_identifier_list(trailing_comma=True)
        self.expect("}")
        return A.MatchKindDeclaration(members, loc=t.location)

    def parse_typedef_declaration(self, anns: list[A.Annotation]) -> A.TypedefDeclaration:
        # BNF: typedefDeclaration : optAnnotations TYPEDEF typeRef name
        # BNF:                    | optAnnotations TYPEDEF derivedTypeDeclaration name
        # BNF:                    | optAnnotations TYPE typeRef name
        # (p4c's grammar has no `TYPE derivedTypeDeclaration name`: `type struct {...} T;`
        # is its "syntax error, unexpected STRUCT")
        newtype = self.advance().kind == "TYPE"
        if newtype and self.at("HEADER", "HEADER_UNION", "STRUCT", "ENUM"):
            self.error()
        if self.at("HEADER", "HEADER_UNION", "STRUCT", "ENUM", "@"):
            inner_anns = self.parse_opt_annotations()
            typ: A.Type | A.Declaration = self.parse_derived_type_declaration(inner_anns)
        else:
            typ = self.parse_type_ref()
        name, loc = self.parse_name()
        self.declare_type(name)
        return A.TypedefDeclaration(anns, typ, name, newtype, loc=loc)

    # ------------------------------------------------------------------ extern

    def parse_extern_declaration(self, anns: list[A.Annotation]) -> A.Declaration:
        # BNF: externDeclaration : optAnnotations EXTERN nonTypeName optTypeParameters "{" methodPrototypes "}"
        # BNF:                   | optAnnotations EXTERN functionPrototype ";"
        # BNF:                   | optAnnotations EXTERN name ";"
        self.expect("EXTERN")
        t = self.tok
        nxt = self.peek(1).kind
        if self.at_name() and nxt == ";":
            name, loc = self.parse_name()
            self.advance()
            self.declare_type(name)
            return A.ExternForwardDeclaration(anns, name, loc=loc)
        if self.at_name() and nxt in ("{", "<") and not self.is_type_name(t) or \
                self.at_name() and nxt == "{":
            name, loc = self.parse_name()
            self.declare_type(name)
            self.push_scope()
            tparams = self.parse_opt_type_parameters()
            self.expect("{")
            methods: list[A.MethodDeclaration] = []
            while not self.at("}"):
                methods.append(self.parse_method_prototype(name))
            self.advance()
            self.pop_scope()
            return A.ExternDeclaration(anns, name, tparams, methods, loc=loc)
        rtype = self.parse_type_or_void()
        name, loc, tparams, params = self.parse_function_prototype_rest()
        self.expect(";")
        self.pop_scope()
        self.declare_object(name)
        proto = A.MethodDeclaration([], rtype, name, tparams, params, loc=loc)
        return A.ExternFunctionDeclaration(anns, proto, loc=loc)

    def parse_method_prototype(self, extern_name: str) -> A.MethodDeclaration:
        # BNF: methodPrototype : optAnnotations functionPrototype ";"
        # BNF:                 | optAnnotations ABSTRACT functionPrototype ";"
        # BNF:                 | optAnnotations TYPE_IDENTIFIER "(" parameterList ")" ";"  // constructor
        anns = self.parse_opt_annotations()
        abstract = bool(self.accept("ABSTRACT"))
        t = self.tok
        if not abstract and t.kind == "IDENTIFIER" and self.is_type_name(t) and self.peek(1).kind == "(":
            self.advance()
            self.expect("(")
            self.push_scope()
            params = self.parse_parameter_list()
            self.pop_scope()
            self.expect(")")
            self.expect(";")
            return A.MethodDeclaration(anns, None, t.text, [], params, loc=t.location)
        rtype = self.parse_type_or_void()
        name, loc, tparams, params = self.parse_function_prototype_rest()
        self.expect(";")
        self.pop_scope()
        return A.MethodDeclaration(anns, rtype, name, tparams, params, abstract, loc=loc)

    # ----------------------------------------------------------------- action

    def parse_action_declaration(self, anns: list[A.Annotation]) -> A.ActionDeclaration:
        # BNF: actionDeclaration : optAnnotations ACTION name "(" parameterList ")" blockStatement
        self.expect("ACTION")
        name, loc = self.parse_name()
        self.expect("(")
        self.push_scope()
        params = self.parse_parameter_list()
        self.expect(")")
        self.declare_parameters(params)
        body = self.parse_block_statement([])
        self.pop_scope()
        return A.ActionDeclaration(anns, name, params, body, loc=loc)

    # ---------------------------------------------------------------- package

    def parse_type_head(self, keyword: str) -> tuple[str, SourceLocation, list, list]:
        """`keyword name optTypeParameters "(" parameterList ")"`, the head a
        package, parser and control type share; declares the type name and
        opens the scope of its type parameters, which the caller closes."""
        self.expect(keyword)
        name, loc = self.parse_name()
        self.declare_type(name)
        self.push_scope()
        tparams = self.parse_opt_type_parameters()
        self.expect("(")
        params = self.parse_parameter_list()
        self.expect(")")
        return name, loc, tparams, params

    def parse_package_type_declaration(self, anns: list[A.Annotation]) -> A.PackageTypeDeclaration:
        # BNF: packageTypeDeclaration : optAnnotations PACKAGE name optTypeParameters "(" parameterList ")"
        name, loc, tparams, params = self.parse_type_head("PACKAGE")
        self.pop_scope()
        return A.PackageTypeDeclaration(anns, name, tparams, params, loc=loc)

    # ----------------------------------------------------------------- parser

    def parse_parser(self, anns: list[A.Annotation]) -> A.Declaration:
        # BNF: parserTypeDeclaration : optAnnotations PARSER name optTypeParameters "(" parameterList ")"
        # BNF: typeDeclaration : ... | parserTypeDeclaration ";"
        # BNF: parserDeclaration : parserTypeDeclaration optConstructorParameters
        # BNF:                     "{" parserLocalElements parserStates "}"
        name, loc, tparams, params = self.parse_type_head("PARSER")
        self.declare_parameters(params)
        ptype = A.ParserTypeDeclaration(anns, name, tparams, params, loc=loc)
        if self.accept(";"):
            self.pop_scope()
            return ptype
        ctor = self.parse_opt_constructor_parameters()
        self.expect("{")
        locals_: list[A.Declaration] = []
        dups = _Dups(self.diags, self)            # locals and states are separate lists in p4c
        state_dups = _Dups(self.diags, self)
        states: list[A.ParserState] = []
        while True:
            # BNF: parserLocalElement : constantDeclaration | instantiation | variableDeclaration
            # BNF:                    | valueSetDeclaration
            if self.at("}") and states:
                break
            anns2 = self.parse_opt_annotations()
            if self.at("STATE"):
                st = self.parse_parser_state(anns2)
                state_dups.add(st.name, st.loc)
                states.append(st)
                continue
            if states:
                self.error()
            if self.at("CONST"):
                d: A.Declaration = self.parse_constant_declaration(anns2)
            elif self.at("VALUE_SET"):
                d = self.parse_value_set_declaration(anns2)
            elif self.at_type_start():
                d = self.parse_typed_local(anns2)
            else:
                self.error()
            dups.add(d.name, d.loc)
            locals_.append(d)
        self.expect("}")
        self.pop_scope()
        return A.ParserDeclaration(ptype, ctor, locals_, states, loc=loc)

    def parse_typed_local(self, anns: list[A.Annotation]) -> A.Declaration:
        """A parser or control local that starts with a type: an instantiation
        when "(" follows the type, else a variable declaration."""
        typ = self.parse_type_ref()
        if self.at("("):
            return self.parse_instantiation_rest(anns, typ)
        return self.parse_variable_declaration_rest(anns, typ)

    def parse_opt_constructor_parameters(self) -> list[A.Parameter]:
        # BNF: optConstructorParameters : %empty | "(" parameterList ")"
        if not self.accept("("):
            return []
        params = self.parse_parameter_list()
        self.expect(")")
        self.declare_parameters(params)
        return params

    def parse_value_set_declaration(self, anns: list[A.Annotation]) -> A.ValueSetDeclaration:
        # BNF: valueSetDeclaration : optAnnotations VALUESET "<" baseType ">" "(" expression ")" name ";"
        # BNF:   | optAnnotations VALUESET "<" tupleType ">" "(" expression ")" name ";"
        # BNF:   | optAnnotations VALUESET "<" typeName ">" "(" expression ")" name ";"
        self.expect("VALUE_SET")
        self.expect("<")
        if self.at(*BASE_TYPE_KEYWORDS) or self.at("TUPLE"):
            typ = self.parse_type_ref()
        else:
            typ = self.parse_type_name()
        self.expect(">")
        self.expect("(")
        size = self.parse_expression()
        self.expect(")")
        name, loc = self.parse_name()
        self.expect(";")
        self.declare_object(name)
        return A.ValueSetDeclaration(anns, typ, size, name, loc=loc)

    def parse_parser_state(self, anns: list[A.Annotation]) -> A.ParserState:
        # BNF: parserState : optAnnotations STATE name "{" parserStatements transitionStatement "}"
        # BNF: parserStatements : %empty | parserStatements parserStatement
        # BNF: transitionStatement : %empty | TRANSITION stateExpression
        self.expect("STATE")
        name, loc = self.parse_name()
        self.push_scope()
        self.expect("{")
        comps = self.parse_parser_statements()
        trans = None
        if self.accept("TRANSITION"):
            trans = self.parse_state_expression()
        self.expect("}")
        self.pop_scope()
        return A.ParserState(anns, name, comps, trans, loc=loc)

    def parse_parser_statements(self) -> list:
        # BNF: parserStatements : %empty | parserStatements parserStatement
        comps: list = []
        dups = _Dups(self.diags, self)
        while not self.at("}", "TRANSITION", "EOF"):
            s = self.parse_parser_statement()
            if isinstance(s, A.Declaration):
                dups.add(s.name, s.loc)
            comps.append(s)
        return comps

    def parse_parser_statement(self):
        # BNF: parserStatement : assignmentOrMethodCallStatement | directApplication
        # BNF:                 | emptyStatement | variableDeclaration | constantDeclaration
        # BNF:                 | parserBlockStatement | conditionalStatement
        # BNF: parserBlockStatement : optAnnotations "{" parserStatements "}"
        anns = self.parse_opt_annotations()
        if self.at("{"):
            t = self.advance()
            self.push_scope()
            comps = self.parse_parser_statements()
            self.expect("}")
            self.pop_scope()
            return A.BlockStatement(comps, anns, loc=t.location)
        if self.at("CONST"):
            return self.parse_constant_declaration(anns)
        if self.at_type_start():
            typ = self.parse_type_ref()
            if self.at(".") and not anns and isinstance(typ, (A.TypeName, A.SpecializedType)):
                return self.parse_direct_application_rest(typ)
            return self.parse_variable_declaration_rest(anns, typ)
        if anns:
            self.error()
        if self.at(";"):
            return A.EmptyStatement(loc=self.advance().location)
        if self.at("IF"):
            return self.parse_conditional_statement()
        if self.at("THIS") or self.at_non_type_name() or self.at("."):
            return self.parse_assignment_or_method_call()
        self.error()

    def parse_state_expression(self) -> A.Expression:
        # BNF: stateExpression : name ";" | selectExpression
        if self.at("SELECT"):
            return self.parse_select_expression()
        name, loc = self.parse_name()
        self.expect(";")
        return A.PathExpression(A.Path(name, loc=loc), loc=loc)

    def parse_select_expression(self) -> A.SelectExpression:
        # BNF: selectExpression : SELECT "(" expressionList ")" "{" selectCaseList "}"
        # BNF: selectCaseList : %empty | selectCaseList selectCase
        # BNF: selectCase : keysetExpression ":" name ";"
        t = self.expect("SELECT")
        self.expect("(")
        exprs = self.parse_expression_list(")")
        self.expect(")")
        self.expect("{")
        cases: list[A.SelectCase] = []
        while not self.at("}"):
            ks = self.parse_keyset_expression()
            self.expect(":")
            name, loc = self.parse_name()
            self.expect(";")
            cases.append(A.SelectCase(ks, A.Path(name, loc=loc), loc=ks.loc))
        self.advance()
        return A.SelectExpression(exprs, cases, loc=t.location)

    def parse_keyset_expression(self) -> A.Expression:
        # BNF: keysetExpression : tupleKeysetExpression | simpleKeysetExpression
        # BNF: tupleKeysetExpression : "(" simpleKeysetExpression "," simpleExpressionList ")"
        # BNF:                       | "(" reducedSimpleKeysetExpression ")"
        if self.at("("):
            lp = self.tok

            def tuple_keyset():
                self.advance()
                first = self.parse_simple_keyset_expression()
                if self.at(","):
                    items = [first]
                    while self.accept(","):
                        items.append(self.parse_simple_keyset_expression())
                    self.expect(")")
                    return A.ListExpression(items, loc=lp.location)
                if isinstance(first, (A.Mask, A.Range, A.DefaultExpression)) and self.at(")"):
                    self.advance()
                    return A.ListExpression([first], loc=lp.location)
                raise _Backtrack()

            self.speculating += 1
            save = self.i
            npending = len(self.pending)
            try:
                r = tuple_keyset()
            except _Backtrack:
                self.i = save
                del self.pending[npending:]
                r = None
            finally:
                self.speculating -= 1
            self._flush_pending()
            if r is not None:
                self.last_keyset_was_tuple = True
                return r
        self.last_keyset_was_tuple = False
        return self.parse_simple_keyset_expression()

    def parse_simple_keyset_expression(self) -> A.Expression:
        # BNF: simpleKeysetExpression : expression | expression "&&&" expression
        # BNF:                        | expression ".." expression | DEFAULT | "_"
        t = self.tok
        if t.kind == "DEFAULT":
            self.advance()
            return A.DefaultExpression(False, loc=t.location)
        if t.kind == "_":
            self.advance()
            return A.DefaultExpression(True, loc=t.location)
        e = self.parse_expression()
        if self.accept("&&&"):
            m = self.parse_expression()
            return A.Mask(e, m, loc=self.span(e.loc))
        if self.accept(".."):
            h = self.parse_expression()
            return A.Range(e, h, loc=self.span(e.loc))
        return e

    # ---------------------------------------------------------------- control

    def parse_control(self, anns: list[A.Annotation]) -> A.Declaration:
        # BNF: controlTypeDeclaration : optAnnotations CONTROL name optTypeParameters "(" parameterList ")"
        # BNF: controlDeclaration : controlTypeDeclaration optConstructorParameters
        # BNF:                      "{" controlLocalDeclarations APPLY controlBody "}"
        name, loc, tparams, params = self.parse_type_head("CONTROL")
        self.declare_parameters(params)
        ctype = A.ControlTypeDeclaration(anns, name, tparams, params, loc=loc)
        if self.accept(";"):
            self.pop_scope()
            return ctype
        ctor = self.parse_opt_constructor_parameters()
        self.expect("{")
        locals_: list[A.Declaration] = []
        dups = _Dups(self.diags, self)
        while True:
            # BNF: controlLocalDeclaration : constantDeclaration | actionDeclaration
            # BNF:                         | tableDeclaration | instantiation | variableDeclaration
            if self.at("APPLY") and self.peek(1).kind == "{":
                break
            anns2 = self.parse_opt_annotations()
            k = self.tok.kind
            if k == "CONST":
                d: A.Declaration = self.parse_constant_declaration(anns2)
            elif k == "ACTION":
                d = self.parse_action_declaration(anns2)
            elif k == "TABLE":
                d = self.parse_table_declaration(anns2)
            elif self.at_type_start():
                d = self.parse_typed_local(anns2)
            else:
                self.error()
            dups.add(d.name, d.loc)
            locals_.append(d)
        self.expect("APPLY")
        body = self.parse_block_statement([])
        self.expect("}")
        self.pop_scope()
        return A.ControlDeclaration(ctype, ctor, locals_, body, loc=loc)

    # ------------------------------------------------------------------ table

    def parse_table_declaration(self, anns: list[A.Annotation]) -> A.TableDeclaration:
        # BNF: tableDeclaration : optAnnotations TABLE name "{" tablePropertyList "}"
        # BNF: tablePropertyList : tableProperty | tablePropertyList tableProperty
        self.expect("TABLE")
        name, loc = self.parse_name()
        self.expect("{")
        props: list[A.TableProperty] = []
        dups = _Dups(self.diags, self)
        while True:
            p = self.parse_table_property()
            dups.add(p.name, p.loc)
            props.append(p)
            if self.at("}"):
                break
        self.advance()
        return A.TableDeclaration(anns, name, props, loc=loc)

    def parse_table_property(self) -> A.TableProperty:
        # BNF: tableProperty : KEY "=" "{" keyElementList "}"
        # BNF:               | ACTIONS "=" "{" actionList "}"
        # BNF:               | optAnnotations optCONST ENTRIES "=" "{" entriesList "}"
        # BNF:               | optAnnotations optCONST nonTableKwName "=" initializer ";"
        anns = self.parse_opt_annotations()
        const = bool(self.accept("CONST"))
        t = self.tok
        if t.kind in ("KEY", "ACTIONS") and (anns or const):
            self.error()     # p4c: key and actions take neither annotations nor const
        if t.kind == "KEY" and self.peek(1).kind == "=":
            self.advance()
            self.expect("=")
            self.expect("{")
            elems: list[A.KeyElement] = []
            while not self.at("}"):
                # BNF: keyElement : expression ":" name optAnnotations ";"
                e = self.parse_expression()
                self.expect(":")
                mk, mloc = self.parse_name()
                kanns = self.parse_opt_annotations()
                self.expect(";")
                elems.append(A.KeyElement(e, A.Path(mk, loc=mloc), kanns, loc=e.loc))
            self.advance()
            return A.KeyProperty("key", [], False, elems, loc=t.location)
        if t.kind == "ACTIONS" and self.peek(1).kind == "=":
            self.advance()
            self.expect("=")
            self.expect("{")
            acts: list[A.ActionRef] = []
            dups = _Dups(self.diags, self)
            while not self.at("}"):
                # BNF: actionList : %empty | actionList optAnnotations actionRef ";"
                aanns = self.parse_opt_annotations()
                ref = self.parse_action_ref()
                self.expect(";")
                ar = A.ActionRef(aanns, ref, loc=ref.loc)
                dups.add(ar.name, ar.loc)
                acts.append(ar)
            self.advance()
            return A.ActionsProperty("actions", [], False, acts, loc=t.location)
        if t.kind == "ENTRIES":
            self.advance()
            self.expect("=")
            self.expect("{")
            entries: list[A.Entry] = []
            while not self.at("}"):
                entries.append(self.parse_entry())
            self.advance()
            return A.EntriesProperty("entries", anns, const, entries, loc=t.location)
        if t.kind == "IDENTIFIER" or t.kind in TABLE_PROP_KEYWORDS:
            self.advance()
            self.expect("=")
            v = self.parse_expression()
            self.expect(";")
            return A.ValueProperty(t.text, anns, const, v, loc=t.location)
        self.error()

    def parse_action_ref(self) -> A.Expression:
        # BNF: actionRef : prefixedNonTypeName | prefixedNonTypeName "(" argumentList ")"
        path = self.parse_prefixed_non_type_name()
        pe = A.PathExpression(path, loc=path.loc)
        if self.accept("("):
            args = self.parse_argument_list()
            self.expect(")")
            return A.MethodCallExpression(pe, [], args, loc=path.loc)
        return pe

    def parse_entry(self) -> A.Entry:
        # BNF: entry : optCONST entryPriority keysetExpression ":" actionRef optAnnotations ";"
        # BNF:       | optCONST keysetExpression ":" actionRef optAnnotations ";"
        # BNF: entryPriority : PRIORITY "=" INTEGER ":" | PRIORITY "=" "(" expression ")" ":"
        const = bool(self.accept("CONST"))
        prio = None
        if self.at("PRIORITY") and self.peek(1).kind == "=":
            self.advance()
            self.advance()
            if self.at("INTEGER"):
                prio = self.parse_integer()
            elif self.accept("("):
                prio = self.parse_expression()
                self.expect(")")
            else:
                self.error()
            self.expect(":")
        ks = self.parse_keyset_expression()
        if not self.last_keyset_was_tuple:
            ks = A.ListExpression([ks], loc=ks.loc)
        self.expect(":")
        action = self.parse_action_ref()
        anns = self.parse_opt_annotations()
        self.expect(";")
        return A.Entry(ks, action, anns, const, prio, loc=ks.loc)

    # ------------------------------------------------------------- statements

    def parse_block_statement(self, anns: list[A.Annotation]) -> A.BlockStatement:
        # BNF: blockStatement : optAnnotations "{" statOrDeclList "}"
        # BNF: statOrDeclList : %empty | statOrDeclList statementOrDeclaration
        t = self.expect("{")
        self.push_scope()
        comps: list = []
        dups = _Dups(self.diags, self)
        while not self.at("}"):
            if self.at("EOF"):
                self.error()
            s = self.parse_statement_or_declaration()
            if isinstance(s, A.Declaration):
                dups.add(s.name, s.loc)
            comps.append(s)
        self.advance()
        self.pop_scope()
        return A.BlockStatement(comps, anns, loc=t.location)

    def parse_statement_or_declaration(self):
        # BNF: statementOrDeclaration : variableDeclaration | constantDeclaration
        # BNF:                        | statement | instantiation
        anns = self.parse_opt_annotations()
        if self.at("CONST"):
            return self.parse_constant_declaration(anns)
        if self.at_type_start():
            typ = self.parse_type_ref()
            if self.at(".") and not anns and isinstance(typ, (A.TypeName, A.SpecializedType)):
                return self.parse_direct_application_rest(typ)
            if self.at("("):
                return self.parse_instantiation_rest(anns, typ)
            return self.parse_variable_declaration_rest(anns, typ)
        return self.parse_statement(anns)

    def parse_statement(self, anns: list[A.Annotation] | None = None) -> A.Statement:
        # BNF: statement : assignmentOrMethodCallStatement | directApplication
        # BNF:           | conditionalStatement | emptyStatement | blockStatement
        # BNF:           | returnStatement | exitStatement | switchStatement
        # BNF:           | forStatement | breakStatement | continueStatement
        if anns is None:
            anns = self.parse_opt_annotations()
        t = self.tok
        k = t.kind
        if k == "{":
            return self.parse_block_statement(anns)
        if k == "FOR":
            return self.parse_for_statement(anns)
        if anns:
            self.error()
        if k == ";":
            self.advance()
            return A.EmptyStatement(loc=t.location)
        if k == "IF":
            return self.parse_conditional_statement()
        if k == "RETURN":
            # BNF: returnStatement : RETURN ";" | RETURN expression ";"
            self.advance()
            if self.accept(";"):
                return A.ReturnStatement(None, loc=t.location)
            e = self.parse_expression()
            self.expect(";")
            return A.ReturnStatement(e, loc=t.location)
        if k == "EXIT":
            # BNF: exitStatement : EXIT ";"
            self.advance()
            self.expect(";")
            return A.ExitStatement(loc=t.location)
        if k == "BREAK":
            # BNF: breakStatement : BREAK ";"
            self.advance()
            self.expect(";")
            return A.BreakStatement(loc=t.location)
        if k == "CONTINUE":
            # BNF: continueStatement : CONTINUE ";"
            self.advance()
            self.expect(";")
            return A.ContinueStatement(loc=t.location)
        if k == "SWITCH":
            return self.parse_switch_statement()
        if self.at_type_start():
            typ = self.parse_type_ref()
            if self.at(".") and isinstance(typ, (A.TypeName, A.SpecializedType)):
                return self.parse_direct_application_rest(typ)
            self.error()
        if k == "THIS" or self.at_non_type_name() or k == ".":
            return self.parse_assignment_or_method_call()
        self.error()

    def parse_direct_application_rest(self, typ: A.Type) -> A.MethodCallStatement:
        # BNF: directApplication : typeName "." APPLY "(" argumentList ")" ";"
        # BNF:                   | specializedType "." APPLY "(" argumentList ")" ";"
        self.expect(".")
        self.expect("APPLY")
        self.expect("(")
        args = self.parse_argument_list()
        self.expect(")")
        self.expect(";")
        member = A.Member(A.TypeNameExpression(typ, loc=typ.loc), "apply", loc=typ.loc)
        call = A.MethodCallExpression(member, [], args, loc=typ.loc)
        return A.MethodCallStatement(call, loc=typ.loc)

    def parse_lvalue(self) -> A.Expression:
        # BNF: lvalue : prefixedNonTypeName | THIS | lvalue "." name
        # BNF:        | lvalue "[" expression "]" | lvalue "[" expression ":" expression "]"
        # BNF:        | lvalue "[" expression "+:" expression "]"
        if self.at("THIS"):
            t = self.advance()
            e: A.Expression = A.This(loc=t.location)
        else:
            path = self.parse_prefixed_non_type_name()
            e = A.PathExpression(path, loc=path.loc)
        while True:
            if self.at("."):
                self.advance()
                name, nloc = self.parse_name()
                e = A.Member(e, name, loc=self.span(e.loc))
            elif self.at("["):
                self.advance()
                idx = self.parse_expression()
                if self.accept(":"):
                    lo = self.parse_expression()
                    self.expect("]")
                    e = A.Slice(e, idx, lo, loc=e.loc)
                elif self.accept("+:"):
                    width = self.parse_expression()
                    self.expect("]")
                    e = A.PlusSlice(e, idx, width, loc=e.loc)
                else:
                    self.expect("]")
                    e = A.ArrayIndex(e, idx, loc=e.loc)
            else:
                return e

    def _at_compound_assign(self) -> Optional[str]:
        k = self.tok.kind
        if k in COMPOUND_ASSIGN:
            return k
        if k == ">" and self._adjacent(self.i) and self.peek(1).kind == ">=":
            return ">>="
        return None

    def parse_assignment_or_method_call(self, semicolon: bool = True) -> A.Statement:
        # BNF: assignmentOrMethodCallStatement : lvalue "(" argumentList ")" ";"
        # BNF:     | lvalue "<" typeArgumentList ">" "(" argumentList ")" ";"
        # BNF:     | lvalue "=" expression ";" | lvalue compoundAssignOp expression ";"
        lv = self.parse_lvalue()
        if self.at("(") or self.at("<"):
            targs: list[A.Type] = []
            if self.accept("<"):
                targs = self.parse_type_argument_list()
                self.expect(">")
            self.expect("(")
            args = self.parse_argument_list()
            self.expect(")")
            if semicolon:
                self.expect(";")
            call = A.MethodCallExpression(lv, targs, args, loc=self.span(lv.loc))
            return A.MethodCallStatement(call, loc=call.loc)
        op = self._at_compound_assign()
        if op is not None:
            eq = self.advance()
            if op == ">>=":
                self.advance()
        else:
            eq = self.expect("=")
            op = "="
        rhs = self.parse_expression()
        if semicolon:
            self.expect(";")
        return A.AssignmentStatement(lv, rhs, op, loc=eq.location)

    def parse_conditional_statement(self) -> A.IfStatement:
        # BNF: conditionalStatement : IF "(" expression ")" statement
        # BNF:                      | IF "(" expression ")" statement ELSE statement
        t = self.expect("IF")
        self.expect("(")
        cond = self.parse_expression()
        self.expect(")")
        then = self.parse_statement()
        other = None
        if self.accept("ELSE"):
            other = self.parse_statement()
        return A.IfStatement(cond, then, other, loc=t.location)

    def parse_switch_statement(self) -> A.SwitchStatement:
        # BNF: switchStatement : SWITCH "(" expression ")" "{" switchCases "}"
        # BNF: switchCase : switchLabel ":" blockStatement | switchLabel ":"
        # BNF: switchLabel : DEFAULT | nonBraceExpression
        t = self.expect("SWITCH")
        self.expect("(")
        e = self.parse_expression()
        self.expect(")")
        self.expect("{")
        cases: list[A.SwitchCase] = []
        while not self.at("}"):
            lt = self.tok
            if lt.kind == "DEFAULT":
                self.advance()
                label: A.Expression = A.DefaultExpression(False, loc=lt.location)
            elif lt.kind == "{":
                self.error()
            else:
                label = self.parse_expression()
            self.expect(":")
            body = None
            if self.at("{") or self.at("@"):
                anns = self.parse_opt_annotations()
                body = self.parse_block_statement(anns)
            cases.append(A.SwitchCase(label, body, loc=lt.location))
        self.advance()
        return A.SwitchStatement(e, cases, loc=t.location)

    def parse_for_statement(self, anns: list[A.Annotation]) -> A.Statement:
        # BNF: forStatement : optAnnotations FOR "(" forInitStatements ";" expression ";"
        # BNF:                forUpdateStatements ")" statement
        # BNF:              | optAnnotations FOR "(" typeRef name IN forCollectionExpr ")" statement
        # BNF:              | optAnnotations FOR "(" annotations typeRef name IN forCollectionExpr ")" statement
        # BNF: forCollectionExpr : expression | expression ".." expression
        t = self.expect("FOR")
        self.expect("(")
        self.push_scope()
        # for-in?
        save = self.i
        if self.at("@") or self.at_type_start():
            vanns = self.parse_opt_annotations()
            if self.at_type_start():
                typ = self.parse_type_ref()
                if self.at_name() and self.peek(1).kind == "IN":
                    name, loc = self.parse_name()
                    self.advance()
                    self.declare_object(name)
                    coll = self.parse_expression()
                    if self.accept(".."):
                        hi = self.parse_expression()
                        coll = A.Range(coll, hi, loc=coll.loc)
                    self.expect(")")
                    body = self.parse_statement()
                    self.pop_scope()
                    decl = A.VariableDeclaration(vanns, typ, name, None, loc=loc)
                    return A.ForInStatement(decl, coll, body, anns, loc=t.location)
            self.i = save
        # BNF: forInitStatements : %empty | declOrAssignmentOrMethodCallStatement
        # BNF:                   | forInitStatements "," declOrAssignmentOrMethodCallStatement
        init: list = []
        if not self.at(";"):
            while True:
                vanns = self.parse_opt_annotations()
                if self.at_type_start():
                    typ = self.parse_type_ref()
                    init.append(self.parse_variable_declaration_rest(vanns, typ, semicolon=False))
                else:
                    if vanns:
                        self.error()
                    init.append(self.parse_assignment_or_method_call(semicolon=False))
                if not self.accept(","):
                    break
        self.expect(";")
        cond = self.parse_expression()      # the condition is not optional (spec, p4c)
        self.expect(";")
        # BNF: forUpdateStatements : %empty | assignmentOrMethodCallStatement
        # BNF:                     | forUpdateStatements "," assignmentOrMethodCallStatement
        update: list = []
        if not self.at(")"):
            while True:
                update.append(self.parse_assignment_or_method_call(semicolon=False))
                if not self.accept(","):
                    break
        self.expect(")")
        body = self.parse_statement()
        self.pop_scope()
        return A.ForStatement(init, cond, update, body, anns, loc=t.location)

    # ------------------------------------------------------------ expressions

    def parse_integer(self) -> A.IntLiteral:
        # BNF: expression : INTEGER
        t = self.expect("INTEGER")
        v = t.value
        return A.IntLiteral(v.value, v.width, v.signed, v.base, t.text, loc=t.location)

    def parse_expression_list(self, end: str, trailing_comma: bool = False) -> list[A.Expression]:
        # BNF: expressionList : %empty | expression | expressionList "," expression
        out: list[A.Expression] = []
        if self.at(end):
            return out
        out.append(self.parse_expression())
        while self.accept(","):
            if trailing_comma and self.at(end):
                break
            out.append(self.parse_expression())
        return out

    def parse_kv_list(self, end: str) -> list[A.NamedExpression]:
        # BNF: kvList : kvPair | kvList "," kvPair ;  kvPair : name "=" expression | "..."
        out: list[A.NamedExpression] = []
        dups = _Dups(self.diags, self)
        while True:
            if self.at("..."):
                t = self.advance()
                out.append(A.NamedExpression("...", A.Dots(loc=t.location), loc=t.location))
            else:
                name, loc = self.parse_name()
                self.expect("=")
                e = self.parse_expression()
                dups.add(name, loc)
                out.append(A.NamedExpression(name, e, loc=loc))
            if not self.accept(","):
                return out
            if self.at(end):      # BNF: optTrailingComma
                return out

    def parse_argument_list(self) -> list[A.Argument]:
        # BNF: argumentList : %empty | nonEmptyArgList
        # BNF: nonEmptyArgList : argument | nonEmptyArgList "," argument
        # BNF: argument : expression | name "=" expression | "_" | name "=" "_"
        args: list[A.Argument] = []
        if self.at(")"):
            return args
        while True:
            t = self.tok
            if (t.kind == "IDENTIFIER" or t.kind in NON_TYPE_NAME_KEYWORDS) and self.peek(1).kind == "=":
                self.advance()
                self.advance()
                if self.at("_"):
                    u = self.advance()
                    e: A.Expression = A.DefaultExpression(True, loc=u.location)
                else:
                    e = self.parse_expression()
                args.append(A.Argument(e, t.text, loc=t.location))
            elif t.kind == "_":
                self.advance()
                args.append(A.Argument(A.DefaultExpression(True, loc=t.location), loc=t.location))
            else:
                e = self.parse_expression()
                args.append(A.Argument(e, loc=e.loc))
            if not self.accept(","):
                return args

    def parse_expression(self) -> A.Expression:
        # BNF: expression : ... | expression "?" expression ":" expression
        e = self.parse_binary(1)
        while self.at("?"):
            self.advance()
            a = self.parse_expression()
            self.expect(":")
            b = self.parse_binary(1)
            e = A.Mux(e, a, b, loc=self.span(e.loc))
        return e

    def _adjacent(self, j: int) -> bool:
        """Token j is immediately followed (no space) by token j+1."""
        a = self.toks[j].location
        b = self.toks[j + 1].location if j + 1 < len(self.toks) else None
        return (b is not None and a.file == b.file and a.line == b.line
                and a.column + a.length == b.column)

    def _binary_op(self) -> Optional[str]:
        k = self.tok.kind
        if k == ">":
            if self.peek(1).kind == ">" and self._adjacent(self.i):
                return ">>"
            return ">"
        if k in BINARY_PREC:
            return k
        return None

    def parse_binary(self, min_prec: int) -> A.Expression:
        # BNF: expression : expression binop expression   (binop: see BINARY_PREC)
        # BNF:   | expression R_ANGLE_SHIFT ">" expression   (`>>`)
        left = self.parse_prefix()
        while True:
            op = self._binary_op()
            if op is None:
                return left
            prec = BINARY_PREC[op]
            if prec < min_prec:
                return left
            if op == ">>" and self.peek(2).kind in ("=", ">="):
                return left      # `>>=` compound assignment, not a shift
            self.advance()
            if op == ">>":
                self.advance()
            right = self.parse_binary(prec + 1)
            left = A.BinaryOp(op, left, right, loc=self.span(left.loc))

    def parse_prefix(self) -> A.Expression:
        # BNF: expression : "!" expression | "~" expression | "-" expression | "+" expression
        # BNF:            | "(" typeRef ")" expression
        t = self.tok
        k = t.kind
        if k in ("!", "~", "-", "+"):
            self.advance()
            e = self.parse_prefix()
            return A.UnaryOp(k, e, loc=self.span(t.location))
        if k == "(":
            nxt = self.peek(1)
            if nxt.kind in BASE_TYPE_KEYWORDS or nxt.kind in ("TUPLE", "LIST") or \
                    (nxt.kind == "IDENTIFIER" and self.lookup_is_type(nxt.text)) or nxt.kind == ".":
                def cast_type():
                    self.advance()
                    typ = self.parse_type_ref()
                    self.expect(")")
                    return typ
                typ = self.speculate(cast_type)
                if typ is not None:
                    e = self.parse_prefix()
                    return A.Cast(typ, e, loc=self.span(t.location))
        return self.parse_postfix(self.parse_primary())

    def parse_postfix(self, e: A.Expression) -> A.Expression:
        # BNF: expression : expression "[" expression "]" | expression "[" expression ":" expression "]"
        # BNF:            | expression "[" expression "+:" expression "]"
        # BNF:            | expression "." name | expression "(" argumentList ")"
        # BNF:            | expression "<" realTypeArgumentList ">" "(" argumentList ")"
        while True:
            k = self.tok.kind
            if k == ".":
                self.advance()
                name, nloc = self.parse_name()
                e = A.Member(e, name, loc=self.span(e.loc))
            elif k == "[":
                self.advance()
                idx = self.parse_expression()
                if self.accept(":"):
                    lo = self.parse_expression()
                    self.expect("]")
                    e = A.Slice(e, idx, lo, loc=self.span(e.loc))
                elif self.accept("+:"):
                    width = self.parse_expression()
                    self.expect("]")
                    e = A.PlusSlice(e, idx, width, loc=self.span(e.loc))
                else:
                    self.expect("]")
                    e = A.ArrayIndex(e, idx, loc=self.span(e.loc))
            elif k == "(":
                self.advance()
                args = self.parse_argument_list()
                self.expect(")")
                e = A.MethodCallExpression(e, [], args, loc=self.span(e.loc))
            elif k == "<" and self._starts_real_type_arg(self.peek(1)):
                def generic_call():
                    self.advance()
                    # BNF: realTypeArgumentList : realTypeArg | realTypeArgumentList "," typeArg
                    targs = self.parse_type_argument_list()
                    self.expect(">")
                    if not self.at("("):
                        raise _Backtrack()
                    return targs
                targs = self.speculate(generic_call)
                if targs is None:
                    return e
                self.expect("(")
                args = self.parse_argument_list()
                self.expect(")")
                e = A.MethodCallExpression(e, targs, args, loc=self.span(e.loc))
            else:
                return e

    def _starts_real_type_arg(self, t: Token) -> bool:
        # BNF: realTypeArg : typeRef | VOID | "_"
        k = t.kind
        return (k in BASE_TYPE_KEYWORDS or k in ("TUPLE", "VOID", "_", "LIST")
                or (k == "IDENTIFIER" and self.lookup_is_type(t.text)) or k == ".")

    def parse_primary(self) -> A.Expression:
        # BNF: expression : INTEGER | STRING_LITERAL | TRUE | FALSE | THIS | nonTypeName
        # BNF:   | "." nonTypeName | "{" expressionList "}" | "{" kvList "}" | "{#}"
        # BNF:   | "(" expression ")" | typeName "." name | ERROR "." name
        # BNF:   | namedType "(" argumentList ")" | "..."
        t = self.tok
        k = t.kind
        loc = t.location
        if k == "INTEGER":
            return self.parse_integer()
        if k == "STRING_LITERAL":
            self.advance()
            return A.StringLiteral(t.value, loc=loc)
        if k == "TRUE" or k == "FALSE":
            self.advance()
            return A.BoolLiteral(k == "TRUE", loc=loc)
        if k == "THIS":
            self.advance()
            return A.This(loc=loc)
        if k == "{#}":
            self.advance()
            return A.InvalidExpression(loc=loc)
        if k == "...":
            self.advance()
            return A.Dots(loc=loc)
        if k == "{":
            self.advance()
            if self.accept("}"):
                return A.ListExpression([], loc=self.span(loc))
            if (self.at_name() and self.peek(1).kind == "=") or \
                    (self.at("...") and self.peek(1).kind == "}" and False):
                kv = self.parse_kv_list("}")
                self.expect("}")
                return A.StructExpression(kv, loc=self.span(loc))
            items = self.parse_expression_list("}", trailing_comma=True)
            self.expect("}")
            return A.ListExpression(items, loc=self.span(loc))
        if k == "(":
            self.advance()
            e = self.parse_expression()
            self.expect(")")
            return e
        if k == "ERROR":
            self.advance()
            self.expect(".")
            name, nloc = self.parse_name()
            return A.Member(A.TypeNameExpression(A.ErrorType(loc=loc), loc=loc), name, loc=self.span(loc))
        if k == "IDENTIFIER" and self.lookup_is_type(t.text) or (k == "." and self._at_absolute_type()):
            typ = self.parse_named_type()
            if self.at("(") :
                self.advance()
                args = self.parse_argument_list()
                self.expect(")")
                return A.ConstructorCallExpression(typ, args, loc=self.span(loc))
            if isinstance(typ, A.TypeName) and self.at("."):
                self.advance()
                name, nloc = self.parse_name()
                return A.Member(A.TypeNameExpression(typ, loc=self.span(loc)), name, loc=self.span(loc))
            self.error("(")
        if k == "IDENTIFIER" or k in NON_TYPE_NAME_KEYWORDS:
            self.advance()
            return A.PathExpression(A.Path(t.text, loc=loc), loc=loc)
        if k == "." and (self.peek(1).kind == "IDENTIFIER" or self.peek(1).kind in NON_TYPE_NAME_KEYWORDS):
            path = self.parse_prefixed_non_type_name()
            return A.PathExpression(path, loc=path.loc)
        self.error()


# ---------------------------------------------------------------- front door

def parse_tokens(tokens: list[Token], diags: Diagnostics | None = None) -> A.Program:
    """Parse a token list; raises ParseError/CompilerError on the first fatal
    error.  Non-fatal errors (duplicates) are left in `diags`."""
    return Parser(tokens, diags).parse_program()


def parse_text(text: str, file: str = "<input>", diags: Diagnostics | None = None) -> A.Program:
    """Parse already-preprocessed text (line markers allowed)."""
    return parse_tokens(tokenize(text, file), diags)


def parse_annotation_expressions(ann: A.Annotation, type_names: set[str] | None = None) -> list[A.Expression]:
    """Parse an unparsed annotation body as a comma-separated expression list
    (what `@name("x")`, `@id(3)`, `@priority(1)` mean).  Raises ParseError."""
    toks = list(ann.body)
    end = Token("EOF", "", None, toks[-1].location if toks else ann.loc)
    p = Parser(toks + [end])
    for n in type_names or ():
        p.declare_type(n)
    out = p.parse_expression_list("EOF")
    if not p.at("EOF"):
        p.error()
    return out


# ------------------------------------------------------- known annotations
#
# p4c parses the bodies of the annotations it knows right after parsing (its
# ParseAnnotations pass, plus the P4Runtime and BMv2 back-end handlers); a
# malformed body is a syntax error there.  We do the same and keep the result
# in `Annotation.exprs` / `Annotation.kv` (the unparsed `body` stays, so the
# printer reproduces the source).

_ANN_EMPTY = frozenset("""atomic defaultonly hidden likely noSideEffects optional pure tableonly
unlikely persistent disable_optimization unroll nounroll metadata""".split())
_ANN_EXPRESSION = frozenset("name deprecated noWarn length match".split())
_ANN_EXPRESSION_LIST = frozenset("synchronous field_list p4runtime_translation_mappings".split())
_ANN_KV = frozenset("pkginfo platform_property".split())
_ANN_INTEGER = frozenset("id priority max_group_size max_member_weight".split())
_ANN_STRING = frozenset("controller_header brief description selector_size_semantics alias".split())
_ANN_STRING_LIST = frozenset(["command_line"])


class _AnnotationParser(Parser):
    def error(self, expecting: str | None = None, tok: Token | None = None):
        tok = tok or self.tok
        if tok.kind == "END_ANNOTATION":
            msg = "syntax error, unexpected END_ANNOTATION"
            if expecting:
                msg += f", expecting {expecting}"
            raise ParseError(tok.location, msg)
        super().error(expecting, tok)

    def end(self) -> None:
        if not self.at("END_ANNOTATION"):
            self.error()


def _annotation_parser(ann: A.Annotation, diags: Diagnostics, scope: _Scope) -> _AnnotationParser:
    end_loc = ann.loc or (ann.body[-1].location if ann.body else None)
    toks = list(ann.body) + [Token("END_ANNOTATION", "", None, end_loc)]
    p = _AnnotationParser(toks, Diagnostics(diags.sources))
    p.scopes = [scope]
    return p


def _parse_known_annotation(ann: A.Annotation, diags: Diagnostics, scope: _Scope) -> None:
    name = ann.name
    if name in _ANN_EMPTY:
        if ann.body:
            diags.error(ann.loc, f"@{name} should not have any arguments", kind="overlimit")
        return
    p = _annotation_parser(ann, diags, scope)
    if name in _ANN_EXPRESSION:
        ann.exprs = [p.parse_expression()]
    elif name in _ANN_EXPRESSION_LIST:
        ann.exprs = p.parse_expression_list("END_ANNOTATION")
    elif name in _ANN_KV:
        ann.kv = p.parse_kv_list("END_ANNOTATION")
    elif name in _ANN_INTEGER:
        ann.exprs = [p.parse_integer()]
    elif name in _ANN_STRING or name in _ANN_STRING_LIST:
        out = []
        while True:
            t = p.expect("STRING_LITERAL")
            out.append(A.StringLiteral(t.value, loc=t.location))
            if name in _ANN_STRING or not p.accept(","):
                break
        ann.exprs = out
    elif name == "p4runtime_translation":
        # BNF: STRING_LITERAL "," p4rtControllerType ;  p4rtControllerType : STRING | BIT "<" INTEGER ">" | INTEGER
        t = p.expect("STRING_LITERAL")
        first: A.Expression = A.StringLiteral(t.value, loc=t.location)
        p.expect(",")
        if p.at("STRING"):
            p.advance()
            second: A.Expression = A.StringLiteral("", loc=t.location)
        elif p.at("BIT"):
            p.advance()
            p.expect("<")
            second = p.parse_integer()
            p.expect(">", "> or R_ANGLE_SHIFT")
        elif p.at("INTEGER"):
            second = p.parse_integer()
        else:
            p.error("BIT or STRING or INTEGER")
        ann.exprs = [first, second]
    else:
        return
    p.end()


def parse_known_annotations(program: A.Program, diags: Diagnostics, parser: Parser | None = None) -> None:
    """Parse the bodies of p4c's known annotations everywhere in `program`;
    each malformed one is reported (p4c's syntax-error shape) and parsing
    continues with the next.  `parser` (the one that parsed the program)
    supplies the global type names."""
    scope = parser.scopes[0] if parser is not None else _Scope()
    for node in program.walk():
        if isinstance(node, A.Annotation) and not node.structured and not node.pragma:
            try:
                _parse_known_annotation(node, diags, scope)
            except CompilerError as exc:
                diags.record(exc)
