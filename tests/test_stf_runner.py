"""Unit tests of the STF runner (p4switch.stf, p4switch.stf_parse).

The semantics under test are those of ``shared/conformance/README.md``, section
"STF format: exact semantics".  Most tests use a small fake switch so that the
runner's own rules (ports with interfaces, ordering, prefix matching, name
resolution, line order) are checked independently of the engine.
"""
from __future__ import annotations

import json
import re

import pytest

from p4switch.stf import (
    AddStmt,
    ProgramInfo,
    TableInfo,
    KeyInfo,
    ActionInfo,
    compare_packet,
    lpm_text,
    main,
    resolve_action,
    resolve_key_field,
    run_stf,
    run_stf_file,
    ternary_text,
    translate_add,
    translate_setdefault,
)
from p4switch.stf_parse import (
    CheckCounterStmt,
    CliStmt,
    ExpectStmt,
    PacketStmt,
    RemoveAllStmt,
    StfSyntaxError,
    WaitStmt,
    parse_stf,
)

# --------------------------------------------------------------------------- parsing


def test_parse_packet_groups_are_concatenated_and_comments_dropped():
    stf = parse_stf("packet 3 0800 45 00  # a comment\n\n# only a comment\n", "t.stf")
    assert stf.statements == [PacketStmt(1, 3, bytes.fromhex("08004500"))]


def test_keywords_are_case_insensitive():
    stf = parse_stf("PACKET 0 01\nExpect 1 02\nWAIT\nRemove all\n")
    kinds = [type(s) for s in stf.statements]
    assert kinds == [PacketStmt, ExpectStmt, WaitStmt, RemoveAllStmt]


def test_expect_pattern_wildcards_and_exact_suffix():
    stf = parse_stf("expect 0 02 11f1 ** ** ** $\nexpect 2\nexpect 1 ab*c\n")
    a, b, c = stf.statements
    assert a == ExpectStmt(1, 0, "0211F1******", True)
    assert b == ExpectStmt(2, 2, None, False)
    assert c == ExpectStmt(3, 1, "AB*C", False)
    assert stf.ports() == {0, 1, 2}


@pytest.mark.parametrize(
    "line, needle",
    [
        ("packet 0 12 zz", "invalid packet data"),
        ("packet x 12", "bad port number"),
        ("packet 0", "needs packet data"),
        ("expect 0 12$34", "'$' may only end"),
        ("frobnicate 1 2", "unknown STF command"),
        ("add t k:0x1", "needs an action"),
        ("add t k 0x1 a()", "expected ':'"),
        ("add t k:0x1 a(p:1", "expected ',' or ')'"),
        ("add t k:0x1 a(p:1) extra", "unexpected 'extra'"),
        ("setdefault t", "expected an action name"),
        ("check_counter c(1) packets ~ 3", "unexpected character"),
        ("remove entry", "only 'remove all'"),
        ("no_packet", "not supported"),
    ],
)
def test_malformed_lines_give_located_errors(line, needle):
    with pytest.raises(StfSyntaxError) as ei:
        parse_stf("packet 0 00\n\n" + line + "\n", "bad.stf")
    assert ei.value.line == 3
    assert str(ei.value).startswith("bad.stf:3: ")
    assert needle in str(ei.value)


def test_parse_add_with_priority_id_and_params():
    stf = parse_stf("add test1 503 data.f1:0x****0202 ingress.setb1(val:7, port:3) = B\n")
    (st,) = stf.statements
    assert isinstance(st, AddStmt)
    assert st.table == "test1" and st.priority == 503 and st.entry_id == "B"
    assert [(k.field, k.value) for k in st.keys] == [("data.f1", "0x****0202")]
    assert st.action.name == "ingress.setb1"
    assert st.action.args == (("val", "7"), ("port", "3"))


