"""Personal data's legal basis and retention, per stored version; the sector keys' public ids."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from nordcert.db import metadata

#: One row per stored version that holds personal values (PERSONAL_KINDS): its legal basis and
#: when it expires. Written in the ingest transaction; the worker deletes what has expired.
personal_data = Table(
    "personal_data",
    metadata,
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    Column("stix_id", String(300), nullable=False),
    Column("legal_basis", String(64), nullable=False),
    Column("kinds", String(100), nullable=False),  # comma-separated personal kinds held
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_personal_data_expires_at", "expires_at"),
    Index("ix_personal_data_stix_id", "stix_id"),
)

#: The sector keys members blind with, by public id and check value only: the platform never holds
#: a secret. Blinded values are accepted under registered, unretired keys; lookups under any.
blinding_keys = Table(
    "blinding_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("check_value", String(16), nullable=False),
    Column("registered_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
    Column("note", String(300), nullable=False, default=""),
)
