"""Check a common record against its JSON Schema (``schemas/resource.schema.json``, docs/record.md).

Every harvested record goes through :func:`validate_record`, so the check must be cheap. The
fast check is jsonschema-rs (a compiled Draft 2020-12 validator) on the whole schema: a typical
record with its multilingual concepts takes about 10 µs, where python-jsonschema takes about
1.2 ms and fastjsonschema (generated Python, used before) took about 30 µs even with concept
labels checked for shape only. python-jsonschema, the reference, runs only on the rare record
the fast check rejects, to name every problem with its JSON path and rule;
tests/test_schemas.py checks that the two agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from importlib.resources import files
from typing import Any, TypeGuard

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..core.models import Issue
from ..core.record import CommonRecord

__all__ = ["validate_record", "is_valid_record"]

#: The ``Issue.code`` of every schema problem.
CODE = "schema"

_REPR_LIMIT = 80
# The schema ends each anchored pattern in "$(?!\n)" so that Python's re (where "$" also matches
# before a final newline) and ECMA-262 engines agree (the schema's $comment, policy 3). In
# jsonschema-rs "$" already means the end of the text only, and the look-ahead would push every
# pattern onto the slower backtracking engine: it is dropped for the fast check alone.
_PY_END = "$(?!\\n)"


@functools.cache
def _schema() -> dict[str, Any]:
    text = (files("eduxchange.schemas") / "resource.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _rust_patterns(node: Any) -> Any:
    """``node`` with each ``pattern``'s final ``$(?!\\n)`` written as a plain ``$``."""
    if isinstance(node, dict):
        return {key: (value.replace(_PY_END, "$") if key == "pattern" and isinstance(value, str)
                      else _rust_patterns(value))
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rust_patterns(value) for value in node]
    return node


@functools.cache
def _fast() -> jsonschema_rs.Validator:
    """The compiled check of the whole schema (offline: the schema has only local ``$ref``s)."""
    return jsonschema_rs.Draft202012Validator(_rust_patterns(_schema()), offline=True)


@functools.cache
def _fast_shipped() -> jsonschema_rs.Validator:
    """The whole schema but concept labels, checked for shape only (``shipped_concepts=True``).

    Every concept that :meth:`~eduxchange.catalog.vocab.Vocabularies.apply` puts into a record is a copy
    of a shipped concept, and tests/test_vocab.py checks each shipped concept against the full
    concept definition; re-checking their seven-language labels was a third of the check.
    """
    schema = _rust_patterns(_schema())
    defs = dict(schema["$defs"])
    concept = dict(defs["concept"])
    concept["properties"] = {**concept["properties"],
                             "prefLabel": {"type": "object", "minProperties": 1}}
    defs["concept"] = concept
    return jsonschema_rs.Draft202012Validator({**schema, "$defs": defs}, offline=True)


@functools.cache
def _reference() -> Draft202012Validator:
    return Draft202012Validator(_schema())


def is_valid_record(record: Mapping[str, object]) -> TypeGuard[CommonRecord]:
    """Whether ``record`` is a valid common record: the fast check alone, no report.

    Any JSON object may be given; where this is true, mypy knows it as a :class:`CommonRecord`.
    """
    return bool(_fast().is_valid(record))


def validate_record(record: Mapping[str, object], *, shipped_concepts: bool = False
                    ) -> list[Issue]:
    """The schema problems of ``record`` (docs/record.md); an empty list when it is valid.

    ``shipped_concepts=True`` says every concept in the record came from
    :meth:`~eduxchange.catalog.vocab.Vocabularies.apply` (as in :func:`eduxchange.catalog.normalization.describe`), so
    their labels, copies of shipped ones, are checked for shape only.

    Each problem is an :class:`~eduxchange.core.models.Issue` with code ``"schema"``, severity
    ``"error"`` and a message naming the JSON path and the rule broken, for example
    ``$.dateCreated: '2023-05-01T10:00:00' is not an ISO 8601 date ... [pattern]``.
    """
    fast = _fast_shipped() if shipped_concepts else _fast()
    if fast.is_valid(record):
        return []
    issues = [Issue(code=CODE, message=message, severity="error")
              for message in _messages(record)]
    if not issues:  # the two validators disagree: report what the fast one saw
        issues = [Issue(code=CODE, message=f"{fast_path(err)}: {err.message} [{fast_rule(err)}]",
                        severity="error")
                  for err in fast.iter_errors(record)]
    return issues


def fast_rule(error: jsonschema_rs.ValidationError) -> str:
    """The keyword a jsonschema-rs error breaks, named as :func:`_rule` names it."""
    return str(error.kind.name)


def fast_path(error: jsonschema_rs.ValidationError) -> str:
    """The JSON path of a jsonschema-rs error, written as python-jsonschema writes it."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else
                         (f".{part}" if str(part).replace("_", "a").isalnum() else f"[{part!r}]")
                         for part in error.instance_path)


def _messages(record: Mapping[str, object]) -> Iterator[str]:
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
