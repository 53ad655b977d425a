"""The catalogue transaction of the PostgreSQL store (:class:`~eduxchange.store.base.CatalogTxn`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ...core.record import CommonRecord
from ..base import (Encoded, NewResource, NormalizedBefore, canonical_json, parse_json, Resource,
                    StoredDescription, collect_normalized_before)
from ..search import search_document
from ...catalog.vocab import default_vocabularies
from .search import insert_search, sync_search

__all__ = ["PostgresCatalogTxn", "is_store_failure"]

Conn = psycopg.Connection[tuple[Any, ...]]

# SQLSTATE classes of a failing database rather than of a record's data: 08 connection,
# 40 transaction rollback (deadlock, serialization), 53 insufficient resources (disk full),
# 54 program limit, 55 object not in prerequisite state (lock not available), 57 operator
# intervention (shutdown, statement timeout), 58 system error, XX internal error.
_STORE_FAILURES = ("08", "40", "53", "54", "55", "57", "58", "XX")


def is_store_failure(err: psycopg.Error) -> bool:
    """Whether ``err`` is the database failing (not a value of one record it refused)."""
    if isinstance(err, (psycopg.OperationalError, psycopg.InterfaceError)):
        return True
    # No SQLSTATE: refused by psycopg before it was sent (a NUL in a text, a value too big).
    return (err.sqlstate or "")[:2] in _STORE_FAILURES


_dumps = canonical_json  # the stored form (store/base.py), as every backend keeps it


class PostgresCatalogTxn:
    """:class:`CatalogTxn` over one PostgreSQL connection inside a transaction.

    ``put_resource`` takes its ``catalog_seq`` value with an in-place increment whose row
    lock lasts to the commit: catalogue changes become visible in ``seq`` order.
    """

    def __init__(self, conn: Conn, now: str) -> None:
        self.conn = conn
        self.now = now

    def description(self, member_id: str, identifier: str) -> StoredDescription | None:
        row = self.conn.execute(
            "SELECT resource_id, format, rank, description FROM descriptions "
            "WHERE member_id = %s AND identifier = %s", (member_id, identifier)).fetchone()
        if row is None:
            return None
        return StoredDescription(member_id=member_id, identifier=identifier, resource_id=row[0],
                                 format=row[1], rank=row[2], description=parse_json(row[3]))

    def normalized_before(self, member_id: str, identifiers: Sequence[str]
                          ) -> dict[str, NormalizedBefore]:
        ids = list(dict.fromkeys(identifiers))
        if not ids:
            return {}
        descriptions = {
            r[0]: StoredDescription(member_id=member_id, identifier=r[0], resource_id=r[1],
                                    format=r[2], rank=r[3], description=parse_json(r[4]))
            for r in self.conn.execute(
                "SELECT identifier, resource_id, format, rank, description FROM descriptions "
                "WHERE member_id = %s AND identifier = ANY(%b)", (member_id, ids))}
        unmapped: dict[str, set[tuple[str, str, str]]] = {}
        for ident, field_, source, value in self.conn.execute(
                "SELECT identifier, field, source, value FROM unmapped_terms "
                "WHERE member_id = %s AND identifier = ANY(%b)", (member_id, ids)):
            unmapped.setdefault(ident, set()).add((field_, source, value))
        quarantined = {r[0] for r in self.conn.execute(
            "SELECT DISTINCT identifier FROM quarantine WHERE member_id = %s "
            "AND stage = 'normalize' AND NOT resolved AND identifier = ANY(%b)", (member_id, ids))}
        return collect_normalized_before(ids, descriptions, unmapped, quarantined)

    def put_description(self, d: StoredDescription, raw_seq: int, *,
                        text: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO descriptions (member_id, identifier, resource_id, format, rank, "
            "description, raw_seq, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (member_id, identifier) DO UPDATE SET "
            "resource_id = excluded.resource_id, format = excluded.format, "
            "rank = excluded.rank, description = excluded.description, "
            "raw_seq = excluded.raw_seq, updated_at = excluded.updated_at",
            (d.member_id, d.identifier, d.resource_id, d.format, d.rank,
             _dumps(d.description) if text is None else text, raw_seq, self.now))

    def delete_description(self, member_id: str, identifier: str) -> None:
        self.conn.execute("DELETE FROM descriptions WHERE member_id = %s AND identifier = %s",
                          (member_id, identifier))

    def descriptions_of(self, resource_id: str) -> list[StoredDescription]:
        return [
            StoredDescription(member_id=r[0], identifier=r[1], resource_id=resource_id,
                              format=r[2], rank=r[3], description=parse_json(r[4]))
            for r in self.conn.execute(
                "SELECT member_id, identifier, format, rank, description FROM descriptions "
                "WHERE resource_id = %s ORDER BY member_id, identifier", (resource_id,))
        ]

    def resources_for_keys(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT key, resource_id FROM match_keys WHERE key = ANY(%b)", (list(keys),))}

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None:
        self.conn.execute("DELETE FROM match_keys WHERE resource_id = %s", (resource_id,))
        if keys:
            self.conn.execute(
                "INSERT INTO match_keys (key, resource_id) SELECT k, %s FROM unnest(%b::text[]) k "
                "ON CONFLICT (key) DO UPDATE SET resource_id = excluded.resource_id",
                (resource_id, list(dict.fromkeys(keys))))

    def resource(self, resource_id: str) -> Resource | None:
        row = self.conn.execute(
            "SELECT record, deleted, created_at, updated_at, seq FROM resources WHERE id = %s",
            (resource_id,)).fetchone()
        if row is None:
            return None
        return Resource(id=resource_id, record=parse_json(row[0]), deleted=row[1],
                        created_at=row[2], updated_at=row[3], seq=int(row[4]))

    def resource_states(self, resource_ids: Sequence[str]) -> dict[str, bool]:
        if not resource_ids:
            return {}
        return {r[0]: r[1] for r in self.conn.execute(
            "SELECT id, deleted FROM resources WHERE id = ANY(%b)",
            (list(dict.fromkeys(resource_ids)),))}

    def put_resource(self, resource_id: str, record: CommonRecord | None, *, deleted: bool,
                     sets: Sequence[str], encoded: Encoded | None = None,
                     new: bool = False) -> str | None:
        text = _dumps(record) if encoded is None else encoded.text
        row = None if new else self.conn.execute(
            "SELECT record, deleted FROM resources WHERE id = %s", (resource_id,)).fetchone()
        if row is not None and row[0] == text and row[1] == deleted:
            return None
        if row is None and deleted:
            return None
        kind = "delete" if deleted else ("create" if row is None or row[1] else "update")
        if row is not None and row[1] and not deleted:
            # A retired IRI that is minted again names a resource of its own once more.
            self.conn.execute("DELETE FROM aliases WHERE retired_id = %s", (resource_id,))
        # The seq is taken and used inside the statements (never read back here), so in
        # pipeline mode none of these waits for a reply.
        self.conn.execute(
            "WITH s AS (UPDATE counters SET value = value + 1 WHERE name = 'catalog_seq' "
            "RETURNING value) "
            "INSERT INTO resources (id, record, deleted, created_at, updated_at, seq) "
            "SELECT %s, %s, %s, %s, %s, s.value FROM s ON CONFLICT (id) DO UPDATE SET "
            "record = excluded.record, deleted = excluded.deleted, "
            "updated_at = excluded.updated_at, seq = excluded.seq",
            (resource_id, text, deleted, self.now, self.now))
        if row is not None:  # a resource never written has no sets and no search rows
            self.conn.execute("DELETE FROM resource_sets WHERE resource_id = %s", (resource_id,))
        specs = list(dict.fromkeys(sets))
        if specs:
            self.conn.execute(
                "INSERT INTO resource_sets (resource_id, set_spec, seq) "
                "SELECT r.id, x, r.seq FROM resources r, unnest(%b::text[]) x WHERE r.id = %s",
                (specs, resource_id))
        sync_search(self.conn, resource_id, record, deleted,
                    document=None if encoded is None else encoded.search, fresh=row is None)
        self.conn.execute("INSERT INTO changes (seq, resource_id, kind, at) "
                          "SELECT seq, id, %s, %s FROM resources WHERE id = %s",
                          (kind, self.now, resource_id))
        return kind

    def quarantine(self, member_id: str, identifier: str | None, *, stage: str, reason: str,
                   raw: bytes | None) -> None:
        if identifier is not None:
            self.resolve_quarantine(member_id, identifier, stage=stage)
        self.conn.execute(
            "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, "
            "created_at) VALUES (%s, %s, NULL, %s, %s, %s, %s)",
            (member_id, identifier, stage, reason.replace("\x00", "\\x00"), raw, self.now))

    def resolve_quarantine(self, member_id: str, identifier: str, *, stage: str) -> None:
        self.conn.execute(
            "UPDATE quarantine SET resolved = TRUE WHERE member_id = %s AND identifier = %s "
            "AND stage = %s AND NOT resolved", (member_id, identifier, stage))

    def put_dissemination(self, resource_id: str, prefix: str, xml: bytes, *,
                          version: str) -> None:
        self.conn.execute(
            "INSERT INTO disseminations (resource_id, prefix, seq, xml, writer_version) "
            "SELECT id, %s, seq, %s, %s FROM resources WHERE id = %s "
            "ON CONFLICT (resource_id, prefix) DO UPDATE SET seq = excluded.seq, "
            "xml = excluded.xml, writer_version = excluded.writer_version",
            (prefix, xml, version, resource_id))

    def put_new_resources(self, items: Sequence[NewResource]) -> None:
        """One statement a table for all of ``items`` (arrays unnested server-side), and
        none waits for a reply: the seqs are taken and used inside the statements."""
        if not items:
            return
        execute, now = self.conn.execute, self.now
        ds = [i.description for i in items]
        ids = [d.resource_id for d in ds]
        execute(
            "INSERT INTO descriptions (member_id, identifier, resource_id, format, rank, "
            "description, raw_seq, updated_at) SELECT m, i, r, f, k, d, s, %s FROM "
            "unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::int[], %b::text[], "
            "%b::bigint[]) AS t(m, i, r, f, k, d, s)",
            (now, [d.member_id for d in ds], [d.identifier for d in ds], ids,
             [d.format for d in ds], [d.rank for d in ds], [i.description_text for i in items],
             [i.raw_seq for i in items]))
        unmapped = [(i.description.member_id, i.description.identifier, *t)
                    for i in items for t in i.unmapped]
        if unmapped:
            execute(
                "INSERT INTO unmapped_terms (member_id, identifier, field, source, value) "
                "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], "
                "%b::text[]) ON CONFLICT DO NOTHING", [list(c) for c in zip(*unmapped)])
        pairs = {k: i.description.resource_id for i in items for k in i.keys}  # last one wins
        if pairs:
            execute("INSERT INTO match_keys (key, resource_id) SELECT * FROM "
                    "unnest(%b::text[], %b::text[]) ON CONFLICT (key) DO UPDATE SET "
                    "resource_id = excluded.resource_id", (list(pairs), list(pairs.values())))
        # The seqs, in the items' order: the counter moves by len(items) under its row lock.
        execute(
            "WITH s AS (UPDATE counters SET value = value + %s WHERE name = 'catalog_seq' "
            "RETURNING value) "
            "INSERT INTO resources (id, record, deleted, created_at, updated_at, seq) "
            "SELECT t.id, t.record, FALSE, %s, %s, s.value - %s + t.n FROM s, "
            "unnest(%b::text[], %b::text[]) WITH ORDINALITY AS t(id, record, n)",
            (len(items), now, now, len(items), ids, [i.encoded.text for i in items]))
        members = [(i.description.resource_id, spec) for i in items
                   for spec in dict.fromkeys(i.sets)]
        if members:
            execute("INSERT INTO resource_sets (resource_id, set_spec, seq) "
                    "SELECT r.id, t.spec, r.seq FROM unnest(%b::text[], %b::text[]) "
                    "AS t(id, spec) JOIN resources r ON r.id = t.id",
                    [list(c) for c in zip(*members)])
        insert_search(self.conn, [
            (rid, i.encoded.search if i.encoded.search is not None
             else search_document(parse_json(i.encoded.text), default_vocabularies()))
            for rid, i in zip(ids, items)])
        execute("INSERT INTO changes (seq, resource_id, kind, at) SELECT r.seq, r.id, "
                "'create', %s FROM resources r WHERE r.id = ANY(%b)", (now, ids))
        written = [(i.description.resource_id, prefix, xml, version)
                   for i in items for prefix, xml, version in i.written]
        if written:
            execute("INSERT INTO disseminations (resource_id, prefix, seq, xml, writer_version) "
                    "SELECT r.id, t.prefix, r.seq, t.xml, t.version FROM unnest(%b::text[], "
                    "%b::text[], %b::bytea[], %b::text[]) AS t(id, prefix, xml, version) "
                    "JOIN resources r ON r.id = t.id ON CONFLICT (resource_id, prefix) DO UPDATE "
                    "SET seq = excluded.seq, xml = excluded.xml, "
                    "writer_version = excluded.writer_version",
                    [list(c) for c in zip(*written)])

    def stale_disseminations(self, prefix: str, version: str, *, after_seq: int = 0,
                             limit: int = 500) -> list[Resource]:
        rows = self.conn.execute(
            "SELECT r.id, r.record, r.created_at, r.updated_at, r.seq FROM resources r "
            "LEFT JOIN disseminations d ON d.resource_id = r.id AND d.prefix = %s "
            "AND d.seq = r.seq AND d.writer_version = %s "
            "WHERE r.seq > %s AND NOT r.deleted AND d.resource_id IS NULL "
            "ORDER BY r.seq LIMIT %s", (prefix, version, after_seq, limit)).fetchall()
        return [Resource(id=r[0], record=parse_json(r[1]), deleted=False, created_at=r[2],
                         updated_at=r[3], seq=int(r[4])) for r in rows]

    def set_written_versions(self, versions: dict[str, str]) -> None:
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('written_versions', %s) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          (_dumps(versions),))

    def set_normalized_seq(self, member_id: str, seq: int) -> None:
        self.conn.execute("INSERT INTO members (id, normalized_seq) VALUES (%s, %s) "
                          "ON CONFLICT (id) DO UPDATE SET normalized_seq = excluded.normalized_seq",
                          (member_id, seq))

    def retire(self, retired_id: str, resource_id: str) -> None:
        self.conn.execute("UPDATE aliases SET resource_id = %s WHERE resource_id = %s",
                          (resource_id, retired_id))
        self.conn.execute("INSERT INTO aliases (retired_id, resource_id) VALUES (%s, %s) "
                          "ON CONFLICT (retired_id) DO UPDATE SET resource_id = "
                          "excluded.resource_id", (retired_id, resource_id))

    def aliases_of(self, resource_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT retired_id FROM aliases WHERE resource_id = %s ORDER BY retired_id",
            (resource_id,))]

    def set_unmapped(self, member_id: str, identifier: str,
                     terms: Sequence[tuple[str, str, str]]) -> None:
        self.conn.execute("DELETE FROM unmapped_terms WHERE member_id = %s AND identifier = %s",
                          (member_id, identifier))
        if terms:
            unique = list(dict.fromkeys(terms))
            self.conn.execute(
                "INSERT INTO unmapped_terms (member_id, identifier, field, source, value) "
                "SELECT %s, %s, f, s, v FROM unnest(%b::text[], %b::text[], %b::text[]) "
                "AS t(f, s, v) ON CONFLICT DO NOTHING",
                (member_id, identifier, [t[0] for t in unique], [t[1] for t in unique],
                 [t[2] for t in unique]))
