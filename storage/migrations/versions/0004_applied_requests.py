"""The actions applied, by request id: a request is applied once, however often it arrives.

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


def downgrade() -> None:
    op.drop_table("applied_requests")
