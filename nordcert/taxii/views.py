"""TAXII 2.1 endpoints under /taxii2/ (TAXII 2.1 §4-§5): thin views over nordcert.taxii.service.

Each request costs at most two trips to the worker threads: one to authenticate (the reader
dependency) and one for the endpoint's own transaction. The checks that need no store (content
negotiation, the add's body) run on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from nordcert import __version__
from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.deps import current_reader, optional_reader
from nordcert.errors import Invalid, NotAcceptable, TooLarge, UnsupportedMediaType
from nordcert.sharing.policy import Reader
from nordcert.taxii import collections, service
from nordcert.taxii.service import Match, Page

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "/taxii2/api/"


async def _accepts(request: Request) -> None:
    """Content negotiation (TAXII 2.1 §1.6.8): answer 406 unless the client takes TAXII 2.1 JSON."""
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media, *params = [p.strip().lower() for p in part.split(";")]
        version = next((p.split("=", 1)[1].strip() for p in params if p.startswith("version=")), None)
        if media in ("application/taxii+json", "application/*", "*/*") and version in (None, "2.1"):
            return
    raise NotAcceptable(f"the server answers {TAXII_MEDIA_TYPE}; the request accepts {accept or 'nothing'}")


def _authenticate(request: Request) -> Reader:
    return current_reader(optional_reader(request))


async def _reader(request: Request) -> Reader:
    """The authenticated reader, as ``nordcert.deps.CurrentReader`` resolves it, in one worker-thread trip."""
    return await run_in_threadpool(_authenticate, request)


router = APIRouter(prefix="/taxii2", tags=["taxii"], dependencies=[Depends(_accepts)])
Limit = Annotated[int | None, Query(ge=1, le=service.MAX_LIMIT)]
TaxiiReader = Annotated[Reader, Depends(_reader)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@contextmanager
def _store(request: Request, *, write: bool = False) -> Iterator[Connection]:
    """The endpoint's unit of work (as ``ReadConn``/``WriteConn``): committed, or rolled back if it raises."""
    with transaction(request.app.state.engine, write=write) as conn:
        yield conn


def _taxii(body: Any, *, status: int = 200, page: Page | None = None) -> Response:
    headers = {}
    if page is not None and page.first_added:
        headers["X-TAXII-Date-Added-First"] = page.first_added
        headers["X-TAXII-Date-Added-Last"] = page.last_added or page.first_added
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content=content, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def _match(request: Request, default_versions: str = "last") -> Match:
    q = request.query_params
    return Match.parse(added_after=q.get("added_after"), ids=q.get("match[id]"), types=q.get("match[type]"),
                       versions=q.get("match[version]"), spec_versions=q.get("match[spec_version]"),
                       default_versions=default_versions)


@router.get("/", summary="Discovery (TAXII 2.1 §4.1)")
async def discovery(request: Request, _reader: TaxiiReader) -> Response:
    settings = _settings(request)
    return _taxii({
        "title": f"{settings.instance_name} TAXII 2.1 server",
        "description": "Threat intelligence shared by the sector's members under TLP 2.0 and sharing groups.",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    })


@router.get("/api/", summary="API root information (TAXII 2.1 §4.2)")
async def api_root(request: Request, _reader: TaxiiReader) -> Response:
    settings = _settings(request)
    return _taxii({
        "title": settings.instance_name,
        "description": f"nordcert {__version__}",
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": settings.max_request_bytes,
    })


@router.get("/api/status/{status_id}/", summary="Status of an add (TAXII 2.1 §4.3)")
def status(status_id: str, request: Request, reader: TaxiiReader) -> Response:
    with _store(request) as conn:
        return _taxii(service.get_status(conn, reader, status_id))


@router.get("/api/collections/", summary="Collections you may read or write (TAXII 2.1 §5.1)")
def list_collections(request: Request, reader: TaxiiReader) -> Response:
    with _store(request) as conn:
        found = [c.as_taxii() for c in collections.for_reader(conn, reader)]
    return _taxii({"collections": found} if found else {})


@router.get("/api/collections/{collection_id}/", summary="One collection (TAXII 2.1 §5.2)")
def get_collection(collection_id: str, request: Request, reader: TaxiiReader) -> Response:
    with _store(request) as conn:
        return _taxii(collections.get_for_reader(conn, reader, collection_id).as_taxii())


