"""Crosswalks: pure functions from one metadata element to one description.

A description is the common record of one member's metadata, before vocabulary
mapping and merging (see docs/record.md, "Crosswalk output"). Each crosswalk
lives in its own module and is registered here explicitly, by name::

    from eduxchange.crosswalks import crosswalk
    description = crosswalk(xml_bytes)                    # format detected by namespace
    description = crosswalk(element, format="lom")

No crosswalk touches the network, a store or global state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from lxml import etree

from ..core import xmlsafe
from ..core.errors import EduxchangeError
from ..core.record import Description

__all__ = [
    "CrosswalkError",
    "CrosswalkOptions",
    "Crosswalk",
    "CROSSWALKS",
    "NAMESPACES",
    "crosswalk",
    "detect_format",
    "metadata_element",
]


class CrosswalkError(EduxchangeError):
    """The metadata cannot be read by any crosswalk (unknown format, no metadata)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrosswalkOptions:
    """Choices a crosswalk honours. ``include_contacts``: keep persons' e-mail, phone, address."""

    include_contacts: bool = False


Crosswalk = Callable[[Any, CrosswalkOptions], Description]


def _lazy(name: str, module: str, function: str) -> Crosswalk:
    """The entry of :data:`CROSSWALKS` that imports ``module`` on first use.

    The first call replaces the entry with the crosswalk function itself, so later records pay
    no import statement (about 1 µs a record).
    """
    def load(el: Any, options: CrosswalkOptions) -> Description:
        crosswalk_function: Crosswalk = getattr(import_module(f"{__name__}.{module}"), function)
        CROSSWALKS[name] = crosswalk_function
        return crosswalk_function(el, options)
    return load


#: Crosswalks by format name (the names of :data:`eduxchange.harvesting.formats.KNOWN_FORMATS`). Each module
#: is imported on first use (see :func:`_lazy`).
CROSSWALKS: dict[str, Crosswalk] = {
    "lom": _lazy("lom", "lom", "crosswalk_lom"),
    "imsmd": _lazy("imsmd", "lom", "crosswalk_imsmd"),
    "oai_dc": _lazy("oai_dc", "dc", "crosswalk_dc"),
    "qdc": _lazy("qdc", "dc", "crosswalk_qdc"),
    "lrmi": _lazy("lrmi", "lrmi", "crosswalk_lrmi"),
    "datacite": _lazy("datacite", "datacite", "crosswalk_datacite"),
    "obaa": _lazy("obaa", "obaa", "crosswalk_obaa"),
}

_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_OAI_RECORD = _OAI + "record"
_OAI_METADATA = _OAI + "metadata"
#: Clark-tag starts of Dublin Core elements (DCMI elements 1.1 and terms, with or without the
#: trailing slash some servers drop) written bare under <metadata>; see :func:`metadata_element`.
_BARE_DC = ("{http://purl.org/dc/elements/1.1", "{http://purl.org/dc/terms")
_OAI_ENVELOPE = _OAI + "OAI-PMH"


def _namespaces() -> dict[str, str]:
    from ..harvesting.formats import KNOWN_FORMATS
    return {ns.rstrip("/"): f.name for f in KNOWN_FORMATS for ns in f.namespaces}


#: Root-element namespace -> format name.
NAMESPACES: Mapping[str, str] = _namespaces()


def metadata_element(record: bytes | etree._Element) -> etree._Element | dict[str, Any]:
    """The metadata payload of a stored raw ``<record>`` (or of bare metadata bytes).

    A whole OAI-PMH response (a saved ``GetRecord``, or a ``ListRecords`` page) gives its
    first record's payload.

    Returns the first element inside ``<metadata>``, or a parsed JSON-LD object when the
    payload is JSON (LRMI served as text). Raises :class:`CrosswalkError` when there is none.
    """
    if isinstance(record, bytes):
        stripped = record.lstrip()
        if stripped[:1] in (b"{", b"["):
            return _json(stripped.decode("utf-8"))
        try:
            record = xmlsafe.parse(record)
        except etree.XMLSyntaxError as err:
            raise CrosswalkError(f"metadata is not well-formed XML: {err}") from err
    root = record
    tag = root.tag
    if tag == _OAI_ENVELOPE:
        # A whole OAI-PMH response (a saved GetRecord, or a ListRecords page): its first record.
        root = _first_record(root)
        tag = root.tag
    if tag == _OAI_RECORD:
        metadata = root.find(_OAI_METADATA)
        if metadata is None:
            raise CrosswalkError("record has no <metadata> (a deleted record?)")
        root = metadata
        tag = _OAI_METADATA
    if tag == _OAI_METADATA:
        children = [c for c in root if isinstance(c.tag, str)]
        if not children:
            text = (root.text or "").strip()
            if text[:1] in ("{", "["):
                return _json(text)
            raise CrosswalkError("<metadata> is empty")
        first = children[0]
        if len(first) == 0 and first.tag.startswith(_BARE_DC):
            # DSpace's XOAI "qdc"-style output (eduCAPES, many Brazilian DSpaces) writes the
            # dc:/dcterms: elements straight under <metadata>, with no wrapping root. OAI-PMH 2.0
            # (3.5) wants one root element, but the record is readable: the <metadata> element is
            # itself the root the qualified-DC crosswalk walks (detect_format knows it as qdc).
            # A DC element is a leaf; a root in the dcterms namespace (<dcterms:qualifieddc>)
            # has children and is read as before.
            return root
        root = children[0]
    # LRMI JSON-LD wrapped in one element (e.g. <script type="application/ld+json">).
    if len(root) == 0 and (root.text or "").strip()[:1] in ("{", "["):
        return _json((root.text or "").strip())
    return root


