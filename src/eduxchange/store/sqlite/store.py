"""The embedded default store: one SQLite file in WAL mode, read-write or read-only.

:class:`SQLiteStore` is the readers and the writers over read-write connections;
:class:`ReadOnlySQLiteStore` is the readers alone over read-only ones, so a served catalogue
has no method that writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ...core.errors import StoreError
from .catalog import CatalogWriters
from .connection import ReadOnlyConnections
from .dump import DumpReaders, DumpWriters
from .fts import SearchReader, ensure_search_index
from .harvest import HarvestReaders, HarvestWriters
from .leases import SQLiteLeases
from .oai import OAIReaders
from .readers import CatalogReaders, ChangeFeedReaders
from .schema import migrate

__all__ = ["ReadOnlySQLiteStore", "SQLiteStore"]


class _Readers(HarvestReaders, CatalogReaders, ChangeFeedReaders, OAIReaders, SearchReader,
               DumpReaders):
    """Every reader (:class:`~eduxchange.store.base.StoreReader`), over any connections."""


class SQLiteStore(HarvestWriters, CatalogWriters, DumpWriters, _Readers, SQLiteLeases):
    """A :class:`~eduxchange.store.base.CatalogStore` in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            migrate(conn, self.path)
            ensure_search_index(conn, self._codec)
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"cannot open the catalogue store {self.path}: {err}") from err


class ReadOnlySQLiteStore(ReadOnlyConnections, _Readers):
    """An existing catalogue opened read-only (``mode=ro``, ``query_only``): for publishing, a
    :class:`~eduxchange.store.base.StoreReader`.

    Creates nothing: the file must exist (:class:`StoreError` otherwise). It has the store's
    readers only, no write method, and its connections cannot write, so nothing served can
    change the catalogue. Safe to use while a harvest writes to the same file (WAL readers see
    committed data).
    """

    def __init__(self, path: str | Path) -> None:  # noqa: D107 - the class says it
        super().__init__(path)
        if not self.path.is_file():
            raise StoreError(f"no catalogue store at {self.path} (harvest first)")
        try:
            tables = {r[0] for r in self._conn().execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as err:
            raise StoreError(f"cannot open the catalogue store {self.path}: {err}") from err
        if not {"resources", "changes"} <= tables:
            raise StoreError(f"{self.path} is not an eduxchange catalogue (no resources table)")
