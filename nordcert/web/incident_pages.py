"""Pages of DORA major-incident reporting (DORA Art 19): the incidents a reader may see with their
countdowns, recording an incident, its classification and report timeline with the forms of the next
report, the reports laid out for print and as the template's JSON, and a summary shared with the sector.

Every read and write is one call to :mod:`nordcert.incidents.service` (or, to share a summary,
:func:`nordcert.incidents.sector.share_summary`), which decides who may see and who may write (a
member its own incidents, CERT staff all of them, read-only). The pages only ask
:data:`~nordcert.incidents.service.WRITERS` to decide whether to show a form at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid
from nordcert.incidents import deadlines, service
from nordcert.incidents import sector as sector_view
from nordcert.incidents.reports import COMMON_FIELDS
from nordcert.sharing.policy import Reader, Role
from nordcert.web import dashboard
from nordcert.web import incident_forms as forms
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.incident_print import layout
from nordcert.web.render import env, redirect, render

router = APIRouter(include_in_schema=False, prefix="/incidents")

KIND_NAMES = {"initial_notification": "Initial notification", "intermediate_report": "Intermediate report",
              "final_report": "Final report"}
#: When each report is due, in a few words (CDR 2025/301 Art 5).
KIND_PERIODS = {"initial_notification": "4 h after classification, 24 h after detection at the latest",
                "intermediate_report": "72 h after the initial notification",
                "final_report": "1 month after the latest intermediate report"}
STATE_NAMES = {"not_required": "not required", "waiting": "waiting", "pending": "due", "overdue": "overdue",
               "submitted": "submitted in time", "submitted_late": "submitted late"}
STATE_CLASSES = {"not_required": "state-idle", "waiting": "state-idle", "pending": "state-syncing",
                 "overdue": "state-failing", "submitted": "state-ok", "submitted_late": "state-failing"}
STATUS_NAMES = {"recorded": "recorded, no report yet", "initial_submitted": "initial notification submitted",
                "intermediate_submitted": "intermediate report submitted", "closed": "closed: final report submitted"}
SHOWS = {"": "all", "open": "open", "overdue": "overdue", "major": "major"}
#: The TLPs a summary for the sector may carry: RED is for named recipients, not the sector.
SHARE_TLPS = ("clear", "green", "amber", "amber+strict")
SHARE_HINT = ("In your own words: what happened and what others should look for. No client data, names or account "
              "numbers: nothing else of the incident is shared but its severity, the criteria met and its types.")
_SOON_S = 3600


# --- time in words ---------------------------------------------------------------------------------


def span(seconds: float) -> str:
    """A duration to the minute: "45 min", "3 h 12 min", "71 h 5 min", "2 h"; from 96 h on "30 d 3 h"."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 96:  # the 72-hour report counts down in hours, as DORA states it
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def countdown(due_at: str | None, now: datetime) -> dict[str, Any] | None:
    """"due in 3 h 12 min" or "overdue by 2 h", and whether it is overdue or due within the hour."""
    if not due_at:
        return None
    left = (datetime.fromisoformat(due_at) - now).total_seconds()
    if left < 0:
        return {"text": f"overdue by {span(left)}", "overdue": True, "soon": False}
    return {"text": f"due in {span(left)}", "overdue": False, "soon": left < _SOON_S}


