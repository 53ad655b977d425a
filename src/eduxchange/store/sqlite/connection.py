"""Connections to one SQLite file: one per thread, read-write or read-only.

Each thread gets its own connection (members are harvested concurrently); writers take the
lock with ``BEGIN IMMEDIATE`` and wait for each other through ``busy_timeout``. The readers and
writers of the store (:mod:`.harvest`, :mod:`.readers`, :mod:`.catalog`) are mixins over
:class:`Connections`; :class:`ReadOnlyConnections` opens the file with ``mode=ro``.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar, cast

import zstandard

from ...core.errors import StoreError
from ..base import canonical_json, parse_json

__all__ = ["Codec", "Connections", "ReadOnlyConnections", "WriteConnections", "in_chunks",
           "store_errors"]

_F = TypeVar("_F", bound=Callable[..., Any])



_T = TypeVar("_T")

#: Values bound in one ``IN (...)`` list: under the 999 parameters of older SQLite builds,
#: with room for the statement's other parameters.
IN_CHUNK = 500


def in_chunks(values: Sequence[_T]) -> Iterator[tuple[list[_T], str]]:
    """``values`` in lists of at most :data:`IN_CHUNK`, each with its ``?,?,...`` marks."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start:start + IN_CHUNK])
        yield chunk, ",".join("?" * len(chunk))

def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_dumps = canonical_json  # the stored form (store/base.py), as every backend keeps it


# Raw records, descriptions, catalogue records and pre-rendered metadata are kept
# zstd-compressed (level 3, one frame each). zstd rather than the standard library's zlib: about
# as small at level 3 and several times faster to decompress, which the provider does for every
# record it serves; `zstandard` is the maintained binding of the reference C library
# (python-zstandard, by the author of the format's Python support in CPython 3.14's
# compression.zstd), and it trains dictionaries (zstd's own, ZDICT).
#
# One record alone compresses poorly (a 3 KB LOM record to about 1.2 KB): most of it is what
# every record of a member shares (element names, namespaces, vocabulary terms). So each kind of
# data (raw records, descriptions, catalogue records, metadata per prefix) gets a dictionary
# trained on the store's own first records of that kind (_DICT_SAMPLES of them, which are kept
# compressed without one); later frames of that kind are compressed with it (a generated LOM
# record then takes about 100 bytes). Dictionaries are kept in the store (``zstd_dicts``) and
# never changed or deleted; every frame names its dictionary in its header (zstd's dictID, 0 for
# none), so any frame decodes with the dictionary that made it, whichever process or release
# wrote it. A dictionary is written in the same transaction as the first frames that use it.
_ZSTD_LEVEL = 3
_DICT_SAMPLES = 512
_DICT_SIZE = 32 * 1024
# Larger records are no samples (they compress well alone): memory while gathering stays
# under _DICT_SAMPLES * _SAMPLE_MAX a kind.
_SAMPLE_MAX = 16 * 1024
_FIRST_DICT_ID = 32768  # zstd keeps ids below 32768 for dictionaries registered publicly


