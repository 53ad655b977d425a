"""Which OAI-PMH sets a catalogue record belongs to: the catalogue's set rule, in one place.

Normalization computes a record's setSpecs when it writes the record
(:meth:`~eduxchange.store.base.CatalogTxn.put_resource` takes them) and the store only keeps
them, so the provider's ``set`` lists are index lookups and every backend serves the same sets.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.record import CommonRecord

__all__ = ["OAI_SET_ROOTS", "oai_set_specs"]

#: The set hierarchy's top levels (OAI-PMH 2.0 §2.7.2: a record in ``member:x`` is in ``member``).
OAI_SET_ROOTS: tuple[str, ...] = ("member", "lang", "type")
_SET_PART = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")


def oai_set_specs(record: CommonRecord) -> list[str]:
    """The setSpecs of a catalogue record, its top-level sets included.

    ``member:<id>`` for every member whose description it was built from (``mainEntityOfPage``
    providers, ``{base_uri}members/<id>``), ``lang:<tag>`` for each ``inLanguage`` tag and
    ``type:<local name>`` for each LRMI learningResourceType concept IRI.
    """
    specs: list[str] = []

    def add(root: str, value: Any) -> None:
        if isinstance(value, str) and _SET_PART.match(value):
            for spec in (root, f"{root}:{value}"):
                if spec not in specs:
                    specs.append(spec)

    for entry in record.get("mainEntityOfPage") or ():
        provider = entry.get("provider") if isinstance(entry, dict) else None
        if isinstance(provider, dict) and isinstance(provider.get("id"), str):
            add("member", provider["id"].rstrip("/").rsplit("/", 1)[-1])
    for tag in record.get("inLanguage") or ():
        add("lang", tag)
    for concept in record.get("learningResourceType") or ():
        if isinstance(concept, dict) and isinstance(concept.get("id"), str):
            add("type", re.split(r"[/#]", concept["id"].rstrip("/#"))[-1])
    return specs
