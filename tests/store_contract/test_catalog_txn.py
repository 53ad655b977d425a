"""The contract of the catalogue transaction (:class:`~eduxchange.store.base.CatalogTxn`)."""

from __future__ import annotations

from typing import Any

import pytest

from eduxchange.catalog.sets import oai_set_specs
from eduxchange.catalog.vocab import default_vocabularies
from eduxchange.store.base import Encoded, NewResource, Resource, canonical_json, parse_json
from eduxchange.store.search import SearchQuery, search_document

from .helpers import bad, commit, description, put_resource, record, rid, start


class Boom(Exception):
    """Raised inside a transaction to see it rolled back."""


def resources(store: Any, **kw: Any) -> dict[str, Resource]:
    return {r.id: r for r in store.iter_resources(include_deleted=True, **kw)}


def test_put_resource_says_what_changed(store):
    a = rid("a")
    with store.catalog() as txn:
        assert txn.resource(a) is None
        assert put_resource(txn, a, record(a, "One"), deleted=False) == "create"
        assert put_resource(txn, a, record(a, "One"), deleted=False) is None
        assert put_resource(txn, a, record(a, "Two"), deleted=False) == "update"
    with store.catalog() as txn:
        assert put_resource(txn, a, record(a, "Two"), deleted=False) is None  # across txns too
        assert put_resource(txn, a, record(a, "Two"), deleted=True) == "delete"
        assert put_resource(txn, a, record(a, "Two"), deleted=True) is None
        assert put_resource(txn, a, record(a, "Three"), deleted=False) == "create"  # back again
        ghost = rid("ghost")
        assert put_resource(txn, ghost, record(ghost, "never live"), deleted=True) is None
        assert txn.resource(ghost) is None


def test_resource_states_tell_live_deleted_and_unknown_iris_in_one_read(store):
    a, b, ghost = rid("a"), rid("b"), rid("ghost")
    with store.catalog() as txn:
        assert txn.resource_states([a, b]) == {}
        put_resource(txn, a, record(a, "A"), deleted=False)
        put_resource(txn, b, record(b, "B"), deleted=False)
        put_resource(txn, b, record(b, "B"), deleted=True)
        assert txn.resource_states([a, b, ghost, a]) == {a: False, b: True}  # inside it too
    with store.catalog() as txn:
        many = [rid(f"m{n}") for n in range(1200)]  # more than one statement's parameters
        assert txn.resource_states([*many, b, a]) == {a: False, b: True}
        assert txn.resource_states([]) == {}


def test_a_new_resource_is_written_without_a_look_and_found_like_any_other(store):
    """``new=True`` (the caller read that the IRI has no row): the same outcome as a look."""
    a = rid("a")
    rec = record(a, "Photosynthesis for beginners")
    stored = canonical_json(rec)
    with store.catalog() as txn:
        kind = txn.put_resource(a, None, deleted=False, sets=oai_set_specs(rec), new=True,
                                encoded=Encoded(stored, search_document(
                                    rec, default_vocabularies())))
        assert kind == "create"
        assert txn.resource_states([a]) == {a: False}
        assert put_resource(txn, a, rec, deleted=False) is None  # its text was kept as given
    assert store.resource(a).record == rec
    assert [h.resource_id for h in store.search(SearchQuery(text="photosynthesis")).hits] == [a]
    with store.catalog() as txn:
        assert put_resource(txn, a, record(a, "changed"), deleted=False) == "update"
    assert store.search(SearchQuery(text="photosynthesis")).total == 0  # its rows replaced


def test_a_resource_keeps_its_record_and_gets_a_later_seq_on_every_change(store):
    a, b = rid("a"), rid("b")
    rec = record(a, "Fotosíntesis — 光合作用", lang="es", description="«citas» y \"comillas\"",
                 keywords=("a", "b"))
    rec["nested"] = {"list": [1, 2.5, None, True], "empty": {}}
    with store.catalog() as txn:
        put_resource(txn, a, rec, deleted=False)
        put_resource(txn, b, record(b, "B"), deleted=False)
        got = txn.resource(a)
        assert got is not None and got.record == rec and not got.deleted
    first = resources(store)
    assert first[a].seq < first[b].seq
    assert first[a].created_at <= first[a].updated_at
    with store.catalog() as txn:
        put_resource(txn, a, record(a, "changed"), deleted=False)
    second = resources(store)
    assert second[a].seq > first[b].seq
    assert second[a].created_at == first[a].created_at
    assert second[a].updated_at >= first[a].updated_at
    assert second[b] == first[b]
    with store.catalog() as txn:
        put_resource(txn, b, record(b, "B"), deleted=True)
        tomb = txn.resource(b)
        assert tomb is not None and tomb.deleted and tomb.record == record(b, "B")
    assert resources(store)[b].seq > second[a].seq
    assert [r.id for r in store.iter_resources(include_deleted=True)] == [a, b]


