"""An operator's first five minutes (issue 13): look at an endpoint without a config
(`identify`, `formats`, `sets`), write a config (`init`), probe it (`check`), and read what
goes wrong, on real members on loopback, through the real command."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

import eduxchange
from eduxchange.harvesting.probe import suggest_member_id
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support._net import HOST, LoopbackHTTPServer, running
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member

ONCE = {"max_retries": 0, "timeout": 2}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: A terminal 80 columns wide (rich reads these when it draws for a terminal).
TERMINAL_80 = {"FORCE_COLOR": "1", "COLUMNS": "80"}


def _records(n: int = 5, sets: list[str] | None = None) -> list[Any]:
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1), sets=sets)


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])  # closed again: connections are refused


def _fits_80(text: str) -> str:
    visible = ANSI.sub("", text)
    assert max(len(line) for line in visible.splitlines()) <= 80, visible
    return visible


class _WebPage(BaseHTTPRequestHandler):
    """A web site, not an OAI-PMH endpoint: what an operator pastes by mistake."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><body><h1>Our repository</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def _web_page() -> Iterator[str]:
    httpd = LoopbackHTTPServer((HOST, 0), _WebPage)
    with running(httpd):
        yield f"http://{HOST}:{httpd.server_address[1]}/"


# -- identify, formats, sets ----------------------------------------------------------------------


