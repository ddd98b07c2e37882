"""The federation page for CERT staff: every peer's state, traffic and errors, and "sync now".

The numbers come from :func:`nordcert.federation.peers.status`; "sync now" is
:func:`nordcert.federation.sync.request_sync` (the worker syncs the peer at its next round).
Anyone but CERT staff is told the page does not exist, as on the administration page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.errors import NordcertError
from nordcert.federation import peers, sync
from nordcert.web.admin import _staff
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.render import redirect, render

router = APIRouter(include_in_schema=False, prefix="/federation")
FormText = Annotated[str, Form()]

#: The badge class of each peer state: ok green, failing red, syncing blue, the others grey.
STATE_CLASSES = {"ok": "state-ok", "failing": "state-failing", "syncing": "state-syncing",
                 "disabled": "state-idle", "never synced": "state-idle"}


def _exact(us: int | None) -> str:
    if us is None:
        return ""
    return datetime.fromtimestamp(us / 1e6, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    """A duration as an operator reads it at a glance: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    s = round(abs(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def _ago(us: int | None, now: int) -> str:
    if us is None:
        return ""
    if now - us < 1_000_000:
        return "just now"
    return f"{_span((now - us) / 1e6)} ago"


def _next_attempt(peer: dict[str, Any], now: int) -> str:
    if not peer["enabled"]:
        return "paused"
    if peer["syncing"]:
        return "syncing now"
    due = peer["next_attempt_at"] or 0
    return "next round" if due <= now else f"in {_span((due - now) / 1e6)}"


def _row(peer: dict[str, Any], now: int) -> dict[str, Any]:
    """A peer from the status service, with the times put into words for the table."""
    return {
        **peer,
        "state_class": STATE_CLASSES.get(peer["state"], "state-idle"),
        "last_success": _ago(peer["last_success_at"], now),
        "last_success_exact": _exact(peer["last_success_at"]),
        "last_error_exact": _exact(peer["last_error_at"]),
        "lag": "" if peer["lag_s"] is None else _span(peer["lag_s"]),
        "next_attempt": _next_attempt(peer, now),
        "next_attempt_exact": _exact(peer["next_attempt_at"]) if peer["next_attempt_at"] else "",
    }


def _federation(page: Page, request: Request, *, status: int = 200, **context: Any) -> Response:
    with transaction(request.app.state.engine, write=False) as conn:
        rows = peers.status(conn)
    now = now_us()
    states: dict[str, int] = {}
    for r in rows:
        states[r["state"]] = states.get(r["state"], 0) + 1
    return render(page, "federation.html", status=status, peers=[_row(r, now) for r in rows],
                  states=sorted(states.items()), state_classes=STATE_CLASSES, **context)


@router.get("", response_class=HTMLResponse)
def federation(page: MemberPage, request: Request) -> Response:
    _staff(page)
    return _federation(page, request)


@router.post("/{name}/sync", response_class=HTMLResponse)
def sync_now(page: MemberPage, request: Request, name: str, csrf: FormText = "") -> Response:
    _staff(page)
    check_csrf(page, csrf)
    try:
        with transaction(request.app.state.engine) as conn:
            done = sync.request_sync(conn, name)
    except NordcertError as exc:
        return _federation(page, request, status=422, error=f"Sync not requested: {exc.message}")
    return redirect(page, "/federation",
                    flash=f"Sync of {done['peer']} requested: a worker syncs it at its next round.")
