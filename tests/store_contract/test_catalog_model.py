"""Random catalogue transactions against a small model: put_resource's change kinds, seq order,
tombstones, rolled-back transactions, and which pre-rendered metadata is stale.

Every example names resources of its own, so one store serves all examples of a test.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import BASE, put_resource, record

NAMES = ("a", "b")
PREFIXES = ("oai_dc", "oai_lom")
VERSIONS = ("1", "2")

puts = st.tuples(st.just("put"), st.sampled_from(NAMES), st.sampled_from(("x", "y")),
                 st.booleans())
operations = st.one_of(
    puts, puts,
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.sampled_from(PREFIXES),
              st.sampled_from(VERSIONS)),
    st.tuples(st.just("abort"), st.lists(puts, min_size=1, max_size=3)),
)
EXAMPLES = {"sqlite": 60, "postgresql": 30}
_examples = itertools.count()


class Aborted(Exception):
    pass


def test_catalogue_transactions_follow_the_model(store, backend):
    @settings(max_examples=EXAMPLES.get(backend, 40), deadline=None)
    @given(ops=st.lists(operations, min_size=1, max_size=8))
    def follow(ops: list[Any]) -> None:
        prefix = f"{BASE}resources/ex{next(_examples)}-"
        ids = {n: prefix + n for n in NAMES}
        resources: dict[str, tuple[dict[str, Any], bool, int]] = {}  # record, deleted, order
        written: dict[tuple[str, str], tuple[int, str]] = {}  # (id, prefix) -> order, version
        clock = itertools.count(1)
        counts_before = store.resource_counts()

        def expect_put(name: str, title: str, deleted: bool) -> str | None:
            rec = record(ids[name], title)
            old = resources.get(name)
            if old is None and deleted:
                return None
            if old is not None and old[0] == rec and old[1] == deleted:
                return None
            kind = "delete" if deleted else ("create" if old is None or old[1] else "update")
            resources[name] = (rec, deleted, next(clock))
            return kind

        for op in ops:
            if op[0] == "put":
                _, name, title, deleted = op
                expected = expect_put(name, title, deleted)
                with store.catalog() as txn:
                    assert put_resource(txn, ids[name], record(ids[name], title),
                                            deleted=deleted) == expected
            elif op[0] == "write":
                _, name, fmt, version = op
                with store.catalog() as txn:
                    txn.put_dissemination(ids[name], fmt, f"<{fmt} v='{version}'/>".encode(),
                                          version=version)
                if name in resources:
                    written[(name, fmt)] = (resources[name][2], version)
            else:
                try:
                    with store.catalog() as txn:
                        for _, name, title, deleted in op[1]:
                            put_resource(txn, ids[name], record(ids[name], title), deleted=deleted)
                        raise Aborted
                except Aborted:
                    pass
            # The catalogue as the model has it, in change order.
            got = [r for r in store.iter_resources(include_deleted=True) if r.id.startswith(prefix)]
            order = sorted(resources, key=lambda n: resources[n][2])
            assert [(r.id, r.record, r.deleted) for r in got] == [
                (ids[n], resources[n][0], resources[n][1]) for n in order]
            assert [r.id for r in store.iter_resources() if r.id.startswith(prefix)] == [
                ids[n] for n in order if not resources[n][1]]
            live = sum(1 for v in resources.values() if not v[1])
            assert store.resource_counts() == {
                "resources": counts_before["resources"] + live,
                "deleted": counts_before["deleted"] + len(resources) - live}
            with store.catalog() as txn:
                for fmt in PREFIXES:
                    for version in VERSIONS:
                        stale = [r.id for r in txn.stale_disseminations(fmt, version, limit=10**6)
                                 if r.id.startswith(prefix)]
                        assert stale == [ids[n] for n in order if not resources[n][1]
                                         and written.get((n, fmt)) != (resources[n][2], version)]
                for n in NAMES:
                    got_one = txn.resource(ids[n])
                    assert (None if got_one is None else (got_one.record, got_one.deleted)) == (
                        None if n not in resources else resources[n][:2])

    follow()
