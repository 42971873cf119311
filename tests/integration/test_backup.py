"""Backups on SQLite and PostgreSQL (services/backup.py, services/restore.py): a home with
real cases, their events and an attached file, backed up and restored into a new empty home
whose cases, audit chains and files are the same; a wrong passphrase, a home not empty and a
damaged backup change nothing; a backup killed halfway leaves the previous one whole; the
daily backups keep the newest N."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.errors import ConfigError
from services import attachments as files
from services import cases as s
from services.backup import backup, daily, prune
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.restore import restore
from services.settings import Secret, Settings
from storage.audit import audit_key
from storage.db import make_engine
from storage.files import file_store
from storage.repository import SqlUnitOfWork
from tests.conftest import SAMPLE_OFFICE, WAGE, in_handling
from tests.integration.conftest import PG_ENV, fresh_database
from tests.samples import pdf

NOW = pendulum.datetime(2026, 11, 20, 3, 0)
WORD = "正确的口令 correct horse"


def _home(kind: str, request: pytest.FixtureRequest, tmp_path: Path, office
          ) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """A home with two cases (one in handling with a scanned letter) on ``kind``."""
    url = fresh_database(kind, request, tmp_path)
    settings = Settings(home=tmp_path / "home", config_dir=SAMPLE_OFFICE, database_url=url)
    engine = make_engine(url)
    app = sql_app(settings, office, FixedClock(NOW), engine)
    in_handling(app)
    files.attach(app, "XF-1", io.BytesIO(pdf()), name="来信.pdf", actor="qian.hui",
                 kind="letter_scan")
    s.register(app, {**WAGE, "petitioner": {**WAGE["petitioner"], "name": "李四"}},
               registration_no="XF-2", actor="qian.hui")
    audit_key(settings.home, {})  # the keys a served home has made by now
    (settings.home / "query-key").write_text("query-secret\n")
    yield settings
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path, office) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    yield from _home(request.param, request, tmp_path, office)


@pytest.fixture
def sqlite_home(request: pytest.FixtureRequest, tmp_path: Path, office) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """For what is the same on both databases (the archive, its folder, its refusals)."""
    yield from _home("sqlite", request, tmp_path, office)


def _empty_database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'petitions.db'}"
        return
    base = os.environ[PG_ENV]
    name = f"petitions_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty(home: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A new, empty home on a new, empty database of the same kind."""
    kind = "sqlite" if home.db_url.startswith("sqlite") else "postgresql"
    for url in _empty_database(kind, tmp_path / "new"):
        yield Settings(home=tmp_path / "new", database_url=url)


