"""The situation picture on the real store: latest status per member and service counted by member type,
who sees which member, the timeline, and what changed since the last briefing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from nordcert.crisis import picture, service, status
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from tests.crisis.conftest import World, ago, call, declare, organisations_named
from tests.factories import Member

_T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _at(hh: int, mm: int) -> datetime:
    return _T0.replace(hour=hh, minute=mm)


def _submit(engine: Engine, m: Member, crisis_id: int, service_id: str, state: str, observed: datetime | None = None,
            comment: str = "", now: datetime | None = None) -> None:
    call(engine, status.submit_status, m.reader, crisis_id, now=now,
         statuses=[{"service": service_id, "status": state, "observed_at": observed, "comment": comment}])


def _row(pic: dict[str, Any], service_id: str) -> dict[str, Any]:
    return next(a for a in pic["aggregate"] if a["service"] == service_id)


def _counts(operational: int = 0, degraded: int = 0, down: int = 0, not_reported: int = 0) -> dict[str, int]:
    return {"operational": operational, "degraded": degraded, "down": down, "not_reported": not_reported}


@pytest.fixture
def reported(engine: Engine, world: World) -> dict[str, Any]:
    """A crisis where Alpha's payments went down then degraded (a late backfill does not win), Boreal is down on
    payments and cards, and Payco has not reported."""
    crisis = declare(engine, world.admin)
    cid = crisis["id"]
    _submit(engine, world.alpha, cid, "payments", "down", ago(50))
    _submit(engine, world.alpha_analyst, cid, "payments", "degraded", ago(20), comment="Half the terminals back")
    _submit(engine, world.alpha, cid, "payments", "operational", ago(40))  # sent late, observed earlier
    same = ago(10)
    _submit(engine, world.alpha, cid, "cash_atm", "down", same)
    _submit(engine, world.alpha, cid, "cash_atm", "operational", same)  # the same moment: the one stored last
    call(engine, status.submit_status, world.boreal.reader, cid, statuses=[
        {"service": "payments", "status": "down"}, {"service": "card_payments", "status": "down"}])
    return crisis


def test_the_aggregate_counts_each_member_once_by_its_latest_status(engine: Engine, world: World,
                                                                    reported: dict[str, Any]) -> None:
    pic = call(engine, picture.situation_picture, world.admin.reader, reported["id"])
    assert pic["members_total"] == 3  # the CERTs and the authority watch, they are not counted
    assert pic["member_types"] == [{"member_type": "bank", "members": 2}, {"member_type": "payment_system", "members": 1}]
    assert [s["id"] for s in pic["services"]] == list(service.SERVICES)
    payments = _row(pic, "payments")
    assert payments["counts"] == _counts(degraded=1, down=1, not_reported=1) and payments["worst"] == "down"
    assert payments["by_member_type"]["bank"] == {"members": 2, "counts": _counts(degraded=1, down=1), "worst": "down"}
    assert payments["by_member_type"]["payment_system"] == {"members": 1, "counts": _counts(not_reported=1),
                                                            "worst": "not_reported"}
    assert _row(pic, "cash_atm")["counts"] == _counts(operational=1, not_reported=2)
    assert _row(pic, "cash_atm")["worst"] == "operational"
    assert _row(pic, "internal_it")["counts"] == _counts(not_reported=3)
    for row in pic["aggregate"]:
        assert sum(row["counts"].values()) == 3
        assert sum(sum(c["counts"].values()) for c in row["by_member_type"].values()) == 3


def test_cert_staff_see_every_members_latest_status(engine: Engine, world: World, reported: dict[str, Any]) -> None:
    pic = call(engine, picture.situation_picture, world.admin.reader, reported["id"])
    assert pic["own"] is None
    assert [m["organisation"]["name"] for m in pic["members"]] == ["Alpha Bank", "Boreal Bank", "Payco Clearing"]
    alpha, boreal, payco = pic["members"]
    assert alpha["statuses"]["payments"]["status"] == "degraded"
    assert alpha["statuses"]["payments"]["comment"] == "Half the terminals back"
    assert alpha["statuses"]["cash_atm"]["status"] == "operational"
    assert alpha["statuses"]["card_payments"] is None and alpha["worst"] == "degraded"
    assert boreal["worst"] == "down" and payco["worst"] == "not_reported"
    assert set(payco["statuses"]) == set(service.SERVICES) and not any(payco["statuses"].values())


@pytest.mark.parametrize("who", ["alpha", "alpha_reader", "boreal"])
def test_a_member_sees_the_aggregate_and_only_its_own_statuses(engine: Engine, world: World, reported: dict[str, Any],
                                                               who: str) -> None:
    m = world.everyone()[who]
    pic = call(engine, picture.situation_picture, m.reader, reported["id"])
    staff = call(engine, picture.situation_picture, world.admin.reader, reported["id"])
    assert pic["aggregate"] == staff["aggregate"] and pic["members"] is None
    assert pic["own"]["organisation"]["id"] == m.org_id
    assert pic["own"] == next(e for e in staff["members"] if e["organisation"]["id"] == m.org_id)
    text = orjson.dumps(pic).decode()
    others = [w for w in world.everyone().values() if w.org_id != m.org_id]
    assert organisations_named(pic) == {m.org_id}
    assert not [o.org_name for o in others if o.org_name in text]


def test_an_authoritys_risk_officer_sees_the_aggregate_only(engine: Engine, world: World,
                                                            reported: dict[str, Any]) -> None:
    pic = call(engine, picture.situation_picture, world.fsa.reader, reported["id"])
    assert pic["own"] is None and pic["members"] is None and organisations_named(pic) == set()
    assert _row(pic, "payments")["counts"] == _counts(degraded=1, down=1, not_reported=1)
    for fn in (picture.situation_picture, picture.timeline, picture.changes_since_briefing):
        with pytest.raises(Forbidden, match="risk officers"):
            call(engine, fn, world.fsa_analyst.reader, reported["id"])
        with pytest.raises(NotFound):
            call(engine, fn, world.peer.reader, reported["id"])


def test_the_timeline_replays_the_reports_per_bucket(engine: Engine, world: World) -> None:
    crisis = declare(engine, world.admin, now=_T0)
    cid, late = crisis["id"], _at(12, 10)
    _submit(engine, world.alpha, cid, "payments", "down", _at(9, 40), now=late)
    _submit(engine, world.payco, cid, "payments", "down", _at(9, 10), now=late)  # before the declaration
    _submit(engine, world.boreal, cid, "card_payments", "down", _at(8, 0), now=late)  # before the first bucket
    _submit(engine, world.boreal, cid, "payments", "degraded", _at(10, 15), now=late)
    _submit(engine, world.alpha, cid, "payments", "operational", _at(11, 5), now=late)
    got = call(engine, picture.timeline, world.alpha.reader, cid, now=late)
    assert got["times"] == ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z",
                            "2026-03-02T12:00:00Z"]
    payments = next(s for s in got["series"] if s["service"] == "payments")
    assert payments["down"] == [2, 2, 1, 1]
    assert payments["degraded"] == [0, 1, 1, 1]
    assert payments["operational"] == [0, 0, 1, 1]
    assert payments["not_reported"] == [1, 0, 0, 0]
    assert next(s for s in got["series"] if s["service"] == "card_payments")["down"] == [1, 1, 1, 1]
    assert got["total"] == {"down": [3, 3, 2, 2], "degraded": [0, 1, 1, 1]}
    half = call(engine, picture.timeline, world.admin.reader, cid, bucket_minutes=30, now=late)
    assert len(half["times"]) == 6 and half["times"][0] == "2026-03-02T09:30:00Z"
    # the last bucket is the picture now
    pic = call(engine, picture.situation_picture, world.admin.reader, cid)
    for row in got["series"]:
        assert {k: row[k][-1] for k in _counts()} == _row(pic, row["service"])["counts"]


def test_a_closed_crisis_has_a_timeline_that_ends_and_a_long_one_needs_wider_buckets(engine: Engine,
                                                                                   world: World) -> None:
    crisis = declare(engine, world.admin, now=_T0)
    call(engine, service.close_crisis, world.admin.reader, crisis["id"], summary="Over.", now=_at(11, 59))
    got = call(engine, picture.timeline, world.admin.reader, crisis["id"], now=_T0 + timedelta(days=30))
    assert len(got["times"]) == 3
    assert got["series"][0]["not_reported"] == [3, 3, 3]
    with pytest.raises(Invalid, match="choose wider buckets"):
        call(engine, picture.timeline, world.admin.reader, declare(engine, world.admin, now=ago(3 * 24 * 60))["id"],
             bucket_minutes=1)


def test_what_changed_since_the_last_briefing(engine: Engine, world: World) -> None:
    cid = declare(engine, world.admin)["id"]
    _submit(engine, world.alpha, cid, "payments", "down", comment="DDoS on the gateway")
    _submit(engine, world.boreal, cid, "card_payments", "down")
    first = call(engine, picture.changes_since_briefing, world.admin.reader, cid)
    assert first["since"] is None
    assert [(c["organisation"]["name"], c["service"], c["before"]) for c in first["changes"]] == [
        ("Alpha Bank", "payments", None), ("Boreal Bank", "card_payments", None)]

    briefing = call(engine, picture.record_briefing, world.admin.reader, cid, text="Briefing 1: two banks hit.")
    assert briefing["text"] == "Briefing 1: two banks hit." and briefing["recorded_by"] == world.admin.email
    _submit(engine, world.alpha, cid, "payments", "degraded", comment="Scrubbing on")
    _submit(engine, world.boreal, cid, "card_payments", "down", comment="still down")  # no change of status
    _submit(engine, world.payco, cid, "payments", "down")

    staff = call(engine, picture.changes_since_briefing, world.admin.reader, cid)
    assert staff["since"] == {"id": briefing["id"], "recorded_at": briefing["recorded_at"]}
    assert [(c["organisation"]["name"], c["service"], c["before"] and c["before"]["status"], c["now"]["status"])
            for c in staff["changes"]] == [("Alpha Bank", "payments", "down", "degraded"),
                                           ("Payco Clearing", "payments", None, "down")]
    assert staff["changes"][0]["before"]["comment"] == "DDoS on the gateway"
    assert staff["changes"][0]["now"]["comment"] == "Scrubbing on"

    member = call(engine, picture.changes_since_briefing, world.alpha.reader, cid)
    assert member["changes"] is None and organisations_named(member) == set()
    payments = next(a for a in member["aggregate"] if a["service"] == "payments")
    assert payments["before"] == _counts(down=1, not_reported=2)
    assert payments["now"] == _counts(degraded=1, down=1, not_reported=1)
    assert payments["by_member_type"]["payment_system"] == {"before": _counts(not_reported=1), "now": _counts(down=1)}
    assert member["aggregate"] == staff["aggregate"]

    assert [b["id"] for b in call(engine, picture.list_briefings, world.admin.reader, cid)] == [briefing["id"]]
    for fn, kwargs in ((picture.list_briefings, {}), (picture.record_briefing, {"text": "x"})):
        with pytest.raises(Forbidden):
            call(engine, fn, world.alpha.reader, cid, **kwargs)
    call(engine, service.close_crisis, world.admin.reader, cid, summary="Over.")
    with pytest.raises(Conflict):
        call(engine, picture.record_briefing, world.admin.reader, cid, text="Too late")
