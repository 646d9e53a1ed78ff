"""p4switch.tables: lookup semantics, BMv2 control-plane errors, handles, profiles."""
import time
from dataclasses import dataclass, field

import pytest

from p4switch.errors import TableError, TableErrorCode as C
from p4switch.externs import MeterArray
from p4switch.tables import (ActionProfile, Entry, Exact, KeyField, Lpm, Optional_, Range, Table,
                             Ternary, Valid)


@dataclass
class Act:
    id: int
    name: str
    params: list = field(default_factory=list)


FWD = Act(1, "MyIngress.fwd", [("port", 9)])
DROP = Act(2, "MyIngress.drop", [])
SETMAC = Act(3, "MyIngress.set_mac", [("mac", 48), ("port", 9)])
ACTS = [FWD, DROP, SETMAC]


def code_of(excinfo):
    return excinfo.value.code


# ------------------------------------------------------------------ exact
def exact_table(size=4, **kw):
    return Table("MyIngress.t", [KeyField("h.a", "exact", 16), KeyField("h.b", "exact", 9)],
                 ACTS, size, **kw)


def test_exact_hit_miss_counters_and_default():
    t = exact_table(with_counters=True)
    t.set_initial_default(DROP, ())
    h = t.add_entry([Exact(1), Exact(2)], FWD, (5,))
    assert h == 0
    hit, e = t.lookup((1, 2), 100)
    assert hit and e.action is FWD and e.data == (5,) and e.handle == 0
    hit, e = t.lookup((1, 3), 60)
    assert not hit and e is t.default and e.action is DROP
    t.lookup((1, 2), 50)
    assert t.read_counters(h) == (2, 150)
    t.write_counters(h, 7, 8)
    assert t.get_entry(h).packets == 7
    t.reset_counters()
    assert t.read_counters(h) == (0, 0)


def test_handles_reuse_lowest_with_version_bits():
    t = exact_table()
    hs = [t.add_entry([Exact(i), Exact(0)], DROP, ()) for i in range(3)]
    assert hs == [0, 1, 2]
    t.delete_entry(1)
    h = t.add_entry([Exact(9), Exact(0)], DROP, ())
    assert h == (1 << 24) | 1                          # slot 1, version 1 (BMv2)
    with pytest.raises(TableError) as ei:
        t.get_entry(1)                                 # stale handle
    assert code_of(ei) == C.INVALID_HANDLE
    assert [e.handle for e in t.entries()] == [0, h, 2]
    t.clear()
    assert t.num_entries() == 0
    assert t.add_entry([Exact(0), Exact(0)], DROP, ()) == 0


def test_exact_errors():
    t = exact_table(size=2)
    t.add_entry([Exact(1), Exact(1)], DROP, ())
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(1), Exact(1)], FWD, (1,))
    assert code_of(ei) == C.DUPLICATE_ENTRY
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(1)], DROP, ())
    assert code_of(ei) == C.BAD_MATCH_KEY
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(0x10000), Exact(1)], DROP, ())   # needs 3 bytes for 16 bits
    assert code_of(ei) == C.BAD_MATCH_KEY
    with pytest.raises(TableError) as ei:
        t.add_entry([Lpm(1, 8), Exact(1)], DROP, ())
    assert code_of(ei) == C.BAD_MATCH_KEY
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(2), Exact(2)], FWD, (512,))      # 9-bit param
    assert code_of(ei) == C.BAD_ACTION_DATA
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(2), Exact(2)], FWD, ())
    assert code_of(ei) == C.BAD_ACTION_DATA
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(2), Exact(2)], Act(9, "other", []), ())
    assert code_of(ei) == C.INVALID_ACTION_NAME
    t.add_entry([Exact(2), Exact(2)], DROP, ())
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(3), Exact(3)], DROP, ())
    assert code_of(ei) == C.TABLE_FULL
    with pytest.raises(TableError) as ei:
        t.delete_entry(77)
    assert code_of(ei) == C.INVALID_HANDLE


def test_sub_byte_overflow_is_masked_like_bmv2():
    t = exact_table()
    # 0x3ff fits the 2 bytes of a 9-bit field: BMv2 masks the first byte
    t.add_entry([Exact(1), Exact(0x3FF)], DROP, ())
    assert t.lookup((1, 0x1FF), 1)[0]
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(1), Exact(0x1FF)], DROP, ())
    assert code_of(ei) == C.DUPLICATE_ENTRY


