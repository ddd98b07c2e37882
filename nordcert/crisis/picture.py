"""The situation picture of a crisis: the latest status of every member's critical services, aggregated by
service and member type, its timeline, and what changed since the last briefing.

Who sees what (per-member statuses follow :func:`nordcert.crisis.service.may_see_member_status`):

| reader                                         | aggregate | per-member latest statuses | briefings |
|------------------------------------------------|-----------|----------------------------|-----------|
| cert_admin (CERT staff)                        | yes       | every member's             | read, record |
| any user of a member organisation              | yes       | its own only               | the time of the last one |
| risk_officer of an authority                   | yes       | none                       | the time of the last one |
| other users of an authority                    | no (Forbidden)                                      ||
| a federation peer                              | NotFound, as for a missing crisis                   ||

The members counted are the organisations that report (every sector type but CERTs and authorities), each
once per service: its latest report (:mod:`.status`), or ``not_reported``. Each picture is read in one
statement, so its counts always add up to the number of members.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import CTE, Connection, Select, func, insert, or_, select

from nordcert.accounts.service import SECTOR_TYPES
from nordcert.accounts.tables import organisations, users
from nordcert.clock import iso, now_us, us
from nordcert.crisis.service import (
    NON_REPORTING_SECTORS,
    NOT_REPORTED,
    SERVICES,
    STATUSES,
    crisis_out,
    load,
    require_active,
    require_staff,
    sector_of,
)
from nordcert.crisis.tables import crisis_briefings, crisis_status_reports
from nordcert.errors import Forbidden, Invalid
from nordcert.sharing.policy import Reader, Role

#: The longest timeline served at once; longer crises take wider buckets.
MAX_BUCKETS = 2000
_SEVERITY = {NOT_REPORTED: -1, **{s: n for n, s in enumerate(STATUSES)}}
_r = crisis_status_reports
_o = organisations
_reporting = _o.c.sector_type.not_in(NON_REPORTING_SECTORS)

Counts = dict[str, int]


@dataclass(frozen=True, slots=True)
class _Latest:
    report_id: int
    status: str
    comment: str
    observed_at: int
    submitted_at: int


@dataclass(frozen=True, slots=True)
class _Now:
    """The members (id → sector type, and names when asked) and their latest report per service."""

    members: dict[int, dict[str, Any]]
    latest: dict[tuple[int, str], _Latest]


# --- the picture ----------------------------------------------------------------------------------


def situation_picture(conn: Connection, reader: Reader, crisis_id: int, *, now: datetime | None = None
                      ) -> dict[str, Any]:
    """The situation now: for each service the members' latest statuses counted by member type, with the worst;
    for CERT staff every member's latest status per service, for a member its own only.

    Returns ``crisis``, ``as_of``, ``services`` (id, name), ``member_types`` (type, members), ``members_total``,
    ``aggregate`` (per service: ``counts``, ``worst``, ``by_member_type`` {type: counts, worst}), ``own`` (a
    member's own statuses, else None) and ``members`` (CERT staff: every member's statuses, else None).
    Each status entry is ``{status, comment, observed_at, submitted_at, report_id}`` or None (not reported).
    """
    row, sector = _require_picture(conn, reader, crisis_id)
    state = _current(conn, crisis_id, names=reader.is_cert_staff)
    own = None
    if not reader.is_cert_staff and sector not in NON_REPORTING_SECTORS:
        org = conn.execute(select(_o.c.name, _o.c.short_name, _o.c.sector_type)
                           .where(_o.c.id == reader.organisation_id)).mappings().one()
        own = _member_entry(reader.organisation_id, dict(org), state.latest)
    return {
        "crisis": crisis_out(row),
        "as_of": iso(us(now) if now else now_us()),
        "services": [{"id": s, "name": n} for s, n in SERVICES.items()],
        "member_types": [{"member_type": t, "members": n} for t, n in _types(state.members).items()],
        "members_total": len(state.members),
        "aggregate": _aggregate(state.members, {k: v.status for k, v in state.latest.items()}),
        "own": own,
        "members": [_member_entry(org_id, m, state.latest) for org_id, m in state.members.items()]
        if reader.is_cert_staff else None,
    }


def timeline(conn: Connection, reader: Reader, crisis_id: int, *, bucket_minutes: int = 60,
             now: datetime | None = None) -> dict[str, Any]:
    """Counts of members per service and status over time, for a line or area plot.

    Buckets of ``bucket_minutes`` from the declaration (UTC, aligned to the bucket size) to the close or now;
    each value is the state at the end of its bucket (observations made before the declaration fall into the
    first). Returns ``times`` (bucket starts), ``series`` (per service, an array per status and
    ``not_reported``) and ``total`` (degraded and down summed over the services).
    """
    row, _ = _require_picture(conn, reader, crisis_id)
    if not 1 <= bucket_minutes <= 1440:
        raise Invalid("bucket_minutes must be between 1 and 1440")
    step = bucket_minutes * 60_000_000
    reports = conn.execute(_transitions(crisis_id)).all()
    members = int(conn.execute(select(func.count()).select_from(_o).where(_reporting)).scalar_one())
    start = row["declared_at"] // step * step
    end = max(row["closed_at"] or (us(now) if now else now_us()), reports[-1].observed_at if reports else 0)
    buckets = (end - start) // step + 1
    if buckets > MAX_BUCKETS:
        raise Invalid(f"that is {buckets} buckets, more than {MAX_BUCKETS}: choose wider buckets")
    state: dict[tuple[int, str], str] = {}
    counts = {s: dict.fromkeys(STATUSES, 0) for s in SERVICES}
    series: dict[str, dict[str, list[int]]] = {s: {k: [] for k in (*STATUSES, NOT_REPORTED)} for s in SERVICES}
    i = 0
    for b in range(buckets):
        until = start + (b + 1) * step
        while i < len(reports) and reports[i].observed_at < until:
            r = reports[i]
            before = state.get((r.organisation_id, r.service))
            if before is not None:
                counts[r.service][before] -= 1
            counts[r.service][r.status] += 1
            state[(r.organisation_id, r.service)] = r.status
            i += 1
        for s, c in counts.items():
            for k, n in c.items():
                series[s][k].append(n)
            series[s][NOT_REPORTED].append(members - sum(c.values()))
    return {
        "crisis_id": crisis_id, "bucket_minutes": bucket_minutes, "members_total": members,
        "times": [iso(start + b * step) for b in range(buckets)],
        "series": [{"service": s, "name": SERVICES[s], **series[s]} for s in SERVICES],
        "total": {k: [sum(series[s][k][b] for s in SERVICES) for b in range(buckets)] for k in ("degraded", "down")},
    }


# --- briefings and what changed since -------------------------------------------------------------


def record_briefing(conn: Connection, reader: Reader, crisis_id: int, *, text: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Record that a briefing was given, and what it saw (CERT staff): later changes are measured from it."""
    require_staff(reader, "record briefings")
    row = load(conn, reader, crisis_id, share=True)
    require_active(row, "briefings")
    text = (text or "").strip()
    if not text or len(text) > 32767:
        raise Invalid("the briefing is not valid", details=[{"field": "text", "reason": "required, 1 to 32767 "
                                                                                         "characters"}])
    snapshot: dict[str, dict[str, list[Any]]] = {}
    for (org_id, service), latest in _current(conn, crisis_id, names=False).latest.items():
        snapshot.setdefault(str(org_id), {})[service] = [latest.status, latest.report_id]
    briefing_id = conn.execute(insert(crisis_briefings).values(
        crisis_id=crisis_id, text=text, snapshot=orjson.dumps(snapshot).decode(), recorded_by=reader.user_id,
        recorded_at=us(now) if now else now_us()).returning(crisis_briefings.c.id)).scalar_one()
    return next(b for b in list_briefings(conn, reader, crisis_id) if b["id"] == briefing_id)


