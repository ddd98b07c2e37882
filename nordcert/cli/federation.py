"""CLI: federation peers (other national instances), their sync, its status, and the worker."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Annotated, Any, Optional

import orjson
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit, emit_json, err_console
from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.federation import peers, sync
from nordcert.worker import run_worker

federation_app = typer.Typer(help="Federation with other national instances: peers, sync, status.",
                             no_args_is_help=True)
peer_app = typer.Typer(help="Configure federation peers.", no_args_is_help=True)
federation_app.add_typer(peer_app, name="peer")


def register(app: typer.Typer) -> None:
    app.add_typer(federation_app, name="federation")
    app.command("worker")(worker)


NameArg = Annotated[str, typer.Argument(help="The peer's name here, e.g. 'no' or 'cert-se'.")]
Groups = Annotated[list[str], typer.Option("--group", help="A sharing group whose AMBER objects may cross to and "
                                           "from this peer (the peer's organisation joins it); repeatable.")]
TokenOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--token", help="The token the peer's operator created for this instance (to read and write there).",
    envvar="NORDCERT_PEER_TOKEN")]
MaxTlp = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--max-tlp", help="The highest TLP that crosses: clear, green or amber (AMBER+STRICT and RED never do).")]
Direction = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--direction", help="pull (fetch from the peer), push (send to it) or both.")]
Interval = Annotated[Optional[int], typer.Option("--interval", help="Seconds between syncs.")]  # noqa: UP045
Timeout = Annotated[Optional[int], typer.Option("--timeout", help="Seconds to wait for the peer.")]  # noqa: UP045

_STATUS_COLS = ("name", "instance", "crosses", "state", "last_success", "lag", "pending", "in", "out", "refused")


def _when(us: int | None) -> str:
    if not us:
        return "never"
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _table_row(p: dict[str, Any]) -> dict[str, Any]:
    lag = p.get("lag_s")
    return {**p, "crosses": " ".join([p["max_tlp"].upper(), *(f"+{g}" for g in p["groups"])]),
            "instance": f"{p['instance_name']} ({p['country']}, {p['direction']})",
            "last_success": _when(p["last_success_at"]), "lag": "" if lag is None else f"{lag:.0f} s",
            "pending": p.get("pending_out"), "in": p["objects_in"], "out": p["objects_out"],
            "refused": p["rejected_in"]}


@peer_app.command("add")
def peer_add(
    ctx: typer.Context, name: NameArg,
    url: Annotated[str, typer.Option("--url", help="The peer's TAXII discovery URL (…/taxii2/) or API root.")],
    instance: Annotated[str, typer.Option("--instance", help="The peer's instance name (its NORDCERT_INSTANCE_NAME).")],
    country: Annotated[str, typer.Option("--country", help="The peer's country (ISO 3166 alpha-2).")],
    direction: Direction = None, max_tlp: MaxTlp = None, group: Groups = [],  # noqa: B006
    token: TokenOpt = None, interval: Interval = None, timeout: Timeout = None,
    pull_collection: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--pull-collection", help="The collection to pull from (default: the peer's federation collection).")] = None,
    push_collection: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--push-collection", help="The collection to push to (default: the peer's federation collection).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a peer. Prints the token the peer's operator configures on their side (shown once)."""
    with transaction(engine_of(ctx)) as conn:
        out = peers.add_peer(conn, settings_of(ctx), name=name, url=url, instance_name=instance, country=country,
                             direction=direction or "both", max_tlp=max_tlp or "amber", groups=list(group),
                             token=token, pull_collection=pull_collection, push_collection=push_collection,
                             interval_s=interval or 300, timeout_s=timeout or 60)
    if as_json:
        emit_json(out)
        return
    emit(_table_row({**out, "lag_s": None}), as_json=False, columns=("name", "instance", "url", "crosses"))
    console.print(f"Federation collection here: {out['federation_collection']}")
    console.print("Token for the peer's operator (shown once; they run "
                  f"`nordcert federation peer add … --token …` or `peer update … --token …`):\n{out['inbound_token']}",
                  highlight=False, soft_wrap=True)
    if not out["token_set"]:
        console.print("No --token yet: add the peer's token with `nordcert federation peer update "
                      f"{out['name']} --token …` before the first sync.")