def test_an_exception_in_the_transaction_rolls_back_all_of_it(make_store):
    store = make_store()
    a = rid("a")
    with store.catalog() as txn:
        put_resource(txn, a, record(a, "kept"), deleted=False)
        txn.put_description(description("m1", "x", a), 1)
        txn.set_keys(a, ["k1"])
    with pytest.raises(Boom):
        with store.catalog() as txn:
            b = rid("b")
            put_resource(txn, b, record(b, "lost"), deleted=False)
            put_resource(txn, a, record(a, "lost too"), deleted=True)
            txn.put_description(description("m1", "y", b), 2)
            txn.delete_description("m1", "x")
            txn.set_keys(b, ["k1", "k2"])
            txn.quarantine("m1", "z", stage="normalize", reason="lost", raw=None)
            txn.set_normalized_seq("m1", 99)
            txn.set_written_versions({"oai_dc": "9"})
            txn.retire(a, b)
            txn.put_dissemination(b, "oai_dc", b"<lost/>", version="9")
            txn.set_unmapped("m1", "y", [("f", "s", "v")])
            raise Boom
    for handle in (store, make_store()):
        assert [(r.id, r.record["name"], r.deleted) for r in handle.iter_resources(
            include_deleted=True)] == [(a, {"en": "kept"}, False)]
        assert [d.identifier for d in handle.iter_descriptions("m1")] == ["x"]
        assert handle.quarantine("m1") == []
        assert handle.member_state("m1").normalized_seq == 0
        assert handle.written_versions() == {}
        assert handle.unmapped_terms("m1") == []
    with store.catalog() as txn:
        assert txn.resources_for_keys(["k1", "k2"]) == {"k1": a}
        assert txn.aliases_of(rid("b")) == []


def test_writes_are_seen_inside_the_transaction_and_by_others_only_after_it(make_store):
    writer, reader = make_store(), make_store()
    a = rid("a")
    with writer.catalog() as txn:
        put_resource(txn, a, record(a, "A"), deleted=False)
        txn.put_description(description("m1", "x", a), 1)
        assert txn.resource(a) is not None
        assert txn.description("m1", "x") is not None
        assert list(reader.iter_resources()) == []
        assert reader.description_count("m1") == 0
    assert [r.id for r in reader.iter_resources()] == [a]
    assert reader.description_count("m1") == 1


def test_descriptions_are_put_replaced_listed_and_deleted(store):
    a, b = rid("a"), rid("b")
    d1 = description("m1", "x", a, rank=2, fmt="oai_lom", subjects=["é", 1, None])
    with store.catalog() as txn:
        assert txn.description("m1", "x") is None
        txn.put_description(d1, 10)
        txn.put_description(description("m2", "x", a), 11)
        txn.put_description(description("m1", "w", a), 12)
        txn.put_description(description("m1", "y", b), 13)
        assert txn.description("m1", "x") == d1
        assert txn.description("m3", "x") is None
        assert [(d.member_id, d.identifier) for d in txn.descriptions_of(a)] == [
            ("m1", "w"), ("m1", "x"), ("m2", "x")]
        assert txn.descriptions_of(rid("nothing")) == []
    with store.catalog() as txn:
        moved = description("m1", "x", b, rank=1, changed=True)
        txn.put_description(moved, 20)  # replaces: the record now belongs to b
        assert txn.description("m1", "x") == moved
        assert [d.identifier for d in txn.descriptions_of(a)] == ["w", "x"]
        assert [d.member_id for d in txn.descriptions_of(a)] == ["m1", "m2"]
        assert [d.identifier for d in txn.descriptions_of(b)] == ["x", "y"]
        txn.delete_description("m1", "x")
        txn.delete_description("m1", "never")  # deleting nothing is fine
        assert txn.description("m1", "x") is None
        assert [d.identifier for d in txn.descriptions_of(b)] == ["y"]
    assert store.description_count("m1") == 2
    assert store.description_count("m2") == 1


