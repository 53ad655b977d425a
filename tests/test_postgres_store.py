"""The PostgreSQL backend's own guarantees (the contract suite, tests/store_contract, covers
what every backend shares): commit-ordered change sequences under concurrent writers, the
advisory harvest lock, schema migrations, StoreError with the cause, URLs without passwords,
and search that answers as the SQLite store's does.

Needs ``EDUXCHANGE_TEST_POSTGRES`` (skipped otherwise); each test has a schema of its own.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.core.config import parse_config, with_store
from eduxchange.core.errors import ConfigError, StoreError, StoreLocked
from eduxchange.core.models import Header, RawRecord
from eduxchange_cli.main import main
from tests.support.postgres import postgres_url  # noqa: F401 - the fixture



def _store(url: str) -> Any:
    from eduxchange.store.postgres import PostgresStore

    return PostgresStore(url)


def _raw(identifier: str, datestamp: str = "2024-01-01T00:00:00Z") -> RawRecord:
    return RawRecord(header=Header(identifier=identifier, datestamp=datestamp),
                     raw=f"<record><x>{identifier}</x></record>".encode())


# -- store URLs: never a password ------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "postgresql://edx:secret@db.example.org/catalogue",
    "postgresql://edx@db.example.org/catalogue?password=secret",
])
def test_a_password_in_the_config_file_is_refused_saying_where_it_goes(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"catalog": {"store": url}})
    message = str(caught.value)
    assert "password" in message and "EDUXCHANGE_STORE_PASSWORD" in message
    assert "secret" not in message


def test_a_password_in_store_option_is_refused_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "alliance.toml"
    config.write_text('[catalog]\nstore = "catalog.sqlite"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["status", "-c", str(config), "--store",
                                       "postgresql://edx:secret@127.0.0.1/test"])
    assert result.exit_code == 2
    assert "EDUXCHANGE_STORE_PASSWORD" in result.output and "secret" not in result.output


def test_a_store_url_selects_the_postgresql_backend() -> None:
    config = parse_config({"catalog": {"store": "postgresql://edx@db.example.org/catalogue"}})
    assert config.catalog.store_url == "postgresql://edx@db.example.org/catalogue"
    assert config.catalog.location == config.catalog.store_url
    assert with_store(config, "other.sqlite").catalog.store_url is None


def test_an_unreachable_server_is_a_store_error_naming_the_url_and_cause() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as caught:
        _store("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
    assert "127.0.0.1:1" in str(caught.value) and caught.value.__cause__ is not None


# -- schema migrations -------------------------------------------------------------------------

def test_the_schema_is_created_on_first_use_and_a_newer_one_refused(postgres_url: str) -> None:
    import psycopg

    from eduxchange.store.postgres.schema import SCHEMA_VERSION

    _store(postgres_url).close()
    again = _store(postgres_url)  # a second open migrates nothing
    schema = again.schema
    again.close()
    server = os.environ["EDUXCHANGE_TEST_POSTGRES"]
    with psycopg.connect(server, autocommit=True) as conn:
        rows = conn.execute(f'SELECT version FROM "{schema}".schema_migrations').fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        conn.execute(f'INSERT INTO "{schema}".schema_migrations (version) VALUES (%s)',
                     (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="upgrade eduxchange"):
        _store(postgres_url)


def test_the_tables_a_harvest_grows_are_analyzed_as_they_grow(postgres_url: str) -> None:
    """Autovacuum may be off (it is on the development server): planned on the statistics of
    empty tables, a first harvest's reads of its batch's rows scanned the member's rows."""
    import psycopg

    store = _store(postgres_url)
    try:
        server = os.environ["EDUXCHANGE_TEST_POSTGRES"]

        def analyzed() -> set[str]:
            with psycopg.connect(server, autocommit=True) as conn:
                # reltuples is -1 until a table is first analyzed (or vacuumed), and
                # ANALYZE sets it in its own transaction (unlike the statistics views)
                return {r[0] for r in conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r' "
                    "AND c.reltuples >= 0", (store.schema,))}

        assert "descriptions" not in analyzed()
        for _ in range(7):
            with store.catalog():
                pass
        assert "descriptions" not in analyzed()  # not for a handful of writes
        with store.catalog():
            pass
        assert {"records", "descriptions", "unmapped_terms", "match_keys",
                "resources"} <= analyzed()
    finally:
        store.close()


