"""Safe XML parsing and conservative repair of what members actually send.

Every byte that comes from the network is parsed here, and only here:

* the prolog is checked first: a DOCTYPE that declares entities or points at an
  external DTD is refused (:class:`HostileXMLError`) before any parser sees it,
  so XXE and entity-expansion ("billion laughs") responses fail fast;
* the parser itself never resolves entities, never loads a DTD, never touches the
  network, and keeps libxml2's limits on huge documents (``huge_tree`` off);
* :func:`repair` fixes the two faults that are common in the wild and safe to
  fix: C0 control characters (forbidden in XML 1.0, section 2.2) and byte
  sequences that are not UTF-8 (read as Windows-1252, the usual culprit).
"""

from __future__ import annotations

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


# The prolog ends where the root element starts; a DOCTYPE can only stand there.
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_DANGEROUS_DTD = re.compile(rb"<!ENTITY|\bSYSTEM\b|\bPUBLIC\b|\[", re.IGNORECASE)


def check_prolog(body: bytes) -> None:
    """Refuse a document whose DOCTYPE declares entities or loads an external DTD.

    OAI-PMH responses never need a DTD (the protocol uses XML Schema), so any
    internal subset or external identifier is treated as hostile.
    """
    root = _ROOT_START.search(body)
    prolog = body[: root.start()] if root else body[:65536]
    doctype = _DOCTYPE.search(prolog)
    if doctype is None:
        return
    declaration = prolog[doctype.start() :]
    if _DANGEROUS_DTD.search(declaration):
        raise HostileXMLError(
            "refused a response whose DOCTYPE declares entities or an external DTD "
            "(possible XXE or entity-expansion attack); nothing in it was expanded"
        )


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
