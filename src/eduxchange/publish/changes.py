"""The catalogue's change feed as ActivityStreams 2.0, in the shape of IIIF Change Discovery 1.0.

Pure functions from change-log rows to JSON dicts; no I/O. The feed is an ``OrderedCollection``
whose pages are fixed windows of the change counter ``seq``: page ``n`` holds the changes with
``n * size < seq <= (n + 1) * size``, oldest first. A change never moves to another page, so
every page before the last is final (cacheable for long); only the last page grows, and gains a
``next`` link when a newer page starts.

A consumer starts at ``last`` and walks ``prev``, newest to oldest, until it reaches an activity
it has already processed (IIIF Change Discovery 1.0, section 3 "Consuming the activity stream").
Each activity's ``id`` ends in ``#{seq}``, so "already processed" is exact even when many changes
share one ``endTime`` second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONTEXT",
    "ACTIVITY_TYPES",
    "OBJECT_TYPE",
    "Change",
    "page_count",
    "page_of",
    "page_window",
    "collection",
    "page",
    "activity",
]

#: IIIF Change Discovery API 1.0, section 2.1: the JSON-LD context of the collection and pages.
CONTEXT = "http://iiif.io/api/discovery/1/context.json"

#: Change-log kinds -> ActivityStreams activity types (IIIF Discovery 1.0, section 2.3).
ACTIVITY_TYPES = {"create": "Create", "update": "Update", "delete": "Delete"}

#: The ``type`` of every activity's ``object``: a catalogue record.
OBJECT_TYPE = "LearningResource"


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One row of the catalogue's change log."""

    seq: int
    resource_id: str
    kind: str  # "create" | "update" | "delete"
    at: str  # ISO 8601, UTC (``...Z``)


def page_count(max_seq: int, size: int) -> int:
    """How many pages a feed whose newest change is ``max_seq`` has (at least one, maybe empty)."""
    return max(1, -(-max_seq // size))


def page_of(seq: int, size: int) -> int:
    """The (0-based) page holding change ``seq``."""
    return (seq - 1) // size


def page_window(number: int, size: int) -> tuple[int, int]:
    """The inclusive ``seq`` range of page ``number``."""
    return number * size + 1, (number + 1) * size


def _ref(url: str, type_: str) -> dict[str, str]:
    return {"id": url, "type": type_}


def collection(*, collection_url: str, page_url: str, total: int, pages: int) -> dict[str, Any]:
    """The ``OrderedCollection`` (IIIF Discovery 1.0, section 2.1).

    ``page_url`` is a template with ``{n}`` for the page number.
    """
    return {
        "@context": CONTEXT,
        "id": collection_url,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": _ref(page_url.format(n=0), "OrderedCollectionPage"),
        "last": _ref(page_url.format(n=pages - 1), "OrderedCollectionPage"),
    }


def activity(change: Change, *, collection_url: str) -> dict[str, Any]:
    """One activity (IIIF Discovery 1.0, section 2.3): ``type``, ``object``, ``endTime``."""
    return {
        "id": f"{collection_url}#{change.seq}",
        "type": ACTIVITY_TYPES.get(change.kind, "Update"),
        "object": {"id": change.resource_id, "type": OBJECT_TYPE},
        "endTime": change.at,
    }


def page(number: int, changes: Sequence[Change], *, collection_url: str, page_url: str,
         start_index: int, pages: int) -> dict[str, Any]:
    """An ``OrderedCollectionPage`` (IIIF Discovery 1.0, section 2.2), oldest change first.

    ``start_index`` is the 0-based position of the page's first change in the whole feed;
    ``pages`` is the current page count (it decides whether there is a ``next``).
    """
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": page_url.format(n=number),
        "type": "OrderedCollectionPage",
        "partOf": _ref(collection_url, "OrderedCollection"),
        "startIndex": start_index,
    }
    if number > 0:
        body["prev"] = _ref(page_url.format(n=number - 1), "OrderedCollectionPage")
    if number + 1 < pages:
        body["next"] = _ref(page_url.format(n=number + 1), "OrderedCollectionPage")
    body["orderedItems"] = [activity(c, collection_url=collection_url)
                            for c in sorted(changes, key=lambda c: c.seq)]
    return body
