"""Sample alliance members on loopback, served by pyoai's own OAI-PMH server.

The only module of the library that imports ``oaipmh`` (the provider side of
pyoai): the demo's members are third-party code, like real members would be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer

from .samples import MEMBERS, SampleRecord, records_for

__all__ = ["RunningMember", "serve_members"]

_NAMESPACES = {
    "lom": ("http://ltsc.ieee.org/xsd/LOM", "http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd"),
    "imsmd": ("http://www.imsglobal.org/xsd/imsmd_v1p2",
              "http://www.imsglobal.org/xsd/imsmd_v1p2p4.xsd"),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc/",
               "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True, slots=True)
class RunningMember:
    """A sample member being served: its config entry's values."""

    id: str
    name: str
    country: str
    url: str
    metadata_prefix: str


class _Backend:
    """pyoai's IBatchingOAI over a list of sample records (one metadata format)."""

    def __init__(self, name: str, base_url: str, prefix: str, fmt: str,
                 records: Sequence[SampleRecord]) -> None:
        self.name, self.base_url, self.prefix, self.fmt = name, base_url, prefix, fmt
        self.records = sorted(records, key=lambda r: (r.datestamp, r.identifier))

    def identify(self) -> common.Identify:
        return common.Identify(
            repositoryName=self.name, baseURL=self.base_url, protocolVersion="2.0",
            adminEmails=["oai@example.org"],
            earliestDatestamp=self.records[0].datestamp if self.records else datetime(2000, 1, 1),
            deletedRecord="persistent", granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"])

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:  # noqa: N802
        namespace, schema = _NAMESPACES[self.fmt]
        return [(self.prefix, schema, namespace)]

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[tuple[str, str, None]]:  # noqa: N802
        specs = sorted({s for r in self.records for s in r.sets})
        return [(s, f"ISCED-F {s}", None) for s in specs][cursor:cursor + batch_size]

    def _select(self, metadataPrefix: str, set: str | None, from_: datetime | None,  # noqa: N803, A002
                until: datetime | None) -> list[SampleRecord]:
        if metadataPrefix != self.prefix:
            raise error.CannotDisseminateFormatError(metadataPrefix)
        return [r for r in self.records
                if (set is None or set in r.sets) and (from_ is None or r.datestamp >= from_)
                and (until is None or r.datestamp <= until)]

    def listIdentifiers(self, metadataPrefix: str, set: str | None = None,  # noqa: N802, N803, A002
                        from_: datetime | None = None, until: datetime | None = None,
                        cursor: int = 0, batch_size: int = 10) -> list[common.Header]:
        chosen = self._select(metadataPrefix, set, from_, until)[cursor:cursor + batch_size]
        return [self._header(r) for r in chosen]

    def listRecords(self, metadataPrefix: str, set: str | None = None,  # noqa: N802, N803, A002
                    from_: datetime | None = None, until: datetime | None = None,
                    cursor: int = 0, batch_size: int = 10) -> list[tuple[Any, Any, None]]:
        chosen = self._select(metadataPrefix, set, from_, until)[cursor:cursor + batch_size]
        return [(self._header(r), r, None) for r in chosen]

    def getRecord(self, metadataPrefix: str, identifier: str) -> tuple[Any, Any, None]:  # noqa: N802, N803
        for r in self._select(metadataPrefix, None, None, None):
            if r.identifier == identifier:
                return self._header(r), r, None
        raise error.IdDoesNotExistError(identifier)

    @staticmethod
    def _header(record: SampleRecord) -> common.Header:
        return common.Header(None, record.identifier, record.datestamp, list(record.sets), False)


def _write_metadata(element: etree._Element, record: SampleRecord) -> None:
    element.append(etree.fromstring(record.metadata, _PARSER))


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _app(server: BatchingServer) -> Callable[..., list[bytes]]:
    def app(environ: Mapping[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        args = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        body = server.handleRequest(args)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


@contextmanager
def serve_members(host: str = "127.0.0.1") -> Iterator[list[RunningMember]]:
    """Serve every sample member on a free port of ``host``; stop them on exit."""
    running: list[RunningMember] = []
    with ExitStack() as stack:
        for member_id, name, country, prefix, fmt, _numbers, _langs in MEMBERS:
            registry = MetadataRegistry()
            registry.registerWriter(prefix, _write_metadata)
            backend = _Backend(name, "", prefix, fmt, records_for(member_id))
            oai = BatchingServer(backend, registry, resumption_batch_size=10)
            httpd = make_server(host, 0, _app(oai), server_class=_Server, handler_class=_Quiet)
            url = f"http://{host}:{httpd.server_address[1]}/oai"
            backend.base_url = url
            thread = threading.Thread(target=httpd.serve_forever, name=f"member-{member_id}",
                                      daemon=True)
            thread.start()
            stack.callback(thread.join, 5)
            stack.callback(httpd.server_close)
            stack.callback(httpd.shutdown)
            running.append(RunningMember(id=member_id, name=name, country=country, url=url,
                                         metadata_prefix=prefix))
        yield running
