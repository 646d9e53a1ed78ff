/* headers.p4: wire formats, the controller headers and the per-packet metadata. */
#ifndef LVS_HEADERS_P4
#define LVS_HEADERS_P4

#include "defines.p4"

/* Prepended to every packet sent to the controller (CPU_PORT). The P4Runtime
 * server turns these fields into PacketIn.metadata, named as here. */
@controller_header("packet_in")
header packet_in_t {
    port_num_t    ingress_port;   /* where the packet entered the switch */
    bit<7>        _pad0;
    punt_reason_t reason;         /* PUNT_* */
    svc_idx_t     svc_idx;        /* the service a NEW_FLOW packet matched */
    partition_t   partition;      /* owner of the local port, for replies */
}

/* Prepended by the controller to every PacketOut. */
@controller_header("packet_out")
header packet_out_t {
    port_num_t egress_port;       /* OUT_OP_DIRECT: send here */
    bit<7>     _pad0;
    bit<8>     op;                /* OUT_OP_* */
    port_num_t ingress_port;      /* OUT_OP_PIPELINE: pretend it arrived here */
    bit<7>     _pad1;
    bit<32>    rst_slot;          /* OUT_OP_RST: seq-tracking slot (session index * 2 + side) */
    bit<8>     rst_gen;           /* OUT_OP_RST: the session's generation at that slot */
}

header ethernet_t {
    mac_addr_t dst_addr;
    mac_addr_t src_addr;
    bit<16>    ether_type;
}

/* ARP for IPv4 over Ethernet only (htype 1, ptype 0x0800, hlen 6, plen 4). */
header arp_t {
    bit<16>     htype;
    bit<16>     ptype;
    bit<8>      hlen;
    bit<8>      plen;
    bit<16>     oper;
    mac_addr_t  sha;
    ipv4_addr_t spa;
    mac_addr_t  tha;
    ipv4_addr_t tpa;
}

header ipv4_t {
    bit<4>      version;
    bit<4>      ihl;
    bit<8>      diffserv;
    bit<16>     total_len;
    bit<16>     identification;
    bit<3>      flags;
    bit<13>     frag_offset;
    bit<8>      ttl;
    bit<8>      protocol;
    bit<16>     hdr_checksum;
    ipv4_addr_t src_addr;
    ipv4_addr_t dst_addr;
}

header icmp_t {
    bit<8>  icmp_type;
    bit<8>  code;
    bit<16> checksum;
    bit<32> rest;        /* identifier + sequence for echo */
}

header tcp_t {
    l4_port_t src_port;
    l4_port_t dst_port;
    bit<32>   seq_no;
    bit<32>   ack_no;
    bit<4>    data_offset;
    bit<4>    res;
    bit<8>    flags;
    bit<16>   window;
    bit<16>   checksum;
    bit<16>   urgent_ptr;
}

/* TCP options as 32-bit words (up to 10: data offset 15). Linux's option
 * layouts are word aligned where it matters here (MSS first in a SYN; NOP
 * NOP SACK then whole blocks in an ACK), so words are all the parser needs,
 * without header stacks or varbit. */
header tcp_opt_t {
    bit<32> w;
}

header udp_t {
    l4_port_t src_port;
    l4_port_t dst_port;
    bit<16>   length;
    bit<16>   checksum;
}

struct headers_t {
    packet_out_t   packet_out;
    packet_in_t    packet_in;
    ethernet_t     ethernet;
    arp_t          arp;
    ipv4_t         ipv4;
    icmp_t         icmp;
    tcp_t          tcp;
    tcp_opt_t      opt1;
    tcp_opt_t      opt2;
    tcp_opt_t      opt3;
    tcp_opt_t      opt4;
    tcp_opt_t      opt5;
    tcp_opt_t      opt6;
    tcp_opt_t      opt7;
    tcp_opt_t      opt8;
    tcp_opt_t      opt9;
    tcp_opt_t      opt10;
    udp_t          udp;
}

/* Reported by digest when a session's TCP state may change (the controller
 * keeps the state machine and sets the entries' idle timeouts). */
struct tcp_event_t {
    bit<32> sess_idx;
    bit<8>  gen;
    bit<8>  side;      /* 0: client side (inbound), 1: real-server side */
    bit<8>  kind;      /* TCP_EV_* */
    bit<8>  flags;     /* the segment's TCP flags */
}

/* Per-packet state shared by the controls. l4_* hold the ports of TCP or UDP
 * so the session and service keys do not depend on which header is valid. */
struct metadata_t {
    port_num_t    in_port;        /* ingress port (or packet_out.ingress_port) */
    bit<1>        is_fragment;
    bit<1>        has_ip_options;
    bit<1>        l4_valid;       /* TCP or UDP parsed (unfragmented, no IP options) */
    l4_port_t     l4_src_port;
    l4_port_t     l4_dst_port;
    /* global feature switches (global_config) */
    bit<1>        cfg_fullnat;
    bit<1>        cfg_icmp_echo;
    /* classification */
    bit<1>        to_vip;
    bit<1>        vip_icmp_echo;
    bit<1>        to_local_addr;
    bit<1>        translated;     /* a session rewrote this packet */
    svc_idx_t     svc_idx;
    partition_t   partition;
    /* incremental checksum deltas (one's complement) to fold in */
    bit<16>       ip_csum_delta;
    bit<16>       l4_csum_delta;
    /* new addresses and ports chosen by a session (applied by FullNat) */
    ipv4_addr_t   nat_src_addr;
    ipv4_addr_t   nat_dst_addr;
    l4_port_t     nat_src_port;
    l4_port_t     nat_dst_port;
    /* verdicts, turned into standard_metadata by the v1model glue */
    port_num_t    egress_port;
    drop_reason_t drop_reason;
    punt_reason_t punt_reason;
    bit<1>        out_direct;     /* packet_out OUT_OP_DIRECT: bypass everything */
    /* SYNPROXY */
    bit<1>        cfg_synproxy;
    bit<16>       cfg_syn_mss;    /* MSS the cookie SYN-ACK advertises */
    bit<1>        cfg_tcp_states; /* report TCP events by digest */
    bit<2>        sp_op;          /* SP_OP_* chosen by Service */
    bit<4>        tcp_opt_words;  /* data offset - 5, as the parser counted */
    /* session state for seq tracking and translation (session actions) */
    bit<1>        sess_valid;
    bit<32>       sess_idx;
    bit<8>        sess_gen;
    bit<1>        sess_side;      /* 0 inbound (client -> RS), 1 outbound */
    bit<1>        seq_adjust;     /* a synproxy session: translate seq/ack */
    bit<32>       seq_delta;      /* cookie ISN - RS ISN */
    bit<1>        sess_hold;      /* synproxy handshake pending */
    /* OUT_OP_RST */
    bit<1>        rst_trigger;
    bit<32>       rst_slot;
    bit<8>        rst_gen;
}

#endif
