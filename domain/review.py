"""The quarterly risk review (每季不稳定因素分析排查例会): a meeting chaired by the leader
in charge, the issues it studied, and the measures and plans (措施/预案) it set, each with
an owner and a due date (a local date).

A measure is a tracked duty, like a deadline: its owner is reminded ``REMIND_DAYS`` calendar
days before the due date, and when it is still not done at ``BREACH_AT`` on the due date the
owner's superior is told (the unit's head, else the leader in charge of the unit, else the
mine head: ``domain.escalation.resolve``). Done on or before the due date is on time; done
after it is late; not done by the end of the quarter after is "not done" when the next review
opens. Instants are UTC; dates are local (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pendulum

from domain import labels
from domain.errors import ConfigError, NoRecipient, RuleViolation, UnknownName
from domain.escalation import Holders, resolve
from domain.instants import LOCAL_TZ, as_utc, local_date
from domain.org import OrgChart
from domain.policy import Role
from domain.quarters import Quarter

REMIND_DAYS = 3  # calendar days before the due date: time to act, not a surprise
REMIND_AT = dt.time(9, 0)
BREACH_AT = dt.time(17, 0)  # the end of the due date's working day


class MeasureKind(enum.Enum):
    MEASURE = "measure"  # 措施
    PLAN = "plan"        # 预案

    @property
    def label(self) -> str:
        return labels.REVIEW_MEASURE_KINDS[self.value]


class MeasureState(enum.Enum):
    OPEN = "open"            # not done, not yet due
    OVERDUE = "overdue"      # not done, past due
    ON_TIME = "on_time"      # done on or before the due date
    LATE = "late"            # done after it

    @property
    def label(self) -> str:
        return labels.REVIEW_MEASURE_STATES[self.value]


@dataclass(frozen=True)
class ReviewMeasure:
    id: str
    quarter: str
    text: str
    owner: str
    due: dt.date
    kind: MeasureKind = MeasureKind.MEASURE
    done_at: dt.datetime | None = None
    done_by: str | None = None
    note: str = ""

    def remind_at(self) -> pendulum.DateTime:
        """When the owner is reminded (UTC)."""
        return _at(self.due - dt.timedelta(days=REMIND_DAYS), REMIND_AT)

    def breach_at(self) -> pendulum.DateTime:
        """When, still not done, it is a breach told to the owner's superior (UTC)."""
        return _at(self.due, BREACH_AT)

    def state(self, now: dt.datetime) -> MeasureState:
        """How it stands at ``now``."""
        if self.done_at is not None:
            return MeasureState.ON_TIME if local_date(self.done_at) <= self.due \
                else MeasureState.LATE
        return MeasureState.OVERDUE if as_utc(now) >= self.breach_at() else MeasureState.OPEN


@dataclass(frozen=True)
class Meeting:
    quarter: str
    chair: str
    attendees: tuple[str, ...]
    held_on: dt.date
    issues: tuple[str, ...]
    recorded_by: str
    recorded_at: dt.datetime
    measures: tuple[ReviewMeasure, ...] = field(default=())


def _at(day: dt.date, time: dt.time) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, time.hour, time.minute,
                             tz=LOCAL_TZ).in_timezone("UTC")


@dataclass(frozen=True)
class MeasureInput:
    text: str
    owner: str
    due: dt.date
    kind: MeasureKind = MeasureKind.MEASURE


def hold_meeting(org: OrgChart, *, quarter: Quarter, chair: str, attendees: Sequence[str],
                 held_on: dt.date, issues: Sequence[str], measures: Sequence[MeasureInput],
                 recorded_by: str, now: dt.datetime, ids: Iterable[str],
                 existing: Meeting | None) -> Meeting:
    """Validate and build the record of a quarter's review. Refused: a second record for the
    quarter, an unknown chair, attendee or owner, a meeting in the future, no issue studied,
    a measure without text or due before the meeting."""
    subject = f"review:{quarter.key}"
    if existing is not None:
        raise RuleViolation(subject, f"the {quarter.key} review was recorded already "
                            f"(held {existing.held_on})")
    for who in (chair, *attendees, *(m.owner for m in measures)):
        if who not in org.people:
            raise RuleViolation(subject, f"unknown person '{who}'")
    if held_on > local_date(now):
        raise RuleViolation(subject, f"{held_on} is in the future")
    studied = tuple(i.strip() for i in issues if i.strip())
    if not studied:
        raise RuleViolation(subject, "name at least one issue studied (--issue)")
    out = []
    for m, mid in zip(measures, ids, strict=True):
        if not m.text.strip():
            raise RuleViolation(subject, "a measure needs its text")
        if m.due < held_on:
            raise RuleViolation(subject, f"measure '{m.text}' is due {m.due}, before the "
                                f"meeting ({held_on})")
        out.append(ReviewMeasure(mid, quarter.key, m.text.strip(), m.owner, m.due, m.kind))
    return Meeting(quarter.key, chair, tuple(dict.fromkeys(attendees)), held_on, studied,
                   recorded_by, as_utc(now), tuple(out))


