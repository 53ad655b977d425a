"""Whether an agent is a person or an organisation, on evidence (issue 11, item 2).

Every crosswalk types its agents here, so a creator written ``"Zenodo"`` in DC, in LOM or in LRMI
gets one answer. :func:`classify` weighs what a source gives, strongest first:

1. **What the source says**: a vCard's ``KIND`` (RFC 6350 6.1.4) or an ``ORG`` standing alone,
   DataCite's ``nameType``, an LRMI ``@type`` (the crosswalks pass it as ``stated``).
2. **Organisation evidence in the name**: a corporate word in one of the catalogue's languages
   (``organization-words.txt``: Universidade, Ministère, GmbH, Journal, Simpósio, ...), the end of
   a compound (``Bundesministerium``), a CJK word (``大学``), ``e. V.`` or ``S.A.``, an ISSN, a
   firm's ``&`` (``"Taylor & Francis"``), the
   AACR2/RDA heading of a meeting (``"Simposio ... (7. : 1982 : Belo Horizonte)"``), or a ROR id.
3. **Person evidence**: an ORCID id; a vCard ``N`` with a given name; a name written "Family,
   Given" (the crosswalk read it so: ``inverted``); a title before the name (``Dr.``, ``Prof.ª``);
   initials beside a family name (``"A.J. Steijn"``, ``"U. G Lopes"``); a first word that is a
   common given name (``given-names.txt``) in a name shaped like a person's; a last word such
   as ``Jr.`` or ``Filho`` (``name-suffixes.txt``); a Han name of two to four characters that
   starts with a common family name (``"王小明"``, ``cjk-family-names.txt``).
4. **Weaker organisation evidence**: a name that is one all-capitals acronym (``UNESCO``,
   ``CCDMD``), ends in one in brackets (``"... Survey (IJCSES)"``) or joins acronyms
   (``"FIOCRUZ/ICICT"``).
5. **Otherwise the role decides**: a publisher is an Organization (DCMI: "an entity responsible
   for making the resource available"; in the real corpus publishers are platforms, journals and
   institutions), a creator or contributor is *not typed*: ``None``. The record then leaves
   ``type`` out rather than claim a person (docs/record.md, "agents").

The word lists are data (``vocabularies/agents/*.txt``, package data
``eduxchange.vocabularies``), read once; names are compared folded (lower case, no accents).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Literal

__all__ = ["AgentType", "Role", "WordLists", "word_lists", "classify", "fold",
           "organization_evidence", "person_evidence", "looks_like_organization"]

AgentType = Literal["Person", "Organization"]
Role = Literal["creator", "contributor", "publisher"]


def fold(text: str) -> str:
    """``text`` in lower case without accents (the form the word lists are compared in)."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class WordLists:
    """The word lists of ``vocabularies/agents/`` (its README says what each is evidence of)."""

    organization_words: frozenset[str]
    organization_suffixes: tuple[str, ...]
    organization_cjk: tuple[str, ...]
    honorifics: frozenset[str]
    given_names: frozenset[str]
    particles: frozenset[str]
    name_suffixes: frozenset[str]
    cjk_family_names: tuple[str, ...]


def _words(name: str) -> list[str]:
    text = (files("eduxchange.vocabularies") / "agents" / name).read_text(encoding="utf-8")
    return [word for line in text.splitlines() for word in line.split("#", 1)[0].split()]


@lru_cache(maxsize=1)
def word_lists() -> WordLists:
    """The package's word lists, read once."""
    return WordLists(
        organization_words=frozenset(fold(w) for w in _words("organization-words.txt")),
        organization_suffixes=tuple(fold(w) for w in _words("organization-suffixes.txt")),
        organization_cjk=tuple(_words("organization-cjk.txt")),
        honorifics=frozenset(fold(w).rstrip(".") for w in _words("honorifics.txt")),
        given_names=frozenset(fold(w) for w in _words("given-names.txt")),
        particles=frozenset(fold(w) for w in _words("particles.txt")),
        name_suffixes=frozenset(fold(w).rstrip(".") for w in _words("name-suffixes.txt")),
        cjk_family_names=tuple(_words("cjk-family-names.txt")))


_WORD = re.compile(r"\w+")
_REGISTERED_ASSOCIATION = re.compile(r"\be\.\s?v\.(?!\w)|\bs\.\s?a\.(?!\w)|\bs/a\b", re.IGNORECASE)
#: "Taylor & Francis", "Lippincott Williams & Wilkins": a firm's name (persons come one a value).
_FIRM = re.compile(r"\s&\s|\w&\w")
_ISSN = re.compile(r"\bissn\b|\b\d{4}-\d{3}[\dX]\b", re.IGNORECASE)
#: AACR2 24.7 / RDA 11.13: "Name (number : year : place)" heads a meeting, "(7. : 1982 : ...)".
_MEETING = re.compile(r"\(\s*\d+\s*[.ºª°]?\s*:\s*\d{4}\s*:[^)]*\)")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9&]{1,9}")
_ACRONYM_IN_BRACKETS = re.compile(r"[(\[]\s*[A-Z][A-Z0-9&-]{2,11}\s*[)\]]\s*$")
#: Acronyms joined: "FIOCRUZ/ICICT", "CICT - FIOCRUZ", "PUC - Campinas".
_JOINED_ACRONYMS = re.compile(r"\b[A-Z]{2,10}\s*(?:/|\s-\s)|(?:/|\s-\s)\s*[A-Z]{2,10}\b"
                              r"|\b[A-Z]{2,10}-[A-Z]{2,10}\b")
