"""CLI: TAXII collections (views over the store), and the TAXII 2.1 client (pull, push)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.progress import Progress, TextColumn

from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit, emit_json
from nordcert.db import transaction
from nordcert.errors import Invalid
from nordcert.taxii import client, collections
from nordcert.taxii.client import Credentials

collection_app = typer.Typer(help="TAXII collections: named views over the store with read/write rights.",
                             no_args_is_help=True)
_COLS = ("id", "title", "kind", "readers", "writers")


taxii_app = typer.Typer(help="TAXII 2.1 client: pull from and push to any TAXII 2.1 server.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(collection_app, name="collection")
    app.add_typer(taxii_app, name="taxii")


UrlArg = Annotated[str, typer.Argument(help="The server's discovery URL or API root URL.")]
CollectionOpt = Annotated[str, typer.Option("--collection", help="The remote collection's id.")]
AsOpt = Annotated[str, typer.Option("--as", help="The local user on whose behalf (their organisation).")]
UserOpt = Annotated[Optional[str], typer.Option("--user", help="HTTP Basic user name at the remote.")]  # noqa: UP045
PasswordOpt = Annotated[Optional[str], typer.Option("--password", help="HTTP Basic password.",  # noqa: UP045
                                                    envvar="NORDCERT_TAXII_PASSWORD")]
TokenOpt = Annotated[Optional[str], typer.Option("--token", help="Bearer token at the remote.",  # noqa: UP045
                                                 envvar="NORDCERT_TAXII_TOKEN")]


def _creds(user: str | None, password: str | None, token: str | None) -> Credentials:
    if token and user:
        raise Invalid("give either --user/--password or --token, not both")
    return Credentials(user=user, password=password, token=token)


@taxii_app.command("pull")
def taxii_pull(
    ctx: typer.Context, url: UrlArg, collection: CollectionOpt, as_email: AsOpt,
    user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    tlp: Annotated[Optional[str], typer.Option("--tlp", help="TLP for objects that carry none.")] = None,  # noqa: UP045
    group: Annotated[Optional[str], typer.Option("--group", help="Share what arrives with this group.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """Pull what a remote collection added since the last pull (checkpointed, idempotent)."""
    engine = engine_of(ctx)
    with Progress(TextColumn("[bold blue]pulling"), TextColumn("{task.completed:,} objects"), console=console,
                  disable=as_json) as progress:
        task = progress.add_task("pull", total=None)
        out = client.pull(engine, settings_of(ctx), url=url, collection_id=collection, as_email=as_email,
                          creds=_creds(user, password, token), tlp=tlp, group=group,
                          on_page=lambda n: progress.advance(task, n))
    if as_json:
        emit_json(out)
    else:
        console.print(f"{out['collection']}: {out['pages']} pages, {out['created']} created, {out['updated']} "
                      f"updated, {out['unchanged']} unchanged")


@taxii_app.command("push")
def taxii_push(
    ctx: typer.Context, url: UrlArg, collection: CollectionOpt, as_email: AsOpt,
    user: UserOpt = None, password: PasswordOpt = None, token: TokenOpt = None,
    max_tlp: Annotated[str, typer.Option("--max-tlp", help="Send objects up to this TLP (clear, green or amber); "
                                         "AMBER+STRICT and RED never leave.")] = "green",
    as_json: JsonOpt = False,
) -> None:
    """Push your organisation's objects added since the last push to a remote collection."""
    engine = engine_of(ctx)
    with Progress(TextColumn("[bold blue]pushing"), TextColumn("{task.completed:,} objects"), console=console,
                  disable=as_json) as progress:
        task = progress.add_task("push", total=None)
        out = client.push(engine, settings_of(ctx), url=url, collection_id=collection, as_email=as_email,
                          creds=_creds(user, password, token), max_tlp=max_tlp,
                          on_batch=lambda n: progress.advance(task, n))
    if as_json:
        emit_json(out)
    else:
        console.print(f"{out['collection']}: {out['sent']} objects sent")


@collection_app.command("add")
def collection_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="The collection's title, e.g. 'Sector'.")],
    kind: Annotated[str, typer.Option("--kind", help="sector (everything a reader may see), group (one sharing "
                                      "group's objects), outbox (one organisation's own objects) or fraud (objects holding an IBAN, BIC, card BIN, "
                                      "wallet or phone number).")] = "sector",
    group: Annotated[Optional[str], typer.Option("--group", help="The sharing group (kind group).")] = None,  # noqa: UP045
    org: Annotated[Optional[str], typer.Option("--org", help="The owner (kind outbox).")] = None,  # noqa: UP045
    read_all: Annotated[bool, typer.Option("--read-all", help="Every member organisation may read.")] = False,
    write_all: Annotated[bool, typer.Option("--write-all", help="Every member organisation may write.")] = False,
    reader: Annotated[list[str], typer.Option("--read", help="An organisation that may read; repeatable.")] = [],  # noqa: B006
    writer: Annotated[list[str], typer.Option("--write", help="An organisation that may write; repeatable.")] = [],  # noqa: B006
    description: Annotated[str, typer.Option("--description")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a TAXII collection."""
    with transaction(engine_of(ctx)) as conn:
        out = collections.create_collection(conn, title=title, kind=kind, group=group, organisation=org,
                                            read_all=read_all, write_all=write_all, readers=list(reader),
                                            writers=list(writer), description=description)
    emit(out, as_json=as_json, columns=_COLS)


@collection_app.command("list")
def collection_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the TAXII collections and who may read and write them."""
    with transaction(engine_of(ctx), write=False) as conn:
        rows = collections.list_all(conn)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        for key in ("readers", "writers"):
            if isinstance(r[key], list):
                r[key] = ", ".join(r[key])
    emit(rows, as_json=False, columns=_COLS, title="TAXII collections")


@collection_app.command("remove")
def collection_remove(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Id or title.")],
                      as_json: JsonOpt = False) -> None:
    """Remove a collection (its objects stay in the store)."""
    with transaction(engine_of(ctx)) as conn:
        out = collections.remove_collection(conn, ref)
    emit(out, as_json=as_json)
