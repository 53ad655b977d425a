"""Full-text search in SQLite: one FTS5 table and facet rows (:mod:`eduxchange.store.search`).

One FTS5 table, unicode61 with remove_diacritics 2 (so "eleve" finds "élève"), whose texts
have each Han/kana/Thai character set apart (store.search.spaced): a CJK query is then a
phrase of characters, which finds words of any length. A trigram table was the alternative:
it cannot match queries under three characters, and most Chinese words are two. Facet values
are plain rows, so counts are one GROUP BY over the hits. The index is derived data: it is
rewritten with the resource in put_resource's transaction, and rebuilt on open when absent or
made by another version of the indexing code (SEARCH_INDEX_VERSION; STYLE.md: a cache says
what made it).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ...catalog.vocab import default_vocabularies
from ...core.errors import StoreError
from ...core.record import CommonRecord
from ..search import (
    FACETS,
    FacetCount,
    SearchHit,
    SearchQuery,
    SearchDocument,
    SearchResult,
    fts5_match,
    search_document,
    search_terms,
)
from .connection import Codec, Connections

__all__ = ["SEARCH_INDEX_VERSION", "SearchReader", "ensure_search_index"]

#: Bump when store.search.search_document or the index tables change: stores then re-index.
#: 2: ``search_rows`` (each resource's FTS5 rowid, schema 4), filled by the re-index.
#: 3: facets as ``facet_values`` and ``facet_postings`` (by FTS5 rowid, schema 6).
#: 4: a contentless ``search_text`` and ``search_docs`` (schema 7).
SEARCH_INDEX_VERSION = "4"

# bm25 weights of title, body, concepts (the table's columns, in order): a word of the title
# counts most.
_BM25 = "bm25(search_text, 10.0, 2.0, 1.0)"


def _search_sync(conn: sqlite3.Connection, codec: Codec, resource_id: str,
                 record: CommonRecord | None, deleted: bool, *, document: SearchDocument | None = None,
                 fresh: bool = False) -> None:
    """Rewrite one resource's search rows (a withdrawn resource has none).

    ``search_text`` is contentless (FTS5 ``content=''``: the index alone, no copy of the
    texts, 1.1 KB a record), so a document is deleted by giving FTS5 exactly the texts it
    indexed: ``search_docs`` keeps them, compressed, with the resource's IRI, by FTS5 rowid
    (``doc``). Texts derived anew from the old record could differ (a vocabulary's labels
    change) and would corrupt the index. ``document``: the record's, made by the caller;
    ``fresh``: the resource was never written before (so it has no search rows to delete).
    """
    row = None if fresh else conn.execute(
        "SELECT doc, texts FROM search_docs WHERE resource_id = ?", (resource_id,)).fetchone()
    if row is not None:
        title, body, concepts = codec.load_json(conn, row[1])
        conn.execute("INSERT INTO search_text (search_text, rowid, title, body, concepts) "
                     "VALUES ('delete', ?, ?, ?, ?)", (row[0], title, body, concepts))
        conn.execute("DELETE FROM facet_postings WHERE doc = ?", (row[0],))
        conn.execute("DELETE FROM search_docs WHERE doc = ?", (row[0],))
    if deleted:
        return
    _search_insert(conn, codec, resource_id, record, document)


def _search_insert(conn: sqlite3.Connection, codec: Codec, resource_id: str,
                   record: CommonRecord | None, document: SearchDocument | None = None) -> None:
    """Index one live resource that has no search rows yet (a rebuild into emptied tables
    inserts only)."""
    if document is None:
        assert record is not None, "a record or its search document"
        document = search_document(record, default_vocabularies())
    doc = document
    cur = conn.execute("INSERT INTO search_docs (resource_id, texts) VALUES (?, ?)",
                       (resource_id, codec.pack_json("search", [doc.title, doc.body,
                                                                doc.concepts])))
    conn.execute("INSERT INTO search_text (rowid, title, body, concepts) VALUES (?, ?, ?, ?)",
                 (cur.lastrowid, doc.title, doc.body, doc.concepts))
    if doc.facets:
        conn.executemany("INSERT OR IGNORE INTO facet_values (facet, value) VALUES (?, ?)",
                         doc.facets)
        conn.executemany(
            "INSERT OR IGNORE INTO facet_postings (value_id, doc) SELECT id, ? FROM facet_values "
            "WHERE facet = ? AND value = ?",
            [(cur.lastrowid, facet, value) for facet, value in doc.facets])


def ensure_search_index(conn: sqlite3.Connection, codec: Codec) -> None:
    """(Re)build the search index once for stores without it or with one of another version
    (its tables are made by the migrations, :mod:`.schema`)."""
    if conn.execute("SELECT 1 FROM meta WHERE key = 'search_index' AND value = ?",
                    (SEARCH_INDEX_VERSION,)).fetchone():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not conn.execute("SELECT 1 FROM meta WHERE key = 'search_index' AND value = ?",
                            (SEARCH_INDEX_VERSION,)).fetchone():
            conn.execute("INSERT INTO search_text (search_text) VALUES ('delete-all')")
            conn.execute("DELETE FROM facet_postings")
            conn.execute("DELETE FROM facet_values")
            conn.execute("DELETE FROM search_docs")
            for resource_id, text, deleted in conn.execute(
                    "SELECT id, record, deleted FROM resources").fetchall():
                _search_sync(conn, codec, resource_id, codec.load_json(conn, text),
                             bool(deleted))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('search_index', ?)",
                         (SEARCH_INDEX_VERSION,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _search(conn: sqlite3.Connection, codec: Codec, query: SearchQuery) -> SearchResult:
    """Answer ``query`` from the index (see :meth:`SQLiteStore.search`)."""
    match = fts5_match(search_terms(query.text))
    where: list[str] = []
    params: list[Any] = []
    if match is not None:
        select = (f"SELECT d.doc, d.resource_id, -{_BM25} AS score FROM search_text "
                  "JOIN search_docs d ON d.doc = search_text.rowid")
        where.append("search_text MATCH ?")
        params.append(match)
    else:
        select = "SELECT d.doc, d.resource_id, 0.0 AS score FROM search_docs d"
    for facet, values in sorted(query.filters.items()):
        if facet not in FACETS or not values:
            continue
        marks = ", ".join("?" * len(values))
        where.append(f"d.doc IN (SELECT p.doc FROM facet_values v JOIN facet_postings p "
                     f"ON p.value_id = v.id WHERE v.facet = ? AND v.value IN ({marks}))")
        params.extend([facet, *values])
    hits_sql = select + (" WHERE " + " AND ".join(where) if where else "")
    cte = f"WITH hits AS MATERIALIZED ({hits_sql}) "
    total = int(conn.execute(cte + "SELECT COUNT(*) FROM hits", params).fetchone()[0])
    page_size = max(1, query.page_size)
    offset = (max(1, query.page) - 1) * page_size
    rows = conn.execute(
        cte + "SELECT hits.resource_id, hits.score, resources.record FROM hits "
        "JOIN resources ON resources.id = hits.resource_id "
        "ORDER BY hits.score DESC, hits.resource_id LIMIT ? OFFSET ?",
        [*params, page_size, offset]).fetchall()
    counts: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
    for facet, value, count in conn.execute(
            cte + "SELECT v.facet, v.value, COUNT(*) AS n FROM hits "
            "JOIN facet_postings p ON p.doc = hits.doc JOIN facet_values v ON v.id = p.value_id "
            "GROUP BY v.facet, v.value ORDER BY v.facet, n DESC, v.value",
            params):
        if facet in counts:
            counts[facet].append(FacetCount(value, int(count)))
    hits = tuple(SearchHit(resource_id=r[0], record=codec.load_json(conn, r[2]), score=float(r[1]))
                 for r in rows)
    return SearchResult(total=total, hits=hits,
                        facets={name: tuple(found) for name, found in counts.items()})


class SearchReader(Connections):
    """Search over the index (read-only: the index is written by the catalogue transaction)."""

    def search(self, query: SearchQuery) -> SearchResult:
        """The resources matching ``query``, most relevant first, with facet counts."""
        try:
            return _search(self._conn(), self._codec, query)
        except sqlite3.OperationalError as err:
            if "no such table" not in str(err):
                raise
            raise StoreError(f"{self.path} has no search index yet: run any command that "
                             f"opens it for writing (eduxchange normalize --all) once") from err
