/* packet_io.p4: the controller's side door (packet-out in, packet-in out). */
#ifndef LVS_PACKET_IO_P4
#define LVS_PACKET_IO_P4

#include "../headers.p4"

/* A packet from the controller either leaves on the port it names (DIRECT) or
 * runs through the pipeline as if received on packet_out.ingress_port
 * (PIPELINE): that is how the first packet of a new flow is re-injected once
 * its session entries are installed. */
control PacketOutIngress(inout headers_t hdr, inout metadata_t meta) {
    apply {
        if (hdr.packet_out.isValid()) {
            if (hdr.packet_out.op == OUT_OP_DIRECT) {
                meta.out_direct = 1;
                meta.egress_port = hdr.packet_out.egress_port;
            } else if (hdr.packet_out.op == OUT_OP_RST) {
                meta.rst_trigger = 1;
                meta.rst_slot = hdr.packet_out.rst_slot;
                meta.rst_gen = hdr.packet_out.rst_gen;
            } else if (hdr.packet_out.op != OUT_OP_PIPELINE) {
                meta.drop_reason = DROP_BAD_PACKET_OUT;
            }
            hdr.packet_out.setInvalid();
        }
    }
}

/* Packets punted in ingress get the packet_in header here, in egress, so a
 * future clone to the CPU port (issue 6) gets it the same way. */
control PacketInEgress(inout headers_t hdr, in metadata_t meta, in port_num_t egress_port) {
    apply {
        if (egress_port == CPU_PORT) {
            hdr.packet_in.setValid();
            hdr.packet_in.ingress_port = meta.in_port;
            hdr.packet_in._pad0 = 0;
            hdr.packet_in.reason = meta.punt_reason;
            hdr.packet_in.svc_idx = meta.svc_idx;
            hdr.packet_in.partition = meta.partition;
        }
    }
}

#endif
