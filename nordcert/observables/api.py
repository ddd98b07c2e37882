"""Routes: screening lookup, correlations, observables and sightings of objects, warninglists."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from nordcert.accounts.service import require_cert_admin
from nordcert.db import transaction
from nordcert.deps import CurrentReader, ReadConn, SettingsDep, WriteConn, reader_in, touch
from nordcert.errors import Invalid, Unauthenticated
from nordcert.observables import service, sightings, warninglist_store
from nordcert.observables.schemas import (
    CorrelationsOut,
    LookupOut,
    LookupRequest,
    ObservableOut,
    SightingCreate,
    SightingCreated,
    SightingsOut,
    WarninglistOut,
)

router = APIRouter(tags=["observables"])


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


#: Lookups of at most this many values on a SQLite store are answered on the event loop itself: a
#: WAL read never waits for a writer, and takes less time than handing it to a worker thread.
INLINE_VALUES = 16


def _lookup(request: Request, values: list[Any], subdomains: bool, include_stale: bool,
            conn: Connection | None = None) -> tuple[Response, int | None]:
    """Authenticate and answer in one read transaction: the payment-screening hot path."""
    settings = request.app.state.settings
    with transaction(request.app.state.engine, write=False) if conn is None else _begun(conn) as tx:
        reader, stale = reader_in(tx, request)
        if reader is None:
            raise Unauthenticated("authentication required: Authorization: Bearer TOKEN")
        answer = service.lookup(tx, reader, settings, values, subdomains=subdomains, include_stale=include_stale)
    return _json(answer), stale


@contextmanager
def _begun(conn: Connection) -> Iterator[Connection]:
    with conn.begin():
        yield conn


def _event_loop_connection(request: Request) -> Connection:
    """The read connection kept for lookups answered on the event loop (only that thread uses it)."""
    conn: Connection | None = getattr(request.app.state, "lookup_connection", None)
    if conn is None or conn.closed or conn.invalidated:
        conn = request.app.state.engine.connect().execution_options(nordcert_write=False)
        request.app.state.lookup_connection = conn
    return conn


async def _answer(request: Request, values: list[Any], subdomains: bool, include_stale: bool) -> Response:
    engine = request.app.state.engine
    if len(values) <= INLINE_VALUES and engine.dialect.name == "sqlite":
        response, stale = _lookup(request, values, subdomains, include_stale, _event_loop_connection(request))
    else:
        response, stale = await run_in_threadpool(_lookup, request, values, subdomains, include_stale)
    if stale is not None:
        await run_in_threadpool(touch, engine, stale)  # a write: never on the event loop
    return response


@router.post(
    "/lookup", response_model=LookupOut, response_class=Response,
    summary="Screen up to 10,000 values (payment screening, SOC triage)",
    description="Each value is a string whose kind is detected (IP, CIDR, domain, URL, email, hash, IBAN, BIC, "
    "BIN, wallet, phone, ASN) or {kind, value}. The answer lists, per value in request order, the objects you "
    "may see that hold it (an address also matches a reported range that contains it; a URL also matches its "
    "host), the number of reporting members, and the warninglists it is on. A bad value gets an error of its "
    "own; the others are answered. A full card number is refused and masked in the answer.",
)
async def lookup_many(request: Request, body: LookupRequest) -> Response:
    values = [v if isinstance(v, str) else v.model_dump() for v in body.values]
    return await _answer(request, values, body.subdomains, body.include_stale)


_TRUE = frozenset({"1", "true", "on", "yes"})
_FALSE = frozenset({"0", "false", "off", "no"})


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false")


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


@router.get(
    "/lookup", response_model=LookupOut, response_class=Response, summary="Screen one value",
    description="The payment-screening hot path: one value, answered like one entry of POST /lookup.",
    openapi_extra={"parameters": [
        _query("value", "the value to screen", {"type": "string", "minLength": 1, "maxLength": 4096}, required=True),
        _query("kind", "its kind; detected when left out", {"type": "string"}),
        _query("subdomains", "a domain also matches its reported parent domains", {"type": "boolean",
                                                                                     "default": False}),
        _query("include_stale", "include stale matches", {"type": "boolean", "default": True}),
    ]},
)
async def lookup_one(request: Request) -> Response:
    # Parameters are read here rather than declared: FastAPI's parameter machinery costs more than
    # the lookup itself on this path. They are documented above for the OpenAPI spec.
    params = request.query_params
    value = params.get("value")
    if not value or len(value) > 4096:
        raise Invalid("value: give the value to screen (1 to 4096 characters)")
    kind = params.get("kind")
    item: Any = {"kind": kind, "value": value} if kind else value
    return await _answer(request, [item], _flag(request, "subdomains", False), _flag(request, "include_stale", True))


@router.get("/objects/{stix_id}/correlations", response_model=CorrelationsOut,
            summary="Who else reported the values of this object")
def correlations(stix_id: str, reader: CurrentReader, conn: ReadConn, settings: SettingsDep) -> dict[str, Any]:
    return service.correlations(conn, reader, settings, stix_id)


@router.get("/objects/{stix_id}/observables", response_model=list[ObservableOut],
            summary="The observables indexed for this object")
def observables(stix_id: str, reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return service.observables_of(conn, reader, stix_id)


@router.get("/objects/{stix_id}/sightings", response_model=SightingsOut,
            summary="Sightings of this object: count, members, last 7 days, trend")
def get_sightings(stix_id: str, reader: CurrentReader, conn: ReadConn, settings: SettingsDep) -> dict[str, Any]:
    return sightings.sightings_of(conn, reader, settings, stix_id)


@router.post("/objects/{stix_id}/sightings", status_code=201, response_model=SightingCreated,
             summary="Record that your organisation sighted this object")
def add_sighting(stix_id: str, body: SightingCreate, reader: CurrentReader, conn: WriteConn,
                 settings: SettingsDep) -> dict[str, Any]:
    return sightings.record_sighting(conn, reader, settings, stix_id, count=body.count, first_seen=body.first_seen,
                                     last_seen=body.last_seen, anonymous=body.anonymous, tlp=body.tlp, note=body.note)


@router.get("/warninglists", response_model=list[WarninglistOut], summary="Warninglists (known-good values)")
def list_warninglists(reader: CurrentReader, conn: ReadConn) -> list[dict[str, Any]]:
    return warninglist_store.list_all(conn)


@router.post("/warninglists/{name}/enable", status_code=204, summary="Enable a warninglist (CERT staff)")
def enable(name: str, reader: CurrentReader, conn: WriteConn) -> Response:
    require_cert_admin(reader)
    warninglist_store.set_enabled(conn, name, True, actor=reader)
    return Response(status_code=204)


@router.post("/warninglists/{name}/disable", status_code=204, summary="Disable a warninglist (CERT staff)")
def disable(name: str, reader: CurrentReader, conn: WriteConn) -> Response:
    require_cert_admin(reader)
    warninglist_store.set_enabled(conn, name, False, actor=reader)
    return Response(status_code=204)
