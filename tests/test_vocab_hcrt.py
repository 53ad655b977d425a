"""The HCRT resource-type scheme beside LRMI (issue 11, item 12).

HCRT (https://w3id.org/kim/hcrt/scheme) is shipped as ``vocabularies/hcrt.ttl``, written by
``vocabularies/build_hcrt.py`` from the facts (IRIs, en/de/fr labels as published, our ar/zh/ru/es),
with its mapping table ``vocabularies/mappings/learningResourceType-hcrt.tsv``. A source term gives
the most specific concept (HCRT) and, where one fits, the LRMI concept.
"""

from __future__ import annotations

import importlib.util
import json
import re
import runpy
from pathlib import Path
from typing import Any

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

from eduxchange.crosswalks import crosswalk
from eduxchange.catalog.vocab import (
    EXTRA_SCHEMES,
    HCRT_SCHEME,
    SCHEMES,
    SOURCES,
    Vocabularies,
    VocabularyError,
    default_vocabularies,
)
from tests.support.standards import SKOHUB_SHAPES, standard

ROOT = Path(__file__).resolve().parents[1]
VOCABS = ROOT / "vocabularies"
HCRT = "https://w3id.org/kim/hcrt/"
LRT = "http://purl.org/dcx/lrmi-vocabs/learningResourceType/"
LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es", "de")
FIELD = "learningResourceType"


@pytest.fixture(scope="module")
def graph() -> rdflib.Graph:
    return rdflib.Graph().parse(VOCABS / "hcrt.ttl", format="turtle")


@pytest.fixture(scope="module")
def vocab() -> Vocabularies:
    return default_vocabularies()


def ids(vocab: Vocabularies, source: str, value: str) -> list[str]:
    return [c.id for c in vocab.map_term_all(FIELD, source, value)]


# ------------------------------------------------------------------ the scheme


def test_hcrt_is_an_extra_scheme_of_learning_resource_type() -> None:
    assert EXTRA_SCHEMES[FIELD] == (HCRT_SCHEME,)
    assert SCHEMES[FIELD] == LRT  # LRMI stays the field's main scheme


def test_scheme_uses_only_published_iris_and_is_flat(graph: rdflib.Graph) -> None:
    scheme = rdflib.URIRef(HCRT_SCHEME)
    assert set(graph.subjects(RDF.type, SKOS.ConceptScheme)) == {scheme}
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    # The 26 concepts HCRT publishes, all top concepts (the scheme is flat).
    assert len(concepts) == 26
    assert {str(c)[len(HCRT):] for c in concepts} >= {
        "video", "audio", "image", "map", "simulation", "drill_and_practice", "worksheet", "course",
        "slide", "text", "textbook", "assessment", "questionnaire", "educational_game", "other"}
    for concept in concepts:
        assert re.fullmatch(re.escape(HCRT) + r"[a-z_]+", str(concept)), concept
        assert (concept, SKOS.inScheme, scheme) in graph
        assert (concept, SKOS.topConceptOf, scheme) in graph
        assert (scheme, SKOS.hasTopConcept, concept) in graph
    for node in graph.all_nodes():
        if isinstance(node, rdflib.URIRef) and str(node).startswith(HCRT):
            assert node in concepts or node == scheme, node


def test_every_concept_has_one_label_in_the_seven_languages(graph: rdflib.Graph) -> None:
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        labels: dict[str, list[str]] = {}
        for label in graph.objects(concept, SKOS.prefLabel):
            assert isinstance(label, rdflib.Literal) and label.language
            assert str(label) == str(label).strip() and str(label)
            labels.setdefault(label.language, []).append(str(label))
        assert sorted(labels) == sorted(LANGUAGES), concept
        assert all(len(v) == 1 for v in labels.values()), (concept, labels)
    # The published labels are kept (en, de, fr).
    video = rdflib.URIRef(HCRT + "drill_and_practice")
    assert {(str(o), o.language) for o in graph.objects(video, SKOS.prefLabel)  # type: ignore[attr-defined]
            } >= {("Drill and Practice", "en"), ("Übung", "de"), ("Exercice", "fr")}


def test_shipped_file_is_what_the_build_script_writes() -> None:
    module = runpy.run_path(str(VOCABS / "build_hcrt.py"))
    assert module["build"]() == (VOCABS / "hcrt.ttl").read_text(encoding="utf-8")


def test_facts_agree_with_the_published_scheme() -> None:
    """IRIs and en/de labels against HCRT's own file (standards folder; not committed)."""
    published = rdflib.Graph().parse(standard("skos/hcrt/hcrt.ttl"), format="turtle")
    ours = rdflib.Graph().parse(VOCABS / "hcrt.ttl", format="turtle")
    concepts = set(published.subjects(RDF.type, SKOS.Concept))
    assert concepts == set(ours.subjects(RDF.type, SKOS.Concept))
    for concept in concepts:
        for lang in ("en", "de"):
            theirs = {str(o).strip() for o in published.objects(concept, SKOS.prefLabel)
                      if o.language == lang}  # type: ignore[attr-defined]
            mine = {str(o) for o in ours.objects(concept, SKOS.prefLabel)
                    if o.language == lang}  # type: ignore[attr-defined]
            assert mine == theirs, (concept, lang)


