"""The p4sw command: flags, errors, runtime CLI socket, p4sw-cli, end to end."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from p4switch.cli import CliClient, ControlServer, parse_args
from p4switch.errors import RuntimeApiError
from p4switch.ports import PacketLoop, read_pcap, write_pcap

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("P4LVS_SHARED", REPO.parent / "shared"))
P4C_JSON = SHARED / "conformance" / "p4c-json"


def test_flags_like_simple_switch_grpc():
    a = parse_args(["prog.json", "-i", "1@veth1", "--interface", "2@veth2",
                    "--device-id", "3", "--thrift-port", "9091", "--log-console",
                    "--log-level", "debug", "--pcap", "--max-port-count", "8", "--", "--cpu-port", "255",
                    "--grpc-server-addr", "127.0.0.1:9559", "--drop-port", "511"])
    assert a.json == "prog.json"
    assert [(s.port, s.iface) for s in a.interfaces] == [(1, "veth1"), (2, "veth2")]
    assert (a.device_id, a.thrift_port, a.cpu_port, a.drop_port) == (3, 9091, 255, 511)
    assert a.pcap == "." and a.log_level == "debug" and a.grpc_server_addr == "127.0.0.1:9559"
    assert parse_args(["x.json", "--use-files"]).use_files == 0
    assert parse_args(["x.json", "--use-files", "2"]).use_files == 2
    assert parse_args(["--no-p4"]).json is None
    assert parse_args(["x.json", "--no-p4"]).json is None   # BMv2: warns, ignores the JSON
    assert parse_args(["x.json", "--use-files", "-1"]).use_files == 0


@pytest.mark.parametrize("argv", [
    [],                                   # no program
    ["x.json", "--log-console", "--log-file", "f"],
    ["x.json", "--pcap", "/nonexistent/dir"],
    ["x.json", "-i", "veth0"],            # no PORT@
    ["x.json", "-i", "1@a", "-i", "1@b"],  # same port twice
    ["x.json", "--exit-when-done"],
    ["x.json", "--log-level", "loud"],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(argv)
    assert e.value.code == 2
    assert "usage:" in capsys.readouterr().err


def subprocess_env() -> dict:
    """Environment whose Python finds this checkout even from another cwd."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_p4sw(*args, timeout=60, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "p4switch.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=subprocess_env())


def test_missing_json_file_is_a_clear_error(tmp_path):
    cp = run_p4sw(tmp_path / "nope.json")
    assert cp.returncode == 2
    assert "nope.json" in cp.stderr and "Traceback" not in cp.stderr


def test_bad_json_exit_2_without_traceback(tmp_path):
    pytest.importorskip("p4switch.switch", reason="switch engine not written yet")
    bad = tmp_path / "bad.json"
    bad.write_text('{"header_types": [ {"name": 1 ')
    cp = run_p4sw(bad)
    assert cp.returncode == 2, cp.stderr
    assert cp.stderr.startswith("p4sw: error:") and "Traceback" not in cp.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"header_types": "not a list"}')
    cp = run_p4sw(wrong)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr, cp.stderr


# ---------------------------------------------------------------------------
# the runtime CLI socket, with a stand-in command runner

def fake_runner(line: str) -> str:
    words = line.split()
    if words[0] == "echo":
        return " ".join(words[1:])
    if words[0] == "boom":
        raise RuntimeApiError("no such thing: boom")
    if words[0] == "crash":
        raise KeyError("bug")
    raise RuntimeApiError(f"unknown command {words[0]}")


@pytest.fixture
def control_server():
    loop = PacketLoop(lambda p, d: [], [])
    server = ControlServer(loop, fake_runner, 0)
    t = threading.Thread(target=loop.run, daemon=True)
    t.start()
    yield server
    loop.stop()
    t.join(5)
    server.close()
    loop.close()


def test_control_socket_protocol(control_server):
    with CliClient(control_server.port, timeout=5) as c:
        assert c.command("echo hello world") == (True, "hello world")
        assert c.command("echo %percent") == (True, "%percent")
        assert c.command("# a comment") == (True, "")
        assert c.command("boom") == (False, "no such thing: boom")
        ok, msg = c.command("crash")
        assert not ok and "KeyError" in msg
        assert c.command("echo still alive") == (True, "still alive")


