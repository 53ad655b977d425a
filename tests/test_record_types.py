"""The TypedDicts of eduxchange.core.record and schemas/resource.schema.json agree, key by key.

The schema is the contract (docs/record.md); the TypedDicts are its shape for mypy. Every schema
property must be a key of the TypedDict with a compatible type, and the required keys must be
the same, for the record and for every object inside it (concepts, agents, provenance ...), so a
field added to one and not the other fails here.
"""

# No ``from __future__ import annotations``: TypedDicts declared here (the drift check's) need
# real annotations for NotRequired to count on Python 3.11.
import json
from pathlib import Path
from typing import (Any, Literal, NotRequired, Required, TypedDict, get_args, get_origin,
                    get_type_hints, is_typeddict)

import pytest

from eduxchange.core import record as types_module
from eduxchange.core.record import CommonRecord, Description

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "resource.schema.json")
                    .read_text(encoding="utf-8"))
DEFS: dict[str, Any] = SCHEMA["$defs"]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = DEFS[node["$ref"].removeprefix("#/$defs/")]
    return node


def _hints(typed_dict: Any) -> dict[str, Any]:
    hints = get_type_hints(typed_dict, include_extras=True)
    return {key: get_args(hint)[0] if get_origin(hint) in (NotRequired, Required) else hint
            for key, hint in hints.items()}


def _problems(hint: Any, node: dict[str, Any], where: str) -> list[str]:
    """Why the Python type ``hint`` does not describe the JSON Schema ``node`` (empty: it does)."""
    node = _resolve(node)
    if "allOf" in node:
        return [p for sub in node["allOf"] for p in _problems(hint, sub, where)]
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        allowed = [node["const"]] if "const" in node else node.get("enum")
        return [] if allowed is not None and set(allowed) == set(args) else [
            f"{where}: {hint} but the schema allows {allowed}"]
    if hint is str:
        if node.get("type") == "string" or isinstance(node.get("const"), str) or (
                "enum" in node and all(isinstance(v, str) for v in node["enum"])):
            return []
        if not {"type", "const", "enum", "properties", "items"} & set(node):
            return []  # a constraint only (canonicalCreativeCommons: if/then on strings)
        return [f"{where}: str but the schema says {node.get('type')}"]
    if hint is bool:
        return [] if node.get("type") == "boolean" else [f"{where}: bool, schema {node}"]
    if origin is list:
        if node.get("type") != "array":
            return [f"{where}: a list but the schema says {node.get('type')}"]
        return _problems(args[0], node["items"], where + "[]")
    if origin is dict:
        if node.get("type") != "object" or "properties" in node or args[0] is not str:
            return [f"{where}: {hint} but the schema gives an object with fixed properties"]
        return _problems(args[1], node["additionalProperties"], where + "{}")
    if is_typeddict(hint):
        return _object_problems(hint, node, where)
    return [f"{where}: no rule for {hint}"]


def _object_problems(typed_dict: Any, node: dict[str, Any], where: str) -> list[str]:
    node = _resolve(node)
    if node.get("type") != "object" or "properties" not in node:
        return [f"{where}: {typed_dict.__name__} but the schema has no object here"]
    hints = _hints(typed_dict)
    properties: dict[str, Any] = node["properties"]
    problems = [f"{where}: {typed_dict.__name__} lacks the schema's {key!r}"
                for key in properties if key not in hints]
    problems += [f"{where}: {typed_dict.__name__}.{key} is not in the schema"
                 for key in hints if key not in properties]
    if node.get("additionalProperties", True) is not False:
        problems.append(f"{where}: the schema allows other keys; a TypedDict does not")
    required = set(node.get("required", ()))
    if set(typed_dict.__required_keys__) != required:
        problems.append(f"{where}: {typed_dict.__name__} requires "
                        f"{sorted(typed_dict.__required_keys__)}, the schema {sorted(required)}")
    for key in properties.keys() & hints.keys():
        problems += _problems(hints[key], properties[key], f"{where}.{key}")
    return problems


def test_the_record_type_is_the_schema() -> None:
    assert _object_problems(CommonRecord, SCHEMA, "$") == []


def test_a_description_has_the_record_fields_but_the_pipelines_and_the_terms() -> None:
    """Crosswalk output (docs/record.md): the record's fields but ``@context``, ``id`` and
    ``sameAs`` (the pipeline's), none required, plus ``_terms``."""
    hints = _hints(Description)
    properties = SCHEMA["properties"]
    assert set(hints) == (set(properties) - {"@context", "id", "sameAs"}) | {"_terms"}
    assert not Description.__required_keys__
    problems = [p for key in hints.keys() - {"_terms"}
                for p in _problems(hints[key], properties[key], f"$.{key}")]
    assert problems == []
    assert hints["_terms"] == dict[str, list[tuple[str, str]]]


@pytest.mark.parametrize("name", ["Concept", "Agent", "Affiliation", "Provenance", "Provider",
                                  "License"])
def test_each_object_type_is_its_schema_definition(name: str) -> None:
    definition = name[0].lower() + name[1:]
    assert _object_problems(getattr(types_module, name), DEFS[definition], definition) == []


def test_the_check_sees_a_drift() -> None:
    """The oracle itself: a wrong type, a missing key and a required mismatch are all caught."""
    class Wrong(TypedDict):
        id: int  # wrong type
        prefLabel: NotRequired[dict[str, str]]  # required in the schema

    problems = _object_problems(Wrong, DEFS["concept"], "concept")
    assert any("requires" in p for p in problems)
    assert any("no rule" in p or "schema says" in p for p in problems)
    assert _problems(list[str], DEFS["iri"], "iri")
    assert _problems(dict[str, int], DEFS["languageMap"], "languageMap")


def test_the_field_name_types_name_the_schema_s_fields_of_each_kind() -> None:
    """``ConceptField``, ``AgentField`` and ``DateField`` (the keys code loops over) are the
    schema's concept, agent and date fields, and the vocabularies' and agents' own lists."""
    from eduxchange.catalog.vocab import FIELDS
    from eduxchange.core.record import AgentField, ConceptField, DateField
    from eduxchange.normalize.agents import Role

    def of_kind(definition: str) -> set[str]:
        return {key for key, node in SCHEMA["properties"].items()
                if node.get("$ref") == f"#/$defs/{definition}"}

    assert set(get_args(ConceptField)) == of_kind("concepts") == set(FIELDS)
    assert get_args(ConceptField) == FIELDS
    assert set(get_args(AgentField)) == of_kind("agents") == set(get_args(Role))
    assert set(get_args(DateField)) == of_kind("date")
