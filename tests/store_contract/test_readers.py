"""The contract of the publishing readers: the OAI-PMH backend (sets, counts, keyset lists by
seq, get, earliest, token key), the change feed (rows, stats, latest) and the catalogue's
readers (resource by id, alias target, a resource's member descriptions, totals).

(:class:`~eduxchange.store.base.ChangeFeedReader`, :class:`~eduxchange.store.base.OAIBackend`,
:class:`~eduxchange.store.base.CatalogReader`). A read-only handle has them all.
"""

from __future__ import annotations

import time
from typing import Any


from eduxchange.store.base import CatalogueTotals, MemberDescription

from .helpers import BASE, description, put_resource, record, rid
from .test_concurrency import page_while_writing, reader_of, run_threads

VIDEO = "http://w3id.org/kim/hcrt/video"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def put(store: Any, *items: tuple[str, dict[str, Any], bool]) -> list[str | None]:
    with store.catalog() as txn:
        return [put_resource(txn, i, rec, deleted=deleted) for i, rec, deleted in items]


def _catalogue(store: Any) -> dict[str, str]:
    ids = {n: rid(n) for n in ("en1", "de1", "en2", "gone")}
    put(store,
        (ids["en1"], record(ids["en1"], "One", members=("m1",), types=(VIDEO,), licence=CC_BY),
         False),
        (ids["de1"], record(ids["de1"], "Eins", lang="de", members=("m2",)), False),
        (ids["en2"], record(ids["en2"], "Two", members=("m1", "m2")), False),
        (ids["gone"], record(ids["gone"], "Gone", members=("m1",)), False))
    put(store, (ids["gone"], record(ids["gone"], "Gone", members=("m1",)), True))
    return ids


# -- the change feed ----------------------------------------------------------------------------

def test_change_rows_are_every_change_with_its_kind_in_seq_order(store):
    a, b = rid("a"), rid("b")
    kinds = put(store, (a, record(a, "A"), False), (b, record(b, "B"), False))
    kinds += put(store, (a, record(a, "A2"), False), (b, record(b, "B"), True),
                 (b, record(b, "B"), False))
    rows = store.change_rows(0, 10**9)
    assert [(c.resource_id, c.kind) for c in rows] == [
        (a, "create"), (b, "create"), (a, "update"), (b, "delete"), (b, "create")]
    assert [c.kind for c in rows] == kinds
    seqs = [c.seq for c in rows]
    assert seqs == sorted(set(seqs))
    latest = {r.id: r.seq for r in store.iter_resources(include_deleted=True)}
    assert {c.resource_id: c.seq for c in rows} == latest  # a resource's seq is its last change
    assert all(c.at for c in rows)
    assert [c.seq for c in store.change_rows(seqs[1], seqs[3])] == seqs[1:4]  # both ends inclusive
    assert store.change_rows(seqs[-1] + 1, 10**9) == []


def test_change_stats_and_the_latest_change(store):
    assert store.change_stats() == (0, 0, None)
    assert store.latest_change() == (0, None)
    a, b = rid("a"), rid("b")
    put(store, (a, record(a, "A"), False), (b, record(b, "B"), False))
    put(store, (a, record(a, "A"), True))
    seqs = [c.seq for c in store.change_rows(0, 10**9)]
    count, top, at = store.change_stats()
    assert (count, top) == (3, seqs[-1]) and at
    assert store.change_stats(before_seq=seqs[-1])[:2] == (2, seqs[1])
    assert store.latest_change() == (seqs[-1], at)


# -- catalogue readers ------------------------------------------------------------------------

def test_resource_gives_records_and_tombstones_outside_any_transaction(store):
    ids = _catalogue(store)
    got = store.resource(ids["en1"])
    assert got is not None and not got.deleted and got.record["name"] == {"en": "One"}
    assert got == next(r for r in store.iter_resources() if r.id == ids["en1"])
    gone = store.resource(ids["gone"])
    assert gone is not None and gone.deleted
    assert store.resource(rid("never")) is None
    with store.catalog() as txn:
        assert txn.resource(ids["en1"]) == got


