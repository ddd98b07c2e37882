"""How incidents are shown: JSON-ready dicts of an incident, its deadlines and classification, and the
snapshot stored with each report; times as ISO 8601 in UTC (``Z``), and local where a person reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from nordcert.clock import dt, iso, iso_dt, us
from nordcert.incidents import deadlines
from nordcert.incidents.classify import Classification
from nordcert.incidents.deadlines import ReportDeadline


def summary(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    zone = deadlines.zone_of(row["timezone"])
    due_at = row["next_due_at"]
    return {
        "id": row["id"],
        "reference": row["reference"],
        "title": row["title"],
        "organisation": {"id": row["organisation_id"], "name": row["organisation_name"],
                         "short_name": row["organisation_short_name"]},
        "timezone": row["timezone"],
        "detected_at": iso(row["detected_at"]),
        "occurred_at": iso(row["occurred_at"]),
        "classified_at": iso(row["classified_at"]),
        "major": row["major"],
        "status": row["status"],
        "next_due": None if due_at is None else {
            "kind": row["next_due_kind"], "due_at": iso(due_at),
            "due_local": dt(due_at).astimezone(zone).isoformat(), "overdue": due_at < us(now)},
        "overdue": due_at is not None and due_at < us(now),
    }


def deadline(d: ReportDeadline, zone: ZoneInfo) -> dict[str, Any]:
    due = d.due
    return {
        "kind": d.kind, "state": d.state, "note": d.note,
        "due_at": iso_dt(due.at) if due else None,
        "due_local": due.at.astimezone(zone).isoformat() if due else None,
        "strict_due_at": iso_dt(due.strict_at) if due else None,
        "relieved": due.relieved if due else False,
        "rule": due.rule if due else None,
        "submitted_at": iso_dt(d.submitted_at) if d.submitted_at else None,
    }


def classification(result: Classification) -> dict[str, Any]:
    return {
        "major": result.major, "rule": result.rule, "met": result.met,
        "criteria": [{"criterion": c.criterion, "article": c.article, "met": c.met, "reason": c.reason,
                      "tests": [asdict(t) for t in c.tests]} for c in result.criteria],
    }


def snapshot(row: Mapping[str, Any], links: list[str]) -> dict[str, Any]:
    stored = orjson.loads(row["classification"])
    return {
        "incident": {"reference": row["reference"], "title": row["title"], "description": row["description"],
                     "detected_at": iso(row["detected_at"]), "occurred_at": iso(row["occurred_at"]),
                     "classified_at": iso(row["classified_at"]), "timezone": row["timezone"]},
        "organisation": {"name": row["organisation_name"], "short_name": row["organisation_short_name"],
                         "country": row["organisation_country"]},
        "facts": orjson.loads(row["facts"]),
        "classification": {"major": stored["major"], "rule": stored["rule"], "met": stored["met"]},
        "intel_links": links,
    }


# --- JSON ----------------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode()
