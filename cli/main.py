"""The ``eduxchange`` command: a thin shell over the library.

It parses arguments, calls :mod:`eduxchange`, and shows the results. Exit codes:
0 everything succeeded, 1 a member failed (the others still completed),
2 usage or configuration error, 3 busy: another harvest holds the store's lock
(nothing was done; try again later).
"""

from __future__ import annotations

import json
import logging
import sys
import tomllib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich import box
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

import eduxchange
import eduxchange.workers
from eduxchange.core.config import DEFAULT_CONFIG, with_store
from eduxchange.core.errors import ConfigError, StoreError, StoreLocked
from eduxchange.harvesting.harvester import ProgressEvent
from eduxchange.pipeline import store_exists
from eduxchange.core.models import HarvestResult
from eduxchange.store.base import SEVERITIES, EventInfo
from eduxchange.catalog.vocab import VocabularyError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

_config_file_option = click.option(
    "--config", "-c", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False), help="The alliance config file (TOML).",
)
_STORE_META = "eduxchange.store"


def _remember_store(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_STORE_META] = value


_store_option = click.option(
    "--store", metavar="PATH|URL", expose_value=False, callback=_remember_store,
    help="The catalogue store instead of the config's [catalog] store: a SQLite file, or "
         "postgresql://user@host/dbname (password in EDUXCHANGE_STORE_PASSWORD or PGPASSWORD).")


def config_option(command: Any) -> Any:
    """``--config`` and ``--store`` (which ``_load`` applies)."""
    return _config_file_option(_store_option(command))


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print machine-readable JSON on stdout instead of a table.")
lease_ttl_option = click.option(
    "--lease-ttl", type=click.FloatRange(min=1.0), default=eduxchange.workers.LEASE_TTL,
    show_default=True, metavar="SECONDS",
    help="With workers: how long a member's lease lasts unrenewed, i.e. how soon another "
         "worker takes over the member of a worker that died.")


