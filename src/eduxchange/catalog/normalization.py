"""Normalization into the unified catalogue: crosswalk -> vocabularies -> validation -> merge.

For every raw record a harvest stored or changed (in change order), this module

1. turns it into a description (:func:`describe`: the crosswalk for its format,
   the vocabulary mapping, and the provenance entry; pure);
2. validates the description as a record; one that fails is quarantined with the
   reasons and its raw bytes, never silently dropped;
3. finds the catalogue resource it belongs to (its own from before, or one that
   shares a canonical URL or identifier, or a new one), and rebuilds that
   resource's record from all its descriptions (:mod:`eduxchange.catalog.merge`);
4. writes the record and a change-log entry only when the record changed.

A description a member deletes takes only its provenance away; the resource
leaves the catalogue (a tombstone remains) when no member describes it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..core.config import Config, MemberConfig
from ..crosswalks import CrosswalkError, CrosswalkOptions, crosswalk, detect_format, metadata_element
from ..core.dates import normalize_datestamp
from ..core.errors import StoreError
from ..core.record import CommonRecord, Description, Provenance
from ..harvesting.formats import KNOWN_FORMATS
from .merge import Ranked, match_keys, merge_descriptions
from .sets import oai_set_specs
from ..normalize.contacts import scrub_description
from ..store.base import (CatalogStore, CatalogTxn, Encoded, NewResource, NormalizedBefore,
                          StoredDescription, StoredRecord, canonical_json, parse_json)
from ..store.search import SearchDocument, search_document
from .validate import validate_record
from .vocab import Vocabularies, default_vocabularies
from .parallel import OrderedPool, available_cores
from ..publish.writers import WRITERS

__all__ = ["Catalog", "NormalizeResult", "describe", "describe_batch", "Described",
           "record_id_for", "prewrite", "normalization_order", "MAX_RECORD_BYTES", "PARALLEL_AFTER"]

log = logging.getLogger(__name__)
_RANKS = {f.name: f.rank for f in KNOWN_FORMATS}
#: Raw records normalized per write transaction.
BATCH = 200
#: Records of one member's normalization described in process before worker processes take
#: over (``[harvest] jobs``): a small normalization pays no process start-up.
PARALLEL_AFTER = 1000
#: Metadata formats written at normalization time for the OAI-PMH provider (RDF/XML, slower
#: to make and rarer to ask for, is written on request).
PREWRITTEN = ("oai_dc", "lom")
#: Raw records larger than this are quarantined unread: metadata of one resource is a few kB,
#: and a record of megabytes (a huge text, thousands of keywords) would be served in every
#: ListRecords page and change-feed entry of the catalogue.
MAX_RECORD_BYTES = 1024 * 1024
_MAX_REASON = 4000  # characters of a quarantine reason (validation messages quote values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Described:
    """A description ready to merge, or the reasons it cannot be used."""

    format: str
    description: Description | None
    problems: tuple[str, ...] = ()
    unmapped: tuple[tuple[str, str, str], ...] = ()
    #: Made in a worker process: the resource this description alone would make, encoded
    #: and rendered, used when that is what the writing process makes (:class:`Prepared`).
    prepared: Prepared | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # A worker's answer crosses the pipe as texts and tuples, never as the dicts: a
        # description and a record unpickle at about 100 us a record in the writing process
        # (the critical path), their JSON texts at a few; the description is parsed back
        # from its stored form (canonical_json: what the store would give back anyway).
        description: Description | None = None
        if self.description is None:
            text = None
        elif self.prepared is not None:
            text = ""  # the prepared description_text
        else:
            try:
                text = canonical_json(self.description)
            except (TypeError, ValueError):  # not JSON (the store refuses it): as it is
                text, description = None, self.description
        return (_described, (self.format, text, self.problems, self.unmapped, self.prepared,
                             description))


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What a worker makes beside :func:`describe`, on the guess that the description makes
    a resource of its own (most do, and every one of a first harvest without duplicates):
    the IRI it would mint, its match keys, the description's stored text, the text of the
    record merged from it alone (:func:`canonical_json`), and, made from that stored form,
    its OAI-PMH sets, search document and pre-rendered metadata (``written``: each format of
    :data:`PREWRITTEN`, its bytes and writer version). It crosses the pipe as texts and
    tuples (:meth:`__reduce__`): the writing process parses nothing of it.

    The writing process uses all of it, and merges, encodes and renders nothing, when the
    resource is new and nothing else describes it; otherwise it uses the search document
    and the bytes only when the record it merged has the same text."""

    resource_id: str
    keys: tuple[str, ...]
    description_text: str
    record_text: str
    sets: tuple[str, ...]
    search: SearchDocument
    written: tuple[tuple[str, bytes, str], ...]

    def __reduce__(self) -> tuple[Any, ...]:
        s = self.search
        return (_prepared, (self.resource_id, self.keys, self.description_text,
                            self.record_text, self.sets,
                            (s.title, s.body, s.concepts, s.facets), self.written))


