"""Operators see what went wrong: every attempt is a run in the log, and the warnings runs
met (an unknown set, repaired XML, anything a member did) are shown by `log --events`,
`events` and `status`, over real members on loopback and the real command."""

from __future__ import annotations

import json
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.core.models import Issue
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

#: One attempt, no backoff: a member that fails, fails at once.
ONCE = {"max_retries": 0, "timeout": 2}


def _records(n: int, sets: list[str] | None = None) -> list[Any]:
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1), sets=sets)


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def _json(*args: str) -> Any:
    result = _cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: connections are refused


@pytest.mark.parametrize("fault", ["http-500", "garbage", "refused"])
def test_a_member_that_fails_at_identify_is_a_failed_run_in_the_log(tmp_path: Path,
                                                                     fault: str) -> None:
    with serve_faulty(_records(3)) as server:
        endpoint = server.url
        if fault == "http-500":
            server.fail_next(5, status=500, body=b"boom", verb="Identify")
        elif fault == "garbage":
            server.body_next(b"\x00\x01 this is not XML", n=5, verb="Identify")
        else:
            endpoint = f"http://127.0.0.1:{_closed_port()}/oai"
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "early", "endpoint": endpoint, **ONCE}])
        harvest = _cli("harvest", "-c", str(config), "-q")
        assert harvest.exit_code == 1, harvest.output
        (run,) = _json("log", "-c", str(config))["runs"]
    assert run["member"] == "early" and run["state"] == "failed"
    assert run["error"] and run["started_at"] <= run["finished_at"]
    # The table says it too, and the run's error is among its events.
    assert "early" in _cli("log", "-c", str(config)).stdout
    (event,) = _json("events", "-c", str(config), "--run", str(run["id"]))["events"]
    assert event["severity"] == "error" and event["code"] == "harvest-failed"
    assert event["run"] == run["id"]
    status = _json("status", "-c", str(config))["members"][0]
    assert status["state"] == "failed" and status["error"] == run["error"]


def test_every_attempt_is_a_run_and_a_later_success_follows_the_failure(tmp_path: Path) -> None:
    with serve_faulty(_records(5)) as server:
        server.fail_next(1, status=500, verb="Identify")
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "m", "endpoint": server.url, "metadata_prefix": "lom",
                                **ONCE}])
        assert _cli("harvest", "-c", str(config), "-q").exit_code == 1
        assert _cli("harvest", "-c", str(config), "-q").exit_code == 0
        runs = _json("log", "-c", str(config))["runs"]
    assert [(r["state"], r["mode"]) for r in runs] == [("ok", "full"), ("failed", "incremental")]
    assert runs[0]["new"] == 5 and runs[0]["id"] > runs[1]["id"]


def _warned_harvest(tmp_path: Path, server: Any, sets: list[str]) -> Path:
    config = write_config(tmp_path / "alliance.toml",
                          [{"id": "w", "endpoint": server.url, "metadata_prefix": "lom",
                            "sets": sets}])
    result = _cli("harvest", "-c", str(config), "-q")
    assert result.exit_code == 0, result.output
    return config


def test_warnings_of_a_run_are_in_log_events_and_status(tmp_path: Path) -> None:
    recs = _records(6, sets=["math"])
    recs[1].metadata = recs[1].metadata.replace(b"</string>", b"\x01</string>", 1)
    with serve_faulty(recs) as server:
        config = _warned_harvest(tmp_path, server, ["math", "no-such-set"])
    (run,) = _json("log", "-c", str(config), "--events")["runs"]
    codes = {e["code"] for e in run["events"]}
    assert {"unknown-set", "repaired-xml"} <= codes, run["events"]
    assert run["warnings"] == len([e for e in run["events"] if e["severity"] == "warning"]) >= 2
    assert all(e["run"] == run["id"] and e["member"] == "w" for e in run["events"])

    text = _cli("log", "-c", str(config), "--events").stdout
    assert "no-such-set" in text and "control characters removed" in text

    events = _json("events", "-c", str(config), "-m", "w")["events"]
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert {"unknown-set", "repaired-xml"} <= {e["code"] for e in events}

    (member,) = _json("status", "-c", str(config))["members"]
    assert member["warnings"] == run["warnings"]
    assert member["last_warning"]["id"] == max(e["id"] for e in events)
    assert member["last_warning"]["message"] in _cli("status", "-c", str(config)).stdout


def test_status_counts_the_last_run_only(tmp_path: Path) -> None:
    with serve_faulty(_records(4, sets=["math"])) as server:
        config = _warned_harvest(tmp_path, server, ["math", "gone"])
        assert _json("status", "-c", str(config))["members"][0]["warnings"] == 1
        config = _warned_harvest(tmp_path, server, ["math"])  # the operator fixed the config
        (member,) = _json("status", "-c", str(config))["members"]
    assert member["warnings"] == 0 and member["last_warning"] is None
    # The history stays: the first run's warning is still listed.
    assert [e["code"] for e in _json("events", "-c", str(config))["events"]] == ["unknown-set"]


def test_any_stored_issue_is_shown_not_only_known_codes(tmp_path: Path) -> None:
    with serve_faulty(_records(2)) as server:
        config = _warned_harvest(tmp_path, server, [])
    loaded = eduxchange.load_config(config)
    with eduxchange.open_store(loaded) as store:
        (run,) = store.runs("w")
        store.log_issues(run.id, "w", [
            Issue(code="brand-new-kind", message="something [/b] no one [bold]planned for",
                  identifier="oai:x:1"),
            Issue(code="a-note", message="only a note", severity="info")])
    (event,) = _json("events", "-c", str(config))["events"]
    assert (event["code"], event["identifier"]) == ("brand-new-kind", "oai:x:1")
    infos = _json("events", "-c", str(config), "--severity", "info")["events"]
    assert [e["code"] for e in infos] == ["a-note", "brand-new-kind"]
    # Printed as stored: a member's brackets are not taken for markup.
    assert "something [/b] no one [bold]planned for" in _cli("status", "-c", str(config)).stdout
    for command in (["events"], ["log", "--events"]):
        shown = _cli(*command, "-c", str(config))
        assert shown.exit_code == 0 and "[/b] no one [bold]planned" in shown.stdout, shown.output
    assert _cli("events", "-c", str(config), "-m", "nobody").exit_code == 2


def test_status_fits_80_columns(tmp_path: Path) -> None:
    recs = _records(3, sets=["math"])
    with serve_faulty(recs) as server:
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "a-rather-long-member-id", "name": "A member with a long name " * 3,
             "endpoint": server.url, "metadata_prefix": "lom", "sets": ["math", "missing"]},
            {"id": "down", "endpoint": f"http://127.0.0.1:{_closed_port()}/oai", **ONCE}])
        assert _cli("harvest", "-c", str(config), "-q").exit_code == 1
    # A terminal 80 columns wide (rich reads these when it draws for a terminal).
    result = _cli("status", "-c", str(config), env={"FORCE_COLOR": "1", "COLUMNS": "80"})
    assert result.exit_code == 0
    visible = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert "a-rather-long-member-id" in visible.replace("\n", "")
    assert "'missing'" in visible and "down: http://127.0.0.1" in visible
    assert max(len(line) for line in visible.splitlines()) <= 80, visible
