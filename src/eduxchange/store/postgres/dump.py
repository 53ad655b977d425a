"""The PostgreSQL store as a migration's source or target (:mod:`eduxchange.store.dump`).

The dump is read in one ``REPEATABLE READ READ ONLY`` transaction of a connection of its own
(one snapshot for every table), each table through a server-side cursor: bounded memory on
both sides. Loading is one transaction of ``COPY`` batches; then the two change-sequence
counters are set to the dump's values, the identity sequences (runs, quarantine, events,
unmapped terms) continue after the highest id loaded, and the search index, derived data, is
rebuilt from the loaded resources (texts folded in Python, copied in, made ``tsvector`` by one
statement).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Final

import psycopg

from ...catalog.vocab import default_vocabularies
from ...core.errors import StoreError
from ..dump import (
    DUMP_TABLES,
    SEQUENCES,
    DumpBatch,
    DumpTable,
    DumpValue,
    TargetNotEmpty,
    dump_table,
    held_rows,
)
from ..search import search_document
from .search import fold

__all__ = ["PostgresDump"]

Conn = psycopg.Connection[tuple[Any, ...]]

#: ``meta`` keys that are this backend's bookkeeping, not catalogue settings: not dumped.
_BOOKKEEPING: Final = frozenset({"schema_version"})
#: Tables whose ``id`` is an identity column: it continues after the highest id loaded.
_IDENTITIES: Final = ("runs", "quarantine", "events", "unmapped_terms")
#: Text columns where the store itself writes a NUL as ``\x00`` (PostgreSQL text cannot hold
#: one): messages quoting a member's bytes. A NUL anywhere else is refused.
_ESCAPED: Final = {("runs", "error"), ("members", "error"), ("events", "message"),
                   ("quarantine", "reason")}
_DERIVED: Final = ("search_text", "search_facets")


def _select(table: DumpTable) -> str:
    if table.name == "settings":
        return "SELECT key, value FROM meta WHERE NOT (key = ANY(%s))"
    if table.name == "sequences":
        return "SELECT name, value FROM counters WHERE name = ANY(%s) ORDER BY name"
    order = " ORDER BY id" if table.name == "unmapped_terms" else ""  # the order written
    return f"SELECT {', '.join(table.column_names)} FROM {table.name}{order}"


def _params(table: DumpTable) -> tuple[Any, ...]:
    if table.name == "settings":
        return (sorted(_BOOKKEEPING),)
    if table.name == "sequences":
        return (list(SEQUENCES),)
    return ()


def _counts(conn: Conn) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in DUMP_TABLES:
        query = {"settings": "SELECT COUNT(*) FROM meta WHERE NOT (key = ANY(%s))",
                 "sequences": "SELECT COUNT(*) FROM counters WHERE name = ANY(%s)"
                 }.get(table.name, f"SELECT COUNT(*) FROM {table.name}")
        row = conn.execute(query, _params(table)).fetchone()
        counts[table.name] = int(row[0]) if row else 0
    return counts


def _fixer(table: DumpTable) -> Any:
    """A function making a dump row one PostgreSQL can hold (or saying why not)."""
    texts = [(i, c.name) for i, c in enumerate(table.columns) if c.kind == "text"]

    def fix(row: tuple[DumpValue, ...]) -> tuple[DumpValue, ...]:
        values: list[DumpValue] | None = None
        for i, name in texts:
            value = row[i]
            if isinstance(value, str) and "\x00" in value:
                if (table.name, name) not in _ESCAPED:
                    raise StoreError(
                        f"{table.name}.{name} of the row {row[:2]!r} holds a NUL character, "
                        "which PostgreSQL text cannot hold: nothing was copied")
                values = values or list(row)
                values[i] = value.replace("\x00", "\\x00")
        return row if values is None else tuple(values)
    return fix


class PostgresDump:
    """:class:`~eduxchange.store.dump.StoreDump` and :class:`~eduxchange.store.dump.StoreLoad`
    for :class:`~.store.PostgresStore` (a mixin: it supplies ``_connect``, ``_conn`` and ``url``)."""

    url: str

    def _connect(self, *, autocommit: bool) -> Conn:
        raise NotImplementedError

    def _conn(self) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def dump_counts(self) -> dict[str, int]:
        """How many rows each dump table has."""
        with self._conn() as conn:
            return _counts(conn)

    def iter_dump(self, *, batch_size: int = 1000) -> Iterator[DumpBatch]:
        """Every dump table's rows, from one snapshot, ``batch_size`` rows at a time."""
        try:
            conn = self._connect(autocommit=False)
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the catalogue store {self.url}: {err}") from err
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            for n, table in enumerate(DUMP_TABLES):
                with conn.cursor(name=f"eduxchange_dump_{n}") as cursor:
                    cursor.execute(_select(table), _params(table))
                    while rows := cursor.fetchmany(max(1, batch_size)):
                        yield DumpBatch(table.name, tuple(
                            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                            for r in rows))
            conn.rollback()
        except psycopg.Error as err:
            raise StoreError(f"catalogue store {self.url}: {err}") from err
        finally:
            conn.close()

    def load_dump(self, batches: Iterable[DumpBatch], *, replace: bool = False) -> None:
        """Load a dump in one transaction (see :meth:`StoreLoad.load_dump`)."""
        with self._conn() as conn, conn.transaction():
            found = held_rows(_counts(conn))
            if found and not replace:
                raise TargetNotEmpty(f"{self.url} already holds a catalogue", found)
            if replace:
                tables = [t.name for t in DUMP_TABLES
                          if t.name not in ("settings", "sequences")] + list(_DERIVED)
                conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
                conn.execute("DELETE FROM meta WHERE NOT (key = ANY(%s))", (sorted(_BOOKKEEPING),))
            sequences = {name: 0 for name in SEQUENCES}
            with conn.cursor() as cur:
                for batch in batches:
                    table = dump_table(batch.table)
                    if table.name == "settings":
                        cur.executemany("INSERT INTO meta (key, value) VALUES (%s, %s) "
                                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                        batch.rows)
                    elif table.name == "sequences":
                        for name, value in batch.rows:
                            if name not in sequences:
                                raise ValueError(f"unknown sequence {name!r} in the dump; "
                                                 f"known: {', '.join(SEQUENCES)}")
                            sequences[str(name)] = int(value)  # type: ignore[arg-type]
                    else:
                        fix = _fixer(table)
                        with cur.copy(f"COPY {table.name} ({', '.join(table.column_names)}) "
                                      "FROM STDIN") as copy:
                            for row in batch.rows:
                                copy.write_row(fix(row))
            _finish(conn, sequences)


