"""lvs.p4 packet by packet: scapy frames in, expected frames out, checksums
verified by scapy. The program is compiled by p4pc, run in-process by p4sw,
and configured with exactly the entries the daemon computes (runtime.entries /
runtime.sessions), resolved through the compiler's P4Info."""
from __future__ import annotations

import random
import struct
import textwrap

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether

from p4common.p4info import EntityKind, P4InfoIndex, load_p4info
from p4switch.runtime_api import RuntimeApi
from p4switch.switch import Switch
from runtime import constants as K
from runtime.artifacts import compile_lvs
from runtime.config import parse_config
from runtime.entries import punt_meter, static_entries
from runtime.sessions import SessionManager, parse_flow
from runtime.writers import InProcessWriter

CLIENT_PORT, SERVER_PORT = 1, 2
SW1, SW2 = "02:00:00:00:01:01", "02:00:00:00:02:01"
CLIENT_MAC, RS1_MAC, RS2_MAC = "02:00:00:00:01:02", "02:00:00:00:02:11", "02:00:00:00:02:12"
CLIENT, VIP, LIP = "10.0.1.2", "10.0.0.100", "10.0.2.100"
RS1, RS2 = "10.0.2.11", "10.0.2.12"

CONFIG = textwrap.dedent(f"""
    [global]
    fullnat = true
    icmp_echo = true
    workers = 2
    [[interface]]
    port = {CLIENT_PORT}
    mac = "{SW1}"
    ip = "10.0.1.1"
    [[interface]]
    port = {SERVER_PORT}
    mac = "{SW2}"
    ip = "10.0.2.1"
    [[route]]
    prefix = "10.0.1.0/24"
    port = {CLIENT_PORT}
    next_hop_mac = "{CLIENT_MAC}"
    [[route]]
    prefix = "{RS1}/32"
    port = {SERVER_PORT}
    next_hop_mac = "{RS1_MAC}"
    [[route]]
    prefix = "{RS2}/32"
    port = {SERVER_PORT}
    next_hop_mac = "{RS2_MAC}"
    [local]
    addresses = ["{LIP}"]
    port_range = [5000, 5099]
    [[service]]
    name = "web"
    vip = "{VIP}"
    port = 80
    protocol = "tcp"
    [[service.server]]
    ip = "{RS1}"
    port = 8080
    weight = 1
    [[service.server]]
    ip = "{RS2}"
    port = 8080
    weight = 1
    [[service]]
    name = "dns"
    vip = "{VIP}"
    port = 53
    protocol = "udp"
    [[service.server]]
    ip = "{RS2}"
    port = 5353
    [[service]]
    name = "off"
    vip = "{VIP}"
    port = 81
    protocol = "tcp"
    fullnat = false
    [[service.server]]
    ip = "{RS1}"
    port = 8081
""")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    return compile_lvs(tmp_path_factory.mktemp("lvs"))


class Lb:
    """lvs.p4 in a p4sw plus the controller's session logic, wired by hand
    the way the daemon wires them over P4Runtime."""

    def __init__(self, artifacts, config_text=CONFIG):
        self.sw = Switch.from_json(artifacts.json.read_bytes(), cpu_port=K.CPU_PORT)
        self.api = RuntimeApi(self.sw)
        self.p4info = P4InfoIndex(load_p4info(artifacts.p4info))
        self.cfg = parse_config(config_text)
        self.mgr = SessionManager(self.cfg)
        self.writer = InProcessWriter(self.api, self.p4info)
        self.writer.write(static_entries(self.cfg, self.mgr.svc_index))
        self.writer.set_meter(punt_meter(self.cfg.global_))

    def send(self, port, pkt):
        return self.sw.process_packet(port, bytes(pkt))

    def packet_out(self, frame, ingress_port):
        hdr = ((ingress_port & 0x1FF) << 7).to_bytes(2, "big")        # ingress_port + pad
        out = (0).to_bytes(2, "big") + bytes([K.OUT_OP_PIPELINE]) + hdr + bytes(5)
        # packet_out: egress_port(9) pad(7) op(8) ingress_port(9) pad(7) rst_slot(32) rst_gen(8)
        return self.sw.process_packet(K.CPU_PORT, out + frame)

    def through(self, port, pkt):
        """Send; if punted, let the controller create the session and
        re-inject, as the daemon does. Returns the switch's output."""
        out = self.send(port, pkt)
        if len(out) == 1 and out[0][0] == K.CPU_PORT:
            meta, frame = split_packet_in(out[0][1])
            assert meta["reason"] == K.PUNT_NEW_FLOW
            plan = self.mgr.new_flow(parse_flow(frame))
            self.writer.write(plan.writes)
            assert plan.reinject, plan.note
            out = self.packet_out(frame, meta["ingress_port"])
        return out

    def drops(self, reason_name):
        reason = {v: k for k, v in K.DROP_REASONS.items()}[reason_name]
        name = self.p4info.entities(EntityKind.COUNTER)[K.C_DROP_STATS].preamble.name
        return self.api.counter_read(name, reason)[0]


