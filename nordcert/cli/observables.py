"""CLI: screening lookup, warninglists and rebuilding the observable index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from nordcert.accounts import service as accounts
from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.observables import reindex as reindexing
from nordcert.observables import service, warninglist_store
from nordcert.observables.warninglists import default_lists_dir

warninglist_app = typer.Typer(help="Warninglists: known-good values flagged instead of alerted on.",
                              no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
    app.command("reindex")(reindex)
    app.add_typer(warninglist_app, name="warninglist")


def lookup(
    ctx: typer.Context,
    values: Annotated[Optional[list[str]], typer.Argument(help="Values to screen; their kind is detected.")] = None,  # noqa: UP045
    as_email: Annotated[str, typer.Option("--as", help="The user asking: answers show what they may see.")] = "",
    file: Annotated[Optional[Path], typer.Option("--file", help="A file of values, one per line ('-' for stdin).")] = None,  # noqa: UP045
    kind: Annotated[Optional[str], typer.Option("--kind", help="The kind of every value, instead of detecting it.")] = None,  # noqa: UP045
    subdomains: Annotated[bool, typer.Option("--subdomains", help="Domains also match reported parents.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen values against the intel the user may see (IPs, domains, URLs, hashes, IBANs, phones, ...)."""
    if not as_email:
        raise Invalid("give the user asking with --as EMAIL")
    items: list[str] = list(values or [])
    if file is not None:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        items.extend(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    if not items:
        raise Invalid("give values to look up, or --file")
    settings = settings_of(ctx)
    with transaction(engine_of(ctx), write=False) as conn:
        reader = accounts.reader_for(conn, as_email)
        asked: list[Any] = [{"kind": kind, "value": v} for v in items] if kind else items
        answer = service.lookup(conn, reader, settings, asked, subdomains=subdomains)
    if as_json:
        emit_json(answer)
        return
    table = Table(header_style="bold")
    for col in ("value", "kind", "found", "members", "objects", "warninglists"):
        table.add_column(col)
    for r in answer["results"]:
        if "error" in r:
            table.add_row(str(r["input"]), "", "[red]error[/]", "", r["error"], "")
            continue
        objects = "; ".join(f"{m['type']} {m['name'] or m['id']} ({m['tlp']}, {m['creator']}"
                            f"{', stale' if m['stale'] else ''})" for m in r["matches"][:3])
        if len(r["matches"]) > 3:
            objects += f"; … {len(r['matches']) - 3} more"
        table.add_row(r["value"], r["kind"], "[bold red]yes[/]" if r["found"] else "no",
                      str(r["reporting_members"]), objects, ", ".join(r["warninglists"]))
    console.print(table)
    s = answer["summary"]
    console.print(f"{s['values']} values, {s['matched']} matched, {s['errors']} errors")


def reindex(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Rebuild the observable and sighting indexes from the stored objects (after an upgrade or rule change)."""
    settings = settings_of(ctx)
    with transaction(engine_of(ctx)) as conn:
        total = reindexing.count(conn)
        if as_json:
            result = reindexing.rebuild(conn, settings)
        else:
            with Progress(TextColumn("[bold blue]reindexing"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=console) as progress:
                task = progress.add_task("reindex", total=total)
                result = reindexing.rebuild(conn, settings, on_progress=lambda n: progress.update(task, completed=n))
    if as_json:
        emit_json(result)
    else:
        console.print(f"{result['objects']:,} objects, {result['observables']:,} observables, "
                      f"{result['sightings']:,} sightings indexed; {result['warnings']:,} values not indexed")


@warninglist_app.command("load")
def wl_load(
    ctx: typer.Context,
    paths: Annotated[Optional[list[Path]], typer.Argument(help="list.json files or folders of <name>/list.json; "  # noqa: UP045
                                                          "default: the lists shipped with nordcert.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load (or update, by name) warninglists in the MISP warninglist format."""
    with transaction(engine_of(ctx)) as conn:
        loaded = warninglist_store.load(conn, paths or [default_lists_dir()])
    emit(loaded, as_json=as_json, columns=("name", "version", "type", "kinds", "entries"),
         title=f"{len(loaded)} warninglists loaded")


@warninglist_app.command("list")
def wl_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The warninglists and whether they are enabled."""
    with transaction(engine_of(ctx), write=False) as conn:
        rows = warninglist_store.list_all(conn)
    emit(rows, as_json=as_json, columns=("name", "type", "kinds", "entries", "enabled"))


@warninglist_app.command("enable")
def wl_enable(ctx: typer.Context, name: str) -> None:
    """Enable a warninglist."""
    with transaction(engine_of(ctx)) as conn:
        warninglist_store.set_enabled(conn, name, True)
    console.print(f"enabled {name}")


@warninglist_app.command("disable")
def wl_disable(ctx: typer.Context, name: str) -> None:
    """Disable a warninglist: its values are no longer flagged."""
    with transaction(engine_of(ctx)) as conn:
        warninglist_store.set_enabled(conn, name, False)
    console.print(f"disabled {name}")


@warninglist_app.command("remove")
def wl_remove(ctx: typer.Context, name: str) -> None:
    """Remove a warninglist."""
    with transaction(engine_of(ctx)) as conn:
        warninglist_store.remove(conn, name)
    console.print(f"removed {name}")
