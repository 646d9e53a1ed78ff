"""P4Info generation vs. the real p4c's reference P4Info files.

Compiles (front end + p4compiler.p4info_gen) every corpus program that has a
reference P4Info and compares protobuf-equal:
  * p4c-p4info/<name>.p4.p4info.txtpb  (p4c-stf + p4c-accept programs)
  * p4c-json/<name>.p4info.txtpb       (p4c-stf + p4c-p414-stf programs)
Prints the equal rate and, per difference, the first differing field; asserts
the rate stays at or above what the generator reached.  Also unit tests for the
naming rules of p4compiler.names and for the output formats.

Run: /work/main/.venv/bin/python -m pytest tests/test_compiler_p4info.py -q -s
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

google = pytest.importorskip("google.protobuf")
from google.protobuf import text_format

from p4compiler import names as N
from p4compiler import parse_file, parse_source
from p4compiler.p4info_gen import generate, serialize, to_bytes

CORPUS = Path(os.environ.get("P4LVS_CONFORMANCE", "/work/shared/conformance"))
#: equal-rate floors reached by the generator (fail if it regresses below)
MIN_RATE_P4INFO = 1.0
MIN_RATE_JSON_STF = 1.0
#: references that describe a different program than the corpus source of that name:
#: p4c-json/header-stack-ops-bmv2.{json,p4info.txtpb} are p4c's output for the *P4_14*
#: sample header-stack-ops-bmv2.p4 (tables op1_t_record_op, ...), while p4c-stf holds
#: the P4_16 program of the same name (no tables).
FOREIGN_REFERENCES = {("p4c-json", "header-stack-ops-bmv2")}
MIN_RATE_JSON_P414 = 1.0
MIN_RATE_ENTRIES = 1.0


def _p4info_pb2():
    from p4common.proto import p4info_pb2
    return p4info_pb2


def reference_pairs(folder: str) -> list[tuple[str, Path, Path]]:
    """(name, source .p4, reference p4info) for every reference in `folder`."""
    out = []
    ref_dir = CORPUS / folder
    if not ref_dir.is_dir():
        return out
    if folder == "p4c-p4info":
        refs = sorted(ref_dir.glob("*.p4.p4info.txtpb"))
        srcdirs = ["p4c-stf", "p4c-accept"]
        strip = ".p4.p4info.txtpb"
    else:
        refs = sorted(ref_dir.glob("*.p4info.txtpb"))
        srcdirs = ["p4c-stf", "p4c-p414-stf"]
        strip = ".p4info.txtpb"
    for ref in refs:
        name = ref.name[: -len(strip)]
        for d in srcdirs:
            src = CORPUS / d / f"{name}.p4"
            if src.exists():
                out.append((name, src, ref))
                break
    return out


def front_end(src: Path):
    """Parse + (when available and successful) type-check; returns what generate() takes."""
    prog = parse_file(str(src), include_dirs=[str(src.parent)])
    try:
        from p4compiler.frontend import check  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - front end not there yet: AST-only generation
        return prog
    try:
        from p4compiler.diagnostics import Diagnostics
        return check(prog, Diagnostics())
    except Exception:  # noqa: BLE001 - type checker gaps must not hide P4Info results
        return prog


def first_difference(a, b, path: str = "") -> str | None:
    """Path and values of the first field where messages a and b differ."""
    fields = {f.name: f for f in a.DESCRIPTOR.fields}
    for name, f in fields.items():
        va, vb = getattr(a, name), getattr(b, name)
        p = f"{path}.{name}" if path else name
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            if dict(va) != dict(vb):
                ka, kb = set(va.keys()), set(vb.keys())
                if ka != kb:
                    return f"{p}: keys {sorted(ka)} != {sorted(kb)}"
                for k in sorted(ka):
                    if va[k] != vb[k]:
                        if hasattr(va[k], "DESCRIPTOR"):
                            return first_difference(va[k], vb[k], f"{p}[{k}]")
                        return f"{p}[{k}]: {va[k]!r} != {vb[k]!r}"
            continue
        is_repeated = hasattr(va, "__len__") and not isinstance(va, (str, bytes)) \
            and not hasattr(va, "DESCRIPTOR")
        if is_repeated:
            for i in range(max(len(va), len(vb))):
                if i >= len(va) or i >= len(vb):
                    extra = vb[i] if i >= len(va) else va[i]
                    desc = str(extra).replace("\n", " ")[:120]
                    return f"{p}[{i}]: {'missing' if i >= len(va) else 'extra'} ({desc})"
                if va[i] != vb[i]:
                    if hasattr(va[i], "DESCRIPTOR"):
                        return first_difference(va[i], vb[i], f"{p}[{i}]")
                    return f"{p}[{i}]: {va[i]!r} != {vb[i]!r}"
        elif f.message_type is not None:
            if a.HasField(name) != b.HasField(name):
                return f"{p}: {'set' if a.HasField(name) else 'unset'} != {'set' if b.HasField(name) else 'unset'}"
            if va != vb:
                return first_difference(va, vb, p)
        elif va != vb:
            return f"{p}: {va!r} != {vb!r}"
    return None


def compare_folder(folder: str, entries: bool = False, srcdir: str | None = None,
                   normalize=None) -> tuple[int, int, list[str]]:
    pb = _p4info_pb2()
    from p4common.proto import p4runtime_pb2
    total, equal, report = 0, 0, []
    for name, src, ref in reference_pairs(folder):
        if srcdir is not None and src.parent.name != srcdir:
            continue
        if (folder, name) in FOREIGN_REFERENCES:
            report.append(f"{name}: skipped, the reference is of another program")
            continue
        if entries:
            ref = ref.with_name(ref.name.replace(".p4info.txtpb", ".entries.txtpb"))
            if not ref.exists():
                continue
        total += 1
        want = p4runtime_pb2.WriteRequest() if entries else pb.P4Info()
        text_format.Parse(ref.read_text(), want)
        try:
            out = generate(front_end(src))
            got = out.entries if entries else out.p4info
            if normalize is not None:
                normalize(got)
        except Exception as exc:  # noqa: BLE001 - reported per program
            report.append(f"{name}: ERROR {type(exc).__name__}: {exc}")
            continue
        if got == want:
            equal += 1
        else:
            report.append(f"{name}: {first_difference(got, want)}")
    return total, equal, report


def _rate(folder: str, floor: float, entries: bool = False, srcdir: str | None = None,
          normalize=None) -> None:
    total, equal, report = compare_folder(folder, entries, srcdir, normalize)
    if total == 0:
        pytest.skip(f"no references in {CORPUS / folder}")
    what = ("entries" if entries else "p4info") + (f" ({srcdir} programs)" if srcdir else "")
    print(f"\n{folder} {what}: {equal}/{total} equal ({100.0 * equal / total:.1f} %)")
    for line in report:
        print("  " + line)
    assert equal / total >= floor, f"{folder}: {equal}/{total} below {floor:.0%}"


def test_p4info_rate_p4c_p4info():
    _rate("p4c-p4info", MIN_RATE_P4INFO)


def test_p4info_rate_p4c_json_stf():
    _rate("p4c-json", MIN_RATE_JSON_STF, srcdir="p4c-stf")


def test_p4info_rate_p4c_json_p414():
    _rate("p4c-json", MIN_RATE_JSON_P414, srcdir="p4c-p414-stf")


def test_entries_rate():
    _rate("p4c-p4info", MIN_RATE_ENTRIES, entries=True)


def old_p4c_format(got, want) -> None:
    """Rewrite our P4Info into the shape the older p4c behind bmv2-testdata wrote:
    16-bit hashed ids are chosen at generation time; here we drop what it did not
    emit (pkg_info, type_info, initial_default_action, action-ref scope, NoAction's
    @noWarn) and use its ``@defaultonly()`` spelling."""
    if not want.HasField("pkg_info"):
        got.ClearField("pkg_info")
    if not want.HasField("type_info"):
        got.ClearField("type_info")
    old_refs = not any(r.scope for t in want.tables for r in t.action_refs)
    for t in got.tables:
        if not any(w.HasField("initial_default_action") for w in want.tables):
            t.ClearField("initial_default_action")
        for r in t.action_refs:
            if old_refs:
                r.ClearField("scope")
                fixed = ["@defaultonly()" if a == "@defaultonly" else a for a in r.annotations]
                del r.annotations[:]
                r.annotations.extend(fixed)
    for a in got.actions:
        if not any("@noWarn" in x for w in want.actions for x in w.preamble.annotations):
            keep = [x for x in a.preamble.annotations if not x.startswith("@noWarn")]
            del a.preamble.annotations[:]
            a.preamble.annotations.extend(keep)


def test_p4info_bmv2_testdata():
    """Extern-heavy programs (direct counters/meters, digest, action profile,
    optional/ternary keys) against behavioral-model's P4Info, written by an older
    p4c (16-bit id hashes, fewer fields): compared after old_p4c_format()."""
    from p4compiler.p4info_gen import P4InfoBuilder
    pb = _p4info_pb2()
    folder = CORPUS / "bmv2-testdata" / "simple_switch_grpc"
    refs = sorted(folder.glob("*.proto.txt"))
    if not refs:
        pytest.skip(f"no references in {folder}")
    equal, report = 0, []
    for ref in refs:
        want = pb.P4Info()
        text_format.Parse(ref.read_text(), want)
        prog = parse_file(str(ref.with_name(ref.name.replace(".proto.txt", ".p4"))))
        got = P4InfoBuilder(prog, hash_bits=16).build()
        old_p4c_format(got, want)
        if got == want:
            equal += 1
        else:
            report.append(f"{ref.name}: {first_difference(got, want)}")
    print(f"\nbmv2-testdata p4info: {equal}/{len(refs)} equal")
    for line in report:
        print("  " + line)
    assert equal == len(refs), report


# ------------------------------------------------------------- naming unit tests

PROG = r"""
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<16> b; }
struct H { h_t h; h_t[2] s; }
struct M { bit<4> m; }
parser P(packet_in p, out H hdr, inout M meta, inout standard_metadata_t sm) {
    state start { p.extract(hdr.h); transition accept; }
}
action top_a(bit<8> x) { }
control Sub(inout H hdr) {
    counter(32w16, CounterType.bytes) cnt;
    apply { cnt.count(32w1); }
}
control Ing(inout H hdr, inout M meta, inout standard_metadata_t sm) {
    Sub() sub;
    @name("renamed") action a(bit<9> port, @id(7) bit<16> v) { sm.egress_spec = port; }
    @name(".global_b") action b() { }
    @name(".tg") table t1 {
        key = { hdr.h.a : exact; hdr.s[1].b : ternary @name("sb"); hdr.h.isValid() : exact;
                hdr.h.b[7:0] : lpm; }
        actions = { a; b; @defaultonly top_a; }
        default_action = top_a(8w3);
    }
    table t2 { key = { meta.m : range; } actions = { a; } size = 64; }
    table never_applied { actions = { b; } }
    apply { t1.apply(); t2.apply(); sub.apply(hdr); }
}
control E(inout H hdr, inout M meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out p, in H hdr) { apply { } }
control V(inout H hdr, inout M meta) { apply { } }
V1Switch(P(), V(), Ing(), E(), V(), D()) main;
"""


@pytest.fixture(scope="module")
def unit_p4info():
    return generate(parse_source(PROG, "unit.p4")).p4info


def test_names_tables_actions(unit_p4info):
    tables = {t.preamble.name: t for t in unit_p4info.tables}
    assert set(tables) == {"tg", "Ing.t2"}
    actions = {a.preamble.name: a for a in unit_p4info.actions}
    assert {"Ing.renamed", "global_b", "top_a", "NoAction"} <= set(actions)
    assert tables["Ing.t2"].size == 64 and tables["tg"].size == 1024
    params = [(p.id, p.name, p.bitwidth) for p in actions["Ing.renamed"].params]
    assert params == [(1, "port", 9), (7, "v", 16)]


def test_names_match_fields(unit_p4info):
    t = next(t for t in unit_p4info.tables if t.preamble.name == "tg")
    got = [(m.id, m.name, m.bitwidth, m.match_type) for m in t.match_fields]
    assert got == [(1, "hdr.h.a", 8, 2), (2, "sb", 16, 4), (3, "hdr.h.$valid$", 1, 2),
                   (4, "hdr.h.b[7:0]", 8, 3)]


def test_default_actions(unit_p4info):
    pb = _p4info_pb2()
    ids = {a.preamble.name: a.preamble.id for a in unit_p4info.actions}
    t1 = next(t for t in unit_p4info.tables if t.preamble.name == "tg")
    assert t1.initial_default_action.action_id == ids["top_a"]
    assert [(x.param_id, x.value) for x in t1.initial_default_action.arguments] == [(1, b"\x03")]
    assert t1.action_refs[2].scope == pb.ActionRef.DEFAULT_ONLY
    t2 = next(t for t in unit_p4info.tables if t.preamble.name == "Ing.t2")
    last = t2.action_refs[-1]
    assert last.id == ids["NoAction"] and list(last.annotations) == ["@defaultonly"]


def test_nested_instance_names(unit_p4info):
    (c,) = unit_p4info.counters
    assert c.preamble.name == "Ing.sub.cnt" and c.size == 16
    assert c.spec.unit == _p4info_pb2().CounterSpec.BYTES


def test_ids_and_aliases(unit_p4info):
    from p4common.p4ids import P4IdPrefix, assign_ids
    t = next(t for t in unit_p4info.tables if t.preamble.name == "Ing.t2")
    assert t.preamble.id == assign_ids(P4IdPrefix.TABLE, ["tg", "Ing.t2"])["Ing.t2"]
    assert t.preamble.alias == "t2"


def test_name_helpers():
    prog = parse_source(PROG, "unit.p4")
    ing = next(d for d in prog.declarations if getattr(d, "name", "") == "Ing")
    a = next(d for d in ing.locals if getattr(d, "name", "") == "a")
    b = next(d for d in ing.locals if getattr(d, "name", "") == "b")
    assert N.action_name(a, ing) == "Ing.renamed"
    assert N.action_name(b, ing) == "global_b"
    assert N.qualify("ingress", ".x") == "x" and N.qualify("ingress", "x") == "ingress.x"


def test_output_formats(unit_p4info, tmp_path):
    pb = _p4info_pb2()
    from google.protobuf import json_format
    txt = serialize(unit_p4info, str(tmp_path / "x.txtpb")).decode()
    assert text_format.Parse(txt, pb.P4Info()) == unit_p4info
    js = serialize(unit_p4info, str(tmp_path / "x.json")).decode()
    assert json_format.Parse(js, pb.P4Info()) == unit_p4info
    bn = serialize(unit_p4info, str(tmp_path / "x.bin"))
    assert pb.P4Info.FromString(bn) == unit_p4info
    with pytest.raises(Exception, match="suffix"):
        serialize(unit_p4info, str(tmp_path / "x.yaml"))


def test_to_bytes():
    assert to_bytes(10, 32) == b"\x00\x00\x00\n"
    assert to_bytes(1, 9) == b"\x00\x01"
    assert to_bytes(-1, 8) == b"\xff"


FEATURES = r"""
#include <core.p4>
#include <v1model.p4>
enum bit<8> Color { RED = 1, GREEN = 2 }
type bit<16> Port_t;
header h_t { bit<8> a; bit<16> b; bit<32> c; }
@controller_header("packet_in") header pin_t { @id(2) bit<9> port; bit<7> pad; }
struct H { h_t h; pin_t pin; }
struct dg_t { bit<8> x; bit<16> y; }
struct M { bit<4> m; dg_t d; }
struct pvs_t { bit<8> f1; @match(ternary) bit<8> f2; }
parser P(packet_in p, out H hdr, inout M meta, inout standard_metadata_t sm) {
    value_set<bit<16>>(4) pvs1;
    value_set<pvs_t>(8) pvs2;
    state start { p.extract(hdr.h); transition select(hdr.h.b) { pvs1: accept; default: accept; } }
}
register<bit<32>>(128) global_reg;
control Ing(inout H hdr, inout M meta, inout standard_metadata_t sm) {
    direct_counter(CounterType.packets_and_bytes) dc;
    direct_meter<bit<8>>(MeterType.bytes) dm;
    meter(32w64, MeterType.packets) mtr;
    register<Color>(16) creg;
    action_selector(HashAlgorithm.crc16, 32w256, 32w14) sel;
    @brief("set color") action set_c(Color c, Port_t p) { }
    action a2(bit<8> v) { dm.read(hdr.h.a); }
    action send() { digest<dg_t>(1, meta.d); }
    @my_ann[k1="v", k2=3] table t1 { key = { hdr.h.a : exact; } actions = { a2; } counters = dc; meters = dm; }
    table t2 { key = { hdr.h.b : exact; hdr.h.a : selector; } actions = { set_c; } implementation = sel; }
    table t3 {
        key = { hdr.h.a : ternary; hdr.h.b : lpm; hdr.h.c : range; }
        actions = { a2; }
        const entries = {
            (8w0x10 &&& 8w0xf0, 16w0x1200 &&& 16w0xff00, 32w1 .. 32w9) : a2(8w7);
            (_, _, _) : a2(8w1);
        }
    }
    apply { t1.apply(); t2.apply(); t3.apply(); send(); global_reg.write(0, 1); creg.write(0, Color.RED); }
}
control E(inout H hdr, inout M meta, inout standard_metadata_t sm) { apply { } }
control D(packet_out p, in H hdr) { apply { } }
control V(inout H hdr, inout M meta) { apply { } }
@pkginfo(name="feat", version="1.2") V1Switch(P(), V(), Ing(), E(), V(), D()) main;
"""


@pytest.fixture(scope="module")
def feat_out():
    return generate(parse_source(FEATURES, "feat.p4"))


def test_externs(feat_out):
    info = feat_out.p4info
    pb = _p4info_pb2()
    tables = {t.preamble.name: t for t in info.tables}
    (dc,) = info.direct_counters
    (dm,) = info.direct_meters
    assert dc.preamble.name == "Ing.dc" and dc.spec.unit == pb.CounterSpec.BOTH
    assert dm.spec.unit == pb.MeterSpec.BYTES and dm.direct_table_id == tables["Ing.t1"].preamble.id
    assert list(tables["Ing.t1"].direct_resource_ids) == [dc.preamble.id, dm.preamble.id]
    (m,) = info.meters
    assert (m.preamble.name, m.size, m.spec.unit) == ("Ing.mtr", 64, pb.MeterSpec.PACKETS)
    (ap,) = info.action_profiles
    assert ap.with_selector and ap.size == 256 and list(ap.table_ids) == [tables["Ing.t2"].preamble.id]
    assert tables["Ing.t2"].implementation_id == ap.preamble.id
    assert [f.name for f in tables["Ing.t2"].match_fields] == ["hdr.h.b"]      # selector key hidden
    regs = {r.preamble.name: r for r in info.registers}
    assert regs["global_reg"].type_spec.bitstring.bit.bitwidth == 32 and regs["global_reg"].size == 128
    assert regs["Ing.creg"].type_spec.serializable_enum.name == "Color"
    assert info.type_info.serializable_enums["Color"].members[1].value == b"\x02"


def test_digest_value_sets_packet_metadata(feat_out):
    info = feat_out.p4info
    (d,) = info.digests
    assert d.preamble.name == "dg_t" and d.type_spec.struct.name == "dg_t"
    assert [m.name for m in info.type_info.structs["dg_t"].members] == ["x", "y"]
    vs = {v.preamble.name: v for v in info.value_sets}
    assert vs["P.pvs1"].size == 4 and vs["P.pvs1"].match[0].bitwidth == 16
    assert [(m.name, m.match_type) for m in vs["P.pvs2"].match] == [("f1", 2), ("f2", 4)]
    (cpm,) = info.controller_packet_metadata
    assert cpm.preamble.name == "packet_in"
    assert [(m.id, m.name, m.bitwidth) for m in cpm.metadata] == [(2, "port", 9), (3, "pad", 7)]


def test_annotations_pkginfo_types(feat_out):
    info = feat_out.p4info
    assert (info.pkg_info.name, info.pkg_info.version, info.pkg_info.arch) == ("feat", "1.2", "v1model")
    t1 = next(t for t in info.tables if t.preamble.name == "Ing.t1")
    (sa,) = t1.preamble.structured_annotations
    assert sa.name == "my_ann" and [kv.key for kv in sa.kv_pair_list.kv_pairs] == ["k1", "k2"]
    set_c = next(a for a in info.actions if a.preamble.name == "Ing.set_c")
    assert set_c.preamble.doc.brief == "set color"
    assert set_c.params[1].type_name.name == "Port_t" and set_c.params[1].bitwidth == 16
    assert "Port_t" in info.type_info.new_types


def test_const_entries(feat_out):
    (e1, e2) = [u.entity.table_entry for u in feat_out.entries.updates]
    assert [m.field_id for m in e1.match] == [1, 2, 3]
    assert (e1.match[0].ternary.value, e1.match[0].ternary.mask) == (b"\x10", b"\xf0")
    assert (e1.match[1].lpm.value, e1.match[1].lpm.prefix_len) == (b"\x12\x00", 8)
    assert (e1.match[2].range.low, e1.match[2].range.high) == (b"\x00\x00\x00\x01", b"\x00\x00\x00\x09")
    assert (e1.priority, e2.priority) == (2, 1) and e1.is_const
    assert list(e2.match) == []                                   # all don't-care
    assert e1.action.action.params[0].value == b"\x07"


def test_ast_only_matches_typed():
    """The AST-level type fallback gives the same P4Info as the front end's types."""
    try:
        from p4compiler.diagnostics import Diagnostics
        from p4compiler.frontend import check
    except ImportError:
        pytest.skip("front end not available")
    prog = parse_source(FEATURES, "feat.p4")
    try:
        typed = check(prog, Diagnostics())
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"front end rejects the sample: {exc}")
    assert generate(typed).p4info == generate(prog).p4info


