"""The embedded default store: one SQLite file in WAL mode (see :mod:`.store`).

Modules by concern: :mod:`.connection` (per-thread connections), :mod:`.schema` (tables and
migrations), :mod:`.harvest` (harvest state, runs, raw records by page), :mod:`.catalog` (the
normalization transaction), :mod:`.readers` (catalogue, report and change-feed readers),
:mod:`.oai` (the OAI-PMH backend), :mod:`.fts` (full-text search), :mod:`.store` (the stores).
"""

from __future__ import annotations

from .oai import OAI_SET_ROOTS, OAIItem, SQLiteOAIBackend, oai_set_specs, oai_token_key
from .readers import alias_target, change_rows, change_stats, latest_change, resource_by_id
from .fts import SEARCH_INDEX_VERSION
from .schema import SCHEMA_VERSION
from .store import ReadOnlySQLiteStore, SQLiteStore

__all__ = [
    "OAI_SET_ROOTS",
    "OAIItem",
    "ReadOnlySQLiteStore",
    "SCHEMA_VERSION",
    "SEARCH_INDEX_VERSION",
    "SQLiteOAIBackend",
    "SQLiteStore",
    "alias_target",
    "change_rows",
    "change_stats",
    "latest_change",
    "oai_set_specs",
    "oai_token_key",
    "resource_by_id",
]
