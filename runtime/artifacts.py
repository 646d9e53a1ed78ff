"""Build lvs.p4 with the project's compiler (p4pc) into BMv2 JSON + P4Info.

Why here: the daemon, the tests, the demo and the benchmark all need the
compiled program and must never carry hand-written ids: they always use the
P4Info the compiler wrote next to the JSON.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LVS_P4 = REPO / "p4src" / "lvs.p4"


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Artifacts:
    json: Path
    p4info: Path


def compile_lvs(out_dir: str | Path, source: Path = LVS_P4) -> Artifacts:
    """Compile when the outputs are missing or older than any p4src file."""
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    art = Artifacts(out / "lvs.json", out / "lvs.p4info.txtpb")
    newest = max(p.stat().st_mtime for p in source.parent.rglob("*.p4"))
    if all(p.exists() and p.stat().st_mtime >= newest for p in (art.json, art.p4info)):
        return art
    cmd = [sys.executable, "-m", "p4compiler", "-o", str(art.json),
           "--p4runtime-files", str(art.p4info), str(source)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"p4pc failed on {source}:\n{r.stderr.strip()}")
    return art
