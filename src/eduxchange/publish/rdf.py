"""The common record as RDF: JSON-LD with the shipped context, checked by the shipped SHACL shapes.

A record names its context by IRI (``{base_uri}context.jsonld``); the same document ships as
``schemas/context.jsonld`` and is put inline before parsing, so nothing is ever fetched.

The RDF of a record is read from :func:`jsonld_document`, the record with what a context cannot
say written into it (issue 11, item 14):

* dates are typed by their precision, since one field holds values of several (a context types
  every value of a term alike): ``YYYY`` ``xsd:gYear``, ``YYYY-MM`` ``xsd:gYearMonth``,
  ``YYYY-MM-DD`` ``xsd:date``, a date-time ``xsd:dateTime``;
* ``duration`` is ``schema:timeRequired`` (LRMI's term on a LearningResource; ``schema:duration``
  is a property of media objects and events, outside the domain of LearningResource), typed
  ``xsd:duration``, whose lexical space has no weeks: ``P2W`` is written ``P14D``;
* concepts are typed ``skos:Concept``: ``schema:audience`` follows AMB's convention (an LRMI
  educationalAudienceRole concept, as AMB and OERSI publish it), not schema.org's range
  ``schema:Audience``, and the type says so; the shapes check it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from importlib.resources import files
from typing import Any, Final

from rdflib import Graph, Namespace
from rdflib.plugins.parsers.jsonld import to_rdf

from ..core.record import CommonRecord

__all__ = ["SCHEMA", "SKOS", "XSD", "context", "jsonld_document", "record_to_graph", "conforms"]

#: The namespaces of the context: schema.org as in its own JSON-LD context (http), and SKOS.
SCHEMA = Namespace("http://schema.org/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

_DATE_FIELDS: Final = ("dateCreated", "datePublished", "dateModified")
_CONCEPT_FIELDS: Final = ("learningResourceType", "educationalLevel", "audience", "about")
_DATE_TYPES: Final = ((re.compile(r"[0-9]{4}$"), "xsd:gYear"),
                      (re.compile(r"[0-9]{4}-[0-9]{2}$"), "xsd:gYearMonth"),
                      (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}$"), "xsd:date"),
                      (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T"), "xsd:dateTime"))
_WEEKS: Final = re.compile(r"^P((?:[0-9]+Y)?(?:[0-9]+M)?)([0-9]+)W(?:([0-9]+)D)?")


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


def _date(value: Any) -> Any:
    """A date string as a typed JSON-LD value object (module docstring); anything else as is."""
    if isinstance(value, str):
        for pattern, datatype in _DATE_TYPES:
            if pattern.match(value):
                return {"@value": value, "@type": datatype}
    return value


def _duration(value: Any) -> Any:
    """An ISO 8601 duration as an ``xsd:duration`` value object (weeks written as days)."""
    if not isinstance(value, str):
        return value
    if (match := _WEEKS.match(value)) is not None:
        days = int(match.group(2)) * 7 + int(match.group(3) or 0)
        value = f"P{match.group(1)}{days}D{value[match.end():]}"
    return {"@value": value, "@type": "xsd:duration"}


def jsonld_document(record: CommonRecord) -> dict[str, Any]:
    """The JSON-LD document the record's RDF is read from; ``record`` itself is not changed.

    The record with its dates and duration as typed value objects and its concepts typed
    ``Concept`` (module docstring). The keys, the ``@context`` and every other value are the
    record's own, so the document is the record for every JSON reader but a JSON-LD processor.
    """
    document: dict[str, Any] = dict(record)
    for field in _DATE_FIELDS:
        if field in document:
            document[field] = _date(document[field])
    if "duration" in document:
        document["duration"] = _duration(document["duration"])
    for field in _CONCEPT_FIELDS:
        if isinstance(document.get(field), list):
            document[field] = [{**c, "type": "Concept"} if isinstance(c, dict) else c
                               for c in document[field]]
    if isinstance(document.get("mainEntityOfPage"), list):
        document["mainEntityOfPage"] = [
            {**e, "dateModified": _date(e["dateModified"])}
            if isinstance(e, dict) and "dateModified" in e else e
            for e in document["mainEntityOfPage"]]
    return document


def record_to_graph(record: CommonRecord, graph: Graph | None = None) -> Graph:
    """Add the triples of ``record`` to ``graph`` (a new graph by default) and return it.

    The record's ``@context`` (an IRI, or anything else) is replaced by the shipped context, so
    JSON-LD processing needs no network; the triples are those of :func:`jsonld_document`.
    ``record`` itself is not changed.
    """
    if graph is None:
        # rdflib binds "schema" to https://schema.org/ by default; ours is http (README).
        graph = Graph()
        graph.bind("schema", SCHEMA, override=True, replace=True)
        graph.bind("skos", SKOS, override=True, replace=True)
    document = {**jsonld_document(record), "@context": _context_document()["@context"]}
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
