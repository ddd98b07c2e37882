"""Storage of the sector map and the sector risk register.

The map (DORA Art 28(3) register of information, pooled across members):

- a member's own part: critical business processes (its functions, ITS B_06.01), systems, and the ICT services it
  contracts from third-party providers (B_02.02 with the assessment of B_07.01), each row carrying the member's
  ``organisation_id``;
- sector-wide entities: ICT third-party providers (B_05.01), deduplicated by LEI or else by normalised name, and
  shared infrastructure that CERT staff maintain (payment and settlement systems, data centres, cloud regions,
  network providers). Which member uses which provider is the member's service row, never the provider's.

Dependencies are edges "dependent → dependency". The node ids (``"process:17"``) are the keys, and one typed
foreign key per end lets the store delete a node's edges with the node (ON DELETE CASCADE), so no edge can point
at a node that is gone, whoever deletes it. A service's dependency on its provider is its ``provider_id``.

The register: sector risks with their sources, a score history, measures with owners, a status history and
dated progress notes, and the yearly members' concerns survey. Times are integer microseconds since the epoch
(UTC), like everywhere in the store; due dates and contract end dates are calendar dates.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from nordcert.db import BigId, metadata

# --- the map: a member's own part ------------------------------------------------------------------

sectormap_processes = Table(
    "sectormap_processes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),  # the name normalised: one process per name and member
    Column("category", String(32), nullable=False),  # one of service.PROCESS_CATEGORIES
    Column("critical", Boolean, nullable=False),  # a critical or important function (DORA Art 3(22))
    Column("function_ref", String(100), nullable=True),  # the member's function identifier (ITS B_06.01, "F1")
    Column("description", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("uq_sectormap_processes_org_name", "organisation_id", "name_key", unique=True),
)

sectormap_systems = Table(
    "sectormap_systems",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("uq_sectormap_systems_org_name", "organisation_id", "name_key", unique=True),
)

# --- sector-wide entities --------------------------------------------------------------------------

sectormap_providers = Table(
    "sectormap_providers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False, unique=True),  # legal form and punctuation dropped
    Column("lei", String(20), nullable=True, unique=True),  # ISO 17442
    Column("other_id", String(100), nullable=True),  # e.g. an EUID or a national register number
    Column("other_id_type", String(32), nullable=True),
    Column("country", String(2), nullable=True),  # of its head office
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

sectormap_infrastructure = Table(
    "sectormap_infrastructure",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # one of service.INFRASTRUCTURE_KINDS
    Column("operator", String(300), nullable=False),
    Column("country", String(2), nullable=True),
    Column("description", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# --- a member's use of a provider ------------------------------------------------------------------

sectormap_services = Table(
    "sectormap_services",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    # NULL: the member depends on a service whose provider it has not identified yet.
    Column("provider_id", BigId, ForeignKey("sectormap_providers.id", ondelete="RESTRICT"), nullable=True),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),
    Column("service_type", String(3), nullable=True),  # ICT service type S01…S19 (eba_TA)
    Column("critical", Boolean, nullable=False),  # supports a critical or important function
    Column("substitutability", String(16), nullable=True),  # easy | medium | difficult | impossible
    Column("storage_locations", String(200), nullable=False),  # ISO 3166 country codes, comma-separated
    Column("processing_locations", String(200), nullable=False),
    Column("contract_reference", String(100), nullable=True),
    Column("contract_end", Date, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("uq_sectormap_services_org_name", "organisation_id", "name_key", unique=True),
    Index("ix_sectormap_services_provider_id", "provider_id"),
)

sectormap_dependencies = Table(
    "sectormap_dependencies",
    metadata,
    Column("dependent", String(40), primary_key=True),  # "process:17", "system:4" or "service:9"
    Column("dependency", String(40), primary_key=True),  # "system:…", "service:…" or "infrastructure:…"
    # The member whose node depends (dependents are always a member's own).
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("from_process_id", BigId, ForeignKey("sectormap_processes.id", ondelete="CASCADE"), nullable=True),
    Column("from_system_id", BigId, ForeignKey("sectormap_systems.id", ondelete="CASCADE"), nullable=True),
    Column("from_service_id", BigId, ForeignKey("sectormap_services.id", ondelete="CASCADE"), nullable=True),
    Column("to_system_id", BigId, ForeignKey("sectormap_systems.id", ondelete="CASCADE"), nullable=True),
    Column("to_service_id", BigId, ForeignKey("sectormap_services.id", ondelete="CASCADE"), nullable=True),
    Column("to_infrastructure_id", BigId, ForeignKey("sectormap_infrastructure.id", ondelete="CASCADE"),
           nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_sectormap_dependencies_organisation_id", "organisation_id"),
    Index("ix_sectormap_dependencies_dependency", "dependency"),
)

# --- the risk register -----------------------------------------------------------------------------

sectormap_risks = Table(
    "sectormap_risks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(32), nullable=False),  # one of risks.RISK_CATEGORIES
    Column("likelihood", Integer, nullable=False),  # 1…5
    Column("impact", Integer, nullable=False),  # 1…5
    Column("score", Integer, nullable=False),  # likelihood × impact, kept for ordering
    Column("status", String(16), nullable=False),  # open | closed
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_sectormap_risks_status_score", "status", "score"),
)

sectormap_risk_sources = Table(
    "sectormap_risk_sources",
    metadata,
    Column("risk_id", BigId, ForeignKey("sectormap_risks.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # incident | intel | survey_topic
    Column("ref", String(300), primary_key=True),  # an incident id, a STIX id, a survey topic id
)

sectormap_risk_history = Table(
    "sectormap_risk_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("risk_id", BigId, ForeignKey("sectormap_risks.id", ondelete="CASCADE"), nullable=False),
    Column("likelihood", Integer, nullable=False),
    Column("impact", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("changed_at", BigInteger, nullable=False),
    Index("ix_sectormap_risk_history_risk_changed", "risk_id", "changed_at"),
)

sectormap_measures = Table(
    "sectormap_measures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("risk_id", BigId, ForeignKey("sectormap_risks.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("owner_organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True),
    Column("owner_person", String(200), nullable=True),
    Column("status", String(16), nullable=False),  # planned | in_progress | done | cancelled
    Column("due_on", Date, nullable=True),
    Column("created_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_sectormap_measures_risk_id", "risk_id"),
    Index("ix_sectormap_measures_owner", "owner_organisation_id"),
)

sectormap_measure_history = Table(
    "sectormap_measure_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("measure_id", BigId, ForeignKey("sectormap_measures.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("changed_at", BigInteger, nullable=False),
    Index("ix_sectormap_measure_history_measure_changed", "measure_id", "changed_at"),
)

sectormap_measure_notes = Table(
    "sectormap_measure_notes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("measure_id", BigId, ForeignKey("sectormap_measures.id", ondelete="CASCADE"), nullable=False),
    Column("noted_on", Date, nullable=False),
    Column("text", Text, nullable=False),
    Column("recorded_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_sectormap_measure_notes_measure_id", "measure_id"),
)

# --- the yearly members' concerns survey ---------------------------------------------------------

sectormap_surveys = Table(
    "sectormap_surveys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("year", Integer, nullable=False, unique=True),
    Column("status", String(8), nullable=False),  # open | closed
    Column("opened_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("opened_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger, nullable=True),
)

sectormap_survey_topics = Table(
    "sectormap_survey_topics",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("survey_id", BigId, ForeignKey("sectormap_surveys.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Index("uq_sectormap_survey_topics_position", "survey_id", "position", unique=True),
)

sectormap_survey_responses = Table(
    "sectormap_survey_responses",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("survey_id", BigId, ForeignKey("sectormap_surveys.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("comment", Text, nullable=False),
    Column("submitted_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("submitted_at", BigInteger, nullable=False),
    Index("uq_sectormap_survey_responses_org", "survey_id", "organisation_id", unique=True),
)

sectormap_survey_answers = Table(
    "sectormap_survey_answers",
    metadata,
    Column("response_id", BigId, ForeignKey("sectormap_survey_responses.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", BigId, ForeignKey("sectormap_survey_topics.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, nullable=False),  # 1 = the member's top concern
    Index("ix_sectormap_survey_answers_topic_id", "topic_id"),
)
