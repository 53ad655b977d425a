"""The oai_dc and LOM writers render text that is byte for byte lxml's serialization (issue 10).

``WRITERS[prefix].render(record)`` writes the metadata as text (publish/writers/_xml.py) instead
of building an lxml tree; the oracle is that tree, as the writers built it up to version 1,
kept in tests/support/lxml_writers.py: ``etree.tostring(tree, encoding="UTF-8")``. Compared
over every code point (as text and as an attribute value), the golden records the version test
pins, the records of the real-records corpus as the pipeline crosswalks them, and hypothesis'
hostile records (XML-special and control characters, CR, lone surrogates, U+FFFE, RTL, CJK,
emoji, long strings, hostile language keys); what the oracle refuses, the renderer refuses.
Every rendered document parses, ``write`` gives the same tree, and the golden and real records'
documents are valid against the official schemas where the standards folder has them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from eduxchange.catalog.merge import Ranked, merge_descriptions
from eduxchange.publish.writers import WRITERS
from eduxchange.publish.writers._xml import attr, document, element, leaf
from eduxchange.publish.writers.lom import lom_vocab_values
from tests.support import real_corpus
from tests.support.lxml_writers import lxml_render
from tests.support.standards import absent_param, standards_dir, xml_schema

FIXTURES = Path(__file__).parent / "fixtures" / "records"
GOLDEN = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))
PREFIXES = ("oai_dc", "lom")
BASE = "https://catalog.example.org/"


def _outcome(render: Callable[[], bytes]) -> bytes | str:
    """The bytes, or the name of the exception raised (a lone surrogate's UnicodeEncodeError and
    a refused character's ValueError are both "ValueError": which comes first depends on the
    order the values are checked in, and both say the record cannot be written)."""
    try:
        return render()
    except UnicodeEncodeError:
        return "ValueError"
    except Exception as err:  # any other failure must be the same on both sides
        return type(err).__name__


def assert_renders_as_lxml(record: Any) -> dict[str, bytes]:
    """Both paths agree for ``record`` in each format; the documents written, by prefix."""
    written = {}
    for prefix in PREFIXES:
        old = _outcome(lambda: lxml_render(prefix, record))
        new = _outcome(lambda: WRITERS[prefix].render(record))
        assert new == old, prefix
        if isinstance(new, bytes):
            tree = WRITERS[prefix].write(record)  # the public element: the same document
            assert etree.tostring(tree, encoding="UTF-8") == new
            written[prefix] = new
    return written


# -- characters ---------------------------------------------------------------------------------

def _lxml_text(text: str) -> bytes | str:
    def render() -> bytes:
        node = etree.Element("a")
        node.text = text
        data: bytes = etree.tostring(node, encoding="UTF-8")
        return data
    return _outcome(render)


def _lxml_attr(value: str) -> bytes | str:
    def render() -> bytes:
        node = etree.Element("a")
        node.set("l", value)
        data: bytes = etree.tostring(node, encoding="UTF-8")
        return data
    return _outcome(render)


def test_every_code_point_is_written_as_lxml_writes_it() -> None:
    # One by one in the BMP (where every refused character and every escape is) ...
    for code in range(0x10000):
        char = chr(code)
        assert _outcome(lambda: document(leaf("a", char))) == _lxml_text(char), hex(code)
        assert (_outcome(lambda: document(element("a", [], attr("l", char))))
                == _lxml_attr(char)), hex(code)
    # ... and every supplementary-plane character at once: UTF-8, unescaped.
    astral = "".join(map(chr, range(0x10000, 0x110000)))
    assert document(leaf("a", astral)) == _lxml_text(astral) == f"<a>{astral}</a>".encode()
    assert document(element("a", [], attr("l", astral))) == _lxml_attr(astral)


def test_empty_elements_and_texts_are_written_as_lxml_writes_them() -> None:
    assert document(element("a", [])) == etree.tostring(etree.Element("a"))
    node = etree.Element("a")
    node.text = ""
    assert document(leaf("a", "")) == etree.tostring(node) == b"<a></a>"


def test_a_value_lxml_refuses_is_refused_with_its_error() -> None:
    with pytest.raises(ValueError, match="All strings must be XML compatible"):
        WRITERS["lom"].render({"id": "https://catalog.example.org/resources/1",
                               "name": {"en": "bell \x07"}})
    with pytest.raises(UnicodeEncodeError):
        WRITERS["oai_dc"].render({"name": {"en": "half a pair \ud83d"}})
    with pytest.raises(TypeError):
        document(leaf("a", 5))  # type: ignore[arg-type]


# -- the golden records, the invalid examples -------------------------------------------------

@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_records_render_as_lxml_and_are_valid(path: Path) -> None:
    written = assert_renders_as_lxml(json.loads(path.read_text(encoding="utf-8")))
    assert set(written) == set(PREFIXES)
    if standards_dir() is None:
        pytest.skip("the standards folder is absent: rendered, not validated against the schemas")
    for prefix, data in written.items():
        xml_schema(prefix).assertValid(etree.ElementTree(etree.fromstring(data)))


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_records_of_the_wrong_shape_render_or_fail_as_with_lxml(path: Path) -> None:
    # The JSON Schema's invalid examples: strings for lists, maps for strings, ...
    assert_renders_as_lxml(json.loads(path.read_text(encoding="utf-8")))


# -- the real-records corpus --------------------------------------------------------------------

def _sources() -> list[Any]:
    folder = standards_dir()
    if folder is None:
        return [absent_param("real_records/README.md", "")]
    return [s for s in real_corpus.source_files(folder) if s.startswith("real_records/")]


@pytest.mark.parametrize("relative", _sources())
def test_real_records_render_as_lxml_and_are_valid(relative: str) -> None:
    folder = standards_dir()
    assert folder is not None
    schemas = {prefix: xml_schema(prefix) for prefix in PREFIXES}
    for n, stored in enumerate(real_corpus.records(folder, relative)):
        if stored.deleted or stored.raw is None:
            continue
        described = real_corpus.describe_record(stored)
        if described.description is None:
            continue  # not crosswalked at all: nothing to write
        # What normalization renders: the description merged into a catalogue record.
        record = merge_descriptions(
            [Ranked(description=described.description, format_rank=1, member_id="real",
                    identifier=stored.identifier)],
            record_id=f"{BASE}resources/{n}",
            context=f"{BASE}context.jsonld")
        written = assert_renders_as_lxml(record)
        assert set(written) == set(PREFIXES), stored.identifier
        for prefix, data in written.items():
            schemas[prefix].assertValid(etree.ElementTree(etree.fromstring(data)))


# -- hostile records ----------------------------------------------------------------------------

WORDS = ["linear algebra", "Jürgen Müller", "François, Lefèvre; Jr.", "שלום עולם", "الرياضيات",
         "数学", "日本語のテキスト", "한국어", "😀", "👩🏽‍💻", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u202eevil\u202c", "a\\b",
         "P2W", "2024-01-02T03:04:05Z", "https://doi.org/10.1000/x&y", "urn:isbn:978-3-16",
         "https://hdl.handle.net/1/2", "  ", ""]
XML_SPECIAL = ["&", "<", ">", '"', "'", "\r", "\n", "\t", "\r\n", "]]>", "&amp;", "&#13;", "<![CDATA[",
               "\u0085", "\u2028", "\x7f", "\x9f", "\ufeff", "\ufffd"]
REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800", "\udfff"]


def _texts(*, refused: bool) -> st.SearchStrategy[str]:
    fragment = st.one_of(st.sampled_from(WORDS), st.sampled_from(XML_SPECIAL),
                         st.characters(exclude_categories=("Cs", "Cc")),
                         *([st.sampled_from(REFUSED)] if refused else []))
    short = st.lists(fragment, max_size=8).map("".join)
    long = st.builds(lambda part, n: part * n, st.sampled_from(WORDS + XML_SPECIAL),
                     st.integers(200, 3000))
    return st.one_of(short, short, short, long)


def _concept_ids() -> list[str]:
    """Concept IRIs the LOM writer maps back to LOMv1.0 values, and some it writes by label."""
    ids = [iri for field in ("learningResourceType", "audience", "educationalLevel")
           for iri in sorted(lom_vocab_values(field))[:6]]
    return ids + ["http://data.europa.eu/esco/isced-f/0541", "https://w3id.org/kim/isced-2011/level6",
                  "http://purl.org/dcx/lrmi-vocabs/learningResourceType/lessonPlan"]


def _records(*, refused: bool) -> st.SearchStrategy[dict[str, Any]]:
    text = _texts(refused=refused)
    lang = st.one_of(st.sampled_from(["en", "de", "ar", "he", "zh-Hans", "@none", "", 'x-"q"',
                                      "a&b", "<t>", "tab\tline\nbreak\r"]), text)
    langmap = st.dictionaries(lang, text, max_size=3)
    words = st.dictionaries(lang, st.one_of(text, st.lists(text, max_size=3)), max_size=3)
    agent = st.fixed_dictionaries({"name": text}, optional={
        "type": st.sampled_from(["Person", "Organization", "Thing"]), "id": text, "email": text,
        "telephone": text, "address": text, "affiliation": st.fixed_dictionaries({"name": text})})
    concept = st.fixed_dictionaries({"id": st.one_of(st.sampled_from(_concept_ids()), text)},
                                    optional={"prefLabel": langmap})
    agents, concepts = st.lists(agent, max_size=2), st.lists(concept, max_size=3)
    date = st.one_of(st.sampled_from(["2019-02-07", "2024-01-02T03:04:05Z",
                                      "2024-01-02T03:04:05.5+01:00", "2024"]), text)
    return st.fixed_dictionaries({"id": text}, optional={
        "name": langmap, "description": langmap, "keywords": words, "copyrightNotice": langmap,
        "creator": agents, "publisher": agents, "contributor": agents,
        "dateCreated": date, "datePublished": date, "identifier": st.lists(text, max_size=3),
        "url": text, "inLanguage": st.lists(text, max_size=2),
        "encodingFormat": st.lists(text, max_size=2),
        "duration": st.one_of(st.sampled_from(["P2W", "PT1H30M", "P1Y2M3DT4H5M6.5S"]), text),
        "learningResourceType": concepts, "audience": concepts, "educationalLevel": concepts,
        "about": concepts, "typicalAgeRange": text,
        "license": st.one_of(st.fixed_dictionaries({"id": text}), text),
        "isAccessibleForFree": st.booleans()})


_HOSTILE = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_HOSTILE
@given(_records(refused=False))
def test_hostile_text_renders_as_lxml_and_parses(record: dict[str, Any]) -> None:
    written = assert_renders_as_lxml(record)
    assert set(written) == set(PREFIXES)  # nothing here is refused: both documents are written
    for data in written.values():
        etree.fromstring(data)


@_HOSTILE
@given(_records(refused=True))
def test_what_lxml_refuses_is_refused(record: dict[str, Any]) -> None:
    assert_renders_as_lxml(record)