def test_alias_target_names_the_resource_a_retired_iri_became(store):
    a, b, c = rid("a"), rid("b"), rid("c")
    put(store, (a, record(a, "A"), False), (b, record(b, "B"), False), (c, record(c, "C"), False))
    with store.catalog() as txn:
        put_resource(txn, a, record(a, "A"), deleted=True)
        txn.retire(a, b)
    assert store.alias_target(a) == b
    with store.catalog() as txn:
        put_resource(txn, b, record(b, "B"), deleted=True)
        txn.retire(b, c)
    assert (store.alias_target(a), store.alias_target(b)) == (c, c)
    assert store.alias_target(c) is None and store.alias_target(rid("never")) is None


def test_the_member_descriptions_of_a_resource_by_rank_member_and_identifier(store):
    a = rid("a")
    put(store, (a, record(a, "A"), False))
    with store.catalog() as txn:
        txn.put_description(description("m2", "x", a, rank=1, fmt="oai_lom"), 1)
        txn.put_description(description("m1", "z", a, rank=0), 2)
        txn.put_description(description("m1", "y", a, rank=1), 3)
        txn.put_description(description("m3", "w", rid("other")), 4)
    got = store.member_descriptions(a)
    assert all(isinstance(d, MemberDescription) for d in got)
    assert [(d.member_id, d.identifier, d.format) for d in got] == [
        ("m1", "z", "oai_dc"), ("m1", "y", "oai_dc"), ("m2", "x", "oai_lom")]
    assert got[0].description == description("m1", "z", a).description and got[0].updated_at
    assert store.member_descriptions(rid("never")) == []


def test_catalogue_totals_and_member_resource_counts(store):
    assert store.catalogue_totals() == CatalogueTotals(resources=0, languages=0, licences=0)
    ids = _catalogue(store)
    assert store.catalogue_totals() == CatalogueTotals(resources=3, languages=2, licences=1)
    with store.catalog() as txn:
        txn.put_description(description("m1", "x", ids["en1"]), 1)
        txn.put_description(description("m1", "y", ids["en1"]), 2)
        txn.put_description(description("m1", "z", ids["en2"]), 3)
        txn.put_description(description("m1", "g", ids["gone"]), 4)
    assert store.member_resource_count("m1") == 2  # distinct live resources
    assert store.member_resource_count("m9") == 0


# -- the OAI-PMH backend ------------------------------------------------------------------------

def test_oai_sets_are_every_set_with_its_top_levels_sorted(store):
    assert store.oai_sets() == []
    _catalogue(store)
    sets = store.oai_sets()
    assert sets == sorted(sets)
    assert {"member", "member:m1", "member:m2", "lang", "lang:en", "lang:de", "type",
            "type:video"} <= set(sets)


def test_oai_list_pages_by_seq_with_filters(store):
    def listed(**kw: Any) -> list[str]:
        args = {"from_": None, "until": None, "set_": None, "after_seq": 0, "limit": 100,
                "with_records": False, **kw}
        return [item[0].id for item in store.oai_list(**args)]

    ids = _catalogue(store)
    assert listed() == [ids["en1"], ids["de1"], ids["en2"], ids["gone"]]  # deleted too
    assert listed(set_="member:m1") == [ids["en1"], ids["en2"], ids["gone"]]
    assert listed(set_="member") == [ids["en1"], ids["de1"], ids["en2"], ids["gone"]]
    assert listed(set_="lang:de") == [ids["de1"]]
    assert listed(set_="no:such") == []
    first = store.oai_list(from_=None, until=None, set_=None, after_seq=0, limit=2,
                           with_records=False)
    assert [i[0].id for i in first] == [ids["en1"], ids["de1"]]
    assert listed(after_seq=first[-1][0].seq) == [ids["en2"], ids["gone"]]
    stamp = first[0][0].updated_at
    assert set(listed(from_=stamp, until=stamp)) <= set(ids.values())  # bounds are inclusive
    assert ids["en1"] in listed(from_=stamp, until=stamp)
    assert listed(from_="2999-01-01T00:00:00Z") == []
    assert listed(until="2000-01-01T00:00:00Z") == []
    item = next(i for i in first if i[0].id == ids["en1"])
    resource, sets, written = item
    assert set(sets) == {"member:m1", "lang:en", "type:video"}  # leaf sets only
    assert written is None and resource.record == {}  # not asked for the record
    everything = store.oai_list(from_=None, until=None, set_=None, after_seq=0, limit=10,
                                with_records=False)
    gone = next(i for i in everything if i[0].id == ids["gone"])
    assert gone[0].deleted


