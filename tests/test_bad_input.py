"""Bad input to every user-facing command: a clear, specific error, a documented
exit status, no Python traceback, no process left behind, and malformed frames
counted and dropped while the switch keeps forwarding.

Each case asserts both that "Traceback" is absent and that the specific message
is present, so a regression to either a traceback or a vaguer message fails.
Exit statuses: p4sw / p4stf-syntax / p4lvs-config errors 2; p4sw-cli, p4stf
test failures, p4pc, p4lvs ops and the topologies' commands 1; argparse 2.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lvs_config import web_config

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _build_basic() -> tuple[Path, Path]:
    """basic.p4 compiled by p4pc into a fresh folder for this run (a clean clone
    has no build/, and a stale build/ must not be what these tests check)."""
    import atexit
    import shutil
    import tempfile

    from topologies.build import basic_p4, compile_p4
    out = Path(tempfile.mkdtemp(prefix="p4lvs-badinput-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    return compile_p4(basic_p4(), out, "basic")


BASIC_JSON, BASIC_P4INFO = _build_basic()
FULL_JSON = REPO / "tests" / "p4rt_programs" / "p4rt_full.json"
SHARED = Path(os.environ.get("P4LVS_SHARED", REPO.parent / "shared")) / "conformance"
FORLOOP_JSON = SHARED / "p4c-json" / "forloop-bmv2.json"
TUTORIAL_RUNTIME = SHARED / "tutorials" / "basic" / "pod-topo" / "s1-runtime.json"


def _tool(name: str) -> list[str]:
    exe = BIN / name
    if exe.exists():
        return [str(exe)]
    pytest.skip(f"{name} is not installed in {BIN}")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run(argv: list[str], *, cwd: Path | None = None, timeout: float = 60,
        stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd or REPO,
                          env=_env(), input=stdin if stdin is not None else b"")


def assert_error(cp: subprocess.CompletedProcess, status: int, *messages: str) -> str:
    """`cp` failed with `status`, printed every one of `messages` and no traceback."""
    out = cp.stdout.decode("utf-8", "replace") + cp.stderr.decode("utf-8", "replace")
    assert "Traceback" not in out, out
    assert cp.returncode == status, (cp.returncode, out)
    for m in messages:
        assert m in out, (m, out)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Bad files of every kind, shared by the cases below."""
    d = tmp_path_factory.mktemp("bad")
    f = {
        "missing": d / "nosuch.json",
        "truncated": d / "trunc.json",
        "empty": d / "empty.json",
        "binary": d / "binary.json",
        "directory": d / "adir.json",
        "list": d / "list.json",
        "p4info_json": d / "p4info.json",
        "p4info_text": d / "p4info.txtpb",
        "p4_source": d / "prog.p4",
        "deep": d / "deep.json",
        "huge": d / "huge.json",
    }
    f["truncated"].write_text('{"header_types": [1, 2')
    f["empty"].write_bytes(b"")
    f["binary"].write_bytes(bytes(range(256)) * 8)
    f["directory"].mkdir()
    f["list"].write_text("[1, 2, 3]")
    f["p4info_json"].write_text(json.dumps(
        {"pkgInfo": {"arch": "v1model"}, "tables": [{"preamble": {"id": 1, "name": "t"}}]}))
    f["p4info_text"].write_text(BASIC_P4INFO.read_text() if BASIC_P4INFO.exists()
                                else 'pkg_info {\n  arch: "v1model"\n}\n')
    f["p4_source"].write_text("#include <v1model.p4>\ncontrol x {\n")
    f["deep"].write_text("[" * 200000)
    with open(f["huge"], "wb") as h:  # 20 MB that is not JSON
        h.write(b"\0" * (20 << 20))
    return f


# ---------------------------------------------------------------------------
# p4sw: program files

@pytest.mark.parametrize("kind, message", [
    ("missing", "cannot read"),
    ("truncated", "not valid JSON"),
    ("empty", "not valid JSON"),
    ("binary", "not valid JSON"),
    ("directory", "Is a directory"),
    ("list", "top level must be a JSON object"),
    ("p4info_json", "looks like a P4Info in JSON, not BMv2 JSON"),
    ("p4info_text", "looks like a text P4Info, not BMv2 JSON"),
    ("p4_source", "looks like P4 source: compile it with p4pc"),
    ("deep", "nested too deeply"),
    ("huge", "not valid JSON"),
])
def test_p4sw_bad_program_file(files, kind, message):
    cp = run(_tool("p4sw") + [str(files[kind]), "--thrift-port", "0"], timeout=120)
    assert_error(cp, 2, "p4sw: error:", message)


# ---------------------------------------------------------------------------
# p4sw: flags

