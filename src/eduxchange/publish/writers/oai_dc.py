"""The common record as simple Dublin Core in the OAI-PMH ``oai_dc`` container (oai_dc.xsd).

Language maps become one element per language with ``xml:lang`` (none for ``@none``); concepts
are written by their English label (else the first label); agents by name; the licence IRI, the
record's own IRI and its URL go to ``dc:rights`` / ``dc:identifier``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

from ...core.record import AgentField, CommonRecord

__all__ = ["OAI_DC_NS", "DC_NS", "write_oai_dc"]

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
_NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}


def concept_label(concept: Mapping[str, Any]) -> str | None:
    """A concept's English prefLabel, else its first one."""
    labels = concept.get("prefLabel") or {}
    if not isinstance(labels, Mapping) or not labels:
        return None
    label = labels.get("en") or next(iter(labels.values()))
    return str(label) if label else None


def _lang_values(value: Any) -> Iterable[tuple[str | None, str]]:
    if not isinstance(value, Mapping):
        return ()
    out: list[tuple[str | None, str]] = []
    for lang, text in value.items():
        code = None if lang == "@none" else lang
        for item in (text if isinstance(text, list) else (text,)):
            if isinstance(item, str) and item.strip():
                out.append((code, item))
    return out


_TAGS = {name: f"{{{DC_NS}}}{name}" for name in (
    "title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
    "format", "identifier", "source", "language", "relation", "coverage", "rights")}
_SUB = etree.SubElement


_AGENT_ELEMENTS: tuple[tuple[AgentField, str], ...] = (
    ("creator", "creator"), ("publisher", "publisher"), ("contributor", "contributor"))


def write_oai_dc(record: CommonRecord) -> etree._Element:
    """The record as an ``oai_dc:dc`` element (pure: the record is not changed)."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=_NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", _SCHEMA_LOCATION)

    def add(name: str, text: str, lang: str | None = None) -> None:
        # Hot path (ListRecords): one SubElement call, attributes passed at creation.
        element = _SUB(root, _TAGS[name], {XML_LANG: lang} if lang else None)
        element.text = text

    for lang, text in _lang_values(record.get("name")):
        add("title", text, lang)
    for field, element in _AGENT_ELEMENTS:
        for agent in record.get(field) or ():
            if isinstance(agent, Mapping) and agent.get("name"):
                add(element, str(agent["name"]))
    for lang, text in _lang_values(record.get("keywords")):
        add("subject", text, lang)
    for concept in record.get("about") or ():
        label = concept_label(concept)
        if label:
            add("subject", label)
    for lang, text in _lang_values(record.get("description")):
        add("description", text, lang)
    date = record.get("datePublished") or record.get("dateCreated")
    if isinstance(date, str):
        add("date", date)
    for concept in record.get("learningResourceType") or ():
        label = concept_label(concept)
        if label:
            add("type", label)
    for media_type in record.get("encodingFormat") or ():
        add("format", str(media_type))
    for identifier in (record.get("url"), *(record.get("identifier") or ()), record.get("id")):
        if isinstance(identifier, str) and identifier:
            add("identifier", identifier)
    for tag in record.get("inLanguage") or ():
        add("language", str(tag))
    licence = record.get("license")
    if isinstance(licence, Mapping) and licence.get("id"):
        add("rights", str(licence["id"]))
    for lang, text in _lang_values(record.get("copyrightNotice")):
        add("rights", text, lang)
    return root
