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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nordcert.config import Settings

PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: FastAPI's Swagger UI page: its script and CSS from jsDelivr, one inline script that starts it.
DOCS_POLICY = ("default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
               "style-src https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
_SESSION_COOKIE = b"nordcert_session="


_FIXED = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
          (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin"))


class SecurityHeaders:
    """Adds what an answer lacks to its raw header list (one pass over it: this runs on every request)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        hsts = f"max-age={settings.hsts_seconds}; includeSubDomains" if settings.hsts_seconds else None
        self.hsts = (b"strict-transport-security", hsts.encode()) if hsts else None
        self.hsts_always = settings.hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        authenticated = False
        for key, value in scope["headers"]:
            if key == b"authorization" or (key == b"cookie" and _SESSION_COOKIE in value):
                authenticated = True
                break
        hsts = self.hsts if self.hsts and (self.hsts_always or scope.get("scheme") == "https") else None
        no_store = authenticated and not path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _completed(list(message.get("headers", ())), path, hsts, no_store)
            await send(message)

        await self.app(scope, receive, with_headers)


def _completed(headers: list[tuple[bytes, bytes]], path: str, hsts: tuple[bytes, bytes] | None, no_store: bool
               ) -> list[tuple[bytes, bytes]]:
    names = set()
    content_type = b""
    for key, value in headers:
        key = key.lower()
        names.add(key)
        if key == b"content-type":
            content_type = value
    if b"content-security-policy" not in names:
        headers.append((b"content-security-policy", _policy(path, content_type)))
    for pair in _FIXED:
        if pair[0] not in names:
            headers.append(pair)
    if hsts is not None:
        headers.append(hsts)
    if no_store:
        value = b"private, no-cache" if b"etag" in names else b"no-store"
        if b"cache-control" in names:
            headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
        headers.append((b"cache-control", value))
    return headers


_POLICIES = {name: policy.encode() for name, policy in (("docs", DOCS_POLICY), ("page", PAGE_POLICY),
                                                         ("data", DATA_POLICY))}


def _policy(path: str, content_type: bytes) -> bytes:
    if path == "/api/docs":
        return _POLICIES["docs"]
    return _POLICIES["page"] if content_type.startswith(b"text/html") else _POLICIES["data"]
