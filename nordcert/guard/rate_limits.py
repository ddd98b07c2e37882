"""Rate limits on the screening lookup (per API token and per client address) and on web log-in
attempts (per client address), answered 429 with ``Retry-After``.

The lookup is what payment engines call before each payment: the limits are set far above what one
client needs, to stop a runaway or abusive client from taking the server's capacity, not to meter use.
They count requests (a POST of 10,000 values is one; ``max_lookup_values`` bounds it). A token's bucket
is keyed by the hash of its Authorization header (salted per process), so the buckets hold no credential. Log-in attempts are counted
per address here (each attempt costs an Argon2 hash); failed log-ins per address and per account are
counted in the store (``nordcert.accounts``).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from nordcert.config import Settings
from nordcert.guard.answers import client_address, send_error
from nordcert.guard.buckets import Buckets, retry_after

LOOKUP_PATH = "/api/v1/lookup"
LOGIN_PATH = "/login"


class RateLimits:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.per_token = Buckets(settings.lookup_rate_per_token, 2 * settings.lookup_rate_per_token) \
            if settings.lookup_rate_per_token else None
        self.per_address = Buckets(settings.lookup_rate_per_address, 2 * settings.lookup_rate_per_address) \
            if settings.lookup_rate_per_address else None
        self.logins = Buckets(settings.login_rate_per_address / 60, settings.login_rate_per_address) \
            if settings.login_rate_per_address else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == LOOKUP_PATH:
                wait = self._lookup(scope)
                if wait:
                    await send_error(scope, receive, send, 429, "too_many_requests",
                                     "too many lookups from this token or address; slow down",
                                     {"Retry-After": retry_after(wait)})
                    return
            elif path == LOGIN_PATH and scope["method"] == "POST" and self.logins is not None:
                wait = self.logins.take(client_address(scope), time.monotonic())
                if wait:
                    await send_error(scope, receive, send, 429, "too_many_requests",
                                     f"Too many log-in attempts from your address; try again in "
                                     f"{retry_after(wait)} seconds.", {"Retry-After": retry_after(wait)})
                    return
        await self.app(scope, receive, send)

    def _lookup(self, scope: Scope) -> float:
        now = time.monotonic()
        wait = self.per_address.take(client_address(scope), now) if self.per_address is not None else 0.0
        if self.per_token is not None:
            for key, value in scope["headers"]:
                if key == b"authorization":
                    wait = max(wait, self.per_token.take(hash(value), now))
                    break
        return wait
