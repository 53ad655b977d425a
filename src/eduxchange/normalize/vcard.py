"""Agents (creators, contributors, publishers) from vCards and from name strings.

:func:`parse_vcard` reads the vCards of LOM ``contribute/entity`` (vCard 2.1, RFC 2425/2426
3.0 and RFC 6350 4.0) as members really write them: folded lines (CRLF or LF followed by a
space or tab), escapes (``\\,`` ``\\;`` ``\\:`` ``\\n`` ``\\\\``), QUOTED-PRINTABLE values with a
CHARSET (2.1), lowercase ``begin:vcard``, whitespace before ``BEGIN``, whole cards indented
like the XML around them, CDATA markers, a missing ``END:VCARD``, empty ``FN:`` next to a
filled ``N`` or ``ORG``, unescaped ``;`` in ``FN`` (the first part is taken), blank lines
between properties. Binary properties (PHOTO, LOGO, SOUND, KEY) are skipped.

Who the card describes:

* ``KIND:org`` (4.0) or ``X-ABShowAs:COMPANY`` is an Organization, ``KIND:individual`` a Person;
* otherwise a card with no FN and no N but an ORG is the Organization ORG names, and a card
  whose FN equals its ORG, or whose name looks like an organisation's (:func:`parse_name`'s
  heuristics), is an Organization;
* anyone else is a Person named by FN, or by N as "Given Additional Family" when FN is
  missing or empty; the person's ORG becomes the ``affiliation``.

Identifiers: ORCID, ROR, ISNI and GND identifiers found in UID, URL, SOURCE or ``X-`` fields
(``X-ORCID``, ``X-ISNI``, ...) become their canonical https IRIs (``https://orcid.org/0000-...``,
checksums verified); otherwise an http(s) UID or URL is the id, as written. Contacts (EMAIL
that is an address, the first TEL that is no fax, ADR joined with ", ") are kept on the
:class:`Agent` and leave it only with ``to_dict(include_contacts=True)`` (docs/record.md).
E-mail addresses and phone numbers written into FN, N or ORG (``FN:Jane Doe <jane@...>``,
``ORG:jane@...``) are taken out of the name (:mod:`.contacts`) and count as EMAIL / TEL when
the card has none.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ..core.record import Affiliation, Agent as AgentRecord
from . import agents as _agents
from .agents import AgentType, Role, classify
from .contacts import find_emails, split_contacts
from .text import clean_text

__all__ = ["Agent", "parse_vcard", "parse_name", "looks_like_organization", "registry_id"]

@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """A person or organisation as the record holds it (docs/record.md, "agents").

    ``type`` is ``None`` where the source gives no evidence of either (:mod:`.agents`): the
    record's agent then has no ``type``.
    """

    type: AgentType | None
    name: str
    id: str | None = None
    affiliation: Agent | None = None
    email: str | None = None
    telephone: str | None = None
    address: str | None = None

    def to_dict(self, include_contacts: bool = False) -> AgentRecord:
        """The record's agent object; ``email``/``telephone``/``address`` only if asked for."""
        out: AgentRecord = {"type": self.type, "name": self.name} if self.type else {
            "name": self.name}
        if self.id:
            out["id"] = self.id
        if self.affiliation is not None:
            out["affiliation"] = self.affiliation.to_affiliation()
        if include_contacts:
            for key in _CONTACT_KEYS:
                value = getattr(self, key)
                if value:
                    out[key] = value
        return out

    def to_affiliation(self) -> Affiliation:
        """This agent as a person's ``affiliation``: an organization's name and id, no more
        (the schema's ``affiliation`` allows nothing else)."""
        out: Affiliation = {"type": "Organization", "name": self.name}
        if self.id:
            out["id"] = self.id
        return out


_CONTACT_KEYS: tuple[Literal["email", "telephone", "address"], ...] = (
    "email", "telephone", "address")


# --- vCard syntax ------------------------------------------------------------------------------

