"""The prolog check is sound: a DOCTYPE or ENTITY in the prolog is refused whatever precedes it.

Issue 9, item 6: a comment holding ``<a`` before the DOCTYPE made the old byte search
take the comment for the root element and wave the DOCTYPE through. The check now reads
the prolog token by token in the document's own encoding; libxml2 itself (through lxml,
with DTD reporting on) is the oracle of what a parser would have seen.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import eduxchange
from eduxchange.core import xmlsafe
from eduxchange.core.errors import HostileXMLError
from tests.conftest import ConfigMaker
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

ENTITY_DTD = '<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
BODY = ('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>&xxe;</responseDate></OAI-PMH>")

BYPASSES = {
    # the reported bypass: '<a' in a comment looked like the root element
    "comment-with-<a": f'<?xml version="1.0"?>\n<!-- see <a href="x"> -->\n{ENTITY_DTD}{BODY}',
    "pi-with-<a": f'<?xml version="1.0"?><?note <a?>{ENTITY_DTD}{BODY}',
    "comment-with-gt-and-<a": f"<!-- > <b> <a -->\n\n<!-- again -->{ENTITY_DTD}{BODY}",
    "bom-and-whitespace": f"\ufeff \r\n\t<!-- <x -->{ENTITY_DTD}{BODY}",
    "external-dtd-after-comment": f'<!--<a-->\n<!DOCTYPE OAI-PMH SYSTEM "http://127.0.0.1:9/x.dtd">{BODY}',
    "public-id-after-pi": f'<?pi <z?><!DOCTYPE OAI-PMH PUBLIC "-//x//y" "x.dtd">{BODY}',
    "lower-case-doctype": f'<!--<a--><!doctype OAI-PMH [<!ENTITY xxe "x">]>{BODY}',
    "entity-outside-doctype": f'<!--<a--><!ENTITY xxe "x">{BODY}',
    "empty-internal-subset": f"<!--<a--><!DOCTYPE OAI-PMH []>{BODY}",
}


@pytest.mark.parametrize("text", BYPASSES.values(), ids=BYPASSES.keys())
def test_a_dtd_after_comments_or_pis_is_refused(text: str) -> None:
    with pytest.raises(HostileXMLError):
        xmlsafe.check_prolog(text.encode())
    with pytest.raises(HostileXMLError):
        xmlsafe.parse(text.encode())


ENCODINGS = {
    # encoding -> the XML declaration that goes with it (None: a BOM says it all)
    "utf-16": None,                      # BOM
    "utf-16-le": "UTF-16LE",             # no BOM: found from '<\0?\0'
    "utf-16-be": "UTF-16BE",
    "utf-32": None,
    "utf-8-sig": None,
    "utf-7": "UTF-7",                    # '<' is '+ADw-': no '<!DOCTYPE' bytes at all
    "cp037": "IBM037",                   # EBCDIC
    "shift_jis": "Shift_JIS",
    "gb18030": "GB18030",
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_dtd_in_any_encoding_is_refused(encoding: str) -> None:
    declared = ENCODINGS[encoding]
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    word = "café" if encoding == "cp037" else "説明"
    body = (decl + f"<!-- {word} <a --> " + ENTITY_DTD + BODY).encode(encoding)
    with pytest.raises(HostileXMLError):
        xmlsafe.check_prolog(body)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "shift_jis", "gb18030"])
def test_a_harmless_document_in_that_encoding_still_parses(encoding: str) -> None:
    declared = {"shift_jis": "Shift_JIS", "gb18030": "GB18030"}.get(encoding)
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    body = (decl + "<!-- 説明 <a --><!DOCTYPE a>"
            "<a>&lt;!DOCTYPE x [&lt;!ENTITY y 'z'&gt;]&gt; 説明</a>").encode(encoding)
    root = xmlsafe.parse(body)
    assert root.text == "<!DOCTYPE x [<!ENTITY y 'z'>]> 説明"


def test_an_encoding_that_cannot_be_checked_is_refused() -> None:
    body = b'<?xml version="1.0" encoding="x-no-such-codec"?><!DOCTYPE a [<!ENTITY e "x">]><a/>'
    with pytest.raises(HostileXMLError, match="x-no-such-codec"):
        xmlsafe.check_prolog(body)


def test_hostile_looking_text_inside_comments_and_pis_passes() -> None:
    body = (b'<?xml version="1.0"?><!-- <!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]> -->'
            b'<?pi <!ENTITY f "g"> ?><!DOCTYPE r><r>ok</r>')
    assert xmlsafe.parse(body).text == "ok"


@pytest.mark.parametrize("filler", ["<!--" + "<a " * 4_000_000 + "-->", " \n" * 6_000_000,
                                    "<?pi " + "<a " * 4_000_000 + "?>",
                                    "stray " * 2_000_000],
                         ids=["comment", "whitespace", "pi", "stray-text"])
def test_a_megabytes_long_prolog_is_scanned_fast(filler: str) -> None:
    body = (filler + ENTITY_DTD + BODY).encode()
    started = time.monotonic()
    with pytest.raises(HostileXMLError):
        xmlsafe.check_prolog(body)
    assert time.monotonic() - started < 2


def test_the_parser_never_reads_a_doctype_outside_the_prolog() -> None:
    # What the check relies on: after the root element, or after stray text, libxml2
    # stops with an error instead of reading a DOCTYPE.
    for body in (b'<r/><!DOCTYPE x [<!ENTITY e "boom">]>',
                 b'junk<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'):
        with pytest.raises((etree.XMLSyntaxError, HostileXMLError)):
            xmlsafe.parse(body)


# -- property: the check refuses exactly the prologs that carry a DTD ---------------------

_TEXT = st.lists(st.sampled_from(list("ab <>!?-[]'\"&;é") + ["<a", "<!DOCTYPE x [",
                                                             "<!ENTITY e 'v'>", "]>"]),
                 max_size=12).map("".join)
_COMMENT = _TEXT.filter(lambda t: "--" not in t and not t.endswith("-")).map(
    lambda t: f"<!--{t}-->")
_PI = _TEXT.filter(lambda t: "?>" not in t).map(lambda t: f"<?pi {t}?>")
_SPACE = st.sampled_from([" ", "\n", "\r\n", "\t", ""])
_MISC = st.lists(st.one_of(_COMMENT, _PI, _SPACE), max_size=5)
_DANGEROUS = st.sampled_from([
    '<!DOCTYPE r [<!ENTITY e "x">]>', '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd">',
    '<!DOCTYPE r PUBLIC "-//x//y" "x.dtd">', '<!DOCTYPE r [\n<!ENTITY % p "x">\n]>',
    '<!DOCTYPE r [<!ELEMENT r ANY>]>'])
_DOCTYPE = st.one_of(st.none(), st.just("<!DOCTYPE r>"), _DANGEROUS)
_ENCODING = st.sampled_from([("utf-8", None), ("utf-8-sig", None), ("utf-16", None),
                             ("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE"),
                             ("latin-1", "ISO-8859-1"), ("utf-8", "UTF-8")])


def _libxml2_sees_a_dtd(body: bytes) -> bool:
    """The oracle: does libxml2 itself find a DTD with content or an external id?"""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    docinfo = etree.fromstring(body, parser=parser).getroottree().docinfo
    dtd = docinfo.internalDTD
    declared = dtd is not None and (any(True for _ in dtd.iterentities())
                                    or any(True for _ in dtd.iterelements()))
    return bool(declared or docinfo.system_url or docinfo.public_id)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=_MISC, doctype=_DOCTYPE, after=_MISC, encoding=_ENCODING)
def test_the_check_refuses_exactly_the_prologs_with_a_dtd(
        before: list[str], doctype: str | None, after: list[str],
        encoding: tuple[str, str | None]) -> None:
    codec, declared = encoding
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    text = decl + "".join(before) + (doctype or "") + "".join(after) + "<r>t</r>"
    body = text.encode(codec)
    dangerous = doctype is not None and doctype != "<!DOCTYPE r>"
    try:
        xmlsafe.check_prolog(body)
        refused = False
    except HostileXMLError:
        refused = True
    assert refused == dangerous
    if dangerous:
        assert _libxml2_sees_a_dtd(body)  # the case is real: a parser would read that DTD
    else:
        assert xmlsafe.parse(body).text == "t"


# -- the same through a harvest ------------------------------------------------------------

def test_a_member_sending_the_bypass_fails_cleanly(make_config: ConfigMaker) -> None:
    bypass = BYPASSES["comment-with-<a"].replace(
        "<responseDate>&xxe;</responseDate>",
        "<responseDate>2024-01-01T00:00:00Z</responseDate>"
        '<request verb="ListRecords">http://127.0.0.1/oai</request>'
        "<ListRecords><record><header><identifier>oai:x:1</identifier>"
        "<datestamp>2024-01-01T00:00:00Z</datestamp></header><metadata>"
        '<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title>'
        '<string language="en">&xxe;</string></title></general></lom></metadata></record>'
        "</ListRecords>")
    with serve_faulty(make_records(3, start=datetime(2024, 1, 1), step=timedelta(minutes=1))) as server:
        server.body_next(bypass.encode(), verb="ListRecords")
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed" and "DOCTYPE" in (result.error or "")
        with eduxchange.open_store(config) as store:
            assert list(store.iter_records("m")) == []
