"""Request body limits and the body timeout.

Two families of routes, each with its configured largest body:

- STIX content — TAXII envelopes (the API root's ``max_content_length`` is the same setting), bundles
  submitted to ``POST /api/v1/objects``, file imports (``…/import``) and uploads (``multipart/form-data``):
  ``max_request_bytes``;
- everything else — JSON API requests and web forms: ``max_json_bytes``.

A body declared larger (Content-Length) is answered 413 before any of it is read; a body sent without a
length is counted as it arrives and answered 413 as soon as it passes the limit. A client that takes
longer than ``request_body_timeout_seconds`` to send its body is answered 408. Either way the route's
work is abandoned before it stores anything: what it would have answered is replaced.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.config import Settings
from nordcert.guard.answers import send_error

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class _Tripped(Exception):
    """The body broke a limit: raised into the route that reads it."""


class BodyLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.stix_bytes = settings.max_request_bytes
        self.json_bytes = settings.max_json_bytes
        self.timeout = settings.request_body_timeout_seconds

    def limit(self, scope: Scope, content_type: str) -> tuple[int, str]:
        """The largest body the request's route family takes, and the family's name for the answer."""
        path: str = scope["path"]
        if path.startswith("/taxii2"):
            return self.stix_bytes, "a TAXII envelope (max_content_length)"
        if path == "/api/v1/objects" or path.endswith("/import") or content_type.startswith("multipart/form-data"):
            return self.stix_bytes, "an upload or import"
        return self.json_bytes, "a request of this kind"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        length = chunked = None
        content_type = ""
        for key, value in scope["headers"]:
            if key == b"content-length":
                length = value
            elif key == b"transfer-encoding":
                chunked = value
            elif key == b"content-type":
                content_type = value.decode("latin-1").lower()
        if length is None and chunked is None:
            await self.app(scope, receive, send)  # no body
            return
        limit, family = self.limit(scope, content_type)
        if length is not None and length.isdigit() and int(length) > limit:
            await send_error(scope, receive, send, 413, "too_large",
                             f"the body ({int(length)} bytes) is larger than {family} may be ({limit} bytes)")
            return
        await self._guarded(scope, receive, send, limit, family)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int, family: str) -> None:
        deadline = time.monotonic() + self.timeout
        received = 0
        tripped: list[tuple[int, str, str]] = []
        started = body_done = False

        async def counted() -> Message:
            nonlocal received, body_done
            if body_done:
                return await receive()  # after the body: only the disconnect, which may come at any time
            if tripped:
                raise _Tripped()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                tripped.append((408, "timeout", f"the body did not arrive within {self.timeout:g} seconds"))
                raise _Tripped() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    tripped.append((413, "too_large", f"the body is larger than {family} may be ({limit} bytes)"))
                    raise _Tripped()
                body_done = not message.get("more_body", False)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if tripped and not started:
                return  # the route's answer to a body it could not read: ours replaces it
            started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _Tripped:
            if started:
                raise
        if tripped and not started:
            status, code, message = tripped[0]
            await send_error(scope, receive, send, status, code, message,
                             {"Connection": "close"} if status == 408 else None)
