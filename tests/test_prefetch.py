"""A list's next page is asked for while the caller handles the current one
(:meth:`OAIClient.list_pages`): the member's time and the harvester's overlap, which on a
member far away is most of a harvest's time. The requests, and their order, are the same."""

from __future__ import annotations

import time
from datetime import timedelta

import eduxchange
from eduxchange.core.errors import EndlessListError
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records
from tests.test_catalog import START


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_the_next_page_is_on_its_way_while_the_caller_has_this_one() -> None:
    records = make_records(50, start=START, step=timedelta(minutes=1))
    with serve_faulty(records, page_size=10) as member, \
            eduxchange.OAIClient(member.url) as client:
        got = []
        for n, page in enumerate(client.list_pages("ListRecords", metadata_prefix="oai_dc")):
            got.extend(r.header.identifier for r in page.records)
            if page.token is not None:
                # the request for page n + 2 arrives while page n + 1 is in our hands
                assert _wait_for(lambda: member.request_count == n + 2), member.requests
        assert member.request_count == 5  # never one more than the list has
        assert got == [r.identifier for r in records]
        tokens = [r.get("resumptionToken") for r in member.requests]
        assert tokens[0] is None and all(tokens[1:]) and len(set(tokens)) == 5


def test_a_caller_that_stops_early_leaves_the_client_to_itself() -> None:
    """The request in flight ends before list_pages returns control: the caller's next
    request never shares the connection with it."""
    records = make_records(50, start=START, step=timedelta(minutes=1))
    with serve_faulty(records, page_size=10) as member, \
            eduxchange.OAIClient(member.url) as client:
        for page in client.list_pages("ListRecords", metadata_prefix="oai_dc"):
            break  # the generator is closed here, the second page's request in flight
        assert member.request_count == 2
        assert client.identify().repository_name  # the client works on at once
        assert member.verbs == ["ListRecords", "ListRecords", "Identify"]


def test_a_list_that_must_stop_is_not_asked_for_one_page_more() -> None:
    records = make_records(50, start=START, step=timedelta(minutes=1))
    settings = eduxchange.HarvestSettings(max_pages=2)
    with serve_faulty(records, page_size=10) as member, \
            eduxchange.OAIClient(member.url, settings=settings) as client:
        pages = 0
        try:
            for _page in client.list_pages("ListRecords", metadata_prefix="oai_dc"):
                pages += 1
        except EndlessListError:
            pass
        else:
            raise AssertionError("the page cap did not stop the list")
        assert pages == 2 and member.request_count == 2
