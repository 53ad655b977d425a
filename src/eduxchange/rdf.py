"""The common record as RDF: JSON-LD with the shipped context, checked by the shipped SHACL shapes.

A record names its context by IRI (``{base_uri}context.jsonld``); the same document ships as
``schemas/context.jsonld`` and is put inline before parsing, so nothing is ever fetched.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib.resources import files
from typing import Any

from rdflib import Graph, Namespace
from rdflib.plugins.parsers.jsonld import to_rdf

__all__ = ["SCHEMA", "SKOS", "context", "record_to_graph", "conforms"]

#: The namespaces of the context: schema.org as in its own JSON-LD context (http), and SKOS.
SCHEMA = Namespace("http://schema.org/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")


@functools.cache
def _context_document() -> dict[str, Any]:
    text = (files("eduxchange.schemas") / "context.jsonld").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@functools.cache
def _shapes() -> Graph:
    text = (files("eduxchange.schemas") / "shapes.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


def context() -> dict[str, Any]:
    """The shipped JSON-LD context document (``{"@context": {...}}``); a fresh copy each call."""
    return copy.deepcopy(_context_document())


def record_to_graph(record: dict[str, Any], graph: Graph | None = None) -> Graph:
    """Add the triples of ``record`` to ``graph`` (a new graph by default) and return it.

    The record's ``@context`` (an IRI, or anything else) is replaced by the shipped context, so
    JSON-LD processing needs no network. ``record`` itself is not changed.
    """
    if graph is None:
        # rdflib binds "schema" to https://schema.org/ by default; ours is http (README).
        graph = Graph()
        graph.bind("schema", SCHEMA, override=True, replace=True)
        graph.bind("skos", SKOS, override=True, replace=True)
    document = {**record, "@context": _context_document()["@context"]}
    # rdflib's parser entry point (Graph.parse) wraps the sink in a deprecated ConjunctiveGraph
    # and wants text; to_rdf takes the parsed document and a plain Graph.
    to_rdf(document, graph)
    return graph


def conforms(graph: Graph) -> tuple[bool, str]:
    """Whether ``graph`` conforms to ``schemas/shapes.ttl``, with pyshacl's report text.

    pyshacl is a test/optional dependency, imported here only.
    """
    import pyshacl

    ok, _, text = pyshacl.validate(graph, shacl_graph=_shapes(), inference="none",
                                   advanced=False, allow_warnings=False)
    return bool(ok), str(text)
