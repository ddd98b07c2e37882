"""Recording and reading the audit trail.

Every service that must leave a trace calls :func:`record` in its own transaction, so the event
is stored exactly when the change is (a rolled-back change leaves no event). Details are JSON and
never carry personal values: a deletion of fraud data records the object ids and kinds, not the
IBAN (docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, insert, select

from nordcert.audit.tables import audit_events
from nordcert.clock import iso, now_us
from nordcert.errors import Forbidden, Invalid
from nordcert.sharing.policy import Reader

MAX_PAGE = 1000


def record(conn: Connection, *, actor: Reader | None, action: str, target: str,
           details: dict[str, Any] | None = None, email: str | None = None) -> None:
    """Append one event; ``actor`` None is the system itself (the worker) or, with ``email`` unset,
    the local operator at the command line (shell access to the store)."""
    conn.execute(insert(audit_events).values(
        at=now_us(),
        actor_user_id=actor.user_id if actor else None,
        actor_org_id=actor.organisation_id if actor else None,
        actor_email=actor.email if actor else email,
        action=action,
        target=target[:300],
        details=orjson.dumps(details or {}).decode(),
    ))


def list_events(conn: Connection, *, reader: Reader, action: str | None = None, since: int | None = None,
                before_id: int | None = None, limit: int = 100) -> dict[str, Any]:
    """Events newest first (CERT staff only); ``before_id`` pages further back."""
    if not reader.is_cert_staff:
        raise Forbidden("the audit trail is for CERT staff")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    q = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit + 1)
    if action:
        q = q.where(audit_events.c.action == action)
    if since is not None:
        q = q.where(audit_events.c.at >= since)
    if before_id is not None:
        q = q.where(audit_events.c.id < before_id)
    rows = conn.execute(q).all()
    events = [{"id": r.id, "at": iso(r.at), "actor_email": r.actor_email, "actor_user_id": r.actor_user_id,
               "actor_org_id": r.actor_org_id, "action": r.action, "target": r.target,
               "details": orjson.loads(r.details)} for r in rows[:limit]]
    return {"events": events, "more": len(rows) > limit,
            "next_before_id": events[-1]["id"] if len(rows) > limit else None}
