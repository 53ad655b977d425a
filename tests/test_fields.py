"""Issue 11, "Wrong fields" 1, 3-7: real records where the problem came from them, and properties.

1. typicalAgeRange (normalize/ages.py; the schema spells out min <= max);
3. one module of field rules for every crosswalk (crosswalks/common.py): equal match keys from
   LOM, DC and LRMI, one resource in the catalogue; LOM's landing page chosen as DC's;
4. several descriptions kept apart, untagged ones by the language identified in them;
5. doubly decoded UTF-8 repaired (ftfy), only where it is one;
6. language lists split, junk dropped;
7. the report of values without a concept leaves out values that were mapped.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree

import eduxchange
from eduxchange.catalog.normalization import describe, record_id_for
from eduxchange.core.config import MemberConfig
from eduxchange.crosswalks import crosswalk, metadata_element
from eduxchange.crosswalks.common import classify_identifier, description_map, pick_url
from eduxchange.demo.samples import MEMBERS, records_for
from eduxchange.catalog.merge import match_keys
from eduxchange.normalize.ages import MAX_HIGH, MAX_LOW, age_range, span
from eduxchange.normalize.languages import normalize_languages
from eduxchange.normalize.text import clean_text, repair_mojibake
from eduxchange.store.base import StoredRecord
from eduxchange.catalog.validate import validate_record
from eduxchange.catalog.vocab import default_vocabularies
from tests.conftest import ConfigMaker
from tests.support import real_corpus
from tests.support.faulty import serve_faulty
from tests.support.records import MemberRecord
from tests.support.standards import standard, standards_dir

PROPERTIES = settings(max_examples=300, deadline=None)


def corpus(relative: str) -> list[StoredRecord]:
    """The records of one real-corpus file (skips where the standards folder is absent)."""
    standard(relative)
    return _corpus(relative)


@functools.cache
def _corpus(relative: str) -> list[StoredRecord]:
    folder = standards_dir()
    assert folder is not None
    return real_corpus.records(folder, relative)


def corpus_record(relative: str, identifier: str) -> StoredRecord:
    found = [r for r in corpus(relative) if r.identifier == identifier]
    assert len(found) == 1, f"{identifier} is not (once) in {relative}"
    return found[0]


def described(record: StoredRecord) -> dict[str, Any]:
    outcome = real_corpus.describe_record(record)
    assert outcome.description is not None and not outcome.problems, outcome.problems
    return outcome.description


# ------------------------------------------------------------------ 1. typicalAgeRange

_AGE_FILES = ("real_records/inroa/cesta_complete.xml", "real_records/inroa/FEB-froac1.xml",
              "real_records/inroa/oai_obaa.xml", "real_records/inroa/froac.xml")

#: Values of real LOM records (CESTA, FROAC) and what the record must say.
REAL_AGES = {
    "14-100": "14-100", "22-100": "22-100", "15-80 anos": "15-80",  # read whole, not "14-10"
    "A partir de 14 anos.": "14-", ">15": "15-", "16 em diante": "16-",  # open stays open
    "a partir dos 15 anos": "15-", "10 anos ou mais": "10-", "Inicial 17 anos": "17-",
    "13 a 25 anos": "13-25", "4 - 9 anos": "4-9", "16 anos": "16-16",
    # FROAC (Spanish, lower-case LOM namespace)
    "18 - 80": "18-80", "18-100": "18-100", "18 años en adelante": "18-", "20 en adelante": "20-",
    "1 ano ensino médio": None, "Ensino Fundamental": None, "adulto": None, "sdfsf": None,
}


def _raw_ages(record: StoredRecord) -> list[str]:
    root = etree.fromstring(record.raw or b"")
    return [" ".join("".join(el.itertext()).split()) for el in root.iter()
            if isinstance(el.tag, str) and etree.QName(el).localname.lower() == "typicalagerange"]


@pytest.mark.parametrize(("raw", "expected"), REAL_AGES.items())
def test_real_typical_age_ranges(raw: str, expected: str | None) -> None:
    found = [r for f in _AGE_FILES for r in corpus(f) if raw in _raw_ages(r)]
    assert found, f"no real record has typicalAgeRange {raw!r}"
    for record in found:
        assert described(record).get("typicalAgeRange") == expected, record.identifier


@pytest.mark.parametrize(("value", "expected"), [
    # en
    ("9 - 11", "9-11"), ("ages 8 to 12", "8-12"), ("18+", "18-"), ("18 and over", "18-"),
    ("between 7 and 10", "7-10"), ("over 18", "18-"), ("12 years old", "12-12"),
    ("5th grade", None), ("grade 5", None), ("adults", None),
    # fr
    ("7 à 10 ans", "7-10"), ("à partir de 14 ans", "14-"), ("14 ans et plus", "14-"),
    ("de 6 à 8 ans", "6-8"), ("CM1", None),
    # es
    ("18 años en adelante", "18-"), ("de 6 a 12 años", "6-12"), ("mayores de 16", "16-"),
    ("1º de primaria", None),
    # ru
    ("от 14 лет", "14-"), ("7-10 лет", "7-10"), ("от 7 до 10 лет", "7-10"), ("5 класс", None),
    # zh
    ("14岁以上", "14-"), ("7至10岁", "7-10"), ("6到8岁", "6-8"), ("三年级", None),
    # ar (Arabic-Indic digits too)
    ("من 7 إلى 10 سنوات", "7-10"), ("١٤ سنة فما فوق", "14-"), ("الصف الثالث", None),
    # de
    ("ab 14 Jahren", "14-"), ("8 bis 12 Jahre", "8-12"), ("von 6 bis 10", "6-10"),
    ("Klasse 5", None), ("Mindestalter 12", "12-"),
    # pt
    ("entre 7 e 10 anos", "7-10"), ("acima de 18 anos", "18-"), ("3ª série", None),
    # not ages: backwards, years, too old, empty
    ("10-5", None), ("1990-2000", None), ("100", None), ("120", None), ("", None),
])
def test_age_phrases_in_eight_languages(value: str, expected: str | None) -> None:
    assert age_range(value) == expected


_SCHEMA_AGE = re.compile(r"^(\d{1,2})-(\d{1,3})?$")


@PROPERTIES
@given(st.text(max_size=30))
def test_age_ranges_are_never_backwards_and_always_valid(value: str) -> None:
    found = age_range(value)
    if found is not None:
        match = _SCHEMA_AGE.match(found)
        assert match, found
        low, high = int(match.group(1)), match.group(2)
        assert low <= MAX_LOW and (high is None or low <= int(high) <= MAX_HIGH)
        assert age_range(found) == found  # normalised values are fixed points


@PROPERTIES
@given(st.integers(0, MAX_LOW), st.integers(0, MAX_HIGH),
       st.sampled_from(["{a}-{b}", "{a} - {b}", "{a} a {b} anos", "{a} to {b} years",
                        "{a} bis {b} Jahre", "от {a} до {b} лет", "{a}至{b}岁"]))
def test_age_numbers_are_read_whole(a: int, b: int, shape: str) -> None:
    assert age_range(shape.format(a=a, b=b)) == (f"{a}-{b}" if a <= b else None)


def test_several_ranges_span_and_open_wins() -> None:
    assert span(["2-5", "5-8"]) == "2-8"
    assert span(["14-", "10-12"]) == "10-"
    assert span([]) is None


def test_the_schema_refuses_backwards_ranges_and_accepts_every_forward_one() -> None:
    base = {"@context": "https://catalog.example.org/context.jsonld",
            "id": record_id_for("https://catalog.example.org/", "m", "oai:m:1"),
            "type": ["LearningResource"],
            "name": {"en": "x"},
            "mainEntityOfPage": [{"id": "https://m.example.org/oai?verb=GetRecord",
                                  "type": "WebPage",
                                  "provider": {"id": "https://catalog.example.org/members/m",
                                               "type": "Organization", "name": "M"},
                                  "identifier": "oai:m:1", "dateModified": "2024-01-01",
                                  "sdDatePublished": "2024-01-01T00:00:00Z"}]}
    assert validate_record(base) == []
    for bad in ("14-10", "22-10", "10-5", "07-9", "100-", "5-121", "5", "-5"):
        assert validate_record({**base, "typicalAgeRange": bad}), bad
    for good in ("14-100", "14-", "7-7", "0-3", "99-120", "9-11"):
        assert validate_record({**base, "typicalAgeRange": good}) == [], good
    # Exhaustively: the schema's pattern is exactly "low <= high" over the ages allowed.
    from eduxchange.catalog.validate import _schema  # the schema as shipped
    pattern = re.compile(_schema()["properties"]["typicalAgeRange"]["pattern"])
    for low in range(0, 130):
        for high in (None, *range(0, 130)):
            text = f"{low}-" + ("" if high is None else str(high))
            allowed = low <= MAX_LOW and (high is None or low <= high <= MAX_HIGH)
            assert bool(pattern.search(text)) == allowed, text


# ------------------------------------------------------------------ 3. shared field rules

_ISBN = "978-3-16-148410-0"
LOM = f"""<lom xmlns="http://ltsc.ieee.org/xsd/LOM">
  <general>
    <identifier><catalog>ISBN</catalog><entry>{_ISBN}</entry></identifier>
    <identifier><catalog>DOI</catalog><entry>info:doi/10.1234/Shared.Book</entry></identifier>
    <identifier><catalog>ISBN</catalog><entry>urn:isbn:123</entry></identifier>
    <title><string language="en">A shared book</string></title>
    <language>English; French</language>
  </general>
  <technical><format>application/pdf; charset=binary</format>
    <location>https://files.example.org/shared-book.pdf</location>
    <location>https://oer.example.org/books/shared/?utm_source=lom</location></technical>
  <educational><typicalAgeRange><string language="pt">a partir de 14 anos</string></typicalAgeRange>
  </educational>
