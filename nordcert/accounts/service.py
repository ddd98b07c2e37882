"""Organisations, users, API tokens and sharing groups: the rules of membership and access."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import pycountry
from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions
from sqlalchemy import Connection, delete, func, insert, or_, select, update

from nordcert.accounts.tables import (
    api_tokens,
    login_failures,
    organisations,
    sharing_group_members,
    sharing_groups,
    users,
    web_sessions,
)
from nordcert.clock import now_us
from nordcert.config import NORDCERT_NAMESPACE
from nordcert.db import fetch_all, is_postgres, upsert_insert
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from nordcert.federation.tables import federation_peers
from nordcert.sharing.policy import Reader, Role
from nordcert.sharing.tlp import Tlp

SECTOR_TYPES = (
    "bank",
    "mortgage",
    "payment_system",
    "data_centre",
    "insurer",
    "pension",
    "authority",
    "industry_body",
    "cert",
    "supplier",
)
ROLES = tuple(r.value for r in Role)
TOKEN_PREFIX = "nct_"  # nosec B105 # the prefix that names our tokens, not a secret
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_US_PER_DAY = 86_400 * 1_000_000
_LAST_USED_EVERY_US = 600 * 1_000_000


def require_cert_admin(actor: Reader | None) -> None:
    """``actor`` None is the local operator (shell access to the store): allowed everything."""
    if actor is not None and not actor.is_cert_staff:
        raise Forbidden("this needs the cert_admin role")


# --- organisations -------------------------------------------------------------------------


def create_organisation(
    conn: Connection,
    *,
    name: str,
    country: str,
    sector_type: str,
    short_name: str | None = None,
    actor: Reader | None = None,
) -> dict[str, Any]:
    require_cert_admin(actor)
    name = name.strip()
    if not name:
        raise Invalid("an organisation needs a name")
    short = (short_name or _short_name_of(name)).strip()
    code = country.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise Invalid(f"country {country!r} is not an ISO 3166-1 alpha-2 code (e.g. DK, NO, SE, FI)")
    if sector_type not in SECTOR_TYPES:
        raise Invalid(f"sector type {sector_type!r} is not one of: {', '.join(SECTOR_TYPES)}")
    # The exact names too: SQLite's lower() folds ASCII only, so "Ö" and "ö" are not equal there.
    clash = conn.execute(
        select(organisations.c.name).where(
            or_(
                organisations.c.name.in_([name, short]),
                organisations.c.short_name.in_([name, short]),
                func.lower(organisations.c.name).in_([name.lower(), short.lower()]),
                func.lower(organisations.c.short_name).in_([name.lower(), short.lower()]),
            )
        )
    ).first()
    if clash:
        raise Conflict(f"an organisation named {clash.name!r} already uses that name or short name")
    values = {
        "name": name,
        "short_name": short,
        "country": code,
        "sector_type": sector_type,
        "identity_id": f"identity--{uuid.uuid5(NORDCERT_NAMESPACE, 'organisation:' + name)}",
        "created_at": now_us(),
    }
    org_id = conn.execute(insert(organisations).values(**values).returning(organisations.c.id)).scalar_one()
    return {"id": org_id, **values}


def _short_name_of(name: str) -> str:
    words = re.findall(r"[\w]+", name)
    return "".join(w[0] for w in words).upper() if len(words) > 1 else name[:50]


def list_organisations(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(organisations).order_by(organisations.c.name))]


def get_organisation(conn: Connection, ref: str | int) -> dict[str, Any]:
    """An organisation by id, name or short name (case-insensitive)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdecimal()):
        row = conn.execute(select(organisations).where(organisations.c.id == int(ref))).first()
    else:
        key = ref.strip().lower()
        row = conn.execute(
            select(organisations).where(
                or_(func.lower(organisations.c.name) == key, func.lower(organisations.c.short_name) == key)
            )
        ).first()
    if row is None:
        raise NotFound(f"no organisation {ref!r}")
    return dict(row._mapping)


# --- users -----------------------------------------------------------------------------------


def create_user(
    conn: Connection,
    *,
    email: str,
    organisation: str | int,
    role: str,
    name: str | None = None,
    actor: Reader | None = None,
) -> dict[str, Any]:
    require_cert_admin(actor)
    email = email.strip().lower()
    if not _EMAIL_RE.fullmatch(email):
        raise Invalid(f"{email!r} is not an email address")
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not one of: {', '.join(ROLES)}")
    org = get_organisation(conn, organisation)
    if conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise Conflict(f"a user with email {email} exists already")
    values = {
        "email": email,
        "name": (name or email.split("@")[0]).strip(),
        "organisation_id": org["id"],
        "role": role,
        "active": True,
        "created_at": now_us(),
    }
    user_id = conn.execute(insert(users).values(**values).returning(users.c.id)).scalar_one()
    return {"id": user_id, **values, "organisation": org["name"]}


def list_users(conn: Connection, *, organisation: str | None = None) -> list[dict[str, Any]]:
    q = (
        select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.active, users.c.created_at,
               users.c.organisation_id, organisations.c.name.label("organisation"))
        .join(organisations, organisations.c.id == users.c.organisation_id)
        .order_by(users.c.email)
    )
    if organisation is not None:
        q = q.where(users.c.organisation_id == get_organisation(conn, organisation)["id"])
    return [dict(r._mapping) for r in conn.execute(q)]


