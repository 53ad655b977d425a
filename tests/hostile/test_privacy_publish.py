"""No e-mail address or phone number leaves the catalogue unless the member opted in.

A loopback member serves oai_dc, LOM (vCards with FN/N/ORG/EMAIL/TEL/ADR) and LRMI records
carrying contact data in names and free text (tests/support/hostile_privacy.py). It is
harvested with the real harvester; then every export format (the ``eduxchange export`` CLI),
every HTTP route of the real server on 127.0.0.1 (every OAI-PMH verb and prefix, every page of
the change feed, every record in every format), the stored pre-rendered disseminations, the
stored descriptions, records and change log are scanned: with ``publish_contacts = false``
nothing is found; with ``true`` the addresses are where they are meant to be (agents' ``email``,
``schema:email``, the LOM vCard's EMAIL) and never in a name.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import zstandard
from click.testing import CliRunner
from lxml import etree

import eduxchange
from eduxchange.publish.export import FORMATS
from eduxchange.publish.server import RECORD_FORMATS, make_app, make_server
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from eduxchange_cli.main import main
from tests.conftest import SERVING, write_config
from tests.support.faulty import serve_faulty
from tests.support.hostile_privacy import (
    EMAIL_SCAN,
    PHONE_SCAN,
    PLANTED_EMAILS,
    PLANTED_PHONES,
    contact_records,
    phone_pattern,
)
from tests.support.records import MemberRecord

OAI = "{http://www.openarchives.org/OAI/2.0/}"
#: OAI-PMH 2.0, 4.2: Identify must give the repository's adminEmail (the operator's, from the
#: config, no member's): the one address every catalogue publishes.
_ADMIN_EMAIL = re.compile(rb"<adminEmail>[^<]*</adminEmail>")
_PHONES = [phone_pattern(p) for p in PLANTED_PHONES]


@dataclass
class Catalogue:
    config_path: Path
    config: eduxchange.Config
    url: str
    #: (what was read, its bytes) for every export, route and stored table.
    outputs: list[tuple[str, bytes]] = field(default_factory=list)


def _leaks(body: bytes) -> list[str]:
    text = body.decode("utf-8", errors="replace")
    found = [m.group() for m in EMAIL_SCAN.finditer(text)]
    found += [m.group() for m in PHONE_SCAN.finditer(text)]
    found += [m.group() for pattern in _PHONES for m in pattern.finditer(text)]
    found += [e for e in PLANTED_EMAILS if e.split("@")[0] + "%40" in text]
    return found


def _get(session: requests.Session, url: str) -> bytes:
    response = session.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.content


def _read_everything(catalogue: Catalogue) -> None:
    """Every export, every route, every stored table of published data, into ``outputs``."""
    out = catalogue.outputs
    runner = CliRunner()
    for fmt in FORMATS:
        result = runner.invoke(main, ["export", "--config", str(catalogue.config_path),
                                      "--format", fmt])
        assert result.exit_code == 0, result.output
        out.append((f"export {fmt}", result.stdout_bytes))
    session = requests.Session()
    base = catalogue.url
    for path in ("", "context.jsonld", "vocabularies/", "changes"):
        out.append((path or "/", _get(session, base + path)))
    for vocabulary in json.loads(_get(session, base + "vocabularies/"))["vocabularies"]:
        out.append((vocabulary["url"], _get(session, vocabulary["url"])))
    identify = _get(session, base + "oai?verb=Identify")
    assert _ADMIN_EMAIL.search(identify)
    out.append(("Identify", _ADMIN_EMAIL.sub(b"", identify)))
    out.append(("ListSets", _get(session, base + "oai?verb=ListSets")))
    out.append(("ListMetadataFormats", _get(session, base + "oai?verb=ListMetadataFormats")))
    prefixes = [e.text for e in etree.fromstring(out[-1][1]).iter(f"{OAI}metadataPrefix")]
    assert {"oai_dc", "lom", "rdf"} <= set(prefixes)
    identifiers: set[str] = set()
    for prefix in prefixes:
        for verb in ("ListRecords", "ListIdentifiers"):
            url = f"{base}oai?verb={verb}&metadataPrefix={prefix}"
            for _ in range(100):  # bounded: a few pages at most
                body = _get(session, url)
                out.append((url, body))
                root = etree.fromstring(body)
                identifiers.update(e.text or "" for e in root.iter(f"{OAI}identifier")
                                   if e.getparent().tag == f"{OAI}header")
                token = root.find(f".//{OAI}resumptionToken")
                if token is None or not token.text:
                    break
                url = f"{base}oai?verb={verb}&resumptionToken={quote(token.text, safe='')}"
    assert identifiers
    for identifier in sorted(identifiers):
        for prefix in prefixes:
            url = f"{base}oai?verb=GetRecord&metadataPrefix={prefix}&identifier={identifier}"
            out.append((url, _get(session, url)))
    collection = json.loads(_get(session, base + "changes"))
    pages = [collection["first"]["id"]]
    for _ in range(100):
        page = json.loads(_get(session, pages[-1]))
        out.append((pages[-1], json.dumps(page).encode()))
        following = page.get("next")
        if not following:
            break
        pages.append(following["id"] if isinstance(following, dict) else following)
    with eduxchange.open_store(catalogue.config) as store:
        uuids = [r.id.rsplit("/", 1)[1] for r in store.iter_resources()]
    assert uuids
    for uuid in uuids:
        for fmt in RECORD_FORMATS:
            url = f"{base}resources/{uuid}?format={fmt}"
            out.append((url, _get(session, url)))
        for accept in ("text/turtle", "application/n-triples", "application/rdf+xml", "*/*"):
            response = session.get(f"{base}resources/{uuid}", headers={"Accept": accept},
                                   timeout=10)
            assert response.status_code == 200
            out.append((f"resources/{uuid} Accept {accept}", response.content))
    # What the server splices into ListRecords and what later steps read: published data.
    db = sqlite3.connect(f"file:{catalogue.config.catalog.store}?mode=ro", uri=True)
    try:
        for table in ("disseminations", "resources", "descriptions", "changes"):
            rows = db.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - fixed names
            assert rows, table
            for row in rows:
                out.append((f"table {table}", " ".join(
                    _plain(v).decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                    for v in row).encode()))
    finally:
        db.close()


@contextmanager
def _catalogue(tmp: Path, *, publish: bool) -> Iterator[Catalogue]:
    # Two records of each kind: with page_size 2 the member's lists and ours have several pages.
    with serve_faulty(contact_records(2), page_size=2) as member:
        path = write_config(tmp / "alliance.toml",
                            [{"id": "m", "endpoint": member.url, "publish_contacts": publish}],
                            feed=SERVING)
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
    store = ReadOnlySQLiteStore(config.catalog.store)
    server = make_server(make_app(config, store, page_size=2), "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        catalogue = Catalogue(path, config, f"http://127.0.0.1:{server.server_address[1]}/")
        _read_everything(catalogue)
        yield catalogue
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        store.close()


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The catalogue of a member with ``publish_contacts = false`` (the default)."""
    with _catalogue(tmp_path_factory.mktemp("closed"), publish=False) as catalogue:
        yield catalogue


