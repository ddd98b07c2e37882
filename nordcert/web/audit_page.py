"""The audit trail for CERT staff: who read which AMBER/RED objects, exported, changed or logged in, when.

Anyone else is told the page does not exist. Filters are those of ``GET /api/v1/audit``; the page
shows a bar per day of the last fortnight, by kind, above the events.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from nordcert.audit import service as audit
from nordcert.audit.tables import audit_events
from nordcert.deps import ReadConn
from nordcert.errors import Invalid, NotFound
from nordcert.web import charts
from nordcert.web.deps import MemberPage
from nordcert.web.render import render

router = APIRouter(include_in_schema=False)
DAYS = 14
PAGE = 100


def _kind(action: str) -> str:
    for prefix in audit.CATEGORIES:
        if action.startswith(prefix):
            return prefix.rstrip(".")
    return "change"


def _per_day(conn: Any) -> list[tuple[str, int]]:
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS - 1)
    day = audit_events.c.at // 86_400_000_000
    rows = conn.execute(select(day.label("day"), func.count()).where(audit_events.c.at >= int(start.timestamp() * 1e6))
                        .group_by(day)).all()
    counts = Counter({int(d): int(n) for d, n in rows})
    first = int(start.timestamp() // 86_400)
    return [((start + timedelta(days=i)).strftime("%m-%d"), counts.get(first + i, 0)) for i in range(DAYS)]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(page: MemberPage, conn: ReadConn, action: str = "", actor: str = "", target: str = "",
               since: str = "", before: str = "") -> Response:
    if not page.member.is_cert_staff:
        raise NotFound("no such page")
    form = {"action": action, "actor": actor, "target": target, "since": since}
    error = None
    found: dict[str, Any] = {"events": [], "more": False, "next_before_id": None}
    try:
        start = None
        if since:
            try:
                start = int(datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp() * 1_000_000)
            except ValueError:
                raise Invalid(f"{since!r} is not a date (YYYY-MM-DD)") from None
        before_id = int(before) if before.isdecimal() and len(before) < 19 else None
        found = audit.list_events(conn, reader=page.member, action=action.strip() or None, since=start,
                                  before_id=before_id, limit=PAGE, actor=actor.strip() or None,
                                  target=target.strip() or None)
    except Invalid as exc:
        error = exc.message
    for e in found["events"]:
        e["kind"] = _kind(e["action"])
        details = dict(e["details"])
        e["request"] = details.pop("request", None)
        e["address"] = details.pop("address", None)
        e["objects"] = details.pop("objects", [])
        details.pop("count", None)
        e["rest"] = details
    older = ("/admin/audit?" + urlencode({**{k: v for k, v in form.items() if v}, "before": found["next_before_id"]})
             if found["more"] else None)
    chart = charts.columns(_per_day(conn), title=f"Audit events per day, last {DAYS} days (UTC)", width=1040,
                           height=120)
    return render(page, "audit.html", status=422 if error else 200, form=form, error=error, events=found["events"],
                  older=older, categories=audit.CATEGORIES, chart=chart)
