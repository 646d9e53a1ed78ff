"""BMv2 JSON programs built by hand for the switch-engine tests and benchmark.

`basic_json()` is the P4 tutorial's basic.p4 (parse ethernet/ipv4, LPM on the
destination, rewrite MACs, TTL-1, IPv4 checksum update) in the shape p4c-bm2-ss
emits it. `mini_json(...)` is a tiny one-header program whose ingress runs one
action built from the given primitives, for expression/primitive semantics tests.
"""
from __future__ import annotations

import copy

STD_META = [["ingress_port", 9, False], ["egress_spec", 9, False], ["egress_port", 9, False],
            ["instance_type", 32, False], ["packet_length", 32, False],
            ["enq_timestamp", 32, False], ["enq_qdepth", 19, False],
            ["deq_timedelta", 32, False], ["deq_qdepth", 19, False],
            ["ingress_global_timestamp", 48, False], ["egress_global_timestamp", 48, False],
            ["mcast_grp", 16, False], ["egress_rid", 16, False], ["checksum_error", 1, False],
            ["parser_error", 32, False], ["priority", 3, False], ["_padding", 3, False]]

ERRORS = [["NoError", 0], ["PacketTooShort", 1], ["NoMatch", 2], ["StackOutOfBounds", 3],
          ["HeaderTooShort", 4], ["ParserTimeout", 5], ["ParserInvalidArgument", 6]]

ALIASES = [["intrinsic_metadata.mcast_grp", ["standard_metadata", "mcast_grp"]],
           ["intrinsic_metadata.egress_rid", ["standard_metadata", "egress_rid"]]]


def F(h, f):
    return {"type": "field", "value": [h, f]}


def HEX(v):
    return {"type": "hexstr", "value": hex(v) if v >= 0 else "-" + hex(-v)}


def EXPR(op, left, right, **kw):
    node = {"op": op, "left": left, "right": right}
    node.update(kw)
    return {"type": "expression", "value": node}


def _ipv4_fields():
    return [["version", 4, False], ["ihl", 4, False], ["diffserv", 8, False],
            ["totalLen", 16, False], ["identification", 16, False], ["flags", 3, False],
            ["fragOffset", 13, False], ["ttl", 8, False], ["protocol", 8, False],
            ["hdrChecksum", 16, False], ["srcAddr", 32, False], ["dstAddr", 32, False]]


def basic_json() -> dict:
    csum_inputs = [F("ipv4", n) for n, _, _ in _ipv4_fields() if n != "hdrChecksum"]
    return {
        "__meta__": {"version": [2, 23], "compiler": "hand-written"},
        "header_types": [
            {"name": "scalars_0", "id": 0, "fields": []},
            {"name": "standard_metadata", "id": 1, "fields": STD_META},
            {"name": "ethernet_t", "id": 2, "fields": [["dstAddr", 48, False], ["srcAddr", 48, False],
                                                       ["etherType", 16, False]]},
            {"name": "ipv4_t", "id": 3, "fields": _ipv4_fields()},
        ],
        "headers": [
            {"name": "scalars", "id": 0, "header_type": "scalars_0", "metadata": True},
            {"name": "standard_metadata", "id": 1, "header_type": "standard_metadata", "metadata": True},
            {"name": "ethernet", "id": 2, "header_type": "ethernet_t", "metadata": False},
            {"name": "ipv4", "id": 3, "header_type": "ipv4_t", "metadata": False},
        ],
        "header_stacks": [], "header_union_types": [], "header_unions": [],
        "header_union_stacks": [], "field_lists": [], "errors": ERRORS, "enums": [],
        "parsers": [{
            "name": "parser", "id": 0, "init_state": "start",
            "parse_states": [
                {"name": "start", "id": 0, "parser_ops": [
                    {"op": "extract", "parameters": [{"type": "regular", "value": "ethernet"}]}],
                 "transition_key": [F("ethernet", "etherType")],
                 "transitions": [
                     {"type": "hexstr", "value": "0x0800", "mask": None, "next_state": "parse_ipv4"},
                     {"type": "default", "value": None, "mask": None, "next_state": None}]},
                {"name": "parse_ipv4", "id": 1, "parser_ops": [
                    {"op": "extract", "parameters": [{"type": "regular", "value": "ipv4"}]}],
                 "transition_key": [],
                 "transitions": [{"type": "default", "value": None, "mask": None, "next_state": None}]},
            ]}],
        "parse_vsets": [],
        "deparsers": [{"name": "deparser", "id": 0, "order": ["ethernet", "ipv4"], "primitives": []}],
        "meter_arrays": [], "counter_arrays": [], "register_arrays": [],
        "calculations": [{"name": "calc", "id": 0, "algo": "csum16", "input": csum_inputs}],
        "learn_lists": [],
        "actions": [
            {"name": "NoAction", "id": 0, "runtime_data": [], "primitives": []},
            {"name": "MyIngress.drop", "id": 1, "runtime_data": [], "primitives": [
                {"op": "mark_to_drop", "parameters": [{"type": "header", "value": "standard_metadata"}]}]},
            {"name": "MyIngress.ipv4_forward", "id": 2,
             "runtime_data": [{"name": "dstAddr", "bitwidth": 48}, {"name": "port", "bitwidth": 9}],
             "primitives": [
                 {"op": "assign", "parameters": [F("standard_metadata", "egress_spec"),
                                                 {"type": "runtime_data", "value": 1}]},
                 {"op": "assign", "parameters": [F("ethernet", "srcAddr"), F("ethernet", "dstAddr")]},
                 {"op": "assign", "parameters": [F("ethernet", "dstAddr"),
                                                 {"type": "runtime_data", "value": 0}]},
                 {"op": "assign", "parameters": [
                     F("ipv4", "ttl"),
                     EXPR("&", EXPR("+", F("ipv4", "ttl"), HEX(0xff)), HEX(0xff))]},
             ]},
        ],
        "pipelines": [
            {"name": "ingress", "id": 0, "init_table": "node_2",
             "tables": [{
                 "name": "MyIngress.ipv4_lpm", "id": 0,
                 "key": [{"match_type": "lpm", "name": "hdr.ipv4.dstAddr",
                          "target": ["ipv4", "dstAddr"], "mask": None}],
                 "match_type": "lpm", "type": "simple", "max_size": 1024,
                 "with_counters": False, "support_timeout": False, "direct_meters": None,
                 "action_ids": [2, 1, 0], "actions": ["MyIngress.ipv4_forward", "MyIngress.drop", "NoAction"],
                 "base_default_next": None,
                 "next_tables": {"MyIngress.ipv4_forward": None, "MyIngress.drop": None, "NoAction": None},
                 "default_entry": {"action_id": 1, "action_const": False, "action_data": [],
                                   "action_entry_const": False}}],
             "action_profiles": [],
             "conditionals": [{
                 "name": "node_2", "id": 0,
                 "expression": EXPR("d2b", None, F("ipv4", "$valid$")),
                 "false_next": None, "true_next": "MyIngress.ipv4_lpm"}]},
            {"name": "egress", "id": 1, "init_table": None, "tables": [], "action_profiles": [],
             "conditionals": []},
        ],
        "checksums": [{"name": "cksum", "id": 0, "target": ["ipv4", "hdrChecksum"], "type": "generic",
                       "calculation": "calc", "verify": False, "update": True,
                       "if_cond": EXPR("d2b", None, F("ipv4", "$valid$"))}],
        "force_arith": [], "extern_instances": [], "field_aliases": ALIASES,
        "program": "basic.p4",
    }


