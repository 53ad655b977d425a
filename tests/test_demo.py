"""`eduxchange demo`: the bundled sample alliance harvests and normalizes cleanly."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

import eduxchange
from eduxchange.demo import demo_alliance
from eduxchange.validate import validate_record
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
        eduxchange.export.export(config, store, out)
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
