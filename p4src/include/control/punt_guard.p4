/* punt_guard.p4: keep the controller's share of the traffic bounded. */
#ifndef LVS_PUNT_GUARD_P4
#define LVS_PUNT_GUARD_P4

#include "../headers.p4"

control PuntGuard(inout metadata_t meta) {
    /* Why: sessions are created by the controller, so new-flow packet-ins are
     * its whole load; a packet-rate meter on them keeps a SYN flood from
     * starving it and the flows it already serves (SYNPROXY, issue 6, takes
     * the flood off the controller altogether). The controller sets the rate
     * ([global] punt_rate); an unconfigured meter lets everything through. */
    meter(1, MeterType.packets) punt_meter;

    apply {
        if (meta.punt_reason != PUNT_NONE) {
            bit<2> color;
            punt_meter.execute_meter<bit<2>>(0, color);
            if (color == METER_RED) {
                meta.punt_reason = PUNT_NONE;
                meta.drop_reason = DROP_PUNT_RATE_LIMIT;
            }
        }
    }
}

#endif
