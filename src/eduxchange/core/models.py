"""Plain, frozen record types shared by every layer (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Severity",
    "Issue",
    "Header",
    "RawRecord",
    "Quarantined",
    "ResumptionToken",
    "Page",
    "IdentifyInfo",
    "MetadataFormat",
    "SetInfo",
    "HarvestResult",
    "MemberStatus",
]

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A data problem met while harvesting: reported, never raised.

    ``code`` is a stable machine-readable name (``"repaired-control-chars"``,
    ``"record-unreadable"``, ``"retry"`` ...); ``message`` is for people.
    """

    code: str
    message: str
    severity: Severity = "warning"
    member_id: str | None = None
    identifier: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """An OAI-PMH record header (OAI-PMH 2.0, section 2.5).

    ``datestamp`` is kept exactly as the member wrote it.
    """

    identifier: str
    datestamp: str
    sets: tuple[str, ...] = ()
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRecord:
    """One record as received: its header and the ``<record>`` element's XML bytes."""

    header: Header
    raw: bytes

    @property
    def identifier(self) -> str:
        return self.header.identifier


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """A record that could not be read: the reason and the raw bytes, kept."""

    reason: str
    raw: bytes
    identifier: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumptionToken:
    """A resumption token (OAI-PMH 2.0, section 3.5); ``value`` is empty on the last page."""

    value: str
    complete_list_size: int | None = None
    cursor: int | None = None
    expiration_date: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One page of a list response (ListRecords or ListIdentifiers).

    ``token`` is ``None`` when the list has ended (no element, or an empty one).
    """

    records: tuple[RawRecord, ...]
    quarantined: tuple[Quarantined, ...] = ()
    token: ResumptionToken | None = None
    complete_list_size: int | None = None
    response_date: str | None = None
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifyInfo:
    """What a repository says of itself in ``Identify`` (OAI-PMH 2.0, section 4.2)."""

    repository_name: str
    base_url: str
    protocol_version: str
    earliest_datestamp: str
    deleted_record: str  # "no" | "transient" | "persistent"
    granularity: str  # "YYYY-MM-DD" | "YYYY-MM-DDThh:mm:ssZ"
    admin_emails: tuple[str, ...] = ()
    response_date: str | None = None  # the repository's clock when it answered

    @property
    def day_granular(self) -> bool:
        return "T" not in self.granularity


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataFormat:
    """One ``metadataFormat`` of ``ListMetadataFormats`` (OAI-PMH 2.0, section 4.4)."""

    prefix: str
    schema: str = ""
    namespace: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SetInfo:
    """One set of ``ListSets`` (OAI-PMH 2.0, section 4.6)."""

    spec: str
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HarvestResult:
    """What one member's harvest did.

    ``state`` is ``"ok"`` or ``"failed"``; a failed harvest keeps every page it
    committed, and the next run resumes after them.
    """

    member_id: str
    state: Literal["ok", "failed"]
    mode: str  # "full" | "incremental" | "resumed"
    run_id: int | None = None
    metadata_prefix: str | None = None
    from_: str | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    retired: int = 0
    pages: int = 0
    stale: int = 0  # copies ignored because the store (or their page) held a newer version
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None
    issues: tuple[Issue, ...] = field(default=())
    normalization: dict[str, object] | None = None  # what normalizing into the catalogue did

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    @property
    def received(self) -> int:
        """Records received in this run (new, updated, unchanged and deletions)."""
        return self.new + self.updated + self.unchanged + self.deleted

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (issues as a count; they are many)."""
        return {
            "member": self.member_id,
            "state": self.state,
            "mode": self.mode,
            "run_id": self.run_id,
            "metadata_prefix": self.metadata_prefix,
            "from": self.from_,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "retired": self.retired,
            "quarantined": self.quarantined,
            "pages": self.pages,
            "stale": self.stale,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "issues": len(self.issues),
            "normalization": self.normalization,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberStatus:
    """A member's state as ``eduxchange status`` reports it."""

    id: str
    name: str
    endpoint: str
    state: Literal["ok", "failed", "never"]
    records: int
    deleted: int
    quarantined: int
    last_harvest: str | None
    metadata_prefix: str | None
    error: str | None
    resumable: bool = False
    warnings: int = 0  # warnings of the member's last finished run
    last_warning: dict[str, object] | None = None  # the latest of them (code, message, run, at)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "state": self.state,
            "records": self.records,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
            "last_harvest": self.last_harvest,
            "metadata_prefix": self.metadata_prefix,
            "error": self.error,
            "resumable": self.resumable,
            "warnings": self.warnings,
            "last_warning": self.last_warning,
        }
