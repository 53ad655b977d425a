"""A scriptable, fault-injecting OAI-PMH 2.0 member repository.

The server implements the six verbs itself, building responses from string
templates. A record's ``metadata`` bytes are copied **verbatim** into the
page (for ``lom``), so a test can put invalid UTF-8 or control characters
into one record and keep the rest of the page intact.

Faults are scripted through methods on :class:`FaultyServer`:

* one-shot faults, queued and consumed by the next matching requests, in
  order: :meth:`~FaultyServer.fail_next`, :meth:`~FaultyServer.reset_next`,
  :meth:`~FaultyServer.delay_next`, :meth:`~FaultyServer.body_next`;
* modes that last until :meth:`~FaultyServer.heal`:
  :meth:`~FaultyServer.repeat_token`, :meth:`~FaultyServer.empty_pages_forever`,
  :meth:`~FaultyServer.die_after_pages`;
* :meth:`~FaultyServer.expire_tokens`, which invalidates every token issued so far.

Example::

    with serve_faulty(make_records(250, start=t0, step=minute), page_size=100) as server:
        server.fail_next(1, status=503, retry_after="1", verb="ListRecords", resumed=True)
        harvest(server.url)           # page 2 gets a 503 once, then succeeds
        assert server.requests[-1]["verb"] == "ListRecords"
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from tests.support._net import HOST, LoopbackHTTPServer, parse_args, running
from tests.support.lomgen import LOM_NS, LOM_SCHEMA, OAI_DC_NS, OAI_DC_SCHEMA, oai_dc_xml
from tests.support.records import MemberRecord, RecordStore, utcnow

__all__ = [
    "SECONDS",
    "DAY",
    "XXE_RESPONSE",
    "ENTITY_BOMB_RESPONSE",
    "FaultyServer",
    "serve_faulty",
    "retry_after_date",
]

SECONDS: Final = "YYYY-MM-DDThh:mm:ssZ"
DAY: Final = "YYYY-MM-DD"
Granularity = Literal["YYYY-MM-DDThh:mm:ssZ", "YYYY-MM-DD"]
DeletedRecord = Literal["persistent", "transient", "no"]

XML_TYPE = "text/xml; charset=utf-8"
FORMATS = {"lom": (LOM_SCHEMA, LOM_NS), "oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS)}

# Arguments per verb (OAI-PMH 2.0, section 4): required, optional, exclusive.
_VERBS: dict[str, dict[str, str]] = {
    "Identify": {},
    "ListMetadataFormats": {"identifier": "optional"},
    "ListSets": {"resumptionToken": "exclusive"},
    "GetRecord": {"identifier": "required", "metadataPrefix": "required"},
    "ListIdentifiers": {"metadataPrefix": "required", "from": "optional", "until": "optional",
                        "set": "optional", "resumptionToken": "exclusive"},
    "ListRecords": {"metadataPrefix": "required", "from": "optional", "until": "optional",
                    "set": "optional", "resumptionToken": "exclusive"},
}

_ENVELOPE_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/'
    ' http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
    "<responseDate>{date}</responseDate>\n"
    "<request{attrs}>{url}</request>\n"
)

XXE_RESPONSE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE OAI-PMH [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="lom">http://127.0.0.1/oai</request>
<ListRecords>
<record><header><identifier>oai:example.org:xxe</identifier>\
<datestamp>2024-01-01T00:00:00Z</datestamp></header>
<metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title>\
<string language="en">&xxe;</string></title></general></lom></metadata></record>
</ListRecords>
</OAI-PMH>
"""
"""A ListRecords page whose one record's title is an external entity reading
``file:///etc/passwd``. A safe parser must refuse it or leave ``&xxe;`` unexpanded."""

