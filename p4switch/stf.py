"""p4stf: run a p4c STF test against p4sw, with the upstream BMv2 runner's semantics.

Upstream (p4c ``backends/bmv2/bmv2stf.py``) starts simple_switch with one pcap
interface per port number mentioned in a ``packet``/``expect`` line, turns every
``add``/``setdefault`` into a simple_switch_CLI command, injects the packets in file
order and finally compares, per port, the packets that came out with the expected
ones.  This module does the same in-process: the exact rules are in
``../shared/conformance/README.md`` ("STF format: exact semantics").

Library use::

    result = run_stf("prog.json", "prog.stf")
    if not result.passed:
        print(result.report())
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from p4switch.errors import SwitchError
from p4switch.stf_parse import (
    AddStmt,
    CheckCounterStmt,
    CliStmt,
    ExpectStmt,
    PacketStmt,
    RemoveAllStmt,
    SetDefaultStmt,
    Statement,
    StfFile,
    StfLocatedError,
    StfSyntaxError,
    WaitStmt,
    parse_stf_file,
)

__all__ = [
    "StfError",
    "StfResult",
    "ProgramInfo",
    "run_stf",
    "run_stf_file",
    "compare_packet",
    "main",
]


class StfError(StfLocatedError):
    """An STF statement that cannot be carried out against this program (unknown
    table, action or key field, bad value...), located at ``file:line``."""


# --------------------------------------------------------------------------- JSON view
#
# Like the upstream runner, name resolution reads the JSON itself (table names, key
# names and match kinds, action runtime_data) rather than the switch's internal model:
# the STF rules are defined on the JSON text, and this keeps the runner independent
# of the engine's data structures.


@dataclass(frozen=True)
class ActionInfo:
    name: str
    params: tuple[str, ...]          # runtime_data names, in order


@dataclass(frozen=True)
class KeyInfo:
    name: str
    match_type: str


@dataclass(frozen=True)
class TableInfo:
    name: str
    match_type: str
    keys: tuple[KeyInfo, ...]
    actions: tuple[ActionInfo, ...]


@dataclass(frozen=True)
class CounterInfo:
    name: str
    is_direct: bool
    binding: str | None


@dataclass
class ProgramInfo:
    """What the STF runner needs to know about a BMv2 JSON program."""

    tables: list[TableInfo]
    counters: list[CounterInfo]

    @classmethod
    def from_json(cls, doc: dict) -> "ProgramInfo":
        actions_by_id: dict[int, ActionInfo] = {}
        for a in doc.get("actions", []):
            actions_by_id[a["id"]] = ActionInfo(
                a["name"], tuple(p["name"] for p in a.get("runtime_data", []))
            )
        tables: list[TableInfo] = []
        for pipe in doc.get("pipelines", []):
            for t in pipe.get("tables", []):
                keys = []
                for k in t.get("key", []):
                    name = k.get("name")
                    if name is None:
                        target = k.get("target")
                        name = ".".join(target) if isinstance(target, list) else str(target)
                    keys.append(KeyInfo(name, k["match_type"]))
                acts = tuple(
                    actions_by_id[i] for i in t.get("action_ids", []) if i in actions_by_id
                )
                tables.append(
                    TableInfo(t["name"], t.get("match_type", "exact"), tuple(keys), acts)
                )
        counters = [
            CounterInfo(c["name"], bool(c.get("is_direct")), c.get("binding"))
            for c in doc.get("counter_arrays", [])
        ]
        return cls(tables, counters)

    # Name resolution, as bmv2stf.py does it: an exact name, else the single name
    # that ends with the given string (plain endswith, no dot boundary).
    def table(self, name: str) -> TableInfo:
        return _resolve_suffix(name, self.tables, "table")

    def counter(self, name: str) -> CounterInfo:
        return _resolve_suffix(name, self.counters, "counter")


def _resolve_suffix(name: str, items, what: str):
    for it in items:
        if it.name == name:
            return it
    found = [it for it in items if it.name.endswith(name)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise LookupError(f"no {what} named {name!r}")
    names = ", ".join(it.name for it in found)
    raise LookupError(f"{what} name {name!r} is ambiguous: {names}")


def resolve_action(table: TableInfo, name: str) -> ActionInfo:
    """The action named ``name`` among ``table``'s actions (exact, else unique suffix)."""
    try:
        return _resolve_suffix(name, table.actions, "action")
    except LookupError as e:
        raise LookupError(f"{e} in table {table.name}") from None


