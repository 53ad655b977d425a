"""`eduxchange serve --workers N` as real processes over loopback: stateless paging across
processes, summed metrics, graceful shutdown, reload (HUP), upgrade (USR2), slow clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families
from sickle import Sickle

from tests.support.postgres import postgres_url  # noqa: F401 - the fixture
from tests.support.served import (
    N_RECORDS,
    REPO,
    catalogue,
    log_lines,
    pids,
    serve_process,
    wait_for,
)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="gunicorn needs POSIX")]

OAI = "{http://www.openarchives.org/OAI/2.0/}"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return catalogue(tmp_path_factory.mktemp("prefork"))


def _both_answer(srv: Any) -> None:
    """Wait until both processes have answered (on a loaded machine one may boot late, or
    win every accept for a while)."""
    seen: set[int] = set()

    def both() -> bool:
        seen.update(pids(srv, 10))
        return len(seen) == 2

    wait_for(both, timeout=60, what="both worker processes to answer")


def test_sickle_harvests_a_two_process_server_across_pages(config: Path, tmp_path: Path) -> None:
    with serve_process(config, "--workers", "2", "--log-format", "json", tmp=tmp_path) as srv:
        _both_answer(srv)
        headers = list(Sickle(srv.url + "oai", timeout=10).ListIdentifiers(metadataPrefix="oai_dc"))
        records = list(Sickle(srv.url + "oai", timeout=10).ListRecords(metadataPrefix="lom"))
        log = log_lines(srv.log())
    assert len(headers) == len(records) == N_RECORDS == len({h.identifier for h in headers})
    pages = [e for e in log if e.get("route") == "/oai"
             and "resumptionToken" in e.get("query", "")]
    assert len(pages) >= 2 * (N_RECORDS // 5 - 1)  # both harvests paged


def _list_page(url: str, query: str) -> tuple[list[str], str | None]:
    root = etree.fromstring(requests.get(f"{url}oai?{query}", timeout=10).content)
    assert root.find(f".//{OAI}error") is None, etree.tostring(root)
    ids = [h.findtext(f"{OAI}identifier") or "" for h in root.iter(f"{OAI}header")]
    return ids, root.findtext(f".//{OAI}resumptionToken") or None


def test_tokens_and_feed_pages_are_valid_on_every_server(config: Path, tmp_path: Path) -> None:
    """Two servers that share nothing but the catalogue: each page's token is taken to the
    other one, and the change feed's pages are the same bytes on both."""
    with serve_process(config, tmp=tmp_path, name="a") as a, \
            serve_process(config, "--workers", "2", tmp=tmp_path, name="b") as b:
        servers = [a, b]
        seen: list[str] = []
        ids, token = _list_page(a.url, "verb=ListIdentifiers&metadataPrefix=oai_dc")
        seen += ids
        turn = 1
        while token:
            ids, token = _list_page(servers[turn % 2].url, "verb=ListIdentifiers&resumptionToken="
                                    + urllib.parse.quote(token))
            seen += ids
            turn += 1
        assert turn >= 5 and len(seen) == len(set(seen)) == N_RECORDS
        pages = a.get("changes").json()
        for n in range(int(pages.get("totalItems", 0) // 5 + 1)):
            one, two = a.get(f"changes/page/{n}"), b.get(f"changes/page/{n}")
            assert one.status_code == two.status_code
            assert one.content.replace(a.url.encode(), b"") == two.content.replace(
                b.url.encode(), b"")


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_metrics_sum_every_process_and_health_reports_members(config: Path,
                                                              tmp_path: Path) -> None:
    with serve_process(config, "--workers", "2", "--threads", "4", tmp=tmp_path) as srv:
        _both_answer(srv)
        for _ in range(40):
            assert srv.get("oai?verb=Identify").status_code == 200
        assert srv.get("resources/not-a-uuid").status_code == 404
        text = srv.get("metrics").text
        health = srv.get("health").json()
    assert _metric(text, "eduxchange_http_requests_total", route="/oai", status="200") == 40
    assert _metric(text, "eduxchange_http_requests_total", route="/resources/{uuid}",
                   status="404") == 1
    # those of _both_answer and the readiness wait of serve_process: ten or more
    assert _metric(text, "eduxchange_http_requests_total", route="/health/live") >= 11
    assert _metric(text, "eduxchange_http_request_duration_seconds_count", route="/oai") == 40
    assert _metric(text, "eduxchange_catalogue_records", state="live") == N_RECORDS
    assert _metric(text, "eduxchange_harvest_runs_total", member="m0") == 1
    assert _metric(text, "eduxchange_harvest_failures_total", member="m0") == 0
    assert _metric(text, "eduxchange_harvest_last_success_timestamp_seconds",
                   member="m0") > time.time() - 3600
    assert health["ready"] is True and health["store"]["records"] == N_RECORDS
    (member,) = health["members"]
    assert member["id"] == "m0" and member["runs"] == 1 and 0 <= member["age_seconds"] < 3600


class _Traffic:
    """Clients requesting without pause on fresh connections; every answer is checked."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url = url
        self.stop = threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.pids: set[int] = set()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                response = requests.get(self.url + "health/live", timeout=10)
                pid = int(response.json()["pid"]) if response.status_code == 200 else None
            except (requests.RequestException, ValueError) as err:
                with self._lock:
                    self.failures.append(repr(err))
                continue
            with self._lock:
                if pid is None:
                    self.failures.append(f"status {response.status_code}")
                else:
                    self.ok += 1
                    self.pids.add(pid)

    def __enter__(self) -> _Traffic:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=20)


def test_hup_replaces_the_workers_without_a_failed_request(config: Path, tmp_path: Path) -> None:
    with serve_process(config, "--workers", "2", tmp=tmp_path) as srv:
        before = pids(srv)
        with _Traffic(srv.url) as traffic:
            time.sleep(0.5)
            srv.signal(signal.SIGHUP)
            wait_for(lambda: pids(srv, 10).isdisjoint(before), what="new workers")
            time.sleep(0.5)
        assert traffic.failures == [] and traffic.ok > 20
        assert srv.process.poll() is None


def test_usr2_upgrades_to_a_new_master_without_a_failed_request(config: Path,
                                                                tmp_path: Path) -> None:
    pid_file = tmp_path / "serve.pid"
    with serve_process(config, "--workers", "2", "--pid-file", str(pid_file),
                       tmp=tmp_path) as srv:
        old_master = srv.process.pid
        wait_for(pid_file.exists, what="the pid file")
        before = pids(srv)
        new_master = 0
        try:
            with _Traffic(srv.url) as traffic:
                srv.signal(signal.SIGUSR2)  # a new master, on the same socket
                second = Path(f"{pid_file}.2")  # gunicorn's name for the new master's
                wait_for(lambda: second.exists() and second.read_text().strip() != "",
                         what="the new master's pid file")
                new_master = int(second.read_text().strip())
                assert new_master != old_master
                wait_for(lambda: len(pids(srv, 30) - before) >= 2, what="the new workers")
                srv.signal(signal.SIGTERM)  # the old master drains and goes
                srv.process.wait(timeout=40)
                time.sleep(0.5)
                after = pids(srv)
            assert traffic.failures == [] and traffic.ok > 20
            assert after and after.isdisjoint(before)
            # promoted: the new master holds the usual pid file now
            wait_for(lambda: pid_file.exists() and pid_file.read_text().strip() == str(new_master),
                     what="the promoted master's pid file")
        finally:
            if new_master:  # it holds the old one's stdout: stopped before the pipe is read
                os.kill(new_master, signal.SIGTERM)
                wait_for(lambda: not _alive(new_master), what="the new master to stop")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


_SLOW_APP = '''
import time
def app(environ, start_response):
    seconds = float(environ.get("QUERY_STRING") or 0)
    time.sleep(seconds)
    body = b"slept %g\\n" % seconds
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def test_term_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    """The waitress worker under gunicorn's master, on an application that takes its time."""
    (tmp_path / "slowapp.py").write_text(_SLOW_APP)
    (tmp_path / "conf.py").write_text("control_socket_disable = True\n")  # (gunicorn >= 24)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "eduxchange.publish.prefork.WaitressWorker",
         "-w", "2", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "20",
         "-c", str(tmp_path / "conf.py"), "--chdir", str(tmp_path), "slowapp:app"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: _answers(url), what="gunicorn")
        results: list[Any] = []

        def slow() -> None:
            try:
                results.append(requests.get(url + "?3", timeout=30).text)
            except requests.RequestException as err:
                results.append(err)

        clients = [threading.Thread(target=slow) for _ in range(4)]
        for c in clients:
            c.start()
        time.sleep(1)  # the requests are in the application now
        process.send_signal(signal.SIGTERM)
        for c in clients:
            c.join(timeout=30)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        _, err = process.communicate(timeout=10)
    assert results == ["slept 3\n"] * 4, err
    assert process.returncode == 0, err


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _slowloris(port: int, stop: threading.Event, sockets: list[socket.socket]) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    sockets.append(s)
    s.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: x\r\n")
    while not stop.wait(0.5):
        try:
            s.sendall(b"X-a: b\r\n")  # never the blank line that ends the header
        except OSError:
            return


def _slow_reader(port: int, sockets: list[socket.socket]) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    sockets.append(s)
    s.sendall(b"GET /vocabularies/ HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /oai?verb=ListRecords&metadataPrefix=lom HTTP/1.1\r\nHost: x\r\n\r\n" * 20)
    s.recv(1)  # and then reads nothing more


def _latencies(url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        assert requests.get(url + "oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
                            timeout=10).status_code == 200
        times.append(time.perf_counter() - started)
    return sorted(times)


def test_slow_clients_do_not_starve_the_others(config: Path, tmp_path: Path) -> None:
    """64 clients trickling headers and 64 reading responses slowly, against 2 processes
    of 4 threads: more slow clients than threads, and other requests are still answered."""
    with serve_process(config, "--workers", "2", "--threads", "4", tmp=tmp_path) as srv:
        port = int(srv.url.rsplit(":", 1)[1].strip("/"))
        baseline = _latencies(srv.url, 20)
        stop = threading.Event()
        sockets: list[socket.socket] = []
        loris = [threading.Thread(target=_slowloris, args=(port, stop, sockets), daemon=True)
                 for _ in range(64)]
        try:
            for t in loris:
                t.start()
            for _ in range(64):
                _slow_reader(port, sockets)
            time.sleep(1)
            loaded = _latencies(srv.url, 20)
        finally:
            stop.set()
            for t in loris:
                t.join(timeout=5)
            for s in sockets:
                s.close()
    # The median under slow clients stays of the same order as without (not seconds: a
    # starved server would make every request wait for a client's deadline).
    assert loaded[len(loaded) // 2] < max(0.5, 10 * baseline[len(baseline) // 2]), (
        baseline, loaded)
    assert loaded[-1] < 5, loaded


def test_a_config_the_workers_cannot_serve_is_one_clear_error(config: Path,
                                                              tmp_path: Path) -> None:
    """Checked in the master before any worker forks: no traceback per worker."""
    import shutil

    from tests.support.served import run

    broken = tmp_path / "alliance.toml"
    broken.write_text(config.read_text().split("[feed]")[0])  # no [feed] admin_email
    shutil.copy(config.parent / "catalog.sqlite", tmp_path / "catalog.sqlite")
    result = run(["serve", "-c", str(broken), "--port", "0", "--workers", "2"], timeout=60)
    assert result.returncode == 2, result.stderr
    assert "admin_email" in result.stderr and "Traceback" not in result.stderr


def _identifiers(srv: Any) -> list[str]:
    """Every identifier of ListIdentifiers (oai_dc), along its resumption tokens."""
    found: list[str] = []
    ids, token = _list_page(srv.url, "verb=ListIdentifiers&metadataPrefix=oai_dc")
    found += ids
    while token:
        ids, token = _list_page(srv.url, "verb=ListIdentifiers&resumptionToken="
                                + urllib.parse.quote(token))
        found += ids
    return found


def test_two_processes_serve_a_postgresql_catalogue_named_in_the_config_or_by_store(
        config: Path, tmp_path: Path, postgres_url: str) -> None:
    """The workers open the store the config names (a URL too), or the one ``--store``
    names: each worker reads the config itself, so the option must reach it."""
    from tests.support.served import run

    copied = run(["migrate", "--from", str(config.parent / "catalog.sqlite"),
                  "--to", postgres_url, "--quiet"])
    assert copied.returncode == 0, copied.stderr
    with serve_process(config, "--workers", "2", tmp=tmp_path) as srv:
        expected = _identifiers(srv)  # the SQLite catalogue
    assert len(expected) == N_RECORDS
    on_pg = tmp_path / "pg.toml"
    on_pg.write_text(config.read_text().replace('store = "catalog.sqlite"',
                                                f'store = "{postgres_url}"'))
    with serve_process(on_pg, "--workers", "2", tmp=tmp_path) as srv:
        _both_answer(srv)
        assert _identifiers(srv) == expected
        assert srv.get("health").status_code == 200
    # The SQLite config, with --store naming the PostgreSQL copy; its file is gone, so an
    # answer can only come from PostgreSQL.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / "alliance.toml"
    moved.write_text(config.read_text())
    with serve_process(moved, "--workers", "2", "--store", postgres_url, tmp=tmp_path) as srv:
        _both_answer(srv)
        assert _identifiers(srv) == expected
