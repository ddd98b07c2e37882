"""Sector map pages: the graph's data for CERT staff and authorities with every member by name, a member's pages
and JSON answers naming no other member, the what-if route, concentration with provider shares and HHI, a
member's forms and CSV import (stored, or refused with 422 and nothing stored), the risk register's heat map,
measures and survey; and a walk through the map in Chromium."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from nordcert.accounts import credentials
from nordcert.db import transaction
from nordcert.sectormap import registry, risks, shared, survey
from tests.factories import Member, make_member
from tests.sectormap.conftest import CLOUD_LEI, World, build_sector, call, node, row_counts
from tests.web.conftest import PASSWORD, csrf_of, log_in, screenshot


def _with_password(engine: Engine, *members: Member) -> None:
    with transaction(engine) as conn:
        for m in members:
            credentials.set_password(conn, m.email, PASSWORD)


@pytest.fixture
def forum(engine: Engine) -> World:
    """The sector of tests/sectormap: Alpha, Boreal and Payco on one cloud provider and RIX-INST, each with
    names of its own (``forum.names``); CERT staff, the authority's risk officer and a peer, all with passwords."""
    alpha = make_member(engine, name="Alpha Bank", role="risk_officer")
    fsa = make_member(engine, name="Financial Supervisory Authority", role="risk_officer", sector_type="authority")
    w = World(
        admin=make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert"),
        alpha=alpha,
        alpha_reader=make_member(engine, org=alpha.org_name, role="reader"),
        boreal=make_member(engine, name="Boreal Bank", role="analyst", country="NO"),
        payco=make_member(engine, name="Payco Payments", role="risk_officer", sector_type="payment_system"),
        fsa=fsa,
        fsa_analyst=make_member(engine, org=fsa.org_name, role="analyst"),
        peer=make_member(engine, name="CERT Norway instance", role="peer", sector_type="cert", country="NO"),
    )
    _with_password(engine, w.admin, w.alpha, w.alpha_reader, w.boreal, w.payco, w.fsa, w.fsa_analyst, w.peer)
    return w


def _ids(engine: Engine, w: World) -> dict[str, str]:
    return build_sector(engine, w).ids


def _data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="sectormap-data">(.*?)</script>', page, re.DOTALL)
    assert found, "the map page carries no graph data"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def _leaks(text: str, w: World, m: Member) -> list[str]:
    """Names of other members (organisations and their nodes) in a page or answer, as a reader would read it."""
    plain = html.unescape(text)
    return sorted(name for org, names in w.names.items() if org != m.org_id for name in names if name in plain)


def _post(http: httpx.Client, page: str, action: str, **data: Any) -> httpx.Response:
    return http.post(action, data={"csrf": csrf_of(http.get(page).text), **data})


def _provider(engine: Engine, w: World, name: str) -> str:
    return str(next(p["node_id"] for p in call(engine, shared.list_providers, w.admin.reader) if p["name"] == name))


# --- the map's data --------------------------------------------------------------------------------------


def test_staff_and_the_authority_get_the_whole_graph_with_every_member_by_name(
        http: httpx.Client, engine: Engine, forum: World) -> None:
    s = _ids(engine, forum)
    for m in (forum.admin, forum.fsa):
        log_in(http, m.email)
        answer = http.get("/sectormap")
        assert answer.status_code == 200
        data = _data(answer.text)
        assert data["scope"] == "sector" and len(data["nodes"]) == 16
        assert {o["name"] for o in data["orgs"].values()} == {"Alpha Bank", "Boreal Bank", "Payco Payments"}
        nodes = {n["id"]: n for n in data["nodes"]}
        assert nodes[s["a_hub"]]["name"] == "Alpha payment hub"
        assert data["orgs"][str(nodes[s["a_hub"]]["org"])]["name"] == "Alpha Bank"
        cloud = next(n for n in data["nodes"] if n["name"] == "Nordic Cloud AB")
        assert (cloud["functions"], cloud["members"], cloud["share"]) == (3, 3, 0.75)
        assert [s["a_pay"], s["a_hub"]] in data["edges"]
        assert all(name in answer.text for names in forum.names.values() for name in names)
        # The filter offers each member; the script is this site's own.
        assert f'<option value="{forum.alpha.org_id}">Alpha Bank</option>' in answer.text
        assert '<script src="/static/sectormap.js' in answer.text
    assert http.get("/static/sectormap.js").status_code == 200


