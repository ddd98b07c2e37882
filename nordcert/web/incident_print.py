"""A submitted report laid out for print: the JSON document of the reporting template
(:mod:`nordcert.incidents.template`, CIR (EU) 2025/302 Annex I) as nested blocks of numbered fields.

The blocks follow the document's own structure (``submittingEntity``, ``incident``, ``impactAssessment``…);
each field carries the template's field number and a short label, and its JSON path, so that a reader of
the printed page and a reader of the JSON export find the same field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nordcert.incidents import deadlines

#: Field number and label by JSON path (items of a list share the list's path).
FIELDS: dict[str, tuple[str, str]] = {
    "incidentSubmission": ("1.1", "Type of submission"),
    "reportCurrency": ("1.15", "Currency of the amounts reported"),
    "submittingEntity.name": ("1.2", "Name of the submitting entity"),
    "submittingEntity.code": ("1.3a", "Identification code of the submitting entity"),
    "submittingEntity.LEI": ("1.3b", "LEI of the submitting entity"),
    "affectedEntity.affectedEntityType": ("1.4", "Type of the affected financial entity"),
    "affectedEntity.name": ("1.5", "Name of the affected financial entity"),
    "affectedEntity.code": ("1.6", "Identification code of the affected financial entity"),
    "affectedEntity.LEI": ("1.6", "LEI of the affected financial entity"),
    "primaryContact.name": ("1.7", "Primary contact: name"),
    "primaryContact.email": ("1.8", "Primary contact: e-mail"),
    "primaryContact.phone": ("1.9", "Primary contact: telephone"),
    "secondaryContact.name": ("1.10", "Secondary contact: name"),
    "secondaryContact.email": ("1.11", "Secondary contact: e-mail"),
    "secondaryContact.phone": ("1.12", "Secondary contact: telephone"),
    "ultimateParentUndertaking.name": ("1.13", "Name of the ultimate parent undertaking"),
    "ultimateParentUndertaking.LEI": ("1.14", "LEI of the ultimate parent undertaking"),
    "incident.financialEntityCode": ("2.1", "The entity's incident reference code"),
    "incident.detectionDateTime": ("2.2", "Detected"),
    "incident.classificationDateTime": ("2.3", "Classified as major"),
    "incident.incidentDescription": ("2.4", "Description of the incident"),
    "incident.classificationTypes.classificationCriterion": ("2.5", "Classification criterion met"),
    "incident.classificationTypes.countryCodeMaterialityThresholds": ("2.6", "Member States impacted"),
    "incident.classificationTypes.reputationalImpactType": ("3.13", "Kind of reputational impact"),
    "incident.classificationTypes.reputationalImpactDescription": ("3.14", "About the reputational impact"),
    "incident.classificationTypes.memberStatesImpactType": ("3.18", "Kind of impact in other Member States"),
    "incident.classificationTypes.memberStatesImpactTypeDescription": ("3.19", "How other Member States are hit"),
    "incident.classificationTypes.dataLosseMaterialityThresholds": ("3.20", "Data aspects impacted"),
    "incident.classificationTypes.dataLossesDescription": ("3.21", "About the data losses"),
    "incident.classificationTypes.economicImpactMaterialityThreshold": ("4.12", "About the economic impact"),
    "incident.incidentDiscovery": ("2.7", "How the incident was discovered"),
    "incident.originatesFromThirdPartyProvider": ("2.8", "Originates from a third-party provider"),
    "incident.isBusinessContinuityActivated": ("2.9", "Business continuity plan activated"),
    "incident.otherInformation": ("2.10", "Other information"),
    "incident.competentAuthorityCode": ("3.1", "The authority's incident reference code"),
    "incident.incidentOccurrenceDateTime": ("3.2", "Occurred"),
    "incident.incidentDuration": ("3.15", "Duration (DDD:HH:MM)"),
    "incident.incidentType.incidentClassification": ("3.23", "Type of incident"),
    "incident.incidentType.otherIncidentClassification": ("3.24", "Other type of incident"),
    "incident.incidentType.threatTechniques": ("3.25", "Threats and techniques"),
    "incident.incidentType.otherThreatTechniques": ("3.26", "Other techniques"),
    "incident.incidentType.indicatorsOfCompromise": ("3.35", "Indicators of compromise"),
    "incident.rootCauseHLClassification": ("4.1", "Root causes, high level"),
    "incident.rootCausesDetailedClassification": ("4.2", "Root causes, detailed"),
    "incident.rootCausesAdditionalClassification": ("4.3", "Root causes, additional"),
    "incident.rootCausesOther": ("4.4", "Other root causes"),
    "incident.rootCausesInformation": ("4.5", "About the root causes"),
    "incident.incidentResolutionSummary": ("4.6", "How the incident was resolved"),
    "incident.rootCauseAddressingDateTime": ("4.7", "Root cause addressed"),
    "incident.incidentResolutionDateTime": ("4.8", "Resolved"),
    "incident.incidentResolutionVsPlannedImplementation": ("4.9", "Resolution against the plan"),
    "incident.assessmentOfRiskToCriticalFunctions": ("4.10", "Risk to critical functions (resolution)"),
    "incident.informationRelevantToResolutionAuthorities": ("4.11", "For resolution authorities"),
    "incident.grossAmountIndirectDirectCosts": ("4.13", "Gross direct and indirect costs and losses"),
    "incident.financialRecoveriesAmount": ("4.14", "Financial recoveries"),
    "incident.recurringNonMajorIncidentsDescription": ("4.15", "Recurring non-major incidents"),
    "incident.recurringIncidentDate": ("4.16", "Recurring incidents occurred"),
    "impactAssessment.hasImpactOnRelevantClients": ("3.8", "Relevant clients or counterparts affected"),
    "impactAssessment.serviceImpact.serviceRestorationDateTime": ("3.3", "Services restored"),
    "impactAssessment.serviceImpact.serviceDowntime": ("3.16", "Service downtime (DDD:HH:MM)"),
    "impactAssessment.serviceImpact.isTemporaryActionsMeasuresForRecovery": ("3.33", "Temporary actions to recover"),
    "impactAssessment.serviceImpact.descriptionOfTemporaryActionsMeasuresForRecovery": (
        "3.34", "About the temporary actions"),
    "impactAssessment.criticalServicesAffected": ("3.22", "How critical services are affected"),
    "impactAssessment.affectedAssets.affectedClients.number": ("3.4", "Clients affected"),
    "impactAssessment.affectedAssets.affectedClients.percentage": ("3.5", "Clients affected (%)"),
    "impactAssessment.affectedAssets.affectedFinancialCounterparts.number": ("3.6", "Counterparts affected"),
    "impactAssessment.affectedAssets.affectedFinancialCounterparts.percentage": ("3.7", "Counterparts affected (%)"),
    "impactAssessment.affectedAssets.affectedTransactions.number": ("3.9", "Transactions affected"),
    "impactAssessment.affectedAssets.affectedTransactions.percentage": ("3.10", "Transactions affected (%)"),
    "impactAssessment.affectedAssets.valueOfAffectedTransactions": ("3.11", "Value of the transactions affected"),
    "impactAssessment.affectedAssets.numbersActualEstimate": ("3.12", "Actual figures or estimates"),
    "impactAssessment.affectedFunctionalAreas": ("3.27", "Functional areas and business processes"),
    "impactAssessment.isAffectedInfrastructureComponents": ("3.28", "Infrastructure components affected"),
    "impactAssessment.affectedInfrastructureComponents": ("3.29", "About the infrastructure components"),
    "impactAssessment.isImpactOnFinancialInterest": ("3.30", "Impact on clients' financial interests"),
    "reportingToOtherAuthorities": ("3.31", "Reported to other authorities"),
    "reportingToOtherAuthoritiesOther": ("3.32", "Other authorities"),
    "informationDurationServiceDowntimeActualOrEstimate": ("3.17", "Duration and downtime: actual or estimated"),
}

#: Titles of the document's objects.
TITLES = {
    "submittingEntity": "Submitting entity", "affectedEntity": "Affected financial entity",
    "ultimateParentUndertaking": "Ultimate parent undertaking", "primaryContact": "Primary contact",
    "secondaryContact": "Secondary contact", "incident": "Incident", "incident.classificationTypes":
    "Classification criterion", "incident.incidentType": "Type of incident", "impactAssessment": "Impact assessment",
    "impactAssessment.serviceImpact": "Service impact", "impactAssessment.affectedAssets": "Affected assets",
    "impactAssessment.affectedAssets.affectedClients": "Clients",
    "impactAssessment.affectedAssets.affectedFinancialCounterparts": "Financial counterparts",
    "impactAssessment.affectedAssets.affectedTransactions": "Transactions",
}
#: Titles of the runs of top-level fields: before the first object, and after the last.
_ROOT_RUNS = ("Submission", "Reporting to other authorities")
_ROLE_MARKERS = {"submittingEntity.entityType", "affectedEntity.entityType", "ultimateParentUndertaking.entityType"}
_CODE = re.compile(r"[a-z0-9]+(?:[_-][a-zA-Z0-9]+)+")
_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@dataclass
class Row:
    its: str
    label: str
    path: str
    value: str


@dataclass
class Block:
    """A titled object of the document: runs of rows (one table each) and nested blocks, in order."""

    title: str
    path: str
    parts: list[Block | list[Row]] = field(default_factory=list)


def layout(doc: dict[str, Any], zone: ZoneInfo) -> list[Block]:
    """The document as blocks, in its order; its top-level fields form blocks of their own."""
    blocks: list[Block] = []
    titles = iter(_ROOT_RUNS)
    for part in _block(doc, "", "", zone).parts:
        blocks.append(part if isinstance(part, Block) else Block(next(titles, "Other fields"), "", [part]))
    return blocks


def _block(obj: dict[str, Any], path: str, title: str, zone: ZoneInfo) -> Block:
    block = Block(title, path)

    def add(row: Row) -> None:
        last = block.parts[-1] if block.parts else None
        if isinstance(last, list):
            last.append(row)
        elif isinstance(last, Block) and last.title == f"{title} (continued)":
            last.parts[-1].append(row)  # type: ignore[union-attr]
        elif last is not None and path:  # fields after a nested object: headed, or they would seem its own
            block.parts.append(Block(f"{title} (continued)", path, [[row]]))
        else:
            block.parts.append([row])

    for key, value in obj.items():
        sub = f"{path}.{key}" if path else key
        name = TITLES.get(sub, _words(key))
        if sub in _ROLE_MARKERS:
            continue
        if isinstance(value, dict):
            block.parts.append(_block(value, sub, name, zone))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for n, item in enumerate(value, 1):
                block.parts.append(_block(item, sub, f"{name} {n}" if len(value) > 1 else name, zone))
        else:
            its, label = FIELDS.get(sub, ("", _words(key)))
            add(Row(its, label, sub, shown(value, zone)))
    return block


def shown(value: Any, zone: ZoneInfo) -> str:
    """A value as people read it: yes/no, codes in words, moments in UTC and local time."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(shown(v, zone) for v in value)
    if isinstance(value, int | float):
        return f"{value:,}".replace(",", " ")
    text = str(value)
    if _MOMENT.match(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        return f"{moment:%Y-%m-%d %H:%M} UTC ({deadlines.show(moment, zone)})"
    if _CODE.fullmatch(text):
        return text.replace("_", " ")
    return text


def _words(key: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key)
    return spaced[:1].upper() + spaced[1:].lower()
