"""Builders of what the contract tests feed a store: raw records, pages, catalogue records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eduxchange.catalog.sets import oai_set_specs
from eduxchange.core.models import Header, Issue, Quarantined, RawRecord
from eduxchange.store.base import PageCounts, StoredDescription

BASE = "https://catalog.example.org/"
T0 = "2024-01-01T00:00:00Z"


def raw(identifier: str, datestamp: str = T0, *, deleted: bool = False,
        sets: Sequence[str] = (), body: str = "") -> RawRecord:
    """A record as a member sends it; ``body`` tells versions apart in ``raw``."""
    status = ' status="deleted"' if deleted else ""
    xml = (f"<record><header{status}><identifier>{identifier}</identifier>"
           f"<datestamp>{datestamp}</datestamp></header>"
           f"<metadata><x>{body or identifier}</x></metadata></record>")
    return RawRecord(header=Header(identifier=identifier, datestamp=datestamp,
                                   sets=tuple(sets), deleted=deleted),
                     raw=xml.encode("utf-8"))


def bad(reason: str, identifier: str | None = None) -> Quarantined:
    """A record that could not be read."""
    return Quarantined(reason=reason, raw=f"<broken {reason}".encode(), identifier=identifier)


def commit(store: Any, member: str, run: int, records: Iterable[RawRecord] = (), *,
           quarantined: Sequence[Quarantined] = (), resume: dict[str, Any] | None = None,
           prefix: str = "oai_dc") -> PageCounts:
    """``commit_page`` with keyword defaults."""
    counts: PageCounts = store.commit_page(member, run, prefix, list(records), list(quarantined),
                                           resume)
    return counts


def start(store: Any, member: str, mode: str = "full") -> int:
    """A new run of ``member``."""
    run: int = store.begin_run(member, mode=mode, metadata_prefix="oai_dc", from_=None)
    return run


def harvest(store: Any, member: str, identifiers: Iterable[str], datestamp: str = T0) -> int:
    """One run committing ``identifiers`` as one page, finished ok; returns the run id."""
    run = start(store, member)
    commit(store, member, run, [raw(i, datestamp) for i in identifiers])
    store.finish_run(run, state="ok", counts={}, error=None)
    return run


def idents(records: Iterable[Any]) -> list[str]:
    """The identifiers of stored records, in the order given."""
    return [r.identifier for r in records]


def issue(code: str, severity: str = "warning", identifier: str | None = None) -> Issue:
    return Issue(code=code, message=f"{code} happened", severity=severity,  # type: ignore[arg-type]
                 identifier=identifier)


def rid(name: str) -> str:
    """A catalogue IRI (the ``{base}resources/<uuid>`` shape: 36 characters after the prefix)."""
    digits = name.encode().hex()[:12].ljust(12, "0")
    return f"{BASE}resources/00000000-0000-4000-8000-{digits}"


def record(resource_id: str, title: str, *, members: Sequence[str] = ("m1",),
           lang: str = "en", description: str = "", keywords: Sequence[str] = (),
           types: Sequence[str] = (), licence: str | None = None) -> dict[str, Any]:
    """A catalogue record of the common model, with what search indexes and facets count."""
    out: dict[str, Any] = {
        "id": resource_id,
        "name": {lang: title},
        "inLanguage": [lang],
        "mainEntityOfPage": [{"id": f"{BASE}members/{m}/records/x",
                              "provider": {"id": f"{BASE}members/{m}"}} for m in members],
    }
    if description:
        out["description"] = {lang: description}
    if keywords:
        out["keywords"] = {lang: list(keywords)}
    if types:
        out["learningResourceType"] = [{"id": t} for t in types]
    if licence:
        out["license"] = {"id": licence}
    return out


def description(member: str, identifier: str, resource_id: str, *, rank: int = 0,
                fmt: str = "oai_dc", **fields: Any) -> StoredDescription:
    return StoredDescription(member_id=member, identifier=identifier, resource_id=resource_id,
                             format=fmt, rank=rank, description={"title": identifier, **fields})


def put_resource(txn: Any, resource_id: str, rec: dict[str, Any], *, deleted: bool,
                 sets: Sequence[str] | None = None) -> str | None:
    """``txn.put_resource`` with the setSpecs the catalogue's rule gives ``rec`` (the store
    keeps whatever sets it is given: :func:`eduxchange.catalog.sets.oai_set_specs` is policy)."""
    kind: str | None = txn.put_resource(resource_id, rec, deleted=deleted,
                                        sets=oai_set_specs(rec) if sets is None else list(sets))
    return kind
