"""Source locations and compiler diagnostics, printed the way p4c prints them.

Every token and AST node carries a `SourceLocation`, so any pass can report a
problem at the exact place in the *original* file (after the preprocessor's
line markers have been mapped back).  p4c's message shapes, which the
conformance corpus (`p4c-errors/*.p4-stderr`) shows and which we reproduce:

    prog.p4(13): [--Werror=type-error] error: a(): Parameter b must be bound
            default_action = a(); // error: too few arguments
                             ^^^
    prog.p4(8):syntax error, unexpected (
        Y<T>(
            ^
    [--Werror=overlimit] error: 1 errors encountered, aborting compilation

The column is not in p4c's header line; the caret line below the quoted
source line shows it.  `Diagnostic.format(with_column=True)` adds it as
``file(line):column:`` for tools that want it.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True)
class SourceLocation:
    """A position in an original source file: 1-based line and column.

    `length` is the number of characters the construct spans on that line
    (at least 1); it sets how many carets are printed under it.
    """

    file: str
    line: int
    column: int
    length: int = 1

    def __str__(self) -> str:
        return f"{self.file}({self.line}):{self.column}"

    def with_length(self, length: int) -> "SourceLocation":
        return SourceLocation(self.file, self.line, self.column, max(1, length))


UNKNOWN_LOCATION = SourceLocation("<unknown>", 0, 0)


class SourceCache:
    """Reads original source lines to quote them under a diagnostic.

    Why a cache: a program with many errors quotes the same file many times.
    Text given directly (e.g. a string compiled in a test) is registered with
    `add_text` so it can be quoted although it has no file on disk.
    """

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def add_text(self, name: str, text: str) -> None:
        self._lines[name] = text.splitlines()

    def line(self, file: str, line: int) -> str | None:
        if file not in self._lines:
            try:
                with open(file, encoding="utf-8", errors="replace") as fh:
                    self._lines[file] = fh.read().splitlines()
            except OSError:
                self._lines[file] = None
        lines = self._lines[file]
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]


@dataclass
class Diagnostic:
    """One message.  `severity` is "error", "warning" or "bug"; `kind` is p4c's
    error class (`type-error`, `duplicate`, ...) or None; `syntax` selects
    bison's ``file(line):syntax error, ...`` shape.  `related` are extra
    locations quoted after the main one (p4c quotes e.g. the first declaration
    after a "Duplicates declaration" error)."""

    severity: str
    message: str
    location: SourceLocation | None = None
    kind: str | None = None
    syntax: bool = False
    related: list[SourceLocation] = field(default_factory=list)

    def header(self, with_column: bool = False) -> str:
        loc = self.location
        where = ""
        if loc is not None and loc.line > 0:
            where = f"{loc.file}({loc.line})"
            if with_column:
                where += f":{loc.column}"
        if self.syntax:
            return f"{where}:{self.message}" if where else self.message
        if self.severity == "bug":
            tag = "Compiler Bug"
            return f"{where}: {tag}: {self.message}" if where else f"{tag}: {self.message}"
        if self.kind:
            flag = "Werror" if self.severity == "error" else "Wwarn"
            tag = f"[--{flag}={self.kind}] {self.severity}"
        else:
            tag = self.severity
        return f"{where}: {tag}: {self.message}" if where else f"{tag}: {self.message}"

    def format(self, sources: SourceCache | None = None, with_column: bool = False) -> str:
        sources = sources or SourceCache()
        out = [self.header(with_column)]
        if self.location is not None:
            out.extend(_quote(self.location, sources))
        for rel in self.related:
            out.append(f"{rel.file}({rel.line})" + (f":{rel.column}" if with_column else ""))
            out.extend(_quote(rel, sources))
        return "\n".join(out)


def _quote(loc: SourceLocation, sources: SourceCache) -> list[str]:
    text = sources.line(loc.file, loc.line)
    if text is None:
        return []
    col = max(1, loc.column)
    # keep the tabs of the quoted line in the marker line, so the carets line up
    pad = "".join("\t" if c == "\t" else " " for c in text[: col - 1])
    pad += " " * max(0, col - 1 - len(text))
    return [text, pad + "^" * max(1, loc.length)]


class CompilerError(Exception):
    """A fatal, user-facing error: compilation stops here.

    Raised by any pass; the driver prints the collected diagnostics (the
    fatal one included) and exits with status 1.  Never shows a traceback.
    """

    def __init__(self, location: SourceLocation | None, message: str, *,
                 kind: str | None = None, syntax: bool = False,
                 related: list[SourceLocation] | None = None):
        self.diagnostic = Diagnostic("error", message, location, kind, syntax, list(related or []))
        self.location = location
        self.message = message
        super().__init__(self.diagnostic.header(with_column=True))


class Diagnostics:
    """Collects errors and warnings of one compilation.

    Passes call `error()` for problems that still let them continue (so one run
    reports several, like p4c) and raise `CompilerError` when they cannot go
    on.  `current` is the location being processed, kept up to date by the
    passes so that an unexpected internal failure is reported as a compiler
    bug *at that location* instead of as a Python traceback.
    """

    def __init__(self, sources: SourceCache | None = None, max_errors: int = 0,
                 with_column: bool = False):
        self.sources = sources or SourceCache()
        self.items: list[Diagnostic] = []
        self.current: SourceLocation | None = None
        self.max_errors = max_errors
        self.with_column = with_column

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity in ("error", "bug")]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    @property
    def error_count(self) -> int:
        return len(self.errors)

    def add(self, diag: Diagnostic) -> None:
        self.items.append(diag)
        if self.max_errors and self.error_count >= self.max_errors and diag.severity == "error":
            raise CompilerError(diag.location, "too many errors", kind="overlimit")

    def error(self, location: SourceLocation | None, message: str, kind: str | None = None,
              related: list[SourceLocation] | None = None) -> None:
        self.add(Diagnostic("error", message, location, kind, False, list(related or [])))

    def warning(self, location: SourceLocation | None, message: str, kind: str | None = None,
                related: list[SourceLocation] | None = None) -> None:
        self.add(Diagnostic("warning", message, location, kind, False, list(related or [])))

    def bug(self, exc: BaseException) -> None:
        """Record an internal failure (any non-CompilerError exception)."""
        self.items.append(Diagnostic("bug", f"{type(exc).__name__}: {exc}", self.current))

    def record(self, exc: CompilerError) -> None:
        if exc.diagnostic not in self.items:
            self.items.append(exc.diagnostic)

    def render(self) -> str:
        parts = [d.format(self.sources, self.with_column) for d in self.items]
        n = self.error_count
        if n and not any(d.severity == "bug" for d in self.items):
            parts.append(f"[--Werror=overlimit] error: {n} errors encountered, aborting compilation")
        return "\n".join(parts)

    def print(self, stream: TextIO | None = None) -> None:
        text = self.render()
        if text:
            print(text, file=stream or sys.stderr)


def display_path(path: str) -> str:
    """The file name as p4c shows it: as the user gave it (relative stays relative)."""
    return os.path.normpath(path) if path else path
