"""What each report on a major ICT-related incident must hold (CDR (EU) 2025/301 Arts 1-4; the template of
CIR (EU) 2025/302 Annex I, whose field numbers are given as "ITS 2.7" and so on).

| report               | holds (besides the incident's own facts, filled in by the service)                |
|----------------------|-----------------------------------------------------------------------------------|
| every report (Art 1) | currency, the entity's LEI or code and type(s), parent undertaking, contacts      |
| initial (Art 2)      | how it was discovered, origin if known, business continuity plan activated?       |
| intermediate (Art 3) | occurrence, recovery, how each criterion is met, incident type, threats and        |
|                      | techniques, functional areas, infrastructure, clients' financial interests, other  |
|                      | authorities, temporary actions, indicators of compromise (IoCs)                    |
| final (Art 4)        | root causes, resolution and its dates, information for resolution authorities,   |
|                      | costs, losses and recoveries, recurring incidents                                  |

Code lists follow the JSON form of the template ("DORA Major Incident Report", ``$id`` IR-1.2, published in
cyr-ius/dora-incident-report ``src/assets/irSchema.json``; its ESA origin is unconfirmed), which also decides
the conditional fields: "other" needs its text, a cybersecurity-related incident needs threats and IoCs,
temporary actions need their description. Fields a criterion explains are required when that criterion is
met: reputational impact (ITS 3.14), geographical spread (3.18, 3.19), data losses (3.21), economic impact
(4.12). Our choice: IoCs may be left out when the incident links intel objects, whose STIX ids then stand
for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from nordcert.errors import Invalid
from nordcert.incidents.deadlines import ReportKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32767)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]

Currency = Literal["EUR", "BGN", "CZK", "DKK", "HUF", "PLN", "RON", "ISK", "CHF", "NOK", "SEK"]
EntityType = Literal[
    "credit_institution", "payment_institution", "exempted_payment_institution",
    "account_information_service_provider", "electronic_money_institution",
    "exempted_electronic_money_institution", "investment_firm", "crypto-asset_service_provider",
    "issuer_of_asset-referenced_tokens", "central_securities_depository", "central_counterparty", "trading_venue",
    "trade_repository", "manager_of_alternative_investment_fund", "management_company",
    "data_reporting_service_provider", "insurance_and_reinsurance_undertaking",
    "insurance_intermediary_reinsurance_intermediary_and_ancillary_insurance_intermediary",
    "institution_for_occupational_retirement_provision", "credit_rating_agency",
    "administrator_of_critical_benchmarks", "crowdfunding_service_provider", "securitisation_repository",
]
Discovery = Literal["it_security", "staff", "internal_audit", "external_audit", "clients", "financial_counterparts",
                    "third-party_provider", "attacker", "monitoring_systems",
                    "authority_agency_law_enforcement_body", "other"]
IncidentType = Literal["cybersecurity-related", "process_failure", "system_failure", "external_event",
                       "payment-related", "other"]
ThreatTechnique = Literal["social_engineering_including_phishing", "ddos", "identity_theft",
                          "data_encryption_for_impact_including_ransomware", "resource_hijacking",
                          "data_exfiltration_and_manipulation_including_identity_theft", "data_destruction",
                          "defacement", "supply-chain_attack", "other"]
ImpactType = Literal["clients", "financial_counterparts", "branch_of_the_financial_entity",
                     "financial_entities_within_the_group_carrying_out_activities_in_the_respective_member_state",
                     "financial_market_infrastructure",
                     "third-party_providers_that_may_be_common_to_other_financial_entities"]
Authority = Literal["police_law_enforcement", "csirt", "data_protection_authority", "national_cybersecurity_agency",
                    "none", "other"]
YesNoUnknown = Literal["yes", "no", "information_not_available"]
FiguresBasis = Literal[
    "actual_figures_for_clients_affected", "actual_figures_for_financial_counterparts_affected",
    "actual_figures_for_transactions_affected", "estimates_for_clients_affected",
    "estimates_for_financial_counterparts_affected", "estimates_for_transactions_affected", "no_impact_on_clients",
    "no_impact_on_financial_counterparts", "no_impact_on_transactions",
]
DurationBasis = Literal["actual_figures", "estimates", "actual_figures_and_estimates", "no_information_available"]
RootCause = Literal["malicious_actions", "process_failure", "system_failure_malfunction", "human_error",
                    "external_event"]
RootCauseDetailed = Literal[
    "malicious_actions_deliberate_internal_actions",
    "malicious_actions_deliberate_physical_damage_manipulation_theft", "malicious_actions_fraudulent_actions",
    "process_failure_insufficient_monitoring_or_failure_of_monitoring_and_control",
    "process_failure_insufficient_unclear_roles_and_responsibilities",
    "process_failure_ICT_risk_management_process_failure",
    "process_failure_insufficient_or_failure_of_ict_operations_and_ict_security_operations",
    "process_failure_insufficient_or_failure_of_ict_project_management",
    "process_failure_inadequacy_of_internal_policies_procedures_and_documentation",
    "process_failure_inadequate_ict_systems_acquisition_development_and_maintenance", "process_failure_other",
    "system_failure_hardware_capacity_and_performance", "system_failure_hardware_maintenance",
    "system_failure_hardware_obsolescence_ageing", "system_failure_software_compatibility_configuration",
    "system_failure_software_performance", "system_failure_network_configuration", "system_failure_physical_damage",
    "system_failure_other", "human_error_omission", "human_error_mistake", "human_error_skills_knowledge",
    "human_error_inadequate_human_resources", "human_error_miscommunication", "human_error_other",
    "external_event_natural_disasters_force_majeure", "external_event_third-party_failures", "external_event_other",
]
RootCauseArea = Literal[
    "monitoring_of_policy_adherence", "monitoring_of_third-party_service_providers",
    "monitoring_and_verification_of_remediation_of_vulnerabilities", "identity_and_access_management",
    "encryption_and_cryptography", "logging", "failure_in_specifying_accurate_risk_tolerance_levels",
    "insufficient_vulnerability_and_threat_assessments", "inadequate_risk_treatment_measures",
    "poor_management_of_residual_ict_risks", "vulnerability_and_patch_management", "change_management",
    "capacity_and_performance_management", "ict_asset_management_and_information_classification",
    "backup_and_restore", "error_handling", "inadequate_ict_systems_acquisition_development_and_maintenance",
    "insufficient_or_failure_of_software_testing",
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{4,30}")
_LEI = re.compile(r"[A-Z0-9]{18}[0-9]{2}")


def lei_problem(value: str) -> str | None:
    """Why ``value`` is not a Legal Entity Identifier (ISO 17442: 20 characters, ISO 7064 MOD 97-10 check)."""
    if not _LEI.fullmatch(value):
        return "an LEI is 18 upper-case letters or digits and 2 check digits"
    if int("".join(str(int(ch, 36)) for ch in value)) % 97 != 1:
        return "the LEI's check digits do not match"
    return None


def _lei(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    problem = lei_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Lei = Annotated[str, AfterValidator(_lei)]


class Contact(BaseModel):
    """A contact person (ITS 1.7-1.12)."""

    model_config = ConfigDict(extra="forbid")
    name: Text
    email: str = Field(description="e-mail address")
    phone: str = Field(description="phone number, international form (+45 …)")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.strip()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not _PHONE.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a phone number")
        return value.strip()


class ParentUndertaking(BaseModel):
    """The ultimate parent undertaking (ITS 1.13, 1.14)."""

    model_config = ConfigDict(extra="forbid")
    name: Text
    lei: Lei | None = None


class CommonFields(BaseModel):
    """Held by every report (CDR 2025/301 Art 1). Carried over from the previous report when left out."""

    model_config = ConfigDict(extra="forbid")
    report_currency: Currency = Field(description="ITS 1.15")
    entity_lei: Lei | None = Field(default=None, description="The entity's LEI (ITS 1.3b); this or entity_code.")
    entity_code: Text | None = Field(default=None, description="The entity's identification code (ITS 1.3a) if no LEI.")
    entity_types: list[EntityType] = Field(min_length=1, description="Type(s) of the affected entity (ITS 1.4).")
    parent_undertaking: ParentUndertaking | None = None
    primary_contact: Contact
    secondary_contact: Contact | None = None


class InitialNotification(CommonFields):
    """The initial notification (CDR 2025/301 Art 2). Reference code, detection and classification times,
    description, criteria and Member States come from the incident."""

    discovery: Discovery = Field(description="How the incident was discovered (ITS 2.7).")
    originates_from_third_party_provider: Text | None = Field(
        default=None, description="The ICT third-party provider it originates from, if known (ITS 2.8).")
    business_continuity_activated: bool = Field(description="Business continuity plan activated? (ITS 2.9)")
    other_information: Text | None = Field(default=None, description="ITS 2.10")


class IntermediateReport(CommonFields):
    """The intermediate report (CDR 2025/301 Art 3). Figures and criteria come from the incident's facts."""

    competent_authority_code: Text | None = Field(default=None, description="The authority's reference code (ITS 3.1).")
    occurred_at: UtcDatetime | None = Field(
        default=None, description="When the incident occurred (ITS 3.2); default: the incident's occurred_at.")
    service_restored_at: UtcDatetime | None = Field(default=None, description="When services were restored (ITS 3.3).")
    figures_basis: list[FiguresBasis] = Field(min_length=1, description="Actual figures or estimates (ITS 3.12).")
    reputational_impact_description: Text | None = Field(default=None, description="ITS 3.14")
    duration_downtime_basis: DurationBasis = Field(description="ITS 3.17")
    member_states_impact_types: list[ImpactType] = Field(default_factory=list, description="ITS 3.18")
    member_states_impact_description: Text | None = Field(default=None, description="ITS 3.19")
    data_losses_description: Text | None = Field(default=None, description="ITS 3.21")
    critical_services_description: Text = Field(description="How critical services are affected (ITS 3.22).")
    incident_types: list[IncidentType] = Field(min_length=1, description="ITS 3.23")
    other_incident_type: Text | None = Field(default=None, description="ITS 3.24, with 'other'")
    threat_techniques: list[ThreatTechnique] = Field(
        default_factory=list, description="ITS 3.25, for a cybersecurity-related incident")
    other_threat_techniques: Text | None = Field(default=None, description="ITS 3.26, with 'other'")
    affected_functional_areas: Text = Field(description="Functional areas and business processes (ITS 3.27).")
    infrastructure_components_affected: YesNoUnknown = Field(description="ITS 3.28")
    infrastructure_components_description: Text | None = Field(default=None, description="ITS 3.29, with 'yes'")
    impact_on_financial_interests: YesNoUnknown = Field(description="On clients' financial interests (ITS 3.30).")
    reporting_to_other_authorities: list[Authority] = Field(min_length=1, description="ITS 3.31")
    reporting_to_other_authorities_other: Text | None = Field(default=None, description="ITS 3.32, with 'other'")
    temporary_actions: bool = Field(description="Temporary actions or measures to recover? (ITS 3.33)")
    temporary_actions_description: Text | None = Field(default=None, description="ITS 3.34, with temporary actions")
    indicators_of_compromise: Text | None = Field(
        default=None, description="ITS 3.35, for a cybersecurity-related incident (or link intel objects instead)")


