"""baseline: catalogue versions (each kept whole as JSON), self-assessment campaigns, members' responses and
their answers; the catalogue shipped with nordcert (2026.1) stored as the first, published version

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from nordcert.baseline.catalogue import load_shipped, to_dict
from nordcert.clock import now_us

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('baseline_catalogues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('based_on_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('shipped', sa.Boolean(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.BigInteger(), nullable=True),
    sa.Column('published_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['based_on_id'], ['baseline_catalogues.id'], name=op.f('fk_baseline_catalogues_based_on_id_baseline_catalogues'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_baseline_catalogues_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['published_by_user_id'], ['users.id'], name=op.f('fk_baseline_catalogues_published_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baseline_catalogues')),
    sa.UniqueConstraint('version', name=op.f('uq_baseline_catalogues_version'))
    )
    op.create_table('baseline_campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('catalogue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('opens_at', sa.BigInteger(), nullable=False),
    sa.Column('closes_at', sa.BigInteger(), nullable=False),
    sa.Column('created_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('closed_at', sa.BigInteger(), nullable=True),
    sa.Column('closed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['catalogue_id'], ['baseline_catalogues.id'], name=op.f('fk_baseline_campaigns_catalogue_id_baseline_catalogues'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['closed_by_user_id'], ['users.id'], name=op.f('fk_baseline_campaigns_closed_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_baseline_campaigns_created_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baseline_campaigns'))
    )
    with op.batch_alter_table('baseline_campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_baseline_campaigns_catalogue_id', ['catalogue_id'], unique=False)
        batch_op.create_index('ix_baseline_campaigns_status', ['status', 'closes_at'], unique=False)

    op.create_table('baseline_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submitted_at', sa.BigInteger(), nullable=True),
    sa.Column('submitted_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reopened_at', sa.BigInteger(), nullable=True),
    sa.Column('reopened_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['baseline_campaigns.id'], name=op.f('fk_baseline_responses_campaign_id_baseline_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_baseline_responses_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reopened_by_user_id'], ['users.id'], name=op.f('fk_baseline_responses_reopened_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['users.id'], name=op.f('fk_baseline_responses_submitted_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_baseline_responses_updated_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baseline_responses')),
    sa.UniqueConstraint('campaign_id', 'organisation_id', name='uq_baseline_responses_campaign_org')
    )
    with op.batch_alter_table('baseline_responses', schema=None) as batch_op:
        batch_op.create_index('ix_baseline_responses_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index('ix_baseline_responses_organisation_id', ['organisation_id'], unique=False)

    op.create_table('baseline_answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('control_id', sa.String(length=16), nullable=False),
    sa.Column('maturity', sa.Integer(), nullable=True),
    sa.Column('not_applicable', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['baseline_responses.id'], name=op.f('fk_baseline_answers_response_id_baseline_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'], name=op.f('fk_baseline_answers_updated_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baseline_answers')),
    sa.UniqueConstraint('response_id', 'control_id', name='uq_baseline_answers_response_control')
    )
    _store_shipped()


def _store_shipped() -> None:
    """The shipped catalogue as the store's first version, published: a campaign can use it at once."""
    shipped = load_shipped()
    at = now_us()
    catalogues = sa.table('baseline_catalogues', sa.column('version', sa.String), sa.column('title', sa.String),
                          sa.column('body', sa.Text), sa.column('shipped', sa.Boolean),
                          sa.column('created_at', sa.BigInteger), sa.column('updated_at', sa.BigInteger),
                          sa.column('published', sa.Boolean), sa.column('published_at', sa.BigInteger))
    op.bulk_insert(catalogues, [{'version': shipped.version, 'title': shipped.title,
                                 'body': orjson.dumps(to_dict(shipped)).decode(), 'shipped': True,
                                 'created_at': at, 'updated_at': at, 'published': True, 'published_at': at}])


def downgrade() -> None:
    op.drop_table('baseline_answers')
    with op.batch_alter_table('baseline_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_baseline_responses_organisation_id')
        batch_op.drop_index('ix_baseline_responses_campaign_status')

    op.drop_table('baseline_responses')
    with op.batch_alter_table('baseline_campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_baseline_campaigns_status')
        batch_op.drop_index('ix_baseline_campaigns_catalogue_id')

    op.drop_table('baseline_campaigns')
    op.drop_table('baseline_catalogues')
