"""Dublin Core crosswalks: ``oai_dc`` and qualified DC to a description (docs/record.md).

``oai_dc`` is the format every OAI-PMH repository must serve (OAI-PMH 2.0, section 3.4;
schema ``oai_dc.xsd``): one flat element whose children are the fifteen DCMI elements
(``http://purl.org/dc/elements/1.1/``). Qualified DC has no single binding: DSpace, OJS
and others serve a root of their own (``qdc``, ``dcterms:qualifieddc``,
``oai_qdc:qualifieddc``, ...) holding ``dc:`` and ``dcterms:`` children. Both
crosswalks therefore read the direct children of whatever root they are given, once,
dispatching on the tag through a table, and never use XPath: they run for every
harvested record.

Mapping decisions that the DC standard leaves open, and why:

* several ``dc:date`` (DSpace flattens ``date.accessioned``, ``date.available`` and
  ``date.issued`` into ``dc:date``, issued last): ``datePublished`` is the *earliest*,
  an explicit ``dcterms:issued`` wins over any plain date;
* ``dc:identifier``: DOIs, handles, ISBNs and URNs (``urn:nbn``) go to ``identifier``;
  ``url`` is the first other http(s) URL that does not point at a file (a PDF, a DSpace
  bitstream), else the first one. Citations and local numbers are dropped;
* ``dc:rights``, ``dcterms:license``, ``dcterms:accessRights``: a recognised licence
  becomes ``license`` (the first one wins); access-status terms are no copyright notice
  and set ``isAccessibleForFree`` only when explicit: ``true`` for
  ``info:eu-repo/semantics/openAccess``, COAR "open access", "open access", "free", ...,
  ``false`` for closed/restricted access (an embargo says nothing); any other text is kept
  in ``copyrightNotice``. A licence alone says nothing about a price;
* a creator listed again as contributor (DSpace writes ``contributor.author`` as both)
  is kept once, as creator;
* each subject keyword is also an ``about`` term ``("text", keyword)``; a subject that is
  an ISCED-F code (by ``xsi:type``/``scheme``, by shape: ``0541``, or written
  ``ISCED-F 05 ...``) gives ``("isced-f", code)``, and a bare code is no keyword; a subject
  IRI is ``("uri", iri)`` only;
* ``dc:type``: DCMI Type terms (by name in any case and spacing, or by IRI) are
  ``("DCMIType", "MovingImage")`` in the vocabulary's spelling; IRIs (``info:eu-repo/...``)
  ``uri``; anything else ``text``;
* ``dc:format``: only media types (``text/html; charset=...`` -> ``text/html``;
  DSpace's ``application/pdf https://...`` -> ``application/pdf``); "PDF" or "12 pages"
  are dropped. ``dcterms:extent`` is read as a duration when it is one;
* several titles in one language: the first is the name (no way to tell which is the
  main one); several descriptions are kept apart: untagged ones get the language identified
  in them (:func:`.common.description_map`), several in one language become paragraphs.

The field rules every crosswalk shares (identifiers, URLs, media types, age ranges, language
maps) live in :mod:`.common`; the helpers below the crosswalk's tables (terms, keywords, agents)
are shared with the LRMI crosswalk (:mod:`.lrmi`), which follows the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import cast

from lxml import etree

from ..normalize.dates import normalize_date, normalize_duration
from ..normalize.languages import language_key, normalize_languages
from ..normalize.licenses import canonical_license
from ..normalize.text import clean_text, split_keywords
from ..normalize.agents import Role
from ..normalize.vcard import parse_name
from ..core.record import Agent, DateField, Description
from . import CrosswalkOptions
from .common import (  # the shared field rules; re-exported here for crosswalks importing them
    add_unique,
    age_range,
    classify_identifier,
    description_map,
    http_url,
    media_type,
    pick_url,
    put_text,
)

__all__ = ["crosswalk_dc", "crosswalk_qdc", "add_unique", "age_range", "classify_identifier",
           "http_url", "media_type", "pick_url", "put_text"]

Term = tuple[str, str]

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# --- field codes: what a child element feeds ---------------------------------------------
_TITLE, _DESCRIPTION, _SUBJECT, _TYPE, _LEVEL, _AUDIENCE, _LANGUAGE, _IDENTIFIER = range(8)
_RIGHTS, _ACCESS, _CREATOR, _CONTRIBUTOR, _PUBLISHER, _DATE, _ISSUED, _CREATED = range(8, 16)
_MODIFIED, _FORMAT, _EXTENT = range(16, 19)

_DC_FIELDS = {
    "title": _TITLE, "description": _DESCRIPTION, "subject": _SUBJECT, "type": _TYPE,
    "language": _LANGUAGE, "identifier": _IDENTIFIER, "rights": _RIGHTS,
    "creator": _CREATOR, "contributor": _CONTRIBUTOR, "publisher": _PUBLISHER,
    "date": _DATE, "format": _FORMAT,
}
# dcterms: has all fifteen elements again, plus the refinements below (DCMI Metadata Terms).
_DCTERMS_FIELDS = {
    **_DC_FIELDS,
    "abstract": _DESCRIPTION, "educationLevel": _LEVEL, "audience": _AUDIENCE,
    "mediator": _AUDIENCE, "license": _RIGHTS, "accessRights": _ACCESS, "issued": _ISSUED,
    "created": _CREATED, "modified": _MODIFIED, "extent": _EXTENT,
    # DSpace's XOAI output writes dc.format.mimetype as dcterms:IMT (the DCMI class of media
    # types, used there as an element): a media type like dc:format.
    "IMT": _FORMAT,
}
#: Clark tag -> field code; the only dispatch the loop does. The namespaces without their
#: trailing slash are mistakes seen in the wild, read alike.
_FIELDS: dict[str, int] = {
    f"{{{namespace}}}{name}": code
    for namespaces, fields in (((DC, DC.rstrip("/")), _DC_FIELDS),
                               ((DCTERMS, DCTERMS.rstrip("/")), _DCTERMS_FIELDS))
    for namespace in namespaces for name, code in fields.items()
}
# --- controlled values -------------------------------------------------------------------
_DCMITYPE_IRI = re.compile(r"^https?://purl\.org/dc/dcmitype/", re.IGNORECASE)
#: DCMI Type Vocabulary terms, looked up by lower case without spaces.
DCMI_TYPES = {t.lower(): t for t in (
    "Collection", "Dataset", "Event", "Image", "InteractiveResource", "MovingImage",
    "PhysicalObject", "Service", "Software", "Sound", "StillImage", "Text")}
_IRI_STARTS = frozenset({"http", "urn:", "info"})
_IRI = re.compile(r"^(?:https?://\S+|urn:[a-z0-9][a-z0-9-]*:\S+|info:[a-z-]+/\S+)$",
                  re.IGNORECASE)
#: ISCED-F 2013 codes: broad 00-10 (2 digits), narrow (3), detailed (4). Without a scheme
#: only a bare 3-4 digit code counts ("05" alone is too ambiguous), or one written
#: "ISCED-F 0541 ..." (then any length, optionally followed by its label).
_ISCED_F_CODE = re.compile(r"^((?:0\d|10)\d{1,2})$")
_ISCED_F_PREFIXED = re.compile(r"^isced[- ]?f(?:[- ]?2013)?\s*:?\s*((?:0\d|10)\d{0,2})(?:\s+\D.*)?$",
                               re.IGNORECASE | re.DOTALL)
_CODE_IN_SCHEME = re.compile(r"^\s*(\d{1,4})\b")
_BARE_CODE = re.compile(r"(?:isced[- ]?f(?:[- ]?2013)?\s*:?\s*)?\d{1,4}", re.IGNORECASE)

#: Access-status terms: info:eu-repo (OpenAIRE guidelines), COAR access rights, plain words.
_OPEN_ACCESS = frozenset({
    "info:eu-repo/semantics/openaccess", "http://purl.org/coar/access_right/c_abf2",
    "https://purl.org/coar/access_right/c_abf2", "open access", "openaccess", "open",
    "free", "free access", "gratis", "kostenlos", "libre accès", "accès libre", "acceso abierto",
    "offener zugang", "freier zugang",
})
_NOT_OPEN_ACCESS = frozenset({
    "info:eu-repo/semantics/closedaccess", "info:eu-repo/semantics/restrictedaccess",
    "http://purl.org/coar/access_right/c_14cb", "http://purl.org/coar/access_right/c_16ec",
    "https://purl.org/coar/access_right/c_14cb", "https://purl.org/coar/access_right/c_16ec",
})
_OTHER_ACCESS = frozenset({
    "info:eu-repo/semantics/embargoedaccess", "http://purl.org/coar/access_right/c_f1cf",
    "https://purl.org/coar/access_right/c_f1cf",
})


def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI (http(s), urn:, info:) rather than free text."""
    return value[:4].lower() in _IRI_STARTS and _IRI.match(value) is not None


