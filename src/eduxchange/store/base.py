"""The catalogue store's interface, so that backends other than SQLite can follow.

The harvester talks to a store only through :class:`CatalogStore`. A backend
must commit each :meth:`CatalogStore.commit_page` atomically *together with* the
member's resume state: that is what makes an interrupted harvest resumable with
no record lost or duplicated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from ..core.dates import parse_datestamp
from ..core.models import Issue, Quarantined, RawRecord
from ..core.record import CommonRecord, Description
from .search import SearchQuery, SearchResult

__all__ = [
    "CatalogStore",
    "StoreReader",
    "CatalogTxn",
    "MemberState",
    "PageCounts",
    "StaleRecord",
    "StoredRecord",
    "RunInfo",
    "QuarantineEntry",
    "EventInfo",
    "SEVERITIES",
    "StoredDescription",
    "Resource",
    "FUTURE_SLACK",
    "is_stale",
]

#: A stored datestamp further than this ahead of the clock does not hold back a replacement.
FUTURE_SLACK = timedelta(days=1)


def is_stale(datestamp: str, kept: str, *, now: datetime) -> bool:
    """Whether a copy dated ``datestamp`` must not replace the version dated ``kept``.

    The rule every backend's :meth:`CatalogStore.commit_page` follows: an older copy never
    replaces a newer one (compared in UTC; equal datestamps may replace: the same version
    sent again). Two exceptions keep a record from being frozen for good: a ``kept``
    datestamp more than :data:`FUTURE_SLACK` after ``now`` (a member's mistake it must be
    able to correct), and datestamps that cannot be read (the later copy wins).
    """
    try:
        new, old = parse_datestamp(datestamp), parse_datestamp(kept)
    except ValueError:
        return False
    return new < old <= now + FUTURE_SLACK


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberState:
    """What the store remembers of a member between runs."""

    member_id: str
    metadata_prefix: str | None = None
    granularity: str | None = None
    deleted_record: str | None = None
    earliest_datestamp: str | None = None
    next_from: str | None = None  # the next incremental 'from', in the member's granularity
    last_harvest: str | None = None  # when the last run finished (ISO 8601, UTC)
    state: str = "never"  # "ok" | "failed" | "never"
    error: str | None = None
    resume: dict[str, Any] | None = None  # where an unfinished run stopped
    last_reconcile: str | None = None
    normalized_seq: int = 0  # raw records up to this seq have been normalized


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleRecord:
    """A copy of a record that :meth:`CatalogStore.commit_page` ignored: it was older.

    ``datestamp`` is the ignored copy's, ``kept`` the datestamp of the version that
    stays (both as the member wrote them); ``within_page`` when both came in one page.
    """

    identifier: str
    datestamp: str
    kept: str
    within_page: bool = False


@dataclass(frozen=True, slots=True)
class PageCounts:
    """What committing one page did; ``stale`` lists the copies ignored as older."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    stale: tuple[StaleRecord, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    """A raw record as the store holds it, with its provenance."""

    member_id: str
    identifier: str
    metadata_prefix: str
    datestamp: str
    sets: tuple[str, ...]
    deleted: bool
    raw: bytes | None
    run_id: int | None
    first_harvested: str
    harvested_at: str
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """One line of the harvest log."""

    id: int
    member_id: str
    mode: str
    state: str
    started_at: str
    finished_at: str | None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


#: Issue severities from least to most severe (a ``min_severity`` filter keeps those at or after it).
SEVERITIES: Final = ("info", "warning", "error")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventInfo:
    """One stored issue of a run (:meth:`CatalogStore.log_issues`): a warning, a repair, a retry."""

    id: int
    run_id: int | None
    member_id: str
    code: str
    severity: str
    message: str
    identifier: str | None
    created_at: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (``run`` for the run id, ``at`` for the time)."""
        return {"id": self.id, "run": self.run_id, "member": self.member_id, "code": self.code,
                "severity": self.severity, "message": self.message,
                "identifier": self.identifier, "at": self.created_at}


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantineEntry:
    """A record that could not be read, kept with its reason and raw bytes."""

    id: int
    member_id: str
    identifier: str | None
    run_id: int | None
    stage: str
    reason: str
    raw: bytes | None
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDescription:
    """One member's normalized description, and the catalogue resource it belongs to."""

    member_id: str
    identifier: str
    resource_id: str
    format: str
    rank: int
    description: Description


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """A catalogue record; ``deleted`` records keep their last state (a tombstone)."""

    id: str
    record: CommonRecord
    deleted: bool
    created_at: str
    updated_at: str
    seq: int


