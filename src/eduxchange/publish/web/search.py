"""``/search``: reading the request into a :class:`~eduxchange.store.search.SearchQuery`, and
the JSON answer for machines (the HTML page is :meth:`eduxchange.publish.web.pages.Pages.search`).

Parameters (documented in docs/republishing.md): ``q`` the text; one parameter per facet of
:data:`~eduxchange.store.search.FACETS` (``language``, ``type``, ``level``, ``subject``,
``licence``, ``member``), repeatable (OR within a facet, AND across facets); ``page`` (1-based);
``size`` (results per page, JSON and HTML alike). Anything out of bounds is a
:class:`BadSearch` that the server answers with 400 and the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from ...core.errors import EduxchangeError
from ...store.search import FACETS, MAX_QUERY_CHARS, SearchQuery, SearchResult, member_of

__all__ = ["BadSearch", "DEFAULT_PAGE_SIZE", "MAX_PAGE", "MAX_PAGE_SIZE", "search_json",
           "search_query", "search_url"]

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
#: Deep pages cost a scan for nobody: 1000 pages of 100 is more than any visitor reads.
MAX_PAGE: Final = 1000
_MAX_VALUES: Final = 20  # values of one facet filter
_MAX_VALUE_CHARS: Final = 500


class BadSearch(EduxchangeError):
    """A search request out of bounds (the message says which parameter and why)."""


def _number(params: Mapping[str, Sequence[str]], name: str, default: int, top: int) -> int:
    values = params.get(name)
    if not values or not values[-1].strip():
        return default
    text = values[-1].strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= top:
        raise BadSearch(f"{name} must be a whole number from 1 to {top}, not {text[:40]!r}")
    return int(text)


def search_query(params: Mapping[str, Sequence[str]]) -> SearchQuery:
    """The search a request's query parameters ask for (:class:`BadSearch` when out of bounds)."""
    texts = params.get("q") or [""]
    text = texts[-1]
    if len(text) > MAX_QUERY_CHARS:
        raise BadSearch(f"q is {len(text)} characters long; at most {MAX_QUERY_CHARS} are read")
    filters: dict[str, tuple[str, ...]] = {}
    for facet in FACETS:
        values = tuple(dict.fromkeys(v.strip() for v in params.get(facet, ()) if v.strip()))
        if len(values) > _MAX_VALUES:
            raise BadSearch(f"at most {_MAX_VALUES} values of {facet} at once")
        if any(len(v) > _MAX_VALUE_CHARS for v in values):
            raise BadSearch(f"a value of {facet} is over {_MAX_VALUE_CHARS} characters")
        if values:
            filters[facet] = values
    return SearchQuery(text=text.strip(), filters=filters,
                       page=_number(params, "page", 1, MAX_PAGE),
                       page_size=_number(params, "size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))


def search_url(base: str, query: SearchQuery, *, page: int | None = None,
               filters: Mapping[str, tuple[str, ...]] | None = None,
               extra: Sequence[tuple[str, str]] = ()) -> str:
    """The ``/search`` URL of ``query``, with another page or other filters."""
    pairs: list[tuple[str, str]] = [("q", query.text)] if query.text else []
    for facet, values in (query.filters if filters is None else filters).items():
        pairs.extend((facet, v) for v in values)
    number = query.page if page is None else page
    if number != 1:
        pairs.append(("page", str(number)))
    if query.page_size != DEFAULT_PAGE_SIZE:
        pairs.append(("size", str(query.page_size)))
    pairs.extend(extra)
    return f"{base}search" + (f"?{urlencode(pairs)}" if pairs else "")


def page_count(result: SearchResult, query: SearchQuery) -> int:
    """How many pages the result has (at least one, the one saying nothing was found)."""
    return max(1, math.ceil(result.total / max(1, query.page_size)))


def search_json(result: SearchResult, query: SearchQuery, *, base: str) -> dict[str, Any]:
    """The JSON answer: the query read back, the page of results, facet counts, page links."""
    pages = page_count(result, query)
    results = []
    for hit in result.hits:
        record = hit.record
        licence = record.get("license")
        results.append({
            "id": hit.resource_id, "score": round(hit.score, 4),
            "name": record.get("name") or {}, "description": record.get("description") or {},
            "url": record.get("url"), "inLanguage": record.get("inLanguage") or [],
            "license": licence.get("id") if isinstance(licence, Mapping) else None,
            "members": sorted({m for m in map(member_of, record.get("mainEntityOfPage") or ())
                               if m}),
        })
    return {
        "query": query.text, "filters": {k: list(v) for k, v in query.filters.items()},
        "page": query.page, "pageSize": query.page_size, "pages": pages, "total": result.total,
        "results": results,
        "facets": {name: [{"value": f.value, "count": f.count} for f in counts]
                   for name, counts in result.facets.items()},
        "prev": search_url(base, query, page=query.page - 1) if query.page > 1 else None,
        "next": search_url(base, query, page=query.page + 1) if query.page < pages else None,
    }
