/* defines.p4: sizes, domain types and named constants shared by every control.
 *
 * Nothing here is target specific: the v1model glue lives in lvs.p4 only. */
#ifndef LVS_DEFINES_P4
#define LVS_DEFINES_P4

/* ---- domain types (typedefs make table keys self-describing in P4Info) ---- */
typedef bit<48> mac_addr_t;
typedef bit<32> ipv4_addr_t;
typedef bit<9>  port_num_t;
typedef bit<16> l4_port_t;
typedef bit<16> svc_idx_t;     /* index of a virtual service (counters, packet-in) */
typedef bit<16> rs_idx_t;      /* index of a real server (counters) */
typedef bit<8>  drop_reason_t;
typedef bit<8>  punt_reason_t;
typedef bit<8>  partition_t;   /* controller worker / switch partition owning an lport slice */

/* ---- ports ---- */
/* The CPU port: simple_switch_grpc --cpu-port and p4sw --cpu-port must say the same. */
#define CPU_PORT 255

/* ---- ethertypes and IP protocols ---- */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define IP_PROTO_ICMP  1
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17

#define ARP_HTYPE_ETHERNET 1
#define ARP_OPER_REQUEST   1
#define ARP_OPER_REPLY     2

#define ICMP_ECHO_REPLY    0
#define ICMP_ECHO_REQUEST  8

/* TCP flag bits within tcp.flags (CWR ECE URG ACK PSH RST SYN FIN). */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define TCP_FLAGS_SYNACK 0x12

/* v1model meter colours */
#define METER_RED 2

/* ---- packet-out operations (packet_out.op) ---- */
#define OUT_OP_DIRECT   0   /* send out of packet_out.egress_port, no pipeline */
#define OUT_OP_PIPELINE 1   /* run the ingress pipeline as if received on packet_out.ingress_port */
#define OUT_OP_RST      2   /* RST trigger: fill seq from the seq-tracking registers (packet_out.rst_slot), route */

/* ---- packet-in reasons (packet_in.reason) ---- */
#define PUNT_NONE      0
#define PUNT_NEW_FLOW  1   /* first packet of a flow to a service: create a session */
#define PUNT_SYNPROXY_ACK    2   /* client ACK with a valid SYN cookie: open the RS side */
#define PUNT_SYNPROXY_SYNACK 3   /* real-server packet of a session still in its synproxy handshake */

/* ---- digests (tcp_event_t.kind) ---- */
#define TCP_EV_FIRST_ACK 1   /* first ACK tracked on this side of the session (handshake done) */
#define TCP_EV_FLAGS     2   /* FIN or RST seen */

/* ---- SYNPROXY ---- */
#define SP_OP_NONE 0
#define SP_OP_SYN  1         /* answer the SYN with a cookie SYN-ACK */
#define SP_OP_ACK  2         /* validate the cookie of an ACK */
/* synproxy_stats indices; keep in sync with runtime/constants.py */
#define SP_STAT_SYN_ANSWERED   0
#define SP_STAT_COOKIE_VALID   1
#define SP_STAT_COOKIE_INVALID 2
#define SP_STAT_ACK_STORM      3   /* client packets while the RS handshake is pending, dropped */
#define SP_STAT_COUNT          4
/* SYN-ACK constants: the window the cookie SYN-ACK advertises (no window scale). */
#define SP_SYNACK_WINDOW 14600
#define SP_SYNACK_TTL    65        /* L3Forward decrements it to 64 */
/* TCP option words as the data plane writes or recognises them. */
#define TCPOPT_MSS_HDR        0x0204       /* kind 2, len 4 */
#define TCPOPT_SACKOK_HDR     0x0402       /* kind 4, len 2 (first in the word) */
#define TCPOPT_NOP_NOP_SACKOK 0x01010402
#define TCPOPT_NOP_NOP_SACK   0x010105     /* top 24 bits of NOP NOP SACK(len) */
/* MSS table the cookie's 3-bit index refers to (runtime/constants.py: SYNPROXY_MSS_TABLE). */
#define SP_MSS_0 536
#define SP_MSS_1 1200
#define SP_MSS_2 1260
#define SP_MSS_3 1360
#define SP_MSS_4 1400
#define SP_MSS_5 1440
#define SP_MSS_6 1452
#define SP_MSS_7 1460

/* ---- drop reasons: index of drop_stats; keep in sync with runtime/constants.py ---- */
#define DROP_NONE              0
#define DROP_BAD_IP_CHECKSUM   1   /* IPv4 header checksum wrong */
#define DROP_TTL_EXPIRED       2   /* TTL would reach 0 */
#define DROP_NO_ROUTE          3   /* no IPv4 route to the destination */
#define DROP_VIP_NO_SERVICE    4   /* TCP/UDP to a VIP on a port/protocol with no service */
#define DROP_VIP_PROTOCOL      5   /* non TCP/UDP/ICMP-echo traffic to a VIP */
#define DROP_FRAGMENT          6   /* IP fragment to a VIP or local address */
#define DROP_IP_OPTIONS        7   /* IPv4 options on traffic to a VIP or local address */
#define DROP_NO_SESSION        8   /* TCP non-SYN or reply without a session */
#define DROP_ICMP_ECHO_OFF     9   /* echo request to a VIP with echo replies switched off */
#define DROP_FULLNAT_OFF       10  /* new flow while fullnat is off globally or for the service */
#define DROP_LPORT_NOT_OURS    11  /* to a local address, lport outside every partition */
#define DROP_ARP_UNKNOWN       12  /* ARP request for an address we do not own */
#define DROP_NOT_IPV4          13  /* neither IPv4 nor ARP */
#define DROP_BAD_PACKET_OUT    14  /* packet-out with an unknown op */
#define DROP_PUNT_RATE_LIMIT   15  /* new-flow packet-in over the controller's rate */
#define DROP_BAD_COOKIE        16  /* synproxy: ACK whose cookie is not of the current or previous slot */
#define DROP_SYNPROXY_PENDING  17  /* synproxy: client packet while the RS handshake is pending */
#define DROP_SYN_WITH_DATA     18  /* synproxy: SYN carrying payload (not answered) */
#define DROP_RST_NO_STATE      19  /* RST trigger for a session side with no tracked sequence */
#define DROP_REASON_COUNT      20

/* ---- table and counter sizes ---- */
#define ARP_TABLE_SIZE         1024
#define ROUTE_TABLE_SIZE       1024
#define VIP_TABLE_SIZE         1024
#define SERVICE_TABLE_SIZE     1024
#define LOCAL_ADDR_TABLE_SIZE  1024
#define SESSION_TABLE_SIZE     262144   /* two entries (inbound, outbound) per session */
#define MAX_SERVICES           1024
#define MAX_REAL_SERVERS       4096
#define MAX_SESSIONS           131072   /* SESSION_TABLE_SIZE / 2: session indices */
#define SEQ_TRACK_SIZE         262144   /* two sides per session index */


#endif
