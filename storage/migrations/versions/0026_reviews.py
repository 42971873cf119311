"""The quarterly risk review (``review_meetings``) and its measures (``review_measures``):
who chaired and attended, the issues studied, each measure's owner, due date and when it
was done (``domain.review``).

Revision ID: 0026
Revises: 0025 (re-chained at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import JSONB, UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_meetings",
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("quarter", sa.String(8), nullable=False),
        sa.Column("chair", sa.String(64), nullable=False),
        sa.Column("attendees", JSONB(), nullable=False),
        sa.Column("held_on", sa.String(10), nullable=False),
        sa.Column("issues", JSONB(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "review_measures",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("quarter", sa.String(8), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("due", sa.String(10), nullable=False),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("done_by", sa.String(64)),
        sa.Column("note", sa.String(2000), nullable=False),
    )
    op.create_index("ix_review_measures_subject", "review_measures", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_review_measures_subject", "review_measures")
    op.drop_table("review_measures")
    op.drop_table("review_meetings")
