"""Dumps of the unified catalogue, streamed in constant memory.

Every format is written one record at a time: a record is read from the store, turned into its
own small list of triples (:func:`record_triples`: the triples of
:func:`eduxchange.publish.rdf.record_to_graph`, the shipped context inline, no network) and written out; no graph of the whole catalogue is ever built, so memory stays flat
however large the catalogue is. Records come in catalogue change order.

``ndjson``
    one common record (docs/record.md) per line, UTF-8.
``jsonld``
    one JSON-LD document ``{"@context": {...}, "@graph": [record, ...]}``; the context is the
    shipped ``schemas/context.jsonld`` *inline*, and the records inside carry no ``@context`` of
    their own, so the dump expands offline with any JSON-LD 1.1 processor. Each record is its
    :func:`eduxchange.publish.rdf.jsonld_document` (typed dates and duration, concepts typed), so the
    dump says what the RDF dumps say.
``ntriples``
    N-Triples, each record's triples in a block.
``turtle``
    the ``@prefix`` lines once, then one block per record: each subject of the record with its
    predicate-object list (``;`` and ``,``). Terms are written in their N-Triples form (full
    ``<IRI>``s, escaped literals), predicates and ``rdf:type`` abbreviated with the prefixes, so
    the whole file is one Turtle document whatever the records hold.
``rdfxml``
    one ``rdf:RDF`` root declaring the ``rdf``, ``schema`` and ``skos`` namespaces, and one
    ``rdf:Description`` per subject streamed inside (a predicate outside those namespaces
    declares its own namespace on its element).
``amb``
    one AMB document (:mod:`eduxchange.publish.writers.amb`, AMB version 20231019) per line,
    UTF-8, each with its own ``@context`` as AMB requires. A record that cannot be valid AMB
    is skipped, and ``skipped(record id, reason)`` is called for it.

Blank nodes (agents and affiliations without an IRI) stay blank nodes, as in the records and
the JSON-LD dump, but their labels are made unique across the whole dump: ``b{uuid}x{n}``, the
record's uuid (hex, no dashes) and the node's position in the record (``n`` counts blank nodes
in the order the JSON-LD processor meets them, which follows the record's key order, so dumps
are reproducible). Skolem IRIs were not chosen because they would make the N-Triples, Turtle and
RDF/XML dumps say something different from the JSON-LD dump and the records themselves.

A concept, an agent with an IRI or a member (provider) described by many records is described
again in each record's block; RDF graphs are sets, so a reader merges the repeats.

:func:`export_vocabularies` writes the shipped SKOS concept schemes (``vocabularies/*.ttl``), so
consumers of a dump can resolve every concept IRI to its labels offline.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from importlib.resources import files
from typing import IO, Any, Final
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_attr

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers.jsonld import Parser as _Parser
from rdflib.plugins.shared.jsonld.context import Context
from rdflib.term import Node

from ..core.record import CommonRecord
from . import rdf
from ..core.config import Config
from ..core.dates import format_datestamp, parse_datestamp
from ..store.base import CatalogReader
from .writers.amb import NotAmb, to_amb

__all__ = ["FORMATS", "VOCABULARY_FORMATS", "export", "export_vocabularies", "record_triples"]

FORMATS: Final = ("ndjson", "jsonld", "turtle", "ntriples", "rdfxml", "amb")
#: Formats of :func:`export_vocabularies` (an RDF serialization each).
VOCABULARY_FORMATS: Final = ("turtle", "ntriples", "rdfxml", "jsonld")

Triple = tuple[Node, Node, Node]

#: Prefixes of the Turtle header and the RDF/XML root (the context's namespaces, plus rdf/xsd).
_PREFIXES: Final[dict[str, str]] = {
    "rdf": str(RDF),
    "schema": str(rdf.SCHEMA),
    "skos": str(rdf.SKOS),
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_RDF_TYPE: Final = RDF.type
_UUID: Final = re.compile(r"/([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})$")
# Turtle PN_LOCAL restricted to a safe ASCII subset; XML NCName likewise (no ':' and no '.' end).
_LOCAL: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*$")
# Characters XML 1.0 cannot carry at all (not even as character references).
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# N-Triples/Turtle string escapes (ECHAR, UCHAR for the remaining control characters).
_NT_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
                      "\b": "\\b", "\f": "\\f"}
_NT_SPECIAL: Final = re.compile('[\\\\"\x00-\x1f\x7f]')


class _TripleSink(Graph):
    """The JSON-LD processor's target for one record: collects triples in a list.

    rdflib's in-memory store indexes every triple three ways; a record's few dozen triples are
    written once and thrown away, so a list (duplicates dropped at the end) is all that is needed.
    """

    def __init__(self) -> None:
        super().__init__(bind_namespaces="none")
        self.triples_: list[Triple] = []

    def add(self, triple: tuple[Node, Node, Node]) -> _TripleSink:
        self.triples_.append(triple)
        return self

    def bind(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        """Prefixes are the writer's business (``_PREFIXES``); nothing to bind per record."""