class Codec:
    """The zstd frames of one store, with the store's trained dictionaries (see above).

    Compression happens inside write transactions only: :meth:`begin` (at the start of each)
    learns dictionaries other writers made and trains new ones from the samples gathered;
    :meth:`end` forgets those of a transaction that rolled back (their frames went with it).
    """

    def __init__(self, *, samples: int = _DICT_SAMPLES) -> None:
        self.samples = samples
        self._lock = threading.Lock()
        self._dicts: dict[int, zstandard.ZstdCompressionDict] = {}
        self._current: dict[str, int] = {}  # kind -> the dictionary its new frames use
        self._pending: list[tuple[str, int]] = []  # made in the open transaction
        self._gathered: dict[str, list[bytes]] = {}
        self._known = 0  # the highest zstd_dicts id taken up for compression
        self._known_read = 0  # the highest read by load_all
        self._local = threading.local()

    # -- frames ----------------------------------------------------------------------------

    def compress(self, kind: str, data: bytes) -> bytes:
        """``data`` as one zstd frame (with its size, so decompression allocates once), with
        the dictionary of ``kind`` once there is one."""
        dict_id = self._current.get(kind, 0)
        if not dict_id:
            gathered = self._gathered.setdefault(kind, [])
            if len(gathered) < self.samples and len(data) <= _SAMPLE_MAX:
                gathered.append(data)
        return self._compressor(dict_id).compress(data)

    def decompress(self, conn: sqlite3.Connection, data: bytes) -> bytes:
        """The bytes :meth:`compress` was given, exactly (the dictionary read from the store
        on first use)."""
        dict_id = zstandard.get_frame_parameters(data).dict_id
        return self._decompressor(conn, dict_id).decompress(data)

    def pack_json(self, kind: str, value: Any, *, text: str | None = None) -> bytes:
        """A JSON document kept compressed (read whole, never queried in SQL); ``text``: its
        :func:`canonical_json`, when the caller has it."""
        return self.compress(kind, (_dumps(value) if text is None else text).encode("utf-8"))

    def load_json(self, conn: sqlite3.Connection, stored: str | bytes) -> Any:
        """A JSON column as :meth:`pack_json` wrote it, or as plain text (rows written before)."""
        return parse_json(self.decompress(conn, stored) if isinstance(stored, bytes) else stored)

    def text(self, conn: sqlite3.Connection, stored: str | bytes) -> str:
        """A text column kept compressed (or plain, by rows written before) as text."""
        return self.decompress(conn, stored).decode("utf-8") if isinstance(stored, bytes) \
            else stored

    def sql_text(self, stored: str | bytes | None) -> str | None:
        """:meth:`text` for SQL (``unz``): the dictionaries must be loaded (:meth:`load_all`)."""
        if stored is None or isinstance(stored, str):
            return stored
        dict_id = zstandard.get_frame_parameters(stored).dict_id
        dict_data = self._dicts[dict_id] if dict_id else None
        cache: dict[int, zstandard.ZstdDecompressor] | None = getattr(self._local, "d", None)
        if cache is None:
            cache = self._local.d = {}
        d = cache.get(dict_id)
        if d is None:
            d = cache[dict_id] = zstandard.ZstdDecompressor(dict_data=dict_data)
        return str(d.decompress(stored).decode("utf-8"))

    def load_all(self, conn: sqlite3.Connection) -> None:
        """Read every dictionary of the store (before SQL that calls ``unz``)."""
        try:
            rows = conn.execute("SELECT id, dict FROM zstd_dicts WHERE id > ?",
                                (self._known_read,)).fetchall()
        except sqlite3.OperationalError:  # a store older than dictionaries, opened read-only
            return
        with self._lock:
            for dict_id, data in rows:
                self._dicts.setdefault(dict_id, zstandard.ZstdCompressionDict(bytes(data)))
                self._known_read = max(self._known_read, dict_id)

    def _compressor(self, dict_id: int) -> zstandard.ZstdCompressor:
        cache: dict[int, zstandard.ZstdCompressor] | None = getattr(self._local, "c", None)
        if cache is None:  # compressor objects are not thread-safe: one per thread
            cache = self._local.c = {}
        c = cache.get(dict_id)
        if c is None:
            c = cache[dict_id] = zstandard.ZstdCompressor(
                level=_ZSTD_LEVEL, dict_data=self._dicts[dict_id] if dict_id else None)
        return c

    def _decompressor(self, conn: sqlite3.Connection, dict_id: int
                      ) -> zstandard.ZstdDecompressor:
        cache: dict[int, zstandard.ZstdDecompressor] | None = getattr(self._local, "d", None)
        if cache is None:
            cache = self._local.d = {}
        d = cache.get(dict_id)
        if d is None:
            dict_data = None
            if dict_id:
                dict_data = self._dicts.get(dict_id)
                if dict_data is None:
                    row = conn.execute("SELECT dict FROM zstd_dicts WHERE id = ?",
                                       (dict_id,)).fetchone()
                    if row is None:
                        raise StoreError(f"a compressed row needs zstd dictionary {dict_id}, "
                                         f"which the store does not have")
                    dict_data = zstandard.ZstdCompressionDict(bytes(row[0]))
                    with self._lock:
                        self._dicts.setdefault(dict_id, dict_data)
            d = cache[dict_id] = zstandard.ZstdDecompressor(dict_data=dict_data)
        return d

    # -- the dictionaries, transaction by transaction ---------------------------------------

    def begin(self, conn: sqlite3.Connection, now: str) -> None:
        """At the start of a write transaction (the lock held): take up dictionaries other
        writers made since, and train those whose samples are gathered."""
        with self._lock:
            for dict_id, kind, data in conn.execute(
                    "SELECT id, kind, dict FROM zstd_dicts WHERE id > ? ORDER BY id",
                    (self._known,)):
                self._dicts.setdefault(dict_id, zstandard.ZstdCompressionDict(bytes(data)))
                self._current[kind] = dict_id  # the newest of a kind
                self._known = dict_id
                self._gathered.pop(kind, None)
            for kind, samples in list(self._gathered.items()):
                if kind in self._current or len(samples) < self.samples:
                    continue
                del self._gathered[kind]
                dict_id = max(self._known + 1, _FIRST_DICT_ID)
                try:
                    trained = zstandard.train_dictionary(_DICT_SIZE, list[Any](samples), dict_id=dict_id,
                                                         level=_ZSTD_LEVEL)
                except zstandard.ZstdError:
                    continue  # too little to learn from (tiny records): gather again
                conn.execute("INSERT INTO zstd_dicts (id, kind, dict, created_at) "
                             "VALUES (?, ?, ?, ?)", (dict_id, kind, trained.as_bytes(), now))
                self._dicts[dict_id] = trained
                self._current[kind] = self._known = dict_id
                self._pending.append((kind, dict_id))

    def end(self, committed: bool) -> None:
        """At the end of a write transaction: dictionaries of one rolled back are forgotten."""
        with self._lock:
            if not committed:
                for kind, dict_id in self._pending:
                    if self._current.get(kind) == dict_id:
                        del self._current[kind]
                    self._dicts.pop(dict_id, None)
                    self._known = min(self._known, dict_id - 1)
            self._pending.clear()


