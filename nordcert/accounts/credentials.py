"""Credentials: API tokens (made, listed, revoked, checked on every request) and web passwords
(set, checked at log-in, with lock-out after repeated failures).

Who the holder is, and what it may see, comes from :mod:`nordcert.accounts.service`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions
from sqlalchemy import Connection, delete, insert, select, update

from nordcert.accounts.service import get_user, peer_cap, reader_for, require_cert_admin
from nordcert.accounts.tables import api_tokens, login_failures, users
from nordcert.audit.service import record_change
from nordcert.clock import now_us
from nordcert.db import fetch_all, is_postgres, upsert_insert
from nordcert.errors import Invalid, NotFound, Unauthenticated
from nordcert.sharing.policy import Reader, Role

TOKEN_PREFIX = "nct_"  # nosec B105 # the prefix that names our tokens, not a secret
_US_PER_DAY = 86_400 * 1_000_000
_LAST_USED_EVERY_US = 600 * 1_000_000


# --- API tokens --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so one SHA-256 makes them safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: str
    id: int
    user_email: str
    expires_at: int | None


def create_token(
    conn: Connection,
    *,
    user: str | int,
    expires_days: float | None = None,
    label: str = "",
    token: str | None = None,
    actor: Reader | None = None,
) -> NewToken:
    """Make an API token for ``user``; the clear token is returned once and never stored.

    ``token`` fixes the token's value (the demo's known tokens); otherwise it is random.
    """
    target = get_user(conn, user)
    if actor is not None and actor.user_id != target["id"]:
        require_cert_admin(actor)
    if expires_days is not None and expires_days <= 0:
        raise Invalid("expiry must be a positive number of days")
    clear = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = now_us()
    expires_at = now + int(expires_days * _US_PER_DAY) if expires_days else None
    token_id = conn.execute(
        insert(api_tokens)
        .values(
            user_id=target["id"],
            token_hash=hash_token(clear),
            prefix=clear[:8],
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    record_change(conn, actor, "token.created", target["email"], {"id": token_id, "label": label, "prefix": clear[:8],
                                                                  "expires_at": expires_at})
    return NewToken(token=clear, id=token_id, user_email=target["email"], expires_at=expires_at)


def list_tokens(conn: Connection, *, user: str | int | None = None) -> list[dict[str, Any]]:
    q = (
        select(api_tokens.c.id, api_tokens.c.prefix, api_tokens.c.label, api_tokens.c.created_at,
               api_tokens.c.expires_at, api_tokens.c.revoked_at, api_tokens.c.last_used_at, users.c.email)
        .join(users, users.c.id == api_tokens.c.user_id)
        .order_by(api_tokens.c.id)
    )
    if user is not None:
        q = q.where(api_tokens.c.user_id == get_user(conn, user)["id"])
    return [dict(r._mapping) for r in conn.execute(q)]


def revoke_token(conn: Connection, token_id: int, *, actor: Reader | None = None) -> dict[str, Any]:
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None:
        raise NotFound(f"no token {token_id}")
    if actor is not None and actor.user_id != row.user_id:
        require_cert_admin(actor)
    if row.revoked_at is None:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now_us()))
        record_change(conn, actor, "token.revoked", f"token {token_id}", {"id": token_id, "user_id": row.user_id,
                                                                          "prefix": row.prefix})
    return {"id": token_id, "revoked": True}


def authenticate(conn: Connection, token: str, *, email: str | None = None) -> Reader:
    """The reader a token stands for; with ``email`` (HTTP Basic) the token must be that user's."""
    return authenticate_token(conn, token, email=email)[0]


_AUTH_SQL = (
    "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.email, u.organisation_id, u.role, u.active, "
    "m.group_id, p.max_tlp FROM api_tokens t JOIN users u ON u.id = t.user_id "
    "LEFT JOIN sharing_group_members m ON m.organisation_id = u.organisation_id "
    "LEFT JOIN federation_peers p ON p.organisation_id = u.organisation_id AND p.enabled = {true} "
    "WHERE t.token_hash = {mark}"
)
_AUTH = {False: _AUTH_SQL.format(mark="?", true="1"), True: _AUTH_SQL.format(mark="%s", true="true")}


