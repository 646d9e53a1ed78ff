/* stats.p4: why packets were dropped. */
#ifndef LVS_STATS_P4
#define LVS_STATS_P4

#include "../headers.p4"

control DropStats(in metadata_t meta) {
    /* Indexed by DROP_* (defines.p4); read by `p4lvs list --drops`. */
    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) drop_stats;

    apply {
        if (meta.drop_reason != DROP_NONE) {
            drop_stats.count((bit<32>)meta.drop_reason);
        }
    }
}

#endif