def test_parse_add_dollar_names_and_lpm_length():
    (st,) = parse_stf("add ex1 100 extra$0.h:0x25** ip.dst:0x0a000000/8 act1()\n").statements
    assert [(k.field, k.value, k.prefix_len) for k in st.keys] == [
        ("extra$0.h", "0x25**", None),
        ("ip.dst", "0x0a000000", 8),
    ]


def test_parse_check_counter_forms():
    a, b, c = parse_stf(
        "check_counter cnt($A) bytes == 12\ncheck_counter count1(9) packets <= 1\n"
        "check_counter c(0x10)\n"
    ).statements
    assert a == CheckCounterStmt(1, "cnt", None, "A", "bytes", "==", 12)
    assert b == CheckCounterStmt(2, "count1", 9, None, "packets", "<=", 1)
    assert c == CheckCounterStmt(3, "c", 16, None)


def test_parse_pass_through_commands():
    (st,) = parse_stf("mc_node_create 400   6 7\n").statements
    assert st == CliStmt(1, "mc_node_create", ("400", "6", "7"), "mc_node_create 400 6 7")


# --------------------------------------------------------------------------- translation


def test_ternary_mask_is_as_wide_as_the_digits_written():
    assert ternary_text("0x0101") == "0x0101&&&0xFFFF"
    assert ternary_text("0x****0101") == "0x00000101&&&0x0000FFFF"
    assert ternary_text("0b1*0") == "0b100&&&0b101"
    with pytest.raises(ValueError, match="decimal"):
        ternary_text("257")


def test_lpm_prefix_from_digits():
    assert lpm_text("0x0a01****", None) == "0x0a010000/16"
    assert lpm_text("0x0a010065", None) == "0x0a010065/32"
    assert lpm_text("0b101", None) == "0b101/3"
    assert lpm_text("0x0a000000", 8) == "0x0a000000/8"
    with pytest.raises(ValueError):
        lpm_text("10", None)


def _table(keys, match_type="exact", actions=(ActionInfo("ingress.a", ("p",)),), name="ingress.t"):
    return TableInfo(name, match_type, tuple(KeyInfo(n, m) for n, m in keys), tuple(actions))


def test_key_field_resolution_steps_in_order():
    t = _table([
        ("hdr.ipv4.dstAddr", "exact"),        # 0
        ("meta.x$", "exact"),                 # 1
        ("hdr.data.$valid$", "exact"),        # 2
        ("hdrs.extra[0].h", "exact"),         # 3
        ("hdr.eth.$valid$", "exact"),         # 4
        ("ipv4.dstAddr", "exact"),            # 5
    ])
    assert resolve_key_field(t, "hdr.ipv4.dstAddr") == 0     # 1: exact
    assert resolve_key_field(t, "ipv4.dstAddr") == 5         # 1: exact beats suffix
    assert resolve_key_field(t, "meta.x") == 1               # 2: name + '$'
    assert resolve_key_field(t, "hdr.data") == 2             # 3: name + '.$valid$'
    assert resolve_key_field(t, "hdr.eth.valid") == 4        # 4: x.valid -> x.$valid$
    assert resolve_key_field(t, "extra$0.h") == 3            # h$0 -> h[0], then suffix
    assert resolve_key_field(t, "x") == 1                    # 5: '.x$'
    assert resolve_key_field(t, "valid") == 4                # 6: last '.$valid$' key
    with pytest.raises(LookupError, match="no key field"):
        resolve_key_field(t, "nothere")


def test_bare_valid_key():
    t = _table([("$valid$", "exact")])
    assert resolve_key_field(t, "valid") == 0


