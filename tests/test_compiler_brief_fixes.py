"""Regression tests for compiler fixes measured against p4c-bm2-ss behaviour:
digest learn lists, p4pc file-level errors, run-time ``+:`` slices and value
sets in tuple select cases."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from p4compiler.diagnostics import CompilerError
from p4compiler.driver import compile_file
from p4switch.switch import Switch

ROOT = Path(__file__).resolve().parent.parent

_SKELETON = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; }
struct headers_t { h_t h; }
struct ev_t { bit<8> x; }
struct meta_t { }
parser P(packet_in pk, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    %(parser)s
}
control VC(inout headers_t hdr, inout meta_t m) { apply { } }
control I(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        %(ingress)s
        sm.egress_spec = 1;
    }
}
control E(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t m) { apply { } }
control D(packet_out pk, in headers_t hdr) { apply { pk.emit(hdr.h); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""
_PARSER = "state start { pk.extract(hdr.h); transition accept; }"


def _compile(tmp_path: Path, ingress: str = "", parser: str = _PARSER):
    src = tmp_path / "prog.p4"
    src.write_text(_SKELETON % {"parser": parser, "ingress": ingress})
    return compile_file(str(src))


def test_two_digest_call_sites_of_one_type_reach_the_one_p4info_digest(tmp_path):
    """p4c gives every digest() call site its own learn list, all named after
    the struct type (= the P4Info digest name); a renamed second list
    ("ev_t_0") matched no digest and its samples were dropped."""
    r = _compile(tmp_path, "if (hdr.h.a == 1) { digest<ev_t>(1, {hdr.h.a}); } "
                           "else { digest<ev_t>(1, {hdr.h.b}); }")
    names = [d.preamble.name for d in r.p4info.digests]
    assert names == ["ev_t"]
    lls = r.json["learn_lists"]
    assert len(lls) == 2 and {ll["name"] for ll in lls} == {"ev_t"}
    assert len({ll["id"] for ll in lls}) == 2
    sw = Switch.from_json(r.json)
    sw.process_packet(0, bytes([1, 7, 0, 0]))
    sw.process_packet(0, bytes([2, 9, 0, 0]))
    assert [(d.name, d.values) for d in sw.digests] == [("ev_t", (1,)), ("ev_t", (9,))]


def _p4pc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "p4compiler", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_p4pc_directory_is_called_a_directory(tmp_path):
    r = _p4pc(str(tmp_path))
    assert r.returncode == 1
    assert "Is a directory" in r.stderr and "No such file" not in r.stderr
    assert "Traceback" not in r.stderr


def test_p4pc_missing_and_binary_files(tmp_path):
    r = _p4pc(str(tmp_path / "nope.p4"))
    assert r.returncode == 1 and "nope.p4: No such file or directory" in r.stderr
    b = tmp_path / "bin.p4"
    b.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00junk")
    r = _p4pc(str(b))
    assert r.returncode == 1 and "binary file (NUL byte at offset 7)" in r.stderr
    assert "syntax error" not in r.stderr


def test_unreadable_source_names_the_os_error(tmp_path, monkeypatch):
    """Simulated (tests may run as root, who can read a mode-000 file)."""
    from p4compiler import preprocess
    src = tmp_path / "x.p4"
    src.write_text("control c() { apply { } }\n")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(preprocess, "open", denied, raising=False)
    with pytest.raises(CompilerError, match=r"x\.p4: cannot read the file: Permission denied"):
        preprocess.check_source_file(str(src))


def _ins(x: int, lo: int, w: int, v: int, bw: int = 32) -> int:
    m = ((1 << w) - 1) << lo & ((1 << bw) - 1)
    return (x & ~m) | ((v << lo) & m)


def _ext(x: int, lo: int, w: int) -> int:
    return (x >> lo) & ((1 << w) - 1)


@pytest.mark.parametrize("a", [0, 3, 28, 30, 31, 32, 200])
def test_plus_slice_with_runtime_start_is_assignable(tmp_path, a):
    """p4c's type checker makes `x[lo +: w]` an l-value whenever `x` is one,
    whatever `lo`; bits past the top of `x` are dropped on write (and read 0)."""
    src = tmp_path / "prog.p4"
    src.write_text((_SKELETON % {"parser": _PARSER, "ingress": """
        bit<32> x = 0xF0F0F0F0;
        x[hdr.h.a +: 4] = hdr.h.b[3:0];
        x[hdr.h.d +: 8] = x[hdr.h.d +: 8] + 8w1;
        x[hdr.h.d +: 8] |= 8w0x40;
        set4(x[hdr.h.a +: 4], hdr.h.b[7:4]);
        hdr.h.c = x[hdr.h.a +: 8];
        hdr.h.b = x[31:24];
    """}).replace("control I(", "action set4(out bit<4> v, in bit<4> n) { v = n; }\ncontrol I("))
    r = compile_file(str(src))
    sw = Switch.from_json(r.json)
    for b, d in ((0x5A, 0), (0xC3, 24), (0xFF, 28), (0x00, 40)):
        x = 0xF0F0F0F0
        x = _ins(x, a, 4, b & 0xF)
        x = _ins(x, d, 8, (_ext(x, d, 8) + 1) & 0xFF)
        x = _ins(x, d, 8, _ext(x, d, 8) | 0x40)
        x = _ins(x, a, 4, b >> 4)
        want = bytes([a & 0xFF, x >> 24, _ext(x, a, 8), d])
        out = sw.process_packet(0, bytes([a & 0xFF, b, 0, d]))
        assert out == [(1, want)], (hex(x), b, d)


_PVS_PARSER = """
    value_set<pair_t>(4) pvs;
    value_set<bit<8>>(4) pvs1;
    state start { pk.extract(hdr.h); transition select(hdr.h.a, hdr.h.b) {
        %s: mark;
        default: accept; } }
    state mark { hdr.h.c = 1; transition accept; }
"""


def test_value_set_as_tuple_keyset_element_is_refused_as_p4c(tmp_path):
    """p4c's SimplifySelectCases lets `(pvs1, 7)` through, then p4c-bm2-ss's
    convertSimpleKey refuses the value-set element (BMv2 matches a parse_vset
    against the whole key): same located error, no compiler crash."""
    src = tmp_path / "prog.p4"
    src.write_text((_SKELETON % {"parser": _PVS_PARSER % "(pvs1, 7)", "ingress": ""})
                   .replace("struct meta_t", "struct pair_t { bit<8> x; bit<8> y; }\nstruct meta_t"))
    with pytest.raises(CompilerError) as ei:
        compile_file(str(src))
    d = ei.value.diagnostic
    assert d.message == "must evaluate to a compile-time constant" and d.kind == "invalid"
    assert d.location.line == src.read_text().splitlines().index("        (pvs1, 7): mark;") + 1


def test_value_set_as_whole_tuple_keyset_still_compiles(tmp_path):
    src = tmp_path / "prog.p4"
    src.write_text((_SKELETON % {"parser": _PVS_PARSER % "pvs", "ingress": ""})
                   .replace("struct meta_t", "struct pair_t { bit<8> x; bit<8> y; }\nstruct meta_t"))
    doc = compile_file(str(src)).json
    trans = doc["parsers"][0]["parse_states"][0]["transitions"]
    assert trans[0]["type"] == "parse_vset" and trans[0]["value"].endswith("pvs")