class FinalReport(CommonFields):
    """The final report (CDR 2025/301 Art 4)."""

    root_causes: list[RootCause] = Field(min_length=1, description="ITS 4.1")
    root_causes_detailed: list[RootCauseDetailed] = Field(min_length=1, description="ITS 4.2")
    root_causes_additional: list[RootCauseArea] = Field(min_length=1, description="ITS 4.3")
    root_causes_other: Text | None = Field(default=None, description="ITS 4.4, with an '…_other' detailed cause")
    root_cause_information: Text = Field(description="ITS 4.5")
    resolution_summary: Text = Field(description="ITS 4.6")
    root_cause_addressed_at: UtcDatetime = Field(description="ITS 4.7")
    resolved_at: UtcDatetime = Field(description="ITS 4.8")
    resolution_vs_planned: Text = Field(description="Resolution against the planned implementation (ITS 4.9).")
    risk_to_critical_functions: Text | None = Field(default=None, description="ITS 4.10")
    information_for_resolution_authorities: Text | None = Field(default=None, description="ITS 4.11")
    economic_impact_description: Text | None = Field(default=None, description="ITS 4.12")
    gross_costs_and_losses: Decimal = Field(ge=0, description="Direct and indirect, in the currency (ITS 4.13).")
    financial_recoveries: Decimal = Field(ge=0, description="ITS 4.14")
    recurring_incidents_description: Text | None = Field(default=None, description="ITS 4.15")
    recurring_incident_date: UtcDatetime | None = Field(default=None, description="ITS 4.16, with 4.15")