@pytest.fixture(scope="module")
def opted_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The same member's records with ``publish_contacts = true``."""
    with _catalogue(tmp_path_factory.mktemp("opted_in"), publish=True) as catalogue:
        yield catalogue


def _records(catalogue: Catalogue) -> list[dict[str, Any]]:
    ndjson = dict(catalogue.outputs)["export ndjson"]
    return [json.loads(line) for line in ndjson.splitlines()]


def test_without_opt_in_no_address_or_number_anywhere(closed: Catalogue) -> None:
    leaks = {(where, leak) for where, body in closed.outputs for leak in _leaks(body)}
    assert not leaks, sorted(leaks)[:20]
    assert len(closed.outputs) > 100  # every route was read, not a few
    descriptions = {text for record in _records(closed) for text in record["description"].values()}
    assert "Questions: […] or Tel. […] (1998-2024 edition, 250 pages)." in descriptions


@pytest.mark.parametrize("which", ["closed", "opted_in"])
def test_names_are_cleaned_not_mangled_and_other_digits_survive(
        which: str, request: pytest.FixtureRequest) -> None:
    catalogue: Catalogue = request.getfixturevalue(which)
    records = _records(catalogue)
    assert len(records) == 6
    names = {agent["name"] for record in records for role in ("creator", "contributor",
                                                                "publisher")
             for agent in record.get(role, [])}
    assert names == {"Jane Doe", "Jim", "ACME Press", "Ann Roe", "Jane"}, names
    titles = {text for record in records for text in record["name"].values()}
    assert "Algebra 2019-2020, chapters 12-18 (ISBN 978-3-16-148410-0) #0" in titles
    assert "Geometry 1990-2010, ISBN 0-306-40615-2 #1" in titles
    assert "Statistics, grades 9-12, 2021 #0" in titles


