"""Operations endpoints around the HTTP application: ``/health``, ``/metrics``, access logs.

:func:`observed` wraps any WSGI application (the catalogue's :class:`~eduxchange.publish.server.App`)
and adds:

=================  ==================================================================================
``/health``        readiness, JSON: the store is reachable (200) or not (503), and for each member
                   the age of its last successful harvest (:func:`health`)
``/health/live``   liveness: 200 while the process answers, without touching the store
``/metrics``       Prometheus text format (:class:`Metrics`): requests by route, method and status,
                   a latency histogram by route, the catalogue's records, harvest runs and
                   failures per member, the time of each member's last successful harvest
=================  ==================================================================================

and one access-log line per request (Common Log Format, or JSON Lines with
``log_format="json"``: :mod:`eduxchange.core.logs`).

Metrics use ``prometheus_client``. Served by several processes (``eduxchange serve --workers N``),
each process's counters would be only its own share; with ``PROMETHEUS_MULTIPROC_DIR`` set (the
pre-fork server sets it) they live in that directory's files, and a scrape of any process sums
every process's (prometheus_client's multiprocess mode). Catalogue and harvest figures are read
from the store at scrape time, so every process and every machine reports the same ones.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from ..core.config import Config
from ..core.logs import json_line
from ..store.base import RunStats, StoreReader

__all__ = ["observed", "health", "route_of", "Metrics", "LATENCY_BUCKETS"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: Seconds: the latency histogram's buckets (the 100 ms target of ListRecords is one edge).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Route templates, so that a label never holds a record id or a page number (bounded series).
_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name) for pattern, name in (
        (r"^/$", "/"), (r"^/oai$", "/oai"), (r"^/oai\.xsl$", "/oai.xsl"),
        (r"^/changes$", "/changes"), (r"^/changes/page/[^/]*$", "/changes/page/{n}"),
        (r"^/resources/[^/]*$", "/resources/{uuid}"), (r"^/members/[^/]*$", "/members/{id}"),
        (r"^/search$", "/search"), (r"^/context\.jsonld$", "/context.jsonld"),
        (r"^/vocabularies/?$", "/vocabularies/"), (r"^/vocabularies/[^/]+$", "/vocabularies/{name}"),
        (r"^/schemas/[^/]+$", "/schemas/{name}"), (r"^/health$", "/health"),
        (r"^/health/live$", "/health/live"), (r"^/metrics$", "/metrics"),
    ))


def route_of(path: str) -> str:
    """The route template a request path belongs to (``other`` for anything unknown)."""
    for pattern, name in _ROUTES:
        if pattern.match(path):
            return name
    return "other"


def _time(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _age(iso: str | None, now: datetime) -> float | None:
    when = _time(iso)
    return None if when is None else max(0.0, round((now - when).total_seconds(), 1))


def health(config: Config, store: StoreReader, *, now: datetime | None = None
           ) -> tuple[bool, dict[str, Any]]:
    """``(ready, report)``: whether the store answers, and each member's harvest ages.

    A member is ``overdue`` when its last successful harvest is older than twice its
    ``every`` (or it never had one): worth an alert, but the server stays ready, since it
    still serves what the catalogue holds.
    """
    now = now or datetime.now(UTC)
    checked = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        stats = store.run_stats()
        counts = store.resource_counts()
    except Exception as err:  # whatever the backend raises: the answer is "not ready"
        return False, {"status": "unavailable", "live": True, "ready": False,
                       "checked_at": checked,
                       "store": {"reachable": False, "error": f"{type(err).__name__}: {err}"}}
    members = []
    for member in config.members:
        s = stats.get(member.id, RunStats(member_id=member.id))
        age = _age(s.last_success, now)
        every = member.settings.every
        members.append({
            "id": member.id, "enabled": member.enabled, "last_success": s.last_success,
            "age_seconds": age, "every_seconds": every, "runs": s.runs, "failed": s.failed,
            "overdue": member.enabled and (age is None or age > 2 * every)})
    return True, {"status": "ok", "live": True, "ready": True, "checked_at": checked,
                  "store": {"reachable": True, "records": counts.get("resources", 0),
                            "deleted": counts.get("deleted", 0)},
                  "members": members}


class _StoreCollector:
    """Catalogue and harvest figures, read from the store at each scrape."""

    def __init__(self, config: Config, store: StoreReader) -> None:
        self.config = config
        self.store = store

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily("eduxchange_store_up", "1 when the catalogue store answered")
        try:
            stats = self.store.run_stats()
            counts = self.store.resource_counts()
        except Exception:  # the scrape still answers: store_up says what happened
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        records = GaugeMetricFamily("eduxchange_catalogue_records",
                                    "Records in the unified catalogue", labels=["state"])
        records.add_metric(["live"], counts.get("resources", 0))
        records.add_metric(["deleted"], counts.get("deleted", 0))
        yield records
        runs = CounterMetricFamily("eduxchange_harvest_runs", "Harvest runs per member",
                                   labels=["member"])
        failures = CounterMetricFamily("eduxchange_harvest_failures",
                                       "Failed harvest runs per member", labels=["member"])
        last = GaugeMetricFamily("eduxchange_harvest_last_success_timestamp_seconds",
                                 "Unix time of each member's last successful harvest",
                                 labels=["member"])
        for member in self.config.members:
            s = stats.get(member.id, RunStats(member_id=member.id))
            runs.add_metric([member.id], s.runs)
            failures.add_metric([member.id], s.failed)
            when = _time(s.last_success)
            if when is not None:
                last.add_metric([member.id], when.timestamp())
        yield runs
        yield failures
        yield last


class Metrics:
    """The server's Prometheus metrics (see the module docstring for multiprocess mode)."""

    def __init__(self, config: Config, store: StoreReader) -> None:
        # Imported here, not at module level: prometheus_client chooses between in-process
        # and multiprocess values when it is first imported, so it must be after the pre-fork
        # server has set PROMETHEUS_MULTIPROC_DIR.
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
        # One registry per application (tests make many); none in multiprocess mode, where
        # values go to files and each scrape gathers them into a fresh registry.
        self._registry = None if self.multiprocess_dir else CollectorRegistry()
        self._collector = _StoreCollector(config, store)
        if self._registry is not None:
            self._registry.register(self._collector)
        self.requests = Counter("eduxchange_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=self._registry)
        self.latency = Histogram("eduxchange_http_request_duration_seconds",
                                 "Time to make each response, by route", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self._registry)

    def observe(self, route: str, method: str, status: str, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, method, status).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """``(body, content type)`` of a scrape."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        registry = self._registry
        if registry is None:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
            registry.register(self._collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST


def _clf(environ: dict[str, Any], status: str, size: int) -> str:
    target = str(environ.get("PATH_INFO", "")) + (
        f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
    line = (f'{environ.get("REMOTE_ADDR", "-")} - - '
            f'[{datetime.now(UTC).strftime("%d/%b/%Y %H:%M:%S")}] '
            f'"{environ.get("REQUEST_METHOD", "")} {target[:2000]!s} '
            f'{environ.get("SERVER_PROTOCOL", "")}" {status} {size}')
    return line.encode("ascii", "backslashreplace").decode("ascii")


def observed(app: WSGIApp, config: Config, store: StoreReader, *,
             access_log: TextIO | None = None, log_format: str = "text") -> WSGIApp:
    """``app`` with ``/health``, ``/health/live`` and ``/metrics``, counted in the metrics, and
    (with ``access_log``) one line per request written there in ``log_format``."""
    metrics = Metrics(config, store)

    def respond(start_response: StartResponse, status: str, body: bytes,
                content_type: str) -> list[bytes]:
        start_response(status, [("Content-Type", content_type),
                                ("Cache-Control", "no-store"),
                                ("Content-Length", str(len(body)))])
        return [body]

    def ops(method: str, route: str, start_response: StartResponse) -> list[bytes] | None:
        if route not in ("/health", "/health/live", "/metrics"):
            return None
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"),
                                                      ("Content-Length", "0")])
            return []
        if route == "/metrics":
            body, ctype = metrics.render()
            return respond(start_response, "200 OK", body, ctype)
        if route == "/health/live":
            report: dict[str, Any] = {"status": "ok", "live": True, "pid": os.getpid()}
            ready = True
        else:
            ready, report = health(config, store)
            report["pid"] = os.getpid()
        body = json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        return respond(start_response, "200 OK" if ready else "503 Service Unavailable", body,
                       "application/json")

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        route = route_of(str(environ.get("PATH_INFO", "")))
        seen: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        answered = ops(method, route, capture)
        body = answered if answered is not None else list(app(environ, capture))
        seconds = time.perf_counter() - started
        code = seen[-1].split(" ", 1)[0] if seen else "-"
        metrics.observe(route, method if method in ("GET", "HEAD", "POST") else "other", code,
                        seconds)
        if access_log is not None:
            size = sum(map(len, body))
            if log_format == "json":
                line = json_line("info", "eduxchange.access",
                                 f"{method} {environ.get('PATH_INFO', '')} {code}",
                                 remote=environ.get("REMOTE_ADDR"), method=method,
                                 path=str(environ.get("PATH_INFO", ""))[:2000],
                                 query=str(environ.get("QUERY_STRING", ""))[:2000],
                                 route=route, status=int(code) if code.isdigit() else None,
                                 bytes=size, duration_ms=round(seconds * 1000, 2),
                                 pid=os.getpid(),
                                 user_agent=environ.get("HTTP_USER_AGENT"))
            else:
                line = _clf(environ, code, size)
            print(line, file=access_log, flush=True)
        return body

    return wrapped
