"""OAI identifiers are stable and valid whatever host serves the catalogue (issue 11, item 16).

A catalogue harvested under one ``base_uri`` and served under another (the demo serves on an IP
address and a port of the moment) kept listing identifiers that GetRecord then refused, and an IP
address made identifiers that are no valid oai-identifiers. Oracles: Sickle harvesting a provider
served on loopback and getting every listed identifier back; the oai-identifier XSD of the
standards folder (``sampleIdentifierType``, ``repositoryIdentifierType``) where it is present.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree
from sickle import Sickle
from wsgiref.simple_server import WSGIServer, make_server

import eduxchange
from eduxchange.core.errors import ConfigError
from eduxchange.publish.provider import DEFAULT_REPOSITORY_IDENTIFIER, Provider, repository_identifier_for
from eduxchange.store.sqlite import SQLiteStore
from tests.conftest import SERVING, write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records
from tests.support.standards import SCHEMA_FILES, missing, standard
from tests.test_provider import START, _Quiet, wsgi

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
PUBLISHED = "https://catalog.example.org/"
DEMO = "http://127.0.0.1:8765/"  # what the demo writes: an IP address and a port


def config_at(path: Path, base_uri: str, **feed: str) -> eduxchange.Config:
    """The alliance config at ``path`` with ``base_uri`` (and ``[feed]`` keys) set."""
    text = path.read_text(encoding="utf-8").replace(f'base_uri = "{PUBLISHED}"',
                                                    f'base_uri = "{base_uri}"')
    for key, value in feed.items():
        text = text.replace("[feed]\n", f'[feed]\n{key} = "{value}"\n', 1)
    out = path.with_name(f"alliance-{abs(hash((base_uri, tuple(feed.items()))))}.toml")
    out.write_text(text, encoding="utf-8")
    return eduxchange.load_config(out)


@pytest.fixture
def harvested(tmp_path: Path) -> Iterator[Path]:
    """A catalogue of 12 records harvested and normalized under :data:`PUBLISHED`."""
    with serve_faulty(make_records(12, start=START, step=timedelta(minutes=1))) as member:
        path = write_config(tmp_path / "alliance.toml",
                            [{"id": "m", "name": "A member", "endpoint": member.url}], feed=SERVING)
        assert all(r.ok for r in eduxchange.harvest(eduxchange.load_config(path)))
    yield path


def harvested_under(tmp_path: Path, base_uri: str) -> Path:
    """The config of a catalogue of 5 records harvested and normalized under ``base_uri``."""
    with serve_faulty(make_records(5, start=START, step=timedelta(minutes=1))) as member:
        path = write_config(tmp_path / "alliance.toml",
                            [{"id": "m", "name": "A member", "endpoint": member.url}], feed=SERVING)
        config = config_at(path, base_uri)
        assert all(r.ok for r in eduxchange.harvest(config))
    assert config.path is not None
    return config.path


@contextmanager
def served(config: eduxchange.Config) -> Iterator[str]:
    """The provider over the config's store, on a loopback port: its base URL."""
    store = SQLiteStore(config.catalog.store)
    server: WSGIServer = make_server("127.0.0.1", 0, wsgi(Provider(config, store)),
                                     handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/oai"
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def listed(url: str) -> list[str]:
    return [h.identifier for h in Sickle(url, timeout=10).ListIdentifiers(metadataPrefix="oai_dc")]


def assert_gets_every_one(url: str, identifiers: list[str]) -> None:
    sickle = Sickle(url, timeout=10)
    for identifier in identifiers:
        record = sickle.GetRecord(identifier=identifier, metadataPrefix="oai_dc")
        assert record.header.identifier == identifier


def identify(url: str) -> etree._Element:
    return Sickle(url, timeout=10).Identify().xml


def valid_oai_identifiers(identifiers: list[str], repository_identifier: str) -> None:
    """Each identifier, as an oai-identifier ``sampleIdentifier``, valid against the official XSD."""
    path = SCHEMA_FILES["oai-identifier"]
    if missing(path) is not None:
        pytest.skip(f"the oai-identifier XSD is not in the standards folder ({path})")
    schema = etree.XMLSchema(etree.parse(str(standard(path))))
    for identifier in identifiers:
        document = etree.fromstring(
            f'<oai-identifier xmlns="{ID_NS}"><scheme>oai</scheme><repositoryIdentifier>'
            f"{repository_identifier}</repositoryIdentifier><delimiter>:</delimiter>"
            f"<sampleIdentifier>{identifier}</sampleIdentifier></oai-identifier>")
        assert schema.validate(document), (identifier, schema.error_log)


# ----------------------------------------------------------------------------- the cases


def test_changing_base_uri_after_publishing_keeps_identifiers_and_get_record(
        harvested: Path) -> None:
    published = eduxchange.load_config(harvested)
    with served(published) as url:
        before = listed(url)
    assert len(before) == 12 and all(i.startswith("oai:catalog.example.org:") for i in before)
    moved = config_at(harvested, DEMO)  # the same store, served under another host
    with served(moved) as url:
        after = listed(url)
        assert after == before
        sickle = Sickle(url, timeout=10)
        for identifier in after:
            assert sickle.GetRecord(identifier=identifier,
                                    metadataPrefix="oai_dc").header.identifier == identifier
        # the catalogue IRI under the base_uri the record was minted with is accepted too
        iri = PUBLISHED + "resources/" + after[0].rsplit(":", 1)[1]
        assert sickle.GetRecord(identifier=iri, metadataPrefix="lom").header.identifier == after[0]
        description = identify(url).find(f".//{{{ID_NS}}}oai-identifier")
        assert description is not None
        assert description.findtext(f"{{{ID_NS}}}repositoryIdentifier") == "catalog.example.org"


def test_a_store_never_served_keeps_the_host_its_records_were_minted_under(
        harvested: Path) -> None:
    with served(config_at(harvested, DEMO)) as url:  # first served under the IP address
        identifiers = listed(url)
        assert all(i.startswith("oai:catalog.example.org:") for i in identifiers)
        assert_gets_every_one(url, identifiers)


def test_demo_like_ip_base_uri_gives_valid_oai_identifiers(tmp_path: Path) -> None:
    config = eduxchange.load_config(harvested_under(tmp_path, DEMO))
    with served(config) as url:
        identifiers = listed(url)
        assert identifiers and all(i.startswith(f"oai:{DEFAULT_REPOSITORY_IDENTIFIER}:")
                                   for i in identifiers)
        assert_gets_every_one(url, identifiers)
        root = identify(url)
        assert root.findtext(f".//{{{ID_NS}}}repositoryIdentifier") == "eduxchange.local"
        sample = root.findtext(f".//{{{ID_NS}}}sampleIdentifier")
    valid_oai_identifiers([*identifiers, sample or ""], DEFAULT_REPOSITORY_IDENTIFIER)


def test_identifiers_handed_out_before_they_were_kept_are_still_answered(tmp_path: Path) -> None:
    config = eduxchange.load_config(harvested_under(tmp_path, DEMO))
    with served(config) as url:
        identifiers = listed(url)
    # older versions made "oai:{host of base_uri}:{uuid}", also from an IP address
    old = [i.replace(f"oai:{DEFAULT_REPOSITORY_IDENTIFIER}:", "oai:127.0.0.1:") for i in identifiers]
    with served(config) as url:
        sickle = Sickle(url, timeout=10)
        for old_id, new_id in zip(old, identifiers, strict=True):
            got = sickle.GetRecord(identifier=old_id, metadataPrefix="oai_dc")
            assert got.header.identifier == new_id
        nobody = urllib.parse.quote("oai:other.example.org:" + identifiers[0].rsplit(":", 1)[1])
        with urllib.request.urlopen(f"{url}?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                                    f"{nobody}", timeout=10) as response:
            assert b'code="idDoesNotExist"' in response.read()  # another repository's


def test_the_repository_identifier_is_kept_in_the_store(harvested: Path) -> None:
    with served(config_at(harvested, DEMO)) as url:
        listed(url)
    config = eduxchange.load_config(harvested)
    with sqlite3.connect(config.catalog.store) as conn:
        (value,) = conn.execute(
            "SELECT value FROM meta WHERE key = 'oai_repository_identifier'").fetchone()
    assert value == "catalog.example.org"


def test_configured_repository_identifier_wins_and_old_ones_are_answered(harvested: Path) -> None:
    with served(eduxchange.load_config(harvested)) as url:
        before = listed(url)
    configured = config_at(harvested, DEMO, repository_identifier="oer.alliance.example.org")
    with served(configured) as url:
        after = listed(url)
        assert all(i.startswith("oai:oer.alliance.example.org:") for i in after)
        assert [i.rsplit(":", 1)[1] for i in after] == [i.rsplit(":", 1)[1] for i in before]
        sickle = Sickle(url, timeout=10)
        assert sickle.GetRecord(identifier=before[0],
                                metadataPrefix="oai_dc").header.identifier == after[0]
        assert identify(url).findtext(f".//{{{ID_NS}}}repositoryIdentifier") == \
            "oer.alliance.example.org"


@pytest.mark.parametrize("value", ["127.0.0.1", "localhost", "my_host.org", "1host.org",
                                   "oer.example.org\n", ""])
def test_an_invalid_repository_identifier_is_a_config_error(harvested: Path, value: str) -> None:
    text = harvested.read_text(encoding="utf-8").replace(
        "[feed]\n", f"[feed]\nrepository_identifier = {value!r}\n".replace("'", '"'), 1)
    bad = harvested.with_name("bad.toml")
    bad.write_text(text.replace('"\n"', '"\\n"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="repository_identifier"):
        eduxchange.load_config(bad)


@pytest.mark.parametrize(("base_uri", "expected"), [
    ("https://catalog.example.org/", "catalog.example.org"),
    ("http://127.0.0.1:8765/", DEFAULT_REPOSITORY_IDENTIFIER),
    ("http://[::1]:8765/", DEFAULT_REPOSITORY_IDENTIFIER),
    ("http://localhost:8000/", DEFAULT_REPOSITORY_IDENTIFIER),
    ("https://OER.Example.org/cat/", "oer.example.org"),
])
def test_repository_identifier_for(base_uri: str, expected: str) -> None:
    assert repository_identifier_for(base_uri) == expected
