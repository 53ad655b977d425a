"""The catalogue as a plain WSGI application, for any WSGI server to host.

``eduxchange serve`` runs one (waitress, or gunicorn with ``--workers N``); another server
loads the same application by name::

    gunicorn -w 4 -k gthread --threads 8 'eduxchange.publish.wsgi:app_from_config("alliance.toml")'
    EDUXCHANGE_CONFIG=/etc/eduxchange/alliance.toml gunicorn 'eduxchange.publish.wsgi:application'
    waitress-serve --call 'eduxchange.publish.wsgi:app_from_env'

The application is stateless across processes: it opens the catalogue read-only, and what a
response depends on (resumption tokens' key, feed pages, ETags) lives in the catalogue, so any
process (on any machine sharing the catalogue) answers any request. ``/health`` and ``/metrics``
are included (:mod:`eduxchange.publish.ops`); set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory in the server's environment when it runs several processes, so a scrape sums them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..core.config import DEFAULT_CONFIG, Config, load_config, with_store
from ..store.backends import open_store_reader
from ..store.base import StoreReader
from .ops import WSGIApp, observed
from .server import make_app

__all__ = ["app_from_config", "app_from_env", "CONFIG_VARIABLE"]

#: The environment variable naming the config file (default ``alliance.toml``).
CONFIG_VARIABLE = "EDUXCHANGE_CONFIG"


def _open_read_store(config: Config) -> StoreReader:
    """The catalogue, opened read-only for serving (whichever backend its location names)."""
    return open_store_reader(config.catalog.location)  # the URL, else the SQLite file


def app_from_config(path: str | os.PathLike[str] = DEFAULT_CONFIG, *,
                    public_url: str | None = None, log_format: str = "text",
                    access_log: bool = False, store: str | None = None) -> WSGIApp:
    """The WSGI application serving the catalogue of the config file at ``path``.

    ``store`` (a SQLite file or a store URL, as ``--store`` gives it) replaces the config's
    ``[catalog] store``.
    ``access_log`` writes one line per request to stderr in ``log_format`` (``text`` or
    ``json``); off by default, since a hosting server usually logs requests itself.
    Raises :class:`~eduxchange.core.errors.ConfigError` or
    :class:`~eduxchange.core.errors.StoreError` when the catalogue cannot be served.
    """
    config = load_config(Path(path))
    if store is not None:
        config = with_store(config, store)
    reader = _open_read_store(config)
    try:
        return observed(make_app(config, reader, public_url=public_url), config, reader,
                        access_log=sys.stderr if access_log else None, log_format=log_format)
    except BaseException:
        reader.close()
        raise


def app_from_env() -> WSGIApp:
    """:func:`app_from_config` of the file ``EDUXCHANGE_CONFIG`` names (``alliance.toml``)."""
    return app_from_config(os.environ.get(CONFIG_VARIABLE) or DEFAULT_CONFIG)


_application: WSGIApp | None = None


def __getattr__(name: str) -> Any:
    """``application``: made on first use (PEP 562), so importing this module reads nothing."""
    global _application
    if name == "application":
        if _application is None:
            _application = app_from_env()
        return _application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