ENTITY_BOMB_RESPONSE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE OAI-PMH [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="lom">http://127.0.0.1/oai</request>
<ListRecords>
<record><header><identifier>oai:example.org:bomb</identifier>\
<datestamp>2024-01-01T00:00:00Z</datestamp></header>
<metadata><lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title>\
<string language="en">&lol9;</string></title></general></lom></metadata></record>
</ListRecords>
</OAI-PMH>
"""
"""A "billion laughs" ListRecords page (10^9 ``lol``s, about 3 GB if expanded)."""


def retry_after_date(seconds: float) -> str:
    """An HTTP-date ``seconds`` from now, for ``fail_next(retry_after=...)``."""
    return formatdate(time.time() + seconds, usegmt=True)


class OaiError(Exception):
    """An OAI-PMH protocol error (``<error code="...">``), raised while answering."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Fault:
    """One queued fault; ``verb``/``resumed`` restrict which requests consume it."""

    kind: Literal["status", "reset", "delay", "body"]
    verb: str | None = None
    resumed: bool | None = None
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0

    def matches(self, args: Mapping[str, list[str]]) -> bool:
        if self.verb is not None and args.get("verb", [None])[0] != self.verb:
            return False
        return self.resumed is None or self.resumed == ("resumptionToken" in args)


@dataclass(frozen=True)
class _ListState:
    """What a resumption token stands for: the query and the offset of its page."""

    verb: str
    prefix: str
    from_: datetime | None
    until: datetime | None
    set_spec: str | None
    offset: int


class FaultyServer:
    """State and behaviour of one faulty member; see the module docstring.

    Attributes: ``url`` (``http://127.0.0.1:PORT/oai``), ``records`` (the live
    list of :class:`MemberRecord`, mutable between requests), ``requests``
    (one dict of arguments per request received, first value of each, in
    arrival order), ``page_size``, ``granularity``, ``deleted_record``.
    """

    def __init__(
        self,
        records: Iterable[MemberRecord] = (),
        *,
        page_size: int = 100,
        granularity: Granularity = SECONDS,
        deleted_record: DeletedRecord = "persistent",
        name: str = "Faulty member",
        set_names: Mapping[str, str] | None = None,
    ) -> None:
        if granularity not in (SECONDS, DAY):
            raise ValueError(f"granularity must be {SECONDS!r} or {DAY!r}")
        self.store = RecordStore(records)
        self.page_size = page_size
        self.granularity = granularity
        self.deleted_record = deleted_record
        self.name = name
        self.set_names = dict(set_names or {})
        self.url = ""
        self.requests: list[dict[str, str]] = []
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._faults: deque[_Fault] = deque()
        self._tokens: dict[str, _ListState] = {}
        self._token_serial = 0
        self._repeat_token = False
        self._empty_pages = False
        self._pages_left: int | None = None
        self._dead = False
        self.pages_served = 0

    # -- records -----------------------------------------------------------

    @property
    def records(self) -> list[MemberRecord]:
        """The live record list."""
        return self.store.records

    def add(self, record: MemberRecord) -> None:
        """Add a new record."""
        self.store.add(record)

    def update(self, identifier: str, **changes: Any) -> MemberRecord:
        """Change ``metadata``/``sets``/``deleted``/``datestamp``; datestamp defaults to now."""
        return self.store.update(identifier, **changes)

    def delete(self, identifier: str, *, datestamp: datetime | None = None) -> MemberRecord:
        """Delete a record (listed as deleted unless ``deleted_record == "no"``)."""
        return self.store.delete(identifier, datestamp=datestamp)

    def purge(self, identifier: str) -> None:
        """Forget a record entirely."""
        self.store.purge(identifier)

    @property
    def request_count(self) -> int:
        """How many requests arrived (faulted ones included)."""
        with self._lock:
            return len(self.requests)

    @property
    def verbs(self) -> list[str]:
        """The ``verb`` of every request so far (``""`` when missing)."""
        with self._lock:
            return [r.get("verb", "") for r in self.requests]

    # -- faults ------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        retry_after: str | int | None = None,
        body: bytes = b"",
        verb: str | None = None,
        resumed: bool | None = None,
    ) -> None:
        """Answer the next ``n`` matching requests with HTTP ``status`` and ``body``.

        ``retry_after`` becomes a ``Retry-After`` header: seconds (``"2"``) or
        an HTTP date (see :func:`retry_after_date`). ``verb`` limits the fault
        to requests with that verb; ``resumed=True``/``False`` to requests
        with/without a resumptionToken. The same filters exist on every
        ``*_next`` method.
        """
        headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/plain; charset=utf-8"),)
        if retry_after is not None:
            headers += (("Retry-After", str(retry_after)),)
        self._queue(n, _Fault("status", verb, resumed, status, headers, body))

    def reset_next(self, n: int = 1, *, verb: str | None = None,
                   resumed: bool | None = None) -> None:
        """Reset the connection (TCP RST, no response) for the next ``n`` matching requests."""
        self._queue(n, _Fault("reset", verb, resumed))

    def delay_next(self, n: int, seconds: float, *, verb: str | None = None,
                   resumed: bool | None = None) -> None:
        """Wait ``seconds`` before answering the next ``n`` matching requests normally.

        The wait ends early (without an answer) when the server shuts down.
        """
        self._queue(n, _Fault("delay", verb, resumed, seconds=seconds))

    def body_next(
        self,
        body: bytes,
        *,
        n: int = 1,
        status: int = 200,
        content_type: str = XML_TYPE,
        verb: str | None = None,
        resumed: bool | None = None,
    ) -> None:
        """Serve exactly ``body`` (e.g. :data:`XXE_RESPONSE`, garbage) to the next
        ``n`` matching requests."""
        headers = (("Content-Type", content_type),)
        self._queue(n, _Fault("body", verb, resumed, status, headers, body))

    def expire_tokens(self) -> None:
        """Every resumption token issued so far now yields ``badResumptionToken``."""
        with self._lock:
            self._tokens.clear()

    def repeat_token(self) -> None:
        """Until :meth:`heal`: a resumed list request gets its page again with the
        *same* token, forever (a server stuck in a loop)."""
        with self._lock:
            self._repeat_token = True

    def empty_pages_forever(self) -> None:
        """Until :meth:`heal`: every ListRecords/ListIdentifiers page has no records
        and a fresh resumption token."""
        with self._lock:
            self._empty_pages = True

    def die_after_pages(self, k: int) -> None:
        """After ``k`` more ListRecords/ListIdentifiers pages, reset every
        connection until :meth:`heal` (``k=0``: at once)."""
        with self._lock:
            self._pages_left = k
            self._dead = k <= 0

    def heal(self) -> None:
        """Drop queued faults and end every mode (tokens stay valid)."""
        with self._lock:
            self._faults.clear()
            self._repeat_token = self._empty_pages = self._dead = False
            self._pages_left = None

    def _queue(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    def admit(self, args: Mapping[str, list[str]]) -> _Fault | None:
        """Log a request and return the fault it gets (None: answer normally)."""
        with self._lock:
            self.requests.append({key: values[0] for key, values in args.items()})
            if self._dead:
                return _Fault("reset")
            for fault in self._faults:
                if fault.matches(args):
                    self._faults.remove(fault)
                    return fault
        return None

    # -- OAI-PMH -----------------------------------------------------------

    def respond(self, args: Mapping[str, list[str]]) -> bytes:
        """The complete OAI-PMH response for one request's arguments."""
        verb = args.get("verb", [""])
        kw = {key: values[0] for key, values in args.items() if key != "verb"}
        attrs = ""
        try:
            if len(verb) != 1 or verb[0] not in _VERBS:
                raise OaiError("badVerb", "Missing, repeated or illegal verb.")
            self._validate(verb[0], args)
            attrs = "".join(f" {k}={quoteattr(v)}" for k, v in [("verb", verb[0]), *kw.items()])
            handler = getattr(self, "_" + verb[0])
            body: bytes = handler(kw)
        except OaiError as err:
            if err.code in ("badVerb", "badArgument"):
                attrs = ""
            body = f'<error code="{err.code}">{escape(err.message)}</error>\n'.encode()
        head = _ENVELOPE_HEAD.format(date=_seconds(utcnow()), attrs=attrs, url=escape(self.url))
        return head.encode() + body + b"</OAI-PMH>\n"

    @staticmethod
    def _validate(verb: str, args: Mapping[str, list[str]]) -> None:
        spec = _VERBS[verb]
        for key, values in args.items():
            if key != "verb" and key not in spec:
                raise OaiError("badArgument", f"Illegal argument: {key}")
            if len(values) > 1:
                raise OaiError("badArgument", f"Repeated argument: {key}")
        if "resumptionToken" in args:
            if len(args) > 2:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument.")
            return
        for key, kind in spec.items():
            if kind == "required" and key not in args:
                raise OaiError("badArgument", f"Missing argument: {key}")

    def _Identify(self, kw: dict[str, str]) -> bytes:
        earliest = self.store.earliest() or datetime(2000, 1, 1)
        return (
            f"<Identify>\n<repositoryName>{escape(self.name)}</repositoryName>\n"
            f"<baseURL>{escape(self.url)}</baseURL>\n<protocolVersion>2.0</protocolVersion>\n"
            "<adminEmail>oai-admin@example.org</adminEmail>\n"
            f"<earliestDatestamp>{self._datestamp(earliest)}</earliestDatestamp>\n"
            f"<deletedRecord>{self.deleted_record}</deletedRecord>\n"
            f"<granularity>{self.granularity}</granularity>\n</Identify>\n"
        ).encode()

    def _ListMetadataFormats(self, kw: dict[str, str]) -> bytes:
        if "identifier" in kw:
            self._visible(kw["identifier"])
        formats = "".join(
            f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix><schema>{schema}</schema>"
            f"<metadataNamespace>{ns}</metadataNamespace></metadataFormat>\n"
            for prefix, (schema, ns) in FORMATS.items()
        )
        return f"<ListMetadataFormats>\n{formats}</ListMetadataFormats>\n".encode()

    def _ListSets(self, kw: dict[str, str]) -> bytes:
        if "resumptionToken" in kw:
            raise OaiError("badResumptionToken", "ListSets is never resumed here.")
        specs = self.store.set_specs()
        if not specs:
            raise OaiError("noSetHierarchy", "This repository does not support sets.")
        sets = "".join(
            f"<set><setSpec>{escape(spec)}</setSpec>"
            f"<setName>{escape(self.set_names.get(spec, spec.title()))}</setName></set>\n"
            for spec in specs
        )
        return f"<ListSets>\n{sets}</ListSets>\n".encode()

    def _GetRecord(self, kw: dict[str, str]) -> bytes:
        record = self._visible(kw["identifier"])
        self._check_prefix(kw["metadataPrefix"])
        return b"<GetRecord>\n" + self._record(record, kw["metadataPrefix"]) + b"</GetRecord>\n"

    def _ListRecords(self, kw: dict[str, str]) -> bytes:
        return self._list("ListRecords", kw)

    def _ListIdentifiers(self, kw: dict[str, str]) -> bytes:
        return self._list("ListIdentifiers", kw)

    def _list(self, verb: str, kw: dict[str, str]) -> bytes:
        token = kw.get("resumptionToken")
        state = self._resume(verb, token) if token is not None else self._query(verb, kw)
        matching = self.store.select(
            from_=state.from_, until=state.until, set_spec=state.set_spec,
            include_deleted=self.deleted_record != "no",
        )
        with self._lock:
            if self._empty_pages:
                page: list[MemberRecord] = []
                next_token = self._issue(state)
            else:
                page = matching[state.offset : state.offset + self.page_size]
                if not page and token is None:
                    raise OaiError("noRecordsMatch", "No records match the request.")
                if self._repeat_token and token is not None:
                    next_token = token
                elif state.offset + self.page_size < len(matching):
                    next_token = self._issue(
                        dataclasses.replace(state, offset=state.offset + self.page_size))
                else:
                    next_token = ""
            self.pages_served += 1
            if self._pages_left is not None:
                self._pages_left -= 1
                self._dead = self._pages_left <= 0
        if verb == "ListRecords":
            items = b"".join(self._record(r, state.prefix) for r in page)
        else:
            items = b"".join(self._header(r).encode() + b"\n" for r in page)
        resumption = ""
        if token is not None or next_token:
            resumption = (f'<resumptionToken completeListSize="{len(matching)}"'
                          f' cursor="{state.offset}">{escape(next_token)}</resumptionToken>\n')
        return f"<{verb}>\n".encode() + items + f"{resumption}</{verb}>\n".encode()

    def _query(self, verb: str, kw: dict[str, str]) -> _ListState:
        self._check_prefix(kw["metadataPrefix"])
        from_ = self._parse_date("from", kw.get("from"), end=False)
        until = self._parse_date("until", kw.get("until"), end=True)
        if "from" in kw and "until" in kw and len(kw["from"]) != len(kw["until"]):
            raise OaiError("badArgument", "from and until have different granularities.")
        if from_ is not None and until is not None and from_ > until:
            raise OaiError("badArgument", "from is later than until.")
        if "set" in kw and not self.store.set_specs():
            raise OaiError("noSetHierarchy", "This repository does not support sets.")
        return _ListState(verb, kw["metadataPrefix"], from_, until, kw.get("set"), 0)

    def _resume(self, verb: str, token: str) -> _ListState:
        with self._lock:
            state = self._tokens.get(token)
        if state is None or state.verb != verb:
            raise OaiError("badResumptionToken", f"Unknown or expired token: {token}")
        return state

    def _issue(self, state: _ListState) -> str:
        """A new opaque token; deliberately contains ``/``, ``+``, ``:`` and ``=``,
        which a client must URL-encode."""
        self._token_serial += 1
        token = f"{state.prefix}/{self._token_serial}+{secrets.token_hex(4)}:{state.offset}="
        self._tokens[token] = state
        return token

    def _parse_date(self, name: str, value: str | None, *, end: bool) -> datetime | None:
        if value is None:
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                day = datetime.strptime(value, "%Y-%m-%d")
                return day.replace(hour=23, minute=59, second=59) if end else day
            if self.granularity == SECONDS and re.fullmatch(
                    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value):
                return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass
        raise OaiError("badArgument", f"Illegal {name} for granularity {self.granularity}: {value}")

    def _check_prefix(self, prefix: str) -> None:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"Unknown metadataPrefix: {prefix}")

    def _visible(self, identifier: str) -> MemberRecord:
        record = self.store.get(identifier)
        if record is None or (record.deleted and self.deleted_record == "no"):
            raise OaiError("idDoesNotExist", f"Unknown identifier: {identifier}")
        return record

    def _datestamp(self, dt: datetime) -> str:
        return dt.strftime("%Y-%m-%d") if self.granularity == DAY else _seconds(dt)

    def _header(self, record: MemberRecord) -> str:
        status = ' status="deleted"' if record.deleted else ""
        sets = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in record.sets)
        return (f"<header{status}><identifier>{escape(record.identifier)}</identifier>"
                f"<datestamp>{self._datestamp(record.datestamp)}</datestamp>{sets}</header>")

    def _record(self, record: MemberRecord, prefix: str) -> bytes:
        head = b"<record>" + self._header(record).encode()
        if record.deleted:
            return head + b"</record>\n"
        metadata = record.metadata if prefix == "lom" else oai_dc_xml(record.metadata,
                                                                      record.identifier)
        return head + b"\n<metadata>" + metadata + b"</metadata></record>\n"


