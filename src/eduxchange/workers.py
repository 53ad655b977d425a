"""Harvest workers: several processes, on one machine or many, sharing one alliance.

``eduxchange harvest --workers N`` and ``eduxchange worker`` call these. Each member is
harvested by one worker at a time, under a *lease* kept in the catalogue store
(:class:`~eduxchange.store.base.LeaseStore`): a worker takes a free member's lease, renews it
before every page it commits and from a heartbeat thread in between, and releases it when
the member's harvest ends. A worker that dies (``SIGKILL``, a machine gone) stops renewing;
once its lease has expired another worker takes the member over, and the harvester resumes
from the last page the dead one committed (pages are committed with their resume point), so
nothing is lost or stored twice. A worker that finds its lease taken (it was frozen longer
than the lease's time to live) stops before its next write
(:class:`~eduxchange.core.errors.LeaseLost`); the write itself is *fenced* too (every page
commit carries the lease, :class:`~eduxchange.store.base.LeaseFence`, checked in the same
transaction), so a worker frozen between its check and its commit still writes nothing once
another worker took the member over.

A worker asked to stop (``stop``, set by ``SIGINT``/``SIGTERM`` in the CLI) takes no new
member, stops each harvest before its next page (the run ends ``interrupted``), and releases
its members' leases unfinished, so another worker takes them over at once and resumes from
the last committed page. A harvest still busy after :data:`STOP_GRACE` seconds (a slow
request), or any once ``abort`` is set (a second signal), is abandoned: its lease is released
and, the commits being fenced, that harvest can write nothing more.

Normalization (docs/normalization.md, "Harvest workers"): one worker at a time normalizes,
under the store-wide lease :data:`NORMALIZE_LEASE`, so catalogue transactions of two members
never interleave. Within one round (``harvest --workers``: every selected member once) the
members are normalized in :func:`~eduxchange.catalog.normalization.normalization_order`, a
member only once every member before it has been harvested in the round, by whichever
worker gets there first: the catalogue and its IRIs are those a one-process
``eduxchange harvest`` makes, however the harvests are spread and whichever ends first.

The one entry point for other loops (a continuous worker with per-member schedules) is
:func:`next_member`; hold what it returns with the worker's :class:`Heartbeat`
(``with beat.hold(member_id) as lease``, passing ``check=lease.check`` and
``fence=lease.fence`` to the :class:`~eduxchange.harvesting.harvester.Harvester`), then
:func:`normalize_pending`.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
import functools
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .catalog.normalization import Catalog, NormalizeResult, normalization_order
from .core.config import Config, MemberConfig
from .core.errors import EduxchangeError, HarvestStopped, LeaseLost, StoreError
from .core.models import HarvestResult
from .harvesting.harvester import Harvester, ProgressCallback, ProgressEvent
from .pipeline import (_normalize_guarded, _normalize_member, open_store, select_members,
                       store_exists)
from .store.base import CatalogStore, LeaseFence, LeaseStore

__all__ = [
    "LEASE_TTL",
    "NORMALIZE_LEASE",
    "STOP_GRACE",
    "Heartbeat",
    "Lease",
    "Leased",
    "harvest_with_workers",
    "held_leases",
    "new_worker_id",
    "next_member",
    "normalize_pending",
    "work",
]

log = logging.getLogger(__name__)

#: Seconds a lease lasts without renewal: how long a dead worker's member waits for a taker.
LEASE_TTL = 60.0
#: The store-wide lease a worker holds while it normalizes (not a member id: those never
#: start with ':').
NORMALIZE_LEASE = ":normalize"
#: Longest wait between two looks at leases others hold (a round's last members).
_POLL = 1.0
#: Seconds a stopping worker waits for its harvests to reach their next page before it
#: abandons them (releasing their leases; their writes are fenced).
STOP_GRACE = 10.0


def new_worker_id() -> str:
    """A worker's name in the leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Leased:
    """A member :func:`next_member` leased; ``took_over`` when another worker's lease on it
    had expired (that worker died or froze mid-member)."""

    member_id: str
    took_over: bool = False


