"""The whole pipeline on PostgreSQL, each command as a user runs it, against the same commands
on SQLite as the oracle: harvest (from pyoai's server on loopback), normalize, status, log,
quarantine, export must say the same of the same alliance on both backends.

Needs ``EDUXCHANGE_TEST_POSTGRES`` (skipped otherwise); each test has a schema of its own.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import eduxchange
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.lomgen import lom_xml, make_records
from tests.support.postgres import postgres_url  # noqa: F401 - the fixture
from tests.support.pyoai_member import serve_pyoai_member


def _run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def _comparable_status(output: str) -> list[dict[str, Any]]:
    return [{k: m[k] for k in ("id", "state", "records", "deleted", "quarantined",
                               "metadata_prefix", "error", "resumable")}
            for m in json.loads(output)["members"]]


def _untimed(text: str) -> str:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return re.sub(rf"{today}(T\d\d:\d\d:\d\d(Z|\+00:00))?", "(today)", text)


def _same_counts(a: Any, b: Any) -> bool:
    """Normalization results without their timings."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return bool(strip(a) == strip(b))


def test_harvest_normalize_status_log_quarantine_export_agree_with_sqlite(
        tmp_path: Path, postgres_url: str) -> None:
    records = make_records(150, start=datetime(2024, 1, 1), step=timedelta(minutes=1),
                           sets=["math", "phys"])
    with serve_pyoai_member(records, batch_size=40) as member:
        config = str(write_config(tmp_path / "alliance.toml",
                                  [{"id": "ouc", "name": "Open University",
                                    "endpoint": member.url}]))
        backends = {"sqlite": ["-c", config], "postgresql": ["-c", config, "--store",
                                                               postgres_url]}
        out: dict[str, dict[str, Any]] = {}
        for name, opts in backends.items():
            harvest = json.loads(_run(["harvest", *opts, "--json"]))
            (run,) = harvest["results"]
            assert run["state"] == "ok" and run["new"] == 150, run
            out[name] = {"harvest": {k: run[k] for k in ("new", "updated", "deleted",
                                                           "quarantined", "normalization")
                                     if k in run}}
        # The next day: one record changed, one deleted; harvest again, incrementally.
        member.backend.update(records[5].identifier, metadata=lom_xml(9999))
        member.backend.delete(records[6].identifier)
        for name, opts in backends.items():
            (run,) = json.loads(_run(["harvest", *opts, "--json"]))["results"]
            assert run["mode"] == "incremental" and (run["updated"], run["deleted"]) == (1, 1)
            normalized = json.loads(_run(["normalize", *opts, "--all", "--json"]))
            out[name]["status"] = _comparable_status(_run(["status", *opts, "--json"]))
            out[name]["log"] = [{k: r.get(k) for k in ("member", "mode", "state", "counts")}
                                for r in json.loads(_run(["log", *opts, "--json"]))["runs"]]
            out[name]["normalize"] = normalized
            quarantine = json.loads(_run(["quarantine", *opts, "--json"]))
            out[name]["quarantine"] = sorted(
                (e["member"], e["identifier"], e["stage"]) for e in quarantine["quarantine"])
            out[name]["export"] = _run(["export", *opts, "-f", "ndjson"])
            out[name]["turtle"] = _run(["export", *opts, "-f", "turtle"])
        sqlite, postgres = out["sqlite"], out["postgresql"]
        assert postgres["status"] == sqlite["status"]
        assert postgres["status"][0]["records"] == 149 and postgres["status"][0]["deleted"] == 1
        assert postgres["quarantine"] == sqlite["quarantine"]
        assert postgres["log"] == sqlite["log"] and len(postgres["log"]) == 2
        assert postgres["normalize"] == sqlite["normalize"] or _same_counts(
            postgres["normalize"], sqlite["normalize"])
        # The same catalogue, byte for byte but for the times of the harvests (today's).
        assert _untimed(postgres["export"]) == _untimed(sqlite["export"])
        assert _untimed(postgres["turtle"]) == _untimed(sqlite["turtle"])
        assert len(postgres["export"].splitlines()) == 149


