"""The demo alliance's catalogue (zh/en/fr/ar/es/ru records) harvested from loopback and served.

The three sample members of :mod:`eduxchange.demo` are served on loopback, harvested into a
catalogue under ``tmp`` and the catalogue is served read-only, as ``eduxchange serve`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

import eduxchange
from eduxchange.demo import demo_alliance
from eduxchange.publish.server import make_app, make_server
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from tests.support._net import running

__all__ = ["BASE_URI", "SearchSite", "search_site"]

BASE_URI = "http://127.0.0.1:8000/"


@dataclass
class SearchSite:
    """The served demo catalogue: its URL and config."""

    url: str
    config: eduxchange.Config

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path.lstrip("/"), **kw)


@contextmanager
def search_site(tmp: Path) -> Iterator[SearchSite]:
    """Harvest the demo members into a catalogue under ``tmp`` and serve it on loopback."""
    with ExitStack() as stack:
        with demo_alliance(tmp, base_uri=BASE_URI) as config:
            assert all(r.ok for r in eduxchange.harvest(config))
        store = ReadOnlySQLiteStore(config.catalog.store)
        stack.callback(store.close)
        server = make_server(make_app(config, store), "127.0.0.1", 0, quiet=True)
        stack.enter_context(running(server))  # waitress: serve_forever, shutdown, server_close
        yield SearchSite(f"http://127.0.0.1:{server.server_address[1]}/", config)
