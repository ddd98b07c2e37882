"""Self-assessment campaigns: CERT staff open one on a published catalogue version with a deadline, follow each
member's progress and close it; members see the campaigns and answer the open ones (``answers.py``).

Answers are taken until the campaign is closed: the deadline is what members are given, and a campaign past it is
shown as overdue, not closed by itself, so that the forum decides when the last answers are in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update

from nordcert.accounts.tables import organisations
from nordcert.baseline import catalogues
from nordcert.baseline.access import NON_MEMBER_SECTORS, is_member, require_staff, require_user
from nordcert.baseline.catalogue import Catalogue
from nordcert.baseline.tables import baseline_answers, baseline_campaigns, baseline_catalogues, baseline_responses
from nordcert.clock import iso, now_us, us
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sharing.policy import Reader

STATES = ("open", "closed")
PROGRESS_STATES = ("not_started", "draft", "submitted")
_c, _k, _r, _a = baseline_campaigns, baseline_catalogues, baseline_responses, baseline_answers


def open_campaign(conn: Connection, *, reader: Reader, name: str, catalogue_version: str, closes_at: datetime,
                  description: str = "", now: datetime | None = None) -> dict[str, Any]:
    """Open a campaign on a published catalogue version, with the deadline ``closes_at`` (CERT staff)."""
    require_staff(reader, "open baseline campaigns")
    at = us(now) if now else now_us()
    problems: list[dict[str, str]] = []
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        problems.append({"field": "name", "reason": "a name of 1 to 200 characters"})
    if len(description or "") > 4000:
        problems.append({"field": "description", "reason": "at most 4000 characters"})
    if closes_at.tzinfo is None:
        problems.append({"field": "closes_at", "reason": "a date and time with its time zone"})
    elif us(closes_at) <= at:
        problems.append({"field": "closes_at", "reason": "the deadline must be in the future"})
    row = conn.execute(select(_k.c.id, _k.c.published).where(_k.c.version == catalogue_version)).first()
    if row is None:
        problems.append({"field": "catalogue_version", "reason": f"no catalogue version {catalogue_version}"})
    elif not row.published:
        problems.append({"field": "catalogue_version",
                         "reason": f"{catalogue_version} is a draft: a campaign answers a published version"})
    if problems:
        raise Invalid("the campaign is not valid", details=problems)
    assert row is not None
    campaign_id = conn.execute(insert(_c).values(
        name=name, description=(description or "").strip(), catalogue_id=row.id, status="open", opens_at=at,
        closes_at=us(closes_at), created_by_user_id=reader.user_id, created_at=at,
    ).returning(_c.c.id)).scalar_one()
    return get_campaign(conn, campaign_id=campaign_id, reader=reader)


def close_campaign(conn: Connection, *, reader: Reader, campaign_id: int, now: datetime | None = None
                   ) -> dict[str, Any]:
    """Close a campaign (CERT staff): its answers are then final, and drafts stay drafts."""
    require_staff(reader, "close baseline campaigns")
    status = conn.execute(select(_c.c.status).where(_c.c.id == campaign_id).with_for_update()).scalar()
    if status is None:
        raise NotFound(f"no campaign {campaign_id}")
    if status == "closed":
        raise Conflict(f"campaign {campaign_id} is closed already")
    conn.execute(update(_c).where(_c.c.id == campaign_id).values(
        status="closed", closed_at=us(now) if now else now_us(), closed_by_user_id=reader.user_id))
    return get_campaign(conn, campaign_id=campaign_id, reader=reader)


def get_campaign(conn: Connection, *, campaign_id: int, reader: Reader) -> dict[str, Any]:
    """One campaign as ``reader`` sees it; a member's also carries its own response's state."""
    require_user(reader)
    found = _list(conn, reader, campaign_id=campaign_id)
    if not found:
        raise NotFound(f"no campaign {campaign_id}")
    return found[0]


def list_campaigns(conn: Connection, *, reader: Reader, status: str | None = None) -> list[dict[str, Any]]:
    """Campaigns, open ones first, then by deadline (newest first)."""
    require_user(reader)
    if status is not None and status not in STATES:
        raise Invalid(f"status {status!r} is not one of: {', '.join(STATES)}",
                      details=[{"field": "status", "reason": f"one of {', '.join(STATES)}"}])
    return _list(conn, reader, status=status)


def campaign_catalogue(conn: Connection, *, campaign_id: int) -> Catalogue:
    """The catalogue version a campaign answers (no access check: for services that checked already)."""
    catalogue_id = conn.execute(select(_c.c.catalogue_id).where(_c.c.id == campaign_id)).scalar()
    if catalogue_id is None:
        raise NotFound(f"no campaign {campaign_id}")
    return catalogues.load(conn, catalogue_id=catalogue_id)


def progress(conn: Connection, *, reader: Reader, campaign_id: int) -> dict[str, Any]:
    """Each member organisation's state in the campaign (CERT staff): not started, a draft with k of n controls
    answered, or submitted, with its times; and the count of members in each state. One query for the members."""
    require_staff(reader, "follow a campaign's progress")
    campaign = get_campaign(conn, campaign_id=campaign_id, reader=reader)
    catalogue = campaign_catalogue(conn, campaign_id=campaign_id)
    total = len(catalogue.controls)
    answered = (select(_a.c.response_id, func.count().label("answered"))
                .where(or_(_a.c.maturity.is_not(None), _a.c.not_applicable.is_(True)),
                       _a.c.control_id.in_(catalogue.control_ids))
                .group_by(_a.c.response_id).subquery())
    o = organisations
    q = (select(o.c.id, o.c.name, o.c.short_name, o.c.sector_type, _r.c.status, _r.c.updated_at,
                _r.c.submitted_at, _r.c.reopened_at, func.coalesce(answered.c.answered, 0).label("answered"))
         .select_from(o.outerjoin(_r, and_(_r.c.organisation_id == o.c.id, _r.c.campaign_id == campaign_id))
                      .outerjoin(answered, answered.c.response_id == _r.c.id))
         .where(o.c.sector_type.not_in(NON_MEMBER_SECTORS))
         .order_by(case((_r.c.status == "submitted", 2), (_r.c.status == "draft", 1), else_=0), o.c.name))
    members = []
    counts = dict.fromkeys(PROGRESS_STATES, 0)
    for row in conn.execute(q):
        state = row.status or "not_started"
        counts[state] += 1
        members.append({
            "organisation": {"id": row.id, "name": row.name, "short_name": row.short_name,
                             "sector_type": row.sector_type},
            "state": state, "answered": int(row.answered) if row.status else 0, "total": total,
            "updated_at": iso(row.updated_at), "submitted_at": iso(row.submitted_at),
            "reopened_at": iso(row.reopened_at),
        })
    return {"campaign": campaign, "members": members, "counts": counts, "total_members": len(members),
            "controls": total}


def require_open(conn: Connection, campaign_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The campaign's row, if it takes answers; a closed one is a conflict."""
    q = select(_c.c.id, _c.c.status, _c.c.catalogue_id, _c.c.closes_at).where(_c.c.id == campaign_id)
    row = conn.execute(q.with_for_update(read=True) if lock else q).mappings().first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    if row["status"] != "open":
        raise Conflict(f"campaign {campaign_id} is closed: its answers can no longer change")
    return dict(row)


