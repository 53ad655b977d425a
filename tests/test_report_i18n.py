"""The member quality report in the web pages' seven interface languages.

The report's interface text (:data:`eduxchange.publish.report.MESSAGES`) exists in every language the
web pages have; the member page shows the report in the page's language through the real
server, and ``eduxchange report --format html --lang`` writes the page in the language asked
for. The CSV and JSON stay English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.publish import report as reports
from eduxchange.publish.web import UI_LANGUAGES
from eduxchange.publish.web.messages import RTL_LANGUAGES
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker
from tests.support.lomgen import make_records
from tests.support.pages_site import PagesSite, pages_site
from tests.support.pyoai_member import serve_pyoai_member

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
#: The report's section headings, in the order the page shows them.
HEADINGS = ("summary", "quarantine", "completeness", "distributions", "unmapped", "trend")
#: Keys whose text is the same word in some languages ("Description", "Source", "Licences").
SAME_WORD_OK = {"source", "dist.license", "key", "endpoint"}


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PagesSite]:
    with pages_site(tmp_path_factory.mktemp("report-i18n")) as s:
        yield s


def test_every_report_language_has_every_message() -> None:
    messages = reports.MESSAGES
    assert set(messages) == set(UI_LANGUAGES) == {"ar", "zh", "en", "fr", "ru", "es", "de"}
    english = messages["en"]
    for lang in UI_LANGUAGES:
        assert messages[lang].keys() == english.keys(), lang
        for key, text in messages[lang].items():
            assert text.strip(), (lang, key)
            assert _fields(text) == _fields(english[key]), (lang, key)
        if lang != "en":
            # Translated, not copied: only a few words may read the same as in English.
            same = {k for k, v in messages[lang].items() if v == english[k]} - SAME_WORD_OK
            assert not same, (lang, same)
    # The literal names an operator types or a script reads stay untranslated.
    for lang in UI_LANGUAGES:
        howto = messages[lang]["unmapped.howto"]
        for literal in ("extra_mappings", "[catalog]", "eduxchange normalize --all", "concept",
                        ".tsv"):
            assert literal in howto, (lang, literal)
        assert "ID-mappings.tsv" in messages[lang]["unmapped.all"], lang
        assert "eduxchange report -o DIR" in messages[lang]["unmapped.all"], lang


def test_field_labels_cover_every_field_noun() -> None:
    assert set(reports.FIELD_LABELS) == set(UI_LANGUAGES) - {"en"}
    for lang, labels in reports.FIELD_LABELS.items():
        assert labels.keys() == reports.FIELD_NOUNS.keys(), lang
        assert all(v.strip() for v in labels.values()), lang


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_member_page_shows_the_report_in_the_page_language(site: PagesSite, lang: str) -> None:
    r = site.get(f"members/lom?lang={lang}", headers=HTML)
    assert r.status_code == 200 and r.headers["Content-Language"] == lang
    doc = lxml.html.fromstring(r.content)
    root = doc.getroottree().getroot()
    assert root.get("lang") == lang
    assert root.get("dir") == ("rtl" if lang in RTL_LANGUAGES else "ltr")
    inner = doc.find(".//section[@class='member-report']")
    assert inner is not None
    # The fragment says its language and leaves the direction to the page.
    assert inner.get("lang") == lang and inner.get("dir") is None
    t = reports.MESSAGES[lang]
    headings = [h.text_content() for h in inner.findall(".//h3")]
    assert headings == [t[k] for k in HEADINGS], headings
    assert [h.text_content() for h in inner.findall(".//h4")] == [
        t[f"dist.{name}"] for name in reports.DISTRIBUTIONS]
    english = set(reports.MESSAGES["en"].values())
    assert not english & set(headings)
    summary = {row[0].text_content(): row[1].text_content()
               for row in inner.xpath(".//table[1]//tr[td]")}
    assert summary[t["harvested"]] == "12" and summary[t["normalized"]] == "12", summary
    captions = [c.text_content() for c in inner.findall(".//caption")]
    assert t["summary.caption"] in captions and t["completeness.caption"] in captions
    # The completeness table names each field in the page's language, with its code name.
    labels = reports.FIELD_LABELS[lang]
    rows = [row[0].text_content() for row in inner.xpath(
        f".//table[caption='{t['completeness.caption']}']//tr[td]")]
    assert f"{labels['name']} (name)" in rows and f"{labels['license']} (license)" in rows
    # The mapping table to fill in is a TSV file: left to right on a right-to-left page too.
    pre = inner.find(".//pre")
    assert pre is not None and pre.get("dir") == "ltr"
    assert pre.text_content().startswith("field\tsource\tvalue\tconcept")
    # The charts are drawn left to right in every language (their labels before the bars).
    assert {svg.get("direction") for svg in inner.xpath(".//*[local-name()='svg']")} == {"ltr"}
    # The chart titles are in the language too.
    titles = inner.xpath(".//*[local-name()='svg']/*[local-name()='title']/text()")
    assert t["chart"].format(what=t["summary.caption"]) in titles


def test_report_cli_writes_the_page_in_the_language_asked(make_config: ConfigMaker,
                                                         tmp_path: Path) -> None:
    records = make_records(3, start=datetime(2024, 3, 1), step=timedelta(minutes=1))
    with serve_pyoai_member(records, name="LOM member") as member:
        config = make_config([{"id": "lom", "name": "LOM member", "endpoint": member.url}])
        assert all(r.ok for r in eduxchange.harvest(config))
    out = tmp_path / "fr"
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "--format", "html",
                                    "--lang", "fr", "-o", str(out)])
    assert cli.exit_code == 0, cli.output
    page = (out / "lom.html").read_text(encoding="utf-8")
    doc = lxml.html.document_fromstring(page)
    root = doc.getroottree().getroot()
    assert root.get("lang") == "fr" and root.get("dir") is None
    fr = reports.MESSAGES["fr"]
    assert doc.findtext(".//h1") == "Rapport de qualité : LOM member"
    assert doc.findtext(".//title") == "Rapport de qualité : LOM member"
    assert [h.text_content() for h in doc.findall(".//h2")] == [fr[k] for k in HEADINGS]
    assert "titre (name)" in doc.text_content()
    # The mapping table beside it is data: its column names stay as the loader reads them.
    assert (out / "lom-mappings.tsv").read_text(encoding="utf-8").startswith(
        "field\tsource\tvalue\tconcept")

    # Arabic: a full page is right to left.
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "--lang", "ar",
                                    "-m", "lom"])
    assert cli.exit_code == 0, cli.output
    root = lxml.html.document_fromstring(cli.stdout).getroottree().getroot()
    assert root.get("lang") == "ar" and root.get("dir") == "rtl"
    assert root.findtext(".//h1") == reports.MESSAGES["ar"]["title"].format(name="LOM member")

    # Without --lang: English, as before.
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-m", "lom"])
    assert cli.exit_code == 0, cli.output
    root = lxml.html.document_fromstring(cli.stdout).getroottree().getroot()
    assert root.get("lang") == "en" and root.findtext(".//h1") == "Quality report: LOM member"

    # JSON and CSV are for scripts: always English, and --lang with them is a usage error.
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "-f", "json"])
    assert cli.exit_code == 0, cli.output
    (doc_json,) = json.loads(cli.stdout)["reports"]
    labels = {c["field"]: c["label"] for c in doc_json["completeness"]}
    assert labels["name"] == "title"
    for args in (["-f", "json", "--lang", "fr"], ["-f", "csv", "--lang", "de", "-m", "lom"]):
        cli = CliRunner().invoke(main, ["report", "-c", str(config.path), *args])
        assert cli.exit_code == 2 and "--lang" in cli.stderr and "English" in cli.stderr
    cli = CliRunner().invoke(main, ["report", "-c", str(config.path), "--lang", "pt",
                                    "-m", "lom"])
    assert cli.exit_code == 2 and "pt" in cli.stderr and "fr" in cli.stderr


def test_render_html_falls_back_to_english_and_says_so(make_config: ConfigMaker) -> None:
    config = make_config([{"id": "a", "name": "A", "endpoint": "http://127.0.0.1:9/oai"}])
    with eduxchange.open_store(config) as store:
        made = reports.member_report(store, config.member("a"))
    page = reports.render_html(made, "pt")
    root = lxml.html.document_fromstring(page).getroottree().getroot()
    assert root.get("lang") == "en" and root.get("dir") is None
    assert root.findtext(".//h1") == "Quality report: A"
    fragment = reports.render_html(made, "ar", fragment=True)
    section = lxml.html.fragment_fromstring(fragment)
    assert section.get("lang") == "ar" and section.get("dir") is None
    assert section.findtext(".//h3") == reports.MESSAGES["ar"]["summary"]
