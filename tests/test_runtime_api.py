"""RuntimeApi: simple_switch_CLI operations and command-line parsing over a stand-in switch."""
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from p4switch.errors import RuntimeApiError, SwitchError, TableError, TableErrorCode as C
from p4switch.externs import CounterArray, MeterArray, RegisterArray
from p4switch.hashes import algorithm
from p4switch.pre import CloneSessions, Pre
from p4switch.runtime_api import RuntimeApi
from p4switch.tables import ActionProfile, KeyField, Table


@dataclass
class Act:
    id: int
    name: str
    params: list = field(default_factory=list)


FWD = Act(1, "MyIngress.ipv4_forward", [("dstAddr", 48), ("port", 9)])
DROP = Act(2, "MyIngress.drop", [])
SETP = Act(3, "MyIngress.set_port", [("port", 9)])


class PVS:
    def __init__(self, name, bitwidth):
        self.name, self.bitwidth, self.values = name, bitwidth, []

    # same shape as p4switch.engine.ParseValueSet: (value, mask-or-None) tuples
    def add(self, v, mask=None):
        self.values.append((v, mask))

    def remove(self, v, mask=None):
        self.values.remove((v, mask))

    def clear(self):
        self.values.clear()


def make_switch():
    prof = ActionProfile("MyIngress.sel", [SETP, DROP], 64, selector=True)
    tables = {
        "MyIngress.ipv4_lpm": Table("MyIngress.ipv4_lpm", [KeyField("hdr.ipv4.dstAddr", "lpm", 32)],
                                    [FWD, DROP], 1024, match_type="lpm", with_counters=True),
        "MyIngress.acl": Table("MyIngress.acl", [KeyField("hdr.ipv4.srcAddr", "ternary", 32),
                                                 KeyField("meta.port", "range", 16)],
                               [SETP, DROP], 64, match_type="range"),
        "MyIngress.ecmp": Table("MyIngress.ecmp", [KeyField("meta.flow", "exact", 8)], [SETP, DROP],
                                64, type="indirect_ws", profile=prof),
        "MyEgress.drop": Table("MyEgress.drop", [KeyField("x", "exact", 8)], [DROP], 4),
        "MyIngress.dup": Table("MyIngress.dup", [KeyField("x", "exact", 8)], [DROP], 4),
        "MyEgress.dup": Table("MyEgress.dup", [KeyField("x", "exact", 8)], [DROP], 4),
    }
    tables["MyIngress.ipv4_lpm"].set_initial_default(DROP, ())
    dm = MeterArray("MyIngress.dm", 1024, "packets", is_direct=True, binding="MyIngress.ipv4_lpm")
    tables["MyIngress.ipv4_lpm"].direct_meter = dm
    return SimpleNamespace(
        tables=tables, actions={a.name: a for a in (FWD, DROP, SETP)},
        action_profiles={"MyIngress.sel": prof},
        counters={"MyIngress.c": CounterArray("MyIngress.c", 8),
                  "MyIngress.dc": CounterArray("MyIngress.dc", 0, is_direct=True,
                                               binding="MyIngress.ipv4_lpm")},
        meters={"MyIngress.m": MeterArray("MyIngress.m", 4, "bytes"), "MyIngress.dm": dm},
        registers={"MyIngress.r": RegisterArray("MyIngress.r", 4, 16)},
        pre=Pre(), clone_sessions=CloneSessions(),
        parse_vsets={"MyParser.pvs": PVS("MyParser.pvs", 16)},
        calculations={"calc_0": algorithm("crc16_custom"), "calc_1": algorithm("crc32")},
    )


@pytest.fixture
def api():
    return RuntimeApi(make_switch())


def test_table_add_by_api_and_lookup(api):
    h = api.table_add("MyIngress.ipv4_lpm", "MyIngress.ipv4_forward", ["10.0.1.1/32"],
                      ["08:00:00:00:01:11", "1"])
    assert h == 0
    t = api.switch.tables["MyIngress.ipv4_lpm"]
    hit, e = t.lookup((0x0A000101,), 64)
    assert hit and e.data == (0x080000000111, 1)
    assert api.table_num_entries("ipv4_lpm") == 1
    assert "ipv4_forward" in api.table_dump("ipv4_lpm")
    api.table_modify("ipv4_lpm", "drop", h, [])
    assert t.lookup((0x0A000101,), 64)[1].action is DROP
    api.table_delete("ipv4_lpm", h)
    assert api.table_num_entries("ipv4_lpm") == 0


