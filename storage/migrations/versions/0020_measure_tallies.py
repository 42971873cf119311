"""Each office's measure counts by day and by month of receipt (``measure_tallies``), so
that a period's measures sum a few hundred rows instead of every case received in it;
filled here from the facts stored with the cases (rows without facts yet add theirs when
they are derived), and kept by every commit after (``storage/tallies.py``). And the open
cases in the order the lists read them (``ix_cases_open_due``: the soonest next due first,
with what the overdue counts group by), so that a page or the overdue counts read the open
cases instead of every case ever received. The accusations of a period, and the open ones,
by their accused marks, read from the index alone. And each audit checkpoint's body by its
SHA-256 (``audit_checkpoints.body_sha256``, written here for those kept), so that the pages
showing the last check verify its signature without reading the body.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

COUNTS = ("received", "closed", "on_time", "accepted_in_time", "first_closed",
          "first_resolved", "satisfied", "rated", "expired", "repeats", "class_resolved",
          "class_explained", "class_assisted")
OPEN = "stage != 'closed'"
ACCUSATION = "category = 'accusation'"


def _counts(c: Any, later: Any) -> list[Any]:
    """``domain.measures.tally`` over the stored facts, as SQL sums (as
    ``storage.tallies.count_columns`` gives it today, kept here as it was written)."""
    def flag(cond: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    closed = c.m_closed.is_(True)
    first = c.repeat_of.is_(None) & closed
    return [
        sa.func.count(), flag(closed), flag(closed & c.m_on_time.is_(True)),
        flag(c.m_accepted.is_(True)), flag(first),
        flag(first & c.m_reviewed.is_not(True) & ~sa.exists(
            sa.select(later.c.id).where(later.c.repeat_of == c.id))),
        flag(c.m_rating.in_(("satisfied", "basically"))),
        flag(c.m_rating.is_not(None) & (c.m_rating != "expired_unrated")),
        flag(c.m_rating == "expired_unrated"), flag(c.repeat_of.is_not(None)),
        *(flag(closed & (c.m_class == r)) for r in ("resolved", "explained", "assisted")),
    ]


def upgrade() -> None:
    op.create_table(
        "measure_tallies",
        sa.Column("grain", sa.String(1), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        *(sa.Column(k, sa.Integer(), nullable=False, server_default="0") for k in COUNTS),
        sa.PrimaryKeyConstraint("grain", "period", "office", name="pk_measure_tallies"),
    )
    cases = sa.table("cases", *(sa.column(k) for k in (
        "id", "office", "received_on", "repeat_of", "m_closed", "m_on_time", "m_accepted",
        "m_reviewed", "m_class", "m_rating")))
    later = cases.alias("later")
    c = cases.c
    tallies = sa.table("measure_tallies", *(sa.column(k) for k in (
        "grain", "period", "office", *COUNTS)))
    for grain, period in (("d", c.received_on), ("m", sa.func.substr(c.received_on, 1, 7))):
        op.get_bind().execute(tallies.insert().from_select(
            ["grain", "period", "office", *COUNTS],
            sa.select(sa.literal_column(f"'{grain}'"), period, c.office, *_counts(c, later))
            .where(c.received_on.is_not(None)).group_by(c.office, period)))
    op.create_index("ix_cases_open_due", "cases", [
        sa.text("(next_due_at IS NULL)"), "next_due_at", "registered_at", "id", "office",
        "unit", "leader"], postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index("ix_cases_accusations", "cases",
                    ["received_on", "accused_marks", "office", "id"],
                    postgresql_where=sa.text(ACCUSATION), sqlite_where=sa.text(ACCUSATION))
    both = f"{OPEN} AND {ACCUSATION}"
    op.create_index("ix_cases_open_accusations", "cases",
                    ["next_due_at", "accused_marks", "office", "id"],
                    postgresql_where=sa.text(both), sqlite_where=sa.text(both))
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(64)))
    checkpoints = sa.table("audit_checkpoints", sa.column("id"), sa.column("body"),
                           sa.column("body_sha256"))
    conn = op.get_bind()
    for row in conn.execute(sa.select(checkpoints.c.id, checkpoints.c.body)).all():
        conn.execute(sa.update(checkpoints).where(checkpoints.c.id == row.id).values(
            body_sha256=hashlib.sha256(bytes(row.body)).hexdigest()))


def downgrade() -> None:
    with op.batch_alter_table("audit_checkpoints") as batch:
        batch.drop_column("body_sha256")
    op.drop_index("ix_cases_open_accusations", "cases")
    op.drop_index("ix_cases_accusations", "cases")
    op.drop_index("ix_cases_open_due", "cases")
    op.drop_table("measure_tallies")
