"""Sightings (STIX 2.1 §5.2): recording that a member saw an object, and the sector's view of them.

A sighting is a STIX object like any other, with its own sharing; its default audience is the
audience of what it sights, so a sighting never tells anyone about an object they may not see.
Aggregates count what the reader may see, and count members (never name them) where
:func:`policy.countable` allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from nordcert.accounts.tables import organisations
from nordcert.clock import now_us
from nordcert.config import Settings
from nordcert.errors import Forbidden, Invalid
from nordcert.intel.ingest import ingest
from nordcert.intel.submission import Submission
from nordcert.intel.tables import object_recipients
from nordcert.intel.validate import ObjectError, format_timestamp, timestamp_us
from nordcert.observables.hits import SightingRow, latest_visible, sightings_for
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Role, Sharing
from nordcert.sharing.tlp import Tlp

_DAY_US = 86_400 * 1_000_000
TREND_DAYS = 14


@dataclass
class SightingSummary:
    """What the reader may know of the sightings of one object."""

    count: int = 0  # sum of the visible sightings' counts
    sightings: int = 0  # visible sighting objects
    first_seen: int = 0
    last_seen: int = 0
    members: set[int | None] = field(default_factory=set)  # countable sighting organisations
    members_7d: set[int | None] = field(default_factory=set)
    daily: list[int] = field(default_factory=lambda: [0] * TREND_DAYS)  # oldest day first

    def trend(self) -> str:
        last7, prev7 = sum(self.daily[7:]), sum(self.daily[:7])
        if last7 == 0 and prev7 == 0:
            return "none"
        if prev7 == 0:
            return "new"
        if last7 > prev7 * 1.2:
            return "rising"
        if last7 < prev7 * 0.8:
            return "falling"
        return "steady"


def summarise(conn: Connection, reader: Reader | None, refs: Iterable[str], now: int) -> dict[str, SightingSummary]:
    """Sighting aggregates per sighted object id, as ``reader`` may know them."""
    out: dict[str, SightingSummary] = {}
    day0 = (now // _DAY_US - (TREND_DAYS - 1)) * _DAY_US
    for row in sightings_for(conn, refs):
        _add(out, row, reader, now, day0)
    return out


def _add(out: dict[str, SightingSummary], row: SightingRow, reader: Reader | None, now: int, day0: int) -> None:
    if policy.visible(row.sharing, reader):
        s = out.setdefault(row.sighting_of_ref, SightingSummary())
        s.count += row.count
        s.sightings += 1
        s.first_seen = min(s.first_seen, row.first_seen) if s.first_seen else row.first_seen
        s.last_seen = max(s.last_seen, row.last_seen)
        day = (row.last_seen - day0) // _DAY_US
        if 0 <= day < TREND_DAYS:
            s.daily[day] += row.count
    elif not policy.countable(row.sharing, reader):
        return
    s = out.setdefault(row.sighting_of_ref, SightingSummary())
    s.members.add(row.sharing.creator_org_id)
    if row.last_seen >= now - 7 * _DAY_US:
        s.members_7d.add(row.sharing.creator_org_id)


def sightings_of(conn: Connection, reader: Reader, settings: Settings, stix_id: str) -> dict[str, Any]:
    """The sighting summary of one object the reader may see, with the sightings it may see."""
    target = latest_visible(conn, reader, stix_id)
    now = now_us()
    summary = summarise(conn, reader, [stix_id], now).get(stix_id, SightingSummary())
    rows = [r for r in sightings_for(conn, [stix_id]) if policy.visible(r.sharing, reader)]
    names = dict(conn.execute(select(organisations.c.id, organisations.c.short_name)).all())
    day0 = (now // _DAY_US - (TREND_DAYS - 1)) * _DAY_US
    listed = sorted(rows, key=lambda r: r.last_seen, reverse=True)[:100]
    return {
        "id": target["stix_id"],
        "count": summary.count,
        "sightings": summary.sightings,
        "first_seen": format_timestamp(summary.first_seen) if summary.first_seen else None,
        "last_seen": format_timestamp(summary.last_seen) if summary.last_seen else None,
        "members": len(summary.members),
        "members_last_7_days": len(summary.members_7d),
        "summary": f"sighted by {len(summary.members_7d)} member{'s' if len(summary.members_7d) != 1 else ''} "
        "in the last 7 days",
        "trend": {
            "direction": summary.trend(),
            "days": [{"date": datetime.fromtimestamp((day0 + i * _DAY_US) / 1e6, tz=UTC).date().isoformat(),
                      "count": n} for i, n in enumerate(summary.daily)],
        },
        "recent": [
            {"count": r.count, "first_seen": format_timestamp(r.first_seen), "last_seen": format_timestamp(r.last_seen),
             "tlp": r.sharing.tlp.label,
             "sighted_by": (names.get(r.sharing.creator_org_id) or settings.instance_name)
             if policy.creator_visible(r.sharing, reader) else "anonymous member"}
            for r in listed
        ],
    }


def record_sighting(
    conn: Connection, reader: Reader, settings: Settings, stix_id: str, *, count: int = 1,
    first_seen: str | None = None, last_seen: str | None = None, anonymous: bool = False,
    tlp: str | None = None, note: str | None = None,
) -> dict[str, Any]:
    """Record that the reader's organisation sighted ``stix_id``: a STIX sighting, shared within its audience."""
    if reader.role not in (Role.ANALYST, Role.CERT_ADMIN):
        raise Forbidden(f"role {reader.role.value} may not record sightings (analyst or cert_admin needed)")
    target = latest_visible(conn, reader, stix_id)
    if target["type"] in ("sighting", "relationship", "marking-definition"):
        raise Invalid(f"a {target['type']} cannot be sighted")
    if not 0 <= count <= 999_999_999:
        raise Invalid("count must be between 0 and 999999999 (STIX 2.1 §5.2)")
    now = now_us() // 1000 * 1000
    try:
        first = timestamp_us(first_seen, "first_seen") if first_seen else now
        last = timestamp_us(last_seen, "last_seen") if last_seen else max(first, now) if not first_seen else first
    except ObjectError as exc:
        raise Invalid(str(exc)) from None
    if last < first:
        raise Invalid("last_seen must not be before first_seen")
    if first > now + 300_000_000:
        raise Invalid("first_seen is in the future")
    org = conn.execute(select(organisations.c.identity_id).where(
        organisations.c.id == reader.organisation_id)).scalar_one()
    who = settings.instance_identity_id if anonymous else org
    stamp = format_timestamp(now)
    sighting: dict[str, Any] = {
        "type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
        "created": stamp, "modified": stamp, "created_by_ref": who,
        "sighting_of_ref": stix_id, "count": count,
        "first_seen": format_timestamp(first), "last_seen": format_timestamp(last),
        "where_sighted_refs": [who],
    }
    if note:
        sighting["description"] = note
    target_sharing = Sharing(creator_org_id=target["creator_org_id"], tlp=Tlp(target["tlp"]),
                             group_id=target["group_id"])
    asked = Tlp.parse(tlp) if tlp else Tlp.parse(settings.default_tlp)
    shared = max(asked, target_sharing.tlp)
    recipients: frozenset[int] = frozenset()
    if shared is Tlp.RED:
        # Within the audience of a RED object: its recipients and its creator.
        recipients = frozenset(conn.execute(select(object_recipients.c.organisation_id).where(
            object_recipients.c.date_added == target["date_added"])).scalars())
        recipients |= {o for o in (target["creator_org_id"], reader.organisation_id) if o is not None}
    group = target["group_id"] if shared in (Tlp.AMBER, Tlp.AMBER_STRICT) else None
    sub = Submission(creator_org_id=reader.organisation_id, submitted_by=reader.user_id, tlp=shared,
                     group_id=group, recipients=recipients, anonymous=anonymous, is_cert_staff=reader.is_cert_staff)
    ingest(conn, [sighting], sub, settings)
    return {"sighting": sighting, "tlp": shared.label}
