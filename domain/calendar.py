"""China's working-day calendar: weekends, statutory holidays and make-up working days (调休).

Data comes from the ``holidays`` package (class CN, with its ``weekend_workdays``), which
carries the State Council's official schedule for the years it knows and *estimates* later
years. An office can load a year's official schedule the day it is published
(``YearSchedule`` from an override file); that year then counts as official. Counting into a
year with no official schedule yields a warning that is shown with the deadline.

Units: dates are local (Asia/Shanghai) calendar dates; instants are UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import pendulum

from domain.errors import ConfigError
from domain.fields import Fields, parse_date, parse_time
from domain.instants import LOCAL_TZ, as_utc, local

# Bounds every day-by-day walk, so a calendar with no working day cannot hang a sweeper.
MAX_WALK_DAYS = 3660


@dataclass(frozen=True)
class YearSchedule:
    """The official rest days and make-up working days of one year."""

    year: int
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    source: str

    def __post_init__(self) -> None:
        for kind, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for day in days:
                if day.year != self.year:
                    raise ConfigError(f"{day} is not in {self.year}",
                                      field=f"{self.year}.{kind}.{day}")
        both = set(self.holidays) & set(self.workdays)
        if both:
            day = min(both)
            raise ConfigError(f"{day} is listed both as a holiday and as a working day",
                              field=f"{self.year}.workdays.{day}")
        for day in self.workdays:
            if day.weekday() < 5:
                raise ConfigError(
                    f"{day} is a {day.strftime('%A')}; a make-up working day (调休上班) "
                    "is a Saturday or Sunday", field=f"{self.year}.workdays.{day}")


@dataclass(frozen=True)
class WorkingHours:
    """Office hours on a working day, local time, as (start, end) windows."""

    windows: tuple[tuple[dt.time, dt.time], ...] = (
        (dt.time(8, 0), dt.time(12, 0)),
        (dt.time(14, 0), dt.time(18, 0)),
    )

    def __post_init__(self) -> None:
        if not self.windows:
            raise ConfigError("at least one window of working hours is needed",
                              field="working_hours")
        previous_end = dt.time(0, 0)
        for start, end in self.windows:
            if not start < end or start < previous_end:
                raise ConfigError(f"working hours {start:%H:%M}-{end:%H:%M} are not "
                                  "increasing and disjoint", field="working_hours")
            previous_end = end


def _holidays_package() -> object:
    """The ``holidays`` package, imported when its data is first needed: importing it loads
    all of its 250 countries (80-140 ms), which a process reading the schedules from
    ``PackageCalendar`` (a cache the services keep) never pays."""
    import holidays  # deferred on purpose (see above)

    return holidays


@cache
def _package_year(year: int) -> YearSchedule:
    h: object = _holidays_package()
    cn = h.country_holidays("CN", years=year, language="zh_CN")  # type: ignore[attr-defined]
    return YearSchedule(
        year=year,
        holidays={d: str(name) for d, name in cn.items()},
        workdays={d: "调休上班" for d in getattr(cn, "weekend_workdays", ()) if d.year == year},
        source=f"holidays {getattr(h, '__version__', '')}".strip(),
    )


@cache
def package_official_years() -> frozenset[int]:
    """Years for which the ``holidays`` package carries the State Council's notice."""
    _holidays_package()
    from holidays.countries.china import ChinaStaticHolidays

    return frozenset(ChinaStaticHolidays.special_public_holidays)


@dataclass(frozen=True)
class PackageCalendar:
    """China's schedules as the ``holidays`` package gives them, for the years ``years``
    holds, and the years it carries the official notice for. Built once from the package
    (``package_calendar``) and kept by the services as a cache; a year it lacks is asked
    of the package."""

    years: Mapping[int, YearSchedule]
    official_years: frozenset[int]

    def year(self, year: int) -> YearSchedule:
        return self.years.get(year) or _package_year(year)


