"""Harvest workers that are frozen, interrupted or told to reload, as real processes (issue 12).

* A worker frozen (``SIGSTOP``) between its lease check and its page commit, past its lease:
  another worker takes the member over and finishes it; continued, the frozen one must write
  nothing (the store's fence on the commit, ``LeaseFence``).
* ``SIGINT`` to ``eduxchange worker`` mid-member: it stops before its next page, releases the
  lease unfinished and exits 130; another worker takes the member at once (long before the
  lease's time to live) and resumes from the last committed page.
* ``SIGHUP``: the worker reads its config again (a bad one is logged and the old one kept).

Against real loopback OAI-PMH members, on both backends where the store matters.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import eduxchange
from eduxchange.schedule import take_due
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records
from tests.test_workers import START, MINUTE, _config, _log_events, stores  # noqa: F401

CLI = [sys.executable, "-m", "eduxchange_cli.main"]
ROOT = Path(__file__).resolve().parent.parent


def _state(config: eduxchange.Config, member: str) -> dict[str, Any]:
    """What must not change behind a worker's back: the member's records (identifier, seq,
    deleted, datestamp), its state, and the head of the change sequence."""
    with eduxchange.open_store(config) as store:
        records = sorted((r.identifier, r.seq, r.deleted, r.datestamp)
                         for r in store.iter_records(member))
        head = max((r.seq for r in store.iter_records()), default=0)
        state = store.member_state(member)
    return {"records": records, "head": head, "resume": state.resume, "state": state.state,
            "next_from": state.next_from}


def _wait_stopped(process: subprocess.Popen[Any], timeout: float) -> None:
    """Until ``process`` is stopped by a signal (``waitpid`` with ``WUNTRACED``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status = os.waitpid(process.pid, os.WNOHANG | os.WUNTRACED)
        if pid == process.pid:
            assert os.WIFSTOPPED(status), f"the worker ended instead (status {status})"
            return
        time.sleep(0.02)
    raise AssertionError("the worker never froze itself")


def _until(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, why
        time.sleep(0.05)


def test_a_worker_frozen_past_its_lease_writes_nothing_once_taken_over(
        tmp_path: Path, stores: Callable[[], str | None]) -> None:
    pages, size, ttl = 12, 5, 2.0
    with serve_faulty(make_records(pages * size, start=START, step=MINUTE),
                      page_size=size) as server:
        config = _config(tmp_path, {"m": server.url}, stores(), concurrency=1)
        assert config.path is not None
        # Frozen after the check of page 3 passed, before page 3's commit (pages 1-2 stored).
        frozen = subprocess.Popen(
            [sys.executable, "-m", "tests.support.frozen_worker", str(config.path), "3",
             str(ttl)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_stopped(frozen, 60)
            at_freeze = _state(config, "m")
            assert len(at_freeze["records"]) == 2 * size
            with eduxchange.open_store(config) as store:
                _until(lambda: not next(le for le in store.leases() if le.name == "m").live,
                       30, "the frozen worker's lease never expired")
            taker = subprocess.run(
                [*CLI, "worker", "--once", "-c", str(config.path), "--lease-ttl", "30",
                 "--no-normalize", "--json"], capture_output=True, text=True, timeout=120)
            assert taker.returncode == 0, taker.stderr
            (result,) = json.loads(taker.stdout)["results"]
            assert result["state"] == "ok" and result["mode"] == "resumed"
            assert result["new"] == (pages - 2) * size  # resumed after the frozen one's pages
            after_takeover = _state(config, "m")
            os.kill(frozen.pid, signal.SIGCONT)
            out, err = frozen.communicate(timeout=60)
        finally:
            if frozen.poll() is None:
                os.kill(frozen.pid, signal.SIGCONT)
                frozen.kill()
                frozen.wait()
    assert frozen.returncode == 0, err
    assert json.loads(out) == []  # it reports nothing: the member is its successor's
    # Continued, it wrote nothing: no record, no sequence number, no state.
    assert _state(config, "m") == after_takeover
    records = after_takeover["records"]
    assert [r[0] for r in records] == sorted({r[0] for r in records})  # none twice
    assert len(records) == pages * size and len({r[1] for r in records}) == pages * size
    assert after_takeover["state"] == "ok" and after_takeover["resume"] is None
    with eduxchange.open_store(config) as store:
        runs = store.runs("m")
    # The frozen run ended on the commit's fence (its check had passed before it froze).
    frozen_run = runs[-1]
    assert frozen_run.state == "failed" and "no longer holds its lease" in (frozen_run.error or "")
    assert runs[0].state == "ok"


def test_an_interrupted_worker_releases_its_member_for_another_at_once(
        tmp_path: Path, stores: Callable[[], str | None]) -> None:
    pages, size, ttl = 20, 5, 120.0
    with serve_faulty(make_records(pages * size, start=START, step=MINUTE),
                      page_size=size) as server:
        server.delay_next(10_000, 0.25, verb="ListRecords")
        config = _config(tmp_path, {"m": server.url}, stores(), concurrency=1, every="1h")
        assert config.path is not None
        log = tmp_path / "worker.log"
        with log.open("w") as err:
            worker = subprocess.Popen(
                [*CLI, "worker", "-c", str(config.path), "--log-format", "json",
                 "--lease-ttl", str(ttl)], stdout=subprocess.DEVNULL, stderr=err)
        try:
            with eduxchange.open_store(config) as store:
                _until(lambda: store.counts("m")["records"] >= 3 * size, 60,
                       f"the worker never got going: {log.read_text()}")
            interrupted_at = time.monotonic()
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=30)
            stopped_in = time.monotonic() - interrupted_at
            at_stop = _state(config, "m")
            with eduxchange.open_store(config) as store:
                lease = next(le for le in store.leases() if le.name == "m")
                # A continuous worker would take it now too (a stop is no failure to retry).
                due = [m.id for m in take_due(config, store).members]
            # Another worker takes the member at once: no waiting for the lease to expire.
            taker = subprocess.run(
                [*CLI, "worker", "--once", "-c", str(config.path), "--lease-ttl", str(ttl),
                 "--json"], capture_output=True, text=True, timeout=120)
            taken_in = time.monotonic() - interrupted_at
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert worker.returncode == 130, log.read_text()
    assert stopped_in < 10, stopped_in
    assert lease.worker_id is None and not lease.live  # released...
    assert lease.finished_at is None  # ...not finished: the member was not done
    assert due == ["m"]
    stored = len(at_stop["records"])
    assert 3 * size <= stored < pages * size and at_stop["resume"] is not None
    assert at_stop["state"] != "failed"  # stopped, not failed: the resume point stands
    assert taker.returncode == 0, taker.stderr
    (result,) = json.loads(taker.stdout)["results"]
    assert result["state"] == "ok" and result["mode"] == "resumed"
    assert result["new"] == pages * size - stored  # from the last committed page, none again
    assert taken_in < ttl / 2, taken_in
    done = _state(config, "m")
    assert len(done["records"]) == pages * size
    assert len({r[1] for r in done["records"]}) == pages * size
    assert set(at_stop["records"]) <= set(done["records"])  # what it stored stays as it was
    events = [e.get("event") for e in _log_events(log)]
    assert "stopping" in events and events[-1] == "stop"
    with eduxchange.open_store(config) as store:
        assert [r.state for r in store.runs("m")] == ["ok", "interrupted"]
        assert store.resource_counts()["resources"] == pages * size


def test_a_second_signal_abandons_a_harvest_stuck_in_a_request(tmp_path: Path) -> None:
    size = 5
    with serve_faulty(make_records(10 * size, start=START, step=MINUTE),
                      page_size=size) as server:
        server.delay_next(3, 0.1, verb="ListRecords")
        server.delay_next(1, 120, verb="ListRecords")  # page 4 hangs
        config = _config(tmp_path, {"m": server.url}, concurrency=1)
        assert config.path is not None
        log = tmp_path / "worker.log"
        with log.open("w") as err:
            worker = subprocess.Popen(
                [*CLI, "worker", "-c", str(config.path), "--log-format", "json",
                 "--lease-ttl", "120"], stdout=subprocess.DEVNULL, stderr=err)
        try:
            with eduxchange.open_store(config) as store:
                _until(lambda: store.counts("m")["records"] >= 3 * size, 60,
                       f"the worker never got going: {log.read_text()}")
                worker.send_signal(signal.SIGTERM)
                time.sleep(0.5)
                assert worker.poll() is None  # waiting for page 4 (up to its grace)
                again = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
                abandoned_in = time.monotonic() - again
                lease = next(le for le in store.leases() if le.name == "m")
                stored = store.counts("m")["records"]
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert worker.returncode == 143, log.read_text()
    assert abandoned_in < 5, abandoned_in
    assert lease.worker_id is None and lease.finished_at is None  # released, unfinished
    assert stored == 3 * size
    events = [e.get("event") for e in _log_events(log)]
    assert "abort" in events and "abandon" in events


def test_hup_reloads_the_worker_s_config_and_keeps_it_when_bad(tmp_path: Path) -> None:
    with serve_faulty(make_records(10, start=START, step=MINUTE), page_size=5) as first, \
            serve_faulty(make_records(10, start=START, step=MINUTE, first=500),
                         page_size=5) as second:
        config = _config(tmp_path, {"a": first.url}, every="1h")
        assert config.path is not None
        good = config.path.read_text("utf-8")
        log = tmp_path / "worker.log"
        with log.open("w") as err:
            worker = subprocess.Popen(
                [*CLI, "worker", "-c", str(config.path), "--log-format", "json",
                 "--lease-ttl", "5"], stdout=subprocess.DEVNULL, stderr=err)

        def seen(event: str, **fields: object) -> list[dict[str, object]]:
            return [e for e in _log_events(log) if e.get("event") == event
                    and all(e.get(k) == v for k, v in fields.items())]

        try:
            _until(lambda: bool(seen("result", member="a")) and bool(seen("sleep")), 60,
                   f"no first pass: {log.read_text()}")
            config.path.write_text(good + "\n[[members]\nthis is not TOML\n", "utf-8")
            worker.send_signal(signal.SIGHUP)
            _until(lambda: bool(seen("reload-failed")), 30, f"no reload: {log.read_text()}")
            assert worker.poll() is None  # a bad config does not end it
            (failed,) = seen("reload-failed")
            assert "not valid TOML" in str(failed["error"])
            _config(tmp_path, {"a": first.url, "b": second.url}, every="1h")
            worker.send_signal(signal.SIGHUP)
            _until(lambda: bool(seen("result", member="b")), 60,
                   f"the added member was not harvested: {log.read_text()}")
            (reloaded,) = seen("reload")
            assert reloaded["added"] == ["b"] and reloaded["removed"] == []
            assert len(seen("result", member="a")) == 1  # its schedule still holds
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert worker.returncode == 143, log.read_text()
    with eduxchange.open_store(config) as store:
        assert store.counts("b")["records"] == 10
