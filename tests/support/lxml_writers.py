"""The oai_dc and LOM writers as they were built with lxml trees: the oracle of the text writers.

A frozen copy of ``write_oai_dc`` and ``write_lom`` as of writer version 1 (before they wrote
text, src/eduxchange/publish/writers/_xml.py): ``etree.tostring(write(record), encoding="UTF-8")``
of these is what ``WRITERS[prefix].render(record)`` must give byte for byte
(tests/test_writers_render.py). The vCard text is copied too (its escaping was reworked
for speed); the other non-XML rules (LOM dates and durations, the LOMv1.0 values of concepts,
concept labels) are imported: they are the writers' own and unchanged. What is pinned here is
the tree, its serialization and the vCards.

Do not edit to follow a writer change: a writer whose output changes gets a new version
(tests/test_writer_versions.py), and this oracle then stays the version-1 reference or goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

from eduxchange.catalog.vocab import SCHEMES, default_vocabularies
from eduxchange.core.record import Agent, AgentField, CommonRecord, ConceptField
from eduxchange.publish.writers.lom import (LOM_NS, XSI_NS, lom_datetime, lom_duration,
                                            lom_vocab_values)
from eduxchange.publish.writers.oai_dc import DC_NS, OAI_DC_NS, concept_label

__all__ = ["lxml_oai_dc", "lxml_lom", "lxml_render"]

_L = f"{{{LOM_NS}}}"
_LOM = "LOMv1.0"
_LOM_SCHEMA_LOCATION = f"{LOM_NS} http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DC_SCHEMA_LOCATION = f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
_NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}


# -- LOM ---------------------------------------------------------------------------------------

def _escape(text: str) -> str:
    """vCard 3.0 text value escaping (RFC 2426 §4: backslash, comma, semicolon, newline)."""
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return re.sub(r"\r\n|\r|\n", "\\\\n", text)


def vcard(agent: Agent) -> str:
    """A vCard 3.0 for an agent of the record (FN and N are required by RFC 2426)."""
    name = str(agent.get("name") or "")
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_escape(name)}"]
    if agent.get("type") == "Organization":
        lines += ["N:;;;;", f"ORG:{_escape(name)}"]
    elif agent.get("type") != "Person":  # untyped (docs/record.md): a name, no N parts claimed
        lines.append("N:;;;;")
    else:
        lines.append(f"N:{_escape(name)};;;;")
        affiliation = agent.get("affiliation")
        if isinstance(affiliation, Mapping) and affiliation.get("name"):
            lines.append(f"ORG:{_escape(str(affiliation['name']))}")
    if agent.get("id"):
        lines.append(f"URL:{agent['id']}")
    if agent.get("email"):
        lines.append(f"EMAIL;TYPE=INTERNET:{_escape(str(agent['email']))}")
    if agent.get("telephone"):
        lines.append(f"TEL:{_escape(str(agent['telephone']))}")
    if agent.get("address"):
        lines.append(f"ADR:;;{_escape(str(agent['address']))};;;;")
    lines.append("END:VCARD")
    return "\n".join(lines)


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _L + name)
    if text is not None:
        element.text = text
    return element


def _langstring(parent: etree._Element, name: str, values: Iterable[tuple[str, str]]
                ) -> etree._Element | None:
    pairs = list(values)
    if not pairs:
        return None
    element = _sub(parent, name)
    for lang, text in pairs:
        string = _sub(element, "string", text)
        if lang != "@none":
            string.set("language", lang)
    return element


def _map_items(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, Mapping):
        return []
    return [(str(k), str(v)) for k, v in value.items() if isinstance(v, str) and v.strip()]


def _vocab(parent: etree._Element, name: str, source: str, value: str) -> None:
    element = _sub(parent, name)
    _sub(element, "source", source)
    _sub(element, "value", value)


def _concept(parent: etree._Element, name: str, field: str, concept: Mapping[str, Any],
             written: set[tuple[str, str, str]]) -> None:
    """One vocabulary element for a concept, unless the same (element, source, value) is written.

    A record's HCRT and LRMI concepts of one source term often map back to one LOM value
    (drill and practice, assessment item -> ``exercise``): it is written once.
    """
    iri = str(concept.get("id", ""))
    lom_value = lom_vocab_values(field).get(iri)
    if lom_value is not None:
        source, value = _LOM, lom_value
    else:
        labels = concept.get("prefLabel") or {}
        label = (labels.get("en") or next(iter(labels.values()), None)
                 if isinstance(labels, Mapping) else None)
        known = default_vocabularies().concept(iri)
        source, value = (known.scheme if known else SCHEMES[field]), str(label or iri)
    if (name, source, value) not in written:
        written.add((name, source, value))
        _vocab(parent, name, source, value)


def _identifier_catalog(value: str) -> tuple[str, str]:
    if value.startswith("https://doi.org/"):
        return "DOI", value[len("https://doi.org/"):]
    if value.startswith("https://hdl.handle.net/"):
        return "HANDLE", value[len("https://hdl.handle.net/"):]
    if value.startswith("urn:isbn:"):
        return "ISBN", value[len("urn:isbn:"):]
    return "URI", value


def lxml_lom(record: CommonRecord) -> etree._Element:
    """The record as a LOM ``lom`` element (pure: the record is not changed)."""
    root = etree.Element(_L + "lom", nsmap={None: LOM_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
    root.set(f"{{{XSI_NS}}}schemaLocation", _LOM_SCHEMA_LOCATION)

    general = _sub(root, "general")
    for value in (record.get("id"), *(record.get("identifier") or ())):
        if isinstance(value, str) and value:
            catalog, entry = _identifier_catalog(value)
            identifier = _sub(general, "identifier")
            _sub(identifier, "catalog", catalog)
            _sub(identifier, "entry", entry)
    _langstring(general, "title", _map_items(record.get("name")))
    for tag in record.get("inLanguage") or ():
        _sub(general, "language", str(tag))
    _langstring(general, "description", _map_items(record.get("description")))
    keywords = record.get("keywords")
    if isinstance(keywords, Mapping):
        for lang, words in keywords.items():
            for word in words if isinstance(words, list) else [words]:
                if isinstance(word, str) and word.strip():
                    _langstring(general, "keyword", [(str(lang), word)])

    contributions = [("author", record.get("creator"), record.get("dateCreated")),
                     ("publisher", record.get("publisher"), record.get("datePublished")),
                     ("unknown", record.get("contributor"), None)]
    if any(agents for _, agents, _ in contributions):
        life_cycle = _sub(root, "lifeCycle")
        for role, agents, date in contributions:
            if not agents:
                continue
            contribute = _sub(life_cycle, "contribute")
            _vocab(contribute, "role", _LOM, role)
            for agent in agents:
                if isinstance(agent, Mapping):
                    _sub(contribute, "entity", vcard(agent))
            if isinstance(date, str):
                _sub(_sub(contribute, "date"), "dateTime", lom_datetime(date))

    meta = _sub(root, "metaMetadata")
    _sub(meta, "metadataSchema", "LOMv1.0")

    formats = record.get("encodingFormat") or ()
    duration = lom_duration(str(record["duration"])) if record.get("duration") else None
    if formats or record.get("url") or duration:
        technical = _sub(root, "technical")
        for media_type in formats:
            _sub(technical, "format", str(media_type))
        if record.get("url"):
            _sub(technical, "location", str(record["url"]))
        if duration:
            _sub(_sub(technical, "duration"), "duration", duration)

    fields: tuple[tuple[ConceptField, str], ...] = (
        ("learningResourceType", "learningResourceType"), ("audience", "intendedEndUserRole"),
        ("educationalLevel", "context"))
    if any(record.get(f) for f, _ in fields) or record.get("typicalAgeRange"):
        educational = _sub(root, "educational")
        written: set[tuple[str, str, str]] = set()
        for field, element in fields:
            for concept in record.get(field) or ():
                if isinstance(concept, Mapping):
                    _concept(educational, element, field, concept, written)
        if record.get("typicalAgeRange"):
            _langstring(educational, "typicalAgeRange", [("@none", str(record["typicalAgeRange"]))])

    licence = record.get("license")
    notice = _map_items(record.get("copyrightNotice"))
    free = record.get("isAccessibleForFree")
    if licence or notice or isinstance(free, bool):
        rights = _sub(root, "rights")
        if isinstance(free, bool):
            _vocab(rights, "cost", _LOM, "no" if free else "yes")
        if licence or notice:
            _vocab(rights, "copyrightAndOtherRestrictions", _LOM, "yes")
            texts = list(notice)
            if isinstance(licence, Mapping) and licence.get("id"):
                texts.insert(0, ("@none", str(licence["id"])))
            # A langstring holds one string per language: one description per text.
            description = _sub(rights, "description")
            seen: set[str] = set()
            for lang, text in texts:
                if lang in seen:
                    continue
                seen.add(lang)
                string = _sub(description, "string", text)
                if lang != "@none":
                    string.set("language", lang)

    about = [c for c in record.get("about") or () if isinstance(c, Mapping)]
    if about:
        vocabularies = default_vocabularies()
        classification = _sub(root, "classification")
        _vocab(classification, "purpose", _LOM, "discipline")
        for concept in about:
            known = vocabularies.concept(str(concept.get("id", "")))
            path = _sub(classification, "taxonPath")
            _langstring(path, "source", [("en", "ISCED-F 2013")])
            taxon = _sub(path, "taxon")
            _sub(taxon, "id", (known.notation if known and known.notation
                               else str(concept.get("id", "")).rsplit("/", 1)[-1]))
            _langstring(taxon, "entry", _map_items(concept.get("prefLabel")))
    return root

# -- oai_dc ------------------------------------------------------------------------------------

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


def lxml_oai_dc(record: CommonRecord) -> etree._Element:
    """The record as an ``oai_dc:dc`` element (pure: the record is not changed)."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=_NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", _DC_SCHEMA_LOCATION)

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


def lxml_render(prefix: str, record: CommonRecord) -> bytes:
    """``etree.tostring`` of the version-1 lxml writer of ``prefix`` (``oai_dc`` or ``lom``)."""
    builder = {"oai_dc": lxml_oai_dc, "lom": lxml_lom}[prefix]
    data: bytes = etree.tostring(builder(record), encoding="UTF-8")
    return data
