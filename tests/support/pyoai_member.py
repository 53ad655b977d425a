"""A member repository served by pyoai's own server (``oaipmh.server.BatchingServer``).

This is a "well-behaved reference implementation" member: the XML, the
errors and the resumption tokens all come from pyoai; we only provide an
in-memory backend (pyoai's ``IBatchingOAI`` interface) and a WSGI wrapper.

pyoai always writes second-granularity datestamps and stateless resumption
tokens (the query plus a cursor), so records changed between pages shift
the later pages, exactly as with many real repositories.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from lxml import etree
from oaipmh import common, error
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer

from tests.support._net import HOST, LoopbackServerMixin, parse_args, running
from tests.support.lomgen import LOM_NS, LOM_SCHEMA, OAI_DC_NS, OAI_DC_SCHEMA, oai_dc_xml
from tests.support.records import MemberRecord, RecordStore

__all__ = ["DeletedRecord", "MemoryBackend", "PyoaiMember", "serve_pyoai_member"]

DeletedRecord = Literal["persistent", "transient", "no"]

METADATA_FORMATS = [
    ("lom", LOM_SCHEMA, LOM_NS),
    ("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS),
]

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class MemoryBackend:
    """An in-memory repository implementing pyoai's ``IBatchingOAI`` interface.

    Mutate it between (or during) harvests with :meth:`add`, :meth:`update`,
    :meth:`delete` and :meth:`purge`. ``deleted_record`` is what Identify
    announces: with ``"persistent"`` or ``"transient"`` deleted records are
    listed with ``status="deleted"``; with ``"no"`` they simply disappear.
    """

    def __init__(
        self,
        records: Iterable[MemberRecord] = (),
        *,
        name: str = "Test member",
        base_url: str = "",
        deleted_record: DeletedRecord = "persistent",
        set_names: Mapping[str, str] | None = None,
    ) -> None:
        self.store = RecordStore(records)
        self.name = name
        self.base_url = base_url
        self.deleted_record = deleted_record
        self.set_names = dict(set_names or {})

    # -- mutation (delegates to the store) ---------------------------------

    @property
    def records(self) -> list[MemberRecord]:
        """The stored records (the live list)."""
        return self.store.records

    def add(self, record: MemberRecord) -> None:
        """Add a new record."""
        self.store.add(record)

    def update(self, identifier: str, **changes: Any) -> MemberRecord:
        """Change ``metadata``/``sets``/``deleted``/``datestamp`` of a record
        (see :meth:`RecordStore.update`); the datestamp defaults to now."""
        return self.store.update(identifier, **changes)

    def delete(self, identifier: str, *, datestamp: datetime | None = None) -> MemberRecord:
        """Delete a record; it stays listed as deleted unless the policy is ``"no"``."""
        return self.store.delete(identifier, datestamp=datestamp)

    def purge(self, identifier: str) -> None:
        """Forget a record entirely (no trace in any list)."""
        self.store.purge(identifier)

    # -- IBatchingOAI ------------------------------------------------------

    def identify(self) -> common.Identify:
        """Repository description; earliestDatestamp is the oldest record (or 2000-01-01)."""
        return common.Identify(
            repositoryName=self.name,
            baseURL=self.base_url,
            protocolVersion="2.0",
            adminEmails=["oai-admin@example.org"],
            earliestDatestamp=self.store.earliest() or datetime(2000, 1, 1),
            deletedRecord=self.deleted_record,
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        """``lom`` and ``oai_dc`` (for the repository or for an existing record)."""
        if identifier is not None:
            self._visible(identifier)
        return list(METADATA_FORMATS)

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[tuple[str, str, None]]:
        """The setSpecs used by the records; names from ``set_names`` or the spec."""
        specs = self.store.set_specs()
        if not specs:
            raise error.NoSetHierarchyError("This repository does not support sets.")
        page = specs[cursor : cursor + batch_size]
        return [(spec, self.set_names.get(spec, spec.title()), None) for spec in page]

    def listIdentifiers(
        self,
        metadataPrefix: str | None = None,
        set: str | None = None,  # noqa: A002 -- pyoai's keyword
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[common.Header]:
        """Headers of one batch of the matching records."""
        page = self._select(metadataPrefix, set, from_, until)[cursor : cursor + batch_size]
        return [_header(r) for r in page]

    def listRecords(
        self,
        metadataPrefix: str | None = None,
        set: str | None = None,  # noqa: A002 -- pyoai's keyword
        from_: datetime | None = None,
        until: datetime | None = None,
        cursor: int = 0,
        batch_size: int = 10,
    ) -> list[tuple[common.Header, MemberRecord, None]]:
        """(header, record, about) for one batch; the record is given to our writers."""
        page = self._select(metadataPrefix, set, from_, until)[cursor : cursor + batch_size]
        return [(_header(r), r, None) for r in page]

    def getRecord(
        self, metadataPrefix: str, identifier: str
    ) -> tuple[common.Header, MemberRecord, None]:
        """One record, or idDoesNotExist / cannotDisseminateFormat."""
        record = self._visible(identifier)
        _check_prefix(metadataPrefix)
        return _header(record), record, None

    # -- helpers -----------------------------------------------------------

    def _visible(self, identifier: str) -> MemberRecord:
        record = self.store.get(identifier)
        if record is None or (record.deleted and self.deleted_record == "no"):
            raise error.IdDoesNotExistError(f"Unknown identifier: {identifier}")
        return record

    def _select(
        self,
        prefix: str | None,
        set_spec: str | None,
        from_: datetime | None,
        until: datetime | None,
    ) -> list[MemberRecord]:
        if prefix is None:  # only possible with a hand-made resumption token
            raise error.BadResumptionTokenError("The resumption token lacks a metadataPrefix.")
        _check_prefix(prefix)
        if set_spec is not None and not self.store.set_specs():
            raise error.NoSetHierarchyError("This repository does not support sets.")
        return self.store.select(
            from_=from_,
            until=until,
            set_spec=set_spec,
            include_deleted=self.deleted_record != "no",
        )


def _check_prefix(prefix: str) -> None:
    if prefix not in {p for p, _, _ in METADATA_FORMATS}:
        raise error.CannotDisseminateFormatError(f"Unknown metadata format: {prefix}")


def _header(record: MemberRecord) -> common.Header:
    return common.Header(None, record.identifier, record.datestamp, list(record.sets),
                         record.deleted)


def _write_lom(element: etree._Element, record: MemberRecord) -> None:
    element.append(etree.fromstring(record.metadata, _SAFE_PARSER))


def _write_oai_dc(element: etree._Element, record: MemberRecord) -> None:
    element.append(etree.fromstring(oai_dc_xml(record.metadata, record.identifier), _SAFE_PARSER))


def metadata_registry() -> MetadataRegistry:
    """Writers for ``lom`` (the stored element) and ``oai_dc`` (derived from it)."""
    registry = MetadataRegistry()
    registry.registerWriter("lom", _write_lom)
    registry.registerWriter("oai_dc", _write_oai_dc)
    return registry


class OaiWsgiApp:
    """WSGI app: ``GET``/``POST`` on ``/oai`` -> pyoai ``handleRequest``; logs every request."""

    def __init__(self, server: BatchingServer, log: list[dict[str, str]]) -> None:
        self.server = server
        self.log = log
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO") != "/oai":
            return _plain(start_response, "404 Not Found", b"not found\n")
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        elif method == "GET":
            query = environ.get("QUERY_STRING", "")
        else:
            return _plain(start_response, "405 Method Not Allowed", b"GET or POST\n")
        args = parse_args(query)
        with self.lock:
            self.log.append({key: values[0] for key, values in args.items()})
        repeated = sorted(key for key, values in args.items() if len(values) > 1)
        try:
            if repeated:
                # pyoai does not check for repeated arguments itself; report
                # them through its own error envelope.
                exc = error.BadArgumentError(f"Repeated argument(s): {', '.join(repeated)}")
                body = self.server.handleException({}, (type(exc), exc, None))
            else:
                body = self.server.handleRequest({k: v[0] for k, v in args.items()})
        except Exception as exc:  # a bug in the backend: show it to the test
            return _plain(start_response, "500 Internal Server Error", repr(exc).encode())
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _WSGIServer(LoopbackServerMixin, WSGIServer):
    def server_bind(self) -> None:
        LoopbackServerMixin.server_bind(self)
        self.setup_environ()


@dataclass
class PyoaiMember:
    """A running pyoai member: ``url`` to harvest, ``backend`` to mutate,
    ``requests`` (the arguments of every request received, first value of each)."""

    url: str
    backend: MemoryBackend
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def request_count(self) -> int:
        """How many requests the member has received."""
        return len(self.requests)


@contextmanager
def serve_pyoai_member(
    records: Iterable[MemberRecord],
    *,
    batch_size: int = 100,
    deleted_record: DeletedRecord = "persistent",
    name: str = "Test member",
    set_names: Mapping[str, str] | None = None,
    port: int = 0,
) -> Iterator[PyoaiMember]:
    """Serve ``records`` with pyoai's BatchingServer at ``http://127.0.0.1:PORT/oai``.

    ``batch_size`` records per list page; ``deleted_record`` is the Identify
    policy ('persistent', 'transient' or 'no'); ``port`` 0 picks a free one.
    The server stops on exit.
    """
    backend = MemoryBackend(records, name=name, deleted_record=deleted_record,
                            set_names=set_names)
    server = BatchingServer(backend, metadata_registry(), resumption_batch_size=batch_size)
    member = PyoaiMember(url="", backend=backend)
    app = OaiWsgiApp(server, member.requests)
    httpd = _WSGIServer((HOST, port), _QuietHandler)
    httpd.set_app(app)
    member.url = backend.base_url = f"http://{HOST}:{httpd.server_address[1]}/oai"
    with running(httpd):
        yield member
