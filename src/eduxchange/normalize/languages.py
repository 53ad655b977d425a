"""Language values to BCP 47 tags (RFC 5646), normalised with ``langcodes``.

Members write languages as ISO 639-1/2/3 codes in any case (``en``, ``eng``, ``FRE``, ``chi``),
with underscores (``en_US``), as full tags (``zh-Hans-CN``) or as language names in some
language (``French``, ``français``, ``中文``). Every form becomes the shortest valid BCP 47 tag:
ISO 639-2/B and 639-3 codes fold to their ISO 639-1 code, macrolanguage members to the
macrolanguage (``cmn`` -> ``zh``, ``arb`` -> ``ar``), subtags get their registry case
(``en-us`` -> ``en-US``, ``zh_hans`` -> ``zh-Hans``); region and script are kept.

"No language" is ``None``, not a tag: ``x-none`` (LOM's "no language", IEEE 1484.12.1 1.3),
``und`` (undetermined), ``zxx`` (no linguistic content), ``none``, empty text, private-use
tags (``x-...``, ``qaa``-``qtz``) and anything that is neither a valid tag nor a language
name. ``mul`` (multiple languages) is a real answer and is kept. In a language map
(docs/record.md) ``None`` is the key ``@none``: see :func:`language_key`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import langcodes
from langcodes import tag_is_valid

__all__ = ["normalize_language", "normalize_languages", "language_key"]

#: Values meaning "no language" (compared case-insensitively), see the module docstring.
_NO_LANGUAGE = frozenset({"", "x-none", "none", "und", "zxx", "n/a", "na", "null", "-", "--",
                          "unknown", "x-default"})
#: The shape of a language tag (letters first, subtags of 1-8 alphanumerics).
_TAG_SHAPE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
#: ISO 639-2 reserves qaa-qtz for local use: meaningless outside the member that coined them.
_PRIVATE_USE = re.compile(r"(?:x|q[a-t][a-z])(?:-|$)")
#: Separators between several languages in one value ("en; fr", "de, en", "English and French",
#: "inglês e português"): punctuation, or a conjunction of en/fr/es/pt/de/ru/zh/ar.
_LIST_SEPARATORS = re.compile(
    r"\s*[,;|/+&、，；]\s*|\s+(?:and|or|et|ou|e|y|o|und|oder|и|или|و)\s+|\s*(?:和|及|與)\s*",
    re.IGNORECASE)
#: A language name: letters, with single spaces, hyphens, apostrophes or parentheses between
#: words ("Portuguese (Brazil)", "Norwegian Bokmål"). "Klingon-ish ???" is none: junk is dropped,
#: not matched to the nearest name.
_NAME_SHAPE = re.compile(r"[^\W\d_]+(?:(?:[ '’]|\s?\()?[^\W\d_]+\)?)*")
#: Shorter Latin values are codes or garbage, never names (langcodes.find("a") is some language);
#: names in other scripts can be short (中文).
_MIN_NAME_LENGTH = 4


@lru_cache(maxsize=4096)
def normalize_language(value: str) -> str | None:
    """Return the normalised BCP 47 tag of a language code, tag or name, or ``None``.

    >>> [normalize_language(v) for v in ("eng", "FRE", "en_US", "zh-CN", "français", "x-none")]
    ['en', 'fr', 'en-US', 'zh-CN', 'fr', None]
    """
    text = value.strip()
    if text.casefold() in _NO_LANGUAGE:
        return None
    tag = _standardize(text.replace("_", "-"))
    if (tag is None and (len(text) >= _MIN_NAME_LENGTH or not text.isascii())
            and _NAME_SHAPE.fullmatch(text)):
        tag = _find_by_name(text)
    if tag is None or _PRIVATE_USE.match(tag) or tag in _NO_LANGUAGE:
        return None
    return tag


def normalize_languages(values: Iterable[str]) -> list[str]:
    """Normalise several language values: tags in first-seen order, without ``None`` or repeats.

    A value may hold a list (``"en; fr"``, ``"de, en"``, ``"English and French"``, ``"en fr"``):
    members write that. A part that is no language is dropped.
    """
    tags: list[str] = []
    for value in values:
        parts: Iterable[str] = (_LIST_SEPARATORS.split(value) if _LIST_SEPARATORS.search(value)
                                else (value,))
        for part in parts:
            words = part.split()
            if len(words) > 1 and normalize_language(part) is None:
                # "en fr": codes separated by spaces, when every word is one (never names:
                # "Norwegian Bokmål" is one language, "Klingon ish" none).
                codes = [normalize_language(w) if len(w) <= 3 else None for w in words]
                if all(codes):
                    tags.extend(c for c in codes if c and c not in tags)
                    continue
            tag = normalize_language(part)
            if tag is not None and tag not in tags:
                tags.append(tag)
    return tags


def language_key(value: str | None) -> str:
    """The key of a language map (JSON-LD 1.1 language maps): the normalised tag, or ``@none``."""
    if not value:
        return "@none"
    return normalize_language(value) or "@none"


def _standardize(text: str) -> str | None:
    if not _TAG_SHAPE.fullmatch(text):
        return None
    try:
        tag = langcodes.standardize_tag(text, macro=True)
    except (LookupError, ValueError):
        return None
    return tag if tag_is_valid(tag) else None


def _find_by_name(text: str) -> str | None:
    try:
        tag = langcodes.find(text).to_tag()
    except (LookupError, ValueError):
        return None
    return _standardize(tag)
