"""Reminders of report deadlines (CDR (EU) 2025/301 Art 5), a job of ``nordcert worker``.

Once a minute the worker asks :func:`remind_due` for the incidents whose next report is due within the
hour or overdue. Each deadline is reminded of once: the reminder is a row of ``incident_reminders``
keyed by incident, report kind and deadline, so that any number of workers remind of it once between
them, and a deadline that moves (the next report, facts that change the classification) is reminded of
afresh. A deadline reminded of while due within the hour is not reminded of again when it passes.

The reminder is logged (``nordcert.incidents.reminders``: a warning when overdue, else info), where
operators route it to people.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists, select

from nordcert import clock
from nordcert.accounts.tables import organisations
from nordcert.db import transaction, upsert_insert
from nordcert.incidents import deadlines
from nordcert.incidents.deadlines import ReportKind
from nordcert.incidents.tables import incident_reminders, incidents

log = logging.getLogger("nordcert.incidents.reminders")

#: How long before its deadline a report is reminded of.
REMIND_BEFORE = timedelta(hours=1)
_NAMES = {"initial_notification": "initial notification", "intermediate_report": "intermediate report",
          "final_report": "final report"}
_t, _r = incidents, incident_reminders


@dataclass(frozen=True)
class Reminder:
    """A report of an incident due within the hour, or overdue, at ``reminded_at``."""

    incident_id: int
    reference: str
    organisation: str
    kind: ReportKind
    due_at: datetime
    timezone: str
    reminded_at: datetime

    @property
    def overdue(self) -> bool:
        return self.due_at < self.reminded_at

    @property
    def message(self) -> str:
        left = self.due_at - self.reminded_at
        when = (f"is overdue by {_span(-left)}" if self.overdue else f"is due in {_span(left)}")
        local = deadlines.show(self.due_at, deadlines.zone_of(self.timezone))
        return (f"incident {self.reference} of {self.organisation}: the {_NAMES[self.kind]} {when} "
                f"(deadline {self.due_at:%Y-%m-%d %H:%M} UTC, {local})")


def remind_due(engine: Engine, *, now: datetime | None = None, before: timedelta = REMIND_BEFORE,
               limit: int = 500) -> list[Reminder]:
    """Record and log a reminder for every incident whose next report is due within ``before`` of ``now``
    or overdue, and whose deadline has not been reminded of yet; returns the reminders recorded.

    Reads first and writes only when there is something to remind of, so a quiet minute takes no
    write lock.
    """
    now = now or clock.now()
    with transaction(engine, write=False) as conn:
        wanted = conn.execute(
            select(_t.c.id, _t.c.reference, _t.c.next_due_kind, _t.c.next_due_at, _t.c.timezone,
                   organisations.c.name)
            .join(organisations, organisations.c.id == _t.c.organisation_id)
            .where(_t.c.next_due_at.is_not(None), _t.c.next_due_at <= clock.us(now + before),
                   ~exists().where(_r.c.incident_id == _t.c.id, _r.c.kind == _t.c.next_due_kind,
                                   _r.c.due_at == _t.c.next_due_at))
            .order_by(_t.c.next_due_at).limit(limit)
        ).all()
    if not wanted:
        return []
    recorded: list[Reminder] = []
    with transaction(engine) as conn:
        for row in wanted:
            if conn.execute(select(_t.c.id).where(  # a report submitted meanwhile moved the deadline
                    _t.c.id == row.id, _t.c.next_due_kind == row.next_due_kind,
                    _t.c.next_due_at == row.next_due_at)).first() is None:
                continue
            reminder = Reminder(incident_id=row.id, reference=row.reference, organisation=row.name,
                                kind=row.next_due_kind, due_at=clock.dt(row.next_due_at), timezone=row.timezone,
                                reminded_at=now)
            # RETURNING answers no row when another worker reminded of this deadline first (rowcount is not
            # reliable for INSERT … ON CONFLICT DO NOTHING across drivers).
            done = conn.execute(upsert_insert(conn, _r).values(
                incident_id=row.id, kind=row.next_due_kind, due_at=row.next_due_at, reminded_at=clock.us(now),
                overdue=reminder.overdue).on_conflict_do_nothing().returning(_r.c.incident_id)).first()
            if done is not None:
                recorded.append(reminder)
    for reminder in recorded:
        log.log(logging.WARNING if reminder.overdue else logging.INFO, "report deadline: %s", reminder.message)
    return recorded


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
