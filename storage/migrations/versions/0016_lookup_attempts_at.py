"""Look-ups older than a day are dropped as each one is recorded: by an index on ``at``,
not a scan of the table.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lookup_attempts_at", "lookup_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_lookup_attempts_at", "lookup_attempts")