def split_packet_in(data):
    """packet_in: ingress_port(9) pad(7) reason(8) svc_idx(16) partition(8)."""
    port_pad, reason, svc, part = struct.unpack_from("!HBHB", data)
    return {"ingress_port": port_pad >> 7, "reason": reason, "svc_idx": svc,
            "partition": part}, data[6:]


def assert_checksums_ok(frame):
    """scapy recomputes every checksum from scratch; they must equal ours."""
    p = Ether(frame)
    q = Ether(frame)
    del q[IP].chksum
    for layer in (TCP, UDP, ICMP):
        if layer in q and not (layer is UDP and p[UDP].chksum == 0):
            del q[layer].chksum
    q = Ether(bytes(q))
    assert p[IP].chksum == q[IP].chksum, "IPv4 header checksum"
    for layer in (TCP, UDP, ICMP):
        if layer in p and not (layer is UDP and p[UDP].chksum == 0):
            assert p[layer].chksum == q[layer].chksum, f"{layer.__name__} checksum"


def client_tcp(sport=40000, flags="S", dport=80, payload=b""):
    return (Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP, ttl=64, id=7) /
            TCP(sport=sport, dport=dport, flags=flags, seq=1000, ack=0 if flags == "S" else 1)
            / payload)


@pytest.fixture
def lb(artifacts):
    return Lb(artifacts)


def test_arp_reply_for_vip_and_local_address(lb):
    for addr, port, mac in ((VIP, CLIENT_PORT, SW1), (LIP, SERVER_PORT, SW2)):
        req = Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc=CLIENT_MAC, psrc="10.0.1.2", pdst=addr)
        [(eport, data)] = lb.send(port, req)
        rep = Ether(data)
        assert eport == port
        assert rep[Ether].src == mac and rep[Ether].dst == CLIENT_MAC
        assert rep[ARP].op == 2 and rep[ARP].hwsrc == mac and rep[ARP].psrc == addr
        assert rep[ARP].pdst == "10.0.1.2" and rep[ARP].hwdst == CLIENT_MAC
    unknown = Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, psrc=CLIENT, pdst="10.9.9.9")
    assert lb.send(CLIENT_PORT, unknown) == []
    assert lb.drops("ARP_UNKNOWN") == 1


def test_syn_is_punted_with_reason_and_service(lb):
    [(port, data)] = lb.send(CLIENT_PORT, client_tcp())
    meta, frame = split_packet_in(data)
    assert port == K.CPU_PORT
    assert meta == {"ingress_port": CLIENT_PORT, "reason": K.PUNT_NEW_FLOW,
                    "svc_idx": lb.mgr.svc_index.get("web"), "partition": 0}
    assert frame == bytes(client_tcp())          # untouched


def test_tcp_fullnat_both_directions(lb):
    syn = client_tcp(sport=40001)
    [(port, data)] = lb.through(CLIENT_PORT, syn)
    rec = lb.mgr.sessions()[0]
    out = Ether(data)
    assert port == SERVER_PORT
    assert (out[IP].src, out[TCP].sport) == (rec.local.addr, rec.local.port)
    assert (out[IP].dst, out[TCP].dport) == rec.server
    assert out[IP].src == LIP and out[TCP].dport == 8080
    assert out[IP].ttl == 63 and out[Ether].src == SW2
    assert out[Ether].dst == (RS1_MAC if rec.server[0] == RS1 else RS2_MAC)
    assert out[TCP].seq == 1000 and out[TCP].flags == "S"
    assert_checksums_ok(data)

    synack = (Ether(src=RS1_MAC, dst=SW2) / IP(src=rec.server[0], dst=LIP, ttl=64) /
              TCP(sport=8080, dport=rec.local.port, flags="SA", seq=5000, ack=1001) / b"hello")
    [(port, data)] = lb.send(SERVER_PORT, synack)
    back = Ether(data)
    assert port == CLIENT_PORT
    assert (back[IP].src, back[TCP].sport, back[IP].dst, back[TCP].dport) == (VIP, 80, CLIENT, 40001)
    assert back[Ether].dst == CLIENT_MAC and back[Ether].src == SW1 and back[IP].ttl == 63
    assert bytes(back[TCP].payload) == b"hello"
    assert_checksums_ok(data)

    # a data segment of the established flow goes straight through, no punt
    [(port, data)] = lb.send(CLIENT_PORT, client_tcp(sport=40001, flags="A", payload=b"GET /"))
    assert port == SERVER_PORT
    assert_checksums_ok(data)


