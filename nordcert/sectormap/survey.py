"""The yearly members' concerns survey that feeds the risk register.

CERT staff open a survey for a year with a list of concern topics; each member's analysts and risk officers
submit its top concerns once (a ranked list of topics and free text; submitting again replaces the member's
answer while the survey is open); staff close it. The result is an aggregate per topic (how many members
ranked it, how many put it first, its mean rank) that risks cite as sources.

Nobody learns which member said what: a member reads its own answer and the aggregate, the aggregate only once
at least :data:`MIN_RESPONDENTS` members answered (with fewer, one member's ranking could be read off it); CERT
staff read the aggregate at any count and the free texts, unattributed and in alphabetical order. A federation
peer sees no survey.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, update

from nordcert.clock import iso, now_us, us
from nordcert.errors import Conflict, Invalid, NotFound
from nordcert.sectormap.service import may_read, require_member_writer, require_staff
from nordcert.sectormap.tables import (
    sectormap_survey_answers,
    sectormap_survey_responses,
    sectormap_survey_topics,
    sectormap_surveys,
)
from nordcert.sharing.policy import Reader

MIN_RESPONDENTS = 3
MAX_TOPICS = 50
_s, _t, _resp, _ans = sectormap_surveys, sectormap_survey_topics, sectormap_survey_responses, sectormap_survey_answers


def open_survey(conn: Connection, reader: Reader, *, year: int, topics: Sequence[str], now: datetime | None = None
                ) -> dict[str, Any]:
    """Open the concerns survey of ``year`` with its topics, in the order members see them (CERT staff)."""
    require_staff(reader, "open the concerns survey")
    problems: list[dict[str, str]] = []
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.append({"field": "year", "reason": "a year from 2000 to 2100"})
    cleaned = [str(t or "").strip() for t in topics]
    if not 1 <= len(cleaned) <= MAX_TOPICS:
        problems.append({"field": "topics", "reason": f"1 to {MAX_TOPICS} topics"})
    seen: set[str] = set()
    for n, title in enumerate(cleaned):
        if not title or len(title) > 300:
            problems.append({"field": f"topics[{n}]", "reason": "1 to 300 characters"})
        elif title.casefold() in seen:
            problems.append({"field": f"topics[{n}]", "reason": "named twice"})
        seen.add(title.casefold())
    if problems:
        raise Invalid("the survey is not valid", details=problems)
    if conn.execute(select(_s.c.id).where(_s.c.year == year)).first() is not None:
        raise Conflict(f"the {year} survey exists already")
    survey_id = conn.execute(insert(_s).values(year=year, status="open", opened_by=reader.user_id,
                                               opened_at=us(now) if now else now_us()).returning(_s.c.id)).scalar_one()
    conn.execute(insert(_t), [{"survey_id": survey_id, "position": n + 1, "title": title}
                              for n, title in enumerate(cleaned)])
    return get_survey(conn, reader, year)


def close_survey(conn: Connection, reader: Reader, year: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Close a survey (CERT staff): it then takes no more answers."""
    require_staff(reader, "close the concerns survey")
    row = _survey(conn, reader, year, lock=True)
    if row["status"] == "closed":
        raise Conflict(f"the {year} survey is closed already")
    conn.execute(update(_s).where(_s.c.id == row["id"]).values(status="closed",
                                                               closed_at=us(now) if now else now_us()))
    return get_survey(conn, reader, year)


def list_surveys(conn: Connection, reader: Reader) -> list[dict[str, Any]]:
    """Every survey, newest year first."""
    if not may_read(reader):
        return []
    years = conn.execute(select(_s.c.year).order_by(_s.c.year.desc())).scalars().all()
    return [get_survey(conn, reader, y) for y in years]


def get_survey(conn: Connection, reader: Reader, year: int) -> dict[str, Any]:
    """A survey with its topics and the number of members who answered."""
    row = _survey(conn, reader, year)
    topics = [{"id": t.id, "position": t.position, "title": t.title} for t in conn.execute(
        select(_t).where(_t.c.survey_id == row["id"]).order_by(_t.c.position))]
    respondents = conn.execute(select(func.count()).select_from(_resp)
                               .where(_resp.c.survey_id == row["id"])).scalar_one()
    return {"year": row["year"], "status": row["status"], "topics": topics, "respondents": respondents,
            "opened_at": iso(row["opened_at"]), "closed_at": iso(row["closed_at"])}