@pytest.mark.parametrize("argv, message", [
    (["-i", "1@nosuchif0"], "no interface named 'nosuchif0'"),
    (["-i", "x@lo"], "port 'x' is not a number"),
    (["-i", "1@"], "expected PORT@IFACE"),
    (["--thrift-port", "70000"], "--thrift-port 70000: not a TCP port"),
    (["--thrift-port", "-5"], "--thrift-port -5: not a TCP port"),
    (["--thrift-port", "abc"], "invalid int value: 'abc'"),
    (["--grpc-server-addr", "127.0.0.1:99999"], "'99999' is not a TCP port"),
    (["--grpc-server-addr", "nonsense"], "'nonsense' is not a TCP port"),
    (["--grpc-server-addr", "unix:"], "no socket path"),
    (["--batch", "0"], "--batch 0: must be at least 1"),
    (["--max-frame", "-1"], "--max-frame -1: must be in 1.."),
    (["--drop-port", "-1"], "--drop-port -1: must be in 0.."),
    (["--cpu-port", "511"], "--cpu-port 511 is also the drop port"),
    (["--device-id", "-1"], "--device-id -1: must be in 0.."),
    (["--log-file", "/nonexistent-dir/x.log"], "cannot open log file"),
    (["--pcap", "/nonexistent-dir"], "given with --pcap does not exist"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_p4sw_bad_flags(argv, message):
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--thrift-port", "0"] + argv
             if "--thrift-port" not in argv else _tool("p4sw") + [str(BASIC_JSON)] + argv, timeout=30)
    assert_error(cp, 2, message)


def test_p4sw_ready_file_unwritable():
    """Fails after the sockets are open: they must be closed, the exit clean."""
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--thrift-port", "0",
                              "--ready-file", "/nonexistent-dir/ready"], timeout=30)
    assert_error(cp, 2, "cannot write --ready-file /nonexistent-dir/ready")


def test_p4sw_thrift_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        cp = run(_tool("p4sw") + [str(BASIC_JSON), "--thrift-port", str(port)], timeout=30)
    assert_error(cp, 2, f"cannot listen on 127.0.0.1:{port}")


def test_p4sw_cli_commands_file_errors(tmp_path, files):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("table_add MyIngress.ipv4_lpm MyIngress.drop 10.0.0.1/32\n"
                    "table_add nosuch x\n")
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--thrift-port", "0", "--cli-commands", str(cmds)])
    assert_error(cp, 2, f"{cmds}:2: table_add nosuch x: unknown table 'nosuch'")
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--thrift-port", "0",
                              "--cli-commands", str(files["binary"])])
    assert_error(cp, 2, "not a text file")


# ---------------------------------------------------------------------------
# p4sw-cli, and a live switch's runtime CLI session

def test_p4sw_cli_without_switch(files):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    cp = run(_tool("p4sw-cli") + ["--thrift-port", str(free), "-c", "table_dump x"])
    assert_error(cp, 1, f"cannot connect to 127.0.0.1:{free}")
    cp = run(_tool("p4sw-cli") + ["--thrift-port", "70000", "-c", "x"])
    assert_error(cp, 2, "--thrift-port 70000: not a TCP port")
    cp = run(_tool("p4sw-cli") + ["--thrift-port", str(free), str(files["binary"])])
    assert_error(cp, 1, "not a text file")
    cp = run(_tool("p4sw-cli") + ["--thrift-port", str(free)], stdin=bytes(range(128, 256)))
    assert_error(cp, 1, "standard input: not a text file")


def _start_p4sw(tmp_path: Path, program: Path, *extra: str, netns: str | None = None
                ) -> tuple[subprocess.Popen, int]:
    ready = tmp_path / "ready"
    argv = _tool("p4sw") + [str(program), "--thrift-port", "0", "--ready-file", str(ready), *extra]
    if netns:
        argv = ["ip", "netns", "exec", netns] + argv
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"p4sw did not start: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    return proc, int(ready.read_text().split()[1])


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    return err


LIVE_BAD_COMMANDS = [
    ("table_add", "usage: table_add"),
    ("table_add MyIngress.ipv4_lpm", "usage: table_add"),
    ("table_add nosuch MyIngress.drop 1 =>", "unknown table 'nosuch'"),
    ("table_add MyIngress.ipv4_lpm nosuch 10.0.0.1/32 =>", "nosuch"),
    ("table_add MyIngress.ipv4_lpm MyIngress.ipv4_forward 10.0.0.1/40 => 00:00:00:00:00:01 1",
     "40"),
    ("table_add MyIngress.ipv4_lpm MyIngress.ipv4_forward 10.0.0.1/32 => 1", "needs 2 parameter(s)"),
    ("table_delete MyIngress.ipv4_lpm 999", "999"),
    ("register_write nosuch 0 1", "nosuch"),
    ("register_read nosuch 0", "nosuch"),
    ("mc_node_create 1 x", "'x' is not a number"),
    ("mc_node_associate 5 77", "77"),
    ("mirroring_add x 1", "'x' is not a number"),
    ("frobnicate", "unknown command 'frobnicate'"),
    ("table_add 'unbalanced", "cannot parse command line"),
]


