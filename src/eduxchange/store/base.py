"""The catalogue store's interface: the one seam every reader and writer of a store uses.

Protocols by who needs them: :class:`HarvestStore` (the harvester), :class:`CatalogTxn` (the
normalization, inside :meth:`CatalogStore.catalog`), :class:`CatalogReader` (records, pages,
exports, search), :class:`ReportReader` (member quality reports), :class:`ChangeFeedReader` (the
change feed), :class:`OAIBackend` (the OAI-PMH provider). :class:`StoreReader` is all the
readers (what a read-only store for serving has); :class:`CatalogStore` is the whole store.
Nothing here is SQL: a backend returns these dataclasses and raises
:class:`~eduxchange.core.errors.StoreError` when the store itself fails.

A backend must commit each :meth:`HarvestStore.commit_page` atomically *together with* the
member's resume state: that is what makes an interrupted harvest resumable with no record lost
or duplicated. A harvest worker's writes carry a :class:`LeaseFence`: the same transaction
checks that the worker still holds the member's lease, so a worker frozen past its lease never
writes a page next to the worker that took the member over.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence, Set
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol, Self

import orjson

from ..core.dates import parse_datestamp
from ..core.errors import LeaseLost
from ..core.models import Issue, Quarantined, RawRecord
from ..core.record import CommonRecord, Description
from ..publish.changes import Change
from .search import SearchDocument, SearchQuery, SearchResult

__all__ = [
    "CatalogStore",
    "StoreReader",
    "HarvestReader",
    "HarvestStore",
    "CatalogReader",
    "ReportReader",
    "ChangeFeedReader",
    "OAIBackend",
    "OAIItem",
    "CatalogTxn",
    "NormalizedBefore",
    "collect_normalized_before",
    "CatalogueTotals",
    "Change",
    "MemberDescription",
    "LeaseFence",
    "LeaseInfo",
    "LeaseStore",
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
    "RunStats",
    "canonical_json",
    "parse_json",
    "Encoded",
    "NewResource",
]

#: A stored datestamp further than this ahead of the clock does not hold back a replacement.
FUTURE_SLACK = timedelta(days=1)


def canonical_json(value: Any) -> str:
    """The JSON text every store keeps a record or description as (keys sorted, no spaces,
    Unicode as is): what a store gives back is :func:`parse_json` of it, so this text is the
    *stored form* of a record, which every writer renders from (pre-rendered metadata and
    GetRecord alike), and two records are the same when their texts are.

    Made by orjson, several times faster than the standard library and, for what a record
    holds (strings, lists, objects; the schema has no numbers), the same text as
    ``json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)``
    (tests/test_canonical_json.py); what orjson refuses (keys that are not strings, integers
    beyond 64 bits) is written by the standard library."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_json(text: str | bytes) -> Any:
    """A JSON text as Python values (orjson; the standard library for what orjson refuses,
    such as NaN written by an older release)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@dataclass(frozen=True, slots=True)
class Encoded:
    """What the caller of :meth:`CatalogTxn.put_resource` already made of the record, so
    that the store does not make it again: its :func:`canonical_json` text and, optionally,
    its search document (:func:`eduxchange.store.search.search_document` of the stored form,
    with the default vocabularies). Both must be of the record passed beside them."""

    text: str
    search: SearchDocument | None = None


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
class NewResource:
    """A resource that one description makes alone, all of it made already, for
    :meth:`CatalogTxn.put_new_resources`: the description (``description.resource_id`` is
    the resource's IRI) with its stored text, the raw record's ``raw_seq`` and its unmapped
    terms; the resource's match keys, OAI-PMH sets, text and search document (``encoded``)
    and pre-rendered metadata (``written``: prefix, bytes, writer version)."""

    description: StoredDescription
    description_text: str
    raw_seq: int
    unmapped: tuple[tuple[str, str, str], ...]
    keys: tuple[str, ...]
    sets: tuple[str, ...]
    encoded: Encoded
    written: tuple[tuple[str, bytes, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedBefore:
    """What the catalogue holds of one member record from its last normalization: its
    description, its unmapped terms, and whether it has an unresolved normalize-stage
    quarantine entry (read for a whole batch at once, so an unchanged record costs no
    statement of its own and no write)."""

    description: StoredDescription | None
    unmapped: frozenset[tuple[str, str, str]] = frozenset()
    quarantined: bool = False


def collect_normalized_before(
        ids: Sequence[str], descriptions: Mapping[str, StoredDescription],
        unmapped: Mapping[str, set[tuple[str, str, str]]], quarantined: Set[str],
) -> dict[str, NormalizedBefore]:
    """:meth:`CatalogTxn.normalized_before`'s answer from what a backend read for ``ids``: each
    identifier the catalogue knows something of, in the order given (one rule, every backend)."""
    return {ident: NormalizedBefore(description=descriptions.get(ident),
                                    unmapped=frozenset(unmapped.get(ident, ())),
                                    quarantined=ident in quarantined)
            for ident in ids if ident in descriptions or ident in unmapped
            or ident in quarantined}


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """A catalogue record; ``deleted`` records keep their last state (a tombstone)."""

    id: str
    record: CommonRecord
    deleted: bool
    created_at: str
    updated_at: str
    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStats:
    """A member's harvest runs in total: how many, how many failed, when the last one
    succeeded (ISO 8601, UTC; None before the first success), and when the last one that
    ended ``ok`` or ``failed`` finished (an ``interrupted`` run, stopped or killed, is no
    outcome: it must not put off the member's retry). What schedules, ``/health`` and
    ``/metrics`` read."""

    member_id: str
    runs: int = 0
    failed: int = 0
    last_success: str | None = None
    last_finished: str | None = None


class CatalogTxn(Protocol):
    """Primitive catalogue operations inside one write transaction (the merge policy lives
    in :mod:`eduxchange.catalog.normalization`, not in the store)."""

    def description(self, member_id: str, identifier: str) -> StoredDescription | None: ...

    def put_description(self, d: StoredDescription, raw_seq: int, *,
                        text: str | None = None) -> None:
        """Keep ``d`` (``text``: its description's :func:`canonical_json`, when the caller
        has it already)."""
        ...

    def normalized_before(self, member_id: str, identifiers: Sequence[str]
                          ) -> dict[str, NormalizedBefore]:
        """For each of the member's ``identifiers`` the catalogue knows (a description, an
        unmapped term or an unresolved normalize-stage quarantine entry), what it holds;
        identifiers it knows nothing of are left out."""
        ...

    def delete_description(self, member_id: str, identifier: str) -> None: ...

    def descriptions_of(self, resource_id: str) -> list[StoredDescription]: ...

    def resources_for_keys(self, keys: Sequence[str]) -> dict[str, str]: ...

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None: ...

    def resource(self, resource_id: str) -> Resource | None: ...

    def resource_states(self, resource_ids: Sequence[str]) -> dict[str, bool]:
        """Which of ``resource_ids`` have a row (a record or a tombstone), each mapped to
        whether it is deleted; IRIs without one are left out. One read for a whole batch
        (what :meth:`resource` tells of each, without reading its record)."""
        ...

    def put_resource(self, resource_id: str, record: CommonRecord | None, *, deleted: bool,
                     sets: Sequence[str], encoded: Encoded | None = None,
                     new: bool = False) -> str | None:
        """Write if changed; return the change kind (create, update, delete) or None.

        ``sets`` are the record's OAI-PMH setSpecs, top levels included, as the catalogue
        computed them (:func:`eduxchange.catalog.sets.oai_set_specs`): the store keeps them
        with the record for :meth:`OAIBackend.oai_list` and applies no rule of its own. The
        search index is kept in the same transaction. ``encoded``: the record's text and
        search document when the caller made them already (:class:`Encoded`); ``record`` may
        then be None when ``encoded`` has the search document (nothing is made of it).
        ``new``: the caller knows the IRI has no row in this transaction, not even a
        tombstone (:meth:`resource_states` said so, and it wrote none since), so the store
        writes without looking (on PostgreSQL a look waits for every statement queued)."""
        ...

    def quarantine(self, member_id: str, identifier: str | None, *, stage: str, reason: str,
                   raw: bytes | None) -> None: ...

    def resolve_quarantine(self, member_id: str, identifier: str, *, stage: str) -> None: ...

    def put_dissemination(self, resource_id: str, prefix: str, xml: bytes, *,
                          version: str) -> None:
        """Keep ``xml``, the record's metadata in ``prefix`` as the writer of ``version``
        wrote it, for the record's current ``seq``."""
        ...

    def put_new_resources(self, items: Sequence[NewResource]) -> None:
        """Write resources that are new, in order, in a few statements for all of them.

        Each has no row under its IRI (not even a tombstone: :meth:`resource_states`), its
        description's identifier is unknown to the catalogue (no description, unmapped term
        or quarantine entry: :meth:`normalized_before`), and no other resource holds its
        keys. What is written is what :meth:`put_description`, :meth:`set_unmapped`,
        :meth:`set_keys`, :meth:`put_resource` (``new=True``; a change of kind ``create``
        each, seqs in order) and :meth:`put_dissemination` write one at a time."""
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


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaseInfo:
    """One lease of :class:`LeaseStore`: who holds it (if anyone) and when its work last ended.

    Times are seconds since the epoch on the store's clock (:meth:`LeaseStore.lease_clock`).
    ``live`` says whether ``worker_id`` still holds it (its lease had not expired when read).
    """

    name: str
    worker_id: str | None
    taken_at: float | None
    expires_at: float | None
    finished_at: float | None
    finished_by: str | None
    live: bool


@dataclass(frozen=True, slots=True)
class LeaseFence:
    """What a fenced write checks in its own transaction: that ``worker_id`` holds the lease
    ``name`` (:class:`LeaseStore`).

    "Holds" is the lease's holder, not its clock: a lease that expired but that no other
    worker took yet is still its holder's, and a write under it is safe, because taking a
    lease over waits for (SQLite) or skips (PostgreSQL) a fenced write in progress, and the
    new holder then resumes after what that write committed. A write whose fence fails rolls
    back and raises :class:`~eduxchange.core.errors.LeaseLost`: nothing of it is stored.
    """

    name: str
    worker_id: str

    def check(self, holder: str | None) -> None:
        """Raise :class:`~eduxchange.core.errors.LeaseLost` unless ``holder`` (the lease's
        worker as the store read it in the write's transaction, ``None`` when there is no
        lease) is this fence's worker."""
        if holder != self.worker_id:
            raise LeaseLost(
                f"this worker ({self.worker_id}) no longer holds its lease on {self.name!r} "
                f"(now {'held by ' + holder if holder else 'released'}): "
                "another worker took the member over while this one was frozen or cut off; "
                "the write was rolled back")


class LeaseStore(Protocol):
    """Leases that let harvest workers share an alliance (:mod:`eduxchange.workers`).

    A lease is named (a member id, or a name starting with ``:`` for the store-wide
    normalization lease) and held by one worker at a time until it is released or its
    time-to-live passes without a renewal; then any worker may take it over. Each method is
    one short transaction; times are on the store's clock, so workers on machines whose
    clocks differ still agree.
    """

    def lease_clock(self) -> float:
        """The store's clock, in seconds since the epoch (what lease times are compared with)."""
        ...

    def acquire_lease(self, name: str, worker_id: str, ttl_s: float, *,
                      unless_finished_since: float | None = None) -> bool:
        """Take the lease for ``ttl_s`` seconds if no live lease holds it (the holder itself
        cannot take it twice); with ``unless_finished_since``, not when its work was finished
        (:meth:`release_lease`) at or after that time. True when taken."""
        ...

    def renew_lease(self, name: str, worker_id: str, ttl_s: float) -> bool:
        """Extend ``worker_id``'s lease to ``ttl_s`` seconds from now; False when it no longer
        holds it (it expired and another worker took it)."""
        ...

    def release_lease(self, name: str, worker_id: str, *, finished: bool = False) -> None:
        """Let go of the lease if ``worker_id`` holds it; ``finished`` records that its work
        ended now (a harvest that ended, ok or failed)."""
        ...

    def leases(self) -> list[LeaseInfo]:
        """Every lease the store knows, by name."""
        ...

    def worker_lock(self) -> AbstractContextManager[None]:
        """Held, shared, by every harvest worker while it works: any number of workers at once,
        but never together with :meth:`CatalogStore.harvest_lock` (the one-process harvest);
        :class:`~eduxchange.core.errors.StoreLocked` when that one holds the store."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueTotals:
    """What the landing page counts: live resources, distinct languages and licences."""

    resources: int
    languages: int
    licences: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberDescription:
    """One member's normalized description of a resource, and when it was last normalized."""

    member_id: str
    identifier: str
    format: str
    description: dict[str, Any]
    updated_at: str


#: One item of an OAI-PMH list: the resource (``record`` is ``{}`` unless asked for, or when
#: the metadata is already written), its leaf setSpecs, and the metadata already written in the
#: asked prefix by the asked writer version (``None`` when there is none: render it).
OAIItem = tuple[Resource, tuple[str, ...], bytes | None]


class HarvestReader(Protocol):
    """The harvest state and log, read: members, runs, their issues, raw records, quarantine."""

    def member_state(self, member_id: str) -> MemberState: ...

    def counts(self, member_id: str) -> dict[str, int]:
        """The member's ``records`` (live), ``deleted`` and unresolved ``quarantined``."""
        ...

    def iter_records(self, member_id: str | None = None, *, include_deleted: bool = True,
                     since_seq: int = 0) -> Iterator[StoredRecord]:
        """Raw records with ``seq > since_seq``, in ``seq`` order, in bounded memory."""
        ...

    def runs(self, member_id: str | None = None, limit: int = 20) -> list[RunInfo]:
        """The harvest log, newest run first."""
        ...

    def quarantine(self, member_id: str | None = None, limit: int = 100) -> list[QuarantineEntry]:
        """Unresolved quarantine entries with their raw bytes, newest first."""
        ...

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

    def run_stats(self) -> dict[str, RunStats]:
        """Every member's :class:`RunStats` that has runs, by member id, in one query (read by
        schedules, ``/health`` and every ``/metrics`` scrape)."""
        ...


class HarvestStore(HarvestReader, Protocol):
    """Everything the harvester needs from a store: its state, runs and pages, read and written."""

    def update_member_state(self, member_id: str, **fields: Any) -> None:
        """Set these :class:`MemberState` fields (an unknown one: :class:`ValueError`)."""
        ...

    def begin_run(self, member_id: str, *, mode: str, metadata_prefix: str | None,
                  from_: str | None) -> int:
        """Start a run (a run of the member still ``running`` becomes ``interrupted``)."""
        ...

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
                    resume: dict[str, Any] | None, *,
                    fence: LeaseFence | None = None) -> PageCounts:
        """Store one page and the resume state atomically.

        With ``fence`` (a harvest worker's), the same transaction first checks that the
        fence's worker holds its lease and keeps it from being taken over until the commit;
        if not, nothing is written and :class:`~eduxchange.core.errors.LeaseLost` is raised.

        Never replaces a record by a copy with an older datestamp (OAI-PMH 2.0 section
        2.7.1: the datestamp orders a record's versions): within the page the newest copy
        wins (on equal datestamps the later one), then it is compared with the stored
        version in the same transaction. Ignored copies come back in ``stale``. A stored
        datestamp more than a day in the future does not hold back a replacement.
        """
        ...

    def mark_seen(self, member_id: str, run_id: int, identifiers: Sequence[str]) -> None: ...

    def retire_unseen(self, member_id: str, run_id: int, *,
                      fence: LeaseFence | None = None) -> int:
        """Mark deleted every live record of the member that run ``run_id`` did not see;
        ``fence`` as for :meth:`commit_page` (a retirement by a worker whose member was taken
        over would delete what the new holder's run stores)."""
        ...


