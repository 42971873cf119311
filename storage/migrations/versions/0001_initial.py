"""Cases, the hash-chained audit trail, and the rung schedule.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from storage.tables import JSONB, BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("registration_no", sa.String(64), nullable=False, unique=True),
        sa.Column("stage", sa.String(32), nullable=False, index=True),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), index=True),
        sa.Column("responder", sa.String(64), index=True),
        sa.Column("leader", sa.String(64), index=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("petitioner_identity", sa.String(160), nullable=False, index=True),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.Column("body", JSONB, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
    )
    op.create_table(
        "rung_schedule",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("clock", sa.String(64), nullable=False),
        sa.Column("rung", sa.String(64), nullable=False),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("claimed_by", sa.String(64)),
        sa.UniqueConstraint("case_id", "clock", "rung", name="uq_rung_once"),
    )
    op.create_index("ix_rung_due", "rung_schedule", ["fire_at"],
                    postgresql_where=sa.text("claimed_at IS NULL"),
                    sqlite_where=sa.text("claimed_at IS NULL"))
    op.create_index("ix_rung_case", "rung_schedule", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("rung_schedule")
    op.drop_table("audit_events")
    op.drop_table("cases")
