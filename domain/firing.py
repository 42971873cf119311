"""Firing the rungs of a case's ladders: reminders, warnings, breaches, escalations and a
window's lapse, each at most once, to the first person up the chain who may receive it.

A layer of the case aggregate (see ``case_state.py``). The sweeper computes ``schedule``
once, fires the due rungs with ``fire``, and stores ``remaining`` as the new schedule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pendulum

from domain.case_state import CaseRules
from domain.clockbook import ClockBook
from domain.deadlines import Closing, DeadlineState, DeadlineView, evaluate
from domain.errors import RuleViolation
from domain.escalation import DueRung, pending_rungs, resolve
from domain.events import EventType
from domain.instants import as_utc, format_duration
from domain.outcomes import Rating
from domain.policy import DeadlineKind, Role, Rung, RungLevel
from domain.stages import Action, Stage

K = DeadlineKind
RETRY_FIRST, RETRY_MOST = dt.timedelta(minutes=5), dt.timedelta(hours=6)
_LEVEL_EVENT = {RungLevel.REMINDER: EventType.DEADLINE_REMINDER,
                RungLevel.WARNING: EventType.DEADLINE_WARNING,
                RungLevel.BREACH: EventType.DEADLINE_BREACHED,
                RungLevel.ESCALATION: EventType.ESCALATED}


@dataclasses.dataclass(frozen=True)
class Replan:
    """A case's deadlines read again (``RungFiring.replan``): whether a known due date
    changed (recorded as ``DueDateRevised``), the rungs still to fire, the next due."""

    revised: bool
    schedule: list[DueRung]
    next_due: dt.datetime | None


def _soonest_due(views: Iterable[DeadlineView]) -> dt.datetime | None:
    """The soonest due instant of a duty still running (overdue ones included)."""
    return min((v.due_at for v in views if v.closed_at is None and not v.kind.is_window
                and v.state in (DeadlineState.PENDING, DeadlineState.BREACHED)),
               default=None)


class RungFiring(ClockBook):
    def schedule(self, rules: CaseRules, now: dt.datetime) -> list[DueRung]:
        """Every rung not yet fired on a running (not paused) clock, soonest first; a rung
        that failed to fire waits until its retry."""
        return self._schedule(self.deadlines(rules, now), rules)

    def replan(self, rules: CaseRules, now: dt.datetime, *, actor: str) -> Replan:
        """``revise_due_dates``, ``schedule`` and ``next_due`` at ``now`` from one reading
        of the deadlines (rescheduling every open case after a configuration change)."""
        views = self.deadlines(rules, now)
        revised = self._revise_due_dates(views, now, actor)
        return Replan(revised, self._schedule(views, rules), _soonest_due(views))

    def _schedule(self, views: list[DeadlineView], rules: CaseRules) -> list[DueRung]:
        pending = pending_rungs(views, rules.policy, self.fired, rules.key_periods)
        if not self.rung_failures:
            return pending
        delayed = [dataclasses.replace(d, fire_at=max(
            d.fire_at, pendulum.instance(self.rung_failures[f"{d.clock}/{d.name}"][1])))
            if f"{d.clock}/{d.name}" in self.rung_failures else d for d in pending]
        return sorted(delayed, key=lambda d: (d.fire_at, d.clock, d.name))

    def rung_failed(self, clock: str, name: str, *, reason: str, actor: str,
                    now: dt.datetime) -> pendulum.DateTime:
        """Record that a due rung could not fire (nobody may receive it, a configuration
        error...), with the reason, and when it is tried again: 5 minutes, then doubling,
        at most 6 hours. Returns that instant."""
        key = f"{clock}/{name}"
        attempt = self.rung_failures.get(key, (0, now))[0] + 1
        retry_at: pendulum.DateTime = as_utc(now).add(
            seconds=min(RETRY_FIRST * 2 ** min(attempt - 1, 16), RETRY_MOST).total_seconds())
        self.rung_failures[key] = (attempt, retry_at)
        self._record(self._stage, EventType.RUNG_FAILED, actor, now, clock=clock, rung=name,
                     reason=reason[:500], attempt=attempt, retry_at=retry_at.isoformat())
        return retry_at

    def due_rungs(self, rules: CaseRules, now: dt.datetime) -> list[DueRung]:
        """The rungs whose time has come at ``now``."""
        return [d for d in self.schedule(rules, now) if d.fire_at <= as_utc(now)]

    def next_firing_at(self, rules: CaseRules, now: dt.datetime) -> pendulum.DateTime | None:
        """When the next rung fires (what storage indexes), or None."""
        pending = self.schedule(rules, now)
        return pending[0].fire_at if pending else None

    def fire_rung(self, clock: str, name: str, *, actor: str, now: dt.datetime,
                  rules: CaseRules, schedule: Iterable[DueRung] | None = None) -> None:
        """Fire one due rung, at most once: record who was told, and every role skipped.
        ``schedule`` is the case's ``schedule`` at ``now`` taken before this sweep changed
        it (a sweep derives it once per case, not once per rung)."""
        target = self._target(Action.FIRE_RUNG)
        pending = self.schedule(rules, now) if schedule is None else schedule
        due = next((d for d in pending
                    if d.clock == clock and d.name == name and (clock, name) not in self.fired),
                   None)
        if due is None:
            fired = (clock, name) in self.fired
            raise RuleViolation(self.ref, f"rung '{name}' of '{clock}' "
                                + ("has already fired" if fired else "is not pending"))
        if due.fire_at > as_utc(now):
            raise RuleViolation(self.ref, f"rung '{name}' of '{clock}' is not due until "
                                f"{due.fire_at.isoformat()}")
        view = evaluate(self.clocks[clock], self.ledger, rules.policy, rules.calendar, now)
        if due.rung is None:
            self._lapse(view, actor, now)
        else:
            self._escalate(due.rung, view, actor, now, rules, target, due.key_period)
        self.fired.add((clock, name))

    def imported(self, *, file: str, row: int, stage_reached: str, actor: str,
                 now: dt.datetime, rules: CaseRules) -> None:
        """Record that this case came from row ``row`` of the ledger ``file`` (台账导入),
        replayed up to where it stands. Its reminders, warnings, breaches and escalations
        due before ``now`` are marked fired, unsent: a ledger's long-past deadlines tell
        nobody anything (a case still open and overdue shows overdue all the same). A clock
        already breached at ``now`` has its whole ladder marked so, the escalations still
        to come included: that breach was the old ledger's business, and nothing about it
        is sent later. A clock not yet breached keeps its rungs to come. A window's lapse
        is left to fire: it moves the case on, telling no one."""
        pending = self.schedule(rules, now)
        breached = {c for c in {d.clock for d in pending if d.rung is not None}
                    if evaluate(self.clocks[c], self.ledger, rules.policy, rules.calendar,
                                now).due_at <= as_utc(now)}
        for due in pending:
            if due.rung is not None and (due.fire_at <= as_utc(now) or due.clock in breached):
                self.fired.add((due.clock, due.name))
        self._record(self._stage, EventType.IMPORTED, actor, now, file=file, row=row,
                     stage_reached=stage_reached)

    def next_due(self, rules: CaseRules, now: dt.datetime) -> dt.datetime | None:
        """The soonest due instant of a duty still running on a running clock (overdue
        ones included): what each person's queue is ordered by. None: nothing runs."""
        return _soonest_due(self.deadlines(rules, now))

    def remaining(self, schedule: Iterable[DueRung]) -> list[DueRung]:
        """``schedule`` (taken before firing) without the rungs fired since and those of
        clocks closed since: the schedule to store, equal to deriving it anew (firing moves
        no due date, opens no clock and pauses none)."""
        return [d for d in schedule
                if (d.clock, d.name) not in self.fired and self.clocks[d.clock].is_open]

    def _lapse(self, view: DeadlineView, actor: str, now: dt.datetime) -> None:
        self._close(view.kind, view.due_at, Closing.LAPSED)
        if view.kind is K.RATING:
            target = self._target(Action.EXPIRE_RATING)
            self.rating = Rating.EXPIRED_UNRATED
            self._record(target, EventType.RATING_EXPIRED, actor, now, clock=view.key,
                         ended=view.due_date.isoformat())
        else:
            self._record(self._stage, EventType.WINDOW_LAPSED, actor, now, clock=view.key,
                         kind=view.kind.value, ended=view.due_date.isoformat())

    def _escalate(self, rung: Rung, view: DeadlineView, actor: str, now: dt.datetime,
                  rules: CaseRules, target: Stage, key_period: str | None) -> None:
        person, reached, skips = resolve(rung.role, self.holders(), rules.org,
                                         lambda p: self._bar(rules.org, p))
        if reached in (Role.MINE_HEAD, Role.PARTY_SECRETARY):
            self.escalated_to.add(person)
        for skip in skips:
            self._record(target, EventType.ESCALATION_ROLE_UNRESOLVED, actor, now,
                         clock=view.key, rung=rung.name, role=skip.role.value,
                         reason=skip.reason, went_to=reached.value)
        overdue = as_utc(now) - view.due_at
        self._record(target, _LEVEL_EVENT[rung.level], actor, now, clock=view.key,
                     kind=view.kind.value, rung=rung.name, level=rung.level.value,
                     role=rung.role.value, reached_as=reached.value, recipient=person,
                     due=view.due_at.isoformat(), due_date=view.due_date.isoformat(),
                     overdue=format_duration(overdue) if overdue.total_seconds() > 0 else None,
                     holder=self.responder, leader=self.leader,
                     warnings=list(view.warnings), key_period=key_period)
