"""Free text to clean plain text: HTML tags and entities out, whitespace collapsed.

``clean_text`` gives what a language map holds (docs/record.md: "HTML removed, whitespace
collapsed"): one line of plain text. Paragraph and line breaks become single spaces, since the
record has no markup to keep them in; a consumer that wants paragraphs needs the raw record.

What real records carry, and what happens to it:

* HTML, escaped once (``<p>`` after XML parsing) or twice (``&lt;p&gt;``): tags of the HTML
  vocabulary are removed (block tags and ``<br>`` leave a space, inline tags nothing), comments,
  ``<script>`` and ``<style>`` go with their content. Text that merely looks like a tag
  (``x<y``, ``3<5 and 6>4``, ``<foo>``) stays, because only HTML element names count as tags.
* Character references (``&amp;`` ``&nbsp;`` ``&#233;`` ``&#x2019;``), only in their complete
  form with ``;`` (HTML5's semicolon-less legacy forms would turn ``&para`` inside a URL into
  ``¶``).
* UTF-8 decoded twice (as Latin-1 or Windows-1252): ``INOVAÇÃ\\x83O`` (the bytes of ``Ã`` read
  one by one) is repaired by ``ftfy`` (:func:`repair_mojibake`) to ``INOVAÇÃO``, before the C1
  mapping below would make it ``INOVAÇÃƒO``. Only where a cheap check finds the marks of double
  decoding, and only what ``ftfy.fix_encoding`` undoes: that re-encodes the text and decodes it as
  UTF-8, which succeeds only when the text *is* such mojibake, so it is a repair, never a guess.
* Windows-1252 bytes read as Latin-1: the C1 control characters U+0080-U+009F become the
  characters cp1252 puts there (Canal-U writes ``01 \\x96 Illettrisme``: an en dash); other
  control characters, zero-width spaces and byte order marks are dropped.

The result is a fixed point: ``clean_text(clean_text(x)) == clean_text(x)`` (cleaning repeats
until nothing changes, which also unwraps double escaping).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape
from html.entities import html5 as _NAMED_ENTITIES

import ftfy
import ftfy.bad_codecs  # noqa: F401 (registers sloppy-windows-1252)

__all__ = ["clean_text", "repair_mojibake", "split_keywords"]

#: Tags that end a block leave a space; the other HTML tags leave nothing; a "tag" whose name is
#: no HTML element name (``<foo>``) is text and stays.
_BLOCK_TAGS = frozenset("""
    address article aside blockquote body br caption center dd details dialog dir div dl dt
    fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html
    iframe legend li link main menu meta nav noframes ol optgroup option p pre section summary
    table tbody td tfoot th thead title tr ul
""".split())
_INLINE_TAGS = frozenset("""
    a abbr acronym audio b basefont bdi bdo big blink button cite code col colgroup data del dfn
    em embed font i img input ins kbd label map mark math nobr object param picture q rp rt ruby
    s samp select small source span strike strong sub sup svg textarea time track tt u var video
    wbr
