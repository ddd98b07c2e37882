"""The dashboard's numbers: new intel by type and TLP, the values most reported across members,
sightings per day. Every count goes through the sharing policy (:mod:`nordcert.sharing.policy`):
SQL filters with ``visible_clause``, index rows with ``visible`` and ``countable``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.observables.hits import hits_for
from nordcert.observables.tables import observables, sighting_index
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader
from nordcert.sharing.tlp import Tlp

DAY_US = 86_400 * 1_000_000
_t = stix_objects
#: Candidate values read from the index before the policy decides what the reader may count.
_CANDIDATES = 300


def new_intel(conn: Connection, reader: Reader, *, since: int, top: int = 8) -> list[tuple[str, dict[str, int]]]:
    """Latest, unrevoked objects added since ``since`` (µs) that the reader may see: by type, then TLP."""
    rows = conn.execute(
        select(_t.c.type, _t.c.tlp, func.count())
        .where(_t.c.date_added > since, _t.c.is_latest.is_(True), _t.c.revoked.is_(False),
               _t.c.type != "marking-definition", policy.visible_clause(reader, _t, object_recipients))
        .group_by(_t.c.type, _t.c.tlp)
    ).all()
    by_type: dict[str, dict[str, int]] = defaultdict(dict)
    for stype, tlp, n in rows:
        by_type[stype][Tlp(tlp).label] = n
    ranked = sorted(by_type.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    return ranked[:top]


def new_observables(conn: Connection, reader: Reader, *, since: int, top: int = 10
                    ) -> list[tuple[str, dict[str, int]]]:
    """Distinct values (IBANs, domains, …) in objects the reader may see added since ``since``: by kind, then TLP."""
    o = observables
    rows = conn.execute(
        select(o.c.kind, _t.c.tlp, func.count(func.distinct(o.c.value)))
        .join(_t, _t.c.date_added == o.c.date_added)
        .where(_t.c.date_added > since, _t.c.revoked.is_(False), policy.visible_clause(reader, _t, object_recipients))
        .group_by(o.c.kind, _t.c.tlp)
    ).all()
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, tlp, n in rows:
        by_kind[kind][Tlp(tlp).label] = n
    return sorted(by_kind.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]


def warninglist_hits(conn: Connection, reader: Reader, *, since: int, limit: int = 10) -> list[dict[str, Any]]:
    """Values of recent objects the reader may see that were on a warninglist when they came in:
    likely false positives to dismiss (the object page says what the lists say now)."""
    o = observables
    rows = conn.execute(
        select(o.c.kind, o.c.value, o.c.warninglists, _t.c.stix_id, _t.c.name, _t.c.tlp)
        .join(_t, _t.c.date_added == o.c.date_added)
        .where(o.c.warninglists.is_not(None), _t.c.date_added > since, _t.c.is_latest.is_(True),
               _t.c.revoked.is_(False), policy.visible_clause(reader, _t, object_recipients))
        .order_by(_t.c.date_added.desc()).limit(limit)
    ).all()
    return [{"kind": r.kind, "value": r.value, "lists": [w for w in str(r.warninglists).split(",") if w],
             "id": r.stix_id, "name": r.name or r.stix_id, "tlp": Tlp(r.tlp).label} for r in rows]


def most_correlated(conn: Connection, reader: Reader, *, top: int = 10) -> list[dict[str, Any]]:
    """Values the reader may see that several members reported, most members first.

    Members are counted where :func:`policy.countable` allows and never named.
    """
    o = observables
    creators = func.count(func.distinct(_t.c.creator_org_id))
    candidates = conn.execute(
        select(o.c.kind, o.c.value).join(_t, _t.c.date_added == o.c.date_added)
        .group_by(o.c.kind, o.c.value).having(creators >= 2)
        .order_by(creators.desc(), o.c.kind, o.c.value).limit(_CANDIDATES)
    ).all()
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, value in candidates:
        wanted[kind].add(value)
    counted: dict[tuple[str, str], set[int | None]] = defaultdict(set)
    shown: dict[tuple[str, str], set[str]] = defaultdict(set)
    for hit in hits_for(conn, wanted) if wanted else ():
        key = (hit.kind, hit.value)
        if policy.visible(hit.sharing, reader):
            shown[key].add(hit.stix_id)
            counted[key].add(hit.sharing.creator_org_id)
        elif policy.countable(hit.sharing, reader):
            counted[key].add(hit.sharing.creator_org_id)
    ranked = sorted(((len(counted[key]), len(ids), key) for key, ids in shown.items() if len(counted[key]) >= 2),
                    key=lambda r: (-r[0], -r[1], r[2]))
    return [{"kind": key[0], "value": key[1], "members": members, "objects": objects}
            for members, objects, key in ranked[:top]]


def sightings_per_day(conn: Connection, reader: Reader, *, now: int, days: int = 14) -> list[tuple[str, int]]:
    """The sum of the counts of the sightings the reader may see, by the day they were last seen (UTC)."""
    day0 = (now // DAY_US - (days - 1)) * DAY_US
    rows = conn.execute(
        select(sighting_index.c.last_seen, sighting_index.c.count)
        .join(_t, _t.c.date_added == sighting_index.c.date_added)
        .where(sighting_index.c.last_seen >= day0, _t.c.is_latest.is_(True),
               policy.visible_clause(reader, _t, object_recipients))
    ).all()
    daily = [0] * days
    for last_seen, count in rows:
        day = (last_seen - day0) // DAY_US
        if 0 <= day < days:
            daily[day] += count
    return [(datetime.fromtimestamp((day0 + i * DAY_US) / 1e6, tz=UTC).strftime("%d %b"), n)
            for i, n in enumerate(daily)]


def related(conn: Connection, reader: Reader | None, stix_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Relationships and sightings the reader may see that name ``stix_id`` (latest versions).

    Read from the objects' JSON: there is no reference index yet, so this scans the visible
    relationships (fast enough for the demo's thousands; an index belongs to the intel store).
    """
    needle = f'"{stix_id}"'
    rows = conn.execute(
        select(_t.c.stix_id, _t.c.type, _t.c.body, _t.c.tlp, _t.c.name)
        .where(_t.c.type.in_(("relationship", "sighting")), _t.c.is_latest.is_(True), _t.c.revoked.is_(False),
               _t.c.body.contains(needle, autoescape=True), policy.visible_clause(reader, _t, object_recipients))
        .order_by(_t.c.date_added.desc()).limit(limit)
    ).all()
    out = []
    for row in rows:
        obj = orjson.loads(row.body)
        if row.type == "relationship":
            source, target = obj.get("source_ref"), obj.get("target_ref")
            if stix_id not in (source, target):
                continue
            other = target if source == stix_id else source
            out.append({"id": row.stix_id, "type": obj.get("relationship_type", "related-to"),
                        "direction": "out" if source == stix_id else "in", "other": other,
                        "tlp": Tlp(row.tlp).label})
    return out


def names_of(conn: Connection, reader: Reader | None, ids: list[str]) -> dict[str, str]:
    """Names of the objects in ``ids`` the reader may see (others stay unnamed)."""
    if not ids:
        return {}
    rows = conn.execute(
        select(_t.c.stix_id, _t.c.name).where(_t.c.stix_id.in_(sorted(set(ids))), _t.c.is_latest.is_(True),
                                              policy.visible_clause(reader, _t, object_recipients))
    ).all()
    return {r.stix_id: r.name or r.stix_id for r in rows}
