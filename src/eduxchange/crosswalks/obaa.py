"""OBAA (Objetos de Aprendizagem Baseados em Agentes), including its flattened form -> a description.

OBAA is the IEEE LOM extension Brazil's national platforms use (FEB, the Federação de
Repositórios Educa Brasil, and the repositories it federates): the LOM categories in the LOM
namespace under a root ``<obaa:obaa>``, plus OBAA's own categories (accessibility, segment
information) that the common record has no field for. That form is LOM and is read by the LOM
walk (:func:`~eduxchange.crosswalks.lom.crosswalk_lom`).

FEB also serves records of DSpace repositories (Fiocruz's ARCA: 2,084 of the real records we
hold) in a *flattened* form: each Dublin Core value of the DSpace item becomes one element named
``obaa`` + the LOM element, all directly under ``<obaa:general>`` and in no stable order
(``obaaTitle``, ``obaaKeyword``, ``obaaDescription``, ``obaaLanguage``, ``obaaIdentifier``,
``obaaDate``, ``obaaEntity``, ``obaaRole``, ``obaaLearningResourceType``,
``obaaRightsDescription``, ``obaaFormat``, ``obaaLocation``, ``obaaIntendedEndUserRole``). The LOM
walk finds no title there and the record was quarantined. We read it, because these are real OER
and theses of a national federation, named and valued as LOM names them, and refusing them loses
the largest part of Brazil's federated catalogue; what cannot be read faithfully is left out:

* the values are DSpace's DC, so they are read by the Dublin Core rules where LOM's differ:
  identifiers by :func:`~eduxchange.crosswalks.common.classify_identifier` (DOIs, handles; ISSNs
  and citations dropped), the landing page by :func:`~eduxchange.crosswalks.common.pick_url`
  (``obaaLocation`` first), ``datePublished`` the earliest ``obaaDate`` (DSpace writes
  ``date.issued`` beside the accession dates, which are later);
* ``obaaEntity`` and ``obaaRole`` are not paired: their order is lost in the flattening. When
  every role is the same (``Autor`` in 1,681 of the records), every entity has it; when roles
  differ (``Autor`` and ``Publisher``: 368), the publishers are the entities that name an
  organisation if their number is the number of ``Publisher`` roles, the others creators; else
  all are contributors, claiming no role;
* ``obaaTitle``: the first is the name (DSpace's ``title.alternative`` comes flattened too, with
  nothing to tell it apart); several descriptions are kept as the LOM walk keeps them;
* ``obaaLearningResourceType`` holds DSpace's ``dc.type`` (Article, Dissertation, Video): ``text``
  terms, mapped by the tables like any free text.

A record with both forms (some FEB records carry structured categories too) is read by the LOM
walk first; the flattened values fill what it left empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

from lxml import etree

from ..normalize.dates import normalize_date
from ..normalize.languages import normalize_languages
from ..normalize.licenses import canonical_license
from ..normalize.text import clean_text
from ..normalize.agents import Role
from ..normalize.vcard import looks_like_organization, parse_name
from ..core.record import Agent as AgentRecord, Description
from . import CrosswalkOptions
from .common import add_unique, classify_identifier, description_map, media_type, pick_url
from .dc import earliest
from .lom import crosswalk_lom

__all__ = ["crosswalk_obaa"]


_CREATOR = frozenset({"autor", "author", "autora", "autores", "creator", "criador"})
_PUBLISHER = frozenset({"publisher", "editor", "editora", "publicador"})


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _flattened(element: etree._Element) -> dict[str, list[str]]:
    """The flattened ``obaa*`` values under the root's categories, by lower-cased name."""
    found: dict[str, list[str]] = {}
    for category in element:
        for child in category:
            name = _local(child.tag)
            if len(name) > 4 and name[:4] == "obaa":
                text = clean_text("".join(cast("Iterator[str]", child.itertext()))
                                  if len(child) else child.text or "")
                if text:
                    found.setdefault(name[4:].lower(), []).append(text)
    return found


