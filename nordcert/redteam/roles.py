"""The people of a test (TIBER-EU roles; CDR 2025/1190 Art 1 and Art 9(2)(b)): the control team lead and members
(each optionally linked to a user of the member, which is what lets that user see the test), the TLPT authority's
test manager, and the contacts of the threat-intelligence and red team providers.

Linking a user widens who sees the test, so only the control team (its linked analysts and risk officers) and CERT
staff add or change roles; a linked user must belong to the tested member. Each test has at most one lead.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from nordcert import clock
from nordcert.accounts.tables import users
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.redteam import access
from nordcert.redteam.checks import Problems
from nordcert.redteam.tables import redteam_roles
from nordcert.sharing.policy import Reader

ROLES: dict[str, str] = {
    "control_team_lead": "Control team lead",
    "control_team_member": "Control team member",
    "test_manager": "Test manager (TLPT authority)",
    "ti_provider": "Threat-intelligence provider",
    "rt_provider": "Red team provider",
}
FIELDS = ("role", "name", "email", "company", "user")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_r = redteam_roles
_SELF = ("you cannot unlink yourself from the control team: you would lose sight of the test; ask another member "
         "of it or CERT staff")


def add_role(conn: Connection, *, reader: Reader, engagement_id: int, role: str, name: str, email: str,
             company: str | None = None, user: int | str | None = None) -> dict[str, Any]:
    """Add a person to the test; ``user`` (id or email) links a control team member to a user of the member."""
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_change(conn, reader, row, "name its people")
    values = _checked(conn, row, {"role": role, "name": name, "email": email, "company": company, "user": user},
                      exclude=None)
    role_id = int(conn.execute(insert(_r).values(**values, engagement_id=engagement_id,
                                                 created_at=clock.now_us()).returning(_r.c.id)).scalar_one())
    return _one(conn, role_id)


def update_role(conn: Connection, *, reader: Reader, role_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    found, row = _visible(conn, reader, role_id)
    access.require_change(conn, reader, row, "name its people")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}",
                      details=[{"field": f, "reason": "cannot be changed"} for f in unknown])
    current = {"role": found["role"], "name": found["name"], "email": found["email"], "company": found["company"],
               "user": found["user_id"]}
    values = _checked(conn, row, current | changes, exclude=role_id)
    if found["user_id"] == reader.user_id and values["user_id"] != reader.user_id and not reader.is_cert_staff:
        raise Conflict(_SELF)
    conn.execute(update(_r).where(_r.c.id == role_id).values(**values))
    return _one(conn, role_id)


def remove_role(conn: Connection, *, reader: Reader, role_id: int) -> None:
    found, row = _visible(conn, reader, role_id)
    access.require_change(conn, reader, row, "name its people")
    if found["user_id"] == reader.user_id and not reader.is_cert_staff:
        raise Conflict(_SELF)
    conn.execute(delete(_r).where(_r.c.id == role_id))


def list_roles(conn: Connection, *, reader: Reader, engagement_id: int) -> list[dict[str, Any]]:
    access.load(conn, reader, engagement_id)
    return roles_of(conn, [engagement_id])[engagement_id]


def roles_of(conn: Connection, engagement_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The people of each test, in the order of :data:`ROLES` (one query)."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in engagement_ids}
    if not engagement_ids:
        return out
    q = (select(_r, users.c.email.label("user_email"), users.c.name.label("user_name"))
         .outerjoin(users, users.c.id == _r.c.user_id).where(_r.c.engagement_id.in_(engagement_ids)))
    order = list(ROLES)
    for r in sorted(conn.execute(q).mappings(), key=lambda r: (order.index(r["role"]), r["id"])):
        out[r["engagement_id"]].append(_out(r))
    return out


def _out(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "engagement_id": r["engagement_id"], "role": r["role"], "role_name": ROLES[r["role"]],
            "name": r["name"], "email": r["email"], "company": r["company"],
            "user": {"id": r["user_id"], "email": r["user_email"], "name": r["user_name"]} if r["user_id"] else None}


def _visible(conn: Connection, reader: Reader, role_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The role and its engagement's row (locked), or NotFound alike when either is not to be seen."""
    found = _row(conn, role_id)
    try:
        return found, access.load(conn, reader, found["engagement_id"], lock=True)
    except NotFound:
        raise NotFound(f"no role {role_id}") from None


def _row(conn: Connection, role_id: int) -> dict[str, Any]:
    found = conn.execute(select(_r).where(_r.c.id == role_id)).mappings().first()
    if found is None:
        raise NotFound(f"no role {role_id}")
    return dict(found)


def _one(conn: Connection, role_id: int) -> dict[str, Any]:
    engagement_id = _row(conn, role_id)["engagement_id"]
    return next(r for r in roles_of(conn, [engagement_id])[engagement_id] if r["id"] == role_id)


def _checked(conn: Connection, engagement: dict[str, Any], values: dict[str, Any], *, exclude: int | None
             ) -> dict[str, Any]:
    problems = Problems()
    role = problems.choice(values["role"], "role", ROLES)
    out: dict[str, Any] = {
        "role": role,
        "name": problems.text(values["name"], "name", limit=200),
        "email": problems.text(values["email"], "email", limit=320).lower(),
        "company": problems.text(values["company"], "company", limit=200, required=False) or None,
        "user_id": None,
    }
    if out["email"] and not _EMAIL.match(out["email"]):
        problems.add("email", f"{out['email'][:40]!r} is not an e-mail address")
    ref = values["user"]
    if ref not in (None, ""):
        where = users.c.id == int(ref) if isinstance(ref, int) or str(ref).isdigit() \
            else func.lower(users.c.email) == str(ref).strip().lower()
        user = conn.execute(select(users.c.id, users.c.organisation_id, users.c.active).where(where)).first()
        if role is not None and role not in access.CONTROL_TEAM:
            problems.add("user", "only control team members are linked to users of the member")
        elif user is None or not user.active:
            problems.add("user", f"no active user {ref!r}")
        elif user.organisation_id != engagement["organisation_id"]:
            problems.add("user", "the linked user belongs to the member under test")
        else:
            out["user_id"] = int(user.id)
    if role == "control_team_lead":
        q = select(_r.c.id).where(_r.c.engagement_id == engagement["id"], _r.c.role == "control_team_lead")
        if exclude is not None:
            q = q.where(_r.c.id != exclude)
        if conn.execute(q).first() is not None:
            problems.add("role", "the test has a control team lead already")
    problems.check("the role is not valid")
    return out