def test_no_member_page_or_json_answer_names_another_member(http: httpx.Client, engine: Engine,
                                                            forum: World) -> None:
    w = forum
    s = _ids(engine, w)
    cloud = _provider(engine, w, "Nordic Cloud AB")
    risk = call(engine, risks.create_risk, w.admin.reader, title="Payments on one cloud", category="concentration",
                likelihood=4, impact=5)
    call(engine, risks.add_measure, w.admin.reader, risk["id"], title="Exit-plan exercise",
         owner_organisation=w.admin.org_id)
    opened = call(engine, survey.open_survey, w.admin.reader, year=2026, topics=["Cloud concentration", "Ransomware"])
    topics = [t["id"] for t in opened["topics"]]
    for m, comment in ((w.alpha, "Alpha payment hub is fragile"), (w.boreal, "Boreal giro payments at risk"),
                       (w.payco, "Payco ledger cycle")):
        call(engine, survey.submit_response, m.reader, 2026, ranking=topics, comment=comment)

    checked = 0
    for m in (w.alpha, w.alpha_reader, w.boreal, w.payco):
        log_in(http, m.email)
        pages = [http.get(path) for path in (
            "/sectormap", f"/sectormap?org={w.alpha.org_id}", "/sectormap/concentration",
            "/sectormap/concentration?category=payments", "/sectormap/concentration?basis=members",
            "/sectormap/register", "/sectormap/risks")]
        data = _data(pages[0].text)
        assert data["scope"] == "member" and {n["org"] for n in data["nodes"]} <= {m.org_id, None}
        own = next(n["id"] for n in data["nodes"] if n["org"] == m.org_id)
        for down in ([cloud], [s["rix"]], [own], [cloud, s["rix"], own]):
            pages.append(http.get("/sectormap/what-if", params={"down": down}))
        for answer in pages:
            assert answer.status_code == 200, (answer.url, answer.text[:300])
            assert _leaks(answer.text, w, m) == [], answer.url
            checked += 1
        # Its own names do come back: the check is not vacuous.
        assert any(name in html.unescape(pages[0].text) for name in w.names[m.org_id] - {m.org_name})
    assert checked == 4 * 11
    log_in(http, w.boreal.email)
    for ref in (s["a_hub"], s["a_captive"], "system:999999"):
        refused = http.get("/sectormap/what-if", params={"down": ref})
        assert refused.status_code == 422 and "in your view" in refused.json()["details"][0]["reason"]
        assert set(refused.json()) == {"error", "message", "details"} and "Alpha" not in refused.text
    assert http.get(f"/sectormap/register/system/{s['a_hub'].split(':')[1]}").status_code == 404


def test_what_if_answers_the_functions_lost_by_member_for_staff_and_by_type_for_members(
        http: httpx.Client, engine: Engine, forum: World) -> None:
    w = forum
    s = _ids(engine, w)
    cloud = _provider(engine, w, "Nordic Cloud AB")
    log_in(http, w.admin.email)
    staff = http.get("/sectormap/what-if", params={"down": cloud})
    assert staff.status_code == 200 and staff.headers["content-type"].startswith("application/json")
    body = staff.json()
    assert (body["scope"], body["functions"], body["function_share"], body["member_share"]) == ("sector", 3, 0.75, 1)
    assert {m["organisation"]["name"]: [p["name"] for p in m["lost"]] for m in body["members"]} == {
        "Alpha Bank": ["Alpha instant payments"], "Boreal Bank": ["Boreal giro payments"],
        "Payco Payments": ["Payco clearing and settlement"]}
    assert {s["a_hub"], s["p_engine"], s["p_ledger"]} <= {n["id"] for n in body["lost"]["system"]}
    captive = http.get("/sectormap/what-if", params={"down": s["a_captive"]}).json()
    assert [(m["organisation"]["name"], [p["name"] for p in m["lost"]]) for m in captive["members"]] == [
        ("Alpha Bank", ["Alpha card issuing"])]
    payments = http.get("/sectormap/what-if", params={"down": s["rix"], "function_category": "payments"}).json()
    assert (payments["functions"], payments["function_category"]) == (2, "payments")

    log_in(http, w.boreal.email)
    member = http.get("/sectormap/what-if", params={"down": cloud}).json()
    assert (member["scope"], member["functions"], member["members"], member["lost"]) == ("member", 3, None, None)
    assert [p["name"] for p in member["own"]["lost"]] == ["Boreal giro payments"]
    assert {t["member_type"]: (t["members"], t["functions"]) for t in member["by_member_type"]} == {
        "bank": (2, 2), "payment_system": (1, 1)}
    assert http.get("/sectormap/what-if").status_code == 422
    assert http.get("/sectormap/what-if", params={"down": cloud, "function_category": "gambling"}).status_code == 422
    log_in(http, w.peer.email)
    assert http.get("/sectormap/what-if", params={"down": cloud}).status_code == 404
    assert http.get("/sectormap").status_code == 404
    http.cookies.clear()
    assert http.get("/sectormap/what-if", params={"down": cloud}).status_code == 303


