"""Retention: stored versions holding personal data are deleted when their time is up (worker).

Each version's ``personal_data`` row says when it expires (the shortest retention of its kinds after
it was added). :func:`purge_expired` deletes every expired version in batches, through
:func:`nordcert.intel.purge.delete_versions`, so its observables leave the index in the same
transaction; each batch leaves one audit event with the object ids, kinds and legal bases, never
the values.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, func, select

from nordcert.audit.service import record
from nordcert.clock import iso, now_us
from nordcert.config import Settings
from nordcert.intel.purge import delete_versions
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