@pytest.mark.skipif(importlib.util.find_spec("pyshacl") is None, reason="pyshacl not installed")
def test_scheme_conforms_to_the_skohub_shapes(graph: rdflib.Graph) -> None:
    import pyshacl

    shapes = rdflib.Graph().parse(standard(SKOHUB_SHAPES), format="turtle")
    conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes, allow_warnings=True)
    assert conforms, text


def test_concepts_are_loaded(vocab: Vocabularies) -> None:
    concepts = vocab.concepts(HCRT_SCHEME)
    assert len(concepts) == 26
    video = vocab.concept(HCRT + "video")
    assert video is not None and video.scheme == HCRT_SCHEME
    assert set(video.pref_label) == set(LANGUAGES)
    assert vocab.concept("http://w3id.org/kim/hcrt/video/") == video  # http, trailing slash
    # The field's concepts (as before) are LRMI's.
    assert {c.scheme for c in vocab.concepts(FIELD)} == {LRT}


# ------------------------------------------------------------------ the table


def _rows() -> list[tuple[int, list[str]]]:
    lines = (VOCABS / "mappings" / "learningResourceType-hcrt.tsv").read_text("utf-8").splitlines()
    assert lines[0] == "source\tvalue\tconcept"
    return [(n, line.split("\t")) for n, line in enumerate(lines[1:], start=2)
            if line.strip() and not line.startswith("#")]


def test_every_row_is_well_formed_and_maps_back(vocab: Vocabularies, graph: rdflib.Graph) -> None:
    concepts = {str(c) for c in graph.subjects(RDF.type, SKOS.Concept)}
    rows = _rows()
    assert len(rows) > 400
    for number, cells in rows:
        assert len(cells) == 3, (number, cells)
        source, value, concept = cells
        assert source in SOURCES and value == value.strip() and value, (number, cells)
        assert concept in concepts, (number, concept)
        found = vocab.map_term_all(FIELD, source, value)
        assert found and found[0].id == concept, (number, value, found)


@pytest.mark.parametrize(("source", "value", "expected"), [
    # The most specific concept first, the LRMI one where it fits.
    ("LOMv1.0", "exercise", [HCRT + "drill_and_practice", LRT + "assessmentItem"]),
    ("LOMv1.0", "simulation", [HCRT + "simulation"]),  # LRMI has no concept for it
    ("LOMv1.0", "figure", [HCRT + "image", LRT + "supportingDocument"]),
    ("LOMv1.0", "lecture", [LRT + "recordedLesson"]),  # HCRT: a video, audio or notes?
    ("DCMIType", "MovingImage", [HCRT + "video", LRT + "recordedLesson"]),
    ("DCMIType", "Sound", [HCRT + "audio", LRT + "recordedLesson"]),
    ("DCMIType", "StillImage", [HCRT + "image", LRT + "supportingDocument"]),
    ("DCMIType", "Dataset", [HCRT + "data"]),
    ("text", "video", [HCRT + "video", LRT + "recordedLesson"]),
    ("text", "Erklärvideo", [HCRT + "video", LRT + "recordedLesson"]),
    ("text", "podcast", [HCRT + "audio", LRT + "recordedLesson"]),
    ("text", "Landkarte", [HCRT + "map"]),
    ("text", "map", [HCRT + "map", LRT + "supportingDocument"]),
    ("text", "Arbeitsblatt", [HCRT + "worksheet", LRT + "activityPlan"]),
    ("text", "MOOC", [HCRT + "course", LRT + "unitPlan"]),
    ("text", "Kurs", [HCRT + "course", LRT + "unitPlan"]),
    ("text", "diaporama", [HCRT + "slide", LRT + "supportingDocument"]),
    ("text", "quiz", [HCRT + "assessment", LRT + "assessment"]),
    ("text", "simulação", [HCRT + "simulation"]),
    ("text", "视频", [HCRT + "video", LRT + "recordedLesson"]),
    ("text", "Видео", [HCRT + "video", LRT + "recordedLesson"]),  # HCRT's own ru label
    ("HCRT", "worksheet", [HCRT + "worksheet", LRT + "activityPlan"]),
    ("uri", HCRT + "video", [HCRT + "video", LRT + "recordedLesson"]),
    ("uri", "http://w3id.org/openeduhub/vocabs/learningResourceType/audiovisual_medium",
     [HCRT + "video", LRT + "recordedLesson"]),
    ("uri", LRT + "lessonPlan", [LRT + "lessonPlan"]),  # an LRMI IRI stays itself
])
def test_golden_mappings(vocab: Vocabularies, source: str, value: str, expected: list[str]) -> None:
    assert ids(vocab, source, value) == expected


@pytest.mark.parametrize(("source", "value"), [
    ("text", "lesson"), ("text", "animation"), ("text", "score"), ("DCMIType", "InteractiveResource"),
    ("LOMv1.0", "table"), ("uri", "https://w3id.org/kim/isced-2011/level1"), ("text", "  "),
])
def test_documented_gaps(vocab: Vocabularies, source: str, value: str) -> None:
    assert not [i for i in ids(vocab, source, value) if i.startswith(HCRT)]