def list_briefings(conn: Connection, reader: Reader, crisis_id: int) -> list[dict[str, Any]]:
    """The briefings of a crisis, newest first (CERT staff): ``id``, ``text``, ``recorded_by``, ``recorded_at``."""
    require_staff(reader, "read briefings")
    load(conn, reader, crisis_id)
    b = crisis_briefings
    q = (select(b.c.id, b.c.text, b.c.recorded_at, users.c.email).outerjoin(users, users.c.id == b.c.recorded_by)
         .where(b.c.crisis_id == crisis_id).order_by(b.c.recorded_at.desc(), b.c.id.desc()))
    return [{"id": r.id, "crisis_id": crisis_id, "text": r.text, "recorded_by": r.email,
             "recorded_at": iso(r.recorded_at)} for r in conn.execute(q)]


def changes_since_briefing(conn: Connection, reader: Reader, crisis_id: int, *, now: datetime | None = None
                           ) -> dict[str, Any]:
    """What changed since the last briefing (or, before the first, since the declaration).

    Returns ``since`` (the briefing's ``id`` and ``recorded_at``, or None), ``as_of``, ``aggregate`` (per service
    the counts ``before`` and ``now``, also ``by_member_type``) and, for CERT staff, ``changes``: each member and
    service whose status changed, with its status ``before`` (None: not reported) and ``now`` (else None).
    """
    _require_picture(conn, reader, crisis_id)
    b = crisis_briefings
    last = conn.execute(select(b.c.id, b.c.recorded_at, b.c.snapshot).where(b.c.crisis_id == crisis_id)
                        .order_by(b.c.recorded_at.desc(), b.c.id.desc()).limit(1)).first()
    state = _current(conn, crisis_id, names=reader.is_cert_staff)
    seen: dict[tuple[int, str], tuple[str, int]] = {}
    for org, services in (orjson.loads(last.snapshot) if last else {}).items():
        for service, (status, report_id) in services.items():
            if int(org) in state.members:
                seen[(int(org), service)] = (status, report_id)
    before = _aggregate(state.members, {k: v[0] for k, v in seen.items()})
    after = _aggregate(state.members, {k: v.status for k, v in state.latest.items()})
    aggregate = [{"service": a["service"], "name": a["name"], "before": a["counts"], "now": z["counts"],
                  "by_member_type": {t: {"before": a["by_member_type"][t]["counts"], "now": cell["counts"]}
                                     for t, cell in z["by_member_type"].items()}}
                 for a, z in zip(before, after, strict=True)]
    changes = _changes(conn, state, seen) if reader.is_cert_staff else None
    return {"crisis_id": crisis_id, "since": {"id": last.id, "recorded_at": iso(last.recorded_at)} if last else None,
            "as_of": iso(us(now) if now else now_us()), "aggregate": aggregate, "changes": changes}


