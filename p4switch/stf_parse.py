"""Lexer and parser of STF (simple test framework) files.

STF is p4c's line-oriented test format (see ``../shared/conformance/README.md``,
section "STF format: exact semantics").  This module only turns text into typed
statements; name resolution against a BMv2 JSON and execution live in
``p4switch.stf``.  Keeping the two apart lets the grammar be unit-tested without a
switch, and lets every malformed line be reported as ``file:line: message``.

Grammar (one statement per line, ``#`` starts a comment, keywords case-insensitive)::

    packet <port> <hex groups>
    expect <port> [<hex groups with * nibbles>[$]]
    add <table> [<priority>] <field>:<value>[/<len>] ... <action>(<p>:<v>, ...) [= <id>]
    setdefault <table> <action>(<p>:<v>, ...)
    check_counter <counter>(<index> | $<id>) [packets|bytes <op> <number>]
    wait | remove all | no_packet
    <simple_switch_CLI command> <args...>      (the pass-through list below)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from p4switch.errors import SwitchError

#: simple_switch_CLI commands that the STF runner forwards verbatim.
PASS_THROUGH_COMMANDS = frozenset(
    {
        "mirroring_add",
        "mirroring_add_mc",
        "mirroring_delete",
        "mirroring_get",
        "mc_mgrp_create",
        "mc_mgrp_destroy",
        "mc_node_create",
        "mc_node_associate",
        "mc_node_dissociate",
        "mc_node_update",
        "mc_node_destroy",
        "counter_read",
        "counter_write",
        "counter_reset",
        "register_read",
        "register_write",
        "register_reset",
        "meter_get_rates",
        "meter_set_rates",
        "meter_array_set_rates",
    }
)

#: Comparison operators allowed by ``check_counter``.
COUNTER_OPS = ("==", "!=", "<=", "<", ">=", ">")


class StfLocatedError(SwitchError):
    """Base of the STF errors that point at ``file:line`` (just ``file`` when
    the line is unknown, 0); the parser and the runner share the format."""

    def __init__(self, filename: str, line: int, message: str):
        self.filename = filename
        self.line = line
        self.message = message
        where = f"{filename}:{line}" if line > 0 else filename
        super().__init__(f"{where}: {message}")


class StfSyntaxError(StfLocatedError):
    """A malformed STF line; carries the file and line number it comes from."""


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Statement:
    """Base of every statement: where it came from, for error messages."""

    line: int


@dataclass(frozen=True)
class PacketStmt(Statement):
    """``packet <port> <hex>``: inject ``data`` on ingress port ``port``."""

    port: int
    data: bytes


@dataclass(frozen=True)
class ExpectStmt(Statement):
    """``expect <port> [<pattern>[$]]``.

    ``pattern`` is upper-case hex with ``*`` for don't-care nibbles, or None for the
    form without data (any one packet).  ``exact`` is True when the line ends in
    ``$`` (length must match exactly instead of prefix match).
    """

    port: int
    pattern: str | None
    exact: bool = False


@dataclass(frozen=True)
class KeyValue:
    """One ``field:value`` of an ``add``: raw STF text, resolved later against JSON."""

    field: str
    value: str          # number text as written ("0x0a**", "0b1*", "42")
    prefix_len: int | None = None   # "value/len" form


@dataclass(frozen=True)
class ActionCall:
    """``name(p:v, ...)``; args keep their written order and text."""

    name: str
    args: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AddStmt(Statement):
    table: str
    priority: int | None
    keys: tuple[KeyValue, ...]
    action: ActionCall
    entry_id: str | None = None


@dataclass(frozen=True)
class SetDefaultStmt(Statement):
    table: str
    action: ActionCall


@dataclass(frozen=True)
class CliStmt(Statement):
    """A simple_switch_CLI command passed through verbatim (``text`` is the whole line)."""

    command: str
    args: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class CheckCounterStmt(Statement):
    """``check_counter ctr(index | $id) [packets|bytes op value]``."""

    counter: str
    index: int | None
    entry_id: str | None
    kind: str | None = None        # "packets" | "bytes" | None
    op: str | None = None
    value: int | None = None


@dataclass(frozen=True)
class WaitStmt(Statement):
    pass


@dataclass(frozen=True)
class RemoveAllStmt(Statement):
    pass


@dataclass
class StfFile:
    """A parsed STF file: its statements in file order."""

    filename: str
    statements: list[Statement] = field(default_factory=list)

    def ports(self) -> set[int]:
        """Every port number that appears in a packet or expect line: the ports
        simple_switch gets an interface for."""
        return {
            s.port for s in self.statements if isinstance(s, (PacketStmt, ExpectStmt))
        }


# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>0[xX][0-9a-fA-F*]+|0[bB][01*]+|0[oO][0-7*]+|[0-9]+)(?![\w$])
  | (?P<name>[A-Za-z_$][\w$]*(?:\[[0-9]+\])?(?:\.[A-Za-z_$][\w$]*(?:\[[0-9]+\])?)*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[:,()=/])
    """,
    re.VERBOSE,
)


