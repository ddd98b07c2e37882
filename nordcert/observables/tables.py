"""The observable index and the sighting index: what correlation, lookup and sightings read.

Both index only the latest, unrevoked version of each object and are written in the ingest
transaction, so they are never behind the objects. Sharing attributes are not copied here: every
read joins ``stix_objects`` on its primary key and asks the sharing policy.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from nordcert.db import BigId, metadata

#: Longest value indexed; longer ones (rare, giant URLs) are reported as not indexed at ingest.
MAX_VALUE_LENGTH = 2048

observables = Table(
    "observables",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("value", String(MAX_VALUE_LENGTH), primary_key=True),
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    # Names of the warninglists the value was on when it was indexed (comma-separated), or NULL.
    Column("warninglists", Text, nullable=True),
    Index("ix_observables_date_added", "date_added"),
)

# The prefix lengths of the CIDR values in the index, per address family (4 or 6): a lookup asks only
# for the containing networks of those lengths (a handful) instead of all 32 or 128.
cidr_prefixes = Table(
    "cidr_prefixes",
    metadata,
    Column("family", SmallInteger, primary_key=True, autoincrement=False),
    Column("prefix", SmallInteger, primary_key=True, autoincrement=False),
)

sighting_index = Table(
    "sighting_index",
    metadata,
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    Column("sighting_of_ref", String(300), nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Index("ix_sighting_index_of", "sighting_of_ref", "last_seen"),
)

warninglists = Table(
    "warninglists",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("version", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("list_type", String(16), nullable=False),
    Column("kinds", String(200), nullable=False),  # comma-separated observable kinds it applies to
    Column("enabled", Boolean, nullable=False, default=True),
    Column("entries", Text, nullable=False),  # the list's entries as a JSON array
    Column("entries_count", Integer, nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
)
