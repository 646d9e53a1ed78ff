"""Shared constants of the checker: error phases (p4c's pass order) and common types."""
from __future__ import annotations

from .. import ast as A
from .. import types as T

# p4c stops after the first pass that reported errors; only the earliest phase is reported.
VALIDATE, RESOLVE, TYPE, LATE = 0, 1, 2, 3

_UNK = T.Unknown()
_BOOL = T.Bool()
_INT = T.InfInt()
_VOID = T.Void()
_ERR = T.Error()
_MK = T.MatchKind()
_STR = T.String()
_STATE = T.StateT()


class _Abort(Exception):
    """Internal: stop checking the current statement/declaration (an error was recorded)."""


def _args_named(args: list[A.Argument]) -> bool:
    return any(a.name for a in args)
