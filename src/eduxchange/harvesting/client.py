"""An OAI-PMH 2.0 client: the six verbs over a :class:`~eduxchange.harvesting.transport.Transport`.

No store, no state between calls: this is what a developer uses to read one
repository from Python. :class:`~eduxchange.harvesting.harvester.Harvester` builds the
resilient, incremental, stored harvest on top of it.

    >>> client = OAIClient("https://example.org/oai")            # doctest: +SKIP
    >>> for record in client.list_records(metadata_prefix="lom"):  # doctest: +SKIP
    ...     print(record.identifier)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from typing import Literal

from . import response as parse
from ..core.config import HarvestSettings
from ..core.errors import DeadlineExceeded, EndlessListError, NoRecordsMatch, ProtocolError
from ..core.models import IdentifyInfo, MetadataFormat, Page, RawRecord, SetInfo
from .transport import HttpTransport, Transport

__all__ = ["OAIClient", "ListVerb", "ListGuard"]

ListVerb = Literal["ListRecords", "ListIdentifiers"]

#: Identifiers one list remembers for the no-progress check (a hash each, about 60 bytes):
#: past this many, only repeats of those already remembered are recognised.
MAX_TRACKED_IDENTIFIERS = 500_000


class ListGuard:
    """Stop a list that hands out a fresh resumption token on every page but does not end.

    OAI-PMH 3.5 leaves a list's end to the repository: a new token on every page,
    forever, is never a protocol error by itself. One guard watches one list (from its
    first page to its last) and stops it, after the page that decides it, when:

    * ``max_pages`` pages (``0``: no limit) have come and another is announced;
    * more records have come than the largest ``completeListSize`` announced, by more
      than ``list_size_margin`` of it plus one page (a list may grow while it is read);
    * more than ``max_empty_pages`` pages in a row brought no identifier this list had
      not already listed (empty pages count too): a list that goes round in circles.

    ``pages`` and ``received`` start where a resumed list stood; ``label`` names the
    member in the error.
    """

    def __init__(self, settings: HarvestSettings, *, label: str = "the repository",
                 verb: str = "the list", pages: int = 0, received: int = 0) -> None:
        self.settings = settings
        self.label = label
        self.verb = verb
        self.pages = pages
        self.received = received
        self._announced = 0
        self._page_len = 0
        self._seen: set[int] = set()
        self._no_progress = 0
        self._verdict: str | None = None

    def observe(self, page: Page) -> None:
        """Account for one page (before it is handed on)."""
        s = self.settings
        size = len(page.records) + len(page.quarantined)
        self.pages += 1
        self.received += size
        self._page_len = max(self._page_len, size)
        if page.complete_list_size is not None and page.complete_list_size > 0:
            self._announced = max(self._announced, page.complete_list_size)
        # A record unreadable down to its identifier may well be new: it is not held
        # against the list (the page cap and the completeListSize check still count it).
        new = any(q.identifier is None for q in page.quarantined)
        for ident in [r.header.identifier for r in page.records] + [
                q.identifier for q in page.quarantined if q.identifier]:
            key = hash(ident)
            if key not in self._seen:
                new = True
                if len(self._seen) < MAX_TRACKED_IDENTIFIERS:
                    self._seen.add(key)
        self._no_progress = 0 if new else self._no_progress + 1
        self._verdict = None
        if page.token is None:
            return  # the list ended: whatever it did, it is not endless
        where = f"{self.label}: {self.verb}"
        limit = self._announced + math.ceil(self._announced * s.list_size_margin) + self._page_len
        if s.max_pages and self.pages >= s.max_pages:
            self._verdict = (
                f"{where} did not end after {self.pages} pages ({self.received} records), each "
                f"with a new resumption token (max_pages = {s.max_pages}); stopped there. If the "
                "member really lists more, raise max_pages for it (0: no limit)")
        elif self._no_progress > s.max_empty_pages:
            self._verdict = (
                f"{where} sent {self._no_progress} pages in a row with no identifier it had not "
                "already listed, each with a new resumption token: the list goes round in "
                "circles; stopped there. If the member really repeats records that often, raise "
                f"max_empty_pages for it (now {s.max_empty_pages})")
        elif self._announced and self.received > limit:
            self._verdict = (
                f"{where} announced completeListSize={self._announced} but has sent "
                f"{self.received} records in {self.pages} pages and goes on; stopped there. If "
                "the member's completeListSize is known to be wrong, raise list_size_margin for "
                f"it (now {s.list_size_margin:g}, a fraction of completeListSize)")

    def check(self) -> None:
        """Raise :class:`~eduxchange.core.errors.EndlessListError` if the last page decided it."""
        if self._verdict is not None:
            raise EndlessListError(self._verdict)


class _Ahead:
    """One request sent in a thread of its own (a daemon: a stuck one never holds the
    process at exit); :meth:`result` waits for its body or raises what it raised."""

    def __init__(self, get: Callable[..., bytes], **params: str | None) -> None:
        self._done = threading.Event()
        self._body: bytes | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(get, params), daemon=True,
                         name="oai-next-page").start()

    def _run(self, get: Callable[..., bytes], params: dict[str, str | None]) -> None:
        try:
            self._body = get(**params)
        except BaseException as err:  # STYLE: handed to the caller, who raises it
            self._error = err
        finally:
            self._done.set()

    def wait(self) -> None:
        self._done.wait()

    def result(self) -> bytes:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._body is not None
        return self._body


class OAIClient:
    """Speak OAI-PMH to one repository at ``endpoint`` (its base URL)."""

    #: List pages ask for the next page while the caller handles the current one (one
    #: request in flight at a time, as without: the same requests, in the same order).
    prefetch = True

    def __init__(
        self,
        endpoint: str,
        *,
        transport: Transport | None = None,
        settings: HarvestSettings | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings or HarvestSettings()
        self.transport: Transport = transport or HttpTransport(self.settings)

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> OAIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, **params: str | None) -> bytes:
        return self.transport.get(self.endpoint, {k: v for k, v in params.items() if v is not None})

    def identify(self) -> IdentifyInfo:
        """``Identify`` (OAI-PMH 4.2)."""
        return parse.parse_identify(self._get(verb="Identify"))

    def list_metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        """``ListMetadataFormats`` (OAI-PMH 4.4)."""
        return parse.parse_metadata_formats(
            self._get(verb="ListMetadataFormats", identifier=identifier))

    def list_sets(self) -> Iterator[SetInfo]:
        """``ListSets`` (OAI-PMH 4.6), following resumption tokens.

        Bounded like a record list (:class:`ListGuard`): more than ``max_pages`` pages, or
        more than ``max_empty_pages`` pages in a row with no new setSpec, raise
        :class:`~eduxchange.core.errors.EndlessListError`.
        """
        sets, token = parse.parse_sets(self._get(verb="ListSets"))
        yield from sets
        seen: set[str] = set()
        specs = {s.spec for s in sets}
        pages = 1
        stuck = 0
        limit = self.settings.max_pages
        while token is not None:
            if token.value in seen:
                raise ProtocolError(f"ListSets repeated resumption token {token.value!r}")
            seen.add(token.value)
            if limit and pages >= limit:
                raise EndlessListError(
                    f"{self.endpoint}: ListSets did not end after {pages} pages, each with a new "
                    f"resumption token (max_pages = {limit}); stopped there. If the member really "
                    "has more sets, raise max_pages for it (0: no limit)")
            sets, token = parse.parse_sets(self._get(verb="ListSets", resumptionToken=token.value))
            pages += 1
            fresh = {s.spec for s in sets} - specs
            specs |= fresh
            stuck = 0 if fresh else stuck + 1
            if token is not None and stuck > self.settings.max_empty_pages:
                raise EndlessListError(
                    f"{self.endpoint}: ListSets sent {stuck} pages in a row with no new set, each "
                    "with a new resumption token: the list goes round in circles; stopped there. "
                    "If the member really repeats sets that often, raise max_empty_pages for it "
                    f"(now {self.settings.max_empty_pages})")
            yield from sets

    def get_record(self, identifier: str, metadata_prefix: str) -> RawRecord:
        """``GetRecord`` (OAI-PMH 4.1)."""
        return parse.parse_get_record(
            self._get(verb="GetRecord", identifier=identifier, metadataPrefix=metadata_prefix))

    def list_pages(
        self,
        verb: ListVerb = "ListRecords",
        *,
        metadata_prefix: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        set_: str | None = None,
        token: str | None = None,
        guard: ListGuard | None = None,
    ) -> Iterator[Page]:
        """Yield the pages of a list, following resumption tokens to the end (OAI-PMH 3.5).

        Start a new list with ``metadata_prefix`` (and ``from_``/``until``/``set_``), or
        continue one with ``token``. ``noRecordsMatch`` yields nothing. A repository
        that repeats a token, or serves more than ``max_empty_pages`` empty pages in a
        row, raises :class:`~eduxchange.core.errors.ProtocolError` instead of looping forever;
        one whose list does not end otherwise is stopped by ``guard`` (by default a
        :class:`ListGuard` over this client's settings), after the page that decides it.
        """
        if guard is None:
            guard = ListGuard(self.settings, label=self.endpoint, verb=verb)
        if token is None and not metadata_prefix:
            raise ValueError("list_pages needs metadata_prefix (or a resumption token)")
        seen: set[str] = set()
        empty_run = 0
        params: dict[str, str | None] = {
            "verb": verb, "metadataPrefix": metadata_prefix, "from": from_, "until": until,
            "set": set_} if token is None else {"verb": verb, "resumptionToken": token}
        ahead: _Ahead | None = None  # the next page's request, sent while this one is used
        try:
            while True:
                if ahead is None:
                    body = self._get(**params)
                else:
                    try:
                        body = ahead.result()
                    except DeadlineExceeded:
                        # Sent before the caller's time (normalizing) moved the run's deadline
                        # on: asked again under the deadline as it is now.
                        body = self._get(**params)
                    ahead = None
                try:
                    page = parse.parse_list_page(body, verb)
                except NoRecordsMatch:
                    # OAI-PMH 3.6: an empty list is an answer, not a failure.
                    return
                guard.observe(page)
                # What ends the list after this page is decided before the next request is
                # sent (a list that must stop is never asked for one page more), and raised
                # once the caller has had the page.
                stop: Exception | None = None
                next_token = page.token.value if page.token is not None else None
                if next_token is not None:
                    params = {"verb": verb, "resumptionToken": next_token}
                    if next_token in seen or next_token == token:
                        stop = ProtocolError(
                            f"the repository returned resumption token {next_token!r} again; "
                            "its list would never end")
                    seen.add(next_token)
                    if page.records or page.quarantined:
                        empty_run = 0
                    else:
                        empty_run += 1
                        if stop is None and empty_run > self.settings.max_empty_pages:
                            stop = ProtocolError(
                                f"{empty_run} empty pages in a row, each with a new "
                                "resumption token; giving up on a list that does not progress")
                    if stop is None:
                        try:
                            guard.check()
                        except EndlessListError as err:
                            stop = err
                    if stop is None and self.prefetch:
                        # The member answers the next request while the caller stores and
                        # normalizes this page (the repository's time and ours overlap).
                        ahead = _Ahead(self._get, **params)
                yield page
                if stop is not None:
                    raise stop
                if next_token is None:
                    return
                token = next_token
        finally:
            if ahead is not None:
                # The caller stopped early: the request in flight ends (its own timeouts
                # bound it) before anything else uses this client's connection.
                ahead.wait()

    def list_records(
        self,
        *,
        metadata_prefix: str,
        from_: str | None = None,
        until: str | None = None,
        set_: str | None = None,
    ) -> Iterator[RawRecord]:
        """Every record of ``ListRecords`` (OAI-PMH 4.5), streamed page by page.

        Unreadable records are skipped here; the harvester quarantines them.
        """
        return self._each("ListRecords", metadata_prefix, from_, until, set_)

    def list_identifiers(
        self,
        *,
        metadata_prefix: str,
        from_: str | None = None,
        until: str | None = None,
        set_: str | None = None,
    ) -> Iterator[RawRecord]:
        """Every header of ``ListIdentifiers`` (OAI-PMH 4.3), as records with no metadata."""
        return self._each("ListIdentifiers", metadata_prefix, from_, until, set_)

    def _each(self, verb: ListVerb, metadata_prefix: str, from_: str | None, until: str | None,
              set_: str | None) -> Iterator[RawRecord]:
        for page in self.list_pages(verb, metadata_prefix=metadata_prefix, from_=from_,
                                    until=until, set_=set_):
            yield from page.records
