"""Pages for people: the landing page, record and member pages, OAI-PMH through XSLT.

See :mod:`eduxchange.publish.web.pages`; the interface text is :mod:`eduxchange.publish.web.messages`, the
templates and the OAI-PMH stylesheet are package data in ``templates/``.
"""

from __future__ import annotations

from .messages import UI_LANGUAGES
from .pages import (
    OAI_STYLESHEET,
    Page,
    Pages,
    member_report_html,
    oai_html,
    parse_accept,
    prefers_html,
    q_value,
    ui_language,
    visitor_languages,
)

__all__ = ["OAI_STYLESHEET", "Page", "Pages", "UI_LANGUAGES", "member_report_html", "oai_html", "parse_accept",
           "prefers_html", "q_value", "ui_language", "visitor_languages"]
