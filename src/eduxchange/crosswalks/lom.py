"""IEEE LOM (and national profiles built on it) and IMS Metadata 1.2 -> a description.

IEEE 1484.12.3 (the LOM XML binding) and IMS Metadata 1.2 (LOM's predecessor, still
served by older repositories) differ mostly in spelling: ``string language=`` vs
``langstring xml:lang=``, ``entity`` vs ``centity/vcard``, ``dateTime`` vs
``datetime``, element case. One walk serves both: element names are compared by
lower-cased local name, whatever their namespace, so profile extensions such as
LOM-FR's ``lomfr:documentType`` are read too.

The walk visits each category once and compares names (no XPath): it runs for every
harvested record, and its cost is mostly lxml's (each ``.tag`` and ``.text`` builds a
string), so it touches each element once, looks names up inline, and remembers what
repeats (element names, language keys, clean vocabulary tokens) in bounded memos.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lxml import etree

from ..normalize.dates import normalize_date, normalize_duration
from ..normalize.languages import language_key, normalize_languages
from ..normalize.licenses import canonical_license
from ..normalize.text import clean_text
from ..normalize.agents import Role
from ..normalize.vcard import Agent, parse_name, parse_vcard
from ..core.record import Agent as AgentRecord, Description
from . import CrosswalkOptions
from .common import age_range, classify_identifier, description_map, media_type, pick_url

__all__ = ["crosswalk_lom", "crosswalk_imsmd"]

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Element tag -> lower-cased local name ('' for comments and processing instructions), and
# language attribute -> language-map key. Records repeat the same few of each; the bounds keep
# a hostile member's invented names from growing them without end.
_NAMES: dict[Any, str] = {}
_KEYS: dict[str | None, str] = {}
_MEMO_LIMIT = 4096
# A member's records repeat the same few vCards (its publisher, its authors).
_vcard = lru_cache(maxsize=4096)(parse_vcard)
#: A vCard, as opposed to a plain name: its BEGIN line, or a line starting FN, N or ORG.
_VCARD_TEXT = re.compile(r"begin\s*:\s*vcard|^\s*(?:fn|n|org)\s*[;:]", re.IGNORECASE | re.MULTILINE)


def _entity(text: str, role: Role) -> Agent | None:
    """The agent of a ``contribute/entity``: its vCard, or the name it is (CESTA, FROAC, OBAA
    members write ``<entity>Tarouco, Liane</entity>``), read as a DC name is (contact data
    taken out of it, typed on evidence: :mod:`eduxchange.normalize.agents`)."""
    if not text or text.isspace():
        return None
    if _VCARD_TEXT.search(text):
        return _vcard(text, role)
    try:
        return parse_name(text, role)
    except ValueError:  # blank, or contact data only: nobody named
        return None


def _local(tag: Any) -> str:
    """The lower-cased local name of ``tag``, remembered (callers try ``_NAMES.get`` first).

    Walks write ``_NAMES.get(child.tag) or _local(child.tag)`` inline while iterating children
    directly: this runs for every element of every record, where a function call per element
    costs more than the lookup itself.
    """
    name = tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""
    if len(_NAMES) < _MEMO_LIMIT:
        _NAMES[tag] = name
    return name


def _name(child: Any) -> str:
    """Lower-cased local name of one child ('' for comments and processing instructions)."""
    return _NAMES.get(child.tag) or _local(child.tag)


def _key(lang: str | None) -> str:
    """The language-map key of a ``language``/``xml:lang`` attribute, remembered."""
    key = language_key(lang)
    if len(_KEYS) < _MEMO_LIMIT:
        _KEYS[lang] = key
    return key


_STRINGS = frozenset(("string", "langstring"))
# Short texts already known to be clean: vocabulary sources and values repeat across records
# (only they are remembered, so unique texts never crowd them out), and a set lookup is cheaper
# than cleaning them again.
_CLEAN: set[str] = set()
_TOKEN_LENGTH = 64


def _token(text: str) -> str:
    """``clean_text(text)``, remembering short texts that come out unchanged in ``_CLEAN``."""
    cleaned = clean_text(text)
    if cleaned == text and len(text) <= _TOKEN_LENGTH and len(_CLEAN) < _MEMO_LIMIT:
        _CLEAN.add(text)
    return cleaned


def _text(el: Any) -> str:
    """Text of a leaf, or of its first ``string``/``langstring`` (IMS MD wraps vocabulary values)."""
    if len(el) == 0:  # the usual case in the LOM binding: no need to walk children
        text = el.text
        return (text if text in _CLEAN else clean_text(text)) if text else ""
    for child in el:
        if (_NAMES.get(child.tag) or _local(child.tag)) in _STRINGS:
            return clean_text(child.text or "")
    return clean_text(el.text or "")


def _langstrings(el: Any) -> list[tuple[str, str]]:
    """``(language key, text)`` pairs of a LangString (LOM) or langstring list (IMS MD)."""
    pairs: list[tuple[str, str]] = []
    for child in el:
        if (_NAMES.get(child.tag) or _local(child.tag)) in _STRINGS:
            text = child.text
            if text and (text := text if text in _CLEAN else clean_text(text)):
                lang = child.get("language") or child.get(_XML_LANG)
                pairs.append((_KEYS.get(lang) or _key(lang), text))
    if not pairs and el.text and el.text.strip():
        # Seen in the wild: text straight inside <title>, no <string>.
        pairs.append(("@none", clean_text(el.text)))
    return pairs


def _first_string(el: Any) -> str:
    """The first non-empty text of a LangString (``_langstrings(el)[0][1]``, or ``""``)."""
    for child in el:
        if (_NAMES.get(child.tag) or _local(child.tag)) in _STRINGS:
            text = child.text
            if text and (text := text if text in _CLEAN else clean_text(text)):
                return text
    text = el.text
    return clean_text(text) if text and not text.isspace() else ""


def _term_text(el: Any) -> str:
    """:func:`_text` of a vocabulary's ``source`` or ``value``, remembering clean tokens."""
    if len(el) == 0:
        text = el.text
        return (text if text in _CLEAN else _token(text)) if text else ""
    return _text(el)


