"""The OAI-PMH provider over a catalogue built by the real pipeline, served on loopback.

Oracles: the official OAI-PMH schema (with oai_dc, LOM and oai-identifier schemas, so metadata and
descriptions are validated too), pyoai's client and Sickle harvesting it completely. The official
schemas are read from the standards folder (tests/support/standards.py): where it is absent, the
schema test skips and the other tests run without validating every response.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from lxml import etree
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, oai_dc_reader
from sickle import Sickle

import eduxchange
from eduxchange.publish.provider import Provider
from eduxchange.store.sqlite import SQLiteStore
from eduxchange.catalog.sets import oai_set_specs
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, make_records, oai_dc_xml
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord
from tests.support.standards import SCHEMA_FILES, missing, xml_schema

OAI = "{http://www.openarchives.org/OAI/2.0/}"
NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
START = datetime(2024, 1, 1)
PAGE = 7


SCHEMAS = ("oai-pmh", "oai_dc", "lom", "rdf", "oai-identifier")


def schema() -> etree.XMLSchema:
    """The official schemas of every response; skips the calling test without the standards folder."""
    return xml_schema(*SCHEMAS)


def have_schemas() -> bool:
    return all(missing(SCHEMA_FILES[n]) is None for n in SCHEMAS if n in SCHEMA_FILES)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def wsgi(provider: Provider) -> Any:
    """A minimal WSGI wrapper (the real one is eduxchange.publish.server): GET query or POST form."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(length).decode("utf-8")
        else:
            query = environ.get("QUERY_STRING", "")
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        base_url = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        body = provider.handle(params, base_url=base_url)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


