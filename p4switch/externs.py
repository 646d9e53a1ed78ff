"""Counter, meter and register arrays with BMv2 semantics.

Data path methods (``count``, ``execute``, ``read``/``write`` of registers via
``cells``) follow BMv2 for out-of-range indexes as the engine needs (the
engine checks bounds and counts them in ``Switch.stats``); the control-plane
methods raise :class:`RuntimeApiError` with the array name and the bound.

Meters are BMv2's two-rate three-colour markers (``src/bm_sim/meters.cpp``):
colour-blind RFC 2698, rates in units (packets or bytes) per microsecond,
bursts in units; tokens are computed from the time since the meter was
created (not since the last packet), exactly as BMv2 does, and an
unconfigured meter returns GREEN (0).
"""
from __future__ import annotations

import time
from typing import Sequence

from .errors import RuntimeApiError

__all__ = ["CounterArray", "MeterCell", "MeterArray", "RegisterArray",
           "GREEN", "YELLOW", "RED"]

GREEN, YELLOW, RED = 0, 1, 2


class CounterArray:
    """An indirect (or direct) counter array of (packets, bytes) cells.

    For a direct counter (`is_direct`), `binding` names the table whose
    entries hold the cells; the array itself then stays empty and the
    control plane reads the table entry (``Table.read_counters``).
    """

    def __init__(self, name: str, size: int, is_direct: bool = False,
                 binding: str | None = None, type: str = "packets_and_bytes"):
        self.name = name
        self.size = int(size)
        self.is_direct = is_direct
        self.binding = binding
        self.type = type
        self.packets = [0] * self.size
        self.bytes = [0] * self.size

    def _check(self, i) -> int:
        if not isinstance(i, int) or not 0 <= i < self.size:
            raise RuntimeApiError(f"counter {self.name}: index {i!r} out of range 0..{self.size - 1}")
        return i

    def count(self, i: int, nbytes: int) -> bool:
        """Data path: add one packet of `nbytes`; returns False (no-op) when out of range."""
        if 0 <= i < self.size:
            self.packets[i] += 1
            self.bytes[i] += nbytes
            return True
        return False

    def read(self, i: int) -> tuple[int, int]:
        i = self._check(i)
        return self.packets[i], self.bytes[i]

    def write(self, i: int, pkts: int, nbytes: int) -> None:
        i = self._check(i)
        if pkts < 0 or nbytes < 0:
            raise RuntimeApiError(f"counter {self.name}: values must be non-negative")
        self.packets[i] = int(pkts)
        self.bytes[i] = int(nbytes)

    def reset(self) -> None:
        self.packets = [0] * self.size
        self.bytes = [0] * self.size

    def __repr__(self) -> str:
        return f"<CounterArray {self.name}[{self.size}]>"


class MeterCell:
    """One BMv2 ``Meter``: N rates (2 for a trTCM), colour-blind.

    ``_rates`` holds BMv2's internal order: highest colour first (PIR->RED,
    then CIR->YELLOW); each item is ``[info_rate, burst, tokens, tokens_last, colour]``.
    """

    __slots__ = ("is_packets", "rate_count", "_rates", "configured", "time_init")

    def __init__(self, is_packets: bool, rate_count: int = 2, now: float | None = None):
        self.is_packets = is_packets
        self.rate_count = rate_count
        self._rates: list[list] = []
        self.configured = False
        self.time_init = time.monotonic() if now is None else now

    def set_rates(self, rates: Sequence[tuple[float, int]]) -> None:
        """Rates from smallest to largest: ``[(CIR, CBS), (PIR, PBS)]``, per microsecond."""
        rates = list(rates)
        if len(rates) != self.rate_count:
            raise RuntimeApiError(f"expected {self.rate_count} (rate, burst) pairs, got {len(rates)}")
        new = []
        prev = None
        for idx, item in enumerate(rates):
            try:
                rate, burst = item
                rate = float(rate)
                burst = int(burst)
            except (TypeError, ValueError):
                raise RuntimeApiError(f"bad (rate, burst) pair {item!r}") from None
            if rate < 0 or burst < 0:
                raise RuntimeApiError(f"rate and burst must be non-negative, got {item!r}")
            if prev is not None and prev > rate:
                raise RuntimeApiError("meter rates must be given in increasing order (CIR <= PIR)")
            prev = rate
            new.append([rate, burst, burst, 0, idx + 1])
        new.reverse()
        self._rates = new
        self.configured = True

    def get_rates(self) -> list[tuple[float, int]]:
        """``[(CIR, CBS), (PIR, PBS)]``, or ``[]`` when not configured."""
        if not self.configured:
            return []
        return [(r[0], r[1]) for r in reversed(self._rates)]

    def reset_rates(self) -> None:
        self._rates = []
        self.configured = False

    def execute(self, nbytes: int, now: float | None = None) -> int:
        """Colour of a packet of `nbytes` (0 GREEN, 1 YELLOW, 2 RED)."""
        if not self.configured:
            return GREEN
        if now is None:
            now = time.monotonic()
        # whole microseconds since creation, like BMv2's duration_cast (rounded
        # to the nanosecond first so float noise does not lose a microsecond)
        micros = round((now - self.time_init) * 1_000_000_000) // 1000
        if micros < 0:
            micros = 0
        size = 1 if self.is_packets else nbytes
        colour = GREEN
        for r in self._rates:
            since_init = int(micros * r[0])
            new_tokens = since_init - r[3]
            if new_tokens < 0:
                new_tokens = 0
            r[3] = since_init
            tokens = r[2] + new_tokens
            if tokens > r[1]:
                tokens = r[1]
            if tokens < size:
                r[2] = tokens
                colour = r[4]
                break
            r[2] = tokens - size
        return colour


