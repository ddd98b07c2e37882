"""/api/v1/redteam over a real server: a test from its opening to the attestation, bad input as 422 naming the
fields with nothing stored, illegal moves as 409, and 404 on every path for those who may not know of the test
(the member's own blue team included)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine

from nordcert import clock
from nordcert.redteam.phases import PHASE_KEYS, add_years
from tests.factories import Member
from tests.redteam.conftest import SCOPE, World, counts

API = "/api/v1/redteam"


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _fields(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid"
    return {d["field"] for d in body["details"]}


def test_a_test_from_opening_to_attestation(http: httpx.Client, engine: Engine, world: World) -> None:
    today = clock.now().date()
    opened = today - timedelta(days=300)
    made = _ok(http.post(f"{API}/engagements", headers=_h(world.fsa), json={
        "organisation": "Alpha Bank", "name": "TLPT Kestrel", "framework": "dora_tlpt", "opened_on": str(opened),
        "significant_credit_institution": True, **SCOPE}), 201)
    eid = made["id"]
    assert made["phase"] == "preparation" and made["may_change"] is False and made["may_attest"] is True
    # The authority names the test but the control team is the member's.
    assert http.post(f"{API}/engagements/{eid}/roles", headers=_h(world.fsa), json={
        "role": "test_manager", "name": "Tina", "email": "tina@fsa.example"}).status_code == 403
    for who, role in ((world.lead, "control_team_lead"), (world.ct_reader, "control_team_member")):
        _ok(http.post(f"{API}/engagements/{eid}/roles", headers=_h(world.admin), json={
            "role": role, "name": who.email.split("@")[0], "email": who.email, "user": who.email}), 201)
    # The lead now sees and runs it; the blue team still does not know it exists.
    assert [e["id"] for e in _ok(http.get(f"{API}/engagements", headers=_h(world.lead)))] == [eid]
    assert _ok(http.get(f"{API}/engagements", headers=_h(world.alpha_soc))) == []
    day = opened
    for to in PHASE_KEYS[2:]:
        day += timedelta(weeks=12) if to == "red_team_report" else timedelta(days=10)
        if to == "remediation_plan":
            _ok(http.patch(f"{API}/engagements/{eid}", headers=_h(world.lead),
                           json={"notified_on": str(day - timedelta(days=1))}))
        if to == "red_team_report":
            assert http.post(f"{API}/engagements/{eid}/advance", headers=_h(world.lead),
                             json={"to": "attestation"}).status_code == 409
            f = _ok(http.post(f"{API}/engagements/{eid}/findings", headers=_h(world.lead), json={
                "title": "Kerberoasting to domain admin", "category": "credential_compromise",
                "severity": "critical", "flag": "F1", "root_cause": "Weak service account passwords"}), 201)
            m = _ok(http.post(f"{API}/findings/{f['id']}/measures", headers=_h(world.lead), json={
                "measure": "Managed service accounts", "owner": "IAM team", "priority": "high",
                "due_on": str(today + timedelta(days=30))}), 201)
            _ok(http.post(f"{API}/measures/{m['id']}/notes", headers=_h(world.lead), json={"text": "Pilot done."}),
                201)
            m = _ok(http.patch(f"{API}/measures/{m['id']}", headers=_h(world.lead), json={"status": "in_progress"}))
            assert [h["status"] for h in m["history"]] == ["open", "in_progress"]
        got = _ok(http.post(f"{API}/engagements/{eid}/advance", headers=_h(world.lead),
                            json={"to": to, "on": str(day)}))
        assert got["phase"] == to
    assert {w["key"] for w in got["warnings"]} == set()  # external testers, 12 weeks of active red teaming
    assert http.post(f"{API}/engagements/{eid}/attestation", headers=_h(world.lead), json={}).status_code == 403
    done = _ok(http.post(f"{API}/engagements/{eid}/attestation", headers=_h(world.fsa),
                         json={"reference": "FSA-2026-3"}))
    assert done["status"] == "attested" and done["attestation"]["attested_on"] == str(today)
    nxt = next(d for d in done["deadlines"] if d["key"] == "next_test")
    assert nxt["due_on"] == str(add_years(today, 3))
    assert done["progress"]["findings"] == 1 and done["progress"]["in_progress"] == 1
    assert http.post(f"{API}/engagements/{eid}/attestation", headers=_h(world.fsa), json={}).status_code == 409
    fs = _ok(http.get(f"{API}/engagements/{eid}/findings", headers=_h(world.fsa)))
    assert fs[0]["measures"][0]["notes"][0]["text"] == "Pilot done."


def test_bad_input_is_422_naming_fields_and_stores_nothing(http: httpx.Client, engine: Engine, world: World) -> None:
    before = counts(engine)
    r = http.post(f"{API}/engagements", headers=_h(world.admin), json={
        "organisation": "Alpha Bank", "name": "", "framework": "pentest", "functions": ["A", "a"],
        "flags": [{"code": "", "name": "x"}], "rt_provider_kind": "both", "opened_on": "2999-01-01"})
    assert _fields(r) == {"name", "framework", "functions.1", "flags.0.code", "rt_provider_kind", "opened_on"}
    r = http.post(f"{API}/engagements", headers=_h(world.admin), json={"organisation": "Alpha Bank",
                                                                         "name": "T", "framework": "dora_tlpt",
                                                                         "colour": "red", "opened_on": "soon"})
    assert _fields(r) == {"colour", "opened_on"}
    assert counts(engine) == before
    made = _ok(http.post(f"{API}/engagements", headers=_h(world.admin), json={
        "organisation": "Alpha Bank", "name": "T", "framework": "dora_tlpt"}), 201)
    r = http.put(f"{API}/engagements/{made['id']}/phases/active_red_teaming", headers=_h(world.admin),
                 json={"planned_start": "2026-05-01", "planned_end": "2026-04-01", "actual_start": "2026-05-01"})
    assert _fields(r) == {"planned_end", "actual_start"}
    r = http.post(f"{API}/engagements/{made['id']}/advance", headers=_h(world.admin),
                  json={"to": "targeted_threat_intelligence"})
    assert r.status_code == 409 and "preparation is not finished" in r.json()["message"]
    assert http.post(f"{API}/engagements/{made['id']}/advance", headers=_h(world.admin),
                     json={"to": "closure"}).status_code == 409
    assert counts(engine) == before | {"redteam_engagements": 1, "redteam_phase_dates": 1}


def test_those_who_may_not_know_get_404_on_every_path(http: httpx.Client, engine: Engine, world: World) -> None:
    eid = _ok(http.post(f"{API}/engagements", headers=_h(world.admin), json={
        "organisation": "Alpha Bank", "name": "Secret", "framework": "tiber_eu", **SCOPE}), 201)["id"]
    lead = _ok(http.post(f"{API}/engagements/{eid}/roles", headers=_h(world.admin), json={
        "role": "control_team_lead", "name": "Lena", "email": world.lead.email, "user": world.lead.email}), 201)
    for path in ("targeted_threat_intelligence", "red_team_test_plan", "active_red_teaming"):
        _ok(http.post(f"{API}/engagements/{eid}/advance", headers=_h(world.lead), json={"to": path}))
    fid = _ok(http.post(f"{API}/engagements/{eid}/findings", headers=_h(world.lead), json={
        "title": "USB drop worked", "category": "physical", "severity": "medium"}), 201)["id"]
    mid = _ok(http.post(f"{API}/findings/{fid}/measures", headers=_h(world.lead), json={
        "measure": "Disable USB storage", "owner": "Workplace IT"}), 201)["id"]
    reads = [f"/engagements/{eid}", f"/engagements/{eid}/roles", f"/engagements/{eid}/findings",
             f"/findings/{fid}", f"/measures/{mid}"]
    writes = [("patch", f"/engagements/{eid}", {"name": "X"}), ("post", f"/engagements/{eid}/advance",
                                                                 {"to": "red_team_report"}),
              ("post", f"/engagements/{eid}/findings", {"title": "T", "category": "other", "severity": "low"}),
              ("patch", f"/roles/{lead['id']}", {"name": "X"}), ("delete", f"/measures/{mid}", None),
              ("post", f"/measures/{mid}/notes", {"text": "x"}), ("delete", f"/engagements/{eid}", None)]
    before = counts(engine)
    for who in (world.alpha_ro, world.alpha_soc, world.ct_reader, world.boreal, world.fsa_analyst, world.peer):
        assert _ok(http.get(f"{API}/engagements", headers=_h(who))) == []
        for path in reads:
            r = http.get(API + path, headers=_h(who))
            assert r.status_code == 404 and r.json()["error"] == "not_found", (who.email, path)
            assert "Secret" not in r.text and "Alpha" not in r.text
        for method, path, body in writes:
            r = http.request(method, API + path, headers=_h(who), json=body)
            assert r.status_code == 404, (who.email, method, path, r.text)
    assert counts(engine) == before
    for path in reads:
        assert http.get(API + path).status_code == 401
        assert http.get(API + path, headers=_h(world.fsa)).status_code == 200
    assert http.get(f"{API}/sector", headers=_h(world.peer)).status_code == 404
    assert http.get(f"{API}/sector", headers=_h(world.fsa_analyst)).status_code == 403
    view = _ok(http.get(f"{API}/sector", headers=_h(world.alpha_soc)))
    assert view["suppressed"] is True and view["own"] is None and "Secret" not in str(view)
