"""Operations: /health, /metrics and JSON log lines of the server; member schedules,
`eduxchange worker` and `harvest --due` (real processes and servers over loopback)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

import eduxchange
from eduxchange.core.config import parse_duration
from eduxchange.core.errors import ConfigError
from eduxchange.publish.ops import observed, route_of
from eduxchange.publish.server import make_app, make_server
from eduxchange.schedule import RETRY_AFTER, due_now, next_due
from eduxchange.store.base import RunStats
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.served import N_RECORDS, REPO, catalogue, eduxchange_command, log_lines


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return catalogue(tmp_path_factory.mktemp("ops"))


class _Served:
    def __init__(self, config_path: Path, *, log_format: str = "text") -> None:
        self.config = eduxchange.load_config(config_path)
        self.store = ReadOnlySQLiteStore(self.config.catalog.store)
        self.log = io.StringIO()
        app = observed(make_app(self.config, self.store), self.config, self.store,
                       access_log=self.log, log_format=log_format)
        self.server = make_server(app, "127.0.0.1", 0, quiet=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.store.close()


@pytest.fixture
def served(config_path: Path) -> Iterator[_Served]:
    s = _Served(config_path, log_format="json")
    yield s
    s.close()


def test_health_says_ready_with_each_members_last_success(served: _Served) -> None:
    response = served.get("health")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok" and body["ready"] is True
    assert body["store"] == {"reachable": True, "records": N_RECORDS, "deleted": 0}
    (member,) = body["members"]
    assert member["id"] == "m0" and member["runs"] == 1 and member["failed"] == 0
    assert member["last_success"] and 0 <= member["age_seconds"] < 3600
    assert member["every_seconds"] == 86400 and member["overdue"] is False
    assert served.get("health/live").json()["live"] is True


def test_health_is_503_when_the_store_does_not_answer(config_path: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "alliance.toml"
    shutil.copy(config_path, copy)
    shutil.copy(config_path.parent / "catalog.sqlite", tmp_path / "catalog.sqlite")
    s = _Served(copy)
    try:
        s.store.close()  # the server's threads open their connections anew: to this
        (tmp_path / "catalog.sqlite").write_bytes(b"not a database" * 100)
        response = s.get("health")
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False and body["store"]["reachable"] is False
        assert body["store"]["error"]
        assert s.get("health/live").status_code == 200  # alive all the same
        metrics = s.get("metrics").text
        assert "eduxchange_store_up 0.0" in metrics
    finally:
        s.server.shutdown()
        s.server.server_close()
        s.thread.join()


def _samples(text: str) -> list[Any]:
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def test_metrics_count_requests_by_route_and_status(served: _Served) -> None:
    uuid = "00000000-0000-0000-0000-000000000000"
    for path in ["oai?verb=Identify", "oai?verb=Identify", f"resources/{uuid}", "changes",
                 "changes/page/0", "nowhere"]:
        served.get(path)
    assert requests.post(served.url + "health", timeout=10).status_code == 405
    response = served.get("metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for s in _samples(response.text)}
    def count(route: str, status: str, method: str = "GET") -> float:
        return samples.get(("eduxchange_http_requests_total",
                            (("method", method), ("route", route), ("status", status))), 0)
    assert count("/oai", "200") == 2
    assert count("/resources/{uuid}", "404") == 1  # ids never become labels
    assert count("/changes/page/{n}", "200") == 1 and count("other", "404") == 1
    assert count("/health", "405", "POST") == 1
    assert samples[("eduxchange_http_request_duration_seconds_count", (("route", "/oai"),))] == 2
    assert samples[("eduxchange_catalogue_records", (("state", "live"),))] == N_RECORDS
    assert samples[("eduxchange_harvest_runs_total", (("member", "m0"),))] == 1
    assert samples[("eduxchange_store_up", ())] == 1


def test_access_log_lines_are_json_when_asked(served: _Served) -> None:
    served.get("oai?verb=Identify")
    served.get("changes")
    lines = log_lines(served.log.getvalue())
    assert len(lines) == 2 == len(served.log.getvalue().splitlines())
    first = lines[0]
    assert first["logger"] == "eduxchange.access" and first["level"] == "info"
    assert first["path"] == "/oai" and first["query"] == "verb=Identify"
    assert first["status"] == 200 and first["route"] == "/oai" and first["bytes"] > 0
    assert first["duration_ms"] >= 0 and first["time"].endswith("Z")


def test_access_log_is_common_log_format_by_default(config_path: Path) -> None:
    s = _Served(config_path)
    try:
        s.get("changes")
    finally:
        s.close()
    assert '"GET /changes HTTP/1.1" 200' in s.log.getvalue()


def test_route_templates() -> None:
    assert route_of("/resources/abc") == "/resources/{uuid}"
    assert route_of("/members/x") == "/members/{id}"
    assert route_of("/vocabularies/") == "/vocabularies/"
    assert route_of("/a/b/c") == "other"


# -- schedules -------------------------------------------------------------------------


def test_durations() -> None:
    assert parse_duration("6h") == 21600 and parse_duration("1d12h") == 129600
    assert parse_duration("90s") == 90 and parse_duration("1.5h") == 5400
    for bad in ["6", "", "h", "6x", "6h x"]:
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


@pytest.mark.parametrize(("where", "value", "message"), [
    ("member", 6, "must be a duration string"),
    ("member", "6", "not a duration"),
    ("member", "30s", "at least 1m"),
    ("harvest", "soon", "not a duration"),
])
def test_schedule_config_errors_name_the_key(tmp_path: Path, where: str, value: Any,
                                             message: str) -> None:
    member = {"id": "a", "endpoint": "http://127.0.0.1:1/oai"}
    harvest = {}
    if where == "member":
        member["every"] = value
    else:
        harvest["every"] = value
    path = write_config(tmp_path / "alliance.toml", [member], harvest)
    with pytest.raises(ConfigError, match=message) as caught:
        eduxchange.load_config(path)
    assert "'every'" in str(caught.value)


def test_member_schedule_overrides_the_default(tmp_path: Path) -> None:
    path = write_config(tmp_path / "alliance.toml",
                        [{"id": "a", "endpoint": "http://127.0.0.1:1/oai", "every": "30m"},
                         {"id": "b", "endpoint": "http://127.0.0.1:1/oai"}], {"every": "6h"})
    config = eduxchange.load_config(path)
    assert [m.settings.every for m in config.members] == [1800, 21600]


def test_which_members_are_due(tmp_path: Path) -> None:
    path = write_config(tmp_path / "alliance.toml",
                        [{"id": i, "endpoint": "http://127.0.0.1:1/oai", "every": "6h"}
                         for i in ("new", "fresh", "stale", "failing", "recovered")])
    config = eduxchange.load_config(path)
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)

    def iso(hours_ago: float) -> str:
        return (now - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    stats = {
        "fresh": RunStats(member_id="fresh", runs=1, last_success=iso(1), last_finished=iso(1)),
        "stale": RunStats(member_id="stale", runs=1, last_success=iso(7), last_finished=iso(7)),
        # failed 5 minutes ago: retried after RETRY_AFTER (15 min), not at every pass
        "failing": RunStats(member_id="failing", runs=2, failed=1, last_success=iso(8),
                            last_finished=iso(5 / 60)),
        "recovered": RunStats(member_id="recovered", runs=3, failed=1, last_success=iso(6.5),
                              last_finished=iso(6.5)),
    }
    plan = due_now(config, stats, now=now)
    assert [m.id for m in plan.members] == ["new", "stale", "recovered"]
    failing = next_due(config.member("failing"), stats["failing"], now=now)
    assert failing == now - timedelta(minutes=5) + timedelta(seconds=RETRY_AFTER)
    assert plan.next_at == failing  # before "fresh" (due in 5 hours)


# -- harvest --due and the worker, against loopback members --------------------------------


@pytest.fixture
def members() -> Iterator[list[str]]:
    records = make_records(12, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
    with serve_pyoai_member(records) as a, serve_pyoai_member(records[:6]) as b:
        yield [a.url, b.url]


def _alliance(tmp_path: Path, urls: list[str]) -> Path:
    return write_config(tmp_path / "alliance.toml",
                        [{"id": "a", "endpoint": urls[0], "every": "1h"},
                         {"id": "b", "endpoint": urls[1], "every": "2h"}])


def test_harvest_due_harvests_only_what_is_due(tmp_path: Path, members: list[str]) -> None:
    path = _alliance(tmp_path, members)
    runner = CliRunner()
    first = runner.invoke(main, ["harvest", "-c", str(path), "--due", "--json"])
    assert first.exit_code == 0, first.output
    assert [r["member"] for r in json.loads(first.stdout)["results"]] == ["a", "b"]
    again = runner.invoke(main, ["harvest", "-c", str(path), "--due", "--json"])
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout)
    assert body["results"] == [] and body["next_due"]  # a's, in an hour
    assert datetime.fromisoformat(body["next_due"]) > datetime.now(UTC) + timedelta(minutes=55)
    text = runner.invoke(main, ["harvest", "-c", str(path), "--due"])
    assert text.exit_code == 0 and "No member is due" in text.stderr


def test_harvest_log_format_json(tmp_path: Path, members: list[str]) -> None:
    path = _alliance(tmp_path, members)
    result = CliRunner().invoke(main, ["harvest", "-c", str(path), "--log-format", "json"])
    assert result.exit_code == 0, result.output
    lines = log_lines(result.stderr)
    assert lines and len(lines) == len(result.stderr.splitlines())
    done = [e for e in lines if e.get("event") == "result"]
    assert {e["member"] for e in done} == {"a", "b"} and all(e["state"] == "ok" for e in done)
    assert any(e.get("event") == "page" for e in lines)
    assert result.stdout == ""  # the result lines replace the table


def test_worker_harvests_what_is_due_then_sleeps_and_stops_on_term(
        tmp_path: Path, members: list[str]) -> None:
    path = _alliance(tmp_path, members)
    err = tmp_path / "worker.log"
    with err.open("w") as err_file:
        process = subprocess.Popen([*eduxchange_command(), "worker", "-c", str(path),
                                    "--log-format", "json"], stdout=subprocess.PIPE,
                                   stderr=err_file, text=True, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not any(e.get("event") == "sleep" for e in log_lines(err.read_text())):
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
    assert process.returncode == 143, err.read_text()  # 128 + TERM, as a shell reports it
    events = log_lines(err.read_text())
    results = {e["member"]: e for e in events if e.get("event") == "result"}
    assert set(results) == {"a", "b"} and all(r["state"] == "ok" for r in results.values())
    assert results["a"]["normalization"]["created"] == 12  # normalized, not only harvested
    sleep = next(e for e in events if e.get("event") == "sleep")
    assert 1 <= sleep["seconds"] <= 300  # the next one is an hour away: checked again later
    assert [e["event"] for e in events][-2:] == ["stopping", "stop"]
    with eduxchange.open_store(eduxchange.load_config(path)) as store:
        assert {m: s.runs for m, s in store.run_stats().items()} == {"a": 1, "b": 1}


def test_worker_with_nothing_to_harvest_is_a_usage_error(tmp_path: Path) -> None:
    path = write_config(tmp_path / "alliance.toml", [])
    result = CliRunner().invoke(main, ["worker", "-c", str(path)])
    assert result.exit_code == 2 and "no [[members]]" in result.stderr

