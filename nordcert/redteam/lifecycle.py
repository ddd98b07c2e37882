"""A test's way through its phases: planned and actual dates per phase, the move to the next phase, and the TLPT
authority's attestation that closes it (DORA Art 26(7); CDR 2025/1190 Annex VIII).

A test moves forward one phase at a time (:func:`nordcert.redteam.phases.check_move`; any other move is a
Conflict). Moving on ends the current phase and starts the next on the same day. Preparation is left only once the
scope, the control team lead and both providers are known (CDR 2025/1190 Art 9: the control team is set up, the
providers are selected and the scope is specified before testing starts).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from nordcert.db import upsert_insert
from nordcert.errors import Conflict
from nordcert.redteam import access
from nordcert.redteam.checks import Problems
from nordcert.redteam.phases import BY_KEY, PHASE_KEYS, check_move, index_of
from nordcert.redteam.service import get_engagement, today_utc
from nordcert.redteam.tables import redteam_engagements, redteam_phase_dates, redteam_roles
from nordcert.sharing.policy import Reader

_e, _d = redteam_engagements, redteam_phase_dates
_DATES = ("planned_start", "planned_end", "actual_start", "actual_end")


def set_phase_dates(conn: Connection, *, reader: Reader, engagement_id: int, phase: str,
                    planned_start: date | str | None = None, planned_end: date | str | None = None,
                    actual_start: date | str | None = None, actual_end: date | str | None = None,
                    today: date | None = None) -> dict[str, Any]:
    """Set one phase's planned and actual dates (all four, replacing the old ones; the control team, CERT staff).

    Actual dates are for phases the test has reached, and not in the future; every end comes after its start.
    """
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_change(conn, reader, row, "set its dates")
    today = today or today_utc()
    problems = Problems()
    if problems.choice(phase, "phase", PHASE_KEYS) is None:
        problems.check("the phase's dates are not valid")
    given = {"planned_start": planned_start, "planned_end": planned_end, "actual_start": actual_start,
             "actual_end": actual_end}
    values = {k: problems.day(v, k, not_after=today if k.startswith("actual") else None) for k, v in given.items()}
    for kind in ("planned", "actual"):
        start, end = values[f"{kind}_start"], values[f"{kind}_end"]
        if start is not None and end is not None and end < start:
            problems.add(f"{kind}_end", f"comes before the {kind} start ({start.isoformat()})")
    if values["actual_end"] is not None and values["actual_start"] is None and not problems.has("actual_end"):
        problems.add("actual_start", "a phase that ended has started: give its actual start")
    reached = index_of(phase) <= index_of(row["phase"])
    if not reached:
        for k in ("actual_start", "actual_end"):
            if values[k] is not None:
                problems.add(k, f"the test has not reached {BY_KEY[phase].name} yet (it is in "
                                f"{BY_KEY[row['phase']].name})")
    problems.check("the phase's dates are not valid")
    _upsert(conn, engagement_id, phase, values)
    return get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)


def advance(conn: Connection, *, reader: Reader, engagement_id: int, to: str, on: date | str | None = None,
            today: date | None = None) -> dict[str, Any]:
    """Move the test to its next phase on ``on`` (default today): the current phase ends and ``to`` starts that
    day (dates already recorded are kept). Any other move is a Conflict."""
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_change(conn, reader, row, "move it to its next phase")
    check_move(row["phase"], to)
    if row["phase"] == "preparation":
        _require_prepared(conn, row)
    today = today or today_utc()
    current = _dates(conn, engagement_id, row["phase"])
    problems = Problems()
    day = problems.day(on or today, "on", not_after=today, not_before=current["actual_start"])
    problems.check("the phase change is not valid")
    _upsert(conn, engagement_id, row["phase"], current | {"actual_end": current["actual_end"] or day})
    following = _dates(conn, engagement_id, to)
    _upsert(conn, engagement_id, to, following | {"actual_start": following["actual_start"] or day})
    conn.execute(update(_e).where(_e.c.id == engagement_id).values(phase=to))
    return get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)


def attest(conn: Connection, *, reader: Reader, engagement_id: int, attested_on: date | str | None = None,
           reference: str | None = None, note: str | None = None, today: date | None = None) -> dict[str, Any]:
    """The TLPT authority attests that the test was performed (its risk officers, or CERT staff): once, in the
    attestation phase. The attestation ends that phase; the next test is due 3 years later (DORA Art 26(1))."""
    row = access.load(conn, reader, engagement_id, lock=True)
    access.require_attester(conn, reader)
    if row["phase"] != "attestation":
        raise Conflict(f"the test is in {BY_KEY[row['phase']].name}: it is attested once it reaches the "
                       "attestation phase")
    if row["attested_on"] is not None:
        raise Conflict(f"the test was attested on {row['attested_on'].isoformat()}")
    today = today or today_utc()
    current = _dates(conn, engagement_id, "attestation")
    problems = Problems()
    day = problems.day(attested_on or today, "attested_on", not_after=today, not_before=current["actual_start"])
    values = {"attestation_reference": problems.text(reference, "reference", limit=200, required=False) or None,
              "attestation_note": problems.text(note, "note", limit=32767, required=False) or None}
    problems.check("the attestation is not valid")
    conn.execute(update(_e).where(_e.c.id == engagement_id).values(
        attested_on=day, attested_by=reader.user_id, **values))
    _upsert(conn, engagement_id, "attestation", current | {"actual_end": day})
    return get_engagement(conn, reader=reader, engagement_id=engagement_id, today=today)


def _require_prepared(conn: Connection, row: dict[str, Any]) -> None:
    """Conflict naming what preparation still lacks."""
    missing = []
    if not orjson.loads(row["functions"]):
        missing.append("a critical or important function in scope")
    if not orjson.loads(row["flags"]):
        missing.append("a flag")
    if not row["ti_provider"]:
        missing.append("the threat-intelligence provider")
    if not row["rt_provider"] or not row["rt_provider_kind"]:
        missing.append("the red team provider, internal or external")
    lead = conn.execute(select(redteam_roles.c.id).where(redteam_roles.c.engagement_id == row["id"],
                                                         redteam_roles.c.role == "control_team_lead")).first()
    if lead is None:
        missing.append("the control team lead")
    if missing:
        raise Conflict("preparation is not finished: the test needs " + ", ".join(missing) + " before testing starts")


def _dates(conn: Connection, engagement_id: int, phase: str) -> dict[str, date | None]:
    found = conn.execute(select(*(_d.c[k] for k in _DATES)).where(
        _d.c.engagement_id == engagement_id, _d.c.phase == phase)).first()
    return dict(zip(_DATES, found, strict=True)) if found else dict.fromkeys(_DATES)


def _upsert(conn: Connection, engagement_id: int, phase: str, values: dict[str, date | None]) -> None:
    q = upsert_insert(conn, _d).values(engagement_id=engagement_id, phase=phase, **values)
    conn.execute(q.on_conflict_do_update(index_elements=[_d.c.engagement_id, _d.c.phase], set_=values))
