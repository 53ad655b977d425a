"""Benchmark: catalogue export throughput and peak memory (streaming, so memory should be flat).

Fills a fresh SQLite catalogue with N synthetic records (the docs/record.md example,
tests/fixtures/records/valid/record-md-example.json, with its id, url and name varied; checked
by ``validate_record`` first) straight through ``SQLiteStore.catalog()`` -> ``put_resource`` in
big transactions, then exports it in each format in a child process (the library's
``eduxchange.publish.export.export``), measured alone in a wrapper process like harvest_bench.py's
``run_rss_only``. Prints records/second and peak RSS per format (target: flat, < 200 MB).

    python bench/export_bench.py --records 100000 --formats ndjson,turtle
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "tests" / "fixtures" / "records" / "valid" / "record-md-example.json"


def record(n: int, base: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads(json.dumps(base))
    rec["id"] = f"https://catalog.example.org/resources/{uuid.uuid5(uuid.NAMESPACE_URL, str(n))}"
    rec["url"] = f"https://oer.example.org/bench/{n:07d}"
    rec["name"] = {**rec["name"], "en": f"{rec['name'].get('en', 'Resource')} ({n})"}
    return rec


def fill(workdir: Path, n: int, batch: int = 10_000) -> Path:
    """Write N records and a config naming the store; return the config's path."""
    from eduxchange.store.sqlite import SQLiteStore
    from eduxchange.catalog.sets import oai_set_specs
    from eduxchange.catalog.validate import validate_record

    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    problems = validate_record(record(0, base))
    if problems:
        raise SystemExit(f"the synthetic record is invalid: {problems}")
    store = SQLiteStore(workdir / "catalog.sqlite")
    try:
        for start in range(0, n, batch):
            with store.catalog() as txn:
                for i in range(start, min(n, start + batch)):
                    rec = record(i, base)
                    txn.put_resource(rec["id"], rec, deleted=False, sets=oai_set_specs(rec))
    finally:
        store.close()
    config = workdir / "alliance.toml"
    config.write_text('[catalog]\nstore = "catalog.sqlite"\n'
                      'base_uri = "https://catalog.example.org/"\n', encoding="utf-8")
    return config


def child(config: str, format_: str, output: str) -> None:
    """The measured process: export the catalogue to ``output``; print the record count."""
    import eduxchange
    from eduxchange.publish.export import export

    cfg = eduxchange.load_config(config)
    with eduxchange.open_store(cfg) as store, open(output, "wb") as out:
        print(export(cfg, store, out, format=format_))


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of ``cmd`` run alone under a wrapper process, so
    RUSAGE_CHILDREN holds this one run only."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],check=True,capture_output=True,text=True);"
            "print(time.perf_counter()-t,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
            "print(p.stdout.strip())")
    proc = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr[-2000:]}")
    first, out = proc.stdout.splitlines()[:2]
    wall, rss = first.split()
    return float(wall), int(rss) / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--formats", default="ndjson,turtle",
                        help="comma-separated: ndjson, jsonld, turtle, ntriples, rdfxml")
    parser.add_argument("--child", nargs=3, metavar=("CONFIG", "FORMAT", "OUTPUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        config = fill(work, args.records)
        print(f"records: {args.records}, filled in {time.perf_counter() - start:.1f} s")
        for format_ in args.formats.split(","):
            output = work / f"dump.{format_}"
            wall, rss, count = run_measured([sys.executable, str(Path(__file__).resolve()),
                                             "--child", str(config), format_, str(output)])
            if int(count) != args.records:
                raise SystemExit(f"{format_}: exported {count} records, expected {args.records}")
            size = output.stat().st_size / 1e6
            output.unlink()
            print(f"  {format_:8} {wall:6.1f} s = {args.records / wall:7.0f} records/s, "
                  f"{size:6.0f} MB written, peak RSS {rss:4.0f} MB (target: flat, < 200 MB)")


if __name__ == "__main__":
    main()