def _changes(conn: Connection, state: _Now, seen: Mapping[tuple[int, str], tuple[str, int]]
             ) -> list[dict[str, Any]]:
    changed = [(key, latest) for key, latest in state.latest.items()
               if key not in seen or seen[key][0] != latest.status]
    earlier_ids = sorted({seen[key][1] for key, _ in changed if key in seen})
    earlier = {r.id: r for r in conn.execute(
        select(_r.c.id, _r.c.status, _r.c.comment, _r.c.observed_at).where(_r.c.id.in_(earlier_ids)))
    } if earlier_ids else {}
    place = {org_id: n for n, org_id in enumerate(state.members)}  # by name, as read
    order = {s: n for n, s in enumerate(SERVICES)}
    out = []
    for (org_id, service), latest in sorted(changed, key=lambda c: (place[c[0][0]], order[c[0][1]])):
        was = earlier.get(seen[(org_id, service)][1]) if (org_id, service) in seen else None
        m = state.members[org_id]
        out.append({
            "organisation": {"id": org_id, "name": m["name"], "short_name": m["short_name"],
                             "sector_type": m["sector_type"]},
            "service": service, "service_name": SERVICES[service],
            "before": {"status": was.status, "comment": was.comment, "observed_at": iso(was.observed_at)}
            if was else None,
            "now": _status_entry(latest),
        })
    return out


# --- helpers --------------------------------------------------------------------------------------


def _require_picture(conn: Connection, reader: Reader, crisis_id: int) -> tuple[dict[str, Any], str | None]:
    """The crisis and the reader's organisation's sector type (None for CERT staff), or why not."""
    row = load(conn, reader, crisis_id)
    if reader.is_cert_staff:
        return row, None
    sector = sector_of(conn, reader.organisation_id)
    if sector == "authority" and reader.role is not Role.RISK_OFFICER:
        raise Forbidden("an authority's risk officers follow the situation picture; ask one of them or CERT staff")
    return row, sector


def _latest(crisis_id: int) -> CTE:
    """Each member's latest status report per service on the crisis."""
    rank = func.row_number().over(partition_by=(_r.c.organisation_id, _r.c.service),
                                  order_by=(_r.c.observed_at.desc(), _r.c.id.desc()))
    ranked = (select(_r.c.id, _r.c.organisation_id, _r.c.service, _r.c.status, _r.c.comment, _r.c.observed_at,
                     _r.c.submitted_at, rank.label("rank"))
              .where(_r.c.crisis_id == crisis_id).subquery("ranked"))
    return select(ranked).where(ranked.c.rank == 1).cte("latest").prefix_with("MATERIALIZED")