def _out() -> Console:
    """stdout; tables are not squeezed into 80 columns when piped to a file."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _err() -> Console:
    """stderr; without a terminal (cron, a pipe) messages are not wrapped (see :func:`_say`)."""
    return Console(stderr=True)


def _say(console: Console, text: str) -> None:
    """Print one message (rich markup; members' text escaped by the caller).

    On a terminal it wraps at the terminal's width; without one (cron, a log file) it is
    written as one line, so a URL in it is never cut.
    """
    console.print(text, highlight=False, soft_wrap=not console.is_terminal)


def _fit(console: Console, build: Any, droppable: list[str]) -> tuple[Table, list[str]]:
    """The table ``build(dropped)`` makes, leaving out columns of ``droppable`` (least
    wanted first) until it fits the console's width. Returns the table and what was left out.

    A table fits when its natural width does (rich's minimum would fold cells that must
    not be folded, like counts).
    """
    dropped: list[str] = []
    table: Table = build(set())
    while droppable[len(dropped):]:
        natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
        if natural <= console.width:
            break
        dropped.append(droppable[len(dropped)])
        table = build(set(dropped))
    return table, dropped


def _fail_usage(message: str) -> None:
    click.echo(f"eduxchange: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _load(config_path: str) -> eduxchange.Config:
    try:
        config = eduxchange.load_config(config_path)
        return _with_store_option(config)
    except ConfigError as err:
        _fail_usage(str(err))
        raise  # unreachable


def _with_store_option(config: eduxchange.Config) -> eduxchange.Config:
    """``config`` with the store ``--store`` named, if it was given."""
    ctx = click.get_current_context(silent=True)
    store = ctx.meta.get(_STORE_META) if ctx is not None else None
    return with_store(config, store) if store else config


def _no_catalogue_yet(config: eduxchange.Config) -> None:
    if not store_exists(config):
        _fail_usage(f"no catalogue yet at {config.catalog.location}; run `eduxchange harvest` "
                    "first")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(eduxchange.__version__, prog_name="eduxchange")
def main() -> None:
    """Harvest, normalize and republish open educational resource metadata.

    Alliance members publish their catalogues over OAI-PMH; eduxchange harvests
    them into one local catalogue store, described in a config file
    (default ./alliance.toml; see the README for an example).
    """


#: ``--jobs``: harvest's and normalize's processes for normalization ([harvest] jobs).
jobs_option = click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=None, metavar="N",
    help="Normalize in N processes (0: one a core, 1: only this one). Default: [harvest] jobs, "
         "one a core.")


@main.command()
@config_option
@click.option("--member", "-m", "members", multiple=True, metavar="ID",
              help="Harvest only this member (repeatable). Default: every enabled member.")
@click.option("--full", is_flag=True,
              help="Start over from the beginning instead of harvesting what changed.")
@click.option("--reconcile/--no-reconcile", default=None,
              help="Force (or skip) listing every identifier to retire records a member "
                   "no longer has. Default: when due, for members that do not keep deletions.")
@click.option("--no-normalize", is_flag=True,
              help="Only store the raw records; normalize them later with `eduxchange normalize`.")
@click.option("--due", is_flag=True,
              help="Only the members whose schedule (every = \"6h\") says they are due; "
                   "nothing to do is success (for cron).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None, metavar="N",
              help="Harvest in N worker processes sharing the members through leases in the "
                   "store (each harvests up to [harvest] concurrency members at a time); "
                   "`eduxchange worker` on other machines may join them.")
@lease_ttl_option
@jobs_option
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="json: progress and errors on stderr as JSON lines (no progress bars).")
@json_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def harvest(config_path: str, members: tuple[str, ...], full: bool, reconcile: bool | None,
            no_normalize: bool, due: bool, workers: int | None, lease_ttl: float,
            jobs: int | None,
            log_format: str | None, as_json: bool,
            quiet: bool) -> None:
    """Harvest alliance members into the catalogue store.

    Incremental by default: only what changed since the last successful harvest
    is fetched, and an interrupted harvest resumes where it stopped. Exit 0 when
    every member succeeded, 1 when any failed (the others still complete), 2 for
    usage or configuration errors, 3 when another harvest of the same store is
    running (its pid and start time are shown; nothing is done).

    With --workers N, N processes harvest the members; one that dies mid-member is
    replaced by another once its lease expires (--lease-ttl), and the member resumes
    from its last stored page. The catalogue comes out the same as without --workers.
    """
    config = _load(config_path)
    try:
        chosen = eduxchange.pipeline.select_members(config, members or None)
    except ConfigError as err:
        _fail_usage(str(err))
    if due:
        chosen = _due_members(config, chosen, as_json=as_json, log_format=log_format)
    err_console = Console(stderr=True)
    show_progress = not (quiet or as_json or log_format == "json") and err_console.is_terminal
    try:
        with _progress(err_console, [m.id for m in chosen], enabled=show_progress) as on_event:
            if log_format == "json":
                on_event = _json_progress
            if workers is not None:
                results = eduxchange.workers.harvest_with_workers(
                    config, workers=workers, members=[m.id for m in chosen], full=full,
                    reconcile=reconcile, progress=on_event, normalize=not no_normalize,
                    ttl_s=lease_ttl)
            else:
                results = eduxchange.harvest(config, members=[m.id for m in chosen], full=full,
                                             reconcile=reconcile, progress=on_event,
                                             normalize=not no_normalize, jobs=jobs)
    except StoreLocked as err:
        click.echo(f"eduxchange: {err}", err=True)
        sys.exit(EXIT_BUSY)
    except (StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    _report_harvest(results, as_json=as_json, err_console=err_console, log_format=log_format)


def _report_harvest(results: list[HarvestResult], *, as_json: bool, err_console: Console,
                    title: str = "Harvest summary", log_format: str | None = None,
                    stopped_code: int | None = None) -> None:
    """Print what `harvest` (or `worker --once`) did, and exit 0, or 1 when anything failed
    (``stopped_code`` when a signal stopped it)."""
    if log_format == "json":
        for r in results:
            _json_log("error" if not r.ok or _normalization_error(r) else "info",
                      f"{r.member_id}: {r.state}", event="result", **r.to_dict())
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2))
    elif log_format == "json":
        pass  # the result lines above say it all
    else:
        _summary(_out(), results, title=title)
        for r in results:
            if r.error:
                _say(err_console, f"[red]{escape(r.member_id)}[/red]: {escape(r.error)}")
            if _normalization_error(r):
                _say(err_console, f"[red]{escape(r.member_id)}[/red]: harvested, but "
                                  f"{escape(_normalization_error(r) or '')}; run `eduxchange "
                                  "normalize` once the cause is fixed")
    failed = any(not r.ok or _normalization_error(r) for r in results)
    if stopped_code is not None:
        sys.exit(stopped_code)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def _json_log(level: str, message: str, **fields: Any) -> None:
    from eduxchange.core.logs import json_line

    click.echo(json_line(level, "eduxchange.harvest", message, **fields), err=True)


def _json_progress(event: ProgressEvent) -> None:
    """``harvest --log-format json``: each progress event as a JSON line on stderr."""
    _json_log("info", f"{event.member_id}: {event.phase}", event=event.phase,
              member=event.member_id, done=event.done, total=event.total, note=event.message)


def _due_members(config: eduxchange.Config, chosen: list[Any], *, as_json: bool,
                 log_format: str | None) -> list[Any]:
    """``harvest --due``: those of ``chosen`` that are due; exit 0 when none is."""
    from eduxchange.schedule import take_due

    if not config.catalog.store.exists():
        return chosen  # never harvested: all are due (and the store is made by the harvest)
    try:
        with eduxchange.open_store(config) as store:
            plan = take_due(config, store, members=chosen)
    except StoreError as err:
        _fail_usage(str(err))
    if plan.members:
        return list(plan.members)
    next_at = plan.next_at.isoformat(timespec="seconds") if plan.next_at else None
    if as_json:
        click.echo(json.dumps({"results": [], "next_due": next_at}, indent=2))
    elif log_format == "json":
        _json_log("info", "no member is due", event="idle", next_due=next_at)
    else:
        click.echo(f"No member is due; the next is due at {next_at}.", err=True)
    sys.exit(EXIT_OK)


def _normalization_error(result: HarvestResult) -> str | None:
    """Why normalizing a harvested member failed, or None (its harvest itself may be ok)."""
    error = (result.normalization or {}).get("error")
    return str(error) if error else None


@contextmanager
def _progress(console: Console, member_ids: list[str], *, enabled: bool) -> Iterator[Any]:
    """A progress bar per member; a no-op callback when output is not a terminal."""
    if not enabled:
        yield None
        return
    lock = threading.Lock()
    with Progress(
        SpinnerColumn(), TextColumn("[bold]{task.fields[member]:<12}"), BarColumn(),
        MofNCompleteColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
        console=console, transient=False,
    ) as bar:
        tasks = {m: bar.add_task("", total=None, member=m, note="waiting") for m in member_ids}

        def on_event(event: ProgressEvent) -> None:
            with lock:
                task = tasks[event.member_id]
                note = event.message if event.phase != "page" else "records"
                if event.phase == "done":
                    done_note = "[green]ok" if event.message == "ok" else "[red]failed"
                    bar.update(task, completed=event.done, total=event.done or 1, note=done_note)
                else:
                    bar.update(task, completed=event.done, total=event.total, note=note)

        yield on_event


#: Columns of the harvest summary, and the order they are left out in to fit a narrow terminal.
_SUMMARY_DROP = ["pages", "mode", "retired", "time", "unchanged", "format", "catalogue (+ ~ - !)"]


def _summary(console: Console, results: list[eduxchange.HarvestResult], *,
             title: str = "Harvest summary") -> None:
    def build(dropped: set[str]) -> Table:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, show_edge=False, collapse_padding=True)
        names = ["member", "state", "mode", "format", "new", "updated", "unchanged", "deleted",
                 "retired", "quarantined", "pages", "time", "catalogue (+ ~ - !)"]
        keep = [n for n in names if n not in dropped]
        for name in keep:
            right = name not in ("member", "state", "mode", "format")
            table.add_column("quar." if name == "quarantined" else name,
                             justify="right" if right else "left",
                             no_wrap=name != "member", overflow="fold", min_width=6 if
                             name == "member" else None)
        for r in results:
            cells = {"member": r.member_id, "state": "[green]ok" if r.ok else "[red]failed",
                     "mode": r.mode, "format": r.metadata_prefix or "-", "new": str(r.new),
                     "updated": str(r.updated), "unchanged": str(r.unchanged),
                     "deleted": str(r.deleted), "retired": str(r.retired),
                     "quarantined": str(r.quarantined), "pages": str(r.pages),
                     "time": f"{r.seconds:.1f}s",
                     "catalogue (+ ~ - !)": _catalogue_cell(r.normalization)}
            table.add_row(*(cells[n] for n in keep))
        return table

    table, dropped = _fit(console, build, _SUMMARY_DROP)
    console.print(table)
    if dropped:
        _say(console, f"(left out to fit {console.width} columns: {', '.join(dropped)}; "
                      "--json has every count)")


def _catalogue_cell(n: dict[str, Any] | None) -> str:
    """created, updated, removed and quarantined records of one member's normalization."""
    if not n:
        return "-"
    if "error" in n:
        return "[red]error"
    text = f"+{n['created']} ~{n['updated']} -{n['removed']}"
    return text + (f" [red]!{n['quarantined']}" if n["quarantined"] else "")


@main.command()
@config_option
@click.option("--member", "-m", "members", multiple=True, metavar="ID",
              help="Normalize only this member's records (repeatable).")
@click.option("--all", "all_", is_flag=True,
              help="Normalize every stored raw record again (after a mapping or crosswalk fix), "
                   "not only what changed since the last run. No re-harvesting.")
@jobs_option
@json_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def normalize(config_path: str, members: tuple[str, ...], all_: bool, jobs: int | None,
              as_json: bool, quiet: bool) -> None:
    """Normalize harvested raw records into the unified catalogue.

    `harvest` already does this as it goes; run it alone to apply a fixed mapping
    or crosswalk to records harvested before (--all). Records that fail validation
    are quarantined with the reasons (see `eduxchange quarantine`).
    """
    config = _load(config_path)
    err_console = Console(stderr=True)
    show = not (quiet or as_json) and err_console.is_terminal
    try:
        with _progress(err_console, list(members) or [m.id for m in config.members],
                       enabled=show) as on_event:
            results = eduxchange.normalize_catalog(config, members=list(members) or None, all_=all_,
                                           progress=on_event, jobs=jobs)
    except (ConfigError, StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    failed = [r for r in results if r.error is not None]
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2,
                              ensure_ascii=False))
        if failed:
            sys.exit(EXIT_FAILED)
        return
    table = Table(title="Normalization", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, collapse_padding=True)
    for column in ("member", "processed", "created", "updated", "unchanged", "removed",
                   "quarantined", "time"):
        table.add_column("quar." if column == "quarantined" else column,
                         justify="left" if column == "member" else "right",
                         no_wrap=column != "member", overflow="fold")
    for r in results:
        table.add_row(r.member_id, str(r.processed), str(r.created), str(r.updated),
                      str(r.unchanged), str(r.removed),
                      f"[red]{r.quarantined}" if r.quarantined else "0", f"{r.seconds:.1f}s")
    _out().print(table)
    for r in results:
        if r.unmapped:
            worst = sorted(r.unmapped.items(), key=lambda kv: -kv[1])[:5]
            top = ", ".join(f"{k} ({v})" for k, v in worst)
            _say(err_console, escape(f"{r.member_id}: values with no concept yet: {top}"))
    for r in failed:  # the other members were normalized all the same
        _say(err_console, escape(f"{r.member_id}: {r.error}"))
    if failed:
        sys.exit(EXIT_FAILED)


