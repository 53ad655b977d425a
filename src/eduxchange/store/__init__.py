"""Catalogue stores: the interface and the embedded SQLite default."""

from __future__ import annotations

from .base import CatalogStore, MemberState, PageCounts, QuarantineEntry, RunInfo, StoredRecord
from .sqlite import SQLiteStore

__all__ = [
    "CatalogStore",
    "MemberState",
    "PageCounts",
    "QuarantineEntry",
    "RunInfo",
    "StoredRecord",
    "SQLiteStore",
]
