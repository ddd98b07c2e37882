"""Input and output models of the baseline API (/api/v1/baseline).

A catalogue, or one control of it, goes in as the JSON of the shipped data file and is checked by
``catalogue.from_dict``, which names each bad field (``controls[3].criteria[1].level``); :class:`CatalogueDoc` and
:class:`ControlDoc` document that shape. Answers are checked by the service too (``answers.2.comment``), so the web
form and the API refuse the same things with the same words. Times go in with a time zone offset (or ``Z``) and
come out in UTC (``Z``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Priority = Literal["essential", "important", "advanced"]
CampaignState = Literal["open", "closed"]
ResponseState = Literal["not_started", "draft", "submitted"]


# --- the catalogue ----------------------------------------------------------------------------------------


class MaturityLevelDoc(BaseModel):
    level: int = Field(ge=0, le=5)
    name: str
    description: str


class CriterionDoc(BaseModel):
    id: str = Field(examples=["GOV-01.1"], description="The control's id and the criterion's number; may be left out "
                                                        "in an edit, criteria are numbered in order.")
    text: str = Field(description="What an assessor checks.")
    level: int = Field(ge=1, le=5, description="The maturity level this criterion evidences.")


class DomainDoc(BaseModel):
    key: str = Field(examples=["governance"])
    name: str
    description: str


class ControlDoc(BaseModel):
    id: str = Field(examples=["GOV-01"])
    domain: str = Field(examples=["governance"], description="A domain key of the catalogue.")
    title: str
    objective: str
    criteria: list[CriterionDoc]
    target: int = Field(ge=1, le=5, description="The maturity the baseline expects.")
    priority: Priority
    dora: list[str] = Field(examples=[["Art 5(2)(a)", "Art 5(4)"]], description="DORA (Regulation (EU) 2022/2554) "
                            "articles 5–30 and 45: 'Art 9', 'Art 9(4)' or 'Art 9(4)(c)'.")
    nis2: list[str] = Field(examples=[["Art 20(1)", "Art 21(2)(d)"]], description="NIS2 (Directive (EU) 2022/2555) "
                            "articles 20, 21, 23 and 29.")
    csf: list[str] = Field(examples=[["GV.OV", "GV.RR"]], description="NIST CSF 2.0 category ids.")
    guidance: str = Field(description="What to do to reach the target.")


class CatalogueDoc(BaseModel):
    """The catalogue as the shipped data file holds it; what export gives and import takes."""

    version: str = Field(examples=["2026.1"])
    title: str
    scale: list[MaturityLevelDoc]
    domains: list[DomainDoc]
    controls: list[ControlDoc]


class VersionOut(BaseModel):
    id: int
    version: str
    title: str
    published: bool = Field(description="A published version never changes; campaigns answer published versions.")
    published_at: str | None
    shipped: bool = Field(description="Loaded from the data file shipped with nordcert.")
    based_on: str | None = Field(description="The version this draft was made from.")
    created_at: str
    updated_at: str
    controls: int
    campaigns: int = Field(description="Campaigns that answer this version.")


class VersionDetailOut(VersionOut):
    catalogue: CatalogueDoc


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_version: str = Field(examples=["2026.1"], description="The version whose content the draft starts from.")
    version: str = Field(examples=["2026.2"], description="The new version's name (letters, digits, '.', '-', '_').")
    title: str | None = Field(default=None, description="The new title; the base version's if left out.")


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


class Change(BaseModel):
    field: str = Field(examples=["target", "dora", "criteria GOV-01.2"])
    before: Any
    after: Any
    added: list[str] | None = Field(default=None, description="For a mapping: the references added.")
    removed: list[str] | None = Field(default=None, description="For a mapping: the references removed.")


class ChangedControl(BaseModel):
    id: str
    title: str
    domain: str
    changes: list[Change]


class DiffOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    title: dict[str, str] | None
    scale: list[dict[str, Any]]
    domains: list[dict[str, Any]]
    added: list[ControlDoc]
    removed: list[ControlDoc]
    changed: list[ChangedControl]
    unchanged: int


# --- campaigns ---------------------------------------------------------------------------------------------


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["Baseline self-assessment 2026"])
    catalogue_version: str = Field(examples=["2026.1"], description="A published catalogue version.")
    closes_at: AwareDatetime = Field(description="The deadline given to members.")
    description: str = Field(default="", description="What members are asked to do, shown with the campaign.")


class CatalogueRef(BaseModel):
    id: int
    version: str
    title: str


class MyResponse(BaseModel):
    status: ResponseState
    updated_at: str | None
    submitted_at: str | None


class CampaignOut(BaseModel):
    id: int
    name: str
    description: str
    status: CampaignState
    catalogue: CatalogueRef
    opens_at: str
    closes_at: str
    overdue: bool = Field(description="Open and past its deadline (it takes answers until it is closed).")
    created_at: str
    closed_at: str | None
    my_response: MyResponse | None = Field(description="A member's own response; none for others.")


class OrganisationRef(BaseModel):
    id: int
    name: str
    short_name: str
    sector_type: str


class MemberProgress(BaseModel):
    organisation: OrganisationRef
    state: ResponseState
    answered: int
    total: int
    updated_at: str | None
    submitted_at: str | None
    reopened_at: str | None


class ProgressOut(BaseModel):
    campaign: CampaignOut
    members: list[MemberProgress]
    counts: dict[ResponseState, int]
    total_members: int
    controls: int


# --- responses ----------------------------------------------------------------------------------------------


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    control_id: str = Field(examples=["GOV-01"])
    maturity: Annotated[int, Field(strict=True)] | None = Field(
        default=None, examples=[3], description="0–5 on the catalogue's scale; none leaves the control open.")
    not_applicable: bool = Field(default=False, description="The control does not apply: say why in the comment. "
                                                            "Left out of every statistic.")
    evidence: str = Field(default="", description="What an assessor could check (documents, reports, tickets).")
    comment: str = ""


class AnswersSave(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[AnswerIn] = Field(description="Any subset of the controls, each once.")


class ResponseSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[AnswerIn] = Field(default_factory=list, description="Answers saved before submitting, if any.")


class AnswerOut(BaseModel):
    maturity: int | None
    not_applicable: bool
    evidence: str
    comment: str
    updated_at: str


class ResponseOut(BaseModel):
    campaign: CampaignOut
    organisation: OrganisationRef
    status: ResponseState
    created_at: str | None
    updated_at: str | None
    submitted_at: str | None
    submitted_by: str | None
    reopened_at: str | None
    answered: int
    total: int
    unanswered: list[str]
    answers: dict[str, AnswerOut]
