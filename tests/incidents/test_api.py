"""/api/v1/incidents over a real server: the journey of a member's risk officer, clear 4xx answers for bad
input, and nothing stored when a request fails."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from nordcert.db import transaction
from nordcert.incidents.tables import incident_intel_links, incident_reports, incidents
from tests.factories import Member
from tests.incidents import helpers
from tests.incidents.conftest import World


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _body(**extra: Any) -> dict[str, Any]:
    return {"reference": "ALPHA-2026-0042", "title": "Card payments unavailable",
            "description": "Card authorisations failed for most clients.",
            "detected_at": helpers.hours_ago(2).isoformat(), "facts": helpers.MAJOR_FACTS, **extra}


def _counts(engine: Engine) -> tuple[int, ...]:
    with transaction(engine, write=False) as conn:
        return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                     for t in (incidents, incident_reports, incident_intel_links))


def _fields(r: httpx.Response) -> dict[str, str]:
    return {d["field"]: d["reason"] for d in r.json()["details"]}


def test_the_risk_officers_journey(http: httpx.Client, world: World) -> None:
    alpha = _h(world.alpha)
    created = http.post("/api/v1/incidents", json=_body(), headers=alpha)
    assert created.status_code == 201, created.text
    inc = created.json()
    iid = inc["id"]
    assert inc["major"] and inc["status"] == "recorded" and inc["organisation"]["name"] == "Alpha Bank"
    assert [d["kind"] for d in inc["deadlines"]] == ["initial_notification", "intermediate_report", "final_report"]
    assert inc["next_due"]["kind"] == "initial_notification" and not inc["next_due"]["overdue"]

    why = http.get(f"/api/v1/incidents/{iid}/classification", headers=alpha).json()
    assert why["major"] and "Art 8(1)(b)" in why["rule"]
    clients = next(c for c in why["criteria"] if c["criterion"].startswith("clients"))
    assert clients["met"] and "40 000 of 250 000 clients affected = 16 %" in clients["reason"]

    assert http.get("/api/v1/incidents", params={"major": "true"}, headers=alpha).json()[0]["id"] == iid
    assert http.get("/api/v1/incidents", params={"overdue": "true"}, headers=alpha).json() == []

    r = http.post(f"/api/v1/incidents/{iid}/reports/initial_notification", json=helpers.initial(), headers=alpha)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "initial_submitted" and r.json()["next_due"]["kind"] == "intermediate_report"
    r = http.post(f"/api/v1/incidents/{iid}/reports/intermediate_report", json=helpers.intermediate(), headers=alpha)
    assert r.status_code == 201, r.text
    patched = http.patch(f"/api/v1/incidents/{iid}", json={"facts": {"costs_and_losses_eur": "40000"}},
                         headers=alpha)
    assert patched.status_code == 200 and patched.json()["facts"]["clients_affected"] == 40_000
    r = http.post(f"/api/v1/incidents/{iid}/reports/final_report", json=helpers.final(), headers=alpha)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "closed"

    doc = http.get(f"/api/v1/incidents/{iid}/export", headers=alpha)
    assert doc.status_code == 200
    assert doc.json()["incidentSubmission"] == "final_report"
    assert doc.json()["incident"]["financialEntityCode"] == "ALPHA-2026-0042"
    initial = http.get(f"/api/v1/incidents/{iid}/export", params={"kind": "initial_notification"}, headers=alpha)
    assert initial.json()["incidentSubmission"] == "initial_notification"

    # the bank's read-only user reads; another bank does not even learn it exists; CERT staff see it
    assert http.get(f"/api/v1/incidents/{iid}", headers=_h(world.alpha_reader)).status_code == 200
    hidden = http.get(f"/api/v1/incidents/{iid}", headers=_h(world.boreal))
    missing = http.get("/api/v1/incidents/987654", headers=_h(world.boreal))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "not_found"
    assert http.get("/api/v1/incidents", headers=_h(world.boreal)).json() == []
    assert [i["id"] for i in http.get("/api/v1/incidents", headers=_h(world.admin)).json()] == [iid]


def test_bad_incidents_get_clear_422s_and_nothing_is_stored(http: httpx.Client, engine: Engine,
                                                           world: World) -> None:
    alpha = _h(world.alpha)
    naive = http.post("/api/v1/incidents", json=_body(detected_at="2026-03-01T10:00:00"), headers=alpha)
    assert naive.status_code == 422 and naive.json()["error"] == "invalid"
    assert "timezone" in _fields(naive)["detected_at"]
    facts = http.post("/api/v1/incidents", headers=alpha,
                      json=_body(facts={"member_states": ["DK", "US"], "clients_affected": -1, "typo": 1}))
    assert facts.status_code == 422
    reasons = _fields(facts)
    assert "not EEA Member State codes: US" in reasons["facts.member_states"]
    assert set(reasons) == {"facts.member_states", "facts.clients_affected", "facts.typo"}
    zone = http.post("/api/v1/incidents", json=_body(timezone="Europe/Kobenhavn"), headers=alpha)
    assert zone.status_code == 422 and "not an IANA time zone" in _fields(zone)["timezone"]
    assert zone.json()["message"] == "the incident is not valid"
    unseen = http.post("/api/v1/incidents", headers=alpha,
                       json=_body(intel_links=["indicator--00000000-0000-4000-8000-000000000000"]))
    assert unseen.status_code == 422 and unseen.json()["message"] == "intel links must name objects you can see"
    missing = http.post("/api/v1/incidents", json={"title": "x"}, headers=alpha)
    assert {"reference", "description", "detected_at"} <= set(_fields(missing))
    assert _counts(engine) == (0, 0, 0)

    assert http.post("/api/v1/incidents", json=_body()).status_code == 401
    reader = http.post("/api/v1/incidents", json=_body(), headers=_h(world.alpha_reader))
    assert reader.status_code == 403 and "role reader may read incidents" in reader.json()["message"]
    assert _counts(engine) == (0, 0, 0)
    assert http.post("/api/v1/incidents", json=_body(), headers=alpha).status_code == 201
    again = http.post("/api/v1/incidents", json=_body(), headers=alpha)
    assert again.status_code == 409 and "ALPHA-2026-0042" in again.json()["message"]
    assert _counts(engine) == (1, 0, 0)


def test_bad_reports_get_clear_4xx_and_nothing_is_stored(http: httpx.Client, engine: Engine, world: World) -> None:
    alpha = _h(world.alpha)
    iid = http.post("/api/v1/incidents", json=_body(), headers=alpha).json()["id"]
    reports = f"/api/v1/incidents/{iid}/reports"

    early = http.post(f"{reports}/intermediate_report", json=helpers.intermediate(), headers=alpha)
    assert early.status_code == 409 and early.json()["error"] == "conflict"
    assert early.json()["message"] == ("an intermediate report comes after the initial notification: "
                                       "submit that first")
    incomplete = {k: v for k, v in helpers.initial().items() if k not in ("discovery", "report_currency")}
    bad = http.post(f"{reports}/initial_notification", json=incomplete, headers=alpha)
    assert bad.status_code == 422 and bad.json()["message"] == "the initial notification is not complete or not valid"
    assert set(_fields(bad)) == {"discovery", "report_currency"}
    wrong = http.post(f"{reports}/initial_notification", headers=alpha,
                      json={**helpers.initial(), "report_currency": "USD", "discovery": "a hunch"})
    assert wrong.status_code == 422 and set(_fields(wrong)) == {"report_currency", "discovery"}
    kind = http.post(f"{reports}/closing_report", json=helpers.initial(), headers=alpha)
    assert kind.status_code == 422 and "path.kind" in _fields(kind)
    not_json = http.post(f"{reports}/initial_notification", content=b"{", headers={
        **alpha, "Content-Type": "application/json"})
    assert not_json.status_code == 422
    other = http.post(f"{reports}/initial_notification", json=helpers.initial(), headers=_h(world.boreal))
    assert other.status_code == 404
    staff = http.post(f"{reports}/initial_notification", json=helpers.initial(), headers=_h(world.admin))
    assert staff.status_code == 403
    assert _counts(engine) == (1, 0, 0)

    nothing = http.get(f"/api/v1/incidents/{iid}/export", headers=alpha)
    assert nothing.status_code == 409 and "nothing to export" in nothing.json()["message"]
    bad_filter = http.get("/api/v1/incidents", params={"status": "open"}, headers=alpha)
    assert bad_filter.status_code == 422 and "query.status" in _fields(bad_filter)
    bad_patch = http.patch(f"/api/v1/incidents/{iid}", json={"reference": "NEW"}, headers=alpha)
    assert bad_patch.status_code == 422
    before = http.get(f"/api/v1/incidents/{iid}", headers=alpha).json()
    late_occurrence = http.patch(f"/api/v1/incidents/{iid}", json={"occurred_at": helpers.hours_ago(1).isoformat()},
                                 headers=alpha)
    assert late_occurrence.status_code == 422
    assert http.get(f"/api/v1/incidents/{iid}", headers=alpha).json() == before
