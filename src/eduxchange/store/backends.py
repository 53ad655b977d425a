"""Open a catalogue store by location: the one place that knows which backend serves which.

Everything above the store layer opens stores here (``pipeline.open_store``, the server) and then
uses only the protocols of :mod:`eduxchange.store.base`. A location is a SQLite file path, or a
PostgreSQL store URL (``postgresql://user@host/dbname``, :mod:`eduxchange.store.postgres`,
which needs the ``postgresql`` extra: psycopg is imported only for such a URL).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ..core.config import is_store_url
from ..core.errors import StoreError
from .base import CatalogStore, StoreReader
from .sqlite import ReadOnlySQLiteStore, SQLiteStore

__all__ = ["open_catalog_store", "open_store_reader"]


def _postgres(location: str) -> ModuleType:
    try:
        from . import postgres
    except ImportError as err:
        raise StoreError(f"the store {location} is a PostgreSQL database, and this installation "
                         f"has no PostgreSQL driver ({err}): pip install "
                         f"'eduxchange[postgresql]'") from err
    return postgres


def open_catalog_store(location: str | Path) -> CatalogStore:
    """Open (creating and upgrading it if needed) the store at ``location`` for reading and
    writing; :class:`~eduxchange.core.errors.StoreError` when it cannot be opened."""
    if isinstance(location, str) and is_store_url(location):
        store: CatalogStore = _postgres(location).PostgresStore(location)
        return store
    return SQLiteStore(location)


def open_store_reader(location: str | Path) -> StoreReader:
    """Open an existing store read-only, for serving: it has no write method and creates
    nothing (:class:`~eduxchange.core.errors.StoreError` when there is no store there)."""
    if isinstance(location, str) and is_store_url(location):
        reader: StoreReader = _postgres(location).PostgresStore(location, read_only=True)
        return reader
    return ReadOnlySQLiteStore(location)
