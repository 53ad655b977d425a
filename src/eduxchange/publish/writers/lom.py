"""The common record as IEEE LOM (IEEE 1484.12.3 XML binding), valid against ``lomLoose.xsd``.

Vocabulary elements (educational learningResourceType, intendedEndUserRole, context) carry the
LOMv1.0 value when the record's concept maps back to one through the shipped mapping tables
(``vocabularies/mappings/*.tsv``, rows with source ``LOMv1.0``, read in reverse: the first row
naming a concept wins), and otherwise the concept's English label with ``source`` = the concept
scheme IRI. LOMv1.0 values alone would lose most LRMI/ISCED concepts, so the output is valid
against the loose binding (``vocab/loose.xsd``: any source and value), not the strict ``lom.xsd``.

Other choices: catalogue IRI and URL-like identifiers in ``general/identifier`` (catalog
``URI``/``DOI``/``HANDLE``/``ISBN``); agents as vCard 3.0 (text values escaped per RFC 2426
§4: backslash, comma, semicolon, newline); dates with a time carry a fractional second (the
binding's DateTime pattern only allows a zone after one); ``P2W`` becomes ``P14D`` (no weeks in
the binding's Duration); ISCED-F fields as ``classification`` (purpose ``discipline``) taxa
with their 4-digit ids; the licence IRI in ``rights/description``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any

from lxml import etree

from ...core.record import Agent, CommonRecord, ConceptField

from ...catalog.vocab import EXTRA_SCHEME_TABLES, EXTRA_SCHEMES, SCHEMES, default_vocabularies
from ._xml import MAPPING, attr, document, element, leaf, parse

__all__ = ["LOM_NS", "render_lom", "write_lom", "vcard", "lom_vocab_values"]

LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{LOM_NS} http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd"
#: The ``lom`` element's namespace declarations and attribute, in lxml's order.
_ROOT_ATTRS = (f' xmlns="{LOM_NS}" xmlns:xsi="{XSI_NS}"'
               + attr("xsi:schemaLocation", _SCHEMA_LOCATION))
_LOM = "LOMv1.0"

#: The LOMv1.0 value spaces of the elements written from concepts (IEEE 1484.12.1 §5.2, 5.5, 5.6).
_LOM_SPACES: Mapping[str, frozenset[str]] = {
    "learningResourceType": frozenset({
        "exercise", "simulation", "questionnaire", "diagram", "figure", "graph", "index", "slide",
        "table", "narrative text", "exam", "experiment", "problem statement", "self assessment",
        "lecture"}),
    "audience": frozenset({"teacher", "author", "learner", "manager"}),
    "educationalLevel": frozenset({"school", "higher education", "training", "other"}),
}


@functools.cache
def lom_vocab_values(field: str) -> dict[str, str]:
    """Concept IRI -> LOMv1.0 value for ``field``, the shipped mapping tables read in reverse.

    The field's own table and its extra schemes' tables (HCRT for learningResourceType), so an
    HCRT simulation is written as LOM's ``simulation`` too.
    """
    mappings = files("eduxchange.vocabularies") / "mappings"
    names = [f"{field}.tsv", *(EXTRA_SCHEME_TABLES[scheme] for scheme in EXTRA_SCHEMES.get(field, ()))]
    text = "\n".join((mappings / name).read_text("utf-8") for name in names)
    reverse: dict[str, str] = {}
    space = _LOM_SPACES.get(field, frozenset())
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0].strip().casefold() == _LOM.casefold():
            value, concept = " ".join(parts[1].split()).casefold(), parts[2].strip()
            if value in space:
                reverse.setdefault(concept, value)
    return reverse


def _escape(text: str) -> str:
    """vCard 3.0 text value escaping (RFC 2426 §4: backslash, comma, semicolon, newline)."""
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    if "\r" in text or "\n" in text:  # most values have none: skip the regular expression
        text = re.sub(r"\r\n|\r|\n", "\\\\n", text)
    return text


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
        if isinstance(affiliation, MAPPING) and affiliation.get("name"):
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


def _langstring(parent: list[str], name: str, values: Iterable[tuple[str, str]]) -> None:
    """A langstring element in ``parent``, one ``string`` per (language, text); none for no
    values."""
    strings = [leaf("string", text, "" if lang == "@none" else attr("language", lang))
               for lang, text in values]
    if strings:
        parent.append(element(name, strings))


def _map_items(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, MAPPING):
        return []
    return [(str(k), str(v)) for k, v in value.items() if isinstance(v, str) and v.strip()]


def _vocab(name: str, source: str, value: str) -> str:
    return element(name, [leaf("source", source), leaf("value", value)])


def _concept(parent: list[str], name: str, field: str, concept: Mapping[str, Any],
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
                 if isinstance(labels, MAPPING) else None)
        known = default_vocabularies().concept(iri)
        source, value = (known.scheme if known else SCHEMES[field]), str(label or iri)
    if (name, source, value) not in written:
        written.add((name, source, value))
        parent.append(_vocab(name, source, value))


#: The elements many records share, written once: the contribution roles, cost, the
#: copyright flag, the classification's purpose and taxon path source, metaMetadata.
_ROLES = {role: _vocab("role", _LOM, role) for role in ("author", "publisher", "unknown")}
_COST = {free: _vocab("cost", _LOM, "no" if free else "yes") for free in (True, False)}
_RESTRICTED = _vocab("copyrightAndOtherRestrictions", _LOM, "yes")
_DISCIPLINE = _vocab("purpose", _LOM, "discipline")
_ISCED_SOURCE = element("source", [leaf("string", "ISCED-F 2013", attr("language", "en"))])
_META_METADATA = element("metaMetadata", [leaf("metadataSchema", "LOMv1.0")])


def lom_datetime(value: str) -> str:
    """An ISO 8601 date or date-time in the LOM binding's DateTime lexical space."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", value)
    if m and m.group(3):
        return f"{m.group(1)}{m.group(2) or '.0'}{m.group(3)}"
    return value


