"""The audit trail's one table. Append-only: the migration adds triggers that refuse UPDATE and
DELETE on both stores, so not even a bug in nordcert can rewrite history."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from nordcert.db import BigId, metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),  # microseconds since the epoch (UTC)
    # Who: the user and organisation as they were (the e-mail is kept should the user be removed);
    # all NULL for the system itself (the worker's retention job).
    Column("actor_user_id", BigInteger, nullable=True),
    Column("actor_org_id", BigInteger, nullable=True),
    Column("actor_email", String(320), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False),
    Column("details", Text, nullable=False),  # JSON; never personal values (docs/privacy.md)
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_action_at", "action", "at"),
    Index("ix_audit_events_actor_email_id", "actor_email", "id"),
    Index("ix_audit_events_target_id", "target", "id"),
)