def _prog():
    doc = {
        "actions": [
            {"id": 0, "name": "ingress.setb1", "runtime_data": [{"name": "val", "bitwidth": 8},
                                                                 {"name": "port", "bitwidth": 9}]},
            {"id": 1, "name": "ingress.setb2", "runtime_data": []},
            {"id": 2, "name": "NoAction", "runtime_data": []},
            {"id": 3, "name": "ingress.fwd", "runtime_data": [{"name": "port", "bitwidth": 9}]},
        ],
        "pipelines": [
            {"name": "ingress", "tables": [
                {"name": "ingress.test1", "match_type": "ternary",
                 "key": [{"match_type": "ternary", "name": "hdrs.data.f1", "target": ["data", "f1"]},
                         {"match_type": "exact", "name": "hdrs.data.b", "target": ["data", "b"]}],
                 "actions": ["ingress.setb1", "ingress.setb2"], "action_ids": [0, 1]},
                {"name": "ingress.fwd_tbl", "match_type": "lpm",
                 "key": [{"match_type": "lpm", "name": "hdr.ipv4.dst", "target": ["ipv4", "dst"]}],
                 "actions": ["ingress.fwd", "NoAction"], "action_ids": [3, 2]},
                {"name": "ingress.t_range", "match_type": "range",
                 "key": [{"match_type": "range", "name": "x", "target": ["m", "x"]}],
                 "actions": ["NoAction"], "action_ids": [2]},
            ]},
            {"name": "egress", "tables": [
                {"name": "egress.my_range", "match_type": "exact",
                 "key": [], "actions": ["ingress.setb2"], "action_ids": [1]},
            ]},
        ],
        "counter_arrays": [
            {"name": "ingress.cnt", "id": 0, "is_direct": True, "binding": "ingress.fwd_tbl"},
        ],
    }
    return ProgramInfo.from_json(doc)


def _add(line):
    (st,) = parse_stf(line + "\n").statements
    return st


def test_translate_add_ternary_priority_defaults_and_param_order():
    op = translate_add(_prog(), _add("add ingress.test1 100 data.f1:0x****0101 setb1(port:2, val:0x7f)"))
    assert op.table == "ingress.test1" and op.action == "ingress.setb1"
    assert op.match == ("0x00000101&&&0x0000FFFF", "0")      # unspecified exact key -> 0
    assert op.params == ("0x7f", "2")                        # runtime_data order
    assert op.priority == 10000 - 100
    assert op.cli_line() == (
        "table_add ingress.test1 ingress.setb1 0x00000101&&&0x0000FFFF 0 => 0x7f 2 9900"
    )


def test_translate_add_unspecified_ternary_and_lpm_defaults():
    op = translate_add(_prog(), _add("add test1 5 b:3 setb2()"))
    assert op.match == ("0&&&0", "3")
    op = translate_add(_prog(), _add("add fwd_tbl fwd(port:1)"))
    assert op.match == ("0/0",)
    assert op.priority is None           # only "ternary" tables get a priority


def test_translate_add_priority_ignored_for_non_ternary_tables():
    op = translate_add(_prog(), _add("add fwd_tbl 7 ipv4.dst:0x0a01**** fwd(port:1)"))
    assert op.match == ("0x0a010000/16",) and op.priority is None


@pytest.mark.parametrize(
    "line, needle",
    [
        ("add test1 data.f1:0x01 setb2()", "needs a priority"),
        ("add nosuch k:1 a()", "no table named 'nosuch'"),
        ("add test1 5 data.f1:0x1 nosuch()", "no action named 'nosuch'"),
        ("add test1 5 data.f1:0x1 setb1(val:1)", "missing parameter(s) port"),
        ("add test1 5 data.f1:0x1 setb1(val:1, port:2, x:3)", "no parameter 'x'"),
        ("add test1 5 data.f1:1 setb2()", "decimal value"),
        ("add t_range x:1 NoAction()", "cannot express"),
        ("add test1 5 zz:0x1 setb2()", "no key field 'zz'"),
    ],
)
def test_translate_add_errors(line, needle):
    with pytest.raises((LookupError, ValueError)) as ei:
        translate_add(_prog(), _add(line))
    assert needle in str(ei.value)


