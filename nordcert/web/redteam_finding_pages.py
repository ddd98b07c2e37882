"""A red-team finding's page: what was found (category, severity, flag, attack path, root cause) and its
remediation measures, each with its owner, priority, due date (overdue marked), status history and dated notes;
the control team (and CERT staff) change the finding, add measures and move them on with a note.

The finding is shown under its own test only: another test's id in the address, or a test the reader may not
see, answers 404 like a finding that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.redteam import findings, remediation, service
from nordcert.redteam.findings import CATEGORIES, SEVERITIES
from nordcert.sharing.policy import Reader
from nordcert.web import redteam_charts
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page
from nordcert.web.redteam_pages import refused
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, posted_form, status_of

router = APIRouter(include_in_schema=False, prefix="/redteam")
_FINDING_FIELDS = ("title", "category", "severity", "flag", "attack_path", "description", "root_cause")
_MEASURE_FIELDS = ("measure", "owner", "priority", "due_on", "status", "residual_risk")


def _finding(conn: Connection, reader: Reader, engagement_id: int, finding_id: int) -> dict[str, Any]:
    found = findings.get_finding(conn, reader=reader, finding_id=finding_id)
    if found["engagement"]["id"] != engagement_id:
        raise NotFound(f"no finding {finding_id}")
    return found


@router.get("/{engagement_id:int}/findings/{finding_id:int}", response_class=HTMLResponse)
def finding(page: MemberPage, conn: ReadConn, engagement_id: int, finding_id: int) -> Response:
    return _page(page, conn, engagement_id, finding_id)


def _page(page: Page, conn: Connection, engagement_id: int, finding_id: int, *, status: int = 200,
          failed: Failed | None = None) -> Response:
    reader = page.member
    f = _finding(conn, reader, engagement_id, finding_id)
    e = service.get_engagement(conn, reader=reader, engagement_id=engagement_id)
    return render(page, "redteam_finding.html", status=status, f=f, e=e, failed=failed or Failed("", {}),
                  bar=redteam_charts.progress_bar(f["progress"], label=f["title"], width=260),
                  values={k: f[k] or "" for k in _FINDING_FIELDS}, categories={k: v[0] for k, v in CATEGORIES.items()},
                  severity_choices=[(s, s) for s in SEVERITIES], measure_states=remediation.STATES,
                  priority_choices=[(p, p) for p in remediation.PRIORITIES],
                  flags=[(fl["code"], f"{fl['code']} · {fl['name']}") for fl in e["scope"]["flags"]])


def _act(page: Page, engagement_id: int, finding_id: int, form_id: str, values: Mapping[str, Any],
         call: Callable[[Connection], Any], *, done: str, anchor: str, back: str = "") -> Response:
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            _finding(conn, page.member, engagement_id, finding_id)
            call(conn)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return _page(page, conn, engagement_id, finding_id, status=status_of(exc),
                         failed=refused(form_id, values, exc))
    return redirect(page, (back or f"/redteam/{engagement_id}/findings/{finding_id}") + f"#{anchor}", flash=done)


@router.post("/{engagement_id:int}/findings/{finding_id:int}", response_class=HTMLResponse)
async def edit_finding(page: MemberPage, request: Request, engagement_id: int, finding_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in _FINDING_FIELDS}
    return await run_in_threadpool(
        _act, page, engagement_id, finding_id, "finding", values,
        lambda conn: findings.update_finding(conn, reader=page.member, finding_id=finding_id,
                                             changes={**values, "flag": values["flag"] or None}),
        done="Finding saved.", anchor="finding")


@router.post("/{engagement_id:int}/findings/{finding_id:int}/delete", response_class=HTMLResponse)
async def delete_finding(page: MemberPage, request: Request, engagement_id: int, finding_id: int) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(
        _act, page, engagement_id, finding_id, "delete", {},
        lambda conn: findings.delete_finding(conn, reader=page.member, finding_id=finding_id),
        done="Finding deleted with its measures.", anchor="findings", back=f"/redteam/{engagement_id}")


@router.post("/{engagement_id:int}/findings/{finding_id:int}/measures", response_class=HTMLResponse)
async def add_measure(page: MemberPage, request: Request, engagement_id: int, finding_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in _MEASURE_FIELDS}
    return await run_in_threadpool(
        _act, page, engagement_id, finding_id, "measure", values,
        lambda conn: remediation.add_measure(conn, reader=page.member, finding_id=finding_id,
                                             measure=values["measure"], owner=values["owner"],
                                             priority=values["priority"], due_on=values["due_on"] or None,
                                             status=values["status"] or "open",
                                             residual_risk=values["residual_risk"]),
        done="Measure added.", anchor="measures")


@router.post("/{engagement_id:int}/findings/{finding_id:int}/measures/{measure_id:int}",
             response_class=HTMLResponse)
async def update_measure(page: MemberPage, request: Request, engagement_id: int, finding_id: int,
                         measure_id: int) -> Response:
    """A measure's status, due date and residual risk, with a dated note if one is written."""
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("status", "due_on", "residual_risk", "note")}

    def update(conn: Connection) -> None:
        if remediation.get_measure(conn, reader=page.member, measure_id=measure_id)["finding_id"] != finding_id:
            raise NotFound(f"no measure {measure_id}")
        remediation.update_measure(conn, reader=page.member, measure_id=measure_id, changes={
            "status": values["status"], "due_on": values["due_on"] or None, "residual_risk": values["residual_risk"]})
        if values["note"]:
            remediation.add_note(conn, reader=page.member, measure_id=measure_id, text=values["note"])

    return await run_in_threadpool(_act, page, engagement_id, finding_id, f"measure-{measure_id}", values, update,
                                   done="Measure updated.", anchor=f"measure-{measure_id}")
