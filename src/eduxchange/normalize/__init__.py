"""Pure normalisation helpers that every crosswalk uses (docs/record.md).

Each function takes one source value and returns the common record's form of it, or ``None``
when the value carries nothing usable; none of them raises on bad input, touches the network
or a store. String-keyed functions are cached (``functools.lru_cache``), since the same
languages, licences, dates and agents recur in every harvested record.

* :mod:`.languages`: ``normalize_language``, ``normalize_languages``, ``language_key``
  (BCP 47 tags; ``@none`` keys of language maps);
* :mod:`.licenses`: ``canonical_license`` (licence statements -> canonical licence IRIs,
  driven by ``vocabularies/mappings/licenses.tsv``, described by ``vocabularies/licenses.ttl``);
* :mod:`.vcard`: ``parse_vcard``, ``parse_name`` and the ``Agent`` they return;
* :mod:`.agents`: ``classify_agent`` (Person, Organization, or ``None`` without evidence; word
  lists in ``vocabularies/agents/``), which every crosswalk types its agents with;
* :mod:`.contacts`: ``split_contacts``, ``redact``, ``scrub_description`` (e-mail addresses and
  phone numbers out of names and, unless a member publishes contacts, out of every field);
* :mod:`.text`: ``clean_text``, ``repair_mojibake`` (ftfy), ``split_keywords``;
* :mod:`.ages`: ``age_range``, ``span`` (typical age ranges, never invented);
* :mod:`.langid`: ``detect_language`` (py3langid, offline, only when confident);
* :mod:`.dates`: ``normalize_date``, ``normalize_duration`` (ISO 8601; OAI-PMH datestamps
  are :mod:`eduxchange.core.dates`).
"""

from __future__ import annotations

from .agents import classify as classify_agent
from .dates import normalize_date, normalize_duration
from .languages import language_key, normalize_language, normalize_languages
from .licenses import CC0, PUBLIC_DOMAIN_MARK, canonical_license
from .text import clean_text, split_keywords
from .vcard import Agent, looks_like_organization, parse_name, parse_vcard, registry_id

__all__ = [
    "Agent",
    "CC0",
    "PUBLIC_DOMAIN_MARK",
    "canonical_license",
    "classify_agent",
    "clean_text",
    "language_key",
    "looks_like_organization",
    "normalize_date",
    "normalize_duration",
    "normalize_language",
    "normalize_languages",
    "parse_name",
    "parse_vcard",
    "registry_id",
    "split_keywords",
]
