"""The shape of the common record and of a member's description, for the type checker.

Declared once, here, after ``schemas/resource.schema.json`` (the contract: docs/record.md);
tests/test_record_types.py checks that the two agree key by key, so they cannot drift. These are
:class:`typing.TypedDict`\\ s: plain dicts at run time (no validation, no cost), a shape mypy checks
at every signature that takes or returns one. Validation stays :mod:`eduxchange.catalog.validate`.

* :class:`CommonRecord`: one catalogue record (``@context``, ``id``, ``type``, ``name`` and
  ``mainEntityOfPage`` required, as in the schema);
* :class:`Description`: what a crosswalk makes of one member's metadata (docs/record.md,
  "Crosswalk output"): the record's fields except ``@context``, ``id`` and ``sameAs``, none
  required, plus ``_terms`` (the source values of controlled fields, until vocabulary mapping
  turns them into concepts) and ``mainEntityOfPage`` (added by the pipeline before it is stored).

Standard library only (layer 0, like :mod:`eduxchange.core.models`).
"""

# No ``from __future__ import annotations``: with string annotations, Python 3.11's TypedDict
# cannot see NotRequired, and ``__required_keys__`` (which the schema test reads) would be wrong.
from typing import Literal, NotRequired, TypedDict

__all__ = [
    "LanguageMap",
    "LanguageMapOfLists",
    "Term",
    "Terms",
    "Concept",
    "Affiliation",
    "Agent",
    "AgentType",
    "AgentField",
    "DateField",
    "ConceptField",
    "License",
    "Provider",
    "Provenance",
    "Description",
    "CommonRecord",
]

#: A JSON-LD language map: ``{BCP 47 tag or "@none": text}``.
LanguageMap = dict[str, str]
#: A JSON-LD language map of lists: ``{BCP 47 tag or "@none": [text, ...]}``.
LanguageMapOfLists = dict[str, list[str]]
#: One source value of a controlled field: ``(where it comes from, value)``, e.g.
#: ``("LOMv1.0", "exercise")``, ``("isced-f", "0541")``, ``("text", "Mathematics")``.
Term = tuple[str, str]
#: ``_terms`` of a description: field name -> its source values, in order.
Terms = dict[str, list[Term]]
AgentType = Literal["Person", "Organization"]


class Concept(TypedDict):
    """A concept of a vocabulary shipped in ``vocabularies/``: its IRI and the scheme's labels."""

    id: str
    prefLabel: LanguageMap


class Affiliation(TypedDict):
    """The organization a person is affiliated with (``schema:affiliation``)."""

    type: Literal["Organization"]
    name: str
    id: NotRequired[str]


class Agent(TypedDict):
    """A person or an organization; untyped where the source gives no evidence of either.

    ``email``, ``telephone`` and ``address`` only when the member publishes contacts; an agent
    with an ``affiliation`` has a ``type`` (the schema's ``if``/``then``, checked by validation).
    """

    name: str
    type: NotRequired[AgentType]
    id: NotRequired[str]
    affiliation: NotRequired[Affiliation]
    email: NotRequired[str]
    telephone: NotRequired[str]
    address: NotRequired[str]


class License(TypedDict):
    """A licence: ``{"id": IRI}`` (Creative Commons IRIs canonical)."""

    id: str


class Provider(TypedDict):
    """The member that served a description: ``{base_uri}members/{member id}``, its name."""

    id: str
    type: Literal["Organization"]
    name: str


class Provenance(TypedDict):
    """One ``mainEntityOfPage`` entry: the member description a record was built from."""

    id: str  # the member's GetRecord URL for the description
    type: Literal["WebPage"]
    provider: Provider
    identifier: str  # the OAI identifier
    dateModified: str  # the member's datestamp, normalised
    sdDatePublished: str  # when eduxchange harvested it


#: An agent field of a record or description (the agent's role).
AgentField = Literal["creator", "contributor", "publisher"]
#: A date field of a record or description.
DateField = Literal["dateCreated", "datePublished", "dateModified"]
#: A field holding concepts (vocabulary mapping fills them from ``_terms``).
ConceptField = Literal["learningResourceType", "educationalLevel", "audience", "about"]


class _Fields(TypedDict, total=False):
    """The fields a description and a record share, all optional in both."""

    url: str
    identifier: list[str]
    description: LanguageMap
    keywords: LanguageMapOfLists
    inLanguage: list[str]
    license: License
    copyrightNotice: LanguageMap
    learningResourceType: list[Concept]
    educationalLevel: list[Concept]
    audience: list[Concept]
    about: list[Concept]
    creator: list[Agent]
    contributor: list[Agent]
    publisher: list[Agent]
    dateCreated: str
    datePublished: str
    dateModified: str
    duration: str
    encodingFormat: list[str]
    isAccessibleForFree: bool
    image: str
    typicalAgeRange: str


class Description(_Fields, total=False):
    """One member's description of a resource (crosswalk output; docs/record.md)."""

    type: list[Literal["LearningResource"]]
    name: LanguageMap
    _terms: Terms  # removed by vocabulary mapping
    mainEntityOfPage: list[Provenance]  # added by the pipeline: exactly one entry


# "@context" is no Python name: the required keys are declared in the functional form.
_RecordKeys = TypedDict("_RecordKeys", {
    "@context": str,
    "id": str,
    "type": list[Literal["LearningResource"]],
    "name": LanguageMap,
    "mainEntityOfPage": list[Provenance],
})


class CommonRecord(_RecordKeys, _Fields, total=False):
    """One catalogue record (schemas/resource.schema.json)."""

    sameAs: list[str]  # retired catalogue IRIs of resources merged into this one
