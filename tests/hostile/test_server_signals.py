"""`serve` stops gracefully on SIGINT and SIGTERM alike, even when started with SIGINT ignored
(as a shell starts background jobs), and does not wait for idle or slow connections
(issue 9, item 16). Real processes; every one is waited for."""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.hostile_server import catalogue

ROOT = Path(__file__).resolve().parents[2]
_SERVE = """
import sys, eduxchange
from eduxchange.publish.server import serve
serve(eduxchange.load_config(sys.argv[1]), "127.0.0.1", 0, quiet=True,
      ready=lambda info: print(info.url, flush=True))
print("stopped", flush=True)
"""


def _start(config_path: Path, *, ignore_sigint: bool) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", _SERVE, str(config_path)]
    if ignore_sigint:  # exec keeps an ignored signal ignored: Python then installs no handler
        command = ["sh", "-c", 'trap "" INT; exec "$0" "$@"', *command]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)


def _first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the server did not start in time"
    return process.stdout.readline().strip()


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["sigint-default", "sigint-ignored"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_serve_stops_on_sigint_and_sigterm_even_with_idle_and_slow_connections(
        tmp_path: Path, signum: int, ignore_sigint: bool) -> None:
    with catalogue(tmp_path) as config:
        assert config.path is not None
        process = _start(config.path, ignore_sigint=ignore_sigint)
        held: list[socket.socket] = []
        try:
            url = _first_line(process)
            assert url.startswith("http://127.0.0.1:"), url
            port = int(url.rstrip("/").rsplit(":", 1)[1])
            with requests.Session() as session:  # leaves an idle keep-alive connection
                assert session.get(url + "changes", timeout=10).status_code == 200
                for _ in range(3):  # and some half-sent requests
                    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                    sock.sendall(b"GET /changes HTTP/1.1\r\nHost: x\r\n")
                    held.append(sock)
                started = time.monotonic()
                process.send_signal(signum)
                out, err = process.communicate(timeout=10)
                took = time.monotonic() - started
        finally:
            for sock in held:
                sock.close()
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=10)  # always reaped, pipes closed
    assert process.returncode == 0, err
    assert out.strip() == "stopped" and "Traceback" not in err
    assert took < 3, took  # the idle and half-sent connections did not hold it up
