"""Benchmark: `eduxchange migrate` of a SQLite catalogue into PostgreSQL, time and peak RSS.

Builds catalogues of each size directly (tests/support/bigstore.py: about 6 KB of rows a
record in every table a migration carries), then runs, in turn, `eduxchange migrate --from
FILE --to URL --json` into a fresh schema of the database named by --postgres (default
$EDUXCHANGE_TEST_POSTGRES), dropped afterwards, and `eduxchange migrate` into a new SQLite file.
Prints rows/s and peak RSS per size: memory must stay flat as the catalogue grows (the copy
streams in batches), the smallest size being the reference.

    python bench/migrate_bench.py --sizes 5000,50000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from benchlib import eduxchange, run_measured  # noqa: E402
from tests.support.bigstore import build_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,50000", help="record counts, comma-separated")
    parser.add_argument("--postgres", default=os.environ.get("EDUXCHANGE_TEST_POSTGRES"),
                        help="a PostgreSQL database URL (default $EDUXCHANGE_TEST_POSTGRES)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite target")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres URL or set EDUXCHANGE_TEST_POSTGRES")
    import psycopg

    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            source = build_store(Path(tmp) / f"source-{n}.sqlite", n)
            schema = f"edx_bench_{secrets.token_hex(4)}"
            target = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
            try:
                wall, rss, out = run_measured(eduxchange("migrate", "--from", str(source),
                                                         "--to", target, "--json"))
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            rows = json.loads(out)["total"]
            print(f"{n:>8} records -> PostgreSQL: {wall:7.1f} s, {rows / wall:8.0f} rows/s, "
                  f"peak RSS {rss:6.1f} MB", flush=True)
            if not args.no_sqlite:
                wall, rss, out = run_measured(eduxchange(
                    "migrate", "--from", str(source), "--to", str(Path(tmp) / f"copy-{n}.sqlite"),
                    "--json"))
                print(f"{n:>8} records -> SQLite:     {wall:7.1f} s, "
                      f"{json.loads(out)['total'] / wall:8.0f} rows/s, peak RSS {rss:6.1f} MB",
                      flush=True)


if __name__ == "__main__":
    main()
