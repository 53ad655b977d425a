"""Harvest state in SQLite: members' resume state, runs and their log, raw records by page.

Raw records are kept exactly as received, so normalization can be re-run without harvesting
again. :class:`HarvestReaders` only reads (the read-only store has it); :class:`HarvestWriters`
commits pages and runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from ...core.dates import normalize_datestamp
from ...core.models import Issue, Quarantined, RawRecord
from ..base import (
    SEVERITIES,
    EventInfo,
    LeaseFence,
    MemberState,
    PageCounts,
    QuarantineEntry,
    RunInfo,
    RunStats,
    StaleRecord,
    StoredRecord,
    is_stale,
)
from ..lock import exclusive_lock, lock_path
from .connection import Connections, WriteConnections, _discard, _now, in_chunks, store_errors
from .leases import check_fence

__all__ = ["HarvestReaders", "HarvestWriters"]

_MEMBER_FIELDS = (
    "metadata_prefix", "granularity", "deleted_record", "earliest_datestamp", "next_from",
    "last_harvest", "state", "error", "resume", "last_reconcile", "normalized_seq",
)




class HarvestReaders(Connections):
    """What the harvest log, the CLI and normalization read of the harvest state."""

    @store_errors
    def member_state(self, member_id: str) -> MemberState:
        row = self._conn().execute(
            f"SELECT {', '.join(_MEMBER_FIELDS)} FROM members WHERE id = ?", (member_id,)
        ).fetchone()
        if row is None:
            return MemberState(member_id=member_id)
        values = dict(zip(_MEMBER_FIELDS, row, strict=True))
        values["resume"] = json.loads(values["resume"]) if values["resume"] else None
        values["state"] = values["state"] or "never"
        return MemberState(member_id=member_id, **values)
    @store_errors
    def runs(self, member_id: str | None = None, limit: int = 20) -> list[RunInfo]:
        sql = ("SELECT id, member_id, mode, state, started_at, finished_at, counts, error "
               "FROM runs")
        params: tuple[Any, ...] = ()
        if member_id is not None:
            sql += " WHERE member_id = ?"
            params = (member_id,)
        sql += " ORDER BY id DESC LIMIT ?"
        return [
            RunInfo(id=r[0], member_id=r[1], mode=r[2], state=r[3], started_at=r[4],
                    finished_at=r[5], counts=json.loads(r[6]), error=r[7])
            for r in self._conn().execute(sql, (*params, limit))
        ]

    # -- events: the issues runs met (log_issues writes them) ------------------

    _EVENT_COLUMNS = "id, run_id, member_id, code, severity, message, identifier, created_at"

    @staticmethod
    def _event(row: Any) -> EventInfo:
        return EventInfo(id=row[0], run_id=row[1], member_id=row[2], code=row[3],
                         severity=row[4], message=row[5], identifier=row[6], created_at=row[7])

    @store_errors
    def events(self, member_id: str | None = None, run_id: int | None = None, *,
               min_severity: str = "info", limit: int = 100) -> list[EventInfo]:
        if min_severity not in SEVERITIES:
            raise ValueError(f"unknown severity {min_severity!r}; known: {', '.join(SEVERITIES)}")
        wanted = SEVERITIES[SEVERITIES.index(min_severity):]
        where = [f"severity IN ({','.join('?' * len(wanted))})"]
        params: list[Any] = list(wanted)
        if member_id is not None:
            where.append("member_id = ?")
            params.append(member_id)
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        sql = (f"SELECT {self._EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
               "ORDER BY id DESC LIMIT ?")
        return [self._event(r) for r in self._conn().execute(sql, (*params, max(0, limit)))]

    @store_errors
    def warning_counts(self, run_ids: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for chunk, marks in in_chunks(list(run_ids)):
            counts.update((int(r[0]), int(r[1])) for r in self._conn().execute(
                f"SELECT run_id, COUNT(*) FROM events WHERE severity = 'warning' AND run_id IN "
                f"({marks}) GROUP BY run_id", chunk))
        return counts

    @store_errors
    def run_stats(self) -> dict[str, RunStats]:
        """Runs per member, failures, last success and last finish (the ``runs`` table)."""
        return {
            str(r[0]): RunStats(member_id=str(r[0]), runs=int(r[1]), failed=int(r[2]),
                                last_success=r[3], last_finished=r[4])
            for r in self._conn().execute(
                "SELECT member_id, COUNT(*), COALESCE(SUM(state = 'failed'), 0), "
                "MAX(CASE WHEN state = 'ok' THEN finished_at END), "
                "MAX(CASE WHEN state != 'interrupted' THEN finished_at END) "
                "FROM runs GROUP BY member_id")}

    @store_errors
    def last_run_warnings(self, member_id: str) -> tuple[int, EventInfo | None]:
        conn = self._conn()
        row = conn.execute("SELECT MAX(id) FROM runs WHERE member_id = ? AND state != 'running'",
                           (member_id,)).fetchone()
        if row is None or row[0] is None:
            return 0, None
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE run_id = ? AND severity = 'warning'",
            (row[0],)).fetchone()
        latest = conn.execute(
            f"SELECT {self._EVENT_COLUMNS} FROM events WHERE run_id = ? AND severity = 'warning' "
            "ORDER BY id DESC LIMIT 1", (row[0],)).fetchone()
        return int(count), None if latest is None else self._event(latest)

    @store_errors
    def counts(self, member_id: str) -> dict[str, int]:
        conn = self._conn()
        live, gone = conn.execute(
            "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) "
            "FROM records WHERE member_id = ?", (member_id,)).fetchone()
        (quarantined,) = conn.execute(
            "SELECT COUNT(*) FROM quarantine WHERE member_id = ? AND resolved = 0",
            (member_id,)).fetchone()
        return {"records": int(live), "deleted": int(gone), "quarantined": int(quarantined)}

    @store_errors
    def iter_records(self, member_id: str | None = None, *,
                     include_deleted: bool = True, since_seq: int = 0) -> Iterator[StoredRecord]:
        """Stream stored records in change order (``seq``), in batches, in bounded memory."""
        where: list[str] = []
        params: list[Any] = []
        if member_id is not None:
            where.append("member_id = ?")
            params.append(member_id)
        if not include_deleted:
            where.append("deleted = 0")
        for r in self._by_seq(
                "SELECT member_id, identifier, metadata_prefix, datestamp, sets, deleted, raw, "
                "run_id, first_harvested, harvested_at, raw_z, seq FROM records", where, params,
                since_seq, batch=1000):
            yield StoredRecord(member_id=r[0], identifier=r[1], metadata_prefix=r[2],
                               datestamp=r[3], sets=tuple(json.loads(r[4])), deleted=bool(r[5]),
                               raw=r[6] if r[10] is None else self._unz(r[10]), run_id=r[7],
                               first_harvested=r[8], harvested_at=r[9], seq=r[11])

    @store_errors
    def quarantine(self, member_id: str | None = None, limit: int = 100) -> list[QuarantineEntry]:
        sql = ("SELECT id, member_id, identifier, run_id, stage, reason, raw, created_at "
               "FROM quarantine WHERE resolved = 0")
        params: list[Any] = []
        if member_id is not None:
            sql += " AND member_id = ?"
            params.append(member_id)
        sql += " ORDER BY id DESC LIMIT ?"
        return [
            QuarantineEntry(id=r[0], member_id=r[1], identifier=r[2], run_id=r[3], stage=r[4],
                            reason=r[5], raw=r[6], created_at=r[7])
            for r in self._conn().execute(sql, (*params, limit))
        ]



class HarvestWriters(WriteConnections):
    """Members' state, runs, their issues and raw records by page, each in one transaction."""

    @store_errors
    def update_member_state(self, member_id: str, **fields: Any) -> None:
        with self._write() as conn:
            self._update_member(conn, member_id, fields)

    @staticmethod
    def _update_member(conn: sqlite3.Connection, member_id: str, fields: dict[str, Any]) -> None:
        unknown = set(fields) - set(_MEMBER_FIELDS)
        if unknown:
            raise ValueError(f"unknown member state fields: {sorted(unknown)}")
        if "resume" in fields and fields["resume"] is not None:
            fields = {**fields, "resume": json.dumps(fields["resume"], sort_keys=True)}
        conn.execute("INSERT OR IGNORE INTO members (id) VALUES (?)", (member_id,))
        if fields:
            assignments = ", ".join(f"{k} = ?" for k in fields)
            conn.execute(f"UPDATE members SET {assignments} WHERE id = ?",
                         (*fields.values(), member_id))

    # -- runs and the harvest log ---------------------------------------------

    @store_errors
    def begin_run(self, member_id: str, *, mode: str, metadata_prefix: str | None,
                  from_: str | None) -> int:
        with self._write() as conn:
            # A run still 'running' for this member was killed: say so in the log.
            conn.execute(
                "UPDATE runs SET state = 'interrupted', finished_at = COALESCE(finished_at, ?) "
                "WHERE member_id = ? AND state = 'running'", (_now(), member_id))
            cur = conn.execute(
                "INSERT INTO runs (member_id, mode, metadata_prefix, from_, started_at) "
                "VALUES (?, ?, ?, ?, ?)", (member_id, mode, metadata_prefix, from_, _now()))
            return int(cur.lastrowid or 0)

    @store_errors
    def update_run(self, run_id: int, *, mode: str, metadata_prefix: str | None,
                   from_: str | None) -> None:
        with self._write() as conn:
            conn.execute("UPDATE runs SET mode = ?, metadata_prefix = ?, from_ = ? WHERE id = ?",
                         (mode, metadata_prefix, from_, run_id))

    @store_errors
    def finish_run(self, run_id: int, *, state: str, counts: dict[str, int],
                   error: str | None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET state = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?",
                (state, _now(), json.dumps(counts, sort_keys=True), error, run_id))

    @store_errors
    def log_issues(self, run_id: int | None, member_id: str, issues: Sequence[Issue]) -> None:
        if not issues:
            return
        now = _now()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO events (run_id, member_id, code, severity, message, identifier, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, member_id, i.code, i.severity, i.message, i.identifier, now)
                 for i in issues])

    def harvest_lock(self) -> AbstractContextManager[None]:
        """The harvest lock: ``<store>.lock`` next to the file (see :mod:`.lock`)."""
        return _discard(exclusive_lock(lock_path(self.path)))

    # -- records ----------------------------------------------------------------

    @store_errors
    def commit_page(self, member_id: str, run_id: int, metadata_prefix: str,
                    records: Sequence[RawRecord], quarantined: Sequence[Quarantined],
                    resume: dict[str, Any] | None, *,
                    fence: LeaseFence | None = None) -> PageCounts:
        """Store one page and the member's resume state in one transaction (first checking
        ``fence``, in it: :class:`~eduxchange.store.base.LeaseFence`).

        A record is *unchanged* when the store already holds it with the same
        datestamp and deleted flag (it is then only marked seen); a deletion
        keeps the last raw record and sets the flag, so nothing is lost silently.
        A copy older than the stored version, or than another copy of the same
        identifier in the page, is ignored (:func:`~eduxchange.store.base.is_stale`)
        and returned in ``stale``; a stored one is still marked seen.
        """
        now = _now()
        clock = datetime.now(UTC)
        new = updated = unchanged = deleted = 0
        stale: list[StaleRecord] = []
        # The same identifier may stand twice in a page: the newest copy wins, and of
        # copies with equal datestamps the last one (the same version sent again).
        latest: dict[str, RawRecord] = {}
        for rec in records:
            ident = rec.header.identifier
            prev = latest.get(ident)
            if prev is not None and is_stale(rec.header.datestamp, prev.header.datestamp,
                                             now=clock):
                stale.append(StaleRecord(identifier=ident, datestamp=rec.header.datestamp,
                                         kept=prev.header.datestamp, within_page=True))
                continue
            if prev is not None and (normalize_datestamp(prev.header.datestamp)
                                     != normalize_datestamp(rec.header.datestamp)):
                stale.append(StaleRecord(identifier=ident, datestamp=prev.header.datestamp,
                                         kept=rec.header.datestamp, within_page=True))
            latest[ident] = rec
        with self._write() as conn:
            check_fence(conn, fence)
            seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
            existing: dict[str, tuple[str, int, str, str]] = {}
            for chunk, marks in in_chunks(list(latest)):
                for ident, datestamp, is_deleted, sets, prefix in conn.execute(
                    f"SELECT identifier, datestamp, deleted, sets, metadata_prefix FROM records "
                    f"WHERE member_id = ? AND identifier IN ({marks})", (member_id, *chunk)
                ):
                    existing[ident] = (datestamp, is_deleted, sets, prefix)
            inserts: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            deletions: list[tuple[Any, ...]] = []
            seen: list[tuple[Any, ...]] = []
            ignored: set[str] = set()
            for ident, rec in latest.items():
                h = rec.header
                old = existing.get(ident)
                sets_json = json.dumps(sorted(h.sets))
                if old is not None and is_stale(h.datestamp, old[0], now=clock):
                    # The member still lists it (seen, for reconciliation); the newer stays.
                    stale.append(StaleRecord(identifier=ident, datestamp=h.datestamp,
                                             kept=old[0]))
                    ignored.add(ident)
                    seen.append((run_id, old[2], member_id, ident))
                    continue
                if (old is not None and old[0] == h.datestamp and bool(old[1]) == h.deleted
                        and (h.deleted or old[3] == metadata_prefix)):
                    unchanged += 1
                    merged = sorted(set(json.loads(old[2])) | set(h.sets))
                    seen.append((run_id, json.dumps(merged), member_id, ident))
                    continue
                seq += 1
                if h.deleted:
                    deleted += 1
                    if old is None:
                        inserts.append((member_id, ident, metadata_prefix, h.datestamp,
                                        normalize_datestamp(h.datestamp), sets_json, 1, None,
                                        None, run_id, run_id, now, now, seq))
                    else:
                        deletions.append((h.datestamp, normalize_datestamp(h.datestamp),
                                          run_id, run_id, now, seq, member_id, ident))
                elif old is None:
                    new += 1
                    inserts.append((member_id, ident, metadata_prefix, h.datestamp,
                                    normalize_datestamp(h.datestamp), sets_json, 0, None,
                                    self._codec.compress("raw", rec.raw), run_id, run_id, now,
                                    now, seq))
                else:
                    updated += 1
                    updates.append((metadata_prefix, h.datestamp, normalize_datestamp(h.datestamp),
                                    sets_json, self._codec.compress("raw", rec.raw), run_id, run_id, now, seq,
                                    member_id, ident))
            if inserts:
                conn.executemany(
                    "INSERT INTO records (member_id, identifier, metadata_prefix, datestamp, "
                    "datestamp_utc, sets, deleted, raw, raw_z, run_id, seen_run, first_harvested, "
                    "harvested_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
            if updates:
                conn.executemany(
                    "UPDATE records SET metadata_prefix = ?, datestamp = ?, datestamp_utc = ?, "
                    "sets = ?, deleted = 0, raw = NULL, raw_z = ?, run_id = ?, seen_run = ?, "
                    "harvested_at = ?, "
                    "seq = ? WHERE member_id = ? AND identifier = ?", updates)
            if deletions:
                # The last raw record stays: a deletion marks, it does not erase.
                conn.executemany(
                    "UPDATE records SET datestamp = ?, datestamp_utc = ?, deleted = 1, "
                    "run_id = ?, seen_run = ?, harvested_at = ?, seq = ? "
                    "WHERE member_id = ? AND identifier = ?", deletions)
            if seen:
                conn.executemany(
                    "UPDATE records SET seen_run = ?, sets = ? WHERE member_id = ? AND identifier = ?",
                    seen)
            stored = [i for i, r in latest.items() if not r.header.deleted and i not in ignored]
            # A record that now reads fine clears its earlier quarantine entries: found for
            # the page at once (by quarantine_record), so a page with none costs no write.
            entries: list[tuple[int]] = []
            for chunk, marks in in_chunks(stored):
                entries += conn.execute(
                    "SELECT id FROM quarantine WHERE member_id = ? AND identifier IN "
                    f"({marks}) AND stage = 'harvest' AND resolved = 0",
                    (member_id, *chunk)).fetchall()
            if entries:
                conn.executemany("UPDATE quarantine SET resolved = 1 WHERE id = ?", entries)
            if quarantined:
                conn.executemany(
                    "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, "
                    "created_at) VALUES (?, ?, ?, 'harvest', ?, ?, ?)",
                    [(member_id, q.identifier, run_id, q.reason, q.raw, now) for q in quarantined])
            conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            self._update_member(conn, member_id, {"resume": resume})
        return PageCounts(new=new, updated=updated, unchanged=unchanged, deleted=deleted,
                          quarantined=len(quarantined), stale=tuple(stale))

    @store_errors
    def mark_seen(self, member_id: str, run_id: int, identifiers: Sequence[str]) -> None:
        with self._write() as conn:
            conn.executemany(
                "UPDATE records SET seen_run = ? WHERE member_id = ? AND identifier = ?",
                [(run_id, member_id, i) for i in identifiers])

    @store_errors
    def retire_unseen(self, member_id: str, run_id: int, *,
                      fence: LeaseFence | None = None) -> int:
        """Mark deleted every live record of the member that run ``run_id`` did not see."""
        with self._write() as conn:
            check_fence(conn, fence)
            seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
            rows = conn.execute(
                "SELECT identifier FROM records WHERE member_id = ? AND deleted = 0 "
                "AND (seen_run IS NULL OR seen_run != ?)", (member_id, run_id)).fetchall()
            now = _now()
            conn.executemany(
                "UPDATE records SET deleted = 1, harvested_at = ?, seq = ? "
                "WHERE member_id = ? AND identifier = ?",
                [(now, seq + n + 1, member_id, r[0]) for n, r in enumerate(rows)])
            conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq + len(rows)),))
        return len(rows)

