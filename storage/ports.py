"""The unit of work as the use cases see it, and the records it hands back.

Two implementations keep to it: ``repository.SqlUnitOfWork`` (SQLite, PostgreSQL) and
``memory.MemoryUnitOfWork`` (the in-memory fake the use-case tests run on). Storage stores
what it is given: the use case derives each changed case's rung schedule from the domain and
passes it to ``commit``; nothing here knows a policy or a calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self

from domain.accused import Exposure
from domain.case import Case
from domain.escalation import DueRung
from domain.events import DomainEvent
from domain.keypersons import KeyPerson
from domain.persons import PersonKeys
from domain.petition import Petitioner
from domain.routing import PriorCase
from domain.search_terms import Query, Scope
from domain.signals import Signal
from domain.zero_report import ZeroReport
from storage.access import AccessStore
from storage.chain import AuditCheck, AuditRow, Break
from storage.file_port import AttachmentStore
from storage.reviews import ReviewStore

# A message claimed by a sender is reclaimed after this long (the sender died).
STALE_CLAIM = dt.timedelta(minutes=10)
KEEP: object = object()  # a case's stored next due instant, left as it is


@dataclass(frozen=True)
class ClaimedRung:
    case_id: str
    clock: str
    rung: str
    fire_at: dt.datetime


@dataclass(frozen=True)
class Wait:
    """Where a case's lifecycle run waits: the n-th wait of the run, its key and stage."""

    n: int
    key: str | None
    stage: str | None
    open: bool


@dataclass(frozen=True)
class RunRow:
    """A case as the reconciler needs it: its stage, its lifecycle run and that run's
    wait (None: no run recorded)."""

    case_id: str
    ref: str
    stage: str
    run_id: str | None
    wait: Wait | None


@dataclass(frozen=True)
class OutboxRow:
    """One queued message and what became of it."""

    id: int
    key: str
    case_id: str
    kind: str
    recipient: str
    urgent: int
    payload: Mapping[str, Any]
    queued_at: dt.datetime
    status: str
    attempts: int
    sent_at: dt.datetime | None
    error: str | None
    next_attempt_at: dt.datetime | None
    claimed_at: dt.datetime | None
    ref: str | None
    note: str | None
    claim_token: str | None = None
    channel: str | None = None  # how it went: email, or a robot's id (migration 0014)
    held_since: dt.datetime | None = None  # a provider first asked it to wait (0017)


class SeenCases:
    """What both repositories keep per unit of work: each case loaded once (a second ``get``
    returns the same object, with its changes so far) and which ones commit must write."""

    def __init__(self) -> None:
        self.seen: dict[str, Case] = {}
        self._new: set[str] = set()
        self._touched: set[str] = set()

    def add(self, case: Case) -> None:
        self.seen[case.id] = case
        self._new.add(case.id)

    def changed(self) -> list[Case]:
        return [c for c in self.seen.values()
                if c.events or c.id in self._new or c.id in self._touched]

    def touch(self, case_id: str) -> None:
        """Write this loaded case at commit though it recorded no event (what it knows
        changed)."""
        self._touched.add(case_id)

    def _already(self, ref: str) -> Case | None:
        return next((c for c in self.seen.values() if ref in (c.id, c.registration_no)),
                    None)

    def _loaded(self, case: Case) -> Case:
        self.seen[case.id] = case
        return case

    def forget(self, case_id: str) -> None:
        """Drop a case loaded here (its changes were rolled back): the next ``get`` reads
        it afresh."""
        self.seen.pop(case_id, None)
        self._new.discard(case_id)
        self._touched.discard(case_id)


class CaseRepository(Protocol):
    def add(self, case: Case) -> None:
        """A new case, written at commit."""

    def get(self, ref: str, *, lock: bool = True) -> Case:
        """A case by id or registration number (``CaseNotFound`` otherwise); the same
        object for the rest of the unit of work."""

    def changed(self) -> list[Case]:
        """The cases of this unit of work that commit must write: new or with new events."""

    def forget(self, case_id: str) -> None:
        """Drop a case loaded here whose changes were rolled back."""

    def touch(self, case_id: str) -> None:
        """Write this loaded case at commit though it recorded no event."""

    def get_many(self, ids: Sequence[str], *, lock: bool = True) -> list[Case]:
        """The cases of ``ids`` that exist (by id), read at once; each the same object for
        the rest of the unit of work, as by ``get``."""

    def prior_cases(self, petitioner: Petitioner) -> list[PriorCase]:
        """Earlier cases of one petitioner, for repeat detection."""

    def workload(self, people: Sequence[str] | None = None) -> dict[str, int]:
        """Open cases held per first responder (of ``people``, if given)."""