def test_the_demo_runs_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--port", "0", "--workdir",
                                       str(tmp_path / "demo"), "--store", postgres_url])
    assert result.exit_code == 0, result.output
    config = eduxchange.load_config(tmp_path / "demo" / "alliance.toml")
    assert config.catalog.store_url == postgres_url
    assert not (tmp_path / "demo" / "catalog.sqlite").exists()
    assert eduxchange.catalogue_counts(config)["resources"] > 0


def test_search_finds_on_postgresql_what_it_finds_on_sqlite(tmp_path: Path,
                                                            postgres_url: str) -> None:
    """The demo's zh/en/fr/ar/es/ru catalogue in both backends; for every word of every
    title (also without its accents), CJK pairs of characters, and every facet value: the
    same hits, the same total and the same facet counts (ranks may differ: bm25, ts_rank)."""
    import unicodedata

    from eduxchange.core.config import with_store
    from eduxchange.demo import demo_alliance
    from eduxchange.store.search import SearchQuery, search_terms

    with demo_alliance(tmp_path, base_uri="http://127.0.0.1:8000/") as config:
        assert all(r.ok for r in eduxchange.harvest(config))
        on_pg = with_store(config, postgres_url)
        assert all(r.ok for r in eduxchange.harvest(on_pg))
    sqlite, postgres = eduxchange.open_store(config), eduxchange.open_store(on_pg)
    try:
        texts: set[str] = set()
        for resource in sqlite.iter_resources():
            for title in resource.record.get("name", {}).values():
                for term in search_terms(title)[:3]:
                    texts.add(term)
                    texts.add("".join(c for c in unicodedata.normalize("NFKD", term)
                                      if not unicodedata.combining(c)))
                    if any("\u4e00" <= c <= "\u9fff" for c in term):
                        texts.update(term[i:i + 2] for i in range(len(term) - 1))
        queries = [SearchQuery(text=t, page_size=500) for t in sorted(texts)]
        everything = sqlite.search(SearchQuery(page_size=500))
        for facet, counts in everything.facets.items():
            queries += [SearchQuery(filters={facet: (c.value,)}, page_size=500) for c in counts]
        queries.append(SearchQuery(text="élève", page_size=500))
        assert len(queries) > 50
        for query in queries:
            a, b = sqlite.search(query), postgres.search(query)
            assert (b.total, {h.resource_id for h in b.hits}) == \
                (a.total, {h.resource_id for h in a.hits}), query
            assert {k: sorted(v, key=lambda c: c.value) for k, v in b.facets.items()} == \
                {k: sorted(v, key=lambda c: c.value) for k, v in a.facets.items()}, query
        assert postgres.search(SearchQuery(page_size=5, page=2)).hits == \
            postgres.search(SearchQuery(page_size=10)).hits[5:]
    finally:
        sqlite.close()
        postgres.close()