def test_run_command_table_add_and_priority(api):
    out = api.run_command("table_add ipv4_lpm ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    assert "handle 0" in out
    out = api.run_command("table_add MyIngress.acl set_port 10.0.0.0&&&0xff000000 100->200 => 3 5")
    assert "handle 0" in out
    e = api.switch.tables["MyIngress.acl"].get_entry(0)
    assert e.priority == 5 and e.data == (3,)
    with pytest.raises(RuntimeApiError, match="priority is required"):
        api.table_add("acl", "set_port", ["0&&&0", "0->1"], ["1"])
    with pytest.raises(RuntimeApiError, match="no priority allowed"):
        api.table_add("ipv4_lpm", "drop", ["10.0.0.0/8"], [], 3)
    with pytest.raises(RuntimeApiError, match="needs 2 parameter"):
        api.run_command("table_add ipv4_lpm ipv4_forward 10.0.2.0/24 => 1")
    with pytest.raises(TableError) as ei:
        api.run_command("table_add ipv4_lpm ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")
    assert ei.value.code == C.DUPLICATE_ENTRY
    with pytest.raises(RuntimeApiError, match="unknown table"):
        api.run_command("table_add nosuch drop 1 =>")
    with pytest.raises(RuntimeApiError, match="ambiguous table"):
        api.run_command("table_clear dup")
    api.run_command("table_add drop drop 3 =>")             # unique suffix: MyEgress.drop
    assert api.table_num_entries("MyEgress.drop") == 1


def test_bad_values_are_clear_errors(api):
    for line in ("table_add ipv4_lpm ipv4_forward 10.0.1.1/40 => 1 1",
                 "table_add ipv4_lpm ipv4_forward 300.0.0.1/32 => 1 1",
                 "table_add ipv4_lpm ipv4_forward 10.0.0.1/32 => 1 512",
                 "table_add ipv4_lpm nosuch 10.0.0.1/32 =>",
                 "register_write r 9 1", "register_write r 0 70000", "counter_read c x",
                 "mc_node_associate 1 0", "frobnicate 1", "table_delete ipv4_lpm 3",
                 "meter_set_rates m 0 1", "table_add ipv4_lpm", "mirroring_get 3",
                 "table_add 'unterminated", "mc_node_create 0 1 1", "mc_node_create x 1",
                 "mc_node_create 0 -1"):
        with pytest.raises(SwitchError):
            api.run_command(line)


def test_default_action_commands(api):
    t = api.switch.tables["MyIngress.ipv4_lpm"]
    api.run_command("table_set_default ipv4_lpm ipv4_forward 00:00:00:00:00:01 2")
    assert t.default.action is FWD and t.default.data == (1, 2)
    api.run_command("table_reset_default ipv4_lpm")
    assert t.default.action is DROP


def test_counters_registers_meters(api):
    sw = api.switch
    sw.counters["MyIngress.c"].count(2, 100)
    assert api.counter_read("c", 2) == (1, 100)
    assert "packets=1, bytes=100" in api.run_command("counter_read MyIngress.c 2")
    api.run_command("counter_write c 3 4 5")
    assert api.counter_read("c", 3) == (4, 5)
    api.run_command("counter_reset c")
    assert api.counter_read("c", 3) == (0, 0)
    # direct counter: index is the entry handle
    h = api.table_add("ipv4_lpm", "drop", ["10.0.0.0/8"], [])
    sw.tables["MyIngress.ipv4_lpm"].lookup((0x0A000001,), 42)
    assert api.counter_read("dc", h) == (1, 42)
    api.run_command("register_write r 1 0x1234")
    assert api.register_read("r", 1) == 0x1234
    assert api.run_command("register_read r 1") == "MyIngress.r[1]= 4660"
    api.run_command("register_reset r")
    assert api.register_read("r") == [0, 0, 0, 0]
    api.run_command("meter_set_rates m 1 0.5:100 1:200")
    assert api.meter_get_rates("m", 1) == [(0.5, 100), (1.0, 200)]
    api.run_command("meter_array_set_rates m 0.1:10 0.2:20")
    assert api.meter_get_rates("m", 3) == [(0.1, 10), (0.2, 20)]
    # direct meter: index is the entry handle
    api.meter_set_rates("dm", h, [(1, 2), (3, 4)])
    assert sw.tables["MyIngress.ipv4_lpm"].get_entry(h).meter.get_rates() == [(1.0, 2), (3.0, 4)]


def test_multicast_and_mirroring_commands(api):
    assert api.run_command("mc_mgrp_create 1") == ""
    assert api.run_command("mc_node_create 0 1 2 3") == "node was created with handle 0"
    assert api.run_command("mc_node_create 1 4") == "node was created with handle 1"
    api.run_command("mc_node_associate 1 0")
    api.run_command("mc_node_associate 1 1")
    assert api.switch.pre.replicate(1) == [(0, 1), (0, 2), (0, 3), (1, 4)]
    api.run_command("mc_node_update 1 5 6")
    api.run_command("mc_node_dissociate 1 0")
    assert api.switch.pre.replicate(1) == [(1, 5), (1, 6)]
    assert "mgrp(1)" in api.run_command("mc_dump")
    api.run_command("mirroring_add 5 7")
    assert api.run_command("mirroring_get 5") == "MirroringSessionConfig(mgid=None, port=7)"
    api.run_command("mirroring_add_mc 6 1")
    assert api.mirroring_get(6).mgrp == 1
    api.run_command("mirroring_delete 5")
    with pytest.raises(RuntimeApiError):
        api.mirroring_get(5)


def test_action_profile_commands(api):
    assert "handle 0" in api.run_command("act_prof_create_member MyIngress.sel set_port 3")
    assert "handle 1" in api.run_command("table_indirect_create_member ecmp set_port 4")
    assert "handle 0" in api.run_command("act_prof_create_group sel")
    api.run_command("act_prof_add_member_to_group sel 0 0")
    api.run_command("table_indirect_add_member_to_group ecmp 1 0")
    assert "handle 0" in api.run_command("table_indirect_add_with_group ecmp 7 => 0")
    assert "handle 1" in api.run_command("table_indirect_add ecmp 8 => 1")
    t = api.switch.tables["MyIngress.ecmp"]
    hit, e = t.lookup((7,), 1)
    prof = api.switch.action_profiles["MyIngress.sel"]
    assert [prof.select(e.group, h).data for h in (0, 1)] == [(3,), (4,)]
    with pytest.raises(TableError) as ei:
        api.run_command("act_prof_delete_group sel 0")
    assert ei.value.code == C.GROUP_IN_USE
    api.run_command("table_indirect_set_default ecmp 1")
    assert t.default.member == 1
    with pytest.raises(RuntimeApiError, match="indirect"):
        api.table_add("ecmp", "set_port", ["1"], ["1"])
    assert "Dumping member 0" in api.run_command("act_prof_dump sel")


def test_crc_parameters_and_pvs(api):
    calc = api.switch.calculations["calc_0"]
    api.run_command("set_crc16_parameters calc_0 0x1021 0xffff 0x0000 false false")
    assert calc(b"123456789") == 0x29B1
    with pytest.raises(RuntimeApiError, match="crc32_custom"):
        api.run_command("set_crc32_parameters calc_1 0x04c11db7 0xffffffff 0xffffffff true true")
    with pytest.raises(RuntimeApiError):
        api.run_command("set_crc16_parameters calc_0 0x1021 0xffff 0 maybe false")
    api.run_command("pvs_add MyParser.pvs 0x8100")
    api.run_command("pvs_add pvs 0x9100")
    assert api.pvs_get("pvs") == [(0x8100, None), (0x9100, None)]
    api.run_command("pvs_remove pvs 0x8100")
    assert api.run_command("pvs_get pvs") == "0x9100"
    with pytest.raises(RuntimeApiError):
        api.run_command("pvs_add pvs 0x10000")
    api.run_command("pvs_clear pvs")
    assert api.pvs_get("pvs") == []


def test_comments_and_blank_lines(api):
    assert api.run_command("") == ""
    assert api.run_command("   # just a comment") == ""
    assert api.run_command("mc_mgrp_create 4  # trailing comment") == ""
    assert 4 in api.switch.pre.groups
