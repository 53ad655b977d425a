"""The member quality report in Arabic (right to left) and Chinese, in a real browser.

Headless Chromium through chromedriver, as :mod:`tests.test_browser` (whose fixtures and
skip rule this reuses): the report's charts keep their labels beside the bars, not over them,
when the page is right to left, and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

from typing import Any

import pytest

from eduxchange.publish import report as reports
from tests.test_browser import _axe, _no_horizontal_overflow, _shot, browser, pytestmark, site

__all__ = ["browser", "pytestmark", "site"]  # the fixtures and the skip rule, reused


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_member_report_charts_read_in_the_page_direction(browser: Any, site: Any,
                                                         lang: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{site.url}members/lom?lang={lang}")
    section = browser.find_element(By.CSS_SELECTOR, "section.member-report")
    headings = [h.text for h in section.find_elements(By.TAG_NAME, "h3")]
    assert headings[0] == reports.MESSAGES[lang]["summary"]
    # Every chart label ends before its bar starts (in an rtl page too: the charts are drawn
    # left to right, whatever the page's direction).
    overlaps = browser.execute_script("""
        const bad = [];
        for (const svg of document.querySelectorAll('section.member-report svg')) {
          const rects = [...svg.querySelectorAll('rect')];
          for (const label of svg.querySelectorAll('text[text-anchor=end]')) {
            const box = label.getBoundingClientRect();
            const bar = rects.find(r => Math.abs(r.getBoundingClientRect().top
                                                 - box.top) < 12);
            if (bar && box.right > bar.getBoundingClientRect().left + 1)
              bad.push([label.textContent, box.right, bar.getBoundingClientRect().left]);
          }
        }
        return bad;""")
    assert overlaps == [], overlaps
    _no_horizontal_overflow(browser)
    _shot(browser, f"member-report-{lang}")
    assert _axe(browser) == []