@main.command()
@config_option
@click.option("--format", "-f", "format_",
              type=click.Choice(["ndjson", "jsonld", "turtle", "ntriples", "rdfxml", "amb"]),
              default=None,
              help="ndjson (the default): one common record per line; jsonld: one document with "
                   "the context inline; turtle, ntriples, rdfxml: RDF; amb: one AMB (20231019) "
                   "document per line, records that cannot be valid AMB skipped and counted. "
                   "With --vocabularies the default is turtle.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (default: stdout).")
@click.option("--since", metavar="ISO", help="Only records changed at or after this date(-time).")
@click.option("--member", "-m", "member", metavar="ID", help="Only records this member describes.")
@click.option("--vocabularies", is_flag=True,
              help="Export the SKOS vocabularies the records' concepts come from, instead of "
                   "the records (turtle, ntriples, rdfxml or jsonld).")
@click.option("--json", "as_json", is_flag=True,
              help="With --output: print a JSON summary on stdout (written, skipped, reasons).")
def export(config_path: str, format_: str | None, output: str | None, since: str | None,
           member: str | None, vocabularies: bool, as_json: bool) -> None:
    """Export the unified catalogue, streamed in constant memory.

    Every dump reads offline: the JSON-LD one carries its context inline, concept labels
    come with --vocabularies.
    """
    if vocabularies:
        if format_ in ("ndjson", "amb"):
            _fail_usage("--vocabularies needs an RDF format: --format turtle, ntriples, rdfxml "
                        "or jsonld")
        vocabulary_format = format_ or "turtle"
        _write_out(output, lambda fh: eduxchange.publish.export.export_vocabularies(
            fh, format=vocabulary_format))
        return
    if as_json and not output:
        _fail_usage("--json needs --output: without it, stdout carries the dump")
    format_ = format_ or "ndjson"
    config = _load(config_path)
    if since:
        try:
            eduxchange.core.dates.parse_datestamp(since)
        except ValueError:
            _fail_usage(f"--since {since!r} is not an ISO 8601 date or date-time "
                        "(e.g. 2024-01-31 or 2024-01-31T12:00:00Z)")
    _no_catalogue_yet(config)
    skipped: dict[str, list[str]] = {}  # reason -> record ids

    def skip(record_id: str, reason: str) -> None:
        skipped.setdefault(reason, []).append(record_id)

    try:
        with eduxchange.open_store(config) as store:
            count = _write_out(output, lambda fh: eduxchange.publish.export.export(
                config, store, fh, format=format_, since=since, member=member, skipped=skip))
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    total_skipped = sum(len(ids) for ids in skipped.values())
    for reason, ids in skipped.items():
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        click.echo(f"eduxchange: warning: skipped {len(ids)} record(s) that cannot be valid "
                   f"{format_.upper()}: {reason} ({shown})", err=True)
    if output:
        click.echo(f"Wrote {count} records to {output}"
                   + (f"; skipped {total_skipped}." if total_skipped else "."), err=True)
    if as_json:
        click.echo(json.dumps({"format": format_, "output": output, "written": count,
                               "skipped": total_skipped,
                               "skipped_reasons": [{"reason": r, "count": len(ids), "ids": ids}
                                                   for r, ids in skipped.items()]}))


def _write_out(output: str | None, write: Any) -> Any:
    if output:
        with open(output, "wb") as fh:
            return write(fh)
    return write(sys.stdout.buffer)


@main.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--public-url", metavar="URL",
              help="The URL clients reach the server at, when behind a reverse proxy "
                   "(links in the change feed and OAI-PMH baseURL are built from it).")
@click.option("--workers", "-w", "processes", default=1, show_default=True,
              type=click.IntRange(1, 512),
              help="Server processes. 1: one process (waitress); more: a gunicorn master "
                   "forking that many (POSIX; HUP reloads, USR2 upgrades, TERM drains).")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 1024),
              help="Threads running requests in each process.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Request and server log lines on stderr: text (Common "
                                      "Log Format) or json (one JSON object a line).")
@click.option("--pid-file", type=click.Path(dir_okay=False), default=None,
              help="With --workers > 1: write the master's pid here (to signal it).")
def serve(config_path: str, host: str, port: int, public_url: str | None, processes: int,
          threads: int, log_format: str, pid_file: str | None) -> None:
    """Serve the unified catalogue: OAI-PMH at /oai, a change feed at /changes, records at
    /resources/{id} (JSON-LD, Turtle, N-Triples, RDF/XML), vocabularies at /vocabularies/,
    health at /health and Prometheus metrics at /metrics.

    Read-only: nothing from the network changes the catalogue. Stop with Ctrl-C (or TERM:
    requests in flight finish first). See docs/deployment.md for running several processes.
    """
    config = _load(config_path)
    _no_catalogue_yet(config)
    if public_url and not public_url.startswith(("http://", "https://")):
        _fail_usage(f"--public-url must be an http(s) URL, got {public_url!r}")
    if pid_file and processes == 1:
        _fail_usage("--pid-file is for --workers 2 or more (one process: its own pid)")
    if processes > 1:
        # The workers read the config file themselves: --store goes to them as a location
        # (a file named relative to here, made absolute).
        store = None
        if click.get_current_context().meta.get(_STORE_META):
            store = config.catalog.location if config.catalog.store_url else \
                str(config.catalog.store.resolve())
        _serve_processes(config_path, host, port, processes=processes, threads=threads,
                         public_url=public_url, log_format=log_format, pid_file=pid_file,
                         store=store)
        return
    _serve(config, host, port, public_url=public_url, threads=threads, log_format=log_format)


def _serve_processes(config_path: str, host: str, port: int, *, processes: int, threads: int,
                     public_url: str | None, log_format: str, pid_file: str | None,
                     store: str | None = None) -> None:
    """``serve --workers N``: gunicorn's master over N waitress workers."""
    if sys.platform == "win32":
        _fail_usage("--workers above 1 needs a POSIX system (gunicorn forks); "
                    "on Windows use --workers 1")
    from eduxchange.core.logs import configure_logging
    from eduxchange.publish import server
    from eduxchange.publish.prefork import serve_processes

    configure_logging(log_format)

    def ready(info: server.ServerInfo) -> None:
        click.echo(info.describe())
        click.echo(f"  health       {info.url}health\n  metrics      {info.url}metrics\n"
                   f"{processes} processes; TERM or Ctrl-C stops, HUP reloads.")

    try:
        status = serve_processes(config_path, host, port, workers=processes, threads=threads,
                                 public_url=public_url, log_format=log_format,
                                 pid_file=pid_file, ready=ready, store=store)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    click.echo("Stopped.", err=True)
    sys.exit(EXIT_OK if status == 0 else EXIT_FAILED)


def _serve(config: eduxchange.Config, host: str, port: int, *, example: str | None = None,
           public_url: str | None = None, threads: int = 16, log_format: str = "text") -> None:
    from eduxchange.core.logs import configure_logging
    from eduxchange.publish import server

    if log_format == "json":
        configure_logging(log_format)

    def ready(info: server.ServerInfo) -> None:
        click.echo(info.describe())
        if example:
            click.echo(f"  for example  {info.url}resources/{example}")
        click.echo("Press Ctrl-C to stop.")

    try:
        server.serve(config, host, port, ready=ready, public_url=public_url, workers=threads,
                     log_format=log_format)
    except (ConfigError, StoreError) as err:  # e.g. no [feed] admin_email
        _fail_usage(str(err))
    except OSError as err:
        _fail_usage(f"cannot listen on {host}:{port}: {err.strerror or err} "
                    "(choose another --port)")
    click.echo("Stopped.", err=True)


