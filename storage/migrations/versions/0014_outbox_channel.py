"""How each message went (``outbox.channel``: email, or a group robot's id), so that a
robot's rate limit (WeCom: 20 a minute) is kept by holding the next messages, counted from
what went through it in the last minute. Older rows went by e-mail.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(64)))
        batch.create_index("ix_outbox_channel_sent", ["channel", "sent_at"])
    outbox = sa.table("outbox", sa.column("channel", sa.String), sa.column("status", sa.String))
    op.get_bind().execute(sa.update(outbox).where(outbox.c.status == "sent")
                          .values(channel="email"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_channel_sent")
        batch.drop_column("channel")