def _described(format_: str, text: str | None, problems: tuple[str, ...],
               unmapped: tuple[tuple[str, str, str], ...], prepared: Prepared | None,
               description: Description | None = None) -> Described:
    """A :class:`Described` from its pickled form (:meth:`Described.__reduce__`)."""
    if text == "" and prepared is not None:
        text = prepared.description_text
    return Described(format=format_,
                     description=description if text is None else parse_json(text),
                     problems=problems, unmapped=unmapped, prepared=prepared)


def _prepared(resource_id: str, keys: tuple[str, ...], description_text: str,
              record_text: str, sets: tuple[str, ...],
              search: tuple[str, str, str, tuple[tuple[str, str], ...]],
              written: tuple[tuple[str, bytes, str], ...]) -> Prepared:
    """A :class:`Prepared` from its pickled form (:meth:`Prepared.__reduce__`)."""
    title, body, concepts, facets = search
    return Prepared(resource_id=resource_id, keys=keys, description_text=description_text,
                    record_text=record_text, sets=sets,
                    search=SearchDocument(title=title, body=body, concepts=concepts,
                                          facets=facets), written=written)


def record_id_for(base_uri: str, member_id: str, identifier: str) -> str:
    """A catalogue IRI: ``uuid5(NAMESPACE_URL, "member|identifier")`` under ``resources/``.

    A new resource's IRI is minted from its smallest match key (``member_id`` empty,
    ``identifier`` the key, e.g. ``url:https://...``), or, when its description has no key,
    from the member's record. Deterministic (RFC 4122 name-based, SHA-1; computed here without
    building a :class:`uuid.UUID` object since it runs for every record), and which
    description of a resource comes first is fixed too: members are normalized in
    :func:`normalization_order`, and when resources merge the smallest IRI stays. So a
    catalogue built from the same raw records gets the same IRIs, whatever order the members
    are listed or finish in (docs/normalization.md, "Catalogue IRIs").
    """
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + f"{member_id}|{identifier}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{base_uri}resources/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


# Characters an identifier may hold and still be quoted by replacing ':' alone (OAI identifiers
# are "oai:host:local-id"); anything else goes through urllib's quote.
_PLAIN = re.compile(r"[A-Za-z0-9_.~:-]*")


def _quote(value: str) -> str:
    """``quote(value, safe='')``, with a fast path for the usual OAI identifier."""
    if _PLAIN.fullmatch(value):
        return value.replace(":", "%3A")
    return quote(value, safe="")


def provenance(member: MemberConfig, base_uri: str, record: StoredRecord) -> Provenance:
    """The ``mainEntityOfPage`` entry saying where a description came from."""
    separator = "&" if "?" in member.endpoint else "?"
    get_record = (f"{member.endpoint}{separator}verb=GetRecord&metadataPrefix="
                  f"{_quote(record.metadata_prefix)}&identifier={_quote(record.identifier)}")
    return {
        "id": get_record,
        "type": "WebPage",
        "provider": {"id": f"{base_uri}members/{member.id}", "type": "Organization",
                     "name": member.name},
        "identifier": record.identifier,
        "dateModified": normalize_datestamp(record.datestamp),
        "sdDatePublished": record.harvested_at,
    }


_OPTIONS = {contacts: CrosswalkOptions(include_contacts=contacts) for contacts in (False, True)}


def describe(record: StoredRecord, member: MemberConfig, *, base_uri: str,
             vocabularies: Vocabularies) -> Described:
    """Crosswalk, map and validate one stored raw record (pure: no store, no network).

    Never raises for what a record holds: anything that goes wrong while reading it
    (nesting deeper than Python's recursion limit, text that is not valid Unicode, a
    record larger than :data:`MAX_RECORD_BYTES`, a bug a record triggers) comes back as
    the record's problems, so that one record is quarantined and the run goes on.
    """
    raw = record.raw or b""
    if len(raw) > MAX_RECORD_BYTES:
        return Described(format="unknown", description=None, problems=(
            f"the record is {len(raw) / 1048576:.1f} MiB; records over "
            f"{MAX_RECORD_BYTES // 1048576} MiB are not normalized (its raw bytes are kept)",))
    try:
        return _describe(raw, record, member, base_uri, vocabularies)
    except RecursionError:
        problem = "the metadata is nested too deeply to read (beyond Python's recursion limit)"
    except UnicodeError as err:
        problem = f"the metadata holds text that is not valid Unicode ({err})"
    except Exception as err:  # STYLE: fail one record, never the run
        problem = f"cannot describe the record ({type(err).__name__}: {err})"
    return Described(format="unknown", description=None, problems=(problem,))


