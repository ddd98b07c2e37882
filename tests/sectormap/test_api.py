"""/api/v1/sectormap over a real server: the rules per role, no member-facing answer naming another member,
the analyses full for CERT staff and authorities and aggregated for members, the CSV import, and clear 4xx
answers that store nothing."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlalchemy import Engine

from nordcert.sectormap.service import provider_key
from tests.factories import Member, make_member
from tests.sectormap.conftest import CLOUD_LEI, World, build_sector, leaks, row_counts

API = "/api/v1/sectormap"


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def test_a_members_part_over_http_by_role(http: httpx.Client, engine: Engine, world: World) -> None:
    w = world
    pay = _ok(http.post(f"{API}/processes", headers=_h(w.alpha), json={
        "name": "Instant payments", "category": "payments", "critical": True}), 201)
    svc = _ok(http.post(f"{API}/services", headers=_h(w.alpha), json={
        "provider": {"name": "Nordic Cloud AB", "lei": CLOUD_LEI}, "service_type": "S17", "critical": True,
        "storage_locations": ["SE"], "contract_end": "2028-01-31", "supports": [pay["node_id"]]}), 201)
    assert svc["supports"] == [pay["node_id"]] and svc["contract_end"] == "2028-01-31"
    hub = _ok(http.post(f"{API}/systems", headers=_h(w.alpha), json={"name": "Hub"}), 201)
    _ok(http.post(f"{API}/dependencies", headers=_h(w.alpha), json={
        "dependent": pay["node_id"], "dependency": hub["node_id"]}), 201)
    assert _ok(http.get(f"{API}/processes/{pay['id']}", headers=_h(w.alpha_reader)))["depends_on"] == sorted(
        [svc["node_id"], hub["node_id"]])

    for m, status in ((w.alpha_reader, 403), (w.admin, 403), (w.fsa, 403), (w.boreal, 404), (w.peer, 403)):
        r = http.patch(f"{API}/systems/{hub['id']}", headers=_h(m), json={"name": "Mine"})
        assert r.status_code == status, (m.email, r.text)
    for m in (w.boreal, w.fsa_analyst, w.peer):
        assert http.get(f"{API}/systems/{hub['id']}", headers=_h(m)).status_code == 404
        assert http.delete(f"{API}/systems/{hub['id']}", headers=_h(m)).status_code in (403, 404)
    for m in (w.admin, w.fsa):
        assert _ok(http.get(f"{API}/systems", headers=_h(m), params={"organisation_id": w.alpha.org_id}))[0][
            "name"] == "Hub"
    assert http.get(f"{API}/systems", headers=_h(w.boreal), params={"organisation_id": w.alpha.org_id}
                    ).status_code == 404
    assert http.get(f"{API}/processes").status_code == 401
    assert _ok(http.patch(f"{API}/systems/{hub['id']}", headers=_h(w.alpha), json={"name": "Payment hub"}))[
        "name"] == "Payment hub"
    _ok(http.delete(f"{API}/dependencies", headers=_h(w.alpha), params={
        "dependent": pay["node_id"], "dependency": hub["node_id"]}), 204)
    _ok(http.delete(f"{API}/systems/{hub['id']}", headers=_h(w.alpha)), 204)
    assert http.get(f"{API}/systems/{hub['id']}", headers=_h(w.alpha)).status_code == 404

    infra = _ok(http.post(f"{API}/infrastructure", headers=_h(w.admin), json={
        "name": "RIX-INST", "kind": "payment_system", "operator": "Sveriges Riksbank"}), 201)
    assert http.post(f"{API}/infrastructure", headers=_h(w.alpha), json={
        "name": "Mine", "kind": "data_centre"}).status_code == 403
    assert [i["name"] for i in _ok(http.get(f"{API}/infrastructure", headers=_h(w.boreal)))] == ["RIX-INST"]
    _ok(http.delete(f"{API}/infrastructure/{infra['id']}", headers=_h(w.admin)), 204)


def test_no_member_facing_answer_names_another_member(http: httpx.Client, engine: Engine, world: World) -> None:
    """Every answer a member's users get from /sectormap is searched for the names of the other members, their
    processes, systems and services, and the provider only one of them uses."""
    w = world
    s = build_sector(engine, w).ids
    risk = _ok(http.post(f"{API}/risks", headers=_h(w.admin), json={
        "title": "Payments concentrated on one cloud", "category": "concentration", "likelihood": 4, "impact": 5}),
        201)
    _ok(http.post(f"{API}/risks/{risk['id']}/measures", headers=_h(w.admin), json={
        "title": "Sector exit-plan exercise", "owner_organisation": w.admin.org_id}), 201)
    survey = _ok(http.post(f"{API}/surveys", headers=_h(w.admin), json={"year": 2026, "topics": [
        "Cloud concentration", "Ransomware"]}), 201)
    topics = [t["id"] for t in survey["topics"]]
    for m, comment in ((w.alpha, "Alpha payment hub is fragile"), (w.boreal, "Boreal giro payments at risk"),
                       (w.payco, "Payco ledger cycle")):
        _ok(http.put(f"{API}/surveys/2026/response", headers=_h(m), json={"ranking": topics, "comment": comment}))

    cloud = next(p for p in _ok(http.get(f"{API}/providers", headers=_h(w.boreal))))
    checked = 0
    for m in (w.alpha, w.alpha_reader, w.boreal, w.payco):
        gets = ["/vocabulary", "/processes", "/systems", "/services", "/dependencies", "/providers",
                "/infrastructure", "/graph", "/analysis/concentration",
                "/analysis/concentration?function_category=payments", "/analysis/spofs", "/analysis/hhi",
                "/analysis/hhi?basis=members", "/analysis/cycles",
                "/analysis/unknown", "/risks", f"/risks/{risk['id']}", "/register/progress", "/surveys",
                "/surveys/2026", "/surveys/2026/results", "/surveys/2026/response",
                f"/providers/{cloud['id']}"]
        answers = [_ok(http.get(API + path, headers=_h(m))) for path in gets]
        own = next(n for n in _ok(http.get(f"{API}/graph", headers=_h(m)))["nodes"]
                   if n["organisation"] is not None)
        for down in ([cloud["node_id"]], [s["rix"]], [own["id"]], [cloud["node_id"], s["rix"], own["id"]]):
            answers.append(_ok(http.post(f"{API}/analysis/what-if", headers=_h(m), json={"down": down})))
        for answer in answers:
            assert leaks(answer, w, m) == [], answer
            checked += 1
        # Its own names do come back: the check is not vacuous.
        assert any(leaks(a, w, w.admin) for a in answers)
    assert checked == 4 * 27


def test_analysis_is_full_for_the_sector_view_and_aggregated_for_members(http: httpx.Client, engine: Engine,
                                                                        world: World) -> None:
    w = world
    s = build_sector(engine, w).ids
    staff = _ok(http.get(f"{API}/analysis/concentration", headers=_h(w.admin)))
    authority = _ok(http.get(f"{API}/analysis/concentration", headers=_h(w.fsa)))
    assert staff == authority and staff["scope"] == "sector"
    assert (staff["critical_functions"], staff["members"]) == (4, 3)
    rows = {r["node"]["id"]: r for r in staff["nodes"]}
    cloud_id = next(i for i, r in rows.items() if r["node"]["name"] == "Nordic Cloud AB")
    captive_id = next(i for i, r in rows.items() if r["node"]["name"] == "Alpha Group IT Oy")
    assert (rows[cloud_id]["functions"], rows[cloud_id]["members"]) == (3, 3)
    assert {o["name"] for o in rows[cloud_id]["depending_members"]} == {"Alpha Bank", "Boreal Bank", "Payco Payments"}
    assert rows[captive_id]["depending_members"][0]["name"] == "Alpha Bank"
    assert rows[s["a_hub"]]["node"]["organisation"]["name"] == "Alpha Bank"

    mine = _ok(http.get(f"{API}/analysis/concentration", headers=_h(w.boreal)))
    assert mine["scope"] == "member" and (mine["critical_functions"], mine["members"]) == (4, 3)
    seen = {r["node"]["id"]: r for r in mine["nodes"]}
    assert set(seen) == {cloud_id, s["rix"], s["b_cloud"]}  # shared by enough members, and its own
    assert seen[cloud_id]["you_depend"] and seen[cloud_id]["depending_members"] is None
    assert (seen[s["rix"]]["members"], seen[s["rix"]]["you_depend"]) == (2, False)
    payments = _ok(http.get(f"{API}/analysis/spofs", headers=_h(w.alpha), params={"function_category": "payments"}))
    assert payments["critical_functions"] == 3 and captive_id not in {r["node"]["id"] for r in payments["nodes"]}

    # What-if the cloud is down: the sector view names who loses what; a member gets types and its own.
    full = _ok(http.post(f"{API}/analysis/what-if", headers=_h(w.fsa), json={"down": [cloud_id]}))
    assert {(m["organisation"]["name"], tuple(n["name"] for n in m["lost"])) for m in full["members"]} == {
        ("Alpha Bank", ("Alpha instant payments",)), ("Boreal Bank", ("Boreal giro payments",)),
        ("Payco Payments", ("Payco clearing and settlement",))}
    member = _ok(http.post(f"{API}/analysis/what-if", headers=_h(w.boreal), json={"down": [cloud_id]}))
    assert member["members"] is None and member["lost"] is None
    assert member["by_member_type"] == [{"member_type": "bank", "members": 2, "functions": 2},
                                        {"member_type": "payment_system", "members": 1, "functions": 1}]
    assert (member["functions"], member["function_share"]) == (3, 0.75)
    assert [n["name"] for n in member["own"]["lost"]] == ["Boreal giro payments"]
    assert member["own"]["total_functions"] == 1
    assert member["lost_counts"]["process"] == 4  # the lending process is lost too, if not critical
    # Another member's node, or a provider only another member uses: as if it did not exist.
    for down in ([s["a_hub"]], [captive_id], ["system:999999"]):
        r = http.post(f"{API}/analysis/what-if", headers=_h(w.boreal), json={"down": down})
        assert r.status_code == 422 and "in your view" in r.json()["details"][0]["reason"], r.text
    assert "Alpha" not in http.post(f"{API}/analysis/what-if", headers=_h(w.boreal),
                                    json={"down": [s["a_hub"]]}).text

    hhi_staff = {c["category"]: c for c in _ok(http.get(f"{API}/analysis/hhi", headers=_h(w.admin)))["categories"]}
    assert hhi_staff["S17"]["hhi"] == 10_000 and hhi_staff["S17"]["providers"][0]["members"] == 3
    assert hhi_staff["S14"]["providers"][0]["provider"]["name"] == "Alpha Group IT Oy"
    hhi_member = {c["category"]: c for c in _ok(http.get(f"{API}/analysis/hhi", headers=_h(w.boreal)))[
        "categories"]}
    assert hhi_member["S17"]["providers"][0]["provider"]["name"] == "Nordic Cloud AB"
    assert hhi_member["S14"]["providers"] == [] and hhi_member["S14"]["other_providers"] == {
        "count": 1, "share": 100.0, "providers": 1}

    cycles = {m.email: _ok(http.get(f"{API}/analysis/cycles", headers=_h(m))) for m in (w.admin, w.payco, w.boreal)}
    for m in (w.admin, w.payco):
        assert [{n["name"] for n in c} for c in cycles[m.email]["cycles"]] == [
            {"Payco settlement engine", "Payco ledger"}]
    assert cycles[w.boreal.email] == {"scope": "member", "total": 1, "cycles": []}

    unknown_staff = _ok(http.get(f"{API}/analysis/unknown", headers=_h(w.admin)))
    assert [i["node"]["name"] for i in unknown_staff["items"]] == ["Alpha Group IT Oy"]
    assert [i["node"]["name"] for i in _ok(http.get(f"{API}/analysis/unknown", headers=_h(w.alpha)))["items"]] == [
        "Alpha Group IT Oy"]
    boreal_unknown = _ok(http.get(f"{API}/analysis/unknown", headers=_h(w.boreal)))
    assert boreal_unknown == {"scope": "member", "counts": {"unknown": 1}, "items": []}

    graph = _ok(http.get(f"{API}/graph", headers=_h(w.boreal)))
    assert {n["id"] for n in graph["nodes"]} == {s["b_pay"], s["b_loans"], s["b_cloud"], cloud_id}
    assert http.get(f"{API}/graph", headers=_h(w.boreal), params={"organisation_id": w.alpha.org_id}
                    ).status_code == 404
    alpha_graph = _ok(http.get(f"{API}/graph", headers=_h(w.admin), params={"organisation_id": w.alpha.org_id}))
    assert {n["id"] for n in alpha_graph["nodes"]} >= {s["a_hub"], s["rix"], cloud_id, captive_id}
    assert len(_ok(http.get(f"{API}/graph", headers=_h(w.admin)))["nodes"]) == 16
    for path in ("/graph", "/analysis/concentration", "/analysis/hhi", "/analysis/cycles", "/analysis/unknown"):
        assert http.get(API + path, headers=_h(w.peer)).status_code == 404


def test_the_register_imports_over_http(http: httpx.Client, engine: Engine, world: World) -> None:
    csv = (f"Funktion;Kategori;Kritisk;Leverantör;LEI;Tjänstetyp\n"
           f"Betalningar;payments;ja;Nordic Cloud AB;{CLOUD_LEI};S17\n").encode()
    params = {"map": ["Funktion=function", "Kategori=category", "Kritisk=critical", "Leverantör=provider",
                      "Tjänstetyp=service_type"]}
    headers = {**_h(world.boreal), "Content-Type": "text/csv"}
    done = _ok(http.post(f"{API}/import", headers=headers, params=params, content=csv))
    assert done["services"]["created"] == 1 and done["dependencies"]["added"] == 1
    again = _ok(http.post(f"{API}/import", headers=headers, params=params, content=csv))
    assert again["services"] == {"created": 0, "updated": 0, "unchanged": 1}

    before = row_counts(engine)
    bad = csv + b"Kontanter;cash;kanske;Vault IT;;S77\n"
    r = http.post(f"{API}/import", headers=headers, params=params, content=bad)
    assert r.status_code == 422 and r.json()["error"] == "invalid"
    assert {(d["line"], d["field"]) for d in r.json()["details"]} == {(3, "critical"), (3, "service_type")}
    assert http.post(f"{API}/import", headers={**_h(world.alpha_reader), "Content-Type": "text/csv"},
                     params=params, content=csv).status_code == 403
    assert http.post(f"{API}/import", headers=headers, params={"map": "x"}, content=csv).status_code == 422
    assert row_counts(engine) == before


def test_bad_input_is_a_clear_4xx_and_stores_nothing(http: httpx.Client, engine: Engine, world: World) -> None:
    w = world
    pay = _ok(http.post(f"{API}/processes", headers=_h(w.alpha), json={"name": "Payments", "category": "payments"}),
              201)
    _ok(http.post(f"{API}/risks", headers=_h(w.admin), json={"title": "R", "category": "cyber", "likelihood": 2,
                                                             "impact": 2}), 201)
    _ok(http.post(f"{API}/surveys", headers=_h(w.admin), json={"year": 2026, "topics": ["A", "B"]}), 201)
    other = make_member(engine, name="Dune Bank", role="analyst")
    before = row_counts(engine)
    cases: list[tuple[Member, str, str, Any, int, str]] = [
        (w.alpha, "post", "/processes", {"name": "X", "category": "gambling"}, 422, "category"),
        (w.alpha, "post", "/processes", {"name": "X", "category": "cash", "colour": "red"}, 422, "colour"),
        (w.alpha, "post", "/processes", {"name": "Payments", "category": "cash"}, 409, ""),
        (w.alpha, "post", "/services", {"provider": {"name": "New AB", "lei": "NOTALEI"}}, 422, "provider.lei"),
        (w.alpha, "post", "/services", {"name": "S", "storage_locations": ["Sweden"]}, 422, "storage_locations"),
        (w.alpha, "post", "/systems", {"name": "S", "depends_on": [pay["node_id"]]}, 422, "depends_on[0]"),
        (w.alpha, "post", "/dependencies", {"dependent": pay["node_id"], "dependency": "nonsense"}, 422,
         "dependency"),
        (other, "patch", f"/processes/{pay['id']}", {"name": "Taken"}, 404, ""),
        (w.admin, "post", "/risks", {"title": "R", "category": "cyber", "likelihood": 6, "impact": 2}, 422,
         "likelihood"),
        (w.admin, "post", "/risks/1/measures", {"title": "M", "status": "someday"}, 422, "status"),
        (w.admin, "post", "/risks/999/measures", {"title": "M"}, 404, ""),
        (w.admin, "post", "/surveys", {"year": 2026, "topics": ["C"]}, 409, ""),
        (w.admin, "post", "/infrastructure", {"name": "X", "kind": "volcano"}, 422, "kind"),
        (w.alpha, "put", "/surveys/2026/response", {"ranking": [999]}, 422, "ranking[0]"),
        (w.alpha, "put", "/surveys/1999/response", {"ranking": [1]}, 404, ""),
        (w.alpha, "post", "/analysis/what-if", {"down": []}, 422, "down"),
        (w.alpha, "post", "/analysis/what-if", {"down": ["process:1", "banana"]}, 422, "down[1]"),
    ]
    for m, method, path, body, status, field in cases:
        r = http.request(method, API + path, headers=_h(m), json=body)
        assert r.status_code == status, (path, body, r.text)
        answer = r.json()
        assert set(answer) == {"error", "message", "details"}
        if field:
            assert field in {d.get("field") for d in answer["details"]}, (path, answer)
    assert http.get(f"{API}/analysis/concentration", headers=_h(w.alpha),
                    params={"function_category": "gambling"}).status_code == 422
    assert row_counts(engine) == before


def test_imports_and_new_providers_racing_each_other_store_each_thing_once(base_url: str, engine: Engine,
                                                                          world: World) -> None:
    w = world
    alpha_analyst = make_member(engine, org=w.alpha.org_name, role="analyst")
    register = ("Function,Category,Critical,Provider,Service type,System\n"
                + "".join(f"Function {n},payments,yes,Brand New Cloud {n % 3} AB,S17,System {n % 4}\n"
                          for n in range(12))).encode()
    calls: list[tuple[Member, str, Any]] = [
        (w.alpha, "/import", register), (alpha_analyst, "/import", register),
        (w.boreal, "/import", register.replace(b"Function ", b"Boreal function ")),
        (w.payco, "/services", {"name": "Payco cloud", "provider": {"name": "brand new cloud 0"}}),
    ]
    start = threading.Barrier(len(calls))
    answers: list[int] = []
    failures: list[BaseException] = []

    def run(m: Member, path: str, body: Any) -> None:
        try:
            with httpx.Client(base_url=base_url, headers=_h(m), timeout=60) as client:
                start.wait()
                if isinstance(body, bytes):
                    r = client.post(API + path, content=body, headers={"Content-Type": "text/csv"})
                else:
                    r = client.post(API + path, json=body)
                answers.append(r.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=c) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and sorted(answers) == [200, 200, 200, 201]
    with httpx.Client(base_url=base_url, headers=_h(w.admin), timeout=60) as client:
        # One provider per name, spelt as whoever registered it first spelt it.
        providers = [p for p in client.get(f"{API}/providers").json() if p["name"].lower().startswith("brand new")]
        assert sorted((provider_key(p["name"]), p["usage"]["members"]) for p in providers) == [
            ("brand new cloud 0", 3), ("brand new cloud 1", 2), ("brand new cloud 2", 2)]
        for m, processes in ((w.alpha, 12), (w.boreal, 12)):
            mine = client.get(f"{API}/processes", params={"organisation_id": m.org_id}).json()
            assert len(mine) == processes
            assert len(client.get(f"{API}/systems", params={"organisation_id": m.org_id}).json()) == 4
