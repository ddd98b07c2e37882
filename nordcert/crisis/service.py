"""Crises: CERT staff declare, update and close a crisis and broadcast to the members; the vocabulary and the
access rules every crisis module shares.

Who may do what (the sharing policy decides; a crisis and its broadcasts are treated as TLP:AMBER without a
sharing group, a member's own status reports as TLP:RED without recipients):

| reader                                              | crisis, broadcasts | declare, change, close, broadcast |
|-----------------------------------------------------|--------------------|-----------------------------------|
| cert_admin (CERT staff)                             | yes                | yes                               |
| any other user of any organisation                  | yes                | no (Forbidden)                    |
| a federation peer's service account                 | no: NotFound, as for a missing crisis; crises are not federated |

Status reports, the situation picture and follow-up actions add their own rules in :mod:`.status`,
:mod:`.picture` and :mod:`.followup`. Declaring and closing a crisis record a broadcast, which is how members
are notified.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update

from nordcert.accounts.tables import organisations, users
from nordcert.clock import iso, now_us, us
from nordcert.crisis.tables import crises, crisis_broadcasts
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role, Sharing
from nordcert.sharing.tlp import Tlp

SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("active", "closed")
#: The critical services members report on: id → display name (the order is the picture's row order).
SERVICES: dict[str, str] = {
    "payments": "Payments",
    "card_payments": "Card payments",
    "online_mobile_banking": "Online and mobile banking",
    "cash_atm": "Cash and ATMs",
    "securities_settlement": "Securities settlement",
    "customer_service": "Customer service",
    "internal_it": "Internal IT",
}
#: A service's status, best first; the worst of several is the one furthest along.
STATUSES = ("operational", "degraded", "down")
NOT_REPORTED = "not_reported"
#: Organisations that watch rather than report: CERTs (this one and federation peers) and the authorities.
NON_REPORTING_SECTORS = ("cert", "authority")
#: The roles of a member's users who submit status; readers read, CERT staff coordinate.
REPORTERS = frozenset({Role.ANALYST, Role.RISK_OFFICER})
MAX_PAGE = 1000
_BROADCAST_KINDS = ("declared", "message", "closed")
_UPDATABLE = frozenset({"title", "scope", "severity"})
_t = crises

_CRISIS = Sharing(creator_org_id=None, tlp=Tlp.AMBER)


# --- access ---------------------------------------------------------------------------------------


def may_read(reader: Reader | None) -> bool:
    """May ``reader`` see crises and their broadcasts? Every member organisation's users and CERT staff."""
    return policy.visible(_CRISIS, reader)


def may_see_member_status(reader: Reader, organisation_id: int) -> bool:
    """May ``reader`` see what one member organisation reported? Its own users and CERT staff only."""
    return policy.visible(Sharing(creator_org_id=organisation_id, tlp=Tlp.RED), reader)


def require_staff(reader: Reader, doing: str) -> None:
    if not reader.is_cert_staff:
        raise Forbidden(f"only CERT staff (cert_admin) {doing}")


def load(conn: Connection, reader: Reader, crisis_id: int, *, lock: bool = False, share: bool = False
         ) -> dict[str, Any]:
    """The crisis row, or NotFound when it does not exist or the reader may not see crises at all.

    ``lock`` takes the row for update (closing it); ``share`` keeps it from being closed while this
    transaction adds to it (PostgreSQL; on SQLite the write lock serialises writers anyway).
    """
    if not may_read(reader):
        raise NotFound(f"no crisis {crisis_id}")
    q: Select[Any] = select(_t, users.c.email.label("declared_by_email")).outerjoin(
        users, users.c.id == _t.c.declared_by).where(_t.c.id == crisis_id)
    if lock or share:
        q = q.with_for_update(of=_t, read=share and not lock)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no crisis {crisis_id}")
    return dict(row)


def require_active(row: Mapping[str, Any], doing: str) -> None:
    if row["status"] == "closed":
        raise Conflict(f"crisis {row['id']} is closed: it takes no more {doing}")


def sector_of(conn: Connection, organisation_id: int) -> str:
    return str(conn.execute(select(organisations.c.sector_type)
                            .where(organisations.c.id == organisation_id)).scalar_one())


# --- crises ---------------------------------------------------------------------------------------


def declare_crisis(conn: Connection, reader: Reader, *, title: str, scope: str, severity: str,
                   is_exercise: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """Declare a crisis and notify the members with a broadcast (CERT staff)."""
    require_staff(reader, "declare a crisis")
    values = _checked({"title": title, "scope": scope, "severity": severity})
    stamp = us(now) if now else now_us()
    crisis_id = conn.execute(insert(_t).values(
        **values, is_exercise=bool(is_exercise), status="active", declared_by=reader.user_id, declared_at=stamp,
        updated_at=stamp).returning(_t.c.id)).scalar_one()
    marker = "EXERCISE. " if is_exercise else ""
    _broadcast(conn, reader, crisis_id, "declared", stamp,
               f"{marker}Crisis declared: {values['title']} (severity {values['severity']}).\nScope: {values['scope']}\n"
               "Report the status of your critical services now, and again on every change.")
    return get_crisis(conn, reader, crisis_id)


def update_crisis(conn: Connection, reader: Reader, crisis_id: int, *, changes: Mapping[str, Any],
                  now: datetime | None = None) -> dict[str, Any]:
    """Change a crisis's title, scope or severity (CERT staff; not once it is closed)."""
    require_staff(reader, "change a crisis")
    row = load(conn, reader, crisis_id, lock=True)
    unknown = sorted(set(changes) - _UPDATABLE)
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}")
    require_active(row, "changes")
    values = _checked({**{k: row[k] for k in _UPDATABLE}, **{k: v for k, v in changes.items() if v is not None}})
    conn.execute(update(_t).where(_t.c.id == crisis_id).values(**values, updated_at=us(now) if now else now_us()))
    return get_crisis(conn, reader, crisis_id)


