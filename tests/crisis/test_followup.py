"""Lessons learned and follow-up actions: CERT staff assign them, the owner organisation marks them done,
nobody else sees them, and overdue ones are listed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select

from nordcert.crisis import followup, service
from nordcert.crisis.tables import crisis_actions
from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid, NotFound
from tests.crisis.conftest import World, call, declare

_TODAY = date(2026, 5, 4)


def _drill(engine: Engine, world: World) -> int:
    crisis = declare(engine, world.admin, title="Autumn exercise: card outage", is_exercise=True)
    call(engine, service.close_crisis, world.admin.reader, crisis["id"], summary="Exercise done.")
    return int(crisis["id"])


def test_lessons_learned_are_recorded_by_staff_and_read_by_members(engine: Engine, world: World) -> None:
    cid = _drill(engine, world)
    lesson = call(engine, followup.record_lesson, world.admin.reader, cid,
                  text="Out-of-band contact lists were out of date at three members.")
    assert lesson["recorded_by"] == world.admin.email
    with pytest.raises(Forbidden):
        call(engine, followup.record_lesson, world.alpha.reader, cid, text="ours")
    with pytest.raises(Invalid):
        call(engine, followup.record_lesson, world.admin.reader, cid, text=" ")
    assert [x["id"] for x in call(engine, followup.list_lessons, world.alpha_reader.reader, cid)] == [lesson["id"]]
    with pytest.raises(NotFound):
        call(engine, followup.list_lessons, world.peer.reader, cid)


def test_an_action_has_an_owner_a_due_date_and_is_seen_by_its_owner_only(engine: Engine, world: World) -> None:
    cid = _drill(engine, world)
    lesson = call(engine, followup.record_lesson, world.admin.reader, cid, text="Contact lists out of date.")
    action = call(engine, followup.add_action, world.admin.reader, cid, title="Update the out-of-band contact list",
                  owner_organisation="Alpha Bank", owner_user=world.alpha.email, due_on=_TODAY + timedelta(days=30),
                  lesson_id=lesson["id"], today=_TODAY)
    assert action["owner"]["organisation"]["name"] == "Alpha Bank"
    assert action["owner"]["user"]["email"] == world.alpha.email
    assert action["status"] == "open" and not action["overdue"] and action["due_on"] == "2026-06-03"
    assert action["crisis"]["is_exercise"] and action["lesson_id"] == lesson["id"]
    for who in ("alpha_reader", "alpha_analyst"):
        assert [a["id"] for a in call(engine, followup.list_actions, world.everyone()[who].reader)] == [action["id"]]
    for who in ("boreal", "fsa", "peer"):
        assert call(engine, followup.list_actions, world.everyone()[who].reader) == []
        with pytest.raises(NotFound):
            call(engine, followup.get_action, world.everyone()[who].reader, action["id"])
    with pytest.raises(Forbidden):
        call(engine, followup.add_action, world.alpha.reader, cid, title="x", owner_organisation=world.alpha.org_id,
             due_on=_TODAY, today=_TODAY)


def test_an_action_is_checked_and_nothing_stored_when_it_is_not_valid(engine: Engine, world: World) -> None:
    cid = _drill(engine, world)
    with pytest.raises(Invalid) as bad:
        call(engine, followup.add_action, world.admin.reader, cid, title="", owner_organisation="No Such Bank",
             owner_user="nobody@example.org", due_on=_TODAY - timedelta(days=1), lesson_id=999, today=_TODAY)
    assert {d["field"] for d in bad.value.details} == {"title", "owner_organisation", "owner_user", "due_on",
                                                       "lesson_id"}
    with pytest.raises(Invalid, match="not valid") as wrong_org:
        call(engine, followup.add_action, world.admin.reader, cid, title="Fix it", owner_organisation="Boreal Bank",
             owner_user=world.alpha.email, due_on=_TODAY, today=_TODAY)
    assert wrong_org.value.details == [{"field": "owner_user",
                                        "reason": "the owner user belongs to the owner organisation"}]
    with transaction(engine, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(crisis_actions)).scalar_one() == 0


def test_the_owner_marks_an_action_done_staff_change_anything(engine: Engine, world: World) -> None:
    cid = _drill(engine, world)
    action = call(engine, followup.add_action, world.admin.reader, cid, title="Test failover",
                  owner_organisation=world.alpha.org_id, due_on=_TODAY, today=_TODAY)
    for who, changes, why in (("alpha_reader", {"status": "done"}, "role reader"),
                              ("alpha", {"due_on": _TODAY + timedelta(days=90)}, "CERT staff assign")):
        with pytest.raises(Forbidden, match=why):
            call(engine, followup.update_action, world.everyone()[who].reader, action["id"], changes=changes)
    with pytest.raises(NotFound):
        call(engine, followup.update_action, world.boreal.reader, action["id"], changes={"status": "done"})
    done = call(engine, followup.update_action, world.alpha_analyst.reader, action["id"], changes={"status": "done"})
    assert done["status"] == "done" and done["done_at"] is not None
    reopened = call(engine, followup.update_action, world.alpha.reader, action["id"], changes={"status": "open"})
    assert reopened["status"] == "open" and reopened["done_at"] is None
    moved = call(engine, followup.update_action, world.admin.reader, action["id"],
                 changes={"owner_organisation": "Boreal Bank", "title": "Test failover twice"}, today=_TODAY)
    assert moved["owner"]["organisation"]["name"] == "Boreal Bank" and moved["title"] == "Test failover twice"
    assert call(engine, followup.list_actions, world.alpha.reader) == []
    with pytest.raises(Invalid, match="cannot be changed"):
        call(engine, followup.update_action, world.admin.reader, action["id"], changes={"crisis_id": 1})
    with pytest.raises(Invalid):
        call(engine, followup.update_action, world.admin.reader, action["id"], changes={"status": "abandoned"})


def test_overdue_actions_are_open_ones_past_their_due_date(engine: Engine, world: World) -> None:
    cid = _drill(engine, world)
    later = declare(engine, world.admin)["id"]

    def add(crisis_id: int, title: str, owner: int, due: date) -> int:
        return int(call(engine, followup.add_action, world.admin.reader, crisis_id, title=title,
                        owner_organisation=owner, due_on=due, today=due)["id"])

    late = add(cid, "Late", world.alpha.org_id, _TODAY - timedelta(days=3))
    done = add(cid, "Late but done", world.alpha.org_id, _TODAY - timedelta(days=3))
    add(cid, "Due today", world.alpha.org_id, _TODAY)
    other = add(later, "Boreal is late too", world.boreal.org_id, _TODAY - timedelta(days=1))
    call(engine, followup.update_action, world.alpha.reader, done, changes={"status": "done"})

    staff = call(engine, followup.list_actions, world.admin.reader, overdue=True, today=_TODAY)
    assert [a["id"] for a in staff] == [late, other] and all(a["overdue"] for a in staff)
    assert [a["id"] for a in call(engine, followup.list_actions, world.alpha.reader, overdue=True,
                                  today=_TODAY)] == [late]
    assert [a["id"] for a in call(engine, followup.list_actions, world.admin.reader, crisis_id=later, overdue=True,
                                  today=_TODAY)] == [other]
    on_time = call(engine, followup.list_actions, world.admin.reader, overdue=False, today=_TODAY)
    assert {a["title"] for a in on_time} == {"Late but done", "Due today"}
