"""Log lines for people or for machines: ``--log-format text`` (default) or ``json``.

``json`` writes one JSON object per line (JSON Lines) on stderr with at least ``time``
(ISO 8601, UTC), ``level``, ``logger`` and ``message``; fields a caller passes as
``extra={"fields": {...}}`` are merged in (``member``, ``status``, ``duration_ms``, ...), so a
log shipper can index them without parsing text.

A formatter of a dozen lines rather than a dependency (python-json-logger): the fields are
few and fixed, and stdlib ``json`` writes them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging", "json_line"]

LOG_FORMATS: Final = ("text", "json")


def json_line(level: str, logger: str, message: str, **fields: Any) -> str:
    """One JSON log line (no newline): the shape :class:`JsonFormatter` writes."""
    entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
             "level": level, "logger": logger, "message": message, **fields}
    return json.dumps(entry, ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """A :class:`logging.Formatter` writing each record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", None) or {})
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json_line(record.levelname.lower(), record.name, record.getMessage(), **fields)


def configure_logging(log_format: str = "text", *, level: int = logging.INFO,
                      stream: TextIO | None = None) -> None:
    """Send the library's log records to ``stream`` (stderr) in ``log_format``.

    Replaces the handlers of the ``eduxchange`` logger (not the root logger's: an application
    embedding the library keeps its own).
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}; known: {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("eduxchange")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
