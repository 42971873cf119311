"""Deadline clocks and their ledger: due dates are derived, never stored or overwritten.

A clock starts when its stage starts and stops when the duty is done (or the window used,
lapsed or cancelled). Pauses and extensions are ledger entries with reason, actor and
basis; ``evaluate`` derives the due instant and state from the clock, the ledger, the
policy's limit and the working-day calendar.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pendulum

from domain import labels
from domain.calendar import WorkingCalendar
from domain.instants import as_utc, end_of_local_day, format_duration, format_local, local_date
from domain.periods import Period, Unit
from domain.policy import DeadlineKind, DeadlinePolicy, Rung


class Closing(enum.Enum):
    DONE = "done"            # the duty was done / the window was used
    LAPSED = "lapsed"        # a window ended unused
    CANCELLED = "cancelled"  # the case moved on (e.g. review asked before rating)


class PauseReason(enum.Enum):
    HEARING = "hearing"                        # 听证 (第三十六条)
    AWAITING_MATERIALS = "awaiting_materials"  # 等待信访人补充材料
    APPRAISAL = "appraisal"                    # 鉴定、检测

    @property
    def label(self) -> str:
        return labels.PAUSE_REASONS[self.value]


class EntryKind(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"


@dataclass(frozen=True)
class LedgerEntry:
    """One pause, resume or extension of one clock, with who, why and on what basis."""

    kind: EntryKind
    clock: str
    at: dt.datetime
    actor: str
    reason: str
    basis: str
    pause_reason: PauseReason | None = None
    extension: Period | None = None
    approver: str | None = None


@dataclass(frozen=True)
class Clock:
    """One run of a deadline. ``key`` is the kind's value, with ``@n`` for the n-th run
    (a re-routed case restarts its first-response clock)."""

    key: str
    kind: DeadlineKind
    started_at: dt.datetime
    closed_at: dt.datetime | None = None
    closing: Closing | None = None
    # A due instant set from outside (挂牌督办's required date, the next report to the
    # listing body), for a kind ``is_fixed``: no policy limit, no pause, no extension.
    due: dt.datetime | None = None
    basis: str = ""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DeadlineState(enum.Enum):
    PENDING = "pending"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    OPEN = "open"            # a window still open
    USED = "used"            # a window used in time
    LAPSED = "lapsed"        # a window that ended unused
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return labels.DEADLINE_STATES[self.value]


@dataclass(frozen=True)
class DeadlineView:
    """Everything a person needs to know about one deadline, derived at ``now``.

    ``due_at`` is a UTC instant (for day units, 24:00 local of ``due_date``); while the
    clock is paused it is the due as it would be if the clock resumed at ``now``.
    ``overdue`` is how long past due (at closing, or at ``now`` if still open).
    """

    key: str
    kind: DeadlineKind
    basis: str
    period: Period
    started_at: dt.datetime
    due_at: pendulum.DateTime
    due_date: pendulum.Date
    state: DeadlineState
    overdue: dt.timedelta | None
    paused_since: dt.datetime | None
    extensions: tuple[LedgerEntry, ...]
    pauses: tuple[tuple[dt.datetime, dt.datetime | None], ...]
    closed_at: dt.datetime | None
    warnings: tuple[str, ...]
    # Years counted across whose holiday schedule is only estimated: the due date may move
    # when the State Council publishes it (shown wherever the date is).
    estimated: tuple[int, ...] = ()


def pauses_of(clock: Clock, entries: Sequence[LedgerEntry]) -> list[tuple[dt.datetime,
                                                                          dt.datetime | None]]:
    """The clock's pause intervals in order; the last may still be open (end None)."""
    out: list[tuple[dt.datetime, dt.datetime | None]] = []
    for e in entries:
        if e.clock != clock.key:
            continue
        if e.kind is EntryKind.PAUSE:
            out.append((e.at, None))
        elif e.kind is EntryKind.RESUME and out and out[-1][1] is None:
            out[-1] = (out[-1][0], e.at)
    return out


def extensions_of(clock: Clock, entries: Sequence[LedgerEntry]) -> tuple[LedgerEntry, ...]:
    return tuple(e for e in entries if e.clock == clock.key and e.kind is EntryKind.EXTEND)


