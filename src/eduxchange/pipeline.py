"""The top of the library: harvest a whole alliance, report every member's status.

These are what ``eduxchange harvest`` and ``eduxchange status`` call; a developer
can call them the same way::

    from eduxchange import load_config, harvest
    for result in harvest(load_config("alliance.toml")):
        print(result.member_id, result.state, result.new)
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .core.config import Config, MemberConfig, is_store_url
from .core.errors import ConfigError, StoreError
from .catalog.normalization import Catalog, NormalizeResult, normalization_order
from .harvesting.harvester import Harvester, ProgressCallback, ProgressEvent
from .core.models import HarvestResult, MemberStatus
from .store.backends import open_catalog_store, open_store_reader
from .store.base import CatalogStore, EventInfo, QuarantineEntry, RunInfo, StoreReader
from .store.dump import MigrationSummary, StoreDump, StoreLoad, copy_store, held_rows

__all__ = [
    "harvest",
    "member_statuses",
    "select_members",
    "open_store",
    "open_read_only_store",
    "store_exists",
    "quarantine_entries",
    "harvest_log",
    "harvest_events",
    "run_warnings",
    "normalize_catalog",
    "catalogue_counts",
    "migrate_store",
    "store_dump_counts",
]

T = TypeVar("T")


def open_store(config: Config) -> CatalogStore:
    """Open (creating or upgrading it if needed) the catalogue store the config names: a
    SQLite file, or a PostgreSQL database (``postgresql://user@host/dbname``)."""
    return open_catalog_store(config.catalog.location)


def open_read_only_store(config: Config) -> StoreReader:
    """Open the config's existing catalogue store read-only (for serving and reading)."""
    return open_store_reader(config.catalog.location)


def store_exists(config: Config) -> bool:
    """Whether the config's store may hold a catalogue already (a file that exists; a
    PostgreSQL store is always asked: opening it creates its schema, which is empty)."""
    return config.catalog.store_url is not None or config.catalog.store.exists()


def select_members(config: Config, ids: Sequence[str] | None = None) -> list[MemberConfig]:
    """The members to work on: the named ones (in the order given), else every enabled one."""
    if ids:
        return [config.member(i) for i in dict.fromkeys(ids)]
    members = [m for m in config.members if m.enabled]
    if not members:
        where = f"{config.path}: " if config.path else ""
        raise ConfigError(f"{where}no [[members]] to harvest; add one (see the README)")
    return members


def harvest(
    config: Config,
    *,
    members: Sequence[str] | None = None,
    full: bool = False,
    reconcile: bool | None = None,
    progress: ProgressCallback | None = None,
    store: CatalogStore | None = None,
    normalize: bool = True,
    jobs: int | None = None,
) -> list[HarvestResult]:
    """Harvest the alliance's members concurrently; one result per member, in config order.

    A member that fails never stops the others: its result says ``failed`` and why.
    At most ``[harvest] concurrency`` members are harvested at once, so the wall
    time approaches that of the slowest member. With ``normalize`` (the default),
    each member's new and changed records go into the unified catalogue as soon as
    its harvest and those of the members before it in
    :func:`~eduxchange.catalog.normalization.normalization_order` (by id) have ended: one member at a
    time, in an order that does not depend on timing, so neither do catalogue IRIs.

    ``jobs`` overrides ``[harvest] jobs``: the processes that normalize (0: one a core;
    1: none besides this one).

    One harvest per store at a time: while another process (or thread) harvests into
    the same store this raises :class:`~eduxchange.core.errors.StoreLocked`, naming the
    holder, before any member is contacted.
    """
    chosen = select_members(config, members)
    own_store = store is None
    catalog_store: CatalogStore = store if store is not None else open_store(config)
    try:
        with catalog_store.harvest_lock():
            return _harvest(config, chosen, catalog_store, full=full, reconcile=reconcile,
                            progress=progress, normalize=normalize, jobs=jobs)
    finally:
        if own_store:
            catalog_store.close()


def _harvest(config: Config, chosen: Sequence[MemberConfig], catalog_store: CatalogStore, *,
             full: bool, reconcile: bool | None, progress: ProgressCallback | None,
             normalize: bool, jobs: int | None) -> list[HarvestResult]:
    """The body of :func:`harvest`, run while holding the store's harvest lock."""
    catalog = Catalog(config, catalog_store, jobs=jobs) if normalize else None
    order = normalization_order(chosen)
    # The first member in normalization order waits for no other: it is normalized while it
    # is harvested, page after page (Catalog.follow); the others once their turn comes.
    follower = (catalog.follow(order[0], progress=_normalize_progress(progress))
                if catalog is not None else None)

    def run(member: MemberConfig) -> HarvestResult:
        on_page = follower.page_committed if follower and member.id == order[0].id else None
        return Harvester(member, catalog_store, progress=progress, on_page=on_page).run(
            full=full, reconcile=reconcile)

    pool_size = max(1, min(config.harvest.concurrency, len(chosen)))
    done: dict[str, HarvestResult] = {}
    try:
        with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="harvest") as pool:
            futures = {m.id: pool.submit(run, m) for m in chosen}
            # Normalized here, one member at a time, in normalization_order (by id): a member
            # waits for those before it, never for its own position in the config or for
            # whichever harvest ends first, so catalogue IRIs do not depend on timing.
            for member in order:
                result = futures[member.id].result()
                if catalog is not None:
                    normalized = _normalize_guarded(
                        follower.finish if follower is not None and member.id == order[0].id
                        else functools.partial(_normalize_member, catalog, member, progress))
                    result = dataclasses.replace(result, normalization=normalized)
                done[member.id] = result
    finally:
        if catalog is not None:
            catalog.close()
    return [done[m.id] for m in chosen]


