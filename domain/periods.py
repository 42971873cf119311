"""Periods of time as the rules state them: calendar days, working days, hours, working hours."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from domain import labels
from domain.errors import ConfigError


class Unit(enum.Enum):
    """How a period is counted."""

    DAYS = "days"                    # 日: calendar days, Civil Code rule
    WORKING_DAYS = "working_days"    # 工作日
    HOURS = "hours"                  # clock hours
    WORKING_HOURS = "working_hours"  # hours inside office hours on working days

    @property
    def label(self) -> str:
        return labels.PERIOD_UNITS[self.value]

    @property
    def is_daily(self) -> bool:
        return self in (Unit.DAYS, Unit.WORKING_DAYS)


@dataclass(frozen=True, order=True)
class Period:
    """An amount of one unit, e.g. 60 calendar days or 4 working hours."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ConfigError(f"a period must be positive, got {self.amount} {self.unit.value}")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.label}"

    def plus(self, other: Period) -> Period:
        """The sum of two periods of the same unit."""
        if other.unit is not self.unit:
            raise ConfigError(f"cannot add {other} to {self}: different units")
        return Period(self.amount + other.amount, self.unit)

    @property
    def as_timedelta(self) -> dt.timedelta:
        """The elapsed time of an hourly or calendar-day period (for after-due rungs)."""
        if self.unit in (Unit.HOURS, Unit.WORKING_HOURS):
            return dt.timedelta(hours=self.amount)
        return dt.timedelta(days=self.amount)

    @classmethod
    def parse(cls, data: object, field: str) -> Period:
        """``{days: 15}``, ``{working_days: 5}``, ``{hours: 4}`` or ``{working_hours: 4}``."""
        units = ", ".join(u.value for u in Unit)
        if not isinstance(data, Mapping) or len(data) != 1:
            raise ConfigError(f"a period is one of {{{units}}}: N, got {data!r}", field=field)
        (key, amount), = data.items()
        try:
            unit = Unit(key)
        except ValueError:
            raise ConfigError(f"unknown unit '{key}'; use one of {units}",
                              field=f"{field}.{key}") from None
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ConfigError(f"must be a positive whole number, got {amount!r}",
                              field=f"{field}.{key}")
        return cls(amount, unit)
