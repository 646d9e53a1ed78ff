"""p4common.p4ids (p4c's P4Info id/alias scheme) and p4common.p4info (P4InfoIndex)."""

from __future__ import annotations

from pathlib import Path

import pytest

from p4common.p4ids import (
    IdAllocator,
    P4IdError,
    P4IdPrefix,
    assign_ids,
    control_plane_name,
    explicit_id,
    jenkins_one_at_a_time,
    make_id,
    probe_id,
    sequential_ids,
    shortest_unique_suffixes,
)
from p4common.p4info import EntityKind, P4InfoError, P4InfoIndex, P4InfoLookupError, load_p4info


# the `proto` fixture (generated P4Runtime modules) is in conftest.py


# ------------------------------------------------------------------ hash and ids


def test_jenkins_known_values():
    # Published test vectors of the one-at-a-time hash.
    assert jenkins_one_at_a_time("a") == 0xCA2E9442
    assert jenkins_one_at_a_time("The quick brown fox jumps over the lazy dog") == 0x519E91F5
    assert jenkins_one_at_a_time(b"") == 0


def test_ids_from_p4c_reference_outputs():
    # NoAction's id as it appears in p4c's reference P4Info files (21257015).
    assert assign_ids(P4IdPrefix.ACTION, ["NoAction"]) == {"NoAction": 0x01445B37}


def test_sorted_order_and_linear_probing():
    # Force a collision by reserving the first name's natural slot with @id.
    natural = make_id(P4IdPrefix.TABLE, jenkins_one_at_a_time("b"))
    alloc = IdAllocator()
    alloc.add(P4IdPrefix.TABLE, "zzz", natural)  # @id wins and takes b's slot
    alloc.add(P4IdPrefix.TABLE, "b")
    ids = alloc.assign()
    assert ids[(P4IdPrefix.TABLE, "zzz")] == natural
    assert ids[(P4IdPrefix.TABLE, "b")] == natural + 1


def test_probe_wraps_inside_the_prefix():
    top = make_id(P4IdPrefix.COUNTER, 0xFFFFFF)
    assert probe_id(P4IdPrefix.COUNTER, 0xFFFFFF, {top}) == make_id(P4IdPrefix.COUNTER, 0)
    # the 32-bit hash value wraps too
    assert probe_id(P4IdPrefix.COUNTER, 0xFFFFFFFF, {top}) == make_id(P4IdPrefix.COUNTER, 0)
    # a full space is reported, not looped on forever
    assert probe_id(P4IdPrefix.COUNTER, 5, {make_id(0x12, 0), make_id(0x12, 1)}, hash_bits=1) is None


def test_explicit_id_rules():
    assert explicit_id(P4IdPrefix.TABLE, "t", 5) == 0x02000005
    assert explicit_id(P4IdPrefix.TABLE, "t", 0x02000005) == 0x02000005
    with pytest.raises(P4IdError, match="prefix"):
        explicit_id(P4IdPrefix.TABLE, "t", 0x01000005)
    alloc = IdAllocator()
    alloc.add(P4IdPrefix.ACTION, "a", 7)
    alloc.add(P4IdPrefix.ACTION, "b", 7)
    with pytest.raises(P4IdError, match="multiple"):
        alloc.assign()


def test_duplicate_name_first_wins_and_kinds_are_separate():
    alloc = IdAllocator()
    alloc.add(P4IdPrefix.COUNTER, "c", 1)
    alloc.add(P4IdPrefix.COUNTER, "c", 2)
    alloc.add(P4IdPrefix.DIRECT_COUNTER, "c")
    ids = alloc.assign()
    assert ids[(P4IdPrefix.COUNTER, "c")] == 0x12000001
    assert ids[(P4IdPrefix.DIRECT_COUNTER, "c")] >> 24 == 0x13


def test_aliases():
    al = shortest_unique_suffixes(["d.a.c", "e.b.c", "x.y", "NoAction", "b.c.q", "c.q"])
    assert al["d.a.c"] == "a.c" and al["e.b.c"] == "b.c"
    assert al["x.y"] == "y" and al["NoAction"] == "NoAction"
    assert al["c.q"] == "c.q"  # a suffix of another name: full name
    assert al["b.c.q"] == "b.c.q"


def test_control_plane_name():
    assert control_plane_name(".t") == "t"
    assert control_plane_name("MyIngress.t") == "MyIngress.t"
    assert control_plane_name("..x") == ".x"


def test_sequential_ids():
    assert sequential_ids(["a", "b", "c"], {"b": 9}) == {"a": 1, "b": 9, "c": 3}


