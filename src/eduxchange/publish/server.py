"""Publish the catalogue over HTTP: OAI-PMH, the change feed, records as JSON-LD and RDF.

Routes (all read-only; ``GET`` and ``HEAD``, plus ``POST`` for ``/oai``; anything else is 405):

==============================  =====================================================================
``/oai``                        OAI-PMH 2.0 (:mod:`eduxchange.publish.provider`)
``/changes``                    the change feed (:mod:`eduxchange.publish.changes`), pages at
                                ``/changes/page/{n}``
``/resources/{uuid}``           one record: JSON-LD (default), JSON, Turtle, N-Triples, RDF/XML by
                                ``Accept`` or ``?format=``; 404 unknown, 410 deleted, 406 unacceptable
``/context.jsonld``             the JSON-LD context records name
``/vocabularies/``              the SKOS vocabularies concepts come from, ``/vocabularies/{name}.ttl``
``/schemas/rdf-lax.xsd``        the XML Schema ListMetadataFormats names for ``rdf``
                                (:data:`eduxchange.publish.provider.SERVED_SCHEMAS`)
``/members/{id}``               a member's page (HTML)
``/search?q=...``               full-text search with facets: JSON, or a page for browsers
                                (:mod:`eduxchange.publish.web.search`); 400 for out-of-range parameters
``/oai.xsl``                    the XSLT stylesheet OAI-PMH responses name
==============================  =====================================================================

Clients that prefer HTML (browsers: :func:`eduxchange.publish.web.prefers_html`) get pages for ``/``,
records, members and ``/oai`` (:mod:`eduxchange.publish.web`); machines keep what they got before.

Every response carries ``ETag`` (a hash of the representation), ``Last-Modified`` where the
data has a time, ``Cache-Control`` and ``Vary``; conditional requests get 304 (RFC 9110,
section 13); bodies are gzip-compressed when the client accepts it. Bad requests get a 4xx with a
small ``application/problem+json`` body (RFC 9457), never a traceback.

The HTTP server is waitress with a fixed number of worker threads, so that load cannot spawn
threads (or SQLite connections) without bound; waitress buffers each request whole before a worker
runs it, and a request deadline closes connections that never finish one, so slow or idle clients
cannot starve the others (see :func:`make_server`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from importlib.resources import files
from pathlib import Path
from types import FrameType
from typing import Any, Protocol
from urllib.parse import parse_qs

from markupsafe import Markup
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from . import changes as feed
from ..core.config import Config
from ..core.errors import StoreError
from ..core.record import CommonRecord
from .provider import SERVED_SCHEMAS, Provider
from .rdf import jsonld_document, record_to_graph
from .writers.amb import AMB_PROFILE, NotAmb, to_amb
from ..store.backends import open_store_reader
from ..store.base import StoreReader
from .writers import SCHEMA_FILES
from .web.search import BadSearch, search_json, search_query
from .web import (
    OAI_STYLESHEET,
    Pages,
    member_report_html,
    oai_html,
    parse_accept,
    prefers_html,
    q_value,
    ui_language,
    visitor_languages,
)

__all__ = ["App", "Server", "ServerInfo", "make_app", "make_server", "serve", "RECORD_FORMATS",
           "REQUEST_TIMEOUT", "IDLE_TIMEOUT", "CONNECTION_LIMIT"]

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: ``format`` name -> (media type, rdflib serializer; None for JSON), in preference order.
RECORD_FORMATS: dict[str, tuple[str, str | None]] = {
    "jsonld": ("application/ld+json", None),
    "json": ("application/json", None),
    "ttl": ("text/turtle", "turtle"),
    "nt": ("application/n-triples", "nt"),
    "rdf": ("application/rdf+xml", "xml"),
}
_FORMAT_ALIASES = {
    "jsonld": "jsonld", "json-ld": "jsonld", "json": "json", "ttl": "ttl", "turtle": "ttl",
    "nt": "nt", "ntriples": "nt", "n-triples": "nt", "rdf": "rdf", "xml": "rdf", "rdfxml": "rdf",
    "rdf+xml": "rdf",
}
_CONTENT_TYPES = {
    "jsonld": "application/ld+json", "json": "application/json",
    "ttl": "text/turtle; charset=utf-8", "nt": "application/n-triples; charset=utf-8",
    "rdf": "application/rdf+xml; charset=utf-8",
}

# Cache lifetimes (seconds). Full change pages never change; everything else may.
_FINAL = "public, max-age=604800"
_SHORT = "public, max-age=30"
_RECORD = "public, max-age=300"
_STATIC = "public, max-age=86400"

_MAX_QUERY = 8192  # bytes of query string for routes other than /oai (which allows more)
_MAX_OAI_QUERY = 65536
_MAX_POST = 65536
_MIN_GZIP = 256
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PAGE = re.compile(r"^[0-9]{1,12}$")
_VOCAB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.ttl$")
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


class OAIHandler(Protocol):
    """What ``/oai`` needs: :class:`eduxchange.publish.provider.Provider` (or a stand-in in tests)."""

    def handle(self, params: Mapping[str, Sequence[str]], *, base_url: str) -> bytes: ...


# -- responses -------------------------------------------------------------------------------


@dataclass(slots=True)
class Response:
    """A response before the caching and compression steps."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    cache: str = "no-store"
    last_modified: datetime | None = None
    vary: tuple[str, ...] = ()
    headers: list[tuple[str, str]] = field(default_factory=list)
    cacheable: bool = True  # ETag / conditional requests apply (200 responses)
    etag_of: bytes | None = None  # what the ETag hashes, when not the whole body


_REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
            404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 410: "Gone",
            411: "Length Required", 413: "Content Too Large", 414: "URI Too Long",
            415: "Unsupported Media Type", 500: "Internal Server Error",
            503: "Service Unavailable"}


def _moved(target: str, query: str) -> Response:
    """301 to the record a retired IRI was merged into (RFC 9110 §15.4.2), query kept."""
    location = target.rsplit("/", 1)[-1] + (f"?{query}" if query else "")  # relative (§10.2.2)
    response = _problem(301, "this record was merged into another; its IRI names that record",
                        cache=_RECORD, location=target)
    response.headers.append(("Location", location))
    return response


def _problem(status: int, detail: str, *, cache: str = "no-store", **extra: Any) -> Response:
    body = {"type": "about:blank", "title": _REASONS.get(status, ""), "status": status,
            "detail": detail, **extra}
    return Response(status, _json(body), "application/problem+json", cache=cache, cacheable=False)


def _html(body: bytes, language: str, *, cache: str, last_modified: datetime | None,
          vary: tuple[str, ...] = ("Accept", "Accept-Language"),
          etag_of: bytes | None = None) -> Response:
    """A page for people (:mod:`eduxchange.publish.web`), in the interface language ``language``."""
    return Response(200, body, "text/html; charset=utf-8", cache=cache,
                    last_modified=last_modified, vary=vary, etag_of=etag_of,
                    headers=[("Content-Language", language)])