def test_table_name_suffix_ambiguity():
    prog = _prog()
    assert prog.table("test1").name == "ingress.test1"      # plain endswith
    assert prog.table("_tbl").name == "ingress.fwd_tbl"     # no dot boundary needed
    with pytest.raises(LookupError, match="ambiguous: ingress.t_range, egress.my_range"):
        prog.table("range")
    assert resolve_action(prog.table("fwd_tbl"), "NoAction").name == "NoAction"
    assert resolve_action(prog.table("fwd_tbl"), "fwd").name == "ingress.fwd"


def test_translate_setdefault():
    (st,) = parse_stf("setdefault fwd_tbl fwd(port:9)\n").statements
    op = translate_setdefault(_prog(), st)
    assert (op.table, op.action, op.params) == ("ingress.fwd_tbl", "ingress.fwd", ("9",))
    assert op.cli_line() == "table_set_default ingress.fwd_tbl ingress.fwd => 9"


# --------------------------------------------------------------------------- comparison


def test_compare_prefix_wildcards_and_exact_length():
    assert compare_packet("0102", False, bytes.fromhex("010203")) is None   # prefix match
    assert compare_packet("0102", True, bytes.fromhex("010203")).reason == "too long"
    assert compare_packet("0102", True, bytes.fromhex("0102")) is None
    assert compare_packet("01*2", False, bytes.fromhex("01F2")) is None
    mm = compare_packet("0103", False, bytes.fromhex("0102"))
    assert (mm.reason, mm.nibble) == ("differs", 3)
    assert compare_packet("010203", False, bytes.fromhex("0102")).reason == "too short"
    assert compare_packet(None, False, b"") is None
    assert compare_packet("AB", False, bytes.fromhex("ab")) is None


# --------------------------------------------------------------------------- runner


class FakeSwitch:
    """Byte 0 of a packet names the egress port (0xff: drop); byte 1 is looked up in
    ``rules`` (installed through FakeApi) which may override the port.  Byte 2 = 0xcc
    also sends a copy to port 9 (to test several outputs per packet)."""

    def __init__(self):
        self.rules: dict[int, int] = {}
        self.default_port: int | None = None
        self.cli: list[str] = []
        self.fail_on: bytes | None = None

    def process_packet(self, port, data):
        if self.fail_on is not None and data == self.fail_on:
            raise RuntimeError("boom")
        out = data[0]
        if len(data) > 1 and data[1] in self.rules:
            out = self.rules[data[1]]
        elif self.default_port is not None:
            out = self.default_port
        res = []
        if out != 0xFF:
            res.append((out, data))
        if len(data) > 2 and data[2] == 0xCC:
            res.append((9, data))
        return res


class FakeApi:
    def __init__(self, switch):
        self.sw = switch
        self.added = []

    def table_add(self, table, action, match, params, priority=None):
        if table == "ingress.fwd_tbl" and match[0].startswith("0xee"):
            from p4switch.errors import TableError, TableErrorCode
            raise TableError(TableErrorCode.DUPLICATE_ENTRY, table, "duplicate entry")
        self.added.append((table, action, tuple(match), tuple(params), priority))
        key = int(match[0].split("&&&")[0].split("/")[0], 0)
        self.sw.rules[key] = int(params[-1], 0)
        return len(self.added) - 1

    def table_set_default(self, table, action, params):
        self.sw.default_port = int(params[0], 0)

    def run_command(self, line):
        self.sw.cli.append(line)
        return ""


FAKE_JSON = {
    "actions": [{"id": 0, "name": "ingress.fwd", "runtime_data": [{"name": "port", "bitwidth": 9}]}],
    "pipelines": [{"name": "ingress", "tables": [
        {"name": "ingress.fwd_tbl", "match_type": "exact",
         "key": [{"match_type": "exact", "name": "hdr.b1", "target": ["hdr", "b1"]}],
         "actions": ["ingress.fwd"], "action_ids": [0]}]}],
}


