/* config.p4: global feature switches. */
#ifndef LVS_CONFIG_P4
#define LVS_CONFIG_P4

#include "../headers.p4"

control GlobalConfig(inout metadata_t meta) {
    action set_global_config(bit<1> fullnat, bit<1> icmp_echo, bit<1> synproxy,
                             bit<16> syn_mss, bit<1> tcp_states) {
        meta.cfg_tcp_states = tcp_states;
        meta.cfg_fullnat = fullnat;
        meta.cfg_icmp_echo = icmp_echo;
        meta.cfg_synproxy = synproxy;
        meta.cfg_syn_mss = syn_mss;
    }

    /* Why: one place for the global on/off switch of every feature module;
     * keyless, so the controller sets it by writing the default action.
     * Until it does, every feature is off (fail closed). */
    table global_config {
        actions = { set_global_config; }
        default_action = set_global_config(0, 0, 0, 536, 0);
        size = 1;
    }

    apply {
        global_config.apply();
    }
}

#endif
