"""Controlled vocabularies and the vocabulary-mapping step of the pipeline.

The catalogue's four concept fields (``docs/record.md``) each draw on one shipped SKOS concept
scheme (``vocabularies/*.ttl``, package data ``eduxchange.vocabularies``):

* ``learningResourceType``: DCMI LRMI learningResourceType,
  ``http://purl.org/dcx/lrmi-vocabs/learningResourceType/``, and beside it the Higher Education
  Resource Types (HCRT, ``https://w3id.org/kim/hcrt/scheme``: the types OERSI and the AMB profile
  use), so that a video is an HCRT video *and* an LRMI recorded lesson (:data:`EXTRA_SCHEMES`);
* ``educationalLevel``: ISCED 2011 levels 0-8, ``https://w3id.org/kim/isced-2011/``;
* ``audience``: DCMI LRMI educationalAudienceRole,
  ``http://purl.org/dcx/lrmi-vocabs/educationalAudienceRole/``;
* ``about``: ISCED-F 2013 fields of education, ``http://data.europa.eu/esco/concept-scheme/isced-f``.

A crosswalk leaves the source values of those fields in ``description["_terms"]`` as
``(source, value)`` pairs; :meth:`Vocabularies.apply` turns them into concepts
(``{"id": IRI, "prefLabel": {lang: label}}``) with the mapping tables
``vocabularies/mappings/{field}.tsv`` (and ``mappings/learningResourceType-hcrt.tsv`` for HCRT; plus
a member's own tables) and reports what it could not map. A pair gives one concept per scheme of
its field: the most specific scheme's first (HCRT), then the field's main scheme (LRMI).

Everything is compiled into dictionaries when loading, so mapping is a handful of dict lookups and
never touches RDF or the network. Matching rules (``vocabularies/README.md`` has the long form):

* values are compared after Unicode NFKC, collapsing whitespace and case folding;
* sources are compared case- and space-insensitively (``LOMv1.0`` = ``lomv1.0`` = ``LOM v1.0``);
* lookup order for a pair: an IRI-looking value (source ``uri``, or a value containing ``://``) in
  the ``uri`` rows, which also hold every concept of the field's scheme, so a concept IRI maps to
  itself (``http``/``https`` and a trailing ``/`` or ``#`` do not matter); the table row for
  (source, value); codes by notation (``isced-f`` with fallback from a missing 4-digit code to its
  3- and 2-digit parents and a lost leading zero restored; ``isced-2011`` 0-8); for a LOM
  application profile's source (``LOM-FRv1.0``, ``LREv3.0``, ``SupLOMFRv1.0``: any source
  containing ``lom`` or starting with ``lre``) the ``LOMv1.0`` rows; last the ``text`` rows, which
  also hold every prefLabel and altLabel of the field's scheme.
* A value only ever maps into the field's own scheme: an ISCED level IRI given as a
  ``learningResourceType`` is reported as unmapped, not moved to another field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ..core.errors import EduxchangeError
from ..core.record import Concept as ConceptRecord, ConceptField, Description

__all__ = [
    "EXTRA_SCHEMES",
    "EXTRA_SCHEME_TABLES",
    "FIELDS",
    "HCRT_SCHEME",
    "SCHEMES",
    "SOURCES",
    "Concept",
    "Vocabularies",
    "VocabularyError",
    "check_mapping_tables",
    "default_vocabularies",
]

#: The record's concept fields, each with the IRI of its concept scheme.
SCHEMES: Final[Mapping[str, str]] = MappingProxyType({
    "learningResourceType": "http://purl.org/dcx/lrmi-vocabs/learningResourceType/",
    "educationalLevel": "https://w3id.org/kim/isced-2011/",
    "audience": "http://purl.org/dcx/lrmi-vocabs/educationalAudienceRole/",
    "about": "http://data.europa.eu/esco/concept-scheme/isced-f",
})
FIELDS: Final[tuple[str, ...]] = tuple(SCHEMES)
#: The same, as the record's field names (core.record.ConceptField) for the type checker.
_FIELD_NAMES: Final[tuple[ConceptField, ...]] = (
    "learningResourceType", "educationalLevel", "audience", "about")

#: The Higher Education Resource Types scheme (DINI-AG KIM; OERSI's and AMB's resource types).
HCRT_SCHEME: Final = "https://w3id.org/kim/hcrt/scheme"

#: Further schemes a field's concepts may come from, most specific first. Their concepts are
#: listed before the main scheme's (:data:`SCHEMES`) in the record: LRMI's ten broad types say
#: "recorded lesson" for a video and "assessment item" for an exercise, HCRT says video and drill
#: and practice; a record carries both, so LRMI consumers and AMB/OERSI consumers each find theirs.
EXTRA_SCHEMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "learningResourceType": (HCRT_SCHEME,),
})

#: The sources a shipped mapping row may name (docs/record.md, "Crosswalk output").
SOURCES: Final[tuple[str, ...]] = ("LOMv1.0", "DCMIType", "HCRT", "uri", "isced-f", "isced-2011", "text")

#: Shipped scheme files, each holding the scheme of one field.
_SCHEME_FILES: Final[Mapping[str, str]] = MappingProxyType({
    "learningResourceType": "learningResourceType.ttl",
    "educationalLevel": "isced2011.ttl",
    "audience": "educationalAudienceRole.ttl",
    "about": "iscedf2013.ttl",
})
#: Shipped files of the extra schemes: scheme IRI -> (Turtle file, mapping table in mappings/).
_EXTRA_SCHEME_FILES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType({
    HCRT_SCHEME: ("hcrt.ttl", "learningResourceType-hcrt.tsv"),
})
#: The mapping table of each extra scheme (a file name in ``vocabularies/mappings/``).
EXTRA_SCHEME_TABLES: Final[Mapping[str, str]] = MappingProxyType(
    {scheme: table for scheme, (_, table) in _EXTRA_SCHEME_FILES.items()})

#: Other spellings of the sources, after removing spaces and case folding.
_SOURCE_ALIASES: Final[Mapping[str, str]] = MappingProxyType({
    "lom": "lomv1.0",
    "dcmi": "dcmitype",
    "dctype": "dcmitype",
    "dcmitypevocabulary": "dcmitype",
    "http://purl.org/dc/dcmitype/": "dcmitype",
    "iri": "uri",
    "url": "uri",
    "iscedf": "isced-f",
    "isced-f2013": "isced-f",
    "iscedf2013": "isced-f",
    "isced2011": "isced-2011",
})
_LOM: Final = "lomv1.0"
_TEXT: Final = "text"
_URI: Final = "uri"
#: Which source's codes map by skos:notation, in which field.
_CODE_SOURCES: Final[Mapping[str, str]] = MappingProxyType(
    {"about": "isced-f", "educationalLevel": "isced-2011"})
_SOURCE_MEMO_LIMIT: Final = 4096
_TERM_MEMO_LIMIT: Final = 65536
#: ISCED-F 2013 broad fields (99 "field unknown" included, though not shipped).
_ISCED_F_BROAD: Final = frozenset(f"{n:02d}" for n in range(11)) | {"99"}


class VocabularyError(EduxchangeError):
    """A shipped or member-local vocabulary file is broken (the message names file and line)."""


@dataclass(frozen=True, slots=True)
class Concept:
    """One SKOS concept of a shipped scheme: its IRI, prefLabels by language, scheme and notation."""

    id: str
    pref_label: Mapping[str, str] = field(hash=False)
    scheme: str
    notation: str | None = None

    def as_dict(self) -> ConceptRecord:
        """The record's concept shape, ``{"id": IRI, "prefLabel": {lang: label}}`` (a fresh dict)."""
        return {"id": self.id, "prefLabel": dict(self.pref_label)}


