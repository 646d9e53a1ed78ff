"""Our core.p4 / v1model.p4 declare the same interface as p4c's, in our own words.

A small declaration extractor (comment stripper, tokenizer, a preprocessor for the
few directives these files use, top-level and extern-member splitter) compares,
for both V1MODEL_VERSION branches, every declaration of the reference with ours:
name, kind, annotations, type parameters, parameter types, directions and order,
enum/error/struct member order.  Formatting and comments are ignored.  A second
check makes sure no comment text of the reference was copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

OURS = Path(__file__).resolve().parent.parent / "p4compiler" / "p4include"
FILES = ("core.p4", "v1model.p4")
VERSIONS = (None, 20180101, 20200408)  # None: the file's own default

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|0[xX][0-9a-fA-F]+|\d+|\S')


def strip_comments(text: str) -> tuple[str, list[str]]:
    """Source without comments (newlines kept), and the comments' texts."""
    out, comments, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append(text[i + 2:j])
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise ValueError("unterminated /* comment")
            comments.append(text[i + 2:j])
            out.append("\n" * text.count("\n", i, j))
            i = j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out), comments


@dataclass
class Preprocessed:
    lines: list[str]
    defines: dict[str, str]


def preprocess(text: str, predefined: dict[str, str]) -> Preprocessed:
    """Just enough cpp for these files: #ifndef/#ifdef/#if NAME >= N/#else/#endif/#define."""
    defines = dict(predefined)
    own_defines: dict[str, str] = {}
    stack: list[tuple[bool, bool]] = []  # (parent active, this branch active)
    lines: list[str] = []

    def active() -> bool:
        return all(p and b for p, b in stack)

    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("#"):
            if active():
                lines.append(raw)
            continue
        words = line[1:].split(None, 1)
        directive, rest = words[0], (words[1].strip() if len(words) > 1 else "")
        if directive in ("ifndef", "ifdef"):
            cond = (rest in defines) == (directive == "ifdef")
            stack.append((active(), cond))
        elif directive == "if":
            m = re.fullmatch(r"([A-Za-z_]\w*)\s*>=\s*(\d+)", rest)
            if not m:
                raise ValueError(f"unsupported #if: {rest}")
            stack.append((active(), int(defines.get(m.group(1), "0")) >= int(m.group(2))))
        elif directive == "else":
            parent, cond = stack.pop()
            stack.append((parent, not cond))
        elif directive == "endif":
            stack.pop()
        elif directive == "define":
            if active():
                parts = rest.split(None, 1)
                value = parts[1].strip() if len(parts) > 1 else ""
                defines[parts[0]] = value
                own_defines[parts[0]] = value
        elif directive == "include":
            pass
        else:
            raise ValueError(f"unsupported directive #{directive}")
    assert not stack, "unbalanced #if"
    return Preprocessed(lines, own_defines)


@dataclass(frozen=True)
class Decl:
    key: str
    tokens: tuple[str, ...]
    members: tuple["Decl", ...] = ()


def _split(tokens: list[str]) -> list[list[str]]:
    """Split into declarations: each ends at ';' or at the '}' closing its block."""
    decls, cur, depth = [], [], 0
    for t in tokens:
        cur.append(t)
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if depth == 0:
                decls.append(cur)
                cur = []
        elif t == ";" and depth == 0:
            decls.append(cur)
            cur = []
    assert not cur, f"trailing tokens {cur}"
    return decls


def _strip_annotations(toks: list[str]) -> list[str]:
    i = 0
    while i < len(toks) and toks[i] == "@":
        i += 2
        if i < len(toks) and toks[i] == "(":
            depth = 0
            while True:
                depth += {"(": 1, ")": -1}.get(toks[i], 0)
                i += 1
                if depth == 0:
                    break
    return toks[i:]


def _key(toks: list[str]) -> str:
    body = _strip_annotations(toks)
    name, angle, arity = None, 0, None
    for i, t in enumerate(body):
        if t == "<":
            angle += 1
        elif t == ">":
            angle -= 1
        elif angle == 0 and t in "({=;":
            if t == "(":
                inner, depth, j = [], 0, i
                for j in range(i, len(body)):
                    depth += {"(": 1, ")": -1}.get(body[j], 0)
                    if depth == 0:
                        break
                inner = body[i + 1:j]
                arity = 0 if not inner else 1 + sum(
                    1 for k, x in enumerate(inner) if x == "," and _depth_ok(inner, k))
            break
        elif angle == 0 and re.fullmatch(r"[A-Za-z_]\w*", t):
            name = t
    return f"{name}/{arity}" if arity is not None else str(name)


