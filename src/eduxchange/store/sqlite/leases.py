"""Harvest workers' leases in the SQLite store (:class:`~eduxchange.store.base.LeaseStore`).

One ``leases`` table, one row per lease name. Every method is one short ``BEGIN IMMEDIATE``
transaction, so workers in several processes on one WAL file take turns through SQLite's
write lock and its busy timeout, and a lease is never given to two of them. The clock is
this machine's (a SQLite file is only ever shared by processes of one machine).

A mixin of :class:`~eduxchange.store.sqlite.SQLiteStore`, like the store's other concerns.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager

from ..base import LeaseFence, LeaseInfo
from ..lock import lock_path, shared_lock
from .connection import WriteConnections

__all__ = ["SQLiteLeases", "LEASE_SCHEMA", "check_fence"]

LEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    name        TEXT PRIMARY KEY,
    worker_id   TEXT,
    taken_at    REAL,
    expires_at  REAL,
    finished_at REAL,
    finished_by TEXT
);
"""


def check_fence(conn: sqlite3.Connection, fence: LeaseFence | None) -> None:
    """In a write transaction: :class:`~eduxchange.core.errors.LeaseLost` unless the fence's
    worker holds its lease (:class:`~eduxchange.store.base.LeaseFence`). ``BEGIN IMMEDIATE``
    holds the write lock from the start, so no worker takes the lease over before the
    transaction ends."""
    if fence is None:
        return
    row = conn.execute("SELECT worker_id FROM leases WHERE name = ?", (fence.name,)).fetchone()
    fence.check(None if row is None else row[0])


class SQLiteLeases(WriteConnections):
    """The :class:`~eduxchange.store.base.LeaseStore` methods of
    :class:`~eduxchange.store.sqlite.SQLiteStore`."""

    def lease_clock(self) -> float:
        return time.time()

    def acquire_lease(self, name: str, worker_id: str, ttl_s: float, *,
                      unless_finished_since: float | None = None) -> bool:
        now = self.lease_clock()
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO leases (name) VALUES (?)", (name,))
            cur = conn.execute(
                "UPDATE leases SET worker_id = ?, taken_at = ?, expires_at = ? "
                "WHERE name = ? AND (worker_id IS NULL OR expires_at <= ?) "
                "AND (? IS NULL OR finished_at IS NULL OR finished_at < ?)",
                (worker_id, now, now + ttl_s, name, now, unless_finished_since,
                 unless_finished_since))
            return cur.rowcount == 1

    def renew_lease(self, name: str, worker_id: str, ttl_s: float) -> bool:
        with self._write() as conn:
            cur = conn.execute("UPDATE leases SET expires_at = ? WHERE name = ? AND worker_id = ?",
                               (self.lease_clock() + ttl_s, name, worker_id))
            return cur.rowcount == 1

    def release_lease(self, name: str, worker_id: str, *, finished: bool = False) -> None:
        now = self.lease_clock()
        with self._write() as conn:
            if finished:
                conn.execute(
                    "UPDATE leases SET worker_id = NULL, expires_at = NULL, finished_at = ?, "
                    "finished_by = ? WHERE name = ? AND worker_id = ?",
                    (now, worker_id, name, worker_id))
            else:
                conn.execute("UPDATE leases SET worker_id = NULL, expires_at = NULL "
                             "WHERE name = ? AND worker_id = ?", (name, worker_id))

    def leases(self) -> list[LeaseInfo]:
        now = self.lease_clock()
        return [LeaseInfo(name=r[0], worker_id=r[1], taken_at=r[2], expires_at=r[3],
                          finished_at=r[4], finished_by=r[5],
                          live=r[1] is not None and r[3] is not None and r[3] > now)
                for r in self._conn().execute(
                    "SELECT name, worker_id, taken_at, expires_at, finished_at, finished_by "
                    "FROM leases ORDER BY name")]

    def worker_lock(self) -> AbstractContextManager[None]:
        """The harvest lock file held shared (see :func:`~eduxchange.store.lock.shared_lock`)."""
        return shared_lock(lock_path(self.path), what="harvest workers")
