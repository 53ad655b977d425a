"""Benchmark: incremental work costs what changed.

A member of N generated LOM records (default 100,000; bench/oai_server.py on a fixed
loopback port) is harvested in full (`eduxchange harvest`, normalizing); then, in each
round, 1% of its records change (a new title and a later datestamp: the server's next
`--generation`) and `eduxchange harvest` runs again, incrementally (`from` = the last
harvest's start). Prints the incremental harvest's wall time as a share of the full one
(target < 5%), then what one more incremental harvest and a `normalize --all` of the
unchanged catalogue write to the store (bench/count_writes.py: rows changed and write
statements by table; target: no write for an unchanged record).

    python bench/incremental_bench.py --records 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import HERE, eduxchange, member, run_measured, spread, write_config  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def harvest(config: Path) -> tuple[float, dict[str, object]]:
    wall, _, out = run_measured(eduxchange("harvest", "--config", str(config), "--json"))
    return wall, json.loads(out)["results"][0]


def counted(config: Path, out: Path, *args: str) -> dict[str, object]:
    run_measured([sys.executable, str(HERE / "count_writes.py"), str(out), *args,
                  "--config", str(config), "--json"])
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return result


def show(label: str, counts: dict[str, object], per: int) -> None:
    rows = int(counts["rows_changed"])  # type: ignore[call-overload]
    statements: dict[str, int] = counts["statements"]  # type: ignore[assignment]
    print(f"  {label}: {rows} rows changed ({rows / per:.2f} a record), "
          f"{sum(statements.values())} write statements ({sum(statements.values()) / per:.2f} "
          f"a record): {', '.join(f'{k} {v}' for k, v in statements.items())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="incremental harvests timed")
    args = parser.parse_args()
    n, changed = args.records, len(range(0, args.records, 100))
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with member(n, port=port) as url:
            config = write_config(work, url)
            full, result = harvest(config)
            assert result["mode"] == "full" and result["new"] == n, result
        ratios, incremental = [], []
        for g in range(1, args.rounds + 1):
            with member(n, generation=g, port=port):
                wall, result = harvest(config)
            assert result["mode"] == "incremental", result
            assert result["updated"] == changed, result
            normalized = result["normalization"]
            assert normalized["updated"] == changed, normalized  # type: ignore[index]
            incremental.append(wall)
            ratios.append(wall / full)
        print(f"records: {n}; {changed} changed ({changed / n:.0%}) in each of {args.rounds} "
              f"rounds")
        print(f"  full harvest (normalizing): {full:.1f} s")
        print(f"  incremental harvest: {spread(incremental)} s; ratio incremental/full "
              f"{spread([100 * r for r in ratios], '{:.2f}')} % (target < 5%)")
        g = args.rounds + 1
        with member(n, generation=g, port=port):
            show(f"writes of an incremental harvest ({changed} changed records)",
                 counted(config, work / "inc.json", "harvest"), changed)
        with member(n, generation=g, port=port):
            show("writes of a harvest with nothing changed (per record of the member)",
                 counted(config, work / "none.json", "harvest"), n)
        show("writes of `normalize --all` with nothing changed (per record)",
             counted(config, work / "all.json", "normalize", "--all", "--quiet"), n)


if __name__ == "__main__":
    main()