MODELS: dict[ReportKind, type[CommonFields]] = {
    "initial_notification": InitialNotification,
    "intermediate_report": IntermediateReport,
    "final_report": FinalReport,
}
COMMON_FIELDS = tuple(CommonFields.model_fields)


def validate(kind: ReportKind, content: Mapping[str, Any], *, met: list[str], has_intel_links: bool,
             detected_at: datetime) -> dict[str, Any]:
    """The report's fields, checked and normalised (times in UTC), as JSON-ready values.

    ``met`` are the criteria met by the incident's classification. Raises :class:`Invalid` listing every
    problem found, each with its field.
    """
    try:
        report = MODELS[kind].model_validate(dict(content))
    except ValidationError as exc:
        raise Invalid(f"the {kind.replace('_', ' ')} is not complete or not valid",
                      details=[{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]}
                               for e in exc.errors()]) from None
    problems = _conditional(report, met, has_intel_links, detected_at)
    if problems:
        raise Invalid(f"the {kind.replace('_', ' ')} is not complete",
                      details=[{"field": f, "reason": r} for f, r in problems])
    return report.model_dump(mode="json")


def _conditional(report: CommonFields, met: list[str], has_links: bool, detected_at: datetime
                 ) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def need(name: str, why: str) -> None:
        if not getattr(report, name):
            out.append((name, f"required {why}"))

    if report.entity_lei is None and report.entity_code is None:
        out.append(("entity_lei", "give the entity's LEI, or its identification code as entity_code"))
    if isinstance(report, IntermediateReport):
        _intermediate(report, met, has_links, detected_at, need, out)
    if isinstance(report, FinalReport):
        if "economic_impact" in met:
            need("economic_impact_description", "because the economic impact threshold is met (ITS 4.12)")
        if any(code.endswith("_other") for code in report.root_causes_detailed):
            need("root_causes_other", "with an '…_other' detailed root cause (ITS 4.4)")
        if report.recurring_incidents_description:
            need("recurring_incident_date", "with recurring incidents (ITS 4.16)")
    return out


