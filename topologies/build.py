"""Compile P4 programs with the project's compiler (p4pc).

    python -m topologies.build --out build [--shared ../shared]

compiles the tutorials' basic.p4 (the demo's program) and every top-level
``p4src/*.p4`` into ``build/<name>.json`` + ``build/<name>.p4info.txtpb``.
Other code calls `compile_p4`; when the compiler is not there yet it raises
`CompilerUnavailable`, which tests turn into a skip with that reason.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class CompilerUnavailable(Exception):
    """p4pc is not installed / not written yet."""


class CompileError(Exception):
    """p4pc ran and rejected the program; the message holds its diagnostics."""


def default_shared() -> Path:
    """The read-only reference tree: $P4LVS_SHARED, else ../shared beside the repo."""
    return Path(os.environ.get("P4LVS_SHARED", REPO.parent / "shared"))


def tutorials_dir(shared: Path | None = None) -> Path:
    return (shared or default_shared()) / "conformance" / "tutorials"


def compiler_command() -> list[str]:
    """argv prefix that runs the compiler, or raise CompilerUnavailable.
    This checkout's ``python -m p4compiler`` first (it always matches the
    code under test), else a ``p4pc`` on PATH."""
    try:
        spec = importlib.util.find_spec("p4compiler.__main__")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        return [sys.executable, "-m", "p4compiler"]
    exe = shutil.which("p4pc")
    if exe:
        return [exe]
    raise CompilerUnavailable("the P4 compiler (p4pc / python -m p4compiler) is not available yet")


def compile_p4(src: str | Path, out_dir: str | Path, name: str | None = None,
               timeout: float = 600) -> tuple[Path, Path]:
    """Compile `src`; returns (json path, p4info path)."""
    src = Path(src)
    if not src.exists():
        raise CompileError(f"{src}: no such file")
    out_dir = Path(out_dir).resolve()   # switches run in other cwds: hand them absolute paths
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or src.stem
    out_json = out_dir / f"{name}.json"
    out_p4info = out_dir / f"{name}.p4info.txtpb"
    argv = [*compiler_command(), "-o", str(out_json), "--p4runtime-files", str(out_p4info), str(src)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise CompileError(f"{src}: compiler timed out after {timeout} s") from None
    if cp.returncode != 0 or not out_json.exists():
        msg = (cp.stderr or cp.stdout).strip()
        raise CompileError(f"{src}: p4pc failed (exit {cp.returncode}):\n{msg}")
    return out_json, out_p4info


def basic_p4(shared: Path | None = None) -> Path:
    return tutorials_dir(shared) / "basic" / "solution" / "basic.p4"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="build")
    ap.add_argument("--shared", default=None, help="reference tree (default ../shared)")
    args = ap.parse_args(argv)
    shared = Path(args.shared) if args.shared else None
    sources = [basic_p4(shared)] + sorted((REPO / "p4src").glob("*.p4"))
    failed = 0
    for src in sources:
        try:
            j, p = compile_p4(src, args.out)
            print(f"built {j} and {p}")
        except CompilerUnavailable as e:
            print(f"build: {e}", file=sys.stderr)
            return 1
        except CompileError as e:
            print(f"build: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
