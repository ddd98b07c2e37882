"""Organisations, users and sharing groups: the rules of membership (who belongs where, in which role).

How a user proves to be that user (API tokens, passwords, web log-in) is :mod:`nordcert.accounts.credentials`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pycountry
from sqlalchemy import Connection, delete, func, insert, or_, select, update

from nordcert.accounts.tables import (
    organisations,
    sharing_group_members,
    sharing_groups,
    users,
    web_sessions,
)
from nordcert.audit.service import record_change
from nordcert.clock import now_us
from nordcert.config import NORDCERT_NAMESPACE
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
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
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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
    record_change(conn, actor, "organisation.created", name, {"id": org_id, "short_name": short, "country": code,
                                                              "sector_type": sector_type})
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
    record_change(conn, actor, "user.created", email, {"id": user_id, "organisation": org["name"], "role": role})
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
    record_change(conn, actor, "user.activated" if active else "user.deactivated", found["email"], {"id": found["id"]})
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
        max_tlp=peer_cap(role, peer_tlp),
    )


def peer_cap(role: Role, peer_max_tlp: int | None) -> Tlp:
    """The TLP cap of a reader: a peer's service account reads at most what its peer is configured to
    receive (CLEAR only when no enabled peer stands behind it); everyone else is not capped."""
    if role is not Role.PEER:
        return Tlp.RED
    return Tlp.CLEAR if peer_max_tlp is None else Tlp(peer_max_tlp)


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
    record_change(conn, actor, "group.created", name, {"id": group_id, "member_ids": org_ids})
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
        record_change(conn, actor, "group.member_added", g["name"], {"group_id": g["id"], "organisation": org["name"]})
    return get_group(conn, g["id"])


def remove_group_member(conn: Connection, group: str | int, organisation: str | int, *,
                        actor: Reader | None = None) -> dict[str, Any]:
    require_cert_admin(actor)
    g = get_group(conn, group)
    org = get_organisation(conn, organisation)
    gone = conn.execute(
        delete(sharing_group_members).where(
            sharing_group_members.c.group_id == g["id"], sharing_group_members.c.organisation_id == org["id"]
        )
    ).rowcount
    if gone:
        record_change(conn, actor, "group.member_removed", g["name"], {"group_id": g["id"],
                                                                       "organisation": org["name"]})
    return get_group(conn, g["id"])