def test_duplicate_id_is_a_located_error():
    from p4compiler.diagnostics import CompilerError
    src = PROG.replace("table t2 {", "@id(1) table t2 {").replace("@name(\".tg\") table t1 {",
                                                                 "@id(1) @name(\".tg\") table t1 {")
    with pytest.raises(CompilerError, match="multiple"):
        generate(parse_source(src, "dup.p4"))


def test_p4runtime_translation():
    src = PROG.replace("header h_t {", '@p4runtime_translation("p4.org/port", 32) type bit<9> PortT;\nheader h_t {')
    src = src.replace("action a(bit<9> port,", "action a(PortT port,")
    info = generate(parse_source(src, "tr.p4")).p4info
    a = next(x for x in info.actions if x.preamble.name == "Ing.renamed")
    assert (a.params[0].bitwidth, a.params[0].type_name.name) == (32, "PortT")
    tt = info.type_info.new_types["PortT"].translated_type
    assert (tt.uri, tt.sdn_bitwidth) == ("p4.org/port", 32)


def test_key_names_masks_and_complex_keys():
    from p4compiler.diagnostics import CompilerError
    src = PROG.replace("table t2 { key = { meta.m : range; }", "table t2 { key = { meta.m & 4w3 : range; }")
    info = generate(parse_source(src, "mask.p4")).p4info
    t2 = next(t for t in info.tables if t.preamble.name == "Ing.t2")
    assert [(m.name, m.bitwidth) for m in t2.match_fields] == [("meta.m", 4)]
    bad = PROG.replace("table t2 { key = { meta.m : range; }", "table t2 { key = { meta.m + 4w1 : range; }")
    with pytest.raises(CompilerError, match="Complex key expression requires a @name annotation"):
        generate(parse_source(bad, "complex.p4"))


