"""The sector's findings: what red-team tests found across the members, counted by category and severity, with no
member's name, no test's id and no text of a finding.

Counted are the findings of tests whose findings are final: from the remediation plan on (in remediation, or
attested). Every count is a group of members, and a group of fewer than ``min_group`` distinct members (the
setting ``baseline_min_group``, 5 by default) is suppressed:

- the whole view, while fewer than ``min_group`` members have a counted test;
- a category, while fewer than ``min_group`` members have a finding in it;
- a category's count for one severity likewise; and since the category's total is shown, more of its counts are
  suppressed until what the suppressed ones add up to (the total less the counts shown, drawn as "not broken
  down") comes from at least ``min_group`` members, so no small group is found by subtraction;
- the total of all findings, unless the suppressed categories together come from at least ``min_group`` members.

A count of zero names no member and is shown. The reader's own figures (of the tests it sees of its own
organisation) are shown next to the sector's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from nordcert import clock
from nordcert.errors import Forbidden, NotFound
from nordcert.redteam import access
from nordcert.redteam.findings import CATEGORIES, SEVERITIES
from nordcert.redteam.phases import COUNTED_FROM, PHASE_KEYS
from nordcert.redteam.tables import redteam_engagements, redteam_findings
from nordcert.sharing.policy import Reader, Role

COUNTED_PHASES = PHASE_KEYS[PHASE_KEYS.index(COUNTED_FROM):]
_e, _f = redteam_engagements, redteam_findings


def shown_cells(counts: Sequence[int], members: Sequence[frozenset[int]], min_group: int) -> list[bool]:
    """Which of a group's parts may be shown next to the group's total.

    A part is shown when it is zero or comes from at least ``min_group`` members; then further parts, smallest
    count first, are suppressed until the suppressed ones together come from at least ``min_group`` members (or
    every non-zero part is suppressed).
    """
    shown = [n == 0 or len(m) >= min_group for n, m in zip(counts, members, strict=True)]
    hidden: set[int] = set()
    for i, ok in enumerate(shown):
        if not ok:
            hidden |= members[i]
    if all(shown):
        return shown
    while len(hidden) < min_group:
        left = [i for i, ok in enumerate(shown) if ok and counts[i] > 0]
        if not left:
            break
        pick = min(left, key=lambda i: (counts[i], i))
        shown[pick] = False
        hidden |= members[pick]
    return shown


def sector_findings(conn: Connection, *, reader: Reader, min_group: int, today: date | None = None
                    ) -> dict[str, Any]:
    """The anonymised view for members, an authority's risk officers and CERT staff."""
    if reader.role is Role.PEER:
        raise NotFound("no such view for a federation peer")
    if not access.may_read_sector(conn, reader):
        raise Forbidden("an authority's risk officers read the sector's red-team findings")
    counted = _e.c.phase.in_(COUNTED_PHASES)
    tested = set(conn.execute(select(_e.c.organisation_id).distinct().where(counted)).scalars())
    base: dict[str, Any] = {"min_group": min_group, "severities": list(SEVERITIES),
                            "as_of": (today or clock.now().date()).isoformat(), "own": _own(conn, reader)}
    if len(tested) < min_group:
        return base | {"suppressed": True, "members": None, "engagements": None, "findings": None, "categories": []}
    engagements = int(conn.execute(select(func.count()).select_from(_e).where(counted)).scalar_one())
    members: dict[tuple[str, str], set[int]] = defaultdict(set)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    q = select(_f.c.category, _f.c.severity, _e.c.organisation_id).join(_e, _e.c.id == _f.c.engagement_id) \
        .where(counted)
    for category, severity, org in conn.execute(q):
        members[(category, severity)].add(org)
        counts[(category, severity)] += 1
    rows: list[dict[str, Any]] = []
    for key, (name, source) in CATEGORIES.items():
        cells = [counts[(key, s)] for s in SEVERITIES]
        groups = [frozenset(members[(key, s)]) for s in SEVERITIES]
        row_members: frozenset[int] = frozenset().union(*groups)
        total = sum(cells)
        if total and len(row_members) < min_group:
            rows.append({"key": key, "name": name, "source": source, "suppressed": True, "total": None,
                         "counts": dict.fromkeys(SEVERITIES), "not_broken_down": None, "members": row_members})
            continue
        shown = shown_cells(cells, groups, min_group)
        visible = {s: (n if ok else None) for s, n, ok in zip(SEVERITIES, cells, shown, strict=True)}
        rows.append({"key": key, "name": name, "source": source, "suppressed": False, "total": total,
                     "counts": visible, "not_broken_down": total - sum(n for n in visible.values() if n),
                     "members": row_members})
    hidden: set[int] = set()
    for r in rows:
        if r["suppressed"]:
            hidden |= r["members"]
    all_findings = sum(counts.values())
    for r in rows:
        del r["members"]
    return base | {"suppressed": False, "members": len(tested), "engagements": engagements,
                   "findings": all_findings if not hidden or len(hidden) >= min_group else None,
                   "categories": rows}


def _own(conn: Connection, reader: Reader) -> dict[str, dict[str, int]] | None:
    """The reader's organisation's figures, from its counted tests the reader sees; None for CERT staff and the
    authority, whose organisations are not tested."""
    if access.sees_every_engagement(conn, reader) or reader.role is Role.PEER:
        return None
    q = (select(_f.c.category, _f.c.severity).join(_e, _e.c.id == _f.c.engagement_id)
         .where(_e.c.phase.in_(COUNTED_PHASES), _e.c.organisation_id == reader.organisation_id,
                access.visible_clause(conn, reader)))
    found = list(conn.execute(q))
    if not found:
        return None
    out: dict[str, dict[str, int]] = {}
    for category, severity in found:
        out.setdefault(category, dict.fromkeys(SEVERITIES, 0))[severity] += 1
    return out
