"""Licence statements to canonical licence IRIs (docs/record.md ``license: {"id": IRI}``).

:func:`canonical_license` recognises

* Creative Commons licences from URLs of any shape (http or https, with or without ``www.``,
  ``deed.fr``, ``legalcode``, ``legalcode.de``, no trailing slash, the button images of
  ``i.creativecommons.org/l/...`` and ``licensebuttons.net``), from SPDX ids (``CC-BY-SA-4.0``,
  ``CC-BY-NC-ND-3.0-DE``), codes (``CC BY-NC 4.0``, ``cc-by-sa``) and names in many languages
  ("Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International",
  "Attribution - Pas d'Utilisation Commerciale", "署名-相同方式共享");
* CC0 and the Public Domain Mark ("CC0", "Public Domain", "domaine public", "gemeinfrei");
* other open licences (GNU GPL, LGPL, AGPL, FDL, MIT, Apache, BSD, MPL, EUPL, ODbL, ...) from
  SPDX ids, SPDX and OSI URLs, the licensors' URLs and names with versions ("GPLv3").

Canonical forms: ``https://creativecommons.org/licenses/<code>/<version>/`` (https, trailing
slash, no language, deed or legal-code suffix), ``.../<version>/<port>/`` for a licence ported
to a jurisdiction (versions 1.0-3.0, ``/3.0/de/``), ``.../publicdomain/zero/1.0/``,
``.../publicdomain/mark/1.0/``; other licences as the URL the SPDX License List gives (see
``vocabularies/mappings/licenses.tsv``; ``-only`` and ``-or-later`` variants share it).

Decisions, all made so that nothing is guessed:

* A CC code or name without a version means the latest, 4.0 International (``cc-by-sa`` ->
  ``.../by-sa/4.0/``): that is what the CC licence chooser has handed out since 2013.
* 4.0 has no ports, so ``/4.0/de/`` (a language, really) is ``/4.0/``; a port code CC never
  used, or a port without a version, makes the value unrecognised.
* "Public Domain" and its translations mean the Public Domain Mark (the work *is* in the
  public domain); only CC0 and "Public Domain Dedication" mean CC0.
* Text is recognised only if all of it is a licence statement (names, codes, versions and
  filler words such as "licensed under", "Lizenz"); anything else ("All rights reserved",
  "Copyright 2004 Université X", "free for educational use", a rights text that mentions the
  public domain in passing) gives ``None`` and the crosswalk keeps it as ``copyrightNotice``.
  A text that contains a recognised licence URL is recognised by that URL (the first one).

The recognition rules are data (``vocabularies/mappings/licenses.tsv``); the licences we
canonicalise to are described, with labels in seven languages, in ``vocabularies/licenses.ttl``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import TypeVar

__all__ = ["canonical_license", "CC0", "PUBLIC_DOMAIN_MARK"]

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
PUBLIC_DOMAIN_MARK = "https://creativecommons.org/publicdomain/mark/1.0/"
_CC_LICENSES = "https://creativecommons.org/licenses/"
_K = TypeVar("_K")
_V = TypeVar("_V")

#: CC licence versions; 2.1 exists only as ports (jp, es, au, ca).
_CC_VERSIONS = frozenset({"1.0", "2.0", "2.1", "2.5", "3.0", "4.0"})
_ELEMENT_ORDER = ("by", "nc", "nd", "sa")

_URL_IN_TEXT = re.compile(
    r"https?://[^\s<>\"'()\[\]{}]+"
    r"|(?<![\w.@/-])(?:[a-z0-9-]+\.)*(?:creativecommons\.org|spdx\.org|opensource\.org|gnu\.org|"
    r"apache\.org|mozilla\.org|opendatacommons\.org|unlicense\.org|artlibre\.org|"
    r"licensebuttons\.net)/[^\s<>\"'()\[\]{}]*",
    re.IGNORECASE,
)
_URL_KEY_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?/*(?:www\.)?")
_URL_KEY_SUFFIX = re.compile(r"(?:/|\.html?|\.txt|\.php|\.en|-standalone)+$")
_CC_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*(?:creativecommons\.org|licensebuttons\.net)/")
_ID_PATH = re.compile(
    r"^(?:spdx\.org/licenses|opensource\.org/licenses?)/([a-z0-9.+-]+?)(?:\.json)?$")
_SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
_SPDX_SUFFIX = re.compile(r"(?:-only|-or-later|\+)$")
_VERSION = re.compile(r"\d{1,2}(?:\.\d{1,2})?")
_NON_WORD = re.compile(r"[^\w.]+|_+")
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(slots=True)
class _Tables:
    """The rules of licenses.tsv, indexed for lookup."""

    phrases: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    longest: int = 1
    spdx: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # IRI -> its version, if any
    single_words: dict[str, tuple[str, str]] = field(default_factory=dict)


def _fold(text: str) -> tuple[str, ...]:
    """Words of ``text`` with case, accents, diacritics and punctuation folded away."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DECIMAL_COMMA.sub(".", text)
    text = _LETTER_DIGIT.sub(" ", text)
    text = _NON_WORD.sub(" ", text)
    text = _STRAY_DOT.sub(" ", text)
    return tuple(text.split())


