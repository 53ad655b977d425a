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
from dataclasses import dataclass, field
from urllib.parse import quote

from lxml import etree

from ..core.config import Config, MemberConfig
from ..crosswalks import CrosswalkError, CrosswalkOptions, crosswalk, detect_format, metadata_element
from ..core.dates import normalize_datestamp
from ..core.errors import StoreError
from ..core.record import CommonRecord, Description, Provenance
from ..harvesting.formats import KNOWN_FORMATS
from .merge import Ranked, match_keys, merge_descriptions
from .sets import oai_set_specs
from ..normalize.contacts import scrub_description
from ..store.base import CatalogStore, CatalogTxn, StoredDescription, StoredRecord
from .validate import validate_record
from .vocab import Vocabularies, default_vocabularies
from ..publish.writers import WRITERS

__all__ = ["Catalog", "NormalizeResult", "describe", "Described", "record_id_for", "prewrite",
           "normalization_order", "MAX_RECORD_BYTES"]

log = logging.getLogger(__name__)
_RANKS = {f.name: f.rank for f in KNOWN_FORMATS}
#: Raw records normalized per write transaction.
BATCH = 200
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
    """The unified catalogue over a store: normalization, merging, de-duplication."""

    def __init__(self, config: Config, store: CatalogStore, *,
                 vocabularies: Vocabularies | None = None) -> None:
        self.config = config
        self.store = store
        self.base_uri = config.catalog.base_uri
        self.context = f"{self.base_uri}context.jsonld"
        self.vocabularies = vocabularies or (
            Vocabularies.load(config.catalog.extra_mappings) if config.catalog.extra_mappings
            else default_vocabularies())

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
                         progress: Callable[[str, int], None] | None = None) -> NormalizeResult:
        """Normalize one member's raw records changed since its last normalization."""
        started = time.monotonic()
        result = NormalizeResult(member_id=member.id)
        since = 0 if all_ else self.store.member_state(member.id).normalized_seq
        batch: list[StoredRecord] = []
        for record in self.store.iter_records(member.id, since_seq=since):
            batch.append(record)
            if len(batch) >= BATCH:
                self._apply(member, batch, result)
                batch = []
                if progress:
                    progress(member.id, result.processed)
        if batch:
            self._apply(member, batch, result)
        self.refresh_written()
        if progress:
            progress(member.id, result.processed)
        result.seconds = time.monotonic() - started
        return result

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
               result: NormalizeResult) -> None:
        described = [None if r.deleted or r.raw is None else
                     describe(r, member, base_uri=self.base_uri, vocabularies=self.vocabularies)
                     for r in batch]
        try:
            with self.store.catalog() as txn:
                kinds = [self._one(txn, member, r, d)
                         for r, d in zip(batch, described, strict=True)]
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
                kind = self._one(txn, member, record, outcome)
                txn.set_normalized_seq(member.id, record.seq)
            return kind
        except StoreError:
            raise
        except Exception as err:  # STYLE: fail one record, never the run
            failed = Described(format=outcome.format if outcome else "unknown", description=None,
                               problems=(f"cannot merge or write the record "
                                         f"({type(err).__name__}: {err})",))
        with self.store.catalog() as txn:
            kind = self._one(txn, member, record, failed)
            txn.set_normalized_seq(member.id, record.seq)
        return kind

    def _one(self, txn: CatalogTxn, member: MemberConfig, record: StoredRecord,
             outcome: Described | None) -> str | None:
        if outcome is None:  # the member deleted its description
            old = txn.description(member.id, record.identifier)
            if old is None:
                return None
            txn.delete_description(member.id, record.identifier)
            txn.set_unmapped(member.id, record.identifier, ())
            return self._rebuild(txn, old.resource_id)
        if outcome.description is None or outcome.problems:
            reason = "; ".join(outcome.problems) or "no description"
            txn.quarantine(member.id, record.identifier, stage="normalize",
                           reason=_reason(f"{outcome.format}: {reason}"), raw=record.raw)
            return "quarantined"
        txn.resolve_quarantine(member.id, record.identifier, stage="normalize")
        description = outcome.description
        old = txn.description(member.id, record.identifier)
        found = set(txn.resources_for_keys(match_keys(description)).values())
        if old is not None:
            resource_id = old.resource_id  # stable when the member re-sends it
            if found - {resource_id}:
                resource_id = min(found | {resource_id})
        elif found:
            # Several resources turned out to be one: the smallest IRI stays (a choice that
            # depends on the IRIs alone, never on timing), the others are retired into it.
            resource_id = min(found)
        else:
            resource_id = self._mint(txn, member, record, description)
        txn.put_description(StoredDescription(
            member_id=member.id, identifier=record.identifier, resource_id=resource_id,
            format=outcome.format, rank=_RANKS.get(outcome.format, 0), description=description,
        ), record.seq)
        txn.set_unmapped(member.id, record.identifier, outcome.unmapped)  # the quality report's
        retired = found - {resource_id}
        if old is not None and old.resource_id != resource_id:
            retired.add(old.resource_id)
        for other in sorted(retired):
            for d in txn.descriptions_of(other):
                txn.put_description(StoredDescription(
                    member_id=d.member_id, identifier=d.identifier, resource_id=resource_id,
                    format=d.format, rank=d.rank, description=d.description), record.seq)
            txn.retire(other, resource_id)  # /resources/{other} redirects; the record says sameAs
            self._rebuild(txn, other)
        return self._rebuild(txn, resource_id)

    def _mint(self, txn: CatalogTxn, member: MemberConfig, record: StoredRecord,
              description: Description) -> str:
        """The IRI of a new resource: from its smallest match key, so whichever member
        describes it first (a member whose harvest failed and came back later, say) the
        resource gets the same IRI; from the member's record when it has no key, or when
        that IRI names a live resource that no longer holds the key."""
        keys = match_keys(description)
        if keys:
            minted = record_id_for(self.base_uri, "", min(keys))
            existing = txn.resource(minted)
            if existing is None or existing.deleted:
                return minted
        return record_id_for(self.base_uri, member.id, record.identifier)

    def _rebuild(self, txn: CatalogTxn, resource_id: str) -> str | None:
        descriptions = txn.descriptions_of(resource_id)
        if not descriptions:
            txn.set_keys(resource_id, [])
            existing = txn.resource(resource_id)
            if existing is None or existing.deleted:
                return None
            # A tombstone stays in its sets: a selective harvest of a set sees the deletion.
            return txn.put_resource(resource_id, existing.record, deleted=True,
                                    sets=oai_set_specs(existing.record))
        record = merge_descriptions(
            [Ranked(description=d.description, format_rank=d.rank, member_id=d.member_id,
                    identifier=d.identifier) for d in descriptions],
            record_id=resource_id, context=self.context)
        same_as = txn.aliases_of(resource_id)
        if same_as:
            record["sameAs"] = same_as
        keys: list[str] = []
        for d in descriptions:
            for key in match_keys(d.description):
                if key not in keys:
                    keys.append(key)
        txn.set_keys(resource_id, keys)
        kind = txn.put_resource(resource_id, record, deleted=False, sets=oai_set_specs(record))
        if kind is not None:
            prewrite(txn, resource_id, record)
        return kind


def normalization_order(members: Sequence[MemberConfig]) -> list[MemberConfig]:
    """The order members are normalized in: by id, whatever order the config lists them in.

    The first description of a resource mints its IRI (:func:`record_id_for`), so this order
    is what makes a catalogue built from the same raw records get the same IRIs, however
    the members are listed and whichever harvest ends first.
    """
    return sorted(members, key=lambda m: m.id)


def prewrite(txn: CatalogTxn, resource_id: str, record: CommonRecord) -> None:
    """Write a changed record's OAI-PMH metadata once, to be served many times.

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
    writer = WRITERS[prefix]
    txn.put_dissemination(resource_id, prefix,
                          etree.tostring(writer.write(record), encoding="UTF-8"),
                          version=writer.version)
