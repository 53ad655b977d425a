"""A store's whole content as typed rows, and loading it into another store (``eduxchange migrate``).

The bulk seam between backends: a backend that implements :class:`StoreDump` (its content as
:class:`DumpBatch` es of the portable tables below) and :class:`StoreLoad` (those batches written
into an empty store in one transaction, its change sequences set afterwards) can be migrated to
and from every other backend, with no code that knows both schemas. :func:`copy_store` is that
copy, with its checks.

Lossless: every table the catalogue's behaviour depends on is carried, keys and sequence values
as they are (the provider's resumption tokens and the feed pages continue after a ``seq``, and
pre-rendered metadata is valid for its record's ``seq``), and so are the settings kept in the
store (the resumption-token key, the repositoryIdentifier, the writer versions). Data a backend
derives and rebuilds itself (its search index, its schema bookkeeping) is not carried: the
target rebuilds it from the rows.

Rows hold plain Python values only: ``str``, ``int``, ``bool``, ``bytes`` or ``None``, of the
kind :data:`DUMP_TABLES` declares; JSON columns stay the text the source keeps (byte for byte,
so a record is not re-serialised on the way).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, runtime_checkable

from ..core.errors import StoreError

__all__ = [
    "DUMP_TABLES",
    "SEQUENCES",
    "Column",
    "DumpBatch",
    "DumpTable",
    "DumpValue",
    "MigrationSummary",
    "StoreDump",
    "StoreLoad",
    "TargetNotEmpty",
    "copy_store",
    "dump_table",
    "held_rows",
]

#: A value of a dumped row.
DumpValue = str | int | bool | bytes | None
Kind = Literal["text", "int", "bool", "bytes"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a dumped table: its name and kind (``None`` is allowed when ``nullable``)."""

    name: str
    kind: Kind = "text"
    nullable: bool = False


def _c(spec: str) -> Column:
    # "name", "name:int", "name:bytes?" (nullable): the table list below stays one line a table.
    name, _, kind = spec.rstrip("?").partition(":")
    return Column(name, kind or "text", spec.endswith("?"))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DumpTable:
    """A table of the portable dump: its name (the same in every backend) and columns."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _table(name: str, *specs: str) -> DumpTable:
    return DumpTable(name, tuple(_c(s) for s in specs))


#: The two change sequences: ``seq`` (raw records) and ``catalog_seq`` (catalogue changes).
SEQUENCES: Final = ("seq", "catalog_seq")

#: Every table of the dump, in the order they are dumped and loaded. ``settings`` is the kept
#: ``meta`` rows (backend bookkeeping left out), ``sequences`` the last value each change
#: sequence gave (:data:`SEQUENCES`); ``unmapped_terms`` comes in the order it was written.
DUMP_TABLES: Final[tuple[DumpTable, ...]] = (
    _table("settings", "key", "value"),
    _table("sequences", "name", "value:int"),
    _table("members", "id", "metadata_prefix?", "granularity?", "deleted_record?",
           "earliest_datestamp?", "next_from?", "last_harvest?", "state", "error?", "resume?",
           "last_reconcile?", "normalized_seq:int"),
    _table("runs", "id:int", "member_id", "mode", "metadata_prefix?", "from_?", "started_at",
           "finished_at?", "state", "counts", "error?"),
    _table("records", "member_id", "identifier", "metadata_prefix", "datestamp", "datestamp_utc",
           "sets", "deleted:bool", "raw:bytes?", "run_id:int?", "seen_run:int?",
           "first_harvested", "harvested_at", "seq:int"),
    _table("quarantine", "id:int", "member_id", "identifier?", "run_id:int?", "stage", "reason",
           "raw:bytes?", "created_at", "resolved:bool"),
    _table("events", "id:int", "run_id:int?", "member_id", "code", "severity", "message",
           "identifier?", "created_at"),
    _table("descriptions", "member_id", "identifier", "resource_id", "format", "rank:int",
           "description", "raw_seq:int", "updated_at"),
    _table("resources", "id", "record", "deleted:bool", "created_at", "updated_at", "seq:int"),
    _table("resource_sets", "resource_id", "set_spec", "seq:int"),
    _table("match_keys", "key", "resource_id"),
    _table("changes", "seq:int", "resource_id", "kind", "at"),
    _table("aliases", "retired_id", "resource_id"),
    _table("disseminations", "resource_id", "prefix", "seq:int", "xml:bytes", "writer_version"),
    _table("unmapped_terms", "member_id", "identifier", "field", "source", "value"),
    _table("reports", "member_id", "run_id:int", "created_at", "figures"),
)

_BY_NAME: Final = {t.name: t for t in DUMP_TABLES}


def dump_table(name: str) -> DumpTable:
    """The dump table called ``name``; :class:`KeyError` listing the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no dump table {name!r}; known: {', '.join(_BY_NAME)}") from None