def test_identify_prints_what_a_harvest_would_meet() -> None:
    with serve_pyoai_member(_records(5, sets=["math", "physics"]),
                            name="Open University of China (OUC)",
                            set_names={"math": "Mathematics"}) as member:
        shown = _cli("identify", member.url, env=TERMINAL_80)
        as_json = _cli("identify", member.url, "--json")
    assert shown.exit_code == 0, shown.output
    visible = ANSI.sub("", shown.stdout)
    for expected in ("Open University of China (OUC)", "YYYY-MM-DDThh:mm:ssZ (seconds)",
                     "persistent", "2024-01-01T00:00:00Z", "oai_dc", "Mathematics",
                     "eduxchange would harvest lom", "oai:example.org:rec-000001"):
        assert expected in visible, (expected, visible)
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["ok"] and report["error"] is None
    assert report["identify"]["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert report["identify"]["deleted_record"] == "persistent"
    assert report["identify"]["earliest_datestamp"] == "2024-01-01T00:00:00Z"
    assert report["chosen"] == "lom"
    assert [(f["prefix"], f["chosen"]) for f in report["formats"]] == [("lom", True),
                                                                       ("oai_dc", False)]
    assert {s["spec"] for s in report["sets"]} == {"math", "physics"}
    sample = report["sample"]
    assert sample["identifier"] == "oai:example.org:rec-000001" and sample["format"] == "lom"
    # Normalized exactly as a harvest would: a valid common record, provenance included.
    assert sample["problems"] == []
    assert sample["description"]["name"] and sample["description"]["url"]
    assert sample["description"]["mainEntityOfPage"][0]["provider"]["id"].endswith("/members/ouc")


def test_formats_and_sets_commands() -> None:
    with serve_faulty(_records(3, sets=["math"]), set_names={"math": "Mathematics"}) as server:
        formats = _cli("formats", server.url, "--json")
        sets = _cli("sets", server.url, "--json")
        sets_table = _cli("sets", server.url, env=TERMINAL_80)
        verbs = server.verbs
    assert formats.exit_code == 0 and sets.exit_code == 0, (formats.output, sets.output)
    assert json.loads(formats.stdout)["chosen"] == "lom"
    assert json.loads(sets.stdout)["sets"] == [{"spec": "math", "name": "Mathematics"}]
    assert "Mathematics" in _fits_80(sets_table.stdout)
    assert "ListRecords" not in verbs  # neither command fetches records


def test_sets_of_a_repository_without_sets_is_a_note_not_an_error() -> None:
    with serve_pyoai_member(_records(2)) as member:
        result = _cli("sets", member.url)
    assert result.exit_code == 0, result.output
    assert "no sets (noSetHierarchy)" in result.stdout


MARC_ONLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListMetadataFormats">http://127.0.0.1/oai</request>
<ListMetadataFormats><metadataFormat><metadataPrefix>marc21</metadataPrefix>
<schema>http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd</schema>
<metadataNamespace>http://www.loc.gov/MARC21/slim</metadataNamespace></metadataFormat>
</ListMetadataFormats></OAI-PMH>"""


def test_a_member_offering_no_readable_format_is_said_by_identify_and_check(
        tmp_path: Path) -> None:
    with serve_faulty(_records(2)) as server:
        server.body_next(MARC_ONLY, n=2, verb="ListMetadataFormats")
        identified = _cli("identify", server.url, "--json")
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "marc", "endpoint": server.url, "metadata_prefix": "marc21"}])
        server.body_next(MARC_ONLY, n=1, verb="ListMetadataFormats")
        checked = _cli("check", "-c", str(config), "--json")
        requested = server.verbs
    assert identified.exit_code == 0, identified.output
    report = json.loads(identified.stdout)
    assert report["chosen"] is None and report["sample"] is None
    assert any("no format eduxchange can read" in n and "marc21" in n for n in report["notes"])
    assert "ListRecords" not in requested
    assert checked.exit_code == 0, checked.output  # offered: a note, not a failure
    [member] = json.loads(checked.stdout)["members"]
    assert "not a format eduxchange knows" in member["notes"][0]


def test_identify_a_refused_connection_says_so_and_not_to_raise_max_retries() -> None:
    url = f"http://{HOST}:{_closed_port()}/oai"
    result = _cli("identify", url)
    assert result.exit_code == 1
    assert "connection refused" in result.stderr and url in result.stderr
    assert "max_retries" not in result.stderr
    failed = _cli("identify", url, "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["ok"] is False


def test_identify_a_web_page_says_it_is_not_an_oai_pmh_endpoint() -> None:
    with _web_page() as url:
        result = _cli("identify", url)
    assert result.exit_code == 1
    assert "is not an OAI-PMH endpoint" in result.stderr
    assert "base URL" in result.stderr


def test_identify_a_silent_endpoint_times_out_within_the_timeout() -> None:
    with serve_faulty(_records(1)) as server:
        server.delay_next(4, 3.0, verb="Identify")
        started = time.monotonic()
        result = _cli("identify", server.url, "--timeout", "0.3")
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert "did not answer within 0.3 s" in result.stderr and "--timeout" in result.stderr
    assert elapsed < 2.5  # two attempts of 0.3 s and a short backoff, not 3 s waits


@pytest.mark.parametrize("url, says", [
    ("ftp://example.org/oai", "not an http(s) URL"),
    ("http:///oai", "not an http(s) URL"),
    ("http://localhost:99999/oai", "Port out of range"),
    ("http://[::1/oai", "not a usable URL"),
    ("http://exa mple.org/oai", "not a host name"),
])
def test_identify_refuses_a_url_it_cannot_use(url: str, says: str) -> None:
    result = _cli("identify", url)
    assert result.exit_code == 2 and says in result.stderr, result.output
    assert "Traceback" not in result.output


def test_identify_in_a_real_subprocess() -> None:
    with serve_pyoai_member(_records(2)) as member:
        done = subprocess.run([sys.executable, "-m", "eduxchange_cli.main", "identify",
                               member.url, "--json"], capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sample"]["identifier"] == "oai:example.org:rec-000001"


# -- init ------------------------------------------------------------------------------------------


def test_member_ids_are_derived_from_the_name_or_the_host() -> None:
    assert suggest_member_id("https://x.org/oai", "Open University of China (OUC)") == "ouc"
    assert suggest_member_id("https://oer.ouc.edu.cn/oai", "国家开放大学") == "ouc"
    assert suggest_member_id("https://www.oercommons.org/oai", "") == "oercommons"
    assert suggest_member_id("http://127.0.0.1:8000/oai", "Test member") == "test-member"
    assert suggest_member_id("http://127.0.0.1:8000/oai", "") == "member"
    assert suggest_member_id("https://x.org/oai", "A (OUC)", taken=["ouc", "ouc-2"]) == "ouc-3"


def test_init_writes_a_commented_config_that_check_accepts(tmp_path: Path) -> None:
    config = tmp_path / "alliance.toml"
    down = f"http://{HOST}:{_closed_port()}/oai"
    with serve_pyoai_member(_records(3, sets=["math"]),
                            name="Open University of China (OUC)") as ouc, \
            serve_faulty(_records(2), name="Faulty member") as other:
        result = _cli("init", "-c", str(config), "--member", ouc.url, "--member", other.url,
                      "--member", down)
        assert result.exit_code == 1, result.output  # one member could not be identified
        text = config.read_text(encoding="utf-8")
        loaded = eduxchange.load_config(config)
        checked = _cli("check", "-c", str(config), "--json")
    assert [(m.id, m.endpoint, m.metadata_prefix, m.enabled) for m in loaded.members] == [
        ("ouc", ouc.url, "lom", True), ("faulty-member", other.url, "lom", True),
        ("member", down, None, False)]
    assert loaded.members[0].name == "Open University of China (OUC)"
    assert "# NOT IDENTIFIED" in text and "connection refused" in text
    assert "also offered: oai_dc" in text and '# sets = ["math"]' in text
    assert "granularity YYYY-MM-DDThh:mm:ssZ, deletedRecord persistent" in text
    assert "connection refused" in result.stderr
    # The config written passes `check` (the disabled member is not probed).
    assert checked.exit_code == 0, checked.output
    assert [r["member"] for r in json.loads(checked.stdout)["members"]] == ["ouc",
                                                                            "faulty-member"]


def test_init_does_not_overwrite_without_force(tmp_path: Path) -> None:
    config = tmp_path / "alliance.toml"
    config.write_text("# mine\n", encoding="utf-8")
    with serve_pyoai_member(_records(1)) as member:
        refused = _cli("init", "-c", str(config), "--member", member.url)
        assert refused.exit_code == 2 and "--force" in refused.stderr
        assert config.read_text(encoding="utf-8") == "# mine\n"
        forced = _cli("init", "-c", str(config), "--member", member.url, "--force")
    assert forced.exit_code == 0, forced.output
    assert eduxchange.load_config(config).members[0].endpoint == member.url


# -- check -----------------------------------------------------------------------------------------


def test_check_probes_every_member_and_says_what_is_wrong(tmp_path: Path) -> None:
    with serve_pyoai_member(_records(3, sets=["math"]),
                            name="A repository with a rather long name, for the table") as good:
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "good", "endpoint": good.url, "sets": ["math"]},
            {"id": "wrong-prefix", "endpoint": good.url, "metadata_prefix": "marc21"},
            {"id": "wrong-set", "endpoint": good.url, "sets": ["math", "chemistry"]},
            {"id": "down", "endpoint": f"http://{HOST}:{_closed_port()}/oai", **ONCE},
        ])
        result = _cli("check", "-c", str(config), "--json")
        table = _cli("check", "-c", str(config), env=TERMINAL_80)
        one = _cli("check", "-c", str(config), "-m", "good")
    assert result.exit_code == 1, result.output
    checks = {r["member"]: r for r in json.loads(result.stdout)["members"]}
    assert checks["good"]["ok"] and checks["good"]["metadata_prefix"] == "lom"
    assert checks["good"]["repository_name"].startswith("A repository")
    [wrong] = checks["wrong-prefix"]["problems"]
    assert "'marc21' is not offered" in wrong and "lom (" in wrong and "oai_dc (" in wrong
    assert "set metadata_prefix = 'lom'" in wrong
    assert "chemistry" in checks["wrong-set"]["problems"][0]
    assert "connection refused" in checks["down"]["problems"][0]
    assert "max_retries" not in checks["down"]["problems"][0]
    assert table.exit_code == 1
    visible = _fits_80(table.stdout)
    assert "wrong-prefix" in visible and "1 of 4 member(s) passed" in visible
    assert one.exit_code == 0, one.output


def test_check_of_a_broken_config_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "alliance.toml"
    config.write_text('[[members]]\nid = "x"\nendpoint = "ftp://x"\n', encoding="utf-8")
    result = _cli("check", "-c", str(config))
    assert result.exit_code == 2 and "key 'endpoint'" in result.stderr
    assert _cli("check", "-c", str(tmp_path / "none.toml")).exit_code == 2


# -- harvest: what goes wrong reads right -----------------------------------------------------------


def test_a_wrong_metadata_prefix_lists_what_the_member_offers(tmp_path: Path) -> None:
    with serve_pyoai_member(_records(2)) as member:
        config = eduxchange.load_config(write_config(tmp_path / "alliance.toml", [
            {"id": "m", "endpoint": member.url, "metadata_prefix": "lom_fr"}]))
        [result] = eduxchange.harvest(config)
    assert result.state == "failed" and result.error is not None
    assert "cannotDisseminateFormat" in result.error
    assert "configured metadata_prefix 'lom_fr'" in result.error
    assert "lom (http://ltsc.ieee.org/xsd/LOM) [would be chosen]" in result.error
    assert "oai_dc (" in result.error


def test_a_refused_connection_in_a_harvest_does_not_advise_max_retries(tmp_path: Path) -> None:
    config = eduxchange.load_config(write_config(tmp_path / "alliance.toml", [
        {"id": "down", "endpoint": f"http://{HOST}:{_closed_port()}/oai", "max_retries": 1,
         "backoff": 0.01}]))
    [result] = eduxchange.harvest(config)
    assert result.error is not None and "connection refused" in result.error
    assert "max_retries" not in result.error


def test_without_a_terminal_messages_are_not_wrapped_and_urls_not_cut(tmp_path: Path) -> None:
    # cron: stdout and stderr are files. A long endpoint URL must stay whole on one line.
    long_url = f"http://{HOST}:{_closed_port()}/" + "/".join(["a-long-path-segment"] * 6) + "/oai"
    config = write_config(tmp_path / "alliance.toml", [{"id": "down", "endpoint": long_url,
                                                        **ONCE}])
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    harvest = subprocess.run([sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c",
                              str(config)], capture_output=True, text=True, timeout=60, env=env)
    status = subprocess.run([sys.executable, "-m", "eduxchange_cli.main", "status", "-c",
                             str(config)], capture_output=True, text=True, timeout=60, env=env)
    assert harvest.returncode == 1, harvest.stderr
    [line] = [x for x in harvest.stderr.splitlines() if x.startswith("down: ")]
    assert long_url in line and "connection refused" in line
    [line] = [x for x in status.stdout.splitlines() if x.startswith("down: ")]
    assert long_url in line


def test_harvest_summary_and_status_fit_80_columns(tmp_path: Path) -> None:
    with serve_faulty(_records(3)) as server:
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "a-rather-long-member-id", "name": "The member's display name",
             "endpoint": server.url}])
        harvest = _cli("harvest", "-c", str(config), "-q", env=TERMINAL_80)
    status = _cli("status", "-c", str(config), env=TERMINAL_80)
    normalized = _cli("normalize", "-c", str(config), "--all", env=TERMINAL_80)
    assert normalized.exit_code == 0 and "processed" in _fits_80(normalized.stdout)
    log = _cli("log", "-c", str(config), env=TERMINAL_80)
    assert log.exit_code == 0 and "a-rather-long-member-id" in _fits_80(log.stdout).replace(
        "\n", "").replace(" ", "")
    assert harvest.exit_code == 0, harvest.output
    visible = _fits_80(harvest.stdout)
    assert "a-rather-long-member-id" in visible.replace("\n", "") and "quar." in visible
    assert "left out to fit 80 columns" in visible
    assert status.exit_code == 0
    shown = _fits_80(status.stdout)
    assert "The member's display name" in " ".join(shown.split())  # status shows the name


# -- the demo checks its port first ---------------------------------------------------------------


def test_the_demo_fails_fast_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = _cli("demo", "--port", str(port), "--workdir", str(tmp_path / "demo"))
        elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert f"cannot serve the demo on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr and "Nothing was harvested" in result.stderr
    assert not (tmp_path / "demo" / "catalog.sqlite").exists()
    assert elapsed < 5


# -- docs match behaviour ---------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "harvesting.md"


def _known_keys(data: dict[str, Any]) -> set[str]:
    """The keys a section accepts, read from the error an unknown key gets (no private names)."""
    with pytest.raises(eduxchange.ConfigError) as caught:
        eduxchange.parse_config(data)
    listed = re.search(r"\(known: ([^)]*)\)", str(caught.value))
    assert listed, str(caught.value)
    return {k.strip() for k in listed.group(1).split(",")}


def _documented(section: str) -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"### `{section}`")
    end = text.find("\n### ", start + 1)
    block = text[start:end if end != -1 else None]
    return {k for row in re.findall(r"^\| (`[^|]+`) \|", block, re.M)
            for k in re.findall(r"`([a-z_]+)`", row)}


@pytest.mark.parametrize("section, data", [
    ("[catalog]", {"catalog": {"zz_unknown": 1}}),
    ("[harvest]", {"harvest": {"zz_unknown": 1}}),
    ("[feed]", {"feed": {"zz_unknown": 1}}),
    ("[[members]]", {"members": [{"id": "x", "endpoint": "https://x.org/oai",
                                  "zz_unknown": 1}]}),
])
def test_every_config_key_is_documented(section: str, data: dict[str, Any]) -> None:
    known = _known_keys(data)
    documented = _documented(section)
    if section == "[[members]]":
        # A member may also override any [harvest] setting except concurrency (documented so).
        documented |= _documented("[harvest]") - {"concurrency"}
    assert known - documented == set(), f"undocumented in docs/harvesting.md {section}"


def test_the_readme_crosswalk_example_works_on_a_saved_get_record_response(
        tmp_path: Path) -> None:
    with serve_pyoai_member(_records(2)) as member:
        saved = requests.get(member.url, params={"verb": "GetRecord", "metadataPrefix": "lom",
                                                 "identifier": "oai:example.org:rec-000002"},
                             timeout=10).content
        error = requests.get(member.url, params={"verb": "GetRecord", "metadataPrefix": "lom",
                                                 "identifier": "oai:example.org:nope"},
                             timeout=10).content
        with eduxchange.OAIClient(member.url) as client:
            record = client.get_record("oai:example.org:rec-000002", "lom")
    (tmp_path / "record.xml").write_bytes(saved)
    os.chdir(tmp_path)
    description = eduxchange.crosswalk(Path("record.xml").read_bytes())  # as the README says
    assert description == eduxchange.crosswalk(record.raw)
    assert description["url"] == "https://oer.example.org/resources/000002"
    with pytest.raises(eduxchange.CrosswalkError, match="idDoesNotExist"):
        eduxchange.crosswalk(error)


def test_export_vocabularies_without_format(tmp_path: Path) -> None:
    out = tmp_path / "vocabularies.ttl"
    result = _cli("export", "--vocabularies", "-o", str(out), "-c", str(tmp_path / "none.toml"))
    assert result.exit_code == 0, result.output
    import rdflib

    graph = rdflib.Graph().parse(out, format="turtle")
    assert len(graph) > 100
    assert _cli("export", "--vocabularies", "--format", "ndjson").exit_code == 2


@pytest.fixture(autouse=True)
def _keep_cwd() -> Iterator[None]:
    cwd = os.getcwd()
    yield
    os.chdir(cwd)


