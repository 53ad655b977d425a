"""A large SQLite catalogue made directly (no harvest): for memory and speed checks of a copy.

Every table a migration carries gets rows of a realistic size: about 6 KB a record across raw
bytes, its description, its catalogue record and two pre-rendered metadata records, so that a
copy holding everything in memory would show (tens of MB per 10,000 records).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from eduxchange.store.sqlite import SQLiteStore

__all__ = ["build_store"]

_WORDS = ("open", "learning", "physics", "algebra", "river", "history", "cells", "energy",
          "geometry", "poetry", "music", "climate", "coding", "maps", "language", "data")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def build_store(path: Path, n: int, *, seed: int = 1) -> Path:
    """A catalogue of ``n`` records of one member at ``path`` (made with the store's schema)."""
    SQLiteStore(path).close()
    rng = random.Random(seed)
    at = "2024-01-01T00:00:00Z"
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO members (id, metadata_prefix, state, normalized_seq) "
                     "VALUES ('big', 'lom', 'ok', ?)", (n,))
        conn.execute("INSERT INTO runs (id, member_id, mode, started_at, finished_at, state) "
                     "VALUES (1, 'big', 'full', ?, ?, 'ok')", (at, at))
        for i in range(1, n + 1):
            identifier = f"oai:big.example.org:{i:08d}"
            rid = f"https://catalog.example.org/resources/{i:08d}-0000-4000-8000-000000000000"
            raw = (f"<lom><title>{_text(rng, 12)}</title><description>{_text(rng, 250)}"
                   f"</description></lom>").encode()
            record = {"id": rid, "name": {"en": _text(rng, 8)},
                      "description": {"en": _text(rng, 60)}, "inLanguage": ["en"],
                      "keywords": [_text(rng, 1) for _ in range(6)]}
            text = json.dumps(record, separators=(",", ":"), sort_keys=True)
            conn.execute("INSERT INTO records (member_id, identifier, metadata_prefix, datestamp, "
                         "datestamp_utc, sets, deleted, raw, run_id, seen_run, first_harvested, "
                         "harvested_at, seq) VALUES ('big', ?, 'lom', ?, ?, '[]', 0, ?, 1, 1, "
                         "?, ?, ?)", (identifier, at, at, raw, at, at, i))
            conn.execute("INSERT INTO descriptions VALUES ('big', ?, ?, 'lom', 0, ?, ?, ?)",
                         (identifier, rid, text, i, at))
            conn.execute("INSERT INTO resources VALUES (?, ?, 0, ?, ?, ?)", (rid, text, at, at, i))
            conn.execute("INSERT INTO changes VALUES (?, ?, 'create', ?)", (i, rid, at))
            conn.execute("INSERT INTO match_keys VALUES (?, ?)", (f"id:{identifier}", rid))
            for spec in ("lang", "lang:en", "member", "member:big"):
                conn.execute("INSERT INTO set_members (set_spec, seq) VALUES (?, ?)", (spec, i))
            for prefix in ("oai_dc", "lom"):
                conn.execute("INSERT INTO disseminations (resource_id, prefix, seq, xml, "
                         "writer_version) VALUES (?, ?, ?, ?, '1')",
                             (rid, prefix, i, raw[:1500]))
            conn.execute("INSERT INTO unmapped_terms VALUES ('big', ?, 'keywords', 'lom', ?)",
                         (identifier, _text(rng, 1)))
        conn.execute("UPDATE meta SET value = ? WHERE key IN ('seq', 'catalog_seq')", (str(n),))
        conn.execute("COMMIT")
    return path
