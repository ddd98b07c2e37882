"""Deleting stored versions, keeping the indexes true: TAXII delete, retention, erasure requests.

Deleting a version removes its rows in every table keyed by its ``date_added`` (labels, named
recipients, observable and sighting index, provenance, personal-data record). When the latest
version of an object goes and older ones remain, the newest remaining becomes the latest and its
observables and sighting are indexed again, so lookups and correlation see what is now current.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from nordcert.intel.tables import object_labels, object_recipients, stix_objects
from nordcert.observables.extract import extract
from nordcert.observables.index import cidr_prefixes_of, known_prefixes, note_prefixes, sighting_values
from nordcert.observables.kinds import FullCardNumber
from nordcert.observables.tables import observables, sighting_index
from nordcert.observables.warninglist_store import current_check

_t = stix_objects
_PART = 500


def delete_versions(conn: Connection, keys: Iterable[int], *, phone_region: str | None = None) -> list[str]:
    """Delete the versions stored under ``keys`` (their ``date_added``); the ids of the objects touched."""
    wanted = sorted(set(keys))
    touched: dict[str, bool] = {}  # stix id -> its latest version was deleted
    for start in range(0, len(wanted), _PART):
        part = wanted[start:start + _PART]
        for sid, is_latest in conn.execute(select(_t.c.stix_id, _t.c.is_latest).where(_t.c.date_added.in_(part))):
            touched[sid] = touched.get(sid, False) or bool(is_latest)
        # Rows keyed by date_added also go by ON DELETE CASCADE; deleting the busiest ones first keeps
        # the cascade cheap on both stores.
        for table in (object_recipients, object_labels, observables, sighting_index):
            conn.execute(delete(table).where(table.c.date_added.in_(part)))
        conn.execute(delete(_t).where(_t.c.date_added.in_(part)))
    promote = sorted(sid for sid, was_latest in touched.items() if was_latest)
    if promote:
        _promote_newest(conn, promote, phone_region)
    return sorted(touched)


def _promote_newest(conn: Connection, stix_ids: list[str], phone_region: str | None) -> None:
    newest = (select(_t.c.stix_id, func.max(_t.c.modified).label("modified"))
              .where(_t.c.stix_id.in_(stix_ids)).group_by(_t.c.stix_id).subquery())
    rows = conn.execute(
        select(_t.c.date_added, _t.c.type, _t.c.body, _t.c.created, _t.c.modified, _t.c.revoked)
        .join(newest, (newest.c.stix_id == _t.c.stix_id) & (newest.c.modified == _t.c.modified))
    ).all()
    if not rows:
        return
    conn.execute(update(_t).where(_t.c.date_added.in_([r.date_added for r in rows])).values(is_latest=True))
    check = current_check(conn)
    obs: list[dict[str, Any]] = []
    sights: list[dict[str, Any]] = []
    for r in rows:
        if r.revoked:
            continue
        obj = orjson.loads(r.body)
        try:
            found = extract(obj, phone_region=phone_region)
        except FullCardNumber:
            continue
        for kind, value in found.observables:
            hits = check(kind, value) if check is not None else None
            obs.append({"kind": kind.value, "value": value, "date_added": r.date_added,
                        "warninglists": ",".join(hits) if hits else None})
        if r.type == "sighting":
            sights.append({"date_added": r.date_added, **sighting_values(obj, r.created, r.modified)})
    if obs:
        conn.execute(insert(observables), obs)
        note_prefixes(conn, cidr_prefixes_of(obs), known_prefixes(conn))
    if sights:
        conn.execute(insert(sighting_index), sights)