def test_udp_fullnat_both_directions_and_zero_checksum(lb):
    q = (Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
         UDP(sport=33333, dport=53) / b"query")
    [(port, data)] = lb.through(CLIENT_PORT, q)
    out = Ether(data)
    rec = lb.mgr.sessions()[0]
    assert port == SERVER_PORT and (out[IP].dst, out[UDP].dport) == (RS2, 5353)
    assert (out[IP].src, out[UDP].sport) == (LIP, rec.local.port)
    assert_checksums_ok(data)
    rep = (Ether(src=RS2_MAC, dst=SW2) / IP(src=RS2, dst=LIP) /
           UDP(sport=5353, dport=rec.local.port) / b"answer")
    [(port, data)] = lb.send(SERVER_PORT, rep)
    back = Ether(data)
    assert port == CLIENT_PORT and (back[IP].src, back[UDP].sport) == (VIP, 53)
    assert (back[IP].dst, back[UDP].dport) == (CLIENT, 33333)
    assert_checksums_ok(data)
    # UDP without a checksum keeps "no checksum"
    raw = bytearray(bytes(q))
    raw[40:42] = b"\x00\x00"
    [(port, data)] = lb.send(CLIENT_PORT, Ether(bytes(raw)))
    assert port == SERVER_PORT and Ether(data)[UDP].chksum == 0


def test_checksums_over_many_random_sessions(artifacts):
    """Carries in the incremental update: random clients and ports."""
    lb = Lb(artifacts)
    rnd = random.Random(5)
    for _ in range(25):
        src = f"10.0.1.{rnd.randint(2, 254)}"
        sport = rnd.randint(1024, 65535)
        pkt = (Ether(src=CLIENT_MAC, dst=SW1) / IP(src=src, dst=VIP, ttl=rnd.randint(2, 255),
                                                  id=rnd.randint(0, 65535)) /
               TCP(sport=sport, dport=80, flags="S", seq=rnd.randint(0, 2**32 - 1)))
        [(port, data)] = lb.through(CLIENT_PORT, pkt)
        assert port == SERVER_PORT
        assert_checksums_ok(data)


def test_drops_are_counted_by_reason(lb):
    assert lb.send(CLIENT_PORT, client_tcp(sport=40002, flags="A")) == []
    assert lb.drops("NO_SESSION") == 1
    assert lb.send(CLIENT_PORT, client_tcp(dport=8080)) == []
    assert lb.drops("VIP_NO_SERVICE") == 1
    assert lb.send(CLIENT_PORT, client_tcp(dport=81)) == []
    assert lb.drops("FULLNAT_OFF") == 1
    frag = Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP, flags="MF") / UDP(dport=53)
    assert lb.send(CLIENT_PORT, frag) == []
    assert lb.drops("FRAGMENT") == 1
    gre = Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP, proto=47) / (b"x" * 8)
    assert lb.send(CLIENT_PORT, gre) == []
    assert lb.drops("VIP_PROTOCOL") == 1
    bad = bytearray(bytes(client_tcp()))
    bad[24] ^= 0xFF                                # IPv4 header checksum
    assert lb.send(CLIENT_PORT, Ether(bytes(bad))) == []
    assert lb.drops("BAD_IP_CHECKSUM") == 1
    stray = Ether(src=RS1_MAC, dst=SW2) / IP(src=RS1, dst=LIP) / TCP(sport=8080, dport=5001, flags="A")
    assert lb.send(SERVER_PORT, stray) == []
    assert lb.drops("NO_SESSION") == 2
    ttl1 = Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=RS1, ttl=1) / TCP()
    assert lb.send(CLIENT_PORT, ttl1) == []
    assert lb.drops("TTL_EXPIRED") == 1


