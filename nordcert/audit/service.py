"""Recording and reading the audit trail.

Every service that must leave a trace calls :func:`record` in its own transaction, so the event
is stored exactly when the change is (a rolled-back change leaves no event). Details are JSON and
never carry personal values: a deletion of fraud data records the object ids and kinds, not the
IBAN (docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select

from nordcert.audit import buffered
from nordcert.audit.tables import audit_events
from nordcert.clock import iso, now_us
from nordcert.db import transaction
from nordcert.errors import Forbidden, Invalid
from nordcert.sharing.policy import Reader

MAX_PAGE = 1000


def record(conn: Connection, *, actor: Reader | None, action: str, target: str,
           details: dict[str, Any] | None = None, email: str | None = None) -> None:
    """Append one event; ``actor`` None is the system itself (the worker) or, with ``email`` unset,
    the local operator at the command line (shell access to the store)."""
    where = buffered.request_details()
    if where:
        details = {**where, **(details or {})}
    conn.execute(insert(audit_events).values(
        at=now_us(),
        actor_user_id=actor.user_id if actor else None,
        actor_org_id=actor.organisation_id if actor else None,
        actor_email=actor.email if actor else email,
        action=action,
        target=target[:300],
        details=orjson.dumps(details or {}).decode(),
    ))


#: The actor recorded for a change made at the command line (shell access to the store, no user).
LOCAL_OPERATOR = "local operator (command line)"


def record_change(conn: Connection, actor: Reader | None, action: str, target: str,
                  details: dict[str, Any] | None = None) -> None:
    """An administrative change, in the transaction that makes it; ``actor`` None is the local operator."""
    record(conn, actor=actor, action=action, target=target, details=details,
           email=None if actor else LOCAL_OPERATOR)


def record_export(engine: Engine, reader: Reader | None, feed: str, details: dict[str, Any]) -> None:
    """An export or feed download, in a transaction of its own, before its body is sent."""
    with transaction(engine) as conn:
        record(conn, actor=reader, action="export", target=feed, details=details,
               email=None if reader else LOCAL_OPERATOR)


#: The kinds of events, by the start of their action (for filters and the web page).
CATEGORIES = {
    "object.": "reads of AMBER/RED objects (REST, web)",
    "taxii.": "reads of AMBER/RED objects (TAXII)",
    "lookup.": "lookups that matched AMBER/RED objects",
    "export": "exports and feed downloads",
    "login.": "web log-ins",
    "api_auth.": "failed API authentications",
}


def list_events(conn: Connection, *, reader: Reader, action: str | None = None, since: int | None = None,
                before_id: int | None = None, limit: int = 100, actor: str | None = None,
                target: str | None = None) -> dict[str, Any]:
    """Events newest first (CERT staff only); ``before_id`` pages further back.

    ``action`` is one action (``login.failed``) or, ending in a dot, every action it begins
    (``login.``); ``actor`` an e-mail address; ``target`` the exact target (an object's STIX id,
    a user's e-mail, a collection's id).
    """
    if not reader.is_cert_staff:
        raise Forbidden("the audit trail is for CERT staff")
    buffered.flush(conn.engine)  # the read events still queued by this process first
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE}")
    q = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit + 1)
    if action and action.endswith("."):
        q = q.where(audit_events.c.action.startswith(action, autoescape=True))
    elif action:
        q = q.where(audit_events.c.action == action)
    if actor:
        q = q.where(audit_events.c.actor_email == actor.strip().lower())
    if target:
        q = q.where(audit_events.c.target == target.strip())
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
