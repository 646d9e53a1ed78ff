"""The front end against p4c's error corpus (p4c-errors/: programs p4c rejects).

Measures how often our first error is on the same line as p4c's first error
(p4c's `<name>.p4-stderr`; its warnings are skipped) and asserts a floor on
that rate and that nothing crashes (an internal failure must become a located
"compiler bug" diagnostic, and there must be none on this corpus).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from p4c_errors_corpus import expected_first_error, run_one

# Same-line rate reached when this floor was set (rounded down); raise it as the front end improves.
SAME_LINE_FLOOR = 0.97


def _corpus(conformance_dir: Path) -> list[Path]:
    d = conformance_dir / "p4c-errors"
    if not d.is_dir():
        pytest.skip("p4c-errors corpus missing")
    names = [ln.strip() for ln in (d / "LIST.txt").read_text().splitlines() if ln.strip()]
    return [d / n for n in names]


def test_error_corpus_same_line_and_no_crash(conformance_dir):
    files = _corpus(conformance_dir)
    same = crashes = accepted = 0
    misses = []
    for f in files:
        exp_line, _exp_msg = expected_first_error((f.parent / (f.name + "-stderr")).read_text())
        line, msg, status = run_one(str(f))
        if status == "crash":
            crashes += 1
            misses.append(f"CRASH {f.name}: {msg}")
        elif status == "accepted":
            accepted += 1
        elif line == exp_line or exp_line is None:
            same += 1
            continue
        if status == "error":
            misses.append(f"{f.name}: line {line} vs p4c {exp_line}: {msg}")
    rate = same / len(files)
    print(f"\np4c-errors: {len(files)} programs, same first-error line {same} ({rate:.1%}), "
          f"accepted (missed) {accepted}, crashes {crashes}")
    assert crashes == 0, "\n".join(m for m in misses if m.startswith("CRASH"))
    assert rate >= SAME_LINE_FLOOR, f"same-line rate {rate:.3f} < {SAME_LINE_FLOOR}"


def test_crash_becomes_located_bug(monkeypatch, tmp_path):
    """An internal failure is reported as a 'bug' diagnostic at the node being processed."""
    from p4compiler import parse_source
    from p4compiler.diagnostics import CompilerError, Diagnostics
    from p4compiler.frontend import check, typecheck

    def boom(self, d, scope):
        raise ValueError("boom")
    monkeypatch.setattr(typecheck.Checker, "decl_ConstantDeclaration", boom)
    diags = Diagnostics()
    prog = parse_source("const bit<8> x = 1;\n", "t.p4", diags=diags, preprocess=False)
    with pytest.raises(CompilerError) as ei:
        check(prog, diags)
    assert ei.value.diagnostic.severity == "bug"
    assert ei.value.location is not None and ei.value.location.line == 1


def test_expected_first_error_skips_warnings():
    text = ("x.p4(6): [--Wwarn=unused] warning: control 'c' is unused\n"
            "control c(packet_out p) {\n"
            "x.p4(8): [--Werror=type-error] error: 'p.emit({ 0, 1 })'\n"
            "x.p4(4)\n")
    assert expected_first_error(text) == (8, "[--Werror=type-error] error: 'p.emit({ 0, 1 })'")
    assert expected_first_error("x.p4(3):syntax error, unexpected (\n")[0] == 3
    assert expected_first_error("[--Werror=Target model error] error: no NoAction\n") == \
        (None, "[--Werror=Target model error] error: no NoAction")
