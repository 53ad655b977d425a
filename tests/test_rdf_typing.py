"""Typed RDF (issue 11, item 14): dates typed by precision, timeRequired, audience as AMB has it.

Oracles: the shapes (schemas/shapes.ttl) must refuse what item 14 reported (untyped dates,
``schema:duration`` on a LearningResource, an audience typed ``schema:Audience``) and accept what
the records say, on real records: AMB's own valid examples and the real LOM records of the
standards folder, each taken through the crosswalk, the vocabularies and the merge.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

import eduxchange
from eduxchange.publish import rdf
from eduxchange.catalog.merge import Ranked, merge_descriptions
from eduxchange.catalog.validate import validate_record
from eduxchange.catalog.vocab import default_vocabularies

from .support.amb import AMB_DIR
from .support.standards import LOM_SAMPLES, standard
from .test_schemas import RECORDS, load

SCHEMA = rdf.SCHEMA
DATE_TYPES = {XSD.gYear, XSD.gYearMonth, XSD.date, XSD.dateTime}
PROVENANCE = {"id": "https://m.example.org/oai?verb=GetRecord&metadataPrefix=lom&identifier=x",
              "type": "WebPage",
              "provider": {"id": "https://catalog.example.org/members/m", "type": "Organization",
                           "name": "Member M"},
              "identifier": "oai:m.example.org:x", "dateModified": "2026-11-01T13:26:03Z",
              "sdDatePublished": "2026-11-02T08:00:00Z"}
RECORD_ID = "https://catalog.example.org/resources/6f1c0e7e-3a51-5c8e-9d57-0f4f3f5f5d21"


def _record(metadata: bytes) -> dict[str, Any]:
    description, _ = default_vocabularies().apply(eduxchange.crosswalk(metadata))
    description["mainEntityOfPage"] = [PROVENANCE]
    record = merge_descriptions([Ranked(description=description, format_rank=1, member_id="m",
                                        identifier=PROVENANCE["identifier"])],
                                record_id=RECORD_ID, context="https://catalog.example.org/context.jsonld")
    assert validate_record(record) == []
    return record


def _check(record: dict[str, Any]) -> Graph:
    graph = rdf.record_to_graph(record)
    ok, report = rdf.conforms(graph)
    assert ok, report
    for predicate in (SCHEMA.dateCreated, SCHEMA.datePublished, SCHEMA.dateModified,
                      SCHEMA.sdDatePublished):
        for value in graph.objects(None, predicate):
            assert isinstance(value, Literal) and value.datatype in DATE_TYPES, (predicate, value)
            assert value.ill_typed is not True
    assert not list(graph.triples((None, SCHEMA.duration, None)))
    if "duration" in record:
        (value,) = graph.objects(URIRef(record["id"]), SCHEMA.timeRequired)
        assert value.datatype == XSD.duration and value.ill_typed is not True
    for concept in graph.objects(URIRef(record["id"]), SCHEMA.audience):
        assert (concept, RDF.type, rdf.SKOS.Concept) in graph
        assert (concept, RDF.type, SCHEMA.Audience) not in graph
    return graph


@pytest.mark.parametrize("sample", LOM_SAMPLES, ids=lambda s: Path(s).stem)
def test_real_lom_records_give_typed_rdf_that_conforms(sample: str) -> None:
    _check(_record(standard(sample).read_bytes()))


def test_amb_examples_give_typed_rdf_that_conforms() -> None:
    folder = standard(f"{AMB_DIR}/examples/valid")
    graphs = [_check(_record(path.read_bytes())) for path in sorted(folder.glob("*.json"))]
    assert len(graphs) > 20
    # dateTime.json: a date-time with a zone stays one, typed xsd:dateTime.
    typed = {o for g in graphs for o in g.objects(None, SCHEMA.dateModified)}
    assert Literal("2022-03-26T08:35:37Z", datatype=XSD.dateTime) in typed
    assert Literal("2026-11-01T13:26:03Z", datatype=XSD.dateTime) in typed  # a member datestamp


def test_each_date_precision_and_the_duration_are_typed() -> None:
    record = load(RECORDS / "valid" / "record-md-example.json")
    for value, datatype in (("2019", XSD.gYear), ("2020-02", XSD.gYearMonth),
                            ("2020-02-29", XSD.date), ("2024-01-02T10:00:00.5+05:30", XSD.dateTime)):
        record["dateCreated"] = value
        graph = _check(record)
        assert set(graph.objects(URIRef(record["id"]), SCHEMA.dateCreated)) == {
            Literal(value, datatype=datatype)}
    record["duration"] = "P1Y2W3DT4H"
    before = copy.deepcopy(record)
    graph = _check(record)
    assert set(graph.objects(URIRef(record["id"]), SCHEMA.timeRequired)) == {
        Literal("P1Y17DT4H", datatype=XSD.duration)}
    assert record == before  # the record keeps its own lexical form


def _violations(graph: Graph) -> str:
    ok, report = rdf.conforms(graph)
    assert not ok
    return report


def test_the_shapes_refuse_what_item_14_reported() -> None:
    record = load(RECORDS / "valid" / "record-md-example.json")
    subject = URIRef(record["id"])

    untyped = rdf.record_to_graph(record)
    untyped.set((subject, SCHEMA.dateCreated, Literal("2023-05-01")))
    assert "xsd:gYear, xsd:gYearMonth, xsd:date or xsd:dateTime" in _violations(untyped)

    page = URIRef(record["mainEntityOfPage"][0]["id"])
    untyped_stamp = rdf.record_to_graph(record)
    untyped_stamp.set((page, SCHEMA.sdDatePublished, Literal("2024-01-03T08:00:00Z")))
    assert "sdDatePublished" in _violations(untyped_stamp)

    duration = rdf.record_to_graph(record)
    duration.add((subject, SCHEMA.duration, Literal("PT1H30M", datatype=XSD.duration)))
    assert "ClosedConstraintComponent" in _violations(duration)  # schema:duration is not ours

    weeks = rdf.record_to_graph(record)
    weeks.set((subject, SCHEMA.timeRequired, Literal("P2W", datatype=XSD.duration, normalize=False)))
    assert "timeRequired" in _violations(weeks)

    audience = rdf.record_to_graph(record)
    role = URIRef(record["audience"][0]["id"])
    audience.add((role, RDF.type, SCHEMA.Audience))
    assert "not a schema:Audience" in _violations(audience)

    untyped_concept = rdf.record_to_graph(record)
    untyped_concept.remove((role, RDF.type, rdf.SKOS.Concept))
    assert "skos" in _violations(untyped_concept)