@dataclass
class Env:
    config: eduxchange.Config
    store: SQLiteStore
    url: str
    lom: Any
    dc: Any

    def get(self, query: str, *, post: bool = False) -> etree._Element:
        if post:
            request = urllib.request.Request(self.url, data=query.encode(), method="POST",
                                             headers={"Content-Type":
                                                      "application/x-www-form-urlencoded"})
        else:
            request = urllib.request.Request(f"{self.url}?{query}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            root = etree.fromstring(response.read())
        if have_schemas():  # every response of every test, where the official schemas are at hand
            assert schema().validate(root), (query, schema().error_log)
        return root

    def harvest(self) -> None:
        assert all(r.ok for r in eduxchange.harvest(self.config))


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    lom_recs = make_records(30, start=START, step=timedelta(minutes=1))
    dc_recs = [MemberRecord(identifier=f"oai:dc.example.net:{i}",
                            datestamp=START + timedelta(hours=i),
                            metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
               for i in range(21, 41)]
    with serve_pyoai_member(lom_recs) as lom, serve_faulty(dc_recs) as dc:
        path = write_config(tmp_path / "alliance.toml", [
            {"id": "lom", "name": "LOM member", "endpoint": lom.url},
            {"id": "dc", "name": "DC member", "endpoint": dc.url, "metadata_prefix": "oai_dc"},
        ])
        path.write_text(path.read_text() + f"\n[feed]\npage_size = {PAGE}\n"
                        'admin_email = "oai-team@catalog.example.org"\n')
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
        store = SQLiteStore(config.catalog.store)
        server: WSGIServer = make_server("127.0.0.1", 0, wsgi(Provider(config, store)),
                                         handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Env(config, store, f"http://127.0.0.1:{server.server_port}/oai", lom, dc)
        finally:
            server.shutdown()
            server.server_close()
            store.close()


def all_identifiers(env: Env, query: str) -> list[str]:
    ids: list[str] = []
    root = env.get(query)
    while True:
        ids += root.xpath("//o:header/o:identifier/text()", namespaces=NS)
        token = root.find(f".//{OAI}resumptionToken")
        if token is None or not token.text:
            return ids
        root = env.get("verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(token.text))


def test_every_verb_and_every_error_is_schema_valid(env: Env) -> None:
    schema()  # skips, saying why, without the standards folder
    first = env.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
    ident = first.findtext(f".//{OAI}identifier")
    assert ident and ident.startswith("oai:catalog.example.org:")
    stamp = first.findtext(f".//{OAI}datestamp")
    assert stamp
    iri = "https://catalog.example.org/resources/" + ident.rsplit(":", 1)[1]
    q = urllib.parse.quote
    cases: dict[str, str | None] = {
        "verb=Identify": None,
        "verb=ListMetadataFormats": None,
        f"verb=ListMetadataFormats&identifier={q(ident)}": None,
        "verb=ListSets": None,
        f"verb=GetRecord&identifier={q(ident)}&metadataPrefix=oai_dc": None,
        f"verb=GetRecord&identifier={q(iri)}&metadataPrefix=lom": None,
        f"verb=GetRecord&identifier={q(ident)}&metadataPrefix=rdf": None,
        "verb=ListIdentifiers&metadataPrefix=lom&set=member:dc": None,
        "verb=ListRecords&metadataPrefix=oai_dc": None,
        "verb=ListRecords&metadataPrefix=lom": None,
        "verb=ListRecords&metadataPrefix=rdf&set=member:lom": None,
        f"verb=ListRecords&metadataPrefix=oai_dc&from={stamp}&until={stamp}": None,
        f"verb=ListRecords&metadataPrefix=oai_dc&from={stamp[:10]}&until={stamp[:10]}": None,
        "verb=ListRecords&metadataPrefix=oai_dc&set=lang:en": None,
        "": "badVerb",
        "junk": "badVerb",
        "verb=junk": "badVerb",
        "verb=Identify&verb=Identify": "badVerb",
        "verb=Identify&junk=1": "badArgument",
        "verb=GetRecord&metadataPrefix=oai_dc": "badArgument",
        f"verb=GetRecord&identifier={q(ident)}": "badArgument",
        "verb=GetRecord&identifier=invalid%22id&metadataPrefix=oai_dc": "idDoesNotExist",
        "verb=GetRecord&identifier=oai:catalog.example.org:nope&metadataPrefix=oai_dc":
            "idDoesNotExist",
        f"verb=GetRecord&identifier={q(ident)}&metadataPrefix=mods": "cannotDisseminateFormat",
        "verb=ListMetadataFormats&identifier=oai:x:1": "idDoesNotExist",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&until=junk": "badArgument",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2024-13-01": "badArgument",
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2024-01-01T00:00:00.5Z": "badArgument",
        "verb=ListIdentifiers&resumptionToken=junk&until=2000-02-05": "badArgument",
        "verb=ListRecords&resumptionToken=junk": "badResumptionToken",
        "verb=ListRecords&resumptionToken=": "badResumptionToken",
        "verb=ListSets&resumptionToken=junk": "badResumptionToken",
        "verb=ListRecords": "badArgument",
        "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=lom": "badArgument",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2002-02-05&until=2002-02-06T05:35:00Z":
            "badArgument",
        "verb=ListRecords&metadataPrefix=oai_dc&until=2001-01-01": "noRecordsMatch",
        "verb=ListRecords&metadataPrefix=oai_dc&set=member:nobody": "noRecordsMatch",
        "verb=ListRecords&metadataPrefix=oai_dc&set=bad%20set": "badArgument",
        "verb=ListRecords&metadataPrefix=X": "cannotDisseminateFormat",
    }
    for query, expected in cases.items():
        root = env.get(query)
        assert error_code(root) == expected, (query, etree.tostring(root)[:600])
        if expected in ("badVerb", "badArgument"):
            assert not root.find(f"{OAI}request").attrib, query  # §3.2: no echo
    identify = env.get("verb=Identify", post=True)
    assert identify.findtext(f".//{OAI}baseURL") == env.url
    assert identify.findtext(f".//{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f".//{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    sets = dict(zip(env.get("verb=ListSets").xpath("//o:setSpec/text()", namespaces=NS),
                    env.get("verb=ListSets").xpath("//o:setName/text()", namespaces=NS)))
    assert sets["member:lom"] == "Member: LOM member" and "member:dc" in sets
    assert any(s.startswith("lang:") for s in sets) and any(s.startswith("type:") for s in sets)


def test_tampered_tokens_are_refused(env: Env) -> None:
    root = env.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
    token = root.findtext(f".//{OAI}resumptionToken")
    assert token
    for bad in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), token + "x",
                token.replace(".", ""), "a.b"):
        got = env.get("verb=ListIdentifiers&resumptionToken=" + urllib.parse.quote(bad))
        assert error_code(got) == "badResumptionToken", bad


def test_post_works_for_lists(env: Env) -> None:
    root = env.get("verb=ListRecords&metadataPrefix=oai_dc", post=True)
    assert len(root.findall(f".//{OAI}record")) == PAGE


def _pyoai(env: Env) -> Client:
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    return Client(env.url, registry)


def test_pyoai_and_sickle_harvest_completely_and_by_set(env: Env) -> None:
    counts = eduxchange.catalogue_counts(env.config)
    total = counts["resources"] + counts["deleted"]
    assert total == 40
    client = _pyoai(env)
    records = list(client.listRecords(metadataPrefix="oai_dc"))
    assert len({h.identifier() for h, _, _ in records}) == total == len(records)
    assert all(m is not None and m.getField("title") for h, m, _ in records)
    sickle = Sickle(env.url)
    sickle_ids = [r.header.identifier for r in sickle.ListRecords(metadataPrefix="lom")]
    assert sorted(sickle_ids) == sorted(h.identifier() for h, _, _ in records)
    # By set: DC member has 20 resources, LOM 30; 10 are shared (merged) and in both sets.
    dc_set = {h.identifier() for h in client.listIdentifiers(metadataPrefix="oai_dc",
                                                             set="member:dc")}
    lom_set = {h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                                   set="member:lom")}
    assert len(dc_set) == 20 and len(lom_set) == 30 and len(dc_set & lom_set) == 10
    every = {h.identifier() for h in client.listIdentifiers(metadataPrefix="oai_dc",
                                                            set="member")}
    assert every == dc_set | lom_set


