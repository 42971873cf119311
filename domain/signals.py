"""Information officers (信访信息员) and their signals.

A signal is something an officer heard or saw that may become a petition (unrest in a team,
a wage dispute brewing), not yet a petition. The office compiles each week's signals into a
digest for the mine's leaders, 《信访信息参考》, numbered by ISO year and week. A signal can
be promoted to a petition: the case records the signal it came from and the signal records
the case, so the history carries over.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

import pendulum

from domain import labels
from domain.errors import ConfigError, RuleViolation
from domain.fields import Fields, parse_time, parse_weekday
from domain.instants import as_utc, local, local_date, start_of_local_day
from domain.org import OrgChart


class Risk(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return labels.RISKS[self.value]


@dataclass(frozen=True)
class Signal:
    id: str
    officer: str
    unit: str
    at: dt.datetime  # when it was recorded (UTC)
    summary: str
    detail: str
    risk: Risk
    case_id: str | None = None  # set when promoted

    @property
    def promoted(self) -> bool:
        return self.case_id is not None


def record_signal(org: OrgChart, officers: Iterable[str], *, signal_id: str, officer: str,
                  unit: str, summary: str, detail: str, risk: str,
                  now: dt.datetime) -> Signal:
    """A new signal; refused from anyone who is not an appointed officer, or without a
    summary, or about an unknown unit."""
    allowed = set(officers)
    if officer not in allowed:
        raise RuleViolation(f"signal:{signal_id}", f"'{officer}' is not an information officer "
                            f"(信访信息员: {', '.join(sorted(allowed)) or 'none appointed'})")
    org.unit(unit)
    if not summary.strip():
        raise RuleViolation(f"signal:{signal_id}", "a signal needs a summary")
    try:
        level = Risk(risk)
    except ValueError:
        raise RuleViolation(f"signal:{signal_id}", f"risk '{risk}' is not one of: "
                            f"{', '.join(r.value for r in Risk)}") from None
    return Signal(signal_id, officer, unit, as_utc(now), summary.strip(), detail.strip(), level)


def check_promotable(signal: Signal) -> None:
    if signal.promoted:
        raise RuleViolation(f"signal:{signal.id}", f"already promoted to case {signal.case_id}")


@dataclass(frozen=True)
class Week:
    """A Monday-to-Sunday local week and its digest's number (ISO year and week)."""

    monday: dt.date

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    @property
    def issue(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    def holds(self, instant: dt.datetime) -> bool:
        return self.monday <= local_date(instant) <= self.sunday

    def bounds(self) -> tuple[pendulum.DateTime, pendulum.DateTime]:
        """[Monday 00:00, the next Monday 00:00) local time, as UTC instants."""
        start = start_of_local_day(self.monday)
        return start, start.add(days=7)

    @classmethod
    def of(cls, day: dt.date) -> Week:
        return cls(day - dt.timedelta(days=day.weekday()))


@dataclass(frozen=True)
class DigestRules:
    """Who is an officer, who reads the weekly digest, and when it is compiled (the week
    just ended, on ``weekday`` at ``at`` local time)."""

    officers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    weekday: int = 0
    at: dt.time = dt.time(9, 0)

    def digest_due(self, now: dt.datetime) -> Week | None:
        """The week whose digest is due at ``now`` (the last full week, once the weekday
        and time have come), or None before that in the week."""
        local_now = local(now)
        this = Week.of(local_now.date())
        compile_at = this.monday + dt.timedelta(days=self.weekday)
        if (local_now.date(), dt.time(local_now.hour, local_now.minute)) < (compile_at,
                                                                             self.at):
            return None
        return Week(this.monday - dt.timedelta(days=7))


def digest_from_mapping(data: object, org: OrgChart, path: str = "information"
                        ) -> DigestRules:
    """The ``information`` section of office.yaml; readers default to the mine head and the
    party secretary."""
    f = Fields(data, path, ("officers", "readers", "digest_weekday", "digest_at"))
    officers, readers = f.text_list("officers"), f.text_list("readers")
    for name, people in (("officers", officers), ("readers", readers)):
        for i, who in enumerate(people):
            if who not in org.people:
                raise ConfigError(f"unknown person '{who}'", field=f"{f.at(name)}[{i}]")
    weekday = parse_weekday(f.raw("digest_weekday"), f.at("digest_weekday")) \
        if f.has("digest_weekday") else 0
    return DigestRules(officers, readers or (org.mine_head, org.party_secretary), weekday,
                       parse_time(f.raw("digest_at"), f.at("digest_at"))
                       if f.has("digest_at") else dt.time(9, 0))