def test_transit_traffic_is_routed(lb):
    pkt = Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=RS1, ttl=10) / TCP(dport=22)
    [(port, data)] = lb.send(CLIENT_PORT, pkt)
    out = Ether(data)
    assert port == SERVER_PORT and out[Ether].dst == RS1_MAC and out[IP].ttl == 9
    assert (out[IP].src, out[IP].dst) == (CLIENT, RS1)
    assert_checksums_ok(data)


def test_icmp_echo_to_vip_answered(lb):
    ping = (Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) /
            ICMP(type=8, id=77, seq=3) / b"ping-payload")
    [(port, data)] = lb.send(CLIENT_PORT, ping)
    rep = Ether(data)
    assert port == CLIENT_PORT and rep[ICMP].type == 0 and rep[ICMP].id == 77
    assert (rep[IP].src, rep[IP].dst) == (VIP, CLIENT)
    assert bytes(rep[ICMP].payload) == b"ping-payload"
    assert_checksums_ok(data)


@pytest.mark.parametrize("where", ["global", "service"])
def test_icmp_echo_to_vip_dropped_when_off(artifacts, where):
    text = CONFIG.replace("icmp_echo = true", "icmp_echo = false") if where == "global" else \
        CONFIG.replace('name = "web"', 'name = "web"\nicmp_echo = false')
    lb = Lb(artifacts, text)
    ping = Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP) / ICMP(type=8)
    assert lb.send(CLIENT_PORT, ping) == []
    assert lb.drops("ICMP_ECHO_OFF") == 1


def test_idle_session_removed_frees_port_and_traffic_stops(lb):
    lb.through(CLIENT_PORT, client_tcp(sport=40003))
    rec = lb.mgr.sessions()[0]
    plan = lb.mgr.idle(rec.entries[1].match)          # the outbound entry reported idle
    lb.writer.delete(plan.deletes)
    assert lb.mgr.sessions() == [] and lb.mgr.pools[rec.partition].in_use == 0
    assert lb.send(CLIENT_PORT, client_tcp(sport=40003, flags="A")) == []
    lb.writer.delete(lb.mgr.idle(rec.entries[0].match).deletes)   # re-notified: harmless


def test_p4info_every_keyed_table_has_a_direct_counter(artifacts):
    """The structure lvs.p4 promises: a direct counter on every table with a
    key, the session table with idle timeouts, the controller headers."""
    from p4common.proto import p4info_pb2
    info = load_p4info(artifacts.p4info)
    counted = {dc.direct_table_id for dc in info.direct_counters}
    keyed = [t for t in info.tables if t.match_fields]
    assert len(keyed) >= 6
    assert [t.preamble.name for t in keyed if t.preamble.id not in counted] == []
    session = next(t for t in info.tables if t.preamble.alias == K.T_SESSION)
    assert session.idle_timeout_behavior == p4info_pb2.Table.NOTIFY_CONTROL
    cpm = {c.preamble.name: [m.name for m in c.metadata] for c in info.controller_packet_metadata}
    assert cpm["packet_in"] == ["ingress_port", "_pad0", "reason", "svc_idx", "partition"]
    assert cpm["packet_out"] == ["egress_port", "_pad0", "op", "ingress_port", "_pad1",
                                 "rst_slot", "rst_gen"]
    names = {c.preamble.alias for c in info.counters}
    assert {K.C_SERVICE_STATS, K.C_REAL_SERVER_STATS, K.C_DROP_STATS} <= names


def test_new_flow_punts_are_rate_limited(artifacts):
    lb = Lb(artifacts, CONFIG.replace("[global]", "[global]\npunt_rate = 1\npunt_burst = 2"))
    outs = [lb.send(CLIENT_PORT, client_tcp(sport=50000 + i)) for i in range(6)]
    punted = [o for o in outs if o and o[0][0] == K.CPU_PORT]
    assert len(punted) == 2                       # the burst, then red
    assert lb.drops("PUNT_RATE_LIMIT") == 4
    # established flows are not metered: only packet-ins are
    lb2 = Lb(artifacts, CONFIG.replace("[global]", "[global]\npunt_rate = 1\npunt_burst = 1"))
    lb2.through(CLIENT_PORT, client_tcp(sport=50100))
    for _ in range(5):
        assert lb2.send(CLIENT_PORT, client_tcp(sport=50100, flags="A"))[0][0] == SERVER_PORT
