"""The local address/port pool, partitioned per worker.

Why partitioned: the seed's per-core split. Partition p of W (W a power of
two) owns the lports with (lport & (W-1)) == p on every local address, so a
worker allocates and frees without touching another's state, and the data
plane maps a reply to its owner with one ternary entry per (LIP, partition)
(lport_partition table). Exhaustion is an answer (None, counted), never an
exception.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LocalEndpoint:
    addr: str
    port: int


class PartitionPool:
    """The (LIP, lport) pairs of one partition; O(1) allocate and free."""

    def __init__(self, partition: int, workers: int, addresses: tuple[str, ...],
                 port_range: tuple[int, int]):
        if workers & (workers - 1) or not 0 <= partition < workers:
            raise ValueError(f"partition {partition} of {workers} workers (a power of two)")
        self.partition = partition
        self.workers = workers
        lo, hi = port_range
        first = lo + ((partition - lo) % workers)
        # interleave addresses so consecutive sessions spread over the LIPs
        self._free: deque[LocalEndpoint] = deque(
            LocalEndpoint(a, p) for p in range(first, hi + 1, workers) for a in addresses)
        self._used: set[LocalEndpoint] = set()
        self.capacity = len(self._free)
        self.exhausted = 0

    def allocate(self) -> LocalEndpoint | None:
        if not self._free:
            self.exhausted += 1
            return None
        ep = self._free.popleft()
        self._used.add(ep)
        return ep

    def reserve(self, ep: LocalEndpoint) -> bool:
        """Mark a given endpoint in use (sessions adopted at start-up)."""
        if ep in self._used:
            return False
        try:
            self._free.remove(ep)
        except ValueError:
            return False       # not this partition's, or outside the configured pool
        self._used.add(ep)
        return True

    def free(self, ep: LocalEndpoint) -> bool:
        """Idempotent: freeing twice (a re-notified timeout) is a no-op."""
        if ep not in self._used:
            return False
        self._used.remove(ep)
        self._free.append(ep)
        return True

    @property
    def in_use(self) -> int:
        return len(self._used)

    def ternary(self) -> tuple[int, int]:
        """(value, mask) of this partition's lports, for lport_partition."""
        return self.partition, self.workers - 1


def partition_of(lport: int, workers: int) -> int:
    return lport & (workers - 1)


def make_pools(workers: int, addresses: tuple[str, ...],
               port_range: tuple[int, int]) -> list[PartitionPool]:
    return [PartitionPool(p, workers, addresses, port_range) for p in range(workers)]
