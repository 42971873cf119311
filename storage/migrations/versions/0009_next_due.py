"""Each case's soonest running due instant, stored at each commit, so that a person's queue
is ordered and paged in the database (the web workplace at 10,000 cases and more). Cases
registered before it get theirs when ``petitions serve`` starts (``reschedule_open``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("next_due_at", UTCDateTime()))
        batch.create_index("ix_cases_next_due_at", ["next_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_next_due_at")
        batch.drop_column("next_due_at")
