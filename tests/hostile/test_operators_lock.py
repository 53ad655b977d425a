"""One harvest per store at a time: a second `eduxchange harvest` of the same store while the
first is harvesting exits 3 naming the holder, contacts no member, and a lock left by a
killed harvest is taken over. Real processes, a slow member on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import eduxchange
from eduxchange.core.errors import StoreLocked
from eduxchange.store.lock import lock_path
from eduxchange_cli.main import EXIT_BUSY, main
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _records(n: int) -> list[Any]:
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


def _harvest_process(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c",
                             str(config), "-q"], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _holder(lock: Path, proc: subprocess.Popen[bytes], timeout: float = 30) -> dict[str, Any]:
    """Wait until ``proc`` holds the lock (its details are in the file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            details = json.loads(lock.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            details = {}
        if details.get("pid") == proc.pid:
            return details
        time.sleep(0.02)
    raise AssertionError("the first harvest never took the lock")


def _slow_member(server: Any, config_dir: Path) -> Path:
    # 20 pages, each answered after 0.5 s: the first harvest takes 10 s unless healed.
    server.delay_next(20, 0.5, verb="ListRecords")
    return write_config(config_dir / "alliance.toml",
                        [{"id": "slow", "endpoint": server.url, "metadata_prefix": "lom"}])


def test_a_second_harvest_exits_3_naming_the_holder_and_contacts_no_member(tmp_path: Path
                                                                           ) -> None:
    with serve_faulty(_records(100), page_size=5) as server:
        config = _slow_member(server, tmp_path)
        first = _harvest_process(config)
        try:
            holder = _holder(lock_path(tmp_path / "catalog.sqlite"), first)
            second = subprocess.run([sys.executable, "-m", "eduxchange_cli.main", "harvest",
                                     "-c", str(config), "-q"], env=ENV, capture_output=True,
                                    timeout=60)
            assert second.returncode == EXIT_BUSY == 3, second.stderr
            message = second.stderr.decode()
            assert f"pid {first.pid}" in message and str(holder["started_at"]) in message
            assert "already running" in message and "Traceback" not in message
            server.heal()  # let the first finish quickly
            out, err = first.communicate(timeout=60)
            # Released at the end: the file is emptied and the next harvest runs.
            again = CliRunner().invoke(main, ["harvest", "-c", str(config), "-q"])
            assert again.exit_code == 0, again.output
            assert lock_path(tmp_path / "catalog.sqlite").read_text(encoding="utf-8") == ""
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
    assert first.returncode == 0, err.decode()
    # Refused before any member was contacted: the runs are the first's and the third's.
    assert server.verbs.count("Identify") == 2
    loaded = eduxchange.load_config(config)
    with eduxchange.open_store(loaded) as store:
        third, first_run = store.runs("slow")
    assert first_run.state == "ok" and first_run.counts["new"] == 100
    assert third.state == "ok" and third.mode == "incremental"


def test_a_lock_left_by_a_killed_harvest_is_taken_over(tmp_path: Path) -> None:
    with serve_faulty(_records(100), page_size=5) as server:
        config = _slow_member(server, tmp_path)
        lock = lock_path(tmp_path / "catalog.sqlite")
        first = _harvest_process(config)
        try:
            _holder(lock, first)
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        assert str(first.pid) in lock.read_text(encoding="utf-8")  # its details stay behind
        server.heal()
        result = CliRunner().invoke(main, ["harvest", "-c", str(config), "-q", "--json"])
    assert result.exit_code == 0, result.output
    (outcome,) = json.loads(result.stdout)["results"]
    assert outcome["state"] == "ok"
    loaded = eduxchange.load_config(config)
    with eduxchange.open_store(loaded) as store:
        states = [r.state for r in store.runs("slow")][::-1]
    assert states[-1] == "ok" and states[:-1] in ([], ["interrupted"])


def test_while_the_lock_is_held_the_library_refuses_before_any_request(tmp_path: Path) -> None:
    with serve_faulty(_records(3)) as server:
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        loaded = eduxchange.load_config(config)
        with eduxchange.open_store(loaded) as holder, holder.harvest_lock():
            try:
                eduxchange.harvest(loaded)
            except StoreLocked as err:
                assert err.holder["pid"] == os.getpid() and "started_at" in err.holder
            else:
                raise AssertionError("a second harvest ran while the lock was held")
            result = CliRunner().invoke(main, ["harvest", "-c", str(config), "-q"])
            assert result.exit_code == 3 and f"pid {os.getpid()}" in result.stderr
        assert server.request_count == 0
        assert eduxchange.harvest(loaded)[0].ok  # released at the end of the block
