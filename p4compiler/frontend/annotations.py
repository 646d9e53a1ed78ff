"""Checks of annotations that p4c's ParseAnnotations pass makes (before name resolution).

* `@name(...)` / `@deprecated(...)` must hold a string: string literals, optionally joined by `++`.
* A node may not carry two structured annotations (`@x[...]`) with the same name.
* Values of structured annotations must be int, string or bool (not lists or `{k = v}`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import ast as A

_STRING_ANNOTATIONS = ("name", "deprecated")


def _is_string_body(body: list) -> bool:
    toks = [t for t in body if t.kind not in ("END_ANNOTATION",)]
    if not toks:
        return False
    for i, t in enumerate(toks):
        if i % 2 == 0 and t.kind != "STRING_LITERAL":
            return False
        if i % 2 == 1 and t.kind != "++" and t.text != "++":
            return False
    return len(toks) % 2 == 1


def _show(e: Any) -> str:
    try:
        from ..printer import to_source
        return to_source(e).strip()
    except Exception:  # noqa: BLE001 - only for the message text
        return type(e).__name__


def check_annotations(program: A.Program, err: Callable[[Any, str, str], None]) -> None:
    """Report bad annotations through `err(location_node, message, kind)`."""
    for node in program.walk():
        anns = getattr(node, "annotations", None)
        if not isinstance(anns, list) or not anns:
            continue
        seen: set[str] = set()
        for a in anns:
            if not isinstance(a, A.Annotation):
                continue
            if a.structured:
                if a.name in seen:
                    err(a, f"@{a.name}: duplicate name for structured annotation", "duplicate")
                seen.add(a.name)
                for e in list(a.exprs) + [kv.expr for kv in a.kv]:
                    if isinstance(e, (A.ListExpression, A.StructExpression)):
                        err(e, f"{_show(e)}: illegal type for structured annotation; must be int, string or bool",
                            "type-error")
            elif a.name in _STRING_ANNOTATIONS and a.has_parens and not a.pragma:
                if not _is_string_body(a.body):
                    if a.name == "name":
                        err(a, "@name: should contain a string", "invalid")
                    else:
                        where = a.body[0] if a.body else a
                        err(where, f"{' '.join(t.text for t in a.body)}: @{a.name} annotation's value must be a string",
                            "type-error")
