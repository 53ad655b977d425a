"""Benchmark: `eduxchange harvest --workers N` with 1, 2 and 4 worker processes (issue 12).

Starts ``--members`` bench/oai_server.py members on loopback, each serving ``--records``
different generated LOM records with a small delay before every ListRecords page (a member
slower than loopback), then times, as whole processes, a full harvest of all of them into a
fresh SQLite store with ``[harvest] concurrency = 1`` (each worker process harvests one
member at a time) and 1, 2, 4 workers. Prints each wall time and its ratio to 1 worker,
measured in the same run (target: 4 workers < 0.35x of 1).

    python bench/workers_bench.py --members 4 --records 25000 --delay 0.1
    python bench/workers_bench.py --normalize     # harvest and normalize (CPU-bound part)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchlib import HERE, eduxchange, run_measured


@contextmanager
def members(count: int, records: int, page_size: int, delay: float) -> Iterator[list[str]]:
    """``count`` oai_server.py processes serving different records; their base URLs."""
    import subprocess
    with ExitStack() as stack:
        urls = []
        for k in range(count):
            proc = subprocess.Popen(
                [sys.executable, str(HERE / "oai_server.py"), "--records", str(records),
                 "--page-size", str(page_size), "--offset", str(k * records),
                 "--delay", str(delay)], stdout=subprocess.PIPE, text=True)
            stack.callback(proc.wait)
            stack.callback(proc.terminate)
            assert proc.stdout is not None
            urls.append(proc.stdout.readline().strip())
        yield urls


def write_config(workdir: Path, urls: list[str]) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alliance.toml"
    text = ('[catalog]\nstore = "catalog.sqlite"\n\n'
            "[harvest]\nrequests_per_second = 10000\nconcurrency = 1\n")
    for k, url in enumerate(urls):
        text += f'\n[[members]]\nid = "m{k}"\nendpoint = "{url}"\nmetadata_prefix = "lom"\n'
    config.write_text(text, encoding="utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--records", type=int, default=25000, help="per member")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.1,
                        help="seconds each member waits before answering a ListRecords page")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--normalize", action="store_true",
                        help="normalize too (default: harvest-and-store only)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    walls: dict[int, float] = {}
    with members(args.members, args.records, args.page_size, args.delay) as urls, \
            tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            config = write_config(Path(tmp) / f"w{n}", urls)
            cmd = eduxchange("harvest", "--config", str(config), "--full", "--json",
                             "--workers", str(n), *([] if args.normalize else ["--no-normalize"]))
            wall, rss, out = run_measured(cmd)
            results = json.loads(out)["results"]
            got = sum(int(r["new"]) for r in results)
            if got != args.members * args.records:
                raise SystemExit(f"{n} workers harvested {got} records, not "
                                 f"{args.members * args.records}")
            walls[n] = wall
            print(f"  {n} worker(s): {wall:7.1f} s  (peak RSS of the largest process {rss:.0f} MB)",
                  flush=True)
    base = walls[counts[0]]
    print(f"members: {args.members} x {args.records} records, page size {args.page_size}, "
          f"delay {args.delay} s/page, concurrency 1, "
          f"{'harvest + normalize' if args.normalize else 'harvest only'}")
    for n in counts:
        print(f"  {n} worker(s): {walls[n]:7.1f} s = {walls[n] / base:.2f}x of {counts[0]}"
              + ("  (target < 0.35x)" if n == 4 else ""))


if __name__ == "__main__":
    main()
