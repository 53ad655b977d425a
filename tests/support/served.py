"""A harvested catalogue and `eduxchange serve` / `eduxchange worker` as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

import eduxchange
from tests.conftest import write_config
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member

__all__ = ["ADMIN_EMAIL", "PAGE_SIZE", "N_RECORDS", "catalogue", "eduxchange_command",
           "ServerProcess", "serve_process", "log_lines"]

ADMIN_EMAIL = "oai-team@catalog.example.org"
PAGE_SIZE = 5
N_RECORDS = 24  # five OAI-PMH pages of five
REPO = Path(__file__).resolve().parents[2]


def catalogue(tmp: Path, *, n: int = N_RECORDS, members: int = 1) -> Path:
    """Harvest ``members`` loopback members of ``n`` records each into a catalogue in ``tmp``;
    returns its config path (the members are stopped: serving needs only the catalogue)."""
    records = make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
    with contextlib_members(records, members) as urls:
        path = write_config(tmp / "alliance.toml",
                            [{"id": f"m{i}", "endpoint": url} for i, url in enumerate(urls)],
                            feed={"admin_email": ADMIN_EMAIL, "page_size": PAGE_SIZE})
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
    return path


@contextmanager
def contextlib_members(records: list[Any], count: int) -> Iterator[list[str]]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(serve_pyoai_member(records)).url for _ in range(count)]


def eduxchange_command() -> list[str]:
    """How to run the CLI in a child process (the script next to this Python, else -m)."""
    script = Path(sys.executable).with_name("eduxchange")
    return [str(script)] if script.exists() else [sys.executable, "-m", "eduxchange_cli.main"]


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str
    stderr: Path

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path.lstrip("/"), timeout=kw.pop("timeout", 10), **kw)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def log_lines(text: str) -> list[dict[str, Any]]:
    """The JSON lines of a log (other lines skipped)."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


@contextmanager
def serve_process(config: Path, *args: str, tmp: Path, name: str = "serve"
                  ) -> Iterator[ServerProcess]:
    """``eduxchange serve -c CONFIG --port 0 ARGS`` until its URL is printed; stopped (TERM,
    then KILL) on exit."""
    err = tmp / f"{name}-{time.monotonic_ns()}.log"
    with err.open("w") as err_file:
        process = subprocess.Popen([*eduxchange_command(), "serve", "-c", str(config),
                                    "--port", "0", *args],
                                   stdout=subprocess.PIPE, stderr=err_file, text=True, cwd=REPO,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("eduxchange serving"), (first, err.read_text())
        url = first.rsplit(" ", 1)[1].strip()
        server = ServerProcess(process, url, err)
        _wait_ready(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        process.communicate(timeout=10)


def _wait_ready(server: ServerProcess, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if server.get("health/live", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not answer:\n{server.log()}")
        time.sleep(0.1)


def pids(server: ServerProcess, n: int = 20) -> set[int]:
    """The worker pids that answer ``n`` fresh connections."""
    return {int(server.get("health/live").json()["pid"]) for _ in range(n)}


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def run(args: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*eduxchange_command(), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=kw.pop("timeout", 120), **kw)
