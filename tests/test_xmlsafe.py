"""Safe parsing and repair: hostile XML is refused, common faults are mended."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from eduxchange.core import xmlsafe
from eduxchange.core.errors import HostileXMLError

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&xxe;</responseDate></OAI-PMH>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&lol9;</responseDate></OAI-PMH>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE OAI-PMH SYSTEM "http://127.0.0.1:9/evil.dtd">
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"/>"""


@pytest.mark.parametrize("body", [XXE, BOMB, EXTERNAL_DTD], ids=["xxe", "bomb", "external-dtd"])
def test_hostile_documents_are_refused_fast(body: bytes) -> None:
    start = time.monotonic()
    with pytest.raises(HostileXMLError):
        xmlsafe.parse(body)
    assert time.monotonic() - start < 0.5


def test_harmless_doctype_and_entities_in_text_pass() -> None:
    root = xmlsafe.parse(b"<!DOCTYPE a><a>&amp; &lt;!ENTITY x SYSTEM 'y'&gt;</a>")
    assert root.text == "& <!ENTITY x SYSTEM 'y'>"


def test_parser_does_not_resolve_entities_even_without_the_prolog_check() -> None:
    # Belt and braces: the parser itself is configured never to expand entities.
    root = etree.fromstring(XXE, parser=xmlsafe._parser())
    assert "root:" not in etree.tostring(root).decode()


def test_repair_removes_control_characters_and_references() -> None:
    body = b"<a>bad\x0bchar and &#x1; and &#12; kept &#x9;</a>"
    repaired, notes = xmlsafe.repair(body)
    assert xmlsafe.parse(repaired).text == "badchar and  and  kept \t"
    assert len(notes) == 2


def test_repair_reads_stray_latin1_bytes_as_cp1252() -> None:
    body = "<a>caf\u00e9 ".encode() + b"na\xefve \x93quoted\x94</a>"
    repaired, notes = xmlsafe.repair(body)
    assert xmlsafe.parse(repaired).text == "café naïve \u201cquoted\u201d"
    assert notes == ["invalid UTF-8 byte sequences read as Windows-1252"]


def test_repair_leaves_other_declared_encodings_to_the_parser() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'.encode("latin-1")
    repaired, notes = xmlsafe.repair(body)
    assert repaired == body and notes == []
    assert xmlsafe.parse(repaired).text == "café"


# U+FFFE and U+FFFF are also outside XML's Char production but never seen in the wild;
# repair does not touch them, so they are left out here.
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                                      exclude_characters="\ufffe\uffff")))
def test_repair_always_yields_parseable_text(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    repaired, _ = xmlsafe.repair(f"<a>{escaped}</a>".encode())
    root = xmlsafe.parse(repaired)
    allowed = "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)
    # XML normalises CR and CRLF to LF (XML 1.0, 2.11).
    expected = allowed.replace("\r\n", "\n").replace("\r", "\n")
    assert (root.text or "") == expected
