"""p4pc: a P4_16 compiler to BMv2 JSON + P4Info, faithful to p4c (p4c-bm2-ss).

Pipeline (each stage a pass over the typed AST of `p4compiler.ast`):

    preprocess (cpp, line markers kept)   -> text          preprocess.py
    lex                                    -> tokens        lexer.py
    parse (+ duplicate-name checks)        -> ast.Program   parser.py
    ---- front-end passes, added later: name resolution, type checking, ...
    ---- mid end, BMv2 back end, P4Info generation

`Compilation` carries everything one run needs (options, diagnostics, the
program); a pass is a callable `pass_(comp) -> None` that updates
`comp.program` and reports through `comp.diags`.  Problems in the user's
program are `CompilerError`s / `comp.diags.error(...)`; anything else that
escapes a pass is reported as a "Compiler Bug" at `comp.diags.current`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import ast
from .diagnostics import CompilerError, Diagnostic, Diagnostics, SourceCache, SourceLocation
from .lexer import Lexer, Token, tokenize
from .parser import ParseError, Parser, parse_known_annotations, parse_text, parse_tokens
from .preprocess import PreprocessOptions, preprocess_file, preprocess_text

__all__ = [
    "ast", "CompilerError", "Diagnostic", "Diagnostics", "SourceCache", "SourceLocation", "Token",
    "Lexer", "ParseError", "Parser", "CompileOptions", "Compilation", "parse_file", "parse_source",
    "parse_stage", "parse_text", "parse_tokens", "parse_known_annotations", "PreprocessOptions",
    "preprocess_file", "preprocess_text", "tokenize",
]


@dataclass
class CompileOptions:
    """What p4c-bm2-ss's command line selects (see `__main__`)."""

    source: str = ""
    include_dirs: list[str] = field(default_factory=list)
    defines: dict[str, str] = field(default_factory=dict)
    undefines: list[str] = field(default_factory=list)
    output_json: str | None = None
    p4runtime_files: list[str] = field(default_factory=list)
    parse_only: bool = False
    preprocess_only: bool = False
    pp_file: str | None = None          # --pp: print the parsed program as P4
    with_column: bool = False            # add ":column" to diagnostic headers
    use_project_p4include: bool = True

    def preprocess_options(self) -> PreprocessOptions:
        return PreprocessOptions(list(self.include_dirs), dict(self.defines), list(self.undefines),
                                 self.use_project_p4include)


@dataclass
class Compilation:
    options: CompileOptions
    diags: Diagnostics
    preprocessed: str | None = None
    program: ast.Program | None = None


Pass = Callable[[Compilation], None]


def parse_stage(comp: Compilation) -> None:
    """Preprocess + lex + parse `comp.options.source` into `comp.program`."""
    pp = preprocess_file(comp.options.source, comp.options.preprocess_options())
    comp.preprocessed = pp.text
    if comp.options.preprocess_only:
        return
    comp.program = _parse(pp.text, pp.main_file, comp.diags)


def _parse(text: str, name: str, diags: Diagnostics) -> ast.Program:
    parser = Parser(Lexer(text, name).tokenize(), diags)
    try:
        program = parser.parse_program()
    except CompilerError as exc:
        # non-fatal errors found before this one (duplicates) come first, as in p4c
        diags.record(exc)
        if diags.errors and diags.errors[0] is not exc.diagnostic:
            _raise_if_errors(diags)
        raise
    parse_known_annotations(program, diags, parser)
    return program


def parse_file(path: str, include_dirs: list[str] | tuple[str, ...] = (),
               defines: dict[str, str] | None = None,
               diags: Diagnostics | None = None) -> ast.Program:
    """Preprocess and parse a file.  Raises `CompilerError` on the first fatal
    error, and also when non-fatal errors (duplicates) were found."""
    diags = diags if diags is not None else Diagnostics()
    comp = Compilation(CompileOptions(source=path, include_dirs=list(include_dirs),
                                      defines=dict(defines or {})), diags)
    parse_stage(comp)
    _raise_if_errors(diags)
    assert comp.program is not None
    return comp.program


def parse_source(text: str, name: str = "<input>", include_dirs: list[str] | tuple[str, ...] = (),
                 diags: Diagnostics | None = None, preprocess: bool = True) -> ast.Program:
    """Parse P4 source given as a string (preprocessed with cpp unless told not to)."""
    diags = diags if diags is not None else Diagnostics()
    diags.sources.add_text(name, text)
    if preprocess:
        text = preprocess_text(text, name, PreprocessOptions(list(include_dirs))).text
    prog = _parse(text, name, diags)
    _raise_if_errors(diags)
    return prog


def _raise_if_errors(diags: Diagnostics) -> None:
    errs = diags.errors
    if errs:
        first = errs[0]
        if first.syntax:
            exc: CompilerError = ParseError(first.location, first.message)
        else:
            exc = CompilerError(first.location, first.message, kind=first.kind, related=first.related)
        exc.diagnostic = first
        raise exc
