"""Hardening of the HTTP surface: security headers, request body limits and timeouts, rate limits.

Each is an ASGI middleware of its own, installed around the application by :func:`install`, so no
route has to remember it. Log-in failures per client address are counted in the store
(:mod:`nordcert.accounts.login_addresses`), so that every API process agrees on them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from nordcert.config import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app``: a trusted proxy's forwarded headers and the security headers outermost (every answer gets
    them, errors included), then rate limits, body limits and the read deadline, in that order towards the
    routes. Serve it with the server's own proxy handling off (``nordcert serve`` does)."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    from nordcert.audit.buffered import RequestContext
    from nordcert.guard.answers import client_address
    from nordcert.guard.bodies import BodyLimits
    from nordcert.guard.deadline import ReadDeadline
    from nordcert.guard.headers import SecurityHeaders
    from nordcert.guard.rate_limits import RateLimits

    app.add_middleware(ReadDeadline, seconds=settings.request_timeout_seconds)
    app.add_middleware(BodyLimits, settings=settings)
    app.add_middleware(RateLimits, settings=settings)
    app.add_middleware(RequestContext, address_of=client_address)  # who asked, for the audit trail
    build = app.build_middleware_stack

    def build_with_headers() -> Any:
        # Outside Starlette's own error middleware, so that a 500 answer carries the headers too; the client's
        # address and scheme from a trusted proxy's X-Forwarded-For/-Proto first, whoever serves the app.
        headers: Any = SecurityHeaders(build(), settings=settings)  # uvicorn types ASGI apps its own way
        return ProxyHeadersMiddleware(headers, trusted_hosts=settings.trusted_proxies)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
