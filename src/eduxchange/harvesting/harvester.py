"""The resilient, incremental harvest of one alliance member into a catalogue store.

A :class:`Harvester` runs one member: ``Identify``, format negotiation, then
``ListRecords`` page by page (per configured set), committing every page
atomically with the point to resume from. What it guarantees:

* incremental: the next ``from`` is the repository's own clock when the last
  successful run started, in the repository's granularity (OAI-PMH 3.3);
* resumable: a killed or failed run continues from its last committed page;
* a ``badResumptionToken`` mid-list falls back to listing again by datestamp
  window (narrower windows when they keep expiring), de-duplicated by the store;
* deletions are never lost: deleted headers mark records, and members with a
  ``deletedRecord`` policy of ``no`` or ``transient`` get a periodic
  reconciliation that retires what they no longer list;
* every attempt is a run in the store's log, begun before the first request (a
  member failing at ``Identify`` too), with the issues it met stored as its events.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .client import ListGuard, ListVerb, OAIClient
from ..core.config import MemberConfig
from ..core.dates import format_datestamp, normalize_datestamp, parse_datestamp, utcnow
from ..core.errors import (
    BadResumptionToken,
    CannotDisseminateFormat,
    DeadlineExceeded,
    EduxchangeError,
    EndlessListError,
    HarvestStopped,
    LeaseLost,
    NoSetHierarchy,
    ProtocolError,
)
from .formats import choose_format, describe_offered
from ..core.models import HarvestResult, IdentifyInfo, Issue, Page
from ..store.base import HarvestStore, LeaseFence, MemberState
from .transport import HttpTransport

__all__ = ["Harvester", "ProgressEvent", "ProgressCallback"]

#: How many times a list may be narrowed after its resumption tokens keep expiring.
MAX_WINDOW_SPLITS = 8
#: How far ahead of our clock a repository's responseDate is still believed.
CLOCK_SKEW = timedelta(days=1)
#: Issues kept per run (the rest are counted): a broken member must not fill memory.
MAX_ISSUES = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    """Reported to a progress callback as a harvest moves on."""

    member_id: str
    phase: str  # "start" | "page" | "reconcile" | "done"
    done: int = 0
    total: int | None = None
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class _Run:
    """The mutable bookkeeping of one run (kept out of the Harvester's API)."""

    def __init__(self) -> None:
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "deleted": 0,
                       "quarantined": 0, "retired": 0, "pages": 0, "stale": 0}
        self.issues: list[Issue] = []
        self.dropped_issues = 0
        self.total: int | None = None
        self.warned_response_date = False  # one bad-response-date warning per run is enough

    def add_issue(self, issue: Issue) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(issue)
        else:
            self.dropped_issues += 1

    @property
    def received(self) -> int:
        c = self.counts
        return c["new"] + c["updated"] + c["unchanged"] + c["deleted"] + c["quarantined"]