def _run(text, **kw):
    sw = FakeSwitch()
    res = run_stf_file(parse_stf(text, "t.stf"), FAKE_JSON, switch_factory=lambda doc: sw,
                       api_factory=FakeApi, **kw)
    return res, sw


def test_runner_passes_when_outputs_match():
    res, _ = _run("expect 1 0100\npacket 0 0100 beef\nexpect 2 02**$\npacket 0 0200\n")
    assert res.passed, res.report()
    assert res.packets_in == 2


def test_runner_only_ports_with_interfaces_are_observed():
    # Port 7 appears nowhere: its packet is discarded, not a failure.
    res, _ = _run("packet 0 0700\n")
    assert res.passed, res.report()
    assert res.discarded == [(7, bytes.fromhex("0700"))]
    # Port 0 appears (in a packet line) so it must stay silent.
    res, _ = _run("packet 0 0000\n")
    assert not res.passed and res.category == "mismatch"
    assert "port 0: expected 0 packet(s), received 1" in res.report()


def test_runner_order_within_a_port_matters_but_not_across_ports():
    ok, _ = _run("expect 2 0200\nexpect 1 0100\npacket 0 0100\npacket 0 0200\n")
    assert ok.passed, ok.report()
    bad, _ = _run("expect 1 0101\nexpect 1 0100\npacket 0 0100\npacket 0 0101\n")
    assert not bad.passed
    text = bad.report()
    assert "port 1: 2 of 2 packet(s) differ" in text
    # The caret sits under the first differing nibble (index 3).
    lines = text.splitlines()
    i = next(n for n, l in enumerate(lines) if l.startswith("     received: 0100"))
    assert lines[i + 1] == " " * (len("     received: ") + 3) + "^"


def test_runner_entries_apply_only_to_later_packets():
    text = (
        "expect 1 0105\n"          # first packet: no entry yet -> port 1
        "expect 3 0105\n"          # second packet: entry sends byte1=05 to port 3
        "packet 0 0105\n"
        "add fwd_tbl b1:5 fwd(port:3)\n"
        "packet 0 0105\n"
    )
    res, _ = _run(text)
    assert res.passed, res.report()


def test_runner_setdefault_and_pass_through():
    res, sw = _run("setdefault fwd_tbl fwd(port:4)\nmirroring_add 5 4\nexpect 4 0100\npacket 0 0100\n")
    assert res.passed, res.report()
    assert sw.cli == ["mirroring_add 5 4"]


def test_runner_missing_and_unexpected_packets_reported():
    res, _ = _run("expect 1 01\nexpect 1 01\npacket 0 01\n")
    assert not res.passed
    assert "port 1: expected 2 packet(s), received 1" in res.report()
    assert "#2 missing" in res.report()
    res, _ = _run("expect 9 01\nexpect 1 0100CC\npacket 0 0100CC\npacket 0 0100CC\n")
    assert "port 1: expected 1 packet(s), received 2" in res.report()
    assert "#2 unexpected: 0100CC" in res.report()


def test_runner_control_plane_errors_fail_with_location():
    res, _ = _run("add fwd_tbl b1:0xee fwd(port:3)\n")
    assert not res.passed and res.category == "control"
    assert res.reason.startswith("t.stf:1: table_add ingress.fwd_tbl ingress.fwd 0xee => 3")
    assert "DUPLICATE_ENTRY" in res.reason
    res, _ = _run("add nosuch b1:1 fwd(port:3)\n")
    assert res.reason == "t.stf:1: add: no table named 'nosuch'"


def test_runner_engine_crash_is_a_failure_not_an_exception():
    sw = FakeSwitch()
    sw.fail_on = bytes.fromhex("0100")
    res = run_stf_file(parse_stf("expect 1 0100\npacket 0 0100\n", "c.stf"), FAKE_JSON,
                       switch_factory=lambda d: sw, api_factory=FakeApi)
    assert not res.passed and res.category == "crash"
    assert "c.stf:2" in res.reason and "RuntimeError: boom" in res.reason


