"""Checks p4c makes after type checking (mid end / BMv2 back end); reported in the LATE
phase, i.e. only when nothing earlier failed.

Part of `typecheck.Checker` (a mixin: methods use the other parts through `self`)."""
from __future__ import annotations

from typing import Any

from .. import ast as A
from .. import types as T
from .base import LATE


class LateMixin:
    # -------------------------------------------------- late checks
    def late_checks(self) -> None:
        self.check_control_plane_names()
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
            other = next((x for x in self.program.declarations if getattr(x, "name", None) == "NoAction"), None)
            for t in self.tables:
                if t.property("default_action") is None and other is not None:
                    self.err(other, "NoAction: expected to be an action; did you include core.p4?",
                             LATE, "Target model error")
                    break
                if t.property("default_action") is None:
                    self.err(None, "Declaration of the action NoAction not found; did you include core.p4?",
                             LATE, "Target model error")
                    break

    def check_control_plane_names(self) -> None:
        """p4c's DuplicateHierarchicalNameCheck: two actions (or two tables) of the
        instantiated program with one fully qualified control-plane name are an error,
        reported at the later one.  Top-level actions come first, then each
        instantiated control's actions and tables (the order of p4c's walk after
        inlining), among the actions the program references.  Names come from `names.py`, as P4Info and the JSON take them."""
        from .. import names as N
        from ..p4info_gen import P4InfoBuilder
        try:
            blocks = P4InfoBuilder(self.program, self.tp).blocks
        except Exception:  # noqa: BLE001 - a program the walk cannot handle fails later, located
            return
        used: set[int] = set()       # p4c drops unreferenced actions before this check
        for n in self.program.walk():
            if isinstance(n, (A.PathExpression, A.ActionRef)):
                d = self.tp.decl_of(n)
                if isinstance(d, A.ActionDeclaration):
                    used.add(id(d))
        seen: dict[tuple[str, str], Any] = {}
        visited: set[tuple[str, int]] = set()

        def claim(kind: str, node: A.Declaration, name: str, prefix: str) -> None:
            if (prefix, id(node)) in visited or (kind == "action" and id(node) not in used):
                return
            visited.add((prefix, id(node)))
            # an action is one P4Info object whatever the instances; a table is one per instance
            me = id(node) if kind == "action" else (prefix, id(node))
            other = seen.setdefault((kind, name), me)
            if other != me and kind == "table" and other[1] == id(node):
                # one table declaration in two control instances under one absolute @name
                self.err(None, f"Name '{name}' is used for multiple table objects in the P4Info message",
                         LATE, "duplicate")
            elif other != me:
                shown = N.annotation_string(N.find_annotation(node.annotations, "name")) or node.name
                self.err(node, f"{shown}: conflicting control plane name: {name}", LATE, "duplicate")
        for d in self.program.declarations:
            if isinstance(d, A.ActionDeclaration):
                claim("action", d, N.action_name(d, None), "")
        pos = {id(d): i for i, d in enumerate(self.program.declarations)}

        def source_order(item: tuple[int, Any]) -> tuple[int, int]:
            # p4c walks the program after inlining: top-level controls in source order,
            # each followed by what was inlined into it
            i, blk = item
            root = blk
            while root.parent is not None and root.parent.kind in ("control", "parser", "table"):
                root = root.parent
            return pos.get(id(root.decl), len(pos)), i
        for _, blk in sorted(enumerate(blocks), key=source_order):
            if blk.kind == "control":
                for x in blk.decl.locals:
                    if isinstance(x, A.ActionDeclaration):
                        claim("action", x, N.action_name(x, blk.prefix), blk.prefix)
            elif blk.kind == "table":
                claim("table", blk.decl, blk.prefix, blk.parent.prefix if blk.parent else "")
