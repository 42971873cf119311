"""The clock port: the one place the engine reads the time.

``SystemClock`` in production. ``FileClock`` is the simulated clock of ``petitions demo``
and the flow tests (``PETITIONS_SIMULATED_CLOCK=1``): the instant is kept in a file under
``PETITIONS_HOME`` so the CLI, the runner and its flow-run processes all see the same time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import pendulum

from domain.errors import ConfigError


class Clock(Protocol):
    def now(self) -> pendulum.DateTime: ...


class SystemClock:
    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


class FixedClock:
    """A clock that moves only when told to (unit tests)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = pendulum.instance(at).in_timezone("UTC")

    def now(self) -> pendulum.DateTime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at = self.at.add(**delta)  # type: ignore[arg-type]


class FileClock:
    """Simulated time shared between processes through ``path`` (an ISO-8601 instant)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> pendulum.DateTime:
        if not self.path.exists():
            raise ConfigError("the simulated clock is not set; run `petitions clock set "
                              "TIME`", source=str(self.path))
        text = self.path.read_text().strip()
        try:
            parsed = pendulum.parse(text)
        except ValueError:
            raise ConfigError(f"not an ISO-8601 time: {text!r}", source=str(self.path)) from None
        if not isinstance(parsed, pendulum.DateTime) or parsed.tzinfo is None:
            raise ConfigError(f"not an instant with a zone: {text!r}", source=str(self.path))
        return parsed.in_timezone("UTC")

    def set(self, at: dt.datetime) -> pendulum.DateTime:
        instant = pendulum.instance(at).in_timezone("UTC")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(instant.isoformat())
        tmp.replace(self.path)  # readers never see half a time
        return instant


def simulated(home: Path, enabled: bool) -> FileClock:
    """The simulated clock of the installation at ``home``; refused unless it is on."""
    if not enabled:
        raise ConfigError("the simulated clock is off; set PETITIONS_SIMULATED_CLOCK=1 "
                          "(never in production)")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return FileClock(home / "clock")


def configured(home: Path, simulated_clock: bool) -> Clock:
    """The clock an installation reads: the simulated one when it is on, else the system's."""
    return simulated(home, True) if simulated_clock else SystemClock()
