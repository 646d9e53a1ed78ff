/* icmp_echo.p4: answer pings to a VIP in the data plane. */
#ifndef LVS_ICMP_ECHO_P4
#define LVS_ICMP_ECHO_P4

#include "../headers.p4"
#include "../checksum.p4"

/* The request becomes the reply in place (addresses swapped, type 0) and is
 * then routed back like any packet. Swapping the addresses leaves the IPv4
 * checksum unchanged; the ICMP checksum moves by the type change only. */
control IcmpEcho(inout headers_t hdr, inout metadata_t meta) {
    apply {
        ipv4_addr_t requester = hdr.ipv4.src_addr;
        hdr.ipv4.src_addr = hdr.ipv4.dst_addr;
        hdr.ipv4.dst_addr = requester;
        hdr.icmp.icmp_type = ICMP_ECHO_REPLY;
        hdr.icmp.checksum = csum16_add_delta(hdr.icmp.checksum, CSUM_DELTA_ECHO_TO_REPLY);
    }
}

#endif