@dataclass(frozen=True, slots=True)
class DumpBatch:
    """Some rows of one dump table, each a tuple in the table's column order."""

    table: str
    rows: tuple[tuple[DumpValue, ...], ...]


@runtime_checkable
class StoreDump(Protocol):
    """A store whose whole content can be read as a dump (the source of a migration)."""

    def dump_counts(self) -> dict[str, int]:
        """How many rows each dump table has now (every table of :data:`DUMP_TABLES`)."""
        ...

    def iter_dump(self, *, batch_size: int = 1000) -> Iterator[DumpBatch]:
        """Every row of every dump table, table by table in :data:`DUMP_TABLES` order, at most
        ``batch_size`` rows a batch, from one consistent snapshot (a harvest writing meanwhile
        is not half-copied), in bounded memory."""
        ...


@runtime_checkable
class StoreLoad(Protocol):
    """A store a dump can be loaded into (the target of a migration)."""

    def dump_counts(self) -> dict[str, int]: ...

    def load_dump(self, batches: Iterable[DumpBatch], *, replace: bool = False) -> None:
        """Write ``batches`` (as :meth:`StoreDump.iter_dump` yields them) in one transaction:
        all of it or, on any failure, nothing.

        The store must be empty (:class:`TargetNotEmpty` otherwise) unless ``replace``, which
        deletes what it holds first, in the same transaction. Keys and sequence values are
        kept; afterwards the store's own sequences continue after the highest value loaded, and
        its derived data (the search index) is rebuilt from the loaded rows.
        """
        ...


class TargetNotEmpty(StoreError):
    """The migration's target already holds a catalogue (and replacing it was not asked)."""

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message)
        self.counts = counts


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrationSummary:
    """What :func:`copy_store` copied: rows per table, and the change sequences' values."""

    rows: dict[str, int] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    replaced: bool = False

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"rows": dict(self.rows), "total": self.total, "sequences": dict(self.sequences),
                "replaced": self.replaced}


def held_rows(counts: dict[str, int]) -> dict[str, int]:
    """The tables of ``counts`` that hold catalogue content (``sequences`` always has rows)."""
    return {t: n for t, n in counts.items() if n and t != "sequences"}


def copy_store(source: StoreDump, target: StoreLoad, *, replace: bool = False,
               batch_size: int = 1000,
               progress: Callable[[str, int], None] | None = None) -> MigrationSummary:
    """Copy everything ``source`` holds into ``target`` (see :class:`StoreLoad.load_dump`).

    ``progress(table, rows)`` is called after each batch is handed to the target. Afterwards
    the target's rows are counted against what was read: a difference raises
    :class:`StoreError` (the target then holds the copy: nothing is deleted for you).
    """
    if not replace:
        found = held_rows(target.dump_counts())
        if found:
            raise TargetNotEmpty("the target already holds a catalogue (" + ", ".join(
                f"{n} {t}" for t, n in found.items()) + ")", found)
    read: dict[str, int] = {t.name: 0 for t in DUMP_TABLES}
    sequences: dict[str, int] = {}

    def counted() -> Generator[DumpBatch, None, None]:
        for batch in source.iter_dump(batch_size=batch_size):
            read[batch.table] += len(batch.rows)
            if batch.table == "sequences":
                sequences.update({str(r[0]): int(r[1]) for r in batch.rows  # type: ignore[arg-type]
                                  })
            yield batch
            if progress is not None:
                progress(batch.table, len(batch.rows))

    batches = counted()
    try:
        target.load_dump(batches, replace=replace)
    finally:
        # A load that failed half-way leaves the source's reader open: closed here, in this
        # thread (a SQLite snapshot can be ended only in the thread that began it, and the
        # garbage collector may run in any).
        batches.close()
    written = target.dump_counts()
    wrong = {t: (n, written.get(t, 0)) for t, n in read.items() if written.get(t, 0) != n}
    if wrong:
        raise StoreError("the copy does not match what was read: " + ", ".join(
            f"{t}: {a} read, {b} written" for t, (a, b) in wrong.items()))
    return MigrationSummary(rows=read, sequences=sequences, replaced=replace)