def test_match_keys_name_one_resource_each_and_are_replaced_per_resource(store):
    a, b = rid("a"), rid("b")
    with store.catalog() as txn:
        assert txn.resources_for_keys([]) == {}
        txn.set_keys(a, ["isbn:1", "url:x"])
        txn.set_keys(b, ["doi:9"])
        assert txn.resources_for_keys(["isbn:1", "doi:9", "unknown"]) == {
            "isbn:1": a, "doi:9": b}
        txn.set_keys(a, ["url:x", "url:y"])  # isbn:1 is a's no more
        assert txn.resources_for_keys(["isbn:1", "url:x", "url:y"]) == {"url:x": a, "url:y": a}
        txn.set_keys(b, ["doi:9", "url:y"])  # the last resource given a key has it
        assert txn.resources_for_keys(["url:x", "url:y", "doi:9"]) == {
            "url:x": a, "url:y": b, "doi:9": b}
        txn.set_keys(a, [])
        assert txn.resources_for_keys(["url:x", "url:y"]) == {"url:y": b}


def test_many_match_keys_are_looked_up_at_once(store):
    a = rid("a")
    keys = [f"url:https://example.org/{n}" for n in range(1500)]
    with store.catalog() as txn:
        txn.set_keys(a, keys)
    with store.catalog() as txn:
        assert txn.resources_for_keys([*keys, "missing"]) == dict.fromkeys(keys, a)


def test_catalogue_quarantine_supersedes_its_stage_and_is_resolved_per_stage(store):
    run = start(store, "m1")
    commit(store, "m1", run, [], quarantined=[bad("unreadable", "x")])
    with store.catalog() as txn:
        txn.quarantine("m1", "x", stage="normalize", reason="first", raw=b"<r/>")
        txn.quarantine("m1", "x", stage="normalize", reason="second", raw=None)
        txn.quarantine("m1", None, stage="normalize", reason="no id", raw=None)
        txn.quarantine("m2", "x", stage="normalize", reason="other member", raw=None)
    entries = store.quarantine("m1")
    assert [(e.identifier, e.stage, e.reason) for e in entries] == [
        (None, "normalize", "no id"), ("x", "normalize", "second"), ("x", "harvest", "unreadable")]
    assert entries[1].run_id is None
    with store.catalog() as txn:
        txn.resolve_quarantine("m1", "x", stage="normalize")
        txn.resolve_quarantine("m1", "unknown", stage="normalize")  # nothing to resolve: fine
    assert [(e.identifier, e.stage) for e in store.quarantine("m1")] == [
        (None, "normalize"), ("x", "harvest")]
    assert store.counts("m1")["quarantined"] == 2
    assert [e.reason for e in store.quarantine("m2")] == ["other member"]


def test_stale_disseminations_follow_seq_prefix_and_writer_version(store):
    ids = [rid(f"r{n}") for n in range(5)]
    with store.catalog() as txn:
        for n, i in enumerate(ids):
            put_resource(txn, i, record(i, f"R{n}"), deleted=False)
        assert [r.id for r in txn.stale_disseminations("oai_dc", "1")] == ids
        for i in ids[:3]:
            txn.put_dissemination(i, "oai_dc", b"<dc/>", version="1")
        assert [r.id for r in txn.stale_disseminations("oai_dc", "1")] == ids[3:]
        assert [r.id for r in txn.stale_disseminations("oai_dc", "2")] == ids  # a new writer
        assert [r.id for r in txn.stale_disseminations("oai_lom", "1")] == ids  # another prefix
    with store.catalog() as txn:
        put_resource(txn, ids[0], record(ids[0], "changed"), deleted=False)  # a later seq
        put_resource(txn, ids[3], record(ids[3], "R3"), deleted=True)  # withdrawn: never listed
        stale = txn.stale_disseminations("oai_dc", "1")
        assert [r.id for r in stale] == [ids[4], ids[0]]
        assert stale[1].record == record(ids[0], "changed") and not stale[1].deleted
        assert [r.seq for r in stale] == sorted(r.seq for r in stale)
        # Paging: after_seq and limit, in seq order.
        assert [r.id for r in txn.stale_disseminations("oai_dc", "1", limit=1)] == [ids[4]]
        assert [r.id for r in txn.stale_disseminations("oai_dc", "1",
                                                       after_seq=stale[0].seq)] == [ids[0]]
        txn.put_dissemination(ids[0], "oai_dc", b"<dc v='2'/>", version="1")
        txn.put_dissemination(ids[4], "oai_dc", b"<dc/>", version="1")
        assert txn.stale_disseminations("oai_dc", "1") == []
        # Written again by another version: stale for the old one, current for the new.
        txn.put_dissemination(ids[1], "oai_dc", b"<dc/>", version="2")
        assert [r.id for r in txn.stale_disseminations("oai_dc", "1")] == [ids[1]]


