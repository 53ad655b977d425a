"""Quality reports for members, on catalogues harvested from real members on loopback.

Two members: a pyoai one serving LOM and a fault-injecting one serving Dublin Core records
written here field by field, so every figure of the report is known exactly: quarantined
records for different reasons (no title, an unknown format, a record that is not XML),
unmapped values, and two harvest runs with changes between them.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import lxml.html
import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.publish.report import member_report, render_html
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker
from tests.support.faulty import serve_faulty
from tests.support.lomgen import DC_NS, OAI_DC_NS, make_records
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord, utcnow

START = datetime(2024, 1, 1)
BY = "https://creativecommons.org/licenses/by/4.0/"
BY_NC = "https://creativecommons.org/licenses/by-nc/4.0/"
HANDICRAFTS = "http://data.europa.eu/esco/isced-f/0214"


def dc(n: int, *, title: str | None = "A title", lang: str | None = "en",
       subject: str | None = None, type_: str | None = None, rights: str | None = None,
       datestamp: datetime | None = None) -> MemberRecord:
    """An oai_dc record with just the elements given (and its URL)."""
    parts = [("title", title), ("language", lang), ("subject", subject), ("type", type_),
             ("rights", rights), ("description", "Some words."),
             ("identifier", f"https://dc.example.net/res/{n}")]
    body = "".join(f"<dc:{k}>{escape(v)}</dc:{k}>" for k, v in parts if v is not None)
    xml = f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">{body}</oai_dc:dc>'
    return MemberRecord(identifier=f"oai:dc.example.net:{n}",
                        datestamp=datestamp or START + timedelta(hours=n), metadata=xml.encode())


def dc_member() -> list[MemberRecord]:
    return [
        dc(1, subject="Mathematics", type_="Text", rights=BY),
        dc(2, lang="fr", subject="Basket weaving", type_="basket thing", rights=BY_NC),
        dc(3, lang="de", subject="Basket weaving"),
        dc(4, title=None, rights=BY),
        dc(5, title=None),
    ]


def lom_member() -> list[MemberRecord]:
    """Four LOM records, one without a title, one in MODS, one that is not XML."""
    records = make_records(4, start=START, step=timedelta(minutes=1))
    records[1].metadata = b'<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general/></lom>'
    records.append(MemberRecord(
        identifier="oai:example.org:rec-000005", datestamp=START + timedelta(hours=5),
        metadata=b'<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo/></mods>'))
    records.append(MemberRecord(
        identifier="oai:example.org:rec-000006", datestamp=START + timedelta(hours=6),
        metadata=b'<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general>Q&amp A</general></lom>'))
    return records


def report_json(config: eduxchange.Config, member: str) -> dict[str, Any]:
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "--member", member,
                                    "--format", "json"])
    assert cli.exit_code == 0, cli.output
    (doc,) = json.loads(cli.stdout)["reports"]
    assert doc["member"] == member
    return doc


def counts(doc: dict[str, Any], name: str) -> dict[str, int]:
    """A distribution of the report's JSON as {label: records}."""
    return {c["label"]: c["count"] for c in doc["distributions"][name]}


def percents(doc: dict[str, Any]) -> dict[str, float]:
    return {c["field"]: c["percent"] for c in doc["completeness"]}


