"""The database copied out and back in, for backups (``services.backup``): SQLite through its
online backup API (a consistent copy while the engine writes: WAL readers never block a
writer), PostgreSQL through ``pg_dump -Fc`` and ``pg_restore`` (the server's own tools, found
on PATH or under /usr/lib/postgresql/*/bin).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from domain.errors import ConfigError
from storage.tables import audit_events, case_files, cases

# What the manifest counts (each table that a restore must bring back whole).
# Where Debian and Ubuntu put each PostgreSQL version's programs (not on PATH).
PG_ROOT = Path("/usr/lib/postgresql")
COUNTED = (cases.name, audit_events.name, case_files.name)


def kind_of(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise ConfigError(f"backups know SQLite and PostgreSQL, not {name}",
                          source="PETITIONS_DATABASE_URL")
    return name


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigError("an SQLite database in memory has no file to back up",
                          source="PETITIONS_DATABASE_URL")
    return Path(database)


@dataclass(frozen=True)
class Snapshot:
    """What a copy holds: the schema's Alembic revision and the rows of each counted table,
    read from the copy itself (SQLite) or in the snapshot pg_dump read (PostgreSQL)."""

    revision: str | None
    counts: dict[str, int]


def is_empty(engine: Engine) -> bool:
    """True when the database holds no table at all (a fresh SQLite file or schema)."""
    return not inspect(engine).get_table_names()


def _revision(execute: Callable[[str], Any]) -> str | None:
    try:
        return str(execute("SELECT version_num FROM alembic_version"))
    except (sqlite3.Error, SQLAlchemyError):
        return None


def _sqlite_snapshot(path: Path) -> Snapshot:
    conn = sqlite3.connect(path)
    try:
        def one(sql: str) -> Any:
            return conn.execute(sql).fetchone()[0]
        return Snapshot(_revision(one), {t: int(one(f"SELECT count(*) FROM {t}"))
                                         for t in COUNTED})
    finally:
        conn.close()


def copy_sqlite(url: str, dest: Path) -> Snapshot:
    """A consistent copy of the SQLite database of ``url`` into the new file ``dest``,
    through the online backup API, read-only on the source."""
    source = sqlite_path(url)
    if not source.exists():
        raise ConfigError(f"no database at {source}", source="PETITIONS_DATABASE_URL")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # every page in one step: one read snapshot, never restarted
    finally:
        dst.close()
        src.close()
    return _sqlite_snapshot(dest)


def tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(PG_ROOT.glob("*/bin"), reverse=True):
        if (folder / name).is_file():
            return str(folder / name)
    raise ConfigError(f"{name} not found on PATH nor under /usr/lib/postgresql/*/bin "
                      "(install the PostgreSQL client tools)", source=name)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq address of ``url`` without its password, and the environment carrying
    it (never on a command line another user's ``ps`` reads)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ConfigError(f"{what} failed: {last}", source=Path(args[0]).name)


def dump_postgres(url: str, dest: Path) -> Snapshot:
    """``pg_dump -Fc`` of the database of ``url`` into ``dest``: it reads the snapshot a
    transaction of ours exported, in which the counts are read too, so that they are the
    dump's own."""
    address, env = _libpq(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _run([tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", "-f", str(dest), "-d", address], env, "pg_dump")

            def one(sql: str) -> Any:
                return conn.execute(text(sql)).scalar_one()
            revision = _revision(one)
            found = Snapshot(revision, {t: int(one(f"SELECT count(*) FROM {t}"))
                                        for t in COUNTED})
            conn.rollback()
    finally:
        engine.dispose()
    return found


def restore_postgres(url: str, source: Path) -> None:
    """``pg_restore`` of ``source`` into the (empty) database of ``url``, in one
    transaction: a failure leaves it empty."""
    address, env = _libpq(url)
    _run([tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
          "--exit-on-error", "-d", address, str(source)], env, "pg_restore")