def text_or_uri(value: str) -> Term:
    """``("uri", v)`` for an IRI, ``("text", v)`` otherwise."""
    return ("uri", value) if is_iri(value) else ("text", value)


def isced_f_code(value: str, scheme: str | None = None) -> str | None:
    """The ISCED-F 2013 code ``value`` carries, if it is one (by ``scheme`` or by shape)."""
    if scheme is not None and "isced" in scheme.lower():
        match = _CODE_IN_SCHEME.match(value) or _ISCED_F_PREFIXED.match(value.strip())
        return match.group(1) if match else None
    value = value.strip()
    match = _ISCED_F_CODE.match(value) or _ISCED_F_PREFIXED.match(value)
    return match.group(1) if match else None


def access_status(value: str) -> bool | None | str:
    """``True``/``False`` for an explicit open/closed access term, ``""`` for another access
    term (embargo), ``None`` when ``value`` is no access-status term at all."""
    key = " ".join(value.split()).lower().rstrip(".")
    if key in _OPEN_ACCESS:
        return True
    if key in _NOT_OPEN_ACCESS:
        return False
    if key in _OTHER_ACCESS:
        return ""
    return None


# --- shared helpers for building a description -------------------------------------------

def add_keyword(target: dict[str, list[str]], seen: set[tuple[str, str]], key: str,
                word: str) -> bool:
    """Add a keyword to a language map of lists, once per language (case-insensitively);
    whether it was new."""
    marker = (key, word.casefold())
    if marker in seen:
        return False
    seen.add(marker)
    target.setdefault(key, []).append(word)
    return True


