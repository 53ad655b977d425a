"""The common record's schemas (docs/record.md): JSON Schema, JSON-LD context and SHACL shapes.

Oracles: hand-written valid and invalid records (``tests/fixtures/records/``), each invalid one
breaking exactly the rule its file name says; python-jsonschema is the reference, and the fast
validator the library uses must agree with it on every example.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SH, XSD

from eduxchange.publish import rdf
from eduxchange.catalog.validate import _fast, _rule, fast_path, fast_rule, is_valid_record, validate_record

RECORDS = Path(__file__).parent / "fixtures" / "records"
VALID = sorted((RECORDS / "valid").glob("*.json"))
INVALID = sorted((RECORDS / "invalid").glob("*.json"))
SCHEMA_NS = rdf.SCHEMA
SKOS_NS = rdf.SKOS

#: Why each invalid example is invalid: (JSON path, JSON Schema keyword) of its only error.
EXPECTED: dict[str, tuple[str, str]] = {
    "affiliation-not-an-organization": ("$.creator[0].affiliation.type", "const"),
    "agent-email-not-an-address": ("$.publisher[0].email", "pattern"),
    "agent-type-not-person-or-organization": ("$.publisher[0].type", "enum"),
    "agent-unknown-field": ("$.creator[0]", "additionalProperties"),
    "agent-without-name": ("$.creator[0]", "required"),
    "concept-iri-not-absolute": ("$.about[0].id", "pattern"),
    "concept-label-not-a-language-map": ("$.about[0].prefLabel", "type"),
    "concept-without-iri": ("$.about[0]", "required"),
    "context-not-a-string": ("$['@context']", "type"),
    "date-impossible-month": ("$.datePublished", "pattern"),
    "date-not-iso8601": ("$.dateCreated", "pattern"),
    "date-time-without-seconds": ("$.mainEntityOfPage[0].dateModified", "pattern"),
    "date-time-without-zone": ("$.dateCreated", "pattern"),
    "duration-empty-time-part": ("$.duration", "pattern"),
    "duration-not-iso8601": ("$.duration", "pattern"),
    "encoding-format-not-a-media-type": ("$.encodingFormat[0]", "pattern"),
    "id-not-a-minted-iri": ("$.id", "pattern"),
    "in-language-not-a-list": ("$.inLanguage", "type"),
    "in-language-not-a-tag": ("$.inLanguage[1]", "pattern"),
    "iri-with-trailing-newline": ("$.url", "pattern"),
    "is-accessible-for-free-not-boolean": ("$.isAccessibleForFree", "type"),
    "keywords-not-a-list": ("$.keywords.en", "type"),
    "language-key-not-bcp47": ("$.name", "propertyNames"),
    "language-key-not-canonical-case": ("$.keywords", "propertyNames"),
    "license-as-string": ("$.license", "type"),
    "license-cc-not-canonical": ("$.license.id", "pattern"),
    "main-entity-of-page-empty": ("$.mainEntityOfPage", "minItems"),
    "missing-main-entity-of-page": ("$", "required"),
    "missing-name": ("$", "required"),
    "name-blank": ("$.name.en", "pattern"),
    "name-empty-map": ("$.name", "minProperties"),
    "provenance-type-not-webpage": ("$.mainEntityOfPage[0].type", "const"),
    "provenance-without-provider": ("$.mainEntityOfPage[0]", "required"),
    "provider-id-not-a-member-iri": ("$.mainEntityOfPage[0].provider.id", "pattern"),
    "sd-date-published-not-a-date-time": ("$.mainEntityOfPage[0].sdDatePublished", "pattern"),
    "terms-left-over": ("$", "additionalProperties"),
    "type-not-a-list": ("$.type", "type"),
    "type-not-learning-resource": ("$.type[0]", "const"),
    "typical-age-range-not-a-range": ("$.typicalAgeRange", "pattern"),
    "unknown-top-level-field": ("$", "additionalProperties"),
    "url-not-absolute": ("$.url", "pattern"),
}

CONCEPT_FIELDS = ("learningResourceType", "educationalLevel", "audience", "about")
AGENT_FIELDS = ("creator", "contributor", "publisher")


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        record: dict[str, Any] = json.load(handle)
    return record


def schema() -> dict[str, Any]:
    text = (files("eduxchange.schemas") / "resource.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture(scope="module")
def reference() -> Draft202012Validator:
    """python-jsonschema on the shipped schema: the reference the fast validator must agree with."""
    return Draft202012Validator(schema())


def fast_error(record: dict[str, Any]) -> jsonschema_rs.ValidationError | None:
    """The first problem the fast validator (jsonschema-rs) finds, or ``None``."""
    return next(iter(_fast().iter_errors(record)), None)


# --- the JSON Schema ------------------------------------------------------------------------


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())


def test_there_are_enough_examples_and_each_invalid_one_has_its_reason() -> None:
    assert len(VALID) >= 8 and len(INVALID) >= 15
    assert {p.stem for p in INVALID} == set(EXPECTED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_examples_are_valid(path: Path, reference: Draft202012Validator) -> None:
    record = load(path)
    assert [e.message for e in reference.iter_errors(record)] == []
    assert fast_error(record) is None
    assert is_valid_record(record)
    assert validate_record(record) == []
    assert validate_record(record, shipped_concepts=True) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_examples_fail_for_the_reason_their_name_says(
        path: Path, reference: Draft202012Validator) -> None:
    record = load(path)
    where, rule = EXPECTED[path.stem]
    errors = list(reference.iter_errors(record))
    assert [(e.json_path, _rule(e)) for e in errors] == [(where, rule)]

    err = fast_error(record)
    assert err is not None and not is_valid_record(record)
    assert fast_rule(err) == rule
    assert fast_path(err) == where
    assert list(err.instance_path) == list(errors[0].absolute_path)

    issues = validate_record(record)
    # The pipeline's check (concept labels for shape only) rejects each of them too, the same way.
    assert validate_record(record, shipped_concepts=True) == issues
    assert len(issues) == 1
    issue = issues[0]
    assert issue.code == "schema" and issue.severity == "error"
    assert issue.message.startswith(f"{where}: ") and issue.message.endswith(f"[{rule}]")
    assert "does not match" not in issue.message  # patterns are explained, not dumped


def test_validation_reports_every_problem_and_changes_nothing() -> None:
    record = load(RECORDS / "valid" / "record-md-example.json")
    record["dateCreated"] = "2023-05-01T10:00:00"
    record["duration"] = "90 minutes"
    del record["name"]
    before = copy.deepcopy(record)
    messages = [issue.message for issue in validate_record(record)]
    assert record == before
    assert len(messages) == 3
    assert any(m.startswith("$: 'name' is a required property") for m in messages)
    assert any(m.startswith("$.dateCreated: '2023-05-01T10:00:00' is not") for m in messages)
    assert any(m.startswith("$.duration: '90 minutes' is not") for m in messages)


def _with(field: str, value: Any) -> dict[str, Any]:
    record = load(RECORDS / "valid" / "minimal.json")
    record[field] = value
    return record


def _agree(record: dict[str, Any], reference: Draft202012Validator) -> bool:
    valid = reference.is_valid(record)
    assert is_valid_record(record) is valid
    return valid


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
       precision=st.sampled_from(["%Y", "%Y-%m", "%Y-%m-%d"]))
def test_calendar_dates_at_each_precision_are_valid(day: date, precision: str) -> None:
    validator = Draft202012Validator(schema())
    assert _agree(_with("dateCreated", day.strftime(precision)), validator)


@settings(max_examples=60, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
       offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
       utc=st.booleans())
def test_date_times_are_valid_with_a_zone_and_invalid_without(
        moment: datetime, offset_minutes: int, utc: bool) -> None:
    validator = Draft202012Validator(schema())
    zone = timezone.utc if utc else timezone(timedelta(minutes=offset_minutes))
    text = moment.replace(tzinfo=zone).isoformat(timespec="seconds")
    if utc:
        text = text.removesuffix("+00:00") + "Z"
    assert _agree(_with("dateModified", text), validator)
    assert not _agree(_with("dateModified", moment.isoformat(timespec="seconds")), validator)


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.integers(min_value=0, max_value=999), min_size=7, max_size=7),
       keep=st.lists(st.booleans(), min_size=7, max_size=7).filter(any))
def test_iso8601_durations_are_valid(parts: list[int], keep: list[bool]) -> None:
    validator = Draft202012Validator(schema())
    units = ["Y", "M", "W", "D", "H", "M", "S"]
    date_part = "".join(f"{n}{u}" for n, u, k in zip(parts[:4], units[:4], keep[:4]) if k)
    time_part = "".join(f"{n}{u}" for n, u, k in zip(parts[4:], units[4:], keep[4:]) if k)
    text = "P" + date_part + ("T" + time_part if time_part else "")
    assert _agree(_with("duration", text), validator)


# --- the JSON-LD context ---------------------------------------------------------------------


def _property_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                names.update(value)
            names |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names(value)
    return names


def _type_names(node: Any) -> set[str]:
    """The values the schema allows for a ``type`` property."""
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "type" and isinstance(value, dict):
                names.update(value.get("enum", []))
                if "const" in value:
                    names.add(value["const"])
                if isinstance(value.get("items"), dict):
                    names.add(value["items"]["const"])
            names |= _type_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _type_names(value)
    return names


def _expand(term: Any, terms: dict[str, Any]) -> str:
    iri = term["@id"] if isinstance(term, dict) else term
    prefix, _, local = iri.partition(":")
    return str(terms[prefix]) + local if prefix in terms else str(iri)


def test_the_context_defines_every_field_and_type_of_the_schema() -> None:
    terms = rdf.context()["@context"]
    fields = _property_names(schema()) - {"@context"}
    assert fields - set(terms) == set()
    assert _type_names(schema()) - set(terms) == set()


def test_context_terms_are_the_schema_org_terms_of_the_same_name() -> None:
    """Aligned with AMB, whose context maps every term through "@vocab": "http://schema.org/".

    But ``duration``: on a LearningResource it is LRMI's ``schema:timeRequired`` (issue 11,
    item 14: ``schema:duration``'s domain is media objects and events).
    """
    terms = rdf.context()["@context"]
    for name, term in terms.items():
        if name.startswith("@") or name in {"schema", "skos", "xsd", "id", "type"}:
            continue
        expected = (str(SKOS_NS) if name in {"prefLabel", "Concept"} else str(SCHEMA_NS)) + (
            "timeRequired" if name == "duration" else name)
        assert _expand(term, terms) == expected, name
    assert terms["name"]["@container"] == "@language"
    assert terms["prefLabel"]["@container"] == "@language"


def test_context_returns_a_fresh_copy() -> None:
    first = rdf.context()
    first["@context"]["name"] = "spoiled"
    assert rdf.context()["@context"]["name"]["@id"] == "schema:name"


def test_json_ld_processing_never_fetches_the_records_context() -> None:
    """The record names a context nothing serves (loopback port 9, 'discard'); it is replaced."""
    record = load(RECORDS / "valid" / "record-md-example.json")
    for named in ("http://127.0.0.1:9/context.jsonld",
                  ["http://127.0.0.1:9/context.jsonld", {"@language": "en"}]):
        graph = rdf.record_to_graph({**record, "@context": named})
        subject = URIRef(record["id"])
        assert (subject, RDF.type, SCHEMA_NS.LearningResource) in graph
        assert (subject, SCHEMA_NS.name, Literal("Introduction to Fractions", lang="en")) in graph
        assert record["@context"] == "https://catalog.example.org/context.jsonld"  # unchanged


# --- RDF and the SHACL shapes ----------------------------------------------------------------


def _check_round_trip(record: dict[str, Any], graph: Graph) -> None:
    subject = URIRef(record["id"])
    assert (subject, RDF.type, SCHEMA_NS.LearningResource) in graph
    names = set(graph.objects(subject, SCHEMA_NS.name))
    assert names == {Literal(text) if lang == "@none" else Literal(text, lang=lang)
                     for lang, text in record["name"].items()}
    if "license" in record:
        assert (subject, SCHEMA_NS.license, URIRef(record["license"]["id"])) in graph
    for field in CONCEPT_FIELDS:
        for concept in record.get(field, []):
            iri = URIRef(concept["id"])
            assert (subject, SCHEMA_NS[field], iri) in graph
            assert {Literal(text) if lang == "@none" else Literal(text, lang=lang)
                    for lang, text in concept["prefLabel"].items()} <= set(
                graph.objects(iri, SKOS_NS.prefLabel))
    for field in AGENT_FIELDS:
        agents = list(graph.objects(subject, SCHEMA_NS[field]))
        assert len(agents) == len({json.dumps(a, sort_keys=True) for a in record.get(field, [])})
    for entry in record["mainEntityOfPage"]:
        page = URIRef(entry["id"])
        assert (subject, SCHEMA_NS.mainEntityOfPage, page) in graph
        assert (page, SCHEMA_NS.provider, URIRef(entry["provider"]["id"])) in graph
        assert (page, SCHEMA_NS.sdDatePublished,
                Literal(entry["sdDatePublished"], datatype=XSD.dateTime)) in graph
        assert (page, SCHEMA_NS.dateModified, _typed_date(entry["dateModified"])) in graph
    for field in ("dateCreated", "datePublished", "dateModified"):
        if field in record:
            assert set(graph.objects(subject, SCHEMA_NS[field])) == {_typed_date(record[field])}
    if "duration" in record:
        (required,) = graph.objects(subject, SCHEMA_NS.timeRequired)
        assert required.datatype == XSD.duration and _days(required) == _days(record["duration"])
    assert not set(graph.objects(subject, SCHEMA_NS.duration))
    for field in CONCEPT_FIELDS:
        for concept in record.get(field, []):
            assert (URIRef(concept["id"]), RDF.type, SKOS_NS.Concept) in graph
    again = Graph().parse(data=graph.serialize(format="turtle"), format="turtle")
    assert isomorphic(graph, again)


def _typed_date(value: str) -> Literal:
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}.get(len(value), XSD.dateTime)
    return Literal(value, datatype=datatype)


def _days(value: Any) -> str:
    """A duration's lexical form with weeks as days (xsd:duration has no weeks)."""
    match = re.match(r"^P((?:[0-9]+Y)?(?:[0-9]+M)?)([0-9]+)W(?:([0-9]+)D)?", str(value))
    if match is None:
        return str(value)
    return f"P{match.group(1)}{int(match.group(2)) * 7 + int(match.group(3) or 0)}D" + \
        str(value)[match.end():]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_examples_as_rdf_conform_to_the_shapes_and_round_trip(path: Path) -> None:
    record = load(path)
    before = copy.deepcopy(record)
    graph = rdf.record_to_graph(record)
    assert record == before
    ok, report = rdf.conforms(graph)
    assert ok, report
    _check_round_trip(record, graph)


