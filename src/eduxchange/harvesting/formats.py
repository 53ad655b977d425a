"""Metadata format negotiation: pick the richest format a member offers.

Formats are known by namespace first (a prefix is only a local name the
repository chose, OAI-PMH 3.4), by prefix second. The ranking follows how much
a format can say about a learning resource: IEEE LOM and its national profiles,
then IMS Metadata 1.2 (LOM's predecessor), then LRMI/schema.org, then DataCite, then
qualified Dublin Core, and ``oai_dc`` last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..core.models import MetadataFormat

__all__ = ["KnownFormat", "KNOWN_FORMATS", "identify_format", "choose_format", "describe_offered"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownFormat:
    """A metadata format eduxchange knows how to read, and its rank (higher is richer)."""

    name: str
    rank: int
    namespaces: tuple[str, ...]
    prefixes: tuple[str, ...]


KNOWN_FORMATS: tuple[KnownFormat, ...] = (
    KnownFormat(
        name="lom",
        rank=100,
        namespaces=(
            "http://ltsc.ieee.org/xsd/LOM",
            # Lower case: FROAC (Colombia) and other Spanish-language federations write it so. The
            # binding's namespace is case-sensitive (IEEE 1484.12.3, 6.2), but no other format uses
            # it: reading it as LOM loses nothing and refusing it loses the record.
            "http://ltsc.ieee.org/xsd/lom",
            "http://ltsc.ieee.org/xsd/lomv1.0",
            "http://www.lom-fr.fr/xsd/LOMFR",  # LOM-FR
            "http://ltsc.ieee.org/xsd/LOM/extend",
            "http://www.cenorm.be/xsd/SCHEMA",
        ),
        prefixes=("lom", "ieee_lom", "oai_lom", "lomfr", "lom-fr", "lom_fr", "lomes",
                  "lom_es", "lom-es", "uklomcore", "uk_lom", "lom_ods", "ods"),
    ),
    KnownFormat(
        # OBAA (Brazil: FEB, eduCAPES): a LOM extension in the LOM namespace, root <obaa:obaa>.
        # Negotiation knows it as LOM by its namespace; this entry gives its crosswalk's rank.
        name="obaa",
        rank=100,
        namespaces=(),
        prefixes=("obaa", "oai_obaa"),
    ),
    KnownFormat(
        name="imsmd",
        rank=90,
        namespaces=(
            "http://www.imsglobal.org/xsd/imsmd_v1p2",
            "http://www.imsproject.org/xsd/imsmd_rootv1p2p1",
            "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1",
        ),
        prefixes=("imsmd", "ims_md", "imsmd_v1p2", "ims"),
    ),
    KnownFormat(
        name="lrmi",
        rank=80,
        namespaces=("http://schema.org/", "https://schema.org/", "http://purl.org/dcx/lrmi-terms/"),
        prefixes=("lrmi", "schema_org", "schemaorg", "json-ld", "jsonld"),
    ),
    KnownFormat(
        # DataCite kernel 3/4 and DataCite's OAI wrapper (Zenodo, Figshare, data repositories):
        # typed dates, name types, ORCID/ROR ids and licence IRIs make it richer than qualified
        # DC; it has no educational fields, so it ranks below LOM and LRMI.
        name="datacite",
        rank=60,
        namespaces=(
            "http://datacite.org/schema/kernel-4",
            "http://datacite.org/schema/kernel-3",
            "http://datacite.org/schema/kernel-2.2",
            "http://schema.datacite.org/oai/oai-1.1/",
        ),
        prefixes=("oai_datacite", "datacite", "oai_datacite4", "datacite4", "oai_datacite3",
                  "datacite3"),
    ),
    KnownFormat(
        name="qdc",
        rank=50,
        namespaces=("http://purl.org/dc/terms/", "http://purl.org/dc/terms"),
        prefixes=("qdc", "oai_qdc", "dcterms", "oai_dcterms", "dcq"),
    ),
    KnownFormat(
        name="oai_dc",
        rank=10,
        namespaces=("http://www.openarchives.org/OAI/2.0/oai_dc/",),
        prefixes=("oai_dc",),
    ),
)

_BY_NAMESPACE = {ns.rstrip("/"): f for f in KNOWN_FORMATS for ns in f.namespaces}
_BY_PREFIX = {p: f for f in KNOWN_FORMATS for p in f.prefixes}


def identify_format(fmt: MetadataFormat) -> KnownFormat | None:
    """Which known format ``fmt`` is, by namespace, else by prefix; ``None`` if unknown.

    IMS MD 1.2 is often served under the prefix ``lom``: the namespace decides.
    """
    known = _BY_NAMESPACE.get(fmt.namespace.strip().rstrip("/"))
    if known is not None:
        return known
    if fmt.namespace.strip():
        # A namespace we do not know, even under a familiar prefix, is not ours to read.
        return None
    return _BY_PREFIX.get(fmt.prefix.lower())


def choose_format(offered: Iterable[MetadataFormat]) -> MetadataFormat | None:
    """The richest format in ``offered`` (ties: the member's order), or ``None``."""
    best: tuple[int, MetadataFormat] | None = None
    for fmt in offered:
        known = identify_format(fmt)
        if known is not None and (best is None or known.rank > best[0]):
            best = (known.rank, fmt)
    return best[1] if best else None


def describe_offered(offered: Iterable[MetadataFormat]) -> str:
    """The formats a member offers, for a message: ``lom (http://...), oai_dc (http://...)``.

    Each known one says what eduxchange reads it as; the one it would choose is marked.
    """
    formats = list(offered)
    chosen = choose_format(formats)
    parts = []
    for fmt in formats:
        known = identify_format(fmt)
        what = fmt.namespace or "no namespace"
        if known is not None and known.name != fmt.prefix:
            what += f", read as {known.name}"
        parts.append(f"{fmt.prefix} ({what}){' [would be chosen]' if fmt == chosen else ''}")
    return ", ".join(parts) or "no formats at all"
