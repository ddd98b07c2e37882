"""Remediation of a test's findings (CDR 2025/1190 Art 13(2)): per finding, measures with the staff or function
responsible, a priority, an expected completion date, a status and the residual risk; each status change is kept
in the measure's history, and dated notes record how it goes.

A measure is overdue while it is open or in progress after its due date (UTC). Progress counts a measure as
resolved when it is done or its risk is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from nordcert import clock
from nordcert.accounts.tables import users
from nordcert.errors import Invalid, NotFound
from nordcert.redteam import access
from nordcert.redteam.checks import Problems
from nordcert.redteam.tables import (
    redteam_findings,
    redteam_measure_history,
    redteam_measure_notes,
    redteam_measures,
)
from nordcert.sharing.policy import Reader

STATES: dict[str, str] = {"open": "open", "in_progress": "in progress", "done": "done",
                          "accepted_risk": "accepted risk"}
RESOLVED = ("done", "accepted_risk")
UNRESOLVED = ("open", "in_progress")
PRIORITIES = ("high", "medium", "low")
FIELDS = ("measure", "owner", "priority", "due_on", "status", "residual_risk")
_m, _h, _n, _f = redteam_measures, redteam_measure_history, redteam_measure_notes, redteam_findings


def add_measure(conn: Connection, *, reader: Reader, finding_id: int, measure: str, owner: str,
                priority: str = "medium", due_on: date | str | None = None, status: str = "open",
                residual_risk: str = "", today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A remediation measure for a finding (the control team, CERT staff)."""
    engagement = _engagement_of_finding(conn, reader, finding_id)
    access.require_change(conn, reader, engagement, "plan its remediation")
    values = _checked({"measure": measure, "owner": owner, "priority": priority, "due_on": due_on, "status": status,
                       "residual_risk": residual_risk})
    stamp = clock.us(now) if now else clock.now_us()
    measure_id = int(conn.execute(insert(_m).values(
        **values, finding_id=finding_id, created_by=reader.user_id, created_at=stamp, updated_at=stamp,
    ).returning(_m.c.id)).scalar_one())
    _history(conn, reader, measure_id, values["status"], stamp)
    return get_measure(conn, reader=reader, measure_id=measure_id, today=today)


