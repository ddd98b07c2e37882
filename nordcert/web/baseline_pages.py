"""Pages of the resilience baseline: the campaigns and the catalogue (/baseline), the catalogue browser by domain
with each control's criteria, target and mappings, a member's self-assessment form, and CERT staff's progress
page with each member's state, a member's answers and the campaign's close. The catalogue editor is
:mod:`.baseline_editor`; the benchmark, heat map and feedback report are :mod:`.baseline_benchmark_pages`.

Every read and write is one call to :mod:`nordcert.baseline` (``catalogues``, ``campaigns``, ``answers``), which
decides who may see and do what. A refused form comes back with 422 (409 when the campaign or response no
longer takes changes) with its problems by the fields, and nothing stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from nordcert.baseline import answers, benchmark, campaigns, catalogues
from nordcert.baseline.access import WRITERS, is_member
from nordcert.baseline.catalogue import Catalogue, Control
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Forbidden, Invalid, NordcertError, NotFound
from nordcert.sharing.policy import Reader
from nordcert.web import charts
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, posted_form, status_of

router = APIRouter(include_in_schema=False, prefix="/baseline")

PRIORITY_NAMES = {"essential": "Essential", "important": "Important", "advanced": "Advanced"}
FRAMEWORKS = {"dora": "DORA", "nis2": "NIS2", "csf": "NIST CSF 2.0"}
STATE_NAMES = {"not_started": "not started", "draft": "draft", "submitted": "submitted"}
STATE_SERIES = [("submitted", "submitted", "#2f9e44"), ("draft", "draft", "#1f5fa8"),
                ("not_started", "not started", "#c9d1db")]
NOT_APPLICABLE = "na"


# --- the overview ----------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(page: MemberPage, conn: ReadConn) -> Response:
    return _home(page, conn)


def _home(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None) -> Response:
    reader = page.member
    found = campaigns.list_campaigns(conn, reader=reader)
    versions = catalogues.list_versions(conn, reader=reader)
    published = [v for v in versions if v["published"]]
    current = catalogues.version_catalogue(conn, reader=reader, version=published[0]["version"]) if published \
        else None
    return render(page, "baseline_home.html", status=status, staff=reader.is_cert_staff,
                  member=is_member(conn, reader.organisation_id), open=[c for c in found if c["status"] == "open"],
                  closed=[c for c in found if c["status"] == "closed"], published=published, current=current,
                  drafts=[v for v in versions if not v["published"]], state_names=STATE_NAMES,
                  priority_names=PRIORITY_NAMES, failed=failed or Failed("", {}), figures=_figures(conn, reader))


@router.post("/campaigns", response_class=HTMLResponse)
async def open_campaign(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    return await run_in_threadpool(_open_campaign, page, form)


def _open_campaign(page: Page, form: FormData) -> Response:
    values = {k: form_text(form, k) for k in ("name", "catalogue_version", "deadline", "description")}
    engine = page.request.app.state.engine
    try:
        closes_at = _deadline(values["deadline"])
        with transaction(engine) as conn:
            done = campaigns.open_campaign(conn, reader=page.member, name=values["name"], closes_at=closes_at,
                                           catalogue_version=values["catalogue_version"],
                                           description=values["description"])
    except Invalid as exc:
        with transaction(engine, write=False) as conn:
            return _home(page, conn, status=422, failed=_refused("open", values, exc, {"closes_at": "deadline"}))
    return redirect(page, f"/baseline/campaigns/{done['id']}/progress",
                    flash=f"Campaign “{done['name']}” opened: members can answer it now.")


def _deadline(text: str) -> datetime:
    """A deadline date from the form: the end of that day, UTC."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise Invalid("the deadline is not a date", details=[{"field": "deadline", "reason": "a date (YYYY-MM-DD)"}]
                      ) from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


# --- the catalogue browser -------------------------------------------------------------------------------


@router.get("/catalogue/{version}", response_class=HTMLResponse)
def catalogue_page(page: MemberPage, conn: ReadConn, version: str, domain: str = "", priority: str = "",
                   framework: str = "", ref: str = "") -> Response:
    reader = page.member
    meta = catalogues.get_version(conn, reader=reader, version=version)
    catalogue = catalogues.version_catalogue(conn, reader=reader, version=version)
    framework = framework if framework in FRAMEWORKS else ""
    ref = ref.strip()
    shown = [c for c in catalogue.controls if _matches(c, domain, priority, framework, ref)]
    return render(page, "baseline_catalogue.html", meta=meta, catalogue=catalogue, shown=shown,
                  domains=[d for d in catalogue.domains if any(c.domain == d.key for c in shown)],
                  filters={"domain": domain, "priority": priority, "framework": framework, "ref": ref},
                  versions=catalogues.list_versions(conn, reader=reader), staff=reader.is_cert_staff,
                  priority_names=PRIORITY_NAMES, frameworks=FRAMEWORKS)