_STACK_INDEX_RE = re.compile(r"(.*)\$([0-9]+)(.*)")


def resolve_key_field(table: TableInfo, field_name: str) -> int:
    """Index into ``table.keys`` of the STF key field ``field_name``.

    The six steps of bmv2stf.py, in order: exact; name + '$'; name + '.$valid$';
    'x.valid' -> 'x.$valid$'; a key ending in '.<name>' (or '.<name>$'); bare
    'valid'.  ``h$0`` is first rewritten to ``h[0]``.
    """
    m = _STACK_INDEX_RE.match(field_name)
    if m:
        field_name = f"{m.group(1)}[{m.group(2)}]{m.group(3)}"
    names = [k.name for k in table.keys]

    def index(n: str) -> int | None:
        return names.index(n) if n in names else None

    for candidate in (field_name, field_name + "$", field_name + ".$valid$"):
        i = index(candidate)
        if i is not None:
            return i
    if field_name.endswith(".valid"):
        i = index(field_name[: -len("valid")] + "$valid$")
        if i is not None:
            return i
    # Step 5 (and the '.$valid$' form of 6): upstream scans every key and keeps the
    # last one that matches.
    found = None
    for i, n in enumerate(names):
        if n.endswith("." + field_name) or n.endswith("." + field_name + "$"):
            found = i
        elif field_name == "valid" and n.endswith(".$valid$"):
            found = i
    if found is not None:
        return found
    if field_name == "valid":
        i = index("$valid$")
        if i is not None:
            return i
    raise LookupError(
        f"no key field {field_name!r} in table {table.name} "
        f"(keys: {', '.join(names) or 'none'})"
    )


def ternary_text(value: str) -> str:
    """STF ternary value -> CLI 'value&&&mask': every written digit is an all-ones
    mask digit, a '*' a zero digit (value digit 0).  The mask is only as wide as the
    digits written."""
    low = value.lower()
    if low.startswith("0x"):
        prefix, ones = "0x", "F"
    elif low.startswith("0b"):
        prefix, ones = "0b", "1"
    elif low.startswith("0o"):
        prefix, ones = "0o", "7"
    else:
        raise ValueError(f"decimal value {value} is not supported for a ternary key (use 0x or 0b)")
    digits = value[2:]
    mask = "".join("0" if c == "*" else ones for c in digits)
    return f"{prefix}{digits.replace('*', '0')}&&&{prefix}{mask}"


def lpm_text(value: str, prefix_len: int | None) -> str:
    """STF lpm value -> CLI 'value/len'.  Without '/len', the prefix covers the
    digits written that are not '*' (4 bits per hex digit, 1 per binary digit)."""
    if prefix_len is not None:
        return f"{value.replace('*', '0')}/{prefix_len}"
    low = value.lower()
    if low.startswith("0x"):
        bits = 4
    elif low.startswith("0b"):
        bits = 1
    elif low.startswith("0o"):
        bits = 3
    else:
        # Upstream turns this into an unparsable CLI value; refuse it clearly.
        raise ValueError(f"decimal lpm value {value} needs an explicit /<prefix length>")
    digits = value[2:]
    plen = bits * (len(digits) - digits.count("*"))
    return f"{value.replace('*', '0')}/{plen}"


@dataclass(frozen=True)
class TableAdd:
    """An STF ``add`` translated to simple_switch_CLI ``table_add`` terms."""

    table: str
    action: str
    match: tuple[str, ...]         # one CLI match string per key, in JSON key order
    params: tuple[str, ...]        # action data, in runtime_data order
    priority: int | None           # BMv2 priority (10000 - p), ternary tables only

    def cli_line(self) -> str:
        parts = ["table_add", self.table, self.action, *self.match, "=>", *self.params]
        if self.priority is not None:
            parts.append(str(self.priority))
        return " ".join(parts)


