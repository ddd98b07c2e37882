"""Security headers on every answer (OWASP Secure Headers), and no caching of authenticated answers.

- Pages keep the Content-Security-Policy they are rendered with (``nordcert.web.render``: this site's own
  scripts and styles only); any other HTML gets the same policy; the API documentation page, which loads
  Swagger UI from its CDN with one inline script, gets a policy that allows exactly that; every other
  answer (JSON, TAXII, feeds) gets ``default-src 'none'``: it is data, never a document to run.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options: DENY`` with
  ``frame-ancestors 'none'``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` (RFC 6797) on answers to requests that came over HTTPS, or on every answer
  when ``hsts_always`` says TLS ends before nordcert sees it.
- ``Cache-Control: no-store`` on answers to authenticated requests (a token or a session cookie), except
  answers that carry an ETag (the feeds, which clients revalidate with If-None-Match): those get
  ``private, no-cache`` — a client may keep them and must ask again; a shared cache may not keep them.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.config import Settings

PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: FastAPI's Swagger UI page: its script and CSS from jsDelivr, one inline script that starts it.
DOCS_POLICY = ("default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
               "style-src https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
_SESSION_COOKIE = "nordcert_session="


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.hsts = f"max-age={settings.hsts_seconds}; includeSubDomains" if settings.hsts_seconds else None
        self.hsts_always = settings.hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        authenticated = False
        for key, value in scope["headers"]:
            if key == b"authorization" or (key == b"cookie" and _SESSION_COOKIE.encode() in value):
                authenticated = True
                break
        hsts = self.hsts if self.hsts and (self.hsts_always or scope.get("scheme") == "https") else None

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = _policy(path, headers.get("content-type", ""))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if hsts:
                    headers["Strict-Transport-Security"] = hsts
                if authenticated and not path.startswith("/static/"):
                    headers["Cache-Control"] = "private, no-cache" if "etag" in headers else "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)


def _policy(path: str, content_type: str) -> str:
    if path == "/api/docs":
        return DOCS_POLICY
    return PAGE_POLICY if content_type.startswith("text/html") else DATA_POLICY
