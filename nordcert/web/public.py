"""Public advisories: the TLP:CLEAR reports, on a page and an Atom feed (RFC 4287), without log-in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from nordcert.config import Settings
from nordcert.deps import ReadConn
from nordcert.errors import Invalid
from nordcert.intel import service as intel
from nordcert.web.deps import WebPage
from nordcert.web.render import env, render

router = APIRouter(include_in_schema=False)
FEED_SIZE = 50


def recent_advisories(conn: Connection, settings: Settings, *, limit: int = 20, cursor: str | None = None
                      ) -> intel.Page:
    """The newest reports anyone may read: the public reader (None) sees TLP:CLEAR only."""
    return intel.list_objects(conn, None, settings, filters=intel.ObjectFilter(types=("report",)), limit=limit,
                              cursor=cursor)


@router.get("/advisories", response_class=HTMLResponse)
def advisories(page: WebPage, conn: ReadConn, cursor: str | None = None) -> Response:
    try:
        found = recent_advisories(conn, page.settings, limit=20, cursor=cursor)
    except Invalid as exc:
        return render(page, "error.html", status=422, title="Bad request", message=exc.message)
    return render(page, "advisories.html", advisories=found.objects, next=found.next)


@router.get("/advisories/feed.atom")
def advisories_feed(request: Request, conn: ReadConn) -> Response:
    settings = request.app.state.settings
    items = recent_advisories(conn, settings, limit=FEED_SIZE).objects
    base = str(request.base_url).rstrip("/")
    updated = max((_updated(i) for i in items), default="1970-01-01T00:00:00Z")
    xml = env.get_template("feed.atom.xml").render(items=items, base=base, updated=updated,
                                                   instance_name=settings.instance_name, updated_of=_updated)
    return Response(xml, media_type="application/atom+xml; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


def _updated(item: dict[str, Any]) -> str:
    obj = item["object"]
    return str(obj.get("modified") or obj.get("created") or item["meta"]["date_added"])