def _norm(value: str) -> str:
    """Normalise a value for matching: NFKC (non-ASCII only), whitespace collapsed, case folded."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    return " ".join(value.split()).casefold()


def _iri_key(value: str) -> str:
    """Normalise an already :func:`_norm`-ed IRI: ``https`` as ``http``, no trailing ``/`` or ``#``."""
    if value.startswith("https://"):
        value = "http://" + value[8:]
    return value.rstrip("/#")


def _source_key(source: str) -> str:
    """Canonical form of a source name: no whitespace, case folded, aliases resolved."""
    key = "".join(source.split()).casefold()
    return _SOURCE_ALIASES.get(key, key)


def _is_lom_profile(key: str) -> bool:
    """Whether a source key names a LOM application profile whose values fall back to LOMv1.0."""
    return key != _LOM and ("lom" in key or key.startswith("lre"))


class Vocabularies:
    """The shipped concept schemes and mapping tables, compiled for fast lookups.

    Build it with :meth:`load` (or use the cached :func:`default_vocabularies`). Once built it does
    not change: every method is a pure function of its arguments (memos of source spellings and of
    mapped terms are the only internal state, and they never change a result).
    """

    __slots__ = ("_concepts", "_concept_keys", "_by_scheme", "_tables", "_extra", "_codes",
                 "_labels", "_source_memo", "_term_memo", "_all_memo")

    def __init__(
        self,
        *,
        concepts: Mapping[str, Concept],
        tables: Mapping[str, Mapping[str, Mapping[str, Concept]]],
        codes: Mapping[str, Mapping[str, Concept]],
        extra_tables: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Concept]]]] | None = None,
    ) -> None:
        self._concepts: dict[str, Concept] = dict(concepts)
        self._by_scheme: dict[str, list[Concept]] = {}
        for concept in sorted(concepts.values(), key=lambda c: (c.notation or "", c.id)):
            self._by_scheme.setdefault(concept.scheme, []).append(concept)
        self._tables: dict[str, dict[str, dict[str, Concept]]] = {
            f: {s: dict(rows) for s, rows in by_source.items()} for f, by_source in tables.items()
        }
        # field -> ((scheme, its tables by source), ...), in EXTRA_SCHEMES order.
        self._extra: dict[str, tuple[tuple[str, dict[str, dict[str, Concept]]], ...]] = {
            f: tuple((scheme, {s: dict(rows) for s, rows in by_scheme[scheme].items()})
                     for scheme in EXTRA_SCHEMES.get(f, ()) if scheme in by_scheme)
            for f, by_scheme in (extra_tables or {}).items()
        }
        self._codes: dict[str, dict[str, Concept]] = {f: dict(c) for f, c in codes.items()}
        # Plain dicts to copy into each record (dict.copy() is the cheapest fresh copy).
        self._labels: dict[str, dict[str, str]] = {iri: dict(c.pref_label) for iri, c in concepts.items()}
        self._concept_keys: dict[str, Concept] = {_iri_key(_norm(i)): c for i, c in concepts.items()}
        self._source_memo: dict[str, str] = {}
        # (field, source, value) -> concept or None: members repeat the same few values.
        self._term_memo: dict[tuple[str, str, str], Concept | None] = {}
        # The same for every scheme of the field (map_term_all).
        self._all_memo: dict[tuple[str, str, str], tuple[Concept, ...]] = {}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, extra_mappings: Sequence[str | Path] = ()) -> Vocabularies:
        """Load the shipped schemes and tables, then a member's own tables (later files win).

        A member-local table is UTF-8 TSV with the shipped columns ``source``, ``value``,
        ``concept`` (its field is then the file's stem, e.g. ``learningResourceType.tsv``), or with
        a first column ``field`` so that one file can hold rows for several fields. Blank lines and
        lines starting with ``#`` are skipped. Every concept must be in the field's shipped scheme.
        A member's row replaces a shipped row for the same (field, source, value).

        Raises :class:`VocabularyError` for a broken file.
        """
        package = resources.files("eduxchange.vocabularies")
        concepts: dict[str, Concept] = {}
        labels: dict[str, dict[str, Concept]] = {}
        codes: dict[str, dict[str, Concept]] = {}
        for field_name, filename in _SCHEME_FILES.items():
            text = package.joinpath(filename).read_text(encoding="utf-8")
            field_concepts, field_labels = _read_scheme(text, SCHEMES[field_name], filename)
            for concept in field_concepts:
                if concept.id in concepts:
                    raise VocabularyError(f"{filename}: concept {concept.id} is in two schemes")
                concepts[concept.id] = concept
            labels[field_name] = field_labels
            if field_name in _CODE_SOURCES:
                codes[field_name] = {c.notation: c for c in field_concepts if c.notation is not None}

        extra_labels: dict[str, dict[str, Concept]] = {}
        for scheme, (filename, _) in _EXTRA_SCHEME_FILES.items():
            text = package.joinpath(filename).read_text(encoding="utf-8")
            scheme_concepts, extra_labels[scheme] = _read_scheme(text, scheme, filename)
            for concept in scheme_concepts:
                if concept.id in concepts:
                    raise VocabularyError(f"{filename}: concept {concept.id} is in two schemes")
                concepts[concept.id] = concept

        def new_tables(scheme: str, label_index: dict[str, Concept]) -> dict[str, dict[str, Concept]]:
            by_source: dict[str, dict[str, Concept]] = {_TEXT: dict(label_index), _URI: {}}
            for concept in concepts.values():
                if concept.scheme == scheme:
                    by_source[_URI][_iri_key(_norm(concept.id))] = concept
            return by_source

        tables: dict[str, dict[str, dict[str, Concept]]] = {
            f: new_tables(SCHEMES[f], labels[f]) for f in FIELDS}
        extra_tables: dict[str, dict[str, dict[str, dict[str, Concept]]]] = {
            f: {scheme: new_tables(scheme, extra_labels[scheme]) for scheme in schemes}
            for f, schemes in EXTRA_SCHEMES.items()}
        mappings = package.joinpath("mappings")
        shipped = [(f, f"{f}.tsv") for f in FIELDS]
        shipped += [(f, _EXTRA_SCHEME_FILES[scheme][1])
                    for f, schemes in EXTRA_SCHEMES.items() for scheme in schemes]
        for field_name, name in shipped:
            text = mappings.joinpath(name).read_text(encoding="utf-8")
            _read_table(text, f"mappings/{name}", field_name, concepts, tables, extra_tables)
        for path in extra_mappings:
            path = Path(path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise VocabularyError(f"{path}: cannot read member mapping table: {exc}") from exc
            _read_table(text, str(path), path.stem, concepts, tables, extra_tables)
        return cls(concepts=concepts, tables=tables, codes=codes, extra_tables=extra_tables)

    # ------------------------------------------------------------------ concepts

    def concept(self, iri: str) -> Concept | None:
        """The shipped concept with this IRI, or ``None``."""
        found = self._concepts.get(iri)
        if found is None:
            key = _iri_key(_norm(iri))
            found = self._concept_keys.get(key)  # the concept itself, written differently
            if found is not None:
                return found
            for by_source in (*self._tables.values(),
                              *(t for extra in self._extra.values() for _, t in extra)):
                found = by_source[_URI].get(key)
                if found is not None:
                    break
        return found

    def concepts(self, scheme_or_field: str) -> list[Concept]:
        """All concepts of a scheme, given its IRI or a field name, ordered by notation then IRI.

        Raises :class:`KeyError` naming the known fields and schemes for anything else.
        """
        scheme = SCHEMES.get(scheme_or_field, scheme_or_field)
        if scheme not in self._by_scheme:
            known = ", ".join([*FIELDS, *SCHEMES.values()])
            raise KeyError(f"unknown field or concept scheme {scheme_or_field!r}; known: {known}")
        return list(self._by_scheme[scheme])

    # ------------------------------------------------------------------ mapping

    def _source(self, source: str) -> str:
        key = self._source_memo.get(source)
        if key is None:
            key = _source_key(source)
            if len(self._source_memo) < _SOURCE_MEMO_LIMIT:
                self._source_memo[source] = key
        return key

    def _by_code(self, field_name: str, value: str) -> Concept | None:
        """ISCED codes by skos:notation (ISCED 2011 levels; ISCED-F fields with fallback).

        ISCED-F: a code whose concept is missing falls back to its 3- then 2-digit parent
        (``0549`` -> ``054``), and a leading zero lost on the way is restored (``541`` -> ``0541``,
        ``5`` -> ``05``) unless the code starts with a broad field (``999`` is narrow 99, "field
        unknown", which is not shipped). ISCED 2011: ``0``-``8``, leading zeros ignored.
        """
        codes = self._codes[field_name]
        found = codes.get(value)
        if found is not None or not value.isdigit() or len(value) > 4:
            return found
        if field_name != "about":
            return codes.get(value.lstrip("0") or "0")
        if len(value) == 1 or (len(value) == 3 and value[:2] not in _ISCED_F_BROAD):
            value = "0" + value
            found = codes.get(value)
            if found is not None:
                return found
        for length in (3, 2):  # detailed -> narrow -> broad
            if len(value) > length:
                found = codes.get(value[:length])
                if found is not None:
                    return found
        return None

    def map_term(self, field: str, source: str, value: str) -> Concept | None:
        """Map one ``(source, value)`` pair of a field to a concept of the field's scheme, or ``None``.

        Implements the lookup order of the module docstring (docs/record.md, "Crosswalk output").
        """
        memo_key = (field, source, value)
        try:
            return self._term_memo[memo_key]
        except KeyError:
            pass
        found = self._map_term(field, source, value)
        if len(self._term_memo) < _TERM_MEMO_LIMIT:
            self._term_memo[memo_key] = found
        return found

    def map_term_all(self, field: str, source: str, value: str) -> tuple[Concept, ...]:
        """Map one pair to a concept of each scheme of the field that has one, most specific first.

        For ``learningResourceType``: the HCRT concept, then the LRMI one (either may be missing);
        for the other fields the same as :meth:`map_term`, as a tuple. Same lookup order per scheme.
        """
        memo_key = (field, source, value)
        try:
            return self._all_memo[memo_key]
        except KeyError:
            pass
        found: list[Concept] = []
        extra = self._extra.get(field)
        if extra:
            key = _norm(value)
            if key:
                src = self._source(source)
                for _, by_source in extra:
                    concept = self._lookup(by_source, None, src, key)
                    if concept is not None:
                        found.append(concept)
        main = self.map_term(field, source, value)
        if main is not None:
            found.append(main)
        result = tuple(found)
        if len(self._all_memo) < _TERM_MEMO_LIMIT:
            self._all_memo[memo_key] = result
        return result

    def _map_term(self, field: str, source: str, value: str) -> Concept | None:
        by_source = self._tables.get(field)
        if by_source is None:
            return None
        key = _norm(value)
        if not key:
            return None
        return self._lookup(by_source, field, self._source(source), key)

    def _lookup(self, by_source: dict[str, dict[str, Concept]], field: str | None, src: str,
                key: str) -> Concept | None:
        """The lookup order of the module docstring in one scheme's tables (``key`` normalised).

        ``field`` names the field whose codes map by notation; ``None`` for an extra scheme,
        which has no codes.
        """
        if src == _URI or "://" in key:
            found = by_source[_URI].get(_iri_key(key))
            if found is not None:
                return found
        if src != _URI:
            rows = by_source.get(src)
            if rows is not None:
                found = rows.get(key)
                if found is not None:
                    return found
            if field is not None and src == _CODE_SOURCES.get(field):
                found = self._by_code(field, key)
                if found is not None:
                    return found
            if _is_lom_profile(src):
                rows = by_source.get(_LOM)
                if rows is not None:
                    found = rows.get(key)
                    if found is not None:
                        return found
        return by_source[_TEXT].get(key)

    def map_terms(
        self, field: str, terms: Iterable[tuple[str, str]]
    ) -> tuple[list[ConceptRecord], list[tuple[str, str]]]:
        """Map a field's pairs: (concept dicts, first-seen order, no duplicates; unmapped pairs).

        A pair gives a concept of each scheme of the field that maps it (:meth:`map_term_all`); it
        is unmapped only when none does.

        Each concept dict is a fresh ``{"id": IRI, "prefLabel": {lang: label}}`` (docs/record.md).
        Unmapped pairs are reported once each; a pair that is not two strings is unmapped too. A
        ``text`` pair repeating the value of a pair that was mapped (a LOM taxon's entry that
        repeats its id) is no value without a concept, and is not reported.
        """
        concepts: list[ConceptRecord] = []
        seen: set[str] = set()
        unmapped: list[tuple[str, str]] = []
        mapped_values: set[str] = set()
        for term in terms:
            try:
                source, value = term
            except (TypeError, ValueError):
                pair = ("", str(term))
            else:
                if isinstance(source, str) and isinstance(value, str):
                    found_all = self.map_term_all(field, source, value)
                    if found_all:
                        mapped_values.add(value.strip().casefold())
                        for found in found_all:
                            if found.id not in seen:
                                seen.add(found.id)
                                concepts.append({"id": found.id,
                                                 "prefLabel": self._labels[found.id].copy()})
                        continue
                    pair = (source, value)
                else:
                    pair = (str(source), str(value))
            if pair not in unmapped:
                unmapped.append(pair)
        if mapped_values and unmapped:
            unmapped = [p for p in unmapped
                        if not (p[0] == "text" and p[1].strip().casefold() in mapped_values)]
        return concepts, unmapped

    def apply(self, description: Description) -> tuple[Description, list[tuple[str, str, str]]]:
        """The vocabulary-mapping step: a new description with ``_terms`` turned into concepts.

        Pops ``_terms`` (docs/record.md, "Crosswalk output") and fills ``learningResourceType``,
        ``educationalLevel``, ``audience`` and ``about``, keeping concepts already there (those of a
        shipped concept get the scheme's labels) and adding new ones after them without duplicates.
        Returns the new description and the unmapped ``(field, source, value)`` triples. The input
        is not mutated; values of keys this step does not touch are shared with it.
        """
        out = description.copy()
        terms = out.pop("_terms", None)
        # type() checks first: the ABC isinstance checks cost more than mapping a term.
        if not terms or (type(terms) is not dict and not isinstance(terms, Mapping)):
            return out, []
        unmapped: list[tuple[str, str, str]] = []
        for field_name, pairs in terms.items():
            if type(pairs) is not list and (
                    isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable)):
                unmapped.append((str(field_name), "", str(pairs)))
                continue
            if field_name not in self._tables or field_name not in _FIELD_NAMES:
                _, missing = self.map_terms("", pairs)
                unmapped.extend((str(field_name), s, v) for s, v in missing)
                continue
            concepts, missing = self.map_terms(field_name, pairs)
            if missing:
                unmapped.extend((field_name, s, v) for s, v in missing)
            existing = out.get(field_name)
            if existing:
                out[field_name] = self._merge(existing, concepts)
            elif concepts or field_name in out:
                out[field_name] = concepts
        return out, unmapped

    def _merge(self, existing: Any, new: list[ConceptRecord]) -> list[Any]:
        """Concepts already in a field, then the new ones, each IRI once."""
        if not existing:
            return new
        merged: list[Any] = []
        seen: set[str] = set()
        for item in existing if isinstance(existing, list) else [existing]:
            iri = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(iri, str):
                if iri in seen:
                    continue
                seen.add(iri)
                labels = self._labels.get(iri)
                if labels is not None:
                    item = {**item, "prefLabel": labels.copy()}
            merged.append(item)
        merged.extend(c for c in new if c["id"] not in seen)
        return merged