def test_runner_load_error_is_reported():
    def boom(doc):
        from p4switch.errors import JsonLoadError
        raise JsonLoadError("pipelines[0]", "bad")
    res = run_stf_file(parse_stf("packet 0 00\n"), FAKE_JSON, switch_factory=boom,
                       api_factory=FakeApi)
    assert res.category == "load" and "pipelines[0]: bad" in res.reason


def test_run_stf_reports_stf_syntax_errors(tmp_path):
    j = tmp_path / "p.json"
    j.write_text(json.dumps(FAKE_JSON))
    s = tmp_path / "p.stf"
    s.write_text("packet 0 00\npacket 0 0z\n")
    res = run_stf(str(j), str(s), switch_factory=lambda d: FakeSwitch(), api_factory=FakeApi)
    assert res.category == "stf" and res.reason.startswith(f"{s}:2: invalid packet data character 'z'")


def test_odd_packet_data_last_digit_is_a_byte():
    """As p4c's BMv2 runner: a lone last hex digit D is the byte 0x0D."""
    a, b = parse_stf("packet 0 20 0\npacket 1 abc\n").statements
    assert a.data == bytes([0x20, 0x00])
    assert b.data == bytes([0xAB, 0x0C])


def test_check_counter_mismatch_is_a_warning_unless_strict():
    class CountingApi(FakeApi):
        def counter_read(self, name, index):
            assert (name, index) == ("ingress.cnt", 0)
            return (1, 60)
    doc = dict(FAKE_JSON, counter_arrays=[
        {"name": "ingress.cnt", "id": 0, "is_direct": True, "binding": "ingress.fwd_tbl"}])
    text = ("add fwd_tbl b1:5 fwd(port:3) = A\ncheck_counter cnt($A) packets == 2\n"
            "check_counter cnt($A) bytes == 60\n")
    res = run_stf_file(parse_stf(text, "k.stf"), doc, switch_factory=lambda d: FakeSwitch(),
                       api_factory=CountingApi)
    assert res.passed and res.warnings == ["k.stf:2: check_counter cnt: packets is 1, expected == 2"]
    res = run_stf_file(parse_stf(text, "k.stf"), doc, switch_factory=lambda d: FakeSwitch(),
                       api_factory=CountingApi, strict_counters=True)
    assert not res.passed and res.category == "counter"


# --------------------------------------------------------------------------- command line


def test_cli_syntax_error_exit_code_and_message(tmp_path, capsys):
    j = tmp_path / "p.json"
    j.write_text(json.dumps(FAKE_JSON))
    s = tmp_path / "p.stf"
    s.write_text("bogus 1\n")
    assert main(["--json", str(j), str(s)]) == 2
    out = capsys.readouterr().out
    assert f"{s}:1: unknown STF command 'bogus'" in out


