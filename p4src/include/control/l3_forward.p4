/* l3_forward.p4: IPv4 routing with the layer-2 next hop in the route itself. */
#ifndef LVS_L3_FORWARD_P4
#define LVS_L3_FORWARD_P4

#include "../headers.p4"
#include "../checksum.p4"

control L3Forward(inout headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets_and_bytes) route_counter;

    /* The route carries the next hop's MAC: no separate neighbour lookup, the
     * seed's "forward at layer 2" for replies. */
    action route(port_num_t port, mac_addr_t src_mac, mac_addr_t dst_mac) {
        meta.egress_port = port;
        hdr.ethernet.src_addr = src_mac;
        hdr.ethernet.dst_addr = dst_mac;
    }

    action no_route() {
        meta.drop_reason = DROP_NO_ROUTE;
    }

    /* Why: clients, real servers and transit traffic all leave through a route
     * (longest prefix); a connected host is a /32 route with its own MAC. */
    table ipv4_route {
        key = { hdr.ipv4.dst_addr : lpm @name("dst_addr"); }
        actions = { route; no_route; }
        default_action = no_route();
        counters = route_counter;
        size = ROUTE_TABLE_SIZE;
    }

    apply {
        if (hdr.ipv4.ttl <= 1) {
            meta.drop_reason = DROP_TTL_EXPIRED;
        } else {
            ipv4_route.apply();
            if (meta.drop_reason == DROP_NONE) {
                hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
                hdr.ipv4.hdr_checksum = csum16_add_delta(hdr.ipv4.hdr_checksum, CSUM_DELTA_TTL_DEC);
            }
        }
    }
}

#endif