def close_crisis(conn: Connection, reader: Reader, crisis_id: int, *, summary: str,
                 now: datetime | None = None) -> dict[str, Any]:
    """Close a crisis with a summary and tell the members (CERT staff). It then takes no status reports."""
    require_staff(reader, "close a crisis")
    row = load(conn, reader, crisis_id, lock=True)
    require_active(row, "closing")
    summary = (summary or "").strip()
    if not summary or len(summary) > 32767:
        raise Invalid("a crisis is closed with a summary", details=[
            {"field": "summary", "reason": "required, 1 to 32767 characters"}])
    stamp = us(now) if now else now_us()
    conn.execute(update(_t).where(_t.c.id == crisis_id).values(
        status="closed", summary=summary, closed_by=reader.user_id, closed_at=stamp, updated_at=stamp))
    _broadcast(conn, reader, crisis_id, "closed", stamp, f"Crisis closed: {row['title']}.\n{summary}")
    return get_crisis(conn, reader, crisis_id)


def get_crisis(conn: Connection, reader: Reader, crisis_id: int) -> dict[str, Any]:
    """One crisis: its declaration, state and, once closed, its summary."""
    return crisis_out(load(conn, reader, crisis_id))


def list_crises(conn: Connection, reader: Reader, *, status: str | None = None, exercise: bool | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    """Crises, newest declaration first; active and closed, real and exercises, unless filtered."""
    if status is not None and status not in STATES:
        raise Invalid(f"status {status!r} is not one of: {', '.join(STATES)}")
    _check_limit(limit)
    if not may_read(reader):
        return []
    q = select(_t, users.c.email.label("declared_by_email")).outerjoin(users, users.c.id == _t.c.declared_by)
    if status is not None:
        q = q.where(_t.c.status == status)
    if exercise is not None:
        q = q.where(_t.c.is_exercise.is_(exercise))
    q = q.order_by(_t.c.declared_at.desc(), _t.c.id.desc()).limit(limit)
    return [crisis_out(dict(r)) for r in conn.execute(q).mappings()]


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    for name, limit in (("title", 300), ("scope", 32767)):
        values[name] = str(values[name] or "").strip()
        if not values[name] or len(values[name]) > limit:
            problems.append({"field": name, "reason": f"required, 1 to {limit} characters"})
    if values["severity"] not in SEVERITIES:
        problems.append({"field": "severity", "reason": f"{values['severity']!r} is not one of: "
                                                        f"{', '.join(SEVERITIES)}"})
    if problems:
        raise Invalid("the crisis is not valid", details=problems)
    return values


def crisis_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "title": row["title"], "scope": row["scope"], "severity": row["severity"],
        "is_exercise": row["is_exercise"], "status": row["status"], "summary": row["summary"],
        "declared_by": row["declared_by_email"], "declared_at": iso(row["declared_at"]),
        "updated_at": iso(row["updated_at"]), "closed_at": iso(row["closed_at"]),
    }


# --- broadcasts -----------------------------------------------------------------------------------


def post_broadcast(conn: Connection, reader: Reader, crisis_id: int, *, body: str,
                   now: datetime | None = None) -> dict[str, Any]:
    """A message from CERT staff to every member on an active crisis (guidance, the next briefing, …)."""
    require_staff(reader, "broadcast to the members")
    row = load(conn, reader, crisis_id, share=True)
    require_active(row, "broadcasts")
    body = (body or "").strip()
    if not body or len(body) > 32767:
        raise Invalid("the broadcast is not valid", details=[{"field": "body", "reason": "required, 1 to 32767 "
                                                                                         "characters"}])
    broadcast_id = _broadcast(conn, reader, crisis_id, "message", us(now) if now else now_us(), body)
    return next(b for b in list_broadcasts(conn, reader, crisis_id=crisis_id) if b["id"] == broadcast_id)


def list_broadcasts(conn: Connection, reader: Reader, *, crisis_id: int | None = None, limit: int = 100
                    ) -> list[dict[str, Any]]:
    """Broadcasts, newest first: of one crisis, or of every crisis (a feed for everyone logged in)."""
    _check_limit(limit)
    if crisis_id is not None:
        load(conn, reader, crisis_id)
    elif not may_read(reader):
        return []
    b = crisis_broadcasts
    q = (select(b, _t.c.title.label("crisis_title"), _t.c.is_exercise, users.c.email.label("posted_by_email"))
         .join(_t, _t.c.id == b.c.crisis_id).outerjoin(users, users.c.id == b.c.posted_by))
    if crisis_id is not None:
        q = q.where(b.c.crisis_id == crisis_id)
    q = q.order_by(b.c.posted_at.desc(), b.c.id.desc()).limit(limit)
    return [{"id": r["id"], "crisis": {"id": r["crisis_id"], "title": r["crisis_title"], "is_exercise": r["is_exercise"]},
             "kind": r["kind"], "body": r["body"], "posted_by": r["posted_by_email"], "posted_at": iso(r["posted_at"])}
            for r in conn.execute(q).mappings()]


def _broadcast(conn: Connection, reader: Reader, crisis_id: int, kind: str, stamp: int, body: str) -> int:
    assert kind in _BROADCAST_KINDS
    return int(conn.execute(insert(crisis_broadcasts).values(
        crisis_id=crisis_id, kind=kind, body=body, posted_by=reader.user_id, posted_at=stamp,
    ).returning(crisis_broadcasts.c.id)).scalar_one())


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")


