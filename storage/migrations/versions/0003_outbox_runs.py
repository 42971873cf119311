"""The notification outbox and the lifecycle flow run of each case.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import JSONB, BigId, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("urgent", sa.Integer, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("error", sa.String(2000)),
    )
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"])
    op.create_index("ix_outbox_queued", "outbox", ["queued_at"],
                    postgresql_where=sa.text("status = 'queued'"),
                    sqlite_where=sa.text("status = 'queued'"))
    op.create_table(
        "lifecycle_runs",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("flow_run_id", sa.String(36), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_runs")
    op.drop_index("ix_outbox_queued", "outbox")
    op.drop_table("outbox")
