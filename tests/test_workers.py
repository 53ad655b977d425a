"""Harvest workers sharing an alliance through leases in the store (issue 12).

Against real loopback OAI-PMH servers; the kill test runs ``eduxchange harvest --workers``
as a user does and SIGKILLs one of its worker processes mid-member.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import eduxchange
from eduxchange.core.errors import LeaseLost, StoreLocked
from eduxchange.store.sqlite import SQLiteStore
from eduxchange.workers import Heartbeat, harvest_with_workers, next_member, work
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

START = datetime(2024, 1, 1)
MINUTE = timedelta(minutes=1)


# -- the lease primitives (SQLite) ----------------------------------------------------------

def test_a_lease_is_held_by_one_worker_until_it_expires(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.sqlite") as store:
        assert store.acquire_lease("m", "w1", 0.5)
        assert not store.acquire_lease("m", "w2", 0.5)
        assert not store.acquire_lease("m", "w1", 0.5)  # not twice, even by its holder
        assert store.renew_lease("m", "w1", 0.5)
        assert not store.renew_lease("m", "w2", 0.5)
        (info,) = store.leases()
        assert info.name == "m" and info.worker_id == "w1" and info.live
        time.sleep(0.6)
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


def test_next_member_skips_held_ones_and_the_lease_checks_renewal(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.sqlite") as store:
        assert store.acquire_lease("a", "other", 30)
        leased = next_member(store, "me", ["a", "b", "c"], ttl_s=30)
        assert leased is not None and leased.member_id == "b" and not leased.took_over
        with Heartbeat(store, "me", ttl_s=30) as beat, beat.hold("b") as lease:
            lease.check()
            store.release_lease("b", "me")  # as if it had expired and been taken
            assert store.acquire_lease("b", "thief", 30)
            with pytest.raises(LeaseLost, match="another worker took it over"):
                lease.check()
        assert store.leases()[1].worker_id == "thief"  # a lost lease is not released
        store.release_lease("a", "other")
        store.acquire_lease("c", "dead", 0.01)
        time.sleep(0.05)
        again = next_member(store, "me", ["c"], ttl_s=30)
        assert again is not None and again.took_over


def test_the_heartbeat_keeps_a_lease_between_checks(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.sqlite") as store:
        assert store.acquire_lease("m", "me", 0.6)
        with Heartbeat(store, "me", ttl_s=0.6) as beat, beat.hold("m") as lease:
            lease.finished = True
            time.sleep(1.5)  # a slow page: no check, the heartbeat renews
            assert not store.acquire_lease("m", "other", 30)
        (info,) = store.leases()
        assert info.worker_id is None and info.finished_by == "me"


def test_workers_and_a_one_process_harvest_exclude_each_other(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "c.sqlite") as store:
        with store.worker_lock(), store.worker_lock():  # any number of workers
            with pytest.raises(StoreLocked, match="harvest workers"):
                with store.harvest_lock():
                    pass
        with store.harvest_lock():
            with pytest.raises(StoreLocked, match="harvest workers cannot start"):
                with store.worker_lock():
                    pass


# -- workers harvesting an alliance ----------------------------------------------------------

def _config(directory: Path, urls: dict[str, str], **harvest: object) -> eduxchange.Config:
    directory.mkdir(parents=True, exist_ok=True)
    members = [{"id": m, "endpoint": u, "metadata_prefix": "lom"} for m, u in urls.items()]
    return eduxchange.load_config(write_config(directory / "alliance.toml", members, harvest))


def _catalogue(config: eduxchange.Config) -> dict[str, str]:
    """Every resource's IRI -> the sorted (member, identifier) pairs describing it."""
    with eduxchange.open_store(config) as store:
        out: dict[str, list[str]] = {}
        for member in config.members:
            for d in store.iter_descriptions(member.id):
                out.setdefault(d.resource_id, []).append(f"{member.id}|{d.identifier}")
        return {k: " ".join(sorted(v)) for k, v in out.items()}


def test_workers_build_the_catalogue_a_one_process_harvest_builds(tmp_path: Path) -> None:
    # Overlapping records: members describe shared resources, so which member is normalized
    # first decides IRIs; workers must keep the one-process order.
    a = make_records(60, start=START, step=MINUTE, first=1)
    b = make_records(60, start=START, step=MINUTE, first=41)
    c = make_records(40, start=START, step=MINUTE, first=91)
    with serve_faulty(a, page_size=10) as sa, serve_faulty(b, page_size=10) as sb, \
            serve_faulty(c, page_size=10) as sc:
        for server in (sa, sb, sc):
            server.delay_next(3, 0.1, verb="ListRecords")
        urls = {"c-last": sc.url, "a-first": sa.url, "b-middle": sb.url}
        one = _config(tmp_path / "one", urls)
        many = _config(tmp_path / "many", urls, concurrency=1)
        single = eduxchange.harvest(one)
        results = harvest_with_workers(many, workers=3, ttl_s=5)
    assert [r.member_id for r in results] == ["c-last", "a-first", "b-middle"]
    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.new for r in results] == [r.new for r in single] == [40, 60, 60]
    assert all(r.normalization and r.normalization["processed"] for r in results)
    assert _catalogue(many) == _catalogue(one)
    with eduxchange.open_store(many) as store:
        assert all(not lease.live for lease in store.leases())


