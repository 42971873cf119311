"""Key periods (重点时期): important meetings, festivals, sensitive dates.

During a key period (local calendar dates, both ends included) the mines watch harder:
- reminders come more often: each period adds reminder rungs (``extra_reminders``, as
  fractions of a duty's span) that fire only if their time falls inside the period;
- escalation starts one rung higher: a warning, breach or escalation rung that fires inside
  the period goes to the role above the one its ladder names (responder → unit head →
  owning leader → mine head → party secretary). Reminders still go to the holder: they are
  the one who has to act.

Which period applies is decided by the instant a rung fires, so a case registered before a
period starts is watched harder from its first day, and one due after it ends is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from domain.errors import ConfigError
from domain.fields import Fields, parse_date
from domain.instants import local_date


@dataclass(frozen=True)
class KeyPeriod:
    name: str
    start: dt.date
    end: dt.date
    extra_reminders: tuple[Fraction, ...] = (Fraction(1, 4), Fraction(1, 2))
    raise_escalation: bool = True

    def holds(self, instant: dt.datetime) -> bool:
        """Whether ``instant`` (aware) falls on a local date inside the period."""
        return self.start <= local_date(instant) <= self.end


@dataclass(frozen=True)
class KeyPeriods:
    periods: tuple[KeyPeriod, ...] = ()

    def at(self, instant: dt.datetime) -> KeyPeriod | None:
        """The key period in force at ``instant``; the first configured wins an overlap."""
        return next((p for p in self.periods if p.holds(instant)), None)

    def extra_fractions(self) -> tuple[Fraction, ...]:
        """Every extra reminder point any period adds, once each, in order."""
        return tuple(sorted({f for p in self.periods for f in p.extra_reminders}))

    def __bool__(self) -> bool:
        return bool(self.periods)


def _fraction(value: object, where: str) -> Fraction:
    text = str(value).strip()
    try:
        f = Fraction(text[:-1].strip()) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ConfigError(f"expected a percentage such as '25%', got {value!r}",
                          field=where) from None
    if not 0 < f < 1:
        raise ConfigError(f"an extra reminder lies within (0%, 100%), got {value!r}",
                          field=where)
    return f


def key_periods_from_list(data: object, path: str = "key_periods") -> KeyPeriods:
    """The ``key_periods`` list of office.yaml."""
    if not isinstance(data, Sequence) or isinstance(data, str):
        raise ConfigError(f"expected a list, got {data!r}", field=path)
    out = []
    for i, item in enumerate(data):
        where = f"{path}[{i}]"
        f = Fields(item, where, ("name", "from", "to", "extra_reminders", "raise_escalation"))
        start, end = parse_date(f.raw("from"), f.at("from")), parse_date(f.raw("to"), f.at("to"))
        if end < start:
            raise ConfigError(f"ends ({end}) before it starts ({start})", field=f.at("to"))
        extras: tuple[Fraction, ...] = KeyPeriod.__dataclass_fields__[
            "extra_reminders"].default  # type: ignore[assignment]
        if f.has("extra_reminders"):
            raw = f.raw("extra_reminders")
            if not isinstance(raw, list):
                raise ConfigError(f"expected a list such as ['25%', '50%'], got {raw!r}",
                                  field=f.at("extra_reminders"))
            extras = tuple(sorted({_fraction(v, f"{f.at('extra_reminders')}[{j}]")
                                   for j, v in enumerate(raw)}))
        out.append(KeyPeriod(f.text("name"), start, end, extras,
                             f.typed("raise_escalation", bool, True)))
    return KeyPeriods(tuple(out))
