"""No request makes the publishing server answer 5xx (issue 9, item 11): hypothesis throws
arbitrary methods, paths, query strings, headers and bodies at every route, in-process through
the WSGI app for volume, and over real HTTP (raw bytes and well-formed requests) on 127.0.0.1.
Every /oai answer that is 200 is schema-valid OAI-PMH."""

from __future__ import annotations

import gzip
import io
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eduxchange.publish.provider import Provider
from tests.support.hostile_server import Published, published, raw_exchange
from tests.support.standards import oai_response_schema

UUID = "6f1c0e7e-3a51-5c8e-9d57-0f4f3f5f5d21"  # well-formed, not in the catalogue
ROUTES = ["/", "/oai", "/changes", "/changes/page/0", "/changes/page/2", "/changes/page/",
          f"/resources/{UUID}", "/resources/", "/context.jsonld", "/vocabularies",
          "/vocabularies/", "/vocabularies/learningResourceType.ttl", "/schemas/rdf-lax.xsd",
          "/schemas/", "/nope"]
VERBS = ["Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers",
         "ListRecords"]
ARGUMENTS = ["verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW", ""]

latin1 = st.binary(max_size=300).map(lambda b: b.decode("latin-1"))  # how WSGI carries bytes
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)  # encodable as UTF-8
values = st.one_of(texts, st.sampled_from(["oai_dc", "lom", "rdf", "member", "lang:en",
                                           "2024-01-01", "2024-01-01T00:00:00Z", "9999-99-99",
                                           f"oai:catalog.example.org:{UUID}", "\x01", "%"]),
                   st.binary(max_size=40).map(lambda b: b.decode("latin-1")))


#: Each verb's legal arguments (OAI-PMH 2.0 §4), so that most drawn requests get past the
#: argument check and the hostile values reach the verbs themselves.
LEGAL = {"Identify": [], "ListMetadataFormats": ["identifier"], "ListSets": ["resumptionToken"],
         "GetRecord": ["identifier", "metadataPrefix"],
         "ListIdentifiers": ["metadataPrefix", "from", "until", "set", "resumptionToken"],
         "ListRecords": ["metadataPrefix", "from", "until", "set", "resumptionToken"]}


@st.composite
def oai_arguments(draw: st.DrawFn) -> dict[str, list[str]]:
    """OAI-PMH requests as name -> values: mostly a real verb with legal argument names, each
    given once, and hostile values; sometimes anything at all."""
    verb = draw(st.one_of(st.sampled_from(VERBS), st.sampled_from(VERBS), values))
    names = draw(st.lists(st.sampled_from(LEGAL.get(verb) or ARGUMENTS), unique=True,
                          max_size=5))
    names += draw(st.lists(st.one_of(st.sampled_from(ARGUMENTS), texts), max_size=1))
    single = st.lists(values, min_size=1, max_size=1)
    return {"verb": [verb], **{n: draw(st.one_of(single, single, single,
                                                 st.lists(values, max_size=3)))
                               for n in names}}


@st.composite
def oai_queries(draw: st.DrawFn) -> str:
    """:func:`oai_arguments` as a query string (or form body), sometimes mis-escaped."""
    pairs = [(k, v) for k, vs in draw(oai_arguments()).items() for v in vs]
    encoded = "&".join(f"{urllib.parse.quote(k.encode('utf-8', 'surrogatepass'))}="
                       f"{urllib.parse.quote(v.encode('utf-8', 'surrogatepass'))}"
                       for k, v in pairs)
    return draw(st.sampled_from([encoded, encoded, encoded.replace("%25", "%")]))


queries = st.one_of(oai_queries(), latin1, st.just(""))
paths = st.one_of(st.just("/oai"), st.sampled_from(ROUTES), st.builds(lambda r, t: r + t, st.sampled_from(ROUTES),
                                                      latin1), latin1)
header_values = st.one_of(latin1, st.sampled_from(
    ["*/*", "text/turtle;q=0.5, */*;q=abc", "gzip", "gzip;q=0", '"abc", W/"x-gz", *',
     "Tue, 01 Dec 2026 00:00:00 GMT", "Mon, 99 Foo 0000", "application/x-www-form-urlencoded",
     "-1", "99999999999999999999", "0", "12"]))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    with published(tmp_path_factory.mktemp("properties")) as s:
        yield s


def _call(site: Published, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    got: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got.append((int(status.split(" ", 1)[0]), headers))
        return lambda data: None

    body = b"".join(site.app(environ, start_response))
    return got[0][0], got[0][1], body


def _schema_valid_oai(body: bytes) -> bool:
    schema = oai_response_schema()
    return schema is None or bool(schema.validate(etree.fromstring(body)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.one_of(st.sampled_from(METHODS), latin1), path=paths, query=queries,
       headers=st.dictionaries(st.sampled_from(["HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING",
                                                "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
                                                "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_HOST"]),
                               header_values, max_size=7),
       body=st.one_of(st.binary(max_size=500), oai_queries().map(str.encode)))
def test_no_request_gets_a_5xx_in_process(site: Published, method: str, path: str, query: str,
                                           headers: dict[str, str], body: bytes) -> None:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(site.port), "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), **headers}
    status, response_headers, content = _call(site, environ)
    assert status < 500, (status, content[:300])
    if ("Content-Encoding", "gzip") in response_headers:  # Accept-Encoding: gzip was drawn
        content = gzip.decompress(content)
    xml = dict(response_headers).get("Content-Type", "").startswith("text/xml")  # not a page
    if path == "/oai" and status == 200 and method.upper() != "HEAD" and xml:
        assert _schema_valid_oai(content), content[:500]


@settings(max_examples=300, deadline=None)
@given(params=oai_arguments())
def test_the_provider_answers_any_arguments_with_valid_oai_pmh(site: Published,
                                                               params: dict[str, list[str]]
                                                               ) -> None:
    assert isinstance(site.app.provider, Provider)
    body = site.app.provider.handle(params, base_url=site.url + "oai")
    assert _schema_valid_oai(body), body[:500]


@settings(max_examples=25, deadline=None)
@given(method=st.sampled_from(["GET", "HEAD", "POST", "PUT"]), path=st.sampled_from(ROUTES),
       query=queries, accept=header_values)
def test_no_request_gets_a_5xx_over_http(site: Published, method: str, path: str, query: str,
                                          accept: str) -> None:
    url = site.url.rstrip("/") + urllib.parse.quote(path) + ("?" if query else "") + \
        urllib.parse.quote(query, safe="=&%+")
    # requests itself refuses header values with controls or edge spaces: send what it allows.
    headers = {"Accept": "".join(c for c in accept if " " <= c <= "~").strip()}
    data = query.encode("utf-8", "surrogatepass") if method == "POST" else None
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    r = requests.request(method, url, headers=headers, data=data, timeout=10)
    assert r.status_code < 500, (method, url, r.status_code, r.text[:300])


@settings(max_examples=40, deadline=None)
@given(raw=st.one_of(st.binary(max_size=400),
                     st.builds(lambda m, p, v, h: m + b" " + p + b" " + v + b"\r\n" + h,
                               st.sampled_from([b"GET", b"POST", b"HEAD", b"\x00", b""]),
                               st.binary(max_size=80), st.sampled_from(
                                   [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/0.9", b"HTTP/9.9", b""]),
                               st.binary(max_size=200))))
def test_raw_bytes_never_get_a_5xx(site: Published, raw: bytes) -> None:
    # Whatever the bytes, the end of a header follows; a request left waiting for a body runs
    # into the deadline (408). Connection: close where the bytes form headers, so it is quick.
    exchange = raw_exchange(site.port, raw + b"\r\nConnection: close\r\n\r\n", timeout=5,
                            head_only=True)
    assert exchange.status is None or exchange.status < 500, exchange
