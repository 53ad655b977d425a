"""AMB's published JSON Schema, read from the standards folder (never shipped with the project).

:func:`amb_validators` gives two validators of the version the writer targets
(:data:`eduxchange.publish.writers.amb.AMB_VERSION`): python-jsonschema (the reference, which does not
assert ``format``) and jsonschema-rs asserting ``format`` (``uri``, ``date``, ``date-time``), so
what we write is held to the stricter reading. Every ``$ref`` resolves to the folder's files by
their ``$id``; nothing is fetched.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import re
from datetime import datetime

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from eduxchange.publish.writers.amb import AMB_SCHEMA, AMB_VERSION

from .standards import standard

__all__ = ["AMB_DIR", "amb_examples", "amb_validators", "amb_errors"]

#: The version's folder inside the standards folder.
AMB_DIR = f"json_profiles/amb/{AMB_VERSION}"


def amb_examples(kind: str) -> list[Path]:
    """AMB's own ``valid`` or ``invalid`` examples of the targeted version (skips where absent)."""
    return sorted((standard(f"{AMB_DIR}/examples/{kind}")).glob("*.json"))


@functools.cache
def amb_validators() -> tuple[Draft7Validator, jsonschema_rs.Draft7Validator]:
    """(python-jsonschema, jsonschema-rs), both asserting formats, on AMB's schema.json.

    Formats must be asserted: AMB's dates are ``oneOf`` a ``date`` and a ``date-time``, which
    without format assertion both match any string, so that no date would be valid.
    """
    folder = standard(f"{AMB_DIR}/schemas")
    documents: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        documents[document["$id"]] = document
    registry: Registry[Any] = Registry().with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT7))
        for uri, doc in documents.items())
    reference = Draft7Validator(documents[AMB_SCHEMA], registry=registry,
                                format_checker=_format_checker())
    strict = jsonschema_rs.Draft7Validator(
        documents[AMB_SCHEMA], validate_formats=True,
        registry=jsonschema_rs.Registry([(uri, doc) for uri, doc in documents.items()]))
    return reference, strict


_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                        r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")


def _format_checker() -> FormatChecker:
    """python-jsonschema's checker, with RFC 3339 ``date-time`` (its own needs an extra package)."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    return checker


def amb_errors(document: Any) -> list[str]:
    """Every problem AMB's schema finds in ``document`` (empty: valid), by either validator."""
    reference, strict = amb_validators()
    problems = [f"{e.json_path}: {e.message}" for e in reference.iter_errors(document)]
    problems += [f"(jsonschema-rs) {e.instance_path}: {e.message}" for e in strict.iter_errors(document)]
    return problems