@dataclass(frozen=True)
class TableSetDefault:
    table: str
    action: str
    params: tuple[str, ...]

    def cli_line(self) -> str:
        line = f"table_set_default {self.table} {self.action}"
        return line + (" => " + " ".join(self.params) if self.params else "")


def _action_params(action: ActionInfo, args) -> tuple[str, ...]:
    given = dict(args)
    for name in given:
        if name not in action.params:
            raise LookupError(
                f"action {action.name} has no parameter {name!r} "
                f"(parameters: {', '.join(action.params) or 'none'})"
            )
    missing = [p for p in action.params if p not in given]
    if missing:
        raise LookupError(f"action {action.name}: missing parameter(s) {', '.join(missing)}")
    return tuple(given[p] for p in action.params)


def translate_add(prog: ProgramInfo, st: AddStmt) -> TableAdd:
    """STF ``add`` -> TableAdd (raises LookupError/ValueError with the reason)."""
    table = prog.table(st.table)
    match: list[str] = []
    for k in table.keys:
        if k.match_type == "ternary":
            match.append("0&&&0")
        elif k.match_type == "lpm":
            match.append("0/0")
        elif k.match_type in ("exact", "valid"):
            match.append("0")
        else:
            raise ValueError(
                f"table {table.name}: key {k.name} has match kind {k.match_type!r}, "
                "which STF 'add' cannot express"
            )
    for kv in st.keys:
        i = resolve_key_field(table, kv.field)
        kind = table.keys[i].match_type
        if kind == "ternary":
            if kv.prefix_len is not None:
                raise ValueError(f"key {kv.field}: '/len' is not valid for a ternary key")
            match[i] = ternary_text(kv.value)
        elif kind == "lpm":
            match[i] = lpm_text(kv.value, kv.prefix_len)
        else:
            if kv.prefix_len is not None:
                raise ValueError(f"key {kv.field}: '/len' is only valid for an lpm key")
            if "*" in kv.value:
                raise ValueError(f"key {kv.field}: '*' is only valid for a ternary key")
            match[i] = kv.value
    action = resolve_action(table, st.action.name)
    params = _action_params(action, st.action.args)
    priority = None
    if table.match_type == "ternary":
        if st.priority is None:
            raise ValueError(f"table {table.name} is ternary: 'add' needs a priority")
        priority = 10000 - st.priority
    return TableAdd(table.name, action.name, tuple(match), params, priority)


def translate_setdefault(prog: ProgramInfo, st: SetDefaultStmt) -> TableSetDefault:
    table = prog.table(st.table)
    action = resolve_action(table, st.action.name)
    return TableSetDefault(table.name, action.name, _action_params(action, st.action.args))


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Mismatch:
    """Why a received packet does not match its expectation."""

    reason: str                 # "too short" | "too long" | "differs"
    nibble: int | None = None   # index of the first differing nibble


def compare_packet(pattern: str | None, exact: bool, received: bytes) -> Mismatch | None:
    """Compare a received packet with an expect pattern, nibble by nibble.

    ``pattern`` is upper-case hex with ``*`` wildcards (None: anything matches).
    The packet may be longer than the pattern unless ``exact``.
    """
    if pattern is None:
        return None
    got = received.hex().upper()
    if len(got) < len(pattern):
        first = _first_diff(pattern, got)
        return Mismatch("too short", first if first is not None else len(got))
    first = _first_diff(pattern, got)
    if first is not None:
        return Mismatch("differs", first)
    if exact and len(got) > len(pattern):
        return Mismatch("too long", len(pattern))
    return None


def _first_diff(pattern: str, got: str) -> int | None:
    for i, (e, r) in enumerate(zip(pattern, got)):
        if e != "*" and e != r:
            return i
    return None


def _fmt_expect(st: ExpectStmt) -> str:
    if st.pattern is None:
        return "<any packet>"
    return st.pattern + ("$" if st.exact else "")


