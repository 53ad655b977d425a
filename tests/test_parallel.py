"""Normalization in worker processes: the same catalogue as in process, crashes quarantined.

``[harvest] jobs`` (``--jobs``) moves describe() (crosswalk, mapping, validation) into worker
processes while the harvesting process writes the results in order (catalog/parallel.py).
"""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import eduxchange
from eduxchange.catalog import normalization
from eduxchange.catalog.parallel import OrderedPool
from tests.conftest import write_config
from tests.support.crashing import KILLERS, double
from tests.support.faulty import serve_faulty
from eduxchange.publish.writers import WRITERS
from tests.support.lomgen import LANGUAGES, lom_xml, make_records, oai_dc_xml
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord
from tests.test_catalog import START

# Fields that say when a record was harvested or written: they differ between two stores.
_WHEN = {"sdDatePublished", "dateModified"}


def _catalogue(config: eduxchange.Config) -> list[dict[str, Any]]:
    """The exported catalogue, without the times."""
    out = io.BytesIO()
    with eduxchange.open_store(config) as store:
        eduxchange.publish.export.export(config, store, out)
    return [_timeless(json.loads(line)) for line in out.getvalue().splitlines()]


def _prewritten(config: eduxchange.Config) -> dict[tuple[str, str], tuple[bytes, str]]:
    """The OAI-PMH metadata normalization pre-rendered (in a worker or not)."""
    with sqlite3.connect(config.catalog.store) as conn:
        return {(row[0], row[1]): (row[2], row[3]) for row in conn.execute(
            "SELECT resource_id, prefix, xml, writer_version FROM disseminations")}


def _timeless(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _WHEN}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _config(path: Path, members: list[dict[str, Any]], jobs: int) -> eduxchange.Config:
    path.mkdir()
    return eduxchange.load_config(write_config(path / "alliance.toml", members, {"jobs": jobs}))


