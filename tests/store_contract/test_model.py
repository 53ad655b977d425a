"""Random sequences of runs, pages, sightings and reconciliations against a small model.

The model is the contract of :meth:`CatalogStore.commit_page` written out plainly: the newest
copy of a page wins (on equal datestamps the later), an older copy than the stored one is
ignored and reported stale (:func:`~eduxchange.store.base.is_stale`), the same version again is
unchanged (its sets merged), a change takes a later ``seq`` than every earlier change, a
deletion keeps the last raw record. Every example uses a member of its own, so one store serves
all the examples of a test (seq is shared by members, and must still only grow).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eduxchange.core.dates import normalize_datestamp
from eduxchange.store.base import PageCounts, StaleRecord, is_stale

from .helpers import bad, raw

IDS = ("a", "b")
#: Two spellings of one instant, earlier and later ones, one far ahead, one unreadable.
DATESTAMPS = ("2024-01-01", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z",
              "2023-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "not a date")
PREFIXES = ("oai_dc", "oai_lom")

copies = st.tuples(st.sampled_from(IDS), st.sampled_from(DATESTAMPS), st.booleans(),
                   st.frozensets(st.sampled_from(("s1", "s2")), max_size=2))
pages = st.tuples(st.just("page"), st.sampled_from(PREFIXES), st.lists(copies, max_size=5),
                  st.lists(st.one_of(st.none(), st.sampled_from(IDS)), max_size=2),
                  st.one_of(st.none(), st.integers(0, 99)))
operations = st.one_of(
    pages, pages, pages,  # most operations commit a page
    st.tuples(st.just("run")),
    st.tuples(st.just("seen"), st.lists(st.sampled_from(IDS), max_size=3)),
    st.tuples(st.just("retire")),
)


@dataclass
class Kept:
    datestamp: str
    deleted: bool
    sets: tuple[str, ...]
    raw: bytes | None
    prefix: str
    run: int
    seen: int | None
    order: int  # when it last changed (retirements of one call share one)


@dataclass
class Model:
    records: dict[str, Kept] = field(default_factory=dict)
    quarantine: list[list[Any]] = field(default_factory=list)  # [identifier, reason, resolved]
    resume: dict[str, Any] | None = None
    clock: int = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def page(self, run: int, prefix: str, page: list[Any], bad_ids: list[str | None],
             resume: dict[str, Any] | None) -> PageCounts:
        now = datetime.now(UTC)
        new = updated = unchanged = deleted = 0
        stale: list[StaleRecord] = []
        latest: dict[str, Any] = {}
        for rec in page:
            ident, ds = rec.header.identifier, rec.header.datestamp
            prev = latest.get(ident)
            if prev is not None and is_stale(ds, prev.header.datestamp, now=now):
                stale.append(StaleRecord(identifier=ident, datestamp=ds,
                                         kept=prev.header.datestamp, within_page=True))
                continue
            if prev is not None and (normalize_datestamp(prev.header.datestamp)
                                     != normalize_datestamp(ds)):
                stale.append(StaleRecord(identifier=ident, datestamp=prev.header.datestamp,
                                         kept=ds, within_page=True))
            latest[ident] = rec
        stored: list[str] = []
        for ident, rec in latest.items():
            h, old = rec.header, self.records.get(ident)
            if old is not None and is_stale(h.datestamp, old.datestamp, now=now):
                stale.append(StaleRecord(identifier=ident, datestamp=h.datestamp,
                                         kept=old.datestamp))
                old.seen = run
                continue
            if not h.deleted:
                stored.append(ident)
            if (old is not None and old.datestamp == h.datestamp and old.deleted == h.deleted
                    and (h.deleted or old.prefix == prefix)):
                unchanged += 1
                old.sets = tuple(sorted(set(old.sets) | set(h.sets)))
                old.seen = run
                continue
            order = self.tick()
            if h.deleted:
                deleted += 1
                if old is None:
                    self.records[ident] = Kept(h.datestamp, True, tuple(sorted(h.sets)), None,
                                               prefix, run, run, order)
                else:
                    old.datestamp, old.deleted, old.run, old.seen, old.order = (
                        h.datestamp, True, run, run, order)
            else:
                if old is None:
                    new += 1
                else:
                    updated += 1
                self.records[ident] = Kept(h.datestamp, False, tuple(sorted(h.sets)), rec.raw,
                                           prefix, run, run, order)
        for entry in self.quarantine:
            if entry[0] in stored:
                entry[2] = True
        self.quarantine += [[i, f"bad {i}", False] for i in bad_ids]
        self.resume = resume
        return PageCounts(new=new, updated=updated, unchanged=unchanged, deleted=deleted,
                          quarantined=len(bad_ids), stale=tuple(stale))

    def retire(self, run: int) -> int:
        order = self.tick()
        gone = [k for k in self.records.values() if not k.deleted and k.seen != run]
        for kept in gone:
            kept.deleted, kept.order = True, order
        return len(gone)


def check(store: Any, member: str, model: Model, floor: int) -> int:
    """Compare the store with the model; return the member's highest seq."""
    got = list(store.iter_records(member))
    seqs = [r.seq for r in got]
    assert seqs == sorted(set(seqs))
    assert {r.identifier: (r.datestamp, r.deleted, r.sets, r.raw, r.metadata_prefix, r.run_id)
            for r in got} == {i: (k.datestamp, k.deleted, k.sets, k.raw, k.prefix, k.run)
                              for i, k in model.records.items()}
    orders = [model.records[r.identifier].order for r in got]
    assert orders == sorted(orders), "iter_records must follow the order of changes"
    changed_now = [r.seq for r in got if model.records[r.identifier].order > floor]
    assert all(s > max([0, *[r.seq for r in got
                             if model.records[r.identifier].order <= floor]])
               for s in changed_now)
    live = [r.identifier for r in store.iter_records(member, include_deleted=False)]
    assert live == [r.identifier for r in got if not r.deleted]
    if len(got) > 1:
        assert [r.seq for r in store.iter_records(member, since_seq=seqs[0])] == seqs[1:]
    open_entries = [e for e in model.quarantine if not e[2]]
    assert store.counts(member) == {"records": len(live), "deleted": len(got) - len(live),
                                    "quarantined": len(open_entries)}
    assert [(q.identifier, q.reason) for q in store.quarantine(member, limit=1000)] == [
        (e[0], e[1]) for e in reversed(open_entries)]
    assert store.member_state(member).resume == model.resume
    return max(seqs, default=0)