def _state(settings: Settings) -> tuple[list[str], list[tuple[object, ...]], list[str]]:
    """The cases (number and stage), every stored case and audit row, the files' hashes."""
    engine = make_engine(settings.db_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            cases = [uow.cases.get(ref, lock=False) for ref in ("XF-1", "XF-2")]
            shown = [f"{c.ref} {c.stage.value}" for c in cases]
            files_ = sorted(a.sha256 for a in uow.attachments.every())
        with engine.connect() as conn:
            rows = [tuple(r) for t in ("cases", "audit_events", "case_files")
                    for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
        return shown, rows, files_
    finally:
        engine.dispose()


def test_a_backup_restores_into_an_empty_home_with_the_same_cases_chains_and_files(
        home, empty, tmp_path):  # type: ignore[no-untyped-def]
    made = backup(home, tmp_path / "b.tar", NOW, WORD)
    assert made.keys_included and made.notes == []
    m = made.manifest
    assert m["counts"]["cases"] == 2 and m["counts"]["files"] == 1
    assert m["counts"]["keys"] == 2 and m["revision"]
    assert set(m["keys"]["names"]) == {"audit-key", "query-key"}
    assert not list(tmp_path.glob(".b.tar.*"))  # no temporary file left

    done = restore(empty, made.path, lambda: WORD)
    assert (done.files, done.keys) == (1, 2) and done.config >= 3
    assert _state(empty) == _state(home)
    assert (empty.home / "audit-key").read_text() == (home.home / "audit-key").read_text()
    assert (empty.home / "query-key").read_text().strip() == "query-secret"
    assert (empty.office_dir / "office.yaml").read_bytes() == \
        (SAMPLE_OFFICE / "office.yaml").read_bytes()
    engine = make_engine(empty.db_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            found = uow.audit_verify(audit_key(empty.home, {}), NOW, full=True)
            assert found.checked == 2 and found.breaks == []
            assert files.verify_files(uow, file_store(None, empty.home)) == \
                files.FilesCheck(1, [])
    finally:
        engine.dispose()


def test_a_wrong_passphrase_a_home_not_empty_and_a_damaged_backup_change_nothing(
        sqlite_home, tmp_path):  # type: ignore[no-untyped-def]
    home = sqlite_home
    made = backup(home, tmp_path / "b.tar", NOW, WORD)
    new = Settings(home=tmp_path / "new")
    with pytest.raises(ConfigError, match="wrong passphrase"):
        restore(new, made.path, lambda: "not it")
    with pytest.raises(ConfigError, match="give its passphrase"):
        restore(new, made.path, lambda: None)
    assert not list(new.home.rglob("*")) if new.home.exists() else True
    with pytest.raises(ConfigError, match="already has a database"):
        restore(Settings(home=home.home, database_url=home.db_url), made.path, lambda: WORD)

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(made.path) as src, tarfile.open(damaged, "w") as dst:
        for info in src:
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name.startswith("config/office"):
                data = data.replace(b"office", b"0ffice", 1)
            dst.addfile(info, io.BytesIO(data))
    asked = []
    with pytest.raises(ConfigError, match=r"damaged: config/office\.yaml does not match"):
        restore(new, damaged, lambda: asked.append(1) or WORD)  # type: ignore[func-returns-value]
    assert asked == []  # checked before the passphrase is asked
    assert not new.home.exists() or not list(new.home.rglob("*"))


def test_without_a_passphrase_the_daily_backup_leaves_the_keys_out_and_keeps_the_newest(
        sqlite_home, tmp_path):  # type: ignore[no-untyped-def]
    home = sqlite_home
    settings = Settings(home=home.home, config_dir=SAMPLE_OFFICE, database_url=home.db_url,
                        backup_keep=2)
    folder = home.home / "backups"
    folder.mkdir()
    stale, fresh = folder / ".petitions-backup-1.tar.x.part", folder / ".petitions-db-y"
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 86400, time.time() - 86400))
    fresh.mkdir()
    made = [daily(settings, NOW.add(days=d)) for d in range(3)]
    assert not stale.exists() and fresh.exists()  # a killed one's, not a running one's
    fresh.rmdir()
    assert not made[0].keys_included and "keys (audit-key, query-key) were left out" in \
        made[0].notes[0]
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["petitions-backup-20261121-110000.tar", "petitions-backup-20261122-110000.tar"]
    assert made[2].pruned == [folder / "petitions-backup-20261120-110000.tar"]
    with tarfile.open(made[2].path) as tar:
        assert not any("key" in n for n in tar.getnames())
        assert all(b"query-secret" not in tar.extractfile(i).read()  # type: ignore[union-attr]
                   for i in tar if i.isfile())
    sealed = daily(Settings(home=home.home, config_dir=SAMPLE_OFFICE, database_url=home.db_url,
                            backup_keep=2, backup_passphrase=Secret(WORD)), NOW.add(days=3))
    assert sealed.keys_included and sealed.notes == []
    assert prune(folder, 1) == [made[2].path]


def test_a_backup_killed_halfway_leaves_the_previous_one_whole(sqlite_home, tmp_path):  # type: ignore[no-untyped-def]
    home = sqlite_home
    out = tmp_path / "b.tar"
    first = backup(home, out, NOW, WORD)
    before = out.read_bytes()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")},
           "PETITIONS_HOME": str(home.home), "PETITIONS_CONFIG_DIR": str(SAMPLE_OFFICE),
           "PETITIONS_DATABASE_URL": home.db_url, "PETITIONS_BACKUP_PASSPHRASE": WORD,
           "PYTHONPATH": str(Path(__file__).parents[2])}
    # The point to kill it at, whatever the machine's speed: the database held exclusively,
    # so the backup waits inside its copy, its temporary archive begun beside OUT.
    lock = sqlite3.connect(make_url(home.db_url).database or "", isolation_level=None)
    lock.execute("PRAGMA locking_mode=EXCLUSIVE")
    lock.execute("BEGIN EXCLUSIVE")
    try:
        proc = subprocess.Popen([sys.executable, "-m", "cli.main", "backup", str(out)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".petitions-db-*")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the backup ended before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert list(tmp_path.glob(".b.tar.*.part"))  # the half-written one, beside it
    assert out.read_bytes() == before  # the previous backup, untouched...
    new = Settings(home=tmp_path / "new")
    done = restore(new, out, lambda: WORD)  # ...and it restores
    assert done.manifest == first.manifest
    assert _state(new)[0] == ["XF-1 handling", "XF-2 registered"]


def test_the_served_engine_takes_the_daily_backup_at_night_and_says_when_keys_are_left_out(
        sqlite_home, monkeypatch):  # type: ignore[no-untyped-def]
    from prefect.logging import disable_run_logger

    from flows import tasks
    from flows.backup import take_backup
    from flows.runner import deployments
    from services.health import health

    served = {d.name: d for d in deployments(sqlite_home, 60)}
    cron = served["daily-backup"].schedules[0].schedule
    assert (cron.cron, cron.timezone) == ("30 2 * * *", "Asia/Shanghai")  # type: ignore[union-attr]
    for name, value in {"HOME": sqlite_home.home, "CONFIG_DIR": SAMPLE_OFFICE,
                        "DATABASE_URL": sqlite_home.db_url, "BACKUP_KEEP": "3"}.items():
        monkeypatch.setenv(f"PETITIONS_{name}", str(value))
    monkeypatch.delenv("PETITIONS_BACKUP_PASSPHRASE", raising=False)
    tasks.app.cache_clear()
    try:
        with disable_run_logger():
            result = take_backup.fn()
        assert result["keys_included"] is False and "were left out" in result["notes"][0]
        assert Path(result["path"]).parent == sqlite_home.home / "backups"
        assert "LEFT OUT" in (health(tasks.app()).beats["daily-backup"][1] or "")
    finally:
        tasks.app.cache_clear()


def test_without_pg_dump_a_postgresql_backup_is_one_line_and_writes_nothing(
        tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from storage import dump

    monkeypatch.setattr(dump.shutil, "which", lambda _name: None)
    monkeypatch.setattr(dump, "PG_ROOT", tmp_path / "no-postgresql")
    settings = Settings(home=tmp_path / "home", config_dir=SAMPLE_OFFICE,
                        database_url="postgresql+psycopg://postgres@127.0.0.1:5432/none")
    with pytest.raises(ConfigError, match="pg_dump not found on PATH nor under"):
        backup(settings, tmp_path / "b.tar", NOW, WORD)
    assert [p.name for p in tmp_path.iterdir()] == []