def _intermediate(report: IntermediateReport, met: list[str], has_links: bool, detected_at: datetime,
                  need: Callable[[str, str], None], out: list[tuple[str, str]]) -> None:
    need("occurred_at", "(ITS 3.2): when did the incident occur?")
    if report.occurred_at and report.occurred_at > detected_at:
        detected = f"{detected_at.astimezone(UTC):%Y-%m-%dT%H:%MZ}"
        out.append(("occurred_at", f"the incident cannot occur after it was detected ({detected})"))
    if report.occurred_at and report.service_restored_at and report.service_restored_at < report.occurred_at:
        out.append(("service_restored_at", "services cannot be restored before the incident occurred"))
    if "reputational_impact" in met:
        need("reputational_impact_description", "because the reputational impact threshold is met (ITS 3.14)")
    if "geographical_spread" in met:
        need("member_states_impact_types", "because the geographical spread threshold is met (ITS 3.18)")
        need("member_states_impact_description", "because the geographical spread threshold is met (ITS 3.19)")
    if "data_losses" in met:
        need("data_losses_description", "because the data losses threshold is met (ITS 3.21)")
    if "other" in report.incident_types:
        need("other_incident_type", "with incident type 'other' (ITS 3.24)")
    if "cybersecurity-related" in report.incident_types:
        need("threat_techniques", "for a cybersecurity-related incident (ITS 3.25)")
        if not has_links:
            need("indicators_of_compromise", "for a cybersecurity-related incident (ITS 3.35), unless the "
                 "incident links intel objects")
    if "other" in report.threat_techniques:
        need("other_threat_techniques", "with threat technique 'other' (ITS 3.26)")
    if report.infrastructure_components_affected == "yes":
        need("infrastructure_components_description", "when infrastructure components are affected (ITS 3.29)")
    if "other" in report.reporting_to_other_authorities:
        need("reporting_to_other_authorities_other", "with 'other' authorities (ITS 3.32)")
    if report.temporary_actions:
        need("temporary_actions_description", "when temporary actions are taken (ITS 3.34)")
