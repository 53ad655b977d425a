"""The pages in a real browser: headless Chromium driven by Selenium through the system
chromedriver (Debian's ``chromium`` and ``chromium-driver``; ``.ci/run`` installs them).

What a person sees: the landing page, a record page in French and in Arabic (right to left), a
member page, OAI-PMH responses rendered through the stylesheet (by the server for a browser,
and by the browser itself from the processing instruction), a phone-width screen without
horizontal scrolling, and an axe-core accessibility check with no serious or critical
violation (axe-core 4 as bundled by the ``axe-core-python`` package: no network at test time).

Screenshots are saved to ``tests/artifacts/browser/`` (git-ignored; ``EDUXCHANGE_ARTIFACTS``
overrides the folder) for people to look at. Without chromium or chromedriver every test here
skips and says what to install.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from tests.support.pages_site import MULTILINGUAL_TITLES, PagesSite, pages_site

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("EDUXCHANGE_ARTIFACTS")
                 or Path(__file__).resolve().parent / "artifacts" / "browser")

_why_not = None
if CHROMIUM is None or not Path(CHROMEDRIVER).is_file():
    _why_not = ("needs Debian's chromium and chromium-driver (apt-get install chromium "
                "chromium-driver; .ci/run does it)")
else:
    try:
        import selenium  # noqa: F401
    except ImportError:
        _why_not = "needs selenium (pip install -e '.[test]')"

pytestmark = pytest.mark.skipif(_why_not is not None, reason=_why_not or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PagesSite]:
    with pages_site(tmp_path_factory.mktemp("browser")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium Manager would look for (and download) drivers and browsers: never. The driver
    # path and the browser binary are given, and it is told to stay offline besides.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None
    # Debian's /usr/bin/chromium is a shell wrapper; the driver wants the binary itself.
    real = Path("/usr/lib/chromium/chromium")
    options.binary_location = str(real) if real.is_file() else CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-default-apps", "--disable-sync"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # The whole page, not just the window (CDP: the layout size, then one screenshot).
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(int(height), 6000), "deviceScaleFactor": 1,
        "mobile": width < 600})
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 1000
    return path


def _axe(driver: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page now loaded (WCAG 2.x A/AA)."""
    source = (files("axe_core_python") / "axe.min.js").read_text("utf-8")
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(r.violations)).catch(e => done({error: String(e)}));")
    assert not isinstance(result, dict), result
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["html"][:200] for n in v["nodes"][:3]]}
            for v in result if v["impact"] in ("serious", "critical")]


def _no_horizontal_overflow(driver: Any) -> None:
    overflow = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], f"page is {overflow[0]}px wide in {overflow[1]}px"


def test_landing_page(browser: Any, site: PagesSite) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site.url + "?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Open educational resources catalogue"
    counts = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".counts li")]
    assert counts[0].split() == ["12", "resources"]
    members = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody th a")]
    assert "Open University of Testing" in members
    assert any("<script>" in m for m in members)  # the hostile name, shown as text
    assert browser.find_element(By.CSS_SELECTOR, "form[role=search] input#q").is_displayed()
    _shot(browser, "landing-en")
    assert _axe(browser) == []


@pytest.mark.parametrize(("lang", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_record_page_in_two_languages(browser: Any, site: PagesSite, lang: str,
                                      direction: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}resources/{site.multilingual_uuid}?lang={lang}")
    assert browser.find_element(By.TAG_NAME, "h1").text == MULTILINGUAL_TITLES[lang]
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("dir") == direction and html.get_attribute("lang") == lang
    assert browser.execute_script(
        "return getComputedStyle(document.body).direction") == direction
    badge = browser.find_element(By.CSS_SELECTOR, ".licence svg")
    assert badge.size["width"] > 40 and badge.get_attribute("aria-label")
    tags = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".facts .tags li")]
    assert ("Mathématiques" if lang == "fr" else "الرياضيات") in tags
    if direction == "rtl":  # the heading starts at the right edge of the page
        heading = browser.find_element(By.TAG_NAME, "h1").rect
        main = browser.find_element(By.TAG_NAME, "main").rect
        assert heading["x"] + heading["width"] > main["x"] + main["width"] * 0.6
    _shot(browser, f"record-{lang}")
    assert _axe(browser) == []


