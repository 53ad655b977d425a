"""OAI-PMH ListRecords pages/s and latency at 32 concurrent clients, `eduxchange serve` with 1
and with 2 processes, then 2 processes with 64 slow clients holding connections.

    python bench/serve_bench.py [--records 100000] [--seconds 20] [--clients 32]

The catalogue is synthetic (bench/provider_bench.py's records, written through the store as
normalization writes them). Each client walks ListRecords from the first page along its
resumption tokens on a kept-alive connection, starting over at the end; clients run in 4
processes of their own, so the client side's GIL is not what is measured. Slow clients: half
trickle a request header and never end it, half ask for pages and read nothing. Targets
(issue 12): p99 under 100 ms on a 100,000-record catalogue; the slow clients do not raise it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provider_bench import build  # noqa: E402

from eduxchange.store.sqlite import SQLiteStore  # noqa: E402

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")


def _client(url: str, seconds: float, out: list[float], errors: list[str]) -> None:
    session = requests.Session()
    end = time.monotonic() + seconds
    query: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
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


def _client_process(url: str, seconds: float, threads: int) -> tuple[list[float], list[str]]:
    out: list[float] = []
    errors: list[str] = []
    workers = [threading.Thread(target=_client, args=(url, seconds, out, errors))
               for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out, errors


def load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    procs = 4
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        parts = pool.starmap(_client_process, [(url, seconds, clients // procs)] * procs)
    latencies = sorted(x for p in parts for x in p[0])
    errors = [e for p in parts for e in p[1]]
    q = statistics.quantiles(latencies, n=100)
    return {"pages_s": len(latencies) / seconds, "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000, "errors": len(errors)}


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


def serve(config: Path, workers: int) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("eduxchange")
    process = subprocess.Popen([str(exe), "serve", "-c", str(config), "--port", "0",
                                "--workers", str(workers)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().rsplit(" ", 1)[1].strip()
    for _ in range(100):
        try:
            if requests.get(url + "health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "catalog.sqlite"
        started = time.monotonic()
        store = SQLiteStore(store_path)
        build(store, args.records)
        store.close()
        config = Path(tmp) / "alliance.toml"
        config.write_text('[catalog]\nstore = "catalog.sqlite"\n'
                          'base_uri = "https://catalog.example.org/"\n\n'
                          '[feed]\nadmin_email = "oai@catalog.example.org"\n')
        print(f"catalogue of {args.records} records built in {time.monotonic() - started:.0f} s;"
              f" {args.clients} clients, {args.seconds:g} s each run")
        rows = []
        for workers, slow in ((1, 0), (2, 0), (2, 64)):
            process, url = serve(config, workers)
            stop = threading.Event()
            try:
                load(url, args.clients, 3)  # warm up (page cache, pre-rendered records)
                held = slow_clients(int(url.rsplit(":", 1)[1].strip("/")), slow, stop) \
                    if slow else []
                result = load(url, args.clients, args.seconds)
                stop.set()
                for s in held:
                    s.close()
            finally:
                process.terminate()
                process.wait(timeout=60)
            rows.append((workers, slow, result))
            print(f"processes={workers} slow={slow:>2}: {result['pages_s']:7.1f} pages/s  "
                  f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                  f"errors {result['errors']}", flush=True)
        one, two = rows[0][2], rows[1][2]
        print(f"2 processes / 1 process: {two['pages_s'] / one['pages_s']:.2f}x pages/s; "
              f"p99 with 64 slow clients / without: {rows[2][2]['p99_ms'] / two['p99_ms']:.2f}x")


if __name__ == "__main__":
    main()
