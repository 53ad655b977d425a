"""The embedded default store: one SQLite file in WAL mode.

Each thread gets its own connection (members are harvested concurrently);
writers take the lock with ``BEGIN IMMEDIATE`` and wait for each other through
``busy_timeout``. Raw records are kept exactly as received, so normalization can
be re-run without harvesting again.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.dates import normalize_datestamp
from ..core.errors import StoreError
from ..core.models import Issue, Quarantined, RawRecord
from ..catalog.vocab import default_vocabularies
from .base import (
    SEVERITIES,
    EventInfo,
    MemberState,
    PageCounts,
    QuarantineEntry,
    Resource,
    RunInfo,
    StaleRecord,
    StoredDescription,
    StoredRecord,
    is_stale,
)
from .lock import exclusive_lock, lock_path
from .sqlite_leases import LEASE_SCHEMA, SQLiteLeases
from .search import (
    FACETS,
    FacetCount,
    SearchHit,
    SearchQuery,
    SearchResult,
    fts5_match,
    search_document,
    search_terms,
)

__all__ = ["SQLiteStore"]

#: 2: ``disseminations.writer_version`` (the version of the writer that made the bytes).
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    id                 TEXT PRIMARY KEY,
    metadata_prefix    TEXT,
    granularity        TEXT,
    deleted_record     TEXT,
    earliest_datestamp TEXT,
    next_from          TEXT,
    last_harvest       TEXT,
    state              TEXT NOT NULL DEFAULT 'never',
    error              TEXT,
    resume             TEXT,
    last_reconcile     TEXT,
    normalized_seq     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY,
    member_id       TEXT NOT NULL,
    mode            TEXT NOT NULL,
    metadata_prefix TEXT,
    from_           TEXT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    state           TEXT NOT NULL DEFAULT 'running',
    counts          TEXT NOT NULL DEFAULT '{}',
    error           TEXT
);
CREATE INDEX IF NOT EXISTS runs_member ON runs (member_id, id);
CREATE TABLE IF NOT EXISTS records (
    member_id       TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    metadata_prefix TEXT NOT NULL,
    datestamp       TEXT NOT NULL,
    datestamp_utc   TEXT NOT NULL,
    sets            TEXT NOT NULL DEFAULT '[]',
    deleted         INTEGER NOT NULL DEFAULT 0,
    raw             BLOB,
    run_id          INTEGER,
    seen_run        INTEGER,
    first_harvested TEXT NOT NULL,
    harvested_at    TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (member_id, identifier)
);
CREATE INDEX IF NOT EXISTS records_seq ON records (seq);
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    member_id   TEXT NOT NULL,
    identifier  TEXT,
    run_id      INTEGER,
    stage       TEXT NOT NULL DEFAULT 'harvest',
    reason      TEXT NOT NULL,
    raw         BLOB,
    created_at  TEXT NOT NULL,
    resolved    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS quarantine_member ON quarantine (member_id, resolved);
CREATE TABLE IF NOT EXISTS descriptions (
    member_id   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    format      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    description TEXT NOT NULL,
    raw_seq     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (member_id, identifier)
);
CREATE INDEX IF NOT EXISTS descriptions_resource ON descriptions (resource_id);
CREATE TABLE IF NOT EXISTS resources (
    id          TEXT PRIMARY KEY,
    record      TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_seq ON resources (seq);
CREATE TABLE IF NOT EXISTS match_keys (
    key         TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS match_keys_resource ON match_keys (resource_id);
CREATE TABLE IF NOT EXISTS changes (
    seq         INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS disseminations (
    resource_id TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    xml         BLOB NOT NULL,
    writer_version TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (resource_id, prefix)
);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER,
    member_id   TEXT NOT NULL,
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    identifier  TEXT,
    created_at  TEXT NOT NULL
);
"""

_MEMBER_FIELDS = (
    "metadata_prefix", "granularity", "deleted_record", "earliest_datestamp", "next_from",
    "last_harvest", "state", "error", "resume", "last_reconcile", "normalized_seq",
)


