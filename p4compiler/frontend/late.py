"""Checks p4c makes after type checking (mid end / BMv2 back end); reported in the LATE
phase, i.e. only when nothing earlier failed.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from .. import ast as A
from .. import types as T
from .base import LATE


class LateMixin:
    # -------------------------------------------------- late checks
    def late_checks(self) -> None:
        for d in self.program.declarations:
            if isinstance(d, A.ActionDeclaration) and d.name == "NoAction" and d.params:
                self.err(d, "NoAction: Expected an action with no parameters; did you include core.p4?",
                         LATE, "Target model error")
            if isinstance(d, A.ParserDeclaration):
                self.check_parser_reach(d)
        for d in self.program.declarations:
            if getattr(d, "name", None) == "main" and not (
                    isinstance(d, A.Instantiation) and isinstance(self.tp.decl_type(d), (T.Package, T.Unknown))):
                self.err(d, "main: must be a package declaration", LATE, "invalid")
        if not any(isinstance(x, A.ActionDeclaration) and x.name == "NoAction" for x in self.program.declarations):
            for t in self.tables:
                if t.property("default_action") is None:
                    self.err(None, "Declaration of the action NoAction not found; did you include core.p4?",
                             LATE, "Target model error")
                    break