def test_a_read_only_handle_creates_nothing(postgres_url: str) -> None:
    from eduxchange.store.postgres import PostgresStore

    with pytest.raises(StoreError, match="harvest first"):
        PostgresStore(postgres_url, read_only=True)
    _store(postgres_url).close()
    ro = PostgresStore(postgres_url, read_only=True)
    try:
        with pytest.raises(StoreError):
            ro.update_member_state("m", state="ok")
        assert len(ro.token_key()) == 32  # the one row a server writes, with its own connection
    finally:
        ro.close()


# -- the change sequences are read in commit order ------------------------------------------

def test_a_later_writer_of_the_catalogue_waits_for_an_earlier_one_to_commit(
        postgres_url: str) -> None:
    """Deterministic: T1 takes a seq and stays open; T2 must not become visible before it."""
    writer, other, reader = _store(postgres_url), _store(postgres_url), _store(postgres_url)
    try:
        first = writer.catalog()
        txn = first.__enter__()
        done = threading.Event()

        def second() -> None:
            with other.catalog() as t2:
                t2.put_resource("r:second", {"name": {"en": "second"}}, deleted=False, sets=())
            done.set()

        thread = threading.Thread(target=second)
        try:
            txn.put_resource("r:first", {"name": {"en": "first"}}, deleted=False, sets=())
            # A read waits for the queued writes (pipeline mode): the seq is taken now.
            taken = txn.resource("r:first")
            assert taken is not None and taken.seq > 0
            thread.start()
            time.sleep(0.5)
            assert not done.is_set(), "the second writer took a seq while the first was open"
            assert [r.id for r in reader.iter_resources()] == []
        finally:
            first.__exit__(None, None, None)
            if thread.is_alive() or done.is_set():
                thread.join(10)
        assert done.is_set()
        seen = [(r.id, r.seq) for r in reader.iter_resources()]
        assert [i for i, _ in seen] == ["r:first", "r:second"]
        assert seen[0][1] < seen[1][1]
    finally:
        for s in (writer, other, reader):
            s.close()


def _page_until_quiet(read: Any, writers: list[threading.Thread]) -> list[tuple[str, int]]:
    """Page ``read(since_seq)`` as a feed client does until the writers are done."""
    seen: list[tuple[str, int]] = []
    last = 0
    while True:
        quiet = not any(w.is_alive() for w in writers)
        batch = list(read(last))
        seen.extend(batch)
        if batch:
            last = batch[-1][1]
        elif quiet:
            return seen
        time.sleep(random.random() * 0.003)


def test_concurrent_catalogue_writers_and_a_paging_reader_skip_nothing(
        postgres_url: str) -> None:
    stores = [_store(postgres_url) for _ in range(5)]
    reader = _store(postgres_url)
    written: list[str] = []
    lock = threading.Lock()

    def write(n: int, store: Any) -> None:
        for i in range(25):
            rid = f"r:{n}:{i}"
            with store.catalog() as txn:
                txn.put_resource(rid, {"name": {"en": rid}}, deleted=False, sets=())
                time.sleep(random.random() * 0.004)  # a seq taken, not committed yet
            with lock:
                written.append(rid)

    threads = [threading.Thread(target=write, args=(n, s)) for n, s in enumerate(stores)]
    try:
        for t in threads:
            t.start()
        seen = _page_until_quiet(
            lambda last: [(r.id, r.seq) for r in
                          _take(reader.iter_resources(since_seq=last), 7)], threads)
        assert sorted(i for i, _ in seen) == sorted(written)  # every change, once
        seqs = [s for _, s in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        for s in [*stores, reader]:
            s.close()


def test_concurrent_harvest_pages_and_a_paging_normalizer_skip_nothing(
        postgres_url: str) -> None:
    stores = [_store(postgres_url) for _ in range(4)]
    reader = _store(postgres_url)
    written: list[str] = []
    lock = threading.Lock()

    def harvest(n: int, store: Any) -> None:
        run = store.begin_run(f"m{n}", mode="full", metadata_prefix="oai_dc", from_=None)
        for page in range(15):
            ids = [f"oai:m{n}:{page}:{i}" for i in range(random.randint(1, 8))]
            store.commit_page(f"m{n}", run, "oai_dc", [_raw(i) for i in ids], [],
                              {"token": str(page)})
            with lock:
                written.extend(ids)

    threads = [threading.Thread(target=harvest, args=(n, s)) for n, s in enumerate(stores)]
    try:
        for t in threads:
            t.start()
        seen = _page_until_quiet(
            lambda last: [(r.identifier, r.seq) for r in
                          _take(reader.iter_records(since_seq=last), 5)], threads)
        assert sorted(i for i, _ in seen) == sorted(written)
    finally:
        for s in [*stores, reader]:
            s.close()


def _take(items: Any, n: int) -> list[Any]:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


# -- the harvest lock ------------------------------------------------------------------------

def test_the_harvest_lock_is_released_when_its_holder_is_killed(postgres_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from eduxchange.store.postgres import PostgresStore\n"
         "store = PostgresStore(sys.argv[1])\n"
         "with store.harvest_lock():\n"
         "    print('locked', flush=True)\n"
         "    time.sleep(60)\n", postgres_url],
        stdout=subprocess.PIPE, text=True)
    store = _store(postgres_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLocked) as caught:
            with store.harvest_lock():
                pass
        assert caught.value.holder.get("pid") == holder.pid
        assert f"pid {holder.pid}" in str(caught.value)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 10
        while True:
            try:
                with store.harvest_lock():
                    break
            except StoreLocked:
                assert time.monotonic() < deadline, "a killed holder's lock was not released"
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()
        store.close()


