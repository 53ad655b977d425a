"""The normalization transaction in SQLite: catalogue primitives inside one ``BEGIN IMMEDIATE``.

The merge policy lives in :mod:`eduxchange.catalog.normalization`; :class:`_SQLiteCatalogTxn`
only reads and writes descriptions, resources, match keys, aliases, quarantine, pre-rendered
metadata and the derived rows kept with a resource (its OAI-PMH sets, its search index rows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...core.errors import StoreError
from ...core.record import CommonRecord
from ..base import (Encoded, NewResource, NormalizedBefore, Resource, StoredDescription,
                    collect_normalized_before, parse_json)
from .connection import Codec, WriteConnections, _dumps, _now, in_chunks
from .fts import _search_insert, _search_sync
from .oai import _oai_sync_sets

__all__ = ["CatalogWriters"]


class CatalogWriters(WriteConnections):
    """The catalogue's write transactions (and the report snapshots)."""

    # -- the catalogue --------------------------------------------------------------

    @contextmanager
    def catalog(self) -> Iterator[_SQLiteCatalogTxn]:
        """One write transaction of catalogue primitives (see :class:`CatalogTxn`).

        A failure of the store itself (locked, disk full, I/O) raises :class:`StoreError`, so
        normalization can tell it from a record that cannot be written (which it quarantines).
        """
        try:
            with self._write() as conn:
                txn = _SQLiteCatalogTxn(conn, self._codec)
                yield txn
                txn.flush()
        except sqlite3.OperationalError as err:
            raise StoreError(f"catalogue store {self.path}: {err}") from err

    def put_report_snapshot(self, member_id: str, run_id: int | None,
                            figures: dict[str, Any]) -> None:
        """Keep a report's key figures for the member's run ``run_id`` (replacing earlier ones)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO reports (member_id, run_id, created_at, figures) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (member_id, run_id) DO UPDATE SET created_at = excluded.created_at, "
                "figures = excluded.figures",
                (member_id, -1 if run_id is None else run_id, _now(), _dumps(figures)))



class _SQLiteCatalogTxn:
    """:class:`CatalogTxn` over one SQLite connection inside ``BEGIN IMMEDIATE``."""

    def __init__(self, conn: sqlite3.Connection, codec: Codec) -> None:
        self.conn = conn
        self.codec = codec
        self.now = _now()
        self._seq: int | None = None  # catalog_seq as this transaction has taken it
        self._stored_seq = 0

    def _json(self, stored: str | bytes) -> Any:
        return self.codec.load_json(self.conn, stored)

    def _next_seq(self) -> int:
        """The next catalogue seq: counted here, written to ``meta`` once, by :meth:`flush`
        (one statement a batch instead of one a change; the transaction holds the lock)."""
        if self._seq is None:
            self._seq = self._stored_seq = int(self.conn.execute(
                "SELECT value FROM meta WHERE key = 'catalog_seq'").fetchone()[0])
        self._seq += 1
        return self._seq

    def flush(self) -> None:
        """Write what the transaction counted in memory (before it commits)."""
        if self._seq is not None and self._seq != self._stored_seq:
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'catalog_seq'",
                              (str(self._seq),))
            self._stored_seq = self._seq

    def description(self, member_id: str, identifier: str) -> StoredDescription | None:
        row = self.conn.execute(
            "SELECT resource_id, format, rank, description FROM descriptions "
            "WHERE member_id = ? AND identifier = ?", (member_id, identifier)).fetchone()
        if row is None:
            return None
        return StoredDescription(member_id=member_id, identifier=identifier, resource_id=row[0],
                                 format=row[1], rank=row[2], description=self._json(row[3]))

    def normalized_before(self, member_id: str, identifiers: Sequence[str]
                          ) -> dict[str, NormalizedBefore]:
        descriptions: dict[str, StoredDescription] = {}
        unmapped: dict[str, set[tuple[str, str, str]]] = {}
        quarantined: set[str] = set()
        ids = list(dict.fromkeys(identifiers))
        for chunk, marks in in_chunks(ids):
            for ident, resource_id, format_, rank, text in self.conn.execute(
                    "SELECT identifier, resource_id, format, rank, description FROM descriptions "
                    f"WHERE member_id = ? AND identifier IN ({marks})", (member_id, *chunk)):
                descriptions[ident] = StoredDescription(
                    member_id=member_id, identifier=ident, resource_id=resource_id,
                    format=format_, rank=rank, description=self._json(text))
            for ident, field_, source, value in self.conn.execute(
                    "SELECT identifier, field, source, value FROM unmapped_terms "
                    f"WHERE member_id = ? AND identifier IN ({marks})", (member_id, *chunk)):
                unmapped.setdefault(ident, set()).add((field_, source, value))
            quarantined.update(r[0] for r in self.conn.execute(
                "SELECT identifier FROM quarantine WHERE member_id = ? AND stage = 'normalize' "
                f"AND resolved = 0 AND identifier IN ({marks})", (member_id, *chunk)))
        return collect_normalized_before(ids, descriptions, unmapped, quarantined)

    def put_description(self, d: StoredDescription, raw_seq: int, *,
                        text: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO descriptions (member_id, identifier, resource_id, format, rank, "
            "description, raw_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (member_id, identifier) DO UPDATE SET resource_id = excluded.resource_id, "
            "format = excluded.format, rank = excluded.rank, description = excluded.description, "
            "raw_seq = excluded.raw_seq, updated_at = excluded.updated_at",
            (d.member_id, d.identifier, d.resource_id, d.format, d.rank,
             self.codec.pack_json("description", d.description, text=text), raw_seq, self.now))

    def delete_description(self, member_id: str, identifier: str) -> None:
        self.conn.execute("DELETE FROM descriptions WHERE member_id = ? AND identifier = ?",
                          (member_id, identifier))

    def descriptions_of(self, resource_id: str) -> list[StoredDescription]:
        return [
            StoredDescription(member_id=r[0], identifier=r[1], resource_id=resource_id,
                              format=r[2], rank=r[3], description=self._json(r[4]))
            for r in self.conn.execute(
                "SELECT member_id, identifier, format, rank, description FROM descriptions "
                "WHERE resource_id = ? ORDER BY member_id, identifier", (resource_id,))
        ]

    def resources_for_keys(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(list(dict.fromkeys(keys))):
            found.update(self.conn.execute(
                f"SELECT key, resource_id FROM match_keys WHERE key IN ({marks})", chunk))
        return found

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None:
        self.conn.execute("DELETE FROM match_keys WHERE resource_id = ?", (resource_id,))
        self.conn.executemany(
            "INSERT OR REPLACE INTO match_keys (key, resource_id) VALUES (?, ?)",
            [(k, resource_id) for k in keys])

    def resource(self, resource_id: str) -> Resource | None:
        row = self.conn.execute(
            "SELECT record, deleted, created_at, updated_at, seq FROM resources WHERE id = ?",
            (resource_id,)).fetchone()
        if row is None:
            return None
        return Resource(id=resource_id, record=self._json(row[0]), deleted=bool(row[1]),
                        created_at=row[2], updated_at=row[3], seq=row[4])

    def resource_states(self, resource_ids: Sequence[str]) -> dict[str, bool]:
        states: dict[str, bool] = {}
        for chunk, marks in in_chunks(list(dict.fromkeys(resource_ids))):
            states.update((r[0], bool(r[1])) for r in self.conn.execute(
                f"SELECT id, deleted FROM resources WHERE id IN ({marks})", chunk))
        return states

    def put_resource(self, resource_id: str, record: CommonRecord | None, *, deleted: bool,
                     sets: Sequence[str], encoded: Encoded | None = None,
                     new: bool = False) -> str | None:
        text = _dumps(record) if encoded is None else encoded.text
        row = None if new else self.conn.execute(
            "SELECT record, deleted, seq FROM resources WHERE id = ?", (resource_id,)).fetchone()
        if (row is not None and bool(row[1]) == deleted
                and self.codec.text(self.conn, row[0]) == text):
            return None
        if row is None and deleted:
            return None
        kind = "delete" if deleted else ("create" if row is None or row[1] else "update")
        if row is not None and row[1] and not deleted:
            # A retired IRI that is minted again names a resource of its own once more.
            self.conn.execute("DELETE FROM aliases WHERE retired_id = ?", (resource_id,))
        seq = self._next_seq()
        self.conn.execute(
            "INSERT INTO resources (id, record, deleted, created_at, updated_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record, "
            "deleted = excluded.deleted, updated_at = excluded.updated_at, seq = excluded.seq",
            (resource_id, self.codec.compress("record", text.encode("utf-8")), int(deleted),
             self.now, self.now, seq))
        _oai_sync_sets(self.conn, sets, seq, old_seq=None if row is None else row[2])  # OAI-PMH
        _search_sync(self.conn, self.codec, resource_id, record, deleted,  # search index (.fts)
                     document=None if encoded is None else encoded.search, fresh=row is None)
        self.conn.execute("INSERT INTO changes (seq, resource_id, kind, at) VALUES (?, ?, ?, ?)",
                          (seq, resource_id, kind, self.now))
        return kind

    def quarantine(self, member_id: str, identifier: str | None, *, stage: str, reason: str,
                   raw: bytes | None) -> None:
        if identifier is not None:
            self.resolve_quarantine(member_id, identifier, stage=stage)
        self.conn.execute(
            "INSERT INTO quarantine (member_id, identifier, run_id, stage, reason, raw, created_at) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?)", (member_id, identifier, stage, reason, raw, self.now))

    def resolve_quarantine(self, member_id: str, identifier: str, *, stage: str) -> None:
        self.conn.execute(
            "UPDATE quarantine SET resolved = 1 WHERE member_id = ? AND identifier = ? "
            "AND stage = ? AND resolved = 0", (member_id, identifier, stage))

    def put_dissemination(self, resource_id: str, prefix: str, xml: bytes, *,
                          version: str) -> None:
        """Keep a record's metadata already written in ``prefix`` by the writer of
        ``version``, for the current ``seq``."""
        self.conn.execute(
            "INSERT OR REPLACE INTO disseminations (resource_id, prefix, seq, xml, writer_version, "
            "codec) SELECT id, ?, seq, ?, ?, 'zstd' FROM resources WHERE id = ?",
            (prefix, self.codec.compress(f"xml:{prefix}", xml), version, resource_id))

    def put_new_resources(self, items: Sequence[NewResource]) -> None:
        if not items:
            return
        conn, codec, now = self.conn, self.codec, self.now
        seqs = [self._next_seq() for _ in items]
        conn.executemany(
            "INSERT INTO descriptions (member_id, identifier, resource_id, format, rank, "
            "description, raw_seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.member_id, d.identifier, d.resource_id, d.format, d.rank,
              codec.compress("description", i.description_text.encode("utf-8")),
              i.raw_seq, now) for i in items for d in (i.description,)])
        unmapped = [(i.description.member_id, i.description.identifier, *t)
                    for i in items for t in i.unmapped]
        if unmapped:
            conn.executemany(
                "INSERT OR IGNORE INTO unmapped_terms (member_id, identifier, field, source, "
                "value) VALUES (?, ?, ?, ?, ?)", unmapped)
        conn.executemany("INSERT OR REPLACE INTO match_keys (key, resource_id) VALUES (?, ?)",
                         [(k, i.description.resource_id) for i in items for k in i.keys])
        conn.executemany(
            "INSERT INTO resources (id, record, deleted, created_at, updated_at, seq) "
            "VALUES (?, ?, 0, ?, ?, ?)",
            [(i.description.resource_id,
              codec.compress("record", i.encoded.text.encode("utf-8")), now, now, seq)
             for i, seq in zip(items, seqs)])
        conn.executemany("INSERT OR IGNORE INTO set_members (set_spec, seq) VALUES (?, ?)",
                         [(spec, seq) for i, seq in zip(items, seqs)
                          for spec in dict.fromkeys(i.sets)])
        for i in items:  # search (.fts): each document's rowid is its FTS5 rowid
            search = i.encoded.search
            _search_insert(conn, codec, i.description.resource_id,
                           parse_json(i.encoded.text) if search is None else None, search)
        conn.executemany("INSERT INTO changes (seq, resource_id, kind, at) "
                         "VALUES (?, ?, 'create', ?)",
                         [(seq, i.description.resource_id, now) for i, seq in zip(items, seqs)])
        conn.executemany(
            "INSERT OR REPLACE INTO disseminations (resource_id, prefix, seq, xml, "
            "writer_version, codec) VALUES (?, ?, ?, ?, ?, 'zstd')",
            [(i.description.resource_id, prefix, seq, codec.compress(f"xml:{prefix}", xml),
              version) for i, seq in zip(items, seqs) for prefix, xml, version in i.written])

    def stale_disseminations(self, prefix: str, version: str, *, after_seq: int = 0,
                             limit: int = 500) -> list[Resource]:
        """Up to ``limit`` live resources with ``seq > after_seq``, in ``seq`` order, whose
        metadata in ``prefix`` is missing, of an older ``seq``, or not of ``version``."""
        rows = self.conn.execute(
            "SELECT r.id, r.record, r.created_at, r.updated_at, r.seq FROM resources r "
            "LEFT JOIN disseminations d ON d.resource_id = r.id AND d.prefix = ? "
            "AND d.seq = r.seq AND d.writer_version = ? "
            "WHERE r.seq > ? AND r.deleted = 0 AND d.resource_id IS NULL ORDER BY r.seq LIMIT ?",
            (prefix, version, after_seq, limit)).fetchall()
        return [Resource(id=r[0], record=self._json(r[1]), deleted=False, created_at=r[2],
                         updated_at=r[3], seq=r[4]) for r in rows]

    def set_written_versions(self, versions: dict[str, str]) -> None:
        """Record that every live record's pre-rendered metadata is of these versions."""
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('written_versions', ?)",
                          (_dumps(versions),))

    def set_normalized_seq(self, member_id: str, seq: int) -> None:
        self.conn.execute("INSERT OR IGNORE INTO members (id) VALUES (?)", (member_id,))
        self.conn.execute("UPDATE members SET normalized_seq = ? WHERE id = ?", (seq, member_id))

    def retire(self, retired_id: str, resource_id: str) -> None:
        """Record that ``retired_id`` now names ``resource_id`` (aliases of it follow along)."""
        self.conn.execute("UPDATE aliases SET resource_id = ? WHERE resource_id = ?",
                          (resource_id, retired_id))
        self.conn.execute("INSERT OR REPLACE INTO aliases (retired_id, resource_id) VALUES (?, ?)",
                          (retired_id, resource_id))

    def aliases_of(self, resource_id: str) -> list[str]:
        """The retired IRIs that name ``resource_id``, sorted."""
        return [r[0] for r in self.conn.execute(
            "SELECT retired_id FROM aliases WHERE resource_id = ? ORDER BY retired_id",
            (resource_id,))]

    def set_unmapped(self, member_id: str, identifier: str,
                     terms: Sequence[tuple[str, str, str]]) -> None:
        """Keep the record's unmapped ``(field, source, value)`` triples (replacing its earlier)."""
        self.conn.execute("DELETE FROM unmapped_terms WHERE member_id = ? AND identifier = ?",
                          (member_id, identifier))
        if terms:
            self.conn.executemany(
                "INSERT OR IGNORE INTO unmapped_terms (member_id, identifier, field, source, value) "
                "VALUES (?, ?, ?, ?, ?)", [(member_id, identifier, *t) for t in terms])
