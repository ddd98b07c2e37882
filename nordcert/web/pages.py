"""The front page, the dashboard, log-in and log-out, and the health check."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nordcert import __version__
from nordcert.accounts import credentials, login_addresses
from nordcert.audit import service as audit
from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.intel import service as intel
from nordcert.web import charts, dashboard, sessions
from nordcert.web.deps import PRE_COOKIE, SESSION_COOKIE, MemberPage, WebPage, check_csrf, safe_next
from nordcert.web.public import recent_advisories
from nordcert.web.render import render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]


@router.get("/", response_class=HTMLResponse)
def home(page: WebPage, conn: ReadConn, by: str = "kind") -> Response:
    """The dashboard for members; for visitors, what the instance is and its public advisories."""
    if page.user is None:
        counts = intel.count_visible(conn, None)
        return render(page, "home.html", counts=sorted(counts.items(), key=lambda kv: -kv[1]),
                      advisories=recent_advisories(conn, page.settings, limit=5))
    reader = page.member
    now = now_us()
    by = "type" if by == "type" else "kind"
    counter = dashboard.new_intel if by == "type" else dashboard.new_observables
    what = "objects by STIX type" if by == "type" else "values by kind"
    day = counter(conn, reader, since=now - dashboard.DAY_US)
    week = counter(conn, reader, since=now - 7 * dashboard.DAY_US)
    correlated = dashboard.most_correlated(conn, reader)
    sighted = dashboard.sightings_per_day(conn, reader, now=now)
    flagged = dashboard.warninglist_hits(conn, reader, since=now - 7 * dashboard.DAY_US)
    recent = intel.list_objects(conn, reader, page.settings, filters=intel.ObjectFilter(
        types=("indicator", "report")), limit=8).objects
    return render(
        page, "dashboard.html", by=by, day=day, week=week, correlated=correlated, sighted=sighted, recent=recent,
        flagged=flagged,
        day_chart=charts.stacked_bars(day, title=f"New intel in the last 24 hours: {what} and TLP"),
        week_chart=charts.stacked_bars(week, title=f"New intel in the last 7 days: {what} and TLP"),
        correlated_chart=charts.bars(
            [(f"{d['kind']} {d['value']}", d["members"], "/search?" + urlencode({"q": d["value"]})) for d in correlated],
                                     title="Values reported by the most members", unit=" members"),
        sighted_chart=charts.columns(sighted, title="Sightings per day, last 14 days"),
        tlp_colours=charts.TLP_COLOURS,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(page: WebPage, next: str = "/") -> Response:
    if page.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(page, "login.html", next=safe_next(next), email="")


@router.post("/login", response_class=HTMLResponse)
def login(  # nosec B107 # empty form fields by default, not a password
    page: WebPage, request: Request, email: FormText = "", password: FormText = "", csrf: FormText = "",
    next: FormText = "/",
) -> Response:
    check_csrf(page, csrf)
    settings = page.settings
    if not email.strip() or not password:
        return render(page, "login.html", status=422, next=safe_next(next), email=email,
                      error="Give your email and password.")
    address = request.client.host if request.client else "unknown"
    window = settings.login_address_window_minutes
    with transaction(request.app.state.engine) as conn:
        wait = login_addresses.refused_for(conn, address, max_failures=settings.login_address_max_failures,
                                           window_minutes=window)
        if wait is None:
            outcome = credentials.log_in(conn, email, password, max_failures=settings.login_max_failures,
                                      lockout_minutes=settings.login_lockout_minutes)
            if outcome.reader is None:
                login_addresses.record_failure(conn, address, window_minutes=window)
            token = sessions.start(conn, outcome.reader, hours=settings.session_hours) if outcome.reader else None
            audit.record(conn, actor=outcome.reader, email=email.strip().lower()[:320],
                         action="login.succeeded" if outcome.reader else "login.failed", target=email.strip()[:300],
                         details={} if outcome.reader else {"reason": outcome.refused})
        else:
            audit.record(conn, actor=None, email=email.strip().lower()[:320], action="login.refused",
                         target=email.strip()[:300], details={"reason": "too many failed log-ins from the address",
                                                              "retry_after_s": round(wait)})
    if wait is not None:
        minutes = max(1, round(wait / 60))
        refused = render(page, "login.html", status=429, next=safe_next(next), email=email,
                         error=f"Too many failed log-ins from your address; try again in {minutes} minute"
                               f"{'s' if minutes != 1 else ''}.")
        refused.headers["Retry-After"] = str(max(1, round(wait)))
        return refused
    if token is None:
        return render(page, "login.html", status=401, next=safe_next(next), email=email, error=outcome.refused)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=settings.secure_cookies, path="/")
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(page: MemberPage, request: Request, csrf: FormText = "") -> Response:
    check_csrf(page, csrf)
    assert page.session_token is not None
    with transaction(request.app.state.engine) as conn:
        sessions.end(conn, page.session_token)
        audit.record(conn, actor=page.member, action="logout", target=page.member.email)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/healthz")
def health(conn: ReadConn) -> dict[str, Any]:
    """Liveness and store connectivity: one trivial query, whatever the size of the store."""
    conn.exec_driver_sql("SELECT 1").scalar_one()
    return {"status": "ok", "version": __version__}
