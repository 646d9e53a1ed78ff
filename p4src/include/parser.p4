/* parser.p4: parser and deparser.
 *
 * L4 headers are parsed only for unfragmented IPv4 without options: those are
 * the only packets the load balancer can translate. Anything else is still
 * parsed far enough to be routed, and the flags let the controls drop and count
 * fragments and optioned packets addressed to the balancer. */
#ifndef LVS_PARSER_P4
#define LVS_PARSER_P4

#include "headers.p4"

parser LvsParser(packet_in packet, out headers_t hdr, inout metadata_t meta,
                 inout standard_metadata_t std) {
    state start {
        meta.in_port = std.ingress_port;
        transition select(std.ingress_port) {
            CPU_PORT: parse_packet_out;
            default: parse_ethernet;
        }
    }

    state parse_packet_out {
        packet.extract(hdr.packet_out);
        meta.in_port = hdr.packet_out.ingress_port;
        transition parse_ethernet;
    }

    state parse_ethernet {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_ARP: parse_arp;
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_arp {
        packet.extract(hdr.arp);
        transition accept;
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        /* flags: reserved, DF, MF (the low bit) */
        transition select(hdr.ipv4.ihl, hdr.ipv4.flags, hdr.ipv4.frag_offset) {
            (5, 0 &&& 1, 0): parse_l4;
            (_, 0 &&& 1, 0): mark_ip_options;
            default: mark_fragment;
        }
    }

    state mark_ip_options {
        meta.has_ip_options = 1;
        transition accept;
    }

    state mark_fragment {
        meta.is_fragment = 1;
        transition accept;
    }

    state parse_l4 {
        transition select(hdr.ipv4.protocol) {
            IP_PROTO_TCP: parse_tcp;
            IP_PROTO_UDP: parse_udp;
            IP_PROTO_ICMP: parse_icmp;
            default: accept;
        }
    }

    state parse_tcp {
        packet.extract(hdr.tcp);
        meta.l4_valid = 1;
        meta.l4_src_port = hdr.tcp.src_port;
        meta.l4_dst_port = hdr.tcp.dst_port;
        transition select(hdr.tcp.data_offset) {
            0 &&& 0xC: accept;      /* 0..3: malformed, 4: impossible; 5: no options */
            4: accept;
            5: accept;
            default: count_opts;
        }
    }

    state count_opts {
        meta.tcp_opt_words = hdr.tcp.data_offset - 5;
        transition parse_opt1;
    }

    /* One state per option word: word n is extracted when data offset > 4 + n. */
    state parse_opt1 { packet.extract(hdr.opt1);
        transition select(meta.tcp_opt_words) { 1: accept; default: parse_opt2; } }
    state parse_opt2 { packet.extract(hdr.opt2);
        transition select(meta.tcp_opt_words) { 2: accept; default: parse_opt3; } }
    state parse_opt3 { packet.extract(hdr.opt3);
        transition select(meta.tcp_opt_words) { 3: accept; default: parse_opt4; } }
    state parse_opt4 { packet.extract(hdr.opt4);
        transition select(meta.tcp_opt_words) { 4: accept; default: parse_opt5; } }
    state parse_opt5 { packet.extract(hdr.opt5);
        transition select(meta.tcp_opt_words) { 5: accept; default: parse_opt6; } }
    state parse_opt6 { packet.extract(hdr.opt6);
        transition select(meta.tcp_opt_words) { 6: accept; default: parse_opt7; } }
    state parse_opt7 { packet.extract(hdr.opt7);
        transition select(meta.tcp_opt_words) { 7: accept; default: parse_opt8; } }
    state parse_opt8 { packet.extract(hdr.opt8);
        transition select(meta.tcp_opt_words) { 8: accept; default: parse_opt9; } }
    state parse_opt9 { packet.extract(hdr.opt9);
        transition select(meta.tcp_opt_words) { 9: accept; default: parse_opt10; } }
    state parse_opt10 { packet.extract(hdr.opt10); transition accept; }

    state parse_udp {
        packet.extract(hdr.udp);
        meta.l4_valid = 1;
        meta.l4_src_port = hdr.udp.src_port;
        meta.l4_dst_port = hdr.udp.dst_port;
        transition accept;
    }

    state parse_icmp {
        packet.extract(hdr.icmp);
        transition accept;
    }
}

control LvsDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.packet_in);
        packet.emit(hdr.ethernet);
        packet.emit(hdr.arp);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.icmp);
        packet.emit(hdr.tcp);
        packet.emit(hdr.opt1);
        packet.emit(hdr.opt2);
        packet.emit(hdr.opt3);
        packet.emit(hdr.opt4);
        packet.emit(hdr.opt5);
        packet.emit(hdr.opt6);
        packet.emit(hdr.opt7);
        packet.emit(hdr.opt8);
        packet.emit(hdr.opt9);
        packet.emit(hdr.opt10);
        packet.emit(hdr.udp);
    }
}

#endif
