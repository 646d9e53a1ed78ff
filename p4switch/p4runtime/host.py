"""Where a switch lives: the packet loop's thread owns the Switch, and the
P4Runtime server hands it work through :meth:`SwitchHost.call`.

Why not a lock: the data path runs packets in batches on one thread
(ports.PacketLoop); control-plane jobs are queued and run by that same thread
between two batches (an eventfd registered with the loop wakes it), so table
writes are serialised with packet processing and the per-packet path pays
nothing.  A batch of writes runs as one job: no packet sees half of it
(DATAPLANE_ATOMIC).
"""
from __future__ import annotations

import collections
import os
import threading
from concurrent.futures import Future
from typing import Any, Callable

from p4switch.ports import CpuPort, MemoryPort, PacketLoop


class SwitchHost:
    """A Switch slot (``dataplane.switch``), its loop, and the optional CPU port.

    `dataplane` is any object with a ``switch`` attribute and ``install(switch)``
    (p4switch.cli.Dataplane, or :class:`SimpleDataplane`).  `make_switch(json_bytes)`
    builds a Switch the way the command line would (drop port, CPU port, logging).
    """

    def __init__(self, loop: PacketLoop, dataplane: Any, make_switch: Callable[[bytes], Any],
                 cpu_port: CpuPort | None = None):
        self.loop = loop
        self.dataplane = dataplane
        self.make_switch = make_switch
        self.cpu_port = cpu_port
        self._jobs: collections.deque = collections.deque()
        self._efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._thread: threading.Thread | None = None
        self.loop_thread_id: int | None = None
        loop.add_reader(self._efd, self._run_jobs)
        self.after_batch: list[Callable[[], None]] = []
        inner = loop.process

        def process(port: int, data: bytes):
            out = inner(port, data)
            sw = dataplane.switch
            if sw is not None and sw.digests:
                for cb in self.after_batch:
                    cb()
            return out
        loop.process = process

    @property
    def switch(self) -> Any:
        return self.dataplane.switch

    def install(self, switch: Any) -> None:
        self.dataplane.install(switch)

    # -- jobs -----------------------------------------------------------------
    def _run_jobs(self) -> None:
        self.loop_thread_id = threading.get_ident()
        try:
            os.eventfd_read(self._efd)
        except BlockingIOError:
            pass
        while self._jobs:
            fn, fut = self._jobs.popleft()
            if fut is not None and not fut.set_running_or_notify_cancel():
                continue
            try:
                r = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                if fut is not None:
                    fut.set_exception(e)
                continue
            if fut is not None:
                fut.set_result(r)

    def submit(self, fn: Callable[[], Any]) -> Future:
        fut: Future = Future()
        if threading.get_ident() == self.loop_thread_id:
            try:
                fut.set_result(fn())
            except BaseException as e:  # noqa: BLE001
                fut.set_exception(e)
            return fut
        self._jobs.append((fn, fut))
        os.eventfd_write(self._efd, 1)
        return fut

    def call(self, fn: Callable[[], Any], timeout: float | None = 60.0) -> Any:
        """Run `fn()` on the data-path thread and return its result (or raise).

        Same semantics as ``submit(fn).result(timeout)`` (on timeout the job still
        runs later), but the hand-off is one pre-acquired lock instead of a Future's
        condition variable: this is on every Write/Read RPC's path."""
        if threading.get_ident() == self.loop_thread_id:
            return fn()
        job = _Job(fn)
        self._jobs.append((fn, job))
        os.eventfd_write(self._efd, 1)
        if not job.done.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError(f"the data-path thread did not run the job within {timeout} s")
        if job.exc is not None:
            raise job.exc
        return job.result

    def inject(self, frame: bytes) -> None:
        """A PacketOut frame into the CPU port (thread-safe: the loop picks it up)."""
        if self.cpu_port is None:
            raise RuntimeError("no CPU port")
        self.cpu_port.inject(frame)

    # -- running the loop on a thread (in-process switches, tests) ----------------
    def start(self) -> "SwitchHost":
        def run() -> None:
            self.loop_thread_id = threading.get_ident()
            self.loop.run()
        self._thread = threading.Thread(target=run, name="p4sw-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.loop.stop()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def close(self) -> None:
        self.loop.remove_reader(self._efd)
        if self._efd >= 0:
            os.close(self._efd)
            self._efd = -1


class _Job:
    """A `call` in flight: `done` is held until the loop thread has run it.
    Duck-types the three Future methods `_run_jobs` uses."""

    __slots__ = ("fn", "done", "result", "exc")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = threading.Lock()
        self.done.acquire()
        self.result: Any = None
        self.exc: BaseException | None = None

    def set_running_or_notify_cancel(self) -> bool:
        return True

    def set_result(self, r: Any) -> None:
        self.result = r
        self.done.release()

    def set_exception(self, e: BaseException) -> None:
        self.exc = e
        self.done.release()


class SimpleDataplane:
    """The minimal dataplane for in-process hosts: one Switch slot."""

    def __init__(self) -> None:
        self.switch: Any = None

    def install(self, switch: Any) -> None:
        self.switch = switch

    def process(self, port: int, data: bytes):
        sw = self.switch
        return [] if sw is None else sw.process_packet(port, data)


def memory_host(ports: list[int], cpu_port: int | None = 64, drop_port: int = 511) -> tuple[SwitchHost, dict[int, MemoryPort]]:
    """A host with in-memory ports (tests, benchmarks, several switches in one process)."""
    from p4switch.switch import Switch
    dp = SimpleDataplane()
    mem = {p: MemoryPort(p) for p in ports}
    all_ports: list = list(mem.values())
    cpu = None
    if cpu_port is not None:
        cpu = CpuPort(cpu_port)
        all_ports.append(cpu)
    loop = PacketLoop(dp.process, all_ports)
    host = SwitchHost(loop, dp, lambda js: Switch.from_json(js, drop_port=drop_port, cpu_port=cpu_port),
                      cpu)
    return host, mem