def test_modify_and_find_entry():
    t = exact_table()
    h = t.add_entry([Exact(1), Exact(2)], FWD, (1,))
    t.modify_entry(h, SETMAC, (0xAABBCCDDEEFF, 3))
    hit, e = t.lookup((1, 2), 1)
    assert e.action is SETMAC and e.data == (0xAABBCCDDEEFF, 3)
    assert t.find_entry([Exact(1), Exact(2)]).handle == h
    assert t.find_entry([Exact(1), Exact(3)]) is None
    with pytest.raises(TableError) as ei:
        t.modify_entry(h, FWD, (1, 2))
    assert code_of(ei) == C.BAD_ACTION_DATA


def test_default_entry_const_rules():
    t = exact_table()
    assert t.lookup((0, 0), 1) == (False, t.default) and t.default.action is None
    t.set_initial_default(FWD, (1,), const_action=True)
    t.set_default(FWD, (2,))                       # same action, new data: allowed
    assert t.default.data == (2,)
    with pytest.raises(TableError) as ei:
        t.set_default(DROP, ())
    assert code_of(ei) == C.CONST_TABLE
    t.reset_default()
    assert t.default.data == (1,)
    t.set_initial_default(FWD, (1,), const_entry=True)
    with pytest.raises(TableError):
        t.set_default(FWD, (3,))
    u = exact_table()
    u.set_default(FWD, (4,))                       # no JSON default: first set is the reset target
    u.set_default(DROP, ())
    u.reset_default()
    assert u.default.action is FWD and u.default.data == (4,)


def test_const_entries_table_is_read_only():
    t = exact_table()
    h = t.add_entry([Exact(1), Exact(1)], DROP, ())
    t.const_entries = True
    for op in (lambda: t.add_entry([Exact(2), Exact(2)], DROP, ()),
               lambda: t.delete_entry(h), lambda: t.modify_entry(h, DROP, ()), t.clear):
        with pytest.raises(TableError) as ei:
            op()
        assert code_of(ei) == C.CONST_TABLE
    assert t.lookup((1, 1), 1)[0]


def test_valid_key():
    t = Table("t", [KeyField("h.$valid$", "valid", 1), KeyField("h.x", "exact", 8)], ACTS, 8)
    t.add_entry([Valid(True), Exact(3)], DROP, ())
    t.add_entry([Valid(False), Exact(0)], FWD, (1,))
    assert t.lookup((1, 3), 1)[1].action is DROP
    assert t.lookup((0, 0), 1)[1].action is FWD
    assert not t.lookup((0, 3), 1)[0]


# -------------------------------------------------------------------- lpm
def test_lpm_longest_prefix_wins_and_delete():
    t = Table("ipv4_lpm", [KeyField("hdr.ipv4.dstAddr", "lpm", 32)], ACTS, 16, match_type="lpm")
    assert t.kind == "lpm"
    h8 = t.add_entry([Lpm(0x0A000000, 8)], FWD, (1,))
    h24 = t.add_entry([Lpm(0x0A000100, 24)], FWD, (2,))
    h0 = t.add_entry([Lpm(0, 0)], FWD, (3,))
    h32 = t.add_entry([Lpm(0x0A000101, 32)], FWD, (4,))
    assert t.lookup((0x0A000101,), 1)[1].handle == h32
    assert t.lookup((0x0A000102,), 1)[1].handle == h24
    assert t.lookup((0x0A020304,), 1)[1].handle == h8
    assert t.lookup((0x0B000000,), 1)[1].handle == h0
    t.delete_entry(h24)
    assert t.lookup((0x0A000102,), 1)[1].handle == h8
    # value bits beyond the prefix are ignored: same prefix -> duplicate
    with pytest.raises(TableError) as ei:
        t.add_entry([Lpm(0x0A0000FF, 8)], DROP, ())
    assert code_of(ei) == C.DUPLICATE_ENTRY
    with pytest.raises(TableError) as ei:
        t.add_entry([Lpm(0x0A000000, 33)], DROP, ())
    assert code_of(ei) == C.BAD_MATCH_KEY
    t.delete_entry(h0)
    assert not t.lookup((0x0B000000,), 1)[0]


def test_lpm_with_exact_field():
    t = Table("t", [KeyField("vrf", "exact", 8), KeyField("dst", "lpm", 32)], ACTS, 16,
              match_type="lpm")
    t.add_entry([Exact(1), Lpm(0x0A000000, 8)], FWD, (1,))
    t.add_entry([Exact(2), Lpm(0x0A000000, 16)], FWD, (2,))
    t.add_entry([Exact(1), Lpm(0x0A000000, 24)], FWD, (3,))
    assert t.lookup((1, 0x0A000005), 1)[1].data == (3,)
    assert t.lookup((1, 0x0A010005), 1)[1].data == (1,)
    assert t.lookup((2, 0x0A000005), 1)[1].data == (2,)
    assert not t.lookup((3, 0x0A000005), 1)[0]