# --- concentration -----------------------------------------------------------------------------------


def test_concentration_shows_provider_shares_and_the_hhi(http: httpx.Client, engine: Engine, forum: World) -> None:
    w = forum
    _ids(engine, w)
    # A fourth member pays on its own hosting provider: 3 of the sector's 5 payment functions on the one cloud.
    dune = make_member(engine, name="Dune Bank", role="risk_officer")
    for name in ("Dune SEPA payments", "Dune instant payments"):
        pay = node(engine, dune, "process", name=name, category="payments", critical=True)
        node(engine, dune, "service", name=f"{name} hosting", provider={"name": "Fjord Hosting AS"},
             service_type="S17", critical=True, supports=[pay["node_id"]])
    w.names[dune.org_id] = {"Dune Bank", "Dune SEPA payments", "Dune instant payments", "Fjord Hosting AS"}
    cloud = _provider(engine, w, "Nordic Cloud AB")

    log_in(http, w.admin.email)
    page = http.get("/sectormap/concentration", params={"category": "payments"}).text
    row = re.search(rf'<tr id="share-{cloud.replace(":", "-")}">([\s\S]*?)</tr>', page)
    assert row, "no row for the cloud provider"
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>([\s\S]*?)</td>",
                                                                                  row.group(1))]
    assert cells[1:4] == ["60 %", "3", "3"]
    assert "Alpha Bank, Boreal Bank, Payco Payments" in cells[4]
    assert re.search(r'<dd id="functions-total">5</dd>', page)
    assert "Nordic Cloud AB: 60 % · 3 members" in html.unescape(page)  # the bar's title in the chart
    s17 = re.search(r'<tr id="hhi-S17">([\s\S]*?)</tr>', page)
    assert s17 and "5,200" in s17.group(1) and "highly concentrated" in s17.group(1)
    assert "HHI 5,200 · highly concentrated" in html.unescape(page)
    assert 'id="cycles"' in page and "Payco ledger" in page  # the cycle, linked to its nodes
    assert "/sectormap?node=" in page

    log_in(http, w.boreal.email)
    mine = http.get("/sectormap/concentration", params={"category": "payments"}).text
    assert _leaks(mine, w, w.boreal) == []
    assert "Nordic Cloud AB" in mine and "your functions depend on it" in mine
    assert "Fjord Hosting AS" not in mine  # one member's provider: among "other providers"
    s14 = re.search(r'<tr id="hhi-S14">([\s\S]*?)</tr>', mine)
    assert s14 and "1 other provider 100 %" in html.unescape(s14.group(1))


# --- a member's forms ---------------------------------------------------------------------------------------