# -- failures are StoreErrors with their cause -------------------------------------------------

def test_a_connection_killed_mid_transaction_is_a_store_error(postgres_url: str) -> None:
    import psycopg

    store = _store(postgres_url)
    try:
        with pytest.raises(StoreError) as caught:
            with store.catalog() as txn:
                (pid,) = txn.conn.execute("SELECT pg_backend_pid()").fetchone()
                with psycopg.connect(os.environ["EDUXCHANGE_TEST_POSTGRES"],
                                     autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
                txn.put_resource("r:1", {"name": {"en": "x"}}, deleted=False, sets=())
        assert isinstance(caught.value.__cause__, psycopg.Error)
        assert store.resource_counts() == {"resources": 0, "deleted": 0}  # the pool recovers
    finally:
        store.close()


def test_a_value_postgresql_refuses_is_not_a_store_failure(postgres_url: str) -> None:
    """A record's own bad data must propagate as it is, so normalization quarantines it."""
    import psycopg

    from eduxchange.store.base import StoredDescription

    store = _store(postgres_url)
    try:
        with pytest.raises(psycopg.Error) as caught:
            with store.catalog() as txn:
                txn.put_description(StoredDescription(
                    member_id="m", identifier="bad\x00id", resource_id="r", format="lom",
                    rank=0, description={}), 1)
        assert not isinstance(caught.value, StoreError)
    finally:
        store.close()


def test_the_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    from eduxchange.store.postgres import PASSWORD_VARIABLE, parse_url

    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    target = parse_url("postgresql://edx@db.example.org/oer?schema=a&sslmode=require")
    assert (target.password, target.schema) == ("from-env", "a")
    assert target.conninfo == "postgresql://edx@db.example.org/oer?sslmode=require"


# -- the read path: no JIT, single statements without a transaction of their own ---------------

_COSTLY = ("EXPLAIN SELECT count(*) FROM generate_series(1, 3000000) g, "
           "generate_series(1, 100) h WHERE g > h")  # far above PostgreSQL's JIT thresholds


def test_the_stores_statements_are_never_jit_compiled(postgres_url: str) -> None:
    """A plan costed above the JIT thresholds (as a ListRecords page is after a bulk load,
    before statistics) is not compiled: 100-300 ms of CPU a statement for none saved."""
    from eduxchange.store.postgres import PostgresStore

    with _store(postgres_url) as store, PostgresStore(postgres_url, read_only=True) as reader:
        for handle in (store, reader):
            plan = "\n".join(r[0] for r in handle._rows(_COSTLY))
            assert "Nested Loop" in plan and "JIT" not in plan, plan
            with handle._conn() as conn:  # transactions too, not only single statements
                assert conn.execute("SHOW jit").fetchone() == ("off",)


def test_a_single_read_is_its_own_transaction_and_the_read_only_handle_stays_read_only(
        postgres_url: str) -> None:
    from eduxchange.store.postgres import PostgresStore

    with _store(postgres_url) as store, PostgresStore(postgres_url, read_only=True) as reader:
        store.kept_meta("probe", "x")
        assert reader._one("SELECT value FROM meta WHERE key = 'probe'") == ("x",)
        # autocommit does not lift default_transaction_read_only: a write still fails
        with pytest.raises(StoreError, match="read-only"):
            reader._one("INSERT INTO meta (key, value) VALUES ('w', 'w') RETURNING key")
        assert store._one("SELECT count(*) FROM meta WHERE key = 'w'") == (0,)
        # the connections go back to the pool as it hands them out: transactions again
        for handle in (store, reader):
            with handle._conn() as conn:
                assert not conn.autocommit
                conn.execute("SELECT 1")
                assert conn.info.transaction_status == conn.info.transaction_status.INTRANS