def _caret(n: int, indent: int) -> str:
    return " " * (indent + n) + "^"


# --------------------------------------------------------------------------- result


@dataclass
class StfResult:
    """Outcome of one STF run.

    ``failures`` holds human-readable reasons (empty when passed).  ``category``
    names the first failure's kind, for triage: "stf" (bad STF file), "load" (JSON
    the switch cannot load), "control" (a table/CLI operation failed), "crash" (the
    switch raised while processing a packet), "mismatch" (output differs).
    """

    json_path: str
    stf_path: str
    passed: bool = False
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    category: str | None = None
    received: dict[int, list[bytes]] = field(default_factory=dict)
    expected: dict[int, list[ExpectStmt]] = field(default_factory=dict)
    discarded: list[tuple[int, bytes]] = field(default_factory=list)
    packets_in: int = 0
    load_seconds: float = 0.0
    run_seconds: float = 0.0
    trace: list[str] = field(default_factory=list)

    def fail(self, category: str, message: str) -> None:
        if self.category is None:
            self.category = category
        self.failures.append(message)

    @property
    def reason(self) -> str:
        """The first failure, one line (for summaries)."""
        if not self.failures:
            return ""
        return self.failures[0].splitlines()[0]

    def report(self) -> str:
        head = "PASS" if self.passed else "FAIL"
        lines = [f"{head}: {self.stf_path} on {self.json_path}"]
        for f in self.failures:
            lines.append(f)
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- runner


def _default_switch_factory(doc: dict):
    from p4switch.switch import Switch  # imported late: the engine is optional for parsing

    return Switch.from_json(doc)


def _default_api_factory(switch):
    from p4switch.runtime_api import RuntimeApi

    return RuntimeApi(switch)


def _short_exc(e: BaseException) -> str:
    """'Type: message (file:line)' of the innermost frame, for one-line reasons."""
    tb = traceback.extract_tb(e.__traceback__)
    where = ""
    if tb:
        fr = tb[-1]
        where = f" (at {os.path.basename(fr.filename)}:{fr.lineno} in {fr.name})"
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {msg}{where}"