def test_duplicate_names_rejected():
    from p4compiler.diagnostics import CompilerError
    src = PROG.replace("control Sub(inout H hdr) {", """control Sub(inout H hdr) {
    table st { actions = { NoAction; } }""").replace("apply { cnt.count(32w1); }",
                                                     "apply { cnt.count(32w1); st.apply(); }")
    src = src.replace("    Sub() sub;", '    @name("x") Sub() sub;\n    @name("x") Sub() sub2;')
    src = src.replace("sub.apply(hdr); }", "sub.apply(hdr); sub2.apply(hdr); }")
    with pytest.raises(CompilerError, match="Name 'Ing.x.st' is used for multiple table objects"):
        generate(parse_source(src, "dups.p4"))


def test_write_p4runtime_files(tmp_path):
    from p4common.proto import p4runtime_pb2
    from p4compiler.diagnostics import CompilerError
    from p4compiler.p4info_gen import write_p4runtime_files
    pb = _p4info_pb2()
    prog = parse_source(FEATURES, "feat.p4")
    files = [str(tmp_path / "p.txt"), str(tmp_path / "p.json"), str(tmp_path / "p.bin")]
    out = write_p4runtime_files(prog, files, [str(tmp_path / "e.txtpb")])
    assert text_format.Parse((tmp_path / "p.txt").read_text(), pb.P4Info()) == out.p4info
    assert pb.P4Info.FromString((tmp_path / "p.bin").read_bytes()) == out.p4info
    entries = text_format.Parse((tmp_path / "e.txtpb").read_text(), p4runtime_pb2.WriteRequest())
    assert len(entries.updates) == 2
    with pytest.raises(CompilerError, match="Couldn't open P4Runtime API file"):
        write_p4runtime_files(prog, [str(tmp_path / "missing-dir" / "p.txt")])