def test_p4sw_cli_client(control_server, tmp_path):
    cmds = tmp_path / "cmds.txt"
    cmds.write_text("echo one\n\n# skip\necho two\n")
    cp = subprocess.run([sys.executable, "-c", "import sys; from p4switch.cli import client_main; "
                         "sys.exit(client_main())", "--thrift-port", str(control_server.port), str(cmds)],
                        capture_output=True, text=True, timeout=30, env=subprocess_env())
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["one", "two"]
    cp = subprocess.run([sys.executable, "-c", "import sys; from p4switch.cli import client_main; "
                         "sys.exit(client_main())", "--thrift-port", str(control_server.port),
                         "-c", "boom"], capture_output=True, text=True, timeout=30, env=subprocess_env())
    assert cp.returncode == 1 and "no such thing" in cp.stderr


def test_p4sw_cli_without_server():
    from p4switch.cli import client_main
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert client_main(["--thrift-port", str(port), "-c", "echo x"]) == 1


# ---------------------------------------------------------------------------
# end to end with the engine: issue2153 sends b==0x55 to port 1 once
# `table_add ingress.simple_table ingress.do_something 0x55 =>` is in.

PKT_OTHER = bytes.fromhex("111111111111222222222222" "3333" "FFEE")
PKT_MATCH = bytes.fromhex("111111111111222222222222" "3333" "FF55")
OUT_MATCH = bytes.fromhex("111111111111222222222222" "3333" "0055")
TABLE_ADD = "table_add ingress.simple_table ingress.do_something 0x55 =>"


def _engine_or_skip():
    pytest.importorskip("p4switch.switch", reason="switch engine not written yet")
    pytest.importorskip("p4switch.runtime_api", reason="runtime API not written yet")
    prog = P4C_JSON / "issue2153-bmv2.json"
    if not prog.exists():
        pytest.skip(f"{prog} not found (set P4LVS_SHARED)")
    return prog


def test_use_files_with_cli_commands(tmp_path):
    prog = _engine_or_skip()
    write_pcap(str(tmp_path / "p0_in.pcap"), [PKT_OTHER, PKT_MATCH])
    write_pcap(str(tmp_path / "p1_in.pcap"), [])
    (tmp_path / "cmds.txt").write_text(f"# entries\n{TABLE_ADD}\n")
    cp = run_p4sw(prog, "-i", "0@p0", "-i", "1@p1", "--use-files", "0", "--exit-when-done",
                  "--cli-commands", "cmds.txt", "--thrift-port", "0", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    assert "Adding interface p0 as port 0 (files)" in cp.stdout
    assert read_pcap(str(tmp_path / "p0_out.pcap")) == [PKT_OTHER]
    assert read_pcap(str(tmp_path / "p1_out.pcap")) == [OUT_MATCH]


def test_bad_cli_commands_file_exit_2(tmp_path):
    prog = _engine_or_skip()
    (tmp_path / "cmds.txt").write_text("table_add ingress.no_such_table x 1 =>\n")
    cp = run_p4sw(prog, "--cli-commands", "cmds.txt", "--thrift-port", "0", cwd=tmp_path)
    assert cp.returncode == 2
    assert "cmds.txt:1:" in cp.stderr and "Traceback" not in cp.stderr


def test_running_switch_takes_entries_and_stops_on_sigterm(tmp_path):
    prog = _engine_or_skip()
    write_pcap(str(tmp_path / "p0_in.pcap"), [PKT_MATCH])
    write_pcap(str(tmp_path / "p1_in.pcap"), [])
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "p4switch.cli", str(prog), "-i", "0@p0",
                             "-i", "1@p1", "--use-files", "4", "--thrift-port", "0",
                             "--ready-file", str(ready)], cwd=tmp_path, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "p4sw did not become ready"
            time.sleep(0.05)
        pid, port = map(int, ready.read_text().split())
        assert pid == proc.pid
        with CliClient(port, timeout=10) as c:
            ok, msg = c.command(TABLE_ADD)
            assert ok, msg
            ok, msg = c.command("table_add ingress.nope ingress.do_something 1 =>")
            assert not ok and msg
        deadline = time.monotonic() + 30
        while not read_pcap(str(tmp_path / "p1_out.pcap")):
            assert time.monotonic() < deadline, "packet never left on port 1"
            time.sleep(0.1)
        assert read_pcap(str(tmp_path / "p1_out.pcap")) == [OUT_MATCH]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_grpc_server_only_when_asked(tmp_path):
    cp = run_p4sw("--no-p4", "--grpc-server-addr", "127.0.0.1:0", "--thrift-port", "0",
                  "--use-files", "0", "--exit-when-done", cwd=tmp_path)
    assert cp.returncode == 0, cp.stderr
    assert "P4Runtime server listening on 127.0.0.1:" in cp.stdout + cp.stderr
    cp = run_p4sw("--no-p4", "--thrift-port", "0", "--use-files", "0", "--exit-when-done", cwd=tmp_path)
    assert "P4Runtime" not in cp.stdout + cp.stderr
