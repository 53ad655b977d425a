"""The PostgreSQL catalogue store (psycopg 3 with a psycopg_pool connection pool).

Selected by a store URL, ``[catalog] store = "postgresql://user@host/dbname"`` (see
:mod:`.connect`; the password comes from the environment, never the config file). The schema
is created and migrated on first use (:mod:`.schema`). Same tables and semantics as the SQLite
store, so the two backends hold and serve the same catalogue.

**The change sequences are read in commit order.** Two sequences order changes: ``seq`` (raw
records; normalization resumes after ``members.normalized_seq``) and ``catalog_seq``
(catalogue records; OAI-PMH resumption tokens and feed pages continue after a seq). A reader
continues *after the last seq it saw*, so a value that becomes visible after a higher one did
would be skipped for good. A PostgreSQL ``SEQUENCE`` has exactly that flaw: two writers take
5 and 6, 6 commits first, a reader pages past 6, then 5 commits behind it.

We chose the classic remedy, *assign under a lock held to commit*: each sequence is a row of
``counters``, taken with ``UPDATE counters SET value = value + n ... RETURNING value`` (one
statement: no read-modify-write). The row lock lasts until the writer's transaction ends, so
the next writer blocks there until the first has committed (or rolled back, releasing its
values unused and leaving no gap that anyone could have paged past); PostgreSQL makes a
transaction visible before it releases its locks. Hence a transaction's values are visible
only after every lower value's transaction is, and a reader that has seen seq N has seen every
committed change numbered at or below N. The alternative, a "safe high-water mark" (readers
never pass ``pg_snapshot_xmin(pg_current_snapshot())`` of the oldest writer still in flight,
with an ``xid8`` column per row) lets writers run concurrently but makes every reader compute
the mark and lag behind long transactions, and a reader could never tell a committed gap from
one still coming; the lock costs only that writers of one sequence commit one after another,
which they do anyway in the SQLite store, and is held only from the moment a value is taken:
``commit_page`` takes all of its values in one statement after reading what it compares,
just before writing. The catalogue transaction runs in pipeline mode (writes are not waited
for one by one), so its counter update reaches the server when a read or the commit flushes
the queue: the lock is taken then, and the argument is the same. ``tests/test_postgres_store.py`` runs concurrent writers against a paging
reader and checks that no change is skipped.

The harvest lock is an advisory lock (``pg_try_advisory_lock``) held by a connection of its
own: PostgreSQL lets go of it when that session ends, however its process ends. Search is
``tsvector`` + GIN (:mod:`.search`).
"""

from __future__ import annotations

from .connect import PASSWORD_VARIABLE, is_postgres_url, parse_url
from .store import PostgresStore

__all__ = ["PASSWORD_VARIABLE", "PostgresStore", "is_postgres_url", "parse_url"]
