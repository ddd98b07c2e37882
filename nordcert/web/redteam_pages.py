"""Pages of red-team tests: the tests the reader may see with their phase and next deadline (and, for CERT staff
and the authority, opening one); a test's page with its timeline chart, deadlines, warnings, scope, people and
findings with their remediation progress, and the forms that change them; the sector's anonymised findings.

Every read and write is one call to :mod:`nordcert.redteam`, which decides who may see and do what: within the
tested member only its control team's linked users see a test, and for everyone else it does not exist (404).
A refused form comes back with 422 (409 for a move the test cannot make), its problems by the fields, and nothing
stored. Findings and their measures have pages of their own (:mod:`.redteam_finding_pages`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid, NordcertError, NotFound
from nordcert.redteam import access, findings, lifecycle, roles, sector, service
from nordcert.redteam.findings import CATEGORIES, SEVERITIES
from nordcert.redteam.phases import PHASES, START_PHASES, index_of
from nordcert.web import redteam_charts
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, posted_form, status_of

router = APIRouter(include_in_schema=False, prefix="/redteam")

DEADLINE_STATES = {"unknown": "not known yet", "pending": "pending", "overdue": "overdue", "met": "met",
                   "late": "met late"}
FLAG_STATES = {"": None, "reached": True, "not reached": False}


# --- the list -------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def engagements(page: MemberPage, conn: ReadConn) -> Response:
    return _list(page, conn)


def _list(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None) -> Response:
    reader = page.member
    opener = access.sees_every_engagement(conn, reader)
    members = [(str(o["id"]), o["name"]) for o in accounts.list_organisations(conn)
               if o["sector_type"] not in access.NON_MEMBER_SECTORS]
    return render(page, "redteam_list.html", status=status,
                  engagements=service.list_engagements(conn, reader=reader), opener=opener,
                  members=members if opener else [], frameworks=service.FRAMEWORKS,
                  start_phases=[(p.key, p.name) for p in PHASES if p.key in START_PHASES],
                  today=service.today_utc().isoformat(), states=DEADLINE_STATES, failed=failed or Failed("", {}))


@router.post("", response_class=HTMLResponse)
async def open_engagement(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("organisation", "name", "framework", "tiber_implementation",
                                              "phase", "opened_on")}
    values["significant_credit_institution"] = "1" if form.get("significant_credit_institution") else ""
    return await run_in_threadpool(_open, page, values)


def _open(page: Page, values: dict[str, str]) -> Response:
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            made = service.create_engagement(
                conn, reader=page.member, organisation=values["organisation"], name=values["name"],
                framework=values["framework"], tiber_implementation=values["tiber_implementation"] or None,
                significant_credit_institution=bool(values["significant_credit_institution"]),
                phase=values["phase"] or "preparation", opened_on=values["opened_on"] or None)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return _list(page, conn, status=status_of(exc), failed=refused("open", values, exc))
    return redirect(page, f"/redteam/{made['id']}", flash=f"Test “{made['name']}” opened: name its control "
                                                          "team so that its members see it.")


# --- one test --------------------------------------------------------------------------------------------


@router.get("/{engagement_id:int}", response_class=HTMLResponse)
def engagement(page: MemberPage, conn: ReadConn, engagement_id: int) -> Response:
    return engagement_page(page, conn, engagement_id)


def engagement_page(page: Page, conn: Connection, engagement_id: int, *, status: int = 200,
                    failed: Failed | None = None) -> Response:
    reader = page.member
    today = service.today_utc()
    e = service.get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)
    found = findings.list_findings(conn, reader=reader, engagement_id=engagement_id, today=today)
    for f in found:
        f["bar"] = redteam_charts.progress_bar(f["progress"], label=f["title"])
    colleagues = [u for u in accounts.list_users(conn, organisation=str(e["organisation"]["id"])) if u["active"]] \
        if e["may_change"] else []
    return render(
        page, "redteam_engagement.html", status=status, e=e, findings=found, chart=redteam_charts.timeline(
            e, today=today), total_bar=redteam_charts.progress_bar(e["progress"], label="All measures", width=260),
        failed=failed or Failed("", {}), scope_values=_scope_values(e), states=DEADLINE_STATES,
        user_choices=[(u["email"], f"{u['name']} · {u['email']} ({u['role']})" if u["name"] else u["email"])
                      for u in colleagues],
        severity_choices=[(s, s) for s in SEVERITIES],
        flag_choices=[(fl["code"], f"{fl['code']} · {fl['name']}") for fl in e["scope"]["flags"]],
        roles=roles.ROLES, frameworks=service.FRAMEWORKS, categories={k: v[0] for k, v in CATEGORIES.items()},
        severities=SEVERITIES, phase_choices=[(p.key, p.name) for p in PHASES], today=today.isoformat(),
        may_add_findings=e["may_change"] and index_of(e["phase"]) >= index_of(findings.FIRST_PHASE))


def refused(form: str, values: Mapping[str, Any], exc: NordcertError) -> Failed:
    """A refused form: the problems by the form's fields. A list's item (``functions.2``, ``flags.0.code``) is
    told by its line in the field's text box."""
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        field, _, rest = str(d.get("field") or "").partition(".")
        n, _, part = rest.partition(".")
        reason = str(d.get("reason") or "")
        if part == "reached":
            reason = "after the name, write “reached”, “not reached” or nothing"
        if n.isdigit():
            reason = f"line {int(n) + 1}{f' ({part})' if part and part != 'reached' else ''}: {reason}"
        problems.setdefault(field, []).append(reason)
    return Failed(form, values, problems or {"": [exc.message]}, exc.message)