# ---------------------------------------------------------------- ternary
def ternary_table(**kw):
    return Table("acl", [KeyField("h.a", "ternary", 16), KeyField("h.b", "exact", 8)], ACTS, 64,
                 match_type="ternary", **kw)


def test_ternary_smallest_priority_wins_ties_lowest_handle():
    t = ternary_table()
    h_a = t.add_entry([Ternary(0x0800, 0xFF00), Exact(1)], FWD, (1,), priority=20)
    h_b = t.add_entry([Ternary(0x0801, 0xFFFF), Exact(1)], FWD, (2,), priority=10)
    h_c = t.add_entry([Ternary(0, 0), Exact(1)], FWD, (3,), priority=10)
    assert t.lookup((0x0801, 1), 1)[1].handle == h_b       # prio 10 < 20, lower handle than c
    assert t.lookup((0x0802, 1), 1)[1].handle == h_c       # b doesn't match; c prio 10 beats a
    t.delete_entry(h_c)
    assert t.lookup((0x0802, 1), 1)[1].handle == h_a
    assert not t.lookup((0x0802, 2), 1)[0]
    # tie on priority: the lower internal handle wins even if added later
    h_d = t.add_entry([Ternary(0x0000, 0x0000), Exact(1)], FWD, (4,), priority=10)
    assert h_d == (1 << 24) | 2                             # reused slot 2
    t.delete_entry(h_b)
    h_e = t.add_entry([Ternary(0x0802, 0xFFFF), Exact(1)], FWD, (5,), priority=10)
    assert h_e & 0xFFFFFF == 1
    assert t.lookup((0x0802, 1), 1)[1].handle == h_e        # slot 1 < slot 2


def test_ternary_value_masked_and_duplicates_need_same_priority():
    t = ternary_table()
    t.add_entry([Ternary(0x08FF, 0xFF00), Exact(1)], FWD, (1,), priority=5)
    e = t.find_entry([Ternary(0x0800, 0xFF00), Exact(1)], priority=5)
    assert e is not None                                    # value bits outside mask dropped
    with pytest.raises(TableError) as ei:
        t.add_entry([Ternary(0x0800, 0xFF00), Exact(1)], DROP, (), priority=5)
    assert code_of(ei) == C.DUPLICATE_ENTRY
    t.add_entry([Ternary(0x0800, 0xFF00), Exact(1)], DROP, (), priority=6)   # other prio: ok
    assert t.num_entries() == 2
    assert t.find_entry([Ternary(0x0800, 0xFF00), Exact(1)], priority=7) is None


def test_ternary_table_with_lpm_field_uses_priority_not_prefix():
    t = Table("t", [KeyField("dst", "lpm", 32), KeyField("x", "ternary", 8)], ACTS, 8,
              match_type="ternary")
    t.add_entry([Lpm(0x0A000000, 8), Ternary(0, 0)], FWD, (1,), priority=1)
    t.add_entry([Lpm(0x0A000100, 24), Ternary(0, 0)], FWD, (2,), priority=2)
    assert t.lookup((0x0A000101, 0), 1)[1].data == (1,)    # shorter prefix, better priority


def test_range_and_optional():
    t = Table("t", [KeyField("port", "range", 16), KeyField("proto", "optional", 8)], ACTS, 8,
              match_type="range")
    t.add_entry([Range(1000, 2000), Optional_(6)], FWD, (1,), priority=3)
    t.add_entry([Range(0, 0xFFFF), Optional_(None)], FWD, (2,), priority=9)
    t.add_entry([Range(1500, 1500), Optional_(None)], FWD, (3,), priority=1)
    assert t.lookup((1200, 6), 1)[1].data == (1,)
    assert t.lookup((1200, 17), 1)[1].data == (2,)
    assert t.lookup((1500, 6), 1)[1].data == (3,)
    assert t.lookup((2001, 6), 1)[1].data == (2,)
    with pytest.raises(TableError) as ei:
        t.add_entry([Range(5, 4), Optional_(None)], DROP, (), priority=1)
    assert code_of(ei) == C.BAD_MATCH_KEY
    with pytest.raises(TableError) as ei:
        t.add_entry([Range(1, 4), Ternary(1, 0x0F)], DROP, (), priority=1)
    assert code_of(ei) == C.BAD_MATCH_KEY