def set_user_active(conn: Connection, user: str | int, active: bool, *, actor: Reader | None = None
                    ) -> dict[str, Any]:
    """Deactivate (off-board) or reactivate a user. A deactivated user's tokens, web sessions and
    password stop working at once (every authentication checks ``active``); their web sessions are
    also deleted. Their intel stays, as their organisation's. CERT staff may not deactivate themselves."""
    require_cert_admin(actor)
    found = get_user(conn, user)
    if not active and actor is not None and found["id"] == actor.user_id:
        raise Forbidden("you may not deactivate yourself")
    conn.execute(update(users).where(users.c.id == found["id"]).values(active=active))
    if not active:
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == found["id"]))
    return {**found, "active": active}


def get_user(conn: Connection, ref: str | int) -> dict[str, Any]:
    """A user by id or email."""
    cond = users.c.id == int(ref) if isinstance(ref, int) or str(ref).isdecimal() else users.c.email == str(ref).strip().lower()
    row = conn.execute(
        select(users, organisations.c.name.label("organisation"))
        .join(organisations, organisations.c.id == users.c.organisation_id)
        .where(cond)
    ).first()
    if row is None:
        raise NotFound(f"no user {ref!r}")
    out = dict(row._mapping)
    out.pop("password_hash", None)
    return out


def reader_for(conn: Connection, user_ref: str | int) -> Reader:
    """The policy's view of a user: organisation, role and sharing groups."""
    user = get_user(conn, user_ref)
    if not user["active"]:
        raise Forbidden(f"user {user['email']} is deactivated")
    return _reader(conn, user)


def _reader(conn: Connection, user: dict[str, Any]) -> Reader:
    group_ids = conn.execute(
        select(sharing_group_members.c.group_id).where(
            sharing_group_members.c.organisation_id == user["organisation_id"]
        )
    ).scalars()
    role = Role(user["role"])
    peer_tlp = None
    if role is Role.PEER:
        peer_tlp = conn.execute(select(federation_peers.c.max_tlp).where(
            federation_peers.c.organisation_id == user["organisation_id"],
            federation_peers.c.enabled.is_(True))).scalar()
    return Reader(
        user_id=user["id"],
        email=user["email"],
        organisation_id=user["organisation_id"],
        role=role,
        group_ids=frozenset(group_ids),
        max_tlp=_peer_cap(role, peer_tlp),
    )


def _peer_cap(role: Role, peer_max_tlp: int | None) -> Tlp:
    """The TLP cap of a reader: a peer's service account reads at most what its peer is configured to
    receive (CLEAR only when no enabled peer stands behind it); everyone else is not capped."""
    if role is not Role.PEER:
        return Tlp.RED
    return Tlp.CLEAR if peer_max_tlp is None else Tlp(peer_max_tlp)


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
                    max_tlp=_peer_cap(Role(role), peer_tlp))
    return reader, stale


def touch_token(conn: Connection, token_id: int) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now_us()))


# --- sharing groups ----------------------------------------------------------------------------


def create_group(
    conn: Connection,
    *,
    name: str,
    members: list[str | int] = (),  # type: ignore[assignment]
    description: str = "",
    actor: Reader | None = None,
) -> dict[str, Any]:
    require_cert_admin(actor)
    name = name.strip()
    if not name:
        raise Invalid("a sharing group needs a name")
    if conn.execute(select(sharing_groups.c.id).where(or_(  # exact too: SQLite's lower() folds ASCII only
            sharing_groups.c.name == name, func.lower(sharing_groups.c.name) == name.lower()))).first():
        raise Conflict(f"a sharing group named {name!r} exists already")
    org_ids = sorted({get_organisation(conn, m)["id"] for m in members})
    group_id = conn.execute(
        insert(sharing_groups).values(name=name, description=description, created_at=now_us())
        .returning(sharing_groups.c.id)
    ).scalar_one()
    if org_ids:
        conn.execute(insert(sharing_group_members), [{"group_id": group_id, "organisation_id": o} for o in org_ids])
    return get_group(conn, group_id)


def get_group(conn: Connection, ref: str | int) -> dict[str, Any]:
    if isinstance(ref, int) or str(ref).isdecimal():
        row = conn.execute(select(sharing_groups).where(sharing_groups.c.id == int(ref))).first()
    else:
        row = conn.execute(
            select(sharing_groups).where(func.lower(sharing_groups.c.name) == str(ref).strip().lower())
        ).first()
    if row is None:
        raise NotFound(f"no sharing group {ref!r}")
    members = conn.execute(
        select(organisations.c.id, organisations.c.name, organisations.c.short_name)
        .join(sharing_group_members, sharing_group_members.c.organisation_id == organisations.c.id)
        .where(sharing_group_members.c.group_id == row.id)
        .order_by(organisations.c.name)
    )
    return {**dict(row._mapping), "members": [dict(m._mapping) for m in members]}


def list_groups(conn: Connection) -> list[dict[str, Any]]:
    ids = conn.execute(select(sharing_groups.c.id).order_by(sharing_groups.c.name)).scalars().all()
    return [get_group(conn, i) for i in ids]


def add_group_member(conn: Connection, group: str | int, organisation: str | int, *,
                     actor: Reader | None = None) -> dict[str, Any]:
    require_cert_admin(actor)
    g = get_group(conn, group)
    org = get_organisation(conn, organisation)
    if all(m["id"] != org["id"] for m in g["members"]):
        conn.execute(insert(sharing_group_members).values(group_id=g["id"], organisation_id=org["id"]))
    return get_group(conn, g["id"])


def remove_group_member(conn: Connection, group: str | int, organisation: str | int, *,
                        actor: Reader | None = None) -> dict[str, Any]:
    require_cert_admin(actor)
    g = get_group(conn, group)
    org = get_organisation(conn, organisation)
    conn.execute(
        delete(sharing_group_members).where(
            sharing_group_members.c.group_id == g["id"], sharing_group_members.c.organisation_id == org["id"]
        )
    )
    return get_group(conn, g["id"])


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