# ------------------------------------------------------- against p4c's outputs


def _recompute(info, hash_bits: int = 24):
    """Recompute (name -> id, name -> alias) from the P4Info's names only."""
    alloc = IdAllocator(hash_bits=hash_bits)
    for kind in EntityKind:
        for ent in getattr(info, kind.field_name):
            alloc.add(kind.prefix, ent.preamble.name)
    return alloc.assign(), alloc.aliases()


def _compare(info, hash_bits: int = 24) -> tuple[int, list[str]]:
    ids, aliases = _recompute(info, hash_bits)
    checked, bad = 0, []
    for kind in EntityKind:
        for ent in getattr(info, kind.field_name):
            pre = ent.preamble
            checked += 2
            if ids[(int(kind.prefix), pre.name)] != pre.id:
                bad.append(f"id {pre.name}: want 0x{pre.id:08x} got 0x{ids[(int(kind.prefix), pre.name)]:08x}")
            if aliases[pre.name] != pre.alias:
                bad.append(f"alias {pre.name}: want {pre.alias} got {aliases[pre.name]}")
    # sub-item ids: match fields, params, packet metadata are 1..n in order
    for seq in ([t.match_fields for t in info.tables] + [a.params for a in info.actions]
                + [c.metadata for c in info.controller_packet_metadata]):
        want = {x.name: x.id for x in seq}
        checked += len(want)
        if sequential_ids(x.name for x in seq) != want:
            bad.append(f"sequential ids {want}")
    return checked, bad


def _reference_files(conformance_dir: Path) -> list[Path]:
    return sorted((conformance_dir / "p4c-json").glob("*.p4info.txtpb")) + sorted(
        (conformance_dir / "p4c-p4info").glob("*.p4info.txtpb"))


def test_every_reference_id_and_alias_recomputed(proto, conformance_dir):
    from google.protobuf import text_format

    files = _reference_files(conformance_dir)
    assert len(files) > 100
    total, failures = 0, []
    for f in files:
        info = text_format.Parse(f.read_text(), proto.p4info_pb2.P4Info())
        n, bad = _compare(info)
        total += n
        failures += [f"{f.name}: {b}" for b in bad]
    print(f"\nrecomputed {total} P4Info ids/aliases from {len(files)} p4c reference files; "
          f"{len(failures)} differ")
    assert total > 1000
    assert not failures, "\n".join(failures[:20])


def test_legacy_16bit_p4info(proto, conformance_dir):
    """BMv2's test P4Infos were written by an old p4c that kept 16 hash bits."""
    from google.protobuf import text_format

    files = sorted((conformance_dir / "bmv2-testdata").rglob("*.proto.txt"))
    if not files:
        pytest.skip("no bmv2 testdata P4Info")
    total = 0
    for f in files:
        info = text_format.Parse(f.read_text(), proto.p4info_pb2.P4Info())
        n, bad = _compare(info, hash_bits=16)
        assert not bad, (f.name, bad)
        total += n
    assert total > 20


# ------------------------------------------------------------------ P4InfoIndex


@pytest.fixture(scope="module")
def index(proto, conformance_dir):
    # a program with an action selector shared by two tables
    path = conformance_dir / "p4c-p4info" / "action_selector_shared-bmv2.p4.p4info.txtpb"
    if not path.exists():
        pytest.skip(f"{path.name} not in the corpus")
    return P4InfoIndex(load_p4info(path))


def _sample_info(proto):
    p = proto.p4info_pb2
    info = p.P4Info()
    t = info.tables.add()
    t.preamble.id, t.preamble.name, t.preamble.alias = 0x02000010, "MyIngress.ipv4_lpm", "ipv4_lpm"
    t.match_fields.add(id=1, name="hdr.ipv4.dstAddr", bitwidth=32, match_type=p.MatchField.LPM)
    a = info.actions.add()
    a.preamble.id, a.preamble.name, a.preamble.alias = 0x01000020, "MyIngress.ipv4_forward", "ipv4_forward"
    a.params.add(id=1, name="dstAddr", bitwidth=48)
    a.params.add(id=2, name="port", bitwidth=9)
    d = info.actions.add()
    d.preamble.id, d.preamble.name, d.preamble.alias = 0x01000021, "MyIngress.drop", "drop"
    t.action_refs.add(id=a.preamble.id)
    c = info.controller_packet_metadata.add()
    c.preamble.id, c.preamble.name, c.preamble.alias = 0x04000001, "packet_in", "packet_in"
    c.metadata.add(id=1, name="ingress_port", bitwidth=9)
    r = info.registers.add()
    r.preamble.id, r.preamble.name, r.preamble.alias = 0x16000003, "MyIngress.reg", "reg"
    return info