class PracticeStore(Protocol):
    def append(self, subject: str, kind: str, events: Iterable[DomainEvent]) -> None: ...
    def events(self, subject: str) -> list[AuditRow]: ...
    def events_between(self, first: str, last: str, types: Iterable[str]) -> list[AuditRow]: ...
    def has_event(self, subject: str, type_: str, **data: str) -> bool: ...
    def zero_report(self, unit: str, day: dt.date) -> ZeroReport | None: ...

    def add_zero_report(self, r: ZeroReport) -> None:
        """Refused with ``RuleViolation`` when the unit reported that day already (also
        by a reporter who committed meanwhile)."""

    def zero_reports(self, first: dt.date, last: dt.date) -> list[ZeroReport]: ...
    def add_signal(self, s: Signal) -> None: ...
    def signal(self, signal_id: str, *, lock: bool = False) -> Signal | None: ...
    def signals(self, first: dt.datetime | None = None,
                last: dt.datetime | None = None) -> list[Signal]: ...
    def promote(self, signal_id: str, case_id: str) -> None: ...


class LookupStore(Protocol):
    """The public progress page's look-ups (``storage/lookups.py``)."""

    def gate(self) -> None:
        """Look-ups take turns until commit: a count and its record are one step."""

    def case_id(self, registration_no: str) -> str | None: ...
    def failures(self, keys: Sequence[str], since: dt.datetime) -> dict[str, int]:
        """Per key of ``keys``, how many look-ups under it failed since ``since``."""

    def times(self, key: str, since: dt.datetime) -> list[dt.datetime]:
        """When look-ups under ``key`` failed since ``since``, the earliest first."""

    def record(self, keys: Sequence[str], at: dt.datetime, ok: bool) -> None:
        """A look-up, under each of ``keys``; those older than a day are dropped."""


class BeatStore(Protocol):
    """The engine's heartbeats (``storage/beats.py``)."""

    def beat(self, name: str, at: dt.datetime, detail: str | None = None) -> None:
        """``name`` completed at ``at`` (wall-clock UTC); ``detail`` a short note."""

    def beats(self) -> dict[str, tuple[dt.datetime, str | None]]: ...


class KeyPersonStore(Protocol):
    def add(self, kp: KeyPerson) -> None: ...
    def save(self, kp: KeyPerson) -> None: ...
    def get(self, kp_id: str) -> KeyPerson: ...
    def of_offices(self, offices: list[str]) -> list[KeyPerson]: ...
    def listed_case_ids(self) -> list[str]: ...


