"""Loaders for the P4 tutorials' files: topology.json -> a topology graph,
sN-runtime.json -> simple_switch_CLI commands.

The runtime JSON is P4Runtime-flavoured (see p4lang/tutorials
``utils/p4runtime_lib/simple_controller.py``): match values per key name,
``[value, prefix_len]`` for lpm, ``[value, mask]`` for ternary, ``[low, high]``
for range, fields left out are wildcards, and a higher ``priority`` wins.
We turn each entry into the simple_switch_CLI command BMv2 would need
(key fields in JSON key order, parameters in ``runtime_data`` order, BMv2's
smaller-wins priority), so the same text can be applied at start-up
(``p4sw --cli-commands``), over the runtime CLI socket, or in-process through
``RuntimeApi.run_command``.  Values are parsed and width-checked by
`p4common.codec`, match parameters are spelled by `p4common.matchstr`.
"""
from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from typing import Any

from p4common import codec, matchstr
from topologies.graph import Topology, TopologyError

#: P4Runtime priorities (larger wins) map onto BMv2's (smaller wins) as
#: ``BMV2_PRIORITY_TOP - p``, keeping the order and staying positive.
BMV2_PRIORITY_TOP = (1 << 24) - 1


class RuntimeJsonError(TopologyError):
    """A runtime JSON entry that cannot be turned into a command; the message
    says which entry (``table_entries[3]``) and why."""


# ---------------------------------------------------------------------------
# topology.json

def load_topology_json(path: str, *, program: str | None = None,
                       with_runtime: bool = True) -> Topology:
    """Read a tutorials ``topology.json`` into a `Topology` graph.

    Hosts get ``ip``, ``mac`` and their set-up ``commands``; switches get
    ``program`` (BMv2 JSON path, if given) and ``runtime`` (the parsed
    ``sN-runtime.json``, whose path in the file is relative to the exercise
    directory, i.e. the parent of the topology file's directory).  A link
    ``["h1", "s1-p1"]`` connects h1's next interface to port 1 of s1."""
    data = _read_json_object(path, TopologyError)
    exercise_dir = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    hosts = _section(data, "hosts", path)
    switches = _section(data, "switches", path)
    links = data.get("links") or []
    if not isinstance(links, list):
        raise TopologyError(f"{path}: links: expected a list of [end, end], got {type(links).__name__}")
    if not hosts and not switches:
        raise TopologyError(f"{path}: no hosts and no switches: not a tutorials topology.json")
    topo = Topology()
    for name, h in hosts.items():
        where = f"{path}: hosts.{name}"
        ip, mac = h.get("ip"), h.get("mac")
        for key, v in (("ip", ip), ("mac", mac)):
            if v is not None and not isinstance(v, str):
                raise TopologyError(f"{where}.{key}: expected a string, got {v!r}")
        if ip is not None:
            try:
                ipaddress.IPv4Interface(ip)
            except ValueError:
                raise TopologyError(f"{where}.ip: {ip!r} is not an IPv4 address[/prefix]") from None
        if mac is not None:
            try:
                codec.parse_mac(mac)
            except codec.CodecError:
                raise TopologyError(f"{where}.mac: {mac!r} is not a MAC address") from None
        commands = h.get("commands", [])
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise TopologyError(f"{where}.commands: expected a list of strings")
        topo.add_host(name, ip=ip, mac=mac, commands=list(commands))
    for name, s in switches.items():
        runtime = None
        rj = s.get("runtime_json")
        if rj is not None and not isinstance(rj, str):
            raise TopologyError(f"{path}: switches.{name}.runtime_json: expected a path, got {rj!r}")
        if with_runtime and rj:
            runtime = load_runtime_json(os.path.join(exercise_dir, rj))
        topo.add_switch(name, program=program, runtime=runtime)
    for i, link in enumerate(links):
        if not isinstance(link, list) or len(link) < 2:
            raise TopologyError(f"{path}: links[{i}]: expected [end, end, ...], got {link!r}")
        (a, pa), (b, pb) = (_endpoint(topo, e, f"{path}: links[{i}]") for e in link[:2])
        topo.add_link(a, b, port_a=pa, port_b=pb)
    return topo


