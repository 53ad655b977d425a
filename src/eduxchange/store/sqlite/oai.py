"""The OAI-PMH provider's backend over SQLite: set membership and keyset-paged reads.

Never builds XML; returns Resources with their setSpecs. Pages are keyset queries on ``seq``
(index-backed, so a deep page costs what the first does; OAI-PMH 2.0 §3.5 tokens stay valid
under concurrent writes: an updated record gets a higher seq and comes later, never lost).
The resumption tokens' key and the repositoryIdentifier are kept in ``meta``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
from contextlib import closing
from typing import Any

from ...core.errors import StoreError
from ...core.record import CommonRecord
from ..base import Resource
from .connection import Connections

__all__ = ["OAI_SET_ROOTS", "OAIItem", "SQLiteOAIBackend", "oai_set_specs", "oai_token_key"]

_OAI_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource_sets (
    resource_id TEXT NOT NULL,
    set_spec    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (resource_id, set_spec)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resource_sets_spec ON resource_sets (set_spec, seq);
CREATE INDEX IF NOT EXISTS resources_updated ON resources (updated_at);
"""

#: The set hierarchy's top levels (OAI-PMH 2.0 §2.7.2: a record in ``member:x`` is in ``member``).
OAI_SET_ROOTS: tuple[str, ...] = ("member", "lang", "type")
_SET_PART = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")


def oai_set_specs(record: CommonRecord) -> list[str]:
    """The setSpecs of a catalogue record, its top-level sets included.

    ``member:<id>`` for every member whose description it was built from (``mainEntityOfPage``
    providers, ``{base_uri}members/<id>``), ``lang:<tag>`` for each ``inLanguage`` tag and
    ``type:<local name>`` for each LRMI learningResourceType concept IRI.
    """
    specs: list[str] = []

    def add(root: str, value: Any) -> None:
        if isinstance(value, str) and _SET_PART.match(value):
            for spec in (root, f"{root}:{value}"):
                if spec not in specs:
                    specs.append(spec)

    for entry in record.get("mainEntityOfPage") or ():
        provider = entry.get("provider") if isinstance(entry, dict) else None
        if isinstance(provider, dict) and isinstance(provider.get("id"), str):
            add("member", provider["id"].rstrip("/").rsplit("/", 1)[-1])
    for tag in record.get("inLanguage") or ():
        add("lang", tag)
    for concept in record.get("learningResourceType") or ():
        if isinstance(concept, dict) and isinstance(concept.get("id"), str):
            add("type", re.split(r"[/#]", concept["id"].rstrip("/#"))[-1])
    return specs


def _oai_sync_sets(conn: sqlite3.Connection, resource_id: str, record: CommonRecord,
                   seq: int) -> None:
    conn.execute("DELETE FROM resource_sets WHERE resource_id = ?", (resource_id,))
    conn.executemany("INSERT INTO resource_sets (resource_id, set_spec, seq) VALUES (?, ?, ?)",
                     [(resource_id, spec, seq) for spec in oai_set_specs(record)])


def _oai_migrate(conn: sqlite3.Connection) -> None:
    """Create the provider's table and indexes; fill ``resource_sets`` once for older stores."""
    conn.executescript(_OAI_SCHEMA)
    if conn.execute("SELECT 1 FROM meta WHERE key = 'resource_sets'").fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM meta WHERE key = 'resource_sets'").fetchone():
            for resource_id, text, seq in conn.execute(
                    "SELECT id, record, seq FROM resources").fetchall():
                _oai_sync_sets(conn, resource_id, json.loads(text), seq)
            conn.execute("INSERT INTO meta VALUES ('resource_sets', '1')")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


#: One item of a list: the resource (``record`` is ``{}`` unless asked for or when the metadata
#: is already written), its leaf setSpecs, and the metadata already written in the asked prefix.
OAIItem = tuple[Resource, tuple[str, ...], bytes | None]