def unmapped(doc: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {(u["field"], u["source"], u["value"]): u["count"] for u in doc["unmapped"]}


def reasons(doc: dict[str, Any]) -> dict[str, tuple[str, int, list[str]]]:
    return {g["reason"]: (g["stage"], g["count"], g["examples"]) for g in doc["quarantine"]}


def harvested(make_config: ConfigMaker, test: Any) -> None:
    """Run ``test(config, lom, dc)`` against the two members after a first harvest."""
    with serve_faulty(lom_member()) as lom, serve_pyoai_member(dc_member()) as dcm:
        config = make_config([
            {"id": "lom", "name": "LOM member", "endpoint": lom.url, "metadata_prefix": "lom"},
            {"id": "dc", "name": "DC member", "endpoint": dcm.url, "metadata_prefix": "oai_dc"},
        ])
        eduxchange.harvest(config)
        test(config, lom, dcm)


def test_report_figures_are_exact_across_runs(make_config: ConfigMaker) -> None:
    def test(config: eduxchange.Config, lom: Any, dcm: Any) -> None:
        doc = report_json(config, "dc")
        assert doc["totals"] == {"attempted": 5, "harvested": 5, "unreadable": 0, "deleted": 0,
                                 "normalized": 3, "quarantined": 2}
        assert reasons(doc) == {"no title (dc:title)": (
            "normalize", 2, ["oai:dc.example.net:4", "oai:dc.example.net:5"])}
        completeness = percents(doc)
        assert (completeness["name"], completeness["url"], completeness["license"],
                completeness["about"], completeness["learningResourceType"],
                completeness["educationalLevel"]) == (100.0, 100.0, 66.7, 33.3, 33.3, 0.0)
        assert {c["field"] for c in doc["completeness"]} >= {
            "description", "keywords", "inLanguage", "creator", "dateCreated", "image"}
        assert counts(doc, "inLanguage") == {"en": 1, "fr": 1, "de": 1}
        assert counts(doc, "license") == {"CC BY 4.0": 1, "CC BY-NC 4.0": 1, "none": 1}
        assert counts(doc, "openness") == {
            "open": 1, "open, with restrictions (NC or ND)": 1, "no licence": 1}
        assert counts(doc, "about") == {"Mathematics": 1, "none": 2}
        assert counts(doc, "learningResourceType") == {
            "Text (HCRT)": 1, "supporting document (LRMI)": 1, "none": 2}
        assert unmapped(doc) == {("about", "text", "Basket weaving"): 2,
                                 ("learningResourceType", "text", "basket thing"): 1}
        assert len(doc["trend"]) == 1 and doc["trend"][0]["figures"]["normalized"] == 3

        lom_doc = report_json(config, "lom")
        assert lom_doc["totals"] == {"attempted": 6, "harvested": 5, "unreadable": 1,
                                     "deleted": 0, "normalized": 3, "quarantined": 3}
        assert reasons(lom_doc) == {
            "no title (general/title)": ("normalize", 1, ["oai:example.org:rec-000002"]),
            "metadata in a format eduxchange cannot read (root element <mods>, namespace "
            "http://www.loc.gov/mods/v3)": ("normalize", 1, ["oai:example.org:rec-000005"]),
            "the record is not readable XML": ("harvest", 1, ["oai:example.org:rec-000006"]),
        }
        assert unmapped(lom_doc) == {("educationalLevel", "LOMv1.0", "training"): 2,
                                     ("educationalLevel", "LOMv1.0", "school"): 1}

        # Second run: record 4 gets its title (and the unmapped subject), record 2 a subject
        # that maps. Counts are the catalogue's now, not sums over the runs.
        now = utcnow()
        dcm.backend.update("oai:dc.example.net:4",
                           metadata=dc(4, rights=BY, subject="Basket weaving").metadata,
                           datestamp=now)
        dcm.backend.update("oai:dc.example.net:2",
                           metadata=dc(2, lang="fr", subject="Mathematics", type_="Text",
                                       rights=BY_NC).metadata, datestamp=now)
        (result,) = eduxchange.harvest(config, members=["dc"])
        assert result.ok
        again = report_json(config, "dc")
        assert again["totals"]["normalized"] == 4 and again["totals"]["quarantined"] == 1
        assert reasons(again) == {"no title (dc:title)": ("normalize", 1, ["oai:dc.example.net:5"])}
        assert unmapped(again) == {("about", "text", "Basket weaving"): 2}
        assert counts(again, "about") == {"Mathematics": 2, "none": 2}
        assert percents(again)["license"] == 75.0
        # The trend: both runs, newest first, each with the figures its report kept.
        first, second = again["trend"][1], again["trend"][0]
        assert second["run"] > first["run"] and second["counts"]["updated"] == 2
        assert first["figures"]["normalized"] == 3 and first["figures"]["quarantined"] == 2
        assert first["figures"]["unmapped_values"] == 2
        # The latest run's figures are the catalogue's as it is (and this report keeps them).
        assert second["figures"]["normalized"] == 4 and second["figures"]["quarantined"] == 1
        third = report_json(config, "dc")
        assert third["trend"][0]["figures"]["normalized"] == 4
        assert third["trend"][0]["figures"]["completeness"]["license"] == 75.0

        # Third run: the member deletes record 3; its unmapped value goes with its description.
        dcm.backend.delete("oai:dc.example.net:3", datestamp=utcnow())
        (result,) = eduxchange.harvest(config, members=["dc"])
        assert result.ok
        fourth = report_json(config, "dc")
        assert (fourth["totals"]["harvested"], fourth["totals"]["deleted"],
                fourth["totals"]["normalized"]) == (4, 1, 3)
        assert unmapped(fourth) == {("about", "text", "Basket weaving"): 1}
        assert [p["counts"].get("deleted", 0) for p in fourth["trend"]] == [1, 0, 0]

    harvested(make_config, test)


def test_warnings_csv_and_html_page(make_config: ConfigMaker, tmp_path: Path) -> None:
    def test(config: eduxchange.Config, lom: Any, dcm: Any) -> None:
        out = tmp_path / "reports"
        cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-f", "csv",
                                        "-o", str(out)])
        assert cli.exit_code == 0, cli.output
        assert sorted(p.name for p in out.iterdir()) == ["dc-warnings.csv", "lom-warnings.csv"]
        with open(out / "dc-warnings.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == ["identifier", "field", "severity", "problem", "source_element",
                                 "detail"]
        triples = {(r["identifier"], r["field"], r["severity"], r["problem"],
                    r["source_element"], r["detail"]) for r in rows}
        assert ("oai:dc.example.net:4", "name", "error", "no title (dc:title)", "dc:title",
                "") in triples
        assert ("oai:dc.example.net:3", "about", "warning", "value not mapped to a concept",
                "text", "Basket weaving") in triples
        assert ("oai:dc.example.net:3", "license", "warning", "no licence", "dc:rights",
                "") in triples
        # Exactly: 2 errors, 3 unmapped, and the recommended fields each record lacks.
        assert sum(r["severity"] == "error" for r in rows) == 2
        assert sum(r["problem"] == "value not mapped to a concept" for r in rows) == 3
        missing = {(r["identifier"], r["field"]) for r in rows if r["problem"].startswith("no ")
                   and r["severity"] == "warning"}
        assert missing == {
            ("oai:dc.example.net:1", "educationalLevel"),
            ("oai:dc.example.net:2", "educationalLevel"), ("oai:dc.example.net:2", "about"),
            ("oai:dc.example.net:2", "learningResourceType"),
            ("oai:dc.example.net:3", "educationalLevel"), ("oai:dc.example.net:3", "about"),
            ("oai:dc.example.net:3", "learningResourceType"),
            ("oai:dc.example.net:3", "license")}

        cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-o", str(out)])
        assert cli.exit_code == 0, cli.output
        page = (out / "lom.html").read_text(encoding="utf-8")
        doc = lxml.html.document_fromstring(page)
        assert doc.findtext(".//h1") == "Quality report: LOM member"
        svgs = doc.findall(".//svg")
        assert len(svgs) >= 8
        for svg in svgs:
            assert svg.get("role") == "img" and svg.get("aria-label")
            assert svg.find("title") is not None and svg.findtext("title")
        for table in doc.findall(".//table"):
            assert table.find("caption") is not None and table.findtext("caption")
        assert not doc.findall(".//script") and not doc.findall(".//link")
        for element in doc.iter():
            for name in ("src", "href", "action", "data"):
                value = element.get(name) or ""
                assert not value.lower().startswith(("http:", "https:", "//")), (element, value)
        assert "@import" not in page and "url(" not in page
        text = doc.text_content()
        for expected in ("no title (general/title)", "the record is not readable XML",
                         "oai:example.org:rec-000002", "training"):
            assert expected in text
        # The member page of the web app: the same report as a fragment.
        with eduxchange.open_store(config) as store:
            fragment = render_html(member_report(store, config.member("lom")), fragment=True)
        assert fragment.startswith('<section class="member-report"') and "<html" not in fragment
        assert lxml.html.fragment_fromstring(fragment).findall(".//svg")

    harvested(make_config, test)


