"""Records that were refused for reasons of ours (issue 11, items 8-11 and 13), on real records.

The real responses are read from the standards folder (``real_records/``, see
tests/support/standards.py) and their tests skip without it. Each test runs the whole
normalization of one record (:func:`eduxchange.catalog.normalization.describe`: crosswalk, vocabulary mapping,
validation), so "not quarantined" means what the catalogue would do with it; the expected values
are ours, written from reading the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from eduxchange.core import xmlsafe
from eduxchange.catalog.normalization import Described, describe
from eduxchange.core.config import MemberConfig
from eduxchange.crosswalks import crosswalk, detect_format, metadata_element
from eduxchange.store.base import StoredRecord
from eduxchange.catalog.vocab import default_vocabularies
from tests.support.standards import standard

OAI = "{http://www.openarchives.org/OAI/2.0/}"
MEMBER = MemberConfig(id="real", name="A real repository", endpoint="http://127.0.0.1:9/oai")
BASE = "http://127.0.0.1:9/"
LEVEL = "https://w3id.org/kim/isced-2011/level"


def records(relative: str) -> Iterator[etree._Element]:
    """The ``<record>`` elements of a recorded response, deleted ones left out."""
    root = xmlsafe.parse(standard(relative).read_bytes())
    for record in root.iter(OAI + "record"):
        header = record.find(OAI + "header")
        if header is not None and header.get("status") == "deleted":
            continue
        yield record


def normalized(record: etree._Element) -> Described:
    """What the catalogue makes of one stored record (no store needed: describe is pure)."""
    identifier = record.findtext(f"{OAI}header/{OAI}identifier") or "oai:x:1"
    stored = StoredRecord(member_id=MEMBER.id, identifier=identifier, metadata_prefix="x",
                          datestamp="2020-01-01", sets=(), deleted=False,
                          raw=etree.tostring(record), run_id=1,
                          first_harvested="2020-01-01T00:00:00Z",
                          harvested_at="2020-01-01T00:00:00Z", seq=1)
    return describe(stored, MEMBER, base_uri=BASE, vocabularies=default_vocabularies())


def all_normalized(relative: str) -> list[Described]:
    found = [normalized(r) for r in records(relative)]
    assert found, relative
    return found


def assert_none_quarantined(results: list[Described]) -> None:
    problems = [(r.format, r.problems) for r in results if r.problems]
    assert not problems, problems[:3]


# ------------------------------------------------------------------ 8: lower-case LOM namespace


def test_froac_lower_case_lom_namespace_is_read_as_lom() -> None:
    results = all_normalized("real_records/inroa/FEB-froac1.xml")
    assert_none_quarantined(results)
    assert {r.format for r in results} == {"lom"}
    lower = [r for r in records("real_records/inroa/FEB-froac1.xml")
             if metadata_element(r).tag == "{http://ltsc.ieee.org/xsd/lom}lom"]
    assert len(lower) == 1  # the one record of this response that writes the namespace so
    description = normalized(lower[0]).description
    assert description is not None
    assert description["name"] == {"@none": "Arquitectura Basada en Inteligencia Artificial Distribuida para la "
                                   "Gerencia Integrada de Producción Industrial"}
    assert description["url"].startswith("http://froac.manizales.unal.edu.co/")


def test_froac_larger_response_is_read_whole() -> None:
    # froac.xml is cut short at its end (a recording of a broken response): read what parses.
    data = standard("real_records/inroa/froac.xml").read_bytes()
    chunks = data.split(b"<record>")[1:-1]
    assert len(chunks) > 80
    wrapper = b'<record xmlns="http://www.openarchives.org/OAI/2.0/" ' \
              b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    results = [normalized(etree.fromstring(wrapper + chunk.rsplit(b"</record>", 1)[0]
                                           + b"</record>")) for chunk in chunks]
    assert_none_quarantined(results)
    assert {r.format for r in results} == {"lom", "obaa"}  # FROAC serves OBAA records too


def test_lower_case_namespace_detection_is_a_lookup() -> None:
    payload = etree.fromstring(b'<lom xmlns="http://ltsc.ieee.org/xsd/lom"><general><title>'
                               b'<string language="es">Hola</string></title></general></lom>')
    assert detect_format(payload) == "lom"
    assert crosswalk(payload)["name"] == {"es": "Hola"}


# ------------------------------------------------------------------ 9: bare DC under <metadata>


def test_educapes_xoai_bare_dc_records_are_read_whole() -> None:
    results = all_normalized("real_records/inroa/FEB-capes___dspace10.xml")
    assert len(results) == 100
    assert_none_quarantined(results)
    assert {r.format for r in results} == {"qdc"}
    first = results[0].description
    assert first is not None
    # Every element of the record is read, not only the first (dc:title).
    assert first["name"] == {"@none": "História da Educação Brasileira I"}
    assert first["creator"][0]["name"]
    assert first["inLanguage"] == ["pt-BR"]
    assert "Analisar a tajetória histórica do Brasil" in first["description"]["@none"]
    assert first["encodingFormat"] == ["application/pdf"]
    assert first["keywords"]["@none"][0] == "Período colonial"
    with_url = [r for r in results if r.description and "url" in r.description]
    assert len(with_url) > 90


def test_bare_dc_detection_keeps_wrapped_roots() -> None:
    bare = etree.fromstring(
        b'<record xmlns="http://www.openarchives.org/OAI/2.0/"><header><identifier>oai:x:1'
        b'</identifier><datestamp>2020-01-01</datestamp></header><metadata>'
        b'<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">Title</dc:title>'
        b'<dcterms:abstract xmlns:dcterms="http://purl.org/dc/terms/">Abstract</dcterms:abstract>'
        b'<dc:language xmlns:dc="http://purl.org/dc/elements/1.1/">pt</dc:language>'
        b'</metadata></record>')
    payload = metadata_element(bare)
    assert isinstance(payload, etree._Element)
    assert detect_format(payload) == "qdc"
    description = crosswalk(bare)
    assert description["name"] == {"@none": "Title"}
    assert description["description"] == {"@none": "Abstract"}
    assert description["inLanguage"] == ["pt"]
    # A root in the dcterms namespace with children is that root, as before.
    wrapped = etree.fromstring(
        b'<metadata xmlns="http://www.openarchives.org/OAI/2.0/"><dcterms:qualifieddc '
        b'xmlns:dcterms="http://purl.org/dc/terms/"><dcterms:title>T</dcterms:title>'
        b'</dcterms:qualifieddc></metadata>')
    assert etree.QName(metadata_element(wrapped)).localname == "qualifieddc"  # type: ignore[arg-type]
    assert crosswalk(wrapped)["name"] == {"@none": "T"}


# ------------------------------------------------------------------ 13: KIM levels, LOM-BR cost


def test_lom_br_cost_sim_nao_sets_is_accessible_for_free() -> None:
    found = {}
    for record in records("real_records/inroa/oai_obaa.xml"):
        described = normalized(record)
        assert described.description is not None and not described.problems
        identifier = record.findtext(f"{OAI}header/{OAI}identifier")
        found[identifier] = described.description.get("isAccessibleForFree")
    # <cost>Nao</cost> (no cost: free) and <cost>Sim</cost> (it costs), LOM-BR's yes/no.
    assert found["oai:cesta2.cinted.ufrgs.br:123456789/57"] is True
    assert found["oai:cesta2.cinted.ufrgs.br:123456789/16"] is False


@pytest.mark.parametrize(("value", "expected"), [
    ("Nao", True), ("Não", True), ("nao", True), ("no", True), ("non", True), ("nein", True),
    ("Sim", False), ("sí", False), ("yes", False), ("oui", False), ("ja", False),
    ("talvez", None),
])
def test_lom_cost_values(value: str, expected: bool | None) -> None:
    xml = (f'<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title><string>T</string></title>'
           f'</general><rights><cost><source>LOMv1.0</source><value>{value}</value></cost>'
           f'</rights></lom>').encode()
    assert crosswalk(xml).get("isAccessibleForFree") == expected


def amb_example(name: str) -> dict[str, Any]:
    import json
    data: dict[str, Any] = json.loads(
        standard(f"json_profiles/amb/draft/examples/valid/{name}").read_text(encoding="utf-8"))
    return data


def test_amb_valid_example_kim_level_06_is_mapped() -> None:
    description = crosswalk(amb_example("highered-course.json"))
    mapped, unmapped = default_vocabularies().apply(description)
    assert [c["id"] for c in mapped["educationalLevel"]] == [LEVEL + "6"]
    assert not [u for u in unmapped if u[0] == "educationalLevel"]


@pytest.mark.parametrize(("iri", "expected"), [
    ("https://w3id.org/kim/educationalLevel/level_06", LEVEL + "6"),
    ("https://w3id.org/kim/educationalLevel/level_678", LEVEL + "6"),
    ("https://w3id.org/kim/educationalLevel/level_6", LEVEL + "6"),
    ("https://w3id.org/kim/educationalLevel/level_9", None),  # no ISCED 2011 level 9
    ("https://w3id.org/kim/educationalLevel/level_10", None),
])
def test_kim_level_iris(iri: str, expected: str | None) -> None:
    found = default_vocabularies().map_term("educationalLevel", "uri", iri)
    assert (found.id if found else None) == expected


# ------------------------------------------------------------------ 10: DataCite (Zenodo)

ZENODO = "real_records/oaipmh-scythe/"
DATACITE_PREFIXES = ("datacite", "oai_datacite", "datacite4", "oai_datacite4")


def test_zenodo_datacite_records_are_read() -> None:
    results = all_normalized(ZENODO + "list_records_4.xml")
    assert len(results) == 50
    assert_none_quarantined(results)
    assert {r.format for r in results} == {"datacite"}
    first = results[0].description
    assert first is not None
    assert first["name"] == {"@none": "PocketCoffea: a configuration layer for CMS analyses "
                                      "with Coffea"}
    assert first["identifier"] == ["https://doi.org/10.5281/zenodo.8435696"]
    assert first["url"] == "https://doi.org/10.5281/zenodo.8435696"
    assert first["license"] == {"id": "https://creativecommons.org/licenses/by/4.0/"}
    assert first["isAccessibleForFree"] is True
    assert first["datePublished"] == "2023-10-10" and first["dateModified"] == "2023-10-12"
    assert first["publisher"] == [{"type": "Organization", "name": "Zenodo"}]
    assert first["creator"] == [{"type": "Person", "name": "Matteo Marchegiani",
                                 "affiliation": {"type": "Organization", "name": "ETH Zurich"}}]
    assert first["description"]["@none"].startswith("A configuration layer for the analysis")
    # Every record has its DOI (Zenodo's own, or Dryad's for the datasets it mirrors), every
    # creator a name; ORCIDs are kept as ids.
    dois = [r.description["identifier"][0] for r in results if r.description]
    assert len(dois) == 50 and all(d.startswith("https://doi.org/10.") for d in dois)
    assert sum(d.startswith("https://doi.org/10.5061/dryad.") for d in dois) >= 8
    orcids = [c["id"] for r in results if r.description
              for c in r.description.get("creator", []) if "id" in c]
    assert orcids and all(i.startswith("https://orcid.org/") for i in orcids)


def test_zenodo_get_record_datacite() -> None:
    [result] = all_normalized(ZENODO + "get_record_1.xml")
    assert result.format == "datacite" and not result.problems


def test_harvest_chooses_datacite_over_oai_dc_from_zenodo(tmp_path: Any) -> None:
    """A member offering Zenodo's formats is harvested in DataCite, end to end on loopback."""
    import json

    from click.testing import CliRunner

    from eduxchange_cli.main import main
    from tests.conftest import write_config
    from tests.support.formats_replay import serve_replay

    records = standard(ZENODO + "list_records_4.xml").read_bytes()
    with serve_replay(standard(ZENODO + "identify_2.xml").read_bytes(),
                      standard(ZENODO + "list_metadata_formats_0.xml").read_bytes(),
                      {prefix: records for prefix in DATACITE_PREFIXES}) as member:
        config = write_config(tmp_path / "alliance.toml", [{"id": "zenodo", "endpoint": member.url}])
        runner = CliRunner()
        result = runner.invoke(main, ["harvest", "-c", str(config), "-q"])
        assert result.exit_code == 0, result.output
        assert member.prefixes and set(member.prefixes) <= set(DATACITE_PREFIXES)
        status = json.loads(runner.invoke(main, ["status", "-c", str(config), "--json"]).stdout)
    [zenodo] = status["members"]
    assert zenodo["metadata_prefix"] in DATACITE_PREFIXES
    assert zenodo["quarantined"] == 0 and zenodo["records"] == 50
    assert status["catalog"]["resources"] == 50


