/* synproxy.p4: SYN cookies in the data plane (SYNPROXY, issue 6).
 *
 * A pure SYN to a synproxy service is turned around in place into the
 * SYN-ACK: addresses and ports swapped, seq = cookie, ack = ISN + 1, options
 * MSS (+ SACK-permitted when the client offered it), no window scale and no
 * timestamps. No state is kept. An ACK without a session is valid when its
 * ack - 1 is a cookie of the current or the previous secret; only then is it
 * punted (PUNT_SYNPROXY_ACK) so the controller opens the real-server side.
 *
 * cookie = crc32(src, dst, sport, dport, client ISN, secret, slot) XOR data,
 * data (low 4 bits) = SACK-OK << 3 | MSS index (SP_MSS_*). Validation XORs
 * the hash back out: the high 28 bits must be zero. The controller rotates
 * (secret, slot) with the keyless table synproxy_secret, keeping the
 * previous pair, so a cookie lives one to two rotation periods. */
#ifndef LVS_SYNPROXY_P4
#define LVS_SYNPROXY_P4

#include "../headers.p4"
#include "../checksum.p4"

control SynProxy(inout headers_t hdr, inout metadata_t meta) {
    counter(SP_STAT_COUNT, CounterType.packets) synproxy_stats;

    bit<32> cur_secret = 0;
    bit<16> cur_slot = 0;
    bit<32> prev_secret = 0;
    bit<16> prev_slot = 0;

    action set_cookie_secrets(bit<32> cur_secret_p, bit<16> cur_slot_p,
                              bit<32> prev_secret_p, bit<16> prev_slot_p) {
        cur_secret = cur_secret_p;
        cur_slot = cur_slot_p;
        prev_secret = prev_secret_p;
        prev_slot = prev_slot_p;
    }

    /* Why keyless: rotation is one write of the default action (current
     * pair in, current becomes previous); no entry to add or delete. */
    table synproxy_secret {
        actions = { set_cookie_secrets; }
        default_action = set_cookie_secrets(0, 0, 0, 0);
        size = 1;
    }

    apply {
        synproxy_secret.apply();
        if (meta.sess_hold == 1) {
            /* A session whose real-server handshake is still pending: the
             * server's SYN-ACK (or RST) goes to the controller; the client's
             * retransmissions are dropped (the ACK-storm guard: the
             * controller holds the first ACK and replays it). */
            if (meta.sess_side == 1) {
                meta.punt_reason = PUNT_SYNPROXY_SYNACK;
            } else {
                meta.drop_reason = DROP_SYNPROXY_PENDING;
                synproxy_stats.count(SP_STAT_ACK_STORM);
            }
        } else if (meta.sp_op == SP_OP_SYN) {
            bit<16> tcp_bytes = ((bit<16>)hdr.tcp.data_offset) << 2;
            if (hdr.ipv4.total_len != 20 + tcp_bytes) {
                meta.drop_reason = DROP_SYN_WITH_DATA;
            } else {
                bit<16> mss = SP_MSS_0;
                if (hdr.opt1.isValid()) {
                    if (hdr.opt1.w[31:16] == TCPOPT_MSS_HDR) {
                        mss = hdr.opt1.w[15:0];
                    }
                }
                bit<32> data = 0;
                if (mss >= SP_MSS_7) { data = 7; }
                else if (mss >= SP_MSS_6) { data = 6; }
                else if (mss >= SP_MSS_5) { data = 5; }
                else if (mss >= SP_MSS_4) { data = 4; }
                else if (mss >= SP_MSS_3) { data = 3; }
                else if (mss >= SP_MSS_2) { data = 2; }
                else if (mss >= SP_MSS_1) { data = 1; }
                bit<1> sack = 0;
                if (hdr.opt2.isValid()) {
                    if (hdr.opt2.w[31:16] == TCPOPT_SACKOK_HDR || hdr.opt2.w == TCPOPT_NOP_NOP_SACKOK) {
                        sack = 1;
                        data = data | 8;
                    }
                }
                bit<32> h;
                hash(h, HashAlgorithm.crc32, (bit<32>)0,
                     { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.tcp.src_port, hdr.tcp.dst_port,
                       hdr.tcp.seq_no, cur_secret, cur_slot },
                     (bit<64>)4294967296);
                bit<32> cookie = h ^ data;

                /* turn the SYN around */
                ipv4_addr_t client = hdr.ipv4.src_addr;
                hdr.ipv4.src_addr = hdr.ipv4.dst_addr;
                hdr.ipv4.dst_addr = client;
                l4_port_t cport = hdr.tcp.src_port;
                hdr.tcp.src_port = hdr.tcp.dst_port;
                hdr.tcp.dst_port = cport;
                hdr.tcp.ack_no = hdr.tcp.seq_no + 1;
                hdr.tcp.seq_no = cookie;
                hdr.tcp.res = 0;
                hdr.tcp.flags = TCP_FLAGS_SYNACK;
                hdr.tcp.window = SP_SYNACK_WINDOW;
                hdr.tcp.urgent_ptr = 0;
                hdr.opt1.setValid();
                hdr.opt1.w = 0x02040000 | (bit<32>)meta.cfg_syn_mss;
                hdr.opt2.setInvalid();
                hdr.opt3.setInvalid();
                hdr.opt4.setInvalid();
                hdr.opt5.setInvalid();
                hdr.opt6.setInvalid();
                hdr.opt7.setInvalid();
                hdr.opt8.setInvalid();
                hdr.opt9.setInvalid();
                hdr.opt10.setInvalid();
                bit<32> opt2w = 0;
                if (sack == 1) {
                    hdr.opt2.setValid();
                    hdr.opt2.w = TCPOPT_NOP_NOP_SACKOK;
                    opt2w = TCPOPT_NOP_NOP_SACKOK;
                    hdr.tcp.data_offset = 7;
                } else {
                    hdr.tcp.data_offset = 6;
                }
                bit<16> tcp_len = ((bit<16>)hdr.tcp.data_offset) << 2;
                hdr.ipv4.total_len = 20 + tcp_len;
                hdr.ipv4.diffserv = 0;
                hdr.ipv4.flags = 2;          /* DF */
                hdr.ipv4.frag_offset = 0;
                hdr.ipv4.ttl = SP_SYNACK_TTL;

                /* both checksums from scratch: every word is known here */
                bit<32> ip_sum = 0x4500 + (bit<32>)hdr.ipv4.total_len
                    + (bit<32>)hdr.ipv4.identification + 0x4000
                    + (((bit<32>)SP_SYNACK_TTL) << 8) + IP_PROTO_TCP
                    + (bit<32>)hdr.ipv4.src_addr[31:16] + (bit<32>)hdr.ipv4.src_addr[15:0]
                    + (bit<32>)hdr.ipv4.dst_addr[31:16] + (bit<32>)hdr.ipv4.dst_addr[15:0];
                hdr.ipv4.hdr_checksum = csum16_finish(ip_sum);
                bit<32> tcp_sum = (bit<32>)hdr.ipv4.src_addr[31:16] + (bit<32>)hdr.ipv4.src_addr[15:0]
                    + (bit<32>)hdr.ipv4.dst_addr[31:16] + (bit<32>)hdr.ipv4.dst_addr[15:0]
                    + IP_PROTO_TCP + (bit<32>)tcp_len
                    + (bit<32>)hdr.tcp.src_port + (bit<32>)hdr.tcp.dst_port
                    + (bit<32>)cookie[31:16] + (bit<32>)cookie[15:0]
                    + (bit<32>)hdr.tcp.ack_no[31:16] + (bit<32>)hdr.tcp.ack_no[15:0]
                    + ((((bit<32>)hdr.tcp.data_offset) << 12) | TCP_FLAGS_SYNACK)
                    + SP_SYNACK_WINDOW
                    + (bit<32>)hdr.opt1.w[31:16] + (bit<32>)hdr.opt1.w[15:0]
                    + (bit<32>)opt2w[31:16] + (bit<32>)opt2w[15:0];
                hdr.tcp.checksum = csum16_finish(tcp_sum);
                synproxy_stats.count(SP_STAT_SYN_ANSWERED);
            }
        } else if (meta.sp_op == SP_OP_ACK) {
            bit<32> cookie = hdr.tcp.ack_no - 1;
            bit<32> isn = hdr.tcp.seq_no - 1;
            bit<32> h_cur;
            bit<32> h_prev;
            hash(h_cur, HashAlgorithm.crc32, (bit<32>)0,
                 { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.tcp.src_port, hdr.tcp.dst_port,
                   isn, cur_secret, cur_slot },
                 (bit<64>)4294967296);
            hash(h_prev, HashAlgorithm.crc32, (bit<32>)0,
                 { hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.tcp.src_port, hdr.tcp.dst_port,
                   isn, prev_secret, prev_slot },
                 (bit<64>)4294967296);
            bit<32> x_cur = cookie ^ h_cur;
            bit<32> x_prev = cookie ^ h_prev;
            if (x_cur[31:4] == 0 || x_prev[31:4] == 0) {
                meta.punt_reason = PUNT_SYNPROXY_ACK;
                synproxy_stats.count(SP_STAT_COOKIE_VALID);
            } else {
                meta.drop_reason = DROP_BAD_COOKIE;
                synproxy_stats.count(SP_STAT_COOKIE_INVALID);
            }
        }
    }
}

#endif
