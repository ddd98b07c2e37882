"""The profile page: who you are, your API tokens (created and revoked here), your password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.errors import NordcertError
from nordcert.web import sessions
from nordcert.web.deps import SESSION_COOKIE, MemberPage, Page, check_csrf
from nordcert.web.render import redirect, render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


def _profile(page: Page, request: Request, *, status: int = 200, **context: Any) -> Response:
    reader = page.member
    with transaction(request.app.state.engine, write=False) as conn:
        tokens = credentials.list_tokens(conn, user=reader.user_id)
        groups = sorted(accounts.get_group(conn, g)["name"] for g in reader.group_ids)
    return render(page, "profile.html", status=status, tokens=tokens, groups=groups, **context)


@router.get("/profile", response_class=HTMLResponse)
def profile(page: MemberPage, request: Request) -> Response:
    return _profile(page, request)


@router.post("/profile/tokens", response_class=HTMLResponse)
def create_token(page: MemberPage, request: Request, csrf: FormText = "", label: FormText = "",
                 expires_days: FormText = "") -> Response:
    check_csrf(page, csrf)
    try:
        days = float(expires_days) if expires_days.strip() else None
    except ValueError:
        return _profile(page, request, status=422,  # nosec B106 # a message, not a secret
                        token_error="Expiry must be a number of days.")
    try:
        with transaction(request.app.state.engine) as conn:
            new = credentials.create_token(conn, user=page.member.user_id, expires_days=days, label=label.strip()[:200],
                                        actor=page.member)
    except NordcertError as exc:
        return _profile(page, request, status=422, token_error=exc.message)
    # Shown once, in this answer only (never put in a redirect or a cookie).
    return _profile(page, request, new_token=new.token)


@router.post("/profile/tokens/{token_id}/revoke")
def revoke_token(page: MemberPage, request: Request, token_id: int, csrf: FormText = "") -> Response:
    check_csrf(page, csrf)
    try:
        with transaction(request.app.state.engine) as conn:
            mine = {t["id"] for t in credentials.list_tokens(conn, user=page.member.user_id)}
            if token_id not in mine:
                return redirect(page, "/profile", flash="No such token of yours.")
            credentials.revoke_token(conn, token_id, actor=page.member)
    except NordcertError as exc:
        return redirect(page, "/profile", flash=f"Not revoked: {exc.message}")
    return redirect(page, "/profile", flash=f"Token {token_id} revoked: it stops working at once.")


@router.post("/profile/password", response_class=HTMLResponse)
def change_password(page: MemberPage, request: Request, csrf: FormText = "", current: FormText = "",
                    new: FormText = "", confirm: FormText = "") -> Response:
    check_csrf(page, csrf)
    settings = page.settings
    if new != confirm:
        return _profile(page, request, status=422,  # nosec B106 # a message, not a secret
                        password_error="The new passwords differ.")
    with transaction(request.app.state.engine) as conn:
        outcome = credentials.log_in(conn, page.member.email, current, max_failures=settings.login_max_failures,
                                  lockout_minutes=settings.login_lockout_minutes)
    if outcome.reader is None:
        return _profile(page, request, status=422,  # nosec B106 # a message, not a secret
                        password_error="The current password is wrong.")
    try:
        with transaction(request.app.state.engine) as conn:
            credentials.set_password(conn, page.member.user_id, new, actor=page.member)
            sessions.end_all(conn, page.member.user_id)
            token = sessions.start(conn, page.member, hours=settings.session_hours)
    except NordcertError as exc:
        return _profile(page, request, status=422, password_error=exc.message)
    response = redirect(page, "/profile", flash="Password changed; your other sessions are logged out.")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=settings.secure_cookies, path="/")
    return response