@cache
def default_vocabularies() -> Vocabularies:
    """The shipped vocabularies without member tables, loaded once per process."""
    return Vocabularies.load()


def check_mapping_tables(paths: Sequence[str | Path]) -> None:
    """Read member-local mapping tables as :meth:`Vocabularies.load` would, keeping nothing.

    For checking a config when it is loaded: a table without its header, with an unknown
    field or a concept outside the field's scheme raises :class:`VocabularyError` naming the
    file and line. Uses the cached shipped concepts, so it costs the tables' size only.
    """
    concepts = default_vocabularies()._concepts
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VocabularyError(f"{path}: cannot read member mapping table: {exc}") from exc
        _read_table(text, str(path), path.stem, concepts, {f: {} for f in FIELDS})


# ---------------------------------------------------------------------- readers


def _read_scheme(text: str, scheme: str, filename: str) -> tuple[list[Concept], dict[str, Concept]]:
    """Concepts of ``scheme`` in a Turtle file, and its label index (normalised label -> concept).

    The label index holds every prefLabel and altLabel. A label shared by several concepts goes to
    the one with the longest notation (ISCED-F repeats a field's label on its only child, e.g. 042
    and 0421 "Law"); a label shared by concepts of equal depth is left out as ambiguous.
    """
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises several unrelated types for bad Turtle
        raise VocabularyError(f"{filename}: not valid Turtle: {exc}") from exc
    scheme_ref = URIRef(scheme)
    concepts: list[Concept] = []
    candidates: dict[str, list[Concept]] = {}
    subjects: list[URIRef] = []
    for node in set(graph.subjects(RDF.type, SKOS.Concept)):
        if not isinstance(node, URIRef):
            raise VocabularyError(f"{filename}: a concept without an IRI")
        subjects.append(node)
    for subject in sorted(subjects):
        if (subject, SKOS.inScheme, scheme_ref) not in graph and (
            subject, SKOS.topConceptOf, scheme_ref
        ) not in graph:
            raise VocabularyError(f"{filename}: {subject} is not in scheme {scheme}")
        pref: dict[str, str] = {}
        for obj in graph.objects(subject, SKOS.prefLabel):
            if not isinstance(obj, Literal) or not obj.language:
                raise VocabularyError(f"{filename}: {subject} has a prefLabel without a language")
            lang = obj.language
            if lang in pref and pref[lang] != str(obj):
                raise VocabularyError(f"{filename}: {subject} has two prefLabels in {lang!r}")
            pref[lang] = str(obj)
        notations = sorted(str(n) for n in graph.objects(subject, SKOS.notation))
        concept = Concept(
            id=str(subject),
            pref_label=MappingProxyType(dict(sorted(pref.items()))),
            scheme=scheme,
            notation=notations[0] if notations else None,
        )
        concepts.append(concept)
        alt = [str(o) for o in graph.objects(subject, SKOS.altLabel) if isinstance(o, Literal)]
        for label in {_norm(label_text) for label_text in [*pref.values(), *alt]}:
            candidates.setdefault(label, []).append(concept)
    index: dict[str, Concept] = {}
    for label, found in candidates.items():
        depth = max(len(c.notation or "") for c in found)
        deepest = {c.id: c for c in found if len(c.notation or "") == depth}
        if len(deepest) == 1:
            index[label] = next(iter(deepest.values()))
    return concepts, index