def test_live_runtime_cli_bad_commands_keep_session(tmp_path):
    """Bad commands get "%error <reason>" on the same connection; the next good
    command works; p4sw-cli reports them with status 1; p4sw prints no traceback."""
    from p4switch.cli import CliClient
    proc, port = _start_p4sw(tmp_path, BASIC_JSON)
    try:
        with CliClient(port, timeout=20) as c:
            for line, message in LIVE_BAD_COMMANDS:
                ok, text = c.command(line)
                assert not ok and message in text, (line, text)
                assert "Traceback" not in text
            ok, text = c.command(f"load_new_config_file {BASIC_P4INFO}")
            assert not ok and "looks like a text P4Info" in text, text
            ok, text = c.command("swap_configs")
            assert not ok and "no new config loaded" in text, text
            ok, text = c.command("table_add MyIngress.ipv4_lpm MyIngress.drop 10.0.0.1/32 =>")
            assert ok and "handle 0" in text, text
            ok, text = c.command("show_ports")
            assert ok and "# loop: processed 0" in text, text
        cp = run(_tool("p4sw-cli") + ["--thrift-port", str(port), "-c", "table_add nosuch x",
                                      "-c", "table_num_entries MyIngress.ipv4_lpm"])
        out = assert_error(cp, 1, "Error: table_add nosuch x: unknown table 'nosuch'")
        assert out.splitlines()[0] == "1"   # the good command after it still ran
    finally:
        err = _stop(proc)
    assert "Traceback" not in err, err
    assert proc.returncode == 0, err


def test_live_runtime_cli_bad_indices(tmp_path):
    """Out-of-range indices on a program with registers/counters/meters."""
    from p4switch.cli import CliClient
    prog = json.loads(FULL_JSON.read_text())
    reg = prog["register_arrays"][0]
    ctr = prog["counter_arrays"][0]
    proc, port = _start_p4sw(tmp_path, FULL_JSON)
    try:
        with CliClient(port, timeout=20) as c:
            for line in (f"register_read {reg['name']} {reg['size']}",
                         f"register_write {reg['name']} -1 0",
                         f"register_write {reg['name']} 0 {1 << 200}",
                         f"counter_read {ctr['name']} {ctr['size'] + 5}",
                         f"register_read {reg['name']}x 0"):
                ok, text = c.command(line)
                assert not ok and text and "Traceback" not in text, (line, text)
            ok, _ = c.command(f"register_read {reg['name']} 0")
            assert ok
    finally:
        err = _stop(proc)
    assert "Traceback" not in err and proc.returncode == 0, err


def test_p4sw_malformed_pcap_inputs(tmp_path):
    """--use-files: a file that is not pcap is refused at start-up; a damaged
    record is counted (rx_malformed) and the switch exits cleanly."""
    (tmp_path / "g1_in.pcap").write_bytes(b"garbage-not-a-pcap-file-at-all")
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--use-files", "0", "-i", "1@g1",
                              "--exit-when-done", "--thrift-port", "0"], cwd=tmp_path)
    assert_error(cp, 2, "g1_in.pcap: not a pcap file")
    (tmp_path / "g2_in.pcap").write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--use-files", "0", "-i", "1@g2",
                              "--exit-when-done", "--thrift-port", "0"], cwd=tmp_path)
    assert_error(cp, 2, "g2_in.pcap: too short for a pcap header")
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    (tmp_path / "g3_in.pcap").write_bytes(header + struct.pack("<IIII", 0, 0, 100, 100) + bytes(20))
    cp = run(_tool("p4sw") + [str(BASIC_JSON), "--use-files", "0", "-i", "1@g3", "--log-console",
                              "--exit-when-done", "--thrift-port", "0"], cwd=tmp_path)
    out = cp.stdout.decode() + cp.stderr.decode()
    assert cp.returncode == 0 and "Traceback" not in out, out
    assert "port 1 (g3): rx=0 tx=0 rx_malformed=1" in out, out


# ---------------------------------------------------------------------------
# p4stf

STF_CASES = [
    ("packet 0 05zz\n", 2, "invalid packet data character 'z'"),
    ("add nosuch h.h.count:0x04 nested_loop()\n", 1, "no table named 'nosuch'"),
    ("add t h.h.count:0x04 nosuch()\n", 1, "no action named 'nosuch'"),
    ("add t h.h.count:0x04 nested_loop(x:1)\n", 1, "has no parameter 'x'"),
    ("add t h.h.nosuch:0x04 nested_loop()\n", 1, "no key field 'h.h.nosuch'"),
    ("add t h.h.count:0xzz nested_loop()\n", 2, "bad number '0xzz' at column 17"),
    ("frobnicate 1 2\n", 2, "unknown STF command 'frobnicate'"),
    ("packet x 0500\n", 2, "bad port number 'x'"),
    ("packet\n", 2, "'packet' needs a port number"),
    ("add t h.h.count:0x04 nested_loop(\n", 2, "expected an action parameter name"),
    ("wait abc\n", 2, "'wait' takes no arguments"),
    ("mc_mgrp_create x\n", 1, "multicast group id: 'x' is not a number"),
]


