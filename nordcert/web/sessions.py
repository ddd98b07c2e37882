"""Web log-in sessions: a random token in a cookie, only its SHA-256 in the store.

Server-side, so that logging out (or an administrator deactivating a user) ends a session at
once, on every process serving the instance.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from nordcert.accounts import service as accounts
from nordcert.accounts.tables import organisations, users, web_sessions
from nordcert.clock import now_us
from nordcert.errors import NordcertError
from nordcert.sharing.policy import Reader

_TOUCH_EVERY_US = 300 * 1_000_000


@dataclass(frozen=True)
class WebUser:
    """The logged-in user as the pages show them, and the policy's view of them."""

    reader: Reader
    name: str
    organisation: str
    organisation_short: str

    @property
    def email(self) -> str:
        return self.reader.email


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn: Connection, reader: Reader, *, hours: float) -> str:
    """A new session for ``reader``; returns the cookie's token (shown to nobody else, never stored)."""
    token = secrets.token_urlsafe(32)
    now = now_us()
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))  # everyone's expired ones
    conn.execute(insert(web_sessions).values(token_hash=_hash(token), user_id=reader.user_id, created_at=now,
                                             expires_at=now + int(hours * 3600 * 1_000_000), last_seen_at=now))
    return token


def resume(conn: Connection, token: str) -> tuple[WebUser | None, bool]:
    """The session's user (None if the session is unknown, expired or its user deactivated), and
    whether its ``last_seen_at`` is due a refresh."""
    row = conn.execute(
        select(web_sessions.c.user_id, web_sessions.c.expires_at, web_sessions.c.last_seen_at, users.c.name,
               organisations.c.name.label("org_name"), organisations.c.short_name)
        .join(users, users.c.id == web_sessions.c.user_id)
        .join(organisations, organisations.c.id == users.c.organisation_id)
        .where(web_sessions.c.token_hash == _hash(token))
    ).first()
    now = now_us()
    if row is None or row.expires_at <= now:
        return None, False
    try:
        reader = accounts.reader_for(conn, row.user_id)
    except NordcertError:
        return None, False
    return WebUser(reader, row.name, row.org_name, row.short_name), now - row.last_seen_at > _TOUCH_EVERY_US


def touch(conn: Connection, token: str) -> None:
    conn.execute(update(web_sessions).where(web_sessions.c.token_hash == _hash(token)).values(last_seen_at=now_us()))


def end(conn: Connection, token: str) -> None:
    """Log out: the session stops working at once."""
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _hash(token)))


def end_all(conn: Connection, user_id: int) -> None:
    """Every session of a user (after a password change)."""
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
