"""Harvest workers sharing an alliance through leases in the store (issue 12).

Against real loopback OAI-PMH servers; the kill test runs ``eduxchange harvest --workers``
as a user does and SIGKILLs one of its worker processes mid-member.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import eduxchange
from eduxchange.store.base import CatalogStore
from eduxchange.workers import harvest_with_workers, work
from tests.conftest import write_config
from tests.store_contract.conftest import _postgres_url_or_skip, _with_search_path
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

START = datetime(2024, 1, 1)
MINUTE = timedelta(minutes=1)


# The lease primitives are in the contract suite (tests/store_contract/test_leases.py).


# -- workers harvesting an alliance ----------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest) -> Iterator[Callable[[], str | None]]:
    """Makes fresh stores of each backend: None (the config's SQLite file) or a PostgreSQL
    URL of a schema of its own (skipped without ``EDUXCHANGE_TEST_POSTGRES``)."""
    if request.param == "sqlite":
        yield lambda: None
        return
    url = _postgres_url_or_skip()
    import psycopg

    made: list[str] = []

    def make() -> str:
        schema = f"edx_workers_{secrets.token_hex(6)}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        return _with_search_path(url, schema)

    yield make
    with psycopg.connect(url, autocommit=True) as admin:
        for schema in made:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _config(directory: Path, urls: dict[str, str], store: str | None = None,
            **harvest: object) -> eduxchange.Config:
    directory.mkdir(parents=True, exist_ok=True)
    members = [{"id": m, "endpoint": u, "metadata_prefix": "lom"} for m, u in urls.items()]
    path = write_config(directory / "alliance.toml", members, harvest)
    if store is not None:
        path.write_text(path.read_text("utf-8").replace(
            'store = "catalog.sqlite"', f'store = "{store}"'), "utf-8")
    return eduxchange.load_config(path)


def _catalogue(config: eduxchange.Config) -> dict[str, str]:
    """Every resource's IRI -> the sorted (member, identifier) pairs describing it."""
    with eduxchange.open_store(config) as store:
        out: dict[str, list[str]] = {}
        for member in config.members:
            for d in store.iter_descriptions(member.id):
                out.setdefault(d.resource_id, []).append(f"{member.id}|{d.identifier}")
        return {k: " ".join(sorted(v)) for k, v in out.items()}


def test_workers_build_the_catalogue_a_one_process_harvest_builds(
        tmp_path: Path, stores: Callable[[], str | None]) -> None:
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
        one = _config(tmp_path / "one", urls, stores())
        many = _config(tmp_path / "many", urls, stores(), concurrency=1)
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


def _worker_pid(store: CatalogStore, member: str) -> int | None:
    for lease in store.leases():
        if lease.name == member and lease.live and lease.worker_id:
            return int(lease.worker_id.split(":")[1])
    return None


def test_a_killed_worker_s_member_is_taken_over_and_resumed(
        tmp_path: Path, stores: Callable[[], str | None]) -> None:
    pages, size = 24, 10
    slow = make_records(pages * size, start=START, step=MINUTE)
    quick = make_records(30, start=START, step=MINUTE, first=5000)
    with serve_faulty(slow, page_size=size) as s_slow, \
            serve_faulty(quick, page_size=size) as s_quick:
        s_slow.delay_next(10_000, 0.15, verb="ListRecords")
        config = _config(tmp_path, {"slow": s_slow.url, "quick": s_quick.url}, stores(),
                         concurrency=1)
        assert config.path is not None
        cmd = [sys.executable, "-m", "eduxchange_cli.main", "harvest", "-c", str(config.path),
               "--workers", "2", "--lease-ttl", "2", "--json"]
        harvest = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        killed = None
        try:
            with eduxchange.open_store(config) as store:
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


def test_the_worker_command_harvests_free_members_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eduxchange_cli.main import main

    with serve_faulty(make_records(25, start=START, step=MINUTE), page_size=10) as server:
        config = _config(tmp_path, {"a": server.url})
        assert config.path is not None
        refused = CliRunner().invoke(main, ["worker", "-c", str(config.path), "--full"])
        assert refused.exit_code == 2 and "--full go with --once" in refused.output
        done = CliRunner().invoke(main, ["worker", "--once", "-c", str(config.path), "--json"])
        assert done.exit_code == 0, done.output
        (result,) = json.loads(done.output)["results"]
        assert result["member"] == "a" and result["new"] == 25
        assert result["normalization"]["created"] == 25
        with eduxchange.open_store(config) as store, store.harvest_lock():
            busy = CliRunner().invoke(main, ["worker", "--once", "-c", str(config.path)])
        assert busy.exit_code == 3 and "harvest workers cannot start" in busy.output


def _log_events(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_continuous_workers_share_the_due_members(tmp_path: Path) -> None:
    servers = [serve_faulty(make_records(20, start=START, step=MINUTE, first=1 + 100 * i),
                            page_size=5) for i in range(3)]
    running = [s.__enter__() for s in servers]
    processes: list[subprocess.Popen[str]] = []
    try:
        for server in running:
            server.delay_next(4, 0.4, verb="ListRecords")
        config = _config(tmp_path, {f"m{i}": s.url for i, s in enumerate(running)},
                         concurrency=1, every="1h")
        assert config.path is not None
        logs = [tmp_path / f"worker{i}.log" for i in range(2)]
        for log in logs:
            with log.open("w") as err:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "eduxchange_cli.main", "worker", "-c",
                     str(config.path), "--log-format", "json", "--lease-ttl", "5"],
                    stdout=subprocess.DEVNULL, stderr=err, text=True))
        deadline = time.monotonic() + 90
        while True:
            done = [e for log in logs for e in _log_events(log) if e.get("event") == "result"]
            if len(done) >= 3:
                break
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(p.poll() is None for p in processes), [log.read_text() for log in logs]
            time.sleep(0.2)
        time.sleep(1.5)  # a second harvest of a member would have begun by now
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for server in servers:
            server.__exit__(None, None, None)
    assert all(p.returncode == 143 for p in processes)  # 128 + SIGTERM: stopped by it
    done = [e for log in logs for e in _log_events(log) if e.get("event") == "result"]
    assert sorted(str(e["member"]) for e in done) == ["m0", "m1", "m2"]  # each once
    assert all(e["state"] == "ok" for e in done)
    with eduxchange.open_store(config) as store:
        assert {m: s.runs for m, s in store.run_stats().items()} == {"m0": 1, "m1": 1, "m2": 1}
        assert store.resource_counts()["resources"] == 60
