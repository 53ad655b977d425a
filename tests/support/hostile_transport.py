"""An OAI-PMH member whose HTTP misbehaves: it trickles, redirects, or breaks its gzip.

The OAI-PMH answers come from a :class:`~tests.support.faulty.FaultyServer` (used
without its own HTTP server); this module only adds transport faults, each for
the requests with a given verb (``None``: every request), lasting until
:meth:`HostileTransportServer.heal`:

* :meth:`~HostileTransportServer.trickle`: send the response one byte every
  ``interval`` seconds, in the status line and headers (``phase="headers"``) or
  in the body after complete headers (``phase="body"``), so no single read ever
  waits long enough for a per-read timeout;
* :meth:`~HostileTransportServer.redirect`: answer ``status`` with a ``Location``
  (a string, or a function of the request's path and query);
* :meth:`~HostileTransportServer.broken_gzip`: ``Content-Encoding: gzip`` on a
  body that is not gzip.

The server binds ``host`` (127.0.0.1 by default; 127.0.0.2 is another loopback
host, for redirects to "another host") and speaks https when given a ``tls``
context (see :func:`server_tls`, certificates from ``trustme``).
:func:`serve_trickling_proxy` forwards to a server but sends its bytes back one
at a time: in front of an https member it trickles the TLS handshake itself.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import urlsplit

from tests.support._net import HOST, LoopbackHTTPServer, parse_args, running
from tests.support.faulty import XML_TYPE, FaultyServer
from tests.support.records import MemberRecord

__all__ = ["HostileTransportServer", "serve_hostile_transport", "server_tls",
           "serve_trickling_proxy"]

Location = str | Callable[[str], str]


@dataclass(frozen=True)
class _Trickle:
    phase: Literal["headers", "body"]
    interval: float


@dataclass(frozen=True)
class _Redirect:
    location: Location
    status: int
    path: str | None = None


class HostileTransportServer:
    """State of one member with transport faults; ``oai`` answers OAI-PMH."""

    def __init__(self, records: Iterable[MemberRecord] = (), *, page_size: int = 100) -> None:
        self.oai = FaultyServer(records, page_size=page_size)
        self.url = ""
        self.base = ""  # scheme://host:port
        self.paths: list[str] = []  # the path and query of every request, in order
        self.stopping = self.oai.stopping
        self._lock = threading.Lock()
        self._faults: dict[str | None, object] = {}

    @property
    def requests(self) -> list[dict[str, str]]:
        """The OAI-PMH arguments of every request that reached the OAI-PMH side."""
        return self.oai.requests

    def trickle(self, *, verb: str | None = None, phase: Literal["headers", "body"] = "body",
                interval: float = 0.05) -> None:
        """Until :meth:`heal`: answer ``verb`` requests one byte every ``interval`` seconds."""
        self._set(verb, _Trickle(phase, interval))

    def redirect(self, location: Location, *, verb: str | None = None, status: int = 302,
                 path: str | None = None) -> None:
        """Until :meth:`heal`: answer ``verb`` requests with a redirect to ``location``.

        ``location`` may be a function of the request's path-and-query; ``path``
        limits the redirect to requests for that path.
        """
        self._set(verb, _Redirect(location, status, path))

    def broken_gzip(self, *, verb: str | None = None) -> None:
        """Until :meth:`heal`: send ``Content-Encoding: gzip`` with a body that is not gzip."""
        self._set(verb, "broken-gzip")

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def _set(self, verb: str | None, fault: object) -> None:
        with self._lock:
            self._faults[verb] = fault

    def fault_for(self, verb: str | None) -> object | None:
        with self._lock:
            return self._faults.get(verb, self._faults.get(None))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        with owner._lock:
            owner.paths.append(self.path)
        parts = urlsplit(self.path)
        args = parse_args(parts.query)
        verb = args.get("verb", [None])[0]
        fault = owner.fault_for(verb)
        if isinstance(fault, _Redirect) and fault.path in (None, parts.path):
            location = fault.location if isinstance(fault.location, str) else fault.location(
                self.path)
            self._send(fault.status, b"", [("Location", location)])
            return
        if parts.path != "/oai":
            self._send(404, b"not found\n", [("Content-Type", "text/plain")])
            return
        owner.oai.admit(args)
        body = owner.oai.respond(args)
        if fault == "broken-gzip":
            broken = gzip.compress(body)[:10] + b"this is not deflate data" * 8
            self._send(200, broken, [("Content-Type", XML_TYPE), ("Content-Encoding", "gzip")])
        elif isinstance(fault, _Trickle):
            self._trickle(body, fault)
        else:
            self._send(200, body, [("Content-Type", XML_TYPE)])

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, body: bytes, fault: _Trickle) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {XML_TYPE}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.close_connection = True
        if fault.phase == "body":
            self.wfile.write(head)
            self.wfile.flush()
            slow = body
        else:
            slow = head + body
        stopping = self.server.owner.stopping
        try:
            for index in range(len(slow)):
                self.wfile.write(slow[index : index + 1])
                self.wfile.flush()
                if stopping.wait(fault.interval):
                    return
        except OSError:
            return  # the client gave up: what a bounded client does


class _Server(LoopbackHTTPServer):
    def __init__(self, owner: HostileTransportServer, host: str,
                 tls: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.tls = tls
        super().__init__((host, 0), _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake happens on the first read, in the handler's thread, so a
            # slow client never blocks the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address


def server_tls(ca: Any, host: str = HOST) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for ``host`` from a ``trustme.CA``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    return context


@contextmanager
def serve_hostile_transport(records: Iterable[MemberRecord] = (), *, page_size: int = 100,
                            host: str = HOST, tls: ssl.SSLContext | None = None
                            ) -> Iterator[HostileTransportServer]:
    """Run a :class:`HostileTransportServer` at ``http(s)://HOST:PORT/oai`` until the block ends."""
    owner = HostileTransportServer(records, page_size=page_size)
    httpd = _Server(owner, host, tls)
    scheme = "https" if tls is not None else "http"
    owner.base = f"{scheme}://{host}:{httpd.server_address[1]}"
    owner.url = owner.oai.url = f"{owner.base}/oai"
    with running(httpd, owner.stopping):
        yield owner


@contextmanager
def serve_trickling_proxy(target: tuple[str, int], *, interval: float = 0.02
                          ) -> Iterator[tuple[str, int]]:
    """A TCP proxy on 127.0.0.1 to ``target``: requests go through at once, every byte
    of the answer comes back ``interval`` seconds after the last. Yields its address."""
    stop = threading.Event()
    listener = socket.create_server((HOST, 0))
    listener.settimeout(0.05)
    threads: list[threading.Thread] = []
    sockets: list[socket.socket] = []

    def pump(source: socket.socket, sink: socket.socket, slow: bool) -> None:
        try:
            while not stop.is_set():
                try:
                    data = source.recv(1 if slow else 65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                sink.sendall(data)
                if slow and stop.wait(interval):
                    break
        except OSError:
            pass  # either side went away
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target, timeout=5)
            sockets.extend((client, upstream))
            for sock in (client, upstream):
                sock.settimeout(0.05)
            for args in ((client, upstream, False), (upstream, client, True)):
                thread = threading.Thread(target=pump, args=args, daemon=True)
                thread.start()
                threads.append(thread)

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        stop.set()
        acceptor.join()
        for thread in threads:
            thread.join()
        for sock in sockets:
            sock.close()
        listener.close()
