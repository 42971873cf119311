"""The public progress page's look-ups (``lookup_attempts``), counted to slow down anyone
guessing query codes.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import BigId, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_lookup_attempts_key_at", "lookup_attempts", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_lookup_attempts_key_at", "lookup_attempts")
    op.drop_table("lookup_attempts")