class CatalogReader(Protocol):
    """The unified catalogue, read: records, their member descriptions, totals, search."""

    def resource(self, resource_id: str) -> Resource | None:
        """One catalogue record (or its tombstone) by IRI."""
        ...

    def alias_target(self, resource_id: str) -> str | None:
        """The IRI a retired IRI now names (:meth:`CatalogTxn.retire`), or ``None``."""
        ...

    def iter_resources(self, *, include_deleted: bool = False, since_seq: int = 0,
                       member_id: str | None = None, updated_since: str | None = None
                       ) -> Iterator[Resource]:
        """Catalogue records with ``seq > since_seq`` in ``seq`` order, in bounded memory;
        ``updated_since`` (ISO 8601, UTC ``...Z``) keeps those changed at or after it."""
        ...

    def resource_counts(self) -> dict[str, int]:
        """How many ``resources`` are live and how many are ``deleted``."""
        ...

    def catalogue_totals(self) -> CatalogueTotals:
        """Live resources and their distinct languages and licences (callers cache it)."""
        ...

    def member_descriptions(self, resource_id: str) -> list[MemberDescription]:
        """The member descriptions a catalogue record was merged from, by rank, member and
        identifier (at most 100)."""
        ...

    def member_resource_count(self, member_id: str) -> int:
        """How many live catalogue records the member's descriptions contribute to."""
        ...

    def written_versions(self) -> dict[str, str]:
        """What :meth:`CatalogTxn.set_written_versions` last recorded (``{}`` never)."""
        ...

    def search(self, query: SearchQuery) -> SearchResult:
        """The resources matching ``query``, most relevant first, paged, with facet counts.

        Terms come from :func:`~eduxchange.store.search.search_terms` (every term must match);
        texts and concept labels of every language are searched
        (:func:`~eduxchange.store.search.search_document`). A backend keeps its index in the
        catalogue transaction (:meth:`CatalogTxn.put_resource`); a store without one raises
        :class:`~eduxchange.core.errors.StoreError` saying how to build it.
        """
        ...


