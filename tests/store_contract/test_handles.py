"""The contract of store handles: what one commits outlives it, and a read-only handle reads
everything committed and changes nothing."""

from __future__ import annotations

import pytest

from eduxchange.store.search import SearchQuery

from .helpers import commit, description, harvest, put_resource, raw, record, rid, start


def _fill(store):
    run = harvest(store, "m1", ["a", "b"])
    a = rid("a")
    with store.catalog() as txn:
        put_resource(txn, a, record(a, "Photosynthesis"), deleted=False)
        txn.put_description(description("m1", "a", a), 1)
        txn.set_written_versions({"oai_dc": "1"})
    store.put_report_snapshot("m1", run, {"records": 2})
    return run, a


def test_what_a_handle_committed_outlives_it(make_store):
    store = make_store()
    run, a = _fill(store)
    store.close()
    again = make_store()
    assert [r.identifier for r in again.iter_records("m1")] == ["a", "b"]
    assert [r.id for r in again.iter_resources()] == [a]
    assert [r.id for r in again.runs()] == [run]
    assert again.written_versions() == {"oai_dc": "1"}
    assert again.search(SearchQuery(text="photosynthesis")).total == 1


def test_a_handle_is_a_context_manager_that_closes(make_store):
    with make_store() as store:
        _fill(store)
    with make_store() as again:
        assert [r.identifier for r in again.iter_records("m1")] == ["a", "b"]
    with make_store(read_only=True) as reader:
        assert reader.counts("m1")["records"] == 2


def test_a_read_only_handle_reads_what_is_committed_even_later(make_store):
    writer = make_store()
    run, a = _fill(writer)
    reader = make_store(read_only=True)
    assert [r.identifier for r in reader.iter_records("m1")] == ["a", "b"]
    assert reader.counts("m1") == {"records": 2, "deleted": 0, "quarantined": 0}
    assert [r.id for r in reader.iter_resources(member_id="m1")] == [a]
    assert reader.resource_counts() == {"resources": 1, "deleted": 0}
    assert [d.identifier for d in reader.iter_descriptions("m1")] == ["a"]
    assert reader.description_count("m1") == 1
    assert [r.id for r in reader.runs("m1")] == [run]
    assert reader.member_state("m1").state == "never"
    assert reader.report_snapshots("m1")[0][2] == {"records": 2}
    assert reader.written_versions() == {"oai_dc": "1"}
    assert reader.search(SearchQuery(text="photosynthesis")).total == 1
    assert reader.events("m1") == [] and reader.quarantine("m1") == []
    assert list(reader.iter_quarantine("m1")) == [] and reader.unmapped_terms("m1") == []
    assert reader.last_run_warnings("m1") == (0, None)
    commit(writer, "m1", start(writer, "m1"), [raw("c")])
    assert [r.identifier for r in reader.iter_records("m1")] == ["a", "b", "c"]


def test_a_read_only_handle_changes_nothing(make_store):
    writer = make_store()
    _fill(writer)
    reader = make_store(read_only=True)
    before = [(r.identifier, r.seq) for r in writer.iter_records()]
    attempts = {
        "commit_page": lambda: reader.commit_page("m1", 1, "oai_dc", [raw("z")], [], None),
        "update_member_state": lambda: reader.update_member_state("m1", state="ok"),
        "begin_run": lambda: reader.begin_run("m1", mode="full", metadata_prefix=None,
                                              from_=None),
        "retire_unseen": lambda: reader.retire_unseen("m1", 10**6),
        "put_report_snapshot": lambda: reader.put_report_snapshot("m1", None, {}),
    }
    for name, attempt in attempts.items():
        if not hasattr(reader, name):  # a read-only store may not have the method at all
            continue
        with pytest.raises(Exception):  # noqa: B017,PT011 - whatever the engine says
            attempt()
    if hasattr(reader, "catalog"):
        with pytest.raises(Exception):  # noqa: B017,PT011
            with reader.catalog() as txn:
                put_resource(txn, rid("z"), record(rid("z"), "Z"), deleted=False)
    assert [(r.identifier, r.seq) for r in writer.iter_records()] == before
    assert writer.member_state("m1").state == "never"
    assert len(writer.runs("m1")) == 1
    assert [r.id for r in writer.iter_resources()] == [rid("a")]


def _protocol_methods(protocol: type) -> set[str]:
    return {name for klass in protocol.__mro__ if klass.__module__ == protocol.__module__
            for name, value in vars(klass).items()
            if callable(value) and not name.startswith("_")}


def test_a_store_has_every_method_of_the_protocols(store):
    from eduxchange.store import base

    missing = sorted(name for name in _protocol_methods(base.CatalogStore)
                     if not callable(getattr(store, name, None)))
    assert not missing, f"{type(store).__name__} lacks {missing}"
    with store.catalog() as txn:
        missing = sorted(name for name in _protocol_methods(base.CatalogTxn)
                         if not callable(getattr(txn, name, None)))
    assert not missing, f"{type(txn).__name__} lacks {missing}"


def test_a_read_only_handle_has_every_reader_method(make_store):
    from eduxchange.store import base

    make_store()
    reader = make_store(read_only=True)
    protocol = getattr(base, "StoreReader", None)  # the seam's reader protocol, where it exists
    names = _protocol_methods(protocol) if protocol is not None else {
        "iter_records", "iter_resources", "counts", "resource_counts", "search", "close"}
    missing = sorted(name for name in names if not callable(getattr(reader, name, None)))
    assert not missing, f"{type(reader).__name__} lacks {missing}"


def test_the_suite_calls_every_method_of_every_store_protocol():
    """A guard for the suite itself: a method added to ``store/base.py`` needs its test here."""
    import re
    from pathlib import Path

    from eduxchange.store import base

    here = Path(__file__).parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(here.glob("*.py")))
    protocols = [value for value in vars(base).values()
                 if isinstance(value, type) and getattr(value, "_is_protocol", False)
                 and value.__module__ == base.__name__]
    untested = sorted({f"{p.__name__}.{name}" for p in protocols
                       for name in _protocol_methods(p)
                       if not re.search(rf"\.{re.escape(name)}\(", text)})
    assert not untested, f"no contract test calls {untested}"