class _Runner:
    def __init__(self, stf: StfFile, prog: ProgramInfo, switch, api, result: StfResult,
                 *, strict_counters: bool, verbose: bool, echo: Callable[[str], None] | None):
        self.stf = stf
        self.prog = prog
        self.switch = switch
        self.api = api
        self.result = result
        self.strict_counters = strict_counters
        self.verbose = verbose
        self.echo = echo
        self.interfaces = stf.ports()
        self.entry_ids: dict[str, tuple[str, int]] = {}   # STF id -> (table, handle)
        for p in self.interfaces:
            result.received[p] = []
            result.expected[p] = []

    def log(self, msg: str) -> None:
        if self.verbose:
            self.result.trace.append(msg)
            if self.echo:
                self.echo(msg)

    def where(self, st: Statement) -> str:
        return f"{self.stf.filename}:{st.line}"

    def run(self) -> None:
        for st in self.stf.statements:
            if isinstance(st, PacketStmt):
                if not self.do_packet(st):
                    return
            elif isinstance(st, ExpectStmt):
                self.result.expected[st.port].append(st)
            elif isinstance(st, AddStmt):
                self.do_add(st)
            elif isinstance(st, SetDefaultStmt):
                self.do_setdefault(st)
            elif isinstance(st, CliStmt):
                self.do_cli(st)
            elif isinstance(st, CheckCounterStmt):
                self.do_check_counter(st)
            elif isinstance(st, (WaitStmt, RemoveAllStmt)):
                pass   # parsed and ignored, as by the upstream BMv2 runner

    # -- statements

    def do_packet(self, st: PacketStmt) -> bool:
        self.result.packets_in += 1
        self.log(f"{self.where(st)}: packet in port {st.port}: {st.data.hex().upper()}")
        try:
            outs = self.switch.process_packet(st.port, st.data)
        except Exception as e:  # noqa: BLE001 - any engine fault is a test failure
            self.result.fail(
                "crash",
                f"{self.where(st)}: switch raised while processing the packet on port "
                f"{st.port}: {_short_exc(e)}",
            )
            return False
        for port, data in outs:
            data = bytes(data)
            if port in self.interfaces:
                self.log(f"    out port {port}: {data.hex().upper()}")
                self.result.received[port].append(data)
            else:
                self.log(f"    out port {port} (no interface, discarded): {data.hex().upper()}")
                self.result.discarded.append((port, data))
        return True

    def _control_error(self, st: Statement, what: str, e: BaseException) -> None:
        if isinstance(e, (LookupError, ValueError)) and not isinstance(e, KeyError):
            msg = str(e)
        elif isinstance(e, SwitchError):
            msg = str(e)
        else:
            msg = _short_exc(e)
        self.result.fail("control", f"{self.where(st)}: {what}: {msg}")

    def do_add(self, st: AddStmt) -> None:
        try:
            op = translate_add(self.prog, st)
        except (LookupError, ValueError) as e:
            self._control_error(st, "add", e)
            return
        self.log(f"{self.where(st)}: {op.cli_line()}")
        try:
            handle = self.api.table_add(
                op.table, op.action, list(op.match), list(op.params), op.priority
            )
        except Exception as e:  # noqa: BLE001
            self._control_error(st, op.cli_line(), e)
            return
        if st.entry_id is not None and isinstance(handle, int):
            self.entry_ids[st.entry_id] = (op.table, handle)

    def do_setdefault(self, st: SetDefaultStmt) -> None:
        try:
            op = translate_setdefault(self.prog, st)
        except (LookupError, ValueError) as e:
            self._control_error(st, "setdefault", e)
            return
        self.log(f"{self.where(st)}: {op.cli_line()}")
        try:
            self.api.table_set_default(op.table, op.action, list(op.params))
        except Exception as e:  # noqa: BLE001
            self._control_error(st, op.cli_line(), e)

    def do_cli(self, st: CliStmt) -> None:
        self.log(f"{self.where(st)}: {st.text}")
        try:
            out = self.api.run_command(st.text)
        except Exception as e:  # noqa: BLE001
            self._control_error(st, st.text, e)
            return
        if out and self.verbose:
            self.log(f"    -> {out}")

    def do_check_counter(self, st: CheckCounterStmt) -> None:
        """Upstream ignores check_counter; we evaluate it and report a mismatch as a
        warning (a failure only with strict_counters)."""
        try:
            pkts, nbytes = self._read_counter(st)
        except Exception as e:  # noqa: BLE001
            self.result.warnings.append(f"{self.where(st)}: check_counter not evaluated: {e}")
            return
        self.log(f"{self.where(st)}: check_counter {st.counter}: packets={pkts} bytes={nbytes}")
        if st.kind is None:
            return
        actual = pkts if st.kind == "packets" else nbytes
        ok = {
            "==": actual == st.value, "!=": actual != st.value,
            "<": actual < st.value, "<=": actual <= st.value,
            ">": actual > st.value, ">=": actual >= st.value,
        }[st.op]
        if not ok:
            msg = (f"{self.where(st)}: check_counter {st.counter}: {st.kind} is {actual}, "
                   f"expected {st.op} {st.value}")
            if self.strict_counters:
                self.result.fail("counter", msg)
            else:
                self.result.warnings.append(msg)

    def _read_counter(self, st: CheckCounterStmt) -> tuple[int, int]:
        ctr = self.prog.counter(st.counter)
        if st.entry_id is not None:
            if st.entry_id not in self.entry_ids:
                raise LookupError(f"no entry with id {st.entry_id!r}")
            table, handle = self.entry_ids[st.entry_id]
            if not ctr.is_direct:
                raise LookupError(f"counter {ctr.name} is not direct: use an index")
            index = handle
        else:
            index = st.index
        reader = getattr(self.api, "counter_read", None)
        if reader is not None:
            value = reader(ctr.name, index)
            if isinstance(value, tuple) and len(value) == 2:
                return int(value[0]), int(value[1])
        if ctr.is_direct:
            entry = self.switch.tables[ctr.binding].get_entry(index)
            return entry.packets, entry.bytes
        return self.switch.counters[ctr.name].read(index)

    # -- final comparison

    def compare(self) -> None:
        """Per port with an interface: same number of packets, each matching its
        expectation in order.  Every port is checked (upstream stops at the first bad
        one) so the report shows the whole picture."""
        for port in sorted(self.interfaces):
            exp = self.result.expected[port]
            got = self.result.received[port]
            count_bad = len(exp) != len(got)
            details: list[str] = []
            bad = 0
            for i in range(max(len(exp), len(got))):
                e = exp[i] if i < len(exp) else None
                g = got[i] if i < len(got) else None
                if e is None:
                    details.append(f"  #{i + 1} unexpected: {g.hex().upper()}")
                    continue
                if g is None:
                    details.append(f"  #{i + 1} missing:    {_fmt_expect(e)}  (expect at line {e.line})")
                    continue
                mm = compare_packet(e.pattern, e.exact, g)
                if mm is None:
                    if count_bad:
                        details.append(f"  #{i + 1} ok:         {g.hex().upper()}")
                    continue
                bad += 1
                label = "     received: "
                details.append(f"  #{i + 1} {mm.reason} at nibble {mm.nibble} (byte {mm.nibble // 2}); "
                               f"expect at line {e.line}:")
                details.append(f"     expected: {_fmt_expect(e)}")
                details.append(label + g.hex().upper())
                details.append(_caret(mm.nibble, len(label)))
            if count_bad:
                head = f"port {port}: expected {len(exp)} packet(s), received {len(got)}"
            elif bad:
                head = f"port {port}: {bad} of {len(exp)} packet(s) differ"
            else:
                continue
            self.result.fail("mismatch", "\n".join([head] + details))


