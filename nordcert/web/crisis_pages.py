"""Pages of crisis coordination: the crises and declaring one; a crisis's situation picture (services × member
types, the members' statuses, the situation over time, what changed since the last briefing), the members'
status reports, broadcasts, briefings, the close with its summary, lessons learned and follow-up actions.

Every read and write is one call to :mod:`nordcert.crisis` (``service``, ``status``, ``picture``,
``followup``), which decides who may see and do what: CERT staff coordinate, members' analysts and risk
officers report their own services, an authority's risk officers follow the picture, a federation peer is
told a crisis does not exist. The pages only ask those rules whether to show a form at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from nordcert.accounts import service as accounts
from nordcert.crisis import followup, picture, service
from nordcert.crisis import status as status_reports
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Forbidden, Invalid, NordcertError, NotFound
from nordcert.web import crisis_charts
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.render import env, redirect, render

router = APIRouter(include_in_schema=False, prefix="/crises")

STATUS_NAMES = {"operational": "operational", "degraded": "degraded", "down": "down",
                service.NOT_REPORTED: "not reported"}
#: The order a cell lists its counts in: the worst first, so its colour and its first line agree.
WORST_FIRST = ("down", "degraded", "operational", service.NOT_REPORTED)
_BANNER_LIMIT = 3


@dataclass
class Failed:
    """A refused form: which one, what was typed, the problems by field ("" for the form as a whole)."""

    form: str
    values: Mapping[str, Any]
    problems: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""


def _failed(form: str, values: Mapping[str, Any], exc: NordcertError,
            names: Callable[[str], str] = lambda f: f) -> Failed:
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        problems.setdefault(names(str(d.get("field") or "")), []).append(str(d.get("reason") or ""))
    return Failed(form, values, problems or {"": [exc.message]}, exc.message)


# --- the banner on every page ----------------------------------------------------------------------


def open_crises(page: Page) -> list[dict[str, Any]]:
    """The crises declared and not yet closed (base.html's banner): one indexed query, none for a peer."""
    user = page.user
    if user is None or not service.may_read(user.reader):
        return []
    with transaction(page.request.app.state.engine, write=False) as conn:
        return service.list_crises(conn, user.reader, status="active", limit=_BANNER_LIMIT)


env.globals["open_crises"] = open_crises


# --- the crises ------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def crises(page: MemberPage, conn: ReadConn) -> Response:
    return _crises(page, conn)


def _crises(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None) -> Response:
    found = service.list_crises(conn, page.member, limit=service.MAX_PAGE)
    return render(page, "crises.html", status=status, staff=page.member.is_cert_staff,
                  open=[c for c in found if c["status"] == "active"],
                  closed=[c for c in found if c["status"] == "closed"], severities=service.SEVERITIES,
                  failed=failed or Failed("", {}))


@router.post("", response_class=HTMLResponse)
async def declare(page: MemberPage, request: Request) -> Response:
    form = await _posted(page, request)
    return await run_in_threadpool(_declare, page, form)


def _declare(page: Page, form: FormData) -> Response:
    engine = page.request.app.state.engine
    values: dict[str, Any] = {k: _text(form, k) for k in ("title", "scope", "severity")}
    values["is_exercise"] = form.get("is_exercise") == "1"
    try:
        with transaction(engine) as conn:
            done = service.declare_crisis(conn, page.member, **values)
    except Invalid as exc:
        with transaction(engine, write=False) as conn:
            return _crises(page, conn, status=422, failed=_failed("declare", values, exc))
    what = "Exercise" if done["is_exercise"] else "Crisis"
    return redirect(page, f"/crises/{done['id']}", flash=f"{what} declared: every member was notified by a broadcast.")


# --- one crisis ------------------------------------------------------------------------------------


@router.get("/{crisis_id:int}", response_class=HTMLResponse)
def crisis(page: MemberPage, conn: ReadConn, crisis_id: int) -> Response:
    return _crisis(page, conn, crisis_id)


def _crisis(page: Page, conn: Connection, crisis_id: int, *, status: int = 200,
            failed: Failed | None = None) -> Response:
    reader = page.member
    staff = reader.is_cert_staff
    found = service.get_crisis(conn, reader, crisis_id)
    active = found["status"] == "active"
    failed = failed or Failed("", {})
    context: dict[str, Any] = {"pic": None, "refused": None}
    try:
        pic = picture.situation_picture(conn, reader, crisis_id)
    except Forbidden as exc:
        context["refused"] = exc.message
    else:
        line = picture.timeline(conn, reader, crisis_id, bucket_minutes=_bucket(found))
        context |= {
            "pic": pic, "matrix": _matrix(pic), "members": _members(pic["members"]) if staff else None,
            "own": _own_rows(pic["own"], failed if failed.form == "status" else None) if pic["own"] else None,
            "may_report": active and pic["own"] is not None and reader.role in service.REPORTERS,
            "chart": crisis_charts.situation_over_time(line), "chart_rows": crisis_charts.rows(line),
            "changes": _changes(picture.changes_since_briefing(conn, reader, crisis_id)),
        }
    lessons = followup.list_lessons(conn, reader, crisis_id)
    numbers = {lesson["id"]: n for n, lesson in enumerate(lessons, 1)}
    actions = followup.list_actions(conn, reader, crisis_id=crisis_id, limit=followup.MAX_PAGE)
    for a in actions:
        a["lesson_number"] = numbers.get(a["lesson_id"])
        a["may_mark"] = staff or (a["owner"]["organisation"]["id"] == reader.organisation_id
                                  and reader.role in service.REPORTERS)
    return render(
        page, "crisis.html", status=status, crisis=found, active=active, staff=staff, failed=failed,
        status_names=STATUS_NAMES, broadcasts=service.list_broadcasts(conn, reader, crisis_id=crisis_id),
        briefings=picture.list_briefings(conn, reader, crisis_id) if staff else [], lessons=lessons,
        actions=actions, organisations=_owners(conn) if staff else [], **context)


def _bucket(found: Mapping[str, Any]) -> int:
    declared = datetime.fromisoformat(found["declared_at"])
    until = datetime.fromisoformat(found["closed_at"]) if found["closed_at"] else datetime.now(UTC)
    return crisis_charts.bucket_minutes(declared, until)


def _cell(counts: Mapping[str, int], worst: str, where: str) -> dict[str, Any]:
    said = ", ".join(f"{counts[s]} {name}" for s, name in STATUS_NAMES.items())
    return {"worst": worst, "lines": [(counts[s], STATUS_NAMES[s]) for s in WORST_FIRST if counts[s]],
            "title": f"{where}: {said}; worst: {STATUS_NAMES[worst]}"}


def _type_name(member_type: str) -> str:
    return member_type.replace("_", " ").capitalize()


def _matrix(pic: Mapping[str, Any]) -> dict[str, Any]:
    """Services × member types: each cell the members' counts by status, coloured by the worst."""
    types = [{"id": t["member_type"], "name": _type_name(t["member_type"]), "members": t["members"]}
             for t in pic["member_types"]]
    rows = [{"service": a["service"], "name": a["name"],
             "cells": [_cell(a["by_member_type"][t["id"]]["counts"], a["by_member_type"][t["id"]]["worst"],
                             f"{a['name']}, {t['name'].lower()}") for t in types],
             "all": _cell(a["counts"], a["worst"], f"{a['name']}, all members")} for a in pic["aggregate"]]
    return {"types": types, "rows": rows}


def _members(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CERT staff's table: each member's latest status per service and when it last reported."""
    out = []
    for m in members:
        entries = m["statuses"]
        times = [e["observed_at"] for e in entries.values() if e]
        out.append({**m, "type_name": _type_name(m["organisation"]["sector_type"]), "last": max(times, default=None),
                    "cells": [{"service": s, "entry": entries[s], "title": _entry_title(name, entries[s])}
                              for s, name in service.SERVICES.items()]})
    return out


def _entry_title(name: str, entry: Mapping[str, Any] | None) -> str:
    if entry is None:
        return f"{name}: not reported"
    comment = f" — {entry['comment']}" if entry["comment"] else ""
    return f"{name}: {entry['status']} (observed {entry['observed_at'][:16].replace('T', ' ')} UTC){comment}"


def _own_rows(own: Mapping[str, Any], failed: Failed | None) -> list[dict[str, Any]]:
    """A member's own latest statuses, and the report form's rows prefilled with them (or with what was typed)."""
    rows = []
    for s, name in service.SERVICES.items():
        latest = own["statuses"][s]
        if failed is not None:
            value, comment = failed.values.get(f"status.{s}", ""), failed.values.get(f"comment.{s}", "")
        else:
            value, comment = (latest["status"], latest["comment"]) if latest else ("", "")
        problems = failed.problems if failed else {}
        rows.append({"service": s, "name": name, "latest": latest, "value": value, "comment": comment,
                     "problems": [*problems.get(f"{s}.status", []), *problems.get(f"{s}.comment", []),
                                  *problems.get(f"{s}.service", [])]})
    return rows


def _changes(found: Mapping[str, Any]) -> dict[str, Any]:
    """What changed since the last briefing: the aggregate counts that moved, and per member for CERT staff."""
    moved = []
    for a in found["aggregate"]:
        if a["before"] != a["now"]:
            moved.append({"name": a["name"], "counts": [(STATUS_NAMES[s], a["before"][s], a["now"][s])
                                                        for s in WORST_FIRST]})
    return {"since": found["since"], "aggregate": moved, "members": found["changes"]}


def _owners(conn: Connection) -> list[dict[str, Any]]:
    """The organisations an action may be given to, by name."""
    return [{"id": o["id"], "name": o["name"], "sector_type": o["sector_type"]}
            for o in accounts.list_organisations(conn)]


# --- forms on a crisis -----------------------------------------------------------------------------


async def _posted(page: Page, request: Request) -> FormData:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _act(page: Page, crisis_id: int, failed: Failed, call: Callable[[Connection], Any], *, done: str,
         anchor: str, names: Callable[[str], str] = lambda f: f) -> Response:
    """Run one service call in its own transaction: on success see the crisis again with ``done`` as flash;
    refused, the crisis page again with the problems by the form (nothing stored)."""
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            call(conn)
    except (Invalid, Conflict) as exc:
        refused = _failed(failed.form, failed.values, exc, names)
        with transaction(engine, write=False) as conn:
            return _crisis(page, conn, crisis_id, status=422 if isinstance(exc, Invalid) else 409, failed=refused)
    return redirect(page, f"/crises/{crisis_id}#{anchor}", flash=done)


@router.post("/{crisis_id:int}/status", response_class=HTMLResponse)
async def report_status(page: MemberPage, request: Request, crisis_id: int) -> Response:
    form = await _posted(page, request)
    values = {f"{k}.{s}": _text(form, f"{k}.{s}") for s in service.SERVICES for k in ("status", "comment")}
    items = [{"service": s, "status": values[f"status.{s}"], "comment": values[f"comment.{s}"]}
             for s in service.SERVICES if values[f"status.{s}"]]

    def by_service(problem: str) -> str:  # statuses.N.status → card_payments.status
        _, n, what = (problem.split(".") + ["", ""])[:3]
        return f"{items[int(n)]['service']}.{what}" if n.isdigit() and int(n) < len(items) else ""

    return await run_in_threadpool(
        _act, page, crisis_id, Failed("status", values),
        lambda conn: status_reports.submit_status(conn, page.member, crisis_id, statuses=items),
        done=f"Status of {len(items)} service{'' if len(items) == 1 else 's'} reported.", anchor="report",
        names=by_service)


@router.post("/{crisis_id:int}/broadcasts", response_class=HTMLResponse)
async def broadcast(page: MemberPage, request: Request, crisis_id: int) -> Response:
    values = {"body": _text(await _posted(page, request), "body")}
    return await run_in_threadpool(
        _act, page, crisis_id, Failed("broadcast", values),
        lambda conn: service.post_broadcast(conn, page.member, crisis_id, body=values["body"]),
        done="Broadcast sent to every member.", anchor="broadcasts")


@router.post("/{crisis_id:int}/briefings", response_class=HTMLResponse)
async def brief(page: MemberPage, request: Request, crisis_id: int) -> Response:
    values = {"text": _text(await _posted(page, request), "text")}
    return await run_in_threadpool(
        _act, page, crisis_id, Failed("briefing", values),
        lambda conn: picture.record_briefing(conn, page.member, crisis_id, text=values["text"]),
        done="Briefing recorded: changes are counted from it now.", anchor="changes")


@router.post("/{crisis_id:int}/close", response_class=HTMLResponse)
async def close(page: MemberPage, request: Request, crisis_id: int) -> Response:
    values = {"summary": _text(await _posted(page, request), "summary")}
    return await run_in_threadpool(
        _act, page, crisis_id, Failed("close", values),
        lambda conn: service.close_crisis(conn, page.member, crisis_id, summary=values["summary"]),
        done="Crisis closed: every member was told by a broadcast.", anchor="summary")


@router.post("/{crisis_id:int}/lessons", response_class=HTMLResponse)
async def lesson(page: MemberPage, request: Request, crisis_id: int) -> Response:
    values = {"text": _text(await _posted(page, request), "text")}
    return await run_in_threadpool(
        _act, page, crisis_id, Failed("lesson", values),
        lambda conn: followup.record_lesson(conn, page.member, crisis_id, text=values["text"]),
        done="Lesson recorded.", anchor="followup")


@router.post("/{crisis_id:int}/actions", response_class=HTMLResponse)
async def action(page: MemberPage, request: Request, crisis_id: int) -> Response:
    form = await _posted(page, request)
    values = {k: _text(form, k) for k in ("title", "owner_organisation", "due_on", "lesson_id")}
    lesson_id = int(values["lesson_id"]) if values["lesson_id"].isdigit() else None

    def add(conn: Connection) -> Any:
        # The service reads the date from its text too, so a bad one is named with every other problem.
        return followup.add_action(conn, page.member, crisis_id, title=values["title"],
                                   owner_organisation=values["owner_organisation"], due_on=values["due_on"],  # type: ignore[arg-type]
                                   lesson_id=lesson_id)

    return await run_in_threadpool(_act, page, crisis_id, Failed("action", values), add,
                                   done="Follow-up action added.", anchor="followup")


@router.post("/{crisis_id:int}/actions/{action_id:int}", response_class=HTMLResponse)
async def mark_action(page: MemberPage, request: Request, crisis_id: int, action_id: int) -> Response:
    values = {"status": _text(await _posted(page, request), "status")}

    def mark(conn: Connection) -> Any:
        if followup.get_action(conn, page.member, action_id)["crisis"]["id"] != crisis_id:
            raise NotFound(f"no follow-up action {action_id} on crisis {crisis_id}")
        return followup.update_action(conn, page.member, action_id, changes={"status": values["status"]})

    done = "Action marked done." if values["status"] == "done" else "Action open again."
    return await run_in_threadpool(_act, page, crisis_id, Failed("mark", values), mark, done=done,
                                   anchor=f"action-{action_id}")