#: a run of word characters, to quote a malformed number whole in an error
_BAD_WORD_RE = re.compile(r"[\w$*]+")


@dataclass(frozen=True)
class _Tok:
    kind: str     # "number" | "name" | "op" | "punct"
    text: str
    col: int


def _tokenize(text: str, fail, base: int = 0) -> list[_Tok]:
    """Tokens of `text`; columns count from the start of the line (`base` is the
    0-based column where `text` starts in it)."""
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            word = _BAD_WORD_RE.match(text, pos)
            if text[pos].isdigit() and word is not None:
                # "0xzz", "12ab": name the whole word, not just its first digit
                fail(f"bad number {word.group()!r} at column {base + pos + 1} "
                     f"(hex 0x.., binary 0b.., octal 0o.. or decimal; '*' for don't-care digits)")
            fail(f"unexpected character {text[pos]!r} at column {base + pos + 1}")
        kind = m.lastgroup
        if kind != "ws":
            toks.append(_Tok(kind, m.group(), base + pos + 1))
        pos = m.end()
    return toks


class _Cursor:
    """Recursive-descent helper over one line's tokens."""

    def __init__(self, toks: list[_Tok], fail):
        self.toks = toks
        self.i = 0
        self.fail = fail

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def next(self, what: str) -> _Tok:
        tok = self.peek()
        if tok is None:
            self.fail(f"expected {what}, found end of line")
        self.i += 1
        return tok

    def expect(self, kind: str, text: str | None = None, what: str | None = None) -> _Tok:
        tok = self.peek()
        desc = what or (repr(text) if text else kind)
        if tok is None:
            self.fail(f"expected {desc}, found end of line")
        if tok.kind != kind or (text is not None and tok.text != text):
            self.fail(f"expected {desc}, found {tok.text!r} at column {tok.col}")
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> _Tok | None:
        tok = self.peek()
        if tok is not None and tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return tok
        return None

    def done(self) -> None:
        tok = self.peek()
        if tok is not None:
            self.fail(f"unexpected {tok.text!r} at column {tok.col}")


# --------------------------------------------------------------------------- parser


def parse_stf(text: str, filename: str = "<stf>") -> StfFile:
    """Parse STF source text. Raises StfSyntaxError at the first malformed line."""
    out = StfFile(filename)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        code = raw.split("#", 1)[0]
        line = code.strip()
        if not line:
            continue
        indent = len(code) - len(code.lstrip())
        out.statements.append(_parse_line(line, lineno, filename, indent))
    return out


