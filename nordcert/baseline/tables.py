"""Storage of the baseline: catalogue versions, self-assessment campaigns, members' responses and their answers.

A catalogue version is kept whole as the JSON of ``catalogue.to_dict`` (``body``); a published version is never
changed again: a campaign answers against it, and a change is a new draft version made from it. A member has one
response per campaign and one answer per control in it (upserted while a draft). Times are integer microseconds
since the epoch (UTC), like everywhere in the store.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from nordcert.db import BigId, metadata

baseline_catalogues = Table(
    "baseline_catalogues",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),  # the catalogue as JSON (catalogue.to_dict)
    Column("based_on_id", BigId, ForeignKey("baseline_catalogues.id", ondelete="SET NULL"), nullable=True),
    Column("shipped", Boolean, nullable=False, default=False),  # loaded from the data file shipped with nordcert
    Column("created_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("published", Boolean, nullable=False, default=False),
    Column("published_at", BigInteger, nullable=True),
    Column("published_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
)

baseline_campaigns = Table(
    "baseline_campaigns",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("catalogue_id", BigId, ForeignKey("baseline_catalogues.id", ondelete="RESTRICT"), nullable=False),
    Column("status", String(8), nullable=False),  # open | closed
    Column("opens_at", BigInteger, nullable=False),
    Column("closes_at", BigInteger, nullable=False),  # the deadline members are given
    Column("created_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger, nullable=True),
    Column("closed_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Index("ix_baseline_campaigns_status", "status", "closes_at"),
    Index("ix_baseline_campaigns_catalogue_id", "catalogue_id"),
)

baseline_responses = Table(
    "baseline_responses",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("campaign_id", BigId, ForeignKey("baseline_campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),  # draft | submitted
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("submitted_at", BigInteger, nullable=True),
    Column("submitted_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("reopened_at", BigInteger, nullable=True),  # CERT staff reopened a submitted response
    Column("reopened_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    UniqueConstraint("campaign_id", "organisation_id", name="uq_baseline_responses_campaign_org"),
    Index("ix_baseline_responses_organisation_id", "organisation_id"),
    Index("ix_baseline_responses_campaign_status", "campaign_id", "status"),
)

baseline_answers = Table(
    "baseline_answers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("response_id", BigId, ForeignKey("baseline_responses.id", ondelete="CASCADE"), nullable=False),
    Column("control_id", String(16), nullable=False),
    Column("maturity", Integer, nullable=True),  # 0..5; NULL while a draft leaves it open, or when not applicable
    Column("not_applicable", Boolean, nullable=False, default=False),  # justified in comment; out of statistics
    Column("evidence", Text, nullable=False, default=""),
    Column("comment", Text, nullable=False, default=""),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by_user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    UniqueConstraint("response_id", "control_id", name="uq_baseline_answers_response_control"),
)