def test_apply_fills_both_schemes_and_reports_only_what_neither_maps(vocab: Vocabularies) -> None:
    out, unmapped = vocab.apply({"type": ["LearningResource"], "_terms": {FIELD: [
        ("LOMv1.0", "simulation"), ("text", "video"), ("text", "blub")]}})
    assert [c["id"] for c in out[FIELD]] == [HCRT + "simulation", HCRT + "video", LRT + "recordedLesson"]
    assert out[FIELD][1]["prefLabel"]["de"] == "Video" and out[FIELD][1]["prefLabel"]["ar"] == "فيديو"
    assert unmapped == [(FIELD, "text", "blub")]


def test_member_tables_may_map_into_hcrt(tmp_path: Path) -> None:
    table = tmp_path / "learningResourceType.tsv"
    table.write_text("source\tvalue\tconcept\ntext\tErklärfilm\t" + HCRT + "video\n"
                     "text\tblub\t" + LRT + "textbook\n", encoding="utf-8")
    vocab = Vocabularies.load([table])
    assert ids(vocab, "text", "Erklärfilm") == [HCRT + "video"]
    assert ids(vocab, "text", "blub") == [LRT + "textbook"]
    bad = tmp_path / "audience.tsv"
    bad.write_text("source\tvalue\tconcept\ntext\tx\t" + HCRT + "video\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="audience"):
        Vocabularies.load([bad])


# ------------------------------------------------------------------ real records


def _amb(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        standard(f"json_profiles/amb/draft/examples/valid/{name}").read_text(encoding="utf-8"))
    return data


AMB_WITH_HCRT = ("highered-course-part.json", "highered-figure.json", "learningResourceType.json",
                 "learningResourceType-with-other-vocabulary.json", "videoWithEncodings.json",
                 "tutoryExample.json", "conceptsWithMultilingualLabels.json")


@pytest.mark.parametrize("name", AMB_WITH_HCRT)
def test_amb_examples_keep_their_hcrt_types_and_gain_lrmi(vocab: Vocabularies, name: str) -> None:
    example = _amb(name)
    wanted = [t["id"] for t in example["learningResourceType"] if t["id"].startswith(HCRT)]
    assert wanted, name
    out, unmapped = vocab.apply(crosswalk(example))
    got = [c["id"] for c in out[FIELD]]
    assert [i for i in got if i.startswith(HCRT)] == wanted
    assert any(i.startswith(LRT) for i in got)  # LRMI filled where it fits
    # Every HCRT concept carries the seven languages' labels.
    assert all(len(c["prefLabel"]) == len(LANGUAGES) for c in out[FIELD] if c["id"].startswith(HCRT))
    assert not [u for u in unmapped if u[0] == FIELD and u[2].startswith(HCRT)]


def test_obaa_and_zenodo_types_map_to_hcrt(vocab: Vocabularies) -> None:
    from tests.test_formats_real_records import records

    found: dict[str, list[str]] = {}
    for relative in ("real_records/inroa/oai_obaa.xml", "real_records/oaipmh-scythe/list_records_4.xml"):
        for record in records(relative):
            out, _ = vocab.apply(crosswalk(record))
            for concept in out.get(FIELD, []):
                found.setdefault(relative.rsplit("/", 1)[1], []).append(concept["id"])
    # OBAA's <learningResourceType>Simulacao</...> (LOM-BR writes Portuguese values).
    assert HCRT + "simulation" in found["oai_obaa.xml"]
    # Zenodo: resourceTypeGeneral Text and "Presentation", Dataset, Audiovisual...
    zenodo = found["list_records_4.xml"]
    assert {HCRT + "text", HCRT + "slide", HCRT + "data"} <= set(zenodo)


def test_lom_writer_writes_hcrt_concepts_back_as_lom_values_once(vocab: Vocabularies) -> None:
    from lxml import etree

    from eduxchange.publish.writers.lom import LOM_NS, write_lom
    from tests.support.standards import xml_schema

    out, _ = vocab.apply({"type": ["LearningResource"], "name": {"en": "x"}, "_terms": {FIELD: [
        ("LOMv1.0", "exercise"), ("LOMv1.0", "simulation"), ("text", "video")]}})
    assert [c["id"] for c in out[FIELD]] == [
        HCRT + "drill_and_practice", LRT + "assessmentItem", HCRT + "simulation", HCRT + "video",
        LRT + "recordedLesson"]
    lom = write_lom({"id": "https://catalog.example.org/resources/1", **out})
    ns = {"lom": LOM_NS}
    written = [(e.findtext("lom:source", namespaces=ns), e.findtext("lom:value", namespaces=ns))
               for e in lom.iterfind("lom:educational/lom:learningResourceType", ns)]
    assert written == [("LOMv1.0", "exercise"), ("LOMv1.0", "simulation"),
                       (HCRT_SCHEME, "Video"), ("LOMv1.0", "lecture")]
    xml_schema("lom").assertValid(etree.ElementTree(lom))