def _read_json_object(path: str, error: type[TopologyError]) -> dict:
    """The JSON object in `path`, or `error` saying why not (unreadable, not
    UTF-8, not JSON, not an object) -- never a decoder traceback."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise error(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not JSON: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: not JSON: {e}") from None
    except RecursionError:
        raise error(f"{path}: not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected an object")
    return data


def _section(data: dict, key: str, path: str) -> dict[str, dict]:
    """``hosts`` / ``switches``: an object of name -> object (absent: empty)."""
    v = data.get(key) or {}
    if not isinstance(v, dict):
        raise TopologyError(f"{path}: {key}: expected an object of name: {{...}}, "
                            f"got {type(v).__name__}")
    for name, item in v.items():
        if not isinstance(item, dict):
            raise TopologyError(f"{path}: {key}.{name}: expected an object, got {item!r}")
    return v


def _endpoint(topo: Topology, text: Any, where: str) -> tuple[str, int | None]:
    """``"h1"`` -> ("h1", None); ``"s1-p3"`` -> ("s1", 3)."""
    if not isinstance(text, str):
        raise TopologyError(f"{where}: endpoint {text!r} is not a string")
    node, sep, port = text.rpartition("-p")
    if sep and port.isdigit() and topo.graph.has_node(node):
        return node, int(port)
    if topo.graph.has_node(text):
        return text, None
    raise TopologyError(f"{where}: unknown node {text!r}")


# ---------------------------------------------------------------------------
# sN-runtime.json

def load_runtime_json(path: str) -> dict:
    return _read_json_object(path, RuntimeJsonError)


@dataclass(frozen=True)
class _Key:
    name: str
    match_type: str
    bitwidth: int


class _ProgramInfo:
    """What the conversion needs from a BMv2 JSON: per table its key fields
    (name, kind, width) and per action its parameters (name, width)."""

    def __init__(self, bmv2: dict):
        widths: dict[str, dict[str, int]] = {}
        types = {t["name"]: t for t in bmv2.get("header_types", [])}
        for h in bmv2.get("headers", []):
            t = types.get(h.get("header_type"))
            if t is not None:
                widths[h["name"]] = {f[0]: int(f[1]) for f in t.get("fields", []) if len(f) >= 2}
        self.tables: dict[str, list[_Key]] = {}
        self.table_actions: dict[str, list[str]] = {}
        for pipe in bmv2.get("pipelines", []):
            for t in pipe.get("tables", []):
                keys = []
                for k in t.get("key", []):
                    target = k.get("target")
                    mt = k.get("match_type", "exact")
                    if mt == "valid":
                        width = 1
                    elif isinstance(target, list) and len(target) == 2:
                        width = widths.get(target[0], {}).get(target[1], 0)
                    else:
                        width = 0
                    keys.append(_Key(k.get("name", ""), mt, width))
                self.tables[t["name"]] = keys
                self.table_actions[t["name"]] = list(t.get("actions", []))
        self.actions: dict[str, list[tuple[str, int]]] = {
            a["name"]: [(p["name"], int(p["bitwidth"])) for p in a.get("runtime_data", [])]
            for a in bmv2.get("actions", [])
        }


def runtime_to_commands(runtime: dict, bmv2: dict | str) -> list[str]:
    """simple_switch_CLI commands that install `runtime` (a parsed
    sN-runtime.json) on a switch running `bmv2` (BMv2 JSON, parsed or a path).

    Multicast nodes are numbered from handle 0 in creation order, so the
    commands must go to a switch with no multicast nodes yet (a freshly
    started one, e.g. through ``p4sw --cli-commands``)."""
    if isinstance(bmv2, str):
        try:
            with open(bmv2, encoding="utf-8") as f:
                bmv2 = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise RuntimeJsonError(f"cannot read BMv2 JSON {bmv2}: {e}") from None
    info = _ProgramInfo(bmv2)
    cmds: list[str] = []
    for i, entry in enumerate(runtime.get("table_entries") or []):
        cmds.append(_table_entry(info, entry, f"table_entries[{i}]"))
    next_node = 0
    for i, grp in enumerate(runtime.get("multicast_group_entries") or []):
        where = f"multicast_group_entries[{i}]"
        gid = _int(grp.get("multicast_group_id"), where + ".multicast_group_id")
        cmds.append(f"mc_mgrp_create {gid}")
        for rid, ports in _replicas_by_instance(grp.get("replicas") or [], where):
            cmds.append(f"mc_node_create {rid} {' '.join(map(str, ports))}")
            cmds.append(f"mc_node_associate {gid} {next_node}")
            next_node += 1
    for i, sess in enumerate(runtime.get("clone_session_entries") or []):
        where = f"clone_session_entries[{i}]"
        sid = _int(sess.get("clone_session_id"), where + ".clone_session_id")
        replicas = sess.get("replicas") or []
        if len(replicas) == 1:
            port = _int(replicas[0].get("egress_port"), where + ".replicas[0].egress_port")
            cmds.append(f"mirroring_add {sid} {port}")
            continue
        # several replicas: a multicast group of its own, out of the way of
        # the program's groups
        gid = (1 << 15) + sid
        cmds.append(f"mc_mgrp_create {gid}")
        for rid, ports in _replicas_by_instance(replicas, where):
            cmds.append(f"mc_node_create {rid} {' '.join(map(str, ports))}")
            cmds.append(f"mc_node_associate {gid} {next_node}")
            next_node += 1
        cmds.append(f"mirroring_add_mc {sid} {gid}")
    return cmds


def _int(v: Any, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        try:
            return codec.parse_int(str(v), what=where)
        except codec.CodecError as e:
            raise RuntimeJsonError(str(e)) from None
    return v


def _replicas_by_instance(replicas: list, where: str) -> list[tuple[int, list[int]]]:
    """Group replicas into BMv2 nodes: one node per instance (rid), holding
    all ports of that instance, in first-seen order."""
    nodes: dict[int, list[int]] = {}
    for j, r in enumerate(replicas):
        port = _int(r.get("egress_port"), f"{where}.replicas[{j}].egress_port")
        rid = _int(r.get("instance", 0), f"{where}.replicas[{j}].instance")
        nodes.setdefault(rid, []).append(port)
    return list(nodes.items())


def _table_entry(info: _ProgramInfo, e: dict, where: str) -> str:
    table = e.get("table")
    if table not in info.tables:
        raise RuntimeJsonError(f"{where}: no table {table!r} in the program")
    action = e.get("action_name")
    if action not in info.actions:
        raise RuntimeJsonError(f"{where}: no action {action!r} in the program")
    params = _action_params(info, action, e.get("action_params") or {}, where)
    if e.get("default_action"):
        return " ".join(["table_set_default", table, action, *params])
    match = e.get("match") or {}
    keys = info.tables[table]
    unknown = set(match) - {k.name for k in keys}
    if unknown:
        raise RuntimeJsonError(f"{where}: table {table} has no key field(s) {sorted(unknown)}; "
                               f"keys: {[k.name for k in keys]}")
    texts = []
    needs_priority = False
    for k in keys:
        p = _match_param(k, match.get(k.name), f"{where}.match[{k.name!r}]")
        needs_priority |= k.match_type in ("ternary", "range", "optional")
        texts.append(matchstr.format_match(p))
    cmd = ["table_add", table, action, *texts, "=>", *params]
    if needs_priority:
        if "priority" not in e:
            raise RuntimeJsonError(f"{where}: table {table} needs a priority (ternary/range key)")
        prio = _int(e["priority"], where + ".priority")
        if not 0 <= prio <= BMV2_PRIORITY_TOP:
            raise RuntimeJsonError(f"{where}: priority {prio} out of range")
        cmd.append(str(BMV2_PRIORITY_TOP - prio))
    return " ".join(cmd)


def _value(v: Any, width: int, where: str) -> int:
    if width <= 0:
        raise RuntimeJsonError(f"{where}: cannot tell the key's width from the BMv2 JSON")
    try:
        return codec.parse_value(v, width, where)
    except codec.CodecError as e:
        raise RuntimeJsonError(str(e)) from None


def _pair(v: Any, where: str) -> tuple[Any, Any]:
    if not isinstance(v, list) or len(v) != 2:
        raise RuntimeJsonError(f"{where}: expected a [value, value] pair, got {v!r}")
    return v[0], v[1]


def _match_param(k: _Key, v: Any, where: str) -> matchstr.MatchParam:
    w = k.bitwidth
    mt = k.match_type
    if mt == "exact":
        if v is None:
            raise RuntimeJsonError(f"{where}: exact key field missing")
        return matchstr.Exact(_value(v, w, where))
    if mt == "lpm":
        if v is None:
            return matchstr.Lpm(0, 0)
        val, plen = _pair(v, where)
        plen = _int(plen, where + " prefix length")
        if not 0 <= plen <= w:
            raise RuntimeJsonError(f"{where}: prefix length {plen} not in 0..{w}")
        return matchstr.Lpm(_value(val, w, where), plen)
    if mt in ("ternary", "optional"):
        if v is None:
            return matchstr.Ternary(0, 0)
        if mt == "optional" and not isinstance(v, list):
            return matchstr.Ternary(_value(v, w, where), codec.mask(w))
        val, m = _pair(v, where)
        return matchstr.Ternary(_value(val, w, where), _value(m, w, where + " mask"))
    if mt == "range":
        if v is None:
            return matchstr.Range(0, codec.mask(w))
        lo, hi = _pair(v, where)
        return matchstr.Range(_value(lo, w, where), _value(hi, w, where))
    if mt == "valid":
        return matchstr.Valid(bool(v))
    raise RuntimeJsonError(f"{where}: match kind {mt!r} is not supported")


def _action_params(info: _ProgramInfo, action: str, given: dict, where: str) -> list[str]:
    expected = info.actions[action]
    names = [n for n, _ in expected]
    unknown = set(given) - set(names)
    missing = [n for n in names if n not in given]
    if unknown or missing:
        raise RuntimeJsonError(f"{where}: action {action} takes {names}; "
                               f"missing {missing}, unknown {sorted(unknown)}")
    return [f"{_value(given[n], w, f'{where}.action_params.{n}'):#x}" for n, w in expected]


def apply_runtime(api, runtime: dict, bmv2: dict | str) -> int:
    """Install `runtime` in-process through a `RuntimeApi`; returns the
    number of commands run."""
    cmds = runtime_to_commands(runtime, bmv2)
    for c in cmds:
        api.run_command(c)
    return len(cmds)


__all__ = ["load_topology_json", "load_runtime_json", "runtime_to_commands", "apply_runtime",
           "RuntimeJsonError"]
