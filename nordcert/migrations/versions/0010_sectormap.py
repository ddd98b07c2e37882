"""sectormap: members' processes, systems and ICT services, sector-wide providers and shared infrastructure,
their dependencies; the sector risk register (risks, sources, measures, histories, notes) and the concerns survey

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sectormap_infrastructure',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('operator', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_infrastructure')),
    sa.UniqueConstraint('name_key', name=op.f('uq_sectormap_infrastructure_name_key'))
    )
    op.create_table('sectormap_providers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('lei', sa.String(length=20), nullable=True),
    sa.Column('other_id', sa.String(length=100), nullable=True),
    sa.Column('other_id_type', sa.String(length=32), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_providers')),
    sa.UniqueConstraint('lei', name=op.f('uq_sectormap_providers_lei')),
    sa.UniqueConstraint('name_key', name=op.f('uq_sectormap_providers_name_key'))
    )
    op.create_table('sectormap_processes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('function_ref', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_processes_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_processes'))
    )
    with op.batch_alter_table('sectormap_processes', schema=None) as batch_op:
        batch_op.create_index('uq_sectormap_processes_org_name', ['organisation_id', 'name_key'], unique=True)

    op.create_table('sectormap_services',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('service_type', sa.String(length=3), nullable=True),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('substitutability', sa.String(length=16), nullable=True),
    sa.Column('storage_locations', sa.String(length=200), nullable=False),
    sa.Column('processing_locations', sa.String(length=200), nullable=False),
    sa.Column('contract_reference', sa.String(length=100), nullable=True),
    sa.Column('contract_end', sa.Date(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_services_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['sectormap_providers.id'], name=op.f('fk_sectormap_services_provider_id_sectormap_providers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_services'))
    )
    with op.batch_alter_table('sectormap_services', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_services_provider_id', ['provider_id'], unique=False)
        batch_op.create_index('uq_sectormap_services_org_name', ['organisation_id', 'name_key'], unique=True)

    op.create_table('sectormap_systems',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_systems_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_systems'))
    )
    with op.batch_alter_table('sectormap_systems', schema=None) as batch_op:
        batch_op.create_index('uq_sectormap_systems_org_name', ['organisation_id', 'name_key'], unique=True)

    op.create_table('sectormap_dependencies',
    sa.Column('dependent', sa.String(length=40), nullable=False),
    sa.Column('dependency', sa.String(length=40), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_process_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('from_system_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('from_service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_system_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_service_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_infrastructure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['from_process_id'], ['sectormap_processes.id'], name=op.f('fk_sectormap_dependencies_from_process_id_sectormap_processes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_service_id'], ['sectormap_services.id'], name=op.f('fk_sectormap_dependencies_from_service_id_sectormap_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_system_id'], ['sectormap_systems.id'], name=op.f('fk_sectormap_dependencies_from_system_id_sectormap_systems'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_dependencies_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_infrastructure_id'], ['sectormap_infrastructure.id'], name=op.f('fk_sectormap_dependencies_to_infrastructure_id_sectormap_infrastructure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_service_id'], ['sectormap_services.id'], name=op.f('fk_sectormap_dependencies_to_service_id_sectormap_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_system_id'], ['sectormap_systems.id'], name=op.f('fk_sectormap_dependencies_to_system_id_sectormap_systems'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dependent', 'dependency', name=op.f('pk_sectormap_dependencies'))
    )
    with op.batch_alter_table('sectormap_dependencies', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_dependencies_dependency', ['dependency'], unique=False)
        batch_op.create_index('ix_sectormap_dependencies_organisation_id', ['organisation_id'], unique=False)

    op.create_table('sectormap_risks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_sectormap_risks_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_risks'))
    )
    with op.batch_alter_table('sectormap_risks', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_risks_status_score', ['status', 'score'], unique=False)

    op.create_table('sectormap_surveys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('opened_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('opened_at', sa.BigInteger(), nullable=False),
    sa.Column('closed_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_sectormap_surveys_opened_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_surveys')),
    sa.UniqueConstraint('year', name=op.f('uq_sectormap_surveys_year'))
    )
    op.create_table('sectormap_measures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('risk_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_person', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_sectormap_measures_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_measures_owner_organisation_id_organisations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['risk_id'], ['sectormap_risks.id'], name=op.f('fk_sectormap_measures_risk_id_sectormap_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_measures'))
    )
    with op.batch_alter_table('sectormap_measures', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_measures_owner', ['owner_organisation_id'], unique=False)
        batch_op.create_index('ix_sectormap_measures_risk_id', ['risk_id'], unique=False)

    op.create_table('sectormap_risk_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('risk_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('changed_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_sectormap_risk_history_changed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['risk_id'], ['sectormap_risks.id'], name=op.f('fk_sectormap_risk_history_risk_id_sectormap_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_risk_history'))
    )
    with op.batch_alter_table('sectormap_risk_history', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_risk_history_risk_changed', ['risk_id', 'changed_at'], unique=False)

    op.create_table('sectormap_risk_sources',
    sa.Column('risk_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['risk_id'], ['sectormap_risks.id'], name=op.f('fk_sectormap_risk_sources_risk_id_sectormap_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('risk_id', 'kind', 'ref', name=op.f('pk_sectormap_risk_sources'))
    )
    op.create_table('sectormap_survey_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submitted_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_sectormap_survey_responses_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_sectormap_survey_responses_submitted_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['sectormap_surveys.id'], name=op.f('fk_sectormap_survey_responses_survey_id_sectormap_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_survey_responses'))
    )
    with op.batch_alter_table('sectormap_survey_responses', schema=None) as batch_op:
        batch_op.create_index('uq_sectormap_survey_responses_org', ['survey_id', 'organisation_id'], unique=True)

    op.create_table('sectormap_survey_topics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['sectormap_surveys.id'], name=op.f('fk_sectormap_survey_topics_survey_id_sectormap_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_survey_topics'))
    )
    with op.batch_alter_table('sectormap_survey_topics', schema=None) as batch_op:
        batch_op.create_index('uq_sectormap_survey_topics_position', ['survey_id', 'position'], unique=True)

    op.create_table('sectormap_measure_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('changed_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('changed_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_sectormap_measure_history_changed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['measure_id'], ['sectormap_measures.id'], name=op.f('fk_sectormap_measure_history_measure_id_sectormap_measures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_measure_history'))
    )
    with op.batch_alter_table('sectormap_measure_history', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_measure_history_measure_changed', ['measure_id', 'changed_at'], unique=False)

    op.create_table('sectormap_measure_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('measure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('noted_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['sectormap_measures.id'], name=op.f('fk_sectormap_measure_notes_measure_id_sectormap_measures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_sectormap_measure_notes_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sectormap_measure_notes'))
    )
    with op.batch_alter_table('sectormap_measure_notes', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_measure_notes_measure_id', ['measure_id'], unique=False)

    op.create_table('sectormap_survey_answers',
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('topic_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['sectormap_survey_responses.id'], name=op.f('fk_sectormap_survey_answers_response_id_sectormap_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['sectormap_survey_topics.id'], name=op.f('fk_sectormap_survey_answers_topic_id_sectormap_survey_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'topic_id', name=op.f('pk_sectormap_survey_answers'))
    )
    with op.batch_alter_table('sectormap_survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_sectormap_survey_answers_topic_id', ['topic_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sectormap_survey_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_survey_answers_topic_id')

    op.drop_table('sectormap_survey_answers')
    with op.batch_alter_table('sectormap_measure_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_measure_notes_measure_id')

    op.drop_table('sectormap_measure_notes')
    with op.batch_alter_table('sectormap_measure_history', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_measure_history_measure_changed')

    op.drop_table('sectormap_measure_history')
    with op.batch_alter_table('sectormap_survey_topics', schema=None) as batch_op:
        batch_op.drop_index('uq_sectormap_survey_topics_position')

    op.drop_table('sectormap_survey_topics')
    with op.batch_alter_table('sectormap_survey_responses', schema=None) as batch_op:
        batch_op.drop_index('uq_sectormap_survey_responses_org')

    op.drop_table('sectormap_survey_responses')
    op.drop_table('sectormap_risk_sources')
    with op.batch_alter_table('sectormap_risk_history', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_risk_history_risk_changed')

    op.drop_table('sectormap_risk_history')
    with op.batch_alter_table('sectormap_measures', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_measures_risk_id')
        batch_op.drop_index('ix_sectormap_measures_owner')

    op.drop_table('sectormap_measures')
    op.drop_table('sectormap_surveys')
    with op.batch_alter_table('sectormap_risks', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_risks_status_score')

    op.drop_table('sectormap_risks')
    with op.batch_alter_table('sectormap_dependencies', schema=None) as batch_op:
        batch_op.drop_index('ix_sectormap_dependencies_organisation_id')
        batch_op.drop_index('ix_sectormap_dependencies_dependency')

    op.drop_table('sectormap_dependencies')
    with op.batch_alter_table('sectormap_systems', schema=None) as batch_op:
        batch_op.drop_index('uq_sectormap_systems_org_name')

    op.drop_table('sectormap_systems')
    with op.batch_alter_table('sectormap_services', schema=None) as batch_op:
        batch_op.drop_index('uq_sectormap_services_org_name')
        batch_op.drop_index('ix_sectormap_services_provider_id')

    op.drop_table('sectormap_services')
    with op.batch_alter_table('sectormap_processes', schema=None) as batch_op:
        batch_op.drop_index('uq_sectormap_processes_org_name')

    op.drop_table('sectormap_processes')
    op.drop_table('sectormap_providers')
    op.drop_table('sectormap_infrastructure')
