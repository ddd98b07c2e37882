"""The MISP feed over HTTP: what a MISP instance subscribes to (MISP feed format: ``manifest.json``,
``hashes.csv``, ``<uuid>.json``), for an authenticated caller and only what that caller may see.

Each answer carries an ``ETag`` that changes when what the caller may see changes; a request with
a matching ``If-None-Match`` gets 304 without the feed being built (RFC 9110 §13.1.2).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from nordcert.audit import service as audit
from nordcert.deps import CurrentReader, ReadConn, SettingsDep
from nordcert.errors import NotFound
from nordcert.formats import misp_export
from nordcert.formats.feeds_api import etag_matches

router = APIRouter(prefix="/feeds/misp", tags=["feeds"])

_JSON = "application/json"


def _not_modified(request: Request, etag: str) -> Response | None:
    if etag_matches(request.headers.get("if-none-match"), f'"{etag}"'):
        return Response(status_code=304, headers={"ETag": f'"{etag}"'})
    return None


@router.get("/manifest.json")
def manifest(request: Request, conn: ReadConn, reader: CurrentReader, settings: SettingsDep) -> Response:
    """The feed's manifest: event uuid → Orgc, Tag, info, date, analysis, threat_level_id, timestamp."""
    etag = misp_export.feed_etag(conn, reader)
    cached = _not_modified(request, etag)
    if cached is not None:
        return cached
    found = misp_export.feed_manifest(conn, reader, settings)
    audit.record_export(request.app.state.engine, reader, "misp/manifest.json", {"etag": etag, "events": len(found)})
    body = orjson.dumps(found)
    return Response(body, media_type=_JSON, headers={"ETag": f'"{etag}"'})


@router.get("/hashes.csv")
def hashes(request: Request, conn: ReadConn, reader: CurrentReader, settings: SettingsDep) -> Response:
    """One line per attribute value: its MD5, the event uuid."""
    etag = misp_export.feed_etag(conn, reader)
    cached = _not_modified(request, etag)
    if cached is not None:
        return cached
    lines = list(misp_export.feed_hashes(conn, reader, settings))  # built inside the request's transaction
    audit.record_export(request.app.state.engine, reader, "misp/hashes.csv", {"etag": etag, "lines": len(lines)})
    return StreamingResponse(iter(lines), media_type="text/csv", headers={"ETag": f'"{etag}"'})


@router.get("/{event_uuid}.json")
def event(event_uuid: str, request: Request, conn: ReadConn, reader: CurrentReader,
          settings: SettingsDep) -> Response:
    """One event as MISP feed JSON; 404 for an event the caller may not see, as for one that does not exist."""
    etag = misp_export.feed_etag(conn, reader)
    cached = _not_modified(request, etag)
    if cached is not None:
        return cached
    found = misp_export.feed_event(conn, reader, settings, event_uuid)
    if found is None:
        raise NotFound(f"no MISP event {event_uuid}")
    head = found.get("Event", {})
    audit.record_export(request.app.state.engine, reader, f"misp/{event_uuid}.json", {
        "etag": etag, "event": event_uuid, "attributes": len(head.get("Attribute", [])),
        "objects": len(head.get("Object", [])), "tags": [t.get("name") for t in head.get("Tag", [])][:20]})
    return Response(orjson.dumps(found), media_type=_JSON, headers={"ETag": f'"{etag}"'})
