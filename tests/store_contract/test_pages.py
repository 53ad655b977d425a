"""The contract of harvested pages: atomic commits with the resume state, seq order,
stale copies, tombstones, reconciliation, quarantine and counts."""

from __future__ import annotations

from typing import Any

import pytest

from eduxchange.store.base import PageCounts, StaleRecord

from .helpers import T0, bad, commit, harvest, idents, raw, start

T1 = "2024-02-01T00:00:00Z"
T2 = "2024-03-01T00:00:00Z"


def records_of(store: Any, member: str | None = None, **kw: Any) -> dict[str, Any]:
    return {(r.identifier if member else (r.member_id, r.identifier)): r
            for r in store.iter_records(member, **kw)}


def test_a_page_stores_new_records_with_their_provenance(store):
    run = start(store, "m1")
    counts = commit(store, "m1", run, [raw("a", sets=("s2", "s1")), raw("b", T1)],
                    resume={"token": "t1"})
    assert counts == PageCounts(new=2)
    a, b = store.iter_records("m1")
    assert (a.member_id, a.identifier, a.metadata_prefix, a.datestamp, a.sets, a.deleted) == (
        "m1", "a", "oai_dc", T0, ("s1", "s2"), False)
    assert a.raw == raw("a").raw and b.raw == raw("b", T1).raw
    assert a.run_id == run and a.first_harvested <= a.harvested_at
    assert b.datestamp == T1
    assert store.member_state("m1").resume == {"token": "t1"}
    assert store.counts("m1") == {"records": 2, "deleted": 0, "quarantined": 0}


def test_datestamps_are_kept_exactly_as_the_member_wrote_them(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("day", "2024-01-05"), raw("secs", "2024-01-05T10:11:12Z")])
    assert {r.identifier: r.datestamp for r in store.iter_records("m1")} == {
        "day": "2024-01-05", "secs": "2024-01-05T10:11:12Z"}