def test_all_valid_examples_in_one_graph_conform() -> None:
    """A dump holds many records: shared concepts, people and members must not clash."""
    graph = Graph()
    for path in VALID:
        rdf.record_to_graph(load(path), graph)
    ok, report = rdf.conforms(graph)
    assert ok, report


# Random valid records: whatever the JSON Schema accepts must conform to the shapes.

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12).filter(
    lambda t: not t.isspace())
_TAGS = st.sampled_from(["@none", "en", "en-GB", "zh", "zh-Hans-CN", "ar", "ru", "fr", "es-419",
                         "sr-Latn"])
_IRIS = st.sampled_from(["https://w3id.org/kim/isced-2011/level1",
                         "http://data.europa.eu/esco/isced-f/0541",
                         "https://orcid.org/0000-0002-1825-0097", "https://ror.org/02mhbdp94",
                         "urn:isbn:978-3-16-148410-0", "https://example.org/x?a=1&b=%C3%A9#frag",
                         "https://例え.jp/教材"])
_LANGUAGE_MAP = st.dictionaries(_TAGS, _TEXT, min_size=1, max_size=4)
_CONCEPTS = st.lists(st.fixed_dictionaries({"id": _IRIS, "prefLabel": _LANGUAGE_MAP}),
                     min_size=1, max_size=3)