def crosswalk_obaa(element: etree._Element, options: CrosswalkOptions) -> Description:
    """One ``<obaa:obaa>`` element (structured or flattened OBAA) -> a description.

    Pure: the element is not modified. See the module docstring for the mapping.
    """
    out = crosswalk_lom(element, options)
    flat = _flattened(element)
    if not flat:
        return out
    get = flat.get
    if (titles := get("title")) and "name" not in out:
        out["name"] = {"@none": titles[0]}
    if descriptions := get("description"):
        # Kept apart, untagged ones by the language identified in them (.common).
        pairs = [*out.get("description", {}).items(), *(("@none", text) for text in descriptions)]
        texts = description_map(pairs)
        if texts:
            out["description"] = texts
    if keywords := get("keyword"):
        words: list[str] = out.setdefault("keywords", {}).setdefault("@none", [])
        for word in keywords:
            add_unique(words, word)
    if languages := get("language"):
        tags: list[str] = out.setdefault("inLanguage", [])
        for tag in normalize_languages(languages):  # lists split, junk dropped
            add_unique(tags, tag)
        if not tags:
            del out["inLanguage"]
    _identifiers(out, get("location") or [], get("identifier") or [])
    if "datePublished" not in out and (dates := get("date")):
        published = earliest([d for d in (normalize_date(v) for v in dates) if d])
        if published:
            out["datePublished"] = published
    _agents(out, get("entity") or [], get("role") or [], options)
    terms: dict[str, list[tuple[str, str]]] = out.setdefault("_terms", {})
    for name, field, source in (("learningresourcetype", "learningResourceType", "text"),
                                ("intendedenduserrole", "audience", "LOMv1.0")):
        for value in get(name) or ():
            add_unique(terms.setdefault(field, []), (source, " ".join(value.split())))
    if not terms:
        del out["_terms"]
    if formats := get("format"):
        found = [t for t in (media_type(v) for v in formats) if t]
        for value in found:
            add_unique(out.setdefault("encodingFormat", []), value)
    if rights := get("rightsdescription"):
        notice: dict[str, str] = out.get("copyrightNotice", {})
        for text in rights:
            licence = canonical_license(text)
            if licence is not None:
                out.setdefault("license", {"id": licence})
            elif text not in notice.get("@none", ""):
                notice["@none"] = f"{notice['@none']} {text}" if "@none" in notice else text
        if notice:
            out["copyrightNotice"] = notice
    return out


def _identifiers(out: Description, locations: list[str], identifiers: list[str]) -> None:
    ids: list[str] = out.get("identifier", [])
    urls: list[str] = []
    for value in (*locations, *identifiers):
        found = classify_identifier(value)
        if found is not None:
            add_unique(ids if found[0] == "id" else urls, found[1])
    if ids:
        out["identifier"] = ids
    url = pick_url(urls)
    if url and "url" not in out:
        out["url"] = url


def _agents(out: Description, entities: list[str], roles: list[str],
            options: CrosswalkOptions) -> None:
    agents = []
    for text in entities:
        try:
            agents.append(parse_name(text))
        except ValueError:
            continue
    if not agents:
        return
    kinds = {r.strip().lower() for r in roles}
    publishers = sum(r.strip().lower() in _PUBLISHER for r in roles)
    assigned: list[tuple[Role, Any]]
    if len(kinds) == 1 and kinds <= _CREATOR:
        assigned = [("creator", a) for a in agents]
    elif len(kinds) == 1 and kinds <= _PUBLISHER:
        assigned = [("publisher", a) for a in agents]
    elif kinds <= _CREATOR | _PUBLISHER and publishers and sum(
            looks_like_organization(a.name) for a in agents) == publishers:
        assigned = [("publisher" if looks_like_organization(a.name) else "creator", a)
                    for a in agents]
    else:  # roles unknown or not attributable: no role claimed
        assigned = [("contributor", a) for a in agents]
    for role, agent in assigned:
        if role == "publisher" and agent.type is None:  # a publisher is an organisation
            agent = replace(agent, type="Organization")  # unless there is evidence of a person
        target: list[AgentRecord] = out.setdefault(role, [])
        if all(known.get("name") != agent.name for known in target):
            target.append(agent.to_dict(include_contacts=options.include_contacts))
