"""The PostgreSQL store: harvest state, raw records, runs, events, quarantine, the catalogue.

See the package docstring for how the change sequences stay in commit order.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg_pool
from psycopg import sql

from ...core.dates import normalize_datestamp
from ...core.errors import StoreError, StoreLocked
from ...core.models import Issue, Quarantined, RawRecord
from ..base import (
    CatalogStore,
    canonical_json,
    parse_json,
    StoreReader,
    SEVERITIES,
    EventInfo,
    LeaseFence,
    MemberState,
    PageCounts,
    QuarantineEntry,
    Resource,
    RunInfo,
    RunStats,
    StaleRecord,
    StoredDescription,
    StoredRecord,
    is_stale,
)
from ..lock import _details, _refusal
from ..search import SearchQuery, SearchResult
from .catalog import PostgresCatalogTxn, is_store_failure
from .connect import Target, parse_url
from .leases import PostgresLeases, check_fence
from .dump import PostgresDump
from .readers import PostgresReaders
from .schema import SCHEMA_VERSION, migrate
from .search import pg_search

__all__ = ["PostgresStore"]

_log = logging.getLogger(__name__)

#: The tables a harvest and its normalization grow, analyzed as they do (PostgresStore._wrote).
_GROWING = ("records", "descriptions", "unmapped_terms", "match_keys", "resources",
            "quarantine", "aliases", "disseminations")
_FIRST_ANALYZE = 8

Conn = psycopg.Connection[tuple[Any, ...]]

_MEMBER_FIELDS = (
    "metadata_prefix", "granularity", "deleted_record", "earliest_datestamp", "next_from",
    "last_harvest", "state", "error", "resume", "last_reconcile", "normalized_seq",
)
# pg_try_advisory_lock(int, int): the first number says "an eduxchange harvest lock", the
# second is the schema's hash (several catalogues may share one database).
_HARVEST_LOCK = 0x68617276  # 'harv'


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def take_seq(conn: Conn, counter: str, n: int) -> int:
    """Take ``n`` values of a change sequence; returns the last (the first is ``last - n + 1``).

    One statement, no read-modify-write: the row lock it takes is held until the caller's
    transaction ends, so a later taker waits, and values become visible in the order they
    were taken (the package docstring says why readers rely on that).
    """
    row = conn.execute("UPDATE counters SET value = value + %s WHERE name = %s RETURNING value",
                       (n, counter)).fetchone()
    if row is None:
        raise StoreError(f"the catalogue store has no {counter!r} counter (a damaged schema?)")
    return int(row[0])


class PostgresStore(PostgresReaders, PostgresLeases, PostgresDump):
    """A :class:`~eduxchange.store.base.CatalogStore` in a PostgreSQL database.

    ``url`` is a store URL (:mod:`.connect`); the schema is created and migrated on open.
    Connections come from a pool (``pool_size`` at most), one per call: threads share the
    store. Every failure of the database surfaces as :class:`StoreError` with its cause.
    """

    def __init__(self, url: str, *, read_only: bool = False, pool_size: int = 10) -> None:
        self.target: Target = parse_url(url)
        self.url = self.target.label
        self.read_only = read_only
        kwargs: dict[str, Any] = {"autocommit": False}
        if self.target.password is not None:
            kwargs["password"] = self.target.password
        self._kwargs = kwargs
        try:
            with self._connect(autocommit=False) as conn:
                if read_only:
                    _check_schema(conn, self.url)
                else:
                    if self.target.schema is not None:
                        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                            sql.Identifier(self.target.schema)))
                        conn.commit()
                    migrate(conn)
                row = conn.execute("SELECT current_schema()").fetchone()
                self.schema = str(row[0]) if row and row[0] else "public"
        except psycopg.Error as err:
            raise StoreError(f"cannot open the catalogue store {self.url}: "
                             f"{_message(err)}") from err
        self._writes = 0  # catalogue transactions and harvest pages this process committed
        self._analyze_at = _FIRST_ANALYZE
        self._pool: psycopg_pool.ConnectionPool[Conn] = psycopg_pool.ConnectionPool(
            self.target.conninfo, min_size=1, max_size=max(2, pool_size), kwargs=kwargs,
            configure=self._configure, open=False, timeout=60.0, name="eduxchange")
        try:
            self._pool.open(wait=True, timeout=30.0)
        except psycopg_pool.PoolTimeout as err:
            raise StoreError(f"cannot connect to the catalogue store {self.url}: {err}") from err

    def _connect(self, *, autocommit: bool) -> Conn:
        """A connection of its own (not pooled), in the store's schema."""
        kwargs = {**self._kwargs, "autocommit": autocommit}
        conn = psycopg.connect(self.target.conninfo, **kwargs)
        try:
            self._configure(conn, commit=not autocommit)
        except BaseException:
            conn.close()
            raise
        return conn

    def _configure(self, conn: Conn, *, commit: bool = True) -> None:
        if self.target.schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(
                sql.Identifier(self.target.schema)))
        # The store's statements are short, index-driven ones (keyset pages, lookups by key):
        # JIT compiling one costs 100-300 ms of CPU to save microseconds, and the planner
        # chooses it by cost estimates alone (a ListRecords page estimated from stale or no
        # statistics, after a bulk load, compiled every time). So never.
        conn.execute("SET jit = off")
        if self.read_only:
            # Every write of a read-only handle fails (25006), as SQLite's query_only does.
            conn.execute("SET default_transaction_read_only = on")
        if commit:
            conn.commit()

    # -- connections ---------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        """A pooled connection for one transaction (committed when the block ends)."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as err:
            raise StoreError(f"catalogue store {self.url}: {_message(err)}") from err
        except psycopg_pool.PoolTimeout as err:
            raise StoreError(f"catalogue store {self.url}: no connection: {err}") from err

    @contextmanager
    def _statement(self) -> Iterator[Conn]:
        """A pooled connection for one statement, in autocommit: the statement is its own
        transaction, so no ``BEGIN`` and ``COMMIT`` round trips (two of the three a query
        took; a served page runs two such queries)."""
        with self._conn() as conn:
            conn.autocommit = True
            try:
                yield conn
            finally:
                # Back as the pool hands connections out (a broken one is discarded anyway).
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    conn.autocommit = False

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._statement() as conn:
            return conn.execute(query, params).fetchall()

    def _one(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._statement() as conn:
            return conn.execute(query, params).fetchone()

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- member state ------------------------------------------------------------

    def member_state(self, member_id: str) -> MemberState:
        row = self._one(f"SELECT {', '.join(_MEMBER_FIELDS)} FROM members WHERE id = %s",
                        (member_id,))
        if row is None:
            return MemberState(member_id=member_id)
        values = dict(zip(_MEMBER_FIELDS, row, strict=True))
        values["resume"] = json.loads(values["resume"]) if values["resume"] else None
        values["state"] = values["state"] or "never"
        values["normalized_seq"] = int(values["normalized_seq"])
        return MemberState(member_id=member_id, **values)

    def update_member_state(self, member_id: str, **fields: Any) -> None:
        with self._conn() as conn:
            _update_member(conn, member_id, fields)

    # -- runs and the harvest log ---------------------------------------------------

    def begin_run(self, member_id: str, *, mode: str, metadata_prefix: str | None,
                  from_: str | None) -> int:
        with self._conn() as conn:
            # A run still 'running' for this member was killed: say so in the log.
            conn.execute(
                "UPDATE runs SET state = 'interrupted', finished_at = COALESCE(finished_at, %s) "
                "WHERE member_id = %s AND state = 'running'", (_now(), member_id))
            row = conn.execute(
                "INSERT INTO runs (member_id, mode, metadata_prefix, from_, started_at) "
                "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (member_id, mode, metadata_prefix, from_, _now())).fetchone()
            assert row is not None
            return int(row[0])

    def update_run(self, run_id: int, *, mode: str, metadata_prefix: str | None,
                   from_: str | None) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE runs SET mode = %s, metadata_prefix = %s, from_ = %s "
                         "WHERE id = %s", (mode, metadata_prefix, from_, run_id))

    def finish_run(self, run_id: int, *, state: str, counts: dict[str, int],
                   error: str | None) -> None:
        with self._conn() as conn:
            conn.execute(
                "UPDATE runs SET state = %s, finished_at = %s, counts = %s, error = %s "
                "WHERE id = %s", (state, _now(), json.dumps(counts, sort_keys=True), error, run_id))

    def log_issues(self, run_id: int | None, member_id: str, issues: Sequence[Issue]) -> None:
        if not issues:
            return
        now = _now()
        with self._conn() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (run_id, member_id, code, severity, message, identifier, "
                "created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(run_id, member_id, i.code, i.severity, _text(i.message), i.identifier, now)
                 for i in issues])

    def runs(self, member_id: str | None = None, limit: int = 20) -> list[RunInfo]:
        query = ("SELECT id, member_id, mode, state, started_at, finished_at, counts, error "
                 "FROM runs")
        params: list[Any] = []
        if member_id is not None:
            query += " WHERE member_id = %s"
            params.append(member_id)
        query += " ORDER BY id DESC LIMIT %s"
        return [RunInfo(id=int(r[0]), member_id=r[1], mode=r[2], state=r[3], started_at=r[4],
                        finished_at=r[5], counts=json.loads(r[6]), error=r[7])
                for r in self._rows(query, (*params, max(0, limit)))]

    _EVENT_COLUMNS = "id, run_id, member_id, code, severity, message, identifier, created_at"

    @staticmethod
    def _event(row: tuple[Any, ...]) -> EventInfo:
        return EventInfo(id=int(row[0]), run_id=None if row[1] is None else int(row[1]),
                         member_id=row[2], code=row[3], severity=row[4], message=row[5],
                         identifier=row[6], created_at=row[7])

    def events(self, member_id: str | None = None, run_id: int | None = None, *,
               min_severity: str = "info", limit: int = 100) -> list[EventInfo]:
        if min_severity not in SEVERITIES:
            raise ValueError(f"unknown severity {min_severity!r}; known: {', '.join(SEVERITIES)}")
        where = ["severity = ANY(%s)"]
        params: list[Any] = [list(SEVERITIES[SEVERITIES.index(min_severity):])]
        if member_id is not None:
            where.append("member_id = %s")
            params.append(member_id)
        if run_id is not None:
            where.append("run_id = %s")
            params.append(run_id)
        return [self._event(r) for r in self._rows(
            f"SELECT {self._EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT %s", (*params, max(0, limit)))]

    def warning_counts(self, run_ids: Sequence[int]) -> dict[int, int]:
        if not run_ids:
            return {}
        return {int(r[0]): int(r[1]) for r in self._rows(
            "SELECT run_id, COUNT(*) FROM events WHERE severity = 'warning' "
            "AND run_id = ANY(%s) GROUP BY run_id", (list(run_ids),))}

    def last_run_warnings(self, member_id: str) -> tuple[int, EventInfo | None]:
        with self._conn() as conn:
            row = conn.execute("SELECT MAX(id) FROM runs WHERE member_id = %s "
                               "AND state <> 'running'", (member_id,)).fetchone()
            if row is None or row[0] is None:
                return 0, None
            count = conn.execute("SELECT COUNT(*) FROM events WHERE run_id = %s "
                                 "AND severity = 'warning'", (row[0],)).fetchone()
            latest = conn.execute(
                f"SELECT {self._EVENT_COLUMNS} FROM events WHERE run_id = %s "
                "AND severity = 'warning' ORDER BY id DESC LIMIT 1", (row[0],)).fetchone()
        return int(count[0]) if count else 0, None if latest is None else self._event(latest)

    # -- the harvest lock -----------------------------------------------------------

    @contextmanager
    def harvest_lock(self) -> Iterator[None]:
        """An advisory lock held by a connection of its own for the block.

        PostgreSQL releases it when that session ends, however the holder ends (killed, its
        machine gone: once the server notices the connection is dead), so no stale lock is
        ever left. :class:`StoreLocked`, naming the holder, when another process holds it.
        """
        try:
            conn = self._connect(autocommit=True)
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the catalogue store {self.url}: "
                             f"{_message(err)}") from err
        try:
            key = zlib.crc32(self.schema.encode()) - 2**31  # an int4
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                   (_HARVEST_LOCK, key)).fetchone()
                if not (row and row[0]):
                    shared = conn.execute("SELECT pg_try_advisory_lock_shared(%s, %s)",
                                          (_HARVEST_LOCK, key)).fetchone()
                    if shared and shared[0]:  # held shared: by harvest workers (worker_lock)
                        conn.execute("SELECT pg_advisory_unlock_shared(%s, %s)",
                                     (_HARVEST_LOCK, key))
                        text = _refusal(self.url, "a harvest", {},  # type: ignore[arg-type]
                                        workers=True)
                        raise StoreLocked(text.replace("Lock file:", "Advisory lock on:"))
                    found = conn.execute("SELECT details FROM harvest_lock WHERE id = 1"
                                         ).fetchone()
                    holder = _holder(found[0] if found else None)
                    raise StoreLocked(_refusal_pg(self.url, holder), holder=holder)
                details = {**_details(), "host": socket.gethostname()}
                conn.execute("INSERT INTO harvest_lock (id, details) VALUES (1, %s) "
                             "ON CONFLICT (id) DO UPDATE SET details = excluded.details",
                             (json.dumps(details),))
            except psycopg.Error as err:
                raise StoreError(f"catalogue store {self.url}: cannot take the harvest lock: "
                                 f"{_message(err)}") from err
            try:
                yield
            finally:
                try:
                    conn.execute("DELETE FROM harvest_lock WHERE id = 1")
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (_HARVEST_LOCK, key))
                except psycopg.Error:  # the session is gone: so is its lock
                    _log.debug("harvest lock connection lost", exc_info=True)
        finally:
            conn.close()

    @contextmanager
    def worker_lock(self) -> Iterator[None]:
        """:meth:`harvest_lock`'s advisory lock, held shared by a connection of its own: any
        number of harvest workers at once, never with a one-process harvest."""
        try:
            conn = self._connect(autocommit=True)
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the catalogue store {self.url}: "
                             f"{_message(err)}") from err
        try:
            key = zlib.crc32(self.schema.encode()) - 2**31
            try:
                row = conn.execute("SELECT pg_try_advisory_lock_shared(%s, %s)",
                                   (_HARVEST_LOCK, key)).fetchone()
                if not (row and row[0]):
                    found = conn.execute("SELECT details FROM harvest_lock WHERE id = 1"
                                         ).fetchone()
                    holder = _holder(found[0] if found else None)
                    raise StoreLocked(_refusal_pg(self.url, holder).replace(
                        "wait for it to finish", "harvest workers cannot start until it ends; "
                        "wait for it"), holder=holder)
            except psycopg.Error as err:
                raise StoreError(f"catalogue store {self.url}: cannot take the workers' lock: "
                                 f"{_message(err)}") from err
            try:
                yield
            finally:
                try:
                    conn.execute("SELECT pg_advisory_unlock_shared(%s, %s)", (_HARVEST_LOCK, key))
                except psycopg.Error:  # the session is gone: so is its lock
                    _log.debug("workers' lock connection lost", exc_info=True)
        finally:
            conn.close()

    # -- records -------------------------------------------------------------------

    def commit_page(self, member_id: str, run_id: int, metadata_prefix: str,
                    records: Sequence[RawRecord], quarantined: Sequence[Quarantined],
                    resume: dict[str, Any] | None, *,
                    fence: LeaseFence | None = None) -> PageCounts:
        """Store one page and the member's resume state in one transaction (as
        :meth:`eduxchange.store.sqlite.SQLiteStore.commit_page` does), ``fence`` checked
        first, in it (:func:`~eduxchange.store.postgres.leases.check_fence`)."""
        now = _now()
        clock = datetime.now(UTC)
        new = updated = unchanged = deleted = 0
        stale: list[StaleRecord] = []
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
        with self._conn() as conn, conn.cursor() as cur:
            check_fence(conn, fence)
            existing: dict[str, tuple[str, bool, str, str]] = {}
            if latest:
                for ident, datestamp, is_deleted, sets, prefix in cur.execute(
                        "SELECT identifier, datestamp, deleted, sets, metadata_prefix FROM records "
                        "WHERE member_id = %s AND identifier = ANY(%b)",
                        (member_id, list(latest))):
                    existing[ident] = (datestamp, is_deleted, sets, prefix)
            changed: list[tuple[str, RawRecord, tuple[str, bool, str, str] | None]] = []
            seen: list[tuple[Any, ...]] = []
            ignored: set[str] = set()
            for ident, rec in latest.items():
                h = rec.header
                old = existing.get(ident)
                if old is not None and is_stale(h.datestamp, old[0], now=clock):
                    stale.append(StaleRecord(identifier=ident, datestamp=h.datestamp,
                                             kept=old[0]))
                    ignored.add(ident)
                    seen.append((run_id, old[2], member_id, ident))
                    continue
                if (old is not None and old[0] == h.datestamp and old[1] == h.deleted
                        and (h.deleted or old[3] == metadata_prefix)):
                    unchanged += 1
                    merged = sorted(set(json.loads(old[2])) | set(h.sets))
                    seen.append((run_id, json.dumps(merged), member_id, ident))
                    continue
                changed.append((ident, rec, old))
            inserts: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            deletions: list[tuple[Any, ...]] = []
            if changed:
                # Taken last, so the counter's row lock is held for as short a time as can be.
                seq = take_seq(conn, "seq", len(changed)) - len(changed)
                for ident, rec, old in changed:
                    h = rec.header
                    seq += 1
                    sets_json = json.dumps(sorted(h.sets))
                    utc = normalize_datestamp(h.datestamp)
                    if h.deleted:
                        deleted += 1
                        if old is None:
                            inserts.append((member_id, ident, metadata_prefix, h.datestamp, utc,
                                            sets_json, True, None, run_id, run_id, now, now, seq))
                        else:
                            deletions.append((h.datestamp, utc, run_id, run_id, now, seq,
                                              member_id, ident))
                    elif old is None:
                        new += 1
                        inserts.append((member_id, ident, metadata_prefix, h.datestamp, utc,
                                        sets_json, False, rec.raw, run_id, run_id, now, now, seq))
                    else:
                        updated += 1
                        updates.append((metadata_prefix, h.datestamp, utc, sets_json, rec.raw,
                                        run_id, run_id, now, seq, member_id, ident))
            if inserts:
                cur.executemany(
                    "INSERT INTO records (member_id, identifier, metadata_prefix, datestamp, "
                    "datestamp_utc, sets, deleted, raw, run_id, seen_run, first_harvested, "
                    "harvested_at, seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s)", inserts)
            if updates:
                cur.executemany(
                    "UPDATE records SET metadata_prefix = %s, datestamp = %s, datestamp_utc = %s, "
                    "sets = %s, deleted = FALSE, raw = %s, run_id = %s, seen_run = %s, "
                    "harvested_at = %s, seq = %s WHERE member_id = %s AND identifier = %s",
                    updates)
            if deletions:
                # The last raw record stays: a deletion marks, it does not erase.
                cur.executemany(
                    "UPDATE records SET datestamp = %s, datestamp_utc = %s, deleted = TRUE, "
                    "run_id = %s, seen_run = %s, harvested_at = %s, seq = %s "
                    "WHERE member_id = %s AND identifier = %s", deletions)
            if seen:
                cur.executemany("UPDATE records SET seen_run = %s, sets = %s "
                                "WHERE member_id = %s AND identifier = %s", seen)
            stored = [i for i, r in latest.items() if not r.header.deleted and i not in ignored]
            if stored:
                # A record that now reads fine clears its earlier quarantine entries.
                cur.execute(
                    "UPDATE quarantine SET resolved = TRUE WHERE member_id = %s "
                    "AND identifier = ANY(%b) AND stage = 'harvest' AND NOT resolved",
                    (member_id, stored))
            if quarantined:
                cur.executemany(
                    "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, "
                    "created_at) VALUES (%s, %s, %s, 'harvest', %s, %s, %s)",
                    [(member_id, q.identifier, run_id, _text(q.reason), q.raw, now)
                     for q in quarantined])
            _update_member(conn, member_id, {"resume": resume})
        self._wrote()
        return PageCounts(new=new, updated=updated, unchanged=unchanged, deleted=deleted,
                          quarantined=len(quarantined), stale=tuple(stale))

    def mark_seen(self, member_id: str, run_id: int, identifiers: Sequence[str]) -> None:
        if not identifiers:
            return
        with self._conn() as conn:
            conn.execute("UPDATE records SET seen_run = %s WHERE member_id = %s "
                         "AND identifier = ANY(%b)", (run_id, member_id, list(identifiers)))

    def retire_unseen(self, member_id: str, run_id: int, *,
                      fence: LeaseFence | None = None) -> int:
        """Mark deleted every live record of the member that run ``run_id`` did not see."""
        with self._conn() as conn, conn.cursor() as cur:
            check_fence(conn, fence)
            rows = cur.execute(
                "SELECT identifier FROM records WHERE member_id = %s AND NOT deleted "
                "AND (seen_run IS NULL OR seen_run <> %s) ORDER BY identifier",
                (member_id, run_id)).fetchall()
            if not rows:
                return 0
            first = take_seq(conn, "seq", len(rows)) - len(rows) + 1
            now = _now()
            cur.executemany(
                "UPDATE records SET deleted = TRUE, harvested_at = %s, seq = %s "
                "WHERE member_id = %s AND identifier = %s",
                [(now, first + n, member_id, r[0]) for n, r in enumerate(rows)])
        return len(rows)

    def counts(self, member_id: str) -> dict[str, int]:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE NOT deleted), COUNT(*) FILTER (WHERE deleted) "
                "FROM records WHERE member_id = %s", (member_id,)).fetchone()
            quarantined = conn.execute(
                "SELECT COUNT(*) FROM quarantine WHERE member_id = %s AND NOT resolved",
                (member_id,)).fetchone()
        assert row is not None and quarantined is not None
        return {"records": int(row[0]), "deleted": int(row[1]),
                "quarantined": int(quarantined[0])}

    def iter_records(self, member_id: str | None = None, *,
                     include_deleted: bool = True, since_seq: int = 0) -> Iterator[StoredRecord]:
        """Stream stored records in change order (``seq``), in batches, in bounded memory."""
        where: list[str] = []
        params: list[Any] = []
        if member_id is not None:
            where.append("member_id = %s")
            params.append(member_id)
        if not include_deleted:
            where.append("NOT deleted")
        for r in self._by_seq(
                "SELECT member_id, identifier, metadata_prefix, datestamp, sets, deleted, raw, "
                "run_id, first_harvested, harvested_at, seq FROM records", where, params,
                since_seq, batch=1000):
            yield StoredRecord(member_id=r[0], identifier=r[1], metadata_prefix=r[2],
                               datestamp=r[3], sets=tuple(json.loads(r[4])), deleted=r[5],
                               raw=None if r[6] is None else bytes(r[6]),
                               run_id=None if r[7] is None else int(r[7]),
                               first_harvested=r[8], harvested_at=r[9], seq=int(r[10]))

    def _by_seq(self, select: str, where: list[str], params: list[Any], since_seq: int, *,
                batch: int) -> Iterator[tuple[Any, ...]]:
        """Rows of ``select`` (last column ``seq``) after ``since_seq`` in ``seq`` order, by
        keyset, ``batch`` at a time: no cursor or connection held while the caller works.

        Each batch is one statement, so it sees every transaction committed before it; as
        sequence values become visible in the order they were taken (the package docstring),
        a value at or below the last one read never appears later: nothing is skipped.
        """
        conditions = " AND ".join(["seq > %s", *where])
        last = since_seq
        while True:
            rows = self._rows(f"{select} WHERE {conditions} ORDER BY seq LIMIT %s",
                              (last, *params, batch))
            if not rows:
                return
            yield from rows
            last = int(rows[-1][-1])

    def quarantine(self, member_id: str | None = None, limit: int = 100) -> list[QuarantineEntry]:
        query = ("SELECT id, member_id, identifier, run_id, stage, reason, raw, created_at "
                 "FROM quarantine WHERE NOT resolved")
        params: list[Any] = []
        if member_id is not None:
            query += " AND member_id = %s"
            params.append(member_id)
        query += " ORDER BY id DESC LIMIT %s"
        return [QuarantineEntry(id=int(r[0]), member_id=r[1], identifier=r[2],
                                run_id=None if r[3] is None else int(r[3]), stage=r[4],
                                reason=r[5], raw=None if r[6] is None else bytes(r[6]),
                                created_at=r[7])
                for r in self._rows(query, (*params, max(0, limit)))]

    # -- the catalogue -----------------------------------------------------------------

    @contextmanager
    def catalog(self) -> Iterator[PostgresCatalogTxn]:
        """One write transaction of catalogue primitives (see :class:`CatalogTxn`).

        A failure of the database itself (connection lost, deadlock, disk full, a lock or
        statement timeout) raises :class:`StoreError`; an error a record's data caused (a
        value PostgreSQL refuses) propagates as it is, so normalization quarantines the record.
        """
        try:
            # Pipeline mode: statements whose results are not read (most of a normalization's
            # writes) are sent without waiting for each reply; a read waits for what is queued.
            with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
                yield PostgresCatalogTxn(conn, _now())
        except psycopg.Error as err:
            if is_store_failure(err):
                raise StoreError(f"catalogue store {self.url}: {_message(err)}") from err
            raise
        except psycopg_pool.PoolTimeout as err:
            raise StoreError(f"catalogue store {self.url}: no connection: {err}") from err
        self._wrote()

    def _wrote(self) -> None:
        """Count a committed write; bring the planner's statistics up to date as the tables
        grow (after 8, 16, 32, ... of this process's writes).

        A first harvest fills empty tables: planned on the statistics of nearly empty ones,
        each batch's read of its members' unmapped terms scanned all of the member's rows
        (67 of 210 s at 100,000 records). Autovacuum would analyze them, but it may be off
        (it was on the server this was measured on) or behind; ANALYZE samples, so it costs
        about as much at a million rows as at a hundred thousand, a few times a run."""
        self._writes += 1
        if self._writes < self._analyze_at:
            return
        self._analyze_at *= 2
        try:
            with self._pool.connection() as conn:
                conn.autocommit = True
                try:
                    conn.execute("ANALYZE " + ", ".join(_GROWING))
                finally:
                    conn.autocommit = False
        except (psycopg.Error, psycopg_pool.PoolTimeout) as err:  # statistics only: go on
            _log.warning("cannot analyze the catalogue store %s: %s", self.url, err)

    def iter_resources(self, *, include_deleted: bool = False, since_seq: int = 0,
                       member_id: str | None = None, updated_since: str | None = None
                       ) -> Iterator[Resource]:
        """Stream catalogue records in change order (``seq``), in bounded memory."""
        where: list[str] = []
        params: list[Any] = []
        if updated_since is not None:
            where.append("updated_at >= %s")
            params.append(updated_since)
        if not include_deleted:
            where.append("NOT deleted")
        if member_id is not None:
            where.append("id IN (SELECT resource_id FROM descriptions WHERE member_id = %s)")
            params.append(member_id)
        for r in self._by_seq("SELECT id, record, deleted, created_at, updated_at, seq "
                              "FROM resources", where, params, since_seq, batch=500):
            yield Resource(id=r[0], record=parse_json(r[1]), deleted=r[2], created_at=r[3],
                           updated_at=r[4], seq=int(r[5]))

    def written_versions(self) -> dict[str, str]:
        row = self._one("SELECT value FROM meta WHERE key = 'written_versions'")
        return {} if row is None else dict(json.loads(row[0]))

    def resource_counts(self) -> dict[str, int]:
        row = self._one("SELECT COUNT(*) FILTER (WHERE NOT deleted), "
                        "COUNT(*) FILTER (WHERE deleted) FROM resources")
        assert row is not None
        return {"resources": int(row[0]), "deleted": int(row[1])}

    def run_stats(self) -> dict[str, RunStats]:
        """Runs per member, failures, last success and last finish (as the SQLite store's)."""
        return {
            str(r[0]): RunStats(member_id=str(r[0]), runs=int(r[1]), failed=int(r[2]),
                                last_success=r[3], last_finished=r[4])
            for r in self._rows(
                "SELECT member_id, COUNT(*), COUNT(*) FILTER (WHERE state = 'failed'), "
                "MAX(finished_at) FILTER (WHERE state = 'ok'), "
                "MAX(finished_at) FILTER (WHERE state <> 'interrupted') "
                "FROM runs GROUP BY member_id")}

    # -- member quality reports ----------------------------------------------------------

    def iter_descriptions(self, member_id: str) -> Iterator[StoredDescription]:
        last = ""
        while True:
            rows = self._rows(
                "SELECT identifier, resource_id, format, rank, description FROM descriptions "
                "WHERE member_id = %s AND identifier > %s ORDER BY identifier LIMIT 500",
                (member_id, last))
            if not rows:
                return
            for r in rows:
                yield StoredDescription(member_id=member_id, identifier=r[0], resource_id=r[1],
                                        format=r[2], rank=r[3], description=parse_json(r[4]))
            last = rows[-1][0]

    def iter_quarantine(self, member_id: str) -> Iterator[QuarantineEntry]:
        last = 0
        while True:
            rows = self._rows(
                "SELECT id, identifier, run_id, stage, reason, created_at FROM quarantine q "
                "WHERE member_id = %s AND NOT resolved AND id > %s AND (identifier IS NULL "
                "OR NOT EXISTS (SELECT 1 FROM quarantine n WHERE n.member_id = q.member_id "
                "AND n.identifier = q.identifier AND n.stage = q.stage AND NOT n.resolved "
                "AND n.id > q.id)) ORDER BY id LIMIT 500", (member_id, last))
            if not rows:
                return
            for r in rows:
                yield QuarantineEntry(id=int(r[0]), member_id=member_id, identifier=r[1],
                                      run_id=None if r[2] is None else int(r[2]), stage=r[3],
                                      reason=r[4], raw=None, created_at=r[5])
            last = int(rows[-1][0])

    def description_count(self, member_id: str) -> int:
        row = self._one("SELECT COUNT(*) FROM descriptions WHERE member_id = %s", (member_id,))
        return int(row[0]) if row else 0

    def unmapped_terms(self, member_id: str, *, examples: int = 3
                       ) -> list[tuple[str, str, str, int, tuple[str, ...]]]:
        rows = self._rows(
            "SELECT field, source, value, COUNT(*), "
            "(array_agg(identifier ORDER BY identifier))[1:%s] FROM unmapped_terms "
            "WHERE member_id = %s GROUP BY field, source, value "
            "ORDER BY COUNT(*) DESC, field, source, value", (max(0, examples), member_id))
        return [(field_, source, value, int(n), tuple(found or ()))
                for field_, source, value, n, found in rows]

    def iter_unmapped(self, member_id: str) -> Iterator[tuple[str, str, str, str]]:
        last_identifier, last_id = "", 0
        while True:
            rows = self._rows(
                "SELECT identifier, field, source, value, id FROM unmapped_terms "
                "WHERE member_id = %s AND (identifier, id) > (%s, %s) "
                "ORDER BY identifier, id LIMIT 1000",
                (member_id, last_identifier, last_id))
            if not rows:
                return
            for r in rows:
                yield (r[0], r[1], r[2], r[3])
            last_identifier, last_id = rows[-1][0], int(rows[-1][4])

    def put_report_snapshot(self, member_id: str, run_id: int | None,
                            figures: dict[str, Any]) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO reports (member_id, run_id, created_at, figures) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (member_id, run_id) DO UPDATE SET "
                "created_at = excluded.created_at, figures = excluded.figures",
                (member_id, -1 if run_id is None else run_id, _now(), _dumps(figures)))

    def report_snapshots(self, member_id: str, limit: int = 10
                         ) -> list[tuple[int | None, str, dict[str, Any]]]:
        rows = self._rows("SELECT run_id, created_at, figures FROM reports WHERE member_id = %s "
                          "ORDER BY run_id DESC LIMIT %s", (member_id, max(0, limit)))
        return [(None if r[0] < 0 else int(r[0]), str(r[1]), json.loads(r[2])) for r in rows]

    # -- full-text search ---------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        """The resources matching ``query``, most relevant first, with facet counts."""
        with self._conn() as conn:
            return pg_search(conn, query)

    # -- kept settings (the OAI-PMH provider's token key and repositoryIdentifier) -------

    def kept_meta(self, key: str, default: str) -> str:
        """``meta[key]``, written as ``default`` first if absent (concurrent first writers
        agree on one value: ``ON CONFLICT DO NOTHING``)."""
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        if row is not None:
            return str(row[0])
        try:
            # A read-only handle writes this one row with a connection of its own, once.
            with self._connect(autocommit=True) as conn:
                conn.execute("SET default_transaction_read_only = off")
                conn.execute("INSERT INTO meta (key, value) VALUES (%s, %s) "
                             "ON CONFLICT (key) DO NOTHING", (key, default))
        except psycopg.Error as err:
            _log.warning("cannot keep %s in %s (%s): using a value for this process only",
                         key, self.url, _message(err))
            return default
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return default if row is None else str(row[0])

    def token_key(self) -> bytes:
        """The OAI-PMH resumption-token key, made on first use and kept in the catalogue,
        so every server of it signs and accepts the same tokens."""
        value = self.kept_meta("oai_token_key", secrets.token_hex(32))
        try:
            key = bytes.fromhex(value)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise StoreError(f"{self.url}: meta 'oai_token_key' is not a hex key of 16 bytes "
                             "or more")
        return key


