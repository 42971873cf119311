"""重点人员 (``key_persons``, ``domain.keypersons``): one row per key person of an office,
its 四包一 holders, stability state and settling in ``body``; the events are a journal's.
And a partial index of the ``CaseListed`` audit rows (挂牌督办), for the 督查 page.

Revision ID: 0025
Revises: 0024 (re-chained at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import JSONB, UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_persons",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSONB(), nullable=False),
    )
    op.create_index("ix_key_persons_office", "key_persons", ["office"])
    listed = sa.text("type = 'CaseListed'")
    op.create_index("ix_audit_case_listed", "audit_events", ["case_id"],
                    sqlite_where=listed, postgresql_where=listed)


def downgrade() -> None:
    op.drop_index("ix_audit_case_listed", table_name="audit_events")
    op.drop_index("ix_key_persons_office", table_name="key_persons")
    op.drop_table("key_persons")
