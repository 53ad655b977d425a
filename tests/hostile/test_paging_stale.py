"""Older versions never replace newer ones (issue 9, item 4): across runs and within a page,
the newest datestamp wins, and what was ignored is logged as a ``stale-record`` event."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime, timedelta

import eduxchange
from tests.conftest import ConfigMaker
from tests.support.hostile_paging import serve_hostile
from tests.support.lomgen import lom_xml, make_records
from tests.support.records import MemberRecord

Y2024, Y2020, Y2019 = datetime(2024, 3, 1, 12), datetime(2020, 3, 1, 12), datetime(2019, 3, 1, 12)


def records(n: int) -> list[MemberRecord]:
    return make_records(n, start=datetime(2023, 1, 1), step=timedelta(minutes=1))


def one(config: eduxchange.Config, **kw: object) -> eduxchange.HarvestResult:
    (result,) = eduxchange.harvest(config, normalize=False, **kw)  # type: ignore[arg-type]
    return result


def stored(config: eduxchange.Config, identifier: str) -> tuple[str, bool, bytes]:
    with eduxchange.open_store(config) as store:
        (rec,) = [r for r in store.iter_records("m") if r.identifier == identifier]
        return rec.datestamp, rec.deleted, rec.raw or b""


def events(config: eduxchange.Config, code: str) -> list[tuple[str, str]]:
    db = sqlite3.connect(config.catalog.store)
    try:
        return [(r[0], r[1]) for r in db.execute(
            "SELECT identifier, message FROM events WHERE member_id = 'm' AND code = ? "
            "ORDER BY id", (code,))]
    finally:
        db.close()


def test_an_older_version_in_a_later_run_is_ignored(make_config: ConfigMaker) -> None:
    recs = records(5)
    target = recs[2].identifier
    with serve_hostile(recs) as server:
        server.update(target, datestamp=Y2024, metadata=lom_xml(2024))
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).ok
        assert stored(config, target)[0] == "2024-03-01T12:00:00Z"
        for older, n in ((Y2020, 2020), (Y2019, 2019)):
            server.update(target, datestamp=older, metadata=lom_xml(n))
            result = one(config, full=True)
            assert result.ok, result.error
            assert result.stale == 1 and result.updated == 0
            assert any(i.code == "stale-record" and i.identifier == target for i in result.issues)
        datestamp, deleted, raw = stored(config, target)
        assert (datestamp, deleted) == ("2024-03-01T12:00:00Z", False)
        assert b"2024-03-01T12:00:00Z" in raw
        logged = events(config, "stale-record")
        assert [ident for ident, _ in logged] == [target, target]
        assert "2019-03-01T12:00:00Z" in logged[1][1] and "2024-03-01T12:00:00Z" in logged[1][1]
        # A newer version still replaces it.
        server.update(target, datestamp=datetime(2025, 1, 1), metadata=lom_xml(2025))
        newer = one(config, full=True)
        assert newer.updated == 1 and newer.stale == 0
        assert stored(config, target)[0] == "2025-01-01T00:00:00Z"


def test_within_a_page_the_newest_copy_wins(make_config: ConfigMaker) -> None:
    recs = records(4)
    target = "oai:example.org:dup"
    copies = [MemberRecord(identifier=target, datestamp=when, metadata=lom_xml(when.year))
              for when in (Y2024, Y2020, Y2019)]  # served in this order, in one page
    with serve_hostile([recs[0], *copies, *recs[1:]]) as server:
        server.keep_list_order = True
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok, result.error
        assert result.new == 5 and result.stale == 2
        assert stored(config, target)[0] == "2024-03-01T12:00:00Z"
        assert [ident for ident, _ in events(config, "stale-record")] == [target, target]


def test_within_a_page_an_equal_datestamp_lets_the_later_copy_win(
        make_config: ConfigMaker) -> None:
    target = "oai:example.org:same"
    first = MemberRecord(identifier=target, datestamp=Y2024, metadata=lom_xml(1))
    second = dataclasses.replace(first, sets=("resent",))
    with serve_hostile([first, second]) as server:
        server.keep_list_order = True
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok and result.new == 1 and result.stale == 0
        with eduxchange.open_store(config) as store:
            (rec,) = list(store.iter_records("m"))
        assert rec.sets == ("resent",)


def test_an_older_deletion_does_not_delete_a_newer_record(make_config: ConfigMaker) -> None:
    recs = records(3)
    target = recs[0].identifier
    with serve_hostile(recs) as server:
        server.update(target, datestamp=Y2024)
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).ok
        server.delete(target, datestamp=Y2020)
        result = one(config, full=True)
        assert result.ok and result.stale == 1 and result.deleted == 0
        assert stored(config, target)[:2] == ("2024-03-01T12:00:00Z", False)
        server.delete(target, datestamp=datetime(2025, 1, 1))
        assert one(config, full=True).deleted == 1
        assert stored(config, target)[1] is True


def test_a_version_dated_in_the_future_does_not_block_corrections(
        make_config: ConfigMaker) -> None:
    # A member that once sent a record dated 2999 by mistake must be able to correct it,
    # or that record would be frozen for good.
    recs = records(3)
    target = recs[0].identifier
    with serve_hostile(recs) as server:
        server.update(target, datestamp=datetime(2999, 1, 1))
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).ok
        server.update(target, datestamp=Y2024)
        result = one(config, full=True)
        assert result.ok and result.updated == 1 and result.stale == 0
        assert stored(config, target)[0] == "2024-03-01T12:00:00Z"