def test_incremental_harvest_gets_changes_and_deletions(env: Env) -> None:
    time.sleep(1.1)  # datestamps have seconds granularity
    since = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    time.sleep(1.1)
    lom_recs = env.lom.backend.records
    env.lom.backend.update(lom_recs[0].identifier,
                           metadata=lom_xml(1).replace(b"Introduction", b"Intro"))
    env.lom.backend.delete(lom_recs[4].identifier)  # resource 5: only the LOM member has it
    env.harvest()
    client = _pyoai(env)
    changed = list(client.listRecords(metadataPrefix="oai_dc", from_=since))
    assert len(changed) == 2
    deleted = [h for h, _, _ in changed if h.isDeleted()]
    assert len(deleted) == 1
    sickle = Sickle(env.url)
    got = list(sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False,
                                  **{"from": since.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    assert sorted(r.header.identifier for r in got) == sorted(h.identifier() for h, _, _ in changed)
    assert [r.header.deleted for r in got].count(True) == 1
    # The deleted record stays (persistent), as a header only, in full harvests and its sets.
    gone = env.get("verb=GetRecord&metadataPrefix=lom&identifier="
                   + urllib.parse.quote(deleted[0].identifier()))
    assert gone.find(f".//{OAI}header").get("status") == "deleted"
    assert gone.find(f".//{OAI}metadata") is None
    in_set = all_identifiers(env, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=member:lom")
    assert deleted[0].identifier() in in_set


def test_tokens_survive_a_concurrent_write(env: Env) -> None:
    root = env.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
    seen = root.xpath("//o:header/o:identifier/text()", namespaces=NS)
    token = root.findtext(f".//{OAI}resumptionToken")
    assert token and len(seen) == PAGE
    assert root.find(f".//{OAI}resumptionToken").get("cursor") == "0"
    everything = all_identifiers(env, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    # Change a record of a later page (offset tokens would now skip one) and one already seen.
    later, early = everything[PAGE + 2], everything[0]
    with env.store.catalog() as txn:
        for ident in (later, early):
            rid = "https://catalog.example.org/resources/" + ident.rsplit(":", 1)[1]
            resource = txn.resource(rid)
            assert resource is not None
            record = dict(resource.record, name={"en": "Changed " + ident})
            assert txn.put_resource(rid, record, deleted=False,
                                    sets=oai_set_specs(record)) == "update"
    rest = all_identifiers(env, "verb=ListIdentifiers&resumptionToken="
                           + urllib.parse.quote(token))
    assert set(seen) | set(rest) == set(everything)
    assert later in rest and early in rest  # the changed records come again, at the end
