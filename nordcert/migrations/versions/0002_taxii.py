"""taxii collections

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('taxii_checkpoints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('direction', sa.String(length=4), nullable=False),
    sa.Column('server_url', sa.String(length=500), nullable=False),
    sa.Column('collection_id', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_taxii_checkpoints_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_checkpoints'))
    )
    with op.batch_alter_table('taxii_checkpoints', schema=None) as batch_op:
        batch_op.create_index('uq_taxii_checkpoints', ['direction', 'server_url', 'collection_id', 'organisation_id'], unique=True)

    op.create_table('taxii_collections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('read_all', sa.Boolean(), nullable=False),
    sa.Column('write_all', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['sharing_groups.id'], name=op.f('fk_taxii_collections_group_id_sharing_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_taxii_collections_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_collections')),
    sa.UniqueConstraint('title', name=op.f('uq_taxii_collections_title'))
    )
    op.create_table('taxii_collection_access',
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('can_read', sa.Boolean(), nullable=False),
    sa.Column('can_write', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], name=op.f('fk_taxii_collection_access_collection_id_taxii_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_taxii_collection_access_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'organisation_id', name=op.f('pk_taxii_collection_access'))
    )
    op.create_table('taxii_status',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['taxii_collections.id'], name=op.f('fk_taxii_status_collection_id_taxii_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_taxii_status_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_status'))
    )
    with op.batch_alter_table('taxii_status', schema=None) as batch_op:
        batch_op.create_index('ix_taxii_status_created_at', ['created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('taxii_status', schema=None) as batch_op:
        batch_op.drop_index('ix_taxii_status_created_at')

    op.drop_table('taxii_status')
    op.drop_table('taxii_collection_access')
    op.drop_table('taxii_collections')
    with op.batch_alter_table('taxii_checkpoints', schema=None) as batch_op:
        batch_op.drop_index('uq_taxii_checkpoints')

    op.drop_table('taxii_checkpoints')