def parse_stf_file(path: str) -> StfFile:
    """Read and parse an STF file (errors carry the path)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise StfSyntaxError(path, 0, f"cannot read STF file: {e.strerror}") from None
    return parse_stf(text, path)


def _parse_line(line: str, lineno: int, filename: str, indent: int = 0) -> Statement:
    def fail(msg: str):
        raise StfSyntaxError(filename, lineno, msg)

    parts = line.split(None, 1)
    keyword = parts[0]
    rest = parts[1].strip() if len(parts) > 1 else ""
    kw = keyword.lower()
    col0 = indent + len(line) - len(rest)     # where `rest` starts in the raw line

    if kw in ("packet", "expect"):
        return _parse_packet_line(kw, rest, lineno, fail)
    if kw == "add":
        return _parse_add(rest, lineno, fail, col0)
    if kw == "setdefault":
        cur = _Cursor(_tokenize(rest, fail, col0), fail)
        table = cur.expect("name", what="a table name").text
        action = _parse_action(cur)
        cur.done()
        return SetDefaultStmt(lineno, table, action)
    if kw == "check_counter":
        return _parse_check_counter(rest, lineno, fail, col0)
    if kw == "wait":
        if rest:
            fail(f"'wait' takes no arguments, found {rest!r}")
        return WaitStmt(lineno)
    if kw == "remove":
        if rest.lower() != "all":
            fail("only 'remove all' is supported")
        return RemoveAllStmt(lineno)
    if kw == "no_packet":
        fail("'no_packet' is not supported (the upstream BMv2 runner cannot run it either)")
    if kw in PASS_THROUGH_COMMANDS:
        args = tuple(rest.split())
        return CliStmt(lineno, kw, args, " ".join((kw,) + args))
    fail(f"unknown STF command {keyword!r}")
    raise AssertionError("unreachable")


def parse_int(text: str) -> int:
    """An STF number without '*': decimal (leading zeros allowed), 0x, 0b or 0o."""
    t = text.lower()
    if t.startswith("0x"):
        return int(t[2:], 16)
    if t.startswith("0b"):
        return int(t[2:], 2)
    if t.startswith("0o"):
        return int(t[2:], 8)
    return int(t, 10)


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _parse_packet_line(kw: str, rest: str, lineno: int, fail) -> Statement:
    parts = rest.split(None, 1)
    port_text = parts[0] if parts else ""
    data = parts[1] if len(parts) > 1 else ""
    if not port_text:
        fail(f"'{kw}' needs a port number")
    if not port_text.isdigit():
        fail(f"bad port number {port_text!r} (decimal expected)")
    port = int(port_text)
    data = "".join(data.split())
    if kw == "packet":
        if not data:
            fail("'packet' needs packet data")
        bad = [c for c in data if c not in _HEX_DIGITS]
        if bad:
            fail(f"invalid packet data character {bad[0]!r} (hex digits only)")
        if len(data) % 2:
            # p4c's BMv2 runner reads the hex two digits at a time, so a lone last
            # digit D becomes the byte 0x0D; some upstream STF files rely on it.
            return PacketStmt(lineno, port, bytes.fromhex(data[:-1]) + bytes([int(data[-1], 16)]))
        return PacketStmt(lineno, port, bytes.fromhex(data))
    if not data:
        return ExpectStmt(lineno, port, None, False)
    exact = data.endswith("$")
    if exact:
        data = data[:-1]
    for c in data:
        if c not in _HEX_DIGITS and c != "*":
            if c == "$":
                fail("'$' may only end an expect line")
            fail(f"invalid expect data character {c!r} (hex digits, '*' or a final '$')")
    return ExpectStmt(lineno, port, data.upper(), exact)


def _parse_number_value(cur: _Cursor, what: str) -> str:
    tok = cur.peek()
    if tok is None or tok.kind != "number":
        if tok is None:
            cur.fail(f"expected {what}, found end of line")
        cur.fail(f"expected {what}, found {tok.text!r} at column {tok.col}")
    cur.i += 1
    return tok.text


def _parse_action(cur: _Cursor) -> ActionCall:
    name = cur.expect("name", what="an action name").text
    cur.expect("punct", "(", what="'(' after the action name")
    args: list[tuple[str, str]] = []
    if not cur.accept("punct", ")"):
        while True:
            pname = cur.expect("name", what="an action parameter name").text
            cur.expect("punct", ":", what=f"':' after parameter {pname!r}")
            value = _parse_number_value(cur, f"a value for parameter {pname!r}")
            if any(p == pname for p, _ in args):
                cur.fail(f"action parameter {pname!r} given twice")
            args.append((pname, value))
            if cur.accept("punct", ")"):
                break
            cur.expect("punct", ",", what="',' or ')' in the action parameters")
    return ActionCall(name, tuple(args))


def _parse_add(rest: str, lineno: int, fail, col0: int = 0) -> AddStmt:
    cur = _Cursor(_tokenize(rest, fail, col0), fail)
    table = cur.expect("name", what="a table name").text
    priority = None
    tok = cur.peek()
    if tok is not None and tok.kind == "number":
        if not tok.text.isdigit():
            fail(f"bad priority {tok.text!r} (decimal expected)")
        priority = int(tok.text)
        cur.i += 1
    keys: list[KeyValue] = []
    while True:
        tok = cur.peek()
        nxt = cur.peek(1)
        if tok is None:
            fail("'add' needs an action: <action>(<params>)")
        if tok.kind == "name" and nxt is not None and nxt.kind == "punct" and nxt.text == "(":
            break
        name = cur.expect("name", what="a key field name or an action").text
        cur.expect("punct", ":", what=f"':' after key field {name!r}")
        value = _parse_number_value(cur, f"a value for key field {name!r}")
        plen = None
        if cur.accept("punct", "/"):
            plen_text = _parse_number_value(cur, "a prefix length")
            if "*" in plen_text:
                fail(f"bad prefix length {plen_text!r}")
            plen = parse_int(plen_text)
        keys.append(KeyValue(name, value, plen))
    action = _parse_action(cur)
    entry_id = None
    if cur.accept("punct", "="):
        entry_id = cur.expect("name", what="an entry id after '='").text
    cur.done()
    return AddStmt(lineno, table, priority, tuple(keys), action, entry_id)


def _parse_check_counter(rest: str, lineno: int, fail, col0: int = 0) -> CheckCounterStmt:
    cur = _Cursor(_tokenize(rest, fail, col0), fail)
    name = cur.expect("name", what="a counter name").text
    cur.expect("punct", "(", what="'(' after the counter name")
    tok = cur.next("a counter index or $<entry id>")
    index = entry_id = None
    if tok.kind == "number" and "*" not in tok.text:
        index = parse_int(tok.text)
    elif tok.kind == "name" and tok.text.startswith("$") and len(tok.text) > 1:
        entry_id = tok.text[1:]
    elif tok.kind == "name":
        entry_id = tok.text
    else:
        fail(f"bad counter index {tok.text!r}")
    cur.expect("punct", ")", what="')' after the counter index")
    if cur.at_end():
        return CheckCounterStmt(lineno, name, index, entry_id)
    kind_tok = cur.expect("name", what="'packets' or 'bytes'")
    kind = kind_tok.text.lower()
    if kind not in ("packets", "bytes"):
        fail(f"expected 'packets' or 'bytes', found {kind_tok.text!r}")
    op = cur.expect("op", what="a comparison operator").text
    value_text = _parse_number_value(cur, "a number")
    if "*" in value_text:
        fail(f"bad number {value_text!r}")
    value = parse_int(value_text)
    cur.done()
    return CheckCounterStmt(lineno, name, index, entry_id, kind, op, value)
