"""The test servers themselves behave like OAI-PMH members (and fail on cue).

These tests double as examples of how the harvester tests use
:mod:`tests.support.pyoai_member` and :mod:`tests.support.faulty`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import requests
from lxml import etree
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, oai_dc_reader
from sickle import Sickle

from tests.support.faulty import (
    DAY,
    ENTITY_BOMB_RESPONSE,
    XXE_RESPONSE,
    retry_after_date,
    serve_faulty,
)
from tests.support.lomgen import LOM_NS, lom_xml, make_records, record_identifier
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord

T0 = datetime(2024, 3, 1, 12, 0, 0)
OAI = {"o": "http://www.openarchives.org/OAI/2.0/"}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every server must have joined all of its threads when its block ends."""
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) <= before


def records(n: int = 25, sets: tuple[str, ...] = ("math", "bio")) -> list[MemberRecord]:
    """``n`` records one hour apart from T0."""
    return make_records(n, start=T0, step=timedelta(hours=1), sets=sets)


def oai(url: str, **params: str) -> etree._Element:
    """One raw OAI-PMH request, parsed safely."""
    if "from_" in params:
        params["from"] = params.pop("from_")
    response = requests.get(url, params=params, timeout=5)
    assert response.status_code == 200
    return etree.fromstring(response.content, SAFE)


def error_code(root: etree._Element) -> str | None:
    """The code of the first ``<error>``, or None."""
    error = root.find("o:error", OAI)
    return None if error is None else error.get("code")


def sickle_ids(url: str, verb: str = "ListIdentifiers", **params: str) -> list[str]:
    """Identifiers of a complete Sickle harvest (ListIdentifiers or ListRecords)."""
    items = getattr(Sickle(url, timeout=5), verb)(metadataPrefix="lom", **params)
    if verb == "ListRecords":
        return [record.header.identifier for record in items]
    return [header.identifier for header in items]


# -- lomgen -------------------------------------------------------------------


def test_lom_records_are_deterministic_and_realistic() -> None:
    assert lom_xml(7) == lom_xml(7)
    lom = etree.fromstring(lom_xml(7, title_lang="de"))
    assert lom.tag == f"{{{LOM_NS}}}lom"
    assert 2000 < len(lom_xml(7)) < 4000
    ns = {"l": LOM_NS}
    assert lom.xpath("l:general/l:title/l:string/@language", namespaces=ns) == ["de"]
    assert "BEGIN:VCARD" in lom.findtext("l:lifeCycle/l:contribute/l:entity", namespaces=ns)
    rs = records(10, sets=("a", "b", "c"))
    assert rs[0].identifier == record_identifier(1) == "oai:example.org:rec-000001"
    assert [r.sets for r in rs[3:5]] == [("a",), ("b", "c")]
    assert rs[1].datestamp - rs[0].datestamp == timedelta(hours=1)


# -- pyoai member -------------------------------------------------------------


def test_pyoai_member_full_harvest_with_sickle() -> None:
    with serve_pyoai_member(records(25), batch_size=10) as member:
        ids = sickle_ids(member.url, "ListRecords")
        assert ids == [record_identifier(i) for i in range(1, 26)]
        tokens = [r for r in member.requests if "resumptionToken" in r]
        assert len(tokens) == 2


def test_pyoai_member_with_pyoai_client_filters_by_date_and_set() -> None:
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    with serve_pyoai_member(records(25), batch_size=4) as member:
        client = Client(member.url, registry)
        assert client.identify().granularity() == "YYYY-MM-DDThh:mm:ssZ"
        headers = list(client.listIdentifiers(
            metadataPrefix="oai_dc", from_=T0 + timedelta(hours=5),
            until=T0 + timedelta(hours=9), set="math"))
        assert [h.identifier() for h in headers] == [record_identifier(i) for i in (7, 9, 10)]
        assert member.requests[-1]["from"] == "2024-03-01T17:00:00Z"
        header, metadata, _ = client.getRecord(metadataPrefix="oai_dc",
                                               identifier=record_identifier(3))
        assert metadata["identifier"][-1] == record_identifier(3)
        assert [s[0] for s in client.listSets()] == ["bio", "math"]


