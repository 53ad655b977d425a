"""The real-corpus harness: every real record of the standards folder through the pipeline.

The standards folder holds responses recorded from real repositories (``real_records/``: Brazilian
federations, Zenodo, an Erasmus repository, ...) and AMB's valid LRMI examples
(``json_profiles/amb/<version>/examples/valid/``). This module splits the responses into records
with the project's own response parser (:func:`eduxchange.harvesting.response.parse_list_page`, which also
salvages the records of a truncated page), runs each through :func:`eduxchange.catalog.normalization.describe`
(crosswalk, vocabulary mapping, validation) and reduces the outcome to a compact *projection* of the
fields that matter: a golden file written by us pins it, per source file, in
``tests/golden/real/<folder>/<file>.json``. A crosswalk change is thus measured against the real
world.

Command line (from the repository root)::

    python -m tests.support.real_corpus            # tried, normalized, quarantined by reason
    python -m tests.support.real_corpus --update   # rewrite the golden files (review the diff!)
    python -m tests.support.real_corpus --diff     # which records differ from their goldens

The standards folder is ``$EDUXCHANGE_STANDARDS`` or ``../shared/standards`` beside the repository
(:mod:`tests.support.standards`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from eduxchange.catalog.normalization import Described, describe
from eduxchange.core.config import MemberConfig
from eduxchange.core.errors import EduxchangeError
from eduxchange.catalog.merge import match_keys
from eduxchange.harvesting.response import parse_get_record, parse_list_page
from eduxchange.store.base import StoredRecord
from eduxchange.catalog.vocab import default_vocabularies

__all__ = ["GOLDEN", "Outcome", "source_files", "records", "describe_record", "outcomes", "project",
           "golden_path", "summary"]

#: Where the golden files live (in the project: expected outputs we wrote).
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "real"

_BASE = "https://catalog.example.org/"
_MEMBER = MemberConfig(id="real", name="Real corpus", endpoint="https://member.example.org/oai")
_AMB_VERSIONS = ("20231019", "draft")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One record's key in its golden file and its projection (``None``: a deleted record)."""

    key: str
    projection: dict[str, Any] | None


def source_files(folder: Path) -> list[str]:
    """The corpus files (paths relative to the standards folder) that may hold records, sorted."""
    found = [p.relative_to(folder).as_posix()
             for p in sorted((folder / "real_records").rglob("*.xml"))]
    for version in _AMB_VERSIONS:
        found += [p.relative_to(folder).as_posix() for p in
                  sorted((folder / "json_profiles" / "amb" / version / "examples" / "valid")
                         .glob("*.json"))]
    return found


def _stored(identifier: str, raw: bytes, *, prefix: str = "unknown", datestamp: str = "2020-01-01",
            deleted: bool = False) -> StoredRecord:
    return StoredRecord(member_id=_MEMBER.id, identifier=identifier, metadata_prefix=prefix,
                        datestamp=datestamp, sets=(), deleted=deleted, raw=raw, run_id=None,
                        first_harvested="2020-01-01T00:00:00Z",
                        harvested_at="2020-01-01T00:00:00Z", seq=0)


def _records(path: Path, relative: str) -> Iterator[StoredRecord]:
    """The records of one corpus file, in document order (none for errors, Identify, ...)."""
    body = path.read_bytes()
    if relative.endswith(".json"):
        yield _stored(relative.rsplit("/", 1)[-1], body)
        return
    if b"OAI-PMH" not in body[:2000]:
        # Bare metadata, no envelope (when it is XML at all: an HTML page or "broken xml" a
        # test server served is no record).
        try:
            etree.fromstring(body, etree.XMLParser(no_network=True, resolve_entities=False))
        except etree.XMLSyntaxError:
            return
        yield _stored(relative.rsplit("/", 1)[-1], body)
        return
    try:
        page = parse_list_page(body, "ListRecords")
        raws = [(r.header.identifier, r.header.datestamp, r.header.deleted, r.raw)
                for r in page.records]
    except EduxchangeError:
        try:
            record = parse_get_record(body)
        except EduxchangeError:
            return  # an error response, Identify, ListIdentifiers, ...: no record
        raws = [(record.header.identifier, record.header.datestamp, record.header.deleted,
                 record.raw)]
    for identifier, datestamp, deleted, raw in raws:
        yield _stored(identifier, raw, datestamp=datestamp, deleted=deleted)


def records(folder: Path, relative: str) -> list[StoredRecord]:
    """The records of one corpus file (``relative`` to the standards folder), as stored."""
    return list(_records(folder / relative, relative))


def describe_record(record: StoredRecord) -> Described:
    """What the pipeline makes of one corpus record (:func:`eduxchange.catalog.normalization.describe`)."""
    return describe(record, _MEMBER, base_uri=_BASE, vocabularies=default_vocabularies())


def _names(agents: Any) -> list[str]:
    return [f"{a.get('type', '?')}: {a.get('name', '?')}" for a in agents or ()]


