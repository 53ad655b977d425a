"""The contract of the catalogue's readers: resources, descriptions, the quality report's
readers (quarantine, unmapped terms, snapshots) and full-text search."""

from __future__ import annotations

from typing import Any

import pytest

from eduxchange.store.search import FACETS, SearchQuery

from .helpers import bad, commit, description, put_resource, record, rid, start

CC_BY = "https://creativecommons.org/licenses/by/4.0/"
VIDEO = "http://w3id.org/kim/hcrt/video"
TEXT = "http://w3id.org/kim/hcrt/text"


def put(store: Any, *items: tuple[str, dict[str, Any], bool]) -> None:
    with store.catalog() as txn:
        for resource_id, rec, deleted in items:
            put_resource(txn, resource_id, rec, deleted=deleted)


def test_iter_resources_in_seq_order_live_only_unless_asked(store):
    a, b, c = rid("a"), rid("b"), rid("c")
    put(store, (a, record(a, "A"), False), (b, record(b, "B"), False), (c, record(c, "C"), False))
    put(store, (a, record(a, "A2"), False), (b, record(b, "B"), True))
    assert [r.id for r in store.iter_resources()] == [c, a]
    every = list(store.iter_resources(include_deleted=True))
    assert [r.id for r in every] == [c, a, b]
    assert [r.deleted for r in every] == [False, False, True]
    assert [r.id for r in store.iter_resources(since_seq=every[0].seq)] == [a]
    assert [r.id for r in store.iter_resources(include_deleted=True, since_seq=every[1].seq)
            ] == [b]
    assert store.resource_counts() == {"resources": 2, "deleted": 1}


def test_iter_resources_of_one_member_are_those_it_describes(store):
    a, b, c = rid("a"), rid("b"), rid("c")
    put(store, (a, record(a, "A"), False), (b, record(b, "B"), False), (c, record(c, "C"), False))
    put(store, (c, record(c, "C"), True))
    with store.catalog() as txn:
        txn.put_description(description("m1", "x", a), 1)
        txn.put_description(description("m1", "y", a), 2)  # two records, one resource
        txn.put_description(description("m2", "z", b), 3)
        txn.put_description(description("m1", "w", c), 4)
    assert [r.id for r in store.iter_resources(member_id="m1")] == [a]
    assert [r.id for r in store.iter_resources(member_id="m1", include_deleted=True)] == [a, c]
    assert [r.id for r in store.iter_resources(member_id="m2")] == [b]
    assert list(store.iter_resources(member_id="m3")) == []


def test_iter_resources_updated_since_is_inclusive(store):
    a = rid("a")
    put(store, (a, record(a, "A"), False))
    (got,) = store.iter_resources()
    assert [r.id for r in store.iter_resources(updated_since=got.updated_at)] == [a]
    assert [r.id for r in store.iter_resources(updated_since="2000-01-01T00:00:00Z")] == [a]
    assert list(store.iter_resources(updated_since="2999-01-01T00:00:00Z")) == []


def test_iter_resources_pages_through_many_by_seq_and_member(store):
    ids = [rid(f"r{n:04d}") for n in range(1050)]  # two keyset batches of 500 and then some
    with store.catalog() as txn:
        for n, i in enumerate(ids):
            put_resource(txn, i, record(i, f"R{n}"), deleted=False)
            txn.put_description(description("m1" if n % 2 else "m2", f"x{n:04d}", i), n)
    every = list(store.iter_resources())
    assert [r.id for r in every] == ids
    assert [r.id for r in store.iter_resources(member_id="m1")] == ids[1::2]
    assert [r.id for r in store.iter_resources(since_seq=every[700].seq)] == ids[701:]
    described = list(store.iter_descriptions("m1"))
    assert [d.identifier for d in described] == sorted(f"x{n:04d}" for n in range(1, 1050, 2))
    assert store.description_count("m1") == 525 == len(described)


def test_iter_descriptions_by_identifier_with_their_content(store):
    a = rid("a")
    with store.catalog() as txn:
        for ident in ("c", "a", "b"):
            txn.put_description(description("m1", ident, a, rank=3, extra=[ident]), 1)
        txn.put_description(description("m2", "a", a), 1)
    got = list(store.iter_descriptions("m1"))
    assert [d.identifier for d in got] == ["a", "b", "c"]
    assert got[0] == description("m1", "a", a, rank=3, extra=["a"])
    assert list(store.iter_descriptions("none")) == []
    assert store.description_count("none") == 0


