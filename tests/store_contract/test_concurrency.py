"""The contract under concurrency: keyset paging by seq stays exact while other handles commit,
and a writer killed in the middle of a page leaves the page and its resume state both or
neither."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .backends import read_only_supported
from .conftest import StoreFactory
from .helpers import commit, put_resource, raw, record, rid, start

T0, T1 = "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"
ROOT = Path(__file__).resolve().parents[2]


def reader_of(make_store: StoreFactory) -> Any:
    return make_store(read_only=read_only_supported(make_store.backend))


def run_threads(*targets: Callable[[], None]) -> tuple[list[threading.Thread], list[BaseException]]:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def go() -> None:
            try:
                target()
            except BaseException as err:  # noqa: BLE001 - reported by the test
                errors.append(err)
        return go

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    return threads, errors


def page_while_writing(threads: list[threading.Thread],
                       pages: Callable[[int], Iterator[Any]]) -> tuple[list[Any], int]:
    """Page by seq (``pages(after_seq)``) until the writers are done and one last pass after
    them; slow enough that writes land between the reader's keyset queries."""
    seen: list[Any] = []
    last, passes = 0, 0
    while True:
        finished = not any(t.is_alive() for t in threads)
        passes += 1
        for n, item in enumerate(pages(last)):
            seen.append(item)
            last = item.seq
            if n % 150 == 149:
                time.sleep(0.002)
        if finished:
            return seen, passes
        time.sleep(0.005)  # caught up: let the writers work


def test_iter_records_paged_by_seq_while_two_writers_commit(make_store):
    seed = make_store()
    run = start(seed, "seed")
    for page in range(3):  # more than one keyset batch before the writers start
        commit(seed, "seed", run, [raw(f"s{page}-{n:03d}") for n in range(500)])
    reader = reader_of(make_store)

    def writer(member: str) -> Callable[[], None]:
        def write() -> None:
            store = make_store()
            run = start(store, member)
            for page in range(25):
                fresh = [raw(f"{member}{page:02d}-{n:02d}") for n in range(30)]
                # Updates move records the reader may have passed to a later seq.
                moved = [raw(f"{member}{page - 1:02d}-{n:02d}", T1, body="v2")
                         for n in range(0, 30, 3)] if page else []
                commit(store, member, run, fresh + moved, resume={"page": page})
        return write

    threads, errors = run_threads(writer("w1"), writer("w2"))
    seen, _ = page_while_writing(threads, lambda after: reader.iter_records(
        since_seq=after))
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = [r.seq for r in seen]
    assert seqs == sorted(set(seqs)), "a keyset reader saw a seq twice or out of order"
    final = {(r.member_id, r.identifier, r.seq, r.datestamp) for r in make_store().iter_records()}
    assert len(final) == 1500 + 2 * 25 * 30
    missed = final - {(r.member_id, r.identifier, r.seq, r.datestamp) for r in seen}
    assert not missed, f"the reader skipped {len(missed)} committed versions: {sorted(missed)[:5]}"


def test_iter_resources_paged_by_seq_while_two_writers_commit(make_store):
    seed = make_store()
    with seed.catalog() as txn:
        for n in range(520):  # more than one keyset batch
            put_resource(txn, rid(f"s{n:04d}"), record(rid(f"s{n:04d}"), f"seed {n}"),
                             deleted=False)
    reader = reader_of(make_store)

    def writer(name: str) -> Callable[[], None]:
        def write() -> None:
            store = make_store()
            for batch in range(20):
                with store.catalog() as txn:
                    for n in range(15):
                        i = rid(f"{name}{batch:02d}{n:02d}")
                        put_resource(txn, i, record(i, f"{name} {batch} {n}"), deleted=False)
                    if batch:
                        for n in range(0, 15, 3):  # change or withdraw earlier ones
                            i = rid(f"{name}{batch - 1:02d}{n:02d}")
                            put_resource(txn, i, record(i, f"{name} {batch} {n} v2"),
                                             deleted=n % 6 == 0)
        return write

    threads, errors = run_threads(writer("a"), writer("b"))
    seen, _ = page_while_writing(threads, lambda after: reader.iter_resources(
        include_deleted=True, since_seq=after))
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = [r.seq for r in seen]
    assert seqs == sorted(set(seqs)), "a keyset reader saw a seq twice or out of order"
    final = {(r.id, r.seq, r.deleted) for r in make_store().iter_resources(include_deleted=True)}
    assert len(final) == 520 + 2 * 20 * 15
    missed = final - {(r.id, r.seq, r.deleted) for r in seen}
    assert not missed, f"the reader skipped {len(missed)} committed changes"


_CHILD = """
import sys
from tests.store_contract.backends import open_backend
from tests.store_contract.helpers import raw
store = open_backend(sys.argv[1], sys.argv[2])
run = store.begin_run("m", mode="full", metadata_prefix="oai_dc", from_=None)
body = "x" * 2000
for page in range(10_000):
    records = [raw(f"p{page:05d}-{n:03d}", body=body) for n in range(400)]
    store.commit_page("m", run, "oai_dc", records, [], {"page": page})
    print(page, flush=True)
"""


def test_a_writer_killed_mid_page_leaves_the_page_and_its_resume_state_both_or_neither(
        make_store):
    make_store().close()  # the store exists before the child opens it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, make_store.backend, make_store.target],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:  # let it commit a few pages, then kill it while it writes
            if int(line) >= 3:
                break
        time.sleep(0.004)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    store = make_store()
    resume = store.member_state("m").resume
    assert resume is not None
    committed = resume["page"]
    ids = {r.identifier for r in store.iter_records("m")}
    assert ids == {f"p{page:05d}-{n:03d}" for page in range(committed + 1) for n in range(400)}
    # The store goes on after the crash: the next run resumes at the next page.
    run = start(store, "m")
    assert commit(store, "m", run, [raw(f"p{committed + 1:05d}-000")],
                  resume={"page": committed + 1}).new == 1
    assert store.member_state("m").resume == {"page": committed + 1}
