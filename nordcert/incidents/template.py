"""A submitted report in the JSON form of the incident reporting template (CIR (EU) 2025/302 Annex I).

The structure and names follow the "DORA Major Incident Report" JSON schema (``$id`` IR-1.2, published in
cyr-ius/dora-incident-report ``src/assets/irSchema.json``; ESA origin unconfirmed): ``incidentSubmission``,
``submittingEntity``, ``incident``, ``impactAssessment``, … with the ITS field numbers noted below.

A report is built from what was submitted: the report of the asked kind and, before it, the latest
initial notification and intermediate report (each later report carries the earlier fields on, CIR 2025/302
Art 1). The incident's facts and classification are those recorded with the report, not today's.
Empty and unknown fields are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from nordcert.incidents.deadlines import ReportKind

#: ITS 3.13 codes of the reputational impacts, by the fact that records each (CDR 2024/1772 Art 2(a)-(d)).
REPUTATIONAL_TYPES = {
    "media_coverage": "the_major_ict-related_incident_has_been_reflected_in_the_media",
    "repeated_complaints": "the_major_ict-related_incident_has_resulted_in_repetitive_complaints_from_different_"
    "clients_or_financial_counterparts_on_client-facing_services_or_critical_business_relationships",
    "regulatory_requirements_missed": "the_financial_entity_will_not_be_able_to_or_is_likely_not_to_be_able_to_"
    "meet_regulatory_requirements_as_a_result_of_the_major_ict-related_incident",
    "loss_of_clients_or_counterparts": "the_financial_entity_will_or_is_likely_to_lose_clients_or_financial_"
    "counterparts_with_a_material_impact_on_its_business_as_a_result_of_the_major_ict-related_incident",
}


def build(reports: Sequence[tuple[ReportKind, dict[str, Any]]], kind: ReportKind) -> dict[str, Any]:
    """The template document of the latest report of ``kind`` among ``reports`` (submitted, in order)."""
    upto = max(i for i, (k, _) in enumerate(reports) if k == kind)
    earlier = reports[: upto + 1]
    snapshot = reports[upto][1]
    initial = _latest(earlier, "initial_notification")
    intermediate = _latest(earlier, "intermediate_report")
    final = _latest(earlier, "final_report")
    report, facts, incident = snapshot["report"], snapshot["facts"], snapshot["incident"]
    org = snapshot["organisation"]
    doc = {
        "incidentSubmission": kind,  # 1.1
        "reportCurrency": report["report_currency"],  # 1.15
        "submittingEntity": _entity("SUBMITTING_ENTITY", org["name"], report),  # 1.2, 1.3
        "affectedEntity": [{**_entity("AFFECTED_ENTITY", org["name"], report),
                            "affectedEntityType": report["entity_types"]}],  # 1.4-1.6
        "ultimateParentUndertaking": _parent(report.get("parent_undertaking")),  # 1.13, 1.14
        "primaryContact": report["primary_contact"],  # 1.7-1.9
        "secondaryContact": report.get("secondary_contact"),  # 1.10-1.12
        "incident": {
            "financialEntityCode": incident["reference"],  # 2.1
            "detectionDateTime": incident["detected_at"],  # 2.2
            "classificationDateTime": incident["classified_at"],  # 2.3
            "incidentDescription": incident["description"],  # 2.4
            "classificationTypes": _classification_types(snapshot, intermediate, final),  # 2.5, 2.6
            **_initial_fields(initial),
            **_intermediate_fields(intermediate, facts, snapshot["intel_links"]),
            **_final_fields(final),
        },
        "impactAssessment": _impact(intermediate, facts),
        **_authorities(intermediate),
    }
    pruned: dict[str, Any] = _pruned(doc)
    return pruned


def _latest(reports: Sequence[tuple[ReportKind, dict[str, Any]]], kind: ReportKind) -> dict[str, Any] | None:
    found = [content["report"] for k, content in reports if k == kind]
    return found[-1] if found else None


def _entity(role: str, name: str, report: dict[str, Any]) -> dict[str, Any]:
    return {"entityType": role, "name": name, "LEI": report.get("entity_lei"), "code": report.get("entity_code")}


def _parent(parent: dict[str, Any] | None) -> dict[str, Any] | None:
    if not parent:
        return None
    return {"entityType": "ULTIMATE_PARENT_UNDERTAKING_ENTITY", "name": parent["name"], "LEI": parent.get("lei")}


def _classification_types(snapshot: dict[str, Any], intermediate: dict[str, Any] | None,
                          final: dict[str, Any] | None) -> list[dict[str, Any]]:
    facts, mid, fin = snapshot["facts"], intermediate or {}, final or {}
    out = []
    for code in snapshot["classification"]["met"]:
        entry: dict[str, Any] = {"classificationCriterion": code}
        if code == "geographical_spread":
            entry |= {"countryCodeMaterialityThresholds": facts["member_states"],  # 2.6
                      "memberStatesImpactType": mid.get("member_states_impact_types"),  # 3.18
                      "memberStatesImpactTypeDescription": mid.get("member_states_impact_description")}  # 3.19
        elif code == "data_losses":
            entry |= {"dataLosseMaterialityThresholds": facts["data_loss_aspects"],  # 3.20
                      "dataLossesDescription": mid.get("data_losses_description")}  # 3.21
        elif code == "reputational_impact":
            entry |= {"reputationalImpactType": [v for k, v in REPUTATIONAL_TYPES.items() if facts.get(k)],  # 3.13
                      "reputationalImpactDescription": mid.get("reputational_impact_description")}  # 3.14
        elif code == "economic_impact":
            entry["economicImpactMaterialityThreshold"] = fin.get("economic_impact_description")  # 4.12
        out.append(entry)
    return out


def _initial_fields(r: dict[str, Any] | None) -> dict[str, Any]:
    if r is None:
        return {}
    return {
        "incidentDiscovery": r["discovery"],  # 2.7
        "originatesFromThirdPartyProvider": r.get("originates_from_third_party_provider"),  # 2.8
        "isBusinessContinuityActivated": r["business_continuity_activated"],  # 2.9
        "otherInformation": r.get("other_information"),  # 2.10
    }


def _intermediate_fields(r: dict[str, Any] | None, facts: dict[str, Any], links: list[str]) -> dict[str, Any]:
    if r is None:
        return {}
    iocs = [r["indicators_of_compromise"]] if r.get("indicators_of_compromise") else []
    if links:
        iocs.append("STIX objects: " + ", ".join(links))
    return {
        "competentAuthorityCode": r.get("competent_authority_code"),  # 3.1
        "incidentOccurrenceDateTime": r.get("occurred_at"),  # 3.2
        "incidentDuration": _ddd_hh_mm(facts.get("duration_minutes")),  # 3.15
        "incidentType": {
            "incidentClassification": r["incident_types"],  # 3.23
            "otherIncidentClassification": r.get("other_incident_type"),  # 3.24
            "threatTechniques": r.get("threat_techniques"),  # 3.25
            "otherThreatTechniques": r.get("other_threat_techniques"),  # 3.26
            "indicatorsOfCompromise": "\n".join(iocs) or None,  # 3.35
        },
    }


def _final_fields(r: dict[str, Any] | None) -> dict[str, Any]:
    if r is None:
        return {}
    return {
        "rootCauseHLClassification": r["root_causes"],  # 4.1
        "rootCausesDetailedClassification": r["root_causes_detailed"],  # 4.2
        "rootCausesAdditionalClassification": r["root_causes_additional"],  # 4.3
        "rootCausesOther": r.get("root_causes_other"),  # 4.4
        "rootCausesInformation": r["root_cause_information"],  # 4.5
        "incidentResolutionSummary": r["resolution_summary"],  # 4.6
        "rootCauseAddressingDateTime": r["root_cause_addressed_at"],  # 4.7
        "incidentResolutionDateTime": r["resolved_at"],  # 4.8
        "incidentResolutionVsPlannedImplementation": r["resolution_vs_planned"],  # 4.9
        "assessmentOfRiskToCriticalFunctions": r.get("risk_to_critical_functions"),  # 4.10
        "informationRelevantToResolutionAuthorities": r.get("information_for_resolution_authorities"),  # 4.11
        "grossAmountIndirectDirectCosts": _number(r["gross_costs_and_losses"]),  # 4.13
        "financialRecoveriesAmount": _number(r["financial_recoveries"]),  # 4.14
        "recurringNonMajorIncidentsDescription": r.get("recurring_incidents_description"),  # 4.15
        "recurringIncidentDate": r.get("recurring_incident_date"),  # 4.16
    }


def _impact(r: dict[str, Any] | None, facts: dict[str, Any]) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "hasImpactOnRelevantClients": facts.get("relevant_clients_or_counterparts_affected"),  # 3.8
        "serviceImpact": {
            "serviceRestorationDateTime": r.get("service_restored_at"),  # 3.3
            "serviceDowntime": _ddd_hh_mm(facts.get("downtime_minutes")),  # 3.16
            "isTemporaryActionsMeasuresForRecovery": r["temporary_actions"],  # 3.33
            "descriptionOfTemporaryActionsMeasuresForRecovery": r.get("temporary_actions_description"),  # 3.34
        },
        "criticalServicesAffected": r["critical_services_description"],  # 3.22
        "affectedAssets": {
            "affectedClients": _number_and_share(facts.get("clients_affected"), facts.get("clients_total")),
            "affectedFinancialCounterparts": _number_and_share(facts.get("counterparts_affected"),
                                                               facts.get("counterparts_total")),
            "affectedTransactions": _number_and_share(facts.get("transactions_affected"),
                                                      facts.get("transactions_daily_average")),
            "valueOfAffectedTransactions": _number(facts.get("transactions_value_affected")),  # 3.11
            "numbersActualEstimate": r["figures_basis"],  # 3.12
        },
        "affectedFunctionalAreas": r["affected_functional_areas"],  # 3.27
        "isAffectedInfrastructureComponents": r["infrastructure_components_affected"],  # 3.28
        "affectedInfrastructureComponents": r.get("infrastructure_components_description"),  # 3.29
        "isImpactOnFinancialInterest": r["impact_on_financial_interests"],  # 3.30
    }


def _authorities(r: dict[str, Any] | None) -> dict[str, Any]:
    if r is None:
        return {}
    return {
        "reportingToOtherAuthorities": r["reporting_to_other_authorities"],  # 3.31
        "reportingToOtherAuthoritiesOther": r.get("reporting_to_other_authorities_other"),  # 3.32
        "informationDurationServiceDowntimeActualOrEstimate": r["duration_downtime_basis"],  # 3.17
    }


def _number_and_share(part: int | None, whole: int | None) -> dict[str, Any]:
    """ITS 3.4-3.7, 3.9, 3.10: a number and its percentage (0-100, two decimals)."""
    out: dict[str, Any] = {"number": part}
    if part is not None and whole:
        out["percentage"] = round(float(Fraction(part, whole) * 100), 2)
    return out


def _number(value: str | float | None) -> float | int | None:
    if value is None:
        return None
    amount = Decimal(str(value))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _ddd_hh_mm(minutes: int | None) -> str | None:
    """A duration as the template's ``DDD:HH:MM`` (ITS 3.15, 3.16)."""
    if minutes is None:
        return None
    days, rest = divmod(minutes, 24 * 60)
    return f"{days:03d}:{rest // 60:02d}:{rest % 60:02d}"


def _pruned(value: Any) -> Any:
    """``value`` without None, empty lists and empty objects, at every depth."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value