@contextmanager
def _discard(lock: AbstractContextManager[object]) -> Iterator[None]:
    """``lock`` as a context manager that yields nothing (the protocol's shape)."""
    with lock:
        yield


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SQLiteStore(SQLiteLeases):
    """A :class:`~eduxchange.store.base.CatalogStore` in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.executescript(_SCHEMA)
            self._migrate(conn)
            with self._write() as c:
                c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
                c.execute("INSERT OR IGNORE INTO meta VALUES ('catalog_seq', '0')")
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"cannot open the catalogue store {self.path}: {err}") from err

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        # The log reads a run's events and a member's latest ones.
        conn.execute("CREATE INDEX IF NOT EXISTS events_run ON events (run_id, severity)")
        conn.execute("CREATE INDEX IF NOT EXISTS events_member ON events (member_id, id)")
        # Stores made before normalization existed lack this column.
        columns = {row[1] for row in conn.execute("PRAGMA table_info(members)")}
        if "normalized_seq" not in columns:
            conn.execute("ALTER TABLE members ADD COLUMN normalized_seq INTEGER NOT NULL DEFAULT 0")
        # Schema 2: metadata written before writers had versions is of no known version ('').
        # It is never served (SQLiteOAIBackend) and the next normalization re-renders it.
        columns = {row[1] for row in conn.execute("PRAGMA table_info(disseminations)")}
        if "writer_version" not in columns:
            conn.execute("ALTER TABLE disseminations ADD COLUMN writer_version TEXT NOT NULL "
                         "DEFAULT ''")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' "
                     "AND CAST(value AS INTEGER) < ?", (str(SCHEMA_VERSION), SCHEMA_VERSION))
        _oai_migrate(conn)  # the OAI-PMH provider's resource_sets (section at the end)
        conn.executescript(_ALIAS_SCHEMA)  # retired catalogue IRIs (section at the end)
        conn.executescript(_REPORT_SCHEMA)  # member quality reports (section at the end)
        _search_migrate(conn)  # the full-text search index (section at the end)
        conn.executescript(LEASE_SCHEMA)  # harvest workers' leases (store/sqlite_leases.py)

    # -- connections -------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=60.0,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- member state --------------------------------------------------------

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

    def update_run(self, run_id: int, *, mode: str, metadata_prefix: str | None,
                   from_: str | None) -> None:
        with self._write() as conn:
            conn.execute("UPDATE runs SET mode = ?, metadata_prefix = ?, from_ = ? WHERE id = ?",
                         (mode, metadata_prefix, from_, run_id))

    def finish_run(self, run_id: int, *, state: str, counts: dict[str, int],
                   error: str | None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET state = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?",
                (state, _now(), json.dumps(counts, sort_keys=True), error, run_id))

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

    def warning_counts(self, run_ids: Sequence[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        ids = list(run_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            counts.update((int(r[0]), int(r[1])) for r in self._conn().execute(
                f"SELECT run_id, COUNT(*) FROM events WHERE severity = 'warning' AND run_id IN "
                f"({','.join('?' * len(chunk))}) GROUP BY run_id", chunk))
        return counts

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

    def harvest_lock(self) -> AbstractContextManager[None]:
        """The harvest lock: ``<store>.lock`` next to the file (see :mod:`.lock`)."""
        return _discard(exclusive_lock(lock_path(self.path)))

    # -- records ----------------------------------------------------------------

    def commit_page(self, member_id: str, run_id: int, metadata_prefix: str,
                    records: Sequence[RawRecord], quarantined: Sequence[Quarantined],
                    resume: dict[str, Any] | None) -> PageCounts:
        """Store one page and the member's resume state in one transaction.

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
            seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
            existing: dict[str, tuple[str, int, str, str]] = {}
            ids = list(latest)
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
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
                                        run_id, run_id, now, now, seq))
                    else:
                        deletions.append((h.datestamp, normalize_datestamp(h.datestamp),
                                          run_id, run_id, now, seq, member_id, ident))
                elif old is None:
                    new += 1
                    inserts.append((member_id, ident, metadata_prefix, h.datestamp,
                                    normalize_datestamp(h.datestamp), sets_json, 0, rec.raw,
                                    run_id, run_id, now, now, seq))
                else:
                    updated += 1
                    updates.append((metadata_prefix, h.datestamp, normalize_datestamp(h.datestamp),
                                    sets_json, rec.raw, run_id, run_id, now, seq, member_id, ident))
            if inserts:
                conn.executemany(
                    "INSERT INTO records (member_id, identifier, metadata_prefix, datestamp, "
                    "datestamp_utc, sets, deleted, raw, run_id, seen_run, first_harvested, "
                    "harvested_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
            if updates:
                conn.executemany(
                    "UPDATE records SET metadata_prefix = ?, datestamp = ?, datestamp_utc = ?, "
                    "sets = ?, deleted = 0, raw = ?, run_id = ?, seen_run = ?, harvested_at = ?, "
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
            if stored:
                # A record that now reads fine clears its earlier quarantine entries.
                conn.executemany(
                    "UPDATE quarantine SET resolved = 1 WHERE member_id = ? AND identifier = ? "
                    "AND stage = 'harvest' AND resolved = 0", [(member_id, i) for i in stored])
            if quarantined:
                conn.executemany(
                    "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, "
                    "created_at) VALUES (?, ?, ?, 'harvest', ?, ?, ?)",
                    [(member_id, q.identifier, run_id, q.reason, q.raw, now) for q in quarantined])
            conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            self._update_member(conn, member_id, {"resume": resume})
        return PageCounts(new=new, updated=updated, unchanged=unchanged, deleted=deleted,
                          quarantined=len(quarantined), stale=tuple(stale))

    def mark_seen(self, member_id: str, run_id: int, identifiers: Sequence[str]) -> None:
        with self._write() as conn:
            conn.executemany(
                "UPDATE records SET seen_run = ? WHERE member_id = ? AND identifier = ?",
                [(run_id, member_id, i) for i in identifiers])

    def retire_unseen(self, member_id: str, run_id: int) -> int:
        """Mark deleted every live record of the member that run ``run_id`` did not see."""
        with self._write() as conn:
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

    def counts(self, member_id: str) -> dict[str, int]:
        conn = self._conn()
        live, gone = conn.execute(
            "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) "
            "FROM records WHERE member_id = ?", (member_id,)).fetchone()
        (quarantined,) = conn.execute(
            "SELECT COUNT(*) FROM quarantine WHERE member_id = ? AND resolved = 0",
            (member_id,)).fetchone()
        return {"records": int(live), "deleted": int(gone), "quarantined": int(quarantined)}

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
                "run_id, first_harvested, harvested_at, seq FROM records", where, params,
                since_seq, batch=1000):
            yield StoredRecord(member_id=r[0], identifier=r[1], metadata_prefix=r[2],
                               datestamp=r[3], sets=tuple(json.loads(r[4])), deleted=bool(r[5]),
                               raw=r[6], run_id=r[7], first_harvested=r[8], harvested_at=r[9],
                               seq=r[10])

    def _by_seq(self, select: str, where: list[str], params: list[Any], since_seq: int, *,
                batch: int) -> Iterator[Any]:
        """Rows of ``select`` (whose last column is ``seq``) after ``since_seq``, in ``seq``
        order, fetched ``batch`` at a time by keyset: bounded memory, no cursor held open
        while the caller writes."""
        conditions = " AND ".join(["seq > ?", *where])
        last = since_seq
        while True:
            rows = self._conn().execute(f"{select} WHERE {conditions} ORDER BY seq LIMIT ?",
                                        (last, *params, batch)).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][-1]

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

    # -- the catalogue ------------------------------------------------------------

    @contextmanager
    def catalog(self) -> Iterator[_SQLiteCatalogTxn]:
        """One write transaction of catalogue primitives (see :class:`CatalogTxn`).

        A failure of the store itself (locked, disk full, I/O) raises :class:`StoreError`, so
        normalization can tell it from a record that cannot be written (which it quarantines).
        """
        try:
            with self._write() as conn:
                yield _SQLiteCatalogTxn(conn)
        except sqlite3.OperationalError as err:
            raise StoreError(f"catalogue store {self.path}: {err}") from err

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
            where.append("id IN (SELECT resource_id FROM descriptions WHERE member_id = ?)")
            params.append(member_id)
        for r in self._by_seq("SELECT id, record, deleted, created_at, updated_at, seq "
                              "FROM resources", where, params, since_seq, batch=500):
            yield Resource(id=r[0], record=json.loads(r[1]), deleted=bool(r[2]),
                           created_at=r[3], updated_at=r[4], seq=r[5])

    def written_versions(self) -> dict[str, str]:
        """The writer versions, by prefix, every live record's pre-rendered metadata was
        last brought up to (``{}`` before the first time; see ``stale_disseminations``)."""
        row = self._conn().execute(
            "SELECT value FROM meta WHERE key = 'written_versions'").fetchone()
        return {} if row is None else dict(json.loads(row[0]))

    def resource_counts(self) -> dict[str, int]:
        live, gone = self._conn().execute(
            "SELECT COALESCE(SUM(deleted = 0), 0), COALESCE(SUM(deleted = 1), 0) FROM resources"
        ).fetchone()
        return {"resources": int(live), "deleted": int(gone)}

    # -- member quality reports (eduxchange.publish.report) ------------------------------------------

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
                                        format=r[2], rank=r[3], description=json.loads(r[4]))
            last = rows[-1][0]

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

    def description_count(self, member_id: str) -> int:
        """How many normalized descriptions the member has in the catalogue."""
        (n,) = self._conn().execute("SELECT COUNT(*) FROM descriptions WHERE member_id = ?",
                                    (member_id,)).fetchone()
        return int(n)

    def unmapped_terms(self, member_id: str, *, examples: int = 3
                       ) -> list[tuple[str, str, str, int, tuple[str, ...]]]:
        """The member's unmapped ``(field, source, value, records, example identifiers)``,
        most frequent first (what normalization kept with :meth:`CatalogTxn.set_unmapped`)."""
        try:
            rows = self._conn().execute(
                "SELECT field, source, value, COUNT(*), MIN(identifier), MAX(identifier) "
                "FROM unmapped_terms WHERE member_id = ? GROUP BY field, source, value "
                "ORDER BY COUNT(*) DESC, field, source, value", (member_id,)).fetchall()
        except sqlite3.OperationalError:  # a store older than the table, opened read-only
            return []
        out = []
        for field_, source, value, n, first, last_ in rows:
            found = (first,) if first == last_ else (first, last_)
            out.append((field_, source, value, int(n), found[:examples]))
        return out

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

    def put_report_snapshot(self, member_id: str, run_id: int | None,
                            figures: dict[str, Any]) -> None:
        """Keep a report's key figures for the member's run ``run_id`` (replacing earlier ones)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO reports (member_id, run_id, created_at, figures) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (member_id, run_id) DO UPDATE SET created_at = excluded.created_at, "
                "figures = excluded.figures",
                (member_id, -1 if run_id is None else run_id, _now(), _dumps(figures)))

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

    # -- full-text search (eduxchange.store.search) ----------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        """The resources matching ``query``, most relevant first, with facet counts."""
        try:
            return _search(self._conn(), query)
        except sqlite3.OperationalError as err:
            if "no such table" not in str(err):
                raise
            raise StoreError(f"{self.path} has no search index yet: run any command that "
                             f"opens it for writing (eduxchange normalize --all) once") from err


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class _SQLiteCatalogTxn:
    """:class:`CatalogTxn` over one SQLite connection inside ``BEGIN IMMEDIATE``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.now = _now()

    def description(self, member_id: str, identifier: str) -> StoredDescription | None:
        row = self.conn.execute(
            "SELECT resource_id, format, rank, description FROM descriptions "
            "WHERE member_id = ? AND identifier = ?", (member_id, identifier)).fetchone()
        if row is None:
            return None
        return StoredDescription(member_id=member_id, identifier=identifier, resource_id=row[0],
                                 format=row[1], rank=row[2], description=json.loads(row[3]))

    def put_description(self, d: StoredDescription, raw_seq: int) -> None:
        self.conn.execute(
            "INSERT INTO descriptions (member_id, identifier, resource_id, format, rank, "
            "description, raw_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (member_id, identifier) DO UPDATE SET resource_id = excluded.resource_id, "
            "format = excluded.format, rank = excluded.rank, description = excluded.description, "
            "raw_seq = excluded.raw_seq, updated_at = excluded.updated_at",
            (d.member_id, d.identifier, d.resource_id, d.format, d.rank, _dumps(d.description),
             raw_seq, self.now))

    def delete_description(self, member_id: str, identifier: str) -> None:
        self.conn.execute("DELETE FROM descriptions WHERE member_id = ? AND identifier = ?",
                          (member_id, identifier))

    def descriptions_of(self, resource_id: str) -> list[StoredDescription]:
        return [
            StoredDescription(member_id=r[0], identifier=r[1], resource_id=resource_id,
                              format=r[2], rank=r[3], description=json.loads(r[4]))
            for r in self.conn.execute(
                "SELECT member_id, identifier, format, rank, description FROM descriptions "
                "WHERE resource_id = ? ORDER BY member_id, identifier", (resource_id,))
        ]

    def resources_for_keys(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        return dict(self.conn.execute(
            f"SELECT key, resource_id FROM match_keys WHERE key IN ({marks})", tuple(keys)))

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None:
        self.conn.execute("DELETE FROM match_keys WHERE resource_id = ?", (resource_id,))
        self.conn.executemany(
            "INSERT OR REPLACE INTO match_keys (key, resource_id) VALUES (?, ?)",
            [(k, resource_id) for k in keys])

    def resource(self, resource_id: str) -> Resource | None:
        row = self.conn.execute(
            "SELECT record, deleted, created_at, updated_at, seq FROM resources WHERE id = ?",
            (resource_id,)).fetchone()
        if row is None:
            return None
        return Resource(id=resource_id, record=json.loads(row[0]), deleted=bool(row[1]),
                        created_at=row[2], updated_at=row[3], seq=row[4])

    def put_resource(self, resource_id: str, record: dict[str, Any], *, deleted: bool
                     ) -> str | None:
        text = _dumps(record)
        row = self.conn.execute("SELECT record, deleted FROM resources WHERE id = ?",
                                (resource_id,)).fetchone()
        if row is not None and row[0] == text and bool(row[1]) == deleted:
            return None
        if row is None and deleted:
            return None
        kind = "delete" if deleted else ("create" if row is None or row[1] else "update")
        if row is not None and row[1] and not deleted:
            # A retired IRI that is minted again names a resource of its own once more.
            self.conn.execute("DELETE FROM aliases WHERE retired_id = ?", (resource_id,))
        seq = int(self.conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'catalog_seq' "
            "RETURNING value").fetchone()[0])
        self.conn.execute(
            "INSERT INTO resources (id, record, deleted, created_at, updated_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record, "
            "deleted = excluded.deleted, updated_at = excluded.updated_at, seq = excluded.seq",
            (resource_id, text, int(deleted), self.now, self.now, seq))
        _oai_sync_sets(self.conn, resource_id, record, seq)  # OAI-PMH sets (end of file)
        _search_sync(self.conn, resource_id, record, deleted)  # search index (end of file)
        self.conn.execute("INSERT INTO changes (seq, resource_id, kind, at) VALUES (?, ?, ?, ?)",
                          (seq, resource_id, kind, self.now))
        return kind

    def quarantine(self, member_id: str, identifier: str | None, *, stage: str, reason: str,
                   raw: bytes | None) -> None:
        if identifier is not None:
            self.resolve_quarantine(member_id, identifier, stage=stage)
        self.conn.execute(
            "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, created_at) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?)", (member_id, identifier, stage, reason, raw, self.now))

    def resolve_quarantine(self, member_id: str, identifier: str, *, stage: str) -> None:
        self.conn.execute(
            "UPDATE quarantine SET resolved = 1 WHERE member_id = ? AND identifier = ? "
            "AND stage = ? AND resolved = 0", (member_id, identifier, stage))

    def put_dissemination(self, resource_id: str, prefix: str, xml: bytes, *,
                          version: str) -> None:
        """Keep a record's metadata already written in ``prefix`` by the writer of
        ``version``, for the current ``seq``."""
        self.conn.execute(
            "INSERT OR REPLACE INTO disseminations (resource_id, prefix, seq, xml, writer_version) "
            "SELECT id, ?, seq, ?, ? FROM resources WHERE id = ?",
            (prefix, xml, version, resource_id))

    def stale_disseminations(self, prefix: str, version: str, *, after_seq: int = 0,
                             limit: int = 500) -> list[Resource]:
        """Up to ``limit`` live resources with ``seq > after_seq``, in ``seq`` order, whose
        metadata in ``prefix`` is missing, of an older ``seq``, or not of ``version``."""
        rows = self.conn.execute(
            "SELECT r.id, r.record, r.created_at, r.updated_at, r.seq FROM resources r "
            "LEFT JOIN disseminations d ON d.resource_id = r.id AND d.prefix = ? "
            "AND d.seq = r.seq AND d.writer_version = ? "
            "WHERE r.seq > ? AND r.deleted = 0 AND d.resource_id IS NULL ORDER BY r.seq LIMIT ?",
            (prefix, version, after_seq, limit)).fetchall()
        return [Resource(id=r[0], record=json.loads(r[1]), deleted=False, created_at=r[2],
                         updated_at=r[3], seq=r[4]) for r in rows]

    def set_written_versions(self, versions: dict[str, str]) -> None:
        """Record that every live record's pre-rendered metadata is of these versions."""
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('written_versions', ?)",
                          (_dumps(versions),))

    def set_normalized_seq(self, member_id: str, seq: int) -> None:
        self.conn.execute("INSERT OR IGNORE INTO members (id) VALUES (?)", (member_id,))
        self.conn.execute("UPDATE members SET normalized_seq = ? WHERE id = ?", (seq, member_id))

    def retire(self, retired_id: str, resource_id: str) -> None:
        """Record that ``retired_id`` now names ``resource_id`` (aliases of it follow along)."""
        self.conn.execute("UPDATE aliases SET resource_id = ? WHERE resource_id = ?",
                          (resource_id, retired_id))
        self.conn.execute("INSERT OR REPLACE INTO aliases (retired_id, resource_id) VALUES (?, ?)",
                          (retired_id, resource_id))

    def aliases_of(self, resource_id: str) -> list[str]:
        """The retired IRIs that name ``resource_id``, sorted."""
        return [r[0] for r in self.conn.execute(
            "SELECT retired_id FROM aliases WHERE resource_id = ? ORDER BY retired_id",
            (resource_id,))]

    def set_unmapped(self, member_id: str, identifier: str,
                     terms: Sequence[tuple[str, str, str]]) -> None:
        """Keep the record's unmapped ``(field, source, value)`` triples (replacing its earlier)."""
        self.conn.execute("DELETE FROM unmapped_terms WHERE member_id = ? AND identifier = ?",
                          (member_id, identifier))
        if terms:
            self.conn.executemany(
                "INSERT OR IGNORE INTO unmapped_terms (member_id, identifier, field, source, value) "
                "VALUES (?, ?, ?, ?, ?)", [(member_id, identifier, *t) for t in terms])