def _normalize_guarded(normalize: Callable[[], NormalizeResult]) -> dict[str, object]:
    try:
        return normalize().to_dict()
    except Exception as err:  # a bug must not stop the other members
        return {"error": f"normalization failed ({type(err).__name__}: {err})"}


def _normalize_progress(progress: ProgressCallback | None) -> Callable[[str, int], None] | None:
    if progress is None:
        return None

    def report(member_id: str, done: int) -> None:
        progress(ProgressEvent(member_id=member_id, phase="normalize", done=done,
                               message="normalizing"))
    return report


def _normalize_member(catalog: Catalog, member: MemberConfig,
                      progress: ProgressCallback | None, all_: bool = False) -> NormalizeResult:
    return catalog.normalize_member(member, all_=all_, progress=_normalize_progress(progress))


def normalize_catalog(
    config: Config,
    *,
    members: Sequence[str] | None = None,
    all_: bool = False,
    progress: ProgressCallback | None = None,
    store: CatalogStore | None = None,
    jobs: int | None = None,
) -> list[NormalizeResult]:
    """Normalize stored raw records into the catalogue without harvesting.

    Only what changed since the last normalization, or with ``all_`` every raw
    record again (after a mapping or crosswalk fix), in bounded memory. Members go in
    :func:`~eduxchange.catalog.normalization.normalization_order`; one that fails has its result's
    ``error`` set and the others still go on (a record that fails is quarantined, it
    never stops its member).
    """
    chosen = [config.member(i) for i in members] if members else list(config.members)
    own_store = store is None
    catalog_store: CatalogStore = store if store is not None else open_store(config)
    try:
        done: dict[str, NormalizeResult] = {}
        with Catalog(config, catalog_store, jobs=jobs) as catalog:
            for member in normalization_order(chosen):
                try:
                    done[member.id] = _normalize_member(catalog, member, progress, all_)
                except Exception as err:  # one member's failure never stops another's
                    done[member.id] = NormalizeResult(
                        member_id=member.id,
                        error=f"normalization failed ({type(err).__name__}: {err}); what was "
                              f"normalized before is kept, the rest is retried by the next run")
        return [done[m.id] for m in chosen]
    finally:
        if own_store:
            catalog_store.close()


def _read(config: Config, store: CatalogStore | None, read: Callable[[CatalogStore | None], T]
          ) -> T:
    """Run a read against the store; a store that does not exist yet is not created."""
    if store is not None:
        return read(store)
    if not store_exists(config):
        return read(None)
    catalog = open_store(config)
    try:
        return read(catalog)
    finally:
        catalog.close()


def member_statuses(config: Config, store: CatalogStore | None = None) -> list[MemberStatus]:
    """Every configured member's state, records and last harvest, from the store.

    Before the first harvest every member is ``never``.
    """
    return _read(config, store, lambda s: [_status(m, s) for m in config.members])


def catalogue_counts(config: Config, store: CatalogStore | None = None) -> dict[str, int]:
    """How many resources the unified catalogue holds (and how many it has retired)."""
    return _read(config, store, lambda s: s.resource_counts() if s else
                 {"resources": 0, "deleted": 0})


def quarantine_entries(config: Config, member: str | None = None, limit: int = 100, *,
                       store: CatalogStore | None = None) -> list[QuarantineEntry]:
    """Records that could not be read, newest first, with reason and raw bytes."""
    if member is not None:
        config.member(member)  # ConfigError for an unknown id
    return _read(config, store, lambda s: s.quarantine(member, limit) if s else [])


