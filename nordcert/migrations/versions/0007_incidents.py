"""incidents: DORA-shaped ICT incidents, their reports, and their links to intel objects

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('weekend_relief', sa.Boolean(), nullable=False),
    sa.Column('detected_at', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.BigInteger(), nullable=True),
    sa.Column('classified_at', sa.BigInteger(), nullable=True),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('classification', sa.Text(), nullable=False),
    sa.Column('major', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('next_due_kind', sa.String(length=24), nullable=True),
    sa.Column('next_due_at', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_incidents_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_incidents_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_next_due_at', ['next_due_at'], unique=False)
        batch_op.create_index('ix_incidents_organisation_detected', ['organisation_id', 'detected_at'], unique=False)
        batch_op.create_index('uq_incidents_organisation_reference', ['organisation_id', 'reference'], unique=True)

    op.create_table('incident_intel_links',
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stix_id', sa.String(length=300), nullable=False),
    sa.Column('linked_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_intel_links_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'stix_id', name=op.f('pk_incident_intel_links'))
    )
    with op.batch_alter_table('incident_intel_links', schema=None) as batch_op:
        batch_op.create_index('ix_incident_intel_links_stix_id', ['stix_id'], unique=False)

    op.create_table('incident_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.BigInteger(), nullable=False),
    sa.Column('submitted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_reports_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_incident_reports_submitted_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_reports'))
    )
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.create_index('uq_incident_reports_sequence', ['incident_id', 'sequence'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_incident_reports_sequence')

    op.drop_table('incident_reports')
    with op.batch_alter_table('incident_intel_links', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_intel_links_stix_id')

    op.drop_table('incident_intel_links')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('uq_incidents_organisation_reference')
        batch_op.drop_index('ix_incidents_organisation_detected')
        batch_op.drop_index('ix_incidents_next_due_at')

    op.drop_table('incidents')
