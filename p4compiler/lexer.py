"""Hand-written lexer for P4_16 (spec 1.2.x plus the p4c extensions the corpus uses).

Input is preprocessor output with cpp line markers (`# 12 "file.p4" 2`); the
lexer follows them so each token's `SourceLocation` is in the original file.

Two deliberate choices, both p4c's:
* `>>` is never one token.  Each `>` is its own token; the parser treats two
  *adjacent* `>` as a shift, so `bit<8>>` closes two type argument lists and
  `a > > b` is a syntax error, exactly as in p4c.
* Identifiers are not split into IDENTIFIER / TYPE_IDENTIFIER here: that needs
  the parser's scope of declared type names, so the parser classifies them
  (`Parser.is_type_name`) when it looks at them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diagnostics import CompilerError, SourceLocation

KEYWORDS = frozenset("""
abstract action actions apply bool bit break const continue control default else
entries enum error exit extern false for header header_union if in inout int key
list match_kind out package parser priority return select state string struct
switch table this transition true tuple type typedef varbit value_set void
""".split())

# Longest first, so that e.g. "&&&" wins over "&&" and "&".
OPERATORS = [
    "{#}", "|+|=", "|-|=", "<<=",
    "&&&", "|+|", "|-|", "...", "+:",
    "..", "<<", "<=", ">=", "==", "!=", "&&", "||", "++",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "+", "-", "*", "/", "%", "|", "&", "^", "~", "[", "]", "{", "}", "<", ">",
    "(", ")", "!", ":", ",", "?", ".", "=", ";", "@",
]


@dataclass(frozen=True)
class IntValue:
    """An integer literal: `8w5` -> IntValue(5, 8, False, 10)."""

    value: int
    width: int | None = None
    signed: bool = False
    base: int = 10


@dataclass
class Token:
    """kind: "IDENTIFIER", "INTEGER", "STRING_LITERAL", "EOF", "UNEXPECTED_TOKEN",
    "PRAGMA", "_", a keyword in upper case ("ACTION"), or the operator text
    ("&&&").  `value`: IntValue for integers, the unquoted text for strings."""

    kind: str
    text: str
    value: object = None
    location: SourceLocation = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    @property
    def loc(self) -> SourceLocation:
        return self.location


_NUMBER = r"(?:[0-9]+[ws])?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[dD][0-9_]+|0[bB][01_]+|[0-9][0-9_]*)"
_TOKEN_RE = re.compile(
    r"(?P<ws>[ \t\r\f\v]+)"
    r"|(?P<nl>\n)"
    r"|(?P<lc>//[^\n]*)"
    r"|(?P<bc>/\*(?:[^*]|\*(?!/))*\*/)"
    r"|(?P<num>" + _NUMBER + r")(?![A-Za-z0-9_])"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>\"(?:\\.|[^\\\"\n])*\")"
    r"|(?P<op>" + "|".join(re.escape(o) for o in OPERATORS) + r")"
    r"|(?P<hash>\#)"
    r"|(?P<bad>.)", re.S)

_MARKER_RE = re.compile(r'[ \t]*#[ \t]*(?:line[ \t]+)?(\d+)(?:[ \t]+"((?:\\.|[^"\\])*)")?[^\n]*')
_DIRECTIVE_RE = re.compile(r"[ \t]*#[^\n]*")


def parse_int_literal(text: str) -> IntValue:
    """Value of a P4 integer literal (width/sign prefix, base prefix, underscores)."""
    width = None
    signed = False
    m = re.match(r"([0-9]+)([ws])", text)
    if m and len(text) > m.end():
        width = int(m.group(1))
        signed = m.group(2) == "s"
        text = text[m.end():]
    base = 10
    if len(text) > 1 and text[0] == "0" and text[1] in "xXoOdDbB":
        base = {"x": 16, "o": 8, "d": 10, "b": 2}[text[1].lower()]
        text = text[2:]
    digits = text.replace("_", "")
    value = int(digits, base) if digits else 0
    return IntValue(value, width, signed, base)


def unescape_string(raw: str) -> str:
    """The value of a string literal's body (escapes \\n \\t \\\\ \\" decoded)."""
    if "\\" not in raw:
        return raw
    out = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            n = raw[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Lexer:
    """Turns preprocessed text into a list of tokens (ending with EOF)."""

    def __init__(self, text: str, file: str):
        self.text = text
        self.file = file

    def tokenize(self) -> list[Token]:
        text = self.text
        file = self.file
        line = 1
        line_start = 0           # offset of the current line's first character
        at_line_start = True
        tokens: list[Token] = []
        append = tokens.append
        pos = 0
        n = len(text)
        match = _TOKEN_RE.match
        while pos < n:
            m = match(text, pos)
            kind = m.lastgroup
            s = m.group()
            if kind == "ws":
                pos = m.end()
                continue
            if kind == "nl":
                pos = m.end()
                line += 1
                line_start = pos
                at_line_start = True
                continue
            col = pos - line_start + 1
            if kind == "hash" and at_line_start:
                mm = _MARKER_RE.match(text, line_start)
                if mm and mm.end() >= pos:
                    line = int(mm.group(1)) - 1       # the marker names the *next* line
                    if mm.group(2) is not None:
                        file = mm.group(2).replace('\\"', '"').replace("\\\\", "\\")
                    pos = mm.end()
                    continue
                md = _DIRECTIVE_RE.match(text, line_start)
                # Any other directive surviving cpp (e.g. #pragma): ignored, as p4c does.
                pos = md.end() if md else pos + 1
                continue
            at_line_start = False
            loc = SourceLocation(file, line, col, len(s))
            if kind == "lc":
                pos = m.end()
                continue
            if kind == "bc":
                nls = s.count("\n")
                if nls:
                    line += nls
                    line_start = pos + s.rfind("\n") + 1
                pos = m.end()
                continue
            pos = m.end()
            if kind == "id":
                if s == "_":
                    append(Token("_", s, None, loc))
                elif s in KEYWORDS:
                    append(Token(s.upper(), s, None, loc))
                else:
                    append(Token("IDENTIFIER", s, s, loc))
            elif kind == "num":
                append(Token("INTEGER", s, parse_int_literal(s), loc))
            elif kind == "op":
                if s == "@" and text.startswith("pragma", pos) and (
                        pos + 6 >= n or not (text[pos + 6].isalnum() or text[pos + 6] == "_")):
                    pos += 6
                    append(Token("PRAGMA", "@pragma", None, loc.with_length(7)))
                else:
                    append(Token(s, s, None, loc))
            elif kind == "str":
                append(Token("STRING_LITERAL", s, s[1:-1], loc))
            else:  # stray characters, '#' inside a line
                if kind == "bad" and s == '"':
                    raise CompilerError(loc, "unterminated string literal", syntax=False)
                if kind == "bad" and text.startswith("/*", pos - 1):
                    raise CompilerError(loc, "unterminated comment")
                append(Token("UNEXPECTED_TOKEN", s, None, loc))
        eof_loc = SourceLocation(file, max(1, line - (1 if at_line_start and line > 1 else 0)), 1)
        if tokens:
            last = tokens[-1].location
            eof_loc = SourceLocation(last.file, last.line, last.column + last.length)
        append(Token("EOF", "", None, eof_loc))
        return tokens


def tokenize(text: str, file: str = "<input>") -> list[Token]:
    return Lexer(text, file).tokenize()