def mark_done(measure: ReviewMeasure, meeting: Meeting, *, by: str, note: str,
              now: dt.datetime) -> ReviewMeasure:
    """The measure done, by its owner or the meeting's chair, once."""
    subject = f"review:{measure.quarter}"
    if by not in (measure.owner, meeting.chair):
        raise RuleViolation(subject, f"'{by}' is neither the owner ({measure.owner}) nor "
                            f"the chair ({meeting.chair}) of measure {measure.id}")
    if measure.done_at is not None:
        raise RuleViolation(subject, f"measure {measure.id} was marked done already")
    return ReviewMeasure(measure.id, measure.quarter, measure.text, measure.owner,
                         measure.due, measure.kind, as_utc(now), by, note.strip())


def superior_of(org: OrgChart, person: str) -> tuple[str, Role]:
    """Whom a breach of ``person``'s measure goes to: up the chain from the head of their
    unit (the leader in charge of it, the mine head, ...), never ``person`` themselves."""
    unit = org.person(person).unit
    holders = Holders(unit, person, org.unit(unit).leader if unit in org.units else None)
    to, role, _ = resolve(Role.UNIT_HEAD, holders, org,
                          lambda p: "the owner" if p == person else None)
    return to, role


@dataclass(frozen=True)
class Due:
    """A measure's reminder (``remind``) or breach (``breach``) due now, and to whom."""

    measure: ReviewMeasure
    what: str
    to: str


def due_alerts(org: OrgChart, measures: Iterable[ReviewMeasure], now: dt.datetime,
               sent: Iterable[tuple[str, str]]) -> list[Due]:
    """The reminders and breaches due at ``now`` and not in ``sent`` ((measure id, what));
    a breach with nobody above its owner goes to "" (the caller tells the chair).
    A measure done is never reminded nor breached; a reminder whose time passed with the
    breach due goes no more (the breach says it)."""
    done = set(sent)
    out = []
    for m in measures:
        if m.done_at is not None:
            continue
        breach = as_utc(now) >= m.breach_at()
        if breach and (m.id, "breach") not in done:
            try:
                to = superior_of(org, m.owner)[0]
            except (NoRecipient, ConfigError, UnknownName):  # nobody above the owner (or
                to = ""  # no such owner now): the meeting's chair is told
            out.append(Due(m, "breach", to))
        elif not breach and as_utc(now) >= m.remind_at() and (m.id, "remind") not in done:
            out.append(Due(m, "remind", m.owner))
    return out


# --- rising matters ----------------------------------------------------------------------

@dataclass(frozen=True)
class Trend:
    """A matter's count this quarter against the last and the same quarter a year before."""

    key: str
    label: str
    now: int
    last: int
    year_ago: int

    @property
    def change(self) -> int:
        return self.now - self.last

    @property
    def change_year(self) -> int:
        return self.now - self.year_ago

    @property
    def rising(self) -> bool:
        return self.now > self.last or self.now > self.year_ago


def trends(now: Mapping[str, int], last: Mapping[str, int], year_ago: Mapping[str, int],
           names: Mapping[str, str]) -> list[Trend]:
    """One row per matter counted in any of the three quarters, the most risen first."""
    keys = set(now) | set(last) | set(year_ago)
    rows = [Trend(k, names.get(k, k), now.get(k, 0), last.get(k, 0), year_ago.get(k, 0))
            for k in keys]
    return sorted(rows, key=lambda t: (-max(t.change, t.change_year), -t.now, t.label))
