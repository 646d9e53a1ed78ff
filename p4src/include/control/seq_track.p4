/* seq_track.p4: per-session sequence tracking, SYNPROXY sequence
 * translation, TCP state events and RST triggers (issue 6).
 *
 * Why registers: a RST is only accepted by a TCP stack whose sequence
 * number is exactly what it expects next. The last ACK each side sent is
 * exactly that (for an idle connection everything is acknowledged). The
 * controller cannot read registers on BMv2, so it never reads them: it
 * sends a packet-out RST trigger naming the register slot, and the data
 * plane fills the sequence number in. Slot = session index * 2 + side;
 * a generation number (action parameter, stored beside the value) tells a
 * fresh session from an earlier user of the same index, so nothing needs
 * resetting when an index is reused. */
#ifndef LVS_SEQ_TRACK_P4
#define LVS_SEQ_TRACK_P4

#include "../headers.p4"
#include "../checksum.p4"

control SeqTrack(inout headers_t hdr, inout metadata_t meta) {
    register<bit<32>>(SEQ_TRACK_SIZE) last_ack;
    register<bit<8>>(SEQ_TRACK_SIZE) last_gen;

    apply {
        if (meta.rst_trigger == 1) {
            bit<32> ack_r;
            bit<8> gen_r;
            last_gen.read(gen_r, meta.rst_slot);
            last_ack.read(ack_r, meta.rst_slot);
            if (gen_r == meta.rst_gen && meta.rst_gen != 0 && hdr.tcp.isValid()) {
                hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.tcp.seq_no, ack_r);
                hdr.tcp.seq_no = ack_r;
            } else {
                meta.drop_reason = DROP_RST_NO_STATE;
            }
        } else if (meta.sess_valid == 1 && hdr.tcp.isValid()) {
            bit<32> slot = (meta.sess_idx << 1) | (bit<32>)meta.sess_side;
            bit<1> first = 0;
            if ((hdr.tcp.flags & TCP_FLAG_RST) == 0 && (hdr.tcp.flags & TCP_FLAG_ACK) != 0) {
                bit<32> ack_r;
                bit<8> gen_r;
                last_gen.read(gen_r, slot);
                last_ack.read(ack_r, slot);
                if (gen_r != meta.sess_gen) {
                    last_gen.write(slot, meta.sess_gen);
                    last_ack.write(slot, hdr.tcp.ack_no);
                    first = 1;
                } else {
                    /* only forward: an out-of-order or duplicate segment
                     * never moves the tracked value back (serial arithmetic) */
                    bit<32> d = hdr.tcp.ack_no - ack_r;
                    if (d != 0 && d[31:31] == 0) {
                        last_ack.write(slot, hdr.tcp.ack_no);
                    }
                }
            }
            /* one digest call site: a digest type must map to one learn list
             * (P4Info has one entry per type) */
            bit<8> kind = 0;
            if (first == 1 && meta.sess_side == 0) {
                kind = TCP_EV_FIRST_ACK;
            } else if ((hdr.tcp.flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) != 0) {
                kind = TCP_EV_FLAGS;
            }
            if (meta.cfg_tcp_states == 1 && kind != 0) {
                digest<tcp_event_t>(1, { meta.sess_idx, meta.sess_gen, (bit<8>)meta.sess_side,
                                         kind, hdr.tcp.flags });
            }
        }
    }
}

/* SYNPROXY sequence translation for the life of a session: the client
 * was given the cookie as our ISN, the real server chose its own, delta =
 * cookie - RS ISN (bit<32>, wraps). Server -> client: seq += delta. Client
 * -> server: ack -= delta and every SACK block edge -= delta (SACK in the
 * NOP NOP SACK layout Linux and BSD use without timestamps; timestamps are
 * never negotiated through the proxy). Checksums updated incrementally. */
control SeqAdjust(inout headers_t hdr, in metadata_t meta) {
    apply {
        if (meta.sess_side == 1) {
            bit<32> s = hdr.tcp.seq_no + meta.seq_delta;
            hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.tcp.seq_no, s);
            hdr.tcp.seq_no = s;
        } else if ((hdr.tcp.flags & TCP_FLAG_ACK) != 0) {
            bit<32> a = hdr.tcp.ack_no - meta.seq_delta;
            hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.tcp.ack_no, a);
            hdr.tcp.ack_no = a;
            if (hdr.opt1.isValid() && hdr.opt3.isValid()) {
                if (hdr.opt1.w[31:8] == TCPOPT_NOP_NOP_SACK) {
                    bit<8> len = hdr.opt1.w[7:0];
                    bit<32> v;
                    if (len >= 10) {
                        v = hdr.opt2.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt2.w, v);
                        hdr.opt2.w = v;
                        v = hdr.opt3.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt3.w, v);
                        hdr.opt3.w = v;
                    }
                    if (len >= 18 && hdr.opt5.isValid()) {
                        v = hdr.opt4.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt4.w, v);
                        hdr.opt4.w = v;
                        v = hdr.opt5.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt5.w, v);
                        hdr.opt5.w = v;
                    }
                    if (len >= 26 && hdr.opt7.isValid()) {
                        v = hdr.opt6.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt6.w, v);
                        hdr.opt6.w = v;
                        v = hdr.opt7.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt7.w, v);
                        hdr.opt7.w = v;
                    }
                    if (len >= 34 && hdr.opt9.isValid()) {
                        v = hdr.opt8.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt8.w, v);
                        hdr.opt8.w = v;
                        v = hdr.opt9.w - meta.seq_delta;
                        hdr.tcp.checksum = csum16_replace32(hdr.tcp.checksum, hdr.opt9.w, v);
                        hdr.opt9.w = v;
                    }
                }
            }
        }
    }
}

#endif
