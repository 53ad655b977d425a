"""The contract of the harvest workers' leases (``LeaseStore``), the workers' lock, and the
writes fenced by a lease (``commit_page`` and ``retire_unseen`` with ``fence``)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from eduxchange.core.errors import LeaseLost, StoreLocked
from eduxchange.store.base import LeaseFence
from eduxchange.workers import Heartbeat, next_member

from .helpers import bad, commit, harvest, idents, raw, start

T1 = "2024-06-01T00:00:00Z"


def test_a_lease_is_held_by_one_worker_until_it_expires(store):
    assert store.acquire_lease("m", "w1", 0.5)
    assert not store.acquire_lease("m", "w2", 0.5)
    assert not store.acquire_lease("m", "w1", 0.5)  # not twice, even by its holder
    assert store.renew_lease("m", "w1", 0.5)
    assert not store.renew_lease("m", "w2", 0.5)
    (info,) = store.leases()
    assert info.name == "m" and info.worker_id == "w1" and info.live
    assert info.taken_at <= store.lease_clock() < info.expires_at
    time.sleep(0.7)
    assert not store.leases()[0].live
    assert store.acquire_lease("m", "w2", 30)  # expired: taken over
    assert not store.renew_lease("m", "w1", 30)  # the old holder learns it lost it
    store.release_lease("m", "w1", finished=True)  # not its lease: nothing happens
    assert store.leases()[0].worker_id == "w2"
    store.release_lease("m", "w2", finished=True)
    (info,) = store.leases()
    assert info.worker_id is None and not info.live and info.finished_by == "w2"
    assert info.finished_at is not None
    # A round does not take again a member finished since it began.
    assert not store.acquire_lease("m", "w3", 30, unless_finished_since=info.finished_at)
    assert store.acquire_lease("m", "w3", 30, unless_finished_since=info.finished_at + 1)


def test_a_release_without_finishing_keeps_the_last_finish(store):
    assert store.acquire_lease("m", "w1", 30)
    store.release_lease("m", "w1")
    (info,) = store.leases()
    assert info.worker_id is None and info.finished_at is None
    assert store.acquire_lease("m", "w2", 30, unless_finished_since=0.0)


def test_workers_racing_for_one_lease_get_it_once(make_store):
    handles = [make_store() for _ in range(6)]
    barrier = threading.Barrier(len(handles))
    won: list[str] = []

    def race(i: int) -> None:
        barrier.wait()
        if handles[i].acquire_lease("m", f"w{i}", 30):
            won.append(f"w{i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(handles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert handles[0].leases()[0].worker_id == won[0]


def test_next_member_skips_held_ones_and_a_lost_lease_is_noticed(store):
    assert store.acquire_lease("a", "other", 30)
    leased = next_member(store, "me", ["a", "b", "c"], ttl_s=30)
    assert leased is not None and leased.member_id == "b" and not leased.took_over
    with Heartbeat(store, "me", ttl_s=30) as beat, beat.hold("b") as lease:
        lease.check()
        store.release_lease("b", "me")  # as if it had expired and been taken
        assert store.acquire_lease("b", "thief", 30)
        with pytest.raises(LeaseLost, match="another worker took it over"):
            lease.check()
    assert {i.name: i.worker_id for i in store.leases()}["b"] == "thief"  # not released
    store.acquire_lease("c", "dead", 0.01)
    time.sleep(0.1)
    again = next_member(store, "me", ["c"], ttl_s=30)
    assert again is not None and again.took_over


def test_the_heartbeat_keeps_a_lease_between_checks(store):
    assert store.acquire_lease("m", "me", 0.6)
    with Heartbeat(store, "me", ttl_s=0.6) as beat, beat.hold("m") as lease:
        lease.finished = True
        time.sleep(1.5)  # a slow page: no check, the heartbeat renews
        assert not store.acquire_lease("m", "other", 30)
    (info,) = store.leases()
    assert info.worker_id is None and info.finished_by == "me"


def test_workers_and_a_one_process_harvest_exclude_each_other(make_store):
    one, two, three = make_store(), make_store(), make_store()
    with one.worker_lock(), two.worker_lock():  # any number of workers
        with pytest.raises(StoreLocked, match="harvest workers"):
            with three.harvest_lock():
                pass
    with three.harvest_lock():
        with pytest.raises(StoreLocked, match="harvest workers cannot start"):
            with one.worker_lock():
                pass
    with one.worker_lock():  # let go: taken again
        pass


# -- fenced writes: commit_page and retire_unseen with a LeaseFence ---------------------------

def _snapshot(store: Any, member: str) -> tuple[list[tuple[str, int, bool]], Any, int]:
    """What a fenced write must leave alone: the member's records (identifier, seq, deleted),
    its resume state and the change sequence's head."""
    records = [(r.identifier, r.seq, r.deleted) for r in store.iter_records(member)]
    head = max((r.seq for r in store.iter_records()), default=0)
    return records, store.member_state(member).resume, head


def test_a_fenced_commit_writes_only_while_its_worker_holds_the_lease(store):
    run = start(store, "m")
    assert store.acquire_lease("m", "w1", 0.5)
    fence = LeaseFence("m", "w1")
    counts = store.commit_page("m", run, "oai_dc", [raw("a")], [], {"page": 1}, fence=fence)
    assert counts.new == 1
    time.sleep(0.7)  # expired, but nobody took it: still w1's, and its commit is safe
    assert not store.leases()[0].live
    assert store.commit_page("m", run, "oai_dc", [raw("b")], [], {"page": 2},
                             fence=fence).new == 1
    assert store.acquire_lease("m", "w2", 30)  # taken over
    before = _snapshot(store, "m")
    with pytest.raises(LeaseLost, match=r"w1.*'m'.*held by w2"):
        store.commit_page("m", run, "oai_dc", [raw("a", T1), raw("c")], [bad("x", "d")],
                          {"page": 3}, fence=fence)
    assert _snapshot(store, "m") == before  # nothing of the page: records, resume, seqs
    assert store.quarantine("m") == []
    # The new holder's fence passes; an unfenced commit (a plain harvest) is never refused.
    assert store.commit_page("m", run, "oai_dc", [raw("c")], [], {"page": 3},
                             fence=LeaseFence("m", "w2")).new == 1
    assert commit(store, "m", run, [raw("d")]).new == 1
    store.release_lease("m", "w2")
    with pytest.raises(LeaseLost, match="released"):
        store.commit_page("m", run, "oai_dc", [raw("e")], [], None, fence=LeaseFence("m", "w2"))
    with pytest.raises(LeaseLost):  # a lease that never existed is held by nobody
        store.commit_page("other", run, "oai_dc", [raw("e")], [], None,
                          fence=LeaseFence("other", "w2"))
    assert idents(store.iter_records("m")) == ["a", "b", "c", "d"]
    assert idents(store.iter_records("other")) == []


def test_a_fenced_retirement_retires_nothing_once_the_lease_is_taken(store):
    run = harvest(store, "m", ["a", "b"])
    again = start(store, "m")
    store.mark_seen("m", again, ["a"])
    assert store.acquire_lease("m", "w1", 0.01)
    time.sleep(0.1)
    assert store.acquire_lease("m", "w2", 30)
    before = _snapshot(store, "m")
    with pytest.raises(LeaseLost):
        store.retire_unseen("m", again, fence=LeaseFence("m", "w1"))
    assert _snapshot(store, "m") == before
    assert store.retire_unseen("m", again, fence=LeaseFence("m", "w2")) == 1
    assert [r.identifier for r in store.iter_records("m") if r.deleted] == ["b"]
    assert run != again
