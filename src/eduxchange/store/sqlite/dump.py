"""The SQLite store as a migration's source or target (:mod:`eduxchange.store.dump`).

The dump is read from one read transaction of a connection of its own (WAL: a harvest may go
on writing; what it commits later is not half-copied), streaming each table through a cursor.
Loading is one ``BEGIN IMMEDIATE`` transaction; the search index, derived data, is rebuilt
from the loaded resources in it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import Any, Final

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
from .connection import Codec, Connections, WriteConnections
from .fts import _search_insert

__all__ = ["DumpReaders", "DumpWriters"]

#: ``meta`` keys that are this backend's bookkeeping, not catalogue settings: not dumped.
_BOOKKEEPING: Final = frozenset({"schema_version", "resource_sets", "search_index", *SEQUENCES})
_META_WHERE: Final = f"key NOT IN ({', '.join(repr(k) for k in sorted(_BOOKKEEPING))})"


#: Columns this backend keeps compressed (zstd frames, with the store's dictionaries:
#: :class:`.connection.Codec`), by the kind of data their dictionary is trained on. The dump
#: holds every value plain; rows written before compression are plain here too.
_PACKED: Final = {("descriptions", "description"): "description",
                  ("resources", "record"): "record"}

#: The dump's ``resource_sets`` (resource, setSpec, seq) as this backend keeps it: setSpecs by
#: the resource's seq (``set_members``), which names the resource (``resources.seq``).
_SETS_SELECT: Final = ("SELECT r.id, s.set_spec, s.seq FROM set_members s "
                       "JOIN resources r ON r.seq = s.seq")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _present(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _select(table: DumpTable, present: set[str], columns: set[str]) -> str | None:
    """The query of one dump table (``None``: this file has none of it); ``present`` are the
    file's tables, ``columns`` the table's columns."""
    if table.name == "settings":
        return f"SELECT key, value FROM meta WHERE {_META_WHERE}"
    if table.name == "sequences":
        marks = ", ".join(repr(k) for k in SEQUENCES)
        return f"SELECT key, CAST(value AS INTEGER) FROM meta WHERE key IN ({marks}) ORDER BY key"
    if table.name == "resource_sets" and "set_members" in present:
        return _SETS_SELECT
    if table.name not in present:
        return None
    names = list(table.column_names)
    if table.name == "records":  # schema 4: raw_z (compressed) beside raw (plain, older rows)
        names.append("raw_z" if "raw_z" in columns else "NULL")
    if table.name == "disseminations" and "codec" in columns:
        names.append("codec")
    order = " ORDER BY rowid" if table.name == "unmapped_terms" else ""  # the order written
    return f"SELECT {', '.join(names)} FROM {table.name}{order}"


def _converter(table: DumpTable, codec: Codec, conn: sqlite3.Connection) -> Any:
    """A function making one SQLite row a plain dump row (0/1 as bools, text blobs as bytes,
    compressed values decompressed)."""
    fixes = [(i, c.kind) for i, c in enumerate(table.columns) if c.kind in ("bool", "bytes")]
    names = table.column_names
    packed = [names.index(c) for (t, c) in _PACKED if t == table.name]
    xml_at = names.index("xml") if table.name == "disseminations" else -1
    raw_at = names.index("raw") if table.name == "records" else -1
    width = len(names)

    def convert(row: tuple[Any, ...]) -> tuple[DumpValue, ...]:
        values = list(row[:width])
        if xml_at >= 0 and len(row) > width and row[width]:  # codec: a compressed document
            values[xml_at] = codec.decompress(conn, values[xml_at])
        if raw_at >= 0 and row[width] is not None:  # raw_z: the raw record, compressed
            values[raw_at] = codec.decompress(conn, row[width])
        for at in packed:
            if isinstance(values[at], bytes):  # compressed (plain rows are TEXT)
                values[at] = codec.text(conn, values[at])
        for i, kind in fixes:
            value = values[i]
            if value is None:
                continue
            if kind == "bool":
                values[i] = bool(value)
            elif isinstance(value, str):
                values[i] = value.encode()
        return tuple(values)
    return convert


def _packed_rows(table: DumpTable, codec: Codec, rows: Iterable[tuple[DumpValue, ...]]
                 ) -> tuple[str, list[str], list[tuple[DumpValue, ...]]]:
    """Plain dump rows as this backend keeps them: the table, its columns, the rows."""
    names = list(table.column_names)
    if table.name == "resource_sets":
        return "set_members", ["set_spec", "seq"], [(r[1], r[2]) for r in rows]
    if table.name == "records":
        at = names.index("raw")
        return "records", [*names[:at], "raw_z", *names[at + 1:]], [
            (*r[:at], None if r[at] is None else codec.compress("raw", bytes(r[at])),  # type: ignore[arg-type]
             *r[at + 1:]) for r in rows]
    if table.name == "disseminations":
        at, prefix = names.index("xml"), names.index("prefix")
        return "disseminations", [*names, "codec"], [
            (*r[:at], codec.compress(f"xml:{r[prefix]!s}", bytes(r[at])), *r[at + 1:], "zstd")  # type: ignore[arg-type]
            for r in rows]
    for kind_table, column in _PACKED:
        if kind_table == table.name:
            at = names.index(column)
            kind = _PACKED[(kind_table, column)]
            return table.name, names, [
                (*r[:at], codec.compress(kind, str(r[at]).encode("utf-8")), *r[at + 1:])
                for r in rows]
    return table.name, names, list(rows)


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    tables = _present(conn)
    for table in DUMP_TABLES:
        if table.name == "resource_sets" and "set_members" in tables:
            query = f"SELECT COUNT(*) FROM ({_SETS_SELECT})"
        elif table.name == "settings":
            query = f"SELECT COUNT(*) FROM meta WHERE {_META_WHERE}"
        elif table.name == "sequences":
            counts[table.name] = len(SEQUENCES)
            continue
        elif table.name in tables:
            query = f"SELECT COUNT(*) FROM {table.name}"
        else:  # an older store opened read-only
            counts[table.name] = 0
            continue
        counts[table.name] = int(conn.execute(query).fetchone()[0])
    return counts


class DumpReaders(Connections):
    """:class:`~eduxchange.store.dump.StoreDump` over a SQLite file (read-only queries)."""

    def dump_counts(self) -> dict[str, int]:
        """How many rows each dump table has."""
        return _counts(self._conn())

    def iter_dump(self, *, batch_size: int = 1000) -> Iterator[DumpBatch]:
        """Every dump table's rows, from one snapshot, ``batch_size`` rows at a time."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, isolation_level=None, timeout=60.0)) as conn:
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("BEGIN")  # one snapshot for every table (WAL)
            try:
                present = _present(conn)
                for table in DUMP_TABLES:
                    columns = _columns(conn, table.name) if table.name in present else set()
                    query = _select(table, present, columns)
                    if query is None:
                        continue
                    convert = _converter(table, self._codec, conn)
                    cursor = conn.execute(query)
                    while rows := cursor.fetchmany(max(1, batch_size)):
                        yield DumpBatch(table.name, tuple(convert(r) for r in rows))
            finally:
                conn.execute("ROLLBACK")


