"""a covering index of stix_objects for reads joined on date_added (feeds, exports, lookups)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_COLUMNS = ["date_added", "is_latest", "revoked", "tlp", "creator_org_id", "group_id", "has_recipients",
            "valid_until", "modified", "created"]


def upgrade() -> None:
    op.create_index('ix_stix_objects_sharing', 'stix_objects', _COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_stix_objects_sharing', table_name='stix_objects')
