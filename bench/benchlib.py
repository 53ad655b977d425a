"""What the pipeline, scale and incremental benchmarks share: the loopback member, the
eduxchange commands, and whole-process measurement (wall time and peak RSS of one run).

Every figure is of a whole process, measured from outside by a wrapper process so that
``RUSAGE_CHILDREN`` holds that one run only (the OS's own accounting of peak RSS).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent


@contextmanager
def member(records: int, *, page_size: int = 100, generation: int = 0,
           port: int = 0, delay: float = 0.0) -> Iterator[str]:
    """``oai_server.py`` serving ``records`` generated LOM records (``delay`` seconds before
    each ListRecords page: a member far away); yields its base URL."""
    proc = subprocess.Popen([sys.executable, str(HERE / "oai_server.py"), "--records", str(records),
                             "--page-size", str(page_size), "--generation", str(generation),
                             "--port", str(port), "--delay", str(delay)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()


def write_config(workdir: Path, url: str) -> Path:
    """An alliance config with one member at ``url`` and the store in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alliance.toml"
    config.write_text(
        '[catalog]\nstore = "catalog.sqlite"\n\n'
        # no politeness delay: the reference (Sickle) has none either
        "[harvest]\nrequests_per_second = 10000\n\n"
        f'[[members]]\nid = "bench"\nendpoint = "{url}"\nmetadata_prefix = "lom"\n',
        encoding="utf-8")
    return config


def eduxchange(*args: str) -> list[str]:
    """The real CLI, as an operator runs it."""
    return [sys.executable, "-m", "eduxchange_cli.main", *args]


def sickle(url: str) -> list[str]:
    """The reference: Sickle's bare iteration of the member's ListRecords."""
    return [sys.executable, str(HERE / "sickle_iterate.py"), url]


class Measured(NamedTuple):
    """One whole-process run: wall seconds, peak RSS MB, CPU seconds (user + system, of the
    process and every child it waited for: worker processes included), its stdout."""

    wall: float
    rss: float
    cpu: float
    out: str


def measure(cmd: Sequence[str]) -> Measured:
    """Run ``cmd`` alone under a wrapper process and measure it (:class:`Measured`)."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
            "w=time.perf_counter()-t;"
            "sys.stderr.write(p.stderr[-3000:]) if p.returncode else None;"
            "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
            "print(w,u.ru_maxrss,u.ru_utime+u.ru_stime,p.returncode);"
            "print(p.stdout)")
    proc = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    first, _, out = proc.stdout.partition("\n")
    wall, rss, cpu, returncode = first.split()
    if proc.returncode != 0 or int(returncode) != 0:
        raise SystemExit(f"{list(cmd)} failed ({returncode}): {proc.stderr[-2000:]}")
    return Measured(float(wall), int(rss) / 1024, float(cpu), out)


def run_measured(cmd: Sequence[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of ``cmd``, run alone under a wrapper process."""
    run = measure(cmd)
    return run.wall, run.rss, run.out


def store_bytes(store: Path) -> int:
    """The store's size on disk: the database file and its write-ahead log."""
    return sum(p.stat().st_size for p in (store, Path(f"{store}-wal")) if p.exists())


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """``median (min .. max)`` of the values."""
    return (f"{fmt.format(statistics.median(values))} "
            f"(min {fmt.format(min(values))}, max {fmt.format(max(values))})")
