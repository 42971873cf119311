"""The schema, as SQLAlchemy Core tables (typed columns; Alembic creates them).

- ``cases``: one row per case; scalar columns for what is queried, ``body`` (JSON) for the
  aggregate's value objects (petition, clocks, ledger, fired rungs...). ``version`` guards
  against lost updates.
- ``audit_events``: append-only, hash-chained per case (``seq``, ``prev_hash``, ``hash``).
- ``rung_schedule``: one row per escalation rung with its firing time, indexed on the
  unclaimed rows only, so finding what is due costs O(due), not O(open cases); a claimed row
  stays as the record that the rung fired (once: (case_id, clock, rung) is unique).

The migrations create the tables and indexes (the partial ones with their WHERE clause);
the ``Index`` objects here name them without dialect options, because declaring one
(``postgresql_where=...``) loads that dialect, which a command reading an SQLite home
should not pay for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC instants on every backend (SQLite keeps no zone: store naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None,
                           dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} given to a UTC column")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        instant: dt.datetime = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return pendulum.instance(instant).in_timezone("UTC")


class JSONB(TypeDecorator[Any]):
    """JSON documents: JSONB on PostgreSQL, JSON elsewhere. A decorator rather than
    ``with_variant(postgresql.JSONB())`` so that reading an SQLite home never loads the
    PostgreSQL dialect (a third of the CLI's start-up)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB as PgJSONB  # loaded with it

            return dialect.type_descriptor(PgJSONB())
        return dialect.type_descriptor(JSON())


BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", String(64), primary_key=True),
    Column("registration_no", String(64), nullable=False, unique=True),
    Column("stage", String(32), nullable=False, index=True),
    Column("policy_id", String(64), nullable=False),
    Column("unit", String(64), index=True),
    Column("responder", String(64), index=True),
    Column("leader", String(64), index=True),
    Column("category", String(16), nullable=False),
    Column("petitioner_identity", String(160), nullable=False, index=True),
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("version", Integer, nullable=False),
    # The head of the case's audit chain: a deleted last row shows as a short chain.
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
    Column("body", JSONB, nullable=False),
    # The soonest due instant of a running duty (``Case.next_due``), as the use cases gave
    # it at the case's last commit: each person's queue is ordered and paged by it.
    Column("next_due_at", UTCDateTime(), index=True),
    # The office of the installation's tree the case belongs to (migration 0010).
    Column("office", String(64), nullable=False, server_default="main", index=True),
    # The measures' facts (``domain.measures.Facts``) as of the last commit, so that a
    # period's measures are sums in the database (migration 0011); NULL received_on: not
    # derived yet (a case stored before), derived when the measures are next asked for.
    Column("received_on", String(10), index=True),  # local date of receipt, YYYY-MM-DD
    Column("repeat_of", String(64), index=True),
    Column("m_closed", Boolean),
    Column("m_on_time", Boolean),
    Column("m_accepted", Boolean),
    Column("m_reviewed", Boolean),
    Column("m_class", String(16)),
    Column("m_rating", String(16)),
    # An accusation's accused persons and unit and who recused themself, as
    # ``|p:…|u:…|r:…|`` (``codec.accused_marks``; "" for another petition, NULL for a row
    # stored before migration 0013): the measures find the few accusations that may be
    # hidden from their viewer by it, and the domain judges those (migration 0013).
    Column("accused_marks", Text),
)

# Each office's measure counts by day and by month of receipt (``storage/tallies.py``,
# migration 0020): ``domain.measures.tally`` of the facts above, kept at every commit, so
# that a period's measures sum its whole months and odd days instead of its cases.
measure_tallies = Table(
    "measure_tallies", metadata,
    Column("grain", String(1), nullable=False),  # d: a day, m: a month
    Column("period", String(10), nullable=False),  # YYYY-MM-DD or YYYY-MM (local)
    Column("office", String(64), nullable=False),
    *(Column(k, Integer, nullable=False, server_default="0") for k in (
        "received", "closed", "on_time", "accepted_in_time", "first_closed",
        "first_resolved", "satisfied", "rated", "expired", "repeats", "class_resolved",
        "class_explained", "class_assisted")),
    PrimaryKeyConstraint("grain", "period", "office", name="pk_measure_tallies"),
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(48), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_audit_case_seq"),
)

