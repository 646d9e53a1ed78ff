"""The `p4pc` back-half driver: AST -> BMv2 JSON (+ P4Info when available).

Why separate from `__main__`: the command line (front-half owned) parses
options and the program; this module runs everything after parsing so tests
can call `compile_to_json` directly.
"""
from __future__ import annotations

import json
import sys

from . import Compilation, CompileOptions, parse_file
from .diagnostics import CompilerError, Diagnostics


def compile_to_json(source: str, include_dirs=(), defines=None) -> dict:
    """Compile a P4_16 file to a BMv2 JSON document (dict).  Raises CompilerError."""
    from .bmv2.program import compile_program
    program = parse_file(source, include_dirs=include_dirs, defines=defines)
    return compile_program(program, source)


def backend(comp: Compilation) -> int:
    """Run the passes after parsing; write the outputs named in the options.
    Returns the exit status (0 ok); CompilerErrors propagate to the caller."""
    from .bmv2.program import compile_program
    doc = compile_program(comp.program, comp.options.source)
    out = comp.options.output_json
    text = json.dumps(doc, indent=2)
    if out:
        with open(out, "w") as fh:
            fh.write(text + "\n")
    if comp.options.p4runtime_files:
        try:
            from . import p4info_gen  # type: ignore[attr-defined]
        except ImportError:
            print("p4pc: warning: P4Info generation is not available yet", file=sys.stderr)
        else:
            gen = getattr(p4info_gen, "write_p4runtime_files", None)
            if gen is not None:
                gen(comp, comp.options.p4runtime_files)
    return 0
