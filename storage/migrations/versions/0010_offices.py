"""Offices as a tree: every case belongs to one office of the installation. Cases stored
before belong to the one office of a single-office configuration, whose id is ``main``
(the id a single-office configuration always has).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("office", sa.String(64), nullable=False,
                                   server_default="main"))
        batch.create_index("ix_cases_office", ["office"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_office")
        batch.drop_column("office")
