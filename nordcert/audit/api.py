"""Routes of /api/v1/audit: the audit trail, newest first, for CERT staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from nordcert.audit import service
from nordcert.deps import CurrentReader, ReadConn
from nordcert.intel.validate import timestamp_us

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="The audit trail, newest first (CERT staff)")
def list_events(
    reader: CurrentReader,
    conn: ReadConn,
    action: Annotated[str | None, Query(description="only this action, e.g. data_subject.erase; or, ending in "
                                                    "a dot, every action it begins, e.g. login.")] = None,
    actor: Annotated[str | None, Query(description="only events of this user (e-mail)")] = None,
    target: Annotated[str | None, Query(description="only events about this target, e.g. a STIX id")] = None,
    since: Annotated[str | None, Query(description="STIX timestamp: only events at or after it")] = None,
    before_id: Annotated[int | None, Query(description="the `next_before_id` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    start = timestamp_us(since, "since") if since else None
    return service.list_events(conn, reader=reader, action=action, since=start, before_id=before_id, limit=limit,
                               actor=actor, target=target)