class MeterArray:
    """An array of `MeterCell` (indirect ``meter`` or a table's direct meter)."""

    def __init__(self, name: str, size: int, type: str = "packets", rate_count: int = 2,
                 is_direct: bool = False, binding: str | None = None):
        if type not in ("packets", "bytes"):
            raise ValueError(f"meter {name}: type must be packets or bytes, got {type!r}")
        self.name = name
        self.size = int(size)
        self.type = type
        self.rate_count = rate_count
        self.is_direct = is_direct
        self.binding = binding
        now = time.monotonic()
        self.cells = [MeterCell(type == "packets", rate_count, now) for _ in range(self.size)]

    def _check(self, i) -> int:
        if not isinstance(i, int) or not 0 <= i < self.size:
            raise RuntimeApiError(f"meter {self.name}: index {i!r} out of range 0..{self.size - 1}")
        return i

    def cell(self, i: int) -> MeterCell:
        return self.cells[self._check(i)]

    def execute(self, i: int, nbytes: int, now: float | None = None) -> int:
        """Data path; an out-of-range index yields GREEN."""
        if 0 <= i < self.size:
            return self.cells[i].execute(nbytes, now)
        return GREEN

    def set_rates(self, i: int, rates: Sequence[tuple[float, int]]) -> None:
        try:
            self.cell(i).set_rates(rates)
        except RuntimeApiError as e:
            if str(e).startswith(f"meter {self.name}"):
                raise
            raise RuntimeApiError(f"meter {self.name}[{i}]: {e}") from None

    def set_all_rates(self, rates: Sequence[tuple[float, int]]) -> None:
        """``meter_array_set_rates``: the same rates for every cell."""
        for i in range(self.size):
            self.set_rates(i, rates)

    def get_rates(self, i: int) -> list[tuple[float, int]]:
        return self.cell(i).get_rates()

    def reset(self) -> None:
        for c in self.cells:
            c.reset_rates()

    def __repr__(self) -> str:
        return f"<MeterArray {self.name}[{self.size}] {self.type}>"


class RegisterArray:
    """A register array; cells are unsigned ints of `bitwidth` bits."""

    def __init__(self, name: str, size: int, bitwidth: int):
        self.name = name
        self.size = int(size)
        self.bitwidth = int(bitwidth)
        self.mask = (1 << self.bitwidth) - 1
        self.cells = [0] * self.size

    def _check(self, i) -> int:
        if not isinstance(i, int) or not 0 <= i < self.size:
            raise RuntimeApiError(f"register {self.name}: index {i!r} out of range 0..{self.size - 1}")
        return i

    def read(self, i: int) -> int:
        return self.cells[self._check(i)]

    def write(self, i: int, v: int) -> None:
        i = self._check(i)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > self.mask:
            raise RuntimeApiError(f"register {self.name}: value {v!r} does not fit in {self.bitwidth} bits")
        self.cells[i] = v

    def dp_read(self, i: int) -> int:
        """Data path read: out of range yields 0 (BMv2)."""
        return self.cells[i] if 0 <= i < self.size else 0

    def dp_write(self, i: int, v: int) -> bool:
        """Data path write: masked to the width; out of range is ignored (returns False)."""
        if 0 <= i < self.size:
            self.cells[i] = v & self.mask
            return True
        return False

    def reset(self) -> None:
        self.cells = [0] * self.size

    def __repr__(self) -> str:
        return f"<RegisterArray {self.name}[{self.size}] bit<{self.bitwidth}>>"
