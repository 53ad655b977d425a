"""The common record as simple Dublin Core in the OAI-PMH ``oai_dc`` container (oai_dc.xsd).

Language maps become one element per language with ``xml:lang`` (none for ``@none``); concepts
are written by their English label (else the first label); agents by name; the licence IRI, the
record's own IRI and its URL go to ``dc:rights`` / ``dc:identifier``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from ...core.record import AgentField, CommonRecord
from ._xml import MAPPING, attr, document, element, leaf, parse

__all__ = ["OAI_DC_NS", "DC_NS", "render_oai_dc", "write_oai_dc"]

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def concept_label(concept: Mapping[str, Any]) -> str | None:
    """A concept's English prefLabel, else its first one."""
    labels = concept.get("prefLabel") or {}
    if not isinstance(labels, MAPPING) or not labels:
        return None
    label = labels.get("en") or next(iter(labels.values()))
    return str(label) if label else None


def _add_lang(dc: list[str], tag: str, value: Any) -> None:
    """One ``tag`` element per non-blank text of a language map, with ``xml:lang`` (none for
    ``@none``)."""
    if not isinstance(value, MAPPING):
        return
    for lang, text in value.items():
        lang_attr = attr("xml:lang", lang) if lang and lang != "@none" else ""
        for item in (text if isinstance(text, list) else (text,)):
            if isinstance(item, str) and item.strip():
                dc.append(leaf(tag, item, lang_attr))


def _add_concepts(dc: list[str], tag: str, concepts: Any) -> None:
    """One ``tag`` element per concept with a label (:func:`concept_label`)."""
    for concept in concepts or ():
        label = concept_label(concept)
        if label:
            dc.append(leaf(tag, label))


#: The agent fields, each written as the DCMES element of its name (by name).
_AGENTS: tuple[AgentField, ...] = ("creator", "publisher", "contributor")


#: The ``oai_dc:dc`` element's namespace declarations and attribute, in lxml's order.
_ROOT_ATTRS = (f' xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}"'
               + attr("xsi:schemaLocation", _SCHEMA_LOCATION))


def render_oai_dc(record: CommonRecord) -> bytes:
    """The record as an ``oai_dc:dc`` document, UTF-8 without an XML declaration (pure).

    Byte for byte what lxml serializes for the same tree (``_xml``): the root declares the
    ``oai_dc``, ``dc`` and ``xsi`` prefixes, each element is ``dc:*``, languages ``xml:lang``.
    """
    dc: list[str] = []
    _add_lang(dc, "dc:title", record.get("name"))
    for field in _AGENTS:
        for agent in record.get(field) or ():
            if isinstance(agent, MAPPING) and agent.get("name"):
                dc.append(leaf(f"dc:{field}", str(agent["name"])))
    _add_lang(dc, "dc:subject", record.get("keywords"))
    _add_concepts(dc, "dc:subject", record.get("about"))
    _add_lang(dc, "dc:description", record.get("description"))
    date = record.get("datePublished") or record.get("dateCreated")
    if isinstance(date, str):
        dc.append(leaf("dc:date", date))
    _add_concepts(dc, "dc:type", record.get("learningResourceType"))
    for media_type in record.get("encodingFormat") or ():
        dc.append(leaf("dc:format", str(media_type)))
    for identifier in (record.get("url"), *(record.get("identifier") or ()), record.get("id")):
        if isinstance(identifier, str) and identifier:
            dc.append(leaf("dc:identifier", identifier))
    for tag in record.get("inLanguage") or ():
        dc.append(leaf("dc:language", str(tag)))
    licence = record.get("license")
    if isinstance(licence, MAPPING) and licence.get("id"):
        dc.append(leaf("dc:rights", str(licence["id"])))
    _add_lang(dc, "dc:rights", record.get("copyrightNotice"))
    return document(element("oai_dc:dc", dc, _ROOT_ATTRS))


def write_oai_dc(record: CommonRecord) -> etree._Element:
    """The record as an ``oai_dc:dc`` element: :func:`render_oai_dc` parsed (pure).

    ``etree.tostring(element, encoding="UTF-8")`` gives the rendered bytes again.
    """
    return parse(render_oai_dc(record))
