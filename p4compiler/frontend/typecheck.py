"""Name resolution + type checking/inference + constant folding, in one ordered walk.

Why one walk: P4 requires declaration before use (except parser states), so
walking the program in order with a scope chain resolves every name exactly as
p4c's ResolveReferences does, and types are known at each use.  p4c runs these
as separate passes and stops after the first failing one; errors are therefore
tagged with a phase (RESOLVE before TYPE ...) and only the earliest phase's
errors are reported (`check`).

Leniency rule: when a construct is not modelled precisely, its type is
`types.Unknown`, which is compatible with everything -- a false error on a
valid program is worse than a missed one.
"""
from __future__ import annotations

from typing import Any

from .. import ast as A
from ..diagnostics import CompilerError, Diagnostics, SourceLocation
from .annotations import check_annotations
from .base import _STATE, LATE, RESOLVE, TYPE, VALIDATE, _Abort  # noqa: F401 - phases re-exported
from .blocks import BlockMixin
from .calls import CallMixin
from .decls import DeclMixin
from .exprs import ExprMixin
from .late import LateMixin
from .scope import Scope
from .stmts import StmtMixin
from .typed import BuiltinDecl, TypedProgram
from .types_resolve import TypeResolveMixin


class Checker(TypeResolveMixin, DeclMixin, BlockMixin, StmtMixin, ExprMixin, CallMixin, LateMixin):
    """The front end over one program; see the module docstring."""

    def __init__(self, program: A.Program, diags: Diagnostics):
        self.program = program
        self.diags = diags
        self.tp = TypedProgram(program)
        self.errors: list[tuple[int, int, SourceLocation | None, str, str | None]] = []
        self.top = Scope(None, "program")
        self.error_decl: A.ErrorDeclaration | None = None
        self.error_members: dict[str, A.DeclarationId] = {}
        self.match_kinds: dict[str, A.DeclarationId] = {}
        self._seq = 0
        self.loc_override: SourceLocation | None = None
        self._in_specialized = False
        self._in_entries = False
        self.tables: list[A.TableDeclaration] = []
        self._accept = BuiltinDecl("accept", "state")
        self._reject = BuiltinDecl("reject", "state")
        self.tp.set_decl_type(self._accept, _STATE)
        self.tp.set_decl_type(self._reject, _STATE)

    # ------------------------------------------------------------ diagnostics
    def err(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error") -> None:
        loc = where if isinstance(where, SourceLocation) or where is None else getattr(where, "loc", None)
        if self.loc_override is not None and phase == TYPE:
            loc = self.loc_override
        self._seq += 1
        self.errors.append((phase, self._seq, loc, msg, kind))

    def fail(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error"):
        self.err(where, msg, phase, kind)
        raise _Abort()

    def fail_here(self, where: Any, msg: str, phase: int = TYPE, kind: str | None = "type-error"):
        """`fail` at `where` even inside a region whose type errors are reported elsewhere."""
        self.loc_override = None
        self.fail(where, msg, phase, kind)

    def warn(self, where: Any, msg: str, kind: str | None = None) -> None:
        loc = where if isinstance(where, SourceLocation) or where is None else getattr(where, "loc", None)
        self.diags.warning(loc, msg, kind)

    # ------------------------------------------------------------ entry
    def type_annotation_literals(self) -> None:
        """Give literal annotation arguments (`@priority(3)`, `@name("x")`) their type and
        value, so later passes read them through `const_value` like any constant."""
        lits = (A.IntLiteral, A.StringLiteral, A.BoolLiteral)
        for node in self.program.walk():
            if not isinstance(node, A.Annotation):
                continue
            for e in list(node.exprs) + [kv.expr for kv in node.kv]:
                if isinstance(e, lits) or (isinstance(e, A.UnaryOp) and isinstance(e.expr, lits)):
                    try:
                        self.expr(e, self.top)
                    except _Abort:
                        pass

    def run(self) -> TypedProgram:
        check_annotations(self.program, lambda where, msg, kind: self.err(where, msg, VALIDATE, kind))
        self.type_annotation_literals()
        for d in self.program.declarations:
            self.diags.current = d.loc
            try:
                self.declaration(d, self.top)
            except _Abort:
                pass
        self.late_checks()
        return self.tp

    # ------------------------------------------------------------ lookups
    def lookup(self, scope: Scope, path: A.Path, what: Any = None) -> list[Any]:
        s = scope.root() if path.absolute else scope
        found = s.lookup(path.name)
        if not found:
            self.fail(path, f"{path.name}: declaration not found", RESOLVE, "not-found")
        return found


def check(program: A.Program, diags: Diagnostics) -> TypedProgram:
    """Run the front end over a parsed program; raise `CompilerError` on the first error."""
    c = Checker(program, diags)
    try:
        tp = c.run()
    except CompilerError:
        raise
    except RecursionError as exc:
        raise _bug(diags, exc)
    except Exception as exc:  # noqa: BLE001 - internal failure -> located compiler bug
        raise _bug(diags, exc)
    if c.errors:
        first_phase = min(p for p, *_ in c.errors)
        errs = sorted((x for x in c.errors if x[0] == first_phase), key=lambda x: x[1])
        _, _, loc, msg, kind = errs[0]
        first = CompilerError(loc, msg, kind=kind)
        diags.add(first.diagnostic)
        for _, _, loc, msg, kind in errs[1:]:
            diags.error(loc, msg, kind)
        raise first
    return tp


class FrontEndBug(CompilerError):
    """An internal failure of the front end, reported as a located 'compiler bug'."""


def _bug(diags: Diagnostics, exc: BaseException) -> CompilerError:
    loc = diags.current
    err = FrontEndBug(loc, f"{type(exc).__name__}: {exc}")
    err.diagnostic.severity = "bug"
    return err