def _describe(raw: bytes, record: StoredRecord, member: MemberConfig, base_uri: str,
              vocabularies: Vocabularies) -> Described:
    try:
        payload = metadata_element(raw)
        name = detect_format(payload)
        description = crosswalk(payload, format=name, options=_OPTIONS[member.publish_contacts])
    except CrosswalkError as err:
        return Described(format="unknown", description=None, problems=(str(err),))
    description, unmapped = vocabularies.apply(description)
    # The one gate of contact data (normalize/contacts.py): every description, whatever its
    # format or crosswalk, passes here before it is stored, merged or written anywhere.
    description = scrub_description(description, include_contacts=member.publish_contacts)
    description["mainEntityOfPage"] = [provenance(member, base_uri, record)]
    candidate = {"@context": f"{base_uri}context.jsonld",
                 "id": record_id_for(base_uri, member.id, record.identifier), **description}
    # Every concept in it was made by vocabularies.apply (crosswalks emit source terms only).
    issues = validate_record(candidate, shipped_concepts=True)
    return Described(format=name, description=description,
                     problems=tuple([i.message for i in issues]) if issues else (),
                     unmapped=tuple(unmapped) if unmapped else ())


def describe_batch(records: Sequence[StoredRecord], member: MemberConfig, base_uri: str,
                   vocabularies: Vocabularies) -> list[Described | None]:
    """:func:`describe` of each record; ``None`` for a deletion (there is nothing to describe)."""
    return [None if r.deleted or r.raw is None else
            describe(r, member, base_uri=base_uri, vocabularies=vocabularies)
            for r in records]


_worker_vocabularies: list[Vocabularies] = []  # in a worker process: its one Vocabularies


def _start_worker(extra_mappings: tuple[Path, ...]) -> None:
    """A worker process's start: the vocabularies the catalogue's config names."""
    _worker_vocabularies.append(Vocabularies.load(extra_mappings) if extra_mappings
                                else default_vocabularies())


def _describe_in_worker(records: Sequence[StoredRecord], member: MemberConfig,
                        base_uri: str, prepare: bool = True) -> list[Described | None]:
    """:func:`describe_batch`, and (``prepare``) what each description's likely resource is
    made into prepared here too, so the writing process seldom merges, encodes or renders
    (:class:`Prepared`)."""
    described = describe_batch(records, member, base_uri, _worker_vocabularies[0])
    if not prepare:
        return described
    return [d if d is None else _with_prepared(d, r, member, base_uri)
            for r, d in zip(records, described, strict=True)]


def _with_prepared(described: Described, record: StoredRecord, member: MemberConfig,
                   base_uri: str) -> Described:
    description = described.description
    if description is None or described.problems:
        return described
    try:
        # The description as the store gives it back to the merge (its stored form).
        description_text = canonical_json(description)
        stored = parse_json(description_text)
        keys = tuple(match_keys(stored))
        resource_id = record_id_for(base_uri, "", min(keys)) if keys else record_id_for(
            base_uri, member.id, record.identifier)
        merged = merge_descriptions(
            [Ranked(description=stored, format_rank=_RANKS.get(described.format, 0),
                    member_id=member.id, identifier=record.identifier)],
            record_id=resource_id, context=f"{base_uri}context.jsonld")
        record_text = canonical_json(merged)
        resource = parse_json(record_text)
        prepared = Prepared(
            resource_id=resource_id, keys=keys, description_text=description_text,
            record_text=record_text, sets=tuple(oai_set_specs(resource)),
            # the index is made with the shipped vocabularies (as the store makes it)
            search=search_document(resource, default_vocabularies()),
            written=tuple((prefix, _render(resource, prefix), WRITERS[prefix].version)
                          for prefix in PREWRITTEN))
    except Exception:  # STYLE: a guess only; the writing process does it and reports
        return described
    return dataclasses.replace(described, prepared=prepared)


def _worker_died(record: StoredRecord) -> Described | None:
    """What a record that killed the worker describing it (twice) becomes: quarantined."""
    if record.deleted or record.raw is None:
        return None
    return Described(format="unknown", description=None, problems=(
        "the worker process normalizing this record died (a crash or a lack of memory "
        "while reading it); its raw record is kept",))


def _reason(text: str) -> str:
    """A quarantine reason that can be stored and shown: valid UTF-8, of bounded length."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON - 1] + "…"


@dataclass(slots=True)
class NormalizeResult:
    """What one member's normalization did."""

    member_id: str
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    unmapped: dict[str, int] = field(default_factory=dict)
    error: str | None = None  # why this member's normalization stopped (the others went on)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "member": self.member_id, "processed": self.processed, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed,
            "quarantined": self.quarantined, "seconds": round(self.seconds, 3),
            "unmapped": dict(sorted(self.unmapped.items(), key=lambda kv: -kv[1])[:20])}
        if self.error is not None:
            out["error"] = self.error
        return out


