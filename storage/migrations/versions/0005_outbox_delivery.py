"""Delivering the outbox: when a message may next be tried, its claim, where it went.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime()))
        batch.add_column(sa.Column("claimed_at", UTCDateTime()))
        batch.add_column(sa.Column("ref", sa.String(500)))
        batch.add_column(sa.Column("note", sa.String(200)))
    op.execute("UPDATE outbox SET next_attempt_at = queued_at")
    op.create_index("ix_outbox_due", "outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("status IN ('queued', 'sending')"),
                    sqlite_where=sa.text("status IN ('queued', 'sending')"))


def downgrade() -> None:
    op.drop_index("ix_outbox_due", "outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("note", "ref", "claimed_at", "next_attempt_at"):
            batch.drop_column(column)
