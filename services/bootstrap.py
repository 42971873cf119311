"""The composition root: settings are read once, and adapters are built here, when called
(never at import)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from domain.case import Case, CaseRules
from domain.errors import ConfigError
from domain.offices import OfficeTree, escalating_above
from domain.org import Person
from services.clock import Clock, configured
from services.config import Installation, Office, load_installation
from services.package_cache import package_schedules
from services.settings import Settings
from storage.audit import audit_key
from storage.db import make_engine
from storage.file_port import FileStore
from storage.files import file_store
from storage.ports import UnitOfWork
from storage.repository import SqlUnitOfWork

# The key the petitioners' query codes derive from (``services/progress.py``).
QUERY_KEY_ENV = "PETITIONS_QUERY_KEY"


@dataclass
class App:
    """What every command, flow and page needs: the settings, the office it acts in, the
    clock and a way to open a unit of work. ``engine`` is the SQL store's (None on the
    in-memory one). ``installation``: every office of the tree (default: ``office`` alone);
    a case lives under its own office's rules, whichever office the app acts in."""

    settings: Settings
    office: Office
    clock: Clock
    uow: Callable[[], UnitOfWork]
    engine: Engine | None = None
    installation: Installation | None = None
    _rules: dict[tuple[str, str], CaseRules] = field(default_factory=dict)
    _files: FileStore | None = None

    @property
    def files(self) -> FileStore:
        """Where files are kept (``PETITIONS_FILES_URL``, else ``HOME/files``): built on
        first use, so a command that touches no file builds none."""
        if self._files is None:
            self._files = file_store(self.settings.files_url, self.settings.home)
        return self._files

    def __post_init__(self) -> None:
        if self.installation is None:
            self.installation = Installation.of(self.office)

    @property
    def offices(self) -> Installation:
        assert self.installation is not None
        return self.installation

    @property
    def tree(self) -> OfficeTree:
        return self.offices.tree

    @property
    def audit_key(self) -> bytes:
        """The installation's key for the audit checkpoints (``PETITIONS_AUDIT_KEY``, else
        ``HOME/audit-key``, made on first use): pages check the chains from the newest
        checkpoint it signed, daily-checks writes one."""
        return audit_key(self.settings.home, os.environ)

    def office_of(self, case: Case) -> Office:
        """The office ``case`` belongs to."""
        return self.offices.offices.get(case.office, self.office)

    def at(self, office_id: str) -> App:
        """This app acting in office ``office_id`` (same store, clock and settings)."""
        if office_id == self.office.id:
            return self
        return dataclasses.replace(self, office=self.offices.office(office_id))

    def for_person(self, person: str) -> App:
        """This app acting in the office ``person`` belongs to (theirs, not another's)."""
        home = self.tree.home(person)
        return self.at(home) if home is not None else self

    def person(self, pid: str | None) -> Person | None:
        """Anyone of the installation, by id (None for nobody)."""
        home = self.tree.home(pid or "")
        return self.tree.org(home).people[pid or ""] if home is not None else None

    @property
    def scope(self) -> list[str]:
        """The offices this app's reads cover: its own and those below it (empty: every
        case, in a single-office installation), for ``find_cases(offices=...)``."""
        if len(self.offices.offices) == 1 or self.office.id == self.tree.root:
            return []  # every office: no condition (the root's subtree is all of them)
        return self.tree.subtree(self.office.id)

    def in_scope(self, cases: Iterable[Case]) -> list[Case]:
        """The cases of the office this app acts in and of the offices below it (all of
        them, in a single-office installation)."""
        if len(self.offices.offices) == 1:
            return list(cases)
        scope = set(self.tree.subtree(self.office.id))
        return [c for c in cases if c.office in scope]

    def rules_for(self, case: Case) -> CaseRules:
        """The rules a case lives under: its office's, with the policy it was registered
        with."""
        office = self.office_of(case)
        rules = self._rules.get((office.id, case.policy_id))
        if rules is None:
            org = office.org
            if office.parent and office.escalate_to:  # past the top: the office above
                org = escalating_above(org, self.tree.org(office.parent), office.escalate_to)
            rules = CaseRules(office.policies.get(case.policy_id), office.calendar,
                              org, office.practices.key_periods)
            self._rules[(office.id, case.policy_id)] = rules
        return rules


def sql_app(settings: Settings, office: Office | Installation, clock: Clock,
            engine: Engine) -> App:
    """The app on an SQL database, acting in ``office`` (an installation: in the office
    ``PETITIONS_OFFICE`` names, else its root)."""
    if isinstance(office, Installation):
        return App(settings, office.office(settings.office), clock,
                   lambda: SqlUnitOfWork(engine), engine, office)
    return App(settings, office, clock, lambda: SqlUnitOfWork(engine), engine)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> App:
    """The app from the environment's settings: the office's configuration loaded, the
    database's engine made (not connected), the configured clock. The schema is brought up
    to date by ``services.schema.migrated`` where a command writes."""
    settings = settings or Settings.from_env()
    if not settings.db_url.startswith("sqlite") and not os.environ.get(QUERY_KEY_ENV):
        raise ConfigError(f"{QUERY_KEY_ENV} is not set: on PostgreSQL every web replica, "
                          "worker and command must derive the same query codes (one secret "
                          "for all of them, e.g. python -c 'import secrets; "
                          "print(secrets.token_hex(32))')", source=QUERY_KEY_ENV)
    office = load_installation(settings.office_dir, package_schedules(settings.cache_dir))
    clock = clock or configured(settings.home, settings.simulated_clock)
    return sql_app(settings, office, clock, make_engine(settings.db_url))
