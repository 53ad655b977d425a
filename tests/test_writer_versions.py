"""Pre-rendered OAI-PMH metadata is never stale (issue 10).

Normalization pre-renders each changed record's metadata for ListRecords; GetRecord renders
it fresh. Each writer declares a version, the stored bytes carry it, and the provider splices
only bytes of today's version, so after an upgrade that changed a writer ListRecords and
GetRecord still agree byte for byte, and the next normalization re-renders the stale bytes.
An upgrade is simulated by replacing the writers table in process (the code of a new
release); everything else is real: a harvest from a loopback member, the real HTTP server on
a read-only store, Sickle, the CLI.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from rdflib import Graph
from rdflib.compare import to_canonical_graph
from sickle import Sickle

import eduxchange
import eduxchange.catalog.normalization
import eduxchange.publish.provider
from eduxchange.publish.server import make_app, make_server
from eduxchange.store.sqlite import SCHEMA_VERSION, ReadOnlySQLiteStore, SQLiteStore
from eduxchange.publish.writers import WRITERS, MetadataWriter
from eduxchange.publish.writers.lom import write_lom
from eduxchange_cli.main import main as cli
from tests.conftest import write_config
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member

GOLDEN = Path(__file__).parent / "fixtures" / "records" / "valid"
N = 12

#: Each writer's version and a digest of its output for the golden records (RDF/XML as its
#: canonical graph: rdflib's blank node labels and element order vary between processes).
#: A writer whose output changes needs a new version here and in WRITERS, so that stores
#: written by the old one are re-rendered (docs/republishing.md, "Pre-rendered metadata").
PINS = {
    "oai_dc": ("1", "a78dc9db5897145906d5dd18f6402c3e34a8ac92acb3ba4483aaf465ebea44a5"),
    "lom": ("1", "300856ee05b18ea163975d910d9a5e5c9ab83b4f342c6d14ae3d493a95354f82"),
    "rdf": ("1", "7a42b68f8e487dfe83d46fafd87e42b8f4fd2d8b14744e32f99873ad560edf43"),
}


def _digest(writer: MetadataWriter) -> str:
    digest = hashlib.sha256()
    for path in sorted(GOLDEN.glob("*.json")):
        element = writer.write(json.loads(path.read_text(encoding="utf-8")))
        if writer.prefix == "rdf":
            graph = Graph().parse(data=etree.tostring(element), format="xml")
            out = "\n".join(sorted(to_canonical_graph(graph).serialize(format="nt").splitlines()))
            digest.update(out.encode())
        else:
            digest.update(etree.tostring(element, encoding="UTF-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def test_a_writer_whose_output_changes_has_a_new_version() -> None:
    assert len(list(GOLDEN.glob("*.json"))) >= 10
    assert set(PINS) == set(WRITERS), "pin every writer's version and output in PINS"
    for prefix, writer in WRITERS.items():
        version, digest = PINS[prefix]
        actual = _digest(writer)
        assert (writer.version, actual) == (version, digest), (
            f"the {prefix} writer's output for the golden records changed, or its version did: "
            f"bump MetadataWriter.version of {prefix!r} (so stored metadata is re-rendered) "
            f"and pin ({writer.version!r}, {actual!r}) in PINS")


# -- a writer upgrade, end to end ---------------------------------------------------------------

_RECORD = re.compile(rb"<record><header>.*?<identifier>([^<]+)</identifier>.*?"
                     rb"<metadata>(.*?)</metadata></record>", re.S)


def _upgrade_lom(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new release whose LOM writer adds a keyword: version 2."""
    def write_lom_v2(record: Mapping[str, Any]) -> etree._Element:
        keywords = dict(record.get("keywords") or {})
        keywords["en"] = [*keywords.get("en", []), "written-by-lom-v2"]
        return write_lom({**record, "keywords": keywords})

    table = dict(WRITERS)
    table["lom"] = replace(WRITERS["lom"], write=write_lom_v2, version="2")
    for module in (eduxchange.catalog.normalization, eduxchange.publish.provider):
        monkeypatch.setattr(module, "WRITERS", MappingProxyType(table))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        body: bytes = response.read()
    return body


