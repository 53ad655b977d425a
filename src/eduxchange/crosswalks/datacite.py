"""DataCite Metadata Schema (kernel 3 and 4) and ``oai_datacite`` -> a description.

DataCite is what Zenodo, Figshare, many institutional repositories and data centres serve
beside ``oai_dc``; it says more: typed dates, name types, ORCID/ROR identifiers, licence IRIs,
typed descriptions. Two bindings reach us over OAI-PMH:

* the kernel's own ``<resource>`` (``http://datacite.org/schema/kernel-4``, ``kernel-3``),
  which Zenodo serves under the prefixes ``datacite`` and ``datacite4`` (its recorded
  ListMetadataFormats);
* DataCite's OAI wrapper ``<oai_datacite>`` (``http://schema.datacite.org/oai/oai-1.1/``, Zenodo's
  ``oai_datacite``), holding ``schemaVersion``, ``datacentreSymbol`` and the ``<resource>`` in
  ``<payload>``.

Elements are compared by local name, so kernels 3 and 4.0-4.5 are read alike (DataCite
Metadata Schema 4.5 documentation, "Properties"). Mapping decisions, and why:

* ``identifier`` (DOI, 1) -> ``identifier`` as ``https://doi.org/...``; the DOI resolver IRI
  is also ``url`` unless an ``alternateIdentifier`` of type URL gives the landing page: a DOI
  resolves to its landing page by definition (DOI Handbook 3.8), and the kernel has no other
  URL. Other alternate identifiers are classified as in Dublin Core (handles, ISBNs, URNs);
  the repository's own OAI identifier is not the resource's.
* ``titles``: untyped titles and ``TranslatedTitle`` are the name (one per language, first
  wins); ``AlternativeTitle``, ``Subtitle`` and ``Other`` are not the name.
* ``creators``/``contributors``: ``nameType`` decides Person or Organization (where it is
  given; otherwise the name rules of :func:`~eduxchange.normalize.vcard.parse_name`);
  ``givenName familyName`` is the person's name when both are given and the ``creatorName``
  is inverted ("Family, Given"); an ORCID/ROR/ISNI/GND ``nameIdentifier`` is the ``id``; the
  first ``affiliation`` of a person is its affiliation. ``contributorType`` ``HostingInstitution``,
  ``Distributor``, ``RegistrationAgency``, ``RegistrationAuthority`` are no contributors to the
  resource and are left out.
* ``publisher`` is an Organization (DataCite 4.5, property 4: "the name of the entity that
  holds, archives, publishes, prints, distributes, releases, issues, or produces the resource").
* ``dates``: ``Issued`` -> ``datePublished`` (else ``publicationYear``), ``Created`` ->
  ``dateCreated``, ``Updated`` -> ``dateModified``.
* ``resourceType``: ``resourceTypeGeneral`` terms that are DCMI Type terms become
  ``("DCMIType", term)`` (``Audiovisual`` is DCMI's ``MovingImage``: DataCite defines it as "a
  series of visual representations imparting an impression of motion"); the free text
  (Zenodo's "Presentation", "Lecture", "Video/Audio") is a ``text`` term, and so is any other
  general type (``JournalArticle``...), so the unmapped report shows them.
* ``subjects``: keywords, and ``about`` terms: ``valueURI`` as ``uri``, an ISCED-F code by its
  ``subjectScheme``, the text as ``text``.
* ``rightsList``: ``rightsURI`` (or ``rightsIdentifier``, an SPDX id) recognised as a licence ->
  ``license``; ``info:eu-repo/semantics/openAccess`` and the COAR access terms ->
  ``isAccessibleForFree`` as in Dublin Core; other texts -> ``copyrightNotice``.
* ``descriptions``: ``Abstract``, ``Other`` and untyped ones are the description;
  ``Methods``, ``SeriesInformation``, ``TableOfContents``, ``TechnicalInfo`` are not.
* ``formats``: media types only -> ``encodingFormat``; ``language`` -> ``inLanguage``.

Not read (the record has no field for them): sizes, version, related identifiers, funding
references, geolocations.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lxml import etree

from ..normalize.dates import normalize_date
from ..normalize.languages import language_key, normalize_languages
from ..normalize.licenses import canonical_license
from ..normalize.text import clean_text, split_keywords
from ..normalize.agents import AgentType, Role, classify
from ..normalize.vcard import Agent, parse_name, registry_id
from ..core.record import Agent as AgentRecord, DateField, Description
from . import CrosswalkOptions
from .common import add_unique, classify_identifier, description_map, media_type, put_text
from .dc import (
    DCMI_TYPES,
    Term,
    access_status,
    add_agents,
    add_keyword,
    finish,
    is_iri,
    isced_f_code,
)

__all__ = ["crosswalk_datacite", "KERNEL_NAMESPACES", "OAI_DATACITE_NAMESPACE"]


#: DataCite kernel namespaces (the schema's own ``<resource>``).
KERNEL_NAMESPACES = (
    "http://datacite.org/schema/kernel-4",
    "http://datacite.org/schema/kernel-3",
    "http://datacite.org/schema/kernel-2.2",
)
#: DataCite's OAI-PMH wrapper (``oai_datacite``, oai-1.1 and 1.0).
OAI_DATACITE_NAMESPACE = "http://schema.datacite.org/oai/oai-1.1/"

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NAME_TITLE_TYPES = frozenset({"", "translatedtitle"})
_DESCRIPTION_TYPES = frozenset({"", "abstract", "other"})
#: contributorType values naming no contributor to the resource itself.
_NOT_CONTRIBUTORS = frozenset({"hostinginstitution", "distributor", "registrationagency",
                               "registrationauthority"})
_DATE_FIELDS: dict[str, DateField] = {"issued": "datePublished", "created": "dateCreated",
                                      "updated": "dateModified"}
#: resourceTypeGeneral -> DCMI Type term, where DataCite's definition is DCMI's.
_GENERAL_TO_DCMI = {**DCMI_TYPES, "audiovisual": "MovingImage"}


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(el: Any) -> str:
    return clean_text("".join(el.itertext())) if len(el) else clean_text(el.text or "")


def _resource(payload: etree._Element) -> etree._Element:
    """The kernel ``<resource>``: the payload itself, or the one inside ``oai_datacite``."""
    if _local(payload) != "oai_datacite":
        return payload
    for child in payload:
        if _local(child) == "payload":
            for inner in child:
                if _local(inner) == "resource":
                    return inner
    return payload  # nothing inside: an empty description, and the record says what is missing



def _typed_texts(el: Any, name: str, type_attribute: str, wanted: Collection[str]
                 ) -> list[tuple[str, str]]:
    """(language key, text) of the ``name`` children of ``el`` whose ``type_attribute`` (e.g.
    ``titleType``, lower-cased; absent is ``""``) is one of ``wanted``; empty texts skipped."""
    found: list[tuple[str, str]] = []
    for child in el:
        if _local(child) != name:
            continue
        if (child.get(type_attribute) or "").strip().lower() not in wanted:
            continue
        text = _text(child)
        if text:
            found.append((language_key(child.get(_XML_LANG)), text))
    return found

class _Walk:
    def __init__(self, options: CrosswalkOptions) -> None:
        self.options = options
        self.out: Description = {"type": ["LearningResource"]}
        self.terms: dict[str, list[Term]] = {}
        self.identifiers: list[str] = []
        self.urls: list[str] = []
        self.agents: Description = {}  # the agent fields alone, until result()
        self.seen_agents: set[str] = set()
        self.year: str | None = None

    def term(self, field: str, term: Term) -> None:
        add_unique(self.terms.setdefault(field, []), term)

    # -- properties -------------------------------------------------------

    def identifier(self, el: Any) -> None:
        kind = (el.get("identifierType") or "DOI").strip().lower()
        found = classify_identifier(_text(el), "doi" if kind == "doi" else kind)
        if found is not None:
            add_unique(self.identifiers if found[0] == "id" else self.urls, found[1])

    def alternate_identifiers(self, el: Any) -> None:
        for child in el:
            if _local(child) != "alternateIdentifier":
                continue
            kind = (child.get("alternateIdentifierType") or "").strip().lower()
            if kind == "oai":
                continue
            found = classify_identifier(_text(child), kind or None)
            if found is not None:
                add_unique(self.identifiers if found[0] == "id" else self.urls, found[1])

    def titles(self, el: Any) -> None:
        names: dict[str, str] = self.out.get("name", {})
        for lang, text in _typed_texts(el, "title", "titleType", _NAME_TITLE_TYPES):
            put_text(names, lang, text, join=False)
        if names:
            self.out["name"] = names

    def descriptions(self, el: Any) -> None:
        pairs: list[tuple[str, str]] = list(self.out.get("description", {}).items())
        pairs += _typed_texts(el, "description", "descriptionType", _DESCRIPTION_TYPES)
        texts = description_map(pairs)  # kept apart, untagged ones by language (.common)
        if texts:
            self.out["description"] = texts

    def names(self, el: Any, role: Role) -> None:
        element = "creator" if role == "creator" else "contributor"
        found: list[AgentRecord] = []
        for child in el:
            if _local(child) != element:
                continue
            if role == "contributor":
                kind = (child.get("contributorType") or "").strip().lower()
                if kind in _NOT_CONTRIBUTORS:
                    continue
            agent = self.agent(child, element + "Name", "creator" if role == "creator" else "contributor")
            if agent is not None:
                found.append(agent.to_dict(include_contacts=self.options.include_contacts))
        add_agents(self.agents, role, found, self.seen_agents)

    def agent(self, el: Any, name_element: str, role: Role) -> Agent | None:
        name = given = family = ""
        name_type = ""
        identifier: str | None = None
        affiliation: Agent | None = None
        for child in el:
            local = _local(child)
            if local == name_element:
                name = _text(child)
                name_type = (child.get("nameType") or "").strip().lower()
            elif local == "givenName":
                given = _text(child)
            elif local == "familyName":
                family = _text(child)
            elif local == "nameIdentifier" and identifier is None:
                identifier = registry_id(_text(child), context=child.get("nameIdentifierScheme") or "")
            elif local == "affiliation" and affiliation is None:
                text = _text(child)
                if text:
                    ror = registry_id(child.get("affiliationIdentifier") or "")
                    affiliation = Agent(type="Organization", name=text, id=ror)
        if not name:
            name = f"{given} {family}".strip()
        if not name:
            return None
        try:
            parsed = parse_name(name, role)
        except ValueError:
            return None
        if name_type == "organizational":  # as written: no "Family, Given" reading
            return Agent(type="Organization", name=name, id=identifier or parsed.id)
        # An ORCID, or givenName and familyName, is evidence where the name alone gives none.
        kind: AgentType | None = "Person" if name_type == "personal" else classify(
            parsed.name, role=role, stated=parsed.type, identifier=identifier,
            structured_name=bool(given and family))
        person_name = parsed.name
        if kind == "Person" and given and family and family != given and "," in name:
            person_name = f"{given} {family}"  # "Family, Given" with both parts given
        return Agent(type=kind, name=person_name, id=identifier or parsed.id,
                     affiliation=affiliation if kind == "Person" else None)

    def publisher(self, el: Any) -> None:
        text = _text(el)
        if text:
            identifier = registry_id(el.get("publisherIdentifier") or "")
            agent = Agent(type="Organization", name=text, id=identifier)
            add_agents(self.agents, "publisher", [agent.to_dict()], set())

    def dates(self, el: Any) -> None:
        for child in el:
            if _local(child) != "date":
                continue
            field = _DATE_FIELDS.get((child.get("dateType") or "").strip().lower())
            if field is None or field in self.out:
                continue
            value = _text(child).split("/", 1)[0]  # a range "2020-01/2020-06": its start
            date = normalize_date(value)
            if date:
                self.out[field] = date

    def resource_type(self, el: Any) -> None:
        general = (el.get("resourceTypeGeneral") or "").strip()
        dcmi = _GENERAL_TO_DCMI.get(general.lower())
        if dcmi is not None:
            self.term("learningResourceType", ("DCMIType", dcmi))
        elif general:
            self.term("learningResourceType", ("text", general))
        text = " ".join(_text(el).split())
        if text and text.casefold() != general.casefold():
            self.term("learningResourceType", ("text", text))

    def subjects(self, el: Any) -> None:
        keywords: dict[str, list[str]] = self.out.get("keywords", {})
        seen: set[tuple[str, str]] = {(k, w.casefold()) for k, ws in keywords.items() for w in ws}
        for child in el:
            if _local(child) != "subject":
                continue
            text = _text(child)
            uri = (child.get("valueURI") or "").strip()
            scheme = child.get("subjectScheme")
            if uri and is_iri(uri):
                self.term("about", ("uri", uri))
            if not text:
                continue
            if scheme is not None and "isced" in scheme.lower():
                code = isced_f_code(text, scheme) or isced_f_code(
                    child.get("classificationCode") or "", scheme)
                if code:
                    self.term("about", ("isced-f", code))
                    continue
            if is_iri(text):
                self.term("about", ("uri", text))
                continue
            key = language_key(child.get(_XML_LANG))
            for word in split_keywords(text):
                if add_keyword(keywords, seen, key, word) and not uri:
                    self.term("about", ("text", word))
        if keywords:
            self.out["keywords"] = keywords

    def rights(self, el: Any) -> None:
        notice: dict[str, str] = {}
        for child in el:
            if _local(child) != "rights":
                continue
            uri = (child.get("rightsURI") or "").strip()
            spdx = (child.get("rightsIdentifier") or "").strip()
            text = _text(child)
            statuses = [access_status(c) for c in (uri, text) if c]
            found = [s for s in statuses if s is not None]
            if found:  # an access-status term (info:eu-repo, COAR): no licence, no notice
                if isinstance(found[0], bool):
                    self.out.setdefault("isAccessibleForFree", found[0])
                continue
            licence = next((lic for lic in (canonical_license(c) for c in (uri, spdx, text) if c)
                            if lic is not None), None)
            if licence is not None:
                self.out.setdefault("license", {"id": licence})
            elif text:
                put_text(notice, language_key(child.get(_XML_LANG)), text, join=True)
        if notice:
            self.out["copyrightNotice"] = notice

    def formats(self, el: Any) -> None:
        found: list[str] = self.out.get("encodingFormat", [])
        for child in el:
            if _local(child) == "format":
                value = media_type(_text(child))
                if value:
                    add_unique(found, value)
        if found:
            self.out["encodingFormat"] = found

    def language(self, el: Any) -> None:
        languages = normalize_languages([_text(el)])
        if languages:
            existing = self.out.setdefault("inLanguage", [])
            for tag in languages:
                add_unique(existing, tag)

    # -- result ------------------------------------------------------------

    def result(self) -> Description:
        out = self.out
        if "datePublished" not in out and self.year:
            date = normalize_date(self.year)
            if date:
                out["datePublished"] = date
        url = self.urls[0] if self.urls else next(
            (i for i in self.identifiers if i.startswith("https://doi.org/")), None)
        if url:
            out["url"] = url
        if self.identifiers:
            out["identifier"] = self.identifiers
        out.update(self.agents)
        return finish(out, self.terms)


def crosswalk_datacite(payload: etree._Element, options: CrosswalkOptions) -> Description:
    """One DataCite ``<resource>`` (kernel 3/4) or ``<oai_datacite>`` element -> a description.

    Pure: the element is not modified. See the module docstring for the mapping.
    """
    walk = _Walk(options)
    for child in _resource(payload):
        name = _local(child)
        if name == "identifier":
            walk.identifier(child)
        elif name == "alternateIdentifiers":
            walk.alternate_identifiers(child)
        elif name == "titles":
            walk.titles(child)
        elif name == "creators":
            walk.names(child, "creator")
        elif name == "contributors":
            walk.names(child, "contributor")
        elif name == "publisher":
            walk.publisher(child)
        elif name == "publicationYear":
            walk.year = _text(child)
        elif name == "dates":
            walk.dates(child)
        elif name == "resourceType":
            walk.resource_type(child)
        elif name == "subjects":
            walk.subjects(child)
        elif name == "rightsList":
            walk.rights(child)
        elif name == "descriptions":
            walk.descriptions(child)
        elif name == "formats":
            walk.formats(child)
        elif name == "language":
            walk.language(child)
    return walk.result()
