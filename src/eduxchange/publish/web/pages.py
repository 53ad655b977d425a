"""Server-rendered HTML pages for people: the landing page, record pages, member pages.

The server (:mod:`eduxchange.publish.server`) routes here when a client prefers HTML
(:func:`prefers_html`); machines keep the JSON, JSON-LD and RDF they always got. Pages are
rendered by Jinja2 with autoescaping on: every value from a member (titles, descriptions,
names, URLs) is hostile text until escaped, and a link is only written for an ``http`` or
``https`` URL (a ``javascript:`` URL survives escaping). Pages need no JavaScript, no external
font, image or stylesheet (CSS is inline, badges are inline SVG), so they work on thin links.

Interface text comes from :mod:`eduxchange.publish.web.messages`; concept labels from the shipped SKOS
vocabularies (:mod:`eduxchange.catalog.vocab`), licence names from ``vocabularies/licenses.ttl``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import langcodes
from lxml import etree
from markupsafe import Markup, escape
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from ...core.config import Config, MemberConfig
from ...core.record import AgentField, CommonRecord, ConceptField
from ..report import member_report, render_html
from ...store.base import Resource
from ...store.search import FACETS, SearchQuery, SearchResult, member_of, search_terms
from ...store.base import CatalogueTotals, StoreReader
from ...catalog.vocab import default_vocabularies
from .messages import LANGUAGE_NAMES, MESSAGES, RTL_LANGUAGES, UI_LANGUAGES
from .search import page_count, search_url

__all__ = ["Page", "Pages", "parse_accept", "prefers_html", "q_value", "visitor_languages", "ui_language",
           "OAI_STYLESHEET", "member_report_html", "oai_html", "licence_badge", "Badge"]

#: Media types that mean "a page for a person".
_HTML_TYPES = (("text", "html"), ("application", "xhtml+xml"))
_LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,4}$")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")


def q_value(params: Iterable[str]) -> float:
    """The quality (``q``, RFC 9110, 12.4.2) among a header element's parameters: 1 when
    absent, 0 when unreadable, clamped to [0, 1]."""
    q = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                q = 0.0
    return q


def parse_accept(header: str) -> list[tuple[str, str, float]]:
    """``Accept`` -> ``[(type, subtype, q)]`` (RFC 9110, 12.5.1); malformed parts skipped."""
    out = []
    for part in header.split(",")[:64]:
        fields = [f.strip() for f in part.split(";")]
        main, _, sub = fields[0].lower().partition("/")
        if not main or not sub:
            continue
        out.append((main, sub, q_value(fields[1:])))
    return out


def prefers_html(accept: str | None, data_types: Iterable[str], *,
                 named_data_wins: bool = True) -> bool:
    """Whether a client that sent ``accept`` gets a page rather than one of ``data_types``.

    Only a client that names ``text/html`` (or XHTML) with q > 0 gets HTML: ``*/*`` and
    ``text/*`` alone keep the data (curl, harvesters, RDF clients). With
    ``named_data_wins`` (records, the landing page), a client that also names one of
    ``data_types`` at all is a machine with HTML as a fallback and gets data: what such
    clients got before pages existed. Without it (``/oai``, where browsers themselves name
    ``application/xml;q=0.9``), HTML must have a strictly higher q than every named data type.
    """
    if not accept:
        return False
    ranges = parse_accept(accept)
    html_q = max((q for m, s, q in ranges if (m, s) in _HTML_TYPES), default=0.0)
    if html_q <= 0:
        return False
    wanted = {tuple(t.split("/", 1)) for t in data_types}
    data_q = [q for m, s, q in ranges if (m, s) in wanted and q > 0]
    if named_data_wins:
        return not data_q
    return html_q > max(data_q, default=0.0)


def visitor_languages(accept_language: str | None, lang: str | None) -> list[str]:
    """The visitor's languages, most wanted first: ``?lang=``, then ``Accept-Language``
    (RFC 9110, 12.5.4, by q; ``*`` and malformed tags dropped), lower-cased."""
    found: list[tuple[float, int, str]] = []
    if lang and _LANG_TAG.match(lang.strip()):
        found.append((2.0, 0, lang.strip().lower()))
    for order, part in enumerate((accept_language or "").split(",")[:32], start=1):
        tag, *params = (p.strip() for p in part.split(";"))
        if not _LANG_TAG.match(tag):
            continue
        q = q_value(params)
        if q > 0:
            found.append((q, order, tag.lower()))
    seen: list[str] = []
    for _, _, tag in sorted(found, key=lambda f: (-f[0], f[1])):
        if tag not in seen:
            seen.append(tag)
    return seen


def ui_language(languages: Sequence[str]) -> str:
    """The interface language for the visitor's languages (exact or primary subtag; else en)."""
    for tag in languages:
        primary = tag.split("-")[0]
        if primary in MESSAGES:
            return primary
    return "en"


def _pick(value: Any, languages: Sequence[str]) -> tuple[str, str | None] | None:
    """A language map's text in the visitor's language: ``(text, its language or None)``.

    Order: exact tag, same primary subtag, the map's ``@none``, English, then the first."""
    if isinstance(value, str):
        return (value, None) if value else None
    if not isinstance(value, Mapping) or not value:
        return None
    texts = {str(k).lower(): (str(k), v) for k, v in value.items()
             if isinstance(v, str) and v.strip()}
    if not texts:
        return None
    for tag in languages:
        if tag in texts:
            return texts[tag][1], _tag(texts[tag][0])
        primary = tag.split("-")[0]
        for key, (original, text) in texts.items():
            if key.split("-")[0] == primary:
                return text, _tag(original)
    for key in ("@none", "en"):
        if key in texts:
            return texts[key][1], _tag(texts[key][0])
    original, text = next(iter(texts.values()))
    return text, _tag(original)


def _tag(key: str) -> str | None:
    return None if key == "@none" or not _LANG_TAG.match(key) else key


def _safe_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL we may put in an ``href``, else None."""
    if not isinstance(value, str) or len(value) > 4000:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value.strip()


@cache
def _language_name(tag: str, ui: str) -> str:
    try:
        name = langcodes.Language.get(tag).display_name(ui)
    except (ValueError, LookupError):
        return tag
    return str(name) if name else tag


@cache
def _country_name(code: str, ui: str) -> str:
    try:
        name = langcodes.Language.make(territory=code.upper()).territory_name(ui)
    except (ValueError, LookupError):
        return code
    return str(name) if name else code


@cache
def _licence_labels() -> dict[str, dict[str, str]]:
    """Licence IRI -> {lang: name}, from the shipped ``vocabularies/licenses.ttl``."""
    graph = Graph().parse(data=(files("eduxchange.vocabularies") / "licenses.ttl")
                          .read_text("utf-8"), format="turtle")
    labels: dict[str, dict[str, str]] = {}
    for subject, label in graph.subject_objects(SKOS.prefLabel):
        if isinstance(subject, URIRef):
            labels.setdefault(str(subject), {})[getattr(label, "language", None) or "@none"] = \
                str(label)
    return labels


_CC_PATH = re.compile(r"^/licenses/([a-z-]+)/(\d\.\d)/(?:([a-z]{2})/)?$")


#: The agents a resource page names (contributors are left to the record's JSON).
_SHOWN_AGENTS: tuple[AgentField, ...] = ("creator", "publisher")


@dataclass(frozen=True, slots=True)
class Badge:
    """What the licence badge says: the short code, whether it is open (no NC/ND), the link."""

    code: str
    open: bool
    url: str | None


def licence_badge(iri: str) -> Badge:
    """The badge of a canonical licence IRI: ``CC BY-SA 4.0``, ``CC0``, ``PD``, else ``©``.

    Open means free to reuse and adapt, also commercially (no NC, no ND): the Open
    Definition's test, which CC0, PDM, BY and BY-SA and the open-source licences pass."""
    parts = urlsplit(iri)
    url = _safe_url(iri)
    if parts.netloc == "creativecommons.org":
        if parts.path.startswith("/publicdomain/zero/"):
            return Badge("CC0", True, url)
        if parts.path.startswith("/publicdomain/mark/"):
            return Badge("PD", True, url)
        match = _CC_PATH.match(parts.path)
        if match:
            elements = match.group(1).upper()
            port = f" {match.group(3).upper()}" if match.group(3) else ""
            return Badge(f"{elements} {match.group(2)}{port}",
                         "NC" not in elements and "ND" not in elements, url)
    labels = _licence_labels().get(iri)
    if labels:  # an open licence of the SPDX list (the only others we canonicalise to)
        return Badge(labels.get("en") or next(iter(labels.values())), True, url)
    return Badge("©", False, url)


def _badge_svg(badge: Badge, label: str) -> Markup:
    """The badge drawn as inline SVG (no external image): a dark ``cc`` cap and the code."""
    cc = badge.code not in ("©",) and not badge.code.startswith(("GNU", "MIT", "Apache"))
    code = badge.code if len(badge.code) <= 16 else badge.code[:15] + "…"
    width = 34 + 8 * len(code) + 12
    colour = "#1b6e2a" if badge.open else "#8a4500"
    cap = "cc" if cc else "lic"
    return Markup(
        '<svg class="badge" xmlns="http://www.w3.org/2000/svg" role="img" '
        'width="{w}" height="26" viewBox="0 0 {w} 26" aria-label="{label}">'
        '<title>{label}</title>'
        '<rect width="{w}" height="26" rx="5" fill="{colour}"/>'
        '<rect width="34" height="26" rx="5" fill="#1d1d1b"/>'
        '<rect x="28" width="6" height="26" fill="#1d1d1b"/>'
        '<circle cx="17" cy="13" r="9.5" fill="none" stroke="#fff" stroke-width="2"/>'
        '<text x="17" y="17" fill="#fff" font-size="10" font-weight="700" '
        'font-family="sans-serif" text-anchor="middle">{cap}</text>'
        '<text x="{tx}" y="17.5" fill="#fff" font-size="13" font-weight="700" '
        'font-family="sans-serif" text-anchor="middle">{code}</text></svg>'
    ).format(w=width, label=label, colour=colour, cap=cap, tx=34 + (width - 34) / 2, code=code)


def _short_time(value: Any) -> str:
    """``2024-01-02T10:00:00Z`` -> ``2024-01-02 10:00 UTC`` (language-neutral)."""
    if not isinstance(value, str) or not value:
        return ""
    match = re.match(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}))?", value)
    if not match:
        return value[:40]
    return f"{match.group(1)} {match.group(2)} UTC" if match.group(2) else match.group(1)


def member_report_html(config: Config, store: StoreReader, member_id: str, *,
                       lang: str = "en") -> Markup | None:
    """The member's quality report (:mod:`eduxchange.publish.report`) as an HTML fragment for its
    page, in ``lang``; None for a member the config does not name (nothing to report against).
    """
    member = next((m for m in config.members if m.id == member_id), None)
    if member is None:
        return None
    report = member_report(store, member, lang=lang)
    return Markup(render_html(report, lang, fragment=True))  # noqa: S704 - render_html escapes


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered page: UTF-8 HTML and the interface language it is in."""

    body: bytes
    language: str


class Pages:
    """Renders the pages of one catalogue (thread-safe; one per :class:`~eduxchange.publish.server.App`)."""

    def __init__(self, config: Config, store: StoreReader) -> None:
        self.config = config
        self.store = store
        self.members: dict[str, MemberConfig] = {m.id: m for m in config.members}
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("eduxchange.publish.web", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True)
        self._css = Markup((files("eduxchange.publish.web") / "templates" / "style.css")
                           .read_text("utf-8").replace("</", ""))
        self._totals: tuple[int, CatalogueTotals] | None = None
        self._lock = threading.Lock()

    # -- shared ----------------------------------------------------------------------------

    def _render(self, template: str, *, path: str, languages: Sequence[str], title: str,
                **context: Any) -> Page:
        ui = ui_language(languages)
        messages = MESSAGES[ui]

        def t(key: str, **fields: Any) -> Markup:
            return escape(messages.get(key) or MESSAGES["en"][key]).format(**fields)

        sep = "&" if "?" in path else "?"  # a search page's path keeps its query
        switcher = [(code, LANGUAGE_NAMES[code], f"{path}{sep}lang={code}", code == ui)
                    for code in UI_LANGUAGES]
        html = self._env.get_template(template).render(
            t=t, ui=ui, dir="rtl" if ui in RTL_LANGUAGES else "ltr", css=self._css,
            switcher=switcher, title=title, languages=languages, **context)
        return Page(html.encode("utf-8"), ui)

    def _totals_now(self) -> CatalogueTotals:
        seq, _ = self.store.latest_change()
        with self._lock:
            if self._totals is not None and self._totals[0] == seq:
                return self._totals[1]
        totals = self.store.catalogue_totals()
        with self._lock:
            self._totals = (seq, totals)
        return totals

    def _member_row(self, member_id: str, base: str, ui: str) -> dict[str, Any]:
        member = self.members.get(member_id)
        state = self.store.member_state(member_id)
        counts = self.store.counts(member_id)
        return {
            "id": member_id, "name": member.name if member else member_id,
            "url": f"{base}members/{quote(member_id, safe='')}",
            "endpoint": _safe_url(member.endpoint) if member else None,
            "endpoint_text": member.endpoint if member else "",
            "country": _country_name(member.country, ui) if member and member.country else "",
            "last_harvest": _short_time(state.last_harvest), "state": state.state,
            "error": state.error or "", **counts,
        }

    # -- pages -----------------------------------------------------------------------------

    def landing(self, *, base: str, languages: Sequence[str]) -> Page:
        """``/``: what the catalogue is, its counts, its members, the feeds for machines."""
        ui = ui_language(languages)
        totals = self._totals_now()
        members = [self._member_row(m.id, base, ui) for m in self.config.members]
        title = MESSAGES[ui]["site_title"]
        return self._render("index.html", path=base, languages=languages, title=title,
                            base=base, totals=totals, members=members)

    def resource(self, resource: Resource, *, base: str, languages: Sequence[str]) -> Page:
        """``/resources/{uuid}``: one catalogue record in the visitor's language."""
        record: CommonRecord = resource.record
        ui = ui_language(languages)
        prefs = [*languages, ui]
        uuid = resource.id.rsplit("/", 1)[-1]
        name = _pick(record.get("name"), prefs) or (uuid, None)
        vocab = default_vocabularies()

        def concepts(key: ConceptField) -> list[tuple[str, str | None]]:
            out: list[tuple[str, str | None]] = []
            for item in record.get(key) or ():
                if not isinstance(item, Mapping):
                    continue
                shipped = vocab.concept(str(item.get("id", "")))
                labels = dict(shipped.pref_label) if shipped else {}
                picked = _pick(labels or item.get("prefLabel"), prefs)
                label = picked or (str(item.get("id", "")), None)
                # HCRT "Assessment" and LRMI "assessment" are two concepts, one word to a reader.
                if all(label[0].casefold() != seen.casefold() for seen, _ in out):
                    out.append(label)
            return out

        licence_iri = record["license"].get("id") if "license" in record else None
        licence = None
        if isinstance(licence_iri, str):
            badge = licence_badge(licence_iri)
            label = _pick(_licence_labels().get(licence_iri), prefs)
            text = label[0] if label else (f"CC {badge.code}" if badge.url else licence_iri)
            licence = {"name": text, "lang": label[1] if label else None, "url": badge.url,
                       "badge": _badge_svg(badge, text), "open": badge.open}
        agents = {key: [str(a.get("name")) for a in record.get(key) or ()
                        if isinstance(a, Mapping) and a.get("name")][:20]
                  for key in _SHOWN_AGENTS}
        descriptions = {(d.member_id, d.identifier): d
                        for d in self.store.member_descriptions(resource.id)}
        provenance = []
        for entry in record.get("mainEntityOfPage") or ():
            if not isinstance(entry, Mapping):
                continue
            raw_provider = entry.get("provider")
            provider: Mapping[str, Any] = raw_provider if isinstance(raw_provider, Mapping) else {}
            member_id = str(provider.get("id", "")).rstrip("/").rsplit("/", 1)[-1]
            member = self.members.get(member_id)
            own = descriptions.get((member_id, str(entry.get("identifier", ""))))
            own_record = own.description if own else {}
            provenance.append({
                "member": member.name if member else (provider.get("name") or member_id),
                "member_url": f"{base}members/{quote(member_id, safe='')}"
                if _MEMBER_ID.match(member_id) else None,
                "identifier": str(entry.get("identifier", "")),
                "changed": _short_time(entry.get("dateModified")),
                "harvested": _short_time(entry.get("sdDatePublished")),
                "getrecord": _safe_url(entry.get("id")),
                "name": _pick(own_record.get("name"), prefs),
                "description": _pick(own_record.get("description"), prefs),
            })
        keywords = record.get("keywords")
        picked_keywords: list[str] = []
        if isinstance(keywords, Mapping):
            # One language's list: joined for _pick, split again (a keyword has no newline).
            joined = _pick({k: "\n".join(str(v) for v in values if isinstance(v, str))
                            for k, values in keywords.items() if isinstance(values, list)}, prefs)
            picked_keywords = joined[0].split("\n")[:30] if joined else []
        in_language = [(tag, _language_name(tag, ui)) for tag in record.get("inLanguage") or ()
                       if isinstance(tag, str) and _LANG_TAG.match(tag)]
        formats = [("JSON-LD", f"{uuid}?format=jsonld"), ("Turtle", f"{uuid}?format=ttl"),
                   ("RDF/XML", f"{uuid}?format=rdf"), ("AMB", f"{uuid}?profile=amb")]
        return self._render(
            "resource.html", path=uuid, languages=languages, title=name[0], base=base,
            name=name, description=_pick(record.get("description"), prefs),
            url=_safe_url(record.get("url")), url_text=str(record.get("url") or ""),
            types=concepts("learningResourceType"), levels=concepts("educationalLevel"),
            subjects=concepts("about"), audience=concepts("audience"), licence=licence,
            in_language=in_language, keywords=picked_keywords, agents=agents,
            provenance=provenance, formats=formats, record_id=resource.id)

    def member(self, member_id: str, *, base: str, languages: Sequence[str],
               report: Markup | None = None) -> Page | None:
        """``/members/{id}``: the member's basics and its quality report (None: no such member)."""
        if not _MEMBER_ID.match(member_id):
            return None
        if member_id not in self.members and self.store.member_state(member_id).state == "never":
            return None
        ui = ui_language(languages)
        row = self._member_row(member_id, base, ui)
        row["resources"] = self.store.member_resource_count(member_id)
        set_spec = f"member:{member_id}"
        oai = f"{base}oai"
        links = {"list_records": f"{oai}?verb=ListRecords&metadataPrefix=oai_dc&set="
                                 f"{quote(set_spec, safe='')}",
                 "set": set_spec}
        title = MESSAGES[ui]["member_title"].format(name=row["name"])
        return self._render("member.html", path=quote(member_id, safe=""), languages=languages,
                            title=title, base=base, member=row, links=links, report=report)

    def facet_label(self, facet: str, value: str, prefs: Sequence[str], ui: str
                    ) -> tuple[str, str | None]:
        """A facet value as the visitor reads it: ``(text, its language or None)``."""
        if facet == "language":
            return _language_name(value, ui), None
        if facet == "member":
            member = self.members.get(value)
            return (member.name if member else value), None
        if facet == "licence":
            picked = _pick(_licence_labels().get(value), prefs)
            badge = licence_badge(value)
            return picked or ((f"CC {badge.code}" if badge.url else value), None)
        shipped = default_vocabularies().concept(value)
        picked = _pick(dict(shipped.pref_label) if shipped else None, prefs)
        return picked or (value.rstrip("/#").rsplit("/", 1)[-1], None)

    def search(self, result: SearchResult, query: SearchQuery, *, base: str,
               languages: Sequence[str]) -> Page:
        """``/search``: the hits in the visitor's language, facets as links, pagination."""
        ui = ui_language(languages)
        prefs = [*languages, ui]
        keep = [("lang", ui)]
        terms = search_terms(query.text)
        hits = []
        for hit in result.hits:
            record = hit.record
            uuid = hit.resource_id.rsplit("/", 1)[-1]
            licence = record.get("license")
            licence_iri = licence.get("id") if isinstance(licence, Mapping) else None
            members = sorted({m for m in map(member_of, record.get("mainEntityOfPage") or ())
                              if m})
            hits.append({
                "url": f"{base}resources/{uuid}?lang={ui}",
                "name": _pick(record.get("name"), prefs) or (uuid, None),
                "snippet": _snippet(_pick(record.get("description"), prefs), terms),
                "licence": self.facet_label("licence", licence_iri, prefs, ui)[0]
                if isinstance(licence_iri, str) else None,
                "members": [self.facet_label("member", m, prefs, ui)[0] for m in members],
            })
        facets = []
        for facet, counts in result.facets.items():
            chosen = query.filters.get(facet, ())
            items = []
            for count in counts[:30]:
                active = count.value in chosen
                values = tuple(v for v in chosen if v != count.value) if active \
                    else (*chosen, count.value)
                filters = {**query.filters, facet: values}
                text, lang = self.facet_label(facet, count.value, prefs, ui)
                items.append({"text": text, "lang": lang, "count": count.count,
                              "active": active,
                              "url": search_url(base, query, page=1, extra=keep,
                                                filters={k: v for k, v in filters.items() if v})})
            if items:
                facets.append({"name": facet, "entries": items})
        pages = page_count(result, query)
        links = {
            "prev": search_url(base, query, page=query.page - 1, extra=keep)
            if query.page > 1 else None,
            "next": search_url(base, query, page=query.page + 1, extra=keep)
            if query.page < pages else None,
            "unfilter": search_url(base, query, page=1, filters={}, extra=keep)
            if query.filters else None,
        }
        facet_titles = {"language": "in_language", "type": "types", "level": "levels",
                        "subject": "subjects", "licence": "licence", "member": "member"}
        title = f"{query.text} · {MESSAGES[ui]['search_title']}" if query.text \
            else MESSAGES[ui]["search_title"]
        path = search_url("", query)  # the switcher keeps the search, in another language
        return self._render("search.html", path=path, languages=languages,
                            title=title, base=base, query=query, total=result.total, hits=hits,
                            facets=facets, facet_titles=facet_titles, links=links,
                            page=query.page, pages=pages, order=list(FACETS))


def _snippet(picked: tuple[str, str | None] | None, terms: Sequence[str], *,
             width: int = 240) -> dict[str, Any] | None:
    """A description cut to ``width`` characters around the first term found, terms marked."""
    if picked is None:
        return None
    text, lang = " ".join(picked[0].split()), picked[1]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.IGNORECASE) if terms else None
    found = pattern.search(text) if pattern else None
    start = max(0, (found.start() if found else 0) - width // 3)
    cut = text[start:start + width]
    prefix, suffix = ("… " if start else ""), (" …" if start + width < len(text) else "")
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(cut) if pattern else ():
        parts.append(str(escape(cut[last:match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(str(escape(cut[last:])))
    html = str(escape(prefix)) + "".join(parts) + str(escape(suffix))
    return {"html": Markup(html), "lang": lang}  # noqa: S704 - every piece escaped above


# -- OAI-PMH through the stylesheet ------------------------------------------------------------

#: The XSLT 1.0 stylesheet OAI-PMH responses name in their ``xml-stylesheet`` instruction.
OAI_STYLESHEET: bytes = (files("eduxchange.publish.web") / "templates" / "oai.xsl").read_bytes()


_XSLT = threading.local()


def _oai_transform() -> etree.XSLT:
    """The compiled stylesheet, one per thread (lxml documents must not cross threads)."""
    transform: etree.XSLT | None = getattr(_XSLT, "transform", None)
    if transform is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        # Our own stylesheet, denied every read and write beyond its input (no document(), no
        # network), so a response cannot make the server fetch anything.
        transform = etree.XSLT(etree.fromstring(OAI_STYLESHEET, parser),
                               access_control=etree.XSLTAccessControl.DENY_ALL)  # type: ignore[attr-defined]
        _XSLT.transform = transform
    return transform


def oai_html(xml: bytes) -> bytes:
    """An OAI-PMH response rendered as HTML by :data:`OAI_STYLESHEET`, on the server.

    For browsers that no longer run XSLT themselves (Chromium is removing it); the others
    render the same stylesheet from the response's processing instruction."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    document = etree.fromstring(xml, parser).getroottree()
    result = _oai_transform()(document)
    return b"<!DOCTYPE html>\n" + etree.tostring(result, method="html", encoding="UTF-8")
