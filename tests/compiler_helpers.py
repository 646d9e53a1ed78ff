"""Front-end checks of a P4 source text for the compiler tests: parse (no
preprocessor, the file named t.p4) and type-check, or expect that to fail."""
from __future__ import annotations

import pytest

from p4compiler import parse_source
from p4compiler.diagnostics import CompilerError, Diagnostics
from p4compiler.frontend import check


def check_source(src: str):
    """The checked program; raises CompilerError on a parse or check error."""
    diags = Diagnostics()
    prog = parse_source(src, "t.p4", diags=diags, preprocess=False)
    return check(prog, diags)


def check_error(src: str) -> CompilerError:
    """The CompilerError that parsing or checking `src` raises (fails the
    test when there is none)."""
    with pytest.raises(CompilerError) as ei:
        check_source(src)
    return ei.value
