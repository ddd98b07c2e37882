"""ICT-related incidents and their DORA reports: record, classify, count down, submit, read and export.

Who may do what (the sharing policy's rule for an object that only its organisation may see: an incident is
treated as TLP:RED without recipients, so ``policy.visible`` gives exactly "a member sees its own incidents,
CERT staff see all, federation peers none"):

| reader                                          | read | record, change, submit reports |
|-------------------------------------------------|------|--------------------------------|
| analyst, risk_officer, cert_admin of the org    | yes  | yes                            |
| reader of the org                               | yes  | no (Forbidden)                 |
| cert_admin of another org (CERT staff)          | yes  | no (Forbidden): the member reports |
| anyone else                                     | no: NotFound, exactly like a missing incident |

Every write re-classifies the incident from its facts (:mod:`.classify`), records the moment it was first
found major (unless given), and keeps the next report due (:mod:`.deadlines`) on the row, so that "overdue"
is a filter on one indexed column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from pydantic import ValidationError
from sqlalchemy import ColumnElement, Connection, false, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from nordcert import clock
from nordcert.accounts.tables import organisations, users
from nordcert.errors import Conflict, Forbidden, Invalid, NotFound
from nordcert.incidents import deadlines, present, reports, template
from nordcert.incidents.classify import Facts, classify
from nordcert.incidents.deadlines import REPORT_KINDS, ReportDeadline, ReportKind
from nordcert.incidents.tables import incident_intel_links, incident_reports, incidents
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role, Sharing
from nordcert.sharing.tlp import Tlp

STATUSES = ("recorded", "initial_submitted", "intermediate_submitted", "closed")
WRITERS = frozenset({Role.ANALYST, Role.RISK_OFFICER, Role.CERT_ADMIN})
MAX_PAGE = 1000
_CLOCK_SKEW = timedelta(minutes=5)
_STATUS_AFTER = {"initial_notification": "initial_submitted", "intermediate_report": "intermediate_submitted",
                 "final_report": "closed"}
_UPDATABLE = frozenset({"title", "description", "detected_at", "occurred_at", "classified_at", "timezone",
                        "weekend_relief", "facts", "intel_links"})
_t = incidents


# --- access ---------------------------------------------------------------------------------------


def _sharing(organisation_id: int) -> Sharing:
    return Sharing(creator_org_id=organisation_id, tlp=Tlp.RED)


def may_read(reader: Reader, organisation_id: int) -> bool:
    return policy.visible(_sharing(organisation_id), reader)


def read_clause(reader: Reader) -> ColumnElement[bool]:
    """The SQL form of :func:`may_read` for rows of ``incidents`` (tests check that both agree)."""
    if reader.is_cert_staff:
        return true()
    if reader.role is Role.PEER:
        return false()
    return _t.c.organisation_id == reader.organisation_id


def _require_writer(reader: Reader, organisation_id: int) -> None:
    if reader.organisation_id != organisation_id:
        raise Forbidden("an incident is reported by its own organisation: CERT staff may read it, not change it")
    if reader.role not in WRITERS:
        raise Forbidden(f"role {reader.role.value} may read incidents; recording and reporting them needs "
                        "analyst or risk_officer")


def _load(conn: Connection, reader: Reader, incident_id: int, *, for_update: bool = False) -> dict[str, Any]:
    q = (select(_t, organisations.c.name.label("organisation_name"),
                organisations.c.short_name.label("organisation_short_name"),
                organisations.c.country.label("organisation_country"))
         .join(organisations, organisations.c.id == _t.c.organisation_id)
         .where(_t.c.id == incident_id, read_clause(reader)))
    if for_update:
        q = q.with_for_update(of=_t)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return dict(row)


# --- writing --------------------------------------------------------------------------------------


def record_incident(
    conn: Connection, reader: Reader, *, reference: str, title: str, description: str, detected_at: datetime,
    occurred_at: datetime | None = None, classified_at: datetime | None = None, timezone: str | None = None,
    weekend_relief: bool = False, facts: Facts | Mapping[str, Any] | None = None,
    intel_links: Iterable[str] = (), now: datetime | None = None,
) -> dict[str, Any]:
    """Record an incident of the reader's organisation, classify it and start its countdown."""
    _require_writer(reader, reader.organisation_id)
    now = now or clock.now()
    org = conn.execute(select(organisations.c.country).where(organisations.c.id == reader.organisation_id)).one()
    values = _checked({
        "reference": reference, "title": title, "description": description, "detected_at": detected_at,
        "occurred_at": occurred_at, "classified_at": classified_at,
        "timezone": timezone or deadlines.zone_for_country(org.country), "weekend_relief": weekend_relief,
    }, now)
    found = _facts(facts)
    if conn.execute(select(_t.c.id).where(_t.c.organisation_id == reader.organisation_id,
                                          _t.c.reference == values["reference"])).first():
        raise Conflict(f"your organisation has an incident with reference {values['reference']!r} already")
    stamp = clock.us(now)
    incident_id = conn.execute(insert(_t).values(
        **values, organisation_id=reader.organisation_id, created_by=reader.user_id,
        facts=present.to_json(found.model_dump(mode="json")), classification="{}", major=False, status="recorded",
        created_at=stamp, updated_at=stamp,
    ).returning(_t.c.id)).scalar_one()
    _set_links(conn, reader, incident_id, intel_links, now)
    _refresh(conn, incident_id, now)
    return get_incident(conn, reader, incident_id, now=now)


