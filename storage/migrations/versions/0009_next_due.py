"""Each case's soonest running due instant, stored at each commit, so that a person's queue
is ordered and paged in the database (the web workplace at 10,000 cases and more). An open
case registered before it starts with its registration instant, earlier than any due date
it can have (so it is never missed by "past its next due" and comes first in a queue),
until ``reschedule_open`` (when ``petitions serve`` starts, and every morning) stores the
real one.

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
    op.execute("UPDATE cases SET next_due_at = registered_at WHERE stage != 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_next_due_at")
        batch.drop_column("next_due_at")
