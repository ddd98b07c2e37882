"""Input and output models of the crisis API (/api/v1/crises).

Services and statuses are checked by the service layer (one list, :data:`nordcert.crisis.service.SERVICES`),
so a web form and the API get the same answer; here they are documented. Times go in with a time zone offset
(or ``Z``) and come out in UTC (``Z``); due dates are calendar dates.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from nordcert.crisis.service import SERVICES, STATUSES

Severity = Literal["low", "medium", "high", "critical"]
CrisisState = Literal["active", "closed"]
ActionState = Literal["open", "done"]
Counts = dict[str, int]


class CrisisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300, examples=["DDoS wave against card payments"])
    scope: str = Field(min_length=1, max_length=32767, examples=["Card acquiring and issuing at several banks"],
                       description="Who and what the crisis concerns.")
    severity: Severity
    is_exercise: bool = Field(default=False, description="An exercise runs the same flow, marked as such.")


class CrisisUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    scope: str | None = Field(default=None, min_length=1, max_length=32767)
    severity: Severity | None = None


class CrisisClose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1, max_length=32767, description="What happened and how it ended.")


class CrisisOut(BaseModel):
    id: int
    title: str
    scope: str
    severity: Severity
    is_exercise: bool
    status: CrisisState
    summary: str | None
    declared_by: str | None
    declared_at: str
    updated_at: str
    closed_at: str | None


class ServiceOut(BaseModel):
    id: str
    name: str


class CrisisRef(BaseModel):
    id: int
    title: str
    is_exercise: bool


class BroadcastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=32767, examples=["Block the attacking ranges listed in the advisory."])


class BroadcastOut(BaseModel):
    id: int
    crisis: CrisisRef
    kind: Literal["declared", "message", "closed"]
    body: str
    posted_by: str | None
    posted_at: str


class StatusItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(json_schema_extra={"enum": list(SERVICES)}, examples=["card_payments"])
    status: str = Field(json_schema_extra={"enum": list(STATUSES)}, examples=["degraded"])
    comment: str = Field(default="", max_length=2000, examples=["Authorisations time out for about 30 %."])
    observed_at: AwareDatetime | None = Field(default=None, description="When you saw it. Default: now.")


class StatusSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statuses: list[StatusItem] = Field(min_length=1, description="One item per service, each service once.")


class OrganisationRef(BaseModel):
    id: int
    name: str
    short_name: str
    sector_type: str


class StatusReportOut(BaseModel):
    id: int
    crisis_id: int
    organisation: OrganisationRef
    service: str
    service_name: str
    status: str
    comment: str
    observed_at: str
    submitted_at: str
    submitted_by: str | None


class MemberTypeOut(BaseModel):
    member_type: str
    members: int


class CellOut(BaseModel):
    members: int
    counts: Counts = Field(description="Members by latest status: operational, degraded, down, not_reported")
    worst: str


class ServiceAggregateOut(CellOut):
    service: str
    name: str
    by_member_type: dict[str, CellOut]


class StatusEntryOut(BaseModel):
    status: str
    comment: str
    observed_at: str
    submitted_at: str
    report_id: int


class MemberStatusesOut(BaseModel):
    organisation: OrganisationRef
    statuses: dict[str, StatusEntryOut | None] = Field(description="Per service; null: not reported")
    worst: str


class PictureOut(BaseModel):
    crisis: CrisisOut
    as_of: str
    services: list[ServiceOut]
    member_types: list[MemberTypeOut]
    members_total: int
    aggregate: list[ServiceAggregateOut]
    own: MemberStatusesOut | None = Field(description="Your organisation's latest statuses (members)")
    members: list[MemberStatusesOut] | None = Field(description="Every member's latest statuses (CERT staff only)")


class SeriesOut(BaseModel):
    service: str
    name: str
    operational: list[int]
    degraded: list[int]
    down: list[int]
    not_reported: list[int]


class TimelineOut(BaseModel):
    crisis_id: int
    bucket_minutes: int
    members_total: int
    times: list[str] = Field(description="Start of each bucket (UTC); each value is the state at its end")
    series: list[SeriesOut]
    total: dict[str, list[int]] = Field(description="degraded and down summed over the services")


class BriefingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=32767, examples=["Briefing 3: two banks still down on cards."])


class BriefingOut(BaseModel):
    id: int
    crisis_id: int
    text: str
    recorded_by: str | None
    recorded_at: str


class BriefingRef(BaseModel):
    id: int
    recorded_at: str


class DiffCell(BaseModel):
    before: Counts
    now: Counts


class ServiceDiffOut(DiffCell):
    service: str
    name: str
    by_member_type: dict[str, DiffCell]


class StatusBefore(BaseModel):
    status: str
    comment: str
    observed_at: str


class ChangeOut(BaseModel):
    organisation: OrganisationRef
    service: str
    service_name: str
    before: StatusBefore | None = Field(description="null: not reported at the briefing")
    now: StatusEntryOut


class ChangesOut(BaseModel):
    crisis_id: int
    since: BriefingRef | None = Field(description="The last briefing; null: none yet, so since the declaration")
    as_of: str
    aggregate: list[ServiceDiffOut]
    changes: list[ChangeOut] | None = Field(description="Per member and service (CERT staff only)")


class LessonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=32767)


class LessonOut(BaseModel):
    id: int
    crisis_id: int
    text: str
    recorded_by: str | None
    recorded_at: str


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300, examples=["Test DDoS scrubbing failover for card acquiring"])
    owner_organisation: int | str = Field(description="Id, name or short name")
    owner_user: int | str | None = Field(default=None, description="Id or email of a user of that organisation")
    due_on: date
    lesson_id: int | None = Field(default=None, description="The lesson it follows from")


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    owner_organisation: int | str | None = None
    owner_user: int | str | None = None
    due_on: date | None = None
    lesson_id: int | None = None
    status: ActionState | None = Field(default=None, description="The owner organisation may change only this")


class UserRef(BaseModel):
    id: int
    email: str | None


class OwnerOrganisation(BaseModel):
    id: int
    name: str
    short_name: str


class ActionOwner(BaseModel):
    organisation: OwnerOrganisation
    user: UserRef | None


class ActionOut(BaseModel):
    id: int
    crisis: CrisisRef
    lesson_id: int | None
    title: str
    owner: ActionOwner
    due_on: str
    status: ActionState
    overdue: bool
    created_at: str
    updated_at: str
    done_at: str | None
