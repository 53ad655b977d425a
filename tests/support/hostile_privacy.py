"""Member records that carry persons' contact data where members really put it.

E-mail addresses and phone numbers in DC name strings, in LOM vCards (FN, N, ORG, EMAIL, TEL),
in LRMI author strings and objects, and in free text; and, next to them, digits that are *no*
phone numbers (years, ranges, ISBNs) that must survive. The records are served by
:func:`tests.support.faulty.serve_faulty` (metadata copied verbatim, whatever its format).

:data:`PLANTED_EMAILS` and :data:`PLANTED_PHONES` list everything planted, for scans.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from tests.support.records import MemberRecord

__all__ = ["PLANTED_EMAILS", "PLANTED_PHONES", "contact_records", "phone_pattern", "EMAIL_SCAN",
           "PHONE_SCAN"]

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
LOM = "http://ltsc.ieee.org/xsd/LOM"

PLANTED_EMAILS = ("jane@example.org", "john@example.org", "jim@example.org", "pub@example.org",
                  "jane2@example.org", "fn@example.org", "org@example.org", "card@example.org",
                  "help@example.org", "kw@example.org", "lrmi@example.org", "ann@example.org",
                  "rights@example.org")
PLANTED_PHONES = ("+33 1 23 45 67 89", "+49 30 9876543", "+1 416 555 0134", "06 12 34 56 78",
                  "+44 20 7946 0958", "030/987 654 32")

#: Oracles for scans, written apart from the code under test: anything shaped like an address,
#: also percent- or entity-encoded, and an international number.
EMAIL_SCAN = re.compile(r"[\w.+-]+(?:@|＠|%40|&#64;|&#x40;)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
PHONE_SCAN = re.compile(r"(?<![\w+])\+\d{1,3}[ ./-]?\(?\d[\d ()./-]{5,}\d")


def phone_pattern(phone: str) -> re.Pattern[str]:
    """The digits of ``phone`` with any separators between them (a reformatted number too)."""
    digits = [d for d in phone if d.isdigit()]
    return re.compile(r"(?<!\d)" + r"[^\d\w]{0,3}".join(digits) + r"(?!\d)")


def _dc(i: int) -> bytes:
    e = escape
    return (
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}">'
        f"<dc:title>Algebra 2019-2020, chapters 12-18 (ISBN 978-3-16-148410-0) #{i}</dc:title>"
        f"<dc:creator>{e('Doe, Jane (jane@example.org)')}</dc:creator>"
        f"<dc:creator>{e('mailto:john@example.org')}</dc:creator>"
        f"<dc:contributor>{e('Jim <jim@example.org>')}</dc:contributor>"
        f"<dc:publisher>ACME Press, pub@example.org, +33 1 23 45 67 89</dc:publisher>"
        f"<dc:description>Questions: help@example.org or Tel. 06 12 34 56 78 "
        f"(1998-2024 edition, 250 pages).</dc:description>"
        f"<dc:subject>algebra; kw@example.org; +49 30 9876543</dc:subject>"
        f"<dc:rights>© 2020 Jane Doe, rights@example.org</dc:rights>"
        f"<dc:identifier>https://oer.example.org/dc/{i}</dc:identifier>"
        f"<dc:language>en</dc:language>"
        f"</oai_dc:dc>").encode()


def _vcard(*lines: str) -> str:
    return "\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD"])


def _contribute(role: str, card: str) -> str:
    return (f"<contribute><role><source>LOMv1.0</source><value>{role}</value></role>"
            f"<entity>{escape(card)}</entity></contribute>")


def _lom(i: int) -> bytes:
    author = _vcard("FN:Jane Doe <fn@example.org>", "N:Doe;Jane;;;",
                    "EMAIL;TYPE=INTERNET:card@example.org", "TEL;TYPE=WORK:+44 20 7946 0958",
                    "ADR;TYPE=WORK:;;1 Main Street;Springfield;;12345;", "ORG:Springfield College")
    publisher = _vcard("ORG:org@example.org")  # an ORG that is only an address names nobody
    editor = _vcard("FN:", "N:Roe;Ann (ann@example.org);;;", "ORG:Example University")
    other = _vcard("FN:ACME Press, pub@example.org, +33 1 23 45 67 89", "KIND:org")
    return (
        f'<lom xmlns="{LOM}"><general>'
        f"<identifier><catalog>URI</catalog><entry>https://oer.example.org/lom/{i}</entry>"
        f"</identifier>"
        f'<title><string language="en">Geometry 1990-2010, ISBN 0-306-40615-2 #{i}</string></title>'
        f'<language>en</language>'
        f'<description><string language="en">Write to help@example.org or call '
        f"+49 30 9876543.</string></description>"
        f'<keyword><string language="en">geometry</string></keyword>'
        f'<keyword><string language="en">kw@example.org</string></keyword>'
        f"</general><lifeCycle>"
        f"{_contribute('author', author)}{_contribute('publisher', publisher)}"
        f"{_contribute('editor', editor)}{_contribute('publisher', other)}"
        f"</lifeCycle>"
        f"<technical><location>https://oer.example.org/lom/{i}</location></technical>"
        f"</lom>").encode()


def _lrmi(i: int) -> bytes:
    document = {
        "@context": "https://schema.org/",
        "@type": "LearningResource",
        "name": f"Statistics, grades 9-12, 2021 #{i}",
        "url": f"https://oer.example.org/lrmi/{i}",
        "inLanguage": "en",
        "description": "Contact lrmi@example.org, +1 416 555 0134.",
        "author": ["Jane <jane2@example.org>",
                   {"@type": "Person", "name": "Ann Roe (ann@example.org)",
                    "email": "mailto:ann@example.org", "telephone": "030/987 654 32"}],
        "publisher": {"@type": "Organization", "name": "ACME Press, pub@example.org"},
    }
    return f"<lrmi>{escape(json.dumps(document))}</lrmi>".encode()


def contact_records(n: int = 2, *, start: datetime = datetime(2024, 1, 1)) -> list[MemberRecord]:
    """``n`` records of each kind (oai_dc, LOM, LRMI), one minute apart."""
    makers = (("dc", _dc), ("lom", _lom), ("lrmi", _lrmi))
    records: list[MemberRecord] = []
    for i in range(n):
        for kind, make in makers:
            records.append(MemberRecord(
                identifier=f"oai:privacy.test:{kind}-{i}",
                datestamp=start + timedelta(minutes=len(records)),
                metadata=make(i)))
    return records