def _depth_ok(toks: list[str], k: int) -> bool:
    depth = 0
    for x in toks[:k]:
        depth += {"(": 1, "<": 1, ")": -1, ">": -1}.get(x, 0)
    return depth == 0


def declarations(text: str, version: int | None) -> tuple[list[Decl], dict[str, str]]:
    code, _ = strip_comments(text)
    pre = preprocess(code, {} if version is None else {"V1MODEL_VERSION": str(version)})
    tokens = TOKEN.findall("\n".join(pre.lines))
    out = []
    for d in _split(tokens):
        members: tuple[Decl, ...] = ()
        body = _strip_annotations(d)
        if body[:1] == ["extern"] and d[-1] == "}":
            inner = d[d.index("{") + 1:-1]
            members = tuple(Decl(_key(m), tuple(m)) for m in _split(inner))
        out.append(Decl(_key(d), tuple(d), members))
    return out, pre.defines


def _load(root: Path, name: str) -> str:
    return (root / name).read_text()


@pytest.fixture(scope="module")
def reference(conformance_dir) -> Path:
    ref = conformance_dir / "p4include"
    if not all((ref / f).is_file() for f in FILES):
        pytest.skip(f"reference p4include not found in {ref}")
    return ref


def test_extractor_sees_what_it_should():
    text = """
    // c1
    @pure extern void f<T>(in T a, /* c2 */ out bit<8> b);
    #if V >= 5
    extern E<I> { E(bit<32> n); void m(in I i); @noSideEffects T r<T>(); }
    #else
    extern E { E(bit<32> n); }
    #endif
    enum X { a, b }
    """
    decls, _ = declarations(text.replace("V >=", "V1MODEL_VERSION >="), 5)
    assert [d.key for d in decls] == ["f/2", "E", "X"]
    assert [m.key for m in decls[1].members] == ["E/1", "m/1", "r/0"]
    assert "c2" not in " ".join(decls[0].tokens)
    old, _ = declarations(text.replace("V >=", "V1MODEL_VERSION >="), 4)
    assert [m.key for m in old[1].members] == ["E/1"]


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("version", VERSIONS)
def test_same_declarations(reference, fname, version):
    ref_decls, ref_defs = declarations(_load(reference, fname), version)
    our_decls, our_defs = declarations(_load(OURS, fname), version)
    assert len(ref_decls) > 3
    ref_map = {d.key: d for d in ref_decls}
    our_map = {d.key: d for d in our_decls}
    assert len(ref_map) == len(ref_decls) and len(our_map) == len(our_decls), "duplicate keys"
    missing = sorted(set(ref_map) - set(our_map))
    extra = sorted(set(our_map) - set(ref_map))
    assert not missing, f"{fname}: declarations missing from ours: {missing}"
    assert not extra, f"{fname}: declarations not in the reference: {extra}"
    for key, ref in ref_map.items():
        ours = our_map[key]
        assert [m.key for m in ours.members] == [m.key for m in ref.members], f"{fname}: members of {key}"
        for rm, om in zip(ref.members, ours.members):
            assert om.tokens == rm.tokens, f"{fname}: {key}.{rm.key}: {' '.join(om.tokens)} != {' '.join(rm.tokens)}"
        assert ours.tokens == ref.tokens, f"{fname}: {key}: {' '.join(ours.tokens)} != {' '.join(ref.tokens)}"
    # declaration order is part of the interface (it drives the order of the
    # compiler's output: errors, enums, header types)
    assert [d.key for d in our_decls] == [d.key for d in ref_decls]
    assert our_defs == ref_defs


@pytest.mark.parametrize("fname", FILES)
def test_no_reference_comment_text_copied(reference, fname):
    def sentences(text: str) -> set[str]:
        _, comments = strip_comments(text)
        words = " ".join(" ".join(comments).replace("*", " ").split())
        # every run of 8 consecutive words
        w = words.split()
        return {" ".join(w[i:i + 8]).lower() for i in range(len(w) - 7)}

    ref = sentences(_load(reference, fname))
    ours = sentences(_load(OURS, fname))
    assert len(ref) > 20 and len(ours) > 20
    copied = sorted(ref & ours)
    assert not copied, f"{fname}: comment text copied from the reference: {copied[:5]}"


def test_header_has_no_reference_boilerplate():
    for f in FILES:
        text = _load(OURS, f)
        assert "SPDX" not in text and "Barefoot" not in text
