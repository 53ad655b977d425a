"""Safe XML parsing and conservative repair of what members actually send.

Every byte that comes from the network is parsed here, and only here:

* the prolog is checked first, read token by token in the document's own
  encoding: a DOCTYPE that declares entities or points at an external DTD is
  refused (:class:`HostileXMLError`) before any parser sees it, so XXE and
  entity-expansion ("billion laughs") responses fail fast;
* the parser itself never resolves entities, never loads a DTD, never touches the
  network, and keeps libxml2's limits on huge documents (``huge_tree`` off);
* :func:`repair` fixes the two faults that are common in the wild and safe to
  fix: C0 control characters (forbidden in XML 1.0, section 2.2) and byte
  sequences that are not UTF-8 (read as Windows-1252, the usual culprit).
"""

from __future__ import annotations

import codecs
import re
import threading

from lxml import etree

from .errors import HostileXMLError

__all__ = ["parse", "repair", "check_prolog", "XMLSyntaxError"]

XMLSyntaxError = etree.XMLSyntaxError

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads; one per thread.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


# The prolog check reads the prolog the way the XML parser will: in the document's
# encoding, token by token (XML 1.0 section 2.8: prolog ::= XMLDecl? Misc* (doctypedecl
# Misc*)?, Misc ::= Comment | PI | S). A byte search cannot do that: '<a' inside a
# comment looks like the root element, and in UTF-16 or UTF-7 '<!DOCTYPE' has other bytes.
_SPACE_RUN = re.compile(r"[ \t\r\n]*")
_HARMLESS_DOCTYPE = re.compile(r"<!DOCTYPE[ \t\r\n]+[^ \t\r\n\[\]<>\"']+[ \t\r\n]*>",
                               re.IGNORECASE)
_DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHUNK = 64 * 1024

# XML 1.0 Appendix F: the encoding family from the first bytes, before any declaration.
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_SNIFF = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
          (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
          (b"\x4c\x6f\xa7\x94", "cp037"))


def _sniff(body: bytes) -> str:
    for prefix, name in _BOMS + _SNIFF:
        if body.startswith(prefix):
            return name
    return "utf-8"


def _views(body: bytes) -> list[str]:
    """The encodings to read the prolog in: the sniffed one and the declared one.

    Reading in both means a document the parser decodes either way is checked in
    that way (libxml2 keeps a BOM's encoding over a contradicting declaration).
    """
    first = _sniff(body)
    head = body[:1024].decode(first, errors="replace").lstrip("\ufeff")
    match = _DECLARED.match(head)
    views = [first]
    if match:
        declared = match.group(1)
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise HostileXMLError(
                f"refused a response declaring the encoding {declared!r}, which eduxchange "
                "cannot decode to check its prolog for entity declarations; ask the member "
                "to serve UTF-8") from None
        if name not in {codecs.lookup(v).name for v in views}:
            views.append(name)
    return views


class _Text:
    """The decoded document, read on demand in chunks, indexed from its start.

    Text before :attr:`mark` is dropped as more is decoded, so a prolog of many
    megabytes of comments is scanned in linear time and bounded memory.
    """

    def __init__(self, body: bytes, encoding: str) -> None:
        self._body = body
        self._pos = 0
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._text = ""
        self._base = 0  # the index of _text[0] in the whole decoded text
        self.mark = 0

    def _more(self) -> bool:
        if self._pos >= len(self._body):
            return False
        chunk = self._body[self._pos : self._pos + _CHUNK]
        self._pos += len(chunk)
        cut = max(0, self.mark - self._base)
        self._text = self._text[cut:] + self._decoder.decode(
            chunk, final=self._pos >= len(self._body))
        self._base += cut
        return True

    def at_least(self, end: int) -> bool:
        """Whether the text reaches index ``end`` (exclusive), decoding more as needed."""
        while self._base + len(self._text) < end:
            if not self._more():
                return False
        return True

    def char(self, i: int) -> str:
        return self._text[i - self._base] if self.at_least(i + 1) else ""

    def slice(self, i: int, j: int) -> str:
        self.at_least(j)
        return self._text[i - self._base : j - self._base]

    def find(self, needle: str, start: int) -> int:
        """The index of ``needle`` at or after ``start``, decoding more as needed; -1 at EOF."""
        searched = start
        while True:
            found = self._text.find(needle, searched - self._base)
            if found >= 0:
                return found + self._base
            searched = max(start, self._base + len(self._text) - len(needle) + 1)
            self.mark = max(self.mark, searched)  # what was searched is not needed again
            if not self._more():
                return -1

    def skip_space(self, i: int) -> int:
        """The index of the first character at or after ``i`` that is not XML white space."""
        while True:
            run = _SPACE_RUN.match(self._text, i - self._base)
            end = (run.end() if run else i - self._base) + self._base  # '*' always matches
            if end < self._base + len(self._text):
                return end
            self.mark = max(self.mark, end)
            if not self._more():
                return end

    def rest(self, i: int) -> str:
        """Everything from ``i`` to the end (for documents that are not XML anyway)."""
        tail = self._decoder.decode(self._body[self._pos :], final=True)
        self._pos = len(self._body)
        return self._text[i - self._base :] + tail


