"""The mines' practices: journals (audit chains of what is not a case), daily zero
reports, information officers' signals.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journals",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False))
    op.create_index("ix_journals_kind", "journals", ["kind"])
    op.create_table(
        "zero_reports",
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("unit", "day", name="pk_zero_reports"))
    op.create_index("ix_zero_reports_day", "zero_reports", ["day"])
    op.create_table(
        "signals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("officer", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("detail", sa.String(4000), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("case_id", sa.String(64)))
    op.create_index("ix_signals_at", "signals", ["at"])


def downgrade() -> None:
    op.drop_table("signals")
    op.drop_table("zero_reports")
    op.drop_table("journals")
