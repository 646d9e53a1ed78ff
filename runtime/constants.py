"""Numbers the controller shares with lvs.p4 (p4src/include/defines.p4).

Why a copy: P4Info names tables, actions and fields but not `#define`d values
(drop reasons, punt reasons, packet-out ops); tests/test_lvs_units.py parses
defines.p4 and fails if the two drift apart.
"""
from __future__ import annotations

CPU_PORT = 255

OUT_OP_DIRECT = 0
OUT_OP_PIPELINE = 1
OUT_OP_RST = 2

TCP_FLAG_FIN = 0x01
TCP_FLAG_SYN = 0x02
TCP_FLAG_RST = 0x04
TCP_FLAG_ACK = 0x10

TCP_EV_FIRST_ACK = 1
TCP_EV_FLAGS = 2

#: synproxy_stats indices (SP_STAT_*)
SP_STATS = {0: "syn_answered", 1: "cookie_valid", 2: "cookie_invalid", 3: "ack_storm"}
#: the cookie's 3-bit MSS index (SP_MSS_0..7)
SYNPROXY_MSS_TABLE = (536, 1200, 1260, 1360, 1400, 1440, 1452, 1460)
MAX_SESSIONS = 131072

PUNT_NONE = 0
PUNT_NEW_FLOW = 1
PUNT_SYNPROXY_ACK = 2
PUNT_SYNPROXY_SYNACK = 3

IP_PROTO_ICMP = 1
IP_PROTO_TCP = 6
IP_PROTO_UDP = 17
PROTOCOLS = {"tcp": IP_PROTO_TCP, "udp": IP_PROTO_UDP}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}

#: drop reason index -> name, as in defines.p4 (DROP_<NAME>)
DROP_REASONS = {
    1: "BAD_IP_CHECKSUM",
    2: "TTL_EXPIRED",
    3: "NO_ROUTE",
    4: "VIP_NO_SERVICE",
    5: "VIP_PROTOCOL",
    6: "FRAGMENT",
    7: "IP_OPTIONS",
    8: "NO_SESSION",
    9: "ICMP_ECHO_OFF",
    10: "FULLNAT_OFF",
    11: "LPORT_NOT_OURS",
    12: "ARP_UNKNOWN",
    13: "NOT_IPV4",
    14: "BAD_PACKET_OUT",
    15: "PUNT_RATE_LIMIT",
    16: "BAD_COOKIE",
    17: "SYNPROXY_PENDING",
    18: "SYN_WITH_DATA",
    19: "RST_NO_STATE",
}
DROP_REASON_COUNT = 20

# Names of the P4 objects the controller uses (aliases as in the P4Info; the
# ids always come from the P4Info the compiler wrote).
T_GLOBAL_CONFIG = "global_config"
T_ARP = "arp_reply_table"
T_LB_ADDRESS = "lb_address"
T_SERVICE = "service"
T_LPORT_PARTITION = "lport_partition"
T_SESSION = "session"
T_ROUTE = "ipv4_route"
C_SERVICE_STATS = "service_stats"
C_REAL_SERVER_STATS = "real_server_stats"
C_DROP_STATS = "drop_stats"
M_PUNT = "punt_meter"
T_SYNPROXY_SECRET = "synproxy_secret"
C_SYNPROXY_STATS = "synproxy_stats"
D_TCP_EVENT = "tcp_event_t"
