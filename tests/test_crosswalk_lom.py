"""The LOM-family crosswalk (IEEE LOM, LOM-FR, IMS MD 1.2) on real-world records.

The real records are read from the standards folder (tests/support/standards.py) and their tests
skip without it; the IMS MD 1.2 sample was written for eduxchange and lives in tests/fixtures/lom/.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from eduxchange import crosswalk
from eduxchange.crosswalks import CrosswalkError, CrosswalkOptions, detect_format, metadata_element
from eduxchange.catalog.vocab import default_vocabularies
from tests.support.lomgen import lom_xml
from tests.support.standards import LOM_SAMPLES, standard

LOM = Path(__file__).parent / "fixtures" / "lom"
REAL = sorted(Path(p).name for p in LOM_SAMPLES)


def walk_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in walk_values(item)] + [value]
    if isinstance(value, list):
        return [v for item in value for v in walk_values(item)] + [value]
    return [value]


def test_ims_md_1_2_golden() -> None:
    d = crosswalk((LOM / "imsmd-v1p2-sample.xml").read_bytes())
    assert d["type"] == ["LearningResource"]
    assert d["name"] == {"zh-CN": "分数入门", "en": "Introduction to Fractions"}
    assert d["description"]["en"].startswith("A short video course on fractions")
    assert "<" not in d["description"]["en"]
    assert d["keywords"] == {"zh-CN": ["分数"], "en": ["fractions"]}
    assert d["inLanguage"] == ["zh"]
    assert d["identifier"] == ["https://doi.org/10.1234/OUC.2024.42"]
    assert d["url"] == "https://oer.example.org/resources/000042"
    assert d["license"] == {"id": "https://creativecommons.org/licenses/by-sa/4.0/"}
    assert d["creator"][0]["name"] == "Li Wei" and d["creator"][0]["type"] == "Person"
    assert "email" not in d["creator"][0]  # privacy by default
    assert d["publisher"][0]["name"] == "Open University of China"
    assert d["dateCreated"] == "2023-05-01" and d["datePublished"] == "2023-06"
    assert d["duration"] == "PT1H30M" and d["encodingFormat"] == ["video/mp4"]
    assert d["isAccessibleForFree"] is True and d["typicalAgeRange"] == "9-11"
    terms = d["_terms"]
    assert ("LOMv1.0", "Lecture") in terms["learningResourceType"]
    assert ("LOMv1.0", "Learner") in terms["audience"]
    assert ("LOMv1.0", "School") in terms["educationalLevel"]
    assert ("isced-f", "0541") in terms["about"]


def test_contacts_only_when_the_member_allows_it() -> None:
    raw = (LOM / "imsmd-v1p2-sample.xml").read_bytes()
    d = crosswalk(raw, options=CrosswalkOptions(include_contacts=True))
    assert d["creator"][0]["email"] == "li.wei@example.org"


def test_vocabulary_mapping_of_the_ims_md_sample() -> None:
    d, unmapped = default_vocabularies().apply(crosswalk((LOM / "imsmd-v1p2-sample.xml").read_bytes()))
    assert "_terms" not in d
    ids = {f: [c["id"] for c in d.get(f, [])] for f in
           ("learningResourceType", "audience", "educationalLevel", "about")}
    assert ids["about"][0] == "http://data.europa.eu/esco/isced-f/0541"
    assert ids["audience"] == ["http://purl.org/dcx/lrmi-vocabs/educationalAudienceRole/student"]
    assert ids["learningResourceType"]
    for concepts in ids.values():
        assert all(i.startswith("http") for i in concepts)


@pytest.mark.parametrize("name", REAL)
def test_real_lom_records(name: str) -> None:
    raw = standard(f"lom_records/lom2mlr/{name}").read_bytes()
    payload = metadata_element(raw)
    assert detect_format(payload) == "lom"  # LOM-FR is LOM
    before = etree.tostring(payload)
    d = crosswalk(payload)
    assert etree.tostring(payload) == before  # pure: the input is not touched
    assert d == crosswalk(copy.deepcopy(payload))
    assert d["name"] and all(d["name"].values())
    for value in walk_values(d):
        assert value not in ("", [], {}), name  # no empty values anywhere
        if isinstance(value, str):
            assert "BEGIN:VCARD" not in value and "\x96" not in value
    for agent in (*d.get("creator", ()), *d.get("publisher", ()), *d.get("contributor", ())):
        assert agent["type"] in ("Person", "Organization") and agent["name"].strip()
    for tag in d.get("inLanguage", ()):
        assert tag == tag.strip() and " " not in tag


def test_canal_u_lom_fr_record() -> None:
    d = crosswalk(standard("lom_records/lom2mlr/canal-u.fr-67.lom.xml").read_bytes())
    assert d["name"]["fr"].endswith("Illettrisme et scolarité")
    assert d["inLanguage"] == ["fr"]
    assert {a["name"] for a in d["creator"]} >= {"Jean-Louis LE GRAND", "Gaston PINEAU"}
    assert ("LOMFRv1.0", "image en mouvement") in d["_terms"]["learningResourceType"]
    assert d["keywords"]["fr"][:2] == ["formation continue", "histoire de vie"]


def test_generated_records_are_complete() -> None:
    d = crosswalk(lom_xml(7))
    for key in ("name", "description", "keywords", "inLanguage", "url", "license", "creator",
                "publisher", "dateCreated", "datePublished", "encodingFormat",
                "isAccessibleForFree", "typicalAgeRange", "_terms"):
        assert key in d, key


def test_unknown_metadata_is_a_crosswalk_error() -> None:
    with pytest.raises(CrosswalkError, match="no crosswalk for metadata in namespace"):
        crosswalk(b'<mods xmlns="http://www.loc.gov/mods/v3"/>')
    with pytest.raises(CrosswalkError, match="unknown crosswalk 'marc'"):
        crosswalk(lom_xml(1), format="marc")
    with pytest.raises(CrosswalkError, match="not well-formed"):
        crosswalk(b"<lom")