def _languages(environ: dict[str, Any], query: str) -> list[str]:
    """The visitor's languages: ``?lang=`` first, then ``Accept-Language``."""
    try:
        lang = parse_qs(query, max_num_fields=32).get("lang")
    except ValueError:
        lang = None
    return visitor_languages(environ.get("HTTP_ACCEPT_LANGUAGE"), lang[-1] if lang else None)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _http_time(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


# -- content negotiation ---------------------------------------------------------------------


def negotiate(accept: str | None) -> str | None:
    """The record format for an ``Accept`` header: a key of :data:`RECORD_FORMATS`, or None.

    The most specific matching range sets each format's quality; ties go to the server's order.
    No header (or an empty one) means JSON-LD.
    """
    if not accept or not accept.strip():
        return "jsonld"
    ranges = parse_accept(accept)
    if not ranges:
        return "jsonld"
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for order, (name, (media, _)) in enumerate(RECORD_FORMATS.items()):
        main, sub = media.split("/")
        quality, specificity = 0.0, -1
        for r_main, r_sub, q in ranges:
            if (r_main, r_sub) == (main, sub):
                spec = 2
            elif (r_main, r_sub) == (main, "*"):
                spec = 1
            elif (r_main, r_sub) == ("*", "*"):
                spec = 0
            else:
                continue
            if spec > specificity:
                quality, specificity = q, spec
        if quality > 0 and (best is None or quality > best[0]):
            best, chosen = (quality, order), name
    return chosen


#: Names of the AMB profile in ``?profile=`` and ``Accept-Profile`` (W3C DX-PROF-CONNEG, where a
#: profile is named by its IRI in angle brackets): the short name, the targeted version's IRI
#: and AMB's version-less IRI.
_AMB_NAMES = frozenset({"amb", AMB_PROFILE, AMB_PROFILE.rstrip("/"), "https://w3id.org/kim/amb/",
                        "https://w3id.org/kim/amb"})


def negotiate_profile(query: Sequence[str] | None, accept_profile: str | None) -> str | None:
    """``"amb"`` when ``?profile=`` or ``Accept-Profile`` asks for AMB; ``None`` for the record.

    An unknown ``?profile=`` value raises :class:`ValueError` (a 400); an ``Accept-Profile``
    naming no profile we serve gets the default representation (DX-PROF-CONNEG, section 7.1).
    """
    if query:
        value = query[-1].strip()
        if value.strip("<>") in _AMB_NAMES:
            return "amb"
        raise ValueError(f"unknown profile {value!r}; known: amb ({AMB_PROFILE})")
    for part in (accept_profile or "").split(",")[:32]:
        name, *params = (f.strip() for f in part.split(";"))
        q = 1.0
        for param in params:
            key, _, number = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(number)
                except ValueError:
                    q = 0.0
        if q > 0 and name.strip("<>") in _AMB_NAMES:
            return "amb"
    return None


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    star: float | None = None
    for part in header.split(",")[:32]:
        fields = [f.strip() for f in part.split(";")]
        coding = fields[0].lower()
        q = q_value(fields[1:])
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q
    return star is not None and star > 0


_RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")


def _etag_values(header: str) -> set[str]:
    """Opaque tags of ``If-None-Match`` (weak comparison: ``W/`` and our ``-gz`` suffix dropped)."""
    tags = set()
    for raw in header.split(",")[:64]:
        tag = raw.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tag = tag.strip('"')
        tags.add(tag.removesuffix("-gz"))
    return tags


# -- the application -------------------------------------------------------------------------


class _LRU:
    """A small thread-safe cache of rendered record bodies."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, str]) -> bytes | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, int, str], value: bytes) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class App:
    """The WSGI application over one catalogue store (see the module docstring for routes)."""

    def __init__(self, config: Config, store: StoreReader, *, page_size: int | None = None,
                 public_url: str | None = None, provider: OAIHandler | None = None) -> None:
        self.config = config
        self.store = store
        self.page_size = page_size or config.feed.page_size  # [feed] page_size
        self.public_url = public_url.rstrip("/") + "/" if public_url else None
        self.provider: OAIHandler = provider if provider is not None else Provider(config, store)
        self.started = datetime.now(UTC).replace(microsecond=0)
        self._bodies = _LRU(1024)
        self.pages = Pages(config, store)
        self._context = (files("eduxchange.schemas") / "context.jsonld").read_bytes()
        vocab_dir = files("eduxchange.vocabularies")
        self._vocabularies = {
            t.name: t.read_bytes()
            for t in sorted(vocab_dir.iterdir(), key=lambda t: t.name) if t.name.endswith(".ttl")
        }
        schema_dir = files("eduxchange.schemas")
        self._schemas = {"/" + path: (schema_dir / SCHEMA_FILES[prefix]).read_bytes()
                         for prefix, path in SERVED_SCHEMAS.items()}
        self._static_time = self._mtime([files("eduxchange.schemas") / "context.jsonld",
                                         *[vocab_dir / n for n in self._vocabularies],
                                         *[schema_dir / SCHEMA_FILES[p] for p in SERVED_SCHEMAS]])

    def _mtime(self, traversables: Iterable[Any]) -> datetime:
        times = [datetime.fromtimestamp(t.stat().st_mtime, UTC).replace(microsecond=0)
                 for t in traversables if isinstance(t, Path)]
        return max(times) if times else self.started

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            response = self._dispatch(method, environ)
        except Exception:  # the safety net: log it, never show it
            log.exception("error serving %s %r", method, environ.get("PATH_INFO"))
            response = _problem(500, "internal error; the server log has the details")
        return self._send(method, environ, response, start_response)

    def _dispatch(self, method: str, environ: dict[str, Any]) -> Response:
        try:
            path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return _problem(400, "the request path is not UTF-8")
        query = str(environ.get("QUERY_STRING", ""))
        is_oai = path == "/oai"
        allowed = ("GET", "HEAD", "POST") if is_oai else ("GET", "HEAD")
        if method not in allowed:
            response = _problem(405, f"read-only: {', '.join(allowed)} only")
            response.headers.append(("Allow", ", ".join(allowed)))
            return response
        if len(query) > (_MAX_OAI_QUERY if is_oai else _MAX_QUERY):
            return _problem(414, "query string too long")
        base = self._base(environ)
        if is_oai:
            return self._oai(method, environ, query, base)
        if path == "/":
            return self._index(base, environ, query)
        if path == "/search":
            return self._search(base, environ, query)
        if path.startswith("/members/"):
            return self._member(path.removeprefix("/members/"), base, environ, query)
        if path == "/oai.xsl":
            return Response(200, OAI_STYLESHEET, "text/xsl; charset=utf-8", cache=_STATIC,
                            last_modified=self.started)
        if path == "/changes":
            return self._collection(base)
        if path.startswith("/changes/page/"):
            return self._page(path.removeprefix("/changes/page/"), base)
        if path.startswith("/resources/"):
            return self._resource(path.removeprefix("/resources/"), environ, query, base)
        if path == "/context.jsonld":
            return Response(200, self._context, "application/ld+json", cache=_STATIC,
                            last_modified=self._static_time)
        if path in ("/vocabularies", "/vocabularies/"):
            return self._vocabulary_list(base)
        if path.startswith("/vocabularies/"):
            return self._vocabulary(path.removeprefix("/vocabularies/"))
        if path in self._schemas:
            return Response(200, self._schemas[path], "application/xml", cache=_STATIC,
                            last_modified=self._static_time)
        return _problem(404, "no such resource", cache=_SHORT)

    def _base(self, environ: dict[str, Any]) -> str:
        """The URL this app is served at, for links: ``public_url``, else the request's own."""
        if self.public_url:
            return self.public_url
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        host = str(environ.get("HTTP_HOST", ""))
        if not _HOST.match(host):  # never echo a strange Host header into links
            name, port = str(environ.get("SERVER_NAME", "localhost")), str(environ.get("SERVER_PORT", ""))
            host = name if port in ("", "80" if scheme == "http" else "443") else f"{name}:{port}"
        script = str(environ.get("SCRIPT_NAME", "")).rstrip("/")
        return f"{scheme}://{host}{script}/"

    # -- routes ----------------------------------------------------------------------------------

    def _index(self, base: str, environ: dict[str, Any], query: str) -> Response:
        if prefers_html(environ.get("HTTP_ACCEPT"), ["application/json"]):
            languages = _languages(environ, query)
            page = self.pages.landing(base=base, languages=languages)
            _, latest = self.store.latest_change()
            return _html(page.body, page.language, cache=_SHORT,
                         last_modified=_http_time(latest) or self.started)
        body = {"oai": f"{base}oai", "changes": f"{base}changes",
                "resources": f"{base}resources/{{uuid}}", "context": f"{base}context.jsonld",
                "vocabularies": f"{base}vocabularies/"}
        return Response(200, _json(body), cache=_STATIC, vary=("Accept",))

    def _search(self, base: str, environ: dict[str, Any], query: str) -> Response:
        """``/search``: HTML for browsers, JSON for machines (:mod:`eduxchange.publish.web.search`)."""
        try:
            text = query.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            text = query
        try:
            params = parse_qs(text, max_num_fields=64, errors="strict")
            search = search_query(params)
        except (ValueError, BadSearch) as err:
            return _problem(400, f"bad search: {err}")
        try:
            result = self.store.search(search)
        except StoreError as err:  # a catalogue made before search, served read-only
            return _problem(503, str(err))
        _, latest = self.store.latest_change()
        modified = _http_time(latest) or self.started
        if prefers_html(environ.get("HTTP_ACCEPT"), ["application/json"]):
            page = self.pages.search(result, search, base=base,
                                     languages=_languages(environ, query))
            return _html(page.body, page.language, cache=_SHORT, last_modified=modified)
        return Response(200, _json(search_json(result, search, base=base)), cache=_SHORT,
                        last_modified=modified, vary=("Accept",))

    def _member(self, member_id: str, base: str, environ: dict[str, Any],
                query: str) -> Response:
        languages = _languages(environ, query)
        lang = ui_language(languages)
        # The report reads all of the member's records: made once per change of the catalogue.
        key = (f"member-report:{member_id}", self.store.latest_change()[0], lang)
        cached = self._bodies.get(key)
        if cached is None:
            fragment = member_report_html(self.config, self.store, member_id, lang=lang)
            cached = b"" if fragment is None else str(fragment).encode("utf-8")
            self._bodies.put(key, cached)
        report = Markup(cached.decode("utf-8")) if cached else None  # noqa: S704 - escaped
        page = self.pages.member(member_id, base=base, languages=languages, report=report)
        if page is None:
            return _problem(404, "no such member", cache=_SHORT)
        return _html(page.body, page.language, cache=_SHORT,
                     last_modified=_http_time(self.store.member_state(member_id).last_harvest))

    def _oai(self, method: str, environ: dict[str, Any], query: str, base: str) -> Response:
        if method == "POST":
            # OAI-PMH 2.0, 3.1.1.2: POST arguments come form-encoded in the body.
            ctype = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                return _problem(415, "POST needs Content-Type application/x-www-form-urlencoded")
            try:
                length = int(str(environ.get("CONTENT_LENGTH") or "-1"))
            except ValueError:
                length = -1
            if length < 0:
                return _problem(411, "POST needs a Content-Length")
            if length > _MAX_POST:
                return _problem(413, f"POST body over {_MAX_POST} bytes")
            text = environ["wsgi.input"].read(length).decode("utf-8", errors="replace")
        else:
            text = query.encode("latin-1", errors="replace").decode("utf-8", errors="replace")
        try:
            params = parse_qs(text, keep_blank_values=True, max_num_fields=256)
        except ValueError:  # more fields than any OAI-PMH request has
            return _problem(400, "too many arguments")
        _, latest = self.store.latest_change()
        body = self.provider.handle(params, base_url=f"{base}oai")
        # Every OAI-PMH response has a fresh responseDate (3.2): the ETag hashes the rest, so a
        # platform polling the same request gets a 304 until the catalogue changes. Clients
        # revalidate every time (no-cache) rather than reuse a stale list.
        modified = _http_time(latest) or self.started
        if prefers_html(environ.get("HTTP_ACCEPT"), ["text/xml", "application/xml"],
                        named_data_wins=False):
            # Browsers get the stylesheet's rendering made here: Chromium is dropping XSLT.
            return _html(oai_html(body), "en", cache="no-cache", last_modified=modified,
                         vary=("Accept",),
                         etag_of=b"html\n" + _RESPONSE_DATE.sub(b"", body, count=1))
        return Response(200, body, "text/xml; charset=utf-8", cache="no-cache",
                        last_modified=modified, vary=("Accept",),
                        etag_of=_RESPONSE_DATE.sub(b"", body, count=1))

    def _collection(self, base: str) -> Response:
        total, max_seq, latest = self.store.change_stats()
        pages = feed.page_count(max_seq, self.page_size)
        body = feed.collection(collection_url=f"{base}changes",
                               page_url=f"{base}changes/page/{{n}}", total=total, pages=pages)
        return Response(200, _json(body), "application/ld+json", cache=_SHORT,
                        last_modified=_http_time(latest) or self.started)

    def _page(self, number_text: str, base: str) -> Response:
        if not _PAGE.match(number_text):
            return _problem(404, "no such page: page numbers are 0, 1, 2, ...", cache=_SHORT)
        number = int(number_text)
        max_seq, latest = self.store.latest_change()
        pages = feed.page_count(max_seq, self.page_size)
        if number >= pages:
            return _problem(404, f"no such page: the feed has pages 0 to {pages - 1}",
                            cache=_SHORT)
        first, last = feed.page_window(number, self.page_size)
        rows = self.store.change_rows(first, last)
        start_index, _, _ = self.store.change_stats(before_seq=first)
        body = feed.page(number, rows, collection_url=f"{base}changes",
                         page_url=f"{base}changes/page/{{n}}", start_index=start_index,
                         pages=pages)
        final = number < pages - 1  # a newer page exists: nothing can be added to this one
        modified = _http_time(max((r.at for r in rows), default=None) or latest)
        return Response(200, _json(body), "application/ld+json",
                        cache=_FINAL if final else _SHORT, last_modified=modified or self.started)

    def _resource(self, uuid: str, environ: dict[str, Any], query: str,
                  base: str) -> Response:
        if not _UUID.match(uuid):
            return _problem(404, "no such record", cache=_SHORT)
        vary: tuple[str, ...] = ("Accept", "Accept-Profile")
        fmt: str | None
        try:
            params = parse_qs(query, max_num_fields=32)
        except ValueError:
            return _problem(400, "too many query parameters")
        requested = params.get("format")
        try:
            profile = negotiate_profile(params.get("profile"), environ.get("HTTP_ACCEPT_PROFILE"))
        except ValueError as err:
            return _problem(400, str(err))
        html = requested[-1].strip().lower() == "html" if requested else (
            profile is None and prefers_html(environ.get("HTTP_ACCEPT"),
                                             [m for m, _ in RECORD_FORMATS.values()]))
        if html:
            fmt = "html"
            vary = ("Accept", "Accept-Profile", "Accept-Language")
        elif requested:
            fmt = _FORMAT_ALIASES.get(requested[-1].strip().lower())
            if fmt is None:
                known = ", ".join(sorted([*_FORMAT_ALIASES, "html"]))
                return _problem(400, f"unknown format {requested[-1]!r}; known: {known}")
        else:
            fmt = negotiate(environ.get("HTTP_ACCEPT"))
            if fmt is None:
                offered = ", ".join(m for m, _ in RECORD_FORMATS.values())
                response = _problem(406, f"this record is available as {offered}",
                                    available=[m for m, _ in RECORD_FORMATS.values()])
                response.vary = vary
                return response
        resource_id = f"{self.config.catalog.base_uri}resources/{uuid.lower()}"
        resource = self.store.resource(resource_id)
        if resource is None or resource.deleted:
            target = self.store.alias_target(resource_id)
            if target is not None:  # merged into another record: its IRI redirects for good
                return _moved(target, query)
        if resource is None:
            return _problem(404, "no such record", cache=_SHORT)
        if resource.deleted:
            response = _problem(410, "this record was withdrawn from the catalogue", cache=_SHORT,
                                id=resource_id)
            response.last_modified = _http_time(resource.updated_at)
            return response
        if fmt == "html":
            page = self.pages.resource(resource, base=base, languages=_languages(environ, query))
            return _html(page.body, page.language, cache=_RECORD, vary=vary,
                         last_modified=_http_time(resource.updated_at))
        if profile == "amb":
            return self._amb(resource.record, resource.updated_at, uuid, fmt, vary)
        key = (resource.id, resource.seq, fmt)
        body = self._bodies.get(key)
        if body is None:
            body = self._render(resource.record, fmt)
            self._bodies.put(key, body)
        return Response(200, body, _CONTENT_TYPES[fmt], cache=_RECORD, vary=vary,
                        last_modified=_http_time(resource.updated_at),
                        headers=[("Content-Location", f"{uuid}?format={fmt}")])

    def _amb(self, record: CommonRecord, updated_at: str | None, uuid: str, fmt: str,
             vary: tuple[str, ...]) -> Response:
        """The record in the AMB profile (:mod:`eduxchange.publish.writers.amb`): JSON-LD only."""
        if fmt not in ("jsonld", "json"):
            response = _problem(406, "the AMB profile is JSON-LD: ask for application/ld+json",
                                available=["application/ld+json", "application/json"])
        else:
            try:
                document = to_amb(record)
            except NotAmb as err:
                response = _problem(406, f"this record cannot be given in the AMB profile: {err}",
                                    cache=_SHORT)
            else:
                return Response(200, _json(document), _CONTENT_TYPES[fmt], cache=_RECORD,
                                vary=vary, last_modified=_http_time(updated_at),
                                headers=[("Content-Location", f"{uuid}?profile=amb&format={fmt}"),
                                         ("Content-Profile", f"<{AMB_PROFILE}>")])
        response.vary = vary
        return response

    def _render(self, record: CommonRecord, fmt: str) -> bytes:
        context = f"{self.config.catalog.base_uri}context.jsonld"
        document: CommonRecord = {**record, "@context": context}
        serializer = RECORD_FORMATS[fmt][1]
        if fmt == "jsonld":  # what the RDF says (typed dates, ...); application/json: the record
            return _json(jsonld_document(document))
        if serializer is None:
            return _json(document)
        return record_to_graph(document).serialize(format=serializer, encoding="utf-8")

    def _vocabulary_list(self, base: str) -> Response:
        body = {"vocabularies": [{"name": name.removesuffix(".ttl"),
                                  "url": f"{base}vocabularies/{name}"}
                                 for name in self._vocabularies]}
        return Response(200, _json(body), cache=_STATIC, last_modified=self._static_time)

    def _vocabulary(self, name: str) -> Response:
        data = self._vocabularies.get(name) if _VOCAB.match(name) else None
        if data is None:
            return _problem(404, "no such vocabulary; see /vocabularies/", cache=_SHORT)
        return Response(200, data, "text/turtle; charset=utf-8", cache=_STATIC,
                        last_modified=self._static_time)

    # -- caching, compression, sending -------------------------------------------------------------

    def _send(self, method: str, environ: dict[str, Any], response: Response,
              start_response: StartResponse) -> list[bytes]:
        headers = [("Content-Type", response.content_type), ("Cache-Control", response.cache),
                   ("Vary", ", ".join((*response.vary, "Accept-Encoding"))),
                   ("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff"),
                   *response.headers]
        if response.last_modified is not None:
            headers.append(("Last-Modified", format_datetime(response.last_modified, usegmt=True)))
        body = response.body
        status = response.status
        if response.cacheable and status == 200:
            tag = hashlib.sha256(response.etag_of if response.etag_of is not None
                                 else body).hexdigest()[:32]
            gz = _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) and len(body) >= _MIN_GZIP
            headers.append(("ETag", f'"{tag}-gz"' if gz else f'"{tag}"'))
            if method in ("GET", "HEAD") and self._not_modified(environ, tag, response):
                headers = [(k, v) for k, v in headers if k != "Content-Type"]
                start_response("304 Not Modified", headers)
                return []
            if gz:
                body = gzip.compress(body, compresslevel=6, mtime=0)
                headers.append(("Content-Encoding", "gzip"))
        elif _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING")) and len(body) >= _MIN_GZIP:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_REASONS.get(status, '')}".strip(), headers)
        return [] if method == "HEAD" else [body]

    @staticmethod
    def _not_modified(environ: dict[str, Any], tag: str, response: Response) -> bool:
        # RFC 9110, 13.2.2: If-None-Match wins; If-Modified-Since only without it.
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            tags = _etag_values(str(if_none_match))
            return "*" in tags or tag in tags
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since and response.last_modified is not None:
            try:
                when = parsedate_to_datetime(str(since))
            except (TypeError, ValueError, IndexError):
                return False
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return response.last_modified <= when
        return False


def make_app(config: Config, store: StoreReader, *, page_size: int | None = None,
             public_url: str | None = None) -> App:
    """The WSGI application serving ``store`` (opened read-only in production).

    ``page_size`` overrides the change-feed page size; ``public_url`` fixes the base of the
    links the server writes (default: the scheme and ``Host`` of each request).
    """
    return App(config, store, page_size=page_size, public_url=public_url)


# -- the HTTP server -------------------------------------------------------------------------
# waitress, not a thread pool over wsgiref: waitress reads every request on one asyncore loop and
# buffers it whole (request line, headers and body) before a worker thread sees it, so a client
# that trickles its header (slowloris), sends a bare HTTP/0.9 line or promises more body than it
# sends costs a socket, never a worker. On top of waitress's idle timeout (``channel_timeout``,
# measured from a connection's last byte, which a trickling client keeps resetting) this server
# adds a *request deadline*: a request must arrive whole within ``request_timeout`` seconds of
# its first byte (of the connection's opening, for the first one), or it gets a 408 and the
# connection is closed (RFC 9110, 15.5.9).

#: Seconds a request (headers and body) may take to arrive, from its first byte.
REQUEST_TIMEOUT = 15.0
#: Seconds an idle keep-alive connection is kept.
IDLE_TIMEOUT = 30.0
#: Connections held open at most (more wait in the listen backlog); capped by the fd limit.
CONNECTION_LIMIT = 1000
_MAX_HEADER = 131072  # request line (an OAI-PMH query may be _MAX_OAI_QUERY long) and headers
_MAX_BODY = 2 * _MAX_POST  # waitress answers 413 beyond this; the app's own limit is lower
_DRAIN_SECONDS = 10.0  # how long a stopping server lets requests in flight finish
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                     b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\n\r\n"
                     b"the request did not arrive within the limit\n")


class _Channel(HTTPChannel):
    """A waitress connection that remembers when the request it is receiving began."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_started: float | None = time.monotonic()  # silence counts too

    def received(self, data: bytes) -> bool:
        before = self.request
        result = super().received(data)
        if self.request is None:
            self.request_started = None  # complete: handed to a worker (or nothing pending)
        elif self.request is not before:
            self.request_started = time.monotonic()
        return result


class _Waitress(TcpWSGIServer):
    """waitress's TCP server with the request deadline in its periodic maintenance."""

    channel_class = _Channel
    request_timeout = REQUEST_TIMEOUT

    def maintenance(self, now: Any) -> None:  # time.time() (the stubs say int)
        """Close what lingers: an idle connection after ``channel_timeout`` (waitress's own
        rule), and one whose request has not arrived whole within ``request_timeout`` (or has
        stalled for ``channel_timeout``) with a 408 first when part of a request came."""
        idle_cutoff = now - self.adj.channel_timeout
        deadline_cutoff = time.monotonic() - self.request_timeout
        channels: dict[int, _Channel] = self.active_channels  # type: ignore[assignment]
        for channel in list(channels.values()):
            if channel.requests or channel.will_close or channel.close_when_flushed:
                continue  # a worker has its request, or it is closing already
            started = channel.request_started
            idle = channel.last_activity < idle_cutoff
            late = started is not None and started < deadline_cutoff
            if not (idle or late):
                continue
            channel.request_started = None
            if channel.request is None:  # between requests, or it never said a thing
                channel.will_close = True
                continue
            log.debug("closing %s: no whole request within the deadline", channel.addr)
            try:
                channel.write_soon(_TIMEOUT_RESPONSE)
            except ClientDisconnected:
                channel.will_close = True
                continue
            channel.close_when_flushed = True


