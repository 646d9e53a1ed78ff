"""The daemon's controller over real P4Runtime: a p4sw P4Runtime server in
this process (memory ports), lvs.p4 pushed with the compiler's P4Info, new
flows created on packet-in and re-injected by packet-out, operator commands
over the control socket."""
from __future__ import annotations

import threading
import time

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from runtime import constants as K
from runtime.artifacts import compile_lvs
from runtime.config import parse_config
from runtime.daemon import CommandError, ControlServer, Controller, request
from runtime.entries import Entry, FlowKey
from runtime.p4rt import P4RuntimeClient, P4RuntimeClientError
from lvs_harness import running_controller, wait_sent
from tests.test_lvs_packets import (CLIENT, CLIENT_MAC, CLIENT_PORT, CONFIG, LIP, RS1, RS2,
                                    SERVER_PORT, SW1, SW2, VIP, assert_checksums_ok)


@pytest.fixture
def lb(tmp_path):
    with running_controller(tmp_path, CONFIG, [CLIENT_PORT, SERVER_PORT]) as lb:
        yield lb


def syn(sport):
    return bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                 TCP(sport=sport, dport=80, flags="S", seq=77))


def test_new_flow_through_packet_in_and_out(lb):
    ctl, wire, _ = lb
    wire[CLIENT_PORT].inject(syn(41000))
    [frame] = wait_sent(wire[SERVER_PORT])
    out = Ether(frame)
    assert out[IP].src == LIP and out[IP].dst in (RS1, RS2) and out[TCP].seq == 77
    assert_checksums_ok(frame)
    rec = ctl.mgr.sessions()[0]
    wire[SERVER_PORT].inject(bytes(Ether(dst=SW2) / IP(src=rec.server[0], dst=LIP) /
                                   TCP(sport=rec.server[1], dport=rec.local.port, flags="SA")))
    [frame] = wait_sent(wire[CLIENT_PORT])
    back = Ether(frame)
    assert (back[IP].src, back[TCP].sport, back[IP].dst, back[TCP].dport) == (VIP, 80, CLIENT, 41000)
    # a retransmitted SYN while the session exists: no second session
    wire[CLIENT_PORT].inject(syn(41000))
    assert len(wait_sent(wire[SERVER_PORT])) == 1
    assert len(ctl.mgr.sessions()) == 1


def test_spread_by_weight_and_udp(lb):
    ctl, wire, _ = lb
    for i in range(10):
        wire[CLIENT_PORT].inject(syn(42000 + i))
    frames = wait_sent(wire[SERVER_PORT], 10)
    assert len(frames) == 10
    dsts = [Ether(f)[IP].dst for f in frames]
    assert dsts.count(RS1) == 5 and dsts.count(RS2) == 5
    wire[CLIENT_PORT].inject(bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                                   UDP(sport=999, dport=53) / b"q"))
    [f] = wait_sent(wire[SERVER_PORT])
    assert Ether(f)[UDP].dport == 5353


def test_control_socket_list_and_reweight(lb):
    ctl, wire, tmp = lb
    srv = ControlServer(tmp / "ctl.sock", ctl)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        wire[CLIENT_PORT].inject(syn(43000))
        wait_sent(wire[SERVER_PORT])
        r = request(srv.path, {"cmd": "set-weight", "service": "web", "ip": RS1, "port": 8080,
                               "weight": 0})
        assert "ok" in r
        for i in range(4):
            wire[CLIENT_PORT].inject(syn(43100 + i))
        frames = wait_sent(wire[SERVER_PORT], 4)
        assert {Ether(f)[IP].dst for f in frames} == {RS2}          # RS1 drains
        lst = request(srv.path, {"cmd": "list"})
        web = next(s for s in lst["services"] if s["name"] == "web")
        assert sum(rs["packets"] for rs in web["servers"]) == 5
        assert lst["sessions"] == 5
        assert "error" in request(srv.path, {"cmd": "del-server", "service": "nope", "ip": RS1,
                                             "port": 1})
        assert "error" in request(srv.path, {"cmd": "frobnicate"})
        sess = request(srv.path, {"cmd": "sessions"})["sessions"]
        assert len(sess) == 5 and all(s["local"].startswith(LIP + ":") for s in sess)
    finally:
        srv.close()