def _check_schema(conn: Conn, url: str) -> None:
    """A read-only handle creates nothing: the catalogue must be there, of a known schema."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL, "
                       "to_regclass('resources') IS NOT NULL").fetchone()
    if not row or not row[0] or not row[1]:
        raise StoreError(f"no catalogue store at {url} (harvest first)")
    found = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    if found and found[0] is not None and int(found[0]) > SCHEMA_VERSION:
        raise StoreError(f"the catalogue at {url} has schema version {found[0]}, newer than "
                         f"this eduxchange knows ({SCHEMA_VERSION}): upgrade eduxchange")
    conn.rollback()


def _update_member(conn: Conn, member_id: str, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(_MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"unknown member state fields: {sorted(unknown)}")
    if "resume" in fields and fields["resume"] is not None:
        fields = {**fields, "resume": json.dumps(fields["resume"], sort_keys=True)}
    conn.execute("INSERT INTO members (id) VALUES (%s) ON CONFLICT (id) DO NOTHING", (member_id,))
    if fields:
        assignments = ", ".join(f"{k} = %s" for k in fields)
        conn.execute(f"UPDATE members SET {assignments} WHERE id = %s",
                     (*fields.values(), member_id))


_dumps = canonical_json  # the stored form (store/base.py), as every backend keeps it


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL: a message quoting a member's bytes shows it escaped."""
    return value.replace("\x00", "\\x00")


def _message(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _holder(details: str | None) -> dict[str, object]:
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _refusal_pg(url: str, holder: dict[str, object]) -> str:
    text = _refusal(url, "a harvest", holder)  # type: ignore[arg-type]
    return text.replace("Lock file:", "Advisory lock on:")


if TYPE_CHECKING:  # mypy checks that the store keeps every protocol of the seam
    def _is_catalog_store(store: PostgresStore) -> CatalogStore:
        return store

    def _is_reader(store: PostgresStore) -> StoreReader:
        return store
