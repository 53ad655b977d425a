"""HTTP for harvesting: the only module that imports ``requests``.

One :class:`HttpTransport` per member. It is polite (a minimum interval between
requests), patient (HTTP 503/429 ``Retry-After`` in seconds or as an HTTP date is
waited out, RFC 9110 section 10.2.3) and bounded (other transient failures are
retried with exponential backoff and jitter, a fixed number of times; responses
larger than a limit are refused rather than held in memory).

It is also bounded in time. ``timeout`` bounds a whole response, from connecting
to its last byte: a watchdog shuts the socket down when it runs out, so a member
that trickles a byte a second (within every per-read timeout) cannot hold a worker
for ever. An optional run deadline (:meth:`HttpTransport.set_deadline`, the
member's ``run_timeout``) bounds every request, retry and wait of one run.

Redirects are followed here, not by ``requests``: only within the member's scheme
and host (or to a URL in ``allow_redirects_to``), never from https to http, never
to another scheme, at most :data:`MAX_REDIRECTS` hops and never in a loop, so no
other host's content is ever stored as the member's.

Tests and other callers can swap the seam: anything with a ``get(url, params)``
method returning bytes is a :class:`Transport`.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..core.config import HarvestSettings
from ..core.errors import DeadlineExceeded, RedirectRefused, TransportError
from ..core.models import Issue

__all__ = ["Transport", "HttpTransport", "parse_retry_after", "backoff_delay",
           "redirect_target", "MAX_REDIRECTS"]

#: Redirect hops followed for one request (requests' own default is 30).
MAX_REDIRECTS = 5
_REDIRECT_STATUS = {301, 302, 303, 307, 308}

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_RETRY_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    # A body cut short mid-read (urllib3 raises these past requests' own wrapping).
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
)


class Transport(Protocol):
    """The seam between harvesting and the network.

    A transport may also offer ``set_deadline(deadline, seconds)`` (as
    :class:`HttpTransport` does); the harvester then passes it each run's deadline.
    """

    def get(self, url: str, params: Mapping[str, str]) -> bytes:
        """Return the body of a successful response, or raise :class:`TransportError`."""
        ...


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date); ``None`` if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, float((when - now).total_seconds()))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half fixed, half random ("equal jitter")."""
    delay: float = min(cap, base * (2.0**attempt))
    jitter: float = (rng or random).uniform(0, delay / 2)
    return delay / 2 + jitter


