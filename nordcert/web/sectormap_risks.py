"""The forum's sector risk register and the yearly members' concerns survey, as pages: risks by likelihood ×
impact on a 5×5 heat map, their measures with owners, statuses and due dates (overdue marked), the register's
progress month by month, and the survey (members answer while it is open; CERT staff open, close and read it).

Every read and write is one call to :mod:`nordcert.sectormap.risks`, :mod:`~nordcert.sectormap.progress` or
:mod:`~nordcert.sectormap.survey`, which decide who may do what: CERT staff keep the register, a measure's
owner organisation updates its status, members answer the survey and read its aggregate from three answers.
A refused form comes back with 422 (409 for a clash), its problems by the fields, and nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from nordcert.accounts import service as accounts
from nordcert.clock import now_us
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap import progress, risks, survey
from nordcert.sectormap.service import WRITERS
from nordcert.web import charts
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, is_member, may_write_map, posted_form, refused, status_of

router = APIRouter(include_in_schema=False, prefix="/sectormap")

MEASURE_NAMES = {"planned": "planned", "in_progress": "in progress", "done": "done", "cancelled": "cancelled"}
MEASURE_SERIES = [("planned", "planned", "#8a96a3"), ("in_progress", "in progress", "#1f5fa8"),
                  ("done", "done", "#2f9e44"), ("cancelled", "cancelled", "#c9d1db")]
OPEN_MEASURES = ("planned", "in_progress")
LEVELS = (1, 2, 3, 4, 5)


def heat(score: int) -> str:
    """A score's band on the heat map: low to 4, medium to 9, high to 16, critical above."""
    return "low" if score <= 4 else "medium" if score <= 9 else "high" if score <= 16 else "critical"