@pytest.mark.parametrize("namespace", [
    "http://datacite.org/schema/kernel-4", "http://datacite.org/schema/kernel-3"])
def test_datacite_kernel_and_oai_wrapper(namespace: str) -> None:
    resource = (
        f'<resource xmlns="{namespace}">'
        '<identifier identifierType="DOI">10.1234/ABC-1</identifier>'
        '<creators><creator><creatorName nameType="Personal">Müller, Jürgen</creatorName>'
        '<givenName>Jürgen</givenName><familyName>Müller</familyName>'
        '<nameIdentifier nameIdentifierScheme="ORCID" schemeURI="https://orcid.org">'
        '0000-0002-1825-0097</nameIdentifier><affiliation affiliationIdentifier='
        '"https://ror.org/04t3en479">KIT</affiliation></creator>'
        '<creator><creatorName nameType="Organizational">Open Science Lab</creatorName></creator>'
        '</creators>'
        '<titles><title xml:lang="de">Brüche verstehen</title>'
        '<title xml:lang="en" titleType="TranslatedTitle">Understanding fractions</title>'
        '<title titleType="Subtitle">Ein Kurs</title></titles>'
        '<publisher>TIB</publisher><publicationYear>2021</publicationYear>'
        '<subjects><subject subjectScheme="ISCED-F 2013">0541</subject>'
        '<subject xml:lang="de">Mathematik</subject></subjects>'
        '<contributors><contributor contributorType="HostingInstitution"><contributorName>'
        'Zenodo</contributorName></contributor><contributor contributorType="Editor">'
        '<contributorName>Doe, Jane</contributorName></contributor></contributors>'
        '<dates><date dateType="Created">2020-05-01</date></dates>'
        '<language>de</language>'
        '<resourceType resourceTypeGeneral="Audiovisual">Lecture video</resourceType>'
        '<alternateIdentifiers><alternateIdentifier alternateIdentifierType="URL">'
        'https://oer.example.org/fractions</alternateIdentifier></alternateIdentifiers>'
        '<formats><format>video/mp4</format><format>45 minutes</format></formats>'
        '<rightsList><rights rightsIdentifier="CC-BY-SA-4.0" rightsIdentifierScheme="SPDX"/>'
        '<rights>Alle Rechte beim Autor</rights></rightsList>'
        '<descriptions><description descriptionType="Abstract" xml:lang="de">Ein Video.'
        '</description><description descriptionType="TechnicalInfo">mp4</description>'
        '</descriptions></resource>')
    wrapped = ('<oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/"><schemaVersion>4'
               f'</schemaVersion><datacentreSymbol>X.Y</datacentreSymbol><payload>{resource}'
               '</payload></oai_datacite>')
    for xml in (resource, wrapped):
        d = crosswalk(xml.encode())
        assert d["identifier"] == ["https://doi.org/10.1234/ABC-1"]
        assert d["url"] == "https://oer.example.org/fractions"
        assert d["name"] == {"de": "Brüche verstehen", "en": "Understanding fractions"}
        assert d["creator"] == [
            {"type": "Person", "name": "Jürgen Müller", "id": "https://orcid.org/0000-0002-1825-0097",
             "affiliation": {"type": "Organization", "name": "KIT", "id": "https://ror.org/04t3en479"}},
            {"type": "Organization", "name": "Open Science Lab"}]
        assert d["contributor"] == [{"type": "Person", "name": "Jane Doe"}]
        assert d["publisher"] == [{"type": "Organization", "name": "TIB"}]
        assert d["datePublished"] == "2021" and d["dateCreated"] == "2020-05-01"
        assert d["inLanguage"] == ["de"] and d["encodingFormat"] == ["video/mp4"]
        assert d["license"] == {"id": "https://creativecommons.org/licenses/by-sa/4.0/"}
        assert d["copyrightNotice"] == {"@none": "Alle Rechte beim Autor"}
        assert d["description"] == {"de": "Ein Video."}
        assert d["keywords"] == {"de": ["Mathematik"]}
        assert d["_terms"]["about"] == [("isced-f", "0541"), ("text", "Mathematik")]
        assert d["_terms"]["learningResourceType"] == [("DCMIType", "MovingImage"),
                                                       ("text", "Lecture video")]


