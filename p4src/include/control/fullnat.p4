/* fullnat.p4: apply a session's translation, checksums updated incrementally. */
#ifndef LVS_FULLNAT_P4
#define LVS_FULLNAT_P4

#include "../headers.p4"
#include "../checksum.p4"

control FullNat(inout headers_t hdr, in metadata_t meta) {
    apply {
        hdr.ipv4.src_addr = meta.nat_src_addr;
        hdr.ipv4.dst_addr = meta.nat_dst_addr;
        hdr.ipv4.hdr_checksum = csum16_add_delta(hdr.ipv4.hdr_checksum, meta.ip_csum_delta);
        if (hdr.tcp.isValid()) {
            hdr.tcp.src_port = meta.nat_src_port;
            hdr.tcp.dst_port = meta.nat_dst_port;
            hdr.tcp.checksum = csum16_add_delta(hdr.tcp.checksum, meta.l4_csum_delta);
        } else if (hdr.udp.isValid()) {
            hdr.udp.src_port = meta.nat_src_port;
            hdr.udp.dst_port = meta.nat_dst_port;
            /* 0 means "no checksum" for UDP over IPv4: keep it; a computed 0
             * is sent as 0xFFFF (RFC 768). */
            if (hdr.udp.checksum != 0) {
                hdr.udp.checksum = csum16_add_delta(hdr.udp.checksum, meta.l4_csum_delta);
                if (hdr.udp.checksum == 0) {
                    hdr.udp.checksum = 0xFFFF;
                }
            }
        }
    }
}

#endif
