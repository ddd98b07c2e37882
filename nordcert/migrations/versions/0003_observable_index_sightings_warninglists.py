"""observable index, sightings, warninglists

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cidr_prefixes',
    sa.Column('family', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('prefix', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('family', 'prefix', name=op.f('pk_cidr_prefixes'))
    )
    op.create_table('warninglists',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('list_type', sa.String(length=16), nullable=False),
    sa.Column('kinds', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('entries', sa.Text(), nullable=False),
    sa.Column('entries_count', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warninglists')),
    sa.UniqueConstraint('name', name=op.f('uq_warninglists_name'))
    )
    op.create_table('observables',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=2048), nullable=False),
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('warninglists', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_observables_date_added_stix_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kind', 'value', 'date_added', name=op.f('pk_observables'))
    )
    with op.batch_alter_table('observables', schema=None) as batch_op:
        batch_op.create_index('ix_observables_date_added', ['date_added'], unique=False)

    op.create_table('sighting_index',
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('sighting_of_ref', sa.String(length=300), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.BigInteger(), nullable=False),
    sa.Column('last_seen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_sighting_index_date_added_stix_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date_added', name=op.f('pk_sighting_index'))
    )
    with op.batch_alter_table('sighting_index', schema=None) as batch_op:
        batch_op.create_index('ix_sighting_index_of', ['sighting_of_ref', 'last_seen'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sighting_index', schema=None) as batch_op:
        batch_op.drop_index('ix_sighting_index_of')

    op.drop_table('sighting_index')
    with op.batch_alter_table('observables', schema=None) as batch_op:
        batch_op.drop_index('ix_observables_date_added')

    op.drop_table('observables')
    op.drop_table('warninglists')
    op.drop_table('cidr_prefixes')