def test_pyoai_member_deletes_updates_and_incremental_harvest() -> None:
    with serve_pyoai_member(records(6)) as member:
        member.backend.delete(record_identifier(2), datestamp=T0 + timedelta(days=1))
        member.backend.update(record_identifier(3), datestamp=T0 + timedelta(days=1, hours=1))
        root = oai(member.url, verb="ListIdentifiers", metadataPrefix="lom",
                   from_="2024-03-02T00:00:00Z")
        headers = root.findall("o:ListIdentifiers/o:header", OAI)
        assert [h.findtext("o:identifier", namespaces=OAI) for h in headers] == [
            record_identifier(2), record_identifier(3)]
        assert [h.get("status") for h in headers] == ["deleted", None]
        assert member.requests[-1] == {"verb": "ListIdentifiers", "metadataPrefix": "lom",
                                       "from": "2024-03-02T00:00:00Z"}

    with serve_pyoai_member(records(3), deleted_record="no") as member:
        member.backend.delete(record_identifier(2))
        assert sickle_ids(member.url) == [record_identifier(1), record_identifier(3)]
        root = oai(member.url, verb="GetRecord", metadataPrefix="lom",
                   identifier=record_identifier(2))
        assert error_code(root) == "idDoesNotExist"


def test_pyoai_member_reports_protocol_errors() -> None:
    with serve_pyoai_member(records(3, sets=())) as member:
        repeated = requests.get(member.url + "?verb=Identify&verb=Identify", timeout=5)
        assert error_code(etree.fromstring(repeated.content, SAFE)) == "badArgument"
        assert repeated.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert error_code(oai(member.url, verb="ListSets")) == "noSetHierarchy"
        assert error_code(oai(member.url, verb="ListRecords", metadataPrefix="marc")) == (
            "cannotDisseminateFormat")
        assert error_code(oai(member.url, verb="ListRecords", metadataPrefix="lom",
                              from_="2030-01-01")) == "noRecordsMatch"
        posted = requests.post(member.url, data={"verb": "Identify"}, timeout=5)
        assert b"<repositoryName>Test member</repositoryName>" in posted.content


# -- faulty server: normal behaviour ------------------------------------------


def test_faulty_full_harvest_and_resumption_token_attributes() -> None:
    with serve_faulty(records(25), page_size=10) as server:
        assert sickle_ids(server.url, "ListRecords") == [record_identifier(i) for i in range(1, 26)]
        assert server.verbs == ["ListRecords"] * 3
        token = server.requests[1]["resumptionToken"]
        assert {"/", "+", ":", "="} <= set(token)  # clients must URL-encode it
        page2 = oai(server.url, verb="ListRecords", resumptionToken=token)
        assert len(page2.findall("o:ListRecords/o:record", OAI)) == 10
        rt = page2.find("o:ListRecords/o:resumptionToken", OAI)
        assert (rt.get("completeListSize"), rt.get("cursor")) == ("25", "10")
        last = oai(server.url, verb="ListRecords", resumptionToken=rt.text)
        assert len(last.findall("o:ListRecords/o:record", OAI)) == 5
        rt = last.find("o:ListRecords/o:resumptionToken", OAI)  # empty on the last page
        assert (rt.text, rt.get("completeListSize"), rt.get("cursor")) == (None, "25", "20")
        wrong_verb = oai(server.url, verb="ListIdentifiers", resumptionToken=token)
        assert error_code(wrong_verb) == "badResumptionToken"


def test_faulty_filters_by_date_set_and_shows_deletes() -> None:
    with serve_faulty(records(10)) as server:
        server.delete(record_identifier(4), datestamp=T0 + timedelta(days=2))
        assert sickle_ids(server.url, **{"from": "2024-03-01T15:00:00Z",
                                         "until": "2024-03-01T18:00:00Z"}) == [
            record_identifier(i) for i in (5, 6, 7)]
        assert sickle_ids(server.url, set="bio") == [
            record_identifier(i) for i in (2, 5, 6, 8, 10, 4)]
        root = oai(server.url, verb="ListRecords", metadataPrefix="lom", from_="2024-03-03")
        record = root.find("o:ListRecords/o:record", OAI)
        assert record.find("o:header", OAI).get("status") == "deleted"
        assert record.find("o:metadata", OAI) is None
        assert error_code(oai(server.url, verb="ListRecords", metadataPrefix="lom",
                              set="physics")) == "noRecordsMatch"
        assert error_code(oai(server.url, verb="ListRecords", metadataPrefix="lom",
                              from_="2024-03-01", until="2024-03-02T00:00:00Z")) == "badArgument"


def test_faulty_day_granularity() -> None:
    with serve_faulty(records(30), granularity=DAY) as server:
        root = oai(server.url, verb="Identify")
        assert root.findtext("o:Identify/o:granularity", namespaces=OAI) == DAY
        assert root.findtext("o:Identify/o:earliestDatestamp", namespaces=OAI) == "2024-03-01"
        root = oai(server.url, verb="ListIdentifiers", metadataPrefix="lom", from_="2024-03-02")
        stamps = root.xpath("//o:datestamp/text()", namespaces=OAI)
        assert stamps and set(stamps) == {"2024-03-02"}
        assert error_code(oai(server.url, verb="ListIdentifiers", metadataPrefix="lom",
                              from_="2024-03-02T00:00:00Z")) == "badArgument"