def update_incident(conn: Connection, reader: Reader, incident_id: int, *, changes: Mapping[str, Any],
                    now: datetime | None = None) -> dict[str, Any]:
    """Change an incident. ``facts`` are merged into the recorded facts; ``intel_links`` replace the links."""
    row = _load(conn, reader, incident_id, for_update=True)
    _require_writer(reader, row["organisation_id"])
    unknown = sorted(set(changes) - _UPDATABLE)
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}")
    now = now or clock.now()
    current = {k: (clock.dt(row[k]) if k.endswith("_at") and row[k] is not None else row[k]) for k in
               ("reference", "title", "description", "detected_at", "occurred_at", "classified_at", "timezone",
                "weekend_relief")}
    values = _checked({**current, **{k: v for k, v in changes.items() if k not in ("facts", "intel_links")}}, now)
    if "facts" in changes:
        given = changes["facts"]
        given = given.model_dump(exclude_unset=True) if isinstance(given, Facts) else dict(given or {})
        values["facts"] = present.to_json(_facts({**orjson.loads(row["facts"]), **given}).model_dump(mode="json"))
    conn.execute(update(_t).where(_t.c.id == incident_id).values(**values, updated_at=clock.us(now)))
    if "intel_links" in changes:
        _set_links(conn, reader, incident_id, changes["intel_links"] or (), now)
    _refresh(conn, incident_id, now)
    return get_incident(conn, reader, incident_id, now=now)


def submit_report(conn: Connection, reader: Reader, incident_id: int, *, kind: str, content: Mapping[str, Any],
                  now: datetime | None = None) -> dict[str, Any]:
    """Record a report as submitted: the initial notification, then intermediate reports, then the final.

    The report's own fields are checked for its kind (:mod:`.reports`); fields every report holds, and an
    updated intermediate report's fields, are carried over from the previous report when left out. The
    stored content is the whole report as submitted: its fields and the incident's facts at that moment.
    """
    if kind not in REPORT_KINDS:
        raise Invalid(f"report kind {kind!r} is not one of: {', '.join(REPORT_KINDS)}")
    row = _load(conn, reader, incident_id, for_update=True)
    _require_writer(reader, row["organisation_id"])
    now = now or clock.now()
    done = _reports(conn, incident_id)
    _check_order(kind, row, [r["kind"] for r in done])
    links = _links(conn, incident_id)
    base = _carried_over(kind, done)
    fields = reports.validate(kind, {**base, **content}, met=orjson.loads(row["classification"])["met"],
                              has_intel_links=bool(links), detected_at=clock.dt(row["detected_at"]))
    if kind == "intermediate_report" and fields.get("occurred_at"):
        conn.execute(update(_t).where(_t.c.id == incident_id)
                     .values(occurred_at=clock.us(datetime.fromisoformat(fields["occurred_at"]))))
        row = _load(conn, reader, incident_id)
    due = next((d.due for d in _schedule(row, done, now) if d.kind == kind), None)
    snapshot = {"report": fields, **present.snapshot(row, links)}
    try:  # the row lock (PostgreSQL) or the write lock (SQLite) makes this a last line of defence
        conn.execute(insert(incident_reports).values(
            incident_id=incident_id, sequence=len(done) + 1, kind=kind, content=present.to_json(snapshot),
            submitted_at=clock.us(now), submitted_by=reader.user_id, due_at=clock.us(due.at) if due else None))
    except IntegrityError:
        raise Conflict("another report on this incident was submitted at the same moment: reload and retry"
                       ) from None
    _refresh(conn, incident_id, now)
    return get_incident(conn, reader, incident_id, now=now)


def _check_order(kind: ReportKind, row: Mapping[str, Any], done: list[ReportKind]) -> None:
    if "final_report" in done:
        raise Conflict("the final report is in: reporting on this incident is closed")
    if kind == "initial_notification":
        if "initial_notification" in done:
            raise Conflict("the initial notification was submitted already: updates go in intermediate reports")
        if not row["major"]:
            raise Conflict("only major incidents are reported, and this one is not classified as major: "
                           + orjson.loads(row["classification"])["rule"])
    elif kind == "intermediate_report" and "initial_notification" not in done:
        raise Conflict("an intermediate report comes after the initial notification: submit that first")
    elif kind == "final_report" and "intermediate_report" not in done:
        raise Conflict("the final report comes after an intermediate report: submit that first")


