"""LRMI / schema.org JSON-LD crosswalk: one parsed JSON-LD object to a description.

Members publish LRMI as schema.org JSON-LD in every form the context allows: ``@context``
``http://schema.org/`` or ``https://schema.org/``, ``@vocab``, a ``schema:`` (or ``sdo:``)
prefix on every key, full ``http://schema.org/name`` keys, one object or an ``@graph``.
No JSON-LD processor is needed (nor wanted: it would fetch contexts): keys are read after
stripping those prefixes, and values are read in every shape JSON-LD gives them (a
string, a list, ``{"@value", "@language"}``, a language map, ``{"@id"}``, ``{"@list"}``).

Mapping decisions, and why:

* plain strings take the context's ``@language``, else the resource's language when
  ``inLanguage`` names exactly one (with several, which one a string is in is unknown:
  ``@none``);
* ``author`` is read as ``creator`` (schema.org: "author ... the same as creator");
  ``duration`` wins over ``timeRequired``; ``uploadDate`` stands in for a missing
  ``datePublished``, ``headline`` for a missing ``name``, ``thumbnailUrl`` for ``image``;
* a ``DefinedTerm`` (or an AMB concept ``{"id", "prefLabel"}``) gives one term: its IRI
  (``@id``/``id``/``url``) as ``uri``; else an ISCED ``termCode`` when its term set says
  ISCED; else its ``name`` (or ``prefLabel``) as ``text``; else its ``termCode``;
* ``teaches`` and alignments of type ``educationalSubject``/``teaches`` feed
  ``_terms["about"]``, alignments of type ``educationalLevel`` ``_terms["educationalLevel"]``
  (the common record has no ``teaches``);
* ``url``: the first http(s) ``url`` (else ``@id``) that is no DOI or handle, a landing
  page before a file; DOIs and handles in ``url``, ``@id`` or ``identifier`` (also as a
  ``PropertyValue``) go to ``identifier``, as for Dublin Core;
* ``license``: the first recognised licence; an unrecognised one is kept, with
  ``copyrightNotice``, as a copyright notice;
* ``keywords``: one string is a delimited list and is split; a JSON list is taken item by
  item; several ``typicalAgeRange`` values (``"2-5"``, ``"5-8"``) make the span (``"2-8"``);
* agents keep ``id`` only for registry identifiers (ORCID, ROR, ISNI, GND, in ``@id``,
  ``sameAs`` or ``identifier``; canonical https IRIs), contact details only with
  ``options.include_contacts``; a bare ``{"@id"}`` is looked up among the graph's nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..normalize.dates import normalize_date, normalize_duration
from ..normalize.languages import language_key, normalize_languages
from ..normalize.licenses import canonical_license
from ..normalize.text import clean_text, split_keywords
from ..normalize.contacts import find_emails, split_contacts
from ..normalize.agents import AgentType, Role, classify
from ..normalize.vcard import parse_name, registry_id
from ..core.record import Affiliation, Agent as AgentRecord, DateField, Description
from . import CrosswalkOptions
from .common import (
    add_unique,
    age_range,
    classify_identifier,
    description_map,
    http_url,
    media_type,
    pick_url,
    put_text,
    span,
)
from .dc import Term, add_agents, add_keyword, finish, is_iri, isced_f_code, text_or_uri

__all__ = ["crosswalk_lrmi"]

Node = Mapping[str, Any]

_PREFIXES = ("schema:", "sdo:", "http://schema.org/", "https://schema.org/")

#: Node types, best first, that a description of a learning resource can have.
_RESOURCE_TYPES = ("LearningResource", "Course", "CreativeWork")
#: CreativeWork subtypes members use for resources (schema.org 30.0).
_CREATIVE_WORKS = frozenset({
    "Article", "AudioObject", "Book", "Chapter", "Clip", "Collection", "Course",
    "CreativeWork", "Dataset", "DigitalDocument", "Game", "Guide", "HowTo", "ImageObject",
    "LearningResource", "Map", "MediaObject", "Movie", "MusicRecording", "Podcast",
    "PodcastEpisode", "PresentationDigitalDocument", "Quiz", "Recipe",
    "ScholarlyArticle", "SoftwareApplication", "SoftwareSourceCode",
    "SpreadsheetDigitalDocument", "Syllabus", "TextDigitalDocument", "VideoGame",
    "VideoObject", "WebApplication", "WebPage", "WebSite", "Thesis", "Report",
    "Quotation", "Drawing", "Photograph", "Painting", "Poster", "Sculpture",
})
_PERSON_TYPES = frozenset({"Person"})
_ORGANIZATION_TYPES = frozenset({
    "Organization", "EducationalOrganization", "CollegeOrUniversity", "School",
    "HighSchool", "MiddleSchool", "ElementarySchool", "Preschool", "Corporation",
    "GovernmentOrganization", "NGO", "Library", "ResearchOrganization", "Project",
    "FundingScheme", "Consortium", "OnlineBusiness", "LocalBusiness", "NewsMediaOrganization",
})
_LANGUAGE_MAP_KEY = re.compile(r"^(?:[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*|@none)$")
_REFERENCE_KEYS = frozenset({"@id", "id", "@type", "type"})
_NOT_LANGUAGE_KEYS = frozenset({"id", "url", "name", "type"})
_TRUE = frozenset({"true", "yes", "1", "http://schema.org/true", "https://schema.org/true",
                   "schema:true"})
_FALSE = frozenset({"false", "no", "0", "http://schema.org/false",
                    "https://schema.org/false", "schema:false"})


# --- reading JSON-LD shapes --------------------------------------------------------------

@lru_cache(maxsize=4096)
def _strip(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def _node(obj: Mapping[str, Any]) -> Node:
    """``obj`` with schema.org prefixes removed from its keys (itself when it has none)."""
    for key in obj:
        if ":" in key:
            return {_strip(k): v for k, v in obj.items()}
    return obj


def _values(value: Any) -> Sequence[Any]:
    """The items of a JSON-LD value: a list's items, a ``@list``/``@set``'s, or itself.

    Parsed JSON holds ``dict`` and ``list``: testing those exact types is much faster than
    the ``Mapping``/``Sequence`` ABCs, and this runs for every value read.
    """
    if value is None:
        return ()
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if isinstance(item, list) or (isinstance(item, dict)
                                          and ("@list" in item or "@set" in item)):
                items.extend(_values(item))
            elif item is not None:
                items.append(item)
        return items
    if isinstance(value, dict) and ("@list" in value or "@set" in value):
        return _values(value.get("@list", value.get("@set")))
    return (value,)


def _types(node: Node) -> list[str]:
    found = node.get("@type", node.get("type"))
    return [_strip(t) for t in _values(found) if isinstance(t, str)]


def _ref(value: Any) -> str | None:
    """An IRI or a string from a value: a string, ``{"@id"}``, ``{"id"}``, ``{"url"}``, ``@value``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return next((found for found in map(_ref, value) if found), None)
    if isinstance(value, dict):
        node = _node(value)
        for key in ("@id", "id", "url", "contentUrl", "@value"):
            found = node.get(key)
            if isinstance(found, str) and found.strip():
                return found.strip()
            if isinstance(found, (list, dict)):
                inner = _ref(found)
                if inner:
                    return inner
    return None


