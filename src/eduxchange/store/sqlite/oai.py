"""The OAI-PMH provider's backend over SQLite: set membership and keyset-paged reads.

Never builds XML; returns Resources with their setSpecs. Pages are keyset queries on ``seq``
(index-backed, so a deep page costs what the first does; OAI-PMH 2.0 §3.5 tokens stay valid
under concurrent writes: an updated record gets a higher seq and comes later, never lost).
The resumption tokens' key and the repositoryIdentifier are kept in ``meta``.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from typing import Any

from ...core.errors import StoreError
from ..base import OAIItem, Resource
from .connection import Connections, store_errors

__all__ = ["OAIReaders", "oai_token_key"]

def _oai_sync_sets(conn: sqlite3.Connection, sets: Sequence[str], seq: int, *,
                   old_seq: int | None = None) -> None:
    """Keep the resource's setSpecs (computed by the catalogue: :mod:`eduxchange.catalog.sets`)
    under its new ``seq`` (``old_seq``: the one its rows had, None for a new resource).

    A row is ``(set_spec, seq)`` alone: a resource's seq is unique and resources_seq finds the
    resource, so no IRI is repeated in every row and its index (1.5 KB a record before).
    """
    if old_seq is not None:
        conn.execute("DELETE FROM set_members WHERE seq = ?", (old_seq,))
    conn.executemany("INSERT OR IGNORE INTO set_members (set_spec, seq) VALUES (?, ?)",
                     [(spec, seq) for spec in dict.fromkeys(sets)])


class OAIReaders(Connections):
    """The OAI-PMH provider's backend (:class:`~eduxchange.store.base.OAIBackend`), read-only
    queries: set membership from ``set_members``, keyset pages on ``seq``.

    Datestamps are ``resources.updated_at`` (UTC, ``YYYY-MM-DDThh:mm:ssZ``, so strings compare
    in time order); ``from_``/``until`` are inclusive bounds in that form (OAI-PMH 2.0 §3.3.1).
    """

    _oai_columns: set[str] | None = None

    def _dissemination_columns(self) -> set[str]:
        if self._oai_columns is None:
            self._oai_columns = {row[1] for row in self._conn().execute(
                "PRAGMA table_info(disseminations)")}
        return self._oai_columns

    def _has_versions(self) -> bool:
        """Whether the store's pre-rendered metadata carries writer versions (schema 2): a
        store of an older release opened read-only is not migrated, and its metadata, of no
        known version, is then never served."""
        return "writer_version" in self._dissemination_columns()

    _COLUMNS = ("r.id, r.deleted, r.created_at, r.updated_at, r.seq, "
                "(SELECT group_concat(x.set_spec, ' ') FROM set_members x "
                "WHERE x.seq = r.seq)")
    # A store older than schema 6 opened read-only (not migrated): its resource_sets rows.
    _LEGACY_COLUMNS = ("r.id, r.deleted, r.created_at, r.updated_at, r.seq, "
                       "(SELECT group_concat(x.set_spec, ' ') FROM resource_sets x "
                       "WHERE x.resource_id = r.id)")
    _legacy_sets: bool | None = None

    def _columns(self) -> str:
        if self._legacy_sets is None:
            self._legacy_sets = self._conn().execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'set_members'").fetchone() is None
        return self._LEGACY_COLUMNS if self._legacy_sets else self._COLUMNS

    def _filters(self, from_: str | None, until: str | None, set_: str | None
                 ) -> tuple[str, str, list[str], list[Any]]:
        # '+r.updated_at' keeps SQLite on the seq index: the order and the keyset come from it.
        where: list[str] = []
        params: list[Any] = []
        if set_ is not None:
            source, seq_column = "set_members s JOIN resources r ON r.seq = s.seq", "s.seq"
            if self._columns() is self._LEGACY_COLUMNS:
                source = "resource_sets s JOIN resources r ON r.id = s.resource_id"
            where.append("s.set_spec = ?")
            params.append(set_)
        else:
            source, seq_column = "resources r", "r.seq"
        if from_ is not None:
            where.append("+r.updated_at >= ?")
            params.append(from_)
        if until is not None:
            where.append("+r.updated_at <= ?")
            params.append(until)
        return source, seq_column, where, params

    @store_errors
    def oai_list(self, *, from_: str | None, until: str | None, set_: str | None,
                 after_seq: int, limit: int, with_records: bool, prefix: str | None = None,
                 writer_version: str | None = None) -> list[OAIItem]:
        """Up to ``limit`` items with ``seq > after_seq`` in ``seq`` order.

        With ``prefix`` and ``writer_version``, metadata written at normalization time comes
        along when it is still current (written for the record's ``seq`` by the writer of
        that version), and the record itself is then not decoded.
        """
        source, seq_column, where, params = self._filters(from_, until, set_)
        if from_ is not None and after_seq == 0:
            # A new list with 'from': start at the lowest seq any record changed since then
            # has (an index-only range of resources_updated_seq), not at the first record.
            # Later pages start after their token's seq, past it already.
            (lowest,) = self._conn().execute(
                "SELECT MIN(seq) FROM resources WHERE updated_at >= ?", (from_,)).fetchone()
            if lowest is None:
                return []
            after_seq = int(lowest) - 1
        columns = self._columns()
        join_params: list[Any] = []
        if with_records:
            if prefix is not None and writer_version is not None and self._has_versions():
                # The record's JSON only where no current metadata is written (it is not read).
                codec = "d.codec" if "codec" in self._dissemination_columns() else "''"
                columns += f", CASE WHEN d.xml IS NULL THEN r.record END, d.xml, {codec}"
                source += (" LEFT JOIN disseminations d ON d.resource_id = r.id "
                           "AND d.prefix = ? AND d.seq = r.seq AND d.writer_version = ?")
                join_params += [prefix, writer_version]
            else:
                columns += ", r.record"
        rows = self._conn().execute(
            f"SELECT {columns} FROM {source} WHERE {' AND '.join([f'{seq_column} > ?', *where])} "
            f"ORDER BY {seq_column} LIMIT ?",
            (*join_params, after_seq, *params, limit)).fetchall()
        return [self._item(row, with_records) for row in rows]

    @store_errors
    def oai_count(self, *, from_: str | None, until: str | None, set_: str | None) -> int:
        """How many items the list has (``completeListSize``)."""
        source, _, where, params = self._filters(from_, until, set_)
        if set_ is None:  # counted on resources_updated_seq alone (the '+' is for lists)
            where = [w.replace("+r.updated_at", "r.updated_at") for w in where]
        sql = f"SELECT COUNT(*) FROM {source}"
        if where:
            sql += f" WHERE {' AND '.join(where)}"
        return int(self._conn().execute(sql, params).fetchone()[0])

    @store_errors
    def oai_get(self, resource_id: str) -> OAIItem | None:
        """One resource (live or deleted) with its record, or ``None``."""
        row = self._conn().execute(
            f"SELECT {self._columns()}, r.record FROM resources r WHERE r.id = ?",
            (resource_id,)).fetchone()
        return None if row is None else self._item(row, True)

    @store_errors
    def oai_sets(self) -> list[str]:
        """Every setSpec some resource is in, top levels included, sorted."""
        # One seek of set_members' key per set (the next spec after the last one), instead
        # of a DISTINCT over every row: a handful of sets, however many records.
        specs: list[str] = []
        conn = self._conn()
        table = "resource_sets" if self._columns() is self._LEGACY_COLUMNS else "set_members"
        while True:
            (spec,) = conn.execute(f"SELECT MIN(set_spec) FROM {table} WHERE set_spec > ?",
                                   (specs[-1] if specs else "",)).fetchone()
            if spec is None:
                return specs
            specs.append(str(spec))

    @store_errors
    def oai_earliest(self) -> str | None:
        """The earliest datestamp in the catalogue (``None`` when it is empty)."""
        row = self._conn().execute("SELECT MIN(updated_at) FROM resources").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    @store_errors
    def oai_token_key(self) -> bytes:
        """The secret key of the provider's resumption tokens (see :func:`oai_token_key`)."""
        return oai_token_key(self)

    @store_errors
    def oai_repository_identifier(self, default: str) -> str:
        """The repositoryIdentifier kept in ``meta``, or ``default``, kept from now on."""
        return _kept_meta(self, _REPOSITORY_IDENTIFIER, default)

    @store_errors
    def oai_id_prefixes(self) -> list[str]:
        """The distinct ``{base_uri}resources/`` prefixes of the resources' IRIs (36: a uuid),
        the one of the earliest change first."""
        # One seek of the primary key per prefix (the next id past every id of the last one),
        # not a GROUP BY over the catalogue: a provider asks this when it starts.
        conn = self._conn()
        found: list[str] = []
        while True:
            row = conn.execute("SELECT id FROM resources WHERE id > ? ORDER BY id LIMIT 1",
                               (found[-1] + "\U0010ffff" if found else "",)).fetchone()
            if row is None:
                break
            found.append(str(row[0])[:max(0, len(row[0]) - 36)])
        if len(found) < 2:
            return found
        # Several (base_uri changed): the one of the earliest change first (a range each).
        return sorted(found, key=lambda p: conn.execute(
            "SELECT MIN(seq) FROM resources WHERE id >= ? AND id < ?",
            (p, p + "\U0010ffff")).fetchone()[0])

    def _item(self, row: Any, with_record: bool) -> OAIItem:
        sets = tuple(s for s in (row[5] or "").split() if ":" in s)
        written: bytes | None = row[7] if len(row) > 7 else None
        if written is not None and row[8] == "zstd":
            written = self._unz(written)
        # Without its record (the pre-rendered metadata is served instead), nothing reads it.
        record: Any = self._json(row[6]) if with_record and written is None else {}
        return (Resource(id=row[0], record=record, deleted=bool(row[1]), created_at=row[2],
                         updated_at=row[3], seq=row[4]), sets, written)