@router.get("/api/collections/{collection_id}/objects/", summary="Objects (TAXII 2.1 §5.4)")
def get_objects(collection_id: str, request: Request, reader: TaxiiReader, limit: Limit = None,
                next: str | None = None) -> Response:
    with _store(request) as conn:
        coll = collections.get_for_reader(conn, reader, collection_id)
        page = service.get_objects(conn, reader, coll, _match(request), _settings(request), limit=limit, next_=next)
    return _taxii(_envelope(page), page=page)


def _envelope(page: Page) -> bytes:
    head = b'{"more":' + (b"true" if page.more else b"false")
    if page.next:
        head += b',"next":' + orjson.dumps(page.next)
    if not page.bodies:
        return head + b"}"
    return head + b',"objects":[' + ",".join(page.bodies).encode() + b"]}"


@router.post("/api/collections/{collection_id}/objects/", status_code=202, summary="Add objects (TAXII 2.1 §5.4)")
async def add_objects(collection_id: str, request: Request, reader: TaxiiReader) -> Response:
    settings = _settings(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/taxii+json", "application/json"):
        raise UnsupportedMediaType(f"send the envelope as {TAXII_MEDIA_TYPE}, not {media or 'no content type'}")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_request_bytes:
        raise TooLarge(f"the body exceeds max_content_length ({settings.max_request_bytes} bytes)")
    body = await request.body()
    if len(body) > settings.max_request_bytes:
        raise TooLarge(f"the body exceeds max_content_length ({settings.max_request_bytes} bytes)")
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None
    return _taxii(await run_in_threadpool(_add, request, reader, settings, collection_id, envelope), status=202)


def _add(request: Request, reader: Reader, settings: Settings, collection_id: str, envelope: Any) -> dict[str, Any]:
    try:
        with _store(request, write=True) as conn:
            coll = collections.get_for_reader(conn, reader, collection_id)
            sub = service.submission_for_collection(conn, reader, coll)
            return service.add_objects(conn, reader, coll, envelope, settings, sub)
    except service.Rejected as rejected:  # nothing of the envelope was stored: its transaction rolled back
        with _store(request, write=True) as conn:
            return service.save_rejected(conn, reader, rejected)


@router.get("/api/collections/{collection_id}/objects/{object_id}/", summary="One object (TAXII 2.1 §5.5)")
def get_object(collection_id: str, object_id: str, request: Request, reader: TaxiiReader, limit: Limit = None,
               next: str | None = None) -> Response:
    with _store(request) as conn:
        coll = collections.get_for_reader(conn, reader, collection_id)
        page = service.get_object(conn, reader, coll, object_id, _match(request), _settings(request), limit=limit,
                                  next_=next)
    return _taxii(_envelope(page), page=page)


@router.delete("/api/collections/{collection_id}/objects/{object_id}/", summary="Delete an object (TAXII 2.1 §5.7)")
def delete_object(collection_id: str, object_id: str, request: Request, reader: TaxiiReader) -> Response:
    with _store(request, write=True) as conn:
        coll = collections.get_for_reader(conn, reader, collection_id)
        service.delete_object(conn, reader, coll, object_id, _match(request, default_versions="all"))
    return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)


@router.get("/api/collections/{collection_id}/objects/{object_id}/versions/",
            summary="Versions of an object (TAXII 2.1 §5.8)")
def object_versions(collection_id: str, object_id: str, request: Request, reader: TaxiiReader, limit: Limit = None,
                    next: str | None = None) -> Response:
    with _store(request) as conn:
        coll = collections.get_for_reader(conn, reader, collection_id)
        page, found = service.versions(conn, reader, coll, object_id, _match(request), limit=limit, next_=next)
    body: dict[str, Any] = {"more": page.more, "versions": found}
    if page.next:
        body["next"] = page.next
    return _taxii(body, page=page)


@router.get("/api/collections/{collection_id}/manifest/", summary="Manifest (TAXII 2.1 §5.6)")
def get_manifest(collection_id: str, request: Request, reader: TaxiiReader, limit: Limit = None,
                 next: str | None = None) -> Response:
    with _store(request) as conn:
        coll = collections.get_for_reader(conn, reader, collection_id)
        page, records = service.manifest(conn, reader, coll, _match(request), limit=limit, next_=next)
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if records:
        body["objects"] = records
    return _taxii(body, page=page)