</lom>"""
DC = f"""<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
    xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title xml:lang="en">A shared book</dc:title>
  <dc:identifier>https://files.example.org/shared-book.pdf</dc:identifier>
  <dc:identifier>urn:isbn:{_ISBN}</dc:identifier>
  <dc:identifier>info:doi/10.1234/Shared.Book</dc:identifier>
  <dc:identifier>urn:isbn:123</dc:identifier>
  <dc:identifier>http://OER.example.org/books/shared</dc:identifier>
  <dc:format>application/pdf</dc:format>
  <dc:language>en, fr</dc:language>
</oai_dc:dc>"""
LRMI = {"@context": "https://schema.org/", "@type": "LearningResource", "name": "A shared book",
        "inLanguage": ["en", "fr"], "encodingFormat": "application/pdf",
        "url": ["https://files.example.org/shared-book.pdf",
                "https://oer.example.org/books/shared"],
        "identifier": [{"@type": "PropertyValue", "propertyID": "ISBN",
                        "value": _ISBN.replace("-", "")},
                       "https://doi.org/10.1234/Shared.Book", "urn:isbn:123"],
        "typicalAgeRange": "14-"}


def _lrmi_xml() -> str:
    return ('<script xmlns="http://schema.org/" type="application/ld+json">'
            f"{json.dumps(LRMI)}</script>")


def test_lom_dc_and_lrmi_agree_on_every_shared_field() -> None:
    outputs = [crosswalk(LOM.encode()), crosswalk(DC.encode()), crosswalk(LRMI)]
    keys = [sorted(match_keys(o)) for o in outputs]
    assert keys[0] == keys[1] == keys[2] == [
        "id:https://doi.org/10.1234/shared.book", "id:urn:isbn:9783161484100",
        "url:https://oer.example.org/books/shared"]
    for out in outputs:
        assert "urn:isbn:123" not in out["identifier"]  # a wrong check digit is no ISBN
        assert out["encodingFormat"] == ["application/pdf"]
        assert out["inLanguage"] == ["en", "fr"]
    assert outputs[0]["typicalAgeRange"] == outputs[2]["typicalAgeRange"] == "14-"
    # LOM no longer takes its first location, a PDF, as the landing page.
    assert outputs[0]["url"].startswith("https://oer.example.org/books/shared")


def test_identifier_rules_are_the_same_for_every_spelling() -> None:
    canonical = ("id", "urn:isbn:9783161484100")
    for value in (_ISBN, f"urn:isbn:{_ISBN}", "ISBN 978-3-16-148410-0", "9783161484100"):
        assert classify_identifier(value, "ISBN") == canonical, value
    for value in ("info:doi/10.1234/x", "doi:10.1234/x", "https://dx.doi.org/10.1234/x",
                  "10.1234/x", "urn:doi:10.1234/x"):
        assert classify_identifier(value) == ("id", "https://doi.org/10.1234/x"), value
    assert classify_identifier("urn:isbn:123") is None
    # A URL wrapped over lines is rejoined; text after it on one line is no URL.
    assert classify_identifier("https://a.example.org/long/\n   path.html") == (
        "url", "https://a.example.org/long/path.html")
    assert classify_identifier("https://a.example.org/page.htm  (aulas)") is None
    assert pick_url(["https://a.example.org/x.swf", "https://a.example.org/x"]) == \
        "https://a.example.org/x"


def test_lom_takes_the_landing_page_not_a_flash_file_on_a_real_record() -> None:
    # CESTA (UFRGS): first location an .swf, then the repository's landing page.
    record = corpus_record("real_records/inroa/cesta_complete.xml",
                           "oai:cesta2.cinted.ufrgs.br:123456789/68")
    assert "abertura.swf" in (record.raw or b"").decode()
    assert described(record)["url"] == "http://cesta2.cinted.ufrgs.br/xmlui/handle/123456789/68"


def test_a_url_with_a_space_beside_a_slash_is_rejoined_on_a_real_record() -> None:
    # FEB/Fiocruz (flattened OBAA) writes ".../handle/meminst.cict.fiocruz.br /186".
    record = corpus("real_records/inroa/FEB-fiocruz2.xml")[4]
    assert b"meminst.cict.fiocruz.br /186" in (record.raw or b"")
    assert described(record)["url"] == (
        "http://meminst.cict.fiocruz.br/dspace/handle/meminst.cict.fiocruz.br/186")


def test_a_handle_location_in_lom_is_the_identifier_dc_gives_it_on_a_real_record() -> None:
    lom = described(corpus_record("real_records/inroa/cesta_complete.xml",
                                  "oai:cesta2.cinted.ufrgs.br:123456789/17"))
    assert "id:https://hdl.handle.net/123456789/17" in match_keys(lom)
    dc = described(corpus_record("real_records/inroa/lume1.xml", "oai:www.lume.ufrgs.br:10183/394"))
    assert match_keys(dc) == ["id:https://hdl.handle.net/10183/394"]  # the same rule from DC


def test_the_same_resource_from_lom_dc_and_lrmi_members_is_one_catalogue_resource(
        make_config: ConfigMaker) -> None:
    start = datetime(2024, 1, 1)

    def member(identifier: str, metadata: str) -> list[MemberRecord]:
        return [MemberRecord(identifier=identifier, datestamp=start + timedelta(minutes=1),
                             metadata=metadata.encode())]

    with serve_faulty(member("oai:lom.example.org:1", LOM)) as lom, \
            serve_faulty(member("oai:dc.example.org:1", DC)) as dc, \
            serve_faulty(member("oai:lrmi.example.org:1", _lrmi_xml())) as lrmi:
        config = make_config([
            # The test server serves a record's metadata verbatim under the prefix "lom" (and
            # writes its own oai_dc from it); the crosswalk goes by the payload's namespace.
            {"id": "lom", "name": "LOM member", "endpoint": lom.url, "metadata_prefix": "lom"},
            {"id": "dc", "name": "DC member", "endpoint": dc.url, "metadata_prefix": "lom"},
            {"id": "lrmi", "name": "LRMI member", "endpoint": lrmi.url, "metadata_prefix": "lom"},
        ], harvest={"requests_per_second": 1000, "timeout": 5, "max_retries": 1})
        results = eduxchange.harvest(config)
        assert all(r.ok for r in results), [r.error for r in results]
    out = io.BytesIO()
    with eduxchange.open_store(config) as store:
        eduxchange.publish.export.export(config, store, out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 1, [r.get("url") for r in records]
    with eduxchange.open_store(config) as store, store.catalog() as txn:
        formats = sorted(d.format for d in txn.descriptions_of(records[0]["id"]))
    assert formats == ["lom", "lrmi", "oai_dc"]  # each member's own format, crosswalked
    providers = sorted(p["provider"]["id"].rsplit("/", 1)[1]
                       for p in records[0]["mainEntityOfPage"])
    assert providers == ["dc", "lom", "lrmi"]
    assert records[0]["typicalAgeRange"] == "14-"
    assert validate_record(records[0]) == []


# ------------------------------------------------------------------ 4. several descriptions

def test_a_portuguese_and_an_english_abstract_are_kept_apart_on_a_real_record() -> None:
    # LUME (UFRGS) oai_dc: two untagged dc:description, a Portuguese and an English abstract.
    out = described(corpus_record("real_records/inroa/lume1.xml",
                                  "oai:www.lume.ufrgs.br:10183/394"))
    assert set(out["description"]) == {"pt", "en"}
    assert out["description"]["pt"].startswith("Esta dissertação apresenta")
    assert out["description"]["en"].startswith("This")


def test_obaa_descriptions_are_kept_apart_on_a_real_record() -> None:
    # FEB/Fiocruz (flattened OBAA): untagged obaaDescription in Portuguese and in English.
    out = described(corpus_record("real_records/inroa/FEB-fiocruz2.xml",
                                  "oai:arca.icict.fiocruz.br:icict/254"))
    assert {"pt", "en"} <= set(out["description"])


def test_a_dutch_and_an_english_abstract_are_kept_apart_on_a_real_record() -> None:
    record = corpus("real_records/pyoai/fake1/00005.xml")[0]  # Erasmus University, DSpace
    assert set(described(record)["description"]) == {"nl", "en"}


def test_descriptions_untagged_only_where_not_identified() -> None:
    english = "This lesson explains how plants turn light into chemical energy in their leaves."
    french = "Cette leçon explique comment les plantes transforment la lumière en énergie chimique."
    assert description_map([("@none", english), ("@none", french)]) == {"en": english, "fr": french}
    # Too short to judge: kept untagged (one string, as the schema's @none holds).
    assert description_map([("@none", "Short note."), ("@none", "Another.")]) == {
        "@none": "Short note. Another."}
    # A language already tagged is not taken twice; a single untagged text is not identified.
    assert description_map([("en", "Tagged."), ("@none", english)]) == {"en": "Tagged.",
                                                                        "@none": english}
    assert description_map([("@none", english)]) == {"@none": english}


# ------------------------------------------------------------------ 5. mojibake

def test_doubly_decoded_utf8_is_repaired_on_a_real_record() -> None:
    # IFRS (OBAA served as LOM): "INOVAÇÃ\x83O" (Ã's two UTF-8 bytes read as Latin-1).
    record = corpus_record("real_records/inroa/repIFRS-records.xml",
                           "http://repositorio.canoas.ifrs.edu.br:80/repositorio/documents/102")
    assert "INOVAÇÃ\u0083O".encode() in (record.raw or b"")
    assert described(record)["name"]["@none"] == (
        "INOVAÇÃO NO ENSINO DE SOCIOLOGIA COM A UTILIZAÇÃO DE OBJETOS DE APRENDIZAGEM")


def test_mojibake_repair_only_where_it_is_one() -> None:
    assert clean_text("INOVAÇÃ\x83O") == "INOVAÇÃO"
    assert clean_text("Ã©tudes â€“ premiÃ¨re") == "études – première"
    for text in ("SÃO PAULO", "Ação", "naïve café", "Ärger über Öl", "Škoda", "Ã À"):
        assert repair_mojibake(text) == text  # no mojibake: nothing to undo
    # ftfy's heuristics are no proof: "Ã " is not taken for a mangled "à".
    assert repair_mojibake("Ã\x83 Ã\x80") == "Ã À"
    assert clean_text("01 \x96 Illettrisme") == "01 – Illettrisme"  # cp1252 C1, as before


_LETTERS = st.text(st.characters(min_codepoint=0xC0, max_codepoint=0x17F,
                                 categories=("Lu", "Ll")), min_size=1, max_size=12)


@PROPERTIES
@given(st.lists(st.one_of(_LETTERS, st.sampled_from(["a", "b", " ", "o"])), min_size=1,
                max_size=6), st.sampled_from(["latin-1", "cp1252"]))
def test_a_repair_gives_back_the_text_or_changes_nothing(parts: list[str], codec: str) -> None:
    text = clean_text("".join(parts))
    assert clean_text(text) == text  # a fixed point
    # A text that is itself such mojibake ("Ãœ" is "Ü" decoded twice) is no legitimate text.
    assume(text and repair_mojibake(text) == text)
    try:
        mojibake = text.encode("utf-8").decode(codec)
    except UnicodeDecodeError:  # cp1252 leaves five bytes undefined
        return
    # Either the repair gives back the very text, or ftfy declined (it does for forms it finds
    # ambiguous, a lone "Ã¥"; "Ä\xa0" for "Ġ"): never a third text, never a guess.
    assert clean_text(mojibake) in (text, _clean_only(mojibake))


def _clean_only(value: str) -> str:
    """clean_text without the repair: the C1 mapping, markup and whitespace rules alone."""
    from eduxchange.normalize.text import _clean
    return _clean(value)


def test_latin1_letters_decoded_twice_in_words_are_repaired() -> None:
    letters = [chr(c) for c in range(0xC0, 0x100) if chr(c).isalpha()]
    for letter in letters:
        word = f"x{letter}y"
        assert clean_text(word.encode("utf-8").decode("latin-1")) == word, letter


# ------------------------------------------------------------------ 6. language lists

@pytest.mark.parametrize(("value", "expected"), [
    ("English; French", ["en", "fr"]), ("en, fr", ["en", "fr"]), ("en fr", ["en", "fr"]),
    ("English and French", ["en", "fr"]), ("inglês e português", ["en", "pt"]),
    ("Deutsch und Englisch", ["de", "en"]), ("中文和英文", ["zh", "en"]),
    ("pt_BR", ["pt-BR"]), ("Norwegian Bokmål", ["nb"]),
    ("Klingon-ish ???", []), ("other", []), ("none", []), ("en ???", []),
])
def test_language_lists_are_split_and_junk_dropped(value: str, expected: list[str]) -> None:
    assert normalize_languages([value]) == expected


def test_lom_reads_a_language_list() -> None:
    assert crosswalk(LOM.encode())["inLanguage"] == ["en", "fr"]


def test_real_language_other_is_dropped_not_guessed() -> None:
    # Erasmus University records write dc:language "other".
    records = [r for r in corpus("real_records/pyoai/fake2/00002.xml")
               if b"<dc:language>other</dc:language>" in (r.raw or b"")]
    assert records
    for record in records:
        assert "inLanguage" not in described(record), record.identifier


# ------------------------------------------------------------------ 7. the unmapped report

def _demo_outcomes() -> Iterator[tuple[dict[str, Any], tuple[tuple[str, str, str], ...]]]:
    for member_id, _, _, prefix, _, _, _ in MEMBERS:
        member = MemberConfig(id=member_id, name=member_id, endpoint="https://m.example.org/oai")
        for sample in records_for(member_id):
            record = StoredRecord(member_id=member_id, identifier=sample.identifier,
                                  metadata_prefix=prefix, datestamp="2024-01-01", sets=(),
                                  deleted=False, raw=sample.metadata, run_id=None,
                                  first_harvested="2024-01-01T00:00:00Z",
                                  harvested_at="2024-01-01T00:00:00Z", seq=0)
            outcome = describe(record, member, base_uri="https://catalog.example.org/",
                               vocabularies=default_vocabularies())
            assert outcome.description is not None and not outcome.problems
            yield outcome.description, outcome.unmapped


def test_the_demo_reports_no_mapped_taxon_as_a_value_without_concept() -> None:
    reported = {value for _, unmapped in _demo_outcomes() for _, _, value in unmapped}
    # The demo's LOM taxa carry ISCED-F codes as id and again as entry text; the codes are
    # mapped (to concepts in "about"), so they are no values without a concept.
    assert not {v for v in reported if re.fullmatch(r"\d{4}", v)}
    assert any(c["id"].endswith(("0541", "0533", "0511", "0222", "0613", "0531"))
               for description, _ in _demo_outcomes() for c in description.get("about", []))


def test_a_text_repeating_a_mapped_value_is_not_reported() -> None:
    vocabularies = default_vocabularies()
    concepts, unmapped = vocabularies.map_terms("about", [("isced-f", "0541"), ("text", "0541"),
                                                          ("text", "Unknown topic")])
    assert concepts and unmapped == [("text", "Unknown topic")]


def test_real_records_lom_taxa_are_not_reported_twice() -> None:
    folder = standards_dir()
    if folder is None:
        pytest.skip("the standards folder is absent")
    for relative in ("real_records/inroa/cesta_complete.xml", "real_records/inroa/oai_lom.xml"):
        for record in real_corpus.records(folder, relative):
            outcome = real_corpus.describe_record(record)
            if outcome.description is None:
                continue
            mapped = {c["id"].rsplit("/", 1)[-1].casefold()
                      for field in ("about", "educationalLevel", "learningResourceType")
                      for c in outcome.description.get(field, [])}
            for _, source, value in outcome.unmapped:
                assert not (source == "text" and value.casefold() in mapped), value


def test_metadata_element_is_untouched_by_the_tests() -> None:
    # The LRMI member's payload is JSON-LD in one element: read as such by the pipeline.
    assert metadata_element(_lrmi_xml().encode())["@type"] == "LearningResource"