def test_member_page(browser: Any, site: PagesSite) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}members/lom?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Open University of Testing"
    assert browser.find_element(By.ID, "quality-report").is_displayed()
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Records harvested" in text and "France" in text
    _shot(browser, "member-lom")
    assert _axe(browser) == []


def test_oai_page_rendered_through_the_stylesheet(browser: Any, site: PagesSite) -> None:
    from selenium.webdriver.common.by import By

    url = f"{site.url}oai?verb=ListRecords&metadataPrefix=lom"
    browser.get(url)  # the browser asks for HTML: the server applies the stylesheet
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".records .title")]
    assert len(titles) == 12 and MULTILINGUAL_TITLES["ar"] in titles
    assert "<OAI-PMH" not in browser.page_source
    _shot(browser, "oai-listrecords")
    assert _axe(browser) == []
    # A client that asks for XML gets XML, and the browser renders it through the stylesheet
    # the processing instruction names (while Chromium still runs XSLT).
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                            {"headers": {"Accept": "application/xml"}})
    try:
        browser.get(url)
        titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".records .title")]
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    assert MULTILINGUAL_TITLES["ar"] in titles, browser.page_source[:500]


def test_search_with_a_facet(browser: Any, site: PagesSite) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    def navigate(click: Any) -> None:
        """Click, then wait until the page it leads to has replaced this one (a click returns
        before the navigation ends; on a loaded machine the old page is still there)."""
        old = browser.find_element(By.TAG_NAME, "html")
        click.click()
        WebDriverWait(browser, 20).until(expected_conditions.staleness_of(old))

    browser.get(site.url + "?lang=en")
    navigate(browser.find_element(By.CSS_SELECTOR, "form[role=search] button"))  # empty: all
    assert browser.find_element(By.TAG_NAME, "h1").text == "Search"
    assert browser.find_element(By.ID, "results-h").text == "12 resources found"
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.hit")) == 12
    link = browser.find_element(By.CSS_SELECTOR, "section[data-facet=member] li:last-child a")
    count = int(browser.find_element(
        By.CSS_SELECTOR, "section[data-facet=member] li:last-child .count").text)
    assert 0 < count < 12
    navigate(link)
    assert browser.find_element(By.ID, "results-h").text == f"{count} resources found"
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.hit")) == count
    assert browser.find_elements(By.CSS_SELECTOR, ".facets a[aria-current=true]")
    _shot(browser, "search-facet-en")
    assert _axe(browser) == []
    browser.get(f"{site.url}search?q={MULTILINGUAL_TITLES['zh']}&lang=ar")  # CJK query, RTL page
    titles = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "li.hit h3 a")]
    assert titles == [MULTILINGUAL_TITLES["ar"]]
    _shot(browser, "search-ar")
    assert _axe(browser) == []


def test_phone_width_has_no_horizontal_overflow(browser: Any, site: PagesSite) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    try:
        pages = {"landing": "?lang=en", "record-ar": f"resources/{site.multilingual_uuid}?lang=ar",
                 "record-zh": f"resources/{site.uuids()[2]}?lang=zh",
                 "member": "members/dc?lang=ru", "search": "search?lang=fr",
                 "oai": "oai?verb=ListRecords&metadataPrefix=oai_dc"}
        for name, path in pages.items():
            browser.get(site.url + path)
            assert browser.execute_script("return window.innerWidth") == 375
            _no_horizontal_overflow(browser)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 375, "height": min(int(height), 4000), "deviceScaleFactor": 2,
                "mobile": True})
            browser.save_screenshot(str(ARTIFACTS / f"phone-{name}.png"))
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