@pytest.mark.parametrize("text, status, message", STF_CASES)
def test_p4stf_malformed_lines(tmp_path, text, status, message):
    if not FORLOOP_JSON.exists():
        pytest.skip("conformance corpus not found")
    stf = tmp_path / "t.stf"
    stf.write_text(text)
    cp = run(_tool("p4stf") + [str(FORLOOP_JSON), str(stf)])
    assert_error(cp, status, f"{stf}:1:", message)


@pytest.mark.parametrize("kind, message", [
    ("truncated", "invalid JSON"),
    ("binary", "invalid JSON"),
    ("list", "top level is not an object"),
    ("p4info_json", "looks like a P4Info in JSON"),
    ("deep", "invalid JSON"),
])
def test_p4stf_bad_program(tmp_path, files, kind, message):
    stf = tmp_path / "t.stf"
    stf.write_text("packet 0 00\n")
    cp = run(_tool("p4stf") + ["--json", str(files[kind]), str(stf)])
    assert_error(cp, 2, message)


def test_p4stf_missing_files(tmp_path, files):
    cp = run(_tool("p4stf") + [str(BASIC_JSON), str(tmp_path / "nosuch.stf")])
    assert_error(cp, 2, "no such file")
    stf = tmp_path / "t.stf"
    stf.write_text("")
    cp = run(_tool("p4stf") + [str(files["missing"]), str(stf)])
    assert_error(cp, 2, "no such file")
    cp = run(_tool("p4stf") + [str(stf)])
    assert_error(cp, 2, "missing the program")


# ---------------------------------------------------------------------------
# p4pc (a located diagnostic)

def test_p4pc_bad_inputs(tmp_path, files):
    cp = run(_tool("p4pc") + [str(files["p4_source"])])
    assert_error(cp, 1, f"{files['p4_source']}(2):", "^")
    cp = run(_tool("p4pc") + [str(tmp_path / "nosuch.p4")])
    assert_error(cp, 1, "No such file or directory")
    cp = run(_tool("p4pc") + [str(files["binary"])])
    assert_error(cp, 1, "error")


# ---------------------------------------------------------------------------
# p4lvs

BAD_CONFIG = """\
[global]
fullnat = "yes"
tcp_timeout = -90
udp_timeout = 30.5
workers = 200
colour = "blue"

[[interface]]
port = 1
mac = "02:00:00:00:00"
ip = "10.0.1.300"

[[route]]
prefix = "10.0.1.0/33"
port = 99
next_hop_mac = "zz"

[local]
addresses = ["10.0.2.100", "fe80::1", 5]
port_range = [65535, 5000]

[[service]]
name = "web"
vip = "10.0.0.100"
port = 80
protocol = "sctp"
scheduler = "lc"
[[service.server]]
ip = "10.0.2.11"
port = 8000
[[service.server]]
ip = "10.0.2.11"
port = 8000

[[service]]
name = "web"
vip = "10.0.0.100"
port = 80
protocol = "tcp"
[[service]]
name = "web2"
vip = "10.0.0.100"
port = 80
protocol = "tcp"
[[service]]
name = "neg"
vip = "10.0.0.101"
port = 80
protocol = "tcp"
bogus = 1
[[service.server]]
ip = "10.0.2.12"
port = 8000
weight = -3
[[service]]
name = "ok1"
vip = "10.0.0.102"
port = 80
protocol = "tcp"
[[service]]
name = "ok2"
vip = "10.0.0.102"
port = 80
protocol = "tcp"
"""

BAD_CONFIG_LINES = [
    ":2: global.fullnat: 'fullnat' must be true or false",
    ":3: global.tcp_timeout: tcp_timeout -90 s is outside",
    ":4: global.udp_timeout: 'udp_timeout' must be an integer",
    ":5: global.workers: workers must be a power of two",
    ":6: global.colour: unknown key 'colour'",
    ":10: interface[0].mac: '02:00:00:00:00' is not a MAC address",
    ":11: interface[0].ip: '10.0.1.300' is not an IPv4 address",
    ":14: route[0].prefix: bad prefix '10.0.1.0/33'",
    ":15: route[0].port: port 99 is not a configured interface",
    ":16: route[0].next_hop_mac: 'zz' is not a MAC address",
    ":19: local.addresses: 'fe80::1' is not an IPv4 address",
    ":19: local.addresses: addresses[2] must be a string",
    ":20: local.port_range: port_range must be [low, high]",
    ":26: service[0].protocol: protocol must be one of tcp, udp",
    ":27: service[0].scheduler: scheduler must be one of wrr, maglev",
    "service[3].server[0].weight: weight -3 is outside",
    "service[0].server[1]: real server 10.0.2.11:8000 listed twice",
    "service[1].name: service name 'web' already used by service[0]",
    "service[5]: tcp 10.0.0.102:80 already defined by service[4]",
    "service[3].bogus: unknown key 'bogus'",
]


