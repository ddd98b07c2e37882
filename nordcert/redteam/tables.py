"""Storage of red-team engagements: the test of one member, its phases' dates, the people who know of it, its
findings and the remediation measures with their status histories and dated notes.

The scope (critical or important functions, systems, flags) is kept as JSON on the engagement: it is read and
written whole, and findings name a flag by its code. Times are integer microseconds since the epoch (UTC), like
everywhere in the store; the phases' dates, the notification, the attestation and the measures' due dates are
calendar dates (UTC).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, String, Table, Text

from nordcert.db import BigId, metadata

redteam_engagements = Table(
    "redteam_engagements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False),
    Column("name", String(200), nullable=False),  # the test's code name (CDR 2025/1190 Art 9(2)(e))
    Column("framework", String(16), nullable=False),  # tiber_eu | dora_tlpt
    Column("tiber_implementation", String(100), nullable=True),  # e.g. TIBER-DK
    Column("significant_credit_institution", Boolean, nullable=False, default=False),
    Column("functions", Text, nullable=False),  # JSON list of the critical or important functions in scope
    Column("systems", Text, nullable=False),  # JSON list of the systems in scope
    Column("flags", Text, nullable=False),  # JSON list of {code, name, reached}
    Column("ti_provider", String(200), nullable=True),  # always external (DORA Art 27(2)(c))
    Column("rt_provider", String(200), nullable=True),
    Column("rt_provider_kind", String(8), nullable=True),  # internal | external; None: not decided yet
    Column("phase", String(32), nullable=False),
    Column("opened_on", Date, nullable=False),  # orders a member's tests
    Column("notified_on", Date, nullable=True),  # the TLPT authority's notification of CDR 2025/1190 Art 12(7)
    Column("attested_on", Date, nullable=True),
    Column("attestation_reference", String(200), nullable=True),
    Column("attestation_note", Text, nullable=True),
    Column("attested_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_redteam_engagements_org_opened", "organisation_id", "opened_on"),
    Index("ix_redteam_engagements_phase", "phase"),
)

redteam_phase_dates = Table(
    "redteam_phase_dates",
    metadata,
    Column("engagement_id", BigId, ForeignKey("redteam_engagements.id", ondelete="CASCADE"), primary_key=True),
    Column("phase", String(32), primary_key=True),
    Column("planned_start", Date, nullable=True),
    Column("planned_end", Date, nullable=True),
    Column("actual_start", Date, nullable=True),
    Column("actual_end", Date, nullable=True),
)

#: The people who know of the test: the control team (lead and members, each optionally a user of the member),
#: the authority's test manager and the providers' contacts. Within the member, only its users linked here see it.
redteam_roles = Table(
    "redteam_roles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("engagement_id", BigId, ForeignKey("redteam_engagements.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(24), nullable=False),  # one of roles.ROLES
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("company", String(200), nullable=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_redteam_roles_engagement", "engagement_id"),
    Index("ix_redteam_roles_user", "user_id", "engagement_id"),
)

redteam_findings = Table(
    "redteam_findings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("engagement_id", BigId, ForeignKey("redteam_engagements.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("category", String(32), nullable=False),  # one of findings.CATEGORIES
    Column("severity", String(8), nullable=False),  # critical | high | medium | low
    Column("flag", String(32), nullable=True),  # the code of the flag reached through it, if any
    Column("attack_path", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("root_cause", Text, nullable=False),
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_redteam_findings_engagement", "engagement_id"),
)

redteam_measures = Table(
    "redteam_measures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("finding_id", BigId, ForeignKey("redteam_findings.id", ondelete="CASCADE"), nullable=False),
    Column("measure", Text, nullable=False),
    Column("owner", String(200), nullable=False),  # the staff or function responsible (CDR 2025/1190 Art 13(2)(d))
    Column("priority", String(8), nullable=False),  # high | medium | low
    Column("due_on", Date, nullable=True),
    Column("status", String(16), nullable=False),  # open | in_progress | done | accepted_risk
    Column("residual_risk", Text, nullable=False),
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_redteam_measures_finding", "finding_id"),
)

redteam_measure_history = Table(
    "redteam_measure_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("measure_id", BigId, ForeignKey("redteam_measures.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("changed_at", BigInteger, nullable=False),
    Index("ix_redteam_measure_history_measure", "measure_id", "changed_at"),
)

redteam_measure_notes = Table(
    "redteam_measure_notes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("measure_id", BigId, ForeignKey("redteam_measures.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("recorded_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_redteam_measure_notes_measure", "measure_id", "recorded_at"),
)
