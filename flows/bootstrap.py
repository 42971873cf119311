"""The composition root: settings are read once and adapters are built here, when called."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from domain.case import Case, CaseRules
from flows.clock import Clock, FileClock, SystemClock
from flows.config import Office, Settings, load_office
from storage.db import make_engine
from storage.migrate import upgrade
from storage.repository import SqlUnitOfWork


@dataclass
class App:
    """What every command and flow needs: settings, the office, the database, the clock."""

    settings: Settings
    office: Office
    engine: Engine
    clock: Clock
    _rules: dict[str, CaseRules] = field(default_factory=dict)

    def rules_for(self, case: Case) -> CaseRules:
        """The rules a case lives under: the policy it was registered with."""
        rules = self._rules.get(case.policy_id)
        if rules is None:
            rules = CaseRules(self.office.policies.get(case.policy_id), self.office.calendar,
                              self.office.org, self.office.practices.key_periods)
            self._rules[case.policy_id] = rules
        return rules

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.rules_for)


def bootstrap(settings: Settings | None = None, *, migrate: bool = False,
              clock: Clock | None = None) -> App:
    """Build the app. ``migrate`` brings the database to the newest schema first (the
    embedded default does this on ``serve``/``intake``; production runs ``db upgrade``)."""
    settings = settings or Settings()
    office = load_office(settings.office_dir)
    engine = make_engine(settings.db_url)
    if migrate:
        upgrade(engine)
    if clock is None:
        clock = (FileClock(settings.home / "clock") if settings.simulated_clock
                 else SystemClock())
    return App(settings, office, engine, clock)
