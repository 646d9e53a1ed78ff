"""`p4pc` / `python3 -m p4compiler`: the command line, shaped like p4c-bm2-ss.

    p4pc [-I DIR]... [-D NAME[=VAL]]... [-U NAME]... [-o prog.json]
         [--p4runtime-files x.txtpb[,y.json]] [--p4runtime-entries-files e.txtpb]
         [--parse-only] [-E] [--pp out.p4] prog.p4

Exit status: 0 success, 1 errors in the program (diagnostics on stderr in
p4c's format), 2 bad command line, 3 internal compiler bug (reported at the
source location being processed, no traceback unless P4PC_DEBUG=1),
4 the requested stage is not implemented yet.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import CompileOptions, Compilation, parse_stage
from .diagnostics import CompilerError, Diagnostics
from .preprocess import parse_define

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_BUG, EXIT_NOT_IMPLEMENTED = 0, 1, 2, 3, 4

# Everything after parsing (front end, evaluation, P4Info, mid end, BMv2 JSON; see
# docs/p4pc-internals.md) is run by `p4compiler.driver.backend(comp) -> int` (exit
# status), which reports through comp.diags / CompilerError and writes
# comp.options.output_json / comp.options.p4runtime_files.  Without that module p4pc
# says so and exits with EXIT_NOT_IMPLEMENTED.
DRIVER_MODULE = "p4compiler.driver"


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="p4pc", description="P4_16 compiler for BMv2 (v1model), p4c-bm2-ss compatible")
    ap.add_argument("source", help="P4_16 program")
    ap.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                    help="add DIR to the preprocessor include path")
    ap.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VAL]",
                    help="define a preprocessor macro")
    ap.add_argument("-U", dest="undefines", action="append", default=[], metavar="NAME",
                    help="undefine a preprocessor macro")
    ap.add_argument("-o", dest="output", metavar="FILE", help="BMv2 JSON output file")
    ap.add_argument("--p4runtime-files", dest="p4runtime_files", metavar="FILES",
                    help="comma-separated P4Info output files (.txtpb/.txt text, .json, .bin)")
    ap.add_argument("--p4runtime-entries-files", dest="p4runtime_entries_files", metavar="FILES",
                    help="comma-separated files for the const table entries as a P4Runtime "
                         "WriteRequest (.txtpb/.txt text, .json, .bin)")
    ap.add_argument("--p4runtime-format", dest="p4runtime_format", help=argparse.SUPPRESS)
    ap.add_argument("--std", default="p4-16", help="source language: p4-16 (P4_14 is not supported)")
    ap.add_argument("--p4v", default=None, help="language version (16; p4c's old spelling of --std)")
    ap.add_argument("--target", default="bmv2")
    ap.add_argument("--arch", default="v1model")
    ap.add_argument("--parse-only", action="store_true", help="stop after parsing")
    ap.add_argument("-E", dest="preprocess_only", action="store_true",
                    help="only run the preprocessor and print its output")
    ap.add_argument("--pp", dest="pp_file", metavar="FILE", help="print the parsed program as P4 to FILE")
    ap.add_argument("--diag-columns", action="store_true",
                    help="add the column to diagnostic locations: file(line):column")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    std = (args.p4v or args.std).lower().replace("_", "-")
    if std not in ("p4-16", "16"):
        print(f"p4pc: error: unsupported language '{args.p4v or args.std}': only P4_16 is supported",
              file=sys.stderr)
        return EXIT_USAGE
    defines = dict(parse_define(d) for d in args.defines)
    opts = CompileOptions(
        source=args.source, include_dirs=args.include_dirs, defines=defines,
        undefines=args.undefines, output_json=args.output,
        p4runtime_files=[f for f in (args.p4runtime_files or "").split(",") if f],
        parse_only=args.parse_only, preprocess_only=args.preprocess_only,
        pp_file=args.pp_file, with_column=args.diag_columns)
    # not a CompileOptions field (that class is front-half owned): driver.backend reads it
    opts.p4runtime_entries_files = [f for f in (args.p4runtime_entries_files or "").split(",") if f]
    diags = Diagnostics(with_column=opts.with_column)
    comp = Compilation(opts, diags)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    try:
        parse_stage(comp)
        if opts.preprocess_only:
            sys.stdout.write(comp.preprocessed or "")
            return EXIT_OK
        if diags.errors:
            diags.print()
            return EXIT_ERRORS
        if opts.pp_file:
            from .printer import to_source
            with open(opts.pp_file, "w") as fh:
                fh.write(to_source(comp.program))
        if opts.parse_only:
            diags.print()
            return EXIT_OK
        try:
            driver = importlib.import_module(DRIVER_MODULE)
        except ModuleNotFoundError as exc:
            if exc.name != DRIVER_MODULE:
                raise
            diags.print()
            print("p4pc: parsed successfully; name resolution, type checking, the mid end, "
                  "BMv2 JSON and P4Info generation are not implemented yet", file=sys.stderr)
            return EXIT_NOT_IMPLEMENTED
        rc = driver.backend(comp)
        diags.print()
        if diags.errors:
            return EXIT_ERRORS
        return rc if isinstance(rc, int) else EXIT_OK
    except CompilerError as exc:
        diags.record(exc)
        diags.print()
        return EXIT_ERRORS
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - any internal failure becomes a located "compiler bug"
        if os.environ.get("P4PC_DEBUG"):
            raise
        diags.bug(exc)
        diags.print()
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
