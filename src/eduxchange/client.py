"""An OAI-PMH 2.0 client: the six verbs over a :class:`~eduxchange.transport.Transport`.

No store, no state between calls: this is what a developer uses to read one
repository from Python. :class:`~eduxchange.harvester.Harvester` builds the
resilient, incremental, stored harvest on top of it.

    >>> client = OAIClient("https://example.org/oai")            # doctest: +SKIP
    >>> for record in client.list_records(metadata_prefix="lom"):  # doctest: +SKIP
    ...     print(record.identifier)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from . import response as parse
from .config import HarvestSettings
from .errors import NoRecordsMatch, ProtocolError
from .models import IdentifyInfo, MetadataFormat, Page, RawRecord, SetInfo
from .transport import HttpTransport, Transport

__all__ = ["OAIClient", "ListVerb"]

ListVerb = Literal["ListRecords", "ListIdentifiers"]


class OAIClient:
    """Speak OAI-PMH to one repository at ``endpoint`` (its base URL)."""

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
        """``ListSets`` (OAI-PMH 4.6), following resumption tokens."""
        sets, token = parse.parse_sets(self._get(verb="ListSets"))
        yield from sets
        seen: set[str] = set()
        while token is not None:
            if token.value in seen:
                raise ProtocolError(f"ListSets repeated resumption token {token.value!r}")
            seen.add(token.value)
            sets, token = parse.parse_sets(self._get(verb="ListSets", resumptionToken=token.value))
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
    ) -> Iterator[Page]:
        """Yield the pages of a list, following resumption tokens to the end (OAI-PMH 3.5).

        Start a new list with ``metadata_prefix`` (and ``from_``/``until``/``set_``), or
        continue one with ``token``. ``noRecordsMatch`` yields nothing. A repository
        that repeats a token, or serves more than ``max_empty_pages`` empty pages in a
        row, raises :class:`~eduxchange.errors.ProtocolError` instead of looping forever.
        """
        if token is None and not metadata_prefix:
            raise ValueError("list_pages needs metadata_prefix (or a resumption token)")
        seen: set[str] = set()
        empty_run = 0
        while True:
            if token is None:
                params = {"verb": verb, "metadataPrefix": metadata_prefix, "from": from_,
                          "until": until, "set": set_}
            else:
                params = {"verb": verb, "resumptionToken": token}
            try:
                page = parse.parse_list_page(self._get(**params), verb)
            except NoRecordsMatch:
                # OAI-PMH 3.6: an empty list is an answer, not a failure.
                return
            yield page
            if page.token is None:
                return
            next_token = page.token.value
            if next_token in seen or next_token == token:
                raise ProtocolError(
                    f"the repository returned resumption token {next_token!r} again; "
                    "its list would never end")
            seen.add(next_token)
            if page.records or page.quarantined:
                empty_run = 0
            else:
                empty_run += 1
                if empty_run > self.settings.max_empty_pages:
                    raise ProtocolError(
                        f"{empty_run} empty pages in a row, each with a new resumption token; "
                        "giving up on a list that does not progress")
            token = next_token

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