def _is_language_map(value: Mapping[str, Any]) -> bool:
    return bool(value) and all(
        isinstance(k, str) and k not in _NOT_LANGUAGE_KEYS and _LANGUAGE_MAP_KEY.match(k)
        for k in value)


def _strings(value: Any, default: str) -> Iterator[tuple[str, str]]:
    """(language key, text) pairs of a text value in any JSON-LD shape."""
    for item in _values(value):
        if isinstance(item, str):
            yield default, item
        elif isinstance(item, dict):
            if "@value" in item:
                text = item["@value"]
                if isinstance(text, str):
                    lang = item.get("@language")
                    yield (language_key(lang) if isinstance(lang, str) else default), text
            elif _is_language_map(item):
                for lang, texts in item.items():
                    key = language_key(None if lang == "@none" else lang)
                    for text in _values(texts):
                        if isinstance(text, str):
                            yield key, text
            else:  # a DefinedTerm or Thing standing for its name
                node = _node(item)
                yield from _strings(node.get("name", node.get("prefLabel")), default)


def _first_string(value: Any) -> str | None:
    for _, text in _strings(value, "@none"):
        text = text.strip()
        if text:
            return text
    return None


def _default_language(payload: Mapping[str, Any], node: Node) -> str:
    for context in _values(payload.get("@context")):
        if isinstance(context, dict) and isinstance(context.get("@language"), str):
            return language_key(context["@language"])
    languages = _languages(node.get("inLanguage"))
    return language_key(languages[0]) if len(languages) == 1 else language_key(None)