_AFFILIATION = st.fixed_dictionaries({"type": st.just("Organization"), "name": _TEXT},
                                     optional={"id": _IRIS})
_AGENTS = st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from(["Person", "Organization"]), "name": _TEXT},
    optional={"id": _IRIS, "affiliation": _AFFILIATION, "email": st.just("a@b.example"),
              "telephone": _TEXT, "address": _TEXT}), min_size=1, max_size=3)
_DATES = st.sampled_from(["2019", "2020-02", "2020-02-29", "2024-01-02T10:00:00Z",
                          "2024-01-02T10:00:00.5+05:30"])
_PROVENANCE = st.fixed_dictionaries({
    "id": _IRIS, "type": st.just("WebPage"),
    "provider": st.fixed_dictionaries({
        "id": st.sampled_from(["https://catalog.example.org/members/ouc",
                               "https://catalog.example.org/members/qc.rea-2"]),
        "type": st.just("Organization"), "name": _TEXT}),
    "identifier": _TEXT, "dateModified": _DATES,
    "sdDatePublished": st.sampled_from(["2024-01-03T08:00:00Z", "2024-01-03T08:00:00-03:00"])})
_RECORDS = st.fixed_dictionaries(
    {"@context": st.just("https://catalog.example.org/context.jsonld"),
     "id": st.uuids().map(lambda u: f"https://catalog.example.org/resources/{u}"),
     "type": st.just(["LearningResource"]), "name": _LANGUAGE_MAP,
     "mainEntityOfPage": st.lists(_PROVENANCE, min_size=1, max_size=3)},
    optional={"url": _IRIS, "image": _IRIS, "identifier": st.lists(_TEXT, min_size=1, max_size=3),
              "description": _LANGUAGE_MAP, "copyrightNotice": _LANGUAGE_MAP,
              "keywords": st.dictionaries(_TAGS, st.lists(_TEXT, min_size=1, max_size=3),
                                          min_size=1),
              "inLanguage": st.lists(_TAGS.filter(lambda t: t != "@none"), min_size=1,
                                     max_size=3),
              "license": st.sampled_from([{"id": "https://creativecommons.org/licenses/by/4.0/"},
                                          {"id": "https://www.gnu.org/licenses/gpl-3.0.html"}]),
              "learningResourceType": _CONCEPTS, "educationalLevel": _CONCEPTS,
              "audience": _CONCEPTS, "about": _CONCEPTS,
              "creator": _AGENTS, "contributor": _AGENTS, "publisher": _AGENTS,
              "dateCreated": _DATES, "datePublished": _DATES, "dateModified": _DATES,
              "duration": st.sampled_from(["PT1H30M", "P2W", "P1DT12H", "PT0.5S"]),
              "encodingFormat": st.just(["text/html"]), "isAccessibleForFree": st.booleans(),
              "typicalAgeRange": st.sampled_from(["9-11", "18-"])})