def test_mapping_table_once_filled_maps_the_value(make_config: ConfigMaker,
                                                  tmp_path: Path) -> None:
    def test(config: eduxchange.Config, lom: Any, dcm: Any) -> None:
        out = tmp_path / "reports"
        cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-m", "dc",
                                        "-o", str(out)])
        assert cli.exit_code == 0, cli.output
        table = out / "dc-mappings.tsv"
        lines = table.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "field\tsource\tvalue\tconcept"
        rows = [line for line in lines[1:] if not line.startswith("#")]
        assert rows == ["about\ttext\tBasket weaving\t",
                        "learningResourceType\ttext\tbasket thing\t"]
        # Fill one concept, leave the other row waiting: the table loads and maps the value.
        filled = table.read_text(encoding="utf-8").replace(
            "about\ttext\tBasket weaving\t", f"about\ttext\tBasket weaving\t{HANDICRAFTS}")
        (tmp_path / "about-local.tsv").write_text(filled, encoding="utf-8")
        text = config.path.read_text(encoding="utf-8").replace(
            "[catalog]\n", '[catalog]\nextra_mappings = ["about-local.tsv"]\n', 1)
        config.path.write_text(text, encoding="utf-8")
        config = eduxchange.load_config(config.path)
        assert config.catalog.extra_mappings
        cli = CliRunner().invoke(main, ["normalize", "-c", str(config.path), "--all"])
        assert cli.exit_code == 0, cli.output
        doc = report_json(config, "dc")
        assert unmapped(doc) == {("learningResourceType", "text", "basket thing"): 1}
        assert counts(doc, "about") == {"Handicrafts": 2, "Mathematics": 1}

    harvested(make_config, test)


