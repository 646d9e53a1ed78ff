"""C preprocessing of P4 sources, the way p4c does it.

p4c runs the system C preprocessor (`cc -E -x assembler-with-cpp -undef
-nostdinc ...`); so do we, with the same mode: assembler-with-cpp keeps a lone
apostrophe from being read as a character constant, -undef drops the host's
predefined macros (`linux`, `unix`, ...) that would otherwise rewrite P4
identifiers.  We keep cpp's line markers (`# 12 "file.p4" 2`): the lexer reads
them, so every token is located in the original file and line, including the
contents of `#include`d files.

Include search order (as p4c): the directory of the including file for
`#include "..."`, then the user's `-I` directories, then the project's
`p4compiler/p4include/` (core.p4, v1model.p4).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from .diagnostics import CompilerError, SourceLocation

PROJECT_P4INCLUDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "p4include")

# What p4c-bm2-ss predefines (p4c's version numbers are those of the corpus'
# reference commit, 1.2.4.x).
DEFAULT_DEFINES: dict[str, str] = {
    "__TARGET_BMV2__": "1",
    "__p4c__": "1",
    "__p4c_major__": "1",
    "__p4c_minor__": "2",
    "__p4c_patchlevel__": "4",
    "__p4c_version__": '"1.2.4"',
}


@dataclass
class PreprocessOptions:
    include_dirs: list[str] = field(default_factory=list)
    defines: dict[str, str] = field(default_factory=dict)   # NAME -> value ("1" for -D NAME)
    undefines: list[str] = field(default_factory=list)
    use_project_p4include: bool = True
    cpp: str = "cpp"


@dataclass
class PreprocessedSource:
    """Preprocessor output with line markers; `main_file` is the name the
    markers use for the top-level file."""

    text: str
    main_file: str


def parse_define(arg: str) -> tuple[str, str]:
    """`NAME` -> (NAME, "1"); `NAME=VAL` -> (NAME, VAL), as cpp's -D."""
    name, eq, val = arg.partition("=")
    return name, (val if eq else "1")


_CPP_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
                       r"(?P<sev>fatal error|error|warning):\s*(?P<msg>.*)$")


def _cpp_command(opts: PreprocessOptions) -> list[str]:
    exe = shutil.which(opts.cpp)
    if exe is None:
        raise CompilerError(None, f"the C preprocessor '{opts.cpp}' is not installed "
                                  "(install the 'cpp' package)")
    cmd = [exe, "-x", "assembler-with-cpp", "-undef", "-nostdinc", "-w"]
    for d in opts.include_dirs:
        cmd += ["-I", d]
    if opts.use_project_p4include and os.path.isdir(PROJECT_P4INCLUDE):
        cmd += ["-I", PROJECT_P4INCLUDE]
    defines = dict(DEFAULT_DEFINES)
    defines.update(opts.defines)
    for name, val in defines.items():
        cmd.append(f"-D{name}={val}")
    for name in opts.undefines:
        cmd.append(f"-U{name}")
    return cmd


def _run(cmd: list[str], stdin_text: str | None, main_name: str) -> str:
    try:
        proc = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True,
                              errors="replace", timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CompilerError(None, f"cannot run the C preprocessor: {exc}") from None
    if proc.returncode != 0:
        for line in proc.stderr.splitlines():
            m = _CPP_DIAG.match(line)
            if m and m.group("sev") != "warning":
                file = main_name if m.group("file") == "<stdin>" else m.group("file")
                loc = SourceLocation(file, int(m.group("line")), int(m.group("col") or 1))
                raise CompilerError(loc, m.group("msg"), kind="preprocessor")
        raise CompilerError(None, "preprocessor failed: " + proc.stderr.strip())
    return proc.stdout


def check_source_file(path: str) -> None:
    """Refuse a source that is not a readable text file with a message naming
    the exact problem (missing, directory, special file, unreadable, binary),
    instead of letting cpp or the lexer report a misleading symptom."""
    if not os.path.lexists(path):
        raise CompilerError(None, f"{path}: No such file or directory")
    if os.path.isdir(path):
        raise CompilerError(None, f"{path}: Is a directory (give a P4 source file)")
    if not os.path.exists(path):
        raise CompilerError(None, f"{path}: No such file or directory (dangling symbolic link)")
    if not os.path.isfile(path):
        raise CompilerError(None, f"{path}: not a regular file")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise CompilerError(None, f"{path}: cannot read the file: {exc.strerror or exc}") from None
    # p4c's lexer takes any non-NUL bytes (e.g. Latin-1 in comments), so only a
    # NUL byte marks a file as binary
    nul = data.find(b"\0")
    if nul >= 0:
        raise CompilerError(None, f"{path}: binary file (NUL byte at offset {nul}), not P4 source text")


def preprocess_file(path: str, opts: PreprocessOptions | None = None) -> PreprocessedSource:
    """Preprocess the file at `path` (named in locations as given)."""
    opts = opts or PreprocessOptions()
    check_source_file(path)
    out = _run(_cpp_command(opts) + [path], None, path)
    return PreprocessedSource(out, path)


def preprocess_text(text: str, name: str = "<input>",
                    opts: PreprocessOptions | None = None) -> PreprocessedSource:
    """Preprocess source given as a string; locations name it `name`.
    `#include "x"` is searched in the current directory, then -I dirs."""
    opts = opts or PreprocessOptions()
    out = _run(_cpp_command(opts) + ["-I", ".", "-"], text, name)
    out = out.replace('"<stdin>"', _quote(name))
    return PreprocessedSource(out, name)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