# -- the OAI-PMH provider's token key ----------------------------------------------------------
# A secret kept in ``meta`` (key ``oai_token_key``, 32 random bytes as hex), so
# every server of one catalogue signs and accepts the same resumption tokens, across restarts.

_TOKEN_KEY = "oai_token_key"
_log = logging.getLogger(__name__)


def oai_token_key(store: Connections) -> bytes:
    """The provider's resumption-token key, made on first use and kept in the store.

    A read-only store (:class:`~.store.ReadOnlySQLiteStore`) cannot write it: a short-lived
    connection of its own does, once (before any request is served; only this ``meta`` row,
    never the catalogue). If the file cannot be written at all, the key is one for this process
    only, with a warning: tokens then stop working when the server restarts.
    """
    row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (_TOKEN_KEY,)).fetchone()
    if row is None:
        try:
            with closing(sqlite3.connect(store.path, timeout=10.0, isolation_level=None)) as conn:
                # INSERT OR IGNORE: two servers starting at once agree on the first key written.
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                             (_TOKEN_KEY, secrets.token_hex(32)))
        except sqlite3.Error as err:
            _log.warning("cannot keep the OAI-PMH token key in %s (%s): resumption tokens will "
                         "not survive a restart of this server", store.path, err)
            return secrets.token_bytes(32)
        row = store._conn().execute("SELECT value FROM meta WHERE key = ?",
                                    (_TOKEN_KEY,)).fetchone()
    try:
        key = bytes.fromhex(str(row[0]))
    except (TypeError, ValueError):
        key = b""
    if len(key) < 16:
        raise StoreError(f"{store.path}: meta {_TOKEN_KEY!r} is not a hex key of 16 bytes or more")
    return key


# -- the OAI-PMH repositoryIdentifier --------------------------------------------------------
# Kept in ``meta`` (key ``oai_repository_identifier``) on first use, so the
# catalogue's OAI identifiers stay the same when ``base_uri`` (the served host) changes.

_REPOSITORY_IDENTIFIER = "oai_repository_identifier"


def _kept_meta(store: Connections, key: str, default: str) -> str:
    """``meta[key]``, written as ``default`` first if absent (as :func:`oai_token_key` does; a
    file that cannot be written gives ``default`` for this process, with a warning)."""
    row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        try:
            with closing(sqlite3.connect(store.path, timeout=10.0, isolation_level=None)) as conn:
                conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, default))
        except sqlite3.Error as err:
            _log.warning("cannot keep %s in %s (%s): using %r for this server only",
                         key, store.path, err, default)
            return default
        row = store._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return default if row is None else str(row[0])
