"""/api/v1/crises over a real server: 30 members reporting at once give a complete and consistent picture, a
member's view names no other member, a closed crisis refuses reports, bad input is a clear 4xx with nothing
stored, and the coordinator's journey from declaration to follow-up actions."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, func, select

from nordcert.crisis.service import SERVICES, STATUSES
from nordcert.crisis.tables import crisis_status_reports
from nordcert.db import transaction
from tests.crisis.conftest import World, organisations_named
from tests.factories import Member, make_member

_TYPES = ("bank", "mortgage", "payment_system", "data_centre", "insurer", "pension", "industry_body", "supplier")


def _h(m: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.token}"}


def _reports(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(crisis_status_reports)).scalar_one())


def _declare(http: httpx.Client, admin: Member, **extra: Any) -> dict[str, Any]:
    r = http.post("/api/v1/crises", headers=_h(admin), json={
        "title": "DDoS wave against card payments", "scope": "Card acquiring", "severity": "high", **extra})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _status_of(i: int, n: int, round_: int) -> str:
    return STATUSES[(i * 7 + n * 3 + round_) % 3]


def test_thirty_members_reporting_at_once_give_a_complete_consistent_picture(
        http: httpx.Client, base_url: str, engine: Engine) -> None:
    admin = make_member(engine, name="Nordic Financial CERT", role="cert_admin", sector_type="cert")
    authority = make_member(engine, name="Financial Supervisory Authority", role="risk_officer",
                            sector_type="authority")
    members = [make_member(engine, name=f"Crisis Member {i:02d}", sector_type=_TYPES[i % len(_TYPES)],
                           role=("analyst", "risk_officer")[i % 2]) for i in range(30)]
    cid = _declare(http, admin)["id"]
    now = datetime.now(UTC)
    first, second, backfill = (now - timedelta(minutes=m) for m in (10, 5, 15))
    expected: dict[tuple[int, str], str] = {}
    for i, m in enumerate(members):
        for n, s in enumerate(SERVICES):
            expected[(m.org_id, s)] = _status_of(i, n, 1 if i % 3 == 0 and n < 3 else 0)

    start = threading.Barrier(len(members))
    answers: list[int] = []
    failures: list[BaseException] = []

    def report(i: int, m: Member) -> None:
        try:
            with httpx.Client(base_url=base_url, headers=_h(m), timeout=60) as client:
                start.wait()
                rounds = [[{"service": s, "status": _status_of(i, n, 0), "observed_at": first.isoformat(),
                            "comment": f"round 0 of {m.org_name}"} for n, s in enumerate(SERVICES)]]
                if i % 3 == 0:  # reports again on three services; then sends an older observation, which loses
                    rounds.append([{"service": s, "status": _status_of(i, n, 1), "observed_at": second.isoformat()}
                                   for n, s in enumerate(list(SERVICES)[:3])])
                    rounds.append([{"service": "payments", "status": "down", "observed_at": backfill.isoformat()}])
                for items in rounds:
                    answers.append(client.post(f"/api/v1/crises/{cid}/status", json={"statuses": items}).status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=report, args=(i, m)) for i, m in enumerate(members)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert answers == [201] * (30 + 2 * 10)
    assert _reports(engine) == 30 * 7 + 10 * 3 + 10

    pic = http.get(f"/api/v1/crises/{cid}/picture", headers=_h(admin))
    assert pic.status_code == 200, pic.text
    staff = pic.json()
    assert staff["members_total"] == 30
    assert {t["member_type"]: t["members"] for t in staff["member_types"]} == Counter(m_type for m_type in (
        _TYPES[i % len(_TYPES)] for i in range(30)))
    assert len(staff["members"]) == 30
    seen = {(e["organisation"]["id"], s): v["status"] for e in staff["members"] for s, v in e["statuses"].items()}
    assert seen == expected  # every member once per service, the latest observation winning
    sector = {m.org_id: _TYPES[i % len(_TYPES)] for i, m in enumerate(members)}
    for row in staff["aggregate"]:
        want = Counter(expected[(m.org_id, row["service"])] for m in members)
        assert row["counts"] == {**{s: want[s] for s in STATUSES}, "not_reported": 0}
        assert sum(row["counts"].values()) == 30
        for t, cell in row["by_member_type"].items():
            per_type = Counter(expected[(m.org_id, row["service"])] for m in members if sector[m.org_id] == t)
            assert cell["counts"] == {**{s: per_type[s] for s in STATUSES}, "not_reported": 0}
        assert row["worst"] == max(want, key=STATUSES.index)

    names = [m.org_name for m in members]
    for m in (*members[:4], authority):
        mine = http.get(f"/api/v1/crises/{cid}/picture", headers=_h(m)).json()
        assert mine["members"] is None and mine["aggregate"] == staff["aggregate"]
        text = orjson.dumps(mine).decode()
        if m is authority:
            assert mine["own"] is None and organisations_named(mine) == set()
        else:
            assert organisations_named(mine) == {m.org_id}
            assert {s: v["status"] for s, v in mine["own"]["statuses"].items()} == {
                s: expected[(m.org_id, s)] for s in SERVICES}
        assert [n for n in names if n in text and n != m.org_name] == []
        history = http.get(f"/api/v1/crises/{cid}/status", headers=_h(m)).json()
        assert {r["organisation"]["id"] for r in history} <= {m.org_id}

    timeline = http.get(f"/api/v1/crises/{cid}/timeline", params={"bucket_minutes": 5}, headers=_h(admin)).json()
    for series in timeline["series"]:
        row = next(a for a in staff["aggregate"] if a["service"] == series["service"])
        assert {k: series[k][-1] for k in row["counts"]} == row["counts"]


def test_a_closed_crisis_refuses_reports(http: httpx.Client, engine: Engine, world: World) -> None:
    cid = _declare(http, world.admin)["id"]
    r = http.post(f"/api/v1/crises/{cid}/close", json={"summary": "Mitigated."}, headers=_h(world.admin))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    refused = http.post(f"/api/v1/crises/{cid}/status", headers=_h(world.alpha),
                        json={"statuses": [{"service": "payments", "status": "down"}]})
    assert refused.status_code == 409 and refused.json()["error"] == "conflict"
    assert "closed" in refused.json()["message"]
    assert _reports(engine) == 0


def test_bad_input_is_a_clear_4xx_and_stores_nothing(http: httpx.Client, engine: Engine, world: World) -> None:
    cid = _declare(http, world.admin)["id"]
    url = f"/api/v1/crises/{cid}/status"

    def post(m: Member | None, body: Any) -> httpx.Response:
        return http.post(url, json=body, headers=_h(m) if m else {})

    good = {"service": "payments", "status": "down"}
    cases: list[tuple[Member | None, Any, int, str | None]] = [
        (world.alpha, {"statuses": [good, {"service": "cards", "status": "down"}]}, 422, "statuses.1.service"),
        (world.alpha, {"statuses": [good, {"service": "cash_atm", "status": "broken"}]}, 422, "statuses.1.status"),
        (world.alpha, {"statuses": [good, good]}, 422, "statuses.1.service"),
        (world.alpha, {"statuses": []}, 422, "statuses"),
        (world.alpha, {"statuses": [{**good, "observed_at": "2026-01-01T10:00:00"}]}, 422, "statuses.0.observed_at"),
        (world.alpha, {"statuses": [{**good, "observed_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}]},
         422, "statuses.0.observed_at"),
        (world.alpha, {"statuses": [{**good, "severity": "high"}]}, 422, "statuses.0.severity"),
        (world.alpha, {"statuses": [{"service": "payments"}]}, 422, "statuses.0.status"),
        (world.alpha_reader, {"statuses": [good]}, 403, None),
        (world.admin, {"statuses": [good]}, 403, None),
        (world.fsa, {"statuses": [good]}, 403, None),
        (world.peer, {"statuses": [good]}, 404, None),
        (None, {"statuses": [good]}, 401, None),
    ]
    for who, body, code, field in cases:
        r = post(who, body)
        assert r.status_code == code, (body, r.text)
        assert set(r.json()) == {"error", "message", "details"}
        if field:
            assert field in {d["field"] for d in r.json()["details"]}, (field, r.json())
    assert http.post("/api/v1/crises/987654/status", json={"statuses": [good]},
                     headers=_h(world.alpha)).status_code == 404
    assert _reports(engine) == 0
    bad = http.post("/api/v1/crises", json={"title": "x", "scope": "y", "severity": "huge"}, headers=_h(world.admin))
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "severity"
    assert http.post("/api/v1/crises", json={"title": "x", "scope": "y", "severity": "low"},
                     headers=_h(world.alpha)).status_code == 403
    assert http.get("/api/v1/crises", headers=_h(world.admin)).json()[0]["id"] == cid


def test_the_coordinators_journey(http: httpx.Client, world: World) -> None:
    admin, alpha = _h(world.admin), _h(world.alpha)
    services = http.get("/api/v1/crises/services", headers=alpha).json()
    assert services[1] == {"id": "card_payments", "name": "Card payments"} and len(services) == 7
    crisis = _declare(http, world.admin, is_exercise=True)
    cid = crisis["id"]
    feed = http.get("/api/v1/crises/broadcasts", headers=alpha).json()
    assert feed[0]["kind"] == "declared" and feed[0]["crisis"]["id"] == cid

    r = http.post(f"/api/v1/crises/{cid}/status", headers=alpha, json={"statuses": [
        {"service": "card_payments", "status": "down", "comment": "Acquirer unreachable"}]})
    assert r.status_code == 201 and r.json()[0]["service_name"] == "Card payments"
    assert http.post(f"/api/v1/crises/{cid}/briefings", json={"text": "Briefing 1"}, headers=admin).status_code == 201
    http.post(f"/api/v1/crises/{cid}/status", headers=alpha, json={"statuses": [
        {"service": "card_payments", "status": "degraded"}]})
    changes = http.get(f"/api/v1/crises/{cid}/changes", headers=admin).json()
    assert [(c["before"]["status"], c["now"]["status"]) for c in changes["changes"]] == [("down", "degraded")]
    assert http.get(f"/api/v1/crises/{cid}/changes", headers=alpha).json()["changes"] is None
    assert http.get(f"/api/v1/crises/{cid}/briefings", headers=alpha).status_code == 403

    patched = http.patch(f"/api/v1/crises/{cid}", json={"severity": "critical"}, headers=admin)
    assert patched.status_code == 200 and patched.json()["severity"] == "critical"
    b = http.post(f"/api/v1/crises/{cid}/broadcasts", json={"body": "Use the fallback acquirer."}, headers=admin)
    assert b.status_code == 201
    assert http.get(f"/api/v1/crises/{cid}/broadcasts", headers=_h(world.fsa_analyst)).json()[0]["id"] == b.json()["id"]
    assert http.get(f"/api/v1/crises/{cid}", headers=_h(world.peer)).status_code == 404

    assert http.post(f"/api/v1/crises/{cid}/close", json={"summary": "Exercise over."}, headers=admin).status_code == 200
    lesson = http.post(f"/api/v1/crises/{cid}/lessons", json={"text": "Fallback acquirer untested."}, headers=admin)
    assert lesson.status_code == 201
    due = (date.today() + timedelta(days=14)).isoformat()
    action = http.post(f"/api/v1/crises/{cid}/actions", headers=admin, json={
        "title": "Test the fallback acquirer", "owner_organisation": "Alpha Bank", "owner_user": world.alpha.email,
        "due_on": due, "lesson_id": lesson.json()["id"]})
    assert action.status_code == 201, action.text
    aid = action.json()["id"]
    assert [a["id"] for a in http.get(f"/api/v1/crises/{cid}/actions", headers=alpha).json()] == [aid]
    assert http.get(f"/api/v1/crises/{cid}/actions", headers=_h(world.boreal)).json() == []
    assert http.get("/api/v1/crises/actions", params={"overdue": "true"}, headers=admin).json() == []
    done = http.patch(f"/api/v1/crises/actions/{aid}", json={"status": "done"}, headers=alpha)
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert http.patch(f"/api/v1/crises/actions/{aid}", json={"due_on": due}, headers=alpha).status_code == 403


def test_no_report_is_stored_after_the_crisis_closes(http: httpx.Client, base_url: str, engine: Engine,
                                                     world: World) -> None:
    """Members keep reporting while CERT staff close the crisis: each report is stored before the close or
    refused with 409, never stored after it."""
    cid = _declare(http, world.admin)["id"]
    reporters = [world.alpha, world.alpha_analyst, world.boreal, world.payco]
    answers: list[int] = []
    failures: list[BaseException] = []
    started = threading.Barrier(len(reporters) + 1)

    def keep_reporting(m: Member) -> None:
        try:
            with httpx.Client(base_url=base_url, headers=_h(m), timeout=60) as client:
                started.wait()
                for n in range(200):
                    code = client.post(f"/api/v1/crises/{cid}/status", json={"statuses": [
                        {"service": "payments", "status": STATUSES[n % 3]}]}).status_code
                    answers.append(code)
                    if code != 201:
                        return
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=keep_reporting, args=(m,)) for m in reporters]
    for t in threads:
        t.start()
    started.wait()
    deadline = time.monotonic() + 30
    while len(answers) < 40 and time.monotonic() < deadline:  # close in mid-stream
        time.sleep(0.005)
    closed = http.post(f"/api/v1/crises/{cid}/close", json={"summary": "Over."}, headers=_h(world.admin)).json()
    for t in threads:
        t.join()
    assert failures == [] and set(answers) <= {201, 409} and answers.count(409) == len(reporters)
    assert answers.count(201) >= 40
    assert _reports(engine) == answers.count(201)
    with transaction(engine, write=False) as conn:
        last = conn.execute(select(func.max(crisis_status_reports.c.submitted_at))).scalar_one()
    assert last is None or datetime.fromtimestamp(last / 1e6, UTC) <= datetime.fromisoformat(closed["closed_at"])
