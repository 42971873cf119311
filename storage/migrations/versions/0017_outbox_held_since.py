"""When a provider first asked a message to wait (``outbox.held_since``): a robot's message
held too long goes by e-mail, any other counts its tries from a day on.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("held_since", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("held_since")
