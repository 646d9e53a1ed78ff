"""Real-server selection for new connections.

Two schedulers, chosen per service:

* `SmoothWrr` (scheduler = "wrr"): smooth weighted round robin (the nginx
  algorithm): deterministic, exact proportions over every window of
  sum(weights) picks, and interleaved (weights 5,1,1 give a a b a c a a, not
  a a a a a b c). Weight 0 servers get nothing: that is how a server drains.
* `Maglev` (scheduler = "maglev"): Maglev consistent hashing (Eisenbud et al.,
  NSDI 2016). A prime-sized lookup table is filled from per-server
  permutations, weighted by repeating a server's turn; a flow's 5-tuple hash
  indexes it. Adding or removing one server moves about 1/N of the flows. The
  same table could be written into the data plane for a data-plane-created
  session path; the controller needs it either way.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass


class NoServerError(LookupError):
    """No real server with a positive weight: the new connection is refused."""


@dataclass
class _WrrState:
    weight: int
    current: int = 0


class SmoothWrr:
    def __init__(self, weights: dict[str, int] | None = None):
        self._state: dict[str, _WrrState] = {}
        self.update(weights or {})

    def update(self, weights: dict[str, int]) -> None:
        """New weights; servers keep their position (no burst on re-weight)."""
        old = self._state
        self._state = {k: _WrrState(w, old[k].current if k in old else 0)
                       for k, w in weights.items()}

    def pick(self, flow_key: bytes = b"") -> str:
        total = 0
        best: tuple[str, _WrrState] | None = None
        for name, st in self._state.items():
            if st.weight <= 0:
                continue
            st.current += st.weight
            total += st.weight
            if best is None or st.current > best[1].current:
                best = (name, st)
        if best is None:
            raise NoServerError("no real server with a positive weight")
        best[1].current -= total
        return best[0]


def _h(data: bytes, seed: int) -> int:
    return zlib.crc32(data, seed) & 0xFFFFFFFF


class Maglev:
    def __init__(self, weights: dict[str, int] | None = None, table_size: int = 65537):
        self.size = table_size
        self.table: list[str | None] = [None] * table_size
        self.update(weights or {})

    def update(self, weights: dict[str, int]) -> None:
        self.table = build_maglev_table(weights, self.size)

    def pick(self, flow_key: bytes) -> str:
        name = self.table[_h(flow_key, 0x5EED) % self.size]
        if name is None:
            raise NoServerError("no real server with a positive weight")
        return name


def build_maglev_table(weights: dict[str, int], size: int) -> list[str | None]:
    """Maglev population with weights: each round, a server takes as many
    slots as its weight relative to the largest (at least one turn in every
    max-weight round of turns). Deterministic for a given set of names."""
    names = sorted(n for n, w in weights.items() if w > 0)
    table: list[str | None] = [None] * size
    if not names:
        return table
    offsets, skips = [], []
    for n in names:
        b = n.encode()
        offsets.append(_h(b, 0xA1) % size)
        skips.append(_h(b, 0xB2) % (size - 1) + 1)
    wmax = max(weights[n] for n in names)
    credit = [0] * len(names)
    nxt = [0] * len(names)
    filled = 0
    while True:
        for i, n in enumerate(names):
            credit[i] += weights[n]
            if credit[i] < wmax:
                continue
            credit[i] -= wmax
            off, skip, j = offsets[i], skips[i], nxt[i]
            c = (off + j * skip) % size
            while table[c] is not None:
                j += 1
                c = (off + j * skip) % size
            table[c] = n
            nxt[i] = j + 1
            filled += 1
            if filled == size:
                return table


def make_scheduler(kind: str, weights: dict[str, int], table_size: int = 65537):
    if kind == "maglev":
        return Maglev(weights, table_size)
    return SmoothWrr(weights)