def test_opted_in_addresses_only_in_the_agents_contact_fields(opted_in: Catalogue) -> None:
    catalogue = opted_in
    records = _records(catalogue)
    contacts: dict[str, set[str]] = {}
    for record in records:
        for role in ("creator", "contributor", "publisher"):
            for agent in record.get(role, []):
                assert not _leaks(agent["name"].encode()), agent
                for key in ("email", "telephone"):
                    if key in agent:
                        contacts.setdefault(agent["name"], set()).add(agent[key])
    assert contacts["Jane Doe"] >= {"jane@example.org", "card@example.org",
                                    "+44 20 7946 0958"}
    assert contacts["ACME Press"] == {"pub@example.org", "+33 1 23 45 67 89"}
    assert contacts["Jim"] == {"jim@example.org"}
    assert contacts["Jane"] == {"jane2@example.org"}
    assert contacts["Ann Roe"] >= {"ann@example.org", "030/987 654 32"}
    # Elsewhere only in the member's own free text, published as written since it opted in.
    for record in records:
        rest = {k: v for k, v in record.items()
                if k not in ("description", "keywords", "copyrightNotice")}
        for role in ("creator", "contributor", "publisher"):
            rest[role] = [{k: v for k, v in agent.items() if k not in ("email", "telephone")}
                          for agent in record.get(role, [])]
        assert not _leaks(json.dumps(rest, ensure_ascii=False).encode()), rest
    # In every RDF form the addresses are schema:email values, and the LOM vCard's EMAIL.
    turtle = dict(catalogue.outputs)["export turtle"].decode()
    assert re.search(r'schema:email "jane@example.org"', turtle), turtle[:2000]
    lom = b"".join(body for where, body in catalogue.outputs
                   if "metadataPrefix=lom" in where and "ListRecords" in where)
    assert b"EMAIL;TYPE=INTERNET:jim@example.org" in lom
    # Names never carry them, in any dissemination.
    for where, body in catalogue.outputs:
        for name in re.findall(rb"FN:([^\r\n]*)", body):
            assert not _leaks(name), (where, name)


def _dump(config_path: Path, fmt: str = "ndjson") -> bytes:
    result = CliRunner().invoke(main, ["export", "--config", str(config_path), "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _disseminations(config: eduxchange.Config) -> bytes:
    db = sqlite3.connect(f"file:{config.catalog.store}?mode=ro", uri=True)
    try:
        return b"".join(_plain(row[0]) for row in db.execute("SELECT xml FROM disseminations"))
    finally:
        db.close()


def _plain(value: bytes) -> bytes:
    """A stored value as published: pre-rendered metadata is kept zstd-compressed."""
    if value.startswith(b"\x28\xb5\x2f\xfd"):  # the zstd frame magic number
        return zstandard.ZstdDecompressor().decompress(value)
    return value


def test_withdrawing_the_opt_in_and_normalizing_again_removes_the_contacts(
        tmp_path: Path) -> None:
    """docs/normalization.md: after ``publish_contacts`` changes, ``normalize --all``."""
    with serve_faulty(contact_records(1)) as member:
        members = [{"id": "m", "endpoint": member.url, "publish_contacts": True}]
        path = write_config(tmp_path / "alliance.toml", members)
        assert all(r.ok for r in eduxchange.harvest(eduxchange.load_config(path)))
    assert b"jane@example.org" in _dump(path)
    config = eduxchange.load_config(path)
    assert b"jane@example.org" in _disseminations(config)
    write_config(path, [{**members[0], "publish_contacts": False}])
    result = CliRunner().invoke(main, ["normalize", "--config", str(path), "--all", "--quiet"])
    assert result.exit_code == 0, result.output
    for fmt in FORMATS:
        assert not _leaks(_dump(path, fmt)), fmt
    assert not _leaks(_disseminations(config))


def test_a_merged_record_keeps_only_the_opted_in_member_s_contacts(tmp_path: Path) -> None:
    """Two members describe the same resource (same URL); only one opted in."""
    closed_dc = (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Shared</dc:title>'
        "<dc:creator>Doe, Jane (jane@example.org)</dc:creator>"
        "<dc:description>Ask jane@example.org</dc:description>"
        "<dc:identifier>https://oer.example.org/shared</dc:identifier></oai_dc:dc>").encode()
    open_dc = closed_dc.replace(b"Doe, Jane (jane@example.org)", b"Roe, Ann (ann@example.org)")
    stamp = datetime(2024, 1, 1)
    with serve_faulty([MemberRecord("oai:a.test:1", stamp, metadata=closed_dc)]) as a, \
            serve_faulty([MemberRecord("oai:b.test:1", stamp, metadata=open_dc)]) as b:
        path = write_config(tmp_path / "alliance.toml", [
            {"id": "a", "endpoint": a.url},
            {"id": "b", "endpoint": b.url, "publish_contacts": True}])
        assert all(r.ok for r in eduxchange.harvest(eduxchange.load_config(path)))
    records = [json.loads(line) for line in _dump(path).splitlines()]
    assert len(records) == 1
    text = json.dumps(records[0])
    assert "jane@example.org" not in text
    assert {(c["name"], c.get("email")) for c in records[0]["creator"]} == {
        ("Jane Doe", None), ("Ann Roe", "ann@example.org")}
    assert "jane@example.org" not in _disseminations(eduxchange.load_config(path)).decode()
