"""Staff logins throttled per account across every connection (``login_throttle``): one
row per id tried, its consecutive wrong passwords, the next instant an attempt is judged,
and the lock after 100 in a row (NIST SP 800-63B §5.2.2).

Revision ID: 0024
Revises: 0022 (re-chained after 0023 at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_allowed_at", UTCDateTime(), nullable=False),
        sa.Column("locked_at", UTCDateTime()),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
