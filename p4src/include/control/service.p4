/* service.p4: which destinations belong to the balancer, and virtual services. */
#ifndef LVS_SERVICE_P4
#define LVS_SERVICE_P4

#include "../headers.p4"

control LbAddress(in headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets_and_bytes) lb_address_counter;

    action vip(bit<1> icmp_echo) {
        meta.to_vip = 1;
        meta.vip_icmp_echo = icmp_echo;
    }

    action local_addr() {
        meta.to_local_addr = 1;
    }

    /* Why: traffic addressed to a VIP or to a local address (LIP) is the
     * balancer's own and must never be routed on; the per-VIP echo switch lives
     * here. Everything else is transit traffic and is routed. */
    table lb_address {
        key = { hdr.ipv4.dst_addr : exact @name("addr"); }
        actions = { vip; local_addr; NoAction; }
        default_action = NoAction();
        counters = lb_address_counter;
        size = VIP_TABLE_SIZE;
    }

    apply {
        lb_address.apply();
    }
}

control Service(in headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets_and_bytes) service_counter;

    /* fullnat, synproxy: the per-service switches of those modules. */
    bit<1> svc_fullnat = 0;
    bit<1> svc_synproxy = 0;

    action service_hit(svc_idx_t svc_idx, bit<1> fullnat, bit<1> synproxy) {
        meta.svc_idx = svc_idx;
        svc_fullnat = fullnat;
        svc_synproxy = synproxy;
    }

    action no_service() {
        meta.drop_reason = DROP_VIP_NO_SERVICE;
    }

    /* Why: a virtual service is (VIP, port, protocol); its first packets
     * without a session go to the controller, which picks the real server. The
     * direct counter counts those new-flow packets per service. */
    table service {
        key = {
            hdr.ipv4.dst_addr : exact @name("vip");
            meta.l4_dst_port  : exact @name("vport");
            hdr.ipv4.protocol : exact @name("protocol");
        }
        actions = { service_hit; no_service; }
        default_action = no_service();
        counters = service_counter;
        size = SERVICE_TABLE_SIZE;
    }

    apply {
        if (service.apply().hit) {
            if (svc_fullnat == 1 && meta.cfg_fullnat == 1) {
                meta.punt_reason = PUNT_NEW_FLOW;
            } else {
                meta.drop_reason = DROP_FULLNAT_OFF;
            }
        }
        /* SYNPROXY: a pure SYN is answered with a cookie (SynProxy), an ACK
         * (without SYN/RST) is checked for one; nothing reaches the
         * controller before a cookie proves the client's address. */
        if (meta.punt_reason == PUNT_NEW_FLOW && hdr.tcp.isValid() &&
                svc_synproxy == 1 && meta.cfg_synproxy == 1) {
            meta.punt_reason = PUNT_NONE;
            bit<8> f = hdr.tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST);
            if (f == TCP_FLAG_SYN && (hdr.tcp.flags & TCP_FLAG_FIN) == 0) {
                meta.sp_op = SP_OP_SYN;
            } else if (f == TCP_FLAG_ACK) {
                meta.sp_op = SP_OP_ACK;
            } else {
                meta.drop_reason = DROP_NO_SESSION;
            }
        }
        /* Only a TCP SYN opens a connection; other TCP segments without a
         * session are stale (or spoofed) and stay out of the controller. */
        if (meta.punt_reason == PUNT_NEW_FLOW && hdr.tcp.isValid()) {
            if ((hdr.tcp.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_FIN))
                    != TCP_FLAG_SYN) {
                meta.punt_reason = PUNT_NONE;
                meta.drop_reason = DROP_NO_SESSION;
            }
        }
    }
}

control LportPartition(in headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets_and_bytes) lport_partition_counter;

    action set_partition(partition_t partition) {
        meta.partition = partition;
    }

    action lport_not_ours() {
        meta.drop_reason = DROP_LPORT_NOT_OURS;
    }

    /* Why: each controller worker (or switch partition) owns a slice of every
     * local address's ports, (lport & mask) == base. A packet to a local
     * address learns here which partition owns its session, without any state
     * shared between partitions; its direct counter shows each slice's load. */
    table lport_partition {
        key = {
            hdr.ipv4.dst_addr : exact @name("local_addr");
            meta.l4_dst_port  : ternary @name("lport");
        }
        actions = { set_partition; lport_not_ours; }
        default_action = lport_not_ours();
        counters = lport_partition_counter;
        size = LOCAL_ADDR_TABLE_SIZE;
    }

    apply {
        lport_partition.apply();
    }
}

#endif