def test_punt_rate_meter_set_over_p4runtime(lb):
    ctl, wire, _ = lb
    ctl.cfg = parse_config(CONFIG.replace("[global]", "[global]\npunt_rate = 1\npunt_burst = 3"))
    ctl.install()
    for i in range(8):
        wire[CLIENT_PORT].inject(syn(47000 + i))
    time.sleep(1.0)
    assert len(wait_sent(wire[SERVER_PORT], 8, timeout=0.5)) == 3
    assert ctl.command({"cmd": "list"})["drops"]["PUNT_RATE_LIMIT"]["packets"] == 5


def test_idle_timeout_frees_session(lb):
    ctl, wire, _ = lb
    ctl.mgr.cfg = parse_config(CONFIG.replace("[global]", "[global]\ntcp_timeout = 1\ntimeouts = { syn_recv = 1 }"))
    wire[CLIENT_PORT].inject(syn(44000))
    wait_sent(wire[SERVER_PORT])
    assert len(ctl.mgr.sessions()) == 1
    end = time.monotonic() + 6
    while ctl.mgr.sessions() and time.monotonic() < end:
        time.sleep(0.1)
    assert ctl.mgr.sessions() == [] and ctl.mgr.stats.expired == 1


def test_unreachable_switch_is_a_clear_error():
    c = P4RuntimeClient("127.0.0.1:1", timeout=0.5)
    with pytest.raises(P4RuntimeClientError, match="UNAVAILABLE"):
        c.connect()
    with pytest.raises(CommandError, match="no p4lvs daemon"):
        request("/nonexistent/ctl.sock", {"cmd": "list"})


def test_one_way_udp_flow_keeps_its_session(lb):
    """The reply direction idles, the client keeps sending: no expiry."""
    ctl, wire, _ = lb
    ctl.mgr.cfg = parse_config(CONFIG.replace("[global]", "[global]\nudp_timeout = 1"))
    dgram = bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                  UDP(sport=777, dport=53) / b"log line")
    servers = set()
    for _ in range(12):                      # 3 s of one-way traffic, timeout 1 s
        wire[CLIENT_PORT].inject(dgram)
        servers |= {Ether(f)[IP].dst for f in wait_sent(wire[SERVER_PORT])}
        time.sleep(0.25)
    assert ctl.mgr.stats.new_sessions == 1 and ctl.mgr.stats.expired == 0 and len(servers) == 1
    end = time.monotonic() + 6               # silence: now both directions idle
    while ctl.mgr.sessions() and time.monotonic() < end:
        time.sleep(0.1)
    assert ctl.mgr.sessions() == [] and ctl.mgr.stats.expired == 1


def test_add_and_delete_service_at_run_time(lb):
    ctl, wire, _ = lb
    assert "error" not in ctl.command({"cmd": "add-service", "name": "alt", "vip": VIP,
                                       "port": 8443, "protocol": "tcp", "scheduler": "maglev"})
    ctl.command({"cmd": "add-server", "service": "alt", "ip": RS1, "port": 9443, "weight": 1})
    pkt = bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                TCP(sport=45000, dport=8443, flags="S"))
    wire[CLIENT_PORT].inject(pkt)
    [f] = wait_sent(wire[SERVER_PORT])
    assert (Ether(f)[IP].dst, Ether(f)[TCP].dport) == (RS1, 9443)
    with pytest.raises(CommandError, match="protocol"):
        ctl.command({"cmd": "add-service", "name": "x", "vip": VIP, "port": 1, "protocol": "sctp"})
    with pytest.raises(CommandError, match="not configured"):
        ctl.command({"cmd": "add-service", "name": "y", "vip": "10.9.9.9", "port": 1})
    ctl.command({"cmd": "del-service", "name": "alt"})
    assert ctl.mgr.sessions() == []
    wire[CLIENT_PORT].inject(bytes(Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
                                   TCP(sport=45001, dport=8443, flags="S")))
    assert wait_sent(wire[SERVER_PORT], timeout=1.0) == []        # service gone: dropped