class CatalogTxn(Protocol):
    """Primitive catalogue operations inside one write transaction (the merge policy lives
    in :mod:`eduxchange.catalog.normalization`, not in the store)."""

    def description(self, member_id: str, identifier: str) -> StoredDescription | None: ...

    def put_description(self, d: StoredDescription, raw_seq: int) -> None: ...

    def delete_description(self, member_id: str, identifier: str) -> None: ...

    def descriptions_of(self, resource_id: str) -> list[StoredDescription]: ...

    def resources_for_keys(self, keys: Sequence[str]) -> dict[str, str]: ...

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None: ...

    def resource(self, resource_id: str) -> Resource | None: ...

    def put_resource(self, resource_id: str, record: CommonRecord, *, deleted: bool) -> str | None:
        """Write if changed; return the change kind (create, update, delete) or None."""
        ...

    def quarantine(self, member_id: str, identifier: str | None, *, stage: str, reason: str,
                   raw: bytes | None) -> None: ...

    def resolve_quarantine(self, member_id: str, identifier: str, *, stage: str) -> None: ...

    def put_dissemination(self, resource_id: str, prefix: str, xml: bytes, *,
                          version: str) -> None:
        """Keep ``xml``, the record's metadata in ``prefix`` as the writer of ``version``
        wrote it, for the record's current ``seq``."""
        ...

    def stale_disseminations(self, prefix: str, version: str, *, after_seq: int = 0,
                             limit: int = 500) -> list[Resource]:
        """Live resources after ``after_seq`` (in seq order) whose metadata in ``prefix`` is
        missing or not written by the writer of ``version`` for their current seq."""
        ...

    def set_written_versions(self, versions: dict[str, str]) -> None:
        """Record the writer versions all live records' metadata is now written by."""
        ...

    def set_normalized_seq(self, member_id: str, seq: int) -> None: ...

    def retire(self, retired_id: str, resource_id: str) -> None:
        """Keep ``retired_id`` resolvable as another name of ``resource_id`` (a merge)."""
        ...

    def aliases_of(self, resource_id: str) -> list[str]:
        """The retired IRIs that now name ``resource_id``, sorted."""
        ...

    def set_unmapped(self, member_id: str, identifier: str,
                     terms: Sequence[tuple[str, str, str]]) -> None:
        """Keep a record's unmapped ``(field, source, value)`` triples, replacing its earlier
        ones (the member's quality report counts them: :mod:`eduxchange.publish.report`)."""
        ...


