"""OAI-PMH response parsing, on the specification's examples and real repositories' responses.

The samples are read from the standards folder (tests/support/standards.py); without it, the tests
that need one skip, and the hand-written pages below still run.
"""

from __future__ import annotations

import pytest

from eduxchange.core import errors
from eduxchange.harvesting import response as parse
from eduxchange.core.errors import MalformedResponseError, NoRecordsMatch
from tests.support.standards import standard


def fixture(name: str) -> bytes:
    """A response under ``oai_responses/`` of the standards folder (skips where it is absent)."""
    return standard(f"oai_responses/{name}").read_bytes()


def test_identify_spec_example() -> None:
    info = parse.parse_identify(fixture("spec_examples/ex-sec4.2.xml"))
    assert info.repository_name == "Library of Congress Open Archive Initiative Repository 1"
    assert info.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert info.deleted_record == "transient"
    assert info.earliest_datestamp == "1990-02-01T12:00:00Z"
    assert info.protocol_version == "2.0"
    assert info.response_date == "2002-02-08T12:00:01Z"


def test_identify_dspace() -> None:
    info = parse.parse_identify(fixture("pyoai_dspace_erasmus/fake1_00001.xml"))
    assert info.repository_name == "Erasmus University : Research Online"
    assert info.deleted_record in ("no", "transient", "persistent")


def test_list_records_spec_example_with_token_and_deleted_record() -> None:
    page = parse.parse_list_page(fixture("spec_examples/ex-sec4.5a.xml"))
    assert [r.identifier for r in page.records] == [
        "oai:arXiv.org:hep-th/9901001", "oai:arXiv.org:hep-th/9901007"]
    assert [r.header.deleted for r in page.records] == [False, True]
    assert b"<metadata" not in page.records[1].raw
    assert page.token is None
    assert page.quarantined == ()


def test_raw_record_keeps_the_record_element_as_received() -> None:
    page = parse.parse_list_page(fixture("sickle/ListRecords.xml"))
    deleted, live = page.records
    assert deleted.header.deleted and b"<metadata" not in deleted.raw
    assert live.raw.startswith(b"<record") and live.raw.endswith(b"</record>")
    assert b"<dc:title>" in live.raw


def test_resumption_token_attributes() -> None:
    page = parse.parse_list_page(fixture("sickle/ListRecords.xml"))
    assert page.token is not None and page.token.value == "ListRecords2.xml"
    assert page.token.complete_list_size == 8 and page.token.cursor == 0


@pytest.mark.parametrize("token", [b"<resumptionToken/>", b'<resumptionToken completeListSize="3" cursor="2"></resumptionToken>', b""])
def test_empty_or_missing_resumption_token_ends_the_list(token: bytes) -> None:
    body = fixture("sickle/ListRecords.xml")
    start = body.index(b"<resumptionToken")
    end = body.index(b"</resumptionToken>") + len(b"</resumptionToken>")
    page = parse.parse_list_page(body[:start] + token + body[end:])
    assert page.token is None and len(page.records) == 2


def test_list_identifiers_spec_example() -> None:
    page = parse.parse_list_page(fixture("spec_examples/ex-sec4.3a.xml"), "ListIdentifiers")
    assert len(page.records) >= 2
    assert any(r.header.deleted for r in page.records)


def test_real_dspace_page_of_81_records() -> None:
    page = parse.parse_list_page(fixture("pyoai_dspace_erasmus/fake2_00002.xml"))
    assert len(page.records) == 81
    assert all(r.header.identifier.startswith("hdl:1765/") for r in page.records)


@pytest.mark.parametrize(
    ("name", "exc"),
    [
        ("spec_examples/ex-sec3.6a.xml", errors.BadVerb),
        ("spec_examples/ex-sec4.1b.xml", errors.IdDoesNotExist),
        ("spec_examples/ex-sec4.1c.xml", errors.CannotDisseminateFormat),
        ("spec_examples/ex-sec4.3c.xml", errors.NoRecordsMatch),
        ("spec_examples/ex-sec4.5c.xml", errors.BadArgument),
        ("spec_examples/ex-sec4.6b.xml", errors.NoSetHierarchy),
        ("sickle/badResumptionToken.xml", errors.BadResumptionToken),
    ],
)
def test_oai_errors_map_to_classes(name: str, exc: type[errors.OAIError]) -> None:
    with pytest.raises(exc) as info:
        parse.parse_root(fixture(name))
    assert isinstance(info.value, errors.OAIError)
    assert info.value.code == exc.code