def test_the_same_version_again_is_unchanged_and_keeps_its_seq(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a"), raw("b")])
    before = records_of(store, "m1")
    again = start(store, "m1")
    assert commit(store, "m1", again, [raw("a", body="same version, other bytes"), raw("b")]
                  ) == PageCounts(unchanged=2)
    after = records_of(store, "m1")
    assert {k: (v.seq, v.raw, v.run_id) for k, v in after.items()} == {
        k: (v.seq, v.raw, v.run_id) for k, v in before.items()}


def test_an_unchanged_record_gains_the_sets_it_is_listed_in(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a", sets=("s1",))])
    commit(store, "m1", run, [raw("a", sets=("s2",))])
    assert records_of(store, "m1")["a"].sets == ("s1", "s2")


def test_a_newer_version_updates_the_record_and_moves_it_to_a_later_seq(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a"), raw("b")])
    first = records_of(store, "m1")
    later = start(store, "m1")
    assert commit(store, "m1", later, [raw("a", T1, sets=("s9",), body="v2")]
                  ) == PageCounts(updated=1)
    a = records_of(store, "m1")["a"]
    assert a.seq > first["b"].seq > first["a"].seq
    assert (a.datestamp, a.sets, a.raw, a.run_id) == (T1, ("s9",), raw("a", T1, body="v2").raw,
                                                      later)
    assert a.first_harvested == first["a"].first_harvested
    assert idents(store.iter_records("m1")) == ["b", "a"]


def test_a_record_in_another_format_is_updated_even_with_the_same_datestamp(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a")], prefix="oai_dc")
    assert commit(store, "m1", run, [raw("a", body="lom")], prefix="oai_lom"
                  ) == PageCounts(updated=1)
    assert records_of(store, "m1")["a"].metadata_prefix == "oai_lom"


def test_an_older_copy_never_replaces_a_newer_one_and_comes_back_as_stale(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a", T2, body="new")])
    counts = commit(store, "m1", run, [raw("a", T1, body="old")])
    assert counts == PageCounts(stale=(StaleRecord(identifier="a", datestamp=T1, kept=T2),))
    a = records_of(store, "m1")["a"]
    assert (a.datestamp, a.raw) == (T2, raw("a", T2, body="new").raw)


def test_within_a_page_the_newest_copy_wins_and_of_equal_ones_the_last(store):
    run = start(store, "m1")
    counts = commit(store, "m1", run, [raw("a", T2, body="newest"), raw("a", T1, body="older"),
                                       raw("b", T1, body="first"), raw("b", T1, body="second")])
    assert counts.new == 2
    assert counts.stale == (StaleRecord(identifier="a", datestamp=T1, kept=T2,
                                        within_page=True),)
    got = records_of(store, "m1")
    assert got["a"].raw == raw("a", T2, body="newest").raw
    assert got["b"].raw == raw("b", T1, body="second").raw


def test_a_later_copy_in_a_page_replaces_an_older_one_and_reports_it(store):
    run = start(store, "m1")
    counts = commit(store, "m1", run, [raw("a", T1, body="older"), raw("a", T2, body="newer")])
    assert counts.new == 1
    assert counts.stale == (StaleRecord(identifier="a", datestamp=T1, kept=T2,
                                        within_page=True),)
    assert records_of(store, "m1")["a"].raw == raw("a", T2, body="newer").raw


def test_a_stored_datestamp_far_in_the_future_does_not_hold_back_a_replacement(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a", "2999-01-01T00:00:00Z")])
    assert commit(store, "m1", run, [raw("a", T1, body="fixed")]) == PageCounts(updated=1)
    assert records_of(store, "m1")["a"].datestamp == T1


def test_unreadable_datestamps_let_the_later_copy_win(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a", "yesterday")])
    assert commit(store, "m1", run, [raw("a", T0, body="later")]) == PageCounts(updated=1)
    assert records_of(store, "m1")["a"].raw == raw("a", T0, body="later").raw


def test_a_deletion_keeps_the_last_raw_record_as_a_tombstone(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a"), raw("b")])
    before = records_of(store, "m1")["a"]
    assert commit(store, "m1", run, [raw("a", T1, deleted=True)]) == PageCounts(deleted=1)
    a = records_of(store, "m1")["a"]
    assert a.deleted and a.raw == before.raw and a.datestamp == T1 and a.seq > before.seq
    assert idents(store.iter_records("m1", include_deleted=False)) == ["b"]
    assert store.counts("m1") == {"records": 1, "deleted": 1, "quarantined": 0}
    # The same deletion again is unchanged; the record coming back is an update.
    assert commit(store, "m1", run, [raw("a", T1, deleted=True)]) == PageCounts(unchanged=1)
    assert commit(store, "m1", run, [raw("a", T2, body="back")]) == PageCounts(updated=1)
    a = records_of(store, "m1")["a"]
    assert not a.deleted and a.raw == raw("a", T2, body="back").raw
    assert store.counts("m1") == {"records": 2, "deleted": 0, "quarantined": 0}


def test_a_deletion_of_a_record_never_seen_is_kept_without_raw(store):
    run = start(store, "m1")
    assert commit(store, "m1", run, [raw("ghost", deleted=True)]) == PageCounts(deleted=1)
    (ghost,) = store.iter_records("m1")
    assert ghost.deleted and ghost.raw is None
    assert store.counts("m1") == {"records": 0, "deleted": 1, "quarantined": 0}


def test_a_failed_commit_advances_neither_records_nor_resume_state(make_store):
    store = make_store()
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a")], resume={"token": "page-1"})
    before = [(r.identifier, r.seq, r.datestamp) for r in store.iter_records()]
    unstorable = {"token": "page-2", "why": object()}  # fails while the page is being written
    with pytest.raises(Exception):  # noqa: B017,PT011 - any error: what matters is what stays
        commit(store, "m1", run, [raw("a", T1), raw("b"), raw("c", deleted=True)],
               quarantined=[bad("broken", "q")], resume=unstorable)
    for handle in (store, make_store()):
        assert [(r.identifier, r.seq, r.datestamp) for r in handle.iter_records()] == before
        assert handle.member_state("m1").resume == {"token": "page-1"}
        assert handle.quarantine("m1") == []
    # The store goes on: the page committed again is taken whole.
    assert commit(store, "m1", run, [raw("a", T1), raw("b")], resume={"token": "page-2"}
                  ) == PageCounts(new=1, updated=1)
    assert store.member_state("m1").resume == {"token": "page-2"}


def test_a_record_that_cannot_be_written_fails_the_whole_page(make_store):
    store = make_store()
    run = start(store, "m1")
    commit(store, "m1", run, [raw("a")], resume={"token": "page-1"})
    broken = raw("b")
    object.__setattr__(broken, "raw", object())  # not bytes: no backend can store it
    with pytest.raises(Exception):  # noqa: B017,PT011
        commit(store, "m1", run, [raw("z"), broken], resume={"token": "page-2"})
    assert idents(make_store().iter_records("m1")) == ["a"]
    assert make_store().member_state("m1").resume == {"token": "page-1"}


def test_the_resume_state_follows_the_pages_and_clears_at_the_end(store):
    run = start(store, "m1")
    for n in range(3):
        commit(store, "m1", run, [raw(f"r{n}")], resume={"token": f"t{n}", "cursor": n})
        assert store.member_state("m1").resume == {"token": f"t{n}", "cursor": n}
    commit(store, "m1", run, [raw("last")], resume=None)
    assert store.member_state("m1").resume is None
    assert store.member_state("m2").resume is None  # another member's state is apart


def test_an_empty_page_still_commits_the_resume_state(store):
    run = start(store, "m1")
    assert commit(store, "m1", run, [], resume={"token": "t"}) == PageCounts()
    assert store.member_state("m1").resume == {"token": "t"}


def test_seq_grows_with_every_change_across_members_and_orders_iter_records(store):
    r1, r2 = start(store, "m1"), start(store, "m2")
    commit(store, "m1", r1, [raw("a"), raw("b")])
    commit(store, "m2", r2, [raw("x")])
    commit(store, "m1", r1, [raw("a", T1)])
    commit(store, "m2", r2, [raw("x", T1, deleted=True)])
    commit(store, "m1", r1, [raw("c")])
    order = [(r.member_id, r.identifier) for r in store.iter_records()]
    assert order == [("m1", "b"), ("m1", "a"), ("m2", "x"), ("m1", "c")]
    seqs = [r.seq for r in store.iter_records()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] > 0
    assert idents(store.iter_records("m1")) == ["b", "a", "c"]
    assert idents(store.iter_records("m2")) == ["x"]


def test_iter_records_since_seq_gives_only_later_changes(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw(f"r{n}") for n in range(5)])
    seqs = [r.seq for r in store.iter_records("m1")]
    assert idents(store.iter_records("m1", since_seq=seqs[2])) == ["r3", "r4"]
    assert list(store.iter_records("m1", since_seq=seqs[-1])) == []
    commit(store, "m1", run, [raw("r0", T1)])
    assert idents(store.iter_records("m1", since_seq=seqs[-1])) == ["r0"]
    assert idents(store.iter_records(since_seq=seqs[2], include_deleted=False)) == [
        "r3", "r4", "r0"]


def test_iter_records_pages_through_many_records_by_seq_and_member(store):
    # More than one batch of any reasonable keyset page size, two members interleaved.
    r1, r2 = start(store, "m1"), start(store, "m2")
    for page in range(12):
        commit(store, "m1", r1, [raw(f"a{page:02d}-{n:03d}") for n in range(150)])
        commit(store, "m2", r2, [raw(f"b{page:02d}-{n:03d}") for n in range(50)])
    commit(store, "m1", r1, [raw(f"a00-{n:03d}", T1, deleted=True) for n in range(0, 150, 3)])
    everything = list(store.iter_records())
    assert len(everything) == 2400
    seqs = [r.seq for r in everything]
    assert seqs == sorted(set(seqs))
    m1 = list(store.iter_records("m1"))
    assert len(m1) == 1800 and {r.member_id for r in m1} == {"m1"}
    assert [r.seq for r in m1] == [r.seq for r in everything if r.member_id == "m1"]
    live = list(store.iter_records("m1", include_deleted=False))
    assert len(live) == 1750 and not any(r.deleted for r in live)
    middle = seqs[1234]
    assert [r.seq for r in store.iter_records(since_seq=middle)] == seqs[1235:]


def test_retire_unseen_marks_deleted_what_the_run_did_not_see(store):
    first = harvest(store, "m1", ["a", "b", "c", "d"])
    harvest(store, "m2", ["a"])
    run = start(store, "m1", mode="reconcile")
    commit(store, "m1", run, [raw("a")])  # unchanged: seen all the same
    commit(store, "m1", run, [raw("b", "2000-01-01T00:00:00Z")])  # stale: still listed, seen
    store.mark_seen("m1", run, ["c"])
    before = records_of(store, "m1")
    assert store.retire_unseen("m1", run) == 1
    after = records_of(store, "m1")
    assert [k for k, v in after.items() if v.deleted] == ["d"]
    assert after["d"].seq > max(r.seq for r in before.values())
    assert after["d"].raw == before["d"].raw  # a tombstone keeps the last record
    assert {k: v.seq for k, v in after.items() if k != "d"} == {
        k: v.seq for k, v in before.items() if k != "d"}
    assert store.counts("m1") == {"records": 3, "deleted": 1, "quarantined": 0}
    assert store.counts("m2") == {"records": 1, "deleted": 0, "quarantined": 0}
    # Nothing more to retire; a deleted record is not retired again.
    assert store.retire_unseen("m1", run) == 0
    assert first < run


def test_retire_unseen_of_a_run_that_saw_nothing_retires_every_live_record(store):
    harvest(store, "m1", ["a", "b"])
    run = start(store, "m1")
    assert store.retire_unseen("m1", run) == 2
    assert store.counts("m1") == {"records": 0, "deleted": 2, "quarantined": 0}
    seqs = [r.seq for r in store.iter_records("m1")]
    assert len(set(seqs)) == 2


def test_quarantined_records_are_kept_with_reason_and_raw_newest_first(store):
    run = start(store, "m1")
    commit(store, "m1", run, [raw("ok")], quarantined=[bad("not XML", "q1"), bad("no id")])
    other = start(store, "m2")
    commit(store, "m2", other, [], quarantined=[bad("elsewhere", "z")])
    entries = store.quarantine("m1")
    assert [(e.identifier, e.reason) for e in entries] == [(None, "no id"), ("q1", "not XML")]
    q1 = entries[1]
    assert (q1.member_id, q1.run_id, q1.stage, q1.raw) == ("m1", run, "harvest",
                                                           bad("not XML", "q1").raw)
    assert entries[0].id > q1.id
    assert [e.member_id for e in store.quarantine()] == ["m2", "m1", "m1"]
    assert len(store.quarantine(limit=1)) == 1
    assert store.counts("m1") == {"records": 1, "deleted": 0, "quarantined": 2}
    assert commit(store, "m1", run, [], quarantined=[bad("again", "q2")]).quarantined == 1


def test_a_record_that_now_reads_fine_resolves_its_harvest_quarantine(store):
    run = start(store, "m1")
    commit(store, "m1", run, [], quarantined=[bad("broken", "a"), bad("broken", "b")])
    with store.catalog() as txn:  # a normalization entry of the same record stays
        txn.quarantine("m1", "a", stage="normalize", reason="no title", raw=None)
    commit(store, "m1", run, [raw("a")])
    assert sorted((e.identifier, e.stage) for e in store.quarantine("m1")) == [
        ("a", "normalize"), ("b", "harvest")]
    # A deletion does not say the record reads fine.
    commit(store, "m1", run, [raw("b", deleted=True)])
    assert ("b", "harvest") in {(e.identifier, e.stage) for e in store.quarantine("m1")}
    assert store.counts("m1")["quarantined"] == 2


def test_a_page_of_many_records_is_one_commit(store):
    # More identifiers than one statement's parameters may hold on some engines.
    run = start(store, "m1")
    page = [raw(f"r{n:04d}", sets=("s",)) for n in range(1500)]
    assert commit(store, "m1", run, page, resume={"token": "big"}) == PageCounts(new=1500)
    again = [raw(f"r{n:04d}", T1 if n % 2 else T0) for n in range(1500)]
    assert commit(store, "m1", run, again) == PageCounts(updated=750, unchanged=750)
    store.mark_seen("m1", run, [f"r{n:04d}" for n in range(1500)] + ["unknown"])
    assert store.retire_unseen("m1", run) == 0
    assert store.counts("m1") == {"records": 1500, "deleted": 0, "quarantined": 0}