def _list(conn: Connection, reader: Reader, *, campaign_id: int | None = None, status: str | None = None
          ) -> list[dict[str, Any]]:
    member = not reader.is_cert_staff and is_member(conn, reader.organisation_id)
    cols: list[Any] = [_c, _k.c.version, _k.c.title.label("catalogue_title")]
    join = _c.join(_k, _k.c.id == _c.c.catalogue_id)
    if member:
        cols += [_r.c.status.label("response_status"), _r.c.submitted_at, _r.c.updated_at]
        join = join.outerjoin(_r, and_(_r.c.campaign_id == _c.c.id, _r.c.organisation_id == reader.organisation_id))
    q = select(*cols).select_from(join).order_by(case((_c.c.status == "open", 0), else_=1), _c.c.closes_at.desc(),
                                                 _c.c.id.desc())
    if campaign_id is not None:
        q = q.where(_c.c.id == campaign_id)
    if status is not None:
        q = q.where(_c.c.status == status)
    now = now_us()
    out = []
    for row in conn.execute(q).mappings():
        item = {
            "id": row["id"], "name": row["name"], "description": row["description"], "status": row["status"],
            "catalogue": {"id": row["catalogue_id"], "version": row["version"], "title": row["catalogue_title"]},
            "opens_at": iso(row["opens_at"]), "closes_at": iso(row["closes_at"]),
            "overdue": row["status"] == "open" and row["closes_at"] < now,
            "created_at": iso(row["created_at"]), "closed_at": iso(row["closed_at"]),
            "my_response": None,
        }
        if member:
            item["my_response"] = {"status": row["response_status"] or "not_started",
                                   "updated_at": iso(row["updated_at"]), "submitted_at": iso(row["submitted_at"])}
        out.append(item)
    return out
