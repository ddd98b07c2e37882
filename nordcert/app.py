"""The ASGI application: routers of each capability, one error shape, OpenAPI docs at /api/docs."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from nordcert import __version__
from nordcert.config import Settings
from nordcert.db import make_engine, migrate
from nordcert.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NordcertError,
    NotAcceptable,
    NotFound,
    TooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)
from nordcert.intel.validate import ObjectError

#: The one table from service errors to HTTP statuses.
STATUS = {NotFound: 404, Unauthenticated: 401, Forbidden: 403, Invalid: 422, Conflict: 409, NotAcceptable: 406,
          UnsupportedMediaType: 415, TooLarge: 413}
_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
               415: "unsupported_media_type", 422: "invalid"}


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON body of every REST error."""
    return {"error": code, "message": message, "details": details or []}


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    engine = engine or make_engine(settings)
    migrate(engine)
    app = FastAPI(
        title="nordcert",
        version=__version__,
        summary="Threat-intelligence sharing for a financial-sector CERT and its members",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    from nordcert.audit import buffered

    app.router.on_shutdown.append(lambda: buffered.flush(engine))  # queued audit events of reads, written
    _install_error_handlers(app)

    from nordcert.accounts.api import router as accounts_router
    from nordcert.audit.api import router as audit_router
    from nordcert.baseline.api import router as baseline_router
    from nordcert.baseline.benchmark_api import router as baseline_benchmark_router
    from nordcert.crisis.api import router as crisis_router
    from nordcert.federation.api import router as federation_router
    from nordcert.formats.feeds_api import router as feeds_router
    from nordcert.formats.misp_feed_api import router as misp_feed_router
    from nordcert.incidents.api import router as incidents_router
    from nordcert.intel.api import router as intel_router
    from nordcert.observables.api import router as observables_router
    from nordcert.privacy.api import router as privacy_router
    from nordcert.redteam.api import router as redteam_router
    from nordcert.sectormap.api import router as sectormap_router
    from nordcert.taxii.api import router as collections_router
    from nordcert.taxii.views import router as taxii_router
    from nordcert.web.setup import install as install_web

    # Routes are matched in order, at a few microseconds each (FastAPI's included routers check no
    # prefix first): a TAXII request matched after the /api/v1 routers spent ~0.9 ms in routing.
    # TAXII first (its paths share no prefix with the others), then the screening lookup, the API's
    # hot path (its GET is also served by a plain route ahead of every other, below).
    app.include_router(taxii_router)
    app.include_router(observables_router, prefix="/api/v1")
    app.include_router(accounts_router, prefix="/api/v1")
    app.include_router(intel_router, prefix="/api/v1")
    app.include_router(collections_router, prefix="/api/v1")
    app.include_router(federation_router, prefix="/api/v1")
    app.include_router(incidents_router, prefix="/api/v1")
    app.include_router(crisis_router, prefix="/api/v1")
    app.include_router(sectormap_router, prefix="/api/v1")
    app.include_router(redteam_router, prefix="/api/v1")
    app.include_router(baseline_router, prefix="/api/v1")
    app.include_router(baseline_benchmark_router, prefix="/api/v1")
    app.include_router(privacy_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(misp_feed_router)  # /feeds/misp/… before /feeds/{name}
    app.include_router(feeds_router)
    install_web(app, settings)  # the web pages, their static files and error pages
    # The screening lookup's GET is also served by a plain route ahead of every other: FastAPI's
    # routing and request handling cost more than the lookup. The FastAPI route above documents it.
    from starlette.routing import Route

    from nordcert.observables.api import lookup_one
    app.router.routes.insert(0, Route("/api/v1/lookup", lookup_one, methods=["GET"]))
    from nordcert.guard import install as install_guard

    install_guard(app, settings)  # security headers, body limits and timeouts, rate limits
    return app


def create_app_from_environment() -> FastAPI:
    """Entry point for multi-process serving (``uvicorn --factory``): settings from NORDCERT_* variables."""
    app = create_app(Settings())
    _stop_with_parent()
    freeze_heap()
    return app


def _stop_with_parent() -> None:
    """A worker process stops when the ``nordcert serve`` process that started it dies (``kill -9``,
    the OOM killer).

    uvicorn's workers do not watch their parent: orphaned, they would go on serving the inherited
    socket with nothing to restart them, and a new ``nordcert serve`` could not listen on its port.
    A worker is a multiprocessing child, which sees its parent's end of a pipe close when the parent
    dies; it then sends itself SIGTERM and shuts down as on any stop (requests under way complete).
    A server that is not a worker (no multiprocessing parent) is left alone.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="nordcert-stop-with-parent", daemon=True).start()


def freeze_heap() -> None:
    """Move everything alive after start-up out of the garbage collector's sight (``gc.freeze``).

    The application's modules, routes and models live as long as the process; without this the
    collector's passes over the older generations walk them again and again while a request
    allocates many objects (an envelope of 1,000 STIX objects). Measured on a TAXII add of 10,000 indicators: 20-35 %
    faster (docs/benchmarks.md). Only server processes call it; tests, which build many apps, do not.
    """
    gc.collect()
    gc.freeze()


def taxii_error_body(status: int, title: str, description: str, details: list[dict[str, Any]] | None = None
                     ) -> dict[str, Any]:
    """The TAXII 2.1 error message resource (§3.6.1)."""
    body: dict[str, Any] = {"title": title, "description": description, "http_status": str(status)}
    if details:
        body["details"] = {"problems": details}
    return body


def _error(request: Request, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    """One error answer: the TAXII error resource under /taxii2/, the REST error body elsewhere."""
    if request.url.path.startswith("/taxii2"):
        status = 400 if status == 422 else status  # TAXII 2.1 §3.6.2 has 400 for a bad request
        return JSONResponse(taxii_error_body(status, code.replace("_", " "), message, details), status_code=status,
                            headers=headers, media_type="application/taxii+json;version=2.1")
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


_INT64_MAX = 2**63 - 1


def _out_of_range_fields(request: Request) -> list[str]:
    """The path and query parameters of ``request`` that are whole numbers beyond 64 bits."""
    found = []
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        digits = str(value).strip().lstrip("+-")
        if digits.isdecimal() and (len(digits) > 19 or int(digits) > _INT64_MAX) and name not in found:
            found.append(name)
    return found


def _install_error_handlers(app: FastAPI) -> None:
    from nordcert.web.setup import error_page, is_page

    @app.exception_handler(NordcertError)
    async def _service_error(request: Request, exc: NordcertError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        if is_page(request):
            return await run_in_threadpool(error_page, request, status, exc.message)
        headers = {"WWW-Authenticate": 'Bearer, Basic realm="nordcert"'} if status == 401 else None
        return _error(request, status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # A number beyond the store's 64-bit integers (an id in the path, a count in the query): the
        # request's fault, named where it can be, never a server error.
        fields = _out_of_range_fields(request)
        message = (f"{', '.join(fields)}: out of range (whole numbers here are at most {_INT64_MAX})" if fields
                   else "a value of the request cannot be stored or searched for (too large, too long, or "
                        "holding a NUL character)")
        if is_page(request):
            return await run_in_threadpool(error_page, request, 422, message)
        return _error(request, 422, "invalid", message, [{"field": f, "reason": "out of range"} for f in fields])

    @app.exception_handler(ObjectError)
    async def _not_stix(request: Request, exc: ObjectError) -> Response:
        # A STIX value a route read without turning the validator's error into Invalid: still the
        # request's fault (the message names the property), never a server error.
        if is_page(request):
            return await run_in_threadpool(error_page, request, 422, str(exc))
        return _error(request, 422, "invalid", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "reason": e.get("msg", "")}
            for e in exc.errors()
        ]
        return _error(request, 422, "invalid", "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "error")
        if is_page(request) and "text/html" in request.headers.get("accept", ""):
            return await run_in_threadpool(error_page, request, exc.status_code, str(exc.detail))
        return _error(request, exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))
