"""HTTP for harvesting: the only module that imports ``requests``.

One :class:`HttpTransport` per member. It is polite (a minimum interval between
requests), patient (HTTP 503/429 ``Retry-After`` in seconds or as an HTTP date is
waited out, RFC 9110 section 10.2.3) and bounded (other transient failures are
retried with exponential backoff and jitter, a fixed number of times; responses
larger than a limit are refused rather than held in memory).

Tests and other callers can swap the seam: anything with a ``get(url, params)``
method returning bytes is a :class:`Transport`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urlsplit

import requests

from .config import HarvestSettings
from .errors import TransportError
from .models import Issue

__all__ = ["Transport", "HttpTransport", "parse_retry_after", "backoff_delay"]

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_RETRY_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class Transport(Protocol):
    """The seam between harvesting and the network."""

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


class HttpTransport:
    """A polite, retrying HTTP GET for one member (thread-confined)."""

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
        self.session.headers.setdefault("User-Agent", settings.user_agent)
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.requests = 0
        self._on_issue = on_issue or (lambda issue: None)
        self._sleep = sleep
        self._last_request = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _polite_wait(self) -> None:
        interval = 1.0 / self.settings.requests_per_second
        with self._lock:
            wait = self._last_request + interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last_request = time.monotonic()

    def get(self, url: str, params: Mapping[str, str]) -> bytes:
        """GET ``url`` with ``params``; retry what is transient; return the body."""
        s = self.settings
        attempt = 0
        while True:
            self._polite_wait()
            self.requests += 1
            wait: float | None = None
            try:
                response = self.session.get(
                    url, params=dict(params), timeout=(min(s.timeout, 15.0), s.timeout), stream=True
                )
                with response:
                    status = response.status_code
                    if status == 200:
                        return self._read(response, url)
                    reason = f"HTTP {status}"
                    if status not in _RETRY_STATUS:
                        body = self._read(response, url)
                        # Some repositories send OAI-PMH errors with a 4xx status.
                        if b"OAI-PMH" in body[:4096]:
                            return body
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
            except _RETRY_EXCEPTIONS as err:
                reason = f"{type(err).__name__}: {_short(err)}"
                if _refused(err):
                    # Nothing listens there: more retries would not help, the URL might.
                    reason = (f"connection refused by {_netloc(url)} (nothing listens there: "
                              "check the endpoint's host and port, and that the server is up)")
            if attempt >= s.max_retries:
                advice = ("" if reason.startswith("connection refused") else
                          " (raise max_retries or check the member's endpoint)")
                raise TransportError(
                    f"{url}: {reason}; gave up after {attempt + 1} attempts{advice}", url=url,
                )
            if wait is None:
                wait = backoff_delay(attempt, s.backoff, s.max_backoff)
            self._on_issue(Issue(code="retry", severity="info",
                                 message=f"{reason}; retrying in {wait:.1f} s"))
            self._sleep(wait)
            attempt += 1

    def _read(self, response: requests.Response, url: str) -> bytes:
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
        return b"".join(chunks)


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