def _seconds(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Handler(BaseHTTPRequestHandler):
    """HTTP side: parse GET/POST, apply the scripted fault, send the answer."""

    server: _Server
    timeout = 10

    def do_GET(self) -> None:
        self._answer(urlsplit(self.path).query)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length).decode("ascii", "replace"))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, query: str) -> None:
        owner = self.server.owner
        if urlsplit(self.path).path != "/oai":
            self._send(404, b"not found\n", (("Content-Type", "text/plain"),))
            return
        args = parse_args(query)
        fault = owner.admit(args)
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind == "delay":
            if owner.stopping.wait(fault.seconds):
                self.close_connection = True
                return
        elif fault is not None:
            self._send(fault.status, fault.body, fault.headers)
            return
        self._send(200, owner.respond(args), (("Content-Type", XML_TYPE),))

    def _send(self, status: int, body: bytes, headers: Iterable[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, the client sees a reset."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


class _Server(LoopbackHTTPServer):
    def __init__(self, owner: FaultyServer, port: int = 0) -> None:
        self.owner = owner
        super().__init__((HOST, port), _Handler)


@contextmanager
def serve_faulty(
    records: Iterable[MemberRecord] = (),
    *,
    page_size: int = 100,
    granularity: Granularity = SECONDS,
    deleted_record: DeletedRecord = "persistent",
    name: str = "Faulty member",
    set_names: Mapping[str, str] | None = None,
    port: int = 0,
) -> Iterator[FaultyServer]:
    """Run a :class:`FaultyServer` at ``http://127.0.0.1:PORT/oai`` until the block ends
    (``port`` 0: a free one)."""
    owner = FaultyServer(records, page_size=page_size, granularity=granularity,
                         deleted_record=deleted_record, name=name, set_names=set_names)
    httpd = _Server(owner, port)
    owner.url = f"http://{HOST}:{httpd.server_address[1]}/oai"
    with running(httpd, owner.stopping):
        yield owner