class Catalog:
    """The unified catalogue over a store: normalization, merging, de-duplication.

    The pure part of normalizing a record (:func:`describe`) runs in ``jobs`` processes
    (default: ``[harvest] jobs``, 0 meaning one a core) once a member's normalization has
    more than ``parallel_after`` records; the results are written in the order of the records,
    so the catalogue is the same as with ``jobs=1`` (all in this process). Vocabularies
    handed in are used in this process only. :meth:`close` stops the workers.
    """

    def __init__(self, config: Config, store: CatalogStore, *,
                 vocabularies: Vocabularies | None = None, jobs: int | None = None,
                 parallel_after: int | None = None) -> None:
        self.config = config
        self.store = store
        self.base_uri = config.catalog.base_uri
        self.context = f"{self.base_uri}context.jsonld"
        self.vocabularies = vocabularies or (
            Vocabularies.load(config.catalog.extra_mappings) if config.catalog.extra_mappings
            else default_vocabularies())
        jobs = config.harvest.jobs if jobs is None else jobs
        self.jobs = 1 if vocabularies is not None else (jobs or available_cores())
        self._pool: OrderedPool[StoredRecord, Described | None] = OrderedPool(
            _describe_in_worker, workers=self.jobs, on_crash=_worker_died,
            initializer=_start_worker, initargs=(tuple(config.catalog.extra_mappings),),
            parallel_after=PARALLEL_AFTER if parallel_after is None else parallel_after)

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        self._pool.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def normalize(self, member_ids: Sequence[str] | None = None, *, all_: bool = False,
                  progress: Callable[[str, int], None] | None = None) -> list[NormalizeResult]:
        """Normalize what is pending (or, with ``all_``, every raw record) for the members.

        Members are normalized in the order of their ids (:func:`normalization_order`),
        whatever order they are named in, so the IRIs minted do not depend on it; results
        come back in the order asked for.
        """
        members = [self.config.member(i) for i in member_ids] if member_ids else list(
            self.config.members)
        done = {m.id: self.normalize_member(m, all_=all_, progress=progress)
                for m in normalization_order(members)}
        return [done[m.id] for m in members]

    def normalize_member(self, member: MemberConfig, *, all_: bool = False,
                         progress: Callable[[str, int], None] | None = None,
                         result: NormalizeResult | None = None) -> NormalizeResult:
        """Normalize one member's raw records changed since its last normalization
        (counted into ``result`` when given: the part a :meth:`follow` did)."""
        started = time.monotonic()
        result = result or NormalizeResult(member_id=member.id)
        since = 0 if all_ else self.store.member_state(member.id).normalized_seq
        batch: list[StoredRecord] = []
        self._pool.forget()
        try:
            for record in self.store.iter_records(member.id, since_seq=since):
                batch.append(record)
                if len(batch) >= BATCH:
                    self._submit(member, batch, result, prepare=not all_)
                    batch = []
                    if progress:
                        progress(member.id, result.processed)
            self._submit(member, batch, result, prepare=not all_)
            self._pool.drain(self._writer(member, result))
        finally:
            self._pool.forget()  # what a failure left in flight is pending for the next run
        self.refresh_written()
        if progress:
            progress(member.id, result.processed)
        result.seconds += time.monotonic() - started
        return result

    def follow(self, member: MemberConfig, *,
               progress: Callable[[str, int], None] | None = None) -> Follower:
        """Normalize a member's records while it is harvested (:class:`Follower`)."""
        return Follower(self, member, progress)

    def _submit(self, member: MemberConfig, batch: list[StoredRecord],
                result: NormalizeResult, *, prepare: bool = True) -> None:
        """Describe ``batch`` (in a worker when there are some) and write it in its turn.
        ``prepare``: workers prepare each new resource too (:class:`Prepared`); not for
        ``normalize --all``, whose records are mostly unchanged (nothing is written for
        them, so what a worker prepared would only be made, sent and dropped)."""
        self._pool.submit(batch, (member, self.base_uri, prepare), self._writer(member, result),
                          lambda b: describe_batch(b, member, self.base_uri, self.vocabularies))

    def _writer(self, member: MemberConfig, result: NormalizeResult
                ) -> Callable[[list[StoredRecord], list[Described | None]], None]:
        return lambda batch, described: self._apply(member, batch, described, result)

    def refresh_written(self) -> int:
        """Re-render the pre-rendered metadata that today's writers would write otherwise.

        After an upgrade that changed a writer (its :attr:`MetadataWriter.version`), every
        record's stored metadata in that format is of the old version: the provider does not
        serve it (it renders those records on request, correct but slower) and this brings
        it up to date once, in batches, whether or not the records changed. In the steady
        state it costs one lookup: the versions last brought up to date are kept in the
        store. Returns how many were re-rendered.
        """
        current = {prefix: WRITERS[prefix].version for prefix in PREWRITTEN}
        if self.store.written_versions() == current:
            return 0
        done = 0
        for prefix in PREWRITTEN:
            after = 0
            while True:
                with self.store.catalog() as txn:
                    stale = txn.stale_disseminations(prefix, current[prefix], after_seq=after,
                                                     limit=BATCH)
                    for resource in stale:
                        try:
                            _prewrite_one(txn, resource.id, resource.record, prefix)
                        except Exception:  # STYLE: fail one record, never the run
                            # left unwritten, so the provider renders it on request, as
                            # it does any record without current metadata
                            log.warning("cannot pre-render %s as %s", resource.id, prefix,
                                        exc_info=True)
                if not stale:
                    break
                after = stale[-1].seq
                done += len(stale)
        with self.store.catalog() as txn:
            txn.set_written_versions(current)
        return done

    def _apply(self, member: MemberConfig, batch: list[StoredRecord],
               described: list[Described | None], result: NormalizeResult) -> None:
        """Write one batch's descriptions in one transaction (a batch below the member's
        stored normalized_seq, as ``--all`` reads, leaves that alone)."""
        done = self.store.member_state(member.id).normalized_seq
        try:
            with self.store.catalog() as txn:
                # What the batch's records were made into last time, in three reads for the
                # batch: an unchanged record then costs no statement and no write at all.
                before = txn.normalized_before(member.id, [r.identifier for r in batch])
                look = _Lookahead(txn)
                keys = look.read_ahead(self.base_uri, member, batch, described, before)
                seen: set[str] = set()  # the batch's identifiers handled so far
                kinds = [self._one(look, member, r, d, before.get(r.identifier, _NOTHING),
                                   seen, k)
                         for r, d, k in zip(batch, described, keys, strict=True)]
                look.flush()
                if batch[-1].seq > done:
                    txn.set_normalized_seq(member.id, batch[-1].seq)
        except StoreError:
            raise  # the store, not a record: the member stops and its batch is retried next run
        except Exception:
            # A record the crosswalk accepted failed later (merging, writing its metadata):
            # the batch was rolled back whole; redo it one record per transaction, so only
            # the record that fails again is quarantined.
            kinds = [self._alone(member, r, d) for r, d in zip(batch, described, strict=True)]
        for outcome, kind in zip(described, kinds, strict=True):
            result.processed += 1
            if kind == "create":
                result.created += 1
            elif kind == "update":
                result.updated += 1
            elif kind == "delete":
                result.removed += 1
            elif kind == "quarantined":
                result.quarantined += 1
            else:
                result.unchanged += 1
            if outcome is not None:
                for field_, source, value in outcome.unmapped:
                    key = f"{field_}: {source} {value!r}"
                    result.unmapped[key] = result.unmapped.get(key, 0) + 1

    def _alone(self, member: MemberConfig, record: StoredRecord,
               outcome: Described | None) -> str | None:
        """One record in a transaction of its own; quarantined if it fails there too."""
        try:
            with self.store.catalog() as txn:
                look = _Lookahead(txn)
                kind = self._one(look, member, record, outcome, self._before(txn, member, record))
                look.flush()
                txn.set_normalized_seq(member.id, record.seq)
            return kind
        except StoreError:
            raise
        except Exception as err:  # STYLE: fail one record, never the run
            failed = Described(format=outcome.format if outcome else "unknown", description=None,
                               problems=(f"cannot merge or write the record "
                                         f"({type(err).__name__}: {err})",))
        with self.store.catalog() as txn:
            look = _Lookahead(txn)
            kind = self._one(look, member, record, failed, self._before(txn, member, record))
            look.flush()
            txn.set_normalized_seq(member.id, record.seq)
        return kind

    @staticmethod
    def _before(txn: CatalogTxn, member: MemberConfig, record: StoredRecord) -> NormalizedBefore:
        return txn.normalized_before(member.id, [record.identifier]).get(record.identifier,
                                                                         _NOTHING)

    def _one(self, look: _Lookahead, member: MemberConfig, record: StoredRecord,
             outcome: Described | None, before: NormalizedBefore,
             seen: set[str] | None = None, keys: list[str] | None = None) -> str | None:
        """Write one record's outcome; ``before`` is what it was made into before this
        transaction, ``seen`` the identifiers this transaction handled already (when given),
        ``keys`` its description's match keys (when they were made already). The store is
        reached through ``look.txn`` at each use (which writes what ``look`` holds back)."""
        old = before.description
        first = seen is not None and record.identifier not in seen
        if seen is not None:
            seen.add(record.identifier)
        if outcome is None:  # the member deleted its description
            if old is None:
                return None
            # as it is now (merges)
            old = look.txn.description(member.id, record.identifier) or old
            look.txn.delete_description(member.id, record.identifier)
            if before.unmapped:
                look.txn.set_unmapped(member.id, record.identifier, ())
            return self._rebuild(look, old.resource_id)
        if outcome.description is None or outcome.problems:
            reason = "; ".join(outcome.problems) or "no description"
            look.txn.quarantine(member.id, record.identifier, stage="normalize",
                           reason=_reason(f"{outcome.format}: {reason}"), raw=record.raw)
            return "quarantined"
        if before.quarantined:
            look.txn.resolve_quarantine(member.id, record.identifier, stage="normalize")
        description = outcome.description
        prepared = outcome.prepared
        if keys is None:
            keys = list(prepared.keys) if prepared is not None else match_keys(description)
        found = look.resources_for_keys(keys)
        if (old is not None and found <= {old.resource_id} and old.format == outcome.format
                and old.rank == _RANKS.get(outcome.format, 0) and old.description == description
                and before.unmapped == frozenset(outcome.unmapped)):
            # The same description as last time (the member re-sent it, or normalize --all
            # with nothing new in the crosswalks and vocabularies): its resource, match keys,
            # sets, search rows and pre-rendered metadata were all made from it already.
            return None
        # Read again: an earlier record of the batch may have moved it (a merge). A merge
        # moves descriptions only, so one that did not exist before the transaction exists
        # now only if this identifier came earlier in it: else there is nothing to read.
        if old is not None or not first:
            old = look.txn.description(member.id, record.identifier)
        fresh = False  # a new resource, which no other description names
        if old is not None:
            resource_id = old.resource_id  # stable when the member re-sends it
            if found - {resource_id}:
                resource_id = min(found | {resource_id})
        elif found:
            # Several resources turned out to be one: the smallest IRI stays (a choice that
            # depends on the IRIs alone, never on timing), the others are retired into it.
            resource_id = min(found)
        else:
            resource_id, fresh = self._mint(look, member, record, keys)
        stored = StoredDescription(
            member_id=member.id, identifier=record.identifier, resource_id=resource_id,
            format=outcome.format, rank=_RANKS.get(outcome.format, 0), description=description)
        if (fresh and prepared is not None and prepared.resource_id == resource_id
                and before is _NOTHING):
            # What the worker guessed: this description alone makes the resource, and the
            # worker made all of it already (what _rebuild would make, byte for byte). The
            # catalogue knew nothing of the identifier or the IRI: written with the batch's
            # other new resources, at once (look.add_new).
            look.add_new(NewResource(
                description=stored, description_text=prepared.description_text,
                raw_seq=record.seq, unmapped=outcome.unmapped, keys=prepared.keys,
                sets=prepared.sets, encoded=Encoded(prepared.record_text, prepared.search),
                written=prepared.written))
            return "create"
        look.txn.put_description(stored, record.seq,
                                 text=None if prepared is None else prepared.description_text)
        if before.unmapped != frozenset(outcome.unmapped):  # the quality report's
            look.txn.set_unmapped(member.id, record.identifier, outcome.unmapped)
        if fresh and prepared is not None and prepared.resource_id == resource_id:
            # The worker's guess again, for an identifier the catalogue knew something of
            # (an earlier quarantine entry, unmapped terms): written on its own.
            return self._write(look, resource_id, None, prepared.keys, prepared.sets,
                               Encoded(prepared.record_text, prepared.search),
                               prepared.written)
        retired = found - {resource_id}
        if old is not None and old.resource_id != resource_id:
            retired.add(old.resource_id)
        for other in sorted(retired):
            for d in look.txn.descriptions_of(other):
                look.txn.put_description(StoredDescription(
                    member_id=d.member_id, identifier=d.identifier, resource_id=resource_id,
                    format=d.format, rank=d.rank, description=d.description), record.seq)
            # /resources/{other} redirects; the record says sameAs
            look.txn.retire(other, resource_id)
            self._rebuild(look, other)
        return self._rebuild(look, resource_id, prepared)

    def _mint(self, look: _Lookahead, member: MemberConfig, record: StoredRecord,
              keys: Sequence[str]) -> tuple[str, bool]:
        """The IRI of a new resource: from its smallest match key, so whichever member
        describes it first (a member whose harvest failed and came back later, say) the
        resource gets the same IRI; from the member's record when it has no key, or when
        that IRI names a live resource that no longer holds the key. And whether that IRI
        was never used (no resource, not even a tombstone)."""
        if keys:
            minted = record_id_for(self.base_uri, "", min(keys))
            deleted = look.state(minted)
            if deleted is None or deleted:
                return minted, deleted is None
        minted = record_id_for(self.base_uri, member.id, record.identifier)
        return minted, look.state(minted) is None

    def _rebuild(self, look: _Lookahead, resource_id: str,
                 prepared: Prepared | None = None) -> str | None:
        txn = look.txn
        descriptions = txn.descriptions_of(resource_id)
        if not descriptions:
            look.set_keys(resource_id, [])
            existing = txn.resource(resource_id)
            if existing is None or existing.deleted:
                return None
            # A tombstone stays in its sets: a selective harvest of a set sees the deletion.
            return look.put_resource(resource_id, existing.record, deleted=True,
                                     sets=oai_set_specs(existing.record))
        merged = merge_descriptions(
            [Ranked(description=d.description, format_rank=d.rank, member_id=d.member_id,
                    identifier=d.identifier) for d in descriptions],
            record_id=resource_id, context=self.context)
        same_as = txn.aliases_of(resource_id)
        if same_as:
            merged["sameAs"] = same_as
        keys: list[str] = []
        for d in descriptions:
            for key in match_keys(d.description):
                if key not in keys:
                    keys.append(key)
        text = canonical_json(merged)
        if prepared is not None and prepared.record_text == text:
            return self._write(look, resource_id, None, keys, prepared.sets,
                               Encoded(text, prepared.search), prepared.written)
        # Everything is made from the record's stored form, as the store gives it back: the
        # pre-rendered bytes are then what GetRecord renders from the stored record.
        record: CommonRecord = parse_json(text)
        return self._write(look, resource_id, record, keys, oai_set_specs(record),
                           Encoded(text), None)

    @staticmethod
    def _write(look: _Lookahead, resource_id: str, record: CommonRecord | None,
               keys: Sequence[str], sets: Sequence[str], encoded: Encoded,
               written: Sequence[tuple[str, bytes, str]] | None) -> str | None:
        """Write a live resource (its stored form ``record``) with its keys and sets, and its
        pre-rendered metadata (``written``, or rendered here) if it changed. ``record`` may
        be None when ``encoded`` and ``written`` hold all that is made of it."""
        txn = look.txn
        look.set_keys(resource_id, keys)
        kind = look.put_resource(resource_id, record, deleted=False, sets=sets, encoded=encoded)
        if kind is None:
            return None
        if written is None:
            assert record is not None, "a record to render"
            prewrite(txn, resource_id, record)
        else:
            for prefix, xml, version in written:
                txn.put_dissemination(resource_id, prefix, xml, version=version)
        return kind


