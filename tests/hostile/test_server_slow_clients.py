"""Slow, idle and lying clients cannot starve the publishing server (issue 9, item 10).

The server buffers each request whole before a worker thread sees it, so a client that trickles
its header (slowloris), sends a bare HTTP/0.9 line or announces more body than it sends costs a
socket until the request deadline, never a worker. Real server on 127.0.0.1, raw sockets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.hostile_server import SlowClients, published, raw_exchange

PROMPT = 2.0  # seconds a normal request may take while the server is under attack


@pytest.fixture(scope="module")
def default_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The server as `eduxchange serve` runs it (default workers and deadlines)."""
    with published(tmp_path_factory.mktemp("slow-default")) as site:
        yield site.port


@pytest.fixture(scope="module")
def strict_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Two workers and a one-second request deadline: hostile clients outnumber the workers."""
    with published(tmp_path_factory.mktemp("slow-strict"), workers=2, request_timeout=1.0,
                   idle_timeout=1.0) as site:
        yield site.port


def _timed_get(url: str) -> tuple[int, float]:
    start = time.monotonic()
    response = requests.get(url, timeout=PROMPT * 3)
    return response.status_code, time.monotonic() - start


def _assert_served_promptly(port: int, rounds: int = 6) -> None:
    base = f"http://127.0.0.1:{port}/"
    for path in ["changes", "oai?verb=Identify", "oai?verb=ListRecords&metadataPrefix=oai_dc"
                 ] * (rounds // 3):
        status, took = _timed_get(base + path)
        assert status == 200 and took < PROMPT, (path, status, took)


def test_64_slowloris_connections_do_not_starve_other_clients(default_port: int) -> None:
    # Before: 16 such connections took all 16 worker threads (a total outage until they left).
    with SlowClients(default_port, 64, interval=0.2, max_seconds=30) as slow:
        deadline = time.monotonic() + 5
        while slow.sent < 5 and time.monotonic() < deadline:  # every socket accepted and trickling
            time.sleep(0.05)
        _assert_served_promptly(default_port)
        with requests.Session() as session:  # keep-alive clients too
            for _ in range(5):
                start = time.monotonic()
                assert session.get(f"http://127.0.0.1:{default_port}/changes",
                                   timeout=PROMPT * 3).status_code == 200
                assert time.monotonic() - start < PROMPT
        # They were really held open all along (not refused): the attack was on.
        assert slow.open_count() == 64


def test_a_header_that_never_ends_is_cut_at_the_request_deadline(strict_port: int) -> None:
    with SlowClients(strict_port, 8, interval=0.1, max_seconds=10) as slow:
        _assert_served_promptly(strict_port, rounds=3)
        deadline = time.monotonic() + 6
        while slow.open_count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.open_count() == 0  # each was closed within the deadline (1 s) plus a tick


def test_a_post_with_a_content_length_longer_than_its_body_gets_408_fast(strict_port: int) -> None:
    # Before: a 500 after 30 s, with a worker thread held all that time.
    short = (b"POST /oai HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
             b"verb=Identify")
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(raw_exchange(strict_port, short)))
               for _ in range(6)]  # more than the server's two workers
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    _assert_served_promptly(strict_port, rounds=3)  # the lying clients hold no worker
    for thread in threads:
        thread.join(15)
    assert len(results) == 6
    for exchange in results:
        assert exchange.status == 408, exchange
        assert exchange.closed_after is not None and exchange.closed_after < 4, exchange


@pytest.mark.parametrize("line", [b"GET /\r\n", b"GET /oai?verb=Identify\r\n", b"\r\n\r\n", b""])
def test_a_bare_http09_line_or_silence_does_not_hold_a_worker(strict_port: int,
                                                              line: bytes) -> None:
    # Before: a bare request line held one of the workers for 30 s.
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(raw_exchange(strict_port, line)))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    _assert_served_promptly(strict_port, rounds=3)
    for thread in threads:
        thread.join(15)
    assert len(results) == 6
    for exchange in results:
        assert exchange.status in (None, 400, 408), exchange  # never a 500
        assert exchange.closed_after is not None and exchange.closed_after < 4, exchange
