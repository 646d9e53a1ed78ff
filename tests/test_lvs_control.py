"""The controller's install and operator commands over real P4Runtime (a p4sw
P4Runtime server in this process, memory ports): one worker (the default)
installs, the commands behave like the ipvsadm ones the user guide maps them
to, malformed control-socket requests get error replies."""
from __future__ import annotations

import json
import socket
import threading

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from runtime import constants as K
from runtime.config import parse_config
from runtime.daemon import CommandError, ControlServer, request
from lvs_harness import running_controller, wait_sent
from tests.test_lvs_packets import (
    CLIENT,
    CLIENT_MAC,
    CLIENT_PORT,
    CONFIG,
    RS1,
    RS2,
    SERVER_PORT,
    SW1,
    VIP,
)

ONE_WORKER = CONFIG.replace("workers = 2\n", "")       # the default: workers = 1


@pytest.fixture
def lb1(tmp_path):
    assert parse_config(ONE_WORKER).global_.workers == 1
    with running_controller(tmp_path, ONE_WORKER, [CLIENT_PORT, SERVER_PORT]) as lb:
        yield lb


def test_one_worker_installs_and_serves(lb1):
    ctl, wire, _ = lb1
    partition = [e for e in ctl.clients[0].read_entries(K.T_LPORT_PARTITION)]
    assert len(partition) == 1 and [n for n, _ in partition[0].match] == ["local_addr"]
    wire[CLIENT_PORT].inject(bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                                   TCP(sport=41000, dport=80, flags="S")))
    [f] = wait_sent(wire[SERVER_PORT])
    assert Ether(f)[IP].dst in (RS1, RS2)
    assert len(ctl.mgr.sessions()) == 1


def _cmd(ctl, **req):
    return ctl.command(req)


def test_server_commands_follow_ipvsadm(lb1):
    ctl, _, _ = lb1
    # ipvsadm -e on a real server the service does not have: refused, nothing added
    with pytest.raises(CommandError, match=r"service 'web' has no real server 10\.0\.2\.99:8080 "
                                           r"\(add it with add-server\)"):
        _cmd(ctl, cmd="set-weight", service="web", ip="10.0.2.99", port=8080, weight=2)
    assert ("10.0.2.99", 8080) not in ctl.mgr.services["web"].weights
    # ipvsadm -a on an existing real server: refused, weight unchanged
    with pytest.raises(CommandError, match=r"already has real server .*8080 \(weight 1\); "
                                           r"change its weight with set-weight"):
        _cmd(ctl, cmd="add-server", service="web", ip=RS1, port=8080, weight=5)
    assert ctl.mgr.services["web"].weights[(RS1, 8080)] == 1
    # the ordinary uses still work
    assert "ok" in _cmd(ctl, cmd="set-weight", service="web", ip=RS1, port=8080, weight=3)
    assert "ok" in _cmd(ctl, cmd="add-server", service="web", ip="10.0.2.99", port=8080)
    assert ctl.mgr.services["web"].weights == {(RS1, 8080): 3, (RS2, 8080): 1, ("10.0.2.99", 8080): 1}
    # each bad value is named
    for req, msg in [
        ({"cmd": "add-server", "service": "web", "ip": RS1, "port": 8081, "weight": -1},
         "weight -1 is outside 0..10000"),
        ({"cmd": "set-weight", "service": "web", "ip": RS1, "port": 8080, "weight": 10001},
         "weight 10001 is outside 0..10000"),
        ({"cmd": "add-server", "service": "web", "ip": RS1, "port": 70000}, "port 70000 is outside 1..65535"),
        ({"cmd": "set-weight", "service": "nosuch", "ip": RS1, "port": 8080, "weight": 1}, "no service 'nosuch'"),
    ]:
        with pytest.raises(CommandError) as ei:
            ctl.command(req)
        assert str(ei.value) == msg or str(ei.value).startswith(msg), (req, str(ei.value))


def test_malformed_requests_get_error_replies(lb1):
    ctl, _, tmp = lb1
    srv = ControlServer(tmp / "ctl.sock", ctl)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(10)
            c.connect(str(tmp / "ctl.sock"))
            f = c.makefile("rwb")
            for raw, want in [
                (b"[1,2]", "bad request: expected a JSON object, not an array"),
                (b'"list"', "bad request: expected a JSON object, not a string"),
                (b"{}", "bad request: 'cmd' must be a string"),
                (b'{"cmd": 7}', "bad request: 'cmd' must be a string"),
                (b'{"cmd": "nope"}', "unknown command 'nope'"),
                (b'{"cmd": "list", "x": 1}', "bad request: 'list' has no field 'x'"),
                (b'{"cmd": "set-weight", "service": "web"}',
                 "bad request: 'set-weight' needs field 'ip', 'port', 'weight'"),
                ((b'{"cmd": "set-weight", "service": "web", "ip": "10.0.2.11", "port": "80", '
                  b'"weight": 1}'),
                 "bad request: 'set-weight' field 'port' must be a number, not a string"),
                ((b'{"cmd": "del-server", "service": "web", "ip": "10.0.2.11", "port": 8080, '
                  b'"flush": 1}'), "bad request: 'del-server' field 'flush' must be true/false"),
            ]:
                f.write(raw + b"\n")
                f.flush()
                resp = json.loads(f.readline())
                assert set(resp) == {"error"} and resp["error"].startswith(want), (raw, resp)
                assert "Error" not in resp["error"], resp      # no Python exception names
        assert "services" in request(tmp / "ctl.sock", {"cmd": "list"})     # still serving
    finally:
        srv.close()


def test_socket_path_too_long_is_named(tmp_path):
    long = tmp_path / ("s" * 200)
    with pytest.raises(CommandError, match=r"control socket path is \d+ bytes long; a unix socket "
                                           r"path holds at most 107"):
        request(long, {"cmd": "list"})
    with pytest.raises(CommandError, match="at most 107"):
        ControlServer(long, None)