def test_group_of_switches_shares_every_session(tmp_path):
    """Two balancers (devices 0 and 1) driven by one controller: a session
    created on a packet-in from one is installed on both, so a reply that
    ECMP brings to the other balancer is translated too (session sync)."""
    import queue

    from p4switch.p4runtime.host import memory_host
    from p4switch.p4runtime.server import P4RuntimeServer
    art = compile_lvs(tmp_path / "build")
    server = P4RuntimeServer("127.0.0.1:0")
    hosts, wires = [], []
    for dev in (0, 1):
        host, wire = memory_host([CLIENT_PORT, SERVER_PORT], K.CPU_PORT)
        server.add_device(dev, host)
        host.start()
        hosts.append(host)
        wires.append(wire)
    server.start()
    events = queue.Queue()
    clients = [P4RuntimeClient(f"127.0.0.1:{server.port}", dev, events=events) for dev in (0, 1)]
    for c in clients:
        c.connect()
        c.set_pipeline(art.json, art.p4info)
    ctl = Controller(parse_config(CONFIG), clients)
    ctl.install()
    th = threading.Thread(target=ctl.run, daemon=True)
    th.start()
    try:
        wires[0][CLIENT_PORT].inject(syn(46000))
        [frame] = wait_sent(wires[0][SERVER_PORT])
        assert Ether(frame)[IP].src == LIP
        rec = ctl.mgr.sessions()[0]
        wires[1][SERVER_PORT].inject(bytes(Ether(dst=SW2) / IP(src=rec.server[0], dst=LIP) /
                                           TCP(sport=rec.server[1], dport=rec.local.port, flags="SA")))
        [frame] = wait_sent(wires[1][CLIENT_PORT])
        assert (Ether(frame)[IP].src, Ether(frame)[TCP].dport) == (VIP, 46000)
        web = next(s for s in ctl.command({"cmd": "list"})["services"] if s["name"] == "web")
        assert web["packets"] == 2                  # one packet on each switch, summed
    finally:
        ctl.stop()
        th.join(2)
        for c in clients:
            c.close()
        server.stop()
        for h in hosts:
            h.stop()
            h.close()
            h.loop.close()


def test_restarted_daemon_adopts_the_sessions(lb):
    """A new daemon on a switch that keeps running: its sessions go on, their
    local ports stay taken, a stray entry is removed."""
    ctl, wire, _ = lb
    wire[CLIENT_PORT].inject(syn(48000))
    wait_sent(wire[SERVER_PORT])
    old = ctl.mgr.sessions()[0]
    ctl.stop()
    ctl.clients[0].write([Entry(K.T_SESSION, FlowKey(6, "10.0.1.9", 1, VIP, 80).match(),
                                "session_rewrite", old.entries[0].params)])   # unpaired
    addr = ctl.clients[0].addr
    json_p4info = ctl.clients[0].p4info
    ctl.clients[0].close()
    client = P4RuntimeClient(addr, election_id=(0, 2))
    client.connect()
    client.p4info = json_p4info
    new = Controller(parse_config(CONFIG), client)
    new.install()
    assert new.adopt() == "adopted 1 session(s), removed 1 stray entries"
    assert [(r.inbound, r.local) for r in new.mgr.sessions()] == [(old.inbound, old.local)]
    assert client.read_table_count(K.T_SESSION) == 2
    th = threading.Thread(target=new.run, daemon=True)
    th.start()
    try:
        wire[SERVER_PORT].inject(bytes(Ether(dst=SW2) / IP(src=old.server[0], dst=LIP) /
                                       TCP(sport=old.server[1], dport=old.local.port, flags="SA")))
        [frame] = wait_sent(wire[CLIENT_PORT])
        assert Ether(frame)[TCP].dport == 48000
        for i in range(6):
            wire[CLIENT_PORT].inject(syn(48100 + i))
        wait_sent(wire[SERVER_PORT], 6)
        assert old.local not in {r.local for r in new.mgr.sessions()[1:]}
    finally:
        new.stop()
        th.join(2)
        client.close()