def test_the_store_keeps_the_sets_it_is_given_and_applies_no_rule_of_its_own(store):
    a, b = rid("a"), rid("b")
    with store.catalog() as txn:
        put_resource(txn, a, record(a, "A", members=("m1",)), deleted=False,
                     sets=["shelf", "shelf:left", "colour", "colour:red"])
        put_resource(txn, b, record(b, "B", members=("m1",)), deleted=False, sets=[])
    assert store.oai_sets() == ["colour", "colour:red", "shelf", "shelf:left"]
    listed = store.oai_list(from_=None, until=None, set_="shelf:left", after_seq=0, limit=10,
                            with_records=False)
    assert [(i[0].id, set(i[1])) for i in listed] == [(a, {"shelf:left", "colour:red"})]
    assert store.oai_list(from_=None, until=None, set_="member:m1", after_seq=0, limit=10,
                          with_records=False) == []
    assert store.oai_count(from_=None, until=None, set_="colour") == 1
    got = store.oai_get(b)
    assert got is not None and got[1] == ()
    with store.catalog() as txn:  # a new version of the record brings its new sets
        put_resource(txn, a, record(a, "A2"), deleted=False, sets=["shelf", "shelf:right"])
    assert store.oai_sets() == ["shelf", "shelf:right"]
    assert store.oai_count(from_=None, until=None, set_="shelf:left") == 0


def test_oai_count_counts_what_the_list_would_give(store):
    _catalogue(store)
    for set_ in (None, "member:m1", "lang:de", "member", "none:x"):
        full = store.oai_list(from_=None, until=None, set_=set_, after_seq=0, limit=1000,
                              with_records=False)
        assert store.oai_count(from_=None, until=None, set_=set_) == len(full)
    assert store.oai_count(from_="2999-01-01T00:00:00Z", until=None, set_=None) == 0


def test_oai_list_brings_current_pre_rendered_metadata_only(store):
    ids = _catalogue(store)
    with store.catalog() as txn:
        txn.put_dissemination(ids["en1"], "oai_dc", b"<dc>one</dc>", version="3")
        txn.put_dissemination(ids["de1"], "oai_dc", b"<dc>eins</dc>", version="2")  # old writer
        txn.put_dissemination(ids["en2"], "oai_dc", b"<dc>two</dc>", version="3")
        put_resource(txn, ids["en2"], record(ids["en2"], "Two, changed"), deleted=False)

    def items(**kw: Any) -> dict[str, Any]:
        got = store.oai_list(from_=None, until=None, set_=None, after_seq=0, limit=100,
                             with_records=True, **kw)
        return {i[0].id: i for i in got}

    current = items(prefix="oai_dc", writer_version="3")
    assert current[ids["en1"]][2] == b"<dc>one</dc>"
    assert current[ids["en1"]][0].record == {}  # the written bytes stand for it
    assert current[ids["de1"]][2] is None  # written by another writer version: not served
    assert current[ids["de1"]][0].record["name"] == {"de": "Eins"}
    assert current[ids["en2"]][2] is None  # the record changed after it was written
    assert current[ids["en2"]][0].record["name"] == {"en": "Two, changed"}
    assert items(prefix="oai_lom", writer_version="3")[ids["en1"]][2] is None
    plain = items()
    assert all(i[2] is None and i[0].record for i in plain.values())