def _finish(conn: Conn, sequences: dict[str, int]) -> None:
    """Set the sequences after a load, and rebuild the search index."""
    top = {"seq": "SELECT COALESCE(MAX(seq), 0) FROM records",
           "catalog_seq": "SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes), "
                          "(SELECT COALESCE(MAX(seq), 0) FROM resources))"}
    for name in SEQUENCES:
        row = conn.execute(top[name]).fetchone()
        used = int(row[0]) if row else 0
        conn.execute("UPDATE counters SET value = %s WHERE name = %s",
                     (max(sequences[name], used), name))
    for table in _IDENTITIES:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"COALESCE(MAX(id), 0) + 1, false) FROM {table}")
    # The search index: documents folded in Python (as sync_search does), copied in batches.
    conn.execute("CREATE TEMPORARY TABLE eduxchange_search_load (resource_id TEXT, title TEXT, "
                 "body TEXT, concepts TEXT) ON COMMIT DROP")
    vocabularies = default_vocabularies()
    with conn.cursor(name="eduxchange_dump_resources") as resources, conn.cursor() as cur:
        resources.execute("SELECT id, record FROM resources WHERE NOT deleted")
        while rows := resources.fetchmany(1000):
            docs = [(r[0], search_document(json.loads(r[1]), vocabularies)) for r in rows]
            with cur.copy("COPY eduxchange_search_load FROM STDIN") as copy:
                for resource_id, doc in docs:
                    copy.write_row((resource_id, fold(doc.title), fold(doc.body),
                                    fold(doc.concepts)))
            with cur.copy("COPY search_facets (resource_id, facet, value) FROM STDIN") as copy:
                for resource_id, doc in docs:
                    for facet, value in dict.fromkeys(doc.facets):
                        copy.write_row((resource_id, facet, value))
    conn.execute(
        "INSERT INTO search_text (resource_id, document) SELECT resource_id, "
        "setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', body), "
        "'B') || setweight(to_tsvector('simple', concepts), 'C') FROM eduxchange_search_load")
    # Statistics now, not when autovacuum next comes by: without them the planner guesses
    # thousands of set rows a record, costs a ListRecords page above the JIT thresholds and
    # compiles it (about 200 ms of CPU a page for 2 ms of work) until it does.
    for name in (*(t.name for t in DUMP_TABLES if t.name not in ("settings", "sequences")),
                 *_DERIVED):
        conn.execute(f"ANALYZE {name}")
