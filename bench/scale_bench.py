"""Benchmark: the pipeline's cost as the catalogue grows (target: flat per record).

For each size (20,000 and 100,000 LOM records by default; 1,000,000 with --million,
which took 33 minutes before issue 10), in rounds that visit every size in turn (so a
drift of this shared machine's speed touches every size alike):

- Sickle's bare iteration of the same records, then `eduxchange harvest --full`
  (normalizing, the default) from bench/oai_server.py into a fresh store: wall time,
  per-record cost, peak RSS, and the pair's ratio eduxchange/Sickle (target <= 1.0);
- bytes a record on disk afterwards (the store file and its write-ahead log);
- `eduxchange normalize --all` over that store: per-record cost and peak RSS.

Per-record costs are then given as ratios to the smallest size's (target <= 1.2).

    python bench/scale_bench.py --rounds 2
    python bench/scale_bench.py --sizes 20000 --million --rounds 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402
    eduxchange, member, run_measured, sickle, spread, store_bytes, write_config)

FIGURES = ("pipeline_s", "pipeline_rss", "vs_sickle", "bytes", "normalize_s", "normalize_rss")


def one_round(size: int, url: str, work: Path, *, renormalize: bool = True) -> dict[str, float]:
    config = write_config(work, url)
    reference, _, out = run_measured(sickle(url))
    assert int(out) == size, out
    wall, rss, out = run_measured(
        eduxchange("harvest", "--config", str(config), "--full", "--json"))
    done = json.loads(out)["results"][0]["normalization"]
    assert done["created"] == size, done
    size_on_disk = store_bytes(work / "catalog.sqlite")
    print(f"  ({size} records: harvest+normalize {wall:.1f} s, {wall / reference:.2f}x Sickle, "
          f"peak RSS {rss:.0f} MB, {size_on_disk / size:.0f} bytes a record)",
          file=sys.stderr, flush=True)
    n_wall = n_rss = float("nan")
    if renormalize:
        n_wall, n_rss, out = run_measured(
            eduxchange("normalize", "--config", str(config), "--all", "--json", "--quiet"))
        assert json.loads(out)["results"][0]["processed"] == size, out
    for leftover in work.glob("catalog.sqlite*"):
        leftover.unlink()  # the disk is shared too
    return {"pipeline_s": wall, "pipeline_rss": rss, "vs_sickle": wall / reference,
            "bytes": size_on_disk,
            "normalize_s": n_wall, "normalize_rss": n_rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,100000", help="comma-separated record counts")
    parser.add_argument("--million", action="store_true", help="also 1,000,000 records (long)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-normalize-all", action="store_true",
                        help="skip `normalize --all` (at 1,000,000 it adds a quarter of an hour)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.million else [])

    results: dict[int, dict[str, list[float]]] = {n: {f: [] for f in FIGURES} for n in sizes}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = {n: stack.enter_context(member(n)) for n in sizes}
        for r in range(args.rounds):
            for n in sizes:
                figures = one_round(n, urls[n], Path(tmp) / f"{n}-{r}",
                                    renormalize=not args.no_normalize_all)
                for figure, value in figures.items():
                    results[n][figure].append(value)
                print(f"  (round {r + 1}, {n} records: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in figures.items()) + ")", file=sys.stderr, flush=True)

    base = sizes[0]
    per_record = {n: {f: [v / n * 1000 for v in results[n][f]] for f in ("pipeline_s",
                                                                          "normalize_s")}
                  for n in sizes}
    print(f"rounds: {args.rounds}; each figure median (min, max)")
    for n in sizes:
        res = results[n]
        print(f"{n:>9} records: harvest+normalize {spread(res['pipeline_s'], '{:.1f}')} s = "
              f"{spread(per_record[n]['pipeline_s'], '{:.3f}')} ms/record, "
              f"peak RSS {spread(res['pipeline_rss'], '{:.0f}')} MB, "
              f"eduxchange/Sickle {spread(res['vs_sickle'])}")
        print(f"{'':>18} on disk {spread([b / n for b in res['bytes']], '{:.0f}')} bytes/record "
              f"(store + WAL)")
        print(f"{'':>18} normalize --all {spread(per_record[n]['normalize_s'], '{:.3f}')} "
              f"ms/record, peak RSS {spread(res['normalize_rss'], '{:.0f}')} MB")
        if n != base:
            for figure, label in (("pipeline_s", "harvest+normalize"),
                                  ("normalize_s", "normalize --all")):
                ratio = (statistics.median(per_record[n][figure])
                         / statistics.median(per_record[base][figure]))
                print(f"{'':>18} per-record {label} vs {base}: {ratio:.2f}x (target <= 1.2)")


if __name__ == "__main__":
    main()