def test_no_records_match_is_raised_from_list_page() -> None:
    with pytest.raises(NoRecordsMatch):
        parse.parse_list_page(fixture("spec_examples/ex-sec4.3c.xml"))


def test_unknown_error_code_is_kept() -> None:
    err = errors.oai_error("somethingNew", "hi")
    assert type(err) is errors.OAIError and err.code == "somethingNew"


def test_metadata_formats_and_sets() -> None:
    formats = parse.parse_metadata_formats(fixture("sickle/ListMetadataFormats.xml"))
    assert "oai_dc" in {f.prefix for f in formats}
    assert all(f.namespace for f in formats)
    sets, token = parse.parse_sets(fixture("spec_examples/ex-sec4.6a.xml"))
    assert {s.spec for s in sets} >= {"music", "music:(muzak)"}
    assert token is None


def test_get_record_utf8() -> None:
    record = parse.parse_get_record(fixture("sickle/GetRecord_utf8test.xml"))
    assert record.identifier == "oai:test.example.com:1996652"


def test_not_oai_pmh_is_malformed() -> None:
    with pytest.raises(MalformedResponseError):
        parse.parse_list_page(b"broken xml")  # all that Sickle's ListRecordsBroken.xml sample holds
    with pytest.raises(MalformedResponseError):
        parse.parse_root(b"<html><body>Service Unavailable</body></html>")


def test_broken_dspace_identify_is_not_silently_accepted() -> None:
    # fake3 wraps the response in a <bogus> element: no <Identify> where it belongs.
    with pytest.raises(MalformedResponseError):
        parse.parse_identify(fixture("pyoai_dspace_erasmus/fake3_00001.xml"))


PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-05-01T10:00:00Z</responseDate>
<request verb="ListRecords">http://x/oai</request>
<ListRecords>
<record><header><identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp></header>
<metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title><string>One</string></title></general></lom></metadata></record>
<record><header><identifier>oai:x:2</identifier><datestamp>2024-01-02</datestamp></header>
<metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title><string>Two & broken</string></title></general></lom></metadata></record>
<record><header><identifier>oai:x:3</identifier><datestamp>2024-01-03</datestamp><setSpec>a</setSpec></header>
<metadata><marc:record xmlns:marc="http://www.loc.gov/MARC21/slim"><marc:leader>x</marc:leader></marc:record></metadata></record>
<record><header status="deleted"><identifier>oai:x:4</identifier><datestamp>2024-01-04</datestamp></header></record>
<resumptionToken completeListSize="10" cursor="0">tok-1</resumptionToken>
</ListRecords></OAI-PMH>"""


def test_broken_record_is_quarantined_and_the_rest_of_the_page_goes_on() -> None:
    page = parse.parse_list_page(PAGE)
    assert [r.identifier for r in page.records] == ["oai:x:1", "oai:x:3", "oai:x:4"]
    assert page.records[2].header.deleted
    assert page.records[1].header.sets == ("a",)
    assert b"marc:record" in page.records[1].raw
    (bad,) = page.quarantined
    assert bad.identifier == "oai:x:2"
    assert b"Two & broken" in bad.raw  # the raw bytes, exactly as received
    assert "unreadable record" in bad.reason
    assert page.token is not None and page.token.value == "tok-1"
    assert page.complete_list_size == 10
    assert page.response_date == "2024-05-01T10:00:00Z"
    assert any(i.code == "page-not-well-formed" for i in page.issues)


def test_record_without_header_fields_is_quarantined() -> None:
    body = PAGE.replace(b"Two & broken", b"Two").replace(
        b"<identifier>oai:x:3</identifier>", b"")
    page = parse.parse_list_page(body)
    assert [r.identifier for r in page.records] == ["oai:x:1", "oai:x:2", "oai:x:4"]
    assert page.quarantined[0].reason == "header has no identifier"


def test_control_characters_are_repaired_not_quarantined() -> None:
    body = PAGE.replace(b"Two & broken", b"Two\x01\x0b")
    page = parse.parse_list_page(body)
    assert len(page.records) == 4 and not page.quarantined
    assert any(i.code == "repaired-xml" for i in page.issues)
