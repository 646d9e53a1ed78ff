"""StreamChannel machinery: per-client outboxes, digest lists, idle timeouts.

Digest semantics (P4Runtime spec, DigestEntry.Config):
* a digest only reaches a controller once a DigestEntry for it was inserted;
* samples are buffered and sent as one DigestList when ``max_list_size`` samples
  are waiting (0 or 1: every sample on its own) or ``max_timeout_ns`` after the first
  of them arrived (0: at once);
* a sample equal to one that is waiting, or that was sent in a list not yet acked
  (and whose ``ack_timeout_ns`` has not expired), is dropped: acking a list, or its ack
  timeout passing, lets the same data be reported again.

Idle timeout: an entry with ``idle_timeout_ns`` T that is not hit for T is reported
(IdleTimeoutNotification) by the next sweep; sweeps run every T/4 (between 2 ms and
250 ms), so a notification arrives between T and about 1.25 T.  An entry that stays
idle is re-notified once every T (counted from the previous notification) until it is
hit, modified (which restarts its timer) or deleted.
"""
from __future__ import annotations

import heapq
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from p4common.proto import p4runtime_pb2

_CLOSE = object()


class Outbox:
    """Responses for one StreamChannel, drained by the gRPC response generator.

    Bounded: a client that stops reading loses PacketIns/digests/notifications
    (counted in `dropped`) instead of growing the switch's memory without limit.
    A `queue.SimpleQueue` (C, lock-free put) rather than `queue.Queue`: `put` runs
    on the packet-loop thread once per PacketIn; the bound is checked with
    `qsize()` (one producer thread at a time per message kind, so it can only
    overshoot by a few messages)."""

    def __init__(self, maxsize: int = 65536) -> None:
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.maxsize = maxsize
        self.closed = False
        self.dropped = 0

    def put(self, msg: Any) -> None:
        if not self.closed:
            if self.q.qsize() >= self.maxsize:
                self.dropped += 1
            else:
                self.q.put(msg)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.q.put(_CLOSE)

    def __iter__(self):
        get = self.q.get
        while True:
            m = get()
            if m is _CLOSE:
                return
            yield m


@dataclass
class _DigestState:
    config: Any
    pending: list = field(default_factory=list)
    pending_set: set = field(default_factory=set)
    first: float = 0.0
    outstanding: dict = field(default_factory=dict)   # list_id -> (samples, sent time)
    cache: set = field(default_factory=set)
    next_list: int = 1


