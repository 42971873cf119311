"""The deadline sweep: every due reminder, warning, breach, escalation and lapse fired once,
from the database; and the open cases' rungs derived anew when the configuration changed."""

from __future__ import annotations

from dataclasses import dataclass

from domain.deadlines import standing
from services.bootstrap import App
from services.cases import commit
from storage.chain import Break


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


def sweep(app: App, *, sweeper: str, limit: int = 500) -> list[Fired]:
    """Claim the due rungs and fire each exactly once, in one transaction with its audit
    events and queued messages. Each case's schedule is derived once: what is due is read
    from it, and what remains after firing is stored. A claimed rung that is no longer
    pending (the case moved on since it was scheduled) is dropped."""
    now = app.clock.now()
    fired: list[Fired] = []
    with app.uow() as uow:
        uow.one_sweep_at_a_time()  # two sweepers at once deadlocked without it (200 cases)
        by_case: dict[str, set[tuple[str, str]]] = {}
        for rung in uow.claim_due(now, sweeper, limit):
            by_case.setdefault(rung.case_id, set()).add((rung.clock, rung.rung))
        schedules = {}
        for case_id, claimed in by_case.items():
            case = uow.cases.get(case_id)
            rules = app.rules_for(case)
            schedule = case.schedule(rules, now)
            for due in schedule:
                if due.fire_at > now or (due.clock, due.name) not in claimed:
                    continue
                before = len(case.events)
                case.fire_rung(due.clock, due.name, actor=sweeper, now=now, rules=rules,
                               schedule=schedule)
                fired += [Fired(case.id, case.ref, due.clock, due.name, e.type.value,
                                e.data.get("recipient"), e.stage)
                          for e in case.events[before:]]
            schedules[case.id] = case.remaining(schedule)
        commit(app, uow, now, schedules)
    return fired


def reschedule_open(app: App) -> int:
    """Derive every open case's pending rungs anew (after the key periods or a policy's
    ladders changed in the configuration). It rewrites rung rows as a sweep does, so it
    takes the sweepers' turn. Returns how many cases were rescheduled."""
    now = app.clock.now()
    with app.uow() as uow:
        uow.one_sweep_at_a_time()
        cases = uow.open_cases()
        for case in cases:
            uow.reschedule(case.id, case.schedule(app.rules_for(case), now))
        uow.commit()
    return len(cases)


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
                      for c in uow.open_cases())
        dead = uow.outbox_counts().get("dead", 0)
    return DailyChecks(checked, breaks, overdue, dead, rescheduled)

