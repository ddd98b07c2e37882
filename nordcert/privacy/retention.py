"""Retention: stored versions holding personal data are deleted when their time is up (worker).

Each version's ``personal_data`` row says when it expires (the shortest retention of its kinds after
it was added). :func:`purge_expired` deletes every expired version in batches, through
:func:`nordcert.intel.purge.delete_versions`, so its observables leave the index in the same
transaction; each batch leaves one audit event with the object ids, kinds and legal bases, never
the values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from nordcert.audit.service import record
from nordcert.clock import iso, now_us
from nordcert.config import Settings
from nordcert.errors import Invalid
from nordcert.intel.purge import delete_versions
from nordcert.intel.tables import stix_objects
from nordcert.observables.extract import extract
from nordcert.observables.kinds import FullCardNumber
from nordcert.privacy.personal import PersonalDataRules, personal_kinds
from nordcert.privacy.tables import personal_data

BATCH = 1000


def purge_expired(conn: Connection, settings: Settings, *, now: int | None = None, limit: int = BATCH
                  ) -> dict[str, Any]:
    """Delete up to ``limit`` expired versions in the open transaction; what was deleted (counts, ids)."""
    moment = now_us() if now is None else now
    rows = conn.execute(
        select(personal_data.c.date_added, personal_data.c.stix_id, personal_data.c.kinds, personal_data.c.legal_basis)
        .where(personal_data.c.expires_at <= moment).order_by(personal_data.c.expires_at).limit(limit)
    ).all()
    if not rows:
        return {"versions": 0, "objects": [], "kinds": {}}
    delete_versions(conn, [r.date_added for r in rows], phone_region=settings.phone_region)
    kinds = Counter(k for r in rows for k in r.kinds.split(","))
    ids = sorted({r.stix_id for r in rows})
    details = {"reason": "retention expired", "versions": len(rows), "objects": ids, "kinds": dict(kinds),
               "legal_bases": sorted({r.legal_basis for r in rows}), "expired_before": iso(moment)}
    record(conn, actor=None, email="system: retention", action="personal_data.expired", target=f"{len(ids)} objects", details=details)
    return {"versions": len(rows), "objects": ids, "kinds": dict(kinds)}


def next_expiry(conn: Connection) -> int | None:
    """When the next stored version holding personal data expires (None: nothing held)."""
    value = conn.execute(select(func.min(personal_data.c.expires_at))).scalar()
    return int(value) if value is not None else None


def summary(conn: Connection) -> dict[str, Any]:
    """What personal data the store holds, by legal basis and kinds, and the next expiry."""
    rows = conn.execute(select(personal_data.c.legal_basis, personal_data.c.kinds, func.count())
                        .group_by(personal_data.c.legal_basis, personal_data.c.kinds)).all()
    by_basis: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for basis, kinds, n in rows:
        by_basis[basis] += n
        for k in kinds.split(","):
            by_kind[k] += n
    return {"versions": sum(by_basis.values()), "by_legal_basis": dict(by_basis), "by_kind": dict(by_kind),
            "next_expiry": iso(next_expiry(conn))}


def backfill(conn: Connection, settings: Settings, *, legal_basis: str | None = None,
             on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Give stored versions that hold personal data but no ``personal_data`` row (stored before
    these rows were kept) their legal basis and expiry, as ingest would have: retention counts from
    when each was added, so some may be due at once (the next purge deletes them). In batches."""
    rules = PersonalDataRules(conn, settings, legal_basis)
    if rules.basis is None:
        raise Invalid(f"name the legal basis of the data stored so far: one of {', '.join(settings.legal_bases)}")
    t = stix_objects
    after = -1
    scanned = added = 0
    due = 0
    moment = now_us()
    while True:
        rows = conn.execute(
            select(t.c.date_added, t.c.stix_id, t.c.body).outerjoin(personal_data, personal_data.c.date_added == t.c.date_added)
            .where(t.c.date_added > after, personal_data.c.date_added.is_(None)).order_by(t.c.date_added).limit(BATCH)
        ).all()
        if not rows:
            break
        out: list[dict[str, Any]] = []
        for r in rows:
            try:
                found = extract(orjson.loads(r.body), phone_region=settings.phone_region).observables
            except FullCardNumber:
                continue
            kinds = personal_kinds(found)
            if kinds:
                row = rules.row(r.date_added, r.stix_id, kinds)
                due += row["expires_at"] <= moment
                out.append(row)
        if out:
            conn.execute(insert(personal_data), out)
        added += len(out)
        scanned += len(rows)
        after = rows[-1].date_added
        if on_progress:
            on_progress(scanned)
    return {"scanned": scanned, "recorded": added, "expired_already": due, "legal_basis": rules.basis}