def test_report_usage_errors(make_config: ConfigMaker, tmp_path: Path) -> None:
    config = make_config([{"id": "a", "endpoint": "http://127.0.0.1:9/oai"},
                          {"id": "b", "endpoint": "http://127.0.0.1:9/oai"}])
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path)])
    assert cli.exit_code == 2 and "harvest" in cli.stderr
    eduxchange.open_store(config).close()
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path)])
    assert cli.exit_code == 2 and "-o DIR" in cli.stderr
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-m", "zzz"])
    assert cli.exit_code == 2 and "zzz" in cli.stderr
    # A member never harvested has an empty report, not an error.
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-m", "a", "-f", "json"])
    assert cli.exit_code == 0
    (doc,) = json.loads(cli.stdout)["reports"]
    assert doc["totals"]["attempted"] == 0 and doc["state"] == "never" and doc["trend"] == []


def test_a_mapping_row_waiting_for_its_concept_is_skipped(tmp_path: Path) -> None:
    from eduxchange.catalog.vocab import Vocabularies, VocabularyError, check_mapping_tables

    table = tmp_path / "about.tsv"
    table.write_text(f"source\tvalue\tconcept\ntext\tBasket weaving\t{HANDICRAFTS}\n"
                     "text\tunknown yet\t\n", encoding="utf-8")
    check_mapping_tables([table])
    vocabularies = Vocabularies.load([table])
    assert vocabularies.map_term("about", "text", "Basket weaving").id == HANDICRAFTS  # type: ignore[union-attr]
    assert vocabularies.map_term("about", "text", "unknown yet") is None
    # A row missing its value is still an error (only the concept may wait).
    table.write_text("source\tvalue\tconcept\ntext\t\t\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"about\.tsv:2"):
        check_mapping_tables([table])
