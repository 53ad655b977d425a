"""A batch's transaction reads its match keys and IRIs ahead, at once (catalog/normalization.py,
``_Lookahead``); what it makes must be what one transaction a record makes.

Records of one batch that describe one resource (a member that lists a resource twice, or
a record whose keys an earlier one of the batch took), and records deleted in the same
batch, are where reading ahead could go wrong: the second must see what the first wrote.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eduxchange
from eduxchange.catalog import normalization
from eduxchange.catalog.vocab import default_vocabularies
from eduxchange.store.backends import open_catalog_store
from eduxchange.store.base import (Encoded, NewResource, StoredDescription, canonical_json,
                                   parse_json)
from eduxchange.store.search import SearchQuery, search_document
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, oai_dc_xml
from tests.support.records import MemberRecord
from tests.test_catalog import START
from tests.test_parallel import _catalogue, _config, _prewritten


def _records() -> list[MemberRecord]:
    out = [MemberRecord(identifier=f"oai:lom.example.org:{i}",
                        datestamp=START + timedelta(minutes=i), metadata=lom_xml(i))
           for i in range(30)]
    at = START + timedelta(hours=1)
    # the same resources again, under other identifiers, later in the same batch
    out += [MemberRecord(identifier=f"oai:lom.example.org:again-{i}", datestamp=at,
                         metadata=lom_xml(i)) for i in (3, 3, 17, 29)]
    # two new records of one new resource, one right after the other
    out += [MemberRecord(identifier=f"oai:lom.example.org:twin-{n}", datestamp=at,
                         metadata=lom_xml(300)) for n in range(2)]
    # a record deleted in the page that lists it (the store keeps the deletion only), and
    # one of a merged pair
    out += [MemberRecord(identifier="oai:lom.example.org:5", datestamp=at, deleted=True),
            MemberRecord(identifier="oai:lom.example.org:again-17", datestamp=at,
                         deleted=True)]
    return out


def _log(config: eduxchange.Config) -> tuple[list[tuple[str, str]], int, list[str]]:
    """The change log (IRI and kind, in order), and what search finds: every live resource
    once (a resource indexed twice would be counted twice)."""
    with eduxchange.open_store(config) as store:
        changes = [(c.resource_id, c.kind) for c in store.change_rows(1, 10**9)]
        listed = store.search(SearchQuery(text="", page_size=100))
        found = store.search(SearchQuery(text="linear algebra", page_size=100))
        return changes, listed.total, sorted(h.resource_id for h in found.hits)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_batch_makes_what_one_transaction_a_record_makes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    monkeypatch.setattr(normalization, "PARALLEL_AFTER", 0)  # workers from the first record
    dc = [MemberRecord(identifier=f"oai:dc.example.net:{i}", datestamp=START,
                       metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
          for i in (3, 17, 100, 200)]
    made = {}
    with serve_faulty(_records(), page_size=100) as a, serve_faulty(dc, page_size=100) as b:
        members = [{"id": "lom", "name": "LOM", "endpoint": a.url},
                   {"id": "dc", "name": "DC", "endpoint": b.url, "metadata_prefix": "oai_dc"}]
        for batch in (1, normalization.BATCH):
            monkeypatch.setattr(normalization, "BATCH", batch)
            config = _config(tmp_path / f"batch{batch}", members, jobs=jobs)
            results = eduxchange.harvest(config)
            assert all(r.error is None for r in results), results
            made[batch] = (_catalogue(config), _prewritten(config), _log(config))
    one, whole = made[1], made[normalization.BATCH]
    assert whole[0] == one[0]
    assert whole[1] == one[1]
    assert whole[2] == one[2]
    ids = {r["id"] for r in whole[0]}
    # 30 LOM resources less 5 (withdrawn, not exported), 3 and 17 described again (17's
    # second description withdrawn), the twins' one, and DC's 100 and 200
    assert len(ids) == 32, sorted(ids)
    twins = [r for r in whole[0] if any(
        p.get("identifier") == "oai:lom.example.org:twin-0"
        for p in r.get("mainEntityOfPage", []))]
    assert len(twins) == 1
    assert whole[2][1] == 32
    kinds = [kind for _iri, kind in whole[2][0]]
    assert kinds.count("create") == 32 and "delete" not in kinds  # 5 never was live


# -- the lookahead against the store it reads ahead of -------------------------------------

_IRIS = [f"https://catalog.example.org/resources/00000000-0000-4000-8000-00000000000{n}"
         for n in range(6)]
_KEYS = [f"isbn:97800000000{n}" for n in range(8)]

_step = st.one_of(
    st.tuples(st.just("keys"), st.sampled_from(_IRIS),
              st.lists(st.sampled_from(_KEYS), max_size=3, unique=True)),
    st.tuples(st.just("put"), st.sampled_from(_IRIS), st.booleans()),
    st.tuples(st.just("ahead"), st.lists(st.sampled_from(_KEYS), max_size=4),
              st.lists(st.sampled_from(_IRIS), max_size=3)),
    st.tuples(st.just("new"), st.sampled_from(_IRIS),
              st.lists(st.sampled_from(_KEYS), max_size=3, unique=True)),
    st.tuples(st.just("check")))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(_step, max_size=6), steps=st.lists(_step, min_size=1, max_size=25))
def test_the_lookahead_answers_what_the_transaction_would(tmp_path: Path, before, steps) -> None:
    """Whatever was written before the transaction and through the lookahead inside it, in
    whatever order it was read ahead, its answers on keys and IRIs are the store's own, and
    it writes a resource without looking only when the IRI has no row."""
    with open_catalog_store(tmp_path / f"{uuid.uuid4()}.sqlite") as store:
        with store.catalog() as txn:
            look = normalization._Lookahead(txn)
            _play(look, before)
            look.flush()
        with store.catalog() as txn:
            look = normalization._Lookahead(txn)
            for step in [*steps, ("check",)]:
                if step[0] != "check":
                    _play(look, [step])
                    continue
                # what it answers, new resources held back or not, is what the store holds
                states = {iri: look.state(iri) for iri in _IRIS}
                owners = {key: look.resources_for_keys([key]) for key in _KEYS}
                look.flush()
                assert states == {iri: txn.resource_states([iri]).get(iri) for iri in _IRIS}
                assert owners == {key: set(txn.resources_for_keys([key]).values())
                                  for key in _KEYS}


def _play(look: normalization._Lookahead, steps: list[tuple]) -> None:
    for step in steps:
        if step[0] == "keys":
            look.set_keys(step[1], step[2])
        elif step[0] == "put":
            iri, deleted = step[1], step[2]
            had = look.txn.resource_states([iri]).get(iri)
            kind = look.put_resource(iri, {"id": iri, "name": {"en": f"{iri} {len(steps)}"}},
                                     deleted=deleted, sets=[])
            if had is None:
                assert kind == (None if deleted else "create")
            else:
                assert kind in (None, "update", "delete", "create")
        elif step[0] == "new":
            iri, keys = step[1], step[2]
            if look.state(iri) is not None or look.resources_for_keys(keys):
                continue  # not new: put_new_resources is for resources that are
            text = canonical_json({"id": iri, "name": {"en": "new"}})
            look.add_new(NewResource(
                description=StoredDescription(
                    member_id="m1", identifier=f"oai:m1:{uuid.uuid4()}", resource_id=iri,
                    format="lom", rank=1, description={"name": {"en": "new"}}),
                description_text=canonical_json({"name": {"en": "new"}}), raw_seq=1,
                unmapped=(), keys=tuple(keys), sets=("m1",),
                encoded=Encoded(text, search_document(parse_json(text),
                                                      default_vocabularies())),
                written=(("oai_dc", b"<dc/>", "1"),)))
        elif step[0] == "ahead":
            look._load(step[1], step[2])
