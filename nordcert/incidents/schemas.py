"""Input and output models of the incidents API (/api/v1/incidents).

The classification facts are :class:`nordcert.incidents.classify.Facts`; the fields of each report kind are
the models of :mod:`nordcert.incidents.reports`. Times go in with a time zone offset (or ``Z``) and come out
in UTC (``Z``), with ``…_local`` in the incident's time zone where a deadline is shown.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nordcert.incidents.classify import Facts
from nordcert.incidents.reports import FinalReport, InitialNotification, IntermediateReport

Status = Literal["recorded", "initial_submitted", "intermediate_submitted", "closed"]
Kind = Literal["initial_notification", "intermediate_report", "final_report"]
DeadlineState = Literal["not_required", "waiting", "pending", "overdue", "submitted", "submitted_late"]

#: The JSON schema of each report kind's fields, for the API documentation.
REPORT_SCHEMAS = {kind: model.model_json_schema() for kind, model in (
    ("initial_notification", InitialNotification), ("intermediate_report", IntermediateReport),
    ("final_report", FinalReport))}


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=100, examples=["ALPHA-2026-0042"],
                           description="Your own incident reference code (ITS 2.1), unique in your organisation.")
    title: str = Field(min_length=1, max_length=300, examples=["Card payments unavailable"])
    description: str = Field(min_length=1, max_length=32767, description="What happened (ITS 2.4).")
    detected_at: AwareDatetime = Field(description="When your organisation became aware of the incident (ITS 2.2).",
                                       examples=["2026-11-20T07:45:00+01:00"])
    occurred_at: AwareDatetime | None = Field(default=None, description="When it occurred, if known (ITS 3.2).")
    classified_at: AwareDatetime | None = Field(
        default=None, description="When it was classified as major (ITS 2.3). Default: the moment nordcert first finds "
        "the facts meet the criteria.")
    timezone: str | None = Field(default=None, examples=["Europe/Copenhagen"],
                                 description="IANA time zone for deadlines and weekends. Default: your Member "
                                 "State's.")
    weekend_relief: bool = Field(
        default=False, description="Your organisation may meet a deadline that falls on a weekend or bank holiday by "
        "12:00 on the next working day (not for entities excluded from that relief). Default: strict deadlines.")
    facts: Facts = Field(default_factory=lambda: Facts(), description="What is known for the classification (estimates "
                         "allowed); what is left out is not assessed.")
    intel_links: list[str] = Field(default_factory=list, description="STIX ids of intel objects you can see "
                                   "(indicators of compromise, threat actors, …).")


class IncidentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, min_length=1, max_length=32767)
    detected_at: AwareDatetime | None = None
    occurred_at: AwareDatetime | None = None
    classified_at: AwareDatetime | None = None
    timezone: str | None = None
    weekend_relief: bool | None = None
    facts: Facts | None = Field(default=None, description="Only the facts given change; the others are kept.")
    intel_links: list[str] | None = Field(default=None, description="Replaces the links.")


class OrganisationRef(BaseModel):
    id: int
    name: str
    short_name: str


class NextDue(BaseModel):
    kind: Kind
    due_at: str = Field(description="UTC")
    due_local: str = Field(description="In the incident's time zone")
    overdue: bool


class IncidentSummary(BaseModel):
    id: int
    reference: str
    title: str
    organisation: OrganisationRef
    timezone: str
    detected_at: str
    occurred_at: str | None
    classified_at: str | None = Field(description="When first classified as major")
    major: bool
    status: Status
    next_due: NextDue | None = Field(description="The report to submit next, if any")
    overdue: bool


class DeadlineOut(BaseModel):
    kind: Kind
    state: DeadlineState
    note: str
    due_at: str | None = Field(description="The deadline that applies (UTC)")
    due_local: str | None
    strict_due_at: str | None = Field(description="Before any weekend relief")
    relieved: bool = Field(description="Moved to 12:00 on the next working day")
    rule: str | None = Field(description="Why it is due then, in local time")
    submitted_at: str | None


class ReportOut(BaseModel):
    sequence: int
    kind: Kind
    submitted_at: str
    submitted_by: str | None
    due_at: str | None
    late: bool
    content: dict[str, Any] = Field(description="The report's fields as submitted")


class ClassificationSummary(BaseModel):
    major: bool
    rule: str = Field(description="Why it is major or not (CDR 2024/1772 Art 8(1))")
    met: list[str] = Field(description="Criteria met (ITS 2.5 codes)")


class IncidentOut(IncidentSummary):
    description: str
    weekend_relief: bool
    facts: dict[str, Any]
    classification: ClassificationSummary
    deadlines: list[DeadlineOut]
    reports: list[ReportOut]
    intel_links: list[str]


class CheckOut(BaseModel):
    name: str
    met: bool
    reason: str
    assessed: bool = Field(description="False when a figure it needs was not given")


class CriterionOut(BaseModel):
    criterion: str = Field(description="ITS 2.5 code")
    article: str = Field(description="CDR 2024/1772 articles")
    met: bool
    reason: str = Field(description="Met or not, and why, with the figures")
    tests: list[CheckOut]


class ClassificationOut(BaseModel):
    incident_id: int
    classified_at: str | None
    major: bool
    rule: str
    met: list[str]
    criteria: list[CriterionOut]
