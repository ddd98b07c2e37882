"""CLI: the resilience baseline's catalogue versions (list, export, import) and campaigns (open, close, list,
progress), on behalf of a CERT staff user (``--as``), through the same services as the API."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer

from nordcert.accounts import service as accounts
from nordcert.baseline import campaigns, catalogues
from nordcert.cli.common import JsonOpt, engine_of
from nordcert.cli.output import console, emit, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid

baseline_app = typer.Typer(help="The resilience baseline: catalogue versions and self-assessment campaigns.",
                           no_args_is_help=True)
catalogue_app = typer.Typer(help="Catalogue versions: list, export as a data file, import one.", no_args_is_help=True)
campaign_app = typer.Typer(help="Self-assessment campaigns: open, close, list, follow progress.",
                           no_args_is_help=True)
baseline_app.add_typer(catalogue_app, name="catalogue")
baseline_app.add_typer(campaign_app, name="campaign")

AsOpt = Annotated[str, typer.Option("--as", help="The user acting: CERT staff (cert_admin) for changes.")]
_VERSION_COLS = ("version", "title", "published", "based_on", "controls", "campaigns", "updated_at")
_CAMPAIGN_COLS = ("id", "name", "status", "version", "closes_at", "overdue", "closed_at")


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline")


@catalogue_app.command("list")
def catalogue_list(ctx: typer.Context, as_email: AsOpt, as_json: JsonOpt = False) -> None:
    """List the catalogue versions (drafts too, for CERT staff)."""
    with transaction(engine_of(ctx), write=False) as conn:
        found = catalogues.list_versions(conn, reader=accounts.reader_for(conn, as_email))
    emit(found, as_json=as_json, columns=_VERSION_COLS, title="Catalogue versions")


@catalogue_app.command("export")
def catalogue_export(
    ctx: typer.Context, version: Annotated[str, typer.Argument(help="The version, e.g. 2026.1.")], as_email: AsOpt,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,  # noqa: UP045
) -> None:
    """Write a version as a data file (the shape of the shipped catalogue)."""
    with transaction(engine_of(ctx), write=False) as conn:
        data = catalogues.export_version(conn, reader=accounts.reader_for(conn, as_email), version=version)
    body = orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(body)
    else:
        output.write_bytes(body)
        console.print(f"Catalogue {version} written to {output}")


@catalogue_app.command("import")
def catalogue_import(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A catalogue data file (JSON).")], as_email: AsOpt,
    publish: Annotated[bool, typer.Option("--publish", help="Publish it at once (else a draft).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a catalogue data file as a new version; every bad field is named and nothing is stored."""
    try:
        data = orjson.loads(file.read_bytes())
    except OSError as exc:
        raise Invalid(f"cannot read {file}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{file} is not JSON: {exc}") from None
    with transaction(engine_of(ctx)) as conn:
        done = catalogues.import_version(conn, reader=accounts.reader_for(conn, as_email), data=data, publish=publish)
    emit(done, as_json=as_json, columns=_VERSION_COLS)


@campaign_app.command("open")
def campaign_open(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The campaign's name.")], as_email: AsOpt,
    version: Annotated[str, typer.Option("--version", help="A published catalogue version, e.g. 2026.1.")],
    deadline: Annotated[str, typer.Option("--deadline", help="YYYY-MM-DD (the end of that day, UTC) or an ISO "
                                          "8601 time with its offset.")],
    description: Annotated[str, typer.Option("--description", help="What members are asked to do.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Open a self-assessment campaign on a published catalogue version."""
    closes_at = _deadline(deadline)
    with transaction(engine_of(ctx)) as conn:
        done = campaigns.open_campaign(conn, reader=accounts.reader_for(conn, as_email), name=name,
                                       catalogue_version=version, closes_at=closes_at, description=description)
    _emit_campaigns([done], as_json=as_json, single=True)


@campaign_app.command("close")
def campaign_close(ctx: typer.Context, campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
                   as_email: AsOpt, as_json: JsonOpt = False) -> None:
    """Close a campaign: its answers no longer change."""
    with transaction(engine_of(ctx)) as conn:
        done = campaigns.close_campaign(conn, reader=accounts.reader_for(conn, as_email), campaign_id=campaign_id)
    _emit_campaigns([done], as_json=as_json, single=True)


@campaign_app.command("list")
def campaign_list(
    ctx: typer.Context, as_email: AsOpt,
    status: Annotated[Optional[str], typer.Option("--status", help="open or closed.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """List the campaigns, open ones first."""
    with transaction(engine_of(ctx), write=False) as conn:
        found = campaigns.list_campaigns(conn, reader=accounts.reader_for(conn, as_email), status=status)
    _emit_campaigns(found, as_json=as_json)


@campaign_app.command("progress")
def campaign_progress(ctx: typer.Context, campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
                      as_email: AsOpt, as_json: JsonOpt = False) -> None:
    """Each member's state in a campaign: not started, draft (k of n answered) or submitted."""
    with transaction(engine_of(ctx), write=False) as conn:
        found = campaigns.progress(conn, reader=accounts.reader_for(conn, as_email), campaign_id=campaign_id)
    if as_json:
        emit_json(found)
        return
    rows = [{"member": m["organisation"]["name"], "type": m["organisation"]["sector_type"], "state": m["state"],
             "answered": f"{m['answered']}/{m['total']}", "updated_at": m["updated_at"],
             "submitted_at": m["submitted_at"]} for m in found["members"]]
    counts = found["counts"]
    emit(rows, as_json=False, columns=("member", "type", "state", "answered", "updated_at", "submitted_at"),
         title=f"{found['campaign']['name']}: {counts['submitted']} submitted, {counts['draft']} drafts, "
               f"{counts['not_started']} not started of {found['total_members']} members")


def _emit_campaigns(found: list[dict[str, object]], *, as_json: bool, single: bool = False) -> None:
    if as_json:
        emit_json(found[0] if single else found)
        return
    rows = [{**c, "version": c["catalogue"]["version"]} for c in found]  # type: ignore[index]
    emit(rows, as_json=False, columns=_CAMPAIGN_COLS, title=None if single else "Campaigns")


def _deadline(text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(23, 59, 59), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"--deadline {text!r} is not YYYY-MM-DD or an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise Invalid(f"--deadline {text!r} needs a time zone offset (or Z)")
    return moment
