"""The composition root: settings are read once, and adapters are built here, when called
(never at import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from domain.case import Case, CaseRules
from services.clock import Clock, configured
from services.config import Office, load_office
from services.package_cache import package_schedules
from services.settings import Settings
from storage.db import make_engine
from storage.ports import UnitOfWork
from storage.repository import SqlUnitOfWork


@dataclass
class App:
    """What every command, flow and page needs: the settings, the office, the clock and a
    way to open a unit of work. ``engine`` is the SQL store's (None on the in-memory one)."""

    settings: Settings
    office: Office
    clock: Clock
    uow: Callable[[], UnitOfWork]
    engine: Engine | None = None
    _rules: dict[str, CaseRules] = field(default_factory=dict)

    def rules_for(self, case: Case) -> CaseRules:
        """The rules a case lives under: the policy it was registered with."""
        rules = self._rules.get(case.policy_id)
        if rules is None:
            rules = CaseRules(self.office.policies.get(case.policy_id), self.office.calendar,
                              self.office.org, self.office.practices.key_periods)
            self._rules[case.policy_id] = rules
        return rules


def sql_app(settings: Settings, office: Office, clock: Clock, engine: Engine) -> App:
    """The app on an SQL database."""
    return App(settings, office, clock, lambda: SqlUnitOfWork(engine), engine)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> App:
    """The app from the environment's settings: the office's configuration loaded, the
    database's engine made (not connected), the configured clock. The schema is brought up
    to date by ``services.schema.migrated`` where a command writes."""
    settings = settings or Settings.from_env()
    office = load_office(settings.office_dir, package_schedules(settings.cache_dir))
    clock = clock or configured(settings.home, settings.simulated_clock)
    return sql_app(settings, office, clock, make_engine(settings.db_url))
