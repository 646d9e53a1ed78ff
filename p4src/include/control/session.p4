/* session.p4: the connection table, both directions of every FULLNAT session. */
#ifndef LVS_SESSION_P4
#define LVS_SESSION_P4

#include "../headers.p4"

control Session(in headers_t hdr, inout metadata_t meta) {
    direct_counter(CounterType.packets_and_bytes) session_counter;
    /* Per service and per real server traffic, both directions together. */
    counter(MAX_SERVICES, CounterType.packets_and_bytes) service_stats;
    counter(MAX_REAL_SERVERS, CounterType.packets_and_bytes) real_server_stats;

    /* One action serves both directions: inbound entries rewrite
     * CIP:cport->VIP:vport to LIP:lport->RIP:rport, outbound entries
     * RIP:rport->LIP:lport to VIP:vport->CIP:cport. ip_csum_delta and
     * l4_csum_delta are the one's complement sums of ~old + new over the
     * rewritten words (addresses; addresses and ports, for the pseudo header),
     * precomputed by the controller. */
    action session_rewrite(ipv4_addr_t src_addr, ipv4_addr_t dst_addr,
                           l4_port_t src_port, l4_port_t dst_port,
                           bit<16> ip_csum_delta, bit<16> l4_csum_delta,
                           svc_idx_t svc_idx, rs_idx_t rs_idx,
                           bit<32> sess_idx, bit<8> sess_gen, bit<1> side) {
        meta.translated = 1;
        meta.nat_src_addr = src_addr;
        meta.nat_dst_addr = dst_addr;
        meta.nat_src_port = src_port;
        meta.nat_dst_port = dst_port;
        meta.ip_csum_delta = ip_csum_delta;
        meta.l4_csum_delta = l4_csum_delta;
        meta.svc_idx = svc_idx;
        meta.sess_valid = 1;
        meta.sess_idx = sess_idx;
        meta.sess_gen = sess_gen;
        meta.sess_side = side;
        service_stats.count((bit<32>)svc_idx);
        real_server_stats.count((bit<32>)rs_idx);
    }

    /* A SYNPROXY session: the same rewrite plus the sequence delta
     * (cookie - RS ISN) applied by SeqAdjust. */
    action session_synproxy(ipv4_addr_t src_addr, ipv4_addr_t dst_addr,
                            l4_port_t src_port, l4_port_t dst_port,
                            bit<16> ip_csum_delta, bit<16> l4_csum_delta,
                            svc_idx_t svc_idx, rs_idx_t rs_idx,
                            bit<32> sess_idx, bit<8> sess_gen, bit<1> side,
                            bit<32> seq_delta) {
        session_rewrite(src_addr, dst_addr, src_port, dst_port, ip_csum_delta, l4_csum_delta,
                        svc_idx, rs_idx, sess_idx, sess_gen, side);
        meta.seq_adjust = 1;
        meta.seq_delta = seq_delta;
    }

    /* A SYNPROXY session whose real-server handshake is pending: nothing is
     * forwarded (SynProxy punts the server's packets, drops the client's). */
    action session_hold(svc_idx_t svc_idx, bit<1> side) {
        meta.sess_hold = 1;
        meta.sess_side = side;
        meta.svc_idx = svc_idx;
    }

    /* Why: a session is found by the exact 5-tuple of either direction, so the
     * reply direction needs no reverse computation and no shared state.
     * Entries are installed by the controller (on packet-in) with an idle
     * timeout; the switch reports idle entries and the controller frees the
     * session and its local port. SYNPROXY sessions use session_hold while
     * the real server's handshake is pending, then session_synproxy. */
    table session {
        key = {
            hdr.ipv4.protocol : exact @name("protocol");
            hdr.ipv4.src_addr : exact @name("src_addr");
            meta.l4_src_port  : exact @name("src_port");
            hdr.ipv4.dst_addr : exact @name("dst_addr");
            meta.l4_dst_port  : exact @name("dst_port");
        }
        actions = { session_rewrite; session_synproxy; session_hold; NoAction; }
        default_action = NoAction();
        counters = session_counter;
        support_timeout = true;
        size = SESSION_TABLE_SIZE;
    }

    apply {
        session.apply();
    }
}

#endif