class DigestManager:
    """Buffers digest samples per digest id and emits DigestLists (thread-safe)."""

    def __init__(self, send: Callable[[Any], None], wake: Callable[[], None]):
        self.send = send
        self.wake = wake
        self.lock = threading.Lock()
        self.states: dict[int, _DigestState] = {}
        self.pipeline: Any = None

    def reset(self, pipeline: Any) -> None:
        with self.lock:
            self.states.clear()
            self.pipeline = pipeline

    def configure(self, digest_id: int, config: Any | None) -> None:
        with self.lock:
            if config is None:
                self.states.pop(digest_id, None)
            elif digest_id in self.states:
                self.states[digest_id].config = config
            else:
                self.states[digest_id] = _DigestState(config)

    def config(self, digest_id: int) -> Any | None:
        st = self.states.get(digest_id)
        return None if st is None else st.config

    def add(self, digests: list) -> None:
        """Samples from the data path (engine.Digest objects)."""
        pl = self.pipeline
        if pl is None:
            return
        now = time.monotonic()
        out = []
        new_deadline = False   # wake the timer only for a new deadline: a list starts waiting, or one awaits its ack
        with self.lock:
            for d in digests:
                info = pl.digest_by_name.get(d.name)
                if info is None:
                    continue
                st = self.states.get(info.preamble.id)
                if st is None:
                    continue
                s = tuple(d.values)
                if s in st.pending_set or s in st.cache:
                    continue
                if not st.pending:
                    st.first = now
                    new_deadline = True
                st.pending.append(s)
                st.pending_set.add(s)
                cfg = st.config
                if len(st.pending) >= max(1, cfg.max_list_size) or cfg.max_timeout_ns <= 0:
                    out.append(self._flush(info, st, now))
        for m in out:
            self.send(m)
        if new_deadline or out:
            self.wake()

    def _flush(self, info: Any, st: _DigestState, now: float) -> Any:
        lst = p4runtime_pb2.DigestList(digest_id=info.preamble.id, list_id=st.next_list,
                                       timestamp=time.time_ns())
        st.next_list += 1
        for s in st.pending:
            lst.data.append(self.pipeline.digest_data(info, s))
        st.outstanding[lst.list_id] = (list(st.pending), now)
        st.cache.update(st.pending)
        st.pending, st.pending_set = [], set()
        return lst

    def ack(self, digest_id: int, list_id: int) -> None:
        with self.lock:
            st = self.states.get(digest_id)
            if st is None:
                return
            hit = st.outstanding.pop(list_id, None)
            if hit is not None:
                st.cache.difference_update(hit[0])

    def tick(self) -> float | None:
        """Flush due lists and expire acks; returns seconds to the next deadline."""
        now = time.monotonic()
        out = []
        nxt: float | None = None
        with self.lock:
            pl = self.pipeline
            for did, st in self.states.items():
                cfg = st.config
                if st.pending:
                    due = st.first + cfg.max_timeout_ns / 1e9
                    if now >= due:
                        out.append(self._flush(pl.digests[did], st, now))
                    else:
                        nxt = due - now if nxt is None else min(nxt, due - now)
                if st.outstanding and cfg.ack_timeout_ns > 0:
                    for lid, (samples, sent) in list(st.outstanding.items()):
                        due = sent + cfg.ack_timeout_ns / 1e9
                        if now >= due:
                            del st.outstanding[lid]
                            st.cache.difference_update(samples)
                        else:
                            nxt = due - now if nxt is None else min(nxt, due - now)
        for m in out:
            self.send(m)
        return nxt


def idle_sweep(pipeline: Any, now: float | None = None) -> tuple[list, float | None]:
    """(entries to notify, seconds to the next sweep).  Runs on the data-path thread.

    Visits only heap items that are due (``Pipeline.idle_heap``): an item whose entry
    was hit since is pushed back to ``last_hit + T`` (lazy re-check: the data path
    updates ``last_hit`` without telling anyone); a deleted or re-armed entry's item
    is dropped.  The next sweep is due at the earliest deadline, but at least every
    T/4 (2 ms .. 250 ms) of the shortest timeout it has seen, as before."""
    if now is None:
        now = time.monotonic()
    heap = pipeline.idle_heap
    metas = pipeline.meta
    due_entries = []
    period: float | None = None
    while heap and heap[0][0] <= now:
        _, seq, key, meta, ti = heapq.heappop(heap)
        if meta.watch != seq or metas.get(key) is not meta:
            continue                                  # deleted, modified or re-armed
        try:
            e = ti.sw.get_entry(key[1])
        except Exception:  # noqa: BLE001, S112 - stale handle: the runtime CLI deleted it
            continue
        t = meta.idle_ns / 1e9
        p = min(0.25, max(0.002, t / 4))
        period = p if period is None else min(period, p)
        if now - e.last_hit >= t and now - max(meta.notified, e.last_hit) >= t:
            meta.notified = now
            due_entries.append(pipeline.read_entry(ti, e))
            nxt = now + t
        else:
            nxt = max(meta.notified, e.last_hit) + t
        heapq.heappush(heap, (nxt, seq, key, meta, ti))
    if heap:
        wait = max(0.002, heap[0][0] - now)
        period = wait if period is None else min(period, wait)
        period = min(period, 0.25)
    return due_entries, period

