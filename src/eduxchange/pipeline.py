"""The top of the library: harvest a whole alliance, report every member's status.

These are what ``eduxchange harvest`` and ``eduxchange status`` call; a developer
can call them the same way::

    from eduxchange import load_config, harvest
    for result in harvest(load_config("alliance.toml")):
        print(result.member_id, result.state, result.new)
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from .config import Config, MemberConfig
from .errors import ConfigError
from .harvester import Harvester, ProgressCallback
from .models import HarvestResult, MemberStatus
from .store.base import CatalogStore
from .store.sqlite import SQLiteStore

__all__ = ["harvest", "member_statuses", "select_members", "open_store"]


def open_store(config: Config) -> SQLiteStore:
    """Open (creating if needed) the catalogue store the config names."""
    return SQLiteStore(config.catalog.store)


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
) -> list[HarvestResult]:
    """Harvest the alliance's members concurrently; one result per member, in config order.

    A member that fails never stops the others: its result says ``failed`` and why.
    At most ``[harvest] concurrency`` members are harvested at once, so the wall
    time approaches that of the slowest member.
    """
    chosen = select_members(config, members)
    own_store = store is None
    catalog: CatalogStore = store if store is not None else open_store(config)
    try:
        workers = max(1, min(config.harvest.concurrency, len(chosen)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harvest") as pool:
            futures = [
                pool.submit(Harvester(m, catalog, progress=progress).run, full=full,
                            reconcile=reconcile)
                for m in chosen
            ]
            return [f.result() for f in futures]
    finally:
        if own_store:
            catalog.close()


def member_statuses(config: Config, store: CatalogStore | None = None) -> list[MemberStatus]:
    """Every configured member's state, records and last harvest, from the store.

    A store that does not exist yet is not created: every member is ``never``.
    """
    own_store = store is None
    if store is None and not config.catalog.store.exists():
        return [_status(m, None) for m in config.members]
    catalog: CatalogStore = store if store is not None else open_store(config)
    try:
        return [_status(m, catalog) for m in config.members]
    finally:
        if own_store:
            catalog.close()


def _status(member: MemberConfig, store: CatalogStore | None) -> MemberStatus:
    if store is None:
        return MemberStatus(id=member.id, name=member.name, endpoint=member.endpoint,
                            state="never", records=0, deleted=0, quarantined=0,
                            last_harvest=None, metadata_prefix=member.metadata_prefix,
                            error=None)
    state = store.member_state(member.id)
    counts = store.counts(member.id)
    status = state.state if state.state in ("ok", "failed") else "never"
    return MemberStatus(
        id=member.id, name=member.name, endpoint=member.endpoint, state=status,  # type: ignore[arg-type]
        records=counts["records"], deleted=counts["deleted"], quarantined=counts["quarantined"],
        last_harvest=state.last_harvest, metadata_prefix=state.metadata_prefix or member.metadata_prefix,
        error=state.error, resumable=state.resume is not None,
    )
