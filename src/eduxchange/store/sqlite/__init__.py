"""The embedded default store: one SQLite file in WAL mode (see :mod:`.store`).

Modules by concern: :mod:`.connection` (per-thread connections, errors as ``StoreError``),
:mod:`.schema` (tables and versioned migrations), :mod:`.harvest` (harvest state, runs, raw
records by page), :mod:`.catalog` (the normalization transaction), :mod:`.readers` (catalogue,
report and change-feed readers), :mod:`.oai` (the OAI-PMH backend), :mod:`.fts` (full-text
search), :mod:`.store` (the two stores). Everything else reaches them through the protocols of
:mod:`eduxchange.store.base` only.
"""

from __future__ import annotations

from .fts import SEARCH_INDEX_VERSION
from .schema import SCHEMA_VERSION
from .store import ReadOnlySQLiteStore, SQLiteStore

__all__ = ["ReadOnlySQLiteStore", "SCHEMA_VERSION", "SEARCH_INDEX_VERSION", "SQLiteStore"]
