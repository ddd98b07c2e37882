"""Storage of ICT-related incidents, the reports submitted on them, and their links to intel objects.

An incident belongs to its organisation (a member sees its own; CERT staff see all). Times are integer
microseconds since the epoch, UTC, like everywhere in the store; the incident's ``timezone`` is only how
they are shown and where "weekend" is decided.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from nordcert.db import BigId, metadata

incidents = Table(
    "incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False),
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # The entity's own incident reference code (ITS field 2.1), unique within its organisation.
    Column("reference", String(100), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("weekend_relief", Boolean, nullable=False, default=False),
    Column("detected_at", BigInteger, nullable=False),  # the moment the entity became aware of it
    Column("occurred_at", BigInteger, nullable=True),
    Column("classified_at", BigInteger, nullable=True),  # the moment it was first classified as major
    # The classification inputs (JSON of classify.Facts) and the latest result (JSON).
    Column("facts", Text, nullable=False),
    Column("classification", Text, nullable=False),
    Column("major", Boolean, nullable=False),
    # recorded | initial_submitted | intermediate_submitted | closed
    Column("status", String(24), nullable=False),
    # The next report due and when (UTC), kept current on every write so "overdue" is one indexed filter.
    Column("next_due_kind", String(24), nullable=True),
    Column("next_due_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("uq_incidents_organisation_reference", "organisation_id", "reference", unique=True),
    Index("ix_incidents_organisation_detected", "organisation_id", "detected_at"),
    Index("ix_incidents_next_due_at", "next_due_at"),
)

incident_reports = Table(
    "incident_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigId, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    # 1, 2, 3, … per incident: two concurrent submissions cannot both take the same place.
    Column("sequence", Integer, nullable=False),
    Column("kind", String(24), nullable=False),  # initial_notification | intermediate_report | final_report
    Column("content", Text, nullable=False),  # the report as submitted (JSON), incident facts included
    Column("submitted_at", BigInteger, nullable=False),
    Column("submitted_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("due_at", BigInteger, nullable=True),  # the deadline it answered
    Index("uq_incident_reports_sequence", "incident_id", "sequence", unique=True),
)

incident_intel_links = Table(
    "incident_intel_links",
    metadata,
    Column("incident_id", BigId, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    # A STIX id, not a row: the link holds across the object's versions.
    Column("stix_id", String(300), primary_key=True),
    Column("linked_at", BigInteger, nullable=False),
    Index("ix_incident_intel_links_stix_id", "stix_id"),
)

incident_reminders = Table(
    "incident_reminders",
    metadata,
    # One row per deadline reminded of: a deadline that moves (a new report, new facts) is a new row, and
    # two workers reminding of the same deadline at once store it once (the primary key decides).
    Column("incident_id", BigId, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(24), primary_key=True),  # the report due
    Column("due_at", BigInteger, primary_key=True),  # its deadline (UTC)
    Column("reminded_at", BigInteger, nullable=False),
    Column("overdue", Boolean, nullable=False),  # past the deadline when reminded (else due within the hour)
)
