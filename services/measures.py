"""The measures supervisors assess units on, for a period (the readings are in
``domain/measures.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.case import Case
from domain.errors import ConfigError
from domain.instants import end_of_local_day, start_of_local_day
from domain.measures import Measure, Period, measures
from domain.offices import sight_in
from domain.permissions import Sight
from services.bootstrap import App


def kpis(app: App, start: dt.date, end: dt.date, unit: str | None,
         viewer: str | None = None) -> list[Measure]:
    """The measures for petitions received from ``start`` to ``end`` (local dates), judged
    at the end of the period, or now if the period is not over. With ``viewer``, over the
    cases they may see only (an accused supervisor does not count their accusation)."""
    with app.uow() as uow:  # registered no earlier than received: none before ``start``
        cases = uow.find_cases(open_only=False, offices=app.scope,
                               registered_from=start_of_local_day(start))
    if viewer is not None:
        cases = [c for c in cases if sight_in(app.tree, c, viewer) is not Sight.NONE]
    return measures_of(app, cases, start, end, unit)


def measures_of(app: App, cases: list[Case], start: dt.date, end: dt.date,
                unit: str | None) -> list[Measure]:
    """``kpis`` over the given cases."""
    units = [u for o in app.tree.subtree(app.office.id) for u in app.tree.org(o).units]
    if unit is not None and unit not in units:
        raise ConfigError(f"unknown unit '{unit}'; units: {', '.join(units)}")
    judged = min(end_of_local_day(end), app.clock.now())
    return measures(cases, Period(start, end, unit), app.rules_for, judged)


def measure_rows(ms: list[Measure]) -> list[dict[str, Any]]:
    return [{"measure": m.key, "label": m.label, "formula": m.formula,
             "numerator": m.numerator, "denominator": m.denominator,
             "rate": round(m.rate, 4) if m.rate is not None else None} for m in ms]