def _transitions(crisis_id: int) -> Select[Any]:
    """The reports that changed a member's status of a service (its first report included), in the order they
    take effect: a member re-reporting an unchanged status every hour adds nothing to replay."""
    previous = func.lag(_r.c.status).over(partition_by=(_r.c.organisation_id, _r.c.service),
                                          order_by=(_r.c.observed_at, _r.c.id))
    ordered = (select(_r.c.id, _r.c.organisation_id, _r.c.service, _r.c.status, _r.c.observed_at,
                      previous.label("previous"))
               .join(_o, _o.c.id == _r.c.organisation_id).where(_r.c.crisis_id == crisis_id, _reporting)
               .subquery("ordered"))
    return (select(ordered.c.organisation_id, ordered.c.service, ordered.c.status, ordered.c.observed_at)
            .where(or_(ordered.c.previous.is_(None), ordered.c.previous != ordered.c.status))
            .order_by(ordered.c.observed_at, ordered.c.id))


def _current(conn: Connection, crisis_id: int, *, names: bool) -> _Now:
    """Every reporting member and its latest report per service, in one statement (so it is consistent).

    Names are read only when the caller may show them (CERT staff).
    """
    latest = _latest(crisis_id)
    columns = [_o.c.id, _o.c.sector_type, *((_o.c.name, _o.c.short_name) if names else ())]
    q = (select(*columns, latest.c.id.label("report_id"), latest.c.service, latest.c.status, latest.c.comment,
                latest.c.observed_at, latest.c.submitted_at)
         .select_from(_o.outerjoin(latest, latest.c.organisation_id == _o.c.id))
         .where(_reporting).order_by(*((_o.c.name,) if names else ()), _o.c.id))
    members: dict[int, dict[str, Any]] = {}
    found: dict[tuple[int, str], _Latest] = {}
    for r in conn.execute(q).mappings():
        members.setdefault(r["id"], {k: r[k] for k in ("sector_type", "name", "short_name") if k in r})
        if r["report_id"] is not None:
            found[(r["id"], r["service"])] = _Latest(r["report_id"], r["status"], r["comment"], r["observed_at"],
                                                     r["submitted_at"])
    return _Now(members, found)


def _types(members: Mapping[int, Mapping[str, Any]]) -> dict[str, int]:
    """Members per sector type, in the accounts' order of types; types without members are left out."""
    counted: dict[str, int] = {}
    for m in members.values():
        counted[m["sector_type"]] = counted.get(m["sector_type"], 0) + 1
    return {t: counted[t] for t in (*SECTOR_TYPES, *sorted(set(counted) - set(SECTOR_TYPES))) if t in counted}


def _aggregate(members: Mapping[int, Mapping[str, Any]], statuses: Mapping[tuple[int, str], str]
               ) -> list[dict[str, Any]]:
    """Per service: members counted by status (each once), overall and per member type, with the worst."""
    types = _types(members)
    cells = {(s, t): _zero() for s in SERVICES for t in types}
    for (org_id, service), status in statuses.items():
        cells[(service, members[org_id]["sector_type"])][status] += 1
    out = []
    for service, name in SERVICES.items():
        for t, n in types.items():
            cells[(service, t)][NOT_REPORTED] = n - sum(cells[(service, t)].values())
        by_type = {t: {"members": n, "counts": cells[(service, t)], "worst": _worst(cells[(service, t)])}
                   for t, n in types.items()}
        total = _sum(cells[(service, t)] for t in types)
        out.append({"service": service, "name": name, "members": len(members), "counts": total,
                    "worst": _worst(total), "by_member_type": by_type})
    return out


def _member_entry(org_id: int, org: Mapping[str, Any], latest: Mapping[tuple[int, str], _Latest]
                  ) -> dict[str, Any]:
    statuses = {s: _status_entry(latest.get((org_id, s))) for s in SERVICES}
    worst = max((e["status"] for e in statuses.values() if e), key=_SEVERITY.__getitem__, default=NOT_REPORTED)
    return {"organisation": {"id": org_id, "name": org["name"], "short_name": org["short_name"],
                             "sector_type": org["sector_type"]},
            "statuses": statuses, "worst": worst}


def _status_entry(latest: _Latest | None) -> dict[str, Any] | None:
    if latest is None:
        return None
    return {"status": latest.status, "comment": latest.comment, "observed_at": iso(latest.observed_at),
            "submitted_at": iso(latest.submitted_at), "report_id": latest.report_id}


def _zero() -> Counts:
    return {**dict.fromkeys(STATUSES, 0), NOT_REPORTED: 0}


def _sum(counts: Iterable[Counts]) -> Counts:
    total = _zero()
    for c in counts:
        for k, n in c.items():
            total[k] += n
    return total


def _worst(counts: Counts) -> str:
    """The worst status any member reported (``not_reported`` when none did)."""
    return next((s for s in reversed(STATUSES) if counts[s]), NOT_REPORTED)
