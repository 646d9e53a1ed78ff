/* arp.p4: answer ARP requests for the addresses the balancer owns. */
#ifndef LVS_ARP_P4
#define LVS_ARP_P4

#include "../headers.p4"

control Arp(inout headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets) arp_reply_counter;

    /* Turn the request around in place and send it back where it came from. */
    action arp_reply(mac_addr_t mac) {
        hdr.ethernet.dst_addr = hdr.arp.sha;
        hdr.ethernet.src_addr = mac;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.sha = mac;
        ipv4_addr_t asked = hdr.arp.tpa;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.spa = asked;
        meta.egress_port = meta.in_port;
    }

    action arp_ignore() {
        meta.drop_reason = DROP_ARP_UNKNOWN;
    }

    /* Why: hosts and routers resolve the VIPs, the local addresses and the
     * interface addresses (the real servers' gateway) to the balancer's MAC on
     * the port they ask on. Key (port, address) so each port answers with its
     * own MAC. */
    table arp_reply_table {
        key = {
            meta.in_port : exact @name("port");
            hdr.arp.tpa  : exact @name("target_addr");
        }
        actions = { arp_reply; arp_ignore; }
        default_action = arp_ignore();
        counters = arp_reply_counter;
        size = ARP_TABLE_SIZE;
    }

    apply {
        if (hdr.arp.oper == ARP_OPER_REQUEST) {
            arp_reply_table.apply();
        } else {
            meta.drop_reason = DROP_ARP_UNKNOWN;
        }
    }
}

#endif
