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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'petitions.db'}"
        upgrade(make_engine(url))
        yield url
        return
    url = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine, rules: CaseRules):  # type: ignore[no-untyped-def]
    def make() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, lambda case: rules)
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

    from flows.bootstrap import App
    from flows.clock import FixedClock
    from flows.config import Settings
    from tests.conftest import SAMPLE_OFFICE

    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE)
    return App(settings, office, engine, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)))
