"""Findings and their remediation: recorded from active red teaming on, flags checked against the scope, measures
with status histories and dated notes, overdue at the day after the due date, progress counted per finding and
per test; refused input stores nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from nordcert import clock
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.redteam import findings, remediation, service
from tests.redteam.conftest import TODAY, World, advance_to, call, counts, open_test


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d["field"] for d in exc.value.details}


@pytest.fixture
def test_in_closure(engine: Engine, world: World) -> int:
    found = open_test(engine, world)
    advance_to(engine, world.lead, found["id"], "red_team_report")
    return int(found["id"])


def _finding(engine: Engine, world: World, engagement_id: int, **kwargs: object) -> dict[str, Any]:
    values = {"title": "Phishing gave a foothold", "category": "initial_access_phishing", "severity": "high",
              "flag": "F1", "attack_path": "Mail → workstation → AD", "description": "A lure reached 40 users.",
              "root_cause": "No sandboxing of attachments."} | kwargs
    return call(engine, findings.add_finding, reader=world.lead.reader, engagement_id=engagement_id,  # type: ignore[no-any-return]
                today=TODAY, **values)


def test_findings_come_from_the_testing(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    with pytest.raises(Conflict, match="from active red teaming on"):
        _finding(engine, world, found["id"])
    advance_to(engine, world.lead, found["id"], "active_red_teaming")
    assert _finding(engine, world, found["id"])["flag"] == "F1"


def test_bad_findings_name_every_field(engine: Engine, world: World, test_in_closure: int) -> None:
    before = counts(engine)
    with pytest.raises(Invalid) as exc:
        _finding(engine, world, test_in_closure, title="", category="phishing", severity="severe", flag="F9")
    assert _fields(exc) == {"title", "category", "severity", "flag"}
    assert "its flags: F1, F2" in exc.value.details[-1]["reason"]
    for who, error in ((world.ct_reader, Forbidden), (world.fsa, Forbidden), (world.alpha_soc, NotFound),
                       (world.boreal, NotFound)):
        with pytest.raises(error):
            call(engine, findings.add_finding, reader=who.reader, engagement_id=test_in_closure, title="T",
                 category="physical", severity="low")
    assert counts(engine) == before


def test_a_flag_named_by_findings_stays_in_scope(engine: Engine, world: World, test_in_closure: int) -> None:
    _finding(engine, world, test_in_closure, flag="F2")
    with pytest.raises(Invalid) as exc:
        call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=test_in_closure,
             changes={"flags": [{"code": "F1", "name": "Domain admin", "reached": True}]}, today=TODAY)
    assert exc.value.details == [{"field": "flags", "reason": "flag F2 is named by findings: keep it, or change "
                                                              "those findings first"}]
    got = call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=test_in_closure,
               changes={"flags": [{"code": "F1", "name": "Domain admin", "reached": True},
                                  {"code": "F2", "name": "Payment order", "reached": False}]}, today=TODAY)
    assert [f["reached"] for f in got["scope"]["flags"]] == [True, False]


def test_measures_keep_their_status_history_and_notes(engine: Engine, world: World, test_in_closure: int) -> None:
    f = _finding(engine, world, test_in_closure)
    due = date(2026, 4, 30)
    t0 = datetime(2026, 3, 2, 9, tzinfo=clock.now().tzinfo)
    m = call(engine, remediation.add_measure, reader=world.lead.reader, finding_id=f["id"],
             measure="Sandbox mail attachments", owner="IT security", priority="high", due_on=due,
             residual_risk="Users may still open links.", today=TODAY, now=t0)
    assert (m["status"], m["overdue"], [h["status"] for h in m["history"]]) == ("open", False, ["open"])
    m = call(engine, remediation.update_measure, reader=world.lead.reader, measure_id=m["id"],
             changes={"status": "in_progress"}, today=TODAY, now=t0 + timedelta(days=3))
    m = call(engine, remediation.update_measure, reader=world.lead.reader, measure_id=m["id"],
             changes={"owner": "CISO office"}, today=TODAY, now=t0 + timedelta(days=4))  # no status change
    m = call(engine, remediation.add_note, reader=world.lead.reader, measure_id=m["id"],
             text="Vendor chosen; roll-out in April.", today=TODAY, now=t0 + timedelta(days=5))
    m = call(engine, remediation.update_measure, reader=world.admin.reader, measure_id=m["id"],
             changes={"status": "done"}, today=TODAY, now=t0 + timedelta(days=30))
    assert [h["status"] for h in m["history"]] == ["open", "in_progress", "done"]
    assert [h["changed_by"] for h in m["history"]] == [world.lead.email, world.lead.email, world.admin.email]
    assert m["history"][1]["changed_at"].startswith("2026-03-05")
    assert [(n["text"], n["recorded_by"]) for n in m["notes"]] == [("Vendor chosen; roll-out in April.",
                                                                    world.lead.email)]
    assert m["owner"] == "CISO office"
    before = counts(engine)
    with pytest.raises(Invalid) as exc:
        call(engine, remediation.update_measure, reader=world.lead.reader, measure_id=m["id"],
             changes={"status": "closed", "priority": "urgent", "due_on": "30.04.2026", "measure": ""})
    assert _fields(exc) == {"status", "priority", "due_on", "measure"}
    with pytest.raises(Invalid) as exc:
        call(engine, remediation.add_note, reader=world.lead.reader, measure_id=m["id"], text="  ")
    assert _fields(exc) == {"text"}
    with pytest.raises(Forbidden):
        call(engine, remediation.add_note, reader=world.fsa.reader, measure_id=m["id"], text="Looks good")
    with pytest.raises(NotFound, match=f"no measure {m['id']}"):
        call(engine, remediation.add_note, reader=world.alpha_ro.reader, measure_id=m["id"], text="Hello")
    assert counts(engine) == before


def test_overdue_from_the_day_after_and_progress_per_finding_and_test(engine: Engine, world: World,
                                                                     test_in_closure: int) -> None:
    f1 = _finding(engine, world, test_in_closure, severity="critical")
    f2 = _finding(engine, world, test_in_closure, title="No alert on DCSync", category="detection_gap",
                  severity="medium", flag=None)
    due = date(2026, 3, 31)
    made: list[dict[str, Any]] = []
    for finding, status in ((f1, "open"), (f1, "in_progress"), (f1, "done"), (f2, "accepted_risk"), (f2, "open")):
        made.append(call(engine, remediation.add_measure, reader=world.lead.reader, finding_id=finding["id"],
                         measure=f"Measure {len(made)}", owner="IT", status=status,
                         due_on=due if len(made) != 4 else None))
    on_the_day = call(engine, findings.list_findings, reader=world.ct_reader.reader, engagement_id=test_in_closure,
                      today=due)
    assert [f["id"] for f in on_the_day] == [f1["id"], f2["id"]]  # most severe first
    assert [f["progress"]["overdue"] for f in on_the_day] == [0, 0]
    after = call(engine, findings.list_findings, reader=world.ct_reader.reader, engagement_id=test_in_closure,
                 today=due + timedelta(days=1))
    assert after[0]["progress"] == {"open": 1, "in_progress": 1, "done": 1, "accepted_risk": 0, "total": 3,
                                    "resolved": 1, "overdue": 2}
    assert after[1]["progress"] == {"open": 1, "in_progress": 0, "done": 0, "accepted_risk": 1, "total": 2,
                                    "resolved": 1, "overdue": 0}  # the open one has no due date
    whole = call(engine, service.get_engagement, reader=world.fsa.reader, engagement_id=test_in_closure,
                 today=due + timedelta(days=1))["progress"]
    assert whole == {"findings": 2, "open": 2, "in_progress": 1, "done": 1, "accepted_risk": 1, "total": 5,
                     "resolved": 2, "overdue": 2}
    call(engine, findings.delete_finding, reader=world.lead.reader, finding_id=f1["id"])
    with pytest.raises(NotFound):
        call(engine, remediation.get_measure, reader=world.admin.reader, measure_id=made[0]["id"])
    assert counts(engine)["redteam_measures"] == 2


def test_findings_are_changed_by_the_control_team(engine: Engine, world: World, test_in_closure: int) -> None:
    f = _finding(engine, world, test_in_closure)
    got = call(engine, findings.update_finding, reader=world.lead.reader, finding_id=f["id"],
               changes={"severity": "critical", "flag": None}, today=TODAY)
    assert (got["severity"], got["flag"]) == ("critical", None)
    assert got["category_name"] == "Initial access: phishing and social engineering"
    with pytest.raises(Invalid) as exc:
        call(engine, findings.update_finding, reader=world.lead.reader, finding_id=f["id"],
             changes={"engagement_id": 9})
    assert _fields(exc) == {"engagement_id"}
    with pytest.raises(NotFound, match=f"no finding {f['id']}"):
        call(engine, findings.get_finding, reader=world.boreal.reader, finding_id=f["id"])
    seen = call(engine, findings.get_finding, reader=world.fsa.reader, finding_id=f["id"])
    assert seen["may_change"] is False and seen["engagement"]["id"] == test_in_closure
