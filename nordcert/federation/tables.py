"""Storage of federation peers with their sync state, the provenance of federated objects, and the
local organisations that stand for organisations of other instances."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from nordcert.db import BigId, metadata

federation_peers = Table(
    "federation_peers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    # The peer's instance: its name (NORDCERT_INSTANCE_NAME there) and the STIX identity derived from it.
    Column("instance_name", String(200), nullable=False),
    Column("instance_id", String(100), nullable=False, unique=True),
    # The local organisation that stands for the peer: its sharing groups are what AMBER may cross,
    # its service user (role peer) is how the peer reads and writes here.
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False,
           unique=True),
    Column("url", String(500), nullable=False),
    Column("pull_collection", String(200), nullable=True),
    Column("push_collection", String(200), nullable=True),
    Column("direction", String(8), nullable=False),  # pull | push | both
    Column("max_tlp", SmallInteger, nullable=False),
    Column("token", Text, nullable=True),  # the bearer token this instance presents at the peer
    Column("interval_s", Integer, nullable=False),
    Column("timeout_s", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # --- sync state ---
    Column("pull_position", String(40), nullable=True),  # the peer's X-TAXII-Date-Added-Last seen
    Column("push_position", BigInteger, nullable=False, default=0),  # our last date_added the peer confirmed
    Column("objects_in", BigInteger, nullable=False, default=0),
    Column("objects_out", BigInteger, nullable=False, default=0),
    Column("rejected_in", BigInteger, nullable=False, default=0),
    Column("last_rejections", Text, nullable=True),  # JSON: the latest objects refused from the peer
    Column("last_attempt_at", BigInteger, nullable=True),
    Column("last_success_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False, default=0),  # failed syncs in a row (back-off)
    Column("next_attempt_at", BigInteger, nullable=False, default=0),
    # A worker holds a peer while it syncs it: any number of workers, each peer synced by one at a time.
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
)

object_provenance = Table(
    "object_provenance",
    metadata,
    Column("date_added", BigInteger, ForeignKey("stix_objects.date_added", ondelete="CASCADE"), primary_key=True),
    Column("origin_instance", String(100), nullable=False),
    Column("origin_instance_name", String(200), nullable=False),
    # The organisation at the origin instance that created the object; None when it was anonymous there.
    Column("origin_org_name", String(200), nullable=True),
    Column("received_from", BigId, ForeignKey("federation_peers.id", ondelete="SET NULL"), nullable=True),
    # The instances the object passed through, origin first, the peer it came from last (JSON list of
    # identity ids): it is never sent to any of them.
    Column("path", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_object_provenance_received_from", "received_from", "date_added"),
)

remote_organisations = Table(
    "remote_organisations",
    metadata,
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("instance_id", String(100), nullable=False),
    Column("remote_identity_id", String(100), nullable=False),
    Index("uq_remote_organisations", "instance_id", "remote_identity_id", unique=True),
)
