"""Reading the observable and sighting indexes joined with their objects' sharing attributes.

Index reads return every row for the values asked about; the sharing policy then decides, row by
row, what the reader sees (:func:`policy.visible`) and what may only be counted
(:func:`policy.countable`). Each read is one indexed statement per kind, whatever the number of values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from nordcert.db import fetch_all, in_values, is_postgres, values_param
from nordcert.errors import NotFound
from nordcert.intel.tables import object_recipients, stix_objects
from nordcert.sharing import policy
from nordcert.sharing.policy import Reader, Sharing
from nordcert.sharing.tlp import Tlp

_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Hit:
    """One index row: a value of ``kind`` held by the latest version of an object."""

    kind: str
    value: str
    date_added: int
    stix_id: str
    type: str
    sharing: Sharing
    creator_short: str | None
    body: str
    modified: int
    created: int | None
    valid_until: int | None


@dataclass(frozen=True, slots=True)
class SightingRow:
    sighting_of_ref: str
    count: int
    first_seen: int
    last_seen: int
    date_added: int
    sharing: Sharing


def _recipients(conn: Connection, keys: list[int]) -> dict[int, frozenset[int]]:
    """Named recipients of RED rows, by date_added."""
    out: dict[int, set[int]] = {}
    sql = f"SELECT date_added, organisation_id FROM object_recipients WHERE date_added {in_values(conn)}"  # nosec B608 # the IN clause is a constant of the dialect; values are bound
    for start in range(0, len(keys), _CHUNK):
        for key, org in fetch_all(conn, sql, (values_param(conn, keys[start:start + _CHUNK]),)):
            out.setdefault(key, set()).add(org)
    return {k: frozenset(v) for k, v in out.items()}


def _sharing(date_added: int, tlp: int, group_id: int | None, creator: int | None, anonymous: Any,
             recipients: dict[int, frozenset[int]]) -> Sharing:
    return Sharing(creator_org_id=creator, tlp=Tlp(tlp), group_id=group_id,
                   recipients=recipients.get(date_added, frozenset()), anonymous=bool(anonymous))


def hits_for(conn: Connection, wanted: Mapping[str, Iterable[str]]) -> list[Hit]:
    """Every index row for the values in ``wanted`` (kind -> normalised values), with its object."""
    pg = is_postgres(conn)
    mark = "%s" if pg else "?"
    head = (
        "SELECT o.kind, o.value, o.date_added, s.stix_id, s.type, s.tlp, s.group_id, s.creator_org_id, "
        "s.anonymous, s.has_recipients, s.body, s.modified, s.created, s.valid_until, g.short_name "
        "FROM observables o JOIN stix_objects s ON s.date_added = o.date_added "
        "LEFT JOIN organisations g ON g.id = s.creator_org_id "
    )
    sql = head + f"WHERE o.kind = {mark} AND o.value {in_values(conn)}"
    sql_one = head + f"WHERE o.kind = {mark} AND o.value = {mark}"
    rows: list[Any] = []
    for kind, values in wanted.items():
        vals = sorted(set(values))
        for start in range(0, len(vals), _CHUNK):
            part = vals[start:start + _CHUNK]
            if len(part) == 1:
                rows.extend(fetch_all(conn, sql_one, (kind, part[0])))
            else:
                rows.extend(fetch_all(conn, sql, (kind, values_param(conn, part))))
    recipients = _recipients(conn, [r[2] for r in rows if r[9]])
    return [
        Hit(kind=r[0], value=r[1], date_added=r[2], stix_id=r[3], type=r[4],
            sharing=_sharing(r[2], r[5], r[6], r[7], r[8], recipients), creator_short=r[14], body=r[10],
            modified=r[11], created=r[12], valid_until=r[13])
        for r in rows
    ]


def latest_visible(conn: Connection, reader: Reader | None, stix_id: str) -> dict[str, Any]:
    """The latest version of ``stix_id`` as far as its sharing goes, if the reader may see it.

    A forbidden object is reported exactly like a missing one.
    """
    t = stix_objects
    row = conn.execute(
        select(t.c.date_added, t.c.stix_id, t.c.type, t.c.tlp, t.c.group_id, t.c.creator_org_id)
        .where(t.c.stix_id == stix_id, t.c.is_latest.is_(True), policy.visible_clause(reader, t, object_recipients))
    ).first()
    if row is None:
        raise NotFound(f"no object {stix_id}")
    return dict(row._mapping)


def hits_of_object(conn: Connection, date_added: int) -> list[tuple[str, str, str | None]]:
    """(kind, value, warninglists) indexed for one object version."""
    pg = is_postgres(conn)
    sql = f"SELECT kind, value, warninglists FROM observables WHERE date_added = {'%s' if pg else '?'}"  # nosec B608 # a placeholder, chosen by dialect; the value is bound
    return [(r[0], r[1], r[2]) for r in fetch_all(conn, sql, (date_added,))]


def sightings_for(conn: Connection, refs: Iterable[str]) -> list[SightingRow]:
    """Every indexed sighting of the objects ``refs``, with its sharing."""
    sql = (
        "SELECT i.sighting_of_ref, i.count, i.first_seen, i.last_seen, i.date_added, s.tlp, s.group_id, "  # nosec B608 # constants and the dialect's IN clause; values are bound
        "s.creator_org_id, s.anonymous, s.has_recipients "
        "FROM sighting_index i JOIN stix_objects s ON s.date_added = i.date_added "
        f"WHERE i.sighting_of_ref {in_values(conn)}"
    )
    ids = sorted(set(refs))
    rows: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        rows.extend(fetch_all(conn, sql, (values_param(conn, ids[start:start + _CHUNK]),)))
    recipients = _recipients(conn, [r[4] for r in rows if r[9]])
    return [SightingRow(sighting_of_ref=r[0], count=r[1], first_seen=r[2], last_seen=r[3], date_added=r[4],
                        sharing=_sharing(r[4], r[5], r[6], r[7], r[8], recipients))
            for r in rows]