_BEGIN = re.compile(r"begin[ \t]*:[ \t]*vcard[ \t]*", re.IGNORECASE)
_END = re.compile(r"^[ \t]*end[ \t]*:[ \t]*vcard", re.IGNORECASE | re.MULTILINE)
_VERSION_21 = re.compile(r"^[ \t]*version[ \t]*:[ \t]*2\.1", re.IGNORECASE | re.MULTILINE)
_NEWLINES = re.compile(r"\r\n|\r")
_CONTENT_LINE = re.compile(
    r"[ \t]*(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)"
    r"(?P<params>(?:;(?:\"[^\"]*\"|[^\";:])*)*):(?P<value>.*)", re.DOTALL)
_QP = re.compile(r"(?:^|;)(?:encoding=)?quoted-printable(?:;|$)", re.IGNORECASE)
_CHARSET = re.compile(r"(?:^|;)charset=\"?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BINARY = re.compile(r"(?:^|;)(?:encoding=)?(?:b|base64)(?:;|$)", re.IGNORECASE)
_TYPES = re.compile(r"(?:^|;)(?:type=)?([^;=]+)(?=;|$)", re.IGNORECASE)
_ESCAPES = {"n": "\n", "N": "\n"}
_BINARY_PROPERTIES = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})


def _content_lines(text: str) -> list[str]:
    """The unfolded content lines of the first card in ``text``."""
    text = text.replace("<![CDATA[", "").replace("]]>", "")
    begin = _BEGIN.search(text)
    if begin is not None:
        text = text[begin.end():]
    end = _END.search(text)
    if end is not None:
        text = text[:end.start()]
    keep_space = _VERSION_21.search(text) is not None  # 2.1 folds keep the whitespace
    lines = [line for line in _NEWLINES.sub("\n", text).split("\n") if line.strip()]
    if not lines:
        return []
    indent = min(len(line) - len(line.lstrip(" \t")) for line in lines)
    if indent:  # the whole card is indented like the XML around it
        lines = [line[indent:] for line in lines]
    logical: list[str] = []
    for line in lines:
        if logical and (line[0] in " \t" or _soft_break(logical[-1])):
            if _soft_break(logical[-1]):
                logical[-1] = logical[-1][:-1] + line
            else:
                logical[-1] += line if keep_space else line[1:]
        else:
            logical.append(line)
    return logical


def _soft_break(line: str) -> bool:
    """A QUOTED-PRINTABLE line ending in ``=`` goes on on the next line (vCard 2.1)."""
    if not line.endswith("="):
        return False
    match = _CONTENT_LINE.match(line)
    return match is not None and _QP.search(match.group("params")[1:]) is not None


def _decode(params: str, value: str) -> str:
    if _QP.search(params):
        raw = quopri.decodestring(value.encode("utf-8", "surrogateescape"))
        charset = _CHARSET.search(params)
        for encoding in ((charset.group(1),) if charset else ()) + ("utf-8", "cp1252"):
            try:
                return raw.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return value


