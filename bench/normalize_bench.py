"""Benchmark: crosswalk + vocabulary mapping + validation of LOM records, against a bare parse.

Both sides get the same N generated IEEE LOM records (bytes, about 3 KB each) and
run on one core in this process, alternately, several rounds:

* reference: ``lxml.etree.fromstring(record)`` for every record;
* eduxchange: ``eduxchange.catalog.normalization.describe`` of each record, the function harvest
  and normalize run per record: parse safely, detect the format, crosswalk, map
  vocabularies, add provenance and the catalogue IRI, and validate the result
  against the JSON Schema (everything but the store's merge and writes).

Prints records/second for each and the ratio (target: <= 5x the bare parse).
With ``--store N`` it also builds an N-record store and reports the peak RSS of
``eduxchange normalize --all`` over it in a child process (target: bounded).

    python bench/normalize_bench.py --records 20000 --rounds 5
    python bench/normalize_bench.py --records 20000 --store 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from eduxchange.catalog.normalization import describe  # noqa: E402
from eduxchange.core.config import MemberConfig  # noqa: E402
from eduxchange.store.base import StoredRecord  # noqa: E402
from eduxchange.catalog.vocab import default_vocabularies  # noqa: E402
from tests.support.lomgen import lom_xml  # noqa: E402

BASE = "https://catalog.example.org/"
HARVESTED = "2024-01-02T00:00:00Z"
MEMBER = MemberConfig(id="bench", name="Bench", endpoint="https://example.org/oai")


def stored_records(records: list[bytes]) -> list[StoredRecord]:
    """The records as the store hands them to normalization (built before any timing)."""
    return [StoredRecord(member_id="bench", identifier=f"oai:example.org:rec-{n}",
                         metadata_prefix="lom", datestamp="2024-01-01T00:00:00Z", sets=(),
                         deleted=False, raw=raw, run_id=1, first_harvested=HARVESTED,
                         harvested_at=HARVESTED, seq=n)
            for n, raw in enumerate(records)]


def normalize_all(records: list[StoredRecord]) -> int:
    """``catalog.describe`` for every record: what harvest and normalize run per record."""
    vocabularies = default_vocabularies()
    bad = 0
    for record in records:
        described = describe(record, MEMBER, base_uri=BASE, vocabularies=vocabularies)
        if described.problems:
            bad += 1
    return bad


def parse_all(records: list[bytes]) -> int:
    for raw in records:
        etree.fromstring(raw)
    return 0


def fixture_corpus() -> list[bytes]:
    """The real LOM records of the standards folder (never committed) and our IMS MD sample."""
    from tests.support.standards import LOM_SAMPLES, missing, standards_dir

    reason = missing(LOM_SAMPLES[0])
    folder = standards_dir()
    if reason is not None or folder is None:
        raise SystemExit(f"--corpus fixtures {reason}")
    paths = [folder / p for p in LOM_SAMPLES]
    paths.append(ROOT / "tests" / "fixtures" / "lom" / "imsmd-v1p2-sample.xml")
    return [path.read_bytes() for path in paths]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", choices=("generated", "fixtures"), default="generated",
                        help="generated LOM records (default), or the real LOM records of the "
                             "standards folder and our IMS MD sample repeated to --records")
    parser.add_argument("--store", type=int, default=0,
                        help="also measure `normalize --all` peak RSS over a store of this size")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    if args.corpus == "fixtures":
        real = fixture_corpus()
        records = [real[i % len(real)] for i in range(args.records)]
    else:
        records = [lom_xml(i) for i in range(1, args.records + 1)]
    stored = stored_records(records)
    invalid = normalize_all(stored[:200])  # warm-up: loads vocabularies and schema
    if invalid:
        raise SystemExit(f"{invalid} of 200 generated records are invalid: fix before timing")
    ours, ref, ratios = [], [], []
    chunk = 2000
    for _ in range(args.rounds):
        # Each round alternates the two sides every 2,000 records, so that both see the same
        # machine: on a shared virtual machine the speed drifts within a round of several seconds.
        t_ref = t_ours = 0.0
        for start in range(0, len(records), chunk):
            t = time.perf_counter()
            parse_all(records[start:start + chunk])
            t_ref += time.perf_counter() - t
            t = time.perf_counter()
            normalize_all(stored[start:start + chunk])
            t_ours += time.perf_counter() - t
        ref.append(t_ref)
        ours.append(t_ours)
        ratios.append(t_ours / t_ref)
    n = args.records
    print(f"records: {n} LOM, {args.corpus} (~{sum(map(len, records)) // n} bytes each), "
          f"rounds: {args.rounds}, one core")
    print(f"  bare lxml.etree.fromstring        {n / statistics.median(ref):9.0f} records/s")
    print(f"  crosswalk + vocabularies + schema {n / statistics.median(ours):9.0f} records/s")
    print(f"  ratio (pairwise median): {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f}); target <= 5x")
    if args.store:
        print(f"  normalize --all over a {args.store}-record store: peak RSS "
              f"{store_rss(args.store):.0f} MB")


def store_rss(size: int) -> float:
    """Harvest ``size`` records from the bench server (no normalization), then normalize --all."""
    from eduxchange import load_config, pipeline

    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "oai_server.py"),
                                   "--records", str(size)], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            config_path = Path(tmp) / "alliance.toml"
            config_path.write_text(
                '[catalog]\nstore = "catalog.sqlite"\n[harvest]\nrequests_per_second = 10000\n'
                f'[[members]]\nid = "bench"\nendpoint = "{url}"\nmetadata_prefix = "lom"\n',
                encoding="utf-8")
            pipeline.harvest(load_config(config_path), normalize=False)
        finally:
            server.terminate()
            server.wait()
        code = ("import resource,subprocess,sys;"
                "subprocess.run(sys.argv[1:],check=True,capture_output=True);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m",
                              "eduxchange_cli.main", "normalize", "--all", "--json", "-c",
                              str(config_path)], check=True, capture_output=True, text=True)
        print(f"  (normalize --all of {size} records took {time.perf_counter() - started:.1f} s "
              f"at {datetime.now():%H:%M})")
        return int(out.stdout.strip()) / 1024


if __name__ == "__main__":
    main()
