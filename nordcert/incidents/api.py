"""Routes of /api/v1/incidents: record a major ICT-related incident, see it classified and its reports
counted down, submit the reports, and export them in the reporting template's structure (DORA Art 19)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from nordcert.deps import CurrentReader, ReadConn, SettingsDep, WriteConn
from nordcert.incidents import sector as sector_view
from nordcert.incidents import service
from nordcert.incidents.schemas import (
    REPORT_SCHEMAS,
    ClassificationOut,
    IncidentCreate,
    IncidentOut,
    IncidentSummary,
    IncidentUpdate,
    Kind,
    Status,
)

router = APIRouter(tags=["incidents"])

_REPORT_EXAMPLE = {
    "report_currency": "DKK", "entity_lei": "529900NORDCERTTEST79", "entity_types": ["credit_institution"],
    "primary_contact": {"name": "Ida Risk", "email": "ida@alphabank.example", "phone": "+45 33 12 34 56"},
    "discovery": "monitoring_systems", "business_continuity_activated": True,
}


@router.post("/incidents", response_model=IncidentOut, status_code=201,
             summary="Record an incident of your organisation; it is classified and its deadlines start")
def create_incident(body: IncidentCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.record_incident(conn, reader, **body.model_dump(exclude={"facts"}), facts=body.facts)


@router.get("/incidents", response_model=list[IncidentSummary],
            summary="Incidents you may see (your organisation's; CERT staff: all), newest detection first")
def list_incidents(
    reader: CurrentReader, conn: ReadConn,
    status: Status | None = None,
    major: bool | None = None,
    overdue: Annotated[bool | None, Query(description="A report is past its deadline")] = None,
    organisation: Annotated[str | None, Query(description="Name or short name (useful to CERT staff)")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> list[dict[str, Any]]:
    return service.list_incidents(conn, reader, status=status, major=major, overdue=overdue,
                                  organisation=organisation, limit=limit)


@router.get("/incidents/sector",
            summary="The sector's incidents counted by month, severity, type, criterion, status and member type, "
            "and the summaries members shared (CERT staff, authorities' risk officers)")
def sector(reader: CurrentReader, conn: ReadConn, settings: SettingsDep,
           months: Annotated[int, Query(ge=1, le=120, description="Months back from this one")] = 12,
           ) -> dict[str, Any]:
    return sector_view.sector_overview(conn, reader, settings, months=months)


class ShareSummary(BaseModel):
    summary: str = Field(min_length=1, max_length=20_000,
                         description="What happened and what others should look for, in your words, without client "
                         "data: nothing else of the incident is shared but its severity, criteria met and types.")
    title: str | None = Field(default=None, max_length=200)
    tlp: Literal["clear", "green", "amber", "amber+strict"] = "amber"
    group: str | None = Field(default=None, description="A sharing group (AMBER, AMBER+STRICT)")
    anonymous: bool = Field(default=True, description="Hide your organisation's name from the other members")
    include_links: bool = Field(default=True, description="Relate the summary to the intel objects linked to it")


@router.post("/incidents/{incident_id}/share", status_code=201,
             summary="Share an anonymised summary of your incident with the sector, as intel under a TLP")
def share(incident_id: int, body: ShareSummary, reader: CurrentReader, conn: WriteConn,
          settings: SettingsDep) -> dict[str, Any]:
    return sector_view.share_summary(conn, reader, settings, incident_id, **body.model_dump())


@router.get("/incidents/{incident_id}", response_model=IncidentOut,
            summary="One incident: classification, deadlines, reports and intel links")
def get_incident(incident_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.get_incident(conn, reader, incident_id)


@router.patch("/incidents/{incident_id}", response_model=IncidentOut,
              summary="Change an incident: facts are merged, links replaced; it is classified again")
def update_incident(incident_id: int, body: IncidentUpdate, reader: CurrentReader, conn: WriteConn
                    ) -> dict[str, Any]:
    return service.update_incident(conn, reader, incident_id, changes=body.model_dump(exclude_unset=True))


@router.get("/incidents/{incident_id}/classification", response_model=ClassificationOut,
            summary="Every criterion of CDR 2024/1772, met or not and why, and whether the incident is major")
def classification(incident_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.classify_incident(conn, reader, incident_id)


@router.post(
    "/incidents/{incident_id}/reports/{kind}", response_model=IncidentOut, status_code=201,
    summary="Submit the initial notification, an intermediate report or the final report",
    description="Reports come in order: the initial notification (major incidents only), then intermediate "
    "reports, then the final report. The body holds the report's fields (schemas below, by kind); fields every "
    "report holds, and an updated intermediate report's fields, are carried over from the previous report. "
    "A report that is out of order is refused with 409, one that lacks fields with 422 naming each.",
    openapi_extra={"x-report-schemas": REPORT_SCHEMAS},
)
def submit_report(
    incident_id: int, kind: Kind, reader: CurrentReader, conn: WriteConn,
    content: Annotated[dict[str, Any], Body(examples=[_REPORT_EXAMPLE])],
) -> dict[str, Any]:
    return service.submit_report(conn, reader, incident_id, kind=kind, content=content)


@router.get("/incidents/{incident_id}/export",
            summary="A submitted report in the JSON structure of the reporting template (CIR 2025/302 Annex I)")
def export(incident_id: int, reader: CurrentReader, conn: ReadConn,
           kind: Annotated[Kind | None, Query(description="Default: the latest report submitted")] = None,
           ) -> dict[str, Any]:
    return service.export_json(conn, reader, incident_id, kind=kind)
