"""What the daemon needs from the P4Info: every P4 object it reads or writes.

Why: `p4lvs run --json X --p4info Y` accepts any artifacts. With the P4Info
of another (or an older) program the first lookup failed deep inside an
install, after the pipeline had been pushed. Checking the whole list first
(before connecting) turns that into one clear error naming every missing
object, with nothing written to any switch.

The names are the ones runtime/entries.py, runtime/p4rt.py and
runtime/daemon.py use (aliases or full names, resolved like the writes are).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from p4common.p4info import EntityKind, P4InfoIndex, load_p4info
from runtime import constants as K


@dataclass(frozen=True)
class TableNeed:
    name: str
    match: tuple[str, ...]
    actions: dict[str, tuple[str, ...]]    # action -> its parameters


_SESSION_PARAMS = ("src_addr", "dst_addr", "src_port", "dst_port", "ip_csum_delta",
                   "l4_csum_delta", "svc_idx", "rs_idx", "sess_idx", "sess_gen", "side")

TABLES: tuple[TableNeed, ...] = (
    TableNeed(K.T_GLOBAL_CONFIG, (), {"set_global_config": ("fullnat", "icmp_echo", "synproxy",
                                                            "syn_mss", "tcp_states")}),
    TableNeed(K.T_SYNPROXY_SECRET, (), {"set_cookie_secrets": ("cur_secret_p", "cur_slot_p",
                                                               "prev_secret_p", "prev_slot_p")}),
    TableNeed(K.T_ARP, ("port", "target_addr"), {"arp_reply": ("mac",)}),
    TableNeed(K.T_ROUTE, ("dst_addr",), {"route": ("port", "src_mac", "dst_mac")}),
    TableNeed(K.T_LB_ADDRESS, ("addr",), {"vip": ("icmp_echo",), "local_addr": ()}),
    TableNeed(K.T_LPORT_PARTITION, ("local_addr", "lport"), {"set_partition": ("partition",)}),
    TableNeed(K.T_SERVICE, ("vip", "vport", "protocol"),
              {"service_hit": ("svc_idx", "fullnat", "synproxy")}),
    TableNeed(K.T_SESSION, ("protocol", "src_addr", "src_port", "dst_addr", "dst_port"),
              {"session_rewrite": _SESSION_PARAMS,
               "session_synproxy": _SESSION_PARAMS + ("seq_delta",),
               "session_hold": ("svc_idx", "side")}),
)
COUNTERS = (K.C_SERVICE_STATS, K.C_REAL_SERVER_STATS, K.C_DROP_STATS, K.C_SYNPROXY_STATS)
METERS = (K.M_PUNT,)
DIGESTS = (K.D_TCP_EVENT,)
PACKET_METADATA = {"packet_in": ("ingress_port", "reason"),
                   "packet_out": ("op", "ingress_port", "rst_slot", "rst_gen")}


class P4InfoMismatchError(ValueError):
    """The P4Info lacks objects the daemon uses: it is not lvs.p4's (or not
    this version's)."""

    def __init__(self, source: str, missing: list[str], reason: str = ""):
        self.source = source
        self.missing = missing
        super().__init__(f"{source}: cannot use it as the P4Info: {reason}" if reason else
                         f"{source} does not match what the p4lvs daemon needs "
                         f"(p4src/lvs.p4 of this version); missing {len(missing)}: "
                         + "; ".join(missing))


def missing_objects(idx: P4InfoIndex) -> list[str]:
    """Every object the daemon needs that the P4Info lacks, one string each."""
    out: list[str] = []
    for need in TABLES:
        t = idx.tables.find(need.name)
        if t is None:
            out.append(f"table {need.name}")
            continue
        fields = {mf.name for mf in t.match_fields}
        out += [f"table {need.name} match field {f}" for f in need.match if f not in fields]
        allowed = {a.preamble.id for a in idx.table_actions(t)}
        for aname, params in need.actions.items():
            a = idx.actions.find(aname)
            if a is None or a.preamble.id not in allowed:
                out.append(f"action {aname} of table {need.name}")
                continue
            have = {p.name for p in a.params}
            out += [f"action {aname} parameter {p}" for p in params if p not in have]
    for kind, names, label in ((EntityKind.COUNTER, COUNTERS, "counter"),
                               (EntityKind.METER, METERS, "meter"),
                               (EntityKind.DIGEST, DIGESTS, "digest")):
        out += [f"{label} {n}" for n in names if idx.entities(kind).find(n) is None]
    cpms = idx.entities(EntityKind.CONTROLLER_PACKET_METADATA)
    for cname, fields in PACKET_METADATA.items():
        c = cpms.find(cname)
        if c is None:
            out.append(f"controller packet metadata {cname}")
            continue
        have = {m.name for m in c.metadata}
        out += [f"{cname} metadata field {f}" for f in fields if f not in have]
    return out


def check_p4info(p4info: Any, source: str = "P4Info") -> None:
    """Raise P4InfoMismatchError listing what is missing (a P4Info message or index)."""
    idx = p4info if isinstance(p4info, P4InfoIndex) else P4InfoIndex(p4info)
    missing = missing_objects(idx)
    if missing:
        raise P4InfoMismatchError(source, missing)


def check_p4info_file(path: str | Path) -> None:
    """Load and check a P4Info file; unreadable or malformed files raise
    P4InfoMismatchError too, with the reason."""
    try:
        idx = P4InfoIndex(load_p4info(path))
    except Exception as e:  # noqa: BLE001 - unreadable, not a P4Info, inconsistent ids
        raise P4InfoMismatchError(str(path), [], str(e).removeprefix(f"{path}: ")) from None
    check_p4info(idx, str(path))
