"""federation: peers and their sync state, provenance of federated objects, organisations of other instances

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('federation_peers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('instance_name', sa.String(length=200), nullable=False),
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('pull_collection', sa.String(length=200), nullable=True),
    sa.Column('push_collection', sa.String(length=200), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('max_tlp', sa.SmallInteger(), nullable=False),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('timeout_s', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('pull_position', sa.String(length=40), nullable=True),
    sa.Column('push_position', sa.BigInteger(), nullable=False),
    sa.Column('objects_in', sa.BigInteger(), nullable=False),
    sa.Column('objects_out', sa.BigInteger(), nullable=False),
    sa.Column('rejected_in', sa.BigInteger(), nullable=False),
    sa.Column('last_rejections', sa.Text(), nullable=True),
    sa.Column('last_attempt_at', sa.BigInteger(), nullable=True),
    sa.Column('last_success_at', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.BigInteger(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_federation_peers_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_peers')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_federation_peers_instance_id')),
    sa.UniqueConstraint('name', name=op.f('uq_federation_peers_name')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_federation_peers_organisation_id'))
    )
    op.create_table('remote_organisations',
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('remote_identity_id', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_remote_organisations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_remote_organisations'))
    )
    with op.batch_alter_table('remote_organisations', schema=None) as batch_op:
        batch_op.create_index('uq_remote_organisations', ['instance_id', 'remote_identity_id'], unique=True)

    op.create_table('object_provenance',
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('origin_instance', sa.String(length=100), nullable=False),
    sa.Column('origin_instance_name', sa.String(length=200), nullable=False),
    sa.Column('origin_org_name', sa.String(length=200), nullable=True),
    sa.Column('received_from', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_object_provenance_date_added_stix_objects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['received_from'], ['federation_peers.id'], name=op.f('fk_object_provenance_received_from_federation_peers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('date_added', name=op.f('pk_object_provenance'))
    )
    with op.batch_alter_table('object_provenance', schema=None) as batch_op:
        batch_op.create_index('ix_object_provenance_received_from', ['received_from', 'date_added'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('object_provenance', schema=None) as batch_op:
        batch_op.drop_index('ix_object_provenance_received_from')

    op.drop_table('object_provenance')
    with op.batch_alter_table('remote_organisations', schema=None) as batch_op:
        batch_op.drop_index('uq_remote_organisations')

    op.drop_table('remote_organisations')
    op.drop_table('federation_peers')