def test_datacite_formats_rank_between_lrmi_and_qualified_dc() -> None:
    from eduxchange.harvesting.formats import choose_format
    from eduxchange.core.models import MetadataFormat

    def offered(*pairs: tuple[str, str]) -> list[MetadataFormat]:
        return [MetadataFormat(prefix=p, schema="", namespace=n) for p, n in pairs]

    dc = ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc/")
    qdc = ("qdc", "http://purl.org/dc/terms/")
    datacite = ("oai_datacite", "http://schema.datacite.org/oai/oai-1.1/")
    lom = ("lom", "http://ltsc.ieee.org/xsd/LOM")
    assert choose_format(offered(dc, qdc, datacite)).prefix == "oai_datacite"  # type: ignore[union-attr]
    assert choose_format(offered(datacite, lom)).prefix == "lom"  # type: ignore[union-attr]
    assert choose_format(offered(("datacite", ""))).prefix == "datacite"  # type: ignore[union-attr]


# ------------------------------------------------------------------ 11: flattened OBAA (FEB)

FIOCRUZ = tuple(f"real_records/inroa/FEB-fiocruz{n}.xml" for n in range(2, 7))


def test_flattened_obaa_records_of_feb_are_all_read() -> None:
    results = [r for relative in FIOCRUZ for r in all_normalized(relative)]
    assert len(results) == 2084
    assert_none_quarantined(results)
    assert {r.format for r in results} == {"obaa"}
    described = [r.description for r in results if r.description]
    # Every record has its title; nearly every one a landing page and a date.
    assert all(d["name"]["@none"] for d in described)
    assert sum("url" in d for d in described) > 2000
    assert sum("datePublished" in d for d in described) > 2000
    assert sum(any(i.startswith("https://doi.org/") for i in d.get("identifier", ()))
               for d in described) > 100
    # Agents: 1,681 records have only 'Autor' roles; of the 368 with 'Autor' and 'Publisher', the
    # publishers are told apart in 312 (as many organisations as publisher roles: since the agent
    # classifier knows "Fundação" and "Taylor & Francis", 78 more than before); the other 56
    # claim no role (contributors); 35 records name nobody.
    roles = [tuple(k for k in ("creator", "publisher", "contributor") if k in d) for d in described]
    assert roles.count(("creator",)) == 1677 and roles.count(("creator", "publisher")) == 312
    assert roles.count(("contributor",)) == 56 and roles.count(()) == 35


