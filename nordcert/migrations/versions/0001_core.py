"""core: accounts, sharing groups, STIX objects

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    clock = op.create_table('ingest_clock',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('last_date_added', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_clock'))
    )
    # The one row every writing transaction locks to take date_added values (nordcert.intel.ingest).
    op.bulk_insert(clock, [{'id': 1, 'last_date_added': 0}])
    op.create_table('organisations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=50), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('sector_type', sa.String(length=32), nullable=False),
    sa.Column('identity_id', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('identity_id', name=op.f('uq_organisations_identity_id')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name')),
    sa.UniqueConstraint('short_name', name=op.f('uq_organisations_short_name'))
    )
    op.create_table('sharing_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_sharing_groups_name'))
    )
    op.create_table('sharing_group_members',
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['sharing_groups.id'], name=op.f('fk_sharing_group_members_group_id_sharing_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sharing_group_members_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'organisation_id', name=op.f('pk_sharing_group_members'))
    )
    with op.batch_alter_table('sharing_group_members', schema=None) as batch_op:
        batch_op.create_index('ix_sharing_group_members_organisation_id', ['organisation_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_organisation_id', ['organisation_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('expires_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('revoked_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('last_used_at', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_user_id', ['user_id'], unique=False)

    op.create_table('stix_objects',
    sa.Column('date_added', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('stix_id', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=250), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('modified', sa.BigInteger(), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=True),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('valid_until', sa.BigInteger(), nullable=True),
    sa.Column('creator_org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submitted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tlp', sa.SmallInteger(), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('has_recipients', sa.Boolean(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['creator_org_id'], ['organisations.id'], name=op.f('fk_stix_objects_creator_org_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['group_id'], ['sharing_groups.id'], name=op.f('fk_stix_objects_group_id_sharing_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_stix_objects_submitted_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('date_added', name=op.f('pk_stix_objects'))
    )
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.create_index('ix_stix_objects_creator', ['creator_org_id', 'date_added'], unique=False)
        batch_op.create_index('ix_stix_objects_group', ['group_id'], unique=False)
        batch_op.create_index('ix_stix_objects_latest_type', ['is_latest', 'type', 'date_added'], unique=False)
        batch_op.create_index('ix_stix_objects_tlp', ['tlp', 'date_added'], unique=False)
        batch_op.create_index('uq_stix_objects_version', ['stix_id', 'modified'], unique=True)

    op.create_table('object_labels',
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=250), nullable=False),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_object_labels_date_added_stix_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date_added', 'label', name=op.f('pk_object_labels'))
    )
    with op.batch_alter_table('object_labels', schema=None) as batch_op:
        batch_op.create_index('ix_object_labels_label', ['label', 'date_added'], unique=False)

    op.create_table('object_recipients',
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_object_recipients_date_added_stix_objects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_object_recipients_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date_added', 'organisation_id', name=op.f('pk_object_recipients'))
    )
    with op.batch_alter_table('object_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_object_recipients_organisation_id', ['organisation_id', 'date_added'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('object_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_object_recipients_organisation_id')

    op.drop_table('object_recipients')
    with op.batch_alter_table('object_labels', schema=None) as batch_op:
        batch_op.drop_index('ix_object_labels_label')

    op.drop_table('object_labels')
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_index('uq_stix_objects_version')
        batch_op.drop_index('ix_stix_objects_tlp')
        batch_op.drop_index('ix_stix_objects_latest_type')
        batch_op.drop_index('ix_stix_objects_group')
        batch_op.drop_index('ix_stix_objects_creator')

    op.drop_table('stix_objects')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_user_id')

    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_organisation_id')

    op.drop_table('users')
    with op.batch_alter_table('sharing_group_members', schema=None) as batch_op:
        batch_op.drop_index('ix_sharing_group_members_organisation_id')

    op.drop_table('sharing_group_members')
    op.drop_table('sharing_groups')
    op.drop_table('organisations')
    op.drop_table('ingest_clock')
