"""``petitions clock``: the simulated clock (``PETITIONS_SIMULATED_CLOCK=1``: demos, tests)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from cli.common import reports_errors, say, settings
from domain.instants import format_local, parse_local
from services.clock import FileClock, simulated

clock_app = typer.Typer(help="The simulated clock (PETITIONS_SIMULATED_CLOCK=1: demo, tests).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(clock_app, name="clock")


def _clock() -> FileClock:
    s = settings()
    return simulated(s.home, s.simulated_clock)


@clock_app.command("set")
@reports_errors
def clock_set(when: Annotated[str, typer.Argument(help="ISO time, e.g. 2026-03-02T09:00+08:00")]
              ) -> None:
    try:
        at = parse_local(when)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    say(format_local(_clock().set(at)))


@clock_app.command("advance")
@reports_errors
def clock_advance(days: Annotated[float, typer.Option()] = 0,
                  hours: Annotated[float, typer.Option()] = 0) -> None:
    c = _clock()
    say(format_local(c.set(c.now() + dt.timedelta(days=days, hours=hours))))


@clock_app.command("show")
@reports_errors
def clock_show() -> None:
    say(format_local(_clock().now()))