def test_flattened_obaa_golden_record() -> None:
    [record] = [r for r in records(FIOCRUZ[0])
                if r.findtext(f"{OAI}header/{OAI}identifier") == "oai:arca.icict.fiocruz.br:icict/3739"]
    d = normalized(record).description
    assert d is not None
    assert d["name"] == {"@none": "Expression and arrangement of extracellular matrix proteins in "
                                  "the lungs of mice infected with Paracoccidioides brasiliensis conidia"}
    assert d["identifier"] == ["https://doi.org/10.1111/j.1365-2613.2008.00573.x"]  # not the ISSN
    assert d["url"] == "http://arca.icict.fiocruz.br/handle/icict/3739"
    assert d["datePublished"] == "2008"  # dc.date.issued, not the accession date
    assert d["inLanguage"] == ["en"]
    assert [c["name"] for c in d["creator"]] == [
        "Luzia Caputo", "Angel González", "Luz Elena Cano", "Henrique Leonel Lenzi",
        "Angela Restrepo", "Ester Maria Motta"]
    assert "Colágeno" in d["keywords"]["@none"] and "Laminin" in d["keywords"]["@none"]
    assert "publisher" not in d and "contributor" not in d


def test_flattened_obaa_publisher_is_the_organisation_among_the_entities() -> None:
    [record] = [r for r in records(FIOCRUZ[0])
                if r.findtext(f"{OAI}header/{OAI}identifier") == "oai:arca.icict.fiocruz.br:icict/641"]
    d = normalized(record).description
    assert d is not None
    assert d["publisher"] == [{"type": "Organization",
                               "name": "Escola Nacional de Saúde Pública/ Fundação Oswaldo Cruz"}]
    assert all(c["type"] == "Person" for c in d["creator"]) and len(d["creator"]) == 5