class SQLiteOAIBackend:
    """The OAI-PMH provider's backend over a SQLite store (read-only queries).

    Datestamps are ``resources.updated_at`` (UTC, ``YYYY-MM-DDThh:mm:ssZ``, so strings compare
    in time order); ``from_``/``until`` are inclusive bounds in that form (OAI-PMH 2.0 §3.3.1).
    """

    def __init__(self, store: Connections) -> None:
        self.store = store
        self._versioned: bool | None = None

    def _has_versions(self) -> bool:
        """Whether the store's pre-rendered metadata carries writer versions (schema 2): a
        store of an older release opened read-only is not migrated, and its metadata, of no
        known version, is then never served."""
        if self._versioned is None:
            self._versioned = "writer_version" in {row[1] for row in self.store._conn().execute(
                "PRAGMA table_info(disseminations)")}
        return self._versioned

    _COLUMNS = ("r.id, r.deleted, r.created_at, r.updated_at, r.seq, "
                "(SELECT group_concat(x.set_spec, ' ') FROM resource_sets x "
                "WHERE x.resource_id = r.id)")

    @staticmethod
    def _filters(from_: str | None, until: str | None, set_: str | None
                 ) -> tuple[str, str, list[str], list[Any]]:
        # '+r.updated_at' keeps SQLite on the seq index: the order and the keyset come from it.
        where: list[str] = []
        params: list[Any] = []
        if set_ is not None:
            source, seq_column = "resource_sets s JOIN resources r ON r.id = s.resource_id", "s.seq"
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

    def oai_list(self, *, from_: str | None, until: str | None, set_: str | None,
                 after_seq: int, limit: int, with_records: bool, prefix: str | None = None,
                 writer_version: str | None = None) -> list[OAIItem]:
        """Up to ``limit`` items with ``seq > after_seq`` in ``seq`` order.

        With ``prefix`` and ``writer_version``, metadata written at normalization time comes
        along when it is still current (written for the record's ``seq`` by the writer of
        that version), and the record itself is then not decoded.
        """
        source, seq_column, where, params = self._filters(from_, until, set_)
        columns = self._COLUMNS
        join_params: list[Any] = []
        if with_records:
            columns += ", r.record"
            if prefix is not None and writer_version is not None and self._has_versions():
                columns += ", d.xml"
                source += (" LEFT JOIN disseminations d ON d.resource_id = r.id "
                           "AND d.prefix = ? AND d.seq = r.seq AND d.writer_version = ?")
                join_params += [prefix, writer_version]
        rows = self.store._conn().execute(
            f"SELECT {columns} FROM {source} WHERE {' AND '.join([f'{seq_column} > ?', *where])} "
            f"ORDER BY {seq_column} LIMIT ?",
            (*join_params, after_seq, *params, limit)).fetchall()
        return [self._item(row, with_records) for row in rows]

    def oai_count(self, *, from_: str | None, until: str | None, set_: str | None) -> int:
        """How many items the list has (``completeListSize``)."""
        source, _, where, params = self._filters(from_, until, set_)
        sql = f"SELECT COUNT(*) FROM {source}"
        if where:
            sql += f" WHERE {' AND '.join(where)}"
        return int(self.store._conn().execute(sql, params).fetchone()[0])

    def oai_get(self, resource_id: str) -> OAIItem | None:
        """One resource (live or deleted) with its record, or ``None``."""
        row = self.store._conn().execute(
            f"SELECT {self._COLUMNS}, r.record FROM resources r WHERE r.id = ?",
            (resource_id,)).fetchone()
        return None if row is None else self._item(row, True)

    def oai_sets(self) -> list[str]:
        """Every setSpec some resource is in, top levels included, sorted."""
        return [r[0] for r in self.store._conn().execute(
            "SELECT DISTINCT set_spec FROM resource_sets ORDER BY set_spec")]

    def oai_earliest(self) -> str | None:
        """The earliest datestamp in the catalogue (``None`` when it is empty)."""
        row = self.store._conn().execute("SELECT MIN(updated_at) FROM resources").fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def oai_token_key(self) -> bytes:
        """The secret key of the provider's resumption tokens (see :func:`oai_token_key`)."""
        return oai_token_key(self.store)

    def oai_repository_identifier(self, default: str) -> str:
        """The repositoryIdentifier kept in ``meta``, or ``default``, kept from now on."""
        return _kept_meta(self.store, _REPOSITORY_IDENTIFIER, default)

    def oai_id_prefixes(self) -> list[str]:
        """The distinct ``{base_uri}resources/`` prefixes of the resources' IRIs (36: a uuid),
        the one of the earliest change first."""
        return [str(r[0]) for r in self.store._conn().execute(
            "SELECT substr(id, 1, length(id) - 36) AS prefix FROM resources "
            "GROUP BY prefix ORDER BY MIN(seq)")]

    @staticmethod
    def _item(row: Any, with_record: bool) -> OAIItem:
        sets = tuple(s for s in (row[5] or "").split() if ":" in s)
        written: bytes | None = row[7] if len(row) > 7 else None
        # Without its record (the pre-rendered metadata is served instead), nothing reads it.
        record: Any = json.loads(row[6]) if with_record and written is None else {}
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