def mini_json(fields: list, primitives: list, *, extra_headers: list | None = None,
              parser_ops: list | None = None, deparse: list | None = None) -> dict:
    """One parsed header `h` of the given fields; ingress = one keyless table whose
    const default action runs `primitives`; egress empty; deparser emits h."""
    j = basic_json()
    j["header_types"] = j["header_types"][:2] + [
        {"name": "h_t", "id": 2, "fields": fields},
        {"name": "meta_t", "id": 3, "fields": [["a", 32, False], ["b", 32, False], ["s", 8, True]]},
    ]
    j["headers"] = j["headers"][:2] + [
        {"name": "h", "id": 2, "header_type": "h_t", "metadata": False},
        {"name": "m", "id": 3, "header_type": "meta_t", "metadata": True},
    ] + (extra_headers or [])
    j["parsers"][0]["parse_states"] = [{
        "name": "start", "id": 0,
        "parser_ops": parser_ops if parser_ops is not None else
        [{"op": "extract", "parameters": [{"type": "regular", "value": "h"}]}],
        "transition_key": [],
        "transitions": [{"type": "default", "value": None, "mask": None, "next_state": None}]}]
    j["deparsers"][0]["order"] = deparse or ["h"]
    j["calculations"] = []
    j["checksums"] = []
    j["actions"] = [{"name": "act", "id": 0, "runtime_data": [], "primitives": primitives}]
    j["pipelines"][0] = {
        "name": "ingress", "id": 0, "init_table": "t", "action_profiles": [], "conditionals": [],
        "tables": [{"name": "t", "id": 0, "key": [], "match_type": "exact", "type": "simple",
                    "max_size": 1, "with_counters": False, "support_timeout": False,
                    "direct_meters": None, "action_ids": [0], "actions": ["act"],
                    "base_default_next": None, "next_tables": {"act": None},
                    "default_entry": {"action_id": 0, "action_const": True, "action_data": [],
                                      "action_entry_const": True}}]}
    return copy.deepcopy(j)


def tm_json(ingress_prims: list, egress_prims: list, field_lists: list | None = None) -> dict:
    """mini_json's header `h` (a, b: 8 bits; c: 16; s: int<8>) and metadata `m`
    (a, b: 32; s: int<8>), with one action in ingress and one in egress, for
    traffic-manager tests."""
    j = mini_json([["a", 8, False], ["b", 8, False], ["c", 16, False], ["s", 8, True]], ingress_prims)
    j["actions"].append({"name": "egr", "id": 1, "runtime_data": [], "primitives": egress_prims})
    j["pipelines"][1] = {
        "name": "egress", "id": 1, "init_table": "te", "action_profiles": [], "conditionals": [],
        "tables": [{"name": "te", "id": 1, "key": [], "match_type": "exact", "type": "simple",
                    "max_size": 1, "with_counters": False, "support_timeout": False,
                    "direct_meters": None, "action_ids": [1], "actions": ["egr"],
                    "base_default_next": None, "next_tables": {"egr": None},
                    "default_entry": {"action_id": 1, "action_const": True, "action_data": [],
                                      "action_entry_const": True}}]}
    j["field_lists"] = field_lists or []
    return copy.deepcopy(j)