def test_ternary_matches_bruteforce_model():
    import random
    rng = random.Random(7)
    t = ternary_table()
    model = []
    for _ in range(50):
        v, m, b = rng.getrandbits(16), rng.choice([0, 0xFF00, 0xFFFF, 0x00F0, 0x0F0F]), rng.randrange(3)
        p = rng.randrange(8)
        try:
            h = t.add_entry([Ternary(v, m), Exact(b)], DROP, (), priority=p)
        except TableError:
            continue
        model.append((p, h & 0xFFFFFF, v & m, m, b, h))
    for (p, i, v, m, b, h) in list(model)[::4]:
        t.delete_entry(h)
        model.remove((p, i, v, m, b, h))
    for _ in range(2000):
        ka, kb = rng.getrandbits(16), rng.randrange(3)
        cands = sorted((p, i, h) for (p, i, v, m, b, h) in model if ka & m == v and kb == b)
        hit, e = t.lookup((ka, kb), 1)
        assert hit == bool(cands)
        if cands:
            assert e.handle == cands[0][2]


# ------------------------------------------------- direct meter / ageing
def test_direct_meter_cells_and_idle_timeout():
    dm = MeterArray("dm", 4, "packets", is_direct=True, binding="t")
    t = exact_table(direct_meter=dm, support_timeout=True)
    h = t.add_entry([Exact(1), Exact(1)], DROP, (), timeout_ms=100)
    e = t.get_entry(h)
    assert e.meter is dm.cell(0)
    t.add_entry([Exact(2), Exact(2)], DROP, ())
    now = time.monotonic()
    assert t.idle_entries(now + 0.05) == []
    assert [x.handle for x in t.idle_entries(now + 0.2)] == [h]
    t.lookup((1, 1), 1)                          # a hit refreshes last_hit
    assert e.last_hit >= now
    t.set_entry_ttl(h, 1)
    assert [x.handle for x in t.idle_entries(time.monotonic() + 0.01)] == [h]


# -------------------------------------------------------- action profiles
def test_action_profile_members_groups_and_select():
    p = ActionProfile("sel", ACTS, 16, selector=True)
    m = [p.add_member(FWD, (i,)) for i in range(4)]
    assert m == [0, 1, 2, 3]
    g = p.create_group()
    assert g == 0
    for x in (3, 1, 2):
        p.add_member_to_group(x, g)
    assert p.group_members(g) == [1, 2, 3]               # kept in handle order
    assert [p.select(g, h).handle for h in range(5)] == [1, 2, 3, 1, 2]
    with pytest.raises(TableError) as ei:
        p.delete_member(2)                               # in a group
    assert code_of(ei) == C.MEMBER_IN_USE
    with pytest.raises(TableError) as ei:
        p.add_member_to_group(2, g)
    assert code_of(ei) == C.DUPLICATE_ENTRY
    p.remove_member_from_group(2, g)
    p.delete_member(2)
    assert p.add_member(DROP, ()) == 2                  # lowest free handle
    with pytest.raises(TableError) as ei:
        p.add_member(FWD, (1000,))
    assert code_of(ei) == C.BAD_ACTION_DATA
    g2 = p.create_group()
    with pytest.raises(TableError) as ei:
        p.select(g2, 0)
    assert code_of(ei) == C.EMPTY_GROUP
    with pytest.raises(TableError) as ei:
        p.select(9, 0)
    assert code_of(ei) == C.INVALID_GROUP
    p.delete_group(g)                                    # non-empty group can go
    p.delete_member(3)


def test_indirect_tables_reference_counting():
    p = ActionProfile("sel", ACTS, 16, selector=True)
    t = Table("t", [KeyField("k", "exact", 8)], ACTS, 8, type="indirect_ws", profile=p)
    m0 = p.add_member(FWD, (1,))
    g = p.create_group()
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(1)], None, (), group=g)
    assert code_of(ei) == C.EMPTY_GROUP
    p.add_member_to_group(m0, g)
    h = t.add_entry([Exact(1)], None, (), group=g)
    hm = t.add_entry([Exact(2)], None, (), member=m0)
    hit, e = t.lookup((1,), 1)
    assert hit and e.group == g and e.action is None
    assert p.select(e.group, 12345).data == (1,)
    with pytest.raises(TableError) as ei:
        p.delete_group(g)
    assert code_of(ei) == C.GROUP_IN_USE
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(3)], FWD, (1,))
    assert code_of(ei) == C.WRONG_TABLE_TYPE
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(3)], None, (), member=42)
    assert code_of(ei) == C.INVALID_MEMBER
    t.delete_entry(h)
    p.delete_group(g)
    with pytest.raises(TableError) as ei:
        p.delete_member(m0)                              # still used by entry hm
    assert code_of(ei) == C.MEMBER_IN_USE
    t.delete_entry(hm)
    p.delete_member(m0)
    plain = Table("u", [KeyField("k", "exact", 8)], ACTS, 8, type="indirect",
                  profile=ActionProfile("ap", ACTS))
    with pytest.raises(TableError) as ei:
        plain.add_entry([Exact(1)], None, (), group=0)
    assert code_of(ei) == C.WRONG_TABLE_TYPE