def test_a_members_forms_store_and_refuse_with_nothing_stored(http: httpx.Client, engine: Engine,
                                                              forum: World) -> None:
    w = forum
    s = _ids(engine, w)
    log_in(http, w.alpha.email)
    page = http.get("/sectormap/register")
    assert page.status_code == 200 and "Alpha payment hub" in page.text and 'id="new-process-form"' in page.text
    done = _post(http, "/sectormap/register", "/sectormap/register/process", name="Securities settlement",
                 category="securities", critical="1", function_ref="F9", depends_on=[s["a_hub"], s["rix"]])
    assert done.status_code == 303, done.text
    stored = next(p for p in call(engine, registry.list_nodes, w.alpha.reader, "process")
                  if p["name"] == "Securities settlement")
    assert (stored["category"], stored["critical"], stored["depends_on"]) == ("securities", True,
                                                                              sorted([s["a_hub"], s["rix"]]))
    assert "Process “Securities settlement” added." in http.get("/sectormap/register").text

    boreal_system = s["b_cloud"]
    before = row_counts(engine)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("process", {"name": "Cash", "category": ""}, 422, 'id="new-process-category-error1"'),
        ("process", {"name": "Alpha instant payments", "category": "payments"}, 409, 'id="new-process-name-error1"'),
        ("service", {"provider_name": "New Cloud AB", "provider_lei": "NOTALEI"}, 422,
         'id="new-service-provider_lei-error1"'),
        ("service", {"name": "S", "storage_locations": "Sweden"}, 422, 'id="new-service-storage_locations-error1"'),
        ("system", {"name": "Relay", "depends_on": [boreal_system]}, 422, 'id="new-system-depends_on-error1"'),
    ]
    for kind, data, status, marker in cases:
        refused = _post(http, "/sectormap/register", f"/sectormap/register/{kind}", **data)
        assert refused.status_code == status, (kind, data, refused.text[:500])
        assert marker in refused.text and "Not stored" in refused.text, (kind, data)
        assert _leaks(refused.text, w, w.alpha) == []
        for typed in data.values():  # what was typed comes back
            assert isinstance(typed, list) or f'value="{typed}"' in refused.text, typed
    assert row_counts(engine) == before
    assert http.post("/sectormap/register/process", data={"csrf": "x", "name": "X",
                                                           "category": "cash"}).status_code == 403

    # Change and delete one of its own; another member's is not there for Boreal.
    hub_id = s["a_hub"].split(":")[1]
    edit = http.get(f"/sectormap/register/system/{hub_id}")
    assert edit.status_code == 200 and 'value="Alpha payment hub"' in edit.text
    assert f'value="{s["a_cloud"]}" checked' in edit.text and f'value="{s["a_pay"]}" checked' in edit.text
    saved = _post(http, f"/sectormap/register/system/{hub_id}", f"/sectormap/register/system/{hub_id}",
                  name="Alpha payment hub (SEK)", description="", depends_on=[s["a_cloud"]], supports=[s["a_pay"]])
    assert saved.status_code == 303
    hub = call(engine, registry.get_node, w.alpha.reader, "system", int(hub_id))
    assert (hub["name"], hub["depends_on"], hub["supports"]) == ("Alpha payment hub (SEK)", [s["a_cloud"]],
                                                                 [s["a_pay"]])
    clash = _post(http, f"/sectormap/register/system/{hub_id}", f"/sectormap/register/system/{hub_id}",
                  name="", depends_on=[s["a_cloud"]])
    assert clash.status_code == 422 and 'id="edit-name-error1"' in clash.text
    log_in(http, w.boreal.email)
    assert http.get(f"/sectormap/register/system/{hub_id}").status_code == 404
    assert _post(http, "/sectormap/register", f"/sectormap/register/system/{hub_id}/delete").status_code == 404
    log_in(http, w.alpha_reader.email)
    reader_page = http.get("/sectormap/register").text
    assert "Alpha payment hub (SEK)" in reader_page and 'id="new-process-form"' not in reader_page
    assert _post(http, "/sectormap/register", "/sectormap/register/process", name="X",
                 category="cash").status_code == 403
    log_in(http, w.alpha.email)
    assert _post(http, "/sectormap/register", "/sectormap/dependencies", dependent=s["a_card"],
                 dependency=s["rix"]).status_code == 303
    assert s["rix"] in call(engine, registry.get_node, w.alpha.reader, "process", int(s["a_card"].split(":")[1]))[
        "depends_on"]
    bad = _post(http, "/sectormap/register", "/sectormap/dependencies", dependent=s["a_card"],
                dependency=s["b_cloud"])
    assert bad.status_code == 422 and 'id="d-dependency-error1"' in bad.text
    assert _post(http, "/sectormap/register", "/sectormap/dependencies/remove", dependent=s["a_card"],
                 dependency=s["rix"]).status_code == 303
    assert _post(http, f"/sectormap/register/system/{hub_id}",
                 f"/sectormap/register/system/{hub_id}/delete").status_code == 303
    assert "Alpha payment hub" not in http.get("/sectormap/register").text


