"""redteam: TIBER-EU and DORA TLPT engagements of the members, their phases' dates, roles, findings and the
remediation measures with status histories and dated notes

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('redteam_engagements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('framework', sa.String(length=16), nullable=False),
    sa.Column('tiber_implementation', sa.String(length=100), nullable=True),
    sa.Column('significant_credit_institution', sa.Boolean(), nullable=False),
    sa.Column('functions', sa.Text(), nullable=False),
    sa.Column('systems', sa.Text(), nullable=False),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('ti_provider', sa.String(length=200), nullable=True),
    sa.Column('rt_provider', sa.String(length=200), nullable=True),
    sa.Column('rt_provider_kind', sa.String(length=8), nullable=True),
    sa.Column('phase', sa.String(length=32), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('attested_on', sa.Date(), nullable=True),
    sa.Column('attestation_reference', sa.String(length=200), nullable=True),
    sa.Column('attestation_note', sa.Text(), nullable=True),
    sa.Column('attested_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['attested_by'], ['users.id'], name=op.f('fk_redteam_engagements_attested_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_redteam_engagements_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_redteam_engagements_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_engagements'))
    )
    with op.batch_alter_table('redteam_engagements', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_engagements_org_opened', ['organisation_id', 'opened_on'], unique=False)
        batch_op.create_index('ix_redteam_engagements_phase', ['phase'], unique=False)

    op.create_table('redteam_findings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('engagement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('flag', sa.String(length=32), nullable=True),
    sa.Column('attack_path', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('root_cause', sa.Text(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_redteam_findings_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['engagement_id'], ['redteam_engagements.id'], name=op.f('fk_redteam_findings_engagement_id_redteam_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_findings'))
    )
    with op.batch_alter_table('redteam_findings', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_findings_engagement', ['engagement_id'], unique=False)

    op.create_table('redteam_phase_dates',
    sa.Column('engagement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('phase', sa.String(length=32), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['engagement_id'], ['redteam_engagements.id'], name=op.f('fk_redteam_phase_dates_engagement_id_redteam_engagements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('engagement_id', 'phase', name=op.f('pk_redteam_phase_dates'))
    )
    op.create_table('redteam_roles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('engagement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['redteam_engagements.id'], name=op.f('fk_redteam_roles_engagement_id_redteam_engagements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_redteam_roles_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_roles'))
    )
    with op.batch_alter_table('redteam_roles', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_roles_engagement', ['engagement_id'], unique=False)
        batch_op.create_index('ix_redteam_roles_user', ['user_id', 'engagement_id'], unique=False)

    op.create_table('redteam_measures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('finding_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('measure', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.String(length=8), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('residual_risk', sa.Text(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_redteam_measures_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['finding_id'], ['redteam_findings.id'], name=op.f('fk_redteam_measures_finding_id_redteam_findings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_measures'))
    )
    with op.batch_alter_table('redteam_measures', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_measures_finding', ['finding_id'], unique=False)

    op.create_table('redteam_measure_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('changed_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_redteam_measure_history_changed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['measure_id'], ['redteam_measures.id'], name=op.f('fk_redteam_measure_history_measure_id_redteam_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_measure_history'))
    )
    with op.batch_alter_table('redteam_measure_history', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_measure_history_measure', ['measure_id', 'changed_at'], unique=False)

    op.create_table('redteam_measure_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['redteam_measures.id'], name=op.f('fk_redteam_measure_notes_measure_id_redteam_measures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_redteam_measure_notes_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redteam_measure_notes'))
    )
    with op.batch_alter_table('redteam_measure_notes', schema=None) as batch_op:
        batch_op.create_index('ix_redteam_measure_notes_measure', ['measure_id', 'recorded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('redteam_measure_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_measure_notes_measure')

    op.drop_table('redteam_measure_notes')
    with op.batch_alter_table('redteam_measure_history', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_measure_history_measure')

    op.drop_table('redteam_measure_history')
    with op.batch_alter_table('redteam_measures', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_measures_finding')

    op.drop_table('redteam_measures')
    with op.batch_alter_table('redteam_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_roles_user')
        batch_op.drop_index('ix_redteam_roles_engagement')

    op.drop_table('redteam_roles')
    op.drop_table('redteam_phase_dates')
    with op.batch_alter_table('redteam_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_findings_engagement')

    op.drop_table('redteam_findings')
    with op.batch_alter_table('redteam_engagements', schema=None) as batch_op:
        batch_op.drop_index('ix_redteam_engagements_phase')
        batch_op.drop_index('ix_redteam_engagements_org_opened')

    op.drop_table('redteam_engagements')