def _heat_map(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows from impact 5 down to 1, cells from likelihood 1 to 5, each with the open risks in it."""
    return [{"impact": impact, "cells": [{"likelihood": likelihood, "band": heat(likelihood * impact),
                                          "risks": [r for r in found if r["status"] == "open"
                                                    and (r["likelihood"], r["impact"]) == (likelihood, impact)]}
                                         for likelihood in LEVELS]}
            for impact in reversed(LEVELS)]


def _today() -> str:
    return datetime.fromtimestamp(now_us() / 1e6, UTC).date().isoformat()


def _risks_page(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None) -> Response:
    reader = page.member
    staff = reader.is_cert_staff
    today = _today()
    found = [risks.get_risk(conn, reader, r["id"]) for r in risks.list_risks(conn, reader)]
    for r in found:
        for m in r["measures"]:
            m["overdue"] = bool(m["due_on"] and m["due_on"] < today and m["status"] in OPEN_MEASURES)
            owner = m["owner"]["organisation"]
            m["may_update"] = staff or (owner is not None and owner["id"] == reader.organisation_id
                                        and reader.role in WRITERS)
    moved = progress.register_progress(conn, reader, months=12)
    by_month = [(datetime.strptime(m["month"], "%Y-%m").strftime("%b %Y"), m) for m in moved["measures_by_status"]]
    return render(
        page, "sectormap_risks.html", status=status, staff=staff, risks=found, heat_map=_heat_map(found),
        overdue_measures=sum(m["overdue"] for r in found for m in r["measures"]), by_month=by_month,
        progress_chart=charts.stacked_columns(by_month, title="Measures by status at the end of each month",
                                              series=MEASURE_SERIES, width=900, height=200),
        failed=failed or Failed("", {}), categories=risks.RISK_CATEGORIES, measure_names=MEASURE_NAMES,
        risk_states=risks.RISK_STATES, levels=LEVELS, member=is_member(conn, page),
        owners=accounts.list_organisations(conn) if staff else [], **_survey_context(conn, page))


def _survey_context(conn: Connection, page: Page) -> dict[str, Any]:
    reader = page.member
    surveys = survey.list_surveys(conn, reader)
    current = surveys[0] if surveys else None
    context: dict[str, Any] = {"survey": current, "results": None, "answer": None, "may_answer": False,
                               "results_chart": None}
    if current is None:
        return context
    year = current["year"]
    try:
        context["answer"] = survey.get_own_response(conn, reader, year)
    except NotFound:
        pass
    results = survey.survey_results(conn, reader, year)
    context["results"] = results
    if not results["suppressed"]:
        context["results_chart"] = charts.bars(
            [(t["title"], t["members"], f"#topic-{t['id']}") for t in results["topics"]],
            title=f"Members ranking each concern, {year}", unit=" members")
    context["may_answer"] = current["status"] == "open" and may_write_map(conn, page)
    return context


@router.get("/risks", response_class=HTMLResponse)
def risk_register(page: MemberPage, conn: ReadConn) -> Response:
    return _risks_page(page, conn)


def _act(page: Page, form_id: str, values: Mapping[str, Any], call: Callable[[Connection], Any], *, done: str,
         anchor: str) -> Response:
    """One service call (or a few, all or nothing) in its own transaction; refused, the register again."""
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            call(conn)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return _risks_page(page, conn, status=status_of(exc), failed=refused(form_id, values, exc))
    return redirect(page, f"/sectormap/risks#{anchor}", flash=done)


def _level(text: str) -> Any:
    """A likelihood or impact as typed: a number when it is one (the service checks 1 to 5), else the text."""
    return int(text) if text.isdigit() else text


# --- risks and measures ---------------------------------------------------------------------------------


@router.post("/risks", response_class=HTMLResponse)
async def add_risk(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("title", "description", "category", "likelihood", "impact")}
    return await run_in_threadpool(
        _act, page, "risk", values,
        lambda conn: risks.create_risk(conn, page.member, title=values["title"], description=values["description"],
                                       category=values["category"], likelihood=_level(values["likelihood"]),
                                       impact=_level(values["impact"])),
        done=f"Risk “{values['title']}” added to the register.", anchor="register")


@router.post("/risks/{risk_id:int}", response_class=HTMLResponse)
async def change_risk(page: MemberPage, request: Request, risk_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("likelihood", "impact", "status")}
    changes = {"likelihood": _level(values["likelihood"]), "impact": _level(values["impact"]),
               "status": values["status"]}
    return await run_in_threadpool(
        _act, page, f"risk-{risk_id}", values,
        lambda conn: risks.update_risk(conn, page.member, risk_id, changes=changes),
        done="Risk changed; its score history keeps the change.", anchor=f"risk-{risk_id}")


@router.post("/risks/{risk_id:int}/measures", response_class=HTMLResponse)
async def add_measure(page: MemberPage, request: Request, risk_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("title", "owner_organisation", "owner_person", "status", "due_on")}
    return await run_in_threadpool(
        _act, page, f"measure-{risk_id}", values,
        lambda conn: risks.add_measure(conn, page.member, risk_id, title=values["title"],
                                       owner_organisation=values["owner_organisation"] or None,
                                       owner_person=values["owner_person"] or None,
                                       status=values["status"] or "planned", due_on=values["due_on"] or None),
        done=f"Measure “{values['title']}” added.", anchor=f"risk-{risk_id}")


@router.post("/measures/{measure_id:int}", response_class=HTMLResponse)
async def update_measure(page: MemberPage, request: Request, measure_id: int) -> Response:
    """The owner (or CERT staff) sets a measure's status, with a dated note if one is given."""
    form = await posted_form(page, request)
    values = {"status": form_text(form, "status"), "note": form_text(form, "note")}

    def update(conn: Connection) -> None:
        risks.update_measure(conn, page.member, measure_id, changes={"status": values["status"]})
        if values["note"]:
            risks.add_measure_note(conn, page.member, measure_id, text=values["note"])

    return await run_in_threadpool(_act, page, f"status-{measure_id}", values, update,
                                   done="Measure updated.", anchor=f"measure-{measure_id}")


# --- the concerns survey ----------------------------------------------------------------------------------


@router.post("/surveys", response_class=HTMLResponse)
async def open_survey(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    values = {"year": form_text(form, "year"), "topics": form_text(form, "topics")}
    topics = [t.strip() for t in values["topics"].splitlines() if t.strip()]
    year: Any = int(values["year"]) if values["year"].isdigit() else values["year"]
    return await run_in_threadpool(
        _act, page, "survey", values, lambda conn: survey.open_survey(conn, page.member, year=year, topics=topics),
        done=f"The {values['year']} concerns survey is open: members can answer it now.", anchor="survey")


@router.post("/surveys/{year:int}/close", response_class=HTMLResponse)
async def close_survey(page: MemberPage, request: Request, year: int) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(_act, page, "close", {}, lambda conn: survey.close_survey(conn, page.member, year),
                                   done=f"The {year} survey is closed.", anchor="survey")


@router.post("/surveys/{year:int}/response", response_class=HTMLResponse)
async def answer_survey(page: MemberPage, request: Request, year: int) -> Response:
    """The member's concerns, most pressing first: one topic chosen per place (``rank-1``, ``rank-2``…)."""
    form = await posted_form(page, request)
    places = sorted((int(k.split("-", 1)[1]), form_text(form, k)) for k in form
                    if k.startswith("rank-") and k.split("-", 1)[1].isdigit())
    values: dict[str, Any] = {f"rank-{n}": topic for n, topic in places} | {"comment": form_text(form, "comment")}
    ranking: list[Any] = [int(topic) if topic.isdigit() else topic for _, topic in places if topic]
    return await run_in_threadpool(
        _act, page, "answer", values,
        lambda conn: survey.submit_response(conn, page.member, year, ranking=ranking, comment=values["comment"]),
        done="Your organisation's concerns are recorded; you may change them while the survey is open.",
        anchor="survey")