def package_calendar(first: int, last: int) -> PackageCalendar:
    """The package's schedules from ``first`` to ``last`` (years, inclusive)."""
    return PackageCalendar({y: _package_year(y) for y in range(first, last + 1)},
                           package_official_years())


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and hours of a unit in mainland China.

    ``overrides`` replace the package's data for their years and make those years
    official. ``package`` is the package's data read ahead (else it is asked directly).
    ``official_years`` lists the years whose data is the published schedule (default: the
    package's, and every override's).
    """

    overrides: Mapping[int, YearSchedule] = field(default_factory=dict)
    hours: WorkingHours = field(default_factory=WorkingHours)
    official_years: frozenset[int] | None = None
    package: PackageCalendar | None = None

    def __post_init__(self) -> None:
        known = self.official_years if self.official_years is not None else (
            self.package.official_years if self.package is not None
            else package_official_years())
        object.__setattr__(self, "official_years", frozenset(known) | frozenset(self.overrides))

    # --- days ---------------------------------------------------------------------
    def year(self, year: int) -> YearSchedule:
        """The schedule used for ``year``: the override if loaded, else the package's."""
        found = self.overrides.get(year)
        if found is not None:
            return found
        return self.package.year(year) if self.package is not None else _package_year(year)

    def is_official(self, year: int) -> bool:
        """Whether ``year``'s schedule is the published one rather than an estimate."""
        assert self.official_years is not None  # set in __post_init__
        return year in self.official_years

    def is_working_day(self, day: dt.date) -> bool:
        """True on a working day: a weekday that is no holiday, or a make-up working day."""
        schedule = self.year(day.year)
        if day in schedule.workdays:
            return True
        if day in schedule.holidays:
            return False
        return day.weekday() < 5

    def describe(self, day: dt.date) -> str:
        """Why ``day`` is a working or rest day, in Chinese, for clerks."""
        schedule = self.year(day.year)
        if day in schedule.workdays:
            return f"工作日（{schedule.workdays[day]}）"
        if day in schedule.holidays:
            return f"休息日（{schedule.holidays[day]}）"
        return "工作日" if day.weekday() < 5 else "休息日（周末）"

    def next_working_day(self, day: dt.date) -> pendulum.Date:
        """``day`` itself if it is a working day, else the first working day after it."""
        current = pendulum.date(day.year, day.month, day.day)
        for _ in range(MAX_WALK_DAYS):
            if self.is_working_day(current):
                return current
            current = current.add(days=1)
        raise ConfigError(f"no working day within {MAX_WALK_DAYS} days after {day}")

    def previous_working_day(self, day: dt.date) -> pendulum.Date:
        """``day`` itself if it is a working day, else the last working day before it."""
        return self.working_days_before(day, 0) if self.is_working_day(day) \
            else self.working_days_before(day, 1)

    def working_days_before(self, day: dt.date, days: int) -> pendulum.Date:
        """The ``days``-th working day before ``day`` (``day`` itself for 0)."""
        return self._walk_working_days(day, days, -1)

    def _walk_working_days(self, start: dt.date, days: int, step: int) -> pendulum.Date:
        """The ``days``-th working day after (``step`` 1) or before (-1) ``start``, which is
        not counted."""
        current = pendulum.date(start.year, start.month, start.day)
        counted = 0
        for _ in range(MAX_WALK_DAYS * 2):
            if counted == days:
                return current
            current = current.add(days=step)
            counted += self.is_working_day(current)
        side = "after" if step > 0 else "before"
        raise ConfigError(f"fewer than {days} working days in the years {side} {start}")

    def add_days(self, start: dt.date, days: int) -> pendulum.Date:
        """Last day of a period of ``days`` calendar days starting on ``start``.

        Civil Code arts. 201 and 203: the start day is not counted, and a last day that is
        a rest day (weekend or statutory holiday, make-up working days excepted) moves to
        the first working day after it.
        """
        if days < 0:
            raise ValueError(f"a period cannot be negative: {days} days")
        last = pendulum.date(start.year, start.month, start.day).add(days=days)
        return self.next_working_day(last)

    def add_working_days(self, start: dt.date, days: int) -> pendulum.Date:
        """The ``days``-th working day after ``start`` (the start day is not counted)."""
        if days < 0:
            raise ValueError(f"a period cannot be negative: {days} working days")
        return self._walk_working_days(start, days, 1)

    def working_days_in(self, after: dt.date, through: dt.date) -> int:
        """How many working days lie in (after, through]."""
        count = 0
        current = pendulum.date(after.year, after.month, after.day).add(days=1)
        while current <= through:
            count += self.is_working_day(current)
            current = current.add(days=1)
        return count

    # --- hours --------------------------------------------------------------------
    def _windows_from(self, instant: dt.datetime) -> Iterable[tuple[pendulum.DateTime,
                                                                    pendulum.DateTime]]:
        """Working-hour windows (UTC) that end after ``instant``, in order."""
        start = local(instant)
        day = pendulum.date(start.year, start.month, start.day)
        for _ in range(MAX_WALK_DAYS):
            if self.is_working_day(day):
                for begin, end in self.hours.windows:
                    w_begin = pendulum.datetime(day.year, day.month, day.day, begin.hour,
                                                begin.minute, tz=LOCAL_TZ)
                    w_end = pendulum.datetime(day.year, day.month, day.day, end.hour,
                                              end.minute, tz=LOCAL_TZ)
                    if w_end > start:
                        yield max(w_begin, start).in_timezone("UTC"), w_end.in_timezone("UTC")
            day = day.add(days=1)

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> pendulum.DateTime:
        """The instant when ``amount`` of working hours after ``start`` have passed."""
        remaining = amount
        for begin, end in self._windows_from(as_utc(start)):
            span = end - begin
            if remaining <= span:
                return begin + remaining
            remaining -= span
        raise ConfigError(f"no working hours within {MAX_WALK_DAYS} days after {start}")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working hours that lie between two instants."""
        total = dt.timedelta(0)
        end_utc = as_utc(end)
        if end_utc <= as_utc(start):
            return total
        for begin, w_end in self._windows_from(as_utc(start)):
            if begin >= end_utc:
                break
            total += min(w_end, end_utc) - begin
        return total

    # --- warnings -----------------------------------------------------------------
    def estimated_years(self, first: dt.date, last: dt.date) -> tuple[int, ...]:
        """The years in [first, last] with no official schedule (only an estimate)."""
        return tuple(y for y in range(min(first.year, last.year),
                                      max(first.year, last.year) + 1)
                     if not self.is_official(y))

    def warnings_for(self, first: dt.date, last: dt.date) -> list[str]:
        """A warning per year in [first, last] that has no official schedule."""
        return [
            f"{year} has no official holiday schedule (the State Council notice is not "
            f"loaded; working days are estimated from {self.year(year).source}); load it "
            "with an override file and check this date again"
            for year in self.estimated_years(first, last)
        ]


def calendar_from_mapping(data: object, package: PackageCalendar | None = None
                          ) -> WorkingCalendar:
    """A calendar from plain data: ``working_hours`` windows and ``years`` overrides, each
    year with ``source``, ``holidays`` and ``workdays`` (date: name); ``package`` is the
    package's data read ahead."""
    f = Fields(data, "", ("working_hours", "years"))
    hours = WorkingHours()
    if f.has("working_hours"):
        windows = []
        for i, text in enumerate(f.text_list("working_hours")):
            where = f"working_hours[{i}]"
            start, sep, end = text.partition("-")
            if not sep:
                raise ConfigError(f"expected HH:MM-HH:MM, got {text!r}", field=where)
            windows.append((parse_time(start, where), parse_time(end, where)))
        hours = WorkingHours(tuple(windows))
    overrides: dict[int, YearSchedule] = {}
    if f.has("years"):
        years = f.raw("years")
        if not isinstance(years, Mapping):
            raise ConfigError("expected a mapping of year to schedule", field="years")
        for key, value in years.items():
            where = f"years.{key}"
            if isinstance(key, bool) or not isinstance(key, int) or not 1949 < key < 2200:
                raise ConfigError(f"expected a year such as 2027, got {key!r}", field=where)
            y = Fields(value, where, ("source", "holidays", "workdays"))
            days: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
            for part in days:
                raw = y.raw(part) if y.has(part) else {}
                if not isinstance(raw, Mapping):
                    raise ConfigError("expected a mapping of date to name", field=y.at(part))
                for day, name in raw.items():
                    d = parse_date(day, f"{y.at(part)}.{day}")
                    if not isinstance(name, str) or not name.strip():
                        raise ConfigError("expected a name", field=f"{y.at(part)}.{day}")
                    days[part][d] = name.strip()
            try:
                overrides[key] = YearSchedule(key, days["holidays"], days["workdays"],
                                              y.text("source"))
            except ConfigError as e:
                raise ConfigError(e.reason, field=f"years.{e.field}") from None
    return WorkingCalendar(overrides=overrides, hours=hours, package=package)