def test_iter_quarantine_gives_the_newest_entry_per_record_oldest_first(store):
    r1 = start(store, "m1")
    commit(store, "m1", r1, [], quarantined=[bad("first", "x"), bad("no id"), bad("y-1", "y")])
    r2 = start(store, "m1")
    commit(store, "m1", r2, [], quarantined=[bad("second", "x"), bad("no id again")])
    with store.catalog() as txn:
        txn.quarantine("m1", "x", stage="normalize", reason="no title", raw=b"<r/>")
        txn.quarantine("m1", "z", stage="normalize", reason="gone soon", raw=None)
        txn.resolve_quarantine("m1", "z", stage="normalize")
    commit(store, "m2", start(store, "m2"), [], quarantined=[bad("other", "x")])
    got = list(store.iter_quarantine("m1"))
    assert [(e.identifier, e.stage, e.reason) for e in got] == [
        (None, "harvest", "no id"), ("y", "harvest", "y-1"), ("x", "harvest", "second"),
        (None, "harvest", "no id again"), ("x", "normalize", "no title")]
    assert all(e.raw is None and e.member_id == "m1" for e in got)
    assert [e.id for e in got] == sorted(e.id for e in got)
    assert got[2].run_id == r2


def test_iter_quarantine_of_many_entries(store):
    run = start(store, "m1")
    for page in range(3):
        commit(store, "m1", run, [], quarantined=[bad(f"p{page}", f"id{n:04d}")
                                                  for n in range(400)])
    got = list(store.iter_quarantine("m1"))
    assert len(got) == 400 and {e.reason for e in got} == {"p2"}


def test_unmapped_terms_most_frequent_first_with_example_records(store):
    with store.catalog() as txn:
        for n in range(4):
            txn.set_unmapped("m1", f"r{n}", [("type", "lom", "lecture")])
        for n in range(2):
            txn.set_unmapped("m1", f"s{n}", [("level", "lom", "uni"), ("level", "lom", "alpha")])
        txn.set_unmapped("m2", "r0", [("type", "lom", "other member")])
    got = store.unmapped_terms("m1", examples=1)
    assert [(f, s, v, n) for f, s, v, n, _ in got] == [
        ("type", "lom", "lecture", 4), ("level", "lom", "alpha", 2), ("level", "lom", "uni", 2)]
    assert all(len(ex) == 1 for *_, ex in got)
    assert got[0][4][0] in {"r0", "r1", "r2", "r3"}
    assert store.unmapped_terms("none") == []


def test_unmapped_terms_give_as_many_examples_as_asked(store):
    with store.catalog() as txn:
        for n in range(5):
            txn.set_unmapped("m1", f"r{n}", [("type", "lom", "lecture")])
        txn.set_unmapped("m1", "s0", [("type", "lom", "seminar")])
    (_, _, _, count, examples), single = store.unmapped_terms("m1", examples=3)
    assert count == 5
    assert len(examples) == 3 and len(set(examples)) == 3
    assert set(examples) <= {f"r{n}" for n in range(5)}
    assert single[3:] == (1, ("s0",))
    assert [len(t[4]) for t in store.unmapped_terms("m1", examples=5)] == [5, 1]
    assert [t[4] for t in store.unmapped_terms("m1", examples=0)] == [(), ()]


def test_iter_unmapped_by_identifier(store):
    with store.catalog() as txn:
        txn.set_unmapped("m1", "b", [("type", "lom", "x")])
        txn.set_unmapped("m1", "a", [("level", "lom", "y"), ("type", "lom", "z")])
    got = list(store.iter_unmapped("m1"))
    assert [g[0] for g in got] == ["a", "a", "b"]
    assert sorted(got) == [("a", "level", "lom", "y"), ("a", "type", "lom", "z"),
                           ("b", "type", "lom", "x")]
    assert list(store.iter_unmapped("none")) == []


def test_report_snapshots_newest_run_first_one_per_run(make_store):
    store = make_store()
    assert store.report_snapshots("m1") == []
    figures = {"records": 10, "share": 0.5, "fields": {"name": [1, 2]}, "text": "é"}
    store.put_report_snapshot("m1", 1, figures)
    store.put_report_snapshot("m1", 3, {"records": 30})
    store.put_report_snapshot("m1", 2, {"records": 20})
    store.put_report_snapshot("m1", None, {"records": 0})  # a report of no run
    store.put_report_snapshot("m2", 9, {"records": 90})
    got = make_store().report_snapshots("m1")
    assert [(run, fig) for run, _, fig in got] == [
        (3, {"records": 30}), (2, {"records": 20}), (1, figures), (None, {"records": 0})]
    assert all(isinstance(at, str) and at for _, at, _ in got)
    store.put_report_snapshot("m1", 2, {"records": 21})  # replaces that run's figures
    assert [(run, fig) for run, _, fig in store.report_snapshots("m1", limit=2)] == [
        (3, {"records": 30}), (2, {"records": 21})]
    assert [run for run, _, _ in store.report_snapshots("m2")] == [9]


# -- search ------------------------------------------------------------------------------------

