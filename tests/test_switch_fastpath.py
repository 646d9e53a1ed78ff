"""Data-path fast paths of the p4sw engine (codegen/engine performance work):
the struct-based header (de)serialisation, the modulo-0xFFFF csum16
accumulation and the fused common-case packet function must give exactly
what the generic code gives."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from p4switch import bits, codegen, hashes


def _random_widths(rng: random.Random) -> list[int]:
    while True:
        ws = [rng.choice((0, 1, 3, 4, 7, 8, 9, 12, 13, 16, 19, 24, 32, 48, 64, 72, 128))
              for _ in range(rng.randint(1, 9))]
        if sum(ws) % 8 == 0 and sum(ws) > 0:
            return ws


@pytest.mark.parametrize("seed", range(40))
def test_struct_layout_roundtrip(seed):
    rng = random.Random(seed)
    widths = _random_widths(rng)
    values = [rng.getrandbits(w) if w else 0 for w in widths]
    data = bits.pack_fields(zip(values, widths))
    fmt, pieces = codegen.struct_layout(widths)
    assert struct.calcsize(fmt) == len(data)
    names = [f"u{i}" for i in range(len(pieces))]
    env = dict(zip(names, struct.unpack(fmt, data)))
    got = [eval(e, {}, env) if e is not None else 0  # noqa: S307  (generated code under test)
           for e in codegen.unpack_exprs(widths, pieces, names)]
    assert got == values
    penv = {f"v{i}": v for i, v in enumerate(values)}
    args = [eval(e, {}, penv)  # noqa: S307
            for e in codegen.pack_exprs(widths, pieces, [f"v{i}" for i in range(len(values))])]
    assert struct.pack(fmt, *args) == data


def test_struct_layout_not_byte_aligned():
    assert codegen.struct_layout([3, 4]) is None
    assert codegen.struct_layout([0]) is None


# ---------------------------------------------------------------- csum16

ETH = [("dstAddr", 48), ("srcAddr", 48), ("etherType", 16)]
IP4 = [("version", 4), ("ihl", 4), ("diffserv", 8), ("totalLen", 16), ("identification", 16),
       ("flags", 3), ("fragOffset", 13), ("ttl", 8), ("protocol", 8), ("hdrChecksum", 16),
       ("srcAddr", 32), ("dstAddr", 32)]


def _fields_of(data: bytes) -> dict:
    v = int.from_bytes(data[:34], "big")
    out = {}
    pos = 34 * 8
    for h, fs in (("ethernet", ETH), ("ipv4", IP4)):
        for name, wd in fs:
            pos -= wd
            out[(h, name)] = (v >> pos) & ((1 << wd) - 1)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_csum16_update_matches_generic(seed):
    """The checksum p4sw writes equals csum16 (hashes.py, over bytes) of the
    inputs' final values, for random input lists: fields of a header that the
    if_cond proves valid (static sum), of another header (validity tested per
    packet), metadata, constants of odd widths (padding, odd byte counts)."""
    from switch_engine_programs import EXPR, HEX, F, basic_json

    from p4switch.switch import Switch
    rng = random.Random(seed)
    j = basic_json()
    j["pipelines"][0]["tables"][0]["default_entry"] = {
        "action_id": 2, "action_const": False, "action_data": ["0x0a0b0c0d0e0f", "0x2"],
        "action_entry_const": False}
    inputs, spec = [], []
    for _ in range(rng.randint(1, 8)):
        kind = rng.random()
        if kind < 0.5:
            name, wd = rng.choice([f for f in IP4 if f[0] != "hdrChecksum"])
            inputs.append(F("ipv4", name))
            spec.append(("f", ("ipv4", name), wd))
        elif kind < 0.7:
            name, wd = rng.choice(ETH)
            inputs.append(F("ethernet", name))
            spec.append(("f", ("ethernet", name), wd))
        elif kind < 0.85:
            wd = rng.choice((4, 8, 12, 16, 20, 24))
            val = rng.getrandbits(wd)
            inputs.append({"type": "hexstr", "value": hex(val), "bitwidth": wd})
            spec.append(("c", val, wd))
        else:
            inputs.append(F("standard_metadata", "ingress_port"))
            spec.append(("p", None, 9))
    j["calculations"][0]["input"] = inputs
    if rng.random() < 0.5:
        j["checksums"][0]["if_cond"] = None
    sw = Switch.from_json(j)
    for _ in range(5):
        port = rng.randrange(0, 511)
        pkt = (rng.getrandbits(96).to_bytes(12, "big") + b"\x08\x00" +
               rng.getrandbits(160).to_bytes(20, "big") + bytes(rng.randrange(0, 30)))
        out = sw.process_packet(port, pkt)
        assert len(out) == 1
        got = _fields_of(out[0][1])
        items = []
        for kind, ref, wd in spec:
            items.append((got[ref] if kind == "f" else ref if kind == "c" else port, wd))
        expect = hashes.algorithm("csum16")(bits.pack_fields(items))
        assert got[("ipv4", "hdrChecksum")] == expect, (spec, items)


# ---------------------------------------------------------------- fused function

CORPUS = Path("/work/shared/conformance/p4c-json")


def _corpus_programs() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    progs = sorted(CORPUS.glob("*.json"))[::3]     # a spread over the corpus, to keep the run short
    testdata = CORPUS.parent / "bmv2-testdata"
    if testdata.is_dir():
        progs += sorted(p for p in testdata.rglob("*.json") if "runtime" not in p.name)
    return progs


@pytest.mark.parametrize("path", _corpus_programs(), ids=lambda p: p.stem)
def test_fused_function_matches_general_path(path):
    """`sw.process_packet` (the fused common-case function) gives what the
    general engine method gives, packet by packet, with the same stats."""
    from p4switch.engine import Engine
    from p4switch.errors import JsonLoadError
    from p4switch.switch import Switch
    try:
        fused = Switch.from_json(path.read_bytes())
        general = Switch.from_json(path.read_bytes())
    except JsonLoadError:
        pytest.skip("program not loadable")
    if any(w in fused.generated_source for w in ("_mtr", "e.meter")):
        pytest.skip("meters depend on the time")
    # the same clock and random numbers for both switches
    for sw in (fused, general):
        for fn in (sw.process_packet, sw._init_ingress, sw._init_egress):
            fn.__globals__["_mono"] = lambda: 12.5
            fn.__globals__["_t0"] = 10.0
        sw.process_packet.__globals__["_randint"] = random.Random(7).randint
    assert fused.process_packet is not Engine.process_packet
    rng = random.Random(path.stem)
    for i in range(30):
        port = rng.randrange(0, 8)
        pkt = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 90)))
        if i % 2:   # Ethernet + IPv4 (+ TCP/UDP) more often reaches tables and actions
            pkt = pkt[:12] + b"\x08\x00\x45" + pkt[15:23] + bytes([rng.choice((6, 17))]) + pkt[24:]
        assert fused.process_packet(port, pkt) == Engine.process_packet(general, port, pkt)
    assert fused.stats == general.stats
    assert fused.digests == general.digests
