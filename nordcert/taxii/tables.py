"""Storage of TAXII 2.1 collections (views over the store), their access rights, add-statuses and client checkpoints."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text

from nordcert.db import BigId, metadata

taxii_collections = Table(
    "taxii_collections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    # sector: everything readers may see; group: one sharing group's objects; outbox: one organisation's
    Column("kind", String(16), nullable=False),
    Column("group_id", BigId, ForeignKey("sharing_groups.id", ondelete="CASCADE"), nullable=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True),
    Column("read_all", Boolean, nullable=False, default=False),
    Column("write_all", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
)

taxii_collection_access = Table(
    "taxii_collection_access",
    metadata,
    Column("collection_id", String(36), ForeignKey("taxii_collections.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
)

taxii_status = Table(
    "taxii_status",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(36), ForeignKey("taxii_collections.id", ondelete="CASCADE"), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_taxii_status_created_at", "created_at"),
)

taxii_checkpoints = Table(
    "taxii_checkpoints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("direction", String(4), nullable=False),  # pull | push
    Column("server_url", String(500), nullable=False),
    Column("collection_id", String(200), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    # pull: the remote X-TAXII-Date-Added-Last seen; push: the last local date_added sent (as text)
    Column("position", String(40), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("uq_taxii_checkpoints", "direction", "server_url", "collection_id", "organisation_id", unique=True),
)
