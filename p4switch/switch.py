"""`Switch`: one loaded BMv2 program with all its state (tables, externs, PRE,
clone sessions, value sets) and the packet engine (see engine.Engine).

    sw = Switch.from_json(open("prog.json", "rb").read())
    sw.process_packet(0, frame)  -> [(egress_port, bytes), ...]
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from . import bits
from .codegen import generate
from .engine import Engine, ParseValueSet
from .errors import JsonLoadError, SwitchError, TableError
from .loader import Program, load_program


class Switch(Engine):
    """A simple_switch-compatible software switch for one program."""

    program: Program

    @classmethod
    def from_json(cls, json_bytes_or_dict, *, drop_port: int = 511, cpu_port: int | None = None,
                  log: Callable[..., Any] | None = None) -> Switch:
        """Load a BMv2 JSON (bytes, str or an already-parsed dict). Raises
        JsonLoadError with the JSON path of anything malformed or unsupported."""
        prog = load_program(json_bytes_or_dict)
        sw = cls.__new__(cls)
        sw._build(prog, drop_port, cpu_port, log)
        return sw

    def _build(self, prog: Program, drop_port: int, cpu_port, log):
        from . import externs, hashes, pre, tables  # sibling modules (other owners)
        self.program = prog
        self.cpu_port = cpu_port
        self.actions = {}
        for a in prog.actions:
            self.actions.setdefault(a.name, a)
        self.counters = {}
        for c in prog.counters.values():
            self.counters[c.name] = externs.CounterArray(c.name, c.size, c.is_direct, c.binding)
        self.meters = {}
        for m in prog.meters.values():
            self.meters[m.name] = externs.MeterArray(m.name, m.size, m.type, m.rate_count,
                                                     m.is_direct, m.binding)
        self.registers = {r.name: externs.RegisterArray(r.name, r.size, r.bitwidth)
                          for r in prog.registers.values()}
        self.parse_vsets = {v.name: ParseValueSet(v.name, v.compressed_bitwidth)
                            for v in prog.parse_vsets.values()}
        self.pre = pre.Pre()
        self.clone_sessions = pre.CloneSessions()
        self.action_profiles = {}
        self.tables = {}
        for pl in prog.pipelines.values():
            for ap in pl.profiles.values():
                acts = []
                for t in pl.tables.values():
                    if t.profile is ap:
                        acts.extend(a for a in t.actions if a not in acts)
                algo = None
                if ap.selector_algo is not None:
                    try:
                        algo = hashes.algorithm(ap.selector_algo)
                    except ValueError as e:
                        raise JsonLoadError(f"pipelines[{pl.name}].action_profiles[{ap.name}].selector.algo",
                                            f"unsupported hash algorithm {ap.selector_algo!r}: {e}") from None
                self.action_profiles[ap.name] = tables.ActionProfile(
                    ap.name, acts, ap.max_size, ap.selector_algo is not None, algo)
            for t in pl.tables.values():
                keys = [tables.KeyField(k.name, k.match_type, k.width) for k in t.keys]
                dm = self.meters.get(t.direct_meter) if t.direct_meter else None
                try:
                    tab = tables.Table(t.name, keys, t.actions, t.max_size, t.type,
                                       self.action_profiles.get(t.profile.name) if t.profile else None,
                                       t.with_counters, dm, t.support_timeout, t.match_type)
                except (ValueError, TableError) as e:
                    raise JsonLoadError(t.path, str(e)) from None
                self._load_entries(tab, t)
                self.tables[t.name] = tab
        self.stats = Counter()
        env = {
            "stats": self.stats, "tables": self.tables, "profiles": self.action_profiles, "counters": self.counters,
            "meters": self.meters, "registers": self.registers, "vsets": self.parse_vsets,
            "hash": hashes.algorithm, "drop_port": drop_port, "log": log, "std": {},
        }
        # the fields the zero-argument drop / mark_to_drop write: simple_switch
        # names standard_metadata.egress_spec and, only when the program has
        # it (a field or an alias), intrinsic_metadata.mcast_grp
        env["std"]["egress_spec"] = (prog.find_field("standard_metadata.egress_spec")
                                     or prog.find_field("intrinsic_metadata.egress_spec"))
        env["std"]["mcast_grp"] = prog.find_field("intrinsic_metadata.mcast_grp")
        env["std_all"] = {}
        for name in ("parser_error", "checksum_error"):
            env["std_all"][name] = prog.find_field(f"standard_metadata.{name}")
        if env["std"]["egress_spec"] is None:
            raise JsonLoadError("headers", "no standard_metadata.egress_spec field (required by simple_switch)")
        gen = generate(prog, env)
        self.calculations = gen["calculations"]
        self.generated_source = gen["source"]
        self._bind(gen, prog, drop_port, log)

    def _load_entries(self, tab, t):
        """The JSON default entry and const entries of table `t`."""
        try:
            if t.default_entry is not None:
                de = t.default_entry
                data = tuple(v & bits.mask(w) for v, (_, w) in zip(de.data, de.action.params))
                tab.set_initial_default(de.action, data, const_action=de.action_const,
                                        const_entry=de.entry_const and de.action_const)
        except (TableError, SwitchError) as e:
            raise JsonLoadError(f"{t.path}.default_entry", str(e)) from None
        if not t.entries:
            return
        from . import tables
        for ce in t.entries:
            match = []
            for k, (spec, m) in enumerate(zip(t.keys, ce.match)):
                mp = f"{ce.path}.match_key[{k}]"
                mt = m.get("match_type", spec.match_type)
                try:
                    if mt == "exact":
                        match.append(tables.Exact(bits.parse_hexstr(m["key"])))
                    elif mt == "lpm":
                        match.append(tables.Lpm(bits.parse_hexstr(m["key"]), int(m["prefix_length"])))
                    elif mt in ("ternary", "optional"):
                        if spec.match_type == "optional":
                            mask = bits.parse_hexstr(m["mask"])
                            match.append(tables.Optional_(None if mask == 0 else bits.parse_hexstr(m["key"])))
                        else:
                            match.append(tables.Ternary(bits.parse_hexstr(m["key"]), bits.parse_hexstr(m["mask"])))
                    elif mt == "range":
                        match.append(tables.Range(bits.parse_hexstr(m["start"]), bits.parse_hexstr(m["end"])))
                    elif mt == "valid":
                        match.append(tables.Valid(bool(m["key"])))
                    else:
                        raise JsonLoadError(mp, f"unsupported match type {mt!r}")
                except (KeyError, ValueError, TypeError, AttributeError) as e:
                    raise JsonLoadError(mp, f"malformed match value: {e}") from None
            try:
                data = tuple(ce.data)
                tab.add_entry(match, ce.action, data, ce.priority)
            except (TableError, SwitchError) as e:
                raise JsonLoadError(ce.path, str(e)) from None
        tab.const_entries = True

    # convenience for tests and tools
    def table_keys(self, name: str):
        return self.program.table_keys(name)