class _Watch:
    """The watchdog of one HTTP exchange: at its deadline it shuts the socket down.

    A per-read socket timeout never fires for a peer that sends one byte just in
    time, over and over; only a bound on the whole exchange stops it. Shutting the
    socket down (not closing it: another thread owns the descriptor) makes the
    blocked read return at once, and the transport then reports the timeout.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._done = False
        self.expired = False
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self._done:
                self._sockets.append(sock)
                if not self.expired:
                    return
        _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def stop(self) -> bool:
        """Disarm the watchdog; whether it had already expired (then the exchange was cut)."""
        with self._lock:
            self._done = True
            self._sockets.clear()
        self._timer.cancel()
        return self.expired


def _shutdown(sock: socket.socket) -> None:
    try:
        # The plain socket's shutdown, also for an SSLSocket: it must not touch TLS state
        # that the reading thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or detached: nothing left to stop


# The exchange being watched in this thread (a transport is thread-confined).
_current = threading.local()


def _watched(sock: socket.socket | None) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(sock)


class _WatchedHTTPConnection(HTTPConnection):
    """An urllib3 connection that hands its socket to the thread's watchdog."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watched(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:  # a kept-alive connection
        _watched(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watched(sock)
        return sock

    def connect(self) -> None:
        # The TLS handshake needs no watching: CPython's do_handshake treats the socket
        # timeout (our connect timeout, at most the budget) as a deadline for the whole
        # handshake. From then on the TLS socket replaces the plain one.
        super().connect()
        _watched(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watched(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _WatchedHTTPPool,
                                                       "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with pools whose connections report to the watchdog."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS brings its own connection classes
            manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def redirect_target(endpoint: str, current: str, location: str | None,
                    allowed: tuple[str, ...] = ()) -> str:
    """The absolute URL a redirect from ``current`` points to, if it may be followed.

    Allowed: the member ``endpoint``'s own scheme and host[:port], or a URL that
    starts with an entry of ``allowed`` (the member's ``allow_redirects_to``).
    Never from https to http, never to a scheme other than http(s). Raises
    :class:`~eduxchange.core.errors.RedirectRefused` saying what to configure otherwise.
    """
    if not location or not location.strip():
        raise RedirectRefused(f"{current} redirected without a Location header", url=current)
    try:
        target = urljoin(current, location.strip())
        scheme, host, port = _origin(target)
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise RedirectRefused(f"{current} redirected to a malformed Location {location!r} "
                              f"({err}); refused", url=current) from None
    if scheme not in ("http", "https"):
        raise RedirectRefused(
            f"{current} redirected to {target!r}, which is not an http(s) URL; refused",
            url=current)
    if _origin(current)[0] == "https" and scheme == "http":
        # RFC 9110 17.1: leaving TLS would let anyone on the path answer for the member.
        raise RedirectRefused(
            f"{current} redirected to {target}, from https to plain http; a downgrade is "
            "never followed (ask the member to fix its redirect)", url=current)
    if (scheme, host, port) == _origin(endpoint):
        return target
    for prefix in allowed:
        if (scheme, host, port) == _origin(prefix) and (
                urlsplit(target).path.startswith(urlsplit(prefix).path)):
            return target
    root = f"{scheme}://{urlsplit(target).netloc}"
    raise RedirectRefused(
        f"{current} redirected to {target}, outside the member's endpoint {endpoint}; "
        f"refused (if the member really moved, set its endpoint to the new URL, or add "
        f'"{root}" to its allow_redirects_to)', url=current)


class HttpTransport:
    """A polite, retrying, time-bounded HTTP GET for one member (thread-confined)."""

    def __init__(
        self,
        settings: HarvestSettings,
        *,
        session: requests.Session | None = None,
        on_issue: Callable[[Issue], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        if session is None:
            adapter = _WatchedAdapter()
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
        self.session.headers.setdefault("User-Agent", settings.user_agent)
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.requests = 0
        self._on_issue = on_issue or (lambda issue: None)
        self._sleep = sleep
        self._last_request = 0.0
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._run_seconds = 0.0
        self._noted_redirects: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_deadline(self, deadline: float | None, seconds: float = 0.0) -> None:
        """Bound every later request by ``deadline`` (a :func:`time.monotonic` value).

        ``seconds`` is the configured length the deadline came from, for messages.
        ``None`` removes the bound.
        """
        self._deadline = deadline
        self._run_seconds = seconds

    def _remaining(self, url: str) -> float | None:
        """Seconds left before the run deadline; :class:`DeadlineExceeded` when none are."""
        if self._deadline is None:
            return None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self._deadline_error(url)
        return left

    def _deadline_error(self, url: str) -> DeadlineExceeded:
        limit = f" ({self._run_seconds:g} s)" if self._run_seconds else ""
        return DeadlineExceeded(
            f"{url}: the member's run took longer than run_timeout{limit} and was stopped; "
            "committed pages are kept and the next run resumes from there (raise run_timeout "
            "for this member if its harvest is just big)", url=url)

    def _polite_wait(self) -> None:
        interval = 1.0 / self.settings.requests_per_second
        with self._lock:
            wait = self._last_request + interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last_request = time.monotonic()

    def get(self, url: str, params: Mapping[str, str]) -> bytes:
        """GET ``url`` with ``params``; follow permitted redirects; retry what is transient."""
        try:
            current = requests.Request("GET", url, params=dict(params)).prepare().url or url
        except requests.RequestException as err:  # not a URL requests can send to
            raise TransportError(f"{url}: {type(err).__name__}: {_short(err)}", url=url) from None
        chain = [current]
        for _ in range(MAX_REDIRECTS + 1):
            body, location = self._get_one(current)
            if location is None:
                return body
            target = redirect_target(url, current, location, self.settings.allow_redirects_to)
            if target in chain:
                raise RedirectRefused(
                    f"{url}: redirect loop ({' -> '.join([*chain, target])}); the member's "
                    "server is misconfigured", url=url)
            self._note_redirect(current, target)
            chain.append(target)
            current = target
        raise RedirectRefused(
            f"{url}: more than {MAX_REDIRECTS} redirects ({' -> '.join(chain)}); refused",
            url=url)

    def _note_redirect(self, current: str, target: str) -> None:
        key = (_origin_text(current), _origin_text(target))
        if key in self._noted_redirects:
            return
        self._noted_redirects.add(key)
        elsewhere = key[0] != key[1]
        where = "another host, allowed by allow_redirects_to" if elsewhere else "the same host"
        # Content from elsewhere is stored as the member's: worth a warning, not a note.
        self._on_issue(Issue(code="redirect", severity="warning" if elsewhere else "info",
                             message=f"{current} redirects to {target} ({where}); followed"))

    def _get_one(self, url: str) -> tuple[bytes, str | None]:
        """One URL with retries: ``(body, None)``, or ``(b"", location)`` for a redirect."""
        s = self.settings
        attempt = 0
        while True:
            self._remaining(url)
            self._polite_wait()
            self.requests += 1
            wait: float | None = None
            left = self._remaining(url)
            budget = s.timeout if left is None else min(s.timeout, left)
            by_deadline = left is not None and left < s.timeout
            watch = _Watch(budget)
            _current.watch = watch
            try:
                try:
                    response = self.session.get(
                        url, timeout=(min(budget, 15.0), budget), stream=True,
                        allow_redirects=False)
                    with response:
                        status = response.status_code
                        if status in _REDIRECT_STATUS:
                            return b"", response.headers.get("Location") or ""
                        if status == 200:
                            return self._read(response, url, watch), None
                        reason = f"HTTP {status}"
                        if status not in _RETRY_STATUS:
                            body = self._read(response, url, watch)
                            # Some repositories send OAI-PMH errors with a 4xx status.
                            if b"OAI-PMH" in body[:4096]:
                                return body, None
                            raise TransportError(
                                f"{url} answered HTTP {status} {response.reason}; not retried",
                                url=url, status=status,
                            )
                        wait = parse_retry_after(response.headers.get("Retry-After"))
                        if wait is not None and wait > s.max_retry_after:
                            raise TransportError(
                                f"{url} asked to retry after {wait:.0f} s, more than "
                                f"max_retry_after ({s.max_retry_after:.0f} s); try again later",
                                url=url, status=status,
                            )
                except (requests.RequestException, urllib3.exceptions.HTTPError,
                        ValueError) as err:
                    if watch.expired:
                        # The watchdog cut the exchange, whatever the symptom it left.
                        if by_deadline:
                            raise self._deadline_error(url) from None
                        reason = (f"Timeout: no complete response within timeout "
                                  f"({s.timeout:g} s)")
                    elif isinstance(err, _RETRY_EXCEPTIONS):
                        reason = f"{type(err).__name__}: {_short(err)}"
                        if _refused(err):
                            # Nothing listens there: more retries would not help, the URL might.
                            reason = (f"connection refused by {_netloc(url)} (nothing listens "
                                      "there: check the endpoint's host and port, and that the "
                                      "server is up)")
                    else:
                        raise _named_error(url, err) from None
                if watch.expired and by_deadline:
                    raise self._deadline_error(url)
            finally:
                watch.stop()
                _current.watch = None
            if attempt >= s.max_retries:
                advice = ("" if reason.startswith("connection refused") else
                          " (raise max_retries or check the member's endpoint)")
                raise TransportError(
                    f"{url}: {reason}; gave up after {attempt + 1} attempts{advice}", url=url,
                )
            if wait is None:
                wait = backoff_delay(attempt, s.backoff, s.max_backoff)
            left = self._remaining(url)
            if left is not None and wait >= left:
                raise DeadlineExceeded(
                    f"{url}: {reason}; the next retry (in {wait:.1f} s) would end after the "
                    f"run's deadline (run_timeout {self._run_seconds:g} s); stopped", url=url)
            self._on_issue(Issue(code="retry", severity="info",
                                 message=f"{reason}; retrying in {wait:.1f} s"))
            self._sleep(wait)
            attempt += 1

    def _read(self, response: requests.Response, url: str, watch: _Watch) -> bytes:
        limit = int(self.settings.max_response_mb * 1024 * 1024)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > limit:
                raise TransportError(
                    f"{url}: response larger than max_response_mb "
                    f"({self.settings.max_response_mb:g} MB); refused", url=url,
                )
            chunks.append(chunk)
        if watch.stop():
            # The watchdog cut the body short; what was read is not the whole response.
            raise requests.Timeout("the response was cut off at the timeout")
        return b"".join(chunks)


def _named_error(url: str, err: Exception) -> TransportError:
    """A failure that retrying will not mend, named for what it is."""
    if isinstance(err, requests.exceptions.ContentDecodingError):
        return TransportError(
            f"{url}: the response's Content-Encoding could not be decoded ({_short(err)}); "
            "the member's server (or a proxy) sends a broken compressed body; not retried",
            url=url)
    if isinstance(err, ValueError) and not isinstance(err, requests.RequestException):
        # requests parses a redirect's Location even when not following it and raises
        # a bare ValueError for one it cannot split (an unclosed IPv6 bracket, say).
        return TransportError(
            f"{url}: the response could not be read ({type(err).__name__}: {_short(err)}; "
            "a malformed Location or header?); not retried", url=url)
    return TransportError(f"{url}: {type(err).__name__}: {_short(err)}; not retried", url=url)


def _origin_text(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _refused(err: BaseException) -> bool:
    """Whether a requests error is a refused TCP connection (ECONNREFUSED), however wrapped."""
    seen: set[int] = set()
    todo: list[object] = [err]
    while todo:
        current = todo.pop()
        if id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        # requests wraps urllib3's MaxRetryError (args[0]), whose .reason is the socket error.
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None),
                 *current.args]
    return False


def _netloc(url: str) -> str:
    return urlsplit(url).netloc or url


def _short(err: BaseException) -> str:
    text = str(err)
    return text if len(text) < 200 else text[:197] + "..."
