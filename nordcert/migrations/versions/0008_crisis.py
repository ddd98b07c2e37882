"""crisis: crises, members' status reports, broadcasts, briefings, lessons learned and follow-up actions

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crises',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('is_exercise', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('declared_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('declared_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('closed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('closed_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_crises_closed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['declared_by'], ['users.id'], name=op.f('fk_crises_declared_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crises'))
    )
    with op.batch_alter_table('crises', schema=None) as batch_op:
        batch_op.create_index('ix_crises_status_declared', ['status', 'declared_at'], unique=False)

    op.create_table('crisis_briefings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('crisis_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['crisis_id'], ['crises.id'], name=op.f('fk_crisis_briefings_crisis_id_crises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_crisis_briefings_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_briefings'))
    )
    with op.batch_alter_table('crisis_briefings', schema=None) as batch_op:
        batch_op.create_index('ix_crisis_briefings_crisis_recorded', ['crisis_id', 'recorded_at'], unique=False)

    op.create_table('crisis_broadcasts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('crisis_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('posted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('posted_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['crisis_id'], ['crises.id'], name=op.f('fk_crisis_broadcasts_crisis_id_crises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['posted_by'], ['users.id'], name=op.f('fk_crisis_broadcasts_posted_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_broadcasts'))
    )
    with op.batch_alter_table('crisis_broadcasts', schema=None) as batch_op:
        batch_op.create_index('ix_crisis_broadcasts_crisis_posted', ['crisis_id', 'posted_at'], unique=False)
        batch_op.create_index('ix_crisis_broadcasts_posted_at', ['posted_at'], unique=False)

    op.create_table('crisis_lessons',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('crisis_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['crisis_id'], ['crises.id'], name=op.f('fk_crisis_lessons_crisis_id_crises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_crisis_lessons_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_lessons'))
    )
    with op.batch_alter_table('crisis_lessons', schema=None) as batch_op:
        batch_op.create_index('ix_crisis_lessons_crisis_id', ['crisis_id'], unique=False)

    op.create_table('crisis_status_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('crisis_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('submitted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('observed_at', sa.BigInteger(), nullable=False),
    sa.Column('submitted_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['crisis_id'], ['crises.id'], name=op.f('fk_crisis_status_reports_crisis_id_crises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_crisis_status_reports_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_crisis_status_reports_submitted_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_status_reports'))
    )
    with op.batch_alter_table('crisis_status_reports', schema=None) as batch_op:
        batch_op.create_index('ix_crisis_status_reports_latest', ['crisis_id', 'organisation_id', 'service', 'observed_at'], unique=False)
        batch_op.create_index('ix_crisis_status_reports_observed', ['crisis_id', 'observed_at'], unique=False)

    op.create_table('crisis_actions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('crisis_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lesson_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.Column('done_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_crisis_actions_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['crisis_id'], ['crises.id'], name=op.f('fk_crisis_actions_crisis_id_crises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['crisis_lessons.id'], name=op.f('fk_crisis_actions_lesson_id_crisis_lessons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_crisis_actions_owner_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_crisis_actions_owner_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_actions'))
    )
    with op.batch_alter_table('crisis_actions', schema=None) as batch_op:
        batch_op.create_index('ix_crisis_actions_crisis_id', ['crisis_id'], unique=False)
        batch_op.create_index('ix_crisis_actions_owner', ['owner_organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_crisis_actions_status_due', ['status', 'due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crisis_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_crisis_actions_status_due')
        batch_op.drop_index('ix_crisis_actions_owner')
        batch_op.drop_index('ix_crisis_actions_crisis_id')

    op.drop_table('crisis_actions')
    with op.batch_alter_table('crisis_status_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_crisis_status_reports_observed')
        batch_op.drop_index('ix_crisis_status_reports_latest')

    op.drop_table('crisis_status_reports')
    with op.batch_alter_table('crisis_lessons', schema=None) as batch_op:
        batch_op.drop_index('ix_crisis_lessons_crisis_id')

    op.drop_table('crisis_lessons')
    with op.batch_alter_table('crisis_broadcasts', schema=None) as batch_op:
        batch_op.drop_index('ix_crisis_broadcasts_posted_at')
        batch_op.drop_index('ix_crisis_broadcasts_crisis_posted')

    op.drop_table('crisis_broadcasts')
    with op.batch_alter_table('crisis_briefings', schema=None) as batch_op:
        batch_op.drop_index('ix_crisis_briefings_crisis_recorded')

    op.drop_table('crisis_briefings')
    with op.batch_alter_table('crises', schema=None) as batch_op:
        batch_op.drop_index('ix_crises_status_declared')

    op.drop_table('crises')
