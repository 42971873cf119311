"""The actions applied, by request id (a request is applied once, however often it arrives),
and the wait each lifecycle run is suspended on (its key survives the run's re-execution).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_requests",
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("act", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("lifecycle_runs") as batch:
        batch.add_column(sa.Column("waits", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("wait_key", sa.String(64)))
        batch.add_column(sa.Column("wait_stage", sa.String(32)))
        batch.add_column(sa.Column("wait_open", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("lifecycle_runs") as batch:
        for column in ("wait_open", "wait_stage", "wait_key", "waits"):
            batch.drop_column(column)
    op.drop_table("applied_requests")