def _scope_values(e: Mapping[str, Any]) -> dict[str, str]:
    """The edit form's values from the test as stored."""
    flags = "\n".join(f"{f['code']} | {f['name']}" + {True: " | reached", False: " | not reached"}.get(
        f["reached"], "") for f in e["scope"]["flags"])
    return {"name": e["name"], "framework": e["framework"], "tiber_implementation": e["tiber_implementation"] or "",
            "significant_credit_institution": "1" if e["significant_credit_institution"] else "",
            "functions": "\n".join(e["scope"]["functions"]), "systems": "\n".join(e["scope"]["systems"]),
            "flags": flags, "ti_provider": e["providers"]["ti_provider"] or "",
            "rt_provider": e["providers"]["rt_provider"] or "", "rt_provider_kind": e["providers"]["rt_provider_kind"]
            or "", "opened_on": e["opened_on"], "notified_on": e["notified_on"] or ""}


def act(page: Page, engagement_id: int, form_id: str, values: Mapping[str, Any], call: Callable[[Connection], Any],
        *, done: str, anchor: str, back: str = "") -> Response:
    """One service call in its own transaction: on success the test's page (or ``back``) with ``done`` as flash;
    refused, the test's page again with the problems by the form, nothing stored."""
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            call(conn)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return engagement_page(page, conn, engagement_id, status=status_of(exc),
                                   failed=refused(form_id, values, exc))
    return redirect(page, (back or f"/redteam/{engagement_id}") + f"#{anchor}", flash=done)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _flags(text: str) -> list[dict[str, Any]]:
    """``CODE | name | reached`` per line (the third part optional: reached, not reached)."""
    out = []
    for line in _lines(text):
        code, _, rest = line.partition("|")
        name, _, state = rest.partition("|")
        reached = FLAG_STATES.get(state.strip().lower(), "?")
        out.append({"code": code.strip(), "name": name.strip(), "reached": reached})
    return out


@router.post("/{engagement_id:int}/edit", response_class=HTMLResponse)
async def edit(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("name", "framework", "tiber_implementation", "functions", "systems",
                                              "flags", "ti_provider", "rt_provider", "rt_provider_kind",
                                              "opened_on", "notified_on")}
    values["significant_credit_institution"] = "1" if form.get("significant_credit_institution") else ""
    changes = {**values, "functions": _lines(values["functions"]), "systems": _lines(values["systems"]),
               "flags": _flags(values["flags"]), "tiber_implementation": values["tiber_implementation"] or None,
               "significant_credit_institution": bool(values["significant_credit_institution"]),
               "rt_provider_kind": values["rt_provider_kind"] or None, "notified_on": values["notified_on"] or None}
    return await run_in_threadpool(
        act, page, engagement_id, "scope", values,
        lambda conn: service.update_engagement(conn, reader=page.member, engagement_id=engagement_id,
                                               changes=changes),
        done="Scope and providers saved.", anchor="scope")