class StoreReader(Protocol):
    """What reading a store needs: harvest state and log, the catalogue, reports, search.

    A read-only store (for serving) has these methods only."""

    def member_state(self, member_id: str) -> MemberState: ...

    def events(self, member_id: str | None = None, run_id: int | None = None, *,
               min_severity: str = "info", limit: int = 100) -> list[EventInfo]:
        """Stored issues, newest first, of at least ``min_severity`` (see :data:`SEVERITIES`)."""
        ...

    def warning_counts(self, run_ids: Sequence[int]) -> dict[int, int]:
        """How many warnings each of these runs stored (runs with none are left out)."""
        ...

    def last_run_warnings(self, member_id: str) -> tuple[int, EventInfo | None]:
        """The warnings of the member's last finished run: how many, and the latest one."""
        ...

    def counts(self, member_id: str) -> dict[str, int]: ...

    def iter_records(self, member_id: str | None = None, *, include_deleted: bool = True,
                     since_seq: int = 0) -> Iterator[StoredRecord]: ...

    def runs(self, member_id: str | None = None, limit: int = 20) -> list[RunInfo]: ...

    def quarantine(self, member_id: str | None = None, limit: int = 100) -> list[QuarantineEntry]: ...

    def iter_resources(self, *, include_deleted: bool = False, since_seq: int = 0,
                       member_id: str | None = None, updated_since: str | None = None
                       ) -> Iterator[Resource]: ...

    def resource_counts(self) -> dict[str, int]: ...

    # -- readers of the member quality report (eduxchange.publish.report) ----------------------------

    def iter_descriptions(self, member_id: str) -> Iterator[StoredDescription]:
        """One member's normalized descriptions, by identifier, in bounded memory."""
        ...

    def iter_quarantine(self, member_id: str) -> Iterator[QuarantineEntry]:
        """A member's unresolved quarantine entries, the newest per (stage, identifier),
        oldest first, without raw bytes."""
        ...

    def description_count(self, member_id: str) -> int: ...

    def unmapped_terms(self, member_id: str, *, examples: int = 3
                       ) -> list[tuple[str, str, str, int, tuple[str, ...]]]:
        """Unmapped ``(field, source, value, records, example identifiers)``, most frequent first."""
        ...

    def iter_unmapped(self, member_id: str) -> Iterator[tuple[str, str, str, str]]:
        """Every ``(identifier, field, source, value)`` unmapped in the member's records."""
        ...

    def report_snapshots(self, member_id: str, limit: int = 10
                         ) -> list[tuple[int | None, str, dict[str, Any]]]:
        """Kept report figures ``(run_id, created_at, figures)``, newest run first."""
        ...

    def written_versions(self) -> dict[str, str]:
        """What :meth:`CatalogTxn.set_written_versions` last recorded (``{}`` never)."""
        ...

    # -- full-text search (eduxchange.store.search) ----------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        """The resources matching ``query``, most relevant first, paged, with facet counts.

        Terms come from :func:`~eduxchange.store.search.search_terms` (every term must match);
        texts and concept labels of every language are searched
        (:func:`~eduxchange.store.search.search_document`). A backend keeps its index in the
        catalogue transaction (:meth:`CatalogTxn.put_resource`).
        """
        ...

    def close(self) -> None: ...


class CatalogStore(StoreReader, Protocol):
    """Everything the harvester and normalization need from a store: the readers and the
    writers."""

    def update_member_state(self, member_id: str, **fields: Any) -> None: ...

    def begin_run(self, member_id: str, *, mode: str, metadata_prefix: str | None,
                  from_: str | None) -> int: ...

    def update_run(self, run_id: int, *, mode: str, metadata_prefix: str | None,
                   from_: str | None) -> None:
        """Fill in what a run learnt after it began (negotiated format, mode, ``from``)."""
        ...

    def finish_run(self, run_id: int, *, state: str, counts: dict[str, int],
                   error: str | None) -> None: ...

    def log_issues(self, run_id: int | None, member_id: str, issues: Sequence[Issue]) -> None: ...

    def harvest_lock(self) -> AbstractContextManager[None]:
        """Hold the store's harvest lock for the block; :class:`~eduxchange.core.errors.StoreLocked`
        when another process or thread holds it."""
        ...

    def commit_page(self, member_id: str, run_id: int, metadata_prefix: str,
                    records: Sequence[RawRecord], quarantined: Sequence[Quarantined],
                    resume: dict[str, Any] | None) -> PageCounts:
        """Store one page and the resume state atomically.

        Never replaces a record by a copy with an older datestamp (OAI-PMH 2.0 section
        2.7.1: the datestamp orders a record's versions): within the page the newest copy
        wins (on equal datestamps the later one), then it is compared with the stored
        version in the same transaction. Ignored copies come back in ``stale``. A stored
        datestamp more than a day in the future does not hold back a replacement.
        """
        ...

    def mark_seen(self, member_id: str, run_id: int, identifiers: Sequence[str]) -> None: ...

    def retire_unseen(self, member_id: str, run_id: int) -> int: ...

    def catalog(self) -> AbstractContextManager[CatalogTxn]: ...

    def put_report_snapshot(self, member_id: str, run_id: int | None,
                            figures: dict[str, Any]) -> None: ...
