"""Members' status of their critical services during a crisis: submitted several services at once, all or
nothing, and kept as an append-only history (the history is the timeline).

| reader                                                   | submit status        | read status reports |
|----------------------------------------------------------|----------------------|---------------------|
| analyst, risk_officer of a member organisation           | yes, its own         | its own             |
| reader of a member organisation                          | no (Forbidden)       | its own             |
| cert_admin (CERT staff)                                  | no (Forbidden): members report | all       |
| users of a CERT or an authority (they watch, not report) | no (Forbidden)       | none                |
| a federation peer                                        | NotFound, as for a missing crisis          |

A member's current status of a service is its latest report: the latest ``observed_at``, and of two
observed at the same moment the one stored last. A closed crisis takes no reports (Conflict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, insert, select, true

from nordcert.accounts.tables import organisations, users
from nordcert.clock import iso, now_us, us
from nordcert.crisis.service import (
    MAX_PAGE,
    NON_REPORTING_SECTORS,
    REPORTERS,
    SERVICES,
    STATUSES,
    load,
    require_active,
    sector_of,
)
from nordcert.crisis.tables import crisis_status_reports
from nordcert.errors import Forbidden, Invalid
from nordcert.sharing.policy import Reader, Role

MAX_COMMENT = 2000
_CLOCK_SKEW = timedelta(minutes=5)
#: How long before the declaration an observation may lie (an outage often starts before the crisis is called).
_BEFORE_DECLARATION = timedelta(days=7)
_r = crisis_status_reports


def read_clause(reader: Reader) -> ColumnElement[bool]:
    """The SQL form of :func:`nordcert.crisis.service.may_see_member_status` for rows of status reports."""
    if reader.is_cert_staff:
        return true()
    if reader.role is Role.PEER:
        return false()
    return _r.c.organisation_id == reader.organisation_id


def submit_status(conn: Connection, reader: Reader, crisis_id: int, *, statuses: Sequence[Mapping[str, Any]],
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """Record the reader's organisation's status of one or more services; returns the reports stored.

    Each item holds ``service``, ``status``, optionally ``comment`` and ``observed_at`` (an aware datetime
    or ISO 8601 text; default: now). Any bad item refuses the whole submission, naming every problem.
    """
    row = load(conn, reader, crisis_id, share=True)
    _require_reporter(conn, reader)
    require_active(row, "status reports")
    stamp = us(now) if now else now_us()
    checked = _checked(statuses, now=stamp, declared_at=row["declared_at"])
    ids = conn.execute(insert(_r).returning(_r.c.id, sort_by_parameter_order=True), [
        {**item, "crisis_id": crisis_id, "organisation_id": reader.organisation_id, "submitted_by": reader.user_id,
         "submitted_at": stamp} for item in checked]).scalars().all()
    stored = {r["id"]: r for r in _query(conn, _r.c.id.in_(ids))}
    return [stored[i] for i in ids]


def list_status_reports(conn: Connection, reader: Reader, crisis_id: int, *, organisation_id: int | None = None,
                        service: str | None = None, limit: int = MAX_PAGE) -> list[dict[str, Any]]:
    """The status reports the reader may see on a crisis (CERT staff: all; a member: its own), newest
    observation first."""
    load(conn, reader, crisis_id)
    if service is not None and service not in SERVICES:
        raise Invalid(f"service {service!r} is not one of: {', '.join(SERVICES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    where = [_r.c.crisis_id == crisis_id, read_clause(reader)]
    if organisation_id is not None:
        where.append(_r.c.organisation_id == organisation_id)
    if service is not None:
        where.append(_r.c.service == service)
    return _query(conn, *where, limit=limit)


def _require_reporter(conn: Connection, reader: Reader) -> None:
    if reader.is_cert_staff:
        raise Forbidden("members report the status of their services; CERT staff read it")
    if reader.role not in REPORTERS:
        raise Forbidden(f"role {reader.role.value} may read your organisation's status reports; submitting them "
                        "needs analyst or risk_officer")
    sector = sector_of(conn, reader.organisation_id)
    if sector in NON_REPORTING_SECTORS:
        raise Forbidden(f"organisations of type {sector} follow the situation picture; members report status")


def _checked(statuses: Sequence[Mapping[str, Any]], *, now: int, declared_at: int) -> list[dict[str, Any]]:
    """The items as stored, or Invalid listing every problem (``statuses.N.field``)."""
    if not statuses:
        raise Invalid("a submission holds the status of at least one service",
                      details=[{"field": "statuses", "reason": "at least one item"}])
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    rows = []
    for n, item in enumerate(statuses):
        at = f"statuses.{n}"
        service, status = item.get("service"), item.get("status")
        comment = str(item.get("comment") or "").strip()
        if service not in SERVICES:
            problems.append({"field": f"{at}.service", "reason": f"{service!r} is not one of: {', '.join(SERVICES)}"})
        elif service in seen:
            problems.append({"field": f"{at}.service", "reason": f"{service} is given twice: once per submission"})
        else:
            seen.add(service)
        if status not in STATUSES:
            problems.append({"field": f"{at}.status", "reason": f"{status!r} is not one of: {', '.join(STATUSES)}"})
        if len(comment) > MAX_COMMENT:
            problems.append({"field": f"{at}.comment", "reason": f"at most {MAX_COMMENT} characters"})
        observed, why = _observed(item.get("observed_at"), now=now, declared_at=declared_at)
        if why:
            problems.append({"field": f"{at}.observed_at", "reason": why})
        rows.append({"service": service, "status": status, "comment": comment, "observed_at": observed})
    if problems:
        raise Invalid("the status report is not valid: nothing was stored", details=problems)
    return rows


def _observed(value: Any, *, now: int, declared_at: int) -> tuple[int, str | None]:
    if value is None or value == "":
        return now, None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return now, f"{value[:40]!r} is not an ISO 8601 time"
    if not isinstance(value, datetime):
        return now, "a time with a time zone"
    if value.tzinfo is None:
        return now, "needs a time zone (an offset such as +01:00, or Z)"
    moment = us(value)
    if moment > now + _span_us(_CLOCK_SKEW):
        return now, "lies in the future"
    if moment < declared_at - _span_us(_BEFORE_DECLARATION):
        return now, f"lies more than {_BEFORE_DECLARATION.days} days before the crisis was declared"
    return moment, None


def _span_us(span: timedelta) -> int:
    return span // timedelta(microseconds=1)


def _query(conn: Connection, *where: ColumnElement[bool], limit: int | None = None) -> list[dict[str, Any]]:
    q = (select(_r, organisations.c.name, organisations.c.short_name, organisations.c.sector_type,
                users.c.email.label("submitted_by_email"))
         .join(organisations, organisations.c.id == _r.c.organisation_id)
         .outerjoin(users, users.c.id == _r.c.submitted_by)
         .where(*where).order_by(_r.c.observed_at.desc(), _r.c.id.desc()))
    if limit is not None:
        q = q.limit(limit)
    return [report_out(dict(r)) for r in conn.execute(q).mappings()]


def report_out(r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"], "crisis_id": r["crisis_id"],
        "organisation": {"id": r["organisation_id"], "name": r["name"], "short_name": r["short_name"],
                         "sector_type": r["sector_type"]},
        "service": r["service"], "service_name": SERVICES[r["service"]], "status": r["status"],
        "comment": r["comment"], "observed_at": iso(r["observed_at"]), "submitted_at": iso(r["submitted_at"]),
        "submitted_by": r["submitted_by_email"],
    }
