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
from .fts import SearchReader
from .harvest import HarvestReaders, HarvestWriters
from .readers import CatalogReaders
from .schema import SCHEMA_VERSION, migrate

__all__ = ["ReadOnlySQLiteStore", "SQLiteStore"]


class SQLiteStore(HarvestWriters, CatalogWriters, HarvestReaders, CatalogReaders, SearchReader,
                  DumpWriters, DumpReaders):
    """A :class:`~eduxchange.store.base.CatalogStore` in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            migrate(self._conn())
            with self._write() as c:
                c.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
                c.execute("INSERT OR IGNORE INTO meta VALUES ('catalog_seq', '0')")
        except (sqlite3.Error, OSError) as err:
            raise StoreError(f"cannot open the catalogue store {self.path}: {err}") from err


class ReadOnlySQLiteStore(ReadOnlyConnections, HarvestReaders, CatalogReaders, SearchReader,
                          DumpReaders):
    """An existing catalogue opened read-only (``mode=ro``, ``query_only``): for publishing.

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
