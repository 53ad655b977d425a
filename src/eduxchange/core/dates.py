"""OAI-PMH datestamps (OAI-PMH 2.0, section 3.3): parse, normalise, format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "DAY",
    "SECONDS",
    "parse_datestamp",
    "format_datestamp",
    "normalize_datestamp",
    "utcnow",
]

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"

_DATESTAMP = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


def parse_datestamp(value: str) -> datetime:
    """Parse a datestamp leniently into an aware UTC datetime.

    Accepts the two granularities of the protocol and what real servers send
    instead (fractional seconds, offsets, a space instead of ``T``).
    Raises :class:`ValueError` for anything else, also for a date that does not
    exist (``2024-02-30``) or that leaves the years 1-9999 once moved to UTC
    (``9999-12-31T23:59:59-14:00``): never :class:`OverflowError`.
    """
    match = _DATESTAMP.match(value)
    if not match:
        raise ValueError(f"not an OAI-PMH datestamp: {value!r}")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        dt = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0),
            int(second or 0), tzinfo=UTC,
        )
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            dt -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except (ValueError, OverflowError) as err:
        raise ValueError(f"datestamp {value!r} is out of range: {err}") from None
    return dt


def format_datestamp(dt: datetime, granularity: str = SECONDS) -> str:
    """Format ``dt`` (UTC) in the repository's granularity (OAI-PMH 3.3.2)."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    # Not strftime: its %Y does not pad years before 1000 ("1-01-01"), which would neither
    # sort nor read back as a datestamp.
    day = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    if "T" not in granularity:
        return day
    return f"{day}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"


_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def normalize_datestamp(value: str) -> str:
    """Return ``value`` as ``YYYY-MM-DDThh:mm:ssZ`` (sortable); unchanged if unparseable."""
    if _CANONICAL.fullmatch(value):
        # Already in that form (the usual case): parsing would give it back, or fail and
        # leave it unchanged. Called for every normalized record.
        return value
    try:
        return format_datestamp(parse_datestamp(value))
    except ValueError:
        return value


def utcnow() -> datetime:
    """The current time, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