class ReportReader(Protocol):
    """What a member's quality report (:mod:`eduxchange.publish.report`) reads."""

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


class ChangeFeedReader(Protocol):
    """The catalogue's change log (one row per :meth:`CatalogTxn.put_resource` that changed)."""

    def change_rows(self, first_seq: int, last_seq: int) -> list[Change]:
        """The changes with ``first_seq <= seq <= last_seq``, oldest first."""
        ...

    def change_stats(self, before_seq: int | None = None) -> tuple[int, int, str | None]:
        """``(count, max seq, latest time)`` of the changes (those with ``seq < before_seq``)."""
        ...

    def latest_change(self) -> tuple[int, str | None]:
        """``(seq, time)`` of the newest change, ``(0, None)`` before the first."""
        ...


class OAIBackend(Protocol):
    """What the OAI-PMH provider needs from a store: resources and setSpecs, never XML.

    Datestamps are the resources' ``updated_at`` (UTC, ``YYYY-MM-DDThh:mm:ssZ``, so strings
    compare in time order); ``from_``/``until`` are inclusive bounds in that form (OAI-PMH 2.0
    §3.3.1). Lists are keyset pages on ``seq``: a token stays valid under concurrent writes (an
    updated record gets a higher seq and comes later, never lost, §3.5).
    """

    def oai_list(self, *, from_: str | None, until: str | None, set_: str | None,
                 after_seq: int, limit: int, with_records: bool, prefix: str | None = None,
                 writer_version: str | None = None) -> list[OAIItem]:
        """Up to ``limit`` items with ``seq > after_seq`` in ``seq`` order (in set ``set_``:
        the seq of the record's set membership). With ``prefix`` and ``writer_version``, the
        metadata pre-rendered for the record's current seq by that writer version comes along
        (and the record is then not decoded)."""
        ...

    def oai_count(self, *, from_: str | None, until: str | None, set_: str | None) -> int:
        """How many items the list has (``completeListSize``)."""
        ...

    def oai_get(self, resource_id: str) -> OAIItem | None:
        """One resource (live or deleted) with its record, or ``None``."""
        ...

    def oai_sets(self) -> list[str]:
        """Every setSpec some resource is in, top levels included, sorted."""
        ...

    def oai_earliest(self) -> str | None:
        """The earliest datestamp in the catalogue (``None`` when it is empty)."""
        ...

    def oai_token_key(self) -> bytes:
        """The secret key resumption tokens are signed with, the same for every server of the
        store and across restarts (so tokens stay valid)."""
        ...

    def oai_repository_identifier(self, default: str) -> str:
        """The repositoryIdentifier of the store's OAI identifiers: the one kept with the store,
        else ``default``, kept from now on (so identifiers outlive a change of ``base_uri``)."""
        ...

    def oai_id_prefixes(self) -> list[str]:
        """Every IRI prefix the store's resources have (``{base_uri}resources/`` of each
        ``base_uri`` the catalogue was built under), the earliest used first."""
        ...


class StoreReader(HarvestReader, CatalogReader, ReportReader, ChangeFeedReader, OAIBackend,
                  Protocol):
    """Everything publishing reads (server, pages, feeds, reports, exports): a read-only store
    for serving has these methods only. Errors of the store itself raise
    :class:`~eduxchange.core.errors.StoreError`."""

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class CatalogStore(StoreReader, HarvestStore, LeaseStore, Protocol):
    """A whole store: every reader, the harvest writers and the normalization transaction."""

    def catalog(self) -> AbstractContextManager[CatalogTxn]:
        """One write transaction of catalogue primitives; a failure of the store itself
        (locked, disk full, I/O) raises :class:`~eduxchange.core.errors.StoreError`, so
        normalization can tell it from a record that cannot be written."""
        ...

    def put_report_snapshot(self, member_id: str, run_id: int | None,
                            figures: dict[str, Any]) -> None:
        """Keep a report's key figures for the member's run ``run_id`` (replacing earlier ones)."""
        ...