def test_oai_get_gives_a_resource_with_its_record_and_sets(store):
    ids = _catalogue(store)
    resource, sets, written = store.oai_get(ids["en2"])
    assert resource.record["name"] == {"en": "Two"} and written is None
    assert set(sets) == {"member:m1", "member:m2", "lang:en"}
    assert store.oai_get(ids["gone"])[0].deleted
    assert store.oai_get(rid("never")) is None


def test_oai_earliest_is_the_oldest_datestamp(store):
    assert store.oai_earliest() is None
    _catalogue(store)
    stamps = [r.updated_at for r in store.iter_resources(include_deleted=True)]
    assert store.oai_earliest() == min(stamps)


def test_the_token_key_is_made_once_and_shared_by_every_handle(make_store):
    store = make_store()
    key = store.oai_token_key()
    assert isinstance(key, bytes) and len(key) >= 16
    assert store.oai_token_key() == key
    assert make_store().oai_token_key() == key
    assert make_store(read_only=True).oai_token_key() == key


def test_the_token_key_of_a_read_only_handle_on_a_new_catalogue_is_kept(make_store):
    make_store()  # created, no key yet
    first = make_store(read_only=True).oai_token_key()
    assert make_store().oai_token_key() == first


def test_the_repository_identifier_is_kept_from_its_first_use(make_store):
    store = make_store()
    assert store.oai_repository_identifier("catalog.example.org") == "catalog.example.org"
    assert store.oai_repository_identifier("elsewhere.example.org") == "catalog.example.org"
    assert make_store().oai_repository_identifier("x") == "catalog.example.org"


def test_oai_id_prefixes_earliest_first(store):
    assert store.oai_id_prefixes() == []
    a = rid("a")
    other = "https://old.example.org/resources/00000000-0000-4000-8000-000000000001"
    put(store, (a, record(a, "A"), False), (other, record(other, "Old"), False))
    assert store.oai_id_prefixes() == [f"{BASE}resources/", "https://old.example.org/resources/"]


def test_oai_list_paged_by_seq_while_two_writers_commit(make_store):
    """Resumption tokens continue after a seq: a reader must never skip a committed change."""
    seed = make_store()
    put(seed, *[(rid(f"s{n:04d}"), record(rid(f"s{n:04d}"), f"S{n}"), False) for n in range(300)])
    page_reader = reader_of(make_store)

    def writer(name: str) -> Any:
        def write() -> None:
            store = make_store()
            for batch in range(15):
                with store.catalog() as txn:
                    for n in range(10):
                        i = rid(f"{name}{batch:02d}{n:02d}")
                        put_resource(txn, i, record(i, f"{name} {batch} {n}"), deleted=False)
                    if batch:
                        i = rid(f"{name}{batch - 1:02d}00")
                        put_resource(txn, i, record(i, "changed"), deleted=False)
                time.sleep(0.001)
        return write

    def pages(after: int) -> Any:
        while True:
            page = page_reader.oai_list(from_=None, until=None, set_=None, after_seq=after,
                                        limit=50, with_records=False)
            if not page:
                return
            for item in page:
                yield item[0]
            after = page[-1][0].seq

    threads, errors = run_threads(writer("a"), writer("b"))
    seen, _ = page_while_writing(threads, pages)
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = [r.seq for r in seen]
    assert seqs == sorted(set(seqs))
    final = {(r.id, r.seq) for r in make_store().iter_resources(include_deleted=True)}
    assert len(final) == 300 + 2 * 15 * 10
    assert not final - {(r.id, r.seq) for r in seen}