@contextmanager
def _discard(lock: AbstractContextManager[object]) -> Iterator[None]:
    """``lock`` as a context manager that yields nothing (the protocol's shape)."""
    with lock:
        yield


def store_errors(method: _F) -> _F:
    """``method`` raising :class:`StoreError` for any :class:`sqlite3.Error` (the seam's error:
    no SQLite exception leaks through :mod:`eduxchange.store.base`); generators too."""
    if inspect.isgeneratorfunction(method):
        @functools.wraps(method)
        def generator(self: Connections, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.Error as err:
                raise StoreError(f"catalogue store {self.path}: {err}") from err
        return cast(_F, generator)

    @functools.wraps(method)
    def wrapper(self: Connections, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as err:
            raise StoreError(f"catalogue store {self.path}: {err}") from err
    return cast(_F, wrapper)


class Connections:
    """The per-thread connections of one store file (how they open: the subclasses)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._codec = Codec()

    def _connect(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            # SQL over compressed text columns (the statistics' json_each over records):
            # unz(column) is the text. It reads dictionaries only as Codec.load_all left them.
            conn.create_function("unz", 1, self._codec.sql_text, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unz(self, data: bytes) -> bytes:
        """A frame of :attr:`_codec` decompressed (its dictionary read on this connection)."""
        return self._codec.decompress(self._conn(), data)

    def _json(self, stored: str | bytes) -> Any:
        """A JSON column, compressed (:meth:`Codec.pack_json`) or plain (rows written before)."""
        return self._codec.load_json(self._conn(), stored)

    def _by_seq(self, select: str, where: list[str], params: list[Any], since_seq: int, *,
                batch: int) -> Iterator[Any]:
        """Rows of ``select`` (whose last column is ``seq``) after ``since_seq``, in ``seq``
        order, fetched ``batch`` at a time by keyset: bounded memory, no cursor held open
        while the caller writes."""
        conditions = " AND ".join(["seq > ?", *where])
        last = since_seq
        while True:
            rows = self._conn().execute(f"{select} WHERE {conditions} ORDER BY seq LIMIT ?",
                                        (last, *params, batch)).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][-1]



#: The page cache of a writing connection, in KiB (SQLite's default is 2 MiB). Catalogue
#: rows are keyed by IRIs that are hashes, so every insert lands on a random page of each
#: table and index; with the default cache most of them are read back from the file.
WRITE_CACHE_KIB = 32 * 1024


class WriteConnections(Connections):
    """Read-write connections in WAL mode, and write transactions."""

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=60.0,
                               check_same_thread=False)
        # A new file gets 8 KiB pages (an existing one keeps its own: this is a no-op then):
        # a catalogue record's JSON is 2-3 KB, one to a 4 KiB page with the rest unused,
        # three to an 8 KiB one.
        conn.execute("PRAGMA page_size=8192")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._codec.begin(conn, _now())
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            self._codec.end(committed=False)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except BaseException:
                self._codec.end(committed=False)
                raise
            self._codec.end(committed=True)


class ReadOnlyConnections(Connections):
    """Connections that cannot write (``mode=ro``, ``query_only``)."""

    def _connect(self) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0,
                               check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn
