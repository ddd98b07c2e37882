"""Pages of intel: search, an object with its versions, relations, correlations and sightings, the
actions on it (revoke, add a sighting, change sharing), and submitting intel (one value, or a file)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from nordcert.accounts import service as accounts
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Forbidden, Invalid, NordcertError, NotFound
from nordcert.formats.imports import FORMATS, detect_format, run_import
from nordcert.intel import service as intel
from nordcert.intel.submission import submission_for
from nordcert.intel.validate import ObjectError, timestamp_us
from nordcert.observables import service as observables
from nordcert.observables import sightings
from nordcert.observables.kinds import Kind, detect
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role
from nordcert.sharing.tlp import Tlp
from nordcert.web import charts, dashboard, intel_actions
from nordcert.web.deps import MemberPage, Page, WebPage, check_csrf
from nordcert.web.render import redirect, render

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]
TLPS = [t.label for t in Tlp]
SEARCH_TYPES = ("indicator", "report", "sighting", "malware", "threat-actor", "campaign", "attack-pattern",
                "identity", "vulnerability", "relationship", "observed-data", "x-bank-account", "x-phone-number")
_UPLOAD_SUFFIXES = (".json", ".gz", ".csv", ".tsv", ".txt")


def _groups_of(conn: Any, reader: Reader) -> list[str]:
    if reader.is_cert_staff:
        return [g["name"] for g in accounts.list_groups(conn)]
    return sorted(accounts.get_group(conn, g)["name"] for g in reader.group_ids)


def _may_submit(reader: Reader) -> bool:
    return reader.role in (Role.ANALYST, Role.CERT_ADMIN)


# --- search ------------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search(page: MemberPage, conn: ReadConn, q: str = "", type: str = "", tlp: str = "", creator: str = "",
           label: str = "", since: str = "", revoked: str = "", cursor: str = "") -> Response:
    reader = page.member
    form = {"q": q, "type": type, "tlp": tlp, "creator": creator, "label": label, "since": since, "revoked": revoked}
    error = None
    found: intel.Page = intel.Page(objects=[], next=None)
    lookup = None
    try:
        after = timestamp_us(since + "T00:00:00Z", "since") if since else None
        filters = intel.ObjectFilter(
            types=(type,) if type else (), creator=creator.strip() or None, tlp=Tlp.parse(tlp) if tlp else None,
            added_after=after, label=label.strip() or None, include_revoked=bool(revoked),
            text=q.strip() or None)
        if q.strip() and detect(q.strip(), phone_region=page.settings.phone_region) is not None:
            lookup = observables.lookup(conn, reader, page.settings, [q.strip()], subdomains=True)["results"][0]
            if lookup.get("found"):
                ids = [m["id"] for m in lookup["matches"]]
                found = intel.Page(objects=[intel.get_object(conn, reader, i, page.settings) for i in ids[:50]],
                                   next=None)
        if lookup is None or not lookup.get("found"):
            found = intel.list_objects(conn, reader, page.settings, filters=filters, limit=50,
                                       cursor=cursor or None)
    except (Invalid, ObjectError) as exc:
        error = getattr(exc, "message", str(exc))
    next_url = ("/search?" + urlencode({**{k: v for k, v in form.items() if v}, "cursor": found.next})
                if found.next else None)
    return render(page, "search.html", status=422 if error else 200, form=form, error=error, results=found.objects,
                  next=found.next, next_url=next_url, lookup=lookup, types=SEARCH_TYPES, tlps=TLPS)


# --- one object --------------------------------------------------------------------------------


@router.get("/objects/{stix_id}", response_class=HTMLResponse)
def object_page(page: WebPage, conn: ReadConn, stix_id: str, version: str = "") -> Response:
    reader = page.reader
    try:
        item = intel.get_object(conn, reader, stix_id, page.settings, version=version or None)
        versions = intel.versions(conn, reader, stix_id)
    except NotFound:
        return render(page, "error.html", status=404, title="Not found",
                      message=f"There is no object {stix_id} that you may see." +
                      ("" if reader else " Log in to see what your organisation may see."))
    except Invalid as exc:
        return render(page, "error.html", status=422, title="Bad request", message=exc.message)
    context: dict[str, Any] = {"item": item, "obj": item["object"], "meta": item["meta"], "versions": versions,
                               "json": orjson.dumps(item["object"], option=orjson.OPT_INDENT_2).decode(),
                               "relations": dashboard.related(conn, reader, stix_id)}
    others = [r["other"] for r in context["relations"]]
    context["names"] = dashboard.names_of(conn, reader, others)
    try:
        context["observed"] = observables.observables_of(conn, reader, stix_id)
        latest_shown = True
    except NotFound:  # an earlier version the reader may see, whose latest it may not: only that version
        context["observed"], latest_shown = [], False
    if reader is not None and latest_shown:
        context["correlations"] = observables.correlations(conn, reader, page.settings, stix_id)
        summary = sightings.sightings_of(conn, reader, page.settings, stix_id)
        context["sightings"] = summary
        context["sightings_chart"] = charts.columns(
            [(d["date"][5:], d["count"]) for d in summary["trend"]["days"]],
            title="Sightings of this object per day, last 14 days", height=120)
        sharing = intel_actions.sharing_of(conn, reader, stix_id)
        context["may_modify"] = policy.may_modify(sharing, reader) and "modified" in item["object"]
        context["may_sight"] = _may_submit(reader) and item["object"]["type"] not in (
            "sighting", "relationship", "marking-definition")
        context["groups"] = _groups_of(conn, reader)
        context["tlps"] = TLPS
    return render(page, "object.html", **context)


@router.post("/objects/{stix_id}/revoke")
def revoke(page: MemberPage, request: Request, stix_id: str, csrf: FormText = "") -> Response:
    check_csrf(page, csrf)
    try:
        with transaction(request.app.state.engine) as conn:
            intel.revoke(conn, page.member, stix_id, page.settings)
    except NordcertError as exc:
        return redirect(page, f"/objects/{stix_id}", flash=f"Not revoked: {exc.message}")
    return redirect(page, f"/objects/{stix_id}", flash="Revoked: a new version marks it revoked.")


@router.post("/objects/{stix_id}/sightings")
def add_sighting(page: MemberPage, request: Request, stix_id: str, csrf: FormText = "", count: FormText = "1",
                 note: FormText = "", anonymous: FormText = "") -> Response:
    check_csrf(page, csrf)
    try:
        number = int(count.strip() or "1")
    except ValueError:
        return redirect(page, f"/objects/{stix_id}", flash="Sighting not recorded: the count must be a whole number.")
    try:
        with transaction(request.app.state.engine) as conn:
            sightings.record_sighting(conn, page.member, page.settings, stix_id, count=number,
                                      note=note.strip()[:2000] or None, anonymous=bool(anonymous))
    except NordcertError as exc:
        return redirect(page, f"/objects/{stix_id}", flash=f"Sighting not recorded: {exc.message}")
    return redirect(page, f"/objects/{stix_id}", flash=f"Sighting recorded (count {number}).")


@router.post("/objects/{stix_id}/sharing")
def change_sharing(page: MemberPage, request: Request, stix_id: str, csrf: FormText = "", tlp: FormText = "",
                   group: FormText = "", recipients: FormText = "", anonymous: FormText = "") -> Response:
    check_csrf(page, csrf)
    names = [r.strip() for r in recipients.split(",") if r.strip()]
    try:
        with transaction(request.app.state.engine) as conn:
            intel_actions.reshare(conn, page.member, page.settings, stix_id, tlp=tlp or "amber",
                                  group=group or None, recipients=names, anonymous=bool(anonymous))
    except NordcertError as exc:
        return redirect(page, f"/objects/{stix_id}", flash=f"Sharing not changed: {exc.message}")
    return redirect(page, f"/objects/{stix_id}", flash="Sharing changed: a new version carries it.")


# --- submit ------------------------------------------------------------------------------------


def _submit_form(page: Page, conn: Any, *, status: int = 200, **context: Any) -> Response:
    reader = page.member
    values = {"kind": "auto", "value": "", "name": "", "description": "", "tlp": page.settings.default_tlp,
              "group": "", "anonymous": "", "confidence": "", **context.pop("values", {})}
    return render(page, "submit.html", status=status, values=values, kinds=[k.value for k in Kind],
                  kind_names=intel_actions.KIND_NAMES, tlps=TLPS, groups=_groups_of(conn, reader),
                  may_submit=_may_submit(reader), formats=FORMATS, **context)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(page: MemberPage, conn: ReadConn) -> Response:
    return _submit_form(page, conn)


@router.post("/submit", response_class=HTMLResponse)
def submit(page: MemberPage, request: Request, conn: ReadConn, csrf: FormText = "", kind: FormText = "auto",
           value: FormText = "", name: FormText = "", description: FormText = "", tlp: FormText = "",
           group: FormText = "", anonymous: FormText = "", confidence: FormText = "") -> Response:
    check_csrf(page, csrf)
    values = {"kind": kind, "value": value, "name": name, "description": description, "tlp": tlp, "group": group,
              "anonymous": anonymous, "confidence": confidence}
    try:
        conf = int(confidence) if confidence.strip() else None
    except ValueError:
        return _submit_form(page, conn, status=422, values=values, error="Confidence must be a number from 0 to 100.")
    try:
        with transaction(request.app.state.engine) as wconn:
            new_id = intel_actions.submit_value(
                wconn, page.member, page.settings, kind=kind, value=value, name=name, description=description,
                tlp=tlp or None, group=group or None, anonymous=bool(anonymous), confidence=conf)
    except (Invalid, Forbidden, NotFound) as exc:
        if "card number" in exc.message:
            values["value"] = ""  # a full card number is never echoed back
        return _submit_form(page, conn, status=422, values=values, error=exc.message, details=exc.details)
    return redirect(page, f"/objects/{new_id}", flash="Submitted. Correlations with other members' reports "
                    "appear below as soon as they exist.")


@router.post("/upload", response_class=HTMLResponse)
async def upload(page: MemberPage, request: Request, file: Annotated[UploadFile | None, File()] = None,
                 csrf: FormText = "", format: FormText = "auto", tlp: FormText = "", group: FormText = "",
                 anonymous: FormText = "", skip_invalid: FormText = "") -> Response:
    check_csrf(page, csrf)
    return await run_in_threadpool(_upload_sync, page, request, file, format, tlp, group, anonymous, skip_invalid)


def _upload_sync(page: Page, request: Request, file: UploadFile | None, fmt: str, tlp: str, group: str,
                 anonymous: str, skip_invalid: str) -> Response:
    engine = request.app.state.engine
    problem, details, report = None, [], None
    name = Path(file.filename or "").name if file is not None else ""
    suffix = "".join(Path(name).suffixes[-2:]).lower() if name else ""
    if file is None or not name:
        problem = "Choose a file to upload: a STIX 2.1 bundle, a MISP event (JSON) or a CSV file."
    elif not suffix.endswith(_UPLOAD_SUFFIXES):
        problem = f"{name}: upload a .json, .json.gz, .csv, .tsv or .txt file."
    elif fmt not in ("auto", *FORMATS):
        problem = f"Unknown format {fmt!r}."
    else:
        with tempfile.TemporaryDirectory(prefix="nordcert-upload-") as tmp:
            path = Path(tmp) / ("upload" + suffix)
            size = 0
            with path.open("wb") as out:
                while chunk := file.file.read(1 << 20):
                    size += len(chunk)
                    if size > page.settings.max_request_bytes:
                        problem = "The file is too large for the web form: import it with `nordcert import`."
                        break
                    out.write(chunk)
            if problem is None:
                try:
                    chosen = detect_format(str(path)) if fmt == "auto" else fmt
                    with transaction(engine) as conn:
                        sub = submission_for(conn, page.member, tlp=tlp or None, group=group or None,
                                             anonymous=bool(anonymous))
                        report = run_import(conn, str(path), chosen, sub, page.settings,
                                            strict=not skip_invalid).as_dict()
                        report["source"] = name
                except NordcertError as exc:
                    problem, details = exc.message.replace(path.name, name), exc.details
    with transaction(engine, write=False) as conn:
        if report is not None:
            return render(page, "import_report.html", report=report)
        return _submit_form(page, conn, status=422, upload_error=problem, upload_details=details[:50])
