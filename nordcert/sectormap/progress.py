"""The register over time, for the yearly forum: measures counted by status at the end of each month, and each
risk's score month by month with every change. Replayed from the status and score histories, so a month shows
what the register said then, not what it says now. Everyone who reads the register reads this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from nordcert.clock import iso, now_us, us
from nordcert.errors import Invalid, NotFound
from nordcert.sectormap.risks import MEASURE_STATES
from nordcert.sectormap.service import may_read
from nordcert.sectormap.tables import sectormap_measure_history, sectormap_risk_history, sectormap_risks
from nordcert.sharing.policy import Reader


def _months(now: datetime, count: int) -> list[tuple[str, int]]:
    """The last ``count`` months up to ``now``'s, oldest first, each with the moment it ends (exclusive, µs)."""
    year, month = now.year, now.month
    out: list[tuple[str, int]] = []
    for _ in range(count):
        end = datetime(year + (month == 12), 1 if month == 12 else month + 1, 1, tzinfo=UTC)
        out.append((f"{year:04d}-{month:02d}", us(end)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def register_progress(conn: Connection, reader: Reader, *, months: int = 12, now: datetime | None = None
                      ) -> dict[str, Any]:
    """``{"months": [...], "measures_by_status": [{"month", planned, in_progress, done, cancelled}],
    "risks": [{"id", "title", "status", "scores": [score or None per month], "changes": [...]}]}``."""
    if not may_read(reader):
        raise NotFound("no risk register")
    if not 1 <= months <= 120:
        raise Invalid("months must be between 1 and 120")
    moment = now or datetime.fromtimestamp(now_us() / 1e6, UTC)
    spans = _months(moment, months)
    h = sectormap_measure_history
    changes: dict[int, list[tuple[int, str]]] = {}
    for measure_id, status, at in conn.execute(select(h.c.measure_id, h.c.status, h.c.changed_at)
                                               .order_by(h.c.changed_at, h.c.id)):
        changes.setdefault(measure_id, []).append((at, status))
    by_month = []
    for label, end in spans:
        counts = dict.fromkeys(MEASURE_STATES, 0)
        for history in changes.values():
            state = _as_of(history, end)
            if state is not None:
                counts[state] += 1
        by_month.append({"month": label, **counts})
    rh = sectormap_risk_history
    risk_changes: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(select(rh).order_by(rh.c.changed_at, rh.c.id)):
        risk_changes.setdefault(row.risk_id, []).append({"at": row.changed_at, "likelihood": row.likelihood,
                                                         "impact": row.impact, "score": row.score,
                                                         "status": row.status})
    r = sectormap_risks
    risks = []
    for risk_id, title, status in conn.execute(select(r.c.id, r.c.title, r.c.status).order_by(r.c.score.desc(),
                                                                                               r.c.id)):
        steps = risk_changes.get(risk_id, [])
        risks.append({
            "id": risk_id, "title": title, "status": status,
            "scores": [_as_of([(c["at"], c["score"]) for c in steps], end) for _label, end in spans],
            "changes": [{**c, "at": iso(c["at"])} for c in steps],
        })
    return {"months": [label for label, _end in spans], "measures_by_status": by_month, "risks": risks}


def _as_of(history: list[tuple[int, Any]], end: int) -> Any:
    """The value of the last change before ``end`` (the history is in time order), or None."""
    found = None
    for at, value in history:
        if at >= end:
            break
        found = value
    return found
