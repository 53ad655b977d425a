"""Full-text search on PostgreSQL: one weighted ``tsvector`` per resource, a GIN index.

Texts are folded in Python before PostgreSQL sees them, the same way for documents and queries:
case-folded, Latin letters stripped of their diacritics (``eleve`` finds ``élève``, as SQLite's
``remove_diacritics 2`` does; other scripts keep their marks), everything but letters, marks
and digits turned into spaces, and each character of an unspaced script set apart
(:func:`~eduxchange.store.search.spaced`). The ``simple`` configuration then only splits on
spaces: no stemming, no stop words, and no extension to install (``unaccent`` needs a
superuser), so results do not depend on the server's locale or dictionaries. A query term
becomes ``phraseto_tsquery`` of its folded text: never parsed as tsquery syntax, so no user
text can make a syntax error, and a CJK term is a phrase of its characters.

Weights: title A, body B, concept labels C, ranked by ``ts_rank`` with 1.0 / 0.2 / 0.1 (the
10 : 2 : 1 of the SQLite store's bm25 weights). Facets are rows, counted by one GROUP BY over
the hits, as in the SQLite store.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import psycopg

from ...catalog.vocab import default_vocabularies
from ...core.record import CommonRecord
from ..base import parse_json
from ..search import (FACETS, FacetCount, SearchDocument, SearchHit, SearchQuery, SearchResult,
                      search_document)
from ..search import search_terms, spaced

__all__ = ["fold", "pg_search", "sync_search"]

Conn = psycopg.Connection[tuple[Any, ...]]

#: ts_rank's weights, in the order {D, C, B, A}.
_WEIGHTS = "{0.0, 0.1, 0.2, 1.0}"


def _latin(char: str) -> bool:
    code = ord(char)
    return code < 0x250 or 0x1E00 <= code <= 0x1EFF


def fold(text: str) -> str:
    """``text`` as the index holds it (see the module docstring)."""
    out: list[str] = []
    base = " "
    for char in unicodedata.normalize("NFKD", text.casefold()):
        category = unicodedata.category(char)
        if category == "Mn" and _latin(base):
            continue  # a diacritic on a Latin letter
        if category[0] not in "LMN":
            out.append(" ")
            base = " "
            continue
        if category[0] != "M":
            base = char
        out.append(char)
    return spaced(unicodedata.normalize("NFC", "".join(out)))


def sync_search(conn: Conn, resource_id: str, record: CommonRecord | None, deleted: bool, *,
                document: SearchDocument | None = None, fresh: bool = False) -> None:
    """Rewrite one resource's search rows (a withdrawn resource has none; ``fresh``: one
    never written before has none to delete)."""
    if not fresh:
        conn.execute("DELETE FROM search_text WHERE resource_id = %s", (resource_id,))
        conn.execute("DELETE FROM search_facets WHERE resource_id = %s", (resource_id,))
    if deleted:
        return
    if document is None:
        assert record is not None, "a record or its search document"
        document = search_document(record, default_vocabularies())
    insert_search(conn, [(resource_id, document)])


def insert_search(conn: Conn, documents: Sequence[tuple[str, SearchDocument]]) -> None:
    """Index resources that have no search rows: two statements for all of them."""
    if not documents:
        return
    conn.execute(
        "INSERT INTO search_text (resource_id, document) SELECT r, "
        "setweight(to_tsvector('simple', a), 'A') || setweight(to_tsvector('simple', b), 'B') "
        "|| setweight(to_tsvector('simple', c), 'C') "
        "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[]) AS t(r, a, b, c)",
        ([r for r, _ in documents], [fold(d.title) for _, d in documents],
         [fold(d.body) for _, d in documents], [fold(d.concepts) for _, d in documents]))
    facets = [(r, f, v) for r, d in documents for f, v in d.facets]
    if facets:
        conn.execute(
            "INSERT INTO search_facets (resource_id, facet, value) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) ON CONFLICT DO NOTHING",
            [list(c) for c in zip(*facets)])


def pg_search(conn: Conn, query: SearchQuery) -> SearchResult:
    """Answer ``query`` from the index (see :meth:`CatalogStore.search`)."""
    phrases = [p for p in (fold(t).strip() for t in search_terms(query.text)) if p]
    where: list[str] = []
    params: list[Any] = []
    if phrases:
        tsquery = " && ".join(["phraseto_tsquery('simple', %s)"] * len(phrases))
        select = (f"SELECT t.resource_id, ts_rank('{_WEIGHTS}', t.document, q.q) AS score "
                  f"FROM search_text t, (SELECT {tsquery} AS q) q")
        params.extend(phrases)
        where.append("t.document @@ q.q")
    else:
        select = "SELECT t.resource_id, 0.0::real AS score FROM search_text t"
    for facet, values in sorted(query.filters.items()):
        if facet not in FACETS or not values:
            continue
        where.append("t.resource_id IN (SELECT resource_id FROM search_facets "
                     "WHERE facet = %s AND value = ANY(%b))")
        params.extend([facet, list(values)])
    hits_sql = select + (" WHERE " + " AND ".join(where) if where else "")
    cte = f"WITH hits AS MATERIALIZED ({hits_sql}) "
    page_size = max(1, query.page_size)
    offset = (max(1, query.page) - 1) * page_size
    row = conn.execute(cte + "SELECT COUNT(*) FROM hits", params).fetchone()
    total = int(row[0]) if row else 0
    rows = conn.execute(
        cte + "SELECT hits.resource_id, hits.score, resources.record FROM hits "
        "JOIN resources ON resources.id = hits.resource_id "
        "ORDER BY hits.score DESC, hits.resource_id LIMIT %s OFFSET %s",
        [*params, page_size, offset]).fetchall()
    counts: dict[str, list[FacetCount]] = {name: [] for name in FACETS}
    for facet, value, count in conn.execute(
            cte + "SELECT facet, value, COUNT(*) AS n FROM search_facets "
            "JOIN hits USING (resource_id) GROUP BY facet, value ORDER BY facet, n DESC, value",
            params):
        if facet in counts:
            counts[facet].append(FacetCount(value, int(count)))
    hits = tuple(SearchHit(resource_id=r[0], record=parse_json(r[2]), score=float(r[1]))
                 for r in rows)
    return SearchResult(total=total, hits=hits,
                        facets={name: tuple(found) for name, found in counts.items()})