def _library(store: Any) -> dict[str, str]:
    ids = {name: rid(name) for name in ("photo", "cells", "history", "cjk", "gone", "fr")}
    put(store,
        (ids["photo"], record(ids["photo"], "Photosynthesis basics", members=("m1",),
                              description="How plants make sugar from light",
                              types=(VIDEO,), licence=CC_BY), False),
        (ids["cells"], record(ids["cells"], "Plant cells", members=("m1", "m2"),
                              description="Chloroplasts and photosynthesis inside cells",
                              keywords=("biology",), types=(TEXT,)), False),
        (ids["history"], record(ids["history"], "A history of Rome", members=("m2",),
                                types=(TEXT,), licence=CC_BY), False),
        (ids["cjk"], record(ids["cjk"], "光合作用的基础", lang="zh", members=("m2",)), False),
        (ids["fr"], record(ids["fr"], "La photosynthèse pour l'élève", lang="fr-CA",
                           members=("m1",)), False),
        (ids["gone"], record(ids["gone"], "Photosynthesis withdrawn"), False))
    put(store, (ids["gone"], record(ids["gone"], "Photosynthesis withdrawn"), True))
    return ids


def test_search_finds_live_resources_by_every_term_most_relevant_first(store):
    ids = _library(store)
    found = store.search(SearchQuery(text="photosynthesis"))
    assert [h.resource_id for h in found.hits] == [ids["photo"], ids["cells"]]  # title first
    assert found.total == 2
    assert found.hits[0].score >= found.hits[1].score
    assert found.hits[0].record == record(ids["photo"], "Photosynthesis basics", members=("m1",),
                                          description="How plants make sugar from light",
                                          types=(VIDEO,), licence=CC_BY)
    assert [h.resource_id for h in store.search(SearchQuery(text="PLANTS sugar")).hits] == [
        ids["photo"]]
    assert store.search(SearchQuery(text="photosynthesis rome")).total == 0
    assert [h.resource_id for h in store.search(SearchQuery(text="biology")).hits] == [
        ids["cells"]]  # keywords are searched


def test_search_of_unspaced_scripts_matches_substrings(store):
    ids = _library(store)
    assert [h.resource_id for h in store.search(SearchQuery(text="光合")).hits] == [ids["cjk"]]
    assert store.search(SearchQuery(text="合光")).total == 0


@pytest.mark.parametrize("text", ['"', "NEAR(a b)", "*", "photo*", "-x", "a AND OR NOT",
                                  "'; DROP TABLE resources; --", "title:photosynthesis", "\x00"])
def test_search_never_fails_on_what_a_visitor_types(store, text):
    _library(store)
    result = store.search(SearchQuery(text=text))
    assert result.total == len(result.hits) or result.total > len(result.hits)


def test_an_empty_search_lists_every_live_resource_with_facet_counts(store):
    ids = _library(store)
    result = store.search(SearchQuery())
    assert result.total == 5
    assert ids["gone"] not in {h.resource_id for h in result.hits}
    assert set(result.facets) == set(FACETS)
    counts = {f: {c.value: c.count for c in found} for f, found in result.facets.items()}
    assert counts["member"] == {"m1": 3, "m2": 3}
    assert counts["language"] == {"en": 3, "zh": 1, "fr": 1}
    assert counts["type"] == {TEXT: 2, VIDEO: 1}
    assert counts["licence"] == {CC_BY: 2}
    assert [c.value for c in result.facets["type"]] == [TEXT, VIDEO]  # most first


def test_search_filters_and_within_or_across_facets(store):
    ids = _library(store)

    def hits(**filters: tuple[str, ...]) -> set[str]:
        return {h.resource_id for h in store.search(SearchQuery(filters=filters)).hits}

    assert hits(member=("m2",)) == {ids["cells"], ids["history"], ids["cjk"]}
    assert hits(type=(VIDEO, TEXT)) == {ids["photo"], ids["cells"], ids["history"]}
    assert hits(type=(TEXT,), licence=(CC_BY,)) == {ids["history"]}
    assert hits(language=("fr",)) == {ids["fr"]}
    found = store.search(SearchQuery(text="photosynthesis", filters={"member": ("m2",)}))
    assert [h.resource_id for h in found.hits] == [ids["cells"]]
    counts = {c.value: c.count for c in found.facets["member"]}
    assert counts == {"m1": 1, "m2": 1}  # facets count the hits


def test_search_pages(store):
    _library(store)
    every = [h.resource_id for h in store.search(SearchQuery(page_size=100)).hits]
    pages = [store.search(SearchQuery(page=n, page_size=2)) for n in (1, 2, 3, 4)]
    assert [len(p.hits) for p in pages] == [2, 2, 1, 0]
    assert all(p.total == 5 for p in pages)
    assert [h.resource_id for p in pages for h in p.hits] == every


def test_search_follows_updates_and_withdrawals(store):
    ids = _library(store)
    put(store, (ids["photo"], record(ids["photo"], "Respiration basics"), False),
        (ids["cells"], record(ids["cells"], "Plant cells"), True))
    assert store.search(SearchQuery(text="photosynthesis")).total == 0
    assert [h.resource_id for h in store.search(SearchQuery(text="respiration")).hits] == [
        ids["photo"]]
    put(store, (ids["cells"], record(ids["cells"], "Plant cells and photosynthesis"), False))
    assert [h.resource_id for h in store.search(SearchQuery(text="photosynthesis")).hits] == [
        ids["cells"]]
