"""Input and output models of the risk register and the concerns survey (/api/v1/sectormap/risks, /measures,
/register, /surveys). Categories and states are checked by the service layer and documented here."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nordcert.sectormap.risks import MEASURE_STATES, RISK_CATEGORIES

RiskState = Literal["open", "closed"]


def _enum(values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the risk register ------------------------------------------------------------------------------


class Sources(_In):
    incidents: list[int] = Field(default=[], description="Incident ids (/api/v1/incidents).")
    intel: list[str] = Field(default=[], description="STIX ids of threat assessments and other intel.")
    survey_topics: list[int] = Field(default=[], description="Topic ids of concerns surveys.")


class RiskCreate(_In):
    title: str = Field(min_length=1, max_length=300, examples=["Payments concentrated on one hosting provider"])
    description: str = Field(default="", max_length=32767)
    category: str = Field(json_schema_extra=_enum(RISK_CATEGORIES), examples=["concentration"])
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    sources: Sources = Field(default_factory=Sources)


class RiskUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=32767)
    category: str | None = Field(default=None, json_schema_extra=_enum(RISK_CATEGORIES))
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    status: RiskState | None = None
    sources: Sources | None = Field(default=None, description="Replaces the sources.")


class SourcesOut(BaseModel):
    incidents: list[dict[str, Any]]
    intel: list[dict[str, Any]]
    survey_topics: list[dict[str, Any]]
    not_shown: int = Field(description="Sources you may not see (other members' incidents, intel beyond you).")


class MeasureCreate(_In):
    title: str = Field(min_length=1, max_length=300)
    owner_organisation: int | str | None = Field(default=None, description="An id, name or short name.")
    owner_person: str | None = Field(default=None, max_length=200)
    status: str = Field(default="planned", json_schema_extra=_enum(MEASURE_STATES))
    due_on: date | None = None


class MeasureUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    owner_organisation: int | str | None = None
    owner_person: str | None = Field(default=None, max_length=200)
    status: str | None = Field(default=None, json_schema_extra=_enum(MEASURE_STATES))
    due_on: date | None = None


class NoteCreate(_In):
    text: str = Field(min_length=1, max_length=32767)
    noted_on: date | None = Field(default=None, description="Default: today (UTC).")


class MeasureOut(BaseModel):
    id: int
    risk_id: int
    title: str
    owner: dict[str, Any]
    status: str
    due_on: str | None
    notes: list[dict[str, Any]]
    history: list[dict[str, Any]]
    created_at: str
    updated_at: str


class RiskOut(BaseModel):
    id: int
    title: str
    description: str
    category: str
    category_name: str
    likelihood: int
    impact: int
    score: int
    status: str
    sources: SourcesOut
    created_at: str
    updated_at: str
    measure_counts: dict[str, int] | None = None
    measures: list[MeasureOut] | None = None
    history: list[dict[str, Any]] | None = None


class ProgressOut(BaseModel):
    months: list[str]
    measures_by_status: list[dict[str, Any]]
    risks: list[dict[str, Any]]


# --- the concerns survey ----------------------------------------------------------------------------


class SurveyCreate(_In):
    year: int = Field(ge=2000, le=2100)
    topics: list[str] = Field(min_length=1, max_length=50, examples=[["Cloud concentration", "Ransomware"]])


class SurveyAnswer(_In):
    ranking: list[int] = Field(min_length=1, description="Topic ids, your most pressing concern first.")
    comment: str = Field(default="", max_length=32767)


class SurveyOut(BaseModel):
    year: int
    status: str
    topics: list[dict[str, Any]]
    respondents: int
    opened_at: str
    closed_at: str | None


class AnswerOut(BaseModel):
    year: int
    ranking: list[dict[str, Any]]
    comment: str
    submitted_at: str


class ResultsOut(BaseModel):
    year: int
    status: str
    respondents: int
    min_respondents: int
    suppressed: bool
    topics: list[dict[str, Any]]
    comments: list[str] | None = Field(description="CERT staff only, unattributed.")
