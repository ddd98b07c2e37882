"""Mounting the web interface on the application: its routers, static files, error pages and the
``Server-Timing`` header every page answers with (the time the server spent on it)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.config import Settings
from nordcert.web.deps import CsrfRefused, LoginRequired, web_page
from nordcert.web.render import render

STATIC = Path(__file__).parent / "static"
#: Paths that are not pages: their errors keep the REST, TAXII or feed shapes.
_NOT_PAGES = ("/api/", "/taxii2", "/feeds/", "/healthz", "/static/")
_TITLES = {403: "Forbidden", 404: "Not found", 405: "Not allowed", 409: "Conflict", 413: "Too large",
           422: "Bad request", 401: "Log-in needed", 408: "Too slow", 429: "Too many requests", 503: "Try again later"}


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path.startswith(p) or path == p.rstrip("/") for p in _NOT_PAGES)


def error_page(request: Request, status: int, message: str) -> Response:
    """An error as a page (with the site's header, for the logged-in user)."""
    return render(web_page(request), "error.html", status=status, title=_TITLES.get(status, "Error"),
                  message=message)


class ServerTiming:
    """Adds ``Server-Timing: app;dur=<ms>`` to every page: time until the answer's headers are sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else "/api/"
        if path.startswith(("/api/", "/taxii2", "/feeds/")):
            await self.app(scope, receive, send)  # the protocols' hot paths stay untouched
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), (b"server-timing", f"app;dur={ms:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, timed)


def install(app: FastAPI, settings: Settings) -> None:
    from nordcert.web import (
        account_pages,
        admin,
        audit_page,
        baseline_benchmark_pages,
        baseline_editor,
        baseline_pages,
        crisis_pages,
        federation_page,
        incident_pages,
        incident_sector_page,
        intel_pages,
        pages,
        public,
        redteam_finding_pages,
        redteam_pages,
        sectormap_pages,
        sectormap_register,
        sectormap_risks,
    )

    secret = settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_urlsafe(32)
    app.state.web_secret = secret.encode()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (pages, public, intel_pages, account_pages, admin, audit_page, federation_page, incident_pages,
                   incident_sector_page, crisis_pages, sectormap_pages, sectormap_register, sectormap_risks,
                   baseline_pages, baseline_editor, baseline_benchmark_pages, redteam_pages,
                   redteam_finding_pages):
        app.include_router(module.router)
    app.add_middleware(ServerTiming)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Any:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf_refused(request: Request, exc: CsrfRefused) -> Any:
        return error_page(request, 403, "This form has expired or did not come from this site. "
                                        "Go back, reload the page and send it again.")
