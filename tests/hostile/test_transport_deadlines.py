"""A member that trickles bytes cannot hold a worker: responses and runs are bounded in time.

Issue 9, item 1: the timeout used to bound each socket read, so a member sending one
byte at a time (each within the read timeout) on Identify or ListRecords was waited
for for ever, and four of them took every worker. Now ``timeout`` bounds a whole
response and ``run_timeout`` a member's whole run. Every server here is real, on
loopback; the configured bounds are fractions of a second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.core.config import HarvestSettings
from eduxchange.core.errors import DeadlineExceeded, TransportError
from eduxchange.harvesting.transport import HttpTransport
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker, write_config
from tests.support.faulty import serve_faulty
from tests.support.hostile_transport import serve_hostile_transport, serve_trickling_proxy
from tests.support.lomgen import make_records

ROOT = Path(__file__).resolve().parents[2]
FAST = {"timeout": 0.5, "max_retries": 1, "backoff": 0.05, "max_backoff": 0.1,
        "requests_per_second": 1000}


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickled_response_ends_at_the_timeout(phase: Literal["headers", "body"]) -> None:
    with serve_hostile_transport(records(3)) as server:
        server.trickle(verb="Identify", phase=phase, interval=0.02)
        settings = HarvestSettings(timeout=0.4, max_retries=0, requests_per_second=1000)
        started = time.monotonic()
        with HttpTransport(settings) as transport, pytest.raises(TransportError) as err:
            transport.get(server.url, {"verb": "Identify"})
        elapsed = time.monotonic() - started
        assert 0.35 < elapsed < 2.0
        assert "no complete response within timeout (0.4 s)" in str(err.value)


@pytest.mark.parametrize(("verb", "phase"), [("Identify", "body"), ("Identify", "headers"),
                                             ("ListRecords", "body")])
def test_a_trickling_member_fails_with_a_clear_message(
        make_config: ConfigMaker, verb: str, phase: Literal["headers", "body"]) -> None:
    with serve_hostile_transport(records(5)) as server:
        server.trickle(verb=verb, phase=phase, interval=0.02)
        config = make_config([{"id": "slow", "endpoint": server.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        started = time.monotonic()
        (result,) = eduxchange.harvest(config)
        assert time.monotonic() - started < 5
        assert result.state == "failed"
        assert "no complete response within timeout (0.5 s)" in (result.error or "")
        assert "gave up after 2 attempts" in (result.error or "")
        (status,) = eduxchange.member_statuses(config)
        assert status.state == "failed" and status.error == result.error
        (run,) = eduxchange.harvest_log(config)
        assert run.state == "failed" and run.error == result.error


def test_the_run_timeout_cuts_a_response_and_is_not_retried(make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as server:
        server.trickle(verb="Identify", interval=0.02)
        config = make_config([{"id": "slow", "endpoint": server.url, "metadata_prefix": "lom",
                               "timeout": 30, "run_timeout": 0.6}], harvest=FAST)
        started = time.monotonic()
        (result,) = eduxchange.harvest(config)
        assert time.monotonic() - started < 3
        assert result.state == "failed" and "run_timeout (0.6 s)" in (result.error or "")
        assert result.requests == 1


def test_the_run_timeout_stops_a_long_run_between_pages_and_the_next_run_resumes(
        make_config: ConfigMaker) -> None:
    with serve_faulty(records(40), page_size=2) as server:
        # 5 requests a second: 20 pages take about 4 s, more than run_timeout.
        member = {"id": "big", "endpoint": server.url, "metadata_prefix": "lom",
                  "requests_per_second": 5, "run_timeout": 1.0}
        config = make_config([member], harvest=FAST)
        started = time.monotonic()
        (first,) = eduxchange.harvest(config)
        assert time.monotonic() - started < 3
        assert first.state == "failed" and "run_timeout (1 s)" in (first.error or "")
        assert 0 < first.new < 40
        config = make_config([{**member, "requests_per_second": 1000}], harvest=FAST)
        (second,) = eduxchange.harvest(config)
        assert second.ok and second.mode == "resumed"
        assert first.new + second.new == 40


def test_a_trickling_http_proxy_is_bounded_too(make_config: ConfigMaker,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The member is healthy; the proxy configured in the environment trickles.
    with serve_faulty(records(5)) as server:
        port = int(server.url.split(":")[2].split("/")[0])
        with serve_trickling_proxy(("127.0.0.1", port), interval=0.02) as (host, proxy_port):
            monkeypatch.setenv("HTTP_PROXY", f"http://{host}:{proxy_port}")
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}],
                                 harvest=FAST)
            started = time.monotonic()
            (result,) = eduxchange.harvest(config)
            assert time.monotonic() - started < 5
            assert result.state == "failed"
            assert "no complete response within timeout (0.5 s)" in (result.error or "")
            assert server.verbs[:1] == ["Identify"]  # it did go through the proxy


def test_a_retry_that_would_end_after_the_run_deadline_is_not_waited_for() -> None:
    with serve_faulty(records(3)) as server:
        server.fail_next(5, status=503, retry_after="30")
        settings = HarvestSettings(timeout=5, max_retries=5, requests_per_second=1000)
        with HttpTransport(settings) as transport:
            transport.set_deadline(time.monotonic() + 1.0, 1.0)
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded, match="run's deadline"):
                transport.get(server.url, {"verb": "Identify"})
            assert time.monotonic() - started < 0.5


def test_four_trickling_members_do_not_starve_the_healthy_one(tmp_path: Path) -> None:
    """The alliance case, through the real CLI in a subprocess: exit 1, in bounded time."""
    with ExitStack() as stack:
        slow = [stack.enter_context(serve_hostile_transport(records(3))) for _ in range(4)]
        for server, (verb, phase) in zip(slow, [("Identify", "body"), ("Identify", "headers"),
                                                ("ListRecords", "body"),
                                                ("ListRecords", "headers")]):
            server.trickle(verb=verb, phase=phase, interval=0.02)  # type: ignore[arg-type]
        good = stack.enter_context(serve_faulty(records(12)))
        members = [{"id": f"slow{i}", "endpoint": s.url, "metadata_prefix": "lom"}
                   for i, s in enumerate(slow)]
        members.append({"id": "good", "endpoint": good.url, "metadata_prefix": "lom"})
        config = write_config(tmp_path / "alliance.toml", members,
                              harvest={**FAST, "concurrency": 4})
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c",
                               str(config), "--json"], capture_output=True, timeout=60,
                              cwd=ROOT)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert elapsed < 20
    results = {r["member"]: r for r in json.loads(proc.stdout)["results"]}
    assert results["good"]["state"] == "ok" and results["good"]["new"] == 12
    for i in range(4):
        assert results[f"slow{i}"]["state"] == "failed"
        assert "timeout" in results[f"slow{i}"]["error"]
    status = CliRunner().invoke(main, ["status", "-c", str(config), "--json"])
    states = {m["id"]: (m["state"], m["error"]) for m in json.loads(status.output)["members"]}
    assert states["good"] == ("ok", None)
    assert all(states[f"slow{i}"][0] == "failed" and "timeout" in states[f"slow{i}"][1]
               for i in range(4))
    log = CliRunner().invoke(main, ["log", "-c", str(config), "--json"])
    runs = {r["member"]: r for r in json.loads(log.output)["runs"]}
    assert set(runs) == {"good", "slow0", "slow1", "slow2", "slow3"}
    assert all(runs[f"slow{i}"]["state"] == "failed" for i in range(4))