def _members() -> tuple[list[MemberRecord], list[MemberRecord]]:
    lom = make_records(90, start=START, step=timedelta(minutes=1))
    # Another member's oai_dc records of resources 61..120: 30 of them merge with LOM ones.
    dc = [MemberRecord(identifier=f"oai:dc.example.net:{i}", datestamp=START + timedelta(hours=i),
                       metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
          for i in range(61, 121)]
    return lom, dc


def test_workers_and_in_process_give_the_same_catalogue(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalization, "PARALLEL_AFTER", 0)  # workers from the first record
    lom, dc = _members()
    with serve_pyoai_member(lom, batch_size=7) as a, serve_faulty(dc, page_size=11) as b:
        members = [{"id": "lom", "name": "LOM", "endpoint": a.url},
                   {"id": "dc", "name": "DC", "endpoint": b.url, "metadata_prefix": "oai_dc"}]
        serial = _config(tmp_path / "serial", members, jobs=1)
        parallel = _config(tmp_path / "parallel", members, jobs=2)
        for config in (serial, parallel):
            results = eduxchange.harvest(config)
            assert [r.normalization and r.normalization.get("created") for r in results] \
                == [60, 60], results  # dc is normalized first (by id), then lom
        expected = _catalogue(serial)
        assert len(expected) == 120
        assert _catalogue(parallel) == expected
        written = _prewritten(serial)
        assert len(written) == 2 * 120
        assert _prewritten(parallel) == written
        # normalize --all again, in workers: nothing changes
        done = eduxchange.normalize_catalog(parallel, all_=True, jobs=2)
        assert [(r.processed, r.created, r.quarantined, r.error) for r in done] == [
            (90, 0, 0, None), (60, 0, 0, None)]
        assert _catalogue(parallel) == expected


def test_small_normalizations_start_no_process() -> None:
    pool: OrderedPool[int, int] = OrderedPool(double, workers=2, on_crash=lambda item: -1,
                                              parallel_after=100)
    got: list[int] = []
    for start in range(0, 100, 10):
        pool.submit(list(range(start, start + 10)), (), lambda b, r: got.extend(r),
                    lambda b: double(b))
    pool.drain(lambda b, r: got.extend(r))
    assert got == [2 * i for i in range(100)]
    assert pool._procs == []
    pool.close()


def test_a_worker_that_dies_costs_one_item_and_no_hang() -> None:
    pool: OrderedPool[int, int] = OrderedPool(double, workers=2, on_crash=lambda item: -item,
                                              parallel_after=0)
    got: list[int] = []

    def apply(batch: list[int], results: list[int]) -> None:
        assert len(batch) == len(results)
        got.extend(results)

    try:
        for start in range(0, 60, 10):
            pool.submit(list(range(start, start + 10)), (), apply, double)
        pool.drain(apply)
    finally:
        pool.close()
    # 13 and 37 kill their worker every time: they alone get on_crash; the order is kept.
    assert got == [-i if i in KILLERS else 2 * i for i in range(60)]
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit([1], (), apply, double)


def test_pre_rendered_metadata_is_what_get_record_renders(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pre-rendered document, made in a worker or in the writing process, on a new
    resource or on a merge, is byte for byte what the writer makes of the record as the store
    gives it back (what GetRecord renders): ListRecords and GetRecord never disagree.
    Titles in two languages out of alphabetical order ("en" then "de", "nl" then "fr")
    would come out in another order if anything rendered the record as merged in memory."""
    monkeypatch.setattr(normalization, "PARALLEL_AFTER", 0)
    lom = [MemberRecord(identifier=f"oai:lom.example.org:{i}",
                        datestamp=START + timedelta(minutes=i),
                        metadata=lom_xml(i, title_lang=LANGUAGES[i % len(LANGUAGES)]))
           for i in range(90)]
    _lom, dc = _members()  # 29 of these merge with LOM resources (61..89)
    with serve_pyoai_member(lom, batch_size=7) as a, serve_faulty(dc, page_size=11) as b:
        members = [{"id": "lom", "name": "LOM", "endpoint": a.url},
                   {"id": "dc", "name": "DC", "endpoint": b.url, "metadata_prefix": "oai_dc"}]
        for jobs in (1, 2):
            config = _config(tmp_path / f"jobs{jobs}", members, jobs=jobs)
            eduxchange.harvest(config)
            with eduxchange.open_store(config) as store:
                for prefix in normalization.PREWRITTEN:
                    items = store.oai_list(from_=None, until=None, set_=None, after_seq=0,
                                           limit=1000, with_records=True, prefix=prefix,
                                           writer_version=WRITERS[prefix].version)
                    live = [item for item in items if not item[0].deleted]
                    assert len(live) == 121  # LOM 0..89 and DC 61..120
                    for item, _sets, written in live:
                        assert written is not None, (jobs, prefix, item.id)
                        resource = store.resource(item.id)  # as GetRecord reads it
                        assert resource is not None
                        fresh = etree.tostring(WRITERS[prefix].write(resource.record),
                                               encoding="UTF-8")
                        assert written == fresh, (jobs, prefix, resource.id)


def test_a_workers_answer_comes_back_equal_through_the_pipe() -> None:
    """Described and Prepared pickle as texts and tuples (their __reduce__): what arrives is
    what was made, the description as its stored form gives it back; a description that is
    not JSON (the store would refuse it, and quarantine the record) still arrives."""
    import pickle

    from eduxchange.core.config import MemberConfig
    from eduxchange.store.base import StoredRecord, canonical_json, parse_json

    member = MemberConfig(id="lom", name="LOM", endpoint="http://127.0.0.1/oai")
    raw = (b'<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>'
           b"<identifier>oai:lom.example.org:7</identifier><datestamp>2024-01-01</datestamp>"
           b"</header><metadata>" + lom_xml(7, title_lang="de") + b"</metadata></record>")
    stored = StoredRecord(member_id="lom", identifier="oai:lom.example.org:7",
                          metadata_prefix="lom", datestamp="2024-01-01", sets=(), deleted=False,
                          raw=raw, run_id=1, first_harvested="2024-01-01T00:00:00Z",
                          harvested_at="2024-01-01T00:00:00Z", seq=1)
    normalization._start_worker(())
    (made,) = normalization._describe_in_worker([stored], member, "https://oer.example.org/")
    assert made is not None and made.prepared is not None and not made.problems
    back = pickle.loads(pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == normalization.Described(
        format=made.format, description=parse_json(canonical_json(made.description)),
        problems=made.problems, unmapped=made.unmapped, prepared=made.prepared)
    assert back.prepared.search == made.prepared.search
    odd = normalization.Described(format="lom", description={"keywords": {"a", "b"}},
                                  problems=("not JSON",))
    assert pickle.loads(pickle.dumps(odd)) == odd
