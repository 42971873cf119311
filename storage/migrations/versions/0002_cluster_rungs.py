"""rung_schedule keyed by firing time: due rungs sit next to each other on disk.

On SQLite the table becomes ``WITHOUT ROWID`` with the primary key (fire_at, case_id, clock,
rung), so its rows are stored in firing order and claiming the 1,000 due rungs touches a
handful of adjacent pages instead of one page per rung spread over the whole table. The
surrogate ``id`` goes; (case_id, clock, rung) stays unique. PostgreSQL gets the same key (its
heap has no order; the partial index ``ix_rung_due`` finds the due rows there).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = "case_id, clock, rung, fire_at, claimed_at, claimed_by"


def _indexes() -> None:
    op.create_index("ix_rung_due", "rung_schedule", ["fire_at"],
                    postgresql_where=sa.text("claimed_at IS NULL"),
                    sqlite_where=sa.text("claimed_at IS NULL"))
    op.create_index("ix_rung_case", "rung_schedule", ["case_id"])


def upgrade() -> None:
    op.drop_index("ix_rung_due", "rung_schedule")
    op.drop_index("ix_rung_case", "rung_schedule")
    op.rename_table("rung_schedule", "rung_schedule_0001")
    op.create_table(
        "rung_schedule",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("clock", sa.String(64), nullable=False),
        sa.Column("rung", sa.String(64), nullable=False),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("claimed_by", sa.String(64)),
        sa.PrimaryKeyConstraint("fire_at", "case_id", "clock", "rung", name="pk_rung_schedule"),
        sa.UniqueConstraint("case_id", "clock", "rung", name="uq_rung_fires_once"),
        sqlite_with_rowid=False,
    )
    op.execute(f"INSERT INTO rung_schedule ({COLUMNS}) "
               f"SELECT {COLUMNS} FROM rung_schedule_0001 ORDER BY fire_at")
    op.drop_table("rung_schedule_0001")
    _indexes()


def downgrade() -> None:
    op.drop_index("ix_rung_due", "rung_schedule")
    op.drop_index("ix_rung_case", "rung_schedule")
    op.rename_table("rung_schedule", "rung_schedule_0002")
    op.create_table(
        "rung_schedule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("clock", sa.String(64), nullable=False),
        sa.Column("rung", sa.String(64), nullable=False),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("claimed_by", sa.String(64)),
        sa.UniqueConstraint("case_id", "clock", "rung", name="uq_rung_once"),
    )
    op.execute(f"INSERT INTO rung_schedule ({COLUMNS}) "
               f"SELECT {COLUMNS} FROM rung_schedule_0002 ORDER BY fire_at")
    op.drop_table("rung_schedule_0002")
    _indexes()
