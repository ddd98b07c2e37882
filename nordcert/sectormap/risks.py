"""The sector risk register: the forum's risks with likelihood, impact and sources, measures with owners, and
their histories for the yearly forum (how scores and measures moved month by month).

| reader                                          | read the register | write risks and measures | change a measure's status, add notes |
|-------------------------------------------------|-------------------|--------------------------|--------------------------------------|
| cert_admin (CERT staff, the forum's risk team)  | yes               | yes                      | yes                                  |
| analyst, risk_officer of a measure's owner org  | yes               | no (Forbidden)           | its own organisation's measures      |
| any other user of any organisation              | yes               | no (Forbidden)           | no (Forbidden)                       |
| a federation peer's service account             | NotFound, as for a missing risk: the register is not federated                                |||

The register is the sector's, so every member reads all of it (the policy's rule for TLP:AMBER without a
sharing group). A measure shows its owner organisation by name: the forum assigns measures openly, and owning
one says nothing about the owner's own map. A risk's sources are shown as the policy allows each: incidents only
to their organisation and CERT staff, intel objects by their TLP; the others are counted, never named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from nordcert.accounts.tables import organisations, users
from nordcert.clock import iso, now_us, us
from nordcert.errors import Forbidden, Invalid, NotFound
from nordcert.incidents.tables import incidents
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.sectormap.service import WRITERS, clean_text, may_read, organisations_by_id, parse_date, require_staff
from nordcert.sectormap.tables import (
    sectormap_measure_history,
    sectormap_measure_notes,
    sectormap_measures,
    sectormap_risk_history,
    sectormap_risk_sources,
    sectormap_risks,
    sectormap_survey_topics,
    sectormap_surveys,
)
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp

RISK_CATEGORIES: dict[str, str] = {
    "concentration": "ICT concentration", "third_party": "ICT third-party", "cyber": "Cyber threat",
    "infrastructure": "Shared infrastructure", "operational": "Operational", "geopolitical": "Geopolitical",
    "other": "Other",
}
RISK_STATES = ("open", "closed")
MEASURE_STATES = ("planned", "in_progress", "done", "cancelled")
SOURCE_KINDS = {"incidents": "incident", "intel": "intel", "survey_topics": "survey_topic"}
_RISK_FIELDS = ("title", "description", "category", "likelihood", "impact", "status", "sources")
_MEASURE_FIELDS = ("title", "owner_organisation", "owner_person", "status", "due_on")
_r, _m = sectormap_risks, sectormap_measures


def _require_readable(reader: Reader, what: str) -> None:
    if not may_read(reader):
        raise NotFound(f"no {what}")


def _stamp(now: datetime | None) -> int:
    return us(now) if now else now_us()


# --- risks ----------------------------------------------------------------------------------------


def create_risk(conn: Connection, reader: Reader, *, title: str, description: str = "", category: str,
                likelihood: int, impact: int, sources: Mapping[str, list[Any]] | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """Add a risk to the register (CERT staff); its score is likelihood × impact."""
    require_staff(reader, "write the risk register")
    values, refs = _risk_values(conn, {"title": title, "description": description, "category": category,
                                       "likelihood": likelihood, "impact": impact, "status": "open",
                                       "sources": sources or {}})
    stamp = _stamp(now)
    risk_id = int(conn.execute(insert(_r).values(**values, created_by=reader.user_id, created_at=stamp,
                                                 updated_at=stamp).returning(_r.c.id)).scalar_one())
    _set_sources(conn, risk_id, refs)
    _risk_history(conn, reader, risk_id, values, stamp)
    return get_risk(conn, reader, risk_id)


def update_risk(conn: Connection, reader: Reader, risk_id: int, *, changes: Mapping[str, Any],
                now: datetime | None = None) -> dict[str, Any]:
    """Change a risk (CERT staff); a new likelihood, impact or status is kept in its history. ``sources``
    replaces the sources."""
    require_staff(reader, "write the risk register")
    row = _risk_row(conn, reader, risk_id)
    unknown = sorted(set(changes) - set(_RISK_FIELDS))
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}")
    merged = {**{k: row[k] for k in _RISK_FIELDS if k != "sources"}, "sources": changes.get("sources") or {},
              **{k: v for k, v in changes.items() if k != "sources" and v is not None}}
    values, refs = _risk_values(conn, merged)
    stamp = _stamp(now)
    if any(values[k] != row[k] for k in values):
        conn.execute(update(_r).where(_r.c.id == risk_id).values(**values, updated_at=stamp))
    if "sources" in changes:
        conn.execute(delete(sectormap_risk_sources).where(sectormap_risk_sources.c.risk_id == risk_id))
        _set_sources(conn, risk_id, refs)
    if any(values[k] != row[k] for k in ("likelihood", "impact", "status")):
        _risk_history(conn, reader, risk_id, values, stamp)
    return get_risk(conn, reader, risk_id)


def get_risk(conn: Connection, reader: Reader, risk_id: int) -> dict[str, Any]:
    """One risk with its sources (as the reader may see them), measures with notes, and score history."""
    row = _risk_row(conn, reader, risk_id)
    out = _risk_out(row)
    out["sources"] = _sources(conn, reader, [risk_id])[risk_id]
    out["measures"] = _measures(conn, [risk_id])
    h = sectormap_risk_history
    out["history"] = [{"at": iso(r.changed_at), "likelihood": r.likelihood, "impact": r.impact, "score": r.score,
                       "status": r.status}
                      for r in conn.execute(select(h).where(h.c.risk_id == risk_id).order_by(h.c.changed_at, h.c.id))]
    return out


def list_risks(conn: Connection, reader: Reader, *, status: str | None = None, category: str | None = None
               ) -> list[dict[str, Any]]:
    """The register, highest score first, each risk with its measures counted by status."""
    if status is not None and status not in RISK_STATES:
        raise Invalid(f"status {status!r} is not one of: {', '.join(RISK_STATES)}")
    if category is not None and category not in RISK_CATEGORIES:
        raise Invalid(f"category {category!r} is not one of: {', '.join(RISK_CATEGORIES)}")
    if not may_read(reader):
        return []
    q = select(_r).order_by(_r.c.score.desc(), _r.c.id)
    if status is not None:
        q = q.where(_r.c.status == status)
    if category is not None:
        q = q.where(_r.c.category == category)
    rows = conn.execute(q).mappings().all()
    counts: dict[int, dict[str, int]] = {r["id"]: dict.fromkeys(MEASURE_STATES, 0) for r in rows}
    for risk_id, state, n in conn.execute(select(_m.c.risk_id, _m.c.status, func.count())
                                          .group_by(_m.c.risk_id, _m.c.status)):
        if risk_id in counts:
            counts[risk_id][state] = n
    sources = _sources(conn, reader, [r["id"] for r in rows])
    return [{**_risk_out(r), "sources": sources[r["id"]], "measure_counts": counts[r["id"]]} for r in rows]


def _risk_row(conn: Connection, reader: Reader, risk_id: int) -> dict[str, Any]:
    _require_readable(reader, f"risk {risk_id}")
    row = conn.execute(select(_r).where(_r.c.id == risk_id)).mappings().first()
    if row is None:
        raise NotFound(f"no risk {risk_id}")
    return dict(row)


def _risk_out(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "title": r["title"], "description": r["description"], "category": r["category"],
            "category_name": RISK_CATEGORIES.get(r["category"], r["category"]), "likelihood": r["likelihood"],
            "impact": r["impact"], "score": r["score"], "status": r["status"], "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"])}


def _risk_values(conn: Connection, given: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    problems: list[dict[str, str]] = []
    values = dict(given)
    title = clean_text(values, "title", 300, problems)
    description = clean_text(values, "description", 32767, problems, required=False) or ""
    if values.get("category") not in RISK_CATEGORIES:
        problems.append({"field": "category", "reason": f"one of: {', '.join(RISK_CATEGORIES)}"})
    for name in ("likelihood", "impact"):
        v = values.get(name)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5:
            problems.append({"field": name, "reason": "a whole number from 1 to 5"})
    if values.get("status") not in RISK_STATES:
        problems.append({"field": "status", "reason": f"one of: {', '.join(RISK_STATES)}"})
    refs = _check_sources(conn, values.get("sources") or {}, problems)
    if problems:
        raise Invalid("the risk is not valid", details=problems)
    return {"title": title, "description": description, "category": values["category"],
            "likelihood": values["likelihood"], "impact": values["impact"],
            "score": values["likelihood"] * values["impact"], "status": values["status"]}, refs


def _check_sources(conn: Connection, sources: Any, problems: list[dict[str, str]]) -> list[tuple[str, str]]:
    if not isinstance(sources, Mapping) or set(sources) - set(SOURCE_KINDS):
        problems.append({"field": "sources", "reason": f"an object with lists: {', '.join(SOURCE_KINDS)}"})
        return []
    refs: list[tuple[str, str]] = []
    for key, kind in SOURCE_KINDS.items():
        given = list(dict.fromkeys(sources.get(key) or []))
        if kind == "intel":
            found = set(conn.execute(select(stix_objects.c.stix_id).where(
                stix_objects.c.stix_id.in_([str(g) for g in given]))).scalars()) if given else set()
        else:
            table = incidents if kind == "incident" else sectormap_survey_topics
            ints = [g for g in given if isinstance(g, int) and not isinstance(g, bool)]
            found = {str(i) for i in conn.execute(select(table.c.id).where(table.c.id.in_(ints))).scalars()} \
                if ints else set()
        for n, ref in enumerate(given):
            if str(ref) not in found:
                problems.append({"field": f"sources.{key}[{n}]", "reason": f"no {kind.replace('_', ' ')} {ref!r}"})
            else:
                refs.append((kind, str(ref)))
    return refs


def _set_sources(conn: Connection, risk_id: int, refs: list[tuple[str, str]]) -> None:
    if refs:
        conn.execute(insert(sectormap_risk_sources), [{"risk_id": risk_id, "kind": k, "ref": r} for k, r in refs])


def _sources(conn: Connection, reader: Reader, risk_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each risk's sources as the reader may see them; what it may not see is counted."""
    out: dict[int, dict[str, Any]] = {i: {"incidents": [], "intel": [], "survey_topics": [], "not_shown": 0}
                                      for i in risk_ids}
    if not risk_ids:
        return out
    s = sectormap_risk_sources
    refs = conn.execute(select(s.c.risk_id, s.c.kind, s.c.ref).where(s.c.risk_id.in_(risk_ids))
                        .order_by(s.c.risk_id, s.c.kind, s.c.ref)).all()
    by_kind: dict[str, set[str]] = {}
    for _risk, kind, ref in refs:
        by_kind.setdefault(kind, set()).add(ref)
    shown: dict[tuple[str, str], dict[str, Any]] = {}
    if by_kind.get("incident"):
        for i in conn.execute(select(incidents.c.id, incidents.c.title, incidents.c.organisation_id)
                              .where(incidents.c.id.in_([int(x) for x in by_kind["incident"]]))):
            if policy.visible(Sharing(creator_org_id=i.organisation_id, tlp=Tlp.RED), reader):
                shown[("incident", str(i.id))] = {"id": i.id, "title": i.title}
    if by_kind.get("intel"):
        o = stix_objects
        for stix_id, name in conn.execute(select(o.c.stix_id, o.c.name).where(
                o.c.stix_id.in_(sorted(by_kind["intel"])), o.c.is_latest,
                policy.visible_clause(reader, o, object_recipients))):
            shown[("intel", stix_id)] = {"id": stix_id, "name": name}
    if by_kind.get("survey_topic"):
        t, sv = sectormap_survey_topics, sectormap_surveys
        q = select(t.c.id, t.c.title, sv.c.year).join(sv, sv.c.id == t.c.survey_id)
        for topic_id, topic, year in conn.execute(q.where(t.c.id.in_([int(x) for x in by_kind["survey_topic"]]))):
            shown[("survey_topic", str(topic_id))] = {"id": topic_id, "year": year, "title": topic}
    keys = {"incident": "incidents", "intel": "intel", "survey_topic": "survey_topics"}
    for risk_id, kind, ref in refs:
        item = shown.get((kind, ref))
        if item is None:
            out[risk_id]["not_shown"] += 1
        else:
            out[risk_id][keys[kind]].append(item)
    return out