def _due(calendar: WorkingCalendar, start: dt.datetime, period: Period,
         pauses: Sequence[tuple[dt.datetime, dt.datetime]]) -> pendulum.DateTime:
    unit = period.unit
    if unit is Unit.DAYS:
        stopped = sum((local_date(b) - local_date(a)).days for a, b in pauses)
        return end_of_local_day(calendar.add_days(local_date(start), period.amount + stopped))
    if unit is Unit.WORKING_DAYS:
        stopped = sum(calendar.working_days_in(local_date(a), local_date(b)) for a, b in pauses)
        return end_of_local_day(calendar.add_working_days(local_date(start),
                                                          period.amount + stopped))
    if unit is Unit.HOURS:
        stopped_time = sum((as_utc(b) - as_utc(a) for a, b in pauses), dt.timedelta(0))
        return as_utc(start) + dt.timedelta(hours=period.amount) + stopped_time
    stopped_time = sum((calendar.working_time_between(a, b) for a, b in pauses),
                       dt.timedelta(0))
    return calendar.add_working_time(start, dt.timedelta(hours=period.amount) + stopped_time)


def evaluate(clock: Clock, entries: Sequence[LedgerEntry], policy: DeadlinePolicy,
             calendar: WorkingCalendar, now: dt.datetime) -> DeadlineView:
    """The deadline's due instant and state at ``now`` (a UTC instant)."""
    now = as_utc(now)
    if clock.due is not None:
        return _fixed(clock, calendar, now)
    limit = policy.limit(clock.kind)
    extensions = extensions_of(clock, entries)
    period = limit.period
    for e in extensions:
        assert e.extension is not None
        period = period.plus(e.extension)
    pauses = pauses_of(clock, entries)
    horizon = clock.closed_at or now
    closed_pauses = [(a, b if b is not None else max(horizon, a)) for a, b in pauses]
    due_at = _due(calendar, clock.started_at, period, closed_pauses)
    paused_since = pauses[-1][0] if pauses and pauses[-1][1] is None and clock.is_open else None
    state, overdue = _state(clock, due_at, paused_since, now)
    return DeadlineView(
        key=clock.key, kind=clock.kind, basis=limit.basis, period=period,
        started_at=clock.started_at, due_at=due_at, due_date=local_date(due_at - _EPS),
        state=state, overdue=overdue, paused_since=paused_since, extensions=extensions,
        pauses=tuple(pauses), closed_at=clock.closed_at,
        warnings=tuple(calendar.warnings_for(local_date(clock.started_at),
                                             local_date(due_at - _EPS))),
        estimated=calendar.estimated_years(local_date(clock.started_at),
                                           local_date(due_at - _EPS)))


def _fixed(clock: Clock, calendar: WorkingCalendar, now: dt.datetime) -> DeadlineView:
    assert clock.due is not None
    due_at = as_utc(clock.due)
    state, overdue = _state(clock, due_at, None, now)
    due_date = local_date(due_at - _EPS)
    days = max(1, (due_date - local_date(clock.started_at)).days)
    return DeadlineView(
        key=clock.key, kind=clock.kind, basis=clock.basis, period=Period(days, Unit.DAYS),
        started_at=clock.started_at, due_at=due_at, due_date=due_date, state=state,
        overdue=overdue, paused_since=None, extensions=(), pauses=(),
        closed_at=clock.closed_at, warnings=(),
        estimated=calendar.estimated_years(local_date(clock.started_at), due_date))


# A day-unit due instant is 24:00 local, which is 00:00 of the next day: step back a
# microsecond to name the day it closes.
_EPS = dt.timedelta(microseconds=1)


def _state(clock: Clock, due_at: dt.datetime, paused_since: dt.datetime | None,
           now: dt.datetime) -> tuple[DeadlineState, dt.timedelta | None]:
    window = clock.kind.is_window
    if clock.closing is Closing.CANCELLED:
        return DeadlineState.CANCELLED, None
    if clock.closing is Closing.LAPSED:
        return DeadlineState.LAPSED, None
    if clock.closed_at is not None:
        if window:
            return DeadlineState.USED, None
        late = _delta(as_utc(clock.closed_at), due_at)
        return ((DeadlineState.BREACHED, late) if late > dt.timedelta(0)
                else (DeadlineState.MET, None))
    if paused_since is not None:
        return DeadlineState.PAUSED, None
    if now > due_at:
        return ((DeadlineState.LAPSED, None) if window
                else (DeadlineState.BREACHED, _delta(now, due_at)))
    return (DeadlineState.OPEN if window else DeadlineState.PENDING), None