def _record_label(record_id: str) -> str:
    """The per-record part of blank node labels: the uuid of ``{base_uri}resources/{uuid}``."""
    match = _UUID.search(record_id)
    if match:
        return match.group(1).replace("-", "").lower()
    return hashlib.sha1(record_id.encode("utf-8")).hexdigest()[:32]  # not a minted id: still unique


@functools.cache
def _shipped_context() -> Context:
    """The shipped context, processed once and shared by every record (read-only)."""
    context = Context()
    context.load(rdf.context()["@context"])
    return context


def record_triples(record: CommonRecord) -> list[Triple]:
    """The triples of one record, duplicates dropped, blank nodes labelled ``b{uuid}x{n}``.

    The same triples as :func:`eduxchange.publish.rdf.record_to_graph` (the record's ``@context``
    replaced by the shipped one), but the context is processed once, not per record: rdflib
    builds a context of closures and reference cycles each time, which only the cycle collector
    frees, so per-record contexts made memory grow between collections (and cost 15% of the
    time). The tests check the triples are those of ``record_to_graph``.
    """
    sink = _TripleSink()
    body = {key: value for key, value in rdf.jsonld_document(record).items() if key != "@context"}
    _Parser().parse(body, _shipped_context(), sink)
    prefix = "b" + _record_label(str(record.get("id", "")))
    renamed: dict[Node, BNode] = {}

    def label(term: Node) -> Node:
        if isinstance(term, BNode):
            new = renamed.get(term)
            if new is None:
                new = renamed[term] = BNode(f"{prefix}x{len(renamed)}")
            return new
        return term

    triples = dict.fromkeys((label(s), p, label(o)) for s, p, o in sink.triples_)
    # The record's own node first (the processor emits nested nodes before their parents).
    me = URIRef(str(record.get("id", "")))
    return sorted(triples, key=lambda t: t[0] != me)


# -- N-Triples terms (also valid Turtle) ----------------------------------------------------

def _nt_string(value: str) -> str:
    if _NT_SPECIAL.search(value):
        value = _NT_SPECIAL.sub(
            lambda m: _NT_ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), value)
    return f'"{value}"'


def _nt_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        text = _nt_string(str(term))
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None and term.datatype != _XSD_STRING:
            return f"{text}^^<{term.datatype}>"
        return text
    raise TypeError(f"not an RDF term: {term!r}")


_XSD_STRING: Final = URIRef(_PREFIXES["xsd"] + "string")


def _split_iri(iri: str) -> tuple[str, str]:
    """``(namespace, local name)`` with a simple local name, or ``(iri, "")`` if there is none."""
    cut = max(iri.rfind("/"), iri.rfind("#")) + 1
    if 0 < cut < len(iri) and _LOCAL.match(iri[cut:]):
        return iri[:cut], iri[cut:]
    return iri, ""


_NS_PREFIX: Final = {ns: prefix for prefix, ns in _PREFIXES.items()}


def _by_subject(triples: Iterable[Triple]) -> Iterator[tuple[Node, list[tuple[Node, Node]]]]:
    """Group a record's triples by subject, subjects and predicates in first-seen order."""
    groups: dict[Node, list[tuple[Node, Node]]] = {}
    for s, p, o in triples:
        groups.setdefault(s, []).append((p, o))
    return iter(groups.items())


# -- writers ------------------------------------------------------------------------------

def _ntriples_block(triples: list[Triple]) -> str:
    return "".join(f"{_nt_term(s)} {_nt_term(p)} {_nt_term(o)} .\n" for s, p, o in triples)


def _turtle_predicate(p: Node) -> str:
    if p == _RDF_TYPE:
        return "a"
    namespace, local = _split_iri(str(p))
    prefix = _NS_PREFIX.get(namespace)
    return f"{prefix}:{local}" if prefix and local else _nt_term(p)


def _turtle_block(triples: list[Triple]) -> str:
    parts = ["\n"]
    for subject, pairs in _by_subject(triples):
        by_predicate: dict[Node, list[Node]] = {}
        for p, o in pairs:
            by_predicate.setdefault(p, []).append(o)
        lines = [f"    {_turtle_predicate(p)} {', '.join(_nt_term(o) for o in objects)}"
                 for p, objects in by_predicate.items()]
        parts.append(f"{_nt_term(subject)}\n" + " ;\n".join(lines) + " .\n")
    return "".join(parts)


def _turtle_header() -> str:
    return "".join(f"@prefix {prefix}: <{ns}> .\n" for prefix, ns in _PREFIXES.items())


def _xml_text(value: str, record_id: str) -> str:
    if _XML_ILLEGAL.search(value):
        raise ValueError(f"{record_id}: a value holds a character XML 1.0 cannot carry: {value!r}")
    return _xml_escape(value, {"\r": "&#13;"})


def _xml_node_attr(name: str, term: Node, record_id: str) -> str:
    if isinstance(term, BNode):
        return f"rdf:nodeID={_xml_attr(str(term))}"
    value = str(term)
    if _XML_ILLEGAL.search(value):
        raise ValueError(f"{record_id}: an IRI holds a character XML 1.0 cannot carry: {value!r}")
    return f"{name}={_xml_attr(value)}"