def test_faulty_serves_metadata_bytes_verbatim() -> None:
    rs = records(3)
    rs[1].metadata = rs[1].metadata.replace(b"</lom>", b"\xff\x0c</lom>")
    with serve_faulty(rs) as server:
        body = requests.get(server.url, params={"verb": "ListRecords", "metadataPrefix": "lom"},
                            timeout=5).content
        assert b"\xff\x0c</lom>" in body
        assert rs[0].metadata in body and rs[2].metadata in body
        dc = oai(server.url, verb="ListRecords", metadataPrefix="oai_dc")
        assert len(dc.findall("o:ListRecords/o:record", OAI)) == 3


# -- faulty server: faults ----------------------------------------------------


def test_fail_next_with_retry_after() -> None:
    with serve_faulty(records(3)) as server:
        server.fail_next(2, status=503, retry_after="2")
        server.fail_next(1, status=503, retry_after=retry_after_date(30))
        server.fail_next(1, status=500)
        seen = [requests.get(server.url, params={"verb": "Identify"}, timeout=5)
                for _ in range(5)]
        assert [r.status_code for r in seen] == [503, 503, 503, 500, 200]
        assert seen[0].headers["Retry-After"] == "2"
        assert seen[2].headers["Retry-After"].endswith(" GMT")
        assert server.request_count == 5


def test_faults_can_target_a_verb_and_resumed_requests() -> None:
    with serve_faulty(records(25), page_size=10) as server:
        server.fail_next(1, status=503, retry_after="0", verb="ListRecords", resumed=True)
        oai(server.url, verb="Identify")
        first = oai(server.url, verb="ListRecords", metadataPrefix="lom")
        token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=OAI)
        page2 = [requests.get(server.url, params={"verb": "ListRecords", "resumptionToken": token},
                              timeout=5).status_code for _ in range(2)]
        assert page2 == [503, 200]


def test_reset_delay_and_die_after_pages() -> None:
    with serve_faulty(records(25), page_size=10) as server:
        server.reset_next(1)
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url, params={"verb": "Identify"}, timeout=5)
        server.delay_next(1, 2.0)
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            requests.get(server.url, params={"verb": "Identify"}, timeout=0.2)
        assert time.monotonic() - started < 1.5

        server.die_after_pages(1)
        oai(server.url, verb="ListRecords", metadataPrefix="lom")
        for _ in range(2):
            with pytest.raises(requests.ConnectionError):
                requests.get(server.url, params={"verb": "Identify"}, timeout=5)
        server.heal()
        assert sickle_ids(server.url) == [record_identifier(i) for i in range(1, 26)]


def test_body_next_serves_hostile_xml_verbatim() -> None:
    with serve_faulty(records(3)) as server:
        server.body_next(XXE_RESPONSE)
        server.body_next(ENTITY_BOMB_RESPONSE)
        server.body_next(b"\x00garbage", status=200, content_type="text/html")
        bodies = [requests.get(server.url, params={"verb": "ListRecords", "metadataPrefix": "lom"},
                               timeout=5) for _ in range(3)]
        assert [b.content for b in bodies] == [XXE_RESPONSE, ENTITY_BOMB_RESPONSE, b"\x00garbage"]
        assert bodies[2].headers["Content-Type"] == "text/html"
        # A safe parser keeps the entity unexpanded instead of reading the file.
        root = etree.fromstring(XXE_RESPONSE, SAFE)
        assert "root:" not in "".join(root.itertext())


def test_token_faults_expire_repeat_and_empty_pages() -> None:
    with serve_faulty(records(25), page_size=10) as server:
        def first_token() -> str:
            root = oai(server.url, verb="ListIdentifiers", metadataPrefix="lom")
            return str(root.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=OAI))

        token = first_token()
        server.expire_tokens()
        expired = oai(server.url, verb="ListIdentifiers", resumptionToken=token)
        assert error_code(expired) == "badResumptionToken"

        token = first_token()
        server.repeat_token()
        for _ in range(3):
            again = oai(server.url, verb="ListIdentifiers", resumptionToken=token)
            assert again.findtext("o:ListIdentifiers/o:resumptionToken",
                                  namespaces=OAI) == token
        server.heal()

        server.empty_pages_forever()
        for _ in range(3):
            root = oai(server.url, verb="ListIdentifiers", resumptionToken=token)
            assert root.findall("o:ListIdentifiers/o:header", OAI) == []
            new = root.findtext("o:ListIdentifiers/o:resumptionToken", namespaces=OAI)
            assert new and new != token
            token = new
