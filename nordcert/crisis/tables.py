"""Storage of crises, the members' status reports, broadcasts, briefings, lessons learned and follow-up actions.

Status reports are append-only: a member's current status of a service is its latest report (by the time it
was observed, then by id), and the rows together are the crisis's timeline. Times are integer microseconds
since the epoch, UTC, like everywhere in the store; a follow-up action's due date is a calendar date.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, String, Table, Text

from nordcert.db import BigId, metadata

crises = Table(
    "crises",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("scope", Text, nullable=False),
    Column("severity", String(16), nullable=False),  # low | medium | high | critical
    Column("is_exercise", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),  # active | closed
    Column("summary", Text, nullable=True),  # written when it is closed
    Column("declared_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("declared_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("closed_at", BigInteger, nullable=True),
    Index("ix_crises_status_declared", "status", "declared_at"),
)

crisis_status_reports = Table(
    "crisis_status_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("crisis_id", BigId, ForeignKey("crises.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False),
    Column("submitted_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("service", String(32), nullable=False),  # one of service.SERVICES
    Column("status", String(16), nullable=False),  # operational | degraded | down
    Column("comment", Text, nullable=False),
    Column("observed_at", BigInteger, nullable=False),  # when the member saw it; the submission time if not given
    Column("submitted_at", BigInteger, nullable=False),
    # The latest report per member and service is the first row of this index, read backwards.
    Index("ix_crisis_status_reports_latest", "crisis_id", "organisation_id", "service", "observed_at"),
    Index("ix_crisis_status_reports_observed", "crisis_id", "observed_at"),
)

crisis_broadcasts = Table(
    "crisis_broadcasts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("crisis_id", BigId, ForeignKey("crises.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # declared | message | closed
    Column("body", Text, nullable=False),
    Column("posted_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("posted_at", BigInteger, nullable=False),
    Index("ix_crisis_broadcasts_crisis_posted", "crisis_id", "posted_at"),
    Index("ix_crisis_broadcasts_posted_at", "posted_at"),
)

crisis_briefings = Table(
    "crisis_briefings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("crisis_id", BigId, ForeignKey("crises.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    # What the briefing saw (JSON {organisation id: {service: [status, report id]}}): "what changed since" is
    # measured against it, so a report committed after the briefing never counts as known to it.
    Column("snapshot", Text, nullable=False),
    Column("recorded_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_crisis_briefings_crisis_recorded", "crisis_id", "recorded_at"),
)

crisis_lessons = Table(
    "crisis_lessons",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("crisis_id", BigId, ForeignKey("crises.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("recorded_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_crisis_lessons_crisis_id", "crisis_id"),
)

crisis_actions = Table(
    "crisis_actions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("crisis_id", BigId, ForeignKey("crises.id", ondelete="CASCADE"), nullable=False),
    Column("lesson_id", BigId, ForeignKey("crisis_lessons.id", ondelete="SET NULL"), nullable=True),
    Column("title", String(300), nullable=False),
    Column("owner_organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False),
    Column("owner_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("due_on", Date, nullable=False),
    Column("status", String(8), nullable=False),  # open | done
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("done_at", BigInteger, nullable=True),
    Index("ix_crisis_actions_crisis_id", "crisis_id"),
    Index("ix_crisis_actions_owner", "owner_organisation_id", "status"),
    Index("ix_crisis_actions_status_due", "status", "due_on"),
)
