"""Dumps of the unified catalogue, streamed in constant memory.

``ndjson``: one common record (docs/record.md) per line, UTF-8, in catalogue
change order. Other formats (JSON-LD, Turtle, N-Triples, RDF/XML) follow with
the RDF writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO

from .config import Config
from .dates import format_datestamp, parse_datestamp
from .store.base import CatalogStore

__all__ = ["FORMATS", "export"]

FORMATS = ("ndjson",)


def export(
    config: Config,
    store: CatalogStore,
    out: IO[bytes],
    *,
    format: str = "ndjson",  # noqa: A002
    since: str | None = None,
    member: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the catalogue's live records to ``out``; return how many were written.

    ``since`` (any ISO 8601 date or date-time) keeps records changed at or after it;
    ``member`` keeps records that member describes.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; known: {', '.join(FORMATS)}")
    if member is not None:
        config.member(member)
    updated_since = format_datestamp(parse_datestamp(since)) if since else None
    count = 0
    for resource in store.iter_resources(member_id=member, updated_since=updated_since):
        out.write(json.dumps(resource.record, ensure_ascii=False, separators=(",", ":"))
                  .encode("utf-8"))
        out.write(b"\n")
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    return count