def _read_table(
    text: str,
    name: str,
    default_field: str,
    concepts: Mapping[str, Concept],
    tables: dict[str, dict[str, dict[str, Concept]]],
    extra_tables: dict[str, dict[str, dict[str, dict[str, Concept]]]] | None = None,
) -> None:
    """Add the rows of one mapping table to ``tables`` (format: :meth:`Vocabularies.load`).

    A row's concept may be in the field's main scheme (:data:`SCHEMES`, into ``tables``) or in one
    of its :data:`EXTRA_SCHEMES` (into ``extra_tables[field][scheme]``): the concept decides.
    """
    lines = text.splitlines()
    header = [h.strip().casefold() for h in lines[0].lstrip("\ufeff").split("\t")] if lines else []
    if header == ["source", "value", "concept"]:
        with_field = False
        if default_field not in SCHEMES:
            raise VocabularyError(
                f"{name}:1: without a 'field' column the file must be named after a field "
                f"({', '.join(FIELDS)}), not {default_field!r}; rename it or add the column"
            )
    elif header == ["field", "source", "value", "concept"]:
        with_field = True
    else:
        got = lines[0][:80] if lines else "an empty file"
        raise VocabularyError(
            f"{name}:1: the first line must be the header 'source<TAB>value<TAB>concept' "
            f"or 'field<TAB>source<TAB>value<TAB>concept', got {got!r}"
        )
    in_file: dict[tuple[str, str, str, str], str] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) == len(header) and not cells[-1] and all(cells[:-1]):
            continue  # a value waiting for its concept (as `eduxchange report` writes them)
        if len(cells) != len(header):
            raise VocabularyError(f"{name}:{number}: expected {len(header)} tab-separated columns")
        field_name = cells.pop(0) if with_field else default_field
        source, value, iri = cells
        if field_name not in SCHEMES:
            raise VocabularyError(
                f"{name}:{number}: unknown field {field_name!r}; known: {', '.join(FIELDS)}")
        concept = concepts.get(iri)
        schemes = (SCHEMES[field_name], *EXTRA_SCHEMES.get(field_name, ()))
        if concept is None or concept.scheme not in schemes:
            raise VocabularyError(
                f"{name}:{number}: {iri!r} is not a concept of the {field_name} scheme"
                f"{'s' if len(schemes) > 1 else ''} {', '.join(schemes)}"
            )
        src = _source_key(source)
        key = _norm(value)
        if not src or not key:
            raise VocabularyError(f"{name}:{number}: empty source or value")
        if src == _URI:
            key = _iri_key(key)
        previous = in_file.setdefault((field_name, concept.scheme, src, key), iri)
        if previous != iri:
            raise VocabularyError(f"{name}:{number}: {source} {value!r} maps to both {previous} and {iri}")
        if concept.scheme == SCHEMES[field_name]:
            target = tables[field_name]
        elif extra_tables is not None and field_name in extra_tables:
            target = extra_tables[field_name][concept.scheme]
        else:  # pragma: no cover - load() always passes the extra tables
            raise VocabularyError(f"{name}:{number}: no table for scheme {concept.scheme}")
        target.setdefault(src, {})[key] = concept