@router.post("/{engagement_id:int}/dates", response_class=HTMLResponse)
async def dates(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("phase", "planned_start", "planned_end", "actual_start", "actual_end")}
    return await run_in_threadpool(
        act, page, engagement_id, "dates", values,
        lambda conn: lifecycle.set_phase_dates(
            conn, reader=page.member, engagement_id=engagement_id, phase=values["phase"],
            planned_start=values["planned_start"] or None, planned_end=values["planned_end"] or None,
            actual_start=values["actual_start"] or None, actual_end=values["actual_end"] or None),
        done="Dates saved: the deadlines follow them.", anchor="timeline")


@router.post("/{engagement_id:int}/advance", response_class=HTMLResponse)
async def advance(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {"to": form_text(form, "to"), "on": form_text(form, "on")}
    return await run_in_threadpool(
        act, page, engagement_id, "advance", values,
        lambda conn: lifecycle.advance(conn, reader=page.member, engagement_id=engagement_id, to=values["to"],
                                       on=values["on"] or None),
        done="The test moved to its next phase.", anchor="timeline")


@router.post("/{engagement_id:int}/attest", response_class=HTMLResponse)
async def attest(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("attested_on", "reference", "note")}
    return await run_in_threadpool(
        act, page, engagement_id, "attest", values,
        lambda conn: lifecycle.attest(conn, reader=page.member, engagement_id=engagement_id,
                                      attested_on=values["attested_on"] or None, reference=values["reference"],
                                      note=values["note"]),
        done="Attestation recorded: the next test is due in three years.", anchor="attestation")


@router.post("/{engagement_id:int}/roles", response_class=HTMLResponse)
async def add_role(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("role", "name", "email", "company", "user")}
    return await run_in_threadpool(
        act, page, engagement_id, "role", values,
        lambda conn: roles.add_role(conn, reader=page.member, engagement_id=engagement_id, role=values["role"],
                                    name=values["name"], email=values["email"], company=values["company"] or None,
                                    user=values["user"] or None),
        done=f"{values['name'] or 'The person'} added to the test.", anchor="people")


@router.post("/{engagement_id:int}/roles/{role_id:int}/remove", response_class=HTMLResponse)
async def remove_role(page: MemberPage, request: Request, engagement_id: int, role_id: int) -> Response:
    await posted_form(page, request)

    def remove(conn: Connection) -> None:
        if all(r["id"] != role_id for r in roles.list_roles(conn, reader=page.member, engagement_id=engagement_id)):
            raise NotFound(f"no role {role_id}")
        roles.remove_role(conn, reader=page.member, role_id=role_id)

    return await run_in_threadpool(act, page, engagement_id, f"remove-{role_id}", {}, remove,
                                   done="Removed from the test.", anchor="people")


@router.post("/{engagement_id:int}/findings", response_class=HTMLResponse)
async def add_finding(page: MemberPage, request: Request, engagement_id: int) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("title", "category", "severity", "flag", "attack_path",
                                              "description", "root_cause")}
    return await run_in_threadpool(
        act, page, engagement_id, "finding", values,
        lambda conn: findings.add_finding(conn, reader=page.member, engagement_id=engagement_id,
                                          title=values["title"], category=values["category"],
                                          severity=values["severity"], flag=values["flag"] or None,
                                          attack_path=values["attack_path"], description=values["description"],
                                          root_cause=values["root_cause"]),
        done=f"Finding “{values['title']}” recorded: plan its remediation on its page.", anchor="findings")


@router.post("/{engagement_id:int}/delete", response_class=HTMLResponse)
async def delete(page: MemberPage, request: Request, engagement_id: int) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(
        act, page, engagement_id, "delete", {},
        lambda conn: service.delete_engagement(conn, reader=page.member, engagement_id=engagement_id),
        done="Test deleted with everything recorded on it.", anchor="", back="/redteam")


# --- the sector -----------------------------------------------------------------------------------------


@router.get("/sector", response_class=HTMLResponse)
def sector_page(page: MemberPage, conn: ReadConn) -> Response:
    min_group = page.settings.baseline_min_group
    view = sector.sector_findings(conn, reader=page.member, min_group=min_group)
    return render(page, "redteam_sector.html", view=view, chart=redteam_charts.sector_bars(
        view["categories"], view["severities"], min_group=min_group),
        category_names={k: v[0] for k, v in CATEGORIES.items()})
