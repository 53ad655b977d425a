"""The record model of the test members and a small thread-safe in-memory store."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["MemberRecord", "RecordStore", "in_set", "naive_utc", "utcnow"]


@dataclass
class MemberRecord:
    """One record of a test member repository.

    ``identifier`` looks like ``oai:example.org:rec-000001``; ``datestamp`` is
    a naive UTC datetime; ``metadata`` is the XML of the single element that
    goes inside ``<metadata>`` (served verbatim by the faulty server).
    """

    identifier: str
    datestamp: datetime
    sets: tuple[str, ...] = ()
    deleted: bool = False
    metadata: bytes = b""


def naive_utc(dt: datetime) -> datetime:
    """Return ``dt`` as a naive UTC datetime (aware values are converted)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def utcnow() -> datetime:
    """The current time as a naive UTC datetime, truncated to whole seconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def in_set(record: MemberRecord, set_spec: str) -> bool:
    """True if ``record`` is in ``set_spec`` or in one of its sub-sets (``a`` covers ``a:b``)."""
    return any(s == set_spec or s.startswith(set_spec + ":") for s in record.sets)


class RecordStore:
    """A mutable list of :class:`MemberRecord`, shared by the server threads and the test.

    ``records`` is the plain list (mutate it freely between requests); the
    helpers below take ``lock`` and are safe to call while a harvest runs.
    """

    def __init__(self, records: Iterable[MemberRecord] = ()) -> None:
        self.lock = threading.RLock()
        self.records: list[MemberRecord] = list(records)

    def get(self, identifier: str) -> MemberRecord | None:
        """The record with ``identifier`` (deleted or not), or None."""
        with self.lock:
            return next((r for r in self.records if r.identifier == identifier), None)

    def add(self, record: MemberRecord) -> None:
        """Add a new record; :class:`ValueError` if the identifier is taken."""
        with self.lock:
            if self.get(record.identifier) is not None:
                raise ValueError(f"duplicate identifier {record.identifier}")
            self.records.append(record)

    def update(
        self,
        identifier: str,
        *,
        metadata: bytes | None = None,
        sets: tuple[str, ...] | None = None,
        deleted: bool | None = None,
        datestamp: datetime | None = None,
    ) -> MemberRecord:
        """Change a record and bump its datestamp (default: now); returns the new record."""
        with self.lock:
            index = self._index(identifier)
            old = self.records[index]
            new = dataclasses.replace(
                old,
                metadata=old.metadata if metadata is None else metadata,
                sets=old.sets if sets is None else tuple(sets),
                deleted=old.deleted if deleted is None else deleted,
                datestamp=utcnow() if datestamp is None else naive_utc(datestamp),
            )
            self.records[index] = new
            return new

    def delete(self, identifier: str, *, datestamp: datetime | None = None) -> MemberRecord:
        """Mark a record deleted (its datestamp becomes the deletion time, default now)."""
        return self.update(identifier, deleted=True, datestamp=datestamp)

    def purge(self, identifier: str) -> None:
        """Forget a record completely, as a repository with transient deletes may do."""
        with self.lock:
            del self.records[self._index(identifier)]

    def select(
        self,
        *,
        from_: datetime | None = None,
        until: datetime | None = None,
        set_spec: str | None = None,
        include_deleted: bool = True,
    ) -> list[MemberRecord]:
        """Records matching the (inclusive, whole-second) bounds and set, sorted by
        ``(datestamp, identifier)``."""
        with self.lock:
            records = list(self.records)
        chosen = [
            r
            for r in records
            if (include_deleted or not r.deleted)
            and (from_ is None or r.datestamp.replace(microsecond=0) >= from_)
            and (until is None or r.datestamp.replace(microsecond=0) <= until)
            and (set_spec is None or in_set(r, set_spec))
        ]
        chosen.sort(key=lambda r: (r.datestamp, r.identifier))
        return chosen

    def set_specs(self) -> list[str]:
        """Sorted setSpecs used by any record, including the parents of ``a:b``."""
        with self.lock:
            specs = {s for r in self.records for s in r.sets}
        parents = {spec[:i] for spec in specs for i, c in enumerate(spec) if c == ":"}
        return sorted(specs | parents)

    def earliest(self) -> datetime | None:
        """The smallest datestamp in the store, or None when it is empty."""
        with self.lock:
            return min((r.datestamp for r in self.records), default=None)

    def _index(self, identifier: str) -> int:
        for index, record in enumerate(self.records):
            if record.identifier == identifier:
                return index
        raise KeyError(identifier)
