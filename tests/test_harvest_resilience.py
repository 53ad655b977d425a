"""Resilience and security, each against a real (fault-injecting) OAI-PMH server on loopback."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

import eduxchange
from eduxchange.harvesting.harvester import ProgressEvent
from tests.conftest import ConfigMaker
from tests.support.faulty import (
    DAY,
    ENTITY_BOMB_RESPONSE,
    XXE_RESPONSE,
    FaultyServer,
    retry_after_date,
    serve_faulty,
)
from tests.support.lomgen import make_records

START = datetime(2024, 1, 1)


def records(n: int, step: timedelta = timedelta(minutes=1)) -> list:  # type: ignore[type-arg]
    return make_records(n, start=START, step=step)


def stored_ids(config: eduxchange.Config, member: str) -> list[str]:
    with eduxchange.open_store(config) as store:
        return [r.identifier for r in store.iter_records(member) if not r.deleted]


def one(config: eduxchange.Config, **kw: object) -> eduxchange.HarvestResult:
    (result,) = eduxchange.harvest(config, **kw)  # type: ignore[arg-type]
    return result


# -- HTTP faults -----------------------------------------------------------------------------

@pytest.mark.parametrize("retry_after", ["1", "date"])
def test_503_with_retry_after_is_waited_out(make_config: ConfigMaker, retry_after: str) -> None:
    with serve_faulty(records(150), page_size=100) as server:
        value = retry_after_date(2) if retry_after == "date" else retry_after
        server.fail_next(1, status=503, retry_after=value, verb="ListRecords", resumed=True)
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        started = time.monotonic()
        result = one(config)
        assert result.ok, result.error
        assert time.monotonic() - started >= 0.9  # the Retry-After, not the short test backoff
        assert result.new == 150
        assert any(i.code == "retry" and "503" in i.message for i in result.issues)


def test_transient_failures_are_retried_with_backoff(make_config: ConfigMaker) -> None:
    with serve_faulty(records(250), page_size=100) as server:
        server.fail_next(2, status=500, verb="ListRecords")
        server.reset_next(1, verb="ListRecords", resumed=True)
        server.fail_next(1, status=502, verb="Identify")
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok, result.error
        assert sorted(stored_ids(config, "m")) == sorted(r.identifier for r in server.records)
        assert sum(i.code == "retry" for i in result.issues) == 4


def test_timeouts_are_retried(make_config: ConfigMaker) -> None:
    with serve_faulty(records(20)) as server:
        server.delay_next(1, 3.0, verb="ListRecords")
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "timeout": 0.5}])
        result = one(config)
        assert result.ok and result.new == 20
        assert any("Timeout" in i.message for i in result.issues)


def test_retries_are_bounded_and_the_failure_is_clear(make_config: ConfigMaker) -> None:
    with serve_faulty(records(20)) as server:
        server.fail_next(50, status=500)
        config = make_config([{"id": "m", "endpoint": server.url, "max_retries": 2}])
        result = one(config)
        assert result.state == "failed"
        assert "HTTP 500" in (result.error or "") and "gave up after 3 attempts" in (result.error or "")
        assert server.request_count == 3


def test_politeness_limits_requests_per_second(make_config: ConfigMaker) -> None:
    with serve_faulty(records(50), page_size=10) as server:
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "requests_per_second": 10}])
        started = time.monotonic()
        result = one(config)
        elapsed = time.monotonic() - started
        assert result.ok and result.requests == 6  # Identify + 5 pages
        assert elapsed >= 0.5 - 0.05  # 6 requests, at least 0.1 s apart


def test_a_response_larger_than_the_limit_is_refused(make_config: ConfigMaker) -> None:
    with serve_faulty(records(100)) as server:
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_response_mb": 0.05}])
        result = one(config)
        assert result.state == "failed" and "max_response_mb" in (result.error or "")


# -- bad XML -------------------------------------------------------------------------------

def test_bad_bytes_are_repaired_and_an_unreadable_record_is_quarantined(
        make_config: ConfigMaker) -> None:
    recs = records(30)
    recs[3].metadata = recs[3].metadata.replace(b"</string>", b"\x0b\x1f</string>", 1)
    recs[4].metadata = recs[4].metadata.replace(b"</string>", "caf\u00e9".encode("cp1252") + b"</string>", 1)
    broken = recs[7].metadata.replace(b"</string>", b"</strin>", 1)
    recs[7].metadata = broken
    with serve_faulty(recs, page_size=100) as server:
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok, result.error
        assert (result.new, result.quarantined) == (29, 1)
        held = stored_ids(config, "m")
        assert recs[3].identifier in held and recs[4].identifier in held
        assert recs[7].identifier not in held
        with eduxchange.open_store(config) as store:
            (entry,) = store.quarantine("m")
            cafe = next(r for r in store.iter_records("m") if r.identifier == recs[4].identifier)
        assert entry.identifier == recs[7].identifier and broken in (entry.raw or b"")
        assert "unreadable record" in entry.reason
        assert "café".encode() in (cafe.raw or b"")
        (status,) = eduxchange.member_statuses(config)
        assert status.quarantined == 1 and status.state == "ok"

        # The member fixes the record: it arrives readable and leaves the quarantine.
        server.update(recs[7].identifier, metadata=records(30)[7].metadata)
        result = one(config)
        assert result.updated == 0 and result.new == 1
        (status,) = eduxchange.member_statuses(config)
        assert status.quarantined == 0 and status.records == 30


def test_garbage_instead_of_xml_fails_the_member_and_keeps_what_was_committed(
        make_config: ConfigMaker) -> None:
    with serve_faulty(records(250), page_size=100) as server:
        server.body_next(b"<html><body>Proxy error</body></html>", verb="ListRecords",
                         resumed=True, content_type="text/html")
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.state == "failed" and "not an OAI-PMH response" in (result.error or "")
        assert len(stored_ids(config, "m")) == 100
        result = one(config)  # the next run resumes after the committed page
        assert result.ok and result.mode == "resumed" and result.new == 150


@pytest.mark.parametrize("body", [XXE_RESPONSE, ENTITY_BOMB_RESPONSE], ids=["xxe", "bomb"])
def test_hostile_xml_fails_that_member_cleanly_and_fast(make_config: ConfigMaker,
                                                        body: bytes) -> None:
    with serve_faulty(records(10)) as bad, serve_faulty(records(10)) as good:
        bad.body_next(body, verb="ListRecords")
        config = make_config([{"id": "bad", "endpoint": bad.url, "metadata_prefix": "lom"},
                              {"id": "good", "endpoint": good.url, "metadata_prefix": "lom"}])
        started = time.monotonic()
        bad_result, good_result = eduxchange.harvest(config)
        assert time.monotonic() - started < 5
        assert bad_result.state == "failed" and "DOCTYPE" in (bad_result.error or "")
        assert good_result.ok and good_result.new == 10
        assert stored_ids(config, "bad") == []


# -- interrupted harvests and expiring tokens ----------------------------------------------

def test_a_lost_connection_resumes_from_the_last_committed_page(make_config: ConfigMaker) -> None:
    with serve_faulty(records(450), page_size=100) as server:
        server.die_after_pages(2)
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_retries": 1}])
        first = one(config)
        assert first.state == "failed" and first.new == 200
        (status,) = eduxchange.member_statuses(config)
        assert status.state == "failed" and status.resumable and status.records == 200

        server.heal()
        before = server.request_count
        second = one(config)
        assert second.ok and second.mode == "resumed"
        assert (second.new, second.unchanged) == (250, 0)  # nothing fetched twice
        resumed = [r for r in server.requests[before:] if r.get("verb") == "ListRecords"]
        assert "resumptionToken" in resumed[0]
        ids = stored_ids(config, "m")
        assert len(ids) == len(set(ids)) == 450

        third = one(config)  # and then incremental again
        assert third.mode == "incremental" and third.new == 0


def test_an_expired_token_on_resume_falls_back_to_listing_by_datestamp(
        make_config: ConfigMaker) -> None:
    with serve_faulty(records(450), page_size=100) as server:
        server.die_after_pages(2)
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_retries": 0}])
        assert one(config).state == "failed"
        server.heal()
        server.expire_tokens()
        before = server.request_count
        result = one(config)
        assert result.ok, result.error
        assert any(i.code == "token-expired" for i in result.issues)
        relist = [r for r in server.requests[before:]
                  if r.get("verb") == "ListRecords" and "from" in r]
        # From the last committed datestamp (the list came in datestamp order), not the start.
        assert relist and relist[0]["from"] == "2024-01-01T03:19:00Z"  # record 200
        assert result.new == 250 and result.unchanged >= 1
        ids = stored_ids(config, "m")
        assert len(ids) == len(set(ids)) == 450


def test_tokens_expiring_mid_list_do_not_lose_the_harvest(make_config: ConfigMaker) -> None:
    with serve_faulty(records(400, step=timedelta(days=1)), page_size=50) as server:
        def expire(event: ProgressEvent) -> None:
            if event.phase == "page":
                server.expire_tokens()  # every token dies before it is used

        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        (result,) = eduxchange.harvest(config, progress=expire)
        assert result.ok, result.error
        assert any(i.code == "window-split" for i in result.issues)
        ids = stored_ids(config, "m")
        assert len(ids) == len(set(ids)) == 400


def test_a_repeated_token_is_detected(make_config: ConfigMaker) -> None:
    with serve_faulty(records(300), page_size=100) as server:
        server.repeat_token()
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.state == "failed" and "again" in (result.error or "")
        assert server.request_count < 10


def test_endless_empty_pages_are_detected(make_config: ConfigMaker) -> None:
    with serve_faulty(records(300), page_size=100) as server:
        server.empty_pages_forever()
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                               "max_empty_pages": 3}])
        result = one(config)
        assert result.state == "failed" and "empty pages" in (result.error or "")
        assert server.request_count < 10


# -- protocol details ------------------------------------------------------------------------

def test_day_granular_member_gets_day_granular_from(make_config: ConfigMaker) -> None:
    with serve_faulty(records(30, step=timedelta(hours=5)), granularity=DAY) as server:
        config = make_config([{"id": "d", "endpoint": server.url}])
        first = one(config)
        assert first.ok and first.new == 30 and first.metadata_prefix == "lom"
        second = one(config)
        assert second.ok, second.error
        froms = [r["from"] for r in server.requests if r.get("verb") == "ListRecords" and "from" in r]
        assert len(froms) == 1 and len(froms[0]) == 10  # YYYY-MM-DD
        assert second.new == 0  # noRecordsMatch (or only unchanged): a successful, empty harvest


def test_no_records_match_is_a_successful_empty_harvest(make_config: ConfigMaker) -> None:
    with serve_faulty([]) as server:
        config = make_config([{"id": "e", "endpoint": server.url, "metadata_prefix": "lom"}])
        result = one(config)
        assert result.ok and result.received == 0 and result.pages == 0


def test_transient_deletions_are_reconciled(make_config: ConfigMaker) -> None:
    recs = records(40)
    with serve_faulty(recs, deleted_record="transient", page_size=15) as server:
        config = make_config([{"id": "t", "endpoint": server.url, "metadata_prefix": "lom"}])
        assert one(config).new == 40
        server.purge(recs[0].identifier)
        server.delete(recs[1].identifier)
        result = one(config, reconcile=True)
        assert result.ok and result.deleted + result.retired == 2
        (status,) = eduxchange.member_statuses(config)
        assert (status.records, status.deleted) == (38, 2)


def test_members_are_harvested_concurrently(make_config: ConfigMaker) -> None:
    servers = [serve_faulty(records(20), page_size=10) for _ in range(3)]
    running: list[FaultyServer] = [s.__enter__() for s in servers]
    try:
        for server in running:
            server.delay_next(3, 0.6, verb="ListRecords")
        config = make_config([{"id": f"m{i}", "endpoint": s.url, "metadata_prefix": "lom"}
                              for i, s in enumerate(running)], harvest={"concurrency": 3})
        started = time.monotonic()
        results = eduxchange.harvest(config)
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results)
        slowest = max(r.seconds for r in results)
        assert slowest >= 1.2
        assert elapsed < slowest * 1.5  # not the sum (about 3 x 1.2 s)
    finally:
        for s in servers:
            s.__exit__(None, None, None)


def test_sets_configured_for_a_member_without_sets_say_what_to_do(
        make_config: ConfigMaker) -> None:
    with serve_faulty(records(5)) as server:  # no record is in a set: noSetHierarchy
        config = make_config([{"id": "s", "endpoint": server.url, "metadata_prefix": "lom",
                               "sets": ["math"]}])
        result = one(config)
        assert result.state == "failed"
        assert "remove 'sets' for this member" in (result.error or "")
