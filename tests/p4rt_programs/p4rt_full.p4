/* Test program for the P4Runtime server tests (tests/test_p4runtime_*.py).
 * Regenerate the JSON and P4Info with `make p4rt-test-programs`.
 * CPU port 64: frames from it carry a packet_out header, frames to it a packet_in header. */
#include <core.p4>
#include <v1model.p4>

const bit<9> CPU_PORT = 64;

@controller_header("packet_in")
header packet_in_t { bit<9> ingress_port; bit<7> _pad; }
@controller_header("packet_out")
header packet_out_t { bit<9> egress_port; bit<7> _pad; }
header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }
header ipv4_t {
    bit<4> version; bit<4> ihl; bit<8> diffserv; bit<16> totalLen; bit<16> identification;
    bit<3> flags; bit<13> fragOffset; bit<8> ttl; bit<8> protocol; bit<16> hdrChecksum;
    bit<32> srcAddr; bit<32> dstAddr;
}
struct headers_t { packet_in_t packet_in; packet_out_t packet_out; ethernet_t ethernet; ipv4_t ipv4; }
struct learn_t { bit<48> src; bit<9> port; }
struct meta_t { bit<32> color; bit<16> vs_hit; }

parser P(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    value_set<bit<16>>(4) special_types;
    state start { transition select(sm.ingress_port) { CPU_PORT: parse_po; default: parse_eth; } }
    state parse_po { pkt.extract(h.packet_out); transition parse_eth; }
    state parse_eth {
        pkt.extract(h.ethernet);
        transition select(h.ethernet.etherType) { 0x0800: parse_ipv4; special_types: special; default: accept; }
    }
    state special { m.vs_hit = 1; transition accept; }
    state parse_ipv4 { pkt.extract(h.ipv4); transition accept; }
}
control V(inout headers_t h, inout meta_t m) { apply { } }
control I(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    counter(8, CounterType.packets_and_bytes) port_pkts;
    meter(8, MeterType.packets) port_meter;
    register<bit<32>>(16) last_len;
    direct_counter(CounterType.packets_and_bytes) acl_counter;
    direct_meter<bit<32>>(MeterType.bytes) acl_meter;

    action to_cpu() { sm.egress_spec = CPU_PORT; h.packet_in.setValid(); h.packet_in.ingress_port = sm.ingress_port; }
    action fwd(bit<9> port) { sm.egress_spec = port; }
    action drop() { mark_to_drop(sm); }
    action learn() { digest<learn_t>(1, {h.ethernet.src, sm.ingress_port}); }
    action set_mcast(bit<16> grp) { sm.mcast_grp = grp; }
    action acl_fwd(bit<9> port) { sm.egress_spec = port; acl_counter.count(); acl_meter.read(m.color); }
    action acl_drop() { mark_to_drop(sm); acl_counter.count(); }
    action do_clone(bit<32> session) { clone(CloneType.I2E, session); }

    table smac { key = { h.ethernet.src : exact; } actions = { learn; NoAction; }
                 default_action = learn(); size = 64; support_timeout = true; }
    table l2 { key = { h.ethernet.dst : exact; } actions = { to_cpu; fwd; drop; set_mcast; }
               default_action = to_cpu(); size = 64; }
    table routes { key = { h.ipv4.dstAddr : lpm; } actions = { fwd; drop; NoAction; }
                   default_action = NoAction(); size = 64; }
    table acl { key = { h.ipv4.srcAddr : ternary; h.ipv4.protocol : optional; h.ipv4.totalLen : range; }
                actions = { acl_fwd; acl_drop; NoAction; } default_action = NoAction(); size = 16;
                counters = acl_counter; meters = acl_meter; }
    table mirror { key = { h.ipv4.diffserv : exact; } actions = { do_clone; NoAction; } default_action = NoAction(); }
    action_selector(HashAlgorithm.crc16, 32w16, 32w16) ecmp_sel;
    table ecmp { key = { h.ipv4.ttl : exact; h.ipv4.srcAddr : selector; } actions = { fwd; drop; }
                 implementation = ecmp_sel; size = 16; }

    apply {
        if (h.packet_out.isValid()) {
            sm.egress_spec = h.packet_out.egress_port;
            h.packet_out.setInvalid();
        } else {
            port_pkts.count((bit<32>)sm.ingress_port & 7);
            last_len.write((bit<32>)sm.ingress_port & 15, sm.packet_length);
            smac.apply();
            l2.apply();
            if (h.ipv4.isValid()) {
                routes.apply();
                acl.apply();
                mirror.apply();
                ecmp.apply();
            }
            if (m.vs_hit == 1) { sm.egress_spec = 4; }
        }
    }
}
control E(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t h) {
    apply { pkt.emit(h.packet_in); pkt.emit(h.ethernet); pkt.emit(h.ipv4); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