rung_schedule = Table(
    "rung_schedule", metadata,
    Column("case_id", String(64), nullable=False),
    Column("clock", String(64), nullable=False),
    Column("rung", String(64), nullable=False),
    Column("fire_at", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime()),
    Column("claimed_by", String(64)),
    # Keyed by firing time first: on SQLite (WITHOUT ROWID) the rows are stored in that
    # order, so the due ones share a few pages (migration 0002).
    PrimaryKeyConstraint("fire_at", "case_id", "clock", "rung", name="pk_rung_schedule"),
    UniqueConstraint("case_id", "clock", "rung", name="uq_rung_fires_once"),
    # Partial: WHERE claimed_at IS NULL (migration 0002 creates it so on both databases).
    Index("ix_rung_due", "fire_at"),
    Index("ix_rung_case", "case_id"),
    sqlite_with_rowid=False,
)

# A message is queued here in the same transaction as the change that causes it; a sender
# delivers it later. ``key`` (case, event, rung, recipient) makes queuing it twice a no-op.
outbox = Table(
    "outbox", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("case_id", String(64), nullable=False, index=True),
    Column("kind", String(48), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("urgent", Integer, nullable=False, default=0),
    Column("payload", JSONB, nullable=False),
    Column("queued_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", UTCDateTime()),
    Column("error", String(2000)),
    # queued → sending (claimed by one sender) → sent, or back to queued with a later
    # next_attempt_at (a retry, or held for quiet hours), or dead (a permanent failure).
    Column("next_attempt_at", UTCDateTime()),
    Column("claimed_at", UTCDateTime()),
    # Who holds the claim (a token per claim): only the holder sends and settles it.
    Column("claim_token", String(32)),
    Column("ref", String(500)),   # the provider's message id, or the .eml file
    Column("note", String(200)),  # e.g. held for quiet hours until ...
    # How it went: "email" (SendGrid or .eml), or a group robot's id (migration 0014).
    Column("channel", String(64)),
    # When a provider (a robot, the SMS service, SendGrid) first asked it to wait: a
    # message held too long is sent another way or counts its tries (migration 0017).
    Column("held_since", UTCDateTime()),
    # Partial: WHERE status = 'queued' (migration 0003), WHERE status IN ('queued',
    # 'sending') (migration 0005).
    Index("ix_outbox_queued", "queued_at"),
    Index("ix_outbox_due", "next_attempt_at"),
    Index("ix_outbox_channel_sent", "channel", "sent_at"),
)

# The Prefect flow run that walks each case through its stages (one per case).
# Each action applied, by its request id (the CLI's, or the form's wait): a request that
# arrives twice (the CLI commits it, then hands it to the run) is applied once.
applied_requests = Table(
    "applied_requests", metadata,
    Column("request_id", String(128), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("act", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("applied_at", UTCDateTime(), nullable=False),
)

lifecycle_runs = Table(
    "lifecycle_runs", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("flow_run_id", String(36), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    # The wait the run is suspended on (or about to be): a run resumed re-executes from the
    # top, and finds its answer again under this key even if the case's version moved on.
    Column("waits", Integer, nullable=False, server_default="0"),
    Column("wait_key", String(64)),
    Column("wait_stage", String(32)),
    Column("wait_open", Boolean, nullable=False, server_default=false()),
)

# The audit chain of what is not a case: a reception, a day's zero reports, a signal, a
# weekly digest. Its events are rows of ``audit_events`` whose ``case_id`` is the journal's
# subject (``reception:…``, ``zero-report:2026-11-10``, ``signal:…``, ``digest:2026-W46``),
# hash-chained like a case's; the head here shows a deleted last row.
journals = Table(
    "journals", metadata,
    Column("subject", String(64), primary_key=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
)

# 每日零报告: one row per unit and local day; a second report for the day is refused.
zero_reports = Table(
    "zero_reports", metadata,
    Column("unit", String(64), nullable=False),
    Column("day", String(10), nullable=False),  # local date, YYYY-MM-DD
    Column("reporter", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("items", Integer, nullable=False),
    Column("summary", String(2000), nullable=False),
    Column("late", Boolean, nullable=False),
    PrimaryKeyConstraint("unit", "day", name="pk_zero_reports"),
    Index("ix_zero_reports_day", "day"),
)

# 信访信息员's signals; ``case_id`` once promoted to a petition.
signals = Table(
    "signals", metadata,
    Column("id", String(64), primary_key=True),
    Column("officer", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("summary", String(500), nullable=False),
    Column("detail", String(4000), nullable=False),
    Column("risk", String(16), nullable=False),
    Column("case_id", String(64)),
)

# The web workplace's logins: a person's argon2 password hash and wrong-password count.
users = Table(
    "users", metadata,
    Column("person_id", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("last_failed_at", UTCDateTime()),
    # Raised by a logout or a new password: every session of an older one ends (0018).
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
)

# Staff logins' throttle, one row per id tried (known or not, so both are answered alike):
# the consecutive wrong passwords, the next instant an attempt is judged, and when 100 in a
# row locked it (0024; ``services/login_gate.py``).
login_throttle = Table(
    "login_throttle", metadata,
    Column("account", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_allowed_at", UTCDateTime(), nullable=False),
    Column("locked_at", UTCDateTime()),
)

# Other systems' API tokens (a 12345 hotline, an online-petition platform): each acts as a
# person; only the SHA-256 of the secret is kept; revoked ones stay as the record.
api_tokens = Table(
    "api_tokens", metadata,
    Column("name", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

# What a check of the audit chains found, signed with the installation's key, which the
# database does not hold (``storage/audit.py``): the highest audit row id it covered, how
# many chains, and in ``body`` (zlib-compressed JSON) each whole chain's head (seq, hash) and
# each broken chain's first break. The next check continues from the latest one whose
# signature holds; only the last few are kept.
audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),  # full, incremental
    Column("high_water", BigInteger, nullable=False),
    Column("chains", Integer, nullable=False),
    Column("broken", Integer, nullable=False),
    Column("rows_read", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("signature", String(64), nullable=False),
    # SHA-256 of ``body`` (hex; migration 0020), which the signature covers: the pages that
    # show the last check verify the signature without reading the body (4.5 MB at
    # 100,000 cases); whoever opens the body checks it against this first.
    Column("body_sha256", String(64)),
)

# Each look-up of a case's progress on the public page (办理进度查询), by the number asked
# for and by the client's address: failures in the last minutes are counted to slow
# guessing down (``services/progress.py``). Only the last day's are kept.
lookup_attempts = Table(
    "lookup_attempts", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(128), nullable=False),  # ref:<number>, ip:<address> or all
    Column("at", UTCDateTime(), nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_lookup_attempts_key_at", "key", "at"),
    Index("ix_lookup_attempts_at", "at"),  # migration 0016: the day-old ones dropped
)

# The engine's heartbeats (``services/health.py``): when each of its recurring jobs (the
# sweep, the send, the practices, the reconcile) last completed, in real (wall-clock) time,
# so that a health check and a watchdog that need no Prefect can tell when one stopped.
engine_beats = Table(
    "engine_beats", metadata,
    Column("name", String(40), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("detail", String(200), nullable=True),
)

# The files attached to cases (``domain.attachments``, migration 0021): one row per file of
# a case, its bytes in the file store under their SHA-256 (``storage/files.py``); never
# deleted: a withdrawn file keeps its row, with who withdrew it, when and why.
case_files = Table(
    "case_files", metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("n", Integer, nullable=False),  # the case's first file, second... (its order)
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("name", String(255), nullable=False),  # as given, made safe (display_name)
    Column("kind", String(20), nullable=False),
    Column("added_by", String(64), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("withdrawn_by", String(64)),
    Column("withdrawn_at", UTCDateTime()),
    Column("withdraw_reason", Text),
    UniqueConstraint("case_id", "sha256", name="uq_case_files_case_sha256"),
    UniqueConstraint("case_id", "n", name="uq_case_files_case_n"),
    Index("ix_case_files_sha256", "sha256"),
)

# What search (检索) reads of each case (``storage/search.py``, migration 0022), kept at
# every commit that changes it: the normalised number, name, phone and ID number (prefix
# look-ups), who holds it and where (the coarse sight filter before the domain judges each
# hit), and the text: ``words`` indexed by trigrams (SQLite: the FTS5 table
# ``case_search_fts``; PostgreSQL: pg_trgm GIN), ``grams`` its character pairs, likewise.
# ``seq`` orders hits, the latest indexed first, and pages them.
case_search = Table(
    "case_search", metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(64), nullable=False, unique=True),
    Column("office", String(64), nullable=False),
    Column("category", String(16), nullable=False),
    Column("unit", String(64)),
    Column("holders", Text, nullable=False),  # |responder|leader|escalated…|
    Column("reg", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("phone", Text, nullable=False),
    Column("id_number", Text, nullable=False),
    Column("words", Text, nullable=False),
    Column("grams", Text, nullable=False),
    Column("digest", String(40), nullable=False),  # of the above: unchanged rows are kept
)
