"""What every web page may ask for: the logged-in user (from the session cookie) and its CSRF token.

Pages name :data:`WebPage` (anyone, also not logged in) or :data:`MemberPage` (log-in required: a
visitor is sent to the log-in page and back). Every form carries ``csrf``, an HMAC of the session
(or, before log-in, of a random cookie) under the instance's secret key; :func:`check_csrf` refuses
a form without the right one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.sharing.policy import Reader
from nordcert.web import sessions
from nordcert.web.sessions import WebUser

SESSION_COOKIE = "nordcert_session"
PRE_COOKIE = "nordcert_pre"  # binds the log-in form's CSRF token to this browser
FLASH_COOKIE = "nordcert_flash"


class LoginRequired(Exception):
    """A page that needs a log-in was asked for without one; ``next`` is where to come back to."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form came without the CSRF token of this browser's session."""


@dataclass
class Page:
    """One page request: who asks, and the values every template needs."""

    request: Request
    settings: Settings
    user: WebUser | None
    session_token: str | None
    csrf: str
    new_binding: str | None = None  # a fresh PRE_COOKIE value to set on the response

    @property
    def reader(self) -> Reader | None:
        return self.user.reader if self.user else None

    @property
    def member(self) -> Reader:
        assert self.user is not None
        return self.user.reader


def sign(secret: bytes, binding: str) -> str:
    return hmac.new(secret, b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def web_page(request: Request) -> Page:
    settings: Settings = request.app.state.settings
    engine = request.app.state.engine
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        with transaction(engine, write=False) as conn:
            user, stale = sessions.resume(conn, token)
        if stale:
            with transaction(engine) as conn:
                sessions.touch(conn, token)
        if user is None:
            token = None
    binding = token or request.cookies.get(PRE_COOKIE)
    new = None
    if not binding:
        binding = new = secrets.token_urlsafe(24)
    return Page(request, settings, user, token, sign(request.app.state.web_secret, binding), new)


def member_page(page: Annotated[Page, Depends(web_page)]) -> Page:
    if page.user is None:
        url = page.request.url
        raise LoginRequired(url.path + (f"?{url.query}" if url.query else ""))
    return page


def check_csrf(page: Page, given: str) -> None:
    if not given or not hmac.compare_digest(page.csrf, given):
        raise CsrfRefused()


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme): no open redirect after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


WebPage = Annotated[Page, Depends(web_page)]
MemberPage = Annotated[Page, Depends(member_page)]
