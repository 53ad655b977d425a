"""Benchmark: eduxchange harvest-and-store against Sickle's bare iteration.

Starts bench/oai_server.py on loopback, then times, as whole processes and in
turn (A B A B ...), `eduxchange harvest --full` into a fresh SQLite store and
Sickle iterating the same records. Prints records/second, the wall-time ratio
eduxchange/Sickle (target <= 1.0) and each side's peak RSS; then eduxchange's
peak RSS at each size of --memory-sizes (target: flat, < 150 MB at 100k).

    python bench/harvest_bench.py --records 20000 --runs 3 --memory-sizes 20000,100000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent


@contextmanager
def server(records: int, page_size: int) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(HERE / "oai_server.py"), "--records", str(records),
                             "--page-size", str(page_size)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()


def timed(cmd: list[str]) -> float:
    """Run ``cmd`` to the end; return its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.decode()[-2000:]}")
    return wall


def eduxchange_cmd(url: str, workdir: Path) -> list[str]:
    config = workdir / "alliance.toml"
    config.write_text(
        '[catalog]\nstore = "catalog.sqlite"\n\n'
        # no politeness delay: the reference has none either
        "[harvest]\nrequests_per_second = 10000\n\n"
        f'[[members]]\nid = "bench"\nendpoint = "{url}"\nmetadata_prefix = "lom"\n',
        encoding="utf-8")
    # Harvest-and-store, as the issue measures it: normalization has its own benchmark.
    return [sys.executable, "-m", "eduxchange_cli.main", "harvest", "--config", str(config),
            "--full", "--json", "--no-normalize"]


def run_rss_only(cmd: list[str]) -> float:
    """Peak RSS (MB) of one run, measured alone so RUSAGE_CHILDREN is not mixed."""
    code = ("import resource,subprocess,sys;"
            "subprocess.run(sys.argv[1:],check=True,capture_output=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True,
                         text=True).stdout
    return int(out.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-sizes", default="20000,100000",
                        help="comma-separated record counts for the peak-RSS series ('' to skip)")
    args = parser.parse_args()

    with server(args.records, args.page_size) as url, tempfile.TemporaryDirectory() as tmp:
        ours_t, ref_t, ratios = [], [], []
        for n in range(args.runs + 1):  # the first pair warms up and is not counted
            work = Path(tmp) / f"run{n}"
            work.mkdir()
            t_ref = timed([sys.executable, str(HERE / "sickle_iterate.py"), url])
            t_ours = timed(eduxchange_cmd(url, work))
            if n:
                ref_t.append(t_ref)
                ours_t.append(t_ours)
                ratios.append(t_ours / t_ref)
        print(f"records: {args.records}, page size: {args.page_size}, runs: {args.runs}")
        print(f"  Sickle iterate       median {statistics.median(ref_t):6.2f} s "
              f"= {args.records / statistics.median(ref_t):8.0f} records/s")
        print(f"  eduxchange harvest   median {statistics.median(ours_t):6.2f} s "
              f"= {args.records / statistics.median(ours_t):8.0f} records/s")
        print(f"  ratio eduxchange/Sickle (wall, pairwise): median {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f}); target <= 1.0")
        work = Path(tmp) / "rss"
        work.mkdir()
        print(f"  peak RSS at {args.records}: eduxchange {run_rss_only(eduxchange_cmd(url, work)):.0f} MB, "
              f"Sickle {run_rss_only([sys.executable, str(HERE / 'sickle_iterate.py'), url]):.0f} MB")

    for size in [int(s) for s in args.memory_sizes.split(",") if s]:
        with server(size, args.page_size) as url, tempfile.TemporaryDirectory() as tmp:
            rss = run_rss_only(eduxchange_cmd(url, Path(tmp)))
            print(f"  eduxchange peak RSS, full harvest of {size:>7} records: {rss:.0f} MB "
                  f"(target < 150 MB)")


if __name__ == "__main__":
    main()