def moment(iso: str | None, zone: ZoneInfo) -> dict[str, str] | None:
    """A stored moment in UTC and in the incident's local time."""
    if not iso:
        return None
    at = datetime.fromisoformat(iso)
    return {"utc": f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC", "local": deadlines.show(at, zone), "iso": iso}


# --- who may write, what comes next ---------------------------------------------------------------


def may_record(reader: Reader) -> bool:
    return reader.role in service.WRITERS


def _may_write(reader: Reader, incident: dict[str, Any]) -> bool:
    return may_record(reader) and incident["organisation"]["id"] == reader.organisation_id


def submittable(incident: dict[str, Any]) -> list[str]:
    """The report kinds that may be submitted now, the one due first (the service checks the order)."""
    kinds = [r["kind"] for r in incident["reports"]]
    if "final_report" in kinds:
        return []
    if "intermediate_report" in kinds:
        return ["final_report", "intermediate_report"]
    if "initial_notification" in kinds:
        return ["intermediate_report"]
    return ["initial_notification"] if incident["major"] else []


def _carried(incident: dict[str, Any], kind: str) -> dict[str, Any]:
    """What a new report starts from: the previous report's common fields, an earlier intermediate report
    for an updated one, the incident's occurrence time."""
    reports = incident["reports"]
    content: dict[str, Any] = {}
    if reports:
        content = {k: v for k, v in reports[-1]["content"].items() if k in COMMON_FIELDS}
    if kind == "intermediate_report":
        earlier = [r for r in reports if r["kind"] == "intermediate_report"]
        if earlier:
            content |= earlier[-1]["content"]
        content.setdefault("occurred_at", incident["occurred_at"])
    return content


# --- the overdue banner ----------------------------------------------------------------------------


def overdue_incidents(page: Page) -> list[dict[str, Any]]:
    """The reader's organisation's incidents with a report past its deadline (base.html's banner)."""
    user = page.user
    if user is None or user.reader.role is Role.PEER:
        return []
    with transaction(page.request.app.state.engine, write=False) as conn:
        found = service.list_incidents(conn, user.reader, overdue=True, organisation=user.organisation_short,
                                       limit=5)
    now = datetime.now(UTC)
    return [{**i, "countdown": countdown(i["next_due"]["due_at"], now),
             "kind_name": KIND_NAMES[i["next_due"]["kind"]]} for i in found]


env.globals["overdue_incidents"] = overdue_incidents


# --- list ------------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def incidents(page: MemberPage, conn: ReadConn, show: str = "", organisation: str = "") -> Response:
    reader = page.member
    show = show if show in SHOWS else ""
    found = service.list_incidents(
        conn, reader, major=True if show == "major" else None, overdue=True if show == "overdue" else None,
        organisation=organisation.strip() or None if reader.is_cert_staff else None, limit=service.MAX_PAGE)
    if show == "open":
        found = [i for i in found if i["status"] != "closed"]
    now = datetime.now(UTC)
    rows = [{**i, "countdown": countdown(i["next_due"]["due_at"], now) if i["next_due"] else None,
             "detected": moment(i["detected_at"], deadlines.zone_of(i["timezone"]))} for i in found]
    return render(page, "incidents.html", incidents=rows, show=show, shows=SHOWS, organisation=organisation,
                  staff=reader.is_cert_staff, may_record=may_record(reader), kind_names=KIND_NAMES,
                  status_names=STATUS_NAMES, sector=sector_view.may_see_sector(conn, reader))


# --- recording -------------------------------------------------------------------------------------


def _new_sections() -> list[forms.Section]:
    return [*forms.incident_form(), *forms.facts_form()]


def _new_form(page: Page, conn: Any, *, status: int = 200, values: forms.Values | None = None,
              errors: dict[str, list[str]] | None = None, general: list[str] | None = None) -> Response:
    reader = page.member
    if values is None:
        country = accounts.get_organisation(conn, reader.organisation_id)["country"]
        zone_name = deadlines.zone_for_country(country)
        values = {"timezone": zone_name,
                  "detected_at": forms.local_input(datetime.now(UTC), deadlines.zone_of(zone_name))}
    return render(page, "incident_new.html", status=status, sections=_new_sections(), values=values,
                  errors=errors or {}, general=general or [], may_record=may_record(reader))


@router.get("/new", response_class=HTMLResponse)
def new_incident(page: MemberPage, conn: ReadConn) -> Response:
    return _new_form(page, conn)


@router.post("/new", response_class=HTMLResponse)
async def record(page: MemberPage, request: Request) -> Response:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    return await run_in_threadpool(_record, page, request, form)


def _record(page: Page, request: Request, form: FormData) -> Response:
    engine = request.app.state.engine
    sections = _new_sections()
    values = forms.raw_values(form, sections)
    try:
        zone = deadlines.zone_of(str(values.get("timezone") or "UTC"))
    except ValueError:
        zone = ZoneInfo("UTC")
    data, problems = forms.parsed(values, sections, zone)
    status, general = 422, []
    if not problems:
        times = {k: datetime.fromisoformat(data[k]) if k in data else None for k in forms.INCIDENT_TIMES}
        try:
            with transaction(engine) as conn:
                done = service.record_incident(
                    conn, page.member, reference=data.get("reference", ""), title=data.get("title", ""),
                    description=data.get("description", ""), detected_at=times["detected_at"],  # type: ignore[arg-type]
                    occurred_at=times["occurred_at"], classified_at=times["classified_at"],
                    timezone=data.get("timezone"), weekend_relief=bool(data.get("weekend_relief")),
                    facts=data.get("facts", {}), intel_links=data.get("intel_links", []))
        except Invalid as exc:
            problems = exc.details or [{"field": "", "reason": exc.message}]
            if not any(p.get("field", "").startswith("facts") for p in problems):
                problems += forms.facts_problems(data.get("facts", {}))
        except Conflict as exc:
            status, general = 409, [exc.message]
        else:
            verdict = "major: its reports are counted down below" if done["major"] else "not major"
            return redirect(page, f"/incidents/{done['id']}", flash=f"Incident {done['reference']} recorded and "
                            f"classified {verdict}.")
    errors, more = forms.placed(problems, forms.names_of(sections))
    with transaction(engine, write=False) as conn:
        return _new_form(page, conn, status=status, values=values, errors=errors, general=general + more)


# --- one incident ----------------------------------------------------------------------------------


def _incident(page: Page, conn: Any, incident_id: int, *, chosen: str = "", status: int = 200,
              values: forms.Values | None = None, errors: dict[str, list[str]] | None = None,
              general: list[str] | None = None, share: dict[str, Any] | None = None) -> Response:
    reader = page.member
    now = datetime.now(UTC)
    inc = service.get_incident(conn, reader, incident_id, now=now)
    why = service.classify_incident(conn, reader, incident_id)
    zone = deadlines.zone_of(inc["timezone"])
    kinds = submittable(inc) if _may_write(reader, inc) else []
    kind = chosen if chosen in kinds else (kinds[0] if kinds else "")
    sections = forms.report_form(kind) if kind else []  # type: ignore[arg-type]
    if kind and values is None:
        values = forms.prefilled(_carried(inc, kind), sections, zone)
    timeline = [{**d, "name": KIND_NAMES[d["kind"]], "period": KIND_PERIODS[d["kind"]],
                 "state_name": STATE_NAMES[d["state"]], "state_class": STATE_CLASSES[d["state"]],
                 "due": moment(d["due_at"], zone), "strict": moment(d["strict_due_at"], zone),
                 "submitted": moment(d["submitted_at"], zone),
                 "countdown": countdown(d["due_at"], now) if d["state"] in ("pending", "overdue") else None}
                for d in inc["deadlines"]]
    last_of_kind = {r["kind"]: r["sequence"] for r in inc["reports"]}
    reports = [{**r, "name": KIND_NAMES[r["kind"]], "submitted": moment(r["submitted_at"], zone),
                "due": moment(r["due_at"], zone), "exportable": last_of_kind[r["kind"]] == r["sequence"]}
               for r in inc["reports"]]
    return render(
        page, "incident.html", status=status, inc=inc, why=why, zone=inc["timezone"], timeline=timeline,
        reports=reports, next_countdown=countdown(inc["next_due"]["due_at"], now) if inc["next_due"] else None,
        kind_names=KIND_NAMES, status_names=STATUS_NAMES, kinds=kinds, kind=kind, sections=sections,
        values=values or {}, errors=errors or {}, general=general or [],
        link_names=dashboard.names_of(conn, reader, inc["intel_links"]),
        times={k: moment(inc[k], zone) for k in ("detected_at", "occurred_at", "classified_at")},
        staff_view=reader.organisation_id != inc["organisation"]["id"],
        share=_share_form(conn, reader, share) if _may_write(reader, inc) else None,
        summaries=[s for s in inc["intel_links"] if s.startswith("incident--")])


@router.get("/{incident_id:int}", response_class=HTMLResponse)
def incident(page: MemberPage, conn: ReadConn, incident_id: int, report: str = "") -> Response:
    return _incident(page, conn, incident_id, chosen=report)


@router.post("/{incident_id:int}/reports/{kind}", response_class=HTMLResponse)
async def submit_report(page: MemberPage, request: Request, incident_id: int, kind: str) -> Response:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    return await run_in_threadpool(_submit, page, request, incident_id, kind, form)


def _submit(page: Page, request: Request, incident_id: int, kind: str, form: FormData) -> Response:
    engine = request.app.state.engine
    if kind not in KIND_NAMES:
        raise Invalid(f"there is no report kind {kind!r}")
    with transaction(engine, write=False) as conn:
        zone = deadlines.zone_of(service.get_incident(conn, page.member, incident_id)["timezone"])
    sections = forms.report_form(kind)  # type: ignore[arg-type]
    values = forms.raw_values(form, sections)
    content, problems = forms.parsed(values, sections, zone)
    status, general = 422, []
    if not problems:
        try:
            with transaction(engine) as conn:
                done = service.submit_report(conn, page.member, incident_id, kind=kind, content=content)
        except Invalid as exc:
            problems = exc.details or [{"field": "", "reason": exc.message}]
        except Conflict as exc:
            status, general = 409, [exc.message]
        else:
            following = done["next_due"]
            then = (f" The {KIND_NAMES[following['kind']].lower()} is due by {following['due_at'][:16]} UTC."
                    if following else "")
            return redirect(page, f"/incidents/{incident_id}", flash=f"{KIND_NAMES[kind]} submitted.{then}")
    errors, more = forms.placed(problems, forms.names_of(sections))
    with transaction(engine, write=False) as conn:
        return _incident(page, conn, incident_id, chosen=kind, status=status, values=values, errors=errors,
                         general=general + more)


# --- sharing a summary with the sector --------------------------------------------------------------


def _share_form(conn: Any, reader: Reader, sent: dict[str, Any] | None) -> dict[str, Any]:
    """The share form: as it was sent and why it was refused, or AMBER, anonymous, with the linked intel;
    a summary may be limited to one of the organisation's sharing groups."""
    fields = sent["fields"] if sent else {"title": "", "summary": "", "tlp": "amber", "group": "",
                                          "anonymous": True, "include_links": True}
    return {"fields": fields, "error": sent["error"] if sent else "", "tlps": SHARE_TLPS, "hint": SHARE_HINT,
            "groups": sorted(accounts.get_group(conn, g)["name"] for g in reader.group_ids)}


@router.post("/{incident_id:int}/share", response_class=HTMLResponse)
async def share_summary(page: MemberPage, request: Request, incident_id: int) -> Response:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    return await run_in_threadpool(_share, page, request, incident_id, form)


def _share(page: Page, request: Request, incident_id: int, form: FormData) -> Response:
    engine = request.app.state.engine
    title, summary = str(form.get("title") or "").strip(), str(form.get("summary") or "")
    tlp, group = str(form.get("tlp") or ""), str(form.get("group") or "")
    anonymous, include_links = bool(form.get("anonymous")), bool(form.get("include_links"))
    fields = {"title": title, "summary": summary, "tlp": tlp, "group": group, "anonymous": anonymous,
              "include_links": include_links}
    try:
        with transaction(engine) as conn:
            done = sector_view.share_summary(
                conn, page.member, page.settings, incident_id, tlp=tlp, summary=summary, title=title or None,
                group=group or None, anonymous=anonymous, include_links=include_links)
    except Invalid as exc:
        with transaction(engine, write=False) as conn:
            return _incident(page, conn, incident_id, status=422, share={"fields": fields, "error": exc.message})
    shared, related = done["summary"], done["relationships"]
    name = str(shared["object"]["name"])
    name = name if len(name) <= 80 else name[:79] + "…"
    how = "anonymously" if anonymous else "naming your organisation"
    links = f", related to {related} linked intel object{'s' if related != 1 else ''}" if related else ""
    return redirect(page, f"/incidents/{incident_id}#share",
                    flash=f"Summary \u201c{name}\u201d shared with the sector {how} as "
                    f"{shared['object']['id']} under TLP:{shared['meta']['tlp'].upper()}{links}.")


# --- print and JSON --------------------------------------------------------------------------------


@router.get("/{incident_id:int}/print", response_class=HTMLResponse)
def print_report(page: MemberPage, conn: ReadConn, incident_id: int, kind: str = "") -> Response:
    inc = service.get_incident(conn, page.member, incident_id)
    doc = service.export_json(conn, page.member, incident_id, kind=kind or None)
    zone = deadlines.zone_of(inc["timezone"])
    shown = doc["incidentSubmission"]
    submitted = [k for k in KIND_NAMES if any(r["kind"] == k for r in inc["reports"])]
    return render(page, "incident_print.html", inc=inc, doc=layout(doc, zone), kind=shown,
                  kind_name=KIND_NAMES[shown], kinds=submitted, kind_names=KIND_NAMES,
                  printed=moment(datetime.now(UTC).isoformat(), zone))


@router.get("/{incident_id:int}/export.json")
def export_json(page: MemberPage, conn: ReadConn, incident_id: int, kind: str = "") -> Response:
    """The same document as ``GET /api/v1/incidents/{id}/export``, for a logged-in browser."""
    doc = service.export_json(conn, page.member, incident_id, kind=kind or None)
    code = re.sub(r"[^A-Za-z0-9._-]+", "-", doc["incident"]["financialEntityCode"])
    return JSONResponse(doc, headers={
        "Content-Disposition": f'attachment; filename="{code}-{doc["incidentSubmission"]}.json"'})