@peer_app.command("update")
def peer_update(
    ctx: typer.Context, name: NameArg,
    url: Annotated[Optional[str], typer.Option("--url", help="A new URL.")] = None,  # noqa: UP045
    token: TokenOpt = None, direction: Direction = None, max_tlp: MaxTlp = None,
    add_group: Annotated[list[str], typer.Option("--add-group", help="Let a group's AMBER cross too.")] = [],  # noqa: B006
    remove_group: Annotated[list[str], typer.Option("--remove-group", help="Stop a group's AMBER crossing.")] = [],  # noqa: B006
    enabled: Annotated[Optional[bool], typer.Option("--enable/--disable", help="Sync or pause.")] = None,  # noqa: UP045
    interval: Interval = None, timeout: Timeout = None, as_json: JsonOpt = False,
) -> None:
    """Change a peer's configuration (its checkpoints and counts stay)."""
    with transaction(engine_of(ctx)) as conn:
        out = peers.update_peer(conn, name, url=url, token=token, direction=direction, max_tlp=max_tlp,
                                add_groups=list(add_group), remove_groups=list(remove_group), enabled=enabled,
                                interval_s=interval, timeout_s=timeout)
    emit(out if as_json else _table_row({**out, "lag_s": None}), as_json=as_json,
         columns=("name", "instance", "url", "crosses", "enabled", "token_set"))


@peer_app.command("remove")
def peer_remove(ctx: typer.Context, name: NameArg, as_json: JsonOpt = False) -> None:
    """Stop federating with a peer; what it sent stays, with its provenance."""
    with transaction(engine_of(ctx)) as conn:
        out = peers.remove_peer(conn, name)
    emit(out, as_json=as_json)


@federation_app.command("status")
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Per peer: state, last success, lag, objects in and out, refusals and the last error."""
    with transaction(engine_of(ctx), write=False) as conn:
        rows = peers.status(conn)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("No peers yet: nordcert federation peer add NAME --url URL --instance NAME --country CC")
        return
    emit([_table_row(r) for r in rows], as_json=False, columns=_STATUS_COLS, title="Federation peers")
    for r in rows:
        if r["last_error"]:
            failing = f"{r['failures']} failed in a row, " if r["failures"] else ""
            console.print(f"[red]{r['name']}[/]: {failing}last error {_when(r['last_error_at'])}: {r['last_error']}",
                          highlight=False, soft_wrap=True)

@federation_app.command("sync")
def sync_now(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="The peer (default: every enabled peer).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """Sync with a peer now (pull and/or push, incremental); exit code 1 if any sync failed."""
    engine, settings = engine_of(ctx), settings_of(ctx)
    with transaction(engine, write=False) as conn:
        names = [name] if name else [p.name for p in peers.all_peers(conn) if p.enabled]
    if not names:
        raise Invalid("no enabled peers: add one with `nordcert federation peer add`")
    results = []
    with Progress(SpinnerColumn(), TextColumn("[bold blue]{task.description}"),
                  TextColumn("{task.fields[inbound]:,} in · {task.fields[outbound]:,} out"), console=err_console,
                  disable=as_json) as progress:
        for n in names:
            task = progress.add_task(f"sync {n}", total=None, inbound=0, outbound=0)

            def advance(direction: str, count: int, task: Any = task) -> None:
                field = "inbound" if direction == "in" else "outbound"
                progress.update(task, **{field: progress.tasks[task].fields[field] + count})

            results.append(sync.sync_peer(engine, settings, n, on_progress=advance))
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        for r in results:
            got = r.received
            line = (f"{r.peer}: {got['created'] + got['updated']} stored, {got['unchanged']} already here, "
                    f"{got['rejected']} refused; {r.sent} sent ({r.seconds:.1f} s)")
            console.print(("[green]ok[/] " if r.ok else "[red]failed[/] ") + line, highlight=False)
            if r.error:
                console.print(f"  {r.error}", highlight=False)
    if not all(r.ok for r in results):
        sys.exit(1)


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Sync the peers that are due, then exit.")] = False,
    tick: Annotated[float, typer.Option("--tick", help="Seconds between looks for due work.")] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Run the background work (federation sync on each peer's schedule) until stopped."""
    engine, settings = engine_of(ctx), settings_of(ctx)
    stop = threading.Event()
    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        err_console.print(f"worker {sync.worker_id()}: syncing federation peers; Ctrl-C stops")

    def report(r: sync.SyncResult) -> None:
        if as_json:
            sys.stdout.write(orjson.dumps(r.as_dict()).decode() + "\n")
            sys.stdout.flush()
        else:
            state = "ok" if r.ok else f"failed: {r.error}"
            console.print(f"{_when(now_us())} {r.peer}: "
                          f"{r.received['created'] + r.received['updated']} in, {r.sent} out, {state}", highlight=False)

    results = run_worker(engine, settings, once=once, tick_s=tick, stop=stop, on_result=report)
    if once and any(not r.ok for r in results):
        sys.exit(1)
