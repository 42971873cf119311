"""The deadline sweep: every due reminder, warning, breach, escalation and lapse fired once,
from the database; and the open cases' rungs derived anew when the configuration changed."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from domain.case import Case
from domain.deadlines import standing
from domain.escalation import DueRung
from domain.instants import format_local
from services.alerts import raise_alarm
from services.bootstrap import App
from services.cases import commit, queue_events
from storage.chain import Break
from storage.ports import UnitOfWork


@dataclass(frozen=True)
class Fired:
    """One rung fired by the sweeper, for the Prefect event and the logs."""

    case_id: str
    ref: str
    clock: str
    rung: str
    event: str
    recipient: str | None
    stage: str


@dataclass(frozen=True)
class Failed:
    """A due rung that could not fire: why, when it is tried again, who was alarmed."""

    case_id: str
    ref: str
    clock: str
    rung: str
    reason: str
    retry_at: dt.datetime
    alarmed: str | None


@dataclass(frozen=True)
class Swept:
    fired: list[Fired]
    failed: list[Failed]


def sweep(app: App, *, sweeper: str, limit: int = 500) -> Swept:
    """Claim the due rungs and fire each exactly once, with its audit events and queued
    messages. Each case fires in a savepoint of its own, and each case's schedule is derived
    once: what is due is read from it, and what remains after firing is stored. A rung that
    cannot fire (nobody may receive it, a configuration error, anything raised) holds back
    no other: its case's savepoint is undone, the others of the case fire without it, and
    the failure is an audit event with the reason, an alarm to the office, and a retry with
    backoff. A claimed rung that is no longer pending (the case moved on) is dropped."""
    now = app.clock.now()
    fired: list[Fired] = []
    failed: list[Failed] = []
    with app.uow() as uow:
        uow.one_sweep_at_a_time()  # two sweepers at once deadlocked without it (200 cases)
        by_case: dict[str, set[tuple[str, str]]] = {}
        for rung in uow.claim_due(now, sweeper, limit):
            by_case.setdefault(rung.case_id, set()).add((rung.clock, rung.rung))
        schedules = {}
        for case_id, claimed in by_case.items():
            bad: dict[tuple[str, str], Exception] = {}
            while True:
                try:
                    with uow.savepoint():
                        case, schedule, done = _fire(app, uow, case_id, claimed - set(bad),
                                                     sweeper, now)
                    break
                except _RungError as e:
                    uow.cases.forget(case_id)
                    bad[e.rung] = e.cause
            fired += done
            if bad:  # the failed rungs wait for their retry: derive the schedule anew
                failed += _failed(app, uow, case, bad, sweeper, now)
                schedules[case.id] = case.schedule(app.rules_for(case), now)
            else:
                schedules[case.id] = case.remaining(schedule)
        commit(app, uow, now, schedules)
    return Swept(fired, failed)


class _RungError(Exception):
    def __init__(self, rung: tuple[str, str], cause: Exception) -> None:
        super().__init__(f"{rung}: {cause}")
        self.rung, self.cause = rung, cause


def _fire(app: App, uow: UnitOfWork, case_id: str, claimed: set[tuple[str, str]],
          sweeper: str, now: dt.datetime) -> tuple[Case, list[DueRung], list[Fired]]:
    """Fire the claimed due rungs of one case (its messages queued); a failure names the
    rung it came from."""
    case = uow.cases.get(case_id)
    rules = app.rules_for(case)
    schedule = case.schedule(rules, now)
    done: list[Fired] = []
    for due in schedule:
        if due.fire_at > now or (due.clock, due.name) not in claimed:
            continue
        before = len(case.events)
        try:
            case.fire_rung(due.clock, due.name, actor=sweeper, now=now, rules=rules,
                           schedule=schedule)
            queue_events(app, uow, [_only(case, before)])
        except Exception as e:  # anything a rung raises is that rung's failure
            raise _RungError((due.clock, due.name), e) from e
        done += [Fired(case.id, case.ref, due.clock, due.name, e.type.value,
                       e.data.get("recipient"), e.stage) for e in case.events[before:]]
    return case, schedule, done


def _only(case: Case, since: int) -> Case:
    """The case with only the events recorded since ``since`` pending (for planning their
    messages alone)."""
    view = copy.copy(case)
    view.events = case.events[since:]
    return view


def _failed(app: App, uow: UnitOfWork, case: Case, bad: dict[tuple[str, str], Exception],
            sweeper: str, now: dt.datetime) -> list[Failed]:
    """Record each rung that could not fire on ``case``, schedule its retry and alarm."""
    out = []
    for (clock, rung), cause in sorted(bad.items()):
        reason = f"{type(cause).__name__}: {cause}"
        retry_at = case.rung_failed(clock, rung, reason=reason, actor=sweeper, now=now)
        uow.unclaim(case.id, clock, rung)
        attempt = case.rung_failures[f"{clock}/{rung}"][0]
        told = None
        if attempt == 1 or attempt % 5 == 0:  # at once, then again while it keeps failing
            # The alarm says what failed, not who is accused: the reason is in the audit.
            told = raise_alarm(app, uow, case, "rung_failed", f"{clock}/{rung}/{attempt}",
                               now, clock=clock, rung=rung, reason=type(cause).__name__,
                               retry_at=format_local(retry_at))
        out.append(Failed(case.id, case.ref, clock, rung, reason, retry_at, told))
    return out


CALENDAR_ACTOR = "calendar"


def reschedule_open(app: App) -> int:
    """Derive every open case's pending rungs anew (after the key periods or a policy's
    ladders changed in the configuration), and its due dates: a date that moved because
    the calendar changed (an office loaded a year's official schedule) is an audit event,
    and the people holding the case are told. It rewrites rung rows as a sweep does, so it
    takes the sweepers' turn. Returns how many cases were rescheduled."""
    now = app.clock.now()
    with app.uow() as uow:
        uow.one_sweep_at_a_time()
        ids = [c.id for c in uow.open_cases()]
        dues = {}
        for case_id in ids:
            case = uow.cases.get(case_id)
            if case.revise_due_dates(app.rules_for(case), now, actor=CALENDAR_ACTOR):
                uow.cases.touch(case.id)
            else:
                uow.reschedule(case.id, case.schedule(app.rules_for(case), now))
                dues[case.id] = case.next_due(app.rules_for(case), now)
        commit(app, uow, now, dues=dues)
    return len(ids)


@dataclass(frozen=True)
class DailyChecks:
    chains_checked: int
    breaks: list[Break]
    overdue_deadlines: int
    dead_letters: int
    rescheduled: int


def daily_checks(app: App) -> DailyChecks:
    """Every morning: the audit chains, the overdue deadlines, the dead letters; the open
    cases rescheduled (key periods or ladders may have changed in the configuration)."""
    rescheduled = reschedule_open(app)
    now = app.clock.now()
    with app.uow() as uow:
        checked, breaks = uow.audit_check()
        overdue = sum(len(standing(c.deadlines(app.rules_for(c), now)).overdue)
                      for c in uow.find_cases(due_before=now))
        dead = uow.outbox_counts().get("dead", 0)
    return DailyChecks(checked, breaks, overdue, dead, rescheduled)