def _vocabulary(el: Any) -> tuple[str, str] | None:
    """A LOM Vocabulary element as ``(source, value)``; source defaults to ``LOMv1.0``."""
    source = value = ""
    for child in el:
        name = _NAMES.get(child.tag) or _local(child.tag)
        if name == "value":
            value = _term_text(child)
        elif name == "source":
            source = _term_text(child)
    if not value:
        value = _text(el) if len(el) == 0 else ""
    return (source or "LOMv1.0", value) if value else None


def _add_map(target: dict[str, str], pairs: list[tuple[str, str]]) -> None:
    for lang, text in pairs:
        if lang not in target:
            target[lang] = text
        elif text not in target[lang]:
            target[lang] = f"{target[lang]} {text}"


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)

#: LOM 6.1 cost (yes/no) as profiles write it: LOM-FR (oui/non), LOM-DE (ja/nein), LOM-BR and
#: OBAA (Sim/Nao, with or without the tilde: the Brazilian profiles translate the value space),
#: LOM-ES (sí/no).
_NO_COST = frozenset({"no", "non", "nein", "nao", "não", "false"})
_COST = frozenset({"yes", "oui", "ja", "sim", "si", "sí", "true"})

_CREATOR_ROLES = {"author", "auteur", "autor"}
_PUBLISHER_ROLES = {"publisher", "éditeur", "editeur", "herausgeber"}


