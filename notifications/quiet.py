"""Quiet hours: when a message may go out. The deadline it is about never moves."""

from __future__ import annotations

import datetime as dt

import pendulum

from domain.calendar import WorkingCalendar
from domain.instants import local
from notifications.settings import QuietHours


def _in_window(t: dt.time, quiet: QuietHours) -> bool:
    if quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end  # across midnight


def next_allowed(at: dt.datetime, quiet: QuietHours | None,
                 calendar: WorkingCalendar) -> pendulum.DateTime:
    """The first instant at or after ``at`` (UTC) outside quiet hours, in UTC."""
    when = local(at)
    if quiet is None:
        return when.in_timezone("UTC")
    for _ in range(400):  # a year of rest days is the worst case
        rest = quiet.rest_days and not calendar.is_working_day(when.date())
        if not rest and not _in_window(when.time(), quiet):
            return when.in_timezone("UTC")
        if rest:  # the next day's end of the night window (or its start of day)
            when = when.add(days=1).start_of("day")
            continue
        end = when.set(hour=quiet.end.hour, minute=quiet.end.minute, second=0,
                       microsecond=0)
        when = end if end > when else end.add(days=1)
    raise ValueError("no allowed time within a year: check the quiet hours")