def test_the_csv_import_form_imports_and_names_every_bad_line(http: httpx.Client, engine: Engine,
                                                              forum: World) -> None:
    w = forum
    log_in(http, w.boreal.email)
    register = (f"Funktion;Kategori;Kritisk;Leverantör;LEI;Tjänstetyp\n"
                f"Betalningar;payments;ja;Nordic Cloud AB;{CLOUD_LEI};S17\n"
                f"Utlåning;lending;nej;Fjord Hosting AS;;S19\n").encode()
    mapping = "Funktion=function\nKategori=category\nKritisk=critical\nLeverantör=provider\nTjänstetyp=service_type"

    def upload(data: bytes, **fields: str) -> httpx.Response:
        token = csrf_of(http.get("/sectormap/register").text)
        return http.post("/sectormap/import", data={"csrf": token, "mapping": mapping, **fields},
                         files={"file": ("register.csv", data, "text/csv")})

    done = upload(register)
    assert done.status_code == 200, done.text[:500]
    counts = re.search(r'<table class="list compact numbers" id="import-counts">([\s\S]*?)</table>', done.text)
    assert counts and re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", counts.group(1))).split()[-12:] == [
        "Processes", "2", "0", "0", "Systems", "0", "0", "0", "Services", "2", "0", "0"]
    assert "Betalningar" in done.text and "Fjord Hosting AS" in done.text
    again = upload(register)
    assert re.search(r"Services</th>\s*<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">2</td>",
                     again.text)

    before = row_counts(engine)
    bad = upload(register + b"Kontanter;cash;kanske;Vault IT;;S77\nKort;cards;ja;;;S17\n")
    assert bad.status_code == 422 and "Nothing was stored" in bad.text
    lines = re.findall(r"<tr><td>line (\d+)</td><td><code>(\w*)</code></td>", bad.text)
    assert set(lines) == {("4", "critical"), ("4", "service_type"), ("5", "provider"), ("5", "category")}
    assert upload(register, delimiter=";", mapping="Nope=provider").status_code == 422
    assert "no column" in upload(register, mapping="Nope=provider").text
    assert upload(b"", mapping="").status_code == 422
    token = csrf_of(http.get("/sectormap/register").text)
    assert http.post("/sectormap/import", data={"csrf": token}).status_code == 422  # no file chosen
    assert row_counts(engine) == before
    log_in(http, w.alpha_reader.email)
    assert upload(register).status_code == 403
    assert row_counts(engine) == before


# --- the risk register -----------------------------------------------------------------------------