@settings(max_examples=25, deadline=None)
@given(record=_RECORDS)
def test_records_valid_by_the_json_schema_conform_to_the_shapes(record: dict[str, Any]) -> None:
    assert Draft202012Validator(schema()).is_valid(record) and is_valid_record(record)
    ok, report = rdf.conforms(rdf.record_to_graph(record))
    assert ok, report


def _example_graph() -> tuple[Graph, URIRef]:
    record = load(RECORDS / "valid" / "record-md-example.json")
    return rdf.record_to_graph(record), URIRef(record["id"])


def _no_name(g: Graph, s: URIRef) -> None:
    g.remove((s, SCHEMA_NS.name, None))


def _two_english_names(g: Graph, s: URIRef) -> None:
    g.add((s, SCHEMA_NS.name, Literal("Fractions for beginners", lang="en")))


def _licence_literal(g: Graph, s: URIRef) -> None:
    g.remove((s, SCHEMA_NS.license, None))
    g.add((s, SCHEMA_NS.license, Literal("CC BY-SA 4.0")))


def _concept_without_label(g: Graph, s: URIRef) -> None:
    g.add((s, SCHEMA_NS.about, URIRef("http://data.europa.eu/esco/isced-f/0611")))


def _agent_of_another_type(g: Graph, s: URIRef) -> None:
    agent = BNode()  # untyped is allowed (no evidence of either); a wrong type is not
    g.add((s, SCHEMA_NS.contributor, agent))
    g.add((agent, RDF.type, SCHEMA_NS.Place))
    g.add((agent, SCHEMA_NS.name, Literal("Anonymous")))


