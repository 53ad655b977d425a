"""``eduxchange migrate``: a SQLite catalogue copied into PostgreSQL serves the same bytes.

Two loopback members (pyoai's server, and one with an unreadable record, so the catalogue has
quarantine) are harvested into SQLite, normalized, one record changed and one deleted, served
once (so the store keeps its resumption-token key and repositoryIdentifier), then migrated.
Both stores are then served over loopback and every OAI-PMH list is followed page by page on
each server, tokens and all, with the feed pages and record pages: byte for byte, the
responseDate aside. Needs ``EDUXCHANGE_TEST_POSTGRES`` (skipped otherwise).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

import eduxchange
from eduxchange.catalog.sets import oai_set_specs
from eduxchange.store.dump import DUMP_TABLES, TargetNotEmpty, copy_store
from eduxchange.store.sqlite import ReadOnlySQLiteStore, SQLiteStore
from eduxchange_cli.main import main
from tests.conftest import SERVING, write_config
from tests.support._net import running
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, make_records
from tests.support.bigstore import build_store
from tests.support.postgres import POSTGRES_ENV, postgres_url  # noqa: F401 - the fixture
from tests.support.pyoai_member import serve_pyoai_member

OAI = "{http://www.openarchives.org/OAI/2.0/}"
_RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")
_METADATA = re.compile(rb"<metadata>(.*?)</metadata>", re.S)


def _same(what: str, a: bytes, b: bytes) -> bool:
    """Byte-identical, except the metadata of the rdf format: rdflib renders it on request
    with blank nodes named at random, in an order that follows the names (so two requests to
    one store differ as well). Its envelope must be identical and each record's metadata
    the same graph."""
    if a == b:
        return True
    if " rdf" not in what or _METADATA.sub(b"", a) != _METADATA.sub(b"", b):
        return False
    pairs = list(zip(_METADATA.findall(a), _METADATA.findall(b), strict=True))
    return all(isomorphic(Graph().parse(data=x, format="xml"), Graph().parse(data=y, format="xml"))
               for x, y in pairs)
PAGE_SIZE = 25  # feed pages and OAI-PMH list pages: several of each


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result


@contextmanager
def _alliance(tmp_path: Path) -> Iterator[Path]:
    """A config over two loopback members, harvested and normalized into SQLite."""
    first = make_records(90, start=datetime(2024, 1, 1), step=timedelta(minutes=1),
                         sets=["math", "phys"])
    second = make_records(40, start=datetime(2024, 2, 1), step=timedelta(minutes=1), first=500)
    second[3].metadata = second[3].metadata.replace(b"</string>", b"</strin>", 1)
    with serve_pyoai_member(first, batch_size=30) as one, serve_faulty(second,
                                                                        page_size=15) as two:
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "ouc", "name": "Open University", "endpoint": one.url},
                               {"id": "hub", "name": "Hub", "endpoint": two.url,
                                "metadata_prefix": "lom"}],
                              feed={**SERVING, "page_size": PAGE_SIZE})
        _run(["harvest", "-c", str(config), "-q"])
        one.backend.update(first[5].identifier, metadata=lom_xml(9999))
        one.backend.delete(first[6].identifier)
        _run(["harvest", "-c", str(config), "-q"])
        yield config


@contextmanager
def _served(config: eduxchange.Config, store: Any) -> Iterator[str]:
    from eduxchange.publish.server import make_app, make_server

    httpd = make_server(make_app(config, store, page_size=PAGE_SIZE), "127.0.0.1", 0,
                        quiet=True)
    with running(httpd):
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"


def _get(base: str, path: str, **params: str) -> bytes:
    response = requests.get(base + path, params=params, timeout=30,
                            headers={"Accept": "application/xml"} if path == "oai" else
                            {"Accept": "application/ld+json"})
    assert response.status_code == 200, (path, params, response.text[:300])
    # The two servers listen on different ports: their own URL is all that may differ.
    return _RESPONSE_DATE.sub(b"", response.content, count=1).replace(base.encode(), b"BASE/")


def _oai_lists(base: str, verb: str, **params: str) -> Iterator[bytes]:
    """Every page of one list, following the resumption tokens this server hands out."""
    body = _get(base, "oai", verb=verb, **params)
    while True:
        yield body
        token = ElementTree.fromstring(body).find(f".//{OAI}resumptionToken")
        if token is None or not (token.text or "").strip():
            return
        body = _get(base, "oai", verb=verb, resumptionToken=token.text.strip())


def _everything(base: str) -> dict[str, list[bytes]]:
    """What a harvester and a feed reader can read of one server."""
    seen: dict[str, list[bytes]] = {}
    for verb in ("Identify", "ListSets", "ListMetadataFormats"):
        seen[verb] = [_get(base, "oai", verb=verb)]
    formats = ElementTree.fromstring(seen["ListMetadataFormats"][0]).iter(f"{OAI}metadataPrefix")
    prefixes = sorted(p.text or "" for p in formats)
    assert len(prefixes) >= 2, prefixes
    identifiers: list[str] = []
    for prefix in prefixes:
        for verb in ("ListIdentifiers", "ListRecords"):
            pages = list(_oai_lists(base, verb, metadataPrefix=prefix))
            seen[f"{verb} {prefix}"] = pages
        for set_ in ("member:ouc", "lang"):
            seen[f"ListRecords {prefix} {set_}"] = list(
                _oai_lists(base, "ListRecords", metadataPrefix=prefix, set=set_))
    for page in seen[f"ListIdentifiers {prefixes[0]}"]:
        identifiers += [e.text or "" for e in ElementTree.fromstring(page).iter(f"{OAI}identifier")]
    assert len(seen[f"ListRecords {prefixes[0]}"]) > 3  # several resumption pages
    for identifier in identifiers[:5] + identifiers[-3:]:
        for prefix in prefixes:
            seen[f"GetRecord {identifier} {prefix}"] = [
                _get(base, "oai", verb="GetRecord", identifier=identifier, metadataPrefix=prefix)]
    collection = json.loads(_get(base, "changes"))
    seen["changes"] = [json.dumps(collection).encode()]
    pages = [_get(base, f"changes/page/{n}") for n in range(int(collection["totalItems"])
                                                            // PAGE_SIZE + 1)]
    assert len(pages) > 3
    seen["changes pages"] = pages
    ids = [item["object"]["id"] if isinstance(item.get("object"), dict) else item["object"]
           for page in pages[:1] for item in json.loads(page)["orderedItems"]]
    for resource_id in ids[:4]:
        uuid = str(resource_id).rsplit("/", 1)[-1]
        seen[f"resource {uuid}"] = [_get(base, f"resources/{uuid}", format="jsonld")]
    return seen


def _serve_once(config: eduxchange.Config) -> None:
    """Serve the SQLite catalogue once: it keeps its token key and repositoryIdentifier."""
    store = ReadOnlySQLiteStore(config.catalog.store)
    try:
        with _served(config, store) as base:
            _get(base, "oai", verb="Identify")
    finally:
        store.close()


def test_a_migrated_catalogue_serves_the_same_bytes(tmp_path: Path, postgres_url: str) -> None:
    from eduxchange.store.postgres import PostgresStore

    with _alliance(tmp_path) as path:
        config = eduxchange.load_config(path)
    _serve_once(config)
    with sqlite3.connect(config.catalog.store) as db:
        assert db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] >= 1
        assert db.execute("SELECT COUNT(*) FROM disseminations").fetchone()[0] > 0
        keys = {r[0] for r in db.execute("SELECT key FROM meta")}
        assert {"oai_token_key", "oai_repository_identifier", "written_versions"} <= keys

    out = json.loads(_run(["migrate", "-c", str(path), "--to", postgres_url, "--json"]).stdout)
    assert out["replaced"] is False and out["rows"]["records"] == 129
    assert out["rows"]["quarantine"] >= 1 and out["rows"]["resources"] > 0
    assert out["sequences"]["catalog_seq"] >= out["rows"]["changes"] > 0

    sqlite_store = ReadOnlySQLiteStore(config.catalog.store)
    pg_store = PostgresStore(postgres_url, read_only=True)
    try:
        assert pg_store.dump_counts() == sqlite_store.dump_counts()
        with _served(config, sqlite_store) as a, _served(config, pg_store) as b:
            on_sqlite, on_postgres = _everything(a), _everything(b)
        assert on_sqlite.keys() == on_postgres.keys()
        for what, pages in on_sqlite.items():
            assert len(pages) == len(on_postgres[what]), what
            assert all(_same(what, a, b) for a, b in zip(pages, on_postgres[what])), what
        # The catalogue readers say the same too (harvest state, log, quarantine, reports).
        assert sqlite_store.runs(limit=100) == pg_store.runs(limit=100)
        assert sqlite_store.quarantine() == pg_store.quarantine()
        for member in ("ouc", "hub"):
            assert sqlite_store.member_state(member) == pg_store.member_state(member)
            assert list(sqlite_store.iter_records(member)) == list(pg_store.iter_records(member))
            assert list(sqlite_store.iter_unmapped(member)) == list(pg_store.iter_unmapped(member))
        assert sqlite_store.events(limit=1000) == pg_store.events(limit=1000)
    finally:
        sqlite_store.close()
        pg_store.close()

    # After the copy, the PostgreSQL catalogue goes on from where SQLite was: a harvest and
    # normalization of it number their changes after the copied ones.
    with ExitStack() as stack:
        pg = stack.enter_context(PostgresStore(postgres_url))
        before = pg.resource_counts()
        with pg.catalog() as txn:
            some = next(pg.iter_resources())
            record: Any = {**some.record, "name": {"en": "changed"}}
            assert txn.put_resource(some.id, record, deleted=False,
                                    sets=oai_set_specs(record)) == "update"
        top = max(r.seq for r in pg.iter_resources(include_deleted=True))
        assert top == out["sequences"]["catalog_seq"] + 1
        assert pg.resource_counts() == before
        copied_runs = [r.id for r in pg.runs(limit=1000)]
        assert pg.begin_run("ouc", mode="incremental", metadata_prefix="lom",
                            from_=None) == max(copied_runs) + 1


def test_a_migrated_catalogue_has_planner_statistics_at_once(tmp_path: Path,
                                                            postgres_url: str) -> None:
    """Analyzed in the copy's transaction, not when autovacuum next comes by: served at once
    after a migration, pages are planned from the real sizes."""
    from eduxchange.store.postgres import PostgresStore

    with _alliance(tmp_path) as path:
        _run(["migrate", "-c", str(path), "--to", postgres_url, "-q"])
    with PostgresStore(postgres_url, read_only=True) as pg:
        analyzed = {r[0] for r in pg._rows(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema()")}
    assert {"resources", "resource_sets", "disseminations", "changes"} <= analyzed, analyzed


def test_a_target_that_is_not_empty_is_refused_unless_replace(tmp_path: Path,
                                                              postgres_url: str) -> None:
    with _alliance(tmp_path) as path:
        pass
    _run(["migrate", "-c", str(path), "--to", postgres_url, "-q"])
    again = CliRunner().invoke(main, ["migrate", "-c", str(path), "--to", postgres_url])
    assert again.exit_code == 2, again.output
    assert "already holds a catalogue" in again.output and "--replace" in again.output
    replaced = json.loads(_run(["migrate", "-c", str(path), "--to", postgres_url, "--replace",
                                "--json"]).stdout)
    assert replaced["replaced"] is True and replaced["rows"]["records"] == 129
    # And back: PostgreSQL into a new SQLite file (--from names the source).
    back = tmp_path / "back.sqlite"
    summary = json.loads(_run(["migrate", "-c", str(path), "--from", postgres_url,
                               "--to", str(back), "--json"]).stdout)
    assert summary["rows"] == replaced["rows"]
    with SQLiteStore(back) as copy, SQLiteStore(tmp_path / "catalog.sqlite") as original:
        assert list(copy.iter_dump()) == list(original.iter_dump())


def test_sqlite_to_sqlite_round_trip_and_refusals(tmp_path: Path) -> None:
    with _alliance(tmp_path) as path:
        pass
    source = tmp_path / "catalog.sqlite"
    target = tmp_path / "copy.sqlite"
    result = _run(["migrate", "-c", str(path), "--to", str(target)])
    assert "Copied" in result.output and "records" in result.output
    with SQLiteStore(source) as a, SQLiteStore(target) as b:
        assert list(a.iter_dump()) == list(b.iter_dump())
        assert a.search(eduxchange.store.search.SearchQuery(text="")).total == \
            b.search(eduxchange.store.search.SearchQuery(text="")).total
        with pytest.raises(TargetNotEmpty):
            copy_store(a, b)
    same = CliRunner().invoke(main, ["migrate", "-c", str(path), "--to", str(source)])
    assert same.exit_code == 2 and "same store" in same.output
    missing = CliRunner().invoke(main, ["migrate", "--from", str(tmp_path / "none.sqlite"),
                                        "--to", str(tmp_path / "x.sqlite")])
    assert missing.exit_code == 2 and "no catalogue at" in missing.output
    SQLiteStore(tmp_path / "empty.sqlite").close()
    empty = CliRunner().invoke(main, ["migrate", "--from", str(tmp_path / "empty.sqlite"),
                                      "--to", str(tmp_path / "y.sqlite")])
    assert empty.exit_code == 2 and "holds no catalogue" in empty.output, empty.output
    assert {t.name for t in DUMP_TABLES} == set(json.loads(_run(
        ["migrate", "-c", str(path), "--to", str(tmp_path / "third.sqlite"), "--json"]
    ).stdout)["rows"])


def _peak_rss_mb(args: list[str]) -> float:
    """Peak RSS of ``eduxchange`` run with ``args`` in a process of its own (MB)."""
    code = ("import resource,subprocess,sys;"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
            "sys.stderr.write(p.stderr);"
            "print(p.returncode,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, sys.executable, "-m",
                           "eduxchange_cli.main", *args], capture_output=True, text=True,
                          check=True)
    returncode, rss = done.stdout.split()
    assert returncode == "0", done.stderr[-2000:]
    return int(rss) / 1024


def test_a_copy_streams_in_bounded_memory(tmp_path: Path, postgres_url: str) -> None:
    """Ten times the records (about 50 MB more of rows) cost the copy no more memory."""
    import psycopg

    small = build_store(tmp_path / "small.sqlite", 1_000)
    big = build_store(tmp_path / "big.sqlite", 10_000)
    peaks = {}
    for name, source, schema in (("small", small, "a"), ("big", big, "b")):
        target = postgres_url.replace("schema=", f"schema={schema}_")
        try:
            peaks[name] = _peak_rss_mb(["migrate", "--from", str(source), "--to", target,
                                        "--json", "--batch-size", "500"])
        finally:
            with psycopg.connect(os.environ[POSTGRES_ENV], autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA IF EXISTS "{target.rsplit("schema=", 1)[1]}" CASCADE')
    assert peaks["big"] < peaks["small"] + 15, peaks


def test_a_failed_copy_leaves_the_target_empty(tmp_path: Path, postgres_url: str) -> None:
    """All or nothing: a value PostgreSQL cannot hold, met late in the copy, writes nothing."""
    from eduxchange.store.postgres import PostgresStore

    source = build_store(tmp_path / "source.sqlite", 50)
    with sqlite3.connect(source) as db:
        db.execute("INSERT INTO events (run_id, member_id, code, severity, message, created_at) "
                   "VALUES (1, 'big', 'x', 'warning', ?, '2024-01-01T00:00:00Z')",
                   ("a NUL: \x00",))
        # reports is the last table copied: every other one was written when this is met.
        db.execute("INSERT INTO reports VALUES ('big', 1, '2024-01-01T00:00:00Z', ?)",
                   ("bad \x00",))
    failed = CliRunner().invoke(main, ["migrate", "--from", str(source), "--to", postgres_url])
    assert failed.exit_code == 1, failed.output
    assert "NUL" in failed.output and "nothing was written" in failed.output
    with PostgresStore(postgres_url) as pg:
        assert {t: n for t, n in pg.dump_counts().items() if t != "sequences" and n} == {}
    with sqlite3.connect(source) as db:
        db.execute("DELETE FROM reports")
    _run(["migrate", "--from", str(source), "--to", postgres_url, "-q"])
    with PostgresStore(postgres_url) as pg:
        (event,) = pg.events(min_severity="warning")
        assert event.message == "a NUL: \\x00"  # as the PostgreSQL store writes it itself
