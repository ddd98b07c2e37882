"""incident_reminders: which report deadline of which incident the worker has reminded of

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident_reminders',
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('due_at', sa.BigInteger(), nullable=False),
    sa.Column('reminded_at', sa.BigInteger(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_reminders_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'kind', 'due_at', name=op.f('pk_incident_reminders'))
    )


def downgrade() -> None:
    op.drop_table('incident_reminders')