def _delta(later: dt.datetime, earlier: dt.datetime) -> dt.timedelta:
    """A plain timedelta (pendulum's Interval compares unlike a timedelta)."""
    return dt.timedelta(seconds=(later - earlier).total_seconds())


LAPSE = "lapse"


def fire_time(view: DeadlineView, rung: Rung | None) -> pendulum.DateTime:
    """When a rung fires (``None`` is a window's lapse, at the due instant)."""
    if rung is None:
        return view.due_at
    if rung.at is not None:
        span = view.due_at - as_utc(view.started_at)
        return as_utc(view.started_at) + span * float(rung.at)
    assert rung.after_due is not None
    return view.due_at + rung.after_due.as_timedelta


@dataclass(frozen=True)
class Standing:
    """Where a case stands against its duties at one instant: the deadlines still running
    (pending, paused or breached and not yet met), the overdue ones worst first, and the
    one to show first (the worst overdue, else the soonest due). Windows (rating, review
    request...) are the petitioner's, not a duty, and are not here."""

    running: tuple[DeadlineView, ...]
    overdue: tuple[DeadlineView, ...]

    @property
    def worst(self) -> DeadlineView | None:
        return self.overdue[0] if self.overdue else None

    @property
    def next(self) -> DeadlineView | None:
        return self.worst or min(self.running, key=lambda v: v.due_at, default=None)

    @property
    def overdue_by(self) -> dt.timedelta:
        """How long the worst overdue deadline is past due (zero when none is)."""
        worst = self.worst
        return worst.overdue if worst is not None and worst.overdue else dt.timedelta(0)


_RUNNING = (DeadlineState.PENDING, DeadlineState.PAUSED, DeadlineState.BREACHED)


def standing(views: Iterable[DeadlineView]) -> Standing:
    """The case's standing from its deadline views (``Case.deadlines`` at one instant)."""
    running = tuple(v for v in views if v.state in _RUNNING and v.closed_at is None)
    late = sorted((v for v in running if v.overdue), key=lambda v: -(v.overdue or _ZERO))
    return Standing(running, tuple(late))


_ZERO = dt.timedelta(0)


def state_text(v: DeadlineView) -> str:
    """``pending``, ``breached by 3d 4h``... (for people)."""
    return v.state.value + (f" by {format_duration(v.overdue)}" if v.overdue else "")


def state_label(v: DeadlineView) -> str:
    """``超期（3天4小时）``, ``进行中``... (for people, in Chinese)."""
    late = f"（{labels.duration(format_duration(v.overdue))}）" if v.overdue else ""
    return v.state.label + late


def due_text(v: DeadlineView) -> str:
    """The due date for day periods, the local due time for hour periods (for people)."""
    return v.due_date.isoformat() if v.period.unit.is_daily else format_local(v.due_at)


def estimate_note(v: DeadlineView, language: str = "zh") -> str:
    """What a person is told of a due date counted across an estimated year: "" when its
    calendar is official."""
    if not v.estimated:
        return ""
    years = "、".join(str(y) for y in v.estimated)
    if language == "zh":
        return f"{years}年节假日安排尚未公布，期限可能调整"
    return f"the {', '.join(map(str, v.estimated))} holiday schedule is not published yet; " \
           "this date may change"


def urgency(v: DeadlineView, now: dt.datetime) -> str:
    """How a running deadline stands, for a person's queue: ``breached`` (past due),
    ``near`` (in its last quarter, or the last day), ``paused`` or ``pending``."""
    if v.overdue:
        return "breached"
    if v.paused_since is not None:
        return "paused"
    left = (v.due_at - as_utc(now)).total_seconds()
    span = (v.due_at - as_utc(v.started_at)).total_seconds()
    return "near" if left <= max(span / 4, 86400.0) else "pending"