class DumpWriters(WriteConnections):
    """:class:`~eduxchange.store.dump.StoreLoad` into a SQLite file."""

    def load_dump(self, batches: Iterable[DumpBatch], *, replace: bool = False) -> None:
        """Load a dump in one transaction (see :meth:`StoreLoad.load_dump`)."""
        with self._write() as conn:
            found = held_rows(_counts(conn))
            if found and not replace:
                raise TargetNotEmpty(f"{self.path} already holds a catalogue", found)
            if replace:
                for table in DUMP_TABLES:
                    if table.name not in ("settings", "sequences"):
                        kept = "set_members" if table.name == "resource_sets" else table.name
                        conn.execute(f"DELETE FROM {kept}")
                conn.execute(f"DELETE FROM meta WHERE {_META_WHERE}")
                # The search index (contentless FTS5: emptied whole, .fts).
                conn.execute("INSERT INTO search_text (search_text) VALUES ('delete-all')")
                for derived in ("facet_postings", "facet_values", "search_docs"):
                    conn.execute(f"DELETE FROM {derived}")
            sequences = {name: 0 for name in SEQUENCES}
            for batch in batches:
                table = dump_table(batch.table)
                if table.name == "settings":
                    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                     batch.rows)
                elif table.name == "sequences":
                    for name, value in batch.rows:
                        if name not in sequences:
                            raise ValueError(f"unknown sequence {name!r} in the dump; known: "
                                             f"{', '.join(SEQUENCES)}")
                        sequences[str(name)] = int(value)  # type: ignore[arg-type]
                else:
                    name, names, rows = _packed_rows(table, self._codec, batch.rows)
                    marks = ", ".join("?" * len(names))
                    conn.executemany(f"INSERT INTO {name} ({', '.join(names)}) "
                                     f"VALUES ({marks})", rows)
            # A sequence never goes back below a value in use (a dump without its sequences).
            top = {"seq": "SELECT MAX(seq) FROM records",
                   "catalog_seq": "SELECT MAX(m) FROM (SELECT MAX(seq) AS m FROM changes "
                                  "UNION ALL SELECT MAX(seq) FROM resources)"}
            for name in SEQUENCES:
                used = conn.execute(top[name]).fetchone()[0] or 0
                conn.execute("UPDATE meta SET value = ? WHERE key = ?",
                             (str(max(sequences[name], int(used))), name))
            # The search index is derived: rebuilt from the live resources (streamed); its
            # tables are empty here (a new store, or emptied above).
            for resource_id, text in conn.execute(
                    "SELECT id, record FROM resources WHERE deleted = 0"):
                _search_insert(conn, self._codec, resource_id, self._codec.load_json(conn, text))