def _flat(*children: str) -> bytes:
    return ('<obaa:obaa xmlns:obaa="http://ltsc.ieee.org/xsd/LOM"><obaa:general>'
            + "".join(children) + "</obaa:general></obaa:obaa>").encode()


def test_flattened_obaa_roles_that_cannot_be_paired_claim_no_role() -> None:
    # Two publishers' roles but one organisation-looking entity: the pairing is lost, so no role.
    d = crosswalk(_flat("<obaa:obaaTitle>T</obaa:obaaTitle>",
                        "<obaa:obaaRole>Autor</obaa:obaaRole>",
                        "<obaa:obaaRole>Publisher</obaa:obaaRole>",
                        "<obaa:obaaRole>Publisher</obaa:obaaRole>",
                        "<obaa:obaaEntity>Silva, Ana</obaa:obaaEntity>",
                        "<obaa:obaaEntity>Editora da Universidade Federal</obaa:obaaEntity>",
                        "<obaa:obaaEntity>Souza, João</obaa:obaaEntity>"))
    assert "creator" not in d and "publisher" not in d
    assert [c["name"] for c in d["contributor"]] == ["Ana Silva", "Editora da Universidade Federal",
                                                     "João Souza"]
    only_publishers = crosswalk(_flat("<obaa:obaaTitle>T</obaa:obaaTitle>",
                                      "<obaa:obaaRole>Publisher</obaa:obaaRole>",
                                      "<obaa:obaaEntity>Fundação Oswaldo Cruz</obaa:obaaEntity>"))
    assert [p["name"] for p in only_publishers["publisher"]] == ["Fundação Oswaldo Cruz"]


