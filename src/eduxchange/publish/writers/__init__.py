"""Writers: the common record (docs/record.md) as XML metadata formats, pure functions.

Each writer is a pure function ``record dict -> lxml element``; :data:`WRITERS` names them by the
OAI-PMH ``metadataPrefix`` they serve, with the schema and namespace ListMetadataFormats
advertises. :meth:`MetadataWriter.render` gives the same metadata as bytes, what normalization
pre-renders and the provider serves: oai_dc and LOM are written as text (``_xml``: byte for byte
what lxml serializes; their ``write`` parses that text), RDF/XML is serialized from its element.

The provider only advertises the schemas' URLs and never validates against them, so no copy of
a public schema ships with the package; the tests validate the provider's responses against the
official schemas, read from the standards folder (tests/support/standards.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from lxml import etree

from ...core.record import CommonRecord

from .lom import LOM_NS, render_lom, write_lom
from .oai_dc import OAI_DC_NS, render_oai_dc, write_oai_dc
from .rdfxml import RDF_NS, write_rdf

__all__ = ["MetadataWriter", "WRITERS", "SCHEMA_FILES", "writer", "write_oai_dc", "write_lom",
           "write_rdf", "render_oai_dc", "render_lom"]

#: The writer functions that are their text renderer parsed, and that renderer: for these,
#: ``render(record) == etree.tostring(write(record), encoding="UTF-8")`` without building the tree.
_TEXT_RENDERERS: Mapping[Callable[[CommonRecord], etree._Element],
                         Callable[[CommonRecord], bytes]] = MappingProxyType({
    write_oai_dc: render_oai_dc, write_lom: render_lom})


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataWriter:
    """One metadata format: its prefix, schema URL, namespace, writer function and version.

    ``version`` names the writer's output: bump it with any change to what ``write`` makes
    for some record. Metadata pre-rendered at normalization carries the version that made
    it, and the provider serves it only while that is still the version here, so a
    release with a better writer never serves the old output (tests/test_writer_versions.py
    pins each version's output for the golden records, so a change without a bump fails).
    """

    prefix: str
    schema: str
    namespace: str
    write: Callable[[CommonRecord], etree._Element]
    version: str

    def render(self, record: CommonRecord) -> bytes:
        """The record's metadata as UTF-8 bytes, without an XML declaration.

        Always ``etree.tostring(self.write(record), encoding="UTF-8")`` byte for byte; for the
        oai_dc and LOM writers, written as text without building the tree (``_xml``: about
        3.7x faster, bench/writers_bench.py). Which one follows ``write``, so a writer replaced
        with another function (``dataclasses.replace(w, write=...)``) renders that one.
        """
        text = _TEXT_RENDERERS.get(self.write)
        if text is not None:
            return text(record)
        data: bytes = etree.tostring(self.write(record), encoding="UTF-8")
        return data


#: The formats the provider serves, by metadataPrefix (OAI-PMH 2.0 §3.4), in this order.
WRITERS: Mapping[str, MetadataWriter] = MappingProxyType({
    "oai_dc": MetadataWriter(prefix="oai_dc", schema="http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                             namespace=OAI_DC_NS, write=write_oai_dc, version="1"),
    "lom": MetadataWriter(prefix="lom", schema="http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd",
                          namespace=LOM_NS, write=write_lom, version="1"),
    # RDF/XML has no official XML Schema; the schema URL names the RDF/XML syntax specification.
    "rdf": MetadataWriter(prefix="rdf", schema="http://www.w3.org/TR/rdf-syntax-grammar/",
                          namespace=RDF_NS, write=write_rdf, version="1"),
})


#: The XML Schemas this project wrote itself and ships (in ``eduxchange.schemas``), by the
#: metadataPrefix they describe: RDF/XML has no official one, so the server publishes its own.
SCHEMA_FILES: Mapping[str, str] = MappingProxyType({"rdf": "xsd/rdf/rdf-lax.xsd"})


def writer(prefix: str) -> MetadataWriter:
    """The writer of ``prefix``; :class:`KeyError` listing the known prefixes otherwise."""
    try:
        return WRITERS[prefix]
    except KeyError:
        raise KeyError(f"unknown metadata format {prefix!r}; known: {', '.join(WRITERS)}") from None
