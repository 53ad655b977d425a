"""The common record itself as RDF/XML (metadataPrefix ``rdf``): ``rdf.record_to_graph`` serialized."""

from __future__ import annotations

from lxml import etree

from ...core.record import CommonRecord
from ..rdf import record_to_graph

__all__ = ["RDF_NS", "write_rdf"]

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def write_rdf(record: CommonRecord) -> etree._Element:
    """The record's triples (JSON-LD with the shipped context) as an ``rdf:RDF`` element."""
    data = record_to_graph(record).serialize(format="xml", encoding="utf-8")
    return etree.fromstring(data, _PARSER)