class _Lookahead:
    """What one catalogue transaction knows of match keys and IRIs: read for a whole batch
    in two statements before its first record (:meth:`read_ahead`), on demand for the rest,
    and kept up to date with what the transaction writes through it.

    On PostgreSQL every read waits for all the statements queued before it (pipeline mode):
    reading each record's keys and minted IRI, and looking before writing a resource, made
    a batch of 100 new records wait on the server 300 times. Reads and writes of keys and
    resources go through here; everything else straight to :attr:`txn`.
    """

    def __init__(self, txn: CatalogTxn) -> None:
        self._txn = txn
        self._new: list[NewResource] = []  # held back: written by flush, in order
        self._keys: dict[str, str | None] = {}  # match key -> its resource (None: no row)
        self._owned: dict[str, set[str]] = {}  # resource -> its keys among _keys
        self._states: dict[str, bool | None] = {}  # IRI -> deleted (None: no row)

    @property
    def txn(self) -> CatalogTxn:
        """The transaction, once what is held back is written (so what any statement
        reads or writes next follows it, as it would one record at a time)."""
        self.flush()
        return self._txn

    def flush(self) -> None:
        """Write the new resources held back (:meth:`add_new`): a few statements for all."""
        if self._new:
            self._txn.put_new_resources(self._new)
            self._new = []

    def add_new(self, item: NewResource) -> None:
        """Hold back a new resource to write with the others (:meth:`flush`); what this
        knows of keys and IRIs has it at once."""
        resource_id = item.description.resource_id
        self._take_keys(resource_id, item.keys)  # (it adds keys: none are the IRI's yet)
        self._states[resource_id] = False
        self._new.append(item)

    def read_ahead(self, base_uri: str, member: MemberConfig, batch: Sequence[StoredRecord],
                   described: Sequence[Described | None],
                   before: dict[str, NormalizedBefore]) -> list[list[str] | None]:
        """Read what the batch's records will ask of keys and IRIs (the IRI each new record
        would mint first); return each record's match keys (None: it has no description)."""
        keys: list[list[str] | None] = []
        iris: list[str] = []
        for record, outcome in zip(batch, described, strict=True):
            if outcome is None or outcome.description is None or outcome.problems:
                keys.append(None)
                continue
            prepared = outcome.prepared
            mine = (list(prepared.keys) if prepared is not None
                    else match_keys(outcome.description))
            keys.append(mine)
            if record.identifier not in before:
                iris.append(prepared.resource_id if prepared is not None else record_id_for(
                    base_uri, "", min(mine)) if mine else record_id_for(
                    base_uri, member.id, record.identifier))
        self._load([k for mine in keys if mine for k in mine], iris)
        return keys

    def _load(self, keys: Sequence[str], iris: Sequence[str]) -> None:
        unknown = [k for k in dict.fromkeys(keys) if k not in self._keys]
        if unknown:
            found = self._txn.resources_for_keys(unknown)  # (none of them is held back)
            for key in unknown:
                owner = self._keys[key] = found.get(key)
                if owner is not None:
                    self._owned.setdefault(owner, set()).add(key)
        unread = [i for i in dict.fromkeys(iris) if i not in self._states]
        if unread:
            states = self._txn.resource_states(unread)
            for iri in unread:
                self._states[iri] = states.get(iri)

    def resources_for_keys(self, keys: Sequence[str]) -> set[str]:
        """The resources that hold any of ``keys``."""
        self._load(keys, ())
        return {owner for key in keys if (owner := self._keys[key]) is not None}

    def state(self, resource_id: str) -> bool | None:
        """Whether the IRI's resource is deleted; None when it has no row at all."""
        self._load((), (resource_id,))
        return self._states[resource_id]

    def set_keys(self, resource_id: str, keys: Sequence[str]) -> None:
        self.txn.set_keys(resource_id, keys)
        for key in self._owned.pop(resource_id, ()):  # every key of the resource goes first
            if self._keys.get(key) == resource_id:
                self._keys[key] = None
        self._take_keys(resource_id, keys)

    def _take_keys(self, resource_id: str, keys: Sequence[str]) -> None:
        owned = self._owned.setdefault(resource_id, set())
        for key in keys:  # then each key is the resource's, taken from any other
            previous = self._keys.get(key)
            if previous is not None and previous != resource_id:
                self._owned.get(previous, set()).discard(key)
            self._keys[key] = resource_id
            owned.add(key)

    def put_resource(self, resource_id: str, record: CommonRecord | None, *, deleted: bool,
                     sets: Sequence[str], encoded: Encoded | None = None) -> str | None:
        new = resource_id in self._states and self._states[resource_id] is None
        kind = self.txn.put_resource(resource_id, record, deleted=deleted, sets=sets,
                                     encoded=encoded, new=new)
        if kind is not None:
            self._states[resource_id] = deleted
        return kind


