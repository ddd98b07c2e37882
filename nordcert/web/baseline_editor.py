"""CERT staff's catalogue editor: the versions (drafts and published), a new draft from a version, a data file
imported, a draft's controls changed, added and removed one form at a time, publication, and the diff of two
versions (/baseline/versions, /baseline/diff).

Every change is one call to :mod:`nordcert.baseline.catalogues`, which checks the control like the shipped data
file and refuses to change a published version. A refused form comes back with 422 (409 for a version taken or a
published one) with its problems by the fields, and nothing stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from nordcert.baseline import catalogues
from nordcert.baseline.access import require_staff
from nordcert.baseline.catalogue import CSF_CATEGORIES, MAX_CRITERIA, PRIORITIES, control_to_dict
from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid, NordcertError, NotFound
from nordcert.web.baseline_pages import PRIORITY_NAMES
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, posted_form, status_of

router = APIRouter(include_in_schema=False, prefix="/baseline")

MAX_UPLOAD = 2 * 1024 * 1024
_REFS = re.compile(r"[,;\n]+")
_INDEXED = re.compile(r"^(dora|nis2|csf)\[\d+\]$")
_CRITERION = re.compile(r"^criteria\[(\d+)\]\.(text|level|id)$")


# --- the versions --------------------------------------------------------------------------------------


@router.get("/versions", response_class=HTMLResponse)
def versions_page(page: MemberPage, conn: ReadConn) -> Response:
    return _versions(page, conn)


def _versions(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None) -> Response:
    require_staff(page.member, "edit the catalogue")
    return render(page, "baseline_versions.html", status=status,
                  versions=catalogues.list_versions(conn, reader=page.member), failed=failed or Failed("", {}))


@router.post("/versions", response_class=HTMLResponse)
async def new_draft(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    values = {k: form_text(form, k) for k in ("base_version", "version", "title")}
    return await run_in_threadpool(
        _act, page, "draft", values, lambda conn: catalogues.create_draft(
            conn, reader=page.member, base_version=values["base_version"], version=values["version"],
            title=values["title"] or None),
        done=lambda v: (f"/baseline/versions/{v['version']}", f"Draft {v['version']} made from {v['based_on']}."))


@router.post("/versions/import", response_class=HTMLResponse)
async def import_file(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    try:
        upload = form.get("file")
        raw = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
        publish = form.get("publish") == "1"
    finally:
        await form.close()
    return await run_in_threadpool(_import, page, raw, publish)


def _import(page: Page, raw: bytes, publish: bool) -> Response:
    values = {"publish": publish}
    try:
        if not raw:
            raise Invalid("choose a catalogue file (JSON)", details=[{"field": "file", "reason": "no file chosen"}])
        if len(raw) > MAX_UPLOAD:
            raise Invalid("the file is too large", details=[{"field": "file", "reason": "at most 2 MB"}])
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"the file is not JSON: {exc}", details=[{"field": "file", "reason": str(exc)}]) from None
    except Invalid as exc:
        with transaction(page.request.app.state.engine, write=False) as conn:
            return _versions(page, conn, status=422, failed=_failed("import", values, exc))
    return _act(page, "import", values, lambda conn: catalogues.import_version(
        conn, reader=page.member, data=data, publish=publish),
        done=lambda v: (f"/baseline/versions/{v['version']}", f"Catalogue {v['version']} imported"
                        + (" and published." if v["published"] else " as a draft.")))


@router.get("/versions/{version}", response_class=HTMLResponse)
def version_page(page: MemberPage, conn: ReadConn, version: str) -> Response:
    return _version(page, conn, version)


def _version(page: Page, conn: Connection, version: str, *, status: int = 200,
             failed: Failed | None = None) -> Response:
    require_staff(page.member, "edit the catalogue")
    meta = catalogues.get_version(conn, reader=page.member, version=version)
    catalogue = catalogues.version_catalogue(conn, reader=page.member, version=version)
    return render(page, "baseline_version.html", status=status, meta=meta, catalogue=catalogue,
                  by_domain=[(d, catalogue.controls_in(d.key)) for d in catalogue.domains],
                  priority_names=PRIORITY_NAMES, failed=failed or Failed("", {}))


@router.post("/versions/{version}/title", response_class=HTMLResponse)
async def retitle(page: MemberPage, request: Request, version: str) -> Response:
    form = await posted_form(page, request)
    values = {"title": form_text(form, "title")}
    return await run_in_threadpool(
        _act, page, "title", values, lambda conn: catalogues.update_draft(
            conn, reader=page.member, version=version, title=values["title"]),
        done=lambda v: (f"/baseline/versions/{version}", "Title changed."), version=version)


@router.post("/versions/{version}/publish", response_class=HTMLResponse)
async def publish(page: MemberPage, request: Request, version: str) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(
        _act, page, "publish", {}, lambda conn: catalogues.publish(conn, reader=page.member, version=version),
        done=lambda v: (f"/baseline/catalogue/{version}",
                        f"Catalogue {version} published: campaigns may use it, and it never changes again."),
        version=version)


@router.post("/versions/{version}/delete", response_class=HTMLResponse)
async def delete(page: MemberPage, request: Request, version: str) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(
        _act, page, "delete", {}, lambda conn: catalogues.delete_draft(conn, reader=page.member, version=version),
        done=lambda v: ("/baseline/versions", f"Draft {version} deleted."), version=version)


# --- a draft's controls -------------------------------------------------------------------------------------


@router.get("/versions/{version}/controls/new", response_class=HTMLResponse)
def new_control_page(page: MemberPage, conn: ReadConn, version: str) -> Response:
    return _control_form(page, conn, version, None)


@router.get("/versions/{version}/controls/{control_id}", response_class=HTMLResponse)
def control_page(page: MemberPage, conn: ReadConn, version: str, control_id: str) -> Response:
    return _control_form(page, conn, version, control_id)


def _control_form(page: Page, conn: Connection, version: str, control_id: str | None, *, status: int = 200,
                  failed: Failed | None = None) -> Response:
    require_staff(page.member, "edit the catalogue")
    meta = catalogues.get_version(conn, reader=page.member, version=version)
    catalogue = catalogues.version_catalogue(conn, reader=page.member, version=version)
    if failed is not None:
        values = dict(failed.values)
    elif control_id is not None:
        try:
            values = _form_values(control_to_dict(catalogue.control(control_id)))
        except KeyError:
            raise NotFound(f"catalogue {version} has no control {control_id}") from None
    else:
        values = _form_values({"domain": catalogue.domains[0].key, "target": 3, "priority": "essential"})
    rows = values.get("criteria", [])
    values["criteria"] = rows + [{"text": "", "level": ""}] * max(0, min(MAX_CRITERIA, len(rows) + 2) - len(rows))
    return render(page, "baseline_control_form.html", status=status, meta=meta, catalogue=catalogue,
                  control_id=control_id, values=values, failed=failed or Failed("", {}), priorities=PRIORITIES,
                  priority_names=PRIORITY_NAMES, csf_categories=CSF_CATEGORIES)


def _form_values(control: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": control.get("id", ""), "domain": control.get("domain", ""), "title": control.get("title", ""),
        "objective": control.get("objective", ""), "target": str(control.get("target", "")),
        "priority": control.get("priority", ""), "guidance": control.get("guidance", ""),
        "criteria": [{"text": k["text"], "level": str(k["level"])} for k in control.get("criteria", [])],
        "dora": ", ".join(control.get("dora", [])), "nis2": ", ".join(control.get("nis2", [])),
        "csf": list(control.get("csf", [])),
    }


@router.post("/versions/{version}/controls", response_class=HTMLResponse)
async def add_control(page: MemberPage, request: Request, version: str) -> Response:
    form = await posted_form(page, request)
    return await run_in_threadpool(_save_control, page, version, None, form)


@router.post("/versions/{version}/controls/{control_id}", response_class=HTMLResponse)
async def change_control(page: MemberPage, request: Request, version: str, control_id: str) -> Response:
    form = await posted_form(page, request)
    return await run_in_threadpool(_save_control, page, version, control_id, form)


@router.post("/versions/{version}/controls/{control_id}/remove", response_class=HTMLResponse)
async def remove_control(page: MemberPage, request: Request, version: str, control_id: str) -> Response:
    await posted_form(page, request)
    return await run_in_threadpool(
        _act, page, "remove", {}, lambda conn: catalogues.remove_control(
            conn, reader=page.member, version=version, control_id=control_id),
        done=lambda v: (f"/baseline/versions/{version}", f"Control {control_id} removed."), version=version)


def _save_control(page: Page, version: str, control_id: str | None, form: FormData) -> Response:
    values, data, rows = _posted_control(form, control_id)
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            saved = catalogues.put_control(conn, reader=page.member, version=version, control_id=control_id,
                                           data=data)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return _control_form(page, conn, version, control_id, status=status_of(exc),
                                 failed=_failed("control", values, exc, rows))
    what = "changed" if control_id else "added"
    return redirect(page, f"/baseline/versions/{version}#control-{saved['id']}", flash=f"Control {saved['id']} {what}.")


def _posted_control(form: FormData, control_id: str | None) -> tuple[dict[str, Any], dict[str, Any], list[int]]:
    """The form as typed, the control to send, and the form row of each criterion sent (blank rows are left out)."""
    criteria, rows = [], []
    typed = []
    for n in range(MAX_CRITERIA):
        text, level = form_text(form, f"criterion_text_{n}"), form_text(form, f"criterion_level_{n}")
        typed.append({"text": text, "level": level})
        if text or level:
            criteria.append({"text": text, "level": int(level) if level.isdigit() else level})
            rows.append(n)
    refs = {k: [r.strip() for r in _REFS.split(form_text(form, k)) if r.strip()] for k in ("dora", "nis2")}
    csf = [str(v) for v in form.getlist("csf")]
    target = form_text(form, "target")
    data = {
        "id": control_id or form_text(form, "id"), "domain": form_text(form, "domain"),
        "title": form_text(form, "title"), "objective": form_text(form, "objective"),
        "target": int(target) if target.isdigit() else target, "priority": form_text(form, "priority"),
        "criteria": criteria, **refs, "csf": csf, "guidance": form_text(form, "guidance"),
    }
    values = {**data, "target": target, "criteria": typed, "dora": form_text(form, "dora"),
              "nis2": form_text(form, "nis2"), "csf": csf}
    return values, data, rows


# --- the diff ---------------------------------------------------------------------------------------------


@router.get("/diff", response_class=HTMLResponse)
def diff_page(page: MemberPage, conn: ReadConn, from_version: str = "", to_version: str = "") -> Response:
    reader = page.member
    versions = catalogues.list_versions(conn, reader=reader)
    if not from_version or not to_version:
        return render(page, "baseline_diff.html", versions=versions, diff=None, chosen=(from_version, to_version))
    found = catalogues.diff_versions(conn, reader=reader, before=from_version, after=to_version)
    return render(page, "baseline_diff.html", versions=versions, diff=found, chosen=(from_version, to_version),
                  scale=catalogues.version_catalogue(conn, reader=reader, version=to_version).scale)


# --- forms ----------------------------------------------------------------------------------------------------


def _act(page: Page, form_id: str, values: Mapping[str, Any], call: Callable[[Connection], Any], *,
         done: Callable[[Any], tuple[str, str]], version: str | None = None) -> Response:
    """One service call in its own transaction; refused, the page of the form again with its problems."""
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            result = call(conn)
    except (Invalid, Conflict) as exc:
        failed = _failed(form_id, values, exc)
        with transaction(engine, write=False) as conn:
            if version is None:
                return _versions(page, conn, status=status_of(exc), failed=failed)
            return _version(page, conn, version, status=status_of(exc), failed=failed)
    url, flash = done(result)
    return redirect(page, url, flash=flash)


def _failed(form: str, values: Mapping[str, Any], exc: NordcertError, rows: list[int] | None = None) -> Failed:
    """Problems by the form's fields: ``dora[2]`` is the DORA field, ``criteria[1].text`` the row it came from."""
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        name = str(d.get("field") or "")
        crit = _CRITERION.match(name)
        if _INDEXED.match(name):
            name = name.split("[")[0]
        elif crit and rows is not None and int(crit.group(1)) < len(rows):
            name = f"criterion_{crit.group(2)}_{rows[int(crit.group(1))]}"
        problems.setdefault(name, []).append(str(d.get("reason") or ""))
    if not problems:
        problems = {"": [exc.message]}
    return Failed(form, values, problems, exc.message)
