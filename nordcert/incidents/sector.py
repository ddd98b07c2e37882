"""The sector's view of incidents, and a member's anonymised summary of its incident shared as intel.

Sector view (CERT staff, and risk officers of authorities): every incident recorded on the instance,
counted by month of detection, severity (major or not under DORA), incident type (ITS 3.23, from the
latest report that gives it), classification criterion met and status. Counts never name a member.
Members are named only through what they chose to share: each shared summary is an ordinary intel
object (a STIX 2.1 ``incident`` under the TLP, group and anonymity the member chose), so the one
sharing policy decides who sees it and whether its creator is shown.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from nordcert import clock
from nordcert.accounts.tables import organisations
from nordcert.config import Settings
from nordcert.errors import Forbidden, Invalid
from nordcert.incidents.service import _load, _require_writer
from nordcert.incidents.tables import incident_intel_links, incident_reports, incidents
from nordcert.intel import service as intel
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import submission_for
from nordcert.intel.tables import object_labels, object_recipients, stix_objects
from nordcert.intel.validate import format_timestamp
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role, Sharing
from nordcert.sharing.tlp import Tlp

#: The label every shared incident summary carries (and the sector view finds them by).
SUMMARY_LABEL = "dora-incident-summary"
_UNKNOWN = "not reported yet"


def may_see_sector(conn: Connection, reader: Reader) -> bool:
    """CERT staff, and risk officers of an authority (the supervisor's view of the sector)."""
    if reader.is_cert_staff:
        return True
    if reader.role is not Role.RISK_OFFICER:
        return False
    kind = conn.execute(select(organisations.c.sector_type)
                        .where(organisations.c.id == reader.organisation_id)).scalar()
    return kind == "authority"


def _types_of(content: str) -> list[str]:
    """The incident types (ITS 3.23) a stored report names (its fields are under ``report``)."""
    found = (orjson.loads(content).get("report") or {}).get("incident_types")
    return [str(t) for t in found] if isinstance(found, list) else []


def _month(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m")


def sector_overview(conn: Connection, reader: Reader, settings: Settings, *, months: int = 12,
                    now: datetime | None = None) -> dict[str, Any]:
    """Counts of the sector's incidents over the last ``months`` months, and the summaries shared with the reader."""
    if not may_see_sector(conn, reader):
        raise Forbidden("the sector view is for CERT staff and authorities' risk officers")
    if not 1 <= months <= 120:
        raise Invalid("months must be between 1 and 120")
    now = now or clock.now()
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    for _ in range(months - 1):
        start = datetime(start.year - (start.month == 1), 12 if start.month == 1 else start.month - 1, 1, tzinfo=UTC)
    since = clock.us(start)
    t = incidents.c
    rows = conn.execute(select(t.id, t.detected_at, t.major, t.status, t.classification, organisations.c.sector_type)
                        .join(organisations, organisations.c.id == t.organisation_id)
                        .where(t.detected_at >= since)).all()
    # The incident types of each incident: from its latest report that names them (one query).
    types: dict[int, list[str]] = {}
    r = incident_reports.c
    for incident_id, content in conn.execute(
            select(r.incident_id, r.content).where(r.incident_id.in_([row.id for row in rows]) if rows else r.id < 0)
            .order_by(r.incident_id, r.sequence)):
        named = _types_of(content)
        if named:
            types[incident_id] = list(named)
    month_keys = []
    cursor = start
    while cursor <= now:
        month_keys.append(cursor.strftime("%Y-%m"))
        cursor = datetime(cursor.year + (cursor.month == 12), 1 if cursor.month == 12 else cursor.month + 1, 1,
                          tzinfo=UTC)
    by_month: dict[str, Counter[str]] = {m: Counter() for m in month_keys}
    by_type: Counter[str] = Counter()
    by_criterion: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_member_type: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        severity = "major" if row.major else "not major"
        by_month.setdefault(_month(row.detected_at), Counter())[severity] += 1
        for kind in types.get(row.id, [_UNKNOWN]):
            by_type[kind] += 1
        for code in orjson.loads(row.classification or "{}").get("met", []):
            by_criterion[code] += 1
        by_status[row.status] += 1
        by_member_type[row.sector_type][severity] += 1
    return {
        "since": start.isoformat(),
        "total": len(rows),
        "major": sum(1 for row in rows if row.major),
        "by_month": [{"month": m, "major": c["major"], "not_major": c["not major"]} for m, c in sorted(by_month.items())],
        "by_type": dict(by_type.most_common()),
        "by_criterion": dict(by_criterion.most_common()),
        "by_status": dict(by_status),
        "by_member_type": {k: {"major": v["major"], "not_major": v["not major"]} for k, v in sorted(by_member_type.items())},
        "shared_summaries": shared_summaries(conn, reader, settings),
    }


def shared_summaries(conn: Connection, reader: Reader | None, settings: Settings, *, limit: int = 200
                     ) -> list[dict[str, Any]]:
    """The incident summaries members shared that ``reader`` may see, newest first, creators as the policy allows."""
    s = stix_objects.c
    q = (select(s.date_added, s.body, s.tlp, s.group_id, s.anonymous, s.creator_org_id,
                organisations.c.name.label("creator_name"))
         .join(object_labels, object_labels.c.date_added == s.date_added)
         .outerjoin(organisations, organisations.c.id == s.creator_org_id)
         .where(object_labels.c.label == SUMMARY_LABEL, s.is_latest.is_(True), s.revoked.is_(False),
                policy.visible_clause(reader, stix_objects, object_recipients))
         .order_by(s.date_added.desc()).limit(limit))
    out = []
    for row in conn.execute(q):
        obj = orjson.loads(row.body)
        sharing = Sharing(row.creator_org_id, Tlp(row.tlp), row.group_id, anonymous=row.anonymous)
        out.append({
            "id": obj["id"], "name": obj.get("name"), "description": obj.get("description"),
            "tlp": Tlp(row.tlp).label, "shared_at": format_timestamp(row.date_added),
            "member": row.creator_name if policy.creator_visible(sharing, reader) else "anonymous member",
            "anonymous": bool(row.anonymous),  # shared anonymously (CERT staff still see who)
            "major": obj.get("x_nordcert_dora_major"), "criteria": obj.get("x_nordcert_dora_criteria", []),
            "incident_types": obj.get("x_nordcert_incident_types", []),
        })
    return out


def share_summary(conn: Connection, reader: Reader, settings: Settings, incident_id: int, *, tlp: str,
                  summary: str, title: str | None = None, group: str | None = None, anonymous: bool = True,
                  include_links: bool = True) -> dict[str, Any]:
    """Share an anonymised summary of one of the reader's organisation's incidents with the sector.

    The member writes the summary text (nothing of the incident's facts or reports is copied but its
    severity, the criteria met and the incident types); the summary becomes a STIX 2.1 ``incident``
    under ``tlp`` (and ``group``), anonymous unless ``anonymous`` is False, with ``related-to``
    relationships to the intel objects linked to the incident. RED is refused: a summary is for the sector.
    """
    row = _load(conn, reader, incident_id)
    _require_writer(reader, row["organisation_id"])
    level = Tlp.parse(tlp)
    if level is Tlp.RED:
        raise Invalid("a summary for the sector cannot be TLP:RED; choose clear, green, amber or amber+strict")
    text = summary.strip()
    if not text:
        raise Invalid("write the summary to share: what happened and what others should look for, without "
                      "client data")
    classification = orjson.loads(row["classification"] or "{}")
    types: list[str] = []
    for (content,) in conn.execute(select(incident_reports.c.content)
                                   .where(incident_reports.c.incident_id == incident_id)
                                   .order_by(incident_reports.c.sequence)):
        types = _types_of(content) or types
    now = format_timestamp(clock.us(clock.now()) // 1000 * 1000)
    summary_id = f"incident--{uuid.uuid4()}"
    obj: dict[str, Any] = {
        "type": "incident", "spec_version": "2.1", "id": summary_id, "created": now, "modified": now,
        "name": (title or "ICT-related incident at a member").strip()[:200], "description": text,
        "labels": [SUMMARY_LABEL, "dora-major" if row["major"] else "dora-not-major"],
        "x_nordcert_dora_major": bool(row["major"]),
        "x_nordcert_dora_criteria": list(classification.get("met", [])),
        "x_nordcert_incident_types": types,
    }
    objects: list[dict[str, Any]] = [obj]
    if include_links:
        linked = conn.execute(select(incident_intel_links.c.stix_id)
                              .where(incident_intel_links.c.incident_id == incident_id)).scalars().all()
        for target in linked:
            objects.append({"type": "relationship", "spec_version": "2.1", "id": f"relationship--{uuid.uuid4()}",
                            "created": now, "modified": now, "relationship_type": "related-to",
                            "source_ref": summary_id, "target_ref": target})
    # Risk officers record incidents: sharing their summary is part of that work, with the rights an analyst of
    # the organisation has for intel (the group must be one of the organisation's).
    submitter = replace(reader, role=Role.ANALYST) if reader.role is Role.RISK_OFFICER else reader
    sub = submission_for(conn, submitter, tlp=level.label, group=group, anonymous=anonymous)
    ingest(conn, objects, sub, settings)
    conn.execute(insert(incident_intel_links).values(incident_id=incident_id, stix_id=summary_id,
                                                     linked_at=clock.us(clock.now())))
    shared = intel.get_object(conn, reader, summary_id, settings)
    return {"summary": shared, "relationships": len(objects) - 1}
