"""The measures' facts stored with each case (``domain.measures.Facts``), so that the
measures of a period are sums in the database instead of every case loaded and judged. Rows
stored before have none (``received_on`` NULL): the measures derive theirs when next asked.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FLAGS = ("m_closed", "m_on_time", "m_accepted", "m_reviewed")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("received_on", sa.String(10)))
        batch.add_column(sa.Column("repeat_of", sa.String(64)))
        for name in _FLAGS:
            batch.add_column(sa.Column(name, sa.Boolean()))
        batch.add_column(sa.Column("m_class", sa.String(16)))
        batch.add_column(sa.Column("m_rating", sa.String(16)))
        batch.create_index("ix_cases_received_on", ["received_on"])
        batch.create_index("ix_cases_repeat_of", ["repeat_of"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_repeat_of")
        batch.drop_index("ix_cases_received_on")
        for name in ("m_rating", "m_class", *_FLAGS, "repeat_of", "received_on"):
            batch.drop_column(name)
