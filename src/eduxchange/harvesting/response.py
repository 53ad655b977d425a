"""Parse OAI-PMH 2.0 responses: bytes in, typed values out. No I/O.

The list parser has two paths. The fast one parses the whole page once. When a
page is not well-formed even after :func:`eduxchange.core.xmlsafe.repair`, the slow
one cuts the page into its ``<record>`` elements and parses each alone, so one
broken record is quarantined (with its raw bytes and the parser's reason) and
the rest of the page goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from ..core import xmlsafe
from ..core.dates import parse_datestamp
from ..core.errors import MalformedResponseError, OAIError, oai_error
from ..core.models import (
    Header,
    IdentifyInfo,
    Issue,
    MetadataFormat,
    Page,
    Quarantined,
    RawRecord,
    ResumptionToken,
    SetInfo,
)

__all__ = [
    "OAI_NS",
    "parse_root",
    "parse_identify",
    "parse_metadata_formats",
    "parse_sets",
    "parse_list_page",
    "parse_get_record",
]

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_O = "{" + OAI_NS + "}"


def parse_root(body: bytes) -> tuple[etree._Element, list[Issue]]:
    """Repair, parse and check an OAI-PMH response; raise the OAI error it carries.

    Raises :class:`~eduxchange.core.errors.OAIError` subclasses for ``<error>``
    responses (OAI-PMH 3.6), :class:`~eduxchange.core.errors.HostileXMLError`,
    or :class:`~eduxchange.core.errors.MalformedResponseError` (also for XML that is
    not well-formed).
    """
    body, repairs = xmlsafe.repair(body)
    issues = [Issue(code="repaired-xml", message=r) for r in repairs]
    try:
        root = xmlsafe.parse(body)
    except etree.XMLSyntaxError as err:
        raise MalformedResponseError(f"response is not well-formed XML: {err}") from err
    _check_root(root)
    _raise_error(root)
    return root, issues


def _check_root(root: etree._Element) -> None:
    if root.tag != _O + "OAI-PMH":
        raise MalformedResponseError(
            f"not an OAI-PMH response: root element is {root.tag!r}, "
            f"expected {{{OAI_NS}}}OAI-PMH"
        )


def _raise_error(root: etree._Element) -> None:
    errors = root.findall(_O + "error")
    if errors:
        # A response may carry several errors (3.6); the first decides.
        first = errors[0]
        raise oai_error(first.get("code", "unknown"), (first.text or "").strip())


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def parse_identify(body: bytes) -> IdentifyInfo:
    """Parse an ``Identify`` response (OAI-PMH 4.2)."""
    root, _ = parse_root(body)
    el = root.find(_O + "Identify")
    if el is None:
        raise MalformedResponseError("Identify response has no <Identify> element")
    granularity = _text(el.find(_O + "granularity")) or "YYYY-MM-DD"
    return IdentifyInfo(
        repository_name=" ".join(_text(el.find(_O + "repositoryName")).split()),
        base_url=_text(el.find(_O + "baseURL")),
        protocol_version=_text(el.find(_O + "protocolVersion")),
        earliest_datestamp=_text(el.find(_O + "earliestDatestamp")),
        deleted_record=_text(el.find(_O + "deletedRecord")) or "no",
        granularity=granularity,
        admin_emails=tuple(_text(e) for e in el.findall(_O + "adminEmail")),
        response_date=_text(root.find(_O + "responseDate")) or None,
    )


def parse_metadata_formats(body: bytes) -> list[MetadataFormat]:
    """Parse a ``ListMetadataFormats`` response (OAI-PMH 4.4)."""
    root, _ = parse_root(body)
    return [
        MetadataFormat(
            prefix=_text(f.find(_O + "metadataPrefix")),
            schema=_text(f.find(_O + "schema")),
            namespace=_text(f.find(_O + "metadataNamespace")),
        )
        for f in root.iter(_O + "metadataFormat")
    ]


def parse_sets(body: bytes) -> tuple[list[SetInfo], ResumptionToken | None]:
    """Parse one page of ``ListSets`` (OAI-PMH 4.6)."""
    root, _ = parse_root(body)
    sets = [
        SetInfo(spec=_text(s.find(_O + "setSpec")), name=_text(s.find(_O + "setName")))
        for s in root.iter(_O + "set")
    ]
    container = root.find(_O + "ListSets")
    return sets, _token(container.find(_O + "resumptionToken") if container is not None else None)


def _token(el: etree._Element | None) -> ResumptionToken | None:
    # OAI-PMH 3.5.1: an empty resumptionToken (or none at all) ends the list.
    if el is None:
        return None
    value = (el.text or "").strip()
    size = _int(el.get("completeListSize"))
    if not value:
        return None
    return ResumptionToken(
        value=value,
        complete_list_size=size,
        cursor=_int(el.get("cursor")),
        expiration_date=el.get("expirationDate"),
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _header(el: etree._Element) -> Header:
    identifier = _text(el.find(_O + "identifier"))
    datestamp = _text(el.find(_O + "datestamp"))
    if not identifier:
        raise ValueError("header has no identifier")
    if not datestamp:
        raise ValueError("header has no datestamp")
    # OAI-PMH 2.0 section 3.3: a datestamp is a UTC date (and time). One that cannot be
    # read, or that leaves the calendar (9999-12-31T23:59:59-14:00), cannot be ordered
    # against other versions: the record is quarantined, not stored.
    parse_datestamp(datestamp)
    return Header(
        identifier=identifier,
        datestamp=datestamp,
        sets=tuple(s.text.strip() for s in el.iterfind(_O + "setSpec") if s.text),
        deleted=el.get("status") == "deleted",
    )


def _record(el: etree._Element, verb: str) -> RawRecord:
    """Read one ``<record>`` (or, for ListIdentifiers, one ``<header>``)."""
    header_el = el if verb == "ListIdentifiers" else el.find(_O + "header")
    if header_el is None:
        raise ValueError("record has no header")
    header = _header(header_el)
    if verb != "ListIdentifiers" and not header.deleted:
        metadata = el.find(_O + "metadata")
        if metadata is None or len(metadata) == 0:
            raise ValueError("record is not deleted but has no metadata")
    return RawRecord(header=header, raw=etree.tostring(el, encoding="UTF-8", with_tail=False))


def parse_list_page(body: bytes, verb: str = "ListRecords") -> Page:
    """Parse one page of ``ListRecords`` or ``ListIdentifiers`` (OAI-PMH 4.3, 4.5).

    ``noRecordsMatch`` is raised as :class:`~eduxchange.core.errors.NoRecordsMatch`;
    the caller decides that it is an empty, successful list.
    """
    repaired, repairs = xmlsafe.repair(body)
    issues = [Issue(code="repaired-xml", message=r) for r in repairs]
    try:
        root = xmlsafe.parse(repaired)
    except etree.XMLSyntaxError as err:
        return _salvage_page(repaired, verb, issues, str(err))
    _check_root(root)
    _raise_error(root)
    container = root.find(_O + verb)
    if container is None:
        raise MalformedResponseError(f"{verb} response has no <{verb}> element")
    child_tag = _O + ("header" if verb == "ListIdentifiers" else "record")
    records: list[RawRecord] = []
    quarantined: list[Quarantined] = []
    for el in container.iterchildren(child_tag):
        try:
            records.append(_record(el, verb))
        except ValueError as err:
            raw = etree.tostring(el, encoding="UTF-8", with_tail=False)
            quarantined.append(
                Quarantined(reason=str(err), raw=raw, identifier=_find_identifier(raw))
            )
    token_el = container.find(_O + "resumptionToken")
    return Page(
        records=tuple(records),
        quarantined=tuple(quarantined),
        token=_token(token_el),
        complete_list_size=_int(token_el.get("completeListSize")) if token_el is not None else None,
        response_date=_text(root.find(_O + "responseDate")) or None,
        issues=tuple(issues),
    )


def parse_get_record(body: bytes) -> RawRecord:
    """Parse a ``GetRecord`` response (OAI-PMH 4.1)."""
    root, _ = parse_root(body)
    el = root.find(f"{_O}GetRecord/{_O}record")
    if el is None:
        raise MalformedResponseError("GetRecord response has no <record>")
    try:
        return _record(el, "GetRecord")
    except ValueError as err:
        raise MalformedResponseError(f"GetRecord: {err}") from err


# ---------------------------------------------------------------------------
# The slow path: a page that is not well-formed.

_TAG = re.compile(rb"<(/?)((?:[A-Za-z_][\w.-]*:)?(record|header))(?=[\s/>])[^>]*?(/?)>")
_NS_DECL = re.compile(rb"""\sxmlns(?::[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')""")
_ROOT_TAG = re.compile(rb"<(?:[\w.-]+:)?OAI-PMH\b[^>]*>")
_IDENTIFIER = re.compile(rb"<(?:[\w.-]+:)?identifier\s*>\s*([^<]+?)\s*</")
_TOKEN = re.compile(
    rb"<(?:[\w.-]+:)?resumptionToken\b([^>]*?)(?:/>|>([^<]*)</(?:[\w.-]+:)?resumptionToken\s*>)"
)
_ATTR = re.compile(rb"""([\w.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_RESPONSE_DATE = re.compile(rb"<(?:[\w.-]+:)?responseDate\s*>\s*([^<]+?)\s*</")
_ERROR = re.compile(rb"<(?:[\w.-]+:)?error\b[^>]*code\s*=\s*[\"']([\w]+)[\"'][^>]*>([^<]*)<")


def _find_identifier(raw: bytes) -> str | None:
    match = _IDENTIFIER.search(raw)
    return match.group(1).decode("utf-8", "replace") if match else None


def _spans(body: bytes, element: bytes) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each top-level ``element`` in ``body``.

    Depth counting keeps nested elements of the same local name (a MARCXML
    ``<record>`` inside ``<metadata>``) inside their OAI record.
    """
    depth = 0
    start = 0
    for match in _TAG.finditer(body):
        if match.group(3) != element:
            continue
        closing, self_closing = match.group(1), match.group(4)
        if closing:
            depth -= 1
            if depth == 0:
                yield start, match.end()
            depth = max(depth, 0)
        elif self_closing:
            if depth == 0:
                yield match.start(), match.end()
        else:
            if depth == 0:
                start = match.start()
            depth += 1


def _salvage_page(body: bytes, verb: str, issues: list[Issue], reason: str) -> Page:
    root_tag = _ROOT_TAG.search(body)
    if root_tag is None:
        raise MalformedResponseError(f"response is not XML that can be read: {reason}")
    error = _ERROR.search(body)
    if error:
        raise oai_error(error.group(1).decode(), error.group(2).decode("utf-8", "replace").strip())
    xmlsafe.check_prolog(body)
    ns_decls = b"".join(m.group() for m in _NS_DECL.finditer(root_tag.group()))
    if b"xmlns=" not in ns_decls:
        ns_decls += b' xmlns="' + OAI_NS.encode() + b'"'
    element = b"header" if verb == "ListIdentifiers" else b"record"
    records: list[RawRecord] = []
    quarantined: list[Quarantined] = []
    last_end = root_tag.end()
    for start, end in _spans(body, element):
        fragment = body[start:end]
        last_end = end
        try:
            wrapper = etree.fromstring(b"<w" + ns_decls + b">" + fragment + b"</w>",
                                       parser=xmlsafe._parser())
            records.append(_record(wrapper[0], verb))
        except (etree.XMLSyntaxError, ValueError, IndexError) as err:
            quarantined.append(
                Quarantined(reason=f"unreadable record: {err}", raw=fragment,
                            identifier=_find_identifier(fragment))
            )
    if not records and not quarantined:
        raise MalformedResponseError(f"{verb} page is not well-formed XML: {reason}")
    issues.append(Issue(code="page-not-well-formed",
                        message=f"page read record by record: {reason}"))
    token = None
    size = None
    match = _TOKEN.search(body, last_end)
    if match:
        attrs = {k.decode(): v[1:-1].decode() for k, v in _ATTR.findall(match.group(1))}
        size = _int(attrs.get("completeListSize"))
        value = (match.group(2) or b"").decode("utf-8", "replace").strip()
        if value:
            token = ResumptionToken(value=value, complete_list_size=size,
                                    cursor=_int(attrs.get("cursor")),
                                    expiration_date=attrs.get("expirationDate"))
    date = _RESPONSE_DATE.search(body)
    return Page(
        records=tuple(records),
        quarantined=tuple(quarantined),
        token=token,
        complete_list_size=size,
        response_date=date.group(1).decode() if date else None,
        issues=tuple(issues),
    )


def is_no_records_match(err: OAIError) -> bool:
    """``noRecordsMatch`` is an empty list, not a failure (OAI-PMH 3.6)."""
    return err.code == "noRecordsMatch"
