"""The deadline sweep: every due reminder, warning, breach, escalation and lapse fired once,
from the database; and the open cases' rungs derived anew when the configuration changed."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.case import Case
from domain.deadlines import standing
from domain.escalation import DueRung
from domain.instants import format_local
from domain.stages import Stage
from services import login_gate
from services.alerts import raise_alarm
from services.bootstrap import App
from services.cases import commit, queue_events
from storage.chain import AuditCheck, Break
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
    reason: str  # with the cause's text: for our audit, never for Prefect's logs
    retry_at: dt.datetime
    alarmed: str | None

    @property
    def kind(self) -> str:
        """What failed, without its text (which may name a declared interest)."""
        return self.reason.split(":", 1)[0]


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
BATCH = 100  # cases per transaction (~0.25 s at ~2.5 ms a case): what a sweep or action may wait
SCHEDULES_MARK = "schedules-fingerprint"  # in HOME: what the last completed reschedule used


def reschedule_open(app: App, *, batch: int = BATCH,
                    stop: Callable[[], bool] | None = None) -> int:
    """Derive every open case's pending rungs anew (after the key periods or a policy's
    ladders changed in the configuration), and its due dates: a date that moved because
    the calendar changed (an office loaded a year's official schedule) is an audit event,
    and the people holding the case are told. ``batch`` cases at a time, each batch one
    transaction under the sweepers' lock (it rewrites rung rows as a sweep does), so that
    sweeps and actions go on in between; ``stop`` is asked before each batch. Returns how
    many cases were rescheduled."""
    return _reschedule(app, batch, stop)[0]


def _reschedule(app: App, batch: int, stop: Callable[[], bool] | None) -> tuple[int, bool]:
    """(cases rescheduled, whether every open case was)."""
    with app.uow() as uow:
        ids = uow.open_case_ids()
    done = 0
    for first in range(0, len(ids), batch):
        if stop is not None and stop():
            return done, False
        done += _reschedule_batch(app, ids[first:first + batch])
    return done, True


def _reschedule_batch(app: App, ids: Sequence[str]) -> int:
    """One batch: its cases read in one statement, each case's deadlines read once
    (``Case.replan``), its rungs and next due written for the batch at once; a case whose
    known due dates moved is written whole (its ``DueDateRevised`` events, its messages)."""
    now = app.clock.now()
    with app.uow() as uow:
        uow.one_sweep_at_a_time()
        schedules, dues = {}, {}
        for case in uow.cases.get_many(ids):
            if case.stage is Stage.CLOSED:  # closed since the batches were planned
                continue
            plan = case.replan(app.rules_for(case), now, actor=CALENDAR_ACTOR)
            schedules[case.id], dues[case.id] = plan.schedule, plan.next_due
            if plan.revised:
                uow.cases.touch(case.id)
        written = {c.id for c in uow.cases.changed()}  # commit writes their rungs
        uow.reschedule_many({k: v for k, v in schedules.items() if k not in written})
        commit(app, uow, now, {k: schedules[k] for k in written}, dues)
    return len(schedules)


def schedule_fingerprint(app: App) -> str:
    """A digest of what the open cases' rungs and due dates derive from: each office's
    policies (their limits and ladders), calendar (the package's schedules with the
    office's own ``calendar.yaml``), key periods, org chart and place in the tree, and the
    database the schedules are stored in. Stable across processes (sets are sorted)."""
    offices = [[o.id, o.parent, o.escalate_to, _canonical(o.policies),
                _canonical(o.calendar), _canonical(o.practices.key_periods),
                _canonical(o.org)]
               for o in sorted(app.offices.offices.values(), key=lambda o: o.id)]
    where = (app.engine.url.render_as_string(hide_password=True) if app.engine is not None
             else "memory")
    text = json.dumps([where, offices], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data, the same in every process."""
    if isinstance(value, enum.Enum):
        return _canonical(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__qualname__, {f.name: _canonical(getattr(value, f.name))
                                           for f in dataclasses.fields(value)}]
    if isinstance(value, Mapping):
        return sorted(([_canonical(k), _canonical(v)] for k, v in value.items()),
                      key=_sort_key)
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if hasattr(value, "__dict__"):  # a plain class (PolicyRegistry)
        return [type(value).__qualname__, _canonical(vars(value))]
    return repr(value)  # an object whose repr changes between processes: never unchanged


def _sort_key(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def reschedule_if_changed(app: App, *, batch: int = BATCH,
                          stop: Callable[[], bool] | None = None) -> int | None:
    """``reschedule_open`` unless what the schedules derive from
    (``schedule_fingerprint``) is what the last completed reschedule used: then None.
    The fingerprint is kept in ``HOME/schedules-fingerprint`` once every batch is done."""
    fingerprint = schedule_fingerprint(app)
    mark = app.settings.home / SCHEDULES_MARK
    if mark.exists() and mark.read_text().strip() == fingerprint:
        return None
    done, complete = _reschedule(app, batch, stop)
    if complete:
        _mark(app, fingerprint)
    return done


def _mark(app: App, fingerprint: str) -> None:
    mark = app.settings.home / SCHEDULES_MARK
    mark.parent.mkdir(parents=True, exist_ok=True)
    tmp = mark.with_name(f".{SCHEDULES_MARK}.{os.getpid()}.tmp")
    tmp.write_text(fingerprint + "\n")
    tmp.replace(mark)


@dataclass(frozen=True)
class DailyChecks:
    chains_checked: int
    breaks: list[Break]
    overdue_deadlines: int
    dead_letters: int
    rescheduled: int
    audit: AuditCheck | None = None  # how the chains were checked (rows read, checkpoints)
    forgotten_logins: int = 0  # idle login throttle rows dropped (``login_gate.forget_idle``)


def daily_checks(app: App, *, key: bytes | None = None) -> DailyChecks:
    """Every morning: the audit chains (the rows written since the last signed checkpoint,
    every row when it does not verify; a new checkpoint written), the overdue deadlines,
    the dead letters; the open cases rescheduled, in batches, if what their schedules
    derive from changed since the last complete reschedule (``reschedule_if_changed``: an
    office that loaded a year's official calendar, edited ladders or key periods).
    ``key``: the installation's audit key (default: ``PETITIONS_AUDIT_KEY``, else
    ``HOME/audit-key``)."""
    rescheduled = reschedule_if_changed(app) or 0
    key = key or app.audit_key
    now = app.clock.now()
    with app.uow() as uow:
        audit = uow.audit_verify(key, now)
        overdue = sum(len(standing(c.deadlines(app.rules_for(c), now)).overdue)
                      for c in uow.find_cases(due_before=now))
        dead = uow.outbox_counts().get("dead", 0)
        uow.commit()  # the checkpoint
    return DailyChecks(audit.checked, audit.breaks, overdue, dead, rescheduled, audit,
                       login_gate.forget_idle(app))
