"""Benchmark: rendering a record's oai_dc and LOM metadata to bytes, text writers against lxml trees.

N generated LOM records (tests/support/lomgen.py, what ``oai_server.py`` serves) are
crosswalked, mapped and merged as normalization does, before any timing. Then, for each
format, in this process on one core, alternately in chunks within several rounds:

* lxml (the writers up to version 1's text rewrite, kept as the tests' oracle in
  tests/support/lxml_writers.py): ``etree.tostring(write(record), encoding="UTF-8")``;
* eduxchange: ``WRITERS[prefix].render(record)``, what normalization pre-renders and the
  provider renders on request.

Both must give the same bytes for every record (checked first). Prints CPU ms/record for
each and the ratio lxml / text (the median of the rounds' ratios: this machine's speed drifts
within seconds; target >= 3), for each format and for both together (what normalization
renders for every changed record).

    python bench/writers_bench.py --records 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eduxchange.catalog.merge import Ranked, merge_descriptions  # noqa: E402
from eduxchange.catalog.normalization import describe  # noqa: E402
from eduxchange.catalog.vocab import default_vocabularies  # noqa: E402
from eduxchange.core.record import CommonRecord  # noqa: E402
from eduxchange.publish.writers import WRITERS  # noqa: E402
from tests.support.lomgen import lom_xml  # noqa: E402
from tests.support.lxml_writers import lxml_render  # noqa: E402

from normalize_bench import BASE, MEMBER, stored_records  # noqa: E402

PREFIXES = ("oai_dc", "lom")


def catalogue_records(n: int) -> list[CommonRecord]:
    """N generated LOM records as normalization merges them (what the writers get)."""
    vocabularies = default_vocabularies()
    out = []
    for record in stored_records([lom_xml(i) for i in range(1, n + 1)]):
        described = describe(record, MEMBER, base_uri=BASE, vocabularies=vocabularies)
        if described.description is None or described.problems:
            raise SystemExit(f"generated record {record.identifier} is invalid: {described.problems}")
        stored = json.loads(json.dumps(described.description, sort_keys=True))  # as the store keeps it
        out.append(merge_descriptions(
            [Ranked(description=stored, format_rank=1, member_id=MEMBER.id,
                    identifier=record.identifier)],
            record_id=f"{BASE}resources/{record.seq}", context=f"{BASE}context.jsonld"))
    return out


def timed(render: Callable[[CommonRecord], bytes], records: Sequence[CommonRecord]) -> float:
    """CPU seconds of this process (not wall time: other processes share the 2 cores)."""
    start = time.process_time()
    for record in records:
        render(record)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    records = catalogue_records(args.records)
    for prefix in PREFIXES:
        differ = sum(WRITERS[prefix].render(r) != lxml_render(prefix, r) for r in records)
        if differ:
            raise SystemExit(f"{prefix}: {differ} of {len(records)} records render differently")
    print(f"{len(records)} generated LOM records, crosswalked and merged; "
          f"{args.rounds} rounds; same bytes on both sides for every record")
    sides = {f"{prefix:7}": (functools.partial(lxml_render, prefix), WRITERS[prefix].render)
             for prefix in PREFIXES}
    sides["both   "] = (lambda r: lxml_render("oai_dc", r) + lxml_render("lom", r),
                        lambda r: WRITERS["oai_dc"].render(r) + WRITERS["lom"].render(r))
    chunk = 100  # records per turn: the sides alternate often, so drift hits both alike
    for name, (old, new) in sides.items():
        old_s, new_s, ratios = [], [], []
        for _ in range(args.rounds):
            o = n = 0.0
            for at in range(0, len(records), chunk):
                part = records[at:at + chunk]
                o += timed(old, part)
                n += timed(new, part)
            old_s.append(o)
            new_s.append(n)
            ratios.append(o / n)
        per = 1000 / len(records)
        print(f"{name} lxml tree + tostring {statistics.median(old_s) * per:.4f} ms/record, "
              f"text render {statistics.median(new_s) * per:.4f} ms/record, "
              f"ratio {statistics.median(ratios):.2f}x "
              f"(rounds {min(ratios):.2f}-{max(ratios):.2f})")

if __name__ == "__main__":
    main()
