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
from .connection import Connections, WriteConnections, _zcompress, _zdecompress
from .fts import _search_insert

__all__ = ["DumpReaders", "DumpWriters"]

#: ``meta`` keys that are this backend's bookkeeping, not catalogue settings: not dumped.
_BOOKKEEPING: Final = frozenset({"schema_version", "resource_sets", "search_index", *SEQUENCES})
_META_WHERE: Final = f"key NOT IN ({', '.join(repr(k) for k in sorted(_BOOKKEEPING))})"


#: Columns this backend keeps compressed (zstd, :mod:`.connection`): the dump holds every value
#: plain, so each backend reads and writes it its own way. The extra column says how a row's
#: value is kept (rows written before compression are plain).
_PACKED: Final = {"records": ("raw", "raw_z"), "disseminations": ("xml", "codec")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _select(table: DumpTable, present: set[str]) -> str:
    """The query of one dump table; ``present`` are the table's columns in this file."""
    if table.name == "settings":
        return f"SELECT key, value FROM meta WHERE {_META_WHERE}"
    if table.name == "sequences":
        marks = ", ".join(repr(k) for k in SEQUENCES)
        return f"SELECT key, CAST(value AS INTEGER) FROM meta WHERE key IN ({marks}) ORDER BY key"
    columns = list(table.column_names)
    packed = _PACKED.get(table.name)
    columns.append(packed[1] if packed and packed[1] in present else "NULL")
    order = " ORDER BY rowid" if table.name == "unmapped_terms" else ""  # the order written
    return f"SELECT {', '.join(columns)} FROM {table.name}{order}"


def _converter(table: DumpTable) -> Any:
    """A function making one SQLite row (the table's columns, then how the packed one is kept)
    a plain dump row (0/1 as bools, text blobs as bytes, compressed values decompressed)."""
    fixes = [(i, c.kind) for i, c in enumerate(table.columns) if c.kind in ("bool", "bytes")]
    names = table.column_names
    packed = _PACKED.get(table.name)
    at = names.index(packed[0]) if packed else -1
    text_json = names.index("description") if table.name == "descriptions" else -1

    extra = table.name not in ("settings", "sequences")  # _select adds how a value is kept

    def convert(row: tuple[Any, ...]) -> tuple[DumpValue, ...]:
        values = list(row[:-1] if extra else row)
        how = row[-1] if extra else None
        if table.name == "records" and how is not None:  # raw_z: the raw record, zstd
            values[at] = _zdecompress(how)
        elif table.name == "disseminations" and how == "zstd":
            values[at] = _zdecompress(values[at])
        if text_json >= 0 and isinstance(values[text_json], bytes):  # a packed description
            values[text_json] = _zdecompress(values[text_json]).decode("utf-8")
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


def _packed_rows(table: DumpTable, rows: Iterable[tuple[DumpValue, ...]]
                 ) -> tuple[list[str], list[tuple[DumpValue, ...]]]:
    """Plain dump rows as this backend keeps them: the columns to insert and the rows."""
    names = list(table.column_names)
    if table.name == "records":
        at = names.index("raw")
        return [*names, "raw_z"], [
            (*r[:at], None, *r[at + 1:], None if r[at] is None else _zcompress(bytes(r[at])))  # type: ignore[arg-type]
            for r in rows]
    if table.name == "disseminations":
        at = names.index("xml")
        return [*names, "codec"], [(*r[:at], _zcompress(bytes(r[at])), *r[at + 1:], "zstd")  # type: ignore[arg-type]
                                   for r in rows]
    if table.name == "descriptions":
        at = names.index("description")
        return names, [(*r[:at], _zcompress(str(r[at]).encode("utf-8")), *r[at + 1:])
                       for r in rows]
    return names, list(rows)


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in DUMP_TABLES:
        if table.name == "settings":
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
                present = {r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                for table in DUMP_TABLES:
                    if table.name not in present and table.name not in ("settings", "sequences"):
                        continue
                    convert = _converter(table)
                    columns = _columns(conn, table.name) if table.name in present else set()
                    cursor = conn.execute(_select(table, columns))
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
                        conn.execute(f"DELETE FROM {table.name}")
                conn.execute(f"DELETE FROM meta WHERE {_META_WHERE}")
                conn.execute("DELETE FROM search_text")
                conn.execute("DELETE FROM search_facets")
                conn.execute("DELETE FROM search_rows")
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
                    names, rows = _packed_rows(table, batch.rows)
                    marks = ", ".join("?" * len(names))
                    conn.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) "
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
                _search_insert(conn, resource_id, json.loads(text))
