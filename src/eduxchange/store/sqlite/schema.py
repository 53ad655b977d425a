"""The SQLite store's schema: one ordered list of migrations, version N to N+1.

A store file says its version in ``meta`` (``schema_version``); opening it read-write runs every
step after that version, each in its own transaction together with the new version number, so
an interrupted upgrade resumes where it stopped. A new file runs them all from 0. A file of a
newer release (a version above :data:`SCHEMA_VERSION`) is refused rather than guessed at. A
read-only open migrates nothing (the readers tolerate the tables an older release lacks).

To change the schema, append a step to :data:`MIGRATIONS`; never edit a released one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from ...catalog.sets import oai_set_specs
from ...core.errors import StoreError
from .leases import LEASE_SCHEMA

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

# -- 0 -> 1: the first schema: harvest state, raw records, the catalogue, its change log ---------

_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    id                 TEXT PRIMARY KEY,
    metadata_prefix    TEXT,
    granularity        TEXT,
    deleted_record     TEXT,
    earliest_datestamp TEXT,
    next_from          TEXT,
    last_harvest       TEXT,
    state              TEXT NOT NULL DEFAULT 'never',
    error              TEXT,
    resume             TEXT,
    last_reconcile     TEXT,
    normalized_seq     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id              INTEGER PRIMARY KEY,
    member_id       TEXT NOT NULL,
    mode            TEXT NOT NULL,
    metadata_prefix TEXT,
    from_           TEXT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    state           TEXT NOT NULL DEFAULT 'running',
    counts          TEXT NOT NULL DEFAULT '{}',
    error           TEXT
);
CREATE INDEX IF NOT EXISTS runs_member ON runs (member_id, id);
CREATE TABLE IF NOT EXISTS records (
    member_id       TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    metadata_prefix TEXT NOT NULL,
    datestamp       TEXT NOT NULL,
    datestamp_utc   TEXT NOT NULL,
    sets            TEXT NOT NULL DEFAULT '[]',
    deleted         INTEGER NOT NULL DEFAULT 0,
    raw             BLOB,
    run_id          INTEGER,
    seen_run        INTEGER,
    first_harvested TEXT NOT NULL,
    harvested_at    TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    PRIMARY KEY (member_id, identifier)
);
CREATE INDEX IF NOT EXISTS records_seq ON records (seq);
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    member_id   TEXT NOT NULL,
    identifier  TEXT,
    run_id      INTEGER,
    stage       TEXT NOT NULL DEFAULT 'harvest',
    reason      TEXT NOT NULL,
    raw         BLOB,
    created_at  TEXT NOT NULL,
    resolved    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS quarantine_member ON quarantine (member_id, resolved);
CREATE TABLE IF NOT EXISTS descriptions (
    member_id   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    format      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    description TEXT NOT NULL,
    raw_seq     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (member_id, identifier)
);
CREATE INDEX IF NOT EXISTS descriptions_resource ON descriptions (resource_id);
CREATE TABLE IF NOT EXISTS resources (
    id          TEXT PRIMARY KEY,
    record      TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_seq ON resources (seq);
CREATE TABLE IF NOT EXISTS match_keys (
    key         TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS match_keys_resource ON match_keys (resource_id);
CREATE TABLE IF NOT EXISTS changes (
    seq         INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS disseminations (
    resource_id TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    xml         BLOB NOT NULL,
    PRIMARY KEY (resource_id, prefix)
);
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER,
    member_id   TEXT NOT NULL,
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    identifier  TEXT,
    created_at  TEXT NOT NULL
);
"""


def _to_1(conn: sqlite3.Connection) -> None:
    _run(conn, _SCHEMA_1)
    for key in ("seq", "catalog_seq"):  # the raw records' and the catalogue's change counters
        conn.execute("INSERT OR IGNORE INTO meta VALUES (?, '0')", (key,))


# -- 1 -> 2: the version of the writer that made each pre-rendered metadata record ---------------
# Metadata written before writers had versions is of no known version (''): it is never served
# (OAIReaders.oai_list) and the next normalization re-renders it.

def _to_2(conn: sqlite3.Connection) -> None:
    # A file of release 2 whose first open stopped before meta got its version has the column.
    if "writer_version" not in _columns(conn, "disseminations"):
        conn.execute("ALTER TABLE disseminations ADD COLUMN writer_version TEXT NOT NULL "
                     "DEFAULT ''")


# -- 2 -> 3: what releases 1 and 2 added without a version number ---------------------------------
# Those releases created these on every open (IF NOT EXISTS, a column check), so a store of
# version 1 or 2 may have any of them: this step, the last of its kind, is idempotent.