def _rdfxml_block(triples: list[Triple], record_id: str) -> str:
    parts: list[str] = []
    for subject, pairs in _by_subject(triples):
        parts.append(f"  <rdf:Description {_xml_node_attr('rdf:about', subject, record_id)}>\n")
        for p, o in pairs:
            namespace, local = _split_iri(str(p))
            if not local:
                raise ValueError(f"{record_id}: predicate {p} has no XML local name")
            prefix = _NS_PREFIX.get(namespace)
            tag, declare = (f"{prefix}:{local}", "") if prefix else (
                f"ns0:{local}", f" xmlns:ns0={_xml_attr(namespace)}")
            if isinstance(o, Literal):
                attrs = declare
                if o.language:
                    attrs += f" xml:lang={_xml_attr(o.language)}"
                elif o.datatype is not None and o.datatype != _XSD_STRING:
                    attrs += f" rdf:datatype={_xml_attr(str(o.datatype))}"
                parts.append(f"    <{tag}{attrs}>{_xml_text(str(o), record_id)}</{tag}>\n")
            else:
                parts.append(f"    <{tag}{declare} "
                             f"{_xml_node_attr('rdf:resource', o, record_id)}/>\n")
        parts.append("  </rdf:Description>\n")
    return "".join(parts)


def _rdfxml_header() -> str:
    declarations = "".join(f"\n   xmlns:{prefix}={_xml_attr(ns)}" for prefix, ns in _PREFIXES.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{declarations}>\n'


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- the API ------------------------------------------------------------------------------

def export(
    config: Config,
    store: CatalogReader,
    out: IO[bytes],
    *,
    format: str = "ndjson",  # noqa: A002
    since: str | None = None,
    member: str | None = None,
    progress: Callable[[int], None] | None = None,
    skipped: Callable[[str, str], None] | None = None,
) -> int:
    """Write the catalogue's live records to ``out`` in ``format``; return how many were written.

    ``since`` (any ISO 8601 date or date-time) keeps records changed at or after it;
    ``member`` keeps records that member describes. Memory does not grow with the catalogue:
    each record is converted and written on its own (module docstring). ``skipped`` is called
    with the record's id and the reason for each record the format cannot carry (``amb``).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; known: {', '.join(FORMATS)}")
    if member is not None:
        config.member(member)
    updated_since = format_datestamp(parse_datestamp(since)) if since else None
    if format == "turtle":
        out.write(_turtle_header().encode("utf-8"))
    elif format == "rdfxml":
        out.write(_rdfxml_header().encode("utf-8"))
    elif format == "jsonld":
        out.write(b'{"@context":' + _json(rdf.context()["@context"]) + b',\n"@graph":[')
    count = 0
    for resource in store.iter_resources(member_id=member, updated_since=updated_since):
        record = resource.record
        if format == "ndjson":
            out.write(_json(record) + b"\n")
        elif format == "amb":
            try:
                document = to_amb(record)
            except NotAmb as err:
                if skipped is not None:
                    skipped(resource.id, str(err))
                continue
            out.write(_json(document) + b"\n")
        elif format == "jsonld":
            body = {k: v for k, v in rdf.jsonld_document(record).items() if k != "@context"}
            out.write((b"\n" if count == 0 else b",\n") + _json(body))
        else:
            triples = record_triples(record)
            if format == "ntriples":
                text = _ntriples_block(triples)
            elif format == "turtle":
                text = _turtle_block(triples)
            else:
                text = _rdfxml_block(triples, resource.id)
            out.write(text.encode("utf-8"))
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if format == "rdfxml":
        out.write(b"</rdf:RDF>\n")
    elif format == "jsonld":
        out.write(b"\n]}\n")
    return count


def _vocabulary_files() -> list[str]:
    """Text of every shipped SKOS concept scheme (``vocabularies/*.ttl``), in name order."""
    package = files("eduxchange.vocabularies")
    texts = []
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".ttl"):
            text = entry.read_text(encoding="utf-8")
            if "skos:ConceptScheme" in text or "skos/core#ConceptScheme" in text:
                texts.append(text)
    return texts


def export_vocabularies(out: IO[bytes], format: str = "turtle") -> int:  # noqa: A002
    """Write the shipped SKOS concept schemes as one RDF document; return the number of triples.

    The schemes (a few thousand triples) are loaded into one graph: their size is fixed by the
    package, not by the catalogue.
    """
    rdflib_format = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}
    if format not in rdflib_format:
        raise ValueError(f"unknown vocabulary export format {format!r}; "
                         f"known: {', '.join(VOCABULARY_FORMATS)}")
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in _PREFIXES.items():
        graph.bind(prefix, namespace)
    for text in _vocabulary_files():
        graph.parse(data=text, format="turtle")
    out.write(graph.serialize(format=rdflib_format[format], encoding="utf-8"))
    return len(graph)
