"""A served catalogue for the page tests: two loopback members, multilingual and hostile text.

Member ``lom`` serves LOM records; member ``dc`` serves the same resources as oai_dc (so records
have two provenance entries) and has a hostile name. One LOM record has its title in Arabic,
French and Chinese and a description full of markup meant to break out of an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import requests

import eduxchange
from eduxchange.publish.server import make_app, make_server
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from tests.conftest import SERVING, write_config
from tests.support.lomgen import make_records
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord
from tests.support._net import running

__all__ = ["HOSTILE_MEMBER_NAME", "HOSTILE_TEXT", "MULTILINGUAL_TITLES", "PagesSite",
           "pages_site"]

#: The title of the multilingual record in each of its languages.
MULTILINGUAL_TITLES = {"ar": "مقدمة في الكسور", "fr": "Introduction aux fractions",
                       "zh": "分数入门"}
#: Markup a member puts in a description and in its name, to be shown as text.
HOSTILE_TEXT = '"><script>alert("desc")</script><img src=x onerror=alert(2)>'
HOSTILE_MEMBER_NAME = 'Dublin <script>alert("name")</script> & Co'
N_RECORDS = 12


@dataclass
class PagesSite:
    """The served catalogue: its URL, config, and the multilingual record's catalogue UUID."""

    url: str
    config: eduxchange.Config
    multilingual_uuid: str

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path.lstrip("/"), **kw)

    def uuids(self) -> list[str]:
        with eduxchange.open_store(self.config) as store:
            return [r.id.rsplit("/", 1)[1] for r in store.iter_resources()]


def _multilingual(record: MemberRecord) -> MemberRecord:
    """``record`` with a three-language title and a hostile description (LOM XML)."""
    title = "<title>" + "".join(f'<string language="{lang}">{escape(text)}</string>'
                                for lang, text in MULTILINGUAL_TITLES.items()) + "</title>"
    description = (f'<description><string language="fr">Les fractions pas à pas. '
                   f'{escape(HOSTILE_TEXT)}</string>'
                   f'<string language="ar">الكسور خطوة بخطوة.</string></description>')
    metadata = record.metadata.decode("utf-8")
    metadata = re.sub(r"<title>.*?</title>", title, metadata, count=1, flags=re.S)
    metadata = re.sub(r"<description>.*?</description>", description, metadata, count=1,
                      flags=re.S)
    return MemberRecord(identifier=record.identifier, datestamp=record.datestamp,
                        metadata=metadata.encode("utf-8"))


@contextmanager
def pages_site(tmp: Path) -> Iterator[PagesSite]:
    """Harvest the two members into a catalogue under ``tmp`` and serve it on loopback."""
    start = datetime(2024, 3, 1)
    lom = make_records(N_RECORDS, start=start, step=timedelta(minutes=1))
    lom[0] = _multilingual(lom[0])
    dc = make_records(4, start=start, step=timedelta(minutes=1), prefix="oai_dc", first=2)
    with ExitStack() as stack:
        lom_member = stack.enter_context(serve_pyoai_member(lom, name="LOM member"))
        dc_member = stack.enter_context(serve_pyoai_member(dc, name="DC member"))
        path = write_config(tmp / "alliance.toml", [
            {"id": "lom", "name": "Open University of Testing", "endpoint": lom_member.url,
             "country": "FR"},
            {"id": "dc", "name": HOSTILE_MEMBER_NAME, "endpoint": dc_member.url,
             "country": "EG"},
            {"id": "later", "name": "Not harvested yet", "endpoint": "http://127.0.0.1:9/oai",
             "enabled": False},
        ], feed=SERVING)
        config = eduxchange.load_config(path)
        assert all(r.ok for r in eduxchange.harvest(config))
        store = ReadOnlySQLiteStore(config.catalog.store)
        stack.callback(store.close)
        server = make_server(make_app(config, store), "127.0.0.1", 0, quiet=True)
        stack.enter_context(running(server))  # waitress: serve_forever, shutdown, server_close
        with eduxchange.open_store(config) as rw:
            uuid = next(r.id.rsplit("/", 1)[1] for r in rw.iter_resources()
                        if MULTILINGUAL_TITLES["fr"] in r.record["name"].values())
        yield PagesSite(f"http://127.0.0.1:{server.server_address[1]}/", config, uuid)
