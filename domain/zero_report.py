"""The daily zero report (每日零报告): every unit reports every day, "nothing to report"
included.

A unit's report for a local date is due by ``due_at`` that day. A unit that has not reported
by then is *missing*: its head is alerted. Still missing at ``office_at``, it is *overdue*:
the office is alerted. A check that did not run catches up for the last week, but never for
days before the practice ``starts``. A late report is still taken, and marked late. Which days count
(``every_day``, the mines' default, or ``working_days``: 调休 working weekends included) is
configuration. Dates are local (Asia/Shanghai); instants are UTC.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pendulum

from domain.calendar import WorkingCalendar
from domain.errors import ConfigError, RuleViolation
from domain.fields import Fields, parse_date, parse_enum, parse_time
from domain.instants import LOCAL_TZ, as_utc, local_date
from domain.org import OrgChart

CATCH_UP_DAYS = 7  # a check that did not run for a while still alerts for the last week


class Days(enum.Enum):
    EVERY_DAY = "every_day"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class ZeroReportRules:
    units: tuple[str, ...]
    due_at: dt.time = dt.time(10, 0)
    office_at: dt.time = dt.time(14, 0)
    days: Days = Days.EVERY_DAY
    office: tuple[str, ...] = ()
    starts: dt.date | None = None  # no alerts for days before the practice started

    def applies(self, day: dt.date, calendar: WorkingCalendar) -> bool:
        if self.starts is not None and day < self.starts:
            return False
        return self.days is Days.EVERY_DAY or calendar.is_working_day(day)

    def due(self, day: dt.date) -> pendulum.DateTime:
        """When the report for ``day`` is due (UTC)."""
        return _at(day, self.due_at)

    def escalate(self, day: dt.date) -> pendulum.DateTime:
        return _at(day, self.office_at)


def _at(day: dt.date, time: dt.time) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, time.hour, time.minute,
                             tz=LOCAL_TZ).in_timezone("UTC")


@dataclass(frozen=True)
class ZeroReport:
    """One unit's report for one day: nothing to report, or ``items`` matters summarised."""

    unit: str
    day: dt.date
    reporter: str
    at: dt.datetime
    items: int
    summary: str
    late: bool

    @property
    def nothing(self) -> bool:
        return self.items == 0


def file_report(rules: ZeroReportRules, org: OrgChart, calendar: WorkingCalendar, *,
                unit: str, day: dt.date, reporter: str, items: int, summary: str,
                now: dt.datetime, existing: ZeroReport | None) -> ZeroReport:
    """Validate and build a unit's report. Refused: an unknown or unlisted unit, a reporter
    from another unit, a day in the future or one that needs no report, a second report for
    the same day, matters reported without a summary."""
    org.unit(unit)
    if unit not in rules.units:
        raise RuleViolation(f"zero-report:{unit}", f"unit '{unit}' is not on the daily zero "
                            f"report list ({', '.join(rules.units)})")
    person = org.person(reporter)
    if not org.is_within(person.unit, unit):
        raise RuleViolation(f"zero-report:{unit}", f"'{reporter}' is in unit '{person.unit}' "
                            f"and cannot report for '{unit}'")
    today = local_date(now)
    if day > today:
        raise RuleViolation(f"zero-report:{unit}", f"{day} is in the future (today is {today})")
    if rules.starts is not None and day < rules.starts:
        raise RuleViolation(f"zero-report:{unit}", f"{day} is before the daily zero report "
                            f"started ({rules.starts})")
    if not rules.applies(day, calendar):
        raise RuleViolation(f"zero-report:{unit}", f"{day} is a rest day "
                            f"({calendar.describe(day)}); units report on working days only")
    if existing is not None:
        raise RuleViolation(f"zero-report:{unit}", f"'{unit}' already reported for {day} "
                            f"(by {existing.reporter} at "
                            f"{pendulum.instance(existing.at).in_timezone(LOCAL_TZ):%H:%M})")
    if items < 0:
        raise RuleViolation(f"zero-report:{unit}", f"items must be 0 or more, got {items}")
    if items and not summary.strip():
        raise RuleViolation(f"zero-report:{unit}", f"{items} matter(s) reported: a summary "
                            "is required")
    return ZeroReport(unit, day, reporter, as_utc(now), items, summary.strip(),
                      as_utc(now) > rules.due(day))


@dataclass(frozen=True)
class Alert:
    """A unit missing its report: ``level`` "head" (the unit's head) or "office"."""

    unit: str
    day: dt.date
    level: str
    recipients: tuple[str, ...]


def alerts_due(rules: ZeroReportRules, org: OrgChart, calendar: WorkingCalendar,
               now: dt.datetime, reported: Mapping[dt.date, Iterable[str]],
               alerted: Iterable[tuple[str, dt.date, str]]) -> list[Alert]:
    """The alerts due at ``now`` for the last ``CATCH_UP_DAYS`` days: ``reported`` maps a
    day to the units that reported, ``alerted`` lists (unit, day, level) already sent."""
    sent = set(alerted)
    today = local_date(now)
    out: list[Alert] = []
    for back in range(CATCH_UP_DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        if not rules.applies(day, calendar):
            continue
        done = set(reported.get(day, ()))
        for unit in rules.units:
            if unit in done:
                continue
            for level, when in (("head", rules.due(day)), ("office", rules.escalate(day))):
                if as_utc(now) >= when and (unit, day, level) not in sent:
                    head = org.unit(unit).head
                    to = (head,) if level == "head" and head else rules.office
                    out.append(Alert(unit, day, level, tuple(to)))
    return out


def zero_report_from_mapping(data: object, org: OrgChart, default_office: tuple[str, ...],
                             path: str = "zero_report") -> ZeroReportRules:
    """The ``zero_report`` section of office.yaml; ``units`` defaults to every unit with a
    head, ``office`` to the office's alert recipient."""
    f = Fields(data, path, ("units", "due_at", "office_at", "days", "office", "starts"))
    units = f.text_list("units") or tuple(u.id for u in org.units.values() if u.head)
    for i, u in enumerate(units):
        if u not in org.units:
            raise ConfigError(f"unknown unit '{u}'", field=f"{f.at('units')}[{i}]")
    office = f.text_list("office") or default_office
    if not office:
        raise ConfigError("who in the office is alerted when a unit stays silent",
                          field=f.at("office"))
    for i, who in enumerate(office):
        if who not in org.people:
            raise ConfigError(f"unknown person '{who}'", field=f"{f.at('office')}[{i}]")
    due = parse_time(f.raw("due_at"), f.at("due_at")) if f.has("due_at") else dt.time(10, 0)
    late = parse_time(f.raw("office_at"), f.at("office_at")) if f.has("office_at") \
        else dt.time(14, 0)
    if late <= due:
        raise ConfigError(f"the office is alerted after the unit's head: {late} is not after "
                          f"{due}", field=f.at("office_at"))
    return ZeroReportRules(units, due, late,
                           parse_enum(Days, f.raw("days"), f.at("days")) if f.has("days")
                           else Days.EVERY_DAY, office,
                           parse_date(f.raw("starts"), f.at("starts")) if f.has("starts")
                           else None)
