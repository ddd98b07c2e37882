"""What an engagement shows: its member, scope and providers, the phases with their planned and actual dates, the
deadlines that follow from them (overdue marked), the rules it breaks as warnings (from the member's history of
tests), and its remediation progress. Built for many engagements at once in a fixed number of queries.

Callers have checked that the reader may see every row passed in (:mod:`.access`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from nordcert import clock
from nordcert.accounts.tables import organisations
from nordcert.redteam import phases, remediation, roles
from nordcert.redteam.phases import PHASES, PhaseDates
from nordcert.redteam.tables import redteam_engagements, redteam_phase_dates

FRAMEWORK_NAMES = {"tiber_eu": "TIBER-EU", "dora_tlpt": "DORA TLPT"}
_e, _d = redteam_engagements, redteam_phase_dates


def engagements(conn: Connection, rows: Sequence[dict[str, Any]], *, today: date, detail: bool
                ) -> list[dict[str, Any]]:
    """Each row as the API and pages show it; ``detail`` adds the people of the test."""
    ids = [r["id"] for r in rows]
    dates = _dates(conn, ids)
    history = _history(conn, {r["organisation_id"] for r in rows})
    progress = remediation.progress_by_engagement(conn, ids, today=today)
    names = _organisations(conn, {r["organisation_id"] for r in rows})
    people = roles.roles_of(conn, ids) if detail else {}
    out = []
    for r in rows:
        mine = dates[r["id"]]
        earlier, later = _around(history[r["organisation_id"]], r)
        found = phases.deadlines(mine, notified_on=r["notified_on"], attested_on=r["attested_on"],
                                 next_test_on=later, today=today)
        upcoming = phases.next_deadline(found)
        current = phases.index_of(r["phase"])
        item: dict[str, Any] = {
            "id": r["id"], "organisation": names[r["organisation_id"]], "name": r["name"],
            "framework": r["framework"], "framework_name": FRAMEWORK_NAMES[r["framework"]],
            "tiber_implementation": r["tiber_implementation"],
            "significant_credit_institution": r["significant_credit_institution"],
            "scope": {"functions": orjson.loads(r["functions"]), "systems": orjson.loads(r["systems"]),
                      "flags": orjson.loads(r["flags"])},
            "providers": {"ti_provider": r["ti_provider"], "rt_provider": r["rt_provider"],
                          "rt_provider_kind": r["rt_provider_kind"]},
            "phase": r["phase"], "phase_name": phases.BY_KEY[r["phase"]].name,
            "next_phase": phases.next_phase(r["phase"]) if r["phase"] != "attestation" else None,
            "status": "attested" if r["attested_on"] else "active",
            "opened_on": r["opened_on"].isoformat(), "notified_on": _iso(r["notified_on"]),
            "attestation": {"attested_on": r["attested_on"].isoformat(), "reference": r["attestation_reference"],
                            "note": r["attestation_note"]} if r["attested_on"] else None,
            "phases": [{
                "key": p.key, "name": p.name, "stage": p.stage, "source": p.source, "optional": p.optional,
                **_dates_out(mine.get(p.key)),
                "current": i == current and not r["attested_on"],
                "done": i < current or bool(r["attested_on"]),
                "behind_plan": i >= current and not r["attested_on"]
                and phases.behind_plan(mine.get(p.key, PhaseDates()), today=today),
            } for i, p in enumerate(PHASES)],
            "deadlines": [_deadline(d) for d in found],
            "next_deadline": _deadline(upcoming) if upcoming else None,
            "overdue": [d.key for d in found if d.state == "overdue"],
            "warnings": [asdict(w) for w in phases.warnings(
                mine, framework=r["framework"], significant_credit_institution=r["significant_credit_institution"],
                rt_provider_kind=r["rt_provider_kind"], earlier_kinds=earlier)],
            "progress": progress[r["id"]],
            "created_at": clock.iso(r["created_at"]), "updated_at": clock.iso(r["updated_at"]),
        }
        if detail:
            item["roles"] = people[r["id"]]
        out.append(item)
    return out


def _dates_out(d: PhaseDates | None) -> dict[str, str | None]:
    d = d or PhaseDates()
    return {"planned_start": _iso(d.planned_start), "planned_end": _iso(d.planned_end),
            "actual_start": _iso(d.actual_start), "actual_end": _iso(d.actual_end)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _deadline(d: phases.Deadline) -> dict[str, Any]:
    return {"key": d.key, "name": d.name, "rule": d.rule, "source": d.source, "due_on": _iso(d.due_on),
            "from_planned": d.from_planned, "done_on": _iso(d.done_on), "state": d.state}


def _dates(conn: Connection, ids: list[int]) -> dict[int, dict[str, PhaseDates]]:
    out: dict[int, dict[str, PhaseDates]] = {i: {} for i in ids}
    if ids:
        for r in conn.execute(select(_d).where(_d.c.engagement_id.in_(ids))).mappings():
            out[r["engagement_id"]][r["phase"]] = PhaseDates(r["planned_start"], r["planned_end"],
                                                             r["actual_start"], r["actual_end"])
    return out


def _history(conn: Connection, org_ids: set[int]) -> dict[int, list[tuple[date, int, str | None]]]:
    """Every test of these members, oldest first: (opened on, id, red team provider's kind)."""
    out: dict[int, list[tuple[date, int, str | None]]] = defaultdict(list)
    if org_ids:
        q = (select(_e.c.organisation_id, _e.c.opened_on, _e.c.id, _e.c.rt_provider_kind)
             .where(_e.c.organisation_id.in_(sorted(org_ids))).order_by(_e.c.opened_on, _e.c.id))
        for org, opened, eid, kind in conn.execute(q):
            out[org].append((opened, eid, kind))
    return out


def _around(tests: list[tuple[date, int, str | None]], row: dict[str, Any]) -> tuple[list[str | None], date | None]:
    """The kinds of the member's tests before this one, and the day the next one opened (None: none yet)."""
    at = next(i for i, t in enumerate(tests) if t[1] == row["id"])
    later = tests[at + 1][0] if at + 1 < len(tests) else None
    return [t[2] for t in tests[:at]], later


def _organisations(conn: Connection, ids: set[int]) -> dict[int, dict[str, Any]]:
    o = organisations.c
    return {r.id: {"id": r.id, "name": r.name, "short_name": r.short_name, "sector_type": r.sector_type}
            for r in conn.execute(select(o.id, o.name, o.short_name, o.sector_type).where(o.id.in_(sorted(ids))))}
