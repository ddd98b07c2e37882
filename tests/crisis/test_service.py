"""Crises on the real store: who declares, changes, closes and broadcasts; who reports status, what a
report must hold, and that a refused submission stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.crisis import service, status
from nordcert.crisis.tables import crises, crisis_broadcasts, crisis_status_reports
from nordcert.db import transaction
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from tests.crisis.conftest import World, ago, call, declare


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _submit(engine: Engine, m: Any, crisis_id: int, *items: dict[str, Any]) -> list[dict[str, Any]]:
    return call(engine, status.submit_status, m.reader, crisis_id, statuses=list(items))  # type: ignore[no-any-return]


# --- declaring, changing, closing -------------------------------------------------------------------


def test_declaring_notifies_every_member_with_a_broadcast(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin, severity="critical")
    assert crisis["status"] == "active" and crisis["severity"] == "critical" and not crisis["is_exercise"]
    assert crisis["declared_by"] == world.admin.email and crisis["closed_at"] is None
    for name, m in world.everyone().items():
        if name == "peer":
            continue
        got = call(engine, service.list_broadcasts, m.reader, crisis_id=crisis["id"])
        assert [b["kind"] for b in got] == ["declared"], name
        assert "DDoS wave against card payments" in got[0]["body"] and "severity critical" in got[0]["body"]
        assert call(engine, service.list_crises, m.reader)[0]["id"] == crisis["id"]


def test_a_federation_peer_learns_nothing_of_crises(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    assert call(engine, service.list_crises, world.peer.reader) == []
    assert call(engine, service.list_broadcasts, world.peer.reader) == []
    for fn in (service.get_crisis, lambda c, r, i: service.list_broadcasts(c, r, crisis_id=i)):
        with pytest.raises(NotFound) as hidden:
            call(engine, fn, world.peer.reader, crisis["id"])
        with pytest.raises(NotFound) as missing:
            call(engine, fn, world.admin.reader, 987654)
        assert str(hidden.value) == f"no crisis {crisis['id']}" and str(missing.value) == "no crisis 987654"


def test_only_cert_staff_declare_change_close_and_broadcast(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    for name in ("alpha", "alpha_analyst", "boreal", "payco", "fsa"):
        m = world.everyone()[name]
        with pytest.raises(Forbidden):
            declare(engine, m)
        with pytest.raises(Forbidden):
            call(engine, service.update_crisis, m.reader, crisis["id"], changes={"severity": "low"})
        with pytest.raises(Forbidden):
            call(engine, service.close_crisis, m.reader, crisis["id"], summary="over")
        with pytest.raises(Forbidden):
            call(engine, service.post_broadcast, m.reader, crisis["id"], body="hello")
    assert _count(engine, crises) == 1 and _count(engine, crisis_broadcasts) == 1


def test_a_crisis_is_checked_and_nothing_is_stored_when_it_is_not_valid(engine: Engine, world: World) -> None:
    with pytest.raises(Invalid) as bad:
        declare(engine, world.admin, title="  ", severity="apocalyptic")
    assert {d["field"] for d in bad.value.details} == {"title", "severity"}
    assert "'apocalyptic' is not one of: low, medium, high, critical" in str(bad.value.details)
    assert _count(engine, crises) == 0 and _count(engine, crisis_broadcasts) == 0


def test_changing_a_crisis(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    changed = call(engine, service.update_crisis, world.admin.reader, crisis["id"],
                   changes={"severity": "critical", "scope": "Cards and online banking"})
    assert changed["severity"] == "critical" and changed["scope"] == "Cards and online banking"
    assert changed["title"] == crisis["title"]
    with pytest.raises(Invalid, match="cannot be changed: is_exercise"):
        call(engine, service.update_crisis, world.admin.reader, crisis["id"], changes={"is_exercise": True})
    with pytest.raises(Invalid):
        call(engine, service.update_crisis, world.admin.reader, crisis["id"], changes={"severity": "meh"})
    assert call(engine, service.get_crisis, world.alpha.reader, crisis["id"])["severity"] == "critical"


def test_closing_a_crisis_tells_the_members_and_ends_reporting(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    with pytest.raises(Invalid):
        call(engine, service.close_crisis, world.admin.reader, crisis["id"], summary=" ")
    closed = call(engine, service.close_crisis, world.admin.reader, crisis["id"],
                  summary="Attack mitigated by upstream scrubbing.")
    assert closed["status"] == "closed" and closed["summary"] == "Attack mitigated by upstream scrubbing."
    assert closed["closed_at"] is not None
    got = call(engine, service.list_broadcasts, world.boreal.reader, crisis_id=crisis["id"])
    assert [b["kind"] for b in got] == ["closed", "declared"]
    assert "Attack mitigated by upstream scrubbing." in got[0]["body"]
    for fn, kwargs in ((service.close_crisis, {"summary": "again"}), (service.post_broadcast, {"body": "late"}),
                       (service.update_crisis, {"changes": {"severity": "low"}})):
        with pytest.raises(Conflict, match="is closed"):
            call(engine, fn, world.admin.reader, crisis["id"], **kwargs)
    with pytest.raises(Conflict, match="takes no more status reports"):
        _submit(engine, world.alpha, crisis["id"], {"service": "payments", "status": "down"})
    assert _count(engine, crisis_status_reports) == 0
    assert call(engine, service.list_crises, world.alpha.reader, status="closed")[0]["id"] == crisis["id"]
    assert call(engine, service.list_crises, world.alpha.reader, status="active") == []


def test_an_exercise_runs_the_same_flow_marked_as_such(engine: Engine, world: World) -> None:
    real = declare(engine, world.admin)
    drill = declare(engine, world.admin, title="Spring exercise: ransomware at a data centre", is_exercise=True)
    assert drill["is_exercise"]
    assert [c["id"] for c in call(engine, service.list_crises, world.alpha.reader, exercise=True)] == [drill["id"]]
    assert [c["id"] for c in call(engine, service.list_crises, world.alpha.reader, exercise=False)] == [real["id"]]
    feed = call(engine, service.list_broadcasts, world.alpha.reader)
    assert feed[0]["crisis"] == {"id": drill["id"], "title": drill["title"], "is_exercise": True}
    assert feed[0]["body"].startswith("EXERCISE.")


def test_broadcasts_reach_everyone_logged_in(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    posted = call(engine, service.post_broadcast, world.admin.reader, crisis["id"],
                  body="Block the ranges in advisory 2026-17 at your edge.")
    assert posted["kind"] == "message" and posted["posted_by"] == world.admin.email
    with pytest.raises(Invalid):
        call(engine, service.post_broadcast, world.admin.reader, crisis["id"], body="")
    for name in ("alpha_reader", "fsa_analyst", "payco"):
        got = call(engine, service.list_broadcasts, world.everyone()[name].reader, crisis_id=crisis["id"])
        assert got[0]["id"] == posted["id"]


# --- status reports -------------------------------------------------------------------------------


def test_analysts_and_risk_officers_of_members_report_status(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    stored = _submit(engine, world.alpha, crisis["id"],
                     {"service": "card_payments", "status": "down", "comment": "Acquiring unreachable"},
                     {"service": "payments", "status": "degraded", "observed_at": ago(30)})
    assert [(r["service"], r["status"]) for r in stored] == [("card_payments", "down"), ("payments", "degraded")]
    assert stored[0]["service_name"] == "Card payments" and stored[0]["comment"] == "Acquiring unreachable"
    assert stored[0]["organisation"]["name"] == "Alpha Bank" and stored[0]["submitted_by"] == world.alpha.email
    assert stored[1]["observed_at"] < stored[1]["submitted_at"]
    assert _submit(engine, world.alpha_analyst, crisis["id"], {"service": "cash_atm", "status": "operational"})
    assert _submit(engine, world.payco, crisis["id"], {"service": "payments", "status": "down"})


@pytest.mark.parametrize("who, why", [
    ("alpha_reader", "role reader may read"),
    ("admin", "CERT staff read it"),
    ("fsa", "type authority follow the situation picture"),
])
def test_others_may_not_report_status(engine: Engine, world: World, who: str, why: str) -> None:
    crisis = declare(engine, world.admin)
    with pytest.raises(Forbidden, match=why):
        _submit(engine, world.everyone()[who], crisis["id"], {"service": "payments", "status": "down"})
    with pytest.raises(NotFound):
        _submit(engine, world.peer, crisis["id"], {"service": "payments", "status": "down"})
    assert _count(engine, crisis_status_reports) == 0


def test_a_bad_item_refuses_the_whole_submission_naming_each_problem(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    with pytest.raises(Invalid) as bad:
        _submit(engine, world.alpha, crisis["id"],
                {"service": "payments", "status": "operational"},
                {"service": "cards", "status": "down"},
                {"service": "cash_atm", "status": "on fire"},
                {"service": "payments", "status": "down"},
                {"service": "internal_it", "status": "down", "observed_at": ago(-60)},
                {"service": "customer_service", "status": "down", "observed_at": "2026-01-01T10:00:00"},
                {"service": "securities_settlement", "status": "down", "comment": "x" * 2001})
    assert {d["field"]: d["reason"] for d in bad.value.details} == {
        "statuses.1.service": "'cards' is not one of: payments, card_payments, online_mobile_banking, cash_atm, "
                              "securities_settlement, customer_service, internal_it",
        "statuses.2.status": "'on fire' is not one of: operational, degraded, down",
        "statuses.3.service": "payments is given twice: once per submission",
        "statuses.4.observed_at": "lies in the future",
        "statuses.5.observed_at": "needs a time zone (an offset such as +01:00, or Z)",
        "statuses.6.comment": "at most 2000 characters",
    }
    with pytest.raises(Invalid, match="at least one service"):
        _submit(engine, world.alpha, crisis["id"])
    with pytest.raises(Invalid) as early:
        _submit(engine, world.alpha, crisis["id"], {"service": "payments", "status": "down", "observed_at": ago(60 * 24 * 8)})
    assert "more than 7 days before" in early.value.details[0]["reason"]
    assert _count(engine, crisis_status_reports) == 0


def test_reports_are_history_a_member_sees_its_own(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin)
    _submit(engine, world.alpha, crisis["id"], {"service": "payments", "status": "down", "observed_at": ago(50)})
    _submit(engine, world.alpha, crisis["id"], {"service": "payments", "status": "degraded", "observed_at": ago(20)})
    _submit(engine, world.boreal, crisis["id"], {"service": "payments", "status": "down"})
    own = call(engine, status.list_status_reports, world.alpha_reader.reader, crisis["id"])
    assert [r["status"] for r in own] == ["degraded", "down"]  # newest observation first, nothing replaced
    assert {r["organisation"]["name"] for r in own} == {"Alpha Bank"}
    # asking for another member's reports gives nothing, not an error that confirms they exist
    assert call(engine, status.list_status_reports, world.alpha.reader, crisis["id"],
                organisation_id=world.boreal.org_id) == []
    assert call(engine, status.list_status_reports, world.fsa.reader, crisis["id"]) == []
    every = call(engine, status.list_status_reports, world.admin.reader, crisis["id"])
    assert len(every) == 3
    assert len(call(engine, status.list_status_reports, world.admin.reader, crisis["id"],
                    organisation_id=world.boreal.org_id)) == 1
    with pytest.raises(Invalid):
        call(engine, status.list_status_reports, world.admin.reader, crisis["id"], service="cards")