_SCHEMA_3 = """
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, severity);
CREATE INDEX IF NOT EXISTS events_member ON events (member_id, id);
-- The OAI-PMH provider's set membership (OAIReaders): a resource's setSpecs, by set and seq.
CREATE TABLE IF NOT EXISTS resource_sets (
    resource_id TEXT NOT NULL,
    set_spec    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (resource_id, set_spec)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS resource_sets_spec ON resource_sets (set_spec, seq);
CREATE INDEX IF NOT EXISTS resources_updated ON resources (updated_at);
-- Retired catalogue IRIs: when two resources turn out to be one, the IRI that is not kept is
-- retired, not forgotten: ``aliases`` maps it to the surviving resource (docs/normalization.md,
-- "Catalogue IRIs"), so /resources/{retired} can redirect and the survivor can say sameAs.
CREATE TABLE IF NOT EXISTS aliases (
    retired_id  TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_resource ON aliases (resource_id);
-- Member quality reports (eduxchange.publish.report): ``unmapped_terms`` holds each normalized
-- record's source values that no vocabulary maps (written with its description, so it stays
-- right whatever run normalized which record); ``reports`` keeps a report's key figures per
-- member and run, for the trend across runs.
CREATE TABLE IF NOT EXISTS unmapped_terms (
    member_id   TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    field       TEXT NOT NULL,
    source      TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (member_id, identifier, field, source, value)
);
CREATE INDEX IF NOT EXISTS unmapped_terms_value ON unmapped_terms (member_id, field, source, value);
-- The report reads the newest unresolved entry of each record (and normalization resolves by record).
CREATE INDEX IF NOT EXISTS quarantine_record ON quarantine (member_id, identifier, stage, resolved);
CREATE TABLE IF NOT EXISTS reports (
    member_id   TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    figures     TEXT NOT NULL,
    PRIMARY KEY (member_id, run_id)
);
-- Full-text search (.fts): one FTS5 table and facet rows, derived from the resources.
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5 (
    resource_id UNINDEXED, title, body, concepts,
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS search_facets (
    resource_id TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (resource_id, facet, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_facets_value ON search_facets (facet, value);
"""


def _to_3(conn: sqlite3.Connection) -> None:
    # Stores made before normalization existed lack this column.
    if "normalized_seq" not in _columns(conn, "members"):
        conn.execute("ALTER TABLE members ADD COLUMN normalized_seq INTEGER NOT NULL DEFAULT 0")
    _run(conn, _SCHEMA_3)
    # Stores made before the provider kept sets: the catalogue's set rule fills them, once.
    if not conn.execute("SELECT 1 FROM meta WHERE key = 'resource_sets'").fetchone():
        for resource_id, text, seq in conn.execute(
                "SELECT id, record, seq FROM resources").fetchall():
            # This step's own rows (resource_sets, replaced by set_members in step 6).
            conn.executemany(
                "INSERT INTO resource_sets (resource_id, set_spec, seq) VALUES (?, ?, ?)",
                [(resource_id, spec, seq)
                 for spec in dict.fromkeys(oai_set_specs(json.loads(text)))])
        conn.execute("INSERT INTO meta VALUES ('resource_sets', '1')")
    # The search index is filled after the migrations (.fts.ensure_search_index): it is
    # derived data of its own version.


# -- 3 -> 4: the store's cost per record (issue 10) ------------------------------------------------
# - records.raw_z: the raw record as one zstd frame (raw is then NULL; rows written before keep
#   their plain raw and read as they are: nothing is rewritten on upgrade);
# - disseminations.codec: 'zstd' for compressed pre-rendered metadata, '' for plain;
# - records (member_id, seq): a member's records in change order, as normalization reads them
#   (without it every batch re-read and sorted all of the member's rows);
# - resources (updated_at, seq), covering, replacing resources (updated_at): the lowest seq a
#   ListRecords 'from' can match, so a narrow 'from' does not walk the seq index from the start;
# - search_rows: each resource's FTS5 rowid (.fts._search_sync; the index is rebuilt once,
#   SEARCH_INDEX_VERSION 2, which fills it).

_SCHEMA_4 = """
CREATE INDEX IF NOT EXISTS records_member_seq ON records (member_id, seq);
CREATE INDEX IF NOT EXISTS resources_updated_seq ON resources (updated_at, seq);
DROP INDEX IF EXISTS resources_updated;
CREATE TABLE IF NOT EXISTS search_rows (
    resource_id TEXT PRIMARY KEY, fts_rowid INTEGER NOT NULL) WITHOUT ROWID;
"""


def _to_4(conn: sqlite3.Connection) -> None:
    # Column checks: a store whose version number was set back by hand (the tests do) may
    # have them already.
    if "raw_z" not in _columns(conn, "records"):
        conn.execute("ALTER TABLE records ADD COLUMN raw_z BLOB")
    if "codec" not in _columns(conn, "disseminations"):
        conn.execute("ALTER TABLE disseminations ADD COLUMN codec TEXT NOT NULL DEFAULT ''")
    _run(conn, _SCHEMA_4)


# -- 4 -> 5: zstd dictionaries (.connection.Codec) ------------------------------------------------
# Each kind of compressed data (raw records, descriptions, catalogue records, metadata per
# prefix) is compressed with a dictionary trained on the store's first records of that kind;
# frames name theirs by id. resources.record is then kept compressed too (a BLOB in the TEXT
# column; rows written before stay text and read as they are).

