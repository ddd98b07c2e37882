"""Rendering pages: one Jinja2 environment (autoescaped), the security headers, cookies and flashes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from nordcert import __version__
from nordcert.web.deps import FLASH_COOKIE, PRE_COOKIE, Page

TEMPLATES = Path(__file__).parent / "templates"

#: Pages load only this site's own CSS and JavaScript; charts are inline SVG without scripts.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _when(value: Any) -> str:
    """A STIX timestamp or microseconds since the epoch, as people read it (UTC, to the minute)."""
    if value in (None, ""):
        return ""
    if isinstance(value, int):
        moment = datetime.fromtimestamp(value / 1e6, tz=UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _tlp_class(label: str) -> str:
    return "tlp-" + str(label).lower().replace("tlp:", "").replace("+", "-")


env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "xml"]),
                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)
env.filters["when"] = _when
env.filters["tlp_class"] = _tlp_class
env.globals["version"] = __version__


def _cookie(page: Page, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=page.settings.secure_cookies, path="/")


def render(page: Page, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    flash = page.request.cookies.get(FLASH_COOKIE)
    html = env.get_template(template).render(
        page=page, user=page.user, csrf=page.csrf, instance_name=page.settings.instance_name,
        path=page.request.url.path, flash=unquote(flash)[:300] if flash else None, **context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if page.new_binding:
        _cookie(page, response, PRE_COOKIE, page.new_binding)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(page: Page, url: str, *, flash: str | None = None) -> RedirectResponse:
    """After a form: see the result at ``url`` (POST, redirect, GET), with a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        _cookie(page, response, FLASH_COOKIE, quote(flash[:300]), max_age=60)
    return response
