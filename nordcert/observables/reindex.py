"""Rebuilding the observable and sighting indexes from the stored objects.

Needed after an upgrade that changes extraction or normalisation rules, or after loading
warninglists that should flag values already stored. Runs in one transaction, in keyset-paged
batches, so memory stays bounded and a failure leaves the old index in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select

from nordcert.config import Settings
from nordcert.intel.tables import stix_objects
from nordcert.observables.extract import extract
from nordcert.observables.index import cidr_prefixes_of, known_prefixes, note_prefixes, sighting_values
from nordcert.observables.kinds import FullCardNumber
from nordcert.observables.tables import observables, sighting_index
from nordcert.observables.warninglist_store import current_check

_BATCH = 5000


def _latest() -> Any:
    t = stix_objects
    return (t.c.is_latest.is_(True), t.c.revoked.is_(False))


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(stix_objects).where(*_latest())).scalar_one())


def rebuild(conn: Connection, settings: Settings, *, on_progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Drop and rebuild both indexes from the latest, unrevoked version of every object."""
    conn.execute(delete(observables))
    conn.execute(delete(sighting_index))
    known = known_prefixes(conn)
    check = current_check(conn)
    t = stix_objects
    after = -1
    done = indexed = sighted = warnings = 0
    while True:
        rows = conn.execute(
            select(t.c.date_added, t.c.type, t.c.body, t.c.created, t.c.modified)
            .where(*_latest(), t.c.date_added > after).order_by(t.c.date_added).limit(_BATCH)
        ).all()
        if not rows:
            break
        obs_rows: list[dict[str, Any]] = []
        sight_rows: list[dict[str, Any]] = []
        for r in rows:
            obj = orjson.loads(r.body)
            try:
                found = extract(obj, phone_region=settings.phone_region)
            except FullCardNumber:
                warnings += 1
                continue
            warnings += len(found.skipped)
            for kind, value in found.observables:
                hits = check(kind, value) if check is not None else None
                obs_rows.append({"kind": kind.value, "value": value, "date_added": r.date_added,
                                 "warninglists": ",".join(hits) if hits else None})
            if r.type == "sighting":
                sight_rows.append({"date_added": r.date_added, **sighting_values(obj, r.created, r.modified)})
        if obs_rows:
            conn.execute(insert(observables), obs_rows)
            note_prefixes(conn, cidr_prefixes_of(obs_rows), known)
        if sight_rows:
            conn.execute(insert(sighting_index), sight_rows)
        indexed += len(obs_rows)
        sighted += len(sight_rows)
        done += len(rows)
        after = rows[-1].date_added
        if on_progress:
            on_progress(done)
    return {"objects": done, "observables": indexed, "sightings": sighted, "warnings": warnings}
