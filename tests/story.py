"""The demo's hundred days at the counter (``cli/demo_script.py``'s ``COUNTER``; the public
door has its own tests) played through the use cases alone, on a settable clock and a real
database, without Prefect: the home the page tests walk. Every kind of event the demo writes
is there (registration, routing, acts through the web and the CLI, reminders, warnings,
breaches, escalations, an extension, a review, ratings, strike-offs), with the office's
practices (a zero report, a signal, the digest, receptions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from cli.demo_script import CLERK, COUNTER, PETITIONS, Do
from domain.case import Case
from services import cases, practices
from services.bootstrap import App
from services.intake import intake
from services.requests import ActRequest
from services.sweep import sweep


class SettableClock:
    """A clock the story sets to each moment of the script."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = pendulum.instance(at).in_timezone("UTC")

    def now(self) -> pendulum.DateTime:
        return self.at


def _who(app: App, case: Case, who: str) -> str:
    org = app.office_of(case).org
    return {"@responder": str(case.responder), "@leader": str(case.leader),
            "@head": str(org.units[str(case.unit)].head),
            "@unit_leader": str(org.units[str(case.unit)].leader)}.get(who, who)


def _act(app: App, refs: dict[str, str], do: Do, n: int) -> None:
    with app.uow() as uow:
        case = uow.cases.get(refs[do.case], lock=False)
    fields: dict[str, Any] = {k: _who(app, case, v) if isinstance(v, str) else v
                              for k, v in do.fields.items()}
    # alternate the entrances, so each kind of ``via`` is on some timeline
    via = ("web:4f1c9a0d2b7e", "cli:clerk", "api:bridge")[n % 3]
    cases.act(app, case.id, ActRequest(do.act, _who(app, case, do.who), via=via, **fields))


def play(app: App, clock: SettableClock, until_day: int = 100) -> dict[str, str]:
    """The script's moments up to ``until_day``, each after a sweep at its time; the
    practices on the way. Returns the cases by the script's alias."""
    refs: dict[str, str] = {}
    n = 0
    for moment in (m for m in COUNTER if m.day <= until_day):  # the door: its own tests
        clock.at = pendulum.instance(moment.at).in_timezone("UTC")
        sweep(app, sweeper="sweeper")
        for alias in moment.intake:
            refs[alias] = intake(app, PETITIONS[alias],
                                 registration_no=cases.new_registration_no(app),
                                 actor=CLERK, via="web:9d2e7c4a1b3f").id
        for do in moment.acts:
            n += 1
            _act(app, refs, do, n)
        if moment.day == 0 and moment.time == "15:00":
            practices.file_zero_report(app, unit="hr", reporter="zheng.tao")
            practices.new_signal(app, officer=_officer(app), unit="mining1",
                                 summary="综采一队职工议论工资迟发", risk="medium")
        practices.tick(app)
    return refs


def _officer(app: App) -> str:
    return sorted(app.office.practices.information.officers)[0]