_NOTHING = NormalizedBefore(description=None)


class Follower:
    """A member's normalization while it is harvested: :meth:`page_committed` after each page.

    Each call takes the records the store changed since the last one (the page just
    committed, in ``seq`` order) and hands them to the catalogue's workers; their results
    are written as they come, in that order, by later calls and by :meth:`finish`. What is
    normalized, and in which order, depends on the pages alone, never on how fast the
    workers are; it is what normalizing after the harvest gives, except for a record the
    harvest receives twice: it is normalized once for each copy, as two harvests would.
    A failure stops following (the harvest goes on); :meth:`finish` raises it.
    """

    def __init__(self, catalog: Catalog, member: MemberConfig,
                 progress: Callable[[str, int], None] | None) -> None:
        self.catalog = catalog
        self.member = member
        self.progress = progress
        self.result = NormalizeResult(member_id=member.id)
        self._read_seq = catalog.store.member_state(member.id).normalized_seq
        self._error: BaseException | None = None
        self._seconds = 0.0
        catalog._pool.forget()

    def page_committed(self) -> None:
        """Normalize what the last committed page changed (never raises for a failure)."""
        if self._error is not None:
            return
        started = time.monotonic()
        try:
            batch: list[StoredRecord] = []
            for record in self.catalog.store.iter_records(self.member.id,
                                                          since_seq=self._read_seq):
                batch.append(record)
                self._read_seq = record.seq
                if len(batch) >= BATCH:
                    self.catalog._submit(self.member, batch, self.result)
                    batch = []
            self.catalog._submit(self.member, batch, self.result)
        except Exception as err:  # normalization stops; the harvest must not
            self._error = err
            self.catalog._pool.forget()
        self._seconds += time.monotonic() - started  # (progress: the harvest's pages say it)

    def finish(self) -> NormalizeResult:
        """Write what is in flight, then normalize whatever is still pending (after a
        failure the pending records wait for the next run); the member's whole result."""
        if self._error is not None:
            raise self._error
        started = time.monotonic()
        try:
            self.catalog._pool.drain(self.catalog._writer(self.member, self.result))
        finally:
            self.catalog._pool.forget()
        self.result.seconds = self._seconds + time.monotonic() - started
        return self.catalog.normalize_member(self.member, progress=self.progress,
                                             result=self.result)


