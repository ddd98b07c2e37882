"""CLI: init, organisations, users, API tokens and sharing groups."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from nordcert.accounts import credentials, service
from nordcert.cli.common import JsonOpt, engine_of, settings_of
from nordcert.cli.output import console, emit, emit_json
from nordcert.db import transaction

org_app = typer.Typer(help="Member organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users of member organisations.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (shown once, stored only as a hash).", no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups: named sets of organisations.", no_args_is_help=True)

_ORG_COLS = ("id", "name", "short_name", "country", "sector_type")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(group_app, name="group")


def init(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Create the instance folder and its store (or bring the store's schema up to date)."""
    settings = settings_of(ctx)
    engine_of(ctx)
    where = settings.database_url and "the configured database" or str(settings.sqlite_path)
    if as_json:
        emit_json({"instance": str(settings.home), "store": where, "status": "ready"})
    else:
        console.print(f"Instance ready: {settings.home} (store: {where})")


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Full name, e.g. 'Alpha Bank'.")],
    country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 code, e.g. DK.")],
    sector_type: Annotated[str, typer.Option("--type", help=f"One of: {', '.join(service.SECTOR_TYPES)}.")],
    short: Annotated[Optional[str], typer.Option("--short", help="Short name (default: initials).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """Add a member organisation."""
    with transaction(engine_of(ctx)) as conn:
        org = service.create_organisation(conn, name=name, country=country, sector_type=sector_type, short_name=short)
    emit(org, as_json=as_json, columns=_ORG_COLS)


@org_app.command("list")
def org_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the organisations."""
    with transaction(engine_of(ctx), write=False) as conn:
        orgs = service.list_organisations(conn)
    emit(orgs, as_json=as_json, columns=_ORG_COLS, title="Organisations")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email (their login name).")],
    org: Annotated[str, typer.Option("--org", help="Organisation name or short name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(service.ROLES)}.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Display name.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """Add a user to an organisation."""
    with transaction(engine_of(ctx)) as conn:
        user = service.create_user(conn, email=email, organisation=org, role=role, name=name)
    emit(user, as_json=as_json, columns=("id", "email", "name", "organisation", "role"))


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    org: Annotated[Optional[str], typer.Option("--org", help="Only this organisation's users.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """List users."""
    with transaction(engine_of(ctx), write=False) as conn:
        users = service.list_users(conn, organisation=org)
    emit(users, as_json=as_json, columns=("id", "email", "name", "organisation", "role", "active"), title="Users")


@user_app.command("deactivate")
def user_deactivate(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user who leaves.")],
    as_json: JsonOpt = False,
) -> None:
    """Off-board a user: their API tokens, web sessions and password stop working at once."""
    _set_active(ctx, email, False, as_json)


@user_app.command("activate")
def user_activate(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user to let in again.")],
    as_json: JsonOpt = False,
) -> None:
    """Reactivate a deactivated user (their tokens that are not revoked or expired work again)."""
    _set_active(ctx, email, True, as_json)


def _set_active(ctx: typer.Context, email: str, active: bool, as_json: bool) -> None:
    with transaction(engine_of(ctx)) as conn:
        user = service.set_user_active(conn, email, active)
    emit(user, as_json=as_json, columns=("id", "email", "organisation", "role", "active"))


@user_app.command("password")
def user_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user whose web log-in password is set.")],
    as_json: JsonOpt = False,
) -> None:
    """Set a user's web log-in password: asked for twice at a terminal, else read from stdin's first line."""
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with transaction(engine_of(ctx)) as conn:
        credentials.set_password(conn, email, password)
    if as_json:
        emit_json({"user": email.strip().lower(), "password": "set"})  # nosec B105 # a status word
    else:
        console.print(f"Password set for {email.strip().lower()}.")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user the token acts as.")],
    expires: Annotated[Optional[float], typer.Option("--expires", help="Days until it expires.")] = None,  # noqa: UP045
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create an API token and print it (alone, so scripts can capture it). It is not shown again."""
    with transaction(engine_of(ctx)) as conn:
        new = credentials.create_token(conn, user=email, expires_days=expires, label=label)
    if as_json:
        emit_json({"id": new.id, "token": new.token, "user": new.user_email, "expires_at": new.expires_at})
    else:
        typer.echo(new.token)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="The token's id.")],
                 as_json: JsonOpt = False) -> None:
    """Revoke a token; it stops working at once."""
    with transaction(engine_of(ctx)) as conn:
        out = credentials.revoke_token(conn, token_id)
    emit(out, as_json=as_json)


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    email: Annotated[Optional[str], typer.Option("--user", help="Only this user's tokens.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
) -> None:
    """List tokens (their prefixes, never the tokens)."""
    with transaction(engine_of(ctx), write=False) as conn:
        rows = credentials.list_tokens(conn, user=email)
    emit(rows, as_json=as_json, columns=("id", "email", "prefix", "label", "expires_at", "revoked_at"), title="Tokens")


@group_app.command("add")
def group_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The group's name, e.g. 'DK banks'.")],
    member: Annotated[list[str], typer.Option("--member", help="Member organisation; repeat for several.")] = [],  # noqa: B006
    description: Annotated[str, typer.Option("--description")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a sharing group."""
    with transaction(engine_of(ctx)) as conn:
        group = service.create_group(conn, name=name, members=list(member), description=description)
    _emit_groups([group], as_json)


@group_app.command("list")
def group_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List sharing groups and their members."""
    with transaction(engine_of(ctx), write=False) as conn:
        groups = service.list_groups(conn)
    _emit_groups(groups, as_json)


@group_app.command("add-member")
def group_add_member(ctx: typer.Context, group: str, org: str, as_json: JsonOpt = False) -> None:
    """Add an organisation to a sharing group."""
    with transaction(engine_of(ctx)) as conn:
        g = service.add_group_member(conn, group, org)
    _emit_groups([g], as_json)


@group_app.command("remove-member")
def group_remove_member(ctx: typer.Context, group: str, org: str, as_json: JsonOpt = False) -> None:
    """Remove an organisation from a sharing group."""
    with transaction(engine_of(ctx)) as conn:
        g = service.remove_group_member(conn, group, org)
    _emit_groups([g], as_json)


def _emit_groups(groups: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        emit_json(groups)
        return
    rows = [{"id": g["id"], "name": g["name"],
             "members": ", ".join(m["short_name"] for m in g["members"])} for g in groups]  # type: ignore[attr-defined]
    emit(rows, as_json=False, columns=("id", "name", "members"), title="Sharing groups")