def _risk_history(conn: Connection, reader: Reader, risk_id: int, values: Mapping[str, Any], stamp: int) -> None:
    conn.execute(insert(sectormap_risk_history).values(
        risk_id=risk_id, likelihood=values["likelihood"], impact=values["impact"], score=values["score"],
        status=values["status"], changed_by=reader.user_id, changed_at=stamp))


# --- measures -------------------------------------------------------------------------------------


def add_measure(conn: Connection, reader: Reader, risk_id: int, *, title: str,
                owner_organisation: int | str | None = None, owner_person: str | None = None,
                status: str = "planned", due_on: date | str | None = None, now: datetime | None = None
                ) -> dict[str, Any]:
    """A measure against a risk, owned by an organisation and/or a person (CERT staff)."""
    require_staff(reader, "write the risk register")
    _risk_row(conn, reader, risk_id)
    values = _measure_values(conn, {"title": title, "owner_organisation": owner_organisation,
                                    "owner_person": owner_person, "status": status, "due_on": due_on})
    stamp = _stamp(now)
    measure_id = int(conn.execute(insert(_m).values(
        **values, risk_id=risk_id, created_by=reader.user_id, created_at=stamp, updated_at=stamp,
    ).returning(_m.c.id)).scalar_one())
    _measure_history(conn, reader, measure_id, values["status"], stamp)
    return get_measure(conn, reader, measure_id)