def run_stf_file(stf: StfFile, doc: dict, *, json_path: str = "<json>",
                 switch_factory: Callable[[dict], Any] | None = None,
                 api_factory: Callable[[Any], Any] | None = None,
                 strict_counters: bool = False, verbose: bool = False,
                 echo: Callable[[str], None] | None = None) -> StfResult:
    """Run an already parsed STF on a JSON document (dict).  Never raises for a
    failing test: every problem ends up in the result."""
    result = StfResult(json_path, stf.filename)
    switch_factory = switch_factory or _default_switch_factory
    api_factory = api_factory or _default_api_factory
    # The switch loads first: its loader reports malformed JSON with a JSON path.
    t0 = time.perf_counter()
    try:
        switch = switch_factory(doc)
        api = api_factory(switch)
    except SwitchError as e:
        from p4switch.cli import bmv2_doc_hint  # a P4Info passed as the program: say so
        result.fail("load", f"{json_path}: switch cannot load the program: {e}{bmv2_doc_hint(doc)}")
        return result
    except Exception as e:  # noqa: BLE001
        result.fail("load", f"{json_path}: switch crashed while loading: {_short_exc(e)}")
        return result
    t1 = time.perf_counter()
    try:
        prog = ProgramInfo.from_json(doc)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        result.fail("load", f"{json_path}: not a BMv2 JSON program: {_short_exc(e)}")
        return result
    result.load_seconds = t1 - t0
    runner = _Runner(stf, prog, switch, api, result, strict_counters=strict_counters,
                     verbose=verbose, echo=echo)
    runner.run()
    if result.category != "crash":
        runner.compare()
    result.run_seconds = time.perf_counter() - t1
    result.passed = not result.failures
    return result


