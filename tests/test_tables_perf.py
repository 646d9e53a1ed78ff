"""Table.lookup cost must not grow with the number of entries for exact and LPM
tables (no linear scan), and ternary lookups must stay cheap with many entries
sharing a few masks.  Ratios, not absolute times, so a loaded machine does not
make the test flaky; `pytest -s` prints the figures."""
import random
import time
from dataclasses import dataclass, field

from p4switch.tables import Exact, KeyField, Lpm, Table, Ternary


@dataclass
class Act:
    id: int
    name: str
    params: list = field(default_factory=list)


A = Act(1, "a", [])


def per_lookup_ns(table, keys, rounds=30):
    lk = table.lookup
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(rounds):
            for k in keys:
                lk(k, 64)
        best = min(best, time.perf_counter() - t0)
    return best / (rounds * len(keys)) * 1e9


def exact_table(n):
    t = Table("e", [KeyField("k", "exact", 32)], [A], n)
    for i in range(n):
        t.add_entry([Exact(i * 7919 & 0xFFFFFFFF)], A, ())
    return t


def lpm_table(n, rng):
    t = Table("l", [KeyField("d", "lpm", 32)], [A], n, match_type="lpm")
    added = 0
    while added < n:
        pl = rng.choice([8, 16, 24, 32])
        v = rng.getrandbits(32) & ((0xFFFFFFFF << (32 - pl)) & 0xFFFFFFFF)
        if t.find_entry([Lpm(v, pl)]) is None:
            t.add_entry([Lpm(v, pl)], A, ())
            added += 1
    return t


def ternary_table(n, rng):
    t = Table("t", [KeyField("a", "ternary", 32), KeyField("b", "exact", 8)], [A], n,
              match_type="ternary")
    masks = [0xFFFFFFFF, 0xFFFFFF00, 0xFFFF0000, 0xFF000000]
    for i in range(n):
        t.add_entry([Ternary(rng.getrandbits(32), rng.choice(masks)), Exact(rng.randrange(4))], A, (),
                    priority=i)
    return t


def test_exact_and_lpm_do_not_scan():
    rng = random.Random(11)
    keys = [(rng.getrandbits(32),) for _ in range(500)]
    small, big = per_lookup_ns(exact_table(10), keys), per_lookup_ns(exact_table(10000), keys)
    print(f"\nexact: 10 entries {small:.0f} ns, 10000 entries {big:.0f} ns")
    assert big < 5 * small + 500
    small = per_lookup_ns(lpm_table(10, rng), keys)
    big = per_lookup_ns(lpm_table(1000, rng), keys)
    print(f"lpm: 10 prefixes {small:.0f} ns, 1000 prefixes {big:.0f} ns")
    assert big < 5 * small + 1000


def test_ternary_with_few_masks_is_not_linear():
    rng = random.Random(12)
    keys = [(rng.getrandbits(32), rng.randrange(4)) for _ in range(500)]
    small = per_lookup_ns(ternary_table(10, rng), keys)
    big = per_lookup_ns(ternary_table(1000, rng), keys)
    print(f"ternary (4 masks): 10 entries {small:.0f} ns, 1000 entries {big:.0f} ns")
    assert big < 5 * small + 1000
