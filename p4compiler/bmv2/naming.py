"""Control-plane names for the BMv2 JSON (tables, actions, externs, keys).

Why one small module: p4info_gen and the JSON must agree on every name; when
`p4compiler.names` exists this module delegates to it, so switching is one
import.  The rules are p4c's: `@name("x")` replaces the local name,
`@name(".x")` makes it global (no prefix), otherwise the name is the
enclosing control/parser path joined with dots.
"""
from __future__ import annotations

from .. import ast as A


def annotation_string(anns, name: str) -> str | None:
    """The string argument of annotation `@name("...")`, if present."""
    for a in anns or ():
        if a.name == name:
            for tok in a.body:
                if tok.kind == "STRING_LITERAL":
                    return tok.value if isinstance(tok.value, str) else tok.text.strip('"')
            for e in a.exprs:
                if isinstance(e, A.StringLiteral):
                    return e.value
    return None


def qualified_name(prefix: str, local: str, anns) -> str:
    """Fully qualified control-plane name of a declaration named `local`
    inside `prefix` (a dotted control path, "" at top level)."""
    override = annotation_string(anns, "name")
    if override is not None:
        if override.startswith("."):
            return override[1:]
        local = override
    return f"{prefix}.{local}" if prefix else local
