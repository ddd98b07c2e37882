"""privacy and audit: the append-only audit trail; personal data's legal basis and retention per
stored version; the public ids of the sector keys members blind with

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_APPEND_ONLY = "the audit trail is append-only"


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_org_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_email', sa.String(length=320), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_at', 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_action_at', 'audit_events', ['action', 'at'], unique=False)
    op.create_table('personal_data',
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('stix_id', sa.String(length=300), nullable=False),
    sa.Column('legal_basis', sa.String(length=64), nullable=False),
    sa.Column('kinds', sa.String(length=100), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['date_added'], ['stix_objects.date_added'], name=op.f('fk_personal_data_date_added_stix_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date_added', name=op.f('pk_personal_data'))
    )
    op.create_index('ix_personal_data_expires_at', 'personal_data', ['expires_at'], unique=False)
    op.create_index('ix_personal_data_stix_id', 'personal_data', ['stix_id'], unique=False)
    op.create_table('blinding_keys',
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('check_value', sa.String(length=16), nullable=False),
    sa.Column('registered_at', sa.BigInteger(), nullable=False),
    sa.Column('retired_at', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_blinding_keys'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$""")
        op.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
    else:
        for event in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_table('blinding_keys')
    op.drop_index('ix_personal_data_stix_id', table_name='personal_data')
    op.drop_index('ix_personal_data_expires_at', table_name='personal_data')
    op.drop_table('personal_data')
    op.drop_index('ix_audit_events_action_at', table_name='audit_events')
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_table('audit_events')
