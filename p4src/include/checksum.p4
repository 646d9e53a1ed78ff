/* checksum.p4: one's complement checksum helpers and the v1model checksum controls.
 *
 * Every checksum the balancer changes is updated incrementally (RFC 1624,
 * eqn. 3: HC' = ~(~HC + ~m + m')). The session entries carry the sum of
 * ~m + m' for the fields they rewrite, precomputed by the controller, because
 * an exact-match session knows both the old and the new values: the data
 * plane then adds one 16-bit constant per checksum, which any target can do
 * with plain arithmetic and without reading the payload. */
#ifndef LVS_CHECKSUM_P4
#define LVS_CHECKSUM_P4

#include "headers.p4"

/* One's complement delta of decrementing the TTL (high byte of the TTL/protocol
 * word) by one: adding ~0x0100. */
#define CSUM_DELTA_TTL_DEC 0xFEFF
/* ICMP echo request -> reply: the type/code word goes from 0x0800 to 0x0000. */
#define CSUM_DELTA_ECHO_TO_REPLY 0xF7FF

/* HC' = ~(~HC + delta), with the end-around carry folded. */
bit<16> csum16_add_delta(in bit<16> csum, in bit<16> delta) {
    bit<32> sum = (bit<32>)(~csum) + (bit<32>)delta;
    sum = (sum & 0xFFFF) + (sum >> 16);
    return ~(sum[15:0]);
}

/* HC' after replacing the 32-bit word `old` by `new` (a sequence or
 * acknowledgement number): RFC 1624 eqn. 3 over both 16-bit halves. */
bit<16> csum16_replace32(in bit<16> csum, in bit<32> old, in bit<32> new) {
    bit<32> sum = (bit<32>)(~csum) + (bit<32>)(~old[31:16]) + (bit<32>)(~old[15:0])
                  + (bit<32>)new[31:16] + (bit<32>)new[15:0];
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    return ~(sum[15:0]);
}

/* The checksum of a one's complement sum of 16-bit words accumulated in 32 bits. */
bit<16> csum16_finish(in bit<32> sum) {
    bit<32> s = (sum & 0xFFFF) + (sum >> 16);
    s = (s & 0xFFFF) + (s >> 16);
    return ~(s[15:0]);
}

/* The IPv4 header checksum is verified on the way in (options included only
 * when there are none: the parser does not read options). */
control LvsVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        verify_checksum(hdr.ipv4.isValid() && hdr.ipv4.ihl == 5,
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv, hdr.ipv4.total_len,
              hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.frag_offset,
              hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.src_addr, hdr.ipv4.dst_addr },
            hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);
    }
}

/* Nothing to recompute: every change was applied incrementally. */
control LvsComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

#endif