@main.command()
@config_option
@click.option("--no-normalize", is_flag=True,
              help="Only store the raw records; normalize them later with `eduxchange normalize`.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Log lines on stderr: text, or json (one JSON object a line).")
@lease_ttl_option
@click.option("--once", is_flag=True,
              help="Harvest every member no other worker holds once (not by schedule), then exit.")
@click.option("--member", "-m", "members", multiple=True, metavar="ID",
              help="With --once: only this member (repeatable).")
@click.option("--full", is_flag=True, help="With --once: start over from the beginning.")
@click.option("--reconcile/--no-reconcile", default=None,
              help="With --once: force (or skip) the reconciliation of identifiers.")
@json_option
@click.option("--quiet", "-q", is_flag=True, help="With --once: no progress bars.")
def worker(config_path: str, no_normalize: bool, log_format: str, lease_ttl: float, once: bool,
           members: tuple[str, ...], full: bool, reconcile: bool | None, as_json: bool,
           quiet: bool) -> None:
    """Harvest members whenever they are due, until stopped (TERM or Ctrl-C).

    Workers share the alliance: each member is leased by one worker at a time, so any
    number of them, on this machine or others sharing the store (PostgreSQL), and
    `harvest --workers`, divide the members; a member whose worker died is taken over
    once its lease (--lease-ttl) expires and resumes from its last stored page.
    With --once: harvest every free member once, then exit (exit codes as `harvest`).

    Each member is harvested again once its last successful harvest is `every` old
    (`every = "6h"` per member or in [harvest]; default 1d), a failed one after at most 15
    minutes; what changed is normalized. Between harvests it sleeps until the next member is
    due.

    Signals: TERM or Ctrl-C (INT) stops each harvest before its next page (one still busy
    after 10 s, or at a second signal, is abandoned: its writes are fenced) and releases its
    members' leases, so another worker resumes them at once from the last stored page; exit
    130 after INT, 143 after TERM. HUP reads the config file again after the harvests in
    progress (a config that cannot be read is logged and the old one kept).
    For cron, use `eduxchange harvest --due` instead.
    """
    if once:
        _worker_once(config_path, members, full, reconcile, no_normalize, lease_ttl, as_json,
                     quiet)
        return
    given = [flag for flag, on in (("--member", bool(members)), ("--full", full),
                                   ("--reconcile", reconcile is not None),
                                   ("--json", as_json), ("--quiet", quiet)) if on]
    if given:
        _fail_usage(f"{', '.join(given)} go with --once (a continuous worker harvests every "
                    "member when it is due)")
    import os
    import signal

    from eduxchange.core.logs import configure_logging
    from eduxchange.schedule import run_worker

    config = _load(config_path)
    configure_logging(log_format)
    logger = logging.getLogger("eduxchange.worker")
    stopping = _Stopping(logger).install()
    reload_requested = threading.Event()

    def on_hup(signum: int, frame: Any) -> None:
        logger.info("SIGHUP: reloading the config after the harvests in progress",
                    extra={"fields": {"event": "reload-requested"}})
        reload_requested.set()

    signal.signal(signal.SIGHUP, on_hup)

    def reload() -> eduxchange.Config:
        return _with_store_option(eduxchange.load_config(config_path))

    def on_results(results: list[HarvestResult]) -> None:
        for r in results:
            problem = r.error or _normalization_error(r)
            logger.log(logging.ERROR if problem else logging.INFO,
                       f"{r.member_id}: {r.state}, +{r.new} ~{r.updated} -{r.deleted}"
                       + (f": {problem}" if problem else ""),
                       extra={"fields": {"event": "result", **r.to_dict()}})

    logger.info("worker started (pid %d)", os.getpid(), extra={"fields": {"event": "start"}})
    try:
        run_worker(config, stop=stopping.stop, abort=stopping.abort, on_results=on_results,
                   normalize=not no_normalize, ttl_s=lease_ttl, reload=reload,
                   reload_requested=reload_requested)
    except (ConfigError, StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    code = stopping.exit_code
    logger.info("worker stopped", extra={"fields": {"event": "stop", "exit": code}})
    sys.exit(code)


class _Stopping:
    """A harvest worker's INT and TERM handling (:meth:`install`): the first signal sets
    ``stop`` (each harvest stops before its next page and releases its lease), the second
    ``abort`` (the harvests are abandoned now), a third ends the process at once (a store
    that does not answer); ``signum`` is the first one's number."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.stop, self.abort = threading.Event(), threading.Event()
        self.signum: int | None = None
        self._logger = logger

    def install(self) -> _Stopping:
        import signal

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.abort.is_set():  # a third: the store itself may hang; nothing is half-written
            import os

            os._exit(128 + (self.signum or signum))
        if self.stop.is_set():
            self.abort.set()
            if self._logger is not None:
                self._logger.warning(
                    "stopping now: the harvests in progress are abandoned (their leases "
                    "released, their pages kept)",
                    extra={"fields": {"event": "abort", "signal": signum}})
            return
        self.signum = signum
        self.stop.set()
        if self._logger is not None:
            self._logger.info(
                "stopping: each harvest stops before its next page and its lease is released "
                "(again: stop now)", extra={"fields": {"event": "stopping", "signal": signum}})

    @property
    def exit_code(self) -> int:
        """128 + the signal that stopped the worker (130: INT, 143: TERM), as a shell
        reports a process a signal ended; 0 when no signal came."""
        return EXIT_OK if self.signum is None else 128 + self.signum


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve the catalogue on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to serve the catalogue on (0: any free port).")
@click.option("--workdir", default="eduxchange-demo", show_default=True,
              type=click.Path(file_okay=False), help="Where the demo writes its config and catalogue.")
@click.option("--no-serve", is_flag=True, help="Harvest and normalize, then stop (no server).")
@click.option("--store", "store_url", metavar="URL",
              help="A PostgreSQL catalogue (postgresql://user@host/dbname) instead of "
                   "WORKDIR/catalog.sqlite; the demo's config then names it.")
def demo(host: str, port: int, workdir: str, no_serve: bool, store_url: str | None) -> None:
    """Run a whole sample alliance on this machine and serve its unified catalogue.

    Starts three sample members on loopback (pyoai's OAI-PMH server with bundled records in
    IEEE LOM, IMS MD 1.2 and oai_dc, in six languages, overlapping), harvests and normalizes
    them into WORKDIR/catalog.sqlite (or --store), then serves the catalogue and prints the
    URLs to open.
    """
    from pathlib import Path

    from eduxchange.demo import demo_alliance

    err_console = Console(stderr=True)
    if not no_serve and port:
        # Found now, not after the whole harvest: the server would fail on it at the end.
        taken = _port_problem(host, port)
        if taken:
            _fail_usage(f"cannot serve the demo on {host}:{port}: {taken}. Nothing was harvested; "
                        "choose another --port (0: any free port), or stop what listens there")
    base = f"http://{host}:{port}/" if port else f"http://{host}/"
    if store_url is not None:
        from eduxchange.core.config import is_store_url, store_url_problem

        problem = (store_url_problem(store_url) if is_store_url(store_url)
                   else "must be a PostgreSQL URL: postgresql://user@host/dbname")
        if problem:
            _fail_usage(f"--store {problem}")

    def started(members: list[Any]) -> None:
        for m in members:
            _say(err_console, f"sample member [bold]{escape(m.id)}[/bold] ({escape(m.name)}) "
                              f"at {m.url}")

    with demo_alliance(Path(workdir), base_uri=base, on_members=started,
                       store=store_url) as config:
        show = err_console.is_terminal
        with _progress(err_console, [m.id for m in config.members], enabled=show) as on_event:
            results = eduxchange.harvest(config, progress=on_event)
        _summary(_out(), results)
        counts = eduxchange.catalogue_counts(config)
        click.echo(f"Catalogue: {counts['resources']} resources in {config.catalog.location} "
                   f"(config: {config.path})")
        if not all(r.ok for r in results):
            sys.exit(EXIT_FAILED)
        if not no_serve:
            with eduxchange.open_store(config) as store:
                first = next(store.iter_resources(), None)
            _serve(config, host, port,
                   example=first.id.rsplit("/", 1)[1] if first is not None else None)


def _port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (bound as the server binds it), or ``None``."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as err:
        return f"cannot resolve {host!r} ({err})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        try:
            sock.bind(address)
        except OSError as err:
            return err.strerror or str(err)
    return None


def _worker_once(config_path: str, members: tuple[str, ...], full: bool,
                 reconcile: bool | None, no_normalize: bool, lease_ttl: float, as_json: bool,
                 quiet: bool) -> None:
    """`eduxchange worker --once`: take free members until none is left, then exit."""
    config = _load(config_path)
    try:
        chosen = eduxchange.pipeline.select_members(config, members or None)
    except ConfigError as err:
        _fail_usage(str(err))
    err_console = Console(stderr=True)
    show_progress = not (quiet or as_json) and err_console.is_terminal
    stopping = _Stopping().install()
    try:
        with _progress(err_console, [m.id for m in chosen], enabled=show_progress) as on_event:
            results = eduxchange.workers.work(
                config, members=[m.id for m in chosen], ttl_s=lease_ttl,
                wait_for_others=False, full=full, reconcile=reconcile,
                normalize=not no_normalize, progress=on_event, stop=stopping.stop,
                abort=stopping.abort)
    except StoreLocked as err:
        click.echo(f"eduxchange: {err}", err=True)
        sys.exit(EXIT_BUSY)
    except (StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    order = {m.id: i for i, m in enumerate(chosen)}
    results.sort(key=lambda r: order[r.member_id])
    if not results and not as_json:
        _say(err_console, "no member was free: every selected member was being harvested by "
                          "another worker (or was harvested while this one ran)")
    _report_harvest(results, as_json=as_json, err_console=err_console,
                    title="Members this worker harvested",
                    stopped_code=None if stopping.signum is None else stopping.exit_code)


@main.command()
@config_option
@json_option
def status(config_path: str, as_json: bool) -> None:
    """Show every member's harvest state, record counts, warnings and last error.

    Warnings are those of each member's last finished run (an unknown set, repaired
    XML, ...); `eduxchange events` lists them all.
    """
    config = _load(config_path)
    try:
        statuses = eduxchange.member_statuses(config)
    except StoreError as err:
        _fail_usage(str(err))
    catalogue = eduxchange.pipeline.catalogue_counts(config)
    held = eduxchange.workers.held_leases(config)
    if as_json:
        click.echo(json.dumps({"members": [s.to_dict() for s in statuses],
                               "catalog": catalogue, "leases": held}, indent=2))
        return
    console = _out()
    # Fits 80 columns: the long texts (name, error, latest warning) go below the table
    # where they wrap; the name gets a column only when there is room for it.
    wide = console.width >= 120
    table = Table(title=f"Members of {config.path}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("id", overflow="fold", min_width=8)
    if wide:
        table.add_column("name", overflow="fold", ratio=2)
    table.add_column("state", no_wrap=True)
    for column in ("records", "deleted", "quar.", "warn."):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("last harvest", no_wrap=True)
    table.add_column("format", overflow="fold")
    colours = {"ok": "green", "failed": "red", "never": "yellow"}
    for s in statuses:
        state = f"[{colours[s.state]}]{s.state}" + ("*" if s.resumable else "")
        warn = f"[yellow]{s.warnings}" if s.warnings else "0"
        last = s.last_harvest.replace("T", " ")[:16] if s.last_harvest else "-"
        # Narrow: the name goes under the id, in the same cell, where it folds.
        who = s.id if wide or s.name == s.id else f"{escape(s.id)}\n[dim]{escape(s.name)}"
        table.add_row(who, *([s.name] if wide else []), state, str(s.records), str(s.deleted),
                      str(s.quarantined), warn, last, s.metadata_prefix or "-")
    console.print(table)
    if any(s.resumable for s in statuses):
        console.print("* resumable: the next harvest continues where the last one stopped")
    for s in statuses:
        if s.error:
            _say(console, f"[red]{s.id}[/red]: {escape(s.error)}")
        if s.last_warning:
            w = s.last_warning
            _say(console, f"[yellow]{s.id}[/yellow]: {s.warnings} warning(s) in the last run; "
                          f"latest: {escape(str(w['code']))}: {escape(str(w['message']))} "
                          f"(see `eduxchange events -m {s.id}`)")
    for lease in held:
        what = ("normalizing" if lease["name"] == eduxchange.workers.NORMALIZE_LEASE
                else f"{escape(str(lease['name']))}: being harvested")
        _say(console, f"{what} by worker {escape(str(lease['worker']))} (lease renewed; it "
                      f"expires in {lease['expires_in']} s unless renewed again)")
    console.print(f"Catalogue: {catalogue['resources']} resources "
                  f"({catalogue['deleted']} deleted) in {config.catalog.location}")


@main.command()
@config_option
@click.option("--member", "-m", "member", metavar="ID", help="Only this member's entries.")
@click.option("--limit", default=50, show_default=True, help="How many entries at most.")
@click.option("--raw", "show_raw", is_flag=True, help="Also print each entry's raw bytes.")
@json_option
def quarantine(config_path: str, member: str | None, limit: int, show_raw: bool,
               as_json: bool) -> None:
    """List records that could not be read, with the reason (raw bytes are kept)."""
    config = _load(config_path)
    try:
        entries = eduxchange.quarantine_entries(config, member, limit)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    if as_json:
        click.echo(json.dumps({"quarantine": [
            {"id": e.id, "member": e.member_id, "identifier": e.identifier, "run_id": e.run_id,
             "stage": e.stage, "reason": e.reason, "created_at": e.created_at,
             "raw": (e.raw or b"").decode("utf-8", "replace") if show_raw else None}
            for e in entries]}, indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo("No quarantined records.")
        return
    for e in entries:
        click.echo(f"#{e.id} {e.member_id} {e.identifier or '(no identifier)'} "
                   f"[{e.stage}, run {e.run_id}, {e.created_at}]\n    {e.reason}")
        if show_raw and e.raw:
            click.echo(e.raw.decode("utf-8", "replace"))


@main.command(name="log")
@config_option
@click.option("--member", "-m", "member", metavar="ID", help="Only this member's runs.")
@click.option("--limit", default=20, show_default=True, help="How many runs at most.")
@click.option("--events", "with_events", is_flag=True,
              help="Also list each run's warnings and errors (see also `eduxchange events`).")
@json_option
def log_(config_path: str, member: str | None, limit: int, with_events: bool,
         as_json: bool) -> None:
    """Show the harvest log: recent runs with their counts, warnings and errors.

    Every attempt is a run, one that failed at Identify too.
    """
    config = _load(config_path)
    try:
        runs = eduxchange.harvest_log(config, member, limit)
        details = eduxchange.pipeline.run_warnings(
            config, [r.id for r in runs], events_per_run=_EVENTS_PER_RUN if with_events else 0)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    if as_json:
        click.echo(json.dumps({"runs": [
            {"id": r.id, "member": r.member_id, "mode": r.mode, "state": r.state,
             "started_at": r.started_at, "finished_at": r.finished_at, **r.counts,
             "warnings": details[r.id][0], "error": r.error,
             **({"events": [e.to_dict() for e in details[r.id][1]]} if with_events else {})}
            for r in runs]}, indent=2, ensure_ascii=False))
        return
    out = _out()

    # Fits 80 columns: errors go below the table (where they wrap, or stay one line without
    # a terminal); the least wanted counts are left out when it is narrow.
    def build(dropped: set[str]) -> Table:
        table = Table(title="Harvest log", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, show_edge=False, collapse_padding=True)
        names = ["run", "member", "mode", "state", "started", "new", "updated", "deleted",
                 "quarantined", "warnings"]
        keep = [n for n in names if n not in dropped]
        short = {"quarantined": "quar.", "warnings": "warn."}
        for name in keep:
            table.add_column(short.get(name, name), no_wrap=name != "member",
                             overflow="fold", min_width=6 if name == "member" else None,
                             justify="right" if name in (
                                 "run", "new", "updated", "deleted", "quarantined", "warnings")
                             else "left")
        for r in runs:
            c = r.counts
            cells = {"run": str(r.id), "member": escape(r.member_id), "mode": r.mode,
                     "state": r.state if r.state != "failed" else "[red]failed",
                     "started": r.started_at.replace("T", " ")[:16],
                     "new": str(c.get("new", "")), "updated": str(c.get("updated", "")),
                     "deleted": str(c.get("deleted", "")),
                     "quarantined": str(c.get("quarantined", "")),
                     "warnings": str(details[r.id][0])}
            table.add_row(*(cells[n] for n in keep))
        return table

    table, dropped = _fit(out, build, ["mode", "deleted", "updated"])
    out.print(table)
    if dropped:
        _say(out, f"(left out to fit {out.width} columns: {', '.join(dropped)}; "
                  "--json has every count)")
    for r in runs:
        if r.error:
            _say(out, f"[red]run {r.id}[/red] ({escape(r.member_id)}): {escape(r.error)}")
    for r in runs:
        count, shown = details[r.id]
        if shown:
            _say(out, f"run {r.id} ({escape(r.member_id)}, {r.started_at}):")
            _print_events(out, shown, indent="  ")
            if count > len(shown):
                out.print(f"  ... see `eduxchange events --run {r.id} --limit N` for the rest")


#: How many events ``log --events`` lists under each run.
_EVENTS_PER_RUN = 20


def _print_events(console: Console, events: list[EventInfo], *, indent: str = "") -> None:
    colours = {"error": "red", "warning": "yellow", "info": "blue"}
    for e in events:
        # Members' text is not markup: a '[' in a message must print as it is.
        where = f" {escape(e.identifier)}" if e.identifier else ""
        console.print(f"{indent}[{colours.get(e.severity, 'white')}]{escape(e.severity)}[/] "
                      f"{e.created_at} {escape(e.code)}{where}: {escape(e.message)}",
                      highlight=False, soft_wrap=not console.is_terminal)


@main.command()
@config_option
@click.option("--member", "-m", "member", metavar="ID", help="Only this member's events.")
@click.option("--run", "run_id", type=int, metavar="N", help="Only the events of run N "
              "(the run column of `eduxchange log`).")
@click.option("--severity", type=click.Choice(list(SEVERITIES)), default="warning",
              show_default=True, help="The least severity shown: info also lists retries.")
@click.option("--limit", default=100, show_default=True, help="How many events at most.")
@json_option
def events(config_path: str, member: str | None, run_id: int | None, severity: str, limit: int,
           as_json: bool) -> None:
    """List what harvest runs met, newest first: warnings (an unknown set, repaired XML,
    ignored records, refused redirects ...), errors and, with --severity info, retries."""
    config = _load(config_path)
    try:
        found = eduxchange.harvest_events(config, member, run_id, min_severity=severity,
                                          limit=limit)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    if as_json:
        click.echo(json.dumps({"events": [e.to_dict() for e in found]}, indent=2,
                              ensure_ascii=False))
        return
    if not found:
        click.echo("No events.")
        return
    out = _out()
    for e in found:
        out.print(f"run {e.run_id} {escape(e.member_id)}: ", end="", highlight=False)
        _print_events(out, [e])


# -- an operator's first five minutes: look at an endpoint, write a config, check it ----------

timeout_option = click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=20.0, show_default=True,
    help="Seconds to wait for each response (one retry after a transient failure).")

_DELETED = {
    "persistent": "persistent (deletions are listed: incremental harvests see them)",
    "transient": "transient (deletions may be listed for a while: reconciled every "
                 "reconcile_days)",
    "no": "no (deletions are not listed: reconciled every reconcile_days)",
}


def _check_url(url: str) -> None:
    import re
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _port = parts.port  # raises for a port that is not one
        host = parts.hostname or ""
    except ValueError as err:
        _fail_usage(f"{url!r} is not a usable URL ({err}); give the repository's OAI-PMH base "
                    "URL, e.g. https://example.org/oai")
    if parts.scheme not in ("http", "https") or not host:
        _fail_usage(f"{url!r} is not an http(s) URL; give the repository's OAI-PMH base URL, "
                    "e.g. https://example.org/oai")
    if not re.fullmatch(r"[^\s/?#@]+", host):
        _fail_usage(f"{url!r}: the host {host!r} is not a host name or address")


def _probe(url: str, timeout: float, *, sets: bool = True, formats: bool = True,
           sample: bool = True) -> Any:
    from dataclasses import replace

    from eduxchange.harvesting import probe

    _check_url(url)
    return probe.probe_endpoint(url, settings=replace(probe.PROBE_SETTINGS, timeout=timeout),
                                sets=sets, formats=formats, sample=sample)


def _finish(report: Any, as_json: bool, show: Any) -> None:
    """Print a probe report (JSON or as ``show`` draws it), its error, and exit 0 or 1."""
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        console = _out()
        if report.identify is not None:
            show(console, report)
        for note in report.notes:
            _say(console, f"[yellow]note[/yellow]: {escape(note)}")
    if report.error is not None:
        _say(_err(), f"eduxchange: error: {escape(report.error)}")
    sys.exit(EXIT_OK if report.ok else EXIT_FAILED)


def _show_identify(console: Console, report: Any) -> None:
    info = report.identify
    granularity = info.granularity + (" (days)" if info.day_granular else " (seconds)")
    table = Table(show_header=False, box=None, pad_edge=False, title_justify="left",
                  title=f"Identify {report.endpoint}")
    table.add_column("key", no_wrap=True, style="bold")
    table.add_column("value", overflow="fold")
    for key, value in (("repository", info.repository_name), ("base URL", info.base_url),
                       ("protocol", info.protocol_version), ("granularity", granularity),
                       ("deletedRecord", _DELETED.get(info.deleted_record, info.deleted_record)),
                       ("earliest", info.earliest_datestamp),
                       ("admin", ", ".join(info.admin_emails) or "-")):
        table.add_row(key, escape(value or "-"))
    console.print(table)


def _show_formats(console: Console, report: Any) -> None:
    from eduxchange.harvesting.formats import identify_format

    if not report.formats:
        return
    table = Table(title="Metadata formats", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("", no_wrap=True)
    table.add_column("prefix", overflow="fold")
    table.add_column("read as", no_wrap=True)
    table.add_column("namespace", overflow="fold", ratio=1)
    for fmt in report.formats:
        known = identify_format(fmt)
        table.add_row("[green]*" if fmt == report.chosen else "", escape(fmt.prefix),
                      known.name if known else "[dim]unknown", escape(fmt.namespace or "-"))
    console.print(table)
    if report.chosen is not None:
        _say(console, f"* eduxchange would harvest [bold]{escape(report.chosen.prefix)}[/bold] "
                      "(the richest format it reads; set metadata_prefix to choose another)")


def _show_sets(console: Console, report: Any, *, limit: int | None = None) -> None:
    if report.sets is None:
        return
    shown = report.sets if limit is None else report.sets[:limit]
    table = Table(title=f"Sets ({len(report.sets)}{'+' if report.sets_truncated else ''})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  collapse_padding=True)
    table.add_column("setSpec", overflow="fold", ratio=1)
    table.add_column("name", overflow="fold", ratio=2)
    for s in shown:
        table.add_row(escape(s.spec), escape(s.name))
    console.print(table)
    if len(shown) < len(report.sets):
        _say(console, f"... and {len(report.sets) - len(shown)} more "
                      f"(`eduxchange sets {escape(report.endpoint)}` lists them all)")


def _show_sample(console: Console, report: Any) -> None:
    sample = report.sample
    if sample is None:
        return
    state = "[green]valid" if not sample.problems else "[red]would be quarantined"
    _say(console, f"\nSample record [bold]{escape(sample.identifier)}[/bold] "
                  f"({escape(sample.metadata_prefix)}, read as {escape(sample.format)}): {state}")
    for problem in sample.problems:
        _say(console, f"  [red]problem[/red]: {escape(problem)}")
    for field_, value, note in sample.unmapped[:10]:
        _say(console, f"  [yellow]unmapped[/yellow] {escape(field_)}: {escape(value)} "
                      f"{escape(note)}")
    if sample.description is not None:
        # The normalized form as JSON, not a table: long values are the terminal's to wrap.
        console.file.flush()
        click.echo(json.dumps(sample.description, indent=2, ensure_ascii=False))


@main.command()
@click.argument("url")
@timeout_option
@click.option("--sample/--no-sample", default=True, show_default=True,
              help="Also fetch the first ListRecords page and normalize one record.")
@json_option
def identify(url: str, timeout: float, sample: bool, as_json: bool) -> None:
    """Look at an OAI-PMH endpoint, without a config: what a member would be harvested as.

    Prints Identify (granularity, deletedRecord policy, earliest datestamp), the metadata
    formats with the one eduxchange would choose, the sets, and one sample record in the
    normalized form a harvest would give it. Exit 0 when it answers, 1 when it cannot be
    reached or is not OAI-PMH, 2 for a URL that is not http(s).
    """
    report = _probe(url, timeout, sample=sample)

    def show(console: Console, r: Any) -> None:
        _show_identify(console, r)
        _show_formats(console, r)
        _show_sets(console, r, limit=20)
        _show_sample(console, r)

    _finish(report, as_json, show)


@main.command()
@click.argument("url")
@timeout_option
@json_option
def formats(url: str, timeout: float, as_json: bool) -> None:
    """List the metadata formats an OAI-PMH endpoint offers, and the one eduxchange would choose."""
    report = _probe(url, timeout, sets=False, sample=False)
    _finish(report, as_json, _show_formats)


@main.command(name="sets")
@click.argument("url")
@timeout_option
@json_option
def sets_(url: str, timeout: float, as_json: bool) -> None:
    """List the sets of an OAI-PMH endpoint (the setSpecs a member's `sets` may name)."""
    report = _probe(url, timeout, formats=False, sample=False)
    _finish(report, as_json, _show_sets)


@main.command()
@config_option
@click.option("--member", "-m", "endpoints", multiple=True, required=True, metavar="URL",
              help="A member's OAI-PMH base URL (repeatable); each is identified.")
@click.option("--base-uri", default="https://catalog.example.org/", show_default=True,
              help="The base of the catalogue's IRIs ([catalog] base_uri).")
@click.option("--force", is_flag=True, help="Overwrite the config file if it exists.")
@timeout_option
@json_option
def init(config_path: str, endpoints: tuple[str, ...], base_uri: str, force: bool,
         timeout: float, as_json: bool) -> None:
    """Write a commented alliance config for the members at these OAI-PMH URLs.

    Each member is identified: its id comes from its repositoryName (an acronym in
    parentheses) or its host, and the metadata_prefix eduxchange would choose is written
    in. A member that cannot be reached is written disabled, with the reason (exit 1).
    An existing file is kept unless --force is given (exit 2).
    """
    from dataclasses import replace
    from pathlib import Path

    from eduxchange.harvesting import probe

    path = Path(config_path)
    if path.exists() and not force:
        _fail_usage(f"{path} exists; nothing was written (give --force to overwrite it, or "
                    "--config to write another file)")
    if not base_uri.startswith(("http://", "https://")):
        _fail_usage(f"--base-uri must be an http(s) URL, got {base_uri!r}")
    for url in endpoints:
        _check_url(url)
    text, reports = probe.init_config(
        list(endpoints), base_uri=base_uri if base_uri.endswith("/") else base_uri + "/",
        settings=replace(probe.PROBE_SETTINGS, timeout=timeout))
    try:
        eduxchange.parse_config(tomllib.loads(text), path=path)
    except ConfigError as bad:  # pragma: no cover (a bug of init_config)
        _fail_usage(f"internal error: the config written would not load: {bad}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    failed = [r for r in reports if not r.ok]
    if as_json:
        click.echo(json.dumps({"config": str(path), "members": [r.to_dict() for r in reports]},
                              indent=2, ensure_ascii=False))
    else:
        err_console = _err()
        for r in failed:
            _say(err_console, f"[red]not identified[/red]: {escape(r.error or '')}")
        _say(_out(), f"Wrote {escape(str(path))} with {len(reports)} member(s)"
                     + (f", {len(failed)} disabled (not identified)" if failed else "")
                     + f". Next: `eduxchange check -c {escape(str(path))}`.")
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


@main.command()
@config_option
@click.option("--member", "-m", "members", multiple=True, metavar="ID",
              help="Check only this member (repeatable). Default: every enabled member.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds to wait for each response (default: each member's timeout).")
@json_option
def check(config_path: str, members: tuple[str, ...], timeout: float | None,
          as_json: bool) -> None:
    """Validate the config and probe each member before harvesting.

    For each member: Identify answers, the configured metadata_prefix is offered (or one
    eduxchange can read, when none is configured), and the configured sets exist.
    Exit 0 when every member passes, 1 when any fails a probe, 2 for config errors.
    """
    from eduxchange.harvesting import probe

    config = _load(config_path)
    try:
        chosen = eduxchange.pipeline.select_members(config, members or None)
    except ConfigError as err:
        _fail_usage(str(err))
    results = probe.check_members(config, [m.id for m in chosen], timeout=timeout)
    if as_json:
        click.echo(json.dumps({"config": str(config.path),
                               "members": [r.to_dict() for r in results]},
                              indent=2, ensure_ascii=False))
    else:
        console = _out()

        def build(dropped: set[str]) -> Table:
            table = Table(title=f"Check of {config.path}", title_justify="left",
                          box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                          collapse_padding=True)
            table.add_column("member", overflow="fold", min_width=8)
            table.add_column("probe", no_wrap=True)
            table.add_column("format", overflow="fold")
            if "sets" not in dropped:
                table.add_column("sets", justify="right", no_wrap=True)
            if "repository" not in dropped:
                table.add_column("repository", overflow="fold", ratio=1, min_width=12)
            for r in results:
                fmt = "-" if r.metadata_prefix is None else (
                    escape(r.metadata_prefix) + ("" if r.prefix_configured else " (chosen)"))
                table.add_row(escape(r.member_id), "[green]ok" if r.ok else "[red]failed", fmt,
                              *([] if "sets" in dropped else [str(len(r.sets))]),
                              *([] if "repository" in dropped
                                else [escape(r.repository_name or "-")]))
            return table

        table, _dropped = _fit(console, build, ["sets", "repository"])
        console.print(table)
        for r in results:
            for problem in r.problems:
                _say(console, f"[red]{escape(r.member_id)}[/red]: {escape(problem)}")
            for note in r.notes:
                _say(console, f"[yellow]{escape(r.member_id)}[/yellow]: note: {escape(note)}")
        failed = sum(not r.ok for r in results)
        _say(console, f"{len(results) - failed} of {len(results)} member(s) passed"
                      + ("." if not failed else "; fix the config or the member, then check again."))
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)



@main.command()
@config_option
@click.option("--member", "-m", "members", metavar="ID", multiple=True,
              help="Only this member (repeatable; default: every enabled member).")
@click.option("--format", "-f", "format_", type=click.Choice(["html", "csv", "json"]),
              default="html", show_default=True,
              help="html: the page with charts (and, with -o, the mapping table of unmapped "
                   "values as ID-mappings.tsv); csv: the per-field warnings; json: for scripts.")
@click.option("--output", "-o", "output", metavar="DIR", type=click.Path(file_okay=False),
              help="Write one file per member into DIR (default: stdout, one member for html "
                   "and csv).")
@click.option("--lang", "lang", metavar="LANG", default=None,
              help="Interface language of the html page: en (default), fr, es, ru, zh, ar or "
                   "de. csv and json are always English, for scripts.")
def report(config_path: str, members: tuple[str, ...], format_: str, output: str | None,
           lang: str | None) -> None:
    """Quality reports for members: counts, quarantine reasons, completeness, unmapped values.

    Each report's key figures are kept in the store under the member's latest run, so the
    next report shows how they changed.
    """
    from pathlib import Path

    from eduxchange.publish import report as reports

    if lang is not None and format_ != "html":
        _fail_usage(f"--lang applies to --format html only; {format_} stays English, for scripts")
    if lang is not None and lang not in reports.MESSAGES:
        _fail_usage(f"--lang {lang}: no interface text in that language; choose one of "
                    + ", ".join(reports.MESSAGES))
    page_lang = lang or "en"
    config = _load(config_path)
    _no_catalogue_yet(config)
    try:
        chosen = eduxchange.pipeline.select_members(config, members or None)
    except ConfigError as err:
        _fail_usage(str(err))
    if output is None and format_ != "json" and len(chosen) != 1:
        _fail_usage(f"--format {format_} on stdout takes one member: add --member ID, or "
                    "write every member's report into a directory with -o DIR")
    out_dir = Path(output) if output else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    documents: list[dict[str, object]] = []
    try:
        with eduxchange.open_store(config) as store:
            for member in chosen:
                # Concept and licence-openness labels in the page's language (html only).
                made = reports.member_report(store, member,
                                             lang=page_lang if format_ == "html" else "en")
                reports.save_snapshot(store, made)
                if format_ == "json":
                    documents.append(made.to_dict())
                    if out_dir is not None:
                        (out_dir / f"{member.id}.json").write_text(
                            json.dumps(made.to_dict(), indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
                elif format_ == "csv":
                    if out_dir is None:
                        reports.write_warnings_csv(store, member, sys.stdout)
                    else:
                        with open(out_dir / f"{member.id}-warnings.csv", "w", encoding="utf-8",
                                  newline="") as fh:
                            reports.write_warnings_csv(store, member, fh)
                elif out_dir is None:
                    click.echo(reports.render_html(made, page_lang), nl=False)
                else:
                    (out_dir / f"{member.id}.html").write_text(
                        reports.render_html(made, page_lang), encoding="utf-8")
                    (out_dir / f"{member.id}-mappings.tsv").write_text(
                        reports.mapping_tsv(made), encoding="utf-8")
                if out_dir is not None:
                    t = made.totals
                    click.echo(f"{member.id}: {t['attempted']} attempted, {t['normalized']} "
                               f"normalized, {t['quarantined']} quarantined, "
                               f"{len(made.unmapped)} unmapped values", err=True)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    if format_ == "json" and out_dir is None:
        click.echo(json.dumps({"reports": documents}, indent=2, ensure_ascii=False))
    elif out_dir is not None:
        click.echo(f"Wrote {len(chosen)} report(s) to {out_dir}", err=True)


@main.command()
@_config_file_option
@click.option("--to", "to", required=True, metavar="URL|PATH",
              help="The store to copy into: postgresql://user@host/dbname (password in "
                   "EDUXCHANGE_STORE_PASSWORD or PGPASSWORD), or a SQLite file.")
@click.option("--from", "from_", metavar="PATH|URL",
              help="The store to copy. Default: the config's [catalog] store.")
@click.option("--replace", "--force", "replace", is_flag=True,
              help="Replace what the target holds (deleted in the copy's transaction).")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows read and written at a time.")
@json_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def migrate(config_path: str, to: str, from_: str | None, replace: bool, batch_size: int,
            as_json: bool, quiet: bool) -> None:
    """Copy a catalogue into another store, losslessly: e.g. SQLite into PostgreSQL.

    Everything is copied (raw records, descriptions, catalogue records and their IRIs, the
    change sequences, quarantine, harvest state, runs and events, report snapshots, the
    resumption-token key and repositoryIdentifier, pre-rendered metadata): the target then
    serves the same OAI-PMH responses, resumption tokens and feed pages. The copy is one
    transaction of the target: on any failure it holds nothing of it. No harvest may run on
    either store meanwhile (their harvest locks are held).

    Exit codes: 0 copied, 1 the copy failed (nothing written), 2 usage or configuration error
    (a target that is not empty without --replace), 3 a harvest holds a lock (try again later).
    """
    from eduxchange.pipeline import migrate_store, store_dump_counts
    from eduxchange.store.dump import TargetNotEmpty

    source = from_ if from_ is not None else _load(config_path).catalog.location
    err_console = _err()
    show = not (quiet or as_json) and err_console.is_terminal
    try:
        totals = store_dump_counts(source)
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    started = time.monotonic()
    try:
        with _migrate_progress(err_console, sum(totals.values()), enabled=show) as on_batch:
            summary = migrate_store(source, to, replace=replace, batch_size=batch_size,
                                    progress=on_batch)
    except TargetNotEmpty as err:
        _fail_usage(f"{err}. Nothing was copied. To overwrite it, run the command again with "
                    "--replace; or name an empty database or schema "
                    "(postgresql://.../dbname?schema=catalogue)")
    except StoreLocked as err:
        click.echo(f"eduxchange: {err}", err=True)
        sys.exit(EXIT_BUSY)
    except ConfigError as err:
        _fail_usage(str(err))
    except StoreError as err:
        click.echo(f"eduxchange: error: the copy failed, nothing was written to {to}: {err}",
                   err=True)
        sys.exit(EXIT_FAILED)
    seconds = round(time.monotonic() - started, 2)
    if as_json:
        click.echo(json.dumps({"from": source, "to": to, **summary.to_dict(),
                               "seconds": seconds}))
        return
    out = _out()
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.rows.items():
        table.add_row(name, str(count))
    out.print(table)
    sequences = ", ".join(f"{k} {v}" for k, v in summary.sequences.items())
    _say(out, f"Copied {summary.total} rows from {escape(source)} to {escape(to)} in "
              f"{seconds} s ({sequences}). Use it with [catalog] store = \"{escape(to)}\" "
              "or --store.")


@contextmanager
def _migrate_progress(console: Console, total: int, *, enabled: bool) -> Iterator[Any]:
    """One progress bar over every row copied; a no-op callback without a terminal."""
    if not enabled:
        yield None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.fields[table]:<15}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("", total=total or None, table="")

        def on_batch(table: str, rows: int) -> None:
            bar.update(task, advance=rows, table=table)

        yield on_batch


if __name__ == "__main__":  # pragma: no cover
    main()