def add_agents(target: Description, role: Role, agents: Iterable[Agent], seen: set[str]) -> None:
    """Add agents to ``target[role]``, once per name across the roles sharing ``seen``."""
    for agent in agents:
        name = agent.get("name")
        if not isinstance(name, str) or not name:
            continue
        key = " ".join(name.split()).casefold()
        if key in seen:
            continue
        seen.add(key)
        target.setdefault(role, []).append(agent)


def earliest(dates: list[str]) -> str | None:
    """The earliest of normalised ISO dates; of equal dates, the more precise one."""
    best: str | None = None
    best_key = ""
    for date in dates:
        key = date[:10] if len(date) >= 10 else date + "~"  # "~" sorts after "-"
        if best is None or key < best_key:
            best, best_key = date, key
    return best


def finish(description: Description, terms: dict[str, list[Term]]) -> Description:
    """Add ``_terms`` when it has anything; the description's fields are never empty."""
    if terms:
        description["_terms"] = terms
    return description


# --- the crosswalk -------------------------------------------------------------------------

Entry = tuple[str, str | None, str | None]  # (text, xml:lang, xsi:type or scheme)


def _crosswalk(payload: etree._Element, options: CrosswalkOptions) -> Description:
    fields = _FIELDS
    collected: dict[int, list[Entry]] = {}
    root_lang = payload.get(_XML_LANG)
    for child in payload:
        code = fields.get(child.tag)  # comments and PIs: a function as tag, not found
        if code is None:
            continue
        # Mixed content (HTML written as elements) needs all the text nodes.
        text = "".join(cast("Iterator[str]", child.itertext())) if len(child) else child.text
        if not text or text.isspace():
            continue
        lang = root_lang
        scheme = None
        attributes = child.items()  # one cheap call; most DC elements have none
        if attributes:
            for key, value in attributes:
                if key == _XML_LANG:
                    lang = str(value)
                elif (key == _XSI_TYPE or key == "scheme") and scheme is None:
                    scheme = str(value)
        entry = (text, lang, scheme)
        bucket = collected.get(code)
        if bucket is None:
            collected[code] = [entry]
        elif entry not in bucket:  # repeats are common (DSpace writes dates thrice)
            bucket.append(entry)
    return _build(collected, options)


