"""Routes of /api/v1/objects: submit STIX bundles, read, search, version and revoke objects."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.deps import CurrentReader, OptionalReader, ReadConn, SettingsDep, WriteConn
from nordcert.errors import Invalid
from nordcert.intel import service
from nordcert.intel.bundle import objects_from_bytes
from nordcert.intel.ingest import ingest
from nordcert.intel.schemas import IngestSummary, ObjectOut, ObjectPage, VersionsOut
from nordcert.intel.submission import submission_for
from nordcert.intel.validate import ObjectError, timestamp_us
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

router = APIRouter(tags=["intel"])
TlpParam = Literal["clear", "green", "amber", "amber+strict", "red"]

_BUNDLE_EXAMPLE = {
    "type": "bundle",
    "id": "bundle--6b5d9b1e-7b5a-4a47-9d0b-1f3d0f6c2a10",
    "objects": [{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-11-20T08:00:00.000Z", "modified": "2026-11-20T08:00:00.000Z",
        "name": "Phishing domain imitating Alpha Bank", "pattern_type": "stix",
        "pattern": "[domain-name:value = 'alphabank-secure-login.example']", "valid_from": "2026-11-20T08:00:00Z",
    }],
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Invalid(f"the body is larger than {limit} bytes: import it with `nordcert import` instead")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Invalid(f"the body is larger than {limit} bytes: import it with `nordcert import` instead")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/objects",
    status_code=201,
    response_model=IngestSummary,
    summary="Submit a STIX 2.1 bundle (all or nothing)",
    description="The body is a STIX 2.1 bundle (or a JSON array of objects). Every object is validated; "
    "one invalid object rejects the whole batch with 422 and a list of (index, id, reason), and nothing is "
    "stored. The TLP is the strictest of each object's TLP marking and the `tlp` parameter; a `group` "
    "implies at least AMBER, `recipient`s imply RED.",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"example": _BUNDLE_EXAMPLE}}}},
)
async def submit(
    request: Request,
    reader: CurrentReader,
    settings: SettingsDep,
    tlp: TlpParam | None = None,
    group: str | None = None,
    recipient: Annotated[list[str], Query(description="named recipient organisation (TLP:RED)")] = [],  # noqa: B006
    anonymous: bool = False,
    legal_basis: Annotated[str | None, Query(description="legal basis of the personal data submitted (a key of "
                                                         "GET /api/v1/privacy/legal-bases); default: the instance's")
                           ] = None,
) -> dict[str, Any]:
    objects = objects_from_bytes(await _read_body(request, settings.max_request_bytes))
    return await run_in_threadpool(_submit_sync, request, reader, settings, objects, tlp, group, recipient, anonymous,
                                   legal_basis)


def _submit_sync(request: Request, reader: Reader, settings: Settings, objects: list[Any], tlp: str | None,
                 group: str | None, recipients: list[str], anonymous: bool, legal_basis: str | None
                 ) -> dict[str, Any]:
    with transaction(request.app.state.engine) as conn:
        sub = submission_for(conn, reader, tlp=tlp, group=group, recipients=recipients, anonymous=anonymous,
                             legal_basis=legal_basis)
        return ingest(conn, objects, sub, settings).as_dict()


@router.get(
    "/objects", response_model=ObjectPage,
    summary="List and search the objects you may see (latest versions)")
def list_objects(
    reader: OptionalReader,
    conn: ReadConn,
    settings: SettingsDep,
    type: Annotated[list[str], Query(description="STIX type; repeat for several")] = [],  # noqa: B006
    creator: Annotated[str | None, Query(description="creator organisation's name or short name")] = None,
    tlp: TlpParam | None = None,
    added_after: Annotated[str | None, Query(description="STIX timestamp: only objects added after it")] = None,
    label: str | None = None,
    q: Annotated[str | None, Query(description="text in name or description")] = None,
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(description="the `next` value of the previous page")] = None,
    order: Literal["newest", "oldest"] = "newest",
) -> dict[str, Any]:
    try:
        after = timestamp_us(added_after, "added_after") if added_after else None
    except ObjectError as exc:
        raise Invalid(str(exc)) from None
    filters = service.ObjectFilter(
        types=tuple(type), creator=creator, tlp=Tlp.parse(tlp) if tlp else None, added_after=after,
        label=label, text=q, include_revoked=include_revoked,
    )
    page = service.list_objects(conn, reader, settings, filters=filters, limit=limit, cursor=cursor,
                                newest_first=order == "newest")
    return {"objects": page.objects, "next": page.next}


@router.get(
    "/objects/{stix_id}", response_model=ObjectOut,
    summary="One object: its latest version, or ?version=<modified>")
def get_object(stix_id: str, reader: OptionalReader, conn: ReadConn, settings: SettingsDep,
               version: str | None = None) -> dict[str, Any]:
    return service.get_object(conn, reader, stix_id, settings, version=version)


@router.get(
    "/objects/{stix_id}/versions", response_model=VersionsOut,
    summary="The versions of an object you may see")
def get_versions(stix_id: str, reader: OptionalReader, conn: ReadConn) -> dict[str, Any]:
    return {"id": stix_id, "versions": service.versions(conn, reader, stix_id)}


@router.post(
    "/objects/{stix_id}/revoke", response_model=ObjectOut,
    summary="Revoke an object (creator organisation or CERT staff)")
def revoke(stix_id: str, reader: CurrentReader, conn: WriteConn, settings: SettingsDep) -> dict[str, Any]:
    return service.revoke(conn, reader, stix_id, settings)