def update_measure(conn: Connection, *, reader: Reader, measure_id: int, changes: Mapping[str, Any],
                   today: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Change a measure; a new status is kept in its history."""
    found, engagement = _visible(conn, reader, measure_id)
    access.require_change(conn, reader, engagement, "plan its remediation")
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}",
                      details=[{"field": f, "reason": "cannot be changed"} for f in unknown])
    values = _checked({k: found[k] for k in FIELDS} | dict(changes))
    stamp = clock.us(now) if now else clock.now_us()
    if any(values[k] != found[k] for k in values):
        conn.execute(update(_m).where(_m.c.id == measure_id).values(**values, updated_at=stamp))
    if values["status"] != found["status"]:
        _history(conn, reader, measure_id, values["status"], stamp)
    return get_measure(conn, reader=reader, measure_id=measure_id, today=today)


def delete_measure(conn: Connection, *, reader: Reader, measure_id: int) -> None:
    _, engagement = _visible(conn, reader, measure_id)
    access.require_change(conn, reader, engagement, "plan its remediation")
    conn.execute(delete(_m).where(_m.c.id == measure_id))


def add_note(conn: Connection, *, reader: Reader, measure_id: int, text: str, today: date | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """A dated note on how a measure goes (the control team, CERT staff)."""
    _, engagement = _visible(conn, reader, measure_id)
    access.require_change(conn, reader, engagement, "plan its remediation")
    problems = Problems()
    text = problems.text(text, "text", limit=32767)
    problems.check("the note is not valid")
    conn.execute(insert(_n).values(measure_id=measure_id, text=text, recorded_by=reader.user_id,
                                   recorded_at=clock.us(now) if now else clock.now_us()))
    return get_measure(conn, reader=reader, measure_id=measure_id, today=today)


def get_measure(conn: Connection, *, reader: Reader, measure_id: int, today: date | None = None) -> dict[str, Any]:
    found, _ = _visible(conn, reader, measure_id)
    return measures_of(conn, [found["finding_id"]], today=today or clock.now().date(),
                       only=measure_id)[found["finding_id"]][0]


def measures_of(conn: Connection, finding_ids: Sequence[int], *, today: date, only: int | None = None
                ) -> dict[int, list[dict[str, Any]]]:
    """The measures of each finding with their notes and status histories, in three queries."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in finding_ids}
    if not finding_ids:
        return out
    q = select(_m).where(_m.c.finding_id.in_(list(finding_ids)))
    if only is not None:
        q = q.where(_m.c.id == only)
    rows = list(conn.execute(q.order_by(_m.c.id)).mappings())
    ids = [r["id"] for r in rows]
    notes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    history: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for n in conn.execute(select(_n, users.c.email).outerjoin(users, users.c.id == _n.c.recorded_by)
                              .where(_n.c.measure_id.in_(ids)).order_by(_n.c.recorded_at, _n.c.id)).mappings():
            notes[n["measure_id"]].append({"id": n["id"], "text": n["text"], "recorded_by": n["email"],
                                           "recorded_at": clock.iso(n["recorded_at"])})
        for h in conn.execute(select(_h, users.c.email).outerjoin(users, users.c.id == _h.c.changed_by)
                              .where(_h.c.measure_id.in_(ids)).order_by(_h.c.changed_at, _h.c.id)).mappings():
            history[h["measure_id"]].append({"status": h["status"], "changed_by": h["email"],
                                             "changed_at": clock.iso(h["changed_at"])})
    for r in rows:
        out[r["finding_id"]].append({
            "id": r["id"], "finding_id": r["finding_id"], "measure": r["measure"], "owner": r["owner"],
            "priority": r["priority"], "due_on": r["due_on"].isoformat() if r["due_on"] else None,
            "status": r["status"], "status_name": STATES[r["status"]], "residual_risk": r["residual_risk"],
            "overdue": overdue(r["status"], r["due_on"], today), "notes": notes[r["id"]],
            "history": history[r["id"]], "created_at": clock.iso(r["created_at"]),
            "updated_at": clock.iso(r["updated_at"]),
        })
    return out


def overdue(status: str, due_on: date | None, today: date) -> bool:
    return status in UNRESOLVED and due_on is not None and today > due_on


def progress(measures: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Measures counted by status, resolved (done or risk accepted) of all, and overdue."""
    counts = dict.fromkeys(STATES, 0)
    for m in measures:
        counts[m["status"]] += 1
    return {**counts, "total": len(measures), "resolved": counts["done"] + counts["accepted_risk"],
            "overdue": sum(1 for m in measures if m["overdue"])}


def progress_by_engagement(conn: Connection, engagement_ids: Sequence[int], *, today: date
                           ) -> dict[int, dict[str, int]]:
    """Findings and measures counted per engagement (two grouped queries)."""
    out = {i: {"findings": 0, **dict.fromkeys(STATES, 0), "total": 0, "resolved": 0, "overdue": 0}
           for i in engagement_ids}
    if not engagement_ids:
        return out
    for eid, n in conn.execute(select(_f.c.engagement_id, func.count()).where(
            _f.c.engagement_id.in_(list(engagement_ids))).group_by(_f.c.engagement_id)):
        out[eid]["findings"] = n
    q = (select(_f.c.engagement_id, _m.c.status, _m.c.due_on).join(_f, _f.c.id == _m.c.finding_id)
         .where(_f.c.engagement_id.in_(list(engagement_ids))))
    for eid, status, due in conn.execute(q):
        p = out[eid]
        p[status] += 1
        p["total"] += 1
        p["resolved"] += status in RESOLVED
        p["overdue"] += overdue(status, due, today)
    return out


def _engagement_of_finding(conn: Connection, reader: Reader, finding_id: int) -> dict[str, Any]:
    engagement_id = conn.execute(select(_f.c.engagement_id).where(_f.c.id == finding_id)).scalar()
    try:
        if engagement_id is None:
            raise NotFound("missing")
        return access.load(conn, reader, int(engagement_id), lock=True)
    except NotFound:
        raise NotFound(f"no finding {finding_id}") from None


def _visible(conn: Connection, reader: Reader, measure_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The measure and its engagement's row, or NotFound alike when either is not to be seen."""
    found = conn.execute(select(_m, _f.c.engagement_id).join(_f, _f.c.id == _m.c.finding_id)
                         .where(_m.c.id == measure_id)).mappings().first()
    try:
        if found is None:
            raise NotFound("missing")
        return dict(found), access.load(conn, reader, int(found["engagement_id"]))
    except NotFound:
        raise NotFound(f"no measure {measure_id}") from None


def _history(conn: Connection, reader: Reader, measure_id: int, status: str, stamp: int) -> None:
    conn.execute(insert(_h).values(measure_id=measure_id, status=status, changed_by=reader.user_id, changed_at=stamp))


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    problems = Problems()
    out = {
        "measure": problems.text(values["measure"], "measure", limit=32767),
        "owner": problems.text(values["owner"], "owner", limit=200),
        "priority": problems.choice(values["priority"], "priority", PRIORITIES),
        "due_on": problems.day(values["due_on"], "due_on"),
        "status": problems.choice(values["status"], "status", STATES),
        "residual_risk": problems.text(values["residual_risk"], "residual_risk", limit=32767, required=False),
    }
    problems.check("the remediation measure is not valid")
    return out
