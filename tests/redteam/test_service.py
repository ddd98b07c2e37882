"""Engagements, their phases and attestation through the services: who may open and change a test, every bad field
named with nothing stored, moves one phase at a time (preparation left only when prepared), dates checked, the
deadlines and warnings computed from the stored dates and the member's history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.redteam import lifecycle, roles, service
from tests.redteam.conftest import SCOPE, TODAY, World, advance_to, call, counts, open_test


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d["field"] for d in exc.value.details}


def test_staff_open_a_test_and_it_shows_scope_phases_and_people(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    got = call(engine, service.get_engagement, reader=world.lead.reader, engagement_id=found["id"], today=TODAY)
    assert got["organisation"]["name"] == "Alpha Bank"
    assert (got["framework_name"], got["tiber_implementation"], got["phase"]) == ("TIBER-EU", "TIBER-DK",
                                                                                  "preparation")
    assert got["scope"]["flags"][0] == {"code": "F1", "name": "Domain admin in the payment zone", "reached": None}
    assert [r["role"] for r in got["roles"]] == ["control_team_lead", "control_team_member"]
    assert got["roles"][0]["user"]["email"] == world.lead.email
    prep = next(p for p in got["phases"] if p["key"] == "preparation")
    assert (prep["actual_start"], prep["current"]) == ("2025-09-01", True)
    assert got["may_change"] is True and got["may_attest"] is False
    assert [d["state"] for d in got["deadlines"]] == ["unknown"] * 5 and got["next_deadline"] is None


def test_the_authority_opens_a_test_too_but_members_and_peers_do_not(engine: Engine, world: World) -> None:
    made = call(engine, service.create_engagement, reader=world.fsa.reader, organisation="Boreal Bank",
                name="TLPT 2026", framework="dora_tlpt", today=TODAY)
    assert made["organisation"]["name"] == "Boreal Bank" and made["may_attest"] is True
    for who in (world.lead, world.alpha_ro, world.boreal, world.fsa_analyst, world.peer):
        before = counts(engine)
        with pytest.raises(Forbidden):
            call(engine, service.create_engagement, reader=who.reader, organisation="Alpha Bank", name="X",
                 framework="dora_tlpt", today=TODAY)
        assert counts(engine) == before


def test_bad_input_names_every_field_and_stores_nothing(engine: Engine, world: World) -> None:
    before = counts(engine)
    with pytest.raises(Invalid) as exc:
        call(engine, service.create_engagement, reader=world.admin.reader, organisation="Financial Supervisory "
             "Authority", name=" ", framework="tiber", functions=["Payments", "payments", ""],
             flags=[{"code": "F 1", "name": "x"}, {"code": "F2", "name": ""}, {"code": "F2", "name": "y"}, "F4"],
             rt_provider_kind="inhouse", phase="active_red_teaming", opened_on="2026-13-01", today=TODAY)
    assert _fields(exc) == {"organisation", "name", "framework", "functions.1", "functions.2", "flags.0.code",
                            "flags.1.name", "flags.2.code", "flags.3", "rt_provider_kind", "phase", "opened_on"}
    with pytest.raises(Invalid) as exc:
        call(engine, service.create_engagement, reader=world.admin.reader, organisation="No Such Bank", name="T",
             framework="dora_tlpt", opened_on=TODAY + timedelta(days=1), today=TODAY)
    assert _fields(exc) == {"organisation", "opened_on"}
    assert counts(engine) == before


def test_the_control_team_changes_the_scope_the_authority_and_readers_may_not(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    changed = call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=found["id"],
                   changes={"systems": ["Core banking"], "rt_provider_kind": "internal"}, today=TODAY)
    assert changed["scope"]["systems"] == ["Core banking"] and changed["providers"]["rt_provider_kind"] == "internal"
    for who in (world.fsa, world.ct_reader):
        with pytest.raises(Forbidden):
            call(engine, service.update_engagement, reader=who.reader, engagement_id=found["id"],
                 changes={"name": "Other"}, today=TODAY)
    for who in (world.alpha_ro, world.alpha_soc, world.boreal, world.fsa_analyst, world.peer):
        with pytest.raises(NotFound):
            call(engine, service.update_engagement, reader=who.reader, engagement_id=found["id"],
                 changes={"name": "Other"}, today=TODAY)
    with pytest.raises(Invalid) as exc:
        call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=found["id"],
             changes={"phase": "attestation", "notified_on": "2025-08-01"}, today=TODAY)
    assert _fields(exc) == {"phase"}
    with pytest.raises(Invalid) as exc:
        call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=found["id"],
             changes={"notified_on": "2025-08-01"}, today=TODAY)
    assert _fields(exc) == {"notified_on"}  # before the test opened


def test_preparation_is_left_only_when_prepared(engine: Engine, world: World) -> None:
    bare = call(engine, service.create_engagement, reader=world.admin.reader, organisation="Alpha Bank",
                name="Bare", framework="dora_tlpt", opened_on=date(2025, 9, 1), today=TODAY)
    with pytest.raises(Conflict) as exc:
        call(engine, lifecycle.advance, reader=world.admin.reader, engagement_id=bare["id"],
             to="targeted_threat_intelligence", on=date(2025, 10, 1), today=TODAY)
    for missing in ("function", "flag", "threat-intelligence provider", "red team provider", "control team lead"):
        assert missing in exc.value.message
    call(engine, service.update_engagement, reader=world.admin.reader, engagement_id=bare["id"],
         changes={k: v for k, v in SCOPE.items() if k != "systems"}, today=TODAY)
    call(engine, roles.add_role, reader=world.admin.reader, engagement_id=bare["id"], role="control_team_lead",
         name="Lena Lead", email="lena@alpha.example")
    moved = call(engine, lifecycle.advance, reader=world.admin.reader, engagement_id=bare["id"],
                 to="targeted_threat_intelligence", on=date(2025, 10, 1), today=TODAY)
    assert moved["phase"] == "targeted_threat_intelligence"
    phases = {p["key"]: p for p in moved["phases"]}
    assert phases["preparation"]["actual_end"] == phases["targeted_threat_intelligence"]["actual_start"] == "2025-10-01"


def test_illegal_moves_are_conflicts_and_bad_dates_invalid(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    before = counts(engine)
    with pytest.raises(Conflict, match="the next phase is Targeted threat intelligence"):
        call(engine, lifecycle.advance, reader=world.lead.reader, engagement_id=found["id"], to="active_red_teaming",
             today=TODAY)
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.advance, reader=world.lead.reader, engagement_id=found["id"],
             to="targeted_threat_intelligence", on=date(2025, 8, 31), today=TODAY)  # before preparation started
    assert _fields(exc) == {"on"}
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.advance, reader=world.lead.reader, engagement_id=found["id"],
             to="targeted_threat_intelligence", on=TODAY + timedelta(days=1), today=TODAY)
    assert _fields(exc) == {"on"}
    with pytest.raises(Forbidden):
        call(engine, lifecycle.advance, reader=world.ct_reader.reader, engagement_id=found["id"],
             to="targeted_threat_intelligence", today=TODAY)
    assert counts(engine) == before


def test_phase_dates_are_checked(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.set_phase_dates, reader=world.lead.reader, engagement_id=found["id"],
             phase="active_red_teaming", planned_start="2025-11-01", planned_end="2025-10-01",
             actual_start="2025-11-01", today=TODAY)
    assert _fields(exc) == {"planned_end", "actual_start"}  # end before start; a phase not reached yet
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.set_phase_dates, reader=world.lead.reader, engagement_id=found["id"],
             phase="preparation", actual_start="2025-09-01", actual_end=TODAY + timedelta(days=1), today=TODAY)
    assert _fields(exc) == {"actual_end"}
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.set_phase_dates, reader=world.lead.reader, engagement_id=found["id"],
             phase="scoping", today=TODAY)
    assert _fields(exc) == {"phase"}
    got = call(engine, lifecycle.set_phase_dates, reader=world.lead.reader, engagement_id=found["id"],
               phase="active_red_teaming", planned_start="2025-11-03", planned_end="2026-01-19", today=TODAY)
    assert {w["key"] for w in got["warnings"]} == {"active_red_teaming_planned_short"}  # 11 weeks
    rt = next(d for d in got["deadlines"] if d["key"] == "red_team_report")
    assert (rt["due_on"], rt["from_planned"], rt["state"]) == ("2026-02-16", True, "overdue")
    assert got["overdue"] == ["red_team_report"]


def test_a_test_runs_to_its_attestation_and_the_next_is_due_three_years_later(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    got = advance_to(engine, world.lead, found["id"], "replay_purple_teaming", today=TODAY)
    active = next(p for p in got["phases"] if p["key"] == "active_red_teaming")
    assert (active["actual_start"], active["actual_end"]) == ("2025-10-13", "2026-01-05")
    states = {d["key"]: (d["due_on"], d["done_on"], d["state"]) for d in got["deadlines"]}
    assert states["red_team_report"] == ("2026-02-02", "2026-01-19", "met")
    assert states["blue_team_report"] == ("2026-03-16", "2026-02-02", "met")
    assert states["replay_purple_teaming"] == ("2026-03-16", None, "pending")
    today = date(2026, 6, 30)
    call(engine, service.update_engagement, reader=world.lead.reader, engagement_id=found["id"],
         changes={"notified_on": "2026-04-01"}, today=today)
    got = advance_to(engine, world.lead, found["id"], "attestation", start=date(2026, 3, 2), today=today)
    with pytest.raises(Conflict, match="attestation closes it"):
        call(engine, lifecycle.advance, reader=world.lead.reader, engagement_id=found["id"], to="preparation",
             today=today)
    with pytest.raises(Forbidden):
        call(engine, lifecycle.attest, reader=world.lead.reader, engagement_id=found["id"], today=today)
    with pytest.raises(Invalid) as exc:
        call(engine, lifecycle.attest, reader=world.fsa.reader, engagement_id=found["id"], attested_on="2026-03-01",
             reference="x" * 201, today=today)
    assert _fields(exc) == {"attested_on", "reference"}
    got = call(engine, lifecycle.attest, reader=world.fsa.reader, engagement_id=found["id"],
               attested_on="2026-06-15", reference="FSA-TLPT-2026-07", today=today)
    assert got["status"] == "attested" and got["attestation"]["reference"] == "FSA-TLPT-2026-07"
    nxt = next(d for d in got["deadlines"] if d["key"] == "next_test")
    assert (nxt["due_on"], nxt["state"]) == ("2029-06-15", "pending")
    plan = next(d for d in got["deadlines"] if d["key"] == "remediation_plan")
    assert (plan["due_on"], plan["done_on"], plan["state"]) == ("2026-05-27", "2026-04-13", "met")
    assert all(not p["current"] for p in got["phases"]) and all(p["done"] for p in got["phases"])
    with pytest.raises(Conflict, match="was attested"):
        call(engine, lifecycle.attest, reader=world.admin.reader, engagement_id=found["id"], today=today)
    # The member's next test meets the 3-year rule.
    call(engine, service.create_engagement, reader=world.fsa.reader, organisation="Alpha Bank", name="Next",
         framework="dora_tlpt", opened_on=date(2026, 6, 30), today=today)
    got = call(engine, service.get_engagement, reader=world.admin.reader, engagement_id=found["id"], today=today)
    assert next(d for d in got["deadlines"] if d["key"] == "next_test")["state"] == "met"


def test_an_attestation_comes_only_in_the_attestation_phase(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    with pytest.raises(Conflict, match="reaches the attestation phase"):
        call(engine, lifecycle.attest, reader=world.fsa.reader, engagement_id=found["id"], today=TODAY)


def test_warnings_come_from_the_members_history(engine: Engine, world: World) -> None:
    first = open_test(engine, world, framework="dora_tlpt", rt_provider_kind="internal", opened_on=date(2020, 1, 1))
    second = open_test(engine, world, framework="dora_tlpt", rt_provider_kind="internal", opened_on=date(2023, 1, 1))
    third = open_test(engine, world, framework="dora_tlpt", rt_provider_kind="internal", opened_on=date(2026, 1, 1),
                      significant_credit_institution=True)
    listed = {e["id"]: e for e in call(engine, service.list_engagements, reader=world.admin.reader, today=TODAY)}
    assert [e["id"] for e in call(engine, service.list_engagements, reader=world.admin.reader, today=TODAY)] == [
        third["id"], second["id"], first["id"]]
    assert listed[first["id"]]["warnings"] == listed[second["id"]]["warnings"] == []
    assert {w["key"] for w in listed[third["id"]]["warnings"]} == {"internal_testers_third_in_row",
                                                                   "internal_testers_significant"}
    call(engine, service.update_engagement, reader=world.admin.reader, engagement_id=second["id"],
         changes={"rt_provider_kind": "external"}, today=TODAY)
    got = call(engine, service.get_engagement, reader=world.admin.reader, engagement_id=third["id"], today=TODAY)
    assert {w["key"] for w in got["warnings"]} == {"internal_testers_significant"}


def test_only_staff_delete_and_everything_goes_with_the_test(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    for who in (world.lead, world.fsa):
        with pytest.raises(Forbidden):
            call(engine, service.delete_engagement, reader=who.reader, engagement_id=found["id"])
    with pytest.raises(NotFound):
        call(engine, service.delete_engagement, reader=world.alpha_ro.reader, engagement_id=found["id"])
    call(engine, service.delete_engagement, reader=world.admin.reader, engagement_id=found["id"])
    assert set(counts(engine).values()) == {0}


def test_roles_link_only_the_members_users_and_one_lead(engine: Engine, world: World) -> None:
    found = open_test(engine, world)
    before = counts(engine)
    with pytest.raises(Invalid) as exc:
        call(engine, roles.add_role, reader=world.lead.reader, engagement_id=found["id"], role="control_team_lead",
             name="", email="not-an-address", user=world.boreal.email)
    assert _fields(exc) == {"role", "name", "email", "user"}
    with pytest.raises(Invalid) as exc:
        call(engine, roles.add_role, reader=world.lead.reader, engagement_id=found["id"], role="test_manager",
             name="Tina Manager", email="tina@fsa.example", user=world.fsa.email)
    assert _fields(exc) == {"user"}
    with pytest.raises(Forbidden):
        call(engine, roles.add_role, reader=world.fsa.reader, engagement_id=found["id"], role="test_manager",
             name="Tina Manager", email="tina@fsa.example")
    assert counts(engine) == before
    tm = call(engine, roles.add_role, reader=world.lead.reader, engagement_id=found["id"], role="test_manager",
              name="Tina Manager", email="Tina@FSA.example", company="Financial Supervisory Authority")
    assert (tm["role_name"], tm["email"], tm["user"]) == ("Test manager (TLPT authority)", "tina@fsa.example", None)
    listed = call(engine, roles.list_roles, reader=world.fsa.reader, engagement_id=found["id"])
    assert [r["role"] for r in listed] == ["control_team_lead", "control_team_member", "test_manager"]
    lead_role = listed[0]["id"]
    with pytest.raises(Conflict, match="unlink yourself"):
        call(engine, roles.remove_role, reader=world.lead.reader, role_id=lead_role)
    with pytest.raises(NotFound, match=f"no role {lead_role}"):
        call(engine, roles.remove_role, reader=world.alpha_soc.reader, role_id=lead_role)
    changed = call(engine, roles.update_role, reader=world.lead.reader, role_id=tm["id"], changes={"name": "Tina M."})
    assert changed["name"] == "Tina M."
