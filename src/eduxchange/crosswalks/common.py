"""Field rules every crosswalk shares: identifiers, URLs, media types, age ranges, text maps.

The LOM and DC crosswalks each had their own identifier, URL and age rules; they drifted, and the
same book got two de-duplication keys (``urn:isbn:978-3-16-148410-0`` from LOM,
``urn:isbn:9783161484100`` from DC; ``info:doi/...`` a DOI only from DC; LOM taking a PDF as the
landing page). Every crosswalk (:mod:`.dc`, :mod:`.lom`, :mod:`.lrmi`, and any new one) uses
these functions, and tests/test_fields_shared.py checks that one resource described in each
format gets the same match keys.

* :func:`classify_identifier`: DOIs, handles, ISBNs (check digit verified), ``urn:nbn`` to
  their canonical form, http(s) URLs apart; anything else is no identifier;
* :func:`pick_url`: the landing page among a description's URLs: the first that is not a file
  (a PDF, a DSpace bitstream), else the first;
* :func:`media_type`: the media type a format value starts with;
* :func:`age_range` (:mod:`eduxchange.normalize.ages`) and :func:`span`;
* :func:`put_text`, :func:`description_map`: language maps of texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from ..normalize.ages import age_range, span
from ..normalize.langid import detect_language

__all__ = ["SEPARATOR", "classify_identifier", "http_url", "pick_url", "media_type", "age_range",
           "span", "add_unique", "put_text", "description_map"]

#: What separates several texts of one language kept in one language-map value (a record's text
#: is one line: docs/record.md).
SEPARATOR = " "

# --- identifiers ---------------------------------------------------------------------------
_DOI = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi\s*:?\s*|info:doi/|urn:doi:)?"
    r"(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_HANDLE = re.compile(
    r"^(?:(?:https?://)?hdl\.handle\.net/|hdl\s*:\s*|info:hdl/)([0-9][\w.-]*/[^?#\s]+)",
    re.IGNORECASE)
_ISBN = re.compile(r"^(?:urn:isbn:|isbn(?:-1[03])?\s*:?\s*)([0-9][0-9 -]{8,}[0-9Xx])$",
                   re.IGNORECASE)
_BARE_ISBN13 = re.compile(r"^97[89](?:-?[0-9]){10}$")
_URN_NBN = re.compile(r"^urn:nbn:\S+$", re.IGNORECASE)
_HTTP = re.compile(r"^https?://[^/\s?#]+", re.IGNORECASE)
#: White space that cannot be part of a URL written with it: a line break and the indentation
#: around it (a URL wrapped over lines), or spaces beside a "/" ("fiocruz.br /186", FEB).
_WRAP = re.compile(r"[ \t]*[\r\n]+[ \t]*|[ \t]+(?=/)|(?<=/)[ \t]+")
#: A URL ending like this (or with a DSpace bitstream path) is a file, not a landing page.
_FILE_URL = re.compile(
    r"(?:/bitstreams?/|/retrieve/|/download\b|\.(?:pdf|docx?|odt|rtf|pptx?|odp|xlsx?|ods|"
    r"zip|gz|tgz|epub|mp[34]|m4v|webm|ogg|wav|avi|mov|jpe?g|png|gif|svg|h5p|imscc|swf|flv|smil?|"
    r"ram?|rm)(?:$|[?#]))",
    re.IGNORECASE)


def _isbn_ok(digits: str) -> bool:
    if len(digits) == 13 and digits.isdigit():
        return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0
    if len(digits) == 10 and digits[:9].isdigit() and (digits[9].isdigit() or digits[9] == "X"):
        total = sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits))
        return total % 11 == 0
    return False


def classify_identifier(value: str, scheme: str | None = None) -> tuple[str, str] | None:
    """Sort one identifier: ``("id", normalised)`` for DOI/handle/ISBN/URN, ``("url", url)``.

    DOIs become ``https://doi.org/10...`` however written (``doi:``, bare ``10.``,
    ``http://dx.doi.org/``, ``info:doi/``), handles ``https://hdl.handle.net/...``
    (``hdl:``, ``http://hdl.handle.net/``), ISBNs ``urn:isbn:<digits>`` (the check digit
    must be right). ``scheme`` is a hint from the source (``xsi:type``, ``propertyID``)
    such as ``"isbn"``. Anything else (citations, local numbers) is ``None``.
    """
    text = value.strip()
    if not text:
        return None
    if text[:4].lower() == "http" and " " not in text and "\n" not in text and "%" not in text:
        lowered = text.lower()
        if "doi" not in lowered and "hdl" not in lowered:
            # The usual case, a web address: none of the identifier patterns below can match.
            url = http_url(text)
            return ("url", url) if url else None
    if " " in text or "\n" in text or "\t" in text:
        if text[:4].lower() == "http":
            # URLs wrapped over lines in the XML (the OAI-PMH spec's own examples do it), or
            # with a space beside a slash: rejoined; "page.htm  (aulas)" is no URL.
            text = _WRAP.sub("", text)
        else:
            squeezed = "".join(text.split())
            if squeezed.lower().startswith(("doi:", "hdl:")):
                text = squeezed
    if "%2" in text or "%3" in text:  # a percent-encoded DOI or handle (10.1234%2Fabc)
        decoded = unquote(text)
        if _DOI.match(decoded) or _HANDLE.match(decoded):
            text = decoded
    match = _DOI.match(text)
    if match:
        return "id", "https://doi.org/" + match.group(1)
    match = _HANDLE.match(text)
    if match:
        return "id", "https://hdl.handle.net/" + match.group(1)
    match = _ISBN.match(text)
    hinted_isbn = scheme is not None and "isbn" in scheme.lower()
    if match or hinted_isbn or _BARE_ISBN13.match(text):
        raw = match.group(1) if match else text
        digits = raw.replace("-", "").replace(" ", "").upper()
        if _isbn_ok(digits):
            return "id", "urn:isbn:" + digits
        return None
    if _URN_NBN.match(text):
        return "id", text
    url = http_url(text)
    return ("url", url) if url else None


def http_url(value: str) -> str | None:
    """``value`` if it is an http(s) URL with a host (scheme in lower case), else ``None``."""
    if not _HTTP.match(value) or " " in value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    scheme, rest = value.split(":", 1)
    return scheme.lower() + ":" + rest


def pick_url(urls: list[str]) -> str | None:
    """The landing page among ``urls``: the first that is not a file, else the first."""
    for url in urls:
        if not _FILE_URL.search(url):
            return url
    return urls[0] if urls else None



_MEDIA_TYPE = re.compile(r"^\s*([a-z][a-z0-9!#$&^_.+-]*/[a-z0-9!#$&^_.+-]+)", re.IGNORECASE)

def media_type(value: str) -> str | None:
    """The media type ``value`` starts with (``text/html; charset=...`` -> ``text/html``)."""
    match = _MEDIA_TYPE.match(value)
    return match.group(1).lower() if match else None


def add_unique(items: list[Any], value: Any) -> None:
    """Append ``value`` unless it is already there (lists stay short: a scan is fastest)."""
    if value not in items:
        items.append(value)


def put_text(target: dict[str, str], key: str, text: str, join: bool) -> None:
    """Put one text in a language map: first wins, or distinct texts joined by a space.

    A language map holds one string per language, and that string is one line of plain text
    (docs/record.md; JSON-LD would allow a list, the record's schema does not): several texts
    in one language can only be joined. Texts in different languages are kept apart by their
    keys (:func:`description_map` identifies untagged ones).
    """
    existing = target.get(key)
    if existing is None:
        target[key] = text
    elif join and text != existing and text not in existing:
        target[key] = existing + SEPARATOR + text


def description_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A ``description`` language map from ``(language key, cleaned text)`` pairs, in order.

    Several descriptions are kept apart (issue: a Portuguese and an English abstract glued into
    one ``@none`` string): where two or more are untagged, each is given the language that
    :func:`~eduxchange.normalize.langid.detect_language` finds with confidence, when no
    description has that language yet; the others stay untagged, joined in the one ``@none``
    text (the schema's ``@none`` holds one string). Identification runs only then, so a record
    with tagged or single descriptions pays nothing for it.
    """
    found = [(key, text) for key, text in pairs if text]
    untagged = [text for key, text in found if key == "@none"]
    out: dict[str, str] = {}
    if len(untagged) < 2:
        for key, text in found:
            put_text(out, key, text, join=True)
        return out
    for key, text in found:
        if key != "@none":
            put_text(out, key, text, join=True)
    tagged = set(out)
    for text in untagged:
        detected = detect_language(text)
        put_text(out, detected if detected and detected not in tagged else "@none", text,
                 join=True)
        if detected:
            tagged.add(detected)
    return out
