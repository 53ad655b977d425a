"""Pure work on batches in worker processes, its results taken in the order of submission.

Normalization's pure part (crosswalk, vocabulary mapping, validation: ``describe``) needs
nothing but the record, so :class:`OrderedPool` runs it in worker processes fed with
batches while the calling process harvests and writes the results to the store, one batch
after the other in the order they were submitted: what the store gets is the same as
working in process (tests/test_parallel.py). Only the batches and the results cross
(pickled, over the workers' stdin and stdout); the store and its transactions stay in the
calling process.

The calling process pickles and unpickles in the thread that submits and applies: its pipe
threads only move frames of bytes (a length, then the pickle), with the GIL released while
they wait on the pipe. Unpickling a batch's answers in the reader thread held the GIL for
tens of milliseconds at a time, and the writing thread, which gives the GIL up for every
SQL statement, waited that long to get it back: a dissemination's INSERT took 217 us in the
harvest, against 28 us alone.

Each worker is a fresh interpreter (running :func:`_serve`), not a
``multiprocessing`` child: those re-run the caller's main script, which breaks a library
user's script without a ``__main__`` guard, and forking the threaded harvest is unsafe. A
worker that dies (a crash in a C library, the OOM killer) costs its batches a retry one item
at a time in a fresh worker; the item that kills a worker again gets ``on_crash(item)`` as
its result, and the run goes on. Workers ignore Ctrl-C: the calling process stops them
(:meth:`OrderedPool.close`), and a worker whose stdin closes (its caller gone) exits.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import IO, Any, Generic, TypeVar

__all__ = ["OrderedPool", "available_cores", "in_worker"]

Item = TypeVar("Item")
Result = TypeVar("Result")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_IN_WORKER = False


def in_worker() -> bool:
    """Whether this process is a worker of an :class:`OrderedPool`."""
    return _IN_WORKER


def _name(function: Callable[..., Any]) -> tuple[str, str]:
    return function.__module__, function.__qualname__


class _Died(Exception):
    """The worker holding a batch exited before answering it."""


_LENGTH = struct.Struct("<Q")  # each frame: its length, then a pickle of that many bytes


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def _read_frame(stream: IO[bytes]) -> bytes:
    """The next frame's pickle; :class:`EOFError` at the end of the stream (or a torn frame)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


class _Worker:
    """One worker process, with a thread writing its batches and one reading its answers:
    the caller never waits on a full pipe (a batch is larger than a pipe holds), and
    neither side can block the other."""

    def __init__(self, init: tuple[tuple[str, str] | None, tuple[Any, ...]]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.answers: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        threading.Thread(target=self._write, args=(self.proc.stdin,), daemon=True,
                         name="normalize-worker-writer").start()
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True,
                         name="normalize-worker-reader").start()
        self.send(init)

    def send(self, message: Any) -> None:
        self._outbox.put(_frame(message))  # pickled here, by the caller's thread

    def _write(self, stdin: IO[bytes]) -> None:
        try:
            while (frame := self._outbox.get()) is not _CLOSE:
                stdin.write(frame)
                stdin.flush()
        except OSError:
            pass  # it died: the reader says so to whoever waits for its answer
        finally:
            try:
                stdin.close()  # the worker's loop ends at EOF
            except OSError:
                pass

    def _read(self, out: IO[bytes]) -> None:
        while True:
            try:
                self.answers.put((True, _read_frame(out)))
            except Exception:  # EOF or a torn answer: the worker is gone
                self.answers.put((False, None))
                out.close()
                return

    def answer(self) -> Any:
        ok, frame = self.answers.get()
        if not ok:
            self.answers.put((False, None))  # every later answer fails alike
            raise _Died
        try:
            value = pickle.loads(frame)  # here, in the caller's thread (module docstring)
        except Exception as err:  # a torn answer: as if the worker had died
            self.answers.put((False, None))
            raise _Died from err
        if isinstance(value, BaseException):
            raise value
        return value

    def stop(self, *, now: bool = False) -> None:
        """End the worker: at once (``now``; its work is pure, nothing is lost but the
        answers), or once it has answered what it was sent."""
        if now:
            self.proc.kill()
        self._outbox.put(_CLOSE)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_CLOSE = object()  # what tells a worker's writer thread to close its stdin


