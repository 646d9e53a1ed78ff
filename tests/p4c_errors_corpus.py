"""Helpers to score the front end against p4c's error corpus (p4c-errors/).

`expected_first_error(stderr_text)` -> (line or None, message): the first
*error* p4c printed (warnings such as "'x' is unused" come first in many
files and are skipped); line None when p4c's error has no location.
`run_one(path)` -> (line or None, message, status) where status is
"error", "accepted" or "crash".
"""
from __future__ import annotations

import re
import sys
import traceback

_HDR = re.compile(r"^(?P<file>[^\s()]+)\((?P<line>\d+)\):\s*(?P<rest>.*)$")


def expected_first_error(text: str) -> tuple[int | None, str]:
    for raw in text.splitlines():
        m = _HDR.match(raw)
        if m:
            rest = m.group("rest")
            if rest.startswith(("syntax error", "error:")) or re.match(r"\[--Werror=[^\]]*\] error:", rest):
                return int(m.group("line")), rest
            continue
        if re.match(r"^(\[--Werror=[^\]]*\] )?error:", raw):
            return None, raw
    return None, ""


def run_one(path: str) -> tuple[int | None, str, str]:
    from p4compiler import parse_file
    from p4compiler.diagnostics import CompilerError, Diagnostics
    from p4compiler.frontend import check
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    diags = Diagnostics()
    try:
        prog = parse_file(path, diags=diags)
        check(prog, diags)
    except CompilerError as exc:
        d = exc.diagnostic
        if d.severity == "bug":
            return (d.location.line if d.location else None), d.message, "crash"
        return (d.location.line if d.location else None), d.message, "error"
    except Exception as exc:  # noqa: BLE001 - a crash is what we measure
        return None, "".join(traceback.format_exception_only(type(exc), exc)).strip(), "crash"
    return None, "", "accepted"
