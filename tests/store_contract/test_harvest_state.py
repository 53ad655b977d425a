"""The contract of a member's harvest state, runs, the harvest log and the harvest lock."""

from __future__ import annotations

import threading
import time

import pytest

from eduxchange.core.errors import StoreLocked
from eduxchange.store.base import SEVERITIES, EventInfo, MemberState

from .helpers import issue, start


def test_an_unknown_member_has_the_default_state(store):
    assert store.member_state("nobody") == MemberState(member_id="nobody")
    assert store.counts("nobody") == {"records": 0, "deleted": 0, "quarantined": 0}


def test_member_state_fields_round_trip_and_are_kept_apart_per_member(make_store):
    store = make_store()
    resume = {"token": "abc", "cursor": 3, "nested": {"list": [1, "two", None], "ok": True}}
    store.update_member_state("m1", metadata_prefix="oai_lom", granularity="YYYY-MM-DD",
                              deleted_record="persistent", earliest_datestamp="2001-01-01",
                              next_from="2024-05-01", last_harvest="2024-05-02T10:00:00Z",
                              state="ok", error=None, resume=resume,
                              last_reconcile="2024-05-02T10:00:00Z", normalized_seq=7)
    store.update_member_state("m2", state="failed", error="boom")
    expected = MemberState(member_id="m1", metadata_prefix="oai_lom", granularity="YYYY-MM-DD",
                           deleted_record="persistent", earliest_datestamp="2001-01-01",
                           next_from="2024-05-01", last_harvest="2024-05-02T10:00:00Z",
                           state="ok", resume=resume, last_reconcile="2024-05-02T10:00:00Z",
                           normalized_seq=7)
    assert store.member_state("m1") == expected
    assert make_store().member_state("m1") == expected  # committed, seen by another handle
    assert store.member_state("m2") == MemberState(member_id="m2", state="failed", error="boom")
    # Updating some fields leaves the others; None clears.
    store.update_member_state("m1", resume=None, error="later")
    state = store.member_state("m1")
    assert (state.resume, state.error, state.next_from) == (None, "later", "2024-05-01")


def test_an_unknown_member_state_field_is_refused_and_nothing_changes(store):
    store.update_member_state("m1", next_from="2024-01-01")
    with pytest.raises(ValueError, match="bogus"):
        store.update_member_state("m1", next_from="2025-01-01", bogus=1)
    assert store.member_state("m1").next_from == "2024-01-01"


def test_runs_newest_first_with_their_mode_counts_and_error(store):
    first = start(store, "m1")
    store.update_run(first, mode="incremental", metadata_prefix="oai_lom", from_="2024-01-01")
    store.finish_run(first, state="ok", counts={"new": 3, "deleted": 1}, error=None)
    second = start(store, "m2")
    store.finish_run(second, state="failed", counts={}, error="timed out")
    third = start(store, "m1")
    assert first < second < third
    runs = store.runs()
    assert [r.id for r in runs] == [third, second, first]
    done = runs[2]
    assert (done.member_id, done.mode, done.state, done.counts, done.error) == (
        "m1", "incremental", "ok", {"new": 3, "deleted": 1}, None)
    assert done.finished_at is not None and done.started_at <= done.finished_at
    assert (runs[1].state, runs[1].error) == ("failed", "timed out")
    assert (runs[0].state, runs[0].finished_at) == ("running", None)
    assert [r.id for r in store.runs("m1")] == [third, first]
    assert [r.id for r in store.runs(limit=1)] == [third]
    assert store.runs("nobody") == []


def test_run_stats_sum_each_members_runs_failures_and_last_finishes(store):
    assert store.run_stats() == {}
    ok = start(store, "m1")
    store.finish_run(ok, state="ok", counts={}, error=None)
    failed = start(store, "m1")
    store.finish_run(failed, state="failed", counts={}, error="timed out")
    time.sleep(1.05)  # finished_at counts seconds: the interrupted run ends strictly later
    stopped = start(store, "m1")
    store.finish_run(stopped, state="interrupted", counts={}, error="asked to stop")
    start(store, "m1")  # still running: counted, not finished
    other = start(store, "m2")
    store.finish_run(other, state="failed", counts={}, error="refused")
    stats = store.run_stats()
    assert set(stats) == {"m1", "m2"}
    m1, m2 = stats["m1"], stats["m2"]
    assert (m1.member_id, m1.runs, m1.failed) == ("m1", 4, 1)
    finished = {r.id: r.finished_at for r in store.runs()}
    assert m1.last_success == finished[ok]
    # An interrupted run is no outcome: it does not put off a retry.
    assert finished[stopped] is not None and finished[stopped] > finished[failed]
    assert m1.last_finished == max(finished[ok], finished[failed])
    assert (m2.runs, m2.failed, m2.last_success, m2.last_finished) == (
        1, 1, None, finished[other])


