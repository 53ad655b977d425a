"""Pure work on batches in worker processes, its results taken in the order of submission.

Normalization's pure part (crosswalk, vocabulary mapping, validation: ``describe``) needs
nothing but the record, so :class:`OrderedPool` runs it in worker processes fed with
batches while the calling process harvests and writes the results to the store, one batch
after the other in the order they were submitted: what the store gets is the same as
working in process (tests/test_parallel.py). Only the batches and the results cross; the
store and its transactions stay in the calling process.

Workers start with the ``forkserver`` method (``spawn`` where there is none), never by
forking the threaded harvest. A worker that dies (a crash in a C library, the OOM killer)
costs its batch a retry one item at a time in a fresh pool; the item that kills a worker
again gets ``on_crash(item)`` as its result, and the run goes on. Workers ignore Ctrl-C: the
calling process stops them (:meth:`OrderedPool.close`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

__all__ = ["OrderedPool", "available_cores"]

Item = TypeVar("Item")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _start(initializer: Callable[..., None] | None, args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the calling process handles Ctrl-C
    if initializer is not None:
        initializer(*args)


class OrderedPool(Generic[Item, Result]):
    """``work(batch, *args)`` of each submitted batch, applied in submission order.

    ``work`` and ``initializer`` must be module-level functions (they are pickled by name).
    :meth:`submit` does the work in process while fewer than ``parallel_after`` items were
    submitted (small jobs pay no process start-up), else in one of ``workers`` processes;
    ``apply(batch, results)`` is called in the calling thread, in submission order, from
    :meth:`submit` (for the batches already done, and to keep at most ``2 * workers`` in
    flight) and from :meth:`drain`. With ``workers <= 1`` everything is done in process.
    """

    def __init__(self, work: Callable[..., list[Result]], *, workers: int,
                 on_crash: Callable[[Item], Result],
                 initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), parallel_after: int = 1000) -> None:
        self.work = work
        self.workers = workers
        self.on_crash = on_crash
        self.parallel_after = parallel_after
        self._init = (initializer, initargs)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[list[Item], tuple[Any, ...], Future[list[Result]]]] = deque()
        self._submitted = 0
        self._closed = False

    def submit(self, batch: list[Item], args: tuple[Any, ...],
               apply: Callable[[list[Item], list[Result]], None],
               local: Callable[[list[Item]], list[Result]]) -> None:
        """Work on ``batch`` (here with ``local``, or in a worker); apply what is done."""
        if not batch:
            return
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        self._submitted += len(batch)
        if self.workers <= 1 or self._submitted <= self.parallel_after:
            self.drain(apply)  # what is in flight goes first: the order is kept
            apply(batch, local(batch))
            return
        self._restart()  # a pool that broke since: its batches in flight are retried alone
        self._pending.append((batch, args, self._executor().submit(self.work, batch, *args)))
        while self._pending and (self._pending[0][2].done()
                                 or len(self._pending) > 2 * self.workers):
            self._apply_first(apply)

    def drain(self, apply: Callable[[list[Item], list[Result]], None]) -> None:
        """Wait for every batch in flight and apply them, in order."""
        while self._pending:
            self._apply_first(apply)

    def forget(self) -> None:
        """Drop the batches in flight unapplied (the caller gave up) and start counting anew."""
        for _batch, _args, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._submitted = 0

    def close(self) -> None:
        """Stop the workers (each finishes the batch in its hands first); no more work."""
        self._closed = True
        self.forget()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_start, initargs=self._init)
        return self._pool

    def _apply_first(self, apply: Callable[[list[Item], list[Result]], None]) -> None:
        batch, args, future = self._pending.popleft()
        try:
            results = future.result()
        except BrokenProcessPool:
            results = self._alone(batch, args)
        apply(batch, results)

    def _alone(self, batch: Sequence[Item], args: tuple[Any, ...]) -> list[Result]:
        """A batch whose worker died, again one item at a time, each in a sound pool."""
        out: list[Result] = []
        for item in batch:
            self._restart()
            try:
                out.extend(self._executor().submit(self.work, [item], *args).result())
            except BrokenProcessPool:
                out.append(self.on_crash(item))
        self._restart()
        return out

    def _restart(self) -> None:
        """A fresh pool in place of a broken one (every future of a broken pool fails)."""
        if self._pool is not None and getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