def _served(oai: str, prefix: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Every record's metadata bytes as ListRecords (all pages) and as GetRecord serve them."""
    listed: dict[str, bytes] = {}
    query = f"verb=ListRecords&metadataPrefix={prefix}"
    for _ in range(50):  # bounded: N records, a few per page
        body = _get(f"{oai}?{query}")
        listed.update((i.decode(), m) for i, m in _RECORD.findall(body))
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
        if token is None:
            break
        query = "verb=ListRecords&resumptionToken=" + urllib.parse.quote(token.group(1).decode())
    got = {}
    for identifier in listed:
        body = _get(f"{oai}?verb=GetRecord&metadataPrefix={prefix}&identifier="
                    + urllib.parse.quote(identifier))
        [(same, metadata)] = _RECORD.findall(body)
        got[same.decode()] = metadata
    return listed, got


class _Site:
    """The real HTTP server over a read-only store, as `eduxchange serve` runs it."""

    def __init__(self, config: eduxchange.Config) -> None:
        self.store = ReadOnlySQLiteStore(config.catalog.store)
        self.server = make_server(make_app(config, self.store), "127.0.0.1", 0, quiet=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.oai = f"http://127.0.0.1:{self.server.server_address[1]}/oai"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.store.close()


@pytest.fixture
def catalogue(tmp_path: Path) -> Iterator[eduxchange.Config]:
    """N LOM records harvested (and normalized, pre-rendered) from a loopback member."""
    with serve_pyoai_member(make_records(N, start=datetime(2024, 1, 1),
                                                     step=timedelta(minutes=1))) as member:
        path = write_config(tmp_path / "alliance.toml", [{"id": "lom", "endpoint": member.url}])
        path.write_text(path.read_text() + '\n[feed]\npage_size = 5\n'
                        'admin_email = "oai-team@catalog.example.org"\n')
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
        yield config


def _config_path(config: eduxchange.Config) -> Path:
    assert config.path is not None
    return config.path


def _versions(config: eduxchange.Config) -> dict[tuple[str, str], int]:
    with sqlite3.connect(config.catalog.store) as conn:
        return {(p, v): n for p, v, n in conn.execute(
            "SELECT prefix, writer_version, COUNT(*) FROM disseminations GROUP BY 1, 2")}


def test_after_a_writer_upgrade_list_and_get_agree_and_normalize_rerenders(
        catalogue: eduxchange.Config, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _versions(catalogue) == {("oai_dc", "1"): N, ("lom", "1"): N}
    site = _Site(catalogue)
    try:
        listed, got = _served(site.oai, "lom")
        assert len(listed) == N and listed == got
        assert not any(b"written-by-lom-v2" in m for m in listed.values())

        _upgrade_lom(monkeypatch)  # the server process now runs the new release
        # Before any normalization: the stored LOM bytes are of version 1 and never served.
        listed, got = _served(site.oai, "lom")
        assert len(listed) == N and listed == got
        assert all(b"written-by-lom-v2" in m for m in listed.values())
        sickle = Sickle(site.oai)
        by_list = {r.header.identifier: r.raw for r in sickle.ListRecords(metadataPrefix="lom")}
        assert len(by_list) == N
        for identifier, raw in by_list.items():
            assert "written-by-lom-v2" in raw
            assert sickle.GetRecord(identifier=identifier, metadataPrefix="lom").raw == raw

        # `normalize` (nothing pending, not even --all) re-renders the stale metadata once.
        result = CliRunner().invoke(cli, ["normalize", "--config", str(_config_path(catalogue))])
        assert result.exit_code == 0, result.output
        assert _versions(catalogue) == {("oai_dc", "1"): N, ("lom", "2"): N}
        listed_after, got_after = _served(site.oai, "lom")
        assert listed_after == got_after == listed  # now spliced from the re-rendered bytes
        oai_dc, oai_dc_got = _served(site.oai, "oai_dc")
        assert len(oai_dc) == N and oai_dc == oai_dc_got
    finally:
        site.close()


def test_the_steady_state_rerenders_nothing(catalogue: eduxchange.Config) -> None:
    with SQLiteStore(catalogue.catalog.store) as store:
        catalog = eduxchange.catalog.normalization.Catalog(catalogue, store)
        assert store.written_versions() == {"oai_dc": "1", "lom": "1"}
        # Count every write of pre-rendered metadata on the connection normalization uses.
        conn = store._conn()
        conn.executescript(
            "CREATE TEMP TABLE written (n INTEGER);"
            "CREATE TEMP TRIGGER written_insert AFTER INSERT ON main.disseminations "
            "BEGIN INSERT INTO written VALUES (1); END;"
            "CREATE TEMP TRIGGER written_update AFTER UPDATE ON main.disseminations "
            "BEGIN INSERT INTO written VALUES (1); END;")
        results = catalog.normalize(all_=True)  # every record again, none of them changed
        assert (results[0].processed, results[0].unchanged) == (N, N)
        assert catalog.refresh_written() == 0
        assert conn.execute("SELECT COUNT(*) FROM written").fetchone()[0] == 0
        # ... while a changed version would be written (the triggers do count).
        with store.catalog() as txn:
            txn.set_written_versions({"oai_dc": "1", "lom": "0"})
        assert catalog.refresh_written() == 0  # stored bytes are of version 1: all current
        assert conn.execute("SELECT COUNT(*) FROM written").fetchone()[0] == 0
        conn.execute("UPDATE disseminations SET writer_version = '0' WHERE prefix = 'lom'")
        with store.catalog() as txn:
            txn.set_written_versions({})
        assert catalog.refresh_written() == N
        assert conn.execute("SELECT COUNT(*) FROM written").fetchone()[0] == N + N


def test_a_store_of_the_previous_schema_opens_serves_and_upgrades(
        catalogue: eduxchange.Config) -> None:
    # Make the store what the last release left: no writer_version, schema_version 1.
    with sqlite3.connect(catalogue.catalog.store) as conn:
        conn.execute("ALTER TABLE disseminations DROP COLUMN writer_version")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        conn.execute("DELETE FROM meta WHERE key = 'written_versions'")
        # the old release's LOM bytes differ from today's: they must not be served
        conn.execute("UPDATE disseminations SET xml = CAST('<lom xmlns=\"http://ltsc.ieee.org/"
                     "xsd/LOM\"><general/></lom>' AS BLOB) WHERE prefix = 'lom'")
    site = _Site(catalogue)  # read-only: nothing migrates, nothing stale is served
    try:
        listed, got = _served(site.oai, "lom")
        assert len(listed) == N and listed == got
        assert all(b"<title>" in m for m in listed.values())
    finally:
        site.close()
    with SQLiteStore(catalogue.catalog.store) as store:  # opening a writable store migrates
        conn = store._conn()
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                            ).fetchone()[0] == str(SCHEMA_VERSION) == "8"
    assert _versions(catalogue) == {("oai_dc", ""): N, ("lom", ""): N}
    result = CliRunner().invoke(cli, ["normalize", "--config", str(_config_path(catalogue))])
    assert result.exit_code == 0, result.output
    assert _versions(catalogue) == {("oai_dc", "1"): N, ("lom", "1"): N}
    site = _Site(catalogue)
    try:
        listed_after, got_after = _served(site.oai, "lom")
        assert listed_after == got_after == listed
    finally:
        site.close()


def test_normalizing_unchanged_records_writes_nothing(catalogue: eduxchange.Config) -> None:
    # Issue 10: an unchanged record costs no write at all (not even an UPDATE that matches
    # nothing): normalize --all over a catalogue where nothing changed issues no write.
    with SQLiteStore(catalogue.catalog.store) as store:
        catalog = eduxchange.catalog.normalization.Catalog(catalogue, store)
        conn = store._conn()
        writes: list[str] = []
        conn.set_trace_callback(lambda sql: writes.append(sql) if sql.lstrip().upper().startswith(
            ("INSERT", "UPDATE", "DELETE", "REPLACE")) else None)
        before = conn.total_changes
        results = catalog.normalize(all_=True)
        conn.set_trace_callback(None)
        assert (results[0].processed, results[0].unchanged) == (N, N)
        assert writes == [] and conn.total_changes == before
