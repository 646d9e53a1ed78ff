"""SYNPROXY, sequence translation, sequence tracking and RST triggers in
lvs.p4, packet by packet (scapy frames through p4sw in-process), with the
controller's SYNPROXY logic (runtime.sessions) wired by hand as the daemon
wires it over P4Runtime."""
from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from p4common.p4info import EntityKind
from runtime import constants as K
from runtime import tcpframes as TF
from runtime.sessions import PacketOut
from test_lvs_packets import (CLIENT, CLIENT_MAC, CLIENT_PORT, CONFIG, LIP, RS1, RS1_MAC, RS2,
                              RS2_MAC, SERVER_PORT, SW1, SW2, VIP, Lb, assert_checksums_ok,
                              split_packet_in)

SP_CONFIG = CONFIG.replace('name = "web"\n', 'name = "web"\nsynproxy = true\n')
LINUX_SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
                  ("WScale", 7)]


class SpLb(Lb):
    def __init__(self, artifacts):
        super().__init__(artifacts, SP_CONFIG)
        self.writer.write([self.mgr.cookie_entry()])

    def out(self, p: PacketOut):
        hdr = struct.pack("!HBH", 0, p.op, (p.ingress_port & 0x1FF) << 7)
        return self.sw.process_packet(K.CPU_PORT, hdr + struct.pack("!IB", p.rst_slot, p.rst_gen)
                                      + p.frame)

    def carry(self, plan):
        self.writer.write(plan.writes + plan.modifies)
        self.writer.delete(plan.deletes)
        return [o for p in plan.packets for o in self.out(p)]

    def sp_stat(self, name):
        idx = {v: k for k, v in K.SP_STATS.items()}[name]
        cname = self.p4info.entities(EntityKind.COUNTER)[K.C_SYNPROXY_STATS].preamble.name
        return self.api.counter_read(cname, idx)[0]

    def session_count(self):
        return len(self.api.table_dump_entries("LvsIngress.session.session")) \
            if hasattr(self.api, "table_dump_entries") else len(self.writer.handles)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    from runtime.artifacts import compile_lvs
    return compile_lvs(tmp_path_factory.mktemp("lvs"))


@pytest.fixture
def lb(artifacts):
    return SpLb(artifacts)


def c2v(flags, seq, ack=0, sport=40000, options=(), payload=b""):
    return (Ether(src=CLIENT_MAC, dst=SW1) / IP(src=CLIENT, dst=VIP, ttl=64, id=9) /
            TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack, window=5000,
                options=list(options)) / payload)


def tcp_opts(frame_tcp):
    return bytes(frame_tcp)[20:frame_tcp.dataofs * 4]


