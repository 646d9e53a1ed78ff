"""The P4_16 semantic front end: name resolution, type checking/inference,
constant folding and the checks p4c's front end makes.

Entry point: `check(program, diags) -> TypedProgram` (contract in
docs/p4pc-internals.md).  Errors are collected per phase (structural
validation, name resolution, type checking, later checks) and, as p4c stops
after the first pass that failed, only the earliest phase's errors are
reported; the first of them is raised as `CompilerError`.
"""
from __future__ import annotations

from .typecheck import check
from .typed import BuiltinDecl, TypedProgram

__all__ = ["BuiltinDecl", "TypedProgram", "check"]
