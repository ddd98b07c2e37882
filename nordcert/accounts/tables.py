"""Storage of organisations, users, API tokens and sharing groups."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from nordcert.db import BigId, metadata

organisations = Table(
    "organisations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("short_name", String(50), nullable=False, unique=True),
    Column("country", String(2), nullable=False),
    Column("sector_type", String(32), nullable=False),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("created_at", BigId, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", BigId, nullable=False),
    Index("ix_users_organisation_id", "organisation_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of the token; the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", BigId, nullable=False),
    Column("expires_at", BigId, nullable=True),
    Column("revoked_at", BigId, nullable=True),
    Column("last_used_at", BigId, nullable=True),
    Index("ix_api_tokens_user_id", "user_id"),
)

sharing_groups = Table(
    "sharing_groups",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigId, nullable=False),
)

sharing_group_members = Table(
    "sharing_group_members",
    metadata,
    Column("group_id", BigId, ForeignKey("sharing_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", BigId, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_sharing_group_members_organisation_id", "organisation_id"),
)

# --- web log-in (password hashes live in users.password_hash) -----------------------------------

#: Failed log-ins in a row and the lock-out they caused, one row per user who ever failed.
login_failures = Table(
    "login_failures",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
)

#: Failed web log-ins per client address in the current window (any account, known or not): every API
#: process reads and counts the same rows, so an address is refused everywhere at once.
login_address_failures = Table(
    "login_address_failures",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("window_started_at", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
)

#: Web sessions: the cookie holds a random token, the store only its SHA-256 (like API tokens).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)
