"""text search over names and descriptions by trigram indexes on PostgreSQL (pg_trgm)

A search for a fragment (``q`` of ``GET /api/v1/objects``, the web search) is
``lower(name) LIKE '%fragment%' OR lower(description) LIKE '%fragment%'``: without an index
PostgreSQL reads every row (30–60 ms at 20,000 objects, growing with the store). A GIN trigram index
on each expression answers it in a few milliseconds (docs/benchmarks.md, load). It costs about a fifth
of PostgreSQL's ingest rate, measured in the same run.

pg_trgm is created in the ``public`` schema (or found where it already is), so that every schema of
the database — a test run makes one per test — finds its operator class. Where the extension may not
be created (a role without the right), the migration says so and leaves the search unindexed.
SQLite keeps its scan: the same query, no index.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import text

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
_INDEXES = (("ix_stix_objects_name_trgm", "name"), ("ix_stix_objects_description_trgm", "description"))


def _trgm_schema(bind: object) -> str | None:
    found = bind.execute(text(  # type: ignore[attr-defined]
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar()
    return str(found) if found else None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trgm_schema(bind)
    if schema is None:
        try:
            with bind.begin_nested():  # two migrations at once (tests): the loser finds the winner's
                bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        except Exception as exc:  # noqa: BLE001 - any refusal leaves the search unindexed, said once
            log.warning("text search stays unindexed: pg_trgm could not be created (%s)", exc)
        schema = _trgm_schema(bind)
        if schema is None:
            return
    for name, column in _INDEXES:
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON stix_objects '
                   f'USING gin (lower({column}) "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _ in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
