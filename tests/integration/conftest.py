"""One storage suite, both databases: every test taking ``engine`` runs on SQLite and on
PostgreSQL (``PETITIONS_TEST_POSTGRES_URL``). Outside CI an unset URL skips the PostgreSQL
runs with a reason; in CI (``CI=true``) it fails them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from domain.case import Case, CaseRules
from storage.db import make_engine
from storage.migrate import upgrade
from storage.repository import SqlUnitOfWork

PG_ENV = "PETITIONS_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away database on the test server, dropped at the end of the session."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set in CI: the PostgreSQL half of the suite must run")
        pytest.skip(f"{PG_ENV} is not set; PostgreSQL storage tests skipped")
    name = f"petitions_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, migrated database of ``kind`` (sqlite, postgresql)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'petitions.db'}"
        upgrade(make_engine(url))
        return url
    url = str(request.getfixturevalue("pg_database"))
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database of each kind."""
    return fresh_database(request.param, request, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


class RulesUnitOfWork(SqlUnitOfWork):
    """The SQL unit of work as the storage tests drive it: ``commit()`` derives each
    changed case's rung schedule from ``rules``, as the use cases do (``services.cases``)."""

    def __init__(self, engine: Engine, rules: CaseRules) -> None:
        super().__init__(engine)
        self.rules = rules

    def commit(self, schedules=None) -> None:  # type: ignore[no-untyped-def]
        super().commit(schedules if schedules is not None else schedules_of(self, self.rules))


def schedules_of(uow, rules: CaseRules):  # type: ignore[no-untyped-def]
    """Each changed case's pending rungs, derived at its latest event."""
    return {c.id: c.schedule(rules, c.events[-1].at if c.events else c.registered_at)
            for c in uow.cases.changed()}


@pytest.fixture
def uow_factory(engine: Engine, rules: CaseRules):  # type: ignore[no-untyped-def]
    def make() -> RulesUnitOfWork:
        return RulesUnitOfWork(engine, rules)
    return make


def saved(uow_factory, case: Case) -> Case:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        uow.cases.add(case)
        uow.commit()
    return case


@pytest.fixture
def app(office, engine, tmp_path):  # type: ignore[no-untyped-def]
    """The app on each database, with a fixed clock (Friday 2026-11-20 11:00 local)."""
    import pendulum

    from services.bootstrap import sql_app
    from services.clock import FixedClock
    from services.settings import Settings
    from tests.conftest import SAMPLE_OFFICE

    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE)
    return sql_app(settings, office, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