# A bare DOCTYPE is a name and '>': anything longer than this cannot be one.
_MAX_BARE_DOCTYPE = 512


def _hostile(what: str) -> HostileXMLError:
    return HostileXMLError(
        f"refused a response whose prolog holds {what} (possible XXE or entity-expansion "
        "attack); nothing in it was expanded or fetched")


def _scan(doc: _Text) -> None:
    """Walk the prolog token by token up to the root element; refuse any DTD that is not bare."""
    i = 1 if doc.char(0) == "\ufeff" else 0
    while True:
        i = doc.skip_space(i)
        doc.mark = i
        two = doc.slice(i, i + 2)
        if len(two) < 2:
            return  # no root element: the parser reports the document as not XML
        if two == "<?":  # the XML declaration or a processing instruction
            end = doc.find("?>", i + 2)
            if end < 0:
                return
            i = end + 2
        elif two == "<!":
            if doc.slice(i, i + 4) == "<!--":
                end = doc.find("-->", i + 4)
                if end < 0:
                    return
                i = end + 3
                continue
            head = doc.slice(i, i + _MAX_BARE_DOCTYPE)
            if head[2:9].upper() != "DOCTYPE":
                raise _hostile(f"a markup declaration {head[:40]!r}")
            bare = _HARMLESS_DOCTYPE.match(head)
            if bare is None:
                raise _hostile("a DOCTYPE that declares entities or an external DTD")
            i += bare.end()
        elif two[0] == "<":
            return  # the root element: the prolog is over, and a DOCTYPE can only stand in it
        else:
            # Not well-formed: the parser stops here with an error. A declaration
            # further on is refused all the same rather than trusting that.
            if _DECLARATION.search(doc.rest(i)):
                raise _hostile("an entity or DOCTYPE declaration after stray text")
            return


def check_prolog(body: bytes) -> None:
    """Refuse a document whose DOCTYPE declares entities or loads an external DTD.

    OAI-PMH responses never need a DTD (the protocol uses XML Schema), so any
    internal subset, external identifier or entity declaration in the prolog is
    treated as hostile, whatever comments, processing instructions, whitespace,
    byte-order mark or encoding come before it. Only a bare ``<!DOCTYPE name>``
    passes.
    """
    for encoding in _views(body):
        _scan(_Text(body, encoding))


# C0 controls other than TAB, LF, CR are forbidden in XML 1.0 (section 2.2). In UTF-8
# these bytes never occur inside multi-byte sequences, so removing them is safe.
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# ... and so are character references to them, which DSpace and others emit.
_CONTROL_REFS = re.compile(
    rb"&#(?:x0*(?:[0-8bcefBCEF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)
_XML_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _declared_encoding(body: bytes) -> str:
    match = _XML_DECL_ENCODING.match(body[:200])
    return match.group(1).decode("ascii").lower() if match else "utf-8"


def repair(body: bytes) -> tuple[bytes, list[str]]:
    """Return ``body`` with safe repairs applied, and a list of what was repaired.

    Only documents declared (or defaulting to) UTF-8 are touched; a document in
    another declared encoding is left to the parser, which honours it.
    """
    repairs: list[str] = []
    if _declared_encoding(body) not in ("utf-8", "utf8"):
        return body, repairs
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="surrogateescape")
        body = _SURROGATES.sub(_from_cp1252, text).encode("utf-8")
        repairs.append("invalid UTF-8 byte sequences read as Windows-1252")
    if _CONTROL_BYTES.search(body):
        body = _CONTROL_BYTES.sub(b"", body)
        repairs.append("control characters removed")
    if b"&#" in body and _CONTROL_REFS.search(body):
        body = _CONTROL_REFS.sub(b"", body)
        repairs.append("character references to control characters removed")
    return body, repairs


_SURROGATES = re.compile("[\udc80-\udcff]")


def _from_cp1252(match: re.Match[str]) -> str:
    byte = bytes([ord(match.group()) - 0xDC00])
    try:
        return byte.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return byte.decode("latin-1")


def parse(body: bytes) -> etree._Element:
    """Parse ``body`` safely and return its root element.

    Raises :class:`HostileXMLError` for entity tricks and
    :class:`lxml.etree.XMLSyntaxError` for documents that are not well-formed.
    """
    check_prolog(body)
    return etree.fromstring(body, parser=_parser())
