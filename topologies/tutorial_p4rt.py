"""Apply a P4 tutorials ``sN-runtime.json`` to a switch over P4Runtime.

This is our counterpart of the tutorials' ``utils/p4runtime_lib/simple_controller.py``:
become primary (master arbitration), push the pipeline with
SetForwardingPipelineConfig (P4Info + the BMv2 JSON as ``p4_device_config``, as
simple_switch_grpc takes it), then Write the runtime file's entries:

* ``table_entries``: ``match`` per key field name -- exact ``value``, lpm
  ``[value, prefix_len]``, ternary ``[value, mask]``, range ``[low, high]``,
  optional ``value``; fields left out are wildcards (an exact field may not be
  left out); ``action_name`` + ``action_params`` by name; ``priority`` (P4Runtime
  order, larger wins) for tables with a ternary/range/optional field;
  ``"default_action": true`` entries MODIFY the table's default entry;
* ``multicast_group_entries``: ``multicast_group_id`` + ``replicas``
  (``egress_port``, ``instance``);
* ``clone_session_entries``: ``clone_session_id`` + ``replicas`` (+ optional
  ``class_of_service``, ``packet_length_bytes``).

Why a separate module from `topologies.tutorials` (which turns the same file into
runtime CLI commands from the BMv2 JSON): here every id and width comes from the
P4Info the compiler wrote, as a P4Runtime controller must, and names resolve
through `p4common.p4info.P4InfoIndex` (so a typo gets "did you mean").  The whole
file is checked and encoded *before* any connection is made, so bad input fails
without touching the switch, with the entry (``table_entries[3]``) and field named.
Don't-care matches (lpm /0, ternary mask 0, the full range) are omitted, and lpm
and ternary values are ANDed with their prefix / mask, as P4Runtime requires.

The gRPC client is `runtime.p4rt.P4RuntimeClient` (the daemon's).  Any gRPC target
works, including ``unix:/path`` sockets, which is how the netns test reaches
switches that run inside network namespaces (see tests/test_netns_tutorial_p4rt.py).

    python -m topologies.tutorial_p4rt --grpc 127.0.0.1:50051 --device-id 0 \\
        --p4info basic.p4info.txtpb --json basic.json --runtime s1-runtime.json
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from p4common import codec
from p4common.p4info import P4InfoError, P4InfoIndex, P4InfoLookupError, load_p4info
from p4common.proto import p4info_pb2
from p4common.proto import p4runtime_pb2 as pb
from topologies.tutorials import RuntimeJsonError, load_runtime_json

#: updates per WriteRequest (the server's error details must fit gRPC's trailer)
BATCH = 500
MAX_PRIORITY = (1 << 31) - 1

_MT = p4info_pb2.MatchField.MatchType
_KIND_NAMES = {_MT.EXACT: "exact", _MT.LPM: "lpm", _MT.TERNARY: "ternary",
               _MT.RANGE: "range", _MT.OPTIONAL: "optional"}


class TutorialLoadError(RuntimeError):
    """The switch refused something (connection, pipeline, or some updates); the
    message names each refused entry (``table_entries[2] (...): ALREADY_EXISTS``)."""


@dataclass(frozen=True)
class PlannedUpdate:
    """One P4Runtime update and where in the runtime JSON it came from."""
    where: str          # "table_entries[3]"
    summary: str        # "MyIngress.ipv4_lpm 10.0.1.1/32 -> MyIngress.ipv4_forward"
    update: Any         # p4.v1.Update


@dataclass
class LoadResult:
    device_id: int
    pipeline_set: bool
    table_entries: int = 0
    default_actions: int = 0
    multicast_groups: int = 0
    clone_sessions: int = 0
    updates: list[PlannedUpdate] = field(default_factory=list)

    def describe(self) -> str:
        return (f"device {self.device_id}: "
                + ("pipeline set, " if self.pipeline_set else "")
                + f"{self.table_entries} table entries, {self.default_actions} default actions, "
                  f"{self.multicast_groups} multicast groups, {self.clone_sessions} clone sessions")


# ---------------------------------------------------------------------------
# runtime JSON -> updates (no switch needed)

def plan_updates(runtime: dict, index: P4InfoIndex) -> list[PlannedUpdate]:
    """Check and encode every entry of a parsed runtime JSON; raises
    `RuntimeJsonError` naming the entry and field on the first bad one."""
    if not isinstance(runtime, dict):
        raise RuntimeJsonError("runtime JSON: expected an object")
    target = runtime.get("target", "bmv2")
    if target != "bmv2":
        raise RuntimeJsonError(f"runtime JSON: target {target!r} is not supported (only 'bmv2')")
    out: list[PlannedUpdate] = []
    for i, e in enumerate(_list(runtime, "table_entries")):
        out.append(_table_entry(index, e, f"table_entries[{i}]"))
    for i, g in enumerate(_list(runtime, "multicast_group_entries")):
        out.append(_mcast_group(g, f"multicast_group_entries[{i}]"))
    for i, s in enumerate(_list(runtime, "clone_session_entries")):
        out.append(_clone_session(s, f"clone_session_entries[{i}]"))
    return out


def _list(runtime: dict, key: str) -> list:
    v = runtime.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise RuntimeJsonError(f"{key}: expected a list, got {type(v).__name__}")
    return v


def _lookup(fn, *args, where: str):
    try:
        return fn(*args)
    except P4InfoLookupError as e:
        raise RuntimeJsonError(f"{where}: {e}") from None


def _uint(v: Any, where: str, lo: int = 0, hi: int = (1 << 32) - 1) -> int:
    if isinstance(v, bool) or v is None:
        raise RuntimeJsonError(f"{where}: expected an integer, got {v!r}")
    try:
        n = v if isinstance(v, int) else codec.parse_int(str(v), what=where)
    except codec.CodecError as e:
        raise RuntimeJsonError(str(e)) from None
    if not lo <= n <= hi:
        raise RuntimeJsonError(f"{where}: {n} not in {lo}..{hi}")
    return n


def _value(v: Any, width: int, where: str) -> int:
    if isinstance(v, (list, dict)) or v is None:
        raise RuntimeJsonError(f"{where}: expected a single value, got {v!r}")
    try:
        return codec.parse_value(v, width, where)
    except codec.CodecError as e:
        raise RuntimeJsonError(str(e)) from None


def _pair(v: Any, what: str, where: str) -> tuple[Any, Any]:
    if not isinstance(v, list) or len(v) != 2:
        raise RuntimeJsonError(f"{where}: expected [{what}], got {v!r}")
    return v[0], v[1]


def _kind(mf: Any) -> str:
    if mf.WhichOneof("match") == "other_match_type":
        return mf.other_match_type
    return _KIND_NAMES.get(mf.match_type, f"match type {mf.match_type}")


def _table_entry(idx: P4InfoIndex, e: Any, where: str) -> PlannedUpdate:
    if not isinstance(e, dict):
        raise RuntimeJsonError(f"{where}: expected an object, got {e!r}")
    if "table" not in e:
        raise RuntimeJsonError(f"{where}: no 'table'")
    for key in ("table", "action_name"):  # a list or object here is a shape error, not a name
        if key in e and not isinstance(e[key], str):
            raise RuntimeJsonError(f"{where}.{key}: expected a name, got {e[key]!r}")
    t = _lookup(idx.table, e["table"], where=f"{where}.table")
    tname = t.preamble.name
    te = pb.TableEntry(table_id=t.preamble.id)
    default = bool(e.get("default_action", False))
    match = e.get("match") or {}
    if not isinstance(match, dict):
        raise RuntimeJsonError(f"{where}.match: expected an object of field: value, got {match!r}")
    kinds = [_kind(mf) for mf in t.match_fields]
    needs_priority = any(k in ("ternary", "range", "optional") for k in kinds)
    shown: list[str] = []
    if default:
        if match:
            raise RuntimeJsonError(f"{where}: a default_action entry takes no match "
                                   f"(got fields {sorted(match)})")
        te.is_default_action = True
        shown.append("default")
    else:
        for name in match:   # unknown names first: the error then has a did-you-mean
            _lookup(idx.match_field, t, name, where=f"{where}.match")
        for mf, kind in zip(t.match_fields, kinds):
            text = _field_match(te, mf, kind, match.get(mf.name), f"{where}.match[{mf.name!r}]")
            if text:
                shown.append(text)
    prio = e.get("priority")
    if default:
        if prio not in (None, 0):
            raise RuntimeJsonError(f"{where}: a default_action entry takes no priority")
    elif needs_priority:
        if prio is None:
            raise RuntimeJsonError(f"{where}: table {tname} has a ternary/range/optional key, "
                                   f"so the entry needs a 'priority' (1..{MAX_PRIORITY}, larger wins)")
        te.priority = _uint(prio, f"{where}.priority", 1, MAX_PRIORITY)
    elif prio not in (None, 0):
        raise RuntimeJsonError(f"{where}: table {tname} has only exact/lpm keys, "
                               f"so the entry takes no priority (got {prio!r})")
    if "action_name" not in e:
        raise RuntimeJsonError(f"{where}: no 'action_name'")
    a = _lookup(idx.table_action, t, e["action_name"], where=f"{where}.action_name")
    aname = a.preamble.name
    given = e.get("action_params") or {}
    if not isinstance(given, dict):
        raise RuntimeJsonError(f"{where}.action_params: expected an object of name: value")
    for name in given:
        _lookup(idx.param, a, name, where=f"{where}.action_params")
    missing = [p.name for p in a.params if p.name not in given]
    if missing:
        raise RuntimeJsonError(f"{where}: action {aname} needs parameter(s) {missing}; "
                               f"it takes {[p.name for p in a.params]}")
    act = te.action.action
    act.action_id = a.preamble.id
    for p in a.params:
        v = _value(given[p.name], p.bitwidth, f"{where}.action_params.{p.name}")
        act.params.add(param_id=p.id, value=codec.to_canonical(v))
    kind = pb.Update.MODIFY if default else pb.Update.INSERT
    u = pb.Update(type=kind)
    u.entity.table_entry.CopyFrom(te)
    return PlannedUpdate(where, f"{tname} {' '.join(shown) or '*'} -> {aname}", u)


def _field_match(te: Any, mf: Any, kind: str, v: Any, where: str) -> str | None:
    """Add one FieldMatch (unless it is a don't-care); returns it as text."""
    w = mf.bitwidth
    if v is None:
        if kind == "exact":
            raise RuntimeJsonError(f"{where}: an exact key field cannot be left out")
        return None
    if kind == "exact":
        val = _value(v, w, where)
        te.match.add(field_id=mf.id).exact.value = codec.to_canonical(val)
        return _show(val, w)
    if kind == "lpm":
        val, plen = _pair(v, "value, prefix_len", where)
        plen = _uint(plen, f"{where} prefix length", 0, w)
        if plen == 0:
            return None
        val = _value(val, w, where) & (codec.mask(w) ^ codec.mask(w - plen))
        fm = te.match.add(field_id=mf.id)
        fm.lpm.value, fm.lpm.prefix_len = codec.to_canonical(val), plen
        return f"{_show(val, w)}/{plen}"
    if kind == "ternary":
        val, m = _pair(v, "value, mask", where)
        m = _value(m, w, f"{where} mask")
        if m == 0:
            return None
        val = _value(val, w, where) & m
        fm = te.match.add(field_id=mf.id)
        fm.ternary.value, fm.ternary.mask = codec.to_canonical(val), codec.to_canonical(m)
        return f"{_show(val, w)}&&&{m:#x}"
    if kind == "range":
        lo, hi = _pair(v, "low, high", where)
        lo, hi = _value(lo, w, f"{where} low"), _value(hi, w, f"{where} high")
        if lo > hi:
            raise RuntimeJsonError(f"{where}: range low {lo:#x} > high {hi:#x}")
        if lo == 0 and hi == codec.mask(w):
            return None
        fm = te.match.add(field_id=mf.id)
        fm.range.low, fm.range.high = codec.to_canonical(lo), codec.to_canonical(hi)
        return f"{_show(lo, w)}->{_show(hi, w)}"
    if kind == "optional":
        val = _value(v, w, where)
        te.match.add(field_id=mf.id).optional.value = codec.to_canonical(val)
        return _show(val, w)
    raise RuntimeJsonError(f"{where}: {kind} keys are not supported")


def _show(value: int, width: int) -> str:
    """A key value as people wrote it: dotted quad, MAC, else hex."""
    if width == 32:
        return codec.format_ipv4(value)
    if width == 48:
        return codec.format_mac(value)
    return f"{value:#x}"


def _replicas(rs: Any, where: str) -> list[Any]:
    if not isinstance(rs, list):
        raise RuntimeJsonError(f"{where}.replicas: expected a list, got {rs!r}")
    out = []
    seen = set()
    for j, r in enumerate(rs):
        w = f"{where}.replicas[{j}]"
        if not isinstance(r, dict) or "egress_port" not in r:
            raise RuntimeJsonError(f"{w}: expected {{'egress_port': N, 'instance': N}}, got {r!r}")
        port = _uint(r["egress_port"], f"{w}.egress_port")
        inst = _uint(r.get("instance", 0), f"{w}.instance")
        if (port, inst) in seen:
            raise RuntimeJsonError(f"{w}: replica (port {port}, instance {inst}) given twice")
        seen.add((port, inst))
        out.append(pb.Replica(egress_port=port, instance=inst))
    return out


def _mcast_group(g: Any, where: str) -> PlannedUpdate:
    if not isinstance(g, dict) or "multicast_group_id" not in g:
        raise RuntimeJsonError(f"{where}: expected an object with 'multicast_group_id'")
    gid = _uint(g["multicast_group_id"], f"{where}.multicast_group_id", 1)
    u = pb.Update(type=pb.Update.INSERT)
    m = u.entity.packet_replication_engine_entry.multicast_group_entry
    m.multicast_group_id = gid
    m.replicas.extend(_replicas(g.get("replicas", []), where))
    return PlannedUpdate(where, f"multicast group {gid} ({len(m.replicas)} replicas)", u)


def _clone_session(s: Any, where: str) -> PlannedUpdate:
    if not isinstance(s, dict) or "clone_session_id" not in s:
        raise RuntimeJsonError(f"{where}: expected an object with 'clone_session_id'")
    sid = _uint(s["clone_session_id"], f"{where}.clone_session_id", 1)
    u = pb.Update(type=pb.Update.INSERT)
    c = u.entity.packet_replication_engine_entry.clone_session_entry
    c.session_id = sid
    c.replicas.extend(_replicas(s.get("replicas", []), where))
    c.class_of_service = _uint(s.get("class_of_service", 0), f"{where}.class_of_service")
    c.packet_length_bytes = _uint(s.get("packet_length_bytes", 0), f"{where}.packet_length_bytes")
    return PlannedUpdate(where, f"clone session {sid} ({len(c.replicas)} replicas)", u)


# ---------------------------------------------------------------------------
# applying it

def load_index(p4info_path: str | Path) -> P4InfoIndex:
    try:
        return P4InfoIndex(load_p4info(p4info_path))
    except P4InfoError as e:
        raise RuntimeJsonError(f"P4Info: {e}") from None


def apply_runtime_p4rt(addr: str, device_id: int, runtime: dict | str | Path, *,
                       p4info: str | Path, bmv2_json: str | Path | None,
                       election_id: tuple[int, int] = (0, 1), timeout: float = 10.0
                       ) -> LoadResult:
    """Do what simple_controller does for one switch: arbitration, pipeline push
    (skipped when `bmv2_json` is None: the switch must already run this P4Info's
    program), then the runtime file's writes.  `runtime` is a parsed runtime
    JSON or its path.  Raises `RuntimeJsonError` (bad input, before connecting)
    or `TutorialLoadError` (the switch refused something)."""
    from runtime.p4rt import P4RuntimeClient, P4RuntimeClientError

    if not isinstance(runtime, dict):
        runtime = load_runtime_json(str(runtime))
    idx = load_index(p4info)
    plan = plan_updates(runtime, idx)
    if bmv2_json is not None and not Path(bmv2_json).is_file():
        raise RuntimeJsonError(f"BMv2 JSON {bmv2_json}: no such file")
    result = LoadResult(device_id, bmv2_json is not None, updates=plan)
    client = P4RuntimeClient(addr, device_id, election_id=election_id, timeout=timeout)
    try:
        try:
            client.connect()
            if bmv2_json is not None:
                client.set_pipeline(bmv2_json, p4info)
            else:
                client.use_p4info(p4info)
        except P4RuntimeClientError as e:
            raise TutorialLoadError(f"{addr} device {device_id}: {e}") from None
        refused: list[str] = []
        for start in range(0, len(plan), BATCH):
            chunk = plan[start:start + BATCH]
            try:
                client.write_updates([p.update for p in chunk])
            except P4RuntimeClientError as e:
                errs = getattr(e, "update_errors", [])
                if not errs:
                    refused.append(f"{chunk[0].where}..{chunk[-1].where}: {e}")
                for p, (code, msg) in zip(chunk, errs):
                    if code:
                        refused.append(f"{p.where} ({p.summary}): {_code_name(code)}: {msg}")
        if refused:
            raise TutorialLoadError(f"{addr} device {device_id}: {len(refused)} of {len(plan)} "
                                    f"updates refused:\n  " + "\n  ".join(refused))
    finally:
        client.close()
    for p in plan:
        ent = p.update.entity
        if ent.HasField("table_entry"):
            if ent.table_entry.is_default_action:
                result.default_actions += 1
            else:
                result.table_entries += 1
        elif ent.packet_replication_engine_entry.HasField("multicast_group_entry"):
            result.multicast_groups += 1
        else:
            result.clone_sessions += 1
    return result


def _code_name(code: int) -> str:
    from google.rpc import code_pb2
    try:
        return code_pb2.Code.Name(code)
    except ValueError:
        return f"code {code}"


# ---------------------------------------------------------------------------
# command line

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m topologies.tutorial_p4rt",
        description="Apply a P4 tutorials sN-runtime.json to a switch over P4Runtime "
                    "(like the tutorials' simple_controller).")
    ap.add_argument("--grpc", required=True, metavar="ADDR",
                    help="P4Runtime server: HOST:PORT or unix:/path")
    ap.add_argument("--device-id", type=int, default=0)
    ap.add_argument("--runtime", required=True, metavar="FILE", help="the sN-runtime.json")
    ap.add_argument("--p4info", metavar="FILE",
                    help="P4Info (text or binary); default: the runtime file's 'p4info', "
                         "relative to --workdir")
    ap.add_argument("--json", metavar="FILE",
                    help="BMv2 JSON pushed with SetForwardingPipelineConfig; default: the runtime "
                         "file's 'bmv2_json', relative to --workdir")
    ap.add_argument("--workdir", default=".", help="where the runtime file's paths start (default .)")
    ap.add_argument("--no-pipeline", action="store_true",
                    help="do not push a pipeline (the switch already runs the program)")
    ap.add_argument("--election-id", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per RPC (default 10)")
    ap.add_argument("--check", action="store_true",
                    help="only check and encode the runtime file; contact no switch")
    args = ap.parse_args(argv)
    if not 0 <= args.device_id < 1 << 64:
        ap.error(f"--device-id {args.device_id}: must be in 0..2^64-1")
    if not 0 < args.election_id < 1 << 64:
        ap.error(f"--election-id {args.election_id}: must be in 1..2^64-1")
    if not args.timeout > 0:
        ap.error(f"--timeout {args.timeout}: must be more than 0 seconds")
    try:
        runtime = load_runtime_json(args.runtime)
        p4info = args.p4info or _from_runtime(runtime, "p4info", args)
        bmv2 = None if args.no_pipeline else (args.json or _from_runtime(runtime, "bmv2_json", args))
        if args.check:
            plan = plan_updates(runtime, load_index(p4info))
            for p in plan:
                print(f"{p.where}: {p.summary}")
            print(f"{len(plan)} updates OK")
            return 0
        res = apply_runtime_p4rt(args.grpc, args.device_id, runtime, p4info=p4info,
                                 bmv2_json=bmv2, election_id=(0, args.election_id),
                                 timeout=args.timeout)
    except (RuntimeJsonError, TutorialLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.runtime}: {res.describe()}")
    return 0


def _from_runtime(runtime: dict, key: str, args: argparse.Namespace) -> str:
    v = runtime.get(key) if isinstance(runtime, dict) else None
    if not isinstance(v, str) or not v:
        raise RuntimeJsonError(f"{args.runtime}: no '{key}' in the file; give --"
                               f"{'p4info' if key == 'p4info' else 'json'}")
    return str(Path(args.workdir) / v)


__all__ = ["plan_updates", "apply_runtime_p4rt", "load_index", "PlannedUpdate", "LoadResult",
           "TutorialLoadError", "RuntimeJsonError", "main"]

if __name__ == "__main__":
    sys.exit(main())