def _url_key(url: str) -> str:
    key = url.strip().lower().split("#", 1)[0].split("?", 1)[0]
    key = _URL_KEY_PREFIX.sub("", key, count=1)
    return _URL_KEY_SUFFIX.sub("", key)


def _spdx_key(spdx_id: str) -> str:
    return _SPDX_SUFFIX.sub("", spdx_id.lower())


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Load licenses.tsv once (importlib.resources: works from a wheel or a checkout)."""
    text = (files("eduxchange.vocabularies") / "mappings" / "licenses.tsv").read_text("utf-8")
    tables = _Tables()
    rows = [(number, line.split("\t")) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.startswith("#")]
    if not rows or rows[0][1] != ["kind", "value", "target"]:
        raise ValueError("licenses.tsv: the header must be kind, value, target")
    for number, row in rows[1:]:
        if len(row) != 3:
            raise ValueError(f"licenses.tsv line {number}: expected 3 columns, got {row!r}")
        kind, value, target = row
        if kind == "spdx":
            _put(tables.spdx, _spdx_key(value), target, row)
            tables.urls.setdefault(_url_key(target), target)
            version = re.search(r"-(\d+\.\d+)$", value)
            if version:
                tables.versions[target] = version.group(1)
        elif kind == "url":
            _put(tables.urls, _url_key(value), target, row)
        elif kind in ("name", "family", "cc-element", "cc-marker", "cc-port", "cc-scope",
                      "filler"):
            words = _fold(value)
            if not words:
                raise ValueError(f"licenses.tsv line {number}: empty value {row!r}")
            _put(tables.phrases, words, (kind, target), row)
            tables.longest = max(tables.longest, len(words))
            if len(words) == 1:  # CJK runs words together: 知识共享署名, MIT许可证
                tables.single_words[words[0]] = (kind, target)
        else:
            raise ValueError(f"licenses.tsv line {number}: unknown kind {kind!r}")
    tables.versions[CC0] = tables.versions[PUBLIC_DOMAIN_MARK] = "1.0"
    for family in {t for k, t in tables.phrases.values() if k == "family"}:
        if not any(key.startswith(family.lower() + "-") for key in tables.spdx):
            raise ValueError(f"licenses.tsv: family {family!r} has no spdx rows")
    return tables


def _put(table: dict[_K, _V], key: _K, value: _V, row: list[str]) -> None:
    if table.get(key, value) != value:
        raise ValueError(f"licenses.tsv: {row!r} conflicts with an earlier row ({table[key]!r})")
    table[key] = value


@lru_cache(maxsize=8192)
def canonical_license(value: str) -> str | None:
    """Return the canonical IRI of the licence ``value`` states, or ``None`` (module docstring).

    >>> canonical_license("http://creativecommons.org/licenses/by-sa/4.0/deed.fr")
    'https://creativecommons.org/licenses/by-sa/4.0/'
    >>> canonical_license("Creative Commons Paternité - Pas d'Utilisation Commerciale 2.5 Canada")
    'https://creativecommons.org/licenses/by-nc/2.5/ca/'
    >>> canonical_license("All rights reserved") is None
    True
    """
    text = value.strip()
    if not text:
        return None
    tables = _tables()
    urls = _URL_IN_TEXT.findall(text)
    for url in urls:
        iri = _from_url(url.rstrip(".,;:!?"), tables)
        if iri is not None:
            return iri
    if urls:
        text = _URL_IN_TEXT.sub(" ", text)
    if _SPDX_ID.fullmatch(text):
        iri = tables.spdx.get(_spdx_key(text))
        if iri is not None:
            return iri
    return _from_words(_fold(text), tables)


def _from_url(url: str, tables: _Tables) -> str | None:
    key = _url_key(url)
    iri = tables.urls.get(key)
    if iri is not None:
        return iri
    if _CC_HOST.match(key):
        return _from_cc_path(url.lower().split("#", 1)[0].split("?", 1)[0], tables)
    match = _ID_PATH.match(key)
    if match:
        spdx_id = match.group(1)
        return tables.spdx.get(_spdx_key(spdx_id)) or _from_words(_fold(spdx_id), tables)
    return None


def _from_cc_path(url: str, tables: _Tables) -> str | None:
    """``creativecommons.org/licenses/by-sa/3.0/de/deed.en`` and the like."""
    path = _CC_HOST.sub("", _URL_KEY_PREFIX.sub("", url, count=1), count=1)
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2:
        return None
    kind, code, rest = segments[0], segments[1], segments[2:]
    version = rest[0] if rest and _VERSION.fullmatch(rest[0]) else None
    if kind in ("publicdomain", "p"):
        target = {"zero": CC0, "mark": PUBLIC_DOMAIN_MARK}.get(code)
        return target if version in (None, "1.0") else None
    if kind not in ("licenses", "l"):
        return None
    elements = code.split("-")
    if not all(e in _ELEMENT_ORDER for e in elements):
        return None
    port = None
    if version is not None and len(rest) > 1:
        entry = tables.phrases.get((rest[1],))
        if entry is not None and entry[0] == "cc-port" and entry[1] == rest[1]:
            port = rest[1]
    return _cc_iri(set(elements), version, port)


def _cc_iri(elements: set[str], version: str | None, port: str | None) -> str | None:
    """The IRI of a CC licence, or ``None`` if CC never published that combination."""
    version = version or "4.0"
    if version not in _CC_VERSIONS or ("nd" in elements and "sa" in elements):
        return None
    if "by" not in elements and version != "1.0":  # BY is part of every licence since 2.0
        return None
    if version == "4.0":
        port = None
    elif version == "2.1" and port is None:
        return None
    code = "-".join(e for e in _ELEMENT_ORDER if e in elements)
    if version == "1.0":
        code = code.replace("nc-nd", "nd-nc")  # 1.0 spelt it by-nd-nc
    return f"{_CC_LICENSES}{code}/{version}/" + (f"{port}/" if port else "")


def _tokens(words: tuple[str, ...], tables: _Tables) -> list[tuple[str, str]] | None:
    """Words -> (kind, target) tokens by longest match; ``None`` if a word is unknown."""
    tokens: list[tuple[str, str]] = []
    phrases = tables.phrases
    i, count = 0, len(words)
    while i < count:
        for n in range(min(tables.longest, count - i), 0, -1):
            entry = phrases.get(words[i:i + n])
            if entry is not None:
                tokens.append(entry)
                i += n
                break
        else:
            word = words[i]
            if _VERSION.fullmatch(word):
                tokens.append(("version", word if "." in word else word + ".0"))
            elif _CJK.search(word):  # CJK writes names without spaces: 知识共享署名
                segmented = _segment(word, tables.single_words)
                if segmented is None:
                    return None
                tokens.extend(segmented)
            else:
                return None
            i += 1
    return tokens


def _segment(word: str, known: dict[str, tuple[str, str]]) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            entry = known.get(word[start:end])
            if entry is not None:
                tokens.append(entry)
                start = end
                break
        else:
            return None
    return tokens


def _from_words(words: tuple[str, ...], tables: _Tables) -> str | None:
    tokens = _tokens(words, tables) if words else None
    if not tokens:
        return None
    names: set[str] = set()
    families: set[str] = set()
    elements: set[str] = set()
    versions: set[str] = set()
    port: str | None = None
    marker = False
    for index, (kind, target) in enumerate(tokens):
        if kind == "name":
            names.add(target)
        elif kind == "family":
            families.add(target)
        elif kind == "cc-element":
            elements.add(target)
        elif kind == "version":
            versions.add(target)
        elif kind == "cc-marker":
            marker = True
        elif kind == "cc-port":
            if index == 0 or tokens[index - 1][0] != "version" or port not in (None, target):
                return None  # a jurisdiction belongs right after the version
            port = target
    if len(versions) > 1 or len(names) + len(families) + bool(elements) > 1:
        return None  # two different versions or licences: not one statement
    version = next(iter(versions), None)
    if names:
        iri = names.pop()
        return iri if version in (None, tables.versions.get(iri)) else None
    if families:
        if version is None:
            return None  # GPL without a version is no single licence
        return tables.spdx.get(f"{families.pop()}-{version}".lower())
    if elements and (marker or len(elements) > 1 or version is not None):
        return _cc_iri(elements, version, port)
    return None