def test_index_lookups(proto):
    idx = P4InfoIndex(_sample_info(proto))
    t = idx.tables["ipv4_lpm"]
    assert idx.tables["MyIngress.ipv4_lpm"] is t and idx.tables[0x02000010] is t
    assert idx.table("ipv4_lpm") is t and "ipv4_lpm" in idx.tables and "nope" not in idx.tables
    assert idx.match_field(t, "hdr.ipv4.dstAddr").bitwidth == 32
    assert idx.match_field("ipv4_lpm", 1).name == "hdr.ipv4.dstAddr"
    assert idx.param("ipv4_forward", "port").bitwidth == 9
    assert idx.param(0x01000020, 1).name == "dstAddr"
    assert idx.packet_metadata_field("packet_in", "ingress_port").id == 1
    assert idx.registers["reg"].preamble.id == 0x16000003
    assert idx.by_id(0x16000003).preamble.name == "MyIngress.reg"
    assert idx.kind_of(0x16000003) is EntityKind.REGISTER
    assert [a.preamble.name for a in idx.table_actions(t)] == ["MyIngress.ipv4_forward"]
    assert idx.table_action(t, "ipv4_forward").preamble.id == 0x01000020
    assert len(idx.actions) == 2 and len(idx.counters) == 0


def test_index_misses_suggest(proto):
    idx = P4InfoIndex(_sample_info(proto))
    with pytest.raises(P4InfoLookupError, match=r"no table 'ipv4_lmp'.*did you mean 'ipv4_lpm'"):
        idx.tables["ipv4_lmp"]
    with pytest.raises(P4InfoLookupError, match=r"no parameter 'prot' in action 'MyIngress.ipv4_forward'.*'port'"):
        idx.param("ipv4_forward", "prot")
    with pytest.raises(P4InfoLookupError, match=r"dstAddr"):
        idx.match_field("ipv4_lpm", "hdr.ipv4.dstAdr")
    with pytest.raises(P4InfoLookupError, match=r"0x02000099"):
        idx.tables[0x02000099]
    with pytest.raises(P4InfoLookupError, match="table 'MyIngress.ipv4_lpm'.*MyIngress.ipv4_forward"):
        idx.table_action("ipv4_lpm", "drop")  # exists, but not an action of this table
    with pytest.raises(KeyError, match=r"known: MyIngress.ipv4_forward, MyIngress.drop"):
        idx.actions["zzz"]  # nothing close: the (short) list of what exists
    with pytest.raises(P4InfoLookupError, match=r"no counter 'c' \(there are none\)"):
        idx.counters["c"]


def test_index_rejects_inconsistent_p4info(proto):
    info = _sample_info(proto)
    dup = info.tables.add()
    dup.preamble.id, dup.preamble.name = 0x02000010, "other"
    with pytest.raises(P4InfoError, match="two tables with id 0x02000010"):
        P4InfoIndex(info)
    info = _sample_info(proto)
    info.tables[0].preamble.id = 0x01000010
    with pytest.raises(P4InfoError, match="prefix"):
        P4InfoIndex(info)


def test_index_on_reference_file(index):
    assert len(index.tables) > 0
    for t in index.tables:
        assert index.tables[t.preamble.alias] is t
        for mf in t.match_fields:
            assert index.match_field(t, mf.name) is index.match_field(t, mf.id)
        for act in index.table_actions(t):
            for p in act.params:
                assert index.param(act, p.name).id == p.id
    assert len(index.action_profiles) == 1
    for ap in index.action_profiles:
        assert index.action_profiles[ap.preamble.id] is ap
        assert index.action_profiles[ap.preamble.name] is ap
        assert ap.with_selector
        for tid in ap.table_ids:
            assert index.tables[tid].implementation_id == ap.preamble.id


def test_load_p4info_errors(proto, tmp_path):
    bad = tmp_path / "x.p4info.txtpb"
    bad.write_text("tables { nonsense: 1 }\n")
    with pytest.raises(P4InfoError, match="not a text-format P4Info"):
        load_p4info(bad)
    with pytest.raises(P4InfoError, match="cannot read"):
        load_p4info(tmp_path / "missing.txtpb")
    binary = tmp_path / "x.bin"
    binary.write_bytes(_sample_info(proto).SerializeToString())
    assert load_p4info(binary).tables[0].preamble.name == "MyIngress.ipv4_lpm"
