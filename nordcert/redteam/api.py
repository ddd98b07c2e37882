"""Routes of /api/v1/redteam: members' TIBER-EU tests and DORA TLPTs with their phases, dates and deadlines,
people, findings and remediation; the authority's attestation; the sector's anonymised findings.

A test is secret: within the tested member only the users linked in its control team see it, and everyone who may
not see it gets 404, as for a test that does not exist (:mod:`nordcert.redteam.access`). Bad input answers 422
naming each field; a move other than to the next phase, 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from nordcert.deps import CurrentReader, ReadConn, SettingsDep, WriteConn
from nordcert.redteam import findings, lifecycle, remediation, roles, sector, service
from nordcert.redteam.schemas import (
    Advance,
    AttestationIn,
    EngagementCreate,
    EngagementDetail,
    EngagementOut,
    EngagementUpdate,
    FindingCreate,
    FindingDetail,
    FindingOut,
    FindingUpdate,
    MeasureCreate,
    MeasureOut,
    MeasureUpdate,
    NoteCreate,
    PhaseDatesIn,
    RoleCreate,
    RoleOut,
    RoleUpdate,
    SectorOut,
)

router = APIRouter(prefix="/redteam", tags=["red-team tests"])


@router.get("/sector", response_model=SectorOut,
            summary="The sector's findings by category and severity, anonymised; small groups suppressed")
def sector_view(reader: CurrentReader, conn: ReadConn, settings: SettingsDep) -> dict[str, Any]:
    return sector.sector_findings(conn, reader=reader, min_group=settings.baseline_min_group)


# --- engagements ----------------------------------------------------------------------------------


@router.get("/engagements", response_model=list[EngagementOut],
            summary="The tests you may see, newest first, with phase and next deadline")
def list_engagements(reader: CurrentReader, conn: ReadConn, organisation_id: int | None = None,
                     phase: Annotated[str | None, Query(description="Only tests in this phase")] = None
                     ) -> list[dict[str, Any]]:
    return service.list_engagements(conn, reader=reader, organisation_id=organisation_id, phase=phase)


@router.post("/engagements", response_model=EngagementDetail, status_code=201,
             summary="Open a test of a member (CERT staff, the authority's risk officers)")
def create_engagement(body: EngagementCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.create_engagement(conn, reader=reader, **body.model_dump())


@router.get("/engagements/{engagement_id}", response_model=EngagementDetail, summary="One test")
def get_engagement(engagement_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.get_engagement(conn, reader=reader, engagement_id=engagement_id)


@router.patch("/engagements/{engagement_id}", response_model=EngagementDetail,
              summary="Change the scope, providers, name or dates of a test (its control team, CERT staff)")
def update_engagement(engagement_id: int, body: EngagementUpdate, reader: CurrentReader, conn: WriteConn
                      ) -> dict[str, Any]:
    return service.update_engagement(conn, reader=reader, engagement_id=engagement_id,
                                     changes=body.model_dump(exclude_unset=True))


@router.delete("/engagements/{engagement_id}", status_code=204, summary="Delete a test (CERT staff)")
def delete_engagement(engagement_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    service.delete_engagement(conn, reader=reader, engagement_id=engagement_id)
    return Response(status_code=204)


@router.put("/engagements/{engagement_id}/phases/{phase}", response_model=EngagementDetail,
            summary="Set one phase's planned and actual dates")
def set_phase_dates(engagement_id: int, phase: str, body: PhaseDatesIn, reader: CurrentReader, conn: WriteConn
                    ) -> dict[str, Any]:
    return lifecycle.set_phase_dates(conn, reader=reader, engagement_id=engagement_id, phase=phase,
                                     **body.model_dump())


@router.post("/engagements/{engagement_id}/advance", response_model=EngagementDetail,
             summary="Move the test to its next phase (409 for any other move)")
def advance(engagement_id: int, body: Advance, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return lifecycle.advance(conn, reader=reader, engagement_id=engagement_id, to=body.to, on=body.on)


@router.post("/engagements/{engagement_id}/attestation", response_model=EngagementDetail,
             summary="Attest the test (the authority's risk officers, CERT staff); the next is due 3 years later")
def attest(engagement_id: int, body: AttestationIn, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return lifecycle.attest(conn, reader=reader, engagement_id=engagement_id, **body.model_dump())


# --- people ---------------------------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/roles", response_model=list[RoleOut], summary="The people of a test")
def list_roles(engagement_id: int, reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return roles.list_roles(conn, reader=reader, engagement_id=engagement_id)


@router.post("/engagements/{engagement_id}/roles", response_model=RoleOut, status_code=201,
             summary="Add a person: control team (optionally linked to a user of the member), test manager, "
                     "providers' contacts")
def add_role(engagement_id: int, body: RoleCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return roles.add_role(conn, reader=reader, engagement_id=engagement_id, **body.model_dump())


@router.patch("/roles/{role_id}", response_model=RoleOut, summary="Change a person of a test")
def update_role(role_id: int, body: RoleUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return roles.update_role(conn, reader=reader, role_id=role_id, changes=body.model_dump(exclude_unset=True))


@router.delete("/roles/{role_id}", status_code=204, summary="Remove a person from a test")
def remove_role(role_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    roles.remove_role(conn, reader=reader, role_id=role_id)
    return Response(status_code=204)


# --- findings and remediation -----------------------------------------------------------------------


@router.get("/engagements/{engagement_id}/findings", response_model=list[FindingOut],
            summary="A test's findings, most severe first, with their measures and progress")
def list_findings(engagement_id: int, reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return findings.list_findings(conn, reader=reader, engagement_id=engagement_id)


@router.post("/engagements/{engagement_id}/findings", response_model=FindingDetail, status_code=201,
             summary="Record a finding (from active red teaming on)")
def add_finding(engagement_id: int, body: FindingCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return findings.add_finding(conn, reader=reader, engagement_id=engagement_id, **body.model_dump())


@router.get("/findings/{finding_id}", response_model=FindingDetail, summary="One finding with its measures")
def get_finding(finding_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return findings.get_finding(conn, reader=reader, finding_id=finding_id)


@router.patch("/findings/{finding_id}", response_model=FindingDetail, summary="Change a finding")
def update_finding(finding_id: int, body: FindingUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return findings.update_finding(conn, reader=reader, finding_id=finding_id,
                                   changes=body.model_dump(exclude_unset=True))


@router.delete("/findings/{finding_id}", status_code=204, summary="Delete a finding with its measures")
def delete_finding(finding_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    findings.delete_finding(conn, reader=reader, finding_id=finding_id)
    return Response(status_code=204)


@router.post("/findings/{finding_id}/measures", response_model=MeasureOut, status_code=201,
             summary="Add a remediation measure to a finding")
def add_measure(finding_id: int, body: MeasureCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return remediation.add_measure(conn, reader=reader, finding_id=finding_id, **body.model_dump())


@router.get("/measures/{measure_id}", response_model=MeasureOut,
            summary="One measure with its notes and status history")
def get_measure(measure_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return remediation.get_measure(conn, reader=reader, measure_id=measure_id)


@router.patch("/measures/{measure_id}", response_model=MeasureOut,
              summary="Change a measure; a new status is kept in its history")
def update_measure(measure_id: int, body: MeasureUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return remediation.update_measure(conn, reader=reader, measure_id=measure_id,
                                      changes=body.model_dump(exclude_unset=True))


@router.delete("/measures/{measure_id}", status_code=204, summary="Delete a measure")
def delete_measure(measure_id: int, reader: CurrentReader, conn: WriteConn) -> Response:
    remediation.delete_measure(conn, reader=reader, measure_id=measure_id)
    return Response(status_code=204)


@router.post("/measures/{measure_id}/notes", response_model=MeasureOut, status_code=201,
             summary="Add a dated note to a measure")
def add_note(measure_id: int, body: NoteCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return remediation.add_note(conn, reader=reader, measure_id=measure_id, text=body.text)