# -- read-only access for publishing (server, change feed) ----------------------------------
# Appended section: the queries the HTTP server needs, and a store that cannot write.
# (Imported here to keep this section self-contained; changes is a pure, lower module.)
from ..publish.changes import Change  # noqa: E402


class ReadOnlySQLiteStore(SQLiteStore):
    """An existing catalogue opened read-only (``mode=ro``, ``query_only``): for publishing.

    Creates nothing: the file must exist (:class:`StoreError` otherwise). Every write method
    fails with a :class:`sqlite3.OperationalError`, so nothing served can change the catalogue.
    Safe to use while a harvest writes to the same file (WAL readers see committed data).
    """

    def __init__(self, path: str | Path) -> None:  # noqa: D107 - the class says it
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not self.path.is_file():
            raise StoreError(f"no catalogue store at {self.path} (harvest first)")
        try:
            tables = {r[0] for r in self._conn().execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as err:
            raise StoreError(f"cannot open the catalogue store {self.path}: {err}") from err
        if not {"resources", "changes"} <= tables:
            raise StoreError(f"{self.path} is not an eduxchange catalogue (no resources table)")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0,
                                   check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn


def change_rows(store: SQLiteStore, first_seq: int, last_seq: int) -> list[Change]:
    """The catalogue changes with ``first_seq <= seq <= last_seq``, oldest first."""
    return [Change(seq=r[0], resource_id=r[1], kind=r[2], at=r[3])
            for r in store._conn().execute(
                "SELECT seq, resource_id, kind, at FROM changes WHERE seq BETWEEN ? AND ? "
                "ORDER BY seq", (first_seq, last_seq))]


def change_stats(store: SQLiteStore, before_seq: int | None = None) -> tuple[int, int, str | None]:
    """``(count, max seq, latest time)`` of the changes (those with ``seq < before_seq``)."""
    sql = "SELECT COUNT(*), COALESCE(MAX(seq), 0), MAX(at) FROM changes"
    params: tuple[int, ...] = ()
    if before_seq is not None:
        sql += " WHERE seq < ?"
        params = (before_seq,)
    count, top, at = store._conn().execute(sql, params).fetchone()
    return int(count), int(top), at


def latest_change(store: SQLiteStore) -> tuple[int, str | None]:
    """``(max seq, time)`` of the newest change, by the primary key: no scan of the log."""
    row = store._conn().execute(
        "SELECT seq, at FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, None) if row is None else (int(row[0]), row[1])


def resource_by_id(store: SQLiteStore, resource_id: str) -> Resource | None:
    """One catalogue record (or its tombstone) by IRI, outside any write transaction."""
    row = store._conn().execute(
        "SELECT record, deleted, created_at, updated_at, seq FROM resources WHERE id = ?",
        (resource_id,)).fetchone()
    if row is None:
        return None
    return Resource(id=resource_id, record=json.loads(row[0]), deleted=bool(row[1]),
                    created_at=row[2], updated_at=row[3], seq=row[4])


# -- OAI-PMH provider backend ------------------------------------------------------------------
# Appended section (provider.py's backend): set membership of catalogue records and keyset-paged
# reads. Never builds XML; returns Resources with their setSpecs. Pages are keyset queries on
# ``seq`` (index-backed, so a deep page costs what the first does; OAI-PMH 2.0 §3.5 tokens stay
# valid under concurrent writes: an updated record gets a higher seq and comes later, never lost).

_OAI_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_sets (
    resource_id TEXT NOT NULL,
    set_spec    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (resource_id, set_spec)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resource_sets_spec ON resource_sets (set_spec, seq);
CREATE INDEX IF NOT EXISTS resources_updated ON resources (updated_at);
"""

#: The set hierarchy's top levels (OAI-PMH 2.0 §2.7.2: a record in ``member:x`` is in ``member``).
OAI_SET_ROOTS: tuple[str, ...] = ("member", "lang", "type")
_SET_PART = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")


def oai_set_specs(record: dict[str, Any]) -> list[str]:
    """The setSpecs of a catalogue record, its top-level sets included.

    ``member:<id>`` for every member whose description it was built from (``mainEntityOfPage``
    providers, ``{base_uri}members/<id>``), ``lang:<tag>`` for each ``inLanguage`` tag and
    ``type:<local name>`` for each LRMI learningResourceType concept IRI.
    """
    specs: list[str] = []

    def add(root: str, value: Any) -> None:
        if isinstance(value, str) and _SET_PART.match(value):
            for spec in (root, f"{root}:{value}"):
                if spec not in specs:
                    specs.append(spec)

    for entry in record.get("mainEntityOfPage") or ():
        provider = entry.get("provider") if isinstance(entry, dict) else None
        if isinstance(provider, dict) and isinstance(provider.get("id"), str):
            add("member", provider["id"].rstrip("/").rsplit("/", 1)[-1])
    for tag in record.get("inLanguage") or ():
        add("lang", tag)
    for concept in record.get("learningResourceType") or ():
        if isinstance(concept, dict) and isinstance(concept.get("id"), str):
            add("type", re.split(r"[/#]", concept["id"].rstrip("/#"))[-1])
    return specs


def _oai_sync_sets(conn: sqlite3.Connection, resource_id: str, record: dict[str, Any],
                   seq: int) -> None:
    conn.execute("DELETE FROM resource_sets WHERE resource_id = ?", (resource_id,))
    conn.executemany("INSERT INTO resource_sets (resource_id, set_spec, seq) VALUES (?, ?, ?)",
                     [(resource_id, spec, seq) for spec in oai_set_specs(record)])


def _oai_migrate(conn: sqlite3.Connection) -> None:
    """Create the provider's table and indexes; fill ``resource_sets`` once for older stores."""
    conn.executescript(_OAI_SCHEMA)
    if conn.execute("SELECT 1 FROM meta WHERE key = 'resource_sets'").fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM meta WHERE key = 'resource_sets'").fetchone():
            for resource_id, text, seq in conn.execute(
                    "SELECT id, record, seq FROM resources").fetchall():
                _oai_sync_sets(conn, resource_id, json.loads(text), seq)
            conn.execute("INSERT INTO meta VALUES ('resource_sets', '1')")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


#: One item of a list: the resource (``record`` is ``{}`` unless asked for or when the metadata
#: is already written), its leaf setSpecs, and the metadata already written in the asked prefix.
OAIItem = tuple[Resource, tuple[str, ...], bytes | None]


class SQLiteOAIBackend:
    """The OAI-PMH provider's backend over a :class:`SQLiteStore` (read-only queries).

    Datestamps are ``resources.updated_at`` (UTC, ``YYYY-MM-DDThh:mm:ssZ``, so strings compare
    in time order); ``from_``/``until`` are inclusive bounds in that form (OAI-PMH 2.0 §3.3.1).
    """

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self._versioned: bool | None = None

    def _has_versions(self) -> bool:
        """Whether the store's pre-rendered metadata carries writer versions (schema 2): a
        store of an older release opened read-only is not migrated, and its metadata, of no
        known version, is then never served."""
        if self._versioned is None:
            self._versioned = "writer_version" in {row[1] for row in self.store._conn().execute(
                "PRAGMA table_info(disseminations)")}
        return self._versioned

    _COLUMNS = ("r.id, r.deleted, r.created_at, r.updated_at, r.seq, "
                "(SELECT group_concat(x.set_spec, ' ') FROM resource_sets x "
                "WHERE x.resource_id = r.id)")

    @staticmethod
    def _filters(from_: str | None, until: str | None, set_: str | None
                 ) -> tuple[str, str, list[str], list[Any]]:
        # '+r.updated_at' keeps SQLite on the seq index: the order and the keyset come from it.
        where: list[str] = []
        params: list[Any] = []
        if set_ is not None:
            source, seq_column = "resource_sets s JOIN resources r ON r.id = s.resource_id", "s.seq"
            where.append("s.set_spec = ?")
            params.append(set_)
        else:
            source, seq_column = "resources r", "r.seq"
        if from_ is not None:
            where.append("+r.updated_at >= ?")
            params.append(from_)
        if until is not None:
            where.append("+r.updated_at <= ?")
            params.append(until)
        return source, seq_column, where, params

    def oai_list(self, *, from_: str | None, until: str | None, set_: str | None,
                 after_seq: int, limit: int, with_records: bool, prefix: str | None = None,
                 writer_version: str | None = None) -> list[OAIItem]:
        """Up to ``limit`` items with ``seq > after_seq`` in ``seq`` order.

        With ``prefix`` and ``writer_version``, metadata written at normalization time comes
        along when it is still current (written for the record's ``seq`` by the writer of
        that version), and the record itself is then not decoded.
        """
        source, seq_column, where, params = self._filters(from_, until, set_)
        columns = self._COLUMNS
        join_params: list[Any] = []
        if with_records:
            columns += ", r.record"
            if prefix is not None and writer_version is not None and self._has_versions():
                columns += ", d.xml"
                source += (" LEFT JOIN disseminations d ON d.resource_id = r.id "
                           "AND d.prefix = ? AND d.seq = r.seq AND d.writer_version = ?")
                join_params += [prefix, writer_version]
        rows = self.store._conn().execute(
            f"SELECT {columns} FROM {source} WHERE {' AND '.join([f'{seq_column} > ?', *where])} "
            f"ORDER BY {seq_column} LIMIT ?",
            (*join_params, after_seq, *params, limit)).fetchall()
        return [self._item(row, with_records) for row in rows]

    def oai_count(self, *, from_: str | None, until: str | None, set_: str | None) -> int:
        """How many items the list has (``completeListSize``)."""
        source, _, where, params = self._filters(from_, until, set_)
        sql = f"SELECT COUNT(*) FROM {source}"
        if where:
            sql += f" WHERE {' AND '.join(where)}"
        return int(self.store._conn().execute(sql, params).fetchone()[0])

    def oai_get(self, resource_id: str) -> OAIItem | None:
        """One resource (live or deleted) with its record, or ``None``."""
        row = self.store._conn().execute(
            f"SELECT {self._COLUMNS}, r.record FROM resources r WHERE r.id = ?",
            (resource_id,)).fetchone()
        return None if row is None else self._item(row, True)

    def oai_sets(self) -> list[str]:
        """Every setSpec some resource is in, top levels included, sorted."""
        return [r[0] for r in self.store._conn().execute(
            "SELECT DISTINCT set_spec FROM resource_sets ORDER BY set_spec")]

    def oai_earliest(self) -> str | None:
        """The earliest datestamp in the catalogue (``None`` when it is empty)."""
        row = self.store._conn().execute("SELECT MIN(updated_at) FROM resources").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def oai_token_key(self) -> bytes:
        """The secret key of the provider's resumption tokens (see :func:`oai_token_key`)."""
        return oai_token_key(self.store)

    def oai_repository_identifier(self, default: str) -> str:
        """The repositoryIdentifier kept in ``meta``, or ``default``, kept from now on."""
        return _kept_meta(self.store, _REPOSITORY_IDENTIFIER, default)

    def oai_id_prefixes(self) -> list[str]:
        """The distinct ``{base_uri}resources/`` prefixes of the resources' IRIs (36: a uuid),
        the one of the earliest change first."""
        return [str(r[0]) for r in self.store._conn().execute(
            "SELECT substr(id, 1, length(id) - 36) AS prefix FROM resources "
            "GROUP BY prefix ORDER BY MIN(seq)")]

    @staticmethod
    def _item(row: Any, with_record: bool) -> OAIItem:
        sets = tuple(s for s in (row[5] or "").split() if ":" in s)
        written: bytes | None = row[7] if len(row) > 7 else None
        record = json.loads(row[6]) if with_record and written is None else {}
        return (Resource(id=row[0], record=record, deleted=bool(row[1]), created_at=row[2],
                         updated_at=row[3], seq=row[4]), sets, written)


# -- retired catalogue IRIs ---------------------------------------------------------------------
# Appended section: when two resources turn out to be one, the IRI that is not kept is retired,
# not forgotten: ``aliases`` maps it to the surviving resource (docs/normalization.md, "Catalogue
# IRIs"), so ``/resources/{retired}`` can redirect and the surviving record can say ``sameAs``.

_ALIAS_SCHEMA = """
CREATE TABLE IF NOT EXISTS aliases (
    retired_id  TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_resource ON aliases (resource_id);
"""


def alias_target(store: SQLiteStore, resource_id: str) -> str | None:
    """The IRI of the resource a retired IRI now names, or ``None`` if it is not retired."""
    try:
        row = store._conn().execute("SELECT resource_id FROM aliases WHERE retired_id = ?",
                                    (resource_id,)).fetchone()
    except sqlite3.OperationalError:  # a store older than aliases, opened read-only
        return None
    return None if row is None else str(row[0])


# -- the OAI-PMH provider's token key ----------------------------------------------------------
# Appended section: a secret kept in ``meta`` (key ``oai_token_key``, 32 random bytes as hex), so
# every server of one catalogue signs and accepts the same resumption tokens, across restarts.

_TOKEN_KEY = "oai_token_key"
_log = logging.getLogger(__name__)


def oai_token_key(store: SQLiteStore) -> bytes:
    """The provider's resumption-token key, made on first use and kept in the store.

    A :class:`ReadOnlySQLiteStore` cannot write it: a short-lived connection of its own does,
    once (before any request is served; only this ``meta`` row, never the catalogue). If the
    file cannot be written at all, the key is one for this process only, with a warning:
    tokens then stop working when the server restarts.
    """
    row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (_TOKEN_KEY,)).fetchone()
    if row is None:
        try:
            with closing(sqlite3.connect(store.path, timeout=10.0, isolation_level=None)) as conn:
                # INSERT OR IGNORE: two servers starting at once agree on the first key written.
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                             (_TOKEN_KEY, secrets.token_hex(32)))
        except sqlite3.Error as err:
            _log.warning("cannot keep the OAI-PMH token key in %s (%s): resumption tokens will "
                         "not survive a restart of this server", store.path, err)
            return secrets.token_bytes(32)
        row = store._conn().execute("SELECT value FROM meta WHERE key = ?",
                                    (_TOKEN_KEY,)).fetchone()
    try:
        key = bytes.fromhex(str(row[0]))
    except (TypeError, ValueError):
        key = b""
    if len(key) < 16:
        raise StoreError(f"{store.path}: meta {_TOKEN_KEY!r} is not a hex key of 16 bytes or more")
    return key


# -- member quality reports ----------------------------------------------------------------------
# Appended section: what eduxchange.publish.report reads besides descriptions and quarantine.
# ``unmapped_terms`` holds each normalized record's source values that no vocabulary maps
# (written with its description, so it stays right whatever run normalized which record);
# ``reports`` keeps a report's key figures per member and run, for the trend across runs.

_REPORT_SCHEMA = """
CREATE TABLE IF NOT EXISTS unmapped_terms (
    member_id   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    field       TEXT NOT NULL,
    source      TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (member_id, identifier, field, source, value)
);
CREATE INDEX IF NOT EXISTS unmapped_terms_value ON unmapped_terms (member_id, field, source, value);
-- The report reads the newest unresolved entry of each record (and normalization resolves by record).
CREATE INDEX IF NOT EXISTS quarantine_record ON quarantine (member_id, identifier, stage, resolved);
CREATE TABLE IF NOT EXISTS reports (
    member_id   TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    figures     TEXT NOT NULL,
    PRIMARY KEY (member_id, run_id)
);
"""


# -- the OAI-PMH repositoryIdentifier --------------------------------------------------------
# Appended section: kept in ``meta`` (key ``oai_repository_identifier``) on first use, so the
# catalogue's OAI identifiers stay the same when ``base_uri`` (the served host) changes.

_REPOSITORY_IDENTIFIER = "oai_repository_identifier"


def _kept_meta(store: SQLiteStore, key: str, default: str) -> str:
    """``meta[key]``, written as ``default`` first if absent (as :func:`oai_token_key` does; a
    file that cannot be written gives ``default`` for this process, with a warning)."""
    row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        try:
            with closing(sqlite3.connect(store.path, timeout=10.0, isolation_level=None)) as conn:
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, default))
        except sqlite3.Error as err:
            _log.warning("cannot keep %s in %s (%s): using %r for this server only",
                         key, store.path, err, default)
            return default
        row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])



