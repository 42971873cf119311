"""Whether a database's schema is the code's newest, answered with one query: the commands
that write on the embedded default bring the schema up to date first, and Alembic (half a
second to load) is loaded only when it is behind."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

VERSIONS = Path(__file__).resolve().parent / "migrations" / "versions"


def head() -> str:
    """The newest revision. Migrations are linear, each file ``NNNN_name.py`` holding
    revision ``NNNN`` (a test holds this against Alembic's own reading)."""
    return max(p.name.split("_", 1)[0] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before its first migration."""
    try:
        with engine.connect() as conn:
            value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):  # no such table yet
        return None
    return str(value) if value is not None else None


def upgrade_if_behind(engine: Engine) -> bool:
    """Upgrade the schema when it is not the newest; whether it did."""
    if stored_revision(engine) == head():
        return False
    from storage.migrate import upgrade  # Alembic, only when there is work for it

    upgrade(engine)
    return True