""".split())
_ATTRS = r"""(?:\s[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*)?"""
#: Comments, <script>/<style> with their content, CDATA markers, doctypes, processing instructions.
_DROP = re.compile(r"<!--.*?(?:-->|$)|<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)|<!\[CDATA\[|\]\]>|"
                   r"<![A-Za-z][^>]*>|<\?[^>]*\?>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(rf"</?([A-Za-z][A-Za-z0-9]*){_ATTRS}/?>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: What needs more than whitespace collapsing.
_SPECIAL = re.compile(r"[<&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")


def _c1_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0xA0):
        try:
            table[code] = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in cp1252
            table[code] = ""
    for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F,
                 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
        table[code] = ""
    return table


_CONTROL_TABLE = _c1_table()


#: The marks UTF-8 decoded as Latin-1/cp1252 leaves: a C1 control, or a lead byte (Â-ô) before
#: a continuation byte (0x80-0xBF) as Latin-1 or cp1252 shows it ("Ã©", "Ãœ", "â€™").
_MOJIBAKE = re.compile(
    "[\x80-\x9f]|[\xc2-\xf4][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")


#: One character class, scanned first: a text with none of these characters (Chinese, Arabic,
#: Cyrillic, ASCII) cannot be such mojibake, and the class is cheaper to scan for.
_MOJIBAKE_LEAD = re.compile("[\x80-\x9f\xc2-\xf4]")


def repair_mojibake(value: str) -> str:
    """``value`` with doubly decoded UTF-8 undone (``ftfy``), else unchanged.

    ftfy finds the repair; each of its rounds is taken only if it is provably one: made of
    steps that re-decode UTF-8 read as Latin-1 or Windows-1252 (:data:`_PROVABLE`), and such
    that the text before the round is the text after it with some characters written as their
    UTF-8 bytes read one by one (:func:`_is_mojibake_of`). Its heuristics (a no-break space
    restored from a plain space in ``Ã ``, a guess between other code pages) are not proofs,
    and the repair stops at the first round that is not proven.

    >>> repair_mojibake("INOVAÇÃ\x83O"), repair_mojibake("SÃO PAULO")
    ('INOVAÇÃO', 'SÃO PAULO')
    """
    if value.isascii() or not _MOJIBAKE.search(value):
        return value
    plan = ftfy.fix_encoding_and_explain(value, restore_byte_a0=False).explanation or []
    text = value
    step_round: list[tuple[str, str]] = []
    for action, parameter in plan:
        step_round.append((action, parameter))
        if action == "encode":
            continue
        # A round ends with a decode or an "apply" step.
        if not all(step in _PROVABLE for step in step_round):
            break
        repaired = ftfy.apply_plan(text, step_round)
        if not _is_mojibake_of(text, repaired):
            break
        text = repaired
        step_round = []
    return text


def _is_mojibake_of(broken: str, text: str) -> bool:
    """Whether ``broken`` is ``text`` with some characters as their UTF-8 bytes read as Latin-1
    or Windows-1252 (a greedy left-to-right match; a miss only means no repair)."""
    i = 0
    for char in text:
        if char >= "\x80":
            encoded = char.encode("utf-8")
            for codec in ("latin-1", "sloppy-windows-1252"):
                form = encoded.decode(codec)
                if broken.startswith(form, i):
                    i += len(form)
                    break
            else:
                if broken[i:i + 1] != char:
                    return False
                i += 1
        elif broken[i:i + 1] == char:
            i += 1
        else:
            return False
    return i == len(broken)


#: The ftfy steps that undo UTF-8 decoded as Latin-1/cp1252 and nothing else.
_PROVABLE = frozenset({("encode", "latin-1"), ("encode", "sloppy-windows-1252"),
                       ("encode", "windows-1252"), ("decode", "utf-8"),
                       ("apply", "decode_inconsistent_utf8")})


def clean_text(value: str) -> str:
    """Return ``value`` as one line of plain text (module docstring); ``""`` if nothing is left.

    >>> clean_text("<p>Caf&eacute; &amp; cr&#232;me</p><p>  second\\n paragraph </p>")
    'Café & crème second paragraph'
    """
    if value.isascii():
        return _clean(value)
    if _MOJIBAKE_LEAD.search(value) and _MOJIBAKE.search(value):
        return _clean_repaired(value)
    text = _clean(value)
    if text != value and _may_be_mojibake(text):  # cleaning revealed some ("Â\x08¡")
        return _clean_repaired(text)
    return text


def _may_be_mojibake(text: str) -> bool:
    return not text.isascii() and _MOJIBAKE_LEAD.search(text) is not None and (
        _MOJIBAKE.search(text) is not None)


def _clean_repaired(value: str) -> str:
    """:func:`clean_text` of a text that may be mojibake: repaired first, before the C1 mapping
    turns ``Ã\x83`` into ``Ãƒ``, and again if cleaning reveals more (``Â\x08¡``), bounded."""
    text = _clean(repair_mojibake(value))
    for _ in range(3):
        if not _may_be_mojibake(text):
            break
        repaired = repair_mojibake(text)
        if repaired == text:
            break
        text = _clean(repaired)
    return text


def _clean(value: str) -> str:
    if "<" not in value and "&" not in value:  # fast paths (C-level checks): no markup
        if value.isprintable():  # no control characters, no whitespace but " "
            if "  " not in value and value[:1] != " " and value[-1:] != " ":
                return value
            return " ".join(value.split())
        if _CONTROLS.search(value):
            value = value.translate(_CONTROL_TABLE)
        return " ".join(value.split())
    text = _clean_once(value)
    while _SPECIAL.search(text):  # double escaping ("&lt;p&gt;"): clean until nothing changes
        again = _clean_once(text)
        if again == text:
            break
        text = again
    return text


def _clean_once(text: str) -> str:
    if _CONTROLS.search(text):
        text = text.translate(_CONTROL_TABLE)
    if "<" in text:
        text = _DROP.sub(" ", text)
        text = _TAG.sub(_replace_tag, text)
    if "&" in text:
        text = _ENTITY.sub(_unescape_entity, text)
        if _CONTROLS.search(text):  # &#150; is cp1252-mapped by html.unescape; &#1; is not
            text = text.translate(_CONTROL_TABLE)
    return " ".join(text.split())


def _replace_tag(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    if name in _BLOCK_TAGS:
        return " "
    return "" if name in _INLINE_TAGS else match.group()


def _unescape_entity(match: re.Match[str]) -> str:
    entity = match.group()
    if entity[1] == "#":  # numeric: html.unescape maps &#150; as HTML5 says (cp1252)
        return unescape(entity)
    return _NAMED_ENTITIES.get(entity[1:], entity)


#: Separators of keyword lists. Line breaks and tabs always separate; then, if the cleaned text
#: has any of the strong separators, commas belong to keywords ("Paris, France; Geography"),
#: otherwise commas separate ("a, b").
_LINES = re.compile(r"[\n\r\t\v\f\u2028\u2029]+")
_STRONG_SEPARATORS = re.compile(r"[;|•；、]+")
_COMMA = re.compile(r"[,，]+")
_KEYWORD_EDGES = " .,;:-–—"


@lru_cache(maxsize=8192)
def _split_keywords(value: str) -> tuple[str, ...]:
    # Clean before splitting, so that "&amp;" is no separator and a cp1252 bullet (\x95) is one.
    lines = [line for line in (clean_text(raw) for raw in _LINES.split(value)) if line]
    strong = len(lines) > 1 or any(_STRONG_SEPARATORS.search(line) for line in lines)
    splitter = _STRONG_SEPARATORS if strong else _COMMA
    seen: set[str] = set()
    keywords: list[str] = []
    for line in lines:
        for part in splitter.split(line):
            keyword = part.strip(_KEYWORD_EDGES)
            key = keyword.casefold()
            if keyword and key not in seen:
                seen.add(key)
                keywords.append(keyword)
    return tuple(keywords)


def split_keywords(value: str) -> list[str]:
    """Split a keyword string into cleaned keywords, in order, without repeats (case-insensitive).

    Line breaks, tabs, semicolons, vertical bars, bullets (``•``; not ``·``: Catalan writes
    ``l·l``) and the CJK ``；`` ``、`` separate keywords; when none of them occurs, commas do
    (``"a, b"``), otherwise commas belong to keywords (``"Paris, France; Geography"``).

    >>> split_keywords("fractions; arithmetic, primary ; Fractions")
    ['fractions', 'arithmetic, primary']
    """
    return list(_split_keywords(value))