#: An initial: "A", "A.", "A.J.", "L-F." (a hyphenated pair).
_INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,4}[A-Z]?\.?")
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]{2,4}")
_ROR = re.compile(r"^https://ror\.org/")
_ORCID = re.compile(r"^https://orcid\.org/")


def organization_evidence(name: str) -> str | None:
    """Why ``name`` names an organisation (step 2 of the module docstring), or ``None``."""
    lists = word_lists()
    stripped = name.strip()
    if _REGISTERED_ASSOCIATION.search(stripped):
        return "legal form"
    if any(word in stripped for word in lists.organization_cjk):
        return "corporate word"
    if _MEETING.search(stripped):
        return "meeting heading"
    if _ISSN.search(stripped):
        return "ISSN"
    if _FIRM.search(stripped):
        return "firm name"
    for word in _WORD.findall(fold(stripped)):
        if word in lists.organization_words:
            return "corporate word"
        if len(word) > 8 and word.endswith(lists.organization_suffixes):
            return "corporate word"
    return None


def _person_shaped(words: list[str]) -> bool:
    """Every word is a name word or a particle, two to six of them (``"Maria de Fátima Tavares"``)."""
    if not 1 <= len(words) <= 6:
        return False
    particles = word_lists().particles
    return all(_NAME_WORD.fullmatch(w) is not None or fold(w) in particles for w in words)


def person_evidence(name: str, *, inverted: bool = False) -> str | None:
    """Why ``name`` (as "Given Family") names a person (step 3 of the module docstring), or ``None``.

    ``inverted``: the source wrote it "Family, Given" and the crosswalk turned it round.
    """
    lists = word_lists()
    words = name.replace(",", " ").split()
    if not words:
        return None
    if inverted:
        return "written Family, Given"
    first = fold(words[0]).rstrip(".")
    if len(words) > 1 and first in lists.honorifics:
        return "title"
    initials = [w for w in words if _INITIALS.fullmatch(w)]
    others = [w for w in words if not _INITIALS.fullmatch(w)]
    if initials and others and any(len(w) > 1 and w[0].isupper() for w in others) and all(
            _NAME_WORD.fullmatch(w) or fold(w) in lists.particles for w in others):
        # "J. E. Young", "A.J. Steijn", "U. G Lopes", "M.P. de Brito"; not "AI-PRISM" alone
        if len(initials) < len(words):
            return "initials"
    # "Jean-Louis", "Anne-Marie": a hyphenated given name whose first part is one
    if (first in lists.given_names or first.split("-")[0] in lists.given_names) and _person_shaped(
            words):
        return "given name"
    if len(words) > 1 and fold(words[-1]).rstrip(".") in lists.name_suffixes and _person_shaped(
            words[:-1]):
        return "name suffix"  # "John Doe Jr.", "Pio Penna Filho"
    if len(words) == 1 and _HAN_NAME.fullmatch(name.strip()) and name.strip().startswith(
            lists.cjk_family_names):
        return "family name"  # "王小明"
    return None


def looks_like_organization(name: str) -> bool:
    """Whether ``name`` alone is evidence of an organisation (steps 2 and 4 of the module docstring).

    True for corporate words (University, Université, Ministry, GmbH, Journal, 大学, جامعة, ...),
    meeting headings, ISSNs, ``e. V.`` or ``S.A.``, and a single all-capitals acronym (``UNESCO``,
    ``CCDMD``; so a surname written alone in capitals counts as an organisation) or an acronym
    in brackets at the end (``"... Survey (IJCSES)"``).
    """
    stripped = name.strip()
    return (organization_evidence(stripped) is not None or _ACRONYM.fullmatch(stripped) is not None
            or _ACRONYM_IN_BRACKETS.search(stripped) is not None
            or _JOINED_ACRONYMS.search(stripped) is not None)


def classify(name: str, *, role: Role, stated: AgentType | None = None,
             inverted: bool = False, identifier: str | None = None,
             structured_name: bool = False) -> AgentType | None:
    """Person, Organization, or ``None`` where the evidence does not tell (module docstring).

    ``stated``: the type the source states (vCard ``KIND``, DataCite ``nameType``, LRMI
    ``@type``); ``inverted``: the source wrote the name "Family, Given"; ``identifier``: the
    agent's registry id (an ORCID is a person's, a ROR id an organisation's);
    ``structured_name``: the source gave the name in parts (a vCard ``N`` with a given name,
    DataCite ``givenName``), which only persons have.
    """
    if stated is not None:
        return stated
    if identifier and _ROR.match(identifier):
        return "Organization"
    if identifier and _ORCID.match(identifier):
        return "Person"
    if inverted:  # the crosswalk found "Family, Given" on a name with no corporate family part
        return "Person"
    if organization_evidence(name) is not None:
        return "Organization"
    if structured_name or person_evidence(name, inverted=inverted) is not None:
        return "Person"
    if looks_like_organization(name):
        return "Organization"
    return "Organization" if role == "publisher" else None
