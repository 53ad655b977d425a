"""Members for the normalization hardening tests: poison records among good ones, and
LRMI records whose URLs and DOIs make resources overlap across members.

Everything is served by :func:`tests.support.faulty.serve_faulty` on loopback; the records
here are only the bytes that go inside ``<metadata>``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import eduxchange
from tests.support.lomgen import lom_xml, make_records, oai_dc_xml
from tests.support.records import MemberRecord

__all__ = ["START", "POISON", "lrmi_xml", "lrmi_record", "lom_records", "dc_records",
           "poison_records", "iri_map"]

START = datetime(2024, 1, 1)
_LRMI_OPEN = b'<lrmi xmlns="http://schema.org/">'


def lrmi_xml(document: dict[str, Any] | str) -> bytes:
    """LRMI JSON-LD as served inside ``<metadata>``: JSON text in one element."""
    text = document if isinstance(document, str) else json.dumps(document)
    return _LRMI_OPEN + escape(text).encode() + b"</lrmi>"


def lrmi_record(identifier: str, *, url: str, name: str, doi: str | None = None,
                minutes: int = 0) -> MemberRecord:
    """A small valid LRMI record (English, CC BY), with a DOI when given."""
    document: dict[str, Any] = {"@context": "https://schema.org/", "@type": "LearningResource",
                                "name": name, "url": url, "inLanguage": "en",
                                "license": "https://creativecommons.org/licenses/by/4.0/"}
    if doi is not None:
        document["identifier"] = f"https://doi.org/{doi}"
    return MemberRecord(identifier=identifier, datestamp=START + timedelta(minutes=minutes),
                        metadata=lrmi_xml(document))


def lom_records(numbers: range) -> list[MemberRecord]:
    """LOM records ``oai:example.org:rec-NNNNNN`` of resources ``.../resources/NNNNNN``."""
    return make_records(len(numbers), start=START, step=timedelta(minutes=1),
                        first=numbers.start)


def dc_records(numbers: range, prefix: str = "dc.example.net") -> list[MemberRecord]:
    """oai_dc records of another repository describing the same resources (same URLs)."""
    return [MemberRecord(identifier=f"oai:{prefix}:{i}", datestamp=START + timedelta(hours=i),
                         metadata=oai_dc_xml(lom_xml(i), f"oai:{prefix}:{i}"))
            for i in numbers]


#: name -> (metadata inside <metadata>, what the quarantine reason says). Each one used to stop
#: ``eduxchange normalize`` (or the harvest's normalization) with a traceback, or is refused.
POISON: dict[str, tuple[bytes, str]] = {
    # json.loads recurses once per level: RecursionError, not ValueError.
    "deep-json": (_LRMI_OPEN + b"[" * 50_000 + b"</lrmi>", "nested too deeply"),
    "deep-json-object": (_LRMI_OPEN + b'{"@type": "LearningResource", "name": '
                         + b"[" * 50_000 + b"]" * 50_000 + b"}</lrmi>", "nested too deeply"),
    # Deeper than libxml2's limit of 256: refused when the page is read (stage harvest).
    "deep-xml": (b'<lom xmlns="http://ltsc.ieee.org/xsd/LOM">' + b"<a>" * 5_000
                 + b"</a>" * 5_000 + b"</lom>", "Excessive depth"),
    # Within libxml2's 10 MB text limit, but no metadata record is 2 MiB.
    "huge-text": (lom_xml(90).replace(
        b"<general>", b"<general><description><string>" + b"x" * (2 * 1024 * 1024)
        + b"</string></description>", 1), "MiB"),
    # A lone surrogate as a JSON escape: valid JSON, not valid Unicode.
    "surrogate": (lrmi_xml('{"@context": "https://schema.org/", "@type": "LearningResource", '
                           '"name": "bad \\ud800 text", "url": "https://poison.example/s"}'),
                  "not valid Unicode"),
    # U+FFFF passes the crosswalk and the schema but no XML writer accepts it.
    "noncharacter": (lrmi_xml('{"@context": "https://schema.org/", "@type": "LearningResource",'
                              ' "name": "bad \\uffff text", "url": "https://poison.example/n"}'),
                     "cannot merge or write"),
}


def poison_records(first_minute: int = 100) -> list[MemberRecord]:
    """One record per :data:`POISON` kind, identifiers ``oai:poison:<kind>``."""
    return [MemberRecord(identifier=f"oai:poison:{kind}",
                         datestamp=START + timedelta(minutes=first_minute + k),
                         metadata=metadata)
            for k, (kind, (metadata, _)) in enumerate(POISON.items())]


def iri_map(config: eduxchange.Config) -> tuple[dict[tuple[str, str], str], set[str]]:
    """Every member description -> the IRI of the record it is in, and every IRI minted
    (live and withdrawn), read from the catalogue store."""
    described: dict[tuple[str, str], str] = {}
    every: set[str] = set()
    with eduxchange.open_store(config) as store:
        for resource in store.iter_resources(include_deleted=True):
            every.add(resource.id)
            if resource.deleted:
                continue
            for entry in resource.record["mainEntityOfPage"]:
                member = entry["provider"]["id"].rsplit("/", 1)[1]
                described[(member, entry["identifier"])] = resource.id
    return described, every