def test_served_from_postgresql_sickle_harvests_what_sqlite_serves(
        tmp_path: Path, postgres_url: str) -> None:
    """Harvest and normalize into both backends, serve each read-only as ``eduxchange serve``
    does, harvest both servers with Sickle: the same records, byte for byte (responseDate
    aside). Two PostgreSQL servers of one catalogue accept each other's resumption tokens."""
    from contextlib import ExitStack

    import requests
    from sickle import Sickle

    from eduxchange.core.config import with_store
    from eduxchange.pipeline import open_read_only_store
    from eduxchange.publish.server import make_app, make_server
    from tests.conftest import SERVING
    from tests.support._net import running

    records = make_records(120, start=datetime(2024, 1, 1), step=timedelta(minutes=1),
                           sets=["math", "phys"])
    with serve_pyoai_member(records, batch_size=50) as member:
        config = eduxchange.load_config(write_config(
            tmp_path / "alliance.toml", [{"id": "ouc", "endpoint": member.url}],
            feed={**SERVING, "page_size": 25}))
        on_pg = with_store(config, postgres_url)
        for c in (config, on_pg):
            assert all(r.ok for r in eduxchange.harvest(c))
    with ExitStack() as stack:
        urls = {}
        for name, c in (("sqlite", config), ("pg", on_pg), ("pg2", on_pg)):
            store = open_read_only_store(c)
            stack.callback(store.close)
            server = make_server(make_app(c, store, public_url="http://127.0.0.1:8000/"),
                                 "127.0.0.1", 0, quiet=True)
            stack.enter_context(running(server))
            urls[name] = f"http://127.0.0.1:{server.server_address[1]}/"

        def harvested(url: str, **kw: str) -> list[str]:
            return [_no_response_date(r.raw) for r in
                    Sickle(url + "oai").ListRecords(metadataPrefix="oai_dc", **kw)]

        assert harvested(urls["pg"]) == harvested(urls["sqlite"])
        assert len(harvested(urls["pg"])) == 120
        assert harvested(urls["pg"], set="member:ouc") == harvested(urls["sqlite"],
                                                                    set="member:ouc")
        for path in ("changes", "changes/page/1", "oai?verb=ListSets",
                     "oai?verb=ListMetadataFormats"):
            a = requests.get(urls["sqlite"] + path, timeout=10)
            b = requests.get(urls["pg"] + path, timeout=10)
            assert (b.status_code, _no_response_date(b.text)) == \
                (a.status_code, _no_response_date(a.text)), path
        found = [requests.get(urls[n] + "search", params={"q": "algebra", "format": "json"},
                              timeout=10).json() for n in ("sqlite", "pg")]
        assert [(f["total"], sorted(r["id"] for r in f["results"])) for f in found][0] == \
            [(f["total"], sorted(r["id"] for r in f["results"])) for f in found][1]
        assert found[1]["total"] > 0  # ranks may differ (bm25, ts_rank), not the hits
        # A token one server wrote continues on another: the key lives in the catalogue.
        first = requests.get(urls["pg"] + "oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
                             timeout=10).text
        token = re.search(r"<resumptionToken[^>]*>([^<]+)<", first)
        assert token is not None
        second = requests.get(urls["pg2"] + "oai", params={
            "verb": "ListIdentifiers", "resumptionToken": token.group(1)}, timeout=10)
        assert second.status_code == 200 and "badResumptionToken" not in second.text
        assert "<header" in second.text


def _no_response_date(xml: str) -> str:
    """The response without its responseDate, and today's times (of the two harvests)."""
    return _untimed(re.sub(r"<responseDate>[^<]*</responseDate>", "", xml))


def test_a_killed_harvest_resumes_on_postgresql_with_nothing_lost_or_doubled(
        tmp_path: Path, postgres_url: str) -> None:
    """``kill -9`` mid-list: the pages committed stay, the advisory lock goes with the killed
    session, and the next harvest resumes from the last committed page."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from eduxchange.core.config import with_store
    from tests.support.faulty import serve_faulty

    root = Path(__file__).resolve().parents[1]
    recs = make_records(600, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
    with serve_faulty(recs, page_size=50) as server:
        server.delay_next(100, 0.15, verb="ListRecords")  # slow enough to be killed mid-list
        path = write_config(tmp_path / "alliance.toml",
                            [{"id": "k", "endpoint": server.url, "metadata_prefix": "lom"}])
        config = with_store(eduxchange.load_config(path), postgres_url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c", str(path), "--store",
             postgres_url, "-q"], env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with eduxchange.open_store(config) as store:
            deadline = time.monotonic() + 60
            while store.counts("k")["records"] < 150 and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            committed = store.counts("k")["records"]
        assert 150 <= committed < 600

        server.heal()
        (result,) = eduxchange.harvest(config)
        assert result.ok and result.mode == "resumed", result
        assert result.new == 600 - committed and result.unchanged == 0
        with eduxchange.open_store(config) as store:
            assert store.counts("k")["records"] == 600
            assert len({r.identifier for r in store.iter_records("k")}) == 600
            assert store.resource_counts()["resources"] == 600
            (killed, resumed) = store.runs("k")[::-1][:2]
        assert killed.state == "interrupted" and resumed.state == "ok"
