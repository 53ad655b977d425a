"""Datestamps and retry timing: pure helpers, checked as properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduxchange.core.dates import DAY, SECONDS, format_datestamp, normalize_datestamp, parse_datestamp
from eduxchange.harvesting.transport import backoff_delay, parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", "2024-03-05T00:00:00Z"),
        ("2024-03-05T10:20:30Z", "2024-03-05T10:20:30Z"),
        ("2024-03-05T10:20:30.123Z", "2024-03-05T10:20:30Z"),  # DSpace
        ("2024-03-05T12:20:30+02:00", "2024-03-05T10:20:30Z"),
        ("2024-03-05 10:20", "2024-03-05T10:20:00Z"),
    ],
)
def test_lenient_parsing(value: str, expected: str) -> None:
    assert normalize_datestamp(value) == expected


def test_garbage_is_refused_by_parse_and_kept_by_normalize() -> None:
    with pytest.raises(ValueError):
        parse_datestamp("yesterday")
    assert normalize_datestamp("yesterday") == "yesterday"


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_format_parse_round_trip(dt: datetime) -> None:
    dt = dt.replace(microsecond=0)
    assert parse_datestamp(format_datestamp(dt, SECONDS)) == dt
    day = format_datestamp(dt, DAY)
    assert len(day) == 10 and parse_datestamp(day) == dt.replace(hour=0, minute=0, second=0)


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@given(st.integers(min_value=0, max_value=40), st.floats(min_value=0.01, max_value=10),
       st.floats(min_value=0.1, max_value=600))
def test_backoff_grows_and_is_bounded(attempt: int, base: float, cap: float) -> None:
    delay = backoff_delay(attempt, base, cap, random.Random(attempt))
    ceiling = min(cap, base * 2**attempt)
    assert ceiling / 2 <= delay <= ceiling


def test_day_granularity_formatting_is_inclusive_of_the_day() -> None:
    dt = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert format_datestamp(dt, DAY) == "2024-02-29"
    assert format_datestamp(dt + timedelta(seconds=1), DAY) == "2024-03-01"
