"""Full-text search of the catalogue, backend-neutral: the query, its result, and what is indexed.

A backend implements :meth:`~eduxchange.store.base.CatalogStore.search`; this module holds what
every backend shares, so that a PostgreSQL store can answer the same :class:`SearchQuery` with
``tsvector``/``tsquery`` and the pages and the JSON API do not change:

- :func:`search_terms` reads the visitor's text into terms (the only parser of user text);
- :func:`fts5_match` turns terms into a safe SQLite FTS5 ``MATCH`` expression (every term
  quoted: user text never reaches ``MATCH`` raw, so no FTS5 syntax error can come of it);
- :func:`search_document` says what a resource contributes to the index: its titles,
  descriptions and keywords in every language, the labels of its concepts in every language of
  the shipped vocabularies (a query in Chinese finds a resource described in French and tagged
  with the same ISCED-F subject), and its facet values.

Scripts written without spaces between words (Han, kana, Thai) are indexed and queried one
character per token; a query term in those scripts becomes a *phrase* of its characters, which
matches the characters in sequence: substring search, as a CJK reader expects, for words of any
length (a trigram index cannot match the many two-character Chinese words).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..catalog.vocab import Vocabularies

__all__ = ["FACETS", "FacetCount", "MAX_QUERY_CHARS", "MAX_TERMS", "SearchDocument", "SearchHit",
           "SearchQuery", "SearchResult", "fts5_match", "search_document", "search_terms",
           "spaced"]

#: The facets, in the order pages list them: name -> the record field they count.
FACETS: Final[Mapping[str, str]] = {
    "language": "inLanguage", "type": "learningResourceType", "level": "educationalLevel",
    "subject": "about", "licence": "license", "member": "mainEntityOfPage",
}
#: Longest query text read (characters); longer queries are refused by the web layer.
MAX_QUERY_CHARS: Final = 500
#: Terms of a query beyond this many are ignored (every term must match: more only narrow).
MAX_TERMS: Final = 16

# Scripts without spaces between words: Thai, CJK punctuation-free ranges, kana, Han, compatibility.
_UNSPACED = re.compile("[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                       "\U00020000-\U0002fa1f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchQuery:
    """A search: the visitor's text, facet filters, and the page wanted (1-based).

    ``filters`` maps a facet name of :data:`FACETS` to the values wanted: a resource must have
    one of a facet's values (OR within a facet) for every facet filtered (AND across facets).
    An empty ``text`` lists every resource (then filters and facets still apply).
    """

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True, slots=True)
class FacetCount:
    """How many of the matching resources have ``value`` (an IRI, a language tag, a member id)."""

    value: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit:
    """One matching resource, with its catalogue record; a larger ``score`` is more relevant."""

    resource_id: str
    record: dict[str, Any]
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """One page of hits, most relevant first, the total and the facet counts of all hits."""

    total: int
    hits: tuple[SearchHit, ...]
    facets: Mapping[str, tuple[FacetCount, ...]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchDocument:
    """What one resource puts in the index: three weighted texts and its facet values."""

    title: str
    body: str
    concepts: str
    facets: tuple[tuple[str, str], ...]


def _is_word_char(char: str) -> bool:
    # Letters, marks (Arabic harakat, combining accents) and digits make words; the rest splits.
    return unicodedata.category(char)[0] in "LMN"


def search_terms(text: str) -> list[str]:
    """The visitor's text as search terms: words, with punctuation, operators and control
    characters dropped (``"NEAR(a b)"`` gives ``["NEAR", "a", "b"]``, searched as words).

    NFKC-normalized (full-width letters become ASCII ones); at most :data:`MAX_TERMS` terms.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_QUERY_CHARS])
    terms: list[str] = []
    word: list[str] = []
    for char in [*text, " "]:
        if _is_word_char(char):
            word.append(char)
        elif word:
            terms.append("".join(word))
            word = []
    return terms[:MAX_TERMS]


def spaced(text: str) -> str:
    """``text`` with each character of an unspaced script set apart as a token of its own."""
    return _UNSPACED.sub(lambda m: f" {m.group(0)} ", text)


def fts5_match(terms: Iterable[str]) -> str | None:
    """A MATCH expression requiring every term (None when there is none).

    Each term is a double-quoted FTS5 string (quotes doubled inside, though
    :func:`search_terms` leaves none): a string is never read as an operator or a column
    filter (SQLite FTS5, section 3.1). Terms in unspaced scripts become phrases of characters.
    """
    parts = []
    for term in terms:
        tokens = spaced(term).split()
        if not tokens:
            continue
        quoted = " ".join(tokens).replace('"', '""')
        parts.append(f'"{quoted}"')
    return " AND ".join(parts) if parts else None


def _texts(value: Any) -> list[str]:
    """Every string of a language map (``{lang: text}`` or ``{lang: [texts]}``)."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            out.extend(_texts(item))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                out.append(item)
    return out


def member_of(entry: Any) -> str | None:
    """The member id of one ``mainEntityOfPage`` entry (the last segment of its provider IRI)."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("provider"), Mapping):
        return None
    provider = str(entry["provider"].get("id") or "").rstrip("/")
    return provider.rsplit("/", 1)[-1] or None


def search_document(record: Mapping[str, Any], vocab: Vocabularies) -> SearchDocument:
    """What ``record`` contributes to the search index (see the module docstring)."""
    labels: list[str] = []
    facets: list[tuple[str, str]] = []
    for facet in ("type", "level", "subject"):
        for item in record.get(FACETS[facet]) or ():
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            facets.append((facet, item["id"]))
            shipped = vocab.concept(item["id"])
            labels.extend(_texts(dict(shipped.pref_label) if shipped else item.get("prefLabel")))
    for item in record.get("audience") or ():  # searched, not a facet
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            shipped = vocab.concept(item["id"])
            labels.extend(_texts(dict(shipped.pref_label) if shipped else item.get("prefLabel")))
    for tag in record.get("inLanguage") or ():
        if isinstance(tag, str) and tag:
            facets.append(("language", tag.split("-")[0].lower()))
    licence = record.get("license")
    if isinstance(licence, Mapping) and isinstance(licence.get("id"), str):
        facets.append(("licence", licence["id"]))
    for entry in record.get("mainEntityOfPage") or ():
        member = member_of(entry)
        if member:
            facets.append(("member", member))
    keywords = _texts(record.get("keywords"))
    return SearchDocument(
        title=spaced("\n".join(_texts(record.get("name")))),
        body=spaced("\n".join([*_texts(record.get("description")), *keywords])),
        concepts=spaced("\n".join(dict.fromkeys(labels))),
        facets=tuple(dict.fromkeys(facets)))
