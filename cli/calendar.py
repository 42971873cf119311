"""``petitions calendar``: China's working-day calendar (调休 included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pendulum
import typer

from cli.common import out, parse_day, reports_errors, settings, table, warn
from domain.calendar import WorkingCalendar
from services.files import load_calendar
from services.package_cache import package_schedules

calendar_app = typer.Typer(help="China's working-day calendar (调休 included).",
                           no_args_is_help=True)

CalendarOpt = Annotated[Path | None, typer.Option(
    "--calendar", help="Calendar file with office hours and official schedules (default: "
    "calendar.yaml in the office configuration, when present).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")


def _calendar(path: Path | None) -> WorkingCalendar:
    if path is None:
        default = settings().office_dir / "calendar.yaml"
        path = default if default.exists() else None
    return load_calendar(path, package_schedules(settings().cache_dir))


@calendar_app.command("due")
@reports_errors
def calendar_due(
    start: Annotated[str, typer.Argument(help="First day, YYYY-MM-DD (not itself counted).")],
    days: Annotated[int | None, typer.Option("--days", min=1,
                                             help="Calendar days (日).")] = None,
    working_days: Annotated[int | None, typer.Option("--working-days", min=1,
                                                     help="Working days (工作日).")] = None,
    calendar: CalendarOpt = None,
) -> None:
    """Print the last day of a period as YYYY-MM-DD on the first line; warnings on stderr.

    Calendar days follow the Civil Code (arts. 201, 203): the first day is not counted and a
    last day that is a rest day moves to the next working day.
    """
    if (days is None) == (working_days is None):
        raise typer.BadParameter("give exactly one of --days or --working-days")
    first = parse_day(start)
    cal = _calendar(calendar)
    if days is not None:
        due = cal.add_days(first, days)
        plain = pendulum.date(first.year, first.month, first.day).add(days=days)
        explain = f"{days} calendar days after {first}: {plain} {cal.describe(plain)}"
        if plain != due:
            explain += f" → moved to the next working day {due} {cal.describe(due)}"
    else:
        assert working_days is not None
        due = cal.add_working_days(first, working_days)
        explain = f"{working_days} working days after {first}: {due} {cal.describe(due)}"
    print(due.isoformat())
    print(explain)
    warn(cal.warnings_for(first, due))


@calendar_app.command("day")
@reports_errors
def calendar_day(day: str, calendar: CalendarOpt = None) -> None:
    """Say whether a date is a working day, and why."""
    d = parse_day(day)
    cal = _calendar(calendar)
    print(f"{d} {d.strftime('%a')} {cal.describe(d)}")
    warn(cal.warnings_for(d, d))


@calendar_app.command("year")
@reports_errors
def calendar_year(year: int, calendar: CalendarOpt = None) -> None:
    """List a year's rest days and make-up working days, and where the data comes from."""
    cal = _calendar(calendar)
    schedule = cal.year(year)
    status = "official" if cal.is_official(year) else "ESTIMATED"
    rows = [(d, "休息日", n) for d, n in schedule.holidays.items()] + \
           [(d, "调休上班", n) for d, n in schedule.workdays.items()]
    out.print(table(({"date": d.isoformat(), "weekday": d.strftime("%a"), "kind": kind,
                      "name": name} for d, kind, name in sorted(rows)),
                    ("date", "weekday", "kind", "name"),
                    title=f"{year} ({status}; {schedule.source})"))
    warn(cal.warnings_for(dt.date(year, 1, 1), dt.date(year, 1, 1)))
