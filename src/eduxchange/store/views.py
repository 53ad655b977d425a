"""Read-only views of the catalogue for the web pages (:mod:`eduxchange.publish.web`).

Small queries the landing, record and member pages need and no other reader does: catalogue
totals, distinct languages and licences, one resource's member descriptions with their times.
Like :func:`eduxchange.store.sqlite.resource_by_id` they take a :class:`SQLiteStore` and never
write, so they run on the server's read-only store. A PostgreSQL backend gives the same
functions (``jsonb_array_elements_text`` for SQLite's ``json_each``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .sqlite import ReadOnlySQLiteStore, SQLiteStore

__all__ = ["CatalogueTotals", "MemberDescription", "catalogue_totals", "descriptions_of",
           "member_resource_count"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueTotals:
    """What the landing page counts: live resources, distinct languages and licences."""

    resources: int
    languages: int
    licences: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberDescription:
    """One member's normalized description of a resource, and when it was last normalized."""

    member_id: str
    identifier: str
    format: str
    description: dict[str, Any]
    updated_at: str


def catalogue_totals(store: SQLiteStore | ReadOnlySQLiteStore) -> CatalogueTotals:
    """Counts over the live catalogue (one scan of ``resources``; callers cache by change seq)."""
    conn = store._conn()
    (resources,) = conn.execute("SELECT COUNT(*) FROM resources WHERE deleted = 0").fetchone()
    (languages,) = conn.execute(
        "SELECT COUNT(DISTINCT lower(j.value)) FROM resources r, "
        "json_each(r.record, '$.inLanguage') j WHERE r.deleted = 0").fetchone()
    (licences,) = conn.execute(
        "SELECT COUNT(DISTINCT json_extract(record, '$.license.id')) FROM resources "
        "WHERE deleted = 0").fetchone()
    return CatalogueTotals(resources=int(resources), languages=int(languages),
                           licences=int(licences))


def descriptions_of(store: SQLiteStore | ReadOnlySQLiteStore, resource_id: str) -> list[MemberDescription]:
    """The member descriptions a catalogue record was merged from, by member and identifier."""
    return [
        MemberDescription(member_id=r[0], identifier=r[1], format=r[2],
                          description=json.loads(r[3]), updated_at=r[4])
        for r in store._conn().execute(
            "SELECT member_id, identifier, format, description, updated_at FROM descriptions "
            "WHERE resource_id = ? ORDER BY rank, member_id, identifier LIMIT 100",
            (resource_id,))
    ]


def member_resource_count(store: SQLiteStore | ReadOnlySQLiteStore, member_id: str) -> int:
    """How many live catalogue records a member's descriptions contribute to."""
    (count,) = store._conn().execute(
        "SELECT COUNT(DISTINCT d.resource_id) FROM descriptions d JOIN resources r "
        "ON r.id = d.resource_id WHERE d.member_id = ? AND r.deleted = 0",
        (member_id,)).fetchone()
    return int(count)
