"""Open a catalogue store by location: the one place that knows which backend serves which.

Everything above the store layer opens stores here (``pipeline.open_store``, the server) and then
uses only the protocols of :mod:`eduxchange.store.base`. Today every location is a SQLite file;
a PostgreSQL backend adds its scheme to :func:`open_catalog_store` and :func:`open_store_reader`.
"""

from __future__ import annotations

from pathlib import Path

from .base import CatalogStore, StoreReader
from .sqlite import ReadOnlySQLiteStore, SQLiteStore

__all__ = ["open_catalog_store", "open_store_reader"]


def open_catalog_store(location: str | Path) -> CatalogStore:
    """Open (creating and upgrading it if needed) the store at ``location`` for reading and
    writing; :class:`~eduxchange.core.errors.StoreError` when it cannot be opened."""
    return SQLiteStore(location)


def open_store_reader(location: str | Path) -> StoreReader:
    """Open an existing store read-only, for serving: it has no write method and creates
    nothing (:class:`~eduxchange.core.errors.StoreError` when there is no store there)."""
    return ReadOnlySQLiteStore(location)
