"""The files attached to cases (``case_files``, ``domain.attachments``): one row per file
of a case (its bytes in the file store, named by their SHA-256), unique per case and
content, never deleted (a withdrawn file keeps its row).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_by", sa.String(64)),
        sa.Column("withdrawn_at", UTCDateTime()),
        sa.Column("withdraw_reason", sa.Text()),
        sa.UniqueConstraint("case_id", "sha256", name="uq_case_files_case_sha256"),
        sa.UniqueConstraint("case_id", "n", name="uq_case_files_case_n"),
    )
    op.create_index("ix_case_files_sha256", "case_files", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_case_files_sha256", "case_files")
    op.drop_table("case_files")
