"""Look at an OAI-PMH endpoint before harvesting it: identify, formats, sets, a sample record.

What an operator does in their first five minutes with a new member (like metha's
``metha-id`` and ``metha-ls``), without a config or a store:

* :func:`probe_endpoint` asks ``Identify``, ``ListMetadataFormats`` (and says which
  format eduxchange would choose, :func:`eduxchange.harvesting.formats.choose_format`), ``ListSets``
  and the first page of ``ListRecords``, and normalizes one sample record exactly as a
  harvest would (:func:`eduxchange.catalog.normalization.describe`);
* :func:`check_member` probes one configured member: it answers ``Identify``, offers the
  configured (or a readable) ``metadata_prefix``, and has the configured sets;
* :func:`init_config` writes a commented ``alliance.toml`` for a list of endpoints.

Every network failure comes back as text in the result (``error``), never as an
exception: the command line shows it and exits 1.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..catalog.normalization import describe
from .client import OAIClient
from ..core.config import Config, HarvestSettings, MemberConfig
from ..core.errors import (
    EduxchangeError,
    MalformedResponseError,
    NoRecordsMatch,
    NoSetHierarchy,
    OAIError,
    TransportError,
)
from .formats import choose_format, describe_offered, identify_format
from ..core.models import IdentifyInfo, MetadataFormat, SetInfo
from ..core.record import Description
from ..store.base import StoredRecord
from ..catalog.vocab import default_vocabularies

__all__ = [
    "EndpointReport",
    "MemberCheck",
    "SampleRecord",
    "PROBE_SETTINGS",
    "probe_endpoint",
    "check_member",
    "check_members",
    "suggest_member_id",
    "init_config",
]

#: An interactive probe waits less and retries less than a harvest: an operator is watching.
PROBE_SETTINGS = HarvestSettings(timeout=20.0, max_retries=1, backoff=0.5, max_backoff=2.0,
                                 max_retry_after=10.0, requests_per_second=10.0)
#: Sets listed at most (a repository may have tens of thousands).
MAX_SETS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleRecord:
    """One record of the endpoint, normalized as a harvest would normalize it."""

    identifier: str
    datestamp: str
    metadata_prefix: str
    format: str
    description: Description | None
    problems: tuple[str, ...] = ()
    unmapped: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"identifier": self.identifier, "datestamp": self.datestamp,
                "metadata_prefix": self.metadata_prefix, "format": self.format,
                "description": self.description, "problems": list(self.problems),
                "unmapped": [list(u) for u in self.unmapped]}


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointReport:
    """What :func:`probe_endpoint` learned of one endpoint; ``error`` says why it stopped."""

    endpoint: str
    identify: IdentifyInfo | None = None
    formats: tuple[MetadataFormat, ...] = ()
    chosen: MetadataFormat | None = None
    sets: tuple[SetInfo, ...] | None = None  # None: not asked, or the repository has none
    sets_truncated: bool = False
    sample: SampleRecord | None = None
    notes: tuple[str, ...] = ()  # what did not work but did not stop the probe
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        info = self.identify
        return {
            "endpoint": self.endpoint,
            "ok": self.ok,
            "error": self.error,
            "identify": None if info is None else {
                "repository_name": info.repository_name, "base_url": info.base_url,
                "protocol_version": info.protocol_version,
                "granularity": info.granularity, "deleted_record": info.deleted_record,
                "earliest_datestamp": info.earliest_datestamp,
                "admin_emails": list(info.admin_emails), "response_date": info.response_date},
            "formats": [_format_dict(f, f == self.chosen) for f in self.formats],
            "chosen": self.chosen.prefix if self.chosen else None,
            "sets": None if self.sets is None else [{"spec": s.spec, "name": s.name}
                                                    for s in self.sets],
            "sets_truncated": self.sets_truncated,
            "sample": self.sample.to_dict() if self.sample else None,
            "notes": list(self.notes),
        }


def _format_dict(fmt: MetadataFormat, chosen: bool) -> dict[str, Any]:
    known = identify_format(fmt)
    return {"prefix": fmt.prefix, "schema": fmt.schema, "namespace": fmt.namespace,
            "known_as": known.name if known else None, "chosen": chosen}


def _explain(err: EduxchangeError, endpoint: str, settings: HarvestSettings) -> str:
    """An error as an operator reads it: what happened and what to check."""
    if isinstance(err, TransportError) and ("timed out" in str(err).lower()
                                                or "within timeout" in str(err)):
        return (f"{err}; the endpoint did not answer within {settings.timeout:g} s "
                "(a slow repository may need a longer --timeout)")
    if isinstance(err, MalformedResponseError):
        return (f"{endpoint} is not an OAI-PMH endpoint ({err}); give the repository's OAI-PMH "
                "base URL (often ending in /oai or /OAI-script), not its web page")
    return str(err)


def probe_endpoint(
    endpoint: str,
    *,
    settings: HarvestSettings = PROBE_SETTINGS,
    formats: bool = True,
    sets: bool = True,
    sample: bool = True,
    client: OAIClient | None = None,
) -> EndpointReport:
    """Identify ``endpoint`` and (optionally) list its formats, sets and one sample record.

    Never raises for the endpoint's faults: an unreachable, non-OAI or broken endpoint comes
    back with ``error`` set (what was learned before stays). ``sets`` and ``sample`` failures
    that do not stop a harvest (no set hierarchy, no records) are ``notes``.
    """
    own = client is None
    client = client or OAIClient(endpoint, settings=settings)
    report = EndpointReport(endpoint=endpoint)
    notes: list[str] = []
    try:
        report = replace(report, identify=client.identify())
        if formats or sample:
            offered = tuple(client.list_metadata_formats())
            chosen = choose_format(offered)
            report = replace(report, formats=offered, chosen=chosen)
            if chosen is None:
                notes.append(f"no format eduxchange can read is offered ({describe_offered(offered)})")
        if sets:
            report = replace(report, **_list_sets(client, notes))
        if sample and report.chosen is not None:
            report = replace(report, sample=_sample(
                client, endpoint, report.identify.repository_name if report.identify else "",
                report.chosen, notes))
    except EduxchangeError as err:
        report = replace(report, error=_explain(err, endpoint, settings))
    except Exception as err:  # an URL the HTTP library refuses, a bug: said, not a traceback
        report = replace(report, error=f"cannot read {endpoint}: {type(err).__name__}: {err}")
    finally:
        if own:
            client.close()
    return replace(report, notes=tuple(notes))


def _list_sets(client: OAIClient, notes: list[str]) -> dict[str, Any]:
    try:
        found = list(itertools.islice(client.list_sets(), MAX_SETS + 1))
    except NoSetHierarchy:
        notes.append("the repository has no sets (noSetHierarchy)")
        return {"sets": None}
    return {"sets": tuple(found[:MAX_SETS]), "sets_truncated": len(found) > MAX_SETS}


def _sample(client: OAIClient, endpoint: str, repository_name: str, fmt: MetadataFormat,
            notes: list[str]) -> SampleRecord | None:
    """The first live record of the first ListRecords page, normalized."""
    pages = client.list_pages("ListRecords", metadata_prefix=fmt.prefix)
    try:
        page = next(pages, None)
    except NoRecordsMatch:  # pragma: no cover (list_pages turns it into an empty list)
        page = None
    except OAIError as err:
        notes.append(f"ListRecords in {fmt.prefix!r} failed: {err}")
        return None
    finally:
        close = getattr(pages, "close", None)  # a generator: end its HTTP session's use now
        if close is not None:
            close()
    record = next((r for r in page.records if not r.header.deleted), None) if page else None
    if record is None:
        notes.append(f"the first ListRecords page in {fmt.prefix!r} has no live record to show")
        return None
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    member = MemberConfig(id=suggest_member_id(endpoint, repository_name), endpoint=endpoint,
                          name=repository_name or _host(endpoint))
    stored = StoredRecord(
        member_id=member.id, identifier=record.header.identifier, metadata_prefix=fmt.prefix,
        datestamp=record.header.datestamp, sets=tuple(record.header.sets), deleted=False,
        raw=record.raw, run_id=None, first_harvested=now, harvested_at=now, seq=0)
    described = describe(stored, member, base_uri="https://catalog.example.org/",
                         vocabularies=default_vocabularies())
    return SampleRecord(identifier=stored.identifier, datestamp=stored.datestamp,
                        metadata_prefix=fmt.prefix, format=described.format,
                        description=described.description, problems=described.problems,
                        unmapped=described.unmapped)


# -- check: probe configured members -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberCheck:
    """The outcome of probing one configured member (:func:`check_member`)."""

    member_id: str
    endpoint: str
    enabled: bool
    repository_name: str | None = None
    metadata_prefix: str | None = None  # the configured one, else the one eduxchange would choose
    prefix_configured: bool = False
    sets: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = ()  # worth knowing, not a failure

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"member": self.member_id, "endpoint": self.endpoint, "enabled": self.enabled,
                "ok": self.ok, "repository_name": self.repository_name,
                "metadata_prefix": self.metadata_prefix,
                "prefix_configured": self.prefix_configured, "sets": list(self.sets),
                "problems": list(self.problems), "notes": list(self.notes)}


def check_member(member: MemberConfig, *, settings: HarvestSettings | None = None) -> MemberCheck:
    """Probe ``member``: Identify answers, its format is offered, its sets exist.

    ``settings`` defaults to the member's own, with at most one retry (a check is
    interactive). Never raises for the member's faults: they are the ``problems``.
    """
    settings = settings or replace(member.settings, max_retries=min(member.settings.max_retries, 1))
    report = probe_endpoint(member.endpoint, settings=settings, sets=bool(member.sets),
                            sample=False)
    problems: list[str] = []
    notes: list[str] = []
    prefix = member.metadata_prefix
    if report.error is not None:
        problems.append(report.error)
    else:
        offered = {f.prefix: f for f in report.formats}
        if prefix is not None and prefix not in offered:
            problems.append(
                f"metadata_prefix {prefix!r} is not offered by the member; it offers "
                f"{describe_offered(report.formats)}" + _suggest(report.chosen))
        elif prefix is not None and identify_format(offered[prefix]) is None:
            # Records are read by their own root namespace, which may differ from the one
            # ListMetadataFormats declares: a note, not a failure.
            notes.append(
                f"metadata_prefix {prefix!r} (namespace {offered[prefix].namespace or 'none'!r}) "
                "is not a format eduxchange knows; unless its records are LOM, IMS MD, LRMI or "
                "Dublin Core, they will be quarantined" + _suggest(report.chosen))
        elif prefix is None:
            if report.chosen is None:
                problems.append(
                    f"no metadata format eduxchange can read is offered "
                    f"({describe_offered(report.formats)}); set metadata_prefix for this member "
                    "if one of them is a LOM, IMS MD, LRMI or Dublin Core profile")
            else:
                prefix = report.chosen.prefix
        if member.sets:
            known = {s.spec for s in report.sets or ()}
            missing = [s for s in member.sets if s not in known]
            if report.sets is None:
                problems.append(f"the member has no sets, but the config names {list(member.sets)}"
                                "; remove 'sets' for this member")
            elif missing and not report.sets_truncated:
                problems.append(f"set(s) {missing} not in the member's ListSets "
                                f"({_some(s.spec for s in report.sets)})")
    return MemberCheck(
        member_id=member.id, endpoint=member.endpoint, enabled=member.enabled,
        repository_name=report.identify.repository_name if report.identify else None,
        metadata_prefix=prefix, prefix_configured=member.metadata_prefix is not None,
        sets=member.sets, problems=tuple(problems), notes=tuple(notes))


def _suggest(chosen: MetadataFormat | None) -> str:
    if chosen is None:
        return ""
    return (f"; set metadata_prefix = {chosen.prefix!r} (the one eduxchange would choose), "
            "or remove the key to choose at each harvest")


def _some(values: Iterable[str], limit: int = 10) -> str:
    items = list(itertools.islice(values, limit + 1))
    text = ", ".join(items[:limit]) or "none"
    return text + (", ..." if len(items) > limit else "")


def check_members(config: Config, member_ids: Sequence[str] | None = None, *,
                  timeout: float | None = None,
                  on_done: Callable[[MemberCheck], None] | None = None) -> list[MemberCheck]:
    """:func:`check_member` for every member (or those named), ``concurrency`` at a time,
    in config order. ``timeout`` overrides each member's."""
    members = [config.member(i) for i in member_ids] if member_ids else list(config.members)

    def one(member: MemberConfig) -> MemberCheck:
        settings = replace(member.settings, max_retries=min(member.settings.max_retries, 1))
        if timeout is not None:
            settings = replace(settings, timeout=timeout)
        result = check_member(member, settings=settings)
        if on_done is not None:
            on_done(result)
        return result

    if not members:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(config.harvest.concurrency,
                                                   len(members)))) as pool:
        return list(pool.map(one, members))


