"""Routes of /api/v1/crises: CERT staff declare a crisis and broadcast; members report the status of their
critical services; everyone follows the situation picture, its timeline and what changed since the last
briefing; lessons learned become follow-up actions with owners and due dates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from nordcert.crisis import followup, picture, service
from nordcert.crisis import status as status_reports
from nordcert.crisis.schemas import (
    ActionCreate,
    ActionOut,
    ActionState,
    ActionUpdate,
    BriefingCreate,
    BriefingOut,
    BroadcastCreate,
    BroadcastOut,
    ChangesOut,
    CrisisClose,
    CrisisCreate,
    CrisisOut,
    CrisisState,
    CrisisUpdate,
    LessonCreate,
    LessonOut,
    PictureOut,
    ServiceOut,
    StatusReportOut,
    StatusSubmission,
    TimelineOut,
)
from nordcert.deps import CurrentReader, ReadConn, WriteConn

router = APIRouter(tags=["crises"])
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]

# Fixed paths come before /crises/{crisis_id}, which would otherwise take them.


@router.get("/crises/services", response_model=list[ServiceOut], summary="The critical services members report on")
def list_services(reader: CurrentReader) -> list[dict[str, str]]:
    return [{"id": s, "name": n} for s, n in service.SERVICES.items()]


@router.get("/crises/broadcasts", response_model=list[BroadcastOut],
            summary="Broadcasts of every crisis, newest first")
def all_broadcasts(reader: CurrentReader, conn: ReadConn, limit: Limit = 100) -> list[dict[str, Any]]:
    return service.list_broadcasts(conn, reader, limit=limit)


@router.get("/crises/actions", response_model=list[ActionOut],
            summary="Follow-up actions you may see (your organisation's; CERT staff: all), soonest due first")
def list_all_actions(
    reader: CurrentReader, conn: ReadConn, status: ActionState | None = None,
    overdue: Annotated[bool | None, Query(description="Open and past the due date")] = None, limit: Limit = 100,
) -> list[dict[str, Any]]:
    return followup.list_actions(conn, reader, status=status, overdue=overdue, limit=limit)


@router.patch("/crises/actions/{action_id}", response_model=ActionOut,
              summary="Change an action (CERT staff), or mark it done or open again (its owner organisation)")
def update_action(action_id: int, body: ActionUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return followup.update_action(conn, reader, action_id, changes=body.model_dump(exclude_unset=True))


@router.post("/crises", response_model=CrisisOut, status_code=201,
             summary="Declare a crisis (CERT staff); the members are notified by a broadcast")
def declare(body: CrisisCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.declare_crisis(conn, reader, **body.model_dump())


@router.get("/crises", response_model=list[CrisisOut], summary="Crises, newest first")
def list_crises(reader: CurrentReader, conn: ReadConn, status: CrisisState | None = None,
                exercise: bool | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    return service.list_crises(conn, reader, status=status, exercise=exercise, limit=limit)


@router.get("/crises/{crisis_id}", response_model=CrisisOut, summary="One crisis")
def get_crisis(crisis_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return service.get_crisis(conn, reader, crisis_id)


@router.patch("/crises/{crisis_id}", response_model=CrisisOut,
              summary="Change a crisis's title, scope or severity (CERT staff)")
def update_crisis(crisis_id: int, body: CrisisUpdate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.update_crisis(conn, reader, crisis_id, changes=body.model_dump(exclude_unset=True))


@router.post("/crises/{crisis_id}/close", response_model=CrisisOut,
             summary="Close a crisis with a summary (CERT staff); it then takes no more status reports")
def close(crisis_id: int, body: CrisisClose, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.close_crisis(conn, reader, crisis_id, summary=body.summary)


@router.post("/crises/{crisis_id}/broadcasts", response_model=BroadcastOut, status_code=201,
             summary="Broadcast a message to every member (CERT staff)")
def broadcast(crisis_id: int, body: BroadcastCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return service.post_broadcast(conn, reader, crisis_id, body=body.body)


@router.get("/crises/{crisis_id}/broadcasts", response_model=list[BroadcastOut],
            summary="The crisis's broadcasts, newest first")
def broadcasts(crisis_id: int, reader: CurrentReader, conn: ReadConn, limit: Limit = 100) -> list[dict[str, Any]]:
    return service.list_broadcasts(conn, reader, crisis_id=crisis_id, limit=limit)


@router.post(
    "/crises/{crisis_id}/status", response_model=list[StatusReportOut], status_code=201,
    summary="Report your organisation's status of one or more critical services",
    description="All items are stored or none: an unknown service or status, a service given twice or a time in "
    "the future is refused with 422 naming each item; a closed crisis refuses with 409.",
)
def submit_status(crisis_id: int, body: StatusSubmission, reader: CurrentReader, conn: WriteConn
                  ) -> list[dict[str, Any]]:
    return status_reports.submit_status(conn, reader, crisis_id, statuses=[item.model_dump() for item in body.statuses])


@router.get("/crises/{crisis_id}/status", response_model=list[StatusReportOut],
            summary="Status reports you may see (your organisation's; CERT staff: all), newest first")
def status_history(
    crisis_id: int, reader: CurrentReader, conn: ReadConn,
    organisation_id: Annotated[int | None, Query(description="Useful to CERT staff")] = None,
    service_id: Annotated[str | None, Query(alias="service")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.MAX_PAGE,
) -> list[dict[str, Any]]:
    return status_reports.list_status_reports(conn, reader, crisis_id, organisation_id=organisation_id,
                                              service=service_id, limit=limit)


@router.get("/crises/{crisis_id}/picture", response_model=PictureOut,
            summary="The situation picture: latest status by service and member type (CERT staff: per member)")
def situation_picture(crisis_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return picture.situation_picture(conn, reader, crisis_id)


@router.get("/crises/{crisis_id}/timeline", response_model=TimelineOut,
            summary="Members per service and status over time, per bucket")
def timeline(crisis_id: int, reader: CurrentReader, conn: ReadConn,
             bucket_minutes: Annotated[int, Query(ge=1, le=1440)] = 60) -> dict[str, Any]:
    return picture.timeline(conn, reader, crisis_id, bucket_minutes=bucket_minutes)


@router.post("/crises/{crisis_id}/briefings", response_model=BriefingOut, status_code=201,
             summary="Record a briefing (CERT staff): what changed is measured from it")
def record_briefing(crisis_id: int, body: BriefingCreate, reader: CurrentReader, conn: WriteConn
                    ) -> dict[str, Any]:
    return picture.record_briefing(conn, reader, crisis_id, text=body.text)


@router.get("/crises/{crisis_id}/briefings", response_model=list[BriefingOut],
            summary="The crisis's briefings, newest first (CERT staff)")
def briefings(crisis_id: int, reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return picture.list_briefings(conn, reader, crisis_id)


@router.get("/crises/{crisis_id}/changes", response_model=ChangesOut,
            summary="What changed since the last briefing (CERT staff: per member and service)")
def changes(crisis_id: int, reader: CurrentReader, conn: ReadConn) -> dict[str, Any]:
    return picture.changes_since_briefing(conn, reader, crisis_id)


@router.post("/crises/{crisis_id}/lessons", response_model=LessonOut, status_code=201,
             summary="Record a lesson learned (CERT staff)")
def record_lesson(crisis_id: int, body: LessonCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return followup.record_lesson(conn, reader, crisis_id, text=body.text)


@router.get("/crises/{crisis_id}/lessons", response_model=list[LessonOut], summary="Lessons learned")
def lessons(crisis_id: int, reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return followup.list_lessons(conn, reader, crisis_id)


@router.post("/crises/{crisis_id}/actions", response_model=ActionOut, status_code=201,
             summary="Assign a follow-up action to an organisation (and optionally one of its users) (CERT staff)")
def add_action(crisis_id: int, body: ActionCreate, reader: CurrentReader, conn: WriteConn) -> dict[str, Any]:
    return followup.add_action(conn, reader, crisis_id, **body.model_dump())


@router.get("/crises/{crisis_id}/actions", response_model=list[ActionOut],
            summary="The crisis's follow-up actions you may see, soonest due first")
def actions(crisis_id: int, reader: CurrentReader, conn: ReadConn, status: ActionState | None = None,
            overdue: bool | None = None, limit: Limit = 100) -> list[dict[str, Any]]:
    return followup.list_actions(conn, reader, crisis_id=crisis_id, status=status, overdue=overdue, limit=limit)
