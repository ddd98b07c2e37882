"""Pages of the sector map (DORA Art 28(3) register of information, pooled across members): the dependency
graph drawn in the browser, "what if this is down", and ICT concentration (shares, HHI, single points of
failure, cycles, what is not yet described).

Every read is one call to :mod:`nordcert.sectormap.views`, which gives each reader exactly what it may see:
CERT staff and authorities' risk officers the whole map with names; a member its own nodes, the shared nodes
they reach and aggregates, never another member's processes, systems or providers. The graph's page carries
that answer as JSON for ``static/sectormap.js``; the what-if route answers JSON from the same service function
as ``POST /api/v1/sectormap/analysis/what-if``. A member's forms are :mod:`.sectormap_register`, the risk
register and the concerns survey :mod:`.sectormap_risks`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import FormData

from nordcert.app import STATUS, error_body
from nordcert.deps import ReadConn
from nordcert.errors import Conflict, Forbidden, NordcertError
from nordcert.sectormap import views
from nordcert.sectormap.service import NON_MEMBER_SECTORS, PROCESS_CATEGORIES, require_member_writer, sector_type
from nordcert.web import charts
from nordcert.web.crisis_pages import Failed
from nordcert.web.deps import MemberPage, Page, check_csrf
from nordcert.web.render import SECURITY_HEADERS, render

router = APIRouter(include_in_schema=False, prefix="/sectormap")

#: The graph's columns, left to right: what depends on the next.
KINDS = {"process": "Processes", "system": "Systems", "service": "ICT services", "provider": "Providers",
         "infrastructure": "Infrastructure"}
KIND_NAMES = {"process": "Process", "system": "System", "service": "ICT service", "provider": "Provider",
              "infrastructure": "Shared infrastructure"}
TOP_SHARED = 12
MAX_ROWS = 10_000
_SHOWN_SPOFS = 30


# --- helpers the sector map's forms share ----------------------------------------------------------


def field_name(problem_field: str) -> str:
    """A service's problem field as the form's: ``depends_on[2]`` → ``depends_on``, ``provider.lei`` →
    ``provider_lei``."""
    return re.sub(r"\[\d+\]$", "", problem_field).replace(".", "_")


def refused(form: str, values: Mapping[str, Any], exc: NordcertError, *, conflict_field: str = "") -> Failed:
    """A refused form: the problems by field ("" for the form as a whole); a conflict by ``conflict_field``."""
    problems: dict[str, list[str]] = {}
    for d in exc.details:
        problems.setdefault(field_name(str(d.get("field") or "")), []).append(str(d.get("reason") or ""))
    if not problems:
        problems = {conflict_field if isinstance(exc, Conflict) else "": [exc.message]}
    return Failed(form, values, problems, exc.message)


def status_of(exc: NordcertError) -> int:
    return next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)


async def posted_form(page: Page, request: Request) -> FormData:
    form = await request.form()
    check_csrf(page, str(form.get("csrf") or ""))
    return form


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def may_write_map(conn: Connection, page: Page) -> bool:
    """Whether to show a member's forms at all (the service decides again on every write)."""
    try:
        require_member_writer(conn, page.member)
    except Forbidden:
        return False
    return True


def is_member(conn: Connection, page: Page) -> bool:
    """Whether the reader's organisation keeps a part of the map (its register tab)."""
    return sector_type(conn, page.member.organisation_id) not in NON_MEMBER_SECTORS


# --- the graph --------------------------------------------------------------------------------------


def graph_data(conn: Connection, page: Page) -> dict[str, Any]:
    """What ``sectormap.js`` draws: the reader's view of the graph, each node with the concentration figures
    the reader is given for it, and the organisations named in it."""
    reader = page.member
    graph = views.graph_view(conn, reader)
    conc = views.concentration_view(conn, reader, limit=MAX_ROWS)
    figures = {r["node"]["id"]: r for r in conc["nodes"]}
    orgs: dict[int, dict[str, Any]] = {}
    nodes = []
    for n in graph["nodes"]:
        org = n["organisation"]
        if org is not None:
            orgs[org["id"]] = {"name": org["name"], "short_name": org["short_name"], "type": org["sector_type"]}
        found = figures.get(n["id"])
        nodes.append({
            "id": n["id"], "kind": n["kind"], "name": n["name"], "org": org["id"] if org else None,
            "critical": n["critical"], "category": n["category"], "category_name": n["category_name"],
            "unknown": n["unknown"],
            "functions": found["functions"] if found else None, "members": found["members"] if found else None,
            "share": found["function_share"] if found else None,
        })
    return {"scope": conc["scope"], "own_org": reader.organisation_id, "nodes": nodes,
            "edges": [[e["dependent"], e["dependency"]] for e in graph["edges"]], "orgs": orgs,
            "critical_functions": conc["critical_functions"], "members": conc["members"],
            "kinds": KINDS, "kind_order": list(KINDS), "kind_names": KIND_NAMES, "categories": PROCESS_CATEGORIES}


@router.get("", response_class=HTMLResponse)
def sector_map(page: MemberPage, conn: ReadConn) -> Response:
    data = graph_data(conn, page)
    counts = {k: sum(1 for n in data["nodes"] if n["kind"] == k) for k in KINDS}
    return render(page, "sectormap.html", data=data, counts=counts, kinds=KINDS, sector=data["scope"] == "sector",
                  member=is_member(conn, page),
                  orgs=sorted(data["orgs"].items(), key=lambda o: o[1]["name"].casefold()))


@router.get("/what-if")
def what_if(page: MemberPage, conn: ReadConn, down: Annotated[list[str] | None, Query()] = None,
            function_category: str = "") -> Response:
    """What is lost if ``down`` fails, as JSON for the map's side panel; errors in the API's error shape."""
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    try:
        body = views.what_if_view(conn, page.member, down=down or [], function_category=function_category or None)
    except NordcertError as exc:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=status_of(exc),
                            headers=headers)
    return JSONResponse(body, headers=headers)


# --- concentration ----------------------------------------------------------------------------------


def node_link(node_id: str) -> str:
    return f"/sectormap?node={node_id}"


def _members_note(row: Mapping[str, Any], sector: bool) -> str:
    said = f"{row['members']} member{'' if row['members'] == 1 else 's'}"
    if not sector and row["you_depend"]:
        said += ", you among them"
    return said


@router.get("/concentration", response_class=HTMLResponse)
def concentration(page: MemberPage, conn: ReadConn, category: str = "", basis: str = "functions") -> Response:
    reader = page.member
    chosen = category if category in PROCESS_CATEGORIES else None
    basis = basis if basis in ("functions", "members") else "functions"
    conc = views.concentration_view(conn, reader, function_category=chosen, limit=MAX_ROWS)
    sector = conc["scope"] == "sector"
    shared = [r for r in conc["nodes"] if r["node"]["kind"] in ("provider", "infrastructure") and r["functions"]]
    top = shared[:TOP_SHARED]
    spofs = views.concentration_view(conn, reader, function_category=chosen, spof_only=True, limit=MAX_ROWS)["nodes"]
    hhi = views.hhi_view(conn, reader, basis=basis)
    functions = PROCESS_CATEGORIES[chosen].lower() + " functions" if chosen else "critical functions"
    return render(
        page, "sectormap_concentration.html", conc=conc, sector=sector, top=top, chosen=chosen, basis=basis,
        categories=PROCESS_CATEGORIES, functions=functions, spofs=spofs[:_SHOWN_SPOFS], spof_total=len(spofs),
        hhi=hhi, cycles=views.cycles_view(conn, reader), unknown=views.unknown_view(conn, reader),
        node_link=node_link, members_note=_members_note, member=is_member(conn, page),
        share_chart=charts.share_bars(
            [(r["node"]["name"], r["function_share"], _members_note(r, sector), node_link(r["node"]["id"]))
             for r in top],
            title=f"Share of the sector's {functions} depending on each provider and infrastructure"),
        hhi_chart=charts.hhi_bars(
            [(c["category_name"], c["hhi"], c["reading"], f"#hhi-{c['category']}") for c in hhi["categories"]],
            title="HHI of reliance on providers per ICT service type", moderate=hhi["bands"]["moderate"],
            high=hhi["bands"]["high"]))
