"""Benchmark: the whole pipeline (`eduxchange harvest`, normalizing, the default) against
Sickle's bare iteration of the same records from the same loopback member.

Starts bench/oai_server.py (N generated LOM records, 100 a page), then runs, in turn
(Sickle, eduxchange, Sickle, eduxchange, ...), Sickle iterating every record and
`eduxchange harvest --full` into a fresh store, which harvests, normalizes into the
catalogue and pre-renders the OAI-PMH metadata. The first pair warms up and is not
counted. Prints each side's wall time and the pairwise ratio eduxchange/Sickle (target
<= 1.0, stretch 0.5), and peak RSS.

    python bench/pipeline_bench.py --records 20000 --runs 3
    python bench/pipeline_bench.py --records 100000 --runs 1
    python bench/pipeline_bench.py --records 5000 --delay 0.08   # a member 80 ms away
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import eduxchange, measure, member, sickle, spread, write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="counted pairs (after one warm-up)")
    parser.add_argument("--no-warmup", action="store_true", help="count the first pair too")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                        help="the member waits this long before each page (a member far away)")
    parser.add_argument("extra", nargs="*", metavar="OPTION",
                        help="more options for eduxchange harvest (after --, e.g. -- --jobs 1)")
    args = parser.parse_args()

    walls: dict[str, list[float]] = {"sickle": [], "ours": []}
    rss: dict[str, list[float]] = {"sickle": [], "ours": []}
    cpus: dict[str, list[float]] = {"sickle": [], "ours": []}
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    with member(args.records, delay=args.delay) as url, tempfile.TemporaryDirectory() as tmp:
        for n in range(args.runs + (0 if args.no_warmup else 1)):
            config = write_config(Path(tmp) / f"run{n}", url)
            ref = measure(sickle(url))
            assert int(ref.out) == args.records, ref.out
            ours = measure(eduxchange("harvest", "--config", str(config), "--full", "--json",
                                      *args.extra))
            created = sum(r["normalization"]["created"] for r in json.loads(ours.out)["results"])
            assert created == args.records, f"normalized {created} of {args.records}"
            (config.parent / "catalog.sqlite").unlink()  # the disk is shared too
            if n or args.no_warmup:
                for side, run in (("sickle", ref), ("ours", ours)):
                    walls[side].append(run.wall)
                    rss[side].append(run.rss)
                    cpus[side].append(run.cpu)
                ratios.append(ours.wall / ref.wall)
                cpu_ratios.append(ours.cpu / ref.cpu)
    print(f"records: {args.records}, counted pairs: {len(ratios)}")
    print(f"  Sickle bare iteration        wall s {spread(walls['sickle'])}, "
          f"CPU s {spread(cpus['sickle'])}, peak RSS MB {spread(rss['sickle'], '{:.0f}')}")
    print(f"  eduxchange harvest (normal.) wall s {spread(walls['ours'])}, "
          f"CPU s {spread(cpus['ours'])}, peak RSS MB {spread(rss['ours'], '{:.0f}')}")
    print(f"  ratio eduxchange/Sickle, pairwise: {spread(ratios)}; target <= 1.0")
    print(f"  CPU-time ratio (user+sys, workers included), pairwise: {spread(cpu_ratios)}")


if __name__ == "__main__":
    main()
