"""Each accusation's accused persons and unit and its recusals as a searchable column
(``cases.accused_marks``), so that the measures read only the accusations that may be hidden
from their viewer instead of every accusation of the period. Written for every existing
accusation here (another petition's is ""), and by every commit after.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.tables import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _marks(body: dict[str, Any]) -> str:
    """As ``storage.codec.accused_marks`` gives it today (kept here as it was written)."""
    petition = body["petition"]
    unit = petition.get("concerns_unit")
    marks = sorted({f"p:{a}" for a in petition.get("accused_persons") or []}
                   | ({f"u:{unit}"} if unit else set())
                   | {f"r:{r}" for r in body.get("recused") or {}})
    return "|" + "|".join(marks) + "|"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("accused_marks", sa.Text()))
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("category", sa.String),
                     sa.column("body", JSONB), sa.column("accused_marks", sa.Text))
    conn = op.get_bind()
    conn.execute(sa.update(cases).where(cases.c.category != "accusation")
                 .values(accused_marks=""))
    rows = conn.execute(sa.select(cases.c.id, cases.c.body)
                        .where(cases.c.category == "accusation")).all()
    for row in rows:
        conn.execute(sa.update(cases).where(cases.c.id == row.id)
                     .values(accused_marks=_marks(row.body)))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("accused_marks")