def handshake(lb, isn=1000, rs_isn=777777, sport=40000, payload=b"", opts=LINUX_SYN_OPTS):
    """SYN -> cookie SYN-ACK; ACK -> punt -> SYN to the RS; RS SYN-ACK ->
    punt -> entries + replayed ACK. Returns (rec, cookie, frames seen)."""
    [(port, data)] = lb.send(CLIENT_PORT, c2v("S", isn, sport=sport, options=opts))
    synack = Ether(data)
    cookie = synack[TCP].seq
    [(port, data)] = lb.send(CLIENT_PORT, c2v("A", isn + 1, cookie + 1, sport=sport, payload=payload))
    assert port == K.CPU_PORT
    meta, frame = split_packet_in(data)
    assert meta["reason"] == K.PUNT_SYNPROXY_ACK
    outs = lb.carry(lb.mgr.synproxy_ack(frame, meta["ingress_port"]))
    [(port, data)] = outs
    syn = Ether(data)
    assert port == SERVER_PORT and syn[TCP].flags == "S"
    rec = lb.mgr.sessions()[0]
    rs_mac = RS1_MAC if rec.server[0] == RS1 else RS2_MAC
    sa = (Ether(src=rs_mac, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
          TCP(sport=8080, dport=rec.local.port, flags="SA", seq=rs_isn, ack=isn + 1, window=6000,
              options=[("MSS", 1400)]))
    [(port, data)] = lb.send(SERVER_PORT, sa)
    assert port == K.CPU_PORT
    meta, frame = split_packet_in(data)
    assert meta["reason"] == K.PUNT_SYNPROXY_SYNACK
    replay = lb.carry(lb.mgr.synproxy_server(frame))
    return rec, cookie, syn, replay, rs_mac


def test_syn_answered_with_cookie_syn_ack_no_state(lb):
    [(port, data)] = lb.send(CLIENT_PORT, c2v("S", 1000, options=LINUX_SYN_OPTS))
    p = Ether(data)
    assert port == CLIENT_PORT
    assert (p[IP].src, p[IP].dst, p[TCP].sport, p[TCP].dport) == (VIP, CLIENT, 80, 40000)
    assert (p[Ether].src, p[Ether].dst) == (SW1, CLIENT_MAC)
    assert p[TCP].flags == "SA" and p[TCP].ack == 1001 and p[IP].ttl == 64
    secret, slot = lb.mgr.secrets[0]
    assert p[TCP].seq == TF.make_cookie(CLIENT, VIP, 40000, 80, 1000, secret, slot, 1460, True)
    # MSS (global syn_mss) and SACK-permitted; no window scale, no timestamps
    assert tcp_opts(p[TCP]) == b"\x02\x04\x05\xb4\x01\x01\x04\x02"
    assert_checksums_ok(data)
    assert lb.sp_stat("syn_answered") == 1 and lb.mgr.sessions() == []
    assert lb.writer.handles.keys().isdisjoint({k for k in lb.writer.handles if k[0] == "session"})
    # no options: MSS index 0 (536), no SACK
    [(port, data)] = lb.send(CLIENT_PORT, c2v("S", 5, sport=40001))
    p = Ether(data)
    assert p[TCP].seq == TF.make_cookie(CLIENT, VIP, 40001, 80, 5, secret, slot, 536, False)
    assert tcp_opts(p[TCP]) == b"\x02\x04\x05\xb4"
    assert_checksums_ok(data)


def test_syn_with_data_not_answered(lb):
    assert lb.send(CLIENT_PORT, c2v("S", 1, payload=b"x")) == []
    assert lb.drops("SYN_WITH_DATA") == 1


def test_cookie_validation_current_previous_and_expired_slot(lb):
    [(_, data)] = lb.send(CLIENT_PORT, c2v("S", 1000))
    cookie = Ether(data)[TCP].seq
    ack = c2v("A", 1001, cookie + 1)
    [(port, data)] = lb.send(CLIENT_PORT, ack)
    assert port == K.CPU_PORT and split_packet_in(data)[0]["reason"] == K.PUNT_SYNPROXY_ACK
    assert lb.send(CLIENT_PORT, c2v("A", 1001, cookie + 0x101)) == []      # wrong cookie (28 bits authenticate)
    assert lb.send(CLIENT_PORT, c2v("A", 1002, cookie + 1)) == []          # another ISN
    assert lb.send(CLIENT_PORT, c2v("A", 1001, cookie + 1, sport=40009)) == []   # another port
    assert lb.drops("BAD_COOKIE") == 3 and lb.sp_stat("cookie_invalid") == 3
    lb.writer.write(lb.mgr.rotate_secret().writes)             # previous slot: still valid
    [(port, _)] = lb.send(CLIENT_PORT, ack)
    assert port == K.CPU_PORT and lb.sp_stat("cookie_valid") == 2
    lb.writer.write(lb.mgr.rotate_secret().writes)             # two rotations: expired
    assert lb.send(CLIENT_PORT, ack) == []
    assert lb.drops("BAD_COOKIE") == 4


def test_synproxy_handshake_and_translation_both_directions(lb):
    isn, rs_isn = 1000, 777777
    rec, cookie, syn, replay, rs_mac = handshake(lb, isn, rs_isn)
    # the server's SYN: client's ISN, MSS and SACK-OK from the cookie, from LIP
    assert syn[TCP].seq == isn and (syn[IP].src, syn[IP].dst) == (LIP, rec.server[0])
    assert tcp_opts(syn[TCP]) == b"\x02\x04\x05\xb4\x01\x01\x04\x02"
    assert_checksums_ok(bytes(syn))
    delta = (cookie - rs_isn) & 0xFFFFFFFF
    # the held ACK, replayed: acknowledges the server's SYN-ACK in its own space
    [(port, data)] = replay
    a = Ether(data)
    assert port == SERVER_PORT and a[TCP].flags == "A"
    assert a[TCP].seq == isn + 1 and a[TCP].ack == rs_isn + 1
    assert_checksums_ok(data)
    # server -> client: seq += delta, addresses back to VIP -> client
    d = (Ether(src=rs_mac, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
         TCP(sport=8080, dport=rec.local.port, flags="PA", seq=rs_isn + 1, ack=isn + 1) / b"hi")
    [(port, data)] = lb.send(SERVER_PORT, d)
    b = Ether(data)
    assert port == CLIENT_PORT and b[TCP].seq == (rs_isn + 1 + delta) & 0xFFFFFFFF == cookie + 1
    assert b[TCP].ack == isn + 1 and (b[IP].src, b[TCP].sport) == (VIP, 80)
    assert_checksums_ok(data)
    # client -> server: ack -= delta and every SACK block edge too
    sack = [("NOP", None), ("NOP", None), ("SAck", (cookie + 100, cookie + 200, cookie + 300,
                                                    cookie + 400))]
    [(port, data)] = lb.send(CLIENT_PORT, c2v("A", isn + 1, cookie + 3, options=sack))
    c = Ether(data)
    assert port == SERVER_PORT and c[TCP].ack == rs_isn + 3
    blocks = struct.unpack("!4I", tcp_opts(c[TCP])[4:20])
    assert blocks == (rs_isn + 100, rs_isn + 200, rs_isn + 300, rs_isn + 400)
    assert_checksums_ok(data)
    assert lb.sp_stat("syn_answered") == 1 and lb.sp_stat("cookie_valid") == 1


def test_sequence_wrap_around(lb):
    # cookie - rs_isn wraps, and the translated numbers cross 2^32
    [(_, data)] = lb.send(CLIENT_PORT, c2v("S", 2**32 - 2, sport=41000))
    cookie = Ether(data)[TCP].seq
    rs_isn = (cookie + 2**31 + 12345) & 0xFFFFFFFF
    rec, cookie2, _, replay, rs_mac = handshake(lb, 2**32 - 2, rs_isn, sport=41000, opts=())
    assert cookie2 == cookie
    [(port, data)] = replay
    assert Ether(data)[TCP].seq == 2**32 - 1 and Ether(data)[TCP].ack == (rs_isn + 1) & 0xFFFFFFFF
    for k in (0, 1000, 2**31, 2**32 - 5):
        d = (Ether(src=rs_mac, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
             TCP(sport=8080, dport=rec.local.port, flags="A", seq=(rs_isn + 1 + k) & 0xFFFFFFFF,
                 ack=0))
        [(_, data)] = lb.send(SERVER_PORT, d)
        assert Ether(data)[TCP].seq == (cookie + 1 + k) & 0xFFFFFFFF
        assert_checksums_ok(data)
        [(_, data)] = lb.send(CLIENT_PORT, c2v("A", 0, (cookie + 1 + k) & 0xFFFFFFFF, sport=41000))
        assert Ether(data)[TCP].ack == (rs_isn + 1 + k) & 0xFFFFFFFF
        assert_checksums_ok(data)


def test_retransmitted_syn_same_cookie_and_acks_while_pending(lb):
    a = lb.send(CLIENT_PORT, c2v("S", 1000))
    b = lb.send(CLIENT_PORT, c2v("S", 1000))
    assert Ether(a[0][1])[TCP].seq == Ether(b[0][1])[TCP].seq     # stateless, same answer
    cookie = Ether(a[0][1])[TCP].seq
    [(_, data)] = lb.send(CLIENT_PORT, c2v("A", 1001, cookie + 1))
    meta, frame = split_packet_in(data)
    plan = lb.mgr.synproxy_ack(frame, meta["ingress_port"])
    lb.carry(plan)
    # the client retransmits its ACK while the server has not answered: dropped, counted
    assert lb.send(CLIENT_PORT, c2v("A", 1001, cookie + 1)) == []
    assert lb.sp_stat("ack_storm") == 1 and lb.drops("SYNPROXY_PENDING") == 1
    # a second punt of the same ACK (raced the entries) is held, not a second session
    again = lb.mgr.synproxy_ack(frame, CLIENT_PORT)
    assert len(lb.mgr.sessions()) == 1 and lb.mgr.stats.duplicate_punts == 1 and not again.packets
    # no answer from the server: the SYN is retried, then the client is reset
    rec = lb.mgr.sessions()[0]
    t = rec.syn_at
    retries = [lb.mgr.tick(t + 1.1 * i) for i in range(1, 4)]
    assert all(len(p.packets) == 1 for p in retries) and lb.mgr.stats.synproxy_syn_retries == 3
    [(port, data)] = lb.carry(retries[0])
    assert port == SERVER_PORT and Ether(data)[TCP].flags == "S"
    last = lb.mgr.tick(t + 10)
    [(port, data)] = lb.carry(last)
    r = Ether(data)
    assert port == CLIENT_PORT and r[TCP].flags == "R" and r[TCP].seq == cookie + 1
    assert (r[IP].src, r[IP].dst, r[TCP].sport, r[TCP].dport) == (VIP, CLIENT, 80, 40000)
    assert_checksums_ok(data)
    assert lb.mgr.sessions() == [] and lb.mgr.stats.synproxy_half_open_reset == 1


def test_data_with_the_ack_is_held_and_replayed(lb):
    rec, cookie, _, replay, _ = handshake(lb, 1000, 5000, payload=b"GET / HTTP/1.0\r\n\r\n")
    [(port, data)] = replay
    p = Ether(data)
    assert port == SERVER_PORT and bytes(p[TCP].payload) == b"GET / HTTP/1.0\r\n\r\n"
    assert p[TCP].ack == 5001
    assert_checksums_ok(data)


def test_rst_triggers_use_tracked_acks_ignoring_out_of_order(lb):
    isn, rs_isn = 1000, 90000
    rec, cookie, _, _, rs_mac = handshake(lb, isn, rs_isn)
    srv = lambda seq, ack: (Ether(src=rs_mac, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
                            TCP(sport=8080, dport=rec.local.port, flags="A", seq=seq, ack=ack))
    lb.send(CLIENT_PORT, c2v("A", isn + 1, cookie + 501))       # client acked 500 bytes
    lb.send(CLIENT_PORT, c2v("A", isn + 1, cookie + 301))       # late, out of order: ignored
    lb.send(SERVER_PORT, srv(rs_isn + 501, isn + 201))          # server acked 200 bytes
    lb.send(SERVER_PORT, srv(rs_isn + 501, isn + 101))          # out of order
    plan = lb.mgr.idle(rec.entries[0].match)
    assert len(plan.packets) == 2 and all(p.op == K.OUT_OP_RST for p in plan.packets)
    outs = lb.carry(plan)
    by_port = {port: Ether(data) for port, data in outs}
    to_client, to_server = by_port[CLIENT_PORT], by_port[SERVER_PORT]
    assert to_client[TCP].flags == "R" and to_client[TCP].seq == cookie + 501
    assert (to_client[IP].src, to_client[TCP].sport, to_client[IP].dst) == (VIP, 80, CLIENT)
    assert to_server[TCP].flags == "R" and to_server[TCP].seq == isn + 201
    assert (to_server[IP].src, to_server[TCP].sport) == (LIP, rec.local.port)
    for _, data in outs:
        assert_checksums_ok(data)
    assert lb.mgr.sessions() == []
    # a trigger for a slot this generation never wrote is dropped
    stale = PacketOut(plan.packets[0].frame, K.OUT_OP_RST, rst_slot=plan.packets[0].rst_slot,
                      rst_gen=(plan.packets[0].rst_gen % 255) + 1)
    assert lb.out(stale) == [] and lb.drops("RST_NO_STATE") == 1


def test_synproxy_off_globally_falls_back_to_punting_syns(artifacts):
    lb = SpLb(artifacts)
    from dataclasses import replace
    from runtime.entries import global_config_entry
    lb.writer.write([global_config_entry(replace(lb.cfg.global_, synproxy=False))])
    [(port, data)] = lb.send(CLIENT_PORT, c2v("S", 1000))
    assert port == K.CPU_PORT and split_packet_in(data)[0]["reason"] == K.PUNT_NEW_FLOW


def test_synproxy_off_per_service(artifacts):
    lb = SpLb(artifacts)
    from dataclasses import replace
    from runtime.entries import service_entry
    web = lb.cfg.service("web")
    lb.writer.write([service_entry(replace(web, synproxy=False), lb.mgr.svc_index.get("web"))])
    [(port, data)] = lb.send(CLIENT_PORT, c2v("S", 1000))
    assert port == K.CPU_PORT and split_packet_in(data)[0]["reason"] == K.PUNT_NEW_FLOW
    assert lb.sp_stat("syn_answered") == 0


def test_out_of_order_segments_translate_independently(lb):
    isn, rs_isn = 50, 4000
    rec, cookie, _, _, rs_mac = handshake(lb, isn, rs_isn)
    delta = (cookie - rs_isn) & 0xFFFFFFFF
    for off in (2000, 0, 1000, 0):        # later segment first, then a retransmission
        d = (Ether(src=rs_mac, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
             TCP(sport=8080, dport=rec.local.port, flags="A", seq=rs_isn + 1 + off, ack=isn + 1)
             / (b"x" * 10))
        [(_, data)] = lb.send(SERVER_PORT, d)
        assert Ether(data)[TCP].seq == (rs_isn + 1 + off + delta) & 0xFFFFFFFF
        assert_checksums_ok(data)


def test_server_rst_during_handshake_resets_client(lb):
    [(_, data)] = lb.send(CLIENT_PORT, c2v("S", 1000))
    cookie = Ether(data)[TCP].seq
    [(_, data)] = lb.send(CLIENT_PORT, c2v("A", 1001, cookie + 1))
    meta, frame = split_packet_in(data)
    lb.carry(lb.mgr.synproxy_ack(frame, meta["ingress_port"]))
    rec = lb.mgr.sessions()[0]
    rst = (Ether(src=RS1_MAC, dst=SW2) / IP(src=rec.server[0], dst=LIP) /
           TCP(sport=8080, dport=rec.local.port, flags="RA", seq=0, ack=1001))
    [(port, data)] = lb.send(SERVER_PORT, rst)
    assert port == K.CPU_PORT
    [(port, data)] = lb.carry(lb.mgr.synproxy_server(split_packet_in(data)[1]))
    r = Ether(data)
    assert port == CLIENT_PORT and r[TCP].flags == "R" and r[TCP].seq == cookie + 1
    assert lb.mgr.sessions() == []


def test_tcp_event_digests_first_ack_and_fin(lb):
    """Both events use the one digest the P4Info declares (the daemon
    enables it by that name), and nothing is reported with tcp_states off."""
    digest_names = {d.preamble.name for d in lb.p4info.entities(EntityKind.DIGEST)}
    lb.writer.write([__import__("runtime.entries", fromlist=["e"]).global_config_entry(lb.cfg.global_)])
    rec, cookie, _, _, _ = handshake(lb)
    got = [(d.name, d.values) for d in lb.sw.digests]
    assert got == [("tcp_event_t", (rec.ref.idx, rec.ref.gen, 0, K.TCP_EV_FIRST_ACK, 0x10))]
    lb.sw.digests.clear()
    lb.send(CLIENT_PORT, c2v("FA", 1001, cookie + 1))
    got = [(d.name, d.values) for d in lb.sw.digests]
    assert got == [("tcp_event_t", (rec.ref.idx, rec.ref.gen, 0, K.TCP_EV_FLAGS, 0x11))]
    assert {n for n, _ in got} <= digest_names
    from dataclasses import replace
    from runtime.entries import global_config_entry
    lb.writer.write([global_config_entry(replace(lb.cfg.global_, tcp_states=False))])
    lb.sw.digests.clear()
    lb.send(CLIENT_PORT, c2v("FA", 1001, cookie + 1))
    assert lb.sw.digests == []
