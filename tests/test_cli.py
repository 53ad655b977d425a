"""The command line as an operator meets it: exit codes, errors that say what to do, JSON."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

import eduxchange
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

ROOT = Path(__file__).resolve().parents[1]


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("harvest", "status", "quarantine", "log"):
        assert command in result.output
    harvest_help = CliRunner().invoke(main, ["harvest", "--help"]).output
    assert "--full" in harvest_help and "--member" in harvest_help and "Exit 0" in harvest_help


def test_invalid_config_exits_2_naming_file_member_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path / "alliance.toml", [{"id": "x", "endpoint": "nope"}])
    result = CliRunner().invoke(main, ["harvest", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}: members[0] (id 'x'): key 'endpoint'" in result.stderr


def test_missing_config_and_unknown_member_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "-c", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "config file not found" in result.stderr
    config = write_config(tmp_path / "alliance.toml", [{"id": "a", "endpoint": "http://127.0.0.1:9/oai"}])
    result = CliRunner().invoke(main, ["harvest", "-c", str(config), "-m", "b"])
    assert result.exit_code == 2 and "no member with id 'b'; known: a" in result.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["harvest", "--bogus"]).exit_code == 2


def test_status_before_any_harvest_creates_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path / "alliance.toml", [{"id": "a", "endpoint": "http://127.0.0.1:9/oai"}])
    result = CliRunner().invoke(main, ["status", "-c", str(config), "--json"])
    assert result.exit_code == 0
    (member,) = json.loads(result.stdout)["members"]
    assert member["state"] == "never" and member["records"] == 0 and member["last_harvest"] is None
    assert not (tmp_path / "catalog.sqlite").exists()
    table = CliRunner().invoke(main, ["status", "-c", str(config)])
    assert "never" in table.output


def test_quarantine_and_log_commands(tmp_path: Path) -> None:
    recs = records(12)
    recs[2].metadata = recs[2].metadata.replace(b"</string>", b"</strin>", 1)
    with serve_faulty(recs) as server:
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "q", "endpoint": server.url, "metadata_prefix": "lom"}])
        runner = CliRunner()
        assert runner.invoke(main, ["harvest", "-c", str(config), "-q"]).exit_code == 0
        listed = json.loads(runner.invoke(main, ["quarantine", "-c", str(config), "--json",
                                                 "--raw"]).stdout)["quarantine"]
        assert len(listed) == 1 and listed[0]["identifier"] == recs[2].identifier
        assert "</strin>" in listed[0]["raw"]
        text = runner.invoke(main, ["quarantine", "-c", str(config)]).output
        assert recs[2].identifier in text and "unreadable record" in text
        runs = json.loads(runner.invoke(main, ["log", "-c", str(config), "--json"]).stdout)["runs"]
        assert runs[0]["state"] == "ok" and runs[0]["new"] == 11 and runs[0]["quarantined"] == 1


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_a_killed_harvest_resumes_with_nothing_lost_or_doubled(tmp_path: Path) -> None:
    with serve_faulty(records(600), page_size=50) as server:
        server.delay_next(100, 0.15, verb="ListRecords")  # slow enough to be killed mid-list
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "k", "endpoint": server.url, "metadata_prefix": "lom"}])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c",
                                 str(config), "-q"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        db = tmp_path / "catalog.sqlite"
        deadline = time.monotonic() + 30
        while _stored(db) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed = _stored(db)
        assert 150 <= committed < 600

        server.heal()
        config_obj = eduxchange.load_config(config)
        (result,) = eduxchange.harvest(config_obj)
        assert result.ok and result.mode == "resumed", result
        assert result.new == 600 - committed and result.unchanged == 0
        assert _stored(db) == 600
        with eduxchange.open_store(config_obj) as store:
            (killed, resumed) = store.runs("k")[::-1][:2]
        assert killed.state == "interrupted" and resumed.state == "ok"