def normalization_order(members: Sequence[MemberConfig]) -> list[MemberConfig]:
    """The order members are normalized in: by id, whatever order the config lists them in.

    The first description of a resource mints its IRI (:func:`record_id_for`), so this order
    is what makes a catalogue built from the same raw records get the same IRIs, however
    the members are listed and whichever harvest ends first.
    """
    return sorted(members, key=lambda m: m.id)


def prewrite(txn: CatalogTxn, resource_id: str, record: CommonRecord) -> None:
    """Write a changed record's OAI-PMH metadata once, to be served many times (``record``
    in its stored form, as the store gives it back: what GetRecord renders).

    The provider splices these bytes into ListRecords responses instead of building
    the metadata for every request (they are used only while the record's seq and the
    writer's version match; :meth:`Catalog.refresh_written` re-renders them after a writer
    changed).
    """
    for prefix in PREWRITTEN:
        _prewrite_one(txn, resource_id, record, prefix)


def _prewrite_one(txn: CatalogTxn, resource_id: str, record: CommonRecord, prefix: str) -> None:
    """The record's metadata in ``prefix``, stored with the version of the writer that made
    it: the provider serves it only while that is the version of today's writer."""
    txn.put_dissemination(resource_id, prefix, _render(record, prefix),
                          version=WRITERS[prefix].version)


def _render(record: CommonRecord, prefix: str) -> bytes:
    xml: bytes = WRITERS[prefix].render(record)
    return xml
