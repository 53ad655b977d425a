"""Writers: the common record (docs/record.md) as XML metadata formats, pure functions.

Each writer is a pure function ``record dict -> lxml element``; :data:`WRITERS` names them by the
OAI-PMH ``metadataPrefix`` they serve, with the schema and namespace ListMetadataFormats
advertises. :func:`xml_schema` loads the XML Schemas shipped in ``eduxchange.schemas`` (folder
``xsd/``) with every import resolved to a local file, so validation never needs the network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources import as_file, files
from types import MappingProxyType
from typing import Any

from lxml import etree

from .lom import LOM_NS, write_lom
from .oai_dc import OAI_DC_NS, write_oai_dc
from .rdfxml import RDF_NS, write_rdf

__all__ = ["MetadataWriter", "WRITERS", "writer", "xml_schema", "SCHEMA_FILES",
           "write_oai_dc", "write_lom", "write_rdf"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataWriter:
    """One metadata format: its prefix, schema URL, namespace and writer function."""

    prefix: str
    schema: str
    namespace: str
    write: Callable[[Mapping[str, Any]], etree._Element]


#: The formats the provider serves, by metadataPrefix (OAI-PMH 2.0 §3.4), in this order.
WRITERS: Mapping[str, MetadataWriter] = MappingProxyType({
    "oai_dc": MetadataWriter(prefix="oai_dc", schema="http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                             namespace=OAI_DC_NS, write=write_oai_dc),
    "lom": MetadataWriter(prefix="lom", schema="http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd",
                          namespace=LOM_NS, write=write_lom),
    # RDF/XML has no official XML Schema; the schema URL names the RDF/XML syntax specification.
    "rdf": MetadataWriter(prefix="rdf", schema="http://www.w3.org/TR/rdf-syntax-grammar/",
                          namespace=RDF_NS, write=write_rdf),
})


def writer(prefix: str) -> MetadataWriter:
    """The writer of ``prefix``; :class:`KeyError` listing the known prefixes otherwise."""
    try:
        return WRITERS[prefix]
    except KeyError:
        raise KeyError(f"unknown metadata format {prefix!r}; known: {', '.join(WRITERS)}") from None


#: Shipped schema files (relative to ``eduxchange.schemas``) by a short name.
SCHEMA_FILES: Mapping[str, str] = MappingProxyType({
    "oai-pmh": "xsd/oai-pmh/OAI-PMH.xsd",
    "oai_dc": "xsd/oai-pmh/oai_dc.xsd",
    "oai-identifier": "xsd/oai-pmh/oai-identifier.xsd",
    "provenance": "xsd/oai-pmh/provenance.xsd",
    "lom": "xsd/lom/lomv1.0/lomLoose.xsd",
    "lom-strict": "xsd/lom/lomv1.0/lom.xsd",
    "rdf": "xsd/rdf/rdf-lax.xsd",
})

#: Remote schema locations named by shipped schemas, mapped to the shipped copies.
_REMOTE: Mapping[str, str] = MappingProxyType({
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": "xsd/dcmi/simpledc20021212.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xsd/w3c/2001-03-xml.xsd",
    "http://www.w3.org/2001/xml.xsd": "xsd/w3c/2001-03-xml.xsd",
})


class _LocalResolver(etree.Resolver):
    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root

    # lxml-stubs lack the context argument and resolve_filename.
    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        local = _REMOTE.get(system_url)
        if local is not None:
            return self.resolve_filename(  # type: ignore[attr-defined]
                f"{self.root}/{local}", context)
        if system_url.startswith(("http://", "https://")):
            raise OSError(f"refusing to fetch {system_url}: no shipped copy")
        return None


@functools.cache
def xml_schema(*names: str) -> etree.XMLSchema:
    """An XML Schema combining the shipped schemas ``names`` (keys of :data:`SCHEMA_FILES`).

    Several names give one schema importing them all, e.g. ``xml_schema("oai-pmh", "oai_dc",
    "lom", "rdf", "oai-identifier")`` validates whole OAI-PMH responses, metadata included (the
    envelope processes ``metadata``/``description`` children strictly). Offline: imports of
    remote locations resolve to shipped copies, and anything else remote is refused.
    """
    with as_file(files("eduxchange.schemas")) as root:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        parser.resolvers.add(_LocalResolver(root.as_posix()))
        imports = "".join(
            f'<xs:import namespace="{_target_namespace(root.as_posix(), SCHEMA_FILES[n])}" '
            f'schemaLocation="{SCHEMA_FILES[n]}"/>' for n in names)
        text = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                f'elementFormDefault="qualified">{imports}</xs:schema>')
        doc = etree.fromstring(text.encode(), parser, base_url=f"{root.as_posix()}/wrapper.xsd")
        return etree.XMLSchema(etree.ElementTree(doc))


def _target_namespace(root: str, relative: str) -> str:
    tree = etree.parse(f"{root}/{relative}", etree.XMLParser(no_network=True))
    return str(tree.getroot().get("targetNamespace"))
