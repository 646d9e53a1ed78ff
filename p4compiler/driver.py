"""The `p4pc` back-half driver: front-end checks, BMv2 JSON and P4Info.

Why separate from `__main__`: the command line (front-half owned) parses
options and the program, then calls `backend(comp)`; tests call
`compile_file` / `compile_to_json` directly.  Pipeline (docs/p4pc-internals.md):
frontend.check -> P4Info (p4info_gen, from the front-end program) ->
mid end + BMv2 JSON (bmv2.program, which instantiates `main` itself).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import Compilation, parse_file
from .diagnostics import CompilerError, Diagnostics


@dataclass
class CompileResult:
    """Everything one compile produces (what `p4pc -o --p4runtime-files` writes)."""

    json: dict                 # the BMv2 JSON document
    p4info: Any                # p4.config.v1.P4Info
    entries: Any               # p4.v1.WriteRequest of the const entries (p4c's .entries.txtpb)
    typed: Any = None          # the front end's TypedProgram (None without a front end)


def run_frontend(program, diags: Diagnostics) -> Any:
    """Type-check with the front end; returns the TypedProgram (or None when
    the front end is not available).  Raises CompilerError on program errors."""
    try:
        from .frontend import check
    except ImportError:
        return None
    typed = check(program, diags)
    errs = diags.errors
    if errs:
        first = errs[0]
        raise CompilerError(first.location, first.message, kind=first.kind)
    return typed


def compile_to_json(source: str, include_dirs=(), defines=None, *, frontend: bool = False) -> dict:
    """Compile a P4_16 file to a BMv2 JSON document (dict).  Raises CompilerError.
    `frontend=True` also runs the front end's checks first (as `p4pc` does)."""
    from .bmv2.program import compile_program
    diags = Diagnostics()
    program = parse_file(source, include_dirs=include_dirs, defines=defines, diags=diags)
    if frontend:
        run_frontend(program, diags)
    return compile_program(program, source, diags)


def compile_file(source: str, include_dirs=(), defines=None) -> CompileResult:
    """Everything `p4pc` does for one file, in process: front end, P4Info +
    const entries, BMv2 JSON.  Raises CompilerError."""
    from .bmv2.program import compile_program
    from .p4info_gen import generate
    diags = Diagnostics()
    program = parse_file(source, include_dirs=include_dirs, defines=defines, diags=diags)
    typed = run_frontend(program, diags)
    rt = generate(typed if typed is not None else program)
    doc = compile_program(program, source, diags)
    return CompileResult(doc, rt.p4info, rt.entries, typed)


def backend(comp: Compilation) -> int:
    """Everything after parsing for the `p4pc` command: writes
    `comp.options.output_json`, `comp.options.p4runtime_files` and
    `p4runtime_entries_files` (set by `__main__` on the options object).
    Returns the exit status (0); CompilerErrors propagate to `__main__`."""
    from .bmv2.program import compile_program
    typed = run_frontend(comp.program, comp.diags)
    info_files = list(comp.options.p4runtime_files or ())
    entries_files = list(getattr(comp.options, "p4runtime_entries_files", None) or ())
    if info_files or entries_files:
        from .p4info_gen import write_p4runtime_files
        write_p4runtime_files(typed if typed is not None else comp.program, info_files, entries_files)
    doc = compile_program(comp.program, comp.options.source, comp.diags)
    out = comp.options.output_json
    if out:
        try:
            with open(out, "w") as fh:
                json.dump(doc, fh, indent=2)
                fh.write("\n")
        except OSError as exc:
            raise CompilerError(None, f"Couldn't open output file: {out}: {exc.strerror}") from exc
    return 0
