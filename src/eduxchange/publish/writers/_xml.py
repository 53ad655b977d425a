"""XML written as text, byte for byte as lxml serializes the same tree (``etree.tostring``, UTF-8).

The oai_dc and LOM writers render a record's metadata for every changed record (normalization
pre-renders both), and building an lxml tree only to serialize it cost most of that: about 70
namespaced ``SubElement`` calls a LOM record. Here each element is a string instead (its
children's markup joined inside its tags), the document is encoded once, and :func:`parse`
makes the element ``write`` returns from those bytes. What lxml writes (lxml 6.1, libxml2 2.14; serialization details vary between
libxml2 releases, and tests/test_writers_render.py holds this to the installed lxml for every
code point and for hostile values), and so what this writes:

* character data: ``&`` ``<`` ``>`` as entity references, CR as ``&#13;`` (a parser would
  otherwise normalize it to LF); everything else as UTF-8, non-BMP characters included;
* attribute values, in double quotes: the same, and ``"`` ``&quot;``, TAB ``&#9;``, LF ``&#10;``
  (attribute-value normalization, XML 1.0 §3.3.3, would turn them into spaces);
* an element without children or text as ``<tag/>``; one with an empty text as ``<tag></tag>``;
* refused, as lxml refuses to set them: characters XML 1.0 §2.2 does not allow (C0 controls but
  TAB, LF and CR; U+FFFE, U+FFFF) raise :class:`ValueError` with lxml's message, and lone
  surrogates :class:`UnicodeEncodeError`; a value that is not a ``str`` raises :class:`TypeError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

__all__ = ["attr", "leaf", "element", "document", "parse", "escape_text", "escape_attr",
           "MAPPING"]

#: ``isinstance(value, MAPPING)``: the writers' test for a mapping in a record. ``dict`` first,
#: since an exact type answers before the ABC's ``__instancecheck__`` (three times slower, and
#: a record has dozens of them): records are JSON, so their mappings are dicts.
MAPPING = (dict, Mapping)

#: The parser of what the writers wrote, for their ``write`` (an lxml element): our own bytes,
#: so no size limits (``huge_tree``; the trees built before had none) and nothing to resolve.
_OWN_XML = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)

_REFUSED_MESSAGE = ("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or "
                    "control characters")


def escape_text(text: str) -> str:
    """Character data as lxml serializes it."""
    # Most values need nothing: four membership tests are cheaper than a regular expression.
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;"))
    return text


def escape_attr(value: str) -> str:
    """An attribute value (to go between double quotes) as lxml serializes it."""
    if ("&" in value or "<" in value or ">" in value or '"' in value or "\r" in value
            or "\n" in value or "\t" in value):
        return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
                .replace("\t", "&#9;"))
    return value


def attr(name: str, value: str) -> str:
    """`` name="value"``, to pass as an element's attributes."""
    return f' {name}="{escape_attr(value)}"'


def leaf(tag: str, text: str, attrs: str = "") -> str:
    """An element holding only ``text`` (an empty text still gives ``<tag></tag>``, as in lxml)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:  # escape_text, inlined: hot
        text = escape_text(text)
    return f"<{tag}{attrs}>{text}</{tag}>"


def element(tag: str, children: list[str], attrs: str = "") -> str:
    """An element of ``children`` (markup); ``<tag/>`` when there are none, as in lxml."""
    if children:
        return f"<{tag}{attrs}>{''.join(children)}</{tag}>"
    return f"<{tag}{attrs}/>"


#: Every byte but those of the C0 controls XML 1.0 §2.2 refuses (TAB, LF and CR are allowed).
_ALLOWED_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A, 0x0D))


def document(markup: str) -> bytes:
    """The document ``markup`` as UTF-8 bytes, without an XML declaration (what
    ``etree.tostring`` gives for ``encoding="UTF-8"``); raises where lxml would have refused
    a value (see above)."""
    data = markup.encode("utf-8")  # lone surrogates: UnicodeEncodeError, as in lxml
    # On the bytes, once per document: a regular expression over the text costs more than
    # building it. U+FFFE and U+FFFF are EF BF BE/BF in UTF-8; EF itself is rare.
    if data.translate(None, _ALLOWED_BYTES) or (
            b"\xef" in data and (b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data)):
        raise ValueError(_REFUSED_MESSAGE)
    return data


#: A start tag (text and attribute values written here hold no raw ``<`` or ``>``), and an
#: element holding an empty text.
_START_TAG = re.compile(rb"<[^/][^>]*>")
_EMPTY_TEXT = re.compile(rb"<([^\s/>]+)[^>]*></\1>")


def parse(data: bytes) -> etree._Element:
    """A document written here as an lxml element, one that serializes to ``data`` again.

    The parser reads ``<a></a>`` as ``<a/>`` (no text at all), where the trees the writers
    built had an empty text: those are set back, so ``etree.tostring(parse(d)) == d``.
    """
    root = etree.fromstring(data, _OWN_XML)
    if _EMPTY_TEXT.search(data):
        # Elements and start tags pair up in document order.
        for node, tag in zip(root.iter(), _START_TAG.finditer(data), strict=True):
            if (node.text is None and len(node) == 0 and not tag.group().endswith(b"/>")
                    and data.startswith(b"</", tag.end())):
                node.text = ""
    return root