# -- init: a commented alliance.toml ------------------------------------------------------------

_ACRONYM = re.compile(r"\(([A-Za-z][A-Za-z0-9]{1,15})\)")
_STOP_WORDS = {"of", "the", "and", "for", "de", "la", "le", "des", "du", "et", "für", "und", "der",
               "y", "del", "los", "las", "oai", "pmh", "repository", "oai-pmh"}
#: Host labels that say nothing of who the member is.
_HOST_NOISE = {"www", "oai", "oaipmh", "oai-pmh", "api", "repository", "repo", "repositorio",
               "oer", "data", "metadata", "com", "org", "net", "edu", "gov", "ac", "co", "int",
               "info", "localhost"}
_IP = re.compile(r"^[0-9.]+$|:")


def _host(endpoint: str) -> str:
    return urlsplit(endpoint).hostname or endpoint


def suggest_member_id(endpoint: str, repository_name: str = "",
                      taken: Iterable[str] = ()) -> str:
    """A short stable id for a member: an acronym in its name ("... (OUC)" -> ``ouc``), else
    the telling label of its host (``oer.ouc.edu.cn`` -> ``ouc``), else its name's words
    (``test-member``), else ``member``; ``-2``, ``-3`` ... when taken."""
    candidate = ""
    match = _ACRONYM.search(repository_name)
    if match:
        candidate = match.group(1).lower()
    host = (urlsplit(endpoint).hostname or "").lower()
    if not candidate and host and not _IP.search(host):
        labels = [part for part in host.split(".")
                  if part and part not in _HOST_NOISE and not (len(part) == 2 and part.isalpha())]
        if labels:
            candidate = labels[-1]
    if not candidate:
        words = [w for w in re.findall(r"[a-z0-9]+", repository_name.lower())
                 if w not in _STOP_WORDS]
        candidate = "".join(w[0] for w in words) if len(words) >= 4 else "-".join(words)
    candidate = re.sub(r"[^a-z0-9._-]+", "-", candidate).strip("-._")[:40] or "member"
    taken = set(taken)
    if candidate not in taken:
        return candidate
    n = 2
    while f"{candidate}-{n}" in taken:
        n += 1
    return f"{candidate}-{n}"


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " else f"\\u{ord(c):04x}" for c in escaped) + '"'