def _first_record(envelope: etree._Element) -> etree._Element:
    """The first ``<record>`` of an OAI-PMH response; its ``<error>`` (OAI-PMH 3.6) if none."""
    record = envelope.find(f"{_OAI}GetRecord/{_OAI_RECORD}")
    if record is None:
        record = envelope.find(f"{_OAI}ListRecords/{_OAI_RECORD}")
    if record is not None:
        return record
    error = envelope.find(f"{_OAI}error")
    if error is not None:
        raise CrosswalkError(f"the OAI-PMH response holds no record but an error: "
                             f"{error.get('code', '?')}: {(error.text or '').strip()}")
    verbs = [etree.QName(c).localname for c in envelope if isinstance(c.tag, str)]
    raise CrosswalkError(f"the OAI-PMH response holds no record (it has {', '.join(verbs)}); "
                         "save a GetRecord or ListRecords response")


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise CrosswalkError(f"metadata is neither XML nor valid JSON: {err}") from err
    if isinstance(data, list):
        data = next((d for d in data if isinstance(d, dict)), {})
    if not isinstance(data, dict):
        raise CrosswalkError("JSON metadata is not an object")
    return data


#: Root tag -> format name, filled as :func:`detect_format` meets them. ``<metadata>`` itself is
#: the root only for bare Dublin Core elements (:func:`metadata_element`): qualified DC.
#: OBAA's root is in the LOM namespace; its crosswalk is LOM's plus the flattened form FEB serves.
_FORMAT_BY_TAG: dict[str, str] = {_OAI_METADATA: "qdc", "{http://ltsc.ieee.org/xsd/LOM}obaa": "obaa"}


def detect_format(payload: etree._Element | dict[str, Any]) -> str:
    """The format name of a metadata payload, by its root namespace (JSON: ``lrmi``)."""
    if isinstance(payload, dict):
        return "lrmi"
    tag = payload.tag
    known = _FORMAT_BY_TAG.get(tag)
    if known is not None:
        return known
    tag = tag if isinstance(tag, str) else ""
    namespace = tag[1:].split("}", 1)[0].rstrip("/") if tag.startswith("{") else ""
    name = NAMESPACES.get(namespace)
    if name is None:
        raise CrosswalkError(
            f"no crosswalk for metadata in namespace {namespace or '(none)'!r} "
            f"(root element {etree.QName(payload).localname if tag else '?'}); "
            f"known formats: {', '.join(CROSSWALKS)}")
    if len(_FORMAT_BY_TAG) < 1024:  # root tags repeat: remember them (bounded)
        _FORMAT_BY_TAG[tag] = name
    return name


def crosswalk(
    metadata: bytes | etree._Element | dict[str, Any],
    *,
    format: str | None = None,  # noqa: A002 (the public name users expect)
    options: CrosswalkOptions | None = None,
) -> Description:
    """Turn one metadata payload into a description (pure; see docs/record.md).

    ``metadata`` may be a saved OAI-PMH response (``GetRecord``; a ``ListRecords`` page gives
    its first record), a raw OAI-PMH ``<record>``, bare metadata XML bytes, an lxml
    element, or a parsed LRMI JSON-LD object. ``format`` overrides namespace
    detection; an unknown name raises :class:`CrosswalkError` listing the known ones.
    """
    payload = metadata if isinstance(metadata, dict) else metadata_element(metadata)
    name = format or detect_format(payload)
    try:
        function = CROSSWALKS[name]
    except KeyError:
        raise CrosswalkError(
            f"unknown crosswalk {name!r}; known: {', '.join(CROSSWALKS)}") from None
    return function(payload, options or CrosswalkOptions())