def harvest_log(config: Config, member: str | None = None, limit: int = 20, *,
                store: CatalogStore | None = None) -> list[RunInfo]:
    """The most recent harvest runs, newest first."""
    if member is not None:
        config.member(member)
    return _read(config, store, lambda s: s.runs(member, limit) if s else [])


def harvest_events(config: Config, member: str | None = None, run_id: int | None = None, *,
                   min_severity: str = "warning", limit: int = 100,
                   store: CatalogStore | None = None) -> list[EventInfo]:
    """What runs met, newest first: warnings and errors (with ``min_severity="info"`` also
    retries and other notes), of one member or run or of all."""
    if member is not None:
        config.member(member)
    return _read(config, store, lambda s: s.events(member, run_id, min_severity=min_severity,
                                                   limit=limit) if s else [])


def run_warnings(config: Config, run_ids: Sequence[int], *, events_per_run: int = 0,
                 store: CatalogStore | None = None) -> dict[int, tuple[int, list[EventInfo]]]:
    """For each run: how many warnings it met, and its latest ``events_per_run`` warnings
    and errors (what ``eduxchange log --events`` shows under each run)."""
    def read(s: CatalogStore | None) -> dict[int, tuple[int, list[EventInfo]]]:
        if s is None:
            return {i: (0, []) for i in run_ids}
        counts = s.warning_counts(run_ids)
        return {i: (counts.get(i, 0),
                    s.events(run_id=i, min_severity="warning", limit=events_per_run)
                    if events_per_run > 0 else []) for i in run_ids}
    return _read(config, store, read)


def _status(member: MemberConfig, store: CatalogStore | None) -> MemberStatus:
    if store is None:
        return MemberStatus(id=member.id, name=member.name, endpoint=member.endpoint,
                            state="never", records=0, deleted=0, quarantined=0,
                            last_harvest=None, metadata_prefix=member.metadata_prefix,
                            error=None)
    state = store.member_state(member.id)
    counts = store.counts(member.id)
    status = state.state if state.state in ("ok", "failed") else "never"
    warnings, last_warning = store.last_run_warnings(member.id)
    return MemberStatus(
        id=member.id, name=member.name, endpoint=member.endpoint, state=status,  # type: ignore[arg-type]
        records=counts["records"], deleted=counts["deleted"], quarantined=counts["quarantined"],
        last_harvest=state.last_harvest, metadata_prefix=state.metadata_prefix or member.metadata_prefix,
        error=state.error, resumable=state.resume is not None, warnings=warnings,
        last_warning=None if last_warning is None else last_warning.to_dict(),
    )


def migrate_store(from_: str, to: str, *, replace: bool = False, batch_size: int = 1000,
                  progress: Callable[[str, int], None] | None = None) -> MigrationSummary:
    """Copy the catalogue of the store ``from_`` into the store ``to`` (paths or store URLs).

    What ``eduxchange migrate`` does: both stores' harvest locks are held for the copy, the
    copy is one transaction of the target (all or nothing) through the bulk seam
    (:mod:`eduxchange.store.dump`), and the target must be empty unless ``replace``
    (:class:`~eduxchange.store.dump.TargetNotEmpty`). ``progress(table, rows)`` follows it.
    """
    if _same_store(from_, to):
        raise ConfigError(f"the source and the target are the same store: {to}")
    if not is_store_url(from_) and not Path(from_).is_file():
        raise ConfigError(f"no catalogue at {from_} to migrate (a SQLite file, or "
                          "postgresql://...; --from names another)")
    source = open_catalog_store(from_)
    try:
        target = open_catalog_store(to)
        try:
            if not isinstance(source, StoreDump) or not isinstance(target, StoreLoad):
                raise StoreError(f"the store {to if isinstance(source, StoreDump) else from_}"
                                 " cannot be migrated (its backend has no bulk dump and load)")
            if not held_rows(source.dump_counts()):
                raise ConfigError(f"{from_} holds no catalogue to migrate (harvest first, or "
                                  "name another with --from)")
            with source.harvest_lock(), target.harvest_lock():
                return copy_store(source, target, replace=replace, batch_size=batch_size,
                                  progress=progress)
        finally:
            target.close()
    finally:
        source.close()


def store_dump_counts(location: str) -> dict[str, int]:
    """How many rows each table of the store at ``location`` holds (a migration's totals)."""
    if not is_store_url(location) and not Path(location).is_file():
        raise ConfigError(f"no catalogue at {location}")
    store = open_catalog_store(location)
    try:
        if not isinstance(store, StoreDump):
            raise StoreError(f"the store {location} has no bulk dump")
        return store.dump_counts()
    finally:
        store.close()


def _same_store(a: str, b: str) -> bool:
    if is_store_url(a) or is_store_url(b):
        return a == b
    return Path(a).resolve() == Path(b).resolve()