def init_config(endpoints: Sequence[str], *, base_uri: str = "https://catalog.example.org/",
                settings: HarvestSettings = PROBE_SETTINGS,
                reports: Sequence[EndpointReport] | None = None) -> tuple[str, list[EndpointReport]]:
    """A commented ``alliance.toml`` for ``endpoints`` (each identified) and the probe reports.

    A member that cannot be identified is written with ``enabled = false`` and the reason in a
    comment, so the file is complete and loads; fix its endpoint and enable it.
    """
    if reports is None:
        with ThreadPoolExecutor(max_workers=max(1, min(4, len(endpoints)))) as pool:
            reports = list(pool.map(
                lambda url: probe_endpoint(url, settings=settings, sample=False), endpoints))
    lines = [
        "# The alliance: written by `eduxchange init`. Check it with `eduxchange check`,",
        "# then harvest with `eduxchange harvest`. Every key is described in docs/harvesting.md.",
        "",
        "[catalog]",
        'store = "catalog.sqlite"                   # the catalogue store, relative to this file',
        f"base_uri = {_toml_string(base_uri)}" + "   # the base of the catalogue's IRIs",
        "",
        "[harvest]                                  # defaults for every member (all optional)",
        "# concurrency = 4                          # members harvested at once",
        "# requests_per_second = 5                  # politeness towards one member",
        "# timeout = 60                             # seconds to wait for a response",
        "# max_retries = 5                          # for 5xx, resets and timeouts",
        "# reconcile_days = 7                       # for members that do not keep deletions",
    ]
    taken: list[str] = []
    for url, report in zip(endpoints, reports, strict=True):
        info = report.identify
        name = info.repository_name if info and info.repository_name else _host(url)
        member_id = suggest_member_id(url, info.repository_name if info else "", taken)
        taken.append(member_id)
        lines += ["", "[[members]]"]
        if report.error is not None:
            lines.append(f"# NOT IDENTIFIED: {' '.join(report.error.split())}")
            lines.append("# Fix the endpoint, set enabled = true and run `eduxchange check`.")
        lines += [f"id = {_toml_string(member_id)}   # short and stable: the store is keyed by it",
                  f"name = {_toml_string(name)}",
                  f"endpoint = {_toml_string(url)}"]
        if info is not None:
            lines.append(f"# Identify: granularity {info.granularity}, deletedRecord "
                         f"{info.deleted_record}, earliest datestamp {info.earliest_datestamp}")
        if report.chosen is not None:
            others = [f.prefix for f in report.formats if f != report.chosen]
            lines.append(f"metadata_prefix = {_toml_string(report.chosen.prefix)}"
                         + (f"   # also offered: {', '.join(others)}" if others else ""))
        elif report.formats:
            lines.append(f"# metadata_prefix = ?   # none readable is offered: "
                         f"{describe_offered(report.formats)}")
        if report.sets:
            specs = [s.spec for s in report.sets]
            lines.append(f"# sets = [{', '.join(_toml_string(s) for s in specs[:5])}]   "
                         f"# harvest only these ({len(specs)}{'+' if report.sets_truncated else ''}"
                         " sets: `eduxchange sets URL`)")
        lines.append('# country = "CN"                          # ISO 3166-1 alpha-2')
        if report.error is not None:
            lines.append("enabled = false")
    return "\n".join(lines) + "\n", list(reports)
