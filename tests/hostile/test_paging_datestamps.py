"""Datestamps out of range (issue 9, item 3): one bad record is quarantined with the reason,
the rest of its page is stored; a bad ``responseDate`` never fails a member."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import eduxchange
from eduxchange.core.dates import normalize_datestamp, parse_datestamp
from tests.conftest import ConfigMaker
from tests.support.hostile_paging import serve_hostile
from tests.support.lomgen import make_records

EXTREMES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00")


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


def one(config: eduxchange.Config, **kw: object) -> eduxchange.HarvestResult:
    (result,) = eduxchange.harvest(config, normalize=False, **kw)  # type: ignore[arg-type]
    return result


@pytest.mark.parametrize("value", EXTREMES)
def test_an_out_of_range_datestamp_is_a_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_datestamp(value)
    assert normalize_datestamp(value) == value


_EDGE_YEARS = st.sampled_from([0, 1, 2, 1970, 2024, 9998, 9999]) | st.integers(0, 9999)


@given(year=_EDGE_YEARS, month=st.integers(0, 13), day=st.integers(0, 32),
       hour=st.integers(0, 24), minute=st.integers(0, 60),
       zone=st.sampled_from(["", "Z", "+14:00", "-14:00", "+01:00", "-0130", "+99:99"]))
@example(year=9999, month=12, day=31, hour=23, minute=59, zone="-14:00")
@example(year=1, month=1, day=1, hour=0, minute=0, zone="+01:00")
@example(year=1, month=1, day=1, hour=0, minute=0, zone="")
def test_parse_datestamp_raises_nothing_but_value_error(
        year: int, month: int, day: int, hour: int, minute: int, zone: str) -> None:
    value = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:59{zone}"
    try:
        parsed = parse_datestamp(value)
    except ValueError:
        assert normalize_datestamp(value) == value
    else:
        p = parsed
        assert normalize_datestamp(value) == (
            f"{p.year:04d}-{p.month:02d}-{p.day:02d}T{p.hour:02d}:{p.minute:02d}:{p.second:02d}Z")
        assert parse_datestamp(normalize_datestamp(value)) == parsed  # reads back


def test_extreme_datestamps_are_quarantined_and_the_page_is_stored(
        make_config: ConfigMaker) -> None:
    recs = records(12)
    bad = [recs[3].identifier, recs[8].identifier]
    with serve_hostile(recs, page_size=100) as server:
        server.raw_datestamps = dict(zip(bad, EXTREMES, strict=True))
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok, result.error
        assert (result.new, result.quarantined) == (10, 2)
        with eduxchange.open_store(config) as store:
            stored = {r.identifier for r in store.iter_records("m")}
            assert stored == {r.identifier for r in recs} - set(bad)
            entries = {q.identifier: q for q in store.quarantine("m")}
        assert set(entries) == set(bad)
        for ident, value in zip(bad, EXTREMES, strict=True):
            assert value in entries[ident].reason and "out of range" in entries[ident].reason
            assert value.encode() in (entries[ident].raw or b"")
        # A later run is not failed by them either, and they stay quarantined.
        again = one(config, full=True)
        assert again.ok, again.error
        assert again.unchanged == 10 and again.quarantined == 2


def test_a_fixed_datestamp_resolves_the_quarantine(make_config: ConfigMaker) -> None:
    recs = records(5)
    with serve_hostile(recs) as server:
        server.raw_datestamps = {recs[0].identifier: EXTREMES[0]}
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).quarantined == 1
        server.raw_datestamps.clear()
        fixed = one(config, full=True)
        assert fixed.ok and fixed.new == 1
        with eduxchange.open_store(config) as store:
            assert store.quarantine("m") == []


def test_an_unreadable_header_in_reconciliation_is_not_retired(
        make_config: ConfigMaker) -> None:
    recs = records(5)
    with serve_hostile(recs) as server:
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).new == 5
        server.raw_datestamps = {recs[0].identifier: EXTREMES[1]}
        result = one(config, reconcile=True)  # ListIdentifiers: recs[0]'s header is unreadable
        assert result.ok, result.error
        assert result.retired == 0
        with eduxchange.open_store(config) as store:
            assert store.counts("m")["records"] == 5


def test_a_bad_response_date_in_a_list_page_is_a_warning(make_config: ConfigMaker) -> None:
    with serve_hostile(records(30), page_size=10) as server:
        server.response_date = EXTREMES[0]
        server.response_date_verbs = {"ListRecords"}
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok and result.new == 30
        warnings = [i for i in result.issues if i.code == "bad-response-date"]
        assert len(warnings) == 1  # once per run, not once per page
        assert "ListRecords" in warnings[0].message and EXTREMES[0] in warnings[0].message


@pytest.mark.parametrize("value", [*EXTREMES, "not a date", "9999-12-31T23:59:59Z"])
def test_a_bad_response_date_in_identify_falls_back_to_our_clock(
        make_config: ConfigMaker, value: str) -> None:
    with serve_hostile(records(30), page_size=10) as server:
        server.response_date = value  # on Identify and on every list page
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok, result.error
        assert result.new == 30
        warnings = [i for i in result.issues if i.code == "bad-response-date"]
        assert len(warnings) == 1 and value in warnings[0].message
        with eduxchange.open_store(config) as store:
            next_from = store.member_state("m").next_from
        # Our clock, not year 9999 (that would skip every later change) nor an error.
        assert next_from is not None and next_from[:4] == str(datetime.now().year)
        db = sqlite3.connect(config.catalog.store)
        try:
            codes = [r[0] for r in db.execute("SELECT code FROM events WHERE member_id = 'm'")]
        finally:
            db.close()
        assert "bad-response-date" in codes
        # The next (incremental) run works from there.
        assert one(config).ok
