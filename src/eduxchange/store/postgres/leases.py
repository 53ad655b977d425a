"""Harvest workers' leases in the PostgreSQL store (:class:`~eduxchange.store.base.LeaseStore`).

The same ``leases`` table as the SQLite store's (migration 2). A lease is taken by one
statement that locks its row ``FOR UPDATE SKIP LOCKED`` and checks the expiry under that
lock: two workers asking at once never both get it, and neither waits for the other (the
loser's answer is "held"). Times are the database server's clock (``clock_timestamp()``), so
workers on machines whose clocks differ agree on who holds what and when it expires.

A mixin of :class:`~eduxchange.store.postgres.PostgresStore`; its ``worker_lock`` lives
next to ``harvest_lock`` (the same advisory lock, taken shared).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..base import LeaseFence, LeaseInfo

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLeases", "LEASE_MIGRATION", "check_fence"]

#: The store clock, in seconds since the epoch.
_NOW = "extract(epoch FROM clock_timestamp())::float8"

LEASE_MIGRATION = """
CREATE TABLE leases (
    name        TEXT COLLATE "C" PRIMARY KEY,
    worker_id   TEXT COLLATE "C",
    taken_at    DOUBLE PRECISION,
    expires_at  DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    finished_by TEXT COLLATE "C"
);
"""


def check_fence(conn: psycopg.Connection[tuple[Any, ...]], fence: LeaseFence | None) -> None:
    """In a write transaction: :class:`~eduxchange.core.errors.LeaseLost` unless the fence's
    worker holds its lease (:class:`~eduxchange.store.base.LeaseFence`).

    The lease's row is locked ``FOR SHARE`` until the transaction ends: a takeover
    (:meth:`PostgresLeases.acquire_lease`, ``FOR UPDATE SKIP LOCKED``) skips it meanwhile, and
    a takeover in progress makes this wait for it and then see the new holder.
    """
    if fence is None:
        return
    row = conn.execute("SELECT worker_id FROM leases WHERE name = %s FOR SHARE",
                       (fence.name,)).fetchone()
    fence.check(None if row is None else row[0])


class PostgresLeases:
    """The :class:`~eduxchange.store.base.LeaseStore` methods of
    :class:`~eduxchange.store.postgres.PostgresStore` (bar ``worker_lock``)."""

    if TYPE_CHECKING:
        def _conn(self) -> AbstractContextManager[psycopg.Connection[tuple[Any, ...]]]: ...

        def _rows(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]: ...

        def _one(self, query: str, params: Any = ()) -> tuple[Any, ...] | None: ...

    def lease_clock(self) -> float:
        row = self._one(f"SELECT {_NOW}")
        assert row is not None
        return float(row[0])

    def acquire_lease(self, name: str, worker_id: str, ttl_s: float, *,
                      unless_finished_since: float | None = None) -> bool:
        with self._conn() as conn:
            conn.execute("INSERT INTO leases (name) VALUES (%s) ON CONFLICT (name) DO NOTHING",
                         (name,))
            row = conn.execute(
                f"UPDATE leases SET worker_id = %s, taken_at = {_NOW}, "
                f"expires_at = {_NOW} + %s "
                "WHERE name = (SELECT name FROM leases WHERE name = %s "
                f"AND (worker_id IS NULL OR expires_at <= {_NOW}) "
                "AND (%s::float8 IS NULL OR finished_at IS NULL OR finished_at < %s::float8) "
                "FOR UPDATE SKIP LOCKED) RETURNING name",
                (worker_id, ttl_s, name, unless_finished_since, unless_finished_since)
            ).fetchone()
            return row is not None

    def renew_lease(self, name: str, worker_id: str, ttl_s: float) -> bool:
        with self._conn() as conn:
            cur = conn.execute(f"UPDATE leases SET expires_at = {_NOW} + %s "
                               "WHERE name = %s AND worker_id = %s", (ttl_s, name, worker_id))
            return cur.rowcount == 1

    def release_lease(self, name: str, worker_id: str, *, finished: bool = False) -> None:
        with self._conn() as conn:
            if finished:
                conn.execute(f"UPDATE leases SET worker_id = NULL, expires_at = NULL, "
                             f"finished_at = {_NOW}, finished_by = %s "
                             "WHERE name = %s AND worker_id = %s", (worker_id, name, worker_id))
            else:
                conn.execute("UPDATE leases SET worker_id = NULL, expires_at = NULL "
                             "WHERE name = %s AND worker_id = %s", (name, worker_id))

    def leases(self) -> list[LeaseInfo]:
        return [LeaseInfo(name=r[0], worker_id=r[1], taken_at=r[2], expires_at=r[3],
                          finished_at=r[4], finished_by=r[5], live=bool(r[6]))
                for r in self._rows(
                    "SELECT name, worker_id, taken_at, expires_at, finished_at, finished_by, "
                    f"worker_id IS NOT NULL AND expires_at > {_NOW} FROM leases ORDER BY name")]