def test_beginning_a_run_marks_the_members_unfinished_run_interrupted(store):
    killed = start(store, "m1")
    other = start(store, "m2")
    start(store, "m1")
    states = {r.id: r.state for r in store.runs()}
    assert states[killed] == "interrupted"
    assert states[other] == "running"  # another member's run is left alone
    assert next(r for r in store.runs() if r.id == killed).finished_at is not None


def test_events_newest_first_filtered_by_member_run_and_severity(store):
    r1, r2 = start(store, "m1"), start(store, "m2")
    store.log_issues(r1, "m1", [issue("a", "info"), issue("b", "warning", "id-1"),
                                issue("c", "error")])
    store.log_issues(r2, "m2", [issue("d", "warning")])
    store.log_issues(None, "m1", [issue("e", "warning")])  # an issue outside any run
    store.log_issues(r1, "m1", [])  # nothing to log is fine
    assert [e.code for e in store.events()] == ["e", "d", "c", "b", "a"]
    assert [e.code for e in store.events("m1")] == ["e", "c", "b", "a"]
    assert [e.code for e in store.events(run_id=r1)] == ["c", "b", "a"]
    assert [e.code for e in store.events("m1", r1, min_severity="warning")] == ["c", "b"]
    assert [e.code for e in store.events(min_severity="error")] == ["c"]
    assert [e.code for e in store.events(limit=2)] == ["e", "d"]
    assert store.events(limit=0) == []
    b = next(e for e in store.events() if e.code == "b")
    assert isinstance(b, EventInfo)
    assert (b.run_id, b.member_id, b.severity, b.message, b.identifier) == (
        r1, "m1", "warning", "b happened", "id-1")
    assert b.to_dict()["run"] == r1 and b.to_dict()["at"] == b.created_at
    assert next(e for e in store.events() if e.code == "e").run_id is None
    ids = [e.id for e in store.events()]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


def test_an_unknown_severity_is_refused_naming_the_known_ones(store):
    with pytest.raises(ValueError) as err:
        store.events(min_severity="fatal")
    assert all(s in str(err.value) for s in SEVERITIES)


def test_warning_counts_count_warnings_only_and_leave_out_runs_without(store):
    runs = [start(store, "m1") for _ in range(3)]
    store.log_issues(runs[0], "m1", [issue("w"), issue("w"), issue("i", "info"),
                                     issue("e", "error")])
    store.log_issues(runs[2], "m1", [issue("w")])
    assert store.warning_counts(runs) == {runs[0]: 2, runs[2]: 1}
    assert store.warning_counts([]) == {}
    assert store.warning_counts([runs[1], 10**9]) == {}


def test_warning_counts_take_many_run_ids_at_once(store):
    # More ids than one SQL statement's parameters may hold on some engines (most unknown).
    runs = [start(store, "m1") for _ in range(5)]
    for run in runs[::2]:
        store.log_issues(run, "m1", [issue("w")])
    asked = [*range(10**6, 10**6 + 700), *runs, *range(2 * 10**6, 2 * 10**6 + 700)]
    assert store.warning_counts(asked) == {run: 1 for run in runs[::2]}


def test_last_run_warnings_read_the_last_finished_run(store):
    assert store.last_run_warnings("m1") == (0, None)
    first = start(store, "m1")
    store.log_issues(first, "m1", [issue("old")])
    store.finish_run(first, state="ok", counts={}, error=None)
    second = start(store, "m1")
    store.log_issues(second, "m1", [issue("x"), issue("y"), issue("i", "info")])
    store.finish_run(second, state="failed", counts={}, error="boom")
    running = start(store, "m1")  # unfinished: not the last finished run
    store.log_issues(running, "m1", [issue("new")])
    count, latest = store.last_run_warnings("m1")
    assert count == 2 and latest is not None and latest.code == "y"
    quiet = start(store, "m2")
    store.finish_run(quiet, state="ok", counts={}, error=None)
    assert store.last_run_warnings("m2") == (0, None)


def test_the_harvest_lock_excludes_other_handles_and_threads_until_released(make_store):
    one, two = make_store(), make_store()
    with one.harvest_lock():
        with pytest.raises(StoreLocked):
            with two.harvest_lock():
                pass  # pragma: no cover - must not be reached
        refused: list[BaseException] = []

        def contend() -> None:
            try:
                with one.harvest_lock():
                    pass  # pragma: no cover
            except StoreLocked as err:
                refused.append(err)

        thread = threading.Thread(target=contend)
        thread.start()
        thread.join()
        assert len(refused) == 1
    with two.harvest_lock():  # released: taken at once
        pass
    with one.harvest_lock():  # and again
        pass


def test_the_harvest_lock_is_released_when_the_block_raises(make_store):
    one, two = make_store(), make_store()
    with pytest.raises(RuntimeError):
        with one.harvest_lock():
            raise RuntimeError("the harvest broke")
    with two.harvest_lock():
        pass
