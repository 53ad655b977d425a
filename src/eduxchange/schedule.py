"""Harvest schedules: which members are due, and a worker that harvests them when they are.

Each member has ``every`` (``every = "6h"`` in its ``[[members]]`` entry, else ``[harvest]
every``, else one day). A member is due once its last *successful* harvest is ``every`` old
(never harvested: at once). A member whose last run failed is retried after
``min(every, RETRY_AFTER)`` from that failure, not at every pass, so a broken member is not
hammered; its schedule resumes from its next success.

:func:`take_due` is the one place that decides what a worker harvests now: the due members
no other worker holds a lease on. :func:`run_worker` harvests them through
:func:`eduxchange.workers.work`, which leases each member before it harvests it, so any number
of workers (on one machine or several sharing a PostgreSQL store) divide the due members
between them, and a member whose worker died is taken over once its lease expires.

``eduxchange worker`` runs :func:`run_worker`; ``eduxchange harvest --due`` harvests what
:func:`take_due` gives once (for cron). The worker's config can be reloaded while it runs
(``SIGHUP``): :func:`run_worker` takes the new one between passes, or keeps the old one,
saying why, when the new one cannot be read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .core.config import Config, MemberConfig
from .core.errors import ConfigError, StoreLocked
from .core.models import HarvestResult
from .pipeline import open_store, select_members
from .store.base import CatalogStore, RunStats
from .workers import LEASE_TTL, new_worker_id, work

__all__ = ["RETRY_AFTER", "MAX_SLEEP", "Plan", "next_due", "due_now", "take_due", "run_worker"]

log = logging.getLogger(__name__)

#: Seconds after a failed run before a member is tried again (at most its ``every``).
RETRY_AFTER = 900.0
#: Seconds a worker sleeps at most before it looks at the store again (another process may
#: have harvested, or the clock jumped).
MAX_SLEEP = 300.0
#: Seconds a worker waits when another harvest holds the store's lock.
LOCKED_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class Plan:
    """What a worker does now: harvest ``members``; else sleep until ``next_at``."""

    members: tuple[MemberConfig, ...]
    next_at: datetime | None  # the earliest due time of the members not due now (None: none)


def _parse(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def next_due(member: MemberConfig, stats: RunStats | None, *, now: datetime) -> datetime:
    """When ``member`` is next due, from its run history (``now`` when never harvested)."""
    every = timedelta(seconds=member.settings.every)
    success = _parse(stats.last_success) if stats else None
    finished = _parse(stats.last_finished) if stats else None
    due = success + every if success is not None else now
    if finished is not None and (success is None or finished > success):
        # The last run failed: try again after the retry delay, not at every pass.
        due = max(due, finished + min(every, timedelta(seconds=RETRY_AFTER)))
    return due


def due_now(config: Config, stats: dict[str, RunStats], *, now: datetime,
            members: Sequence[MemberConfig] | None = None) -> Plan:
    """Of ``members`` (every enabled member), those due at ``now``, and the next due time
    of the others. Pure: the run history comes in ``stats``."""
    chosen = list(members) if members is not None else [m for m in config.members if m.enabled]
    due: list[MemberConfig] = []
    later: list[datetime] = []
    for member in chosen:
        when = next_due(member, stats.get(member.id), now=now)
        if when <= now:
            due.append(member)
        else:
            later.append(when)
    return Plan(tuple(due), min(later) if later else None)


def take_due(config: Config, store: CatalogStore, *, now: datetime | None = None,
             members: Sequence[MemberConfig] | None = None) -> Plan:
    """The members this worker harvests now: the due ones no live lease holds (another
    worker is harvesting those). :func:`~eduxchange.workers.work` then leases each one."""
    held = {lease.name for lease in store.leases() if lease.live}
    chosen = [m for m in (members if members is not None else config.members)
              if members is not None or m.enabled]
    plan = due_now(config, store.run_stats(), now=now or datetime.now(UTC),
                   members=[m for m in chosen if m.id not in held])
    return plan


def run_worker(config: Config, *, stop: threading.Event,
               on_results: Callable[[list[HarvestResult]], None] | None = None,
               normalize: bool = True, store: CatalogStore | None = None,
               ttl_s: float = LEASE_TTL, abort: threading.Event | None = None,
               reload: Callable[[], Config] | None = None,
               reload_requested: threading.Event | None = None) -> None:
    """Harvest (and normalize) members whenever they are due, until ``stop`` is set.

    Between passes it sleeps until the next member is due (at most :data:`MAX_SLEEP`);
    ``stop`` wakes it. Once ``stop`` is set, the pass in progress stops before each harvest's
    next page and releases its leases unfinished (:func:`~eduxchange.workers.work`; ``abort``
    abandons it at once), so other workers take its members over at once. Each page is
    committed as it comes, so a process killed mid-pass loses nothing either: the member
    resumes from its last committed page, taken over by another worker once its lease,
    ``ttl_s``, expires. ``on_results`` gets each pass's results.

    When ``reload_requested`` is set, the config is read again with ``reload`` after the
    pass in progress (or at once when sleeping): members added or removed and schedules
    changed take effect for the next pass. A config that cannot be read, has nothing to
    harvest or names another store is logged with the reason and the old one kept.
    """
    select_members(config)  # ConfigError when there is nothing to harvest
    own_store = store is None
    catalog_store: CatalogStore = store if store is not None else open_store(config)
    worker_id = new_worker_id()
    try:
        while not stop.is_set():
            if reload is not None and reload_requested is not None and reload_requested.is_set():
                reload_requested.clear()
                config = _reloaded(config, reload)
            now = datetime.now(UTC)
            plan = take_due(config, catalog_store, now=now)
            if plan.members:
                ids = [m.id for m in plan.members]
                log.info("harvesting %s (due)", ", ".join(ids),
                         extra={"fields": {"event": "pass", "members": ids}})
                try:
                    results = work(config, members=ids, store=catalog_store,
                                   worker_id=worker_id, ttl_s=ttl_s, wait_for_others=False,
                                   normalize=normalize, stop=stop, abort=abort)
                except StoreLocked as err:
                    log.warning("%s; waiting %ds", err, LOCKED_WAIT,
                                extra={"fields": {"event": "locked"}})
                    _sleep(LOCKED_WAIT, stop, reload_requested)
                    continue
                if on_results is not None and results:
                    on_results(results)
                if not results:  # other workers took them first: look again shortly
                    _sleep(1.0, stop, reload_requested)
                continue
            wait = MAX_SLEEP if plan.next_at is None else min(
                MAX_SLEEP, max(1.0, (plan.next_at - now).total_seconds()))
            log.info("nothing due; next at %s, sleeping %.0fs",
                     plan.next_at.isoformat(timespec="seconds") if plan.next_at else "-", wait,
                     extra={"fields": {"event": "sleep", "seconds": round(wait, 1),
                                       "next_at": plan.next_at.isoformat(timespec="seconds")
                                       if plan.next_at else None}})
            _sleep(wait, stop, reload_requested)
    finally:
        if own_store:
            catalog_store.close()


def _sleep(seconds: float, stop: threading.Event, woken: threading.Event | None) -> None:
    """Wait ``seconds``, or less when ``stop`` or ``woken`` is set."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and not (woken is not None and woken.is_set()):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 0.2 if woken is not None else left))


def _reloaded(config: Config, reload: Callable[[], Config]) -> Config:
    """The config ``reload`` reads, or ``config`` when it cannot be used (logged either way)."""
    try:
        new = reload()
        select_members(new)  # ConfigError when there is nothing to harvest
        if new.catalog.location != config.catalog.location:
            raise ConfigError(f"it names another store ({new.catalog.location}, not "
                              f"{config.catalog.location}); restart the worker to change stores")
    except (ConfigError, OSError) as err:
        log.error("config not reloaded, keeping the old one: %s", err,
                  extra={"fields": {"event": "reload-failed", "error": str(err)}})
        return config
    before = {m.id: m for m in config.members}
    after = {m.id: m for m in new.members}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(i for i in after.keys() & before.keys() if after[i] != before[i])
    log.info("config reloaded from %s: members added: %s; removed: %s; changed: %s",
             new.path, ", ".join(added) or "none", ", ".join(removed) or "none",
             ", ".join(changed) or "none",
             extra={"fields": {"event": "reload", "added": added, "removed": removed,
                               "changed": changed}})
    return new
