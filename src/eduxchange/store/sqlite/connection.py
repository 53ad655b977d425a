"""Connections to one SQLite file: one per thread, read-write or read-only.

Each thread gets its own connection (members are harvested concurrently); writers take the
lock with ``BEGIN IMMEDIATE`` and wait for each other through ``busy_timeout``. The readers and
writers of the store (:mod:`.harvest`, :mod:`.readers`, :mod:`.catalog`) are mixins over
:class:`Connections`; :class:`ReadOnlyConnections` opens the file with ``mode=ro``.
"""

from __future__ import annotations

import functools
import inspect
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar, cast

from ...core.errors import StoreError

__all__ = ["Connections", "ReadOnlyConnections", "WriteConnections", "store_errors"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@contextmanager
def _discard(lock: AbstractContextManager[object]) -> Iterator[None]:
    """``lock`` as a context manager that yields nothing (the protocol's shape)."""
    with lock:
        yield


def store_errors(method: _F) -> _F:
    """``method`` raising :class:`StoreError` for any :class:`sqlite3.Error` (the seam's error:
    no SQLite exception leaks through :mod:`eduxchange.store.base`); generators too."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self: Connections, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as err:
                raise StoreError(f"catalogue store {self.path}: {err}") from err
        return cast(_F, generator)

    @functools.wraps(method)
    def wrapper(self: Connections, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as err:
            raise StoreError(f"catalogue store {self.path}: {err}") from err
    return cast(_F, wrapper)


class Connections:
    """The per-thread connections of one store file (how they open: the subclasses)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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



class WriteConnections(Connections):
    """Read-write connections in WAL mode, and write transactions."""

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=60.0,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
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


class ReadOnlyConnections(Connections):
    """Connections that cannot write (``mode=ro``, ``query_only``)."""

    def _connect(self) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0,
                               check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn
