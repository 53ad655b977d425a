"""The publishing server end to end: a real catalogue harvested from a loopback member, served
on 127.0.0.1 and read with ``requests`` (content negotiation, caching, the change feed, abuse)."""

from __future__ import annotations

import gzip
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from rdflib import Graph
from rdflib.compare import isomorphic
from rdflib.plugins.parsers.jsonld import to_rdf

import eduxchange
from eduxchange.core.errors import StoreError
from eduxchange.publish.server import ServerInfo, make_app, make_server, negotiate, serve
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from tests.conftest import write_config
from tests.support.lomgen import lom_xml, make_records
from tests.support.pyoai_member import PyoaiMember, serve_pyoai_member
from tests.support.records import MemberRecord

N_RECORDS = 24  # 5 pages of 5; the update and delete below start a sixth
PAGE_SIZE = 5
BASE_URI = "https://catalog.example.org/"
ADMIN_EMAIL = "oai-team@catalog.example.org"


def lom_records(n: int) -> list[MemberRecord]:
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


@dataclass
class Site:
    url: str
    config: eduxchange.Config
    member: PyoaiMember

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path.lstrip("/"), timeout=10, **kw)

    def uuids(self) -> list[str]:
        with eduxchange.open_store(self.config) as store:
            return [r.id.rsplit("/", 1)[1] for r in store.iter_resources()]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with _site(tmp_path_factory.mktemp("site")) as s:
        yield s


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Site]:
    """A site of its own, for tests that change the catalogue."""
    with _site(tmp_path) as s:
        yield s


class _site:
    """Harvest a member into a catalogue and serve it read-only on a free port."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def __enter__(self) -> Site:
        self._member_cm = serve_pyoai_member(lom_records(N_RECORDS))
        member = self._member_cm.__enter__()
        path = write_config(self.tmp / "alliance.toml", [{"id": "lom", "endpoint": member.url}])
        path.write_text(path.read_text() + f'\n[feed]\nadmin_email = "{ADMIN_EMAIL}"\n')
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
        self.store = ReadOnlySQLiteStore(config.catalog.store)
        self.server = make_server(make_app(config, self.store, page_size=PAGE_SIZE),
                                  "127.0.0.1", 0, quiet=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return Site(f"http://127.0.0.1:{self.server.server_address[1]}/", config, member)

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.store.close()
        self._member_cm.__exit__(None, None, None)


# -- records -----------------------------------------------------------------------------


def _graph_from_jsonld(site: Site, body: bytes) -> Graph:
    document = json.loads(body)
    assert document["@context"] == BASE_URI + "context.jsonld"
    # Resolve the context the way a consumer would: from the server itself.
    context = site.get("context.jsonld").json()
    graph = Graph()
    to_rdf({**document, "@context": context["@context"]}, graph)
    return graph


@pytest.mark.parametrize(("accept", "media", "rdflib_format"), [
    (None, "application/ld+json", None),
    ("application/ld+json", "application/ld+json", None),
    ("application/json", "application/json", None),
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("text/html;q=0.9, text/turtle;q=0.5, */*;q=0.1", "text/turtle", "turtle"),
    ("*/*", "application/ld+json", None),
    ("text/*", "text/turtle", "turtle"),
])
def test_records_by_content_negotiation_parse_as_the_same_graph(
        site: Site, accept: str | None, media: str, rdflib_format: str | None) -> None:
    uuid = site.uuids()[0]
    headers = {"Accept": accept} if accept else {}
    r = site.get(f"resources/{uuid}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media
    assert "Accept" in r.headers["Vary"] and "Accept-Encoding" in r.headers["Vary"]
    if media == "application/json":
        # Plain JSON is the common record as stored (docs/record.md); its RDF reading is the
        # JSON-LD representation, which types dates and concepts (eduxchange.publish.rdf.jsonld_document).
        with eduxchange.open_store(site.config) as store:
            stored = next(x.record for x in store.iter_resources() if x.id.endswith(uuid))
        assert r.json() == stored
        return
    if rdflib_format is None:
        graph = _graph_from_jsonld(site, r.content)
        assert r.json()["id"] == f"{BASE_URI}resources/{uuid}"
    else:
        graph = Graph().parse(data=r.content, format=rdflib_format)
    reference = _graph_from_jsonld(site, site.get(f"resources/{uuid}").content)
    assert len(graph) > 10 and isomorphic(graph, reference)


def test_format_parameter_overrides_accept(site: Site) -> None:
    uuid = site.uuids()[1]
    r = site.get(f"resources/{uuid}?format=ttl", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert site.get(f"resources/{uuid}?format=nt").headers["Content-Type"].startswith(
        "application/n-triples")
    bad = site.get(f"resources/{uuid}?format=pdf")
    assert bad.status_code == 400 and "known" in bad.json()["detail"]


def test_unknown_and_unacceptable(site: Site) -> None:
    uuid = site.uuids()[0]
    r = site.get(f"resources/{uuid}", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.json()["available"]
    assert site.get(f"resources/{uuid}", headers={"Accept": "text/turtle;q=0"}).status_code == 406
    assert site.get("resources/00000000-0000-0000-0000-000000000000").status_code == 404
    assert site.get("resources/not-a-uuid").status_code == 404
    assert site.get("resources/").status_code == 404


def test_negotiate_prefers_quality_then_specificity_then_our_order() -> None:
    assert negotiate(None) == "jsonld"
    assert negotiate("application/*") == "jsonld"
    assert negotiate("text/turtle, application/ld+json;q=0.8") == "ttl"
    assert negotiate("*/*;q=0.5, application/rdf+xml") == "rdf"
    assert negotiate("*/*, application/ld+json;q=0") == "json"
    assert negotiate("garbage") == "jsonld"
    assert negotiate("text/plain") is None


# -- caching and compression ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["resources/{uuid}", "resources/{uuid}?format=ttl", "changes",
                                  "changes/page/0", "context.jsonld", "vocabularies/",
                                  "vocabularies/isced2011.ttl"])
def test_etag_last_modified_and_304(site: Site, path: str) -> None:
    path = path.format(uuid=site.uuids()[2])
    r = site.get(path)
    assert r.status_code == 200
    etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    again = site.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert site.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert site.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert site.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}
                    ).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110, 13.2.2).
    assert site.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}
                    ).status_code == 200
    # The identity and gzip variants have different tags that both validate.
    plain = site.get(path, headers={"Accept-Encoding": "identity"})
    assert site.get(path, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_gzip_when_accepted(site: Site) -> None:
    url = site.url + "vocabularies/iscedf2013.ttl"
    raw = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in raw.headers["Vary"]
    compressed = raw.raw.read()
    assert int(raw.headers["Content-Length"]) == len(compressed)
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(compressed) == plain.content
    assert len(compressed) < len(plain.content) / 3
    refused = requests.get(url, headers={"Accept-Encoding": "gzip;q=0, br"}, timeout=10)
    assert "Content-Encoding" not in refused.headers


def test_head_matches_get_without_body(site: Site) -> None:
    for path in (f"resources/{site.uuids()[0]}", "changes", "context.jsonld"):
        get = site.get(path)
        head = requests.head(site.url + path, timeout=10)
        assert head.status_code == 200 and head.content == b""
        for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Content-Encoding"):
            assert head.headers.get(name) == get.headers.get(name), name


def test_read_only_methods(site: Site) -> None:
    uuid = site.uuids()[0]
    for method in ("PUT", "DELETE", "PATCH", "POST", "OPTIONS"):
        r = requests.request(method, f"{site.url}resources/{uuid}", data=b"{}", timeout=10)
        assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert requests.delete(site.url + "oai", timeout=10).headers["Allow"] == "GET, HEAD, POST"
    assert site.get(f"resources/{uuid}").status_code == 200
    store = ReadOnlySQLiteStore(site.config.catalog.store)
    try:
        # The served store has no write methods, and its connections cannot write either.
        assert not hasattr(store, "update_member_state") and not hasattr(store, "catalog")
        with pytest.raises(sqlite3.OperationalError):
            store._conn().execute("INSERT INTO members (id) VALUES ('intruder')")
    finally:
        store.close()


def test_context_and_vocabularies_resolve(site: Site) -> None:
    context = site.get("context.jsonld")
    assert context.headers["Content-Type"] == "application/ld+json"
    assert "@context" in context.json()
    listing = site.get("vocabularies/").json()["vocabularies"]
    names = {v["name"] for v in listing}
    assert {"isced2011", "iscedf2013", "learningResourceType", "licenses"} <= names
    for v in listing:
        assert v["url"].startswith(site.url)
        graph = Graph().parse(data=requests.get(v["url"], timeout=10).content, format="turtle")
        assert len(graph) > 0
    assert site.get("vocabularies/../pyproject.toml").status_code == 404
    assert site.get("vocabularies/nope.ttl").status_code == 404


# -- the change feed -----------------------------------------------------------------------


def _walk_back(site: Site, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """What a consumer does: from ``last``, follow ``prev`` until an activity it has seen."""
    collection = site.get("changes").json()
    url: str | None = collection["last"]["id"]
    newest_first: list[dict[str, Any]] = []
    while url:
        page = requests.get(url, timeout=10).json()
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == {"id": collection["id"], "type": "OrderedCollection"}
        items = page["orderedItems"]
        assert [i["endTime"] for i in items] == sorted(i["endTime"] for i in items)
        for item in reversed(items):
            if seen is not None and item["id"] in seen:
                return list(reversed(newest_first))
            newest_first.append(item)
        url = page.get("prev", {}).get("id")
    return list(reversed(newest_first))


def _seq(activity: dict[str, Any]) -> int:
    return int(activity["id"].rsplit("#", 1)[1])


def test_change_feed_shape(site: Site) -> None:
    r = site.get("changes")
    collection = r.json()
    assert collection["@context"] == "http://iiif.io/api/discovery/1/context.json"
    assert collection["type"] == "OrderedCollection" and collection["id"] == site.url + "changes"
    assert collection["totalItems"] == N_RECORDS
    pages = -(-N_RECORDS // PAGE_SIZE)
    assert collection["first"] == {"id": site.url + "changes/page/0",
                                   "type": "OrderedCollectionPage"}
    assert collection["last"]["id"] == site.url + f"changes/page/{pages - 1}"
    first = site.get("changes/page/0")
    body = first.json()
    assert body["startIndex"] == 0 and "prev" not in body and len(body["orderedItems"]) == PAGE_SIZE
    assert body["next"]["id"] == site.url + "changes/page/1"
    item = body["orderedItems"][0]
    assert item["type"] == "Create" and item["object"]["type"] == "LearningResource"
    assert item["object"]["id"].startswith(BASE_URI + "resources/")
    datetime.fromisoformat(item["endTime"])
    # Full pages are final: long-lived; the last page and the collection are short-lived.
    assert first.headers["Cache-Control"] == "public, max-age=604800"
    last = site.get(f"changes/page/{pages - 1}")
    assert last.headers["Cache-Control"] == "public, max-age=30" and "next" not in last.json()
    assert last.json()["startIndex"] == (pages - 1) * PAGE_SIZE
    assert r.headers["Cache-Control"] == "public, max-age=30"


def test_walking_back_from_last_reaches_every_change_once_and_sees_later_changes(
        fresh_site: Site) -> None:
    site = fresh_site
    first_walk = _walk_back(site)
    assert [_seq(a) for a in first_walk] == list(range(1, N_RECORDS + 1))
    assert {a["type"] for a in first_walk} == {"Create"}
    assert len({a["object"]["id"] for a in first_walk}) == N_RECORDS
    old_page = site.get("changes/page/0")
    old_last = site.get("changes").json()["last"]["id"]

    # The member updates one record and deletes another; the catalogue is harvested again
    # while the server keeps serving (it reads the same file read-only).
    records = site.member.backend.records
    updated_id, deleted_id = records[0].identifier, records[1].identifier
    site.member.backend.update(updated_id,
                               metadata=lom_xml(1).replace(b"Worked examples", b"A new intro"))
    site.member.backend.delete(deleted_id)
    assert all(r.ok for r in eduxchange.harvest(site.config))

    new = _walk_back(site, seen={a["id"] for a in first_walk})
    assert sorted(a["type"] for a in new) == ["Delete", "Update"]
    assert [_seq(a) for a in new] == [N_RECORDS + 1, N_RECORDS + 2]
    by_type = {a["type"]: a["object"]["id"] for a in new}
    assert by_type["Update"] == first_walk[0]["object"]["id"]
    assert by_type["Delete"] == first_walk[1]["object"]["id"]
    # The whole feed again: every change exactly once, in order.
    assert [_seq(a) for a in _walk_back(site)] == list(range(1, N_RECORDS + 3))
    # Full pages did not change; the formerly last page now links onward.
    assert site.get("changes/page/0", headers={"If-None-Match": old_page.headers["ETag"]}
                    ).status_code == 304
    assert "next" in requests.get(old_last, timeout=10).json()

    deleted_uuid = by_type["Delete"].rsplit("/", 1)[1]
    gone = site.get(f"resources/{deleted_uuid}")
    assert gone.status_code == 410 and gone.json()["id"] == by_type["Delete"]
    updated = site.get("resources/" + by_type["Update"].rsplit("/", 1)[1]).json()
    assert "A new intro" in json.dumps(updated, ensure_ascii=False)


# -- abuse and load ------------------------------------------------------------------------


def _raw(site: Site, request: bytes) -> bytes:
    host, port = site.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize("path", [
    "changes/page/-1", "changes/page/abc", "changes/page/99999999999999999999",
    "changes/page/1000", "changes/page/", "changes/page/0/x", "changes/page/%00",
    "resources/%ff%fe", "resources/..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/", "a" * 3000,
    "resources/" + "0" * 36, "vocabularies/%c3%a9.ttl", "oai%00", "?" + "x=y&" * 3000,
    "changes?" + "a" * 9000, "resources/x?format=" + "ttl" * 100,
    "resources/00000000-0000-0000-0000-000000000000?" + "a=1&" * 40, "oai?" + "verb=x&" * 300,
    "oai?verb=ListRecords&metadataPrefix=oai_dc&from=%ff%fe&until=" + "9" * 5000,
])
def test_bad_requests_get_4xx_not_500(site: Site, path: str) -> None:
    r = site.get(path)
    assert 400 <= r.status_code < 500 or r.status_code == 200, r.status_code
    assert "Traceback" not in r.text


def test_raw_garbage_never_breaks_the_server(site: Site) -> None:
    for request in (
        b"GET /resources/\xff\xfe\x00 HTTP/1.0\r\n\r\n",
        b"GET /changes/page/\xc3\x28 HTTP/1.0\r\n\r\n",
        b"GET /changes HTTP/1.0\r\nHost: evil\r\n\r\n",
        b"GET /changes HTTP/1.0\r\nHost: <script>\r\nAccept-Encoding: \xff\r\n\r\n",
        b"GET /resources/x HTTP/1.0\r\nAccept: ;;;,,,/;q=abc\r\n\r\n",
        b"GET /changes HTTP/1.0\r\nIf-Modified-Since: yesterday\r\n\r\n",
        b"GET /changes HTTP/1.0\r\nIf-None-Match: \xff\"\r\n\r\n",
        b"GET /" + b"x" * 70000 + b" HTTP/1.0\r\n\r\n",
        b"BREW /coffee HTCPCP/1.0\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
        b"POST /oai HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: nope\r\n\r\nverb=Identify",
        b"POST /oai HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nverb",
        b"POST /oai HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 99999999\r\n\r\n",
    ):
        response = _raw(site, request)
        if not response.startswith(b"HTTP/"):  # http.server answers an unknown protocol as 0.9
            assert b"Error code: 400" in response, (request[:40], response[:200])
            continue
        assert _status(response) != 500 and b"Traceback" not in response, (request[:40], response)
    changes = _raw(site, b"GET /changes HTTP/1.0\r\nHost: evil\"<\r\n\r\n")
    assert b"evil" not in changes  # a strange Host is not echoed into links
    assert site.get("changes").status_code == 200


def test_bounded_concurrent_load(site: Site) -> None:
    uuids = site.uuids()
    paths = ["changes", "changes/page/0", "changes/page/1", "context.jsonld", "vocabularies/",
             *[f"resources/{u}" for u in uuids[:6]], f"resources/{uuids[0]}?format=ttl",
             "resources/nope", "changes/page/x"]

    def client(worker: int) -> list[int]:
        with requests.Session() as session:
            return [session.get(site.url + paths[(worker + i) % len(paths)], timeout=10).status_code
                    for i in range(50)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for result in pool.map(client, range(8)) for s in result]
    assert len(statuses) == 400 and set(statuses) <= {200, 404}
    assert statuses.count(200) > 300


# -- OAI-PMH ---------------------------------------------------------------------------------

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def test_oai_get_and_post(site: Site) -> None:
    get = site.get("oai?verb=Identify")
    assert get.status_code == 200 and get.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(get.content)
    assert root.tag == f"{OAI}OAI-PMH" and root.find(f"{OAI}Identify") is not None
    assert root.findtext(f"{OAI}request") == site.url + "oai"
    post = requests.post(site.url + "oai", data={"verb": "Identify"}, timeout=10)
    assert etree.fromstring(post.content).find(f"{OAI}Identify") is not None
    for query in ("verb=Identify&verb=Identify", "verb=Nope", "verb=GetRecord&identifier=%ff",
                  "", "verb=ListRecords&resumptionToken=" + "z" * 5000):
        r = site.get("oai?" + query)
        assert r.status_code == 200, query
        assert etree.fromstring(r.content).find(f"{OAI}error") is not None, query


# -- serve() ---------------------------------------------------------------------------------


def test_serve_blocks_until_shutdown_and_announces_its_urls(site: Site) -> None:
    started: list[ServerInfo] = []
    ready = threading.Event()

    def on_ready(info: ServerInfo) -> None:
        started.append(info)
        ready.set()

    thread = threading.Thread(target=serve, args=(site.config, "127.0.0.1", 0),
                              kwargs={"ready": on_ready, "quiet": True})
    thread.start()
    try:
        assert ready.wait(10)
        info = started[0]
        assert info.port > 0 and f"{info.url}oai" in info.describe()
        assert f"{info.url}changes" in info.describe()
        assert requests.get(info.url + "changes", timeout=10).json()["totalItems"] >= N_RECORDS
    finally:
        if started:
            started[0].shutdown()
        thread.join(10)
    assert not thread.is_alive()


_SERVE_SCRIPT = """
import sys, eduxchange
from eduxchange.publish.server import serve
serve(eduxchange.load_config(sys.argv[1]), "127.0.0.1", 0, quiet=True,
      ready=lambda info: print(info.describe(), flush=True))
print("stopped", flush=True)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_gracefully_on_a_signal(site: Site, signum: int) -> None:
    assert site.config.path is not None
    process = subprocess.Popen([sys.executable, "-c", _SERVE_SCRIPT, str(site.config.path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[1])
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.rsplit(" ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:"), first
        assert requests.get(url + "changes", timeout=10).status_code == 200
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)  # reap it, and close its pipes
    assert process.returncode == 0 and out.strip().endswith("stopped")
    assert "Traceback" not in err


def test_serve_without_a_catalogue_says_so(tmp_path: Path) -> None:
    config = eduxchange.load_config(write_config(tmp_path / "alliance.toml", []))
    with pytest.raises(StoreError, match="no catalogue"):
        serve(config, "127.0.0.1", 0)
    assert not config.catalog.store.exists()


def test_oai_responses_revalidate_to_304_until_the_catalogue_changes(site: Site) -> None:
    url = site.url + "oai"
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    first = requests.get(url, params=params, timeout=10)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Last-Modified"] and first.headers["Cache-Control"] == "no-cache"
    again = requests.get(url, params=params, timeout=10,
                         headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    since = requests.get(url, params=params, timeout=10,
                         headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    other = requests.get(url, params={"verb": "Identify"}, timeout=10,
                         headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200