class Server:
    """A bound HTTP server for a WSGI app, on waitress (see :func:`make_server`).

    The interface of :class:`socketserver.BaseServer` that callers use: ``server_address``,
    :meth:`serve_forever`, :meth:`shutdown` (from another thread), :meth:`server_close`; and
    :meth:`stop_soon`, safe to call from a signal handler.
    """

    def __init__(self, app: WSGIApp, host: str, port: int, *, workers: int,
                 request_timeout: float, idle_timeout: float, connection_limit: int) -> None:
        if workers < 1 or request_timeout <= 0 or idle_timeout <= 0 or connection_limit < 1:
            raise ValueError("workers, timeouts and connection_limit must be positive")
        adjustments = Adjustments(
            host=host, port=port, threads=workers, ident="eduxchange", server_name=host,
            # Whole seconds (waitress's unit); maintenance runs every second.
            channel_timeout=max(1, round(idle_timeout)), cleanup_interval=1,
            connection_limit=_connection_cap(connection_limit),
            max_request_header_size=_MAX_HEADER, max_request_body_size=_MAX_BODY,
            asyncore_use_poll=True,  # poll(2): no FD_SETSIZE limit on open connections
            expose_tracebacks=False, log_socket_errors=False)
        self._map: dict[int, Any] = {}
        self._dispatcher = ThreadedTaskDispatcher()
        self._dispatcher.set_thread_count(workers)
        try:
            self._server = _Waitress(app, map=self._map, dispatcher=self._dispatcher,
                                     adj=adjustments)
        except BaseException:
            self._dispatcher.shutdown(timeout=1)
            raise
        self._server.request_timeout = request_timeout
        assert self._server.socket is not None  # bound by the constructor
        bound = self._server.socket.getsockname()
        self.server_address: tuple[str, int] = (str(bound[0]), int(bound[1]))
        self._stop_requested = False  # a plain flag: set from signal handlers
        self._running = threading.Event()
        self._stopped = threading.Event()
        self._closed = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown` or :meth:`stop_soon`; then let requests in flight
        finish (for up to ten seconds) and stop accepting connections."""
        self._stopped.clear()
        self._running.set()
        try:
            while not self._stop_requested:
                wasyncore.loop(timeout=poll_interval, use_poll=True, map=self._map, count=1)
            self._server.accepting = False
            deadline = time.monotonic() + _DRAIN_SECONDS
            while self._busy() and time.monotonic() < deadline:
                wasyncore.loop(timeout=0.05, use_poll=True, map=self._map, count=1)
        finally:
            self._stop_requested = False
            self._running.clear()
            self._stopped.set()

    def _busy(self) -> bool:
        channels: dict[int, HTTPChannel] = self._server.active_channels  # type: ignore[assignment]
        return any(c.requests or c.total_outbufs_len for c in list(channels.values()))

    def stop_soon(self) -> None:
        """Ask :meth:`serve_forever` to stop (within its poll interval); returns at once."""
        self._stop_requested = True

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it has returned (call from another thread;
        called before it starts, it makes it return at once)."""
        self._stop_requested = True
        if not self._running.is_set():
            return
        try:
            self._server.pull_trigger()  # wake the loop now rather than at its next poll
        except OSError:
            pass
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection, and stop the worker threads."""
        if self._closed:
            return
        self._closed = True
        wasyncore.close_all(self._map)
        self._dispatcher.shutdown(timeout=int(_DRAIN_SECONDS))


def _connection_cap(limit: int) -> int:
    """``limit``, kept below the process's open-file limit (an accept that fails for want of
    a descriptor would leave the connection in the backlog and the loop spinning)."""
    try:
        import resource
    except ImportError:  # not POSIX
        return limit
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limit
    return max(16, min(limit, int(soft) - 64))


def _access_log(app: WSGIApp) -> WSGIApp:
    """Write one Common Log Format line per request to stderr (as ``wsgiref`` used to)."""

    def logged(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        body = list(app(environ, capture))
        target = str(environ.get("PATH_INFO", "")) + (
            f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        line = (f'{environ.get("REMOTE_ADDR", "-")} - - '
                f'[{datetime.now(UTC).strftime("%d/%b/%Y %H:%M:%S")}] '
                f'"{environ.get("REQUEST_METHOD", "")} {target[:2000]!s} '
                f'{environ.get("SERVER_PROTOCOL", "")}" '
                f'{status[0].split(" ", 1)[0] if status else "-"} {sum(map(len, body))}')
        print(line.encode("ascii", "backslashreplace").decode("ascii"), file=sys.stderr,
              flush=True)
        return body

    return logged


def make_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 8000, *, workers: int = 16,
                quiet: bool = False, request_timeout: float = REQUEST_TIMEOUT,
                idle_timeout: float = IDLE_TIMEOUT,
                connection_limit: int = CONNECTION_LIMIT) -> Server:
    """A bound (not yet serving) HTTP server for ``app``; ``port=0`` picks a free port.

    ``workers`` threads run requests; a request must arrive whole within ``request_timeout``
    seconds (408 otherwise), an idle connection is closed after ``idle_timeout`` seconds, and at
    most ``connection_limit`` connections are held open. Unless ``quiet``, each request is
    logged to stderr.
    """
    return Server(app if quiet else _access_log(app), host, port, workers=workers,
                  request_timeout=request_timeout, idle_timeout=idle_timeout,
                  connection_limit=connection_limit)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Where a running server listens, for the startup line; ``shutdown()`` stops it."""

    host: str
    port: int
    shutdown: Callable[[], None]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def describe(self) -> str:
        """The startup text the CLI prints."""
        return (f"eduxchange serving the catalogue at {self.url}\n"
                f"  OAI-PMH      {self.url}oai\n"
                f"  changes      {self.url}changes\n"
                f"  records      {self.url}resources/{{uuid}}\n"
                f"  context      {self.url}context.jsonld\n"
                f"  vocabularies {self.url}vocabularies/")


def serve(config: Config, host: str = "127.0.0.1", port: int = 8000, *,
          ready: Callable[[ServerInfo], object] | None = None, quiet: bool = False,
          workers: int = 16, public_url: str | None = None) -> None:
    """Serve the config's catalogue (opened read-only) until SIGINT, SIGTERM or ``shutdown()``.

    ``ready`` is called once the socket listens, with a :class:`ServerInfo` (print its
    :meth:`~ServerInfo.describe`). Requests in flight finish before this returns.
    Raises :class:`~eduxchange.core.errors.StoreError` when there is no catalogue yet,
    :class:`~eduxchange.core.errors.ConfigError` when the config cannot be served (no
    ``[feed] admin_email``), and :class:`OSError` when the address cannot be bound.
    """
    store = open_store_reader(config.catalog.location)
    try:
        server = make_server(make_app(config, store, public_url=public_url), host, port,
                             workers=workers, quiet=quiet)
        restore = _on_stop_signals(server.stop_soon)
        try:
            if ready is not None:
                bound_host, bound_port = server.server_address[:2]
                ready(ServerInfo(str(bound_host), int(bound_port), server.shutdown))
            server.serve_forever(poll_interval=0.5)
        finally:
            restore()
            server.server_close()
    finally:
        store.close()


def _on_stop_signals(stop: Callable[[], None]) -> Callable[[], None]:
    """Make SIGINT and SIGTERM call ``stop`` (main thread only); returns the undo.

    Both are set explicitly, so SIGINT stops the server even when it was ignored at start (a
    shell starts background jobs with SIGINT ignored, and Python then installs no handler).
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop()  # only sets a flag: safe whatever the main thread was doing

    previous = {signum: signal.signal(signum, on_signal)
                for signum in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore
