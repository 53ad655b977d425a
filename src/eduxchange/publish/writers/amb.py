"""The common record in the AMB profile (Allgemeines Metadatenprofil für Bildungsressourcen).

AMB is the schema.org/LRMI JSON-LD profile that OERSI and the German OER platforms consume
(https://w3id.org/kim/amb/). This writer targets the published version :data:`AMB_VERSION`; its
JSON Schema is AMB's own (``https://w3id.org/kim/amb/20231019/schemas/schema.json``), which the
project does not ship: the tests validate every document this module writes against the schema
read from the standards folder. What is written here is our knowledge of that version.

:func:`to_amb` is pure: a common record (docs/record.md) in, an AMB document out, or
:class:`NotAmb` when the record cannot be valid AMB without inventing something. Mapping
decisions, and why (AMB 20231019 field by field):

* ``@context`` is ``["https://w3id.org/kim/amb/context.jsonld", {"@language": L}]``: AMB
  requires a default language (ISO 639-1, two letters), and its ``name``, ``description`` and
  ``keywords`` are plain strings in that language. ``L`` is the first language of
  ``inLanguage`` the record has a name in, else the first language of the name; an untagged
  name takes the resource's language only when ``inLanguage`` names exactly one. With no such
  language the record is refused (:class:`NotAmb`), never given a guessed one.
* ``id``: the resource's ``url`` (AMB: "the URL/URI of the resource"; OERSI links to it and
  de-duplicates on it), else its first http(s) identifier (a DOI or handle resolves to the
  resource), else the catalogue IRI, which is the resource's IRI in our own RDF. The catalogue
  record is then given as the first ``mainEntityOfPage`` (a description of the resource),
  followed by one entry per member description, ``type`` ``WebContent`` as AMB requires.
* ``name``/``description``/``keywords``: the values in ``L``; untagged ones only when the
  record names no language other than ``L`` (else they would be published as ``L`` text).
* concepts are ``{"id", "prefLabel"?}`` with labels in ISO 639-1 languages only (AMB's
  localized strings allow no other keys); ``type: "Concept"`` is not written (optional).
  ``learningResourceType`` is written only with a concept of HCRT (or OpenEduHub's new_lrt):
  AMB requires one. HCRT concepts in the record are preferred; failing those, the LRMI concepts
  with an exact HCRT equivalent (:data:`LRMI_TO_HCRT`) are given as HCRT IRIs.
  ``educationalLevel`` takes KIM educationalLevel concepts (AMB allows no other scheme); our
  ISCED 2011 levels are written as the KIM levels that ``skos:exactMatch`` them.
  ``about`` is written only with a concept of AMB's subject schemes (Hochschulfächersystematik,
  Schulfächer): our ISCED-F fields are not among them, so today it is left out.
  ``audience`` is LRMI's educationalAudienceRole, as in the record.
* ``license`` only when its IRI is a licence AMB accepts (Creative Commons and Public Domain,
  GNU, Apache, MIT, BSD); other licences are left out.
* dates: AMB takes a full date or a date-time (JSON Schema ``date``/``date-time``), so a year
  or a year-month is left out. ``duration`` (AMB: the play time of an audio/video resource) is
  written in AMB's ISO 8601 form: weeks and days are not combined (``P1W2D`` -> ``P9D``).
* agents: ``type``, ``name``, ``id``, and for creators and contributors ``affiliation``. No
  contact field is ever written (AMB has none, and contact data is not ours to republish).
  AMB requires every agent to be a ``Person`` or an ``Organization``: an agent the record
  leaves untyped (its source gave no evidence of either, docs/record.md) is left out of the
  AMB document rather than given a guessed type; the record and its RDF keep it.
* ``inLanguage``: ISO 639-1 codes (the primary subtag of each tag, where it has two letters).
* not written, because AMB 20231019 has no field for them: ``identifier``, ``copyrightNotice``,
  ``encodingFormat`` (AMB's ``encoding`` needs a content URL per format), ``typicalAgeRange``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit

from ...core.errors import EduxchangeError
from ...core.record import Agent, AgentField, CommonRecord, Concept, DateField

__all__ = ["AMB_VERSION", "AMB_PROFILE", "AMB_SCHEMA", "AMB_CONTEXT", "HCRT", "LRMI_TO_HCRT",
           "NotAmb", "to_amb"]

#: The AMB version this writer targets (a published version: https://w3id.org/kim/amb/latest/).
AMB_VERSION: Final = "20231019"
#: The profile's IRI, as given in ``Content-Profile`` and ``Accept-Profile`` (W3C DX-PROF-CONNEG).
AMB_PROFILE: Final = f"https://w3id.org/kim/amb/{AMB_VERSION}/"
#: The JSON Schema documents of this version are valid against (not shipped: the tests read it).
AMB_SCHEMA: Final = f"https://w3id.org/kim/amb/{AMB_VERSION}/schemas/schema.json"
#: The context every AMB document names (AMB's context-schema requires exactly this IRI).
AMB_CONTEXT: Final = "https://w3id.org/kim/amb/context.jsonld"

#: The HCRT scheme base (its ``vann:preferredNamespaceUri``; AMB requires the https form).
HCRT: Final = "https://w3id.org/kim/hcrt/"
_HCRT_HTTP: Final = "http://w3id.org/kim/hcrt/"
_OEH_LRT: Final = "http://w3id.org/openeduhub/vocabs/new_lrt/"
_LRMI_LRT: Final = "http://purl.org/dcx/lrmi-vocabs/learningResourceType/"

#: LRMI learningResourceType concepts whose meaning is exactly an HCRT concept's; the others are
#: broader than any HCRT concept (``supportingDocument``, ``recordedLesson``, ...) and get none.
LRMI_TO_HCRT: Final[Mapping[str, str]] = {
    _LRMI_LRT + "assessment": HCRT + "assessment",
    _LRMI_LRT + "lessonPlan": HCRT + "lesson_plan",
    _LRMI_LRT + "textbook": HCRT + "textbook",
}

_KIM_LEVEL: Final = "https://w3id.org/kim/educationalLevel/"
# KIM's educationalLevel level_N skos:exactMatch ISCED 2011 levelN, N = 0..8.
_ISCED_2011_LEVEL: Final = re.compile(r"https://w3id\.org/kim/isced-2011/level([0-8])$")
# AMB's about schemes (about.json: at least one concept of these).
_ABOUT_SCHEMES: Final = ("https://w3id.org/kim/hochschulfaechersystematik/",
                         "http://w3id.org/kim/schulfaecher/")
# Licences AMB accepts (license.json: one of these patterns).
_LICENCES: Final = re.compile(
    r"^https?://(creativecommons\.org/(licenses|licences|publicdomain)/"
    r"|www\.gnu\.org/licenses/|www\.apache\.org/licenses/|www\.opensource\.org/licenses/BSD)"
    r"|^https?://opensource\.org/licenses/MIT")
_FULL_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T.+)?$")
_WEEKS_AND_DAYS: Final = re.compile(r"^P((?:[0-9]+Y)?(?:[0-9]+M)?)([0-9]+)W([0-9]+)D")
_TWO_LETTERS: Final = re.compile(r"[a-z]{2}$")


class NotAmb(EduxchangeError):
    """The record cannot be written as valid AMB; the message says why and what would fix it."""


def _uri(iri: str) -> str | None:
    """The URI of an IRI (RFC 3987, section 3.1), or ``None`` if its host cannot be written.

    AMB's identifiers are JSON Schema ``uri`` (RFC 3986, ASCII only), our records hold IRIs:
    the host becomes IDNA (punycode), every other non-ASCII character UTF-8 percent-encoded.
    """
    if iri.isascii():
        return iri
    parts = urlsplit(iri)
    netloc = parts.netloc
    if parts.hostname and not parts.hostname.isascii():
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        netloc = netloc.replace(parts.hostname, host) if parts.hostname in netloc else host
    if not netloc.isascii():  # non-ASCII user info or a host case-folded apart from the netloc
        return None
    keep = "!#$%&'()*+,/:;=?@[]~"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=keep),
                       quote(parts.query, safe=keep), quote(parts.fragment, safe=keep)))


def _primary(tag: str) -> str | None:
    """The ISO 639-1 code of a BCP 47 tag (its primary subtag, if it has two letters)."""
    primary = tag.split("-", 1)[0]
    return primary if _TWO_LETTERS.match(primary) else None


def _language(record: Mapping[str, Any]) -> str:
    """The default language ``L`` of the document (module docstring), or :class:`NotAmb`."""
    name: Mapping[str, str] = record.get("name") or {}
    keys = {_primary(key) for key in name if key != "@none"} - {None}
    for tag in record.get("inLanguage", []):
        if _primary(tag) in keys:
            return str(_primary(tag))
    for key in name:
        primary = _primary(key) if key != "@none" else None
        if primary:
            return primary
    named = {_primary(tag) for tag in record.get("inLanguage", [])} - {None}
    if "@none" in name and len(named) == 1:
        return str(next(iter(named)))
    if not name:
        raise NotAmb("the record has no name (AMB requires one)")
    raise NotAmb("no ISO 639-1 language is known for the record's name: AMB's @context needs a "
                 "default @language, and none is invented (give the member's titles a language, "
                 "or dc:language / inLanguage)")


def _in(values: Mapping[str, Any], language: str, untagged: bool) -> Any:
    """The value of a language map in ``language`` (any region), else the untagged one."""
    for key, value in values.items():
        if key != "@none" and _primary(key) == language:
            return value
    return values.get("@none") if untagged else None


def _labels(labels: Mapping[str, str]) -> dict[str, str]:
    """A prefLabel map with ISO 639-1 keys only (the first label per code)."""
    out: dict[str, str] = {}
    for key, text in labels.items():
        primary = _primary(key) if key != "@none" else None
        if primary and (primary not in out or key == primary):
            out[primary] = text
    return out


def _concept(iri: str, labels: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    uri = _uri(iri)
    if uri is None:
        return None
    concept: dict[str, Any] = {"id": uri}
    if labels and (kept := _labels(labels)):
        concept["prefLabel"] = kept
    return concept


def _unique(concepts: Iterable[dict[str, Any] | None]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for concept in concepts:
        if concept is not None:
            seen.setdefault(concept["id"], concept)
    return list(seen.values())


def _resource_types(concepts: list[Concept]) -> list[dict[str, Any]]:
    hcrt = _unique(_concept(HCRT + c["id"].removeprefix(_HCRT_HTTP)
                            if c["id"].startswith(_HCRT_HTTP) else c["id"], c.get("prefLabel"))
                   for c in concepts if c["id"].startswith((HCRT, _HCRT_HTTP, _OEH_LRT)))
    return hcrt or _unique(_concept(LRMI_TO_HCRT[c["id"]])
                           for c in concepts if c["id"] in LRMI_TO_HCRT)


def _levels(concepts: list[Concept]) -> list[dict[str, Any]]:
    out = []
    for concept in concepts:
        iri = concept["id"]
        if (match := _ISCED_2011_LEVEL.match(iri)) is not None:
            iri = f"{_KIM_LEVEL}level_{match.group(1)}"
        if iri.startswith(_KIM_LEVEL):
            out.append(_concept(iri, concept.get("prefLabel")))
    return _unique(out)


def _agents(agents: list[Agent], *, affiliation: bool) -> list[dict[str, Any]]:
    out = []
    for agent in agents:
        if agent.get("type") not in ("Person", "Organization"):
            continue  # AMB requires a type; an untyped agent's is not ours to invent
        item: dict[str, Any] = {"type": agent["type"], "name": agent["name"]}
        if "id" in agent and (uri := _uri(agent["id"])):
            item["id"] = uri
        org = agent.get("affiliation")
        if affiliation and org:
            item["affiliation"] = {"type": org["type"], "name": org["name"]}
            if "id" in org and (uri := _uri(org["id"])):
                item["affiliation"]["id"] = uri
        out.append(item)
    return out


def _date(value: str | None) -> str | None:
    return value if value and _FULL_DATE.match(value) else None


def _duration(value: str) -> str:
    """AMB's duration pattern allows weeks or days, not both: the weeks become days."""
    match = _WEEKS_AND_DAYS.match(value)
    if match is None:
        return value
    days = int(match.group(2)) * 7 + int(match.group(3))
    return f"P{match.group(1)}{days}D{value[match.end():]}"


def _resource_id(record: Mapping[str, Any]) -> str:
    candidates = [record.get("url"),
                  *(i for i in record.get("identifier", []) if i.startswith(("https://", "http://"))),
                  record.get("id")]
    for candidate in candidates:
        if candidate and (uri := _uri(str(candidate))):
            return uri
    raise NotAmb("the record has no url, http(s) identifier or id that is a URI "
                 "(AMB requires an id)")


_DATE_FIELDS: tuple[DateField, ...] = ("dateCreated", "datePublished", "dateModified")
_AGENT_FIELDS: tuple[AgentField, ...] = ("creator", "contributor", "publisher")


def to_amb(record: CommonRecord) -> dict[str, Any]:
    """The AMB document (version :data:`AMB_VERSION`) of a common record; ``record`` is unchanged.

    Raises :class:`NotAmb` for a record that cannot be valid AMB (module docstring).
    """
    language = _language(record)
    named = {_primary(tag) for tag in record.get("inLanguage", [])} - {None}
    untagged = named <= {language}
    name = _in(record.get("name") or {}, language, True)
    if not isinstance(name, str) or not name.strip():
        raise NotAmb("the record has no name (AMB requires one)")
    doc: dict[str, Any] = {
        "@context": [AMB_CONTEXT, {"@language": language}],
        "id": _resource_id(record),
        "type": ["LearningResource"],
        "name": name,
    }
    if (description := _in(record.get("description") or {}, language, untagged)) is not None:
        doc["description"] = description
    keywords = list(_in(record.get("keywords") or {}, language, False) or [])
    if untagged:
        keywords += [k for k in record.get("keywords", {}).get("@none", []) if k not in keywords]
    if keywords:
        doc["keywords"] = keywords
    languages = list(dict.fromkeys(
        p for p in (_primary(tag) for tag in record.get("inLanguage", [])) if p))
    if languages:
        doc["inLanguage"] = languages
    licence = record["license"].get("id") if "license" in record else None
    if licence and _LICENCES.match(licence) and (uri := _uri(licence)):
        doc["license"] = {"id": uri}
    if record.get("image") and (uri := _uri(record["image"])):
        doc["image"] = uri
    for field in _DATE_FIELDS:
        if (value := _date(record.get(field))) is not None:
            doc[field] = value
    if record.get("duration"):
        doc["duration"] = _duration(str(record["duration"]))
    if "isAccessibleForFree" in record:
        doc["isAccessibleForFree"] = bool(record["isAccessibleForFree"])
    for role in _AGENT_FIELDS:
        if found := _agents(record.get(role) or [], affiliation=role != "publisher"):
            doc[role] = found
    if types := _resource_types(record.get("learningResourceType", [])):
        doc["learningResourceType"] = types
    if levels := _levels(record.get("educationalLevel", [])):
        doc["educationalLevel"] = levels
    if audience := _unique(_concept(c["id"], c.get("prefLabel"))
                           for c in record.get("audience", [])):
        doc["audience"] = audience
    about = _unique(_concept(c["id"], c.get("prefLabel")) for c in record.get("about", []))
    if any(c["id"].startswith(_ABOUT_SCHEMES) for c in about):
        doc["about"] = about
    pages = []
    if record.get("id") and (uri := _uri(record["id"])) and uri != doc["id"]:
        pages.append({"id": uri, "type": "WebContent"})
    for entry in record.get("mainEntityOfPage", []):
        if (uri := _uri(entry["id"])) is None:
            continue
        page: dict[str, Any] = {"id": uri, "type": "WebContent"}
        provider = entry.get("provider")
        if provider and provider.get("id") and (provider_uri := _uri(provider["id"])):
            page["provider"] = {"id": provider_uri,
                                **{k: provider[k] for k in ("type", "name") if k in provider}}
        if (modified := _date(entry.get("dateModified"))) is not None:
            page["dateModified"] = modified
        pages.append(page)
    if pages:
        doc["mainEntityOfPage"] = pages
    return doc