def authenticate_token(conn: Connection, token: str, *, email: str | None = None) -> tuple[Reader, int | None]:
    """:func:`authenticate`, and the token's id when its ``last_used_at`` is due a refresh (else None).

    One indexed query (token, user and the organisation's sharing groups): every API request runs it.
    """
    rows = fetch_all(conn, _AUTH[is_postgres(conn)], (hash_token(token),))
    now = now_us()
    if not rows:
        raise Unauthenticated("invalid credentials")
    token_id, expires_at, revoked_at, last_used_at, user_id, user_email, org_id, role, active, _, peer_tlp = rows[0]
    if email is not None and user_email != email.strip().lower():
        raise Unauthenticated("invalid credentials")
    if revoked_at is not None:
        raise Unauthenticated("this token has been revoked")
    if expires_at is not None and expires_at <= now:
        raise Unauthenticated("this token has expired")
    if not active:
        raise Unauthenticated("this user is deactivated")
    stale = token_id if last_used_at is None or now - last_used_at > _LAST_USED_EVERY_US else None
    reader = Reader(user_id=user_id, email=user_email, organisation_id=org_id, role=Role(role),
                    group_ids=frozenset(r[9] for r in rows if r[9] is not None),
                    max_tlp=peer_cap(Role(role), peer_tlp))
    return reader, stale


def touch_token(conn: Connection, token_id: int) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now_us()))


# --- passwords and web log-in -------------------------------------------------------------------
# Argon2id hashes (argon2-cffi's defaults, RFC 9106). Failed log-ins in a row lock the account for a
# while; an unknown email costs the same hash verification as a known one.

MIN_PASSWORD_CHARS = 12
_hasher = PasswordHasher()
_dummy_hash: list[str] = []


def set_password(conn: Connection, user: str | int, password: str, *, actor: Reader | None = None) -> None:
    """Set a user's web log-in password (the user themself, CERT staff or the local operator)."""
    target = get_user(conn, user)
    if actor is not None and actor.user_id != target["id"]:
        require_cert_admin(actor)
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > 1024:
        raise Invalid("a password may have at most 1024 characters")
    conn.execute(update(users).where(users.c.id == target["id"]).values(password_hash=_hasher.hash(password)))
    conn.execute(delete(login_failures).where(login_failures.c.user_id == target["id"]))
    record_change(conn, actor, "user.password_set", target["email"], {"id": target["id"]})


@dataclass(frozen=True)
class LoginOutcome:
    """A log-in attempt: the reader when it succeeded, else why not (worded for the log-in page)."""

    reader: Reader | None
    refused: str = ""


_WRONG = "Wrong email or password."


def log_in(conn: Connection, email: str, password: str, *, max_failures: int, lockout_minutes: float) -> LoginOutcome:
    """Check a password log-in; records failures and locks the account after ``max_failures`` in a row.

    Writes (failure counts), so the caller commits whatever the outcome.
    """
    row = conn.execute(select(users.c.id, users.c.password_hash, users.c.active)
                       .where(users.c.email == email.strip().lower())).first()
    if row is None or row.password_hash is None or not row.active:
        _verify(_dummy(), password)  # the same work as for a real account
        return LoginOutcome(None, _WRONG)
    now = now_us()
    failed = conn.execute(select(login_failures).where(login_failures.c.user_id == row.id)).first()
    if failed is not None and failed.locked_until is not None and failed.locked_until > now:
        minutes = max(1, round((failed.locked_until - now) / 60_000_000))
        return LoginOutcome(None, f"This account is locked after repeated failed log-ins; try again in {minutes} "
                                  f"minute{'s' if minutes != 1 else ''}.")
    if not _verify(row.password_hash, password):
        count = (failed.failures if failed is not None and failed.locked_until is None else 0) + 1
        locked = now + int(lockout_minutes * 60_000_000) if count >= max_failures else None
        values = {"failures": 0 if locked else count, "last_failure_at": now, "locked_until": locked}
        stmt = upsert_insert(conn, login_failures).values(user_id=row.id, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["user_id"], set_=values))
        if locked:
            return LoginOutcome(None, f"{_WRONG} The account is now locked for {lockout_minutes:g} minutes.")
        return LoginOutcome(None, _WRONG)
    if failed is not None:
        conn.execute(delete(login_failures).where(login_failures.c.user_id == row.id))
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    return LoginOutcome(reader_for(conn, row.id))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (argon2_exceptions.VerificationError, argon2_exceptions.InvalidHashError):
        return False


def _dummy() -> str:
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy_hash[0]
