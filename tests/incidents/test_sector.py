"""The sector's view of incidents (CERT staff, authorities' risk officers) names no member; members are
named only through the summaries they chose to share, and the sharing policy decides who sees those."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine

from tests.factories import Member, make_member
from tests.incidents import helpers
from tests.incidents.conftest import World


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _record(http: httpx.Client, who: Member, ref: str, facts: dict[str, Any]) -> int:
    r = http.post("/api/v1/incidents", headers=_h(who), json={
        "reference": ref, "title": f"Incident {ref}", "description": "Secret details of the member.",
        "detected_at": helpers.hours_ago(30).isoformat(), "facts": facts})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_sector_view_counts_without_naming_and_shared_summaries_follow_the_policy(
        http: httpx.Client, engine: Engine, world: World) -> None:
    major = _record(http, world.alpha, "A-1", helpers.MAJOR_FACTS)
    _record(http, world.boreal, "B-1", helpers.MINOR_FACTS)
    r = http.post(f"/api/v1/incidents/{major}/reports/initial_notification", json=helpers.initial(),
                  headers=_h(world.alpha))
    assert r.status_code == 201, r.text
    r = http.post(f"/api/v1/incidents/{major}/reports/intermediate_report", json=helpers.intermediate(),
                  headers=_h(world.alpha))
    assert r.status_code == 201, r.text
    authority = make_member(engine, name="Finanstilsynet", role="risk_officer", sector_type="authority")

    for viewer in (world.admin, authority):
        view = http.get("/api/v1/incidents/sector", headers=_h(viewer))
        assert view.status_code == 200, view.text
        doc = view.json()
        assert doc["total"] == 2 and doc["major"] == 1
        assert doc["by_type"] == {"system_failure": 1, "not reported yet": 1}
        assert doc["by_criterion"]["critical_services_affected"] == 1
        assert doc["by_member_type"] == {"bank": {"major": 1, "not_major": 1}}
        assert sum(m["major"] + m["not_major"] for m in doc["by_month"]) == 2
        assert len(doc["by_month"]) == 12
        assert "Alpha" not in view.text and "Boreal" not in view.text and "Secret" not in view.text
    for member in (world.alpha, world.boreal, world.alpha_analyst):
        assert http.get("/api/v1/incidents/sector", headers=_h(member)).status_code == 403

    # Alpha shares an anonymous AMBER summary; then a named GREEN one.
    bad = http.post(f"/api/v1/incidents/{major}/share", headers=_h(world.alpha),
                    json={"summary": "x", "tlp": "red"})
    assert bad.status_code == 422
    other = http.post(f"/api/v1/incidents/{major}/share", headers=_h(world.boreal), json={"summary": "x"})
    assert other.status_code == 404  # not Boreal's incident: it does not exist for Boreal
    shared = http.post(f"/api/v1/incidents/{major}/share", headers=_h(world.alpha),
                       json={"summary": "Storage exhaustion during month-end batch: check capacity alerts.",
                             "title": "Card outage at a Danish bank", "tlp": "amber"})
    assert shared.status_code == 201, shared.text
    obj = shared.json()["summary"]["object"]
    assert obj["type"] == "incident" and "dora-incident-summary" in obj["labels"]
    assert obj["x_nordcert_dora_major"] is True and obj["x_nordcert_incident_types"] == ["system_failure"]
    assert "Secret" not in shared.text
    seen_by_boreal = http.get(f"/api/v1/objects/{obj['id']}", headers=_h(world.boreal)).json()
    assert seen_by_boreal["meta"]["creator"] == "anonymous member"
    staff_view = http.get("/api/v1/incidents/sector", headers=_h(world.admin)).json()
    [summary] = staff_view["shared_summaries"]
    assert summary["member"] == "Alpha Bank"  # CERT staff may know the creator of an anonymous submission
    authority_view = http.get("/api/v1/incidents/sector", headers=_h(authority)).json()
    assert authority_view["shared_summaries"][0]["member"] == "anonymous member"
    named = http.post(f"/api/v1/incidents/{major}/share", headers=_h(world.alpha),
                      json={"summary": "Lessons for all: keep 30 % storage headroom.", "tlp": "green",
                            "anonymous": False})
    assert named.status_code == 201
    first = http.get("/api/v1/incidents/sector", headers=_h(authority)).json()["shared_summaries"][0]
    assert first["member"] == "Alpha Bank" and first["tlp"] == "green"