def _build(collected: dict[int, list[Entry]],
           options: CrosswalkOptions) -> Description:
    out: Description = {"type": ["LearningResource"]}
    terms: dict[str, list[Term]] = {}
    get = collected.get

    if values := get(_TITLE):
        titles: dict[str, str] = {}
        for text, lang, _ in values:
            cleaned = clean_text(text)
            if cleaned:
                put_text(titles, language_key(lang), cleaned, join=False)
        if titles:
            out["name"] = titles
    if values := get(_DESCRIPTION):
        descriptions = description_map((language_key(lang), clean_text(text))
                                       for text, lang, _ in values)
        if descriptions:
            out["description"] = descriptions

    if values := get(_SUBJECT):
        keywords: dict[str, list[str]] = {}
        seen_keywords: set[tuple[str, str]] = set()
        about: list[Term] = []
        for text, lang, scheme in values:
            stripped = text.strip()
            if is_iri(stripped):
                add_unique(about, ("uri", stripped))
                continue
            key = language_key(lang)
            for word in split_keywords(text):
                # Codes start with a digit or "ISCED" (cheap test first: most words are not).
                if scheme is not None or word[0].isdigit() or word[:5].lower() == "isced":
                    isced = isced_f_code(word, scheme)
                    if isced is not None:
                        add_unique(about, ("isced-f", isced))
                        if _BARE_CODE.fullmatch(word):
                            continue  # a bare code classifies; it is no keyword
                if add_keyword(keywords, seen_keywords, key, word):
                    about.append(("text", word))  # new keyword: new pair
        if keywords:
            out["keywords"] = keywords
        if about:
            terms["about"] = about

    if values := get(_TYPE):
        types: list[Term] = []
        for text, _, _ in values:
            value = text.strip()
            local = _DCMITYPE_IRI.sub("", value)  # the term's IRI, or its name
            dcmi = DCMI_TYPES.get("".join(local.split()).lower())
            if dcmi is not None:
                add_unique(types, ("DCMIType", dcmi))
            else:
                add_unique(types, text_or_uri(" ".join(value.split())))
        terms["learningResourceType"] = types

    for code, field in ((_LEVEL, "educationalLevel"), (_AUDIENCE, "audience")):
        if values := get(code):
            found: list[Term] = []
            for text, _, scheme in values:
                value = " ".join(text.split())
                if code == _LEVEL and scheme and "isced" in scheme.lower():
                    match = _CODE_IN_SCHEME.match(value)
                    if match:
                        add_unique(found, ("isced-2011", match.group(1)))
                        continue
                add_unique(found, text_or_uri(value))
            terms[field] = found

    if values := get(_LANGUAGE):
        languages = normalize_languages([text.strip() for text, _, _ in values])
        if languages:
            out["inLanguage"] = languages

    if values := get(_IDENTIFIER):
        identifiers: list[str] = []
        urls: list[str] = []
        for text, _, scheme in values:
            found_id = classify_identifier(text, scheme)
            if found_id is None:
                continue
            kind, value = found_id
            add_unique(identifiers if kind == "id" else urls, value)
        url = pick_url(urls)
        if url:
            out["url"] = url
        if identifiers:
            out["identifier"] = identifiers

    rights = get(_RIGHTS)
    access = get(_ACCESS)
    if rights or access:
        _rights(out, rights or [], access or [])

    agents: Description = {}  # the agent fields alone, until they join ``out``
    seen_agents: set[str] = set()
    creators = get(_CREATOR)
    if creators:
        add_agents(agents, "creator", _parse_agents(creators, options, "creator"), seen_agents)
    if values := get(_CONTRIBUTOR):
        if creators:  # DSpace repeats every author as contributor: skip before parsing
            values = [entry for entry in values if entry not in creators]
        add_agents(agents, "contributor", _parse_agents(values, options, "contributor"), seen_agents)
    if values := get(_PUBLISHER):
        add_agents(agents, "publisher", _parse_agents(values, options, "publisher"), set())
    out.update(agents)

    issued = _dates(get(_ISSUED))
    published = issued[0] if issued else earliest(_dates(get(_DATE)))
    if published:
        out["datePublished"] = published
    date_fields: tuple[tuple[int, DateField], ...] = (
        (_CREATED, "dateCreated"), (_MODIFIED, "dateModified"))
    for code, field in date_fields:
        dates = _dates(get(code))
        if dates:
            out[field] = dates[0]

    if values := get(_FORMAT):
        formats: list[str] = []
        for text, _, _ in values:
            found_type = media_type(text)
            if found_type:
                add_unique(formats, found_type)
        if formats:
            out["encodingFormat"] = formats

    if values := get(_EXTENT):
        for text, _, _ in values:
            duration = normalize_duration(text.strip())
            if duration:
                out["duration"] = duration
                break

    return finish(out, terms)