def test_flattened_obaa_other_elements() -> None:
    d = crosswalk(_flat("<obaa:obaaTitle>Vídeo de química</obaa:obaaTitle>",
                        "<obaa:obaaTitle>Chemistry video</obaa:obaaTitle>",
                        "<obaa:obaaLanguage>pt_BR</obaa:obaaLanguage>",
                        "<obaa:obaaLearningResourceType>Video</obaa:obaaLearningResourceType>",
                        "<obaa:obaaIntendedEndUserRole>learner</obaa:obaaIntendedEndUserRole>",
                        "<obaa:obaaFormat>video/mp4</obaa:obaaFormat>",
                        "<obaa:obaaFormat>32 MB</obaa:obaaFormat>",
                        "<obaa:obaaLocation>https://example.org/v/1.mp4</obaa:obaaLocation>",
                        "<obaa:obaaIdentifier>https://example.org/handle/1</obaa:obaaIdentifier>",
                        "<obaa:obaaRightsDescription>CC BY 4.0</obaa:obaaRightsDescription>",
                        "<obaa:obaaRightsDescription>Uso educacional</obaa:obaaRightsDescription>"))
    assert d["name"] == {"@none": "Vídeo de química"}
    assert d["inLanguage"] == ["pt-BR"]
    assert d["url"] == "https://example.org/handle/1"  # the landing page before the file
    assert d["encodingFormat"] == ["video/mp4"]
    assert d["license"] == {"id": "https://creativecommons.org/licenses/by/4.0/"}
    assert d["copyrightNotice"] == {"@none": "Uso educacional"}
    assert d["_terms"] == {"learningResourceType": [("text", "Video")], "audience": [("LOMv1.0", "learner")]}


