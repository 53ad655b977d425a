"""Hostile HTTP clients for the publishing server, and a small catalogue served on loopback.

* :class:`SlowClients` is a slowloris: many raw sockets that each trickle a request's header,
  one byte at a time, from a single thread (bounded in time, every socket closed on exit).
* :func:`raw_exchange` sends raw bytes and reports what came back and when.
* :func:`catalogue` harvests a few generated LOM records into a fresh catalogue, and
  :func:`published` serves one with the real server (:func:`eduxchange.publish.server.make_server`).

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import eduxchange
from eduxchange.publish.server import App, make_app, make_server
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from tests.conftest import write_config
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member

__all__ = ["SlowClients", "Exchange", "raw_exchange", "catalogue", "published", "Published",
           "ADMIN_EMAIL"]

HOST = "127.0.0.1"
ADMIN_EMAIL = "oai-team@catalog.example.org"
FEED = f'\n[feed]\npage_size = 3\nadmin_email = "{ADMIN_EMAIL}"\n'


class SlowClients:
    """``n`` connections that send a never-ending request header one byte every ``interval`` s.

    Use as a context manager; ``max_seconds`` bounds how long the trickling goes on (and so the
    test), whatever happens. :meth:`open_count` says how many the server still holds open.
    """

    def __init__(self, port: int, n: int, *, interval: float = 0.5, max_seconds: float = 30.0,
                 host: str = HOST) -> None:
        self.port, self.n, self.interval, self.max_seconds, self.host = (
            port, n, interval, max_seconds, host)
        self.sockets: list[socket.socket] = []
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, name="slowloris", daemon=True)
        # A header that never ends: the request line, then one long header, byte by byte.
        self._payload = (f"GET /changes HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()
                         + b"a" * 100_000)

    def __enter__(self) -> SlowClients:
        for _ in range(self.n):
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.setblocking(False)
            self.sockets.append(sock)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.sockets:
            sock.close()

    def _trickle(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        position = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            byte = self._payload[position % len(self._payload):][:1]
            for sock in self.sockets:
                try:
                    sock.send(byte)
                except OSError:  # the server closed it: fine, it stays closed
                    pass
            position += 1
            self.sent = position
            self._stop.wait(self.interval)

    def open_count(self) -> int:
        """How many of the connections the server has not closed (nor answered)."""
        count = 0
        for sock in self.sockets:
            try:
                data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                count += 1  # nothing to read and not closed: still held open
                continue
            except OSError as err:
                if err.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    count += 1
                continue
            if data == b"":
                continue  # closed by the server
        return count


@dataclass(frozen=True, slots=True)
class Exchange:
    """What a raw request got: the bytes received (until close or timeout), and when."""

    data: bytes
    first_byte_after: float | None  # seconds until the first response byte (None: none came)
    closed_after: float | None  # seconds until the server closed (None: still open at timeout)

    @property
    def status(self) -> int | None:
        """The HTTP status code of the response, if one came."""
        if not self.data.startswith(b"HTTP/"):
            return None
        try:
            return int(self.data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return None


def raw_exchange(port: int, data: bytes, *, timeout: float = 10.0, host: str = HOST,
                 head_only: bool = False) -> Exchange:
    """Send ``data`` on a fresh connection, then read until the server closes or ``timeout``
    (with ``head_only``, until a response's status line and headers have come)."""
    start = time.monotonic()
    received = b""
    first: float | None = None
    closed: float | None = None
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        deadline = start + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                closed = time.monotonic() - start
                break
            if not chunk:
                closed = time.monotonic() - start
                break
            if first is None:
                first = time.monotonic() - start
            received += chunk
            if head_only and b"\r\n\r\n" in received:
                break
    return Exchange(received, first, closed)


@contextmanager
def catalogue(tmp: Path, n: int = 8) -> Iterator[eduxchange.Config]:
    """A catalogue of ``n`` records harvested from a loopback member (``[feed] page_size = 3``,
    so lists are paged); the member is stopped again before the config is yielded."""
    records = make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
    with serve_pyoai_member(records) as member:
        path = write_config(tmp / "alliance.toml", [{"id": "lom", "endpoint": member.url}])
        path.write_text(path.read_text() + FEED)
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
    yield config


@dataclass(frozen=True, slots=True)
class Published:
    """A catalogue being served on 127.0.0.1."""

    config: eduxchange.Config
    app: App
    port: int

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{HOST}:{self.port}/"


@contextmanager
def published(tmp: Path, n: int = 8, **server_options: Any) -> Iterator[Published]:
    """Harvest :func:`catalogue` into ``tmp`` and serve it read-only, as ``eduxchange serve``
    does (``server_options`` go to :func:`~eduxchange.publish.server.make_server`)."""
    with catalogue(tmp, n) as config:
        store = ReadOnlySQLiteStore(config.catalog.store)
        try:
            app = make_app(config, store)
            server = make_server(app, HOST, 0, quiet=True, **server_options)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name="published", daemon=True)
            thread.start()
            try:
                yield Published(config, app, server.server_address[1])
            finally:
                server.shutdown()
                server.server_close()
                thread.join(10)
        finally:
            store.close()