class Harvester:
    """Harvest one member into ``store``.

    ``client`` defaults to an :class:`~eduxchange.harvesting.client.OAIClient` over a polite,
    retrying :class:`~eduxchange.harvesting.transport.HttpTransport` built from the member's
    settings; pass your own to change the transport.

    ``check``, when given, is called before each of the run's writes that another worker
    must not overlap (every page, the reconciliation, the final state): a harvest worker's
    lease renewal (:mod:`eduxchange.workers`), which raises
    :class:`~eduxchange.core.errors.LeaseLost` when another worker took the member over. The
    run then stops at once and leaves the member's state to that worker. ``check`` may
    also raise :class:`~eduxchange.core.errors.HarvestStopped` (the worker was asked to
    stop): the run ends ``interrupted`` and the member's state (its resume point) is kept.

    ``fence`` (a harvest worker's lease on the member) goes with every page commit and the
    reconciliation's retirement: the store checks it in the same transaction, so a worker
    frozen between ``check`` and the commit still never writes after another worker took
    the member over (:class:`~eduxchange.store.base.LeaseFence`).

    After :meth:`run`, :attr:`lease_lost` says whether it stopped because another worker
    holds the member now (``check`` or a fenced write raised ``LeaseLost``).

    ``on_page`` is called after each page is committed, in the harvesting thread
    (normalization follows the harvest with it); the time it takes does not count towards
    ``run_timeout``.
    """

    def __init__(
        self,
        member: MemberConfig,
        store: HarvestStore,
        *,
        client: OAIClient | None = None,
        progress: ProgressCallback | None = None,
        check: Callable[[], None] | None = None,
        fence: LeaseFence | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> None:
        self.member = member
        self._check = check or (lambda: None)
        self._fence = fence
        self.lease_lost = False
        self._on_page = on_page
        self.store = store
        self._run = _Run()
        self._deadline = float("inf")
        self._own_client = client is None
        if client is None:
            transport = HttpTransport(member.settings, on_issue=self._transport_issue)
            client = OAIClient(member.endpoint, transport=transport, settings=member.settings)
        self.client = client
        self._progress = progress or (lambda event: None)

    def _transport_issue(self, issue: Issue) -> None:
        self._run.add_issue(Issue(code=issue.code, message=issue.message,
                                  severity=issue.severity, member_id=self.member.id))

    def _emit(self, phase: str, message: str = "") -> None:
        self._progress(ProgressEvent(member_id=self.member.id, phase=phase,
                                     done=self._run.received, total=self._run.total,
                                     message=message))

    # -- the run --------------------------------------------------------------

    def run(self, *, full: bool = False, reconcile: bool | None = None) -> HarvestResult:
        """Harvest the member once; never raises for the member's faults.

        ``full`` starts over from the beginning; ``reconcile`` forces (``True``) or
        skips (``False``) the identifier reconciliation, which otherwise runs when due.
        """
        self._run = run = _Run()
        self.lease_lost = False
        started = time.monotonic()
        self._deadline = started + self.member.settings.run_timeout
        set_deadline = getattr(self.client.transport, "set_deadline", None)
        if callable(set_deadline):
            # Every request, retry and wait of this run ends by the deadline too.
            set_deadline(self._deadline, self.member.settings.run_timeout)
        state = self.store.member_state(self.member.id)
        run_id: int | None = None
        mode = "full" if full else "incremental"
        prefix: str | None = None
        from_: str | None = None
        error: str | None = None
        lost = stopped = False
        self._emit("start", "Identify")
        try:
            # Every attempt is a run in the log, one that fails at Identify too: begin it
            # before the first request; mode, format and 'from' are filled in once known.
            run_id = self.store.begin_run(self.member.id, mode=mode,
                                          metadata_prefix=self.member.metadata_prefix, from_=None)
            info = self.client.identify()
            prefix = self._choose_prefix()
            # A resume point holds only for the same format and the same sets.
            resume = state.resume if (not full and state.resume
                                      and state.resume.get("prefix") == prefix
                                      and state.resume.get("sets") == list(self.member.sets)
                                      ) else None
            if resume is not None:
                mode, from_, run_start = "resumed", resume.get("from"), resume["run_start"]
            else:
                run_start = self._server_now(info)
                if full or not state.next_from or state.metadata_prefix != prefix:
                    mode, from_ = "full", None
                else:
                    mode = "incremental"
                    from_ = format_datestamp(parse_datestamp(state.next_from), info.granularity)
            self.store.update_run(run_id, mode=mode, metadata_prefix=prefix, from_=from_)
            self.store.update_member_state(
                self.member.id, metadata_prefix=prefix, granularity=info.granularity,
                deleted_record=info.deleted_record, earliest_datestamp=info.earliest_datestamp)
            self._check_sets()
            self._harvest_sets(run_id, info, prefix, from_, run_start, resume)
            reconciled = self._maybe_reconcile(run_id, info, prefix, state, mode, reconcile)
            fields: dict[str, Any] = dict(
                state="ok", error=None, resume=None, last_harvest=_iso_now(),
                next_from=format_datestamp(parse_datestamp(run_start), info.granularity))
            if reconciled:
                fields["last_reconcile"] = _iso_now()
            self._check()
            self.store.update_member_state(self.member.id, **fields)
        except LeaseLost as err:
            error, lost = str(err), True
            self.lease_lost = True
        except HarvestStopped as err:
            error, stopped = str(err), True
        except EndlessListError as err:
            # Resuming from the last token of a list that does not end would only go on
            # with it: the next run lists from the start again (and stops again, bounded).
            error = str(err)
            self.store.update_member_state(self.member.id, resume=None)
        except CannotDisseminateFormat as err:
            error = self._not_offered(err, prefix)
        except EduxchangeError as err:
            error = str(err)
        except Exception as err:  # a bug must fail this member, never the others
            error = f"internal error ({type(err).__name__}: {err}); please report it"
            run.add_issue(Issue(code="internal-error", severity="error",
                                message=traceback.format_exc(limit=8), member_id=self.member.id))
        finally:
            if self._own_client:
                self.client.close()
        if error is not None:
            run.add_issue(Issue(code="harvest-failed", severity="error", message=error,
                                member_id=self.member.id))
        if error is not None and not (lost or stopped):
            # A lost member's state is its new worker's; a stopped one keeps its resume point
            # and is no failure.
            self.store.update_member_state(self.member.id, state="failed", error=error,
                                           last_harvest=_iso_now())
        requests = int(getattr(self.client.transport, "requests", 0))
        counts = {**run.counts, "requests": requests}
        if run.dropped_issues:
            # Only MAX_ISSUES are kept; say how many more there were rather than hide them.
            run.issues.append(Issue(code="issues-dropped", member_id=self.member.id,
                                    message=f"{run.dropped_issues} more issues were met in this "
                                            f"run than the {MAX_ISSUES} kept"))
        if run_id is not None:
            self.store.finish_run(run_id, state="interrupted" if stopped
                                  else "failed" if error else "ok", counts=counts, error=error)
        self.store.log_issues(run_id, self.member.id, run.issues)
        result = HarvestResult(
            member_id=self.member.id, state="failed" if error else "ok", mode=mode,
            run_id=run_id, metadata_prefix=prefix, from_=from_,
            new=run.counts["new"], updated=run.counts["updated"],
            unchanged=run.counts["unchanged"], deleted=run.counts["deleted"],
            quarantined=run.counts["quarantined"], retired=run.counts["retired"],
            pages=run.counts["pages"], stale=run.counts["stale"], requests=requests,
            seconds=time.monotonic() - started, error=error, issues=tuple(run.issues),
        )
        self._emit("done", error or "ok")
        return result

    # -- steps ------------------------------------------------------------------

    def _choose_prefix(self) -> str:
        if self.member.metadata_prefix:
            return self.member.metadata_prefix
        offered = self.client.list_metadata_formats()
        chosen = choose_format(offered)
        if chosen is None:
            names = ", ".join(f"{f.prefix} ({f.namespace})" for f in offered) or "none"
            raise ProtocolError(
                f"no metadata format eduxchange can read is offered (offered: {names}); "
                "set metadata_prefix for this member if one of them is a LOM, IMS MD, LRMI "
                "or Dublin Core profile")
        return chosen.prefix

    def _not_offered(self, err: CannotDisseminateFormat, prefix: str | None) -> str:
        """cannotDisseminateFormat for the harvested format, with what the member offers."""
        try:
            offered = describe_offered(self.client.list_metadata_formats())
        except EduxchangeError as again:
            offered = f"(ListMetadataFormats failed too: {again})"
        where = ("the configured metadata_prefix" if self.member.metadata_prefix
                 else "the metadata_prefix it offered")
        return (f"the member does not disseminate {where} {prefix!r} ({err}); it offers "
                f"{offered}. Set metadata_prefix for this member to one of them, or remove the "
                "key to let eduxchange choose")

    def _check_sets(self) -> None:
        if not self.member.sets:
            return
        try:
            known = {s.spec for s in self.client.list_sets()}
        except NoSetHierarchy as err:
            raise ProtocolError(
                f"the member has no sets ({err}) but the config names sets "
                f"{list(self.member.sets)}; remove 'sets' for this member") from err
        for spec in self.member.sets:
            if spec not in known:
                self._run.add_issue(Issue(
                    code="unknown-set", member_id=self.member.id,
                    message=f"set {spec!r} is not in the member's ListSets; it may return nothing"))

    def _server_now(self, info: IdentifyInfo) -> str:
        """The repository's clock from Identify's ``responseDate``, else ours (with a warning).

        The repository's clock, not ours: datestamps are compared on its clock. But a
        ``responseDate`` that cannot be read, or more than :data:`CLOCK_SKEW` ahead of our
        clock, would make the next ``from`` skip every later change: ours is used instead.
        """
        now = utcnow()
        if not info.response_date:
            return format_datestamp(now)
        try:
            theirs = parse_datestamp(info.response_date)
        except ValueError as err:
            problem = f"cannot be read ({err})"
        else:
            if theirs <= now + CLOCK_SKEW:
                return format_datestamp(theirs)
            problem = "is in the future"
        self._run.warned_response_date = True
        self._run.add_issue(Issue(
            code="bad-response-date", member_id=self.member.id,
            message=f"Identify's responseDate {info.response_date!r} {problem}; using our "
                    f"clock ({format_datestamp(now)}) as the start of this harvest"))
        return format_datestamp(now)

    def _check_page_clock(self, response_date: str) -> None:
        """Warn (once a run) of a list page's ``responseDate`` that cannot be read: it is not
        used, but says the member's clock or its software is broken."""
        try:
            parse_datestamp(response_date)
        except ValueError as err:
            self._run.warned_response_date = True
            self._run.add_issue(Issue(
                code="bad-response-date", member_id=self.member.id,
                message=f"ListRecords responseDate {response_date!r} cannot be read ({err}); "
                        "not used (only Identify's sets the next 'from')"))

    def _harvest_sets(self, run_id: int, info: IdentifyInfo, prefix: str, from_: str | None,
                      run_start: str, resume: dict[str, Any] | None) -> None:
        sets: Sequence[str | None] = self.member.sets or (None,)
        first = int(resume.get("set_index", 0)) if resume else 0
        for index in range(first, len(sets)):
            cursor = _Cursor(run_id=run_id, prefix=prefix, from_=from_, run_start=run_start,
                             set_index=index, guard=self._guard("ListRecords"))
            token = None
            if resume is not None and index == first:
                token = resume.get("token")
                cursor.max_datestamp = resume.get("max_datestamp")
                cursor.ordered = bool(resume.get("ordered", True))
                if token:
                    # The page cap and the completeListSize check span the resumed list.
                    cursor.guard = self._guard("ListRecords", pages=int(resume.get("pages", 0)),
                                               received=int(resume.get("received", 0)))
            self._list(cursor, info, sets[index], token)

    def _guard(self, verb: ListVerb, *, pages: int = 0, received: int = 0) -> ListGuard:
        """A :class:`ListGuard` for one list of this member (issue 9: lists that never end)."""
        return ListGuard(self.member.settings, label=f"member {self.member.id!r}", verb=verb,
                         pages=pages, received=received)

    def _list(self, cursor: _Cursor, info: IdentifyInfo, set_: str | None,
              token: str | None) -> None:
        try:
            for page in self.client.list_pages("ListRecords", metadata_prefix=cursor.prefix,
                                               from_=cursor.from_, set_=set_, token=token,
                                               guard=cursor.guard):
                self._commit(cursor, page)
        except BadResumptionToken as err:
            # OAI-PMH 3.5: tokens may expire. List again by datestamp, from the last
            # committed datestamp when the list came in datestamp order, otherwise from
            # where this run began; the store de-duplicates by identifier and datestamp.
            restart = cursor.max_datestamp if cursor.ordered and cursor.max_datestamp else None
            if restart is None and cursor.from_:
                restart = cursor.from_
            self._run.add_issue(Issue(
                code="token-expired", member_id=self.member.id,
                message=f"{err}; listing again from {restart or 'the beginning'} by datestamp"))
            start = parse_datestamp(restart) if restart else _earliest(info)
            self._list_window(cursor, info, set_, start, parse_datestamp(cursor.run_start), 0)

    def _list_window(self, cursor: _Cursor, info: IdentifyInfo, set_: str | None,
                     start: datetime, end: datetime, depth: int) -> None:
        g = info.granularity
        cursor.guard = self._guard("ListRecords")
        try:
            for page in self.client.list_pages("ListRecords", metadata_prefix=cursor.prefix,
                                               from_=format_datestamp(start, g),
                                               until=format_datestamp(end, g), set_=set_,
                                               guard=cursor.guard):
                self._commit(cursor, page)
        except BadResumptionToken as err:
            step = timedelta(days=1) if info.day_granular else timedelta(seconds=1)
            middle = start + (end - start) / 2
            if info.day_granular:
                middle = datetime.combine(middle.date(), datetime.min.time(), middle.tzinfo)
            if depth >= MAX_WINDOW_SPLITS or middle - start < step or end - middle < step:
                raise ProtocolError(
                    f"resumption tokens keep expiring ({err}) even for the datestamp window "
                    f"{format_datestamp(start, g)}..{format_datestamp(end, g)}; the member's "
                    "tokens live too short for its page size") from err
            self._run.add_issue(Issue(
                code="window-split", member_id=self.member.id,
                message=f"tokens expired again; splitting {format_datestamp(start, g)}.."
                        f"{format_datestamp(end, g)} in two"))
            self._list_window(cursor, info, set_, start, middle, depth + 1)
            # Day-granular 'until' includes the whole day (3.3.1): start the next window after it.
            self._list_window(cursor, info, set_, middle + step if info.day_granular else middle,
                              end, depth + 1)

    def _commit(self, cursor: _Cursor, page: Page) -> None:
        run = self._run
        if run.total is None and page.complete_list_size is not None and len(self.member.sets) <= 1:
            run.total = page.complete_list_size
        for rec in page.records:
            stamp = normalize_datestamp(rec.header.datestamp)
            if cursor.max_datestamp is not None and stamp < cursor.max_datestamp:
                cursor.ordered = False
            if cursor.max_datestamp is None or stamp > cursor.max_datestamp:
                cursor.max_datestamp = stamp
        for issue in page.issues:
            run.add_issue(Issue(code=issue.code, message=issue.message,
                                severity=issue.severity, member_id=self.member.id))
        for q in page.quarantined:
            run.add_issue(Issue(code="record-quarantined", member_id=self.member.id,
                                identifier=q.identifier, message=q.reason))
        more = page.token is not None
        resume = {
            "prefix": cursor.prefix, "sets": list(self.member.sets),
            "from": cursor.from_, "run_start": cursor.run_start,
            "set_index": cursor.set_index if more else cursor.set_index + 1,
            "token": page.token.value if page.token else None,
            "max_datestamp": cursor.max_datestamp if more else None,
            "ordered": cursor.ordered if more else True,
            "pages": cursor.guard.pages if more and cursor.guard else 0,
            "received": cursor.guard.received if more and cursor.guard else 0,
        }
        self._check()
        counts = self.store.commit_page(self.member.id, cursor.run_id, cursor.prefix,
                                        page.records, page.quarantined, resume,
                                        fence=self._fence)
        if page.response_date and not run.warned_response_date:
            self._check_page_clock(page.response_date)
        run.counts["new"] += counts.new
        run.counts["updated"] += counts.updated
        run.counts["unchanged"] += counts.unchanged
        run.counts["deleted"] += counts.deleted
        run.counts["quarantined"] += counts.quarantined
        run.counts["stale"] += len(counts.stale)
        for old in counts.stale:
            where = "another copy in the same page" if old.within_page else "the stored version"
            run.add_issue(Issue(
                code="stale-record", member_id=self.member.id, identifier=old.identifier,
                message=f"ignored the copy dated {old.datestamp}: {where} is dated {old.kept}, "
                        "and an older version never replaces a newer one"))
        run.counts["pages"] += 1
        if self._on_page is not None:
            self._follow_page()
        self._emit("page")
        if more and time.monotonic() > self._deadline:
            # Checked between pages too, so a transport without deadlines is bounded.
            raise DeadlineExceeded(
                f"the member's run took longer than run_timeout "
                f"({self.member.settings.run_timeout:g} s) and was stopped after "
                f"{run.counts['pages']} pages; they are kept and the next run resumes from there "
                "(raise run_timeout for this member if its harvest is just big)")

    def _follow_page(self) -> None:
        """Run ``on_page``; its time (normalizing) is not the member's run time: the run
        deadline moves on by as much."""
        assert self._on_page is not None
        began = time.monotonic()
        self._on_page()
        self._deadline += time.monotonic() - began
        set_deadline = getattr(self.client.transport, "set_deadline", None)
        if callable(set_deadline):
            set_deadline(self._deadline, self.member.settings.run_timeout)

    def _maybe_reconcile(self, run_id: int, info: IdentifyInfo, prefix: str, state: MemberState,
                         mode: str, forced: bool | None) -> bool:
        """Retire records the member no longer lists (for ``deletedRecord`` no/transient)."""
        if forced is False or (forced is None and info.deleted_record == "persistent"):
            return False
        if forced is None:
            due = state.last_reconcile is None or (
                parse_datestamp(state.last_reconcile)
                + timedelta(days=self.member.settings.reconcile_days) <= utcnow())
            if not due:
                return False
        if mode != "full":
            # A full run has marked everything it saw; other runs list identifiers now.
            self._emit("reconcile", "ListIdentifiers")
            for set_ in self.member.sets or (None,):
                for page in self.client.list_pages("ListIdentifiers", metadata_prefix=prefix,
                                                   set_=set_,
                                                   guard=self._guard("ListIdentifiers")):
                    # An identifier still listed is not gone, even when its header is
                    # unreadable (quarantined): it must not be retired.
                    self._check()
                    self.store.mark_seen(self.member.id, run_id,
                                         [r.header.identifier for r in page.records
                                          if not r.header.deleted]
                                         + [q.identifier for q in page.quarantined
                                            if q.identifier])
        self._check()
        retired = self.store.retire_unseen(self.member.id, run_id, fence=self._fence)
        self._run.counts["retired"] += retired
        if retired:
            self._run.add_issue(Issue(
                code="retired", severity="info", member_id=self.member.id,
                message=f"{retired} records no longer listed by the member were marked deleted"))
        return True


@dataclass(slots=True, kw_only=True)
class _Cursor:
    """Where one set's list stands: what a resume needs."""

    run_id: int
    prefix: str
    from_: str | None
    run_start: str
    set_index: int
    max_datestamp: str | None = None
    ordered: bool = True
    guard: ListGuard | None = None


def _earliest(info: IdentifyInfo) -> datetime:
    try:
        return parse_datestamp(info.earliest_datestamp)
    except ValueError:
        return parse_datestamp("1970-01-01")


def _iso_now() -> str:
    return format_datestamp(utcnow())
