"""Benchmark: the whole pipeline (`eduxchange harvest --full`, normalizing) into PostgreSQL
against the same into SQLite, from the same loopback member, in turn.

Starts bench/oai_server.py (N generated LOM records, 100 a page), then runs, in turn
(SQLite, PostgreSQL, SQLite, PostgreSQL, ...), `eduxchange harvest --full` into a fresh store
each time: a new SQLite file, or a new schema of the database named by --postgres (default
$EDUXCHANGE_TEST_POSTGRES), dropped afterwards. The first pair warms up and is not counted.
Prints each side's wall time and the pairwise ratio PostgreSQL/SQLite (issue 12's target:
<= 1.5 on one worker).

    python bench/postgres_bench.py --records 20000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import eduxchange, member, run_measured, spread, write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="counted pairs (after one warm-up)")
    parser.add_argument("--no-warmup", action="store_true", help="count the first pair too")
    parser.add_argument("--postgres", default=os.environ.get("EDUXCHANGE_TEST_POSTGRES"),
                        help="a PostgreSQL database URL (a fresh schema is made in it per run)")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("--postgres URL (or EDUXCHANGE_TEST_POSTGRES) is needed")
    import psycopg

    walls: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    rss: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    ratios: list[float] = []
    with member(args.records) as url, tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs + (0 if args.no_warmup else 1)):
            config = write_config(Path(tmp) / f"run{n}", url)
            schema = f"edx_bench_{secrets.token_hex(4)}"
            store_url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}schema={schema}"
            measured = {}
            try:
                for side, extra in (("sqlite", []), ("postgresql", ["--store", store_url])):
                    wall, peak, out = run_measured(eduxchange(
                        "harvest", "--config", str(config), *extra, "--full", "--json"))
                    created = sum(r["normalization"]["created"]
                                  for r in json.loads(out)["results"])
                    assert created == args.records, f"{side}: normalized {created}"
                    measured[side] = (wall, peak)
            finally:
                (config.parent / "catalog.sqlite").unlink(missing_ok=True)
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            if n or args.no_warmup:
                for side, (wall, peak) in measured.items():
                    walls[side].append(wall)
                    rss[side].append(peak)
                ratios.append(measured["postgresql"][0] / measured["sqlite"][0])
    print(f"records: {args.records}, counted pairs: {len(ratios)}")
    for side in ("sqlite", "postgresql"):
        print(f"  harvest+normalize into {side:<10} wall s {spread(walls[side])}, "
              f"peak RSS MB {spread(rss[side], '{:.0f}')}")
    print(f"  ratio PostgreSQL/SQLite, pairwise: {spread(ratios)}; target <= 1.5")


if __name__ == "__main__":
    main()