class UnitOfWork(Protocol):
    """``with uow: ...; uow.commit(schedules)``. Leaving the block without commit rolls
    back."""

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def practices(self) -> PracticeStore: ...

    @property
    def access(self) -> AccessStore: ...

    @property
    def lookups(self) -> LookupStore: ...

    @property
    def beats(self) -> BeatStore: ...

    @property
    def attachments(self) -> AttachmentStore: ...

    @property
    def keypersons(self) -> KeyPersonStore: ...

    @property
    def reviews(self) -> ReviewStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self, schedules: Mapping[str, Sequence[DueRung]] | None = None,
               dues: Mapping[str, dt.datetime | None] | None = None) -> None:
        """Write every changed case with its new events and the pending rungs given for it
        in ``schedules`` (by case id; a changed case without one is a programming error),
        and the next due instant ``dues`` gives for a case (changed or not; a case not in
        it keeps the one it has), then commit."""

    def one_sweep_at_a_time(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[object]:
        """A part of the transaction that an exception undoes alone (the rest stays)."""

    def unclaim(self, case_id: str, clock: str, rung: str) -> None:
        """A claimed rung that did not fire: unclaimed, so it is scheduled again."""
    def claim_due(self, now: dt.datetime, sweeper: str, limit: int) -> list[ClaimedRung]: ...

    def reschedule(self, case_id: str, schedule: Sequence[DueRung]) -> None:
        """Replace the case's unclaimed rung rows by ``schedule`` (claimed rows stay: they
        record that a rung fired)."""

    def reschedule_many(self, schedules: Mapping[str, Sequence[DueRung]]) -> None:
        """``reschedule`` for each case of ``schedules``, in a few statements."""

    def queue(self, messages: list[dict[str, Any]]) -> int: ...
    def claim_messages(self, now: dt.datetime, limit: int, token: str,
                       stale: dt.timedelta = STALE_CLAIM, keys: Sequence[str] | None = None
                       ) -> list[OutboxRow]:
        """Claim due messages under ``token`` (and those whose claim went stale); with
        ``keys``, only those."""

    def renew_claim(self, message_id: int, token: str, now: dt.datetime) -> bool:
        """Renew the claim just before sending: whether ``token`` still holds it (False:
        another sender reclaimed it; it must not be sent here)."""

    def settle_message(self, message_id: int, token: str | None = None,
                       **values: Any) -> bool:
        """Record what became of a message, if ``token`` (when given) still holds it."""
    def messages(self, status: str | None = None, limit: int = 200) -> list[OutboxRow]: ...
    def has_message(self, key: str) -> bool: ...
    def sent_via(self, channel: str, since: dt.datetime) -> list[dt.datetime]:
        """When the messages sent through ``channel`` since ``since`` went, oldest first
        (a robot's rate limit)."""

    def outbox_counts(self) -> dict[str, int]: ...
    def applied(self, request_id: str) -> int | None: ...
    def record_request(self, request_id: str, case_id: str, act: str, version: int,
                       at: dt.datetime) -> None: ...
    def run_of(self, case_id: str) -> str | None: ...
    def record_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None: ...

    def replace_run(self, case_id: str, flow_run_id: str, at: dt.datetime) -> None:
        """The case's lifecycle run is now ``flow_run_id`` (a new one, the old one dead),
        with no wait yet."""

    def runs(self) -> dict[str, str]:
        """Every case's lifecycle run: case id → flow run id."""
    def wait_of(self, case_id: str) -> Wait | None: ...
    def open_wait(self, case_id: str, key: str, stage: str) -> None: ...
    def close_wait(self, case_id: str, key: str) -> None: ...
    def without_run(self, limit: int = 1000) -> list[str]: ...

    def run_rows(self, *, case_ids: Sequence[str] | None = None) -> list[RunRow]:
        """The cases ``case_ids`` (default: every open case), each with its lifecycle run
        and that run's wait, no case loaded."""

    def open_cases(self) -> list[Case]: ...

    def open_case_ids(self) -> list[str]:
        """The ids of every open case, oldest registration first (none loaded)."""

    def find_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                   stage: str | None = None, open_only: bool = True, by_due: bool = False,
                   limit: int | None = None, due_before: dt.datetime | None = None,
                   offset: int = 0, offices: Sequence[str] = (),
                   registered_from: dt.datetime | None = None) -> list[Case]:
        """Cases some of ``people`` respond to or own, or of ``units`` (either may be
        empty: no such condition; both empty: every case), in ``stage`` if given; oldest
        registration first, or ``by_due``: soonest next due first (none last). With
        ``due_before``: only those whose stored next due is before it (every case that
        may have an overdue deadline then; none runs when it is unknown)."""

    def count_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                    stage: str | None = None, open_only: bool = True,
                    offices: Sequence[str] = ()) -> int:
        """How many ``find_cases`` would find."""

    def search_cases(self, q: Query, scope: Scope, after: str | None, limit: int
                     ) -> list[Case]:
        """Up to ``limit`` cases ``q`` finds that ``scope``'s viewer may (coarsely) find,
        the latest first, after the case ``after`` (``storage/search.py``)."""

    def person_cases(self, keys: PersonKeys, scope: Scope | None, limit: int = 500
                     ) -> list[Case]:
        """The cases of the petitioner ``keys`` finds, the latest first (``scope``: only
        those its viewer may coarsely see the material of)."""

    def phone_cases(self, phone: str, limit: int = 200) -> list[Case]:
        """The cases whose petitioner gave the mobile ``phone`` (normalised), latest first."""

    # --- the measures' sums (``storage.rollup``) -----------------------------------------
    def measure_counts(self, start: dt.date, end: dt.date, unit: str | None = None,
                       offices: Sequence[str] = (), *, by_office: bool = False
                       ) -> dict[str, dict[str, int]]:
        """``domain.measures.tally``'s counts from the facts stored with the cases received
        in the period; by office, or in one entry ``""``."""

    def without_facts(self, limit: int = 1000) -> list[str]:
        """Ids of cases stored without their measures' facts."""

    def repeated_among(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` some petition repeats."""

    def received_span(self, offices: Sequence[str] = ()) -> tuple[str | None, str | None]:
        """The first and last local day (ISO) a petition was received on."""

    def accusations_received(self, start: dt.date, end: dt.date,
                             offices: Sequence[str] = (), exposed: Exposure | None = None
                             ) -> list[Case]:
        """The accusations received in the period; with ``exposed``, only those that may
        bar its person (``domain.accused.exposure``: it names one of its names or units, or
        the person recused themself), and those stored before that was recorded."""

    def received_page(self, start: dt.date, end: dt.date, unit: str | None,
                      offices: Sequence[str], limit: int, offset: int
                      ) -> tuple[list[Case], int]:
        """A page of the cases received in the period, the latest first, and how many."""

    def received_mix(self, start: dt.date, end: dt.date, unit: str | None = None,
                     offices: Sequence[str] = ()) -> list[tuple[str, str, str, int]]:
        """Petitions received in the period by (month ``YYYY-MM``, channel, category)."""

    def overdue_dues(self, now: dt.datetime, offices: Sequence[str] = ()
                     ) -> list[tuple[str, dt.datetime]]:
        """The open cases past their stored next due: (id, that due)."""
    def received_counts(self, start: dt.date, end: dt.date, offices: Sequence[str]
                        ) -> dict[tuple[str, str | None], int]:
        """How many petitions were received in the period, by (category, unit)."""

    def group_visits(self, start: dt.date, end: dt.date, unit: str,
                     offices: Sequence[str], least: int) -> list[Case]:
        """The petitions about ``unit`` received in the period by ``least`` or more."""

    def overdue_groups(self, now: dt.datetime, offices: Sequence[str] = ()
                       ) -> list[tuple[str, str | None, str | None, int, dt.datetime]]:
        """Open cases past their stored next due by (office, unit, leader): how many, and
        the earliest due."""

    def overdue_accusations(self, now: dt.datetime, offices: Sequence[str] = (),
                            exposed: Exposure | None = None) -> list[Case]:
        """The open accusations past their stored next due; with ``exposed``, only those
        that may bar its person (as ``accusations_received``)."""

    def messages_to(self, recipient: str, kinds: Sequence[str], limit: int = 50
                    ) -> list[OutboxRow]:
        """The newest messages of ``kinds`` queued for ``recipient``."""
    def all_cases(self) -> list[Case]: ...
    def history_of(self, case: Case) -> list[AuditRow]: ...
    def events_of(self, case_id: str) -> list[AuditRow]: ...

    def audit_check(self, key: bytes | None = None) -> tuple[int, list[Break]]:
        """Every case's and journal's chain checked: (chains, the first break of each).
        Every row is read; given the installation's audit key, only the rows since the
        newest checkpoint it signed (every row when none verifies). Writes nothing."""

    def audit_verify(self, key: bytes, at: dt.datetime, *, full: bool = False) -> AuditCheck:
        """Check the chains from the newest checkpoint ``key`` signed (every row when
        ``full``, or when there is none or it does not verify, saying why) and write what
        was found as a new checkpoint, signed with ``key`` and made ``at``; committed with
        the unit of work."""

    def audit_last(self, key: bytes) -> AuditCheck | None:
        """What the newest checkpoint's check found (``at`` it was made), if ``key`` signed
        it; None when there is none or it does not verify. Reads no audit row: for pages
        that show the last check."""
