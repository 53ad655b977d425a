"""The web pages over real HTTP (a served catalogue on loopback, read with ``requests``):
content negotiation that keeps machines on data, languages, escaping of members' text, size on
thin links, caching, the member page, and OAI-PMH through the stylesheet."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree, html

from eduxchange.publish.web import UI_LANGUAGES, prefers_html, ui_language, visitor_languages
from eduxchange.publish.web.messages import MESSAGES, RTL_LANGUAGES
from eduxchange.publish.web.pages import _safe_url, licence_badge
from tests.support.pages_site import (
    HOSTILE_MEMBER_NAME,
    HOSTILE_TEXT,
    MULTILINGUAL_TITLES,
    PagesSite,
    pages_site,
)
from tests.support.standards import SCHEMA_FILES, missing, xml_schema

#: What Chromium, Firefox and Safari send for a page (a link followed, an address typed).
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
HTML = {"Accept": BROWSER_ACCEPT}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PagesSite]:
    with pages_site(tmp_path_factory.mktemp("pages")) as s:
        yield s


def _doc(body: bytes) -> html.HtmlElement:
    return html.fromstring(body)


# -- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "page"), [
    (BROWSER_ACCEPT, True),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Firefox
    ("text/html", True),
    (None, False),
    ("*/*", False),
    ("application/json", False),
    ("text/html;q=0.9, application/json;q=0.1", False),  # names our data: a machine
    ("text/html;q=0", False),
])
def test_landing_page_for_browsers_json_for_machines(site: PagesSite, accept: str | None,
                                                      page: bool) -> None:
    r = site.get("/", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert "Accept" in r.headers["Vary"]
    if page:
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Accept-Language" in r.headers["Vary"]
        assert r.headers["Content-Language"] == "en"
    else:
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["oai"] == site.url + "oai"


@pytest.mark.parametrize(("accept", "media"), [
    (BROWSER_ACCEPT, "text/html"),
    ("text/html", "text/html"),  # was 406
    ("application/xhtml+xml", "text/html"),
    ("*/*", "application/ld+json"),
    (None, "application/ld+json"),
    ("text/html;q=0.9, text/turtle;q=0.5, */*;q=0.1", "text/turtle"),
    ("text/*", "text/turtle"),
    ("application/json, text/html", "application/json"),
])
def test_record_negotiation_pages_only_for_clients_that_ask(site: PagesSite, accept: str | None,
                                                            media: str) -> None:
    r = site.get(f"resources/{site.multilingual_uuid}",
                 headers={"Accept": accept} if accept else {})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media
    assert "Accept" in r.headers["Vary"]


def test_format_html_and_profile(site: PagesSite) -> None:
    uuid = site.multilingual_uuid
    assert site.get(f"resources/{uuid}?format=html").headers["Content-Type"].startswith(
        "text/html")
    # An AMB profile request is a machine's, whatever else it accepts.
    amb = site.get(f"resources/{uuid}?profile=amb", headers=HTML)
    assert amb.headers["Content-Type"] == "application/ld+json"
    bad = site.get(f"resources/{uuid}?format=pdf")
    assert bad.status_code == 400 and "html" in bad.json()["detail"]


def test_prefers_html_rules() -> None:
    assert prefers_html(BROWSER_ACCEPT, ["application/ld+json"])
    assert not prefers_html(None, ["application/json"])
    assert not prefers_html("text/*", ["application/json"])
    # /oai: browsers name application/xml;q=0.9 themselves, so q decides there.
    xml = ["text/xml", "application/xml"]
    assert prefers_html(BROWSER_ACCEPT, xml, named_data_wins=False)
    assert not prefers_html("text/xml", xml, named_data_wins=False)
    assert not prefers_html("text/html;q=0.5, application/xml", xml, named_data_wins=False)


# -- languages ------------------------------------------------------------------------------


def test_every_interface_language_has_every_message() -> None:
    assert set(UI_LANGUAGES) == set(MESSAGES) == {"ar", "zh", "en", "fr", "ru", "es", "de"}
    for lang in UI_LANGUAGES:
        assert MESSAGES[lang].keys() == MESSAGES["en"].keys(), lang
        for key, text in MESSAGES[lang].items():
            fields = set(re.findall(r"\{(\w+)\}", text))
            assert fields == set(re.findall(r"\{(\w+)\}", MESSAGES["en"][key])), (lang, key)


def test_visitor_languages_order() -> None:
    assert visitor_languages("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5", None) == ["fr-ch", "fr", "en"]
    assert visitor_languages("de;q=0.2, ar", "zh") == ["zh", "ar", "de"]
    assert visitor_languages("x;q=abc, <script>", "javascript:") == []
    assert ui_language(["pt-br", "es-mx"]) == "es"
    assert ui_language(["pt"]) == "en"


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_record_page_in_each_interface_language(site: PagesSite, lang: str) -> None:
    r = site.get(f"resources/{site.multilingual_uuid}?lang={lang}", headers=HTML)
    assert r.status_code == 200 and r.headers["Content-Language"] == lang
    doc = _doc(r.content)
    root = doc.getroottree().getroot()
    assert root.get("lang") == lang
    assert root.get("dir") == ("rtl" if lang in RTL_LANGUAGES else "ltr")
    assert doc.findtext(".//h2[@id='licence-h']") == MESSAGES[lang]["licence"]
    expected = MULTILINGUAL_TITLES.get(lang)
    h1 = doc.find(".//h1")
    if expected:  # the title in the visitor's language, marked with it
        assert h1.text_content() == expected and h1.get("lang") == lang
    # Concepts are labelled from the shipped vocabularies in the page's language where they
    # have it: ISCED-F 0541 in English is "Mathematics".
    subjects = [li.text for li in doc.findall(".//dd/ul[@class='tags']/li")]
    if lang == "en":
        assert "Mathematics" in subjects


def test_accept_language_chooses_text_and_interface(site: PagesSite) -> None:
    r = site.get(f"resources/{site.multilingual_uuid}",
                 headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    doc = _doc(r.content)
    assert doc.find(".//h1").text_content() == MULTILINGUAL_TITLES["zh"]
    assert r.headers["Content-Language"] == "zh" and "Accept-Language" in r.headers["Vary"]
    # ?lang= wins over the header, and the switcher links every interface language.
    fr = _doc(site.get(f"resources/{site.multilingual_uuid}?lang=fr",
                       headers={**HTML, "Accept-Language": "zh"}).content)
    assert fr.find(".//h1").text_content() == MULTILINGUAL_TITLES["fr"]
    links = {a.get("hreflang"): a.get("href") for a in fr.findall(".//nav[@class='langs']//a")}
    assert set(links) == set(UI_LANGUAGES)
    assert links["ar"] == f"{site.multilingual_uuid}?lang=ar"


# -- content and escaping -------------------------------------------------------------------


def test_record_page_shows_licence_concepts_link_and_provenance(site: PagesSite) -> None:
    uuid = site.uuids()[2]  # described by both members
    doc = _doc(site.get(f"resources/{uuid}?lang=en", headers=HTML).content)
    badge = doc.find(".//section[@class='licence']//svg")
    assert badge is not None and badge.get("role") == "img" and badge.get("aria-label")
    assert doc.find(".//a[@class='button']").get("href").startswith("https://oer.example.org/")
    sources = doc.findall(".//ol[@class='sources']/li")
    assert len(sources) == 2
    members = {li.find(".//p[@class='who']/a").get("href").rsplit("/", 1)[-1] for li in sources}
    assert members == {"lom", "dc"}
    getrecords = [a.get("href") for a in doc.findall(".//p[@class='ident']/a")]
    assert len(getrecords) == 2 and all("verb=GetRecord" in g for g in getrecords)
    assert all(li.find(".//span[@class='when']") is not None for li in sources)
    # No external resources at all: no script, no stylesheet link, no image, no font.
    assert not doc.xpath("//script|//link|//img|//iframe")


def test_members_text_is_escaped(site: PagesSite) -> None:
    pages = [site.get("/", headers=HTML), site.get("members/dc", headers=HTML),
             site.get(f"resources/{site.multilingual_uuid}?lang=fr", headers=HTML),
             site.get(f"resources/{site.uuids()[2]}", headers=HTML)]
    for r in pages:
        assert r.status_code == 200
        text = r.text
        assert "<script" not in text.lower() and "onerror=alert" not in text.replace(
            "onerror=alert(2)&gt;", "")
        assert not _doc(r.content).xpath("//script|//img|//*[@onerror]")
    landing = _doc(pages[0].content)
    assert HOSTILE_MEMBER_NAME in [a.text_content() for a in landing.findall(".//tbody//a")]
    # The description keeps what the member wrote, as text (HTML tags are cleaned by the
    # normalizer; whatever is left is shown, never interpreted).
    description = _doc(pages[2].content).find(".//p[@class='description']").text_content()
    assert description.startswith("Les fractions pas à pas.")


def test_only_http_urls_become_links() -> None:
    assert _safe_url("https://example.org/x") == "https://example.org/x"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil",
                "/relative", None, 42, "http:///nohost"):
        assert _safe_url(bad) is None, bad


def test_licence_badges() -> None:
    assert licence_badge("https://creativecommons.org/licenses/by-sa/4.0/").code == "BY-SA 4.0"
    assert licence_badge("https://creativecommons.org/licenses/by-nc-nd/3.0/de/").open is False
    assert licence_badge("https://creativecommons.org/publicdomain/zero/1.0/").code == "CC0"
    assert licence_badge("https://creativecommons.org/publicdomain/mark/1.0/").code == "PD"
    assert licence_badge("https://www.gnu.org/licenses/gpl-3.0-standalone.html").open


# -- the member page -------------------------------------------------------------------------


def test_member_page(site: PagesSite) -> None:
    r = site.get("members/lom", headers=HTML)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    doc = _doc(r.content)
    assert doc.find(".//h1").text_content() == "Open University of Testing"
    facts = dict(zip([dt.text for dt in doc.findall(".//dl/dt")],
                     [dd.text_content().strip() for dd in doc.findall(".//dl/dd")]))
    assert facts["Records harvested"] == "12" and facts["Quarantined records"] == "0"
    assert facts["State"] == "ok" and facts["Country"] == "France"
    assert facts["OAI-PMH endpoint"].startswith("http://127.0.0.1:")
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$", facts["Last harvest"])
    report = doc.find(".//section[@id='quality-report']")
    assert report is not None
    # The member's quality report (eduxchange.publish.report) is the page's section, one heading level
    # under the page's: its summary counts the member's twelve records, its charts are inline.
    inner = report.find(".//section[@class='member-report']")
    assert inner is not None and not inner.findall(".//h1") and not inner.findall(".//h2")
    summary = {row[0].text_content(): row[1].text_content()
               for row in inner.xpath(".//table[1]//tr[td]")}
    assert summary["Harvested (readable)"] == "12", summary
    assert summary["Normalized into the catalogue"] == "12", summary
    assert inner.xpath(".//*[local-name()='svg']")
    browse = doc.xpath("//a[contains(@href, 'set=member%3Alom')]")
    assert browse and "verb=ListRecords" in browse[0].get("href")
    # A configured member never harvested has a page; an unknown one is 404.
    assert site.get("members/later", headers=HTML).status_code == 200
    assert site.get("members/nobody", headers=HTML).status_code == 404
    assert site.get("members/..%2Fetc", headers=HTML).status_code == 404
    # Every record's provider link resolves (it used to be a 404).
    record = site.get(f"resources/{site.multilingual_uuid}", headers={"Accept": "application/json"})
    provider = record.json()["mainEntityOfPage"][0]["provider"]["id"]
    assert site.get(provider.replace("https://catalog.example.org/", ""), headers=HTML
                    ).status_code == 200


# -- thin links and caching -------------------------------------------------------------------


def test_pages_are_small_and_cacheable(site: PagesSite) -> None:
    paths = ["/", f"resources/{site.multilingual_uuid}?lang=ar", "members/lom",
             "oai?verb=ListRecords&metadataPrefix=oai_dc"]
    for path in paths:
        r = site.get(path, headers={**HTML, "Accept-Encoding": "gzip"}, stream=True)
        raw = r.raw.read()
        assert r.headers["Content-Encoding"] == "gzip"
        assert len(raw) < 100 * 1024, (path, len(raw))
        assert len(gzip.decompress(raw)) > 1000
        etag = r.headers["ETag"]
        again = site.get(path, headers={**HTML, "Accept-Encoding": "gzip", "If-None-Match": etag})
        assert again.status_code == 304, path
    # The page and the data at one URL have different tags.
    uuid = site.multilingual_uuid
    page = site.get(f"resources/{uuid}", headers=HTML).headers["ETag"]
    data = site.get(f"resources/{uuid}").headers["ETag"]
    assert page != data


# -- OAI-PMH through the stylesheet -----------------------------------------------------------


def test_oai_responses_name_the_stylesheet_and_stay_valid(site: PagesSite) -> None:
    for query in ("verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc",
                  "verb=ListRecords&metadataPrefix=lom", "verb=ListIdentifiers&metadataPrefix=lom",
                  "verb=Nonsense"):
        r = site.get(f"oai?{query}")
        assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
        head = r.content[:200]
        assert head.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n"
                               b'<?xml-stylesheet type="text/xsl" href="oai.xsl"?><OAI-PMH')
        tree = etree.fromstring(r.content).getroottree()
        pi = tree.getroot().getprevious()
        assert isinstance(pi, etree._ProcessingInstruction) and pi.target == "xml-stylesheet"
        if all(missing(SCHEMA_FILES[n]) is None for n in ("oai-pmh", "oai_dc", "lom")):
            schema = xml_schema("oai-pmh", "oai_dc", "lom", "rdf", "oai-identifier")
            assert schema.validate(tree), (query, schema.error_log)
    xsl = site.get("oai.xsl")
    assert xsl.status_code == 200 and xsl.headers["Content-Type"].startswith("text/xsl")
    etree.XSLT(etree.fromstring(xsl.content))  # a stylesheet lxml compiles


def test_oai_for_browsers_is_the_stylesheets_rendering(site: PagesSite) -> None:
    r = site.get("oai?verb=ListRecords&metadataPrefix=lom", headers=HTML)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    doc = _doc(r.content)
    titles = [t.text_content() for t in doc.findall(".//div[@class='title']")]
    assert MULTILINGUAL_TITLES["ar"] in titles or MULTILINGUAL_TITLES["fr"] in titles
    assert len(titles) == 12
    # Harvesters that name XML (or nothing) keep the XML.
    assert site.get("oai?verb=Identify", headers={"Accept": "text/xml"}).content.startswith(b"<?xml")
    error = _doc(site.get("oai?verb=Bad", headers=HTML).content)
    assert error.find(".//p[@class='error']").text_content().startswith("badVerb")


def test_hostile_text_in_the_oai_rendering_stays_text(site: PagesSite) -> None:
    r = site.get("oai?verb=ListRecords&metadataPrefix=lom", headers=HTML)
    doc = _doc(r.content)
    assert not doc.xpath("//script[not(ancestor::head)]|//img|//*[@onerror]")
    assert not any(HOSTILE_TEXT in (s.text or "") for s in doc.xpath("//script"))


def test_search_form_points_at_the_search_seam(site: PagesSite) -> None:
    doc = _doc(site.get("/", headers=HTML).content)
    form = doc.find(".//form[@role='search']")
    assert form.get("action") == site.url + "search" and form.get("method") == "get"
    assert doc.find(".//label[@for='q']") is not None


def test_landing_page_counts(site: PagesSite) -> None:
    doc = _doc(site.get("/?lang=en", headers=HTML).content)
    counts = {li.text_content().split(None, 1)[1]: int(li.find("strong").text)
              for li in doc.findall(".//ul[@class='counts']/li")}
    assert counts["resources"] == len(site.uuids()) == 12
    assert counts["members"] == 3 and counts["languages"] >= 4 and counts["licences"] >= 2
    rows = doc.findall(".//tbody/tr")
    assert [r.xpath("string(td/span[starts-with(@class, 'state')])") for r in rows] == [
        "ok", "ok", "never harvested"]
    feeds = [a.get("href") for a in doc.findall(".//dl[@class='feeds']//a")]
    assert site.url + "oai?verb=Identify" in feeds and site.url + "changes" in feeds


def test_static_files_are_package_data() -> None:
    from importlib.resources import files
    folder = files("eduxchange.publish.web") / "templates"
    names = {p.name for p in folder.iterdir()}
    assert {"base.html", "index.html", "resource.html", "member.html", "oai.xsl",
            "style.css"} <= names
    assert Path(str(folder)).is_dir()


def test_pages_under_concurrent_load(site: PagesSite) -> None:
    """Pages and the server-side stylesheet from many threads at once: all whole, all alike."""
    from concurrent.futures import ThreadPoolExecutor

    paths = ["oai?verb=ListRecords&metadataPrefix=lom", f"resources/{site.multilingual_uuid}",
             "/", "members/dc"] * 6

    def fetch(path: str) -> tuple[str, int, int]:
        r = site.get(path, headers=HTML)
        return path, r.status_code, len(_doc(r.content).xpath("//h1"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, paths))
    assert all(status == 200 and h1 == 1 for _, status, h1 in results), results
