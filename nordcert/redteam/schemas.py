"""Input and output models of the red-team API (/api/v1/redteam).

Vocabularies (frameworks, phases, roles, categories, severities, statuses) are checked by the services, so a web
form and the API get the same answer naming the field; here they are documented. Dates are calendar dates
(YYYY-MM-DD, UTC); times come out in UTC (``Z``).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from nordcert.redteam.findings import CATEGORIES, SEVERITIES
from nordcert.redteam.phases import PHASE_KEYS, START_PHASES
from nordcert.redteam.remediation import PRIORITIES, STATES
from nordcert.redteam.roles import ROLES
from nordcert.redteam.service import FRAMEWORKS, PROVIDER_KINDS

_FORBID = ConfigDict(extra="forbid")


class Flag(BaseModel):
    model_config = _FORBID
    code: str = Field(examples=["F1"], description="Short code findings name the flag by")
    name: str = Field(examples=["Domain admin in the payment zone"])
    reached: bool | None = Field(default=None, description="Reached by the testers; null while not known")


class _EngagementFields(BaseModel):
    model_config = _FORBID
    tiber_implementation: str | None = Field(default=None, examples=["TIBER-DK"],
                                             description="The national TIBER implementation, free text")
    significant_credit_institution: bool = Field(
        default=False, description="A significant credit institution uses external testers only (DORA Art 26(8))")
    functions: list[str] = Field(default_factory=list, examples=[["Payments", "Online banking"]],
                                 description="Critical or important functions under test")
    systems: list[str] = Field(default_factory=list, examples=[["Core banking", "Payment hub"]])
    flags: list[Flag] = Field(default_factory=list, description="The targets the testers must reach")
    ti_provider: str | None = Field(default=None, description="Threat-intelligence provider (always external)")
    rt_provider: str | None = Field(default=None, description="Red team provider")
    rt_provider_kind: str | None = Field(default=None, json_schema_extra={"enum": list(PROVIDER_KINDS)})


class EngagementCreate(_EngagementFields):
    organisation: int | str = Field(description="The member under test: id, name or short name")
    name: str = Field(examples=["TIBER-DK Falcon"], description="The test's code name")
    framework: str = Field(json_schema_extra={"enum": list(FRAMEWORKS)})
    phase: str = Field(default="preparation", json_schema_extra={"enum": list(START_PHASES)},
                       description="The first phase: the generic threat landscape is optional")
    opened_on: date | None = Field(default=None, description="Default: today")


class EngagementUpdate(BaseModel):
    model_config = _FORBID
    name: str | None = None
    framework: str | None = Field(default=None, json_schema_extra={"enum": list(FRAMEWORKS)})
    tiber_implementation: str | None = None
    significant_credit_institution: bool | None = None
    functions: list[str] | None = Field(default=None, description="Replaces the list")
    systems: list[str] | None = Field(default=None, description="Replaces the list")
    flags: list[Flag] | None = Field(default=None, description="Replaces the list; flags named by findings stay")
    ti_provider: str | None = None
    rt_provider: str | None = None
    rt_provider_kind: str | None = Field(default=None, json_schema_extra={"enum": list(PROVIDER_KINDS)})
    opened_on: date | None = None
    notified_on: date | None = Field(default=None, description="The TLPT authority's notification of CDR "
                                     "2025/1190 Art 12(7); the remediation plan is due 8 weeks later")


class PhaseDatesIn(BaseModel):
    model_config = _FORBID
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None


class Advance(BaseModel):
    model_config = _FORBID
    to: str = Field(json_schema_extra={"enum": list(PHASE_KEYS)}, description="The next phase (and only it)")
    on: date | None = Field(default=None, description="The day the current phase ends and the next starts; "
                                                      "default today")


class AttestationIn(BaseModel):
    model_config = _FORBID
    attested_on: date | None = Field(default=None, description="Default: today")
    reference: str | None = Field(default=None, examples=["FSA-TLPT-2026-07"])
    note: str | None = None


class RoleCreate(BaseModel):
    model_config = _FORBID
    role: str = Field(json_schema_extra={"enum": list(ROLES)})
    name: str
    email: str
    company: str | None = None
    user: int | str | None = Field(default=None, description="Id or e-mail of a user of the member (control "
                                                             "team only): that user then sees the test")


class RoleUpdate(BaseModel):
    model_config = _FORBID
    role: str | None = Field(default=None, json_schema_extra={"enum": list(ROLES)})
    name: str | None = None
    email: str | None = None
    company: str | None = None
    user: int | str | None = None


class FindingCreate(BaseModel):
    model_config = _FORBID
    title: str
    category: str = Field(json_schema_extra={"enum": list(CATEGORIES)})
    severity: str = Field(json_schema_extra={"enum": list(SEVERITIES)})
    flag: str | None = Field(default=None, description="Code of the flag reached through it")
    attack_path: str = ""
    description: str = ""
    root_cause: str = ""


class FindingUpdate(BaseModel):
    model_config = _FORBID
    title: str | None = None
    category: str | None = Field(default=None, json_schema_extra={"enum": list(CATEGORIES)})
    severity: str | None = Field(default=None, json_schema_extra={"enum": list(SEVERITIES)})
    flag: str | None = None
    attack_path: str | None = None
    description: str | None = None
    root_cause: str | None = None


class MeasureCreate(BaseModel):
    model_config = _FORBID
    measure: str
    owner: str = Field(description="The staff or function responsible")
    priority: str = Field(default="medium", json_schema_extra={"enum": list(PRIORITIES)})
    due_on: date | None = None
    status: str = Field(default="open", json_schema_extra={"enum": list(STATES)})
    residual_risk: str = ""


class MeasureUpdate(BaseModel):
    model_config = _FORBID
    measure: str | None = None
    owner: str | None = None
    priority: str | None = Field(default=None, json_schema_extra={"enum": list(PRIORITIES)})
    due_on: date | None = None
    status: str | None = Field(default=None, json_schema_extra={"enum": list(STATES)})
    residual_risk: str | None = None


class NoteCreate(BaseModel):
    model_config = _FORBID
    text: str


# --- out ----------------------------------------------------------------------------------------------


class OrganisationRef(BaseModel):
    id: int
    name: str
    short_name: str
    sector_type: str


class Scope(BaseModel):
    functions: list[str]
    systems: list[str]
    flags: list[Flag]


class Providers(BaseModel):
    ti_provider: str | None
    rt_provider: str | None
    rt_provider_kind: str | None


class Attestation(BaseModel):
    attested_on: str
    reference: str | None
    note: str | None


class PhaseOut(BaseModel):
    key: str
    name: str
    stage: str
    source: str
    optional: bool
    planned_start: str | None
    planned_end: str | None
    actual_start: str | None
    actual_end: str | None
    current: bool
    done: bool
    behind_plan: bool = Field(description="Not started by its planned start or not ended by its planned end")


class DeadlineOut(BaseModel):
    key: str
    name: str
    rule: str
    source: str
    due_on: str | None = Field(description="null: what it counts from is not known yet")
    from_planned: bool = Field(description="Counted from a planned date: it moves with the plan")
    done_on: str | None
    state: str = Field(json_schema_extra={"enum": ["unknown", "pending", "overdue", "met", "late"]})


class WarningOut(BaseModel):
    key: str
    message: str
    source: str


class Progress(BaseModel):
    open: int
    in_progress: int
    done: int
    accepted_risk: int
    total: int
    resolved: int = Field(description="done or risk accepted")
    overdue: int


class EngagementProgress(Progress):
    findings: int


class UserRef(BaseModel):
    id: int
    email: str | None
    name: str | None


class RoleOut(BaseModel):
    id: int
    engagement_id: int
    role: str
    role_name: str
    name: str
    email: str
    company: str | None
    user: UserRef | None


class EngagementOut(BaseModel):
    id: int
    organisation: OrganisationRef
    name: str
    framework: str
    framework_name: str
    tiber_implementation: str | None
    significant_credit_institution: bool
    scope: Scope
    providers: Providers
    phase: str
    phase_name: str
    next_phase: str | None
    status: str = Field(json_schema_extra={"enum": ["active", "attested"]})
    opened_on: str
    notified_on: str | None
    attestation: Attestation | None
    phases: list[PhaseOut]
    deadlines: list[DeadlineOut]
    next_deadline: DeadlineOut | None
    overdue: list[str] = Field(description="Keys of the deadlines passed and not met")
    warnings: list[WarningOut]
    progress: EngagementProgress
    created_at: str
    updated_at: str


class EngagementDetail(EngagementOut):
    roles: list[RoleOut]
    may_change: bool
    may_attest: bool


class NoteOut(BaseModel):
    id: int
    text: str
    recorded_by: str | None
    recorded_at: str


class StatusChange(BaseModel):
    status: str
    changed_by: str | None
    changed_at: str


class MeasureOut(BaseModel):
    id: int
    finding_id: int
    measure: str
    owner: str
    priority: str
    due_on: str | None
    status: str
    status_name: str
    residual_risk: str
    overdue: bool
    notes: list[NoteOut]
    history: list[StatusChange]
    created_at: str
    updated_at: str


class FindingOut(BaseModel):
    id: int
    engagement_id: int
    title: str
    category: str
    category_name: str
    severity: str
    flag: str | None
    attack_path: str
    description: str
    root_cause: str
    measures: list[MeasureOut]
    progress: Progress
    created_at: str
    updated_at: str


class EngagementRef(BaseModel):
    id: int
    name: str
    phase: str


class FindingDetail(FindingOut):
    engagement: EngagementRef
    may_change: bool


class CategoryOut(BaseModel):
    key: str
    name: str
    source: str
    suppressed: bool = Field(description="Fewer than the smallest group of members found anything in it")
    total: int | None
    counts: dict[str, int | None] = Field(description="By severity; null: suppressed")
    not_broken_down: int | None = Field(description="The total less the counts shown")


class SectorOut(BaseModel):
    min_group: int
    severities: list[str]
    as_of: str
    suppressed: bool = Field(description="Fewer than the smallest group of members have a test counted")
    members: int | None
    engagements: int | None
    findings: int | None = Field(description="null: it would reveal a suppressed category")
    categories: list[CategoryOut]
    own: dict[str, dict[str, int]] | None = Field(description="Your organisation's figures, from its tests you see")
