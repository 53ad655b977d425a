"""Plumbing shared by the test servers: loopback-only threaded HTTP servers."""

from __future__ import annotations

import socketserver
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from typing import Any
from urllib.parse import parse_qs

__all__ = ["HOST", "LoopbackServerMixin", "LoopbackHTTPServer", "parse_args", "running"]

HOST = "127.0.0.1"


class LoopbackServerMixin(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Threaded server bits: one thread per request, all joined on ``server_close()``.

    Binding skips the reverse DNS lookup HTTPServer does, and client
    disconnects (the client timed out, or we reset the socket on purpose) are
    not printed as errors.
    """

    daemon_threads = False
    block_on_close = True

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class LoopbackHTTPServer(LoopbackServerMixin, HTTPServer):
    """A threaded :class:`http.server.HTTPServer` for 127.0.0.1."""


def parse_args(query: str) -> dict[str, list[str]]:
    """OAI-PMH arguments of a query string or form body, repeated ones kept as lists."""
    return parse_qs(query, keep_blank_values=True)


@contextmanager
def running(httpd: socketserver.BaseServer, stop: threading.Event | None = None) -> Iterator[None]:
    """Serve ``httpd`` in a background thread; on exit set ``stop`` (to wake
    sleeping handlers), shut it down, close it and join every thread."""
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="test-oai-server"
    )
    thread.daemon = True
    thread.start()
    try:
        yield
    finally:
        if stop is not None:
            stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