def _dates(values: list[Entry] | None) -> list[str]:
    if not values:
        return []
    found: list[str] = []
    for text, _, _ in values:
        date = normalize_date(text.strip())
        if date:
            found.append(date)
    return found


def _parse_agents(values: list[Entry], options: CrosswalkOptions,
                  role: Role) -> Iterable[Agent]:
    for text, _, _ in values:
        try:
            agent = parse_name(text, role)
        except ValueError:  # nothing left once cleaned (markup only)
            continue
        yield agent.to_dict(include_contacts=options.include_contacts)


def _rights(out: Description, rights: list[Entry], access: list[Entry]) -> None:
    notice: dict[str, str] = {}
    for values in (rights, access):
        for text, lang, _ in values:
            status = access_status(text)
            if status is not None:
                if isinstance(status, bool) and "isAccessibleForFree" not in out:
                    out["isAccessibleForFree"] = status
                continue
            licence = canonical_license(text.strip())
            if licence is not None:
                out.setdefault("license", {"id": licence})
                continue
            cleaned = clean_text(text)
            if cleaned:
                put_text(notice, language_key(lang), cleaned, join=True)
    if notice:
        out["copyrightNotice"] = notice


def crosswalk_dc(payload: etree._Element, options: CrosswalkOptions) -> Description:
    """Crosswalk one ``<oai_dc:dc>`` element (OAI-PMH 2.0, 3.4) to a description.

    Reads the ``dc:`` children (and, leniently, ``dcterms:`` ones that some servers slip
    in). Pure: the element is not modified. See the module docstring for the mapping.
    """
    return _crosswalk(payload, options)


def crosswalk_qdc(payload: etree._Element, options: CrosswalkOptions) -> Description:
    """Crosswalk one qualified Dublin Core element (any root) to a description.

    Reads the ``dc:`` and ``dcterms:`` children (DCMI Metadata Terms): refinements such
    as ``abstract``, ``issued``, ``created``, ``modified``, ``license``, ``accessRights``,
    ``educationLevel``, ``audience``/``mediator`` and ``extent`` are used as such.
    """
    return _crosswalk(payload, options)

