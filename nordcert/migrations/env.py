"""Alembic environment: migrations run on the connection nordcert hands in (see nordcert.db.migrate)."""

from __future__ import annotations

from alembic import context

from nordcert.db import import_all_tables

target_metadata = import_all_tables()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through nordcert.db.migrate(engine), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
