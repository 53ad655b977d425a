"""Check a common record against its JSON Schema (``schemas/resource.schema.json``, docs/record.md).

Every harvested record goes through :func:`validate_record`, so the check must be cheap. The
schema is compiled once with fastjsonschema, with its ``$ref`` references inlined first
(fastjsonschema turns each ``$ref`` into a function call that formats a path string per item); a
typical 2 KB record takes about 40 µs where python-jsonschema takes about 1.2 ms.
python-jsonschema, the reference, runs only on the rare record the fast check rejects, to name
every problem with its JSON path and rule.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from importlib.resources import files
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .models import Issue

__all__ = ["validate_record", "is_valid_record"]

#: The ``Issue.code`` of every schema problem.
CODE = "schema"

_REPR_LIMIT = 80


@functools.cache
def _schema() -> dict[str, Any]:
    text = (files("eduxchange.schemas") / "resource.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by its definition (the schema has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


@functools.cache
def _fast() -> Callable[[Any], Any]:
    """The compiled check: returns, or raises ``JsonSchemaValueException`` at the first problem."""
    schema = _schema()
    defs = dict(schema["$defs"])
    # Concepts only ever come from the shipped vocabularies (crosswalks emit source terms; the
    # vocabulary step fills in concepts), and every shipped concept is checked against the full
    # concept definition by tests/test_vocab.py. Re-checking the 7-language labels of each one
    # for every record was a third of the validation time, so the fast path checks their shape.
    concept = dict(defs["concept"])
    concept["properties"] = {**concept["properties"],
                             "prefLabel": {"type": "object", "minProperties": 1}}
    defs["concept"] = concept
    # use_default=False: never write defaults into the record (validation stays pure).
    return fastjsonschema.compile(_inline(schema, defs), use_default=False, use_formats=False)


@functools.cache
def _reference() -> Draft202012Validator:
    return Draft202012Validator(_schema())


def is_valid_record(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a valid common record: the fast check alone, no report."""
    try:
        _fast()(record)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def validate_record(record: dict[str, Any]) -> list[Issue]:
    """The schema problems of ``record`` (docs/record.md); an empty list when it is valid.

    Each problem is an :class:`~eduxchange.models.Issue` with code ``"schema"``, severity
    ``"error"`` and a message naming the JSON path and the rule broken, for example
    ``$.dateCreated: '2023-05-01T10:00:00' is not an ISO 8601 date ... [pattern]``.
    """
    try:
        _fast()(record)
    except fastjsonschema.JsonSchemaValueException as err:
        issues = [Issue(code=CODE, message=message, severity="error")
                  for message in _messages(record)]
        if not issues:  # the two validators disagree: report what the fast one saw
            where = "$" + (err.name or "data").removeprefix("data")
            issues = [Issue(code=CODE, message=f"{where}: {err.message} [{err.rule}]",
                            severity="error")]
        return issues
    return []


def _messages(record: dict[str, Any]) -> Iterator[str]:
    for error in _reference().iter_errors(record):
        yield f"{error.json_path}: {_explain(error)} [{_rule(error)}]"


def _rule(error: ValidationError) -> str:
    """The JSON Schema keyword ``error`` breaks, as a reader names it.

    A bad key of a language map fails the ``pattern`` inside ``propertyNames``: that is a
    ``propertyNames`` problem of the map.
    """
    if "propertyNames" in error.relative_schema_path:
        return "propertyNames"
    return str(error.validator)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
               int: "a number", float: "a number", type(None): "null"}


def _explain(error: ValidationError) -> str:
    rule = _rule(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    described = schema.get("description")
    if rule == "propertyNames":
        return f"key {_short(error.instance)} is not {described or 'allowed'}"
    if rule == "pattern" and described:
        return f"{_short(error.instance)} is not {described}"
    if rule == "const":
        return f"must be {error.validator_value!r}, not {_short(error.instance)}"
    if rule == "type":
        got = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        return f"must be of type {error.validator_value!r}, not {got}"
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."