def _provider_without_name(g: Graph, s: URIRef) -> None:
    g.remove((URIRef("https://catalog.example.org/members/ouc"), SCHEMA_NS.name, None))


def _zone_less_date_time(g: Graph, s: URIRef) -> None:
    g.add((s, SCHEMA_NS.dateModified, Literal("2024-01-02T10:00:00")))


def _unknown_property(g: Graph, s: URIRef) -> None:
    g.add((s, SCHEMA_NS.headline, Literal("Fractions")))


@pytest.mark.parametrize(("spoil", "component"), [
    (_no_name, "MinCount"), (_two_english_names, "UniqueLang"), (_licence_literal, "NodeKind"),
    (_concept_without_label, "MinCount"), (_agent_of_another_type, "Or"),
    (_provider_without_name, "MinCount"), (_zone_less_date_time, "Pattern"),
    (_unknown_property, "Closed"),
], ids=lambda v: v.__name__.lstrip("_") if callable(v) else "")
def test_the_shapes_reject_broken_graphs(spoil: Any, component: str) -> None:
    graph, subject = _example_graph()
    spoil(graph, subject)
    ok, report = rdf.conforms(graph)
    assert not ok
    assert f"Constraint Violation in {component}ConstraintComponent" in report, report


def _portable(pattern: str) -> str:
    """A JSON Schema pattern as written in the shapes: no newline guard, plain groups."""
    return pattern.removesuffix("(?!\\n)").replace("(?:", "(")


def test_the_shapes_check_lexical_forms_with_the_schemas_regexes() -> None:
    definitions, properties = schema()["$defs"], schema()["properties"]
    expected = {_portable(p) for p in (
        # Not the duration's: the RDF writes weeks as days (xsd:duration has no weeks).
        definitions["date"]["pattern"], definitions["dateTime"]["pattern"],
        definitions["languageTag"]["pattern"],
        definitions["agent"]["properties"]["email"]["pattern"],
        properties["typicalAgeRange"]["pattern"], properties["encodingFormat"]["items"]["pattern"])}
    shapes = Graph().parse(data=(files("eduxchange.schemas") / "shapes.ttl").read_text("utf-8"),
                           format="turtle")
    in_shapes = {str(o) for o in shapes.objects(None, SH.pattern)}
    assert expected <= in_shapes
    for pattern in in_shapes:
        assert "(?" not in pattern, pattern  # XPath regular expressions have no (?...) groups
        re.compile(pattern)