# -- full-text search (eduxchange.store.search) ----------------------------------------------
#
# One FTS5 table, unicode61 with remove_diacritics 2 (so "eleve" finds "élève"), whose texts
# have each Han/kana/Thai character set apart (store.search.spaced): a CJK query is then a
# phrase of characters, which finds words of any length. A trigram table was the alternative:
# it cannot match queries under three characters, and most Chinese words are two. Facet values
# are plain rows, so counts are one GROUP BY over the hits. The index is derived data: it is
# rewritten with the resource in put_resource's transaction, and rebuilt on open when absent or
# made by another version of the indexing code (SEARCH_INDEX_VERSION; STYLE.md: a cache says
# what made it).

#: Bump when store.search.search_document or the schema below changes: stores then re-index.
SEARCH_INDEX_VERSION = "1"

_SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5 (
    resource_id UNINDEXED, title, body, concepts,
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS search_facets (
    resource_id TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (resource_id, facet, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_facets_value ON search_facets (facet, value);
"""
# bm25 weights of title, body, concepts: a word of the title counts most.
_BM25 = "bm25(search_text, 0.0, 10.0, 2.0, 1.0)"


def _search_sync(conn: sqlite3.Connection, resource_id: str, record: dict[str, Any],
                 deleted: bool) -> None:
    """Rewrite one resource's search rows (a withdrawn resource has none)."""
    conn.execute("DELETE FROM search_text WHERE resource_id = ?", (resource_id,))
    conn.execute("DELETE FROM search_facets WHERE resource_id = ?", (resource_id,))
    if deleted:
        return
    doc = search_document(record, default_vocabularies())
    conn.execute("INSERT INTO search_text (resource_id, title, body, concepts) "
                 "VALUES (?, ?, ?, ?)", (resource_id, doc.title, doc.body, doc.concepts))
    conn.executemany("INSERT INTO search_facets (resource_id, facet, value) VALUES (?, ?, ?)",
                     [(resource_id, facet, value) for facet, value in doc.facets])


def _search_migrate(conn: sqlite3.Connection) -> None:
    """Create the search index; (re)build it once for stores without it or of another version."""
    conn.executescript(_SEARCH_SCHEMA)
    if conn.execute("SELECT 1 FROM meta WHERE key = 'search_index' AND value = ?",
                    (SEARCH_INDEX_VERSION,)).fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM meta WHERE key = 'search_index' AND value = ?",
                            (SEARCH_INDEX_VERSION,)).fetchone():
            conn.execute("DELETE FROM search_text")
            conn.execute("DELETE FROM search_facets")
            for resource_id, text, deleted in conn.execute(
                    "SELECT id, record, deleted FROM resources").fetchall():
                _search_sync(conn, resource_id, json.loads(text), bool(deleted))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('search_index', ?)",
                         (SEARCH_INDEX_VERSION,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _search(conn: sqlite3.Connection, query: SearchQuery) -> SearchResult:
    """Answer ``query`` from the index (see :meth:`SQLiteStore.search`)."""
    match = fts5_match(search_terms(query.text))
    where: list[str] = []
    params: list[Any] = []
    if match is not None:
        select = f"SELECT resource_id, -{_BM25} AS score FROM search_text"
        where.append("search_text MATCH ?")
        params.append(match)
    else:
        select = "SELECT resource_id, 0.0 AS score FROM search_text"
    for facet, values in sorted(query.filters.items()):
        if facet not in FACETS or not values:
            continue
        marks = ", ".join("?" * len(values))
        where.append(f"resource_id IN (SELECT resource_id FROM search_facets "
                     f"WHERE facet = ? AND value IN ({marks}))")
        params.extend([facet, *values])
    hits_sql = select + (" WHERE " + " AND ".join(where) if where else "")
    cte = f"WITH hits AS MATERIALIZED ({hits_sql}) "
    total = int(conn.execute(cte + "SELECT COUNT(*) FROM hits", params).fetchone()[0])
    page_size = max(1, query.page_size)
    offset = (max(1, query.page) - 1) * page_size
    rows = conn.execute(
        cte + "SELECT hits.resource_id, hits.score, resources.record FROM hits "
        "JOIN resources ON resources.id = hits.resource_id "
        "ORDER BY hits.score DESC, hits.resource_id LIMIT ? OFFSET ?",
        [*params, page_size, offset]).fetchall()
    counts: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
    for facet, value, count in conn.execute(
            cte + "SELECT facet, value, COUNT(*) AS n FROM search_facets "
            "JOIN hits USING (resource_id) GROUP BY facet, value ORDER BY facet, n DESC, value",
            params):
        if facet in counts:
            counts[facet].append(FacetCount(value, int(count)))
    hits = tuple(SearchHit(resource_id=r[0], record=json.loads(r[2]), score=float(r[1]))
                 for r in rows)
    return SearchResult(total=total, hits=hits,
                        facets={name: tuple(found) for name, found in counts.items()})
