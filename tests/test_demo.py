"""`eduxchange demo`: the bundled sample alliance harvests and normalizes cleanly."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

import eduxchange
from eduxchange.demo import demo_alliance
from eduxchange.catalog.validate import validate_record
from eduxchange_cli.main import main


def test_demo_without_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Catalogue: 30 resources" in result.output
    config = eduxchange.load_config(tmp_path / "alliance.toml")
    assert [m.id for m in config.members] == ["ouc", "fr-edu", "latam"]
    assert eduxchange.quarantine_entries(config) == []


def test_sample_alliance_shows_formats_languages_and_dedup(tmp_path: Path) -> None:
    with demo_alliance(tmp_path, base_uri="http://127.0.0.1:8000/") as config:
        results = eduxchange.harvest(config)
    assert [r.metadata_prefix for r in results] == ["lom", "lom", "oai_dc"]
    out = io.BytesIO()
    with eduxchange.open_store(config) as store:
        eduxchange.publish.export.export(config, store, out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 30
    languages = {lang for r in records for lang in r["name"]}
    assert {"zh", "en", "fr", "ar", "es", "ru"} <= languages
    shared = [r for r in records if len(r["mainEntityOfPage"]) > 1]
    assert len(shared) == 15  # 10 LOM+IMS MD, 5 IMS MD+DC
    for record in records:
        assert validate_record(record) == []
        assert "email" not in json.dumps(record)
    # The same URL written three ways (trailing slash, port, tracking parameter) is one resource.
    assert all(r["url"].startswith(("https://oer.example.org/resources/",
                                    "http://oer.example.org/resources/")) for r in records)
    assert not any("utm_source" in r["url"] or ":80/" in r["url"] for r in records)


def test_export_command_every_format_and_vocabularies(tmp_path: Path) -> None:
    import rdflib

    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--no-serve", "--workdir", str(tmp_path)]).exit_code == 0
    config = str(tmp_path / "alliance.toml")
    parsed = {}
    for fmt, rdf_format in (("turtle", "turtle"), ("ntriples", "nt"), ("rdfxml", "xml")):
        out = tmp_path / f"dump.{fmt}"
        result = runner.invoke(main, ["export", "-c", config, "-f", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "Wrote 30 records" in result.stderr
        parsed[fmt] = len(rdflib.Graph().parse(out, format=rdf_format))
    assert len(set(parsed.values())) == 1 and parsed["turtle"] > 300
    result = runner.invoke(main, ["export", "-c", config, "-f", "jsonld"])
    assert len(json.loads(result.stdout)["@graph"]) == 30
    vocab = runner.invoke(main, ["export", "--vocabularies", "-f", "turtle"])
    assert vocab.exit_code == 0 and "skos:prefLabel" in vocab.stdout
    # Without --format the vocabularies come as Turtle (issue 13); ndjson has no RDF to carry.
    assert runner.invoke(main, ["export", "--vocabularies"]).stdout == vocab.stdout
    assert runner.invoke(main, ["export", "--vocabularies", "-f", "ndjson"]).exit_code == 2


def test_serve_command_from_the_shell(tmp_path: Path) -> None:
    """`eduxchange serve` as an operator runs it: a real process, stopped with SIGTERM."""
    import os
    import re
    import signal
    import subprocess
    import sys

    import requests

    assert CliRunner().invoke(main, ["demo", "--no-serve", "--workdir", str(tmp_path)]).exit_code == 0
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "eduxchange_cli.main", "serve", "-c", str(tmp_path / "alliance.toml"),
         "--port", "0", "--public-url", "https://oer.example.net/catalog/"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert match, first
        base = f"http://127.0.0.1:{match.group(1)}/"
        feed = requests.get(base + "changes", timeout=10).json()
        assert feed["type"] == "OrderedCollection" and feed["totalItems"] >= 30
        assert feed["last"]["id"].startswith("https://oer.example.net/catalog/changes")
        identify = requests.get(base + "oai", params={"verb": "Identify"}, timeout=10)
        assert b"<baseURL>https://oer.example.net/catalog/oai</baseURL>" in identify.content
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:  # it did not stop: kill it, and still wait for it
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
    assert proc.returncode == 0