def test_cli_missing_files(tmp_path, capsys):
    assert main(["--json", str(tmp_path / "no.json"), str(tmp_path / "no.stf")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_p4_source_without_compiler_says_so(tmp_path, capsys, monkeypatch):
    import p4switch.stf as stf_mod
    monkeypatch.setattr(stf_mod, "_compiler_command", lambda: None)
    p = tmp_path / "p.p4"
    p.write_text("// empty\n")
    s = tmp_path / "p.stf"
    s.write_text("packet 0 00\n")
    assert main([str(p), str(s)]) == 2
    err = capsys.readouterr().err
    assert "compiler" in err and "not installed" in err and "--json" in err


# --------------------------------------------------------------------------- end to end


def _corpus_case(conformance_dir, name="ternary2-bmv2"):
    stf = conformance_dir / "p4c-stf" / f"{name}.stf"
    js = conformance_dir / "p4c-json" / f"{name}.json"
    if not (stf.is_file() and js.is_file()):
        pytest.skip(f"{name} not in the corpus")
    return js, stf


def test_end_to_end_pass_with_real_switch(conformance_dir, capsys):
    js, stf = _corpus_case(conformance_dir)
    res = run_stf(str(js), str(stf))
    assert res.passed, res.report()
    assert res.packets_in > 0 and sum(len(v) for v in res.received.values()) > 0
    assert main(["--json", str(js), str(stf)]) == 0
    assert capsys.readouterr().out.startswith("PASS: ")
    assert main([str(js), str(stf)]) == 0          # PROG.json given positionally


def test_end_to_end_failure_shows_per_port_diff(conformance_dir, tmp_path, capsys):
    js, stf = _corpus_case(conformance_dir)
    text = stf.read_text()
    # Corrupt one expected nibble of the first expect line on port 2.
    lines = text.splitlines()
    i = next(n for n, l in enumerate(lines) if l.strip().startswith("expect 2"))
    head, data = lines[i].split("expect 2", 1)
    digits = data.strip().replace(" ", "")
    k = next(n for n in range(5, len(digits)) if digits[n] != "*")
    bad_digit = "0" if digits[k] != "0" else "1"
    lines[i] = f"expect 2 {digits[:k]}{bad_digit}{digits[k + 1:]}"
    bad = tmp_path / "bad.stf"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["--json", str(js), str(bad)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL: ")
    assert re.search(r"^port 2: 1 of \d+ packet\(s\) differ$", out, re.M)
    assert f"differs at nibble {k} (byte {k // 2})" in out
    rows = out.splitlines()
    j = next(n for n, l in enumerate(rows) if l.startswith("     received: "))
    assert rows[j + 1] == " " * (len("     received: ") + k) + "^"


def _fake_compiler(tmp_path, monkeypatch, body: str):
    import sys

    import p4switch.stf as stf_mod
    script = tmp_path / "fake_p4pc.py"
    script.write_text(body)
    monkeypatch.setattr(stf_mod, "_compiler_command", lambda: [sys.executable, str(script)])


def test_cli_p4_source_is_compiled_with_p4pc(conformance_dir, tmp_path, monkeypatch, capsys):
    js, stf = _corpus_case(conformance_dir)
    # A stand-in compiler honouring p4pc's interface: -o OUT.json SOURCE.p4.
    _fake_compiler(tmp_path, monkeypatch, (
        "import shutil, sys\n"
        "args = sys.argv[1:]\n"
        "out = args[args.index('-o') + 1]\n"
        "assert args[-1].endswith('.p4')\n"
        f"shutil.copy({str(js)!r}, out)\n"
    ))
    src = tmp_path / "prog.p4"
    src.write_text("// stand-in\n")
    assert main([str(src), str(stf)]) == 0
    assert capsys.readouterr().out.startswith("PASS: ")


def test_cli_p4_compile_failure_is_reported(tmp_path, monkeypatch, capsys):
    _fake_compiler(tmp_path, monkeypatch,
                   "import sys\nprint('prog.p4(3): error: boom', file=sys.stderr)\nsys.exit(1)\n")
    src = tmp_path / "prog.p4"
    src.write_text("// stand-in\n")
    s = tmp_path / "p.stf"
    s.write_text("packet 0 00\n")
    assert main([str(src), str(s)]) == 2
    err = capsys.readouterr().err
    assert "compilation failed" in err and "prog.p4(3): error: boom" in err


def test_tabs_and_crlf_line_endings():
    stf = parse_stf("packet\t0\t08 00\r\nEXPECT\t1\t0800 $\r\n")
    assert stf.statements == [PacketStmt(1, 0, b"\x08\x00"), ExpectStmt(2, 1, "0800", True)]


def test_error_columns_count_from_the_start_of_the_line():
    with pytest.raises(StfSyntaxError) as ei:
        parse_stf("  add t k:0x1 a(p:1) extra\n", "c.stf")
    assert str(ei.value) == "c.stf:1: unexpected 'extra' at column 22"
