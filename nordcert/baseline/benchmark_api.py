"""Routes of /api/v1/baseline for a campaign's figures: the sector benchmark, the regulatory heat map and a
member's feedback report (JSON, HTML and PDF).

Who may read what is the services' rule (:mod:`.benchmark`): CERT staff everything at any time, any member's
report included; an authority's risk officers the benchmark and the heat map; a member's users those and their
own report, once the campaign is closed (409 before); another member's report answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from nordcert.baseline import benchmark, feedback, heatmap, report
from nordcert.config import Settings
from nordcert.deps import CurrentReader, ReadConn, SettingsDep
from nordcert.sharing.policy import Reader

router = APIRouter(prefix="/baseline", tags=["baseline benchmark"])
Organisation = Annotated[int | None, Query(description="CERT staff: the member whose report to give")]
#: The report stands alone: its style is in the page, it runs no script and loads nothing.
_REPORT_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                              "frame-ancestors 'none'; base-uri 'none'",
                   "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


class CampaignRef(BaseModel):
    id: int
    name: str
    status: str
    opens_at: str
    closes_at: str
    closed_at: str | None


class CatalogueRef(BaseModel):
    version: str
    title: str


class MemberType(BaseModel):
    type: str
    name: str


class Cell(BaseModel):
    """One group's distribution; every figure null where the group is suppressed (CERT staff see them, marked)."""

    n: int | None = Field(description="members in the group")
    q1: float | None
    median: float | None
    q3: float | None
    levels: list[int] | None = Field(description="members at maturity level 0, 1, … 5")
    suppressed: str | None = Field(description="small_group (fewer than min_group members) or complementary "
                                               "(withheld so that a small group cannot be recovered by subtraction)")


class Own(BaseModel):
    value: float | None = Field(description="the member's own score (null: not applicable or not taking part)")
    not_applicable: bool
    band: str | None = Field(description="below_q1, q1_median, median, median_q3 or above_q3 (in the sector)")


class Row(BaseModel):
    sector: Cell
    by_type: dict[str, Cell]
    own: Own | None = None


class ControlRow(Row):
    id: str
    title: str
    priority: str
    target: int


class DomainRow(Row):
    key: str
    name: str
    controls: list[ControlRow]


class BenchmarkOut(BaseModel):
    campaign: CampaignRef
    catalogue: CatalogueRef
    scope: str = Field(description="staff, authority or member")
    min_group: int
    quartile_method: str
    submitted: bool | None = Field(description="a member: whether it took part")
    member_types: list[MemberType]
    overall: Row
    domains: list[DomainRow]


class CoverageCell(BaseModel):
    n: int | None
    coverage: float | None = Field(description="mean share of the requirement's controls at target")
    fully_met: float | None = Field(description="share of members at target on every one of them")
    suppressed: str | None


class Requirement(BaseModel):
    ref: str
    title: str
    controls: list[str]
    sector: CoverageCell
    by_type: dict[str, CoverageCell]
    own: float | None = Field(default=None, description="a member: its own share of the controls at target")


class Chapter(BaseModel):
    name: str
    rows: list[Requirement]


class Framework(BaseModel):
    key: str
    name: str
    chapters: list[Chapter]


class HeatmapOut(BaseModel):
    campaign: CampaignRef
    catalogue: CatalogueRef
    scope: str
    min_group: int
    definition: str
    member_types: list[MemberType]
    submitted: bool | None
    frameworks: list[Framework]


@router.get("/campaigns/{campaign_id}/benchmark", response_model=BenchmarkOut, response_model_exclude_none=False,
            summary="The sector benchmark: per control, domain and overall, median, quartiles and members by level, "
                    "for the sector and each member type, small groups suppressed")
def get_benchmark(campaign_id: int, reader: CurrentReader, conn: ReadConn, settings: SettingsDep) -> dict[str, Any]:
    return benchmark.benchmark_view(conn, reader=reader, campaign_id=campaign_id,
                                    min_group=settings.baseline_min_group)


@router.get("/campaigns/{campaign_id}/heatmap", response_model=HeatmapOut,
            summary="The regulatory heat map: coverage of each DORA and NIS2 article by the sector and member type")
def get_heatmap(campaign_id: int, reader: CurrentReader, conn: ReadConn, settings: SettingsDep) -> dict[str, Any]:
    return heatmap.heatmap_view(conn, reader=reader, campaign_id=campaign_id, min_group=settings.baseline_min_group)


def _feedback(conn: Connection, reader: Reader, settings: Settings, campaign_id: int, organisation_id: int | None
              ) -> dict[str, Any]:
    return feedback.feedback_view(conn, reader=reader, campaign_id=campaign_id, organisation_id=organisation_id,
                                  min_group=settings.baseline_min_group)


@router.get("/campaigns/{campaign_id}/feedback.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the report, A4, TLP:AMBER+STRICT"}},
            summary="Your organisation's feedback report as PDF (CERT staff: any member's, by organisation_id)")
def feedback_pdf(campaign_id: int, reader: CurrentReader, conn: ReadConn, settings: SettingsDep,
                 organisation_id: Organisation = None) -> Response:
    model = _feedback(conn, reader, settings, campaign_id, organisation_id)
    return Response(report.render_pdf(model), media_type="application/pdf", headers={
        **_REPORT_HEADERS, "Content-Disposition": f'attachment; filename="{report.filename(model, "pdf")}"'})


@router.get("/campaigns/{campaign_id}/feedback.html", response_class=HTMLResponse,
            summary="Your organisation's feedback report as a standalone HTML document, for print")
def feedback_html(campaign_id: int, reader: CurrentReader, conn: ReadConn, settings: SettingsDep,
                  organisation_id: Organisation = None) -> HTMLResponse:
    model = _feedback(conn, reader, settings, campaign_id, organisation_id)
    return HTMLResponse(report.render_html(model), headers=_REPORT_HEADERS)


@router.get("/campaigns/{campaign_id}/feedback",
            summary="Your organisation's feedback report: position against the sector, gaps, what to do first")
def get_feedback(campaign_id: int, reader: CurrentReader, conn: ReadConn, settings: SettingsDep,
                 organisation_id: Organisation = None) -> dict[str, Any]:
    return _feedback(conn, reader, settings, campaign_id, organisation_id)


@router.get("/campaigns/{campaign_id}/feedback/{organisation_id}",
            summary="One member's feedback report (CERT staff; a member: its own only)")
def get_member_feedback(campaign_id: int, organisation_id: int, reader: CurrentReader, conn: ReadConn,
                        settings: SettingsDep) -> dict[str, Any]:
    return _feedback(conn, reader, settings, campaign_id, organisation_id)