def update_measure(conn: Connection, reader: Reader, measure_id: int, *, changes: Mapping[str, Any],
                   now: datetime | None = None) -> dict[str, Any]:
    """Change a measure: CERT staff anything; its owner organisation's analysts and risk officers its status."""
    row = _measure_row(conn, reader, measure_id)
    unknown = sorted(set(changes) - set(_MEASURE_FIELDS))
    if unknown:
        raise Invalid(f"these fields cannot be changed: {', '.join(unknown)}")
    if not reader.is_cert_staff:
        _require_owner(reader, row)
        if set(changes) - {"status"}:
            raise Forbidden("CERT staff change measures; the owner organisation updates their status")
    current = {"title": row["title"], "owner_organisation": row["owner_organisation_id"],
               "owner_person": row["owner_person"], "status": row["status"], "due_on": row["due_on"]}
    values = _measure_values(conn, {**current, **changes})
    stamp = _stamp(now)
    if any(values[k] != row[k] for k in values):
        conn.execute(update(_m).where(_m.c.id == measure_id).values(**values, updated_at=stamp))
    if values["status"] != row["status"]:
        _measure_history(conn, reader, measure_id, values["status"], stamp)
    return get_measure(conn, reader, measure_id)


def add_measure_note(conn: Connection, reader: Reader, measure_id: int, *, text: str,
                     noted_on: date | str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A dated progress note on a measure (CERT staff, or its owner organisation's analysts and risk officers)."""
    row = _measure_row(conn, reader, measure_id)
    if not reader.is_cert_staff:
        _require_owner(reader, row)
    problems: list[dict[str, str]] = []
    body = clean_text({"text": text}, "text", 32767, problems)
    stamp = _stamp(now)
    day = parse_date(noted_on, "noted_on", problems) or datetime.fromtimestamp(stamp / 1e6, UTC).date()
    if problems:
        raise Invalid("the note is not valid", details=problems)
    conn.execute(insert(sectormap_measure_notes).values(measure_id=measure_id, noted_on=day, text=body,
                                                        recorded_by=reader.user_id, recorded_at=stamp))
    return get_measure(conn, reader, measure_id)


def get_measure(conn: Connection, reader: Reader, measure_id: int) -> dict[str, Any]:
    row = _measure_row(conn, reader, measure_id)
    return next(m for m in _measures(conn, [row["risk_id"]]) if m["id"] == measure_id)


def _measure_row(conn: Connection, reader: Reader, measure_id: int) -> dict[str, Any]:
    _require_readable(reader, f"measure {measure_id}")
    row = conn.execute(select(_m).where(_m.c.id == measure_id)).mappings().first()
    if row is None:
        raise NotFound(f"no measure {measure_id}")
    return dict(row)


def _require_owner(reader: Reader, row: Mapping[str, Any]) -> None:
    if row["owner_organisation_id"] != reader.organisation_id:
        raise Forbidden("only CERT staff and the measure's owner organisation update it")
    if reader.role not in WRITERS:
        raise Forbidden(f"role {reader.role.value} may read the register; updating a measure needs analyst or "
                        "risk_officer")


def _measure_values(conn: Connection, given: Mapping[str, Any]) -> dict[str, Any]:
    problems: list[dict[str, str]] = []
    values = dict(given)
    title = clean_text(values, "title", 300, problems)
    person = clean_text(values, "owner_person", 200, problems, required=False)
    org_id = None
    ref = values.get("owner_organisation")
    if ref not in (None, ""):
        org_id = _organisation(conn, ref)
        if org_id is None:
            problems.append({"field": "owner_organisation", "reason": f"no organisation {ref!r}"})
    if values.get("status") not in MEASURE_STATES:
        problems.append({"field": "status", "reason": f"one of: {', '.join(MEASURE_STATES)}"})
    due_on = parse_date(values.get("due_on"), "due_on", problems)
    if problems:
        raise Invalid("the measure is not valid", details=problems)
    return {"title": title, "owner_organisation_id": org_id, "owner_person": person, "status": values["status"],
            "due_on": due_on}


def _organisation(conn: Connection, ref: Any) -> int | None:
    o = organisations
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdecimal()):
        where = o.c.id == int(ref)
    else:
        key = str(ref).strip().lower()
        where = or_(func.lower(o.c.name) == key, func.lower(o.c.short_name) == key)
    found = conn.execute(select(o.c.id).where(where)).scalar()
    return int(found) if found is not None else None


def _measure_history(conn: Connection, reader: Reader, measure_id: int, status: str, stamp: int) -> None:
    conn.execute(insert(sectormap_measure_history).values(measure_id=measure_id, status=status,
                                                          changed_by=reader.user_id, changed_at=stamp))


def _measures(conn: Connection, risk_ids: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(_m).where(_m.c.risk_id.in_(risk_ids)).order_by(_m.c.id)).mappings().all()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    n = sectormap_measure_notes
    notes: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for note in conn.execute(select(n, users.c.email).outerjoin(users, users.c.id == n.c.recorded_by)
                             .where(n.c.measure_id.in_(ids)).order_by(n.c.noted_on, n.c.id)):
        notes[note.measure_id].append({"noted_on": note.noted_on.isoformat(), "text": note.text,
                                       "recorded_by": note.email, "recorded_at": iso(note.recorded_at)})
    h = sectormap_measure_history
    history: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for change in conn.execute(select(h).where(h.c.measure_id.in_(ids)).order_by(h.c.changed_at, h.c.id)):
        history[change.measure_id].append({"status": change.status, "at": iso(change.changed_at)})
    orgs = organisations_by_id(conn, {r["owner_organisation_id"] for r in rows})
    return [{
        "id": r["id"], "risk_id": r["risk_id"], "title": r["title"],
        "owner": {"organisation": orgs.get(r["owner_organisation_id"]) if r["owner_organisation_id"] else None,
                  "person": r["owner_person"]},
        "status": r["status"], "due_on": r["due_on"].isoformat() if r["due_on"] else None,
        "notes": notes[r["id"]], "history": history[r["id"]],
        "created_at": iso(r["created_at"]), "updated_at": iso(r["updated_at"]),
    } for r in rows]