_SCHEMA_5 = """
CREATE TABLE IF NOT EXISTS zstd_dicts (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    dict       BLOB NOT NULL,
    created_at TEXT NOT NULL
);
"""


def _to_5(conn: sqlite3.Connection) -> None:
    _run(conn, _SCHEMA_5)


# -- 5 -> 6: the derived rows without the resource's IRI in each -----------------------------------
# - set_members (set_spec, seq) replaces resource_sets (resource_id, set_spec, seq) and its index:
#   a resource's seq is unique and names it (resources_seq), so the 60-byte IRI is not repeated
#   in each of its rows twice (1.5 KB a record before, ~0.2 after);
# - the search facets become facet_values (each (facet, value) once, by id) and facet_postings
#   (value id, FTS5 rowid): 1.8 KB a record before. The search index is derived data: it is
#   rebuilt on the next open (SEARCH_INDEX_VERSION 3), which fills them.

_SCHEMA_6 = """
CREATE TABLE IF NOT EXISTS set_members (
    set_spec TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (set_spec, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS set_members_seq ON set_members (seq);
INSERT OR IGNORE INTO set_members (set_spec, seq)
    SELECT s.set_spec, r.seq FROM resource_sets s JOIN resources r ON r.id = s.resource_id;
DROP TABLE IF EXISTS resource_sets;
CREATE TABLE IF NOT EXISTS facet_values (
    id    INTEGER PRIMARY KEY,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (facet, value)
);
CREATE TABLE IF NOT EXISTS facet_postings (
    value_id INTEGER NOT NULL,
    doc      INTEGER NOT NULL,
    PRIMARY KEY (value_id, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facet_postings_doc ON facet_postings (doc);
DROP TABLE IF EXISTS search_facets;
DELETE FROM meta WHERE key = 'search_index';
"""


def _to_6(conn: sqlite3.Connection) -> None:
    _run(conn, _SCHEMA_6)


# -- 6 -> 7: a contentless search index ------------------------------------------------------------
# search_text keeps the index alone (FTS5 content=''), not a copy of every resource's texts
# (1.1 KB a record); search_docs keeps them compressed, to delete a document exactly
# (.fts._search_sync), with the resource's IRI, by FTS5 rowid; search_rows goes. Derived data:
# rebuilt on the next open (SEARCH_INDEX_VERSION 4).

_SCHEMA_7 = """
DROP TABLE IF EXISTS search_text;
CREATE VIRTUAL TABLE search_text USING fts5 (
    title, body, concepts, content = '',
    tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS search_docs (
    doc         INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL UNIQUE,
    texts       BLOB NOT NULL
);
DROP TABLE IF EXISTS search_rows;
DELETE FROM facet_postings;
DELETE FROM meta WHERE key = 'search_index';
"""


def _to_7(conn: sqlite3.Connection) -> None:
    _run(conn, _SCHEMA_7)


# -- 7 -> 8: harvest workers' leases (.leases, issue 12) -------------------------------------------


def _to_8(conn: sqlite3.Connection) -> None:
    _run(conn, LEASE_SCHEMA)


#: The schema's history, in order: step ``i`` takes a store from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("harvest state, raw records, the catalogue and its change log", _to_1),
    ("disseminations.writer_version", _to_2),
    ("indexes, sets, aliases, reports and search tables added without a version", _to_3),
    ("zstd raw records and metadata; records (member_id, seq), resources (updated_at, seq), "
     "search_rows", _to_4),
    ("zstd dictionaries; compressed catalogue records", _to_5),
    ("set_members, facet_values and facet_postings without IRIs", _to_6),
    ("a contentless search index; search_docs", _to_7),
    ("leases of harvest workers", _to_8),
)

#: The version a store has after every migration (the number of the last one).
SCHEMA_VERSION = len(MIGRATIONS)


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the open transaction (``executescript`` would
    commit it first); statements end where SQLite says they are complete (comments may hold
    semicolons)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip() and not all(not s.strip() or s.strip().startswith("--")
                                     for s in statement.splitlines()):
        raise ValueError(f"an incomplete statement ends the script: {statement.strip()[:80]}")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version the store file says it has (0: a new file)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
                        ).fetchone():
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return 0 if row is None else int(row[0])
    except ValueError:
        raise StoreError(f"meta schema_version is {row[0]!r}, not a number") from None


def migrate(conn: sqlite3.Connection, path: object = "") -> int:
    """Bring the store up to :data:`SCHEMA_VERSION`, one step per transaction; the version
    it had before. A store of a newer release raises :class:`StoreError`."""
    before = schema_version(conn)
    if before > SCHEMA_VERSION:
        raise StoreError(f"{path}: the store has schema version {before}, newer than this "
                         f"release's {SCHEMA_VERSION}: upgrade eduxchange to open it")
    if before == SCHEMA_VERSION:
        return before  # the common case: no write lock taken just to open
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = schema_version(conn)
            if version >= SCHEMA_VERSION:
                conn.execute("ROLLBACK")
                return before
            MIGRATIONS[version][1](conn)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                         (str(version + 1),))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