def _matches(c: Control, domain: str, priority: str, framework: str, ref: str) -> bool:
    if (domain and c.domain != domain) or (priority and c.priority != priority):
        return False
    refs = {"dora": c.dora, "nis2": c.nis2, "csf": c.csf}
    pool = refs[framework] if framework else (*c.dora, *c.nis2, *c.csf)
    if framework and not pool:
        return False
    # "Art 12" finds Art 12, Art 12(3) and Art 12(3)(a), not Art 120; "PR" finds every Protect category.
    return not ref or any(r == ref or r.startswith((ref + "(", ref + ".")) for r in pool)


@router.get("/catalogue/{version}/export.json")
def export_catalogue(page: MemberPage, conn: ReadConn, version: str) -> Response:
    import orjson

    data = catalogues.export_version(conn, reader=page.member, version=version)
    return Response(orjson.dumps(data, option=orjson.OPT_INDENT_2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="baseline-{version}.json"'})


# --- a campaign: the self-assessment form ----------------------------------------------------------------


@router.get("/campaigns/{campaign_id:int}", response_class=HTMLResponse)
def campaign_page(page: MemberPage, conn: ReadConn, campaign_id: int) -> Response:
    return _campaign(page, conn, campaign_id)


def _campaign(page: Page, conn: Connection, campaign_id: int, *, status: int = 200,
              failed: Failed | None = None) -> Response:
    reader = page.member
    campaign = campaigns.get_campaign(conn, campaign_id=campaign_id, reader=reader)
    catalogue = campaigns.campaign_catalogue(conn, campaign_id=campaign_id)
    member = is_member(conn, reader.organisation_id) and not reader.is_cert_staff
    response = answers.get_response(conn, reader=reader, campaign_id=campaign_id) if member else None
    editable = bool(member and response and campaign["status"] == "open" and response["status"] != "submitted"
                    and reader.role in WRITERS)
    given = _given(response, failed)
    problem_controls = [c for c in catalogue.control_ids
                        if failed and any(k.startswith(c + ".") for k in failed.problems)]
    return render(page, "baseline_campaign.html", status=status, campaign=campaign, catalogue=catalogue,
                  response=response, member=member, editable=editable, given=given,
                  by_domain=[(d, catalogue.controls_in(d.key)) for d in catalogue.domains],
                  staff=reader.is_cert_staff, failed=failed or Failed("", {}), priority_names=PRIORITY_NAMES,
                  state_names=STATE_NAMES, na=NOT_APPLICABLE, problem_controls=problem_controls,
                  figures=_figures(conn, reader))


def _figures(conn: Connection, reader: Reader) -> str | None:
    """Which campaign figures the reader reads (staff at any time; member and authority once a campaign is
    closed), so that pages link only to what answers; None: none (403)."""
    try:
        return benchmark.audience_of(conn, reader).value
    except Forbidden:
        return None


def _given(response: Mapping[str, Any] | None, failed: Failed | None) -> dict[str, dict[str, str]]:
    """What each control's fields hold: the refused form's values, else the stored answers."""
    if failed is not None and failed.values:
        return dict(failed.values)
    out: dict[str, dict[str, str]] = {}
    for cid, a in (response or {}).get("answers", {}).items():
        choice = NOT_APPLICABLE if a["not_applicable"] else ("" if a["maturity"] is None else str(a["maturity"]))
        out[cid] = {"maturity": choice, "evidence": a["evidence"], "comment": a["comment"]}
    return out


@router.post("/campaigns/{campaign_id:int}/answers", response_class=HTMLResponse)
async def save_answers(page: MemberPage, request: Request, campaign_id: int) -> Response:
    form = await posted_form(page, request)
    return await run_in_threadpool(_save_answers, page, form, campaign_id)


def _save_answers(page: Page, form: FormData, campaign_id: int) -> Response:
    engine = page.request.app.state.engine
    submitting = form_text(form, "action") == "submit"
    with transaction(engine, write=False) as conn:
        catalogue = campaigns.campaign_catalogue(conn, campaign_id=campaign_id)
        stored = answers.get_response(conn, reader=page.member, campaign_id=campaign_id)["answers"]
    values, items = _posted_answers(form, catalogue, stored)
    try:
        with transaction(engine) as conn:
            if submitting:
                answers.submit(conn, reader=page.member, campaign_id=campaign_id, answers=items)
            else:
                answers.save_draft(conn, reader=page.member, campaign_id=campaign_id, answers=items)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return _campaign(page, conn, campaign_id, status=status_of(exc),
                             failed=_answer_problems("submit" if submitting else "save", values, items, exc))
    if submitting:
        return redirect(page, f"/baseline/campaigns/{campaign_id}",
                        flash="Response submitted: CERT staff see it, and it counts in the sector's benchmark.")
    return redirect(page, f"/baseline/campaigns/{campaign_id}", flash="Draft saved.")


def _posted_answers(form: FormData, catalogue: Catalogue, stored: Mapping[str, Any]
                    ) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    """The form's fields per control, and the answers to send: every control of the form that is filled in or was
    answered before (one cleared in the form is sent blank, which leaves it open again)."""
    values: dict[str, dict[str, str]] = {}
    items: list[dict[str, Any]] = []
    for c in catalogue.controls:
        if not any(f"{k}.{c.id}" in form for k in "mec"):
            continue  # not in the form at all: left as it is
        v = {"maturity": form_text(form, f"m.{c.id}"), "evidence": form_text(form, f"e.{c.id}"),
             "comment": form_text(form, f"c.{c.id}")}
        values[c.id] = v
        if not any(v.values()) and c.id not in stored:
            continue
        choice = v["maturity"]
        items.append({"control_id": c.id, "not_applicable": choice == NOT_APPLICABLE,
                      "maturity": int(choice) if choice.isdigit() else (None if choice in ("", NOT_APPLICABLE)
                                                                         else choice),
                      "evidence": v["evidence"], "comment": v["comment"]})
    return values, items


def _answer_problems(form: str, values: dict[str, dict[str, str]], items: list[dict[str, Any]],
                     exc: NordcertError) -> Failed:
    """The service's problems by control and field: ``answers.3.comment`` is the fourth answer sent,
    ``answers.GOV-01`` a control not answered at submission."""
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        parts = str(d.get("field") or "").split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(items):
            key = f"{items[int(parts[1])]['control_id']}.{parts[2]}"
        elif len(parts) == 2 and parts[0] == "answers":
            key = f"{parts[1]}.maturity"
        else:
            key = ""
        problems.setdefault(key, []).append(str(d.get("reason") or ""))
    return Failed(form, values, problems or {"": [exc.message]}, exc.message)


# --- CERT staff: progress, a member's answers, reopening and closing ---------------------------------------


@router.get("/campaigns/{campaign_id:int}/progress", response_class=HTMLResponse)
def progress_page(page: MemberPage, conn: ReadConn, campaign_id: int) -> Response:
    found = campaigns.progress(conn, reader=page.member, campaign_id=campaign_id)
    groups: dict[str, dict[str, int]] = {}
    for m in found["members"]:
        counts = groups.setdefault(m["organisation"]["sector_type"], dict.fromkeys(STATE_NAMES, 0))
        counts[m["state"]] += 1
    points = [("All members", found["counts"]), *((t.replace("_", " "), c) for t, c in sorted(groups.items()))]
    chart = charts.stacked_columns(points, title="Members by the state of their response", series=STATE_SERIES,
                                   width=560, height=200)
    return render(page, "baseline_progress.html", progress=found, campaign=found["campaign"], chart=chart,
                  state_names=STATE_NAMES)


@router.get("/campaigns/{campaign_id:int}/responses/{organisation_id:int}", response_class=HTMLResponse)
def member_response(page: MemberPage, conn: ReadConn, campaign_id: int, organisation_id: int) -> Response:
    response = answers.get_response(conn, reader=page.member, campaign_id=campaign_id,
                                    organisation_id=organisation_id)
    catalogue = campaigns.campaign_catalogue(conn, campaign_id=campaign_id)
    return render(page, "baseline_response.html", response=response, campaign=response["campaign"],
                  catalogue=catalogue, by_domain=[(d, catalogue.controls_in(d.key)) for d in catalogue.domains],
                  state_names=STATE_NAMES, staff=page.member.is_cert_staff)


@router.post("/campaigns/{campaign_id:int}/responses/{organisation_id:int}/reopen", response_class=HTMLResponse)
async def reopen(page: MemberPage, request: Request, campaign_id: int, organisation_id: int) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(_staff_act, page, campaign_id, "reopen", organisation_id)


@router.post("/campaigns/{campaign_id:int}/close", response_class=HTMLResponse)
async def close(page: MemberPage, request: Request, campaign_id: int) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(_staff_act, page, campaign_id, "close", None)


def _staff_act(page: Page, campaign_id: int, action: str, organisation_id: int | None) -> Response:
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            if action == "close":
                campaigns.close_campaign(conn, reader=page.member, campaign_id=campaign_id)
                flash = "Campaign closed: answers are final, and members see the sector's figures."
            else:
                assert organisation_id is not None
                done = answers.reopen(conn, reader=page.member, campaign_id=campaign_id,
                                      organisation_id=organisation_id)
                flash = f"{done['organisation']['name']}’s response is a draft again: its members may change it."
    except (Conflict, NotFound) as exc:
        return redirect(page, f"/baseline/campaigns/{campaign_id}/progress", flash=exc.message)
    return redirect(page, f"/baseline/campaigns/{campaign_id}/progress", flash=flash)


def _refused(form: str, values: Mapping[str, Any], exc: NordcertError, names: Mapping[str, str]) -> Failed:
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        name = str(d.get("field") or "")
        problems.setdefault(names.get(name, name), []).append(str(d.get("reason") or ""))
    return Failed(form, values, problems or {"": [exc.message]}, exc.message)