class OrderedPool(Generic[Item, Result]):
    """``work(batch, *args)`` of each submitted batch, applied in submission order.

    ``work`` and ``initializer`` must be module-level functions (workers import them by
    name). :meth:`submit` does the work in process while fewer than ``parallel_after`` items
    were submitted (small jobs pay no process start-up), else in one of ``workers``
    processes, in turn; ``apply(batch, results)`` is called in the calling thread, in
    submission order, from :meth:`submit` (for the batches already answered, and to keep at
    most ``2 * workers`` in flight) and from :meth:`drain`. ``workers <= 1``: all in process.
    """

    def __init__(self, work: Callable[..., list[Result]], *, workers: int,
                 on_crash: Callable[[Item], Result],
                 initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), parallel_after: int = 1000) -> None:
        self.work = work
        self.workers = workers
        self.on_crash = on_crash
        self.parallel_after = parallel_after
        self._init = (None if initializer is None else _name(initializer), initargs)
        self._procs: list[_Worker] = []
        self._pending: deque[tuple[list[Item], tuple[Any, ...], _Worker]] = deque()
        self._next = 0
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
        worker = self._worker()
        worker.send((_name(self.work), batch, args))
        self._pending.append((batch, args, worker))
        while self._pending and (len(self._pending) > 2 * self.workers
                                 or not self._pending[0][2].answers.empty()):
            self._apply_first(apply)

    def drain(self, apply: Callable[[list[Item], list[Result]], None]) -> None:
        """Wait for every batch in flight and apply them, in order."""
        while self._pending:
            self._apply_first(apply)

    def forget(self) -> None:
        """Drop the batches in flight unapplied (the caller gave up) and start counting anew;
        the workers that hold them are stopped, so no stale answer is read later."""
        if self._pending:
            for worker in {id(w): w for _b, _a, w in self._pending}.values():
                self._retire(worker)
            self._pending.clear()
        self._submitted = 0

    def close(self) -> None:
        """Stop the workers (each finishes the batch in its hands first); no more work."""
        self._closed = True
        self.forget()
        for worker in self._procs:
            worker.stop()
        self._procs.clear()

    def _worker(self) -> _Worker:
        """The next worker in turn, started when there are fewer than ``workers``."""
        self._next += 1
        if len(self._procs) < self.workers:
            self._procs.append(_Worker(self._init))
            return self._procs[-1]
        return self._procs[self._next % len(self._procs)]

    def _retire(self, worker: _Worker) -> None:
        if worker in self._procs:
            self._procs.remove(worker)
        worker.stop(now=True)

    def _apply_first(self, apply: Callable[[list[Item], list[Result]], None]) -> None:
        batch, args, worker = self._pending.popleft()
        try:
            results: list[Result] = worker.answer()
        except _Died:
            self._retire(worker)
            results = self._alone(batch, args)
        apply(batch, results)

    def _alone(self, batch: Sequence[Item], args: tuple[Any, ...]) -> list[Result]:
        """A batch whose worker died, again one item at a time, in a worker of its own."""
        out: list[Result] = []
        worker: _Worker | None = None
        for item in batch:
            worker = worker or _Worker(self._init)
            worker.send((_name(self.work), [item], args))
            try:
                out.extend(worker.answer())
            except _Died:
                worker.stop()
                worker = None
                out.append(self.on_crash(item))
        if worker is not None:
            worker.stop()
        return out


def _function(name: tuple[str, str]) -> Callable[..., Any]:
    module, qualname = name
    function: Callable[..., Any] = getattr(import_module(module), qualname)
    return function


def _serve() -> None:
    """A worker's life: the initializer, then one answer per batch until stdin ends."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the calling process handles Ctrl-C
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not tear an answer
    try:
        initializer, initargs = pickle.loads(_read_frame(stdin))
    except EOFError:
        return
    if initializer is not None:
        _function(initializer)(*initargs)
    while True:
        try:
            name, batch, args = pickle.loads(_read_frame(stdin))
        except EOFError:
            return
        try:
            answer: Any = _function(name)(batch, *args)
        except Exception as err:  # a bug: the caller raises it
            answer = err
        try:
            frame = _frame(answer)
        except Exception as err:  # an answer that cannot be pickled: the caller raises it
            frame = _frame(RuntimeError(f"a worker's answer cannot be pickled: {err!r}"))
        stdout.write(frame)
        stdout.flush()

