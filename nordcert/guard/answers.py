"""Answers the middlewares give on their own (413, 408, 429, 503), in the shape the path's clients expect:
the TAXII error resource under /taxii2/, an error page for a browser on a page, the REST error body
elsewhere."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"


def client_address(scope: Scope) -> str:
    """The client's address as the server knows it (behind a trusted proxy: from X-Forwarded-For)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_error(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> None:
    from nordcert.app import error_body, taxii_error_body
    from nordcert.web.setup import error_page, is_page

    request = Request(scope, receive)
    response: Response
    if scope["path"].startswith("/taxii2"):
        response = JSONResponse(taxii_error_body(status, code.replace("_", " "), message), status_code=status,
                                media_type=TAXII_MEDIA_TYPE)
    elif is_page(request) and "text/html" in (header(scope, b"accept") or "text/html"):
        response = await run_in_threadpool(error_page, request, status, message)
    else:
        response = JSONResponse(error_body(code, message), status_code=status)
    response.headers.update(headers or {})
    await response(scope, receive, send)
