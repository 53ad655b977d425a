"""Serve the catalogue from several processes: gunicorn's master, waitress in each worker.

``eduxchange serve --workers N`` runs :func:`serve_processes`. The process management is
gunicorn's arbiter, a well-kept pre-fork master: it binds the socket once and forks ``N``
workers that share it, replaces a worker that dies, and takes the signals operators know:

==========  ================================================================================
``TERM``    graceful shutdown: workers stop accepting, finish the requests in flight, exit
``INT``     the same from a terminal (Ctrl-C); ``QUIT`` stops at once
``HUP``     reload: re-read the config, start new workers, then stop the old ones gracefully
``USR2``    zero-downtime upgrade: a new master (the newly installed code) is started on the
            same socket; then send ``TERM`` to the old master
``TTIN``    one worker more; ``TTOU`` one fewer
==========  ================================================================================

Each worker serves HTTP with waitress, as the one-process server does
(:class:`eduxchange.publish.server.Server`), rather than with a gunicorn worker class:
gunicorn's ``sync`` workers give each connection a whole process and its ``gthread``
workers a thread from the moment its first byte arrives until the response is sent, so clients
that trickle a request or read a response slowly hold those up; waitress reads requests and
writes responses on one asynchronous loop and hands a thread only whole requests, with the
server's request deadline on top. So gunicorn's master and waitress's connection handling,
each where it is strongest. (Any other WSGI server can host the application too:
:mod:`eduxchange.publish.wsgi`.)

gunicorn needs POSIX (``fork``); on Windows, ``--workers 1`` (one process, waitress) is it.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker

from ..core.logs import JsonFormatter
from .server import CONNECTION_LIMIT, IDLE_TIMEOUT, REQUEST_TIMEOUT, Server, ServerInfo
from ..core.config import load_config, with_store
from .server import make_app
from .wsgi import _open_read_store, app_from_config

__all__ = ["WaitressWorker", "serve_processes", "GRACEFUL_TIMEOUT"]

#: Seconds a stopping worker is given to finish the requests it has before it is killed.
GRACEFUL_TIMEOUT = 30
_METRICS_OWNER = "EDUXCHANGE_OWNS_METRICS_DIR"  # this server made the directory: it removes it


class WaitressWorker(Worker):  # type: ignore[misc]  # gunicorn is untyped
    """A gunicorn worker that serves its application with waitress on the shared socket."""

    def run(self) -> None:
        """Serve until the master says stop (``self.alive``) or goes away, then drain."""
        listener = self.sockets[0]
        raw = getattr(listener, "sock", listener)  # gunicorn wraps the socket
        host, port = raw.getsockname()[:2]
        server = Server(self.wsgi, str(host), int(port), workers=int(self.cfg.threads),
                        request_timeout=REQUEST_TIMEOUT, idle_timeout=float(self.cfg.keepalive),
                        connection_limit=int(self.cfg.worker_connections), sock=raw,
                        # within the master's graceful timeout, after which it kills
                        drain_seconds=max(1.0, float(self.cfg.graceful_timeout) - 1.0))

        def tick() -> None:
            self.notify()  # the master's heartbeat: a worker that stops calling this is killed
            if not self.alive or self.ppid != os.getppid():
                server.stop_soon()

        try:
            server.serve_forever(poll_interval=0.5, tick=tick)
        finally:
            server.server_close()


class _JsonLogger(Logger):  # type: ignore[misc]
    """gunicorn's own log lines (workers booting, signals) as JSON Lines too."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class _Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], load: Callable[[], Any]) -> None:
        self._options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # control_socket_disable is newer than gunicorn 23
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()  # in each worker, after the fork: its own store connections


def _preflight(path: str, store_location: str | None) -> None:
    """Make the application once in the master, so that what would stop every worker from
    booting (a config error, no catalogue, no ``[feed] admin_email``) is one clear error
    here, not a traceback per worker."""
    config = load_config(path)
    if store_location is not None:
        config = with_store(config, store_location)
    store = _open_read_store(config)
    try:
        make_app(config, store)
    finally:
        store.close()


def serve_processes(config_path: str | os.PathLike[str], host: str = "127.0.0.1",
                    port: int = 8000, *, workers: int = 2, threads: int = 16,
                    public_url: str | None = None, log_format: str = "text",
                    quiet: bool = False, pid_file: str | None = None,
                    ready: Callable[[ServerInfo], object] | None = None,
                    store: str | None = None) -> int:
    """Serve the catalogue of ``config_path`` from ``workers`` processes of ``threads`` threads.

    Blocks until the master stops (``TERM``/``INT``, see the module docstring) and returns its
    exit status. Each worker reads the config file when it starts, so ``HUP`` applies a changed
    config. ``ready`` is called once the socket listens (in the master). Metrics of all
    workers are summed through ``PROMETHEUS_MULTIPROC_DIR`` (made here, unless set).
    ``store`` (``--store``: a SQLite file or a store URL) replaces the config's store in the
    master's check and in every worker.
    """
    if workers < 1 or threads < 1:
        raise ValueError("workers and threads must be at least 1")
    path = str(Path(config_path).resolve())
    _preflight(path, store)
    if os.environ.get(_METRICS_OWNER) and os.environ.get("GUNICORN_FD"):
        os.environ[_METRICS_OWNER] = str(os.getpid())  # a new master (USR2) takes it over
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="eduxchange-metrics-")
        os.environ[_METRICS_OWNER] = str(os.getpid())
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]

    def when_ready(arbiter: Any) -> None:
        if ready is None:
            return
        bound = arbiter.LISTENERS[0].sock.getsockname()
        ready(ServerInfo(str(bound[0]), int(bound[1]),
                         lambda: os.kill(os.getpid(), signal.SIGTERM)))

    def child_exit(arbiter: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)  # type: ignore[no-untyped-call]

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind], "workers": workers, "threads": threads,
        "worker_class": f"{WaitressWorker.__module__}.{WaitressWorker.__qualname__}",
        "graceful_timeout": GRACEFUL_TIMEOUT, "timeout": 30, "keepalive": int(IDLE_TIMEOUT),
        "worker_connections": CONNECTION_LIMIT, "proc_name": "eduxchange", "errorlog": "-",
        "loglevel": "info", "accesslog": None, "when_ready": when_ready,
        "child_exit": child_exit, "pidfile": pid_file,
        # gunicorn's control socket is one path per user: two servers on a machine would
        # share it. Signals (and the pid file) are the interface.
        "control_socket_disable": True,
    }
    if log_format == "json":
        options["logger_class"] = f"{_JsonLogger.__module__}.{_JsonLogger.__qualname__}"

    def load() -> Any:
        return app_from_config(path, public_url=public_url, log_format=log_format,
                               access_log=not quiet, store=store)

    master = os.getpid()
    arbiter: Any = None
    try:
        arbiter = Arbiter(_Application(options, load))
        arbiter.run()
    except SystemExit as stop:  # the arbiter ends with sys.exit, and so does each worker
        if os.getpid() != master:
            raise  # a worker leaving: straight out, past the caller's code
        return int(stop.code or 0) if not isinstance(stop.code, str) else 1
    finally:
        # Removed by the master that made it, unless it handed the socket to a new master
        # (USR2), which keeps using it.
        if (os.getpid() == master and os.environ.get(_METRICS_OWNER) == str(master)
                and not getattr(arbiter, "reexec_pid", 0)):
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0

