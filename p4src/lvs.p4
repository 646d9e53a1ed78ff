/* lvs.p4: LVS-style FULLNAT layer-4 load balancer (v1model).
 *
 * This file is the only place that knows the architecture: it turns
 * standard_metadata into the target-neutral metadata_t the feature controls
 * use, composes them, and turns their verdicts (metadata_t.egress_port,
 * drop_reason, punt_reason) back into v1model calls. See
 * docs/design-sessions.md for the design. */
#include <core.p4>
#include <v1model.p4>

#include "include/defines.p4"
#include "include/headers.p4"
#include "include/parser.p4"
#include "include/checksum.p4"
#include "include/control/packet_io.p4"
#include "include/control/config.p4"
#include "include/control/arp.p4"
#include "include/control/service.p4"
#include "include/control/session.p4"
#include "include/control/fullnat.p4"
#include "include/control/icmp_echo.p4"
#include "include/control/l3_forward.p4"
#include "include/control/punt_guard.p4"
#include "include/control/stats.p4"
#include "include/control/synproxy.p4"
#include "include/control/seq_track.p4"

control LvsIngress(inout headers_t hdr, inout metadata_t meta,
                   inout standard_metadata_t std) {
    PacketOutIngress() packet_out_ingress;
    GlobalConfig() global_config;
    Arp() arp;
    LbAddress() lb_address;
    Service() service;
    LportPartition() lport_partition;
    Session() session;
    FullNat() fullnat;
    IcmpEcho() icmp_echo;
    L3Forward() l3_forward;
    PuntGuard() punt_guard;
    DropStats() drop_stats;
    SynProxy() synproxy;
    SeqTrack() seq_track;
    SeqAdjust() seq_adjust;

    /* Traffic addressed to the balancer itself (a VIP or a local address)
     * that missed the session table. */
    action drop_with(drop_reason_t reason) {
        meta.drop_reason = reason;
    }

    apply {
        packet_out_ingress.apply(hdr, meta);
        if (std.checksum_error == 1) {
            meta.drop_reason = DROP_BAD_IP_CHECKSUM;
        }
        if (meta.out_direct == 0 && meta.drop_reason == DROP_NONE) {
            if (meta.rst_trigger == 1) {
                /* a RST built by the controller (session timeout): SeqTrack
                 * fills its sequence number in, then it is routed */
                if (!hdr.ipv4.isValid()) {
                    drop_with(DROP_BAD_PACKET_OUT);
                }
            } else {
                global_config.apply(meta);
                if (hdr.arp.isValid()) {
                    arp.apply(hdr, meta);
                } else if (hdr.ipv4.isValid()) {
                    if (meta.l4_valid == 1) {
                        session.apply(hdr, meta);
                    }
                    if (meta.sess_hold == 1) {
                        /* SynProxy decides below */
                    } else if (meta.translated == 1) {
                        fullnat.apply(hdr, meta);
                    } else {
                        lb_address.apply(hdr, meta);
                        if (meta.to_vip == 1 || meta.to_local_addr == 1) {
                            if (meta.is_fragment == 1) {
                                drop_with(DROP_FRAGMENT);
                            } else if (meta.has_ip_options == 1) {
                                drop_with(DROP_IP_OPTIONS);
                            } else if (meta.to_local_addr == 1) {
                                /* A reply without a session: counted per partition. */
                                if (meta.l4_valid == 1) {
                                    lport_partition.apply(hdr, meta);
                                }
                                if (meta.drop_reason == DROP_NONE) {
                                    drop_with(DROP_NO_SESSION);
                                }
                            } else if (meta.l4_valid == 1) {
                                service.apply(hdr, meta);
                            } else if (hdr.icmp.isValid() && hdr.icmp.icmp_type == ICMP_ECHO_REQUEST) {
                                if (meta.cfg_icmp_echo == 1 && meta.vip_icmp_echo == 1) {
                                    icmp_echo.apply(hdr, meta);
                                } else {
                                    drop_with(DROP_ICMP_ECHO_OFF);
                                }
                            } else {
                                drop_with(DROP_VIP_PROTOCOL);
                            }
                        }
                    }
                } else {
                    drop_with(DROP_NOT_IPV4);
                }
            }
            /* sequence tracking (sessions) or filling (RST triggers) */
            if (meta.drop_reason == DROP_NONE &&
                    (meta.rst_trigger == 1 || (meta.translated == 1 && meta.sess_valid == 1))) {
                seq_track.apply(hdr, meta);
            }
            if (meta.translated == 1 && meta.seq_adjust == 1 && hdr.tcp.isValid()) {
                seq_adjust.apply(hdr, meta);
            }
            if (meta.sess_hold == 1 || meta.sp_op != SP_OP_NONE) {
                synproxy.apply(hdr, meta);
            }
            if (hdr.ipv4.isValid() && meta.drop_reason == DROP_NONE && meta.punt_reason == PUNT_NONE) {
                l3_forward.apply(hdr, meta);
            }
        }

        punt_guard.apply(meta);

        /* v1model verdicts */
        drop_stats.apply(meta);
        if (meta.drop_reason != DROP_NONE) {
            mark_to_drop(std);
        } else if (meta.punt_reason != PUNT_NONE) {
            std.egress_spec = CPU_PORT;
        } else {
            std.egress_spec = meta.egress_port;
        }
    }
}

control LvsEgress(inout headers_t hdr, inout metadata_t meta,
                  inout standard_metadata_t std) {
    PacketInEgress() packet_in_egress;

    apply {
        packet_in_egress.apply(hdr, meta, std.egress_port);
    }
}

V1Switch(LvsParser(), LvsVerifyChecksum(), LvsIngress(), LvsEgress(),
         LvsComputeChecksum(), LvsDeparser()) main;
