"""A member whose lists never end, whose datestamps are out of range, whose versions go back.

:class:`HostilePagingServer` is the fault-injecting :class:`~tests.support.faulty.FaultyServer`
with a few more ways to misbehave, all scripted on the instance:

* :meth:`~HostilePagingServer.cycle_forever`: at the end of a list, start it again from the
  first record with a *fresh* resumption token, forever (an offset that wraps around);
* :meth:`~HostilePagingServer.endless_records`: every resumed page carries records never seen
  before and a fresh token, forever, announcing ``completeListSize`` = ``announce`` (or none);
* :meth:`~HostilePagingServer.endless_sets`: ListSets pages with the same sets and a fresh
  token, forever;
* ``raw_datestamps``: identifier -> the datestamp text served verbatim in that record's header
  (``9999-12-31T23:59:59-14:00``);
* ``response_date``: the ``<responseDate>`` text of every response (of the verbs in
  ``response_date_verbs``, when set);
* ``keep_list_order``: serve records in the order of the ``records`` list, not by datestamp
  (so one identifier can stand several times in one page, newest first).

Use :func:`serve_hostile` like :func:`~tests.support.faulty.serve_faulty`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from tests.support._net import HOST, running
from tests.support.faulty import SECONDS, FaultyServer, Granularity, OaiError, _Server
from tests.support.lomgen import lom_xml
from tests.support.records import MemberRecord

__all__ = ["HostilePagingServer", "serve_hostile"]

_RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")
_DATESTAMP = re.compile(r"<datestamp>[^<]*</datestamp>")


class HostilePagingServer(FaultyServer):
    """A :class:`FaultyServer` with endless lists and raw datestamps (see the module docstring)."""

    def __init__(self, records: Iterable[MemberRecord] = (), **kw: object) -> None:
        super().__init__(records, **kw)  # type: ignore[arg-type]
        self.raw_datestamps: dict[str, str] = {}
        self.response_date: str | None = None
        self.response_date_verbs: set[str] | None = None  # None: every verb
        self.keep_list_order = False
        self._cycle = False
        self._endless = False
        self._announce: int | None = None
        self._endless_sets = False
        self.generated = 0  # records made up by endless_records so far

    def cycle_forever(self) -> None:
        """At the end of every list, start again at the first record with a fresh token."""
        with self._lock:
            self._cycle = True

    def endless_records(self, *, announce: int | None) -> None:
        """Every resumed page brings new records and a fresh token, forever; the token
        announces ``completeListSize=announce`` (no attribute when ``None``)."""
        with self._lock:
            self._endless = True
            self._announce = announce

    def endless_sets(self) -> None:
        """Every ListSets page carries the same sets and a fresh token, forever."""
        with self._lock:
            self._endless_sets = True

    def _ListSets(self, kw: dict[str, str]) -> bytes:
        if not self._endless_sets:
            return super()._ListSets(kw)
        with self._lock:
            self._token_serial += 1
            token = f"sets-{self._token_serial}"
            self.pages_served += 1
        sets = "".join(f"<set><setSpec>{spec}</setSpec><setName>{spec}</setName></set>\n"
                       for spec in self.store.set_specs() or ["all"])
        return (f"<ListSets>\n{sets}<resumptionToken>{token}</resumptionToken>\n"
                "</ListSets>\n").encode()

    def respond(self, args: dict[str, list[str]]) -> bytes:  # type: ignore[override]
        body = super().respond(args)
        verb = args.get("verb", [""])[0]
        if self.response_date is not None and (self.response_date_verbs is None
                                               or verb in self.response_date_verbs):
            text = self.response_date.encode()
            body = _RESPONSE_DATE.sub(b"<responseDate>" + text + b"</responseDate>", body, count=1)
        return body

    def _header(self, record: MemberRecord) -> str:
        header = super()._header(record)
        raw = self.raw_datestamps.get(record.identifier)
        if raw is not None:
            header = _DATESTAMP.sub(f"<datestamp>{raw}</datestamp>", header, count=1)
        return header

    def _list(self, verb: str, kw: dict[str, str]) -> bytes:
        if not (self._cycle or self._endless or self.keep_list_order):
            return super()._list(verb, kw)
        token = kw.get("resumptionToken")
        state = self._resume(verb, token) if token is not None else self._query(verb, kw)
        matching = self.store.select(from_=state.from_, until=state.until,
                                     set_spec=state.set_spec)
        if self.keep_list_order:
            order = {id(r): n for n, r in enumerate(self.records)}
            matching.sort(key=lambda r: order.get(id(r), 0))
        with self._lock:
            if self._endless and token is not None:
                page = [self._made_up() for _ in range(self.page_size)]
                next_token = self._issue(state)
            else:
                page = matching[state.offset:state.offset + self.page_size]
                if not page and token is None:
                    raise OaiError("noRecordsMatch", "No records match the request.")
                offset = state.offset + self.page_size
                if offset >= len(matching) and self._cycle:
                    offset = 0
                more = offset < len(matching) or self._endless
                next_token = self._issue(dataclasses.replace(state, offset=offset)) if more else ""
            self.pages_served += 1
            if self._pages_left is not None:  # die_after_pages, as FaultyServer does
                self._pages_left -= 1
                self._dead = self._pages_left <= 0
        if verb == "ListRecords":
            items = b"".join(self._record(r, state.prefix) for r in page)
        else:
            items = b"".join(self._header(r).encode() + b"\n" for r in page)
        size = len(matching) if not self._endless else self._announce
        attrs = f' completeListSize="{size}"' if size is not None else ""
        resumption = ""
        if token is not None or next_token:
            resumption = f"<resumptionToken{attrs}>{next_token}</resumptionToken>\n"
        return f"<{verb}>\n".encode() + items + f"{resumption}</{verb}>\n".encode()

    def _made_up(self) -> MemberRecord:
        self.generated += 1
        n = 900_000 + self.generated
        return MemberRecord(identifier=f"oai:example.org:endless-{n:07d}",
                            datestamp=datetime(2024, 6, 1) + timedelta(seconds=self.generated),
                            metadata=lom_xml(n))



@contextmanager
def serve_hostile(records: Iterable[MemberRecord] = (), *, page_size: int = 100,
                  granularity: Granularity = SECONDS) -> Iterator[HostilePagingServer]:
    """Run a :class:`HostilePagingServer` at ``http://127.0.0.1:PORT/oai`` for the block."""
    owner = HostilePagingServer(records, page_size=page_size, granularity=granularity)
    httpd = _Server(owner)
    owner.url = f"http://{HOST}:{httpd.server_address[1]}/oai"
    with running(httpd, owner.stopping):
        yield owner