def test_the_risk_register_heat_map_measures_progress_and_survey(http: httpx.Client, engine: Engine,
                                                                 forum: World) -> None:
    w = forum
    log_in(http, w.admin.email)
    added = _post(http, "/sectormap/risks", "/sectormap/risks", title="Payments concentrated on one cloud",
                  category="concentration", likelihood="4", impact="5", description="60 % of payment functions.")
    assert added.status_code == 303, added.text[:400]
    risk_id = call(engine, risks.list_risks, w.admin.reader)[0]["id"]
    page = http.get("/sectormap/risks").text
    cell = re.search(r'data-cell="4x5">([\s\S]*?)</td>', page)
    assert cell and f'href="#risk-{risk_id}"' in cell.group(1)
    assert re.search(r'<td class="heat-critical"[^>]*data-cell="5x5"', page)
    assert re.search(r'<td class="heat-low"[^>]*data-cell="1x1"', page)

    before = row_counts(engine)
    for data, marker in (({"title": "R", "category": "cyber", "likelihood": "6", "impact": "2"}, "r-likelihood"),
                         ({"title": "", "category": "cyber", "likelihood": "2", "impact": "2"}, "r-title"),
                         ({"title": "R", "category": "weather", "likelihood": "2", "impact": "2"}, "r-category")):
        refused = _post(http, "/sectormap/risks", "/sectormap/risks", **data)
        assert refused.status_code == 422 and f'id="{marker}-error1"' in refused.text, data
    assert row_counts(engine) == before

    past = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    assert _post(http, "/sectormap/risks", f"/sectormap/risks/{risk_id}/measures", title="Exit plans for payments",
                 owner_organisation=str(w.alpha.org_id), owner_person="Risk officer", status="planned",
                 due_on=past).status_code == 303
    assert _post(http, "/sectormap/risks", f"/sectormap/risks/{risk_id}/measures", title="",
                 due_on="someday").status_code == 422
    page = http.get("/sectormap/risks").text
    measure = re.search(r'<tr id="measure-(\d+)" class="overdue-row">([\s\S]*?)</tr>', page)
    assert measure and "overdue" in measure.group(2) and "Alpha Bank, Risk officer" in measure.group(2)
    assert '<dd id="overdue-count" class="warn">1</dd>' in page
    assert "Measures by status at the end of each month" in page
    measure_id = measure.group(1)
    assert _post(http, "/sectormap/risks", f"/sectormap/risks/{risk_id}", likelihood="3", impact="5",
                 status="open").status_code == 303

    log_in(http, w.boreal.email)  # not the owner: no form, and refused
    page = http.get("/sectormap/risks").text
    assert f'id="status-form-{measure_id}"' not in page and 'id="risk-form"' not in page
    assert _post(http, "/sectormap/risks", f"/sectormap/measures/{measure_id}", status="done").status_code == 403
    assert _post(http, "/sectormap/risks", "/sectormap/risks", title="Mine", category="cyber", likelihood="1",
                 impact="1").status_code == 403

    log_in(http, w.alpha.email)  # the owner updates its status with a note
    assert _post(http, "/sectormap/risks", f"/sectormap/measures/{measure_id}", status="in_progress",
                 note="Two of three banks have exit plans").status_code == 303
    page = http.get("/sectormap/risks").text
    row = re.search(rf'<tr id="measure-{measure_id}"[^>]*>([\s\S]*?)</tr>', page)
    assert row and "in progress" in row.group(1) and "Two of three banks have exit plans" in row.group(1)
    assert _post(http, "/sectormap/risks", f"/sectormap/measures/{measure_id}", status="someday").status_code == 422

    # The concerns survey: staff open it, members answer, the aggregate from three answers.
    log_in(http, w.admin.email)
    assert _post(http, "/sectormap/risks", "/sectormap/surveys", year="2026",
                 topics="Cloud concentration\nRansomware\nPayment fraud").status_code == 303
    assert _post(http, "/sectormap/risks", "/sectormap/surveys", year="2026", topics="Again").status_code == 409
    topics = call(engine, survey.get_survey, w.admin.reader, 2026)["topics"]
    log_in(http, w.alpha.email)
    page = http.get("/sectormap/risks").text
    assert 'id="answer-form"' in page
    twice = _post(http, "/sectormap/risks", "/sectormap/surveys/2026/response", **{
        "rank-1": str(topics[0]["id"]), "rank-2": str(topics[0]["id"])})
    assert twice.status_code == 422 and "ranked twice" in twice.text
    assert _post(http, "/sectormap/risks", "/sectormap/surveys/2026/response", **{
        "rank-1": str(topics[1]["id"]), "rank-2": str(topics[0]["id"]), "comment": "Alpha worries"}).status_code == 303
    page = http.get("/sectormap/risks").text
    assert re.search(r'<ol id="own-answer"><li>Ransomware</li><li>Cloud concentration</li></ol>', page)
    assert 'id="survey-suppressed"' in page
    log_in(http, w.admin.email)
    page = http.get("/sectormap/risks").text
    assert 'id="survey-results"' in page and "Alpha worries" in page
    assert _post(http, "/sectormap/risks", "/sectormap/surveys/2026/close").status_code == 303
    log_in(http, w.alpha.email)
    assert 'id="answer-form"' not in http.get("/sectormap/risks").text


# --- in the browser -----------------------------------------------------------------------------------------


def _browser_log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_the_map_walks_through_in_the_browser(browser_page: Any, engine: Engine, forum: World) -> None:
    w = forum
    s = _ids(engine, w)
    cloud = _provider(engine, w, "Nordic Cloud AB")
    risk = call(engine, risks.create_risk, w.admin.reader, title="Payments concentrated on one cloud provider",
                category="concentration", likelihood=4, impact=5)
    measure = call(engine, risks.add_measure, w.admin.reader, risk["id"], title="Exit plan for the cloud",
                   owner_organisation=w.boreal.org_id, due_on=(datetime.now(UTC) - timedelta(days=2)).date())
    page = browser_page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _browser_log_in(page, w.admin.email)
    page.locator("header nav").get_by_role("link", name="Sector map").click()
    page.wait_for_url(re.compile(r"/sectormap$"))
    assert page.locator("#map-nodes g.node").count() == 16
    assert page.locator("#map-edges path.edge").count() >= 14

    provider = page.locator(f'#map-nodes g.node[data-id="{cloud}"]')
    provider.hover()
    assert page.locator("#map-tip").is_visible() and "3 critical functions of 3 members" in page.locator(
        "#map-tip").inner_text()
    provider.click()
    assert page.locator("#selected-name").inner_text() == "Nordic Cloud AB"
    assert "sel" in (provider.get_attribute("class") or "")
    assert "up" in (page.locator(f'#map-nodes g.node[data-id="{s["a_pay"]}"]').get_attribute("class") or "")
    assert "up" not in (page.locator(f'#map-nodes g.node[data-id="{s["a_card"]}"]').get_attribute("class") or "")
    page.get_by_role("button", name="What if this is down?").click()
    page.locator("#whatif-total").wait_for()
    assert page.locator("#whatif-total").inner_text().startswith("3 critical functions lost: 75 %")
    panel = page.locator("#whatif").inner_text()
    assert "Alpha Bank" in panel and "Boreal giro payments" in panel and "Payco clearing and settlement" in panel
    assert "lost" in (page.locator(f'#map-nodes g.node[data-id="{s["p_settle"]}"]').get_attribute("class") or "")

    # Zoom with the wheel and pan by dragging: one transform on the viewport.
    before = page.locator("#map-viewport").get_attribute("transform")
    page.locator("#map-svg").scroll_into_view_if_needed()
    box = page.locator("#map-svg").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.wheel(0, -400)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=5)
    page.mouse.up()
    page.wait_for_function("before => document.getElementById('map-viewport').getAttribute('transform') !== before",
                           arg=before)
    assert page.locator("#selected-name").inner_text() == "Nordic Cloud AB"  # a drag is not a click
    page.get_by_role("button", name="Fit").click()
    page.locator("#f-org").select_option(str(w.boreal.org_id))
    assert page.locator("#map-nodes g.node").count() == 4
    page.locator("#f-org").select_option("")
    page.locator("#f-search").fill("ledger")
    page.keyboard.press("Enter")
    assert page.locator("#selected-name").inner_text() == "Payco ledger"
    page.locator("#f-search").fill("")
    page.get_by_role("button", name="Fit").click()
    page.locator(f'#map-nodes g.node[data-id="{cloud}"]').click()
    page.get_by_role("button", name="What if this is down?").click()
    page.locator("#whatif-total").wait_for()
    screenshot(page, "sectormap")

    page.get_by_role("link", name="Concentration").click()
    page.wait_for_url(re.compile(r"/sectormap/concentration$"))
    assert page.locator("#shares svg.chart").is_visible() and page.locator("#hhi svg.chart").is_visible()
    screenshot(page, "sectormap-concentration")
    page.locator("#shares-table").get_by_role("link", name="Nordic Cloud AB").click()
    page.wait_for_url(re.compile(r"/sectormap\?node="))
    assert page.locator("#selected-name").inner_text() == "Nordic Cloud AB"
    assert errors == []

    # A member sees its own part and a what-if by member type.
    page.locator("form[action='/logout'] button").click()
    _browser_log_in(page, w.boreal.email)
    page.goto("/sectormap")
    assert page.locator("#map-nodes g.node").count() == 4
    page.locator(f'#map-nodes g.node[data-id="{cloud}"]').click()
    page.get_by_role("button", name="What if this is down?").click()
    page.locator("#whatif-own").wait_for()
    assert page.locator("#whatif-own").inner_text().startswith("1 of your 1 critical function lost")
    assert "Alpha" not in page.locator("#map-panel").inner_text()
    screenshot(page, "sectormap-member")
    page.get_by_role("link", name="Your register").click()
    page.locator("#new-process-name").fill("Card acquiring")
    page.locator("#new-process-category").select_option("card_processing")
    page.locator("#new-process-critical").check()
    page.locator("#new-process-form").get_by_label(re.compile("Boreal cloud tenancy")).check()
    page.get_by_role("button", name="Add the process").click()
    page.get_by_text("Process “Card acquiring” added.").wait_for()
    screenshot(page, "sectormap-register")
    page.get_by_role("link", name="Risk register").click()
    page.locator(f"#status-form-{measure['id']} select").select_option("in_progress")
    page.locator(f"#status-form-{measure['id']}").get_by_role("button", name="Update").click()
    page.get_by_text("Measure updated.").wait_for()
    assert page.locator("#heatmap a").count() == 1
    screenshot(page, "sectormap-risks")
    assert errors == []
