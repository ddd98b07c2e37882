"""Storage of STIX 2.1 objects: every version of every object, with the columns reads filter on.

``date_added`` (microseconds since the epoch) is the primary key: assigned by this server,
strictly increasing and never tied, so TAXII ``added_after`` and cursor paging never skip or repeat.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, SmallInteger, String, Table, Text

from nordcert.db import BigId, metadata

stix_objects = Table(
    "stix_objects",
    metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("stix_id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    # The version: `modified` (or `created`, or 0 for objects without versions), in microseconds.
    Column("modified", BigInteger, nullable=False),
    Column("created", BigInteger, nullable=True),
    Column("is_latest", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("valid_until", BigInteger, nullable=True),
    # Sharing attributes (nordcert.sharing decides who may read the row).
    Column("creator_org_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True),
    Column("submitted_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("tlp", SmallInteger, nullable=False),
    Column("group_id", BigId, ForeignKey("sharing_groups.id", ondelete="RESTRICT"), nullable=True),
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("has_recipients", Boolean, nullable=False, default=False),
    # Searchable text and the object itself, serialised once at ingest.
    Column("name", Text, nullable=True),
    Column("description", Text, nullable=True),
    Column("body", Text, nullable=False),
    Index("uq_stix_objects_version", "stix_id", "modified", unique=True),
    Index("ix_stix_objects_latest_type", "is_latest", "type", "date_added"),
    Index("ix_stix_objects_creator", "creator_org_id", "date_added"),
    Index("ix_stix_objects_tlp", "tlp", "date_added"),
    Index("ix_stix_objects_group", "group_id"),
    # Everything a read joined on date_added needs to decide (latest, revoked, sharing, dates) without
    # touching the wide rows: feeds and lookups join the observable index here a million times.
    Index("ix_stix_objects_sharing", "date_added", "is_latest", "revoked", "tlp", "creator_org_id", "group_id",
          "has_recipients", "valid_until", "modified", "created"),
)

object_labels = Table(
    "object_labels",
    metadata,
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    Column("label", String(250), primary_key=True),
    Index("ix_object_labels_label", "label", "date_added"),
)

object_recipients = Table(
    "object_recipients",
    metadata,
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_object_recipients_organisation_id", "organisation_id", "date_added"),
)

# One row: the last date_added handed out. Locked by each writing transaction, which serialises
# allocation so that an object can never become visible with a date_added below one already read.
ingest_clock = Table(
    "ingest_clock",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("last_date_added", BigInteger, nullable=False),
)