def test_structured_obaa_is_still_read_as_lom() -> None:
    results = all_normalized("real_records/inroa/oai_obaa.xml")
    assert_none_quarantined(results)
    first = results[0].description
    assert first is not None
    assert first["name"] == {"@none": "Ataque a o TCP - Mitnick"}
    assert first["url"] == "http://cesta2.cinted.ufrgs.br/xmlui/handle/123456789/57"
    assert first["isAccessibleForFree"] is True  # <cost>Nao</cost>


def test_all_real_records_of_the_brazilian_federations_normalize() -> None:
    """Every record of the inroa recordings that has metadata normalizes (none was, 8-11 before)."""
    import glob

    folder = standard("real_records/inroa/FEB-froac1.xml").parent
    names = sorted(p.rsplit("/", 1)[1] for p in glob.glob(str(folder / "*.xml"))
                   if not p.endswith(("froac.xml", "delete.xml")))  # froac.xml is cut short
    results = [r for name in names for r in normalized_all_with_metadata(f"real_records/inroa/{name}")]
    assert len(results) > 2600
    assert_none_quarantined(results)


def normalized_all_with_metadata(relative: str) -> list[Described]:
    return [normalized(r) for r in records(relative) if r.find(OAI + "metadata") is not None]


def test_lom_br_portuguese_values_are_mapped() -> None:
    """CESTA and OBAA records write LOM values in Portuguese (Aluno, Educacao superior)."""
    vocab = default_vocabularies()
    found = {}
    for record in records("real_records/inroa/cesta_complete.xml"):
        out, _ = vocab.apply(crosswalk(record))
        for field in ("audience", "educationalLevel"):
            found.setdefault(field, set()).update(c["id"] for c in out.get(field, []))
    assert "http://purl.org/dcx/lrmi-vocabs/educationalAudienceRole/student" in found["audience"]
    assert LEVEL + "6" in found["educationalLevel"]
    assert vocab.map_term("educationalLevel", "LOMv1.0", "Ensino fundamental") is None  # ISCED 1-2


def test_eu_repo_publication_types_are_hcrt_text() -> None:
    vocab = default_vocabularies()
    for value in ("info:eu-repo/semantics/article", "info:eu-repo/semantics/masterThesis"):
        assert [c.id for c in vocab.map_term_all("learningResourceType", "uri", value)] == [
            "https://w3id.org/kim/hcrt/text"]
    assert vocab.map_term_all("learningResourceType", "uri",
                              "info:eu-repo/semantics/conferenceObject") == ()
