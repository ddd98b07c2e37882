"""A member's own part of the sector map in forms: its critical business processes, systems and the ICT services
it contracts (DORA Art 28(3), the register of information), their dependencies, and the CSV import of the
register (CIR 2024/2956 templates flattened to one row per function and service).

Every write is one call to :mod:`nordcert.sectormap.registry`, :mod:`~nordcert.sectormap.dependencies` or
:mod:`~nordcert.sectormap.csv_import` in one transaction: a refused form comes back with 422 (409 for a name
taken), its problems by the fields and what was typed, and nothing stored. Another member's node answers 404
as if it did not exist, since the service says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from nordcert.db import transaction
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap import csv_import, dependencies, registry, shared
from nordcert.sectormap.service import PROCESS_CATEGORIES, SERVICE_TYPES, SUBSTITUTABILITY
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.render import redirect, render
from nordcert.web.sectormap_pages import form_text, is_member, may_write_map, posted_form, refused, status_of

router = APIRouter(include_in_schema=False, prefix="/sectormap")

KIND_NAMES = {"process": "process", "system": "system", "service": "ICT service"}
_TEXT = {
    "process": ("name", "category", "function_ref", "description"),
    "system": ("name", "description"),
    "service": ("name", "provider_name", "provider_lei", "provider_country", "service_type", "substitutability",
                "storage_locations", "processing_locations", "contract_reference", "contract_end"),
}
_LISTS = {"process": ("depends_on",), "system": ("depends_on", "supports"), "service": ("depends_on", "supports")}
#: The fields each kind's form shows (a problem with another is shown above the form).
FIELDS = {kind: [*_TEXT[kind], *_LISTS[kind], "critical"] for kind in _TEXT}
DELIMITERS = {"": "detect", ",": "comma", ";": "semicolon", "tab": "tab", "|": "bar"}


def _kind(kind: str) -> str:
    if kind not in KIND_NAMES:
        raise NotFound("no such page")
    return kind


# --- the register page --------------------------------------------------------------------------------


def _choices(nodes: Mapping[str, list[dict[str, Any]]], infra: list[dict[str, Any]], kind: str,
             own_id: str | None) -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
    """What a node of ``kind`` may depend on, and what may depend on it, as groups of (node id, name)."""
    def group(k: str) -> list[tuple[str, str]]:
        return [(n["node_id"], n["name"]) for n in nodes[k] if n["node_id"] != own_id]

    shared_infra = [(i["node_id"], f"{i['name']} ({i['kind_name']})") for i in infra]
    depends = {"process": [("Systems", group("system")), ("ICT services", group("service"))],
               "system": [("Systems", group("system")), ("ICT services", group("service"))],
               "service": []}[kind] + [("Shared infrastructure", shared_infra)]
    supports = [("Processes", group("process")), ("Systems", group("system"))] if kind != "process" else []
    return {"depends_on": depends, "supports": supports}


def _register(page: Page, conn: Connection, *, status: int = 200, failed: Failed | None = None,
              imported: dict[str, Any] | None = None) -> Response:
    reader = page.member
    member = is_member(conn, page)
    nodes: dict[str, list[dict[str, Any]]] = {k: [] for k in KIND_NAMES}
    if member:
        nodes = {k: registry.list_nodes(conn, reader, k, organisation_id=reader.organisation_id) for k in KIND_NAMES}
    infra = shared.list_infrastructure(conn, reader)
    names = {n["node_id"]: n["name"] for ns in nodes.values() for n in ns} | {i["node_id"]: i["name"] for i in infra}
    return render(page, "sectormap_register.html", status=status, member=member, may_write=may_write_map(conn, page),
                  nodes=nodes, names=names, choices={k: _choices(nodes, infra, k, None) for k in KIND_NAMES},
                  failed=failed or Failed("", {}), imported=imported, kind_names=KIND_NAMES,
                  categories=PROCESS_CATEGORIES, service_types=SERVICE_TYPES, substitutability=SUBSTITUTABILITY,
                  delimiters=DELIMITERS, import_fields=sorted(csv_import.FIELDS), fields=FIELDS)


@router.get("/register", response_class=HTMLResponse)
def register(page: MemberPage, conn: ReadConn) -> Response:
    return _register(page, conn)


# --- a node's form ------------------------------------------------------------------------------------


def _typed(kind: str, form: FormData) -> dict[str, Any]:
    """What was typed, as the form shows it again."""
    typed: dict[str, Any] = {name: form_text(form, name) for name in _TEXT[kind]}
    typed["critical"] = form.get("critical") == "1"
    for name in _LISTS[kind]:
        typed[name] = [str(v) for v in form.getlist(name)]
    return typed


def _codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text) if c]


def _values(kind: str, typed: Mapping[str, Any]) -> dict[str, Any]:
    """The typed form as the service's input."""
    values: dict[str, Any] = {name: typed[name] for name in _LISTS[kind]}
    if kind == "process":
        values |= {"name": typed["name"], "category": typed["category"], "critical": typed["critical"],
                   "function_ref": typed["function_ref"] or None, "description": typed["description"]}
    elif kind == "system":
        values |= {"name": typed["name"], "description": typed["description"]}
    else:
        provider = {k: typed[f"provider_{k}"] for k in ("name", "lei", "country") if typed[f"provider_{k}"]}
        values |= {"provider": provider or None, "service_type": typed["service_type"] or None,
                   "critical": typed["critical"], "substitutability": typed["substitutability"] or None,
                   "storage_locations": _codes(typed["storage_locations"]),
                   "processing_locations": _codes(typed["processing_locations"]),
                   "contract_reference": typed["contract_reference"] or None,
                   "contract_end": typed["contract_end"] or None}
        if typed["name"]:
            values["name"] = typed["name"]
    return values


def _stored(kind: str, node: Mapping[str, Any]) -> dict[str, Any]:
    """A stored node as its form shows it."""
    typed: dict[str, Any] = {name: "" for name in _TEXT[kind]}
    typed |= {k: node[k] or "" for k in _TEXT[kind] if k in node and not isinstance(node[k], list)}
    typed["critical"] = bool(node.get("critical"))
    for name in _LISTS[kind]:
        typed[name] = list(node.get(name) or [])
    if kind == "service":
        provider = node["provider"] or {}
        typed |= {"provider_name": provider.get("name") or "", "provider_lei": provider.get("lei") or "",
                  "provider_country": provider.get("country") or "", "contract_end": node["contract_end"] or "",
                  "storage_locations": ", ".join(node["storage_locations"]),
                  "processing_locations": ", ".join(node["processing_locations"])}
    return typed


def _write(page: Page, typed: Mapping[str, Any], form_id: str, call: Callable[[Connection], Any], *,
           done: Callable[[Any], str], target: Callable[[Any], str],
           again: Callable[[Connection, int, Failed], Response]) -> Response:
    """One service call in its own transaction; refused, the form again with its problems (nothing stored)."""
    engine = page.request.app.state.engine
    try:
        with transaction(engine) as conn:
            result = call(conn)
    except (Invalid, Conflict) as exc:
        with transaction(engine, write=False) as conn:
            return again(conn, status_of(exc), refused(form_id, typed, exc, conflict_field="name"))
    return redirect(page, target(result), flash=done(result))


@router.post("/register/{kind}", response_class=HTMLResponse)
async def create_node(page: MemberPage, request: Request, kind: str) -> Response:
    kind = _kind(kind)
    typed = _typed(kind, await posted_form(page, request))
    return await run_in_threadpool(
        _write, page, typed, f"new-{kind}",
        lambda conn: registry.create_node(conn, page.member, kind, values=_values(kind, typed)),
        done=lambda n: f"{KIND_NAMES[kind].capitalize()} “{n['name']}” added.",
        target=lambda n: f"/sectormap/register#{kind}-{n['id']}",
        again=lambda conn, status, failed: _register(page, conn, status=status, failed=failed))


def _edit(page: Page, conn: Connection, kind: str, row_id: int, *, status: int = 200,
          failed: Failed | None = None) -> Response:
    reader = page.member
    node = registry.get_node(conn, reader, kind, row_id)
    if node["organisation"]["id"] != reader.organisation_id:  # CERT staff and authorities read it on the map
        raise NotFound(f"no {kind} {row_id} in your register")
    nodes = {k: registry.list_nodes(conn, reader, k, organisation_id=reader.organisation_id) for k in KIND_NAMES}
    return render(page, "sectormap_node.html", status=status, kind=kind, node=node,
                  values=failed.values if failed else _stored(kind, node), failed=failed or Failed("", {}),
                  choices=_choices(nodes, shared.list_infrastructure(conn, reader), kind, node["node_id"]),
                  may_write=may_write_map(conn, page), kind_names=KIND_NAMES, categories=PROCESS_CATEGORIES,
                  service_types=SERVICE_TYPES, substitutability=SUBSTITUTABILITY, member=True, fields=FIELDS)


