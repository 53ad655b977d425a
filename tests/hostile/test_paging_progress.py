"""Lists that never end (issue 9, item 2): a member handing out a fresh resumption token on
every page, forever, is stopped with a clear error, and what was committed stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.harvesting.client import ListGuard
from eduxchange.core.config import HarvestSettings
from eduxchange.core.errors import EndlessListError
from eduxchange.core.models import Header, Page, Quarantined, RawRecord, ResumptionToken
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker, write_config
from tests.support.hostile_paging import serve_hostile
from tests.support.lomgen import make_records


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


def one(config: eduxchange.Config, **kw: object) -> eduxchange.HarvestResult:
    (result,) = eduxchange.harvest(config, normalize=False, **kw)  # type: ignore[arg-type]
    return result


def stored_ids(config: eduxchange.Config, member: str) -> set[str]:
    with eduxchange.open_store(config) as store:
        return {r.identifier for r in store.iter_records(member)}


def test_a_list_that_goes_round_in_circles_is_stopped(make_config: ConfigMaker) -> None:
    # 250 records, then the offset wraps to the first page with a fresh token, forever.
    # (A wide list_size_margin leaves this to the no-progress rule alone.)
    with serve_hostile(records(250), page_size=50) as server:
        server.cycle_forever()
        config = make_config([{"id": "loop", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_empty_pages": 2, "list_size_margin": 10}])
        result = one(config)
        assert result.state == "failed"
        error = result.error or ""
        assert "'loop'" in error and "already listed" in error and "max_empty_pages" in error
        # 5 pages of the list, then 3 pages with nothing new: stopped at the third.
        assert server.pages_served == 5 + 3
        assert stored_ids(config, "loop") == {r.identifier for r in server.records}
        assert result.new == 250


def test_more_records_than_announced_is_stopped(make_config: ConfigMaker) -> None:
    with serve_hostile(records(100), page_size=50) as server:
        server.endless_records(announce=100)
        config = make_config([{"id": "grow", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.state == "failed"
        error = result.error or ""
        assert "'grow'" in error and "completeListSize" in error and "100" in error
        assert "list_size_margin" in error
        # 100 announced + 10 % + one page (50) = 160: the fourth page (200) is past it.
        assert server.pages_served == 4
        assert len(stored_ids(config, "grow")) == 200  # every page received was committed


def test_the_list_size_margin_is_configurable(make_config: ConfigMaker) -> None:
    with serve_hostile(records(100), page_size=50) as server:
        server.endless_records(announce=100)
        config = make_config([{"id": "grow", "endpoint": server.url, "metadata_prefix": "lom",
                               "list_size_margin": 1.0}])
        result = one(config)
        assert result.state == "failed" and "completeListSize" in (result.error or "")
        # 100 + 100 % + 50 = 250: stopped after the sixth page (300 records).
        assert server.pages_served == 6


def test_a_page_cap_stops_a_list_that_announces_nothing(make_config: ConfigMaker) -> None:
    with serve_hostile(records(100), page_size=20) as server:
        server.endless_records(announce=None)  # no completeListSize: only the cap can tell
        config = make_config([{"id": "cap", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_pages": 7}])
        result = one(config)
        assert result.state == "failed"
        error = result.error or ""
        assert "'cap'" in error and "max_pages" in error and "7 pages" in error
        assert server.pages_served == 7
        assert result.pages == 7 and len(stored_ids(config, "cap")) == 140


def test_the_page_cap_is_per_list_and_a_short_list_passes(make_config: ConfigMaker) -> None:
    with serve_hostile(records(100), page_size=20) as server:
        config = make_config([{"id": "ok", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_pages": 5}])
        result = one(config)
        assert result.ok, result.error
        assert result.new == 100 and result.pages == 5


def test_a_stopped_list_is_not_resumed_from_its_token(make_config: ConfigMaker) -> None:
    # The next run must not continue the endless list where it stopped: it starts over,
    # stops again at the same bound, and what the first run committed is still there.
    with serve_hostile(records(60), page_size=20) as server:
        server.endless_records(announce=None)
        config = make_config([{"id": "cap", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_pages": 4}])
        first = one(config)
        assert first.state == "failed"
        with eduxchange.open_store(config) as store:
            assert store.member_state("cap").resume is None
        kept = stored_ids(config, "cap")
        second = one(config)
        assert second.state == "failed" and second.mode != "resumed"
        assert second.pages == 4
        assert kept <= stored_ids(config, "cap")


def test_the_page_cap_spans_a_resumed_list(make_config: ConfigMaker) -> None:
    # A run cut off mid-list keeps its page count with the resume point: the resumed run
    # stops at max_pages for the whole list, not max_pages more.
    with serve_hostile(records(20), page_size=20) as server:
        server.endless_records(announce=None)
        server.die_after_pages(3)
        config = make_config([{"id": "cap", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_pages": 5, "max_retries": 1}])
        first = one(config)
        assert first.state == "failed" and first.pages == 3
        with eduxchange.open_store(config) as store:
            resume = store.member_state("cap").resume
        assert resume is not None and resume["pages"] == 3 and resume["received"] == 60
        server.heal()
        second = one(config)
        assert second.mode == "resumed" and second.state == "failed"
        assert "max_pages" in (second.error or "") and "5 pages" in (second.error or "")
        assert second.pages == 2


def test_the_reconciliation_list_is_bounded_too(make_config: ConfigMaker) -> None:
    with serve_hostile(records(60), page_size=20) as server:
        config = make_config([{"id": "r", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_empty_pages": 1}])
        assert one(config).ok
        server.cycle_forever()  # now ListIdentifiers (and ListRecords) go round forever
        result = one(config, reconcile=True)
        assert result.state == "failed" and "ListIdentifiers" in (result.error or "")
        assert server.pages_served < 20


def test_an_endless_list_of_sets_is_stopped(make_config: ConfigMaker) -> None:
    recs = make_records(10, start=datetime(2024, 1, 1), step=timedelta(minutes=1),
                        sets=("maths", "physics"))
    with serve_hostile(recs) as server:
        server.endless_sets()
        config = make_config([{"id": "s", "endpoint": server.url, "metadata_prefix": "lom",
                               "sets": ["maths"], "max_empty_pages": 2}])
        result = one(config)
        assert result.state == "failed"
        assert "ListSets" in (result.error or "") and "max_empty_pages" in (result.error or "")
        assert server.pages_served == 4  # the first page, then three with no new set


def test_new_harvest_keys_are_checked(make_config: ConfigMaker) -> None:
    for key, value in (("max_pages", -1), ("max_pages", 2.5), ("list_size_margin", -0.5),
                       ("list_size_margin", "ten")):
        try:
            make_config([{"id": "m", "endpoint": "http://127.0.0.1:9/oai", key: value}])
        except eduxchange.ConfigError as err:
            assert key in str(err) and "'m'" in str(err)
        else:
            raise AssertionError(f"{key} = {value!r} was accepted")
    config = make_config([{"id": "m", "endpoint": "http://127.0.0.1:9/oai", "max_pages": 0}],
                         harvest={"list_size_margin": 0.5})
    assert config.members[0].settings.max_pages == 0
    assert config.members[0].settings.list_size_margin == 0.5


def test_harvest_command_exits_1_and_says_what_to_configure(tmp_path: Path) -> None:
    with serve_hostile(records(40), page_size=20) as server:
        server.endless_records(announce=None)
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "endless", "endpoint": server.url, "metadata_prefix": "lom"}],
            harvest={"max_pages": 3})
        result = CliRunner().invoke(main, ["harvest", "-c", str(config), "--no-normalize"])
        assert result.exit_code == 1, result.output
        assert "endless" in result.output and "max_pages" in result.output


def _page(ids: list[str | None], *, token: str | None = "t", size: int | None = None
          ) -> Page:
    recs = tuple(RawRecord(header=Header(identifier=i, datestamp="2024-01-01"), raw=b"<r/>")
                 for i in ids if i is not None)
    bad = tuple(Quarantined(reason="unreadable", raw=b"<") for i in ids if i is None)
    return Page(records=recs, quarantined=bad, complete_list_size=size,
                token=ResumptionToken(value=token) if token else None)


def test_list_guard_rules() -> None:
    settings = HarvestSettings(max_empty_pages=1, max_pages=0, list_size_margin=0.0)
    guard = ListGuard(settings, label="member 'g'", verb="ListRecords")
    for page in (_page(["a", "b"]), _page(["b", "a"]), _page([None, None]), _page(["a"])):
        guard.observe(page)  # the unreadable page is not held against the list
        guard.check()
    guard.observe(_page(["b"]))
    with pytest.raises(EndlessListError, match="member 'g': ListRecords sent 2 pages"):
        guard.check()
    # The last page of a list never stops it, whatever it did.
    ended = ListGuard(settings)
    for page in (_page(["a"]), _page(["a"]), _page(["a"], token=None, size=1)):
        ended.observe(page)
        ended.check()
    # completeListSize: announced 4, margin 0, page length 2: 6 records pass, 8 do not.
    sized = ListGuard(settings)
    for ids in (["a", "b"], ["c", "d"], ["e", "f"]):
        sized.observe(_page(ids, size=4))
        sized.check()
    sized.observe(_page(["g", "h"], size=4))
    with pytest.raises(EndlessListError, match="completeListSize=4 but has sent 8 records"):
        sized.check()