def test_written_versions_are_kept_and_replaced_whole(make_store):
    store = make_store()
    assert store.written_versions() == {}
    with store.catalog() as txn:
        txn.set_written_versions({"oai_dc": "3", "oai_lom": "5"})
    assert make_store().written_versions() == {"oai_dc": "3", "oai_lom": "5"}
    with store.catalog() as txn:
        txn.set_written_versions({"oai_dc": "4"})
    assert store.written_versions() == {"oai_dc": "4"}


def test_the_normalized_seq_is_part_of_the_member_state(store):
    store.update_member_state("m1", next_from="2024-01-01", state="ok")
    with store.catalog() as txn:
        txn.set_normalized_seq("m1", 42)
        txn.set_normalized_seq("fresh", 7)  # a member with no state yet
    state = store.member_state("m1")
    assert (state.normalized_seq, state.next_from, state.state) == (42, "2024-01-01", "ok")
    assert store.member_state("fresh").normalized_seq == 7


def test_retired_iris_follow_merges_and_a_reminted_iri_is_its_own_again(store):
    a, b, c = rid("a"), rid("b"), rid("c")
    with store.catalog() as txn:
        for i in (a, b, c):
            put_resource(txn, i, record(i, i), deleted=False)
        put_resource(txn, a, record(a, a), deleted=True)
        txn.retire(a, b)
        assert txn.aliases_of(b) == [a]
        put_resource(txn, b, record(b, b), deleted=True)
        txn.retire(b, c)  # b's aliases follow it to c
        assert txn.aliases_of(c) == [a, b]
        assert txn.aliases_of(b) == []
        assert txn.aliases_of(rid("none")) == []
    with store.catalog() as txn:
        assert txn.aliases_of(c) == [a, b]
        assert put_resource(txn, a, record(a, "minted again"), deleted=False) == "create"
        assert txn.aliases_of(c) == [b]


def test_unmapped_terms_of_a_record_are_replaced_by_its_next_ones(store):
    with store.catalog() as txn:
        txn.set_unmapped("m1", "x", [("type", "lom", "lecture"), ("level", "lom", "uni")])
        txn.set_unmapped("m1", "y", [("type", "lom", "lecture")])
    assert sorted(store.iter_unmapped("m1")) == [
        ("x", "level", "lom", "uni"), ("x", "type", "lom", "lecture"),
        ("y", "type", "lom", "lecture")]
    with store.catalog() as txn:
        txn.set_unmapped("m1", "x", [("type", "lom", "seminar")])
        txn.set_unmapped("m1", "y", [])
    assert list(store.iter_unmapped("m1")) == [("x", "type", "lom", "seminar")]


