"""Instants and local dates.

Instants are timezone-aware pendulum DateTimes in UTC; people see Asia/Shanghai local time.
Nothing here reads the clock: ``now`` is always an argument.
"""

from __future__ import annotations

import datetime as dt

import pendulum

# The one place the office's zone is named; everything else goes through this module.
LOCAL_ZONE = "Asia/Shanghai"
LOCAL_TZ = pendulum.timezone(LOCAL_ZONE)


def as_utc(value: dt.datetime) -> pendulum.DateTime:
    """The same instant in UTC; a naive datetime is refused, never guessed."""
    if isinstance(value, pendulum.DateTime) and value.tzinfo is pendulum.UTC:
        return value  # already one (most calls: a due date, an event's instant)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"instant {value.isoformat()} has no time zone; pass an aware time")
    return pendulum.instance(value).in_timezone(pendulum.UTC)


def local(value: dt.datetime) -> pendulum.DateTime:
    """The instant in Asia/Shanghai local time."""
    return as_utc(value).in_timezone(LOCAL_TZ)


def local_date(value: dt.datetime) -> pendulum.Date:
    """The local (Asia/Shanghai) calendar date of an instant."""
    d = local(value)
    return pendulum.date(d.year, d.month, d.day)


def start_of_local_day(day: dt.date) -> pendulum.DateTime:
    """00:00 Asia/Shanghai of ``day``, as a UTC instant."""
    return pendulum.datetime(day.year, day.month, day.day, tz=LOCAL_TZ).in_timezone("UTC")


def end_of_local_day(day: dt.date) -> pendulum.DateTime:
    """24:00 Asia/Shanghai of ``day`` (the Civil Code's end of a last day), as UTC."""
    return start_of_local_day(day).add(days=1)


def format_local(value: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM`` in local time, for people."""
    return local(value).format("YYYY-MM-DD HH:mm")


def format_duration(delta: dt.timedelta) -> str:
    """A human duration such as ``3d 4h`` or ``45m``."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes and not days:
        parts.append(f"{minutes}m")
    return sign + (" ".join(parts) or "0m")


def at_local(year: int, month: int, day: int, hour: int = 0, minute: int = 0
             ) -> pendulum.DateTime:
    """A local (Asia/Shanghai) wall-clock time, as a zoned DateTime."""
    return pendulum.datetime(year, month, day, hour, minute, tz=LOCAL_TZ)


def parse_local(text: str) -> pendulum.DateTime:
    """An ISO-8601 time; one without a zone is local time. Returned in UTC. Raises
    ``ValueError`` naming the text when it is not a time."""
    try:
        parsed = pendulum.parse(text, tz=LOCAL_TZ)
    except ValueError:  # pendulum's ParserError is one
        raise ValueError(f"not an ISO time: {text!r}") from None
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"not an ISO time with a date: {text!r}")
    return parsed.in_timezone("UTC")