def test_p4lvs_config_rejected_whole_with_lines(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(BAD_CONFIG)
    cp = run(_tool("p4lvs") + ["check", "-c", str(cfg)])
    assert_error(cp, 2, "invalid configuration", *[f"{cfg}{m}" if m.startswith(":") else m
                                                   for m in BAD_CONFIG_LINES])
    sock = tmp_path / "ctl.sock"
    cp = run(_tool("p4lvs") + ["run", "-c", str(cfg), "--socket", str(sock)], timeout=120)
    assert_error(cp, 2, f"{cfg}:6: global.colour: unknown key 'colour'")
    assert not sock.exists()  # nothing was started


@pytest.mark.parametrize("text, message", [
    ("[global]\nfullnat = \n", ":2: TOML syntax"),
    ("service = 5\n", "'service' must be an array"),
    ("global = 3\n", "'global' must be a table"),
])
def test_p4lvs_config_shapes(tmp_path, text, message):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert_error(run(_tool("p4lvs") + ["check", "-c", str(cfg)]), 2, message)


def test_p4lvs_config_unreadable(tmp_path, files):
    cp = run(_tool("p4lvs") + ["check", "-c", str(files["missing"])])
    assert_error(cp, 2, "cannot read: No such file or directory")
    cp = run(_tool("p4lvs") + ["check", "-c", str(files["directory"])])
    assert_error(cp, 2, "cannot read: Is a directory")


def test_p4lvs_config_binary(files):
    cp = run(_tool("p4lvs") + ["check", "-c", str(files["binary"])])
    out = assert_error(cp, 2, "invalid configuration", "not UTF-8 text")
    assert len(out.strip().splitlines()) == 2, out      # the heading and one located line


def test_p4lvs_socket_path_too_long(tmp_path):
    long = str(tmp_path / ("s" * 200))
    for argv in (["list", "--socket", long], ["set-weight", "--socket", long, "web", "10.0.0.1:80", "1"]):
        out = assert_error(run(_tool("p4lvs") + argv), 1, "p4lvs: control socket path is ",
                           "a unix socket path holds at most 107")
        assert "None" not in out, out


OTHER_P4INFO = """\
pkg_info { arch: "v1model" }
tables {
  preamble { id: 33554433 name: "MyIngress.synproxy_other" alias: "synproxy_other" }
  size: 1
}
"""


@pytest.mark.slow
def test_p4lvs_run_with_p4info_of_another_program(tmp_path):
    """Every missing object is listed, exit 1, and the switch (running no
    program) is left without one: nothing was pushed or written."""
    from runtime.artifacts import compile_lvs
    art = compile_lvs(tmp_path / "build")
    cfg = tmp_path / "good.toml"
    cfg.write_text(GOOD_CONFIG)
    other = tmp_path / "other.p4info.txtpb"
    other.write_text(OTHER_P4INFO)
    # an older lvs.p4: this version's P4Info without the SYN-cookie table
    old = tmp_path / "old.p4info.txtpb"
    text = art.p4info.read_text()
    start = text.index('alias: "synproxy_secret"')
    start = text.rindex("tables {", 0, start)
    end = text.index("\ntables {", start) + 1 if "\ntables {" in text[start + 1:] else \
        text.index("\nactions {", start) + 1
    old.write_text(text[:start] + text[end:])
    sw = subprocess.Popen(_tool("p4sw") + ["--no-p4", "--grpc-server-addr", "127.0.0.1:0",
                                           "--thrift-port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        addr = None
        deadline = time.monotonic() + 60
        while addr is None and time.monotonic() < deadline and sw.poll() is None:
            line = sw.stdout.readline().decode()
            if line.startswith("P4Runtime server listening on "):
                addr = line.split()[4]
        assert addr, "p4sw did not start its P4Runtime server"
        for p4info, missing in [(other, ["table global_config", "table synproxy_secret",
                                         "counter drop_stats", "digest tcp_event_t",
                                         "controller packet metadata packet_in"]),
                                (old, ["missing 1: table synproxy_secret"])]:
            cp = run(_tool("p4lvs") + ["run", "-c", str(cfg), "--switch", addr, "--json",
                                       str(art.json), "--p4info", str(p4info), "--socket",
                                       str(tmp_path / "ctl.sock")], timeout=120)
            assert_error(cp, 1, f"p4lvs: {p4info} does not match what the p4lvs daemon needs",
                         *missing)
            assert not (tmp_path / "ctl.sock").exists()
        # the switch still has no pipeline: nothing was pushed
        import grpc

        from p4common.proto import p4runtime_pb2 as pb
        from p4common.proto import p4runtime_pb2_grpc as pb_grpc
        with grpc.insecure_channel(addr) as ch, pytest.raises(grpc.RpcError) as ei:
            pb_grpc.P4RuntimeStub(ch).GetForwardingPipelineConfig(
                pb.GetForwardingPipelineConfigRequest(device_id=0), timeout=10)
        assert ei.value.code() == grpc.StatusCode.FAILED_PRECONDITION, ei.value
    finally:
        _stop(sw)
        sw.stdout.close()


@pytest.mark.parametrize("argv, status, message", [
    (["list"], 1, "no p4lvs daemon at"),
    (["sessions"], 1, "no p4lvs daemon at"),
    (["add-server", "web", "10.0.0.1:80"], 1, "no p4lvs daemon at"),
    (["set-weight", "web", "10.0.0.1:80", "2"], 1, "no p4lvs daemon at"),
    (["del-service", "web"], 1, "no p4lvs daemon at"),
    (["add-server", "web", "nothing"], 2, "'nothing' is not IP:PORT"),
    (["set-weight", "web", "10.0.0.1:80", "abc"], 2, "invalid int value: 'abc'"),
])
def test_p4lvs_ops_without_daemon(tmp_path, argv, status, message):
    cp = run(_tool("p4lvs") + argv[:1] + ["--socket", str(tmp_path / "none.sock")] + argv[1:])
    assert_error(cp, status, message)


@pytest.fixture
def lvs_daemon(tmp_path):
    """p4sw (P4Runtime only) + `p4lvs run` compiling p4src/lvs.p4; yields the
    control socket.  Both are ours and stopped by pid."""
    cfg = tmp_path / "good.toml"
    cfg.write_text(GOOD_CONFIG)
    ready = tmp_path / "ready"
    sw = subprocess.Popen(_tool("p4sw") + ["--no-p4", "--grpc-server-addr", "127.0.0.1:0",
                                           "--thrift-port", "0", "--ready-file", str(ready)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    procs = [sw]
    try:
        addr = None
        deadline = time.monotonic() + 60
        while addr is None and time.monotonic() < deadline and sw.poll() is None:
            line = sw.stdout.readline().decode()
            if line.startswith("P4Runtime server listening on "):
                addr = line.split()[4]
        assert addr, "p4sw did not start its P4Runtime server"
        sock = tmp_path / "ctl.sock"
        d = subprocess.Popen(_tool("p4lvs") + ["run", "-c", str(cfg), "--switch", addr,
                                               "--socket", str(sock), "--build-dir",
                                               str(tmp_path / "build")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
        procs.append(d)
        deadline = time.monotonic() + 240
        while not sock.exists():
            if d.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"p4lvs did not start: {d.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield sock, d
    finally:
        for p in reversed(procs):
            _stop(p)
            if p.stdout:
                p.stdout.close()


GOOD_CONFIG = web_config(route=False)


@pytest.mark.slow
def test_p4lvs_ops_bad_requests_to_running_daemon(lvs_daemon):
    sock, daemon = lvs_daemon
    s = ["--socket", str(sock)]
    for argv, message in [
        (["set-weight", *s, "web", "10.0.2.11:8000", "-5"], "weight -5 is outside 0..10000"),
        (["add-server", *s, "web", "10.0.2.12:8000", "-w", "-1"], "weight -1 is outside 0..10000"),
        (["set-weight", *s, "nosuch", "10.0.2.11:8000", "1"], "no service 'nosuch'"),
        (["set-weight", *s, "web", "10.0.2.99:8000", "1"],
         "service 'web' has no real server 10.0.2.99:8000 (add it with add-server)"),
        (["add-server", *s, "web", "10.0.2.11:8000", "-w", "1"],
         "service 'web' already has real server 10.0.2.11:8000 (weight 3)"),
        (["add-server", *s, "web", "10.0.2.12:99999"], "port 99999 is outside 1..65535"),
        (["add-server", *s, "web", "300.0.2.12:80"], "'300.0.2.12' is not an IPv4 address"),
        (["del-server", *s, "web", "10.0.2.99:80"], "has no real server 10.0.2.99:80"),
        (["del-service", *s, "nosuch"], "no service 'nosuch'"),
        (["add-service", *s, "web", "--vip", "10.0.0.100", "--port", "80"], "service 'web' exists"),
        (["add-service", *s, "w2", "--vip", "10.0.0.100", "--port", "80"], "is already a service"),
        (["add-service", *s, "w3", "--vip", "999.0.0.1", "--port", "80"], "is not an IPv4 address"),
        (["add-service", *s, "w4", "--vip", "10.0.0.7", "--port", "0"], "port 0 is outside"),
    ]:
        assert_error(run(_tool("p4lvs") + argv), 1, "p4lvs: ", message)
    # a raw request that is not JSON gets an error reply; the daemon keeps serving
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(str(sock))
        c.sendall(b"{not json\n")
        assert b'"error": "bad request' in c.recv(4096)
        c.sendall(b"[1,2]\n")                    # JSON, but not an object
        reply = c.recv(4096)
        assert b'"error": "bad request: expected a JSON object' in reply, reply
        assert b"AttributeError" not in reply
    cp = run(_tool("p4lvs") + ["list", *s])
    assert cp.returncode == 0 and b"Traceback" not in cp.stderr
    assert daemon.poll() is None


# ---------------------------------------------------------------------------
# topologies

def _module(name: str) -> list[str]:
    return [sys.executable, "-m", f"topologies.{name}"]


def test_tutorial_p4rt_bad_inputs(tmp_path, files):
    base = _module("tutorial_p4rt") + ["--grpc", "127.0.0.1:1", "--check"]
    assert_error(run(base + ["--runtime", str(files["binary"])]), 1, "not JSON: not UTF-8 text")
    assert_error(run(base + ["--runtime", str(files["truncated"])]), 1, "not JSON")
    assert_error(run(base + ["--runtime", str(files["list"])]), 1, "expected an object")
    assert_error(run(base + ["--runtime", str(files["missing"])]), 1, "cannot read")
    if not TUTORIAL_RUNTIME.exists():
        pytest.skip("tutorials corpus not found")
    rt = json.loads(TUTORIAL_RUNTIME.read_text())
    rt["table_entries"][1]["action_name"] = ["x"]
    bad = tmp_path / "rt.json"
    bad.write_text(json.dumps(rt))
    cp = run(base + ["--runtime", str(bad), "--p4info", str(BASIC_P4INFO)])
    assert_error(cp, 1, "table_entries[1].action_name: expected a name, got ['x']")
    cp = run(base + ["--runtime", str(TUTORIAL_RUNTIME), "--p4info", str(BASIC_JSON)])
    assert_error(cp, 1, "neither text nor binary P4Info")
    cp = run(base + ["--runtime", str(TUTORIAL_RUNTIME), "--timeout", "-1"])
    assert_error(cp, 2, "--timeout -1.0: must be more than 0")


@pytest.mark.parametrize("content, message", [
    (None, "not JSON: not UTF-8 text"),
    ("[1]", "expected an object"),
    ("{}", "no hosts and no switches"),
    ('{"hosts": {"h1": 5}}', "hosts.h1: expected an object, got 5"),
    ('{"hosts": [1]}', "hosts: expected an object"),
    ('{"hosts": {"h1": {"mac": "zz"}}}', "hosts.h1.mac: 'zz' is not a MAC address"),
    ('{"hosts": {"h1": {"ip": "10.0.1.300/24"}}}', "hosts.h1.ip: '10.0.1.300/24' is not an IPv4"),
    ('{"hosts": {"h1": {"commands": "ls"}}}', "hosts.h1.commands: expected a list of strings"),
    ('{"hosts": {"h1": {}}, "links": [["h1", "s9-p1"]]}', "unknown node 's9-p1'"),
    ('{"switches": {"s1": {"runtime_json": 5}}}', "switches.s1.runtime_json: expected a path"),
])
def test_topology_json_rejected(tmp_path, content, message):
    from topologies.graph import TopologyError
    from topologies.tutorials import load_topology_json
    topo = tmp_path / "topology.json"
    if content is None:
        topo.write_bytes(bytes(range(128, 256)))
    else:
        topo.write_text(content)
    with pytest.raises(TopologyError) as e:
        load_topology_json(str(topo))
    assert message in str(e.value)
    # and through the command, when Mininet is there to get that far
    from topologies.mininet_backend import SYSTEM_PYTHON, mininet_supported
    if mininet_supported(SYSTEM_PYTHON)[0]:
        cp = run(_module("mininet_backend") + ["--topology", str(topo),
                                               "--program", str(BASIC_JSON)])
        assert_error(cp, 1, "mininet_backend: error:", message)


@pytest.mark.slow
@pytest.mark.root
def test_mininet_backend_sigterm_cleans_up():
    """SIGTERM unwinds like ^C: Mininet stopped, switches gone, temp workdir removed."""
    from topologies.mininet_backend import SYSTEM_PYTHON, mininet_supported
    ok, why = mininet_supported(SYSTEM_PYTHON)
    if not ok:
        pytest.skip(why)
    topo = SHARED / "tutorials" / "basic" / "pod-topo" / "topology.json"
    if not topo.exists():
        pytest.skip("tutorials corpus not found")
    proc = subprocess.Popen(_module("mininet_backend") + ["--topology", str(topo),
                                                          "--program", str(BASIC_JSON)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=REPO)
    workdir = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            if not line:
                break
            if "(workdir " in line:
                workdir = Path(line.rsplit("(workdir ", 1)[1].rstrip(")\n"))
            if "running;" in line:
                break
        assert workdir is not None and workdir.is_dir(), "the topology did not come up"
        proc.terminate()
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
    assert rc == 128 + 15 and "Traceback" not in err, (rc, err)
    assert not workdir.exists(), f"{workdir} left behind"


def test_mininet_backend_bad_flags(files):
    cp = run(_module("mininet_backend") + ["--topology", "x.json", "--program", "y.json",
                                           "--ready-timeout", "0"])
    assert_error(cp, 2, "--ready-timeout 0.0: must be more than 0")


def test_lvs_demo_bad_flags(files):
    assert_error(run(_module("lvs_demo") + ["--requests", "0"]), 2, "--requests 0: must be at least 1")
    cp = run(_module("lvs_demo") + ["--out", str(files["p4info_json"])])
    assert_error(cp, 2, "cannot create the directory: File exists")


# ---------------------------------------------------------------------------
# malformed frames: counted, dropped, and the switch keeps forwarding

ETH = bytes.fromhex("080000000222" "080000000111" "0800")


def _ipv4(ihl: int = 5, total: int = 40, payload: bytes = bytes(20)) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total, 0, 0, 64, 6, 0,
                       bytes([10, 0, 1, 1]), bytes([10, 0, 2, 2])) + payload


GOOD = ETH + _ipv4()
MALFORMED = {
    "empty": b"",
    "runt_1": b"\x01",
    "runt_13": ETH[:13],
    "eth_only": ETH,
    "truncated_ipv4": ETH + _ipv4()[:10],
    "ihl_0": ETH + _ipv4(ihl=0, payload=b""),
    "ihl_15_short": ETH + _ipv4(ihl=15, payload=b""),
    "giant": ETH + _ipv4(total=65535, payload=bytes(100000)),
}


def test_malformed_frames_memory_ports():
    from p4switch.ports import MemoryPort, PacketLoop
    from p4switch.runtime_api import RuntimeApi
    from p4switch.switch import Switch
    sw = Switch.from_json(BASIC_JSON.read_bytes())
    RuntimeApi(sw).run_command("table_add MyIngress.ipv4_lpm MyIngress.ipv4_forward "
                               "10.0.2.2/32 => 08:00:00:00:02:22 2")
    p1, p2 = MemoryPort(1), MemoryPort(2)
    loop = PacketLoop(sw.process_packet, [p1, p2])
    try:
        for name, frame in MALFORMED.items():
            p1.inject(frame)
            p1.inject(GOOD)
            loop.drain()
            out = p2.take_sent()
            assert out and out[-1][:6] == GOOD[:6] and len(out[-1]) == len(GOOD), name
            assert loop.stats.errors == 0, name
        assert p1.stats.rx_empty == 1 and p1.stats.rx_oversized == 1
        # the runts reach no port (egress_spec 0 has no interface): counted as such
        assert loop.stats.no_port >= 4
        assert p1.take_sent() == []
    finally:
        loop.close()


@pytest.mark.root
def test_malformed_frames_veth_netns(tmp_path):
    """A running p4sw on veths in namespaces we create (and delete): malformed
    frames are counted (show_ports), good frames keep being forwarded."""
    from topologies.netns import NetnsSet, in_netns, netns_supported
    ok, why = netns_supported()
    if not ok:
        pytest.skip(why)
    from p4switch.cli import CliClient
    with NetnsSet() as nets:
        sw_ns, h_ns = nets.add_ns("sw"), nets.add_ns("h")
        nets.add_veth(sw_ns, "s1", h_ns, "h1", mtu=9000)
        nets.add_veth(sw_ns, "s2", h_ns, "h2", mtu=9000)
        cmds = tmp_path / "cmds.txt"
        cmds.write_text("table_add MyIngress.ipv4_lpm MyIngress.ipv4_forward "
                        "10.0.2.2/32 => 08:00:00:00:02:22 2\n")
        proc, port = _start_p4sw(tmp_path, BASIC_JSON, "-i", "1@s1", "-i", "2@s2",
                                 "--max-frame", "1600", "--cli-commands", str(cmds),
                                 netns=sw_ns)
        try:
            with in_netns(h_ns):
                tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            tx.bind(("h1", 0))
            rx.bind(("h2", 0))
            rx.settimeout(0.2)
            frames = [ETH + _ipv4()[:10], ETH + _ipv4(ihl=0, payload=b""),
                      ETH + _ipv4(total=8000, payload=bytes(7980)), GOOD]
            for f in frames:
                tx.send(f)
            got = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(g[34:54] == GOOD[34:54] and len(g) >= 54
                                                          for g in got):
                try:
                    got.append(rx.recv(65536))
                except socket.timeout:
                    pass
            tx.close()
            rx.close()
            assert any(len(g) >= 54 and g[:6] == GOOD[:6] for g in got), got
            with in_netns(sw_ns):
                c = CliClient(port, timeout=20)
            with c:
                ok, text = c.command("show_ports")
            assert ok and "rx_oversized=1" in text, text
        finally:
            err = _stop(proc)
        assert "Traceback" not in err and proc.returncode == 0, err