_members = itertools.count()


#: Examples per backend: a PostgreSQL round trip costs more than a SQLite call.
EXAMPLES = {"sqlite": 150, "postgresql": 60}


def test_pages_deletions_and_reconciliation_follow_the_model(store, backend):
    @settings(max_examples=EXAMPLES.get(backend, 60), deadline=None)
    @given(ops=st.lists(operations, min_size=1, max_size=15))
    def follow(ops: list[Any]) -> None:
        member = f"model-{next(_members)}"
        model = Model()
        run = store.begin_run(member, mode="full", metadata_prefix="oai_dc", from_=None)
        versions = itertools.count()
        top = check(store, member, model, model.clock)
        for op in ops:
            floor = model.clock
            if op[0] == "run":
                run = store.begin_run(member, mode="full", metadata_prefix="oai_dc", from_=None)
            elif op[0] == "page":
                _, prefix, page_copies, bad_ids, token = op
                page = [raw(i, ds, deleted=d, sets=sorted(s), body=f"{i} v{next(versions)}")
                        for i, ds, d, s in page_copies]
                resume = None if token is None else {"token": f"t{token}", "cursor": token}
                expected = model.page(run, prefix, page, bad_ids, resume)
                got = store.commit_page(member, run, prefix, page,
                                        [bad(f"bad {i}", i) for i in bad_ids], resume)
                assert got == expected
            elif op[0] == "seen":
                store.mark_seen(member, run, op[1])
                for ident in op[1]:
                    if ident in model.records:
                        model.records[ident].seen = run
            else:
                assert store.retire_unseen(member, run) == model.retire(run)
            new_top = check(store, member, model, floor)
            assert new_top >= top
            top = new_top

    follow()
