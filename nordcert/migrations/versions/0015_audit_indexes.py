"""the audit trail searched by who and by what: indexes on the actor's e-mail and on the target

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_events_actor_email_id', 'audit_events', ['actor_email', 'id'])
    op.create_index('ix_audit_events_target_id', 'audit_events', ['target', 'id'])


def downgrade() -> None:
    op.drop_index('ix_audit_events_target_id', table_name='audit_events')
    op.drop_index('ix_audit_events_actor_email_id', table_name='audit_events')
