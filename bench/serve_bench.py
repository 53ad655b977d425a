"""OAI-PMH ListRecords pages/s and latency at 32 concurrent clients, `eduxchange serve` with 1
and with 2 processes, then 2 processes with 64 slow clients holding connections, on SQLite and
on PostgreSQL.

    python bench/serve_bench.py [--records 100000] [--seconds 20] [--clients 32]
                                [--backend sqlite|postgresql|both] [--store-url URL]
                                [--workdir DIR]

The catalogue is synthetic (bench/provider_bench.py's records, written through the store as
normalization writes them, pre-rendered metadata included). The PostgreSQL catalogue is the
SQLite one copied by `eduxchange migrate` (lossless: the same records, seqs and token key) into
a schema of its own in the database `--store-url` names (default $EDUXCHANGE_TEST_POSTGRES),
dropped afterwards (migrate analyzes what it loaded). `--workdir` keeps the SQLite catalogue between runs (building 100,000
records takes minutes); without it, a temporary directory.

Each client walks ListRecords along its resumption tokens on a kept-alive connection, from its
own place in the list (the clients' starting points spread evenly over the catalogue, by tokens
the bench signs with the catalogue's key; `--start first`: all from the first page, which reads
only the first few thousand records in a run), starting over at the end; clients run in 4 processes of their own, so the client
side's GIL is not what is measured -- but on the same cores as the servers. Slow clients: half
trickle a request header and never end it, half ask for pages and read nothing. Besides
latency, the CPU the serving side spent a page (server processes, and the PostgreSQL backends
serving them) and the clients' own. Targets (issue 12): p99 under 100 ms on a 100,000-record
catalogue; the slow clients do not raise it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provider_bench import build  # noqa: E402

from eduxchange.store.sqlite import SQLiteStore  # noqa: E402

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
CASES = ((1, 0), (2, 0), (2, 64))  # (server processes, slow clients)
APP_NAME = "edx_serve_bench"  # the PostgreSQL backends of the bench's servers, by name
_TICK = os.sysconf("SC_CLK_TCK")


def _client(url: str, seconds: float, out: list[float], errors: list[str],
            start: str | None) -> None:
    session = requests.Session()
    end = time.monotonic() + seconds
    query: dict[str, str] = ({"verb": "ListRecords", "resumptionToken": start} if start
                             else {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            response = session.get(url + "oai", params=query, timeout=30)
        except requests.RequestException as err:
            errors.append(repr(err))
            continue
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(f"status {response.status_code}")
        token = TOKEN.search(response.content)
        query = ({"verb": "ListRecords", "resumptionToken": token.group(1).decode()} if token
                 else {"verb": "ListRecords", "metadataPrefix": "oai_dc"})


def _client_process(url: str, seconds: float, starts: list[str | None]
                    ) -> tuple[list[float], list[str], float]:
    out: list[float] = []
    errors: list[str] = []
    cpu = time.process_time()
    workers = [threading.Thread(target=_client, args=(url, seconds, out, errors, start))
               for start in starts]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out, errors, time.process_time() - cpu


def load(url: str, clients: int, seconds: float, pool: Any, procs: int,
         starts: list[str | None] | None = None) -> dict[str, Any]:
    starts = starts or [None] * clients
    parts = pool.starmap(_client_process, [(url, seconds, starts[i::procs])
                                           for i in range(procs)])
    latencies = sorted(x for p in parts for x in p[0])
    errors = [e for p in parts for e in p[1]]
    q = statistics.quantiles(latencies, n=100)
    return {"pages": len(latencies), "pages_s": len(latencies) / seconds,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "errors": len(errors),
            "client_cpu": sum(p[2] for p in parts), "error_sample": errors[:3]}


def slow_clients(port: int, n: int, stop: threading.Event) -> list[socket.socket]:
    sockets = []
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        if i % 2:
            s.sendall(b"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\nHost: x\r\n"
                      b"\r\n" * 1 + b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
        else:
            s.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n")
        sockets.append(s)

    def trickle() -> None:
        while not stop.wait(1.0):
            for s in sockets[::2]:
                try:
                    s.sendall(b"X-a: b\r\n")
                except OSError:
                    pass

    threading.Thread(target=trickle, daemon=True).start()
    return sockets


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a gunicorn master and its workers)."""
    found = [pid]
    for p in found:
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return found


