"""Administration for CERT staff: organisations, users, sharing groups, TAXII collections, warninglists.

Every change goes through the accounts, collections and warninglist services with the staff member
as ``actor``; anyone else is told the page does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.errors import NordcertError, NotFound
from nordcert.observables import warninglist_store
from nordcert.taxii import collections
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.render import redirect, render

router = APIRouter(include_in_schema=False, prefix="/admin")
FormText = Annotated[str, Form()]


def _staff(page: Page) -> None:
    if not page.member.is_cert_staff:
        raise NotFound("no such page")


def _admin(page: Page, request: Request, *, status: int = 200, **context: Any) -> Response:
    with transaction(request.app.state.engine, write=False) as conn:
        data = {
            "organisations": accounts.list_organisations(conn),
            "users": accounts.list_users(conn),
            "groups": accounts.list_groups(conn),
            "collections": collections.list_all(conn),
            "warninglists": warninglist_store.list_all(conn),
        }
    return render(page, "admin.html", status=status, sector_types=accounts.SECTOR_TYPES, roles=accounts.ROLES,
                  collection_kinds=collections.KINDS, **data, **context)


@router.get("", response_class=HTMLResponse)
def admin(page: MemberPage, request: Request) -> Response:
    _staff(page)
    return _admin(page, request)


def _change(page: Page, request: Request, what: str, done: str, action: Any) -> Response:
    try:
        with transaction(request.app.state.engine) as conn:
            action(conn)
    except NordcertError as exc:
        return _admin(page, request, status=422, error=f"{what}: {exc.message}")
    return redirect(page, "/admin", flash=done)


@router.post("/organisations", response_class=HTMLResponse)
def add_organisation(page: MemberPage, request: Request, csrf: FormText = "", name: FormText = "",
                     short_name: FormText = "", country: FormText = "", sector_type: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    return _change(page, request, "Organisation not added", f"Organisation {name.strip()} added.",
                   lambda conn: accounts.create_organisation(
                       conn, name=name, short_name=short_name.strip() or None, country=country,
                       sector_type=sector_type, actor=page.member))


@router.post("/users", response_class=HTMLResponse)
def add_user(  # nosec B107 # empty form fields by default, not a password
    page: MemberPage, request: Request, csrf: FormText = "", email: FormText = "", organisation: FormText = "",
    role: FormText = "", name: FormText = "", password: FormText = "",
) -> Response:
    _staff(page)
    check_csrf(page, csrf)

    def action(conn: Any) -> None:
        accounts.create_user(conn, email=email, organisation=organisation, role=role, name=name.strip() or None,
                             actor=page.member)
        if password:
            credentials.set_password(conn, email, password, actor=page.member)

    return _change(page, request, "User not added", f"User {email.strip().lower()} added.", action)


@router.post("/groups", response_class=HTMLResponse)
def add_group(page: MemberPage, request: Request, csrf: FormText = "", name: FormText = "",
              description: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    return _change(page, request, "Group not added", f"Sharing group {name.strip()} added.",
                   lambda conn: accounts.create_group(conn, name=name, description=description.strip(),
                                                      actor=page.member))


@router.post("/groups/members", response_class=HTMLResponse)
def group_member(page: MemberPage, request: Request, csrf: FormText = "", group: FormText = "",
                 organisation: FormText = "", action: FormText = "add") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    change = accounts.remove_group_member if action == "remove" else accounts.add_group_member
    verb = "removed from" if action == "remove" else "added to"
    return _change(page, request, "Membership not changed", f"{organisation} {verb} {group}.",
                   lambda conn: change(conn, group, organisation, actor=page.member))


@router.post("/warninglists/{name}", response_class=HTMLResponse)
def warninglist(page: MemberPage, request: Request, name: str, csrf: FormText = "",
                enabled: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    on = enabled == "1"
    return _change(page, request, "Warninglist not changed", f"Warninglist {name} {'enabled' if on else 'disabled'}.",
                   lambda conn: warninglist_store.set_enabled(conn, name, on, actor=page.member))


@router.post("/collections", response_class=HTMLResponse)
def add_collection(page: MemberPage, request: Request, csrf: FormText = "", title: FormText = "",
                   kind: FormText = "sector", group: FormText = "", organisation: FormText = "",
                   read_all: FormText = "", write_all: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    return _change(page, request, "Collection not added", f"Collection {title.strip()} added.",
                   lambda conn: collections.create_collection(
                       conn, title=title, kind=kind, group=group or None, organisation=organisation or None,
                       read_all=read_all == "1", write_all=write_all == "1", actor=page.member))


@router.post("/collections/remove", response_class=HTMLResponse)
def remove_collection(page: MemberPage, request: Request, csrf: FormText = "", collection: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    return _change(page, request, "Collection not removed", "Collection removed.",
                   lambda conn: collections.remove_collection(conn, collection, actor=page.member))


@router.post("/users/active", response_class=HTMLResponse)
def user_active(page: MemberPage, request: Request, csrf: FormText = "", email: FormText = "",
                active: FormText = "0") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    on = active == "1"
    return _change(page, request, "User not changed", f"User {email} {'reactivated' if on else 'deactivated'}.",
                   lambda conn: accounts.set_user_active(conn, email, on, actor=page.member))