def _components(value: str) -> list[str]:
    """Split a structured value at unescaped ``;`` and resolve escapes (RFC 6350 3.4)."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append(_ESCAPES.get(following, following))
        elif char == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [clean_text(part) for part in parts]


@dataclass(slots=True)
class _Property:
    params: str
    parts: list[str]

    @property
    def text(self) -> str:
        return next((part for part in self.parts if part), "")

    @property
    def types(self) -> set[str]:
        return {t.strip().upper() for m in _TYPES.findall(self.params) for t in m.split(",")}


def _properties(text: str) -> dict[str, list[_Property]]:
    properties: dict[str, list[_Property]] = {}
    for line in _content_lines(text):
        match = _CONTENT_LINE.fullmatch(line)
        if match is None:
            continue  # garbage between properties
        name = match.group("name").upper()
        params = match.group("params")[1:]
        if name in _BINARY_PROPERTIES or _BINARY.search(params):
            continue
        value = _decode(params, match.group("value"))
        properties.setdefault(name, []).append(_Property(params, _components(value)))
    return properties


# --- identifiers and contacts ------------------------------------------------------------------

_ORCID = re.compile(r"(?<![\dX])(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])(?![\dX])", re.IGNORECASE)
_ROR = re.compile(r"ror\.org/(0[a-hj-km-np-tv-z0-9]{6}\d{2})\b", re.IGNORECASE)
_ISNI = re.compile(r"isni(?:\.org/isni/|[:\s]+)?\s*((?:\d{4}\s?){3}\d{3}[\dX])", re.IGNORECASE)
_GND = re.compile(r"d-nb\.info/gnd/([0-9X-]{2,12})\b|\bgnd[:\s]+([0-9X-]{2,12})\b",
                  re.IGNORECASE)
_HTTP_IRI = re.compile(r"https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#]\S*)?",
                       re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ID_PROPERTIES = ("UID", "URL", "SOURCE")


def _orcid_checksum_ok(digits: str) -> bool:
    """ISO 7064 MOD 11-2, as ORCID specifies."""
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    return digits[-1].upper() == ("X" if check == 10 else str(check))


def registry_id(text: str, *, context: str = "") -> str | None:
    """The canonical https IRI of an ORCID, ROR, ISNI or GND id in ``text``, or ``None``.

    A bare ORCID (``0000-0002-1825-0097``) counts when its checksum is right; ISNI and GND need
    their prefix (``isni.org/isni/``, ``d-nb.info/gnd/``) or a ``context`` naming them (the
    property name, ``X-ISNI``).
    """
    context = context.upper()
    match = _ROR.search(text)
    if match:
        return f"https://ror.org/{match.group(1).lower()}"
    if "ISNI" in context or "isni" in text.lower():
        match = _ISNI.search(text if "isni" in text.lower() else "isni " + text)
        if match:
            return "https://isni.org/isni/" + match.group(1).replace(" ", "").upper()
    if "GND" in context or "gnd" in text.lower():
        match = _GND.search(text if "gnd" in text.lower() else "gnd " + text)
        if match:
            return "https://d-nb.info/gnd/" + (match.group(1) or match.group(2)).upper()
    match = _ORCID.search(text)
    if match:
        digits = "".join(match.groups()).upper()
        if _orcid_checksum_ok(digits):
            return "https://orcid.org/" + "-".join(match.groups()).upper()
    return None


def _identifier(properties: dict[str, list[_Property]]) -> str | None:
    candidates = [(name, prop.text) for name in (*_ID_PROPERTIES, *sorted(properties))
                  if name in _ID_PROPERTIES or name.startswith("X-")
                  for prop in properties.get(name, ()) if prop.text]
    for name, value in candidates:
        found = registry_id(value, context=name)
        if found:
            return found
    for name, value in candidates:
        if name in _ID_PROPERTIES:
            match = _HTTP_IRI.fullmatch(value.strip())
            if match:
                return match.group()
    return None


def _email(properties: dict[str, list[_Property]]) -> str | None:
    for prop in properties.get("EMAIL", ()):
        value = prop.text.removeprefix("mailto:").strip()
        if _EMAIL.fullmatch(value):
            return value
        found = find_emails(value)  # "Jane <jane@example.org>"
        if found:
            return found[0]
    return None


def _telephone(properties: dict[str, list[_Property]]) -> str | None:
    for prop in properties.get("TEL", ()):
        value = prop.text.removeprefix("tel:").strip()
        if "FAX" not in prop.types and sum(c.isdigit() for c in value) >= 3:
            return value
    return None


def _address(properties: dict[str, list[_Property]]) -> str | None:
    for prop in properties.get("ADR", ()):
        parts = [" ".join(part.split()) for part in prop.parts]
        address = ", ".join(part for part in parts if part)
        if address:
            return address
    return None


# --- who is it ---------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def parse_vcard(text: str, role: Role = "creator") -> Agent | None:
    """Return the agent a vCard describes, or ``None`` if it names nobody (module docstring).

    ``role`` decides the type where the card gives no evidence (:func:`.agents.classify`).

    >>> parse_vcard("BEGIN:VCARD\\nFN:\\nN:Raymond;Johanne\\nORG:Collège Lionel-Groulx\\nEND:VCARD")
    ... # doctest: +NORMALIZE_WHITESPACE
    Agent(type='Person', name='Johanne Raymond', id=None,
          affiliation=Agent(type='Organization', name='Collège Lionel-Groulx', id=None,
                            affiliation=None, email=None, telephone=None, address=None),
          email=None, telephone=None, address=None)
    """
    properties = _properties(text)
    if not properties:
        return None
    in_name: list[tuple[str, str]] = []  # contact data written into FN or N ...
    in_org: list[tuple[str, str]] = []  # ... or into ORG
    formatted = _without_contacts(
        next((p.text for p in properties.get("FN", ()) if p.text), ""), in_name)
    name = formatted or _without_contacts(_name_from_n(properties.get("N", [])), in_name)
    org = _without_contacts(next((", ".join(part for part in p.parts if part)
                                  for p in properties.get("ORG", ()) if p.text), ""), in_org)
    # The contacts of whom the card names: a person's own, an organisation's when ORG names it;
    # an EMAIL or TEL property wins over an address written into a name.
    _add_contacts(properties, in_name if name else in_org)
    kind = next((p.text.casefold() for p in properties.get("KIND", ()) if p.text), "")
    shows_as = next((p.text.casefold() for p in properties.get("X-ABSHOWAS", ()) if p.text), "")
    if not name:
        return _agent("Organization", org, properties) if org else None
    stated: AgentType | None = None
    if kind in ("org", "organization") or shows_as == "company" or (
            kind != "individual" and name.casefold() == org.casefold()):
        stated = "Organization"
    elif kind == "individual":
        stated = "Person"
    # A given name in N is a person's (organisations write N empty, or their name as the family
    # name); so is an ORG that is not the name itself: the card's person works there.
    given = any(len(p.parts) > 1 and p.parts[1] for p in properties.get("N", ()))
    type_ = classify(name, role=role, stated=stated, identifier=_identifier(properties),
                     structured_name=given or (bool(org) and not looks_like_organization(name)))
    if type_ == "Organization":
        return _agent("Organization", name, properties)
    affiliation = Agent(type="Organization", name=org) if org and type_ == "Person" else None
    return _agent(type_, name, properties, affiliation)


def _without_contacts(text: str, found: list[tuple[str, str]]) -> str:
    """``text`` without the e-mail addresses and phone numbers in it, which go to ``found``."""
    if not text:
        return text
    name, emails, phones = split_contacts(text)
    found.extend((email, "email") for email in emails)
    found.extend((phone, "tel") for phone in phones)
    return name


def _add_contacts(properties: dict[str, list[_Property]], found: list[tuple[str, str]]) -> None:
    for value, kind in found:
        properties.setdefault("EMAIL" if kind == "email" else "TEL", []).append(
            _Property("", [value]))


def _agent(type_: AgentType | None, name: str, properties: dict[str, list[_Property]],
           affiliation: Agent | None = None) -> Agent:
    return Agent(type=type_, name=name, id=_identifier(properties), affiliation=affiliation,
                 email=_email(properties), telephone=_telephone(properties),
                 address=_address(properties))


def _name_from_n(values: list[_Property]) -> str:
    """``N:Family;Given;Additional;Prefix;Suffix`` -> "Given Additional Family"."""
    for prop in values:
        parts = prop.parts + [""] * (3 - len(prop.parts))
        family, given, additional = parts[0], parts[1], parts[2]
        words = [given, additional if additional != given else "", family]
        name = " ".join(word for word in words if word)
        if name:
            return name
    return ""


# --- names -------------------------------------------------------------------------------------

#: Kept for the callers that ask only this (LRMI, OBAA): the word lists live in :mod:`.agents`.
looks_like_organization = _agents.looks_like_organization


_ROLE_NOTE = re.compile(
    r"\s*[(\[](?:hrsg|hg|ed|eds|edit|éd|dir|coord|red|trad|transl|ill|comp)\.?[)\]]\s*$",
    re.IGNORECASE)
_URL_IN_NAME = re.compile(r"\s*[(\[<]?\s*(?:https?://|www\.)\S+?\s*[)\]>]?\s*$", re.IGNORECASE)
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md",
                            "dr", "dr.", "prof", "prof."})


#: "[s.n.]", "s. n": sine nomine, the cataloguers' "no name known" (ISBD 4.2.13).
_NO_NAME = re.compile(r"\[?\s*s\.?\s*n\.?\s*\]?", re.IGNORECASE)
#: LILACS/BIREME subfields after a name ("Godoy, Mirna^1Instituto Fernandes Figueira^pBrasil"):
#: ^1..^3 affiliation levels, ^c city, ^p country, ^r role. The name is what comes before.
#: Initials as a given name: "E.", "A.J.", "L-F.", "HR".
_GIVEN_INITIALS = re.compile(r"(?:[A-Z]\.\s?-?){1,4}[A-Z]?\.?|[A-Z]{1,3}")
_SUBFIELDS = re.compile(r"\s*\^[0-9a-z]")


def _inverted_person(family: str, given: str) -> bool:
    """Whether "family, given" reads as a person's name written "Family, Given".

    The family part carries no organisation evidence and has at most four words besides
    particles; the given part at most five, and either no organisation evidence or a start that
    is initials or a given name (``"Adorno, E. V."`` is no *eingetragener Verein*, ``"Souza,
    Claudia TV de"`` no television channel; ``"FARZA, HR"`` no acronym).
    """
    particles = _agents.word_lists().particles

    def words(text: str) -> list[str]:
        return [w for w in text.split() if _agents.fold(w) not in particles]

    # Strong evidence only: a family name in capitals ("ARAGAO, WILSON") is no acronym here.
    if _agents.organization_evidence(family) is not None or not 1 <= len(words(family)) <= 4:
        return False
    if not 1 <= len(words(given)) <= 5:
        return False
    first = given.split()[0]
    return (_agents.organization_evidence(given) is None
            or _agents.fold(first) in _agents.word_lists().given_names
            or _GIVEN_INITIALS.fullmatch(first) is not None)


@lru_cache(maxsize=4096)
def parse_name(text: str, role: Role = "creator") -> Agent:
    """Return the agent a DC creator/contributor/publisher string names.

    "Family, Given" becomes "Given Family" (``"Müller, Jürgen"`` -> Person "Jürgen Müller");
    the type is :func:`.agents.classify`'s for ``role`` (so ``"Zenodo"`` is an Organization as a
    publisher and untyped as a creator; ``"Jane Doe"`` a Person); an ORCID/ROR/ISNI/GND IRI
    at the end (``"Li Wei (https://orcid.org/0000-...)"``) becomes the id; a role note at the
    end (``(Hrsg.)``, ``(ed.)``) is dropped. E-mail addresses and phone numbers in the string
    (``"Doe, Jane (jane@example.org)"``, ``"Jim <jim@example.org>"``) are taken out of the name
    (:func:`~eduxchange.normalize.contacts.split_contacts`) into ``email`` / ``telephone``, so
    the first becomes "Jane Doe". Raises :class:`ValueError` for blank text, or text that is
    contact data only (``"mailto:john@example.org"``).
    """
    # Before markup is cleaned ("<a (at) b.org>" would go as an HTML <a> tag) and after
    # (entities: "&lt;jim@example.org&gt;").
    raw, emails, phones = split_contacts(text) if "<" in text else (text, (), ())
    name, more_emails, more_phones = split_contacts(clean_text(raw))
    emails, phones = emails + more_emails, phones + more_phones
    if not name:
        raise ValueError("parse_name: blank name (or contact data only)")
    identifier = None
    url = _URL_IN_NAME.search(name)
    if url is not None and url.start() > 0:
        identifier = registry_id(url.group())
        if identifier is not None:
            name = name[:url.start()].rstrip(" ,;")
    name = _ROLE_NOTE.sub("", name) or name
    subfield = _SUBFIELDS.search(name)
    if subfield is not None and subfield.start() > 0:
        name = name[:subfield.start()].rstrip(" ,;")
    email = emails[0] if emails else None
    telephone = phones[0] if phones else None
    if _NO_NAME.fullmatch(name):
        raise ValueError("parse_name: 's.n.' (sine nomine) names nobody")
    inverted = False
    family, comma, given = name.partition(",")
    family, given = family.strip(), given.strip()
    if (comma and family and given and "," not in given and ";" not in name
            and given.casefold() not in _NAME_SUFFIXES and not given[0].isdigit()
            and _inverted_person(family, given)):
        name, inverted = f"{given} {family}", True
    type_ = classify(name, role=role, inverted=inverted, identifier=identifier)
    return Agent(type=type_, name=name, id=identifier, email=email, telephone=telephone)
