"""RuntimeApi over a real Switch built from BMv2 JSON produced by p4c
(behavioral-model simple_switch_grpc test programs): the control plane
operations must drive the data path the way simple_switch does."""
from pathlib import Path

import pytest

from p4switch.errors import SwitchError
from p4switch.hashes import algorithm
from p4switch.runtime_api import RuntimeApi

DATA = Path("/work/shared/conformance/bmv2-testdata/simple_switch_grpc")

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="conformance corpus not available")


def load(name):
    from p4switch.switch import Switch
    sw = Switch.from_json((DATA / f"{name}.json").read_bytes())
    return sw, RuntimeApi(sw)


def test_ternary_priorities_from_cli():
    sw, api = load("ternary")
    # smaller number wins (BMv2): 0x1100&&&0xff00 at 10 beats the exact 0x1122 at 20
    api.run_command("table_add ingress.ter send_2 0x1122&&&0xffff => 20")
    api.run_command("table_add ter send_1 0x1100&&&0xff00 => 10")
    assert sw.process_packet(0, bytes.fromhex("1122")) == [(1, bytes.fromhex("1122"))]
    assert sw.process_packet(0, bytes.fromhex("2222")) == [(0, bytes.fromhex("2222"))]   # miss: NoAction
    api.run_command("table_delete ter 1")
    assert sw.process_packet(0, bytes.fromhex("1122")) == [(2, bytes.fromhex("1122"))]


def test_multicast_replication_order():
    sw, api = load("multicast")
    api.run_command("mc_mgrp_create 1")
    assert api.run_command("mc_node_create 0 3 1") == "node was created with handle 0"
    assert api.run_command("mc_node_create 7 2") == "node was created with handle 1"
    api.run_command("mc_node_associate 1 1")
    api.run_command("mc_node_associate 1 0")
    out = sw.process_packet(0, bytes.fromhex("0001"))
    assert [p for p, _ in out] == [2, 1, 3]
    api.run_command("mc_node_dissociate 1 1")
    assert [p for p, _ in sw.process_packet(0, bytes.fromhex("0001"))] == [1, 3]
    assert sw.process_packet(0, bytes.fromhex("0002")) == []     # unknown group: no copies


def test_direct_counter_read_by_handle():
    sw, api = load("counter")
    h = api.table_add("t_redirect", "port_redirect", ["10"], [])
    sw.process_packet(3, bytes(10))
    sw.process_packet(3, bytes(10))
    sw.process_packet(3, bytes(11))          # miss
    assert api.counter_read("cntr", h) == (2, 20)
    api.run_command(f"counter_write cntr {h} 5 6")
    assert api.counter_read("cntr", h) == (5, 6)


def test_direct_meter_rates_by_handle():
    sw, api = load("meter")
    h = api.table_add("t_redirect", "port_redirect", ["1"], [])
    api.run_command(f"meter_set_rates ingress.mtr {h} 0.000001:1 0.000001:2")
    assert api.meter_get_rates("mtr", h) == [(0.000001, 1), (0.000001, 2)]
    assert sw.process_packet(1, b"\x00" * 20) == [(1, b"\x00" * 20)]
    cell = sw.tables["ingress.t_redirect"].get_entry(h).meter
    # one packet used 1 token of each bucket: committed is empty, peak has 1 left
    assert cell.execute(20, now=cell.time_init) == 1      # YELLOW
    assert cell.execute(20, now=cell.time_init) == 2      # RED


def test_action_selector_member_choice():
    sw, api = load("action_profile")
    for port in (1, 2, 3):
        api.run_command(f"act_prof_create_member ActProfWS send {port}")
    assert "handle 0" in api.run_command("act_prof_create_group ActProfWS")
    for m in (2, 0, 1):
        api.run_command(f"act_prof_add_member_to_group ActProfWS {m} 0")
    api.run_command("table_indirect_add_with_group IndirectWS 5 => 0")
    crc16 = algorithm("crc16")
    seen = set()
    for entropy in range(40):
        pkt = bytes([5]) + entropy.to_bytes(4, "big")
        out = sw.process_packet(0, pkt)
        expected = 1 + crc16(entropy.to_bytes(4, "big")) % 3       # members 0,1,2 -> ports 1,2,3
        assert [p for p, _ in out] == [expected], entropy
        seen.add(expected)
    assert seen == {1, 2, 3}
    with pytest.raises(SwitchError):
        api.run_command("act_prof_delete_member ActProfWS 0")
