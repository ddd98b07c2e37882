"""failed web log-ins per client address, counted in the store so that every API process agrees

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_address_failures',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('window_started_at', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_login_address_failures'))
    )


def downgrade() -> None:
    op.drop_table('login_address_failures')