def test_a_worker_once_takes_only_free_members(tmp_path: Path) -> None:
    with serve_faulty(make_records(30, start=START, step=MINUTE), page_size=10) as sa, \
            serve_faulty(make_records(30, start=START, step=MINUTE, first=100),
                         page_size=10) as sb:
        config = _config(tmp_path, {"a": sa.url, "b": sb.url})
        with eduxchange.open_store(config) as store:
            assert store.acquire_lease("a", "someone-else", 60)
        results = work(config, wait_for_others=False, ttl_s=5)
    assert [r.member_id for r in results] == ["b"]
    assert results[0].ok and results[0].new == 30


def _worker_pid(store: SQLiteStore, member: str) -> int | None:
    for lease in store.leases():
        if lease.name == member and lease.live and lease.worker_id:
            return int(lease.worker_id.split(":")[1])
    return None


def test_a_killed_worker_s_member_is_taken_over_and_resumed(tmp_path: Path) -> None:
    pages, size = 24, 10
    slow = make_records(pages * size, start=START, step=MINUTE)
    quick = make_records(30, start=START, step=MINUTE, first=5000)
    with serve_faulty(slow, page_size=size) as s_slow, \
            serve_faulty(quick, page_size=size) as s_quick:
        s_slow.delay_next(10_000, 0.15, verb="ListRecords")
        config = _config(tmp_path, {"slow": s_slow.url, "quick": s_quick.url}, concurrency=1)
        assert config.path is not None
        cmd = [sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c", str(config.path),
               "--workers", "2", "--lease-ttl", "2", "--json"]
        harvest = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        killed = None
        try:
            with SQLiteStore(config.catalog.store) as store:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and killed is None:
                    stored = store.counts("slow")["records"]
                    pid = _worker_pid(store, "slow")
                    if pid is not None and 3 * size <= stored < (pages - 8) * size:
                        os.kill(pid, signal.SIGKILL)
                        killed, at_kill = pid, stored
                    time.sleep(0.05)
            assert killed is not None, "the slow member's worker was never seen mid-member"
            out, err = harvest.communicate(timeout=120)
        finally:
            if harvest.poll() is None:
                harvest.kill()
                harvest.wait()
    assert harvest.returncode == 0, err.decode()
    results = {r["member"]: r for r in json.loads(out)["results"]}
    assert results["quick"]["state"] == "ok" and results["quick"]["new"] == 30
    taken = results["slow"]
    assert taken["state"] == "ok" and taken["mode"] == "resumed"
    # Resumed from the last committed page: only what the killed worker had not stored.
    assert taken["new"] <= pages * size - at_kill + size
    with eduxchange.open_store(config) as store:
        assert store.counts("slow")["records"] == pages * size
        assert store.counts("quick")["records"] == 30
        runs = store.runs("slow")
        assert [r.state for r in runs][:2] == ["ok", "interrupted"]
        resources = store.resource_counts()
        described = sum(1 for m in ("slow", "quick") for _ in store.iter_descriptions(m))
        holder = next(lease for lease in store.leases() if lease.name == "slow").finished_by
    # Every record became one resource (the generated records do not overlap), none twice.
    assert described == pages * size + 30
    assert resources["resources"] == pages * size + 30
    assert holder is not None and f":{killed}:" not in holder


def test_status_shows_who_holds_a_member(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eduxchange_cli.main import main

    config = _config(tmp_path, {"a": "http://127.0.0.1:9/oai"})
    assert config.path is not None
    with eduxchange.open_store(config) as store:
        assert store.acquire_lease("a", "host:4242:abc", 60)
    out = CliRunner().invoke(main, ["status", "-c", str(config.path), "--json"])
    assert out.exit_code == 0, out.output
    (lease,) = json.loads(out.output)["leases"]
    assert lease["name"] == "a" and lease["worker"] == "host:4242:abc"
    assert 0 < float(lease["expires_in"]) <= 60
    text = CliRunner().invoke(main, ["status", "-c", str(config.path)]).output
    assert "a: being harvested by worker host:4242:abc" in text
