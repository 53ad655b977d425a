"""Catalogue dumps: every format streams, parses in two RDF toolkits and conforms to the shapes.

A small real catalogue (two loopback members, as in test_catalog.py) is exported in every format;
each RDF dump is read by rdflib and by pyoxigraph, and all of them must say exactly what the
records say (the graphs of the ndjson records, merged).
"""

from __future__ import annotations

import gc
import io
import json
import socket
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from rdflib import RDF, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.parsers.jsonld import to_rdf

import eduxchange
from eduxchange.publish import rdf
from eduxchange.publish.export import FORMATS, export, export_vocabularies
from eduxchange.store.base import Resource
from eduxchange.store.sqlite import SQLiteStore
from eduxchange.catalog.sets import oai_set_specs
from eduxchange.catalog.validate import validate_record
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, make_records, oai_dc_xml
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord, utcnow

START = datetime(2024, 1, 1)
FIXTURES = Path(__file__).parent / "fixtures" / "records" / "valid"

#: format -> (rdflib parser name, pyoxigraph format)
RDF_FORMATS: dict[str, tuple[str, pyoxigraph.RdfFormat]] = {
    "jsonld": ("json-ld", pyoxigraph.RdfFormat.JSON_LD),
    "turtle": ("turtle", pyoxigraph.RdfFormat.TURTLE),
    "ntriples": ("nt", pyoxigraph.RdfFormat.N_TRIPLES),
    "rdfxml": ("xml", pyoxigraph.RdfFormat.RDF_XML),
}
CONCEPT_FIELDS = ("learningResourceType", "educationalLevel", "audience", "about")


