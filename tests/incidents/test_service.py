"""The incidents service on the real store: access, classification on write, report order and content,
deadlines and overdue, links to intel, and the export in the template's structure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.incidents import service
from nordcert.incidents.tables import incident_intel_links, incident_reports, incidents
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.sharing.policy import Reader
from tests.factories import Member, indicator, make_member
from tests.incidents import helpers
from tests.incidents.conftest import World


def _record(engine: Engine, m: Member, **kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"reference": f"INC-{datetime.now(UTC).timestamp()}", "title": "Card outage",
                              "description": "Card payments failed for most clients.",
                              "detected_at": helpers.hours_ago(1), "facts": helpers.MAJOR_FACTS}
    with transaction(engine) as conn:
        return service.record_incident(conn, m.reader, **{**values, **kwargs})


def _call(engine: Engine, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with transaction(engine) as conn:
        return fn(conn, *args, **kwargs)


def _submit(engine: Engine, m: Member, incident_id: int, kind: str, content: dict[str, Any], **kw: Any
            ) -> dict[str, Any]:
    return _call(engine, service.submit_report, m.reader, incident_id, kind=kind, content=content, **kw)  # type: ignore[no-any-return]


def _count(engine: Engine, table: Any) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- recording and classification ---------------------------------------------------------------------


def test_a_major_incident_is_classified_and_counts_down(engine: Engine, world: World) -> None:
    got = _record(engine, world.alpha)
    assert got["major"] and got["status"] == "recorded" and got["timezone"] == "Europe/Copenhagen"
    assert got["classification"]["met"] == ["clients_financial_counterparts_and_transactions_affected",
                                             "duration_and_service_downtime", "critical_services_affected"]
    assert "2 other thresholds" in got["classification"]["rule"]
    classified = datetime.fromisoformat(got["classified_at"])
    assert abs(classified - datetime.now(UTC)) < timedelta(minutes=1)
    first, second, third = got["deadlines"]
    assert first["state"] == "pending" and "4 h after classification" in first["rule"]
    assert datetime.fromisoformat(first["due_at"]) == classified + timedelta(hours=4)
    assert first["due_local"].endswith(("+01:00", "+02:00"))
    assert (second["state"], third["state"]) == ("waiting", "waiting")
    assert got["next_due"]["kind"] == "initial_notification" and not got["overdue"]


def test_a_non_major_incident_needs_no_reports(engine: Engine, world: World) -> None:
    got = _record(engine, world.alpha, facts=helpers.MINOR_FACTS)
    assert not got["major"] and got["classified_at"] is None and got["next_due"] is None
    assert {d["state"] for d in got["deadlines"]} == {"not_required"}
    assert "no critical service is affected" in got["classification"]["rule"]
    full = _call(engine, service.classify_incident, world.alpha.reader, got["id"])
    assert len(full["criteria"]) == 7
    duration = next(c for c in full["criteria"] if c["criterion"] == "duration_and_service_downtime")
    assert duration["met"] and "30 h" in duration["reason"]


def test_facts_are_merged_on_update_and_the_first_major_moment_is_kept(engine: Engine, world: World) -> None:
    got = _record(engine, world.alpha, facts=helpers.MINOR_FACTS)
    later = datetime.now(UTC) + timedelta(minutes=1)
    up = _call(engine, service.update_incident, world.alpha.reader, got["id"],
               changes={"facts": {"affects_authorised_services": True}}, now=later)
    assert up["major"] and up["facts"]["media_coverage"] and up["facts"]["duration_minutes"] == 30 * 60
    assert datetime.fromisoformat(up["classified_at"]) == later
    again = _call(engine, service.update_incident, world.alpha.reader, got["id"],
                  changes={"facts": {"costs_and_losses_eur": "250000"}}, now=later + timedelta(hours=1))
    assert again["classified_at"] == up["classified_at"]


def test_incident_fields_are_checked(engine: Engine, world: World) -> None:
    with pytest.raises(Invalid) as bad:
        _record(engine, world.alpha, detected_at=datetime.now(UTC) + timedelta(hours=2), timezone="Mars/Base",
                title=" ")
    assert {d["field"] for d in bad.value.details} == {"detected_at", "timezone", "title"}
    with pytest.raises(Invalid, match="not valid") as bad:
        _record(engine, world.alpha, occurred_at=helpers.hours_ago(0.5))
    assert bad.value.details == [{"field": "occurred_at", "reason": "the incident cannot occur after it was detected"}]
    with pytest.raises(Invalid, match="classification facts") as bad:
        _record(engine, world.alpha, facts={"member_states": ["XX"], "clients_total": 0})
    assert {d["field"] for d in bad.value.details} == {"facts.member_states", "facts.clients_total"}
    with pytest.raises(Invalid) as bad:
        _record(engine, world.alpha, facts={"clients_affected": 5, "clients_total": 2})
    assert bad.value.details == [{"field": "facts", "reason": "clients_affected (5) is more than clients_total (2)"}]
    _record(engine, world.alpha, reference="INC-1")
    with pytest.raises(Conflict, match="reference 'INC-1' already"):
        _record(engine, world.alpha, reference="INC-1")
    _record(engine, world.boreal, reference="INC-1")  # another organisation's numbering
    assert _count(engine, incidents) == 2


def test_time_zone_follows_the_member_state_and_may_be_given(engine: Engine, world: World) -> None:
    assert _record(engine, world.boreal)["timezone"] == "Europe/Oslo"
    assert _record(engine, world.alpha, timezone="Europe/Helsinki")["timezone"] == "Europe/Helsinki"


# --- who sees what --------------------------------------------------------------------------------------


def test_a_member_cannot_see_another_members_incident_cert_staff_can(engine: Engine, world: World) -> None:
    got = _record(engine, world.alpha)
    iid = got["id"]
    for outsider in (world.boreal, world.peer):
        with pytest.raises(NotFound, match=f"^no incident {iid}$"):
            _call(engine, service.get_incident, outsider.reader, iid)
        with pytest.raises(NotFound, match=f"^no incident {iid}$"):
            _call(engine, service.update_incident, outsider.reader, iid, changes={"title": "mine now"})
        with pytest.raises(NotFound):
            _submit(engine, outsider, iid, "initial_notification", helpers.initial())
        with pytest.raises(NotFound):
            _call(engine, service.export_json, outsider.reader, iid)
        assert _call(engine, service.list_incidents, outsider.reader) == []
    with pytest.raises(NotFound, match="^no incident 999999$"):  # the same answer as for a missing one
        _call(engine, service.get_incident, world.boreal.reader, 999_999)
    assert _call(engine, service.get_incident, world.admin.reader, iid)["reference"] == got["reference"]
    listed = _call(engine, service.list_incidents, world.admin.reader, organisation="Alpha Bank")
    assert [i["id"] for i in listed] == [iid] and listed[0]["organisation"]["name"] == "Alpha Bank"


def test_readers_read_writers_write_cert_staff_only_read(engine: Engine, world: World) -> None:
    iid = _record(engine, world.alpha)["id"]
    assert _call(engine, service.get_incident, world.alpha_reader.reader, iid)["id"] == iid
    with pytest.raises(Forbidden, match="role reader may read incidents"):
        _call(engine, service.update_incident, world.alpha_reader.reader, iid, changes={"title": "x"})
    with pytest.raises(Forbidden):
        _record(engine, world.alpha_reader)
    with pytest.raises(Forbidden, match="CERT staff may read it, not change it"):
        _call(engine, service.update_incident, world.admin.reader, iid, changes={"title": "x"})
    with pytest.raises(Forbidden):
        _record(engine, world.peer)
    up = _call(engine, service.update_incident, world.alpha_analyst.reader, iid, changes={"title": "Card outage II"})
    assert up["title"] == "Card outage II"


def test_the_sql_filter_agrees_with_the_policy_for_every_reader(engine: Engine, world: World) -> None:
    made = [_record(engine, m) for m in (world.alpha, world.alpha_analyst, world.boreal, world.admin)]
    owners = {i["id"]: i["organisation"]["id"] for i in made}
    for name, m in world.everyone().items():
        reader: Reader = m.reader
        listed = {i["id"] for i in _call(engine, service.list_incidents, reader)}
        expected = {iid for iid, org in owners.items() if service.may_read(reader, org)}
        assert listed == expected, name
        for iid in owners:
            try:
                _call(engine, service.get_incident, reader, iid)
                assert iid in expected, name
            except NotFound:
                assert iid not in expected, name


# --- reports: order, content, deadlines ---------------------------------------------------------------


def test_reports_come_in_order(engine: Engine, world: World) -> None:
    iid = _record(engine, world.alpha)["id"]
    with pytest.raises(Conflict, match="intermediate report comes after the initial notification"):
        _submit(engine, world.alpha, iid, "intermediate_report", helpers.intermediate())
    with pytest.raises(Conflict, match="final report comes after an intermediate report"):
        _submit(engine, world.alpha, iid, "final_report", helpers.final())
    assert _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())["status"] == "initial_submitted"
    with pytest.raises(Conflict, match="submitted already"):
        _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())
    with pytest.raises(Conflict, match="final report comes after an intermediate report"):
        _submit(engine, world.alpha, iid, "final_report", helpers.final())
    got = _submit(engine, world.alpha, iid, "intermediate_report", helpers.intermediate())
    assert got["status"] == "intermediate_submitted" and got["next_due"]["kind"] == "final_report"
    got = _submit(engine, world.alpha, iid, "final_report", helpers.final())
    assert got["status"] == "closed" and got["next_due"] is None
    assert [r["kind"] for r in got["reports"]] == ["initial_notification", "intermediate_report", "final_report"]
    with pytest.raises(Conflict, match="reporting on this incident is closed"):
        _submit(engine, world.alpha, iid, "intermediate_report", helpers.intermediate())
    with pytest.raises(Invalid, match="report kind 'closing_report'"):
        _submit(engine, world.alpha, iid, "closing_report", {})


def test_only_major_incidents_are_reported(engine: Engine, world: World) -> None:
    iid = _record(engine, world.alpha, facts=helpers.MINOR_FACTS)["id"]
    with pytest.raises(Conflict, match="only major incidents are reported.*no critical service"):
        _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())
    assert _count(engine, incident_reports) == 0


def test_required_fields_follow_the_template(engine: Engine, world: World) -> None:
    iid = _record(engine, world.alpha, facts={**helpers.MAJOR_FACTS, "member_states": ["DK", "SE"]})["id"]
    incomplete = helpers.initial()
    del incomplete["discovery"], incomplete["primary_contact"]["phone"]
    incomplete["entity_lei"] = helpers.LEI[:-1] + "0"
    with pytest.raises(Invalid, match="initial notification is not complete or not valid") as bad:
        _submit(engine, world.alpha, iid, "initial_notification", incomplete)
    fields = {d["field"]: d["reason"] for d in bad.value.details}
    assert set(fields) == {"discovery", "primary_contact.phone", "entity_lei"}
    assert "check digits" in fields["entity_lei"]
    no_id = {k: v for k, v in helpers.initial().items() if k != "entity_lei"}
    with pytest.raises(Invalid) as bad:
        _submit(engine, world.alpha, iid, "initial_notification", no_id)
    assert bad.value.details[0]["field"] == "entity_lei"

    _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())
    cyber = helpers.intermediate(incident_types=["cybersecurity-related", "other"], temporary_actions=True)
    with pytest.raises(Invalid, match="intermediate report is not complete") as bad:
        _submit(engine, world.alpha, iid, "intermediate_report", cyber)
    assert {d["field"] for d in bad.value.details} == {
        "member_states_impact_types", "member_states_impact_description",  # geographical spread is met
        "other_incident_type", "threat_techniques", "indicators_of_compromise", "temporary_actions_description"}
    assert _count(engine, incident_reports) == 1


def test_common_fields_carry_over_to_later_reports(engine: Engine, world: World) -> None:
    iid = _record(engine, world.alpha)["id"]
    _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())
    only_own = {k: v for k, v in helpers.intermediate().items() if k not in helpers.common()}
    got = _submit(engine, world.alpha, iid, "intermediate_report", only_own)
    assert got["reports"][1]["content"]["report_currency"] == "DKK"
    update = _submit(engine, world.alpha, iid, "intermediate_report", {"service_restored_at": helpers.hours_ago(0.5).isoformat()})
    assert update["reports"][2]["content"]["critical_services_description"].startswith("Card payments")


def test_overdue_reports_are_found_and_late_reports_marked(engine: Engine, world: World) -> None:
    detected = helpers.hours_ago(30)
    late = _record(engine, world.alpha, detected_at=detected, classified_at=detected + timedelta(hours=1))
    on_time = _record(engine, world.alpha)
    assert late["overdue"] and late["deadlines"][0]["state"] == "overdue"
    assert datetime.fromisoformat(late["deadlines"][0]["due_at"]) == detected + timedelta(hours=5)
    assert [i["id"] for i in _call(engine, service.list_incidents, world.alpha.reader, overdue=True)] == [late["id"]]
    assert [i["id"] for i in _call(engine, service.list_incidents, world.alpha.reader, overdue=False)] == [on_time["id"]]
    got = _submit(engine, world.alpha, late["id"], "initial_notification", helpers.initial())
    assert got["reports"][0]["late"] and got["deadlines"][0]["state"] == "submitted_late"
    assert not got["overdue"] and got["deadlines"][1]["state"] == "pending"
    assert _call(engine, service.list_incidents, world.alpha.reader, overdue=True) == []


def test_final_report_is_due_a_month_after_the_latest_intermediate(engine: Engine, world: World) -> None:
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, CET
    iid = _record(engine, world.alpha, detected_at=t0, now=t0 + timedelta(minutes=10))["id"]
    _submit(engine, world.alpha, iid, "initial_notification", helpers.initial(), now=t0 + timedelta(hours=2))
    got = _submit(engine, world.alpha, iid, "intermediate_report", helpers.intermediate(
        occurred_at="2026-01-05T07:00:00Z"), now=t0 + timedelta(hours=30))
    assert got["deadlines"][2]["due_at"] == "2026-02-06T15:00:00Z"
    got = _submit(engine, world.alpha, iid, "intermediate_report", {}, now=t0 + timedelta(days=10))
    assert got["deadlines"][2]["due_at"] == "2026-02-15T09:00:00Z"
    assert got["deadlines"][2]["due_local"] == "2026-02-15T10:00:00+01:00"


def test_lists_filter_by_status_and_major(engine: Engine, world: World) -> None:
    major = _record(engine, world.alpha)["id"]
    minor = _record(engine, world.alpha, facts=helpers.MINOR_FACTS)["id"]
    _submit(engine, world.alpha, major, "initial_notification", helpers.initial())

    def ids(**filters: Any) -> list[int]:
        return [i["id"] for i in _call(engine, service.list_incidents, world.alpha.reader, **filters)]

    assert ids(major=True) == [major] and ids(major=False) == [minor]
    assert ids(status="initial_submitted") == [major] and ids(status="recorded") == [minor]
    with pytest.raises(Invalid, match="status 'open' is not one of"):
        ids(status="open")


# --- intel links and export ------------------------------------------------------------------------------


def _object(engine: Engine, settings: Settings, m: Member, **sharing: Any) -> str:
    ind = indicator()
    with transaction(engine) as conn:
        ingest(conn, [ind], submission_for(conn, m.reader, **sharing), settings)
    return str(ind["id"])


def test_links_name_only_objects_the_reader_may_see(engine: Engine, settings: Settings, world: World) -> None:
    own = _object(engine, settings, world.alpha_analyst, tlp="amber")
    theirs = _object(engine, settings, make_member(engine, org=world.boreal.org_name), tlp="red")
    with pytest.raises(Invalid, match="intel links must name objects you can see") as bad:
        _record(engine, world.alpha, intel_links=[own, theirs])
    assert bad.value.details == [{"field": "intel_links", "reason": f"no object {theirs}"}]
    assert _count(engine, incidents) == 0 and _count(engine, incident_intel_links) == 0
    got = _record(engine, world.alpha, intel_links=[own, own])
    assert got["intel_links"] == [own]
    cleared = _call(engine, service.update_incident, world.alpha.reader, got["id"], changes={"intel_links": []})
    assert cleared["intel_links"] == []


def test_export_follows_the_template_structure(engine: Engine, settings: Settings, world: World) -> None:
    ioc = _object(engine, settings, world.alpha_analyst, tlp="amber")
    facts = {**helpers.MAJOR_FACTS, "media_coverage": True, "costs_and_losses_eur": "150000"}
    got = _record(engine, world.alpha, reference="ALPHA-2026-7", intel_links=[ioc], facts=facts)
    iid = got["id"]
    with pytest.raises(Conflict, match="nothing to export"):
        _call(engine, service.export_json, world.alpha.reader, iid)
    _submit(engine, world.alpha, iid, "initial_notification", helpers.initial())
    first = _call(engine, service.export_json, world.alpha.reader, iid)
    assert first["incidentSubmission"] == "initial_notification"
    assert first["incident"]["financialEntityCode"] == "ALPHA-2026-7"
    assert first["incident"]["incidentDiscovery"] == "monitoring_systems"
    assert "impactAssessment" not in first
    cyber = helpers.intermediate(incident_types=["cybersecurity-related"], threat_techniques=["ddos"],
                                 reputational_impact_description="National news covered the outage.")
    _submit(engine, world.alpha, iid, "intermediate_report", cyber)
    with pytest.raises(Invalid) as bad:  # the economic threshold is met: 4.12 must say how
        _submit(engine, world.alpha, iid, "final_report", helpers.final())
    assert bad.value.details[0]["field"] == "economic_impact_description"
    _submit(engine, world.alpha, iid, "final_report", helpers.final(economic_impact_description="EUR 150 000"))
    doc = _call(engine, service.export_json, world.alpha.reader, iid)
    assert doc["incidentSubmission"] == "final_report" and doc["reportCurrency"] == "DKK"
    assert doc["submittingEntity"] == {"entityType": "SUBMITTING_ENTITY", "name": "Alpha Bank", "LEI": helpers.LEI}
    assert doc["affectedEntity"][0]["affectedEntityType"] == ["credit_institution"]
    inc = doc["incident"]
    assert {c["classificationCriterion"] for c in inc["classificationTypes"]} == set(got["classification"]["met"]) | {
        "reputational_impact", "economic_impact"}
    reputational = next(c for c in inc["classificationTypes"] if c["classificationCriterion"] == "reputational_impact")
    assert reputational["reputationalImpactType"] == [
        "the_major_ict-related_incident_has_been_reflected_in_the_media"]
    assert inc["incidentDuration"] == "001:02:00" and inc["incidentType"]["threatTechniques"] == ["ddos"]
    assert ioc in inc["incidentType"]["indicatorsOfCompromise"]
    assert inc["grossAmountIndirectDirectCosts"] == 85000 and inc["rootCauseHLClassification"]
    assets = doc["impactAssessment"]["affectedAssets"]
    assert assets["affectedClients"] == {"number": 40_000, "percentage": 16.0}
    assert doc["impactAssessment"]["serviceImpact"]["serviceDowntime"] == "000:05:00"
    assert doc["reportingToOtherAuthorities"] == ["none"]
    earlier = _call(engine, service.export_json, world.alpha.reader, iid, kind="initial_notification")
    assert earlier == first