def run_stf(json_path: str, stf_path: str, **kwargs) -> StfResult:
    """Run the STF test ``stf_path`` on the BMv2 JSON ``json_path``.

    Keyword arguments: ``strict_counters`` (a failing check_counter fails the test),
    ``verbose`` (keep a trace of every command and packet in ``result.trace``),
    ``switch_factory``/``api_factory`` (for tests).  A malformed STF or an unreadable
    JSON gives a failed result with category "stf" / "load", not an exception.
    """
    try:
        stf = parse_stf_file(stf_path)
    except StfSyntaxError as e:
        result = StfResult(json_path, stf_path)
        result.fail("stf", str(e))
        return result
    raw = b""
    try:
        with open(json_path, "rb") as f:
            raw = f.read()
        doc = json.loads(raw)
    except OSError as e:
        result = StfResult(json_path, stf_path)
        result.fail("load", f"{json_path}: cannot read: {e.strerror}")
        return result
    except (ValueError, RecursionError) as e:
        from p4switch.cli import not_bmv2_hint  # e.g. a text P4Info passed as the program
        result = StfResult(json_path, stf_path)
        result.fail("load", f"{json_path}: invalid JSON: {e}{not_bmv2_hint(raw)}")
        return result
    if not isinstance(doc, dict):
        result = StfResult(json_path, stf_path)
        result.fail("load", f"{json_path}: not a BMv2 JSON program (top level is not an object)")
        return result
    return run_stf_file(stf, doc, json_path=json_path, **kwargs)


# --------------------------------------------------------------------------- compiler


def _compiler_command() -> list[str] | None:
    """How to invoke the project's P4 compiler, or None when it is not installed."""
    exe = shutil.which("p4pc")
    if exe:
        return [exe]
    import importlib.util

    try:
        spec = importlib.util.find_spec("p4compiler.__main__")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        return [sys.executable, "-m", "p4compiler"]
    return None


def compile_p4(p4_path: str, out_dir: str) -> str:
    """Compile ``p4_path`` to BMv2 JSON in ``out_dir`` with p4pc; returns the JSON
    path.  Raises StfError when the compiler is missing or fails."""
    cmd = _compiler_command()
    if cmd is None:
        raise StfError(p4_path, 0, "the project's P4 compiler (p4pc / python -m p4compiler) "
                       "is not installed; compile the program elsewhere and pass --json PROG.json")
    out = os.path.join(out_dir, os.path.splitext(os.path.basename(p4_path))[0] + ".json")
    # "python -m p4compiler" must find the package even when p4stf runs from
    # another folder without an installed project: put our root on its path.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(cmd + ["-o", out, p4_path], capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not os.path.exists(out):
        msg = (proc.stderr or proc.stdout).strip() or f"exit code {proc.returncode}"
        raise StfError(p4_path, 0, f"compilation failed:\n{msg}")
    return out


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="p4stf",
        description="Run a p4c STF test on p4sw with the upstream BMv2 runner's semantics.",
    )
    ap.add_argument("--json", metavar="PROG.json", help="BMv2 JSON of the program")
    ap.add_argument("program", nargs="?", help="PROG.p4 (compiled with p4pc) or PROG.json")
    ap.add_argument("stf", help="the .stf test")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every command and every packet in and out")
    ap.add_argument("--strict-counters", action="store_true",
                    help="fail the test when a check_counter does not hold "
                         "(upstream ignores check_counter)")
    args = ap.parse_args(argv)

    if args.json and args.program:
        ap.error("give either --json PROG.json or PROG.p4, not both")
    if not args.json and not args.program:
        ap.error("missing the program: --json PROG.json or PROG.p4")

    echo = (lambda s: print(s, flush=True)) if args.verbose else None
    tmp = None
    try:
        json_path = args.json
        if json_path is None:
            if args.program.endswith(".json"):
                json_path = args.program
            else:
                if not os.path.isfile(args.program):
                    print(f"p4stf: {args.program}: no such file", file=sys.stderr)
                    return 2
                tmp = tempfile.mkdtemp(prefix="p4stf-")
                try:
                    json_path = compile_p4(args.program, tmp)
                except StfError as e:
                    print(f"p4stf: {e}", file=sys.stderr)
                    return 2
        for path in (json_path, args.stf):
            if not os.path.isfile(path):
                print(f"p4stf: {path}: no such file (or not a regular file)", file=sys.stderr)
                return 2
        result = run_stf(json_path, args.stf, strict_counters=args.strict_counters,
                         verbose=args.verbose, echo=echo)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(result.report())
    if result.passed:
        return 0
    return 2 if result.category in ("stf", "load") else 1


if __name__ == "__main__":
    sys.exit(main())
