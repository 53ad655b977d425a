"""The ``eduxchange`` command: a thin shell over the library.

It parses arguments, calls :mod:`eduxchange`, and shows the results. Exit codes:
0 everything succeeded, 1 a member failed (the others still completed),
2 usage or configuration error, 3 busy: another harvest holds the store's lock
(nothing was done; try again later).
"""

from __future__ import annotations

import json
import sys
import threading
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
from rich.table import Table

import eduxchange
from eduxchange.config import DEFAULT_CONFIG
from eduxchange.errors import ConfigError, StoreError, StoreLocked
from eduxchange.harvester import ProgressEvent
from eduxchange.store.base import SEVERITIES, EventInfo
from eduxchange.vocab import VocabularyError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

config_option = click.option(
    "--config", "-c", "config_path", default=DEFAULT_CONFIG, show_default=True,
    type=click.Path(dir_okay=False), help="The alliance config file (TOML).",
)
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print machine-readable JSON on stdout instead of a table.")


def _out() -> Console:
    """stdout; tables are not squeezed into 80 columns when piped to a file."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _fail_usage(message: str) -> None:
    click.echo(f"eduxchange: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _load(config_path: str) -> eduxchange.Config:
    try:
        return eduxchange.load_config(config_path)
    except ConfigError as err:
        _fail_usage(str(err))
        raise  # unreachable


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(eduxchange.__version__, prog_name="eduxchange")
def main() -> None:
    """Harvest, normalize and republish open educational resource metadata.

    Alliance members publish their catalogues over OAI-PMH; eduxchange harvests
    them into one local catalogue store, described in a config file
    (default ./alliance.toml; see the README for an example).
    """


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
@json_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def harvest(config_path: str, members: tuple[str, ...], full: bool, reconcile: bool | None,
            no_normalize: bool, as_json: bool, quiet: bool) -> None:
    """Harvest alliance members into the catalogue store.

    Incremental by default: only what changed since the last successful harvest
    is fetched, and an interrupted harvest resumes where it stopped. Exit 0 when
    every member succeeded, 1 when any failed (the others still complete), 2 for
    usage or configuration errors, 3 when another harvest of the same store is
    running (its pid and start time are shown; nothing is done).
    """
    config = _load(config_path)
    try:
        chosen = eduxchange.pipeline.select_members(config, members or None)
    except ConfigError as err:
        _fail_usage(str(err))
    err_console = Console(stderr=True)
    show_progress = not (quiet or as_json) and err_console.is_terminal
    try:
        with _progress(err_console, [m.id for m in chosen], enabled=show_progress) as on_event:
            results = eduxchange.harvest(config, members=[m.id for m in chosen], full=full,
                                         reconcile=reconcile, progress=on_event,
                                         normalize=not no_normalize)
    except StoreLocked as err:
        click.echo(f"eduxchange: {err}", err=True)
        sys.exit(EXIT_BUSY)
    except (StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2))
    else:
        _summary(_out(), results)
        for r in results:
            if r.error:
                err_console.print(f"[red]{r.member_id}[/red]: {escape(r.error)}", highlight=False)
    sys.exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)


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


def _summary(console: Console, results: list[eduxchange.HarvestResult]) -> None:
    table = Table(title="Harvest summary", title_justify="left")
    table.add_column("member", no_wrap=True)
    for column in ("state", "mode", "format"):
        table.add_column(column, no_wrap=True)
    for column in ("new", "updated", "unchanged", "deleted", "retired", "quarantined", "pages",
                   "time"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("catalogue (+ ~ - !)", justify="right", no_wrap=True)
    for r in results:
        state = "[green]ok" if r.ok else "[red]failed"
        table.add_row(r.member_id, state, r.mode, r.metadata_prefix or "-", str(r.new),
                      str(r.updated), str(r.unchanged), str(r.deleted), str(r.retired),
                      str(r.quarantined), str(r.pages), f"{r.seconds:.1f}s",
                      _catalogue_cell(r.normalization))
    console.print(table)


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
@json_option
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def normalize(config_path: str, members: tuple[str, ...], all_: bool, as_json: bool,
              quiet: bool) -> None:
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
                                           progress=on_event)
    except (ConfigError, StoreError, VocabularyError) as err:
        _fail_usage(str(err))
    failed = [r for r in results if r.error is not None]
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2,
                              ensure_ascii=False))
        if failed:
            sys.exit(EXIT_FAILED)
        return
    table = Table(title="Normalization", title_justify="left")
    for column in ("member", "processed", "created", "updated", "unchanged", "removed",
                   "quarantined", "time"):
        table.add_column(column, justify="left" if column == "member" else "right", no_wrap=True)
    for r in results:
        table.add_row(r.member_id, str(r.processed), str(r.created), str(r.updated),
                      str(r.unchanged), str(r.removed),
                      f"[red]{r.quarantined}" if r.quarantined else "0", f"{r.seconds:.1f}s")
    _out().print(table)
    for r in results:
        if r.unmapped:
            worst = sorted(r.unmapped.items(), key=lambda kv: -kv[1])[:5]
            top = ", ".join(f"{k} ({v})" for k, v in worst)
            err_console.print(f"{r.member_id}: values with no concept yet: {top}", highlight=False)
    for r in failed:  # the other members were normalized all the same
        err_console.print(f"{r.member_id}: {r.error}", highlight=False, markup=False)
    if failed:
        sys.exit(EXIT_FAILED)


@main.command()
@config_option
@click.option("--format", "-f", "format_",
              type=click.Choice(["ndjson", "jsonld", "turtle", "ntriples", "rdfxml"]),
              default="ndjson", show_default=True,
              help="ndjson: one common record per line; jsonld: one document with the context "
                   "inline; turtle, ntriples, rdfxml: RDF.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (default: stdout).")
@click.option("--since", metavar="ISO", help="Only records changed at or after this date(-time).")
@click.option("--member", "-m", "member", metavar="ID", help="Only records this member describes.")
@click.option("--vocabularies", is_flag=True,
              help="Export the SKOS vocabularies the records' concepts come from, instead of "
                   "the records (turtle, ntriples, rdfxml or jsonld).")
def export(config_path: str, format_: str, output: str | None, since: str | None,
           member: str | None, vocabularies: bool) -> None:
    """Export the unified catalogue, streamed in constant memory.

    Every dump reads offline: the JSON-LD one carries its context inline, concept labels
    come with --vocabularies.
    """
    if vocabularies:
        if format_ == "ndjson":
            _fail_usage("--vocabularies needs an RDF format: --format turtle, ntriples, rdfxml "
                        "or jsonld")
        _write_out(output, lambda fh: eduxchange.export.export_vocabularies(fh, format=format_))
        return
    config = _load(config_path)
    if since:
        try:
            eduxchange.dates.parse_datestamp(since)
        except ValueError:
            _fail_usage(f"--since {since!r} is not an ISO 8601 date or date-time "
                        "(e.g. 2024-01-31 or 2024-01-31T12:00:00Z)")
    if not config.catalog.store.exists():
        _fail_usage(f"no catalogue yet at {config.catalog.store}; run `eduxchange harvest` first")
    try:
        with eduxchange.open_store(config) as store:
            count = _write_out(output, lambda fh: eduxchange.export.export(
                config, store, fh, format=format_, since=since, member=member))
    except (ConfigError, StoreError) as err:
        _fail_usage(str(err))
    if output:
        click.echo(f"Wrote {count} records to {output}.", err=True)


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
def serve(config_path: str, host: str, port: int, public_url: str | None) -> None:
    """Serve the unified catalogue: OAI-PMH at /oai, a change feed at /changes, records at
    /resources/{id} (JSON-LD, Turtle, N-Triples, RDF/XML), vocabularies at /vocabularies/.

    Read-only: nothing from the network changes the catalogue. Stop with Ctrl-C.
    """
    config = _load(config_path)
    if not config.catalog.store.exists():
        _fail_usage(f"no catalogue yet at {config.catalog.store}; run `eduxchange harvest` first")
    if public_url and not public_url.startswith(("http://", "https://")):
        _fail_usage(f"--public-url must be an http(s) URL, got {public_url!r}")
    _serve(config, host, port, public_url=public_url)


def _serve(config: eduxchange.Config, host: str, port: int, *, example: str | None = None,
           public_url: str | None = None) -> None:
    from eduxchange import server

    def ready(info: server.ServerInfo) -> None:
        click.echo(info.describe())
        if example:
            click.echo(f"  for example  {info.url}resources/{example}")
        click.echo("Press Ctrl-C to stop.")

    try:
        server.serve(config, host, port, ready=ready, public_url=public_url)
    except (ConfigError, StoreError) as err:  # e.g. no [feed] admin_email
        _fail_usage(str(err))
    except OSError as err:
        _fail_usage(f"cannot listen on {host}:{port}: {err.strerror or err} "
                    "(choose another --port)")
    click.echo("Stopped.", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to serve the catalogue on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to serve the catalogue on (0: any free port).")
@click.option("--workdir", default="eduxchange-demo", show_default=True,
              type=click.Path(file_okay=False), help="Where the demo writes its config and catalogue.")
@click.option("--no-serve", is_flag=True, help="Harvest and normalize, then stop (no server).")
def demo(host: str, port: int, workdir: str, no_serve: bool) -> None:
    """Run a whole sample alliance on this machine and serve its unified catalogue.

    Starts three sample members on loopback (pyoai's OAI-PMH server with bundled records in
    IEEE LOM, IMS MD 1.2 and oai_dc, in six languages, overlapping), harvests and normalizes
    them into WORKDIR/catalog.sqlite, then serves the catalogue and prints the URLs to open.
    """
    from pathlib import Path

    from eduxchange.demo import demo_alliance

    err_console = Console(stderr=True)
    base = f"http://{host}:{port}/" if port else f"http://{host}/"

    def started(members: list[Any]) -> None:
        for m in members:
            err_console.print(f"sample member [bold]{m.id}[/bold] ({m.name}) at {m.url}",
                              highlight=False)

    with demo_alliance(Path(workdir), base_uri=base, on_members=started) as config:
        show = err_console.is_terminal
        with _progress(err_console, [m.id for m in config.members], enabled=show) as on_event:
            results = eduxchange.harvest(config, progress=on_event)
        _summary(_out(), results)
        counts = eduxchange.catalogue_counts(config)
        click.echo(f"Catalogue: {counts['resources']} resources in {config.catalog.store} "
                   f"(config: {config.path})")
        if not all(r.ok for r in results):
            sys.exit(EXIT_FAILED)
        if not no_serve:
            with eduxchange.open_store(config) as store:
                first = next(store.iter_resources(), None)
            _serve(config, host, port,
                   example=first.id.rsplit("/", 1)[1] if first is not None else None)


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
    if as_json:
        click.echo(json.dumps({"members": [s.to_dict() for s in statuses],
                               "catalog": catalogue}, indent=2))
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
        table.add_row(s.id, *([s.name] if wide else []), state, str(s.records), str(s.deleted),
                      str(s.quarantined), warn, last, s.metadata_prefix or "-")
    console.print(table)
    if any(s.resumable for s in statuses):
        console.print("* resumable: the next harvest continues where the last one stopped")
    for s in statuses:
        if s.error:
            console.print(f"[red]{s.id}[/red]: {escape(s.error)}", highlight=False)
        if s.last_warning:
            w = s.last_warning
            console.print(f"[yellow]{s.id}[/yellow]: {s.warnings} warning(s) in the last run; "
                          f"latest: {escape(str(w['code']))}: {escape(str(w['message']))} "
                          f"(see `eduxchange events -m {s.id}`)", highlight=False)
    console.print(f"Catalogue: {catalogue['resources']} resources "
                  f"({catalogue['deleted']} deleted) in {config.catalog.store}")


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
    table = Table(title="Harvest log", title_justify="left")
    for column in ("run", "member", "mode", "state", "started", "new", "updated", "deleted",
                   "quarantined", "warnings", "error"):
        table.add_column(column, overflow="fold")
    for r in runs:
        c = r.counts
        table.add_row(str(r.id), r.member_id, r.mode, r.state, r.started_at,
                      str(c.get("new", "")), str(c.get("updated", "")), str(c.get("deleted", "")),
                      str(c.get("quarantined", "")), str(details[r.id][0]), r.error or "")
    out = _out()
    out.print(table)
    for r in runs:
        count, shown = details[r.id]
        if shown:
            out.print(f"run {r.id} ({escape(r.member_id)}, {r.started_at}):", highlight=False)
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
                      highlight=False)


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


if __name__ == "__main__":  # pragma: no cover
    main()
