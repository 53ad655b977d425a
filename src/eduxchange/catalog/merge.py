"""De-duplication keys and field-by-field merging of member descriptions (pure).

The same resource offered by several members becomes one record. Descriptions
match when they share a canonical URL (docs/record.md, "Canonical URL") or an
identifier (DOI, handle, ISBN). Merging follows a documented precedence: the
richer source wins each single-valued field, and everything that can be united
is united (language maps, keyword lists, concepts, agents, identifiers).

Precedence, highest first: the richer metadata format (LOM > IMS MD > LRMI >
qualified DC > oai_dc), then the description with more fields, then the member
id and identifier (so the result never depends on processing order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from ..core.record import CommonRecord, Description, Provenance

__all__ = ["canonical_url", "clean_url", "match_keys", "Ranked", "merge_descriptions"]

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|yclid)$",
                       re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _http_parts(url: str) -> tuple[str, str, SplitResult] | None:
    """Lower-cased scheme and ``host[:port]`` (default port dropped) of an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return scheme, host, parts


def _query(parts: SplitResult, *, sort: bool) -> str:
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)]
    return urlencode(sorted(pairs) if sort else pairs)


def canonical_url(url: str) -> str | None:
    """The form of ``url`` used to match descriptions; ``None`` if it is not an http(s) URL.

    Scheme and host lower-cased, ``http`` and ``https`` alike, default ports, fragments,
    tracking parameters and a trailing slash dropped, other parameters sorted.
    """
    split = _http_parts(url)
    if split is None:
        return None
    _, host, parts = split
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    # http and https name the same resource here: compare without the scheme.
    return urlunsplit(("https", host, path, _query(parts, sort=True), ""))


def clean_url(url: str) -> str:
    """``url`` as the record shows it: scheme and host lower-cased, no default port, no
    fragment, no tracking parameters. Unlike :func:`canonical_url` it keeps the scheme,
    the path as written and the order of the other parameters."""
    split = _http_parts(url)
    if split is None:
        return url
    scheme, host, parts = split
    return urlunsplit((scheme, host, parts.path or "/", _query(parts, sort=False), ""))


def match_keys(description: Description) -> list[str]:
    """The keys a description matches others by: ``url:...``, and identifiers as given."""
    keys: list[str] = []
    url = description.get("url")
    if isinstance(url, str):
        canonical = canonical_url(url)
        if canonical:
            keys.append("url:" + canonical)
    for identifier in description.get("identifier", ()):
        key = "id:" + identifier.lower()
        if key not in keys:
            keys.append(key)
    return keys


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranked:
    """A description with what decides its precedence."""

    description: Description
    format_rank: int
    member_id: str
    identifier: str

    def sort_key(self) -> tuple[int, int, str, str]:
        return (-self.format_rank, -len(self.description), self.member_id, self.identifier)


_UNITE_LANGUAGE_MAPS = ("name", "description", "copyrightNotice")
_CONCEPT_FIELDS = ("learningResourceType", "educationalLevel", "audience", "about")
_AGENT_FIELDS = ("creator", "contributor", "publisher")
_LIST_FIELDS = ("inLanguage", "identifier", "encodingFormat")
_INTERNAL = ("_terms",)


def merge_descriptions(descriptions: Sequence[Ranked], *, record_id: str, context: str
                       ) -> CommonRecord:
    """One catalogue record from one or more descriptions of the same resource.

    Does not mutate its inputs. ``mainEntityOfPage`` keeps every description's
    provenance, ordered by provider and identifier.
    """
    ordered = sorted(descriptions, key=Ranked.sort_key)
    record: dict[str, Any] = {"@context": context, "id": record_id, "type": ["LearningResource"]}
    provenance: list[Provenance] = []
    for ranked in ordered:
        fields: Mapping[str, Any] = ranked.description  # walked key by key
        for key, value in fields.items():
            if key in _INTERNAL or key in ("@context", "id", "type"):
                continue
            if key == "mainEntityOfPage":
                provenance.extend(value)
            elif key in _UNITE_LANGUAGE_MAPS:
                target = record.setdefault(key, {})
                for lang, text in value.items():
                    target.setdefault(lang, text)
            elif key == "keywords":
                target = record.setdefault(key, {})
                for lang, words in value.items():
                    _unite(target.setdefault(lang, []), words)
            elif key in _CONCEPT_FIELDS:
                _unite_by(record.setdefault(key, []), value, "id")
            elif key in _AGENT_FIELDS:
                _unite_agents(record.setdefault(key, []), value)
            elif key in _LIST_FIELDS:
                _unite(record.setdefault(key, []), value)
            elif key == "url":
                record.setdefault(key, clean_url(value))
            else:
                record.setdefault(key, value)  # single-valued: the richer source wins
    _drop_untagged_duplicates(record)
    record["mainEntityOfPage"] = sorted(
        provenance, key=lambda p: (str(p.get("provider", {}).get("id", "")),
                                   str(p.get("identifier", ""))))
    # Each key holds the descriptions' values of that key united, in their shape (mypy cannot
    # follow keys chosen at run time): the result is a record.
    return cast(CommonRecord, record)


def _drop_untagged_duplicates(record: dict[str, Any]) -> None:
    """A text one member gives without a language and another with one is one text: keep the tagged."""
    for key in _UNITE_LANGUAGE_MAPS:
        values = record.get(key)
        if values and "@none" in values and len(values) > 1:
            tagged = {text for lang, text in values.items() if lang != "@none"}
            if values["@none"] in tagged:
                del values["@none"]
    keywords = record.get("keywords")
    if keywords and "@none" in keywords and len(keywords) > 1:
        tagged_words = {w for lang, words in keywords.items() if lang != "@none" for w in words}
        kept = [w for w in keywords["@none"] if w not in tagged_words]
        if kept:
            keywords["@none"] = kept
        else:
            del keywords["@none"]


def _unite(target: list[Any], values: Iterable[Any]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


def _unite_agents(target: list[dict[str, Any]], values: Iterable[dict[str, Any]]) -> None:
    """Agents by name; one a member left untyped takes the type another member gave evidence of
    (normalize/agents.py), as a new dict: the descriptions are not mutated."""
    at = {item.get("name"): i for i, item in enumerate(target)}
    for value in values:
        i = at.get(value.get("name"))
        if i is None:
            at[value.get("name")] = len(target)
            target.append(value)
        elif "type" not in target[i] and "type" in value:
            target[i] = {"type": value["type"], **target[i]}


def _unite_by(target: list[dict[str, Any]], values: Iterable[dict[str, Any]], key: str) -> None:
    seen = {item.get(key) for item in target}
    for value in values:
        if value.get(key) not in seen:
            target.append(value)
            seen.add(value.get(key))