@router.get("/register/{kind}/{row_id:int}", response_class=HTMLResponse)
def edit_node(page: MemberPage, conn: ReadConn, kind: str, row_id: int) -> Response:
    return _edit(page, conn, _kind(kind), row_id)


@router.post("/register/{kind}/{row_id:int}", response_class=HTMLResponse)
async def update_node(page: MemberPage, request: Request, kind: str, row_id: int) -> Response:
    kind = _kind(kind)
    typed = _typed(kind, await posted_form(page, request))
    return await run_in_threadpool(
        _write, page, typed, "edit",
        lambda conn: registry.update_node(conn, page.member, kind, row_id, changes=_values(kind, typed)),
        done=lambda n: f"{KIND_NAMES[kind].capitalize()} “{n['name']}” saved.",
        target=lambda n: f"/sectormap/register#{kind}-{n['id']}",
        again=lambda conn, status, failed: _edit(page, conn, kind, row_id, status=status, failed=failed))


@router.post("/register/{kind}/{row_id:int}/delete", response_class=HTMLResponse)
async def delete_node(page: MemberPage, request: Request, kind: str, row_id: int) -> Response:
    kind = _kind(kind)
    await posted_form(page, request)

    def delete() -> None:
        with transaction(page.request.app.state.engine) as conn:
            registry.delete_node(conn, page.member, kind, row_id)

    await run_in_threadpool(delete)
    return redirect(page, "/sectormap/register", flash=f"{KIND_NAMES[kind].capitalize()} deleted with its dependencies.")


# --- dependencies one at a time -----------------------------------------------------------------------


@router.post("/dependencies", response_class=HTMLResponse)
async def add_dependency(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    typed = {"dependent": form_text(form, "dependent"), "dependency": form_text(form, "dependency")}
    return await run_in_threadpool(
        _write, page, typed, "dependency",
        lambda conn: dependencies.add_dependency(conn, page.member, **typed),
        done=lambda _: "Dependency added.", target=lambda _: "/sectormap/register#dependencies",
        again=lambda conn, status, failed: _register(page, conn, status=status, failed=failed))


@router.post("/dependencies/remove", response_class=HTMLResponse)
async def remove_dependency(page: MemberPage, request: Request) -> Response:
    form = await posted_form(page, request)
    dependent, dependency = form_text(form, "dependent"), form_text(form, "dependency")

    def remove() -> None:
        with transaction(page.request.app.state.engine) as conn:
            dependencies.remove_dependency(conn, page.member, dependent=dependent, dependency=dependency)

    await run_in_threadpool(remove)
    return redirect(page, "/sectormap/register#dependencies", flash="Dependency removed.")


# --- the CSV import of the register of information ------------------------------------------------------


@router.post("/import", response_class=HTMLResponse)
async def import_register(page: MemberPage, request: Request,
                          file: Annotated[UploadFile | None, File()] = None) -> Response:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    typed = {"mapping": str(form.get("mapping") or ""), "delimiter": form_text(form, "delimiter"),
             "replace": form.get("replace") == "1"}
    data = await file.read(csv_import.MAX_BYTES + 1) if file is not None and file.filename else None
    return await run_in_threadpool(_import, page, typed, data, file.filename if file is not None else "")


def _import(page: Page, typed: Mapping[str, Any], data: bytes | None, filename: str | None) -> Response:
    engine = page.request.app.state.engine
    mapping = [line.strip() for line in str(typed["mapping"]).splitlines() if line.strip()]
    delimiter = "\t" if typed["delimiter"] == "tab" else (typed["delimiter"] or None)
    try:
        if data is None:
            raise Invalid("choose the CSV file of your register of information",
                          details=[{"field": "file", "reason": "choose a file"}])
        with transaction(engine) as conn:
            done = csv_import.import_register(conn, page.member, data, mapping=mapping, delimiter=delimiter,
                                              replace=bool(typed["replace"]))
    except Invalid as exc:
        # A bad line is named in the table of lines; what is wrong with the file as a whole, by the form.
        problems: dict[str, list[str]] = {"": [exc.message]}
        for d in exc.details:
            if "line" not in d:
                problems.setdefault(str(d.get("field") or ""), []).append(str(d.get("reason") or ""))
        failed = Failed("import", typed, problems, exc.message)
        lines = [d for d in exc.details if "line" in d]
        with transaction(engine, write=False) as conn:
            return _register(page, conn, status=422, failed=failed,
                             imported={"failed": True, "filename": filename, "lines": lines})
    with transaction(engine, write=False) as conn:
        return _register(page, conn, imported={"failed": False, "filename": filename, **done})
