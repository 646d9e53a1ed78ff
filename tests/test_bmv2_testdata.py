"""BMv2's own test programs (``shared/conformance/bmv2-testdata``) on p4sw.

Each test re-expresses an upstream C++ test of p4lang/behavioral-model
(``targets/simple_switch_grpc/tests/test_<name>.cpp``,
``targets/simple_switch/tests/test_parser_error.cpp``, and the runtime_CLI value-set
commands that ``pvs_struct_2.json`` was added for) through ``Switch`` and
``RuntimeApi`` instead of gRPC: same entries, same packets, same expected outputs,
counter values, digests and meter colours.  Where the upstream test exercises a
P4Runtime-only notion (priority 0 is invalid, digest acks, port oper status) the
test is left to the P4Runtime server's suite and noted here instead.

Control-plane operations go through ``RuntimeApi.run_command`` with
simple_switch_CLI syntax, so they follow ``bmv2-docs/runtime_CLI.md``.
P4Runtime priorities (larger wins) become BMv2 priorities (smaller wins) as
``PRIO_BASE - p``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

PRIO_BASE = 1 << 16


@pytest.fixture(scope="module")
def testdata(conformance_dir: Path) -> Path:
    path = conformance_dir / "bmv2-testdata"
    if not path.is_dir():
        pytest.skip(f"no bmv2-testdata folder under {conformance_dir}")
    return path


class Target:
    """A loaded program: the switch, its runtime API and a few helpers."""

    def __init__(self, json_path: Path):
        from p4switch.runtime_api import RuntimeApi
        from p4switch.switch import Switch

        self.switch = Switch.from_json(json_path.read_bytes())
        self.api = RuntimeApi(self.switch)

    def cli(self, line: str) -> str:
        out = self.api.run_command(line)
        return "" if out is None else str(out)

    def add(self, line: str) -> int:
        """A table_add-like CLI command; returns the entry/member/group handle."""
        out = self.cli(line)
        m = re.search(r"handle (\d+)", out)
        assert m, f"no handle in the output of {line!r}: {out!r}"
        return int(m.group(1))

    def send(self, port: int, data: bytes) -> list[tuple[int, bytes]]:
        return [(p, bytes(d)) for p, d in self.switch.process_packet(port, data)]


def load(testdata: Path, sub: str, name: str) -> Target:
    return Target(testdata / sub / f"{name}.json")


# --------------------------------------------------------------------------- parser_error
# targets/simple_switch/tests/test_parser_error.cpp: the parser extracts a 32-bit
# header and verify()s f1 < 10; ingress writes a code for parser_error into f1
# (NoError 0, PacketTooShort 1 after setValid(), CustomError 2) and sends the
# packet back to its ingress port.  Errors never drop the packet.


@pytest.fixture
def parser_error(testdata):
    return load(testdata, "simple_switch", "parser_error")


def test_parser_error_no_error(parser_error):
    out = parser_error.send(1, bytes(4))
    assert out == [(1, bytes([0, 0, 0, 0]))]


def test_parser_error_packet_too_short(parser_error):
    # The 2 bytes are never extracted (too short) and stay as payload; ingress
    # makes the header valid, so 4 bytes are prepended: 6 bytes, f1 = 1.
    out = parser_error.send(1, bytes(2))
    assert out == [(1, bytes([0, 0, 0, 1, 0, 0]))]


def test_parser_error_custom_error(parser_error):
    out = parser_error.send(1, bytes([0, 0, 0, 0xAB]))
    assert out == [(1, bytes([0, 0, 0, 2]))]


# --------------------------------------------------------------------------- multicast
# test_pre.cpp, Multicast.2Rids3Ports: ingress sets mcast_grp from the first 16
# bits; egress overwrites them with egress_rid.  A replica is (port, rid).


def _replicas(out) -> set[tuple[int, int]]:
    return {(port, int.from_bytes(data[:2], "big")) for port, data in out}


def test_multicast_2rids_3ports(testdata):
    t = load(testdata, "simple_switch_grpc", "multicast")
    t.cli("mc_mgrp_create 10")
    n1 = t.add("mc_node_create 1 1")
    n2 = t.add("mc_node_create 2 2")
    t.cli(f"mc_node_associate 10 {n1}")
    t.cli(f"mc_node_associate 10 {n2}")
    pkt = (10).to_bytes(2, "big")
    out = t.send(1, pkt)
    assert len(out) == 2 and _replicas(out) == {(1, 1), (2, 2)}

    # Modify the group: a third replica (port 3, rid 1) joins rid 1's node.
    t.cli(f"mc_node_update {n1} 1 3")
    out = t.send(1, pkt)
    assert len(out) == 3 and _replicas(out) == {(1, 1), (3, 1), (2, 2)}

    # And leaves again.
    t.cli(f"mc_node_update {n1} 1")
    out = t.send(1, pkt)
    assert len(out) == 2 and _replicas(out) == {(1, 1), (2, 2)}

    # Group deleted: a packet to a group that does not exist is dropped.
    t.cli("mc_mgrp_destroy 10")
    assert t.send(1, pkt) == []


def test_multicast_payload_carried_through(testdata):
    t = load(testdata, "simple_switch_grpc", "multicast")
    t.cli("mc_mgrp_create 7")
    n = t.add("mc_node_create 5 4")
    t.cli(f"mc_node_associate 7 {n}")
    out = t.send(1, bytes([0, 7, 0xDE, 0xAD]))
    assert out == [(4, bytes([0, 5, 0xDE, 0xAD]))]


# --------------------------------------------------------------------------- clone
# test_pre.cpp, Clone.SingletonAndMulticast: ingress clones (I2E) to the session
# named by the first 16 bits and sends the original back to the ingress port;
# egress writes egress_rid into the first 16 bits (0 for the original).  A
# P4Runtime clone session with replicas is a mirroring session to a multicast
# group (mirroring_add_mc) whose nodes carry the replicas' rids.


def test_clone_singleton_and_multicast(testdata):
    t = load(testdata, "simple_switch_grpc", "clone")
    mgrp = 1000
    t.cli(f"mc_mgrp_create {mgrp}")
    n1 = t.add("mc_node_create 1 2")          # replica (port 2, rid 1)
    t.cli(f"mc_node_associate {mgrp} {n1}")
    t.cli(f"mirroring_add_mc 10 {mgrp}")
    pkt = (10).to_bytes(2, "big")
    out = t.send(1, pkt)
    assert len(out) == 2 and _replicas(out) == {(2, 1), (1, 0)}

    n2 = t.add("mc_node_create 2 3")          # + replica (port 3, rid 2)
    t.cli(f"mc_node_associate {mgrp} {n2}")
    out = t.send(1, pkt)
    assert len(out) == 3 and _replicas(out) == {(2, 1), (3, 2), (1, 0)}

    t.cli("mirroring_delete 10")
    assert t.send(1, pkt) == [(1, bytes(2))]


def test_clone_to_port_session(testdata):
    # simple_switch_CLI form of a singleton session: mirroring_add <id> <port>;
    # the clone's egress_rid is 0.
    t = load(testdata, "simple_switch_grpc", "clone")
    t.cli("mirroring_add 10 2")
    out = t.send(1, (10).to_bytes(2, "big"))
    assert sorted(out) == [(1, bytes(2)), (2, bytes(2))]
    # A packet naming a session that does not exist is not cloned.
    assert t.send(1, (11).to_bytes(2, "big")) == [(1, bytes(2))]


# --------------------------------------------------------------------------- counter
# test_counter.cpp, CounterHit: t_redirect matches standard_metadata.packet_length
# (exact, 32 bits) and counts in a direct counter; two entries (10 and 5), one
# packet of each length: each entry reads (1 packet, its length in bytes).


def _direct_counter(t: Target, table: str, counter: str, handle: int) -> tuple[int, int]:
    out = t.cli(f"counter_read {counter} {handle}")
    m = re.search(r"packets=(\d+),\s*bytes=(\d+)", out)
    assert m, f"unexpected counter_read output {out!r}"
    via_cli = (int(m.group(1)), int(m.group(2)))
    via_table = t.switch.tables[table].read_counters(handle)
    assert tuple(via_table) == via_cli
    return via_cli


def test_counter_hit(testdata):
    t = load(testdata, "simple_switch_grpc", "counter")
    h10 = t.add("table_add t_redirect port_redirect 10 =>")
    h5 = t.add("table_add t_redirect port_redirect 5 =>")
    for n in (10, 5):
        pkt = b"\xab" * n
        assert t.send(1, pkt) == [(1, pkt)]
    assert _direct_counter(t, "t_redirect", "cntr", h10) == (1, 10)
    assert _direct_counter(t, "t_redirect", "cntr", h5) == (1, 5)


def test_counter_miss_is_not_counted_and_reset(testdata):
    t = load(testdata, "simple_switch_grpc", "counter")
    h10 = t.add("table_add t_redirect port_redirect 10 =>")
    # Miss: default action NoAction, egress_spec stays 0 -> out on port 0.
    assert t.send(1, b"\xab" * 7) == [(0, b"\xab" * 7)]
    assert _direct_counter(t, "t_redirect", "cntr", h10) == (0, 0)
    t.send(1, b"\xab" * 10)
    t.send(2, b"\xcd" * 10)
    assert _direct_counter(t, "t_redirect", "cntr", h10) == (2, 20)
    t.cli("counter_reset cntr")
    assert _direct_counter(t, "t_redirect", "cntr", h10) == (0, 0)


# --------------------------------------------------------------------------- digest
# test_digest.cpp, OneSample: table smac misses (default send_digest) and the
# switch emits one L2_digest sample {smac, ingress_port}; the packet goes back to
# its ingress port.  (Digest acks and list sizes belong to the P4Runtime server.)


def _drain_digests(t: Target) -> list:
    got = list(t.switch.digests)
    t.switch.digests.clear()
    return got


def _digest_values(d) -> tuple:
    """The field values of one digest message, whatever its container."""
    for attr in ("values", "fields", "data"):
        v = getattr(d, attr, None)
        if v is not None:
            return tuple(v)
    if isinstance(d, tuple) and len(d) == 2 and isinstance(d[1], (list, tuple)):
        return tuple(d[1])
    return tuple(d)


def _digest_name(d) -> str | None:
    name = getattr(d, "name", None)
    if name is None and isinstance(d, tuple) and len(d) == 2 and isinstance(d[0], str):
        name = d[0]
    return name


def test_digest_one_sample(testdata):
    t = load(testdata, "simple_switch_grpc", "digest")
    smac = bytes.fromhex("112233445566")
    pkt = bytes([1] * 6) + smac + b"\xab\xab"
    assert t.send(1, pkt) == [(1, pkt)]
    digests = _drain_digests(t)
    assert len(digests) == 1
    assert _digest_values(digests[0]) == (0x112233445566, 1)
    name = _digest_name(digests[0])
    assert name is None or name == "L2_digest"


def test_digest_not_sent_on_hit(testdata):
    t = load(testdata, "simple_switch_grpc", "digest")
    smac = bytes.fromhex("112233445566")
    t.add("table_add ingress.smac NoAction 0x112233445566 =>")
    pkt = bytes([1] * 6) + smac + b"\xab\xab"
    assert t.send(3, pkt) == [(3, pkt)]
    assert _drain_digests(t) == []
    other = bytes([1] * 6) + bytes.fromhex("0a0b0c0d0e0f") + b"\xab\xab"
    t.send(3, other)
    digests = _drain_digests(t)
    assert [_digest_values(d) for d in digests] == [(0x0A0B0C0D0E0F, 3)]


# --------------------------------------------------------------------------- meter
# test_meter.cpp, ReadDefault: a new entry's direct meter has no configuration
# (reads back empty) and meters nothing (GREEN).  The colour lands in metadata
# that is not emitted, so the packet path is checked by the tokens it consumes:
# with rates set (packets meter, rates per microsecond, BMv2 trTCM: PIR bucket
# first, then CIR), GREEN, YELLOW, RED follow once the buckets are drained.

GREEN, YELLOW, RED = 0, 1, 2


def _meter_cell(t: Target, handle: int):
    return t.switch.tables["ingress.t_redirect"].get_entry(handle).meter


def test_meter_read_default(testdata):
    t = load(testdata, "simple_switch_grpc", "meter")
    h = t.add("table_add ingress.t_redirect ingress.port_redirect 1 =>")
    assert t.send(1, b"\x00" * 20) == [(1, b"\x00" * 20)]
    cell = _meter_cell(t, h)
    assert cell is not None
    assert not list(cell.get_rates())               # no config read back
    assert all(cell.execute(64) == GREEN for _ in range(10))


def test_meter_colours_through_the_pipeline(testdata):
    t = load(testdata, "simple_switch_grpc", "meter")
    h = t.add("table_add ingress.t_redirect ingress.port_redirect 1 =>")
    # CIR: ~0 tokens/us, burst 1; PIR: ~0 tokens/us, burst 2 (no refill during the test).
    t.cli(f"meter_set_rates ingress.mtr {h} 0.000000001:1 0.000000001:2")
    cell = _meter_cell(t, h)
    assert [tuple(r) for r in cell.get_rates()] == [(0.000000001, 1), (0.000000001, 2)]
    # Packet 1: GREEN (both buckets pay); packet 2: YELLOW (PIR pays, CIR empty).
    for _ in range(2):
        assert t.send(1, b"\x00" * 20) == [(1, b"\x00" * 20)]
    # Both buckets are now empty: the next packet is RED.
    assert cell.execute(20) == RED


def test_meter_colour_sequence(testdata):
    t = load(testdata, "simple_switch_grpc", "meter")
    h = t.add("table_add ingress.t_redirect ingress.port_redirect 1 =>")
    t.cli(f"meter_set_rates ingress.mtr {h} 0.000000001:1 0.000000001:2")
    cell = _meter_cell(t, h)
    assert [cell.execute(20) for _ in range(4)] == [GREEN, YELLOW, RED, RED]


# --------------------------------------------------------------------------- ternary / optional
# test_ternary.cpp and test_optional.cpp: send_1 -> port 1, send_2 -> port 2,
# default NoAction (egress_spec 0).


def test_ternary_priority_order(testdata):
    t = load(testdata, "simple_switch_grpc", "ternary")
    lo, hi = 128, 333
    t.add(f"table_add ingress.ter ingress.send_1 0xaabb&&&0xffff => {PRIO_BASE - lo}")
    assert t.send(3, b"\xaa\xbb") == [(1, b"\xaa\xbb")]
    t.add(f"table_add ingress.ter ingress.send_2 0xaa0b&&&0xff0f => {PRIO_BASE - hi}")
    assert t.send(3, b"\xaa\xbb") == [(2, b"\xaa\xbb")]
    # A packet that only the low-priority entry matches, and one that none does.
    assert t.send(3, b"\xaa\xbc") == [(0, b"\xaa\xbc")]
    assert t.send(3, b"\xab\x0b") == [(0, b"\xab\x0b")]


def test_ternary_read_entry(testdata):
    from p4switch.tables import Ternary

    t = load(testdata, "simple_switch_grpc", "ternary")
    h = t.add(f"table_add ingress.ter ingress.send_1 0xaabb&&&0xffff => {PRIO_BASE - 128}")
    e = t.switch.tables["ingress.ter"].get_entry(h)
    assert e.action.name == "ingress.send_1"
    assert e.priority == PRIO_BASE - 128
    assert list(e.match) == [Ternary(0xAABB, 0xFFFF)]


def test_optional_both_entries(testdata):
    t = load(testdata, "simple_switch_grpc", "optional")
    lo, hi = 128, 333
    # Wildcard entry (low priority), then an exact-value entry (high priority).
    t.add(f"table_add ingress.opt ingress.send_1 0&&&0 => {PRIO_BASE - lo}")
    h_hi = t.add(f"table_add ingress.opt ingress.send_2 0xaabb&&&0xffff => {PRIO_BASE - hi}")
    assert t.send(3, b"\xaa\xbb") == [(2, b"\xaa\xbb")]      # non-wildcard entry
    assert t.send(3, b"\xaa\xbc") == [(1, b"\xaa\xbc")]      # wildcard entry
    t.cli(f"table_delete ingress.opt {h_hi}")
    assert t.send(3, b"\xaa\xbb") == [(1, b"\xaa\xbb")]      # wildcard entry


def test_optional_duplicate_entry_rejected(testdata):
    from p4switch.errors import SwitchError

    t = load(testdata, "simple_switch_grpc", "optional")
    t.add(f"table_add ingress.opt ingress.send_1 0xaabb&&&0xffff => {PRIO_BASE - 128}")
    with pytest.raises(SwitchError):
        t.cli(f"table_add ingress.opt ingress.send_2 0xaabb&&&0xffff => {PRIO_BASE - 128}")


# --------------------------------------------------------------------------- action_profile
# test_action_profile.cpp, DeleteGroupWithMembers: members and a group are
# created, the group is deleted while it still has members, the members are
# deleted; then a member and a group with only that member are created again and
# a table entry points at the group: every packet must use that member
# (port 1), whatever its entropy.  (WatchPort needs port oper status: P4Runtime.)


def test_action_profile_delete_group_with_members(testdata):
    t = load(testdata, "simple_switch_grpc", "action_profile")
    m1 = t.add("act_prof_create_member ActProfWS send 1")
    m2 = t.add("act_prof_create_member ActProfWS send 2")
    g = t.add("act_prof_create_group ActProfWS")
    t.cli(f"act_prof_add_member_to_group ActProfWS {m1} {g}")
    t.cli(f"act_prof_add_member_to_group ActProfWS {m2} {g}")
    t.cli(f"act_prof_delete_group ActProfWS {g}")
    t.cli(f"act_prof_delete_member ActProfWS {m1}")
    t.cli(f"act_prof_delete_member ActProfWS {m2}")

    m1 = t.add("act_prof_create_member ActProfWS send 1")
    g = t.add("act_prof_create_group ActProfWS")
    t.cli(f"act_prof_add_member_to_group ActProfWS {m1} {g}")
    t.add(f"table_indirect_add_with_group IndirectWS 0xab => {g}")
    for i in range(32):
        pkt = b"\xab" + bytes([1, 2, 3, i])
        assert t.send(99, pkt) == [(1, pkt)]


def test_action_profile_selection_is_deterministic(testdata):
    """Two members: the same entropy always picks the same member, and the member
    is members[crc16(entropy) % 2] (BMv2's selector over the group's members in
    handle order)."""
    from p4switch.hashes import algorithm

    crc16 = algorithm("crc16")
    t = load(testdata, "simple_switch_grpc", "action_profile")
    m1 = t.add("act_prof_create_member ActProfWS send 1")
    m2 = t.add("act_prof_create_member ActProfWS send 2")
    g = t.add("act_prof_create_group ActProfWS")
    t.cli(f"act_prof_add_member_to_group ActProfWS {m1} {g}")
    t.cli(f"act_prof_add_member_to_group ActProfWS {m2} {g}")
    t.add(f"table_indirect_add_with_group IndirectWS 0xab => {g}")
    seen = set()
    for i in range(16):
        entropy = bytes([1, 2, 3, i])
        pkt = b"\xab" + entropy
        first = t.send(99, pkt)
        assert first == t.send(99, pkt)
        expected_port = (1, 2)[crc16(entropy) % 2]
        assert first == [(expected_port, pkt)]
        seen.add(expected_port)
    assert seen == {1, 2}
    # A packet whose in_ does not match any entry: miss, no action -> port 0.
    assert t.send(99, b"\xac\x00\x00\x00\x00") == [(0, b"\xac\x00\x00\x00\x00")]


# --------------------------------------------------------------------------- pvs_struct_2
# pvs_struct_2.json came with runtime_CLI's pvs_add/pvs_remove/pvs_get/pvs_clear:
# a value set over (bit<16>, bit<3>) with a 19-bit "compressed bitwidth".  Values
# are given as one integer (fields concatenated without padding) that must fit.


def test_pvs_struct_cli(testdata):
    from p4switch.errors import SwitchError

    t = load(testdata, "bm_sim", "pvs_struct_2")
    v1 = (0x0810 << 3) | 0x2
    v2 = (0xFFFF << 3) | 0x7          # the largest 19-bit value
    t.cli(f"pvs_add MyParser.pvs {v1}")
    t.cli(f"pvs_add MyParser.pvs {hex(v2)}")
    listing = t.cli("pvs_get MyParser.pvs")
    found = {int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", listing)}
    assert found == {v1, v2}
    with pytest.raises(SwitchError):
        t.cli(f"pvs_add MyParser.pvs {1 << 19}")
    t.cli(f"pvs_remove MyParser.pvs {v1}")
    found = {int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", t.cli("pvs_get MyParser.pvs"))}
    assert found == {v2}
    t.cli("pvs_clear MyParser.pvs")
    assert not re.findall(r"0x[0-9a-fA-F]+", t.cli("pvs_get MyParser.pvs"))


def test_pvs_struct_packets(testdata):
    # The deparser emits nothing, so whatever the parser path, the 8 extracted
    # bytes are removed and the payload goes out on port 0.
    t = load(testdata, "bm_sim", "pvs_struct_2")
    t.cli(f"pvs_add MyParser.pvs {(0x0810 << 3) | 0x2}")
    payload = b"\x99\x98"
    pkt = bytes.fromhex("00000810") + bytes.fromhex("00000040") + payload
    assert t.send(1, pkt) == [(0, payload)]


def test_optional_read_entry(testdata):
    from p4switch.tables import Ternary

    # optional keys are "ternary" in the JSON; an exact value is an all-ones mask.
    t = load(testdata, "simple_switch_grpc", "optional")
    h = t.add(f"table_add ingress.opt ingress.send_1 0xaabb&&&0xffff => {PRIO_BASE - 128}")
    e = t.switch.tables["ingress.opt"].get_entry(h)
    assert e.action.name == "ingress.send_1" and e.priority == PRIO_BASE - 128
    assert list(e.match) == [Ternary(0xAABB, 0xFFFF)]


# --------------------------------------------------------------------------- idle timeout
# test_idle_timeout.cpp (on digest.json, whose smac table supports timeouts): the
# default action is first set to NoAction so no digests are produced.  The
# notification stream itself belongs to the P4Runtime server; here the table's
# ageing state is checked at chosen instants (time.monotonic() based).


def _idle_target(testdata, timeout_ms: int):
    t = load(testdata, "simple_switch_grpc", "digest")
    t.cli("table_set_default ingress.smac NoAction")
    h = t.add("table_add ingress.smac NoAction 0x112233445566 =>")
    t.cli(f"table_set_timeout ingress.smac {h} {timeout_ms}")
    return t, h, t.switch.tables["ingress.smac"]


def _idle_handles(table, now):
    return [e.handle for e in table.idle_entries(now)]


def test_idle_timeout_entry_expire(testdata):
    t, h, table = _idle_target(testdata, 2000)
    start = table.get_entry(h).last_hit
    assert _idle_handles(table, start + 1.0) == []
    assert _idle_handles(table, start + 2.5) == [h]


def test_idle_timeout_hit_restarts_the_timer(testdata):
    import time

    t, h, table = _idle_target(testdata, 2000)
    before = table.get_entry(h).last_hit
    time.sleep(0.01)
    pkt = bytes([1] * 6) + bytes.fromhex("112233445566") + b"\xab\xab"
    assert t.send(1, pkt) == [(1, pkt)]
    after = table.get_entry(h).last_hit
    assert after > before
    assert _idle_handles(table, before + 2.005) == []        # hit less than 2 s before
    assert _idle_handles(table, after + 2.5) == [h]
    assert len(t.switch.digests) == 0                       # NoAction default: no digest


def test_idle_timeout_modify_ttl(testdata):
    import time

    t, h, table = _idle_target(testdata, 30000)
    start = table.get_entry(h).last_hit
    assert _idle_handles(table, start + 2.0) == []
    time.sleep(0.01)
    t.cli(f"table_set_timeout ingress.smac {h} 4000")        # BMv2 restarts the timer
    restart = table.get_entry(h).last_hit
    assert restart > start
    assert _idle_handles(table, restart + 3.9) == []
    assert _idle_handles(table, restart + 4.5) == [h]


def test_idle_timeout_unsupported_table_rejected(testdata):
    from p4switch.errors import SwitchError

    t = load(testdata, "simple_switch_grpc", "ternary")
    h = t.add(f"table_add ingress.ter ingress.send_1 0xaabb&&&0xffff => {PRIO_BASE - 1}")
    with pytest.raises(SwitchError):
        t.cli(f"table_set_timeout ingress.ter {h} 1000")