def _languages(value: Any) -> list[str]:
    raw: list[str] = []
    for item in _values(value):
        if isinstance(item, str):
            raw.append(item.strip())
        elif isinstance(item, dict):  # {"@value": "en"} or a schema:Language
            node = _node(item)
            code = node.get("@value", node.get("alternateName", node.get("identifier")))
            found = _first_string(code) if code is not None else _first_string(node.get("name"))
            if found:
                raw.append(found)
    return normalize_languages(raw) if raw else []


def _select(payload: Mapping[str, Any]) -> tuple[Node, dict[str, Node]]:
    """The resource node (the payload, or the best-typed node of its ``@graph``), and the
    graph's other nodes by ``@id`` (a creator may be given as ``{"@id": ...}`` only)."""
    graph = payload.get("@graph")
    if graph is None:
        return _node(payload), {}
    nodes = [_node(n) for n in _values(graph) if isinstance(n, dict)]
    if not nodes:
        return _node(payload), {}
    index = {i: n for n in nodes if isinstance(i := n.get("@id", n.get("id")), str)}
    typed = [(n, set(_types(n))) for n in nodes]
    for wanted in _RESOURCE_TYPES:
        for node, types in typed:
            if wanted in types:
                return node, index
    for node, types in typed:
        if types & _CREATIVE_WORKS:
            return node, index
    return nodes[0], index


# --- terms -----------------------------------------------------------------------------

def _term(value: Any, code_scheme: str | None) -> Term | None:
    """One ``_terms`` pair from a string, an IRI reference or a DefinedTerm/concept."""
    if isinstance(value, str):
        text = " ".join(value.split())
        return text_or_uri(text) if text else None
    if not isinstance(value, dict):
        return None
    node = _node(value)
    if "@value" in node:
        value_text = _first_string(node)
        return text_or_uri(value_text) if value_text else None
    for key in ("@id", "id", "url"):
        iri = _ref(node.get(key))
        if iri and is_iri(iri):
            return "uri", iri
    code = _first_string(node.get("termCode", node.get("codeValue")))
    if code and code_scheme:
        scheme = node.get("inDefinedTermSet", node.get("inCodeSet"))
        scheme_text = " ".join(
            s for s in (_ref(scheme), _first_string(scheme)) if s) if scheme else ""
        if "isced" in scheme_text.lower():
            return code_scheme, code
    label = _first_string(node.get("name", node.get("prefLabel")))
    if label:
        return "text", label
    return ("text", code) if code else None


def _add_terms(target: list[Term], value: Any, code_scheme: str | None) -> None:
    for item in _values(value):
        term = _term(item, code_scheme)
        if term is None:
            continue
        if code_scheme == "isced-f" and term[0] == "text":
            code = isced_f_code(term[1])
            if code is not None:
                add_unique(target, ("isced-f", code))
                if code == term[1]:
                    continue
        add_unique(target, term)


def _audience_terms(target: list[Term], value: Any) -> None:
    for item in _values(value):
        if isinstance(item, dict):
            node = _node(item)
            role = node.get("educationalRole", node.get("audienceType"))
            if role is not None:
                _add_terms(target, role, None)
                continue
        _add_terms(target, item, None)


def _alignments(value: Any, levels: list[Term], about: list[Term]) -> None:
    for item in _values(value):
        if not isinstance(item, dict):
            continue
        node = _node(item)
        kind = "".join((_first_string(node.get("alignmentType")) or "").split()).lower()
        if kind == "educationallevel":
            target = levels
        elif kind in ("educationalsubject", "teaches"):
            target = about
        else:
            continue
        url = _ref(node.get("targetUrl"))
        if url and is_iri(url):
            add_unique(target, ("uri", url))
            continue
        name = _first_string(node.get("targetName"))
        if name:
            add_unique(target, ("text", name))


# --- agents ----------------------------------------------------------------------------