def test_entry_is_plain_object_with_contract_fields():
    e = Entry(5, DROP, ())
    for f in ("handle", "action", "data", "member", "group", "priority", "match", "packets",
              "bytes", "meter", "last_hit", "timeout_ms"):
        assert hasattr(e, f)


def test_lpm_matches_bruteforce_model():
    import random
    rng = random.Random(3)
    t = Table("t", [KeyField("vrf", "exact", 2), KeyField("dst", "lpm", 16)], ACTS, 500)
    model = {}
    for _ in range(200):
        vrf, pl = rng.randrange(4), rng.randrange(17)
        v = rng.getrandbits(16) & ((0xFFFF << (16 - pl)) & 0xFFFF)
        if (vrf, v, pl) in model:
            continue
        model[(vrf, v, pl)] = t.add_entry([Exact(vrf), Lpm(v, pl)], DROP, ())
    for key in list(model)[::3]:
        t.delete_entry(model.pop(key))
    for _ in range(3000):
        vrf, k = rng.randrange(4), rng.getrandbits(16)
        cands = [(pl, h) for (f, v, pl), h in model.items()
                 if f == vrf and (k & ((0xFFFF << (16 - pl)) & 0xFFFF)) == v]
        hit, e = t.lookup((vrf, k), 1)
        assert hit == bool(cands)
        if cands:
            assert e.handle == max(cands)[1]


def test_range_bruteforce_with_valid_and_exact():
    import random
    rng = random.Random(5)
    t = Table("t", [KeyField("v", "valid", 1), KeyField("r", "range", 8), KeyField("x", "exact", 4)],
              ACTS, 100, match_type="range")
    model = []
    for i in range(60):
        lo = rng.randrange(256)
        hi = rng.randrange(lo, 256)
        valid, x, p = rng.randrange(2), rng.randrange(16), rng.randrange(20)
        h = t.add_entry([Valid(bool(valid)), Range(lo, hi), Exact(x)], DROP, (), priority=p)
        model.append((p, h, valid, lo, hi, x))
    for _ in range(3000):
        key = (rng.randrange(2), rng.randrange(256), rng.randrange(16))
        cands = sorted((p, h) for (p, h, va, lo, hi, x) in model
                       if va == key[0] and lo <= key[1] <= hi and x == key[2])
        hit, e = t.lookup(key, 1)
        assert hit == bool(cands)
        if cands:
            assert e.handle == cands[0][1]


def test_json_key_mask_applies_to_entry_values():
    # p4c emits key[].mask for keys like (h.f & 0xf0): BMv2 masks entry values too
    t = Table("t", [KeyField("h.f", "exact", 8, mask=0xF0)], ACTS, 8)
    t.add_entry([Exact(0x1F)], DROP, ())
    assert t.lookup((0x10,), 1)[0]                 # engine passes the masked packet key
    with pytest.raises(TableError) as ei:
        t.add_entry([Exact(0x10)], DROP, ())
    assert code_of(ei) == C.DUPLICATE_ENTRY


def test_entries_keep_normalised_match_like_bmv2():
    t = Table("t", [KeyField("a", "lpm", 16), KeyField("b", "ternary", 8), KeyField("c", "optional", 8),
                    KeyField("d", "exact", 9), KeyField("v", "valid", 1)], ACTS, 8, match_type="ternary")
    h = t.add_entry([Lpm(0x12FF, 8), Ternary(0xFF, 0x0F), Optional_(None), Exact(0x3FF), Valid(1)],
                    DROP, (), priority=1)
    assert t.get_entry(h).match == [Lpm(0x1200, 8), Ternary(0x0F, 0x0F), Optional_(None),
                                    Exact(0x1FF), Valid(True)]
