"""The SQLite store's schema: its tables, and bringing an older file up to date.

(:func:`migrate` runs on every read-write open; a read-only open migrates nothing.)
"""

from __future__ import annotations

import sqlite3

from .fts import _search_migrate
from .oai import _oai_migrate

__all__ = ["SCHEMA_VERSION", "migrate"]

#: 2: ``disseminations.writer_version`` (the version of the writer that made the bytes).
SCHEMA_VERSION = 2

_SCHEMA = """
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
    writer_version TEXT NOT NULL DEFAULT '',
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


# -- retired catalogue IRIs ---------------------------------------------------------------------
# When two resources turn out to be one, the IRI that is not kept is retired,
# not forgotten: ``aliases`` maps it to the surviving resource (docs/normalization.md, "Catalogue
# IRIs"), so ``/resources/{retired}`` can redirect and the surviving record can say ``sameAs``.

_ALIAS_SCHEMA = """
CREATE TABLE IF NOT EXISTS aliases (
    retired_id  TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_resource ON aliases (resource_id);
"""

# -- member quality reports ----------------------------------------------------------------------
# What eduxchange.publish.report reads besides descriptions and quarantine.
# ``unmapped_terms`` holds each normalized record's source values that no vocabulary maps
# (written with its description, so it stays right whatever run normalized which record);
# ``reports`` keeps a report's key figures per member and run, for the trend across runs.

_REPORT_SCHEMA = """
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
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Create what is missing and bring an older store's schema up to date."""
    conn.executescript(_SCHEMA)
    # The log reads a run's events and a member's latest ones.
    conn.execute("CREATE INDEX IF NOT EXISTS events_run ON events (run_id, severity)")
    conn.execute("CREATE INDEX IF NOT EXISTS events_member ON events (member_id, id)")
    # Stores made before normalization existed lack this column.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(members)")}
    if "normalized_seq" not in columns:
        conn.execute("ALTER TABLE members ADD COLUMN normalized_seq INTEGER NOT NULL DEFAULT 0")
    # Schema 2: metadata written before writers had versions is of no known version ('').
    # It is never served (SQLiteOAIBackend) and the next normalization re-renders it.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(disseminations)")}
    if "writer_version" not in columns:
        conn.execute("ALTER TABLE disseminations ADD COLUMN writer_version TEXT NOT NULL "
                     "DEFAULT ''")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version' "
                 "AND CAST(value AS INTEGER) < ?", (str(SCHEMA_VERSION), SCHEMA_VERSION))
    _oai_migrate(conn)  # the OAI-PMH provider's resource_sets (.oai)
    conn.executescript(_ALIAS_SCHEMA)  # retired catalogue IRIs
    conn.executescript(_REPORT_SCHEMA)  # member quality reports
    _search_migrate(conn)  # the full-text search index (.fts)