def lom_duration(value: str) -> str | None:
    """An ISO 8601 duration in the binding's Duration lexical space (weeks become days)."""
    m = re.fullmatch(r"P(\d+)W", value)
    if m:
        return f"P{int(m.group(1)) * 7}D"
    if re.fullmatch(r"P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?", value):
        return value
    return None


def _identifier_catalog(value: str) -> tuple[str, str]:
    if value.startswith("https://doi.org/"):
        return "DOI", value[len("https://doi.org/"):]
    if value.startswith("https://hdl.handle.net/"):
        return "HANDLE", value[len("https://hdl.handle.net/"):]
    if value.startswith("urn:isbn:"):
        return "ISBN", value[len("urn:isbn:"):]
    return "URI", value


def render_lom(record: CommonRecord) -> bytes:
    """The record as a LOM ``lom`` document, UTF-8 without an XML declaration (pure).

    Byte for byte what lxml serializes for the same tree (``_xml``): the ``lom`` element
    declares the LOM namespace as its default and ``xsi``, and carries ``xsi:schemaLocation``.
    """
    general: list[str] = []
    for value in (record.get("id"), *(record.get("identifier") or ())):
        if isinstance(value, str) and value:
            catalog, entry = _identifier_catalog(value)
            general.append(element("identifier", [leaf("catalog", catalog), leaf("entry", entry)]))
    _langstring(general, "title", _map_items(record.get("name")))
    for tag in record.get("inLanguage") or ():
        general.append(leaf("language", str(tag)))
    _langstring(general, "description", _map_items(record.get("description")))
    keywords = record.get("keywords")
    if isinstance(keywords, MAPPING):
        for lang, words in keywords.items():
            for word in words if isinstance(words, list) else [words]:
                if isinstance(word, str) and word.strip():
                    _langstring(general, "keyword", [(str(lang), word)])
    lom = [element("general", general)]

    contributions = [("author", record.get("creator"), record.get("dateCreated")),
                     ("publisher", record.get("publisher"), record.get("datePublished")),
                     ("unknown", record.get("contributor"), None)]
    if any(agents for _, agents, _ in contributions):
        life_cycle: list[str] = []
        for role, agents, date in contributions:
            if not agents:
                continue
            contribute = [_ROLES[role]]
            for agent in agents:
                if isinstance(agent, MAPPING):
                    contribute.append(leaf("entity", vcard(agent)))
            if isinstance(date, str):
                contribute.append(element("date", [leaf("dateTime", lom_datetime(date))]))
            life_cycle.append(element("contribute", contribute))
        lom.append(element("lifeCycle", life_cycle))

    lom.append(_META_METADATA)

    formats = record.get("encodingFormat") or ()
    duration = lom_duration(str(record["duration"])) if record.get("duration") else None
    if formats or record.get("url") or duration:
        technical: list[str] = []
        for media_type in formats:
            technical.append(leaf("format", str(media_type)))
        if record.get("url"):
            technical.append(leaf("location", str(record["url"])))
        if duration:
            technical.append(element("duration", [leaf("duration", duration)]))
        lom.append(element("technical", technical))

    fields: tuple[tuple[ConceptField, str], ...] = (
        ("learningResourceType", "learningResourceType"), ("audience", "intendedEndUserRole"),
        ("educationalLevel", "context"))
    if any(record.get(f) for f, _ in fields) or record.get("typicalAgeRange"):
        educational: list[str] = []
        written: set[tuple[str, str, str]] = set()
        for field, name in fields:
            for concept in record.get(field) or ():
                if isinstance(concept, MAPPING):
                    _concept(educational, name, field, concept, written)
        if record.get("typicalAgeRange"):
            _langstring(educational, "typicalAgeRange", [("@none", str(record["typicalAgeRange"]))])
        lom.append(element("educational", educational))

    licence = record.get("license")
    notice = _map_items(record.get("copyrightNotice"))
    free = record.get("isAccessibleForFree")
    if licence or notice or isinstance(free, bool):
        rights: list[str] = []
        if isinstance(free, bool):
            rights.append(_COST[free])
        if licence or notice:
            rights.append(_RESTRICTED)
            texts = list(notice)
            if isinstance(licence, MAPPING) and licence.get("id"):
                texts.insert(0, ("@none", str(licence["id"])))
            # A langstring holds one string per language: one description per text.
            strings: list[str] = []
            seen: set[str] = set()
            for lang, text in texts:
                if lang in seen:
                    continue
                seen.add(lang)
                strings.append(leaf("string", text,
                                    "" if lang == "@none" else attr("language", lang)))
            rights.append(element("description", strings))
        lom.append(element("rights", rights))

    about = [c for c in record.get("about") or () if isinstance(c, MAPPING)]
    if about:
        vocabularies = default_vocabularies()
        classification = [_DISCIPLINE]
        for concept in about:
            known = vocabularies.concept(str(concept.get("id", "")))
            taxon = [leaf("id", (known.notation if known and known.notation
                                 else str(concept.get("id", "")).rsplit("/", 1)[-1]))]
            _langstring(taxon, "entry", _map_items(concept.get("prefLabel")))
            classification.append(element("taxonPath", [_ISCED_SOURCE, element("taxon", taxon)]))
        lom.append(element("classification", classification))
    return document(element("lom", lom, _ROOT_ATTRS))


def write_lom(record: CommonRecord) -> etree._Element:
    """The record as a LOM ``lom`` element: :func:`render_lom` parsed (pure).

    ``etree.tostring(element, encoding="UTF-8")`` gives the rendered bytes again.
    """
    return parse(render_lom(record))
