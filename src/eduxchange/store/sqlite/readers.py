"""Catalogue readers in SQLite: resources, descriptions, report figures, the change feed.

Nothing here writes, so the read-only store serving HTTP has all of it
(:class:`~eduxchange.store.base.CatalogReader`, :class:`~eduxchange.store.base.ReportReader`,
:class:`~eduxchange.store.base.ChangeFeedReader`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from ...core.errors import StoreError
from ...publish.changes import Change
from ..base import (
    CatalogueTotals,
    MemberDescription,
    QuarantineEntry,
    Resource,
    StoredDescription,
)
from .connection import Connections, store_errors

__all__ = ["CatalogReaders", "ChangeFeedReaders"]


class CatalogReaders(Connections):
    """The catalogue, its member descriptions and the member quality reports' figures."""

    @store_errors
    def resource(self, resource_id: str) -> Resource | None:
        """One catalogue record (or its tombstone) by IRI, outside any write transaction."""
        row = self._conn().execute(
            "SELECT record, deleted, created_at, updated_at, seq FROM resources WHERE id = ?",
            (resource_id,)).fetchone()
        if row is None:
            return None
        return Resource(id=resource_id, record=self._json(row[0]), deleted=bool(row[1]),
                        created_at=row[2], updated_at=row[3], seq=row[4])

    @store_errors
    def alias_target(self, resource_id: str) -> str | None:
        """The IRI of the resource a retired IRI now names, or ``None`` if it is not retired."""
        try:
            row = self._conn().execute("SELECT resource_id FROM aliases WHERE retired_id = ?",
                                       (resource_id,)).fetchone()
        except sqlite3.OperationalError:  # a store older than aliases, opened read-only
            return None
        return None if row is None else str(row[0])

    @store_errors
    def catalogue_totals(self) -> CatalogueTotals:
        """Counts over the live catalogue (one scan of ``resources``; callers cache by seq)."""
        conn = self._conn()
        self._codec.load_all(conn)  # records are compressed: unz() gives their text
        (resources,) = conn.execute("SELECT COUNT(*) FROM resources WHERE deleted = 0").fetchone()
        (languages,) = conn.execute(
            "SELECT COUNT(DISTINCT lower(j.value)) FROM resources r, "
            "json_each(unz(r.record), '$.inLanguage') j WHERE r.deleted = 0").fetchone()
        (licences,) = conn.execute(
            "SELECT COUNT(DISTINCT json_extract(unz(record), '$.license.id')) FROM resources "
            "WHERE deleted = 0").fetchone()
        return CatalogueTotals(resources=int(resources), languages=int(languages),
                               licences=int(licences))

    @store_errors
    def member_descriptions(self, resource_id: str) -> list[MemberDescription]:
        """The member descriptions a catalogue record was merged from, by member and identifier."""
        return [
            MemberDescription(member_id=r[0], identifier=r[1], format=r[2],
                              description=self._json(r[3]), updated_at=r[4])
            for r in self._conn().execute(
                "SELECT member_id, identifier, format, description, updated_at FROM descriptions "
                "WHERE resource_id = ? ORDER BY rank, member_id, identifier LIMIT 100",
                (resource_id,))
        ]

    @store_errors
    def member_resource_count(self, member_id: str) -> int:
        """How many live catalogue records a member's descriptions contribute to."""
        (count,) = self._conn().execute(
            "SELECT COUNT(DISTINCT d.resource_id) FROM descriptions d JOIN resources r "
            "ON r.id = d.resource_id WHERE d.member_id = ? AND r.deleted = 0",
            (member_id,)).fetchone()
        return int(count)

    @store_errors
    def iter_resources(self, *, include_deleted: bool = False, since_seq: int = 0,
                       member_id: str | None = None, updated_since: str | None = None
                       ) -> Iterator[Resource]:
        """Stream catalogue records in change order (``seq``), in bounded memory.

        ``updated_since`` (ISO 8601, UTC ``...Z``) keeps records changed at or after it.
        """
        where: list[str] = []
        params: list[Any] = []
        if updated_since is not None:
            where.append("updated_at >= ?")
            params.append(updated_since)
        if not include_deleted:
            where.append("deleted = 0")
        if member_id is not None:
            # Correlated, by descriptions_resource: an IN (subquery) was re-run (the member's
            # whole list) for every batch.
            where.append("EXISTS (SELECT 1 FROM descriptions d WHERE d.resource_id = resources.id "
                         "AND d.member_id = ?)")
            params.append(member_id)
        for r in self._by_seq("SELECT id, record, deleted, created_at, updated_at, seq "
                              "FROM resources", where, params, since_seq, batch=500):
            yield Resource(id=r[0], record=self._json(r[1]), deleted=bool(r[2]),
                           created_at=r[3], updated_at=r[4], seq=r[5])

    @store_errors
    def written_versions(self) -> dict[str, str]:
        """The writer versions, by prefix, every live record's pre-rendered metadata was
        last brought up to (``{}`` before the first time; see ``stale_disseminations``)."""
        row = self._conn().execute(
            "SELECT value FROM meta WHERE key = 'written_versions'").fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    @store_errors
    def resource_counts(self) -> dict[str, int]:
        live, gone = self._conn().execute(
            "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) FROM resources"
        ).fetchone()
        return {"resources": int(live), "deleted": int(gone)}

    # -- member quality reports (eduxchange.publish.report) ------------------------------------------

    @store_errors
    def iter_descriptions(self, member_id: str) -> Iterator[StoredDescription]:
        """Stream one member's normalized descriptions, by identifier, in bounded memory."""
        last = ""
        while True:
            rows = self._conn().execute(
                "SELECT identifier, resource_id, format, rank, description FROM descriptions "
                "WHERE member_id = ? AND identifier > ? ORDER BY identifier LIMIT 500",
                (member_id, last)).fetchall()
            if not rows:
                return
            for r in rows:
                yield StoredDescription(member_id=member_id, identifier=r[0], resource_id=r[1],
                                        format=r[2], rank=r[3], description=self._json(r[4]))
            last = rows[-1][0]

    @store_errors
    def iter_quarantine(self, member_id: str) -> Iterator[QuarantineEntry]:
        """Stream a member's unresolved quarantine entries (without raw bytes), oldest first.

        A record quarantined at harvest in several runs has several entries; only the newest
        of each (stage, identifier) comes back.
        """
        last = 0
        try:
            while True:
                rows = self._conn().execute(
                    "SELECT id, identifier, run_id, stage, reason, created_at FROM quarantine q "
                    "WHERE member_id = ? AND resolved = 0 AND id > ? AND (identifier IS NULL "
                    "OR NOT EXISTS (SELECT 1 FROM quarantine n WHERE n.member_id = q.member_id "
                    "AND n.identifier = q.identifier AND n.stage = q.stage AND n.resolved = 0 "
                    "AND n.id > q.id)) ORDER BY id LIMIT 500", (member_id, last)).fetchall()
                if not rows:
                    return
                for r in rows:
                    yield QuarantineEntry(id=r[0], member_id=member_id, identifier=r[1],
                                          run_id=r[2], stage=r[3], reason=r[4], raw=None,
                                          created_at=r[5])
                last = rows[-1][0]
        except sqlite3.OperationalError as err:
            raise StoreError(f"catalogue store {self.path}: {err}") from err

    @store_errors
    def description_count(self, member_id: str) -> int:
        """How many normalized descriptions the member has in the catalogue."""
        (n,) = self._conn().execute("SELECT COUNT(*) FROM descriptions WHERE member_id = ?",
                                    (member_id,)).fetchone()
        return int(n)

    @store_errors
    def unmapped_terms(self, member_id: str, *, examples: int = 3
                       ) -> list[tuple[str, str, str, int, tuple[str, ...]]]:
        """The member's unmapped ``(field, source, value, records, example identifiers)``,
        most frequent first (what normalization kept with :meth:`CatalogTxn.set_unmapped`)."""
        # The first ``examples`` identifiers of each term, in identifier order (a window over
        # the term's rows: MIN and MAX gave two at most, whatever was asked).
        try:
            rows = self._conn().execute(
                "SELECT field, source, value, n, identifier FROM (SELECT field, source, value, "
                "identifier, COUNT(*) OVER term AS n, ROW_NUMBER() OVER (term ORDER BY "
                "identifier) AS k FROM unmapped_terms WHERE member_id = ? "
                "WINDOW term AS (PARTITION BY field, source, value)) WHERE k <= MAX(?, 1) "
                "ORDER BY n DESC, field, source, value, identifier",
                (member_id, examples)).fetchall()
        except sqlite3.OperationalError:  # a store older than the table, opened read-only
            return []
        terms: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
        for field_, source, value, n, identifier in rows:
            found = terms.setdefault((field_, source, value), (int(n), []))[1]
            if len(found) < examples:
                found.append(identifier)
        return [(*term, n, tuple(found)) for term, (n, found) in terms.items()]

    @store_errors
    def iter_unmapped(self, member_id: str) -> Iterator[tuple[str, str, str, str]]:
        """Every ``(identifier, field, source, value)`` unmapped in the member's records."""
        try:
            rows = self._conn().execute(
                "SELECT identifier, field, source, value FROM unmapped_terms WHERE member_id = ? "
                "ORDER BY identifier, rowid", (member_id,))
            for r in rows:
                yield (r[0], r[1], r[2], r[3])
        except sqlite3.OperationalError:
            return

    @store_errors
    def report_snapshots(self, member_id: str, limit: int = 10
                         ) -> list[tuple[int | None, str, dict[str, Any]]]:
        """The kept report figures ``(run_id, created_at, figures)``, newest run first."""
        try:
            rows = self._conn().execute(
                "SELECT run_id, created_at, figures FROM reports WHERE member_id = ? "
                "ORDER BY run_id DESC LIMIT ?", (member_id, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(None if r[0] < 0 else int(r[0]), str(r[1]), json.loads(r[2])) for r in rows]


class ChangeFeedReaders(Connections):
    """The catalogue's change log (``changes``, one row per catalogue change, by ``seq``)."""

    @store_errors
    def change_rows(self, first_seq: int, last_seq: int) -> list[Change]:
        """The catalogue changes with ``first_seq <= seq <= last_seq``, oldest first."""
        return [Change(seq=r[0], resource_id=r[1], kind=r[2], at=r[3])
                for r in self._conn().execute(
                    "SELECT seq, resource_id, kind, at FROM changes WHERE seq BETWEEN ? AND ? "
                    "ORDER BY seq", (first_seq, last_seq))]

    @store_errors
    def change_stats(self, before_seq: int | None = None) -> tuple[int, int, str | None]:
        """``(count, max seq, latest time)`` of the changes (those with ``seq < before_seq``).

        Two lookups of the primary key, not a count of the log: ``changes.seq`` is dense (each
        catalogue change takes the next ``catalog_seq`` in the transaction that logs it, and
        the log is never pruned), so the count is the span of its seqs.
        """
        conn = self._conn()
        bound = "" if before_seq is None else " WHERE seq < ?"
        params: tuple[int, ...] = () if before_seq is None else (before_seq,)
        first = conn.execute(f"SELECT seq FROM changes{bound} ORDER BY seq LIMIT 1",
                             params).fetchone()
        last = conn.execute(f"SELECT seq, at FROM changes{bound} ORDER BY seq DESC LIMIT 1",
                            params).fetchone()
        if first is None or last is None:
            return 0, 0, None
        return int(last[0]) - int(first[0]) + 1, int(last[0]), last[1]

    @store_errors
    def latest_change(self) -> tuple[int, str | None]:
        """``(max seq, time)`` of the newest change, by the primary key: no scan of the log."""
        row = self._conn().execute(
            "SELECT seq, at FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, None) if row is None else (int(row[0]), row[1])