def test_what_a_batch_held_before_is_read_at_once(store):
    """normalized_before: a batch's descriptions, unmapped terms and open normalize-stage
    quarantine, read together (so an unchanged record costs no statement of its own)."""
    a, b = rid("a"), rid("b")
    dx = description("m1", "x", a, fmt="oai_lom")
    with store.catalog() as txn:
        assert txn.normalized_before("m1", []) == {}
        txn.put_description(dx, 10)
        txn.put_description(description("m2", "x", b), 11)  # another member's x
        txn.set_unmapped("m1", "x", [("type", "lom", "lecture")])
        txn.set_unmapped("m1", "u", [("level", "lom", "uni"), ("type", "lom", "talk")])
        txn.quarantine("m1", "q", stage="normalize", reason="invalid", raw=None)
        txn.quarantine("m1", "h", stage="harvest", reason="unreadable", raw=None)
        txn.quarantine("m1", "r", stage="normalize", reason="fixed later", raw=None)
        txn.resolve_quarantine("m1", "r", stage="normalize")
    ids = ["x", "u", "q", "h", "r", "never", "x"]  # repeats and unknowns are fine
    with store.catalog() as txn:
        before = txn.normalized_before("m1", ids)
    assert set(before) == {"x", "u", "q"}  # the harvest stage and resolved entries don't count
    assert before["x"].description == dx
    assert before["x"].unmapped == frozenset({("type", "lom", "lecture")})
    assert not before["x"].quarantined
    assert before["u"].description is None
    assert before["u"].unmapped == frozenset({("level", "lom", "uni"), ("type", "lom", "talk")})
    assert before["q"].quarantined and before["q"].description is None
    with store.catalog() as txn:  # more identifiers than one statement binds
        many = txn.normalized_before("m1", [f"n{i}" for i in range(1500)] + ["x"])
    assert list(many) == ["x"]


def test_new_resources_are_written_in_bulk_as_one_at_a_time_would_write_them(make_store):
    """put_new_resources: descriptions, unmapped terms, keys, records, sets, search rows,
    changes and pre-rendered metadata of several new resources, seqs in their order."""
    store = make_store()
    first = rid("first")
    with store.catalog() as txn:
        put_resource(txn, first, record(first, "Before them"), deleted=False)
    ids = [rid(f"new{n}") for n in range(3)]
    items = []
    for n, iri in enumerate(ids):
        rec = record(iri, f"Photosynthesis part {n}", members=("m1",))
        text = canonical_json(rec)
        d = description("m1", f"x{n}", iri, fmt="lom", rank=2)
        items.append(NewResource(
            description=d, description_text=canonical_json(d.description), raw_seq=10 + n,
            unmapped=(("type", "lom", f"odd{n}"),) if n != 1 else (),
            keys=(f"isbn:{n}", f"url:{n}"), sets=tuple(oai_set_specs(rec)),
            encoded=Encoded(text, search_document(parse_json(text), default_vocabularies())),
            written=(("oai_dc", f"<dc>{n}</dc>".encode(), "v1"),)))
    with store.catalog() as txn:
        txn.put_new_resources(items)
        txn.put_new_resources([])
        assert txn.resource_states(ids) == {iri: False for iri in ids}  # inside it too
    with store.catalog() as txn:
        assert txn.resources_for_keys(["isbn:0", "url:2", "isbn:9"]) == {
            "isbn:0": ids[0], "url:2": ids[2]}
        before = txn.normalized_before("m1", ["x0", "x1", "x2"])
        assert [before[f"x{n}"].description for n in range(3)] == [i.description for i in items]
        assert before["x0"].unmapped == frozenset({("type", "lom", "odd0")})
        assert before["x1"].unmapped == frozenset()
        assert [d.identifier for d in txn.descriptions_of(ids[2])] == ["x2"]
        for item, iri in zip(items, ids):  # kept as given: the same record again is no change
            assert put_resource(txn, iri, parse_json(item.encoded.text), deleted=False) is None
    got = [store.resource(iri) for iri in ids]
    assert [r.record for r in got] == [parse_json(i.encoded.text) for i in items]
    seqs = [r.seq for r in got]
    assert seqs == sorted(seqs) and seqs[0] > store.resource(first).seq
    changes = store.change_rows(1, 10**9)
    assert [(c.resource_id, c.kind) for c in changes] == [(first, "create")] + [
        (iri, "create") for iri in ids]
    assert [c.seq for c in changes][1:] == seqs
    assert sorted(h.resource_id for h in store.search(SearchQuery(text="photosynthesis")).hits) \
        == sorted(ids)
    listed = store.oai_list(from_=None, until=None, set_=None, after_seq=0, limit=10,
                            with_records=True, prefix="oai_dc", writer_version="v1")
    written = {item.id: xml for item, _sets, xml in listed}
    assert [written[iri] for iri in ids] == [b"<dc>0</dc>", b"<dc>1</dc>", b"<dc>2</dc>"]
    spec = items[0].sets[0]
    in_set = store.oai_list(from_=None, until=None, set_=spec, after_seq=0, limit=10,
                            with_records=False)
    assert {item.id for item, *_ in in_set} >= set(ids)