def _agent(value: Any, options: CrosswalkOptions, index: Mapping[str, Node],
           depth: int = 0, role: Role = "creator") -> AgentRecord | None:
    if isinstance(value, dict) and index and value.keys() <= _REFERENCE_KEYS:
        reference = value.get("@id", value.get("id"))  # a bare reference to a graph node
        if isinstance(reference, str) and reference in index:
            value = index[reference]
    if isinstance(value, str):
        try:
            return parse_name(value, role).to_dict(include_contacts=options.include_contacts)
        except ValueError:  # blank once cleaned
            return None
    if not isinstance(value, dict):
        return None
    node = _node(value)
    types = set(_types(node))
    name = clean_text(_first_string(node.get("name")) or "")
    if not name:
        given = _first_string(node.get("givenName"))
        family = _first_string(node.get("familyName"))
        name = clean_text(" ".join(p for p in (given, family) if p))
        if name and not types:
            types = {"Person"}
    # "Jane <jane2@example.org>": the address is no part of the name (normalize/contacts.py).
    name, emails, phones = split_contacts(name)
    if not name:
        return None
    stated: AgentType | None = None
    if types & _PERSON_TYPES:
        stated = "Person"
    elif types & _ORGANIZATION_TYPES:
        stated = "Organization"
    # Only registry identifiers (ORCID, ROR, ISNI, GND) identify an agent across members.
    registry = None
    for candidate in (node.get("@id"), node.get("id"), *_values(node.get("sameAs")),
                      node.get("identifier")):
        reference = _ref(candidate)
        registry = registry_id(reference) if reference else None
        if registry:
            break
    # untyped: the evidence decides, as for a DC name string (normalize/agents.py)
    kind = classify(name, role=role, stated=stated, identifier=registry,
                    structured_name=bool(node.get("givenName") or node.get("familyName")))
    agent: AgentRecord = {"type": kind, "name": name} if kind else {"name": name}
    if registry:
        agent["id"] = registry
    if depth == 0:
        affiliation = next((a for a in (_agent(v, options, index, 1)
                                        for v in _values(node.get("affiliation"))) if a), None)
        if affiliation is not None:
            # schema.org: an affiliation is an Organization, named and identified; its contacts
            # are no part of it (the record's affiliation allows type, name and id alone).
            organization: Affiliation = {"type": "Organization", "name": affiliation["name"]}
            if "id" in affiliation:
                organization["id"] = affiliation["id"]
            if "type" not in agent:  # schema.org: affiliation is a Person's property
                agent = {"type": "Person", **agent}
            agent["affiliation"] = organization
    if options.include_contacts:
        email = _first_string(node.get("email"))
        found = find_emails(email) if email else []
        email = found[0] if found else (emails[0] if emails else None)
        if email:
            agent["email"] = email
        phone = _first_string(node.get("telephone")) or (phones[0] if phones else None)
        if phone:
            agent["telephone"] = phone
    return agent


# --- the crosswalk -----------------------------------------------------------------------

def crosswalk_lrmi(payload: Mapping[str, Any], options: CrosswalkOptions) -> Description:
    """Crosswalk one LRMI/schema.org JSON-LD object (or ``@graph``) to a description.

    Pure: the payload is only read. See the module docstring for the mapping.
    """
    node, index = _select(payload)
    default = _default_language(payload, node)
    out: Description = {"type": ["LearningResource"]}
    terms: dict[str, list[Term]] = {}

    name: dict[str, str] = {}
    for lang, text in _strings(node.get("name", node.get("headline")), default):
        cleaned = clean_text(text)
        if cleaned:
            put_text(name, lang, cleaned, join=False)
    if name:
        out["name"] = name

    description = description_map((lang, clean_text(text))
                                  for lang, text in _strings(node.get("description"), default))
    if description:
        out["description"] = description

    raw_keywords = node.get("keywords")
    if raw_keywords is not None:
        keywords: dict[str, list[str]] = {}
        seen: set[tuple[str, str]] = set()
        # One string is a delimited list ("a, b; c"); a JSON list already lists them.
        split = not isinstance(raw_keywords, list)
        for lang, text in _strings(raw_keywords, default):
            words = split_keywords(text) if split else [clean_text(text)]
            for word in words:
                if word:
                    add_keyword(keywords, seen, lang, word)
        if keywords:
            out["keywords"] = keywords

    languages = _languages(node.get("inLanguage"))
    if languages:
        out["inLanguage"] = languages

    _identifiers(out, node)
    _license(out, node, default)
    _fields(out, node)

    levels: list[Term] = []
    about: list[Term] = []
    types: list[Term] = []
    audience: list[Term] = []
    _add_terms(types, node.get("learningResourceType"), None)
    _add_terms(levels, node.get("educationalLevel"), "isced-2011")
    _audience_terms(audience, node.get("audience"))
    _add_terms(about, node.get("about"), "isced-f")
    _add_terms(about, node.get("teaches"), "isced-f")
    _alignments(node.get("educationalAlignment"), levels, about)
    for field, found in (("learningResourceType", types), ("educationalLevel", levels),
                         ("audience", audience), ("about", about)):
        if found:
            terms[field] = found

    agents: Description = {}  # the agent fields alone, until they join ``out``
    seen_agents: set[str] = set()
    roles: tuple[tuple[Role, tuple[str, ...]], ...] = (
        ("creator", ("creator", "author")), ("contributor", ("contributor",)))
    for role, keys in roles:
        for key in keys:
            add_agents(agents, role, (a for a in (_agent(v, options, index, role=role)
                                                  for v in _values(node.get(key))) if a),
                       seen_agents)
    add_agents(agents, "publisher", (a for a in (_agent(v, options, index, role="publisher")
                                                 for v in _values(node.get("publisher"))) if a),
               set())
    out.update(agents)
    return finish(out, terms)


