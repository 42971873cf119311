"""The engine's heartbeats (``engine_beats``): when each recurring job last completed.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_beats",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("engine_beats")