class Catalogue:
    """A harvested catalogue; the members are gone once it exists (no network from then on)."""

    def __init__(self, config: eduxchange.Config, mark: str) -> None:
        self.config = config
        self.mark = mark  # an ISO date-time between the first and the second harvest

    def dump(self, format_: str = "ndjson", **kw: Any) -> bytes:
        out = io.BytesIO()
        with eduxchange.open_store(self.config) as store:
            export(self.config, store, out, format=format_, **kw)
        return out.getvalue()

    def records(self, **kw: Any) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.dump("ndjson", **kw).splitlines()]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    tmp = tmp_path_factory.mktemp("export")
    lom_recs = make_records(12, start=START, step=timedelta(minutes=1))
    dc_recs = [MemberRecord(identifier=f"oai:dc.example.net:{i}", datestamp=START + timedelta(hours=i),
                            metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
               for i in range(9, 17)]  # 9..12 are LOM's resources too
    with serve_pyoai_member(lom_recs) as lom, serve_faulty(dc_recs) as dc:
        config = eduxchange.load_config(write_config(tmp / "alliance.toml", [
            {"id": "lom", "name": "LOM member", "endpoint": lom.url},
            {"id": "dc", "name": "DC member", "endpoint": dc.url, "metadata_prefix": "oai_dc"},
        ]))
        assert all(r.ok for r in eduxchange.harvest(config))
        # A later change, one clock second on: only it is "since" the mark (updated_at has
        # second precision).
        time.sleep(1.1)
        mark = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lom.backend.update(lom_recs[0].identifier, datestamp=utcnow(),
                           metadata=lom_xml(1).replace(b"Introduction", b"Intro"))
        assert all(r.ok for r in eduxchange.harvest(config))
    return Catalogue(config, mark)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a socket to anywhere fails (JSON-LD must not fetch its context)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def records_graph(records: list[dict[str, Any]]) -> Graph:
    graph = Graph()
    for record in records:
        rdf.record_to_graph(record, graph)
    return graph


def parse_rdflib(data: bytes, format_: str) -> Graph:
    if format_ == "jsonld":
        # rdflib's JSON-LD parser itself: Graph.parse would wrap it in a deprecated
        # ConjunctiveGraph (a DeprecationWarning, an error here).
        graph = Graph()
        to_rdf(json.loads(data), graph)
        return graph
    return Graph().parse(data=data, format=RDF_FORMATS[format_][0])


def parse_oxigraph(data: bytes, format_: str) -> set[pyoxigraph.Triple]:
    return {q.triple for q in pyoxigraph.parse(data, format=RDF_FORMATS[format_][1])}


def oxigraph_as_rdflib(triples: set[pyoxigraph.Triple]) -> Graph:
    """pyoxigraph's reading, written by pyoxigraph as N-Triples and read back by rdflib."""
    text = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert text is not None
    return Graph().parse(data=text, format="nt")


def learning_resources(graph: Graph) -> set[str]:
    return {str(s) for s in graph.subjects(RDF.type, rdf.SCHEMA.LearningResource)}


# -- every format, both toolkits ---------------------------------------------------------

def test_catalogue_is_what_the_tests_expect(catalogue: Catalogue) -> None:
    records = catalogue.records()
    assert len(records) == 16  # 12 LOM + 8 DC, of which 4 are the same resources
    assert all(validate_record(r) == [] for r in records)
    assert any("creator" in r for r in records)


@pytest.mark.parametrize("format_", list(RDF_FORMATS))
def test_rdf_dump_parses_in_rdflib_and_pyoxigraph_and_says_what_the_records_say(
        catalogue: Catalogue, format_: str, no_network: None) -> None:
    expected = records_graph(catalogue.records())
    data = catalogue.dump(format_)
    by_rdflib = parse_rdflib(data, format_)
    by_oxigraph = parse_oxigraph(data, format_)
    assert len(by_rdflib) == len(by_oxigraph) == len(expected) > 500
    assert isomorphic(by_rdflib, expected)
    assert isomorphic(oxigraph_as_rdflib(by_oxigraph), expected)
    assert len(learning_resources(by_rdflib)) == 16


def test_rdf_dumps_conform_to_the_shapes(catalogue: Catalogue) -> None:
    union = Graph()
    for format_ in RDF_FORMATS:
        union += parse_rdflib(catalogue.dump(format_), format_)
    ok, report = rdf.conforms(union)
    assert ok, report


def test_blank_nodes_are_unique_per_record_and_reproducible(catalogue: Catalogue) -> None:
    text = catalogue.dump("ntriples").decode("utf-8")
    assert text == catalogue.dump("ntriples").decode("utf-8")
    labels: dict[str, set[str]] = {}
    for line in text.splitlines():
        subject = line.split(" ", 1)[0]
        if subject.startswith("_:b"):
            labels.setdefault(subject[3:35], set()).add(subject)
    assert labels, "the catalogue has agents without IRIs"
    ids = {r["id"].rsplit("/", 1)[1].replace("-", "") for r in catalogue.records()}
    assert set(labels) <= ids


def test_jsonld_dump_has_the_context_inline_and_records_without_their_own(
        catalogue: Catalogue, no_network: None) -> None:
    document = json.loads(catalogue.dump("jsonld"))
    assert set(document) == {"@context", "@graph"}
    assert document["@context"] == rdf.context()["@context"]
    assert len(document["@graph"]) == 16
    assert all("@context" not in node for node in document["@graph"])
    # Expanded by rdflib from the dump alone (the socket guard would fail any fetch).
    assert len(parse_rdflib(json.dumps(document).encode("utf-8"), "jsonld")) > 500


def test_turtle_dump_declares_prefixes_once(catalogue: Catalogue) -> None:
    text = catalogue.dump("turtle").decode("utf-8")
    assert text.count("@prefix schema:") == 1 and text.startswith("@prefix ")
    assert "\nschema:" not in text  # subjects are full IRIs; predicates are abbreviated


def test_ndjson_is_unchanged(catalogue: Catalogue) -> None:
    lines = catalogue.dump("ndjson").splitlines()
    assert len(lines) == 16 and all(json.loads(line)["@context"] for line in lines)


# -- filters ------------------------------------------------------------------------------

@pytest.mark.parametrize("format_", list(RDF_FORMATS))
def test_since_and_member_filter_every_format(catalogue: Catalogue, format_: str) -> None:
    for kw in ({"since": catalogue.mark}, {"member": "dc"}, {"member": "lom"},
               {"since": "2999-01-01"}, {"member": "dc", "since": catalogue.mark}):
        ids = {r["id"] for r in catalogue.records(**kw)}
        data = catalogue.dump(format_, **kw)
        assert learning_resources(parse_rdflib(data, format_)) == ids, kw
        assert len(parse_oxigraph(data, format_)) == len(records_graph(catalogue.records(**kw)))
    assert len(catalogue.records(since=catalogue.mark)) == 1
    assert len(catalogue.records(member="dc")) == 8
    assert len(catalogue.records(member="lom")) == 12
    assert catalogue.records(member="dc", since=catalogue.mark) == []


def test_unknown_format_and_member_are_refused(catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="known: ndjson, jsonld, turtle, ntriples, rdfxml"):
        catalogue.dump("n3")
    with pytest.raises(eduxchange.EduxchangeError):
        catalogue.dump("turtle", member="nobody")


# -- awkward values, constant memory (a synthetic store) -----------------------------------

def synthetic_record(n: int, base: dict[str, Any], *, control: str = "") -> dict[str, Any]:
    record: dict[str, Any] = json.loads(json.dumps(base))
    record["id"] = f"https://catalog.example.org/resources/{uuid.uuid5(uuid.NAMESPACE_URL, str(n))}"
    record["url"] = f"https://oer.example.org/synthetic/{n}"
    record["name"] = {"en": f"Resource {n}: \"quoted\" <b>&amp; back\\slash\u00e9 \u4e2d",
                      "@none": "tab\there"}
    record["description"] = {"en": f"line one\nline two\r\nend{control}"}
    return record


def synthetic_store(path: Path, n: int, *, control: str = "") -> eduxchange.Config:
    base = json.loads((FIXTURES / "record-md-example.json").read_text(encoding="utf-8"))
    store = SQLiteStore(path / "catalog.sqlite")
    with store.catalog() as txn:
        for i in range(n):
            record = synthetic_record(i, base, control=control)
            txn.put_resource(record["id"], record, deleted=False,
                             sets=oai_set_specs(record))
    store.close()
    return eduxchange.load_config(write_config(path / "alliance.toml", [
        {"id": "ouc", "endpoint": "http://127.0.0.1:9/oai"}]))


def test_awkward_literals_survive_every_format(tmp_path: Path) -> None:
    config = synthetic_store(tmp_path, 3)
    base = json.loads((FIXTURES / "record-md-example.json").read_text(encoding="utf-8"))
    assert validate_record(synthetic_record(0, base)) == []
    with eduxchange.open_store(config) as store:
        records = [json.loads(line) for line in _dump(config, store, "ndjson").splitlines()]
        expected = records_graph(records)
        for format_ in RDF_FORMATS:
            data = _dump(config, store, format_)
            assert isomorphic(parse_rdflib(data, format_), expected), format_
            assert isomorphic(oxigraph_as_rdflib(parse_oxigraph(data, format_)), expected), format_


def test_control_characters_are_escaped_or_refused_by_rdfxml(tmp_path: Path) -> None:
    config = synthetic_store(tmp_path, 1, control=" \u0001 \u001f")
    with eduxchange.open_store(config) as store:
        records = [json.loads(line) for line in _dump(config, store, "ndjson").splitlines()]
        assert validate_record(records[0]) == []  # the JSON Schema lets control characters pass
        expected = records_graph(records)
        for format_ in ("ntriples", "turtle", "jsonld"):  # escaped as \\u0001 / in JSON
            data = _dump(config, store, format_)
            assert isomorphic(parse_rdflib(data, format_), expected), format_
            assert len(parse_oxigraph(data, format_)) == len(expected), format_
        # Impossible in XML 1.0, even as a character reference: refused, naming the record.
        with pytest.raises(ValueError, match="XML 1.0"):
            _dump(config, store, "rdfxml")


def _dump(config: eduxchange.Config, store: Any, format_: str) -> bytes:
    out = io.BytesIO()
    export(config, store, out, format=format_)
    return out.getvalue()


class _Discard(io.RawIOBase):
    """A binary sink that keeps nothing (so the dump itself does not count as memory)."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)


def _traced(config: eduxchange.Config, store: Any, format_: str) -> tuple[int, int]:
    """(peak, still held afterwards) bytes allocated by one export, traced by tracemalloc."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        export(config, store, _Discard(), format=format_)  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()  # young cycles (rdflib's recursive closures) are garbage, not kept
        return peak - before, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


class _GeneratedStore:
    """Just ``iter_resources``, generating records on the fly: the export's memory alone.

    (SQLiteStore reads 500 rows a time, so up to two batches are alive at once; that bound is
    the store's and would hide the export's own behaviour in a small test.)
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.base = json.loads((FIXTURES / "record-md-example.json").read_text(encoding="utf-8"))

    def iter_resources(self, **kw: Any) -> Iterator[Resource]:
        for i in range(self.n):
            record = synthetic_record(i, self.base)
            yield Resource(id=record["id"], record=record, deleted=False, created_at="",
                           updated_at="", seq=i + 1)


@pytest.fixture(scope="module")
def memory_config(tmp_path_factory: pytest.TempPathFactory) -> eduxchange.Config:
    return synthetic_store(tmp_path_factory.mktemp("mem"), 600)


@pytest.mark.parametrize("format_", FORMATS)
def test_memory_does_not_grow_with_the_catalogue(memory_config: eduxchange.Config,
                                                 format_: str) -> None:
    export(memory_config, _GeneratedStore(20), _Discard(), format=format_)  # type: ignore[arg-type]
    small_peak, _ = _traced(memory_config, _GeneratedStore(100), format_)
    # Twice, keeping the lower figures: tracemalloc counts every thread's allocations, and a
    # thread an earlier test left (a browser driver's, a pool's) may allocate during one run;
    # what the export itself keeps shows in both.
    runs = [_traced(memory_config, _GeneratedStore(500), format_) for _ in range(2)]
    large_peak, kept = min(r[0] for r in runs), min(r[1] for r in runs)
    # Five times the records: the peak moves by less than 30 records' worth of output (a record
    # is 2-5 KB in any format; the slack is for young garbage awaiting the cycle collector).
    assert large_peak < small_peak + 128 * 1024, (small_peak, large_peak)
    assert kept < 16 * 1024, kept


def test_exporting_the_same_store_twice_accumulates_nothing(memory_config: eduxchange.Config
                                                            ) -> None:
    with eduxchange.open_store(memory_config) as store:
        for format_ in ("ndjson", "turtle"):
            export(memory_config, store, _Discard(), format=format_)  # type: ignore[arg-type]
            # The first export traced peaks some 60-80 KB lower than every later one, on main
            # too (a constant, whatever the store holds): once the store's rows are compressed
            # (schema 5) the peak is a third of what it was, and 5% no longer covers it.
            _traced(memory_config, store, format_)
            first_peak, first_kept = _traced(memory_config, store, format_)
            second_peak, second_kept = _traced(memory_config, store, format_)
            assert second_kept <= first_kept + 8 * 1024 and second_kept < 64 * 1024, format_
            assert second_peak < first_peak * 1.05 + 32 * 1024, (format_, first_peak, second_peak)


# -- vocabularies ---------------------------------------------------------------------------

@pytest.mark.parametrize("format_", list(RDF_FORMATS))
def test_vocabularies_export_parses_and_holds_every_concept_used(catalogue: Catalogue,
                                                               format_: str) -> None:
    out = io.BytesIO()
    triples = export_vocabularies(out, format=format_)
    data = out.getvalue()
    graph = parse_rdflib(data, format_)
    assert len(graph) == triples == len(parse_oxigraph(data, format_))
    concepts = set(graph.subjects(RDF.type, rdf.SKOS.Concept))
    used = {URIRef(c["id"]) for r in catalogue.records() for f in CONCEPT_FIELDS for c in r.get(f, [])}
    used.add(URIRef("http://purl.org/dcx/lrmi-vocabs/learningResourceType/lessonPlan"))
    assert len(used) > 3 and used <= concepts, used - concepts
    for concept in used:
        assert graph.value(concept, rdf.SKOS.prefLabel) is not None
    # Licence IRIs used by the records are in the shipped licence scheme.
    licences = {URIRef(r["license"]["id"]) for r in catalogue.records() if "license" in r}
    assert licences and licences <= concepts | set(graph.subjects())


def test_vocabularies_refuse_ndjson() -> None:
    with pytest.raises(ValueError, match="known: turtle"):
        export_vocabularies(io.BytesIO(), format="ndjson")