class _Walk:
    """Accumulates one description while the categories are walked."""

    def __init__(self, options: CrosswalkOptions) -> None:
        self.options = options
        self.name: dict[str, str] = {}
        self.description: list[tuple[str, str]] = []
        self.keywords: dict[str, list[str]] = {}
        self.languages: list[str] = []
        self.identifiers: list[str] = []
        self.urls: list[str] = []
        self.formats: list[str] = []
        self.creators: list[AgentRecord] = []
        self.contributors: list[AgentRecord] = []
        self.publishers: list[AgentRecord] = []
        self.out: Description = {}
        self.terms: dict[str, list[tuple[str, str]]] = {}
        self.rights: list[tuple[str, str]] = []

    def term(self, field: str, pair: tuple[str, str] | None) -> None:
        if pair is not None:
            bucket = self.terms.get(field)
            if bucket is None:
                self.terms[field] = [pair]
            elif pair not in bucket:
                bucket.append(pair)

    def add_keywords(self, el: Any) -> None:
        """A keyword's LangString into the keywords map (``_langstrings`` inlined: hot path)."""
        keywords = self.keywords
        found = False
        for child in el:
            if (_NAMES.get(child.tag) or _local(child.tag)) in _STRINGS:
                text = child.text
                if text and (text := text if text in _CLEAN else clean_text(text)):
                    found = True
                    lang = child.get("language") or child.get(_XML_LANG)
                    key = _KEYS.get(lang) or _key(lang)
                    words = keywords.get(key)
                    if words is None:
                        keywords[key] = [text]
                    elif text not in words:
                        words.append(text)
        if not found and el.text and not el.text.isspace():
            for _, text in _langstrings(el):  # text straight inside <keyword>
                words = keywords.setdefault("@none", [])
                if text not in words:
                    words.append(text)

    # -- categories -----------------------------------------------------------

    def general(self, el: Any) -> None:
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "keyword":
                self.add_keywords(child)
            elif name == "title":
                _add_map(self.name, _langstrings(child))
            elif name == "description":
                self.description.extend(_langstrings(child))
            elif name == "language":
                # One element may list several ("English; French"); junk is dropped, not guessed.
                for tag in normalize_languages((_text(child),)):
                    if tag not in self.languages:
                        self.languages.append(tag)
            elif name in ("identifier", "catalogentry"):
                self.catalog_entry(child)
            elif name in ("documenttype", "learningresourcetype"):  # LOM-FR puts it here
                self.term("learningResourceType", _vocabulary(child))

    def catalog_entry(self, el: Any) -> None:
        entry = catalog = ""
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "entry":
                entry = _text(child)
            elif name == "catalog":
                catalog = _text(child)
        if not entry:
            return
        # The rules of every crosswalk (.common); the catalog ("ISBN", "DOI") is the scheme hint.
        found = classify_identifier(entry, catalog or None)
        if found is None:
            return
        kind, value = found
        target = self.identifiers if kind == "id" else self.urls
        if value not in target:
            target.append(value)

    def life_cycle(self, el: Any) -> None:
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "contribute":
                self.contribute(child)

    def contribute(self, el: Any) -> None:
        role = ""
        entities: list[str] = []
        date = None
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "role":
                vocab = _vocabulary(child)
                role = vocab[1].lower() if vocab else ""
            elif name in ("entity", "centity"):
                text = child.text or ""
                if name == "centity" or not text or text.isspace():
                    text = "".join(v.text or "" for v in child if _name(v) == "vcard") or text
                entities.append(text)
            elif name == "date":
                for sub in child:
                    sub_name = _NAMES.get(sub.tag) or _local(sub.tag)
                    if sub_name == "datetime":
                        date = normalize_date(sub.text or "")
                if date is None and child.text:
                    date = normalize_date(child.text)
        kind: Role
        if role in _CREATOR_ROLES:
            target, kind = self.creators, "creator"
            if date:
                self.out.setdefault("dateCreated", date)
        elif role in _PUBLISHER_ROLES:
            target, kind = self.publishers, "publisher"
            if date:
                self.out.setdefault("datePublished", date)
        else:
            target, kind = self.contributors, "contributor"
        for text in entities:
            parsed = _entity(text, kind)
            if parsed is None:
                continue
            person = parsed.to_dict(include_contacts=self.options.include_contacts)
            agent_name = person.get("name")
            for known in target:
                if known.get("name") == agent_name:
                    break
            else:
                target.append(person)

    def technical(self, el: Any) -> None:
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "format":
                value = media_type(child.text or "")
                if value and value not in self.formats:
                    self.formats.append(value)
            elif name == "location":
                found = classify_identifier(child.text or "")
                if found is not None:
                    kind, value = found
                    target = self.identifiers if kind == "id" else self.urls
                    if value not in target:
                        target.append(value)
            elif name == "duration":
                text = "".join(
                    (sub.text or "") for sub in child if _name(sub) in ("duration", "datetime")
                ) or (child.text or "")
                duration = normalize_duration(text)
                if duration:
                    self.out.setdefault("duration", duration)

    def educational(self, el: Any) -> None:
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "learningresourcetype":
                self.term("learningResourceType", _vocabulary(child))
            elif name == "intendedenduserrole":
                self.term("audience", _vocabulary(child))
            elif name == "context":
                self.term("educationalLevel", _vocabulary(child))
            elif name == "typicalagerange" and "typicalAgeRange" not in self.out:
                # The first of its LangStrings that is an age range (.common: never invented).
                for _, text in _langstrings(child):
                    age = age_range(text)
                    if age:
                        self.out["typicalAgeRange"] = age
                        break

    def rights_category(self, el: Any) -> None:
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "cost":
                vocab = _vocabulary(child)
                cost = vocab[1].strip().lower() if vocab else ""
                if cost in _NO_COST:
                    self.out["isAccessibleForFree"] = True
                elif cost in _COST:
                    self.out["isAccessibleForFree"] = False
            elif name == "description":
                self.rights.extend(_langstrings(child))

    def classification(self, el: Any) -> None:
        purpose = ""
        paths: list[Any] = []
        for child in el:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "purpose":
                vocab = _vocabulary(child)
                purpose = vocab[1].lower() if vocab else ""
            elif name == "taxonpath":
                paths.append(child)
            elif name == "keyword":
                self.add_keywords(child)
        field = "educationalLevel" if purpose in ("educational level", "niveau") else "about"
        for path in paths:
            self.taxon_path(field, path)

    def taxon_path(self, field: str, path: Any) -> None:
        source = ""
        last: Any = None
        for child in path:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "source":
                source = _first_string(child).lower()
            elif name == "taxon":
                last = child  # the most specific taxon is the last one
        if last is None:
            return
        ident = entry = ""
        for child in last:
            name = _NAMES.get(child.tag) or _local(child.tag)
            if name == "id":
                ident = _text(child)
            elif name == "entry":
                entry = _first_string(child)
        kind = _taxonomy(source)
        if ident:
            if _URL.fullmatch(ident):
                self.term(field, ("uri", ident))
            elif kind:
                self.term(field, (kind, ident))
        if entry and entry.casefold() != ident.casefold():  # an entry repeating the id adds nothing
            self.term(field, ("text", entry))

    # -- result ---------------------------------------------------------------

    def result(self) -> Description:
        out: Description = {"type": ["LearningResource"]}
        if self.name:
            out["name"] = self.name
        if self.description:
            description = description_map(self.description)
            if description:
                out["description"] = description
        if self.keywords:
            out["keywords"] = self.keywords
        if self.languages:
            out["inLanguage"] = self.languages
        url = pick_url(self.urls)  # a landing page before a file, as for every format
        if url:
            out["url"] = url
        if self.identifiers:
            out["identifier"] = self.identifiers
        self._rights(out)
        roles: tuple[tuple[Role, list[AgentRecord]], ...] = (
            ("creator", self.creators), ("contributor", self.contributors),
            ("publisher", self.publishers))
        for key, agents in roles:
            if agents:
                out[key] = agents
        if self.formats:
            out["encodingFormat"] = self.formats
        out.update(self.out)
        if self.terms:
            out["_terms"] = self.terms
        return out

    def _rights(self, out: Description) -> None:
        notice: dict[str, str] = {}
        for lang, text in self.rights:
            if "license" not in out:
                for candidate in (*_URL.findall(text), text):
                    licence = canonical_license(candidate.rstrip(".,;)"))
                    if licence:
                        out["license"] = {"id": licence}
                        break
                else:
                    _add_map(notice, [(lang, text)])
            elif canonical_license(text) is None:
                _add_map(notice, [(lang, text)])
        if notice:
            out["copyrightNotice"] = notice


def _taxonomy(source: str) -> str | None:
    if "isced" in source:
        if "2011" in source or "level" in source or "niveau" in source:
            return "isced-2011"
        return "isced-f"
    return None


_CATEGORIES = {
    "general": _Walk.general,
    "lifecycle": _Walk.life_cycle,
    "technical": _Walk.technical,
    "educational": _Walk.educational,
    "rights": _Walk.rights_category,
    "classification": _Walk.classification,
}


def crosswalk_lom(element: etree._Element, options: CrosswalkOptions) -> Description:
    """IEEE LOM (LOMv1.0 XML binding, and profiles built on it) -> a description."""
    walk = _Walk(options)
    for child in element:
        name = _NAMES.get(child.tag) or _local(child.tag)
        category = _CATEGORIES.get(name)
        if category is not None:
            category(walk, child)
    return walk.result()


def crosswalk_imsmd(element: etree._Element, options: CrosswalkOptions) -> Description:
    """IMS Learning Resource Metadata 1.2 (``imsmd_v1p2``) -> a description.

    The same walk as LOM: IMS MD's spellings (``langstring``, ``centity/vcard``,
    ``catalogentry``, ``datetime``, lower-case names) are handled where they differ.
    """
    return crosswalk_lom(element, options)