def _ids(concepts: Any) -> list[str]:
    return [c.get("id", "?") if isinstance(c, dict) else str(c) for c in concepts or ()]


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def project(record: StoredRecord) -> dict[str, Any] | None:
    """The projection of one record's outcome (``None`` for a deleted record)."""
    if record.deleted:
        return None
    described = describe_record(record)
    if described.description is None or described.problems:
        return {"quarantined": list(described.problems)}
    d = described.description
    out: dict[str, Any] = {"format": described.format}
    if "description" in d:  # abstracts run long: their start and length pin them
        out["description"] = {lang: _short(text) for lang, text in d["description"].items()}
    for key in ("name", "inLanguage", "url", "typicalAgeRange", "encodingFormat",
                "isAccessibleForFree"):
        if key in d:
            out[key] = d[key]
    if "license" in d:
        out["license"] = d["license"].get("id")
    keys = match_keys(d)
    if keys:
        out["matchKeys"] = keys
    for key in ("creator", "contributor", "publisher"):
        if d.get(key):
            out[key] = _names(d[key])
    for key in ("learningResourceType", "educationalLevel", "audience", "about"):
        if d.get(key):
            out[key] = _ids(d[key])
    if described.unmapped:
        # Free-text subjects ("about", source "text") are most of the unmapped values and rarely
        # ever get a concept: counted, so that a value mapped yet reported again still shows.
        values = {"|".join(t) for t in described.unmapped}
        keywords = {v for v in values if v.startswith("about|text|")}
        if values - keywords:
            out["unmapped"] = sorted(values - keywords)
        if keywords:
            out["unmappedSubjects"] = len(keywords)
    return out


def outcomes(folder: Path, relative: str) -> list[Outcome]:
    """Every record of one corpus file with its projection; keys ``<n> <identifier>``."""
    return [Outcome(f"{n:04d} {record.identifier}", project(record))
            for n, record in enumerate(_records(folder / relative, relative))]


def golden_path(relative: str) -> Path:
    """The golden file of one corpus file (``real_records/`` and ``json_profiles/`` dropped)."""
    inner = relative.removeprefix("real_records/").removeprefix("json_profiles/")
    return GOLDEN / (inner.rsplit(".", 1)[0] + ".json")


def as_golden(found: list[Outcome]) -> dict[str, Any]:
    return {o.key: o.projection if o.projection is not None else "deleted" for o in found}


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


_NUMBERS = re.compile(r"\d+")


def _reason(problem: str) -> str:
    """A quarantine reason with its numbers blanked, for counting."""
    return _NUMBERS.sub("…", problem)[:140]


def summary(folder: Path) -> dict[str, Any]:
    """Records tried, deleted, normalized, quarantined (by reason), and golden fields checked."""
    tried = deleted = normalized = fields = 0
    reasons: Counter[str] = Counter()
    per_file: dict[str, int] = {}
    for relative in source_files(folder):
        found = outcomes(folder, relative)
        if not found:
            continue
        per_file[relative] = len(found)
        for outcome in found:
            if outcome.projection is None:
                deleted += 1
                continue
            tried += 1
            problems = outcome.projection.get("quarantined")
            if problems is not None:
                reasons[_reason(problems[0]) if problems else "(no reason)"] += 1
            else:
                normalized += 1
                fields += sum(len(v) if isinstance(v, (list, dict)) else 1
                              for k, v in outcome.projection.items() if k != "format")
    return {"files": len(per_file), "tried": tried, "deleted": deleted, "normalized": normalized,
            "quarantined": sum(reasons.values()), "fields": fields,
            "reasons": dict(reasons.most_common())}


def _folder() -> Path:
    configured = os.environ.get("EDUXCHANGE_STANDARDS")
    folder = Path(configured) if configured else (
        Path(__file__).resolve().parents[2].parent / "shared" / "standards")
    if not folder.is_dir():
        sys.exit(f"no standards folder: set EDUXCHANGE_STANDARDS (looked at {folder})")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.real_corpus",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="rewrite the golden files")
    parser.add_argument("--diff", action="store_true", help="list records differing from goldens")
    args = parser.parse_args(argv)
    folder = _folder()
    if args.update or args.diff:
        changed = 0
        for relative in source_files(folder):
            found = as_golden(outcomes(folder, relative))
            path = golden_path(relative)
            if not found:
                continue
            old = json.loads(path.read_text("utf-8")) if path.exists() else {}
            differing = sorted(k for k in set(found) | set(old) if found.get(k) != old.get(k))
            if differing:
                changed += len(differing)
                print(f"{relative}: {len(differing)} record(s) differ, e.g. {differing[0]}")
            if args.update:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump(found), "utf-8")
        print(f"{changed} record(s) differ" + (" (goldens rewritten)" if args.update else ""))
        return 0
    report = summary(folder)
    print(f"files with records: {report['files']}")
    print(f"records tried:      {report['tried']} (and {report['deleted']} deleted records)")
    print(f"normalized:         {report['normalized']}")
    print(f"quarantined:        {report['quarantined']}")
    for reason, count in report["reasons"].items():
        print(f"  {count:5d}  {reason}")
    print(f"golden field values checked (normalized records): {report['fields']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