def serving_cpu(process: subprocess.Popen[str], admin_url: str | None) -> float:
    """CPU seconds so far of the server processes and of the PostgreSQL backends serving them."""
    pids = _tree(process.pid)
    if admin_url:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as admin:
            pids += [int(r[0]) for r in admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (APP_NAME,)).fetchall()]
    return sum(_cpu_seconds(p) for p in pids)


def serve(config: Path, workers: int) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("eduxchange")
    log = config.with_suffix(".log")
    with log.open("w") as stderr:
        process = subprocess.Popen([str(exe), "serve", "-c", str(config), "--port", "0",
                                    "--workers", str(workers)], stdout=subprocess.PIPE,
                                   stderr=stderr, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if " http" not in line:
        process.wait(timeout=60)
        sys.exit(f"eduxchange serve did not start: {log.read_text()[-2000:]}")
    url = line.rsplit(" ", 1)[1].strip()
    for _ in range(100):
        try:
            if requests.get(url + "health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    return process, url


def write_config(path: Path, store: str) -> Path:
    path.write_text(f'[catalog]\nstore = "{store}"\n'
                    'base_uri = "https://catalog.example.org/"\n\n'
                    '[feed]\nadmin_email = "oai@catalog.example.org"\n', encoding="utf-8")
    return path


def sqlite_catalogue(workdir: Path, records: int) -> Path:
    """The synthetic catalogue of ``records`` records in ``workdir`` (built unless there)."""
    path = workdir / f"catalog-{records}.sqlite"
    if path.exists():
        print(f"SQLite catalogue of {records} records: {path} (kept from an earlier run)",
              flush=True)
        return path
    started = time.monotonic()
    partial = path.with_suffix(".partial")
    for leftover in workdir.glob(partial.name + "*"):
        leftover.unlink()
    store = SQLiteStore(partial)
    build(store, records)
    store.close()
    partial.rename(path)
    print(f"SQLite catalogue of {records} records built in {time.monotonic() - started:.0f} s",
          flush=True)
    return path


@contextmanager
def postgres_catalogue(source: Path, server_url: str) -> Iterator[str]:
    """The SQLite catalogue copied into a fresh schema (dropped afterwards); yields its URL."""
    import psycopg

    schema = f"edx_serve_bench_{secrets.token_hex(4)}"
    sep = "&" if "?" in server_url else "?"
    url = f"{server_url}{sep}schema={schema}&application_name={APP_NAME}"
    exe = Path(sys.executable).with_name("eduxchange")
    started = time.monotonic()
    try:
        subprocess.run([str(exe), "migrate", "--from", str(source), "--to", url, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"PostgreSQL catalogue (schema {schema}) migrated in "
              f"{time.monotonic() - started:.0f} s", flush=True)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def start_tokens(source: Path, records: int, clients: int) -> list[str | None]:
    """Resumption tokens starting each client at its own place in the list, evenly spread
    (signed with the catalogue's key, which the PostgreSQL copy shares), so that the clients
    read the whole catalogue, not 32 times its first pages."""
    from eduxchange.core.config import parse_config
    from eduxchange.publish.provider import Provider, _ListState
    from eduxchange.store.sqlite import ReadOnlySQLiteStore

    config = parse_config({"catalog": {"store": str(source),
                                       "base_uri": "https://catalog.example.org/"},
                           "feed": {"admin_email": "oai@catalog.example.org"}})
    store = ReadOnlySQLiteStore(source)
    try:
        provider = Provider(config, store)
        # seqs are 1..records in this catalogue (built in one pass)
        return [None if i == 0 else provider._token(_ListState(
            "oai_dc", None, None, None, records * i // clients, records * i // clients,
            records)) for i in range(clients)]
    finally:
        store.close()


def run_cases(backend: str, config: Path, args: argparse.Namespace, pool: Any,
              admin_url: str | None) -> list[tuple[Any, ...]]:
    rows = []
    starts = args.starts
    for workers, slow in CASES:
        process, url = serve(config, workers)
        stop = threading.Event()
        try:
            load(url, args.clients, 3, pool, args.client_processes, starts)  # warm up
            held = slow_clients(int(url.rsplit(":", 1)[1].strip("/")), slow, stop) \
                if slow else []
            time.sleep(1.0)
            load_avg = os.getloadavg()[0]
            cpu = serving_cpu(process, admin_url)
            result = load(url, args.clients, args.seconds, pool, args.client_processes, starts)
            result["server_cpu"] = serving_cpu(process, admin_url) - cpu
            stop.set()
            for s in held:
                s.close()
        finally:
            process.terminate()
            process.wait(timeout=60)
        rows.append((backend, workers, slow, load_avg, result))
        pages = max(1, result["pages"])
        print(f"{backend} processes={workers} slow={slow:>2} load={load_avg:.1f}: "
              f"{result['pages_s']:.1f} pages/s, p50 {result['p50_ms']:.1f} ms, "
              f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']} "
              f"{result['error_sample'] or ''}; CPU a page: server "
              f"{result['server_cpu'] / pages * 1000:.1f} ms, clients "
              f"{result['client_cpu'] / pages * 1000:.1f} ms", flush=True)
    return rows


def table(rows: list[tuple[Any, ...]], args: argparse.Namespace) -> str:
    lines = [f"{args.records} records, {args.clients} clients (starting "
             f"{'spread over the list' if args.start == 'spread' else 'at the first page'}), "
             f"{args.seconds:g} s a run,",
             f"{os.cpu_count()} cores; the clients run on the same cores as the servers.",
             f"{'backend':<10} {'procs':>5} {'slow':>4} {'load':>5} {'pages/s':>8} "
             f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'srv ms/pg':>9} {'cli ms/pg':>9}"]
    for backend, workers, slow, load_avg, r in rows:
        pages = max(1, r["pages"])
        lines.append(f"{backend:<10} {workers:>5} {slow:>4} {load_avg:>5.1f} {r['pages_s']:>8.1f} "
                     f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['errors']:>6} "
                     f"{r['server_cpu'] / pages * 1000:>9.1f} "
                     f"{r['client_cpu'] / pages * 1000:>9.1f}")
    lines.append("load: 1-minute load average before the run; srv ms/pg: CPU a page of the")
    lines.append("server processes (and PostgreSQL backends); cli ms/pg: the clients' CPU a page.")
    lines.append(f"Closed loop: mean latency = clients / (pages/s); p99 < 100 ms: "
                 f"> {args.clients / 0.1:.0f} pages/s.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--store-url", default=os.environ.get(
        "EDUXCHANGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL database the bench makes (and drops) a schema in")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the SQLite catalogue here between runs")
    parser.add_argument("--start", choices=("spread", "first"), default="spread",
                        help="clients start evenly spread over the list (default), or all "
                             "at its first page")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    rows: list[tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory() as tmp, \
            multiprocessing.get_context("spawn").Pool(args.client_processes) as pool:
        workdir = (args.workdir or Path(tmp)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        source = sqlite_catalogue(workdir, args.records)
        args.starts = (start_tokens(source, args.records, args.clients)
                       if args.start == "spread" else None)
        for backend in backends:
            if backend == "sqlite":
                config = write_config(Path(tmp) / "sqlite.toml", str(source))
                rows += run_cases(backend, config, args, pool, None)
            else:
                with postgres_catalogue(source, args.store_url) as url:
                    config = write_config(Path(tmp) / "postgresql.toml", url)
                    rows += run_cases(backend, config, args, pool, args.store_url)
    print()
    print(table(rows, args))
    for backend in backends:
        mine = {(w, s): r for b, w, s, _, r in rows if b == backend}
        one, two, slow = mine[(1, 0)], mine[(2, 0)], mine[(2, 64)]
        print(f"{backend}: 2 processes / 1: {two['pages_s'] / one['pages_s']:.2f}x pages/s; "
              f"p99 with 64 slow / without: {slow['p99_ms'] / two['p99_ms']:.2f}x")


if __name__ == "__main__":
    main()