def submit_response(conn: Connection, reader: Reader, year: int, *, ranking: Sequence[int], comment: str = "",
                    now: datetime | None = None) -> dict[str, Any]:
    """The reader's organisation's top concerns: topic ids, most pressing first, and free text. Replaces the
    organisation's earlier answer; refused once the survey is closed."""
    org = require_member_writer(conn, reader)
    # The survey row locked: answers of one member replace each other in turn, and none slips past the close.
    row = _survey(conn, reader, year, lock=True)
    if row["status"] == "closed":
        raise Conflict(f"the {year} survey is closed: it takes no more answers")
    topics = set(conn.execute(select(_t.c.id).where(_t.c.survey_id == row["id"])).scalars())
    problems: list[dict[str, str]] = []
    if not ranking:
        problems.append({"field": "ranking", "reason": "rank at least one topic"})
    for n, topic in enumerate(ranking):
        if topic not in topics:
            problems.append({"field": f"ranking[{n}]", "reason": f"no topic {topic} in the {year} survey"})
        elif topic in ranking[:n]:
            problems.append({"field": f"ranking[{n}]", "reason": f"topic {topic} is ranked twice"})
    text = (comment or "").strip()
    if len(text) > 32767:
        problems.append({"field": "comment", "reason": "at most 32767 characters"})
    if problems:
        raise Invalid("the answer is not valid", details=problems)
    conn.execute(delete(_resp).where(_resp.c.survey_id == row["id"], _resp.c.organisation_id == org))
    response_id = conn.execute(insert(_resp).values(
        survey_id=row["id"], organisation_id=org, comment=text, submitted_by=reader.user_id,
        submitted_at=us(now) if now else now_us()).returning(_resp.c.id)).scalar_one()
    conn.execute(insert(_ans), [{"response_id": response_id, "topic_id": t, "rank": n + 1}
                                for n, t in enumerate(ranking)])
    return get_own_response(conn, reader, year)


def get_own_response(conn: Connection, reader: Reader, year: int) -> dict[str, Any]:
    """The reader's organisation's answer (NotFound when it has not answered)."""
    row = _survey(conn, reader, year)
    found = conn.execute(select(_resp).where(_resp.c.survey_id == row["id"],
                                             _resp.c.organisation_id == reader.organisation_id)).mappings().first()
    if found is None:
        raise NotFound(f"your organisation has not answered the {year} survey")
    ranking = [{"topic_id": a.topic_id, "title": a.title, "rank": a.rank} for a in conn.execute(
        select(_ans.c.topic_id, _ans.c.rank, _t.c.title).join(_t, _t.c.id == _ans.c.topic_id)
        .where(_ans.c.response_id == found["id"]).order_by(_ans.c.rank))]
    return {"year": year, "ranking": ranking, "comment": found["comment"], "submitted_at": iso(found["submitted_at"])}


def survey_results(conn: Connection, reader: Reader, year: int) -> dict[str, Any]:
    """Per topic: members ranking it, members ranking it first, mean rank (None if nobody ranked it); the topic
    most members ranked first, then the lowest mean rank. ``suppressed`` when a non-staff reader asks before
    :data:`MIN_RESPONDENTS` answered."""
    row = _survey(conn, reader, year)
    respondents = conn.execute(select(func.count()).select_from(_resp)
                               .where(_resp.c.survey_id == row["id"])).scalar_one()
    suppressed = not reader.is_cert_staff and respondents < MIN_RESPONDENTS
    topics = []
    if not suppressed:
        stats = {topic: (n, first, mean) for topic, n, first, mean in conn.execute(
            select(_ans.c.topic_id, func.count(), func.sum(case((_ans.c.rank == 1, 1), else_=0)),
                   func.avg(_ans.c.rank))
            .join(_resp, _resp.c.id == _ans.c.response_id).where(_resp.c.survey_id == row["id"])
            .group_by(_ans.c.topic_id))}
        for t in conn.execute(select(_t).where(_t.c.survey_id == row["id"]).order_by(_t.c.position)):
            n, first, mean = stats.get(t.id, (0, 0, None))
            topics.append({"id": t.id, "title": t.title, "members": int(n), "ranked_first": int(first or 0),
                           "mean_rank": round(float(mean), 2) if mean is not None else None})
        topics.sort(key=lambda x: (-x["members"], x["mean_rank"] or 0, x["id"]))
    comments = None
    if reader.is_cert_staff:
        comments = sorted(c for c in conn.execute(select(_resp.c.comment).where(
            _resp.c.survey_id == row["id"], _resp.c.comment != "")).scalars())
    return {"year": year, "status": row["status"], "respondents": respondents, "min_respondents": MIN_RESPONDENTS,
            "suppressed": suppressed, "topics": topics, "comments": comments}


def _survey(conn: Connection, reader: Reader, year: int, *, lock: bool = False) -> dict[str, Any]:
    if not may_read(reader):
        raise NotFound(f"no survey for {year}")
    q = select(_s).where(_s.c.year == year)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no survey for {year}")
    return dict(row)
