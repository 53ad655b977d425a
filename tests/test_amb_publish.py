"""The AMB profile out of a real catalogue (issue 11, item 15): the CLI dump and the record route.

A catalogue is harvested from two loopback members (LOM, and oai_dc with one record whose title
has no language and which names none, so it cannot be valid AMB); it is dumped with the real
``eduxchange export --format amb`` (click's CliRunner) and served by the real server on
127.0.0.1. Every AMB document is checked against AMB's published schema from the standards folder.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

import eduxchange
from cli.main import main
from eduxchange.publish.server import ServerInfo, negotiate_profile, serve
from eduxchange.publish.writers.amb import AMB_CONTEXT, AMB_PROFILE
from tests.conftest import SERVING, write_config
from tests.support.amb import amb_errors
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, make_records, oai_dc_xml
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord

START = datetime(2024, 1, 1)
#: A Dublin Core description whose title has no language and that names none: no @language.
NO_LANGUAGE = b"""<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>Q-7 / 2024</dc:title>
  <dc:identifier>https://oer.example.net/sheets/7</dc:identifier>
</oai_dc:dc>"""


@dataclass
class Catalogue:
    config_path: Path
    config: eduxchange.Config
    url: str

    def ids(self) -> dict[str, dict[str, Any]]:
        with eduxchange.open_store(self.config) as store:
            return {r.id: r.record for r in store.iter_resources()}

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kw)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    tmp = tmp_path_factory.mktemp("amb")
    lom = make_records(6, start=START, step=timedelta(minutes=1))
    dc = [MemberRecord(identifier=f"oai:dc.example.net:{i}", datestamp=START + timedelta(hours=i),
                       metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
          for i in range(20, 23)]
    dc.append(MemberRecord(identifier="oai:dc.example.net:nolang", datestamp=START,
                           metadata=NO_LANGUAGE))
    with serve_pyoai_member(lom) as lom_member, serve_faulty(dc) as dc_member:
        path = write_config(tmp / "alliance.toml", [
            {"id": "lom", "name": "LOM member", "endpoint": lom_member.url},
            {"id": "dc", "name": "DC member", "endpoint": dc_member.url,
             "metadata_prefix": "oai_dc"}], feed=SERVING)
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
    started = threading.Event()
    infos: list[ServerInfo] = []

    def ready(info: ServerInfo) -> None:
        infos.append(info)
        started.set()

    thread = threading.Thread(target=serve, args=(config, "127.0.0.1", 0),
                              kwargs={"ready": ready, "quiet": True}, daemon=True)
    thread.start()
    assert started.wait(10), "the server did not start"
    try:
        yield Catalogue(Path(path), config, infos[0].url)
    finally:
        infos[0].shutdown()
        thread.join(10)


def _no_language_id(catalogue: Catalogue) -> str:
    return next(i for i, r in catalogue.ids().items() if r.get("url") == "https://oer.example.net/sheets/7")


def test_export_amb_writes_valid_amb_and_counts_what_it_skips(catalogue: Catalogue,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "amb.ndjson"
    result = CliRunner().invoke(main, ["export", "-c", str(catalogue.config_path), "--format", "amb",
                                       "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    documents = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    records = catalogue.ids()
    assert len(documents) == len(records) - 1 > 5
    for document in documents:
        assert amb_errors(document) == [], document["id"]
        assert document["@context"][0] == AMB_CONTEXT
    # The catalogue IRI of every written record is among its descriptions.
    pages = {page["id"] for d in documents for page in d["mainEntityOfPage"]}
    skipped = _no_language_id(catalogue)
    assert set(records) - pages == {skipped}

    summary = json.loads(result.stdout)
    assert summary["written"] == len(documents) and summary["skipped"] == 1
    (reason,) = summary["skipped_reasons"]
    assert reason["count"] == 1 and reason["ids"] == [skipped]
    assert "language" in reason["reason"]
    assert "skipped 1 record(s) that cannot be valid AMB" in result.stderr
    assert skipped in result.stderr


def test_export_amb_to_stdout_streams_ndjson(catalogue: Catalogue) -> None:
    result = CliRunner().invoke(main, ["export", "-c", str(catalogue.config_path), "-f", "amb"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(catalogue.ids()) - 1
    assert "skipped 1 record(s)" in result.stderr


def test_export_json_summary_needs_an_output_file(catalogue: Catalogue) -> None:
    result = CliRunner().invoke(main, ["export", "-c", str(catalogue.config_path), "-f", "amb",
                                       "--json"])
    assert result.exit_code == 2
    assert "--json needs --output" in result.stderr


@pytest.mark.parametrize("how", [
    {"params": {"profile": "amb"}},
    {"params": {"profile": AMB_PROFILE}},
    {"headers": {"Accept-Profile": f"<{AMB_PROFILE}>"}},
    {"headers": {"Accept-Profile": "<http://example.org/other>;q=1, <https://w3id.org/kim/amb/>;q=0.5",
                 "Accept": "application/ld+json"}},
])
def test_the_resource_route_serves_the_amb_profile(catalogue: Catalogue, how: dict[str, Any]) -> None:
    record_id, record = next((i, r) for i, r in catalogue.ids().items() if r["url"].startswith(
        "https://oer.example.org"))
    uuid = record_id.rsplit("/", 1)[1]
    response = catalogue.get(f"resources/{uuid}", **how)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/ld+json")
    assert response.headers["Content-Profile"] == f"<{AMB_PROFILE}>"
    assert "Accept-Profile" in response.headers["Vary"]
    document = response.json()
    assert amb_errors(document) == []
    assert document["id"] == record["url"]
    assert document["mainEntityOfPage"][0]["id"] == record_id
    # Conditional requests work as for every representation.
    again = catalogue.get(f"resources/{uuid}", params=how.get("params"),
                          headers={**how.get("headers", {}),
                                   "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_resource_route_without_a_profile_serves_the_record(catalogue: Catalogue) -> None:
    record_id = next(iter(catalogue.ids()))
    uuid = record_id.rsplit("/", 1)[1]
    response = catalogue.get(f"resources/{uuid}",
                             headers={"Accept-Profile": "<http://example.org/unknown>"})
    assert response.status_code == 200
    assert response.json()["id"] == record_id and "Content-Profile" not in response.headers


def test_the_resource_route_refuses_what_amb_cannot_carry(catalogue: Catalogue) -> None:
    uuid = _no_language_id(catalogue).rsplit("/", 1)[1]
    response = catalogue.get(f"resources/{uuid}", params={"profile": "amb"})
    assert response.status_code == 406
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "language" in response.json()["detail"]
    some = next(iter(catalogue.ids())).rsplit("/", 1)[1]
    turtle = catalogue.get(f"resources/{some}", params={"profile": "amb", "format": "turtle"})
    assert turtle.status_code == 406 and "JSON-LD" in turtle.json()["detail"]
    unknown = catalogue.get(f"resources/{some}", params={"profile": "dcat"})
    assert unknown.status_code == 400 and "known: amb" in unknown.json()["detail"]


def test_profile_negotiation_rules() -> None:
    assert negotiate_profile(None, None) is None
    assert negotiate_profile(["amb"], None) == "amb"
    assert negotiate_profile(None, f"<{AMB_PROFILE}>;q=0") is None
    assert negotiate_profile(None, "<https://w3id.org/kim/amb>") == "amb"
    with pytest.raises(ValueError, match="unknown profile"):
        negotiate_profile(["lrmi"], f"<{AMB_PROFILE}>")