def _identifiers(out: Description, node: Node) -> None:
    identifiers: list[str] = []
    urls: list[str] = []

    def add(value: str | None, scheme: str | None = None) -> None:
        found = classify_identifier(value, scheme) if value else None
        if found is not None:
            kind, text = found
            add_unique(identifiers if kind == "id" else urls, text)

    for item in _values(node.get("url")):
        add(_ref(item))
    for item in _values(node.get("identifier")):
        if isinstance(item, dict) and not ({"@id", "id"} & item.keys()):
            prop = _node(item)  # a PropertyValue {"propertyID": "DOI", "value": "10..."}
            add(_first_string(prop.get("value")), _first_string(prop.get("propertyID")))
        else:
            add(_ref(item))
    add(_ref(node.get("@id", node.get("id"))))  # after url: a DOI @id, or the url's stand-in
    url = pick_url(urls)
    if url:
        out["url"] = url
    if identifiers:
        out["identifier"] = identifiers


def _license(out: Description, node: Node, default: str) -> None:
    notice: dict[str, str] = {}
    for item in _values(node.get("license")):
        text = _ref(item) or _first_string(item)
        if not text:
            continue
        licence = canonical_license(text)
        if licence is not None:
            out.setdefault("license", {"id": licence})
        elif cleaned := clean_text(text):  # a licence that is only a BOM or markup says nothing
            put_text(notice, default, cleaned, join=True)
    for lang, text in _strings(node.get("copyrightNotice"), default):
        cleaned = clean_text(text)
        if cleaned:
            put_text(notice, lang, cleaned, join=True)
    if notice:
        out["copyrightNotice"] = notice


_DATE_KEYS: tuple[tuple[DateField, tuple[str, ...]], ...] = (
    ("dateCreated", ("dateCreated",)), ("datePublished", ("datePublished", "uploadDate")),
    ("dateModified", ("dateModified",)))


def _fields(out: Description, node: Node) -> None:
    for field, keys in _DATE_KEYS:
        date = _first(node, keys, normalize_date)
        if date:
            out[field] = date
    duration = _first(node, ("duration", "timeRequired"), normalize_duration)
    if duration:
        out["duration"] = duration

    formats: list[str] = []
    for key in ("encodingFormat", "fileFormat"):
        for item in _values(node.get(key)):
            found = media_type(item) if isinstance(item, str) else None
            if found:
                add_unique(formats, found)
    if formats:
        out["encodingFormat"] = formats

    free = node.get("isAccessibleForFree")
    for item in _values(free):
        if isinstance(item, bool):
            out["isAccessibleForFree"] = item
        else:
            text = (_ref(item) or "").lower()
            if text in _TRUE:
                out["isAccessibleForFree"] = True
            elif text in _FALSE:
                out["isAccessibleForFree"] = False
            else:
                continue
        break

    for key in ("image", "thumbnailUrl"):
        image = next((u for u in (http_url(r) for r in map(_ref, _values(node.get(key))) if r)
                      if u), None)
        if image:
            out["image"] = image
            break

    ages = [a for a in (age_range(v) for v in _values(node.get("typicalAgeRange"))
                        if isinstance(v, str)) if a]
    spanned = span(ages)  # several ranges ("2-5", "5-8") make one that spans them ("2-8")
    if spanned:  # None when there is no range
        out["typicalAgeRange"] = spanned


def _first(node: Node, keys: tuple[str, ...], normalize: Any) -> str | None:
    for key in keys:
        for item in _values(node.get(key)):
            text = _ref(item) if isinstance(item, dict) else item
            if isinstance(text, str) and text.strip():
                found: str | None = normalize(text.strip())
                if found:
                    return found
    return None
