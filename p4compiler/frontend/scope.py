"""Lexical scopes for P4 name resolution.

Why a list per name: P4 overloads functions, extern functions and methods by
their number (and names) of parameters, so one name may denote several
declarations in the same scope; every other kind of duplicate is already
rejected by the parser ("Duplicates declaration").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Scope:
    parent: Scope | None
    kind: str = "block"                 # "program", "parser", "control", "action", "function", "block", ...
    names: dict[str, list[Any]] = field(default_factory=dict)
    owner: Any = None                   # the declaration that opened the scope

    def add(self, name: str, decl: Any) -> None:
        self.names.setdefault(name, []).append(decl)

    def lookup_local(self, name: str) -> list[Any]:
        return self.names.get(name, [])

    def lookup(self, name: str) -> list[Any]:
        s: Scope | None = self
        while s is not None:
            found = s.names.get(name)
            if found:
                return found
            s = s.parent
        return []

    def root(self) -> Scope:
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    def enclosing(self, *kinds: str) -> Scope | None:
        s: Scope | None = self
        while s is not None:
            if s.kind in kinds:
                return s
            s = s.parent
        return None

    def child(self, kind: str = "block", owner: Any = None) -> Scope:
        return Scope(self, kind, {}, owner)