def next_member(store: LeaseStore, worker_id: str, due: Sequence[str], *,
                ttl_s: float = LEASE_TTL, finished_since: float | None = None) -> Leased | None:
    """Lease the first member of ``due`` that no live lease holds; None when none is free.

    ``due`` is in the caller's order of preference (members whose schedule says they are
    due, say). With ``finished_since`` (a :meth:`~LeaseStore.lease_clock` time), a member
    whose harvest ended at or after it is not taken again: a round that harvests each
    member once. The caller holds the result with :class:`Lease`.
    """
    known = {lease.name: lease for lease in store.leases()}
    for member_id in due:
        seen = known.get(member_id)
        if seen is not None and (seen.live or (finished_since is not None
                                               and seen.finished_at is not None
                                               and seen.finished_at >= finished_since)):
            continue  # looks taken; skip a write transaction for it
        if store.acquire_lease(member_id, worker_id, ttl_s,
                               unless_finished_since=finished_since):
            return Leased(member_id, took_over=seen is not None and seen.worker_id is not None)
    return None


class Heartbeat:
    """One thread renewing, every ``ttl_s / 3`` seconds, every lease a worker holds.

    One per worker (and store), however many leases it takes in its life: a thread per
    lease would open a store connection per lease. Leases are held with :meth:`hold`.
    """

    def __init__(self, store: LeaseStore, worker_id: str, *, ttl_s: float = LEASE_TTL) -> None:
        self.store, self.worker_id, self.ttl_s = store, worker_id, ttl_s
        self._held: dict[str, Lease] = {}
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"lease heartbeat {worker_id}")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def hold(self, name: str) -> Lease:
        """The lease ``name`` (already taken by this worker), renewed until its block ends."""
        return Lease(self, name)

    def _run(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            with self._mutex:
                held = list(self._held.values())
            for lease in held:
                try:
                    if not self.store.renew_lease(lease.name, self.worker_id, self.ttl_s):
                        lease.lost = True
                except StoreError:
                    continue  # the store is busy or away: the next beat (or check) tries again

    def abandon(self) -> list[str]:
        """Release, unfinished, every member lease held now (a stopping worker whose harvests
        did not stop in time), and mark them lost: their harvests' next write fails its fence.
        The normalization lease is kept (a normalization is not fenced) to expire. The names
        released."""
        with self._mutex:
            held = [lease for lease in self._held.values() if not lease.name.startswith(":")]
        released = []
        for lease in held:
            lease.lost = True
            try:
                self.store.release_lease(lease.name, self.worker_id)
                released.append(lease.name)
            except StoreError:
                continue  # the store is away: this lease expires instead
        return released

    def _add(self, lease: Lease) -> None:
        with self._mutex:
            self._held[lease.name] = lease

    def _remove(self, lease: Lease) -> None:
        with self._mutex:
            self._held.pop(lease.name, None)


class Lease:
    """A lease a worker holds, renewed by its :class:`Heartbeat` and on :meth:`check`.

    :meth:`check` (the harvester calls it before each page it commits) renews at once and
    raises :class:`~eduxchange.core.errors.LeaseLost` when another worker holds the lease
    now. Leaving the block releases the lease (not a lost one), recording the work as
    finished when :attr:`finished` is set.
    """

    def __init__(self, heartbeat: Heartbeat, name: str) -> None:
        self.heartbeat, self.name = heartbeat, name
        self.lost = False
        self.finished = False

    def __enter__(self) -> Lease:
        self.heartbeat._add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        beat = self.heartbeat
        beat._remove(self)
        if not self.lost:
            beat.store.release_lease(self.name, beat.worker_id, finished=self.finished)

    @property
    def fence(self) -> LeaseFence:
        """What this lease's writes carry (:class:`~eduxchange.store.base.LeaseFence`)."""
        return LeaseFence(self.name, self.heartbeat.worker_id)

    def check(self) -> None:
        """Renew now; :class:`~eduxchange.core.errors.LeaseLost` when it was taken over."""
        beat = self.heartbeat
        if self.lost or not beat.store.renew_lease(self.name, beat.worker_id, beat.ttl_s):
            self.lost = True
            raise LeaseLost(
                f"this worker ({beat.worker_id}) lost its lease on {self.name!r}: it did not "
                f"renew it for {beat.ttl_s:g} s and another worker took it over; this run "
                "stopped before writing anything more")


@contextmanager
def _locked(heartbeat: Heartbeat, name: str) -> Iterator[Lease]:
    """Wait for the lease ``name`` (held by another worker while it works), then hold it."""
    while not heartbeat.store.acquire_lease(name, heartbeat.worker_id, heartbeat.ttl_s):
        time.sleep(min(0.2, heartbeat.ttl_s / 10))
    with heartbeat.hold(name) as lease:
        yield lease


def _has_pending(store: CatalogStore, member_id: str) -> bool:
    """Whether the member has raw records its last normalization did not see."""
    since = store.member_state(member_id).normalized_seq
    records = store.iter_records(member_id, since_seq=since)
    try:
        return next(records, None) is not None
    finally:
        close = getattr(records, "close", None)
        if callable(close):
            close()


def normalize_pending(catalog: Catalog, members: Sequence[MemberConfig], heartbeat: Heartbeat,
                      *, progress: ProgressCallback | None = None
                      ) -> dict[str, dict[str, object]]:
    """Normalize, under the store-wide normalization lease (waiting for it), those of
    ``members`` with raw records not normalized yet, in :func:`normalization_order`; what
    each one did, by id. ``heartbeat`` is the worker's, on ``catalog``'s store."""
    store = catalog.store
    done: dict[str, dict[str, object]] = {}
    with _locked(heartbeat, NORMALIZE_LEASE):
        for member in normalization_order(members):
            if _has_pending(store, member.id):
                done[member.id] = _normalize_guarded(
                    functools.partial(_normalize_member, catalog, member, progress))
    return done


def _finished(store: LeaseStore, since: float) -> set[str]:
    return {lease.name for lease in store.leases()
            if lease.finished_at is not None and lease.finished_at >= since}


def work(config: Config, *, members: Sequence[str] | None = None,
         worker_id: str | None = None, ttl_s: float = LEASE_TTL, since: float | None = None,
         wait_for_others: bool = True, full: bool = False, reconcile: bool | None = None,
         normalize: bool = True, progress: ProgressCallback | None = None,
         on_result: Callable[[HarvestResult], None] | None = None,
         on_normalized: Callable[[str, dict[str, object]], None] | None = None,
         store: CatalogStore | None = None, stop: threading.Event | None = None,
         abort: threading.Event | None = None,
         grace_s: float = STOP_GRACE) -> list[HarvestResult]:
    """One worker's round: harvest free members of the selection until each was harvested once.

    Up to ``[harvest] concurrency`` members at a time. ``since`` (store clock; default: now)
    starts the round: members harvested since are not taken again. With
    ``wait_for_others`` the worker stays until every selected member was harvested in the
    round, taking over the members of workers whose leases expire; without it, it ends
    once no member is free. Returns the results of the members this worker harvested, with
    what this worker's normalization of them did; ``on_result`` and ``on_normalized`` hear
    of them as they come (normalizations may be of members another worker harvested: see
    the module docstring). Raises
    :class:`~eduxchange.core.errors.StoreLocked` when a one-process harvest holds the store.

    Once ``stop`` is set the worker takes no new member and normalizes nothing more; each
    harvest stops before its next page and releases its lease unfinished. Harvests still
    busy ``grace_s`` seconds later, or at once when ``abort`` is set, are abandoned
    (:meth:`Heartbeat.abandon`) and this returns without them.
    """
    chosen = select_members(config, members)
    by_id = {m.id: m for m in chosen}
    order = normalization_order(chosen)
    wid = worker_id or new_worker_id()
    own_store = store is None
    catalog_store: CatalogStore = store if store is not None else open_store(config)
    results: list[HarvestResult] = []
    normalized: dict[str, dict[str, object]] = {}
    lock = threading.Lock()
    # Set by _join once ``stop`` is: the slots' pauses end on it and their harvests check it
    # before each page.
    halt = threading.Event()

    def halted() -> bool:
        return halt.is_set() or (stop is not None and stop.is_set())

    try:
        with catalog_store.worker_lock(), Heartbeat(catalog_store, wid, ttl_s=ttl_s) as beat:
            start = catalog_store.lease_clock() if since is None else since
            catalog = Catalog(config, catalog_store) if normalize else None

            def normalize_ready() -> None:
                assert catalog is not None
                finished = _finished(catalog_store, start)
                ready: list[MemberConfig] = []
                for member in order:  # the prefix of the order harvested in this round
                    if member.id not in finished:
                        break
                    ready.append(member)
                if ready:
                    for member_id, outcome in normalize_pending(
                            catalog, ready, beat, progress=progress).items():
                        with lock:
                            normalized[member_id] = outcome
                        if on_normalized is not None:
                            on_normalized(member_id, outcome)

            def slot() -> None:
                while not halted():
                    finished = _finished(catalog_store, start)
                    due = [m.id for m in chosen if m.id not in finished]
                    if not due:
                        return
                    leased = next_member(catalog_store, wid, due, ttl_s=ttl_s,
                                         finished_since=start)
                    if leased is None:
                        if not wait_for_others:
                            return
                        halt.wait(min(_POLL, ttl_s / 4))
                        continue
                    result = _harvest_one(catalog_store, by_id[leased.member_id], leased, beat,
                                          full=full, reconcile=reconcile, progress=progress,
                                          stop=halt)
                    if result is None:
                        continue  # lost to another worker, which reports it
                    with lock:
                        results.append(result)
                    if on_result is not None:
                        on_result(result)
                    if catalog is not None and not halted():
                        normalize_ready()

            slots = max(1, min(config.harvest.concurrency, len(chosen)))
            errors: list[BaseException] = []
            # Daemon threads: a worker that abandons them (see below), or is killed by an
            # unhandled Ctrl-C, ends at once; what its slots committed is kept.
            threads = [threading.Thread(target=_guard_slot, args=(slot, errors), daemon=True,
                                        name=f"worker slot {i}") for i in range(slots)]
            for thread in threads:
                thread.start()
            try:
                if not _join(threads, stop, abort, grace_s, halt):
                    released = beat.abandon()
                    log.warning("stopping now: abandoned the harvests of %s, their leases "
                                "released (their writes are fenced: they store nothing more)",
                                ", ".join(released) or "no member",
                                extra={"fields": {"event": "abandon", "members": released}})
                    own_store = False  # the abandoned slots may still be using it
            except BaseException:
                own_store = False  # the slots may still be using it; the process is ending
                raise
            if errors:
                raise errors[0]
    finally:
        if own_store:
            catalog_store.close()
    if not normalize:
        return results
    # What normalizing each member did (nothing: it had nothing new, or another worker did it).
    return [dataclasses.replace(r, normalization=normalized.get(r.member_id) or
                                NormalizeResult(member_id=r.member_id).to_dict())
            for r in results]


def _join(threads: Sequence[threading.Thread], stop: threading.Event | None,
          abort: threading.Event | None, grace_s: float, halt: threading.Event) -> bool:
    """Wait for the slots; False when they were still busy ``grace_s`` after ``stop`` (or
    when ``abort`` came). ``halt`` is set once ``stop`` is, for the slots to see."""
    deadline: float | None = None
    while any(thread.is_alive() for thread in threads):
        if stop is not None and stop.is_set() and deadline is None:
            halt.set()
            deadline = time.monotonic() + grace_s
        if abort is not None and abort.is_set():
            halt.set()
            return False
        if deadline is not None and time.monotonic() >= deadline:
            return False
        next(thread for thread in threads if thread.is_alive()).join(0.1)
    return True


def _guard_slot(slot: Callable[[], None], errors: list[BaseException]) -> None:
    try:
        slot()
    except BaseException as err:  # re-raised by work() in its own thread
        errors.append(err)


def _harvest_one(store: CatalogStore, member: MemberConfig, leased: Leased, beat: Heartbeat, *,
                 full: bool, reconcile: bool | None, progress: ProgressCallback | None,
                 stop: threading.Event) -> HarvestResult | None:
    """Harvest one leased member; None when the lease was lost mid-way. Stopped (``stop``)
    before its next page, it releases the lease unfinished, for another worker to resume."""
    stopped = False

    def check() -> None:
        nonlocal stopped
        if stop.is_set():
            stopped = True
            raise HarvestStopped(
                f"this worker ({beat.worker_id}) was asked to stop; the harvest of "
                f"{member.id!r} stopped before its next page and resumes from there")
        lease.check()

    with beat.hold(member.id) as lease:
        # A member taken over resumes from the dead worker's last page, even in a --full
        # round (a full run would start over and fetch again what is already stored).
        harvester = Harvester(member, store, progress=progress, check=check, fence=lease.fence)
        result = harvester.run(full=full and not leased.took_over, reconcile=reconcile)
        lease.lost = lease.lost or harvester.lease_lost  # a fenced write found it taken
        lease.finished = not (lease.lost or stopped)
    return None if lease.lost else result


def held_leases(config: Config, store: CatalogStore | None = None) -> list[dict[str, object]]:
    """The live leases of the config's store (who is harvesting or normalizing what), as
    JSON-ready dicts: ``name``, ``worker``, ``expires_in`` (seconds). ``[]`` when the store
    does not exist yet."""
    if store is None:
        if not store_exists(config):
            return []
        with open_store(config) as own:
            return held_leases(config, own)
    now = store.lease_clock()
    return [{"name": lease.name, "worker": lease.worker_id,
             "expires_in": round((lease.expires_at or now) - now, 1)}
            for lease in store.leases() if lease.live]


# -- eduxchange harvest --workers N: N processes on this machine ---------------------------------


def harvest_with_workers(
    config: Config,
    *,
    workers: int,
    members: Sequence[str] | None = None,
    full: bool = False,
    reconcile: bool | None = None,
    progress: ProgressCallback | None = None,
    normalize: bool = True,
    ttl_s: float = LEASE_TTL,
) -> list[HarvestResult]:
    """:func:`~eduxchange.pipeline.harvest` with ``workers`` processes sharing the members.

    One result per member, in config order, as :func:`~eduxchange.pipeline.harvest` gives
    (progress events of every process come to ``progress``). The processes are
    :func:`work` rounds that wait for each other, so when one dies mid-member another takes
    the member over once its lease (``ttl_s``) expires. A member no worker finished (every
    worker died) comes back ``failed``, saying so.
    """
    chosen = select_members(config, members)
    ids = [m.id for m in chosen]
    count = max(1, min(workers, len(chosen)))
    with open_store(config) as store, store.worker_lock():
        since = store.lease_clock()
        pipes: dict[Connection, subprocess.Popen[bytes]] = {}
        try:
            for _ in range(count):
                pipes.update([_spawn((config, ids, since, ttl_s, full, reconcile, normalize))])
            harvested: dict[str, HarvestResult] = {}
            normalized: dict[str, dict[str, object]] = {}
            errors: list[str] = []
            while pipes:
                for ready in wait(list(pipes)):
                    assert isinstance(ready, Connection)
                    try:
                        message = ready.recv()
                    except (EOFError, OSError, pickle.UnpicklingError):  # ended, or killed
                        pipes.pop(ready).wait()
                        ready.close()
                        continue
                    kind = message[0]
                    if kind == "progress" and progress is not None:
                        progress(message[1])
                    elif kind == "result":
                        harvested[message[1].member_id] = message[1]
                    elif kind == "normalized":
                        normalized.setdefault(message[1], message[2])
                    elif kind == "error":
                        errors.append(message[1])
        finally:
            for conn, process in pipes.items():  # interrupted: stop the rest
                process.terminate()
                process.wait()
                conn.close()
    out: list[HarvestResult] = []
    for member in chosen:
        result = harvested.get(member.id)
        if result is None:
            why = "; ".join(dict.fromkeys(errors)) or "its worker processes died"
            result = HarvestResult(
                member_id=member.id, state="failed", mode="incremental",
                error=f"no worker finished this member ({why}); what its pages stored is "
                      "kept and the next harvest resumes from there")
        if normalize and result.run_id is not None:
            done = normalized.get(member.id)
            if done is None and errors:
                done = {"error": f"it may not have been normalized ({'; '.join(errors)})"}
            elif done is None:  # nothing was left to normalize: that did nothing, as it says
                done = NormalizeResult(member_id=member.id).to_dict()
            result = dataclasses.replace(result, normalization=done)
        out.append(result)
    return out


def _spawn(args: tuple[Any, ...]) -> tuple[Connection, subprocess.Popen[bytes]]:
    """Start one worker process of :func:`harvest_with_workers`; its message pipe and process.

    A fresh interpreter running :func:`_child` (not :mod:`multiprocessing`: its ``spawn``
    runs the caller's main module again, and ``fork`` would share the parent's store
    connections and lock), given its round on stdin, reporting on an inherited pipe.
    """
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from eduxchange.workers import _child; _child()",
             str(write_fd)], stdin=subprocess.PIPE, pass_fds=(write_fd,))
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    assert process.stdin is not None
    with process.stdin:
        process.stdin.write(pickle.dumps(args))
    return Connection(read_fd, writable=False), process


def _child() -> None:
    """A worker process of :func:`harvest_with_workers`: its round, reported on the pipe."""
    conn = Connection(int(sys.argv[1]), readable=False)
    config, ids, since, ttl_s, full, reconcile, normalize = pickle.loads(sys.stdin.buffer.read())
    sending = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with sending:
            conn.send(message)

    def on_progress(event: ProgressEvent) -> None:
        send(("progress", event))

    # INT (Ctrl-C reaches the whole process group) stops this worker, releasing its leases;
    # TERM (the parent stopping the rest) or a second signal abandons its harvests now.
    stop, abort = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        (abort if stop.is_set() or signum == signal.SIGTERM else stop).set()
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        work(config, members=ids, ttl_s=ttl_s, since=since, full=full, reconcile=reconcile,
             normalize=normalize, progress=on_progress, stop=stop, abort=abort,
             on_result=lambda r: send(("result", r)),
             on_normalized=lambda m, n: send(("normalized", m, n)))
    except EduxchangeError as err:
        send(("error", str(err)))
    except Exception as err:  # a bug: the parent reports it with the members left undone
        send(("error", f"internal error in a worker ({type(err).__name__}: {err}); "
                       "please report it"))
    finally:
        conn.close()