def _carried_over(kind: ReportKind, done: list[dict[str, Any]]) -> dict[str, Any]:
    if not done:
        return {}
    base = {k: v for k, v in done[-1]["content"]["report"].items() if k in reports.COMMON_FIELDS}
    if kind == "intermediate_report":
        previous = [r for r in done if r["kind"] == "intermediate_report"]
        if previous:
            base |= previous[-1]["content"]["report"]
    return {k: v for k, v in base.items() if v is not None}


def _checked(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The incident's own fields, checked, with times as stored (UTC microseconds)."""
    problems: list[dict[str, str]] = []
    for name, limit in (("reference", 100), ("title", 300), ("description", 32767)):
        values[name] = str(values[name] or "").strip()
        if not values[name] or len(values[name]) > limit:
            problems.append({"field": name, "reason": f"required, 1 to {limit} characters"})
    try:
        deadlines.zone_of(values["timezone"])
    except ValueError as exc:
        problems.append({"field": "timezone", "reason": str(exc)})
    for name in ("detected_at", "occurred_at", "classified_at"):
        moment = values[name]
        if moment is None:
            continue
        if moment.tzinfo is None:
            problems.append({"field": name, "reason": "needs a time zone (an offset such as +01:00, or Z)"})
        elif moment > now + _CLOCK_SKEW:
            problems.append({"field": name, "reason": "lies in the future"})
    if not problems:
        detected, occurred, classified = values["detected_at"], values["occurred_at"], values["classified_at"]
        if detected is None:
            problems.append({"field": "detected_at", "reason": "required: when the entity became aware"})
        elif occurred is not None and occurred > detected:
            problems.append({"field": "occurred_at", "reason": "the incident cannot occur after it was detected"})
        elif classified is not None and classified < detected:
            problems.append({"field": "classified_at", "reason": "an incident is classified after it is detected"})
    if problems:
        raise Invalid("the incident is not valid", details=problems)
    for name in ("detected_at", "occurred_at", "classified_at"):
        values[name] = clock.us(values[name]) if values[name] is not None else None
    return values


def _facts(facts: Facts | Mapping[str, Any] | None) -> Facts:
    if isinstance(facts, Facts):
        return facts
    try:
        return Facts.model_validate(dict(facts or {}))
    except ValidationError as exc:
        raise Invalid("the classification facts are not valid",
                      details=[{"field": ".".join(["facts", *(str(p) for p in e["loc"])]).rstrip("."),
                                "reason": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]) from None


def _set_links(conn: Connection, reader: Reader, incident_id: int, stix_ids: Iterable[str], now: datetime) -> None:
    """Link the incident to intel objects the reader may see; anything else is reported like a missing one."""
    wanted = sorted({s.strip() for s in stix_ids})
    if wanted:
        seen = set(conn.execute(
            select(stix_objects.c.stix_id).where(
                stix_objects.c.stix_id.in_(wanted),
                policy.visible_clause(reader, stix_objects, object_recipients))).scalars())
        missing = [s for s in wanted if s not in seen]
        if missing:
            raise Invalid("intel links must name objects you can see",
                          details=[{"field": "intel_links", "reason": f"no object {s}"} for s in missing])
    conn.execute(incident_intel_links.delete().where(incident_intel_links.c.incident_id == incident_id))
    if wanted:
        conn.execute(insert(incident_intel_links),
                     [{"incident_id": incident_id, "stix_id": s, "linked_at": clock.us(now)} for s in wanted])


def _refresh(conn: Connection, incident_id: int, now: datetime) -> None:
    """Re-classify, set the first classification time, the status and the next report due."""
    row = conn.execute(select(_t).where(_t.c.id == incident_id)).mappings().one()
    result = classify(Facts.model_validate(orjson.loads(row["facts"])))
    classified_at = row["classified_at"]
    if result.major and classified_at is None:
        classified_at = clock.us(now)
    done = _reports(conn, incident_id)
    state = {**row, "major": result.major, "classified_at": classified_at}
    upcoming = deadlines.next_due(_schedule(state, done, now))
    conn.execute(update(_t).where(_t.c.id == incident_id).values(
        classification=present.to_json(present.classification(result)), major=result.major, classified_at=classified_at,
        status=_STATUS_AFTER[done[-1]["kind"]] if done else "recorded",
        next_due_kind=upcoming.kind if upcoming else None,
        next_due_at=clock.us(upcoming.due.at) if upcoming and upcoming.due else None,
    ))


def _schedule(row: Mapping[str, Any], done: list[dict[str, Any]], now: datetime) -> list[ReportDeadline]:
    return deadlines.schedule(
        major=row["major"], aware_at=clock.dt(row["detected_at"]),
        classified_at=clock.dt(row["classified_at"]) if row["classified_at"] is not None else None,
        reports=[(r["kind"], clock.dt(r["submitted_at"])) for r in done], zone=deadlines.zone_of(row["timezone"]),
        now=now, weekend_relief=row["weekend_relief"])


# --- reading --------------------------------------------------------------------------------------


def get_incident(conn: Connection, reader: Reader, incident_id: int, *, now: datetime | None = None
                 ) -> dict[str, Any]:
    """One incident with its classification, deadlines, reports and intel links."""
    row = _load(conn, reader, incident_id)
    now = now or clock.now()
    done = _reports(conn, incident_id)
    zone = deadlines.zone_of(row["timezone"])
    schedule = _schedule(row, done, now)
    classification = orjson.loads(row["classification"])
    return {
        **present.summary(row, now),
        "description": row["description"],
        "weekend_relief": row["weekend_relief"],
        "facts": orjson.loads(row["facts"]),
        "classification": {"major": classification["major"], "rule": classification["rule"],
                           "met": classification["met"]},
        "deadlines": [present.deadline(d, zone) for d in schedule],
        "reports": [{"sequence": r["sequence"], "kind": r["kind"], "submitted_at": clock.iso(r["submitted_at"]),
                     "submitted_by": r["submitted_by_email"], "due_at": clock.iso(r["due_at"]),
                     "late": r["due_at"] is not None and r["submitted_at"] > r["due_at"],
                     "content": r["content"]["report"]} for r in done],
        "intel_links": _links(conn, incident_id),
    }


def classify_incident(conn: Connection, reader: Reader, incident_id: int) -> dict[str, Any]:
    """The classification of the incident from its recorded facts: every criterion, met or not and why."""
    row = _load(conn, reader, incident_id)
    result = classify(Facts.model_validate(orjson.loads(row["facts"])))
    return {"incident_id": incident_id, "classified_at": clock.iso(row["classified_at"]), **present.classification(result)}


def list_incidents(conn: Connection, reader: Reader, *, status: str | None = None, major: bool | None = None,
                   overdue: bool | None = None, organisation: str | None = None, limit: int = 100,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """The incidents the reader may see, newest detection first, filtered."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"status {status!r} is not one of: {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}")
    now = now or clock.now()
    q = (select(_t, organisations.c.name.label("organisation_name"),
                organisations.c.short_name.label("organisation_short_name"))
         .join(organisations, organisations.c.id == _t.c.organisation_id)
         .where(read_clause(reader)))
    if status is not None:
        q = q.where(_t.c.status == status)
    if major is not None:
        q = q.where(_t.c.major.is_(major))
    if overdue is True:
        q = q.where(_t.c.next_due_at < clock.us(now))
    elif overdue is False:
        q = q.where(or_(_t.c.next_due_at.is_(None), _t.c.next_due_at >= clock.us(now)))
    if organisation is not None:
        key = organisation.strip().lower()
        q = q.where(or_(func.lower(organisations.c.name) == key, func.lower(organisations.c.short_name) == key))
    q = q.order_by(_t.c.detected_at.desc(), _t.c.id.desc()).limit(limit)
    return [present.summary(dict(row), now) for row in conn.execute(q).mappings()]


def export_json(conn: Connection, reader: Reader, incident_id: int, *, kind: str | None = None) -> dict[str, Any]:
    """A submitted report in the structure of the reporting template (:mod:`.template`): the latest
    report of ``kind``, or the latest report submitted."""
    _load(conn, reader, incident_id)
    done = _reports(conn, incident_id)
    if kind is not None and kind not in REPORT_KINDS:
        raise Invalid(f"report kind {kind!r} is not one of: {', '.join(REPORT_KINDS)}")
    if not done:
        raise Conflict("no report on this incident has been submitted yet: there is nothing to export")
    wanted = cast(ReportKind, kind or done[-1]["kind"])
    if wanted not in {r["kind"] for r in done}:
        raise Conflict(f"no {wanted.replace('_', ' ')} has been submitted on this incident")
    return template.build([(r["kind"], r["content"]) for r in done], wanted)


def _reports(conn: Connection, incident_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(incident_reports, users.c.email.label("submitted_by_email"))
        .outerjoin(users, users.c.id == incident_reports.c.submitted_by)
        .where(incident_reports.c.incident_id == incident_id).order_by(incident_reports.c.sequence)
    ).mappings()
    return [{**r, "content": orjson.loads(r["content"])} for r in rows]


def _links(conn: Connection, incident_id: int) -> list[str]:
    return list(conn.execute(select(incident_intel_links.c.stix_id)
                             .where(incident_intel_links.c.incident_id == incident_id)
                             .order_by(incident_intel_links.c.stix_id)).scalars())
