"""Search (检索): ``case_search``, one row per case with what is searched of it, filled here
for the cases stored before and kept by every commit after (``storage/search.py``). Its
text indexed by trigrams: on SQLite an FTS5 table (``tokenize='trigram'``) over it, kept by
triggers; on PostgreSQL the ``pg_trgm`` extension and GIN indexes. Number, name, phone and
ID number by their own indexes (binary order on SQLite, collation "C" on PostgreSQL: a
prefix is a range of them).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from domain.search_terms import searchable

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

FIELDS = ("office", "category", "unit", "holders", "reg", "name", "phone", "id_number",
          "words", "grams")
BATCH = 2000


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"

    def key(length: int) -> sa.Text:
        # Text, not a bounded string: NFKC can make one character of a name fifteen
        # (U+FDFA), and a registration that passed its own limits must not fail here.
        return sa.Text(collation="C") if postgres else sa.Text()

    op.create_table(
        "case_search",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(64), nullable=False, unique=True),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64)),
        sa.Column("holders", sa.Text(), nullable=False),
        sa.Column("reg", key(64), nullable=False),
        sa.Column("name", key(160), nullable=False),
        sa.Column("phone", key(64), nullable=False),
        sa.Column("id_number", key(64), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("grams", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(40), nullable=False),
    )
    _fill(conn, postgres)
    for column in ("reg", "name", "phone", "id_number", "office"):
        op.create_index(f"ix_case_search_{column}", "case_search", [column])
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in ("words", "grams"):
            op.execute(f"CREATE INDEX ix_case_search_{column} ON case_search "
                       f"USING gin ({column} gin_trgm_ops)")
        op.execute("ANALYZE case_search")
        return
    op.execute("CREATE VIRTUAL TABLE case_search_fts USING fts5(words, grams, "
               "tokenize='trigram', content='case_search', content_rowid='seq')")
    op.execute("INSERT INTO case_search_fts(case_search_fts) VALUES ('rebuild')")
    op.execute("CREATE TRIGGER case_search_ai AFTER INSERT ON case_search BEGIN "
               "INSERT INTO case_search_fts(rowid, words, grams) "
               "VALUES (new.seq, new.words, new.grams); END")
    op.execute("CREATE TRIGGER case_search_ad AFTER DELETE ON case_search BEGIN "
               "INSERT INTO case_search_fts(case_search_fts, rowid, words, grams) "
               "VALUES ('delete', old.seq, old.words, old.grams); END")
    op.execute("CREATE TRIGGER case_search_au AFTER UPDATE OF words, grams ON case_search "
               "BEGIN INSERT INTO case_search_fts(case_search_fts, rowid, words, grams) "
               "VALUES ('delete', old.seq, old.words, old.grams); "
               "INSERT INTO case_search_fts(rowid, words, grams) "
               "VALUES (new.seq, new.words, new.grams); END")


def _fill(conn: Any, postgres: bool) -> None:
    """A row for each stored case, in the order they were registered: what
    ``storage.search.row_of`` makes of a case, from the columns and JSON fields it reads
    (no case is decoded), the text made by the domain's ``searchable``."""
    cases = sa.table("cases", *(sa.column(k) for k in (
        "id", "registration_no", "office", "category", "unit", "responder", "leader",
        "registered_at", "body")))
    target = sa.table("case_search", *(sa.column(k) for k in (
        "case_id", *FIELDS, "digest")))

    def part(*path: str) -> Any:
        if postgres:
            return sa.literal_column("body #>> '{" + ",".join(path) + "}'")
        return sa.func.json_extract(cases.c.body, "$." + ".".join(path))

    query = sa.select(
        cases.c.id, cases.c.registration_no, cases.c.office, cases.c.category,
        cases.c.unit, cases.c.responder, cases.c.leader,
        part("petition", "petitioner", "name").label("name"),
        part("petition", "petitioner", "phone").label("phone"),
        part("petition", "petitioner", "id_number").label("id_number"),
        part("petition", "subject").label("subject"),
        part("petition", "content").label("content"),
        part("escalated_to").label("escalated")).order_by(cases.c.registered_at, cases.c.id)
    rows: list[dict[str, Any]] = []
    # streamed (a server-side cursor on PostgreSQL): 100,000 cases' content is not held
    for r in conn.execute(query.execution_options(yield_per=BATCH)):
        s = searchable(r.registration_no, r.name or "", r.phone, r.id_number,
                       r.subject or "", r.content or "")
        escalated = _names(r.escalated)
        held = [r.responder, r.leader, *escalated]
        row = {"case_id": r.id, "office": r.office, "category": r.category,
               "unit": r.unit, "holders": "|" + "|".join(h for h in held if h) + "|",
               "reg": s.reg, "name": s.name, "phone": s.phone, "id_number": s.id_number,
               "words": s.words, "grams": s.grams}
        row["digest"] = hashlib.sha1("\x00".join(str(row[k] or "") for k in FIELDS)
                                     .encode(), usedforsecurity=False).hexdigest()
        rows.append(row)
        if len(rows) >= BATCH:
            conn.execute(target.insert(), rows)
            rows = []
    if rows:
        conn.execute(target.insert(), rows)


def _names(value: Any) -> list[str]:
    """The escalated-to list as stored (JSON text of a list, or none)."""
    import json

    if not value:
        return []
    found = json.loads(value) if isinstance(value, str) else value
    return sorted(str(v) for v in found)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("case_search_ai", "case_search_ad", "case_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_search_fts")
    op.drop_table("case_search")
